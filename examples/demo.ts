/**
 * `npm run demo`: the library's main job, offline, in a few seconds.
 *
 * 1. Starts the local AEP stand-in (IMS + Flow Service, validating every body against Adobe's
 *    OpenAPI specs) and the local AWS stand-in (Secrets Manager + STS).
 * 2. Synthesizes the examples/ app (two destinations, two sources, one stack).
 * 3. Replays CloudFormation's lifecycle through the *bundled* handler taken from the cloud
 *    assembly: Create → scheduled session-token refresh → Update (key rotation + description
 *    change) → Delete.
 * 4. Prints what happened; exits non-zero on any failure or leftover AEP connection.
 */
import * as path from 'path';
import { runExampleLifecycle } from '../offline-world/cloudformation/example-lifecycle';
import { AepStandIn } from '../offline-world/stand-in/aep';
import { AwsStandIn } from '../offline-world/stand-in/aws';

async function main(): Promise<number> {
  const aep = await AepStandIn.start();
  const aws = await AwsStandIn.start();
  try {
    const report = await runExampleLifecycle({ aep, aws, workDir: path.resolve(__dirname, '..', '.demo') });
    const lines: string[] = [];
    lines.push(`cdk-aep-s3 offline demo (AEP stand-in ${aep.baseUrl}, schema validation ${aep.schemaValidation ? 'on' : 'OFF'})`);
    lines.push('');
    lines.push(`stack ${report.stackName}: ${report.resourcesPerStack} CloudFormation resources; custom resources: ${Object.entries(report.customResources).map(([t, n]) => `${n} × ${t}`).join(', ')}`);
    lines.push('');
    lines.push('phase    event    resource                                   AEP requests  result');
    for (const i of report.invocations) {
      lines.push(`${i.phase.padEnd(8)} ${i.requestType.padEnd(8)} ${`${i.logicalId}`.slice(0, 42).padEnd(42)} ${String(i.aepRequests).padStart(12)}  ${i.error ? `FAILED: ${i.error}` : i.physicalId ?? 'ok'}`);
    }
    lines.push('');
    lines.push(`AEP connections (base + target) created: ${report.connectionsCreated}, updated: ${report.connectionsUpdated}, deleted: ${report.connectionsDeleted}`);
    lines.push(`after create: ${report.connectionsAfterCreate} base and ${report.targetConnectionsAfterCreate} target connections in AEP; session-token refreshes run: ${report.refreshRuns}`);
    lines.push(`connection ids kept across the update (rotation + description): ${report.connectionIdsStableAcrossUpdate ? 'yes' : 'NO'}`);
    lines.push(`requests rejected by Adobe's OpenAPI schemas: ${report.validationFailures.length}`);
    lines.push(`final state: ${report.finalConnections} AEP connections, ${report.finalTargetConnections} target connections left`);
    const flows = report.invocations.filter((i) => i.resourceType === 'Custom::AepFlow' && !i.error);
    const created = flows.filter((i) => i.requestType === 'Create');
    const updated = flows.filter((i) => i.requestType === 'Update');
    const flowIdsKept = updated.every((i) => i.physicalId === i.request?.PhysicalResourceId);
    lines.push('');
    for (const f of created) {
      const p = f.request?.ResourceProperties ?? {};
      const what = p.Audiences ? `exports ${p.Audiences.length} audiences`
        : p.DatasetSchedule ? `exports datasets on schedule ${JSON.stringify(p.DatasetSchedule)}`
          : `ingests on schedule ${JSON.stringify(p.Schedule)}`;
      lines.push(`dataflow ${f.logicalId} → AEP flow ${f.physicalId} (flow spec ${p.FlowSpecId}) ${what}`);
    }
    lines.push(`dataflows created: ${created.length}, patched in place: ${updated.length} (flow ids kept: ${flowIdsKept ? 'yes' : 'NO'}), deleted: ${flows.filter((i) => i.requestType === 'Delete').length}; left in AEP: ${aep.flows().length}`);
    console.log(lines.join('\n'));

    const failures: string[] = [];
    if (report.invocations.some((i) => i.error)) failures.push('a handler invocation failed');
    if (report.finalConnections + report.finalTargetConnections !== 0) failures.push('AEP connections were left behind');
    if (report.validationFailures.length) failures.push(`schema violations: ${report.validationFailures.join('; ')}`);
    if (!report.connectionIdsStableAcrossUpdate) failures.push('an in-place update replaced a connection');
    if (report.refreshRuns === 0) failures.push('no session-token refresh ran');
    // One ingestion, one audience export, one dataset export.
    if (created.length !== 3) failures.push(`expected three dataflows (ingestion, audience export, dataset export), made ${created.length}`);
    if (!flowIdsKept) failures.push('an in-place update replaced a dataflow');
    if (aep.flows().length + aep.sourceConnections().length !== 0) failures.push('dataflows or their connections were left behind');
    if (failures.length) {
      console.error(`\ndemo FAILED: ${failures.join(', ')}`);
      return 1;
    }
    console.log('\ndemo OK');
    return 0;
  } finally {
    await Promise.all([aep.close(), aws.close()]);
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  console.error(`demo FAILED: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
