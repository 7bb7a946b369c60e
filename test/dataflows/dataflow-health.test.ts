/**
 * Dataflow health at synth: one checker function per stack (the handler bundle's
 * `healthCheckHandler`), one schedule per watched dataflow, four alarms whose defaults come from
 * the dataflow's schedule, SNS actions, least-privilege IAM, the re-enable opt-in, validation.
 */
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ingestion, setup, START } from './health-fixture';
import {
  AepS3Destination, AudienceSchedule, DataflowHealth, DatasetExportSchedule, DatasetFileType, ExportType,
  IncrementalFrequency, IngestionFrequency,
} from '../../src';
import { DataflowResourceTypes, FlowProps, HealthEventKeys, HealthMetric } from '../../src/private/contract';

// Its cdk-nag check is in test/nag.test.ts (one file loads cdk-nag for every check).

const HEALTH_HANDLER = 'index.healthCheckHandler';
const alarmsOf = (t: Template) => Object.values(t.findResources('AWS::CloudWatch::Alarm')) as any[];
/** The literal text of a rule target's input template (tokens dropped). */
const inputText = (rule: any): string => {
  const template = rule.Properties.Targets[0].InputTransformer.InputTemplate;
  return typeof template === 'string' ? template : template['Fn::Join'][1].filter((p: unknown) => typeof p === 'string').join('');
};
const byMetric = (t: Template, name: string) => alarmsOf(t).filter((a) => a.Properties.MetricName === name);

