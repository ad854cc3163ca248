// Azure-in-a-box: a model monitor's results written to the workspace's MLflow runs in the service's shape, so
// AzureMLDriftCheck@1 `source: monitor` reads back what a real monitor run leaves.
//
// Source (Azure/azureml-assets @ 4b41f8ccbc01cf492767adc586ce1661c54c340a, assets/model_monitoring/components/src/):
//  - shared_utilities/run_metrics_utils.py: get_or_create_run_id searches the experiment for
//    `tags.azureml.monitor_name/signal_name/feature_name/metric_name` and reuses the run it finds; else it creates, under
//    the parent run "<monitor> - Metrics" (tags monitor_name + metric_name `azureml.metrics`, itself found or created
//    the same way), a nested run named `<signal>_<metric>` with those four tags; publish_metric logs `value` and
//    `threshold` (float) at the execution's step.
//  - model_monitor_evaluate_metrics_threshold/evaluate_metrics_threshold.py send_email_for_breached: when a feature
//    breaches, the evaluate step's own run (MLFLOW_RUN_ID, shared_utilities/event_utils.py _get_run_id) gets the tag
//    `azureml_modelmonitor_threshold_breached` = the error message; the metric runs get no breach tag.
// ASSUMPTION: the experiment the monitor's jobs run in is named after the monitor (the real name is not documented in
// what was read); readers must not rely on it (the task searches every experiment).
// ASSUMPTION: the evaluate step's run is a run of its own in the same experiment, named `<monitor>-<signal>-evaluate`.
import type { MlflowStore, RunRecord } from './mlflow';

export interface MonitorMetricResult {
  signal: string;
  feature: string;
  metric: string;
  value: number;
  threshold?: number;
  breached?: boolean;
}

const T = {
  monitor: 'azureml.monitor_name',
  signal: 'azureml.signal_name',
  feature: 'azureml.feature_name',
  metric: 'azureml.metric_name',
};

function findRun(
  ml: MlflowStore,
  wsId: string,
  experimentId: string,
  tags: Record<string, string>,
): RunRecord | undefined {
  return ml
    .runs(wsId)
    .filter(
      (r) =>
        r.info.experiment_id === experimentId &&
        r.info.lifecycle_stage === 'active' &&
        Object.entries(tags).every(([k, v]) => r.tags[k] === v),
    )
    .sort((a, b) => a.info.start_time - b.info.start_time)[0];
}

/** One execution of a monitor: its results land in the runs run_metrics_utils.py finds or creates. Returns the run ids. */
export function publishMonitorResults(
  ml: MlflowStore,
  wsId: string,
  o: { monitor: string; step: number; results: MonitorMetricResult[]; experiment?: string; now?: number },
): { parent: string; runs: string[]; evaluateRuns: string[] } {
  const exp = ml.ensureExperiment(wsId, o.experiment ?? o.monitor);
  const now = o.now ?? Date.now();
  const parentTags = { [T.monitor]: o.monitor, [T.metric]: 'azureml.metrics' };
  const parent =
    findRun(ml, wsId, exp.experiment_id, parentTags) ??
    ml.createRun(wsId, exp.experiment_id, { runName: `${o.monitor} - Metrics`, tags: parentTags, startTime: now });
  const runs: string[] = [];
  for (const r of o.results) {
    const tags = { [T.monitor]: o.monitor, [T.signal]: r.signal, [T.feature]: r.feature, [T.metric]: r.metric };
    const run =
      findRun(ml, wsId, exp.experiment_id, tags) ??
      ml.createRun(wsId, exp.experiment_id, {
        runName: `${r.signal}_${r.metric}`,
        tags: { ...tags, 'mlflow.parentRunId': parent.info.run_id },
        startTime: now,
      });
    const metrics = [{ key: 'value', value: r.value, timestamp: now, step: o.step }];
    if (r.threshold !== undefined) metrics.push({ key: 'threshold', value: r.threshold, timestamp: now, step: o.step });
    ml.logBatch(wsId, run.info.run_id, { metrics });
    runs.push(run.info.run_id);
  }
  const evaluateRuns: string[] = [];
  for (const signal of [...new Set(o.results.map((r) => r.signal))]) {
    const breached = o.results.filter((r) => r.signal === signal && r.breached);
    const ev = ml.createRun(wsId, exp.experiment_id, {
      runName: `${o.monitor}-${signal}-evaluate`,
      startTime: now,
      status: 'FINISHED',
    });
    if (breached.length) {
      const rows = breached.map((r) =>
        JSON.stringify({
          metric_value: r.value,
          metric_name: r.metric,
          threshold_value: r.threshold,
          group: r.feature,
        }),
      );
      ml.setTag(
        wsId,
        ev.info.run_id,
        'azureml_modelmonitor_threshold_breached',
        `The signal '${signal}' has failed due to one or more features violating metric thresholds.\nThe feature names and their corresponding computed metric values violating the threshold are \n[${rows.join(', ')}]\n`,
      );
    }
    evaluateRuns.push(ev.info.run_id);
  }
  return { parent: parent.info.run_id, runs, evaluateRuns };
}
