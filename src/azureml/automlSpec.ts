// `type: automl` in `az ml job create -f` YAML (a standalone AutoML job, or an automl step of a pipeline job) →
// Azure ML 2024-04-01 AutoMLJob (`taskDetails`: AutoMLVertical discriminated by `taskType`) or the snake_case node
// azure-ai-ml puts in a pipeline's `jobs`. Pure translation; hooked into jobSpec.ts (parse: `case 'automl'` and the
// pipeline-step branch; build: buildJobBody/buildNode).
//
// Every mapping rule follows azure-ai-ml 1.4.0 (Debian python3-azure 20230112+git-1, the January 2023 snapshot of
// Azure/azure-sdk-for-python sdk/ml/azure-ai-ml: azure/ai/ml/_version.py VERSION = "1.4.0"; Debian records no upstream
// commit, its changelog says "New upstream version 20230112+git"), files under azure/ai/ml/:
//   - _schema/automl/** (YAML keys, defaults: AutoMLVerticalSchema log_verbosity → info; each task schema's
//     primary_metric load_default; enum spelling through StringTransformedEnum(casing_transform=camel_to_snake));
//   - entities/_job/automl/** `_to_rest_object` (limits → ISO durations in minutes: utils.to_iso_duration_format_mins;
//     n_cross_validations / forecast_horizon / target_lags / target_rolling_window_size / seasonality → {mode, value};
//     search_space values → "choice('a','b')" / "uniform(0.001,0.01)" strings: search_space_utils._convert_to_rest_object;
//     NlpLimitSettings defaults max_trials = 1; BanditPolicy defaults slack_factor/slack_amount = 0);
//   - a pipeline step: AutoMLJob._to_dict() (the schema dump: YAML keys, enum values snake_case, data inputs as their
//     binding text), as 1.4.0's PipelineJob._to_rest_object puts it in `jobs`.
// Where 2024-04-01 has no member for what 1.4.0 sends (tabular limitSettings.sweepTrials/sweepConcurrentTrials, which
// 1.4.0 sends as 0; limits.max_nodes), it is left out (with a warning when the YAML set it). Sweeping of tabular and
// NLP tasks (`sweep`, `search_space`, `training_parameters`) has no member at 2024-04-01 (TableVertical/NlpVertical
// lack them): refused rather than silently run as a different experiment.
import type { KeyPath, YamlSource } from './yamlSpec';
import {
  checkKeys,
  describe,
  expectMap,
  isPlainObject,
  optBool,
  optInt,
  optMap,
  optNumber,
  optString,
  optStringMap,
  pyFloatRepr,
  reqString,
  secondsToIso,
  SEARCH_SPACE_DISTRIBUTIONS,
  stripUndef,
} from './yamlSpec';
import type { AutoMLJobSpec, InputSpec, JobCommon, OutputSpec, ParseJobOptions, PipelineNodeSpec } from './jobSpec';

type Family = 'tabular' | 'image' | 'nlp';

