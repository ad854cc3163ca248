// The monitor YAML `az ml schedule create -f` takes → the 2024-04-01 schedule body (src/tasks/drift/monitorYaml.ts),
// for Microsoft's own examples copied unchanged from Azure/azureml-examples cli/monitoring/ (provenance:
// test/fixtures/third-party/azureml-examples/MANIFEST.md), each body also checked against the 2024-04-01
// Schedules_CreateOrUpdate swagger the box validates with (unknown members refused); and the ensure path of the file
// form (GET, unchanged → no PUT) with injected operations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  defaultWindows,
  monitorYamlBody,
  readMonitorYaml,
  type CollectedData,
} from '../../src/tasks/drift/monitorYaml';
import { ensureMonitorFromFile, type MonitorOps } from '../../src/tasks/drift/ensureMonitor';
import { validateBody } from '../emulator/swagger';

const DIR = path.resolve(__dirname, '../fixtures/third-party/azureml-examples/cli/monitoring');
const file = (f: string) => path.join(DIR, f);
const WS = '/subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/workspaces/w';
const collected: CollectedData = {
  inputs: `${WS}/data/credit-default-main-model_inputs/versions/1`,
  outputs: `${WS}/data/credit-default-main-model_outputs/versions/1`,
};
const AT = { apiVersion: '2024-04-01', noUnknownProperties: true };
const body = (f: string, c?: CollectedData) => {
  const b = monitorYamlBody(readMonitorYaml(file(f)), c);
  assert.deepEqual(validateBody('Schedules_CreateOrUpdate', b, AT), [], `${f}: valid at 2024-04-01`);
  return b;
};
const rolling = (uri: string, ctx: string, size: string, offset: string) => ({
  inputDataType: 'Rolling',
  jobInputType: 'uri_folder',
  uri,
  dataContext: ctx,
  windowSize: size,
  windowOffset: offset,
});
const COMPUTE_E4 = {
  computeType: 'ServerlessSpark',
  computeIdentity: { computeIdentityType: 'AmlToken' },
  instanceType: 'standard_e4s_v3',
  runtimeVersion: '3.4',
};
const DAILY_0315 = {
  triggerType: 'Recurrence',
  frequency: 'Day',
  interval: 1,
  schedule: { hours: [3], minutes: [15] },
  timeZone: 'UTC',
};

test('out-of-box-monitoring.yaml: no signals → the three default signals over the collected inputs/outputs', () => {
  const y = readMonitorYaml(file('out-of-box-monitoring.yaml'));
  assert.equal(y.name, 'credit_default_model_monitoring');
  assert.deepEqual(y.deployment, { endpoint: 'credit-default', deployment: 'main' });
  assert.equal(y.needsCollected, true);
  const b = body('out-of-box-monitoring.yaml', collected);
  const prodIn = rolling(collected.inputs!, 'model_inputs', 'P1D', 'P0D');
  const refIn = rolling(collected.inputs!, 'model_inputs', 'P2D', 'P1D');
  const drift = [
    { dataType: 'Numerical', metric: 'NormalizedWassersteinDistance', threshold: { value: 0.1 } },
    { dataType: 'Categorical', metric: 'JensenShannonDistance', threshold: { value: 0.1 } },
  ];
  assert.deepEqual(b, {
    properties: {
      displayName: 'Credit default model monitoring',
      description: 'Credit default model monitoring setup with minimal configurations',
      isEnabled: true,
      trigger: DAILY_0315,
      action: {
        actionType: 'CreateMonitor',
        monitorDefinition: {
          computeConfiguration: COMPUTE_E4,
          monitoringTarget: { taskType: 'Classification', deploymentId: 'azureml:credit-default:main' },
          signals: {
            'data-drift-signal': {
              signalType: 'DataDrift',
              productionData: prodIn,
              referenceData: refIn,
              features: { filterType: 'AllFeatures' },
              metricThresholds: drift,
            },
            'prediction-drift-signal': {
              signalType: 'PredictionDrift',
              productionData: rolling(collected.outputs!, 'model_outputs', 'P1D', 'P0D'),
              referenceData: rolling(collected.outputs!, 'model_outputs', 'P2D', 'P1D'),
              metricThresholds: drift,
            },
            'data-quality-signal': {
              signalType: 'DataQuality',
              productionData: prodIn,
              referenceData: refIn,
              features: { filterType: 'AllFeatures' },
              metricThresholds: ['Numerical', 'Categorical'].flatMap((dataType) =>
                ['NullValueRate', 'DataTypeErrorRate', 'OutOfBoundsRate'].map((metric) => ({
                  dataType,
                  metric,
                  threshold: { value: 0 },
                })),
              ),
            },
          },
          alertNotificationSettings: { emailNotificationSettings: { emails: ['abc@example.com', 'def@example.com'] } },
        },
      },
    },
  });
  assert.throws(
    () => monitorYamlBody(y, { inputs: collected.inputs! }),
    /out-of-box-monitoring\.yaml:\d+: 'create_monitor\.monitoring_signals': without monitoring_signals the monitoring target must be a deployment that collects model_inputs and model_outputs/,
  );
});

