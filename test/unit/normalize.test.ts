// Tasks compare meaning, not text: every rule of src/azureml/normalize.ts is fed the answer the real service recorded
// (Microsoft's azure-ai-ml SDK test recordings, kept under test/fixtures/third-party/; provenance in its README) through
// the task, or through the comparison the task uses with its injected clients, and must take the idempotent path; a
// real difference must still be found. Plus: ARM error messages name the cause from error.details[].
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { RestError, createHttpHeaders, type PipelineRequest } from '@azure/core-rest-pipeline';
import type { ModelVersion } from '@azure/arm-machinelearning';
import { InputError, UserError } from '../../src/pipeline';
import type { AzureMLContext, WorkspaceRef } from '../../src/azureml';
import { armRequest, contentKey, mapAzureError, parseArmError, sameContent } from '../../src/azureml';
import { AzureAssetResolver } from '../../src/azureml/jobResolver';
import { AzureDeploymentResolver } from '../../src/azureml/deploymentResolver';
import { deploymentInfo, type DeploymentInfo, type EndpointInfo } from '../../src/azureml/endpoints';
import {
  azuremlUriKey,
  environmentDifferences,
  sameAssetRef,
  sameDatastoreUri,
  sameDocument,
  userEnvironmentVariables,
} from '../../src/azureml/normalize';
import { definitionDifferences, runJob, type JobOps } from '../../src/tasks/job';
import { deployModel, deploymentDifferences, type DeployOps, type PlanningResolver } from '../../src/tasks/modelDeploy';
import { registerModel, type RegisterOps } from '../../src/tasks/modelRegister';

const TP = path.resolve(import.meta.dirname, '..', 'fixtures', 'third-party');
const ASSETS = path.join(TP, 'azure-sdk-assets', 'python', 'sdk', 'ml', 'azure-ai-ml', 'tests', 'recordings');
const SDK = path.join(TP, 'azure-sdk-for-python', 'sdk', 'ml', 'azure-ai-ml', 'tests', 'recordings');
type Entry = { RequestUri: string; RequestMethod: string; RequestBody: any; StatusCode: number; ResponseBody: any };
const recording = (file: string): Entry[] => JSON.parse(readFileSync(file, 'utf8')).Entries;
const entry = (file: string, method: string, uri: RegExp, status?: number): Entry => {
  const e = recording(file).find(
    (x) => x.RequestMethod === method && uri.test(x.RequestUri) && (status === undefined || x.StatusCode === status),
  );
  if (!e) throw new Error(`no ${method} ${uri} in ${file}`);
  return structuredClone(e);
};

// every recording is sanitised to this workspace
const REC_WS: WorkspaceRef = {
  subscriptionId: '00000000-0000-0000-0000-000000000',
  resourceGroup: '00000',
  workspace: '00000',
  armUrl: 'https://arm.example/',
  scope: 'x/.default',
} as WorkspaceRef;
const REC_WS_PATH =
  '/subscriptions/00000000-0000-0000-0000-000000000/resourceGroups/00000/providers/Microsoft.MachineLearningServices/workspaces/00000';

const quiet = { info: () => {}, warning: () => {}, debug: () => {} };
const tmp = (p: string) => mkdtempSync(path.join(tmpdir(), p));

// ------------------------------------------------------------------------------------------------ jobs

const SWEEP = path.join(
  ASSETS,
  'sweep_job',
  'e2etests',
  'test_sweep_job.pyTestSweepJobtest_sweep_job_submit_minimal.excerpt.json',
);
const COMMAND = path.join(
  ASSETS,
  'command_job',
  'e2etests',
  'test_command_job.pyTestCommandJobtest_command_job_invalid_datastore.json',
);

/** runJob's injected clients, answering GET job with the recorded job; counts writes */
function jobOps(existing: any): JobOps & { created: number; committed: number } {
  const o = {
    created: 0,
    committed: 0,
    ws: REC_WS,
    checkWorkspace: async () => ({}),
    newResolver: () => ({
      wsPath: REC_WS_PATH,
      pending: [],
      uploadCode: async () => `${REC_WS_PATH}/codes/83eb68f5-8468-439d-89d0-626f504652e6/versions/1`,
      uploadLocalPath: async () => 'azureml://x',
      ensureEnvironment: async () => 'env',
      ensureComponent: async () => 'comp',
      resolveAsset: async () => 'asset',
      computeId: async (n: string) => `${REC_WS_PATH}/computes/${n}`,
      commit: async () => {
        o.committed++;
      },
    }),
    createJob: async () => {
      o.created++;
      return existing;
    },
    readJob: async () => ({ job: existing }),
    cancelJob: async () => ({ status: 'Canceled', confirmed: true }),
    logReader: () => ({ readNew: async () => [], tail: async () => [] }),
    runDetails: async () => undefined,
    runSummary: async () => undefined,
  };
  return o as never;
}

