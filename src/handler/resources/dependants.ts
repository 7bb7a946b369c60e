import { parseMarker } from '../../private/contract';

/** A dataflow that keeps AEP from deleting a connection, as a Delete failure names it. */
export interface FlowUser {
  readonly id: string;
  readonly name?: unknown;
  readonly description?: unknown;
}

/**
 * Why a connection cannot be deleted, told from the markers of the dataflows that still use it:
 * a dataflow kept by its own `RemovalPolicy.RETAIN` (retired marker) is the stack's doing and
 * needs RETAIN on the connection too; one another stack manages, or one made outside
 * CloudFormation (no marker), must be deleted in AEP first.
 */
export function stillUsedMessage(what: string, users: readonly FlowUser[]): string {
  const kept = users.some((f) => parseMarker(String(f.description ?? ''))?.retired === true);
  const advice = kept
    ? 'Delete that dataflow in AEP first, or give this connection RemovalPolicy.RETAIN too (a kept dataflow needs the connections it runs on).'
    : 'Delete that dataflow in AEP first, or set the removal policy to RETAIN to leave the connection in AEP.';
  return `${what} is still used by ${users.map(describeUser).join(', ')}, so AEP refuses to delete it. ${advice}`;
}

function describeUser(flow: FlowUser): string {
  const named = `dataflow "${typeof flow.name === 'string' ? flow.name : ''}" (${flow.id})`;
  const marker = parseMarker(typeof flow.description === 'string' ? flow.description : '');
  if (!marker) return `${named}, which no cdk-aep-s3 stack manages (made outside CloudFormation, e.g. in the AEP UI)`;
  const where = `stack ${marker.stackName}${marker.region ? ` (${marker.region}, account ${marker.account})` : ''}`;
  return marker.retired
    ? `${named}, which the RemovalPolicy.RETAIN of its custom resource ${marker.logicalId} in ${where} kept in AEP`
    : `${named}, which custom resource ${marker.logicalId} of ${where} manages`;
}
