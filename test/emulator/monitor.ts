// Azure Monitor Metrics API of Azure-in-a-box, for online endpoint resources only:
//
//   GET {endpoint resource id}/providers/Microsoft.Insights/metrics?api-version=2024-02-01
//       &metricnames=…&timespan=<start>/<end>&interval=PT1M|FULL|…&aggregation=average,…&$filter=deployment eq '*' and …
//
// answered from what the front door really served (frontdoor.ts `served`: per endpoint and deployment, time, status
// code, latency). Every answer is validated against `Response` of the official swagger before it leaves
// (test/fixtures/third-party/azure-rest-api-specs/specification/monitor/resource-manager/Microsoft.Insights/stable/
// 2024-02-01/metrics_API.json and the files it $refs, provenance in test/fixtures/third-party/README.md).
//
// Metric and dimension names: Microsoft's generated reference "Supported metrics for
// Microsoft.MachineLearningServices/workspaces/onlineEndpoints" (MicrosoftDocs/azure-reference-other,
// azure-monitor-ref/supported-metrics/includes/Microsoft-MachineLearningServices-workspaces-onlineEndpoints-metrics-include.md,
// commit 0779097c60ee771a5cdf184aefcd84ab528e1243; the same table, newer, in MicrosoftDocs/azure-monitor-docs
// articles/azure-monitor/reference/supported-metrics/microsoft-machinelearningservices-workspaces-onlineendpoints-metrics.md):
//   RequestsPerMinute   Count         Average  dimensions deployment, statusCode, statusCodeClass, modelStatusCode  PT1M
//   RequestLatency      Milliseconds  Average  deployment  PT1M   ("average complete interval of time taken for a request")
//   RequestLatency_P50/_P90/_P95/_P99  Milliseconds  Average  deployment  PT1M
//   ConnectionsActive, NetworkBytes, NewConnectionsPerSecond (no dimensions), DataCollection*: documented, listed
//   here, not emulated (answered with time series carrying no values).
// The unit on the wire is the swagger's enum spelling `MilliSeconds` (commonMonitoringTypes.json `Unit`).
//
// How a value is formed here (ASSUMPTIONS, no recording of an online endpoint's metrics answer was found):
//  - one sample per wall-clock minute in which the front door answered at least one matching request:
//    RequestsPerMinute = the number of requests of that minute; RequestLatency = their mean latency;
//    RequestLatency_Pnn = their nearest-rank percentile. A data point of an interval aggregates the minute samples in
//    it (average = mean of the samples, total = sum, count = number of samples, minimum/maximum); an interval without
//    samples carries only its timeStamp (as Azure Monitor shows gaps).
//  - statusCodeClass values are '2xx', '4xx', '5xx' (the "2xx" spelling: an `az monitor metrics list --filter
//    "deployment eq 'green' and statusCodeClass ne '2xx'"` example in Microsoft's online-endpoint samples); statusCode
//    is the number as a string; modelStatusCode is the scoring container's own code when the front door answered 424.
//  - metadatavalues name every dimension the $filter names (the swagger: "returned if $filter was specified").
//  - no ingestion delay: a request is visible at once (the real service publishes with a delay of minutes).
//  - requests answered by the fault layer (http.ts, before routing) are not in the record: they stand for network and
//    infrastructure faults in front of the endpoint.
//  - Kubernetes (AKS/Arc) endpoints: the issue and Microsoft's monitoring article describe these metrics for managed
//    online endpoints; the box answers a Kubernetes endpoint's query with the same shape and empty `timeseries`.
//    UNVERIFIED what the real service answers there.
//  - errors: 400 with the ARM error shape (ErrorContract); the wording is ours.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { armError, type Req, type Res } from './http';

export const METRICS_API_VERSION = '2024-02-01';
export const METRICS_SPEC_ROOT = path.resolve(__dirname, '../fixtures/third-party/azure-rest-api-specs/specification');
const METRICS_SPEC = path.join(
  METRICS_SPEC_ROOT,
  'monitor/resource-manager/Microsoft.Insights/stable/2024-02-01/metrics_API.json',
);
const SPEC_FILES = [
  METRICS_SPEC,
  path.join(METRICS_SPEC_ROOT, 'monitor/common-types/v2/commonMonitoringTypes.json'),
  path.join(METRICS_SPEC_ROOT, 'common-types/resource-management/v1/types.json'),
  path.join(METRICS_SPEC_ROOT, 'common-types/resource-management/v2/types.json'),
];