const SWEEP_YAML = `$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json
type: sweep
experiment_name: azure-ai-ml
display_name: test_434033307713
compute: azureml:testCompute
sampling_algorithm: random
search_space:
  lr: {type: uniform, min_value: 0.001, max_value: 0.1}
  conv_size: {type: choice, values: [2, 5, 7]}
  dropout_rate: {type: uniform, min_value: 0.1, max_value: 0.5}
objective: {goal: maximize, primary_metric: accuracy}
limits: {max_total_trials: 2, max_concurrent_trials: 10, timeout: 300}
trial:
  code: ./src
  command: python ./sweep_script.py --lr \${{search_space.lr}} --conv_size \${{search_space.conv_size}} --dropout_rate \${{search_space.dropout_rate}}
  environment: azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu:33
`;

const COMMAND_YAML = `$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
command: echo \${{inputs.test1}}
environment: azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu:33
compute: azureml:testCompute
experiment_name: mfe-test1
display_name: test_749647599434
properties: {test_property: test_value}
inputs:
  test1: {type: uri_file, path: 'https://test.blob.core.windows.net/non-existent-ds/testdata/data.csv', mode: ro_mount}
`;

function jobDir(yaml: string): string {
  const dir = tmp('norm-job-');
  mkdirSync(path.join(dir, 'src'));
  writeFileSync(path.join(dir, 'src', 'sweep_script.py'), 'print(1)\n');
  writeFileSync(path.join(dir, 'job.yml'), yaml);
  return dir;
}
const submit = (dir: string, jobName: string) => ({
  mode: 'submit' as const,
  jobFile: path.join(dir, 'job.yml'),
  wait: false,
  streamLogs: false,
  timeoutMinutes: 0,
  cancelOnCancel: true,
  jobName,
});
const jobDeps = (ops: JobOps, dir: string) => ({
  ops,
  log: quiet,
  progress: () => {},
  context: { buildId: '1' },
  cwd: dir,
});

