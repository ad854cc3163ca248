import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  buildComponentVersion,
  buildJobBody,
  JobSpecError,
  parseComponentYaml,
  parseJobYaml,
  planJob,
} from '../../src/azureml/jobSpec';
import type { SpecResolver } from '../../src/azureml/jobSpec';
import { pyFloatRepr, pyStr, secondsToIso } from '../../src/azureml/yamlSpec';
import { validateBody } from '../emulator/swagger';
import { JOBS_API_VERSION } from '../../src/azureml/jobs';

/** job bodies are checked against the api-version the task sends them at, unknown members included */
const AT_JOBS_API = { apiVersion: JOBS_API_VERSION, noUnknownProperties: true };

const REPO = path.resolve(__dirname, '../..');
const CORPUS = path.resolve(REPO, 'test/fixtures/third-party/azureml-examples/cli');
const JOBS = path.join(CORPUS, 'jobs');
const WS =
  '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws';

function walk(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** Records every call; never touches the disk (corpus code folders are not included). */
function fakeResolver() {
  const log: Array<{ op: string; arg: unknown }> = [];
  const components = new Map<string, unknown>();
  const r: SpecResolver = {
    wsPath: WS,
    async uploadCode(p) {
      log.push({ op: 'uploadCode', arg: p });
      return `${WS}/codes/${path.basename(p)}-code/versions/1`;
    },
    async uploadLocalPath(p, t) {
      log.push({ op: 'uploadLocalPath', arg: [p, t] });
      return `azureml://subscriptions/s/resourcegroups/rg/workspaces/ws/datastores/workspaceblobstore/paths/LocalUpload/abc/${path.basename(p)}`;
    },
    async ensureEnvironment(e) {
      log.push({ op: 'ensureEnvironment', arg: e });
      return `${WS}/environments/${e.name ?? 'CliV2AnonymousEnvironment'}/versions/${e.version ?? 'h1'}`;
    },
    async ensureComponent(c) {
      log.push({ op: 'ensureComponent', arg: c });
      components.set(`${c.name}:${c.version}`, c.body);
      return `${WS}/components/${c.name}/versions/${c.version}`;
    },
    async resolveAsset(kind, ref) {
      log.push({ op: 'resolveAsset', arg: [kind, ref] });
      const m = /^azureml:([^:@]+)(?::(.+)|@(.+))?$/.exec(ref)!;
      return `${WS}/${kind}/${m[1]}/versions/${m[2] ?? '7'}`;
    },
    async computeId(n) {
      log.push({ op: 'computeId', arg: n });
      return `${WS}/computes/${n}`;
    },
  };
  return { r, log, components };
}

// job and component files (not the conda / environment files next to them)
const jobFiles = walk(JOBS)
  .filter(
    (f) =>
      /\.ya?ml$/.test(f) &&
      /^(\$schema:.*(Job|Component)\.schema|type:|command:|jobs:)/m.test(fs.readFileSync(f, 'utf8')),
  )
  .sort();
// (the `$schema` line, which some files put after a comment line)
const isComponent = (f: string) => /^\$schema:.*Component\.schema\.json/m.test(fs.readFileSync(f, 'utf8'));

test('corpus: the jobs folder is there and has files', () => {
  assert.ok(jobFiles.length >= 20, `expected the corpus under ${JOBS}, found ${jobFiles.length} files`);
});

for (const file of jobFiles) {
  const rel = path.relative(CORPUS, file);
  if (isComponent(file)) {
    test(`corpus component ${rel}: refused as a job, valid as a component version`, async () => {
      assert.throws(
        () => parseJobYaml(file),
        (e: unknown) =>
          e instanceof JobSpecError &&
          /component definition/.test(e.message) &&
          e.message.includes(path.basename(file)),
      );
      // a pipeline component is built through the pipeline that names it (the corpus job test below and the e2e
      // corpus run); buildComponentVersion registers command and parallel components
      if (/^type:\s*pipeline\b/m.test(fs.readFileSync(file, 'utf8'))) return;
      const { r, log } = fakeResolver();
      const { request } = await buildComponentVersion(parseComponentYaml(file), r);
      assert.deepEqual(validateBody('ComponentVersions_CreateOrUpdate', request.body), []);
      assert.equal(
        request.body.properties.componentSpec.type,
        /^type:\s*spark\s*$/m.test(fs.readFileSync(file, 'utf8')) ? 'spark' : 'command',
      );
      if (/^code:/m.test(fs.readFileSync(file, 'utf8'))) {
        assert.match(String(request.body.properties.componentSpec.code), /^azureml:\/subscriptions\/.*\/codes\//);
        assert.ok(log.some((c) => c.op === 'uploadCode'));
      }
    });
    continue;
  }
  test(`corpus job ${rel}: parses unchanged, body valid for Jobs_CreateOrUpdate`, async () => {
    const spec = parseJobYaml(file);
    const { r, components } = fakeResolver();
    const { body } = await buildJobBody(spec, r);
    assert.deepEqual(validateBody('Jobs_CreateOrUpdate', body, AT_JOBS_API), []);
    for (const [id, c] of components) assert.deepEqual(validateBody('ComponentVersions_CreateOrUpdate', c), [], id);
    const props = body.properties;
    assert.ok(props.experimentName, 'experimentName set');
    // every asset input keeps uri (and mode when the YAML gave one)
    const inputs = (props.inputs ?? {}) as Record<string, Record<string, unknown>>;
    for (const [k, i] of Object.entries(inputs)) {
      if (i.jobInputType === 'literal') assert.equal(typeof i.value, 'string', k);
      else assert.ok(typeof i.uri === 'string' && i.uri.length > 0, `input ${k} keeps uri`);
    }
  });
}

const J = (p: string) => path.join(JOBS, p);

test('hello-data-uri-folder: azureml:name@latest input keeps uri (ARM id) and mode', async () => {
  const { r, log } = fakeResolver();
  const { body } = await buildJobBody(parseJobYaml(J('basics/hello-data-uri-folder.yml')), r);
  const i = (body.properties.inputs as any).sampledata;
  assert.deepEqual(i, {
    jobInputType: 'uri_folder',
    uri: `${WS}/data/local-folder-example/versions/7`,
    mode: 'ReadOnlyMount',
  });
  assert.deepEqual(log.find((c) => c.op === 'resolveAsset')!.arg, ['data', 'azureml:local-folder-example@latest']);
  assert.equal(body.properties.environmentId, 'azureml://registries/azureml/environments/sklearn-1.5/labels/latest');
  assert.equal(body.properties.codeId, `${WS}/codes/src-code/versions/1`);
  assert.deepEqual(log.find((c) => c.op === 'uploadCode')!.arg, J('basics/src'));
});

test('hello-world-input: literal inputs become strings; inline image environment ensured', async () => {
  const { r, log } = fakeResolver();
  const { body } = await buildJobBody(parseJobYaml(J('basics/hello-world-input.yml')), r);
  assert.deepEqual(body.properties.inputs, {
    hello_string: { jobInputType: 'literal', value: 'hello world' },
    hello_number: { jobInputType: 'literal', value: '42' },
  });
  const env = log.find((c) => c.op === 'ensureEnvironment')!.arg as any;
  assert.equal(env.image, 'library/python:latest');
  assert.equal(body.properties.jobType, 'Command');
  assert.equal(body.properties.command, 'echo ${{inputs.hello_string}}\necho ${{inputs.hello_number}}\n');
});

test('hello-iris-file: https uri_file input keeps uri; no mode invented', async () => {
  const { r } = fakeResolver();
  const { body } = await buildJobBody(parseJobYaml(J('basics/hello-iris-file.yml')), r);
  assert.deepEqual((body.properties.inputs as any).iris_csv, {
    jobInputType: 'uri_file',
    uri: 'https://azuremlexamples.blob.core.windows.net/datasets/iris.csv',
  });
});

test('hello-model-as-input: local mlflow_model path is uploaded and referenced', async () => {
  const { r, log } = fakeResolver();
  const { body } = await buildJobBody(parseJobYaml(J('basics/hello-model-as-input.yml')), r);
  const up = log.find((c) => c.op === 'uploadLocalPath')!.arg as string[];
  assert.equal(up[0], path.join(CORPUS, 'assets/model/mlflow-model'));
  assert.equal(up[1], 'mlflow_model');
  assert.match((body.properties.inputs as any).my_model.uri, /^azureml:\/\/.*\/LocalUpload\/abc\/mlflow-model$/);
  assert.equal((body.properties.inputs as any).my_model.jobInputType, 'mlflow_model');
});

test('hello-model-as-output: custom_model output', async () => {
  const { r } = fakeResolver();
  const { body } = await buildJobBody(parseJobYaml(J('basics/hello-model-as-output.yml')), r);
  assert.deepEqual((body.properties.outputs as any).output_folder, { jobOutputType: 'custom_model' });
});

test('hello-world-env-var: environment variables, experiment name defaults to the YAML folder', async () => {
  const { r } = fakeResolver();
  const { body } = await buildJobBody(parseJobYaml(J('basics/hello-world-env-var.yml')), r);
  assert.deepEqual(body.properties.environmentVariables, { hello_env_var: 'hello world' });
  assert.equal(body.properties.experimentName, 'basics');
  const { body: b2 } = await buildJobBody(parseJobYaml(J('basics/hello-world-org.yml')), r);
  assert.equal(b2.properties.experimentName, 'hello-world-example');
  assert.deepEqual(b2.properties.tags, { hello: 'world' });
  assert.equal(b2.properties.displayName, 'hello-world-example');
});

test('hello-iris-literal: an input named "type" is a literal', async () => {
  const { r } = fakeResolver();
  const { body } = await buildJobBody(parseJobYaml(J('basics/hello-iris-literal.yml')), r);
  assert.deepEqual((body.properties.inputs as any).type, { jobInputType: 'literal', value: 'uri_file' });
});

test('sweep: searchSpace, sampling, objective, limits in REST form', async () => {
  const { r, log } = fakeResolver();
  const { body } = await buildJobBody(parseJobYaml(J('basics/hello-sweep.yml')), r);
  const p = body.properties as any;
  assert.equal(p.jobType, 'Sweep');
  assert.deepEqual(p.searchSpace, { B: ['choice', [['hello', 'world', 'hello_world']]], C: ['uniform', [0.1, 1.0]] });
  assert.deepEqual(p.samplingAlgorithm, { samplingAlgorithmType: 'Random' });
  assert.deepEqual(p.objective, { goal: 'Minimize', primaryMetric: 'random_metric' });
  assert.deepEqual(p.limits, { jobLimitsType: 'Sweep', maxTotalTrials: 4, maxConcurrentTrials: 2, timeout: 'PT1H' });
  // curated environment short form goes to the service as written (az ml does the same)
  assert.equal(p.trial.environmentId, 'azureml:AzureML-sklearn-1.5@latest');
  assert.equal(log.filter((c) => c.op === 'resolveAsset').length, 0);
  assert.deepEqual(p.inputs, { A: { jobInputType: 'literal', value: '0.5' } });
  const { body: b2 } = await buildJobBody(parseJobYaml(J('single-step/scikit-learn/iris/job-sweep.yml')), r);
  assert.deepEqual((b2.properties as any).searchSpace.coef0, ['uniform', [0.1, 1]]);
  assert.equal((b2.properties as any).limits.timeout, 'PT2H');
  assert.equal((b2.properties as any).computeId, `${WS}/computes/cpu-cluster`);
});

test('sweep: every distribution, object sampling algorithm and early termination', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jobspec-'));
  const f = path.join(dir, 'sweep.yml');
  fs.writeFileSync(
    f,
    `type: sweep
trial:
  command: python t.py --a \${{search_space.a}}
  environment: azureml:env:3
sampling_algorithm:
  type: random
  seed: 42
  rule: sobol
search_space:
  a: {type: loguniform, min_value: -6, max_value: -1}
  b: {type: normal, mu: 0, sigma: 1}
  c: {type: qnormal, mu: 10, sigma: 2, q: 1}
  d: {type: lognormal, mu: 0, sigma: 1}
  e: {type: qlognormal, mu: 0, sigma: 1, q: 2}
  f: {type: randint, upper: 10}
  g: {type: quniform, min_value: 1, max_value: 9, q: 2}
  h: {type: qloguniform, min_value: 1, max_value: 5, q: 1}
  i: {type: choice, values: [1, 2.5, "x"]}
objective: {goal: Maximize, primary_metric: acc}
early_termination: {type: bandit, evaluation_interval: 2, delay_evaluation: 1, slack_factor: 0.1}
limits: {max_total_trials: 10, trial_timeout: 90}
compute: gpu
`,
  );
  const { r } = fakeResolver();
  const { body } = await buildJobBody(parseJobYaml(f), r);
  const p = body.properties as any;
  assert.deepEqual(validateBody('Jobs_CreateOrUpdate', body, AT_JOBS_API), []);
  assert.deepEqual(p.samplingAlgorithm, { samplingAlgorithmType: 'Random', seed: 42, rule: 'Sobol' });
  assert.deepEqual(p.searchSpace.a, ['loguniform', [-6, -1]]);
  assert.deepEqual(p.searchSpace.c, ['qnormal', [10, 2, 1]]);
  assert.deepEqual(p.searchSpace.f, ['randint', [10]]);
  assert.deepEqual(p.searchSpace.h, ['qloguniform', [1, 5, 1]]);
  assert.deepEqual(p.searchSpace.i, ['choice', [[1, 2.5, 'x']]]);
  assert.deepEqual(p.earlyTermination, {
    policyType: 'Bandit',
    evaluationInterval: 2,
    delayEvaluation: 1,
    slackFactor: 0.1,
  });
  assert.deepEqual(p.limits, { jobLimitsType: 'Sweep', maxTotalTrials: 10, trialTimeout: 'PT1M30S' });
  assert.deepEqual(p.objective, { goal: 'Maximize', primaryMetric: 'acc' });
  assert.equal(p.computeId, `${WS}/computes/gpu`);
});

test('pipeline: bindings, settings, anonymous components for inline steps', async () => {
  const { r, components } = fakeResolver();
  const { body } = await buildJobBody(parseJobYaml(J('basics/hello-pipeline-abc.yml')), r);
  const p = body.properties as any;
  assert.equal(p.jobType, 'Pipeline');
  assert.deepEqual(p.settings, { default_compute: `${WS}/computes/cpu-cluster`, _source: 'YAML.JOB' });
  assert.deepEqual(p.jobs.a.inputs.hello_string, {
    job_input_type: 'literal',
    value: '${{parent.inputs.hello_string_top_level_input}}',
  });
  assert.deepEqual(p.jobs.c.inputs.world_input, {
    job_input_type: 'literal',
    value: '${{parent.jobs.b.outputs.world_output}}',
  });
  assert.deepEqual(p.inputs, { hello_string_top_level_input: { jobInputType: 'literal', value: 'hello world' } });
  assert.match(p.jobs.a.componentId, /\/components\/azureml_anonymous\/versions\/[0-9a-f]{32}$/);
  const compA = components.get(p.jobs.a.componentId.split('/components/')[1].replace('/versions/', ':')) as any;
  assert.equal(compA.properties.componentSpec.command, 'echo hello ${{inputs.hello_string}}');
  assert.deepEqual(compA.properties.componentSpec.inputs, { hello_string: { type: 'string' } });
  const compC = components.get(p.jobs.c.componentId.split('/components/')[1].replace('/versions/', ':')) as any;
  assert.deepEqual(compC.properties.componentSpec.inputs, { world_input: { type: 'uri_folder' } });
  const { body: b2 } = await buildJobBody(parseJobYaml(J('basics/hello-pipeline-settings.yml')), r);
  assert.equal((b2.properties as any).settings.default_datastore, `${WS}/datastores/workspaceblobstore`);
});

test('pipeline with file components: component files loaded relative to the YAML, outputs bound to parent', async () => {
  const { r, log, components } = fakeResolver();
  const { body } = await buildJobBody(
    parseJobYaml(J('pipelines-with-components/basics/1a_e2e_local_components/pipeline.yml')),
    r,
  );
  const p = body.properties as any;
  assert.deepEqual(p.jobs.train_job.outputs.model_output, {
    value: '${{parent.outputs.pipeline_job_trained_model}}',
    type: 'literal',
  });
  assert.deepEqual(p.jobs.train_job.inputs.max_epocs, {
    job_input_type: 'literal',
    value: '${{parent.inputs.pipeline_job_training_max_epocs}}',
  });
  assert.deepEqual(p.jobs.train_job.inputs.training_data.job_input_type, 'uri_folder');
  assert.deepEqual(p.jobs.score_job.outputs.score_output, { job_output_type: 'uri_folder', mode: 'Upload' });
  assert.deepEqual(p.outputs.pipeline_job_trained_model, { jobOutputType: 'uri_folder', mode: 'Upload' });
  assert.deepEqual(p.inputs.pipeline_job_training_learning_rate, { jobInputType: 'literal', value: '1.8' });
  const codes = log
    .filter((c) => c.op === 'uploadCode')
    .map((c) => path.basename(c.arg as string))
    .sort();
  assert.deepEqual(codes, ['eval_src', 'score_src', 'train_src']);
  const uploads = log.filter((c) => c.op === 'uploadLocalPath').map((c) => (c.arg as string[])[0]);
  assert.deepEqual([...new Set(uploads)], [J('pipelines-with-components/basics/1a_e2e_local_components/data')]);
  const train = [...components.values()]
    .map((c: any) => c.properties.componentSpec)
    .find((s) => s.display_name === 'Train');
  assert.equal(train.inputs.learning_rate.default, '0.01');
  assert.equal(train._source, 'YAML.COMPONENT');
  // a step whose component is a file is YAML.COMPONENT too (azure-ai-ml: the node's _source is its component's)
  assert.equal((body.properties as any).jobs.train_job._source, 'YAML.COMPONENT');
});

test('pipeline with an inline parallel step', async () => {
  const { r, components } = fakeResolver();
  const { body } = await buildJobBody(
    parseJobYaml(J('pipelines/iris-batch-prediction-using-parallel/pipeline.yml')),
    r,
  );
  const n = (body.properties as any).jobs.batch_prediction;
  assert.equal(n.type, 'parallel');
  // azure-ai-ml converts "10kb" to bytes: the node an integer, the component its text (compare-azure-ai-ml, issue 9)
  assert.equal(n.mini_batch_size, 10240);
  assert.deepEqual(n.retry_settings, { max_retries: 2, timeout: 60 });
  assert.deepEqual(n.inputs.input_data, {
    job_input_type: 'mltable',
    uri: 'azureml://subscriptions/s/resourcegroups/rg/workspaces/ws/datastores/workspaceblobstore/paths/LocalUpload/abc/neural-iris-mltable',
    mode: 'Direct',
  });
  const comp = [...components.values()][0] as any;
  assert.equal(comp.properties.componentSpec.type, 'parallel');
  assert.equal(comp.properties.componentSpec.task.entry_script, 'iris_prediction.py');
  assert.match(
    comp.properties.componentSpec.task.environment,
    /^azureml:\/subscriptions\/.*\/environments\/CliV2AnonymousEnvironment\/versions\/h1$/,
  );
  assert.equal(comp.properties.componentSpec.mini_batch_size, '10240');
  // the inline step sends its task on the node as well, code and environment resolved (as azure-ai-ml's Parallel node)
  assert.deepEqual(n.task, comp.properties.componentSpec.task);
  assert.match(n.task.code, /^azureml:\/subscriptions\/.*\/codes\//);
  assert.equal(n.task.append_row_to, '${{outputs.job_output_file}}');
  assert.equal(n._source, 'YAML.JOB');
});

test('parallel mini_batch_size: files as a number, sizes kb/mb/gb in bytes; anything else names the key', async () => {
  const { r } = fakeResolver();
  const file = J('pipelines/iris-batch-prediction-using-parallel/pipeline.yml');
  const size = async (v: string) =>
    (
      (await buildJobBody(parseJobYaml(file, { overrides: [`jobs.batch_prediction.mini_batch_size=${v}`] }), r)).body
        .properties as any
    ).jobs.batch_prediction.mini_batch_size;
  assert.equal(await size('10'), 10);
  assert.equal(await size('2MB'), 2 * 1024 * 1024);
  assert.equal(await size('1gb'), 1024 ** 3);
  assert.throws(
    () => parseJobYaml(file, { overrides: ['jobs.batch_prediction.mini_batch_size=10 files'] }),
    (e: unknown) => e instanceof JobSpecError && /mini_batch_size/.test(e.message) && /10kb/.test(e.message),
  );
});

test('overrides: inputs, compute, environment variables, experiment, pipeline step inputs', async () => {
  const { r } = fakeResolver();
  const spec = parseJobYaml(J('single-step/scikit-learn/iris/job.yml'), {
    overrides: [
      'inputs.C=0.1',
      'compute=azureml:gpu',
      'environment_variables.X=1',
      'experiment_name=x',
      'inputs.kernel=linear',
      'tags.flag=true',
    ],
  });
  const { body } = await buildJobBody(spec, r);
  const p = body.properties as any;
  assert.deepEqual(p.inputs.C, { jobInputType: 'literal', value: '0.1' });
  assert.deepEqual(p.inputs.kernel, { jobInputType: 'literal', value: 'linear' });
  assert.equal(p.computeId, `${WS}/computes/gpu`);
  assert.deepEqual(p.environmentVariables, { X: '1' });
  assert.equal(p.experimentName, 'x');
  assert.equal(p.tags.flag, 'True');
  const pipe = parseJobYaml(J('pipelines-with-components/basics/1a_e2e_local_components/pipeline.yml'), {
    overrides: ['jobs.train_job.inputs.max_epocs=5', 'settings.continue_on_step_failure=true'],
  });
  const { body: pb } = await buildJobBody(pipe, r);
  assert.deepEqual((pb.properties as any).jobs.train_job.inputs.max_epocs, { job_input_type: 'literal', value: '5' });
  assert.equal((pb.properties as any).settings.continue_on_step_failure, true);
  assert.deepEqual(validateBody('Jobs_CreateOrUpdate', pb, AT_JOBS_API), []);
});

test('overrides: bad syntax fails naming the override', () => {
  const f = J('basics/hello-world.yml');
  const bad = (o: string, re: RegExp) =>
    assert.throws(
      () => parseJobYaml(f, { overrides: [o] }),
      (e: unknown) => e instanceof JobSpecError && e.message.includes(`'${o}'`) && re.test(e.message),
      o,
    );
  bad('inputs.learning_rate', /expected path=value/);
  bad('=3', /path before '=' is empty/);
  bad('inputs..x=3', /empty segment/);
  bad('command.x=3', /'command' is the value .* not a mapping/);
  bad('foo=1', /unknown key/);
  bad('inputs.x=[1', /not valid YAML/);
});

test('bad YAML fails with a message naming file and line/key', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jobspec-'));
  const write = (name: string, text: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };
  const expectErr = (f: string, re: RegExp) =>
    assert.throws(
      () => parseJobYaml(f),
      (e: unknown) => e instanceof JobSpecError && re.test(e.message) && e.message.includes(path.basename(f)),
      `${path.basename(f)} should fail with ${re}`,
    );
  expectErr(write('syntax.yml', 'command: echo\nenvironment: [unclosed\n'), /syntax\.yml:\d+: YAML syntax error/);
  expectErr(
    write('type.yml', 'type: magic\ncommand: echo hi\nenvironment: azureml:e:1\n'),
    /type\.yml:1: 'type': unknown job type 'magic'/,
  );
  expectErr(write('nocmd.yml', 'environment: azureml:e:1\n'), /'command': a command job needs a 'command'/);
  expectErr(write('noenv.yml', 'command: echo hi\n'), /'environment': a command job needs an 'environment'/);
  expectErr(
    write('unknown.yml', 'command: echo hi\nenvironment: azureml:e:1\ncomptue: cpu\n'),
    /unknown\.yml:3: 'comptue': unknown key for a command job/,
  );
  expectErr(
    write(
      'nested.yml',
      'command: echo hi\nenvironment: azureml:e:1\ninputs:\n  a:\n    type: uri_file\n    path: x.csv\n    moed: download\n',
    ),
    /nested\.yml:7: 'inputs\.a\.moed': unknown key for an input/,
  );
  expectErr(
    write(
      'mode.yml',
      'command: echo hi\nenvironment: azureml:e:1\ninputs:\n  a:\n    type: uri_file\n    path: x.csv\n    mode: sideways\n',
    ),
    /'inputs\.a\.mode': unknown input mode 'sideways'/,
  );
  expectErr(write('ref.yml', 'command: echo ${{inputs.nope}}\nenvironment: azureml:e:1\n'), /no input 'nope'/);
  expectErr(
    write('dup.yml', 'command: echo hi\ncommand: echo again\nenvironment: azureml:e:1\n'),
    /dup\.yml:\d+: YAML syntax error/,
  );
  expectErr(write('empty.yml', ''), /empty/);
  expectErr(
    write(
      'pipe.yml',
      'type: pipeline\njobs:\n  a:\n    command: echo ${{inputs.x}}\n    environment: azureml:e:1\n    inputs:\n      x: ${{parent.inputs.missing}}\n',
    ),
    /pipe\.yml:7: 'jobs\.a\.inputs\.x': .*'missing'/,
  );
  expectErr(
    write('comp.yml', 'type: pipeline\njobs:\n  a:\n    component: ./nowhere.yml\n'),
    /component file '\.\/nowhere\.yml' not found/,
  );
  assert.throws(() => parseJobYaml(path.join(dir, 'absent.yml')), /absent\.yml: file not found/);
});

test('planJob lists the resolver calls without making them', async () => {
  const calls = await planJob(parseJobYaml(J('pipelines/nyc-taxi/pipeline.yml')), WS);
  const ops = new Set(calls.map((c) => c.op));
  assert.ok(ops.has('uploadCode') && ops.has('uploadLocalPath') && ops.has('ensureComponent') && ops.has('computeId'));
  assert.equal(calls.filter((c) => c.op === 'computeId').length, 1, 'memoised: one lookup per compute');
});

test('literal formatting follows Python str() of PyYAML values', () => {
  assert.equal(pyStr(1, '1.0'), '1.0');
  assert.equal(pyStr(1, '1'), '1');
  assert.equal(pyStr(0.1, '0.10'), '0.1');
  assert.equal(pyStr(true, 'yes'), 'True');
  assert.equal(pyStr(1000, '1.0e+3'), '1000.0');
  assert.equal(pyStr(31, '0x1F'), '31');
  assert.equal(pyFloatRepr(1e16), '1e+16');
  assert.equal(pyFloatRepr(1.5e-5), '1.5e-05');
  assert.equal(pyFloatRepr(123456.789), '123456.789');
  assert.equal(pyFloatRepr(0.0001), '0.0001');
  assert.equal(secondsToIso(3600), 'PT1H');
  assert.equal(secondsToIso(90), 'PT1M30S');
  assert.equal(secondsToIso(0.5), 'PT0.5S');
  assert.equal(secondsToIso(90000), 'P1DT1H');
});

test('command job: resources, distribution, limits, identity, services, every input/output kind', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jobspec-'));
  const f = path.join(dir, 'full.yml');
  fs.writeFileSync(
    f,
    `$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
type: command
name: full_job_1
command: python train.py --d \${{inputs.d}} --m \${{outputs.m}} --flag \${{inputs.flag}} [--opt \${{inputs.opt}}]
code: ./src
environment: azureml:my-env:2
compute: /subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/computes/gpu
inputs:
  d: {type: uri_folder, path: ./data, mode: download}
  f: {type: uri_file, path: my-data:3, mode: ro_mount}
  t: {type: mltable, path: azureml://datastores/workspaceblobstore/paths/t/, mode: eval_mount}
  cm: {type: custom_model, path: azureml:m@latest, mode: eval_download}
  tm: {type: triton_model, path: azureml:tri:1, mode: direct}
  rw: {type: uri_folder, path: wasbs://c@a.blob.core.windows.net/x, mode: rw_mount}
  flag: true
  lr: 1.0
  n: {type: integer, default: 3}
outputs:
  m: {type: mlflow_model, mode: upload}
  o: {type: uri_file, path: azureml://datastores/workspaceblobstore/paths/out/o.csv, mode: rw_mount}
  tr: {type: triton_model}
  tb: {type: mltable}
resources: {instance_count: 2, instance_type: Standard_NC6, shm_size: 8g}
distribution: {type: pytorch, process_count_per_instance: 4}
limits: {timeout: 5400}
identity: {type: managed, client_id: 11111111-2222-3333-4444-555555555555}
services:
  my_jupyter: {type: jupyter_lab}
  my_ssh: {type: ssh, ssh_public_keys: ssh-rsa AAAA, nodes: all}
`,
  );
  const { r, log } = fakeResolver();
  const { body } = await buildJobBody(parseJobYaml(f), r);
  assert.deepEqual(validateBody('Jobs_CreateOrUpdate', body, AT_JOBS_API), []);
  const p = body.properties as any;
  assert.equal(
    p.computeId,
    '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/computes/gpu',
  );
  assert.ok(!log.some((c) => c.op === 'computeId'), 'an ARM id needs no lookup');
  assert.match(p.inputs.d.uri, /\/data\/$/, 'uploaded folders end with /');
  assert.equal(p.inputs.d.mode, 'Download');
  assert.deepEqual(p.inputs.f, {
    jobInputType: 'uri_file',
    uri: `${WS}/data/my-data/versions/3`,
    mode: 'ReadOnlyMount',
  });
  assert.deepEqual(p.inputs.cm, {
    jobInputType: 'custom_model',
    uri: `${WS}/models/m/versions/7`,
    mode: 'EvalDownload',
  });
  assert.deepEqual(p.inputs.tm.mode, 'Direct');
  assert.deepEqual(p.inputs.t.mode, 'EvalMount');
  assert.deepEqual(p.inputs.rw.mode, 'ReadWriteMount');
  assert.deepEqual(p.inputs.flag, { jobInputType: 'literal', value: 'True' });
  assert.deepEqual(p.inputs.lr, { jobInputType: 'literal', value: '1.0' });
  assert.deepEqual(p.inputs.n, { jobInputType: 'literal', value: '3' });
  assert.deepEqual(p.outputs.m, { jobOutputType: 'mlflow_model', mode: 'Upload' });
  assert.deepEqual(p.outputs.o, {
    jobOutputType: 'uri_file',
    uri: 'azureml://datastores/workspaceblobstore/paths/out/o.csv',
    mode: 'ReadWriteMount',
  });
  assert.deepEqual(p.resources, { instanceCount: 2, instanceType: 'Standard_NC6', shmSize: '8g' });
  assert.deepEqual(p.distribution, { distributionType: 'PyTorch', processCountPerInstance: 4 });
  assert.deepEqual(p.limits, { jobLimitsType: 'Command', timeout: 'PT1H30M' });
  assert.deepEqual(p.identity, { identityType: 'Managed', clientId: '11111111-2222-3333-4444-555555555555' });
  assert.deepEqual(p.services.my_jupyter, { jobServiceType: 'JupyterLab' });
  assert.deepEqual(p.services.my_ssh, { jobServiceType: 'SSH', properties: { sshPublicKeys: 'ssh-rsa AAAA' } });
  assert.equal(p.environmentId, `${WS}/environments/my-env/versions/2`);
  assert.equal(parseJobYaml(f).name, 'full_job_1');
  // mpi / tensorflow distributions
  for (const [d, want] of [
    ['{type: mpi, process_count_per_instance: 2}', { distributionType: 'Mpi', processCountPerInstance: 2 }],
    [
      '{type: tensorflow, worker_count: 2, parameter_server_count: 1}',
      { distributionType: 'TensorFlow', workerCount: 2, parameterServerCount: 1 },
    ],
  ] as const) {
    const b = await buildJobBody(parseJobYaml(f, { overrides: [`distribution=${d}`] }), r);
    assert.deepEqual((b.body.properties as any).distribution, want);
    assert.deepEqual(validateBody('Jobs_CreateOrUpdate', b.body, AT_JOBS_API), []);
  }
});

