// `az ml job create -f` YAML (command, sweep, pipeline, spark jobs; command/parallel/spark components and spark/sweep
// steps: sparkSpec.ts, sweepStep.ts) → Azure ML 2024-04-01
// Jobs_CreateOrUpdate body. Pure translation: files are never read here except the YAML files themselves (job and
// file-referenced components); uploads, environments, components, asset and compute lookups go through the
// injected SpecResolver. Bodies are built by hand because the SDK serializer drops job inputs' `uri`/`mode`.
import path from 'node:path';
import {
  applyOverrides,
  assetRefText,
  checkKeys,
  computeRef,
  contentHash as hash,
  describe,
  expectMap,
  isPlainObject,
  loadYaml,
  optBool,
  optDuration,
  isPyFloatText,
  optInt,
  optMap,
  optNumber,
  optString,
  optStringMap,
  parseInlineEnvironment,
  parseRef,
  pyFloatRepr,
  pyStr,
  reqString,
  SpecError,
  YamlSource,
  SEARCH_SPACE_DISTRIBUTIONS,
  snake,
  stripUndef,
} from './yamlSpec';
import type { AssetKind, InlineEnvironment, KeyPath, Ref } from './yamlSpec';
import { buildAutoMLJob, buildAutoMLNode, parseAutoMLJob, parseAutoMLNode } from './automlSpec';
import type { AutoMLBuildKit, AutoMLParseKit, AutoMLTask } from './automlSpec';
import {
  checkDirectModes,
  parseSparkPart,
  parseSparkResources,
  restSparkProps,
  sparkComponentFields,
  sparkIdentity,
  sparkNodeFields,
  SPARK_PART_KEYS,
  type SparkPart,
} from './sparkSpec';
import { parseSweepNode, sweepNodeFields, SWEEP_NODE_KEYS } from './sweepStep';

export { SpecError } from './yamlSpec';
export type { AssetKind, InlineEnvironment, Ref } from './yamlSpec';

/** Thrown for every problem in a job YAML or its overrides; message names file(:line) and key path. */
export class JobSpecError extends SpecError {
  override name = 'JobSpecError';
}

// ---------------------------------------------------------------------------------------------- resolver

/** A component version to create (ComponentVersions_CreateOrUpdate body under name/version). */
export interface ComponentVersionRequest {
  name: string;
  version: string;
  body: {
    properties: {
      componentSpec: Record<string, unknown>;
      description?: string;
      tags?: Record<string, string>;
      isAnonymous?: boolean;
    };
  };
}

/** Everything that touches Azure (or the local disk beyond the YAML files), injected. */
export interface SpecResolver {
  /** '/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{w}' */
  wsPath: string;
  /** Upload a local code folder (or file) as a code version; returns its ARM id. */
  uploadCode(localPath: string): Promise<string>;
  /** Upload a local file/folder used as a job input; returns its azureml:// URI. */
  uploadLocalPath(localPath: string, assetType: string): Promise<string>;
  /** Create (or reuse) an environment version for an inline environment; returns its ARM id. */
  ensureEnvironment(env: InlineEnvironment): Promise<string>;
  /** Create (or reuse) a component version; returns its ARM id. */
  ensureComponent(component: ComponentVersionRequest): Promise<string>;
  /** `azureml:name:version` / `azureml:name@latest` (or `azureml:name`) of the given kind → ARM id. */
  resolveAsset(kind: AssetKind, ref: string): Promise<string>;
  /** Compute name → ARM id (may check that it exists). */
  computeId(name: string): Promise<string>;
}

// ---------------------------------------------------------------------------------------------- spec types

export type AssetIoType = 'uri_file' | 'uri_folder' | 'mltable' | 'mlflow_model' | 'custom_model' | 'triton_model';
const ASSET_TYPES: readonly AssetIoType[] = [
  'uri_file',
  'uri_folder',
  'mltable',
  'mlflow_model',
  'custom_model',
  'triton_model',
];
const LITERAL_TYPES = ['string', 'integer', 'number', 'boolean'] as const;
type LiteralType = (typeof LITERAL_TYPES)[number];

const INPUT_MODES: Record<string, string> = {
  ro_mount: 'ReadOnlyMount',
  mount: 'ReadOnlyMount',
  rw_mount: 'ReadWriteMount',
  download: 'Download',
  direct: 'Direct',
  eval_mount: 'EvalMount',
  eval_download: 'EvalDownload',
};
const OUTPUT_MODES: Record<string, string> = {
  rw_mount: 'ReadWriteMount',
  mount: 'ReadWriteMount',
  upload: 'Upload',
  direct: 'Direct',
};

export type InputSpec =
  | { kind: 'literal'; value: string; literalType: LiteralType; at: string }
  | { kind: 'binding'; value: string; at: string; type?: string; mode?: string; modeText?: string }
  | { kind: 'asset'; type: AssetIoType; ref: Ref; mode?: string; modeText?: string; description?: string; at: string };

export type OutputSpec =
  | { kind: 'binding'; value: string; mode?: string; modeText?: string; type?: string; at: string }
  | { kind: 'asset'; type: AssetIoType; ref?: Ref; mode?: string; modeText?: string; description?: string; at: string };

export type EnvironmentSpec = { kind: 'inline'; env: InlineEnvironment } | { kind: 'ref'; ref: Ref; text: string };

export interface CommandPart {
  command: string;
  code?: Ref;
  environment: EnvironmentSpec;
  environmentVariables?: Record<string, string>;
  distribution?: Record<string, unknown>; // REST shape (camelCase)
  resources?: Record<string, unknown>; // REST shape (camelCase)
}

export interface JobCommon {
  file: string;
  name?: string;
  displayName?: string;
  description?: string;
  tags?: Record<string, string>;
  properties?: Record<string, string>;
  experimentName: string;
  compute?: string;
  identity?: Record<string, unknown>;
  services?: Record<string, Record<string, unknown>>;
  inputs: Record<string, InputSpec>;
  outputs: Record<string, OutputSpec>;
  /** `queue_settings` → REST queueSettings ({ jobTier }) */
  queueSettings?: Record<string, unknown>;
  /** `notification_setting` → REST notificationSetting ({ emails, emailOn }) */
  notificationSetting?: Record<string, unknown>;
  /** Things accepted but not expressible at api-version 2024-04-01 (dropped, to be printed as warnings). */
  warnings: string[];
}

export interface CommandJobSpec extends JobCommon, CommandPart {
  type: 'command';
  limits?: { timeout?: string };
}

export interface SweepJobSpec extends JobCommon {
  type: 'sweep';
  trial: CommandPart;
  samplingAlgorithm: Record<string, unknown>;
  searchSpace: Record<string, unknown>;
  objective: { goal: 'Minimize' | 'Maximize'; primaryMetric: string };
  limits?: Record<string, unknown>;
  earlyTermination?: Record<string, unknown>;
}

export interface ComponentSpec {
  type: 'command' | 'parallel' | 'pipeline' | 'spark';
  file?: string;
  name?: string;
  version?: string;
  displayName?: string;
  description?: string;
  tags?: Record<string, string>;
  isDeterministic?: boolean;
  inputs: Record<string, Record<string, unknown>>; // input definitions (YAML shape)
  outputs: Record<string, Record<string, unknown>>; // output definitions (YAML shape)
  command?: CommandPart;
  parallel?: { task: Record<string, unknown>; code?: Ref; environment: EnvironmentSpec; rest: Record<string, unknown> };
  /** a pipeline component: its steps (bindings to `parent` name the component's own inputs/outputs) */
  pipeline?: { jobs: Record<string, PipelineNodeSpec>; scope: PipelineJobSpec };
  spark?: SparkPart;
}

export type ComponentRefSpec = { kind: 'inline'; component: ComponentSpec } | { kind: 'ref'; ref: Ref; text: string };

export interface PipelineNodeSpec {
  key: string;
  type: 'command' | 'parallel' | 'pipeline' | 'automl' | 'spark' | 'sweep';
  component: ComponentRefSpec;
  compute?: string;
  displayName?: string;
  description?: string;
  tags?: Record<string, string>;
  properties?: Record<string, string>;
  inputs: Record<string, InputSpec>;
  outputs: Record<string, OutputSpec>;
  environmentVariables?: Record<string, string>;
  resources?: Record<string, unknown>; // REST shape (camelCase); rendered snake_case in the node
  distribution?: Record<string, unknown>;
  limits?: { timeout?: string };
  identity?: Record<string, unknown>;
  /** parallel node settings (snake_case, passed as azure-ai-ml sends them) */
  parallel?: Record<string, unknown>;
  /** an automl step (automlSpec.ts): its task and its training/validation/test data */
  automl?: { task: AutoMLTask; data: Record<string, InputSpec> };
  /** a spark step's serverless resources (REST shape) */
  sparkResources?: Record<string, string>;
  /** a sweep step's own fields (sweepStep.ts: YAML shape, as azure-ai-ml puts them in the node) */
  sweep?: Record<string, unknown>;
}

export interface PipelineJobSpec extends JobCommon {
  type: 'pipeline';
  settings: {
    defaultCompute?: string;
    defaultDatastore?: string;
    continueOnStepFailure?: boolean;
    forceRerun?: boolean;
    extra?: Record<string, unknown>;
  };
  jobs: Record<string, PipelineNodeSpec>;
}

/** `type: automl` (automlSpec.ts): the task, its data inputs (mltable) and the job-level settings AutoMLJob has. */
export interface AutoMLJobSpec extends JobCommon {
  type: 'automl';
  automl: AutoMLTask;
  data: Record<string, InputSpec>;
  resources?: Record<string, unknown>;
  environmentVariables?: Record<string, string>;
}

export interface SparkJobSpec extends JobCommon {
  type: 'spark';
  spark: SparkPart;
  resources?: Record<string, string>;
}

export type JobSpec = CommandJobSpec | SweepJobSpec | PipelineJobSpec | AutoMLJobSpec | SparkJobSpec;

export interface ParseJobOptions {
  /** Folder relative paths are resolved against (default: the YAML file's folder). */
  baseDir?: string;
  /** `--set`-style overrides: `inputs.learning_rate=0.1`, `compute=azureml:gpu`, `jobs.train.inputs.x=1`. */
  overrides?: readonly string[];
  /** Values for `{{NAME}}` template placeholders. */
  variables?: Record<string, string>;
  /** Experiment name when the YAML has none (default: the YAML file's folder name). */
  defaultExperimentName?: string;
  /** YAML text instead of reading `file`. */
  text?: string;
}

// ---------------------------------------------------------------------------------------------- parsing

const COMMON_KEYS = [
  'type',
  'name',
  'display_name',
  'description',
  'tags',
  'properties',
  'experiment_name',
  'compute',
  'identity',
  'services',
  'inputs',
  'outputs',
  'notification_setting',
];
const COMMAND_KEYS = [
  ...COMMON_KEYS,
  'command',
  'code',
  'environment',
  'environment_variables',
  'resources',
  'distribution',
  'limits',
  'queue_settings',
];
const SWEEP_KEYS = [
  ...COMMON_KEYS,
  'trial',
  'sampling_algorithm',
  'search_space',
  'objective',
  'limits',
  'early_termination',
  'queue_settings',
];
const PIPELINE_KEYS = [...COMMON_KEYS, 'settings', 'jobs'];
const TRIAL_KEYS = ['command', 'code', 'environment', 'environment_variables', 'resources', 'distribution'];
const COMPONENT_FILE_KEYS = [
  'name',
  'version',
  'display_name',
  'description',
  'tags',
  'type',
  'inputs',
  'outputs',
  'command',
  'code',
  'environment',
  'distribution',
  'resources',
  'is_deterministic',
  'properties',
  'instance_count',
];
const NODE_COMMAND_KEYS = [
  'type',
  'name',
  'component',
  'compute',
  'display_name',
  'description',
  'tags',
  'properties',
  'inputs',
  'outputs',
  'command',
  'code',
  'environment',
  'environment_variables',
  'resources',
  'distribution',
  'limits',
  'identity',
  'services',
  'experiment_name',
];
const NODE_PIPELINE_KEYS = [
  'type',
  'name',
  'component',
  'compute',
  'display_name',
  'description',
  'tags',
  'properties',
  'inputs',
  'outputs',
  'settings',
];
const PIPELINE_COMPONENT_KEYS = [
  'type',
  'name',
  'version',
  'display_name',
  'description',
  'tags',
  'inputs',
  'outputs',
  'jobs',
  'is_deterministic',
];
const NODE_SPARK_KEYS = [
  'type',
  'name',
  'component',
  'compute',
  'display_name',
  'description',
  'tags',
  'properties',
  'inputs',
  'outputs',
  'resources',
  'identity',
  ...SPARK_PART_KEYS,
];
const NODE_PARALLEL_KEYS = [
  'type',
  'name',
  'component',
  'compute',
  'display_name',
  'description',
  'tags',
  'properties',
  'inputs',
  'outputs',
  'input_data',
  'mini_batch_size',
  'resources',
  'max_concurrency_per_instance',
  'logging_level',
  'mini_batch_error_threshold',
  'error_threshold',
  'retry_settings',
  'task',
  'environment_variables',
  'identity',
  'partition_keys',
];