describe('job rerun with the same name (runJob → definitionDifferences)', () => {
  test('asset-ref-short-long + enum-case: the recorded sweep job (trial.environmentId read back as an ARM id, goal "Maximize") is the same definition', async () => {
    const put = entry(SWEEP, 'PUT', /\/jobs\/test_434033307713/);
    // the recorded answer really is rewritten (otherwise this test proves nothing)
    assert.equal(put.RequestBody.properties.trial.environmentId, 'azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu:33');
    assert.match(
      put.ResponseBody.properties.trial.environmentId,
      /^\/subscriptions\/.*\/workspaces\/00000\/environments\/AzureML-sklearn-1\.0-ubuntu20\.04-py38-cpu\/versions\/33$/,
    );
    assert.equal(put.ResponseBody.properties.objective.goal, 'Maximize');
    assert.deepEqual(definitionDifferences(put.RequestBody.properties, put.ResponseBody.properties, REC_WS_PATH), []);

    const dir = jobDir(SWEEP_YAML);
    const ops = jobOps(put.ResponseBody);
    const r = await runJob(submit(dir, 'test_434033307713'), jobDeps(ops, dir));
    assert.equal(r.reused, true);
    assert.equal(r.submitted, false);
    assert.equal(ops.created + ops.committed, 0, 'nothing written on the rerun');
  });

  test('a real difference in the sweep is still found (another environment version, another workspace, another metric)', async () => {
    const put = entry(SWEEP, 'PUT', /\/jobs\/test_434033307713/);
    const theirs = put.ResponseBody.properties;
    const mine = put.RequestBody.properties;
    assert.deepEqual(
      definitionDifferences(
        { ...mine, trial: { ...mine.trial, environmentId: 'azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu:34' } },
        theirs,
        REC_WS_PATH,
      ),
      ['trial'],
    );
    assert.deepEqual(
      definitionDifferences(mine, theirs, REC_WS_PATH.replace(/00000$/, 'other-ws')),
      ['trial'],
      "the short form names the task's own workspace",
    );
    assert.deepEqual(
      definitionDifferences({ ...mine, objective: { goal: 'maximize', primaryMetric: 'loss' } }, theirs, REC_WS_PATH),
      ['objective'],
    );
    assert.deepEqual(
      definitionDifferences(
        { ...mine, objective: { goal: 'minimize', primaryMetric: 'accuracy' } },
        theirs,
        REC_WS_PATH,
      ),
      ['objective'],
    );

    const dir = jobDir(SWEEP_YAML.replace('max_total_trials: 2', 'max_total_trials: 3'));
    const ops = jobOps(put.ResponseBody);
    await assert.rejects(
      runJob(submit(dir, 'test_434033307713'), jobDeps(ops, dir)),
      (e: unknown) =>
        e instanceof InputError &&
        e.input === 'jobName' &&
        /with a different definition \(limits differ\)/.test(e.message),
    );
    assert.equal(ops.created + ops.committed, 0);
  });

  test('service-filled-defaults: the recorded command job (short environmentId kept, outputs.default, resources, queueSettings added) is reused', async () => {
    const put = entry(COMMAND, 'PUT', /\/jobs\/test_749647599434/);
    assert.ok(
      put.ResponseBody.properties.outputs.default &&
        put.ResponseBody.properties.resources &&
        !put.RequestBody.properties.resources,
    );
    const dir = jobDir(COMMAND_YAML);
    const ops = jobOps(put.ResponseBody);
    const r = await runJob(submit(dir, 'test_749647599434'), jobDeps(ops, dir));
    assert.equal(r.reused, true);
    assert.equal(ops.created + ops.committed, 0);

    const dir2 = jobDir(COMMAND_YAML.replace('mode: ro_mount', 'mode: download'));
    await assert.rejects(
      runJob(submit(dir2, 'test_749647599434'), jobDeps(jobOps(put.ResponseBody), dir2)),
      /with a different definition \(inputs differ\)/,
    );
  });
});

// ------------------------------------------------------------------------------------------------ environments

const CONDA = path.join(
  ASSETS,
  'environment',
  'e2etests',
  'test_environment.pyTestEnvironmenttest_environment_create_conda.json',
);

/** an AzureMLContext whose ARM client answers from a list (and records what it was asked) */
function fakeCtx(
  answers: Array<{ status: number; body?: unknown }>,
  seen: string[] = [],
  ws: WorkspaceRef = REC_WS,
): AzureMLContext {
  const client = {
    async sendRequest(req: PipelineRequest) {
      seen.push(`${req.method} ${new URL(req.url).pathname}`);
      const r = answers.shift() ?? {
        status: 500,
        body: { error: { code: 'NoMore', message: 'no more fake answers' } },
      };
      return {
        request: req,
        status: r.status,
        headers: createHttpHeaders(),
        bodyAsText: r.body === undefined ? undefined : JSON.stringify(r.body),
      };
    },
  };
  return { ws, client: client as any, credential: {} as any };
}

