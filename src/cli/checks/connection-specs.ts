import { flowServiceFailure } from './failures';
import type { DoctorCheck, SpecReport } from './types';
import { encryptionBlock, LiveConnectionSpec, LiveSpecMismatchError, parseConnectionSpec } from '../../aep/connection-specs';
import { AepIds } from '../../private/contract';

const SPECS = [
  { key: 'destination', id: AepIds.S3_DESTINATION_CONNECTION_SPEC, label: 'S3 destination' },
  { key: 'source', id: AepIds.S3_SOURCE_CONNECTION_SPEC, label: 'S3 source' },
] as const;

/** The two S3 connection specs as the live AEP declares them (2 requests). */
export const connectionSpecs: DoctorCheck = {
  id: 'connection-specs',
  title: 'the S3 source and destination connection specs this AEP declares (auth params, encryption, permissions)',
  async run(ctx) {
    for (const spec of SPECS) {
      try {
        const res = await ctx.aep('GET', `/connectionSpecs/${spec.id}`);
        const live = parseConnectionSpec(res.data, spec.id);
        ctx.specs[spec.key] = live;
        ctx.report.connectionSpecs[spec.key] = specReport(live, res.data);
        ctx.add(`spec-${spec.key}`, 'ok', `read the ${spec.label} connection spec ${spec.id} (GET /connectionSpecs/${spec.id})`);
      } catch (err) {
        flowServiceFailure(err, ctx.add, `spec-${spec.key}`, `read the ${spec.label} connection spec (GET /connectionSpecs/${spec.id})`,
          ctx.options.sandbox, ctx.options.flowServiceUrl);
      }
    }
  },
};

function specReport(live: LiveConnectionSpec, raw: unknown): SpecReport {
  let encryption: SpecReport['encryption'];
  if (live.encryption) {
    const algos = live.encryption.params.encryptionAlgo?.enum ?? [];
    try {
      // A dummy key only to learn the shape; no key value is reported.
      const block = encryptionBlock(live, 'cHVibGljLWtleQ==');
      encryption = { name: live.encryption.name, encryptionAlgo: algos, requestKey: block.key };
    } catch (err) {
      if (!(err instanceof LiveSpecMismatchError)) throw err;
      encryption = { name: live.encryption.name, encryptionAlgo: algos, problem: err.message };
    }
  }
  type PermissionsInfo = Record<string, Array<{ name?: string; permissions?: string[] }>>;
  const info = (raw as { items?: Array<{ permissionsInfo?: PermissionsInfo }> }).items?.[0]?.permissionsInfo ?? {};
  const permissions = Object.entries(info).flatMap(([kind, list]) => (Array.isArray(list) ? list : [])
    .map((p) => `${kind}: ${p.name ?? '?'} ${(p.permissions ?? []).join('/')}`));
  return {
    id: live.id,
    name: live.name,
    authSpecs: live.authSpecs.map((a) => ({
      name: a.name,
      type: a.type,
      params: Object.entries(a.params).map(([name, p]) => ({
        name, required: a.required.includes(name), secret: p.secret, readOnly: p.readOnly, ...(p.enum ? { enum: p.enum } : {}),
      })),
    })),
    encryption,
    permissions,
  };
}
