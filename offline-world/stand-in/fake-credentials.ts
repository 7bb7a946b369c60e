/**
 * Realistic-looking fake AWS credentials. They have the exact shape of real ones (so Adobe's
 * `^[A-Z2-7]{20}$` / `^[A-Za-z0-9/+]{40}$` patterns and the SDK accept them) but were never
 * issued by AWS. Pass a seed for deterministic values (stable snapshots, reproducible failures).
 */
import { createHash, randomBytes } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+';

/** An access key id: `prefix` (AKIA = long-term, ASIA = temporary) + 16 chars of [A-Z2-7]. */
export function fakeAccessKeyId(prefix = 'AKIA', seed?: string): string {
  return prefix + pick(BASE32, 20 - prefix.length, bytes(20, seed, 'access-key-id'));
}

/** A 40-character secret access key of [A-Za-z0-9/+]. */
export function fakeSecretAccessKey(seed?: string): string {
  return pick(SECRET_ALPHABET, 40, bytes(40, seed, 'secret-access-key'));
}

/** A long opaque session token, shaped like STS ones (base64, several hundred chars). */
export function fakeSessionToken(seed?: string): string {
  return 'IQoJb3JpZ2luX2VjE' + Buffer.from(bytes(240, seed, 'session-token')).toString('base64');
}

/** `n` bytes: random, or derived from `seed` by hashing (SHA-256 in counter mode). */
function bytes(n: number, seed: string | undefined, purpose: string): Buffer {
  if (seed === undefined) {
    return randomBytes(n);
  }
  const chunks: Buffer[] = [];
  for (let i = 0; chunks.length * 32 < n; i++) {
    chunks.push(createHash('sha256').update(`${purpose}:${seed}:${i}`).digest());
  }
  return Buffer.concat(chunks).subarray(0, n);
}

function pick(alphabet: string, length: number, source: Buffer): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out += alphabet[source[i] % alphabet.length];
  }
  return out;
}