/** azure-ai-ml's camel_to_snake (_utils/utils.py _camel_to_snake_convert): `LightGBM` → `light_gbm`. */
export function camelToSnake(text: string): string {
  return text
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

// 2024-04-01 mfe.json enums (test/fixtures/third-party/azure-rest-api-specs/2024-04-01/mfe.json), REST spelling
const CLASSIFICATION_METRICS = [
  'AUCWeighted',
  'Accuracy',
  'NormMacroRecall',
  'AveragePrecisionScoreWeighted',
  'PrecisionScoreWeighted',
];
const REGRESSION_METRICS = [
  'SpearmanCorrelation',
  'NormalizedRootMeanSquaredError',
  'R2Score',
  'NormalizedMeanAbsoluteError',
];
const ENUMS: Record<string, string[]> = {
  LogVerbosity: ['NotSet', 'Debug', 'Info', 'Warning', 'Error', 'Critical'],
  ClassificationModels: [
    'LogisticRegression',
    'SGD',
    'MultinomialNaiveBayes',
    'BernoulliNaiveBayes',
    'SVM',
    'LinearSVM',
    'KNN',
    'DecisionTree',
    'RandomForest',
    'ExtremeRandomTrees',
    'LightGBM',
    'GradientBoosting',
    'XGBoostClassifier',
  ],
  RegressionModels: [
    'ElasticNet',
    'GradientBoosting',
    'DecisionTree',
    'KNN',
    'LassoLars',
    'SGD',
    'RandomForest',
    'ExtremeRandomTrees',
    'LightGBM',
    'XGBoostRegressor',
  ],
  ForecastingModels: [
    'AutoArima',
    'Prophet',
    'Naive',
    'SeasonalNaive',
    'Average',
    'SeasonalAverage',
    'ExponentialSmoothing',
    'Arimax',
    'TCNForecaster',
    'ElasticNet',
    'GradientBoosting',
    'DecisionTree',
    'KNN',
    'LassoLars',
    'SGD',
    'RandomForest',
    'ExtremeRandomTrees',
    'LightGBM',
    'XGBoostRegressor',
  ],
  BlockedTransformers: [
    'TextTargetEncoder',
    'OneHotEncoder',
    'CatTargetEncoder',
    'TfIdf',
    'WoETargetEncoder',
    'LabelEncoder',
    'WordEmbedding',
    'NaiveBayes',
    'CountVectorizer',
    'HashOneHotEncoder',
  ],
  // azure-ai-ml constants/_job/automl.py AutoMLTransformerParameterKeys (Imputer, TfIdf, HashOneHotEncoder)
  TransformerParameterKeys: ['Imputer', 'TfIdf', 'HashOneHotEncoder'],
  FeaturizationMode: ['Auto', 'Custom', 'Off'],
  StackMetaLearnerType: [
    'None',
    'LogisticRegression',
    'LogisticRegressionCV',
    'LightGBMClassifier',
    'ElasticNet',
    'ElasticNetCV',
    'LightGBMRegressor',
    'LinearRegression',
  ],
  FeatureLags: ['None', 'Auto'],
  ShortSeriesHandlingConfiguration: ['None', 'Auto', 'Pad', 'Drop'],
  TargetAggregationFunction: ['None', 'Sum', 'Max', 'Min', 'Mean'],
  UseStl: ['None', 'Season', 'SeasonTrend'],
  SamplingAlgorithmType: ['Grid', 'Random', 'Bayesian'],
  ModelSize: ['None', 'Small', 'Medium', 'Large', 'ExtraLarge'],
  LearningRateScheduler: ['None', 'WarmupCosine', 'Step'],
  StochasticOptimizer: ['None', 'Sgd', 'Adam', 'Adamw'],
  ValidationMetricType: ['None', 'Coco', 'Voc', 'CocoVoc'],
};

interface TaskInfo {
  taskType: string;
  family: Family;
  metrics: string[];
  /** the task schema's primary_metric load_default (REST spelling) */
  defaultMetric: string;
  /** 2024-04-01 marks primaryMetric readOnly (TextNer, TextClassificationMultilabel): not sent, as 1.4.0 */
  metricReadOnly?: boolean;
  models?: string;
}

const TASKS: Record<string, TaskInfo> = {
  classification: {
    taskType: 'Classification',
    family: 'tabular',
    metrics: CLASSIFICATION_METRICS,
    defaultMetric: 'AUCWeighted', // _schema/automl/table_vertical/classification.py
    models: 'ClassificationModels',
  },
  regression: {
    taskType: 'Regression',
    family: 'tabular',
    metrics: REGRESSION_METRICS,
    defaultMetric: 'NormalizedRootMeanSquaredError',
    models: 'RegressionModels',
  },
  forecasting: {
    taskType: 'Forecasting',
    family: 'tabular',
    metrics: REGRESSION_METRICS,
    defaultMetric: 'NormalizedRootMeanSquaredError',
    models: 'ForecastingModels',
  },
  image_classification: {
    taskType: 'ImageClassification',
    family: 'image',
    metrics: CLASSIFICATION_METRICS,
    defaultMetric: 'Accuracy',
  },
  image_classification_multilabel: {
    taskType: 'ImageClassificationMultilabel',
    family: 'image',
    metrics: [...CLASSIFICATION_METRICS, 'IOU'],
    defaultMetric: 'IOU',
  },
  image_object_detection: {
    taskType: 'ImageObjectDetection',
    family: 'image',
    metrics: ['MeanAveragePrecision'],
    defaultMetric: 'MeanAveragePrecision',
  },
  image_instance_segmentation: {
    taskType: 'ImageInstanceSegmentation',
    family: 'image',
    metrics: ['MeanAveragePrecision'],
    defaultMetric: 'MeanAveragePrecision',
  },
  text_classification: {
    taskType: 'TextClassification',
    family: 'nlp',
    metrics: CLASSIFICATION_METRICS,
    defaultMetric: 'Accuracy',
  },
  text_classification_multilabel: {
    taskType: 'TextClassificationMultilabel',
    family: 'nlp',
    metrics: [...CLASSIFICATION_METRICS, 'IOU'],
    defaultMetric: 'Accuracy',
    metricReadOnly: true,
  },
  text_ner: {
    taskType: 'TextNER',
    family: 'nlp',
    metrics: CLASSIFICATION_METRICS,
    defaultMetric: 'Accuracy',
    metricReadOnly: true,
  },
};

// 2024-04-01 ImageModelSettings(+Classification/+ObjectDetection) members; the YAML key is camel_to_snake of each
const IMAGE_SETTINGS = [
  'advancedSettings',
  'amsGradient',
  'augmentations',
  'beta1',
  'beta2',
  'checkpointFrequency',
  'checkpointModel',
  'checkpointRunId',
  'distributed',
  'earlyStopping',
  'earlyStoppingDelay',
  'earlyStoppingPatience',
  'enableOnnxNormalization',
  'evaluationFrequency',
  'gradientAccumulationStep',
  'layersToFreeze',
  'learningRate',
  'learningRateScheduler',
  'modelName',
  'momentum',
  'nesterov',
  'numberOfEpochs',
  'numberOfWorkers',
  'optimizer',
  'randomSeed',
  'stepLRGamma',
  'stepLRStepSize',
  'trainingBatchSize',
  'validationBatchSize',
  'warmupCosineLRCycles',
  'warmupCosineLRWarmupEpochs',
  'weightDecay',
];
const IMAGE_CLASSIFICATION_SETTINGS = [
  'trainingCropSize',
  'validationCropSize',
  'validationResizeSize',
  'weightedLoss',
];
const IMAGE_OD_SETTINGS = [
  'boxDetectionsPerImage',
  'boxScoreThreshold',
  'imageSize',
  'maxSize',
  'minSize',
  'modelSize',
  'multiScale',
  'nmsIouThreshold',
  'tileGridSize',
  'tileOverlapRatio',
  'tilePredictionsNmsThreshold',
  'validationIouThreshold',
  'validationMetricType',
];
/** members not in ImageModelDistributionSettings* (the search space): fixed settings only */
const IMAGE_FIXED_ONLY = ['advancedSettings', 'checkpointFrequency', 'checkpointModel', 'checkpointRunId'];
const IMAGE_ENUM_SETTINGS: Record<string, string> = {
  learningRateScheduler: 'LearningRateScheduler',
  optimizer: 'StochasticOptimizer',
  modelSize: 'ModelSize',
  validationMetricType: 'ValidationMetricType',
};

export const AUTOML_DATA_KEYS = ['training_data', 'validation_data', 'test_data'] as const;
export type AutoMLDataKey = (typeof AUTOML_DATA_KEYS)[number];

/** The AutoML keys of a job or step (besides the common job keys jobSpec checks). */
export const AUTOML_KEYS = [
  'task',
  'log_verbosity',
  'primary_metric',
  'target_column_name',
  ...AUTOML_DATA_KEYS,
  'validation_data_size',
  'test_data_size',
  'n_cross_validations',
  'cv_split_column_names',
  'weight_column_name',
  'positive_label',
  'limits',
  'featurization',
  'training',
  'forecasting',
  'sweep',
  'search_space',
  'training_parameters',
];

/** A parsed AutoML task: the REST taskDetails (without data inputs) and the pipeline-node form (without them). */
export interface AutoMLTask {
  task: string;
  taskType: string;
  /** 2024-04-01 taskDetails members other than trainingData/validationData/testData */
  rest: Record<string, unknown>;
  /** the same in azure-ai-ml's pipeline-node form (YAML keys, snake_case enum values) */
  node: Record<string, unknown>;
}

/** An enum value as written (any casing, snake_case or the REST spelling) → the 2024-04-01 spelling. */
function enumValue(src: YamlSource, p: KeyPath, v: unknown, allowed: string[], what: string): string {
  const text = reqString(src, p, v, what);
  const key = camelToSnake(text.trim()).replace(/[\s-]/g, '_');
  const hit = allowed.find((a) => camelToSnake(a) === key || a.toLowerCase() === text.trim().toLowerCase());
  if (!hit) throw src.error(p, `unknown ${what} '${text}' (one of ${allowed.map(camelToSnake).join(', ')})`);
  return hit;
}

function enumList(src: YamlSource, p: KeyPath, v: unknown, allowed: string[], what: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw src.error(p, `expected a list of ${what}s, got ${describe(v)}`);
  return v.map((x, i) => enumValue(src, [...p, i], x, allowed, what));
}

function stringList(src: YamlSource, p: KeyPath, v: unknown, single = false): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (single && typeof v === 'string') return [v];
  if (!Array.isArray(v)) throw src.error(p, `expected a list, got ${describe(v)}`);
  return v.map((x, i) => reqString(src, [...p, i], x, 'a value'));
}

