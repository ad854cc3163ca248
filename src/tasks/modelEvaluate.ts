// AzureMLModelEvaluate@1: champion/challenger. Compares a candidate (a job's MLflow metrics, or a registered model
// version's metrics) with what is in production (the deployment taking most traffic on an online endpoint, the model
// version carrying a tag, or the latest other version) on several metrics, each with a direction and an optional
// minimum improvement. Read-only: nothing in Azure is changed.
import type { ModelVersion } from '@azure/arm-machinelearning';
import { InputError, UserError } from '../pipeline';
import {
  ASSET_NAME_PATTERN,
  VERSION_PATTERN,
  getModelVersion,
  getWorkspace,
  listModelVersions,
  studioUrl,
  type AzureMLContext,
  type WorkspaceRef,
} from '../azureml';
import { getJob, getRunDetails } from '../azureml/jobs';
import { MlflowClient } from '../azureml/mlflow';
import { deploymentInfo, endpointInfo, getDeployment, getEndpoint } from '../azureml/endpoints';
import { parseRegistryModelUri, registryModelUri } from '../azureml/registries';

// ---------------------------------------------------------------------------------------------
// Metric rules: the `metrics` input
//
//   <metric> <direction> [min_delta=<number>] [min_relative=<number>%]
//
// one rule per line (or separated by ';'); blank lines and text after '#' are ignored.
//   <metric>     the metric name as logged (letters, digits, '_', '-', '.', '/', ':'); a name with spaces in double quotes
//   <direction>  higher (or max): bigger is better;  lower (or min): smaller is better
//   min_delta    the candidate must improve on production by at least this absolute amount (a negative value tolerates
//                a regression of at most that size)
//   min_relative the candidate must improve by at least this percentage of |production value| (the '%' is required)
// Without a threshold the candidate must be strictly better; equal values pass only with allowEqual.

export type Direction = 'higher' | 'lower';

export interface MetricRule {
  name: string;
  direction: Direction;
  /** absolute improvement required (may be negative: tolerated regression) */
  minDelta?: number;
  /** relative improvement required, in percent of |baseline| */
  minRelative?: number;
  /** 1-based line of the input */
  line: number;
  text: string;
}

const DIRECTIONS: Record<string, Direction> = {
  higher: 'higher',
  max: 'higher',
  maximize: 'higher',
  lower: 'lower',
  min: 'lower',
  minimize: 'lower',
};
const METRIC_NAME = /^[A-Za-z0-9_\-./:]+$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Split a rule into words; a double-quoted word keeps its spaces (returned with a leading '"'). */
function tokens(s: string): string[] | undefined {
  const re = /"([^"]*)"|([^\s"]+)/g;
  if (s.replace(re, '').trim() !== '') return undefined; // a stray double quote
  return [...s.matchAll(re)].map((m) => (m[1] !== undefined ? `"${m[1]}` : m[2]!));
}

/** Parse the `metrics` input. Errors name the input and the line. */
export function parseMetricRules(text: string, input = 'metrics'): MetricRule[] {
  const rules: MetricRule[] = [];
  const lines = (text ?? '').replace(/\r/g, '').split('\n');
  lines.forEach((rawLine, i) => {
    for (const part of rawLine.replace(/#.*$/, '').split(';')) {
      const t = part.trim();
      if (!t) continue;
      const where = `line ${i + 1} ('${t}')`;
      const bad = (problem: string): never => {
        throw new InputError(input, `${where}: ${problem}`);
      };
      const toks = tokens(t);
      if (!toks) bad('unbalanced double quote');
      const [first, dir, ...opts] = toks!;
      let name: string;
      if (first!.startsWith('"')) {
        name = first!.slice(1).trim();
        if (!name) bad('empty metric name');
      } else {
        name = first!;
        if (!METRIC_NAME.test(name))
          bad(
            `'${name}' is not a metric name (letters, digits, '_', '-', '.', '/', ':'; put a name with spaces in double quotes)`,
          );
      }
      if (dir === undefined)
        bad(
          `missing direction after '${name}': write '${name} higher' (bigger is better) or '${name} lower' (smaller is better)`,
        );
      const direction = DIRECTIONS[dir!.toLowerCase()];
      if (!direction) bad(`'${dir}' is not a direction (use higher or lower)`);
      const rule: MetricRule = { name, direction: direction!, line: i + 1, text: t };
      for (const o of opts) {
        const m = /^([A-Za-z_]+)=(.*)$/.exec(o);
        const key = m?.[1]?.toLowerCase();
        const val = m?.[2] ?? '';
        if (key === 'min_delta') {
          if (rule.minDelta !== undefined) bad('min_delta is given twice');
          if (!NUMBER.test(val)) bad(`min_delta needs a number, e.g. min_delta=0.01 (got '${val}')`);
          rule.minDelta = Number(val);
        } else if (key === 'min_relative') {
          if (rule.minRelative !== undefined) bad('min_relative is given twice');
          const pm = /^(.*)%$/.exec(val);
          if (!pm || !NUMBER.test(pm[1]!)) bad(`min_relative needs a percentage, e.g. min_relative=2% (got '${val}')`);
          rule.minRelative = Number(pm![1]);
        } else {
          bad(`unknown option '${o}' (options: min_delta=<number>, min_relative=<number>%)`);
        }
      }
      if (rules.some((r) => r.name === name)) bad(`metric '${name}' is listed twice`);
      rules.push(rule);
    }
  });
  if (!rules.length)
    throw new InputError(input, "needs at least one metric, e.g. 'accuracy higher' or 'rmse lower min_delta=0.01'");
  return rules;
}

/** How the rule's threshold reads for approvers: "improve by ≥ +0.01 and improve by ≥ +2%", "strictly better". */
export function requirementText(r: MetricRule, allowEqual: boolean): string {
  const parts: string[] = [];
  const sign = (n: number) => (n >= 0 ? `+${fmt(n)}` : fmt(n));
  if (r.minDelta !== undefined && r.minDelta !== 0) parts.push(`improve by ≥ ${sign(r.minDelta)}`);
  if (r.minRelative !== undefined && r.minRelative !== 0) parts.push(`improve by ≥ ${sign(r.minRelative)}%`);
  if (!parts.length) parts.push(allowEqual ? 'not worse' : 'strictly better');
  return parts.join(' and ');
}

// ---------------------------------------------------------------------------------------------
// Decision

export type MissingBaselineMetric = 'pass' | 'fail';

export interface MetricResult {
  name: string;
  direction: Direction;
  requirement: string;
  candidate: number;
  /** undefined: production has no value for it */
  baseline?: number;
  /** candidate − baseline */
  delta?: number;
  /** improvement in the better direction (delta for higher, −delta for lower) */
  improvement?: number;
  /** improvement in percent of |baseline| (undefined when baseline is 0 or missing) */
  relative?: number;
  passed: boolean;
  /** why it passed/failed, in words */
  reason: string;
}

/** values closer than this (relative to their size) are equal: 0.1 + 0.2 logged vs 0.3 logged */
function nearlyEqual(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a), Math.abs(b));
}
function atLeast(x: number, req: number): boolean {
  return x > req || nearlyEqual(x, req);
}

