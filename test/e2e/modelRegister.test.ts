// AzureMLModelRegister@1 end to end: the bundled task (tasks/AzureMLModelRegisterV1/index.js) spawned with the agent's
// environment against Azure-in-a-box (ARM + Entra + DevOps OIDC + Azurite), for each auth scheme.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { startAzureInABox, type AzureInABox } from '../emulator';
import {
  REPO_ROOT,
  runBundledTask,
  type AuthScheme,
  type RunOptions,
  type TaskRunWithLeaks,
  explainRun,
} from '../helpers/agent';
import { uploadFiles, wsArmPath } from '../helpers/modelSeed';

const TASK = 'AzureMLModelRegister';
const SAMPLE = path.join(REPO_ROOT, 'samples', 'model');
let box: AzureInABox;

before(async () => {
  box = await startAzureInABox({ fastLro: true });
  // finished jobs, put straight into the emulator's store (no ARM request): one Completed with a `model` output, one Failed
  for (const [job, status] of [
    ['e2e-train-done', 'Completed'],
    ['e2e-train-failed', 'Failed'],
  ] as const) {
    const id = wsArmPath(box, `/jobs/${job}`);
    box.store.put('jobs', id, {
      id,
      name: job,
      type: 'Microsoft.MachineLearningServices/workspaces/jobs',
      properties: {
        jobType: 'Command',
        status,
        command: 'python train.py',
        environmentId: 'azureml:env:1',
        computeId: 'cpu',
        outputs: { model: { jobOutputType: 'mlflow_model', mode: 'ReadWriteMount' } },
      },
    });
  }
  await uploadFiles(box, 'azureml/e2e-train-done/model', { MLmodel: 'flavors: {}', 'model.pkl': 'pickle' });
});
after(async () => {
  await box?.stop();
});

interface StoredVersion {
  name: string;
  model: string;
  systemData?: { createdBy: string };
  properties: {
    modelUri: string;
    modelType: string;
    tags: Record<string, string>;
    properties: Record<string, string>;
    jobName?: string;
  };
}
const versionsOf = (model: string) => box.store.list<StoredVersion>('modelVersions').filter((v) => v.model === model);

function workdir(files: Record<string, string> = {}): string {
  const d = mkdtempSync(path.join(tmpdir(), 'reg-e2e-'));
  for (const [k, v] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(d, k)), { recursive: true });
    writeFileSync(path.join(d, k), v);
  }
  return d;
}

async function run(
  inputs: Record<string, string>,
  opts: Partial<RunOptions> = {},
): Promise<TaskRunWithLeaks & { puts: string[] }> {
  const before = box.requests.length;
  const r = await runBundledTask(TASK, {
    box,
    scheme: 'secret',
    timeoutMs: 60_000,
    ...opts,
    inputs: {
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      modelType: 'custom_model',
      lineageTags: 'true',
      ...inputs,
    },
  });
  const puts = box.requests
    .slice(before)
    .filter((q) => q.method === 'PUT' || q.method === 'PATCH' || q.method === 'DELETE')
    .map((q) => `${q.method} ${q.url}`);
  return Object.assign(r, { puts });
}

const explain = (r: TaskRunWithLeaks) => explainRun(r, { lines: 25 });

