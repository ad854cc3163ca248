// AzureMLModelDeploy@1 end to end: the bundled task against Azure-in-a-box (one box, fast LROs). Models are registered
// with the bundled AzureMLModelRegister task; every deployment really serves (scoring hosts running
// test/fixtures/scoring/{ok,crash}/score.py); the box's request log proves what was (not) written.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startAzureInABox, type AzureInABox } from '../emulator';
import { REPO_ROOT, runBundledTask, type RunOptions, type TaskRunWithLeaks } from '../helpers/agent';

const FIX = path.join(REPO_ROOT, 'test', 'fixtures', 'scoring');
const CORPUS = path.join(REPO_ROOT, 'test', 'fixtures', 'third-party', 'azureml-examples', 'cli');
const ENV = 'azureml:AzureML-sklearn-1.5:1';
let box: AzureInABox;
let cwd: string;

interface Stored {
  resource: { name: string; tags: Record<string, string>; properties: Record<string, any> };
  mirrorHistory?: Array<Record<string, number>>;
  mirrored?: { requests: number; failed: number };
}
const endpointOf = (name: string) =>
  box.store.list<Stored>('onlineEndpoints').find((e) => e.resource.name === name)?.resource;
const endpointRecordOf = (name: string) =>
  box.store.list<Stored>('onlineEndpoints').find((e) => e.resource.name === name);
const deploymentRecordOf = (ep: string, d: string) =>
  box.store
    .list<Stored>('onlineDeployments')
    .find((x) => (x as any).resource.id.includes(`/onlineEndpoints/${ep}/deployments/${d}`));
const trafficOf = (name: string) => ({ ...(endpointOf(name)?.properties.traffic ?? {}) }) as Record<string, number>;
const deploymentsOf = (ep: string) =>
  box.store
    .list<Stored>('onlineDeployments')
    .filter((d) => d.resource.properties && (d as any).resource.id.includes(`/onlineEndpoints/${ep}/`))
    .map((d) => d.resource);

function explain(r: TaskRunWithLeaks): string {
  return `result=${r.result} message=${r.message}\n--- stdout (tail)\n${r.stdout
    .split('\n')
    .filter((l) => !l.startsWith('##vso[task.debug'))
    .slice(-40)
    .join('\n')}\n--- stderr\n${r.stderr.slice(-2000)}`;
}