test('advanced-model-monitoring.yaml: drift, quality and feature attribution, defaults from the collector', () => {
  const b = body('advanced-model-monitoring.yaml', collected);
  const def = b.properties.action.monitorDefinition;
  assert.deepEqual(Object.keys(def.signals), [
    'advanced_data_drift',
    'advanced_data_quality',
    'feature_attribution_drift_signal',
  ]);
  const reference = {
    inputDataType: 'Fixed',
    jobInputType: 'mltable',
    uri: 'azureml:credit-reference:1',
    dataContext: 'training',
    columns: { target_column: 'DEFAULT_NEXT_MONTH' },
  };
  const prodIn = rolling(collected.inputs!, 'model_inputs', 'P1D', 'P0D');
  assert.deepEqual(def.signals.advanced_data_drift, {
    signalType: 'DataDrift',
    notificationTypes: ['AmlNotification'],
    productionData: prodIn,
    referenceData: reference,
    features: { filterType: 'TopNByAttribution', top: 10 },
    metricThresholds: [
      { dataType: 'Numerical', metric: 'JensenShannonDistance', threshold: { value: 0.01 } },
      { dataType: 'Categorical', metric: 'PearsonsChiSquaredTest', threshold: { value: 0.02 } },
    ],
  });
  assert.deepEqual(def.signals.advanced_data_quality.features, {
    filterType: 'FeatureSubset',
    features: ['SEX', 'EDUCATION'],
  });
  assert.deepEqual(def.signals.advanced_data_quality.metricThresholds, [
    { dataType: 'Numerical', metric: 'NullValueRate', threshold: { value: 0.05 } },
    { dataType: 'Categorical', metric: 'OutOfBoundsRate', threshold: { value: 0.03 } },
  ]);
  assert.deepEqual(def.signals.feature_attribution_drift_signal, {
    signalType: 'FeatureAttributionDrift',
    notificationTypes: ['AmlNotification'],
    productionData: [prodIn, rolling(collected.outputs!, 'model_outputs', 'P1D', 'P0D')],
    referenceData: reference,
    featureImportanceSettings: { mode: 'Enabled', targetColumn: 'DEFAULT_NEXT_MONTH' },
    metricThreshold: { metric: 'NormalizedDiscountedCumulativeGain', threshold: { value: 0.9 } },
  });
  assert.throws(
    () => monitorYamlBody(readMonitorYaml(file('advanced-model-monitoring.yaml')), {}),
    /'create_monitor\.monitoring_signals\.advanced_data_drift': signal 'advanced_data_drift' \(data_drift\) needs production_data and reference_data: the monitoring target does not collect model_inputs/,
  );
});

