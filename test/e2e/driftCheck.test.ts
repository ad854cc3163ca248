// AzureMLDriftCheck@1, bundled, against Azure-in-a-box: data in Azurite (the workspace's default datastore), data
// assets through the emulator's ARM API, the task judged by its ##vso lines.
//  - reference: a folder with an MLTable file (read_delimited) over a CSV: age (decimal), income (decimal), region (text)
//  - production "shifted": JSON Lines, age + 15 years and another region mix, income unchanged → drift in age, region
//  - production "same": the reference rows again, as a registered data asset (uri_file) → no drift
//  - collected data: AzureMLModelDeploy@1 deploys `dc` with dataCollection model_inputs,model_outputs (sent at
//    api-version 2024-04-01) and `nodc` without; traffic through the front door lands in Azurite as the collector's
//    JSON Lines; the drift check reads `dc`'s model_inputs over a window and names the shifted column.
// The metric values themselves are checked against the reference implementation in test/unit/driftMetrics.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAzureInABox, type AzureInABox } from '../emulator';
import { runBundledTask, type TaskRunWithLeaks, explainRun } from '../helpers/agent';
import { arm, containerClient, longUri, uploadFiles, wsArmPath } from '../helpers/modelSeed';
import { scoringWorkspace } from '../helpers/deployAnalysisScenarios';
import { MlflowStore } from '../emulator/mlflow';
import { publishMonitorResults } from '../emulator/monitorResults';
import { runMonitorSchedule } from '../emulator/arm/schedules';
import { wsId as emulatorWsId } from '../emulator/armkit';
import path from 'node:path';
import { monitorYamlBody, readMonitorYaml } from '../../src/tasks/drift/monitorYaml';

let box: AzureInABox;
const REGIONS = ['north', 'south', 'east', 'west'];
const rows = (n: number, shift: boolean) =>
  Array.from({ length: n }, (_, i) => ({
    age: Math.round((25 + ((i * 37) % 40) + (shift ? 15 : 0) + (i % 7) / 10) * 10) / 10,
    income: Math.round((30_000 + ((i * 7919) % 50_000) + 0.5) * 100) / 100,
    region: shift ? REGIONS[i % 10 < 6 ? 0 : i % 4]! : REGIONS[i % 4]!,
  }));

const explain = (r: TaskRunWithLeaks) => explainRun(r);
const drift = (inputs: Record<string, string>) =>
  runBundledTask('AzureMLDriftCheck', {
    box,
    scheme: 'secret',
    timeoutMs: 60_000,
    inputs: { resourceGroup: box.resourceGroup, workspace: box.workspace, ...inputs },
  });

before(async () => {
  box = await startAzureInABox({ fastLro: true });
  const ref = rows(400, false);
  const csv =
    ['age,income,region', ...ref.map((r) => `${r.age.toFixed(1)},${r.income.toFixed(2)},${r.region}`)].join('\n') +
    '\n';
  await uploadFiles(box, 'drift/train', {
    MLTable:
      'paths:\n  - pattern: ./*.csv\ntransformations:\n  - read_delimited:\n      delimiter: ","\n      header: all_files_same_headers\n',
    'part-0.csv': csv,
  });
  await uploadFiles(box, 'drift/prod', {
    'shifted.jsonl':
      rows(300, true)
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    'same.jsonl': ref.map((r) => JSON.stringify(r)).join('\n') + '\n',
  });
  await arm(box, 'PUT', wsArmPath(box, '/data/credit-prod-same/versions/1'), {
    properties: { dataType: 'uri_file', dataUri: longUri(box, 'drift/prod/same.jsonl') },
  });
});
after(async () => {
  await box?.stop();
});

const ENV = 'azureml:AzureML-sklearn-1.5:1';
/** scoring rows (the `ok` script takes {"data": [[x0, x1, x2], …]}); shift moves column 2 */
const scoringRows = (n: number, offset: number, shift: number) =>
  Array.from({ length: n }, (_, k) => {
    const i = k + offset;
    return [((i * 7) % 20) / 2 + 0.25, ((i * 11) % 30) / 3 + 0.5, ((i * 13) % 25) / 5 + 0.1 + shift];
  });