/** `timeout_minutes: 90` → `PT1H30M` (azure-ai-ml to_iso_duration_format_mins: isodate of timedelta(minutes)). */
export function minutesToIso(minutes: number): string {
  return secondsToIso(minutes * 60);
}

/** azure-ai-ml's float_to_str (Decimal(repr(f)) in fixed notation): 1e-05 → 0.00001 */
export function floatToStr(v: number): string {
  const r = pyFloatRepr(v);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(r);
  if (!m) return r;
  const [, sign, d, frac = '', e] = m;
  const exp = Number(e);
  const digits = d + frac;
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  return `${sign}${digits.padEnd(exp + 1, '0')}`;
}

/** A number as 1.4.0 prints it in a distribution string: ints as digits, floats as float_to_str. */
function numText(src: YamlSource, p: KeyPath, v: unknown): string {
  if (typeof v !== 'number') throw src.error(p, `expected a number, got ${describe(v)}`);
  const source = src.scalarSource(p);
  const isFloat = source !== undefined ? /[.eE]|inf|nan/i.test(source) : !Number.isInteger(v);
  return isFloat ? floatToStr(v) : String(v);
}

/** A search_space value → 1.4.0's string form (search_space_utils._convert_to_rest_object). */
function distributionText(src: YamlSource, p: KeyPath, v: unknown): string {
  if (!isPlainObject(v)) {
    if (typeof v === 'boolean') return v ? 'True' : 'False';
    if (typeof v === 'number') return numText(src, p, v);
    return reqString(src, p, v, 'a value');
  }
  const t = reqString(src, [...p, 'type'], v.type, 'type').toLowerCase();
  const args = SEARCH_SPACE_DISTRIBUTIONS[t];
  if (!args)
    throw src.error(
      [...p, 'type'],
      `unknown distribution '${t}' (one of ${Object.keys(SEARCH_SPACE_DISTRIBUTIONS).join(', ')})`,
    );
  checkKeys(src, p, v, ['type', ...args], `a ${t} distribution`);
  if (t === 'choice') {
    if (!Array.isArray(v.values) || !v.values.length)
      throw src.error([...p, 'values'], 'choice needs a non-empty list of values');
    const items = v.values.map((x, i) => {
      if (typeof x === 'string') return `'${x}'`;
      if (typeof x === 'boolean') return x ? 'True' : 'False';
      if (typeof x === 'number') return numText(src, [...p, 'values', i], x);
      throw src.error([...p, 'values', i], `expected a plain value, got ${describe(x)}`);
    });
    return `choice(${items.join(',')})`;
  }
  return `${t}(${args
    .map((a) => {
      if (v[a] === undefined || v[a] === null) throw src.error([...p, a], `${t} needs '${a}'`);
      return numText(src, [...p, a], v[a]);
    })
    .join(',')})`;
}

interface Ctx {
  src: YamlSource;
  p: KeyPath;
  m: Record<string, unknown>;
  warnings: string[];
  info: TaskInfo;
  /** a standalone job (REST body) or a pipeline step (untyped node: what 2024-04-01 lacks may still be sent) */
  where: 'job' | 'node';
  rest: Record<string, unknown>;
  node: Record<string, unknown>;
}

function refuse(c: Ctx, key: string, why: string): void {
  if (c.m[key] !== undefined && c.m[key] !== null) throw c.src.error([...c.p, key], why);
}