/** writes (PUT/PATCH/DELETE, and POSTs other than reads) a run made, optionally only those under one endpoint */
function writesSince(from: number, endpoint?: string): string[] {
  return box.requests
    .slice(from)
    .filter(
      (q) =>
        q.method === 'PUT' ||
        q.method === 'PATCH' ||
        q.method === 'DELETE' ||
        (q.method === 'POST' && !/\/(listKeys|token|getLogs|listSecrets)\b|\/oauth2\/|\/score$|_apis\//.test(q.url)),
    )
    .filter((q) => !endpoint || q.url.includes(`/onlineEndpoints/${endpoint}`))
    .map((q) => `${q.method} ${q.url}`);
}

async function deploy(inputs: Record<string, string>, opts: Partial<RunOptions> = {}): Promise<TaskRunWithLeaks> {
  return runBundledTask('AzureMLModelDeploy', {
    box,
    scheme: 'secret',
    timeoutMs: 45_000,
    cwd,
    ...opts,
    inputs: {
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      codePath: 'ok',
      scoringScript: 'score.py',
      environment: ENV,
      sampleRequestFile: 'sample-request.json',
      smokeRequests: '5',
      healthCheckRequests: '3',
      ...inputs,
    },
  });
}

before(async () => {
  box = await startAzureInABox({ fastLro: true });
  cwd = mkdtempSync(path.join(tmpdir(), 'deploy-e2e-'));
  cpSync(path.join(FIX, 'ok'), path.join(cwd, 'ok'), { recursive: true });
  cpSync(path.join(FIX, 'crash'), path.join(cwd, 'crash'), { recursive: true });
  cpSync(path.join(FIX, 'degrading'), path.join(cwd, 'degrading'), { recursive: true });
  cpSync(path.join(FIX, 'sample-request.json'), path.join(cwd, 'sample-request.json'));
  // two versions of the fixture model: weights [1,2,3] + 0.5 → [6.5, 6.5]; v2 adds 1 to the bias → [7.5, 7.5]
  mkdirSync(path.join(cwd, 'm1', 'model'), { recursive: true });
  mkdirSync(path.join(cwd, 'm2', 'model'), { recursive: true });
  writeFileSync(
    path.join(cwd, 'm1', 'model', 'model.json'),
    JSON.stringify({ weights: [1, 2, 3], bias: 0.5, version: 'v1' }),
  );
  writeFileSync(
    path.join(cwd, 'm2', 'model', 'model.json'),
    JSON.stringify({ weights: [1, 2, 3], bias: 1.5, version: 'v2' }),
  );
  const reg = (p: string, version: string) =>
    runBundledTask('AzureMLModelRegister', {
      box,
      scheme: 'secret',
      cwd,
      timeoutMs: 30_000,
      inputs: {
        resourceGroup: box.resourceGroup,
        workspace: box.workspace,
        modelName: 'churn',
        modelPath: `${p}/model`,
        modelType: 'custom_model',
        version,
      },
    });
  const [a, b] = await Promise.all([reg('m1', '1'), reg('m2', '2')]);
  assert.equal(a.result, 'Succeeded', explain(a));
  assert.equal(b.result, 'Succeeded', explain(b));
});
after(async () => {
  await box?.stop();
});

// the managed and the Kubernetes scenarios use different endpoints and run side by side; the bad-input test runs alone
describe('rollouts', { concurrency: true }, () => {
  test('managed: deploy v1 (release model artifact beside a Git primary), key secret, governance tags; rerun changes nothing (new probe/request settings are a change); smoke-test and init failures roll back', async () => {
    const from = box.requests.length;
    const r = await deploy(
      { endpointName: 'ep-managed', expectedResponse: '{"predictions": [6.5, 6.5]}', trafficSteps: '10,50,100' },
      {
        variables: {
          'Release.ReleaseId': '77',
          'Release.ReleaseName': 'Release-77',
          'Release.ReleaseWebUrl': 'https://dev.azure.com/org/proj/_releaseProgress?releaseId=77',
          // the primary artifact is the scoring code's repository; the model artifact comes second
          'Release.EnvironmentName': 'staging',
          'Release.PrimaryArtifactSourceAlias': '_repo',
          'Release.Artifacts._repo.Type': 'Git',
          'Release.Artifacts._repo.DefinitionName': 'scoring',
          'Release.Artifacts._repo.BuildNumber': '4f2a9c1',
          'Release.Artifacts._churn-model.Type': 'AzureMLModel',
          'Release.Artifacts._churn-model.DefinitionName': 'churn',
          'Release.Artifacts._churn-model.BuildNumber': '1',
          'Release.DefinitionName': 'churn-cd',
          'Release.RequestedFor': 'Grace Hopper',
        },
      },
    );
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.endpointName, 'ep-managed');
    assert.equal(r.outputs.deploymentName, 'churn-v1');
    assert.equal(r.outputs.modelId, 'azureml:churn:1');
    assert.match(r.outputs.scoringUri ?? '', /\/endpoints\/ep-managed\/score$/);
    assert.ok(r.secretOutputs.includes('endpointKey'), 'endpointKey is an issecret output');
    const key = r.outputs.endpointKey!;
    assert.ok(key.length >= 16);
    // the key appears only on the setsecret / issecret lines (the runner's scanner checks every line too)
    for (const line of r.stdout.split('\n'))
      if (line.includes(key))
        assert.match(line, /##vso\[task\.(setsecret|setvariable variable=endpointKey;[^\]]*issecret=true)/i);
    assert.deepEqual(JSON.parse(r.outputs.trafficAfter!), { 'churn-v1': 100 });
    assert.deepEqual(JSON.parse(r.outputs.trafficBefore!), {});
    assert.match(r.stdout, /going straight to 100%/);
    assert.match(r.stdout, /Smoke test: 5\/5 OK, p50 [\d.]+ ms, p95 [\d.]+ ms/);
    assert.deepEqual(trafficOf('ep-managed'), { 'churn-v1': 100 });
    const [d] = deploymentsOf('ep-managed');
    assert.equal(d!.tags['azureml-devops.modelId'], 'azureml:churn:1');
    assert.equal(d!.tags['azdo.releaseId'], '77');
    assert.equal(d!.tags['azdo.release'], 'Release-77');
    assert.equal(d!.tags['azdo.stage'], 'staging');
    assert.equal(
      d!.tags['azdo.requestedFor'],
      'Grace Hopper',
      "Release.RequestedFor, not the primary artifact's Build.RequestedFor",
    );
    assert.equal(d!.tags['azdo.buildUrl'], undefined, 'in a release Build.BuildId is the model version, not a build');
    assert.equal(d!.properties.codeConfiguration.scoringScript, 'score.py');
    assert.match(r.outputs.deploymentReport ?? '', /deployment-report-ep-managed-churn-v1\.json$/);
    const summary = r.summaries.join('\n');
    assert.match(summary, /Traffic after \| churn-v1 100%/);
    assert.match(summary, /Smoke test \| 5\/5 OK/);
    assert.match(summary, /ml\.azure\.com\/endpoints\/realtime\/ep-managed\/detail/);
    assert.ok(writesSince(from, 'ep-managed').some((w) => /^PUT .*\/deployments\/churn-v1/.test(w)));

    // rerun: same model, already 100 % → no write at all
    const mark = box.requests.length;
    const again = await deploy({ endpointName: 'ep-managed', model: 'azureml:churn:1', trafficSteps: '10,50,100' });
    assert.equal(again.result, 'Succeeded', explain(again));
    assert.match(again.stdout, /already serving model churn:1 with 100% of the traffic: nothing to change/);
    assert.deepEqual(writesSince(mark, 'ep-managed'), []);
    assert.ok(again.secretOutputs.includes('endpointKey'));
    // the service's defaults spelt out are no change; another probe / request setting is (the live deployment cannot take it in place)
    const [same, probe, timeout] = await Promise.all([
      deploy({
        endpointName: 'ep-managed',
        model: 'azureml:churn:1',
        livenessProbe: 'period=10, timeout=2',
        requestTimeoutMs: '5000',
        maxConcurrentRequestsPerInstance: '1',
      }),
      deploy({ endpointName: 'ep-managed', model: 'azureml:churn:1', livenessProbe: 'period=5' }),
      deploy({ endpointName: 'ep-managed', model: 'azureml:churn:1', requestTimeoutMs: '15000' }),
    ]);
    assert.match(same.stdout, /nothing to change/, explain(same));
    assert.match(
      probe.message ?? '',
      /^Input 'deploymentName': deployment 'churn-v1' is live with 100% of the traffic and holds model churn:1 with another livenessProbe \(period 10000 → 5000\)/,
      explain(probe),
    );
    assert.match(
      timeout.message ?? '',
      /^Input 'deploymentName': .*with another requestSettings \(requestTimeout 5000 → 15000\)/,
      explain(timeout),
    );
    assert.deepEqual(writesSince(mark, 'ep-managed'), []);

    // smoke-test failure (expected response mismatch): traffic unchanged, container log printed
    const f = await deploy({
      endpointName: 'ep-managed',
      model: 'churn:2',
      expectedResponse: '{"predictions": [6.5, 6.5]}',
      trafficSteps: '50,100',
    });
    assert.equal(f.result, 'Failed', explain(f));
    assert.match(
      f.message ?? '',
      /Smoke test of deployment churn-v2 failed: failure rate 100% \(5 of 5 conclusive probe\(s\)\) is above maxFailurePercent 0% \(first: response differs at predictions\[0\]: expected 6\.5, got 7\.5\); traffic unchanged \(churn-v1 100%\)/,
    );
    assert.match(f.stdout, /container log of deployment churn-v2/);
    assert.deepEqual(trafficOf('ep-managed'), { 'churn-v1': 100 }, 'the traffic was never touched');

    const c = await deploy({
      endpointName: 'ep-managed',
      model: 'churn:2',
      deploymentName: 'crashy',
      codePath: 'crash',
      trafficSteps: '50,100',
    });
    assert.equal(c.result, 'Failed', explain(c));
    assert.match(
      c.message ?? '',
      /^deployment 'crashy' of online endpoint 'ep-managed' failed: ResourceNotReady\. User container has crashed or terminated.*; traffic unchanged \(churn-v1 100%\)$/,
    );
    assert.match(c.stdout, /RuntimeError: cannot load model/, 'the container log (init() traceback) is printed');
    assert.match(c.stdout, /Traffic of ep-managed is unchanged: churn-v1 100%/);
    assert.equal(trafficOf('ep-managed')['churn-v1'], 100);
  });

  test('kubernetes: v1, then blue/green 10,50,100 to v2 with the old deployment deleted; SIGINT mid-rollout restores traffic', async () => {
    const k = {
      endpointName: 'ep-aks',
      endpointType: 'kubernetes',
      compute: 'k8s-compute',
      instanceType: 'cpu2',
      resourceRequests: 'cpu=0.5, memory=1Gi',
      resourceLimits: 'cpu=1, memory=2Gi',
    };
    const r1 = await deploy({
      ...k,
      model: 'azureml:churn:1',
      expectedResponse: '/"predictions": ?\\[6\\.5/',
      authMode: 'aml_token',
    });
    assert.equal(r1.result, 'Succeeded', explain(r1));
    assert.equal(endpointOf('ep-aks')!.properties.authMode, 'AMLToken');
    // an explicit other auth mode is refused before anything is written (the later runs leave authMode empty: kept)
    const mark = box.requests.length;
    const am = await deploy({ ...k, model: 'azureml:churn:2', authMode: 'key' });
    assert.match(
      am.message ?? '',
      /^Input 'authMode': endpoint 'ep-aks' already exists with auth mode aml_token, not key/,
      explain(am),
    );
    assert.deepEqual(writesSince(mark, 'ep-aks'), []);
    const d1 = deploymentsOf('ep-aks')[0]!;
    assert.equal(d1.properties.endpointComputeType, 'Kubernetes');
    assert.equal(d1.properties.instanceType, 'cpu2');
    assert.deepEqual(d1.properties.containerResourceRequirements, {
      containerResourceRequests: { cpu: '0.5', memory: '1Gi' },
      containerResourceLimits: { cpu: '1', memory: '2Gi' },
    });
    assert.match(endpointOf('ep-aks')!.properties.compute, /\/computes\/k8s-compute$/);

    // SIGINT during the rollout of v2: the traffic goes back to v1 100 %
    const s = await deploy(
      { ...k, model: 'azureml:churn:2', trafficSteps: '10,50,100', stepWaitSeconds: '20' },
      { signalAfterMs: { signal: 'SIGINT', whenStdoutMatches: /Health check at 10%/ } },
    );
    assert.equal(s.result, 'Failed', explain(s));
    assert.match(s.message ?? '', /Cancelled/);
    assert.match(s.stdout, /Cancelled during the rollout of churn-v2: traffic restored to churn-v1 100%/);
    assert.deepEqual(trafficOf('ep-aks'), { 'churn-v1': 100, 'churn-v2': 0 });

    // rerun: the existing churn-v2 (same spec) is reused, rolled out in steps, old deployment deleted
    const r2 = await deploy({
      ...k,
      model: 'azureml:churn:2',
      trafficSteps: '10,50,100',
      deleteOldDeployment: 'true',
      expectedResponse: '7.5',
    });
    assert.equal(r2.result, 'Succeeded', explain(r2));
    assert.match(r2.stdout, /already holds model churn:2 \(provisioning Succeeded\): not redeployed/);
    const steps = [...r2.stdout.matchAll(/Traffic step (\d)\/3: churn-v2 (\d+)% \(([^)]*)\)/g)].map(
      (m) => `${m[2]}:${m[3]}`,
    );
    assert.deepEqual(steps, ['10:churn-v1 90%, churn-v2 10%', '50:churn-v1 50%, churn-v2 50%', '100:churn-v2 100%']);
    assert.equal((r2.stdout.match(/Health check at \d+%: 3\/3 OK/g) ?? []).length, 3);
    assert.deepEqual(JSON.parse(r2.outputs.trafficBefore!), { 'churn-v1': 100, 'churn-v2': 0 });
    assert.deepEqual(trafficOf('ep-aks'), { 'churn-v2': 100 });
    assert.deepEqual(
      deploymentsOf('ep-aks').map((d) => d.name),
      ['churn-v2'],
    );
    assert.equal(
      endpointOf('ep-aks')!.properties.authMode,
      'AMLToken',
      "reruns without authMode kept the endpoint's mode",
    );
    assert.equal(r2.outputs.endpointKey, undefined);
    assert.match(r2.summaries.join('\n'), /Deleted \| churn-v1/);
  });

  test('managed blue/green with 20% mirrored: copies reach the new deployment, mirror set then cleared; a deployment that fails on mirrored requests rolls back', async () => {
    const ep = 'ep-mirror';
    const r1 = await deploy({ endpointName: ep, model: 'azureml:churn:1' });
    assert.equal(r1.result, 'Succeeded', explain(r1));

    const from = box.requests.length;
    const r = await deploy({
      endpointName: ep,
      model: 'azureml:churn:2',
      trafficSteps: '50,100',
      mirrorPercent: '20',
      mirrorSeconds: '1',
      expectedResponse: '7.5',
    });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.deepEqual(
      endpointRecordOf(ep)!.mirrorHistory,
      [{ 'churn-v2': 20 }, {}],
      'the service was told {new: 20}, then {}',
    );
    assert.deepEqual(endpointRecordOf(ep)!.resource.properties.mirrorTraffic, {});
    // the two mirror PUTs at 2023-04-01 come before the traffic steps (2022-10-01 through the SDK)
    const puts = writesSince(from, ep)
      .filter((w) => /^PUT .*\/onlineEndpoints\/ep-mirror\?/.test(w))
      .map((w) => /api-version=([\d-]+)/.exec(w)![1]);
    assert.deepEqual(puts, ['2023-04-01', '2023-04-01', '2022-10-01', '2022-10-01']);
    const copies = deploymentRecordOf(ep, 'churn-v2')!.mirrored!;
    assert.ok(copies.requests >= 1 && copies.failed === 0, JSON.stringify(copies));
    const logged = Number(
      /Mirror stage passed: deployment churn-v2 logged (\d+) scoring request\(s\) in the window, none failed/.exec(
        r.stdout,
      )?.[1],
    );
    assert.ok(logged >= 1 && logged <= copies.requests, `${logged} logged, ${copies.requests} mirrored\n${explain(r)}`);
    assert.match(r.stdout, /Sending 15 request\(s\) through endpoint ep-mirror over 1 s/);
    assert.deepEqual(trafficOf(ep), { 'churn-v1': 0, 'churn-v2': 100 });
    assert.match(
      r.summaries.join('\n'),
      /\| Mirror stage \| 20% of the traffic for 1 s: \d+ mirrored request\(s\) in churn-v2's log, 0 failed; 15\/15 OK through the endpoint \|/,
    );

    // a deployment that passes its smoke test (5 requests) and fails every request after: the mirror stage catches it
    const mark = box.requests.length;
    const f = await deploy({
      endpointName: ep,
      model: 'azureml:churn:1',
      deploymentName: 'degraded',
      codePath: 'degrading',
      environmentVariables: 'SMOKE_OK_REQUESTS=5',
      trafficSteps: '50,100',
      mirrorPercent: '50',
      mirrorSeconds: '1',
    });
    assert.equal(f.result, 'Failed', explain(f));
    assert.match(
      f.message ?? '',
      /^Mirror stage failed: deployment degraded logged \d+ failed scoring request\(s\) of \d+ on mirrored traffic in 1 s \(first: RuntimeError: feature store lookup timed out \(request \d+\)\); mirror traffic cleared, traffic unchanged \(churn-v2 100%\)$/,
      explain(f),
    );
    assert.match(f.stdout, /Smoke test: 5\/5 OK/);
    assert.match(
      f.stdout,
      /container log of deployment degraded[\s\S]*RuntimeError: feature store lookup timed out/,
      'the container log is printed',
    );
    assert.deepEqual(endpointRecordOf(ep)!.mirrorHistory, [{ 'churn-v2': 20 }, {}, { degraded: 50 }, {}]);
    assert.ok(deploymentRecordOf(ep, 'degraded')!.mirrored!.failed >= 1);
    assert.deepEqual(trafficOf(ep), { 'churn-v1': 0, 'churn-v2': 100 });
    assert.deepEqual(
      writesSince(mark, ep).filter((w) => /onlineEndpoints\/ep-mirror\?api-version=2022-10-01/.test(w)),
      [],
      'the live traffic was never written',
    );
  });
});

