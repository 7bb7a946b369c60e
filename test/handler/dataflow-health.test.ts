/**
 * Day two at the handler level, over real HTTP against the stand-in: the scheduled health check
 * of a dataflow (runs counted from `GET /runs` with filters and paging, bounded requests, one EMF
 * line of metrics), and what an Update does about drift AEP caused on its own (a source flow AEP
 * disabled after 30 days of failed runs; a dataset export near or past its endTime).
 */
import { cfnEvent, useHarness } from './harness';
import { AUTO_DISABLE_REASON } from '../../offline-world/stand-in/aep-runs';
import { handler, healthCheckHandler } from '../../src/handler/aep.lambda';
import { MAX_REQUESTS_PER_CHECK, MAX_RUN_PAGES } from '../../src/handler/resources/health-check';
import {
  AepIds, ConnectionProps, DataflowAttributes, DataflowConnectionProps, DataflowIds, DataflowResourceTypes, FlowProps, HealthEventKeys, HealthMetric,
  ResourceTypes, TargetConnectionProps,
} from '../../src/private/contract';

const h = useHarness();

const DAY = 86_400_000;
const HOUR = 3_600_000;
const FLOW = { resourceType: DataflowResourceTypes.FLOW, logicalId: 'Flow1' };
const SCHEMA = 'https://ns.adobe.com/acme/schemas/0123456789abcdef';

