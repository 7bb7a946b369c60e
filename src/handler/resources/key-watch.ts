import { S3Params, temporaryParams } from './auth-params';
import { type FlowItem, getExistingItem, patchItem } from './flow-resource';
import { AepClient } from '../../aep/aep-client';
import { readConnectionSpec, replaceableParams } from '../../aep/connection-specs';
import { type AwsKey, waitUntilKeyWorks } from '../../aws/aws-keys';
import { type AccessKeyMetadata, createAccessKey, deleteAccessKey, listAccessKeys } from '../../aws/iam-keys';
import { putJsonSecret, readJsonSecret } from '../../aws/secrets';
import { type Invocation, operationDeadline } from '../../plumbing/config';
import { errorMessage, log, registerSecret, writeLine } from '../../plumbing/log';
import { optionalInt, type RawProps, requireString, stringMap } from '../../plumbing/props';
import { AWS_ACCESS_KEY_ID_PATTERN, KeyWatchKeys, KeyWatchMetric } from '../../private/contract';

const DAY_MS = 86_400_000;

/** What one run of the key watch did. */
export interface KeyWatchResult {
  /** The key the library secret (and AEP) holds after the run. */
  readonly accessKeyId: string;
  /** Age in days of the oldest active key left (the metric's value). */
  readonly ageDays: number;
  /** Whether this run replaced the key. */
  readonly rotated: boolean;
  /** Keys deleted by this run (the replaced one, leftovers of an interrupted run). */
  readonly deleted: string[];
}

/**
 * One run of the key watch of a library-made IAM user (scheduled, twice a day): reads the user's
 * keys from IAM (the key may have been rotated outside the stack, so the template's key is not
 * the truth), publishes the age of the oldest active key, and, when rotation is on and the key
 * is due, rotates it:
 *
 * new key (proven with STS) → library secret → `PATCH` of the AEP connection with `If-Match`
 * (412 → re-read, retry once) → read back: AEP holds the new key id → delete the old key.
 *
 * Every step keeps AEP working. The old key is deleted only after AEP was read holding the new
 * one. When the PATCH fails and AEP is read still holding the old key, the secret is restored and
 * the new key deleted. When AEP cannot be read at all, both keys stay (both work) and the next
 * run finishes the rotation: a user with two keys, one of them in the secret, is an interrupted
 * rotation, and the run makes AEP hold the secret's key before it deletes the other.
 */
export async function watchAccessKey(target: RawProps, invocation: Invocation): Promise<KeyWatchResult> {
  const name = requireString(target, KeyWatchKeys.NAME);
  const userName = requireString(target, KeyWatchKeys.USER_NAME);
  const rotateAfterSeconds = optionalInt(target, KeyWatchKeys.ROTATE_AFTER_SECONDS);
  let keys = await listAccessKeys(userName, invocation);
  if (rotateAfterSeconds === undefined) {
    const ageDays = oldestAgeDays(keys);
    emitAge(name, ageDays);
    return { accessKeyId: keys[keys.length - 1]?.accessKeyId ?? '', ageDays, rotated: false, deleted: [] };
  }
  try {
    const result = await rotateIfDue(target, invocation, keys, rotateAfterSeconds * 1000);
    keys = await listAccessKeys(userName, invocation);
    const ageDays = oldestAgeDays(keys);
    emitAge(name, ageDays);
    emitRotation(name, 1);
    return { ...result, ageDays };
  } catch (err) {
    // The age is still worth publishing: the alarm on it must not go quiet because rotation broke.
    try {
      emitAge(name, oldestAgeDays(await listAccessKeys(userName, invocation)));
    } catch (listErr) {
      log('warn', 'could not read the key age after the failure', { error: errorMessage(listErr) });
    }
    emitRotation(name, 0);
    throw err;
  }
}

interface Context {
  readonly client: AepClient;
  readonly invocation: Invocation;
  readonly userName: string;
  readonly connectionId: string;
  readonly specId: string;
  readonly secretArn: string;
  readonly idField: string;
  readonly secretField: string;
  readonly sessionSeconds?: number;
}

