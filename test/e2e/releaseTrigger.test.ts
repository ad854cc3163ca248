// AzureMLReleaseTrigger@1 end to end: the bundled task against Azure-in-a-box (Azure ML model versions on the ARM host,
// classic releases on the emulated vsrm host, YAML runs on the collection host) — push, pipeline runs, reconcile of
// versions registered outside pipelines, tag filter, onlyNewest, idempotent reruns, missing permission, bad inputs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientSecretCredential } from '@azure/identity';
import { startAzureInABox, type AzureInABox } from '../emulator';
import { runBundledTask, type RunOptions, type TaskRunWithLeaks } from '../helpers/agent';
import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { addReleaseDefinition, addRestrictedJobToken, listReleases } from '../emulator/devops/release';
import { addPipeline, addRun, listRuns } from '../emulator/devops/pipelines';

const TASK = 'AzureMLReleaseTrigger';
let box: AzureInABox;
let ml: AzureMachineLearningWorkspaces;

before(async () => {
  box = await startAzureInABox({ fastLro: true });
  const cred = new ClientSecretCredential(box.tenantId, box.clientId, box.clientSecret, {
    authorityHost: box.authorityHost,
    disableInstanceDiscovery: true,
  });
  ml = new AzureMachineLearningWorkspaces(cred, box.subscriptionId, {
    endpoint: box.armUrl,
    credentialScopes: [`${box.audience}.default`],
  });
});
after(async () => {
  await box?.stop();
});

/** a version registered outside any pipeline (notebook / SDK), straight through the Azure ML REST API */
async function register(model: string, version: string, tags: Record<string, string> = {}): Promise<void> {
  await ml.modelVersions.createOrUpdate(box.resourceGroup, box.workspace, model, version, {
    properties: {
      modelType: 'custom_model',
      modelUri: `azureml://datastores/workspaceblobstore/paths/models/${model}/${version}`,
      tags,
    },
  });
}

async function run(inputs: Record<string, string>, opts: Partial<RunOptions> = {}): Promise<TaskRunWithLeaks> {
  return runBundledTask(TASK, {
    box,
    scheme: 'secret',
    timeoutMs: 60_000,
    ...opts,
    inputs: { resourceGroup: box.resourceGroup, workspace: box.workspace, ...inputs },
  });
}
function explain(r: TaskRunWithLeaks): string {
  return `result=${r.result} message=${r.message}\n--- stdout (tail)\n${r.stdout
    .split('\n')
    .filter((l) => !l.startsWith('##vso[task.debug'))
    .slice(-25)
    .join('\n')}\n--- stderr\n${r.stderr.slice(-1500)}`;
}
const versionsOf = (defId: number) =>
  listReleases(box.ctx, defId)
    .map((r) => r.artifacts[0]!.definitionReference.version.id)
    .sort((a, b) => Number(a) - Number(b));

