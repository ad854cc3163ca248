// AzureMLDriftCheck@1 source monitor, the pure part: which MLflow runs count and how a breach is decided
// (src/tasks/drift/monitor.ts cites the azureml-assets files it follows).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { monitorBreach, monitorFilter, monitorReport, type MonitorRun } from '../../src/tasks/drift/monitor';

const run = (id: string, tags: Record<string, string>, metrics: Record<string, number>): MonitorRun => ({
  runId: id,
  tags,
  metrics,
});
const T = (signal: string, metric: string, extra: Record<string, string> = {}) => ({
  'azureml.monitor_name': 'm',
  'azureml.signal_name': signal,
  'azureml.metric_name': metric,
  ...extra,
});

test('breach direction follows evaluate_metrics_threshold: above, or below for p-values and pass rates; equal never breaches', () => {
  assert.equal(monitorBreach('NormalizedWassersteinDistance', 0.11, 0.1), true);
  assert.equal(monitorBreach('JensenShannonDistance', 0.1, 0.1), false);
  assert.equal(monitorBreach('TwoSampleKolmogorovSmirnovTest', 0.04, 0.05), true);
  assert.equal(monitorBreach('PearsonsChiSquaredTest', 0.5, 0.05), false);
  assert.equal(monitorBreach('AggregatedGroundednessPassRate', 0.6, 0.7), true);
  assert.equal(monitorBreach('NullValueRate', 0.2, 0.1), true);
});

test("the filter is the service's tag filter, quotes escaped", () => {
  assert.equal(monitorFilter('m'), "tags.azureml.monitor_name = 'm'");
  assert.equal(
    monitorFilter("o'k", 'drift'),
    "tags.azureml.monitor_name = 'o''k' and tags.azureml.signal_name = 'drift'",
  );
});

test('parent run and runs without a value are skipped; group_0 names the feature when feature_name is absent; no threshold is not a breach', () => {
  const rep = monitorReport('m', [
    run('p', { 'azureml.monitor_name': 'm', 'azureml.metric_name': 'azureml.metrics' }, {}),
    run('a', T('drift', 'NormalizedWassersteinDistance', { 'azureml.feature_name': 'age' }), {
      value: 0.3,
      threshold: 0.1,
    }),
    run('b', T('drift', 'JensenShannonDistance', { 'azureml.group_0': 'region' }), { value: 0.05, threshold: 0.1 }),
    run('c', T('quality', 'NullValueRate', { 'azureml.feature_name': 'income' }), { value: 0.9 }),
    run('d', T('drift', 'JensenShannonDistance', { 'azureml.feature_name': 'empty' }), {}),
    run(
      'x',
      { ...T('drift', 'JensenShannonDistance', { 'azureml.feature_name': 'age' }), 'azureml.monitor_name': 'other' },
      { value: 1, threshold: 0.1 },
    ),
  ]);
  assert.deepEqual(
    rep.results.map((r) => [r.signal, r.feature, r.drifted]),
    [
      ['drift', 'age', true],
      ['drift', 'region', false],
      ['quality', 'income', false],
    ],
  );
  assert.deepEqual(rep.driftedFeatures, ['age']);
  assert.equal(rep.driftDetected, true);
  assert.equal(
    monitorReport(
      'm',
      [
        run('a', T('drift', 'NormalizedWassersteinDistance', { 'azureml.feature_name': 'age' }), {
          value: 0.3,
          threshold: 0.1,
        }),
      ],
      'drift',
    ).results.length,
    1,
  );
});

test('no results for the monitor (or the signal): one line', () => {
  assert.throws(
    () => monitorReport('m', []),
    /^UserError: Monitor 'm' has no results in the workspace's MLflow runs \(tags\.azureml\.monitor_name\): it does not exist or has not run yet$/,
  );
  assert.throws(
    () =>
      monitorReport(
        'm',
        [run('a', T('drift', 'JensenShannonDistance', { 'azureml.feature_name': 'f' }), { value: 1, threshold: 0.1 })],
        'quality',
      ),
    /signal 'quality'/,
  );
});
