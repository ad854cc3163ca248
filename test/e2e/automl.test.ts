// AzureMLJob@1 with AutoML (issue 15): the bundled task submits azureml-examples AutoML files unchanged (one tabular,
// one image, one NLP, one pipeline with an automl step) to Azure-in-a-box, which validates each body against
// 2024-04-01 and runs it with the documented stand-in trial (test/emulator/automlTrial.ts) to Completed. The corpus
// holds the YAML only: its MLTable folders and the pipeline's component code are written into a scratch copy here.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startAzureInABox, type AzureInABox } from '../emulator';
import { REPO_ROOT, runBundledTask, explainRun, type TaskRunWithLeaks } from '../helpers/agent';

const CORPUS = path.resolve(REPO_ROOT, 'test', 'fixtures', 'third-party', 'azureml-examples', 'cli', 'jobs');
let box: AzureInABox;
let wsId: string;
let root: string; // scratch copy of the corpus's AutoML folders

interface StoredJob {
  id: string;
  name: string;
  properties: Record<string, any>;
}
const jobOf = (name: string) => box.store.get<StoredJob>('jobs', `${wsId}/jobs/${name}`);

/** an MLTable folder as the examples' prepare_data scripts leave it (a delimited file and its MLTable) */
function mltable(dir: string, rows = 'a,b,y\n1,2,0\n3,4,1\n'): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'data.csv'), rows);
  writeFileSync(
    path.join(dir, 'MLTable'),
    'paths:\n  - file: ./data.csv\ntransformations:\n  - read_delimited:\n      delimiter: ","\n',
  );
}