test('unsupported constructs fail clearly', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jobspec-'));
  const write = (name: string, text: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };
  const base = 'command: echo hi\nenvironment: azureml:e:1\n';
  assert.throws(
    () => parseJobYaml(write('om.yml', `${base}outputs:\n  o:\n    mode: ro_mount\n`)),
    /'outputs\.o\.mode': unknown output mode 'ro_mount' \(rw_mount, upload, direct\)/,
  );
  assert.throws(() => parseJobYaml(write('local.yml', `${base}compute: local\n`)), /local runs are not supported/);
  assert.throws(
    () => parseJobYaml(write('dist.yml', `${base}distribution:\n  type: horovod\n`)),
    /dist\.yml:4: 'distribution\.type': unknown distribution type 'horovod'/,
  );
  assert.throws(
    () =>
      parseJobYaml(
        write(
          'ss.yml',
          'type: sweep\ntrial:\n  command: echo\n  environment: azureml:e:1\nsearch_space:\n  a: {type: gaussian}\nobjective: {goal: max, primary_metric: m}\nsampling_algorithm: random\n',
        ),
      ),
    /'search_space\.a\.type': unknown distribution 'gaussian'/,
  );
  assert.throws(
    () => parseJobYaml(write('qt.yml', `${base}queue_settings:\n  job_tier: gold\n`)),
    /qt\.yml:4: 'queue_settings\.job_tier': unknown job tier 'gold'/,
  );
});

