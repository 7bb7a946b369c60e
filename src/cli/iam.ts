/** IAM `GetRole`, the one IAM call the doctor makes (signed with the SDK clients' credential chain). */
import { type IamCredentials, IamError, iamQuery } from '../aws/iam-query';

export { IamError };

/**
 * The role's trust policy (`AssumeRolePolicyDocument`, decoded). Rejects with an {@link IamError}
 * carrying AWS's code; its message never contains the role name (Adobe asks to keep destination
 * role names confidential), only the code.
 */
export async function getRoleTrust(
  roleName: string,
  options: { credentials: IamCredentials; region?: string; env: Record<string, string | undefined>; timeoutMs: number },
): Promise<unknown> {
  const text = await iamQuery('GetRole', { RoleName: roleName }, options);
  const encoded = /<AssumeRolePolicyDocument>([^<]*)<\/AssumeRolePolicyDocument>/.exec(text)?.[1];
  if (encoded === undefined) throw new IamError('MalformedResponse', 200, 'IAM GetRole answered without AssumeRolePolicyDocument');
  return JSON.parse(decodeURIComponent(encoded));
}
