import { deploymentOrder } from './intrinsics';
import { CfnResponse, CUSTOM, LeftBehind, LiveResource } from './model';
import { policyOf, RemovalPolicyName } from './resources';
import { dependents, runGraph } from './scheduler';

/**
 * CloudFormation's rollbacks: of a failed create (delete what exists, reverse order) and of a
 * failed update (undo this update's steps in reverse order, then the rollback cleanup).
 */

/** One thing an update did, in the order it did them. */
export type UpdateStep = { id: string; kind: 'created' } | { id: string; kind: 'updated'; before: LiveResource; replacedNative: boolean };

/** A physical resource a cleanup deletes, with the logical id it had. */
export interface Doomed { readonly id: string; readonly res: LiveResource }

/** What the rollbacks need from the stack they run in. */
export interface RollbackHost {
  readonly live: Map<string, LiveResource>;
  readonly leftBehind: LeftBehind[];
  readonly parallel: boolean;
  readonly jitterMs?: number;
  event(logicalId: string, type: string, status: string, physicalId?: string, reason?: string): void;
  customResource(id: string, type: string, requestType: 'Create' | 'Update' | 'Delete', phase: string, props: any, physicalId?: string, oldProps?: any): Promise<CfnResponse>;
  applySideEffects(id: string, type: string, props: any, physicalId: string): void;
  deleteLive(id: string, res: LiveResource, phase: string, policy: RemovalPolicyName): Promise<boolean>;
  cleanupDelete(id: string, res: LiveResource, phase: string, policy: RemovalPolicyName): Promise<void>;
}

/**
 * ROLLBACK_IN_PROGRESS: deletes what the failed create made, in reverse dependency order (what
 * depends on a resource first, independent ones together); false when a Delete failed (what the
 * failed resource depends on stays too).
 */
export async function rollbackCreate(host: RollbackHost, created: string[], template: any, phase: string): Promise<boolean> {
  const after = dependents(template.Resources);
  const order = deploymentOrder(template.Resources).reverse().filter((id) => created.includes(id));
  const outcome = await runGraph(order, (id) => after.get(id)!, (id) =>
    host.deleteLive(id, host.live.get(id)!, `${phase}-rollback`, policyOf(template, id, 'DeletionPolicy', true)),
  { parallel: host.parallel, jitterMs: host.jitterMs, stopOnFailure: false, afterFailedPrerequisite: 'skip' });
  return outcome.failed.length === 0 && outcome.skipped.length === 0;
}

/**
 * UPDATE_ROLLBACK_IN_PROGRESS: undoes `steps` in reverse dependency order of the new template
 * (independent ones together). Returns whether every rollback
 * Update succeeded and the physical resources the rollback cleanup must delete.
 */
export async function revertUpdate(
  host: RollbackHost, steps: UpdateStep[], newTemplate: any, phase: string,
): Promise<{ ok: boolean; cleanup: Doomed[] }> {
  const rollbackPhase = `${phase}-rollback`;
  const toDelete: Doomed[] = [];
  let rollbackOk = true;
  const after = dependents(newTemplate.Resources);
  const byId = new Map(steps.map((step) => [step.id, step]));
  const order = deploymentOrder(newTemplate.Resources).reverse().filter((id) => byId.has(id));
  // A failed rollback Update does not stop the others (UPDATE_ROLLBACK_FAILED at the end).
  await runGraph(order, (id) => after.get(id)!, async (id) => {
    await revertStep(byId.get(id)!);
    return true;
  }, { parallel: host.parallel, jitterMs: host.jitterMs, stopOnFailure: false, afterFailedPrerequisite: 'run' });
  return { ok: rollbackOk, cleanup: toDelete };

  async function revertStep(step: UpdateStep): Promise<void> {
    const now = host.live.get(step.id)!;
    if (step.kind === 'created') {
      host.live.delete(step.id);
      toDelete.push({ id: step.id, res: now });
      return;
    }
    if (step.replacedNative) {
      toDelete.push({ id: step.id, res: now });
      host.live.set(step.id, step.before);
      host.event(step.id, now.type, 'UPDATE_COMPLETE', step.before.physicalId, 'rolled back to the previous physical resource');
    } else if (CUSTOM(now.type)) {
      const response = await host.customResource(step.id, now.type, 'Update', rollbackPhase, step.before.properties, now.physicalId, now.properties);
      if (response.status === 'FAILED') {
        rollbackOk = false;
        host.event(step.id, now.type, 'UPDATE_FAILED', now.physicalId, response.reason);
        return;
      }
      const restored = { type: now.type, physicalId: response.physicalId!, attributes: response.data ?? {}, properties: step.before.properties };
      host.live.set(step.id, restored);
      if (response.physicalId !== now.physicalId) {
        toDelete.push({ id: step.id, res: now });
      } else if (now.physicalId !== step.before.physicalId) {
        host.leftBehind.push({
          logicalId: step.id,
          physicalId: step.before.physicalId,
          type: now.type,
          phase: rollbackPhase,
          error: `orphaned: the rollback Update kept ${now.physicalId}, so CloudFormation no longer tracks ${step.before.physicalId}`,
        });
      }
      host.event(step.id, now.type, 'UPDATE_COMPLETE', response.physicalId);
    } else {
      host.live.set(step.id, step.before);
      host.applySideEffects(step.id, now.type, step.before.properties, step.before.physicalId);
      host.event(step.id, now.type, 'UPDATE_COMPLETE', step.before.physicalId);
    }
  }
}

/** The rollback cleanup: deletes what the failed update made, in reverse dependency order of its template. */
export async function rollbackCleanup(host: RollbackHost, cleanup: Doomed[], newTemplate: any, phase: string): Promise<void> {
  const after = dependents(newTemplate.Resources);
  const order = deploymentOrder(newTemplate.Resources).reverse().filter((id) => cleanup.some((d) => d.id === id));
  await runGraph(order, (id) => after.get(id)!, async (id) => {
    for (const { res } of cleanup.filter((d) => d.id === id)) {
      await host.cleanupDelete(id, res, `${phase}-rollback-cleanup`, policyOf(newTemplate, id, 'DeletionPolicy', true));
    }
    return true;
  }, { parallel: host.parallel, jitterMs: host.jitterMs, stopOnFailure: false, afterFailedPrerequisite: 'run' });
}
