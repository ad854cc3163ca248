// Agent entry of AzureMLDriftCheck@1: inputs → read reference and production data from the workspace's datastores →
// the service's drift metrics per feature → verdict in the log, the summary and output variables; fails on drift
// unless failOnDrift is false.
import {
  InputError, UserError, getAzureRmConnection, getBool, getList, getNumber, getString, info, progress, runTask, setOutput, uploadSummary, warning,
} from '../pipeline';
import { createCredential } from '../auth';
import { createAzureMLContext, getWorkspace, workspaceRef } from '../azureml';
import { isoDurationMs } from '../azureml/normalize';
import { getDeploymentDataCollector, planData, readBlobLines } from '../azureml/dataRead';
import { DRIFT_DEFAULTS, checkDriftInputs, describeFeature, driftSummary, featureVariable, fmt, runDriftCheck, type DriftInputs, type DriftOps } from './driftCheck';
import type { CategoricalMetric, NumericalMetric } from './drift/metrics';

runTask(async (signal) => {
  // read and check every input before any network call
  const conn = getAzureRmConnection('connection');
  const ws = workspaceRef(conn, getString('resourceGroup'), getString('workspace'));
  const lookbackText = getString('lookbackWindow') ?? DRIFT_DEFAULTS.lookback;
  const lookbackMs = isoDurationMs(lookbackText);
  if (lookbackMs === undefined) throw new InputError('lookbackWindow', `'${lookbackText}' is not an ISO 8601 duration (PT6H, P1D, P7D)`);
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

  const ctx = createAzureMLContext(ws, createCredential(conn, signal), signal);
  info(`Workspace ${ws.workspace} (resource group ${ws.resourceGroup}, subscription ${ws.subscriptionId})`);
  const ops: DriftOps = {
    getWorkspace: () => getWorkspace(ctx),
    getDeploymentCollector: (e, d) => getDeploymentDataCollector(ctx, e, d),
    plan: async (source, o) => {
      const p = await planData(ctx, source, o);
      return {
        resolved: p.resolved, outsideWindow: p.outsideWindow,
        files: p.files.map((f) => ({ label: f.label, size: f.size, format: f.format, readLines: (onLine: (l: string) => void) => readBlobLines(p.container, p.datastore, f.blob, onLine, signal) })),
      };
    },
  };
  const started = Date.now();
  const run = await runDriftCheck(inputs, ops, { info, progress: (pct, m) => progress(pct, m) });
  const rep = run.report;
  const secs = Math.max(0.001, (Date.now() - started) / 1000);
  info(`Compared ${rep.features.length} feature(s) on ${rep.referenceKept} reference and ${rep.productionKept} production row(s) (${Math.round((rep.referenceRows + rep.productionRows) / secs)} rows/s)`);
  for (const f of rep.features) info(describeFeature(f));
  if (rep.skipped.length) warning(`Skipped (type differs between reference and production, as Azure ML skips them): ${rep.skipped.map((s) => `${s.feature} (${s.reference} / ${s.production})`).join(', ')}`);
  const drifted = rep.features.filter((f) => f.drifted).map((f) => f.feature);
  setOutput('driftDetected', String(rep.driftDetected));
  setOutput('driftedFeatures', drifted.join(','));
  setOutput('featureMetrics', JSON.stringify(Object.fromEntries(rep.features.map((f) => [f.feature, { type: f.kind, metric: f.metric, value: Number.isNaN(f.value) ? 'NaN' : f.value, threshold: f.threshold, drifted: f.drifted }]))));
  for (const f of rep.features) setOutput(featureVariable(f.feature), Number.isNaN(f.value) ? 'NaN' : String(f.value));
  uploadSummary('Azure ML data drift', driftSummary(run));
  const verdict = rep.driftDetected ? `Drift detected in ${drifted.length} of ${rep.features.length} feature(s): ${rep.features.filter((f) => f.drifted).map((f) => `${f.feature} ${f.metric} ${fmt(f.value)}`).join(', ')}` : `No drift in ${rep.features.length} feature(s)`;
  info(`Verdict: ${verdict}`);
  if (rep.driftDetected) {
    if (inputs.failOnDrift) throw new UserError(`${verdict}: retrain (failOnDrift is true)`);
    warning(`${verdict}: retrain (failOnDrift is false: the step succeeds)`);
  }
});
