// MLflow tracking REST subset + the run-history "details" call of Azure-in-a-box, on the ARM host.
//
// Base URL decision: the workspace's `mlFlowTrackingUri` is
//   azureml://<arm host:port>/mlflow/v1.0/subscriptions/<s>/resourceGroups/<rg>/providers/Microsoft.MachineLearningServices/workspaces/<w>
// (the real service: azureml://<region>.api.azureml.ms/mlflow/v1.0/subscriptions/…). Clients reach it as
// https://<same host>/mlflow/v1.0/… (azureml:// → https://, as the azureml-mlflow plugin does) and call
// <that>/api/2.0/mlflow/<op>. Both `/mlflow/v1.0/` and `/mlflow/v2.0/` are served. Jobs run by the local runner get the
// https form as MLFLOW_TRACKING_URI. Every call needs a bearer token the ARM host accepts (the ARM pre-handler checks
// it); jobs get one as MLFLOW_TRACKING_TOKEN. Errors use MLflow's shape {"error_code","message"}.
//
// Operations: experiments/get, experiments/get-by-name, experiments/create, experiments/search;
// runs/create, runs/get, runs/update, runs/delete, runs/set-tag, runs/delete-tag, runs/log-metric, runs/log-parameter,
// runs/log-batch, runs/search (filter on attributes/tags/params/metrics with = != < <= > >= LIKE ILIKE, joined by AND;
// order_by; page_token); metrics/get-history.
// Run history (what azure-ai-ml uses to stream a job): GET /history/v1.0/<workspace id>/runs/<run>[/details|/children]
// (also under …/experiments/<name>/ and …/experimentids/<id>/): status, error {error:{code,message}} for failed and
// timed-out jobs, properties (sweeps: best_child_run_id, score), logFiles (read-only SAS URLs to the log blobs),
// children (sweep trials, pipeline steps).
import { randomUUID } from 'node:crypto';
import { BlobSASPermissions, generateBlobSASQueryParameters, StorageSharedKeyCredential } from '@azure/storage-blob';
import type { EmulatorContext } from './context';
import type { Req, Res, Router } from './http';
import type { Store } from './store';
import { RP } from './armkit';

export const EXPERIMENTS_KIND = 'mlflow.experiments';
export const RUNS_KIND = 'mlflow.runs';

export interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}
export interface RunInfo {
  run_id: string;
  run_uuid: string;
  run_name: string;
  experiment_id: string;
  user_id: string;
  status: 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
  start_time: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: 'active' | 'deleted';
}
export interface RunRecord {
  info: RunInfo;
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Record<string, Metric[]>;
}
export interface ExperimentRecord {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: 'active' | 'deleted';
  creation_time: number;
  last_update_time: number;
  tags: Record<string, string>;
}

export class MlflowError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
  ) {
    super(message);
  }
}
const notFound = (what: string) => new MlflowError(404, 'RESOURCE_DOES_NOT_EXIST', what);
const invalid = (what: string) => new MlflowError(400, 'INVALID_PARAMETER_VALUE', what);

/** the tracking URI of a workspace (azureml:// form, as the workspace's mlFlowTrackingUri) */
export function mlflowTrackingUri(armUrl: string, wsId: string, version = 'v1.0'): string {
  const host = new URL(armUrl).host;
  return `azureml://${host}/mlflow/${version}${wsId}`;
}
/** the same, as an https URL (what a job's MLFLOW_TRACKING_URI is) */
export function mlflowHttpsUri(armUrl: string, wsId: string, version = 'v1.0'): string {
  return `${armUrl.replace(/\/+$/, '')}/mlflow/${version}${wsId}`;
}

const key = (wsId: string, id: string) => `${wsId}/${id}`.toLowerCase();

/** MLflow state, persisted in the box's store (one record per experiment, one per run with its metric history) */
export class MlflowStore {
  constructor(private store: Store) {}

