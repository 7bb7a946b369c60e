import { CfnDeletionPolicy, CfnResource } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Keeps every CloudFormation resource under `scope` when it leaves the stack, so a retained AEP
 * connection keeps working with its credential. DeletionPolicy only: a rotated access key is a
 * replacement, and the old key must still be deleted (UpdateReplacePolicy stays Delete), or
 * rotations would pile up keys.
 */
export function retainOnDelete(scope: IConstruct): void {
  for (const child of scope.node.findAll()) {
    if (CfnResource.isCfnResource(child)) child.cfnOptions.deletionPolicy = CfnDeletionPolicy.RETAIN;
  }
}
