// AzureMLModelPromote@1 end to end: the bundled task against Azure-in-a-box's registries (test/emulator/arm/registries.ts):
// publish server-side with lineage, a rerun that writes nothing, and one clear line (nothing written) for a registry in a
// region the workspace is not in, a registry that does not exist, a missing model version and no permission on the registry.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { startAzureInABox, type AzureInABox } from '../emulator';
import { addRegistry } from '../emulator/arm/registries';
import { REPO_ROOT, connectionEnv, runBundledTask, type RunOptions, type TaskRunWithLeaks } from '../helpers/agent';
import { arm, seedModelVersion, wsArmPath } from '../helpers/modelSeed';

const TASK = 'AzureMLModelPromote';
let box: AzureInABox;
const otherSub = randomUUID();

before(async () => {
  box = await startAzureInABox({ fastLro: true });
  await addRegistry(box.ctx, { name: 'mlreg-shared', location: 'eastus', regions: ['West US'] });
  await addRegistry(box.ctx, { name: 'mlreg-west', location: 'westus' });
  await addRegistry(box.ctx, { name: 'mlreg-locked', location: 'eastus', deny: [box.clientId] });
  await addRegistry(box.ctx, { name: 'mlreg-prod', location: 'eastus', subscriptionId: otherSub, resourceGroup: 'rg-registry' });
  await seedModelVersion(box, 'churn', '3', { MLmodel: 'flavors: {}', 'model.pkl': 'pickled' }, { tags: { 'azdo.buildId': '4242', 'eval.auc': '0.91' } });
  // the training job's link: jobName on the workspace version (PUT again with the same URI adds nothing else)
  const v = await arm(box, 'GET', wsArmPath(box, '/models/churn/versions/3'));
  box.store.put('modelVersions', v.id, { ...box.store.get<any>('modelVersions', v.id), properties: { ...v.properties, jobName: 'train-churn-7' } });
});
after(async () => { await box?.stop(); });

async function run(inputs: Record<string, string>, opts: Partial<RunOptions> = {}): Promise<TaskRunWithLeaks & { writes: string[] }> {
  const from = box.requests.length;
  const r = await runBundledTask(TASK, { box, scheme: 'secret', timeoutMs: 60_000, ...opts, inputs: { resourceGroup: box.resourceGroup, workspace: box.workspace, ...inputs } });
  const writes = box.requests.slice(from).filter((q) => q.host === 'arm' && q.method !== 'GET').map((q) => `${q.method} ${q.url}`);
  return Object.assign(r, { writes });
}
const explain = (r: TaskRunWithLeaks) => `result=${r.result} message=${r.message}\n${r.stdout.split('\n').filter((l) => !l.startsWith('##vso[task.debug')).slice(-20).join('\n')}\n${r.stderr.slice(-1500)}`;
const registryVersions = (name: string) => box.store.list<any>('registryModelVersions').filter((v) => String(v.registry).toLowerCase().endsWith(`/registries/${name}`));

/** the keys of an object, recursively (arrays: their first item), for a shape comparison */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape((v as Record<string, unknown>)[k])]));
  return v === null ? null : typeof v;
}

test('registry GET has the shape of the recorded answer (test_registry_operations, 2023-10)', async () => {
  const rec = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures/third-party/azure-sdk-assets/python/sdk/ml/azure-ai-ml/tests/recordings/registry/e2etests/test_registry.pyTestRegistrytest_registry_operations.excerpt.json'), 'utf8')).Entries[0].ResponseBody;
  const got = await arm(box, 'GET', `/subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/registries/mlreg-shared?api-version=2024-04-01`);
  assert.deepEqual(shape({ ...got, tags: 'a map' }), shape({ ...rec, tags: 'a map' }));
  assert.equal(got.location, 'eastus');
  assert.deepEqual(got.properties.regionDetails.map((d: { location: string }) => d.location), ['eastus', 'westus']); // seeded as 'West US'
  assert.equal(got.properties.discoveryUrl, 'https://eastus.api.azureml.ms/registrymanagement/v1.0/registries/mlreg-shared/discovery');
  assert.equal(got.properties.mlFlowRegistryUri, `azureml://eastus.api.azureml.ms/mlflow/v1.0${got.id}`);
  // the registry routes speak the registry api-versions only
  await assert.rejects(arm(box, 'GET', `/subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/registries/mlreg-shared?api-version=2022-10-01`), /HTTP 400 .*InvalidApiVersionParameter/);
});

