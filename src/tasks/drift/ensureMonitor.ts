// AzureMLDriftCheck@1 action `ensureMonitor`: ensures an Azure ML model monitor — a schedule whose action is
// `CreateMonitor` with one DataDrift signal — built from the task's inputs, idempotently (GET; unchanged → no write;
// changed → PUT, the log naming each changed field).
//
// REST shape: 2024-04-01 mfe.json (test/fixtures/third-party/azure-rest-api-specs/2024-04-01): Schedule {trigger,
// action}, RecurrenceTrigger {frequency, interval, schedule {hours, minutes, weekDays}}, CreateMonitorAction
// {monitorDefinition}, MonitorDefinition {computeConfiguration (required), signals (required), monitoringTarget
// {taskType (required), deploymentId}, alertNotificationSettings {emailNotificationSettings {emails}}},
// DataDriftMonitoringSignal {referenceData, productionData, metricThresholds, features, featureDataTypeOverride},
// FixedInputData / RollingInputData {windowSize, windowOffset}.
// Translation as azure-ai-ml does it (Azure/azure-sdk-for-python sdk/ml/azure-ai-ml/azure/ai/ml/entities/_monitoring/
// target.py: MonitoringTarget._to_rest_object sends endpoint_deployment_id as deploymentId unchanged, the YAML form
// being `azureml:<endpoint>:<deployment>`; ml_task defaults to classification).
// Decisions where the issue is silent:
//  - compute: serverless Spark (standard_e4s_v3, runtime 3.3, AmlToken identity), as the azureml-examples monitoring
//    YAMLs and the box's test bodies use. ASSUMPTION: the service accepts runtimeVersion 3.3 (not verified here).
//  - production data by default: the deployment's collected collection (its data asset, else the collector folder),
//    as a Rolling window of lookbackWindow ending now (windowOffset P0D); reference data: Fixed.
//  - the trigger: daily or weekly at an hour (minute 0); weekly on Monday.
import { InputError } from '../../pipeline';
import type { DriftInputs } from '../driftCheck';
import { collectedDataUri } from '../driftCheck';
import { SpecError } from '../../azureml/yamlSpec';
import { monitorYamlBody, readMonitorYaml, type CollectedData } from './monitorYaml';
import type { Log } from '../../log';

