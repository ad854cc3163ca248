// AzureMLDriftCheck@1 `source: monitor`: read back what an Azure ML model monitor last computed, from the MLflow runs
// the service writes, and decide as the service decides. Pure (the MLflow reads are injected).
//
// What the service writes (Azure/azureml-assets @ 4b41f8ccbc01cf492767adc586ce1661c54c340a):
//  - assets/model_monitoring/components/src/shared_utilities/run_metrics_utils.py (used by
//    model_monitor_output_metrics/entities/signals/data_drift_signal.py): one MLflow run per (monitor, signal, feature,
//    metric), found or created with the filter `tags.azureml.monitor_name = '<m>' and tags.azureml.signal_name = '<s>'
//    and tags.azureml.feature_name = '<f>' and tags.azureml.metric_name = '<metric>'`, nested under a parent run tagged
//    `azureml.metric_name = azureml.metrics` ("<monitor> - Metrics"); each execution of the monitor logs metrics
//    `value` and `threshold` on it at a new step (publish_metric) — the run is reused, so its latest value is the
//    monitor's latest result.
//  - model_monitor_metric_outputter/runmetric_client.py (the newer outputter) tags the same runs with the signal's
//    groups `azureml.group_0`, `azureml.group_1`, … instead of `azureml.feature_name`.
//    ASSUMPTION: for a data drift signal group_0 is the feature name (the outputter's metric groups are the features).
//  - the breach: model_monitor_evaluate_metrics_threshold/evaluate_metrics_threshold.py calculate_metrics_breach casts
//    value and threshold to double and breaches when value > threshold, or value < threshold for the metrics in
//    Metric_Value_Should_Greater_Than_Threshold (KS and chi-squared p-values, NDCG, the generation-safety pass rates
//    and average scores). send_email_for_breached then tags `azureml_modelmonitor_threshold_breached` on
//    `_get_run_id()` = MLFLOW_RUN_ID (shared_utilities/event_utils.py), i.e. the evaluate step's own job run, NOT the
//    per-feature metric runs: it cannot be found from the monitor's tags, so this mode recomputes the breach from each
//    run's latest value and threshold with the same rule.
import { UserError } from '../../pipeline';

export const MONITOR_TAGS = {
  monitor: 'azureml.monitor_name',
  signal: 'azureml.signal_name',
  feature: 'azureml.feature_name',
  metric: 'azureml.metric_name',
  group0: 'azureml.group_0',
} as const;
/** the parent run's azureml.metric_name (run_metrics_utils._get_or_create_parent_run_id) */
export const PARENT_METRIC_NAME = 'azureml.metrics';

/** evaluate_metrics_threshold.py Metric_Value_Should_Greater_Than_Threshold (constants.py names) */
export const VALUE_SHOULD_EXCEED_THRESHOLD: ReadonlySet<string> = new Set([
  'TwoSampleKolmogorovSmirnovTest',
  'PearsonsChiSquaredTest',
  'NormalizedDiscountedCumulativeGain',
  'AggregatedCoherencePassRate',
  'AggregatedGroundednessPassRate',
  'AggregatedFluencyPassRate',
  'AggregatedSimilarityPassRate',
  'AggregatedRelevancePassRate',
  'AverageCoherenceScore',
  'AverageGroundednessScore',
  'AverageFluencyScore',
  'AverageRelevanceScore',
  'AverageSimilarityScore',
]);

/** calculate_metrics_breach, in doubles */
export function monitorBreach(metric: string, value: number, threshold: number): boolean {
  return VALUE_SHOULD_EXCEED_THRESHOLD.has(metric) ? value < threshold : value > threshold;
}

export interface MonitorRun {
  runId: string;
  metrics: Record<string, number>;
  tags: Record<string, string>;
  startTime?: number;
  endTime?: number;
}
export interface MonitorResult {
  signal: string;
  feature: string;
  metric: string;
  value: number;
  threshold?: number;
  drifted: boolean;
  runId: string;
}
export interface MonitorReport {
  monitor: string;
  results: MonitorResult[];
  driftDetected: boolean;
  driftedFeatures: string[];
}

/** The MLflow filter that selects a monitor's (and optionally one signal's) runs, as the service writes it. */
export function monitorFilter(monitor: string, signal?: string): string {
  const q = (v: string) => `'${v.replace(/'/g, "''")}'`;
  return [
    `tags.${MONITOR_TAGS.monitor} = ${q(monitor)}`,
    ...(signal ? [`tags.${MONITOR_TAGS.signal} = ${q(signal)}`] : []),
  ].join(' and ');
}

/** The monitor's runs → per (signal, feature, metric) results with the service's breach rule. */
export function monitorReport(monitor: string, runs: MonitorRun[], signal?: string): MonitorReport {
  const results: MonitorResult[] = [];
  for (const r of runs) {
    const t = r.tags;
    if (t[MONITOR_TAGS.monitor] !== monitor) continue;
    if (signal && t[MONITOR_TAGS.signal] !== signal) continue;
    const metric = t[MONITOR_TAGS.metric];
    if (!metric || metric === PARENT_METRIC_NAME) continue; // the parent "<monitor> - Metrics" run holds no values
    const value = r.metrics.value;
    if (value === undefined || !Number.isFinite(Number(value))) continue; // created, no value logged yet
    const threshold = r.metrics.threshold;
    const feature = t[MONITOR_TAGS.feature] ?? t[MONITOR_TAGS.group0] ?? '';
    // _clean_metrics_df: rows without a threshold are not evaluated
    const drifted = threshold !== undefined && monitorBreach(metric, Number(value), Number(threshold));
    results.push({
      signal: t[MONITOR_TAGS.signal] ?? '',
      feature,
      metric,
      value: Number(value),
      ...(threshold !== undefined ? { threshold: Number(threshold) } : {}),
      drifted,
      runId: r.runId,
    });
  }
  if (!results.length) {
    throw new UserError(
      `Monitor '${monitor}'${signal ? ` (signal '${signal}')` : ''} has no results in the workspace's MLflow runs (tags.${MONITOR_TAGS.monitor}${signal ? ` and ${MONITOR_TAGS.signal}` : ''}): it does not exist or has not run yet`,
    );
  }
  results.sort(
    (a, b) =>
      a.signal.localeCompare(b.signal) || a.feature.localeCompare(b.feature) || a.metric.localeCompare(b.metric),
  );
  const driftedFeatures = [...new Set(results.filter((x) => x.drifted).map((x) => x.feature || x.signal))];
  return { monitor, results, driftDetected: results.some((x) => x.drifted), driftedFeatures };
}
