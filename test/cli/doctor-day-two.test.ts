/**
 * `cdk-aep-s3 doctor` for CI and cron: the command's code in-process, and the BUNDLED bin
 * (assets/cli/index.js) as a child process for the exit codes a process must show (see run-cli.ts),
 * against the stand-ins, with AEP state made the way a deploy makes it (the handler,
 * in-process, through the harness) and changed the way AEP changes it (flow actions, runs).
 * One exit code per outcome; network and AWS failures named for what they are; what each check
 * costs, counted in the stand-ins' own logs.
 */
import * as net from 'node:net';
import { BUNDLED_CLI, CliRun, runCli } from './run-cli';
import { handler } from '../../src/handler/aep.lambda';
import {
  AepIds, DataflowConnectionProps, DataflowIds, DataflowResourceTypes, FlowProps, ResourceTypes, TargetConnectionProps,
} from '../../src/private/contract';
import { cfnEvent, STACK_ID, useHarness } from '../handler/harness';

const h = useHarness();

/**
 * Runs doctor against the harness's stand-ins with no inherited AWS or AEP variables: in-process,
 * or the bundled bin spawned when `bundled`.
 */
function doctor(args: string[], extraEnv: Record<string, string> = {}, options: { bundled?: boolean } = {}): Promise<CliRun> {
  const env = {
    PATH: process.env.PATH ?? '',
    ...h.aws.env(),
    AEP_HTTP_TIMEOUT_MS: '1000',
    AEP_RETRY_BASE_MS: '10',
    AEP_RETRY_MAX_ATTEMPTS: '3',
    AEP_DEADLINE_MS: '5000',
    ...extraEnv,
  };
  return runCli(['doctor', ...args], env, { bundled: options.bundled ? BUNDLED_CLI : undefined });
}

const args = (...more: string[]) => [
  '--credentials-secret', h.credentialsArn, '--sandbox', 'prod', '--region', 'us-east-1',
  '--ims-url', h.aep.imsUrl, '--flow-service-url', h.aep.flowServiceUrl, ...more,
];

interface Finding {
  id: string;
  check: string;
  status: string;
  message: string;
  evidence?: string[];
  action?: string;
}
const findings = (report: { checks: Finding[] }, check: string) => report.checks.filter((c) => c.check === check);

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const DAY_S = 86_400;
const nowS = () => Math.floor(Date.now() / 1000);

/**
 * A dataset export deployed by the handler for the stack {@link STACK_ID} (which the AWS stand-in
 * then knows, live): base connection, target connection, Data Lake source, flow.
 */
async function deployDatasetExport(options: { endTime?: number; suffix?: string } = {}): Promise<string> {
  const suffix = options.suffix ?? '';
  const { PhysicalResourceId: base } = await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey(`aep/key${suffix}`)), { logicalId: `Base${suffix}` }));
  const { PhysicalResourceId: target } = await handler(cfnEvent('Create', {
    ...h.common(),
    [TargetConnectionProps.NAME]: `dataset exports${suffix}`,
    [TargetConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_DESTINATION_CONNECTION_SPEC,
    [TargetConnectionProps.BASE_CONNECTION_ID]: base,
    [TargetConnectionProps.PARAMS]: { mode: 'Server-to-server', bucketName: 'acme-aep-exports', path: `aep/datasets${suffix}`, compression: 'GZIP', datasetFileType: 'JSON' },
  }, { resourceType: ResourceTypes.TARGET_CONNECTION, logicalId: `Target${suffix}` }));
  const { PhysicalResourceId: source } = await handler(cfnEvent('Create', {
    ...h.common(),
    [DataflowConnectionProps.NAME]: `datasets${suffix}`,
    [DataflowConnectionProps.CONNECTION_SPEC_ID]: DataflowIds.DATA_LAKE_SOURCE_SPEC,
    [DataflowConnectionProps.PARAMS]: { datasets: [{ dataSetId: '5f3c3cedb2805c194ff0b69a', name: 'web events' }] },
  }, { resourceType: DataflowResourceTypes.SOURCE_CONNECTION, logicalId: `DataLake${suffix}` }));
  const start = nowS() - 30 * DAY_S;
  const schedule: Record<string, string> = { interval: '6', timeUnit: 'hour', startTime: String(start), exportMode: 'FIRST_FULL_THEN_INCREMENTAL' };
  if (options.endTime !== undefined) schedule.endTime = String(options.endTime);
  const { PhysicalResourceId: flow } = await handler(cfnEvent('Create', {
    ...h.common(),
    [FlowProps.NAME]: `datasets to S3${suffix}`,
    [FlowProps.FLOW_SPEC_ID]: DataflowIds.S3_DATASET_FLOW_SPEC,
    [FlowProps.SOURCE_CONNECTION_ID]: source,
    [FlowProps.TARGET_CONNECTION_ID]: target,
    [FlowProps.DATASET_SCHEDULE]: schedule,
    [FlowProps.ENABLED]: 'true',
  }, { resourceType: DataflowResourceTypes.FLOW, logicalId: `DatasetFlow${suffix}` }));
  h.aws.putStack('aep-test', { stackId: STACK_ID });
  return flow;
}

