/**
 * Fault matrix: {Create, Update, Delete} × 13 faults on the primary mutating Flow Service request
 * of a destination `Access Key` base connection (`Custom::AepConnection`), driven over real HTTP
 * against the local stand-ins.
 *
 * Each scenario starts from a fresh stand-in, injects the fault once, runs the event through the
 * handler and then does what CloudFormation does next when the event fails:
 * - failed Create → rollback Delete with a physical id that is not an AEP id (simulated with the
 *   request id); no AEP connection may be orphaned. The check that matters is made BEFORE that
 *   Delete: aws-cdk-lib's `cr.Provider` reports a failed Create as
 *   `AWSCDK::CustomResourceProviderFramework::CREATE_FAILED` and answers the rollback Delete itself,
 *   without invoking the handler, so a failed Create must leave nothing behind on its own;
 * - failed Update → rollback Update back to the old properties, which must succeed and restore them;
 * - failed Delete → DELETE_FAILED: the connection must still exist, and a retried Delete succeeds.
 *
 * The expectation of every row is written down in {@link EXPECTED} with its reason. The observed
 * matrix is printed after the suite and written to `test-reports/fault-matrix.md`.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { FaultSpec } from '../../offline-world/stand-in';
import { handler } from '../../src/handler/aep.lambda';
import type { CustomResourceEvent, CustomResourceResponse } from '../../src/plumbing/events';
import { adoptionMarker, ConnectionProps } from '../../src/private/contract';
import { cfnEvent, Harness, type SeededKey, STACK_ID, FAULT_KNOBS } from '../handler/harness';

type Operation = 'Create' | 'Update' | 'Delete';

type FaultName =
  | '429 + Retry-After' | '500' | '502' | '503' | '504' | 'connection reset' | 'client timeout'
  | '401 expired token' | '412 stale etag' | '404' | 'malformed JSON' | '504 (applied)' | 'connection reset (applied)';

const HTTP_TIMEOUT_MS = Number(FAULT_KNOBS.AEP_HTTP_TIMEOUT_MS);
/** Long enough to outlive the client's timeout, short enough to keep the suite quick. */
const DELAY_MS = HTTP_TIMEOUT_MS + 150;
const RETRY_AFTER_SECONDS = 1;
/** No scenario (setup + faulted event + CloudFormation follow-up) may take longer. */
const SCENARIO_BUDGET_MS = 10_000;

/** The fault, minus where it applies (always the operation's primary mutating request). */
const FAULTS: Record<FaultName, Omit<FaultSpec, 'match' | 'times'>> = {
  '429 + Retry-After': { kind: 'status', status: 429, retryAfterSeconds: RETRY_AFTER_SECONDS },
  '500': { kind: 'status', status: 500 },
  '502': { kind: 'status', status: 502 },
  '503': { kind: 'status', status: 503 },
  '504': { kind: 'status', status: 504 },
  'connection reset': { kind: 'reset' },
  'client timeout': { kind: 'delay', delayMs: DELAY_MS },
  '401 expired token': { kind: 'expiredToken' },
  '412 stale etag': { kind: 'status', status: 412, body: { errorCode: '1404-412', errorMessage: 'Version mismatch: If-Match does not match the current version' } },
  '404': { kind: 'status', status: 404 },
  'malformed JSON': { kind: 'malformed' },
  // AEP applied the request, then the gateway answered 504 or the connection dropped.
  '504 (applied)': { kind: 'status', status: 504, apply: 'now' },
  'connection reset (applied)': { kind: 'reset', apply: 'now' },
};

/** Lookups after an ambiguous POST keep polling for this long before POSTing again (the handler's settle window). */
const SETTLE_MS = 3 * HTTP_TIMEOUT_MS;

/** One row of the matrix: what must happen, and why. */
interface Expected {
  readonly op: Operation;
  readonly fault: FaultName;
  /** Whether the faulted event itself succeeds. */
  readonly outcome: 'succeeds' | 'fails';
  /** AEP connections left once the event and CloudFormation's follow-up (if it failed) are done. */
  readonly finalConnections: number;
  /**
   * Statuses the stand-in sent to the primary mutating request during the faulted event, in
   * arrival order, comma-joined (0 = socket reset). A RegExp where the order is a race.
   */
  readonly primary: string | RegExp;
  readonly reason: string;
  /** A deliberate wait the reason promises, measured on the faulted event. */
  readonly minEventMs?: number;
}