test('api-version 2024-04-01 fields: queue_settings, notification_setting, direct outputs; named outputs warned', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jobspec-'));
  const f = path.join(dir, 'new.yml');
  fs.writeFileSync(
    f,
    'command: echo hi > ${{outputs.o}}\nenvironment: azureml:e:1\nresources:\n  instance_type: Standard_E4s_v3\n  instance_count: 2\nqueue_settings:\n  job_tier: spot\n  priority: high\nnotification_setting:\n  emails: [a@example.com]\n  email_on: [job_completed, job_failed]\noutputs:\n  o:\n    type: uri_folder\n    mode: direct\n    name: my-output\n',
  );
  const spec = parseJobYaml(f);
  assert.match(
    spec.warnings.join('\n'),
    /new\.yml:8: 'queue_settings\.priority' is not part of api-version 2024-04-01/,
  );
  assert.match(
    spec.warnings.join('\n'),
    /new\.yml:\d+: registering an output as a named asset .* not part of api-version 2024-04-01/,
  );
  const { r, log } = fakeResolver();
  const { body } = await buildJobBody(spec, r);
  const p = body.properties as any;
  assert.deepEqual(p.queueSettings, { jobTier: 'Spot' });
  assert.deepEqual(p.notificationSetting, { emails: ['a@example.com'], emailOn: ['JobCompleted', 'JobFailed'] });
  assert.deepEqual(p.outputs.o, { jobOutputType: 'uri_folder', mode: 'Direct' });
  // no compute: serverless, sized by resources; nothing looked up
  assert.equal(p.computeId, undefined);
  assert.deepEqual(p.resources, { instanceCount: 2, instanceType: 'Standard_E4s_v3' });
  assert.equal(log.filter((c) => c.op === 'computeId').length, 0);
  assert.deepEqual(validateBody('Jobs_CreateOrUpdate', body, AT_JOBS_API), []);
  // the same body is refused at 2022-10-01 (what the SDK speaks): why the task sends jobs at 2024-04-01
  assert.ok(
    validateBody('Jobs_CreateOrUpdate', body, { noUnknownProperties: true }).some((e) =>
      /queueSettings: unknown property/.test(e),
    ),
  );
  // compute: azureml:serverless is the same job
  fs.writeFileSync(f, 'command: echo hi\nenvironment: azureml:e:1\ncompute: azureml:serverless\n');
  const b2 = await buildJobBody(parseJobYaml(f), r);
  assert.equal((b2.body.properties as any).computeId, undefined);
  assert.equal(log.filter((c) => c.op === 'computeId').length, 0);
});

