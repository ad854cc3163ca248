// registerModel with injected fake Azure operations (no network): version selection, idempotency,
// tag merge, and validation errors that name the input and happen before any Azure call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { ModelVersion, ModelVersionProperties } from '@azure/arm-machinelearning';
import { registerModel, type JobRecord, type RegisterInputs, type RegisterOps } from '../../src/tasks/modelRegister';
import { InputError } from '../../src/pipeline';
import { AzureError, CONTENT_KEY_PROPERTY, contentKey, type PreparedAsset } from '../../src/azureml';

const WS = {
  subscriptionId: 'sub1',
  resourceGroup: 'rg1',
  workspace: 'ws1',
  armUrl: 'https://arm.example/',
  scope: 'https://m/.default',
  tenantId: 't1',
  studioHost: 'ml.azure.com',
};

class FakeAzure implements RegisterOps {
  ws = WS;
  versions = new Map<string, ModelVersion>(); // key name:version
  calls: string[] = [];
  uploads: PreparedAsset[] = [];
  jobs = new Map<string, JobRecord>([
    [
      'train-42',
      {
        properties: {
          jobType: 'Command',
          status: 'Completed',
          outputs: {
            model: { jobOutputType: 'mlflow_model' },
            default: {
              jobOutputType: 'uri_folder',
              uri: 'azureml://datastores/workspaceartifactstore/ExperimentRun/dcid.train-42',
            },
          },
        },
      },
    ],
    ['train-failed', { properties: { jobType: 'Command', status: 'Failed', outputs: { model: null, default: {} } } }],
    ['train-running', { properties: { jobType: 'Command', status: 'Running', outputs: { model: {} } } }],
    ['pipe-1', { properties: { jobType: 'Pipeline', status: 'Completed', outputs: {} } }],
  ]);
  conflictOnce?: string;
  async checkWorkspace() {
    this.calls.push('checkWorkspace');
  }
  async getJob(job: string) {
    this.calls.push(`getJob ${job}`);
    return this.jobs.get(job);
  }
  async getVersion(name: string, version: string) {
    this.calls.push(`getVersion ${name}:${version}`);
    return this.versions.get(`${name}:${version}`);
  }
  async findByContent(name: string, modelType: string, modelUri: string) {
    this.calls.push(`findByContent ${name}`);
    const key = contentKey(modelType, modelUri);
    return [...this.versions.entries()]
      .filter(([k]) => k.startsWith(`${name}:`))
      .map(([, v]) => v)
      .find((v) => v.properties.properties?.[CONTENT_KEY_PROPERTY] === key);
  }
  async nextVersion(name: string) {
    this.calls.push(`nextVersion ${name}`);
    const nums = [...this.versions.keys()]
      .filter((k) => k.startsWith(`${name}:`))
      .map((k) => Number(k.split(':')[1]))
      .filter(Number.isFinite);
    return String(Math.max(0, ...nums) + 1);
  }
  async upload(
    asset: PreparedAsset,
    _meta: { name: string; version: string },
    onProgress: (b: number, t: number) => void,
  ) {
    this.calls.push('upload');
    this.uploads.push(asset);
    onProgress(asset.totalBytes / 2, asset.totalBytes);
    onProgress(asset.totalBytes, asset.totalBytes);
    return {
      uri: '',
      hash: asset.hash,
      uploadedBytes: asset.totalBytes,
      skipped: false,
      files: asset.files.length,
      totalBytes: asset.totalBytes,
    };
  }
  async create(name: string, version: string, props: ModelVersionProperties) {
    this.calls.push(`create ${name}:${version}`);
    if (this.conflictOnce === version) {
      this.conflictOnce = undefined;
      this.versions.set(`${name}:${version}`, mv(version, { modelUri: 'azureml://other', modelType: 'custom_model' }));
      throw new AzureError('Conflict', 409, 'Conflict');
    }
    const v = mv(version, props);
    this.versions.set(`${name}:${version}`, v);
    return v;
  }
  writes() {
    return this.calls.filter((c) => c === 'upload' || c.startsWith('create'));
  }
}