// The delayed request arrives first but is answered last: by then the retry has already applied
// (412 / 404 for the late one), unless a slow box lets the late one win (then the retry gets
// 412 / 404 and the handler re-reads / counts it as gone).
const TIMED_OUT_PATCH = /^(412,200|200,412,200)$/;
const TIMED_OUT_DELETE = /^(404,202|202,404)$/;

const EXPECTED: readonly Expected[] = [
  // ---- Create: POST /connections (never retried blindly: each round looks up the marker first)
  { op: 'Create', fault: '429 + Retry-After', outcome: 'succeeds', finalConnections: 1, primary: '429,201', reason: 'throttled, not applied: waits Retry-After, looks up (none), POSTs again' },
  { op: 'Create', fault: '500', outcome: 'succeeds', finalConnections: 1, primary: '500,201', reason: '5xx is transient: looks up (none), POSTs again' },
  { op: 'Create', fault: '502', outcome: 'succeeds', finalConnections: 1, primary: '502,201', reason: '5xx is transient: looks up (none), POSTs again' },
  { op: 'Create', fault: '503', outcome: 'succeeds', finalConnections: 1, primary: '503,201', reason: '5xx is transient: looks up (none), POSTs again' },
  { op: 'Create', fault: '504', outcome: 'succeeds', finalConnections: 1, primary: '504,201', reason: 'ambiguous gateway timeout (not applied here): lookups settle for 3 timeout windows, then POSTs again', minEventMs: SETTLE_MS },
  { op: 'Create', fault: 'connection reset', outcome: 'succeeds', finalConnections: 1, primary: '0,201', reason: 'no response is ambiguous (not applied here): lookups settle for 3 timeout windows, then POSTs again', minEventMs: SETTLE_MS },
  { op: 'Create', fault: '504 (applied)', outcome: 'succeeds', finalConnections: 1, primary: '504', reason: 'applied, response lost: the settle lookup finds it and adopts it; POSTed once' },
  { op: 'Create', fault: 'connection reset (applied)', outcome: 'succeeds', finalConnections: 1, primary: '0', reason: 'applied, response lost: the settle lookup finds it and adopts it; POSTed once' },
  { op: 'Create', fault: 'client timeout', outcome: 'succeeds', finalConnections: 1, primary: '201', reason: 'AEP applies the POST after the client gave up: adopted by marker, POSTed once' },
  { op: 'Create', fault: '401 expired token', outcome: 'succeeds', finalConnections: 1, primary: '401,201', reason: 'token revoked: new IMS token, same POST repeated once' },
  { op: 'Create', fault: '412 stale etag', outcome: 'fails', finalConnections: 0, primary: '412', reason: 'AEP never 412s a POST (no If-Match): non-retryable 4xx, fails at once; rollback Delete is a no-op' },
  { op: 'Create', fault: '404', outcome: 'fails', finalConnections: 0, primary: '404', reason: '404 on the collection = wrong endpoint: fails at once, nothing created; rollback Delete is a no-op' },
  { op: 'Create', fault: 'malformed JSON', outcome: 'succeeds', finalConnections: 1, primary: '200,201', reason: 'truncated 2xx body is retryable: looks up (none), POSTs again' },
  // ---- Update: PATCH /connections/{id} with If-Match (idempotent replace ops, retried by the client)
  { op: 'Update', fault: '429 + Retry-After', outcome: 'succeeds', finalConnections: 1, primary: '429,200', reason: 'throttled, not applied: PATCH repeated after Retry-After' },
  { op: 'Update', fault: '500', outcome: 'succeeds', finalConnections: 1, primary: '500,200', reason: '5xx is transient: PATCH repeated with the same etag' },
  { op: 'Update', fault: '502', outcome: 'succeeds', finalConnections: 1, primary: '502,200', reason: '5xx is transient: PATCH repeated with the same etag' },
  { op: 'Update', fault: '503', outcome: 'succeeds', finalConnections: 1, primary: '503,200', reason: '5xx is transient: PATCH repeated with the same etag' },
  { op: 'Update', fault: '504', outcome: 'succeeds', finalConnections: 1, primary: '504,200', reason: '5xx is transient: PATCH repeated with the same etag' },
  { op: 'Update', fault: 'connection reset', outcome: 'succeeds', finalConnections: 1, primary: '0,200', reason: 'network error is transient: PATCH repeated' },
  { op: 'Update', fault: 'client timeout', outcome: 'succeeds', finalConnections: 1, primary: TIMED_OUT_PATCH, reason: 'retry races the late PATCH; whichever loses gets 412, the handler re-reads the etag' },
  { op: 'Update', fault: '401 expired token', outcome: 'succeeds', finalConnections: 1, primary: '401,200', reason: 'token revoked: new IMS token, same PATCH repeated once' },
  { op: 'Update', fault: '412 stale etag', outcome: 'succeeds', finalConnections: 1, primary: '412,200', reason: 'etag changed underneath: re-GET, PATCH once more with the new etag' },
  { op: 'Update', fault: '404', outcome: 'fails', finalConnections: 1, primary: '404', reason: 'connection gone: fails naming it; rollback Update to the old props succeeds' },
  { op: 'Update', fault: '504 (applied)', outcome: 'succeeds', finalConnections: 1, primary: '504,412,200', reason: 'applied, response lost: the repeat with the old etag gets 412, the handler re-reads and PATCHes once more (idempotent replace ops)' },
  { op: 'Update', fault: 'connection reset (applied)', outcome: 'succeeds', finalConnections: 1, primary: '0,412,200', reason: 'applied, response lost: the repeat with the old etag gets 412, the handler re-reads and PATCHes once more' },
  { op: 'Update', fault: 'malformed JSON', outcome: 'succeeds', finalConnections: 1, primary: '200,200', reason: 'truncated 2xx body is retryable: PATCH repeated (not applied, same etag)' },
  // ---- Delete: DELETE /connections/{id} (idempotent, 404 = already gone)
  { op: 'Delete', fault: '429 + Retry-After', outcome: 'succeeds', finalConnections: 0, primary: '429,202', reason: 'throttled, not applied: DELETE repeated after Retry-After' },
  { op: 'Delete', fault: '500', outcome: 'succeeds', finalConnections: 0, primary: '500,202', reason: '5xx is transient: DELETE repeated' },
  { op: 'Delete', fault: '502', outcome: 'succeeds', finalConnections: 0, primary: '502,202', reason: '5xx is transient: DELETE repeated' },
  { op: 'Delete', fault: '503', outcome: 'succeeds', finalConnections: 0, primary: '503,202', reason: '5xx is transient: DELETE repeated' },
  { op: 'Delete', fault: '504', outcome: 'succeeds', finalConnections: 0, primary: '504,202', reason: '5xx is transient: DELETE repeated' },
  { op: 'Delete', fault: 'connection reset', outcome: 'succeeds', finalConnections: 0, primary: '0,202', reason: 'network error is transient: DELETE repeated' },
  { op: 'Delete', fault: 'client timeout', outcome: 'succeeds', finalConnections: 0, primary: TIMED_OUT_DELETE, reason: 'retry races the late DELETE; whichever loses gets 404 = already gone' },
  { op: 'Delete', fault: '401 expired token', outcome: 'succeeds', finalConnections: 0, primary: '401,202', reason: 'token revoked: new IMS token, same DELETE repeated once' },
  { op: 'Delete', fault: '412 stale etag', outcome: 'fails', finalConnections: 0, primary: '412', reason: 'DELETE sends no If-Match, so 412 is not a stale etag: non-retryable 4xx, DELETE_FAILED keeps it; retried Delete removes it' },
  { op: 'Delete', fault: '404', outcome: 'succeeds', finalConnections: 1, primary: '404', reason: "404 = already gone, not retried (the injected 404 is not applied, so the stand-in's record stays)" },
  { op: 'Delete', fault: '504 (applied)', outcome: 'succeeds', finalConnections: 0, primary: '504,404', reason: 'applied, response lost: the repeated DELETE gets 404 = already gone' },
  { op: 'Delete', fault: 'connection reset (applied)', outcome: 'succeeds', finalConnections: 0, primary: '0,404', reason: 'applied, response lost: the repeated DELETE gets 404 = already gone' },
  { op: 'Delete', fault: 'malformed JSON', outcome: 'succeeds', finalConnections: 0, primary: '200,202', reason: 'truncated 2xx body is retryable: DELETE repeated (not applied)' },
];

