// AzureMLJob@1 with Spark jobs, a pipeline with a Spark step and a pipeline with a sweep step (issue 15): the bundled
// task with the agent's environment, against Azure-in-a-box, each to Completed. The YAML files are the azureml-examples
// copies, unchanged (test/fixtures/third-party/azureml-examples). What the box's runner does with Spark is a documented
// stand-in (test/emulator/jobrunner.ts sparkStandIn). The sweep example's own scripts need scikit-learn and mlflow, and
// its command starts with `pip install` (no network here): in a scratch copy its two scripts are replaced by small
// stand-ins that write their outputs, and `pip` on the runner's PATH is a no-op that says so.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { startAzureInABox, type AzureInABox } from '../emulator';
import { REPO_ROOT, runBundledTask, type TaskRunWithLeaks, explainRun } from '../helpers/agent';

const CORPUS = path.resolve(REPO_ROOT, 'test', 'fixtures', 'third-party', 'azureml-examples', 'cli', 'jobs');
let box: AzureInABox;
let wsId: string;
let work: string;

interface StoredJob {
  id: string;
  name: string;
  properties: Record<string, any>;
}
const jobOf = (name: string) => box.store.get<StoredJob>('jobs', `${wsId}/jobs/${name}`);
const explain = (r: TaskRunWithLeaks) => explainRun(r, { stderrChars: 1500 });

before(async () => {
  box = await startAzureInABox({ fastLro: true });
  wsId = `/subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${box.workspace}`;
  work = mkdtempSync(path.join(tmpdir(), 'spark-sweep-e2e-'));
  cpSync(path.join(CORPUS, 'spark'), path.join(work, 'spark'), { recursive: true });
  const sweep = path.join(work, 'sweep');
  cpSync(path.join(CORPUS, 'pipelines-with-components', 'pipeline_with_hyperparameter_sweep'), sweep, {
    recursive: true,
  });
  // stand-ins for the example's scripts (same names, same arguments): they write what their outputs declare
  const stand = (outs: string[]) =>
    [
      'import os, sys',
      'args = dict(zip(sys.argv[1::2], sys.argv[2::2]))',
      'print("stand-in for the example script; args:", sorted(args))',
      ...outs.map(
        (o) =>
          `os.makedirs(args["--${o}"], exist_ok=True); open(os.path.join(args["--${o}"], "out.txt"), "w").write("x")`,
      ),
      '',
    ].join('\n');
  writeFileSync(path.join(sweep, 'train-src', 'train.py'), stand(['model_output', 'test_data']));
  writeFileSync(path.join(sweep, 'predict-src', 'predict.py'), stand(['predict_result']));
  const shim = path.join(work, 'bin');
  mkdirSync(shim);
  writeFileSync(path.join(shim, 'pip'), '#!/bin/sh\necho "pip (test no-op, no network here): $*"\n');
  chmodSync(path.join(shim, 'pip'), 0o755);
  // the runner (in this process) starts jobs with this process's PATH
  process.env.PATH = `${shim}${path.delimiter}${process.env.PATH}`;
  // the sweep's data input: wasbs://datasets@azuremlexamples.blob.core.windows.net/iris.csv (container `datasets`)
  const blobs = new BlobServiceClient(
    box.azurite.blobEndpoint,
    new StorageSharedKeyCredential(box.azurite.account, box.azurite.key),
  );
  const cc = blobs.getContainerClient('datasets');
  await cc.createIfNotExists();
  await cc.getBlockBlobClient('iris.csv').upload('a,b\n1,2\n', 8);
});
after(async () => {
  await box?.stop();
});

const run = (jobFile: string, jobName: string) =>
  runBundledTask('AzureMLJob', {
    box,
    scheme: 'secret',
    timeoutMs: 90_000,
    cwd: work,
    inputs: { resourceGroup: box.resourceGroup, workspace: box.workspace, jobFile, jobName },
  });

