// Binary formats (packet headers, CRC-24) are defined in bits; arithmetic stand-ins would only
// obscure the RFC text they implement.
/* eslint-disable no-bitwise */

/**
 * A deliberately small OpenPGP reader: just enough to tell, at synth time, whether a string is
 * an ASCII-armored public key block whose primary key is RSA (what AEP documents for file
 * encryption). It does not verify signatures or parse subkeys; a wrong key should
 * fail `cdk synth` with a clear message instead of failing an export weeks later.
 *
 * References: RFC 4880 §6 (armor, CRC24), §4.2 (packet headers), §5.5.2 (v4 public keys);
 * RFC 9580 §5.5.2 (v6 keys, which share the v5 layout for the fields read here).
 */

const BEGIN_PUBLIC = '-----BEGIN PGP PUBLIC KEY BLOCK-----';
const END_PUBLIC = '-----END PGP PUBLIC KEY BLOCK-----';
const ARMOR_LINE = /^-----(BEGIN|END) PGP ([A-Z0-9 ,/]+)-----$/;
const ARMOR_HEADER = /^[\x21-\x39\x3b-\x7e]+: .*$/;
const BASE64_LINE = /^[A-Za-z0-9+/]*={0,2}$/;
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** OpenPGP packet tags we name in errors (RFC 9580 §5). */
const TAG_PUBLIC_KEY = 6;
const TAG_SECRET_KEY = 5;

/** Public-key algorithm ids (RFC 9580 §9.1); 1, 2 and 3 are the RSA variants. */
const RSA_ALGORITHMS = new Set([1, 2, 3]);
const ALGORITHM_NAMES: Record<number, string> = {
  1: 'RSA',
  2: 'RSA (encrypt-only)',
  3: 'RSA (sign-only)',
  16: 'Elgamal',
  17: 'DSA',
  18: 'ECDH (elliptic curve)',
  19: 'ECDSA (elliptic curve)',
  22: 'EdDSA (elliptic curve, legacy Ed25519)',
  25: 'X25519 (elliptic curve)',
  26: 'X448 (elliptic curve)',
  27: 'Ed25519 (elliptic curve)',
  28: 'Ed448 (elliptic curve)',
};

/** RSA moduli below this are factorable with public effort; no export should use them. */
export const MIN_RSA_BITS = 2048;

/** What the reader learned about a key block. */
export interface PgpPublicKeyInfo {
  /** Key packet version (4, 5 or 6). */
  readonly version: number;
  /** Public-key algorithm id of the primary key (1, 2 or 3). */
  readonly algorithm: number;
  /** RSA modulus length in bits. */
  readonly rsaBits: number;
}

/** Thrown with a rule (no value): the caller adds property and value. */
export class PgpKeyError extends Error {}

function fail(rule: string): never {
  throw new PgpKeyError(rule);
}

/** Decodes base64 strictly (Node's decoder silently skips junk); `rule` completes "the key …" on failure. */
export function decodeBase64Strict(text: string, rule: string): Buffer {
  if (!STRICT_BASE64.test(text)) fail(rule);
  return Buffer.from(text, 'base64');
}

/** CRC-24 of RFC 4880 §6.1 (the optional armor checksum). */
export function crc24(data: Uint8Array): number {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

/**
 * Parses an ASCII-armored public key block and returns its binary packets.
 * Accepts `\n` and `\r\n`, optional armor headers, and an optional CRC-24 line (RFC 9580 stopped
 * emitting it, RFC 4880 tools still do; when present it must match).
 */
export function dearmorPublicKey(armored: string): Buffer {
  const lines = armored.replace(/\r\n?/g, '\n').split('\n').map((l) => l.replace(/[ \t]+$/, ''));
  while (lines.length > 0 && lines[0] === '') lines.shift();
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) fail('is empty');

  const begin = ARMOR_LINE.exec(lines[0]);
  if (!begin || begin[1] !== 'BEGIN') {
    fail(`must start with "${BEGIN_PUBLIC}" (export the key with \`gpg --armor --export <key-id>\`)`);
  }
  if (begin[2].includes('PRIVATE')) {
    fail('is a PGP PRIVATE key block: use the PUBLIC key (`gpg --armor --export <key-id>`) and keep the private key out of your code');
  }
  if (lines[0] !== BEGIN_PUBLIC) fail(`is a "PGP ${begin[2]}" block, not a "PGP PUBLIC KEY BLOCK"`);
  if (lines[lines.length - 1] !== END_PUBLIC) fail(`must end with "${END_PUBLIC}" (the armored block is truncated or has trailing text)`);

  let i = 1;
  const last = lines.length - 1;
  while (i < last && ARMOR_HEADER.test(lines[i])) i++;
  while (i < last && lines[i] === '') i++;

  let body = '';
  let checksum: string | undefined;
  for (; i < last; i++) {
    const line = lines[i];
    if (line.startsWith('=') && line.length === 5) {
      if (i !== last - 1) fail('has text after its CRC-24 checksum line');
      checksum = line.substring(1);
      continue;
    }
    if (!BASE64_LINE.test(line)) fail(`has a body line that is not base64: ${JSON.stringify(line.substring(0, 24))}`);
    body += line;
  }
  if (body === '') fail('has an empty body');
  const data = decodeBase64Strict(body, 'has an armored body that is not valid base64');
  if (checksum !== undefined) {
    const expected = decodeBase64Strict(checksum, 'has a CRC-24 checksum line that is not valid base64');
    const actual = crc24(data);
    if (expected.length !== 3 || expected.readUIntBE(0, 3) !== actual) fail('has a CRC-24 checksum that does not match its body (the key was altered or truncated)');
  }
  return data;
}