describe('collected production data: deploy with data collection, traffic, drift check', () => {
  let cwd: string;
  const ep: Record<string, { uri: string; key: string }> = {};
  before(async () => {
    cwd = await scoringWorkspace(box, 'drift-e2e-');
    const common = {
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      model: 'azureml:churn:1',
      deploymentName: 'blue',
      scoringScript: 'score.py',
      environment: ENV,
      codePath: 'ok',
      instanceType: 'Standard_DS3_v2',
      sampleRequestFile: 'sample-request.json',
      authMode: 'key',
      smokeRequests: '1',
      healthCheckRequests: '1',
      trafficSteps: '100',
    };
    const runs = await Promise.all([
      runBundledTask('AzureMLModelDeploy', {
        box,
        scheme: 'secret',
        cwd,
        timeoutMs: 120_000,
        inputs: { ...common, endpointName: 'drift-dc', dataCollection: 'model_inputs, model_outputs' },
      }),
      runBundledTask('AzureMLModelDeploy', {
        box,
        scheme: 'secret',
        cwd,
        timeoutMs: 120_000,
        inputs: { ...common, endpointName: 'drift-nodc' },
      }),
    ]);
    for (const [i, name] of ['drift-dc', 'drift-nodc'].entries()) {
      assert.equal(runs[i]!.result, 'Succeeded', `${name}\n${explain(runs[i]!)}`);
      ep[name] = { uri: runs[i]!.outputs.scoringUri!, key: runs[i]!.outputs.endpointKey! };
    }
    assert.match(
      runs[0]!.stdout,
      /Data collection 'model_inputs' \(sampling 1\): azureml:\/\/datastores\/workspaceblobstore\/paths\/modelDataCollector\/drift-dc\/blue\/model_inputs\/yyyy\/MM\/dd\/HH\/<instance>\.jsonl, data asset azureml:drift-dc-blue-model_inputs:1/,
    );
    assert.match(runs[0]!.stdout, /Data asset drift-dc-blue-model_inputs:1 for collection 'model_inputs' registered/);
    // the reference: what the model was trained on, columns named as pandas names a list of lists' columns
    const ref = scoringRows(300, 0, 0);
    await uploadFiles(box, 'drift/scoring-train', {
      'train.csv': ['0,1,2', ...ref.map((r) => r.join(','))].join('\n') + '\n',
    });
  });

  test('the deployment carries its collector at 2024-04-01 only; its data asset points at the collector folder', async () => {
    const p = wsArmPath(box, '/onlineEndpoints/drift-dc/deployments/blue');
    const new_ = await arm(box, 'GET', `${p}?api-version=2024-04-01`);
    assert.deepEqual(Object.keys(new_.properties.dataCollector.collections).sort(), ['model_inputs', 'model_outputs']);
    assert.equal(new_.properties.dataCollector.collections.model_inputs.dataCollectionMode, 'Enabled');
    assert.match(
      new_.properties.dataCollector.collections.model_inputs.dataId,
      /\/data\/drift-dc-blue-model_inputs\/versions\/1$/,
    );
    const old = await arm(box, 'GET', p);
    assert.equal(old.properties.dataCollector, undefined, 'api-version 2022-10-01 does not show it');
    const asset = await arm(box, 'GET', wsArmPath(box, '/data/drift-dc-blue-model_inputs/versions/1'));
    assert.match(
      asset.properties.dataUri,
      /datastores\/workspaceblobstore\/paths\/modelDataCollector\/drift-dc\/blue\/model_inputs\/$/,
    );
  });

  test('shifted traffic is collected and the check on the collected window names the shifted column', async () => {
    for (let k = 0; k < 40; k++) {
      const r = await fetch(ep['drift-dc']!.uri, {
        method: 'POST',
        headers: { authorization: `Bearer ${ep['drift-dc']!.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ data: scoringRows(5, k * 5, 4) }),
      });
      assert.equal(r.status, 200, await r.text());
    }
    const blobs: string[] = [];
    for await (const b of containerClient(box).listBlobsFlat({ prefix: 'modelDataCollector/drift-dc/blue/' }))
      blobs.push(b.name);
    assert.ok(
      blobs.some((b) =>
        /^modelDataCollector\/drift-dc\/blue\/model_inputs\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/[^/]+\.jsonl$/.test(b),
      ),
      blobs.join('\n'),
    );
    assert.ok(
      blobs.some((b) => b.startsWith('modelDataCollector/drift-dc/blue/model_outputs/')),
      blobs.join('\n'),
    );
    const r = await drift({
      referenceData: 'azureml://datastores/workspaceblobstore/paths/drift/scoring-train/train.csv',
      endpointName: 'drift-dc',
      deploymentName: 'blue',
      lookbackWindow: 'PT2H',
    });
    assert.equal(r.result, 'Failed', explain(r));
    assert.match(
      r.message ?? '',
      /^Drift detected in 1 of 3 feature\(s\): 2 NormalizedWassersteinDistance [\d.]+: retrain/,
    );
    assert.equal(r.outputs.driftedFeatures, '2');
    // 200 shifted rows + the deploy task's smoke and health-check probes (the sample request: 2 rows each)
    assert.match(r.stdout, /Read 300 reference row\(s\) and 204 production row\(s\) \(from 42 collector record\(s\)\)/);
  });

  test('rerun with the same inputs: not redeployed; another sampling rate on the live deployment: refused, nothing changed', async () => {
    const common = {
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      model: 'azureml:churn:1',
      deploymentName: 'blue',
      scoringScript: 'score.py',
      environment: ENV,
      codePath: 'ok',
      instanceType: 'Standard_DS3_v2',
      sampleRequestFile: 'sample-request.json',
      authMode: 'key',
      smokeRequests: '1',
      healthCheckRequests: '1',
      trafficSteps: '100',
      endpointName: 'drift-dc',
      dataCollection: 'model_inputs, model_outputs',
    };
    const same = await runBundledTask('AzureMLModelDeploy', {
      box,
      scheme: 'secret',
      cwd,
      timeoutMs: 120_000,
      inputs: common,
    });
    assert.equal(same.result, 'Succeeded', explain(same));
    assert.match(same.stdout, /Deployment blue: model churn:1, exists \(Succeeded, same spec\)/);
    // another collector on the live deployment is a change like any other: the safe-rollout rule asks for a new deployment
    const half = await runBundledTask('AzureMLModelDeploy', {
      box,
      scheme: 'secret',
      cwd,
      timeoutMs: 120_000,
      inputs: { ...common, dataCollectionSamplingRate: '0.5' },
    });
    assert.equal(half.result, 'Failed', explain(half));
    assert.match(
      half.message ?? '',
      /deployment 'blue' is live with 100% of the traffic and holds model churn:1 with another dataCollector\.collections\.model_inputs\.samplingRate: 1 → 0\.5/,
    );
    const d = await arm(
      box,
      'GET',
      `${wsArmPath(box, '/onlineEndpoints/drift-dc/deployments/blue')}?api-version=2024-04-01`,
    );
    assert.equal(d.properties.dataCollector.collections.model_inputs.samplingRate, 1, 'nothing changed in Azure');
  });

  test('action ensureMonitor: the monitor is created (valid at 2024-04-01), a rerun writes nothing, another threshold is one PUT; run once, its results read back', async () => {
    const puts = () => box.requests.filter((q) => q.method === 'PUT' && /\/schedules\//i.test(q.url)).length;
    const inputs = {
      action: 'ensureMonitor',
      monitorName: 'dc-monitor',
      referenceData: 'azureml://datastores/workspaceblobstore/paths/drift/scoring-train/train.csv',
      endpointName: 'drift-dc',
      deploymentName: 'blue',
      lookbackWindow: 'PT2H',
      alertEmails: 'ml-team@example.com',
      monitorHour: '4',
    };
    const p0 = puts();
    const created = await drift(inputs);
    assert.equal(created.result, 'Succeeded', explain(created));
    assert.equal(created.outputs.monitorState, 'created');
    assert.equal(puts(), p0 + 1);
    const s = await arm(box, 'GET', `${wsArmPath(box, '/schedules/dc-monitor')}?api-version=2024-04-01`);
    const def = s.properties.action.monitorDefinition;
    assert.equal(s.properties.action.actionType, 'CreateMonitor');
    assert.deepEqual(s.properties.trigger.schedule, { hours: [4], minutes: [0] });
    assert.equal(def.monitoringTarget.deploymentId, 'azureml:drift-dc:blue');
    assert.deepEqual(def.alertNotificationSettings.emailNotificationSettings.emails, ['ml-team@example.com']);
    const sig = def.signals['data-drift'];
    assert.equal(sig.productionData.inputDataType, 'Rolling');
    assert.equal(sig.productionData.windowSize, 'PT2H');
    assert.match(
      sig.productionData.uri,
      /\/data\/drift-dc-blue-model_inputs\/versions\/1$/,
      "the collection's data asset",
    );

    const same = await drift(inputs);
    assert.equal(same.result, 'Succeeded', explain(same));
    assert.equal(same.outputs.monitorState, 'unchanged');
    assert.match(same.stdout, /Monitor 'dc-monitor' exists with the same definition: nothing to change/);
    assert.equal(puts(), p0 + 1, 'a rerun does not write');

    const changed = await drift({ ...inputs, numericalThreshold: '0.2' });
    assert.equal(changed.result, 'Succeeded', explain(changed));
    assert.equal(changed.outputs.monitorState, 'updated');
    assert.match(changed.stdout, /Monitor 'dc-monitor' differs in 1 field\(s\):/);
    assert.match(
      changed.stdout,
      /signals\.data-drift\.metricThresholds: \[\{"dataType":"Numerical","metric":"NormalizedWassersteinDistance","threshold":\{"value":0\.1\}\}.* → \[\{"dataType":"Numerical","metric":"NormalizedWassersteinDistance","threshold":\{"value":0\.2\}\}/,
    );
    assert.equal(puts(), p0 + 2, 'one PUT for the change');

    const published = await runMonitorSchedule(box.ctx, box, 'dc-monitor');
    assert.deepEqual(
      published.filter((p) => p.breached).map((p) => p.feature),
      ['2'],
    );
    const r = await drift({ source: 'monitor', monitorName: 'dc-monitor', failOnDrift: 'false' });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.driftedFeatures, '2');
  });

  test('monitorFile: a monitor YAML from azureml-examples, unchanged, is created (valid at 2024-04-01); a rerun writes nothing; bad files and file + inputs refused before any write', async () => {
    const puts = () => box.requests.filter((q) => q.method === 'PUT' && /\/schedules\//i.test(q.url)).length;
    const writes = () => box.requests.filter((q) => q.host === 'arm' && q.method !== 'GET').length;
    const file = path.resolve(
      __dirname,
      '../fixtures/third-party/azureml-examples/cli/monitoring/model-monitoring-with-collected-data.yaml',
    );
    const inputs = { action: 'ensureMonitor', monitorFile: file };
    const p0 = puts();
    const created = await drift(inputs);
    assert.equal(created.result, 'Succeeded', explain(created));
    assert.equal(created.outputs.monitorState, 'created');
    assert.match(
      created.stdout,
      /Monitor 'fraud_detection_model_monitoring' created: advanced_data_drift \(DataDrift\), advanced_prediction_drift \(PredictionDrift\) from /,
    );
    assert.equal(puts(), p0 + 1);
    const s = await arm(
      box,
      'GET',
      `${wsArmPath(box, '/schedules/fraud_detection_model_monitoring')}?api-version=2024-04-01`,
    );
    assert.deepEqual(s.properties, {
      ...monitorYamlBody(readMonitorYaml(file)).properties,
      provisioningState: 'Succeeded',
    });
    const same = await drift(inputs);
    assert.equal(same.result, 'Succeeded', explain(same));
    assert.equal(same.outputs.monitorState, 'unchanged');
    assert.equal(puts(), p0 + 1, 'a rerun does not write');

    const w0 = writes();
    const both = await drift({ ...inputs, referenceData: 'azureml:credit-train:3' });
    assert.equal(both.result, 'Failed');
    assert.equal(
      both.message,
      "Input 'monitorFile': give either monitorFile (the monitor YAML) or the monitor inputs, not both: referenceData is also set",
    );
    const gsq = await drift({
      ...inputs,
      monitorFile: file.replace('model-monitoring-with-collected-data', 'generation-safety-quality-monitoring'),
    });
    assert.equal(gsq.result, 'Failed');
    assert.match(
      gsq.message ?? '',
      /^Input 'monitorFile': .*generation-safety-quality-monitoring\.yaml:31: 'create_monitor\.monitoring_signals\.testSignal\.type': signal 'testSignal' has type generation_safety_quality, which api-version 2024-04-01 does not have/,
    );
    assert.equal(writes(), w0, 'nothing written');
  });

  test('a deployment without data collection: one line', async () => {
    const r = await drift({
      referenceData: 'azureml://datastores/workspaceblobstore/paths/drift/scoring-train/train.csv',
      endpointName: 'drift-nodc',
      deploymentName: 'blue',
    });
    assert.equal(r.result, 'Failed');
    assert.match(
      r.message ?? '',
      /^Deployment 'drift-nodc\/blue' does not collect 'model_inputs' data \(it has no data collector\); enable data_collector\.collections\.model_inputs/,
    );
  });
});

describe('AzureMLDriftCheck@1 against the box', () => {
  test('shifted production data: fails naming the drifted features, outputs and summary carry the numbers', async () => {
    const r = await drift({
      referenceData: 'azureml://datastores/workspaceblobstore/paths/drift/train',
      productionData: 'azureml://datastores/workspaceblobstore/paths/drift/prod/shifted.jsonl',
    });
    assert.equal(r.result, 'Failed', explain(r));
    assert.match(
      r.message ?? '',
      /^Drift detected in 2 of 3 feature\(s\): age NormalizedWassersteinDistance [\d.]+, region JensenShannonDistance [\d.]+: retrain/,
    );
    assert.equal(r.outputs.driftDetected, 'true');
    assert.equal(r.outputs.driftedFeatures, 'age,region');
    const m = JSON.parse(r.outputs.featureMetrics!);
    assert.deepEqual(Object.keys(m), ['age', 'income', 'region']);
    assert.equal(m.income.drifted, false);
    assert.equal(m.age.type, 'numerical');
    assert.equal(m.region.type, 'categorical');
    assert.ok(Number(r.outputs.drift_age) > 1, explain(r)); // W1 = 15 years over a ~11.5-year deviation
    assert.match(r.stdout, /Read 400 reference row\(s\) and 300 production row\(s\)/);
    assert.match(r.summaries.join('\n'), /^### Data drift: DRIFT in 2 of 3 feature\(s\): age, region/m);
  });

  test('same data as a registered data asset, failOnDrift false: succeeds with no drift; the same shift only warns', async () => {
    const same = await drift({
      referenceData: 'azureml://datastores/workspaceblobstore/paths/drift/train/',
      productionData: 'azureml:credit-prod-same@latest',
    });
    assert.equal(same.result, 'Succeeded', explain(same));
    assert.equal(same.outputs.driftDetected, 'false');
    assert.equal(same.outputs.driftedFeatures, '');
    assert.equal(same.outputs.drift_age, '0');
    const warn = await drift({
      referenceData: 'azureml://datastores/workspaceblobstore/paths/drift/train',
      productionData: 'azureml://datastores/workspaceblobstore/paths/drift/prod/shifted.jsonl',
      failOnDrift: 'false',
    });
    assert.equal(warn.result, 'Succeeded', explain(warn));
    assert.equal(warn.outputs.driftDetected, 'true');
    assert.match(
      warn.stdout,
      /##vso\[task\.issue type=warning;[^\]]*\]Drift detected in 2 of 3 feature\(s\): .*: retrain \(failOnDrift is false: the step succeeds\)/,
    );
  });

  test('bad input: a feature the production data lacks, an unknown data asset: one line each', async () => {
    const missing = await drift({
      referenceData: 'azureml://datastores/workspaceblobstore/paths/drift/train',
      productionData: 'azureml:credit-prod-same:1',
      features: 'age,tenure',
    });
    assert.equal(missing.result, 'Failed');
    assert.equal(
      missing.message,
      "Input 'features': 'tenure' is not a column of the reference data (columns: age, income, region)",
    );
    const unknown = await drift({ referenceData: 'azureml:nope:3', productionData: 'azureml:credit-prod-same:1' });
    assert.equal(unknown.result, 'Failed');
    assert.match(unknown.message ?? '', /^referenceData: data asset 'nope' version '3' does not exist in workspace/);
  });
});

describe("AzureMLDriftCheck@1 source monitor: a service monitor's MLflow results read back", () => {
  // two executions of monitor `credit-monitor` written in the service's shape (test/emulator/monitorResults.ts):
  // step 1 breaches on region only; step 2 (the latest) breaches on age only, and carries a KS p-value above its
  // threshold (p-values breach BELOW it, so not breached) — the read-back must use the latest step and the direction.
  before(() => {
    const ml = new MlflowStore(box.store);
    const ws = emulatorWsId(box.subscriptionId, box.resourceGroup, box.workspace);
    publishMonitorResults(ml, ws, {
      monitor: 'credit-monitor',
      step: 1,
      now: Date.now() - 86_400_000,
      results: [
        { signal: 'data-drift', feature: 'age', metric: 'NormalizedWassersteinDistance', value: 0.02, threshold: 0.1 },
        {
          signal: 'data-drift',
          feature: 'region',
          metric: 'JensenShannonDistance',
          value: 0.3,
          threshold: 0.1,
          breached: true,
        },
        {
          signal: 'data-drift',
          feature: 'income',
          metric: 'TwoSampleKolmogorovSmirnovTest',
          value: 0.01,
          threshold: 0.05,
          breached: true,
        },
      ],
    });
    publishMonitorResults(ml, ws, {
      monitor: 'credit-monitor',
      step: 2,
      results: [
        {
          signal: 'data-drift',
          feature: 'age',
          metric: 'NormalizedWassersteinDistance',
          value: 0.42,
          threshold: 0.1,
          breached: true,
        },
        { signal: 'data-drift', feature: 'region', metric: 'JensenShannonDistance', value: 0.05, threshold: 0.1 },
        {
          signal: 'data-drift',
          feature: 'income',
          metric: 'TwoSampleKolmogorovSmirnovTest',
          value: 0.6,
          threshold: 0.05,
        },
      ],
    });
    publishMonitorResults(ml, ws, {
      monitor: 'other-monitor',
      step: 1,
      results: [
        {
          signal: 'data-drift',
          feature: 'income',
          metric: 'JensenShannonDistance',
          value: 0.9,
          threshold: 0.1,
          breached: true,
        },
      ],
    });
  });

  test('the latest execution names the breached feature; p-values breach below their threshold; other monitors ignored', async () => {
    const r = await drift({ source: 'monitor', monitorName: 'credit-monitor', failOnDrift: 'false' });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.driftDetected, 'true');
    assert.equal(r.outputs.driftedFeatures, 'age');
    const m = JSON.parse(r.outputs.featureMetrics!);
    assert.deepEqual(Object.keys(m).sort(), ['age', 'income', 'region']);
    assert.deepEqual(m.age, {
      signal: 'data-drift',
      metric: 'NormalizedWassersteinDistance',
      value: 0.42,
      threshold: 0.1,
      drifted: true,
    });
    assert.equal(m.income.drifted, false);
    assert.equal(m.region.value, 0.05);
    assert.match(r.stdout, /data-drift\/age: NormalizedWassersteinDistance 0\.42 > 0\.1 BREACHED/);
    assert.match(
      r.stdout,
      /##vso\[task\.issue type=warning;[^\]]*\]Monitor 'credit-monitor' breached in 1 feature\(s\): age NormalizedWassersteinDistance 0\.42: retrain/,
    );
    assert.match(r.summaries.join('\n'), /^### Monitor credit-monitor: threshold breached for age/m);
    const gate = await drift({ source: 'monitor', monitorName: 'credit-monitor', signalName: 'data-drift' });
    assert.equal(gate.result, 'Failed', explain(gate));
    assert.match(
      gate.message ?? '',
      /^Monitor 'credit-monitor' breached in 1 feature\(s\): age .*: retrain \(failOnDrift is true\)$/,
    );
  });

  test('action ensureMonitor with a bad input: one line naming it, nothing written', async () => {
    const writes = () => box.requests.filter((q) => q.host === 'arm' && q.method !== 'GET').length;
    const w0 = writes();
    const base = {
      action: 'ensureMonitor',
      monitorName: 'bad-monitor',
      referenceData: 'azureml://datastores/workspaceblobstore/paths/drift/train',
      productionData: 'azureml://datastores/workspaceblobstore/paths/drift/prod/shifted.jsonl',
    };
    const mail = await drift({ ...base, alertEmails: 'ml-team@example.com, not-an-address' });
    assert.equal(mail.result, 'Failed');
    assert.equal(mail.message, "Input 'alertEmails': 'not-an-address' is not an e-mail address");
    const hour = await drift({ ...base, monitorHour: '25' });
    assert.equal(hour.result, 'Failed');
    assert.match(hour.message ?? '', /^Input 'monitorHour': /);
    const act = await drift({ ...base, action: 'ensure' });
    assert.equal(act.message, "Input 'action': 'ensure' is not one of check, ensureMonitor");
    assert.equal(writes(), w0, 'nothing written');
    await assert.rejects(arm(box, 'GET', `${wsArmPath(box, '/schedules/bad-monitor')}?api-version=2024-04-01`), /404/);
  });

  test('a monitor without results, or no monitor name: one clear line each', async () => {
    const none = await drift({ source: 'monitor', monitorName: 'never-ran' });
    assert.equal(none.result, 'Failed');
    assert.equal(
      none.message,
      "Monitor 'never-ran' has no results in the workspace's MLflow runs (tags.azureml.monitor_name): it does not exist or has not run yet",
    );
    const noName = await drift({ source: 'monitor' });
    assert.equal(noName.result, 'Failed');
    assert.equal(
      noName.message,
      "Input 'monitorName': is required with source monitor (the name of the Azure ML monitor schedule)",
    );
  });
});

describe('Azure-in-a-box monitor schedules: accepted at 2024-04-01, run once, read back by the drift check', () => {
  const V = '?api-version=2024-04-01';
  const monitorSchedule = (signals: Record<string, unknown>) => ({
    properties: {
      displayName: 'credit drift',
      isEnabled: true,
      trigger: { triggerType: 'Recurrence', frequency: 'Day', interval: 1, schedule: { hours: [3], minutes: [15] } },
      action: {
        actionType: 'CreateMonitor',
        monitorDefinition: {
          computeConfiguration: {
            computeType: 'ServerlessSpark',
            computeIdentity: { computeIdentityType: 'AmlToken' },
            instanceType: 'standard_e4s_v3',
            runtimeVersion: '3.3',
          },
          monitoringTarget: { taskType: 'Classification' },
          alertNotificationSettings: { emailNotificationSettings: { emails: ['ml-team@example.com'] } },
          signals,
        },
      },
    },
  });
  const driftSignal = (production: string) => ({
    signalType: 'DataDrift',
    referenceData: {
      inputDataType: 'Fixed',
      jobInputType: 'uri_folder',
      uri: 'azureml://datastores/workspaceblobstore/paths/drift/train',
    },
    productionData: {
      inputDataType: 'Fixed',
      jobInputType: 'uri_file',
      uri: `azureml://datastores/workspaceblobstore/paths/drift/prod/${production}`,
    },
    metricThresholds: [
      { dataType: 'Numerical', metric: 'NormalizedWassersteinDistance', threshold: { value: 0.1 } },
      { dataType: 'Categorical', metric: 'JensenShannonDistance', threshold: { value: 0.1 } },
    ],
    features: { filterType: 'AllFeatures' },
  });

  test('CreateMonitor is validated against 2024-04-01 and refused at 2022-10-01; a run names the shifted features as the compute mode does', async () => {
    const put = await arm(
      box,
      'PUT',
      wsArmPath(box, `/schedules/credit-drift${V}`),
      monitorSchedule({ 'data-drift': driftSignal('shifted.jsonl') }),
    );
    assert.equal(put.properties.action.actionType, 'CreateMonitor');
    await assert.rejects(
      arm(
        box,
        'PUT',
        wsArmPath(box, '/schedules/old-api'),
        monitorSchedule({ 'data-drift': driftSignal('shifted.jsonl') }),
      ),
      /HTTP 400 .*actionType/,
    );
    const bad = driftSignal('shifted.jsonl') as Record<string, unknown>;
    delete bad.metricThresholds;
    await assert.rejects(
      arm(box, 'PUT', wsArmPath(box, `/schedules/bad${V}`), monitorSchedule({ 'data-drift': bad })),
      /HTTP 400 .*metricThresholds/,
    );

    const published = await runMonitorSchedule(box.ctx, box, 'credit-drift');
    assert.deepEqual(
      published
        .filter((p) => p.breached)
        .map((p) => p.feature)
        .sort(),
      ['age', 'region'],
    );
    const r = await drift({ source: 'monitor', monitorName: 'credit-drift', failOnDrift: 'false' });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.driftedFeatures, 'age,region');
    const computed = await drift({
      referenceData: 'azureml://datastores/workspaceblobstore/paths/drift/train',
      productionData: 'azureml://datastores/workspaceblobstore/paths/drift/prod/shifted.jsonl',
      failOnDrift: 'false',
    });
    assert.equal(r.outputs.drift_age, computed.outputs.drift_age);
    assert.equal(r.outputs.drift_region, computed.outputs.drift_region);
  });
});
