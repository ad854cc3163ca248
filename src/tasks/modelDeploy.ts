// AzureMLModelDeploy@1: deploy a model to a managed or Kubernetes online endpoint with a safe rollout.
//
//  1. Everything local is checked first (traffic steps, sample request, expected response, YAML files, scoring code),
//     then everything remote is read (workspace, endpoint, compute + instance types, deployments, model / code /
//     environment references — the deployment body is built completely in the resolver's checking phase).
//     A bad input fails here: nothing has been created.
//  2. Rerun with the same model: the deployment exists with the same spec (probes and request settings included) and
//     already has 100 % → nothing changes; in another release / stage / approval only its governance tags are updated.
//  3. Endpoint created if missing (updated only when description / tags differ; its auth mode is never changed); uploads and asset
//     versions written; the new deployment created beside the live one with 0 % traffic.
//  4. Smoke test straight at the new deployment (`azureml-model-deployment` header): N probes, each passed / failed /
//     inconclusive (inconclusive ones retried with back-off), verdict by the thresholds — deploy/analysis.ts.
//  4b. Optional mirror stage (mirrorPercent > 0, managed endpoint with another live deployment): the endpoint's
//     mirrorTraffic = {new: N} (api-version 2023-04-01, raw REST: the SDK drops the field), requests through the
//     endpoint for mirrorSeconds so copies reach the new deployment (their answers are discarded by the service), then
//     the new deployment is judged by what its container log shows for that window (getLogs: scoring exceptions and
//     5xx answers fail the stage) and its provisioningState; mirrorTraffic is cleared again before the first step.
//  5. Traffic moves in steps; after each step a health check (probes through the endpoint without the header, judged
//     like the smoke test, + the deployment's provisioningState).
//  6. Any failure or cancellation: a mirror that was set is cleared, traffic goes back to exactly the map saved before the first change (GET → PUT, with a
//     fresh, non-aborted signal) and the new deployment's container log tail is printed.
//  7. Optionally the deployments that lost all their traffic are deleted; the governance hook is told.
import { applyDataCollectionInputs, attachDataCollector, dataCollectorChanges, putDeploymentFor, wantedDataCollector, type CollectorOps } from './deploy/dataCollector';
import { ensureCollectionAsset, getDeploymentDataCollector, putDeploymentWithCollector } from '../azureml/dataCollector';
import { promises as fsp, statSync } from 'node:fs';
import * as path from 'node:path';
import type { OnlineDeployment, OnlineEndpoint } from '@azure/arm-machinelearning';
import { InputError, UserError, info, lineageTags, type PipelineContext, type ReleaseArtifact } from '../pipeline';
import {
  armGetOptional, getWorkspace, studioUrl, wsPath, type AzureMLContext, type WorkspaceRef,
} from '../azureml';
import {
  abortableSleep, deleteDeployment, deploymentInfo, endpointInfo, endpointKeys, endpointToken, getDeployment, getDeploymentLogs, getEndpoint,
  listDeployments, putDeployment, putEndpoint, scoreOnce, setMirrorTraffic, setTraffic, updateDeploymentTags, updateEndpoint,
  type DeploymentInfo, type EndpointInfo, type EndpointKind, type ScoreResult,
} from '../azureml/endpoints';
import type { LroWaitOptions } from '../azureml/poll';
import {
  DeploymentSpecError, buildOnlineDeploymentBody, buildOnlineEndpointBody, deploymentSpecFromInputs, parseAuthMode,
  parseOnlineDeploymentYaml, parseOnlineEndpointYaml,
  type DeploymentResolver, type OnlineDeploymentSpec, type OnlineEndpointSpec, type ProbeInput,
} from '../azureml/deploymentSpec';
import { AzureDeploymentResolver } from '../azureml/deploymentResolver';
import { readEndpointHealth, type EndpointHealth } from '../azureml/metrics';
import { deploymentDifferences as normalizedDeploymentDifferences, isoDurationMs } from '../azureml/normalize';
import {
  analysisThresholds, decideMetrics, describeAnalysis, describeCounts, runProbes, stepFailure, type Verdict,
  type AnalysisThresholds, type LatencyProfile, type ProbeAnalysis,
} from './deploy/analysis';

export { latencyProfile, percentile, type LatencyProfile } from './deploy/analysis';

// ---------------------------------------------------------------------------------------------------------- types

export interface Approval { approver: string; approvedOn: string; comments?: string }
export interface DeployedInfo {
  endpointName: string; deploymentName: string; modelId?: string; scoringUri?: string;
  trafficBefore: Record<string, number>; trafficAfter: Record<string, number>; smoke?: LatencyProfile; unchanged: boolean;
}
/** Hook for the release governance (src/devops): approvals recorded as deployment tags; told after a success. */
export interface Governance {
  approvals(): Promise<Approval[]>;
  onDeployed?(info: DeployedInfo): Promise<void>;
}

export interface DeployInputs {
  endpointName?: string;
  endpointType: 'managed' | 'kubernetes';
  /** attached Kubernetes compute (name, azureml:name or ARM id) */
  compute?: string;
  /** blank: key for a new endpoint, an existing endpoint keeps its mode (it cannot change) */
  authMode?: 'key' | 'aml_token';
  endpointDescription?: string;
  endpointFile?: string;
  deploymentFile?: string;
  /** values for `{{NAME}}` placeholders in the YAML files */
  yamlVariables?: Record<string, string>;
  deploymentName?: string;
  /** explicit model: azureml:name:version, name:version, azureml:name@latest, name (latest), ARM id, local path */
  model?: string;
  /** the release's model artifact (DefinitionName / BuildNumber), used when no model is given */
  releaseModel?: { alias: string; name: string; version: string };
  environment?: string;
  condaFile?: string;
  codePath?: string;
  scoringScript?: string;
  instanceType?: string;
  instanceCount?: number;
  resourceRequests?: Record<string, string>;
  resourceLimits?: Record<string, string>;
  livenessProbe?: Record<string, string>;
  readinessProbe?: Record<string, string>;
  maxConcurrentRequestsPerInstance?: number;
  requestTimeoutMs?: number;
  environmentVariables?: Record<string, string>;
  tags?: Record<string, string>;
  /** collections to enable (model_inputs, model_outputs, …) and their sampling rate: src/tasks/deploy/dataCollector.ts */
  dataCollection?: string[];
  dataCollectionSamplingRate?: number;
  sampleRequestFile?: string;
  expectedResponse?: string;
  smokeRequests?: number;
  /** per step (smoke test, each health check): fail when the p95 latency of its conclusive probes is above this */
  maxP95Ms?: number;
  /** per step: fail when more than this share (%) of its conclusive probes failed (default 0) */
  maxFailurePercent?: number;
  /** a single answer slower than this (ms) is a failed probe */
  maxLatencyMs?: number;
  /** more inconclusive attempts in a row than this make a step inconclusive (default 4) */
  maxConsecutiveInconclusive?: number;
  trafficSteps?: string;
  healthCheckRequests?: number;
  stepWaitSeconds?: number;
  /** 0..50: % of the endpoint's traffic mirrored to the new deployment before the traffic steps (0 = no mirror stage) */
  mirrorPercent?: number;
  /** how long the mirror stage lasts (0..3600 s, default 60) */
  mirrorSeconds?: number;
  deleteOldDeployment?: boolean;
  logTail?: number;
  /** where the JSON deployment report goes (Agent.TempDirectory) */
  reportDir?: string;
}

export interface ComputeInfo { id: string; name: string; computeType: string; instanceTypes: string[]; defaultInstanceType?: string }

export interface PlanningResolver extends DeploymentResolver { pendingWrites: string[]; commit(): Promise<void> }

/** Everything deployModel does against Azure, injectable for unit tests. */
export interface DeployOps {
  ws: WorkspaceRef;
  location(): Promise<string>;
  getCompute(name: string): Promise<ComputeInfo | undefined>;
  getEndpoint(name: string, signal?: AbortSignal): Promise<EndpointInfo | undefined>;
  createEndpoint(name: string, body: Record<string, unknown>): Promise<EndpointInfo>;
  updateEndpoint(name: string, change: { authMode?: string; description?: string; tags?: Record<string, string> }): Promise<EndpointInfo>;
  listDeployments(endpoint: string, signal?: AbortSignal): Promise<DeploymentInfo[]>;
  getDeployment(endpoint: string, name: string): Promise<DeploymentInfo | undefined>;
  putDeployment(endpoint: string, name: string, body: Record<string, unknown>): Promise<DeploymentInfo>;
  /** the deployment's dataCollector (api-version 2024-04-01); absent: the deployment is not compared on it */
  getDataCollector?: CollectorOps['getDataCollector'];
  /** tags only (PATCH), no redeployment */
  updateDeploymentTags(endpoint: string, name: string, tags: Record<string, string>): Promise<DeploymentInfo>;
  deleteDeployment(endpoint: string, name: string): Promise<void>;
  setTraffic(endpoint: string, traffic: Record<string, number>, signal?: AbortSignal): Promise<Record<string, number>>;
  /** endpoint mirrorTraffic (api-version 2023-04-01); `{}` clears it; returns what the service reports */
  setMirrorTraffic(endpoint: string, mirror: Record<string, number>, signal?: AbortSignal): Promise<Record<string, number>>;
  /** key (authMode Key) or AML token, masked */
  credential(endpoint: string, authMode: string): Promise<string>;
  logs(endpoint: string, deployment: string, tail: number, signal?: AbortSignal): Promise<string>;
  score(uri: string, body: string, o: { credential: string; deployment?: string; contentType?: string; signal?: AbortSignal }): Promise<ScoreResult>;
  resolver(opts: { deploymentName?: string; errorPrefix?: string }): PlanningResolver;
  /** the deployment's Azure Monitor metrics since a time (managed endpoints; src/azureml/metrics.ts) */
  metrics?(endpoint: string, deployment: string, since: Date, signal?: AbortSignal): Promise<EndpointHealth>;
}