/** What one scenario did, for the printed matrix. */
interface Observed {
  readonly row: Expected;
  outcome: string;
  requests: string;
  finalConnections: string;
  eventMs: number;
  scenarioMs: number;
}

const MARKER = adoptionMarker(STACK_ID, 'Connection1');
const UPDATED_DESCRIPTION = 'Managed by CloudFormation (rotated)';
const REPORT_FILE = path.resolve(__dirname, '../../test-reports/fault-matrix.md');

let h: Harness;
let suiteStarted = 0;
const observed = new Map<Expected, Observed>();

beforeAll(async () => {
  suiteStarted = Date.now();
  h = await Harness.start(FAULT_KNOBS);
});

afterAll(async () => {
  await h?.close(); // restores console and stdout first
  const table = renderTable(Date.now() - suiteStarted);
  console.log(table);
  fs.mkdirSync(path.dirname(REPORT_FILE), { recursive: true });
  fs.writeFileSync(REPORT_FILE, table);
});

test('the matrix covers every operation × fault exactly once', () => {
  const cells = 3 * Object.keys(FAULTS).length;
  expect(EXPECTED).toHaveLength(cells);
  const keys = new Set(EXPECTED.map((e) => `${e.op} ${e.fault}`));
  expect(keys.size).toBe(cells);
  for (const op of ['Create', 'Update', 'Delete'] as const) {
    for (const fault of Object.keys(FAULTS)) expect(keys.has(`${op} ${fault}`)).toBe(true);
  }
});