test('model-monitoring-with-collected-data.yaml: explicit production data with a preprocessing component', () => {
  const y = readMonitorYaml(file('model-monitoring-with-collected-data.yaml'));
  assert.equal(y.needsCollected, false, 'every signal names its data: the deployment is not read');
  const b = body('model-monitoring-with-collected-data.yaml');
  const s = b.properties.action.monitorDefinition.signals;
  assert.deepEqual(s.advanced_data_drift.productionData, {
    inputDataType: 'Rolling',
    jobInputType: 'uri_folder',
    uri: 'azureml:my_production_inference_data_model_inputs:1',
    dataContext: 'model_inputs',
    preprocessingComponentId: 'azureml:production_data_preprocessing:1.0.0',
    windowSize: 'P1D',
    windowOffset: 'P0D',
  });
  assert.deepEqual(s.advanced_data_drift.features, { filterType: 'TopNByAttribution', top: 20 });
  assert.deepEqual(s.advanced_prediction_drift.referenceData, {
    inputDataType: 'Fixed',
    jobInputType: 'mltable',
    uri: 'azureml:my_model_validation_data:1',
    dataContext: 'validation',
  });
  assert.deepEqual(s.advanced_prediction_drift.metricThresholds, [
    { dataType: 'Categorical', metric: 'PearsonsChiSquaredTest', threshold: { value: 0.02 } },
  ]);
});

test('custom-monitoring.yaml: component, input assets (Fixed: no preprocessing component), custom thresholds', () => {
  const b = body('custom-monitoring.yaml');
  assert.deepEqual(b.properties.trigger, {
    triggerType: 'Recurrence',
    frequency: 'Day',
    interval: 7,
    schedule: { hours: [], minutes: [] },
    timeZone: 'UTC',
  });
  const def = b.properties.action.monitorDefinition;
  assert.equal(def.monitoringTarget, undefined);
  assert.equal(def.computeConfiguration.instanceType, 'standard_e8s_v3');
  const asset = { inputDataType: 'Fixed', jobInputType: 'mltable', uri: 'azureml:Direct:1', dataContext: 'test' };
  assert.deepEqual(def.signals.customSignal, {
    signalType: 'Custom',
    componentId: 'azureml:my_custom_signal:1.0.0',
    inputAssets: { test_data_1: asset, test_data_2: asset },
    metricThresholds: [{ metric: 'std_dev', threshold: { value: 2 } }],
  });
});

test('default windows follow the trigger (MonitorSchedule._to_rest_object)', () => {
  const r = (frequency: string, interval: number) => defaultWindows({ triggerType: 'Recurrence', frequency, interval });
  assert.deepEqual(r('Minute', 5), { production: 'P1D', reference: 'P2D' });
  assert.deepEqual(r('Hour', 3), { production: 'P1D', reference: 'P2D' });
  assert.deepEqual(r('Day', 3), { production: 'P3D', reference: 'P6D' });
  assert.deepEqual(r('Week', 2), { production: 'P14D', reference: 'P28D' });
  assert.deepEqual(r('Month', 1), { production: 'P30D', reference: 'P60D' });
  assert.deepEqual(defaultWindows({ triggerType: 'Cron', expression: '0 3 * * *' }), {
    production: 'P7D',
    reference: 'P14D',
  });
});

const yamlOf = (signals: string, extra = '') =>
  `name: m\ntrigger:\n  type: cron\n  expression: "0 3 * * *"\ncreate_monitor:\n  compute:\n    instance_type: standard_e4s_v3\n    runtime_version: "3.4"\n${extra}  monitoring_signals:\n${signals}`;
const refuse = (text: string) => () => monitorYamlBody(readMonitorYaml('/tmp/m.yaml', text), collected);

