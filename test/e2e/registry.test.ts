// The registry flow end to end, bundled tasks against Azure-in-a-box's registries (test/emulator/arm/registries.ts):
// AzureMLModelPromote@1 publishes server-side with lineage, a rerun writes nothing, and one clear line (nothing written)
// for a registry in a region the workspace is not in, a registry that does not exist, a missing model version and no
// permission on the registry; AzureMLModelDeploy@1 deploys the registry version into a production workspace in another
// subscription and resource group (the scoring host serves the files copied into the registry), and refuses a workspace
// outside the registry's regions or a version the registry lacks before writing anything.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { startAzureInABox, type AzureInABox } from '../emulator';
import { addRegistry } from '../emulator/arm/registries';
import {
  REPO_ROOT,
  connectionEnv,
  runBundledTask,
  type RunOptions,
  type TaskRunWithLeaks,
  explainRun,
} from '../helpers/agent';
import { arm, seedModelVersion, wsArmPath } from '../helpers/modelSeed';
import { scoringWorkspace } from '../helpers/deployAnalysisScenarios';
import { addWorkspace } from '../emulator/arm/registries';
import { addPipeline, listRuns } from '../emulator/devops/pipelines';
import { addReleaseDefinition, listReleases } from '../emulator/devops/release';

const TASK = 'AzureMLModelPromote';
let box: AzureInABox;
const otherSub = randomUUID();

before(async () => {
  box = await startAzureInABox({ fastLro: true });
  await addRegistry(box.ctx, { name: 'mlreg-shared', location: 'eastus', regions: ['West US'] });
  await addRegistry(box.ctx, { name: 'mlreg-west', location: 'westus' });
  await addRegistry(box.ctx, { name: 'mlreg-locked', location: 'eastus', deny: [box.clientId] });
  await addRegistry(box.ctx, {
    name: 'mlreg-prod',
    location: 'eastus',
    subscriptionId: otherSub,
    resourceGroup: 'rg-registry',
  });
  addWorkspace(box.ctx, { name: 'mlw-prod', location: 'eastus', subscriptionId: otherSub, resourceGroup: 'rg-prod' });
  addWorkspace(box.ctx, {
    name: 'mlw-europe',
    location: 'westeurope',
    subscriptionId: otherSub,
    resourceGroup: 'rg-prod',
  });
  await seedModelVersion(
    box,
    'fraud',
    '3',
    { MLmodel: 'flavors: {}', 'model.pkl': 'pickled' },
    { tags: { 'azdo.buildId': '4242', 'eval.auc': '0.91' } },
  );
  // the training job's link: jobName on the workspace version (PUT again with the same URI adds nothing else)
  const v = await arm(box, 'GET', wsArmPath(box, '/models/fraud/versions/3'));
  box.store.put('modelVersions', v.id, {
    ...box.store.get<any>('modelVersions', v.id),
    properties: { ...v.properties, jobName: 'train-fraud-7' },
  });
});
after(async () => {
  await box?.stop();
});

async function run(
  inputs: Record<string, string>,
  opts: Partial<RunOptions> & { task?: string } = {},
): Promise<TaskRunWithLeaks & { writes: string[] }> {
  const from = box.requests.length;
  const { task = TASK, ...o } = opts;
  const r = await runBundledTask(task, {
    box,
    scheme: 'secret',
    timeoutMs: 60_000,
    ...o,
    inputs: { resourceGroup: box.resourceGroup, workspace: box.workspace, ...inputs },
  });
  const writes = box.requests
    .slice(from)
    .filter((q) => q.host === 'arm' && q.method !== 'GET')
    .map((q) => `${q.method} ${q.url}`);
  return Object.assign(r, { writes });
}
const explain = (r: TaskRunWithLeaks) => explainRun(r, { lines: 20, stderrChars: 1500, headings: false });
const registryVersions = (name: string) =>
  box.store
    .list<any>('registryModelVersions')
    .filter((v) => String(v.registry).toLowerCase().endsWith(`/registries/${name}`));

