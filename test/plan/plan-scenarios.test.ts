/**
 * `cdk-aep-s3 plan` against the offline world, for the scripted changes of issue 17: for each,
 * the app before is deployed (CloudFormation simulator, bundled handler, AEP stand-in), plan
 * (in-process; under PLAN_CLI the bin of the packed tarball, spawned: `.ci/run`) decides from the two cloud assemblies and the live sandbox, then the app after is deployed and
 * what the handler did in AEP (new physical ids, PATCH requests, deletions) must be what plan said.
 */
import { A1, A2, app, type AppShape } from './plan-app';
import { ScenarioWorld } from '../../offline-world/scenario';
import { type PlanReport } from '../../src/cli/plan';
import { fieldOfPath } from '../../src/decisions/decision';
import { ResourceTypes } from '../../src/private/contract';
import { runCli } from '../cli/run-cli';

jest.setTimeout(180_000);


let w: ScenarioWorld;
let n = 0;
beforeEach(async () => {
  w = await ScenarioWorld.start(`Plan${++n}`);
});
afterEach(async () => {
  await w.close();
});


/** `logical id → action [fields]` as plan printed it (AEP objects only). */
function planned(report: PlanReport): Record<string, string> {
  return Object.fromEntries(report.entries.map((e) => [e.logicalId, `${e.action}${e.action === 'patch' ? ` ${e.fields.join(',')}` : ''}`]));
}

/**
 * `logical id → action [fields]` as the handler did it during the last deploy: a new physical id
 * is a replacement, PATCHes and flow actions on the object are a patch (fields from the op paths),
 * nothing is no change; a resource gone from the stack was deleted, or retained when AEP still
 * holds it (mapping sets, which AEP cannot delete).
 */
function performed(before: Map<string, { type: string; physicalId: string; targetId?: string }>, firstRequest: number): Record<string, string> {
  const after = new Map(w.sim.resources().filter((r) => r.type.startsWith('Custom::Aep') && r.type !== ResourceTypes.IAM_ROLE_LOOKUP)
    .map((r) => [r.logicalId, { type: r.type, physicalId: r.physicalId }]));
  const requests = w.aep.requests.slice(firstRequest);
  const out: Record<string, string> = {};
  for (const [id, was] of before) {
    if (!after.has(id)) {
      const deleted = requests.some((r) => r.method === 'DELETE' && r.path.endsWith(`/${was.physicalId.split('/')[0]}`));
      out[id] = deleted ? 'delete' : 'retain';
    }
  }
  for (const [id, now] of after) {
    const was = before.get(id);
    if (!was) {
      out[id] = 'create';
      continue;
    }
    if (was.physicalId.split('/')[0] !== now.physicalId.split('/')[0]) {
      out[id] = 'replace';
      continue;
    }
    const ids = [[was.physicalId.split('/')[0], ''], ...(was.targetId ? [[was.targetId, 'target.']] : [])];
    const fields = new Set<string>();
    for (const [aepId, prefix] of ids) {
      for (const r of requests.filter((q) => q.path.endsWith(`/${aepId}`) && q.method === 'PATCH')) {
        for (const op of r.body as Array<{ path: string }>) {
          const field = fieldOfPath(op.path);
          fields.add(prefix && field === 'params' ? `${prefix}${field}` : field);
        }
      }
      if (requests.some((q) => q.method === 'POST' && q.path.endsWith(`/${aepId}/action`))) fields.add('state');
    }
    out[id] = fields.size ? `patch ${[...fields].sort().join(',')}` : 'none';
  }
  return out;
}

function aepResources(): Map<string, { type: string; physicalId: string; targetId?: string }> {
  return new Map(w.sim.resources().filter((r) => r.type.startsWith('Custom::Aep') && r.type !== ResourceTypes.IAM_ROLE_LOOKUP).map((r) => {
    const target = r.type === ResourceTypes.DESTINATION_CONNECTION ? String(w.sim.resource(r.logicalId)?.attributes?.TargetConnectionId) : undefined;
    return [r.logicalId, { type: r.type, physicalId: r.physicalId, ...(target ? { targetId: target } : {}) }];
  }));
}

/**
 * The command with `--json`, in-process, or spawned when PLAN_CLI names a bin (`.ci/run` points it
 * at the bin of an unpacked `npm pack` tarball); its exit code must be the report's.
 */