describe('spark and sweep steps through the bundled task (concurrently)', { concurrency: true }, () => {
  test('standalone serverless Spark job: sent as azure-ai-ml sends it, runs (stand-in), Completed', async () => {
    const r = await run('spark/serverless-spark-standalone-user-identity.yml', 'e2e-spark-1');
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.status, 'Completed');
    const p = jobOf('e2e-spark-1')!.properties;
    assert.equal(p.jobType, 'Spark');
    assert.deepEqual(p.entry, { sparkJobEntryType: 'SparkJobPythonEntry', file: 'titanic.py' });
    assert.deepEqual(p.conf, {
      'spark.driver.cores': '1',
      'spark.driver.memory': '2g',
      'spark.executor.cores': '2',
      'spark.executor.memory': '2g',
      'spark.executor.instances': '2',
    });
    assert.deepEqual(p.resources, { instanceType: 'standard_e4s_v3', runtimeVersion: '3.4' });
    assert.deepEqual(p.identity, { identityType: 'UserIdentity' });
    assert.match(p.codeId, /\/codes\/[0-9a-f]{32}\/versions\/1$/);
    assert.equal(p.inputs.titanic_data.mode, 'Direct');
    // the stand-in's log names the spark-submit it stands for, with the input URI substituted
    assert.match(r.stdout, /Spark stand-in/);
    assert.match(
      r.stdout,
      /titanic\.py --titanic_data azureml:\/\/datastores\/workspaceblobstore\/paths\/data\/titanic\.csv/,
    );
  });

  test('pipeline with a Spark step (component file): Completed, the step ran with the component entry', async () => {
    const r = await run('spark/serverless-spark-pipeline-default-identity.yml', 'e2e-spark-pipe-1');
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.status, 'Completed');
    const step = jobOf('e2e-spark-pipe-1')!.properties.jobs.spark_job;
    assert.equal(step.type, 'spark');
    assert.deepEqual(step.identity, { identity_type: 'UserIdentity' });
    assert.deepEqual(step.resources, { instance_type: 'standard_e8s_v3', runtime_version: '3.4' });
    assert.equal(step.conf['spark.executor.instances'], 1);
    const child = jobOf('e2e-spark-pipe-1_spark_job')!;
    assert.equal(child.properties.status, 'Completed');
  });

  test('pipeline with a sweep step: trials run, best trial chosen, downstream step reads its outputs, Completed', async () => {
    const r = await run('sweep/pipeline.yml', 'e2e-sweep-pipe-1');
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.status, 'Completed');
    const node = jobOf('e2e-sweep-pipe-1')!.properties.jobs.sweep_step;
    assert.equal(node.type, 'sweep');
    assert.equal(node.trial.componentId, node.componentId);
    const sweep = jobOf('e2e-sweep-pipe-1_sweep_step')!;
    assert.equal(sweep.properties.status, 'Completed');
    const best = sweep.properties.properties?.best_child_run_id;
    assert.match(String(best), /^e2e-sweep-pipe-1_sweep_step_\d$/);
    // 5 trials (limits.max_total_trials), each with its sampled kernel from the search space in its tags
    for (let i = 0; i < 5; i++) {
      const t = jobOf(`e2e-sweep-pipe-1_sweep_step_${i}`)!;
      assert.equal(t.properties.status, 'Completed', `trial ${i}`);
      assert.match(JSON.parse(t.properties.tags.hyperparameters).kernel, /^(rbf|linear|poly)$/);
    }
    assert.equal(jobOf('e2e-sweep-pipe-1_sweep_step_5'), undefined);
    assert.equal(jobOf('e2e-sweep-pipe-1_predict_step')!.properties.status, 'Completed');
  });
});

// alone, after the others: no other run's requests in the window
describe('bad input', () => {
  test('a bad Spark file: one line naming the field, nothing written to Azure', async () => {
    writeFileSync(
      path.join(work, 'spark', 'bad-conf.yml'),
      'type: spark\ncode: ./src\nentry:\n  file: titanic.py\nconf:\n  spark.driver.cores: 1\nresources:\n  instance_type: standard_e4s_v3\n',
    );
    const before = box.requests.length;
    const r = await run('spark/bad-conf.yml', 'e2e-spark-bad');
    assert.equal(r.result, 'Failed', explain(r));
    assert.match(r.message ?? '', /bad-conf\.yml:\d+: 'conf': spark\.driver\.memory, .* must be set/);
    const writes = box.requests.slice(before).filter((q) => q.host === 'arm' && q.method !== 'GET');
    assert.deepEqual(
      writes.filter((q) => !/\/mlflow\/|\/listSecrets/.test(q.url)).map((q) => `${q.method} ${q.url}`),
      [],
    );
  });
});
