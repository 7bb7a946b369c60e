import { CfnResource } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** A cdk-nag rule suppression with its justification. */
export interface NagSuppression {
  readonly id: string;
  readonly reason: string;
}

/**
 * Records cdk-nag suppressions as the `cdk_nag` metadata cdk-nag reads, on every CfnResource
 * under `scope`, without making cdk-nag a dependency of the library.
 */
export function suppressNag(scope: IConstruct, suppressions: NagSuppression[]): void {
  for (const child of scope.node.findAll()) {
    if (!CfnResource.isCfnResource(child)) continue;
    const existing = (child.getMetadata('cdk_nag') as { rules_to_suppress?: NagSuppression[] } | undefined)?.rules_to_suppress ?? [];
    const merged = [...existing];
    for (const s of suppressions) {
      if (!merged.some((e) => e.id === s.id)) merged.push(s);
    }
    child.addMetadata('cdk_nag', { rules_to_suppress: merged });
  }
}