describe('scoring code at the repository root', () => {
  test("codePath left blank arrives as the agent's root folder: with a scoring script that folder is the code", async () => {
    const r = await deploy(
      {
        endpointName: 'ep-root',
        model: 'azureml:churn:1',
        deploymentName: 'root-v1',
        codePath: '',
        sampleRequestFile: '../sample-request.json',
        trafficSteps: '100',
      },
      { cwd: path.join(cwd, 'ok') },
    );
    assert.equal(r.result, 'Succeeded', explain(r));
    const d = deploymentsOf('ep-root')[0]!;
    assert.equal(d.properties.codeConfiguration.scoringScript, 'score.py');
    assert.match(d.properties.codeConfiguration.codeId, /\/codes\/[^/]+\/versions\//);
  });
});

describe('custom containers (azureml-examples cli/endpoints/online/custom-container)', () => {
  test('pip-in-dockerfile as the examples run it: {{…}} filled, endpointName given, routes "/" registered; it serves', async () => {
    // the file unchanged; the model-1 files it names (not in the corpus) are the fixture model and scoring script
    const root = path.join(cwd, 'cc');
    const rel =
      'endpoints/online/custom-container/minimal/single-model/pip-in-dockerfile/minimal-single-model-pip-in-dockerfile-deployment.yml';
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    cpSync(path.join(CORPUS, rel), path.join(root, rel));
    assert.match(readFileSync(path.join(root, rel), 'utf8'), /endpoint_name: \{\{ENDPOINT_NAME\}\}[\s\S]*path: \/\n/);
    const m1 = path.join(root, 'endpoints', 'online', 'model-1');
    mkdirSync(path.join(m1, 'onlinescoring'), { recursive: true });
    mkdirSync(path.join(m1, 'model'), { recursive: true });
    cpSync(path.join(FIX, 'ok', 'score.py'), path.join(m1, 'onlinescoring', 'score.py'));
    writeFileSync(
      path.join(m1, 'model', 'model.json'),
      JSON.stringify({ weights: [1, 2, 3], bias: 0.5, version: 'cc' }),
    );
    cpSync(path.join(FIX, 'sample-request.json'), path.join(root, 'sample-request.json'));
    const r = await deploy(
      {
        endpointName: 'ep-cc',
        deploymentFile: rel,
        yamlVariables: 'ENDPOINT_NAME=ep-cc\nACR_NAME=myacr',
        codePath: '',
        scoringScript: '',
        environment: '',
        trafficSteps: '100',
      },
      { cwd: root },
    );
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.deepEqual(trafficOf('ep-cc'), { 'pip-in-dockerfile': 100 });
    const d = deploymentsOf('ep-cc')[0]!;
    assert.equal(d.properties.provisioningState, 'Succeeded');
    // the environment it registered carries the routes as written, "/" included
    const envs = box.store
      .list<any>('environmentVersions')
      .map((e) => e.resource ?? e)
      .filter((e) => d.properties.environmentId?.endsWith(e.id));
    assert.equal(envs.length, 1, `${d.properties.environmentId}`);
    assert.deepEqual(envs[0].properties.inferenceConfig, {
      livenessRoute: { path: '/', port: 5001 },
      readinessRoute: { path: '/', port: 5001 },
      scoringRoute: { path: '/score', port: 5001 },
    });
    assert.equal(
      envs[0].properties.image,
      'myacr.azurecr.io/azureml-examples/minimal-single-model-pip-in-dockerfile:1',
    );
  });
});

describe('bad inputs fail before anything is written', () => {
  test('seven bad inputs (unit tests cover more), one clear line each, no write', async () => {
    const from = box.requests.length;
    writeFileSync(
      path.join(cwd, 'bad.yml'),
      'name: blue\nendpoint_name: ep-bad\nmodel: azureml:churn:1\n  instance_type: [\n',
    );
    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        { endpointName: 'ep-bad1', model: 'churn:1', trafficSteps: '10,50' },
        /^Input 'trafficSteps': the last step must be 100/,
      ],
      [
        { endpointName: 'ep-bad2', model: 'churn:1', endpointType: 'kubernetes', compute: 'nosuch-compute' },
        /^Input 'compute': compute 'nosuch-compute' was not found/,
      ],
      [
        { endpointName: 'ep-bad4', deploymentFile: 'bad.yml', codePath: '', scoringScript: '', environment: '' },
        /^Input 'deploymentFile': .*bad\.yml:\d+: YAML syntax error/,
      ],
      [
        { endpointName: 'ep-bad5', model: 'azureml:nosuch:3' },
        /^Input 'model': model azureml:nosuch:3 not found in workspace/,
      ],
      [
        { endpointName: 'ep-bad3', model: 'churn:1', scoringScript: 'missing.py' },
        /^Input 'scoringScript': scoring script 'missing.py' was not found/,
      ],
      [
        { endpointName: 'ep-bad6', model: 'churn:1', mirrorPercent: '80' },
        /^Input 'mirrorPercent': 80 is greater than the maximum 50/,
      ],
      [
        {
          endpointName: 'ep-bad7',
          model: 'churn:1',
          endpointType: 'kubernetes',
          compute: 'k8s-compute',
          mirrorPercent: '10',
        },
        /^Input 'mirrorPercent': mirrored traffic is not supported for Kubernetes online endpoints/,
      ],
    ];
    const runs = await Promise.all(cases.map(([inputs]) => deploy(inputs)));
    runs.forEach((r, i) => {
      assert.equal(r.result, 'Failed', explain(r));
      assert.match(r.message ?? '', cases[i]![1], explain(r));
      assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at .+\(.*:\d+:\d+\)/, 'no stack trace');
    });
    assert.deepEqual(
      writesSince(from).filter((w) => !/\/mlflow\//.test(w)),
      [],
    );
    for (let i = 1; i <= 7; i++) assert.equal(endpointOf(`ep-bad${i}`), undefined);
  });
});