function jerr(e: unknown): never {
  if (e instanceof SpecError && !(e instanceof JobSpecError)) {
    const j = new JobSpecError(e.message, { file: e.file, keyPath: e.keyPath, line: e.line });
    throw j;
  }
  throw e;
}

/** Default experiment name: the YAML file's folder name without spaces (az ml uses the current folder's). */
export function defaultExperimentName(yamlFile: string): string {
  return path.basename(path.dirname(path.resolve(yamlFile))).replace(/\s/g, '') || 'Default';
}

/** Reads a job YAML file (and the component files it names), applies overrides, validates every key. */
export function parseJobYaml(file: string, opts: ParseJobOptions = {}): JobSpec {
  try {
    const src = loadYaml(file, { text: opts.text, variables: opts.variables, baseDir: opts.baseDir });
    applyOverrides(src, opts.overrides);
    return parseJobSource(src, opts);
  } catch (e) {
    return jerr(e);
  }
}

/** Same as parseJobYaml but from text (file still names it and anchors relative paths). */
export function parseJobYamlText(text: string, file: string, opts: ParseJobOptions = {}): JobSpec {
  return parseJobYaml(file, { ...opts, text });
}

function schemaKind(root: Record<string, unknown>): string | undefined {
  const s = typeof root.$schema === 'string' ? root.$schema : '';
  const m = /\/([A-Za-z]+)\.schema\.json\s*$/.exec(s);
  return m?.[1];
}

function parseJobSource(src: YamlSource, opts: ParseJobOptions): JobSpec {
  const root = src.toJS() as Record<string, unknown>;
  const schema = schemaKind(root);
  if (schema && /Component$/i.test(schema)) {
    throw src.error(
      ['$schema'],
      `this file is a component definition (${schema}), not a job: reference it from a pipeline job's 'component:' instead`,
    );
  }
  if (schema && /(Endpoint|Deployment|Compute|model|data|environment)$/i.test(schema) && !/Job$/i.test(schema)) {
    throw src.error(['$schema'], `this file is not a job (${schema})`);
  }
  const typeRaw = root.type === undefined || root.type === null ? 'command' : optString(src, ['type'], root.type)!;
  const type = typeRaw.toLowerCase();
  switch (type) {
    case 'command':
      return parseCommandJob(src, root, opts);
    case 'sweep':
      return parseSweepJob(src, root, opts);
    case 'pipeline':
      return parsePipelineJob(src, root, opts);
    case 'automl':
      return parseAutoMLJob(src, root, opts, AUTOML_PARSE_KIT);
    case 'spark':
      return parseSparkJob(src, root, opts);
    case 'import':
    case 'parallel':
    case 'finetuning':
    case 'distillation':
      throw src.error(
        ['type'],
        `job type '${typeRaw}' is not supported by this task (supported: command, sweep, pipeline, spark, automl)`,
      );
    default:
      throw src.error(['type'], `unknown job type '${typeRaw}' (supported: command, sweep, pipeline, spark, automl)`);
  }
}

function parseCommon(src: YamlSource, root: Record<string, unknown>, opts: ParseJobOptions, type: string): JobCommon {
  const warnings: string[] = [];
  const name = optString(src, ['name'], root.name);
  if (name !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$/.test(name))
    throw src.error(
      ['name'],
      `job name '${name}' may only contain letters, digits, '-' and '_' (max 255, starting with a letter or digit)`,
    );
  const c: JobCommon = {
    file: src.file,
    name,
    displayName: optString(src, ['display_name'], root.display_name),
    description: optString(src, ['description'], root.description),
    tags: optStringMap(src, ['tags'], root.tags),
    properties: optStringMap(src, ['properties'], root.properties),
    experimentName:
      optString(src, ['experiment_name'], root.experiment_name) ||
      opts.defaultExperimentName ||
      defaultExperimentName(src.file),
    compute: optString(src, ['compute'], root.compute),
    identity: parseIdentity(src, ['identity'], root.identity),
    services: parseServices(src, ['services'], root.services),
    inputs: parseInputs(src, ['inputs'], root.inputs, type === 'pipeline' ? 'pipeline' : 'job'),
    outputs: parseOutputs(src, ['outputs'], root.outputs, false, warnings),
    queueSettings: parseQueueSettings(src, ['queue_settings'], root.queue_settings, warnings),
    notificationSetting: parseNotificationSetting(src, ['notification_setting'], root.notification_setting),
    warnings,
  };
  if (c.compute !== undefined && /^local$/i.test(c.compute.trim()))
    throw src.error(
      ['compute'],
      'local runs are not supported by this task: name an Azure ML compute (e.g. azureml:cpu-cluster)',
    );
  return c;
}

// azure-ai-ml's JobTierNames.ENTITY_TO_REST (entities/_job/queue_settings.py): YAML spelling → REST JobTier
const JOB_TIERS: Record<string, string> = {
  null: 'Null',
  spot: 'Spot',
  basic: 'Basic',
  standard: 'Standard',
  premium: 'Premium',
};

/** `queue_settings: { job_tier: spot }` → `{ jobTier: 'Spot' }` (2024-04-01 QueueSettings has no `priority`). */
function parseQueueSettings(
  src: YamlSource,
  p: KeyPath,
  v: unknown,
  warnings: string[],
): Record<string, unknown> | undefined {
  const m = optMap(src, p, v);
  if (!m) return undefined;
  checkKeys(src, p, m, ['job_tier', 'priority'], 'queue_settings');
  if (m.priority !== undefined)
    warnings.push(
      `${src.where([...p, 'priority'])}: 'queue_settings.priority' is not part of api-version 2024-04-01 and was ignored`,
    );
  const tier = optString(src, [...p, 'job_tier'], m.job_tier);
  if (tier === undefined) return undefined;
  const rest = JOB_TIERS[tier.toLowerCase()];
  if (!rest) throw src.error([...p, 'job_tier'], `unknown job tier '${tier}' (${Object.keys(JOB_TIERS).join(', ')})`);
  return { jobTier: rest };
}

// azure-ai-ml EmailNotificationEnableType: job_completed, job_failed, job_cancelled → REST JobCompleted, …
const EMAIL_ON: Record<string, string> = {
  job_completed: 'JobCompleted',
  job_failed: 'JobFailed',
  job_cancelled: 'JobCancelled',
};

/** `notification_setting: { emails: [...], email_on: [job_completed, …] }` → REST notificationSetting. */
function parseNotificationSetting(src: YamlSource, p: KeyPath, v: unknown): Record<string, unknown> | undefined {
  const m = optMap(src, p, v);
  if (!m) return undefined;
  checkKeys(src, p, m, ['emails', 'email_on'], 'notification_setting');
  const list = (k: string) => {
    const x = m[k];
    if (x === undefined || x === null) return undefined;
    if (!Array.isArray(x)) throw src.error([...p, k], `expected a list, got ${describe(x)}`);
    return x.map((e, i) => reqString(src, [...p, k, i], e, 'a value'));
  };
  const emails = list('emails');
  const emailOn = list('email_on')?.map((e, i) => {
    const r = EMAIL_ON[e.toLowerCase()];
    if (!r) throw src.error([...p, 'email_on', i], `unknown notification '${e}' (${Object.keys(EMAIL_ON).join(', ')})`);
    return r;
  });
  return stripUndef({ emails, emailOn });
}

function parseCommandPart(src: YamlSource, p: KeyPath, o: Record<string, unknown>, what: string): CommandPart {
  if (o.command === undefined || o.command === null || (typeof o.command === 'string' && !o.command.trim()))
    throw src.error([...p, 'command'], `${what} needs a 'command'`);
  const command = reqString(src, [...p, 'command'], o.command, 'command');
  if (o.environment === undefined || o.environment === null)
    throw src.error(
      [...p, 'environment'],
      `${what} needs an 'environment' (a reference like azureml:name:version or an inline image)`,
    );
  return {
    command,
    code: parseCode(src, [...p, 'code'], o.code),
    environment: parseEnvironment(src, [...p, 'environment'], o.environment),
    environmentVariables: optStringMap(src, [...p, 'environment_variables'], o.environment_variables),
    distribution: parseDistribution(src, [...p, 'distribution'], o.distribution),
    resources: parseResources(src, [...p, 'resources'], o.resources),
  };
}

function parseCommandJob(src: YamlSource, root: Record<string, unknown>, opts: ParseJobOptions): CommandJobSpec {
  checkKeys(src, [], root, COMMAND_KEYS, 'a command job');
  const common = parseCommon(src, root, opts, 'command');
  const part = parseCommandPart(src, [], root, 'a command job');
  const limits = optMap(src, ['limits'], root.limits);
  let lim: CommandJobSpec['limits'];
  if (limits) {
    checkKeys(src, ['limits'], limits, ['timeout'], 'command job limits');
    lim = { timeout: optDuration(src, ['limits', 'timeout'], limits.timeout) };
  }
  checkInputRefs(src, ['command'], part.command, common.inputs, common.outputs);
  return { type: 'command', ...common, ...part, limits: lim };
}

function parseSweepJob(src: YamlSource, root: Record<string, unknown>, opts: ParseJobOptions): SweepJobSpec {
  checkKeys(src, [], root, SWEEP_KEYS, 'a sweep job');
  const common = parseCommon(src, root, opts, 'sweep');
  if (root.trial === undefined || root.trial === null)
    throw src.error(['trial'], "a sweep job needs a 'trial' (command, code, environment)");
  const trialMap = expectMap(src, ['trial'], root.trial);
  if (typeof trialMap.component !== 'undefined')
    throw src.error(
      ['trial', 'component'],
      'trial components by reference are not supported: write the trial inline (command, code, environment)',
    );
  checkKeys(src, ['trial'], trialMap, TRIAL_KEYS, 'a sweep trial');
  const trial = parseCommandPart(src, ['trial'], trialMap, 'a sweep trial');
  if (root.search_space === undefined) throw src.error(['search_space'], "a sweep job needs a 'search_space'");
  const ss = expectMap(src, ['search_space'], root.search_space);
  const searchSpace: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ss)) searchSpace[k] = parseDistributionValue(src, ['search_space', k], v);
  if (root.objective === undefined)
    throw src.error(['objective'], "a sweep job needs an 'objective' (goal, primary_metric)");
  const obj = expectMap(src, ['objective'], root.objective);
  checkKeys(src, ['objective'], obj, ['goal', 'primary_metric'], 'objective');
  const goal = reqString(src, ['objective', 'goal'], obj.goal, 'objective.goal');
  if (!/^(minimize|maximize)$/i.test(goal))
    throw src.error(['objective', 'goal'], `expected minimize or maximize, got '${goal}'`);
  const objective = {
    goal: (/^min/i.test(goal) ? 'Minimize' : 'Maximize') as 'Minimize' | 'Maximize',
    primaryMetric: reqString(src, ['objective', 'primary_metric'], obj.primary_metric, 'objective.primary_metric'),
  };
  if (root.sampling_algorithm === undefined)
    throw src.error(['sampling_algorithm'], "a sweep job needs a 'sampling_algorithm' (random, grid or bayesian)");
  const samplingAlgorithm = parseSampling(src, ['sampling_algorithm'], root.sampling_algorithm);
  let limits: Record<string, unknown> | undefined;
  const lm = optMap(src, ['limits'], root.limits);
  if (lm) {
    checkKeys(
      src,
      ['limits'],
      lm,
      ['max_total_trials', 'max_concurrent_trials', 'timeout', 'trial_timeout'],
      'sweep limits',
    );
    limits = stripUndef({
      jobLimitsType: 'Sweep',
      maxTotalTrials: optInt(src, ['limits', 'max_total_trials'], lm.max_total_trials, 1),
      maxConcurrentTrials: optInt(src, ['limits', 'max_concurrent_trials'], lm.max_concurrent_trials, 1),
      timeout: optDuration(src, ['limits', 'timeout'], lm.timeout),
      trialTimeout: optDuration(src, ['limits', 'trial_timeout'], lm.trial_timeout),
    });
  }
  const earlyTermination = parseEarlyTermination(src, ['early_termination'], root.early_termination);
  checkInputRefs(src, ['trial', 'command'], trial.command, common.inputs, common.outputs, Object.keys(searchSpace));
  return { type: 'sweep', ...common, trial, samplingAlgorithm, searchSpace, objective, limits, earlyTermination };
}

