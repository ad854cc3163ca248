// The local job runner's stand-in for what Azure ML's AutoML service does with an AutoML job (jobType AutoML, standalone
// or as a pipeline step). The request is validated and stored for real (arm/jobs.ts, swagger 2024-04-01); running it
// here is a stand-in, documented as such:
//
// What the stand-in does (automlTrial + jobrunner.ts runAutoML / the pipeline's automl steps): ONE child "trial" run
// `<job>_0` that downloads the job's training (and validation / test) data and requires each to be an MLTable folder
// (a folder with an `MLTable` file at its root: 2024-04-01 types AutoMLVertical.trainingData as MLTableJobInput, and
// every azureml-examples AutoML data folder carries one, e.g. cli/jobs/automl-standalone-jobs/
// cli-automl-classification-task-bankmarketing/training-mltable-folder/MLTable at 085cd6ea; ASSUMPTION, unverified:
// the service fails such a job rather than reading the folder some other way), then writes an MLflow model folder
// (`MLmodel`, `conda.yaml`, `model.json`) to the job's `best_model` output, logs a stand-in score for the primary
// metric (seeded by the job name, in [0.5, 1)) on the trial and the parent, and records `best_child_run_id` (job
// property and MLflow tag) and `score` on the parent, as the sweep parent does.
//
// What the real service does beyond this is not reproduced and was not observed here (no recording of an AutoML job
// was available): it trains up to limits.max_trials models (max_concurrent_trials at a time) and, as Microsoft's AutoML
// documentation describes, featurizes, ensembles and explains; its child runs are AutoML iterations, here stored as
// Command children (ASSUMPTION: no caller reads a child's jobType).
// ASSUMPTION (unverified): `best_model` is the output name of an AutoML job's best MLflow model (the name the
// azureml-examples pipelines bind to: `${{parent.jobs.<automl step>.outputs.best_model}}`), written even when the YAML
// declares no outputs.
import fs from 'node:fs';
import path from 'node:path';
import type { RunnerDeps } from './jobrunner';
import { downloadTo, resolveUri, uploadFrom } from './jobrunner';
import { seededRandom } from './http';

export const AUTOML_DATA = ['trainingData', 'validationData', 'testData'] as const;
export const BEST_MODEL = 'best_model';

/** The data URIs of a standalone job's taskDetails or of a step's (resolved) training/validation/test data. */
export interface AutoMLTrialSpec {
  taskType: string;
  primaryMetric?: string;
  data: Partial<Record<(typeof AUTOML_DATA)[number], string>>;
  /** output name → URI (best_model among them) */
  outputs: Record<string, string>;
}

/** Runs the stand-in trial in `work`; throws an Error with the message the job fails with. Returns the score. */
export async function runAutoMLTrial(
  deps: RunnerDeps,
  wsId: string,
  jobName: string,
  work: string,
  spec: AutoMLTrialSpec,
): Promise<number> {
  fs.rmSync(work, { recursive: true, force: true });
  if (!spec.data.trainingData) throw new Error('AutoML job has no training data.');
  for (const [k, uri] of Object.entries(spec.data)) {
    if (!uri) continue;
    const dir = path.join(work, 'data', k);
    const got = await downloadTo(deps, resolveUri(deps, wsId, uri), dir);
    if (got.kind !== 'folder' || !fs.existsSync(path.join(dir, 'MLTable')))
      throw new Error(
        `${k} '${uri}' is not an MLTable folder (no MLTable file at its root): AutoML reads MLTable data.`,
      );
  }
  let seed = 0;
  for (const ch of jobName) seed = (Math.imul(seed, 31) + ch.charCodeAt(0)) >>> 0;
  const score = 0.5 + seededRandom(seed)() / 2;
  const model = path.join(work, 'model');
  fs.mkdirSync(model, { recursive: true });
  fs.writeFileSync(
    path.join(model, 'MLmodel'),
    [
      `run_id: ${jobName}`,
      'flavors:',
      '  python_function:',
      '    loader_module: mlflow.pyfunc.model',
      '    env: conda.yaml',
      '    python_version: 3.10.0',
      `metadata: {azureml.automl.stand_in: 'true', task_type: ${spec.taskType}}`,
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    path.join(model, 'conda.yaml'),
    'name: automl-stand-in\nchannels: [conda-forge]\ndependencies:\n  - python=3.10\n  - pip\n',
  );
  fs.writeFileSync(
    path.join(model, 'model.json'),
    JSON.stringify({ standIn: true, taskType: spec.taskType, primaryMetric: spec.primaryMetric, score }),
  );
  for (const uri of Object.values(spec.outputs)) await uploadFrom(deps, model, resolveUri(deps, wsId, uri), false);
  return score;
}

/**
 * The metric name the stand-in logs for a primary metric: the YAML spelling (`R2Score` → `r2_score`), `AUC_weighted`
 * for AUCWeighted. ASSUMPTION (unverified here): the names AutoML's own runs log.
 */
export function metricName(primaryMetric: string | undefined): string {
  const known: Record<string, string> = { aucweighted: 'AUC_weighted', iou: 'iou' };
  const p = String(primaryMetric ?? 'accuracy');
  return (
    known[p.toLowerCase()] ??
    p
      .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .toLowerCase()
  );
}
