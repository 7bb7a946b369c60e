import { Token } from 'aws-cdk-lib';
import { invalid } from './validation';

/**
 * Auth params AEP treats as secret, with where it says so (the Flow
 * Service specs mark them `format: password`). Matched case-insensitively: AEP param names are
 * case-sensitive, but a differently cased secret is still a secret in the template.
 */
const SECRET_AUTH_PARAMS: Record<string, string> = {
  s3secretkey: 'AEP marks it secret (format: password in the S3 "Access Key" auth specs)',
  s3sessiontoken: 'it is the STS session token of the S3 source "Access Key" auth spec, a credential like the secret key',
  s3role: 'AEP marks it secret (format: password in the S3 destination "Assumed Role" auth spec; Adobe asks to keep the role name confidential)',
  secretkey: 'AEP marks it secret (the S3 secret key of the destination auth values)',
  password: 'AEP marks it secret (format: password, e.g. in the SFTP and Basic Authentication auth specs)',
  sshkey: 'it is an SSH private key (SFTP with SSH Key auth spec)',
};

/** Names that are secret whatever the spec calls them. */
const SECRET_LOOKING = /secret|token|password|passphrase|privatekey|sshkey|credential/i;

/**
 * Refuses inline auth params that AEP treats as secret: inline params are custom-resource
 * properties, which the Provider framework logs and CloudFormation keeps in the template.
 * Names that are unresolved tokens are skipped: only their deploy-time value could be judged.
 */
export function validateInlineAuthParams(property: string, params: { [param: string]: string } | undefined): void {
  for (const param of Object.keys(params ?? {})) {
    if (Token.isUnresolved(param)) continue;
    const known = SECRET_AUTH_PARAMS[param.toLowerCase()];
    if (!known && !SECRET_LOOKING.test(param)) continue;
    const why = known ?? 'its name says it is secret';
    invalid(property, param,
      `${why}. Inline auth params are logged by the custom-resource Provider framework and stored in the template: `
      + `put the value in a Secrets Manager secret and pass authSecret with authSecretFields: { ${param}: '<JSON key in the secret>' }`);
  }
}