/** the keys of an object, recursively (arrays: their first item), for a shape comparison */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, shape((v as Record<string, unknown>)[k])]),
    );
  return v === null ? null : typeof v;
}

test('registry GET has the shape of the recorded answer (test_registry_operations, 2023-10)', async () => {
  const rec = JSON.parse(
    readFileSync(
      path.join(
        REPO_ROOT,
        'test/fixtures/third-party/azure-sdk-assets/python/sdk/ml/azure-ai-ml/tests/recordings/registry/e2etests/test_registry.pyTestRegistrytest_registry_operations.excerpt.json',
      ),
      'utf8',
    ),
  ).Entries[0].ResponseBody;
  const got = await arm(
    box,
    'GET',
    `/subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/registries/mlreg-shared?api-version=2024-04-01`,
  );
  assert.deepEqual(shape({ ...got, tags: 'a map' }), shape({ ...rec, tags: 'a map' }));
  assert.equal(got.location, 'eastus');
  assert.deepEqual(
    got.properties.regionDetails.map((d: { location: string }) => d.location),
    ['eastus', 'westus'],
  ); // seeded as 'West US'
  assert.equal(
    got.properties.discoveryUrl,
    'https://eastus.api.azureml.ms/registrymanagement/v1.0/registries/mlreg-shared/discovery',
  );
  assert.equal(got.properties.mlFlowRegistryUri, `azureml://eastus.api.azureml.ms/mlflow/v1.0${got.id}`);
  // the registry routes speak the registry api-versions only
  await assert.rejects(
    arm(
      box,
      'GET',
      `/subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/registries/mlreg-shared?api-version=2022-10-01`,
    ),
    /HTTP 400 .*InvalidApiVersionParameter/,
  );
});

describe('AzureMLModelPromote@1', () => {
  test('publishes server-side with lineage; a rerun writes nothing', async () => {
    const r = await run({ modelName: 'fraud', modelVersion: 'latest', registry: 'mlreg-shared' });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.registryModelUri, 'azureml://registries/mlreg-shared/models/fraud/versions/3');
    assert.equal(r.outputs.promoted, 'true');
    assert.ok(
      r.writes.some((w) =>
        /^POST .*\/workspaces\/[^/]+\/models\/fraud\/versions\/3\/publish\?api-version=2024-04-01/.test(w),
      ),
      r.writes.join('\n'),
    );
    const [v, ...more] = registryVersions('mlreg-shared');
    assert.equal(more.length, 0);
    assert.equal(v.properties.jobName, 'train-fraud-7');
    assert.equal(v.properties.tags['azdo.buildId'], '4242');
    assert.equal(v.properties.tags['eval.auc'], '0.91');
    assert.equal(
      v.properties.properties['azureml-devops.sourceModel'].toLowerCase(),
      wsArmPath(box, '/models/fraud/versions/3').toLowerCase(),
    );
    assert.equal(r.outputs.registryModelId, v.id);
    // the files were copied into the registry's own storage (server-side; the agent sent no blob request)
    const files: string[] = [];
    for await (const b of box.ctx.azurite.containerClient('registry-mlregshared').listBlobsFlat()) files.push(b.name);
    assert.deepEqual(files.sort(), ['fraud/3/model/MLmodel', 'fraud/3/model/model.pkl']);
    assert.equal(box.storageRequests.length, 0);

    const again = await run({
      modelName: 'fraud',
      modelVersion: '3',
      registry: 'mlreg-shared',
      registryResourceGroup: box.resourceGroup,
    });
    assert.equal(again.result, 'Succeeded', explain(again));
    assert.equal(again.outputs.promoted, 'false');
    assert.deepEqual(again.writes, []);
    assert.equal(registryVersions('mlreg-shared').length, 1);
  });

  test('registry in another subscription through its own connection, under another name and version', async () => {
    const env = connectionEnv(box, 'conn-registry', 'secret', { subscriptionId: otherSub });
    const r = await run(
      {
        modelName: 'fraud',
        modelVersion: '3',
        registry: 'mlreg-prod',
        registryConnection: 'conn-registry',
        destinationName: 'fraud-prod',
        destinationVersion: '2026.12.1',
      },
      { env },
    );
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.registryModelUri, 'azureml://registries/mlreg-prod/models/fraud-prod/versions/2026.12.1');
    assert.match(r.outputs.registryModelId!, new RegExp(`^/subscriptions/${otherSub}/resourceGroups/rg-registry/`));
  });

  test('bad inputs: one line each, nothing written', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        { registry: 'mlreg-west' },
        /^Input 'registry': workspace '[^']+' is in region eastus, which is not one of registry 'mlreg-west''s regions \(westus\)/,
      ],
      [{ registry: 'mlreg-nope' }, /^Input 'registry': registry 'mlreg-nope' was not found in subscription /],
      [
        { registry: 'mlreg-shared', modelVersion: '9' },
        /^Input 'modelVersion': model 'fraud' version 9 was not found in workspace /,
      ],
      [
        { registry: 'mlreg-locked' },
        /^No permission on registry 'mlreg-locked': the connection's identity needs Microsoft\.MachineLearningServices\/registries\/assets\/read/,
      ],
    ];
    // in parallel (each is read-only); none may write anything
    const from = box.requests.length;
    const runs = await Promise.all(
      cases.map(([inputs]) =>
        runBundledTask(TASK, {
          box,
          scheme: 'secret',
          timeoutMs: 60_000,
          inputs: {
            resourceGroup: box.resourceGroup,
            workspace: box.workspace,
            modelName: 'fraud',
            modelVersion: '3',
            ...inputs,
          },
        }),
      ),
    );
    runs.forEach((r, i) => {
      assert.equal(r.result, 'Failed', explain(r));
      assert.match(r.message ?? '', cases[i][1], explain(r));
      assert.equal((r.message ?? '').split('\n').length, 1);
    });
    assert.deepEqual(
      box.requests
        .slice(from)
        .filter((q) => q.host === 'arm' && q.method !== 'GET')
        .map((q) => `${q.method} ${q.url}`),
      [],
    );
    assert.equal(registryVersions('mlreg-west').length + registryVersions('mlreg-locked').length, 0);
  });
});

