/**
 * Project issue #20 §4.7: a destination dataflow's file-name template holds only AEP's macros
 * (API-NOTES §5.6, [spec-dst] "(Beta) File Name Template"), spelled exactly; anything else is
 * refused at synth, naming the property, the value and the rule.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AepS3Destination, AepSandbox, AudienceSchedule, IncrementalFrequency } from '../../src';
import { DataflowResourceTypes } from '../../src/private/contract';

function destination() {
  const stack = new Stack(new App(), 'S', { env: { account: '111122223333', region: 'us-east-1' } });
  const sandbox = new AepSandbox({ credentials: secretsmanager.Secret.fromSecretNameV2(stack, 'C', 'aep/creds'), sandboxName: 'prod' });
  return { stack, dst: new AepS3Destination(stack, 'Dst', { sandbox, bucket: s3.Bucket.fromBucketName(stack, 'B', 'acme-out') }) };
}

const schedule = AudienceSchedule.incremental(IncrementalFrequency.EVERY_3_HOURS, { startDate: '2025-01-01' });
const withTemplate = (fileNameTemplate: string) => ({ audiences: [{ audienceId: 'a', schedule, fileNameTemplate }] });

test.each([
  ['%segment_id%', /%segment_id% is not an AEP file name macro/],
  ['%Segment_Id%_%TIMESTAMP%', /%Segment_Id% is not an AEP file name macro/],
  ['%SEGMENT_ID%_%DATETIME(bad)%', /%DATETIME\(bad\)% is not an AEP file name macro/],
  ['%SEGMENT_ID%_%DATETIME()%', /%DATETIME\(\)% is not an AEP file name macro/],
  ['%SEGMENT_ID', /an unpaired '%'/],
  ['export_%SEGMENT_ID%_%', /an unpaired '%'/],
  ['%SEGMENT_ID%%TIMESTAMP', /an unpaired '%'/],
])('%s is refused at synth, naming the property and the value', (template, rule) => {
  const { dst } = destination();
  let message = '';
  try {
    dst.addDataflow('Flow', withTemplate(template));
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message).toContain(`Invalid audiences[0].fileNameTemplate "${template}"`);
  expect(message).toMatch(rule);
});

test.each([
  '%SEGMENT_ID%',
  '%DESTINATION%_%SEGMENT_ID%_%DATETIME(YYYYMMdd_HHmmss)%',
  'acme_%SEGMENT_NAME%_%SANDBOX_NAME%.v1',
  'plain-name',
])('%s is accepted and sent as written', (template) => {
  const { stack, dst } = destination();
  dst.addDataflow('Flow', withTemplate(template));
  Template.fromStack(stack).hasResourceProperties(DataflowResourceTypes.FLOW, { Audiences: [{ id: 'a', fileNameTemplate: template }] });
});