/** `type: spark` (sparkSpec.ts): compute (attached Synapse pool) or serverless `resources`, inputs/outputs direct. */
function parseSparkJob(src: YamlSource, root: Record<string, unknown>, opts: ParseJobOptions): SparkJobSpec {
  checkKeys(src, [], root, [...COMMON_KEYS, ...SPARK_PART_KEYS, 'resources', 'queue_settings'], 'a spark job');
  const common = parseCommon(src, root, opts, 'spark');
  const spark = parseSparkPart(src, [], root, 'a spark job', { parseCode, parseEnvironment }, { requireConf: true });
  if (!spark.code) throw src.error(['code'], "a spark job needs 'code' (the folder holding the entry file)");
  const resources = parseSparkResources(src, ['resources'], root.resources);
  // spark_helpers._validate_compute_or_resources
  if (!common.compute && !resources)
    throw src.error(['compute'], "a spark job needs 'compute' (an attached Spark pool) or serverless 'resources'");
  if (common.compute && resources)
    throw src.error(['resources'], "give either 'compute' or 'resources' for a spark job, not both");
  checkDirectModes(common.inputs, common.outputs);
  checkInputRefs(src, ['args'], spark.args ?? '', common.inputs, common.outputs);
  common.identity = sparkIdentity(common.identity, common.compute, resources);
  return { type: 'spark', ...common, spark, resources };
}

/** One search_space entry → REST list form, as azure-ai-ml's SweepDistribution._to_rest_object. */
function parseDistributionValue(src: YamlSource, p: KeyPath, v: unknown): unknown[] {
  const m = expectMap(src, p, v, 'a distribution (type: choice/uniform/…)');
  const t = reqString(src, [...p, 'type'], m.type, 'type').toLowerCase();
  const fields = SEARCH_SPACE_DISTRIBUTIONS[t];
  if (!fields)
    throw src.error(
      [...p, 'type'],
      `unknown distribution '${String(m.type)}' (one of ${Object.keys(SEARCH_SPACE_DISTRIBUTIONS).join(', ')})`,
    );
  checkKeys(src, p, m, ['type', ...fields], `a ${t} distribution`);
  if (t === 'choice') {
    if (!Array.isArray(m.values) || m.values.length === 0)
      throw src.error([...p, 'values'], 'choice needs a non-empty list of values');
    const items = m.values.map((val, i) => {
      if (isPlainObject(val)) {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(val))
          out[k] = isPlainObject(x) && 'type' in x ? parseDistributionValue(src, [...p, 'values', i, k], x) : x;
        return out;
      }
      return val;
    });
    return ['choice', [items]];
  }
  const args = fields.map((f) => {
    const n = optNumber(src, [...p, f], m[f]);
    if (n === undefined) throw src.error([...p, f], `${t} needs '${f}'`);
    return n;
  });
  return [t, args];
}

function parseSampling(src: YamlSource, p: KeyPath, v: unknown): Record<string, unknown> {
  const names: Record<string, string> = { random: 'Random', grid: 'Grid', bayesian: 'Bayesian' };
  if (typeof v === 'string') {
    const t = names[v.toLowerCase()];
    if (!t) throw src.error(p, `unknown sampling algorithm '${v}' (random, grid, bayesian)`);
    return { samplingAlgorithmType: t };
  }
  const m = expectMap(src, p, v, 'a sampling algorithm name or mapping');
  const typeText = reqString(src, [...p, 'type'], m.type, 'type');
  const t = names[typeText.toLowerCase()];
  if (!t) throw src.error([...p, 'type'], `unknown sampling algorithm '${typeText}' (random, grid, bayesian)`);
  checkKeys(src, p, m, t === 'Random' ? ['type', 'seed', 'rule'] : ['type'], `${typeText} sampling`);
  const out: Record<string, unknown> = { samplingAlgorithmType: t };
  if (t === 'Random') {
    const seed = optInt(src, [...p, 'seed'], m.seed);
    if (seed !== undefined) out.seed = seed;
    const rule = optString(src, [...p, 'rule'], m.rule);
    if (rule !== undefined) {
      if (!/^(random|sobol)$/i.test(rule)) throw src.error([...p, 'rule'], `expected random or sobol, got '${rule}'`);
      out.rule = /^sobol$/i.test(rule) ? 'Sobol' : 'Random';
    }
  }
  return out;
}

function parseEarlyTermination(src: YamlSource, p: KeyPath, v: unknown): Record<string, unknown> | undefined {
  const m = optMap(src, p, v);
  if (!m) return undefined;
  const t = reqString(src, [...p, 'type'], m.type, 'type').toLowerCase();
  const base = ['type', 'evaluation_interval', 'delay_evaluation'];
  const common = stripUndef({
    evaluationInterval: optInt(src, [...p, 'evaluation_interval'], m.evaluation_interval, 0),
    delayEvaluation: optInt(src, [...p, 'delay_evaluation'], m.delay_evaluation, 0),
  });
  if (t === 'bandit') {
    checkKeys(src, p, m, [...base, 'slack_factor', 'slack_amount'], 'a bandit policy');
    return stripUndef({
      policyType: 'Bandit',
      ...common,
      slackFactor: optNumber(src, [...p, 'slack_factor'], m.slack_factor),
      slackAmount: optNumber(src, [...p, 'slack_amount'], m.slack_amount),
    });
  }
  if (t === 'median_stopping') {
    checkKeys(src, p, m, base, 'a median stopping policy');
    return { policyType: 'MedianStopping', ...common };
  }
  if (t === 'truncation_selection') {
    checkKeys(src, p, m, [...base, 'truncation_percentage'], 'a truncation selection policy');
    return stripUndef({
      policyType: 'TruncationSelection',
      ...common,
      truncationPercentage: optInt(src, [...p, 'truncation_percentage'], m.truncation_percentage, 0),
    });
  }
  throw src.error(
    [...p, 'type'],
    `unknown early termination policy '${String(m.type)}' (bandit, median_stopping, truncation_selection)`,
  );
}

function parsePipelineJob(src: YamlSource, root: Record<string, unknown>, opts: ParseJobOptions): PipelineJobSpec {
  checkKeys(src, [], root, PIPELINE_KEYS, 'a pipeline job');
  const common = parseCommon(src, root, opts, 'pipeline');
  const st = optMap(src, ['settings'], root.settings) ?? {};
  // azure-ai-ml's PipelineJobSettingsSchema takes unknown keys (Meta.unknown = INCLUDE) and PipelineJobSettings._to_dict
  // sends them as written (1.4.0 _schema/pipeline/settings.py, entities/_job/pipeline/pipeline_job_settings.py)
  const KNOWN_SETTINGS = [
    'default_compute',
    'default_datastore',
    'continue_on_step_failure',
    'force_rerun',
    'default_environment',
  ];
  const extraSettings: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(st)) {
    if (KNOWN_SETTINGS.includes(k) || v === null || v === undefined) continue;
    if (typeof v === 'object')
      throw src.error(
        ['settings', k],
        `unknown pipeline setting with ${describe(v)} (known: ${KNOWN_SETTINGS.join(', ')})`,
      );
    extraSettings[k] = v;
    common.warnings.push(
      `${src.where(['settings', k])}: 'settings.${k}' is not a setting az ml knows (${KNOWN_SETTINGS.join(', ')}); sent as written, as az ml does`,
    );
  }
  if (st.default_environment !== undefined)
    common.warnings.push(
      `${src.where(['settings', 'default_environment'])}: 'settings.default_environment' is not supported and was ignored`,
    );
  const settings = {
    defaultCompute: optString(src, ['settings', 'default_compute'], st.default_compute),
    defaultDatastore: optString(src, ['settings', 'default_datastore'], st.default_datastore),
    continueOnStepFailure: optBool(src, ['settings', 'continue_on_step_failure'], st.continue_on_step_failure),
    forceRerun: optBool(src, ['settings', 'force_rerun'], st.force_rerun),
    extra: Object.keys(extraSettings).length ? extraSettings : undefined,
  };
  const jobsMap = root.jobs === undefined || root.jobs === null ? undefined : expectMap(src, ['jobs'], root.jobs);
  if (!jobsMap || Object.keys(jobsMap).length === 0)
    throw src.error(['jobs'], "a pipeline job needs at least one entry under 'jobs'");
  const jobs: Record<string, PipelineNodeSpec> = {};
  for (const [key, v] of Object.entries(jobsMap)) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(key))
      throw src.error(
        ['jobs', key],
        'pipeline step names may only contain letters, digits and underscores (not starting with a digit)',
      );
    jobs[key] = parseNode(src, ['jobs', key], key, expectMap(src, ['jobs', key], v), common.warnings);
  }
  const spec: PipelineJobSpec = { type: 'pipeline', ...common, settings, jobs };
  checkBindings(src, spec);
  return spec;
}