describe.each(['Create', 'Update', 'Delete'] as const)('%s', (op) => {
  test.each(EXPECTED.filter((e) => e.op === op))('$fault → $outcome', async (row) => {
    await runScenario(row);
  }, SCENARIO_BUDGET_MS + 5_000);
});

async function runScenario(row: Expected): Promise<void> {
  const scenarioStarted = Date.now();
  h.reset();
  const obs: Observed = { row, outcome: 'not run', requests: '', finalConnections: '', eventMs: 0, scenarioMs: 0 };
  observed.set(row, obs);

  // ---- Setup (no faults): the connection exists for Update and Delete.
  const key = h.seedKey();
  const props = h.destinationAccessKeyProps(key);
  let id: string | undefined;
  if (row.op !== 'Create') {
    id = (await handler(cfnEvent('Create', props))).PhysicalResourceId;
    expect(h.aep.validationFailures).toEqual([]);
    expect(h.aep.connections().map((c) => c.id)).toEqual([id]);
  }
  const rotated: SeededKey | undefined = row.op === 'Update' ? h.seedKey('aep/s3-user-key-rotated') : undefined;
  const newProps = rotated && h.destinationAccessKeyProps(rotated, { [ConnectionProps.DESCRIPTION]: UPDATED_DESCRIPTION });
  h.aep.resetRecording();

  // ---- The faulted event.
  const primary = primaryRequest(row.op, id);
  h.aep.inject({ ...FAULTS[row.fault], match: primary, times: 1 });
  const event: CustomResourceEvent = row.op === 'Create' ? cfnEvent('Create', props)
    : row.op === 'Update' ? cfnEvent('Update', newProps!, { physicalId: id, oldProps: props })
      : cfnEvent('Delete', props, { physicalId: id });
  const eventStarted = Date.now();
  let response: CustomResourceResponse | undefined;
  let error: Error | undefined;
  try {
    response = await handler(event);
  } catch (err) {
    error = err as Error;
  }
  obs.eventMs = Date.now() - eventStarted;
  await settleDelayedRequests();
  const eventRequests = [...h.aep.requests];
  const primaryStatuses = eventRequests.filter((r) => r.method === primary.method && relative(r.path) === primary.path).map((r) => r.status);
  const afterEvent = h.aep.connections();
  obs.requests = `${eventRequests.length} (${primary.method}: ${primaryStatuses.join('→')})`;
  obs.outcome = error ? `failed: ${error.message}` : `succeeded (physical id ${response!.PhysicalResourceId === id ? 'unchanged' : 'new'})`;
  obs.finalConnections = String(afterEvent.length);
  expect(h.aep.validationFailures).toEqual([]);
  expect(h.aep.pendingFaults).toBe(0); // the fault really hit the primary request
  expectNoDuplicates();

  // ---- What CloudFormation does next when the event failed.
  let followUp: CustomResourceResponse | undefined;
  if (error) {
    const next = followUpEvent(row.op, event, props, newProps, id);
    try {
      followUp = await handler(next.event);
      obs.outcome += ` → ${next.label} ok`;
    } catch (err) {
      obs.outcome += ` → ${next.label} FAILED: ${(err as Error).message}`;
      throw err;
    } finally {
      obs.finalConnections = `${afterEvent.length} → ${h.aep.connections().length} after ${next.label}`;
    }
  }
  obs.scenarioMs = Date.now() - scenarioStarted;

  // ---- Assertions.
  expect({ outcome: error ? 'fails' : 'succeeds', error: error?.message }).toEqual({ outcome: row.outcome, error: row.outcome === 'fails' ? expect.any(String) : undefined });
  if (typeof row.primary === 'string') expect(primaryStatuses.join(',')).toBe(row.primary);
  else expect(primaryStatuses.join(',')).toMatch(row.primary);

  const final = h.aep.connections();
  expect(final).toHaveLength(row.finalConnections);
  expect(h.aep.validationFailures).toEqual([]);
  expectNoDuplicates();

  if (error) {
    // A clear error names the HTTP status and the operation, and never hangs (bounded below).
    const operation = `${primary.method} ${primary.path}`;
    expect(error.message).toContain(operation);
    expect(error.message).toContain(`HTTP ${FAULTS[row.fault].status}`);
  }

  switch (row.op) {
    case 'Create':
      if (error) {
        // The rollback Delete carried the request id (not an AEP id) and nothing is orphaned.
        expect(afterEvent).toHaveLength(0);
        expect(followUp!.PhysicalResourceId).toBe(event.RequestId);
      } else {
        expect(final.map((c) => c.id)).toEqual([response!.PhysicalResourceId]);
        expect(final[0].description).toContain(MARKER);
        expect(final[0].auth.params.s3AccessKey).toBe(key.accessKeyId);
        expect(eventRequests.filter((r) => r.method === 'POST' && relative(r.path) === '/connections').filter(wasApplied)).toHaveLength(1);
      }
      break;
    case 'Update': {
      expect(final.map((c) => c.id)).toEqual([id]);
      if (error) {
        // Nothing was applied, and the rollback Update restored (re-pushed) the old properties.
        expect(afterEvent.map((c) => c.id)).toEqual([id]);
        expect(error.message).toContain(id);
        expect(followUp!.PhysicalResourceId).toBe(id);
        expect(final[0].description).toBe(`Managed by CloudFormation ${MARKER}`);
        expect(final[0].auth.params.s3AccessKey).toBe(key.accessKeyId);
      } else {
        expect(response!.PhysicalResourceId).toBe(id);
        expect(final[0].description).toBe(`${UPDATED_DESCRIPTION} ${MARKER}`);
        expect(final[0].auth.params.s3AccessKey).toBe(rotated!.accessKeyId);
        expect(final[0].auth.params.s3SecretKey).toBe(rotated!.secretAccessKey);
        expect(response!.Data?.Etag).toBe(final[0].etag);
      }
      break;
    }
    case 'Delete':
      if (error) {
        // DELETE_FAILED: the connection is still in AEP; the retried Delete removed it.
        expect(afterEvent.map((c) => c.id)).toEqual([id]);
        expect(followUp!.PhysicalResourceId).toBe(id);
      } else {
        expect(response!.PhysicalResourceId).toBe(id);
      }
      break;
  }

  if (row.fault === '429 + Retry-After') expect(obs.eventMs).toBeGreaterThanOrEqual(RETRY_AFTER_SECONDS * 1000 - 50);
  if (row.minEventMs !== undefined) expect(obs.eventMs).toBeGreaterThanOrEqual(row.minEventMs);
  expect(obs.scenarioMs).toBeLessThan(SCENARIO_BUDGET_MS);
  h.expectNoSecretsIn(error?.message, error?.stack, response, followUp);
}

