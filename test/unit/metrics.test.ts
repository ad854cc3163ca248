// Azure Monitor metrics of online endpoints: the emulator's Metrics API (test/emulator/monitor.ts) answers in the
// swagger's shape from the front door's record, and AzureMLEndpointHealth@1's verdict rules (src/tasks/endpointHealth.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { METRICS_SPEC_ROOT, answerMetrics, validateMetricsResponse, type ServedRecord } from '../emulator/monitor';
import type { Req } from '../emulator/http';
import {
  checkInputs,
  judgeHealth,
  checkEndpointHealth,
  describeHealth,
  healthSummary,
  type HealthInputs,
  type HealthOps,
} from '../../src/tasks/endpointHealth';
import { isErrorStatus, type EndpointHealth } from '../../src/azureml/metrics';
import { InputError, UserError } from '../../src/pipeline/errors';

const EP =
  '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w/onlineEndpoints/e1';
const req = (q: Record<string, string>): Req => {
  const query = new URLSearchParams({ 'api-version': '2024-02-01', ...q });
  const p = `${EP}/providers/Microsoft.Insights/metrics`;
  return {
    method: 'GET',
    url: new URL(`https://arm.test${p}?${query}`),
    path: p,
    query,
    headers: {},
    body: undefined,
    rawBody: Buffer.alloc(0),
    params: {},
  };
};
// 10:00:00 – 10:05:00 UTC; requests in minutes 10:01 and 10:03
const T = Date.parse('2026-01-01T10:00:00Z');
const rec = (
  min: number,
  sec: number,
  deployment: string,
  status: number,
  latencyMs: number,
  modelStatus?: number,
): ServedRecord => ({
  endpointId: EP,
  deployment,
  time: T + min * 60_000 + sec * 1000,
  status,
  latencyMs,
  ...(modelStatus ? { modelStatus } : {}),
});
const SERVED: ServedRecord[] = [
  ...Array.from({ length: 8 }, (_, i) => rec(1, i, 'blue', 200, 10 + i)), // blue 10..17 ms
  rec(1, 30, 'blue', 424, 50, 500),
  rec(1, 31, 'green', 200, 100),
  ...Array.from({ length: 4 }, (_, i) => rec(3, i, 'blue', 200, 20)),
  rec(3, 10, 'blue', 503, 5),
  { ...rec(2, 0, 'blue', 200, 1), endpointId: EP.replace('e1', 'other') }, // another endpoint
  rec(6, 0, 'blue', 200, 1), // after the window
];
const SRC = { location: 'eastus', kubernetes: false, served: SERVED };
const TIMESPAN = '2026-01-01T10:00:00Z/2026-01-01T10:05:00Z';
const body = (r: { status: number; body?: unknown }) => r.body as any;

describe('the Metrics API swagger (2024-02-01) as the validator reads it', () => {
  test("accepts Microsoft's own example response (GetMetric.json) and rejects broken shapes", () => {
    const ex = JSON.parse(
      fs.readFileSync(
        path.join(
          METRICS_SPEC_ROOT,
          'monitor/resource-manager/Microsoft.Insights/stable/2024-02-01/examples/GetMetric.json',
        ),
        'utf8',
      ),
    );
    const ok = ex.responses['200'].body;
    assert.deepEqual(validateMetricsResponse(ok), []);
    const noTimespan = structuredClone(ok);
    delete noTimespan.timespan;
    assert.ok(
      validateMetricsResponse(noTimespan).some((e) => /timespan/.test(e)),
      'timespan is required',
    );
    const badUnit = structuredClone(ok);
    badUnit.value[0].unit = 'Milliseconds'; // the docs' spelling; the enum says MilliSeconds
    assert.ok(validateMetricsResponse(badUnit).length > 0, 'unit outside the enum');
    const noStamp = structuredClone(ok);
    delete noStamp.value[0].timeseries[0].data[0].timeStamp;
    assert.ok(validateMetricsResponse(noStamp).some((e) => /timeStamp/.test(e)));
  });
});