function mv(version: string, properties: ModelVersionProperties): ModelVersion {
  return { name: version, id: `/x/models/m/versions/${version}`, properties } as ModelVersion;
}

function modelDir(files: Record<string, string> = { 'model.json': '{"w":[1,2]}', 'README.md': 'tiny' }): string {
  const root = mkdtempSync(path.join(tmpdir(), 'reg-'));
  const dir = path.join(root, 'model');
  mkdirSync(dir);
  for (const [k, v] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, k)), { recursive: true });
    writeFileSync(path.join(dir, k), v);
  }
  return dir;
}

const log = { info: (_: string) => {}, warning: (_: string) => {}, debug: (_: string) => {} };
function deps(
  ops: RegisterOps,
  extra: Partial<{ progress: (p: number, t?: string) => void; cwd: string; lines: string[] }> = {},
) {
  const lines = extra.lines ?? [];
  return {
    ops,
    log: { ...log, info: (m: string) => lines.push(m), warning: (m: string) => lines.push(m) },
    progress: extra.progress ?? (() => {}),
    context: {
      definitionName: 'ci',
      buildId: '77',
      branch: 'refs/heads/main',
      commit: 'abc123',
      repository: 'repo',
      reason: 'IndividualCI',
      requestedFor: 'Ada',
    },
    cwd: extra.cwd,
  };
}

function inputs(over: Partial<RegisterInputs>): RegisterInputs {
  return { modelName: 'churn', modelPath: modelDir(), modelType: 'custom_model', tags: {}, properties: {}, ...over };
}

test('new model from a folder: version 1, uploads, modelUri under LocalUpload/<md5>/<folder>, content key recorded', async () => {
  const az = new FakeAzure();
  const progress: number[] = [];
  const r = await registerModel(inputs({}), deps(az, { progress: (p) => progress.push(p) }));
  assert.equal(r.version, '1');
  assert.equal(r.id, 'azureml:churn:1');
  assert.equal(r.reused, false);
  assert.match(
    r.modelUri,
    /^azureml:\/\/subscriptions\/sub1\/resourcegroups\/rg1\/workspaces\/ws1\/datastores\/workspaceblobstore\/paths\/LocalUpload\/[0-9a-f]{32}\/model$/,
  );
  assert.deepEqual(az.writes(), ['upload', 'create churn:1']);
  const stored = az.versions.get('churn:1')!.properties;
  assert.equal(stored.properties?.[CONTENT_KEY_PROPERTY], contentKey('custom_model', r.modelUri));
  assert.equal(stored.modelType, 'custom_model');
  assert.deepEqual(progress.at(-1), 100);
  assert.equal(
    r.studioUrl,
    'https://ml.azure.com/model/churn:1/details?wsid=/subscriptions/sub1/resourcegroups/rg1/workspaces/ws1&tid=t1',
  );
});

test('rerun with the same content returns the same version: no upload, no create', async () => {
  const az = new FakeAzure();
  const dir = modelDir();
  const first = await registerModel(inputs({ modelPath: dir }), deps(az));
  az.calls = [];
  const lines: string[] = [];
  const again = await registerModel(inputs({ modelPath: dir, tags: { extra: 'x' } }), deps(az, { lines }));
  assert.equal(again.version, first.version);
  assert.equal(again.reused, true);
  assert.deepEqual(az.writes(), []);
  assert.ok(
    lines.some((l) => /already holds this content/.test(l)),
    lines.join('\n'),
  );
});

test('changed content gets the next version; modelType is part of the identity', async () => {
  const az = new FakeAzure();
  const dir = modelDir();
  await registerModel(inputs({ modelPath: dir }), deps(az));
  const changed = modelDir({ 'model.json': '{"w":[1,3]}' });
  const r2 = await registerModel(inputs({ modelPath: changed }), deps(az));
  assert.equal(r2.version, '2');
  const r3 = await registerModel(inputs({ modelPath: dir, modelType: 'triton_model' }), deps(az));
  assert.equal(r3.version, '3');
});

