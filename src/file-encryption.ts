import * as fs from 'fs';
import { Token } from 'aws-cdk-lib';
import type { ConnectionEncryption } from './aep-connection';
import { encodeArmoredRsaPublicKey, parseBase64ArmoredRsaPublicKey, PgpKeyError } from './private/pgp';
import { invalid, truncateForMessage } from './private/validation';

/**
 * The single place that knows AEP's wire shape for destination file encryption.
 *
 * Adobe documents two shapes and has not said which one is current. We send shape 1 (top-level
 * `encryption`, spec name `File Encryption`, algorithm `PGP/GPG`): it is what the current
 * tutorial sends and what every stored connection in the migration guide shows, including
 * connections of the current `4fce964d…` spec. Shape 2 (`encryptionSpecs` / `Encryption spec` /
 * `PGPGPG`) comes from an older tutorial revision and the stale destinations.yaml. If a sandbox
 * proves otherwise, change this function (and the handler's top-level key, see
 * `ConnectionProps.ENCRYPTION` in src/private/contract.ts) and nothing else.
 */
function aepFileEncryptionBlock(publicKeyBase64: string): ConnectionEncryption {
  return {
    specName: 'File Encryption',
    params: { encryptionAlgo: 'PGP/GPG', publicKey: publicKeyBase64 },
  };
}

/**
 * PGP encryption of the files AEP writes to the bucket.
 *
 * AEP documents RSA OpenPGP keys only. The key is checked at synth time: it must be an
 * ASCII-armored `PGP PUBLIC KEY BLOCK` whose primary key is RSA (at least 2048 bits), and AEP
 * receives the base64 encoding of the whole armored block (the connection spec's `publicKey` is a
 * "Base64 encoded RSA public key"; whether AEP also accepts raw armored text is undocumented).
 */
export class FileEncryption {
  /**
   * Encrypt with a public key given as base64 of the ASCII-armored block
   * (e.g. `base64 -w0 key.asc`). Line breaks in the base64 text are ignored.
   *
   * A token (e.g. an SSM parameter resolved at deploy time) is passed through unchecked.
   *
   * @param publicKeyBase64 base64 of `-----BEGIN PGP PUBLIC KEY BLOCK----- … -----END PGP PUBLIC KEY BLOCK-----`
   */
  public static pgp(publicKeyBase64: string): FileEncryption {
    if (Token.isUnresolved(publicKeyBase64)) return new FileEncryption(publicKeyBase64);
    try {
      return new FileEncryption(parseBase64ArmoredRsaPublicKey(publicKeyBase64).base64);
    } catch (e) {
      if (e instanceof PgpKeyError) {
        return invalid('encryption.publicKey', truncateForMessage(publicKeyBase64), `must be base64 of an ASCII-armored OpenPGP RSA public key block; this value ${e.message}`);
      }
      throw e;
    }
  }

  /**
   * Encrypt with the ASCII-armored public key in a file (e.g. `exports-key.asc` from
   * `gpg --armor --export <key-id>`), read at synth time and base64-encoded for AEP.
   *
   * @param path path of the `.asc` file, relative to the working directory of `cdk synth`
   */
  public static pgpFromFile(path: string): FileEncryption {
    let text: string;
    try {
      // CRLF vs LF checkouts must give the same template (and no spurious AEP update).
      text = fs.readFileSync(path, 'utf8').replace(/\r\n/g, '\n');
    } catch (e) {
      return invalid('encryption.path', path, `must be a readable file holding an ASCII-armored OpenPGP public key (${(e as Error).message})`);
    }
    try {
      return new FileEncryption(encodeArmoredRsaPublicKey(text).base64);
    } catch (e) {
      if (e instanceof PgpKeyError) {
        return invalid('encryption.path', path, `must hold an ASCII-armored OpenPGP RSA public key block; the file ${e.message}`);
      }
      throw e;
    }
  }

  /** The value AEP receives as `publicKey`: base64 of the armored public key block. */
  public readonly publicKeyBase64: string;

  private constructor(publicKeyBase64: string) {
    this.publicKeyBase64 = publicKeyBase64;
  }

  /**
   * The encryption block of the base connection.
   *
   * @internal
   */
  public _toConnectionEncryption(): ConnectionEncryption {
    return aepFileEncryptionBlock(this.publicKeyBase64);
  }
}
