// AzureMLDriftCheck@1 action ensureMonitor, input `monitorFile`: the monitor schedule YAML `az ml schedule create -f`
// takes (Azure/azureml-examples cli/monitoring/*.yaml), converted to the 2024-04-01 Schedule body as azure-ai-ml
// converts it. Pure: the caller supplies the monitored deployment's collected data when a signal needs it.
//
// Sources (Azure/azure-sdk-for-python, sdk/ml/azure-ai-ml/azure/ai/ml/…; "id" = the stored-file index's id where the
// index did not show the commit):
//  S1 entities/_monitoring/signals.py @ 68ea396d9873209aa2193e8c60ff936df2a2ae4a — ProductionData / ReferenceData /
//     FADProductionData._to_rest_object (windows), every signal's _to_rest_object, _to_rest_features
//  S2 entities/_monitoring/thresholds.py (id 1079932495) — NumericalDriftMetrics / CategoricalDriftMetrics
//     _find_name_and_threshold (first metric given, in a fixed order), DataQualityMetricsNumerical/Categorical,
//     FeatureAttributionDriftMetricThreshold, CustomMonitoringMetricThreshold; snake_to_camel of the metric name
//  S3 entities/_monitoring/schedule.py MonitorSchedule._to_rest_object (id 183026505) — default window sizes from
//     the trigger (minute/hour: P1D/P2D; day: P{n}D/P{2n}D; week: P{7n}D/P{14n}D; month: P{30n}D/P{60n}D; else P7D/P14D)
//  S4 entities/_monitoring/definition.py (id 954063536) — MonitorDefinition._to_rest_object, default signals
//     (_populate_default_signal_information); constants/_monitoring.py (id 391346678) — their names
//  S5 operations/_schedule_operations.py _resolve_monitor_schedule_arm_id (id 267386444) — missing production /
//     reference data taken from the deployment's data collector (model_inputs / model_outputs)
//  S6 entities/_schedule/trigger.py @ 4a29c1016f0eb1eca6544550ff6c2fbe38e0498a — RecurrenceTrigger / CronTrigger /
//     RecurrencePattern._to_rest_object (scalars → lists, empty pattern when none, time_zone default UTC)
//  S7 _schema/monitoring/signals.py @ 934fb4782b37624ebf94cfe1a19517a064a70c14, thresholds.py @
//     d46c57137e11ac0702ff0822b4d959f1db7fcafc, compute.py @ f60f25c1097abb96e512f2bafddb0c621ac93327,
//     monitor_definition.py @ 9b7969e580cc4461be5e61516860bc323e141ec2 — the YAML keys
//  S8 entities/_monitoring/compute.py @ 09e4f88f668fcbe492003e54be1b77e774834e0a, alert_notification.py @
//     0dd091dbe6ae0630c49393bcadf56f3f5b978f6a, target.py @ 1c350bc57781dec5d60c06122a07b6e7facc92d7
// azure-ai-ml sends these through its 2023-06-01-preview REST models; the body here is 2024-04-01
// (test/fixtures/third-party/azure-rest-api-specs/2024-04-01/mfe.json). Where the two differ:
//  - the SDK's `Trailing` input data is 2024-04-01's `Rolling` (same windowSize / windowOffset / preprocessingComponentId);
//  - the SDK's per-signal `mode: Enabled|Disabled` is 2024-04-01's `notificationTypes: ['AmlNotification']` (alert_enabled
//    true) or nothing (false; the SDK's default is false);
//  - fields 2024-04-01 does not have are not sent (PredictionDrift modelType, Custom workspaceConnection); YAML that
//    needs one (data_segment, connection, alert_notification: azmonitoring) is refused;
//  - FeatureAttributionDrift requires featureImportanceSettings at 2024-04-01, which the SDK does not send: here
//    {mode: Enabled, targetColumn: the reference data's data_column_names.target_column}. ASSUMPTION (no source).
// Decisions where the SDK differs from the YAML's plain meaning:
//  - data_quality categorical thresholds: the SDK (S2 DataQualityMetricThreshold._to_rest_object) fills the
//    categorical list from the *numerical* values (and drops it when numerical is absent); here each list gets its own.
//  - two metrics under one data type: the SDK keeps the first (S2) silently; here that is refused.
//  - asset references (azureml:<name>:<version>, component ids) are sent as written; the SDK resolves them to ARM ids
//    first. ASSUMPTION: the service accepts the short form, as it does from the inputs form of ensureMonitor.
//  - enum case: taskType, featureDataTypeOverride values and week days are sent as the 2024-04-01 enums spell them.
import type { YamlSource, KeyPath } from '../../azureml/yamlSpec';
import {
  checkKeys,
  describe,
  expectMap,
  isPlainObject,
  loadYaml,
  optInt,
  optMap,
  optNumber,
  optString,
  optStringMap,
  reqString,
} from '../../azureml/yamlSpec';

