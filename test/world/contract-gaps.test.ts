/**
 * The documented spec gaps (offline-world/contract-gaps.ts) cannot rot: each entry's witness
 * exchange must still break Adobe's spec in exactly the way the entry documents, and an entry that
 * matches nothing is reported as stale.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CONTRACT_GAPS, ContractGap } from '../../offline-world/contract-gaps';
import { resolveSpecDir } from '../../offline-world/specs';
import { ContractCheck } from '../../offline-world/stand-in/contract-check';

const SPEC_DIR = resolveSpecDir().dir;
const HEADERS = {
  'authorization': 'Bearer token',
  'x-api-key': 'client',
  'x-gw-ims-org-id': 'ACME@AdobeOrg',
  'x-sandbox-name': 'prod',
  'content-type': 'application/json',
  'accept': 'application/json',
  'if-match': '"a1000b2c-0000-0200-0000-65a1b2c30000"',
};

async function load(gaps: readonly ContractGap[]): Promise<ContractCheck> {
  const check = await ContractCheck.load(SPEC_DIR, { required: true, warn: () => undefined, gaps });
  return check!;
}

/** Judges one gap's witness the way the stand-in judges an exchange. */
function judge(check: ContractCheck, gap: ContractGap): void {
  const w = gap.witness;
  const matched = check.checkRequest(gap.spec, { method: w.method, path: w.path, query: w.query ?? {}, headers: HEADERS, body: w.body });
  if (w.response) {
    expect(matched).toBeDefined();
    check.checkResponse(matched!, w.response.status, w.response.body);
  }
}

test('gap ids are unique', () => {
  const ids = CONTRACT_GAPS.map((g) => g.id);
  expect(new Set(ids).size).toBe(ids.length);
});

test.each(CONTRACT_GAPS.map((g) => [g.id, g] as const))('%s: its witness still breaks the spec as documented', async (_id, gap) => {
  const check = await load(CONTRACT_GAPS);
  judge(check, gap);
  expect(check.all().filter((v) => v.gap === gap.id).map((v) => v.rule)).not.toEqual([]);
});

test('after every witness no entry is unused; an entry that matches nothing is reported as stale', async () => {
  const stale: ContractGap = {
    ...CONTRACT_GAPS.find((g) => g.id === 'dst-masked-secret')!,
    id: 'stale-example',
    rule: /^\/items\/\*\/auth\/params\/s3SessionToken pattern ".*"$/,
  };
  const check = await load([...CONTRACT_GAPS, stale]);
  for (const gap of CONTRACT_GAPS) judge(check, gap);
  expect(check.unusedGaps()).toEqual(['stale-example']);
});

test('a missing spec fails loudly when required (the default), else warns and judges nothing', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'contracts-'));
  try {
    // Two of the three files: data-prep.yaml is missing.
    for (const name of ['flow-service.yaml', 'destinations.yaml']) fs.symlinkSync(path.resolve(SPEC_DIR, name), path.join(dir, name));
    await expect(ContractCheck.load(dir, { required: true, warn: () => undefined })).rejects.toThrow(/data-prep\.yaml not found.*AEP_CONTRACTS_DIR/);
    const warnings: string[] = [];
    await expect(ContractCheck.load(dir, { required: false, warn: (m) => warnings.push(m) })).resolves.toBeUndefined();
    expect(warnings).toEqual([expect.stringContaining('contract check')]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
