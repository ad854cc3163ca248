// Release governance end to end: a release of the seeded 'model-cd' definition is started with the bundled
// AzureMLReleaseTrigger task, an approver approves the production stage in the emulated Azure DevOps, then the
// bundled AzureMLModelDeploy task runs as the production stage's job: approvals land on the deployment's tags, the
// model version is tagged deployed.production=<release>, the release is renamed to include the model version and
// the model card (evaluation, lineage, smoke test, approvals) is uploaded as a summary.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startAzureInABox, type AzureInABox } from '../emulator';
import { REPO_ROOT, runBundledTask, type TaskRunWithLeaks, explainRun } from '../helpers/agent';
import {
  approve,
  getDefinition,
  listReleases,
  releaseHostUrl,
  SEED_DEFINITION,
  SEED_MODEL,
} from '../emulator/devops/release';

const FIX = path.join(REPO_ROOT, 'test', 'fixtures', 'scoring');
let box: AzureInABox;
let cwd: string;

const explain = (r: TaskRunWithLeaks) => explainRun(r, { stderrChars: 1500 });

before(async () => {
  box = await startAzureInABox({ fastLro: true });
  cwd = mkdtempSync(path.join(tmpdir(), 'governance-e2e-'));
  cpSync(path.join(FIX, 'ok'), path.join(cwd, 'ok'), { recursive: true });
  cpSync(path.join(FIX, 'sample-request.json'), path.join(cwd, 'sample-request.json'));
  mkdirSync(path.join(cwd, 'm1', 'model'), { recursive: true });
  writeFileSync(
    path.join(cwd, 'm1', 'model', 'model.json'),
    JSON.stringify({ weights: [1, 2, 3], bias: 0.5, version: 'v1' }),
  );
  writeFileSync(
    path.join(cwd, 'evaluation.json'),
    JSON.stringify({
      schema: 'azureml-devops/model-evaluation@1',
      isBetter: true,
      verdict: 'better',
      message: 'Better than production on accuracy.',
      baseline: {
        found: true,
        side: {
          id: 'azureml:diabetes-classifier:0',
          label: 'model diabetes-classifier:0 (deployment blue, 100% traffic)',
        },
      },
      results: [
        {
          name: 'accuracy',
          direction: 'higher',
          candidate: 0.91,
          baseline: 0.87,
          delta: 0.04,
          relative: 4.6,
          passed: true,
          reason: 'better than production',
        },
      ],
    }),
  );
});
after(async () => {
  await box?.stop();
});