/** limits: tabular / image / NLP members (2024-04-01 *LimitSettings). */
function parseLimits(c: Ctx): void {
  const { src, info } = c;
  const p = [...c.p, 'limits'];
  const lm = optMap(src, p, c.m.limits);
  const allowed =
    info.family === 'tabular'
      ? [
          'enable_early_termination',
          'exit_score',
          'max_concurrent_trials',
          'max_cores_per_trial',
          'max_trials',
          'timeout_minutes',
          'trial_timeout_minutes',
          'max_nodes',
        ]
      : info.family === 'image'
        ? ['max_concurrent_trials', 'max_trials', 'timeout_minutes']
        : ['max_concurrent_trials', 'max_trials', 'timeout_minutes', 'max_nodes', 'trial_timeout_minutes'];
  if (!lm) {
    // NlpLimitSettings() is always there (entities/_job/automl/nlp/automl_nlp_job.py: limits or NlpLimitSettings())
    if (info.family === 'nlp') {
      c.rest.limitSettings = { maxTrials: 1 };
      c.node.limits = { max_nodes: 1, max_trials: 1 };
    }
    // ImageVertical.limitSettings is required: AutoMLImage sets ImageLimitSettings() (entities/_job/automl/image/automl_image.py)
    if (info.family === 'image') c.rest.limitSettings = {};
    return;
  }
  checkKeys(src, p, lm, allowed, `${info.family === 'tabular' ? 'tabular' : info.family} AutoML limits`);
  // a step is an untyped map in 2024-04-01 (PipelineJob.jobs): it carries them as azure-ai-ml sends them
  for (const k of ['max_nodes', ...(info.family === 'nlp' ? ['trial_timeout_minutes'] : [])])
    if (lm[k] !== undefined && lm[k] !== null && c.where === 'job')
      c.warnings.push(
        `${src.where([...p, k])}: 'limits.${k}' is not part of api-version 2024-04-01 (${info.taskType}) and was ignored`,
      );
  const int = (k: string, min?: number) => optInt(src, [...p, k], lm[k], min);
  const maxTrials = int('max_trials', 1) ?? (info.family === 'nlp' ? 1 : undefined);
  const timeout = int('timeout_minutes', 0);
  const trialTimeout = info.family === 'tabular' ? int('trial_timeout_minutes', 0) : undefined;
  const node: Record<string, unknown> = {};
  for (const k of allowed) if (lm[k] !== undefined && lm[k] !== null) node[k] = lm[k];
  // NlpLimitSettings(max_nodes=1) (entities/_job/automl/nlp/nlp_limit_settings.py): always in 1.4.0's step
  if (info.family === 'nlp') node.max_nodes = optInt(src, [...p, 'max_nodes'], lm.max_nodes, 1) ?? 1;
  if (maxTrials !== undefined) node.max_trials = maxTrials;
  c.node.limits = node;
  c.rest.limitSettings = stripUndef({
    enableEarlyTermination:
      info.family === 'tabular'
        ? optBool(src, [...p, 'enable_early_termination'], lm.enable_early_termination)
        : undefined,
    exitScore: info.family === 'tabular' ? optNumber(src, [...p, 'exit_score'], lm.exit_score) : undefined,
    maxConcurrentTrials: int('max_concurrent_trials', 1),
    maxCoresPerTrial: info.family === 'tabular' ? int('max_cores_per_trial', -1) : undefined,
    maxTrials,
    timeout: timeout ? minutesToIso(timeout) : undefined,
    trialTimeout: trialTimeout ? minutesToIso(trialTimeout) : undefined,
  });
}

/** {mode: Auto} | {mode: Custom, value} for `auto` or an integer (1.4.0 forecasting_settings/automl_tabular). */
function autoOrInt(src: YamlSource, p: KeyPath, v: unknown, key = 'value'): Record<string, unknown> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' && v.trim().toLowerCase() === 'auto') return { mode: 'Auto' };
  const n = optInt(src, p, v);
  return { mode: 'Custom', [key]: key === 'values' ? [n] : n };
}