function parseNode(
  src: YamlSource,
  p: KeyPath,
  key: string,
  m: Record<string, unknown>,
  warnings: string[],
): PipelineNodeSpec {
  const tText = m.type === undefined || m.type === null ? 'command' : reqString(src, [...p, 'type'], m.type, 'type');
  const t = tText.toLowerCase();
  if (t === 'automl') return parseAutoMLNode(src, p, key, m, warnings, AUTOML_PARSE_KIT);
  if (t !== 'command' && t !== 'parallel' && t !== 'pipeline' && t !== 'spark' && t !== 'sweep') {
    throw src.error(
      [...p, 'type'],
      `pipeline step type '${tText}' is not supported by this task (supported: command, parallel, pipeline, spark, sweep, automl)`,
    );
  }
  checkKeys(
    src,
    p,
    m,
    t === 'command'
      ? NODE_COMMAND_KEYS
      : t === 'pipeline'
        ? NODE_PIPELINE_KEYS
        : t === 'spark'
          ? NODE_SPARK_KEYS
          : t === 'sweep'
            ? SWEEP_NODE_KEYS
            : NODE_PARALLEL_KEYS,
    `a ${t} pipeline step`,
  );
  const node: PipelineNodeSpec = {
    key,
    type: t,
    component: undefined as unknown as ComponentRefSpec,
    compute: optString(src, [...p, 'compute'], m.compute),
    displayName: optString(src, [...p, 'display_name'], m.display_name),
    description: optString(src, [...p, 'description'], m.description),
    tags: optStringMap(src, [...p, 'tags'], m.tags),
    properties: optStringMap(src, [...p, 'properties'], m.properties),
    inputs: parseInputs(src, [...p, 'inputs'], m.inputs, 'node'),
    outputs: parseOutputs(src, [...p, 'outputs'], m.outputs, true, warnings),
    environmentVariables: optStringMap(src, [...p, 'environment_variables'], m.environment_variables),
    resources: t === 'spark' ? undefined : parseResources(src, [...p, 'resources'], m.resources),
    identity: parseIdentity(src, [...p, 'identity'], m.identity),
  };
  if (t === 'sweep') {
    // the trial: a command component (file or reference), as azure-ai-ml's SweepSchema (pipeline) takes it
    if (m.trial === undefined || m.trial === null)
      throw src.error([...p, 'trial'], `sweep step '${key}' needs a 'trial' (a command component)`);
    node.component = parseComponentRef(src, [...p, 'trial'], m.trial, 'command');
    node.sweep = parseSweepNode(src, p, m, { parseSampling, parseEarlyTermination, parseDistributionValue });
    return node;
  }
  if (t === 'spark') {
    node.sparkResources = parseSparkResources(src, [...p, 'resources'], m.resources);
    if (m.component !== undefined && m.component !== null) {
      for (const k of SPARK_PART_KEYS)
        if (m[k] !== undefined)
          throw src.error([...p, k], `'${k}' cannot be combined with 'component' (it belongs to the component)`);
      node.component = parseComponentRef(src, [...p, 'component'], m.component, 'spark');
    } else {
      const part = parseSparkPart(
        src,
        p,
        m,
        `spark step '${key}'`,
        { parseCode, parseEnvironment },
        { requireConf: true },
      );
      node.component = { kind: 'inline', component: { type: 'spark', inputs: {}, outputs: {}, spark: part } };
      checkInputRefs(src, [...p, 'args'], part.args ?? '', node.inputs, node.outputs);
    }
    return node;
  }
  if (m.services !== undefined)
    warnings.push(`${src.where([...p, 'services'])}: services on pipeline steps are not supported and were ignored`);
  if (t === 'pipeline') {
    if (m.component === undefined || m.component === null)
      throw src.error(
        [...p, 'component'],
        `pipeline step '${key}' needs a 'component' (a pipeline component file or reference)`,
      );
    if (m.settings !== undefined)
      warnings.push(
        `${src.where([...p, 'settings'])}: settings on a pipeline-component step are ignored (the outer pipeline's apply)`,
      );
    node.component = parseComponentRef(src, [...p, 'component'], m.component, 'pipeline', warnings);
    return node;
  }
  if (m.experiment_name !== undefined)
    warnings.push(
      `${src.where([...p, 'experiment_name'])}: experiment_name on a pipeline step is ignored (the pipeline's applies)`,
    );
  if (t === 'command') {
    node.distribution = parseDistribution(src, [...p, 'distribution'], m.distribution);
    const lm = optMap(src, [...p, 'limits'], m.limits);
    if (lm) {
      checkKeys(src, [...p, 'limits'], lm, ['timeout'], 'step limits');
      node.limits = { timeout: optDuration(src, [...p, 'limits', 'timeout'], lm.timeout) };
    }
    if (m.component !== undefined && m.component !== null) {
      for (const k of ['command', 'code', 'environment'])
        if (m[k] !== undefined)
          throw src.error([...p, k], `'${k}' cannot be combined with 'component' (it belongs to the component)`);
      node.component = parseComponentRef(src, [...p, 'component'], m.component, 'command');
    } else {
      const part = parseCommandPart(src, p, m, `pipeline step '${key}'`);
      node.component = {
        kind: 'inline',
        component: {
          type: 'command',
          inputs: {},
          outputs: {},
          command: { ...part, environmentVariables: undefined, distribution: undefined, resources: undefined },
        },
      };
      checkInputRefs(src, [...p, 'command'], part.command, node.inputs, node.outputs);
    }
  } else {
    const par: Record<string, unknown> = {};
    for (const k of ['input_data', 'logging_level']) {
      const s = optString(src, [...p, k], m[k]);
      if (s !== undefined) par[k] = s;
    }
    // a list of keys (the schema's type: fields.List) goes out as its JSON text, as Python's json.dumps writes it
    // (azure-ai-ml 1.4.0 entities/_builders/parallel.py Parallel._to_rest_object: partition_keys=json.dumps(...))
    if (Array.isArray(m.partition_keys)) {
      const keys = m.partition_keys.map((x, i) => reqString(src, [...p, 'partition_keys', i], x, 'a partition key'));
      par.partition_keys = `[${keys.map((x) => JSON.stringify(x)).join(', ')}]`;
    } else {
      const s = optString(src, [...p, 'partition_keys'], m.partition_keys);
      if (s !== undefined) par.partition_keys = s;
    }
    const mbs = miniBatchSize(src, [...p, 'mini_batch_size'], m.mini_batch_size);
    if (mbs !== undefined) par.mini_batch_size = mbs;
    for (const k of ['max_concurrency_per_instance', 'mini_batch_error_threshold', 'error_threshold']) {
      const n = optInt(src, [...p, k], m[k], k === 'max_concurrency_per_instance' ? 1 : -1);
      if (n !== undefined) par[k] = n;
    }
    const rs = optMap(src, [...p, 'retry_settings'], m.retry_settings);
    if (rs) {
      checkKeys(src, [...p, 'retry_settings'], rs, ['max_retries', 'timeout'], 'retry_settings');
      par.retry_settings = stripUndef({
        max_retries: optInt(src, [...p, 'retry_settings', 'max_retries'], rs.max_retries, 0),
        timeout: optInt(src, [...p, 'retry_settings', 'timeout'], rs.timeout, 0),
      });
    }
    node.parallel = par;
    if (m.component !== undefined && m.component !== null) {
      if (m.task !== undefined) throw src.error([...p, 'task'], "'task' cannot be combined with 'component'");
      node.component = parseComponentRef(src, [...p, 'component'], m.component, 'parallel');
    } else {
      if (m.task === undefined || m.task === null)
        throw src.error([...p, 'task'], `parallel step '${key}' needs a 'task' (or a 'component')`);
      node.component = {
        kind: 'inline',
        component: {
          type: 'parallel',
          inputs: {},
          outputs: {},
          parallel: parseParallelTask(src, [...p, 'task'], m.task),
        },
      };
    }
  }
  return node;
}

/**
 * A parallel step's mini_batch_size as azure-ai-ml sends it: an integer — a number of files, or a size in bytes from
 * `<n>kb|mb|gb` (azure-ai-ml 1.4.0 entities/_builders/parallel.py, Parallel.__init__: regex ^\d+([kKmMgG][bB])*$,
 * units ×1024).
 */
export function miniBatchSize(src: YamlSource, p: KeyPath, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  const m = typeof v === 'string' ? /^\s*(\d+)\s*(?:([kKmMgG])[bB])?\s*$/.exec(v) : null;
  if (!m) throw src.error(p, `must be a number of files or a size such as 10kb, 10mb or 1gb (got ${describe(v)})`);
  return Number(m[1]) * ({ k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase()] ?? 1);
}

function parseParallelTask(src: YamlSource, p: KeyPath, v: unknown): NonNullable<ComponentSpec['parallel']> {
  const m = expectMap(src, p, v);
  checkKeys(
    src,
    p,
    m,
    ['type', 'code', 'entry_script', 'program_arguments', 'model', 'append_row_to', 'environment'],
    'a parallel task',
  );
  const type = optString(src, [...p, 'type'], m.type) ?? 'run_function';
  if (type !== 'run_function')
    throw src.error([...p, 'type'], `parallel task type '${type}' is not supported (run_function)`);
  if (m.environment === undefined || m.environment === null)
    throw src.error([...p, 'environment'], "a parallel task needs an 'environment'");
  const rest: Record<string, unknown> = { type };
  for (const k of ['entry_script', 'program_arguments', 'model', 'append_row_to']) {
    const s = optString(src, [...p, k], m[k]);
    if (s !== undefined) rest[k] = s;
  }
  if (!rest.entry_script) throw src.error([...p, 'entry_script'], "a parallel task needs an 'entry_script'");
  return {
    task: rest,
    code: parseCode(src, [...p, 'code'], m.code),
    environment: parseEnvironment(src, [...p, 'environment'], m.environment),
    rest: {},
  };
}

function parseComponentRef(
  src: YamlSource,
  p: KeyPath,
  v: unknown,
  nodeType: 'command' | 'parallel' | 'pipeline' | 'spark',
  warnings: string[] = [],
): ComponentRefSpec {
  if (isPlainObject(v))
    return {
      kind: 'inline',
      component:
        nodeType === 'pipeline' ? parsePipelineComponent(src, p, v, warnings) : parseComponentMap(src, p, v, nodeType),
    };
  const text = reqString(src, p, v, 'component');
  const ref = parseRef(text, src.baseDir);
  if (ref.kind === 'local') {
    let csrc: YamlSource;
    try {
      csrc = loadYaml(ref.path);
    } catch (e) {
      if (e instanceof SpecError && /file not found|is a directory/.test(e.message))
        throw src.error(p, `component file '${text}' not found (${ref.path})`);
      throw e;
    }
    const root = csrc.toJS() as Record<string, unknown>;
    const c =
      nodeType === 'pipeline'
        ? parsePipelineComponent(csrc, [], root, warnings)
        : parseComponentMap(csrc, [], root, nodeType);
    c.file = csrc.file;
    return { kind: 'inline', component: c };
  }
  if (ref.kind === 'uri')
    throw src.error(
      p,
      `cannot use '${text}' as a component (expected a file, azureml:name:version, azureml:name@label or an ARM id)`,
    );
  return { kind: 'ref', ref, text };
}

/**
 * A pipeline component (`type: pipeline` with `jobs`), used by a `type: pipeline` step: its steps are parsed like a
 * pipeline job's, with `${{parent.inputs.x}}` / `${{parent.outputs.y}}` naming the component's own inputs/outputs.
 */
function parsePipelineComponent(
  src: YamlSource,
  p: KeyPath,
  m: Record<string, unknown>,
  warnings: string[],
): ComponentSpec {
  const t = (optString(src, [...p, 'type'], m.type) ?? 'pipeline').toLowerCase();
  if (t !== 'pipeline')
    throw src.error([...p, 'type'], `component type '${t}' does not match the step type 'pipeline'`);
  checkKeys(src, p, m, PIPELINE_COMPONENT_KEYS, 'a pipeline component');
  const inputs = parseIoDefinitions(src, [...p, 'inputs'], m.inputs, true);
  const outputs = parseIoDefinitions(src, [...p, 'outputs'], m.outputs, false);
  const jobsMap = m.jobs === undefined || m.jobs === null ? undefined : expectMap(src, [...p, 'jobs'], m.jobs);
  if (!jobsMap || Object.keys(jobsMap).length === 0)
    throw src.error([...p, 'jobs'], "a pipeline component needs at least one entry under 'jobs'");
  const jobs: Record<string, PipelineNodeSpec> = {};
  for (const [key, v] of Object.entries(jobsMap)) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(key))
      throw src.error(
        [...p, 'jobs', key],
        'pipeline step names may only contain letters, digits and underscores (not starting with a digit)',
      );
    jobs[key] = parseNode(src, [...p, 'jobs', key], key, expectMap(src, [...p, 'jobs', key], v), warnings);
  }
  // the scope the steps' bindings resolve in: the component's input/output definitions as a pipeline's inputs/outputs
  const scopeInputs: Record<string, InputSpec> = {};
  for (const [k, d] of Object.entries(inputs)) {
    const type = String(d.type);
    scopeInputs[k] = (LITERAL_TYPES as readonly string[]).includes(type)
      ? { kind: 'literal', value: '', literalType: type as LiteralType, at: src.where([...p, 'inputs', k]) }
      : {
          kind: 'asset',
          type: (ASSET_TYPES as readonly string[]).includes(type) ? (type as AssetIoType) : 'uri_folder',
          ref: { kind: 'uri', uri: '' },
          at: src.where([...p, 'inputs', k]),
        };
  }
  const scopeOutputs: Record<string, OutputSpec> = {};
  for (const [k, d] of Object.entries(outputs))
    scopeOutputs[k] = {
      kind: 'asset',
      type: (ASSET_TYPES as readonly string[]).includes(String(d.type))
        ? (String(d.type) as AssetIoType)
        : 'uri_folder',
      at: src.where([...p, 'outputs', k]),
    };
  const scope: PipelineJobSpec = {
    type: 'pipeline',
    file: src.file,
    experimentName: '',
    inputs: scopeInputs,
    outputs: scopeOutputs,
    warnings,
    settings: {},
    jobs,
  };
  checkBindings(src, scope, p);
  return {
    type: 'pipeline',
    ...componentHeader(src, p, m),
    inputs,
    outputs,
    pipeline: { jobs, scope },
  };
}

/** The fields every component file shares: name, version, display name, description, tags, is_deterministic. */
function componentHeader(src: YamlSource, p: KeyPath, m: Record<string, unknown>) {
  return {
    name: optString(src, [...p, 'name'], m.name),
    version: optString(src, [...p, 'version'], m.version),
    displayName: optString(src, [...p, 'display_name'], m.display_name),
    description: optString(src, [...p, 'description'], m.description),
    tags: optStringMap(src, [...p, 'tags'], m.tags),
    isDeterministic: optBool(src, [...p, 'is_deterministic'], m.is_deterministic),
  };
}

function parseComponentMap(
  src: YamlSource,
  p: KeyPath,
  m: Record<string, unknown>,
  nodeType: 'command' | 'parallel' | 'spark',
): ComponentSpec {
  const t = (optString(src, [...p, 'type'], m.type) ?? 'command').toLowerCase();
  if (t !== nodeType)
    throw src.error([...p, 'type'], `component type '${t}' does not match the step type '${nodeType}'`);
  if (t === 'spark') {
    checkKeys(
      src,
      p,
      m,
      [...COMPONENT_FILE_KEYS.slice(0, 8), ...SPARK_PART_KEYS, 'is_deterministic'],
      'a spark component',
    );
    const spark = parseSparkPart(
      src,
      p,
      m,
      'a spark component',
      { parseCode, parseEnvironment },
      { requireConf: true },
    );
    const comp: ComponentSpec = {
      type: 'spark',
      ...componentHeader(src, p, m),
      inputs: parseIoDefinitions(src, [...p, 'inputs'], m.inputs, true),
      outputs: parseIoDefinitions(src, [...p, 'outputs'], m.outputs, false),
      spark,
    };
    checkInputRefs(src, [...p, 'args'], spark.args ?? '', comp.inputs, comp.outputs);
    return comp;
  }
  if (t !== 'command')
    throw src.error(
      [...p, 'type'],
      `component type '${t}' from a file is not supported (command components only; write parallel steps inline)`,
    );
  checkKeys(src, p, m, COMPONENT_FILE_KEYS, 'a command component');
  const part = parseCommandPart(src, p, m, 'a command component');
  const comp: ComponentSpec = {
    type: 'command',
    ...componentHeader(src, p, m),
    inputs: parseIoDefinitions(src, [...p, 'inputs'], m.inputs, true),
    outputs: parseIoDefinitions(src, [...p, 'outputs'], m.outputs, false),
    command: part,
  };
  checkInputRefs(src, [...p, 'command'], part.command, comp.inputs, comp.outputs);
  return comp;
}

