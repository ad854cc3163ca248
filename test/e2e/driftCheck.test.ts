// AzureMLDriftCheck@1, bundled, against Azure-in-a-box: data in Azurite (the workspace's default datastore), data
// assets through the emulator's ARM API, the task judged by its ##vso lines.
//  - reference: a folder with an MLTable file (read_delimited) over a CSV: age (decimal), income (decimal), region (text)
//  - production "shifted": JSON Lines, age + 15 years and another region mix, income unchanged → drift in age, region
//  - production "same": the reference rows again, as a registered data asset (uri_file) → no drift
// The metric values themselves are checked against the reference implementation in test/unit/driftMetrics.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAzureInABox, type AzureInABox } from '../emulator';
import { runBundledTask, type TaskRunWithLeaks } from '../helpers/agent';
import { arm, longUri, uploadFiles, wsArmPath } from '../helpers/modelSeed';

let box: AzureInABox;
const REGIONS = ['north', 'south', 'east', 'west'];
const rows = (n: number, shift: boolean) => Array.from({ length: n }, (_, i) => ({
  age: Math.round((25 + ((i * 37) % 40) + (shift ? 15 : 0) + (i % 7) / 10) * 10) / 10,
  income: Math.round((30_000 + ((i * 7919) % 50_000) + 0.5) * 100) / 100,
  region: shift ? REGIONS[(i % 10) < 6 ? 0 : i % 4]! : REGIONS[i % 4]!,
}));

function explain(r: TaskRunWithLeaks): string {
  return `result=${r.result} message=${r.message}\n--- stdout (tail)\n${r.stdout.split('\n').filter((l) => !l.startsWith('##vso[task.debug')).slice(-30).join('\n')}\n--- stderr\n${r.stderr.slice(-2000)}`;
}
const drift = (inputs: Record<string, string>) => runBundledTask('AzureMLDriftCheck', {
  box, scheme: 'secret', timeoutMs: 60_000, inputs: { resourceGroup: box.resourceGroup, workspace: box.workspace, ...inputs },
});

before(async () => {
  box = await startAzureInABox({ fastLro: true });
  const ref = rows(400, false);
  const csv = ['age,income,region', ...ref.map((r) => `${r.age.toFixed(1)},${r.income.toFixed(2)},${r.region}`)].join('\n') + '\n';
  await uploadFiles(box, 'drift/train', {
    MLTable: 'paths:\n  - pattern: ./*.csv\ntransformations:\n  - read_delimited:\n      delimiter: ","\n      header: all_files_same_headers\n',
    'part-0.csv': csv,
  });
  await uploadFiles(box, 'drift/prod', {
    'shifted.jsonl': rows(300, true).map((r) => JSON.stringify(r)).join('\n') + '\n',
    'same.jsonl': ref.map((r) => JSON.stringify(r)).join('\n') + '\n',
  });
  await arm(box, 'PUT', wsArmPath(box, '/data/credit-prod-same/versions/1'), {
    properties: { dataType: 'uri_file', dataUri: longUri(box, 'drift/prod/same.jsonl') },
  });
});
after(async () => { await box?.stop(); });

describe('AzureMLDriftCheck@1 against the box', () => {
  test('shifted production data: fails naming the drifted features, outputs and summary carry the numbers', async () => {
    const r = await drift({
      referenceData: 'azureml://datastores/workspaceblobstore/paths/drift/train',
      productionData: 'azureml://datastores/workspaceblobstore/paths/drift/prod/shifted.jsonl',
    });
    assert.equal(r.result, 'Failed', explain(r));
    assert.match(r.message ?? '', /^Drift detected in 2 of 3 feature\(s\): age NormalizedWassersteinDistance [\d.]+, region JensenShannonDistance [\d.]+: retrain/);
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
    const same = await drift({ referenceData: 'azureml://datastores/workspaceblobstore/paths/drift/train/', productionData: 'azureml:credit-prod-same@latest' });
    assert.equal(same.result, 'Succeeded', explain(same));
    assert.equal(same.outputs.driftDetected, 'false');
    assert.equal(same.outputs.driftedFeatures, '');
    assert.equal(same.outputs.drift_age, '0');
    const warn = await drift({ referenceData: 'azureml://datastores/workspaceblobstore/paths/drift/train', productionData: 'azureml://datastores/workspaceblobstore/paths/drift/prod/shifted.jsonl', failOnDrift: 'false' });
    assert.equal(warn.result, 'Succeeded', explain(warn));
    assert.equal(warn.outputs.driftDetected, 'true');
    assert.match(warn.stdout, /##vso\[task\.issue type=warning;[^\]]*\]Drift detected in 2 of 3 feature\(s\): .*: retrain \(failOnDrift is false: the step succeeds\)/);
  });

  test('bad input: a feature the production data lacks, an unknown data asset: one line each', async () => {
    const missing = await drift({ referenceData: 'azureml://datastores/workspaceblobstore/paths/drift/train', productionData: 'azureml:credit-prod-same:1', features: 'age,tenure' });
    assert.equal(missing.result, 'Failed');
    assert.equal(missing.message, "Input 'features': 'tenure' is not a column of the reference data (columns: age, income, region)");
    const unknown = await drift({ referenceData: 'azureml:nope:3', productionData: 'azureml:credit-prod-same:1' });
    assert.equal(unknown.result, 'Failed');
    assert.match(unknown.message ?? '', /^referenceData: data asset 'nope' version '3' does not exist in workspace/);
  });
});
