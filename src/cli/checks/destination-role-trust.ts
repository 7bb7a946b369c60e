// Bundled with esbuild into assets/cli/index.js (the SDK clients are inlined there).
// eslint-disable-next-line import/no-extraneous-dependencies
import { CloudFormationClient, ListStackResourcesCommand, type StackResourceSummary } from '@aws-sdk/client-cloudformation';
import { stackArn } from './orphaned-objects';
import type { DestinationRoleReport, DoctorCheck, DoctorContext } from './types';
import { loadConfig } from '../../plumbing/config';
import { AepIds } from '../../private/contract';
import { getRoleTrust, IamError } from '../iam';

/**
 * The trust of each live stack's roles that Adobe's destinations account may assume, against the
 * credential's org (`sts:ExternalId`: AEP sends the IMS org id as the external id since August 2026). Cost per live stack with an assumed-role
 * destination: ListStackResources (1 per 100 resources) and 1 IAM GetRole per role of the stack.
 */
export const destinationRoleTrust: DoctorCheck = {
  id: 'destination-role-trust',
  title: "the sts:ExternalId of assumed-role destinations' roles against the credential's org",
  async run(ctx) {
    if (!ctx.sandbox) return;
    ctx.report.destinationRoles.push(...await destinationRoles(ctx));
  },
};

/** Trailing 8-hex-digit hash CDK appends to logical ids. */
const LOGICAL_ID_HASH = /[0-9A-F]{8}$/;

/**
 * Whether a role and a destination connection belong to one `AepS3Destination`: CDK names them
 * `<destination path>AuthRole<hash>` and `<destination path>ConnectionDestination<hash>`.
 */
function sameDestination(roleLogicalId: string, connectionLogicalId: string): boolean {
  const role = roleLogicalId.replace(LOGICAL_ID_HASH, '');
  const conn = connectionLogicalId.replace(LOGICAL_ID_HASH, '');
  return role.endsWith('AuthRole') && conn.endsWith('ConnectionDestination')
    && role.slice(0, -'AuthRole'.length) === conn.slice(0, -'ConnectionDestination'.length);
}

/** `sts:ExternalId` values a trust statement requires (`StringEquals`, one value or a list). */
function externalIdsOf(statement: Record<string, unknown>): string[] {
  const equals = (statement.Condition as Record<string, Record<string, unknown>> | undefined)?.StringEquals ?? {};
  const key = Object.keys(equals).find((k) => k.toLowerCase() === 'sts:externalid');
  const value = key === undefined ? undefined : equals[key];
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).map(String);
}

/** Whether a trust statement lets Adobe's destinations account assume the role. */
function trustsAdobe(statement: Record<string, unknown>): boolean {
  const actions = [statement.Action].flat().map(String);
  return statement.Effect === 'Allow' && actions.some((a) => a === 'sts:AssumeRole' || a === 'sts:*' || a === '*')
    && JSON.stringify(statement.Principal ?? '').includes(`:${AepIds.ADOBE_DESTINATIONS_ACCOUNT}:`);
}

/**
 * For every live stack with an assumed-role destination connection: the stack's roles
 * (CloudFormation ListStackResources), their trust (IAM GetRole), and whether those trusting
 * Adobe's destinations account admit AEP only for the credential's org (`sts:ExternalId`). Only
 * metadata is read: no secret (the role ARN's secret is never opened).
 */
