/**
 * Redaction for everything the stand-ins record or log. Recordings end up in test failure output
 * and CI logs, so they must never contain a secret, even a fake one: a test that prints a
 * recorded request proves nothing if it also prints the key it was meant to protect.
 */

/** What a redacted value is replaced with. */
export const REDACTED = '<redacted>';

/** What a secret auth param reads as on `GET` (Flow Service only returns a partial view, API-NOTES §3.2/§9.11). */
export const MASKED = '***';

/**
 * Keys whose values are secret wherever they appear: S3 auth params whose auth-spec definition
 * is `format: password` (API-NOTES §5.2) or that are credentials in their own right, IMS fields,
 * and AWS credential fields.
 */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  's3SecretKey',
  's3SessionToken',
  's3Role',
  'client_secret',
  'clientSecret',
  'access_token',
  'SecretAccessKey',
  'secretAccessKey',
  'SessionToken',
  'sessionToken',
  'SecretString',
]);

/** The auth params Flow Service masks on read. */
export const MASKED_AUTH_PARAMS: ReadonlySet<string> = new Set(['s3SecretKey', 's3SessionToken', 's3Role']);

/** A deep copy of `value` with every {@link SECRET_KEYS} entry replaced by {@link REDACTED}. */
export function redactDeep(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map((item) => (isPatchOp(item) ? redactPatchOp(item) : redactDeep(item)));
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      out[key] = SECRET_KEYS.has(key) && inner !== undefined && inner !== null ? REDACTED : redactDeep(inner);
    }
    return out;
  }
  return value;
}

/** Request headers safe to record: bearer tokens, AWS signatures and session tokens are removed. */
export function redactHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) {
      continue;
    }
    const text = Array.isArray(value) ? value.join(', ') : value;
    const lower = name.toLowerCase();
    if (lower === 'authorization') {
      // Keep the scheme (tests assert "Bearer" vs SigV4) but never the credential.
      out[lower] = `${text.split(' ')[0]} ${REDACTED}`;
    } else if (lower === 'x-amz-security-token' || lower === 'cookie') {
      out[lower] = REDACTED;
    } else {
      out[lower] = text;
    }
  }
  return out;
}

/** Redacts a log line or message that may embed secret values we know about. */
export function redactText(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) {
      out = out.split(secret).join(REDACTED);
    }
  }
  return out;
}

interface PatchOpLike {
  op: unknown;
  path: string;
  value?: unknown;
}

function isPatchOp(item: unknown): item is PatchOpLike {
  return !!item && typeof item === 'object' && 'op' in item && typeof (item as PatchOpLike).path === 'string';
}

/**
 * A JSON Patch op names the secret in its `path` (`/auth/params/s3SecretKey`), not in a key, so
 * it needs its own rule; a whole-object value (`/auth/params` → `{...}`) is redacted deeply.
 */
function redactPatchOp(op: PatchOpLike): unknown {
  const last = op.path.split('/').pop() ?? '';
  if (!('value' in op)) {
    return { ...op };
  }
  return { ...op, value: SECRET_KEYS.has(last) ? REDACTED : redactDeep(op.value) };
}