/** Component input/output definitions (type, default, optional, …) → the YAML shape az ml puts in componentSpec. */
function parseIoDefinitions(
  src: YamlSource,
  p: KeyPath,
  v: unknown,
  inputs: boolean,
): Record<string, Record<string, unknown>> {
  const m = optMap(src, p, v) ?? {};
  const out: Record<string, Record<string, unknown>> = {};
  for (const [k, d] of Object.entries(m)) {
    const dp = [...p, k];
    const def = expectMap(src, dp, d ?? {}, `an ${inputs ? 'input' : 'output'} definition`);
    checkKeys(
      src,
      dp,
      def,
      inputs
        ? ['type', 'default', 'optional', 'description', 'min', 'max', 'enum', 'mode', 'path']
        : ['type', 'description', 'mode', 'path', 'is_control', 'early_available'],
      `an ${inputs ? 'input' : 'output'} definition`,
    );
    const type = (optString(src, [...dp, 'type'], def.type) ?? 'uri_folder').toLowerCase();
    // `path`: the legacy port type azure-ai-ml still accepts and keeps (1.4.0 _schema/component/input_output.py
    // SUPPORTED_PORT_TYPES = [LegacyAssetTypes.PATH] + …)
    const allowed: readonly string[] = inputs ? [...ASSET_TYPES, ...LITERAL_TYPES, 'path'] : [...ASSET_TYPES, 'path'];
    if (!allowed.includes(type))
      throw src.error([...dp, 'type'], `unknown ${inputs ? 'input' : 'output'} type '${type}' (${allowed.join(', ')})`);
    const o: Record<string, unknown> = { type };
    for (const [key, val] of Object.entries(def)) if (key !== 'type' && val !== null && val !== undefined) o[key] = val;
    // a `number` default is sent as a Python float: 0 → "0.0", 1024 → "1024.0", and "1e-3" (text to PyYAML) → "0.001"
    // (seen in azure-ai-ml 1.4.0's componentSpec for azureml-examples pipeline_with_hyperparameter_sweep/train.yml)
    const num = type === 'number' && 'default' in o ? Number(o.default) : NaN;
    if (typeof o.default !== 'boolean' && o.default !== '' && Number.isFinite(num)) o.default = pyFloatRepr(num);
    else if ('default' in o && typeof o.default !== 'string')
      o.default = pyStr(o.default as number | boolean, src.scalarSource([...dp, 'default']));
    out[k] = o;
  }
  return out;
}

function parseCode(src: YamlSource, p: KeyPath, v: unknown): Ref | undefined {
  const s = optString(src, p, v);
  if (s === undefined || !s.trim()) return undefined;
  const r = parseRef(s, src.baseDir);
  if (r.kind === 'uri' && !/^azureml:\/\//i.test(r.uri))
    throw src.error(p, `code '${s}' must be a local folder, azureml:name:version or an ARM id`);
  return r;
}

function parseEnvironment(src: YamlSource, p: KeyPath, v: unknown): EnvironmentSpec {
  if (isPlainObject(v)) {
    // az ml registers a job's (or a component's) inline environment anonymously: azure-ai-ml's
    // AnonymousEnvironmentSchema.trim_dump_only pops `name` and `version` (warning that the name "will not be used for
    // anonymous registration"; azure-ai-ml 1.4.0 _schema/assets/environment.py, unchanged in later versions), so two
    // examples that reuse a name do not collide.
    const env = parseInlineEnvironment(src, p, v);
    return { kind: 'inline', env: { ...env, name: undefined, version: undefined } };
  }
  const s = reqString(src, p, v, 'environment');
  if (/^file:/i.test(s.trim())) {
    // `file:<env.yml>`: an environment YAML file, read as the inline environment it describes, relative paths from its
    // own folder (azure-ai-ml PathAwareSchema.load_from_file, 1.4.0 _schema/core/schema.py); anonymous like any inline one
    const f = path.resolve(src.baseDir, s.trim().slice(5));
    let esrc: YamlSource;
    try {
      esrc = loadYaml(f);
    } catch (e) {
      if (e instanceof SpecError && /file not found|is a directory/.test(e.message))
        throw src.error(p, `environment file '${s}' not found (${f})`);
      throw e;
    }
    const env = parseInlineEnvironment(esrc, [], esrc.toJS() as Record<string, unknown>);
    return { kind: 'inline', env: { ...env, name: undefined, version: undefined } };
  }
  const r = parseRef(s, src.baseDir, { assetNamesWithoutPrefix: true });
  if (r.kind === 'uri')
    throw src.error(
      p,
      `environment '${s}' must be azureml:name:version, azureml:name@label, a registry URI or an ARM id`,
    );
  return { kind: 'ref', ref: r, text: s };
}

function parseResources(src: YamlSource, p: KeyPath, v: unknown): Record<string, unknown> | undefined {
  const m = optMap(src, p, v);
  if (!m) return undefined;
  checkKeys(
    src,
    p,
    m,
    ['instance_count', 'instance_type', 'shm_size', 'docker_args', 'properties', 'locations', 'max_instance_count'],
    'resources',
  );
  if (m.locations !== undefined || m.max_instance_count !== undefined)
    throw src.error(p, "'locations'/'max_instance_count' are not supported at api-version 2022-10-01");
  const shm = optString(src, [...p, 'shm_size'], m.shm_size);
  if (shm !== undefined && !/^\d+[bBkKmMgG]$/.test(shm))
    throw src.error([...p, 'shm_size'], `expected a size like 2g, got '${shm}'`);
  const props = optMap(src, [...p, 'properties'], m.properties);
  return stripUndef({
    instanceCount: optInt(src, [...p, 'instance_count'], m.instance_count, 1),
    instanceType: optString(src, [...p, 'instance_type'], m.instance_type),
    shmSize: shm,
    dockerArgs: optString(src, [...p, 'docker_args'], m.docker_args),
    properties: props,
  });
}

function parseDistribution(src: YamlSource, p: KeyPath, v: unknown): Record<string, unknown> | undefined {
  const m = optMap(src, p, v);
  if (!m) return undefined;
  const t = reqString(src, [...p, 'type'], m.type, 'distribution type').toLowerCase();
  if (t === 'pytorch' || t === 'mpi') {
    checkKeys(src, p, m, ['type', 'process_count_per_instance'], `${t} distribution`);
    return stripUndef({
      distributionType: t === 'pytorch' ? 'PyTorch' : 'Mpi',
      processCountPerInstance: optInt(src, [...p, 'process_count_per_instance'], m.process_count_per_instance, 1),
    });
  }
  if (t === 'tensorflow') {
    checkKeys(src, p, m, ['type', 'worker_count', 'parameter_server_count'], 'tensorflow distribution');
    return stripUndef({
      distributionType: 'TensorFlow',
      workerCount: optInt(src, [...p, 'worker_count'], m.worker_count, 0),
      // 0 when absent, as azure-ai-ml 1.4.0 sends it (entities/_job/distribution.py TensorFlowDistribution.__init__:
      // parameter_server_count: Optional[int] = 0)
      parameterServerCount: optInt(src, [...p, 'parameter_server_count'], m.parameter_server_count, 0) ?? 0,
    });
  }
  throw src.error([...p, 'type'], `unknown distribution type '${String(m.type)}' (pytorch, mpi, tensorflow)`);
}

function parseIdentity(src: YamlSource, p: KeyPath, v: unknown): Record<string, unknown> | undefined {
  const m = optMap(src, p, v);
  if (!m) return undefined;
  const t = reqString(src, [...p, 'type'], m.type, 'identity type').toLowerCase();
  if (t === 'aml_token') {
    checkKeys(src, p, m, ['type'], 'aml_token identity');
    return { identityType: 'AMLToken' };
  }
  if (t === 'user_identity') {
    checkKeys(src, p, m, ['type'], 'user_identity');
    return { identityType: 'UserIdentity' };
  }
  if (t === 'managed' || t === 'managed_identity') {
    checkKeys(src, p, m, ['type', 'client_id', 'object_id', 'msi_resource_id', 'resource_id'], 'managed identity');
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    const clientId = optString(src, [...p, 'client_id'], m.client_id);
    if (clientId !== undefined && !uuid.test(clientId))
      throw src.error([...p, 'client_id'], `expected a GUID, got '${clientId}'`);
    const objectId = optString(src, [...p, 'object_id'], m.object_id);
    if (objectId !== undefined && !uuid.test(objectId))
      throw src.error([...p, 'object_id'], `expected a GUID, got '${objectId}'`);
    return stripUndef({
      identityType: 'Managed',
      clientId,
      objectId,
      resourceId:
        optString(src, [...p, 'msi_resource_id'], m.msi_resource_id) ??
        optString(src, [...p, 'resource_id'], m.resource_id),
    });
  }
  throw src.error([...p, 'type'], `unknown identity type '${String(m.type)}' (aml_token, managed, user_identity)`);
}

const SERVICE_TYPES: Record<string, string> = {
  jupyter_lab: 'JupyterLab',
  ssh: 'SSH',
  tensor_board: 'TensorBoard',
  vs_code: 'VSCode',
  studio: 'Studio',
  tracking: 'Tracking',
};

function parseServices(src: YamlSource, p: KeyPath, v: unknown): Record<string, Record<string, unknown>> | undefined {
  const m = optMap(src, p, v);
  if (!m) return undefined;
  const out: Record<string, Record<string, unknown>> = {};
  for (const [k, sv] of Object.entries(m)) {
    const sp = [...p, k];
    const s = expectMap(src, sp, sv);
    checkKeys(
      src,
      sp,
      s,
      ['type', 'job_service_type', 'port', 'properties', 'endpoint', 'nodes', 'ssh_public_keys', 'log_dir'],
      'a job service',
    );
    const typeText =
      optString(src, [...sp, 'type'], s.type) ?? optString(src, [...sp, 'job_service_type'], s.job_service_type);
    const rest: Record<string, unknown> = {};
    if (typeText !== undefined) rest.jobServiceType = SERVICE_TYPES[typeText.toLowerCase()] ?? typeText;
    const port = optInt(src, [...sp, 'port'], s.port, 1);
    if (port !== undefined) rest.port = port;
    const endpoint = optString(src, [...sp, 'endpoint'], s.endpoint);
    if (endpoint !== undefined) rest.endpoint = endpoint;
    const props = optStringMap(src, [...sp, 'properties'], s.properties) ?? {};
    const keys = optString(src, [...sp, 'ssh_public_keys'], s.ssh_public_keys);
    if (keys !== undefined) props.sshPublicKeys = keys;
    const logDir = optString(src, [...sp, 'log_dir'], s.log_dir);
    if (logDir !== undefined) props.logDir = logDir;
    if (Object.keys(props).length) rest.properties = props;
    out[k] = rest;
  }
  return out;
}

const BINDING = /^\s*\$\{\{\s*([^}]+?)\s*\}\}\s*$/;

