import { CustomResource, RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DataflowConnectionProps, DataflowResourceTypes, FlowProps } from './contract';
import { AepProvider, isRetain, removalPolicyProperty } from './provider';
import { invalid } from './validation';
import type { AepSandbox } from '../aep-sandbox';

/** The AEP description a construct gets when the user gives none. */
export function managedDescription(scope: Construct): string {
  return `Managed by AWS CDK (cdk-aep-s3): ${scope.node.path}`;
}

/**
 * Refuses, at synth, a dataflow kept by `RemovalPolicy.RETAIN` on a connection the stack deletes.
 * AEP refuses to delete a connection a dataflow still uses (`1418-400` base connection,
 * `1447-400` target connection), so such a stack could never be destroyed (nor its connection
 * replaced) without someone first deleting the retained dataflow by hand: an error, not a
 * warning, because no deployment of that combination can end well. Keeping the dataflow means
 * keeping what it runs on, so the fix is RETAIN on both, or DESTROY on the dataflow.
 */
export function refuseRetainedFlowOnDeletedConnection(
  connection: Construct, connectionPolicy: RemovalPolicy | undefined, dataflowId: string, dataflowPolicy: RemovalPolicy | undefined,
): void {
  if (!isRetain(dataflowPolicy) || isRetain(connectionPolicy)) return;
  const dataflowPath = `${connection.node.path}/${dataflowId}`;
  invalid('removalPolicy', dataflowPolicy,
    `dataflow ${dataflowPath} would be kept in AEP while ${connection.node.path} deletes its connection `
    + `(removalPolicy ${connectionPolicy === undefined ? 'RemovalPolicy.DESTROY, the default' : `RemovalPolicy.${connectionPolicy.toUpperCase()}`}); AEP refuses to delete a connection that a dataflow still uses, `
    + `so cdk destroy (and any replacement of the connection) would fail. Set removalPolicy: RemovalPolicy.RETAIN on ${connection.node.path} too, `
    + 'or leave the dataflow\'s removalPolicy at RemovalPolicy.DESTROY.');
}

/** What every part of one dataflow shares. */
export interface DataflowPartsProps {
  readonly sandbox: AepSandbox;
  readonly name?: string;
  readonly description?: string;
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The custom resources of one dataflow (its connections, the flow, Data Prep objects), all with
 * the dataflow's sandbox, and the connections and flow with its name, description and removal
 * policy: each dataflow construct only says what is its own.
 */
export class DataflowParts {
  /** The flow's AEP name; connections are named `<name> <role>`. */
  public readonly name: string;
  private readonly description: string;
  private readonly removal: string;
  private readonly provider: AepProvider;

  constructor(private readonly scope: Construct, private readonly props: DataflowPartsProps) {
    this.name = props.name ?? scope.node.path;
    this.description = props.description ?? managedDescription(scope);
    this.removal = removalPolicyProperty(props.removalPolicy);
    this.provider = AepProvider.of(scope);
  }

  /** A source or Data Lake target connection of the dataflow. */
  public connection(
    id: string, resourceType: string, role: string, connectionSpecId: string, properties: Record<string, unknown> = {},
  ): CustomResource {
    return this.resource(id, resourceType, {
      [DataflowConnectionProps.NAME]: `${this.name} ${role}`,
      [DataflowConnectionProps.DESCRIPTION]: this.description,
      [DataflowConnectionProps.CONNECTION_SPEC_ID]: connectionSpecId,
      ...properties,
      [DataflowConnectionProps.REMOVAL_POLICY]: this.removal,
    });
  }

  /** The flow (`properties`: its spec, connections and settings). */
  public flow(properties: Record<string, unknown>, enabled: boolean | undefined): CustomResource {
    return this.resource('Flow', DataflowResourceTypes.FLOW, {
      [FlowProps.NAME]: this.name,
      [FlowProps.DESCRIPTION]: this.description,
      ...properties,
      [FlowProps.ENABLED]: String(enabled ?? true),
      [FlowProps.REMOVAL_POLICY]: this.removal,
    });
  }

  /** Any other part (a mapping set, a profile mapping). */
  public resource(id: string, resourceType: string, properties: Record<string, unknown>): CustomResource {
    return this.provider.addResource(this.scope, id, { resourceType, sandbox: this.props.sandbox, properties });
  }
}
