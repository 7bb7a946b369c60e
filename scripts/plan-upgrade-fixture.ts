/**
 * Writes the template of the plan's library-upgrade fixture app, synthesized with the library
 * source in `<srcDir>` (a checkout of an earlier commit), so that `plan --previous <fixture>`
 * shows what upgrading to the current library does to AEP objects.
 *
 *   mkdir -p .demo/upgrade-c37f2b8 && git archive c37f2b8 src | tar -x -C .demo/upgrade-c37f2b8
 *   cp -r assets .demo/upgrade-c37f2b8/   # the function code: only its hash differs, AEP properties do not
 *   npx ts-node --transpile-only scripts/plan-upgrade-fixture.ts .demo/upgrade-c37f2b8/src test/plan/fixtures/c37f2b8.template.json
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/** The fixture app, built with the library module `lib` (the current src, or an earlier one). */
export function upgradeFixtureTemplate(lib: any): unknown {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-fixture-'));
  const app = new App({ outdir });
  const stack = new Stack(app, 'UpgradeApp', { env: { account: '111122223333', region: 'us-east-1' } });
  const sandbox = new lib.AepSandbox({
    credentials: secretsmanager.Secret.fromSecretNameV2(stack, 'AepCredentials', 'aep/oauth-server-to-server'),
    sandboxName: 'prod',
    imsOrgId: 'ABCDEF0123456789ABCDEF01@AdobeOrg',
  });
  const source = new lib.AepS3Source(stack, 'Inbound', { sandbox, bucket: s3.Bucket.fromBucketName(stack, 'InBucket', 'acme-aep-inbound'), folderPath: 'crm' });
  source.addDataflow('Crm', {
    path: '/acme-aep-inbound/crm/*.csv',
    format: lib.IngestionFormat.delimited({ columnDelimiter: ';' }),
    datasetId: '5f3c3cedb2805c194ff0b69a',
    schemaId: 'https://ns.adobe.com/acme/schemas/995dabbea86d58e346ff91bd8aa741a9f36f29b1019138d4',
    mapping: lib.IngestionMapping.inline([{ source: 'Id', destination: '_id' }]),
    schedule: lib.IngestionSchedule.recurring({ frequency: lib.IngestionFrequency.MINUTE, interval: 30, startTime: '2025-01-01T00:00:00Z' }),
  });
  const destination = new lib.AepS3Destination(stack, 'Exports', { sandbox, bucket: s3.Bucket.fromBucketName(stack, 'OutBucket', 'acme-aep-exports') });
  destination.addDataflow('Audiences', { audiences: [{ audienceId: 'seg-1', schedule: lib.AudienceSchedule.onceFull({ startDate: '2025-02-01' }) }] });
  const template = app.synth().getStackByName('UpgradeApp').template;
  fs.rmSync(outdir, { recursive: true, force: true });
  return template;
}

if (require.main === module) {
  const [srcDir, out] = process.argv.slice(2);
  if (!srcDir || !out) throw new Error('usage: plan-upgrade-fixture.ts <library src dir> <output template>');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const lib = require(path.resolve(srcDir));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(upgradeFixtureTemplate(lib), null, 1) + '\n');
}