describe('AzureMLModelRegister@1 straight into a registry', () => {
  test("agent files → the registry's storage → a registry version; the same files again reuse it; a job output is refused", async () => {
    const inputs = {
      modelName: 'ext-model',
      modelPath: path.join(REPO_ROOT, 'samples', 'model'),
      modelType: 'custom_model',
      registry: 'mlreg-shared',
      resourceGroup: '',
      workspace: '',
    };
    const r = await run(inputs, { task: 'AzureMLModelRegister' });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.modelId, 'azureml://registries/mlreg-shared/models/ext-model/versions/1');
    assert.ok(
      r.writes.some((w) =>
        /^POST .*\/registries\/mlreg-shared\/models\/ext-model\/versions\/1\/startPendingUpload\?api-version=2024-04-01/.test(
          w,
        ),
      ),
      r.writes.join('\n'),
    );
    const [v] = registryVersions('mlreg-shared').filter((x) => x.model === 'ext-model');
    assert.equal(v.properties.modelUri, r.outputs.modelUri);
    assert.match(v.properties.modelUri, /\/registry-mlregshared\/[0-9a-f-]{36}\/model$/);
    assert.equal(v.properties.tags['azdo.buildId'], '4242'); // lineage tags of the registering build
    // the files went through the storage proxy into the registry's container
    const blobs: string[] = [];
    for await (const b of box.ctx.azurite
      .containerClient('registry-mlregshared')
      .listBlobsFlat({ prefix: v.properties.modelUri.split('/registry-mlregshared/')[1] }))
      blobs.push(b.name);
    assert.ok(blobs.length >= 1 && box.storageRequests.some((q) => q.method === 'PUT'), `${blobs.join(', ')}`);

    const again = await run(inputs, { task: 'AzureMLModelRegister' });
    assert.equal(again.result, 'Succeeded', explain(again));
    assert.equal(again.outputs.modelVersion, '1');
    assert.deepEqual(again.writes, []);

    const job = await run(
      { ...inputs, modelPath: 'azureml://jobs/train-1/outputs/model' },
      { task: 'AzureMLModelRegister' },
    );
    assert.equal(job.result, 'Failed', explain(job));
    assert.match(
      job.message ?? '',
      /^Input 'modelPath': must be a file or folder on the agent when registering into registry 'mlreg-shared'/,
    );
    assert.deepEqual(job.writes, []);
  });
});