describe('environment version reuse (AzureAssetResolver.ensureEnvironment)', () => {
  const put = entry(CONDA, 'PUT', /\/environments\/env-test-2044578\/versions\/1/);
  const recWs = {
    subscriptionId: 'b17253fa-f327-42d6-9686-f3e553e24763',
    resourceGroup: 'mlholland-testing',
    workspace: 'milestesting',
    armUrl: 'https://arm.example/',
    scope: 'x',
  } as WorkspaceRef;
  const env = (condaText: string) => {
    const dir = tmp('norm-env-');
    writeFileSync(path.join(dir, 'conda.yml'), condaText);
    return {
      name: 'env-test-2044578',
      version: '1',
      description: 'This is description',
      image: put.RequestBody.properties.image,
      condaFile: path.join(dir, 'conda.yml'),
      source: 'environment.yml',
    };
  };

  test('conda-yaml-json: the YAML conda file we send reads back as JSON text; the recorded version is reused, nothing written', async () => {
    assert.match(put.RequestBody.properties.condaFile, /^channels:\n- conda-forge\n/);
    assert.match(put.ResponseBody.properties.condaFile, /^\{\n {2}"channels": \[/);
    assert.ok(sameDocument(put.RequestBody.properties.condaFile, put.ResponseBody.properties.condaFile));
    const seen: string[] = [];
    const r = new AzureAssetResolver(fakeCtx([{ status: 200, body: put.ResponseBody }], seen, recWs));
    const id = await r.ensureEnvironment(env(put.RequestBody.properties.condaFile));
    assert.equal(id, put.ResponseBody.id);
    assert.deepEqual(seen, [`GET ${put.ResponseBody.id}`]);
    assert.deepEqual(r.pending, [], 'no environment PUT queued');
  });

  test('a real difference in the conda file or the image is still refused', async () => {
    const r = new AzureAssetResolver(fakeCtx([{ status: 200, body: put.ResponseBody }], [], recWs));
    await assert.rejects(
      r.ensureEnvironment(env(put.RequestBody.properties.condaFile.replace('python=3.10', 'python=3.11'))),
      (e: unknown) =>
        e instanceof UserError &&
        /environment env-test-2044578:1 already exists with a different condaFile/.test(e.message),
    );
    assert.deepEqual(
      environmentDifferences(
        {
          image: 'mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04',
          condaFile: put.RequestBody.properties.condaFile,
        },
        put.ResponseBody.properties,
      ),
      ['image'],
    );
    assert.ok(!sameDocument('a: 1\n', '{"a": "1"}'), 'a number is not a string');
  });
});

// ------------------------------------------------------------------------------------------------ models

const MODEL = path.join(ASSETS, 'model', 'e2etests', 'test_model.pyTestModeltest_crud_file.excerpt.json');

describe("model content: datastore-uri-case (register and the deploy task's inline model)", () => {
  const put = entry(MODEL, 'PUT', /\/models\/test_907403507619\/versions\/3/);
  const sent: string = put.RequestBody.properties.modelUri;
  const read: string = put.ResponseBody.properties.modelUri;

  test('the recorded answer rewrites resourcegroups → resourceGroups; the register task reuses the version', async () => {
    assert.match(sent, /\/resourcegroups\//);
    assert.match(read, /\/resourceGroups\//);
    assert.ok(sameDatastoreUri(sent, read));
    assert.equal(contentKey('mlflow_model', sent), contentKey('mlflow_model', read));
    assert.ok(sameContent(put.ResponseBody as ModelVersion, 'mlflow_model', sent));
    let created = 0;
    const ops: RegisterOps = {
      ws: REC_WS,
      checkWorkspace: async () => {},
      getJob: async () => undefined,
      getVersion: async (n, v) => (n === 'test_907403507619' && v === '3' ? put.ResponseBody : undefined),
      findByContent: async () => undefined,
      nextVersion: async () => '4',
      upload: async () => {
        throw new Error('no upload expected');
      },
      create: async () => {
        created++;
        return put.ResponseBody;
      },
    };
    const r = await registerModel(
      { modelName: 'test_907403507619', modelPath: sent, modelType: 'mlflow_model', version: '3' },
      { ops, log: quiet, progress: () => {}, context: {}, cwd: tmp('norm-reg-') },
    );
    assert.equal(r.reused, true);
    assert.equal(created, 0);
    await assert.rejects(
      registerModel(
        {
          modelName: 'test_907403507619',
          modelPath: sent.replace('lightgbm_mlflow_model', 'other_model'),
          modelType: 'mlflow_model',
          version: '3',
        },
        { ops, log: quiet, progress: () => {}, context: {}, cwd: tmp('norm-reg-') },
      ),
      (e: unknown) =>
        e instanceof InputError && e.input === 'version' && /already exists with different content/.test(e.message),
    );
    assert.equal(created, 0);
  });

  test("the deploy task's inline model: the recorded version is reused; other files are refused", async () => {
    const model = {
      name: 'test_907403507619',
      version: '3',
      path: sent,
      local: false,
      type: 'mlflow_model' as const,
      source: 'deployment.yml',
    };
    const seen: string[] = [];
    const r = new AzureDeploymentResolver(fakeCtx([{ status: 200, body: put.ResponseBody }], seen));
    assert.equal(await r.ensureModel(model), put.ResponseBody.id);
    assert.deepEqual(r.pendingWrites, []);
    const r2 = new AzureDeploymentResolver(fakeCtx([{ status: 200, body: put.ResponseBody }]));
    await assert.rejects(
      r2.ensureModel({ ...model, path: sent.replace('/LocalUpload/', '/OtherUpload/') }),
      /already exists with other files/,
    );
    assert.ok(!sameDatastoreUri(sent, sent.replace('lightgbm', 'Lightgbm')), 'the datastore path keeps its case');
    assert.equal(azuremlUriKey(`${sent}/`), azuremlUriKey(read));
  });
});

const MODEL_2022 = path.join(SDK, 'model', 'e2etests', 'test_model.pyTestModeltest_crud_file.excerpt.json');

describe('model content: service-replicated (2022: LocalUpload read back under ServiceReplicated/<guid>/)', () => {
  const put = entry(MODEL_2022, 'PUT', /\/models\/test_978172339514\/versions\/3/);
  const sent: string = put.RequestBody.properties.modelUri;
  const read: string = put.ResponseBody.properties.modelUri;

  test('the recorded version holds the files we sent: register and the inline model reuse it', async () => {
    assert.match(sent, /\/paths\/LocalUpload\//);
    assert.match(read, /\/paths\/ServiceReplicated\/789c3337-51e7-4958-8a75-17d8c1b38ea8\/LocalUpload\//);
    assert.ok(sameDatastoreUri(sent, read));
    assert.ok(
      sameContent(put.ResponseBody as ModelVersion, 'mlflow_model', sent),
      'a version registered outside this extension (no content key) compares by URI',
    );
    let created = 0;
    const ops: RegisterOps = {
      ws: REC_WS,
      checkWorkspace: async () => {},
      getJob: async () => undefined,
      getVersion: async (n, v) => (n === 'test_978172339514' && v === '3' ? put.ResponseBody : undefined),
      findByContent: async () => undefined,
      nextVersion: async () => '4',
      upload: async () => {
        throw new Error('no upload expected');
      },
      create: async () => {
        created++;
        return put.ResponseBody;
      },
    };
    const r = await registerModel(
      { modelName: 'test_978172339514', modelPath: sent, modelType: 'mlflow_model', version: '3' },
      { ops, log: quiet, progress: () => {}, context: {}, cwd: tmp('norm-reg-') },
    );
    assert.equal(r.reused, true);
    assert.equal(created, 0);
    const res = new AzureDeploymentResolver(fakeCtx([{ status: 200, body: put.ResponseBody }]));
    assert.equal(
      await res.ensureModel({
        name: 'test_978172339514',
        version: '3',
        path: sent,
        local: false,
        type: 'mlflow_model',
        source: 'deployment.yml',
      }),
      put.ResponseBody.id,
    );
    assert.deepEqual(res.pendingWrites, []);
  });

  test('other files are still other files', async () => {
    assert.ok(!sameDatastoreUri(sent.replace('lightgbm_mlflow_model', 'xgb_model'), read));
    assert.ok(
      !sameDatastoreUri(
        sent,
        read.replace(
          '/ServiceReplicated/789c3337-51e7-4958-8a75-17d8c1b38ea8/',
          '/Other/789c3337-51e7-4958-8a75-17d8c1b38ea8/',
        ),
      ),
    );
    assert.ok(
      !sameContent(
        put.ResponseBody as ModelVersion,
        'mlflow_model',
        sent.replace('00000000000000000000000000000000', '11111111111111111111111111111111'),
      ),
    );
    const res = new AzureDeploymentResolver(fakeCtx([{ status: 200, body: put.ResponseBody }]));
    await assert.rejects(
      res.ensureModel({
        name: 'test_978172339514',
        version: '3',
        path: sent.replace('lightgbm_mlflow_model', 'xgb_model'),
        local: false,
        type: 'mlflow_model',
        source: 'deployment.yml',
      }),
      /already exists with other files/,
    );
  });
});

// ------------------------------------------------------------------------------------------------ deployments

const DEP_2025 = path.join(
  ASSETS,
  'online_services',
  'e2etests',
  'test_online_deployment.pyTestOnlineDeploymenttest_online_deployment.excerpt.json',
);
const DEP_2022 = path.join(
  SDK,
  'online_services',
  'e2etests',
  'test_online_deployment.pyTestOnlineDeploymenttest_online_deployment.excerpt.json',
);

/** deployModel's injected clients: one endpoint serving the recorded deployment with 100 % */
function deployOps(recorded: any, dir: string): DeployOps & { writes: string[] } {
  const info: DeploymentInfo = deploymentInfo(recorded);
  const ep: EndpointInfo = {
    name: 'online-ept-5ce3da3806e04e3',
    kind: 'Managed',
    authMode: 'Key',
    traffic: { [info.name]: 100 },
    provisioningState: 'Succeeded',
    scoringUri: 'https://ep/score',
    tags: {},
  };
  const writes: string[] = [];
  const no = (what: string) => async () => {
    writes.push(what);
    throw new Error(`unexpected ${what}`);
  };
  const resolver: PlanningResolver = {
    wsPath: REC_WS_PATH,
    pendingWrites: [],
    uploadCode: async () => recorded.properties.codeConfiguration.codeId,
    ensureEnvironment: async () => recorded.properties.environmentId,
    resolveAsset: async (kind, ref) => {
      const [n, v] = ref.replace(/^azureml:/, '').split(':');
      return `${REC_WS_PATH}/${kind}/${n}/versions/${v}`;
    },
    computeId: async (n) => `${REC_WS_PATH}/computes/${n}`,
    ensureModel: async () => recorded.properties.model,
    commit: async () => {
      writes.push('commit');
    },
  };
  void dir;
  return {
    writes,
    ws: REC_WS,
    location: async () => 'eastus',
    getCompute: async () => undefined,
    getEndpoint: async () => structuredClone(ep),
    createEndpoint: no('create endpoint') as any,
    updateEndpoint: no('update endpoint') as any,
    listDeployments: async () => [structuredClone(info)],
    getDeployment: async () => structuredClone(info),
    putDeployment: no('put deployment') as any,
    updateDeploymentTags: no('patch tags') as any,
    deleteDeployment: no('delete deployment') as any,
    setTraffic: no('traffic') as any,
    setMirrorTraffic: no('mirror') as any,
    credential: async () => 'key',
    logs: async () => '',
    score: async () => ({ status: 200, body: '[1]', ms: 1 }),
    resolver: () => resolver,
  };
}

function deployWorld(): string {
  const dir = tmp('norm-dep-');
  mkdirSync(path.join(dir, 'onlinescoring'));
  writeFileSync(path.join(dir, 'onlinescoring', 'score.py'), 'def init(): pass\ndef run(d): return d\n');
  writeFileSync(path.join(dir, 'req.json'), '{"data": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]}');
  return dir;
}
const deployInputs = (extra: Record<string, unknown> = {}) => ({
  endpointName: 'online-ept-5ce3da3806e04e3',
  endpointType: 'managed' as const,
  deploymentName: 'online-dpm-1a5183914317445',
  model: 'azureml:1498425f064ef007b4f000a85a5f4645:1',
  environment: 'azureml:CliV2AnonymousEnvironment:0512a9608a3ea998505d1b3d4796a7cd',
  codePath: 'onlinescoring',
  scoringScript: 'score.py',
  instanceType: 'Standard_DS3_v2',
  instanceCount: 1,
  sampleRequestFile: 'req.json',
  ...extra,
});

describe('deployment "nothing to change" (deployModel → deploymentDifferences)', () => {
  const recorded = entry(DEP_2025, 'GET', /\/deployments\?/).ResponseBody.value[0];

  test('deployment-env-vars + deployment-defaults: the recorded 2025 deployment (AZUREML_* variables added, maxQueueWait PT0S) is already serving: nothing to change', async () => {
    assert.deepEqual(Object.keys(recorded.properties.environmentVariables).sort(), [
      'AML_APP_ROOT',
      'AZUREML_ENTRY_SCRIPT',
      'AZUREML_MODEL_DIR',
    ]);
    assert.equal(recorded.properties.requestSettings.maxQueueWait, 'PT0S');
    const dir = deployWorld();
    const ops = deployOps(recorded, dir);
    const lines: string[] = [];
    const r = await deployModel(deployInputs(), {
      ops,
      log: { info: (m) => lines.push(m), warning: (m) => lines.push(m), debug: () => {} },
      progress: () => {},
      context: {},
      cwd: dir,
    });
    assert.equal(r.unchanged, true, lines.join('\n'));
    assert.deepEqual(ops.writes, []);
    assert.ok(
      lines.some((l) =>
        /is already serving model 1498425f064ef007b4f000a85a5f4645:1 with 100% of the traffic: nothing to change/.test(
          l,
        ),
      ),
      lines.join('\n'),
    );
  });

  test('a real difference is still found: the live deployment is not overwritten', async () => {
    for (const [extra, what] of [
      [{ instanceCount: 2 }, /instance count/],
      [{ environmentVariables: { AZUREML_ENTRY_SCRIPT: 'other.py' } }, /environment variables/],
      [{ environmentVariables: { MY_FLAG: '1' } }, /environment variables/],
      [{ requestTimeoutMs: 9000 }, /requestSettings \(requestTimeout 5000 → 9000\)/],
      [{ model: 'azureml:1498425f064ef007b4f000a85a5f4645:2' }, /model/],
    ] as const) {
      const dir = deployWorld();
      const ops = deployOps(recorded, dir);
      await assert.rejects(
        deployModel(deployInputs(extra), { ops, log: quiet, progress: () => {}, context: {}, cwd: dir }),
        (e: unknown) =>
          e instanceof InputError && /is live with 100% of the traffic/.test(e.message) && what.test(e.message),
        JSON.stringify(extra),
      );
      assert.deepEqual(ops.writes, []);
    }
  });

  test('deployment-defaults (2022): a body without requestSettings and probes equals the recorded read-back', () => {
    const put = entry(DEP_2022, 'PUT', /\/deployments\/online-ept-10cd4ed17147449/);
    const got = entry(DEP_2022, 'GET', /\/deployments\/online-ept-10cd4ed17147449/).ResponseBody;
    assert.equal(put.RequestBody.properties.requestSettings, undefined);
    assert.deepEqual(got.properties.requestSettings, {
      maxQueueWait: 'PT0S',
      requestTimeout: 'PT5S',
      maxConcurrentRequestsPerInstance: 1,
    });
    assert.deepEqual(deploymentDifferences(deploymentInfo(got), put.RequestBody, REC_WS_PATH), []);
    assert.deepEqual(
      deploymentDifferences(
        deploymentInfo(got),
        {
          ...put.RequestBody,
          properties: { ...put.RequestBody.properties, requestSettings: { maxQueueWait: 'PT0.5S' } },
        },
        REC_WS_PATH,
      ),
      ['requestSettings (maxQueueWait 0 → 500)'],
    );
    assert.deepEqual(
      deploymentDifferences(
        deploymentInfo(got),
        { ...put.RequestBody, properties: { ...put.RequestBody.properties, livenessProbe: { period: 'PT30S' } } },
        REC_WS_PATH,
      ),
      ['livenessProbe (period 10000 → 30000)'],
    );
  });

  test('max-queue-wait-unasked: the documented 500 ms default and the recorded PT0S both mean "not asked"; an explicit value is compared', () => {
    const put = entry(DEP_2022, 'PUT', /\/deployments\/online-ept-10cd4ed17147449/);
    const got = entry(DEP_2022, 'GET', /\/deployments\/online-ept-10cd4ed17147449/).ResponseBody;
    const documented = {
      ...got,
      properties: { ...got.properties, requestSettings: { ...got.properties.requestSettings, maxQueueWait: 'PT0.5S' } },
    };
    assert.deepEqual(deploymentDifferences(deploymentInfo(documented), put.RequestBody, REC_WS_PATH), []);
    assert.deepEqual(
      deploymentDifferences(
        deploymentInfo(documented),
        {
          ...put.RequestBody,
          properties: { ...put.RequestBody.properties, requestSettings: { maxQueueWait: 'PT0S' } },
        },
        REC_WS_PATH,
      ),
      ['requestSettings (maxQueueWait 500 → 0)'],
    );
  });

  test('service-added variables are only ignored when the user did not set them', () => {
    const read = recorded.properties.environmentVariables;
    assert.deepEqual(userEnvironmentVariables(read, undefined), {});
    assert.deepEqual(userEnvironmentVariables({ ...read, MY: '1' }, { MY: '1' }), { MY: '1' });
    assert.deepEqual(userEnvironmentVariables(read, { AZUREML_ENTRY_SCRIPT: 'x' }), {
      AZUREML_ENTRY_SCRIPT: 'score.py',
    });
  });

  test("asset-ref-short-long only inside the task's workspace", () => {
    const id = `${REC_WS_PATH}/environments/AzureML-sklearn-1.0-ubuntu20.04-py38-cpu/versions/33`;
    assert.ok(sameAssetRef('azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu:33', id, REC_WS_PATH));
    assert.ok(sameAssetRef('azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu:33', id.toLowerCase(), REC_WS_PATH));
    assert.ok(
      !sameAssetRef(
        'azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu:33',
        id,
        REC_WS_PATH.replace('00000/providers', 'other/providers'),
      ),
    );
    assert.ok(
      !sameAssetRef('azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu:33', id.replace(/33$/, '3'), REC_WS_PATH),
    );
    assert.ok(sameAssetRef(`azureml:${id}`, id.toUpperCase(), REC_WS_PATH));
    assert.ok(
      sameAssetRef(
        'azureml://registries/azureml/environments/AzureML-Minimal/versions/1',
        'azureml://registries/AzureML/environments/azureml-minimal/versions/1',
        REC_WS_PATH,
      ),
    );
    assert.ok(
      !sameAssetRef(
        'azureml://datastores/workspaceblobstore/paths/Data/a.csv',
        'azureml://datastores/workspaceblobstore/paths/data/a.csv',
        REC_WS_PATH,
      ),
      'blob paths keep their case',
    );
  });
});

// ------------------------------------------------------------------------------------------------ ARM errors

describe('ARM error messages name the cause from error.details[]', () => {
  const notFound = entry(MODEL, 'GET', /\/models\/test_907403507619\/versions\?/, 404);

  test("the recorded 404 names ModelNotFound and its message, through armRequest and through the SDK's RestError", async () => {
    const p = parseArmError(notFound.ResponseBody);
    assert.equal(p.code, 'UserError');
    assert.equal(p.summary, 'The specified resource was not found.');
    assert.equal(
      p.message,
      'The specified resource was not found. (cause: ModelNotFound: Model container with name: test_907403507619 not found.)',
    );

    const ctx = fakeCtx([{ status: 404, body: notFound.ResponseBody }]);
    await assert.rejects(
      armRequest(ctx, 'GET', `${REC_WS_PATH}/models/test_907403507619/versions`, undefined, {
        what: "model 'test_907403507619'",
      }),
      (e: unknown) =>
        e instanceof UserError &&
        e.message ===
          "Not found (model 'test_907403507619'): UserError: The specified resource was not found. (cause: ModelNotFound: Model container with name: test_907403507619 not found.)",
    );

    const rest = new RestError('The specified resource was not found.', {
      statusCode: 404,
      code: 'UserError',
      response: {
        status: 404,
        headers: createHttpHeaders(),
        bodyAsText: JSON.stringify(notFound.ResponseBody),
        request: {} as any,
      },
    });
    const mapped = mapAzureError(rest, 'model') as Error;
    assert.match(mapped.message, /cause: ModelNotFound: Model container with name: test_907403507619 not found\./);
  });

  test('a 400 names the field of each detail (ARM ErrorDetail.target); nested details are reached; a body without details is unchanged', () => {
    // ASSUMPTION (shape only): the 400 body below is not a recording; its shape is ARM's ErrorResponse / ErrorDetail
    // (common-types v3 types.json, kept in test/fixtures/third-party/azure-rest-api-specs/common-types/v3/types.json).
    const p = parseArmError({
      error: {
        code: 'UserError',
        message: 'Request is invalid and/or missing fields.',
        details: [
          {
            code: 'RequestInvalid',
            message: 'The field is not valid.',
            target: 'properties.requestSettings.maxQueueWait',
            details: [{ code: 'Inner', message: 'PT-1S is not a duration' }],
          },
        ],
      },
    });
    assert.equal(
      p.message,
      'Request is invalid and/or missing fields. (cause: RequestInvalid: The field is not valid. [field properties.requestSettings.maxQueueWait]; Inner: PT-1S is not a duration)',
    );
    assert.equal(parseArmError({ error: { code: 'AuthorizationFailed', message: 'no\nway' } }).message, 'no');
    assert.equal(parseArmError('plain text').message, 'plain text');
    const quoted = parseArmError({
      error: {
        code: 'BadRequest',
        message: "The request content is invalid for operation 'X': a is wrong",
        details: [{ code: 'InvalidRequestContent', message: 'a is wrong' }],
      },
    });
    assert.equal(
      quoted.message,
      "The request content is invalid for operation 'X': a is wrong",
      'a detail the message already quotes is not repeated',
    );
  });
});
