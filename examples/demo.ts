/**
 * `npm run demo`: the library's main job, offline, in a few seconds.
 *
 * 1. Starts the local AEP stand-in (IMS + Flow Service, validating every body against Adobe's
 *    OpenAPI specs) and the local AWS stand-in (Secrets Manager + STS).
 * 2. Synthesizes the examples/ app (two destinations, two sources, one stack).
 * 3. Replays CloudFormation's lifecycle through the *bundled* handler taken from the cloud
 *    assembly: Create → scheduled session-token refresh → Update (key rotation + description
 *    change) → Delete.
 * 4. Prints what happened, including what the handler read from AEP's live connection specs and
 *    the deploy-time reachability checks (derived from the stand-ins' recordings of the create).
 * 5. Runs the bundled `cdk-aep-s3 doctor` against the same stand-ins and prints its report.
 * Exits non-zero on any failure or leftover AEP connection.
 */
import { execFile } from 'child_process';
import * as path from 'path';
import { LifecycleReport, OFFLINE_KNOBS, runExampleLifecycle } from '../offline-world/cloudformation/example-lifecycle';
import { AepStandIn } from '../offline-world/stand-in/aep';
import { AwsStandIn } from '../offline-world/stand-in/aws';
import { contractFailures, formatViolation } from '../offline-world/stand-in/contract-check';

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
    lines.push('', ...createPhaseLines(report));
    console.log(lines.join('\n'));

    const doctor = await runDoctor(report, aep, aws);
    console.log(`\n$ cdk-aep-s3 doctor --credentials-secret ${report.credentialsSecretArn} --sandbox prod --region ${aws.region} --ims-url … --flow-service-url …  (bundled CLI, after the delete)`);
    console.log(doctor.stdout.trimEnd());
    if (doctor.stderr.trim()) console.log(doctor.stderr.trimEnd());

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
    console.log(`\nAdobe spec check of every request and response (handler, refresh, doctor): ${contract.length} violation(s)`
      + `${documented ? `, ${documented} documented spec gap(s) passed (offline-world/contract-gaps.ts)` : ''}`);
    for (const v of contract) console.log(`  ${formatViolation(v)}`);
    if (contractFailures(aep).length) failures.push(`${contract.length} violation(s) of Adobe's specs`);
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

/**
 * What the handler read and proved during the create, from the stand-ins' recordings: the live
 * connection specs (and which variant/encryption shape they made the requests take), AEP's explore
 * of each source folder, the S3 listing with each new destination key.
 */
function createPhaseLines(report: LifecycleReport): string[] {
  const { aepRequests, awsCalls } = report.createPhase;
  const lines = ['during the create, from the stand-ins\' recordings:'];
  for (const r of aepRequests.filter((q) => q.method === 'GET' && /\/connectionSpecs\/[^/]+$/.test(q.path))) {
    const item = (r.response as { items?: Array<Record<string, any>> } | undefined)?.items?.[0] ?? {};
    const auth = (item.authSpec ?? []).map((a: any) => `'${a.name}'${a.name === 'IAMRole Based' ? ` (folderPath ${a.spec?.properties?.folderPath ? 'declared' : 'not declared'})` : ''}`);
    const enc = item.encryptionSpecs?.[0];
    lines.push(`  live spec read: GET /connectionSpecs/${r.path.split('/').pop()} -> ${r.status} "${item.name}": auth ${auth.join(', ')}`
      + (enc ? `; encryption '${enc.name}' encryptionAlgo ${JSON.stringify(enc.spec?.properties?.encryptionAlgo?.enum)}` : ''));
  }
  const posts = aepRequests.filter((q) => q.method === 'POST' && q.path.endsWith('/connections') && q.status === 201);
  for (const p of posts) {
    const body = p.body as Record<string, any>;
    const block = body.encryption ? 'encryption' : body.encryptionSpecs ? 'encryptionSpecs' : undefined;
    const shape = block ? `, encrypted with \`${block}\` {specName: '${body[block].specName}', encryptionAlgo: '${body[block].params?.encryptionAlgo}'}` : '';
    lines.push(`  POST /connections "${body.name}": auth '${body.auth?.specName}' params [${Object.keys(body.auth?.params ?? {}).join(', ')}]${shape} -> ${p.status}`);
  }
  for (const e of aepRequests.filter((q) => q.method === 'GET' && q.path.endsWith('/explore'))) {
    lines.push(`  reachability (source): AEP explore GET /connections/${e.path.split('/').slice(-2, -1)[0]}/explore?objectType=${e.query.objectType}&object=${e.query.object} -> ${e.status}`);
  }
  for (const c of awsCalls.filter((a) => a.service === 's3' && a.action === 'ListObjectsV2')) {
    lines.push(`  reachability (destination): S3 ListObjectsV2 signed with the new key ${c.accessKeyId} -> ${c.status}${c.errorCode ? ` ${c.errorCode}` : ''}`);
  }
  const sts = awsCalls.filter((a) => a.service === 'sts');
  lines.push(`  STS calls: ${sts.map((c) => `${c.action} -> ${c.status}${c.errorCode ? ` ${c.errorCode}` : ''}`).join(', ') || 'none'}`);
  return lines;
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
