// AutoML jobs and automl pipeline steps (src/azureml/automlSpec.ts through jobSpec's parse/build): the bodies built
// from the corpus's AutoML files are compared with what azure-ai-ml 1.4.0 builds from the same files
// (test/fixtures/automl/azure-ai-ml-1.4.0.json, how it was made is written in its `_about`), the few rules behind them
// are checked on their own, and the 2024-04-01 validator is shown to reject a wrong taskDetails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildJobBody, parseJobYaml, parseJobYamlText, type SpecResolver } from '../../src/azureml/jobSpec';
import { camelToSnake, floatToStr, minutesToIso } from '../../src/azureml/automlSpec';
import { validateBody } from '../emulator/swagger';
import { JOBS_API_VERSION } from '../../src/azureml/jobs';

const AT_JOBS_API = { apiVersion: JOBS_API_VERSION, noUnknownProperties: true };
const REPO = path.resolve(__dirname, '../..');
const CORPUS = path.join(REPO, 'test/fixtures/third-party/azureml-examples');
const REFERENCE = JSON.parse(
  fs.readFileSync(path.join(REPO, 'test/fixtures/automl/azure-ai-ml-1.4.0.json'), 'utf8'),
) as Record<string, { taskDetails?: Record<string, unknown>; jobs?: Record<string, Record<string, unknown>> }>;
const WS =
  '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws';

/** local uploads come back as `local:<path in the corpus>` (azure-ai-ml, offline, keeps the path as written) */
const resolver: SpecResolver = {
  wsPath: WS,
  uploadCode: async (p) => `${WS}/codes/${path.basename(p)}/versions/1`,
  uploadLocalPath: async (p) => `local:${path.relative(CORPUS, p)}`,
  ensureEnvironment: async () => `${WS}/environments/CliV2AnonymousEnvironment/versions/1`,
  ensureComponent: async (c) => `${WS}/components/${c.name}/versions/${c.version}`,
  resolveAsset: async (kind, ref) => `${WS}/${kind}/${ref.replace(/^azureml:/, '').replace(/[:@].*$/, '')}/versions/1`,
  computeId: async (n) => `${WS}/computes/${n}`,
};

/**
 * What is normalised before comparing (each a decision written in automlSpec.ts): enum casing (1.4.0 sends some
 * values lower-case, e.g. featurization mode `custom`, samplingAlgorithm `random`; 2024-04-01 enums are read
 * case-insensitively), empty maps, the members 2024-04-01 lacks (limitSettings.sweepTrials / sweepConcurrentTrials /
 * maxNodes of a standalone job), and data uris (theirs: the path as written; ours: the uploaded folder).
 */
function norm(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => norm(x));
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      if (key === 'limitSettings' && ['sweepTrials', 'sweepConcurrentTrials', 'maxNodes'].includes(k)) continue;
      const x = norm((v as Record<string, unknown>)[k], k);
      if (x === undefined || x === null || (typeof x === 'object' && !Array.isArray(x) && !Object.keys(x).length))
        continue;
      o[k] = x;
    }
    return o;
  }
  return typeof v === 'string' && key !== 'uri' ? v.toLowerCase() : v;
}

const localData = (file: string, data: unknown) => {
  // theirs: {jobInputType: mltable, uri: './training-mltable-folder'} → ours: local:<folder next to the file>
  const d = data as { jobInputType: string; uri: string };
  return { ...d, uri: `local:${path.join(path.dirname(file), d.uri)}` };
};

for (const [rel, ref] of Object.entries(REFERENCE)) {
  if (rel.startsWith('_')) continue;
  test(`azure-ai-ml 1.4.0 builds the same AutoML body: ${rel}`, async () => {
    const built = await buildJobBody(parseJobYaml(path.join(CORPUS, rel)), resolver);
    assert.deepEqual(validateBody('Jobs_CreateOrUpdate', built.body, AT_JOBS_API), []);
    const p = built.body.properties as Record<string, any>;
    if (ref.taskDetails) {
      assert.equal(p.jobType, 'AutoML');
      const theirs = { ...ref.taskDetails } as Record<string, unknown>;
      for (const k of ['trainingData', 'validationData', 'testData'])
        if (theirs[k]) theirs[k] = localData(rel, theirs[k]);
      assert.deepEqual(norm(p.taskDetails), norm(theirs));
    } else {
      assert.equal(p.jobType, 'Pipeline');
      for (const [n, node] of Object.entries(ref.jobs!)) assert.deepEqual(norm(p.jobs[n]), norm(node), n);
    }
  });
}