function parseInputs(
  src: YamlSource,
  p: KeyPath,
  v: unknown,
  where: 'job' | 'pipeline' | 'node',
): Record<string, InputSpec> {
  const m = optMap(src, p, v);
  const out: Record<string, InputSpec> = {};
  if (!m) return out;
  for (const [k, val] of Object.entries(m)) {
    const ip = [...p, k];
    const keyOk =
      where === 'pipeline' ? /^([a-zA-Z_][a-zA-Z0-9_]*)(\.[a-zA-Z_][a-zA-Z0-9_]*)*$/ : /^[a-zA-Z_][a-zA-Z0-9_]*$/;
    if (!keyOk.test(k)) throw src.error(ip, 'input names may only contain letters, digits and underscores');
    const at = src.where(ip);
    if (val === null || val === undefined) throw src.error(ip, 'input has no value');
    if (typeof val === 'string' && BINDING.test(val)) {
      if (where !== 'node') throw src.error(ip, `data binding '${val}' is only allowed in pipeline steps`);
      out[k] = { kind: 'binding', value: val.trim(), at };
      continue;
    }
    if (typeof val === 'string' || typeof val === 'number' || typeof val === 'boolean') {
      const source = src.scalarSource(ip);
      const literalType: LiteralType =
        typeof val === 'boolean'
          ? 'boolean'
          : typeof val === 'number'
            ? isPyFloatText(source ?? '')
              ? 'number'
              : 'integer'
            : 'string';
      const value = pyStr(val, source);
      // the swagger's LiteralJobInput.value pattern applies to a job's own inputs; a pipeline step's inputs live in the
      // untyped `jobs` map, where az ml sends e.g. '[]' as it is (responsible-ai examples)
      if (where !== 'node' && !/[a-zA-Z0-9_]/.test(value))
        throw src.error(
          ip,
          `literal input value ${JSON.stringify(value)} must contain a letter, digit or underscore (Azure ML refuses it otherwise)`,
        );
      out[k] = { kind: 'literal', value, literalType, at };
      continue;
    }
    if (Array.isArray(val)) throw src.error(ip, `expected a value or an input mapping (type, path, mode), got a list`);
    const d = val as Record<string, unknown>;
    checkKeys(
      src,
      ip,
      d,
      ['type', 'path', 'mode', 'description', 'optional', 'default', 'value', 'datastore', 'path_on_compute'],
      'an input',
    );
    const type = (optString(src, [...ip, 'type'], d.type) ?? 'uri_folder').toLowerCase();
    const modeText = optString(src, [...ip, 'mode'], d.mode);
    if ((LITERAL_TYPES as readonly string[]).includes(type)) {
      const lv = d.value ?? d.default;
      if (lv === undefined || lv === null || typeof lv === 'object')
        throw src.error(ip, `a ${type} input needs a 'value' (or 'default')`);
      const vp = [...ip, d.value !== undefined ? 'value' : 'default'];
      out[k] = {
        kind: 'literal',
        value: pyStr(lv as string | number | boolean, src.scalarSource(vp)),
        literalType: type as LiteralType,
        at,
      };
      continue;
    }
    if (!(ASSET_TYPES as readonly string[]).includes(type))
      throw src.error(
        [...ip, 'type'],
        `unknown input type '${type}' (${[...ASSET_TYPES, ...LITERAL_TYPES].join(', ')})`,
      );
    let mode: string | undefined;
    if (modeText !== undefined) {
      mode = INPUT_MODES[modeText.toLowerCase()];
      if (!mode)
        throw src.error([...ip, 'mode'], `unknown input mode '${modeText}' (${Object.keys(INPUT_MODES).join(', ')})`);
    }
    if (d.path_on_compute !== undefined || d.datastore !== undefined)
      throw src.error(ip, "'path_on_compute'/'datastore' on inputs are not supported at api-version 2022-10-01");
    const pathText = optString(src, [...ip, 'path'], d.path);
    if (pathText === undefined || !pathText.trim()) throw src.error([...ip, 'path'], `a ${type} input needs a 'path'`);
    if (BINDING.test(pathText)) {
      if (where !== 'node')
        throw src.error([...ip, 'path'], `data binding '${pathText}' is only allowed in pipeline steps`);
      // az ml keeps the mode on the step (LiteralJobInput + mode: azure-ai-ml 1.4.0 entities/_job/_input_output_helpers.py
      // to_rest_dataset_literal_inputs) and the type in the inline component's input definition
      out[k] = {
        kind: 'binding',
        value: pathText.trim(),
        at,
        type: d.type === undefined ? undefined : type,
        mode,
        modeText: modeText?.toLowerCase(),
      };
      continue;
    }
    // like az ml: a relative path with ':' or '@' is an asset reference (name:version, name@label) even without azureml:
    const bare = /[:@]/.test(pathText) && !path.isAbsolute(pathText) && !/^file:/i.test(pathText);
    out[k] = {
      kind: 'asset',
      type: type as AssetIoType,
      ref: parseRef(pathText, src.baseDir, { assetNamesWithoutPrefix: bare }),
      mode,
      modeText: modeText?.toLowerCase(),
      description: optString(src, [...ip, 'description'], d.description),
      at,
    };
  }
  return out;
}

function parseOutputs(
  src: YamlSource,
  p: KeyPath,
  v: unknown,
  node: boolean,
  warnings: string[] = [],
): Record<string, OutputSpec> {
  const m = optMap(src, p, v);
  const out: Record<string, OutputSpec> = {};
  if (!m) return out;
  for (const [k, val] of Object.entries(m)) {
    const op = [...p, k];
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k))
      throw src.error(op, 'output names may only contain letters, digits and underscores');
    const at = src.where(op);
    if (val === null || val === undefined) {
      out[k] = { kind: 'asset', type: 'uri_folder', at };
      continue;
    }
    if (typeof val === 'string') {
      if (BINDING.test(val)) {
        if (!node) throw src.error(op, `data binding '${val}' is only allowed in pipeline steps`);
        out[k] = { kind: 'binding', value: val.trim(), at };
        continue;
      }
      throw src.error(
        op,
        `expected an output mapping (type, mode, path)${node ? ' or a ${{parent.outputs.x}} binding' : ''}, got ${describe(val)}`,
      );
    }
    const d = expectMap(src, op, val, 'an output mapping (type, mode, path)');
    checkKeys(src, op, d, ['type', 'path', 'mode', 'description', 'name', 'version'], 'an output');
    // az ml registers such an output as a named asset (JobOutput assetName/assetVersion, preview api-versions only):
    // 2024-04-01 has no field for it, so the output is written but not registered
    if (d.name !== undefined || d.version !== undefined)
      warnings.push(
        `${src.where(op)}: registering an output as a named asset ('name'/'version') is not part of api-version 2024-04-01: the output is written but not registered (register it with the AzureMLModelRegister task)`,
      );
    const type = (optString(src, [...op, 'type'], d.type) ?? 'uri_folder').toLowerCase();
    if (!(ASSET_TYPES as readonly string[]).includes(type))
      throw src.error([...op, 'type'], `unknown output type '${type}' (${ASSET_TYPES.join(', ')})`);
    const modeText = optString(src, [...op, 'mode'], d.mode);
    let mode: string | undefined;
    if (modeText !== undefined) {
      mode = OUTPUT_MODES[modeText.toLowerCase()];
      if (!mode) throw src.error([...op, 'mode'], `unknown output mode '${modeText}' (rw_mount, upload, direct)`);
    }
    const pathText = optString(src, [...op, 'path'], d.path);
    if (pathText !== undefined && BINDING.test(pathText)) {
      if (!node) throw src.error([...op, 'path'], 'data bindings are only allowed in pipeline steps');
      out[k] = {
        kind: 'binding',
        value: pathText.trim(),
        mode,
        modeText: modeText?.toLowerCase(),
        type: d.type === undefined ? undefined : type,
        at,
      };
      continue;
    }
    let ref: Ref | undefined;
    if (pathText !== undefined && pathText.trim()) {
      ref = parseRef(pathText, src.baseDir);
      if (ref.kind !== 'uri' && ref.kind !== 'arm')
        throw src.error(
          [...op, 'path'],
          `an output path must be a datastore URI (azureml://datastores/<name>/paths/<path>), got '${pathText}'`,
        );
    }
    out[k] = {
      kind: 'asset',
      type: type as AssetIoType,
      ref,
      mode,
      modeText: modeText?.toLowerCase(),
      description: optString(src, [...op, 'description'], d.description),
      at,
    };
  }
  return out;
}

/** `${{inputs.x}}` / `${{outputs.y}}` / `${{search_space.z}}` in a command must name something that exists. */
function checkInputRefs(
  src: YamlSource,
  p: KeyPath,
  command: string,
  inputs: Record<string, unknown>,
  outputs: Record<string, unknown>,
  searchSpace: string[] = [],
): void {
  const optionalRe = /\[[^\]]*\$\{\{\s*inputs\.([\w.-]+)\s*\}\}[^\]]*\]/g;
  const optional = new Set([...command.matchAll(optionalRe)].map((x) => x[1]));
  for (const mm of command.matchAll(/\$\{\{\s*(inputs|outputs|search_space)\.([\w.-]+)\s*\}\}/g)) {
    const [, kind, name] = mm;
    const have =
      kind === 'inputs' ? inputs : kind === 'outputs' ? outputs : Object.fromEntries(searchSpace.map((s) => [s, 1]));
    if (!(name in have) && !(kind === 'inputs' && optional.has(name)))
      throw src.error(
        p,
        `the command uses \${{${kind}.${name}}} but there is no ${kind === 'search_space' ? 'search_space entry' : kind.slice(0, -1)} '${name}'`,
      );
  }
}

/** `${{parent.inputs.x}}`, `${{parent.outputs.y}}`, `${{parent.jobs.a.outputs.b}}` must name existing things. */
function checkBindings(src: YamlSource, spec: PipelineJobSpec, base: KeyPath = []): void {
  const check = (value: string, p: KeyPath) => {
    const b = BINDING.exec(value)?.[1] ?? '';
    let m: RegExpExecArray | null;
    if ((m = /^parent\.inputs\.([\w.]+)$/.exec(b))) {
      if (!(m[1] in spec.inputs))
        throw src.error(p, `'${value}' names pipeline input '${m[1]}', which is not defined under 'inputs'`);
    } else if ((m = /^parent\.outputs\.(\w+)$/.exec(b))) {
      if (!(m[1] in spec.outputs))
        throw src.error(p, `'${value}' names pipeline output '${m[1]}', which is not defined under 'outputs'`);
    } else if ((m = /^parent\.jobs\.(\w+)\.outputs\.(\w+)$/.exec(b))) {
      const target = spec.jobs[m[1]];
      if (!target) throw src.error(p, `'${value}' names step '${m[1]}', which is not in 'jobs'`);
      const outs =
        target.component.kind === 'inline' &&
        target.component.component.type !== 'parallel' &&
        Object.keys(target.component.component.outputs).length
          ? { ...target.component.component.outputs, ...target.outputs }
          : target.outputs;
      if (target.component.kind === 'inline' && !(m[2] in outs))
        throw src.error(p, `'${value}': step '${m[1]}' has no output '${m[2]}'`);
    } else if ((m = /^parent\.jobs\.(\w+)\.inputs\.(\w+)$/.exec(b))) {
      if (!spec.jobs[m[1]]) throw src.error(p, `'${value}' names step '${m[1]}', which is not in 'jobs'`);
    } else {
      throw src.error(
        p,
        `unsupported data binding '${value}' (use \${{parent.inputs.x}}, \${{parent.outputs.x}} or \${{parent.jobs.step.outputs.x}})`,
      );
    }
  };
  for (const [k, node] of Object.entries(spec.jobs)) {
    for (const [ik, inp] of Object.entries(node.inputs))
      if (inp.kind === 'binding') check(inp.value, [...base, 'jobs', k, 'inputs', ik]);
    for (const [ik, inp] of Object.entries(node.automl?.data ?? {}))
      if (inp.kind === 'binding') check(inp.value, [...base, 'jobs', k, ik]);
    for (const [ok, out] of Object.entries(node.outputs))
      if (out.kind === 'binding') check(out.value, [...base, 'jobs', k, 'outputs', ok]);
    if (node.parallel?.input_data && typeof node.parallel.input_data === 'string') {
      const mm = /^\s*\$\{\{\s*inputs\.(\w+)\s*\}\}\s*$/.exec(node.parallel.input_data);
      if (mm && !(mm[1] in node.inputs))
        throw src.error([...base, 'jobs', k, 'input_data'], `names input '${mm[1]}', which the step does not have`);
    }
  }
}

// ---------------------------------------------------------------------------------------------- building

export interface ResolverCall {
  op: keyof Omit<SpecResolver, 'wsPath'>;
  arg: string;
  result: string;
}

export interface BuiltJob {
  /** Jobs_CreateOrUpdate body: `{ properties: JobBase }`. */
  body: { properties: Record<string, unknown> };
  /** Every resolver call made, in order (uploads, environments, components, lookups). */
  calls: ResolverCall[];
  warnings: string[];
}