test('refused, one line naming the file, line and key path', () => {
  assert.throws(
    () => readMonitorYaml(file('generation-safety-quality-monitoring.yaml')),
    /generation-safety-quality-monitoring\.yaml:\d+: 'create_monitor\.monitoring_signals\.testSignal\.type': signal 'testSignal' has type generation_safety_quality, which api-version 2024-04-01 does not have \(it has data_drift, prediction_drift, data_quality, feature_attribution_drift, custom\)$/,
  );
  const io = `      production_data:\n        input_data:\n          path: azureml:p:1\n      reference_data:\n        input_data:\n          path: azureml:r:1\n`;
  assert.throws(
    refuse(yamlOf(`    d:\n      type: data_drift\n${io}`)),
    /m\.yaml:\d+: 'create_monitor\.monitoring_signals\.d\.metric_thresholds': metric_thresholds is required for a data_drift signal/,
  );
  assert.throws(
    refuse(
      yamlOf(
        `    d:\n      type: data_drift\n${io}      metric_thresholds:\n        numerical:\n          jensen_shannon_distance: 0.1\n          population_stability_index: 0.2\n`,
      ),
    ),
    /'create_monitor\.monitoring_signals\.d\.metric_thresholds\.numerical': give one numerical metric, not 2/,
  );
  assert.throws(
    refuse(
      yamlOf(
        `    d:\n      type: data_drift\n${io}      metric_thresholds:\n        categorical:\n          normalized_wasserstein_distance: 0.1\n`,
      ),
    ),
    /'create_monitor\.monitoring_signals\.d\.metric_thresholds\.categorical\.normalized_wasserstein_distance': unknown key for categorical drift metrics/,
  );
  assert.throws(
    refuse(
      yamlOf(
        `    d:\n      type: data_drift\n      metric_thresholds:\n        numerical:\n          jensen_shannon_distance: 0.1\n`,
      ),
    ),
    /signal 'd' \(data_drift\) needs production_data and reference_data: the monitoring target names no deployment/,
  );
  assert.throws(
    refuse(
      yamlOf(
        `    d:\n      type: data_drift\n${io}      metric_thresholds:\n        numerical:\n          jensen_shannon_distance: 0.1\n`,
        '  alert_notification: azmonitoring\n',
      ),
    ),
    /'create_monitor\.alert_notification': 'azmonitoring' \(Azure Monitor alerts\) is not in api-version 2024-04-01/,
  );
  assert.throws(refuse('name: m\ncreate_monitor:\n  compute: {}\n'), /m\.yaml:\d+: 'trigger': expected a trigger/);
  assert.throws(
    refuse(yamlOf('    {}\n').replace('expression: "0 3 * * *"', 'expression: "0 3 * * *"\n  every: 1')),
    /'trigger\.every': unknown key for a cron trigger/,
  );
});

function fakeOps(o: { collections?: Record<string, { dataCollectionMode?: string; dataId?: string | null }> } = {}) {
  const calls: string[] = [];
  let stored: { properties: Record<string, any> } | undefined;
  const ops: MonitorOps = {
    getWorkspace: async () => void calls.push('getWorkspace'),
    getDeploymentCollector: async (e, d) => {
      calls.push(`getDeployment ${e}/${d}`);
      return { exists: true, collector: o.collections ? { collections: o.collections } : null };
    },
    getSchedule: async (n) => {
      calls.push(`GET ${n}`);
      return stored && structuredClone(stored);
    },
    putSchedule: async (n, b) => {
      calls.push(`PUT ${n}`);
      stored = structuredClone(b);
      stored.properties.provisioningState = 'Succeeded';
      return stored;
    },
  };
  return { ops, calls };
}
const quiet = { info: () => {} };

