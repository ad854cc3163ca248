// Spark jobs, Spark steps and sweep steps (src/azureml/sparkSpec.ts, sweepStep.ts through jobSpec.ts) against what
// Microsoft's azure-ai-ml 1.4.0 builds from the same azureml-examples files (recorded output:
// test/fixtures/third-party/azure-sdk-for-python/azure-ai-ml-1.4.0-output/spark-and-sweep-bodies.json, its
// `_provenance` says how), and the 2024-04-01 swagger the box validates with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  buildJobBody,
  parseJobYaml,
  parseJobYamlText,
  JobSpecError,
  type SpecResolver,
} from '../../src/azureml/jobSpec';
import { JOBS_API_VERSION } from '../../src/azureml/jobs';
import { validateBody } from '../emulator/swagger';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const CLI = path.join(ROOT, 'test/fixtures/third-party/azureml-examples/cli');
const REF = JSON.parse(
  fs.readFileSync(
    path.join(
      ROOT,
      'test/fixtures/third-party/azure-sdk-for-python/azure-ai-ml-1.4.0-output/spark-and-sweep-bodies.json',
    ),
    'utf8',
  ),
) as Record<string, { properties: Record<string, any> }>;
const AT_JOBS_API = { apiVersion: JOBS_API_VERSION, noUnknownProperties: true };
const WS = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws';

function resolver() {
  const components = new Map<string, Record<string, any>>();
  const r: SpecResolver = {
    wsPath: WS,
    uploadCode: async (p) => `${WS}/codes/${path.basename(p)}/versions/1`,
    uploadLocalPath: async (p) => `azureml://datastores/workspaceblobstore/paths/LocalUpload/h/${path.basename(p)}`,
    ensureEnvironment: async () => `${WS}/environments/anon/versions/1`,
    ensureComponent: async (c) => {
      const id = `${WS}/components/${c.name}/versions/${c.version}`;
      components.set(id, c.body.properties.componentSpec as Record<string, any>);
      return id;
    },
    resolveAsset: async (k, ref) => `${WS}/${k}/${ref}`,
    computeId: async (n) => `${WS}/computes/${n}`,
  };
  return { r, components };
}

async function build(rel: string, overrides: string[] = []) {
  const { r, components } = resolver();
  const built = await buildJobBody(parseJobYaml(path.join(CLI, rel), { overrides }), r);
  assert.deepEqual(validateBody('Jobs_CreateOrUpdate', built.body, AT_JOBS_API), [], rel);
  return { p: built.body.properties as Record<string, any>, components };
}

const pick = (o: Record<string, any>, keys: string[]) =>
  Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));

test('standalone Spark jobs: the Spark fields are azure-ai-ml 1.4.0 ones (conf as strings, entry, identity, direct I/O)', async () => {
  const keys = ['jobType', 'conf', 'entry', 'identity', 'inputs', 'outputs', 'args'];
  const attached = await build('jobs/spark/attached-spark-standalone-managed-identity.yml', [
    'compute=azureml:my-spark-pool',
  ]);
  const ref1 = REF['jobs/spark/attached-spark-standalone-managed-identity.yml'].properties;
  assert.deepEqual(pick(attached.p, keys), pick(ref1, keys));
  assert.equal(attached.p.computeId, `${WS}/computes/${ref1.computeId}`);
  assert.equal(attached.p.codeId, `${WS}/codes/src/versions/1`); // ./src uploaded (ref: './src', uploaded by the CLI)
  assert.equal(attached.p.resources, undefined);

  const serverless = await build('jobs/spark/serverless-spark-standalone-user-identity.yml');
  const ref2 = REF['jobs/spark/serverless-spark-standalone-user-identity.yml'].properties;
  assert.deepEqual(pick(serverless.p, keys), pick(ref2, keys));
  // the file's runtime 3.4 (1.4.0 was given 3.2: it refuses newer runtimes)
  assert.deepEqual(serverless.p.resources, { ...ref2.resources, runtimeVersion: '3.4' });
  assert.equal(serverless.p.computeId, undefined);
  // no identity in the file: managed on an attached pool, the user's on serverless Spark, as azure-ai-ml loads a
  // standalone spark YAML (through its Spark node's identity default; the attached file compared in the dev script)
  const d1 = await build('jobs/spark/attached-spark-standalone-default-identity.yml', ['compute=azureml:pool']);
  assert.deepEqual(d1.p.identity, { identityType: 'Managed' });
  const d2 = await build('jobs/spark/serverless-spark-standalone-default-identity.yml');
  assert.deepEqual(d2.p.identity, { identityType: 'UserIdentity' });
});

