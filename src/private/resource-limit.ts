import { Annotations, CfnResource, Stack } from 'aws-cdk-lib';

/** CloudFormation's limit on resources in one template. */
export const CLOUDFORMATION_RESOURCE_LIMIT = 500;

/** Above this many resources, a stack using the library is told how many connections still fit. */
export const RESOURCE_WARNING_THRESHOLD = 400;

/** Warning id (acknowledgeable with `Annotations.of(stack).acknowledgeWarning`). */
export const RESOURCE_LIMIT_WARNING = 'cdk-aep-s3:resource-limit';

/**
 * CloudFormation resources each kind of connection adds to a stack that already has one (the
 * per-stack provider and the sandbox credential's grant are shared). Kept honest by a test that
 * synthesizes one more of each.
 */
export const RESOURCES_PER_CONNECTION = {
  /** IAM user (folder policy inline), access key, secret, one custom resource for base + target connection. */
  ACCESS_KEY_DESTINATION: 4,
  /** IAM role (folder policy inline), role-ARN secret, one custom resource for base + target connection. */
  ASSUMED_ROLE_DESTINATION: 3,
  /** IAM user (read policy inline), access key, secret, base connection. */
  ACCESS_KEY_SOURCE: 4,
} as const;

const WATCHED = Symbol.for('cdk-aep-s3.resource-limit-watched');

/**
 * Warns when `stack` nears CloudFormation's resource limit, with how many more connections fit.
 * Counted when the app is validated, i.e. after every aspect and after CDK's own metadata
 * resource were added: the count is that of the template about to be written.
 */
export function watchResourceLimit(stack: Stack): void {
  const marked = stack as unknown as Record<symbol, boolean>;
  if (marked[WATCHED]) return;
  marked[WATCHED] = true;
  let warned = false;
  stack.node.addValidation({
    validate: () => {
      if (warned) return [];
      const count = stack.node.findAll().filter((c) => CfnResource.isCfnResource(c) && Stack.of(c) === stack).length;
      if (count <= RESOURCE_WARNING_THRESHOLD) return [];
      warned = true;
      const left = Math.max(0, CLOUDFORMATION_RESOURCE_LIMIT - count);
      const fit = (per: number) => Math.floor(left / per);
      const p = RESOURCES_PER_CONNECTION;
      Annotations.of(stack).addWarningV2(RESOURCE_LIMIT_WARNING,
        `Stack ${stack.stackName} has ${count} of CloudFormation's ${CLOUDFORMATION_RESOURCE_LIMIT} resources. `
        + `Room left for about ${fit(p.ACCESS_KEY_DESTINATION)} more access-key destinations (${p.ACCESS_KEY_DESTINATION} resources each), `
        + `${fit(p.ASSUMED_ROLE_DESTINATION)} more assumed-role destinations (${p.ASSUMED_ROLE_DESTINATION} each) `
        + `or ${fit(p.ACCESS_KEY_SOURCE)} more access-key sources (${p.ACCESS_KEY_SOURCE} each); `
        + 'spread connections over several stacks (each gets its own handler) before the limit.');
      return [];
    },
  });
}
