// `npm run demo` as a test: the flow of scripts/demo.ts (real bundled tasks with the agent's environment against one
// Azure-in-a-box, fast timing) twice on the same state — the whole loop, then the idempotent path.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAzureInABox, type AzureInABox } from '../emulator';
import { listApprovals, listReleases } from '../emulator/devops/release';
import { runDemo, type DemoResult } from '../../scripts/demo';

const MODEL = 'diabetes-classifier';
let box: AzureInABox;
let tmp: string;
const lines: string[] = [];
let first: DemoResult | undefined;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-e2e-'));
  box = await startAzureInABox({ stateDir: path.join(tmp, 'state'), fastLro: true });
});
after(async () => {
  await box?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const demo = () => runDemo({ box, stateDir: box.stateDir, fast: true, outDir: path.join(tmp, 'out'), print: (l) => lines.push(l.replace(/\u001b\[[0-9;]*m/g, '')) });
const tail = () => lines.slice(-60).join('\n');
const notOk = (r: DemoResult) => r.steps.filter((s) => s.status !== 'ok').map((s) => `${s.id}: ${s.status} — ${s.note}`);

interface StoredVersion { name: string; model: string; properties: { modelUri: string; tags: Record<string, string> } }
const versions = () => box.store.list<StoredVersion>('modelVersions').filter((v) => v.model === MODEL);
const endpoint = (name: string) => box.store.list<{ resource: { name: string; properties: { traffic?: Record<string, number> } } }>('onlineEndpoints').find((e) => e.resource.name === name);
const traffic = (name: string) => Object.fromEntries(Object.entries(endpoint(name)?.resource.properties.traffic ?? {}).filter(([, w]) => w > 0));

test('demo, first run: train → evaluate → register → release → staging → approval → AKS blue/green → score', async () => {
  first = await demo();
  assert.deepEqual(notOk(first), [], tail());
  assert.equal(first.ok, true);
  assert.deepEqual(first.steps.map((s) => s.id), ['baseline', 'train', 'evaluate', 'register', 'trigger', 'download', 'deploy-staging', 'approval', 'deploy-aks', 'score']);

  // the challenger beat production (the baseline deployed by the first step) and was registered from the job output
  assert.equal(first.step('evaluate')!.outputs.verdict, 'better', tail());
  const reg = first.step('register')!.outputs;
  assert.equal(reg.modelVersion, '2');
  const v2 = versions().find((v) => v.name === '2');
  assert.equal(v2?.properties.modelUri, `azureml://jobs/${first.step('train')!.outputs.jobName}/outputs/model`);
  assert.equal(versions().length, 2);

  // one release of the sample definition, pinned to that version
  const releases = listReleases(box.ctx);
  assert.equal(releases.length, 1);
  const art = releases[0]!.artifacts.find((a) => a.type === 'AzureMLModel');
  assert.equal(art?.definitionReference.definition?.id, MODEL);
  assert.equal(art?.definitionReference.version.id, '2');
  assert.equal(first.releaseVariables['Release.Artifacts._diabetes-classifier.BuildNumber'], '2');
  assert.equal(first.step('download')!.outputs.modelId, `azureml:${MODEL}:2`);
  assert.ok(fs.existsSync(path.join(first.step('download')!.outputs.modelPath!, 'model.json')), 'the artifact download put the model files on the agent');

  // the approver is recorded on the release's production stage
  const prodApprovals = listApprovals(box.ctx, releases[0]!.id).filter((a) => a.environmentName === 'production' && a.approvalType === 'preDeploy');
  assert.equal(prodApprovals.length, 1);
  assert.equal(prodApprovals[0]!.status, 'approved');
  assert.equal(prodApprovals[0]!.approvedBy?.displayName, 'Grace Hopper');
  // … and on the Azure ML side: the production deployment's tags, the model version's deployed.<stage> tag; the
  // release is renamed with the model version (##vso[release.updatereleasename], applied as the agent does)
  const prodDep = box.store.list<{ resource: { id: string; name: string; tags?: Record<string, string> } }>('onlineDeployments')
    .find((d) => d.resource.id.includes('/onlineEndpoints/diabetes-prod/') && d.resource.name === first!.step('deploy-aks')!.outputs.deploymentName);
  assert.match(prodDep?.resource.tags?.['azdo.approvedBy'] ?? '', /Grace Hopper/);
  assert.match(versions().find((v) => v.name === '2')?.properties.tags['deployed.production'] ?? '', /Release-1/);
  assert.match(listReleases(box.ctx)[0]!.name, /diabetes-classifier:2/);

  // staging serves v2; production moved from the baseline deployment to the new one and answers from it
  const newDep = first.step('deploy-aks')!.outputs.deploymentName!;
  assert.deepEqual(traffic('diabetes-staging'), { [first.step('deploy-staging')!.outputs.deploymentName!]: 100 });
  assert.deepEqual(JSON.parse(first.step('deploy-aks')!.outputs.trafficBefore!), { [first.step('baseline')!.outputs.deploymentName!]: 100 });
  assert.deepEqual(traffic('diabetes-prod'), { [newDep]: 100 });
  assert.equal(first.step('deploy-aks')!.outputs.modelId, `azureml:${MODEL}:2`);
  const score = first.step('score')!.facts as { status: number; servedBy: string; response: string };
  assert.equal(score.status, 200);
  assert.equal(score.servedBy, newDep);
  assert.deepEqual(JSON.parse(score.response).predictions, [1, 0]);

  // what a person reads: per-step timing and the closing pointers
  assert.match(lines.join('\n'), /✔ deploy-aks .* in \d+\.\d s/);
  assert.match(lines.join('\n'), /Where to look/);
});

test('demo, second run on the same state: no new version, no new release, no traffic change', async (t) => {
  if (!first?.ok) return t.skip('first run failed');
  const before = { versions: versions().length, releases: listReleases(box.ctx).length, staging: traffic('diabetes-staging'), prod: traffic('diabetes-prod') };
  lines.length = 0;
  const second = await demo();
  assert.deepEqual(notOk(second), [], tail());
  assert.match(second.step('baseline')!.note ?? '', /already exists/);
  assert.equal(second.step('train')!.outputs.jobName, first.step('train')!.outputs.jobName);
  assert.equal(second.step('evaluate')!.outputs.verdict, 'already-in-production');
  assert.equal(second.step('register')!.outputs.modelVersion, '2');
  assert.equal(versions().length, before.versions);
  assert.equal(second.step('trigger')!.facts.created, 0);
  assert.equal(second.step('trigger')!.outputs.releaseId, first.step('trigger')!.outputs.releaseId);
  assert.equal(listReleases(box.ctx).length, before.releases);
  assert.match(second.step('deploy-staging')!.note ?? '', /already serving, no traffic change/);
  assert.match(second.step('deploy-aks')!.note ?? '', /already serving, no traffic change/);
  assert.deepEqual(traffic('diabetes-staging'), before.staging);
  assert.deepEqual(traffic('diabetes-prod'), before.prod);
  assert.equal((second.step('score')!.facts as { servedBy: string }).servedBy, first.step('deploy-aks')!.outputs.deploymentName);
});
