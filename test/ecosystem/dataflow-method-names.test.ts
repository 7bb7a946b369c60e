import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AepS3Destination, AudienceSchedule, DestinationDataflowOptions, ExportType } from '../../src';
import { ACCOUNT, REGION, newSandbox } from '../destination/util';

/**
 * A destination's dataflow methods say what they export: addAudienceDataflow beside
 * addDatasetDataflow. addDataflow stays one release as a deprecated alias of addAudienceDataflow.
 */
const options: DestinationDataflowOptions = {
  audiences: [{ audienceId: 'a1b2c3d4-0000-4000-8000-000000000001', schedule: AudienceSchedule.dailyFullAfterSegmentation({ startDate: '2026-01-01' }) }],
};

function synth(add: (d: AepS3Destination) => unknown, exportType = ExportType.AUDIENCES): Record<string, unknown> {
  const stack = new Stack(new App(), 'Names', { env: { account: ACCOUNT, region: REGION } });
  const destination = new AepS3Destination(stack, 'Exports', { sandbox: newSandbox(stack), bucket: s3.Bucket.fromBucketName(stack, 'B', 'acme-aep-exports'), exportType });
  add(destination);
  return Template.fromStack(stack).toJSON();
}

test('addAudienceDataflow adds the audience dataflow', () => {
  const template = synth((d) => d.addAudienceDataflow('Newsletter', options));
  expect(Object.keys(template.Resources as object).filter((id) => id.startsWith('ExportsNewsletter'))).not.toEqual([]);
});

test('the deprecated addDataflow synthesizes exactly what addAudienceDataflow does', () => {
  expect(synth((d) => d.addDataflow('Newsletter', options))).toEqual(synth((d) => d.addAudienceDataflow('Newsletter', options)));
});

test('on a dataset destination, addAudienceDataflow names itself and points to addDatasetDataflow', () => {
  expect(() => synth((d) => d.addAudienceDataflow('Newsletter', options), ExportType.DATASETS))
    .toThrow(/^Invalid exportType "DATASETS": addAudienceDataflow exports audiences: the destination needs ExportType.AUDIENCES \(use addDatasetDataflow for datasets\)/);
});