test('YAML 1.1 as PyYAML reads it: y/n stay strings, yes/on are booleans', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jobspec-'));
  const f = path.join(dir, 'bools.yml');
  fs.writeFileSync(
    f,
    'command: echo\nenvironment: azureml:e:1\ninputs:\n  n: y\n  y: n\n  a: yes\n  b: off\n  c: 0.10\n  d: 1e3\n',
  );
  const { r } = fakeResolver();
  const { body } = await buildJobBody(parseJobYaml(f), r);
  const v = Object.fromEntries(
    Object.entries(body.properties.inputs as Record<string, { value: string }>).map(([k, x]) => [k, x.value]),
  );
  assert.deepEqual(v, { n: 'y', y: 'n', a: 'True', b: 'False', c: '0.1', d: '1e3' });
});

// ------------------------------------------------------------------ issue 15 §2: converted as az ml does

test('scalars are read as PyYAML reads them, for every field: `code: .` is the folder, not NaN', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jobspec-'));
  const f = path.join(dir, 'scalars.yml');
  fs.writeFileSync(
    f,
    'command: echo\ncode: .\nenvironment: azureml:e:1\ninputs:\n  a: 1e3\n  b: 1.5e3\n  c: 1.0e+3\n  d: 09\n  e: 0x1F\n  f: 1:30\n  g: .5\n  h: -.inf\n  i: 2001-12-14\n  j: 1_000\n',
  );
  const { r, log } = fakeResolver();
  const { body } = await buildJobBody(parseJobYaml(f), r);
  assert.deepEqual(log.find((c) => c.op === 'uploadCode')?.arg, dir);
  const inputs = body.properties.inputs as Record<string, { value: string }>;
  const v = Object.fromEntries(Object.entries(inputs).map(([k, x]) => [k, x.value]));
  // python3 -c 'import yaml; print({k: str(v) for k, v in yaml.safe_load(open("scalars.yml"))["inputs"].items()})'
  // (PyYAML 6.0) gives the same except i: str(datetime.date) is also '2001-12-14'
  assert.deepEqual(v, {
    a: '1e3',
    b: '1.5e3',
    c: '1000.0',
    d: '09',
    e: '31',
    f: '90',
    g: '0.5',
    h: '-inf',
    i: '2001-12-14',
    j: '1000',
  });
});