  // ---- experiments
  experiments(wsId: string): ExperimentRecord[] {
    return this.store.list<ExperimentRecord>(EXPERIMENTS_KIND, `${wsId.toLowerCase()}/`);
  }
  experimentById(wsId: string, id: string): ExperimentRecord | undefined {
    return this.store.get<ExperimentRecord>(EXPERIMENTS_KIND, key(wsId, id));
  }
  experimentByName(wsId: string, name: string): ExperimentRecord | undefined {
    return this.experiments(wsId).find((e) => e.name === name && e.lifecycle_stage === 'active');
  }
  createExperiment(
    wsId: string,
    name: string,
    tags: Record<string, string> = {},
    artifactLocation?: string,
  ): ExperimentRecord {
    if (!name) throw invalid("Missing value for required parameter 'name'.");
    if (this.experimentByName(wsId, name))
      throw new MlflowError(400, 'RESOURCE_ALREADY_EXISTS', `Experiment '${name}' already exists.`);
    const id = randomUUID();
    const now = Date.now();
    const e: ExperimentRecord = {
      experiment_id: id,
      name,
      artifact_location: artifactLocation ?? '',
      lifecycle_stage: 'active',
      creation_time: now,
      last_update_time: now,
      tags,
    };
    this.store.put(EXPERIMENTS_KIND, key(wsId, id), e);
    return e;
  }
  ensureExperiment(wsId: string, name: string): ExperimentRecord {
    return this.experimentByName(wsId, name) ?? this.createExperiment(wsId, name);
  }

  // ---- runs
  getRun(wsId: string, runId: string): RunRecord | undefined {
    return this.store.get<RunRecord>(RUNS_KIND, key(wsId, runId));
  }
  requireRun(wsId: string, runId: string | undefined): RunRecord {
    if (!runId) throw invalid("Missing value for required parameter 'run_id'.");
    const r = this.getRun(wsId, runId);
    if (!r) throw notFound(`Run '${runId}' not found.`);
    return r;
  }
  private save(wsId: string, r: RunRecord): void {
    this.store.put(RUNS_KIND, key(wsId, r.info.run_id), r);
  }
  runs(wsId: string): RunRecord[] {
    return this.store.list<RunRecord>(RUNS_KIND, `${wsId.toLowerCase()}/`);
  }

  createRun(
    wsId: string,
    experimentId: string,
    opts: {
      runId?: string;
      runName?: string;
      startTime?: number;
      tags?: Record<string, string>;
      userId?: string;
      status?: RunInfo['status'];
    } = {},
  ): RunRecord {
    if (!this.experimentById(wsId, experimentId))
      throw notFound(`Experiment with id '${experimentId}' does not exist.`);
    const id = opts.runId ?? randomUUID().replace(/-/g, '');
    if (this.getRun(wsId, id)) throw new MlflowError(400, 'RESOURCE_ALREADY_EXISTS', `Run '${id}' already exists.`);
    const runName = opts.runName ?? opts.tags?.['mlflow.runName'] ?? id;
    const r: RunRecord = {
      info: {
        run_id: id,
        run_uuid: id,
        run_name: runName,
        experiment_id: experimentId,
        user_id: opts.userId ?? '',
        status: opts.status ?? 'RUNNING',
        start_time: opts.startTime ?? Date.now(),
        artifact_uri: `azureml://experiments/${experimentId}/runs/${id}/artifacts`,
        lifecycle_stage: 'active',
      },
      params: {},
      tags: { ...(opts.tags ?? {}), 'mlflow.runName': runName },
      metrics: {},
    };
    this.save(wsId, r);
    return r;
  }

  /** the run of a job (run id = job name), created when the job is created */
  ensureJobRun(
    wsId: string,
    jobName: string,
    experimentName: string,
    displayName: string,
    tags: Record<string, string>,
    parentRunId?: string,
  ): RunRecord {
    const existing = this.getRun(wsId, jobName);
    if (existing) return existing;
    const exp = this.ensureExperiment(wsId, experimentName);
    const t: Record<string, string> = {
      ...tags,
      'mlflow.user': 'emulator',
      'mlflow.source.type': 'JOB',
      'mlflow.source.name': jobName,
    };
    if (parentRunId) t['mlflow.parentRunId'] = parentRunId;
    return this.createRun(wsId, exp.experiment_id, {
      runId: jobName,
      runName: displayName,
      tags: t,
      status: 'SCHEDULED',
    });
  }
  experimentIdOfRun(wsId: string, runId: string): string | undefined {
    return this.getRun(wsId, runId)?.info.experiment_id;
  }