/** S3 source base (role), Parquet source connection, Data Lake target: the props of a daily ingestion flow. */
async function ingestionFlowProps(): Promise<Record<string, unknown>> {
  const { PhysicalResourceId: base } = await handler(cfnEvent('Create', {
    ...h.common(),
    [ConnectionProps.NAME]: 'acme-aep-s3-src-aws',
    [ConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_SOURCE_CONNECTION_SPEC,
    [ConnectionProps.AUTH_SPEC_NAME]: 'IAMRole Based',
    [ConnectionProps.AUTH_PARAMS]: { bucketName: 'acme-aep-inbound' },
  }, { logicalId: 'SourceBase' }));
  const { PhysicalResourceId: source } = await handler(cfnEvent('Create', {
    ...h.common(),
    [DataflowConnectionProps.NAME]: 'crm files',
    [DataflowConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_SOURCE_CONNECTION_SPEC,
    [DataflowConnectionProps.BASE_CONNECTION_ID]: base,
    [DataflowConnectionProps.DATA]: { format: 'parquet' },
    [DataflowConnectionProps.PARAMS]: { path: 'acme-aep-inbound/crm/', type: 'folder' },
  }, { resourceType: DataflowResourceTypes.SOURCE_CONNECTION, logicalId: 'SourceConnection' }));
  const { PhysicalResourceId: target } = await handler(cfnEvent('Create', {
    ...h.common(),
    [DataflowConnectionProps.NAME]: 'crm dataset',
    [DataflowConnectionProps.CONNECTION_SPEC_ID]: DataflowIds.DATA_LAKE_TARGET_CONNECTION_SPEC,
    [DataflowConnectionProps.DATA]: { schema: { id: SCHEMA, version: DataflowIds.XDM_FULL_CONTENT_TYPE } },
    [DataflowConnectionProps.PARAMS]: { dataSetId: '0123456789abcdef01234567' },
  }, { resourceType: DataflowResourceTypes.DATASET_TARGET_CONNECTION, logicalId: 'DatasetTarget' }));
  return {
    ...h.common(),
    [FlowProps.NAME]: 'crm ingestion',
    [FlowProps.FLOW_SPEC_ID]: DataflowIds.CLOUD_STORAGE_FLOW_SPEC,
    [FlowProps.FLOW_SPEC_NAME]: DataflowIds.CLOUD_STORAGE_FLOW_SPEC_NAME,
    [FlowProps.SOURCE_CONNECTION_ID]: source,
    [FlowProps.TARGET_CONNECTION_ID]: target,
    [FlowProps.SCHEDULE]: { startTime: '1735689600', frequency: 'day', interval: '1' },
    [FlowProps.ENABLED]: 'true',
  };
}

async function deployIngestion(): Promise<{ id: string; props: Record<string, unknown> }> {
  const props = await ingestionFlowProps();
  const { PhysicalResourceId: id } = await handler(cfnEvent('Create', props, FLOW));
  return { id, props };
}

/** The event the construct's schedule sends (EventBridge fills in the time). */
function checkEvent(flowId: string, at: number, windowSeconds = 86_400, enabled = 'true'): Record<string, unknown> {
  return {
    ...h.common(),
    [HealthEventKeys.FLOW_ID]: flowId,
    [HealthEventKeys.DECLARED_ENABLED]: enabled,
    [HealthEventKeys.RUNS_WINDOW_SECONDS]: String(windowSeconds),
    [HealthEventKeys.TIME]: new Date(at).toISOString(),
  };
}

/** The EMF documents the handler wrote in the health namespace. */
function healthMetrics(): Array<Record<string, any>> {
  return h.logRecords().filter((r: any) => r._aws?.CloudWatchMetrics?.[0]?.Namespace === HealthMetric.NAMESPACE);
}

/** Failing daily runs for `days` days up to now on the world clock, the clock moving with them (AEP's rule runs as it moves). */
function failDaily(flowId: string, days: number): void {
  for (let d = 0; d < days; d++) {
    h.aep.dataflows.addRun(flowId, { status: 'Failed' });
    h.aep.dataflows.runs.advanceClock(DAY);
  }
}

describe('scheduled health check of a dataflow', () => {
  test('counts failed and empty runs in the window, hours since the last success, in one EMF line, reading only', async () => {
    const { id } = await deployIngestion();
    const now = h.aep.dataflows.runs.now();
    const runs = h.aep.dataflows;
    runs.addRun(id, { status: 'Success', files: 4, startedAt: now - 30 * HOUR }); // outside the 24 h window
    runs.addRun(id, { status: 'Failed', startedAt: now - 30 * HOUR });
    runs.addRun(id, { status: 'Success', files: 3, startedAt: now - 20 * HOUR });
    runs.addRun(id, { status: 'failed', startedAt: now - 12 * HOUR });
    runs.addRun(id, { status: 'Failed', startedAt: now - 6 * HOUR });
    runs.addRun(id, { status: 'Success', files: 0, startedAt: now - 4 * HOUR });
    runs.addRun(id, { status: 'success', files: 2, records: 0, startedAt: now - 2 * HOUR });
    runs.addRun(id, { status: 'Processing', startedAt: now - HOUR });
    h.aep.resetRecording();

    const report = await healthCheckHandler(checkEvent(id, now));

    expect(report).toMatchObject({ failedRuns: 2, emptyRuns: 2, runsInWindow: 6, disabled: 0, state: 'enabled', truncated: false });
    // The newest success (2 h ago, 0 records) ended a minute after it started.
    expect(report.hoursSinceLastSuccess).toBeCloseTo(2 - 1 / 60, 2);
    const [emf] = healthMetrics();
    expect(emf._aws.Timestamp).toBe(now);
    expect(emf).toMatchObject({
      [HealthMetric.DIMENSION]: id, [HealthMetric.FAILED_RUNS]: 2, [HealthMetric.EMPTY_RUNS]: 2, [HealthMetric.DISABLED]: 0,
    });
    const calls = h.aep.requests.filter((r) => r.path.includes('/flowservice/'));
    expect(calls.every((r) => r.method === 'GET')).toBe(true);
    expect(calls.length).toBe(report.requests);
    expect(report.requests).toBe(2);
  });

  test('pages through the window with continuationToken, at most MAX_RUN_PAGES pages; the newest success before the window costs one more GET', async () => {
    const { id } = await deployIngestion();
    const now = h.aep.dataflows.runs.now();
    h.aep.dataflows.addRun(id, { status: 'Success', files: 1, startedAt: now - 5 * DAY });
    for (let i = 0; i < 250; i++) h.aep.dataflows.addRun(id, { status: 'Failed', startedAt: now - 23 * HOUR + i * 60_000 });
    h.aep.resetRecording();
    const report = await healthCheckHandler(checkEvent(id, now));
    expect(report).toMatchObject({ failedRuns: 250, runsInWindow: 250, truncated: false, requests: 1 + 3 + 1 });
    expect(report.hoursSinceLastSuccess).toBeCloseTo(5 * 24 - 1 / 60, 2);
    const runReads = h.aep.requests.filter((r) => r.path.includes('/runs'));
    expect(runReads.filter((r) => r.query.continuationToken !== undefined)).toHaveLength(2);

    for (let i = 0; i < 100; i++) h.aep.dataflows.addRun(id, { status: 'Failed', startedAt: now - 22 * HOUR + i * 60_000 + 1 });
    const capped = await healthCheckHandler(checkEvent(id, now));
    expect(capped).toMatchObject({ failedRuns: MAX_RUN_PAGES * 100, truncated: true });
    expect(capped.requests).toBeLessThanOrEqual(MAX_REQUESTS_PER_CHECK);
  });

  test('a flow AEP disabled after 30 days of failed runs: disabled metric 1, AEP\'s reason in the log; declared disabled, it is no alarm', async () => {
    const { id } = await deployIngestion();
    failDaily(id, 30);
    expect(h.aep.flows().find((f) => f.id === id)!.state).toBe('disabled');
    const now = h.aep.dataflows.runs.now();
    // A 36-hour window holds the last daily failure.
    const report = await healthCheckHandler(checkEvent(id, now, 36 * 3600));
    expect(report).toMatchObject({ disabled: 1, state: 'disabled', failedRuns: 1 });
    expect(report.aepReason).toContain(AUTO_DISABLE_REASON.message);
    // Never succeeded: hours since the flow was created (30 days of world clock ago).
    expect(report.hoursSinceLastSuccess).toBeGreaterThanOrEqual(30 * 24);
    expect(h.logRecords().some((r) => r.level === 'warn' && String(r.message).includes('disabled by AEP'))).toBe(true);
    expect((await healthCheckHandler(checkEvent(id, now, 86_400, 'false'))).disabled).toBe(0);
  });
});

describe('drift AEP causes, on deploy', () => {
  const rename = (props: Record<string, unknown>) => ({ ...props, [FlowProps.NAME]: 'crm ingestion (renamed)' });

  test('an Update finds the flow AEP disabled: reported with AEP\'s reason (Data.AepNotice), left disabled by default', async () => {
    const { id, props } = await deployIngestion();
    failDaily(id, 31);
    h.aep.resetRecording();
    const res = await handler(cfnEvent('Update', rename(props), { ...FLOW, physicalId: id, oldProps: props }));
    expect(res.PhysicalResourceId).toBe(id);
    expect(String(res.Data![DataflowAttributes.AEP_NOTICE])).toContain(AUTO_DISABLE_REASON.message);
    expect(String(res.Data![DataflowAttributes.AEP_NOTICE])).toContain('reEnableWhenDisabledByAep');
    expect(h.aep.flows().find((f) => f.id === id)!.state).toBe('disabled');
    expect(h.aep.requests.some((r) => r.path.includes('/action'))).toBe(false);
    expect(h.logRecords().some((r) => r.level === 'warn' && String(r.notice).includes(AUTO_DISABLE_REASON.message))).toBe(true);
  });

  test('with reEnableWhenDisabledByAep the Update enables it again (POST /flows/{id}/action?op=enable) and says so', async () => {
    const { id, props } = await deployIngestion();
    failDaily(id, 31);
    const optIn = { ...props, [FlowProps.RE_ENABLE_WHEN_DISABLED_BY_AEP]: 'true' };
    h.aep.resetRecording();
    const res = await handler(cfnEvent('Update', rename(optIn), { ...FLOW, physicalId: id, oldProps: props }));
    expect(h.aep.flows().find((f) => f.id === id)!.state).toBe('enabled');
    expect(h.aep.requests.filter((r) => r.method === 'POST' && r.path.includes('/action'))).toHaveLength(1);
    expect(String(res.Data![DataflowAttributes.AEP_NOTICE])).toMatch(/enabled again on deploy/);
  });

  test('a flow disabled by a person (no AEP reason) is enabled again as before, and reported', async () => {
    const { id, props } = await deployIngestion();
    const token = h.aep.issueToken();
    const res0 = await fetch(`${h.aep.flowServiceUrl}/flows/${id}/action?op=disable`, { method: 'POST', headers: h.aep.flowServiceHeaders(token) });
    expect(res0.status).toBe(200);
    const res = await handler(cfnEvent('Update', rename(props), { ...FLOW, physicalId: id, oldProps: props }));
    expect(h.aep.flows().find((f) => f.id === id)!.state).toBe('enabled');
    expect(String(res.Data![DataflowAttributes.AEP_NOTICE])).toMatch(/disabled outside the stack/);
  });

  test('an Update with nothing AEP changed adds no notice', async () => {
    const { id, props } = await deployIngestion();
    const res = await handler(cfnEvent('Update', rename(props), { ...FLOW, physicalId: id, oldProps: props }));
    expect(res.Data).not.toHaveProperty(DataflowAttributes.AEP_NOTICE);
  });

  describe('dataset exports near or past their endTime', () => {
    async function deployDatasetExport(endTimeSeconds: number) {
      const { PhysicalResourceId: base } = await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey('aep/key-ds')), { logicalId: 'Base' }));
      const { PhysicalResourceId: target } = await handler(cfnEvent('Create', {
        ...h.common(),
        [TargetConnectionProps.NAME]: 'dataset exports',
        [TargetConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_DESTINATION_CONNECTION_SPEC,
        [TargetConnectionProps.BASE_CONNECTION_ID]: base,
        [TargetConnectionProps.PARAMS]: { mode: 'Server-to-server', bucketName: 'acme-aep-exports', path: 'aep/datasets', compression: 'GZIP', datasetFileType: 'JSON' },
      }, { resourceType: ResourceTypes.TARGET_CONNECTION, logicalId: 'Target' }));
      const { PhysicalResourceId: source } = await handler(cfnEvent('Create', {
        ...h.common(),
        [DataflowConnectionProps.NAME]: 'datasets',
        [DataflowConnectionProps.CONNECTION_SPEC_ID]: DataflowIds.DATA_LAKE_SOURCE_SPEC,
        [DataflowConnectionProps.PARAMS]: { datasets: [{ dataSetId: '5f3c3cedb2805c194ff0b69a', name: 'dataset' }] },
      }, { resourceType: DataflowResourceTypes.SOURCE_CONNECTION, logicalId: 'DataLake' }));
      const props = {
        ...h.common(),
        [FlowProps.NAME]: 'datasets to S3',
        [FlowProps.FLOW_SPEC_ID]: DataflowIds.S3_DATASET_FLOW_SPEC,
        [FlowProps.SOURCE_CONNECTION_ID]: source,
        [FlowProps.TARGET_CONNECTION_ID]: target,
        [FlowProps.DATASET_SCHEDULE]: {
          interval: '6', timeUnit: 'hour', startTime: '1735689600', endTime: String(endTimeSeconds), exportMode: 'FIRST_FULL_THEN_INCREMENTAL',
        },
        [FlowProps.ENABLED]: 'true',
      };
      const { PhysicalResourceId: id } = await handler(cfnEvent('Create', props, { resourceType: DataflowResourceTypes.FLOW, logicalId: 'DatasetFlow' }));
      return { id, props };
    }
    const update = (id: string, props: Record<string, unknown>) =>
      handler(cfnEvent('Update', { ...props, [FlowProps.NAME]: 'datasets to S3 (renamed)' }, { resourceType: DataflowResourceTypes.FLOW, logicalId: 'DatasetFlow', physicalId: id, oldProps: props }));

    test('ending within 30 days: reported with the date and the fix', async () => {
      const end = Math.floor((Date.now() + 10 * DAY) / 1000);
      const { id, props } = await deployDatasetExport(end);
      const res = await update(id, props);
      expect(String(res.Data![DataflowAttributes.AEP_NOTICE])).toContain(`stops at its endTime ${new Date(end * 1000).toISOString()} (in 10 days)`);
    });

    test('past its endTime (AEP exports nothing any more): reported; far from it: nothing', async () => {
      const far = Math.floor((Date.now() + 120 * DAY) / 1000);
      const { id, props } = await deployDatasetExport(far);
      expect((await update(id, props)).Data).not.toHaveProperty(DataflowAttributes.AEP_NOTICE);
      // Months later in AEP's time: the stored end has passed (AEP does not change it; time does).
      // Months later: the declared end (stored as declared) has passed; time moved, nothing else did.
      const past = Math.floor((Date.now() - DAY) / 1000);
      h.aep.dataflows.flows.get(id)!.scheduleParams!.endTime = past;
      const later = { ...props, [FlowProps.DATASET_SCHEDULE]: { ...(props[FlowProps.DATASET_SCHEDULE] as object), endTime: String(past) } };
      h.aep.resetRecording();
      const res = await update(id, later);
      expect(h.aep.requests.filter((r) => r.method === 'PATCH').map((r) => JSON.stringify(r.body))).not.toContainEqual(expect.stringContaining('endTime'));
      expect(String(res.Data![DataflowAttributes.AEP_NOTICE])).toMatch(/ended at its endTime .* exports nothing any more/);
    });
  });
});
