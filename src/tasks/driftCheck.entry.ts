// Agent entry of AzureMLDriftCheck@1: inputs → read reference and production data from the workspace's datastores →
// the service's drift metrics per feature → verdict in the log, the summary and output variables; fails on drift
// unless failOnDrift is false.
import {
  InputError,
  UserError,
  getAzureRmConnection,
  getBool,
  getList,
  getNumber,
  getPath,
  getString,
  info,
  progress,
  runTask,
  setOutput,
  uploadSummary,
  warning,
} from '../pipeline';
import { MlflowClient, getWorkspace, workspaceRef } from '../azureml';
import type { AzureMLContext } from '../azureml/context';
import { monitorFilter, monitorReport, type MonitorReport, type MonitorResult } from './drift/monitor';
import { isoDurationMs } from '../azureml/normalize';
import { getSchedule, putSchedule } from '../azureml/schedules';
import {
  checkMonitorInputs,
  ensureMonitor,
  ensureMonitorFromFile,
  type MonitorInputs,
  type MonitorOps,
} from './drift/ensureMonitor';
import type { AzureRmConnection } from '../pipeline';
import { getDeploymentDataCollector, planData, readBlobLines } from '../azureml/dataRead';
import {
  DRIFT_DEFAULTS,
  checkDriftInputs,
  describeFeature,
  driftSummary,
  featureVariable,
  fmt,
  runDriftCheck,
  type DriftInputs,
  type DriftOps,
} from './driftCheck';
import type { CategoricalMetric, NumericalMetric } from './drift/metrics';
import { openWorkspace } from './openWorkspace';
import { mdEscapeAll } from './markdown';