test('an inline environment with name/version is registered anonymously (iris-batch-prediction: prs-env:1)', async () => {
  const { r, log } = fakeResolver();
  await buildJobBody(parseJobYaml(J('pipelines/iris-batch-prediction-using-parallel/pipeline.yml')), r);
  const envs = log
    .filter((c) => c.op === 'ensureEnvironment')
    .map((c) => c.arg as { name?: string; version?: string; image?: string });
  assert.equal(envs.length, 1);
  assert.equal(envs[0].name, undefined);
  assert.equal(envs[0].version, undefined);
  assert.equal(envs[0].image, 'mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04');
});

test("a component's distribution is written in the component schema's shape (6a_tf_hello_world)", async () => {
  const { r, components } = fakeResolver();
  await buildJobBody(parseJobYaml(J('pipelines-with-components/basics/6a_tf_hello_world/pipeline.yml')), r);
  const spec = ([...components.values()][0] as any).properties.componentSpec;
  // parameter_server_count 0 when the YAML has none, as azure-ai-ml 1.4.0 sends it (TensorFlowDistribution default 0)
  assert.deepEqual(spec.distribution, { type: 'tensorflow', worker_count: 2, parameter_server_count: 0 });
});

test('an inline parallel step literal input becomes its anonymous component input default (1a_oj_sales_prediction)', async () => {
  const { r, components } = fakeResolver();
  await buildJobBody(parseJobYaml(J('parallel/1a_oj_sales_prediction/pipeline.yml')), r);
  const spec = [...components.values()]
    .map((c: any) => c.properties.componentSpec)
    .find((c: any) => c.type === 'parallel');
  // azure-ai-ml 1.4.0 _component_translatable.py _to_input: a str/bool/int/float input → type + default
  assert.deepEqual(spec.inputs.date_col, { type: 'string', default: 'WeekStarting' });
  assert.deepEqual(spec.inputs.drop_cols, { type: 'string', default: 'Revenue,Advert,Store,Brand' });
  assert.deepEqual(spec.inputs.data_source, { type: 'mltable', mode: 'direct' });
});