async function indicatorMetadata(modelUri: string, firstRel: string): Promise<Record<string, string> | undefined> {
  const blobPath = modelUri.replace(/^.*\/paths\//, '') + (firstRel ? `/${firstRel}` : '');
  const svc = new BlobServiceClient(
    box.azurite.blobEndpoint,
    new StorageSharedKeyCredential(box.azurite.account, box.azurite.key),
  );
  try {
    return (await svc.getContainerClient(box.azurite.container).getBlobClient(blobPath).getProperties()).metadata;
  } catch {
    return undefined;
  }
}

for (const scheme of ['secret', 'certificate', 'wif'] as AuthScheme[]) {
  describe(`register with ${scheme} authentication`, () => {
    const folderModel = `e2e-folder-${scheme}`;
    const fileModel = `e2e-file-${scheme}`;
    const cwd = workdir();
    cpSync(SAMPLE, path.join(cwd, 'model'), { recursive: true });

    test('folder: uploads, registers version 1, outputs, lineage tags, summary', async () => {
      const r = await run(
        {
          modelName: folderModel,
          modelPath: 'model',
          tags: 'team=risk\nstage=candidate',
          properties: 'framework=none',
          description: 'sample linear model',
        },
        { scheme, cwd },
      );
      assert.equal(r.result, 'Succeeded', explain(r));
      assert.equal(r.outputs.modelName, folderModel);
      assert.equal(r.outputs.modelVersion, '1');
      assert.equal(r.outputs.modelId, `azureml:${folderModel}:1`);
      // the URI as the service stores it: `resourceGroups` (recorded rewrite, test/emulator/README.md)
      assert.match(
        r.outputs.modelUri!,
        new RegExp(
          `^azureml://subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/workspaces/${box.workspace}/datastores/workspaceblobstore/paths/LocalUpload/[0-9a-f]{32}/model$`,
        ),
      );
      const [v] = versionsOf(folderModel);
      assert.ok(v, 'version stored');
      assert.equal(v!.properties.modelUri, r.outputs.modelUri);
      const t = v!.properties.tags;
      assert.equal(t.team, 'risk');
      assert.equal(t['azdo.buildId'], '4242');
      assert.equal(t['azdo.pipeline'], 'azureml-ci');
      assert.equal(t['azdo.commit'], '3f786850e387550fdab836ed7e6dc881de23001b');
      assert.equal(t['azdo.branch'], 'refs/heads/main');
      assert.equal(t['azdo.requestedFor'], 'Ada Lovelace');
      assert.equal(t['azdo.reason'], 'IndividualCI');
      assert.equal(t['azdo.repository'], 'contoso-ml');
      assert.match(t['azdo.buildUrl'] ?? '', /_build\/results\?buildId=4242$/);
      assert.equal(v!.properties.properties.framework, 'none');
      // the indicator blob (first file by local path: README.md) carries azure-ai-ml's confirmation metadata
      const md = await indicatorMetadata(r.outputs.modelUri!, 'README.md');
      assert.equal(md?.upload_status, 'completed');
      assert.ok(r.progress.includes(100), `progress: ${r.progress}`);
      assert.match(
        r.summaries.join('\n'),
        /ml\.azure\.com\/model\/e2e-folder-[a-z]+:1\/details\?wsid=\/subscriptions\//,
      );
    });

    test('rerun with unchanged files: same version, nothing uploaded or written', async () => {
      const r = await run({ modelName: folderModel, modelPath: 'model', tags: 'team=risk' }, { scheme, cwd });
      assert.equal(r.result, 'Succeeded', explain(r));
      assert.equal(r.outputs.modelVersion, '1');
      assert.match(r.stdout, /already holds this content.*nothing uploaded, no new version/);
      assert.doesNotMatch(r.stdout, /Uploaded \d+ file/);
      assert.deepEqual(r.puts, []);
      assert.equal(versionsOf(folderModel).length, 1);
    });

    test('single file: registers and reruns idempotently', async () => {
      const r = await run({ modelName: fileModel, modelPath: 'model/model.json' }, { scheme, cwd });
      assert.equal(r.result, 'Succeeded', explain(r));
      assert.match(r.outputs.modelUri!, /\/paths\/LocalUpload\/[0-9a-f]{32}\/model\.json$/);
      assert.equal((await indicatorMetadata(r.outputs.modelUri!, ''))?.upload_status, 'completed');
      const again = await run({ modelName: fileModel, modelPath: 'model/model.json' }, { scheme, cwd });
      assert.equal(again.outputs.modelVersion, r.outputs.modelVersion);
      assert.deepEqual(again.puts, []);
      assert.equal(versionsOf(fileModel).length, 1);
    });
  });
}

// ManagedServiceIdentity: the agent host's identity. IMDS (169.254.169.254, a VM / scale-set agent's source) is not
// reachable here; the host is emulated as an App Service-style one: runBundledTask gives the task the machine's
// IDENTITY_ENDPOINT + IDENTITY_HEADER (Azure-in-a-box's loopback identity endpoint, protocol 2019-08-01), and
// @azure/identity picks that source from them alone: no switch in shipped code. The upload/rerun paths are the
// same for every scheme (covered above); here: the registration and who ARM saw.
for (const [scheme, who] of [
  ['msi', 'system-assigned'],
  ['msi-user', 'user-assigned'],
] as const) {
  test(`register with a ${who} managed identity (${scheme}): ARM sees that identity`, async () => {
    const cwd = workdir({ 'model/model.json': `{"w":"${scheme}"}` });
    const before = box.requests.length;
    const r = await run({ modelName: `e2e-${scheme}`, modelPath: 'model' }, { scheme, cwd });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.modelVersion, '1');
    const clientId = scheme === 'msi' ? box.managedIdentity.systemClientId : box.managedIdentity.userClientId;
    const calls = box.requests.slice(before);
    const mi = calls.filter((c) => c.host === 'identity');
    assert.ok(mi.length >= 1 && mi.every((c) => c.status === 200), JSON.stringify(mi));
    assert.equal(new URL(mi[0].url, 'http://x').searchParams.get('client_id'), scheme === 'msi-user' ? clientId : null);
    assert.ok(!calls.some((c) => c.host === 'entra' && /oauth2/.test(c.url)), 'no Entra token request');
    const [v] = versionsOf(`e2e-${scheme}`);
    assert.equal(v?.systemData?.createdBy, clientId, 'the version was written by the managed identity');
  });
}

