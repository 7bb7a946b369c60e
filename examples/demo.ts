/**
 * `npm run demo`: the library's main job, offline, for someone who has never seen AEP.
 *
 * 1. Starts the local AEP stand-in (IMS + Flow Service, validating every request against Adobe's
 *    OpenAPI specs; it refuses to start without them and says to run `npm run fetch-specs`) and
 *    the local AWS stand-in (Secrets Manager + STS + S3).
 * 2. Synthesizes the examples/ app (three destinations, two sources, three dataflows, one stack).
 * 3. Replays CloudFormation's lifecycle through the *bundled* handler taken from the cloud
 *    assembly: Create → scheduled session-token refresh → Update (key rotation, description and
 *    schedule changes) → Delete, saying what each event did in AEP.
 * 4. Runs the bundled `cdk-aep-s3 doctor` against the same stand-ins and sums up its report.
 * Exits non-zero on any failure or leftover AEP object.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { doctorSummary, exampleInventory, flowText, inventoryLines, readableName, whatItDid } from './demo-text';
import { LifecycleReport, OFFLINE_KNOBS, runExampleLifecycle } from '../offline-world/cloudformation/example-lifecycle';
import { resolveSpecDir } from '../offline-world/specs';
import { AepStandIn } from '../offline-world/stand-in/aep';
import { AwsStandIn } from '../offline-world/stand-in/aws';
import { contractFailures, formatViolation } from '../offline-world/stand-in/contract-check';

const PHASES: Record<string, string> = {
  create: '1. cdk deploy (CloudFormation Create): the stack registers everything in AEP',
  refresh: '2. Four hours later: the scheduled refresh of the source\'s temporary AWS credentials',
  update: '3. cdk deploy again (Update): a rotated access key, a new description, changed schedules',
  delete: '4. cdk destroy (Delete): everything the stack made in AEP goes away, in reverse order',
};

async function main(): Promise<number> {
  const specs = resolveSpecDir();
  const aep = await AepStandIn.start();
  const aws = await AwsStandIn.start();
  const workDir = path.resolve(__dirname, '..', '.demo');
  try {
    const inventory = exampleInventory();
    const report = await runExampleLifecycle({ aep, aws, workDir });
    const lines: string[] = [];
    lines.push('cdk-aep-s3 offline demo: no AWS account, no Adobe credentials.');
    lines.push(`A local stand-in plays Adobe Experience Platform (AEP) at ${aep.baseUrl} and checks every request against`);
    lines.push(`Adobe's published OpenAPI specs (${aep.schemaValidation ? 'on' : 'OFF'}; read from ${specs.dir}).`);
    lines.push('');
    lines.push(...inventoryLines(inventory));
    lines.push(`It synthesizes to one CloudFormation stack, ${report.stackName}, of ${report.resourcesPerStack} resources; ${Object.values(report.customResources).reduce((a, b) => a + b, 0)} of them are`);
    lines.push('custom resources, through which the library\'s Lambda creates, updates and deletes the matching objects in AEP.');
    const width = Math.max(...report.invocations.map((i) => readableName(i.logicalId, inventory.names).length));
    let phase = '';
    for (const i of report.invocations) {
      if (i.phase !== phase) {
        phase = i.phase;
        lines.push('', PHASES[phase] ?? phase);
      }
      const result = i.error ? `FAILED: ${i.error}` : i.requestType === 'Refresh' ? '' : `  [AEP id ${i.physicalId}]`;
      lines.push(`  ${readableName(i.logicalId, inventory.names).padEnd(width)}  ${whatItDid(i.resourceType, i.requestType)} (${i.aepRequests} AEP requests)${result}`);
    }
    const flows = report.invocations.filter((i) => i.resourceType === 'Custom::AepFlow' && !i.error);
    const created = flows.filter((i) => i.requestType === 'Create');
    const updated = flows.filter((i) => i.requestType === 'Update');
    const flowIdsKept = updated.every((i) => i.physicalId === i.request?.PhysicalResourceId);
    lines.push('', 'The dataflows as created:');
    for (const f of created) {
      const [first, ...rest] = flowText(f.request?.ResourceProperties ?? {});
      lines.push(`  ${readableName(f.logicalId, inventory.names)} ${first}`, ...rest.map((l) => `  ${l}`));
    }
    lines.push('', 'What the deploy proved before registering anything (from the stand-ins\' recordings):', ...createPhaseLines(report));
    lines.push('', 'Result:');
    lines.push(`  after the deploy AEP held ${report.connectionsAfterCreate} base connections, ${report.targetConnectionsAfterCreate} target connections and ${created.length} dataflows`);
    lines.push(`  the update changed ${report.connectionsUpdated} connection and ${updated.length} dataflows in place: same AEP ids ${report.connectionIdsStableAcrossUpdate && flowIdsKept ? 'kept' : 'NOT kept'}, so nothing downstream had to be re-pointed`);
    lines.push(`  session-token refreshes run: ${report.refreshRuns}; requests Adobe's specs rejected: ${report.validationFailures.length}`);
    lines.push(`  after cdk destroy: ${report.finalConnections} connections, ${report.finalTargetConnections} target connections, ${aep.flows().length} dataflows left in AEP`);
    console.log(lines.join('\n'));

    const doctor = await runDoctor(report, aep, aws);
    const doctorFile = path.join(workDir, 'doctor-report.txt');
    fs.writeFileSync(doctorFile, `${doctor.stdout}${doctor.stderr}`);
    console.log('\n5. cdk-aep-s3 doctor: the preflight you run against a real sandbox before a deploy (bundled CLI, run after the delete)');
    for (const l of doctorSummary(doctor.stdout, doctor.code, path.relative(process.cwd(), doctorFile))) console.log(`  ${l}`);

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
    if (doctor.code !== 0) failures.push(`the doctor found problems (exit code ${doctor.code})`);
    // Judged last: the doctor's requests count too.
    const contract = aep.contractViolations();
    const documented = aep.contractReport().length - contract.length;
    console.log(`\nEvery request and response (handler, refresh, doctor) checked against Adobe's specs: ${contract.length} violation(s)`
      + `${documented ? `; ${documented} known differences between Adobe's specs and AEP's real behaviour were allowed (listed in offline-world/contract-gaps.ts)` : ''}`);
    for (const v of contract) console.log(`  ${formatViolation(v)}`);
    if (contractFailures(aep).length) failures.push(`${contract.length} violation(s) of Adobe's specs`);
    if (failures.length) {
      console.error(`\ndemo FAILED: ${failures.join(', ')}`);
      return 1;
    }
    console.log([
      '',
      'demo OK',
      '',
      'What next:',
      '  - Read examples/app.ts: the stack above, about 150 lines. Change it and run `npm run demo` again.',
      '  - In your own CDK app: `npm install cdk-aep-s3`, then the README\'s "Minimal example" and "The AEP credential".',
      '  - Before the first real deploy, run `npx cdk-aep-s3 doctor` against your sandbox (README, "Preflight").',
      '  - `npm test` runs every test against the same stand-ins; `npm run --silent stand-in` starts them for you to explore.',
    ].join('\n'));
    return 0;
  } finally {
    await Promise.all([aep.close(), aws.close()]);
  }
}

/**
 * What the handler read and proved during the create, from the stand-ins' recordings: the live
 * connection specs (each distinct read once, with how often), AEP's explore of each source
 * folder, and the S3 listing with each new destination key, whose first 403s are the simulated
 * IAM propagation delay the handler waits out.
 */