export function compareMetric(
  rule: MetricRule,
  candidate: number,
  baseline: number | undefined,
  opts: { allowEqual: boolean; missingBaselineMetric: MissingBaselineMetric },
): MetricResult {
  const base = {
    name: rule.name,
    direction: rule.direction,
    requirement: requirementText(rule, opts.allowEqual),
    candidate,
  };
  if (baseline === undefined) {
    const passed = opts.missingBaselineMetric === 'pass';
    return {
      ...base,
      passed,
      reason: passed
        ? 'production has no value for this metric: not compared'
        : 'production has no value for this metric',
    };
  }
  const delta = Number((candidate - baseline).toPrecision(12)); // 0.2 - 0.25 → -0.05, not -0.04999999999999999
  const improvement = rule.direction === 'higher' ? delta : -delta;
  const equal = nearlyEqual(candidate, baseline);
  const relative = baseline !== 0 ? (improvement / Math.abs(baseline)) * 100 : undefined;
  const res = {
    ...base,
    baseline,
    delta: equal ? 0 : delta,
    improvement: equal ? 0 : improvement,
    relative: equal ? 0 : relative,
  };
  const reasons: string[] = [];
  let passed = true;
  const hasDelta = rule.minDelta !== undefined && rule.minDelta !== 0;
  const hasRel = rule.minRelative !== undefined && rule.minRelative !== 0;
  if (hasDelta) {
    if (!atLeast(equal ? 0 : improvement, rule.minDelta!)) {
      passed = false;
      reasons.push(`improvement ${fmtSigned(equal ? 0 : improvement)} < required ${fmtSigned(rule.minDelta!)}`);
    }
  }
  if (hasRel) {
    const rel = equal ? 0 : (relative ?? (improvement > 0 ? Infinity : improvement < 0 ? -Infinity : 0));
    if (!atLeast(rel, rule.minRelative!)) {
      passed = false;
      reasons.push(
        `relative improvement ${rel > 0 ? '+' : ''}${fmtPct(rel)}% < required ${fmtSigned(rule.minRelative!)}%`,
      );
    }
  }
  if (!hasDelta && !hasRel) {
    if (equal) {
      passed = opts.allowEqual;
      reasons.push(opts.allowEqual ? 'equal to production (allowed)' : 'equal to production: not better');
    } else if (improvement < 0) {
      passed = false;
      reasons.push('worse than production');
    }
  }
  if (passed && !reasons.length)
    reasons.push(
      equal
        ? 'equal to production, within the tolerated change'
        : improvement > 0
          ? 'better than production'
          : 'within the tolerated regression',
    );
  return { ...res, passed, reason: reasons.join('; ') };
}

// ---------------------------------------------------------------------------------------------
// Candidate and production ("sides")

export interface ModelRef {
  name: string;
  version: string;
}

/** Where a side's metrics came from, for approvers. */
export interface Side {
  /** what this is, in one line: "job train-42", "model diabetes:3 (deployment blue on endpoint diabetes-ep, 90% traffic)" */
  label: string;
  /** azureml:<name>:<version> for a model, the job name for a job */
  id: string;
  model?: ModelRef & { studioUrl: string; createdBy?: string; createdAt?: string };
  job?: {
    name: string;
    displayName?: string;
    jobType?: string;
    status?: string;
    studioUrl: string;
    bestChildOf?: string;
    createdBy?: string;
  };
  endpoint?: { name: string; deployment: string; traffic: number; studioUrl: string };
  metrics: Record<string, number>;
  metricsSource: string;
}

export type BaselineMode = 'endpoint' | 'tag' | 'latest';
export const BASELINE_MODES: readonly BaselineMode[] = ['endpoint', 'tag', 'latest'];

export type Verdict = 'better' | 'not-better' | 'first-model' | 'already-in-production';

export interface Evaluation {
  schema: 'azureml-devops/model-evaluation@1';
  evaluatedAt: string;
  workspace: { subscriptionId: string; resourceGroup: string; workspace: string };
  isBetter: boolean;
  verdict: Verdict;
  /** one sentence for logs and the summary */
  message: string;
  candidate: Side;
  baseline: { mode: BaselineMode; selector: string; found: boolean; why?: string; side?: Side };
  options: { allowEqual: boolean; missingBaselineMetric: MissingBaselineMetric };
  rules: Array<Pick<MetricRule, 'name' | 'direction' | 'minDelta' | 'minRelative'> & { text: string }>;
  results: MetricResult[];
  warnings: string[];
}

export interface JobInfo {
  name: string;
  displayName?: string;
  jobType?: string;
  status?: string;
  experimentName?: string;
  /** the job's properties.properties (sweeps: best_child_run_id) */
  properties: Record<string, string>;
  createdBy?: string;
}
export interface RunMetrics {
  metrics: Record<string, number>;
  tags: Record<string, string>;
}
export interface ProductionEndpoint {
  name: string;
  traffic: Record<string, number>;
}
export interface ProductionDeployment {
  name: string;
  model?: string;
}

/** Everything evaluate reads from Azure (read-only), injectable for unit tests. */
export interface EvaluateOps {
  ws: WorkspaceRef;
  checkWorkspace(): Promise<void>;
  getJob(name: string): Promise<JobInfo | undefined>;
  /** latest value of every metric of the MLflow run (run id = job name); undefined when there is no such run */
  getRunMetrics(runId: string): Promise<RunMetrics | undefined>;
  getModelVersion(name: string, version: string): Promise<ModelVersion | undefined>;
  /** newest first; tags filter: { key: value } ('' = key present) */
  listModelVersions(name: string, opts: { tags?: Record<string, string>; top: number }): Promise<ModelVersion[]>;
  getEndpoint(name: string): Promise<ProductionEndpoint | undefined>;
  getDeployment(endpoint: string, name: string): Promise<ProductionDeployment | undefined>;
  /**
   * Set when model versions are read in an Azure ML registry (issue 13): getModelVersion/listModelVersions read there,
   * model ids are azureml://registries/<registry>/models/<name>/versions/<version>; jobs and endpoints stay in `ws`.
   */
  registry?: string;
}