test('ensureMonitorFromFile: created (deployment read for the defaults), rerun unchanged without a PUT', async () => {
  const { ops, calls } = fakeOps({
    collections: {
      model_inputs: { dataCollectionMode: 'Enabled', dataId: collected.inputs! },
      model_outputs: { dataCollectionMode: 'Enabled', dataId: collected.outputs! },
    },
  });
  const f = file('out-of-box-monitoring.yaml');
  const a = await ensureMonitorFromFile(f, undefined, ops, quiet);
  assert.equal(a.state, 'created');
  assert.equal(a.name, 'credit_default_model_monitoring');
  assert.deepEqual(a.body, monitorYamlBody(readMonitorYaml(f), collected));
  const b = await ensureMonitorFromFile(f, undefined, ops, quiet);
  assert.equal(b.state, 'unchanged');
  assert.deepEqual(calls, [
    'getWorkspace',
    'getDeployment credit-default/main',
    'GET credit_default_model_monitoring',
    'PUT credit_default_model_monitoring',
    'getWorkspace',
    'getDeployment credit-default/main',
    'GET credit_default_model_monitoring',
  ]);
  const c = await ensureMonitorFromFile(f, 'other-name', ops, quiet);
  assert.equal(c.name, 'other-name', 'monitorName overrides the YAML name');
});

test('ensureMonitorFromFile: bad file or a deployment that does not collect → one line naming monitorFile, nothing written', async () => {
  const { ops, calls } = fakeOps();
  await assert.rejects(
    ensureMonitorFromFile(file('generation-safety-quality-monitoring.yaml'), undefined, ops, quiet),
    /^InputError: Input 'monitorFile': .*generation-safety-quality-monitoring\.yaml:\d+: 'create_monitor\.monitoring_signals\.testSignal\.type': signal 'testSignal' has type generation_safety_quality/,
  );
  await assert.rejects(
    ensureMonitorFromFile(file('no-such.yaml'), undefined, ops, quiet),
    /Input 'monitorFile': .*no-such\.yaml: file not found/,
  );
  assert.deepEqual(calls, [], 'no call at all');
  const nodc = fakeOps({ collections: { model_inputs: { dataCollectionMode: 'Enabled', dataId: collected.inputs! } } });
  await assert.rejects(
    ensureMonitorFromFile(file('out-of-box-monitoring.yaml'), undefined, nodc.ops, quiet),
    /Input 'monitorFile': .*out-of-box-monitoring\.yaml:\d+: 'create_monitor\.monitoring_signals': without monitoring_signals the monitoring target must be a deployment that collects model_inputs and model_outputs/,
  );
  assert.ok(!nodc.calls.some((c) => c.startsWith('PUT')), 'nothing written');
});

test('ensureMonitorFromFile: a schedule of that name that is not a monitor is refused naming where the name came from', async () => {
  const { ops, calls } = fakeOps();
  ops.getSchedule = async (n) => {
    calls.push(`GET ${n}`);
    return { properties: { action: { actionType: 'CreateJob' } } };
  };
  const f = file('model-monitoring-with-collected-data.yaml');
  await assert.rejects(
    ensureMonitorFromFile(f, undefined, ops, quiet),
    /^InputError: Input 'monitorFile': schedule 'fraud_detection_model_monitoring' exists with action CreateJob, not a monitor: choose another name$/,
  );
  await assert.rejects(
    ensureMonitorFromFile(f, 'job-schedule', ops, quiet),
    /^InputError: Input 'monitorName': schedule 'job-schedule' exists/,
  );
  assert.deepEqual(
    calls,
    ['getWorkspace', 'GET fraud_detection_model_monitoring', 'getWorkspace', 'GET job-schedule'],
    'no deployment read, no PUT',
  );
});

