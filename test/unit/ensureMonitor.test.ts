// The monitor schedule body AzureMLDriftCheck@1 action ensureMonitor sends, and the field-by-field comparison that
// decides whether to PUT (src/tasks/drift/ensureMonitor.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkMonitorInputs,
  monitorScheduleBody,
  scheduleChanges,
  type MonitorInputs,
} from '../../src/tasks/drift/ensureMonitor';
import { DRIFT_DEFAULTS, type DriftInputs } from '../../src/tasks/driftCheck';

const inputs: DriftInputs = {
  referenceData: 'azureml:credit-train:3',
  endpointName: 'credit',
  deploymentName: 'blue',
  collection: 'model_inputs',
  lookbackMs: 86_400_000,
  features: ['age', 'region'],
  numericalFeatures: [],
  categoricalFeatures: ['region'],
  numericalMetric: DRIFT_DEFAULTS.numericalMetric,
  numericalThreshold: 0.1,
  categoricalMetric: DRIFT_DEFAULTS.categoricalMetric,
  categoricalThreshold: 0.1,
  failOnDrift: true,
};
const m: MonitorInputs = {
  monitorName: 'credit-drift',
  taskType: 'Regression',
  frequency: 'weekly',
  hour: 6,
  emails: ['a@example.com'],
  windowIso: 'P1D',
};

test('the body: Rolling collected data, FeatureSubset, overrides, weekly trigger, target and e-mails', () => {
  const b = monitorScheduleBody(
    inputs,
    m,
    '/subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/workspaces/w/data/credit-blue-model_inputs/versions/1',
  );
  assert.deepEqual(b.properties.trigger, {
    triggerType: 'Recurrence',
    frequency: 'Week',
    interval: 1,
    schedule: { hours: [6], minutes: [0], weekDays: ['Monday'] },
  });
  const def = b.properties.action.monitorDefinition;
  assert.deepEqual(def.monitoringTarget, { taskType: 'Regression', deploymentId: 'azureml:credit:blue' });
  const sig = def.signals['data-drift'];
  assert.deepEqual(sig.productionData, {
    inputDataType: 'Rolling',
    jobInputType: 'uri_folder',
    uri: '/subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/workspaces/w/data/credit-blue-model_inputs/versions/1',
    windowSize: 'P1D',
    windowOffset: 'P0D',
  });
  assert.deepEqual(sig.features, { filterType: 'FeatureSubset', features: ['age', 'region'] });
  assert.deepEqual(sig.featureDataTypeOverride, { region: 'Categorical' });
  assert.deepEqual(def.alertNotificationSettings, { emailNotificationSettings: { emails: ['a@example.com'] } });
  const fixed = monitorScheduleBody(
    {
      ...inputs,
      productionData: 'azureml://datastores/workspaceblobstore/paths/p/x.jsonl',
      endpointName: undefined,
      deploymentName: undefined,
    },
    { ...m, emails: [] },
    'azureml://datastores/workspaceblobstore/paths/p/x.jsonl',
  );
  assert.deepEqual(fixed.properties.action.monitorDefinition.signals['data-drift'].productionData, {
    inputDataType: 'Fixed',
    jobInputType: 'uri_file',
    uri: 'azureml://datastores/workspaceblobstore/paths/p/x.jsonl',
  });
  assert.equal(fixed.properties.action.monitorDefinition.alertNotificationSettings, undefined);
  assert.equal(fixed.properties.action.monitorDefinition.monitoringTarget.deploymentId, undefined);
});

test('changes: only the fields sent count; service-added fields and enum case are not changes', () => {
  const b = monitorScheduleBody(inputs, m, 'azureml:credit-blue-model_inputs:1');
  const served = structuredClone(b) as any;
  served.properties.provisioningState = 'Succeeded';
  served.properties.trigger.timeZone = 'UTC';
  served.properties.action.monitorDefinition.monitoringTarget.taskType = 'regression';
  assert.deepEqual(scheduleChanges(b, served), []);
  const other = monitorScheduleBody(
    { ...inputs, categoricalThreshold: 0.3 },
    { ...m, hour: 7 },
    'azureml:credit-blue-model_inputs:1',
  );
  const c = scheduleChanges(other, served);
  assert.equal(c.length, 2, c.join('\n'));
  assert.equal(c[0], 'properties.trigger.schedule.hours: [6] → [7]');
  assert.match(
    c[1]!,
    /^properties\.action\.monitorDefinition\.signals\.data-drift\.metricThresholds: .*"value":0\.1\}\}\] → .*"value":0\.3\}\}\]$/,
  );
  assert.deepEqual(scheduleChanges(b, undefined).length > 0, true);
});

test('monitor inputs: one line naming the input', () => {
  assert.throws(
    () => checkMonitorInputs({ ...m, monitorName: '' }),
    /Input 'monitorName': is required with action ensureMonitor/,
  );
  assert.throws(
    () => checkMonitorInputs({ ...m, monitorName: 'a/b' }),
    /Input 'monitorName': 'a\/b' is not a schedule name/,
  );
  assert.throws(
    () => checkMonitorInputs({ ...m, frequency: 'hourly' as never }),
    /Input 'monitorFrequency': 'hourly' is not one of daily, weekly/,
  );
  assert.throws(
    () => checkMonitorInputs({ ...m, emails: ['x@'] }),
    /Input 'alertEmails': 'x@' is not an e-mail address/,
  );
});