describe('behaviour', () => {
  test('same files under another model name: upload skipped (indicator completed), 0 bytes', async () => {
    const cwd = workdir();
    cpSync(SAMPLE, path.join(cwd, 'model'), { recursive: true });
    await run({ modelName: 'e2e-indicator-a', modelPath: 'model' }, { cwd });
    const r = await run({ modelName: 'e2e-indicator-b', modelPath: 'model' }, { cwd });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.match(r.stdout, /upload_status=completed\): 0 bytes uploaded/);
    assert.equal(r.outputs.modelVersion, '1');
  });

  test('changed files get the next version; explicit version; workspace-scoped connection', async () => {
    const cwd = workdir({ 'm/w.txt': '1' });
    assert.equal((await run({ modelName: 'e2e-next', modelPath: 'm' }, { cwd })).outputs.modelVersion, '1');
    writeFileSync(path.join(cwd, 'm', 'w.txt'), '2');
    const r2 = await run({ modelName: 'e2e-next', modelPath: 'm' }, { cwd });
    assert.equal(r2.outputs.modelVersion, '2', explain(r2));
    writeFileSync(path.join(cwd, 'm', 'w.txt'), '3');
    const r3 = await run({ modelName: 'e2e-next', modelPath: 'm', version: '10' }, { cwd });
    assert.equal(r3.outputs.modelVersion, '10', explain(r3));
    writeFileSync(path.join(cwd, 'm', 'w.txt'), '4');
    const r4 = await run(
      { modelName: 'e2e-next', modelPath: 'm', resourceGroup: '', workspace: '' },
      {
        cwd,
        connectionData: {
          scopeLevel: 'AzureMLWorkspace',
          resourceGroupName: box.resourceGroup,
          mlWorkspaceName: box.workspace,
        },
      },
    );
    assert.equal(r4.result, 'Succeeded', explain(r4));
    assert.equal(r4.outputs.modelVersion, '11');
  });

  test('from a Completed job: a declared output and the implicit `default` output register, with jobName', async () => {
    const [named, dflt] = await Promise.all([
      run({
        modelName: 'e2e-from-job',
        modelPath: 'azureml://jobs/e2e-train-done/outputs/model',
        modelType: 'mlflow_model',
      }),
      run({ modelName: 'e2e-from-job-default', modelPath: 'azureml://jobs/e2e-train-done/outputs/default' }),
    ]);
    for (const r of [named, dflt]) assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(named.outputs.modelUri, 'azureml://jobs/e2e-train-done/outputs/model');
    assert.equal(versionsOf('e2e-from-job')[0]!.properties.jobName, 'e2e-train-done');
    assert.equal(
      versionsOf('e2e-from-job-default')[0]!.properties.modelUri,
      'azureml://jobs/e2e-train-done/outputs/default',
    );
  });

  test('uploaded blobs carry Content-MD5, also a file above the 32 MiB single-shot limit (block upload)', async () => {
    const cwd = workdir({ 'm/small.txt': 'small file' });
    const fd = await import('node:fs');
    const chunk = Buffer.alloc(8 * 1024 * 1024, 3);
    const big = path.join(cwd, 'm', 'weights.bin');
    const f = fd.openSync(big, 'w');
    for (let i = 0; i < 5; i++) {
      chunk[0] = i;
      fd.writeSync(f, chunk);
    }
    fd.writeSync(f, Buffer.from('tail beyond 32 MiB'));
    fd.closeSync(f);
    try {
      const r = await run({ modelName: 'e2e-md5', modelPath: 'm' }, { cwd, timeoutMs: 120_000 });
      assert.equal(r.result, 'Succeeded', explain(r));
      const svc = new BlobServiceClient(
        box.azurite.blobEndpoint,
        new StorageSharedKeyCredential(box.azurite.account, box.azurite.key),
      );
      const prefix = r.outputs.modelUri!.replace(/^.*\/paths\//, '');
      for (const rel of ['small.txt', 'weights.bin']) {
        const local = path.join(cwd, 'm', rel);
        const want = createHash('md5').update(fd.readFileSync(local)).digest('base64');
        const props = await svc
          .getContainerClient(box.azurite.container)
          .getBlobClient(`${prefix}/${rel}`)
          .getProperties();
        assert.equal(props.contentLength, fd.statSync(local).size, rel);
        assert.ok(props.contentMD5, `${rel}: no Content-MD5 on the blob`);
        assert.equal(Buffer.from(props.contentMD5!).toString('base64'), want, rel);
      }
    } finally {
      fd.rmSync(cwd, { recursive: true, force: true });
    }
  });

  test('lineageTags=false records only the given tags', async () => {
    const cwd = workdir({ 'm/w.txt': 'no-lineage' });
    const r = await run({ modelName: 'e2e-nolineage', modelPath: 'm', tags: 'a=b', lineageTags: 'false' }, { cwd });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.deepEqual(versionsOf('e2e-nolineage')[0]!.properties.tags, { a: 'b' });
  });

  test('under 10% injected faults (429/500/503/drop) the registration succeeds with exactly one version', async (t) => {
    // 10% of requests to every host (ARM, Entra, storage) fail; keep registering new models until several faults have really been injected
    const injected = () => Object.values(box.faults.injected).reduce((a, b) => a + b, 0);
    const models: string[] = [];
    box.faults.set({ rate: 0.1, kinds: ['429', '500', '503', 'drop'], seed: 3 }); // seeded: the same faults every run
    let seen: Record<string, number>;
    try {
      for (let i = 0; i < 10 && (injected() < 4 || i < 2); i++) {
        const cwd = workdir({ 'm/a.txt': `fault-a-${i}`, 'm/b/c.txt': 'fault-c', 'm/MLmodel': 'flavors: {}' });
        const name = `e2e-faults-${i}`;
        models.push(name);
        for (let k = 0; k < 2; k++) {
          // register, then rerun
          const r = await run({ modelName: name, modelPath: 'm', modelType: 'mlflow_model' }, { cwd });
          assert.equal(r.result, 'Succeeded', explain(r));
          assert.equal(r.outputs.modelVersion, '1');
        }
      }
      seen = { ...box.faults.injected };
    } finally {
      box.faults.reset();
    }
    t.diagnostic(`faults injected: ${JSON.stringify(seen)} over ${models.length} model(s)`);
    assert.ok(Object.values(seen).reduce((a, b) => a + b, 0) >= 4, `faults injected: ${JSON.stringify(seen)}`);
    for (const m of models) assert.equal(versionsOf(m).length, 1, m);
  });
});

