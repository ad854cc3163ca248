// `npm run demo` as a test: the flow of scripts/demo.ts (real bundled tasks with the agent's environment, the agentless
// AzureMLJobWait@1 run by the emulated server, against one Azure-in-a-box, fast timing) twice on the same state — the
// whole loop (prepare → agentless PUT wait → evaluate/register → release …), then the idempotent path.
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

const demo = () =>
  runDemo({
    box,
    stateDir: box.stateDir,
    fast: true,
    outDir: path.join(tmp, 'out'),
    print: (l) => lines.push(l.replace(/\u001b\[[0-9;]*m/g, '')),
  });
const tail = () => lines.slice(-60).join('\n');
const notOk = (r: DemoResult) =>
  r.steps.filter((s) => s.status !== 'ok').map((s) => `${s.id}: ${s.status} — ${s.note}`);

interface StoredVersion {
  name: string;
  model: string;
  properties: { modelUri: string; tags: Record<string, string> };
}
const versions = () => box.store.list<StoredVersion>('modelVersions').filter((v) => v.model === MODEL);
const endpoint = (name: string) =>
  box.store
    .list<{ resource: { name: string; properties: { traffic?: Record<string, number> } } }>('onlineEndpoints')
    .find((e) => e.resource.name === name);
const traffic = (name: string) =>
  Object.fromEntries(Object.entries(endpoint(name)?.resource.properties.traffic ?? {}).filter(([, w]) => w > 0));
/** requests on the training job's ARM resource (path ends in /jobs/<name>), by method */
const jobRequests = (name: string, method: string) =>
  box.requests.filter(
    (q) => q.host === 'arm' && q.method === method && q.url.split('?')[0]!.toLowerCase().endsWith(`/jobs/${name}`),
  );
/** cancel requests for the training job (POST …/jobs/<name>/cancel) */
const jobCancels = (name: string) =>
  box.requests.filter(
    (q) =>
      q.host === 'arm' && q.method === 'POST' && q.url.split('?')[0]!.toLowerCase().endsWith(`/jobs/${name}/cancel`),
  );

test('demo, first run: prepare → agentless PUT wait → evaluate → register → release → staging → approval → health gate → AKS blue/green → score → the gate failing on an erroring endpoint', async () => {
  first = await demo();
  assert.deepEqual(notOk(first), [], tail());
  assert.equal(first.ok, true);
  assert.deepEqual(
    first.steps.map((s) => s.id),
    [
      'baseline',
      'submit',
      'wait',
      'evaluate',
      'register',
      'trigger',
      'download',
      'deploy-staging',
      'approval',
      'gate',
      'deploy-aks',
      'score',
      'drift',
      'gate-errors',
    ],
  );

  // the agent job only prepared the job (no job yet, a jobDefinition output); the agentless job CREATED it with one PUT
  // (the preview api-version) carrying the webhook, then read nothing: Azure ML's TaskCompleted event ended it, within
  // 2 s of the job's end; nothing was cancelled (no race to work around), and the step's result is its timeline record
  const sub = first.step('submit')!;
  const jobName = sub.outputs.jobName!;
  assert.equal(sub.facts.reused, false);
  assert.equal(sub.outputs.status, 'Prepared');
  assert.match(sub.outputs.jobDefinition ?? '', /^"jobType":"Command",.*,$/s);
  const wait = first.step('wait')!.facts as {
    mode: string;
    method: string;
    existedBefore: boolean;
    result: string;
    timeline: unknown;
    reason: string;
    status: string;
    noticeMs: number;
    armReadsWhileWaiting: number;
    events: number;
    studioUrl?: string;
  };
  assert.deepEqual(
    {
      mode: wait.mode,
      method: wait.method,
      existedBefore: wait.existedBefore,
      result: wait.result,
      timeline: wait.timeline,
      reason: wait.reason,
      status: wait.status,
      armReadsWhileWaiting: wait.armReadsWhileWaiting,
      events: wait.events,
    },
    {
      mode: 'PUT',
      method: 'PUT',
      existedBefore: false,
      result: 'succeeded',
      timeline: { result: 'succeeded' },
      reason: 'event',
      status: 'Completed',
      armReadsWhileWaiting: 0,
      events: 1,
    },
    tail(),
  );
  assert.ok(wait.noticeMs >= 0 && wait.noticeMs < 2000, `notice ${wait.noticeMs} ms after the job ended`);
  const puts = jobRequests(jobName, 'PUT');
  assert.equal(puts.length, 1, 'the job was created once, by the server task');
  assert.match(puts[0]!.url, /api-version=2023-04-01-preview/);
  assert.equal(jobRequests(jobName, 'PATCH').length, 0);
  assert.equal(jobCancels(jobName).length, 0, 'the wait (or the demo) cancelled the job');
  // the webhook came with the creation request: the stored job carries it under this plan's timeline id
  const stored = box.store
    .list<{
      name: string;
      properties: { notificationSetting?: { webhooks?: Record<string, { webhookType: string }> } };
    }>('jobs')
    .find((j) => j.name === jobName);
  assert.deepEqual(
    Object.values(stored?.properties.notificationSetting?.webhooks ?? {}).map((w) => w.webhookType),
    ['AzureDevOps'],
  );
  // the step's log (the server's lines) and what it prints: the studio link from the logged response, the timeline result
  const serverLog =
    first
      .step('wait')!
      .logs.find((l) => l.task === 'AzureMLJobWait')
      ?.lines.join('\n') ?? '';
  assert.match(serverLog, new RegExp(`^PUT https://\\S+/jobs/${jobName}\\?api-version=2023-04-01-preview$`, 'm'));
  assert.match(serverLog, /^Response Code: Created$/m);
  assert.match(wait.studioUrl ?? '', new RegExp(`^https://ml\\.azure\\.com/runs/${jobName}\\?wsid=`));
  assert.ok(
    serverLog.includes(JSON.stringify(wait.studioUrl).slice(1, -1)),
    'the studio link is not the one in the server log',
  );
  const out = lines.join('\n');
  assert.ok(out.includes(`studio ${wait.studioUrl}`), 'the studio link is not printed');
  assert.match(out, /timeline record {2}succeeded/);
  assert.match(
    out,
    /agentless wait {2}job Completed · noticed \d+ ms after it ended · 0 ARM request\(s\) while waiting/,
  );
  assert.doesNotMatch(out, /TaskCompleted event: /, 'the server logs no line for the event');

  // the challenger beat production (the baseline deployed by the first step) and was registered from the job output
  assert.equal(first.step('evaluate')!.outputs.verdict, 'better', tail());
  const reg = first.step('register')!.outputs;
  assert.equal(reg.modelVersion, '2');
  const v2 = versions().find((v) => v.name === '2');
  assert.equal(v2?.properties.modelUri, `azureml://jobs/${jobName}/outputs/model`);
  assert.equal(versions().length, 2);

  // one release of the sample definition, pinned to that version
  const releases = listReleases(box.ctx);
  assert.equal(releases.length, 1);
  const art = releases[0]!.artifacts.find((a) => a.type === 'AzureMLModel');
  assert.equal(art?.definitionReference.definition?.id, MODEL);
  assert.equal(art?.definitionReference.version.id, '2');
  assert.equal(first.releaseVariables['Release.Artifacts._diabetes-classifier.BuildNumber'], '2');
  assert.equal(first.step('download')!.outputs.modelId, `azureml:${MODEL}:2`);
  assert.ok(
    fs.existsSync(path.join(first.step('download')!.outputs.modelPath!, 'model.json')),
    'the artifact download put the model files on the agent',
  );

  // the approver is recorded on the release's production stage
  const prodApprovals = listApprovals(box.ctx, releases[0]!.id).filter(
    (a) => a.environmentName === 'production' && a.approvalType === 'preDeploy',
  );
  assert.equal(prodApprovals.length, 1);
  assert.equal(prodApprovals[0]!.status, 'approved');
  assert.equal(prodApprovals[0]!.approvedBy?.displayName, 'Grace Hopper');
  // … and on the Azure ML side: the production deployment's tags, the model version's deployed.<stage> tag; the
  // release is renamed with the model version (##vso[release.updatereleasename], applied as the agent does)
  const prodDep = box.store
    .list<{ resource: { id: string; name: string; tags?: Record<string, string> } }>('onlineDeployments')
    .find(
      (d) =>
        d.resource.id.includes('/onlineEndpoints/diabetes-prod/') &&
        d.resource.name === first!.step('deploy-aks')!.outputs.deploymentName,
    );
  assert.match(prodDep?.resource.tags?.['azdo.approvedBy'] ?? '', /Grace Hopper/);
  assert.match(versions().find((v) => v.name === '2')?.properties.tags['deployed.production'] ?? '', /Release-1/);
  assert.match(listReleases(box.ctx)[0]!.name, /diabetes-classifier:2/);

  // staging serves v2; production moved from the baseline deployment to the new one and answers from it
  const newDep = first.step('deploy-aks')!.outputs.deploymentName!;
  assert.deepEqual(traffic('diabetes-staging'), { [first.step('deploy-staging')!.outputs.deploymentName!]: 100 });
  assert.deepEqual(JSON.parse(first.step('deploy-aks')!.outputs.trafficBefore!), {
    [first.step('baseline')!.outputs.deploymentName!]: 100,
  });
  assert.deepEqual(traffic('diabetes-prod'), { [newDep]: 100 });
  assert.equal(first.step('deploy-aks')!.outputs.modelId, `azureml:${MODEL}:2`);
  const score = first.step('score')!.facts as { status: number; servedBy: string; response: string };
  assert.equal(score.status, 200);
  assert.equal(score.servedBy, newDep);
  assert.deepEqual(JSON.parse(score.response).predictions, [1, 0]);

  // issue 12: production collected its inputs (deploy-aks with dataCollection); the drift check against the training
  // job's input names exactly the two shifted features (glucose, BMI), not the two sent as trained (age, blood pressure)
  const drift = first.step('drift')!;
  assert.equal(drift.outputs.driftDetected, 'true', tail());
  assert.equal(drift.outputs.driftedFeatures, 'glucose,bmi');
  const fm = JSON.parse(drift.outputs.featureMetrics!) as Record<string, { value: number; threshold: number }>;
  assert.ok(fm.glucose!.value > 1 && fm.bmi!.value > 1, drift.outputs.featureMetrics);
  assert.equal(fm.age!.value, 0);
  assert.equal(fm.blood_pressure!.value, 0);
  assert.match(drift.note ?? '', /drift detected in glucose,bmi: retraining azureml-drift-4300-retrain/);
  // … and the retraining started: the job exists in the workspace, tagged with what drifted
  const retrainJob = box.store
    .list<{ name: string; properties: { experimentName: string; tags: Record<string, string> } }>('jobs')
    .find((j) => j.name === 'azureml-drift-4300-retrain');
  assert.equal(retrainJob?.properties.experimentName, 'retrain-on-drift');
  assert.equal(retrainJob?.properties.tags.drifted, 'glucose,bmi');
  assert.match(lines.join('\n'), /Read 300 reference row\(s\) and 300 production row\(s\)/);

  // the health gate (production's first task in the sample release) passed on staging's own metrics, before deploy-aks
  const gate = first.step('gate')!;
  assert.equal(gate.outputs.verdict, 'passed', tail());
  assert.ok(Number(gate.outputs.requests) >= 20, `staging requests in the window: ${gate.outputs.requests}`);
  assert.equal(gate.outputs.errors, '0');
  assert.match(gate.summaries.map((x) => x.markdown).join('\n'), /### Endpoint health diabetes-staging: passed/);
  // … and failed on the endpoint that returns errors, with the evidence: exactly the 424s its traffic got; the
  // production deploy did not run and production's traffic did not move
  const bad = first.step('gate-errors')!.facts as {
    result: string;
    message: string;
    verdict: string;
    requests: number;
    errors: number;
    sent: Record<string, number>;
    prodBefore: unknown;
    prodAfter: unknown;
  };
  assert.equal(bad.result, 'Failed');
  assert.equal(bad.verdict, 'failed');
  assert.ok((bad.sent['424'] ?? 0) > 0 && (bad.sent['200'] ?? 0) > 0, JSON.stringify(bad.sent));
  assert.equal(bad.requests, 20);
  assert.equal(bad.errors, bad.sent['424']);
  assert.match(
    bad.message,
    new RegExp(
      `^Endpoint health failed: error share [\\d.]+ % \\(${bad.errors} of 20 requests answered 5xx, 424 or 408\\) > maxErrorPercent 1 % \\[requests 20 \\(200: ${bad.sent['200']}, 424: ${bad.errors}\\)`,
    ),
  );
  assert.match(lines.join('\n'), /production, job 2 'Deploy to production' not run: condition succeeded\(\)/);
  assert.deepEqual(bad.prodAfter, { [newDep]: 100 });
  assert.deepEqual(bad.prodBefore, bad.prodAfter);
  assert.match(
    first
      .step('gate-errors')!
      .summaries.map((x) => x.markdown)
      .join('\n'),
    /### Endpoint health diabetes-faulty: failed/,
  );

  // what a person reads: per-step timing and the closing pointers
  assert.match(lines.join('\n'), /✔ deploy-aks .* in \d+\.\d s/);
  assert.match(lines.join('\n'), /Where to look/);
});

test('demo, second run on the same state: nothing created or waited for, no new version, no new release, no traffic change', async (t) => {
  if (!first?.ok) return t.skip('first run failed');
  const jobName = first.step('submit')!.outputs.jobName!;
  const before = {
    versions: versions().length,
    releases: listReleases(box.ctx).length,
    staging: traffic('diabetes-staging'),
    prod: traffic('diabetes-prod'),
    faulty: traffic('diabetes-faulty'),
    patches: jobRequests(jobName, 'PATCH').length,
    puts: jobRequests(jobName, 'PUT').length,
  };
  lines.length = 0;
  const second = await demo();
  assert.deepEqual(notOk(second), [], tail());
  assert.match(second.step('baseline')!.note ?? '', /already exists/);
  assert.equal(second.step('submit')!.outputs.jobName, jobName);
  assert.equal(second.step('submit')!.facts.reused, true);
  assert.equal(second.step('submit')!.outputs.status, 'Completed');
  assert.equal(second.step('submit')!.outputs.jobDefinition, undefined);
  // prepare's rerun path is quiet: a Completed job is not a warning (the step would be SucceededWithIssues)
  assert.deepEqual(
    second
      .step('submit')!
      .logs.flatMap((l) => l.lines)
      .filter((l) => l.startsWith('##[warning]')),
    [],
  );
  assert.match(
    second
      .step('submit')!
      .logs.flatMap((l) => l.lines)
      .join('\n'),
    /has completed: nothing to create or wait for/,
  );
  assert.deepEqual(second.step('wait')!.facts, { skipped: true, status: 'Completed' });
  assert.match(
    lines.join('\n'),
    /the conditions of the sample's wait jobs \(Wait: eq\(dependencies\.Submit\.outputs\['train\.status'\], 'Prepared'\), WaitExisting: notIn\(…, 'Prepared', 'Completed'\)\) skip both/,
  );
  assert.equal(jobRequests(jobName, 'PUT').length, before.puts, 'the job was created again');
  assert.equal(jobRequests(jobName, 'PATCH').length, before.patches, 'a webhook was armed on a job that had ended');
  assert.equal(jobCancels(jobName).length, 0);
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
  assert.equal(
    (second.step('score')!.facts as { servedBy: string }).servedBy,
    first.step('deploy-aks')!.outputs.deploymentName,
  );
  // the gate passes again on staging and fails again on the erroring endpoint (redeployed: nothing to change)
  assert.equal(second.step('gate')!.outputs.verdict, 'passed');
  assert.equal((second.step('gate-errors')!.facts as { verdict: string }).verdict, 'failed');
  assert.equal(second.step('drift')!.outputs.driftedFeatures, 'glucose,bmi');
  assert.equal(second.step('drift')!.facts.retrainJob, 'azureml-drift-4300-retrain');
  assert.match(
    (second.step('gate-errors')!.facts as { faultyDeploy: string }).faultyDeploy,
    /already serving, no traffic change/,
  );
  assert.deepEqual(traffic('diabetes-faulty'), before.faulty);
});