type Body = Record<string, any>;

/** The deployment's collected data, as `_resolve_monitor_schedule_arm_id` reads it (S5). */
export interface CollectedData {
  /** the model_inputs collection's data (asset id or folder), undefined when it does not collect */
  inputs?: string;
  outputs?: string;
}

export interface MonitorYaml {
  src: YamlSource;
  name?: string;
  /** endpoint_deployment_id as endpoint + deployment, when it names one */
  deployment?: { endpoint: string; deployment: string };
  /** some signal (or the default signals) needs the deployment's collected data */
  needsCollected: boolean;
}

const TOP_KEYS = ['name', 'display_name', 'description', 'tags', 'properties', 'trigger', 'create_monitor'];
const MONITOR_KEYS = ['compute', 'monitoring_target', 'monitoring_signals', 'alert_notification'];
const SIGNAL_TYPES: Record<string, string> = {
  data_drift: 'DataDrift',
  prediction_drift: 'PredictionDrift',
  data_quality: 'DataQuality',
  feature_attribution_drift: 'FeatureAttributionDrift',
  custom: 'Custom',
};

/** Reads the YAML (PyYAML scalar rules, src/azureml/yamlSpec.ts) and what it needs from the workspace. */
export function readMonitorYaml(file: string, text?: string): MonitorYaml {
  const src = loadYaml(file, text === undefined ? {} : { text });
  const root = src.toJS() as Record<string, unknown>;
  checkKeys(src, [], root, TOP_KEYS, 'a monitor schedule');
  const cm = expectMap(src, ['create_monitor'], root.create_monitor, 'create_monitor (the monitor definition)');
  checkKeys(src, ['create_monitor'], cm, MONITOR_KEYS, 'create_monitor');
  const signals = optMap(src, ['create_monitor', 'monitoring_signals'], cm.monitoring_signals);
  for (const [n, s] of Object.entries(signals ?? {})) signalType(src, n, s);
  const target = optMap(src, ['create_monitor', 'monitoring_target'], cm.monitoring_target);
  const depId = target
    ? optString(src, ['create_monitor', 'monitoring_target', 'endpoint_deployment_id'], target.endpoint_deployment_id)
    : undefined;
  let needs = !signals || Object.keys(signals).length === 0;
  for (const s of Object.values(signals ?? {}) as Array<Record<string, unknown>>) {
    const t = String(s.type).toLowerCase();
    if (
      (t === 'data_drift' || t === 'data_quality' || t === 'prediction_drift') &&
      !(s.production_data && s.reference_data)
    )
      needs = true;
    if (t === 'feature_attribution_drift' && !s.production_data) needs = true;
  }
  return {
    src,
    name: optString(src, ['name'], root.name),
    ...(depId ? { deployment: deploymentOf(src, depId) } : {}),
    needsCollected: needs,
  };
}

/** azureml:<endpoint>:<deployment> or the deployment's ARM id → names (S5 _process_and_get_endpoint_deployment_names_from_id) */
function deploymentOf(src: YamlSource, id: string): { endpoint: string; deployment: string } {
  const arm = /\/onlineEndpoints\/([^/]+)\/deployments\/([^/]+)\/?$/i.exec(id);
  if (arm) return { endpoint: arm[1]!, deployment: arm[2]! };
  const short = /^(?:azureml:)?([^:/]+):([^:/]+)$/.exec(id.trim());
  if (short) return { endpoint: short[1]!, deployment: short[2]! };
  throw src.error(
    ['create_monitor', 'monitoring_target', 'endpoint_deployment_id'],
    `'${id}' is not a deployment (azureml:<endpoint>:<deployment> or the deployment's ARM id)`,
  );
}

/** snake_case → PascalCase as azure-ai-ml's snake_to_camel does for metric names and frequencies */
export const snakeToPascal = (s: string) =>
  s
    .split('_')
    .map((w) => (w ? w[0]!.toUpperCase() + w.slice(1).toLowerCase() : ''))
    .join('');

interface Windows {
  production: string;
  reference: string;
}