describe('AzureMLModelDownload@1 resolves registry versions', () => {
  const resolve = (inputs: Record<string, string>) =>
    run(
      { definition: 'fraud', registry: 'mlreg-shared', download: 'false', resourceGroup: '', workspace: '', ...inputs },
      { task: 'AzureMLModelDownload' },
    );
  test('specific, latest, latest with a tag; bad inputs one line, before any call', async () => {
    // a second, newer version in the registry without the tag (published from the workspace under version 4)
    const p = await run({ modelName: 'fraud', modelVersion: '3', registry: 'mlreg-shared', destinationVersion: '4' });
    assert.equal(p.result, 'Succeeded', explain(p));
    await arm(
      box,
      'PUT',
      `/subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/registries/mlreg-shared/models/fraud/versions/4?api-version=2024-04-01`,
      {
        properties: {
          tags: { 'azdo.buildId': '4242' },
          modelUri: registryVersions('mlreg-shared').find((v) => v.name === '4').properties.modelUri,
        },
      },
    );
    // PUT replaces the tags: version 4 no longer carries eval.auc
    const expectations: Array<[Record<string, string>, string]> = [
      [{ versionSelector: 'specific', version: '3' }, '3'],
      [{ versionSelector: 'latest' }, '4'],
      [{ versionSelector: 'latestWithTag', tag: 'eval.auc=0.91' }, '3'],
    ];
    const good = await Promise.all(expectations.map(([inputs]) => resolve(inputs)));
    good.forEach((r, i) => {
      const version = expectations[i][1];
      assert.equal(r.result, 'Succeeded', explain(r));
      assert.equal(r.outputs.modelVersion, version, JSON.stringify(expectations[i][0]));
      assert.equal(r.outputs.modelId, `azureml://registries/mlreg-shared/models/fraud/versions/${version}`);
      assert.match(r.outputs.modelUri!, new RegExp(`/registry-mlregshared/fraud/${version}/model$`));
    });
    const bad: Array<[Record<string, string>, RegExp]> = [
      [
        { versionSelector: 'latestWithTag', tag: 'eval.auc=0.5' },
        /^Input 'tag': no version of model 'fraud' carries tag eval\.auc=0\.5$/,
      ],
      [
        { versionSelector: 'specific', version: '7' },
        /^Input 'version': model 'fraud' has no version '7' in registry 'mlreg-shared'$/,
      ],
      [
        { versionSelector: 'latest', download: 'true' },
        /^Input 'download': must be false for a model in registry 'mlreg-shared'/,
      ],
    ];
    const failed = await Promise.all(bad.map(([inputs]) => resolve(inputs)));
    failed.forEach((r, i) => {
      assert.equal(r.result, 'Failed', explain(r));
      assert.match(r.message ?? '', bad[i][1], explain(r));
    });
  });
});

