// AzureMLModelEvaluate@1 end to end: the bundled task (tasks/AzureMLModelEvaluateV1/index.js) with the agent's
// environment against Azure-in-a-box. The state is made through the box like a user would: two real training jobs of
// samples/training/job.yml (different learning rates) run by the box's job runner and log their metrics over MLflow;
// model versions registered from their outputs (metrics come from the producing job) or with metric properties; one
// tagged stage=production; one served by an online endpoint with traffic. Expected verdicts are computed from the
// metrics the box's MLflow holds, never typed in.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { TokenCredential } from '@azure/core-auth';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { startAzureInABox, type AzureInABox } from '../emulator';
import { REPO_ROOT, runBundledTask, type TaskRunWithLeaks, explainRun } from '../helpers/agent';
import { createAzureMLContext, type AzureMLContext } from '../../src/azureml';
import { buildJobBody, parseJobYaml } from '../../src/azureml/jobSpec';
import { AzureAssetResolver } from '../../src/azureml/jobResolver';
import { createJob, getJob } from '../../src/azureml/jobs';
// this process uploads through the datastore's own URLs (http://<account>.blob.localhost:<port>), as the tasks do
import '../emulator/resolve-localhost.cjs';

const TASK = 'AzureMLModelEvaluate';
const SAMPLE = path.join(REPO_ROOT, 'samples', 'training', 'job.yml');
const FIX = path.join(REPO_ROOT, 'test', 'fixtures', 'scoring');
const SCOPE = 'https://management.core.windows.net/.default';

let box: AzureInABox;
let ctx: AzureMLContext;
let cred: TokenCredential;
/** job name → latest MLflow metrics, read from the box */
const metrics: Record<string, Record<string, number>> = {};
const jobs = { good: `train-good-${randomUUID().slice(0, 6)}`, weak: `train-weak-${randomUUID().slice(0, 6)}` };

async function mlflowMetrics(run: string): Promise<Record<string, number>> {
  const t = (await cred.getToken(SCOPE))!;
  const base = `${box.armUrl.replace(/\/$/, '')}/mlflow/v2.0/subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${box.workspace}`;
  const r = await fetch(`${base}/api/2.0/mlflow/runs/get?run_id=${run}`, {
    headers: { authorization: `Bearer ${t.token}` },
  });
  assert.equal(r.status, 200, await r.clone().text());
  const j: any = await r.json();
  return Object.fromEntries(j.run.data.metrics.map((m: any) => [m.key, m.value]));
}

async function trainJob(name: string, overrides: string[]): Promise<void> {
  const spec = parseJobYaml(SAMPLE, { overrides });
  const resolver = new AzureAssetResolver(ctx);
  const { body } = await buildJobBody(spec, resolver);
  await resolver.commit();
  await createJob(ctx, name, body as any);
}