class Recorder {
  readonly calls: ResolverCall[] = [];
  /** what building found worth saying (left-out step inputs …) */
  readonly warnings: string[] = [];
  private readonly memo = new Map<string, Promise<string>>();
  constructor(readonly r: SpecResolver) {}
  private call(op: ResolverCall['op'], arg: string, fn: () => Promise<string>): Promise<string> {
    const key = `${op}\u0000${arg}`;
    let p = this.memo.get(key);
    if (!p) {
      p = fn().then((result) => {
        this.calls.push({ op, arg, result });
        return result;
      });
      this.memo.set(key, p);
    }
    return p;
  }
  uploadCode(p: string) {
    return this.call('uploadCode', p, () => this.r.uploadCode(p));
  }
  uploadLocalPath(p: string, t: string) {
    return this.call('uploadLocalPath', p, () => this.r.uploadLocalPath(p, t));
  }
  ensureEnvironment(e: InlineEnvironment) {
    return this.call(
      'ensureEnvironment',
      JSON.stringify(e, (k, v) => (k === 'source' ? undefined : v)),
      () => this.r.ensureEnvironment(e),
    );
  }
  ensureComponent(c: ComponentVersionRequest) {
    return this.call('ensureComponent', `${c.name}:${c.version}`, () => this.r.ensureComponent(c));
  }
  resolveAsset(kind: AssetKind, ref: string) {
    return this.call('resolveAsset', `${kind} ${ref}`, () => this.r.resolveAsset(kind, ref));
  }
  computeId(name: string) {
    return this.call('computeId', name, () => this.r.computeId(name));
  }
}

/** `compute: azureml:serverless` (or `serverless`): Azure ML's serverless compute, not a compute resource. */
export function isServerless(value: string | undefined): boolean {
  return value !== undefined && /^\s*(azureml:)?serverless\s*$/i.test(value);
}

/**
 * A compute reference → what the body carries. A `${{parent.inputs.x}}` binding is sent as written (azure-ai-ml
 * _job_operations._try_get_compute_arm_id: "if is_data_binding_expression(compute_name): return compute_name").
 * Serverless (see isServerless): a job or pipeline default is sent without computeId (ASSUMPTION, from Microsoft's
 * serverless docs "if you don't specify compute, the job runs on serverless compute"); a step that names it
 * explicitly (overriding a default compute) carries `serverless` as azure-ai-ml sends it in a node (azure-sdk-for-python
 * tests: `"computeId": "serverless"` in a pipeline node's REST dict).
 */
async function resolveCompute(
  rec: Recorder,
  value: string | undefined,
  where: 'job' | 'node' = 'job',
): Promise<string | undefined> {
  if (value === undefined || !value.trim()) return undefined;
  if (BINDING.test(value)) return value.trim();
  if (isServerless(value)) return where === 'node' ? 'serverless' : undefined;
  const c = computeRef(value);
  return c.id ?? rec.computeId(c.name!);
}

async function resolveEnvironment(rec: Recorder, e: EnvironmentSpec): Promise<string> {
  if (e.kind === 'inline') return rec.ensureEnvironment(e.env);
  const r = e.ref;
  if (r.kind === 'arm') return r.id;
  if (r.kind === 'registry') return r.uri;
  if (r.kind === 'asset') {
    // curated environments' short form is expanded by the service (az ml sends it as is)
    if (/^AzureML-/.test(r.name)) return assetRefText(r);
    return rec.resolveAsset('environments', assetRefText(r));
  }
  throw new JobSpecError(`environment '${e.text}' cannot be resolved`);
}

async function resolveCode(rec: Recorder, r: Ref | undefined): Promise<string | undefined> {
  if (!r) return undefined;
  if (r.kind === 'local') return rec.uploadCode(r.path);
  if (r.kind === 'arm') return r.id;
  if (r.kind === 'asset') return rec.resolveAsset('codes', assetRefText(r));
  if (r.kind === 'registry' || r.kind === 'uri') return r.uri;
  return undefined;
}

async function inputUri(rec: Recorder, i: Extract<InputSpec, { kind: 'asset' }>): Promise<string> {
  const r = i.ref;
  switch (r.kind) {
    case 'local': {
      const uri = await rec.uploadLocalPath(r.path, i.type);
      return i.type === 'uri_folder' && !uri.endsWith('/') ? `${uri}/` : uri; // as az ml does for folders
    }
    case 'uri':
    case 'registry':
      return r.uri;
    // az ml passes ARM ids through and turns name:version / name@label into the plain ARM id
    case 'arm':
      return r.id;
    case 'asset':
      return rec.resolveAsset(i.type.endsWith('_model') ? 'models' : 'data', assetRefText(r));
  }
}

/** Job-level inputs → REST JobInput map (camelCase: jobInputType, uri, mode, value). */
async function restInputs(
  rec: Recorder,
  inputs: Record<string, InputSpec>,
): Promise<Record<string, unknown> | undefined> {
  const out: Record<string, unknown> = {};
  for (const [k, i] of Object.entries(inputs)) {
    if (i.kind === 'literal' || i.kind === 'binding') out[k] = { jobInputType: 'literal', value: i.value };
    else
      out[k] = stripUndef({
        jobInputType: i.type,
        uri: await inputUri(rec, i),
        mode: i.mode,
        description: i.description,
      });
  }
  return Object.keys(out).length ? out : undefined;
}

function restOutputs(outputs: Record<string, OutputSpec>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, o] of Object.entries(outputs)) {
    if (o.kind === 'binding')
      throw new JobSpecError(`${o.at}: output '${k}': bindings are only allowed in pipeline steps`);
    out[k] = stripUndef({
      jobOutputType: o.type,
      uri: o.ref ? (o.ref.kind === 'arm' ? `azureml:${o.ref.id}` : (o.ref as { uri: string }).uri) : undefined,
      mode: o.mode,
      description: o.description,
    });
  }
  return Object.keys(out).length ? out : undefined;
}

async function commonProps(rec: Recorder, spec: JobCommon, jobType: string): Promise<Record<string, unknown>> {
  return stripUndef({
    jobType,
    displayName: spec.displayName,
    description: spec.description,
    tags: spec.tags,
    properties: spec.properties,
    experimentName: spec.experimentName,
    computeId: await resolveCompute(rec, spec.compute),
    identity: spec.identity,
    services: spec.services,
    notificationSetting: spec.notificationSetting,
  });
}

/** Turns a parsed job into a Jobs_CreateOrUpdate body, resolving code/env/assets/computes through `resolver`. */
export async function buildJobBody(spec: JobSpec, resolver: SpecResolver): Promise<BuiltJob> {
  const rec = new Recorder(resolver);
  const warnings = [...spec.warnings];
  let props: Record<string, unknown>;
  if (spec.type === 'command') {
    props = await commonProps(rec, spec, 'Command');
    Object.assign(
      props,
      stripUndef({
        command: spec.command,
        codeId: await resolveCode(rec, spec.code),
        environmentId: await resolveEnvironment(rec, spec.environment),
        environmentVariables: spec.environmentVariables,
        inputs: await restInputs(rec, spec.inputs),
        outputs: restOutputs(spec.outputs),
        distribution: spec.distribution,
        resources: spec.resources,
        limits: spec.limits?.timeout ? { jobLimitsType: 'Command', timeout: spec.limits.timeout } : undefined,
        queueSettings: spec.queueSettings,
      }),
    );
  } else if (spec.type === 'spark') {
    props = await commonProps(rec, spec, 'Spark');
    const environmentId = spec.spark.environment ? await resolveEnvironment(rec, spec.spark.environment) : undefined;
    Object.assign(
      props,
      restSparkProps(spec.spark, { codeId: (await resolveCode(rec, spec.spark.code))!, environmentId }),
      stripUndef({
        inputs: await restInputs(rec, spec.inputs),
        outputs: restOutputs(spec.outputs),
        resources: spec.resources,
        queueSettings: spec.queueSettings,
      }),
    );
  } else if (spec.type === 'sweep') {
    props = await commonProps(rec, spec, 'Sweep');
    const t = spec.trial;
    Object.assign(
      props,
      stripUndef({
        trial: stripUndef({
          command: t.command,
          codeId: await resolveCode(rec, t.code),
          environmentId: await resolveEnvironment(rec, t.environment),
          environmentVariables: t.environmentVariables,
          distribution: t.distribution,
          resources: t.resources,
        }),
        inputs: await restInputs(rec, spec.inputs),
        outputs: restOutputs(spec.outputs),
        samplingAlgorithm: spec.samplingAlgorithm,
        searchSpace: spec.searchSpace,
        objective: spec.objective,
        limits: spec.limits,
        earlyTermination: spec.earlyTermination,
        queueSettings: spec.queueSettings,
      }),
    );
  } else if (spec.type === 'automl') {
    props = await buildAutoMLJob(spec, automlBuildKit(rec));
  } else {
    props = await commonProps(rec, spec, 'Pipeline');
    const settings: Record<string, unknown> = {};
    const dc = await resolveCompute(rec, spec.settings.defaultCompute);
    if (dc) settings.default_compute = dc;
    if (spec.settings.defaultDatastore) {
      const ds = spec.settings.defaultDatastore.trim().replace(/^azureml:/i, '');
      settings.default_datastore = ds.startsWith('/subscriptions/') ? ds : `${resolver.wsPath}/datastores/${ds}`;
    }
    if (spec.settings.continueOnStepFailure !== undefined)
      settings.continue_on_step_failure = spec.settings.continueOnStepFailure;
    if (spec.settings.forceRerun !== undefined) settings.force_rerun = spec.settings.forceRerun;
    Object.assign(settings, spec.settings.extra ?? {});
    settings._source = 'YAML.JOB';
    const jobs: Record<string, unknown> = {};
    for (const [k, node] of Object.entries(spec.jobs)) jobs[k] = await buildNode(rec, spec, node);
    Object.assign(
      props,
      stripUndef({ inputs: await restInputs(rec, spec.inputs), outputs: restOutputs(spec.outputs), jobs, settings }),
    );
  }
  return {
    body: { properties: props },
    calls: rec.calls,
    warnings: [...warnings, ...rec.warnings.filter((w) => !warnings.includes(w))],
  };
}

/** A dry run: the resolver calls buildJobBody would make, without making them (for validating before any write). */
export async function planJob(spec: JobSpec, wsPath: string): Promise<ResolverCall[]> {
  const fake: SpecResolver = {
    wsPath,
    uploadCode: async (p) => `${wsPath}/codes/planned-${hash(p)}/versions/1`,
    uploadLocalPath: async (p) =>
      `azureml://datastores/workspaceblobstore/paths/LocalUpload/planned/${path.basename(p)}`,
    ensureEnvironment: async (e) => `${wsPath}/environments/${e.name ?? 'CliV2AnonymousEnvironment'}/versions/planned`,
    ensureComponent: async (c) => `${wsPath}/components/${c.name}/versions/${c.version}`,
    resolveAsset: async (kind, ref) =>
      `${wsPath}/${kind}/${ref.replace(/^azureml:/, '').replace(/[:@].*$/, '')}/versions/planned`,
    computeId: async (n) => `${wsPath}/computes/${n}`,
  };
  return (await buildJobBody(spec, fake)).calls;
}

/**
 * A component's distribution in the component schema's shape (`type: tensorflow, worker_count: 2`), as azure-ai-ml
 * writes componentSpec (the component YAML's own form), not the REST job shape (`distribution_type: TensorFlow`).
 */
function componentDistribution(d: Record<string, unknown>): Record<string, unknown> {
  const { distributionType, ...rest } = d;
  return { type: String(distributionType).toLowerCase(), ...snake(rest) };
}

async function nodeInputs(rec: Recorder, inputs: Record<string, InputSpec>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [k, i] of Object.entries(inputs)) {
    if (i.kind === 'literal') out[k] = { job_input_type: 'literal', value: i.value };
    else if (i.kind === 'binding') out[k] = stripUndef({ job_input_type: 'literal', value: i.value, mode: i.mode });
    else
      out[k] = stripUndef({
        job_input_type: i.type,
        uri: await inputUri(rec, i),
        mode: i.mode,
        description: i.description,
      });
  }
  return out;
}

function nodeOutputs(outputs: Record<string, OutputSpec>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, o] of Object.entries(outputs)) {
    if (o.kind === 'binding') out[k] = stripUndef({ value: o.value, type: 'literal', mode: o.mode });
    else if (o.ref || o.mode || o.type !== 'uri_folder' || o.description) {
      out[k] = stripUndef({
        job_output_type: o.type,
        uri: o.ref ? (o.ref.kind === 'arm' ? `azureml:${o.ref.id}` : (o.ref as { uri: string }).uri) : undefined,
        mode: o.mode,
        description: o.description,
      });
    }
    // an unconfigured output (`name:` with nothing) is left out, as azure-ai-ml does
  }
  return out;
}