test('the comparison covers every task family and both forms', () => {
  const keys = Object.keys(REFERENCE).filter((k) => !k.startsWith('_'));
  const types = keys.map((k) => String(REFERENCE[k].taskDetails?.taskType ?? 'pipeline'));
  for (const t of [
    'Classification',
    'Regression',
    'Forecasting',
    'ImageObjectDetection',
    'TextClassification',
    'TextNER',
  ])
    assert.ok(types.includes(t), t);
  assert.ok(types.includes('pipeline'));
});

test('rules: camel_to_snake, minutes → ISO 8601, float_to_str (azure-ai-ml 1.4.0 _utils/utils.py)', () => {
  assert.equal(camelToSnake('LightGBM'), 'light_gbm');
  assert.equal(camelToSnake('XGBoostRegressor'), 'xg_boost_regressor');
  assert.equal(camelToSnake('TCNForecaster'), 'tcn_forecaster');
  assert.equal(camelToSnake('stepLRGamma'), 'step_lr_gamma');
  assert.equal(camelToSnake('TextNER'), 'text_ner');
  assert.equal(minutesToIso(180), 'PT3H');
  assert.equal(minutesToIso(20), 'PT20M');
  assert.equal(minutesToIso(90), 'PT1H30M');
  assert.equal(minutesToIso(1440 + 61), 'P1DT1H1M');
  assert.equal(floatToStr(0.001), '0.001');
  assert.equal(floatToStr(1e-5), '0.00001');
  assert.equal(floatToStr(2.5e-7), '0.00000025');
  assert.equal(floatToStr(1e16), '10000000000000000');
});

const scratchFile = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'automl-'));
  return path.join(dir, 'job.yml');
};

