import { createHash } from 'crypto';
import { CUSTOM, LiveResource, same } from './model';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../stand-in/fake-credentials';

/**
 * The native (non-custom) resources as CloudFormation and their services present them: custom
 * names, removal policies, which property changes replace, physical ids and attributes.
 */

/** Where a stack lives, as the resource model needs it for names and ARNs. */
export interface Where {
  readonly stackName: string;
  /** Distinguishes simulators sharing one AWS stand-in. */
  readonly instance: number;
  readonly account: string;
  readonly region: string;
  readonly stackId: string;
}

/** Serial of generated physical names, across simulators: two stacks never get the same role name. */
let generatedNames = 0;

/** The property that gives each resource type a custom (account-unique) name. */
export const NAME_PROPERTY: Record<string, string> = {
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::IAM::User': 'UserName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::Logs::LogGroup': 'LogGroupName',
};

/** `type|name` when the resource is custom-named (secret names, user names…), else undefined. */
export function customName(type: string, props: any): string | undefined {
  const key = NAME_PROPERTY[type];
  const value = key ? props?.[key] : undefined;
  return typeof value === 'string' ? `${type}|${value}` : undefined;
}

/** What a resource's DeletionPolicy / UpdateReplacePolicy means for one delete. */
export type RemovalPolicyName = 'Retain' | 'Delete';

/**
 * The policy CloudFormation applies when deleting `id` of `template`: `Retain` keeps the physical
 * resource; `RetainExceptOnCreate` retains except when the delete rolls back its own creation;
 * `Snapshot` deletes (after a snapshot, which the model does not need).
 */
export function policyOf(template: any, id: string, attribute: 'DeletionPolicy' | 'UpdateReplacePolicy', rollingBackCreate = false): RemovalPolicyName {
  const value = template?.Resources?.[id]?.[attribute];
  if (value === 'Retain') return 'Retain';
  if (value === 'RetainExceptOnCreate' && !rollingBackCreate) return 'Retain';
  return 'Delete';
}

/** CloudFormation replaces these on the listed property changes. */
export function replaces(type: string, oldProps: any, newProps: any): boolean {
  const immutable: Record<string, string[]> = {
    'AWS::IAM::AccessKey': ['Serial', 'UserName'],
    'AWS::S3::Bucket': ['BucketName'],
    'AWS::IAM::User': ['UserName'],
    'AWS::IAM::Role': ['RoleName'],
    'AWS::SecretsManager::Secret': ['Name'],
    'AWS::Lambda::Function': ['FunctionName'],
    'AWS::Logs::LogGroup': ['LogGroupName'],
  };
  return (immutable[type] ?? []).some((k) => !same(oldProps[k], newProps[k]));
}

/** The physical id and attributes a newly created native resource gets (`n`: the simulator's serial). */
export function simulate(where: Where, n: number, id: string, type: string, props: any): { physicalId: string; attributes: Record<string, string> } {
  const serial = ++generatedNames;
  const arnOf = (service: string, resource: string) => `arn:aws:${service}:${where.region}:${where.account}:${resource}`;
  switch (type) {
    case 'AWS::IAM::AccessKey': {
      const seed = `${where.stackName}/${where.instance}/${id}/${n}`;
      const accessKeyId = fakeAccessKeyId('AKIA', seed);
      const secretAccessKey = fakeSecretAccessKey(seed);
      return { physicalId: accessKeyId, attributes: { SecretAccessKey: secretAccessKey } };
    }
    case 'AWS::SecretsManager::Secret':
    {
      // Secrets Manager's random 6-character suffix, unique per simulator and resource.
      const suffix = fakeSecretAccessKey(`${where.stackName}/${where.instance}/${id}/${n}`).replace(/[^A-Za-z0-9]/g, '').slice(0, 6);
      return { physicalId: arnOf('secretsmanager', `secret:${props.Name ?? id}-${suffix}`), attributes: {} };
    }
    case 'AWS::IAM::Role':
      return { physicalId: props.RoleName ?? `${where.stackName}-${id}-SIM${serial}`.slice(0, 64), attributes: {} };
    case 'AWS::IAM::User':
      return { physicalId: props.UserName ?? `${where.stackName}-${id}-SIM${serial}`.slice(0, 64), attributes: {} };
    case 'AWS::S3::Bucket':
      return { physicalId: props.BucketName ?? `${where.stackName}-${id}-sim${serial}`.toLowerCase().slice(0, 63), attributes: {} };
    case 'AWS::Lambda::Function':
      return { physicalId: props.FunctionName ?? `${where.stackName}-${id}-SIM${serial}`.slice(0, 64), attributes: {} };
    default:
      return { physicalId: `${id}-sim${n}`, attributes: {} };
  }
}

/** A GetAtt (or an ARN) of a resource whose provider response did not carry the attribute. */
export function derivedAttribute(where: Where, res: LiveResource, attr: string, id: string): string {
  const p = res.physicalId;
  if (CUSTOM(res.type)) {
    // CloudFormation's wording when a GetAtt names a key the provider's Data lacks.
    throw new Error(`CustomResource attribute error: Vendor response doesn't contain ${attr} key in object ${where.stackId}|${id}|${p}`);
  }
  if (attr === 'Arn') {
    switch (res.type) {
      case 'AWS::IAM::Role': return `arn:aws:iam::${where.account}:role/${p}`;
      case 'AWS::IAM::User': return `arn:aws:iam::${where.account}:user/${p}`;
      case 'AWS::S3::Bucket': return `arn:aws:s3:::${p}`;
      case 'AWS::Lambda::Function': return `arn:aws:lambda:${where.region}:${where.account}:function:${p}`;
      case 'AWS::Logs::LogGroup': return `arn:aws:logs:${where.region}:${where.account}:log-group:${p}:*`;
      case 'AWS::KMS::Key': return `arn:aws:kms:${where.region}:${where.account}:key/${p}`;
      default: return `arn:aws:sim:${where.region}:${where.account}:${id}/${p}`;
    }
  }
  if ((attr === 'RoleId' && res.type === 'AWS::IAM::Role') || (attr === 'UserId' && res.type === 'AWS::IAM::User')) {
    // IAM's unique ids (AROA… / AIDA…): derived from the physical resource, never its name.
    const digest = createHash('sha256').update(`${res.type}/${p}`).digest('hex').toUpperCase().replace(/[^A-Z0-9]/g, '');
    return `${attr === 'RoleId' ? 'AROA' : 'AIDA'}${digest.slice(0, 17)}`;
  }
  return `${p}.${attr}`;
}