before(async () => {
  box = await startAzureInABox({ fastLro: true });
  wsId = `/subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${box.workspace}`;
  // the image and NLP examples name gpu-cluster: the box gets one like its cpu-cluster
  const cpu = box.store.get<Record<string, unknown>>('computes', `${wsId}/computes/cpu-cluster`)!;
  box.store.put('computes', `${wsId}/computes/gpu-cluster`, {
    ...structuredClone(cpu),
    id: `${wsId}/computes/gpu-cluster`,
    name: 'gpu-cluster',
  });
  root = mkdtempSync(path.join(tmpdir(), 'automl-e2e-'));
  for (const d of ['automl-standalone-jobs', 'pipelines/automl'])
    cpSync(path.join(CORPUS, d), path.join(root, d), { recursive: true });
  const sa = path.join(root, 'automl-standalone-jobs');
  mltable(path.join(sa, 'cli-automl-regression-task-hardware-perf', 'training-mltable-folder'));
  for (const f of ['training', 'validation'])
    mltable(path.join(sa, 'cli-automl-image-object-detection-task-fridge-items', 'data', `${f}-mltable-folder`));
  for (const f of ['training', 'validation'])
    mltable(path.join(sa, 'cli-automl-text-classification-newsgroup', `${f}-mltable-folder`));
  // text-ner: a training folder without its MLTable file (the stand-in refuses it as AutoML does)
  mkdirSync(path.join(sa, 'cli-automl-text-ner-conll', 'training-mltable-folder'), { recursive: true });
  writeFileSync(path.join(sa, 'cli-automl-text-ner-conll', 'training-mltable-folder', 'train.txt'), 'EU B-ORG\n');
  mltable(path.join(sa, 'cli-automl-text-ner-conll', 'validation-mltable-folder'));
  // the pipeline: its data and the two components' code (the corpus has their YAML only)
  const pl = path.join(root, 'pipelines', 'automl', 'cli-automl-classification-task-bankmarketing-pipeline');
  for (const f of ['training', 'validation']) mltable(path.join(pl, `${f}-mltable-folder`));
  mkdirSync(path.join(pl, 'components', 'src'), { recursive: true });
  writeFileSync(
    path.join(pl, 'components', 'src', 'preprocess.py'),
    [
      'import argparse, shutil',
      'p = argparse.ArgumentParser()',
      'for a in ["train_data", "validation_data", "preprocessed_train_data", "preprocessed_validation_data"]:',
      '    p.add_argument("--" + a)',
      'a = p.parse_args()',
      'shutil.copytree(a.train_data, a.preprocessed_train_data, dirs_exist_ok=True)',
      'shutil.copytree(a.validation_data, a.preprocessed_validation_data, dirs_exist_ok=True)',
      'print("preprocessed")',
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(pl, 'components', 'src', 'register.py'),
    [
      'import argparse, os',
      'p = argparse.ArgumentParser()',
      'p.add_argument("--model_input_path"); p.add_argument("--model_base_name")',
      'a = p.parse_args()',
      'mlmodel = open(os.path.join(a.model_input_path, "MLmodel")).read()',
      'assert "flavors:" in mlmodel, mlmodel',
      'print("model to register:", a.model_base_name, sorted(os.listdir(a.model_input_path)))',
      '',
    ].join('\n'),
  );
});
after(async () => {
  await box?.stop();
});

async function run(file: string, jobName: string): Promise<TaskRunWithLeaks & { writes: string[] }> {
  const before = box.requests.length;
  const r = await runBundledTask('AzureMLJob', {
    box,
    scheme: 'secret',
    timeoutMs: 60_000,
    cwd: path.dirname(path.join(root, file)),
    inputs: { resourceGroup: box.resourceGroup, workspace: box.workspace, jobFile: path.join(root, file), jobName },
  });
  const writes = box.requests
    .slice(before)
    .filter((q) => q.host === 'arm' && (q.method === 'PUT' || q.method === 'DELETE' || q.method === 'PATCH'))
    .map((q) => `${q.method} ${q.url.split('?')[0]}`);
  return Object.assign(r, { writes });
}

const explain = (r: TaskRunWithLeaks) => explainRun(r, { stderrChars: 1500 });

/** the job's best_model output holds an MLflow model (MLmodel at its root) */
async function bestModelFiles(job: StoredJob): Promise<string[]> {
  const uri = String(job.properties.outputs?.best_model?.uri ?? '');
  const m = /datastores\/workspaceblobstore\/paths\/(.+)$/.exec(uri);
  assert.ok(m, `best_model uri ${uri}`);
  const prefix = m[1].replace(/\/?$/, '/');
  const cc = box.ctx.azurite.containerClient();
  const names: string[] = [];
  for await (const b of cc.listBlobsFlat({ prefix })) names.push(b.name.slice(prefix.length));
  return names.sort();
}

test('tabular, image and NLP AutoML jobs and a pipeline with an automl step run to Completed; no MLTable → Failed', async () => {
  const [reg, od, text, pipe, ner] = await Promise.all([
    run(
      'automl-standalone-jobs/cli-automl-regression-task-hardware-perf/cli-automl-regression-task-hardware-perf.yml',
      'e2e-automl-reg',
    ),
    run(
      'automl-standalone-jobs/cli-automl-image-object-detection-task-fridge-items/cli-automl-img-od-task-fridge-items.yml',
      'e2e-automl-od',
    ),
    run(
      'automl-standalone-jobs/cli-automl-text-classification-newsgroup/cli-automl-text-classification-newsgroup.yml',
      'e2e-automl-text',
    ),
    run('pipelines/automl/cli-automl-classification-task-bankmarketing-pipeline/pipeline.yml', 'e2e-automl-pipe'),
    run('automl-standalone-jobs/cli-automl-text-ner-conll/cli-automl-text-ner-conll2003.yml', 'e2e-automl-ner'),
  ]);
  for (const [r, name, taskType] of [
    [reg, 'e2e-automl-reg', 'Regression'],
    [od, 'e2e-automl-od', 'ImageObjectDetection'],
    [text, 'e2e-automl-text', 'TextClassification'],
  ] as const) {
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.status, 'Completed', explain(r));
    const j = jobOf(name)!;
    assert.equal(j.properties.jobType, 'AutoML');
    assert.equal(j.properties.taskDetails.taskType, taskType);
    // the local MLTable folder was uploaded as the task uploads other local inputs
    assert.match(
      j.properties.taskDetails.trainingData.uri,
      /\/datastores\/workspaceblobstore\/paths\/LocalUpload\/[0-9a-f]{32}\/training-mltable-folder\/?$/,
    );
    assert.equal(j.properties.properties.best_child_run_id, `${name}_0`);
    assert.equal(jobOf(`${name}_0`)?.properties.status, 'Completed');
    assert.ok(
      Number(
        r.outputs[
          `metric.${taskType === 'Regression' ? 'r2_score' : taskType === 'ImageObjectDetection' ? 'mean_average_precision' : 'accuracy'}`
        ],
      ) >= 0.5,
      JSON.stringify(r.outputs),
    );
  }
  assert.deepEqual(await bestModelFiles(jobOf('e2e-automl-reg')!), ['MLmodel', 'conda.yaml', 'model.json']);

  // pipeline: preprocessing (command) → classification_node (automl) → register_model_node (command reading best_model)
  assert.equal(pipe.result, 'Succeeded', explain(pipe));
  assert.equal(pipe.outputs.status, 'Completed', explain(pipe));
  const steps = jobOf('e2e-automl-pipe')!.properties.jobs;
  assert.equal(steps.classification_node.type, 'automl');
  assert.equal(
    steps.classification_node.training_data,
    '${{parent.jobs.preprocessing_node.outputs.preprocessed_train_data}}',
  );
  assert.equal(jobOf('e2e-automl-pipe_classification_node')?.properties.jobType, 'AutoML');
  assert.equal(
    jobOf('e2e-automl-pipe_classification_node')?.properties.properties.best_child_run_id,
    'e2e-automl-pipe_classification_node_0',
  );
  for (const s of ['preprocessing_node', 'classification_node', 'register_model_node'])
    assert.equal(jobOf(`e2e-automl-pipe_${s}`)?.properties.status, 'Completed', s);

  // a training folder that is not an MLTable folder: the job is submitted (the service cannot know) and fails
  assert.equal(ner.result, 'Failed', explain(ner));
  assert.match(ner.message ?? '', /not an MLTable folder/, explain(ner));
});

test('bad AutoML YAML: one error naming the key, nothing written to Azure', async () => {
  const file = path.join(root, 'bad-automl.yml');
  writeFileSync(
    file,
    [
      'type: automl',
      'task: text_ner',
      'compute: azureml:gpu-cluster',
      'training_data: {type: mltable, path: ./automl-standalone-jobs/cli-automl-text-ner-conll/validation-mltable-folder}',
      'sweep: {sampling_algorithm: random}',
      '',
    ].join('\n'),
  );
  const r = await run('bad-automl.yml', 'e2e-automl-bad');
  assert.equal(r.result, 'Failed', explain(r));
  assert.match(
    r.message ?? '',
    /bad-automl\.yml:5: 'sweep': 'sweep' for NLP AutoML tasks is not part of api-version 2024-04-01/,
  );
  assert.deepEqual(r.writes, []);
  assert.equal(jobOf('e2e-automl-bad'), undefined);
});