export interface DeployDeps {
  ops: DeployOps;
  log: { info(m: string): void; warning(m: string): void; debug(m: string): void; section?(t: string): void };
  progress(percent: number, text?: string): void;
  context: PipelineContext;
  cwd?: string;
  signal?: AbortSignal;
  governance?: Governance;
  /** abortable wait (tests pass a fast one) */
  sleep?(ms: number, signal?: AbortSignal): Promise<void>;
}

/** What the mirror stage did and saw (the container log of the window is its verdict). */
export interface MirrorRecord {
  percent: number; seconds: number;
  /** requests the task sent through the endpoint during the window (answered by the live deployment) */
  endpoint?: LatencyProfile;
  /** how those requests were judged (probe analysis) */
  endpointAnalysis?: ProbeAnalysis;
  /** what the new deployment's container log shows for the window */
  logged: MirrorLogVerdict;
  skipped?: string;
}

export interface StepRecord {
  percent: number; traffic: Record<string, number>; health?: LatencyProfile; analysis?: ProbeAnalysis; provisioningState?: string;
  /** the deployment's own Azure Monitor metrics over the step (managed endpoints) and their verdict */
  metrics?: EndpointHealth & { verdict: Verdict; rule: string };
}

export interface DeployResult {
  endpointName: string;
  deploymentName: string;
  endpointKind: EndpointKind;
  authMode: string;
  scoringUri?: string;
  /** key of a key-auth endpoint (already masked); the entry sets it as a secret output */
  endpointKey?: string;
  modelId?: string;
  trafficBefore: Record<string, number>;
  trafficAfter: Record<string, number>;
  unchanged: boolean;
  endpointCreated: boolean;
  deploymentWritten: boolean;
  /** the governance tags of an unchanged deployment were brought up to date (PATCH) */
  tagsUpdated: boolean;
  smoke?: LatencyProfile;
  /** the smoke test's probes, by outcome and cause, and its verdict */
  smokeAnalysis?: ProbeAnalysis;
  mirror?: MirrorRecord;
  steps: StepRecord[];
  deleted: string[];
  studioUrl: string;
  modelStudioUrl?: string;
  reportFile?: string;
  warnings: string[];
  /** set when the rollout failed: why, and what the rollback did */
  failure?: string;
}

/** The rollout failed and was rolled back; `result` holds what was measured up to then (the entry writes its summary). */
export class RolloutFailed extends UserError {
  constructor(message: string, readonly result: DeployResult, options?: { cause?: unknown }) { super(message, options); }
}

// ---------------------------------------------------------------------------------------------------------- pure helpers

/** `10,50,100` → [10, 50, 100]: whole percentages 1..100, strictly increasing, ending at 100 (empty → [100]). */
export function parseTrafficSteps(text: string | undefined): number[] {
  const parts = (text ?? '').split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);
  if (!parts.length) return [100];
  const steps: number[] = [];
  for (const p of parts) {
    const t = p.replace(/%$/, '');
    if (!/^\d+$/.test(t)) throw new InputError('trafficSteps', `'${p}' is not a whole percentage (use e.g. 10,50,100)`);
    const n = Number(t);
    if (n < 1 || n > 100) throw new InputError('trafficSteps', `${n} is not between 1 and 100`);
    if (steps.length && n <= steps[steps.length - 1]!) throw new InputError('trafficSteps', `steps must increase: ${n} comes after ${steps[steps.length - 1]}`);
    steps.push(n);
  }
  if (steps[steps.length - 1] !== 100) throw new InputError('trafficSteps', `the last step must be 100 (got ${steps.join(',')}); the rollout ends with all traffic on the new deployment`);
  return steps;
}

/** Traffic with `pct` on `target` and the rest split over the other live deployments by their current weights. */
export function stepTraffic(before: Record<string, number>, target: string, pct: number): Record<string, number> {
  const others = Object.entries(before).filter(([k, v]) => k.toLowerCase() !== target.toLowerCase() && v > 0);
  const out: Record<string, number> = {};
  for (const [k] of Object.entries(before)) if (k.toLowerCase() !== target.toLowerCase()) out[k] = 0;
  const sum = others.reduce((a, [, v]) => a + v, 0);
  if (pct >= 100 || sum === 0) { out[target] = 100; return out; }
  const remaining = 100 - pct;
  const shares = others.map(([k, v]) => ({ k, exact: (v * remaining) / sum }));
  let given = 0;
  for (const s of shares) { out[s.k] = Math.floor(s.exact); given += out[s.k]!; }
  // largest remainder, ties by name, so the map always sums to 100
  const order = [...shares].sort((a, b) => (b.exact - Math.floor(b.exact)) - (a.exact - Math.floor(a.exact)) || a.k.localeCompare(b.k));
  for (let i = 0; given < remaining; i++, given++) out[order[i % order.length]!.k]! += 1;
  out[target] = pct;
  return out;
}

/** True when two traffic maps route the same (absent = 0, names case-insensitive). */
export function sameTraffic(a: Record<string, number>, b: Record<string, number>): boolean {
  const norm = (m: Record<string, number>) => {
    const o = new Map<string, number>();
    for (const [k, v] of Object.entries(m)) if (v) o.set(k.toLowerCase(), v);
    return o;
  };
  const x = norm(a), y = norm(b);
  if (x.size !== y.size) return false;
  for (const [k, v] of x) if (y.get(k) !== v) return false;
  return true;
}

/**
 * The traffic to PUT to get back to `saved`, or undefined when `current` already routes the same. Deployments that no
 * longer exist cannot be named in a traffic map; their share is dropped (the rollback says so).
 */
export function rollbackTraffic(saved: Record<string, number>, current: Record<string, number>, existing: readonly string[]): { traffic: Record<string, number>; dropped: string[] } | undefined {
  if (sameTraffic(saved, current)) return undefined;
  const live = new Set(existing.map((n) => n.toLowerCase()));
  const traffic: Record<string, number> = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(saved)) {
    if (live.has(k.toLowerCase())) traffic[k] = v;
    else if (v > 0) dropped.push(k);
  }
  // everything the saved map does not name goes back to 0
  for (const k of Object.keys(current)) if (!(k in traffic) && live.has(k.toLowerCase())) traffic[k] = 0;
  return { traffic, dropped };
}

/** mirrorPercent / mirrorSeconds checked (0 = no mirror stage); a Kubernetes endpoint cannot mirror (Azure ML limitation). */
export function checkMirrorInputs(percent: number | undefined, seconds: number | undefined, kind: EndpointKind): { percent: number; seconds: number } {
  const p = percent ?? 0, sec = seconds ?? 60;
  if (!Number.isInteger(p) || p < 0 || p > 50) throw new InputError('mirrorPercent', `${p} is not a whole percentage between 0 and 50 (Azure ML mirrors at most 50% of an endpoint's traffic)`);
  if (!Number.isInteger(sec) || sec < 0 || sec > 3600) throw new InputError('mirrorSeconds', `${sec} is not a whole number of seconds between 0 and 3600`);
  if (p > 0 && kind === 'Kubernetes') throw new InputError('mirrorPercent', 'mirrored traffic is not supported for Kubernetes online endpoints (Azure ML limitation); set it to 0');
  return { percent: p, seconds: sec };
}

/**
 * Requests the task sends through the endpoint during the mirror window: at least healthCheckRequests, and enough that
 * about three copies are expected at the mirror percentage (20 % → 15), at most 300.
 */
export function mirrorRequestCount(percent: number, healthCheckRequests: number): number {
  if (percent <= 0) return 0;
  return Math.min(300, Math.max(healthCheckRequests, Math.ceil(300 / percent)));
}

/** Lines of `after` that `before` did not have (multiset difference: log tails overlap, timestamps make lines distinct). */
export function newLogLines(before: string, after: string): string[] {
  const seen = new Map<string, number>();
  for (const l of before.replace(/\r/g, '').split('\n')) seen.set(l, (seen.get(l) ?? 0) + 1);
  const out: string[] = [];
  for (const l of after.replace(/\r/g, '').split('\n')) {
    const n = seen.get(l) ?? 0;
    if (n > 0) seen.set(l, n - 1); else if (l.trim()) out.push(l);
  }
  return out;
}

export interface MirrorLogVerdict { scoringRequests: number; errors: number; firstError?: string }

/**
 * What the Azure ML inference server's log says about a window: access lines `"POST /score …" <status>` (counted;
 * 5xx = error) and `Encountered Exception` (the server's line for an exception in run(); counted as errors when the
 * log has no access lines). firstError: the exception's last traceback line (`ValueError: …`) or the access line.
 */
export function judgeMirrorLog(lines: readonly string[]): MirrorLogVerdict {
  let requests = 0, failedAccess = 0, exceptions = 0;
  let firstError: string | undefined;
  let inTrace = false;
  for (const l of lines) {
    const access = /"POST \/score[^"]*"\s+(\d{3})\b/.exec(l);
    if (access) {
      inTrace = false;
      requests++;
      if (Number(access[1]) >= 500) { failedAccess++; firstError ??= `HTTP ${access[1]} from the scoring server`; }
      continue;
    }
    if (/Encountered Exception/i.test(l)) { exceptions++; inTrace = true; continue; }
    if (inTrace && /^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b.*/.test(l.trim())) {
      if (!firstError || /^HTTP /.test(firstError)) firstError = l.trim().slice(0, 200);
      inTrace = false;
    }
  }
  const errors = requests ? failedAccess : exceptions;
  return { scoringRequests: requests, errors, ...(errors && firstError ? { firstError } : {}) };
}

const NAME_OK = /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/;

/** `<model>-v<version>` as a deployment name: lower case, letters/digits/'-', starts with a letter, 3–32 characters. */
export function defaultDeploymentName(model: string, version: string): string {
  const clean = (s: string) => s.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  let v = clean(version) || '0';
  if (v.length > 12) v = v.slice(0, 12).replace(/-$/, '');
  let base = clean(model) || 'model';
  if (!/^[a-z]/.test(base)) base = `m-${base}`;
  const suffix = `-v${v}`;
  base = base.slice(0, 32 - suffix.length).replace(/-+$/, '');
  let name = `${base}${suffix}`;
  if (name.length < 3) name = `${name}-d`;
  return NAME_OK.test(name) ? name : name.replace(/[^a-z0-9]+$/, '').padEnd(3, '0');
}