test('every other mapping: weekly days, Static reference, type overrides, tags/properties, alert off — valid at 2024-04-01', () => {
  const text = [
    'name: m',
    'display_name: M',
    'tags: {team: ml, tier: 1}',
    'properties: {owner: me}',
    'trigger:',
    '  type: recurrence',
    '  frequency: week',
    '  interval: 2',
    '  time_zone: Pacific Standard Time',
    '  start_time: "2026-01-05T03:00:00"',
    '  schedule: {hours: [22, 20], minutes: 30, week_days: [monday, Friday]}',
    'create_monitor:',
    '  compute: {instance_type: standard_e8s_v3, runtime_version: "3.4"}',
    '  monitoring_target: {ml_task: Regression, model_id: "azureml:credit-model:3"}',
    '  monitoring_signals:',
    '    q:',
    '      type: data_quality',
    '      alert_enabled: false',
    '      properties: {note: x}',
    '      features: all_features',
    '      feature_type_override: {zip: categorical, age: Numerical}',
    '      production_data:',
    '        input_data: {path: "azureml://datastores/workspaceblobstore/paths/p/", type: uri_folder}',
    '        data_window: {lookback_window_size: P3D, lookback_window_offset: P1D}',
    '      reference_data:',
    '        input_data: {path: azureml:train:2, type: mltable}',
    '        pre_processing_component: azureml:prep:1',
    '        data_window: {window_start: "2026-01-01", window_end: "2026-01-31"}',
    '      metric_thresholds:',
    '        categorical: {null_value_rate: 0.1, data_type_error_rate: 0.2}',
    '    p:',
    '      type: prediction_drift',
    '      alert_enabled: true',
    '      production_data:',
    '        input_data: {path: azureml:out:1}',
    '      reference_data:',
    '        input_data: {path: azureml:val:1}',
    '        data_window: {lookback_window_size: default, lookback_window_offset: default}',
    '      metric_thresholds:',
    '        numerical: {two_sample_kolmogorov_smirnov_test: 0.05}',
  ].join('\n');
  const b = monitorYamlBody(readMonitorYaml('/tmp/other.yaml', text));
  assert.deepEqual(validateBody('Schedules_CreateOrUpdate', b, AT), []);
  assert.deepEqual(b.properties.tags, { team: 'ml', tier: '1' });
  assert.deepEqual(b.properties.properties, { owner: 'me' });
  assert.deepEqual(b.properties.trigger, {
    triggerType: 'Recurrence',
    frequency: 'Week',
    interval: 2,
    schedule: { hours: [22, 20], minutes: [30], weekDays: ['Monday', 'Friday'] },
    startTime: '2026-01-05T03:00:00',
    timeZone: 'Pacific Standard Time',
  });
  const def = b.properties.action.monitorDefinition;
  assert.deepEqual(def.monitoringTarget, { taskType: 'Regression', modelId: 'azureml:credit-model:3' });
  assert.deepEqual(def.signals.q, {
    signalType: 'DataQuality',
    properties: { note: 'x' },
    productionData: {
      inputDataType: 'Rolling',
      jobInputType: 'uri_folder',
      uri: 'azureml://datastores/workspaceblobstore/paths/p/',
      windowSize: 'P3D',
      windowOffset: 'P1D',
    },
    referenceData: {
      inputDataType: 'Static',
      jobInputType: 'mltable',
      uri: 'azureml:train:2',
      preprocessingComponentId: 'azureml:prep:1',
      windowStart: '2026-01-01T00:00:00.000Z',
      windowEnd: '2026-01-31T00:00:00.000Z',
    },
    features: { filterType: 'AllFeatures' },
    featureDataTypeOverride: { zip: 'Categorical', age: 'Numerical' },
    metricThresholds: [
      { dataType: 'Categorical', metric: 'NullValueRate', threshold: { value: 0.1 } },
      { dataType: 'Categorical', metric: 'DataTypeErrorRate', threshold: { value: 0.2 } },
    ],
  });
  // weekly every 2 weeks: production window P14D (offset P0D), reference "default" P28D offset by P14D
  assert.deepEqual(def.signals.p, {
    signalType: 'PredictionDrift',
    notificationTypes: ['AmlNotification'],
    productionData: {
      inputDataType: 'Rolling',
      jobInputType: 'uri_folder',
      uri: 'azureml:out:1',
      windowSize: 'P14D',
      windowOffset: 'P0D',
    },
    referenceData: {
      inputDataType: 'Rolling',
      jobInputType: 'uri_folder',
      uri: 'azureml:val:1',
      windowSize: 'P28D',
      windowOffset: 'P14D',
    },
    metricThresholds: [{ dataType: 'Numerical', metric: 'TwoSampleKolmogorovSmirnovTest', threshold: { value: 0.05 } }],
  });
});