  setRunStatus(wsId: string, runId: string, status: RunInfo['status']): void {
    const r = this.getRun(wsId, runId);
    if (!r) return;
    r.info.status = status;
    if (status !== 'RUNNING' && status !== 'SCHEDULED') r.info.end_time = Date.now();
    this.save(wsId, r);
  }

  updateRun(wsId: string, runId: string, upd: { status?: string; end_time?: number; run_name?: string }): RunRecord {
    const r = this.requireRun(wsId, runId);
    if (upd.status) {
      if (!['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'].includes(upd.status))
        throw invalid(`Invalid run status '${upd.status}'.`);
      r.info.status = upd.status as RunInfo['status'];
    }
    if (upd.end_time !== undefined) r.info.end_time = Number(upd.end_time);
    if (upd.run_name) {
      r.info.run_name = upd.run_name;
      r.tags['mlflow.runName'] = upd.run_name;
    }
    this.save(wsId, r);
    return r;
  }

  deleteRun(wsId: string, runId: string): void {
    const r = this.requireRun(wsId, runId);
    r.info.lifecycle_stage = 'deleted';
    this.save(wsId, r);
  }

  setTag(wsId: string, runId: string, k: string, v: string): void {
    const r = this.getRun(wsId, runId);
    if (!r) return;
    r.tags[k] = v;
    if (k === 'mlflow.runName') r.info.run_name = v;
    this.save(wsId, r);
  }

  deleteTag(wsId: string, runId: string, k: string): void {
    const r = this.getRun(wsId, runId);
    if (!r) return;
    delete r.tags[k];
    this.save(wsId, r);
  }

  logParams(wsId: string, runId: string, params: Record<string, unknown>): void {
    const r = this.getRun(wsId, runId);
    if (!r) return;
    for (const [k, v] of Object.entries(params)) r.params[k] = String(v);
    this.save(wsId, r);
  }

  /** log-batch semantics: params are immutable, metrics append */
  logBatch(wsId: string, runId: string, b: { metrics?: any[]; params?: any[]; tags?: any[] }): void {
    const r = this.requireRun(wsId, runId);
    if (r.info.lifecycle_stage !== 'active') throw invalid(`The run ${runId} must be in the 'active' state.`);
    const metrics = b.metrics ?? [],
      params = b.params ?? [],
      tags = b.tags ?? [];
    if (metrics.length > 1000)
      throw invalid(`A batch logging request can contain at most 1000 metrics. Got ${metrics.length} metrics.`);
    if (params.length > 100)
      throw invalid(`A batch logging request can contain at most 100 params. Got ${params.length} params.`);
    for (const p of params) {
      if (typeof p?.key !== 'string' || !p.key) throw invalid("Missing value for required parameter 'params[].key'.");
      const v = String(p.value ?? '');
      if (p.key in r.params && r.params[p.key] !== v) {
        throw invalid(
          `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${r.params[p.key]}' for run ID='${runId}'. Attempted logging new value '${v}'.`,
        );
      }
    }
    for (const m of metrics) {
      if (typeof m?.key !== 'string' || !m.key) throw invalid("Missing value for required parameter 'metrics[].key'.");
      const value = Number(m.value);
      if (
        m.value === undefined ||
        m.value === null ||
        (typeof m.value !== 'number' &&
          !['NaN', 'Infinity', '-Infinity'].includes(String(m.value)) &&
          Number.isNaN(value))
      ) {
        throw invalid(`Got invalid value ${m.value} for metric '${m.key}'.`);
      }
    }
    for (const p of params) r.params[p.key] = String(p.value ?? '');
    for (const t of tags) {
      if (t?.key) {
        r.tags[t.key] = String(t.value ?? '');
        if (t.key === 'mlflow.runName') r.info.run_name = String(t.value);
      }
    }
    for (const m of metrics) {
      (r.metrics[m.key] ??= []).push({
        key: m.key,
        value: Number(m.value),
        timestamp: Number(m.timestamp ?? Date.now()),
        step: Number(m.step ?? 0),
      });
    }
    this.save(wsId, r);
  }