describe('emulator: metrics from what the front door served', () => {
  test('RequestsPerMinute split by statusCode for one deployment: one sample per minute, exact counts', () => {
    const r = answerMetrics(
      req({
        metricnames: 'RequestsPerMinute',
        timespan: TIMESPAN,
        interval: 'PT1M',
        aggregation: 'average,count',
        $filter: "deployment eq 'blue' and statusCode eq '*'",
      }),
      EP,
      SRC,
    );
    assert.equal(r.status, 200);
    const m = body(r).value[0];
    assert.equal(m.name.value, 'RequestsPerMinute');
    assert.equal(m.unit, 'Count');
    const by = Object.fromEntries(
      m.timeseries.map((t: any) => [t.metadatavalues.find((v: any) => v.name.value === 'statusCode').value, t.data]),
    );
    assert.deepEqual(Object.keys(by).sort(), ['200', '424', '503']);
    assert.equal(by['200'].length, 5, 'one data point per minute of the timespan');
    assert.deepEqual(
      by['200'].map((p: any) => p.average ?? null),
      [null, 8, null, 4, null],
    );
    assert.deepEqual(
      by['424'].map((p: any) => p.average ?? null),
      [null, 1, null, null, null],
    );
    assert.deepEqual(
      by['503'].map((p: any) => p.average ?? null),
      [null, null, null, 1, null],
    );
    assert.equal(by['200'][1].count, 1, 'one sample per minute');
    assert.deepEqual(validateMetricsResponse(body(r)), []);
  });

  test('latency percentiles per minute (nearest rank), FULL interval aggregates the minute samples', () => {
    const r = answerMetrics(
      req({
        metricnames: 'RequestLatency_P95,RequestLatency',
        timespan: TIMESPAN,
        interval: 'PT1M',
        $filter: "deployment eq 'blue'",
      }),
      EP,
      SRC,
    );
    const [p95, mean] = body(r).value;
    assert.equal(p95.unit, 'MilliSeconds');
    // minute 1, blue: 10..17 and 50 → nearest-rank p95 of 9 values = the 9th = 50; minute 3: 20,20,20,20,5 → 20
    assert.deepEqual(
      p95.timeseries[0].data.map((p: any) => p.average ?? null),
      [null, 50, null, 20, null],
    );
    assert.deepEqual(p95.timeseries[0].metadatavalues, [
      { name: { value: 'deployment', localizedValue: 'deployment' }, value: 'blue' },
    ]);
    assert.equal(
      mean.timeseries[0].data[1].average,
      Math.round(((10 + 11 + 12 + 13 + 14 + 15 + 16 + 17 + 50) / 9) * 1000) / 1000,
    );
    const full = answerMetrics(
      req({ metricnames: 'RequestsPerMinute', timespan: TIMESPAN, interval: 'FULL', aggregation: 'total,average' }),
      EP,
      SRC,
    );
    const d = body(full).value[0].timeseries[0].data;
    assert.equal(d.length, 1);
    assert.equal(
      d[0].total,
      15,
      "every request of the endpoint in the window (both deployments), not the other endpoint's, not after the window",
    );
    assert.equal(d[0].average, 7.5, 'two minute samples: 10 and 5');
  });

  test('refusals: unknown metric, unknown dimension, bad timespan/interval/api-version; Kubernetes: no series', () => {
    const bad = (q: Record<string, string>, re: RegExp) => {
      const r = answerMetrics(req(q), EP, SRC);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(body(r).error.message, re);
    };
    bad({ metricnames: 'Requests' }, /metric: Requests/);
    bad({ metricnames: 'RequestLatency_P95', $filter: "statusCode eq '*'" }, /no dimension 'statusCode'/);
    bad(
      { metricnames: 'RequestsPerMinute', timespan: '2026-01-01T10:05:00Z/2026-01-01T10:00:00Z' },
      /start must be before the end/,
    );
    bad({ metricnames: 'RequestsPerMinute', interval: 'PT30S' }, /Invalid interval/);
    bad({ metricnames: 'RequestsPerMinute', 'api-version': '2018-01-01' }, /api-version/);
    const k = answerMetrics(req({ metricnames: 'RequestsPerMinute', timespan: TIMESPAN }), EP, {
      ...SRC,
      kubernetes: true,
    });
    assert.equal(k.status, 200);
    assert.deepEqual(body(k).value[0].timeseries, []);
  });
});

const INPUTS: HealthInputs = { endpointName: 'credit-stg', windowMinutes: 15, maxErrorPercent: 1, minRequests: 10 };
const health = (o: Partial<EndpointHealth>): EndpointHealth => ({
  requests: 100,
  byStatus: { 200: 100 },
  byClass: { '2xx': 100 },
  errors: 0,
  errorPercent: 0,
  p95Ms: 40,
  p99Ms: 80,
  activeMinutes: 3,
  windowStart: new Date(T),
  windowEnd: new Date(T + 900_000),
  reads: 2,
  ...o,
});