test('explicit version: free → used; taken by same content → reused; taken by other content → InputError(version), no writes', async () => {
  const az = new FakeAzure();
  const dir = modelDir();
  const r = await registerModel(inputs({ modelPath: dir, version: '7' }), deps(az));
  assert.equal(r.version, '7');
  az.calls = [];
  const same = await registerModel(inputs({ modelPath: dir, version: '7' }), deps(az));
  assert.equal(same.reused, true);
  assert.deepEqual(az.writes(), []);
  await assert.rejects(
    registerModel(inputs({ modelPath: modelDir({ 'other.bin': 'zz' }), version: '7' }), deps(az)),
    (e: any) =>
      e instanceof InputError &&
      e.input === 'version' &&
      /model 'churn' version 7 already exists with different content/.test(e.message),
  );
  assert.deepEqual(az.writes(), []);
});

test('tags: lineage azdo.* tags merged with user tags, user wins; lineageTags=false drops them', async () => {
  const az = new FakeAzure();
  const r = await registerModel(inputs({ tags: { team: 'risk', 'azdo.branch': 'override' } }), deps(az));
  const tags = az.versions.get(`churn:${r.version}`)!.properties.tags!;
  assert.equal(tags.team, 'risk');
  assert.equal(tags['azdo.branch'], 'override');
  assert.equal(tags['azdo.buildId'], '77');
  assert.equal(tags['azdo.commit'], 'abc123');
  assert.equal(tags['azdo.pipeline'], 'ci');
  assert.equal(tags['azdo.requestedFor'], 'Ada');
  const az2 = new FakeAzure();
  const r2 = await registerModel(inputs({ tags: { team: 'risk' }, lineageTags: false }), deps(az2));
  assert.deepEqual(az2.versions.get(`churn:${r2.version}`)!.properties.tags, { team: 'risk' });
});

test('job output reference: no upload, jobName recorded, unknown job → InputError(modelPath)', async () => {
  const az = new FakeAzure();
  const r = await registerModel(
    inputs({ modelPath: 'azureml://jobs/train-42/outputs/model', modelType: 'mlflow_model' }),
    deps(az),
  );
  assert.equal(r.modelUri, 'azureml://jobs/train-42/outputs/model');
  assert.equal(az.versions.get('churn:1')!.properties.jobName, 'train-42');
  assert.ok(!az.calls.includes('upload'));
  const az2 = new FakeAzure();
  await assert.rejects(
    registerModel(inputs({ modelPath: 'azureml://jobs/nope/outputs/model' }), deps(az2)),
    (e: any) => e instanceof InputError && e.input === 'modelPath' && /job 'nope' was not found/.test(e.message),
  );
  assert.deepEqual(az2.writes(), []);
});