  /** MLflow's "latest" value: the greatest (step, timestamp, value) */
  latest(r: RunRecord, k: string): Metric | undefined {
    const h = r.metrics[k];
    if (!h?.length) return undefined;
    return h.reduce((a, b) =>
      b.step > a.step ||
      (b.step === a.step && (b.timestamp > a.timestamp || (b.timestamp === a.timestamp && b.value > a.value)))
        ? b
        : a,
    );
  }
  latestMetric(wsId: string, runId: string, k: string | undefined): number | undefined {
    if (!k) return undefined;
    const r = this.getRun(wsId, runId);
    return r ? this.latest(r, k)?.value : undefined;
  }

  toApi(r: RunRecord): Record<string, unknown> {
    const info: Record<string, unknown> = { ...r.info };
    return {
      info,
      data: {
        metrics: Object.keys(r.metrics)
          .map((k) => this.latest(r, k))
          .filter(Boolean),
        params: Object.entries(r.params).map(([key, value]) => ({ key, value })),
        tags: Object.entries(r.tags).map(([key, value]) => ({ key, value })),
      },
      inputs: {},
    };
  }
}

// ---------------------------------------------------------------- runs/search filter and order
interface Clause {
  kind: 'attributes' | 'tags' | 'params' | 'metrics';
  key: string;
  op: string;
  value: string | number | string[];
}