describe('AzureMLModelDeploy@1 from a registry', () => {
  const deploy = (inputs: Record<string, string>, cwd: string) =>
    run(
      {
        resourceGroup: 'rg-prod',
        workspace: 'mlw-prod',
        endpointName: 'reg-prod',
        deploymentName: 'blue',
        scoringScript: 'score.py',
        codePath: 'ok',
        environment: 'azureml://registries/azureml/environments/sklearn-1.5/versions/1',
        instanceType: 'Standard_DS3_v2',
        sampleRequestFile: 'sample-request.json',
        authMode: 'key',
        smokeRequests: '2',
        healthCheckRequests: '2',
        trafficSteps: '100',
        ...inputs,
      },
      { task: 'AzureMLModelDeploy', cwd, connectionData: { subscriptionId: otherSub }, timeoutMs: 120_000 },
    );

  test('dev → registry → production workspace in another subscription; bad registry references fail before any write', async () => {
    const cwd = await scoringWorkspace(box, 'registry-e2e-'); // churn:1 registered in the dev workspace
    const p = await run({ modelName: 'churn', modelVersion: '1', registry: 'mlreg-shared' });
    assert.equal(p.result, 'Succeeded', explain(p));
    const uri = p.outputs.registryModelUri!;

    const badCases: Array<[Record<string, string>, RegExp]> = [
      [
        { workspace: 'mlw-europe' },
        /^Input 'model': workspace 'mlw-europe' is in region westeurope, which is not one of registry 'mlreg-shared''s regions \(eastus, westus\)/,
      ],
      [
        { model: 'azureml://registries/mlreg-shared/models/churn/versions/8' },
        /^Input 'model': model 'churn' version 8 was not found in registry 'mlreg-shared'/,
      ],
      [
        { model: 'azureml://registries/mlreg-gone/models/churn/versions/1' },
        /^Input 'model': registry 'mlreg-gone' was not found/,
      ],
      [
        { model: 'azureml://registries/mlreg-shared/models/churn/labels/champion' },
        /^Input 'model': '[^']+': only the label latest is supported/,
      ],
    ];
    const from = box.requests.length;
    const bad = await Promise.all(badCases.map(([inputs]) => deploy({ model: uri, ...inputs }, cwd)));
    bad.forEach((r, i) => {
      assert.equal(r.result, 'Failed', explain(r));
      assert.match(r.message ?? '', badCases[i][1], explain(r));
    });
    assert.deepEqual(
      box.requests
        .slice(from)
        .filter((q) => q.host === 'arm' && q.method !== 'GET')
        .map((q) => `${q.method} ${q.url}`),
      [],
    );

    // the production stage of a classic release: governance tag on the registry version, model card from the registry
    const inRelease = (model = uri) =>
      run(
        {
          resourceGroup: 'rg-prod',
          workspace: 'mlw-prod',
          endpointName: 'reg-prod',
          deploymentName: 'blue',
          scoringScript: 'score.py',
          codePath: 'ok',
          environment: 'azureml://registries/azureml/environments/sklearn-1.5/versions/1',
          instanceType: 'Standard_DS3_v2',
          sampleRequestFile: 'sample-request.json',
          authMode: 'key',
          smokeRequests: '2',
          healthCheckRequests: '2',
          trafficSteps: '100',
          model,
        },
        {
          task: 'AzureMLModelDeploy',
          cwd,
          connectionData: { subscriptionId: otherSub },
          timeoutMs: 120_000,
          variables: {
            'System.HostType': 'release',
            'Release.ReleaseId': '901',
            'Release.ReleaseName': 'Release-901',
            'Release.EnvironmentName': 'Production EU',
          },
        },
      );
    const d = await inRelease();
    assert.equal(d.result, 'Succeeded', explain(d));
    assert.equal(d.outputs.modelId, uri, 'the registry version, not a workspace model of the same name');
    const tagged = registryVersions('mlreg-shared').find(
      (v) => v.name === '1' && String(v.id).includes('/models/churn/'),
    );
    assert.equal(
      tagged?.properties.tags['deployed.production-eu'],
      'Release-901',
      JSON.stringify(tagged?.properties.tags),
    );
    assert.ok(
      box.requests.some(
        (q) =>
          q.method === 'PUT' &&
          /\/registries\/mlreg-shared\/models\/churn\/versions\/1\?api-version=2024-04-01/.test(q.url),
      ),
    );
    assert.match(
      d.stdout,
      /Model azureml:\/\/registries\/mlreg-shared\/models\/churn\/versions\/1 tagged deployed\.production-eu=Release-901 in registry 'mlreg-shared'/,
    );
    const card = d.summaries.find((x) => x.startsWith('### Model card'));
    assert.ok(card, d.summaries.join('\n---\n'));
    assert.match(
      card!,
      /\| Model \| `azureml:\/\/registries\/mlreg-shared\/models\/churn\/versions\/1` \(registry mlreg-shared, /,
    );
    assert.match(
      card!,
      /\| Promoted from \| \[workspace [^,]+, churn:1\]\(https:\/\/ml\.azure\.com\/model\/churn:1\/details\?wsid=/,
    );
    // a rerun of the stage (by label: labels/latest is pinned to version 1 before anything is written): the tag is
    // already there, the registry version is not written again, the deployment keeps the pinned version
    const again = await inRelease('azureml://registries/mlreg-shared/models/churn/labels/latest');
    assert.equal(again.result, 'Succeeded', explain(again));
    assert.match(
      again.stdout,
      /Model azureml:\/\/registries\/mlreg-shared\/models\/churn\/labels\/latest → azureml:\/\/registries\/mlreg-shared\/models\/churn\/versions\/1: /,
    );
    assert.equal(again.outputs.modelId, uri);
    assert.deepEqual(
      again.writes.filter((w) => /\/registries\//.test(w)),
      [],
    );
    assert.match(
      d.stdout,
      /Model azureml:\/\/registries\/mlreg-shared\/models\/churn\/versions\/1: registry 'mlreg-shared' \(subscription [^,]+, regions eastus, westus\) serves workspace region eastus/,
    );
    const dep = box.store.list<any>('onlineDeployments').find((x) =>
      String(x.resource?.id ?? '')
        .toLowerCase()
        .includes('/workspaces/mlw-prod/onlineendpoints/reg-prod/deployments/blue'),
    );
    assert.equal(dep?.resource.properties.model, uri);
    // the scoring host loaded the files copied into the registry (the sample model answers with its version tag)
    const res = await fetch(d.outputs.scoringUri!, {
      method: 'POST',
      headers: { authorization: `Bearer ${d.outputs.endpointKey}`, 'content-type': 'application/json' },
      body: '{"data": [[1, 1, 1]]}',
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.match(await res.text(), /v1/);
  });
});

describe('AzureMLModelEvaluate@1 and AzureMLReleaseTrigger@1 with registry models', () => {
  test('candidate and production in the registry; a pipeline run per registry version, rerun starts nothing; bad registry inputs one line each, nothing written', async () => {
    const put = (version: string, tags: Record<string, string>) =>
      arm(
        box,
        'PUT',
        `/subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/registries/mlreg-shared/models/scorer/versions/${version}?api-version=2024-04-01`,
        { properties: { tags, modelUri: 'azureml://registries/mlreg-shared/models/fraud/versions/3' } },
      );
    await put('1', { stage: 'production', 'metric.auc': '0.8' });
    await put('2', { 'metric.auc': '0.9' });
    const p = addPipeline(box.ctx, {
      name: 'cd-registry',
      parameters: [
        { name: 'modelVersion', type: 'string' },
        { name: 'modelRef', type: 'string' },
      ],
    });
    const evaluate = (inputs: Record<string, string>) =>
      run(
        {
          candidateType: 'model',
          candidateModel: 'azureml://registries/mlreg-shared/models/scorer/versions/2',
          baseline: 'tag',
          baselineTag: 'stage=production',
          metrics: 'auc higher',
          ...inputs,
        },
        { task: 'AzureMLModelEvaluate' },
      );
    const trigger = (inputs: Record<string, string>) =>
      run(
        {
          mode: 'push',
          target: 'pipeline',
          modelName: 'scorer',
          modelVersion: '2',
          pipeline: 'cd-registry',
          templateParameters: 'modelVersion={modelVersion}\nmodelRef={modelId}',
          registry: 'mlreg-shared',
          resourceGroup: '',
          workspace: '',
          ...inputs,
        },
        { task: 'AzureMLReleaseTrigger' },
      );
    const from = box.requests.length;
    const [ev, tr] = await Promise.all([evaluate({}), trigger({})]);
    assert.equal(ev.result, 'Succeeded', explain(ev));
    assert.equal(ev.outputs.verdict, 'better');
    assert.equal(ev.outputs.candidateId, 'azureml://registries/mlreg-shared/models/scorer/versions/2');
    assert.equal(ev.outputs.baselineModelId, 'azureml://registries/mlreg-shared/models/scorer/versions/1');
    assert.equal(tr.result, 'Succeeded', explain(tr));
    assert.deepEqual(
      listRuns(box.ctx, p.id).map((x) => x.templateParameters),
      [{ modelVersion: '2', modelRef: 'azureml://registries/mlreg-shared/models/scorer/versions/2' }],
    );
    const again = await trigger({});
    assert.equal(again.result, 'Succeeded', explain(again));
    assert.equal(again.outputs.createdCount, '0');

    // target release: the release pipeline's model artifact reads the same registry (source Registry); the release
    // pins the registry version; a rerun creates none
    const regDef = addReleaseDefinition(box.ctx, {
      name: 'cd-reg-scorer',
      model: 'scorer',
      registry: { name: 'mlreg-shared' },
    });
    addReleaseDefinition(box.ctx, { name: 'cd-ws-scorer', model: 'scorer' });
    const rel = await trigger({ target: 'release', releaseDefinition: 'cd-reg-scorer', pipeline: '' });
    assert.equal(rel.result, 'Succeeded', explain(rel));
    const releases = listReleases(box.ctx, regDef.id);
    assert.equal(releases.length, 1);
    assert.equal((releases[0] as any).artifacts[0].definitionReference.version.id, '2');
    const relAgain = await trigger({ target: 'release', releaseDefinition: 'cd-reg-scorer', pipeline: '' });
    assert.equal(relAgain.result, 'Succeeded', explain(relAgain));
    assert.equal(relAgain.outputs.createdCount, '0');
    assert.equal(listReleases(box.ctx, regDef.id).length, 1);

    const bad: Array<[typeof run, Record<string, string>, RegExp]> = [
      [
        evaluate,
        { registry: 'mlreg-nope', candidateModel: 'scorer:2' },
        /^Input 'registry': registry 'mlreg-nope' was not found in subscription /,
      ],
      [
        evaluate,
        { candidateModel: 'azureml://registries/mlreg-shared/models/ghost/versions/1' },
        /^Input 'candidateModel': model 'ghost' version 1 was not found in registry 'mlreg-shared'$/,
      ],
      [
        evaluate,
        { registry: 'mlreg-locked', candidateModel: 'scorer:2' },
        /^No permission on registry 'mlreg-locked': /,
      ],
      [trigger, { registry: 'mlreg-nope' }, /^Input 'registry': registry 'mlreg-nope' was not found in subscription /],
      [
        trigger,
        { mode: 'reconcile', modelVersion: '', modelName: 'ghost' },
        /^Input 'modelName': model 'ghost' was not found in registry 'mlreg-shared'$/,
      ],
      [
        trigger,
        { modelVersion: '9' },
        /^Input 'modelVersion': model 'scorer' has no version 9 in registry 'mlreg-shared'$/,
      ],
      [trigger, { registry: 'mlreg-locked' }, /^No permission on registry 'mlreg-locked': /],
      [
        trigger,
        { target: 'release', releaseDefinition: 'cd-ws-scorer' },
        /^Input 'registry': artifact '_scorer' of release pipeline 'cd-ws-scorer' reads models from a workspace, but this task reads them from registry 'mlreg-shared'$/,
      ],
    ];
    const failed = await Promise.all(bad.map(([f, inputs]) => f(inputs)));
    failed.forEach((r, i) => {
      assert.equal(r.result, 'Failed', explain(r));
      assert.match(r.message ?? '', bad[i][2], explain(r));
      assert.equal((r.message ?? '').split('\n').length, 1);
    });
    assert.equal(listRuns(box.ctx, p.id).length, 1);
    assert.deepEqual(
      box.requests
        .slice(from)
        .filter((q) => q.host === 'arm' && q.method !== 'GET')
        .map((q) => `${q.method} ${q.url}`),
      [],
    );
  });
});