/** S3: the default windows from the trigger */
export function defaultWindows(trigger: Body): Windows {
  if (trigger.triggerType !== 'Recurrence') return { production: 'P7D', reference: 'P14D' };
  const n = trigger.interval as number;
  switch (String(trigger.frequency).toLowerCase()) {
    case 'minute':
    case 'hour':
      return { production: 'P1D', reference: 'P2D' };
    case 'day':
      return { production: `P${n}D`, reference: `P${n * 2}D` };
    case 'week':
      return { production: `P${n * 7}D`, reference: `P${n * 7 * 2}D` };
    case 'month':
      return { production: `P${n * 30}D`, reference: `P${n * 30 * 2}D` };
    default:
      return { production: 'P7D', reference: 'P14D' };
  }
}

const WEEK_DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const FREQUENCIES = ['minute', 'hour', 'day', 'week', 'month'];

function trigger(src: YamlSource, v: unknown): Body {
  const p: KeyPath = ['trigger'];
  const t = expectMap(src, p, v, 'a trigger (type: recurrence or cron)');
  const type = reqString(src, [...p, 'type'], t.type, 'trigger type (recurrence or cron)').toLowerCase();
  const common = (body: Body) => {
    const start = optString(src, [...p, 'start_time'], t.start_time);
    const end = optString(src, [...p, 'end_time'], t.end_time);
    if (start !== undefined) body.startTime = start;
    if (end !== undefined) body.endTime = end;
    body.timeZone = optString(src, [...p, 'time_zone'], t.time_zone) ?? 'UTC';
    return body;
  };
  if (type === 'cron') {
    checkKeys(src, p, t, ['type', 'expression', 'start_time', 'end_time', 'time_zone'], 'a cron trigger');
    return common({
      triggerType: 'Cron',
      expression: reqString(src, [...p, 'expression'], t.expression, 'expression'),
    });
  }
  if (type !== 'recurrence') throw src.error([...p, 'type'], `'${type}' is not one of recurrence, cron`);
  checkKeys(
    src,
    p,
    t,
    ['type', 'frequency', 'interval', 'schedule', 'start_time', 'end_time', 'time_zone'],
    'a recurrence trigger',
  );
  const freq = reqString(src, [...p, 'frequency'], t.frequency, 'frequency').toLowerCase();
  if (!FREQUENCIES.includes(freq))
    throw src.error([...p, 'frequency'], `'${freq}' is not one of ${FREQUENCIES.join(', ')}`);
  const interval = optInt(src, [...p, 'interval'], t.interval, 1);
  if (interval === undefined) throw src.error([...p, 'interval'], 'interval is required');
  const sp: KeyPath = [...p, 'schedule'];
  const s = optMap(src, sp, t.schedule);
  const ints = (k: string, max: number): number[] => {
    const raw = s?.[k];
    const list = raw === undefined || raw === null ? [] : Array.isArray(raw) ? raw : [raw];
    return list.map((x, i) => {
      const n = optInt(src, Array.isArray(raw) ? [...sp, k, i] : [...sp, k], x, 0)!;
      if (n > max) throw src.error([...sp, k], `${n} is out of range (0-${max})`);
      return n;
    });
  };
  const schedule: Body = { hours: [], minutes: [] };
  if (s) {
    checkKeys(src, sp, s, ['hours', 'minutes', 'week_days', 'month_days'], 'a recurrence schedule');
    schedule.hours = ints('hours', 23);
    schedule.minutes = ints('minutes', 59);
    if (s.week_days !== undefined && s.week_days !== null) {
      const wd = Array.isArray(s.week_days) ? s.week_days : [s.week_days];
      schedule.weekDays = wd.map((d, i) => {
        const day = String(d).toLowerCase();
        if (!WEEK_DAYS.includes(day))
          throw src.error([...sp, 'week_days', i], `'${String(d)}' is not a week day (${WEEK_DAYS.join(', ')})`);
        return snakeToPascal(day);
      });
    }
    if (s.month_days !== undefined && s.month_days !== null) schedule.monthDays = ints('month_days', 31);
  }
  return common({ triggerType: 'Recurrence', frequency: snakeToPascal(freq), interval, schedule });
}

// ---------------------------------------------------------------------------------------------- input data

const JOB_INPUT_TYPES = ['uri_file', 'uri_folder', 'mltable'];
const DATA_CONTEXTS = ['model_inputs', 'model_outputs', 'training', 'test', 'validation', 'ground_truth'];