test('job output reference: the output must exist and the job must have Completed (nothing written otherwise)', async () => {
  const cases: Array<[string, RegExp]> = [
    [
      'azureml://jobs/train-42/outputs/modl',
      /^Input 'modelPath': job 'train-42' has no output 'modl' \(azureml:\/\/jobs\/train-42\/outputs\/modl\); its outputs: 'model', 'default'/,
    ],
    ['azureml://jobs/train-42/outputs/Model', /has no output 'Model' .*; did you mean 'model'\?/],
    ['azureml://jobs/pipe-1/outputs/default', /job 'pipe-1' has no output 'default' .*its outputs: none/],
    [
      'azureml://jobs/train-failed/outputs/model',
      /^Input 'modelPath': job 'train-failed' is Failed, not Completed: its outputs may be missing or incomplete \(azureml:\/\/jobs\/train-failed\/outputs\/model\)/,
    ],
    [
      'azureml://jobs/train-running/outputs/model/paths/sub',
      /job 'train-running' is Running, not Completed: it has not finished/,
    ],
    ['azureml://jobs/train-failed/outputs/artifacts/paths/model', /job 'train-failed' is Failed/],
  ];
  for (const [modelPath, re] of cases) {
    const az = new FakeAzure();
    await assert.rejects(registerModel(inputs({ modelPath }), deps(az)), (e: any) => {
      assert.ok(e instanceof InputError && e.input === 'modelPath', String(e?.stack));
      assert.match(e.message, re);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
    assert.deepEqual(az.writes(), [], modelPath);
  }
  // the implicit outputs: `default` (listed by the service on a command job) and `artifacts` (the run's logged files)
  for (const modelPath of [
    'azureml://jobs/train-42/outputs/default',
    'azureml://jobs/train-42/outputs/artifacts/paths/model',
  ]) {
    const az = new FakeAzure();
    const r = await registerModel(inputs({ modelPath }), deps(az));
    assert.equal(r.modelUri, modelPath);
    assert.equal(az.versions.get('churn:1')!.properties.jobName, 'train-42');
  }
});

test('version race (409 on create with auto version) retries with the next version', async () => {
  const az = new FakeAzure();
  az.conflictOnce = '1';
  const r = await registerModel(inputs({}), deps(az));
  assert.equal(r.version, '2');
});

const bad: Array<[string, string, Partial<RegisterInputs> | (() => Partial<RegisterInputs>), RegExp]> = [
  ['missing model name', 'modelName', { modelName: '' }, /is required/],
  ['invalid model name', 'modelName', { modelName: 'bad name!' }, /not a valid model name/],
  ['name starting with -', 'modelName', { modelName: '-x' }, /not a valid model name/],
  ['bad modelType', 'modelType', { modelType: 'onnx' }, /not one of custom_model, mlflow_model, triton_model/],
  ['version 0', 'version', { version: '0' }, /not a valid version/],
  ['version with space', 'version', { version: '1 2' }, /not a valid version/],
  ['tag key with newline', 'tags', { tags: { 'a\nb': 'x' } }, /control characters/],
  ['reserved property', 'properties', { properties: { [CONTENT_KEY_PROPERTY]: 'x' } }, /set by the task/],
  ['path not found', 'modelPath', { modelPath: '/definitely/not/here' }, /was not found/],
  ['empty folder', 'modelPath', () => ({ modelPath: modelDir({}) }), /is empty/],
  ['mlflow without MLmodel', 'modelPath', () => ({ modelPath: modelDir(), modelType: 'mlflow_model' }), /MLmodel/],
  [
    'triton from a file',
    'modelPath',
    () => ({ modelPath: path.join(modelDir(), 'model.json'), modelType: 'triton_model' }),
    /must be a folder/,
  ],
  ['bad job reference', 'modelPath', { modelPath: 'azureml://jobs/x/output/model' }, /not a job output reference/],
  ['unsupported scheme', 'modelPath', { modelPath: 's3://bucket/model' }, /not supported/],
  ['bad azureml uri', 'modelPath', { modelPath: 'azureml://models/x/versions/1' }, /not a supported azureml/],
];
for (const [title, input, over, re] of bad) {
  test(`bad input: ${title} → Input '${input}', before any Azure call`, async () => {
    const az = new FakeAzure();
    const o = typeof over === 'function' ? over() : over;
    await assert.rejects(registerModel(inputs(o), deps(az)), (e: any) => {
      assert.ok(e instanceof InputError, `not an InputError: ${e?.stack}`);
      assert.equal(e.input, input);
      assert.match(e.message, new RegExp(`^Input '${input}': `));
      assert.match(e.message, re);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
    assert.deepEqual(az.calls, [], 'no Azure call may happen for a bad input');
  });
}

test('mlflow folder with MLmodel is accepted; relative paths resolve against cwd', async () => {
  const dir = modelDir({ MLmodel: 'flavors: {}', 'model.pkl': 'x' });
  const az = new FakeAzure();
  const r = await registerModel(
    inputs({ modelPath: 'model', modelType: 'mlflow_model' }),
    deps(az, { cwd: path.dirname(dir) }),
  );
  assert.equal(r.version, '1');
  assert.equal(az.uploads[0]!.localPath, dir);
});