runTask(async (signal) => {
  // read and check every input before any network call
  const conn = getAzureRmConnection('connection');
  const ws = workspaceRef(conn, getString('resourceGroup'), getString('workspace'));
  const action = (getString('action') ?? 'check').trim();
  if (action !== 'check' && action !== 'ensureMonitor')
    throw new InputError('action', `'${action}' is not one of check, ensureMonitor`);
  if (action === 'ensureMonitor') return ensureMonitorMode(conn, ws, signal);
  const source = (getString('source') ?? 'data').trim().toLowerCase();
  if (source !== 'data' && source !== 'monitor')
    throw new InputError('source', `'${source}' is not one of data, monitor`);
  if (source === 'monitor') {
    const monitorName = getString('monitorName')?.trim();
    if (!monitorName)
      throw new InputError(
        'monitorName',
        'is required with source monitor (the name of the Azure ML monitor schedule)',
      );
    const signalName = getString('signalName')?.trim() || undefined;
    const failOnDrift = getBool('failOnDrift', true);
    const ctx = openWorkspace(conn, ws, signal);
    const w = await getWorkspace(ctx);
    if (!w.mlFlowTrackingUri)
      throw new UserError(
        `Workspace '${ws.workspace}' has no MLflow tracking URI; the monitor's results cannot be read`,
      );
    const mlflow = new MlflowClient(ctx, w.mlFlowTrackingUri);
    const exps = await mlflow.experimentIds();
    const filter = monitorFilter(monitorName, signalName);
    info(`Reading monitor '${monitorName}' results: MLflow runs where ${filter} (${exps.length} experiment(s))`);
    const runs = exps.length ? await mlflow.searchRuns(exps, filter) : [];
    const rep = monitorReport(monitorName, runs, signalName);
    for (const r of rep.results) info(describeMonitorResult(r));
    setOutput('driftDetected', String(rep.driftDetected));
    setOutput('driftedFeatures', rep.driftedFeatures.join(','));
    const byFeature: Record<string, unknown> = {};
    for (const r of rep.results) {
      const k = r.feature || r.signal;
      if (!byFeature[k] || r.drifted)
        byFeature[k] = {
          signal: r.signal,
          metric: r.metric,
          value: r.value,
          threshold: r.threshold ?? null,
          drifted: r.drifted,
        };
    }
    setOutput('featureMetrics', JSON.stringify(byFeature));
    for (const [k, v] of Object.entries(byFeature))
      setOutput(featureVariable(k), String((v as { value: number }).value));
    uploadSummary('Azure ML monitor results', monitorSummary(rep));
    const verdict = rep.driftDetected
      ? `Monitor '${monitorName}' breached in ${rep.driftedFeatures.length} feature(s): ${rep.results
          .filter((r) => r.drifted)
          .map((r) => `${r.feature || r.signal} ${r.metric} ${fmt(r.value)}`)
          .join(', ')}`
      : `Monitor '${monitorName}': no threshold breached in ${rep.results.length} result(s)`;
    info(`Verdict: ${verdict}`);
    if (rep.driftDetected) {
      if (failOnDrift) throw new UserError(`${verdict}: retrain (failOnDrift is true)`);
      warning(`${verdict}: retrain (failOnDrift is false: the step succeeds)`);
    }
    return;
  }
  const { inputs } = readDriftInputs();

  const ctx = openWorkspace(conn, ws, signal);
  const ops: DriftOps = {
    getWorkspace: () => getWorkspace(ctx),
    getDeploymentCollector: (e, d) => getDeploymentDataCollector(ctx, e, d),
    plan: async (source, o) => {
      const p = await planData(ctx, source, o);
      return {
        resolved: p.resolved,
        outsideWindow: p.outsideWindow,
        files: p.files.map((f) => ({
          label: f.label,
          size: f.size,
          format: f.format,
          readLines: (onLine: (l: string) => void) =>
            readBlobLines(p.container, p.datastore, f.blob, onLine, { abortSignal: signal }),
        })),
      };
    },
  };
  const started = Date.now();
  const run = await runDriftCheck(inputs, ops, { info, progress: (pct, m) => progress(pct, m) });
  const rep = run.report;
  const secs = Math.max(0.001, (Date.now() - started) / 1000);
  info(
    `Compared ${rep.features.length} feature(s) on ${rep.referenceKept} reference and ${rep.productionKept} production row(s) (${Math.round((rep.referenceRows + rep.productionRows) / secs)} rows/s)`,
  );
  for (const f of rep.features) info(describeFeature(f));
  if (rep.skipped.length)
    warning(
      `Skipped (type differs between reference and production, as Azure ML skips them): ${rep.skipped.map((s) => `${s.feature} (${s.reference} / ${s.production})`).join(', ')}`,
    );
  const drifted = rep.features.filter((f) => f.drifted).map((f) => f.feature);
  setOutput('driftDetected', String(rep.driftDetected));
  setOutput('driftedFeatures', drifted.join(','));
  setOutput(
    'featureMetrics',
    JSON.stringify(
      Object.fromEntries(
        rep.features.map((f) => [
          f.feature,
          {
            type: f.kind,
            metric: f.metric,
            value: Number.isNaN(f.value) ? 'NaN' : f.value,
            threshold: f.threshold,
            drifted: f.drifted,
          },
        ]),
      ),
    ),
  );
  for (const f of rep.features) setOutput(featureVariable(f.feature), Number.isNaN(f.value) ? 'NaN' : String(f.value));
  uploadSummary('Azure ML data drift', driftSummary(run));
  const verdict = rep.driftDetected
    ? `Drift detected in ${drifted.length} of ${rep.features.length} feature(s): ${rep.features
        .filter((f) => f.drifted)
        .map((f) => `${f.feature} ${f.metric} ${fmt(f.value)}`)
        .join(', ')}`
    : `No drift in ${rep.features.length} feature(s)`;
  info(`Verdict: ${verdict}`);
  if (rep.driftDetected) {
    if (inputs.failOnDrift) throw new UserError(`${verdict}: retrain (failOnDrift is true)`);
    warning(`${verdict}: retrain (failOnDrift is false: the step succeeds)`);
  }
});

/** The data, feature and metric inputs both actions share (checked, no I/O). */
function readDriftInputs(): { inputs: DriftInputs; lookbackText: string } {
  const lookbackText = (getString('lookbackWindow') ?? DRIFT_DEFAULTS.lookback).trim();
  const lookbackMs = isoDurationMs(lookbackText);
  if (lookbackMs === undefined)
    throw new InputError('lookbackWindow', `'${lookbackText}' is not an ISO 8601 duration (PT6H, P1D, P7D)`);
  const inputs: DriftInputs = checkDriftInputs({
    referenceData: getString('referenceData') ?? '',
    productionData: getString('productionData'),
    endpointName: getString('endpointName'),
    deploymentName: getString('deploymentName'),
    collection: getString('collection') ?? DRIFT_DEFAULTS.collection,
    lookbackMs,
    features: getList('features'),
    numericalFeatures: getList('numericalFeatures'),
    categoricalFeatures: getList('categoricalFeatures'),
    numericalMetric: (getString('numericalMetric') ?? DRIFT_DEFAULTS.numericalMetric) as NumericalMetric,
    numericalThreshold: getNumber('numericalThreshold', { default: DRIFT_DEFAULTS.numericalThreshold, min: 0 })!,
    categoricalMetric: (getString('categoricalMetric') ?? DRIFT_DEFAULTS.categoricalMetric) as CategoricalMetric,
    categoricalThreshold: getNumber('categoricalThreshold', { default: DRIFT_DEFAULTS.categoricalThreshold, min: 0 })!,
    failOnDrift: getBool('failOnDrift', true),
  });
  return { inputs, lookbackText };
}