test('parallel step: partition_keys list as JSON text, a bound input keeps its mode (1a_oj_sales_prediction)', async () => {
  const { r, components } = fakeResolver();
  const { body } = await buildJobBody(parseJobYaml(J('parallel/1a_oj_sales_prediction/pipeline.yml')), r);
  const n = (body.properties as any).jobs.parallel_train;
  assert.equal(n.partition_keys, '["Store", "Brand"]');
  assert.deepEqual(n.inputs.data_source, {
    job_input_type: 'literal',
    value: '${{parent.jobs.partition_job.outputs.tabular_output_data}}',
    mode: 'Direct',
  });
  const comp = [...components.values()]
    .map((c: any) => c.properties.componentSpec)
    .find((c: any) => c.type === 'parallel');
  assert.deepEqual(comp.inputs.data_source, { type: 'mltable', mode: 'direct' });
});

test('a step output bound to a pipeline output has its type and mode; serverless default compute sends no compute', async () => {
  const { r, log, components } = fakeResolver();
  const { body } = await buildJobBody(parseJobYaml(J('basics/hello-pipeline-customize-output-file-serverless.yml')), r);
  const comp = ([...components.values()][0] as any).properties.componentSpec;
  // azure-ai-ml 1.4.0 _component_translatable.py _to_output: the source output's type and mode (rw_mount here)
  assert.deepEqual(comp.outputs.output, { type: 'uri_file', mode: 'rw_mount' });
  assert.equal((body.properties as any).settings.default_compute, undefined);
  assert.equal(log.filter((c) => c.op === 'computeId').length, 0, 'serverless is not looked up as a compute');
  assert.deepEqual(validateBody('Jobs_CreateOrUpdate', body, AT_JOBS_API), []);
});