/** where model versions are read, for messages */
export function modelScope(ops: Pick<EvaluateOps, 'ws' | 'registry'>): string {
  return ops.registry ? `registry '${ops.registry}'` : `workspace '${ops.ws.workspace}'`;
}
function modelIdOf(ops: EvaluateOps, name: string, version: string): string {
  return ops.registry ? registryModelUri(ops.registry, name, version) : `azureml:${name}:${version}`;
}
/** the studio's registry pages: URL form not verified, so none */
function modelStudioUrl(ops: EvaluateOps, name: string, version: string): string {
  return ops.registry ? '' : studioUrl(ops.ws, 'model', name, version);
}

export interface EvaluateInputs {
  candidateType: 'job' | 'model';
  candidateJob?: string;
  /** name:version, azureml:name:version or name@latest */
  candidateModel?: string;
  baseline: BaselineMode;
  endpointName?: string;
  /** model of the production versions (tag/latest); default: the candidate model's name */
  modelName?: string;
  /** key=value or key; default stage=production */
  baselineTag?: string;
  metrics: string;
  allowEqual?: boolean;
  missingBaselineMetric?: MissingBaselineMetric;
  failWhenNotBetter?: boolean;
  /** read model versions (candidate model, production by tag/latest, a registry model an endpoint serves) in this registry */
  registry?: string;
}

/** The registry the models are read in: the `registry` input, else the one a registry candidateModel names. */
export function registryOfInputs(i: Pick<EvaluateInputs, 'candidateType' | 'candidateModel' | 'registry'>) {
  const given = (i.registry ?? '').trim();
  if (given) return given;
  return i.candidateType === 'model' ? parseRegistryModelUri(i.candidateModel ?? '')?.registry : undefined;
}

export interface ValidInputs {
  candidate: { kind: 'job'; job: string } | { kind: 'model'; name: string; version?: string; latest?: boolean };
  baseline: BaselineMode;
  endpointName?: string;
  modelName?: string;
  tag?: { key: string; value: string };
  rules: MetricRule[];
  allowEqual: boolean;
  missingBaselineMetric: MissingBaselineMetric;
  failWhenNotBetter: boolean;
}

const JOB_NAME = /^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$/;
const ENDPOINT_NAME = /^[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]$/;

/**
 * Parse `name:version`, `azureml:name:version`, `name@latest`, and a registry model
 * `azureml://registries/<r>/models/<name>/versions/<version>` (or `…/labels/latest`).
 */