/** one answer of the front door: what the endpoint's metrics are made of */
export interface ServedRecord {
  /** endpoint ARM id (stored spelling) */
  endpointId: string;
  /** the deployment that answered (or was asked for by header); undefined when none was chosen (no route) */
  deployment?: string;
  time: number;
  status: number;
  /** the scoring container's own status code when the front door answered 424 */
  modelStatus?: number;
  latencyMs: number;
}

export type Dim = 'deployment' | 'statusCode' | 'statusCodeClass' | 'modelStatusCode';
interface MetricDef {
  localized: string;
  description: string;
  unit: 'Count' | 'MilliSeconds' | 'BytesPerSecond' | 'CountPerSecond';
  dims: Dim[];
  sample?: (rs: ServedRecord[]) => number;
}

const pct = (p: number) => (rs: ServedRecord[]) =>
  nearestRank(
    rs.map((r) => r.latencyMs),
    p,
  );
export const ONLINE_ENDPOINT_METRICS: Record<string, MetricDef> = {
  RequestsPerMinute: {
    localized: 'Requests Per Minute',
    description: 'The number of requests sent to online endpoint within a minute',
    unit: 'Count',
    dims: ['deployment', 'statusCode', 'statusCodeClass', 'modelStatusCode'],
    sample: (rs) => rs.length,
  },
  RequestLatency: {
    localized: 'Request Latency',
    description: 'The average complete interval of time taken for a request to be responded in milliseconds',
    unit: 'MilliSeconds',
    dims: ['deployment'],
    sample: (rs) => rs.reduce((a, r) => a + r.latencyMs, 0) / rs.length,
  },
  RequestLatency_P50: {
    localized: 'Request Latency P50',
    description:
      'The average P50 request latency aggregated by all request latency values collected over the selected time period',
    unit: 'MilliSeconds',
    dims: ['deployment'],
    sample: pct(50),
  },
  RequestLatency_P90: {
    localized: 'Request Latency P90',
    description:
      'The average P90 request latency aggregated by all request latency values collected over the selected time period',
    unit: 'MilliSeconds',
    dims: ['deployment'],
    sample: pct(90),
  },
  RequestLatency_P95: {
    localized: 'Request Latency P95',
    description:
      'The average P95 request latency aggregated by all request latency values collected over the selected time period',
    unit: 'MilliSeconds',
    dims: ['deployment'],
    sample: pct(95),
  },
  RequestLatency_P99: {
    localized: 'Request Latency P99',
    description:
      'The average P99 request latency aggregated by all request latency values collected over the selected time period',
    unit: 'MilliSeconds',
    dims: ['deployment'],
    sample: pct(99),
  },
  ConnectionsActive: {
    localized: 'Connections Active',
    description: 'The total number of concurrent TCP connections active from clients.',
    unit: 'Count',
    dims: [],
  },
  NetworkBytes: {
    localized: 'Network Bytes',
    description: 'The bytes per second served for the endpoint.',
    unit: 'BytesPerSecond',
    dims: [],
  },
  NewConnectionsPerSecond: {
    localized: 'New Connections Per Second',
    description: 'The average number of new TCP connections per second established from clients.',
    unit: 'CountPerSecond',
    dims: [],
  },
};

function nearestRank(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length))) - 1];
}

const AGGREGATIONS = ['average', 'minimum', 'maximum', 'total', 'count'] as const;
type Aggregation = (typeof AGGREGATIONS)[number];

export function dimValue(r: ServedRecord, d: Dim): string | undefined {
  switch (d) {
    case 'deployment':
      return r.deployment;
    case 'statusCode':
      return String(r.status);
    case 'statusCodeClass':
      return `${Math.floor(r.status / 100)}xx`;
    case 'modelStatusCode':
      return r.modelStatus === undefined ? undefined : String(r.modelStatus);
  }
}