/** The operation's primary mutating request (path relative to the Flow Service base). */
function primaryRequest(op: Operation, id: string | undefined): { method: string; path: string } {
  switch (op) {
    case 'Create': return { method: 'POST', path: '/connections' };
    case 'Update': return { method: 'PATCH', path: `/connections/${id}` };
    case 'Delete': return { method: 'DELETE', path: `/connections/${id}` };
  }
}

/** CloudFormation's next event after `op` failed. */
function followUpEvent(
  op: Operation, failed: CustomResourceEvent, props: Record<string, unknown>, newProps: Record<string, unknown> | undefined, id: string | undefined,
): { label: string; event: CustomResourceEvent } {
  switch (op) {
    case 'Create':
      // The provider framework reports a failed Create with the request id as physical id.
      return { label: 'rollback Delete', event: cfnEvent('Delete', props, { physicalId: failed.RequestId }) };
    case 'Update':
      return { label: 'rollback Update', event: cfnEvent('Update', props, { physicalId: id, oldProps: newProps }) };
    case 'Delete':
      return { label: 'retried Delete', event: cfnEvent('Delete', props, { physicalId: id }) };
  }
}

/** Waits until every delayed request has been answered, so the state observed is final. */
async function settleDelayedRequests(): Promise<void> {
  await h.aep.settle();
}