/** What AEP does to a flow that keeps failing: its state goes to disabled (DATAFLOWS §3.7). */
async function disableInAep(flowId: string): Promise<void> {
  const res = await fetch(`${h.aep.flowServiceUrl}/flows/${flowId}/action?op=disable`, { method: 'POST', headers: h.aep.flowServiceHeaders(h.aep.issueToken()) });
  expect(res.status).toBe(200);
}

/** Flow Service requests of the last doctor run, as `METHOD /path` (ids folded). */
const aepCalls = () => h.aep.requests.filter((r) => !r.path.startsWith('/ims'))
  .map((r) => `${r.method} ${r.path.replace(/^\/data\/foundation\/flowservice/, '').replace(/[0-9a-f-]{24,}/g, '{id}')}`);

describe('exit codes: one per outcome (0 and 3 from the bundled bin as a process)', () => {
  test('0 healthy: a live stack\'s dataset export, enabled, ending in a year; --json carries check, costs and the sandbox view', async () => {
    const flow = await deployDatasetExport({ endTime: nowS() + 365 * DAY_S });
    h.aep.resetRecording();
    h.aws.calls.length = 0;
    const run = await doctor(args('--json'), {}, { bundled: true });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.exitCode).toBe(0);
    expect(findings(report, 'disabled-dataflows').map((c) => [c.id, c.status])).toEqual([['dataflows-enabled', 'ok']]);
    expect(findings(report, 'stale-destination-schedules').map((c) => [c.id, c.status])).toEqual([['schedules-ok', 'ok']]);
    expect(report.sandboxView).toEqual({
      destinations: { used: 1, limit: 100 },
      dataflows: { all: { enabled: 1 }, ours: { enabled: 1 } },
      objectsByStack: { [`us-east-1:123456789012:aep-test/${STACK_ID.split('/')[2]}`]: 4 },
      listRequests: 4,
    });
    expect(report.stacks.map((s: { state: string }) => s.state)).toEqual(['exists']);
    expect(report.checks.every((c: Finding) => typeof c.check === 'string' && c.check.length > 0)).toBe(true);
    // Each check's cost, as the stand-ins logged it: the listing pages at 100 (limit=100), the
    // flow checks read nothing more for an enabled flow, the orphan check asks STS and CloudFormation once.
    type Cost = { check: string; aepRequests: number; awsRequests: number };
    const cost = Object.fromEntries(report.costs.map((c: Cost) => [c.check, [c.aepRequests, c.awsRequests]]));
    expect(cost).toEqual({
      'connection-specs': [2, 0],
      'aep-iam-role': [1, 0],
      'sandbox-objects': [4, 0],
      'orphaned-objects': [0, 2],
      'destination-role-trust': [0, 0],
      'disabled-dataflows': [0, 0],
      'stale-destination-schedules': [0, 0],
      'sandbox-usage': [0, 0],
      'open-questions': [3, 0],
    });
    expect(aepCalls()).toEqual([
      'GET /connectionSpecs/{id}', 'GET /connectionSpecs/{id}', 'GET /connectionSpecs/{id}/configs',
      'GET /connections', 'GET /targetConnections', 'GET /sourceConnections', 'GET /flows',
      'GET /flowSpecs/{id}', 'GET /flowSpecs/{id}', 'GET /flowSpecs/{id}',
    ]);
    expect(h.aep.requests.filter((r) => /^\/data\/foundation\/flowservice\/(connections|targetConnections|sourceConnections|flows)$/.test(r.path))
      .map((r) => r.query.limit)).toEqual(['100', '100', '100', '100']);
    expect(h.aws.calls.filter((c) => c.service !== 'secretsmanager').map((c) => `${c.service}:${c.action}`)).toEqual(['sts:GetCallerIdentity', 'cloudformation:DescribeStacks']);
    expect(flow).toEqual(expect.any(String));
  });

  test('1 problems: objects of a ROLLBACK_COMPLETE stack (a failed create) are flagged with what to do', async () => {
    await deployDatasetExport({ endTime: nowS() + 365 * DAY_S });
    h.aws.putStack('aep-test', { stackId: STACK_ID, stackStatus: 'ROLLBACK_COMPLETE' });
    const run = await doctor(args('--json'));
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.stacks.map((s: { state: string }) => s.state)).toEqual(['failed-create']);
    const [finding] = findings(report, 'orphaned-objects');
    expect(finding).toMatchObject({ id: 'failed-create-aep-test', status: 'problem' });
    expect(finding.message).toContain(`4 AEP object(s) of stack aep-test (us-east-1, account 123456789012) (${STACK_ID.split('/')[2]}) are leftovers of a failed create: stack ${STACK_ID} is ROLLBACK_COMPLETE`);
    expect(finding.action).toBe('delete them in AEP (dataflows first, then target/source connections, then base connections), then aws cloudformation delete-stack --stack-name aep-test --region us-east-1');
    expect(finding.evidence).toHaveLength(4);
    // Not a live stack: its flows are not judged as declared.
    expect(findings(report, 'stale-destination-schedules')).toEqual([]);
    const human = await doctor(args());
    expect(human.stdout).toContain('LEFTOVERS OF A FAILED CREATE');
  });

  test('2 usage: a bad --warn-days', async () => {
    const run = await doctor(args('--warn-days', 'soon'));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--warn-days 'soon' must be a whole number of days");
    expect(run.stderr).toContain('4  cannot decide: no problem found, but a check could not conclude');
  });

  test('3 cannot reach: a refused Flow Service port fails fast, names the host and what to check, and no "not AEP on AWS" guess', async () => {
    const port = await closedPort();
    const flowServiceUrl = `http://127.0.0.1:${port}/data/foundation/flowservice`;
    const run = await doctor(['--credentials-secret', h.credentialsArn, '--sandbox', 'prod', '--ims-url', h.aep.imsUrl, '--flow-service-url', flowServiceUrl],
      { AEP_HTTP_TIMEOUT_MS: '15000', AEP_RETRY_BASE_MS: '1000', AEP_RETRY_MAX_ATTEMPTS: '5', AEP_DEADLINE_MS: '120000' }, { bundled: true });
    expect(run.code).toBe(3);
    expect(run.stdout).toContain(`[PROBLEM] cannot reach the Flow Service at 127.0.0.1:${port}: connection refused (nothing listens there) (ECONNREFUSED); check --flow-service-url, DNS, and the network path`);
    expect(run.stdout).not.toContain('probably not AEP on AWS');
    // With the production retry budget (5 attempts, 1 s base) the old run took ~39 s.
    expect(run.ms).toBeLessThan(10_000);
    // Nothing was asked of AEP or IMS: the connect alone decided.
    expect(h.aep.requests).toEqual([]);
  });

  test('3 cannot reach: a name that does not resolve is named as a DNS failure', async () => {
    const run = await doctor(['--credentials-secret', h.credentialsArn, '--sandbox', 'prod', '--ims-url', 'https://ims.invalid', '--flow-service-url', h.aep.flowServiceUrl]);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/cannot reach IMS at ims\.invalid:443: the name does not resolve \(DNS\) \((ENOTFOUND|EAI_AGAIN)\); check --ims-url/);
  });

  test('4 cannot decide: DescribeStacks denied, no problem elsewhere: non-zero, and says so', async () => {
    await deployDatasetExport({ endTime: nowS() + 365 * DAY_S });
    h.aws.setAuthorizer(({ action }) => (action === 'cloudformation:DescribeStacks' ? 'denied' : 'allowed'));
    try {
      const run = await doctor(args());
      expect(run.code).toBe(4);
      expect(run.stdout).toMatch(/\[UNDECIDED\] could not tell whether stack aep-test \(us-east-1, account 123456789012\) still owns 4 AEP object\(s\): CloudFormation DescribeStacks failed \(AccessDenied\)/);
      expect(run.stdout).toContain('No problem found; 1 check could not decide (exit code 4).');
      expect(run.stdout).not.toMatch(/ORPHANED|[Dd]elete them/);
      const report = JSON.parse((await doctor(args('--json'))).stdout);
      expect(findings(report, 'orphaned-objects')[0].action).toBe('grant this identity cloudformation:DescribeStacks on the stacks that deploy to this sandbox, and run again');
    } finally {
      h.aws.setAuthorizer(undefined);
    }
  });

  test('4 cannot decide: DescribeStacks throttled (past the SDK\'s retries)', async () => {
    await deployDatasetExport({ endTime: nowS() + 365 * DAY_S });
    h.aws.inject({ service: 'cloudformation', action: 'DescribeStacks', status: 400, code: 'Throttling' });
    const run = await doctor(args('--json'));
    expect(run.code).toBe(4);
    const [finding] = findings(JSON.parse(run.stdout), 'orphaned-objects');
    expect(finding.status).toBe('cannot-decide');
    expect(finding.message).toContain('CloudFormation DescribeStacks failed (Throttling): Rate exceeded');
    expect(finding.action).toBe('CloudFormation throttled the call: run again later');
    expect(h.aws.calls.filter((c) => c.action === 'DescribeStacks').every((c) => c.errorCode === 'Throttling')).toBe(true);
  });

  test('a problem outranks cannot-decide: exit 1', async () => {
    await deployDatasetExport({ endTime: nowS() - DAY_S });
    // The legacy-marker object of another stack: undecided; the ended export: a problem.
    h.aws.setAuthorizer(undefined);
    const other = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Elsewhere/7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d';
    await handler({ ...cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey('aep/legacy')), { logicalId: 'Legacy' }), StackId: other });
    const conn = h.aep.connections().find((c) => String(c.description).includes('Elsewhere'))!;
    const legacy = String(conn.description).replace('[cdk-aep-s3:eu-west-1:123456789012:', '[cdk-aep-s3:');
    const patch = await fetch(`${h.aep.flowServiceUrl}/connections/${conn.id}`, {
      method: 'PATCH',
      headers: { ...h.aep.flowServiceHeaders(h.aep.issueToken()), 'content-type': 'application/json', 'if-match': String(conn.etag) },
      body: JSON.stringify([{ op: 'replace', path: '/description', value: legacy }]),
    });
    expect(patch.status).toBe(200);
    const report = JSON.parse((await doctor(args('--json'))).stdout);
    expect(report.checks.map((c: Finding) => c.status)).toEqual(expect.arrayContaining(['problem', 'cannot-decide']));
    expect(report.exitCode).toBe(1);
  });
});

