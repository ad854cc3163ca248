// The "Azure ML model" release artifact (vss-extension.json) evaluated the way Azure DevOps does (test/helpers/
// artifactHarness.ts) against Azure-in-a-box: pickers, paging, newest-first versions, latest, links, release
// variables, and the injected AzureMLModelDownload@1 run with the inputs the server would give it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startAzureInABox, type AzureInABox } from '../emulator';
import {
  agentEnvName, boxEndpoint, downloadTaskJson, evaluateBinding, loadArtifactType, releaseVariables, releaseVersion, renderSourceId, renderUrlBinding, runInjectedDownload,
  type ArtifactType, type Endpoint, type LinkedArtifact,
} from '../helpers/artifactHarness';
import { arm, seedModelVersion, wsArmPath } from '../helpers/modelSeed';
import { agentEnv } from '../helpers/agent';

const MODEL = 'churn-model';
let box: AzureInABox;
let type: ArtifactType;
let endpoint: Endpoint;
let artifact: LinkedArtifact;

before(async () => {
  box = await startAzureInABox({ fastLro: true });
  type = loadArtifactType();
  endpoint = boxEndpoint(box);
  // versions created in the order 1, 2, 10, 3: newest first by creation is 3, 10, 2, 1 (not numeric order)
  for (const v of ['1', '2', '10', '3']) await seedModelVersion(box, MODEL, v, { 'weights.txt': `weights of ${v}\n`, 'sub/config.json': `{"v":"${v}"}` });
  // enough other models for the models list to page (the emulator pages by 20)
  await Promise.all(Array.from({ length: 22 }, (_, i) => arm(box, 'PUT', wsArmPath(box, `/models/other-${String(i).padStart(2, '0')}`), { properties: { description: 'filler' } })));
  // a second resource group (no workspace in it)
  const rg2 = `/subscriptions/${box.subscriptionId}/resourceGroups/rg-other`;
  box.store.put('resourceGroups', rg2, { id: rg2, name: 'rg-other', location: 'westeurope' });
  artifact = {
    alias: '_churn-model',
    inputs: { connection: 'conn-secret', resourceGroup: box.resourceGroup, workspace: box.workspace, definition: MODEL, defaultVersionType: 'latestType' },
  };
});
after(async () => { await box?.stop(); });