async function rotateIfDue(target: RawProps, invocation: Invocation, keys: AccessKeyMetadata[], rotateAfterMs: number): Promise<Omit<KeyWatchResult, 'ageDays'>> {
  const fields = stringMap(target, KeyWatchKeys.AUTH_SECRET_FIELDS);
  const ctx: Context = {
    client: await AepClient.fromProps(target, invocation),
    invocation,
    userName: requireString(target, KeyWatchKeys.USER_NAME),
    connectionId: requireString(target, KeyWatchKeys.CONNECTION_ID),
    specId: requireString(target, KeyWatchKeys.CONNECTION_SPEC_ID),
    secretArn: requireString(target, KeyWatchKeys.AUTH_SECRET_ARN),
    idField: fields[S3Params.ACCESS_KEY] ?? 'accessKeyId',
    secretField: fields[S3Params.SECRET_KEY] ?? 'secretAccessKey',
    sessionSeconds: optionalInt(target, KeyWatchKeys.SESSION_TOKEN_DURATION),
  };
  const stored = await readJsonSecret(ctx.secretArn);
  const storedKey = keyIn(stored, ctx);
  const inIam = storedKey && keys.find((k) => k.accessKeyId === storedKey.accessKeyId);
  const deleted: string[] = [];

  if (storedKey && inIam && keys.length > 1) {
    // An interrupted rotation (or a key made outside the library): AEP must hold the secret's key
    // before the other one goes.
    log('warn', 'the user has another key beside the one in the library secret; making AEP hold the secret\'s key, then deleting the other', {
      userName: ctx.userName, keep: storedKey.accessKeyId, others: keys.filter((k) => k !== inIam).map((k) => k.accessKeyId),
    });
    await pushAndVerify(ctx, storedKey);
    for (const k of keys) {
      if (k.accessKeyId === storedKey.accessKeyId) continue;
      await deleteAccessKey(ctx.userName, k.accessKeyId, invocation);
      deleted.push(k.accessKeyId);
    }
    keys = [inIam];
  } else if (!inIam && keys.length > 1) {
    // The secret holds no live key (CloudFormation wrote an old value back?) and the user is at
    // IAM's limit: only AEP's own key may stay, which a read tells for long-term keys.
    const held = heldKeyId(await getExistingItem(ctx.client, '/connections', ctx.connectionId));
    const stray = keys.filter((k) => k.accessKeyId !== held);
    if (stray.length === keys.length) {
      throw new Error(`IAM user ${ctx.userName} has ${keys.length} access keys (${keys.map((k) => k.accessKeyId).join(', ')}), none of them in the library secret `
        + 'nor known to be the one AEP holds, so none can be deleted safely and no new key can be created (IAM allows 2 per user). '
        + 'Delete the key AEP does not use (IAM console) and the next run rotates.');
    }
    for (const k of stray) {
      await deleteAccessKey(ctx.userName, k.accessKeyId, invocation);
      deleted.push(k.accessKeyId);
    }
    keys = keys.filter((k) => k.accessKeyId === held);
  }

  const current = storedKey && keys.find((k) => k.accessKeyId === storedKey.accessKeyId);
  const due = !current || Date.now() - current.createDate >= rotateAfterMs;
  if (!due) return { accessKeyId: storedKey!.accessKeyId, rotated: false, deleted };
  if (!current) log('warn', 'the library secret holds no live key of the user; rotating now', { userName: ctx.userName });

  const fresh = await createAccessKey(ctx.userName, invocation).catch((err: unknown) => {
    if ((err as { code?: string }).code === 'LimitExceeded') {
      throw new Error(`IAM refused a new access key for user ${ctx.userName}: ${errorMessage(err)}. The user already has IAM's 2 keys `
        + `(${keys.map((k) => k.accessKeyId).join(', ')}); nothing was changed. Delete the key AEP does not use and the next run rotates.`);
    }
    throw err;
  });
  const newKey: AwsKey = { accessKeyId: fresh.accessKeyId, secretAccessKey: fresh.secretAccessKey };
  log('info', 'created a new access key', { userName: ctx.userName, accessKeyId: newKey.accessKeyId });
  const dropNewKey = async (why: string): Promise<void> => {
    log('warn', `deleting the new key: ${why}`, { accessKeyId: newKey.accessKeyId });
    await deleteAccessKey(ctx.userName, newKey.accessKeyId, invocation);
  };
  try {
    await waitUntilKeyWorks(newKey, {
      intervalMs: invocation.config.keyProbeIntervalMs,
      deadline: operationDeadline(invocation, invocation.config.keyProbeDeadlineMs),
    });
  } catch (err) {
    await dropNewKey('STS never accepted it');
    throw err;
  }
  await putJsonSecret(ctx.secretArn, { ...stringFields(stored), [ctx.idField]: newKey.accessKeyId, [ctx.secretField]: newKey.secretAccessKey });

  const sent: { accessKeyId?: string } = {};
  try {
    await push(ctx, newKey, sent);
  } catch (err) {
    // Did AEP take it anyway (the answer was lost)? Its read decides; unreadable → keep both keys.
    let held: string | undefined;
    try {
      held = heldKeyId(await getExistingItem(ctx.client, '/connections', ctx.connectionId));
    } catch (readErr) {
      log('error', 'the PATCH failed and AEP cannot be read: both keys stay (both work); the next run finishes the rotation', {
        error: errorMessage(readErr),
      });
      throw err;
    }
    if (sent.accessKeyId === undefined || held !== sent.accessKeyId) {
      // AEP still holds the old key (or session credentials made from it): undo.
      await putJsonSecret(ctx.secretArn, stringFields(stored));
      await dropNewKey(`AEP did not take it (${errorMessage(err)})`);
      throw err;
    }
    log('warn', 'the PATCH failed but AEP reads back with the new key: carrying on', { error: errorMessage(err) });
  }
  await verifyHeld(ctx, sent.accessKeyId!);
  for (const k of keys) {
    await deleteAccessKey(ctx.userName, k.accessKeyId, invocation);
    deleted.push(k.accessKeyId);
  }
  log('info', 'access key rotated', { userName: ctx.userName, connectionId: ctx.connectionId, accessKeyId: newKey.accessKeyId, deleted });
  return { accessKeyId: newKey.accessKeyId, rotated: true, deleted };
}