function inputBase(src: YamlSource, p: KeyPath, d: Record<string, unknown>): Body {
  const i = expectMap(src, [...p, 'input_data'], d.input_data, 'input_data (path and type)');
  checkKeys(src, [...p, 'input_data'], i, ['path', 'type', 'mode', 'description'], 'input_data');
  const type = (optString(src, [...p, 'input_data', 'type'], i.type) ?? 'uri_folder').toLowerCase();
  if (!JOB_INPUT_TYPES.includes(type))
    throw src.error([...p, 'input_data', 'type'], `'${type}' is not one of ${JOB_INPUT_TYPES.join(', ')}`);
  const body: Body = { jobInputType: type, uri: reqString(src, [...p, 'input_data', 'path'], i.path, 'path') };
  const ctx = optString(src, [...p, 'data_context'], d.data_context);
  if (ctx !== undefined) {
    if (!DATA_CONTEXTS.includes(ctx))
      throw src.error([...p, 'data_context'], `'${ctx}' is not one of ${DATA_CONTEXTS.join(', ')}`);
    body.dataContext = ctx;
  }
  const cols = optStringMap(src, [...p, 'data_column_names'], d.data_column_names);
  if (cols) body.columns = cols;
  return body;
}

type Window = { size?: string; offset?: string; start?: string; end?: string };
function dataWindow(src: YamlSource, p: KeyPath, v: unknown): Window | undefined {
  const w = optMap(src, p, v);
  if (!w) return undefined;
  checkKeys(
    src,
    p,
    w,
    ['lookback_window_size', 'lookback_window_offset', 'window_start', 'window_end'],
    'a data_window',
  );
  return {
    size: optString(src, [...p, 'lookback_window_size'], w.lookback_window_size),
    offset: optString(src, [...p, 'lookback_window_offset'], w.lookback_window_offset),
    start: optString(src, [...p, 'window_start'], w.window_start),
    end: optString(src, [...p, 'window_end'], w.window_end),
  };
}

const rolling = (base: Body, size: string, offset: string, pre?: string): Body => ({
  inputDataType: 'Rolling',
  ...base,
  ...(pre ? { preprocessingComponentId: pre } : {}),
  windowSize: size,
  windowOffset: offset,
});

/** S1 ProductionData._to_rest_object: always Rolling; size default → the trigger's window, offset default P0D */
function productionData(src: YamlSource, p: KeyPath, v: unknown, win: Windows, fad = false): Body {
  const d = expectMap(src, p, v);
  checkKeys(
    src,
    p,
    d,
    ['input_data', 'data_context', 'pre_processing_component', 'data_window', 'data_column_names'],
    fad ? 'a feature attribution production_data entry' : 'production_data',
  );
  const w = dataWindow(src, [...p, 'data_window'], d.data_window);
  if (w && (w.start || w.end))
    throw src.error(
      [...p, 'data_window'],
      'production data only takes lookback_window_size and lookback_window_offset (window_start/window_end are for reference data)',
    );
  const size = !w?.size || w.size === 'default' ? win.production : w.size;
  const pre = optString(src, [...p, 'pre_processing_component'], d.pre_processing_component);
  return rolling(inputBase(src, p, d), size, w?.offset ?? 'P0D', pre);
}

/** S1 ReferenceData._to_rest_object: Rolling with a lookback, Static with start/end dates, else Fixed */
function referenceData(src: YamlSource, p: KeyPath, v: unknown, win: Windows): Body {
  const d = expectMap(src, p, v);
  if (d.target_column_name !== undefined)
    throw src.error(
      [...p, 'target_column_name'],
      'azure-ai-ml no longer takes target_column_name: use data_column_names.target_column',
    );
  checkKeys(
    src,
    p,
    d,
    ['input_data', 'data_context', 'pre_processing_component', 'data_window', 'data_column_names'],
    'reference data',
  );
  const base = inputBase(src, p, d);
  const pre = optString(src, [...p, 'pre_processing_component'], d.pre_processing_component);
  const w = dataWindow(src, [...p, 'data_window'], d.data_window);
  if (w?.size) {
    const size = w.size === 'default' ? win.reference : w.size;
    const offset = w.offset === 'default' ? win.production : (w.offset ?? 'P0D');
    return rolling(base, size, offset, pre);
  }
  if (w?.start && w?.end) {
    const day = (s: string, k: string) => {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(s) || Number.isNaN(Date.parse(s)))
        throw src.error([...p, 'data_window', k], `'${s}' is not a date YYYY-MM-DD`);
      return `${s}T00:00:00.000Z`; // strptime("%Y-%m-%d") → a naive datetime, serialised by msrest as ISO 8601 UTC
    };
    return {
      inputDataType: 'Static',
      ...base,
      ...(pre ? { preprocessingComponentId: pre } : {}),
      windowStart: day(w.start, 'window_start'),
      windowEnd: day(w.end, 'window_end'),
    };
  }
  // FixedInputData carries no preprocessing component (S1; 2024-04-01 FixedInputData has none either)
  return { inputDataType: 'Fixed', ...base };
}

// ---------------------------------------------------------------------------------------------- thresholds

