/**
 * Structured JSON logging with a redactor.
 *
 * Every secret value the handler reads (client secret, AWS secret keys, session tokens, bearer
 * tokens, role ARNs marked as passwords) is registered here first, and every log line and every
 * error message that leaves the Lambda goes through {@link redact}. That makes "no secret in a
 * log line" a property of the plumbing rather than of each call site.
 */

/** Placeholder that replaces a secret value. */
export const REDACTED = '***';

// Shorter values would mangle unrelated text (and no real credential is that short).
const MIN_SECRET_LENGTH = 4;

const secrets = new Set<string>();

/**
 * Length of the shortest piece of a secret that is hidden on its own: a server may echo a
 * shortened or partial secret (a validation message quoting its first characters), and such a
 * piece must not leak either.
 */
export const SECRET_PIECE_LENGTH = 8;

/** Every {@link SECRET_PIECE_LENGTH}-character window of every registered secret. */
const pieces = new Set<string>();

/** Remembers a secret value so that {@link redact} hides it for the rest of the invocation. */
export function registerSecret(value: unknown): void {
  if (typeof value === 'string' && value.length >= MIN_SECRET_LENGTH) {
    secrets.add(value);
    // A value may also appear JSON- or URL-escaped in a body echoed back by a server.
    secrets.add(JSON.stringify(value).slice(1, -1));
    secrets.add(encodeURIComponent(value));
    // application/x-www-form-urlencoded (the IMS token request) encodes differently.
    secrets.add(new URLSearchParams({ v: value }).toString().substring(2));
    // An ARN-shaped secret (s3Role) shares its pieces with every public ARN (`arn:aws:`, the
    // account id): its resource name is what identifies it.
    const identifying = value.startsWith('arn:') ? value.split(/[:/]/).pop() ?? '' : value;
    for (let i = 0; i + SECRET_PIECE_LENGTH <= identifying.length; i++) pieces.add(identifying.substring(i, i + SECRET_PIECE_LENGTH));
  }
}

/** Forgets the secrets of the previous invocation (a warm container serves many). */
export function resetSecrets(): void {
  secrets.clear();
  pieces.clear();
}

/** Replaces every registered secret value in `text` with {@link REDACTED}. */
export function redact(text: string): string {
  let out = text;
  // Longest first, so a secret that contains another one is replaced whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join(REDACTED);
  }
  return pieces.size ? redactPieces(out) : out;
}

/** Masks every run of text covered by windows that are pieces of a registered secret. */
function redactPieces(text: string): string {
  const covered = new Uint8Array(text.length);
  let any = false;
  for (let i = 0; i + SECRET_PIECE_LENGTH <= text.length; i++) {
    if (pieces.has(text.substring(i, i + SECRET_PIECE_LENGTH))) {
      covered.fill(1, i, i + SECRET_PIECE_LENGTH);
      any = true;
    }
  }
  if (!any) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (!covered[i]) out += text[i];
    else if (i === 0 || !covered[i - 1]) out += REDACTED;
  }
  return out;
}

/** Log levels (`error` lines also go to stdout: Lambda ships both streams to the same log group). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Writes one JSON log line.
 *
 * Writes to `process.stdout` rather than `console.log`: the Lambda runtime prefixes console
 * output with a timestamp and request id, which would break JSON parsing and EMF metrics.
 */
export function log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
  writeLine({ level, message, ...fields });
}

let sink: (line: string) => void = (line) => process.stdout.write(line);

/**
 * Where log lines go (default stdout, which Lambda ships to CloudWatch). The doctor command sends
 * them to stderr or nowhere: its stdout is the report.
 */
export function setLogSink(write: (line: string) => void): void {
  sink = write;
}

/** Writes an already-structured record (e.g. an Embedded Metric Format document) as one line. */
export function writeLine(record: Record<string, unknown>): void {
  sink(redact(JSON.stringify(record)) + '\n');
}

/** A message for any thrown value, redacted. Never serializes the error object (axios errors carry headers). */
export function errorMessage(err: unknown): string {
  return redact(err instanceof Error ? err.message : String(err));
}
