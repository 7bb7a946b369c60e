import * as cdk from 'aws-cdk-lib';
import { AspectPriority, Aspects, CfnResource, IAspect, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

/** A cdk-nag rule suppression with its justification. */
export interface NagSuppression {
  readonly id: string;
  readonly reason: string;
}

/**
 * Why the library's own functions are exempt from AwsSolutions-L1 ("not the latest runtime").
 * The runtime is pinned on purpose; see `.projenrc.ts` (lambdaOptions) for the policy.
 */
export const PINNED_RUNTIME_REASON =
  'The handler bundle is built for Node.js 22 (esbuild --target=node22), so the runtime is pinned to nodejs22.x: '
  + 'upgrading aws-cdk-lib must neither change the template nor move the function to a runtime the bundle never targeted. '
  + 'Library releases move it forward.';

/**
 * Suppresses cdk-nag rules, with their reasons, on every CfnResource under `scope`, for both
 * cdk-nag majors and without making cdk-nag a dependency of the library:
 *  - cdk-nag 2 reads the `cdk_nag` metadata (`rules_to_suppress`) of each resource;
 *  - cdk-nag 3 reads only acknowledgements made through aws-cdk-lib's
 *    `Validations.of(construct).acknowledge()` (aws-cdk-lib ≥ 2.257). Those are recorded too when
 *    the consumer's aws-cdk-lib has `Validations`, looked up at runtime because the library builds
 *    against aws-cdk-lib 2.180.
 *
 * cdk-nag 3 reports rules with per-finding results (AwsSolutions-IAM4, IAM5) as
 * `Rule[finding]` and matches acknowledgements by exact id, so a plain `AwsSolutions-IAM5` does
 * not cover `AwsSolutions-IAM5[Resource::…/folder/*]`. For those rules the findings are computed
 * at synthesis, after the policies are complete, and each is acknowledged with the same reason:
 * the same resources and findings are exempt under both majors.
 */
export function suppressNag(scope: IConstruct, suppressions: NagSuppression[]): void {
  const validations = validationsApi();
  for (const child of scope.node.findAll()) {
    if (!CfnResource.isCfnResource(child)) continue;
    const existing = (child.getMetadata('cdk_nag') as { rules_to_suppress?: NagSuppression[] } | undefined)?.rules_to_suppress ?? [];
    const merged = [...existing];
    for (const s of suppressions) {
      if (!merged.some((e) => e.id === s.id)) merged.push(s);
    }
    child.addMetadata('cdk_nag', { rules_to_suppress: merged });

    if (!validations) continue;
    for (const s of suppressions) {
      acknowledge(validations, child, s.id, s.reason);
      if (FINDINGS[s.id]) {
        const pending = PENDING.get(child) ?? new Map<string, string>();
        if (!pending.has(s.id)) pending.set(s.id, s.reason);
        PENDING.set(child, pending);
        acknowledgeFindingsAtSynth(Stack.of(child));
      }
    }
  }
}

/** The part of aws-cdk-lib's `Validations` (≥ 2.257) the library uses. */
interface ValidationsApi {
  of(scope: IConstruct): { acknowledge(...rules: NagSuppression[]): void };
}

function validationsApi(): ValidationsApi | undefined {
  const validations = (cdk as unknown as { Validations?: ValidationsApi }).Validations;
  return typeof validations?.of === 'function' ? validations : undefined;
}

/** Ids acknowledged per resource: the first reason wins, as with the `cdk_nag` metadata. */
const ACKNOWLEDGED = new WeakMap<IConstruct, Set<string>>();
/** Per-finding rules to acknowledge at synthesis, with their reasons. */
const PENDING = new WeakMap<CfnResource, Map<string, string>>();
/** Stacks that already carry the acknowledging aspect. */
const WITH_ASPECT = new WeakSet<Stack>();

function acknowledge(validations: ValidationsApi, resource: IConstruct, id: string, reason: string): void {
  const done = ACKNOWLEDGED.get(resource) ?? new Set<string>();
  if (done.has(id)) return;
  done.add(id);
  ACKNOWLEDGED.set(resource, done);
  validations.of(resource).acknowledge({ id, reason });
}

function acknowledgeFindingsAtSynth(stack: Stack): void {
  if (WITH_ASPECT.has(stack)) return;
  WITH_ASPECT.add(stack);
  // READONLY: after every aspect that may still add statements or managed policies.
  Aspects.of(stack).add(new AcknowledgeFindings(), { priority: AspectPriority.READONLY });
}

/** Acknowledges each cdk-nag 3 finding of the per-finding rules suppressed on a resource. */
class AcknowledgeFindings implements IAspect {
  public visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node)) return;
    const pending = PENDING.get(node);
    const validations = validationsApi();
    if (!pending || !validations) return;
    for (const [id, reason] of pending) {
      for (const finding of FINDINGS[id](node)) acknowledge(validations, node, `${id}[${finding}]`, reason);
    }
  }
}

