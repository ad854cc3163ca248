// Schedules: PUT / GET / LIST / DELETE under a workspace. Bodies are validated by the ARM pre-handler against the
// swagger of the api-version asked for (test/emulator/swagger.ts: at 2024-04-01 the action may be `CreateMonitor`,
// the model monitor; at 2022-10-01 only CreateJob / InvokeBatchEndpoint). Triggers never fire on their own: a test runs
// a monitor schedule once with runMonitorSchedule (a test hook of the box, not an API), which computes the data drift
// signals with the same metric code as AzureMLDriftCheck@1 (src/tasks/driftCheck.ts compareTables) on the data the
// signal names and writes the results in the service's MLflow shape (test/emulator/monitorResults.ts).
//
// SOURCE: 2024-04-01 mfe.json (test/fixtures/third-party/azure-rest-api-specs/2024-04-01): Schedules_CreateOrUpdate,
// ScheduleResource, CreateMonitorAction {monitorDefinition}, MonitorDefinition {signals, computeConfiguration,
// monitoringTarget, alertNotificationSettings}, DataDriftMonitoringSignal {productionData, referenceData,
// metricThresholds, features}, RollingInputData {windowSize, windowOffset}.
// ASSUMPTION: PUT answers synchronously (200/201, provisioningState Succeeded); the real operation is a long-running
// one (x-ms-long-running-operation in the spec) and may answer 201 with Azure-AsyncOperation first.
// ASSUMPTION: the monitor's name in its MLflow tags (azureml.monitor_name) is the schedule's name.
// ASSUMPTION: a Rolling production window ends at now − windowOffset and spans windowSize, counted in whole hour folders
// as AzureMLDriftCheck@1 counts them; other input types read every file.
import type { EmulatorContext } from '../context';
import { fail, type Router } from '../http';
import {
  RP,
  WS,
  childId,
  page,
  requireBody,
  requireWorkspace,
  systemData,
  type SystemData,
  type WorkspaceRecord,
} from '../armkit';
import { assetById } from './assets';
import { MlflowStore } from '../mlflow';
import { publishMonitorResults, type MonitorMetricResult } from '../monitorResults';
import { ColumnTable, lineSink } from '../../../src/tasks/drift/table';
import { compareTables, type DriftInputs } from '../../../src/tasks/driftCheck';
import {
  DEFAULT_THRESHOLDS,
  breaches,
  type CategoricalMetric,
  type NumericalMetric,
} from '../../../src/tasks/drift/metrics';
import { partitionHour } from '../../../src/azureml/dataRead';
import { isoDurationMs } from '../../../src/azureml/normalize';

const KIND = 'schedules';
interface ScheduleRecord {
  id: string;
  name: string;
  properties: Record<string, any>;
  systemData: SystemData;
  executions?: number;
}

const view = (s: ScheduleRecord) => ({
  id: s.id,
  name: s.name,
  type: `${RP}/workspaces/schedules`,
  systemData: s.systemData,
  properties: { ...s.properties, provisioningState: 'Succeeded' },
});

export function register(router: Router, ctx: EmulatorContext): void {
  router.add('GET', `${WS}/schedules`, (req) => {
    const w = requireWorkspace(ctx, req);
    return {
      status: 200,
      body: page(ctx, req, ctx.store.list<ScheduleRecord>(KIND, childId(w, 'schedules') + '/').map(view)),
    };
  });
  router.add('GET', `${WS}/schedules/:name`, (req) => {
    const w = requireWorkspace(ctx, req);
    const s = ctx.store.get<ScheduleRecord>(KIND, childId(w, 'schedules', req.params.name));
    if (!s) fail(404, 'UserError', `Schedule ${req.params.name} not found.`);
    return { status: 200, body: view(s) };
  });
  router.add('PUT', `${WS}/schedules/:name`, (req) => {
    const w = requireWorkspace(ctx, req);
    const body = requireBody(req);
    const id = childId(w, 'schedules', req.params.name);
    const old = ctx.store.get<ScheduleRecord>(KIND, id);
    const { provisioningState: _p, ...props } = body.properties ?? {};
    const rec: ScheduleRecord = {
      id,
      name: req.params.name,
      systemData: systemData(req, old?.systemData),
      properties: { isEnabled: true, ...props },
      executions: old?.executions ?? 0,
    };
    ctx.store.put(KIND, id, rec);
    return { status: old ? 200 : 201, body: view(rec) };
  });
  router.add('DELETE', `${WS}/schedules/:name`, (req) => {
    const w = requireWorkspace(ctx, req);
    return { status: ctx.store.delete(KIND, childId(w, 'schedules', req.params.name)) ? 200 : 204 };
  });
}

/** azureml://…/datastores/<ds>/paths/<p>, or a data asset (azureml:<n>:<v> or its ARM id) → the blob prefix in Azurite */
function blobPrefix(ctx: EmulatorContext, w: WorkspaceRecord, uri: string): string {
  let u = uri.trim();
  const short = /^azureml:([^:/@]+):([^:/@]+)$/.exec(u);
  const armId = short
    ? childId(w, 'data', short[1]!, 'versions', short[2]!)
    : /\/data\/[^/]+\/versions\/[^/]+$/i.test(u)
      ? u.replace(/^azureml:/, '')
      : undefined;
  if (armId) {
    const a = assetById(ctx, armId);
    if (!a) throw new Error(`monitor input: data asset ${u} does not exist`);
    u = String(a.properties.dataUri);
  }
  const m = /\/datastores\/([^/]+)\/paths\/(.*)$/.exec(u);
  if (!m) throw new Error(`monitor input: cannot read ${u} (only workspaceblobstore paths and data assets)`);
  return m[2]!.replace(/^\/+/, '');
}

