import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** A function's own log group and an explicit role that may write only to it. */
export interface LambdaIdentity {
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
}

/**
 * An explicit role instead of AWSLambdaBasicExecutionRole (cdk-nag IAM4): it writes logs only to
 * the function's own log group (30-day retention); everything else is granted by the caller.
 */
export function lambdaIdentity(
  scope: Construct, ids: { role: string; logGroup: string }, description: string,
  inlinePolicies?: { [name: string]: iam.PolicyDocument },
): LambdaIdentity {
  const logGroup = new logs.LogGroup(scope, ids.logGroup, {
    retention: logs.RetentionDays.ONE_MONTH,
  });
  const role = new iam.Role(scope, ids.role, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description,
    inlinePolicies,
  });
  role.addToPolicy(new iam.PolicyStatement({
    actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    resources: [logGroup.logGroupArn],
  }));
  return { role, logGroup };
}