test('wrong refusals gone: unknown settings sent as written, environment: file:, "[]" on a step, legacy type: path', async () => {
  const { r, log } = fakeResolver();
  const basic = parseJobYaml(J('pipelines-with-components/basics/3a_basic_pipeline/pipeline.yml'));
  assert.match(basic.warnings.join('\n'), /'settings\.default_datestore' is not a setting az ml knows/);
  const b1 = await buildJobBody(basic, r);
  assert.equal((b1.body.properties as any).settings.default_datestore, 'azureml:workspaceblobstore');

  const gpu = await buildJobBody(parseJobYaml(J('single-step/gpu_perf/gpu_perf_job.yml')), r);
  const env = log
    .filter((c) => c.op === 'ensureEnvironment')
    .map((c) => c.arg as any)
    .at(-1);
  assert.equal(env.name, undefined);
  assert.equal(env.build.path, path.join(JOBS, 'single-step/gpu_perf/environments/azureml'));
  assert.match(String(gpu.body.properties.environmentId), /CliV2AnonymousEnvironment/);

  const rai = path.join(CORPUS, 'responsible-ai/cli-responsibleaidashboard-housing-classification');
  const { body } = await buildJobBody(
    parseJobYaml(path.join(rai, 'cli-responsibleaidashboard-housing-classification.yml')),
    r,
  );
  assert.deepEqual((body.properties as any).jobs.train_model.inputs.categorical_features, {
    job_input_type: 'literal',
    value: '[]',
  });
  const comp = parseComponentYaml(path.join(rai, 'train_housing.yml'));
  assert.deepEqual(comp.inputs.training_data, { type: 'path' });
  assert.deepEqual(comp.outputs.model_output_json, { type: 'path' });
});