/** At most one connection per adoption marker and per name. */
function expectNoDuplicates(): void {
  const all = h.aep.connections();
  expect(all.filter((c) => typeof c.description === 'string' && c.description.includes(MARKER)).length).toBeLessThanOrEqual(1);
  expect(all.filter((c) => c.name === 'acme-aep-s3-dest').length).toBeLessThanOrEqual(1);
}

/** A request AEP carried out: answered 2xx (a malformed body was not applied), or applied with its response lost. */
function wasApplied(r: { status: number; fault?: string; applied?: { status: number } }): boolean {
  return [200, 201].includes(r.applied?.status ?? (r.fault === 'malformed' ? 0 : r.status));
}

function relative(fullPath: string): string {
  return fullPath.replace(/^.*\/flowservice/, '');
}

function renderTable(totalMs: number): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    '## Fault matrix: `Custom::AepConnection` (S3 destination, `Access Key`)',
    '',
    `Fault injected once on the primary mutating request; HTTP timeout ${HTTP_TIMEOUT_MS} ms, delay ${DELAY_MS} ms, ` +
    `retry base ${FAULT_KNOBS.AEP_RETRY_BASE_MS} ms, ${FAULT_KNOBS.AEP_RETRY_MAX_ATTEMPTS} attempts. ` +
    '"AEP requests" counts every IMS + Flow Service request of the faulted event (statuses of the primary request in brackets, 0 = reset). ' +
    'Final connections: after the event, then after CloudFormation\'s follow-up when the event failed.',
    '',
    '| operation | fault | expected | observed outcome | AEP requests | final connections | time ms |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of EXPECTED) {
    const o = observed.get(row);
    lines.push(`| ${[
      row.op,
      row.fault,
      `${row.outcome}, ${row.finalConnections} left: ${row.reason}`,
      o?.outcome ?? 'not run',
      o?.requests ?? '',
      o?.finalConnections ?? '',
      o ? String(o.eventMs) : '',
    ].map(cell).join(' | ')} |`);
  }
  lines.push('', `Suite wall time: ${totalMs} ms (${observed.size} scenarios run).`, '');
  return lines.join('\n');
}
