/**
 * The README's facts about the example app match what `npm run demo` prints: the counts in
 * "Try it offline" come from the same inventory the demo prints (examples/demo-text.ts), and that
 * inventory matches the synthesized template's custom resources.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildExampleApp } from '../../examples/app';
import {
  audienceText, datasetScheduleText, doctorSummary, epochToUtc, exampleInventory, ingestionScheduleText, inventoryLines, inventoryPhrase,
  readableName, whatItDid,
} from '../../examples/demo-text';
import { DataflowResourceTypes, ResourceTypes } from '../../src/private/contract';

const root = path.resolve(__dirname, '../..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const app = buildExampleApp();
const inventory = exampleInventory(app);

test('the README counts the example app as the demo does', () => {
  const phrase = inventoryPhrase(inventory);
  expect(phrase).toBe('three destinations, two sources, three dataflows');
  expect(inventoryLines(inventory)[0]).toContain(phrase);
  const offline = readme.slice(readme.indexOf('**Try it offline'), readme.indexOf('## Contents'));
  expect(offline).toContain(`app (${phrase})`);
  expect(fs.readFileSync(path.join(root, 'examples/demo.ts'), 'utf8')).toContain(`(${phrase}, one stack)`);
});

test('the inventory agrees with the synthesized template', () => {
  const template = Template.fromStack(app.node.children.find((c): c is Stack => c instanceof Stack)!);
  const count = (type: string) => Object.keys(template.findResources(type)).length;
  expect(inventory.destinations).toHaveLength(count(ResourceTypes.DESTINATION_CONNECTION));
  expect(inventory.sources).toHaveLength(count(ResourceTypes.CONNECTION));
  expect(inventory.dataflows).toHaveLength(count(DataflowResourceTypes.FLOW));
  // Every custom resource gets a readable name (a construct path, not a cut logical id).
  for (const id of Object.keys(template.findResources('Custom::*'))) expect(readableName(id, inventory.names)).not.toMatch(/([0-9A-F]{8}|\/Resource|\/Default)$/);
});

test('the demo prints schedules as dates and steps in AEP terms', () => {
  expect(epochToUtc('1735689600')).toBe('2025-01-01 00:00 UTC');
  expect(ingestionScheduleText({ startTime: '1735689600', frequency: 'hour', interval: '1' })).toBe('every hour from 2025-01-01 00:00 UTC');
  expect(datasetScheduleText({ interval: '12', timeUnit: 'hour', startTime: '1735689600', endTime: '1767139200', exportMode: 'FIRST_FULL_THEN_INCREMENTAL' }))
    .toBe('every 12 hours from 2025-01-01 00:00 UTC until 2025-12-31 00:00 UTC (a full file first, then only what changed)');
  expect(audienceText({ id: '2d79d0d8-724f-49fc-a09d-d1dec338c93c', exportMode: 'DAILY_FULL_EXPORT', schedule: { frequency: 'DAILY', triggerType: 'AFTER_SEGMENT_EVAL', startDate: '2025-01-05' } }))
    .toBe('audience 2d79d0d8…: full file, daily after AEP evaluates the audience, from 2025-01-05');
  expect(whatItDid(ResourceTypes.DESTINATION_CONNECTION, 'Create')).toMatch(/^created the S3 destination: a base connection/);
  expect(doctorSummary('[ok]     a\n[ok]     b\n[PROBLEM] c\n', 1, 'r.txt')).toEqual(['the doctor found problems (exit code 1):', '  [PROBLEM] c', 'full report: r.txt']);
});