describe('AzureMLModelPromote@1', () => {
  test('publishes server-side with lineage; a rerun writes nothing', async () => {
    const r = await run({ modelName: 'churn', modelVersion: 'latest', registry: 'mlreg-shared' });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.registryModelUri, 'azureml://registries/mlreg-shared/models/churn/versions/3');
    assert.equal(r.outputs.promoted, 'true');
    assert.ok(r.writes.some((w) => /^POST .*\/workspaces\/[^/]+\/models\/churn\/versions\/3\/publish\?api-version=2024-04-01/.test(w)), r.writes.join('\n'));
    const [v, ...more] = registryVersions('mlreg-shared');
    assert.equal(more.length, 0);
    assert.equal(v.properties.jobName, 'train-churn-7');
    assert.equal(v.properties.tags['azdo.buildId'], '4242');
    assert.equal(v.properties.tags['eval.auc'], '0.91');
    assert.equal(v.properties.properties['azureml-devops.sourceModel'].toLowerCase(), wsArmPath(box, '/models/churn/versions/3').toLowerCase());
    assert.equal(r.outputs.registryModelId, v.id);
    // the files were copied into the registry's own storage (server-side; the agent sent no blob request)
    const files: string[] = [];
    for await (const b of box.ctx.azurite.containerClient('registry-mlregshared').listBlobsFlat()) files.push(b.name);
    assert.deepEqual(files.sort(), ['churn/3/model/MLmodel', 'churn/3/model/model.pkl']);
    assert.equal(box.storageRequests.length, 0);

    const again = await run({ modelName: 'churn', modelVersion: '3', registry: 'mlreg-shared', registryResourceGroup: box.resourceGroup });
    assert.equal(again.result, 'Succeeded', explain(again));
    assert.equal(again.outputs.promoted, 'false');
    assert.deepEqual(again.writes, []);
    assert.equal(registryVersions('mlreg-shared').length, 1);
  });

  test('registry in another subscription through its own connection, under another name and version', async () => {
    const env = connectionEnv(box, 'conn-registry', 'secret', { subscriptionId: otherSub });
    const r = await run({ modelName: 'churn', modelVersion: '3', registry: 'mlreg-prod', registryConnection: 'conn-registry', destinationName: 'churn-prod', destinationVersion: '2026.12.1' }, { env });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.registryModelUri, 'azureml://registries/mlreg-prod/models/churn-prod/versions/2026.12.1');
    assert.match(r.outputs.registryModelId!, new RegExp(`^/subscriptions/${otherSub}/resourceGroups/rg-registry/`));
  });

  test('bad inputs: one line each, nothing written', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ registry: 'mlreg-west' }, /^Input 'registry': workspace '[^']+' is in region eastus, which is not one of registry 'mlreg-west''s regions \(westus\)/],
      [{ registry: 'mlreg-nope' }, /^Input 'registry': registry 'mlreg-nope' was not found in subscription /],
      [{ registry: 'mlreg-shared', modelVersion: '9' }, /^Input 'modelVersion': model 'churn' version 9 was not found in workspace /],
      [{ registry: 'mlreg-locked' }, /^No permission on registry 'mlreg-locked': the connection's identity needs Microsoft\.MachineLearningServices\/registries\/assets\/read/],
    ];
    for (const [inputs, expected] of cases) {
      const r = await run({ modelName: 'churn', modelVersion: '3', ...inputs });
      assert.equal(r.result, 'Failed', explain(r));
      assert.match(r.message ?? '', expected, explain(r));
      assert.equal((r.message ?? '').split('\n').length, 1);
      assert.deepEqual(r.writes, [], `${JSON.stringify(inputs)} wrote:\n${r.writes.join('\n')}`);
    }
    assert.equal(registryVersions('mlreg-west').length + registryVersions('mlreg-locked').length, 0);
  });
});