async function waitCompleted(name: string, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const j = await getJob(ctx, name);
    const s = j?.properties.status;
    if (s === 'Completed') return;
    if (s === 'Failed' || s === 'Canceled' || Date.now() - t0 > timeoutMs) assert.fail(`job ${name} ended ${s}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function modelVersion(name: string, version: string, properties: Record<string, unknown>): Promise<string> {
  return (
    await ctx.client.modelVersions.createOrUpdate(box.resourceGroup, box.workspace, name, version, {
      properties: { modelType: 'custom_model', ...properties } as any,
    })
  ).id!;
}

const t0 = Date.now();
const mark = (what: string) => {
  if (process.env.EVAL_E2E_TIMING) console.error(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}`);
};
before(async () => {
  box = await startAzureInABox({ fastLro: true });
  mark('box started');
  // setup only: tokens straight from the box's Entra for its contributor app (the tasks themselves sign in for real;
  // MSAL's discovery in this busy test process is just a source of flakiness)
  cred = {
    async getToken() {
      const app = box.ctx.apps().find((a) => a.role === 'contributor');
      assert.ok(app, 'the box has a contributor app');
      return { token: box.ctx.issueAccessToken(app, box.audience, 3600), expiresOnTimestamp: Date.now() + 3_500_000 };
    },
  };
  ctx = createAzureMLContext(
    {
      subscriptionId: box.subscriptionId,
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      armUrl: box.armUrl,
      tenantId: box.tenantId,
    },
    cred,
    { scope: SCOPE },
  );

  // two real trainings: a reasonable learning rate, and one that barely moves off the initial weights
  // (submitted one after the other: two resolvers committing the same anonymous environment at once collide)
  await trainJob(jobs.good, ['inputs.learning_rate=0.5']);
  mark('good submitted');
  await trainJob(jobs.weak, ['inputs.learning_rate=0.001', 'inputs.epochs=3']);

  // an endpoint whose main deployment serves `served:1` (a model registered with metric properties)
  const setupEndpoint = async () => {
    const bsc = new BlobServiceClient(
      box.azurite.blobEndpoint,
      new StorageSharedKeyCredential(box.azurite.account, box.azurite.key),
    );
    const cc = bsc.getContainerClient(box.azurite.container);
    const h = randomUUID().replace(/-/g, '');
    for (const f of fs.readdirSync(path.join(FIX, 'model')))
      await cc.getBlockBlobClient(`LocalUpload/${h}/model/${f}`).uploadFile(path.join(FIX, 'model', f));
    await cc.getBlockBlobClient(`LocalUpload/${h}/code/score.py`).uploadFile(path.join(FIX, 'ok', 'score.py'));
    const ds = `azureml://subscriptions/${box.subscriptionId}/resourcegroups/${box.resourceGroup}/workspaces/${box.workspace}/datastores/workspaceblobstore/paths/LocalUpload/${h}`;
    const served1 = await modelVersion('served', '1', {
      modelUri: `${ds}/model`,
      properties: { 'metric.accuracy': '0.55' },
    });
    const served2 = await modelVersion('served', '2', {
      modelUri: `${ds}/model`,
      properties: { 'metric.accuracy': '0.65' },
    });
    const code = await ctx.client.codeVersions.createOrUpdate(
      box.resourceGroup,
      box.workspace,
      `score-${h.slice(0, 8)}`,
      '1',
      { properties: { codeUri: `${ds}/code`, isAnonymous: true } },
    );
    const { resourceGroup: rg, workspace: ws } = box;
    const o = { updateIntervalInMs: 50 };
    await ctx.client.onlineEndpoints.beginCreateOrUpdateAndWait(
      rg,
      ws,
      'eval-ep',
      { location: box.location, properties: { authMode: 'Key' } } as any,
      o,
    );
    // an endpoint created ahead of its first deployment: production is empty (first model)
    await ctx.client.onlineEndpoints.beginCreateOrUpdateAndWait(
      rg,
      ws,
      'eval-ep-empty',
      { location: box.location, properties: { authMode: 'Key' } } as any,
      o,
    );
    const dep = (model: string) =>
      ({
        location: box.location,
        sku: { name: 'Default', capacity: 1 },
        properties: {
          endpointComputeType: 'Managed',
          instanceType: 'Standard_DS3_v2',
          model,
          codeConfiguration: { codeId: code.id!, scoringScript: 'score.py' },
          environmentId: 'azureml://registries/azureml/environments/sklearn-1.5/versions/1',
        },
      }) as any;
    await Promise.all([
      ctx.client.onlineDeployments.beginCreateOrUpdateAndWait(rg, ws, 'eval-ep', 'blue', dep(served1), o),
      ctx.client.onlineDeployments.beginCreateOrUpdateAndWait(rg, ws, 'eval-ep', 'green', dep(served2), o),
    ]);
    const ep = await ctx.client.onlineEndpoints.get(rg, ws, 'eval-ep');
    ep.properties.traffic = { blue: 70, green: 30 };
    await ctx.client.onlineEndpoints.beginCreateOrUpdateAndWait(rg, ws, 'eval-ep', ep, o);
  };
  mark('jobs submitted');
  await Promise.all([
    waitCompleted(jobs.good).then(() => mark('good done')),
    waitCompleted(jobs.weak).then(() => mark('weak done')),
    setupEndpoint().then(() => mark('endpoint ready')),
  ]);
  metrics[jobs.good] = await mlflowMetrics(jobs.good);
  metrics[jobs.weak] = await mlflowMetrics(jobs.weak);

  // `diabetes`: v1 from the weak job (in production), v2 from the good job; metrics of both come from their jobs
  await modelVersion('diabetes', '1', {
    modelUri: `azureml://jobs/${jobs.weak}/outputs/model`,
    jobName: jobs.weak,
    tags: { stage: 'production' },
  });
  await modelVersion('diabetes', '2', { modelUri: `azureml://jobs/${jobs.good}/outputs/model`, jobName: jobs.good });
  // `props`: metrics as properties; v1 in production, v2 equal to it
  await modelVersion('props', '1', {
    modelUri: 'azureml://datastores/workspaceblobstore/paths/props/1',
    properties: { 'metric.accuracy': '0.8', 'metric.rmse': '0.25' },
    tags: { stage: 'production' },
  });
  await modelVersion('props', '2', {
    modelUri: 'azureml://datastores/workspaceblobstore/paths/props/2',
    properties: { 'metric.accuracy': '0.8', 'metric.rmse': '0.2' },
  });
});