/** ISO 8601 duration (days, hours, minutes, seconds) → ms; undefined when not one */
export function isoDurationMs(s: string): number | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(s);
  if (!m || s.toUpperCase() === 'P' || /T$/i.test(s)) return undefined;
  return (((Number(m[1] ?? 0) * 24 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 60 + Number(m[4] ?? 0)) * 1000;
}

interface Clause {
  dim: string;
  value: string;
}
/** `$filter`: clauses joined by `and`, each `<dimension> eq '<value>'` ('*' = split by that dimension) */
function parseFilter(f: string): Clause[] | string {
  const out: Clause[] = [];
  for (const part of f.split(/\s+and\s+/i)) {
    const m = /^\s*([A-Za-z_][\w]*)\s+eq\s+'([^']*)'\s*$/i.exec(part);
    if (!m)
      return `The $filter clause '${part.trim()}' is not supported here (supported: <dimension> eq '<value>' joined by 'and').`;
    out.push({ dim: m[1], value: m[2] });
  }
  return out;
}

export interface MetricsSource {
  location: string;
  kubernetes: boolean;
  served: ServedRecord[];
}

/** The Metrics API answer for one online endpoint resource (already found: ARM answered 404 otherwise). */
export function answerMetrics(req: Req, resourceId: string, src: MetricsSource, now = Date.now()): Res {
  const q = req.query;
  const bad = (message: string, code = 'BadRequest') => armError(400, code, message);
  const apiVersion = q.get('api-version');
  if (apiVersion !== METRICS_API_VERSION) {
    return bad(
      `The api-version '${apiVersion}' is not supported by Azure-in-a-box for Microsoft.Insights/metrics (only '${METRICS_API_VERSION}').`,
      'InvalidApiVersionParameter',
    );
  }
  const names = (q.get('metricnames') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!names.length) return bad('metricnames is required here (the box has no default metric).');
  const byLower = new Map(Object.keys(ONLINE_ENDPOINT_METRICS).map((n) => [n.toLowerCase(), n]));
  const canonical: string[] = [];
  for (const n of names) {
    const c = byLower.get(n.toLowerCase());
    if (!c)
      return bad(
        `Failed to find metric configuration for provider: Microsoft.MachineLearningServices, resource Type: workspaces/onlineEndpoints, metric: ${n}, Valid metrics: ${Object.keys(ONLINE_ENDPOINT_METRICS).join(',')}`,
      );
    canonical.push(c);
  }
  // timespan: start/end (ISO 8601 date-times); default: the hour before now (ASSUMPTION)
  let start = now - 3600_000,
    end = now;
  const ts = q.get('timespan');
  if (ts) {
    const [a, b] = ts.split('/');
    const s = Date.parse(a ?? ''),
      e = Date.parse(b ?? '');
    if (Number.isNaN(s) || Number.isNaN(e))
      return bad(`Invalid timespan '${ts}': expected <start ISO 8601>/<end ISO 8601>.`);
    if (s >= e) return bad(`Invalid timespan '${ts}': the start must be before the end.`);
    start = s;
    end = e;
  }
  const intervalRaw = q.get('interval') ?? 'PT1M';
  const full = intervalRaw.toUpperCase() === 'FULL';
  const step = full ? end - start : isoDurationMs(intervalRaw);
  if (!step || step < 60_000)
    return bad(`Invalid interval '${intervalRaw}': an ISO 8601 duration of at least PT1M, or FULL.`);
  if ((end - start) / step > 1440)
    return bad(`The timespan '${ts}' at interval ${intervalRaw} asks for more than 1440 data points.`);
  const aggs: Aggregation[] = [];
  for (const a of (q.get('aggregation') ?? 'average')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean)) {
    if (!(AGGREGATIONS as readonly string[]).includes(a))
      return bad(`Invalid aggregation '${a}': one of ${AGGREGATIONS.join(', ')}.`);
    if (!aggs.includes(a as Aggregation)) aggs.push(a as Aggregation);
  }
  const filterRaw = q.get('$filter');
  const clauses = filterRaw ? parseFilter(filterRaw) : [];
  if (typeof clauses === 'string') return bad(clauses);

  const minute = (t: number) => Math.floor(t / 60_000) * 60_000;
  const value = [];
  for (const name of canonical) {
    const def = ONLINE_ENDPOINT_METRICS[name];
    const dims: Array<{ dim: Dim; value: string }> = [];
    for (const c of clauses) {
      const d = def.dims.find((x) => x.toLowerCase() === c.dim.toLowerCase());
      if (!d) return bad(`Metric ${name} has no dimension '${c.dim}' (dimensions: ${def.dims.join(', ') || 'none'}).`);
      dims.push({ dim: d, value: c.value });
    }
    const records =
      src.kubernetes || !def.sample
        ? []
        : src.served.filter(
            (r) =>
              r.endpointId.toLowerCase() === resourceId.toLowerCase() &&
              r.time >= start &&
              r.time < end &&
              dims.every((d) => d.value === '*' || (dimValue(r, d.dim) ?? '').toLowerCase() === d.value.toLowerCase()),
          );
    // group by the split dimensions
    const groups = new Map<string, { meta: Array<{ dim: Dim; value: string }>; rs: ServedRecord[] }>();
    for (const r of records) {
      const meta = dims.map((d) => ({ dim: d.dim, value: d.value === '*' ? (dimValue(r, d.dim) ?? '') : d.value }));
      const key = JSON.stringify(meta.map((m) => m.value.toLowerCase()));
      const g = groups.get(key) ?? { meta, rs: [] };
      g.rs.push(r);
      groups.set(key, g);
    }
    // no data and no split: one empty series (Azure Monitor answers the series with empty points)
    if (!groups.size && !src.kubernetes && !dims.some((d) => d.value === '*')) groups.set('', { meta: dims, rs: [] });
    const timeseries = [...groups.values()].map((g) => {
      const perMinute = new Map<number, ServedRecord[]>();
      for (const r of g.rs) {
        const k = minute(r.time);
        perMinute.set(k, [...(perMinute.get(k) ?? []), r]);
      }
      const data = [];
      // data points aligned to whole minutes (FULL: one point at the start)
      for (let t = full ? start : minute(start); t < end; t += step) {
        const samples = [...perMinute.entries()]
          .filter(([k]) => k >= minute(t) && k < t + step)
          .map(([, rs]) => def.sample!(rs));
        const point: Record<string, unknown> = { timeStamp: new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z') };
        if (samples.length) {
          for (const a of aggs) {
            const round = (n: number) => Math.round(n * 1000) / 1000;
            if (a === 'average') point.average = round(samples.reduce((x, y) => x + y, 0) / samples.length);
            if (a === 'total') point.total = round(samples.reduce((x, y) => x + y, 0));
            if (a === 'count') point.count = samples.length;
            if (a === 'minimum') point.minimum = round(Math.min(...samples));
            if (a === 'maximum') point.maximum = round(Math.max(...samples));
          }
        }
        data.push(point);
      }
      return {
        metadatavalues: g.meta.map((m) => ({ name: { value: m.dim, localizedValue: m.dim }, value: m.value })),
        data,
      };
    });
    value.push({
      id: `${resourceId}/providers/Microsoft.Insights/metrics/${name}`,
      type: 'Microsoft.Insights/metrics',
      name: { value: name, localizedValue: def.localized },
      displayDescription: def.description,
      errorCode: 'Success',
      unit: def.unit,
      timeseries,
    });
  }
  const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const body = {
    cost: 0,
    timespan: `${iso(start)}/${iso(end)}`,
    interval: full ? 'FULL' : intervalRaw.toUpperCase(),
    namespace: 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints',
    resourceregion: src.location,
    value,
  };
  const problems = validateMetricsResponse(body);
  if (problems.length)
    throw new Error(`emulator bug: a Metrics API answer the 2024-02-01 swagger rejects: ${problems.join('; ')}`);
  return { status: 200, body };
}

// ------------------------------------------------------------------------------------------ validation (swagger)

let responseValidator: ValidateFunction | undefined;

/** Problems of a Metrics_List 200 body against the swagger's `Response` (empty = valid). Files are $ref'd by path. */
export function validateMetricsResponse(body: unknown): string[] {
  if (!responseValidator) {
    const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    addFormats(ajv);
    for (const f of ['int32', 'int64', 'double', 'float', 'duration']) ajv.addFormat(f, true);
    for (const f of SPEC_FILES) {
      if (!fs.existsSync(f)) throw new Error(`monitor: missing spec file ${f}`);
      ajv.addSchema({ ...JSON.parse(fs.readFileSync(f, 'utf8')), $id: pathToFileURL(f).href });
    }
    const doc = JSON.parse(fs.readFileSync(METRICS_SPEC, 'utf8'));
    const ok = doc.paths['/{resourceUri}/providers/Microsoft.Insights/metrics'].get.responses['200'].schema.$ref; // '#/definitions/Response'
    responseValidator = ajv.compile({ $ref: pathToFileURL(METRICS_SPEC).href + ok });
  }
  if (responseValidator(body)) return [];
  return (responseValidator.errors ?? []).map((e) => `${e.instancePath || 'body'}: ${e.message}`);
}