async function destinationRoles(ctx: DoctorContext): Promise<DestinationRoleReport[]> {
  const { report, env } = ctx;
  const region = ctx.options.region;
  const add = ctx.add;
  const orgId = report.credential.orgId!;
  const out: DestinationRoleReport[] = [];
  const timeoutMs = loadConfig(env).httpTimeoutMs;
  for (const stack of report.stacks.filter((s) => s.state === 'exists')) {
    // A stack whose marker names its region is listed there, by id (a name is only unique per region).
    const cfn = new CloudFormationClient(stack.region ?? region ? { region: stack.region ?? region } : {});
    const stackRef = stack.region !== undefined && stack.account !== undefined
      ? stackArn(stack.region, stack.account, stack.stackName, stack.stackUuid) : stack.stackName;
    const connections = stack.items.filter((i) => i.collection === '/connections' && !i.retained
      && i.connectionSpecId === AepIds.S3_DESTINATION_CONNECTION_SPEC && i.authSpecName === 'Assumed Role');
    if (connections.length === 0) continue;
    let roles: StackResourceSummary[] = [];
    try {
      let token: string | undefined;
      do {
        ctx.countAws();
        const page = await cfn.send(new ListStackResourcesCommand({ StackName: stackRef, NextToken: token }));
        roles.push(...(page.StackResourceSummaries ?? []).filter((r) => r.ResourceType === 'AWS::IAM::Role' && r.PhysicalResourceId));
        token = page.NextToken;
      } while (token);
    } catch (err) {
      const code = (err as { name?: string }).name ?? 'Error';
      add(`destination-roles-${stack.stackName}`, 'warning', `stack ${stack.stackName} has ${connections.length} assumed-role destination(s), but its roles could not be listed `
        + `(CloudFormation ListStackResources: ${code}): grant your identity cloudformation:ListStackResources on the stack to check their sts:ExternalId`);
      continue;
    }
    roles = roles.sort((a, b) => a.LogicalResourceId!.localeCompare(b.LogicalResourceId!));
    let found = 0;
    for (const role of roles) {
      const logicalId = role.LogicalResourceId!;
      const where = `stack ${stack.stackName}: role ${logicalId}`;
      let trust: unknown;
      try {
        ctx.countAws();
        trust = await getRoleTrust(role.PhysicalResourceId!, { credentials: cfn.config.credentials, region, env, timeoutMs });
      } catch (err) {
        const code = err instanceof IamError ? err.code : 'Error';
        // Only roles whose name says they are a destination's are worth a finding when unreadable.
        if (!/AuthRole[0-9A-F]{8}$/.test(logicalId)) continue;
        found += 1;
        const connectionIds = connections.filter((c) => sameDestination(logicalId, c.logicalId)).map((c) => c.id);
        out.push({ stackName: stack.stackName, logicalId, connectionIds, externalIds: [], verdict: 'unreadable' });
        add(`destination-role-${stack.stackName}-${logicalId}`, 'warning', `${where}: could not read its trust policy (IAM GetRole: ${code}); `
          + `grant your identity iam:GetRole on the stack's roles (arn:aws:iam::<account>:role/${stack.stackName}-*) to check its sts:ExternalId`);
        continue;
      }
      const statements = [(trust as { Statement?: unknown }).Statement ?? []].flat() as Array<Record<string, unknown>>;
      const adobe = statements.filter(trustsAdobe);
      if (adobe.length === 0) continue;
      found += 1;
      const connectionIds = connections.filter((c) => sameDestination(logicalId, c.logicalId)).map((c) => c.id);
      const of = connectionIds.length ? ` (destination connection ${connectionIds.join(', ')})` : '';
      // Every statement admitting Adobe must carry the condition: one without it admits any org.
      const perStatement = adobe.map(externalIdsOf);
      const externalIds = [...new Set(perStatement.flat())].sort();
      let verdict: DestinationRoleReport['verdict'];
      if (perStatement.some((ids) => ids.length === 0)) {
        verdict = 'any-org';
        add(`destination-role-${stack.stackName}-${logicalId}`, 'warning', `${where}${of} trusts Adobe's destinations account ${AepIds.ADOBE_DESTINATIONS_ACCOUNT} `
          + 'without an sts:ExternalId condition: any AEP organization that learns the role ARN can point its own destination at your folder (confused deputy). '
          + `AEP sends your org id as the external id: set imsOrgId: '${orgId}' on the AepSandbox (or S3DestinationAuth.assumedRole) and redeploy, `
          + `or add "Condition": {"StringEquals": {"sts:ExternalId": "${orgId}"}} to the trust`);
      } else if (perStatement.some((ids) => !ids.includes(orgId))) {
        verdict = 'other-org';
        add(`destination-role-${stack.stackName}-${logicalId}`, 'problem', `${where}${of} admits AEP only with sts:ExternalId ${externalIds.join(', ')}, `
          + `but the credential belongs to IMS org ${orgId}: AEP assumes the role as ${orgId} and is refused, so exports to it fail. `
          + `Set imsOrgId to '${orgId}' (on the AepSandbox or S3DestinationAuth.assumedRole) and redeploy, or check this credential is the one the stack uses`);
      } else {
        verdict = 'locked';
        add(`destination-role-${stack.stackName}-${logicalId}`, 'ok', `${where}${of} admits AEP only for IMS org ${orgId} (sts:ExternalId), the credential's org`);
      }
      out.push({ stackName: stack.stackName, logicalId, connectionIds, externalIds, verdict });
    }
    if (found === 0) {
      add(`destination-roles-${stack.stackName}`, 'warning', `stack ${stack.stackName} has ${connections.length} assumed-role destination(s), but none of its ${roles.length} role(s) `
        + `trusts Adobe's destinations account ${AepIds.ADOBE_DESTINATIONS_ACCOUNT}: AEP cannot assume them; check the role the connection names`);
    }
  }
  return out;
}