describe('a Flow Service that fails mid-run names the host, and guesses nothing', () => {
  test('the configs API failing (503 past the retries) is a warning, not "probably not AEP on AWS"', async () => {
    h.aep.inject({ match: { method: 'GET', path: `/connectionSpecs/${AepIds.S3_SOURCE_CONNECTION_SPEC}/configs` }, kind: 'status', status: 503, times: 10 });
    const run = await doctor(args('--json'));
    const [finding] = findings(JSON.parse(run.stdout), 'aep-iam-role');
    expect(finding.status).toBe('warning');
    expect(finding.message).toMatch(/^could not ask the configs API for AEP's IAM role \(GET …\/configs\?authType=IamBasedAuthentication\): .*503.*; try again later$/);
    expect(run.stdout).not.toContain('probably not AEP on AWS');
    expect(run.code).toBe(0);
  });

  test('connections reset while listing: cannot decide (exit 4), naming the Flow Service host', async () => {
    h.aep.inject({ match: { method: 'GET', path: '/flows' }, kind: 'reset', times: 10 });
    const run = await doctor(args('--json'));
    expect(run.code).toBe(4);
    const [finding] = findings(JSON.parse(run.stdout), 'sandbox-objects');
    expect(finding.status).toBe('cannot-decide');
    expect(finding.message).toBe(`could not list /flows (GET /flows) in sandbox prod: Flow Service at ${new URL(h.aep.flowServiceUrl).host} did not answer: `
      + 'the connection was reset (ECONNRESET); check --flow-service-url, DNS, and the network path from this machine (firewall, VPN, HTTPS_PROXY)');
  });
});

describe('Secrets Manager failures are not blamed on the secret name', () => {
  test('unreachable: exit 3, names the endpoint, says the secret is not at fault', async () => {
    const port = await closedPort();
    const run = await doctor(args(), { AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${port}` });
    expect(run.code).toBe(3);
    expect(run.stdout).toContain(`cannot reach Secrets Manager at 127.0.0.1:${port} to read secret ${h.credentialsArn}: connection refused (nothing listens there) (ECONNREFUSED); this says nothing about the secret itself`);
    expect(run.stdout).not.toContain('check the secret name');
    expect(run.ms).toBeLessThan(15_000);
  });

  test('throttled past the SDK\'s retries: exit 3, "run again later", not the secret name', async () => {
    h.aws.inject({ service: 'secretsmanager', action: 'GetSecretValue', status: 400, code: 'ThrottlingException' });
    const run = await doctor(args());
    expect(run.code).toBe(3);
    expect(run.stdout).toContain(`Secrets Manager at ${new URL(h.aws.url).host} did not serve secret ${h.credentialsArn} (ThrottlingException: Rate exceeded`);
    expect(run.stdout).toContain('not refusing the secret: run again later');
    expect(run.stdout).not.toContain('check the secret name');
  });

  test('a secret that does not exist still names the secret', async () => {
    const run = await doctor(['--credentials-secret', 'no/such/secret', '--sandbox', 'prod', '--ims-url', h.aep.imsUrl, '--flow-service-url', h.aep.flowServiceUrl]);
    expect(run.code).toBe(3);
    expect(run.stdout).toContain("cannot read the AEP credential from Secrets Manager secret no/such/secret: Secrets Manager can't find the specified secret. (check the secret name or ARN");
  });
});

describe('disabled-dataflows: a flow a live stack declares, disabled by AEP', () => {
  test('after failed runs: a problem with AEP\'s reason and how to re-enable; 1 GET /runs per disabled flow', async () => {
    const flow = await deployDatasetExport({ endTime: nowS() + 365 * DAY_S });
    h.aep.dataflows.addRun(flow, 'success');
    h.aep.dataflows.addRun(flow, 'Failed', [{ code: 'CONNECTOR-2001-500', message: 'Access Denied writing to s3://acme-aep-exports/aep/datasets' }]);
    await disableInAep(flow);
    h.aep.resetRecording();
    const run = await doctor(args('--json'));
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    const [finding] = findings(report, 'disabled-dataflows');
    expect(finding).toMatchObject({ id: `disabled-${flow}`, status: 'problem' });
    expect(finding.message).toBe(`destination dataflow ${flow} (DatasetFlow of stack aep-test) is declared by a live stack but AEP disabled it after failed runs `
      + '(1 of the last 2 failed; AEP says: CONNECTOR-2001-500 Access Denied writing to s3://acme-aep-exports/aep/datasets). '
      + `Nothing moves until it is re-enabled: fix the cause, then re-enable it: AEP UI Dataflows > ${flow} > Enable, or POST /flows/${flow}/action?op=enable`);
    expect(finding.evidence![1]).toMatch(/^2 run\(s\) read, 1 failed; last run [0-9a-f-]+ failed at /);
    expect(report.sandboxView.dataflows).toEqual({ all: { disabled: 1 }, ours: { disabled: 1 } });
    // Its cost: one runs read, for this flow only.
    expect(report.costs.find((c: { check: string }) => c.check === 'disabled-dataflows')).toEqual({ check: 'disabled-dataflows', aepRequests: 1, awsRequests: 0 });
    const runsReads = h.aep.requests.filter((r) => r.path.endsWith('/runs'));
    expect(runsReads.map((r) => r.query.property)).toEqual([`flowId==${flow}`]);
  });

  test('disabled without a failed run: a warning (the stack may say enabled: false), exit 0', async () => {
    const flow = await deployDatasetExport({ endTime: nowS() + 365 * DAY_S });
    h.aep.dataflows.addRun(flow, 'success');
    await disableInAep(flow);
    const run = await doctor(args());
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`[warn]    destination dataflow ${flow} (DatasetFlow of stack aep-test) is disabled in AEP: if its stack sets enabled: false this is expected`);
  });

  test('a disabled flow of a deleted stack is an orphan, not a disabled declared flow', async () => {
    const flow = await deployDatasetExport({ endTime: nowS() + 365 * DAY_S });
    h.aep.dataflows.addRun(flow, 'failed');
    await disableInAep(flow);
    h.aws.deleteStack('aep-test');
    const report = JSON.parse((await doctor(args('--json'))).stdout);
    expect(findings(report, 'disabled-dataflows')).toEqual([]);
    expect(findings(report, 'orphaned-objects').map((c) => c.id)).toEqual(['orphans-aep-test']);
    expect(h.aep.requests.filter((r) => r.path.endsWith('/runs'))).toEqual([]);
  });
});

describe('stale-destination-schedules: dataset exports near or past their end', () => {
  test('ending in 10 days: a warning with the date and the fix; --warn-days 5 makes it fine', async () => {
    const end = nowS() + 10 * DAY_S + 3600;
    const flow = await deployDatasetExport({ endTime: end });
    const run = await doctor(args('--json'));
    expect(run.code).toBe(0);
    const [finding] = findings(JSON.parse(run.stdout), 'stale-destination-schedules');
    expect(finding).toMatchObject({ id: `schedule-${flow}`, status: 'warning' });
    expect(finding.message).toBe(`dataset export ${flow} (DatasetFlow of stack aep-test) stops exporting at ${new Date(end * 1000).toISOString()}, in 10 day(s) `
      + `(scheduleParams.endTime ${end}): set a later schedule endTime on the DatasetExport (schedule.endTime) and redeploy: the handler patches scheduleParams in place`);
    const relaxed = JSON.parse((await doctor(args('--json', '--warn-days', '5'))).stdout);
    expect(findings(relaxed, 'stale-destination-schedules').map((c) => c.status)).toEqual(['ok']);
  });

  test('past its end: a problem, exit 1', async () => {
    const end = nowS() - 2 * DAY_S;
    const flow = await deployDatasetExport({ endTime: end });
    const run = await doctor(args());
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`[PROBLEM] dataset export ${flow} (DatasetFlow of stack aep-test) stopped exporting at ${new Date(end * 1000).toISOString()}`);
  });

  test('without endTime: AEP\'s six months from creation count (fine today)', async () => {
    const flow = await deployDatasetExport();
    const created = h.aep.flows().find((f) => f.id === flow)!;
    expect(created.scheduleParams!.endTime).toEqual(expect.any(Number));
    const report = JSON.parse((await doctor(args('--json'))).stdout);
    expect(findings(report, 'stale-destination-schedules').map((c) => [c.id, c.status])).toEqual([['schedules-ok', 'ok']]);
  });
});

describe('sandbox-usage: the sandbox at a glance', () => {
  /** Copies of the flow the handler created (same request body), as another tool would add them. */
  async function moreDestinationFlows(count: number): Promise<void> {
    const create = h.aep.requests.find((r) => r.method === 'POST' && r.path.endsWith('/flows'))!;
    for (let i = 0; i < count; i++) {
      const res = await fetch(`${h.aep.flowServiceUrl}/flows`, {
        method: 'POST',
        headers: { ...h.aep.flowServiceHeaders(h.aep.issueToken()), 'content-type': 'application/json' },
        body: JSON.stringify({ ...(create.body as Record<string, unknown>), name: `copy ${i}`, description: 'made elsewhere' }),
      });
      expect(res.status).toBe(201);
    }
  }

  test('80 of 100 destination dataflows: a warning; the listing pages at 100 and says how many requests it took', async () => {
    await deployDatasetExport({ endTime: nowS() + 365 * DAY_S });
    await moreDestinationFlows(79);
    h.aep.resetRecording();
    const run = await doctor(args('--json'));
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.sandboxView.destinations).toEqual({ used: 80, limit: 100 });
    expect(report.sandboxView.dataflows).toEqual({ all: { enabled: 80 }, ours: { enabled: 1 } });
    expect(report.sandboxView.listRequests).toBe(4);
    const [finding] = findings(report, 'sandbox-usage');
    expect(finding).toMatchObject({ id: 'destination-limit', status: 'warning' });
    expect(finding.message).toContain("80 of AEP's 100 destination dataflows used; dataflows 80 enabled (ours: 1 enabled)");
  });

  test('100 of 100: a problem (AEP refuses the next one), exit 1; 101 flows take two pages of GET /flows', async () => {
    await deployDatasetExport({ endTime: nowS() + 365 * DAY_S });
    await moreDestinationFlows(100);
    h.aep.resetRecording();
    const run = await doctor(args('--json'));
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.sandboxView.destinations).toEqual({ used: 101, limit: 100 });
    expect(report.sandboxView.listRequests).toBe(5);
    expect(h.aep.requests.filter((r) => r.path.endsWith('/flowservice/flows')).map((r) => [r.query.limit, typeof r.query.continuationToken])).toEqual([['100', 'undefined'], ['100', 'string']]);
    expect(findings(report, 'sandbox-usage')[0]).toMatchObject({ id: 'destination-limit', status: 'problem' });
    expect(report.costs.find((c: { check: string }) => c.check === 'sandbox-objects').aepRequests).toBe(5);
  });
});