function parseTabular(c: Ctx): void {
  const { src, m, info } = c;
  const p = c.p;
  refuse(
    c,
    'sweep',
    "'sweep' for tabular AutoML tasks is not part of api-version 2024-04-01 (TableVertical has no sweepSettings)",
  );
  refuse(c, 'search_space', "'search_space' for tabular AutoML tasks is not part of api-version 2024-04-01");
  refuse(
    c,
    'training_parameters',
    "'training_parameters' for tabular AutoML tasks is not part of api-version 2024-04-01",
  );
  if (info.taskType !== 'Forecasting')
    refuse(c, 'forecasting', "'forecasting' settings only apply to task: forecasting");
  if (info.taskType !== 'Classification')
    refuse(c, 'positive_label', "'positive_label' only applies to task: classification");
  const ncv = autoOrInt(src, [...p, 'n_cross_validations'], m.n_cross_validations);
  Object.assign(
    c.rest,
    stripUndef({
      validationDataSize: optNumber(src, [...p, 'validation_data_size'], m.validation_data_size),
      testDataSize: optNumber(src, [...p, 'test_data_size'], m.test_data_size),
      nCrossValidations: ncv,
      cvSplitColumnNames: stringList(src, [...p, 'cv_split_column_names'], m.cv_split_column_names),
      weightColumnName: optString(src, [...p, 'weight_column_name'], m.weight_column_name),
      positiveLabel: optString(src, [...p, 'positive_label'], m.positive_label),
    }),
  );
  for (const k of [
    'validation_data_size',
    'test_data_size',
    'n_cross_validations',
    'cv_split_column_names',
    'weight_column_name',
    'positive_label',
  ])
    if (m[k] !== undefined && m[k] !== null) c.node[k] = m[k];
  // featurization (TableFeaturizationSettingsSchema; TabularFeaturizationSettings._to_rest_object)
  const fp = [...p, 'featurization'];
  const f = optMap(src, fp, m.featurization);
  if (f) {
    checkKeys(
      src,
      fp,
      f,
      [
        'mode',
        'blocked_transformers',
        'column_name_and_types',
        'transformer_params',
        'enable_dnn_featurization',
        'dataset_language',
      ],
      'featurization',
    );
    // `mode: off` unquoted is a YAML 1.1 boolean: false → Off (az ml's loader sees the same false and refuses it)
    const modeRaw = f.mode === false ? 'off' : f.mode;
    const mode =
      modeRaw === undefined || modeRaw === null
        ? undefined
        : enumValue(src, [...fp, 'mode'], modeRaw, ENUMS.FeaturizationMode, 'featurization mode');
    const blocked = enumList(
      src,
      [...fp, 'blocked_transformers'],
      f.blocked_transformers,
      ENUMS.BlockedTransformers,
      'transformer',
    );
    let columns: Record<string, string> | undefined;
    const cm = optMap(src, [...fp, 'column_name_and_types'], f.column_name_and_types);
    if (cm) {
      columns = {};
      for (const [k, v] of Object.entries(cm))
        columns[k] = reqString(src, [...fp, 'column_name_and_types', k], v, 'a column type');
    }
    let params: Record<string, unknown> | undefined;
    let nodeParams: Record<string, unknown> | undefined;
    const tp = optMap(src, [...fp, 'transformer_params'], f.transformer_params);
    if (tp) {
      params = {};
      nodeParams = {};
      for (const [k, v] of Object.entries(tp)) {
        const key = enumValue(src, [...fp, 'transformer_params', k], k, ENUMS.TransformerParameterKeys, 'transformer');
        if (!Array.isArray(v)) throw src.error([...fp, 'transformer_params', k], `expected a list, got ${describe(v)}`);
        const list = v.map((t, i) => {
          const tpp = [...fp, 'transformer_params', k, i];
          const tm = expectMap(src, tpp, t);
          checkKeys(src, tpp, tm, ['fields', 'parameters'], 'a column transformer');
          return stripUndef({
            fields: stringList(src, [...tpp, 'fields'], tm.fields),
            parameters: optMap(src, [...tpp, 'parameters'], tm.parameters),
          });
        });
        params[key] = list;
        nodeParams[camelToSnake(key)] = list;
      }
    }
    c.rest.featurizationSettings = stripUndef({
      mode,
      blockedTransformers: blocked,
      columnNameAndTypes: columns,
      transformerParams: params,
      enableDnnFeaturization: optBool(src, [...fp, 'enable_dnn_featurization'], f.enable_dnn_featurization),
      datasetLanguage: optString(src, [...fp, 'dataset_language'], f.dataset_language),
    });
    c.node.featurization = stripUndef({
      mode: mode?.toLowerCase(),
      blocked_transformers: blocked?.map(camelToSnake),
      column_name_and_types: columns,
      transformer_params: nodeParams,
      enable_dnn_featurization: f.enable_dnn_featurization ?? undefined,
      dataset_language: f.dataset_language ?? undefined,
    });
  }
  // training (TrainingSettingsSchema + <Task>TrainingSettingsSchema)
  const trp = [...p, 'training'];
  const t = optMap(src, trp, m.training);
  if (t) {
    const bools = [
      'enable_dnn_training',
      'enable_model_explainability',
      'enable_onnx_compatible_models',
      'enable_stack_ensemble',
      'enable_vote_ensemble',
    ];
    checkKeys(
      src,
      trp,
      t,
      [
        ...bools,
        'ensemble_model_download_timeout_minutes',
        'stack_ensemble_settings',
        'allowed_training_algorithms',
        'blocked_training_algorithms',
      ],
      'training settings',
    );
    const rest: Record<string, unknown> = {};
    const node: Record<string, unknown> = {};
    for (const k of bools) {
      const b = optBool(src, [...trp, k], t[k]);
      if (b !== undefined) {
        rest[k.replace(/_([a-z])/g, (_x, ch: string) => ch.toUpperCase())] = b;
        node[k] = b;
      }
    }
    const dl = optInt(
      src,
      [...trp, 'ensemble_model_download_timeout_minutes'],
      t.ensemble_model_download_timeout_minutes,
      0,
    );
    if (dl !== undefined) {
      rest.ensembleModelDownloadTimeout = minutesToIso(dl);
      node.ensemble_model_download_timeout_minutes = dl;
    }
    const sp = [...trp, 'stack_ensemble_settings'];
    const se = optMap(src, sp, t.stack_ensemble_settings);
    if (se) {
      checkKeys(
        src,
        sp,
        se,
        ['stack_meta_learner_type', 'stack_meta_learner_train_percentage', 'stack_meta_learner_kwargs'],
        'stack_ensemble_settings',
      );
      const type =
        se.stack_meta_learner_type === undefined || se.stack_meta_learner_type === null
          ? undefined
          : enumValue(
              src,
              [...sp, 'stack_meta_learner_type'],
              se.stack_meta_learner_type,
              ENUMS.StackMetaLearnerType,
              'stack meta learner',
            );
      rest.stackEnsembleSettings = stripUndef({
        stackMetaLearnerType: type,
        stackMetaLearnerTrainPercentage: optNumber(
          src,
          [...sp, 'stack_meta_learner_train_percentage'],
          se.stack_meta_learner_train_percentage,
        ),
        stackMetaLearnerKWargs: optMap(src, [...sp, 'stack_meta_learner_kwargs'], se.stack_meta_learner_kwargs),
      });
      node.stack_ensemble_settings = stripUndef({
        ...se,
        stack_meta_learner_type: type ? camelToSnake(type) : undefined,
      });
    }
    for (const k of ['allowed_training_algorithms', 'blocked_training_algorithms']) {
      const list = enumList(src, [...trp, k], t[k], ENUMS[info.models!], 'training algorithm');
      if (list) {
        rest[k === 'allowed_training_algorithms' ? 'allowedTrainingAlgorithms' : 'blockedTrainingAlgorithms'] = list;
        node[k] = list.map(camelToSnake);
      }
    }
    c.rest.trainingSettings = rest;
    c.node.training = node;
  }
  if (info.taskType === 'Forecasting') parseForecasting(c);
}

