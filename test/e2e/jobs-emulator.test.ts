// Azure-in-a-box jobs: job bodies built by hand (2022-10-01 shapes) go through raw ARM REST to the box, the local
// runner really executes samples/training, and results are read back the way the tasks will: job GET, MLflow REST on
// the workspace's tracking URI, run-history details, log and output blobs in Azurite.
//   NODE_EXTRA_CA_CERTS=$(npx tsx test/emulator/ca.ts) node --import tsx --test test/e2e/jobs-emulator.test.ts
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ClientSecretCredential } from '@azure/identity';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { startAzureInABox, type AzureInABox } from '../emulator/index';
import { jobRunnerOf, jobStatusHistory } from '../emulator/arm/jobs';
import { buildJobBody, parseJobYaml, type SpecResolver } from '../../src/azureml/jobSpec';
import { JOBS_API_VERSION } from '../../src/azureml/jobs';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SAMPLE = path.join(ROOT, 'samples', 'training');
const API = 'api-version=2022-10-01';
const SCOPE = 'https://management.core.windows.net/.default';

let box: AzureInABox;
let cred: ClientSecretCredential;
let wsPath: string, wsArmId: string;
let codeId: string;
let dataUri: string;
let blobs: BlobServiceClient;
let trackingBase: string;

async function token(): Promise<string> {
  return (await cred.getToken(SCOPE)).token;
}

async function arm(
  method: string,
  p: string,
  body?: unknown,
): Promise<{ status: number; headers: Headers; json: any }> {
  const url =
    p.startsWith('https://') || /[?&]api-version=/.test(p)
      ? p.startsWith('https://')
        ? p
        : `${box.armUrl.replace(/\/$/, '')}${p}`
      : `${box.armUrl.replace(/\/$/, '')}${p}${p.includes('?') ? '&' : '?'}${API}`;
  const r = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${await token()}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: r.status, headers: r.headers, json };
}