/** Reads the first packet of a key block and checks it is a v4/v5/v6 RSA public key. */
export function inspectPublicKeyPackets(data: Uint8Array): PgpPublicKeyInfo {
  if (data.length < 2) fail('is too short to hold an OpenPGP packet');
  const first = data[0];
  if ((first & 0x80) === 0) fail('does not start with an OpenPGP packet header');

  let tag: number;
  let offset: number;
  let length: number;
  if (first & 0x40) {
    // New-format header (RFC 9580 §4.2.1).
    tag = first & 0x3f;
    const l0 = data[1];
    if (l0 < 192) {
      length = l0;
      offset = 2;
    } else if (l0 < 224) {
      if (data.length < 3) fail('has a truncated packet header');
      length = ((l0 - 192) << 8) + data[2] + 192;
      offset = 3;
    } else if (l0 === 255) {
      if (data.length < 6) fail('has a truncated packet header');
      length = Buffer.from(data.subarray(2, 6)).readUInt32BE(0);
      offset = 6;
    } else {
      fail('uses a partial body length, which key packets may not use');
    }
  } else {
    // Legacy header (RFC 9580 §4.2.2): tag in bits 5-2, length type in bits 1-0.
    tag = (first >> 2) & 0x0f;
    const lengthType = first & 0x03;
    if (lengthType === 3) fail('uses an indeterminate packet length, which key packets may not use');
    const size = [1, 2, 4][lengthType];
    if (data.length < 1 + size) fail('has a truncated packet header');
    length = Buffer.from(data.subarray(1, 1 + size)).readUIntBE(0, size);
    offset = 1 + size;
  }

  if (tag === TAG_SECRET_KEY) fail('contains a secret (private) key packet: use the public key only');
  if (tag !== TAG_PUBLIC_KEY) fail(`must start with a public-key packet (tag 6), found packet tag ${tag}`);
  if (offset + length > data.length) fail('has a public-key packet longer than the data (truncated key)');
  const packet = data.subarray(offset, offset + length);

  const version = packet[0];
  if (version !== 4 && version !== 5 && version !== 6) {
    fail(`must be an OpenPGP version 4, 5 or 6 key, found version ${version}`);
  }
  // v4: version(1) created(4) algorithm(1) material; v5/v6 add a 4-octet material length.
  const algorithm = packet[5];
  if (algorithm === undefined) fail('has a truncated public-key packet');
  if (!RSA_ALGORITHMS.has(algorithm)) {
    const name = ALGORITHM_NAMES[algorithm] ?? `algorithm id ${algorithm}`;
    fail(`must have an RSA primary key (algorithm 1, 2 or 3): found ${name}; AEP documents RSA keys only (generate one with \`gpg --full-generate-key\`, kind "RSA and RSA")`);
  }
  const material = version === 4 ? 6 : 10;
  // RSA material starts with the modulus n as an MPI: 2-octet bit count, then the bytes.
  if (packet.length < material + 2) fail('has a truncated RSA key');
  const rsaBits = (packet[material] << 8) | packet[material + 1];
  if (packet.length < material + 2 + Math.ceil(rsaBits / 8)) fail('has a truncated RSA modulus');
  if (rsaBits < MIN_RSA_BITS) fail(`must have an RSA modulus of at least ${MIN_RSA_BITS} bits, found ${rsaBits}`);
  return { version, algorithm, rsaBits };
}

/**
 * Validates the value AEP receives as `publicKey`: base64 of an ASCII-armored OpenPGP public key
 * block with an RSA primary key. Whitespace (line wrapping by `base64`) is ignored; returns the
 * normalized single-line base64 and what was learned about the key.
 */
export function parseBase64ArmoredRsaPublicKey(value: string): { readonly base64: string; readonly info: PgpPublicKeyInfo } {
  const base64 = value.replace(/\s+/g, '');
  if (base64 === '') fail('must not be empty');
  if (base64.startsWith('-----BEGIN')) {
    fail('is raw armored text: pass base64 of the armored block (`base64 -w0 key.asc`) or use FileEncryption.pgpFromFile()');
  }
  const decoded = decodeBase64Strict(base64, 'is not valid base64').toString('utf8');
  if (!decoded.trimStart().startsWith('-----BEGIN PGP')) {
    fail(`must be base64 of an ASCII-armored key starting with "${BEGIN_PUBLIC}" (binary keys are not accepted: export with \`gpg --armor --export\`)`);
  }
  const info = inspectPublicKeyPackets(dearmorPublicKey(decoded));
  return { base64, info };
}

/** Validates armored text (e.g. an `.asc` file) and returns its base64 encoding for AEP. */
export function encodeArmoredRsaPublicKey(armored: string): { readonly base64: string; readonly info: PgpPublicKeyInfo } {
  // A UTF-8 byte-order mark (some editors add one) is not part of the armor.
  const text = armored.replace(/^\uFEFF/, '');
  const info = inspectPublicKeyPackets(dearmorPublicKey(text));
  return { base64: Buffer.from(text, 'utf8').toString('base64'), info };
}