/** PATCHes AEP with `key` (or session credentials made from it); `sent` gets the key id before the PATCH goes out. */
async function push(ctx: Context, key: AwsKey, sent: { accessKeyId?: string } = {}): Promise<string> {
  const live = await readConnectionSpec(ctx.client, ctx.specId);
  const wanted = ctx.sessionSeconds !== undefined
    ? [S3Params.ACCESS_KEY, S3Params.SECRET_KEY, S3Params.SESSION_TOKEN]
    : [S3Params.ACCESS_KEY, S3Params.SECRET_KEY];
  const replaced = replaceableParams(live, 'Access Key', wanted);
  if (!replaced.includes(S3Params.ACCESS_KEY) || !replaced.includes(S3Params.SECRET_KEY)) {
    throw new Error(`AEP's live 'Access Key' auth spec of ${ctx.specId} does not let '${S3Params.ACCESS_KEY}' and '${S3Params.SECRET_KEY}' be replaced, so the key cannot be rotated in place`);
  }
  const params: Record<string, string> = ctx.sessionSeconds !== undefined
    ? await temporaryParams(key, ctx.sessionSeconds)
    : { [S3Params.ACCESS_KEY]: key.accessKeyId, [S3Params.SECRET_KEY]: key.secretAccessKey };
  sent.accessKeyId = params[S3Params.ACCESS_KEY];
  await patchItem(ctx.client, '/connections', ctx.connectionId,
    replaced.map((param) => ({ op: 'replace', path: `/auth/params/${param}`, value: params[param] })));
  return params[S3Params.ACCESS_KEY];
}

/** Makes AEP hold `key` (an interrupted rotation): PATCH unless a read shows it already does. */
async function pushAndVerify(ctx: Context, key: AwsKey): Promise<void> {
  if (ctx.sessionSeconds === undefined && heldKeyId(await getExistingItem(ctx.client, '/connections', ctx.connectionId)) === key.accessKeyId) return;
  await verifyHeld(ctx, await push(ctx, key));
}

/** Reads the connection back: AEP must hold the key id just sent (the secret half is masked). */
async function verifyHeld(ctx: Context, accessKeyId: string): Promise<void> {
  const held = heldKeyId(await getExistingItem(ctx.client, '/connections', ctx.connectionId));
  if (held !== accessKeyId) {
    throw new Error(`AEP connection ${ctx.connectionId} reads back with access key ${held ?? '(none)'} after the PATCH with ${accessKeyId}; `
      + 'no key was deleted');
  }
}

function heldKeyId(item: FlowItem): string | undefined {
  const held = ((item.auth as { params?: Record<string, unknown> } | undefined)?.params ?? {})[S3Params.ACCESS_KEY];
  return typeof held === 'string' && AWS_ACCESS_KEY_ID_PATTERN.test(held) ? held : undefined;
}

function keyIn(secret: Record<string, unknown>, ctx: Context): AwsKey | undefined {
  const accessKeyId = secret[ctx.idField];
  const secretAccessKey = secret[ctx.secretField];
  if (typeof secretAccessKey === 'string') registerSecret(secretAccessKey);
  if (typeof accessKeyId !== 'string' || !AWS_ACCESS_KEY_ID_PATTERN.test(accessKeyId) || typeof secretAccessKey !== 'string' || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey };
}

function stringFields(secret: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(secret).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function oldestAgeDays(keys: AccessKeyMetadata[]): number {
  const active = keys.filter((k) => k.status === 'Active');
  if (!active.length) return 0;
  const oldest = Math.min(...active.map((k) => k.createDate));
  return Math.round(((Date.now() - oldest) / DAY_MS) * 100) / 100;
}

function emitAge(connectionName: string, days: number): void {
  emit(connectionName, KeyWatchMetric.AGE, days, 'None');
}

function emitRotation(connectionName: string, value: 0 | 1): void {
  emit(connectionName, KeyWatchMetric.ROTATION, value, 'Count');
}

/** One CloudWatch Embedded Metric Format line (no API call, no cloudwatch:PutMetricData grant). */
function emit(connectionName: string, metric: string, value: number, unit: string): void {
  writeLine({
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [{ Namespace: KeyWatchMetric.NAMESPACE, Dimensions: [[KeyWatchMetric.DIMENSION]], Metrics: [{ Name: metric, Unit: unit }] }],
    },
    [KeyWatchMetric.DIMENSION]: connectionName,
    [metric]: value,
  });
}