export function parseFilter(filter: string | undefined): Clause[] {
  const f = (filter ?? '').trim();
  if (!f) return [];
  const out: Clause[] = [];
  const parts = f.split(/\s+and\s+/i);
  for (const part of parts) {
    const m =
      /^\s*(?:(attributes|attribute|attr|run|tags|tag|params|param|parameter|parameters|metrics|metric)\.)?("[^"]+"|`[^`]+`|[A-Za-z0-9_.-]+)\s*(=|!=|<=|>=|<|>|LIKE|ILIKE|IN|NOT IN)\s*(.+?)\s*$/i.exec(
        part,
      );
    if (!m) throw invalid(`Error on parsing filter '${f}'`);
    const prefix = (m[1] ?? 'attributes').toLowerCase();
    const kind = prefix.startsWith('tag')
      ? 'tags'
      : prefix.startsWith('param')
        ? 'params'
        : prefix.startsWith('metric')
          ? 'metrics'
          : 'attributes';
    const k = m[2].replace(/^["`]|["`]$/g, '');
    const op = m[3].toUpperCase();
    const raw = m[4];
    let value: string | number | string[];
    if (op === 'IN' || op === 'NOT IN') {
      const inner = /^\((.*)\)$/.exec(raw);
      if (!inner) throw invalid(`Error on parsing filter '${f}': IN needs a parenthesised list`);
      value = inner[1].split(',').map((s) => s.trim().replace(/^'(.*)'$|^"(.*)"$/, '$1$2'));
    } else if (/^'.*'$|^".*"$/.test(raw)) value = raw.slice(1, -1);
    else if (kind === 'metrics' || /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(raw)) value = Number(raw);
    else throw invalid(`Error on parsing filter '${f}': value ${raw} must be quoted`);
    out.push({ kind, key: k, op, value });
  }
  return out;
}

function like(v: string, pattern: string, ci: boolean): boolean {
  const re = new RegExp(
    '^' +
      pattern
        .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        .replace(/%/g, '.*')
        .replace(/_/g, '.') +
      '$',
    ci ? 'is' : 's',
  );
  return re.test(v);
}

function attr(r: RunRecord, k: string): string | number | undefined {
  switch (k.toLowerCase()) {
    case 'run_name':
    case 'run name':
      return r.info.run_name;
    case 'run_id':
    case 'run id':
    case 'run_uuid':
      return r.info.run_id;
    case 'status':
      return r.info.status;
    case 'start_time':
      return r.info.start_time;
    case 'end_time':
      return r.info.end_time;
    case 'user_id':
      return r.info.user_id;
    case 'artifact_uri':
      return r.info.artifact_uri;
    case 'lifecycle_stage':
      return r.info.lifecycle_stage;
    default:
      return undefined;
  }
}

export function matches(s: MlflowStore, r: RunRecord, clauses: Clause[]): boolean {
  for (const c of clauses) {
    let v: string | number | undefined;
    if (c.kind === 'tags') v = r.tags[c.key];
    else if (c.kind === 'params') v = r.params[c.key];
    else if (c.kind === 'metrics') v = s.latest(r, c.key)?.value;
    else v = attr(r, c.key);
    if (v === undefined) return false;
    const val = c.value;
    switch (c.op) {
      case '=':
        if (String(v) !== String(val) && !(typeof v === 'number' && v === Number(val))) return false;
        break;
      case '!=':
        if (String(v) === String(val)) return false;
        break;
      case '<':
        if (!(Number(v) < Number(val))) return false;
        break;
      case '<=':
        if (!(Number(v) <= Number(val))) return false;
        break;
      case '>':
        if (!(Number(v) > Number(val))) return false;
        break;
      case '>=':
        if (!(Number(v) >= Number(val))) return false;
        break;
      case 'LIKE':
        if (!like(String(v), String(val), false)) return false;
        break;
      case 'ILIKE':
        if (!like(String(v), String(val), true)) return false;
        break;
      case 'IN':
        if (!(val as string[]).includes(String(v))) return false;
        break;
      case 'NOT IN':
        if ((val as string[]).includes(String(v))) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

export function orderRuns(s: MlflowStore, runs: RunRecord[], orderBy: string[] | undefined): RunRecord[] {
  const keys = (orderBy ?? []).map((o) => {
    const m =
      /^\s*(?:(attributes|attribute|tags|tag|params|param|metrics|metric)\.)?("[^"]+"|`[^`]+`|[A-Za-z0-9_.-]+)(?:\s+(ASC|DESC))?\s*$/i.exec(
        o,
      );
    if (!m) throw invalid(`Invalid order_by clause '${o}'.`);
    return {
      kind: (m[1] ?? 'attributes')
        .toLowerCase()
        .replace(/s?$/, 's')
        .replace(/^attributess$/, 'attributes'),
      key: m[2].replace(/^["`]|["`]$/g, ''),
      desc: (m[3] ?? 'ASC').toUpperCase() === 'DESC',
    };
  });
  const value = (r: RunRecord, k: { kind: string; key: string }) =>
    k.kind.startsWith('tag')
      ? r.tags[k.key]
      : k.kind.startsWith('param')
        ? r.params[k.key]
        : k.kind.startsWith('metric')
          ? s.latest(r, k.key)?.value
          : attr(r, k.key);
  return [...runs].sort((a, b) => {
    for (const k of keys) {
      const va = value(a, k),
        vb = value(b, k);
      if (va === vb) continue;
      if (va === undefined) return 1; // missing values last
      if (vb === undefined) return -1;
      const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb));
      if (c) return k.desc ? -c : c;
    }
    // default: start_time DESC, then run_id
    return b.info.start_time - a.info.start_time || a.info.run_id.localeCompare(b.info.run_id);
  });
}

// ---------------------------------------------------------------- routes
const WSP = `/subscriptions/:sub/resourceGroups/:rg/providers/${RP}/workspaces/:ws`;

function mlflowRes(status: number, body: unknown): Res {
  return { status, body };
}
function errorRes(e: unknown): Res {
  if (e instanceof MlflowError) return { status: e.status, body: { error_code: e.code, message: e.message } };
  throw e;
}
const wsIdOfReq = (req: Req) =>
  `/subscriptions/${req.params.sub}/resourceGroups/${req.params.rg}/providers/${RP}/workspaces/${req.params.ws}`;

const pageToken = (n: number) => Buffer.from(JSON.stringify({ offset: n })).toString('base64');
function fromToken(t: string | undefined | null): number {
  if (!t) return 0;
  try {
    return Number(JSON.parse(Buffer.from(t, 'base64').toString('utf8')).offset) || 0;
  } catch {
    throw invalid(`Invalid page token '${t}'.`);
  }
}

export interface MlflowRouteOptions {
  /** does the workspace exist? (404 otherwise) */
  workspaceExists(wsId: string): boolean;
  /** job status + error for run history (undefined: not a job) */
  jobInfo?(
    wsId: string,
    runId: string,
  ):
    | {
        status: string;
        error?: { code: string; message: string };
        startTime?: string;
        endTime?: string;
        logBlob?: { container: string; name: string };
        properties?: Record<string, string>;
        children?: string[];
      }
    | undefined;
}

/** Register MLflow (`/mlflow/v1.0|v2.0/<workspace id>/api/2.0/mlflow/...`) and run-history routes on the ARM router. */
export function registerMlflow(router: Router, ctx: EmulatorContext, ml: MlflowStore, opts: MlflowRouteOptions): void {
  const handle = (method: string, op: string, fn: (req: Req, wsId: string, body: any) => unknown) => {
    router.add(method, `/mlflow/:ver${WSP}/api/2.0/mlflow/${op}`, (req) => {
      const wsId = wsIdOfReq(req);
      try {
        if (!/^v[12]\.0$/i.test(req.params.ver))
          throw new MlflowError(404, 'ENDPOINT_NOT_FOUND', `Unknown API version ${req.params.ver}.`);
        if (!opts.workspaceExists(wsId)) throw notFound(`Workspace ${req.params.ws} not found.`);
        const body =
          method === 'GET' ? Object.fromEntries(req.query) : req.body && typeof req.body === 'object' ? req.body : {};
        return mlflowRes(200, fn(req, wsId, body) ?? {});
      } catch (e) {
        return errorRes(e);
      }
    });
  };

  // experiments
  handle('GET', 'experiments/get', (_req, wsId, b) => {
    const e = ml.experimentById(wsId, String(b.experiment_id ?? ''));
    if (!e) throw notFound(`No Experiment with id=${b.experiment_id} exists`);
    return { experiment: expApi(e) };
  });
  handle('GET', 'experiments/get-by-name', (_req, wsId, b) => {
    if (!b.experiment_name) throw invalid("Missing value for required parameter 'experiment_name'.");
    const e = ml.experimentByName(wsId, String(b.experiment_name));
    if (!e) throw notFound(`Could not find experiment with name: '${b.experiment_name}'`);
    return { experiment: expApi(e) };
  });
  handle('POST', 'experiments/create', (_req, wsId, b) => {
    const tags = Object.fromEntries((b.tags ?? []).map((t: any) => [t.key, String(t.value)]));
    return { experiment_id: ml.createExperiment(wsId, String(b.name ?? ''), tags, b.artifact_location).experiment_id };
  });
  handle('POST', 'experiments/search', (_req, wsId, b) => {
    let list = ml
      .experiments(wsId)
      .filter((e) =>
        b.view_type === 'ALL'
          ? true
          : b.view_type === 'DELETED_ONLY'
            ? e.lifecycle_stage === 'deleted'
            : e.lifecycle_stage === 'active',
      );
    const m = /^\s*(?:attribute\.)?name\s*(=|LIKE|ILIKE)\s*'(.*)'\s*$/i.exec(String(b.filter ?? ''));
    if (b.filter && !m) throw invalid(`Unsupported experiment filter '${b.filter}'.`);
    if (m)
      list = list.filter((e) => (m[1] === '=' ? e.name === m[2] : like(e.name, m[2], m[1].toUpperCase() === 'ILIKE')));
    const start = fromToken(b.page_token);
    const max = Number(b.max_results ?? 1000);
    const out: Record<string, unknown> = { experiments: list.slice(start, start + max).map(expApi) };
    if (start + max < list.length) out.next_page_token = pageToken(start + max);
    return out;
  });

  // runs
  handle('POST', 'runs/create', (req, wsId, b) => {
    const tags = Object.fromEntries((b.tags ?? []).map((t: any) => [t.key, String(t.value)]));
    const r = ml.createRun(wsId, String(b.experiment_id ?? '0'), {
      runName: b.run_name,
      startTime: b.start_time ? Number(b.start_time) : undefined,
      tags,
      userId: b.user_id ?? req.identity?.appId,
    });
    return { run: ml.toApi(r) };
  });
  handle('GET', 'runs/get', (_req, wsId, b) => ({ run: ml.toApi(ml.requireRun(wsId, b.run_id ?? b.run_uuid)) }));
  handle('POST', 'runs/update', (_req, wsId, b) => ({ run_info: ml.updateRun(wsId, b.run_id ?? b.run_uuid, b).info }));
  handle('POST', 'runs/delete', (_req, wsId, b) => {
    ml.deleteRun(wsId, b.run_id);
    return {};
  });
  handle('POST', 'runs/set-tag', (_req, wsId, b) => {
    ml.requireRun(wsId, b.run_id ?? b.run_uuid);
    if (!b.key) throw invalid("Missing value for required parameter 'key'.");
    ml.setTag(wsId, b.run_id ?? b.run_uuid, String(b.key), String(b.value ?? ''));
    return {};
  });
  handle('POST', 'runs/delete-tag', (_req, wsId, b) => {
    const r = ml.requireRun(wsId, b.run_id);
    if (!(b.key in r.tags)) throw notFound(`No tag with name: ${b.key} in run with id ${b.run_id}`);
    ml.deleteTag(wsId, b.run_id, String(b.key));
    return {};
  });
  handle('POST', 'runs/log-metric', (_req, wsId, b) => {
    ml.logBatch(wsId, b.run_id ?? b.run_uuid, {
      metrics: [{ key: b.key, value: b.value, timestamp: b.timestamp, step: b.step }],
    });
    return {};
  });
  handle('POST', 'runs/log-parameter', (_req, wsId, b) => {
    ml.logBatch(wsId, b.run_id ?? b.run_uuid, { params: [{ key: b.key, value: b.value }] });
    return {};
  });
  handle('POST', 'runs/log-batch', (_req, wsId, b) => {
    ml.logBatch(wsId, b.run_id, b);
    return {};
  });
  handle('POST', 'runs/search', (_req, wsId, b) => {
    const exps: string[] = (b.experiment_ids ?? []).map(String);
    const clauses = parseFilter(b.filter);
    const view = String(b.run_view_type ?? 'ACTIVE_ONLY');
    let runs = ml
      .runs(wsId)
      .filter(
        (r) =>
          (!exps.length || exps.includes(r.info.experiment_id)) &&
          (view === 'ALL' ||
            (view === 'DELETED_ONLY' ? r.info.lifecycle_stage === 'deleted' : r.info.lifecycle_stage === 'active')),
      );
    runs = runs.filter((r) => matches(ml, r, clauses));
    runs = orderRuns(ml, runs, b.order_by);
    const start = fromToken(b.page_token);
    const max = Math.min(Number(b.max_results ?? 1000), 50000);
    const out: Record<string, unknown> = { runs: runs.slice(start, start + max).map((r) => ml.toApi(r)) };
    if (start + max < runs.length) out.next_page_token = pageToken(start + max);
    return out;
  });
  handle('GET', 'metrics/get-history', (_req, wsId, b) => {
    const r = ml.requireRun(wsId, b.run_id ?? b.run_uuid);
    if (!b.metric_key) throw invalid("Missing value for required parameter 'metric_key'.");
    const all = [...(r.metrics[String(b.metric_key)] ?? [])].sort(
      (x, y) => x.step - y.step || x.timestamp - y.timestamp,
    );
    const start = fromToken(b.page_token);
    const max = b.max_results ? Number(b.max_results) : all.length || 1;
    const out: Record<string, unknown> = { metrics: all.slice(start, start + max) };
    if (start + max < all.length) out.next_page_token = pageToken(start + max);
    return out;
  });

  // run history: /history/v1.0/<workspace>/runs/<run>[/details|/children] and …/experiments/<exp>/runs/<run>[…]
  const runDto = (wsId: string, runId: string, details: boolean): Record<string, unknown> | undefined => {
    const run = ml.getRun(wsId, runId);
    const job = opts.jobInfo?.(wsId, runId);
    if (!run && !job) return undefined;
    const exp = run ? ml.experimentById(wsId, run.info.experiment_id) : undefined;
    const body: Record<string, unknown> = {
      runId,
      runUuid: runId,
      status: job?.status ?? mlflowToRunStatus(run!.info.status),
      experimentId: run?.info.experiment_id,
      experimentName: exp?.name,
      displayName: run?.info.run_name,
      parentRunId: run?.tags['mlflow.parentRunId'] ?? null,
      startTimeUtc: job?.startTime ?? (run ? new Date(run.info.start_time).toISOString() : null),
      endTimeUtc: job?.endTime ?? (run?.info.end_time ? new Date(run.info.end_time).toISOString() : null),
      error: job?.error ? { error: { code: job.error.code, message: job.error.message }, time: job.endTime } : null,
      tags: run?.tags ?? {},
      properties: job?.properties ?? {},
    };
    if (details)
      body.logFiles = job?.logBlob
        ? { 'user_logs/std_log.txt': sasUrl(ctx, job.logBlob.container, job.logBlob.name) }
        : {};
    return body;
  };
  const historyRoute = (pattern: string, kind: 'run' | 'details' | 'children') =>
    router.add('GET', pattern, (req) => {
      const wsId = wsIdOfReq(req);
      if (!opts.workspaceExists(wsId))
        return {
          status: 404,
          body: { error: { code: 'UserError', message: `Workspace ${req.params.ws} not found.` } },
        };
      const body = runDto(wsId, req.params.run, kind === 'details');
      if (!body)
        return { status: 404, body: { error: { code: 'UserError', message: `Run ${req.params.run} was not found` } } };
      if (kind === 'children') {
        const kids = opts.jobInfo?.(wsId, req.params.run)?.children ?? [];
        return {
          status: 200,
          body: { value: kids.map((k) => runDto(wsId, k, false)).filter(Boolean), continuationToken: null },
        };
      }
      return { status: 200, body };
    });
  for (const kind of ['run', 'details', 'children'] as const) {
    const tail = kind === 'run' ? '' : `/${kind}`;
    historyRoute(`/history/v1.0${WSP}/runs/:run${tail}`, kind);
    historyRoute(`/history/v1.0${WSP}/experiments/:exp/runs/:run${tail}`, kind);
    historyRoute(`/history/v1.0${WSP}/experimentids/:exp/runs/:run${tail}`, kind);
  }
}

function expApi(e: ExperimentRecord): Record<string, unknown> {
  return {
    experiment_id: e.experiment_id,
    name: e.name,
    artifact_location: e.artifact_location,
    lifecycle_stage: e.lifecycle_stage,
    creation_time: e.creation_time,
    last_update_time: e.last_update_time,
    tags: Object.entries(e.tags).map(([key, value]) => ({ key, value })),
  };
}

function mlflowToRunStatus(s: RunInfo['status']): string {
  return { RUNNING: 'Running', SCHEDULED: 'NotStarted', FINISHED: 'Completed', FAILED: 'Failed', KILLED: 'Canceled' }[
    s
  ];
}

/** a read-only SAS URL (1 h) to a blob in Azurite, in the path-style form Azurite serves, through the fault proxy (clients get it) */
export function sasUrl(ctx: EmulatorContext, container: string, blob: string): string {
  const cred = new StorageSharedKeyCredential(ctx.azurite.account, ctx.azurite.key);
  const sas = generateBlobSASQueryParameters(
    {
      containerName: container,
      blobName: blob,
      permissions: BlobSASPermissions.parse('r'),
      startsOn: new Date(Date.now() - 300_000),
      expiresOn: new Date(Date.now() + 3600_000),
    },
    cred,
  ).toString();
  return `${ctx.azurite.clientBlobEndpoint.replace(/\/+$/, '')}/${container}/${blob.split('/').map(encodeURIComponent).join('/')}?${sas}`;
}
