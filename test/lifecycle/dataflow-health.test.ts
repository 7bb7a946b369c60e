/**
 * Day two, end to end in the offline world: a source dataflow deployed with health alarms by the
 * CloudFormation simulator (bundled handler, IAM evaluated); its runs fail every day; on day 30
 * AEP disables it (the stand-in's June-2026 rule); the stack's checker, invoked by its
 * EventBridge schedule with the scheduled time, publishes EMF metrics; the synthesized alarms,
 * evaluated as CloudWatch does over those datapoints, go to ALARM. The next deploy reports AEP's
 * reason and leaves the flow disabled; a deploy with reEnableWhenDisabledByAep enables it.
 */
import { Duration } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { alarmDefinition, type AlarmState, type Datapoint, evaluateAlarm } from '../../offline-world/cloudwatch-alarm';
import { ScenarioScope, ScenarioWorld } from '../../offline-world/scenario';
import { AUTO_DISABLE_REASON } from '../../offline-world/stand-in/aep-runs';
import { AepS3Source, DataflowHealth, IngestionFormat, IngestionFrequency, IngestionSchedule } from '../../src';
import { MAX_REQUESTS_PER_CHECK } from '../../src/handler/resources/health-check';
import { DataflowAttributes, DataflowResourceTypes, HealthMetric } from '../../src/private/contract';

jest.setTimeout(180_000);

const DAY = 86_400_000;

let w: ScenarioWorld;
beforeEach(async () => {
  w = await ScenarioWorld.start('DayTwo');
});
afterEach(async () => {
  await w.close();
});

function app(o: { description?: string; reEnable?: boolean } = {}) {
  return ({ stack, sandbox }: ScenarioScope) => {
    const source = new AepS3Source(stack, 'Inbound', { sandbox: sandbox(), bucket: s3.Bucket.fromBucketName(stack, 'InBucket', 'acme-aep-inbound'), folderPath: 'crm' });
    source.addDataflow('Crm', {
      path: '/acme-aep-inbound/crm/*.parquet',
      format: IngestionFormat.parquet(),
      datasetId: '5f3c3cedb2805c194ff0b69a',
      schemaId: 'https://ns.adobe.com/acme/schemas/995dabbe',
      schedule: IngestionSchedule.recurring({ frequency: IngestionFrequency.DAY, interval: 1, startTime: '2025-01-01T00:00:00Z' }),
      description: o.description,
      // A daily check: a month of world time in 32 invocations.
      health: DataflowHealth.alarms({ checkEvery: Duration.days(1) }),
      reEnableWhenDisabledByAep: o.reEnable,
    });
  };
}

/** Datapoints of one health metric from the checker's EMF lines (seconds, as the evaluator takes them). */
function datapoints(metric: string): Datapoint[] {
  return w.logs.flatMap((l) => l.split('\n')).filter((l) => l.includes(HealthMetric.NAMESPACE)).map((l) => JSON.parse(l))
    .filter((r) => r._aws?.CloudWatchMetrics?.[0]?.Namespace === HealthMetric.NAMESPACE)
    .map((r) => ({ time: Math.floor(r._aws.Timestamp / 1000), value: Number(r[metric]) }));
}

function stateAt(evals: Array<{ time: number; state: AlarmState }>, time: number): AlarmState {
  return [...evals].reverse().find((e) => e.time <= time)!.state;
}

test('a source flow failing daily: AEP disables it on day 30, the checker publishes, the alarms fire; the next deploy reports, an opt-in deploy re-enables', async () => {
  let template: any;
  expect((await w.deploy(app(), 'create', (t) => (template = t))).status).toBe('CREATE_COMPLETE');
  const flowId = w.sim.resources().find((r) => r.type === DataflowResourceTypes.FLOW)!.physicalId;
  const runs = w.aep.dataflows.runs;
  const t0 = runs.now();

  // One failed run a day; the schedule fires an hour after each run.
  const checkTimes: number[] = [];
  let disabledOn: number | undefined;
  for (let day = 0; day <= 31; day++) {
    w.aep.dataflows.addRun(flowId, { status: 'Failed' });
    runs.advanceClock(3_600_000);
    if (disabledOn === undefined && w.aep.flows().find((f) => f.id === flowId)!.state === 'disabled') disabledOn = day;
    w.aep.resetRecording();
    expect(await w.sim.runSchedules('health', new Date(runs.now()))).toBe(1);
    const calls = w.aep.requests.filter((r) => r.path.includes('/flowservice/'));
    expect(calls.length).toBeLessThanOrEqual(MAX_REQUESTS_PER_CHECK);
    expect(calls.every((r) => r.method === 'GET')).toBe(true);
    checkTimes.push(runs.now());
    runs.advanceClock(DAY - 3_600_000);
  }
  expect(disabledOn).toBe(30);

  const alarms = Object.values<any>(template.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
  const alarmOf = (metric: string) => alarmDefinition(alarms.find((a) => a.Properties.MetricName === metric));
  const window = { from: Math.floor(t0 / 1000), to: Math.floor(runs.now() / 1000) };
  const disabled = evaluateAlarm(alarmOf(HealthMetric.DISABLED), datapoints(HealthMetric.DISABLED), window);
  const checkSecond = (day: number) => Math.floor(checkTimes[day] / 1000);
  // OK while AEP keeps it enabled; ALARM once the day-30 check is ingested.
  expect(stateAt(disabled, checkSecond(29) + 120)).toBe('OK');
  expect(stateAt(disabled, checkSecond(30) - 60)).toBe('OK');
  expect(stateAt(disabled, checkSecond(30) + 120)).toBe('ALARM');
  expect(stateAt(disabled, checkSecond(31) + 120)).toBe('ALARM');
  // Failed runs: from the first check on. No success ever: past 48 hours (2 x daily) after creation.
  const failed = evaluateAlarm(alarmOf(HealthMetric.FAILED_RUNS), datapoints(HealthMetric.FAILED_RUNS), window);
  expect(stateAt(failed, checkSecond(0) + 120)).toBe('ALARM');
  const stale = evaluateAlarm(alarmOf(HealthMetric.HOURS_SINCE_SUCCESS), datapoints(HealthMetric.HOURS_SINCE_SUCCESS), window);
  expect(stateAt(stale, checkSecond(1) + 120)).not.toBe('ALARM');
  expect(stateAt(stale, checkSecond(3) + 120)).toBe('ALARM');

  // The next deploy (a description change): reported with AEP's reason, left disabled.
  expect((await w.deploy(app({ description: 'CRM files' }), 'update')).status).toBe('UPDATE_COMPLETE');
  const flowLogical = w.sim.resources().find((r) => r.type === DataflowResourceTypes.FLOW)!.logicalId;
  expect(String(w.sim.resource(flowLogical)!.attributes[DataflowAttributes.AEP_NOTICE])).toContain(AUTO_DISABLE_REASON.message);
  expect(w.aep.flows().find((f) => f.id === flowId)!.state).toBe('disabled');

  // Asked to: enabled again on deploy.
  expect((await w.deploy(app({ description: 'CRM files', reEnable: true }), 'update')).status).toBe('UPDATE_COMPLETE');
  expect(w.aep.flows().find((f) => f.id === flowId)!.state).toBe('enabled');
  expect(await w.violations()).toEqual([]);
});