describe('DataflowHealth.alarms', () => {
  test('one checker from the handler bundle, one schedule per dataflow with the scheduled time in its input, four alarms to the topic', () => {
    const { stack, source, topic } = setup();
    source.addDataflow('Crm', ingestion(IngestionFrequency.HOUR, 6, { health: DataflowHealth.alarms({ alarmTopic: topic }) }));
    source.addDataflow('Web', ingestion(IngestionFrequency.DAY, 1, { health: DataflowHealth.alarms() }));
    const t = Template.fromStack(stack);
    const fns = Object.values(t.findResources('AWS::Lambda::Function')) as any[];
    const checkers = fns.filter((f) => f.Properties.Handler === HEALTH_HANDLER);
    expect(checkers).toHaveLength(1);
    const onEvent = fns.find((f) => f.Properties.Handler === 'index.handler')!;
    expect(checkers[0].Properties.Code.S3Key).toEqual(onEvent.Properties.Code.S3Key);

    const rules = Object.values(t.findResources('AWS::Events::Rule')) as any[];
    expect(rules).toHaveLength(2);
    for (const rule of rules) {
      expect(rule.Properties.ScheduleExpression).toBe('rate(1 hour)');
      const target = rule.Properties.Targets[0];
      expect(JSON.stringify(target.InputTransformer.InputPathsMap)).toContain('$.time');
      expect(inputText(rule)).toContain(`"${HealthEventKeys.TIME}":<time>`);
      expect(inputText(rule)).toContain(`"${HealthEventKeys.RUNS_WINDOW_SECONDS}":"`);
    }
    expect(alarmsOf(t)).toHaveLength(8);
    for (const name of Object.values(HealthMetric).filter((v) => v !== HealthMetric.NAMESPACE && v !== HealthMetric.DIMENSION)) {
      expect(byMetric(t, name)).toHaveLength(2);
    }
    // Only the first dataflow's alarms notify the topic, on ALARM and OK.
    const withActions = alarmsOf(t).filter((a) => a.Properties.AlarmActions);
    expect(withActions).toHaveLength(4);
    for (const a of withActions) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) }]);
      expect(a.Properties.OKActions).toEqual(a.Properties.AlarmActions);
      expect(a.Properties.Dimensions[0].Name).toBe(HealthMetric.DIMENSION);
    }
  });

  test('defaults follow the schedule: no success for 2x the interval; runs window = the interval (at least one check period)', () => {
    const { stack, source } = setup();
    source.addDataflow('SixHourly', ingestion(IngestionFrequency.HOUR, 6, { health: DataflowHealth.alarms() }));
    source.addDataflow('Quarter', ingestion(IngestionFrequency.MINUTE, 15, { health: DataflowHealth.alarms() }));
    const t = Template.fromStack(stack);
    expect(byMetric(t, HealthMetric.HOURS_SINCE_SUCCESS).map((a) => a.Properties.Threshold).sort()).toEqual([0.5, 12]);
    const windows = (Object.values(t.findResources('AWS::Events::Rule')) as any[])
      .map((r) => /"RunsWindowSeconds":"(\d+)"/.exec(inputText(r))![1]).sort();
    expect(windows).toEqual(['21600', '3600']);
    for (const a of alarmsOf(t)) {
      expect(a.Properties).toMatchObject({ Period: 3600, EvaluationPeriods: 2, DatapointsToAlarm: 1, Statistic: 'Maximum', Namespace: HealthMetric.NAMESPACE });
    }
  });

  test('user thresholds and check interval', () => {
    const { stack, source } = setup();
    source.addDataflow('Crm', ingestion(IngestionFrequency.DAY, 1, {
      health: DataflowHealth.alarms({
        checkEvery: Duration.minutes(30),
        failedRunsThreshold: 3,
        emptyRunsThreshold: 2,
        maxTimeWithoutSuccess: Duration.hours(36),
        runsWindow: Duration.days(2),
      }),
    }));
    const t = Template.fromStack(stack);
    expect(byMetric(t, HealthMetric.FAILED_RUNS)[0].Properties).toMatchObject({ Threshold: 3, Period: 1800, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect(byMetric(t, HealthMetric.EMPTY_RUNS)[0].Properties.Threshold).toBe(2);
    expect(byMetric(t, HealthMetric.HOURS_SINCE_SUCCESS)[0].Properties).toMatchObject({ Threshold: 36, ComparisonOperator: 'GreaterThanThreshold' });
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(30 minutes)' });
  });

  test('audience and dataset exports: intervals from their schedules', () => {
    const { stack, sandbox } = setup();
    const audiences = new AepS3Destination(stack, 'Aud', { sandbox, bucket: s3.Bucket.fromBucketName(stack, 'B2', 'acme-out') });
    audiences.addDataflow('Exports', {
      audiences: [
        { audienceId: 'seg-1', schedule: AudienceSchedule.dailyFullAfterSegmentation({ startDate: '2025-01-05' }) },
        { audienceId: 'seg-2', schedule: AudienceSchedule.incremental(IncrementalFrequency.EVERY_3_HOURS, { startDate: '2025-01-05' }) },
      ],
      health: DataflowHealth.alarms(),
    });
    const datasets = new AepS3Destination(stack, 'Ds', {
      sandbox, bucket: s3.Bucket.fromBucketName(stack, 'B3', 'acme-ds'), exportType: ExportType.DATASETS, datasetFileType: DatasetFileType.PARQUET,
    });
    datasets.addDatasetDataflow('Export', {
      datasets: [{ datasetId: '5f3c3cedb2805c194ff0b69a' }],
      schedule: DatasetExportSchedule.daily({ startTime: START, endTime: '2026-01-01T00:00:00Z' }),
      health: DataflowHealth.alarms(),
    });
    const t = Template.fromStack(stack);
    expect(byMetric(t, HealthMetric.HOURS_SINCE_SUCCESS).map((a) => a.Properties.Threshold).sort((a, b) => a - b)).toEqual([6, 48]);
    expect((Object.values(t.findResources('AWS::Lambda::Function')) as any[]).filter((f) => f.Properties.Handler === HEALTH_HANDLER)).toHaveLength(1);
  });

  test('least privilege: reads only the sandbox credential, writes only its own logs, no CloudWatch API permission (metrics are EMF log lines)', () => {
    const { stack, source } = setup();
    source.addDataflow('Crm', ingestion(IngestionFrequency.HOUR, 1, { health: DataflowHealth.alarms() }));
    const t = Template.fromStack(stack);
    const fn = (Object.entries(t.findResources('AWS::Lambda::Function')) as any[]).find(([, f]) => f.Properties.Handler === HEALTH_HANDLER)![1];
    const roleId = fn.Properties.Role['Fn::GetAtt'][0];
    const role = t.toJSON().Resources[roleId];
    const policies = Object.values(t.findResources('AWS::IAM::Policy')).filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === roleId)) as any[];
    const statements = [
      ...(role.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement),
      ...policies.flatMap((p) => p.Properties.PolicyDocument.Statement),
    ];
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.some((a: string) => a.startsWith('cloudwatch:'))).toBe(false);
    expect(actions.filter((a: string) => a.startsWith('secretsmanager:'))).toEqual(['secretsmanager:GetSecretValue']);
    const secretStatement = statements.find((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
    expect(JSON.stringify(secretStatement.Resource)).toContain('aep/creds');
    expect(statements.every((s) => s.Resource !== '*')).toBe(true);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('not watched: no checker, no schedule, no alarm, and the flow properties are as before', () => {
    const { stack, source } = setup();
    source.addDataflow('Crm', ingestion(IngestionFrequency.HOUR, 1));
    const t = Template.fromStack(stack);
    expect((Object.values(t.findResources('AWS::Lambda::Function')) as any[]).some((f) => f.Properties.Handler === HEALTH_HANDLER)).toBe(false);
    t.resourceCountIs('AWS::Events::Rule', 0);
    t.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    const [flow] = Object.values(t.findResources(DataflowResourceTypes.FLOW)) as any[];
    expect(flow.Properties).not.toHaveProperty(FlowProps.RE_ENABLE_WHEN_DISABLED_BY_AEP);
  });

  test('reEnableWhenDisabledByAep: true reaches the flow resource', () => {
    const { stack, source } = setup();
    source.addDataflow('Crm', ingestion(IngestionFrequency.HOUR, 1, { reEnableWhenDisabledByAep: true }));
    Template.fromStack(stack).hasResourceProperties(DataflowResourceTypes.FLOW, { [FlowProps.RE_ENABLE_WHEN_DISABLED_BY_AEP]: 'true' });
  });

  test.each([
    ['checkEvery of 30 seconds', { checkEvery: Duration.seconds(30) }, /Invalid health.checkEvery "30 seconds": must be whole minutes between 5 minutes and 1 day/],
    ['runsWindow shorter than checkEvery', { checkEvery: Duration.hours(2), runsWindow: Duration.hours(1) }, /Invalid health.runsWindow "3600 seconds": must be whole minutes between 2 hours and 30 days/],
    ['failedRunsThreshold 0', { failedRunsThreshold: 0 }, /Invalid health.failedRunsThreshold 0: must be a whole number of at least 1/],
    ['emptyRunsThreshold 1.5', { emptyRunsThreshold: 1.5 }, /Invalid health.emptyRunsThreshold 1.5: must be a whole number of at least 1/],
  ])('refuses %s, naming the property, the value and the rule', (_n, options, message) => {
    const { source } = setup();
    expect(() => source.addDataflow('Crm', ingestion(IngestionFrequency.HOUR, 1, { health: DataflowHealth.alarms(options) }))).toThrow(message);
  });

  test('deterministic: the same app synthesizes byte-identical templates', () => {
    const synth = () => {
      const { stack, source, topic } = setup();
      source.addDataflow('Crm', ingestion(IngestionFrequency.HOUR, 1, { health: DataflowHealth.alarms({ alarmTopic: topic }) }));
      return JSON.stringify(Template.fromStack(stack).toJSON());
    };
    expect(synth()).toBe(synth());
  });
});