describe('AzureMLReleaseTrigger@1', { concurrency: true }, () => {
  test('push: a release with the model version as instance reference and the build in the description; rerun starts nothing', async () => {
    const def = addReleaseDefinition(box.ctx, { name: 'cd-push', model: 'm-push' });
    await register('m-push', '1', { 'azdo.pipeline': 'azureml-ci' });
    const r = await run({
      mode: 'push',
      target: 'release',
      modelName: 'm-push',
      modelVersion: '1',
      releaseDefinition: 'cd-push',
    });
    assert.equal(r.result, 'Succeeded', explain(r));
    const [rel, ...more] = listReleases(box.ctx, def.id);
    assert.ok(rel && !more.length, 'exactly one release');
    assert.equal(r.outputs.releaseIds, String(rel!.id));
    assert.equal(r.outputs.releaseId, String(rel!.id));
    assert.equal(r.outputs.createdCount, '1');
    const art = rel!.artifacts[0]!;
    assert.equal(art.alias, '_m-push');
    assert.equal(art.type, 'AzureMLModel');
    assert.deepEqual(art.definitionReference.version, { id: '1', name: '1' });
    // the definition's default-version inputs are not part of a created release (server rule R1, artifactHarness.ts)
    assert.ok(def.artifacts[0]!.definitionReference.defaultVersionType, 'the definition has a default version type');
    assert.equal(art.definitionReference.defaultVersionType, undefined);
    assert.match(
      rel!.description,
      /m-push:1, registered by build azureml-ci #20261122\.3 \(https:\/\/.*_build\/results\?buildId=4242\)/,
    );
    assert.match(r.summaries.join('\n'), /Release-1/);

    const again = await run({
      mode: 'push',
      target: 'release',
      modelName: 'm-push',
      modelVersion: '1',
      releaseDefinition: String(def.id),
    });
    assert.equal(again.result, 'Succeeded', explain(again));
    assert.equal(again.outputs.createdCount, '0');
    assert.equal(again.outputs.releaseIds, '');
    assert.equal(again.outputs.releaseId, String(rel!.id), 'the existing release is reported');
    assert.match(again.stdout, /already has release Release-1/);
    assert.doesNotMatch(again.stdout, /Started release/);
    assert.equal(listReleases(box.ctx, def.id).length, 1);
  });

  test('pipeline target: a YAML run with template parameters (placeholders and defaults); rerun starts nothing', async () => {
    const p = addPipeline(box.ctx, {
      name: 'cd-yaml-e2e',
      parameters: [
        { name: 'modelName', type: 'string' },
        { name: 'modelVersion', type: 'string' },
        { name: 'environment', type: 'string', default: 'staging', values: ['staging', 'production'] },
        { name: 'modelRef', type: 'string', default: '' },
      ],
    });
    await register('m-pipe', '4');
    const inputs = {
      mode: 'push',
      target: 'pipeline',
      modelName: 'm-pipe',
      modelVersion: '4',
      pipeline: 'cd-yaml-e2e',
      templateParameters: 'modelName={modelName}\nmodelVersion={modelVersion}\nmodelRef={modelId}',
    };
    const r = await run(inputs);
    assert.equal(r.result, 'Succeeded', explain(r));
    const runs = listRuns(box.ctx, p.id);
    assert.equal(runs.length, 1);
    assert.deepEqual(runs[0]!.templateParameters, {
      modelName: 'm-pipe',
      modelVersion: '4',
      environment: 'staging',
      modelRef: 'azureml:m-pipe:4',
    });
    assert.equal(r.outputs.runIds, String(runs[0]!.id));
    const again = await run(inputs);
    assert.equal(again.result, 'Succeeded', explain(again));
    assert.equal(again.outputs.createdCount, '0');
    assert.equal(again.outputs.runId, String(runs[0]!.id));
    assert.equal(listRuns(box.ctx, p.id).length, 1);
    // a parameter the pipeline does not declare: the service's validation error, one line
    const bad = await run({
      ...inputs,
      modelVersion: '4',
      templateParameters: 'modelName={modelName}\nmodelVersion={modelVersion}\nflavour=x',
    });
    assert.equal(bad.result, 'Failed');
    assert.match(bad.message ?? '', /Unexpected parameter 'flavour'/);
    assert.equal(listRuns(box.ctx, p.id).length, 1);
  });

  test('reconcile: versions registered outside pipelines get releases (tag filter, onlyNewest), reruns start nothing, first run starts only the newest', async () => {
    const def = addReleaseDefinition(box.ctx, { name: 'cd-reconcile', model: 'm-rec' });
    await register('m-rec', '1', { evaluation: 'passed' });
    const base = {
      mode: 'reconcile',
      target: 'release',
      modelName: 'm-rec',
      releaseDefinition: 'cd-reconcile',
      tagFilter: 'evaluation=passed',
    };
    await register('m-rec', '2', { evaluation: 'passed' });
    // first run: nothing released yet → only the newest matching version (no replay of history)
    let r = await run(base);
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.deepEqual(versionsOf(def.id), ['2']);
    assert.match(r.stdout, /No version of 'm-rec' has a release/);
    // notebook registrations: 3 (passed), 4 (failed), 5 (passed)
    await register('m-rec', '3', { evaluation: 'passed' });
    await register('m-rec', '4', { evaluation: 'failed' });
    await register('m-rec', '5', { evaluation: 'passed' });
    r = await run(base);
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.deepEqual(versionsOf(def.id), ['2', '3', '5']);
    assert.equal(r.outputs.createdCount, '2');
    assert.equal(r.outputs.releaseIds.split(',').length, 2);
    const byVersion = new Map(
      listReleases(box.ctx, def.id).map((x) => [x.artifacts[0]!.definitionReference.version.id, x]),
    );
    assert.ok(byVersion.get('3')!.id < byVersion.get('5')!.id, 'oldest version released first');
    assert.match(
      byVersion.get('5')!.description,
      /m-rec:5 \(registered by .*\); release started by the reconcile schedule/,
    );
    // rerun: nothing new, no write
    r = await run(base);
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.createdCount, '0');
    assert.deepEqual(versionsOf(def.id), ['2', '3', '5']);
    // onlyNewest
    await register('m-rec', '6', { evaluation: 'passed' });
    await register('m-rec', '7', { evaluation: 'passed' });
    r = await run({ ...base, onlyNewest: 'true' });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.deepEqual(versionsOf(def.id), ['2', '3', '5', '7']);
  });

  test('reconcile to a YAML pipeline run per new version', async () => {
    const p = addPipeline(box.ctx, {
      name: 'cd-yaml-rec',
      parameters: [
        { name: 'modelName', type: 'string' },
        { name: 'modelVersion', type: 'string' },
      ],
    });
    await register('m-piperec', '1');
    // templateParameters as the agent passes the task.json default
    const inputs = {
      mode: 'reconcile',
      target: 'pipeline',
      modelName: 'm-piperec',
      pipeline: String(p.id),
      templateParameters: 'modelName={modelName}, modelVersion={modelVersion}',
    };
    assert.equal((await run(inputs)).result, 'Succeeded');
    await register('m-piperec', '2');
    await register('m-piperec', '3');
    const r = await run(inputs);
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.deepEqual(
      listRuns(box.ctx, p.id)
        .map((x) => x.templateParameters.modelVersion)
        .sort(),
      ['1', '2', '3'],
    );
  });

  test('busy YAML pipeline: runs are tagged azureml-model:<name>:<version>; 60 newer runs later, push and reconcile reruns start nothing', async () => {
    const p = addPipeline(box.ctx, {
      name: 'cd-yaml-busy',
      parameters: [
        { name: 'modelName', type: 'string' },
        { name: 'modelVersion', type: 'string' },
      ],
    });
    await register('m-busy', '1');
    const push = {
      mode: 'push',
      target: 'pipeline',
      modelName: 'm-busy',
      modelVersion: '1',
      pipeline: 'cd-yaml-busy',
      templateParameters: 'modelName={modelName}, modelVersion={modelVersion}',
    };
    const first = await run(push);
    assert.equal(first.result, 'Succeeded', explain(first));
    const [ours] = listRuns(box.ctx, p.id);
    assert.deepEqual(ours!.tags, ['azureml-model:m-busy:1']);
    // the pipeline keeps running: 60 runs newer than ours, other parameters (CI, people)
    for (let i = 0; i < 60; i++) addRun(box.ctx, p.id, { modelName: 'other-model', modelVersion: String(i) });
    assert.ok(listRuns(box.ctx, p.id).findIndex((r) => r.id === ours!.id) >= 60, 'our run is older than the newest 60');
    const [again, rec] = await Promise.all([run(push), run({ ...push, mode: 'reconcile', modelVersion: '' })]);
    assert.equal(again.result, 'Succeeded', explain(again));
    assert.equal(again.outputs.createdCount, '0');
    assert.equal(again.outputs.runId, String(ours!.id));
    assert.equal(rec.result, 'Succeeded', explain(rec));
    assert.equal(rec.outputs.createdCount, '0', explain(rec));
    assert.equal(
      listRuns(box.ctx, p.id).filter((r) => r.templateParameters.modelName === 'm-busy').length,
      1,
      'no duplicate run',
    );
    // tagging refused ('Edit build quality' denied): the run is still started, a warning names the permission
    await register('m-busy', '2');
    const token = addRestrictedJobToken(box.ctx, ['EditBuildQuality']);
    const env = {
      ENDPOINT_AUTH_SYSTEMVSSCONNECTION: JSON.stringify({ scheme: 'OAuth', parameters: { AccessToken: token } }),
      ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN: token,
    };
    const untagged = await run({ ...push, modelVersion: '2' }, { env });
    assert.equal(untagged.result, 'Succeeded', explain(untagged));
    assert.equal(untagged.outputs.createdCount, '1');
    assert.match(
      untagged.warnings.join('\n'),
      /could not be tagged 'azureml-model:m-busy:2': Permission missing to tag run \d+ of pipeline 'cd-yaml-busy': grant 'Edit build quality'/,
    );
    const run2 = listRuns(box.ctx, p.id).find(
      (r) => r.templateParameters.modelVersion === '2' && r.templateParameters.modelName === 'm-busy',
    )!;
    assert.deepEqual(run2.tags ?? [], []);
    // a rerun with the permission finds it among the newest runs and tags it, so it stays found
    const healed = await run({ ...push, modelVersion: '2' });
    assert.equal(healed.outputs.createdCount, '0', explain(healed));
    assert.deepEqual(listRuns(box.ctx, p.id).find((r) => r.id === run2.id)!.tags, ['azureml-model:m-busy:2']);
  });

  test('reconcile firstRun=all: the first reconcile starts every matching version (oldest first); the default starts only the newest', async () => {
    const all = addReleaseDefinition(box.ctx, { name: 'cd-first-all', model: 'm-first' });
    const newest = addReleaseDefinition(box.ctx, { name: 'cd-first-newest', model: 'm-first' });
    for (const [v, evaluation] of [
      ['1', 'passed'],
      ['2', 'failed'],
      ['3', 'passed'],
      ['4', 'passed'],
    ])
      await register('m-first', v!, { evaluation: evaluation! });
    const base = { mode: 'reconcile', target: 'release', modelName: 'm-first', tagFilter: 'evaluation=passed' };
    const [a, n] = await Promise.all([
      run({ ...base, releaseDefinition: 'cd-first-all', firstRun: 'all' }),
      run({ ...base, releaseDefinition: 'cd-first-newest' }),
    ]);
    assert.equal(a.result, 'Succeeded', explain(a));
    assert.deepEqual(versionsOf(all.id), ['1', '3', '4']);
    const rel = listReleases(box.ctx, all.id);
    const idOf = (v: string) => rel.find((x) => x.artifacts[0]!.definitionReference.version.id === v)!.id;
    assert.ok(idOf('1') < idOf('3') && idOf('3') < idOf('4'), 'oldest first');
    assert.match(a.stdout, /starting every matching version of the newest 4 \(firstRun: all\): 1, 3, 4/);
    assert.equal(n.result, 'Succeeded', explain(n));
    assert.deepEqual(versionsOf(newest.id), ['4'], 'default: newest only');
    const again = await run({ ...base, releaseDefinition: 'cd-first-all', firstRun: 'all' });
    assert.equal(again.outputs.createdCount, '0', explain(again));
    const bad = await run({ ...base, releaseDefinition: 'cd-first-all', firstRun: 'everything' });
    assert.equal(bad.result, 'Failed');
    assert.match(bad.message ?? '', /^Input 'firstRun'/);
    assert.deepEqual(versionsOf(all.id), ['1', '3', '4']);
  });

  test('missing permission: the error names the permission to grant; nothing created', async () => {
    const def = addReleaseDefinition(box.ctx, { name: 'cd-locked', model: 'm-locked' });
    await register('m-locked', '1');
    const token = addRestrictedJobToken(box.ctx, ['CreateReleases', 'QueueBuilds']);
    const env = {
      ENDPOINT_AUTH_SYSTEMVSSCONNECTION: JSON.stringify({ scheme: 'OAuth', parameters: { AccessToken: token } }),
      ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN: token,
    };
    const [rel, pipe] = await Promise.all([
      run(
        { mode: 'push', target: 'release', modelName: 'm-locked', modelVersion: '1', releaseDefinition: 'cd-locked' },
        { env },
      ),
      run(
        { mode: 'push', target: 'pipeline', modelName: 'm-locked', modelVersion: '1', pipeline: 'model-cd-yaml' },
        { env },
      ),
    ]);
    assert.equal(rel.result, 'Failed', explain(rel));
    assert.match(
      rel.message ?? '',
      /grant 'Create releases' on release pipeline 'cd-locked' to the 'ml-project Build Service' identity/,
    );
    assert.match(rel.message ?? '', /VS402904: Access denied/);
    assert.doesNotMatch(rel.stdout + rel.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(listReleases(box.ctx, def.id).length, 0);
    assert.equal(pipe.result, 'Failed', explain(pipe));
    assert.match(pipe.message ?? '', /grant 'Queue builds' on pipeline 'model-cd-yaml'/);
    assert.ok(!listRuns(box.ctx).some((x) => x.templateParameters.modelName === 'm-locked'));
  });

  test('bad inputs: one line naming the input, nothing written', async () => {
    const def = addReleaseDefinition(box.ctx, { name: 'cd-bad', model: 'm-bad' });
    await Promise.all([register('m-bad', '1'), register('m-other', '1')]);
    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        { mode: 'push', target: 'release', modelName: 'm-bad', releaseDefinition: 'cd-bad' },
        /^Input 'modelVersion': is required in push mode/,
      ],
      [
        { mode: 'push', target: 'release', modelName: 'm-bad', modelVersion: '9', releaseDefinition: 'cd-bad' },
        /^Input 'modelVersion': model 'm-bad' has no version 9/,
      ],
      [
        { mode: 'push', target: 'release', modelName: 'm-bad', modelVersion: '1', releaseDefinition: 'no-such-cd' },
        /^Input 'releaseDefinition': no release pipeline named 'no-such-cd'/,
      ],
      [
        {
          mode: 'push',
          target: 'release',
          modelName: 'm-bad',
          modelVersion: '1',
          releaseDefinition: 'cd-bad',
          artifactAlias: '_other',
        },
        /^Input 'artifactAlias': release pipeline 'cd-bad' has no artifact '_other'/,
      ],
      [
        { mode: 'push', target: 'release', modelName: 'm-other', modelVersion: '1', releaseDefinition: 'cd-bad' },
        /^Input 'modelName': artifact '_m-bad' of release pipeline 'cd-bad' is model 'm-bad', not 'm-other'/,
      ],
      [
        { mode: 'push', target: 'pipeline', modelName: 'm-bad', modelVersion: '1', pipeline: 'nope' },
        /^Input 'pipeline': no pipeline named 'nope'/,
      ],
    ];
    const runs = await Promise.all(cases.map(([inputs]) => run(inputs)));
    runs.forEach((r, i) => {
      assert.equal(r.result, 'Failed', `case ${i}: ${explain(r)}`);
      assert.match(r.message ?? '', cases[i]![1], `case ${i}`);
    });
    assert.equal(listReleases(box.ctx, def.id).length, 0, 'no release');
    assert.ok(!listRuns(box.ctx).some((x) => x.templateParameters.modelName === 'm-bad'), 'no run');
  });
});