describe('artifact contribution', () => {
  test('shape: not a Build artifact, download task is AzureMLModelDownload, inputs feed the task by id', () => {
    assert.notEqual(type.artifactType, 'Build');
    assert.equal(type.endpointTypeId, 'azurerm');
    const { task } = downloadTaskJson(type);
    assert.equal(task.name, 'AzureMLModelDownload');
    const taskInputs = new Set(task.inputs.map((i: { name: string }) => i.name));
    for (const d of type.inputDescriptors) assert.ok(taskInputs.has(d.id), `artifact input '${d.id}' is a task input`);
    for (const n of ['version', 'downloadPath', 'itemPattern']) assert.ok(taskInputs.has(n), `task has '${n}'`);
    assert.equal(renderSourceId(type, artifact.inputs), `conn-secret:${box.resourceGroup}:${box.workspace}:${MODEL}`);
    assert.deepEqual(type.inputDescriptors.map((d) => d.id), ['connection', 'resourceGroup', 'workspace', 'definition', 'defaultVersionType', 'defaultVersionSpecific']);
    assert.deepEqual(type.inputDescriptors.find((d) => d.id === 'defaultVersionType')!.values!.possibleValues!.map((v) => v.value),
      ['latestType', 'selectDuringReleaseCreationType', 'specificVersionType']);
  });

  test('pickers: resource groups, workspaces, models (paged), versions newest first, latest', async () => {
    const [rgs, wss, models, versions, specific, latest] = await Promise.all([
      evaluateBinding(type, 'resourceGroup', { connection: 'conn-secret' }, endpoint),
      evaluateBinding(type, 'workspace', { connection: 'conn-secret', resourceGroup: box.resourceGroup }, endpoint),
      evaluateBinding(type, 'definition', artifact.inputs, endpoint),
      evaluateBinding(type, 'versions', artifact.inputs, endpoint),
      evaluateBinding(type, 'defaultVersionSpecific', artifact.inputs, endpoint),
      evaluateBinding(type, 'latestVersion', artifact.inputs, endpoint),
    ]);
    assert.deepEqual(rgs.values.map((v) => v.Value).sort(), [box.resourceGroup, 'rg-other'].sort());
    assert.deepEqual(wss.values, [{ Value: box.workspace, DisplayValue: box.workspace }]);
    const names = models.values.map((v) => v.Value);
    assert.equal(names.length, 23, `all models across pages: ${names.join(',')}`);
    assert.ok(names.includes(MODEL) && names.includes('other-21'));
    assert.equal(new Set(names).size, names.length, 'no duplicates across pages');
    assert.ok(models.urls.length >= 2, `models list followed nextLink (${models.urls.length} call(s))`);
    assert.match(models.urls[1]!, /\$skip=/);
    assert.deepEqual(versions.values, ['3', '10', '2', '1'].map((v) => ({ Value: v, DisplayValue: v })));
    assert.deepEqual(specific.values, versions.values);
    assert.deepEqual(latest.values, [{ Value: '3', DisplayValue: '3' }]);
    assert.match(latest.urls[0]!, /\$top=1(&|$)/);
    for (const r of [rgs, wss, models, versions, latest]) for (const b of r.responseBytes) assert.ok(b < 2 * 1024 * 1024);
  });

  test('studio links for the definition and the version', () => {
    const def = renderUrlBinding(type, 'artifactSourceDefinitionUrl', artifact.inputs, endpoint);
    const ver = renderUrlBinding(type, 'artifactSourceVersionUrl', artifact.inputs, endpoint, '10');
    const wsid = `wsid=/subscriptions/${box.subscriptionId}/resourcegroups/${box.resourceGroup}/workspaces/${box.workspace}`;
    assert.equal(ver, `https://ml.azure.com/model/${MODEL}:10/details?${wsid}`);
    assert.ok(def.startsWith('https://ml.azure.com/model/list?') && def.includes(wsid) && def.endsWith(`search=${MODEL}`), def);
  });

  test('unknown model: versions and latest are empty, not an error', async () => {
    const inputs = { ...artifact.inputs, definition: 'no-such-model' };
    const [versions, latest] = await Promise.all([evaluateBinding(type, 'versions', inputs, endpoint), evaluateBinding(type, 'latestVersion', inputs, endpoint)]);
    assert.deepEqual(versions.values, []);
    assert.deepEqual(latest.values, []);
  });
});