export interface MonitorInputs {
  monitorName: string;
  taskType: 'Classification' | 'Regression';
  frequency: 'daily' | 'weekly';
  hour: number;
  emails: string[];
  windowIso: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$/;
const EMAIL = /^[^\s@,;]+@[^\s@,;]+\.[^\s@,;]+$/;

export function checkMonitorInputs(m: MonitorInputs): MonitorInputs {
  if (!m.monitorName)
    throw new InputError(
      'monitorName',
      'is required with action ensureMonitor (the name of the Azure ML monitor schedule)',
    );
  if (!NAME.test(m.monitorName))
    throw new InputError(
      'monitorName',
      `'${m.monitorName}' is not a schedule name (letters, digits, '_' and '-', starting with a letter or digit)`,
    );
  if (m.taskType !== 'Classification' && m.taskType !== 'Regression')
    throw new InputError('monitorTaskType', `'${m.taskType}' is not one of Classification, Regression`);
  if (m.frequency !== 'daily' && m.frequency !== 'weekly')
    throw new InputError('monitorFrequency', `'${m.frequency}' is not one of daily, weekly`);
  if (!Number.isInteger(m.hour) || m.hour < 0 || m.hour > 23)
    throw new InputError('monitorHour', 'must be a whole hour 0-23');
  const bad = m.emails.find((e) => !EMAIL.test(e));
  if (bad) throw new InputError('alertEmails', `'${bad}' is not an e-mail address`);
  return m;
}

/** The deployment's collected data as the monitor's production input: its data asset when it names one, else the folder. */
export function productionInput(i: DriftInputs, dataId?: string | null): string {
  if (i.productionData) return i.productionData;
  return dataId || collectedDataUri(i.endpointName!, i.deploymentName!, i.collection);
}

/** a file path → uri_file; a folder or a data asset → uri_folder (ASSUMPTION: a data asset given here is a folder) */
const jobInputType = (uri: string) => (/\.(csv|jsonl|json|parquet)$/i.test(uri) ? 'uri_file' : 'uri_folder');

/** The schedule body (pure). */
export function monitorScheduleBody(
  i: DriftInputs,
  m: MonitorInputs,
  production: string,
): { properties: Record<string, any> } {
  const collected = !i.productionData;
  const signal: Record<string, any> = {
    signalType: 'DataDrift',
    referenceData: { inputDataType: 'Fixed', jobInputType: jobInputType(i.referenceData), uri: i.referenceData },
    productionData: collected
      ? {
          inputDataType: 'Rolling',
          jobInputType: jobInputType(production),
          uri: production,
          windowSize: m.windowIso,
          windowOffset: 'P0D',
        }
      : { inputDataType: 'Fixed', jobInputType: jobInputType(production), uri: production },
    metricThresholds: [
      { dataType: 'Numerical', metric: i.numericalMetric, threshold: { value: i.numericalThreshold } },
      { dataType: 'Categorical', metric: i.categoricalMetric, threshold: { value: i.categoricalThreshold } },
    ],
    features: i.features.length
      ? { filterType: 'FeatureSubset', features: [...i.features] }
      : { filterType: 'AllFeatures' },
  };
  const overrides: Record<string, string> = {};
  for (const f of i.numericalFeatures) overrides[f] = 'Numerical';
  for (const f of i.categoricalFeatures) overrides[f] = 'Categorical';
  if (Object.keys(overrides).length) signal.featureDataTypeOverride = overrides;
  const def: Record<string, any> = {
    computeConfiguration: {
      computeType: 'ServerlessSpark',
      computeIdentity: { computeIdentityType: 'AmlToken' },
      instanceType: 'standard_e4s_v3',
      runtimeVersion: '3.3',
    },
    monitoringTarget: {
      taskType: m.taskType,
      ...(i.endpointName ? { deploymentId: `azureml:${i.endpointName}:${i.deploymentName}` } : {}),
    },
    signals: { 'data-drift': signal },
  };
  if (m.emails.length) def.alertNotificationSettings = { emailNotificationSettings: { emails: [...m.emails] } };
  return {
    properties: {
      displayName: m.monitorName,
      description: 'Data drift monitor ensured by AzureMLDriftCheck@1',
      isEnabled: true,
      trigger: {
        triggerType: 'Recurrence',
        frequency: m.frequency === 'daily' ? 'Day' : 'Week',
        interval: 1,
        schedule: { hours: [m.hour], minutes: [0], ...(m.frequency === 'weekly' ? { weekDays: ['Monday'] } : {}) },
      },
      action: { actionType: 'CreateMonitor', monitorDefinition: def },
    },
  };
}

/**
 * What differs between the desired body and the schedule the service holds, as `path: old → new` lines; only the
 * fields we send are compared (the service adds its own: provisioningState, timeZone, …).
 */
export function scheduleChanges(desired: unknown, actual: unknown, at = 'properties'): string[] {
  const out: string[] = [];
  const walk = (d: unknown, a: unknown, p: string) => {
    if (d && typeof d === 'object' && !Array.isArray(d)) {
      for (const [k, v] of Object.entries(d as Record<string, unknown>))
        walk(v, a && typeof a === 'object' ? (a as Record<string, unknown>)[k] : undefined, `${p}.${k}`);
      return;
    }
    if (!same(d, a)) out.push(`${p}: ${show(a)} → ${show(d)}`);
  };
  walk((desired as any)?.properties, (actual as any)?.properties, at);
  return out;
}

function same(d: unknown, a: unknown): boolean {
  if (Array.isArray(d))
    return (
      Array.isArray(a) &&
      d.length === a.length &&
      d.every((x, k) =>
        x && typeof x === 'object'
          ? scheduleChanges({ properties: x }, { properties: a[k] }).length === 0
          : same(x, a[k]),
      )
    );
  if (typeof d === 'string' && typeof a === 'string') return d.toLowerCase() === a.toLowerCase() || d === a;
  return d === a;
}
const show = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v));

export interface MonitorOps {
  getWorkspace(): Promise<unknown>;
  getDeploymentCollector(
    endpoint: string,
    deployment: string,
  ): Promise<{
    exists: boolean;
    collector?: { collections?: Record<string, { dataCollectionMode?: string; dataId?: string | null } | null> } | null;
  }>;
  getSchedule(name: string): Promise<{ properties: Record<string, any> } | undefined>;
  putSchedule(name: string, body: { properties: Record<string, any> }): Promise<unknown>;
}

export interface EnsureMonitorResult {
  state: 'created' | 'updated' | 'unchanged';
  changes: string[];
  body: { properties: Record<string, any> };
}

export async function ensureMonitor(
  i: DriftInputs,
  m: MonitorInputs,
  ops: MonitorOps,
  log: Pick<Log, 'info'>,
): Promise<EnsureMonitorResult> {
  await ops.getWorkspace();
  let dataId: string | null | undefined;
  if (!i.productionData) {
    const d = await ops.getDeploymentCollector(i.endpointName!, i.deploymentName!);
    if (!d.exists)
      throw new InputError(
        'deploymentName',
        `deployment '${i.deploymentName}' does not exist under online endpoint '${i.endpointName}'`,
      );
    const c = d.collector?.collections?.[i.collection];
    if (!c || c.dataCollectionMode === 'Disabled') {
      throw new InputError(
        'deploymentName',
        `deployment '${i.endpointName}/${i.deploymentName}' does not collect '${i.collection}' data: enable data_collector.collections.${i.collection} on it or give productionData`,
      );
    }
    dataId = c.dataId;
  }
  const production = productionInput(i, dataId);
  const body = monitorScheduleBody(i, m, production);
  return applySchedule(
    m.monitorName,
    body,
    ops,
    log,
    `DataDrift of ${production} against ${i.referenceData}, ${m.frequency} at ${String(m.hour).padStart(2, '0')}:00 UTC${m.emails.length ? `, alerts to ${m.emails.join(', ')}` : ''}`,
  );
}