export function parseModelRef(
  input: string,
  value: string,
): { name: string; version?: string; latest?: boolean; registry?: string } {
  const reg = parseRegistryModelUri(value);
  if (reg) {
    if (!ASSET_NAME_PATTERN.test(reg.name))
      throw new InputError(input, `'${value}': '${reg.name}' is not a valid model name`);
    if (reg.label !== undefined && reg.label.toLowerCase() !== 'latest')
      throw new InputError(input, `'${value}': only the label latest is supported (or give …/versions/<version>)`);
    if (reg.version !== undefined && !VERSION_PATTERN.test(reg.version))
      throw new InputError(input, `'${value}': '${reg.version}' is not a valid model version`);
    return reg.version !== undefined
      ? { name: reg.name, version: reg.version, registry: reg.registry }
      : { name: reg.name, latest: true, registry: reg.registry };
  }
  if (/^azureml:\/\//i.test(value.trim()))
    throw new InputError(
      input,
      `'${value}' is not a model version: a registry model is azureml://registries/<registry>/models/<name>/versions/<version>`,
    );
  const v = value.trim().replace(/^azureml:/i, '');
  const at = /^([^:@]+)@(.+)$/.exec(v);
  const colon = /^([^:@]+):(.+)$/.exec(v);
  const name = at?.[1] ?? colon?.[1];
  if (!name || !ASSET_NAME_PATTERN.test(name)) {
    throw new InputError(
      input,
      `'${value}' is not a model version: use <name>:<version> (e.g. diabetes:3), azureml:<name>:<version> or <name>@latest`,
    );
  }
  if (at) {
    if (at[2]!.toLowerCase() !== 'latest')
      throw new InputError(input, `'${value}': only the label @latest is supported (or give <name>:<version>)`);
    return { name, latest: true };
  }
  if (!VERSION_PATTERN.test(colon![2]!))
    throw new InputError(input, `'${value}': '${colon![2]}' is not a valid model version`);
  return { name, version: colon![2]! };
}

export function validateInputs(i: EvaluateInputs): ValidInputs {
  let candidate: ValidInputs['candidate'];
  if (i.candidateType === 'model') {
    const m = (i.candidateModel ?? '').trim();
    if (!m)
      throw new InputError('candidateModel', 'is required when the candidate is a registered model (name:version)');
    const { registry, ...ref } = parseModelRef('candidateModel', m);
    const given = (i.registry ?? '').trim();
    if (registry && given && registry.toLowerCase() !== given.toLowerCase())
      throw new InputError('candidateModel', `'${m}' is in registry '${registry}', not in registry '${given}'`);
    candidate = { kind: 'model', ...ref };
  } else if (i.candidateType === 'job') {
    const j = (i.candidateJob ?? '').trim();
    if (!j) {
      throw new InputError(
        'candidateJob',
        (i.candidateModel ?? '').trim()
          ? 'is required when candidateType is job; set candidateType to model to evaluate candidateModel'
          : 'is required when the candidate is a job (its name, e.g. $(train.jobName))',
      );
    }
    if (!JOB_NAME.test(j))
      throw new InputError(
        'candidateJob',
        `'${j}' is not a job name (letters, digits, '-' and '_', starting with a letter or digit)`,
      );
    candidate = { kind: 'job', job: j };
  } else {
    throw new InputError('candidateType', `'${String(i.candidateType)}' is not one of job, model`);
  }
  if (!(BASELINE_MODES as readonly string[]).includes(i.baseline))
    throw new InputError('baseline', `'${String(i.baseline)}' is not one of ${BASELINE_MODES.join(', ')}`);
  const out: ValidInputs = {
    candidate,
    baseline: i.baseline,
    rules: parseMetricRules(i.metrics ?? ''),
    allowEqual: !!i.allowEqual,
    missingBaselineMetric: i.missingBaselineMetric ?? 'pass',
    failWhenNotBetter: !!i.failWhenNotBetter,
  };
  if (!['pass', 'fail'].includes(out.missingBaselineMetric))
    throw new InputError('missingBaselineMetric', `'${out.missingBaselineMetric}' is not one of pass, fail`);
  if (i.baseline === 'endpoint') {
    const e = (i.endpointName ?? '').trim();
    if (!e) throw new InputError('endpointName', 'is required when production is an online endpoint');
    if (!ENDPOINT_NAME.test(e))
      throw new InputError(
        'endpointName',
        `'${e}' is not an online endpoint name (3-32 letters, digits and '-', starting with a letter)`,
      );
    out.endpointName = e;
  } else {
    const n = (i.modelName ?? '').trim() || (candidate.kind === 'model' ? candidate.name : '');
    if (!n)
      throw new InputError(
        'modelName',
        `is required to find the production model by ${i.baseline === 'tag' ? 'tag' : 'latest version'} when the candidate is a job`,
      );
    if (!ASSET_NAME_PATTERN.test(n)) throw new InputError('modelName', `'${n}' is not a valid model name`);
    out.modelName = n;
    if (i.baseline === 'tag') {
      const t = (i.baselineTag ?? '').trim() || 'stage=production';
      const eq = t.indexOf('=');
      const key = (eq < 0 ? t : t.slice(0, eq)).trim();
      const value = eq < 0 ? '' : t.slice(eq + 1).trim();
      if (!key || /[,\s]/.test(key) || value.includes(','))
        throw new InputError('baselineTag', `'${t}' is not a tag: use key=value (e.g. stage=production) or just key`);
      out.tag = { key, value };
    }
  }
  return out;
}

/** The Azure reads of evaluateModel (all GETs; MLflow through the workspace's tracking URI). */
export function azureOps(ctx: AzureMLContext): EvaluateOps {
  let mlflow: MlflowClient | undefined;
  let trackingUri: string | undefined;
  const jobs = new Map<string, Promise<JobInfo | undefined>>();
  const readJob = async (name: string): Promise<JobInfo | undefined> => {
    const j = await getJob(ctx, name);
    if (!j) return undefined;
    const p = j.properties ?? {};
    const info: JobInfo = {
      name: j.name ?? name,
      displayName: p.displayName ?? undefined,
      jobType: p.jobType,
      status: p.status,
      experimentName: p.experimentName ?? undefined,
      properties: { ...((p.properties ?? {}) as Record<string, string>) },
      createdBy: j.systemData?.createdBy ?? undefined,
    };
    // a sweep's best trial: the job's properties, else run history (where Azure ML records it)
    if (String(info.jobType).toLowerCase() === 'sweep' && !info.properties['best_child_run_id']) {
      const det = await getRunDetails(ctx, j, trackingUri);
      if (det?.properties?.['best_child_run_id'])
        info.properties['best_child_run_id'] = det.properties['best_child_run_id'];
    }
    return info;
  };
  return {
    ws: ctx.ws,
    checkWorkspace: async () => {
      const w = await getWorkspace(ctx);
      trackingUri = w.mlFlowTrackingUri ?? undefined;
    },
    getJob: (name) => {
      let p = jobs.get(name);
      if (!p) {
        p = readJob(name);
        jobs.set(name, p);
      }
      return p;
    },
    getRunMetrics: async (runId) => {
      if (!trackingUri)
        throw new UserError(`Workspace '${ctx.ws.workspace}' has no MLflow tracking URI; job metrics cannot be read`);
      mlflow ??= new MlflowClient(ctx, trackingUri);
      const s = await mlflow.runSummary(runId);
      return s ? { metrics: s.metrics, tags: s.tags } : undefined;
    },
    getModelVersion: (name, version) => getModelVersion(ctx, name, version),
    listModelVersions: (name, o) =>
      listModelVersions(ctx, name, { orderBy: 'createdtime desc', tags: o.tags, top: o.top }),
    getEndpoint: async (name) => {
      const e = await getEndpoint(ctx, name);
      return e ? endpointInfo(e) : undefined;
    },
    getDeployment: async (endpoint, name) => {
      const d = await getDeployment(ctx, endpoint, name);
      return d ? deploymentInfo(d) : undefined;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Reading metrics

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string' || !NUMBER.test(v.trim())) return undefined;
  return Number(v.trim());
}

/**
 * A model version's own metrics: properties, then tags, named `metric.<name>` (or plain `<name>` when numeric).
 * `metric.<name>` wins over `<name>`, properties win over tags.
 */
export function modelOwnMetrics(v: ModelVersion): Record<string, number> {
  const out: Record<string, number> = {};
  const props = (v.properties?.properties ?? {}) as Record<string, string>;
  const tags = (v.properties?.tags ?? {}) as Record<string, string>;
  // lowest priority first
  for (const bag of [tags, props]) {
    for (const [k, val] of Object.entries(bag)) {
      if (/^metric\./i.test(k)) continue;
      if (/^(azureml|azdo|mlflow)\./i.test(k) || k === 'azureml-devops.contentKey') continue;
      const n = num(val);
      if (n !== undefined) out[k] = n;
    }
  }
  for (const bag of [tags, props]) {
    for (const [k, val] of Object.entries(bag)) {
      const m = /^metric\.(.+)$/i.exec(k);
      const n = num(val);
      if (m && n !== undefined) out[m[1]!] = n;
    }
  }
  return out;
}

/**
 * The job that produced a model version: jobName, property/tag azureml.jobName, or its URI
 * (azureml://jobs/<job>/outputs/…, …/paths/ExperimentRun/dcid.<job>/…, runs:/<job>/…).
 */
export function modelJobName(v: ModelVersion): string | undefined {
  const p = v.properties;
  if (!p) return undefined;
  const fromField = (p as { jobName?: string }).jobName;
  if (fromField) return fromField;
  const props = (p.properties ?? {}) as Record<string, string>;
  const tags = (p.tags ?? {}) as Record<string, string>;
  const named = props['azureml.jobName'] ?? tags['azureml.jobName'];
  if (named) return named;
  const uri = p.modelUri ?? '';
  const m =
    /^azureml:\/\/(?:subscriptions\/[^/]+\/resource[gG]roups\/[^/]+\/(?:providers\/Microsoft\.MachineLearningServices\/)?workspaces\/[^/]+\/)?jobs\/([^/]+)\/outputs\//i.exec(
      uri,
    ) ??
    /\/paths\/ExperimentRun\/dcid\.([^/]+)(?:\/|$)/i.exec(uri) ??
    /^runs:\/([^/]+)\//i.exec(uri); // MLflow run URI: run id = job name
  return m?.[1];
}

/** Model ARM id / azureml:name:version / azureml://…/models/name/versions/v → name + version (undefined for registry models). */
export function parseDeploymentModel(ref: string): ModelRef | { registry: string } | undefined {
  const r = ref.trim();
  if (/^azureml:\/\/registries\//i.test(r)) return { registry: r };
  const arm = /\/workspaces\/[^/]+\/models\/([^/]+)\/versions\/([^/?#]+)$/i.exec(r);
  if (arm) return { name: decodeURIComponent(arm[1]!), version: decodeURIComponent(arm[2]!) };
  const short = /^azureml:([^:/@]+):([^:/@]+)$/i.exec(r);
  if (short) return { name: short[1]!, version: short[2]! };
  return undefined;
}

export interface EvaluateDeps {
  ops: EvaluateOps;
  log: { info(m: string): void; warning(m: string): void; debug(m: string): void };
  now?: () => Date;
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? '∞' : n < 0 ? '−∞' : 'NaN';
  if (Number.isInteger(n)) return String(n);
  const s = Math.abs(n) >= 1e-4 && Math.abs(n) < 1e7 ? String(Number(n.toPrecision(6))) : n.toPrecision(6);
  return s;
}
function fmtPct(n: number): string {
  return Number.isFinite(n) ? String(Number(n.toFixed(2))) : fmt(n);
}
function fmtSigned(n: number): string {
  return n > 0 ? `+${fmt(n)}` : fmt(n);
}
/** " (2.5% better)" / " (1% worse)" / "" — relative change in the metric's better direction */
function relText(x: MetricResult): string {
  if (x.relative === undefined || x.relative === 0 || !Number.isFinite(x.relative)) return '';
  return ` (${fmtPct(Math.abs(x.relative))}% ${x.relative > 0 ? 'better' : 'worse'})`;
}
export { fmt as formatMetric };

class Reader {
  readonly warnings: string[] = [];
  private runCache = new Map<string, Promise<RunMetrics | undefined>>();
  constructor(private deps: EvaluateDeps) {}
  get ops() {
    return this.deps.ops;
  }
  warn(m: string) {
    this.warnings.push(m);
    this.deps.log.warning(m);
  }
  run(id: string) {
    let p = this.runCache.get(id);
    if (!p) {
      p = this.ops.getRunMetrics(id);
      this.runCache.set(id, p);
    }
    return p;
  }

  /** metrics of a job; sweeps: the best trial's (merged over the sweep's own) */
  async jobMetrics(job: JobInfo): Promise<{ metrics: Record<string, number>; source: string; bestChild?: string }> {
    const own = await this.run(job.name);
    let bestChild: string | undefined;
    if ((job.jobType ?? '').toLowerCase() === 'sweep') {
      bestChild = job.properties['best_child_run_id'] ?? own?.tags['best_child_run_id'];
      if (!bestChild)
        throw new UserError(
          `Sweep job '${job.name}' has no best trial yet (no best_child_run_id); evaluate it once it has completed`,
        );
      const child = await this.run(bestChild);
      return {
        metrics: { ...(own?.metrics ?? {}), ...(child?.metrics ?? {}) },
        source: `MLflow metrics of the best trial ${bestChild} of sweep job ${job.name}`,
        bestChild,
      };
    }
    return { metrics: { ...(own?.metrics ?? {}) }, source: `MLflow metrics of job ${job.name}` };
  }

  /** a model version's metrics: its own, completed with those of the job that produced it for rules it lacks */
  async modelMetrics(
    v: ModelVersion,
    name: string,
    version: string,
    rules: MetricRule[],
  ): Promise<{ metrics: Record<string, number>; source: string; jobName?: string }> {
    const own = modelOwnMetrics(v);
    const jobName = modelJobName(v);
    const missing = rules.filter((r) => !(r.name in own));
    const sources: string[] = [];
    if (Object.keys(own).length) sources.push(`properties/tags of model ${name}:${version}`);
    let metrics = { ...own };
    if (missing.length && jobName) {
      const job = await this.ops.getJob(jobName);
      if (!job) {
        this.warn(
          `Model ${name}:${version} was produced by job '${jobName}', which no longer exists: its metrics cannot be read`,
        );
      } else {
        const jm = await this.jobMetrics(job);
        metrics = { ...jm.metrics, ...own };
        if (missing.some((r) => r.name in jm.metrics)) sources.push(jm.source);
      }
    }
    return { metrics, source: sources.join(' + ') || `model ${name}:${version} (no metrics found)`, jobName };
  }
}

function ownerOf(v: ModelVersion): string | undefined {
  const sd = (v as { systemData?: { createdBy?: string } }).systemData;
  return sd?.createdBy || undefined;
}
function createdAt(v: ModelVersion): string | undefined {
  const d = (v as { systemData?: { createdAt?: Date | string } }).systemData?.createdAt;
  return d ? new Date(d).toISOString() : undefined;
}

/** Fetch a model version by name:version or newest version (name@latest). */
async function readCandidateModel(
  r: Reader,
  c: { name: string; version?: string; latest?: boolean },
): Promise<{ v: ModelVersion; version: string }> {
  if (c.latest) {
    const [v] = await r.ops.listModelVersions(c.name, { top: 1 });
    if (!v?.name) throw new InputError('candidateModel', `model '${c.name}' has no versions in ${modelScope(r.ops)}`);
    return { v, version: v.name };
  }
  const v = await r.ops.getModelVersion(c.name, c.version!);
  if (!v)
    throw new InputError(
      'candidateModel',
      `model '${c.name}' version ${c.version} was not found in ${modelScope(r.ops)}`,
    );
  return { v, version: c.version! };
}

function unknownMetricError(rules: MetricRule[], side: Side): void {
  const missing = rules.filter((r) => !(r.name in side.metrics)).map((r) => r.name);
  if (!missing.length) return;
  const avail = Object.keys(side.metrics).sort();
  throw new InputError(
    'metrics',
    `${missing.map((m) => `'${m}'`).join(', ')} ${missing.length > 1 ? 'are not metrics' : 'is not a metric'} of the candidate ${side.label}; ` +
      (avail.length ? `available: ${avail.join(', ')}` : 'it has no metrics') +
      (/^pipeline$/i.test(side.job?.jobType ?? '') && !side.model
        ? ' (a pipeline job logs no metrics itself: give the name of the step job that does)'
        : ''),
  );
}

interface Identity {
  models: Set<string>;
  jobs: Set<string>;
}
function isCandidate(id: Identity, name: string, version: string, v: ModelVersion | undefined): boolean {
  if (id.models.has(`${name}:${version}`)) return true;
  const j = v ? modelJobName(v) : undefined;
  return !!j && id.jobs.has(j);
}

/**
 * Evaluate. Read-only; every input is checked before the first request. Observe (the candidate and its metrics, then
 * what production is) → decide (no production: first model; production is the candidate: already in production;
 * else compare) → the evaluation.
 */
export async function evaluateModel(inputs: EvaluateInputs, deps: EvaluateDeps): Promise<Evaluation> {
  const valid = validateInputs(inputs);
  const r = new Reader(deps);
  await deps.ops.checkWorkspace();
  const { side: candidate, identity } =
    valid.candidate.kind === 'job'
      ? await candidateJob(r, valid.candidate.job)
      : await candidateModel(r, valid.candidate, valid.rules);
  unknownMetricError(valid.rules, candidate);
  deps.log.info(`Candidate: ${candidate.label} — ${candidate.metricsSource}`);
  const found =
    valid.baseline === 'endpoint'
      ? await productionOfEndpoint(r, valid.endpointName!)
      : await productionOfModel(r, valid, identity);
  const evaluation = newEvaluation(valid, candidate, found.prod, r, deps);
  if (!found.prod) return firstModel(evaluation, valid, found.why!, deps.log);
  if (valid.baseline === 'endpoint' && isCandidate(identity, found.prod.name, found.prod.version, found.prod.v))
    return alreadyInProduction(evaluation, valid, found.prod, deps);
  return compareWithProduction(evaluation, valid, found.prod, r, deps.log);
}

/** the production model found: by the endpoint's main deployment, or by tag / latest version */
interface Production {
  name: string;
  version: string;
  /** azureml:<name>:<version>, or the registry model URI */
  id: string;
  studioUrl: string;
  v: ModelVersion;
  endpoint?: Side['endpoint'];
}

/** The candidate job (Completed) and its metrics (a sweep's best trial's). */
async function candidateJob(r: Reader, name: string): Promise<{ side: Side; identity: Identity }> {
  const ws = r.ops.ws;
  const job = await r.ops.getJob(name);
  if (!job) throw new InputError('candidateJob', `job '${name}' was not found in workspace '${ws.workspace}'`);
  if (job.status && job.status !== 'Completed') {
    throw new UserError(`Candidate job '${name}' is ${job.status}; only a Completed job can be evaluated`);
  }
  const jm = await r.jobMetrics(job);
  const identity: Identity = { models: new Set(), jobs: new Set([name, ...(jm.bestChild ? [jm.bestChild] : [])]) };
  const side: Side = {
    label: `job ${name}${jm.bestChild ? ` (best trial ${jm.bestChild})` : ''}`,
    id: name,
    job: {
      name,
      displayName: job.displayName,
      jobType: job.jobType,
      status: job.status,
      studioUrl: studioUrl(ws, 'job', name),
      bestChildOf: undefined,
      createdBy: job.createdBy,
    },
    metrics: jm.metrics,
    metricsSource: jm.source,
  };
  return { side, identity };
}

/** The candidate model version and its metrics (its own, completed from the job that produced it). */
async function candidateModel(
  r: Reader,
  c: { name: string; version?: string; latest?: boolean },
  rules: MetricRule[],
): Promise<{ side: Side; identity: Identity }> {
  const ws = r.ops.ws;
  const { v, version } = await readCandidateModel(r, c);
  const mm = await r.modelMetrics(v, c.name, version, rules);
  const identity: Identity = {
    models: new Set([`${c.name}:${version}`]),
    jobs: new Set(mm.jobName ? [mm.jobName] : []),
  };
  const side: Side = {
    label: `model ${c.name}:${version}`,
    id: modelIdOf(r.ops, c.name, version),
    model: {
      name: c.name,
      version,
      studioUrl: modelStudioUrl(r.ops, c.name, version),
      createdBy: ownerOf(v),
      createdAt: createdAt(v),
    },
    ...(mm.jobName ? { job: { name: mm.jobName, studioUrl: studioUrl(ws, 'job', mm.jobName) } } : {}),
    metrics: mm.metrics,
    metricsSource: mm.source,
  };
  return { side, identity };
}

/** Production = the model of the endpoint's deployment with the most traffic (ties: first by name, warned). */
async function productionOfEndpoint(r: Reader, endpointName: string): Promise<{ prod?: Production; why?: string }> {
  const { ops } = r;
  const ws = ops.ws;
  const ep = await ops.getEndpoint(endpointName);
  // a missing endpoint is an error, not a first model: a misspelled name would otherwise approve any candidate
  if (!ep) {
    throw new InputError(
      'endpointName',
      `online endpoint '${endpointName}' does not exist in workspace '${ws.workspace}'; ` +
        'create the endpoint first, or use baseline=latest/tag for a first model',
    );
  }
  const ranked = Object.entries(ep.traffic ?? {})
    .filter(([, t]) => Number(t) > 0)
    .sort((a, b) => Number(b[1]) - Number(a[1]) || a[0].localeCompare(b[0]));
  if (!ranked.length) return { why: `no deployment of online endpoint '${ep.name}' takes traffic` };
  const [depName, traffic] = ranked[0]!;
  if (ranked.length > 1 && Number(ranked[1]![1]) === Number(traffic)) {
    r.warn(
      `Deployments ${ranked
        .filter((x) => Number(x[1]) === Number(traffic))
        .map((x) => x[0])
        .join(' and ')} take the same traffic (${traffic}%); using ${depName} (first by name)`,
    );
  }
  const of = `Deployment '${depName}' of online endpoint '${ep.name}'`;
  const dep = await ops.getDeployment(ep.name, depName);
  if (!dep) throw new UserError(`${of} takes ${traffic}% of the traffic but was not found`);
  if (!dep.model) throw new UserError(`${of} has no model`);
  const parsed = parseDeploymentModel(dep.model);
  if (!parsed) throw new UserError(`${of} serves '${dep.model}', which is not a model version of this workspace`);
  let ref: ModelRef;
  let fromRegistry = false;
  if ('registry' in parsed) {
    const rr = parseRegistryModelUri(parsed.registry);
    if (!rr?.version || !ops.registry || rr.registry.toLowerCase() !== ops.registry.toLowerCase())
      throw new UserError(
        `${of} serves a registry model (${parsed.registry}); set the registry input to ${rr ? `'${rr.registry}'` : 'its registry'} to read its metrics there`,
      );
    ref = { name: rr.name, version: rr.version };
    fromRegistry = true;
  } else ref = parsed;
  // a workspace model version of the endpoint is read in the workspace even when the task reads models in a registry
  const v = fromRegistry || !ops.registry ? await ops.getModelVersion(ref.name, ref.version) : undefined;
  if (!v)
    throw new UserError(
      ops.registry && !fromRegistry
        ? `${of} serves workspace model ${ref.name}:${ref.version}, but the task reads models in ${modelScope(ops)}: leave the registry input empty to compare with it`
        : `${of} serves model ${ref.name}:${ref.version}, which was not found in ${modelScope(ops)}`,
    );
  return {
    prod: {
      name: ref.name,
      version: ref.version,
      id: modelIdOf(ops, ref.name, ref.version),
      studioUrl: modelStudioUrl(ops, ref.name, ref.version),
      v,
      endpoint: {
        name: ep.name,
        deployment: depName,
        traffic: Number(traffic),
        studioUrl: studioUrl(ws, 'endpoint', ep.name),
      },
    },
  };
}

/** Production = the newest version of the model (with the tag, for baseline=tag) that is not archived and not the candidate. */
async function productionOfModel(
  r: Reader,
  valid: ValidInputs,
  identity: Identity,
): Promise<{ prod?: Production; why?: string }> {
  const name = valid.modelName!;
  const tag = valid.tag;
  const tagFilter = valid.baseline === 'tag' ? { [tag!.key]: tag!.value } : undefined;
  const list = await r.ops.listModelVersions(name, { tags: tagFilter, top: 50 });
  const fits = (v: ModelVersion) => {
    if (v.properties?.isArchived) return false;
    if (!tagFilter) return true;
    const tags = (v.properties?.tags ?? {}) as Record<string, string>;
    return tag!.key in tags && (tag!.value === '' || tags[tag!.key] === tag!.value);
  };
  let skipped = 0;
  for (const v of list) {
    if (!v.name || !fits(v)) continue;
    if (isCandidate(identity, name, v.name, v)) {
      skipped++;
      continue;
    }
    return {
      prod: {
        name,
        version: v.name,
        v,
        id: modelIdOf(r.ops, name, v.name),
        studioUrl: modelStudioUrl(r.ops, name, v.name),
      },
    };
  }
  const why =
    list.length === 0 && !tagFilter
      ? `model '${name}' has no versions in ${modelScope(r.ops)}`
      : `no version of model '${name}'${tagFilter ? ` carries the tag ${tag!.value ? `${tag!.key}=${tag!.value}` : tag!.key}` : ''}${skipped ? ' other than the candidate' : ''}`;
  return { why };
}

function newEvaluation(
  valid: ValidInputs,
  candidate: Side,
  prod: Production | undefined,
  r: Reader,
  deps: EvaluateDeps,
): Evaluation {
  const ws = deps.ops.ws;
  const selector =
    valid.baseline === 'endpoint'
      ? `endpoint ${valid.endpointName}`
      : valid.baseline === 'tag'
        ? `model ${valid.modelName} tagged ${valid.tag!.value ? `${valid.tag!.key}=${valid.tag!.value}` : valid.tag!.key}`
        : `latest version of model ${valid.modelName}`;
  return {
    schema: 'azureml-devops/model-evaluation@1',
    evaluatedAt: (deps.now?.() ?? new Date()).toISOString(),
    workspace: { subscriptionId: ws.subscriptionId, resourceGroup: ws.resourceGroup, workspace: ws.workspace },
    isBetter: false,
    verdict: 'not-better',
    message: '',
    candidate,
    baseline: { mode: valid.baseline, selector, found: !!prod },
    options: { allowEqual: valid.allowEqual, missingBaselineMetric: valid.missingBaselineMetric },
    rules: valid.rules.map((x) => ({
      name: x.name,
      direction: x.direction,
      minDelta: x.minDelta,
      minRelative: x.minRelative,
      text: x.text,
    })),
    results: [],
    warnings: r.warnings,
  };
}

/** No production model: the candidate is the first model and wins. */
function firstModel(e: Evaluation, valid: ValidInputs, why: string, log: EvaluateDeps['log']): Evaluation {
  const c = e.candidate;
  e.baseline.why = why;
  e.isBetter = true;
  e.verdict = 'first-model';
  e.results = valid.rules.map((x) => ({
    name: x.name,
    direction: x.direction,
    requirement: requirementText(x, valid.allowEqual),
    candidate: c.metrics[x.name]!,
    passed: true,
    reason: 'no production model to compare with',
  }));
  e.message = `No production model (${why}): the candidate ${c.label} is the first model and wins.`;
  log.info(e.message);
  return e;
}

/** The candidate itself is what production serves (a rerun after promotion): nothing to compare. */
function alreadyInProduction(e: Evaluation, valid: ValidInputs, prod: Production, deps: EvaluateDeps): Evaluation {
  const c = e.candidate;
  const side: Side = {
    label: `model ${prod.name}:${prod.version} (deployment ${prod.endpoint!.deployment} on endpoint ${prod.endpoint!.name}, ${prod.endpoint!.traffic}% of traffic)`,
    id: prod.id,
    model: {
      name: prod.name,
      version: prod.version,
      studioUrl: prod.studioUrl,
    },
    endpoint: prod.endpoint,
    metrics: c.metrics,
    metricsSource: 'the candidate itself',
  };
  e.baseline.side = side;
  e.isBetter = true;
  e.verdict = 'already-in-production';
  e.results = valid.rules.map((x) => ({
    name: x.name,
    direction: x.direction,
    requirement: requirementText(x, valid.allowEqual),
    candidate: c.metrics[x.name]!,
    baseline: c.metrics[x.name],
    delta: 0,
    improvement: 0,
    relative: 0,
    passed: true,
    reason: 'the candidate is the production model',
  }));
  e.message = `The candidate ${c.label} is already the production model (${side.label}); nothing to compare.`;
  deps.log.info(e.message);
  return e;
}

/** Production's metrics, then every rule: better when all pass. */
async function compareWithProduction(
  e: Evaluation,
  valid: ValidInputs,
  prod: Production,
  r: Reader,
  log: EvaluateDeps['log'],
): Promise<Evaluation> {
  const ws = r.ops.ws;
  const { rules } = valid;
  const candidate = e.candidate;
  const pm = await r.modelMetrics(prod.v, prod.name, prod.version, rules);
  const prodSide: Side = {
    label:
      `model ${prod.name}:${prod.version}` +
      (prod.endpoint
        ? ` (deployment ${prod.endpoint.deployment} on endpoint ${prod.endpoint.name}, ${prod.endpoint.traffic}% of traffic)`
        : ''),
    id: prod.id,
    model: {
      name: prod.name,
      version: prod.version,
      studioUrl: prod.studioUrl,
      createdBy: ownerOf(prod.v),
      createdAt: createdAt(prod.v),
    },
    ...(pm.jobName ? { job: { name: pm.jobName, studioUrl: studioUrl(ws, 'job', pm.jobName) } } : {}),
    ...(prod.endpoint ? { endpoint: prod.endpoint } : {}),
    metrics: pm.metrics,
    metricsSource: pm.source,
  };
  e.baseline.side = prodSide;
  log.info(`Production: ${prodSide.label} — ${prodSide.metricsSource}`);
  e.results = rules.map((x) => {
    const res = compareMetric(x, candidate.metrics[x.name]!, prodSide.metrics[x.name], e.options);
    if (res.baseline === undefined) {
      r.warn(
        `Production ${prodSide.label} has no value for metric '${x.name}': ${valid.missingBaselineMetric === 'pass' ? 'not compared (missingBaselineMetric=pass)' : 'counts as not better (missingBaselineMetric=fail)'}`,
      );
    }
    return res;
  });
  e.isBetter = e.results.every((x) => x.passed);
  e.verdict = e.isBetter ? 'better' : 'not-better';
  const failed = e.results.filter((x) => !x.passed);
  e.message = e.isBetter
    ? `The candidate ${candidate.label} is better than production ${prodSide.label}: ${rules.length === 1 ? 'the metric rule passes' : `all ${rules.length} metric rules pass`}.`
    : `The candidate ${candidate.label} is not better than production ${prodSide.label}: ${failed.map((x) => `${x.name} (${x.reason})`).join(', ')}.`;
  for (const x of e.results) {
    log.info(
      `  ${x.passed ? 'PASS' : 'FAIL'} ${x.name}: candidate ${fmt(x.candidate)}, production ${x.baseline === undefined ? '—' : fmt(x.baseline)}` +
        `${x.delta === undefined ? '' : `, delta ${fmtSigned(x.delta)}${relText(x)}`} — ${x.reason}`,
    );
  }
  log.info(e.message);
  return e;
}

// ---------------------------------------------------------------------------------------------
// Output variables and summary

/** Output variable names can hold letters, digits, '.', '_' and '-'. */
export function outputName(metric: string): string {
  return metric.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/** The per-metric output variables: metric.<name>.candidate / .baseline / .delta ('' when there is no production value). */
export function metricOutputs(e: Evaluation): Record<string, string> {
  const out: Record<string, string> = {};
  for (const x of e.results) {
    const n = outputName(x.name);
    out[`metric.${n}.candidate`] = String(x.candidate);
    out[`metric.${n}.baseline`] = x.baseline === undefined ? '' : String(x.baseline);
    out[`metric.${n}.delta`] = x.delta === undefined ? '' : String(x.delta);
  }
  return out;
}

const esc = (s: string) =>
  String(s)
    .replace(/[|`*_<>[\]\\]/g, (c) => `\\${c}`)
    .replace(/\r?\n/g, ' ');
const link = (text: string, url?: string) => (url ? `[${esc(text)}](${url})` : esc(text));

function sideRows(s: Side): string[] {
  const rows: string[] = [];
  if (s.model)
    rows.push(
      `model ${link(`${s.model.name}:${s.model.version}`, s.model.studioUrl)}${s.model.createdBy ? ` registered by ${esc(s.model.createdBy)}` : ''}${s.model.createdAt ? ` on ${s.model.createdAt.slice(0, 10)}` : ''}`,
    );
  if (s.endpoint)
    rows.push(
      `deployment ${esc(s.endpoint.deployment)} (${s.endpoint.traffic}% of traffic) on endpoint ${link(s.endpoint.name, s.endpoint.studioUrl)}`,
    );
  if (s.job)
    rows.push(
      `${s.model ? 'produced by ' : ''}job ${link(s.job.name, s.job.studioUrl)}${s.job.displayName && s.job.displayName !== s.job.name ? ` (${esc(s.job.displayName)})` : ''}${s.job.jobType ? `, ${esc(s.job.jobType)}` : ''}${s.job.createdBy ? `, submitted by ${esc(s.job.createdBy)}` : ''}`,
    );
  return rows;
}

export function evaluationSummary(e: Evaluation): string {
  const verdictText: Record<Verdict, string> = {
    better: '✅ **Better than production**',
    'not-better': '❌ **Not better than production**',
    'first-model': '✅ **First model** — nothing in production to compare with',
    'already-in-production': '✅ **Already in production** — the candidate is the production model',
  };
  const lines: string[] = [`### Model evaluation: ${verdictText[e.verdict]}`, '', esc(e.message), ''];
  lines.push('| | Candidate | Production |', '|---|---|---|');
  const b = e.baseline.side;
  lines.push(
    `| What | ${sideRows(e.candidate).join('<br>')} | ${b ? sideRows(b).join('<br>') : `none: ${esc(e.baseline.why ?? '')}`} |`,
  );
  lines.push(`| Metrics from | ${esc(e.candidate.metricsSource)} | ${b ? esc(b.metricsSource) : '—'} |`);
  lines.push('', `Production was looked up as: ${esc(e.baseline.selector)}.`, '');
  lines.push(
    '| Metric | Direction | Candidate | Production | Delta | Requirement | Result |',
    '|---|---|---:|---:|---:|---|---|',
  );
  for (const x of e.results) {
    const d = x.delta === undefined ? '—' : `${fmtSigned(x.delta)}${relText(x)}`;
    lines.push(
      `| ${esc(x.name)} | ${x.direction === 'higher' ? '↑ higher' : '↓ lower'} | ${fmt(x.candidate)} | ${x.baseline === undefined ? '—' : fmt(x.baseline)} | ${d} | ${esc(x.requirement)} | ${x.passed ? '✅ pass' : '❌ fail'}: ${esc(x.reason)} |`,
    );
  }
  if (e.warnings.length) {
    lines.push('', '**Warnings**', '');
    for (const w of e.warnings) lines.push(`- ${esc(w)}`);
  }
  lines.push(
    '',
    `Workspace ${esc(e.workspace.workspace)} (resource group ${esc(e.workspace.resourceGroup)}), evaluated ${e.evaluatedAt}.`,
  );
  return lines.join('\n') + '\n';
}