/** `…/models/<name>/versions/<version>` → {name, version} */
export function modelOfId(id: string | undefined): { name: string; version: string } | undefined {
  const m = id ? /\/models\/([^/]+)\/versions\/([^/]+)$/i.exec(id) : null;
  return m ? { name: decodeURIComponent(m[1]!), version: decodeURIComponent(m[2]!) } : undefined;
}

export type ResponseMatcher = { kind: 'substring' | 'json' | 'regex'; describe: string; check(body: string): string | undefined };

function jsonSubset(expected: unknown, actual: unknown, at: string): string | undefined {
  if (expected === null || typeof expected !== 'object') {
    return Object.is(expected, actual) || (typeof expected === 'number' && typeof actual === 'number' && expected === actual)
      ? undefined : `${at || '(root)'}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)?.slice(0, 80)}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${at || '(root)'}: expected an array, got ${JSON.stringify(actual)?.slice(0, 80)}`;
    if (actual.length !== expected.length) return `${at || '(root)'}: expected ${expected.length} item(s), got ${actual.length}`;
    for (let i = 0; i < expected.length; i++) { const d = jsonSubset(expected[i], actual[i], `${at}[${i}]`); if (d) return d; }
    return undefined;
  }
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return `${at || '(root)'}: expected an object, got ${JSON.stringify(actual)?.slice(0, 80)}`;
  for (const [k, v] of Object.entries(expected)) {
    if (!(k in (actual as object))) return `${at ? `${at}.` : ''}${k}: missing`;
    const d = jsonSubset(v, (actual as Record<string, unknown>)[k], at ? `${at}.${k}` : k);
    if (d) return d;
  }
  return undefined;
}

/**
 * Expected response:
 *  - `/pattern/flags` → regular expression tested against the body;
 *  - starts with `{` or `[` → JSON, and the response must contain it (objects: every given key, recursively; arrays:
 *    same length, item by item; numbers compared exactly);
 *  - anything else → substring of the body.
 */
export function parseExpectedResponse(text: string | undefined): ResponseMatcher | undefined {
  const t = (text ?? '').trim();
  if (!t) return undefined;
  const re = /^\/(.+)\/([dgimsuy]*)$/s.exec(t);
  if (re) {
    let rx: RegExp;
    try { rx = new RegExp(re[1]!, re[2]!.replace('g', '')); } catch (e) { throw new InputError('expectedResponse', `not a valid regular expression: ${(e as Error).message}`); }
    return { kind: 'regex', describe: `matches ${t}`, check: (b) => (rx.test(b) ? undefined : `response does not match ${t}`) };
  }
  if (t.startsWith('{') || t.startsWith('[')) {
    let expected: unknown;
    try { expected = JSON.parse(t); } catch (e) { throw new InputError('expectedResponse', `starts like JSON but is not valid JSON: ${(e as Error).message}`); }
    return {
      kind: 'json', describe: `contains JSON ${t.length > 60 ? t.slice(0, 57) + '…' : t}`,
      check: (b) => {
        let actual: unknown;
        try { actual = JSON.parse(b); } catch { return 'response is not JSON'; }
        // scoring servers often return a JSON string holding JSON
        if (typeof actual === 'string') { try { actual = JSON.parse(actual); } catch { /* keep the string */ } }
        const d = jsonSubset(expected, actual, '');
        return d ? `response differs at ${d}` : undefined;
      },
    };
  }
  return { kind: 'substring', describe: `contains "${t}"`, check: (b) => (b.includes(t) ? undefined : `response does not contain "${t}"`) };
}

/**
 * The release's model artifact: the alias given; else the one artifact of the Azure ML model type among the release's
 * artifacts (the primary one is often the scoring code's repository); several → the alias must choose; when no
 * artifact has a Type at all, the primary artifact.
 */
export const MODEL_ARTIFACT_TYPES = ['AzureMLModel', 'azureml-model', 'azuremlmodel'];
export function isModelArtifactType(type: string | undefined): boolean {
  const t = (type ?? '').toLowerCase().replace(/[^a-z]/g, '');
  return t !== '' && (MODEL_ARTIFACT_TYPES.some((x) => x.toLowerCase().replace(/[^a-z]/g, '') === t) || /azureml.*model/.test(t));
}
export function modelFromRelease(getVar: (name: string) => string | undefined, alias: string | undefined, artifacts: readonly ReleaseArtifact[] = []): { alias: string; name: string; version: string } | undefined {
  const read = (a: string) => {
    const name = getVar(`Release.Artifacts.${a}.DefinitionName`);
    const version = getVar(`Release.Artifacts.${a}.BuildNumber`);
    return name && version ? { alias: a, name, version } : undefined;
  };
  if (alias) {
    const r = read(alias);
    if (!r) throw new InputError('modelArtifactAlias', `the release has no artifact '${alias}' with a model name and version (Release.Artifacts.${alias}.DefinitionName / .BuildNumber)`);
    return r;
  }
  const primary = getVar('Release.PrimaryArtifactSourceAlias');
  const list = [...artifacts];
  if (primary && !list.some((a) => a.alias.toLowerCase() === primary.toLowerCase())) list.unshift({ alias: primary });
  const typeOf = (a: ReleaseArtifact) => a.type ?? getVar(`Release.Artifacts.${a.alias}.Type`);
  const models = list.filter((a) => isModelArtifactType(typeOf(a)));
  if (models.length > 1) {
    throw new InputError('modelArtifactAlias', `the release has ${models.length} Azure ML model artifacts (${models.map((a) => `'${a.alias}' = ${a.definitionName ?? getVar(`Release.Artifacts.${a.alias}.DefinitionName`) ?? '?'}:${a.buildNumber ?? getVar(`Release.Artifacts.${a.alias}.BuildNumber`) ?? '?'}`).join(', ')}): set modelArtifactAlias to the one to deploy`);
  }
  if (models.length === 1) return read(models[0]!.alias);
  if (primary && !list.some((a) => typeOf(a))) return read(primary);
  return undefined;
}

function probe(input: string, kv: Record<string, string> | undefined): ProbeInput | undefined {
  if (!kv || !Object.keys(kv).length) return undefined;
  const keys: Record<string, keyof ProbeInput> = {
    initialdelay: 'initialDelaySeconds', initialdelayseconds: 'initialDelaySeconds', period: 'periodSeconds', periodseconds: 'periodSeconds',
    timeout: 'timeoutSeconds', timeoutseconds: 'timeoutSeconds', failurethreshold: 'failureThreshold', successthreshold: 'successThreshold',
  };
  const out: ProbeInput = {};
  for (const [k, v] of Object.entries(kv)) {
    const key = keys[k.toLowerCase().replace(/[_-]/g, '')];
    if (!key) throw new InputError(input, `unknown setting '${k}' (initialDelay, period, timeout, failureThreshold, successThreshold)`);
    if (!/^\d+$/.test(v.trim())) throw new InputError(input, `${k}=${v}: expected a whole number${/threshold/i.test(key) ? '' : ' of seconds'}`);
    out[key] = Number(v);
  }
  return out;
}

function quantities(input: string, kv: Record<string, string> | undefined): { cpu?: string; memory?: string; gpu?: string } | undefined {
  if (!kv || !Object.keys(kv).length) return undefined;
  const out: { cpu?: string; memory?: string; gpu?: string } = {};
  for (const [k, v] of Object.entries(kv)) {
    const key = k.toLowerCase() === 'nvidia.com/gpu' ? 'gpu' : k.toLowerCase();
    if (key !== 'cpu' && key !== 'memory' && key !== 'gpu') throw new InputError(input, `unknown resource '${k}' (cpu, memory, gpu)`);
    if (!/^\d+(\.\d+)?([KMGTPE]i?|m|k)?$/.test(v.trim())) throw new InputError(input, `${k}=${v} is not a Kubernetes quantity (e.g. 0.5, 100m, 512Mi, 2Gi)`);
    out[key] = v.trim();
  }
  return out;
}

function fmtTraffic(t: Record<string, number>): string {
  const e = Object.entries(t).filter(([, v]) => v > 0);
  return e.length ? e.map(([k, v]) => `${k} ${v}%`).join(', ') : 'no traffic';
}

function inputErrorFromSpec(input: string, e: unknown): never {
  if (e instanceof InputError) throw e;
  if (e instanceof DeploymentSpecError || e instanceof UserError) {
    const m = /^Input '([^']+)': (.*)$/s.exec(e.message);
    if (m) throw new InputError(m[1]!, m[2]!);
    throw new InputError(input, e.message);
  }
  throw e;
}

// ---------------------------------------------------------------------------------------------------------- plan

interface Plan {
  mirror: { percent: number; seconds: number };
  endpointName: string;
  endpointSpec: OnlineEndpointSpec;
  /** authMode input given / auth_mode in the endpoint file (else an existing endpoint keeps its mode) */
  authModeExplicit: boolean;
  deploymentSpec: OnlineDeploymentSpec;
  nameFixed: boolean;             // deployment name from the input or the YAML
  modelSource: 'input' | 'yaml' | 'release';
  modelText?: string;
  steps: number[];
  sample?: { body: string; contentType: string; file: string };
  matcher?: ResponseMatcher;
  thresholds: AnalysisThresholds;
  warnings: string[];
}