/*
 * The findings cdk-nag reports for its per-finding rules, computed as its rules compute them
 * (cdk-nag src/rules/iam/IAMNoManagedPolicies.ts, IAMNoWildcardPermissions.ts and
 * src/utils/flatten-cfn-reference.ts). The consumer matrix (test/ecosystem/consumer-matrix.ts)
 * runs the real cdk-nag 3 over every construct and fails on any finding these miss.
 */
const FINDINGS: Record<string, (node: CfnResource) => string[]> = {
  'AwsSolutions-IAM4': managedPolicyFindings,
  'AwsSolutions-IAM5': wildcardFindings,
};

function managedPolicyFindings(node: CfnResource): string[] {
  if (!(node instanceof iam.CfnRole || node instanceof iam.CfnUser || node instanceof iam.CfnGroup)) return [];
  return safely(() => {
    const stack = Stack.of(node);
    const arns = (stack.resolve(node.managedPolicyArns) ?? []) as unknown[];
    return arns.map((arn) => flattenCfnReference(stack.resolve(arn))).filter((arn) => arn.includes(':iam::aws:')).map((arn) => `Policy::${arn}`);
  });
}

function wildcardFindings(node: CfnResource): string[] {
  return safely(() => {
    const stack = Stack.of(node);
    let documents: unknown[] = [];
    if (node instanceof iam.CfnRole || node instanceof iam.CfnUser || node instanceof iam.CfnGroup) {
      const policies = (stack.resolve(node.policies) ?? []) as unknown[];
      documents = policies.map((policy) => stack.resolve((stack.resolve(policy) as { policyDocument?: unknown }).policyDocument));
    } else if (node instanceof iam.CfnPolicy || node instanceof iam.CfnManagedPolicy) {
      documents = [stack.resolve(node.policyDocument)];
    }
    const findings = new Set<string>();
    for (const document of documents) {
      for (const statement of (document as { Statement?: any[] } | undefined)?.Statement ?? []) {
        if (statement.Effect !== 'Allow') continue;
        for (const action of toArray(statement.Action)) {
          if (String(action).includes('*')) findings.add(`Action::${action}`);
        }
        for (const resource of toArray(statement.Resource)) {
          const flat = flattenCfnReference(resource);
          if (flat.includes('*')) findings.add(`Resource::${flat}`);
        }
      }
    }
    return [...findings];
  });
}

/** Where cdk-nag's rule throws (e.g. intrinsics it cannot flatten) it reports the plain id, acknowledged already. */
function safely(compute: () => string[]): string[] {
  try {
    return compute();
  } catch {
    return [];
  }
}

function toArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/** cdk-nag's rendering of a CloudFormation value as one string (`<Logical.Attr>`, `<Ref>`, joins). */
function flattenCfnReference(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\${/g, '<').replace(/}/g, '>');
  const node = value as Record<string, any>;
  if (node['Fn::Join']) {
    const [delimiter, items] = node['Fn::Join'];
    return (items as unknown[]).map(flattenCfnReference).join(delimiter);
  }
  if (node['Fn::Sub']) return flattenCfnReference(node['Fn::Sub']);
  if (node['Fn::GetAtt']) {
    const [resource, attribute] = node['Fn::GetAtt'];
    return `<${flattenCfnReference(resource)}.${flattenCfnReference(attribute)}>`;
  }
  if (node['Fn::ImportValue']) return flattenCfnReference(node['Fn::ImportValue']);
  if (node.Ref) return `<${flattenCfnReference(node.Ref)}>`;
  return JSON.stringify(value);
}
