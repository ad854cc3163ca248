// Azure Monitor Metrics API (Microsoft.Insights/metrics, api-version 2024-02-01) through the task's ARM pipeline
// (same credential, audience, retries and proxy as every other ARM call: arm.ts), and the health evidence of an
// online endpoint read from it.
//
// Metric and dimension names of Microsoft.MachineLearningServices/workspaces/onlineEndpoints, from Microsoft's generated
// reference (MicrosoftDocs/azure-reference-other azure-monitor-ref/supported-metrics/includes/
// Microsoft-MachineLearningServices-workspaces-onlineEndpoints-metrics-include.md, commit
// 0779097c60ee771a5cdf184aefcd84ab528e1243): RequestsPerMinute (Count, Average; dimensions deployment, statusCode,
// statusCodeClass, modelStatusCode), RequestLatency_P95 / RequestLatency_P99 (Milliseconds, Average; dimension
// deployment), time grain PT1M. The response shape: metrics_API.json `Response` (test/fixtures/third-party).
// Reading choices (ours): requests = the sum over the window's minutes of each minute's RequestsPerMinute average (a
// per-minute count); a latency percentile = the worst minute's value (a single bad minute is not averaged away).
import { armRequest } from './arm';
import type { AzureMLContext } from './context';
import { wsPath } from './workspace';

export const METRICS_API_VERSION = '2024-02-01';

export interface MetricValue {
  timeStamp: string;
  average?: number;
  minimum?: number;
  maximum?: number;
  total?: number;
  count?: number;
}
export interface TimeSeries {
  metadatavalues?: Array<{ name?: { value: string }; value?: string }>;
  data?: MetricValue[];
}
export interface Metric {
  id: string;
  name: { value: string; localizedValue?: string };
  unit: string;
  timeseries: TimeSeries[];
  errorCode?: string;
  errorMessage?: string;
}
export interface MetricsResponse {
  timespan: string;
  interval?: string;
  namespace?: string;
  value: Metric[];
}

export interface MetricsQuery {
  metricnames: string[];
  start: Date;
  end: Date;
  /** ISO 8601 duration or FULL; default PT1M */
  interval?: string;
  aggregation?: string[];
  filter?: string;
}

/** GET {resourceId}/providers/Microsoft.Insights/metrics; a refusal is a one-line UserError naming what was read. */
export async function queryMetrics(
  ctx: AzureMLContext,
  resourceId: string,
  q: MetricsQuery,
  what?: string,
): Promise<MetricsResponse> {
  const params = new URLSearchParams({
    'api-version': METRICS_API_VERSION,
    metricnames: q.metricnames.join(','),
    timespan: `${q.start.toISOString()}/${q.end.toISOString()}`,
    interval: q.interval ?? 'PT1M',
    aggregation: (q.aggregation ?? ['average']).join(','),
  });
  if (q.filter) params.set('$filter', q.filter);
  const path = `${resourceId.replace(/\/+$/, '')}/providers/Microsoft.Insights/metrics?${params.toString()}`;
  const r = await armRequest<MetricsResponse>(ctx, 'GET', path, undefined, {
    apiVersion: METRICS_API_VERSION,
    what: what ?? `Azure Monitor metrics ${q.metricnames.join(', ')}`,
  });
  if (!r || !Array.isArray(r.value))
    throw new Error(`Azure Monitor answered metrics ${q.metricnames.join(', ')} without a value list`);
  const failed = r.value.find((m) => m.errorCode && m.errorCode !== 'Success');
  if (failed)
    throw new Error(
      `Azure Monitor could not read metric ${failed.name?.value}: ${failed.errorCode}${failed.errorMessage ? ` ${failed.errorMessage}` : ''}`,
    );
  return r;
}

export function endpointResourceId(ctx: AzureMLContext, endpoint: string): string {
  return `${wsPath(ctx.ws)}/onlineEndpoints/${endpoint}`;
}

/**
 * Status codes that are the deployment's failures in a managed endpoint's answers: every 5xx, 424 (the model container
 * answered non-200: "Model error") and 408 (the model ran longer than the request timeout). Source: "Common error codes
 * for managed online endpoints", MicrosoftDocs/azure-ai-docs articles/machine-learning/how-to-troubleshoot-online-endpoints.md,
 * commit 112100ce80671708ca6b2f7ea53c2f08d05706e6 (the same table src/tasks/deploy/analysis.ts follows). A 5xx-only
 * count would miss every model error of a managed endpoint: the front door turns them into 424.
 */
