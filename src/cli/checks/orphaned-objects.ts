// Bundled with esbuild into assets/cli/index.js (the SDK clients are inlined there).
// eslint-disable-next-line import/no-extraneous-dependencies
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
// eslint-disable-next-line import/no-extraneous-dependencies
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { DoctorCheck, DoctorContext, MarkedItem, StackReport } from './types';
import { errorMessage, redact } from '../../plumbing/log';

type Verdict = { state: StackReport['state']; detail: string; action?: string };

/** What a failed create leaves: CloudFormation keeps the stack, and no resource owns these objects any more. */
const FAILED_CREATE = new Set(['ROLLBACK_COMPLETE', 'ROLLBACK_FAILED']);

const DELETE_ORDER = 'dataflows first, then target/source connections, then base connections';

/**
 * Whether the stack owning each marked object still exists. A marker names its stack by region,
 * account, name and id, so it is looked up exactly (deleted stacks included) in its own region,
 * and only with that account's credentials: a sandbox shared by stacks of one name in several
 * regions or accounts never makes a live object an orphan. A marker of an earlier version names
 * no region or account: when no stack here matches it, the doctor cannot decide, and says so.
 * Cost: 1 STS call, then 1 DescribeStacks per stack.
 */
export const orphanedObjects: DoctorCheck = {
  id: 'orphaned-objects',
  title: 'AEP objects whose owning stack (account, region, stack id) is gone or failed its create',
  async run(ctx) {
    if (!ctx.sandbox) return;
    const groups = new Map<string, MarkedItem[]>();
    for (const item of ctx.sandbox.items) {
      const key = `${item.stackRegion ?? ''}:${item.stackAccount ?? ''}:${item.stackName}/${item.stackUuid}`;
      groups.set(key, [...(groups.get(key) ?? []), item]);
    }
    const region = ctx.options.region;
    const clients = new Map<string, CloudFormationClient>();
    const cfnIn = (r: string | undefined) => {
      const key = r ?? '';
      if (!clients.has(key)) clients.set(key, new CloudFormationClient(r ? { region: r } : {}));
      return clients.get(key)!;
    };
    let callerAccount: Promise<string | undefined> | undefined;
    try {
      for (const [, group] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
        const { stackName, stackUuid, stackRegion, stackAccount } = group[0];
        const label = stackRegion ? `${stackName} (${stackRegion}, account ${stackAccount})` : stackName;
        let verdict: Verdict;
        if (stackRegion !== undefined && stackAccount !== undefined) {
          callerAccount ??= accountOfCredentials(ctx, region);
          const account = await callerAccount;
          if (account === stackAccount) {
            ctx.countAws();
            verdict = await stackById(cfnIn(stackRegion), stackArn(stackRegion, stackAccount, stackName, stackUuid));
          } else if (account === undefined) {
            verdict = {
              state: 'unknown',
              detail: `could not tell which account these AWS credentials belong to (STS GetCallerIdentity failed), so stack ${label} was not looked up`,
              action: 'check the AWS credentials of this run (aws sts get-caller-identity) and run again',
            };
          } else {
            verdict = { state: 'other-account', detail: `stack ${label} belongs to another account than these AWS credentials (${account}); run the doctor with that account's credentials to check it` };
          }
        } else {
          ctx.countAws();
          verdict = await stackByName(cfnIn(region), stackName, stackUuid, region);
        }
        const live = group.filter((i) => !i.retained);
        ctx.report.stacks.push({
          stackName,
          stackUuid,
          ...(stackRegion !== undefined ? { region: stackRegion, account: stackAccount } : {}),
          state: verdict.state,
          detail: redact(verdict.detail),
          items: group,
        });
        if (live.length === 0) continue;
        const evidence = live.map((i) => `${i.collection.replace('/', '')} ${i.id} (${i.logicalId})`);
        if (verdict.state === 'deleted') {
          ctx.add(`orphans-${stackName}`, 'problem', `${live.length} AEP object(s) of stack ${label} (${stackUuid}) outlived their stack: ${verdict.detail}. `
            + `Delete them in AEP (${DELETE_ORDER}) or recreate the stack with the same resources to adopt them.`,
          { evidence, action: `delete them in AEP (${DELETE_ORDER})` });
        } else if (verdict.state === 'failed-create') {
          ctx.add(`failed-create-${stackName}`, 'problem', `${live.length} AEP object(s) of stack ${label} (${stackUuid}) are leftovers of a failed create: ${verdict.detail}. `
            + `No resource owns them (a new stack gets a new id and will not adopt them): delete them in AEP (${DELETE_ORDER}), then delete the stack before deploying again.`,
          { evidence, action: `delete them in AEP (${DELETE_ORDER}), then aws cloudformation delete-stack --stack-name ${stackName}${stackRegion ? ` --region ${stackRegion}` : ''}` });
        } else if (verdict.state === 'unknown') {
          ctx.add(`stack-${stackName}`, 'cannot-decide', `could not tell whether stack ${label} still owns ${live.length} AEP object(s): ${verdict.detail}`,
            { evidence, ...(verdict.action ? { action: verdict.action } : {}) });
        }
      }
    } finally {
      for (const client of clients.values()) client.destroy();
    }
  },
};