async function planCommand(args: string[], env: Record<string, string>): Promise<PlanReport> {
  const run = await runCli(['plan', ...args, '--json'], { PATH: process.env.PATH ?? '', ...env }, { bundled: process.env.PLAN_CLI });
  let report: PlanReport;
  try {
    report = JSON.parse(run.stdout) as PlanReport;
  } catch (e) {
    throw new Error(`plan exited ${run.code}: ${run.stderr} ${String(e)}`);
  }
  expect(run.code).toBe(report.exitCode);
  return report;
}

/** Deploys `before`, plans `after` (with the live sandbox), deploys `after`; returns both views. */
async function scripted(before: AppShape, after: AppShape, sandbox = before.sandboxName ?? 'prod') {
  const first = w.synth(app(before));
  const created = await w.sim.deploy(first);
  expect(created.failure).toBeUndefined();
  const second = w.synth(app(after));
  const report = await planCommand([second.assemblyDir, '--previous', first.assemblyDir, '--sandbox', sandbox,
    '--ims-url', w.aep.imsUrl, '--flow-service-url', w.aep.flowServiceUrl],
  { AEP_CLIENT_ID: w.aep.credentials.clientId, AEP_CLIENT_SECRET: w.aep.credentials.clientSecret, AEP_ORG_ID: w.aep.credentials.orgId });
  const templatesOnly = await planCommand([second.assemblyDir, '--previous', first.assemblyDir], {});
  const resources = aepResources();
  const mark = w.aep.requests.length;
  const updated = await w.sim.deploy(second);
  expect(updated.failure).toBeUndefined();
  return { report, templatesOnly, did: performed(resources, mark) };
}

test('rename: the connection is patched in place (name), nothing else changes; exit 0', async () => {
  const { report, templatesOnly, did } = await scripted({ sourceName: 'crm-in' }, { sourceName: 'crm-inbound' });
  expect(planned(report)).toEqual(did);
  expect(planned(templatesOnly)).toEqual(did);
  expect(Object.values(did).filter((a) => a !== 'none')).toEqual(['patch name']);
  expect(report.exitCode).toBe(0);
});

test('folder change: the source connection is patched (auth params), the ingestion path change replaces its source connection and dataflow', async () => {
  const { report, templatesOnly, did } = await scripted({ folderPath: 'crm' }, { folderPath: 'crm2' });
  expect(planned(report)).toEqual(did);
  expect(planned(templatesOnly)).toEqual(did);
  expect(Object.values(did)).toContain('replace');
  expect(report.exitCode).toBe(1);
});

test('sandbox change: every AEP object is replaced (made in the new sandbox), with the sandbox named as the reason', async () => {
  const { report, templatesOnly, did } = await scripted({ sandboxName: 'prod' }, { sandboxName: 'dev' });
  expect(planned(report)).toEqual(did);
  expect(planned(templatesOnly)).toEqual(did);
  const connection = report.entries.find((e) => e.resourceType === ResourceTypes.CONNECTION)!;
  expect(connection.reason).toMatch(/sandbox prod → dev/);
  expect(report.exitCode).toBe(1);
});

test('audience added: the audience dataflow is patched (audiences), exit 0', async () => {
  const { report, templatesOnly, did } = await scripted({ audiences: [A1] }, { audiences: [A1, A2] });
  expect(planned(report)).toEqual(did);
  expect(planned(templatesOnly)).toEqual(did);
  expect(Object.values(did).filter((a) => a !== 'none')).toEqual(['patch audiences']);
  expect(report.exitCode).toBe(0);
});

test('auth mode change (access key → IAM role): the source connection is replaced (auth type) and its ingestion chain with it', async () => {
  const { report, templatesOnly, did } = await scripted({ sourceAuth: 'accessKey' }, { sourceAuth: 'iamRole' });
  expect(planned(report)).toEqual(did);
  expect(planned(templatesOnly)).toEqual(did);
  const connection = report.entries.find((e) => e.resourceType === ResourceTypes.CONNECTION)!;
  expect(connection.action).toBe('replace');
  expect(connection.reason).toMatch(/AuthSpecName/);
  expect(report.exitCode).toBe(1);
});

test('construct removed (the ingestion dataflow): its flow and connections are deleted, its mapping set is left in AEP', async () => {
  const { report, templatesOnly, did } = await scripted({ withIngestion: true }, { withIngestion: false });
  expect(planned(report)).toEqual(did);
  expect(planned(templatesOnly)).toEqual(did);
  expect(Object.values(did).filter((a) => a === 'delete').length).toBeGreaterThanOrEqual(3);
  expect(report.exitCode).toBe(1);
});