test('every task type, YAML spellings of enums, forecasting modes, search-space strings', async () => {
  const file = scratchFile();
  const spec = parseJobYamlText(
    [
      'type: automl',
      'task: forecasting',
      'primary_metric: r2_score',
      'log_verbosity: WARNING',
      'target_column_name: y',
      'training_data: {type: mltable, path: azureml:train:1}',
      'n_cross_validations: 3',
      'limits: {timeout_minutes: 90, max_trials: 4, max_cores_per_trial: -1, max_nodes: 2}',
      'forecasting:',
      '  time_column_name: t',
      '  forecast_horizon: auto',
      '  target_lags: [1, 2]',
      '  target_rolling_window_size: 3',
      '  seasonality: auto',
      '  use_stl: season_trend',
      '  time_series_id_column_names: store',
      'training:',
      '  blocked_training_algorithms: [tcn_forecaster, AutoArima, xg_boost_regressor]',
      '  ensemble_model_download_timeout_minutes: 5',
      '  stack_ensemble_settings: {stack_meta_learner_type: light_gbm_regressor}',
      'featurization: {mode: off, transformer_params: {imputer: [{fields: [a], parameters: {strategy: median}}]}}',
    ].join('\n'),
    file,
  );
  const b = await buildJobBody(spec, resolver);
  assert.deepEqual(validateBody('Jobs_CreateOrUpdate', b.body, AT_JOBS_API), []);
  const t = b.body.properties.taskDetails as Record<string, any>;
  assert.equal(b.body.properties.computeId, undefined, 'no compute: serverless');
  assert.equal(t.primaryMetric, 'R2Score');
  assert.equal(t.logVerbosity, 'Warning');
  assert.deepEqual(t.nCrossValidations, { mode: 'Custom', value: 3 });
  assert.deepEqual(t.limitSettings, { timeout: 'PT1H30M', maxTrials: 4, maxCoresPerTrial: -1 });
  assert.deepEqual(t.forecastingSettings, {
    timeColumnName: 't',
    forecastHorizon: { mode: 'Auto' },
    targetLags: { mode: 'Custom', values: [1, 2] },
    targetRollingWindowSize: { mode: 'Custom', value: 3 },
    seasonality: { mode: 'Auto' },
    useStl: 'SeasonTrend',
    timeSeriesIdColumnNames: ['store'],
  });
  assert.deepEqual(t.trainingSettings.blockedTrainingAlgorithms, ['TCNForecaster', 'AutoArima', 'XGBoostRegressor']);
  assert.equal(t.trainingSettings.ensembleModelDownloadTimeout, 'PT5M');
  assert.deepEqual(t.trainingSettings.stackEnsembleSettings, { stackMetaLearnerType: 'LightGBMRegressor' });
  // unquoted `off` is YAML 1.1 false: read as the mode it spells
  assert.equal(t.featurizationSettings.mode, 'Off');
  assert.deepEqual(Object.keys(t.featurizationSettings.transformerParams), ['Imputer']);
  assert.ok(
    b.warnings.some((w) => /limits\.max_nodes' is not part of api-version 2024-04-01/.test(w)),
    b.warnings.join('\n'),
  );

  for (const [task, extra, check] of [
    ['image_classification_multilabel', '', (x: any) => assert.equal(x.primaryMetric, 'IOU')],
    [
      'image_instance_segmentation',
      'training_parameters: {optimizer: adamw, learning_rate_scheduler: warmup_cosine, validation_metric_type: coco_voc, step_lr_gamma: 0.5}\n' +
        'search_space: [{model_name: {type: choice, values: [maskrcnn_resnet50_fpn]}, learning_rate: {type: loguniform, min_value: 0.00001, max_value: 1}, number_of_epochs: {type: randint, upper: 20}, nesterov: true}]\n' +
        'sweep: {sampling_algorithm: {type: bayesian}, early_termination: {type: median_stopping, evaluation_interval: 1}}',
      (x: any) => {
        assert.deepEqual(x.modelSettings, {
          optimizer: 'Adamw',
          learningRateScheduler: 'WarmupCosine',
          validationMetricType: 'CocoVoc',
          stepLRGamma: 0.5,
        });
        assert.deepEqual(x.searchSpace, [
          {
            modelName: "choice('maskrcnn_resnet50_fpn')",
            learningRate: 'loguniform(0.00001,1)',
            numberOfEpochs: 'randint(20)',
            nesterov: 'True',
          },
        ]);
        assert.deepEqual(x.sweepSettings, {
          samplingAlgorithm: 'Bayesian',
          earlyTermination: { policyType: 'MedianStopping', evaluationInterval: 1 },
        });
      },
    ],
    [
      'text_classification_multilabel',
      'featurization: {dataset_language: deu}',
      (x: any) => {
        assert.equal(x.primaryMetric, undefined, 'readOnly at 2024-04-01: not sent');
        assert.deepEqual(x.limitSettings, { maxTrials: 1 }, 'NlpLimitSettings default');
        assert.deepEqual(x.featurizationSettings, { datasetLanguage: 'deu' });
      },
    ],
  ] as const) {
    const s = parseJobYamlText(
      `type: automl\ntask: ${task}\ncompute: azureml:gpu\ntarget_column_name: label\ntraining_data: {type: mltable, path: azureml:d:1}\n${extra}\n`,
      file,
    );
    const bb = await buildJobBody(s, resolver);
    assert.deepEqual(validateBody('Jobs_CreateOrUpdate', bb.body, AT_JOBS_API), [], task);
    check(bb.body.properties.taskDetails);
  }
});

test('bad input: one error naming the file, line and key', () => {
  const file = scratchFile();
  const bad = (body: string, re: RegExp) =>
    assert.throws(
      () => parseJobYamlText(`type: automl\ncompute: azureml:c\n${body}`, file),
      (e: Error) => re.test(e.message) && e.message.includes('job.yml:'),
    );
  const base = 'target_column_name: y\ntraining_data: {type: mltable, path: ./t}\n';
  bad(`task: clustering\n${base}`, /'task': unknown AutoML task 'clustering'/);
  bad('task: regression\ntarget_column_name: y\n', /'training_data': an AutoML regression job needs 'training_data'/);
  bad(
    `task: regression\nprimary_metric: accuracy\n${base}`,
    /'primary_metric': unknown primary metric for regression 'accuracy'/,
  );
  bad(
    `task: regression\ntraining_data: ./t\ntarget_column_name: y\n`,
    /'training_data': AutoML 'training_data' must be an mltable input/,
  );
  bad(
    `task: classification\n${base}training: {allowed_training_algorithms: [prophet]}\n`,
    /unknown training algorithm 'prophet'/,
  );
  bad(`task: classification\n${base}limits: {max_trials: 0}\n`, /'limits.max_trials': must be at least 1/);
  bad(
    `task: image_object_detection\n${base}training_parameters: {weighted_loss: 1}\n`,
    /'training_parameters.weighted_loss': unknown training parameter/,
  );
  bad(`task: classification\n${base}inputs: {a: 1}\n`, /'inputs': unknown key for an AutoML job/);
  // cli-automl-text-ner-conll2003-distributed-sweeping.yml (azureml-examples): NLP sweeping has no 2024-04-01 member
  bad(
    `task: text_ner\n${base}sweep: {sampling_algorithm: random}\nsearch_space: [{model_name: {type: choice, values: [bert-base-cased]}}]\n`,
    /'sweep': 'sweep' for NLP AutoML tasks is not part of api-version 2024-04-01/,
  );
  // cli-automl-classification-task-bankmarketing-serverless.yml: `resources:` written as text (az ml 1.4.0 refuses it too:
  // "resources: Invalid input type")
  bad(
    `task: classification\n${base}resources:\n  instance_type="Standard_E4s_v3"\n  instance_count=5\n`,
    /'resources': expected a mapping/,
  );
});

test('the 2024-04-01 validator rejects a wrong taskDetails', async () => {
  const rel =
    'cli/jobs/automl-standalone-jobs/cli-automl-classification-task-bankmarketing/cli-automl-classification-task-bankmarketing.yml';
  const built = await buildJobBody(parseJobYaml(path.join(CORPUS, rel)), resolver);
  const mutate = (f: (t: Record<string, any>) => void) => {
    const b = structuredClone(built.body) as { properties: Record<string, any> };
    f(b.properties.taskDetails);
    return validateBody('Jobs_CreateOrUpdate', b, AT_JOBS_API);
  };
  assert.deepEqual(
    mutate(() => {}),
    [],
  );
  const errs = [
    mutate((t) => (t.modelSettings = { earlyStopping: true })), // an image member on a Classification
    mutate((t) => delete t.trainingData), // required by AutoMLVertical
    mutate((t) => (t.taskType = 'Clustering')), // no such discriminator value
    mutate((t) => (t.primaryMetric = 'R2Score')), // a regression metric on a classification
    mutate((t) => (t.limitSettings.sweepTrials = 0)), // what 1.4.0 sends, not a 2024-04-01 member
  ];
  for (const [i, e] of errs.entries()) assert.ok(e.length > 0, `mutation ${i} was accepted`);
});

test('an automl step: its own compute (resolved), an mltable asset as {job_input_type, uri}, bindings as text', async () => {
  const file = scratchFile();
  const text = [
    'type: pipeline',
    'settings: {default_compute: azureml:cpu-cluster}',
    'inputs: {train: {type: mltable, path: azureml:train:2}}',
    'jobs:',
    '  fit:',
    '    type: automl',
    '    task: text_classification',
    '    compute: azureml:gpu-cluster',
    '    target_column_name: y',
    '    training_data: ${{parent.inputs.train}}',
    '    validation_data: {type: mltable, path: azureml:valid:1}',
    '    limits: {max_nodes: 4, trial_timeout_minutes: 30}',
    '    outputs: {best_model: {type: mlflow_model}}',
    '  use:',
    '    command: echo ${{inputs.m}}',
    '    environment: azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest',
    '    inputs:',
    '      m: ${{parent.jobs.fit.outputs.best_model}}',
  ].join('\n');
  const spec = parseJobYamlText(text, file);
  const b = await buildJobBody(spec, resolver);
  assert.deepEqual(validateBody('Jobs_CreateOrUpdate', b.body, AT_JOBS_API), []);
  assert.deepEqual(b.warnings, [], 'a step carries max_nodes / trial_timeout_minutes: no warning');
  const jobs = b.body.properties.jobs as Record<string, any>;
  assert.deepEqual(jobs.fit, {
    name: 'fit',
    type: 'automl',
    compute: `${WS}/computes/gpu-cluster`,
    task: 'text_classification',
    log_verbosity: 'info',
    primary_metric: 'accuracy',
    target_column_name: 'y',
    limits: { max_nodes: 4, trial_timeout_minutes: 30, max_trials: 1 },
    training_data: '${{parent.inputs.train}}',
    validation_data: { job_input_type: 'mltable', uri: `${WS}/data/valid/versions/1` },
    outputs: { best_model: { job_output_type: 'mlflow_model' } },
  });
  // the next step's anonymous component takes the automl step's output as the type it declared
  assert.equal(jobs.use.inputs.m.value, '${{parent.jobs.fit.outputs.best_model}}');
  // a binding to an output or input that does not exist is refused before anything is sent
  assert.throws(
    () => parseJobYamlText(text.replace('parent.inputs.train', 'parent.inputs.nope'), file),
    /'jobs.fit.training_data': '\$\{\{parent.inputs.nope\}\}' names pipeline input 'nope'/,
  );
});
