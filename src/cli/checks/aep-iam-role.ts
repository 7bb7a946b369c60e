import { aepErrorOf, CannotAuthenticate, gatewayMessage, hostOf, isGatewayRejection, networkCode, networkMeaning, reachAdvice } from './failures';
import type { DoctorCheck } from './types';
import { errorMessage } from '../../plumbing/log';
import { AepIds, IAM_ROLE_ARN } from '../../private/contract';

/** AEP's IAM role for 'IAMRole Based' sources (AEP on AWS), from the configs API (1 request). */
export const aepIamRole: DoctorCheck = {
  id: 'aep-iam-role',
  title: "AEP's IAM role for 'IAMRole Based' sources (AEP on AWS)",
  async run(ctx) {
    const what = 'GET …/configs?authType=IamBasedAuthentication';
    try {
      const res = await ctx.aep('GET', `/connectionSpecs/${AepIds.S3_SOURCE_CONNECTION_SPEC}/configs`, { query: [['authType', 'IamBasedAuthentication']] });
      const role = (res.data as { configParams?: { IAMRole?: unknown } } | undefined)?.configParams?.IAMRole;
      if (typeof role === 'string' && IAM_ROLE_ARN.test(role)) {
        (ctx.report as { iamRole?: string }).iamRole = role;
        ctx.add('iam-role', 'ok', `AEP on AWS: AEP reads 'IAMRole Based' source buckets as ${role} (${what})`);
      } else {
        ctx.add('iam-role', 'warning', `the configs API answered without an IAM role ARN (configParams.IAMRole = ${JSON.stringify(role)?.slice(0, 200)}); `
          + "an 'IAMRole Based' source (AepS3Source with AEP on AWS) would fail its role lookup");
      }
    } catch (err) {
      const aep = aepErrorOf(err);
      if (aep && isGatewayRejection(aep)) throw new CannotAuthenticate(gatewayMessage(aep, ctx.options.sandbox));
      const code = networkCode(err);
      if (code || aep?.status === undefined || aep.status >= 429) {
        // No answer, or a failing one, says nothing about the org: only a refusal by AEP does.
        const why = code ? `Flow Service at ${hostOf(ctx.options.flowServiceUrl)} did not answer: ${networkMeaning(code)} (${code}); ${reachAdvice('--flow-service-url')}`
          : `${errorMessage(err)}; try again later`;
        ctx.add('iam-role', 'warning', `could not ask the configs API for AEP's IAM role (${what}): ${why}`);
        return;
      }
      ctx.add('iam-role', 'info', `no AEP IAM role from the configs API (${errorMessage(err)}): this org is probably not AEP on AWS; `
        + "only an 'IAMRole Based' source needs it, access-key sources and all destinations do not");
    }
  },
};