describe('AzureMLEndpointHealth@1 verdict rules', () => {
  test('errors are 5xx, 424 (model error) and 408 (timeout)', () => {
    assert.deepEqual(
      [200, 400, 401, 404, 408, 424, 429, 500, 502, 503, 504].filter(isErrorStatus),
      [408, 424, 500, 502, 503, 504],
    );
  });
  test('too few requests → inconclusive; error share and latency limits → failed, with the rule', () => {
    assert.deepEqual(judgeHealth(health({ requests: 9 }), INPUTS).verdict, 'inconclusive');
    assert.match(
      judgeHealth(health({ requests: 9 }), INPUTS).rule,
      /9 request\(s\) in the last 15 min < minRequests 10/,
    );
    assert.equal(
      judgeHealth(health({ requests: 0, errorPercent: undefined }), { ...INPUTS, minRequests: 0 }).verdict,
      'passed',
    );
    const f = judgeHealth(health({ errors: 2, errorPercent: 2 }), INPUTS);
    assert.equal(f.verdict, 'failed');
    assert.match(f.rule, /error share 2 % \(2 of 100 requests answered 5xx, 424 or 408\) > maxErrorPercent 1 %/);
    assert.equal(judgeHealth(health({ errors: 1, errorPercent: 1 }), INPUTS).verdict, 'passed', 'at the limit passes');
    assert.match(judgeHealth(health({}), { ...INPUTS, maxP95Ms: 30 }).rule, /p95 latency 40 ms > maxP95Ms 30 ms/);
    assert.match(judgeHealth(health({}), { ...INPUTS, maxP99Ms: 79 }).rule, /p99 latency 80 ms > maxP99Ms 79 ms/);
    assert.equal(judgeHealth(health({}), { ...INPUTS, maxP95Ms: 40, maxP99Ms: 80 }).verdict, 'passed');
  });
  test('bad names are InputErrors naming the input', () => {
    assert.throws(
      () => checkInputs({ ...INPUTS, endpointName: '' }),
      (e: unknown) => e instanceof InputError && e.input === 'endpointName',
    );
    assert.throws(
      () => checkInputs({ ...INPUTS, endpointName: '1abc' }),
      (e: unknown) => e instanceof InputError && e.input === 'endpointName',
    );
    assert.throws(
      () => checkInputs({ ...INPUTS, deploymentName: 'a_b' }),
      (e: unknown) => e instanceof InputError && e.input === 'deploymentName',
    );
    assert.equal(checkInputs({ ...INPUTS, deploymentName: ' ' }).deploymentName, undefined);
  });
  test('Kubernetes endpoint: a clear failure, no metrics read', async () => {
    let reads = 0;
    const ops: HealthOps = {
      getWorkspace: async () => ({}),
      getEndpoint: async () =>
        ({ name: 'credit-stg', properties: { authMode: 'Key', compute: '/subscriptions/s/.../computes/k8s' } }) as any,
      getDeployment: async () => undefined,
      readHealth: async () => {
        reads++;
        return health({});
      },
    };
    await assert.rejects(
      checkEndpointHealth(INPUTS, { workspace: 'w' } as any, ops, { info: () => {} }),
      (e: unknown) =>
        e instanceof UserError &&
        /Kubernetes \(AKS\/Arc\) online endpoint: Azure Monitor publishes no request metrics/.test(
          (e as Error).message,
        ),
    );
    assert.equal(reads, 0);
  });
  test('evidence line and summary carry the numbers', () => {
    const h = health({
      requests: 50,
      byStatus: { 200: 45, 424: 5 },
      byClass: { '2xx': 45, '4xx': 5 },
      errors: 5,
      errorPercent: 10,
    });
    assert.match(
      describeHealth(h),
      /^requests 50 \(200: 45, 424: 5\); errors \(5xx, 424, 408\) 5 = 10 %; p95 40 ms; p99 80 ms/,
    );
    const s = healthSummary({ inputs: INPUTS, health: h, judgement: judgeHealth(h, INPUTS) });
    assert.match(s, /Endpoint health credit-stg: failed/);
    assert.match(s, /\| status 424 \| 5 \|/);
    assert.match(s, /\| Error share \| 10 % \| ≤ 1 % \|/);
  });
});

describe("deploy task: a traffic step judged by the deployment's metrics (analysis.decideMetrics)", () => {
  test('same thresholds as the probes; no data is inconclusive (the probes judge)', async () => {
    const { decideMetrics, analysisThresholds } = await import('../../src/tasks/deploy/analysis');
    const t = analysisThresholds({ maxFailurePercent: 0, maxP95Ms: 100 });
    assert.equal(decideMetrics({ requests: 0, errors: 0 }, t).verdict, 'inconclusive');
    const f = decideMetrics({ requests: 17, errors: 5, errorPercent: 29.4 }, t);
    assert.equal(f.verdict, 'failed');
    assert.match(
      f.rule,
      /^error share 29\.4% \(5 of 17 request\(s\) answered 5xx, 424 or 408\) is above maxFailurePercent 0%$/,
    );
    assert.match(
      decideMetrics({ requests: 10, errors: 0, p95Ms: 150 }, t).rule,
      /^p95 latency 150 ms \(worst minute\) is above maxP95Ms 100 ms$/,
    );
    assert.equal(
      decideMetrics({ requests: 10, errors: 1 }, analysisThresholds({ maxFailurePercent: 10 })).verdict,
      'passed',
      '10 % at a 10 % limit',
    );
  });
});