function createPhaseLines(report: LifecycleReport): string[] {
  const { aepRequests, awsCalls } = report.createPhase;
  const lines: string[] = [];
  const specReads = new Map<string, number>();
  for (const r of aepRequests.filter((q) => q.method === 'GET' && /\/connectionSpecs\/[^/]+$/.test(q.path))) {
    const item = (r.response as { items?: Array<Record<string, any>> } | undefined)?.items?.[0] ?? {};
    const auth = (item.authSpec ?? []).map((a: any) => `'${a.name}'`);
    const enc = item.encryptionSpecs?.[0];
    const line = `read AEP's live connection spec "${item.name}" (${r.path.split('/').pop()}, ${r.status}): auth types ${auth.join(', ')}`
      + (enc ? `; file encryption ${JSON.stringify(enc.spec?.properties?.encryptionAlgo?.enum)}` : '');
    specReads.set(line, (specReads.get(line) ?? 0) + 1);
  }
  for (const [line, n] of specReads) lines.push(`  ${line}${n > 1 ? ` (${n} reads, one per Lambda container)` : ''}`);
  const posts = aepRequests.filter((q) => q.method === 'POST' && q.path.endsWith('/connections') && q.status === 201);
  for (const p of posts) {
    const body = p.body as Record<string, any>;
    const block = body.encryption ? 'encryption' : body.encryptionSpecs ? 'encryptionSpecs' : undefined;
    const shape = block ? `, files PGP-encrypted (${body[block].params?.encryptionAlgo})` : '';
    lines.push(`  registered connection "${body.name}": AEP logs in with '${body.auth?.specName}' (${Object.keys(body.auth?.params ?? {}).join(', ')})${shape}`);
  }
  for (const e of aepRequests.filter((q) => q.method === 'GET' && q.path.endsWith('/explore'))) {
    lines.push(`  AEP listed the source folder ${e.query.object} through the new connection (${e.status === 200 ? 'it can read it' : `status ${e.status}`})`);
  }
  const probes = awsCalls.filter((a) => a.service === 's3' && a.action === 'ListObjectsV2');
  for (const [key, calls] of groupBy(probes, (c) => c.accessKeyId ?? '?')) {
    const early = calls.filter((c) => c.status === 403);
    const ok = calls.find((c) => c.status === 200);
    lines.push(`  listed the export folder with the new IAM key ${key}: ${early.length ? `${early.length} × 403 ${early[0].errorCode} first (expected: `
      + 'a new key takes seconds to work in AWS, which the stand-in simulates; the handler retries every 500 ms), then ' : ''}${ok ? 'it worked, so the key was handed to AEP' : 'it never worked'}`);
  }
  const sts = awsCalls.filter((a) => a.service === 'sts');
  const stsEarly = sts.filter((c) => c.status === 403);
  if (sts.length) {
    lines.push(`  AWS STS: ${sts.filter((c) => c.status === 200).map((c) => c.action).join(', ')} succeeded`
      + (stsEarly.length ? ` after ${stsEarly.length} × 403 ${stsEarly[0].errorCode} (expected: the same propagation delay for the source's key)` : ''));
  }
  return lines;
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const i of items) out.set(key(i), [...(out.get(key(i)) ?? []), i]);
  return out;
}