export function isErrorStatus(code: number): boolean {
  return code >= 500 || code === 424 || code === 408;
}

export interface EndpointHealth {
  /** requests answered in the window (deployment-scoped when a deployment was named) */
  requests: number;
  /** requests per status code ('200', '424', '503', …) */
  byStatus: Record<string, number>;
  /** requests per status code class ('2xx', '4xx', '5xx') */
  byClass: Record<string, number>;
  /** requests that are the deployment's failures (isErrorStatus) */
  errors: number;
  /** errors' share of the requests, % (undefined with no requests) */
  errorPercent?: number;
  p95Ms?: number;
  p99Ms?: number;
  /** minutes of the window with at least one request */
  activeMinutes: number;
  windowStart: Date;
  windowEnd: Date;
  /** metric reads made */
  reads: number;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** Reads the endpoint's (or one deployment's) request counts by status code and p95/p99 latency for the window. */
export async function readEndpointHealth(
  ctx: AzureMLContext,
  endpoint: string,
  o: { deployment?: string; windowMinutes?: number; since?: Date; now?: Date },
): Promise<EndpointHealth> {
  const end = o.now ?? new Date();
  const start = o.since ?? new Date(end.getTime() - (o.windowMinutes ?? 15) * 60_000);
  const id = endpointResourceId(ctx, endpoint);
  const dep = o.deployment ? `deployment eq '${o.deployment}'` : undefined;
  const on = `endpoint '${endpoint}'${o.deployment ? ` deployment '${o.deployment}'` : ''}`;
  const counts = await queryMetrics(
    ctx,
    id,
    {
      metricnames: ['RequestsPerMinute'],
      start,
      end,
      interval: 'PT1M',
      aggregation: ['average'],
      filter: [dep, "statusCode eq '*'"].filter(Boolean).join(' and '),
    },
    `Azure Monitor metric RequestsPerMinute of ${on}`,
  );
  const byStatus: Record<string, number> = {};
  const minutes = new Set<string>();
  for (const ts of counts.value[0]?.timeseries ?? []) {
    const code = ts.metadatavalues?.find((m) => m.name?.value?.toLowerCase() === 'statuscode')?.value ?? 'unknown';
    for (const p of ts.data ?? []) {
      if (typeof p.average !== 'number') continue;
      byStatus[code] = (byStatus[code] ?? 0) + p.average;
      if (p.average > 0) minutes.add(p.timeStamp);
    }
  }
  const byClass: Record<string, number> = {};
  let errors = 0;
  for (const k of Object.keys(byStatus)) {
    byStatus[k] = Math.round(byStatus[k]);
    const n = Number(k);
    const cls = Number.isInteger(n) ? `${Math.floor(n / 100)}xx` : k;
    byClass[cls] = (byClass[cls] ?? 0) + byStatus[k];
    if (Number.isInteger(n) && isErrorStatus(n)) errors += byStatus[k];
  }
  const requests = Object.values(byStatus).reduce((a, b) => a + b, 0);
  const lat = await queryMetrics(
    ctx,
    id,
    {
      metricnames: ['RequestLatency_P95', 'RequestLatency_P99'],
      start,
      end,
      interval: 'PT1M',
      aggregation: ['average'],
      ...(dep ? { filter: dep } : {}),
    },
    `Azure Monitor metrics RequestLatency_P95, RequestLatency_P99 of ${on}`,
  );
  const worst = (name: string): number | undefined => {
    const vals = (lat.value.find((m) => m.name.value.toLowerCase() === name.toLowerCase())?.timeseries ?? [])
      .flatMap((t) => t.data ?? [])
      .map((p) => p.average)
      .filter((v): v is number => typeof v === 'number');
    return vals.length ? round1(Math.max(...vals)) : undefined;
  };
  const p95 = worst('RequestLatency_P95'),
    p99 = worst('RequestLatency_P99');
  return {
    requests,
    byStatus,
    byClass,
    errors,
    ...(requests ? { errorPercent: round1((errors / requests) * 100) } : {}),
    ...(p95 !== undefined ? { p95Ms: p95 } : {}),
    ...(p99 !== undefined ? { p99Ms: p99 } : {}),
    activeMinutes: minutes.size,
    windowStart: start,
    windowEnd: end,
    reads: 2,
  };
}