function parseForecasting(c: Ctx): void {
  const { src, m } = c;
  const p = [...c.p, 'forecasting'];
  const f = optMap(src, p, m.forecasting);
  if (!f) return;
  checkKeys(
    src,
    p,
    f,
    [
      'country_or_region_for_holidays',
      'cv_step_size',
      'forecast_horizon',
      'target_lags',
      'target_rolling_window_size',
      'time_column_name',
      'time_series_id_column_names',
      'frequency',
      'feature_lags',
      'seasonality',
      'short_series_handling_config',
      'use_stl',
      'target_aggregate_function',
    ],
    'forecasting settings',
  );
  const en = (k: string, e: string) =>
    f[k] === undefined || f[k] === null ? undefined : enumValue(src, [...p, k], f[k], ENUMS[e], k.replace(/_/g, ' '));
  let targetLags: Record<string, unknown> | undefined;
  if (Array.isArray(f.target_lags))
    targetLags = { mode: 'Custom', values: f.target_lags.map((x, i) => optInt(src, [...p, 'target_lags', i], x)) };
  else targetLags = autoOrInt(src, [...p, 'target_lags'], f.target_lags, 'values');
  const rest = stripUndef({
    countryOrRegionForHolidays: optString(
      src,
      [...p, 'country_or_region_for_holidays'],
      f.country_or_region_for_holidays,
    ),
    cvStepSize: optInt(src, [...p, 'cv_step_size'], f.cv_step_size),
    featureLags: en('feature_lags', 'FeatureLags'),
    forecastHorizon: autoOrInt(src, [...p, 'forecast_horizon'], f.forecast_horizon),
    frequency: optString(src, [...p, 'frequency'], f.frequency),
    seasonality: autoOrInt(src, [...p, 'seasonality'], f.seasonality),
    shortSeriesHandlingConfig: en('short_series_handling_config', 'ShortSeriesHandlingConfiguration'),
    targetAggregateFunction: en('target_aggregate_function', 'TargetAggregationFunction'),
    targetLags,
    targetRollingWindowSize: autoOrInt(src, [...p, 'target_rolling_window_size'], f.target_rolling_window_size),
    timeColumnName: optString(src, [...p, 'time_column_name'], f.time_column_name),
    timeSeriesIdColumnNames: stringList(
      src,
      [...p, 'time_series_id_column_names'],
      f.time_series_id_column_names,
      true,
    ),
    useStl: en('use_stl', 'UseStl'),
  });
  c.rest.forecastingSettings = rest;
  const node: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f)) if (v !== null && v !== undefined) node[k] = v;
  for (const [k, e] of [
    ['feature_lags', 'FeatureLags'],
    ['short_series_handling_config', 'ShortSeriesHandlingConfiguration'],
    ['target_aggregate_function', 'TargetAggregationFunction'],
    ['use_stl', 'UseStl'],
  ])
    if (node[k] !== undefined) node[k] = camelToSnake(en(k, e)!);
  c.node.forecasting = node;
}

function parseImage(c: Ctx, earlyTermination: EarlyTerminationParser): void {
  const { src, m, info } = c;
  const p = c.p;
  refuse(c, 'featurization', "'featurization' does not apply to image tasks");
  refuse(c, 'training', "'training' does not apply to image tasks (use 'training_parameters')");
  refuse(c, 'test_data', "'test_data' is not part of api-version 2024-04-01 for image tasks");
  for (const k of [
    'n_cross_validations',
    'cv_split_column_names',
    'weight_column_name',
    'positive_label',
    'test_data_size',
    'forecasting',
  ])
    refuse(c, k, `'${k}' does not apply to image tasks`);
  const vds = optNumber(src, [...p, 'validation_data_size'], m.validation_data_size);
  if (vds !== undefined) {
    c.rest.validationDataSize = vds;
    c.node.validation_data_size = vds;
  }
  const od = info.taskType === 'ImageObjectDetection' || info.taskType === 'ImageInstanceSegmentation';
  const members = [...IMAGE_SETTINGS, ...(od ? IMAGE_OD_SETTINGS : IMAGE_CLASSIFICATION_SETTINGS)];
  const bySnake = new Map(members.map((k) => [camelToSnake(k), k]));
  // training_parameters → modelSettings (ImageModelSettings* entities: snake → camel, enum values in REST spelling)
  const tpp = [...p, 'training_parameters'];
  const tp = optMap(src, tpp, m.training_parameters);
  if (tp) {
    const rest: Record<string, unknown> = {};
    const node: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(tp)) {
      const key = bySnake.get(k);
      if (!key)
        throw src.error(
          [...tpp, k],
          `unknown training parameter for ${c.m.task} (allowed: ${[...bySnake.keys()].join(', ')})`,
        );
      if (v === null || v === undefined) continue;
      const e = IMAGE_ENUM_SETTINGS[key];
      const val = e ? enumValue(src, [...tpp, k], v, ENUMS[e], k.replace(/_/g, ' ')) : v;
      if (isPlainObject(val) || Array.isArray(val))
        throw src.error([...tpp, k], `expected a plain value, got ${describe(v)}`);
      rest[key] = val;
      node[k] = e ? camelToSnake(val as string) : val;
    }
    c.rest.modelSettings = rest;
    c.node.training_parameters = node;
  }
  // sweep → sweepSettings (ImageSweepSettings: samplingAlgorithm required)
  const swp = [...p, 'sweep'];
  const sw = optMap(src, swp, m.sweep);
  if (sw) {
    checkKeys(src, swp, sw, ['sampling_algorithm', 'early_termination'], 'sweep settings');
    const sa = sw.sampling_algorithm;
    const saText = isPlainObject(sa) ? sa.type : sa;
    if (saText === undefined || saText === null)
      throw src.error([...swp, 'sampling_algorithm'], 'sweep needs a sampling_algorithm (random, grid, bayesian)');
    const algo = enumValue(
      src,
      [...swp, 'sampling_algorithm'],
      saText,
      ENUMS.SamplingAlgorithmType,
      'sampling algorithm',
    );
    const et = earlyTermination(src, [...swp, 'early_termination'], sw.early_termination);
    // 1.4.0 BanditPolicy(slack_amount=0, slack_factor=0): both are sent
    if (et?.policyType === 'Bandit') {
      et.slackAmount ??= 0;
      et.slackFactor ??= 0;
    }
    c.rest.sweepSettings = stripUndef({ earlyTermination: et, samplingAlgorithm: algo });
    c.node.sweep = stripUndef({
      early_termination: et
        ? stripUndef({
            delay_evaluation: et.delayEvaluation,
            evaluation_interval: et.evaluationInterval,
            slack_amount: et.slackAmount,
            slack_factor: et.slackFactor,
            truncation_percentage: et.truncationPercentage,
            type: camelToSnake(String(et.policyType)),
          })
        : undefined,
      sampling_algorithm: algo.toLowerCase(),
    });
  }
  // search_space → list of ImageModelDistributionSettings* (every value a distribution string)
  const ssp = [...p, 'search_space'];
  if (m.search_space !== undefined && m.search_space !== null) {
    if (!Array.isArray(m.search_space))
      throw src.error(ssp, `expected a list of search spaces, got ${describe(m.search_space)}`);
    const rest: Record<string, string>[] = [];
    const node: Record<string, string>[] = [];
    m.search_space.forEach((space, i) => {
      const sm = expectMap(src, [...ssp, i], space);
      const r: Record<string, string> = {};
      const n: Record<string, string> = {};
      for (const [k, v] of Object.entries(sm)) {
        const key = bySnake.get(k);
        if (!key || IMAGE_FIXED_ONLY.includes(key))
          throw src.error([...ssp, i, k], `unknown search space parameter for ${c.m.task}`);
        r[key] = n[k] = distributionText(src, [...ssp, i, k], v);
      }
      rest.push(r);
      node.push(n);
    });
    c.rest.searchSpace = rest;
    c.node.search_space = node;
  }
}