async function readTable(
  ctx: EmulatorContext,
  prefix: string,
  window?: { start: number; end: number },
): Promise<ColumnTable> {
  const cc = ctx.azurite.containerClient();
  const t = new ColumnTable();
  const names: string[] = [];
  for await (const b of cc.listBlobsFlat({ prefix })) {
    if (!/\.(jsonl|json|csv)$/i.test(b.name)) continue;
    if (window) {
      const h = partitionHour(b.name);
      if (h === undefined || h < Math.floor(window.start / 3_600_000) * 3_600_000 || h > window.end) continue;
    }
    names.push(b.name);
  }
  for (const n of names.sort()) {
    const text = (await cc.getBlobClient(n).downloadToBuffer()).toString('utf8');
    const sink = lineSink(t, /\.csv$/i.test(n) ? 'csv' : 'jsonl', n);
    for (const l of text.split(/\r?\n/)) if (l.trim()) sink.line(l);
    sink.end();
  }
  return t;
}

/**
 * Test hook: one execution of monitor schedule `name` (its DataDrift signals), results written to the workspace's
 * MLflow runs as the service writes them. Returns what was published.
 */
export async function runMonitorSchedule(
  ctx: EmulatorContext,
  ws: { subscriptionId: string; resourceGroup: string; workspace: string },
  name: string,
  now = new Date(),
): Promise<MonitorMetricResult[]> {
  const w = ctx.store
    .list<WorkspaceRecord>('workspaces')
    .find(
      (x) => x.subscriptionId === ws.subscriptionId && x.resourceGroup === ws.resourceGroup && x.name === ws.workspace,
    );
  if (!w) throw new Error(`no workspace ${ws.workspace}`);
  const id = childId(w, 'schedules', name);
  const s = ctx.store.get<ScheduleRecord>(KIND, id);
  if (!s) throw new Error(`no schedule ${name}`);
  const def = s.properties.action?.actionType === 'CreateMonitor' ? s.properties.action.monitorDefinition : undefined;
  if (!def) throw new Error(`schedule ${name} has no CreateMonitor action`);
  const results: MonitorMetricResult[] = [];
  for (const [signalName, sig] of Object.entries<any>(def.signals ?? {})) {
    if (sig?.signalType !== 'DataDrift') continue; // ASSUMPTION: only data drift signals are computed by the box
    const prod = sig.productionData;
    let window: { start: number; end: number } | undefined;
    if (prod.inputDataType === 'Rolling') {
      const end = now.getTime() - (isoDurationMs(prod.windowOffset) ?? 0);
      window = { start: end - (isoDurationMs(prod.windowSize) ?? 0), end };
    }
    const ref = await readTable(ctx, blobPrefix(ctx, w, sig.referenceData.uri));
    const cur = await readTable(ctx, blobPrefix(ctx, w, prod.uri), window);
    const th = (sig.metricThresholds ?? []) as Array<{
      dataType: 'Numerical' | 'Categorical';
      metric?: string;
      threshold?: { value?: number };
    }>;
    const num = th.filter((t) => t.dataType === 'Numerical'),
      cat = th.filter((t) => t.dataType === 'Categorical');
    const rounds = Math.max(1, num.length, cat.length);
    for (let k = 0; k < rounds; k++) {
      const n = num[k] ?? num[0],
        c = cat[k] ?? cat[0];
      const inputs: DriftInputs = {
        referenceData: 'x',
        collection: 'model_inputs',
        lookbackMs: 1,
        features: sig.features?.filterType === 'FeatureSubset' ? sig.features.features : [],
        numericalFeatures: Object.entries<string>(sig.featureDataTypeOverride ?? {})
          .filter(([, t]) => t === 'Numerical')
          .map(([f]) => f),
        categoricalFeatures: Object.entries<string>(sig.featureDataTypeOverride ?? {})
          .filter(([, t]) => t === 'Categorical')
          .map(([f]) => f),
        numericalMetric: (n?.metric ?? DEFAULT_THRESHOLDS.numerical.metric) as NumericalMetric,
        numericalThreshold: n?.threshold?.value ?? DEFAULT_THRESHOLDS.numerical.threshold,
        categoricalMetric: (c?.metric ?? DEFAULT_THRESHOLDS.categorical.metric) as CategoricalMetric,
        categoricalThreshold: c?.threshold?.value ?? DEFAULT_THRESHOLDS.categorical.threshold,
        failOnDrift: false,
      };
      const rep = compareTables(ref, cur, inputs);
      for (const f of rep.features) {
        if (
          (f.kind === 'numerical' && k >= Math.max(1, num.length)) ||
          (f.kind === 'categorical' && k >= Math.max(1, cat.length))
        )
          continue;
        results.push({
          signal: signalName,
          feature: f.feature,
          metric: f.metric,
          value: f.value,
          threshold: f.threshold,
          breached: breaches(f.metric, f.value, f.threshold),
        });
      }
    }
  }
  s.executions = (s.executions ?? 0) + 1;
  ctx.store.put(KIND, id, s);
  publishMonitorResults(new MlflowStore(ctx.store), w.id, {
    monitor: name,
    step: s.executions,
    results,
    now: now.getTime(),
  });
  return results;
}