const DRIFT_METRICS = {
  numerical: [
    'jensen_shannon_distance',
    'normalized_wasserstein_distance',
    'population_stability_index',
    'two_sample_kolmogorov_smirnov_test',
  ],
  categorical: ['jensen_shannon_distance', 'population_stability_index', 'pearsons_chi_squared_test'],
};
const QUALITY_METRICS = ['null_value_rate', 'data_type_error_rate', 'out_of_bounds_rate'];

const threshold = (v: number | undefined) => (v === undefined ? {} : { threshold: { value: v } });

/** S2 DataDrift/PredictionDriftMetricThreshold: {numerical: {metric: value}, categorical: {…}} → one entry per type */
function driftThresholds(src: YamlSource, p: KeyPath, v: unknown): Body[] {
  const m = expectMap(src, p, v, 'metric_thresholds (numerical / categorical: metric: threshold)');
  checkKeys(src, p, m, ['numerical', 'categorical'], 'drift metric_thresholds');
  const out: Body[] = [];
  for (const kind of ['numerical', 'categorical'] as const) {
    const t = optMap(src, [...p, kind], m[kind]);
    if (!t) continue;
    checkKeys(src, [...p, kind], t, DRIFT_METRICS[kind], `${kind} drift metrics`);
    const names = Object.keys(t);
    if (names.length !== 1)
      throw src.error(
        [...p, kind],
        names.length ? `give one ${kind} metric, not ${names.length} (${names.join(', ')})` : `names no metric`,
      );
    const metric = names[0]!;
    out.push({
      dataType: snakeToPascal(kind),
      metric: snakeToPascal(metric),
      ...threshold(optNumber(src, [...p, kind, metric], t[metric])),
    });
  }
  if (!out.length) throw src.error(p, 'names no metric (numerical or categorical)');
  return out;
}

/** S2 DataQualityMetricsNumerical/Categorical: each rate given, in the SDK's order */
function qualityThresholds(src: YamlSource, p: KeyPath, v: unknown): Body[] {
  const m = expectMap(src, p, v, 'metric_thresholds (numerical / categorical: metric: threshold)');
  checkKeys(src, p, m, ['numerical', 'categorical'], 'data quality metric_thresholds');
  const out: Body[] = [];
  for (const kind of ['numerical', 'categorical'] as const) {
    const t = optMap(src, [...p, kind], m[kind]);
    if (!t) continue;
    checkKeys(src, [...p, kind], t, QUALITY_METRICS, `${kind} data quality metrics`);
    for (const metric of QUALITY_METRICS) {
      const value = optNumber(src, [...p, kind, metric], t[metric]);
      if (value !== undefined)
        out.push({ dataType: snakeToPascal(kind), metric: snakeToPascal(metric), ...threshold(value) });
    }
  }
  if (!out.length) throw src.error(p, 'names no metric (numerical or categorical)');
  return out;
}

/** the default signals' thresholds (S2 _get_default_thresholds) */
const DEFAULT_DRIFT = [
  { dataType: 'Numerical', metric: 'NormalizedWassersteinDistance', threshold: { value: 0.1 } },
  { dataType: 'Categorical', metric: 'JensenShannonDistance', threshold: { value: 0.1 } },
];
const DEFAULT_QUALITY = ['Numerical', 'Categorical'].flatMap((dataType) =>
  QUALITY_METRICS.map((m) => ({ dataType, metric: snakeToPascal(m), threshold: { value: 0 } })),
);

// ---------------------------------------------------------------------------------------------- signals

function features(src: YamlSource, p: KeyPath, v: unknown): Body | undefined {
  if (v === undefined || v === null) return undefined;
  if (v === 'all_features') return { filterType: 'AllFeatures' };
  if (Array.isArray(v))
    return { filterType: 'FeatureSubset', features: v.map((f, i) => reqString(src, [...p, i], f, 'a feature name')) };
  if (isPlainObject(v)) {
    checkKeys(src, p, v, ['top_n_feature_importance'], 'features');
    return {
      filterType: 'TopNByAttribution',
      top: optInt(src, [...p, 'top_n_feature_importance'], v.top_n_feature_importance, 1) ?? 10,
    };
  }
  throw src.error(p, `expected a list of features, all_features or top_n_feature_importance, got ${describe(v)}`);
}

function typeOverride(src: YamlSource, p: KeyPath, v: unknown): Record<string, string> | undefined {
  const m = optStringMap(src, p, v);
  if (!m) return undefined;
  const out: Record<string, string> = {};
  for (const [f, t] of Object.entries(m)) {
    if (!/^(numerical|categorical)$/i.test(t))
      throw src.error([...p, f], `'${t}' is not one of numerical, categorical`);
    out[f] = snakeToPascal(t.toLowerCase());
  }
  return out;
}