/** The bundled doctor command, spawned (asynchronously: the stand-ins live in this process). */
function runDoctor(report: LifecycleReport, aep: AepStandIn, aws: AwsStandIn): Promise<{ code: number; stdout: string; stderr: string }> {
  const cli = path.resolve(__dirname, '..', 'assets', 'cli', 'index.js');
  const args = [cli, 'doctor', '--credentials-secret', report.credentialsSecretArn, '--sandbox', 'prod', '--region', aws.region,
    '--ims-url', aep.imsUrl, '--flow-service-url', aep.flowServiceUrl];
  // The doctor runs as an operator, not as the (deleted) stack's handler role. Least privilege it
  // needs: secretsmanager:GetSecretValue on the credential, cloudformation:DescribeStacks.
  const operator = aws.registerRoleSession({ roleArn: 'arn:aws:iam::111122223333:role/aep-operator', sessionName: 'doctor' });
  aws.setAuthorizer(({ principalArn, action, resourceArn }) => (principalArn === operator.arn
    && ((action === 'secretsmanager:GetSecretValue' && resourceArn === report.credentialsSecretArn) || action === 'cloudformation:DescribeStacks')
    ? 'allowed' : 'denied'));
  const env = {
    PATH: process.env.PATH ?? '',
    ...aws.env(),
    AWS_ACCESS_KEY_ID: operator.accessKeyId,
    AWS_SECRET_ACCESS_KEY: operator.secretAccessKey,
    AWS_SESSION_TOKEN: operator.sessionToken,
    ...OFFLINE_KNOBS,
  };
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

main().then((code) => process.exit(code), (err: unknown) => {
  console.error(`demo FAILED: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
