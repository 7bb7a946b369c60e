import type { DoctorCheck, DoctorReport, Finding, MarkedItem } from './types';
import { authSpecOf, LiveConnectionSpec, replaceableParams } from '../../aep/connection-specs';
import { errorMessage } from '../../plumbing/log';
import { flowSpecFindings } from '../doctor-flow-specs';

const SESSION_REFRESH_PARAMS = ['s3AccessKey', 's3SecretKey', 's3SessionToken'];

/**
 * What the live connection specs (read by `connection-specs`), the listing and the three flow
 * specs settle among the details Adobe's documents leave open. Cost: 3 requests (the flow specs).
 */
export const openQuestionsCheck: DoctorCheck = {
  id: 'open-questions',
  title: "details Adobe's documents leave open, settled by this sandbox's live specs",
  async run(ctx) {
    ctx.report.openQuestions.push(...openQuestions(ctx.specs, ctx.report, ctx.sandbox?.items));
    ctx.report.openQuestions.push(...await flowSpecFindings({ request: (method, path, options) => ctx.aep(method as 'GET', path, options) }, ctx.add));
  },
};

/** What the live data settles among the details Adobe's docs leave open. */
function openQuestions(
  specs: Partial<Record<'source' | 'destination', LiveConnectionSpec>>, report: DoctorReport, items: MarkedItem[] | undefined,
): Finding[] {
  const out: Finding[] = [];
  const dst = specs.destination;
  const src = specs.source;
  const unread = (what: string) => `not settled: the ${what} connection spec could not be read`;
  const enc = report.connectionSpecs.destination?.encryption;
  out.push({
    question: 'encryption-payload',
    topic: 'destination encryption payload',
    settled: !!enc?.requestKey,
    answer: !dst ? unread('destination')
      : !enc ? 'the live destination spec declares no encryption spec: file encryption cannot be requested'
        : enc.requestKey ? `the live spec declares '${enc.name}' with encryptionAlgo ${JSON.stringify(enc.encryptionAlgo)}: the handler sends \`${enc.requestKey}\` {specName: '${enc.name}', encryptionAlgo: '${enc.encryptionAlgo.find((a) => a !== 'NONE')}'}`
          : `not settled: ${enc.problem}`,
  });
  if (dst) {
    const key = dst.authSpecs.find((a) => a.name === 'Access Key');
    const names = key ? Object.keys(key.params) : [];
    out.push({
      question: 'key-rotation-params',
      topic: 'destination key PATCH param names',
      settled: !!key,
      answer: key ? `'Access Key' declares ${names.join(', ')}: rotation patches /auth/params/${names.join(' and /auth/params/')}` : "the live destination spec offers no 'Access Key' auth spec",
    });
  } else {
    out.push({ question: 'key-rotation-params', topic: 'destination key PATCH param names', settled: false, answer: unread('destination') });
  }
  if (src) {
    let answer: string;
    let settled = true;
    try {
      const replaceable = replaceableParams(src, 'Access Key', SESSION_REFRESH_PARAMS);
      answer = replaceable.length === SESSION_REFRESH_PARAMS.length
        ? `all of ${SESSION_REFRESH_PARAMS.join(', ')} are replaceable (none readOnly): the refresh sends the three-op PATCH`
        : `only ${replaceable.join(', ') || 'nothing'} replaceable (${SESSION_REFRESH_PARAMS.filter((p) => !replaceable.includes(p)).join(', ')} readOnly or undeclared): the refresh sends ${replaceable.length === 1 ? 'the one-op (token-only)' : `a ${replaceable.length}-op`} PATCH`;
    } catch (err) {
      settled = false;
      answer = `not settled: ${errorMessage(err)}`;
    }
    out.push({ question: 'session-token-patch', topic: 'source session-token PATCH', settled, answer });
    const auth = (name: string) => {
      try {
        return authSpecOf(src, name);
      } catch {
        return undefined;
      }
    };
    const key = auth('Access Key');
    const role = auth('IAMRole Based');
    out.push({
      question: 'source-auth-specs',
      topic: 'source auth spec required lists, folderPath on IAMRole Based',
      settled: true,
      answer: `'Access Key' requires ${key ? JSON.stringify(key.required) : '(not offered)'}; 'IAMRole Based' ${role
        ? `requires ${JSON.stringify(role.required)} and ${role.params.folderPath ? 'declares' : 'does NOT declare'} folderPath` : 'is not offered'}`,
    });
  } else {
    out.push({ question: 'session-token-patch', topic: 'source session-token PATCH', settled: false, answer: unread('source') });
    out.push({ question: 'source-auth-specs', topic: 'source auth spec required lists, folderPath on IAMRole Based', settled: false, answer: unread('source') });
  }
  out.push({
    question: 'iam-role-value',
    topic: 'configs IAMRole value',
    settled: !!report.iamRole,
    answer: report.iamRole ? `a full IAM role ARN (${report.iamRole}) for sandbox ${report.sandbox}` : 'not settled: no IAM role from the configs API here',
  });
  const withSecrets = (items ?? []).filter((i) => i.secretParams);
  const states = new Set(withSecrets.flatMap((i) => Object.values(i.secretParams!)));
  out.push({
    question: 'secret-masking',
    topic: 'secret params in reads',
    settled: withSecrets.length > 0,
    answer: withSecrets.length === 0 ? 'not settled: no connection of ours with secret params to look at'
      : states.has('clear') ? `AEP returned secret params IN CLEAR in GET /connections for ${withSecrets.filter((i) => Object.values(i.secretParams!).includes('clear')).length} connection(s) (values not shown)`
        : `masked: ${[...new Set(withSecrets.flatMap((i) => Object.keys(i.secretParams!)))].join(', ')} come back masked in GET /connections`,
  });
  return out;
}
