// MLflow tracking REST on a workspace's tracking server (run id = Azure ML job name), shared by the job and evaluate
// tasks. The workspace's mlFlowTrackingUri is `azureml://<region host>/mlflow/v1.0/subscriptions/…/workspaces/<w>`;
// clients call `https://<region host>/mlflow/v2.0/subscriptions/…/workspaces/<w>/api/2.0/mlflow/<op>` with a bearer
// token for the ARM audience (what the azureml-mlflow plugin does). Requests go through the Azure ML client's
// pipeline (same credential and scope, retries honouring Retry-After).
import { createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import type { AzureMLContext } from './context';
import { mapAzureError, oneLine } from './errors';
import { UserError } from '../errors';

/** `azureml://host/…` or `https://host/…` → `https://host` */
export function serviceBaseUrl(trackingUri: string): string {
  const u = new URL(trackingUri.trim().replace(/^azureml:\/\//i, 'https://'));
  return `${u.protocol}//${u.host}`;
}

/** azureml://host/mlflow/v1.0/<workspace id> → https://host/mlflow/v2.0/<workspace id> (the REST base, without /api/2.0/mlflow) */
export function mlflowRestBase(trackingUri: string): string {
  const u = new URL(trackingUri.trim().replace(/^azureml:\/\//i, 'https://'));
  const p = u.pathname.replace(/\/+$/, '').replace(/^\/mlflow\/v1\.0\//i, '/mlflow/v2.0/');
  return `${u.protocol}//${u.host}${p}`;
}

export interface ServiceResponse<T> {
  status: number;
  body: T;
  headers: Record<string, string>;
}

/** A request to an Azure ML data-plane URL (run history, MLflow) with the ARM bearer token of `ctx`. */
export async function authorizedRequest<T>(
  ctx: AzureMLContext,
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
): Promise<ServiceResponse<T>> {
  const headers = createHttpHeaders({ accept: 'application/json' });
  if (body !== undefined) headers.set('content-type', 'application/json');
  const req = createPipelineRequest({
    url,
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    abortSignal: ctx.signal,
  });
  let res;
  try {
    res = await ctx.client.sendRequest(req);
  } catch (err) {
    throw mapAzureError(err, `${method} ${new URL(url).pathname}`);
  }
  let parsed: any;
  if (res.bodyAsText) {
    try {
      parsed = JSON.parse(res.bodyAsText);
    } catch {
      parsed = res.bodyAsText;
    }
  }
  return { status: res.status, body: parsed as T, headers: res.headers.toJSON() };
}

export interface MlflowMetric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}
export interface MlflowRun {
  info: {
    run_id: string;
    run_name?: string;
    experiment_id?: string;
    status?: string;
    start_time?: number;
    end_time?: number;
    artifact_uri?: string;
  };
  data: {
    metrics: MlflowMetric[];
    params: Array<{ key: string; value: string }>;
    tags: Array<{ key: string; value: string }>;
  };
}

/** A run's latest metrics, params and tags as plain maps. */
export interface RunSummary {
  runId: string;
  status?: string;
  metrics: Record<string, number>;
  params: Record<string, string>;
  tags: Record<string, string>;
}

export class MlflowClient {
  readonly base: string;
  constructor(
    private readonly ctx: AzureMLContext,
    trackingUri: string,
  ) {
    this.base = mlflowRestBase(trackingUri);
  }

  private async call<T>(method: 'GET' | 'POST', op: string, args: Record<string, unknown>): Promise<T | undefined> {
    let url = `${this.base}/api/2.0/mlflow/${op}`;
    if (method === 'GET')
      url +=
        '?' +
        new URLSearchParams(
          Object.entries(args)
            .filter(([, v]) => v !== undefined)
            .map(([k, v]): [string, string] => [k, String(v)]),
        ).toString();
    const res = await authorizedRequest<any>(this.ctx, method, url, method === 'POST' ? args : undefined);
    if (res.status === 404 && res.body?.error_code === 'RESOURCE_DOES_NOT_EXIST') return undefined;
    if (res.status < 200 || res.status >= 300) {
      const code = res.body?.error_code ?? res.body?.error?.code ?? `HTTP ${res.status}`;
      const msg = res.body?.message ?? res.body?.error?.message ?? '';
      throw new UserError(`MLflow ${op} failed: ${oneLine(`${code}: ${msg}`)}`);
    }
    return res.body as T;
  }

  /** runs/get; undefined when the run does not exist. */
  async getRun(runId: string): Promise<MlflowRun | undefined> {
    const r = await this.call<{ run: MlflowRun }>('GET', 'runs/get', { run_id: runId });
    return r?.run;
  }

  /** Latest value of every metric, the params and tags of a run (undefined when the run does not exist). */
  async runSummary(runId: string): Promise<RunSummary | undefined> {
    const run = await this.getRun(runId);
    if (!run) return undefined;
    return { ...summarize(run), runId };
  }

  /** Ids of every active experiment of the workspace (experiments/search, all pages). */
  async experimentIds(): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 1000; i++) {
      const r = await this.call<{ experiments?: Array<{ experiment_id: string }>; next_page_token?: string }>(
        'POST',
        'experiments/search',
        { max_results: 1000, view_type: 'ACTIVE_ONLY', ...(token ? { page_token: token } : {}) },
      );
      out.push(...(r?.experiments ?? []).map((e) => String(e.experiment_id)));
      token = r?.next_page_token || undefined;
      if (!token) break;
    }
    return out;
  }

  /** runs/search over the given experiments (all pages; at most `limit` runs), each as a RunSummary (latest metric values). */
  async searchRuns(
    experimentIds: string[],
    filter: string,
    o: { orderBy?: string[]; limit?: number } = {},
  ): Promise<Array<RunSummary & { startTime?: number; endTime?: number }>> {
    const out: Array<RunSummary & { startTime?: number; endTime?: number }> = [];
    const limit = o.limit ?? 10_000;
    let token: string | undefined;
    while (out.length < limit) {
      const r = await this.call<{ runs?: MlflowRun[]; next_page_token?: string }>('POST', 'runs/search', {
        experiment_ids: experimentIds,
        filter,
        run_view_type: 'ACTIVE_ONLY',
        max_results: Math.min(1000, limit - out.length),
        ...(o.orderBy ? { order_by: o.orderBy } : {}),
        ...(token ? { page_token: token } : {}),
      });
      for (const run of r?.runs ?? [])
        out.push({ ...summarize(run), startTime: run.info?.start_time, endTime: run.info?.end_time });
      token = r?.next_page_token || undefined;
      if (!token) break;
    }
    return out;
  }

  /** Every logged value of one metric (metrics/get-history, all pages), in step order. */
  async metricHistory(runId: string, key: string): Promise<MlflowMetric[]> {
    const out: MlflowMetric[] = [];
    let token: string | undefined;
    for (let i = 0; i < 1000; i++) {
      const r = await this.call<{ metrics?: MlflowMetric[]; next_page_token?: string }>('GET', 'metrics/get-history', {
        run_id: runId,
        metric_key: key,
        page_token: token,
        max_results: 25000,
      });
      out.push(...(r?.metrics ?? []));
      token = r?.next_page_token || undefined;
      if (!token) break;
    }
    return out.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
  }
}

/** A run as plain maps (the latest value of every metric, as runs/get and runs/search return them). */
function summarize(run: MlflowRun): RunSummary {
  const kv = (a: Array<{ key: string; value: string }> | undefined) =>
    Object.fromEntries((a ?? []).map((x) => [x.key, x.value]));
  const metrics: Record<string, number> = {};
  for (const m of run.data?.metrics ?? []) metrics[m.key] = Number(m.value);
  return {
    runId: run.info?.run_id,
    status: run.info?.status,
    metrics,
    params: kv(run.data?.params),
    tags: kv(run.data?.tags),
  };
}