/**
 * The one write path of both forms (inputs, monitorFile): GET the schedule; refuse one that is not a monitor; unchanged
 * → no write; changed → one PUT, the log naming each changed field; missing → one PUT.
 */
export async function applySchedule(
  name: string,
  body: { properties: Record<string, any> },
  ops: Pick<MonitorOps, 'getSchedule' | 'putSchedule'>,
  log: { info(msg: string): void },
  what: string,
  nameInput = 'monitorName',
): Promise<EnsureMonitorResult> {
  const existing = await ops.getSchedule(name);
  if (existing) {
    const action = existing.properties?.action?.actionType;
    if (action && action !== 'CreateMonitor')
      throw new InputError(
        nameInput,
        `schedule '${name}' exists with action ${action}, not a monitor: choose another name`,
      );
    const changes = scheduleChanges(body, existing);
    if (!changes.length) {
      log.info(`Monitor '${name}' exists with the same definition: nothing to change`);
      return { state: 'unchanged', changes, body };
    }
    log.info(`Monitor '${name}' differs in ${changes.length} field(s):`);
    for (const c of changes) log.info(`  ${c}`);
    await ops.putSchedule(name, body);
    log.info(`Monitor '${name}' updated`);
    return { state: 'updated', changes, body };
  }
  await ops.putSchedule(name, body);
  log.info(`Monitor '${name}' created: ${what}`);
  return { state: 'created', changes: [], body };
}

/** A bad monitor YAML as one line naming the input, the file, the line and the key path. */
function fileError<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SpecError) throw new InputError('monitorFile', e.message);
    throw e;
  }
}

/**
 * Input `monitorFile`: the monitor from the YAML `az ml schedule create -f` takes (src/tasks/drift/monitorYaml.ts),
 * through the same write path as the inputs form. Every check of the YAML runs before the first call; the monitored
 * deployment is read only when a signal takes its data from the deployment's collector (as azure-ai-ml does).
 * The schedule's name: monitorName when given (as `--name` would), else the YAML's `name`.
 */
export async function ensureMonitorFromFile(
  file: string,
  monitorName: string | undefined,
  ops: MonitorOps,
  log: { info(msg: string): void },
  text?: string,
): Promise<EnsureMonitorResult & { name: string }> {
  const y = fileError(() => readMonitorYaml(file, text));
  const name = monitorName || y.name;
  if (!name) throw new InputError('monitorFile', `${y.src.displayName}: 'name' is required (or give monitorName)`);
  if (!NAME.test(name))
    throw new InputError(
      monitorName ? 'monitorName' : 'monitorFile',
      `'${name}' is not a schedule name (letters, digits, '_' and '-', starting with a letter or digit)`,
    );
  // a dry run with stand-in collected data: every other mistake in the file is refused before any call
  fileError(() => monitorYamlBody(y, { inputs: 'x', outputs: 'x' }));
  await ops.getWorkspace();
  let collected: CollectedData | undefined;
  if (y.needsCollected && y.deployment) {
    const { endpoint, deployment } = y.deployment;
    const d = await ops.getDeploymentCollector(endpoint, deployment);
    if (!d.exists)
      throw new InputError(
        'monitorFile',
        `${y.src.where(['create_monitor', 'monitoring_target', 'endpoint_deployment_id'])}: deployment '${deployment}' does not exist under online endpoint '${endpoint}'`,
      );
    const uri = (c: string) => {
      const col = d.collector?.collections?.[c];
      return !col || col.dataCollectionMode === 'Disabled'
        ? undefined
        : col.dataId || collectedDataUri(endpoint, deployment, c);
    };
    const inputs = uri('model_inputs'),
      outputs = uri('model_outputs');
    collected = { ...(inputs ? { inputs } : {}), ...(outputs ? { outputs } : {}) };
  }
  const body = fileError(() => monitorYamlBody(y, collected));
  const signals = Object.entries<any>(body.properties.action.monitorDefinition.signals);
  const r = await applySchedule(
    name,
    body,
    ops,
    log,
    `${signals.map(([n, s]) => `${n} (${s.signalType})`).join(', ')} from ${y.src.displayName}`,
    monitorName ? 'monitorName' : 'monitorFile',
  );
  return { ...r, name };
}