async function mlflow(
  method: 'GET' | 'POST',
  op: string,
  body?: Record<string, unknown>,
  auth = true,
): Promise<{ status: number; json: any }> {
  let url = `${trackingBase}/api/2.0/mlflow/${op}`;
  if (method === 'GET' && body)
    url += '?' + new URLSearchParams(Object.entries(body).map(([k, v]): [string, string] => [k, String(v)])).toString();
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (auth) headers.authorization = `Bearer ${await token()}`;
  const r = await fetch(url, { method, headers, body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}

async function uploadDir(cc: ContainerClient, localDir: string, prefix: string): Promise<void> {
  for (const f of fs.readdirSync(localDir, { recursive: true }) as string[]) {
    const full = path.join(localDir, f);
    if (fs.statSync(full).isFile())
      await cc.getBlockBlobClient(`${prefix}/${f.split(path.sep).join('/')}`).uploadFile(full);
  }
}

async function blobText(container: string, name: string): Promise<string | undefined> {
  const b = blobs.getContainerClient(container).getBlobClient(name);
  if (!(await b.exists())) return undefined;
  return (await b.downloadToBuffer()).toString('utf8');
}

function commandJob(command: string, extra: Record<string, any> = {}): Record<string, any> {
  return {
    properties: {
      jobType: 'Command',
      command,
      codeId,
      environmentId: 'azureml://registries/azureml/environments/sklearn-1.5/labels/latest',
      computeId: `${wsArmId}/computes/cpu-cluster`,
      experimentName: 'jobs-emulator-test',
      displayName: 'test job',
      environmentVariables: { PYTHONUNBUFFERED: '1' },
      ...extra,
    },
  };
}

function trainJob(lr: string): Record<string, any> {
  return commandJob(
    'python train.py --data ${{inputs.training_data}} --lr ${{inputs.learning_rate}} --epochs 200 --model ${{outputs.model}}',
    {
      inputs: {
        training_data: { jobInputType: 'uri_file', uri: dataUri, mode: 'ReadOnlyMount' },
        learning_rate: { jobInputType: 'literal', value: lr },
      },
      outputs: { model: { jobOutputType: 'custom_model', mode: 'ReadWriteMount' } },
      tags: { purpose: 'test' },
    },
  );
}

const TERMINAL = new Set(['Completed', 'Failed', 'Canceled']);

/** poll the job; returns the final job and every status seen (in order, deduplicated) */
async function waitJob(
  name: string,
  timeoutMs = 60_000,
  until: (s: string) => boolean = (s) => TERMINAL.has(s),
): Promise<{ job: any; seen: string[] }> {
  const seen: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await arm('GET', `${wsPath}/jobs/${name}`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const s = r.json.properties.status;
    if (seen[seen.length - 1] !== s) seen.push(s);
    if (until(s)) return { job: r.json, seen };
    if (Date.now() > deadline)
      throw new Error(`job ${name} still ${s} after ${timeoutMs} ms (seen ${seen.join(' → ')})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

before(async () => {
  box = await startAzureInABox({ fastLro: true });
  cred = new ClientSecretCredential(box.tenantId, box.clientId, box.clientSecret, {
    authorityHost: box.authorityHost,
    disableInstanceDiscovery: true,
  });
  wsArmId = `/subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${box.workspace}`;
  wsPath = wsArmId;
  blobs = new BlobServiceClient(
    box.azurite.blobEndpoint,
    new StorageSharedKeyCredential(box.azurite.account, box.azurite.key),
  );
  const cc = blobs.getContainerClient(box.azurite.container);
  // code snapshot + dataset, laid out the way azure-ai-ml uploads them
  const codeHash = randomUUID().replace(/-/g, '');
  await uploadDir(cc, path.join(SAMPLE, 'src'), `LocalUpload/${codeHash}/src`);
  const ds = `azureml://subscriptions/${box.subscriptionId}/resourcegroups/${box.resourceGroup}/workspaces/${box.workspace}/datastores/workspaceblobstore/paths`;
  const code = await arm('PUT', `${wsPath}/codes/train-src/versions/1`, {
    properties: { codeUri: `${ds}/LocalUpload/${codeHash}/src`, isAnonymous: true },
  });
  assert.equal(code.status, 201, JSON.stringify(code.json));
  codeId = code.json.id;
  const dataHash = randomUUID().replace(/-/g, '');
  await cc
    .getBlockBlobClient(`LocalUpload/${dataHash}/diabetes.csv`)
    .uploadFile(path.join(SAMPLE, 'data', 'diabetes.csv'));
  dataUri = `${ds}/LocalUpload/${dataHash}/diabetes.csv`;
  const w = await arm('GET', wsPath);
  const tracking: string = w.json.properties.mlFlowTrackingUri;
  assert.match(tracking, /^azureml:\/\//);
  trackingBase = tracking.replace(/^azureml:\/\//, 'https://');
});

after(async () => {
  await box?.stop();
});

describe('command jobs', () => {
  test('a training job runs for real: status progression, MLflow metrics, log blob, model output', async () => {
    const name = `train-${randomUUID().slice(0, 8)}`;
    const put = await arm('PUT', `${wsPath}/jobs/${name}`, trainJob('0.5'));
    assert.equal(put.status, 201, JSON.stringify(put.json));
    assert.equal(put.json.properties.status, 'Starting', 'the service answers a new command job with Starting');
    assert.match(put.json.properties.services.Studio.endpoint, new RegExp(`/runs/${name}\\?wsid=`));
    assert.equal(
      put.json.properties.services.Tracking.endpoint,
      (await arm('GET', wsPath)).json.properties.mlFlowTrackingUri,
    );

    const { job, seen } = await waitJob(name);
    assert.equal(job.properties.status, 'Completed', `statuses: ${seen.join(' → ')}`);
    const order = ['Starting', 'Queued', 'Preparing', 'Running', 'Finalizing', 'Completed'];
    assert.deepEqual(
      seen.map((s) => order.indexOf(s)).filter((i) => i < 0),
      [],
      `unknown status in ${seen.join(',')}`,
    );
    assert.deepEqual(
      [...seen].sort((a, b) => order.indexOf(a) - order.indexOf(b)),
      seen,
      `out of order: ${seen.join(' → ')}`,
    );
    assert.ok(seen.includes('Running'), seen.join(','));
    const history = jobStatusHistory(box.ctx, job.id);
    assert.deepEqual(
      history.map((h) => h.status),
      ['Starting', 'Queued', 'Preparing', 'Running', 'Finalizing', 'Completed'],
    );
    assert.ok(Date.parse(history[5].time) >= Date.parse(history[0].time));

    // metrics over MLflow REST (run id = job name)
    const run = await mlflow('GET', 'runs/get', { run_id: name });
    assert.equal(run.status, 200, JSON.stringify(run.json));
    assert.equal(run.json.run.info.status, 'FINISHED');
    const metrics = Object.fromEntries(run.json.run.data.metrics.map((m: any) => [m.key, m.value]));
    assert.ok(metrics.accuracy > 0.65 && metrics.accuracy <= 1, `accuracy ${metrics.accuracy}`);
    assert.ok(metrics.f1 > 0.5 && metrics.f1 <= 1, `f1 ${metrics.f1}`);
    const params = Object.fromEntries(run.json.run.data.params.map((p: any) => [p.key, p.value]));
    assert.equal(params.learning_rate, '0.5');
    const hist = await mlflow('GET', 'metrics/get-history', { run_id: name, metric_key: 'loss' });
    assert.equal(hist.status, 200);
    const losses = hist.json.metrics.map((m: any) => m.value);
    assert.ok(losses.length >= 10, `loss history ${losses.length}`);
    assert.ok(
      losses[losses.length - 1] < losses[0],
      `loss did not go down: ${losses[0]} → ${losses[losses.length - 1]}`,
    );
    const exp = await mlflow('GET', 'experiments/get-by-name', { experiment_name: 'jobs-emulator-test' });
    assert.equal(exp.json.experiment.experiment_id, run.json.run.info.experiment_id);

    // log blob in the artifact container
    const log = await blobText('azureml', `ExperimentRun/dcid.${name}/user_logs/std_log.txt`);
    assert.ok(log, 'log blob missing');
    assert.match(log!, /test metrics: accuracy=/);
    assert.match(log!, /tracking to https:\/\/127\.0\.0\.1:\d+\/mlflow\/v1\.0\/subscriptions\//);

    // the model output, uploaded to the default location and recorded on the job
    assert.equal(
      job.properties.outputs.model.uri,
      `azureml://datastores/workspaceblobstore/paths/azureml/${name}/model/`,
    );
    const model = JSON.parse((await blobText(box.azurite.container, `azureml/${name}/model/model.json`))!);
    assert.equal(model.type, 'logistic_regression');
    assert.equal(model.weights.length, 4);
    assert.match(job.properties.outputs.default.uri, new RegExp(`ExperimentRun/dcid\\.${name}$`));

    // run history (what azure-ai-ml streams from): status and a readable log URL
    const details = await arm('GET', `https://${new URL(box.armUrl).host}/history/v1.0${wsArmId}/runs/${name}/details`);
    assert.equal(details.status, 200);
    assert.equal(details.json.status, 'Completed');
    const logUrl = details.json.logFiles['user_logs/std_log.txt'];
    assert.equal(await (await fetch(logUrl)).text(), log);
  });

  test('a failing job ends Failed with the exit code and the last lines of its log', async () => {
    const name = `fail-${randomUUID().slice(0, 8)}`;
    assert.equal((await arm('PUT', `${wsPath}/jobs/${name}`, trainJob('-1'))).status, 201);
    const { job } = await waitJob(name);
    assert.equal(job.properties.status, 'Failed');
    const details = await arm('GET', `https://${new URL(box.armUrl).host}/history/v1.0${wsArmId}/runs/${name}/details`);
    assert.match(details.json.error.error.message, /exited with status code 2/);
    assert.match(details.json.error.error.message, /--lr must be a positive number, got -1\.0/);
    const log = await blobText('azureml', `ExperimentRun/dcid.${name}/user_logs/std_log.txt`);
    assert.match(log!, /error: --lr must be a positive number/);
    assert.equal((await mlflow('GET', 'runs/get', { run_id: name })).json.run.info.status, 'FAILED');
    assert.equal(
      await blobText(box.azurite.container, `azureml/${name}/model/model.json`),
      undefined,
      'no output after a failure',
    );
  });

  test('cancel: Canceled within 5 s and the process group is gone', async () => {
    const name = `cancel-${randomUUID().slice(0, 8)}`;
    const pidFile = path.join(box.stateDir, `${name}.pid`);
    // a child of bash that would outlive a plain kill of bash: the whole process group must go
    const body = commandJob(`sleep 120 & echo $! > ${pidFile}; echo started; wait`);
    assert.equal((await arm('PUT', `${wsPath}/jobs/${name}`, body)).status, 201);
    await waitJob(name, 30_000, (s) => s === 'Running' || TERMINAL.has(s));
    const deadlinePid = Date.now() + 10_000;
    while (!fs.existsSync(pidFile) || !fs.readFileSync(pidFile, 'utf8').trim()) {
      if (Date.now() > deadlinePid) throw new Error('pid file never written');
      await new Promise((r) => setTimeout(r, 25));
    }
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    assert.doesNotThrow(() => process.kill(pid, 0), 'sleep should be running');
    const t0 = Date.now();
    const c = await arm('POST', `${wsPath}/jobs/${name}/cancel`);
    assert.equal(c.status, 202);
    const location = c.headers.get('location');
    assert.ok(location, 'cancel answers with a Location');
    for (;;) {
      const r = await arm('GET', location!);
      if (r.status !== 202) {
        assert.ok(r.status === 200 || r.status === 204, `${r.status} ${JSON.stringify(r.json)}`);
        break;
      }
      if (Date.now() - t0 > 5000) throw new Error('cancel LRO still running after 5 s');
      await new Promise((r) => setTimeout(r, 25));
    }
    const { job } = await waitJob(name, 5000);
    assert.equal(job.properties.status, 'Canceled');
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    const gone = Date.now() + 3000;
    let alive = true;
    while (alive && Date.now() < gone) {
      try {
        process.kill(pid, 0);
        await new Promise((r) => setTimeout(r, 50));
      } catch {
        alive = false;
      }
    }
    assert.equal(alive, false, `process ${pid} survived the cancel`);
    assert.equal((await mlflow('GET', 'runs/get', { run_id: name })).json.run.info.status, 'KILLED');
  });

  test('inputs by asset reference (data asset, model version) and by job output are materialised', async () => {
    // a model registered from the output of an earlier job: upload a folder, register it, then feed it to a job
    const cc = blobs.getContainerClient(box.azurite.container);
    await cc.getBlockBlobClient('models/ref-test/model.json').upload('{"w":1}', 7);
    const mv = await arm('PUT', `${wsPath}/models/ref-model/versions/1`, {
      properties: {
        modelType: 'custom_model',
        modelUri: 'azureml://datastores/workspaceblobstore/paths/models/ref-test/',
      },
    });
    assert.ok(mv.status === 200 || mv.status === 201, JSON.stringify(mv.json));
    const name = `refs-${randomUUID().slice(0, 8)}`;
    const body = commandJob('ls ${{inputs.d}}; cat ${{inputs.m}}/model.json; echo; echo "n=${{inputs.n}}"', {
      inputs: {
        d: { jobInputType: 'uri_folder', uri: 'azureml:local-folder-example:1' },
        m: { jobInputType: 'custom_model', uri: 'azureml:ref-model:1' },
        n: { jobInputType: 'literal', value: '3' },
      },
    });
    assert.equal((await arm('PUT', `${wsPath}/jobs/${name}`, body)).status, 201);
    const { job } = await waitJob(name);
    assert.equal(job.properties.status, 'Completed');
    const log = await blobText('azureml', `ExperimentRun/dcid.${name}/user_logs/std_log.txt`);
    assert.match(log!, /sample\.csv/);
    assert.match(log!, /\{"w":1\}/);
    assert.match(log!, /n=3/);
  });

  test('timing is live-tunable: a longer queue time keeps the job Queued', async () => {
    const t = jobRunnerOf(box.ctx)!.timing;
    const before = t.prepareMs;
    t.prepareMs = 1500;
    try {
      const name = `slow-${randomUUID().slice(0, 8)}`;
      assert.equal((await arm('PUT', `${wsPath}/jobs/${name}`, commandJob('echo hi'))).status, 201);
      await waitJob(name, 5000, (s) => s === 'Queued');
      const t0 = Date.now();
      await waitJob(name, 10_000, (s) => s === 'Preparing' || TERMINAL.has(s));
      assert.ok(Date.now() - t0 > 1000, `left Queued after ${Date.now() - t0} ms`);
      assert.equal((await waitJob(name)).job.properties.status, 'Completed');
    } finally {
      t.prepareMs = before;
    }
  });

  test('limits.timeout: the job is canceled when it runs too long', async () => {
    const name = `timeout-${randomUUID().slice(0, 8)}`;
    const body = commandJob('sleep 30', { limits: { jobLimitsType: 'Command', timeout: 'PT1S' } });
    const put = await arm('PUT', `${wsPath}/jobs/${name}`, body);
    assert.equal(put.status, 201, JSON.stringify(put.json));
    const t0 = Date.now();
    const { job } = await waitJob(name, 15_000);
    assert.equal(job.properties.status, 'Canceled');
    assert.ok(Date.now() - t0 < 8000);
    const h = await arm('GET', `https://${new URL(box.armUrl).host}/history/v1.0${wsArmId}/runs/${name}`);
    assert.match(h.json.error.error.message, /exceeded its time limit/);
  });

  test('unknown compute → 400 UserError naming the compute, nothing stored', async () => {
    const name = `nocompute-${randomUUID().slice(0, 8)}`;
    const r = await arm('PUT', `${wsPath}/jobs/${name}`, {
      properties: { ...trainJob('0.5').properties, computeId: `${wsArmId}/computes/no-such-cluster` },
    });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'UserError');
    assert.match(r.json.error.message, /Compute no-such-cluster not found/);
    assert.equal((await arm('GET', `${wsPath}/jobs/${name}`)).status, 404);
  });

  test('swagger validation and submission checks reject bad bodies', async () => {
    const noEnv = await arm('PUT', `${wsPath}/jobs/bad-${randomUUID().slice(0, 8)}`, {
      properties: { jobType: 'Command', command: 'echo hi' },
    });
    assert.equal(noEnv.status, 400);
    assert.match(JSON.stringify(noEnv.json), /environmentId/);
    const undefinedInput = await arm(
      'PUT',
      `${wsPath}/jobs/bad-${randomUUID().slice(0, 8)}`,
      commandJob('echo ${{inputs.nope}}'),
    );
    assert.equal(undefinedInput.status, 400);
    assert.match(undefinedInput.json.error.message, /'nope'/);
  });

  test('re-PUT of the same job is idempotent; a different body under the same name is refused', async () => {
    const name = `dup-${randomUUID().slice(0, 8)}`;
    const body = commandJob('echo hello');
    assert.equal((await arm('PUT', `${wsPath}/jobs/${name}`, body)).status, 201);
    const again = await arm('PUT', `${wsPath}/jobs/${name}`, body);
    assert.equal(again.status, 200);
    const other = await arm('PUT', `${wsPath}/jobs/${name}`, commandJob('echo other'));
    assert.equal(other.status, 400);
    assert.match(other.json.error.message, /already exists/);
    await waitJob(name);
  });

  test('list: newest first, jobType and tag filters, $skipToken paging', async () => {
    const names = [];
    for (let i = 0; i < 3; i++) {
      const name = `list-${i}-${randomUUID().slice(0, 6)}`;
      names.push(name);
      assert.equal(
        (await arm('PUT', `${wsPath}/jobs/${name}`, commandJob('echo hi', { tags: { batch: 'listing' } }))).status,
        201,
      );
      await new Promise((r) => setTimeout(r, 5));
    }
    const seen: string[] = [];
    let r = await arm('GET', `${wsPath}/jobs?$top=2&tag=batch=listing&jobType=Command`);
    for (;;) {
      assert.equal(r.status, 200);
      seen.push(...r.json.value.map((j: any) => j.name));
      if (!r.json.nextLink) break;
      assert.match(r.json.nextLink, /\$skipToken=/);
      r = await arm('GET', r.json.nextLink);
    }
    assert.deepEqual(seen, [...names].reverse());
    assert.deepEqual((await arm('GET', `${wsPath}/jobs?jobType=Sweep&tag=batch=listing`)).json.value, []);
    for (const n of names) await waitJob(n);
  });
});

describe('MLflow REST', () => {
  test('needs a bearer token', async () => {
    const r = await mlflow('GET', 'experiments/get-by-name', { experiment_name: 'Default' }, false);
    assert.equal(r.status, 401);
  });

  test('create, log, search, order; params are immutable', async () => {
    const expName = `exp-${randomUUID().slice(0, 6)}`;
    const e = await mlflow('POST', 'experiments/create', { name: expName });
    assert.equal(e.status, 200);
    const dup = await mlflow('POST', 'experiments/create', { name: expName });
    assert.equal(dup.json.error_code, 'RESOURCE_ALREADY_EXISTS');
    const ids: string[] = [];
    for (const [i, acc] of [0.7, 0.9, 0.8].entries()) {
      const r = await mlflow('POST', 'runs/create', {
        experiment_id: e.json.experiment_id,
        run_name: `r${i}`,
        tags: [{ key: 'team', value: i === 0 ? 'a' : 'b' }],
      });
      ids.push(r.json.run.info.run_id);
      assert.equal(
        (
          await mlflow('POST', 'runs/log-metric', {
            run_id: r.json.run.info.run_id,
            key: 'acc',
            value: acc,
            timestamp: Date.now(),
            step: 0,
          })
        ).status,
        200,
      );
      assert.equal(
        (await mlflow('POST', 'runs/log-parameter', { run_id: r.json.run.info.run_id, key: 'lr', value: String(i) }))
          .status,
        200,
      );
    }
    const changed = await mlflow('POST', 'runs/log-batch', { run_id: ids[0], params: [{ key: 'lr', value: '42' }] });
    assert.equal(changed.status, 400);
    assert.equal(changed.json.error_code, 'INVALID_PARAMETER_VALUE');
    const s = await mlflow('POST', 'runs/search', {
      experiment_ids: [e.json.experiment_id],
      filter: "tags.team = 'b'",
      order_by: ['metrics.acc DESC'],
    });
    assert.deepEqual(
      s.json.runs.map((r: any) => r.info.run_name),
      ['r1', 'r2'],
    );
    const byName = await mlflow('POST', 'runs/search', {
      experiment_ids: [e.json.experiment_id],
      filter: "attributes.run_name = 'r0' and metrics.acc < 0.75",
    });
    assert.deepEqual(
      byName.json.runs.map((r: any) => r.info.run_id),
      [ids[0]],
    );
    const upd = await mlflow('POST', 'runs/update', { run_id: ids[0], status: 'FINISHED', end_time: Date.now() });
    assert.equal(upd.json.run_info.status, 'FINISHED');
    const missing = await mlflow('GET', 'runs/get', { run_id: 'nope' });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
  });
});

describe('sweep and pipeline jobs', () => {
  test('sweep: one child job per sampled learning rate, best trial by the objective (lowest test_loss)', async () => {
    const name = `sweep-${randomUUID().slice(0, 8)}`;
    const body = {
      properties: {
        jobType: 'Sweep',
        experimentName: 'jobs-emulator-sweep',
        computeId: `${wsArmId}/computes/cpu-cluster`,
        inputs: { training_data: { jobInputType: 'uri_file', uri: dataUri } },
        outputs: { model: { jobOutputType: 'custom_model' } },
        trial: {
          command:
            'python train.py --data ${{inputs.training_data}} --lr ${{search_space.lr}} --epochs 100 --model ${{outputs.model}}',
          codeId,
          environmentId: 'azureml://registries/azureml/environments/sklearn-1.5/labels/latest',
        },
        searchSpace: { lr: ['choice', [[0.001, 0.5]]] },
        samplingAlgorithm: { samplingAlgorithmType: 'Grid' },
        objective: { goal: 'Minimize', primaryMetric: 'test_loss' },
        limits: { jobLimitsType: 'Sweep', maxTotalTrials: 2, maxConcurrentTrials: 2 },
      },
    };
    const put = await arm('PUT', `${wsPath}/jobs/${name}`, body);
    assert.equal(put.status, 201, JSON.stringify(put.json));
    const { job } = await waitJob(name, 90_000);
    assert.equal(job.properties.status, 'Completed');
    const losses: Record<string, number> = {};
    for (const child of [`${name}_0`, `${name}_1`]) {
      const c = await arm('GET', `${wsPath}/jobs/${child}`);
      assert.equal(c.json.properties.status, 'Completed');
      const run = await mlflow('GET', 'runs/get', { run_id: child });
      losses[child] = run.json.run.data.metrics.find((m: any) => m.key === 'test_loss').value;
      assert.ok(['0.001', '0.5'].includes(run.json.run.data.params.find((p: any) => p.key === 'lr')?.value));
    }
    const best = Object.entries(losses).sort((a, b) => a[1] - b[1])[0][0];
    assert.notEqual(losses[`${name}_0`], losses[`${name}_1`], 'the two learning rates should give different losses');
    assert.equal(job.properties.properties.best_child_run_id, best);
    assert.ok(
      await blobText(box.azurite.container, `azureml/${name}/model/model.json`),
      'sweep output = best trial output',
    );
    const hist = await arm('GET', `https://${new URL(box.armUrl).host}/history/v1.0${wsArmId}/runs/${name}/children`);
    assert.deepEqual(hist.json.value.map((r: any) => r.runId).sort(), [`${name}_0`, `${name}_1`]);
    assert.equal(
      (await arm('GET', `https://${new URL(box.armUrl).host}/history/v1.0${wsArmId}/runs/${name}`)).json.properties
        .best_child_run_id,
      best,
    );
    const listed = (await arm('GET', `${wsPath}/jobs?jobType=Command&$top=100`)).json.value.map((j: any) => j.name);
    assert.ok(!listed.includes(`${name}_0`), 'trials are not listed as top-level jobs');
  });

  test('pipeline: steps run in dependency order with outputs bound to inputs', async () => {
    const name = `pipe-${randomUUID().slice(0, 8)}`;
    const env = 'azureml://registries/azureml/environments/sklearn-1.5/labels/latest';
    const body = {
      properties: {
        jobType: 'Pipeline',
        experimentName: 'jobs-emulator-pipeline',
        settings: { default_compute: `${wsArmId}/computes/cpu-cluster` },
        inputs: { greeting: { jobInputType: 'literal', value: 'hello' } },
        jobs: {
          // declared consumer-first: order must come from the binding
          consume: {
            type: 'command',
            command: 'cat ${{inputs.in}}/msg.txt',
            environment: env,
            inputs: { in: { job_input_type: 'literal', value: '${{parent.jobs.produce.outputs.out}}' } },
          },
          produce: {
            type: 'command',
            command: 'echo "${{inputs.g}} from produce" > ${{outputs.out}}/msg.txt',
            environment: env,
            inputs: { g: { job_input_type: 'literal', value: '${{parent.inputs.greeting}}' } },
            outputs: { out: { job_output_type: 'uri_folder' } },
          },
        },
      },
    };
    const put = await arm('PUT', `${wsPath}/jobs/${name}`, body);
    assert.equal(put.status, 201, JSON.stringify(put.json));
    const { job } = await waitJob(name, 60_000);
    assert.equal(
      job.properties.status,
      'Completed',
      JSON.stringify(
        (await arm('GET', `https://${new URL(box.armUrl).host}/history/v1.0${wsArmId}/runs/${name}`)).json.error,
      ),
    );
    const log = await blobText('azureml', `ExperimentRun/dcid.${name}_consume/user_logs/std_log.txt`);
    assert.equal(log?.trim(), 'hello from produce');
    const c = await arm('GET', `${wsPath}/jobs/${name}_consume`);
    assert.equal(c.json.properties.status, 'Completed');
  });

  test('pipeline with component steps (azure-ai-ml REST shape): train → check, parent input and output bindings', async () => {
    const env = 'azureml://registries/azureml/environments/sklearn-1.5/labels/latest';
    const train = await arm('PUT', `${wsPath}/components/train-comp/versions/1`, {
      properties: {
        componentSpec: {
          name: 'train-comp',
          version: '1',
          type: 'command',
          code: `azureml:${codeId}`,
          environment: env,
          command:
            'python train.py --data ${{inputs.training_data}} --lr ${{inputs.learning_rate}} --epochs 50 --model ${{outputs.model}}',
          inputs: { training_data: { type: 'uri_file' }, learning_rate: { type: 'number', default: 0.3 } },
          outputs: { model: { type: 'custom_model' } },
        },
      },
    });
    assert.equal(train.status, 201, JSON.stringify(train.json));
    const check = await arm('PUT', `${wsPath}/components/check-comp/versions/1`, {
      properties: {
        componentSpec: {
          name: 'check-comp',
          version: '1',
          type: 'command',
          environment: env,
          command:
            "python3 -c \"import json,sys; m=json.load(open(sys.argv[1]+'/model.json')); print('model type', m['type'])\" ${{inputs.model}}",
          inputs: { model: { type: 'custom_model' } },
        },
      },
    });
    assert.equal(check.status, 201, JSON.stringify(check.json));
    const name = `comp-${randomUUID().slice(0, 8)}`;
    const body = {
      properties: {
        jobType: 'Pipeline',
        experimentName: 'jobs-emulator-components',
        settings: { default_compute: `${wsArmId}/computes/cpu-cluster` },
        inputs: { data: { jobInputType: 'uri_file', uri: dataUri } },
        outputs: { trained: { jobOutputType: 'custom_model' } },
        jobs: {
          check: {
            name: 'check',
            type: 'command',
            componentId: check.json.id,
            _source: 'YAML.JOB',
            inputs: { model: { job_input_type: 'literal', value: '${{parent.jobs.train.outputs.model}}' } },
          },
          train: {
            name: 'train',
            type: 'command',
            componentId: train.json.id,
            _source: 'YAML.JOB',
            computeId: `${wsArmId}/computes/cpu-cluster`,
            inputs: { training_data: { job_input_type: 'literal', value: '${{parent.inputs.data}}' } },
            outputs: { model: { value: '${{parent.outputs.trained}}', type: 'literal' } },
          },
        },
      },
    };
    const put = await arm('PUT', `${wsPath}/jobs/${name}`, body);
    assert.equal(put.status, 201, JSON.stringify(put.json));
    const { job } = await waitJob(name, 60_000);
    assert.equal(
      job.properties.status,
      'Completed',
      JSON.stringify(
        (await arm('GET', `https://${new URL(box.armUrl).host}/history/v1.0${wsArmId}/runs/${name}`)).json.error,
      ),
    );
    assert.match(
      (await blobText('azureml', `ExperimentRun/dcid.${name}_check/user_logs/std_log.txt`))!,
      /model type logistic_regression/,
    );
    // the train step wrote to the pipeline's output location; its default learning rate came from the component
    assert.ok(await blobText(box.azurite.container, `azureml/${name}/trained/model.json`));
    const run = await mlflow('GET', 'runs/get', { run_id: `${name}_train` });
    assert.equal(run.json.run.data.params.find((p: any) => p.key === 'learning_rate')?.value, '0.3');
    assert.equal(
      job.properties.outputs.trained.uri,
      `azureml://datastores/workspaceblobstore/paths/azureml/${name}/trained/`,
    );
  });

  test('pipeline: a failing step fails the pipeline and later steps are Canceled', async () => {
    const name = `pipefail-${randomUUID().slice(0, 8)}`;
    const env = 'azureml://registries/azureml/environments/sklearn-1.5/labels/latest';
    const body = {
      properties: {
        jobType: 'Pipeline',
        settings: { default_compute: `${wsArmId}/computes/cpu-cluster` },
        jobs: {
          a: {
            type: 'command',
            command: 'echo boom >&2; exit 3',
            environment: env,
            outputs: { o: { job_output_type: 'uri_folder' } },
          },
          b: {
            type: 'command',
            command: 'ls ${{inputs.i}}',
            environment: env,
            inputs: { i: { job_input_type: 'literal', value: '${{parent.jobs.a.outputs.o}}' } },
          },
        },
      },
    };
    assert.equal((await arm('PUT', `${wsPath}/jobs/${name}`, body)).status, 201);
    const { job } = await waitJob(name);
    assert.equal(job.properties.status, 'Failed');
    assert.equal((await arm('GET', `${wsPath}/jobs/${name}_a`)).json.properties.status, 'Failed');
    assert.equal((await arm('GET', `${wsPath}/jobs/${name}_b`)).json.properties.status, 'Canceled');
    const h = await arm('GET', `https://${new URL(box.armUrl).host}/history/v1.0${wsArmId}/runs/${name}`);
    assert.match(h.json.error.error.message, /Step 'a'.*status code 3.*boom/s);
  });
});

describe('assets and computes', () => {
  test('seeded computes: cpu-cluster (AmlCompute) and k8s-compute (Kubernetes)', async () => {
    const list = await arm('GET', `${wsPath}/computes`);
    const types = Object.fromEntries(list.json.value.map((c: any) => [c.name, c.properties.computeType]));
    assert.equal(types['cpu-cluster'], 'AmlCompute');
    assert.equal(types['k8s-compute'], 'Kubernetes');
    const k8s = await arm('GET', `${wsPath}/computes/k8s-compute`);
    assert.equal(k8s.json.properties.properties.namespace, 'azureml');
  });

  test('code versions: path changes are refused; environment versions need an image or a build', async () => {
    const uri = `${box.azurite.blobEndpoint}/${box.azurite.container}/LocalUpload/abc/src`;
    assert.equal((await arm('PUT', `${wsPath}/codes/c1/versions/1`, { properties: { codeUri: uri } })).status, 201);
    assert.equal((await arm('PUT', `${wsPath}/codes/c1/versions/1`, { properties: { codeUri: uri } })).status, 200);
    const moved = await arm('PUT', `${wsPath}/codes/c1/versions/1`, {
      properties: { codeUri: uri.replace('abc', 'def') },
    });
    assert.equal(moved.status, 400);
    assert.equal(moved.json.error.message, 'Asset paths cannot be updated.');
    const env = await arm('PUT', `${wsPath}/environments/e1/versions/1`, { properties: { condaFile: 'name: x' } });
    assert.equal(env.status, 400);
    assert.equal(
      (
        await arm('PUT', `${wsPath}/environments/e1/versions/1`, {
          properties: { image: 'mcr.microsoft.com/azureml/minimal-ubuntu22.04-py311-cpu-inference:latest' },
        })
      ).status,
      201,
    );
    assert.equal(
      (await arm('PUT', `${wsPath}/environments/e1/versions/2`, { properties: { image: 'x:2' } })).status,
      201,
    );
    const c = await arm('GET', `${wsPath}/environments/e1`);
    assert.equal(c.json.properties.latestVersion, '2');
    const latest = await arm('GET', `${wsPath}/environments/e1/versions?$orderBy=createdtime desc&$top=1`);
    assert.equal(latest.json.value[0].name, '2');
  });
});

describe('restart', () => {
  test('jobs, metrics and logs survive a restart of the box on the same state folder', async () => {
    const stateDir = fs.mkdtempSync(path.join(box.stateDir, 'restart-'));
    let b2 = await startAzureInABox({ fastLro: true, stateDir });
    const c2 = new ClientSecretCredential(b2.tenantId, b2.clientId, b2.clientSecret, {
      authorityHost: b2.authorityHost,
      disableInstanceDiscovery: true,
    });
    const ws = `/subscriptions/${b2.subscriptionId}/resourceGroups/${b2.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${b2.workspace}`;
    const call = async (b: AzureInABox, method: string, p: string, body?: unknown) => {
      const r = await fetch(p.startsWith('https://') ? p : `${b.armUrl.replace(/\/$/, '')}${p}?${API}`, {
        method,
        headers: { authorization: `Bearer ${(await c2.getToken(SCOPE)).token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: r.status, json: (await r.json().catch(() => undefined)) as any };
    };
    try {
      const body = {
        properties: {
          jobType: 'Command',
          command: 'python3 -c "print(6*7)"',
          environmentId: 'azureml://registries/azureml/environments/sklearn-1.5/labels/latest',
          computeId: `${ws}/computes/cpu-cluster`,
        },
      };
      assert.equal((await call(b2, 'PUT', `${ws}/jobs/survivor`, body)).status, 201);
      for (let i = 0; ; i++) {
        const s = (await call(b2, 'GET', `${ws}/jobs/survivor`)).json.properties.status;
        if (s === 'Completed') break;
        assert.ok(i < 400 && !['Failed', 'Canceled'].includes(s), s);
        await new Promise((r) => setTimeout(r, 25));
      }
      await b2.stop();
      b2 = await startAzureInABox({ fastLro: true, stateDir });
      const j = await call(b2, 'GET', `${ws}/jobs/survivor`);
      assert.equal(j.json.properties.status, 'Completed');
      // the artifact store follows Azurite's new port, like workspaceblobstore
      const art = await call(b2, 'GET', `${ws}/datastores/workspaceartifactstore`);
      const blob = await call(b2, 'GET', `${ws}/datastores/workspaceblobstore`);
      assert.equal(art.json.properties.containerName, 'azureml');
      assert.equal(art.json.properties.endpoint, blob.json.properties.endpoint);
      const det = await call(b2, 'GET', `https://${new URL(b2.armUrl).host}/history/v1.0${ws}/runs/survivor/details`);
      assert.equal((await (await fetch(det.json.logFiles['user_logs/std_log.txt'])).text()).trim(), '42');
    } finally {
      await b2.stop();
    }
  });
});

// The corpus, translated by the Job task's own translator (src/azureml/jobSpec.ts) with a resolver that creates the
// referenced resources on the box, must pass the box's swagger validation and submission checks. Code folders are not
// part of the corpus, so code versions point at an empty location (those jobs then fail at Preparing, which is fine here);
// the jobs that need no code really run: hello-world and hello-pipeline must complete.
describe('corpus jobs are accepted by the emulator', () => {
  const CORPUS = path.resolve(ROOT, 'test', 'fixtures', 'third-party', 'azureml-examples', 'cli', 'jobs');
  const files = (fs.readdirSync(CORPUS, { recursive: true }) as string[])
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    // (the `$schema` line may follow a comment line, as in cli/jobs/spark)
    .filter((f) => !/^\$schema:.*Component\.schema\.json/m.test(fs.readFileSync(path.join(CORPUS, f), 'utf8')))
    // jobs only (not the conda / environment files next to them)
    .filter((f) =>
      /^(\$schema:.*Job\.schema|type:|command:|jobs:)/m.test(fs.readFileSync(path.join(CORPUS, f), 'utf8')),
    );
  before(() => {
    // the GPU examples (6a_tf_hello_world, gpu_perf) name gpu-cluster: the box gets one like its cpu-cluster
    const cpu = box.store.get<Record<string, unknown>>('computes', `${wsArmId}/computes/cpu-cluster`)!;
    if (!box.store.get('computes', `${wsArmId}/computes/gpu-cluster`))
      box.store.put('computes', `${wsArmId}/computes/gpu-cluster`, {
        ...structuredClone(cpu),
        id: `${wsArmId}/computes/gpu-cluster`,
        name: 'gpu-cluster',
      });
    // the attached-Spark examples name `<ATTACHED_SPARK_POOL_NAME>`, which their setup-attached-resources.sh replaces
    // (sed) by the Synapse Spark pool it attached, `mysparkcompute`: the same below, and the box gets that compute
    if (!box.store.get('computes', `${wsArmId}/computes/mysparkcompute`))
      box.store.put('computes', `${wsArmId}/computes/mysparkcompute`, {
        ...structuredClone(cpu),
        id: `${wsArmId}/computes/mysparkcompute`,
        name: 'mysparkcompute',
        properties: { ...(cpu.properties as object), computeType: 'SynapseSpark' },
      });
  });
  const resolver = (): SpecResolver => ({
    wsPath: wsArmId,
    async uploadCode(p) {
      const name = `corpus-${path.basename(p)}-${randomUUID().slice(0, 6)}`;
      const r = await arm('PUT', `${wsPath}/codes/${name}/versions/1`, {
        properties: {
          isAnonymous: true,
          codeUri: `azureml://subscriptions/${box.subscriptionId}/resourcegroups/${box.resourceGroup}/workspaces/${box.workspace}/datastores/workspaceblobstore/paths/LocalUpload/missing/${path.basename(p)}`,
        },
      });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      return r.json.id;
    },
    async uploadLocalPath(p) {
      return `azureml://datastores/workspaceblobstore/paths/LocalUpload/missing/${path.basename(p)}`;
    },
    async ensureEnvironment(e) {
      const name = e.name ?? 'CliV2AnonymousEnvironment';
      const version = e.version ?? randomUUID().replace(/-/g, '');
      const props: Record<string, unknown> = { isAnonymous: !e.name, osType: e.osType ?? 'Linux' };
      if (e.image) props.image = e.image;
      if (e.build)
        props.build = {
          contextUri: e.build.local
            ? 'azureml://datastores/workspaceblobstore/paths/LocalUpload/missing/ctx'
            : e.build.path,
          dockerfilePath: e.build.dockerfilePath ?? 'Dockerfile',
        };
      if (e.condaSpec) props.condaFile = JSON.stringify(e.condaSpec);
      const r = await arm('PUT', `${wsPath}/environments/${name}/versions/${version}`, { properties: props });
      assert.ok(r.status === 201 || r.status === 200, JSON.stringify(r.json));
      return r.json.id;
    },
    async ensureComponent(c) {
      const r = await arm('PUT', `${wsPath}/components/${c.name}/versions/${c.version}`, c.body);
      assert.ok(r.status === 201 || r.status === 200, JSON.stringify(r.json));
      return r.json.id;
    },
    async resolveAsset(kind, ref) {
      const m = /^azureml:([^:@]+)(?::(.+)|@(.+))?$/.exec(ref)!;
      if (m[2]) return `${wsArmId}/${kind}/${m[1]}/versions/${m[2]}`;
      const r = await arm('GET', `${wsPath}/${kind}/${m[1]}/versions?$orderBy=createdtime desc&$top=1`);
      assert.equal(r.status, 200, `${ref}: ${JSON.stringify(r.json)}`);
      assert.ok(r.json.value.length, `${ref} has no versions on the box`);
      return r.json.value[0].id;
    },
    async computeId(n) {
      const r = await arm('GET', `${wsPath}/computes/${n}`);
      assert.equal(r.status, 200, `compute ${n}`);
      return r.json.id;
    },
  });
  /** the same resolver, but local code folders and input files are really uploaded */
  const uploadingResolver = (): SpecResolver => {
    const base = resolver();
    const cc = () => blobs.getContainerClient(box.azurite.container);
    const ds = `azureml://subscriptions/${box.subscriptionId}/resourcegroups/${box.resourceGroup}/workspaces/${box.workspace}/datastores/workspaceblobstore/paths`;
    const upload = async (p: string): Promise<string> => {
      const prefix = `LocalUpload/${randomUUID().replace(/-/g, '')}/${path.basename(p)}`;
      if (fs.statSync(p).isDirectory()) await uploadDir(cc(), p, prefix);
      else await cc().getBlockBlobClient(prefix).uploadFile(p);
      return `${ds}/${prefix}`;
    };
    return {
      ...base,
      async uploadCode(p) {
        const r = await arm('PUT', `${wsPath}/codes/${randomUUID()}/versions/1`, {
          properties: { isAnonymous: true, codeUri: await upload(p) },
        });
        assert.equal(r.status, 201, JSON.stringify(r.json));
        return r.json.id;
      },
      uploadLocalPath: upload,
    };
  };

  for (const [file, status, lr] of [
    ['job.yml', 'Completed', '0.5'],
    ['job-fail.yml', 'Failed', '-1'],
  ] as const) {
    test(`samples/training/${file} through the Job task's translator → ${status}`, async () => {
      const spec = parseJobYaml(path.join(SAMPLE, file));
      const { body } = await buildJobBody(spec, uploadingResolver());
      assert.equal((body.properties.inputs as any).learning_rate.value, lr);
      const name = `sample-${randomUUID().slice(0, 8)}`;
      const put = await arm('PUT', `${wsPath}/jobs/${name}`, body);
      assert.equal(put.status, 201, JSON.stringify(put.json));
      const { job } = await waitJob(name, 60_000);
      assert.equal(job.properties.status, status);
      const run = await mlflow('GET', 'runs/get', { run_id: name });
      if (status === 'Completed') {
        assert.ok(run.json.run.data.metrics.find((m: any) => m.key === 'accuracy')?.value > 0.65);
        assert.ok(await blobText(box.azurite.container, `azureml/${name}/model/model.json`));
      } else {
        const h = await arm('GET', `https://${new URL(box.armUrl).host}/history/v1.0${wsArmId}/runs/${name}`);
        assert.match(h.json.error.error.message, /--lr must be a positive number/);
      }
    });
  }

  for (const f of files) {
    test(f, async () => {
      const text = fs
        .readFileSync(path.join(CORPUS, f), 'utf8')
        .replace(/<ATTACHED_SPARK_POOL_NAME>/g, 'mysparkcompute');
      const { body } = await buildJobBody(parseJobYaml(path.join(CORPUS, f), { text }), resolver());
      const name = `corpus-${path.basename(f, path.extname(f)).replace(/[^A-Za-z0-9]+/g, '-')}-${randomUUID().slice(0, 6)}`;
      // at the api-version the Job task sends jobs at (validated there by the box, unknown members refused)
      const put = await arm('PUT', `${wsPath}/jobs/${name}?api-version=${JOBS_API_VERSION}`, body);
      assert.equal(put.status, 201, JSON.stringify(put.json));
      if (f === path.join('basics', 'hello-world.yml') || f === path.join('basics', 'hello-pipeline.yml')) {
        const { job } = await waitJob(name, 30_000);
        assert.equal(
          job.properties.status,
          'Completed',
          JSON.stringify(
            (await arm('GET', `https://${new URL(box.armUrl).host}/history/v1.0${wsArmId}/runs/${name}`)).json.error,
          ),
        );
      } else {
        assert.equal((await arm('POST', `${wsPath}/jobs/${name}/cancel`)).status, 202);
      }
    });
  }
});