after(async () => {
  await box?.stop();
});

const explain = (r: TaskRunWithLeaks) => explainRun(r, { lines: 25 });

/** runs the task; its Agent.TempDirectory is kept (the helper removes its own temp folder) so evaluation.json can be read */
async function run(inputs: Record<string, string>): Promise<TaskRunWithLeaks> {
  const temp = fs.mkdtempSync(path.join(box.stateDir, 'agent-temp-'));
  const r = await runBundledTask(TASK, {
    box,
    scheme: 'secret',
    timeoutMs: 60_000,
    variables: { 'Agent.TempDirectory': temp },
    inputs: { resourceGroup: box.resourceGroup, workspace: box.workspace, ...inputs },
  });
  mark(`task done: ${JSON.stringify(inputs).slice(0, 80)}`);
  return r;
}

describe('evaluate against the box', () => {
  test('the two trainings really differ (precondition of the verdicts below)', () => {
    const g = metrics[jobs.good]!,
      w = metrics[jobs.weak]!;
    for (const k of ['accuracy', 'f1', 'test_loss']) assert.equal(typeof g[k], 'number', `${k} logged by ${jobs.good}`);
    // on this small dataset both classify the test rows alike (accuracy and f1 are equal), but the well-trained
    // model is far more confident: its test log-loss is lower
    assert.ok(g.test_loss! < w.test_loss! - 0.01, `test_loss ${g.test_loss} vs ${w.test_loss}`);
  });

  test('verdicts: better, worse, equal, several metrics, allowEqual, first model, endpoint, already in production, failWhenNotBetter', async () => {
    const g = metrics[jobs.good]!,
      w = metrics[jobs.weak]!;
    // expected outcomes, from the metrics the box holds
    const lossBetter = g.test_loss! < w.test_loss!;
    const accEqual = g.accuracy === w.accuracy;
    const multiPass = 'test_loss lower min_delta=0.01\naccuracy higher min_delta=-0.01';
    const multiPassExpected = w.test_loss! - g.test_loss! >= 0.01 && g.accuracy! - w.accuracy! >= -0.01;
    const multiFail = 'test_loss lower\nf1 higher min_relative=1%';
    const multiFailExpected = lossBetter && ((g.f1! - w.f1!) / Math.abs(w.f1!)) * 100 >= 1;
    const armBefore = box.requests.length;
    const [better, worse, equal, multi1, multi2, byModel, allowEqual, first, endpoint, already, failing, emptyEp] =
      await Promise.all([
        run({
          candidateType: 'job',
          candidateJob: jobs.good,
          baseline: 'tag',
          modelName: 'diabetes',
          baselineTag: 'stage=production',
          metrics: 'test_loss lower',
        }),
        run({
          candidateType: 'job',
          candidateJob: jobs.weak,
          baseline: 'latest',
          modelName: 'diabetes',
          metrics: 'test_loss lower',
        }),
        run({
          candidateType: 'job',
          candidateJob: jobs.good,
          baseline: 'tag',
          modelName: 'diabetes',
          metrics: 'accuracy higher',
        }),
        run({
          candidateType: 'job',
          candidateJob: jobs.good,
          baseline: 'tag',
          modelName: 'diabetes',
          metrics: multiPass,
        }),
        run({
          candidateType: 'job',
          candidateJob: jobs.good,
          baseline: 'tag',
          modelName: 'diabetes',
          metrics: multiFail,
        }),
        run({
          candidateType: 'model',
          candidateModel: 'azureml:diabetes:2',
          baseline: 'tag',
          metrics: 'test_loss lower',
        }),
        run({
          candidateType: 'model',
          candidateModel: 'props:2',
          baseline: 'tag',
          metrics: 'accuracy higher\nrmse lower',
          allowEqual: 'true',
        }),
        run({
          candidateType: 'job',
          candidateJob: jobs.good,
          baseline: 'tag',
          modelName: 'brand-new-model',
          metrics: 'accuracy higher',
        }),
        run({
          candidateType: 'job',
          candidateJob: jobs.good,
          baseline: 'endpoint',
          endpointName: 'eval-ep',
          metrics: 'accuracy higher',
        }),
        run({
          candidateType: 'model',
          candidateModel: 'served:1',
          baseline: 'endpoint',
          endpointName: 'eval-ep',
          metrics: 'accuracy higher',
        }),
        run({
          candidateType: 'job',
          candidateJob: jobs.weak,
          baseline: 'latest',
          modelName: 'diabetes',
          metrics: 'test_loss lower',
          failWhenNotBetter: 'true',
        }),
        run({
          candidateType: 'job',
          candidateJob: jobs.good,
          baseline: 'endpoint',
          endpointName: 'eval-ep-empty',
          metrics: 'accuracy higher',
        }),
      ]);

    // better: good job vs diabetes:1 (stage=production, metrics of the weak job that produced it)
    assert.equal(better.result, 'Succeeded', explain(better));
    assert.equal(better.outputs.isBetter, String(lossBetter));
    assert.equal(better.outputs.verdict, lossBetter ? 'better' : 'not-better');
    assert.equal(better.outputs.candidateId, jobs.good);
    assert.equal(better.outputs.baselineModelId, 'azureml:diabetes:1');
    assert.equal(Number(better.outputs['metric.test_loss.candidate']), g.test_loss);
    assert.equal(Number(better.outputs['metric.test_loss.baseline']), w.test_loss);
    assert.ok(Math.abs(Number(better.outputs['metric.test_loss.delta']) - (g.test_loss! - w.test_loss!)) < 1e-12);
    const md = better.summaries.join('\n');
    assert.match(md, /Better than production/);
    assert.match(md, new RegExp(`job \\[${jobs.good}\\]\\(https://ml\\.azure\\.com/runs/${jobs.good}\\?wsid=`));
    assert.match(md, /model \[diabetes:1\]\(https:\/\/ml\.azure\.com\/model\/diabetes:1\/details/);
    assert.match(md, new RegExp(`MLflow metrics of job ${jobs.weak}`));
    assert.match(md, /\| test\\_loss \| ↓ lower \|/);
    assert.equal(path.basename(better.outputs.evaluationFile!), 'evaluation.json');
    const ev = JSON.parse(fs.readFileSync(better.outputs.evaluationFile!, 'utf8'));
    assert.equal(ev.schema, 'azureml-devops/model-evaluation@1');
    assert.equal(ev.isBetter, lossBetter);
    assert.equal(ev.results[0].candidate, g.test_loss);
    assert.equal(ev.baseline.side.job.name, jobs.weak);

    // worse: the weak job vs the latest diabetes version not produced by it (v2, from the good job)
    assert.equal(worse.result, 'Succeeded', explain(worse));
    assert.equal(worse.outputs.isBetter, String(w.test_loss! < g.test_loss!));
    assert.equal(worse.outputs.baselineModelId, 'azureml:diabetes:2');
    assert.match(worse.summaries.join('\n'), /Not better than production[\s\S]*❌ fail/);

    // equal accuracy: not better (no allowEqual)
    assert.equal(equal.result, 'Succeeded', explain(equal));
    assert.equal(equal.outputs.isBetter, String(g.accuracy! > w.accuracy!));
    if (accEqual) assert.match(equal.stdout, /equal to production: not better/);

    // several metrics, each with its own rule; all must pass
    assert.equal(multi1.outputs.isBetter, String(multiPassExpected), explain(multi1));
    assert.equal(multi2.outputs.isBetter, String(multiFailExpected), explain(multi2));
    for (const k of ['test_loss', 'f1']) assert.equal(Number(multi2.outputs[`metric.${k}.candidate`]), g[k]);
    assert.match(multi2.summaries.join('\n'), /\| f1 \| ↑ higher \|.*improve by ≥ \+1%/);

    // a model version without metric properties: the metrics of the job that produced it
    assert.equal(byModel.result, 'Succeeded', explain(byModel));
    assert.equal(byModel.outputs.isBetter, String(lossBetter));
    assert.equal(byModel.outputs.candidateId, 'azureml:diabetes:2');
    assert.equal(Number(byModel.outputs['metric.test_loss.baseline']), w.test_loss);

    // metrics as properties: accuracy equal (allowed), rmse 0.2 < 0.25
    assert.equal(allowEqual.outputs.isBetter, 'true', explain(allowEqual));
    assert.match(allowEqual.stdout, /equal to production \(allowed\)/);

    // first model
    assert.equal(first.result, 'Succeeded', explain(first));
    assert.equal(first.outputs.isBetter, 'true');
    assert.equal(first.outputs.verdict, 'first-model');
    assert.equal(first.outputs.baselineModelId, '');
    assert.match(
      first.stdout,
      /No production model \(no version of model 'brand-new-model' carries the tag stage=production\): the candidate job .* is the first model and wins/,
    );
    assert.match(first.summaries.join('\n'), /First model/);

    // endpoint: blue (70 %) serves served:1 (accuracy 0.55 as a property)
    assert.equal(endpoint.result, 'Succeeded', explain(endpoint));
    assert.equal(endpoint.outputs.baselineModelId, 'azureml:served:1');
    assert.equal(endpoint.outputs.isBetter, String(g.accuracy! > 0.55));
    assert.match(endpoint.summaries.join('\n'), /deployment blue \(70% of traffic\) on endpoint \[eval-ep\]/);
    // an endpoint that exists but has no deployment taking traffic: first model
    assert.equal(emptyEp.result, 'Succeeded', explain(emptyEp));
    assert.equal(emptyEp.outputs.verdict, 'first-model');
    assert.equal(emptyEp.outputs.isBetter, 'true');
    assert.match(
      emptyEp.stdout,
      /No production model \(no deployment of online endpoint 'eval-ep-empty' takes traffic\)/,
    );
    assert.equal(already.outputs.verdict, 'already-in-production', explain(already));
    assert.equal(already.outputs.isBetter, 'true');

    // failWhenNotBetter: the task fails, outputs and summary are still there
    assert.equal(failing.result, 'Failed', explain(failing));
    assert.match(
      failing.message ?? '',
      /not better than production model diabetes:2: test_loss \(worse than production\)/,
    );
    assert.equal(failing.outputs.isBetter, 'false');
    assert.equal(failing.summaries.length, 1);

    // evaluating changes nothing: only reads (and token requests) while the twelve tasks ran
    const writes = box.requests
      .slice(armBefore)
      .filter((q) => q.host === 'arm' && q.method !== 'GET' && !/\/api\/2\.0\/mlflow\//.test(q.url));
    assert.deepEqual(
      writes.map((q) => `${q.method} ${q.url}`),
      [],
    );
  });

  test('bad inputs fail with one line naming the input; grammar errors before any request', async () => {
    const n0 = box.requests.length;
    const [grammar, noEndpoint] = await Promise.all([
      run({
        candidateType: 'job',
        candidateJob: jobs.good,
        baseline: 'tag',
        modelName: 'diabetes',
        metrics: 'accuracy higher\nrmse downward',
      }),
      run({ candidateType: 'job', candidateJob: jobs.good, baseline: 'endpoint', metrics: 'accuracy higher' }),
    ]);
    assert.equal(grammar.result, 'Failed', explain(grammar));
    assert.equal(
      grammar.message,
      "Input 'metrics': line 2 ('rmse downward'): 'downward' is not a direction (use higher or lower)",
    );
    assert.equal(noEndpoint.message, "Input 'endpointName': is required when production is an online endpoint");
    assert.equal(box.requests.length, n0, 'no request at all (not even a token)');

    const n1 = box.requests.length;
    const [unknown, noJob, typo] = await Promise.all([
      run({
        candidateType: 'job',
        candidateJob: jobs.good,
        baseline: 'tag',
        modelName: 'diabetes',
        metrics: 'accuracy higher\nauc higher',
      }),
      run({
        candidateType: 'job',
        candidateJob: 'no-such-job',
        baseline: 'tag',
        modelName: 'diabetes',
        metrics: 'accuracy higher',
      }),
      run({
        candidateType: 'job',
        candidateJob: jobs.good,
        baseline: 'endpoint',
        endpointName: 'eval-epp',
        metrics: 'accuracy higher',
      }),
    ]);
    // a misspelled endpoint is not "no production model": it fails, and says what to do for a real first model
    assert.equal(typo.result, 'Failed', explain(typo));
    assert.equal(
      typo.message,
      `Input 'endpointName': online endpoint 'eval-epp' does not exist in workspace '${box.workspace}'; create the endpoint first, or use baseline=latest/tag for a first model`,
    );
    assert.equal(typo.outputs.isBetter, undefined, 'no isBetter output');
    assert.equal(unknown.result, 'Failed', explain(unknown));
    assert.match(
      unknown.message ?? '',
      new RegExp(
        `^Input 'metrics': 'auc' is not a metric of the candidate job ${jobs.good}; available: (.+, )?accuracy, .*f1.*test_loss`,
      ),
    );
    assert.doesNotMatch(unknown.stdout + unknown.stderr, /\n\s+at .*\.js:\d+/, 'no stack trace');
    assert.equal(
      noJob.message,
      `Input 'candidateJob': job 'no-such-job' was not found in workspace '${box.workspace}'`,
    );
    const reads = box.requests.slice(n1).filter((q) => q.host === 'arm');
    assert.ok(
      reads.length > 0 && reads.every((q) => q.method === 'GET'),
      reads.map((q) => `${q.method} ${q.url}`).join('\n'),
    );
  });
});