describe('release', () => {
  test('variables: DefinitionName = model name, BuildNumber/BuildId = version (latest at release creation)', async () => {
    const v = await releaseVersion(type, artifact, endpoint);
    const vars = releaseVariables(type, artifact, v);
    assert.equal(vars['Release.Artifacts._churn-model.DefinitionName'], MODEL);
    assert.equal(vars['Release.Artifacts._churn-model.DefinitionId'], MODEL);
    assert.equal(vars['Release.Artifacts._churn-model.BuildNumber'], '3');
    assert.equal(vars['Release.Artifacts._churn-model.BuildId'], '3');
    assert.equal(vars['Release.Artifacts._churn-model.Type'], type.name);
    assert.equal(vars['Release.PrimaryArtifactSourceAlias'], '_churn-model');
    assert.equal(vars['Build.BuildNumber'], '3');
    // what the task's process gets: '.' and ' ' become '_', upper-cased, the alias's hyphen kept (as the agent does)
    const env = await agentEnv('AzureMLModelDownload', { box, inputs: {}, variables: vars }, { temp: tmpdir(), work: tmpdir(), sources: tmpdir() });
    assert.equal(env['RELEASE_ARTIFACTS__CHURN-MODEL_DEFINITIONNAME'], MODEL);
    assert.equal(env['RELEASE_ARTIFACTS__CHURN-MODEL_BUILDNUMBER'], '3');
    assert.equal(env.RELEASE_ARTIFACTS__CHURN_MODEL_DEFINITIONNAME, undefined);
    assert.equal(agentEnvName('Release.Artifacts.my model.DefinitionName'), 'RELEASE_ARTIFACTS_MY_MODEL_DEFINITIONNAME');
  });

  test('specific and select-at-creation versions', async () => {
    assert.equal((await releaseVersion(type, { ...artifact, inputs: { ...artifact.inputs, defaultVersionType: 'specificVersionType', defaultVersionSpecific: '2' } }, endpoint)).Value, '2');
    const sel = { ...artifact, inputs: { ...artifact.inputs, defaultVersionType: 'selectDuringReleaseCreationType' } };
    assert.equal((await releaseVersion(type, sel, endpoint, '10')).Value, '10');
    await assert.rejects(releaseVersion(type, sel, endpoint, '99'), /not among the versions/);
  });

  test('injected download task: latest version downloaded, only outputs changed, rerun idempotent', async () => {
    const v = await releaseVersion(type, artifact, endpoint);
    const dest = path.join(mkdtempSync(path.join(tmpdir(), 'art-dl-')), '_churn-model');
    const before = box.requests.length;
    const r = await runInjectedDownload(box, type, artifact, v, { downloadPath: dest });
    assert.equal(r.result, 'Succeeded', `${r.message}\n${r.stdout.slice(-2000)}`);
    assert.equal(r.inputs.definition, MODEL);
    assert.equal(r.inputs.version, '3');
    assert.equal(r.outputs.modelName, MODEL);
    assert.equal(r.outputs.modelVersion, '3');
    assert.equal(r.outputs.modelId, `azureml:${MODEL}:3`);
    assert.equal(r.outputs.modelPath, path.join(dest, 'model'));
    assert.equal(readFileSync(path.join(dest, 'model', 'weights.txt'), 'utf8'), 'weights of 3\n');
    assert.equal(readFileSync(path.join(dest, 'model', 'sub', 'config.json'), 'utf8'), '{"v":"3"}');
    const meta = JSON.parse(readFileSync(path.join(dest, 'model.json'), 'utf8'));
    assert.equal(meta.name, MODEL);
    assert.equal(meta.version, '3');
    assert.equal(meta.uri, r.outputs.modelUri);
    assert.match(meta.studioUrl, /^https:\/\/ml\.azure\.com\/model\/churn-model:3\/details\?wsid=/);
    // in a release: no release name change, no build tags, no summary; nothing written in Azure
    const names = r.commands.map((c) => c.name);
    assert.ok(!names.includes('release.updatereleasename') && !names.includes('build.addbuildtag') && !names.includes('task.uploadsummary'), names.join(','));
    assert.deepEqual(box.requests.slice(before).filter((q) => q.method !== 'GET' && !/listSecrets/i.test(q.url) && q.host === 'arm').map((q) => `${q.method} ${q.url}`), []);
    assert.ok(r.progress.includes(100));
    // rerun into the same folder
    const again = await runInjectedDownload(box, type, artifact, v, { downloadPath: dest });
    assert.equal(again.result, 'Succeeded', again.message);
    assert.match(again.stdout, /2 already present and identical, 0 B transferred/);
    assert.ok(existsSync(path.join(dest, 'model.json')));
    assert.equal(again.warnings.length, 0, again.warnings.join('\n'));
    // another version into the same folder: changed files replaced, a stray file reported (not deleted)
    writeFileSync(path.join(dest, 'model', 'stale.txt'), 'old');
    const other = await runInjectedDownload(box, type, artifact, { Value: '10', DisplayValue: '10' }, { downloadPath: dest, releaseId: '18', definitionName: 'churn-cd', environmentName: 'prod' });
    assert.equal(other.result, 'Succeeded', other.message);
    assert.equal(other.variables['Release.ReleaseName'], 'Release-18');
    assert.equal(other.variables['Release.DefinitionName'], 'churn-cd');
    assert.equal(other.variables['Release.EnvironmentName'], 'prod');
    assert.equal(other.variables['Release.Artifacts._churn-model.BuildNumber'], '10');
    assert.equal(other.outputs.modelVersion, '10');
    assert.equal(readFileSync(path.join(dest, 'model', 'weights.txt'), 'utf8'), 'weights of 10\n');
    assert.equal(JSON.parse(readFileSync(path.join(dest, 'model.json'), 'utf8')).version, '10');
    assert.ok(other.warnings.some((w) => w.includes('model/stale.txt') && w.includes('not part of churn-model:10')), other.warnings.join('\n'));
  });
});
