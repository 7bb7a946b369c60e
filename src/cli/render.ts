import type { DoctorReport, ParamReport, SpecReport } from './checks/types';

const TAGS = { 'ok': '[ok]     ', 'info': '[info]   ', 'warning': '[warn]   ', 'problem': '[PROBLEM]', 'cannot-decide': '[UNDECIDED]' } as const;

/** The report for a person at a terminal (plain text, no colours: it ends up in tickets and CI logs). */
export function renderHuman(report: DoctorReport): string {
  const lines: string[] = [];
  lines.push(`cdk-aep-s3 doctor: sandbox '${report.sandbox}' at ${report.flowServiceUrl}`);
  lines.push(`credential: ${report.credential.source}${report.credential.clientId ? ` (client ${report.credential.clientId}, org ${report.credential.orgId})` : ''}`);
  lines.push('');
  for (const c of report.checks) {
    lines.push(`${TAGS[c.status]} ${c.message}`);
    // The finding's message already says what to do when it is short; evidence helps a ticket.
    if (c.status !== 'ok' && c.status !== 'info') for (const e of c.evidence ?? []) lines.push(`            - ${e}`);
  }
  for (const [label, spec] of [['S3 destination', report.connectionSpecs.destination], ['S3 source', report.connectionSpecs.source]] as const) {
    if (spec) lines.push('', ...renderSpec(label, spec));
  }
  if (report.openQuestions.length) {
    lines.push('', 'Details Adobe\'s docs leave open, and what this AEP says:');
    for (const q of report.openQuestions) lines.push(`  ${q.question} (${q.topic}): ${q.settled ? '' : '(open) '}${q.answer}`);
  }
  if (report.stacks.length) {
    lines.push('', `AEP objects carrying cdk-aep-s3 markers, by stack (CloudFormation looked up in each stack's region, or in ${report.region ?? 'the default region'} for markers that name none):`);
    for (const s of report.stacks) {
      const verdict = s.state === 'exists' ? `stack exists (${s.detail})`
        : s.state === 'unknown' ? `cannot decide: ${s.detail}`
          : s.state === 'other-account' ? `not checked: ${s.detail}`
            : s.state === 'failed-create' ? `LEFTOVERS OF A FAILED CREATE: ${s.detail}` : `ORPHANED: ${s.detail}`;
      lines.push(`  stack ${s.stackName} (${s.region ? `${s.region}, account ${s.account}, ` : ''}${s.stackUuid}): ${verdict}`);
      for (const i of s.items) {
        lines.push(`    ${i.collection.replace('/', '').padEnd(17)} ${i.id}  ${i.logicalId}${i.name ? `  "${i.name}"` : ''}${i.retained ? '  (retained by RemovalPolicy.RETAIN)' : ''}`);
      }
    }
  } else if (report.checks.some((c) => c.id === 'sandbox-read')) {
    lines.push('', 'No AEP object in this sandbox carries a cdk-aep-s3 marker.');
  }
  if (report.costs.length) {
    const spent = report.costs.filter((c) => c.aepRequests || c.awsRequests).map((c) => `${c.check} ${c.aepRequests}+${c.awsRequests}`);
    lines.push('', `Requests per check (AEP+AWS): ${spent.join(', ') || 'none'}`);
  }
  const problems = report.checks.filter((c) => c.status === 'problem').length;
  const undecided = report.checks.filter((c) => c.status === 'cannot-decide').length;
  const tail = undecided ? `; ${undecided} check${undecided === 1 ? '' : 's'} could not decide` : '';
  if (report.exitCode === 3) {
    lines.push('', `Stopped: cannot reach or authenticate (exit code ${report.exitCode}).`);
  } else {
    lines.push('', `${problems === 0 ? 'No problem found' : `${problems} problem${problems === 1 ? '' : 's'} found`}${tail} (exit code ${report.exitCode}).`);
  }
  return lines.join('\n');
}

function renderSpec(label: string, spec: SpecReport): string[] {
  const lines = [`${label} connection spec ${spec.id}${spec.name ? ` "${spec.name}"` : ''} as AEP declares it:`];
  for (const a of spec.authSpecs) {
    lines.push(`  auth '${a.name}'${a.type ? ` (${a.type})` : ''}: ${a.params.map(param).join(', ') || 'no params'}`);
  }
  if (spec.encryption) {
    const e = spec.encryption;
    lines.push(`  encryption '${e.name}': encryptionAlgo ${JSON.stringify(e.encryptionAlgo)}${e.requestKey ? ` -> request key \`${e.requestKey}\`` : `; ${e.problem}`}`);
  }
  if (spec.permissions.length) lines.push(`  Adobe permissions (permissionsInfo): ${spec.permissions.join('; ')}`);
  return lines;
}

function param(p: ParamReport): string {
  const flags = [p.required ? 'required' : 'optional', ...(p.secret ? ['secret'] : []), ...(p.readOnly ? ['readOnly'] : [])];
  return `${p.name} (${flags.join(', ')})`;
}