interface SignalCtx {
  src: YamlSource;
  win: Windows;
  collected?: CollectedData;
  hasTarget: boolean;
}

/** S5: the deployment's collected data as a signal's default production (offset P0D) or reference (offset = the window) */
function collectedInput(c: SignalCtx, which: 'inputs' | 'outputs', role: 'production' | 'reference'): Body | undefined {
  const uri = c.hasTarget ? c.collected?.[which] : undefined;
  if (!uri) return undefined;
  const base = {
    jobInputType: 'uri_folder', // ASSUMPTION: the collector's data asset is a uri_folder (the SDK GETs the asset's type)
    uri,
    dataContext: which === 'inputs' ? 'model_inputs' : 'model_outputs',
  };
  return role === 'production'
    ? rolling(base, c.win.production, 'P0D')
    : rolling(base, c.win.reference, c.win.production);
}

function needData(c: SignalCtx, p: KeyPath, name: string, type: string, which: 'inputs' | 'outputs'): never {
  throw c.src.error(
    p,
    `signal '${name}' (${type}) needs production_data and reference_data: the monitoring target ${c.hasTarget ? `does not collect model_${which}` : 'names no deployment'} to take them from`,
  );
}

const alertTypes = (src: YamlSource, p: KeyPath, s: Record<string, unknown>) => {
  const on = s.alert_enabled;
  if (on !== undefined && on !== null && typeof on !== 'boolean')
    throw src.error([...p, 'alert_enabled'], `expected true or false, got ${describe(on)}`);
  return on ? { notificationTypes: ['AmlNotification'] } : {};
};

/** A signal's YAML type and its 2024-04-01 signalType; a type 2024-04-01 lacks is refused naming the signal. */
function signalType(
  src: YamlSource,
  name: string,
  v: unknown,
): { s: Record<string, unknown>; type: string; rest: string } {
  const p: KeyPath = ['create_monitor', 'monitoring_signals', name];
  const s = expectMap(src, p, v, 'a signal');
  const type = reqString(src, [...p, 'type'], s.type, 'the signal type').toLowerCase();
  const rest = SIGNAL_TYPES[type];
  if (!rest)
    throw src.error(
      [...p, 'type'],
      `signal '${name}' has type ${type}, which api-version 2024-04-01 does not have (it has ${Object.keys(SIGNAL_TYPES).join(', ')})`,
    );
  return { s, type, rest };
}