/** action ensureMonitor: every input checked before any call; then GET the schedule, PUT only when it differs. */
async function ensureMonitorMode(
  conn: AzureRmConnection,
  ws: ReturnType<typeof workspaceRef>,
  signal: AbortSignal,
): Promise<void> {
  const file = getPath('monitorFile', { kind: 'file' });
  if (file) {
    // the YAML form: the monitor's data, signals, trigger and alerts come from the file, so none of those inputs
    // the inputs it replaces that have no default value (so a value means the user set it); a function-level list:
    // runTask starts before the module's later constants are initialised
    const both = [
      'referenceData',
      'productionData',
      'endpointName',
      'deploymentName',
      'features',
      'numericalFeatures',
      'categoricalFeatures',
      'alertEmails',
    ].find((n) => getString(n)?.trim());
    if (both)
      throw new InputError(
        'monitorFile',
        `give either monitorFile (the monitor YAML) or the monitor inputs, not both: ${both} is also set`,
      );
    const ctx = openWorkspace(conn, ws, signal);
    const r = await ensureMonitorFromFile(file, getString('monitorName')?.trim() || undefined, monitorOps(ctx), {
      info,
    });
    setOutput('monitorState', r.state);
    return;
  }
  const { inputs, lookbackText } = readDriftInputs();
  const m = checkMonitorInputs({
    monitorName: getString('monitorName')?.trim() ?? '',
    taskType: (getString('monitorTaskType') ?? 'Classification').trim() as MonitorInputs['taskType'],
    frequency: (getString('monitorFrequency') ?? 'daily').trim().toLowerCase() as MonitorInputs['frequency'],
    hour: getNumber('monitorHour', { default: 3, min: 0, max: 23 })!,
    emails: getList('alertEmails'),
    windowIso: lookbackText,
  });
  const ctx = openWorkspace(conn, ws, signal);
  const r = await ensureMonitor(inputs, m, monitorOps(ctx), { info });
  setOutput('monitorState', r.state);
}

function monitorOps(ctx: AzureMLContext): MonitorOps {
  return {
    getWorkspace: () => getWorkspace(ctx),
    getDeploymentCollector: (e, d) => getDeploymentDataCollector(ctx, e, d),
    getSchedule: (n) => getSchedule(ctx, n),
    putSchedule: (n, b) => putSchedule(ctx, n, b),
  };
}

function describeMonitorResult(r: MonitorResult): string {
  const dir =
    r.threshold === undefined
      ? ''
      : r.drifted
        ? r.value < r.threshold
          ? ' <'
          : ' >'
        : r.value < r.threshold
          ? ' <'
          : ' ≥';
  return `${r.signal}/${r.feature || '-'}: ${r.metric} ${fmt(r.value)}${r.threshold === undefined ? ' (no threshold)' : `${dir} ${fmt(r.threshold)}`}${r.drifted ? ' BREACHED' : ''}`;
}

function monitorSummary(rep: MonitorReport): string {
  const esc = mdEscapeAll;
  const out = [
    `### Monitor ${esc(rep.monitor)}: ${rep.driftDetected ? `threshold breached for ${rep.driftedFeatures.map(esc).join(', ')}` : 'no threshold breached'}`,
    '',
    '| signal | feature | metric | value | threshold | breached |',
    '|---|---|---|---:|---:|---|',
  ];
  for (const r of rep.results)
    out.push(
      `| ${esc(r.signal)} | ${esc(r.feature)} | ${r.metric} | ${fmt(r.value)} | ${r.threshold === undefined ? '–' : fmt(r.threshold)} | ${r.drifted ? '**yes**' : 'no'} |`,
    );
  out.push(
    '',
    "Latest values the monitor logged to its MLflow runs (metrics value and threshold), judged as the service's evaluate_metrics_threshold judges them.",
  );
  return out.join('\n') + '\n';
}