function parseNlp(c: Ctx): void {
  const { src, m } = c;
  const p = c.p;
  for (const k of ['sweep', 'search_space', 'training_parameters'])
    refuse(
      c,
      k,
      `'${k}' for NLP AutoML tasks is not part of api-version 2024-04-01 (NlpVertical has no ${k === 'sweep' ? 'sweepSettings' : k === 'search_space' ? 'searchSpace' : 'fixedParameters'})`,
    );
  for (const k of [
    'test_data',
    'test_data_size',
    'validation_data_size',
    'n_cross_validations',
    'cv_split_column_names',
    'weight_column_name',
    'positive_label',
    'forecasting',
    'training',
  ])
    refuse(c, k, `'${k}' does not apply to NLP tasks at api-version 2024-04-01`);
  const fp = [...p, 'featurization'];
  const f = optMap(src, fp, m.featurization);
  if (f) {
    checkKeys(src, fp, f, ['dataset_language'], 'NLP featurization');
    const lang = optString(src, [...fp, 'dataset_language'], f.dataset_language);
    c.rest.featurizationSettings = stripUndef({ datasetLanguage: lang });
    c.node.featurization = stripUndef({ dataset_language: lang });
  }
}

export type EarlyTerminationParser = (src: YamlSource, p: KeyPath, v: unknown) => Record<string, unknown> | undefined;

/**
 * The AutoML part of a job or step mapping `m` at `p` (data inputs excepted: the caller parses them as inputs).
 * `earlyTermination` is jobSpec's early_termination parser (the sweep job's).
 */
export function parseAutoMLTask(
  src: YamlSource,
  p: KeyPath,
  m: Record<string, unknown>,
  warnings: string[],
  earlyTermination: EarlyTerminationParser,
  where: 'job' | 'node',
): AutoMLTask {
  const taskText = reqString(src, [...p, 'task'], m.task, "an AutoML job's 'task'");
  const task = taskText.trim().toLowerCase();
  const info = TASKS[task];
  if (!info)
    throw src.error([...p, 'task'], `unknown AutoML task '${taskText}' (one of ${Object.keys(TASKS).join(', ')})`);
  if (m.training_data === undefined || m.training_data === null)
    throw src.error([...p, 'training_data'], `an AutoML ${task} job needs 'training_data' (an mltable input)`);
  const target = optString(src, [...p, 'target_column_name'], m.target_column_name);
  if (target === undefined && task !== 'text_ner')
    throw src.error([...p, 'target_column_name'], `an AutoML ${task} job needs 'target_column_name'`);
  const logVerbosity = enumValue(
    src,
    [...p, 'log_verbosity'],
    m.log_verbosity ?? 'info',
    ENUMS.LogVerbosity,
    'log verbosity',
  );
  const metric =
    m.primary_metric === undefined || m.primary_metric === null
      ? info.defaultMetric
      : enumValue(src, [...p, 'primary_metric'], m.primary_metric, info.metrics, `primary metric for ${task}`);
  const c: Ctx = {
    src,
    p,
    m,
    warnings,
    info,
    where,
    rest: stripUndef({
      taskType: info.taskType,
      logVerbosity,
      targetColumnName: target,
      primaryMetric: info.metricReadOnly ? undefined : metric,
    }),
    node: stripUndef({
      task,
      log_verbosity: camelToSnake(logVerbosity),
      primary_metric: camelToSnake(metric),
      target_column_name: target,
    }),
  };
  if (info.family === 'tabular') parseTabular(c);
  else if (info.family === 'image') parseImage(c, earlyTermination);
  else parseNlp(c);
  parseLimits(c);
  return { task, taskType: info.taskType, rest: c.rest, node: c.node };
}

/** The REST data member of an AutoML data key. */
export function restDataKey(k: AutoMLDataKey): 'trainingData' | 'validationData' | 'testData' {
  return k === 'training_data' ? 'trainingData' : k === 'validation_data' ? 'validationData' : 'testData';
}

// ---------------------------------------------------------------------------------------------- jobs and steps

/** What jobSpec.ts lends the parser: its common-key list and parsers (passed in: the modules do not import each other). */
export interface AutoMLParseKit {
  commonKeys: readonly string[];
  parseCommon(src: YamlSource, root: Record<string, unknown>, opts: ParseJobOptions, type: string): JobCommon;
  parseInputs(src: YamlSource, p: KeyPath, v: unknown, where: 'job' | 'pipeline' | 'node'): Record<string, InputSpec>;
  parseOutputs(src: YamlSource, p: KeyPath, v: unknown, node: boolean, warnings?: string[]): Record<string, OutputSpec>;
  parseResources(src: YamlSource, p: KeyPath, v: unknown): Record<string, unknown> | undefined;
  parseEarlyTermination: EarlyTerminationParser;
}

/** What jobSpec.ts lends the builder, bound to its resolver recorder. */
export interface AutoMLBuildKit {
  commonProps(spec: JobCommon, jobType: string): Promise<Record<string, unknown>>;
  inputUri(i: Extract<InputSpec, { kind: 'asset' }>): Promise<string>;
  resolveCompute(value: string | undefined): Promise<string | undefined>;
  restOutputs(outputs: Record<string, OutputSpec>): Record<string, unknown> | undefined;
  nodeOutputs(outputs: Record<string, OutputSpec>): Record<string, unknown>;
}