/** The stack ARN a marker names (the partition follows from the region). */
export function stackArn(region: string, account: string, stackName: string, stackUuid: string): string {
  const partition = region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
  return `arn:${partition}:cloudformation:${region}:${account}:stack/${stackName}/${stackUuid}`;
}

/** The account of the doctor's AWS credentials, or undefined when STS cannot say. */
async function accountOfCredentials(ctx: DoctorContext, region: string | undefined): Promise<string | undefined> {
  const sts = new STSClient(region ? { region } : {});
  ctx.countAws();
  try {
    return (await sts.send(new GetCallerIdentityCommand({}))).Account;
  } catch {
    return undefined;
  } finally {
    sts.destroy();
  }
}

/** Why DescribeStacks failed, and what to do, when it is not "no such stack". */
function describeFailure(err: unknown): Verdict {
  const e = err as { name?: string; Code?: string };
  const code = e.name ?? e.Code ?? 'Error';
  const action = /AccessDenied|UnauthorizedOperation|NotAuthorized/i.test(code)
    ? 'grant this identity cloudformation:DescribeStacks on the stacks that deploy to this sandbox, and run again'
    : /Throttl|TooManyRequests|RequestLimitExceeded/i.test(code) ? 'CloudFormation throttled the call: run again later'
      : 'check the AWS credentials, --region and the network path to CloudFormation, and run again';
  return { state: 'unknown', detail: `CloudFormation DescribeStacks failed (${code}): ${errorMessage(err)}`, action };
}

/** DescribeStacks by stack id: CloudFormation still answers for a deleted stack (DELETE_COMPLETE). */
async function stackById(cfn: CloudFormationClient, arn: string): Promise<Verdict> {
  try {
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: arn }))).Stacks?.[0];
    if (stack?.StackStatus === 'DELETE_COMPLETE') return { state: 'deleted', detail: `stack ${arn} was deleted` };
    if (stack?.StackStatus && FAILED_CREATE.has(stack.StackStatus)) {
      return { state: 'failed-create', detail: `stack ${arn} is ${stack.StackStatus} (its create failed and was rolled back)` };
    }
    return { state: 'exists', detail: `${stack?.StackStatus}` };
  } catch (err) {
    const e = err as { name?: string; message?: string };
    if (e.name === 'ValidationError' && /does not exist/.test(e.message ?? '')) return { state: 'deleted', detail: `no stack ${arn} (${e.message})` };
    return describeFailure(err);
  }
}

/**
 * DescribeStacks by name in the doctor's region, for markers that do not say where their stack
 * lives. Only a match of name and id decides (`exists`); anything else may be a stack of that
 * name in another region or account, so it is `unknown`, never an orphan.
 */
async function stackByName(cfn: CloudFormationClient, stackName: string, stackUuid: string, region: string | undefined): Promise<Verdict> {
  const here = region ? ` in ${region}` : '';
  const action = `find stack ${stackName} (id …/${stackUuid}) in the other regions and accounts that deploy to this sandbox; `
    + 'only if none has it are these objects leftovers';
  const undecided = (found: string): Verdict => ({
    state: 'unknown',
    detail: `their marker was written before markers named a region and account, and ${found}; a stack of this name and id in another region or account may own them`,
    action,
  });
  try {
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
    if (stack?.StackId?.split('/')[2] === stackUuid) return { state: 'exists', detail: `${stack.StackStatus}` };
    return undecided(`the stack named ${stackName}${here} is another one (${stack?.StackId})`);
  } catch (err) {
    const e = err as { name?: string; message?: string };
    if (e.name === 'ValidationError' && /does not exist/.test(e.message ?? '')) return undecided(`no stack named ${stackName} exists${here}`);
    return describeFailure(err);
  }
}