test('approvals recorded on the deployment, model version tagged deployed.<stage>, release renamed, model card', async () => {
  const reg = await runBundledTask('AzureMLModelRegister', {
    box,
    scheme: 'secret',
    cwd,
    timeoutMs: 30_000,
    inputs: {
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      modelName: SEED_MODEL,
      modelPath: 'm1/model',
      modelType: 'custom_model',
      tags: 'evaluation=passed',
      evaluationFile: 'evaluation.json',
    },
  });
  assert.equal(reg.result, 'Succeeded', explain(reg));
  const version = reg.outputs.modelVersion!;
  const recorded = box.store
    .list<{ name: string; model: string; properties: { properties: Record<string, string> } }>('modelVersions')
    .find((v) => v.model === SEED_MODEL && v.name === version)!;
  assert.equal(
    JSON.parse(recorded.properties.properties['azureml-devops.evaluation']!).results[0].candidate,
    0.91,
    'evaluation recorded on the version',
  );

  // CI: the trigger starts the release with this version
  const trig = await runBundledTask('AzureMLReleaseTrigger', {
    box,
    scheme: 'secret',
    timeoutMs: 30_000,
    inputs: {
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      mode: 'push',
      target: 'release',
      modelName: SEED_MODEL,
      modelVersion: version,
      releaseDefinition: SEED_DEFINITION,
    },
  });
  assert.equal(trig.result, 'Succeeded', explain(trig));
  const def = getDefinition(box.ctx, SEED_DEFINITION)!;
  const [rel] = listReleases(box.ctx, def.id);
  assert.equal(String(rel!.id), trig.outputs.releaseId);

  // an approver approves production in the web UI
  approve(box.ctx, rel!.id, 'production', 'Alice Smith', 'metrics reviewed, go');
  const prod = rel!.environments.find((e) => e.name === 'production')!;
  const alias = rel!.artifacts[0]!.alias;

  // the production stage's deploy job (classic release: System.HostType=release, artifact variables)
  const dep = await runBundledTask('AzureMLModelDeploy', {
    box,
    scheme: 'secret',
    cwd,
    timeoutMs: 45_000,
    inputs: {
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      endpointName: 'ep-gov',
      codePath: 'ok',
      scoringScript: 'score.py',
      environment: 'azureml:AzureML-sklearn-1.5:1',
      sampleRequestFile: 'sample-request.json',
      smokeRequests: '3',
      healthCheckRequests: '1',
      modelArtifactAlias: alias, // no evaluationFile: the release agent has none; the card reads the version's
    },
    variables: {
      'System.HostType': 'release',
      'Release.ReleaseId': String(rel!.id),
      'Release.ReleaseName': rel!.name,
      'Release.ReleaseWebUrl': `${box.collectionUri}${box.projectName}/_releaseProgress?releaseId=${rel!.id}`,
      'Release.DefinitionName': SEED_DEFINITION,
      'Release.EnvironmentName': 'production',
      'Release.EnvironmentId': String(prod.id),
      [`Release.Artifacts.${alias}.Type`]: 'AzureMLModel',
      [`Release.Artifacts.${alias}.DefinitionName`]: SEED_MODEL,
      [`Release.Artifacts.${alias}.DefinitionId`]: SEED_MODEL,
      [`Release.Artifacts.${alias}.BuildNumber`]: version,
      [`Release.Artifacts.${alias}.BuildId`]: version,
      'Release.PrimaryArtifactSourceAlias': alias,
    },
  });
  assert.equal(dep.result, 'Succeeded', explain(dep));
  assert.equal(dep.outputs.modelId, `azureml:${SEED_MODEL}:${version}`);

  // approvals on the deployment (Azure ML side)
  const d = box.store
    .list<{ resource: { id: string; tags: Record<string, string> } }>('onlineDeployments')
    .map((x) => x.resource)
    .find((x) => x.id.includes('/onlineEndpoints/ep-gov/'))!;
  assert.equal(d.tags['azdo.approvedBy'], 'Alice Smith');
  assert.match(d.tags['azdo.approvedOn'] ?? '', /^\d{4}-\d\d-\d\dT/);
  assert.equal(d.tags['azdo.approvalComments'], 'metrics reviewed, go');
  assert.equal(d.tags['azdo.releaseId'], String(rel!.id));
  assert.equal(d.tags['azdo.stage'], 'production');

  // the model version carries deployed.production=<release>
  const mv = box.store
    .list<{ name: string; model: string; properties: { tags: Record<string, string> } }>('modelVersions')
    .find((v) => v.model === SEED_MODEL && v.name === version)!;
  assert.equal(mv.properties.tags['deployed.production'], rel!.name);
  assert.equal(mv.properties.tags.evaluation, 'passed', 'existing tags kept');

  // the release name gets the model version (agent logging command)
  const rn = dep.commands.filter((c) => c.name === 'release.updatereleasename');
  assert.deepEqual(
    rn.map((c) => c.data),
    [`${rel!.name} (${SEED_MODEL}:${version})`],
  );

  // the model card for approvers (metrics vs production from the evaluation recorded on the version at registration)
  const card = dep.summaries.find((s) => s.startsWith('### Model card'));
  assert.ok(card, `model card summary (got ${dep.summaries.map((s) => s.split('\n')[0]).join(' / ')})`);
  assert.match(card!, new RegExp(`Model card: ${SEED_MODEL.replace(/-/g, '\\-')}:${version}`));
  assert.match(card!, /\| accuracy \(higher is better\) \| 0\.91 \| 0\.87 \| \+0\.04 \(4\.6% better\) \| ✅/);
  assert.match(card!, /\| Build \| \[azureml-ci 4242\]\(https:\/\/.*buildId=4242\) \|/);
  assert.match(card!, /Smoke test \| 3\/3 ok, p50 \d+ ms/);
  assert.match(card!, /\| Alice Smith \| .* \| metrics reviewed, go \|/);
  assert.match(card!, /ml\.azure\.com\/model\/diabetes-classifier:1\/details/);

  // rerun of the stage: nothing re-tagged, no second rename
  const again = await runBundledTask('AzureMLModelDeploy', {
    box,
    scheme: 'secret',
    cwd,
    timeoutMs: 45_000,
    inputs: {
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      endpointName: 'ep-gov',
      codePath: 'ok',
      scoringScript: 'score.py',
      environment: 'azureml:AzureML-sklearn-1.5:1',
      sampleRequestFile: 'sample-request.json',
      smokeRequests: '3',
      healthCheckRequests: '1',
      model: `azureml:${SEED_MODEL}:${version}`,
    },
    variables: {
      'System.HostType': 'release',
      'Release.ReleaseId': String(rel!.id),
      'Release.ReleaseName': `${rel!.name} (${SEED_MODEL}:${version})`,
      'Release.EnvironmentName': 'production',
      'Release.EnvironmentId': String(prod.id),
    },
  });
  assert.equal(again.result, 'Succeeded', explain(again));
  assert.equal(again.commands.filter((c) => c.name === 'release.updatereleasename').length, 0);
  const tagsOf = () =>
    box.store
      .list<{ resource: { id: string; name: string; tags: Record<string, string> } }>('onlineDeployments')
      .map((x) => x.resource)
      .filter((x) => x.id.includes('/onlineEndpoints/ep-gov/'));
  assert.deepEqual(
    tagsOf().map((x) => x.tags['azdo.approvedBy']),
    ['Alice Smith'],
    'the rerun of the same release wrote nothing',
  );

  // release B of the same model version (created by hand in the web UI), production approved by Bob: the deployment
  // already serves that model, so it is not redeployed — only its tags now say release B / Bob
  const res = await fetch(`${releaseHostUrl(box.ctx)}${box.projectName}/_apis/release/releases?api-version=7.1`, {
    method: 'POST',
    headers: { authorization: `Bearer ${box.systemAccessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      definitionId: def.id,
      description: 'redeploy',
      artifacts: [{ alias, instanceReference: { id: version, name: version } }],
    }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const relB = (await res.json()) as { id: number; name: string; environments: Array<{ id: number; name: string }> };
  approve(box.ctx, relB.id, 'production', 'Bob Jones', 'redeploy ok');
  const prodB = relB.environments.find((e) => e.name === 'production')!;
  const varsB = {
    'System.HostType': 'release',
    'Release.ReleaseId': String(relB.id),
    'Release.ReleaseName': relB.name,
    'Release.ReleaseWebUrl': `${box.collectionUri}${box.projectName}/_releaseProgress?releaseId=${relB.id}`,
    'Release.DefinitionName': SEED_DEFINITION,
    'Release.EnvironmentName': 'production',
    'Release.EnvironmentId': String(prodB.id),
    [`Release.Artifacts.${alias}.Type`]: 'AzureMLModel',
    [`Release.Artifacts.${alias}.DefinitionName`]: SEED_MODEL,
    [`Release.Artifacts.${alias}.BuildNumber`]: version,
    'Release.PrimaryArtifactSourceAlias': alias,
  };
  const inputsB = {
    resourceGroup: box.resourceGroup,
    workspace: box.workspace,
    endpointName: 'ep-gov',
    codePath: 'ok',
    scoringScript: 'score.py',
    environment: 'azureml:AzureML-sklearn-1.5:1',
    sampleRequestFile: 'sample-request.json',
    smokeRequests: '3',
    healthCheckRequests: '1',
  };
  const trafficBefore = {
    ...box.store
      .list<{ resource: { name: string; properties: { traffic: Record<string, number> } } }>('onlineEndpoints')
      .find((e) => e.resource.name === 'ep-gov')!.resource.properties.traffic,
  };
  const mark = box.requests.length;
  const b = await runBundledTask('AzureMLModelDeploy', {
    box,
    scheme: 'secret',
    cwd,
    timeoutMs: 45_000,
    inputs: inputsB,
    variables: varsB,
  });
  assert.equal(b.result, 'Succeeded', explain(b));
  assert.match(b.stdout, /not redeployed; tags updated: /);
  const writes = box.requests
    .slice(mark)
    .filter((q) => ['PUT', 'PATCH', 'DELETE'].includes(q.method) && q.url.includes('/onlineEndpoints/'))
    .map((q) => `${q.method} ${new URL(q.url, 'https://x').pathname.replace(/^.*\/onlineEndpoints\//, '')}`);
  assert.deepEqual(
    writes,
    [`PATCH ep-gov/deployments/${tagsOf()[0]!.name}`],
    'one PATCH of the tags: no new deployment, no traffic change',
  );
  const [dB, ...more] = tagsOf();
  assert.equal(more.length, 0);
  assert.equal(dB!.tags['azdo.releaseId'], String(relB.id));
  assert.equal(dB!.tags['azdo.release'], relB.name);
  assert.equal(dB!.tags['azdo.approvedBy'], 'Bob Jones');
  assert.equal(dB!.tags['azdo.approvalComments'], 'redeploy ok');
  assert.equal(dB!.tags['azureml-devops.modelId'], `azureml:${SEED_MODEL}:${version}`);
  assert.deepEqual(
    box.store
      .list<{ resource: { name: string; properties: { traffic: Record<string, number> } } }>('onlineEndpoints')
      .find((e) => e.resource.name === 'ep-gov')!.resource.properties.traffic,
    trafficBefore,
  );
  // and a rerun of release B's stage writes nothing
  const mark2 = box.requests.length;
  const b2 = await runBundledTask('AzureMLModelDeploy', {
    box,
    scheme: 'secret',
    cwd,
    timeoutMs: 45_000,
    inputs: inputsB,
    variables: varsB,
  });
  assert.equal(b2.result, 'Succeeded', explain(b2));
  assert.deepEqual(
    box.requests
      .slice(mark2)
      .filter((q) => ['PUT', 'PATCH', 'DELETE'].includes(q.method) && q.url.includes('/onlineEndpoints/'))
      .map((q) => q.url),
    [],
  );
});