/** training/validation/test data: an mltable input (a job's) or, in a step, a `${{parent…}}` binding as well */
function parseAutoMLData(
  src: YamlSource,
  p: KeyPath,
  m: Record<string, unknown>,
  where: 'job' | 'node',
  kit: AutoMLParseKit,
): Record<string, InputSpec> {
  const given = Object.fromEntries(AUTOML_DATA_KEYS.filter((k) => m[k] != null).map((k) => [k, m[k]]));
  const data = kit.parseInputs(src, p, given, where);
  for (const [k, i] of Object.entries(data))
    if (i.kind === 'literal' || (i.kind === 'asset' && i.type !== 'mltable'))
      throw src.error(
        [...p, k],
        `AutoML '${k}' must be an mltable input (type: mltable, path: …)${where === 'node' ? ' or a ${{parent…}} binding' : ''}`,
      );
  return data;
}

/** A `type: automl` job file: the common job keys (no `inputs`: AutoMLJob has none) and AutoMLJob's own. */
export function parseAutoMLJob(
  src: YamlSource,
  root: Record<string, unknown>,
  opts: ParseJobOptions,
  kit: AutoMLParseKit,
): AutoMLJobSpec {
  const keys = [
    ...kit.commonKeys.filter((k) => k !== 'inputs'),
    ...AUTOML_KEYS,
    'resources',
    'environment_variables',
    'queue_settings',
  ];
  checkKeys(src, [], root, keys, 'an AutoML job');
  const common = kit.parseCommon(src, root, opts, 'automl');
  return {
    type: 'automl',
    ...common,
    automl: parseAutoMLTask(src, [], root, common.warnings, kit.parseEarlyTermination, 'job'),
    data: parseAutoMLData(src, [], root, 'job', kit),
    resources: kit.parseResources(src, ['resources'], root.resources),
    environmentVariables: optStringMap(src, ['environment_variables'], root.environment_variables),
  };
}

const NODE_KEYS = ['type', 'name', 'compute', 'display_name', 'description', 'tags', 'properties', 'outputs'];

/** An automl step of a pipeline (azure-ai-ml's AutoML node: no component, the AutoML job's keys). */
export function parseAutoMLNode(
  src: YamlSource,
  p: KeyPath,
  key: string,
  m: Record<string, unknown>,
  warnings: string[],
  kit: AutoMLParseKit,
): PipelineNodeSpec {
  checkKeys(src, p, m, [...NODE_KEYS, ...AUTOML_KEYS], 'an automl pipeline step');
  return {
    key,
    type: 'automl',
    // no component: az ml sends the AutoML job itself as the step (AutoMLJob._to_dict)
    component: { kind: 'ref', ref: { kind: 'uri', uri: 'automl' }, text: 'automl' },
    compute: optString(src, [...p, 'compute'], m.compute),
    displayName: optString(src, [...p, 'display_name'], m.display_name),
    description: optString(src, [...p, 'description'], m.description),
    tags: optStringMap(src, [...p, 'tags'], m.tags),
    properties: optStringMap(src, [...p, 'properties'], m.properties),
    inputs: {},
    outputs: kit.parseOutputs(src, [...p, 'outputs'], m.outputs, true, warnings),
    automl: {
      task: parseAutoMLTask(src, p, m, warnings, kit.parseEarlyTermination, 'node'),
      data: parseAutoMLData(src, p, m, 'node', kit),
    },
  };
}

/** MLTableJobInput of a job (`{jobInputType, uri}`, as 1.4.0 AutoMLJob._resolve_data_inputs), a step's binding text. */
async function automlData(i: InputSpec, where: 'job' | 'node', kit: AutoMLBuildKit): Promise<unknown> {
  if (i.kind !== 'asset') return i.value;
  const uri = await kit.inputUri(i);
  return where === 'job' ? { jobInputType: 'mltable', uri } : { job_input_type: 'mltable', uri };
}

/** AutoMLJob properties (JobBase's common members, then environmentVariables, outputs, resources, taskDetails). */
export async function buildAutoMLJob(spec: AutoMLJobSpec, kit: AutoMLBuildKit): Promise<Record<string, unknown>> {
  const props = await kit.commonProps(spec, 'AutoML');
  const taskDetails: Record<string, unknown> = { ...spec.automl.rest };
  for (const [k, i] of Object.entries(spec.data))
    taskDetails[restDataKey(k as AutoMLDataKey)] = await automlData(i, 'job', kit);
  return Object.assign(
    props,
    stripUndef({
      environmentVariables: spec.environmentVariables,
      outputs: kit.restOutputs(spec.outputs),
      resources: spec.resources,
      queueSettings: spec.queueSettings,
      taskDetails,
    }),
  );
}

/**
 * An automl step as azure-ai-ml 1.4.0 puts it in `jobs` (AutoMLJob._to_dict: YAML keys, snake_case enum values,
 * data as binding text). Differences, decided: an mltable asset given inline is sent as `{job_input_type, uri}` (1.4.0
 * sends the Python repr of the input dict, a defect); `compute` carries the resolved compute id (as the CLI resolves
 * every step's compute before sending); empty `tags`/`properties` are left out.
 */
export async function buildAutoMLNode(
  node: PipelineNodeSpec,
  automl: NonNullable<PipelineNodeSpec['automl']>,
  kit: AutoMLBuildKit,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {
    name: node.key,
    type: 'automl',
    ...(node.displayName !== undefined ? { display_name: node.displayName } : {}),
    ...(node.description !== undefined ? { description: node.description } : {}),
    ...(node.tags ? { tags: node.tags } : {}),
    ...(node.properties ? { properties: node.properties } : {}),
  };
  const compute = await kit.resolveCompute(node.compute);
  if (compute) out.compute = compute;
  Object.assign(out, automl.task.node);
  for (const [k, i] of Object.entries(automl.data)) out[k] = await automlData(i, 'node', kit);
  out.outputs = kit.nodeOutputs(node.outputs);
  return out;
}