describe('cancellation', () => {
  test('SIGINT during the upload stops the task promptly; no model version is created', async () => {
    const cwd = workdir({ 'big/README.md': 'large model' });
    const fd = await import('node:fs');
    const chunk = Buffer.alloc(8 * 1024 * 1024, 7);
    const f = fd.openSync(path.join(cwd, 'big', 'weights.bin'), 'w');
    for (let i = 0; i < 40; i++) {
      chunk[0] = i;
      fd.writeSync(f, chunk);
    } // 320 MiB, not compressible to nothing
    fd.closeSync(f);
    const r = await run(
      { modelName: 'e2e-cancel', modelPath: 'big' },
      {
        cwd,
        signalAfterMs: { signal: 'SIGINT', whenStdoutMatches: /task\.setprogress value=\d+;?\]Uploading model/ },
        timeoutMs: 120_000,
      },
    );
    assert.notEqual(r.result, 'Succeeded', explain(r));
    assert.match(r.message ?? '', /[Cc]ancel/, explain(r));
    assert.ok(!(r.message ?? '').includes('\n'));
    assert.equal(versionsOf('e2e-cancel').length, 0);
    assert.ok(!r.puts.some((p) => /\/models\//i.test(p)), r.puts.join('\n'));
  });
});

describe('bad inputs: one clear line, no stack trace, nothing created', () => {
  const cwd = workdir({
    'model/model.json': '{"w":1}',
    'other/model.json': '{"w":2}',
    'empty/.keep-dir/.amlignore': '',
    'not-an-evaluation.json': '{"accuracy": 0.9}',
  });
  mkdirSync(path.join(cwd, 'emptyfolder'));
  const wrongSecretAuth = () =>
    JSON.stringify({
      scheme: 'ServicePrincipal',
      parameters: {
        serviceprincipalid: box.clientId,
        tenantid: box.tenantId,
        authenticationType: 'spnKey',
        serviceprincipalkey: 'Wr0ng~secret-value-1234567890',
      },
    });
  const readerAuth = () =>
    JSON.stringify({
      scheme: 'ServicePrincipal',
      parameters: {
        serviceprincipalid: box.readerClientId,
        tenantid: box.tenantId,
        authenticationType: 'spnKey',
        serviceprincipalkey: box.readerClientSecret,
      },
    });

  const cases: Array<{
    title: string;
    inputs: Record<string, string>;
    opts?: () => Partial<RunOptions>;
    expect: RegExp;
    setup?: () => Promise<void>;
  }> = [
    { title: 'missing model name', inputs: { modelName: '', modelPath: 'model' }, expect: /Input 'modelName'/ },
    {
      title: 'invalid model name',
      inputs: { modelName: 'bad name!', modelPath: 'model' },
      expect: /Input 'modelName': 'bad name!' is not a valid model name/,
    },
    {
      title: 'path not found',
      inputs: { modelName: 'e2e-bad', modelPath: 'nope/missing' },
      expect: /Input 'modelPath': 'nope\/missing' was not found/,
    },
    {
      title: 'empty folder',
      inputs: { modelName: 'e2e-bad', modelPath: 'emptyfolder' },
      expect: /Input 'modelPath': folder .* is empty/,
    },
    {
      title: 'bad tags syntax',
      inputs: { modelName: 'e2e-bad', modelPath: 'model', tags: 'team' },
      expect: /Input 'tags'/,
    },
    {
      title: 'bad properties',
      inputs: { modelName: 'e2e-bad', modelPath: 'model', properties: '{"a": {"nested": 1}}' },
      expect: /Input 'properties'/,
    },
    {
      title: 'evaluation file missing',
      inputs: { modelName: 'e2e-bad', modelPath: 'model', evaluationFile: 'nope/evaluation.json' },
      expect: /Input 'evaluationFile': path ".*nope\/evaluation\.json" does not exist/,
    },
    {
      title: 'not an evaluation file',
      inputs: { modelName: 'e2e-bad', modelPath: 'model', evaluationFile: 'not-an-evaluation.json' },
      expect: /Input 'evaluationFile': .*not an evaluation of the evaluate task/,
    },
    {
      title: 'invalid version',
      inputs: { modelName: 'e2e-bad', modelPath: 'model', version: 'v 1' },
      expect: /Input 'version': 'v 1' is not a valid version/,
    },
    {
      title: 'bad modelType',
      inputs: { modelName: 'e2e-bad', modelPath: 'model', modelType: 'onnx' },
      expect: /Input 'modelType'/,
    },
    {
      title: 'mlflow_model without MLmodel',
      inputs: { modelName: 'e2e-bad', modelPath: 'model', modelType: 'mlflow_model' },
      expect: /Input 'modelPath': an mlflow_model folder must contain an 'MLmodel' file/,
    },
    {
      title: 'bad job reference',
      inputs: { modelName: 'e2e-bad', modelPath: 'azureml://jobs/train-1/outputz/model' },
      expect: /Input 'modelPath': .* is not a job output reference/,
    },
    {
      title: 'unknown job',
      inputs: { modelName: 'e2e-bad', modelPath: 'azureml://jobs/no-such-job-xyz/outputs/model' },
      expect: /Input 'modelPath': job 'no-such-job-xyz' was not found/,
    },
    {
      title: 'job output that does not exist',
      inputs: { modelName: 'e2e-bad', modelPath: 'azureml://jobs/e2e-train-done/outputs/modle' },
      expect:
        /^Input 'modelPath': job 'e2e-train-done' has no output 'modle' \(azureml:\/\/jobs\/e2e-train-done\/outputs\/modle\); its outputs: 'model', 'default'/,
    },
    {
      title: 'output of a Failed job',
      inputs: {
        modelName: 'e2e-bad',
        modelPath: 'azureml://jobs/e2e-train-failed/outputs/model',
        modelType: 'mlflow_model',
      },
      expect:
        /^Input 'modelPath': job 'e2e-train-failed' is Failed, not Completed: its outputs may be missing or incomplete/,
    },
    {
      title: 'unsupported URI scheme',
      inputs: { modelName: 'e2e-bad', modelPath: 's3://bucket/model' },
      expect: /Input 'modelPath': URI scheme 's3:\/\/' is not supported/,
    },
    {
      title: 'missing connection',
      inputs: { modelName: 'e2e-bad', modelPath: 'model', connection: '' },
      expect: /Input 'connection'/,
    },
    {
      title: 'unknown workspace',
      inputs: { modelName: 'e2e-bad', modelPath: 'model', workspace: 'no-such-ws' },
      expect: /Input 'workspace': workspace 'no-such-ws' was not found/,
    },
    {
      title: 'unknown resource group',
      inputs: { modelName: 'e2e-bad', modelPath: 'model', resourceGroup: 'rg-missing' },
      expect: /Input 'resourceGroup': resource group 'rg-missing' was not found/,
    },
    {
      title: 'missing workspace with a subscription-scoped connection',
      inputs: { modelName: 'e2e-bad', modelPath: 'model', workspace: '' },
      expect: /Input 'workspace': required/,
    },
    {
      title: 'wrong client secret',
      inputs: { modelName: 'e2e-bad', modelPath: 'model' },
      opts: () => ({ env: { 'ENDPOINT_AUTH_conn-secret': wrongSecretAuth() } }),
      expect: /AADSTS7000215|[Ii]nvalid client secret/,
    },
    {
      // the host's identity endpoint refuses the request (a stale IDENTITY_HEADER: 401), as on a misconfigured host
      title: 'managed identity: the identity endpoint refuses the request',
      inputs: { modelName: 'e2e-bad', modelPath: 'model' },
      opts: () => ({ scheme: 'msi', env: { IDENTITY_HEADER: 'stale-identity-header-0000' } }),
      expect: /^Authentication failed for service connection 'conn-msi': .*X-IDENTITY-HEADER/,
    },
    {
      title: '403 for a Reader identity',
      inputs: { modelName: 'e2e-bad', modelPath: 'model' },
      opts: () => ({ env: { 'ENDPOINT_AUTH_conn-secret': readerAuth() } }),
      expect: /lacks permission.*AuthorizationFailed.*AzureML Data Scientist/,
    },
    {
      title: 'version conflict',
      inputs: { modelName: 'e2e-conflict', modelPath: 'other', version: '3' },
      setup: async () => {
        const r = await run({ modelName: 'e2e-conflict', modelPath: 'model', version: '3' }, { cwd });
        assert.equal(r.result, 'Succeeded', explain(r));
      },
      expect: /Input 'version': model 'e2e-conflict' version 3 already exists with different content/,
    },
  ];

  for (const c of cases) {
    test(c.title, async () => {
      await c.setup?.();
      const modelName = c.inputs.modelName ?? '';
      const countBefore = modelName ? versionsOf(modelName).length : 0;
      const r = await run(c.inputs, { cwd, ...(c.opts?.() ?? {}) });
      assert.equal(r.result, 'Failed', explain(r));
      assert.match(r.message ?? '', c.expect, explain(r));
      assert.ok(!(r.message ?? '').includes('\n'), 'one line');
      const visible = (r.stdout + r.stderr).split('\n').filter((l) => !l.startsWith('##vso[task.debug'));
      assert.ok(
        !visible.some((l) => /^\s+at .+\(.*:\d+:\d+\)$|^\s+at .+:\d+:\d+$/.test(l)),
        `stack trace printed:\n${explain(r)}`,
      );
      assert.deepEqual(r.puts, [], 'no write request may reach ARM');
      if (modelName) assert.equal(versionsOf(modelName).length, countBefore, 'no version created');
    });
  }
  test('at least 15 distinct bad inputs are covered', () => assert.ok(cases.length >= 15));
});