describe('emulated Azure DevOps release REST (raw HTTP, as the service answers)', () => {
  const call = async (
    method: string,
    url: string,
    body?: unknown,
    o: { token?: string | null; accept?: string } = {},
  ) => {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: o.accept ?? 'application/json;api-version=7.2-preview.9',
    };
    if (o.token !== null) headers.authorization = `Bearer ${o.token ?? box.systemAccessToken}`;
    const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  test('resource areas point the Release area at its own host; releases are not served on the collection host', async () => {
    const areas = await call('GET', `${box.collectionUri}_apis/ResourceAreas`);
    const rel = areas.body.value.find((a: any) => a.id === 'efc2f575-36ef-48e9-b672-0c6fb4a48ac5');
    assert.equal(rel.locationUrl, `${box.devopsUrl}vsrm/org/`);
    const wrongHost = await call('POST', `${box.collectionUri}${box.projectName}/_apis/Release/releases`, {
      definitionId: 1,
    });
    assert.equal(wrongHost.status, 404);
  });
  test('Build area: builds list by definition + tagFilters (all tags, any case) with $top/continuation; tags need Edit build quality', async () => {
    const p = addPipeline(box.ctx, { name: 'cd-raw-builds' });
    const runs = [
      addRun(box.ctx, p.id, {}, ['azureml-model:m:1']),
      addRun(box.ctx, p.id, {}, ['azureml-model:m:1', 'x']),
      addRun(box.ctx, p.id, {}),
      addRun(box.ctx, p.id, {}, ['Azureml-Model:M:1']),
    ];
    const base = `${box.collectionUri}${box.projectId}/_apis/build/builds`;
    const accept = 'application/json;api-version=7.2-preview.7';
    let r = await call('GET', `${base}?definitions=${p.id}&tagFilters=azureml-model:m:1`, undefined, { accept });
    assert.deepEqual(
      r.body.value.map((b: any) => b.id),
      [runs[3]!.id, runs[1]!.id, runs[0]!.id],
    );
    assert.equal(r.body.value[0].definition.id, p.id);
    r = await call('GET', `${base}?definitions=${p.id}&tagFilters=azureml-model:m:1,x`, undefined, { accept });
    assert.deepEqual(
      r.body.value.map((b: any) => b.id),
      [runs[1]!.id],
    );
    const page1 = await fetch(`${base}?definitions=${p.id}&$top=3`, {
      headers: { authorization: `Bearer ${box.systemAccessToken}`, accept },
    });
    const token = page1.headers.get('x-ms-continuationtoken');
    assert.ok(token, 'continuation token when more remain');
    assert.equal(((await page1.json()) as any).count, 3);
    r = await call('GET', `${base}?definitions=${p.id}&$top=3&continuationToken=${token}`, undefined, { accept });
    assert.deepEqual(
      r.body.value.map((b: any) => b.id),
      [runs[0]!.id],
    );
    const tags = `${base}/${runs[2]!.id}/tags`;
    const denied = await call('POST', tags, ['t'], {
      token: addRestrictedJobToken(box.ctx, ['EditBuildQuality']),
      accept: 'application/json;api-version=7.2-preview.3',
    });
    assert.equal(denied.status, 403);
    assert.match(denied.body.message, /^TF215106: Access denied\. .* needs Edit build quality permissions/);
    r = await call('POST', tags, ['azureml-model:m:2'], { accept: 'application/json;api-version=7.2-preview.3' });
    assert.deepEqual(r.body.value, ['azureml-model:m:2']);
    assert.equal(
      (await call('POST', `${base}/999999/tags`, ['t'], { accept: 'application/json;api-version=7.2-preview.3' }))
        .status,
      404,
    );
  });
  test('create-release validation, api-version rules, auth', async () => {
    const def = addReleaseDefinition(box.ctx, { name: 'cd-raw', model: 'm-raw' });
    const url = `${box.devopsUrl}vsrm/org/${box.projectId}/_apis/Release/releases`;
    const art = (alias: string, instanceReference: unknown) => ({
      definitionId: def.id,
      artifacts: [{ alias, instanceReference }],
    });
    let r = await call('POST', url, art('_nope', { id: '1', name: '1' }));
    assert.equal(r.status, 400);
    assert.match(r.body.message, /alias '_nope' is not found in the release pipeline 'cd-raw'/);
    r = await call('POST', url, art('_m-raw', { name: '1' }));
    assert.equal(r.status, 400);
    assert.match(r.body.message, /instanceReference\.id/);
    r = await call('POST', url, { definitionId: 999, artifacts: [] });
    assert.equal(r.status, 404);
    r = await call('POST', url, art('_m-raw', { id: '1', name: '1' }), { accept: 'application/json' });
    assert.equal(r.status, 400);
    assert.match(r.body.message, /^No api-version was supplied for the POST request/);
    r = await call('POST', url, art('_m-raw', { id: '1', name: '1' }), { accept: 'application/json;api-version=7.2' });
    assert.match(r.body.message, /is under preview\. The -preview flag must be supplied/);
    r = await call('POST', url, art('_m-raw', { id: '1', name: '1' }), { token: null });
    assert.equal(r.status, 401);
    assert.equal(listReleases(box.ctx, def.id).length, 0, 'nothing created by refused calls');
    r = await call('POST', url, art('_m-raw', { id: '1', name: '1' }));
    assert.equal(r.status, 200);
    // approvals: the service's default statusFilter is pending
    const ap = await call(
      'GET',
      `${box.devopsUrl}vsrm/org/${box.projectId}/_apis/Release/approvals?releaseIdsFilter=${r.body.id}`,
    );
    assert.equal(ap.body.count, 1);
    assert.equal(ap.body.value[0].status, 'pending');
    assert.equal(ap.body.value[0].releaseEnvironment.name, 'production');
    // updateReleaseResource: rename needs 'Manage releases'
    const relUrl = `${url}/${r.body.id}`;
    const denied = await call(
      'PATCH',
      relUrl,
      { name: 'x' },
      { token: addRestrictedJobToken(box.ctx, ['ManageReleases']) },
    );
    assert.equal(denied.status, 403);
    assert.match(
      denied.body.message,
      /^VS402904: Access denied: User ml-project Build Service \(org\) does not have manage releases permission\. Contact your release manager\.$/,
    );
    const renamed = await call('PATCH', relUrl, { name: 'Release-1 (m-raw:1)', comment: 'model version' });
    assert.equal(renamed.status, 200);
    assert.equal(listReleases(box.ctx, def.id)[0]!.name, 'Release-1 (m-raw:1)');
  });
});

// after the concurrent cases: faults are box-wide
describe('AzureMLReleaseTrigger@1 under faults', () => {
  test('transient Azure DevOps faults (429/500/503/dropped connections) are retried; still exactly one release', async () => {
    const def = addReleaseDefinition(box.ctx, { name: 'cd-faults', model: 'm-faults' });
    await register('m-faults', '1');
    box.faults.set({ rate: 0.5, hosts: ['devops'], maxConsecutive: 2, seed: 8 }); // seeded: faults on the first requests every run
    try {
      const r = await run({
        mode: 'push',
        target: 'release',
        modelName: 'm-faults',
        modelVersion: '1',
        releaseDefinition: 'cd-faults',
      });
      assert.equal(r.result, 'Succeeded', explain(r));
      assert.ok(Object.values(box.faults.injected).reduce((a, b) => a + b, 0) > 0, 'faults were injected');
    } finally {
      box.faults.reset();
    }
    assert.equal(listReleases(box.ctx, def.id).length, 1);
  });
});