async function localPlan(i: DeployInputs, cwd: string): Promise<Plan> {
  const warnings: string[] = [];
  const steps = parseTrafficSteps(i.trafficSteps);
  const matcher = parseExpectedResponse(i.expectedResponse);
  const thresholds = analysisThresholds(i);
  const abs = (p: string) => path.resolve(cwd, p);

  // sample request
  let sample: Plan['sample'];
  if (i.sampleRequestFile) {
    const f = abs(i.sampleRequestFile);
    let body: string;
    try { body = await fsp.readFile(f, 'utf8'); } catch { throw new InputError('sampleRequestFile', `'${i.sampleRequestFile}' was not found${f === i.sampleRequestFile ? '' : ` (looked for ${f})`}`); }
    const looksJson = /\.json$/i.test(f) || /^\s*[{[]/.test(body);
    if (looksJson) {
      try { JSON.parse(body); } catch (e) { throw new InputError('sampleRequestFile', `'${i.sampleRequestFile}' is not valid JSON: ${(e as Error).message}`); }
    }
    sample = { body, contentType: looksJson ? 'application/json' : 'text/plain', file: f };
  } else {
    if (matcher) throw new InputError('expectedResponse', 'needs a sampleRequestFile to send');
    if (i.maxP95Ms !== undefined) throw new InputError('maxP95Ms', 'needs a sampleRequestFile (the smoke test measures the latency)');
    if (i.maxLatencyMs !== undefined) throw new InputError('maxLatencyMs', 'needs a sampleRequestFile (the probes measure the latency)');
    warnings.push('No sampleRequestFile: the smoke test and the scoring health checks are skipped; only provisioning states are checked.');
  }

  // endpoint
  let endpointSpec: OnlineEndpointSpec;
  let authModeExplicit = false;
  if (i.endpointFile) {
    try { endpointSpec = parseOnlineEndpointYaml(abs(i.endpointFile), { variables: i.yamlVariables }); } catch (e) { inputErrorFromSpec('endpointFile', e); }
    // the parser reads a missing auth_mode as key: only a file that says so asks for a mode
    authModeExplicit = !!endpointSpec.authModeGiven;
    if (i.endpointName && i.endpointName !== endpointSpec.name) endpointSpec.name = i.endpointName;
    if (endpointSpec.traffic && Object.keys(endpointSpec.traffic).length) {
      warnings.push(`${path.basename(endpointSpec.file ?? i.endpointFile)}: 'traffic' is ignored; the task moves traffic by trafficSteps`);
      endpointSpec.traffic = undefined;
    }
    warnings.push(...endpointSpec.warnings);
  } else {
    const kind: EndpointKind = i.endpointType === 'kubernetes' ? 'Kubernetes' : 'Managed';
    if (kind === 'Kubernetes' && !i.compute) throw new InputError('compute', 'is required for a Kubernetes online endpoint (the attached Kubernetes compute, e.g. k8s-compute)');
    if (kind === 'Managed' && i.compute) throw new InputError('compute', "applies to Kubernetes endpoints only (set endpointType to 'kubernetes')");
    const authMode = parseAuthMode(i.authMode ?? 'key');
    if (!authMode || authMode === 'AADToken') throw new InputError('authMode', `'${i.authMode}' is not one of key, aml_token`);
    endpointSpec = { name: i.endpointName ?? '', kind, authMode, compute: i.compute, description: i.endpointDescription, warnings: [] };
    authModeExplicit = !!i.authMode;
  }

  // deployment
  let deploymentSpec: OnlineDeploymentSpec;
  let modelSource: Plan['modelSource'];
  let modelText: string | undefined;
  let nameFixed = !!i.deploymentName;
  const explicitModel = i.model ? normalizeModelInput(i.model, cwd) : undefined;
  if (i.deploymentFile) {
    for (const [k, v] of Object.entries({ environment: i.environment, codePath: i.codePath, scoringScript: i.scoringScript, condaFile: i.condaFile })) {
      if (v) throw new InputError(k, 'cannot be combined with deploymentFile (set it in the YAML file)');
    }
    try { deploymentSpec = parseOnlineDeploymentYaml(abs(i.deploymentFile), { variables: i.yamlVariables }); } catch (e) { inputErrorFromSpec('deploymentFile', e); }
    warnings.push(...deploymentSpec.warnings);
    nameFixed = true;
    if (i.deploymentName) deploymentSpec.name = i.deploymentName;
    if (explicitModel) {
      const tmp = deploymentSpecFromInputs({ name: 'placeholder', endpointName: 'placeholder', kind: deploymentSpec.kind, model: explicitModel, baseDir: cwd });
      deploymentSpec.model = tmp.model; modelSource = 'input'; modelText = explicitModel;
    } else if (deploymentSpec.model) {
      modelSource = 'yaml';
    } else if (i.releaseModel) {
      deploymentSpec.model = { kind: 'ref', ref: { kind: 'asset', name: i.releaseModel.name, version: i.releaseModel.version, text: `azureml:${i.releaseModel.name}:${i.releaseModel.version}` }, text: `azureml:${i.releaseModel.name}:${i.releaseModel.version}` };
      modelSource = 'release'; modelText = `azureml:${i.releaseModel.name}:${i.releaseModel.version}`;
    } else {
      throw new InputError('model', `the deployment file has no model and no model was given (input 'model', or an Azure ML model artifact in the release)`);
    }
    if (deploymentSpec.kind !== endpointSpec.kind) {
      throw new InputError('deploymentFile', `is a ${deploymentSpec.kind.toLowerCase()} deployment but the endpoint is ${endpointSpec.kind === 'Kubernetes' ? 'a Kubernetes' : 'a managed'} online endpoint`);
    }
    if (deploymentSpec.code?.code.kind === 'local') await checkScoringCode('deploymentFile', deploymentSpec.code.code.path, deploymentSpec.code.scoringScript);
    if (!endpointSpec.name && deploymentSpec.endpointName) endpointSpec.name = deploymentSpec.endpointName;
  } else {
    if (explicitModel) { modelSource = 'input'; modelText = explicitModel; } else if (i.releaseModel) {
      modelSource = 'release'; modelText = `azureml:${i.releaseModel.name}:${i.releaseModel.version}`;
    } else throw new InputError('model', 'is required: no model given and no Azure ML model artifact in this release (set modelArtifactAlias to pick one)');
    if (i.scoringScript && !i.codePath) throw new InputError('codePath', 'is required when a scoring script is given');
    if (i.codePath && !i.scoringScript) throw new InputError('scoringScript', 'is required when a scoring code folder is given');
    if (i.codePath) await checkScoringCode('scoringScript', abs(i.codePath), i.scoringScript!);
    let environment: string | { image: string; condaFile?: string } | undefined;
    if (i.environment) {
      const isImage = !/^azureml:/i.test(i.environment) && !i.environment.startsWith('/subscriptions/') && i.environment.includes('/');
      if (isImage) environment = { image: i.environment, condaFile: i.condaFile };
      else if (i.condaFile) throw new InputError('condaFile', 'applies only when environment is a container image (e.g. mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04)');
      else environment = i.environment;
    } else if (i.condaFile) throw new InputError('environment', 'a container image is required with condaFile');
    if (environment && typeof environment === 'object' && environment.condaFile) {
      try { await fsp.stat(abs(environment.condaFile)); } catch { throw new InputError('condaFile', `'${environment.condaFile}' was not found (looked for ${abs(environment.condaFile)})`); }
    }
    const kind = endpointSpec.kind;
    const requests = quantities('resourceRequests', i.resourceRequests);
    const limits = quantities('resourceLimits', i.resourceLimits);
    if ((requests || limits) && kind !== 'Kubernetes') throw new InputError(requests ? 'resourceRequests' : 'resourceLimits', 'resource requests/limits apply to Kubernetes endpoints only');
    try {
      deploymentSpec = deploymentSpecFromInputs({
        name: i.deploymentName ?? 'pending-name', endpointName: endpointSpec.name || 'pending-name', kind, model: modelText!,
        environment, codeDir: i.codePath, scoringScript: i.scoringScript,
        instanceType: i.instanceType ?? (kind === 'Managed' ? 'Standard_DS3_v2' : undefined), instanceCount: i.instanceCount,
        resources: requests || limits ? { requests, limits } : undefined,
        livenessProbe: probe('livenessProbe', i.livenessProbe), readinessProbe: probe('readinessProbe', i.readinessProbe),
        requestSettings: i.maxConcurrentRequestsPerInstance !== undefined || i.requestTimeoutMs !== undefined
          ? { maxConcurrentRequestsPerInstance: i.maxConcurrentRequestsPerInstance, requestTimeoutMs: i.requestTimeoutMs } : undefined,
        environmentVariables: i.environmentVariables && Object.keys(i.environmentVariables).length ? i.environmentVariables : undefined,
        baseDir: cwd,
      });
    } catch (e) { inputErrorFromSpec('model', e); }
    if (deploymentSpec.model?.kind === 'inline' && deploymentSpec.model.model.local) {
      try { await fsp.stat(deploymentSpec.model.model.path); } catch { throw new InputError('model', `'${i.model}' is neither a registered model reference nor an existing local path`); }
    }
  }
  if (!endpointSpec.name) throw new InputError('endpointName', 'is required (or give an endpointFile / a deploymentFile with endpoint_name)');
  if (!/^[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]$/.test(endpointSpec.name)) {
    throw new InputError('endpointName', `'${endpointSpec.name}' must be 3-32 characters: letters, digits and '-', starting with a letter and ending with a letter or digit`);
  }
  if (i.tags) deploymentSpec.tags = { ...(deploymentSpec.tags ?? {}), ...i.tags };
  applyDataCollectionInputs(deploymentSpec, i.dataCollection, i.dataCollectionSamplingRate);
  const mirror = checkMirrorInputs(i.mirrorPercent, i.mirrorSeconds, endpointSpec.kind);
  return { mirror, endpointName: endpointSpec.name, endpointSpec, authModeExplicit, deploymentSpec, nameFixed, modelSource: modelSource!, modelText, steps, sample, matcher, thresholds, warnings };
}

/** Model input: a bare registered name means its latest version; `name:version` / azureml refs / ARM ids / paths pass. */
function normalizeModelInput(text: string, cwd: string): string {
  const t = text.trim();
  if (/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(t)) {
    try { statSync(path.resolve(cwd, t)); return t; } catch { return `azureml:${t}@latest`; }
  }
  return t;
}

async function checkScoringCode(input: string, codeDir: string, script: string): Promise<void> {
  let st;
  try { st = await fsp.stat(codeDir); } catch { throw new InputError(input === 'deploymentFile' ? input : 'codePath', `scoring code folder '${codeDir}' was not found`); }
  if (!st.isDirectory()) return; // a single-file code asset: the file is the script
  const f = path.resolve(codeDir, script);
  if (path.relative(codeDir, f).startsWith('..') || path.isAbsolute(script)) throw new InputError(input, `scoring script '${script}' must be a path inside the code folder`);
  try { if (!(await fsp.stat(f)).isFile()) throw new Error(); } catch { throw new InputError(input, `scoring script '${script}' was not found in ${codeDir}`); }
}

export { isoDurationMs };

/**
 * What differs between an existing deployment and the body we would PUT (empty: the same), after the service's
 * rewrites and defaults (azureml/normalize.ts owns the rules). `workspacePath`: the workspace of short asset references.
 */
export function deploymentDifferences(d: DeploymentInfo, body: Record<string, any>, workspacePath = ''): string[] {
  return normalizedDeploymentDifferences(d, body, workspacePath);
}

/** the tags that say which release/stage/approval a deployment serves (`azdo.release` is left out: the release is renamed after its first deployment) */
const GOVERNANCE_TAGS = ['azdo.releaseId', 'azdo.stage', 'azdo.approvedBy', 'azdo.approvedOn', 'azdo.approvalComments', 'azdo.requestedFor'];

/**
 * In a release, the tags an unchanged deployment must get when it was deployed by another release / stage / approval
 * (the `azdo.*` tags are replaced as a whole, other tags kept), or undefined when its governance tags already match.
 */
export function governanceTagUpdate(existing: Record<string, string>, desired: Record<string, string>, inRelease: boolean): Record<string, string> | undefined {
  if (!inRelease) return undefined;
  if (!GOVERNANCE_TAGS.some((k) => (existing[k] ?? '') !== (desired[k] ?? ''))) return undefined;
  const kept = Object.fromEntries(Object.entries(existing).filter(([k]) => !k.startsWith('azdo.')));
  return { ...kept, ...desired };
}

// ---------------------------------------------------------------------------------------------------------- main

export async function deployModel(inputs: DeployInputs, deps: DeployDeps): Promise<DeployResult> {
  const { ops, log } = deps;
  const signal = deps.signal;
  const sleep = deps.sleep ?? abortableSleep;
  const cwd = deps.cwd ?? process.cwd();
  const section = (t: string) => (log.section ?? log.info)(t);

  // ---- 1. local checks
  const plan = await localPlan(inputs, cwd);
  for (const w of plan.warnings) log.warning(w);
  const epName = plan.endpointName;
  const smokeN = inputs.smokeRequests ?? 20;
  const healthN = inputs.healthCheckRequests ?? 5;

  // ---- 2. reads
  section('Checking the workspace, endpoint and deployment');
  const location = await ops.location();
  const existingEp = await ops.getEndpoint(epName);
  const spec = plan.endpointSpec;
  let computeId: string | undefined;
  if (existingEp) {
    if (existingEp.kind !== spec.kind) {
      throw new InputError(inputs.endpointFile ? 'endpointFile' : 'endpointType', `endpoint '${epName}' already exists as ${existingEp.kind === 'Kubernetes' ? 'a Kubernetes' : 'a managed'} online endpoint`);
    }
    if (spec.kind === 'Kubernetes') {
      const want = (spec.compute ?? '').replace(/^azureml:/i, '').split('/').pop()!.toLowerCase();
      const have = (existingEp.compute ?? '').split('/').pop()!.toLowerCase();
      if (want && have && want !== have) throw new InputError(inputs.endpointFile ? 'endpointFile' : 'compute', `endpoint '${epName}' runs on compute '${have}', not '${want}' (the compute of an endpoint cannot change)`);
    }
  }
  let compute: ComputeInfo | undefined;
  if (spec.kind === 'Kubernetes') {
    const cname = (spec.compute ?? existingEp?.compute ?? '').replace(/^azureml:/i, '').split('/').pop()!;
    compute = await ops.getCompute(cname);
    const input = inputs.endpointFile ? 'endpointFile' : 'compute';
    if (!compute) throw new InputError(input, `compute '${cname}' was not found in workspace '${ops.ws.workspace}'`);
    if (!/^kubernetes$/i.test(compute.computeType)) throw new InputError(input, `compute '${cname}' is ${compute.computeType}; a Kubernetes online endpoint needs an attached Kubernetes compute`);
    computeId = compute.id;
    const it = plan.deploymentSpec.instanceType;
    if (it && !compute.instanceTypes.some((t) => t.toLowerCase() === it.toLowerCase())) {
      throw new InputError(inputs.deploymentFile ? 'deploymentFile' : 'instanceType', `instance type '${it}' is not defined on compute '${cname}' (available: ${compute.instanceTypes.join(', ')})`);
    }
  }
  const deployments = existingEp ? await ops.listDeployments(epName) : [];
  const trafficBefore: Record<string, number> = { ...(existingEp?.traffic ?? {}) };
  const approvals = deps.governance ? await deps.governance.approvals() : [];

  // the deployment body, fully resolved (reads only)
  const resolver = ops.resolver({ deploymentName: plan.nameFixed ? plan.deploymentSpec.name : undefined, errorPrefix: inputs.deploymentFile ? `Input 'deploymentFile': ` : '' });
  let built;
  try {
    built = await buildOnlineDeploymentBody(plan.deploymentSpec, { location, resolver, endpointName: epName });
  } catch (e) {
    if (plan.modelSource !== 'yaml' && e instanceof UserError && /^model /.test(e.message)) throw new InputError(plan.modelSource === 'release' ? 'modelArtifactAlias' : 'model', e.message);
    if (e instanceof UserError) throw e;
    throw e;
  }
  for (const w of built.warnings) if (!plan.warnings.includes(w)) log.warning(w);
  const body = built.body as Record<string, any>;
  const modelId: string | undefined = typeof body.properties?.model === 'string' ? body.properties.model : undefined;
  const model = modelOfId(modelId);
  let depName = plan.deploymentSpec.name;
  if (!plan.nameFixed) {
    if (!model) throw new InputError('deploymentName', 'is required when the model is not a registered model version');
    depName = defaultDeploymentName(model.name, model.version);
  }
  const modelLabel = model ? `${model.name}:${model.version}` : modelId ?? '(no model)';

  // governance tags (your own tags win)
  const ctxTags = lineageTags(deps.context);
  const govTags: Record<string, string> = { ...ctxTags };
  if (modelId) govTags['azureml-devops.modelId'] = model ? `azureml:${model.name}:${model.version}` : modelId;
  if (deps.context.releaseId) govTags['azdo.releaseId'] = deps.context.releaseId;
  if (approvals.length) {
    govTags['azdo.approvedBy'] = approvals.map((a) => a.approver).join(', ').slice(0, 256);
    govTags['azdo.approvedOn'] = approvals.map((a) => a.approvedOn).join(', ').slice(0, 256);
    const comments = approvals.map((a) => a.comments).filter(Boolean).join(' | ');
    if (comments) govTags['azdo.approvalComments'] = comments.slice(0, 256);
  }
  body.tags = { ...govTags, ...(body.tags ?? {}) };
  const collector = wantedDataCollector(plan.deploymentSpec, wsPath(ops.ws), epName, depName);
  if (collector) { attachDataCollector(body, collector); for (const l of collector.lines) log.info(l); }

  const existingDep = deployments.find((d) => d.name.toLowerCase() === depName.toLowerCase());
  const differences = existingDep ? deploymentDifferences(existingDep, body, wsPath(ops.ws)) : [];
  if (existingDep && collector && ops.getDataCollector) differences.push(...await dataCollectorChanges({ getDataCollector: ops.getDataCollector }, epName, depName, collector));
  const same = existingDep ? !differences.length && existingDep.provisioningState === 'Succeeded' : false;
  const liveShare = Object.entries(trafficBefore).find(([k]) => k.toLowerCase() === depName.toLowerCase())?.[1] ?? 0;
  if (existingDep && !same && liveShare > 0) {
    throw new InputError(inputs.deploymentFile && !inputs.deploymentName ? 'deploymentFile' : 'deploymentName',
      `deployment '${existingDep.name}' is live with ${liveShare}% of the traffic and holds ${modelOfId(existingDep.model) ? `model ${modelOfId(existingDep.model)!.name}:${modelOfId(existingDep.model)!.version}` : 'another spec'}${differences.length ? ` with another ${differences.join(', ')}` : ` (provisioning ${existingDep.provisioningState})`}; a safe rollout creates the new deployment beside it — choose another deployment name`);
  }

  // endpoint changes wanted?
  const epChange: { authMode?: string; description?: string; tags?: Record<string, string> } = {};
  if (existingEp) {
    // the auth mode of an endpoint cannot change: a blank input keeps it, another explicit mode is refused
    if (plan.authModeExplicit && existingEp.authMode && existingEp.authMode !== spec.authMode) {
      const mode = (m: string) => (m === 'AMLToken' ? 'aml_token' : m === 'AADToken' ? 'aad_token' : m.toLowerCase());
      throw new InputError(inputs.endpointFile ? 'endpointFile' : 'authMode',
        `endpoint '${epName}' already exists with auth mode ${mode(existingEp.authMode)}, not ${mode(spec.authMode)} (the auth mode of an endpoint cannot be changed; leave authMode empty to keep it, or deploy to a new endpoint)`);
    }
    if (spec.description !== undefined && spec.description !== (existingEp.description ?? undefined)) epChange.description = spec.description;
    if (spec.tags && Object.entries(spec.tags).some(([k, v]) => existingEp.tags[k] !== v)) epChange.tags = { ...existingEp.tags, ...spec.tags };
  }
  const endpointNeedsChange = !existingEp || Object.keys(epChange).length > 0;
  const authMode = existingEp?.authMode ?? spec.authMode;
  // an unchanged deployment still records which release / stage / approval it now serves
  const tagUpdate = same && existingDep ? governanceTagUpdate(existingDep.tags, body.tags, !!deps.context.releaseId) : undefined;
  const updateTags = async () => {
    if (!tagUpdate) return;
    section(`Recording release ${deps.context.releaseName ?? deps.context.releaseId} (stage ${deps.context.stageName ?? '-'}) on deployment ${depName}`);
    await ops.updateDeploymentTags(epName, depName, tagUpdate);
    result.tagsUpdated = true;
    const changed = Object.keys(tagUpdate).filter((k) => existingDep!.tags[k] !== tagUpdate[k]).concat(Object.keys(existingDep!.tags).filter((k) => !(k in tagUpdate)));
    log.info(`Deployment ${depName} not redeployed; tags updated: ${changed.join(', ')}.`);
  };

  const result: DeployResult = {
    endpointName: epName, deploymentName: depName, endpointKind: spec.kind, authMode, modelId: model ? `azureml:${model.name}:${model.version}` : modelId, trafficBefore, trafficAfter: { ...trafficBefore },
    unchanged: false, endpointCreated: false, deploymentWritten: false, tagsUpdated: false, steps: [], deleted: [], studioUrl: studioUrl(ops.ws, 'endpoint', epName), modelStudioUrl: model ? studioUrl(ops.ws, 'model', model.name, model.version) : undefined,
    scoringUri: existingEp?.scoringUri, warnings: plan.warnings,
  };
  log.info(`Endpoint ${epName} (${spec.kind.toLowerCase()}${computeId ? `, compute ${computeId.split('/').pop()}` : ''}): ${existingEp ? `exists, traffic ${fmtTraffic(trafficBefore)}` : 'will be created'}`);
  log.info(`Deployment ${depName}: model ${modelLabel}${existingDep ? `, exists (${existingDep.provisioningState}${same ? ', same spec' : ', will be updated'})` : ', will be created'}`);

  // ---- the idempotent rerun
  if (same && liveShare === 100 && !endpointNeedsChange) {
    log.info(`Deployment ${depName} of endpoint ${epName} is already serving model ${modelLabel} with 100% of the traffic: ${tagUpdate ? 'not redeployed, traffic unchanged' : 'nothing to change'}.`);
    result.unchanged = true;
    await updateTags();
    if (authMode === 'Key') result.endpointKey = await ops.credential(epName, authMode);
    result.reportFile = await writeReport(inputs, result, modelLabel);
    if (deps.governance?.onDeployed) await deps.governance.onDeployed(deployedInfo(result));
    return result;
  }
  signal?.throwIfAborted();

  // ---- 3. writes, with a rollback on any failure
  let deploymentStarted = false;
  let trafficTouched = false;
  /** set before the mirror PUT is sent: from then on the rollback clears the endpoint's mirrorTraffic */
  let mirrorTouched = false;
  try {
    if (!existingEp) {
      section(`Creating online endpoint ${epName}`);
      const epBody = await buildOnlineEndpointBody({ ...spec, name: epName, traffic: undefined }, { location, resolver: { computeId: async () => computeId! } });
      const created = await ops.createEndpoint(epName, epBody.body);
      result.endpointCreated = true;
      result.scoringUri = created.scoringUri;
      log.info(`Endpoint ${epName} created (auth mode ${created.authMode}).`);
    } else if (Object.keys(epChange).length) {
      section(`Updating online endpoint ${epName}`);
      const upd = await ops.updateEndpoint(epName, epChange);
      result.scoringUri = upd.scoringUri ?? result.scoringUri;
      log.info(`Endpoint ${epName} updated (${Object.keys(epChange).join(', ')}).`);
    }
    deps.progress(10, 'Endpoint ready');

    if (same) {
      log.info(`Deployment ${depName} already holds model ${modelLabel} (provisioning Succeeded): not redeployed.`);
      await updateTags();
    } else {
      section(`${existingDep ? 'Updating' : 'Creating'} deployment ${depName} (model ${modelLabel}) with 0% traffic`);
      const pending = resolver.pendingWrites;
      if (pending.length) log.info(`Writing ${pending.length} asset(s): ${pending.join('; ')}`);
      await resolver.commit();
      deploymentStarted = true;
      const t0 = Date.now();
      const d = await ops.putDeployment(epName, depName, body);
      result.deploymentWritten = true;
      log.info(`Deployment ${depName}: provisioning ${d.provisioningState ?? 'done'} in ${((Date.now() - t0) / 1000).toFixed(1)} s.`);
      if (d.provisioningState && d.provisioningState !== 'Succeeded') throw new UserError(`Deployment ${depName} ended ${d.provisioningState}`);
    }
    deploymentStarted = true;
    deps.progress(40, 'Deployment provisioned');
    signal?.throwIfAborted();

    const cred = plan.sample || authMode === 'Key' ? await ops.credential(epName, authMode) : undefined;
    if (authMode === 'Key') result.endpointKey = cred;
    if (!result.scoringUri) result.scoringUri = (await ops.getEndpoint(epName))?.scoringUri;
    /** n probes with the sample request: straight at `deployment` (header) or through the endpoint; judged by the plan's thresholds */
    const probe = (n: number, deployment: string | undefined, checkOnlyFrom: string | undefined) => runProbes(
      () => ops.score(result.scoringUri!, plan.sample!.body, { credential: cred!, deployment, contentType: plan.sample!.contentType, signal }), n,
      { thresholds: plan.thresholds, matcher: plan.matcher, checkOnlyFrom, maxLatencyMs: plan.thresholds.maxLatencyMs, kubernetes: spec.kind === 'Kubernetes', sleep, signal,
        onRetry: (e) => log.info(`  probe ${e.probe}/${n} attempt ${e.attempt} inconclusive (${e.detail}): retrying in ${(e.waitMs / 1000).toFixed(1)} s`) });

    // ---- 4. smoke test
    if (plan.sample && cred && result.scoringUri) {
      section(`Smoke test: ${smokeN} probe(s) to deployment ${depName} (azureml-model-deployment header)`);
      const a = await probe(smokeN, depName, undefined);
      result.smokeAnalysis = a;
      result.smoke = a.latency;
      log.info(`Smoke test: ${describeAnalysis(a)}${plan.matcher ? ` (every answer ${plan.matcher.describe})` : ''}`);
      const why = stepFailure(`Smoke test of deployment ${depName}`, a);
      if (why) throw new UserError(why);
    }
    deps.progress(50, 'Smoke test passed');
    const livingOthers = Object.entries(trafficBefore).some(([k, v]) => v > 0 && k.toLowerCase() !== depName.toLowerCase());

    // ---- 4b. mirror stage
    if (plan.mirror.percent > 0) {
      if (!livingOthers || liveShare > 0) {
        const why = liveShare > 0 ? `deployment ${depName} already has ${liveShare}% of the live traffic (a deployment cannot get both)` : `no other deployment serves traffic on ${epName} (mirroring copies live traffic)`;
        log.info(`Mirror stage skipped: ${why}.`);
        result.mirror = { percent: plan.mirror.percent, seconds: plan.mirror.seconds, logged: { scoringRequests: 0, errors: 0 }, skipped: why };
      } else {
        mirrorTouched = true;
        result.mirror = await mirrorStage({ ops, log, deps, section, sleep, signal, plan, epName, depName, cred, scoringUri: result.scoringUri, healthN, logTail: Math.max(inputs.logTail ?? 100, 1000) });
        mirrorTouched = false;
      }
    }

    // ---- 5. traffic steps
    const steps = livingOthers ? plan.steps : [100];
    if (!livingOthers && plan.steps.length > 1) log.info(`No other deployment serves traffic on ${epName}: going straight to 100%.`);
    for (let n = 0; n < steps.length; n++) {
      signal?.throwIfAborted();
      const pct = steps[n]!;
      const target = stepTraffic(trafficBefore, depName, pct);
      section(`Traffic step ${n + 1}/${steps.length}: ${depName} ${pct}% (${fmtTraffic(target)})`);
      trafficTouched = true;
      result.trafficAfter = await ops.setTraffic(epName, target);
      const stepStart = new Date();
      const rec: StepRecord = { percent: pct, traffic: result.trafficAfter };
      result.steps.push(rec);
      // health check
      const dep = await ops.getDeployment(epName, depName);
      rec.provisioningState = dep?.provisioningState;
      if (dep?.provisioningState !== 'Succeeded') throw new UserError(`Health check at ${pct}%: deployment ${depName} is ${dep?.provisioningState ?? 'gone'}`);
      if (plan.sample && cred && result.scoringUri && healthN > 0) {
        const a = await probe(healthN, undefined, depName);
        rec.analysis = a;
        rec.health = a.latency;
        log.info(`Health check at ${pct}%: ${describeAnalysis(a)}; through endpoint ${epName}, deployment Succeeded`);
        const why = stepFailure(`Health check at ${pct}%`, a);
        if (why) throw new UserError(why);
      } else {
        log.info(`Health check at ${pct}%: deployment ${depName} Succeeded`);
      }
      if (n < steps.length - 1 && (inputs.stepWaitSeconds ?? 0) > 0) {
        log.info(`Waiting ${inputs.stepWaitSeconds} s before the next step…`);
        await sleep(inputs.stepWaitSeconds! * 1000, signal);
      }
      // the deployment's own metrics over the step (after the wait): every request it served, not only the probes
      // a failed read (e.g. 403: the identity may deploy but not read metrics) does not stop the rollout: the probes judged
      const m = spec.kind === 'Managed' && ops.metrics ? await ops.metrics(epName, depName, stepStart, signal).catch((e: unknown) => {
        if (signal?.aborted) throw e;
        log.warning(`Metrics at ${pct}%: could not read the deployment's Azure Monitor metrics (${(e as Error)?.message ?? e}); the step is judged by its probes`);
        return undefined;
      }) : undefined;
      if (m) {
        const d = decideMetrics(m, plan.thresholds);
        rec.metrics = { ...m, ...d };
        const codes = Object.keys(m.byStatus).sort().map((k) => `${k}: ${m.byStatus[k]}`).join(', ') || 'none';
        log.info(`Metrics at ${pct}%: deployment ${depName} served ${m.requests} request(s) (${codes}), p95 ${m.p95Ms ?? 'n/a'} ms, p99 ${m.p99Ms ?? 'n/a'} ms → ${d.verdict.toUpperCase()}: ${d.rule}`);
        if (d.verdict === 'failed') throw new UserError(`Metrics at ${pct}%: ${d.rule}`);
      }
      deps.progress(50 + Math.round((45 * (n + 1)) / steps.length), `Traffic ${pct}%`);
    }
  } catch (err) {
    const cancelled = !!signal?.aborted;
    const why = cancelled ? 'Cancelled' : 'Failed';
    section(`${why}: restoring the traffic of endpoint ${epName}`);
    const mirrorCleared = mirrorTouched ? await clearMirror(ops, epName, log) : undefined;
    const restored = await restoreTraffic(ops, epName, trafficBefore, log, result.endpointCreated);
    result.trafficAfter = restored?.traffic ?? result.trafficAfter;
    if (deploymentStarted && !cancelled) await printLogs(ops, epName, depName, inputs.logTail ?? 100, log);
    const restoredText = (mirrorCleared === undefined ? '' : mirrorCleared ? 'mirror traffic cleared, ' : 'mirror traffic NOT cleared (see the log), ') + (!restored ? 'traffic could not be verified (see the log)'
      : restored.changed ? `traffic restored to ${fmtTraffic(restored.traffic)}` : `traffic unchanged (${fmtTraffic(restored.traffic)})`);
    if (cancelled) {
      log.info(`Cancelled during the rollout of ${depName}: ${restoredText}.`);
      throw signal!.reason ?? err;
    }
    const msg = err instanceof Error ? err.message : String(err);
    result.failure = `${msg.replace(/\.$/, '')}; ${restoredText}`;
    throw new RolloutFailed(result.failure, result, { cause: err });
  }

  // ---- 7. after success
  if (inputs.deleteOldDeployment) {
    const old = Object.entries(trafficBefore).filter(([k, v]) => v > 0 && k.toLowerCase() !== depName.toLowerCase() && (result.trafficAfter[k] ?? 0) === 0).map(([k]) => k);
    for (const k of old) {
      section(`Deleting old deployment ${k}`);
      try {
        await ops.deleteDeployment(epName, k);
        result.deleted.push(k);
        log.info(`Deleted deployment ${k}.`);
      } catch (e) {
        log.warning(`Could not delete old deployment ${k}: ${(e as Error).message}`);
      }
    }
  }
  deps.progress(100, 'Deployed');
  log.info(`Deployment ${depName} of endpoint ${epName} serves model ${modelLabel}: traffic ${fmtTraffic(result.trafficAfter)} (was ${fmtTraffic(trafficBefore)}).`);
  result.reportFile = await writeReport(inputs, result, modelLabel);
  if (deps.governance?.onDeployed) await deps.governance.onDeployed(deployedInfo(result));
  return result;
}

function deployedInfo(r: DeployResult): DeployedInfo {
  return { endpointName: r.endpointName, deploymentName: r.deploymentName, modelId: r.modelId, scoringUri: r.scoringUri, trafficBefore: r.trafficBefore, trafficAfter: r.trafficAfter, smoke: r.smoke, unchanged: r.unchanged };
}

/** GET → compare with the saved map → PUT the saved map (fresh signal: also after a cancellation). */
async function restoreTraffic(ops: DeployOps, ep: string, saved: Record<string, number>, log: DeployDeps['log'], created: boolean): Promise<{ traffic: Record<string, number>; changed: boolean } | undefined> {
  const fresh = () => AbortSignal.timeout(180_000);
  try {
    const cur = await ops.getEndpoint(ep, fresh());
    if (!cur) { log.info(`Endpoint ${ep} does not exist: nothing to restore.`); return { traffic: {}, changed: false }; }
    const names = (await ops.listDeployments(ep, fresh())).map((d) => d.name);
    const plan = rollbackTraffic(saved, cur.traffic, names);
    if (!plan) {
      log.info(`Traffic of ${ep} is unchanged: ${fmtTraffic(cur.traffic)}${created ? ' (endpoint created by this run)' : ''}.`);
      return { traffic: cur.traffic, changed: false };
    }
    if (plan.dropped.length) log.warning(`Deployment(s) ${plan.dropped.join(', ')} no longer exist; their share cannot be restored.`);
    const after = await ops.setTraffic(ep, plan.traffic, fresh());
    log.info(`Traffic of ${ep} restored to ${fmtTraffic(after)}.`);
    return { traffic: after, changed: true };
  } catch (e) {
    log.warning(`Restoring the traffic of ${ep} failed: ${(e as Error).message}. Set it back by hand to: ${fmtTraffic(saved)}.`);
    return undefined;
  }
}

interface MirrorStageArgs {
  ops: DeployOps; log: DeployDeps['log']; deps: DeployDeps; section(t: string): void; sleep(ms: number, signal?: AbortSignal): Promise<void>; signal?: AbortSignal;
  plan: Plan; epName: string; depName: string; cred?: string; scoringUri?: string; healthN: number; logTail: number;
}

/**
 * Mirror N % of the endpoint's traffic to the new deployment for the window, send requests through the endpoint meanwhile
 * (spread over the window), then judge the deployment by its container log for the window and its provisioningState.
 * Clears the mirror when the deployment passes; on a failure the caller's rollback clears it.
 */
async function mirrorStage(a: MirrorStageArgs): Promise<MirrorRecord> {
  const { ops, log, epName, depName, signal } = a;
  const { percent, seconds } = a.plan.mirror;
  a.section(`Mirror stage: ${percent}% of the traffic of ${epName} copied to ${depName} for ${seconds} s (its answers are discarded)`);
  let before = '';
  try { before = await ops.logs(epName, depName, a.logTail, signal); } catch (e) {
    signal?.throwIfAborted();
    log.warning(`Could not read the container log of ${depName} before the mirror window (${(e as Error).message}): the whole log tail is judged.`);
  }
  const set = await ops.setMirrorTraffic(epName, { [depName]: percent }, signal);
  log.info(`Mirror traffic of ${epName}: ${fmtTraffic(set)} (live traffic unchanged).`);
  a.deps.progress(52, `Mirroring ${percent}%`);

  const rec: MirrorRecord = { percent, seconds, logged: { scoringRequests: 0, errors: 0 } };
  const sample = a.plan.sample;
  const n = sample && a.cred && a.scoringUri ? mirrorRequestCount(percent, a.healthN) : 0;
  const windowMs = seconds * 1000;
  const t0 = Date.now();
  let sentSoFar = 0;
  if (n) log.info(`Sending ${n} request(s) through endpoint ${epName} over ${seconds} s (about ${Math.round((n * percent) / 100)} copies expected at ${depName}).`);
  else log.info(`No sample request: the window carries only the endpoint's own traffic.`);
  let reported = 0;
  const report = () => {
    const elapsed = Math.min(seconds, Math.round((Date.now() - t0) / 1000));
    const quarter = seconds ? Math.floor((4 * elapsed) / seconds) : 4;
    if (quarter > reported && quarter < 4) { reported = quarter; log.info(`Mirror stage: ${elapsed}/${seconds} s${n ? `, ${sentSoFar}/${n} request(s) sent` : ''}`); }
    a.deps.progress(52 + Math.round((6 * elapsed) / Math.max(1, seconds)), `Mirroring ${percent}% (${elapsed}/${seconds} s)`);
  };
  // the live deployment answers these: judged like probes (inconclusive ones retried), without its latency or answer checks
  const analysis = n ? await runProbes(() => ops.score(a.scoringUri!, sample!.body, { credential: a.cred!, contentType: sample!.contentType, signal }), n, {
    thresholds: { ...a.plan.thresholds, maxP95Ms: undefined, maxLatencyMs: undefined }, sleep: a.sleep, signal,
    beforeProbe: async (i) => {
      sentSoFar = i;
      if (i === 0) return;
      report();
      const next = t0 + (i * windowMs) / n;
      if (next > Date.now()) await a.sleep(next - Date.now(), signal);
    },
    onRetry: (e) => log.info(`  request ${e.probe}/${n} attempt ${e.attempt} inconclusive (${e.detail}): retrying in ${(e.waitMs / 1000).toFixed(1)} s`),
  }) : undefined;
  sentSoFar = n;
  if (n) report();
  const last = t0 + windowMs;
  while (Date.now() < last) { await a.sleep(Math.min(5000, last - Date.now()), signal); report(); }
  if (analysis) {
    rec.endpoint = analysis.latency;
    rec.endpointAnalysis = analysis;
    log.info(`Mirror window: ${describeAnalysis(analysis)} (through the endpoint, answered by the live deployment)`);
    const why = stepFailure(`Mirror stage: the requests through endpoint ${epName}`, analysis);
    if (why) throw new UserError(why);
  }

  // the verdict: the deployment's own state and what its container log shows for the window
  const dep = await ops.getDeployment(epName, depName);
  if (dep?.provisioningState !== 'Succeeded') throw new UserError(`Mirror stage: deployment ${depName} is ${dep?.provisioningState ?? 'gone'}`);
  const after = await ops.logs(epName, depName, a.logTail, signal);
  rec.logged = judgeMirrorLog(newLogLines(before, after));
  const l = rec.logged;
  if (l.errors) {
    throw new UserError(`Mirror stage failed: deployment ${depName} logged ${l.errors} failed scoring request(s)${l.scoringRequests ? ` of ${l.scoringRequests}` : ''} on mirrored traffic in ${seconds} s (first: ${l.firstError ?? 'see its container log'})`);
  }
  if (!l.scoringRequests) log.warning(`The container log of ${depName} shows no scoring request in the mirror window (no copy arrived, or its server logs no access lines): nothing to judge beyond its provisioning state.`);
  else log.info(`Mirror stage passed: deployment ${depName} logged ${l.scoringRequests} scoring request(s) in the window, none failed.`);
  const cleared = await ops.setMirrorTraffic(epName, {}, signal);
  log.info(`Mirror traffic of ${epName} cleared (${fmtTraffic(cleared)}).`);
  a.deps.progress(60, 'Mirror stage passed');
  return rec;
}

/** The rollback's half for the mirror: `{}` with a fresh signal (also after a cancellation); false when it failed. */
async function clearMirror(ops: DeployOps, ep: string, log: DeployDeps['log']): Promise<boolean> {
  try {
    const m = await ops.setMirrorTraffic(ep, {}, AbortSignal.timeout(180_000));
    log.info(`Mirror traffic of ${ep} cleared${Object.values(m).some((v) => v > 0) ? ` (the service still reports ${fmtTraffic(m)})` : ''}.`);
    return !Object.values(m).some((v) => v > 0);
  } catch (e) {
    log.warning(`Clearing the mirror traffic of ${ep} failed: ${(e as Error).message}. Set it back by hand: az ml online-endpoint update --name ${ep} --mirror-traffic "" (or set every deployment's mirror traffic to 0).`);
    return false;
  }
}

async function printLogs(ops: DeployOps, ep: string, dep: string, tail: number, log: DeployDeps['log']): Promise<void> {
  try {
    const text = await ops.logs(ep, dep, tail, AbortSignal.timeout(60_000));
    log.info(`----- container log of deployment ${dep} (last ${tail} lines) -----`);
    for (const line of (text || '(empty)').replace(/\r/g, '').split('\n')) log.info(line);
    log.info(`----- end of container log -----`);
  } catch (e) {
    log.warning(`Could not read the container log of ${dep}: ${(e as Error).message}`);
  }
}

async function writeReport(inputs: DeployInputs, r: DeployResult, model: string): Promise<string | undefined> {
  if (!inputs.reportDir) return undefined;
  const report = {
    endpoint: r.endpointName, deployment: r.deploymentName, endpointType: r.endpointKind.toLowerCase(), model, modelId: r.modelId,
    scoringUri: r.scoringUri, studioUrl: r.studioUrl, unchanged: r.unchanged,
    trafficBefore: r.trafficBefore, trafficAfter: r.trafficAfter,
    smokeTest: r.smoke ?? null, smokeAnalysis: r.smokeAnalysis ?? null, mirrorStage: r.mirror ?? null, steps: r.steps, deletedDeployments: r.deleted, finishedAt: new Date().toISOString(),
  };
  await fsp.mkdir(inputs.reportDir, { recursive: true });
  const file = path.join(inputs.reportDir, `deployment-report-${r.endpointName}-${r.deploymentName}.json`);
  await fsp.writeFile(file, JSON.stringify(report, null, 2) + '\n', 'utf8');
  return file;
}

/** Markdown for the release summary. */
export function deploySummary(r: DeployResult): string {
  const esc = (s: string) => s.replace(/[|`*_<>[\]]/g, (c) => `\\${c}`);
  const t = (m: Record<string, number>) => esc(fmtTraffic(m));
  const lines = [
    `### Azure ML deployment ${esc(r.endpointName)} / ${esc(r.deploymentName)}`, '',
    r.failure ? `**Rolled back**: ${esc(r.failure)}` : r.unchanged ? `Already serving this model with 100% of the traffic: ${r.tagsUpdated ? 'not redeployed; its release / approval tags were updated' : 'nothing changed'}.` : `Rolled out with ${r.steps.length} traffic step(s).`, '',
    '| | |', '|---|---|',
    `| Endpoint | [${esc(r.endpointName)}](${r.studioUrl}) (${r.endpointKind.toLowerCase()}${r.endpointCreated ? ', created' : ''}) |`,
    `| Deployment | ${esc(r.deploymentName)} |`,
    r.modelStudioUrl ? `| Model | [${esc(r.modelId ?? '')}](${r.modelStudioUrl}) |` : `| Model | ${esc(r.modelId ?? '-')} |`,
    `| Traffic before | ${t(r.trafficBefore)} |`,
    `| Traffic after | ${t(r.trafficAfter)} |`,
  ];
  if (r.scoringUri) lines.push(`| Scoring URI | ${esc(r.scoringUri)} |`);
  if (r.smokeAnalysis) lines.push(`| Smoke test | ${esc(describeAnalysis(r.smokeAnalysis))} |`);
  else if (r.smoke) {
    const s = r.smoke;
    lines.push(`| Smoke test | ${s.ok}/${s.requests} OK, p50 ${s.p50Ms} ms, p95 ${s.p95Ms} ms, max ${s.maxMs} ms |`);
  }
  if (r.mirror) {
    const m = r.mirror;
    lines.push(`| Mirror stage | ${m.skipped ? `${m.percent}% requested, skipped: ${esc(m.skipped)}` : `${m.percent}% of the traffic for ${m.seconds} s: ${m.logged.scoringRequests} mirrored request(s) in ${esc(r.deploymentName)}'s log, ${m.logged.errors} failed${m.endpoint ? `; ${m.endpoint.ok}/${m.endpoint.requests} OK through the endpoint` : ''}`} |`);
  }
  if (r.deleted.length) lines.push(`| Deleted | ${esc(r.deleted.join(', '))} |`);
  if (r.steps.length) {
    lines.push('', '| Step | Traffic | Health check (probes) | Verdict (rule) |', '|---|---|---|---|');
    r.steps.forEach((s, i) => {
      const a = s.analysis;
      const health = a ? `${a.passed}/${a.probes} OK, p95 ${a.latency.p95Ms ?? '-'} ms; ${describeCounts(a)}` : s.health ? `${s.health.ok}/${s.health.requests} OK, p95 ${s.health.p95Ms} ms` : s.provisioningState ?? '';
      const verdict = (a ? `${a.verdict.toUpperCase()}: ${a.rule}` : s.provisioningState ? `provisioning ${s.provisioningState}` : '') +
        (s.metrics ? `; metrics (${s.metrics.requests} request(s), ${s.metrics.errors} error(s)) ${s.metrics.verdict.toUpperCase()}: ${s.metrics.rule}` : '');
      lines.push(`| ${i + 1}: ${s.percent}% | ${t(s.traffic)} | ${esc(health)} | ${esc(verdict)} |`);
    });
  }
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------------------- Azure ops

/**
 * `lro`: how endpoint/deployment operations are waited for (poll.ts: shared back-off schedule, Retry-After, progress
 * through `onProgress` — the entry logs it; tests inject a clock).
 */
export function azureDeployOps(ctx: AzureMLContext, lro: LroWaitOptions = {}): DeployOps {
  let location: string | undefined;
  return {
    ws: ctx.ws,
    location: async () => (location ??= (await getWorkspace(ctx)).location ?? 'eastus'),
    getCompute: async (name) => {
      const c = await armGetOptional<any>(ctx, wsPath(ctx.ws, `/computes/${encodeURIComponent(name)}`), { what: `compute '${name}'` });
      if (!c) return undefined;
      const p = c.properties?.properties ?? {};
      const def = p.defaultInstanceType ?? (String(c.properties?.computeType).toLowerCase() === 'kubernetes' ? 'defaultinstancetype' : undefined);
      const types = [...new Set([...(def ? [def] : []), ...Object.keys(p.instanceTypes ?? {})])];
      return { id: c.id, name: c.name, computeType: c.properties?.computeType ?? 'unknown', instanceTypes: types, defaultInstanceType: def };
    },
    getEndpoint: async (name, signal) => { const e = await getEndpoint(ctx, name, signal); return e ? endpointInfo(e) : undefined; },
    metrics: (ep, dep, since) => readEndpointHealth(ctx, ep, { deployment: dep, since }),
    createEndpoint: async (name, body) => endpointInfo(await putEndpoint(ctx, name, body as unknown as OnlineEndpoint, lro)),
    updateEndpoint: async (name, ch) => endpointInfo(await updateEndpoint(ctx, name, (b) => {
      if (ch.authMode) b.properties.authMode = ch.authMode;
      if (ch.description !== undefined) b.properties.description = ch.description;
      if (ch.tags) b.tags = ch.tags;
    }, lro)),
    listDeployments: async (ep, signal) => (await listDeployments(ctx, ep, signal)).map(deploymentInfo),
    getDeployment: async (ep, name) => { const d = await getDeployment(ctx, ep, name); return d ? deploymentInfo(d) : undefined; },
    putDeployment: putDeploymentFor({
      sdkPut: async (ep, name, body) => deploymentInfo(await putDeployment(ctx, ep, name, body as unknown as OnlineDeployment, lro)),
      putWithCollector: async (ep, name, body) => deploymentInfo(await putDeploymentWithCollector(ctx, ep, name, body, lro)),
      ensureAsset: (a) => ensureCollectionAsset(ctx, a), getDataCollector: (ep, name) => getDeploymentDataCollector(ctx, ep, name), info,
    }),
    getDataCollector: (ep, name) => getDeploymentDataCollector(ctx, ep, name),
    updateDeploymentTags: async (ep, name, tags) => deploymentInfo(await updateDeploymentTags(ctx, ep, name, tags, lro)),
    deleteDeployment: (ep, name) => deleteDeployment(ctx, ep, name, lro),
    setTraffic: (ep, t, signal) => setTraffic(ctx, ep, t, { ...lro, signal }),
    setMirrorTraffic: (ep, m, signal) => setMirrorTraffic(ctx, ep, m, { ...lro, signal }),
    credential: async (ep, authMode) => (authMode === 'Key' ? (await endpointKeys(ctx, ep)).primaryKey : await endpointToken(ctx, ep)),
    logs: (ep, dep, tail, signal) => getDeploymentLogs(ctx, ep, dep, { tail, signal }),
    score: (uri, body, o) => scoreOnce(uri, body, { ...o, proxy: ctx.proxy }),
    resolver: (o) => new AzureDeploymentResolver(ctx, o),
  };
}