test('pipelines with Spark steps: node and component fields as azure-ai-ml 1.4.0 writes them', async () => {
  const nodeKeys = ['type', 'args', 'conf', 'entry', 'identity', 'inputs', 'outputs', '_source'];
  const compKeys = ['type', 'args', 'conf', 'entry', 'inputs', 'outputs', 'display_name', 'description', '$schema'];
  for (const [rel, overrides] of [
    ['jobs/spark/attached-spark-pipeline-user-identity.yml', ['jobs.spark_job.compute=azureml:my-spark-pool']],
    ['jobs/spark/serverless-spark-pipeline-default-identity.yml', []],
    ['jobs/pipelines-with-components/shakespear_sample_and_word_count_using_spark/pipeline.yml', []],
  ] as const) {
    const { p, components } = await build(rel, [...overrides]);
    const ref = REF[rel].properties;
    assert.deepEqual(Object.keys(p.jobs).sort(), Object.keys(ref.jobs).sort(), rel);
    for (const [k, node] of Object.entries<any>(p.jobs)) {
      const rn = ref.jobs[k];
      // an output left unconfigured is absent on one side and {} on the other (the service reads both as none)
      const norm = (o: any) => ({ ...pick(o, nodeKeys), outputs: o.outputs ?? {} });
      assert.deepEqual(norm(node), norm(rn), `${rel} ${k}`);
      if (rn.resources)
        assert.equal(node.resources.instance_type, rn.resources.instance_type, `${rel} ${k} instance_type`);
      if (rn.computeId) assert.equal(node.computeId, `${WS}/computes/${rn.computeId}`);
      const spec = components.get(node.componentId)!;
      const outs = (o: any) => ({ ...pick(o, compKeys), outputs: o.outputs ?? {} });
      assert.deepEqual(outs(spec), outs(rn.componentId), `${rel} ${k} componentSpec`);
      assert.match(spec.code, /^azureml:\/subscriptions\/.*\/codes\//);
    }
  }
});

test('pipeline with a sweep step: the sweep node as azure-ai-ml 1.4.0 writes it, trial = the registered component', async () => {
  const rel = 'jobs/pipelines-with-components/pipeline_with_hyperparameter_sweep/pipeline.yml';
  const { p, components } = await build(rel);
  const ref = REF[rel].properties.jobs.sweep_step;
  const node = p.jobs.sweep_step;
  const keys = ['type', 'inputs', 'limits', 'objective', 'sampling_algorithm', 'search_space', '_source'];
  assert.deepEqual(pick(node, keys), pick(ref, keys));
  // 1.4.0 without a workspace leaves the trial as the component's REST object; the CLI registers it first and sends
  // {componentId} (entities/_builders/sweep.py _get_trial_component_rest_obj)
  assert.deepEqual(node.trial, { componentId: node.componentId });
  const spec = components.get(node.componentId)!;
  // number defaults as Python floats ("0.0", "1024.0", "0.001"), the rest as written
  assert.deepEqual(spec.inputs, ref.componentId.inputs);
  assert.deepEqual(spec.outputs, ref.componentId.outputs);
  assert.equal(spec.command, ref.componentId.command);
});

test('the 2024-04-01 swagger (what the box validates with) refuses a wrong Spark body', async () => {
  const { p } = await build('jobs/spark/serverless-spark-standalone-user-identity.yml');
  const bad = (props: Record<string, unknown>) =>
    validateBody('Jobs_CreateOrUpdate', { properties: props }, AT_JOBS_API);
  const { entry: _entry, ...noEntry } = p;
  assert.ok(
    bad(noEntry).some((e) => /entry/.test(e)),
    JSON.stringify(bad(noEntry)),
  );
  // conf values are strings: azure-ai-ml's `{str}` serializer makes them so, a number is refused
  assert.notDeepEqual(bad({ ...p, conf: { 'spark.driver.cores': 1 } }), []);
  assert.notDeepEqual(bad({ ...p, entry: { sparkJobEntryType: 'SparkJobPythonEntry' } }), []);
  assert.notDeepEqual(bad({ ...p, resources: { instanceType: 'x', instanceCount: 2 } }), []);
});

test('inline Spark YAML: class entry, file lists, dynamic allocation (executor instances = min), extra conf as text', async () => {
  const file = path.join(CLI, 'jobs/spark/inline-test.yml');
  const text = [
    'type: spark',
    'code: ./src',
    'entry:',
    '  class_name: com.example.Main',
    'jars: [a.jar, b.jar]',
    'py_files: [u.zip]',
    'files: [f.txt]',
    'archives: [x.tar]',
    'conf:',
    '  spark.driver.cores: 1',
    '  spark.driver.memory: 2g',
    '  spark.executor.cores: 2',
    '  spark.executor.memory: 2g',
    '  spark.dynamicAllocation.enabled: True',
    '  spark.dynamicAllocation.minExecutors: 1',
    '  spark.dynamicAllocation.maxExecutors: 4',
    '  spark.sql.shuffle.partitions: 8',
    '  spark.x.flag: true',
    'compute: azureml:pool',
    '',
  ].join('\n');
  const { r } = resolver();
  const { body } = await buildJobBody(parseJobYamlText(text, file), r);
  const p = body.properties as Record<string, any>;
  assert.deepEqual(validateBody('Jobs_CreateOrUpdate', body, AT_JOBS_API), []);
  assert.deepEqual(p.entry, { sparkJobEntryType: 'SparkJobScalaEntry', className: 'com.example.Main' });
  assert.deepEqual([p.jars, p.pyFiles, p.files, p.archives], [['a.jar', 'b.jar'], ['u.zip'], ['f.txt'], ['x.tar']]);
  // SparkJob._to_rest_object order: other keys, the four base ones, dynamic allocation, executor instances; str() values
  assert.deepEqual(Object.entries(p.conf), [
    ['spark.sql.shuffle.partitions', '8'],
    ['spark.x.flag', 'True'],
    ['spark.driver.cores', '1'],
    ['spark.driver.memory', '2g'],
    ['spark.executor.cores', '2'],
    ['spark.executor.memory', '2g'],
    ['spark.dynamicAllocation.enabled', 'True'],
    ['spark.dynamicAllocation.minExecutors', '1'],
    ['spark.dynamicAllocation.maxExecutors', '4'],
    ['spark.executor.instances', '1'],
  ]);
});

test('bad Spark YAML: one error naming the field (azure-ai-ml 1.4.0 spark_helpers rules)', () => {
  const file = path.join(CLI, 'jobs/spark/bad.yml');
  const base = [
    'type: spark',
    'code: ./src',
    'entry: {file: titanic.py}',
    'conf: {spark.driver.cores: 1, spark.driver.memory: 2g, spark.executor.cores: 2, spark.executor.memory: 2g, spark.executor.instances: 2}',
  ];
  const res = 'resources: {instance_type: standard_e4s_v3, runtime_version: "3.4"}';
  const cases: Array<[string[], RegExp]> = [
    [[...base], /'compute': a spark job needs 'compute' .* or serverless 'resources'/],
    [[...base, res, 'compute: azureml:pool'], /'resources': give either 'compute' or 'resources'/],
    [[...base.slice(0, 3), 'conf: {spark.driver.cores: 1}', res], /'conf': spark\.driver\.memory, .*must be set/],
    [
      [
        ...base.slice(0, 3),
        'conf: {spark.dynamicAllocation.enabled: true, spark.driver.cores: 1, spark.driver.memory: 2g, spark.executor.cores: 2, spark.executor.memory: 2g}',
        res,
      ],
      /minExecutors and spark\.dynamicAllocation\.maxExecutors are required/,
    ],
    [
      [...base.slice(0, 3), 'conf: {spark.driver.memory: 2 gigs}', res],
      /'conf\.spark\.driver\.memory': expected a size/,
    ],
    [[...base, res, 'py_files: [a.py, a.py]'], /'py_files': must not contain duplicate entries/],
    [
      [...base, res, 'inputs: {d: {type: uri_file, path: azureml://datastores/x/paths/a.csv, mode: ro_mount}}'],
      /input 'd' is using mode 'ro_mount'/,
    ],
    [['type: spark', 'code: ./src', res], /'entry': a spark job needs an 'entry'/],
    [[...base, res, 'args: --x ${{inputs.nope}}'], /no input 'nope'/],
  ];
  for (const [lines, re] of cases)
    assert.throws(
      () => parseJobYamlText(lines.join('\n') + '\n', file),
      (e: unknown) => e instanceof JobSpecError && re.test(e.message) && e.message.includes('bad.yml'),
      `${lines.at(-1)} → ${re}`,
    );
});

test('inline Spark step (no component file): an anonymous spark component from the step, node fields from it', async () => {
  const file = path.join(CLI, 'jobs/spark/inline-pipeline.yml');
  const text = [
    'type: pipeline',
    'inputs: {data: {type: uri_file, path: azureml://datastores/workspaceblobstore/paths/data/titanic.csv, mode: direct}}',
    'jobs:',
    '  prep:',
    '    type: spark',
    '    code: ./src',
    '    entry: {file: titanic.py}',
    '    py_files: [u.zip]',
    '    conf: {spark.driver.cores: 1, spark.driver.memory: 2g, spark.executor.cores: 2, spark.executor.memory: 2g, spark.executor.instances: 2}',
    '    args: --d ${{inputs.d}}',
    '    inputs: {d: "${{parent.inputs.data}}"}',
    '    resources: {instance_type: standard_e4s_v3, runtime_version: "3.4"}',
    '',
  ].join('\n');
  const { r, components } = resolver();
  const { body } = await buildJobBody(parseJobYamlText(text, file), r);
  assert.deepEqual(validateBody('Jobs_CreateOrUpdate', body, AT_JOBS_API), []);
  const node = (body.properties as Record<string, any>).jobs.prep;
  assert.equal(node.type, 'spark');
  assert.deepEqual(node.entry, { file: 'titanic.py', spark_job_entry_type: 'SparkJobPythonEntry' });
  assert.deepEqual(node.py_files, ['u.zip']);
  assert.equal(node.args, '--d ${{inputs.d}}');
  assert.deepEqual(node.identity, { identity_type: 'UserIdentity' });
  const spec = components.get(node.componentId)!;
  assert.equal(spec.type, 'spark');
  assert.deepEqual(spec.inputs, { d: { type: 'uri_file' } });
  assert.match(spec.code, /\/codes\/src\/versions\/1$/);
  assert.throws(() => parseJobYamlText(text.replace('--d ${{inputs.d}}', '--d ${{inputs.e}}'), file), /no input 'e'/);
});