/** Type of whatever a binding points at, for the anonymous component's input definition. */
function bindingType(spec: PipelineJobSpec, value: string): string {
  const b = BINDING.exec(value)?.[1] ?? '';
  let m: RegExpExecArray | null;
  if ((m = /^parent\.inputs\.([\w.]+)$/.exec(b))) {
    const i = spec.inputs[m[1]];
    if (i?.kind === 'literal') return i.literalType;
    if (i?.kind === 'asset') return i.type;
  }
  if ((m = /^parent\.jobs\.(\w+)\.outputs\.(\w+)$/.exec(b))) {
    const n = spec.jobs[m[1]];
    const o = n?.outputs[m[2]];
    if (o?.kind === 'asset') return o.type;
    if (n?.component.kind === 'inline') {
      const d = n.component.component.outputs[m[2]];
      if (d && typeof d.type === 'string') return d.type;
    }
    return 'uri_folder';
  }
  return 'string';
}

async function componentSpecBody(rec: Recorder, c: ComponentSpec): Promise<Record<string, unknown>> {
  const spec: Record<string, unknown> = {
    $schema: `https://azuremlschemas.azureedge.net/latest/${c.type}Component.schema.json`,
    name: c.name ?? 'azureml_anonymous',
    ...(c.version !== undefined ? { version: c.version } : {}),
    ...(c.displayName !== undefined ? { display_name: c.displayName } : {}),
    ...(c.description !== undefined ? { description: c.description } : {}),
    ...(c.tags ? { tags: c.tags } : {}),
    type: c.type,
    ...(c.isDeterministic !== undefined ? { is_deterministic: c.isDeterministic } : {}),
    inputs: c.inputs,
    outputs: c.outputs,
  };
  if (c.command) {
    const code = await resolveCode(rec, c.command.code);
    if (code) spec.code = code.startsWith('/subscriptions/') ? `azureml:${code}` : code;
    const env = await resolveEnvironment(rec, c.command.environment);
    spec.environment = env.startsWith('/subscriptions/') ? `azureml:${env}` : env;
    spec.command = c.command.command;
    if (c.command.distribution) spec.distribution = componentDistribution(c.command.distribution);
    if (c.command.resources) spec.resources = snake(c.command.resources);
  }
  if (c.parallel) {
    const task: Record<string, unknown> = { ...c.parallel.task };
    const code = await resolveCode(rec, c.parallel.code);
    if (code) task.code = code.startsWith('/subscriptions/') ? `azureml:${code}` : code;
    const env = await resolveEnvironment(rec, c.parallel.environment);
    task.environment = env.startsWith('/subscriptions/') ? `azureml:${env}` : env;
    Object.assign(spec, c.parallel.rest, { task });
    // the component carries mini_batch_size as text (azure-ai-ml's ParallelComponent), the node as an integer
    if (typeof spec.mini_batch_size === 'number') spec.mini_batch_size = String(spec.mini_batch_size);
  }
  if (c.spark) {
    const code = await resolveCode(rec, c.spark.code);
    if (code) spec.code = code.startsWith('/subscriptions/') ? `azureml:${code}` : code;
    if (c.spark.environment) {
      const env = await resolveEnvironment(rec, c.spark.environment);
      spec.environment = env.startsWith('/subscriptions/') ? `azureml:${env}` : env;
    }
    Object.assign(spec, sparkComponentFields(c.spark));
  }
  if (c.pipeline) {
    // its steps as a pipeline job's `jobs` (their own components registered first), as azure-ai-ml's
    // PipelineComponent._to_rest_object puts `jobs` in the componentSpec
    const jobs: Record<string, unknown> = {};
    for (const [k, node] of Object.entries(c.pipeline.jobs)) jobs[k] = await buildNode(rec, c.pipeline.scope, node);
    spec.jobs = jobs;
  }
  spec._source = c.file ? 'YAML.COMPONENT' : 'YAML.JOB';
  return spec;
}

async function ensureComponent(
  rec: Recorder,
  c: ComponentSpec,
): Promise<{ id: string; spec: Record<string, unknown> }> {
  const spec = await componentSpecBody(rec, c);
  // anonymous component, versioned by content (what `az ml` does for components defined in a pipeline job)
  const version = hash(JSON.stringify({ ...spec, name: undefined, version: undefined }));
  spec.name = 'azureml_anonymous';
  spec.version = version;
  const id = await rec.ensureComponent({
    name: 'azureml_anonymous',
    version,
    body: {
      properties: stripUndef({ componentSpec: spec, description: c.description, tags: c.tags, isAnonymous: true }),
    },
  });
  return { id, spec };
}

async function buildNode(
  rec: Recorder,
  spec: PipelineJobSpec,
  node: PipelineNodeSpec,
): Promise<Record<string, unknown>> {
  if (node.automl) return buildAutoMLNode(node, node.automl, automlBuildKit(rec));
  let componentId: string;
  let inlineTask: Record<string, unknown> | undefined;
  let source = 'YAML.JOB';
  if (node.component.kind === 'inline') {
    const comp = node.component.component;
    if (!comp.file && (comp.command || comp.parallel || comp.spark)) {
      // inline step: the anonymous component's interface comes from the step's own inputs/outputs
      const inDefs: Record<string, Record<string, unknown>> = {};
      // (as azure-ai-ml's anonymous component: type and, when the step gives one, mode in the YAML spelling)
      for (const [k, i] of Object.entries(node.inputs)) {
        inDefs[k] = stripUndef({
          type:
            i.kind === 'literal' ? i.literalType : i.kind === 'asset' ? i.type : (i.type ?? bindingType(spec, i.value)),
          mode: i.kind === 'literal' ? undefined : i.modeText,
          // a literal becomes the input's default (azure-ai-ml 1.4.0 entities/_job/pipeline/_component_translatable.py
          // _to_input: `input_variable["default"] = input` for str/bool/int/float); text, as component defaults are sent
          default: i.kind === 'literal' && i.value !== '' ? i.value : undefined,
        });
      }
      const outDefs: Record<string, Record<string, unknown>> = {};
      for (const [k, o] of Object.entries(node.outputs)) {
        // an output bound to ${{parent.outputs.x}} has the pipeline output's type
        const parentOut =
          o.kind === 'binding' ? /^\s*\$\{\{\s*parent\.outputs\.(\w+)\s*\}\}\s*$/.exec(o.value)?.[1] : undefined;
        const po = parentOut ? spec.outputs[parentOut] : undefined;
        const type = o.kind === 'asset' ? o.type : (o.type ?? (po?.kind === 'asset' ? po.type : 'uri_folder'));
        // …and its mode when the step gives none (azure-ai-ml 1.4.0 _component_translatable.py _to_output → the
        // source output's type and mode, _find_source_input_output_type)
        outDefs[k] = stripUndef({ type, mode: o.modeText ?? (po?.kind === 'asset' ? po.modeText : undefined) });
      }
      comp.inputs = inDefs;
      comp.outputs = outDefs;
      // a parallel component carries the run settings too (as azure-ai-ml's ParallelComponent does)
      if (comp.parallel && node.parallel)
        comp.parallel.rest = { ...node.parallel, ...(node.resources ? { resources: snake(node.resources) } : {}) };
    } else {
      // az ml leaves out what the component does not define, silently (azure-ai-ml 1.4.0 on nyc_taxi_data_regression_with_
      // pipeline_component/pipeline.yml: `test_split_ratio` is not in the node it sends); we say so
      const cname = comp.file ? path.basename(comp.file) : 'the inline component';
      for (const k of Object.keys(node.inputs))
        if (!(k in comp.inputs)) {
          rec.warnings.push(
            `${node.inputs[k].at}: step '${node.key}' sets input '${k}', which ${cname} does not define (it has: ${Object.keys(comp.inputs).join(', ') || 'none'}); left out, as az ml does`,
          );
          delete node.inputs[k];
        }
      for (const k of Object.keys(node.outputs))
        if (!(k in comp.outputs)) {
          rec.warnings.push(
            `${node.outputs[k].at}: step '${node.key}' sets output '${k}', which ${cname} does not define (it has: ${Object.keys(comp.outputs).join(', ') || 'none'}); left out, as az ml does`,
          );
          delete node.outputs[k];
        }
    }
    const made = await ensureComponent(rec, comp);
    componentId = made.id;
    // an inline parallel step sends its task on the node too, code and environment resolved (azure-ai-ml 1.4.0
    // Parallel._picked_fields_from_dict_to_rest_object includes 'task')
    if (comp.parallel && !comp.file) inlineTask = made.spec.task as Record<string, unknown>;
    // a step whose component comes from a file is YAML.COMPONENT (BaseNode._source = its component's _source)
    if (comp.file) source = 'YAML.COMPONENT';
  } else {
    const r = node.component.ref;
    // a referenced component: azure-ai-ml 1.4.0 entities/_component/component.py _resolve_component_source_from_id
    source = r.kind === 'registry' ? 'REMOTE.REGISTRY' : 'REMOTE.WORKSPACE.COMPONENT';
    componentId =
      r.kind === 'arm'
        ? r.id
        : r.kind === 'registry'
          ? r.uri
          : r.kind === 'asset'
            ? await rec.resolveAsset('components', assetRefText(r))
            : node.component.text;
  }
  const rest: Record<string, unknown> = {
    name: node.key,
    type: node.type,
    ...(node.displayName !== undefined ? { display_name: node.displayName } : {}),
    ...(node.description !== undefined ? { description: node.description } : {}),
    ...(node.tags ? { tags: node.tags } : {}),
    ...(node.properties ? { properties: node.properties } : {}),
  };
  const computeId = await resolveCompute(rec, node.compute, 'node');
  if (computeId) rest.computeId = computeId;
  rest.inputs = await nodeInputs(rec, node.inputs);
  rest.outputs = nodeOutputs(node.outputs);
  rest._source = source;
  rest.componentId = componentId;
  if (node.resources) rest.resources = snake(node.resources);
  if (node.distribution) rest.distribution = snake(node.distribution);
  if (node.limits?.timeout) rest.limits = { job_limits_type: 'Command', timeout: node.limits.timeout };
  if (node.environmentVariables) rest.environment_variables = node.environmentVariables;
  if (node.identity && node.type !== 'spark') rest.identity = snake(node.identity);
  if (node.parallel) Object.assign(rest, node.parallel);
  if (inlineTask) rest.task = inlineTask;
  if (node.type === 'spark') {
    const part = node.component.kind === 'inline' ? node.component.component.spark : undefined;
    Object.assign(
      rest,
      sparkNodeFields(part, { compute: node.compute, identity: node.identity, resources: node.sparkResources }),
    );
  }
  if (node.sweep) Object.assign(rest, sweepNodeFields(node.sweep, componentId));
  return rest;
}

// ---------------------------------------------------------------------------------------------- automl (automlSpec.ts)

/** what automlSpec.ts borrows from this module (passed in, so that the two modules do not import each other) */
const AUTOML_PARSE_KIT: AutoMLParseKit = {
  commonKeys: COMMON_KEYS,
  parseCommon,
  parseInputs,
  parseOutputs,
  parseResources,
  parseEarlyTermination,
};
const automlBuildKit = (rec: Recorder): AutoMLBuildKit => ({
  commonProps: (spec, jobType) => commonProps(rec, spec, jobType),
  inputUri: (i) => inputUri(rec, i),
  resolveCompute: (v) => resolveCompute(rec, v, 'node'),
  restOutputs,
  nodeOutputs,
});

// ---------------------------------------------------------------------------------------------- components alone

/** Parses a command (or spark) component YAML file on its own (as `az ml component create -f`). */
export function parseComponentYaml(
  file: string,
  opts: { text?: string; variables?: Record<string, string> } = {},
): ComponentSpec {
  try {
    const src = loadYaml(file, opts);
    const root = src.toJS() as Record<string, unknown>;
    const c = parseComponentMap(src, [], root, String(root.type).toLowerCase() === 'spark' ? 'spark' : 'command');
    c.file = src.file;
    return c;
  } catch (e) {
    return jerr(e);
  }
}

/** ComponentVersions_CreateOrUpdate body for a named component (name/version from the YAML or the arguments). */
export async function buildComponentVersion(
  c: ComponentSpec,
  resolver: SpecResolver,
): Promise<{ request: ComponentVersionRequest; calls: ResolverCall[] }> {
  const rec = new Recorder(resolver);
  const spec = await componentSpecBody(rec, c);
  const name = c.name ?? 'azureml_anonymous';
  const version = c.version ?? hash(JSON.stringify(spec));
  spec.name = name;
  spec.version = version;
  return {
    request: {
      name,
      version,
      body: {
        properties: stripUndef({
          componentSpec: spec,
          description: c.description,
          tags: c.tags,
          isAnonymous: c.name ? undefined : true,
        }),
      },
    },
    calls: rec.calls,
  };
}