function signal(c: SignalCtx, name: string, v: unknown): Body {
  const { src } = c;
  const p: KeyPath = ['create_monitor', 'monitoring_signals', name];
  const { s, type, rest } = signalType(src, name, v);
  const props = optStringMap(src, [...p, 'properties'], s.properties);
  const common = { signalType: rest, ...alertTypes(src, p, s), ...(props ? { properties: props } : {}) };
  const which = type === 'prediction_drift' ? 'outputs' : 'inputs';
  const prod = () =>
    s.production_data
      ? productionData(src, [...p, 'production_data'], s.production_data, c.win)
      : (collectedInput(c, which, 'production') ?? needData(c, p, name, type, which));
  const ref = () =>
    s.reference_data
      ? referenceData(src, [...p, 'reference_data'], s.reference_data, c.win)
      : (collectedInput(c, which, 'reference') ?? needData(c, p, name, type, which));
  const required = (k: string) => {
    if (s[k] === undefined || s[k] === null) throw src.error([...p, k], `${k} is required for a ${type} signal`);
    return s[k];
  };
  if (s.data_segment !== undefined)
    throw src.error([...p, 'data_segment'], 'api-version 2024-04-01 has no data segment for signals');
  switch (type) {
    case 'data_drift':
    case 'data_quality': {
      checkKeys(
        src,
        p,
        s,
        [
          'type',
          'production_data',
          'reference_data',
          'features',
          'feature_type_override',
          'metric_thresholds',
          'alert_enabled',
          'properties',
        ],
        `a ${type} signal`,
      );
      const f = features(src, [...p, 'features'], s.features);
      const o = typeOverride(src, [...p, 'feature_type_override'], s.feature_type_override);
      const th = required('metric_thresholds');
      return {
        ...common,
        productionData: prod(),
        referenceData: ref(),
        ...(f ? { features: f } : {}),
        ...(o ? { featureDataTypeOverride: o } : {}),
        metricThresholds:
          type === 'data_drift'
            ? driftThresholds(src, [...p, 'metric_thresholds'], th)
            : qualityThresholds(src, [...p, 'metric_thresholds'], th),
      };
    }
    case 'prediction_drift': {
      checkKeys(
        src,
        p,
        s,
        ['type', 'production_data', 'reference_data', 'metric_thresholds', 'alert_enabled', 'properties'],
        'a prediction_drift signal',
      );
      return {
        ...common,
        productionData: prod(),
        referenceData: ref(),
        metricThresholds: driftThresholds(src, [...p, 'metric_thresholds'], required('metric_thresholds')),
      };
    }
    case 'feature_attribution_drift': {
      checkKeys(
        src,
        p,
        s,
        ['type', 'production_data', 'reference_data', 'metric_thresholds', 'alert_enabled', 'properties'],
        'a feature_attribution_drift signal',
      );
      let production: Body[];
      if (s.production_data !== undefined && s.production_data !== null) {
        if (!Array.isArray(s.production_data))
          throw src.error([...p, 'production_data'], `expected a list, got ${describe(s.production_data)}`);
        production = s.production_data.map((d, i) => productionData(src, [...p, 'production_data', i], d, c.win, true));
      } else {
        const a = collectedInput(c, 'inputs', 'production'),
          b = collectedInput(c, 'outputs', 'production');
        if (!a) needData(c, p, name, type, 'inputs');
        if (!b) needData(c, p, name, type, 'outputs');
        production = [a, b];
      }
      const reference = referenceData(src, [...p, 'reference_data'], required('reference_data'), c.win);
      const tp: KeyPath = [...p, 'metric_thresholds'];
      const t = expectMap(src, tp, required('metric_thresholds'));
      checkKeys(src, tp, t, ['normalized_discounted_cumulative_gain'], 'feature attribution metric_thresholds');
      const ndcg = optNumber(
        src,
        [...tp, 'normalized_discounted_cumulative_gain'],
        t.normalized_discounted_cumulative_gain,
      );
      const target = (reference.columns as Record<string, string> | undefined)?.target_column;
      return {
        ...common,
        productionData: production,
        referenceData: reference,
        featureImportanceSettings: { mode: 'Enabled', ...(target ? { targetColumn: target } : {}) },
        // the SDK omits the threshold when the value is falsy (S2)
        metricThreshold: {
          metric: 'NormalizedDiscountedCumulativeGain',
          ...(ndcg ? { threshold: { value: ndcg } } : {}),
        },
      };
    }
    default: {
      // custom
      if (s.connection !== undefined)
        throw src.error([...p, 'connection'], 'api-version 2024-04-01 has no workspace connection for custom signals');
      if (s.inputs !== undefined)
        throw src.error(
          [...p, 'inputs'],
          'literal job inputs of a custom signal are not supported here: use input_data',
        );
      checkKeys(
        src,
        p,
        s,
        ['type', 'component_id', 'input_data', 'metric_thresholds', 'alert_enabled'],
        'a custom signal',
      );
      const assets = optMap(src, [...p, 'input_data'], s.input_data);
      const tp: KeyPath = [...p, 'metric_thresholds'];
      const th = required('metric_thresholds');
      if (!Array.isArray(th)) throw src.error(tp, `expected a list of metric_name / threshold, got ${describe(th)}`);
      return {
        signalType: 'Custom',
        ...alertTypes(src, p, s),
        componentId: reqString(src, [...p, 'component_id'], s.component_id, 'component_id'),
        ...(assets
          ? {
              inputAssets: Object.fromEntries(
                Object.entries(assets).map(([k, d]) => [k, referenceData(src, [...p, 'input_data', k], d, c.win)]),
              ),
            }
          : {}),
        metricThresholds: th.map((t, i) => {
          const m = expectMap(src, [...tp, i], t);
          checkKeys(src, [...tp, i], m, ['metric_name', 'threshold'], 'a custom metric threshold');
          return {
            metric: reqString(src, [...tp, i, 'metric_name'], m.metric_name, 'metric_name'),
            ...threshold(optNumber(src, [...tp, i, 'threshold'], m.threshold)),
          };
        }),
      };
    }
  }
}

/** S4 _populate_default_signal_information + S5: the three default signals over the collected inputs and outputs */
function defaultSignals(c: SignalCtx): Body {
  const inP = collectedInput(c, 'inputs', 'production'),
    inR = collectedInput(c, 'inputs', 'reference');
  const outP = collectedInput(c, 'outputs', 'production'),
    outR = collectedInput(c, 'outputs', 'reference');
  if (!inP || !outP)
    throw c.src.error(
      ['create_monitor', 'monitoring_signals'],
      'without monitoring_signals the monitoring target must be a deployment that collects model_inputs and model_outputs (azure-ai-ml then adds its default signals)',
    );
  return {
    'data-drift-signal': {
      signalType: 'DataDrift',
      productionData: inP,
      referenceData: inR,
      features: { filterType: 'AllFeatures' },
      metricThresholds: DEFAULT_DRIFT,
    },
    'prediction-drift-signal': {
      signalType: 'PredictionDrift',
      productionData: outP,
      referenceData: outR,
      metricThresholds: DEFAULT_DRIFT,
    },
    'data-quality-signal': {
      signalType: 'DataQuality',
      productionData: inP,
      referenceData: inR,
      features: { filterType: 'AllFeatures' },
      metricThresholds: DEFAULT_QUALITY,
    },
  };
}

