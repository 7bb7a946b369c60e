import { Annotations, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { invalid, isConcrete, literalBucketName } from './validation';

/**
 * Per-app and per-stack bookkeeping of the destinations declared, for checks that need to see more
 * than one construct: two destinations writing into the same folder, and AEP's destination limit.
 * Kept on the app's root and the stack (a symbol-keyed field), so a check costs one map look-up.
 */

/** AEP's hard limit on destinations per sandbox (Adobe's guardrails page). */
export const MAX_DESTINATIONS_PER_SANDBOX = 100;

/** Warning id of two destinations whose folders overlap. */
export const SHARED_FOLDER_WARNING = 'cdk-aep-s3:destination-folder-shared';

interface Declared {
  readonly path: string;
  readonly bucketKey: string;
  readonly bucketLabel: string;
  readonly prefix: string;
}

const APP_REGISTRY = Symbol.for('cdk-aep-s3.destination-folders');
const STACK_COUNTS = Symbol.for('cdk-aep-s3.destinations-per-sandbox');

/** Where the destination writes, for {@link registerDestination}. */
export interface DestinationRegistration {
  readonly bucket: s3.IBucket;
  /** The folder prefix AEP's grant covers (a token when the folder path is one). */
  readonly prefix: string;
  readonly sandboxName: string;
  /** Adobe hosts: another set of endpoints is another AEP (stage, a stand-in). */
  readonly endpoints: string;
}

/**
 * Records a destination; warns when its folder and another destination's overlap in the same
 * bucket, and fails when its stack declares more destinations for one sandbox than AEP allows.
 */
export function registerDestination(destination: IConstruct, r: DestinationRegistration): void {
  countPerSandbox(destination, r);
  if (!isConcrete(r.prefix)) return;
  const root = destination.node.root as unknown as Record<symbol, Declared[]>;
  const declared = (root[APP_REGISTRY] ??= []);
  const mine: Declared = { path: destination.node.path, prefix: r.prefix, ...bucketIdentity(r.bucket) };
  for (const other of declared) {
    if (other.bucketKey !== mine.bucketKey) continue;
    if (!mine.prefix.startsWith(other.prefix) && !other.prefix.startsWith(mine.prefix)) continue;
    const folder = (p: string) => `s3://${mine.bucketLabel}/${p}`;
    const how = other.prefix === mine.prefix
      ? `both write to ${folder(mine.prefix)}`
      : `${other.path} may touch ${folder(other.prefix)}* and ${mine.path} ${folder(mine.prefix)}*, which overlap`;
    Annotations.of(destination).addWarningV2(SHARED_FOLDER_WARNING,
      `Destinations ${other.path} and ${mine.path} share a folder: ${how}. Each one's AEP credential may delete the other's `
      + 'exports (s3:DeleteObject on its folder). Give each destination a folderPath of its own that does not contain the other\'s.');
  }
  declared.push(mine);
}

/**
 * The same bucket gives the same key: by literal name when known, else by the bucket name's
 * resolved form in its own stack (a `Ref` to the same resource), so one bucket object passed twice
 * always matches.
 */
function bucketIdentity(bucket: s3.IBucket): BucketIdentity {
  // Resolving the name costs more than the rest of a destination's registration: once per bucket
  // (its name never changes after construction; issue 19, construct time per destination).
  let identity = identities.get(bucket);
  if (!identity) {
    const literal = literalBucketName(bucket);
    const stack = Stack.of(bucket);
    identity = literal !== undefined
      ? { bucketKey: `name:${literal}`, bucketLabel: literal }
      : { bucketKey: `${stack.node.path}:${JSON.stringify(stack.resolve(bucket.bucketName))}`, bucketLabel: `<${bucket.node.path}>` };
    identities.set(bucket, identity);
  }
  return identity;
}

interface BucketIdentity {
  readonly bucketKey: string;
  readonly bucketLabel: string;
}

const identities = new WeakMap<s3.IBucket, BucketIdentity>();

function countPerSandbox(destination: IConstruct, r: DestinationRegistration): void {
  const stack = Stack.of(destination) as unknown as Record<symbol, Map<string, number>>;
  const counts = (stack[STACK_COUNTS] ??= new Map());
  const key = `${r.sandboxName}\n${r.endpoints}`;
  const count = (counts.get(key) ?? 0) + 1;
  counts.set(key, count);
  if (count > MAX_DESTINATIONS_PER_SANDBOX) {
    invalid('sandbox', r.sandboxName,
      `stack ${Stack.of(destination).stackName} declares ${count} destinations for this sandbox (counted per stack; ${destination.node.path} `
      + `is number ${count}): AEP allows at most ${MAX_DESTINATIONS_PER_SANDBOX} destinations per sandbox (hard limit). `
      + 'Use fewer destinations (one destination can export many audiences through several dataflows) or another sandbox');
  }
}