const TASK_TYPES: Record<string, string> = { classification: 'Classification', regression: 'Regression' };

/** The 2024-04-01 schedule body (pure). Throws SpecError naming the file, line and key path. */
export function monitorYamlBody(y: MonitorYaml, collected?: CollectedData): { properties: Body } {
  const { src } = y;
  const root = src.toJS() as Record<string, unknown>;
  const cm = root.create_monitor as Record<string, unknown>;
  const trig = trigger(src, root.trigger);
  const win = defaultWindows(trig);
  const cp: KeyPath = ['create_monitor', 'compute'];
  const compute = expectMap(src, cp, cm.compute, 'compute (instance_type and runtime_version of the serverless Spark)');
  checkKeys(src, cp, compute, ['instance_type', 'runtime_version', 'compute_type'], 'compute');
  const def: Body = {
    computeConfiguration: {
      computeType: 'ServerlessSpark',
      computeIdentity: { computeIdentityType: 'AmlToken' }, // S8 compute.py: always AmlToken
      instanceType: reqString(src, [...cp, 'instance_type'], compute.instance_type, 'instance_type'),
      runtimeVersion: reqString(src, [...cp, 'runtime_version'], compute.runtime_version, 'runtime_version'),
    },
  };
  const tp: KeyPath = ['create_monitor', 'monitoring_target'];
  const target = optMap(src, tp, cm.monitoring_target);
  if (target) {
    checkKeys(src, tp, target, ['ml_task', 'endpoint_deployment_id', 'model_id'], 'monitoring_target');
    const task = reqString(src, [...tp, 'ml_task'], target.ml_task, 'ml_task').toLowerCase();
    if (!TASK_TYPES[task])
      throw src.error(
        [...tp, 'ml_task'],
        `'${task}' is not a task type api-version 2024-04-01 has (classification, regression)`,
      );
    const dep = optString(src, [...tp, 'endpoint_deployment_id'], target.endpoint_deployment_id);
    const model = optString(src, [...tp, 'model_id'], target.model_id);
    def.monitoringTarget = {
      taskType: TASK_TYPES[task],
      ...(dep ? { deploymentId: dep } : {}),
      ...(model ? { modelId: model } : {}),
    };
  }
  const c: SignalCtx = { src, win, ...(collected ? { collected } : {}), hasTarget: !!y.deployment };
  const signals = optMap(src, ['create_monitor', 'monitoring_signals'], cm.monitoring_signals);
  def.signals =
    signals && Object.keys(signals).length
      ? Object.fromEntries(Object.entries(signals).map(([n, s]) => [n, signal(c, n, s)]))
      : defaultSignals(c);
  const ap: KeyPath = ['create_monitor', 'alert_notification'];
  if (cm.alert_notification !== undefined && cm.alert_notification !== null) {
    if (typeof cm.alert_notification === 'string')
      throw src.error(
        ap,
        `'${cm.alert_notification}' (Azure Monitor alerts) is not in api-version 2024-04-01: give emails`,
      );
    const a = expectMap(src, ap, cm.alert_notification);
    checkKeys(src, ap, a, ['emails'], 'alert_notification');
    const emails = a.emails === undefined || a.emails === null ? [] : Array.isArray(a.emails) ? a.emails : [a.emails];
    def.alertNotificationSettings = {
      emailNotificationSettings: {
        emails: emails.map((e, i) => reqString(src, [...ap, 'emails', i], e, 'an e-mail address')),
      },
    };
  }
  const display = optString(src, ['display_name'], root.display_name);
  const description = optString(src, ['description'], root.description);
  const tags = optStringMap(src, ['tags'], root.tags);
  const props = optStringMap(src, ['properties'], root.properties);
  return {
    properties: {
      ...(display !== undefined ? { displayName: display } : {}),
      ...(description !== undefined ? { description } : {}),
      ...(props ? { properties: props } : {}),
      ...(tags ? { tags } : {}),
      isEnabled: true,
      trigger: trig,
      action: { actionType: 'CreateMonitor', monitorDefinition: def },
    },
  };
}
