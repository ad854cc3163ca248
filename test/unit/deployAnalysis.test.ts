// The deploy task's rollout analysis (src/tasks/deploy/analysis.ts): how one scoring answer is classified, the
// back-off between inconclusive attempts, the rules that decide a step's verdict, and the metrics' comparison with
// production (no worse than production).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../src/pipeline/errors';
import type { ScoreResult } from '../../src/azureml/endpoints';
import {
  BACKOFF_MAX_MS,
  MAX_RETRY_AFTER_MS,
  MIN_PRODUCTION_REQUESTS,
  P95_MARGIN_PERCENT,
  analysisThresholds,
  backoffMs,
  classifyProbe,
  decideMetrics,
  decideStep,
  describeAnalysis,
  latencyProfile,
  p95Limit,
  productionEvidence,
  runProbes,
  stepFailure,
  type AnalysisThresholds,
  type ProbeCounts,
} from '../../src/tasks/deploy/analysis';
import { parseExpectedResponse } from '../../src/tasks/modelDeploy';

const ok = (extra: Partial<ScoreResult> = {}): ScoreResult => ({
  status: 200,
  body: '{"predictions": [6.5]}',
  ms: 10,
  servedBy: 'green',
  ...extra,
});
const drop: ScoreResult = { status: 0, body: '', ms: 3, error: 'read ECONNRESET' };
const throttled = (retryAfterMs?: number): ScoreResult => ({
  status: 429,
  body: '{"error":{"code":"TooManyRequests"}}',
  ms: 2,
  ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
});
const frontDoor = (status: number): ScoreResult => ({ status, body: '{"error":{"code":"ServiceUnavailable"}}', ms: 2 });

describe('classifyProbe', () => {
  const matcher = parseExpectedResponse('{"predictions": [6.5]}');
  test('inconclusive: nothing was measured', () => {
    assert.deepEqual(classifyProbe(drop), { outcome: 'inconclusive', cause: 'connection', detail: 'read ECONNRESET' });
    assert.deepEqual(classifyProbe(throttled(1000)), {
      outcome: 'inconclusive',
      cause: 'throttled',
      detail: 'HTTP 429 (Retry-After 1 s)',
      retryAfterMs: 1000,
    });
    assert.deepEqual(classifyProbe(throttled()), { outcome: 'inconclusive', cause: 'throttled', detail: 'HTTP 429' });
    // 429 also when a deployment is named (too many pending requests at its instances): back off and ask again
    assert.equal(classifyProbe({ ...throttled(), servedBy: 'green' }).outcome, 'inconclusive');
    for (const st of [500, 502, 503, 504]) {
      const c = classifyProbe(frontDoor(st));
      assert.equal(c.outcome, 'inconclusive', String(st));
      assert.equal(c.outcome === 'inconclusive' && c.cause, 'front-door');
      assert.match(
        c.outcome === 'inconclusive' ? c.detail : '',
        new RegExp(`^HTTP ${st} from the front door \\(no deployment answered\\)`),
      );
    }
  });
  test('failed: the deployment answered badly', () => {
    const c424 = classifyProbe({
      status: 424,
      body: '{"message": "An unexpected error occurred in scoring script."}',
      ms: 8,
      servedBy: 'green',
      modelStatus: 500,
      modelErrorReason: 'model_error',
    });
    assert.deepEqual(c424, {
      outcome: 'failed',
      cause: 'model-error',
      detail:
        'HTTP 424 (model answered 500 model_error) from green: {"message": "An unexpected error occurred in scoring script."}',
    });
    assert.deepEqual(classifyProbe({ status: 424, body: 'x', ms: 1 }), {
      outcome: 'failed',
      cause: 'model-error',
      detail: 'HTTP 424: x',
    });
    assert.equal(classifyProbe({ status: 408, body: 'timed out', ms: 5000, servedBy: 'green' }).outcome, 'failed');
    assert.deepEqual(classifyProbe({ status: 503, body: 'no healthy upstream', ms: 2, servedBy: 'green' }), {
      outcome: 'failed',
      cause: 'server-error',
      detail: 'HTTP 503 from green: no healthy upstream',
    });
    assert.deepEqual(classifyProbe({ status: 502, body: 'crash', ms: 2, servedBy: 'green' }), {
      outcome: 'failed',
      cause: 'server-error',
      detail: 'HTTP 502 from green: crash',
    });
    for (const st of [401, 404, 413])
      assert.deepEqual(classifyProbe({ status: st, body: 'no', ms: 1 }), {
        outcome: 'failed',
        cause: 'http-error',
        detail: `HTTP ${st}: no`,
      });
    assert.deepEqual(classifyProbe(ok({ body: '{"predictions": [7.5]}' }), { matcher }), {
      outcome: 'failed',
      cause: 'wrong-answer',
      detail: 'response differs at predictions[0]: expected 6.5, got 7.5',
    });
    assert.deepEqual(classifyProbe(ok({ ms: 250 }), { maxLatencyMs: 200 }), {
      outcome: 'failed',
      cause: 'latency',
      detail: 'answered in 250 ms, above maxLatencyMs 200 ms',
    });
  });
  test("Kubernetes endpoints: 502 is an exception in run(), 504 a timeout — the deployment's own answers, header or not", () => {
    assert.deepEqual(classifyProbe({ status: 502, body: 'boom', ms: 3 }, { kubernetes: true }), {
      outcome: 'failed',
      cause: 'model-error',
      detail: 'HTTP 502 (exception in run()): boom',
    });
    assert.deepEqual(classifyProbe({ status: 504, body: 'late', ms: 5000, servedBy: 'green' }, { kubernetes: true }), {
      outcome: 'failed',
      cause: 'timeout',
      detail: 'HTTP 504 from green: late',
    });
    assert.equal(
      classifyProbe({ status: 503, body: 'spike', ms: 3 }, { kubernetes: true }).outcome,
      'inconclusive',
      '503 = request spike: back off',
    );
    assert.equal(
      classifyProbe({ status: 502, body: 'x', ms: 3 }).outcome,
      'inconclusive',
      "managed: a 502 without the header is the front door's",
    );
  });
  test("passed; through the endpoint only the new deployment's answers are checked against the expected response", () => {
    assert.deepEqual(classifyProbe(ok(), { matcher, maxLatencyMs: 200 }), { outcome: 'passed' });
    assert.deepEqual(
      classifyProbe(ok({ body: '{"predictions": [1]}', servedBy: 'blue' }), { matcher, checkOnlyFrom: 'green' }),
      { outcome: 'passed' },
    );
    assert.equal(
      classifyProbe(ok({ body: '{"predictions": [1]}', servedBy: 'GREEN' }), { matcher, checkOnlyFrom: 'green' })
        .outcome,
      'failed',
    );
    // no header at all: we cannot tell who answered, so the answer is checked
    assert.equal(
      classifyProbe(ok({ body: '{"predictions": [1]}', servedBy: undefined }), { matcher, checkOnlyFrom: 'green' })
        .outcome,
      'failed',
    );
  });
});

describe('back-off', () => {
  test('Retry-After wins (capped); otherwise 0.5 s doubling up to 8 s', () => {
    assert.equal(backoffMs(1, 1000), 1000);
    assert.equal(backoffMs(3, 0), 0);
    assert.equal(backoffMs(1, 10 * 60_000), MAX_RETRY_AFTER_MS);
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 9].map((k) => backoffMs(k)),
      [500, 1000, 2000, 4000, 8000, 8000, BACKOFF_MAX_MS],
    );
  });
});

const T = (t: Partial<AnalysisThresholds> = {}): AnalysisThresholds => ({
  maxFailurePercent: 0,
  maxConsecutiveInconclusive: 4,
  ...t,
});
/** answers from a script, and the waits asked for */
function scripted(answers: ScoreResult[]) {
  const waits: number[] = [];
  let i = 0;
  return {
    waits,
    get sent() {
      return i;
    },
    send: async () => {
      const a = answers[i++];
      if (!a) throw new Error(`unscripted request ${i}`);
      return a;
    },
    sleep: async (ms: number) => {
      waits.push(ms);
    },
  };
}

describe('runProbes', () => {
  test('inconclusive attempts are retried (Retry-After honoured) and not counted against the thresholds', async () => {
    const s = scripted([drop, throttled(1000), ok(), frontDoor(503), ok({ ms: 30 })]);
    const retries: string[] = [];
    const a = await runProbes(s.send, 2, {
      thresholds: T(),
      sleep: s.sleep,
      onRetry: (e) => retries.push(`${e.probe}.${e.attempt}:${e.waitMs}`),
    });
    assert.deepEqual(s.waits, [500, 1000, 500]);
    assert.deepEqual(retries, ['1.1:500', '1.2:1000', '2.1:500']);
    assert.equal(a.sent, 5);
    assert.equal(a.passed, 2);
    assert.equal(a.failed, 0);
    assert.equal(a.inconclusive, 3);
    assert.deepEqual(a.inconclusiveBy, { connection: 1, throttled: 1, 'front-door': 1 });
    assert.equal(a.maxInARow, 2);
    assert.equal(a.waitedMs, 2000);
    assert.equal(a.verdict, 'passed');
    assert.equal(
      a.rule,
      'failure rate 0% ≤ maxFailurePercent 0%; 3 inconclusive attempt(s) retried (at most 2 in a row ≤ 4)',
    );
    assert.deepEqual(
      { requests: a.latency.requests, ok: a.latency.ok, p95Ms: a.latency.p95Ms },
      { requests: 2, ok: 2, p95Ms: 30 },
    );
    assert.match(
      describeAnalysis(a),
      /^2\/2 OK, p50 10 ms, p95 30 ms, max 30 ms; 2 probe\(s\), 5 request\(s\) sent: 2 passed, 0 failed, 3 inconclusive \(connection 1, throttled 1, front-door 1\) → PASSED: failure rate 0%/,
    );
    assert.equal(stepFailure('Smoke test', a), undefined);
  });

  test('more inconclusive attempts in a row than the limit: the step is inconclusive (could not measure), not failed', async () => {
    const s = scripted([ok(), drop, drop, throttled(), frontDoor(500), drop, ok()]);
    const a = await runProbes(s.send, 3, { thresholds: T({ maxConsecutiveInconclusive: 4 }), sleep: s.sleep });
    assert.equal(s.sent, 6, 'the fifth inconclusive attempt in a row stops the step');
    assert.deepEqual(s.waits, [500, 1000, 2000, 4000]);
    assert.equal(a.verdict, 'inconclusive');
    assert.equal(
      a.rule,
      '5 inconclusive attempt(s) in a row is above maxConsecutiveInconclusive 4 (could not measure; 1 of 3 probe(s) conclusive)',
    );
    assert.equal(
      stepFailure('Health check at 50%', a),
      'Health check at 50% was inconclusive: 5 inconclusive attempt(s) in a row is above maxConsecutiveInconclusive 4 (could not measure; 1 of 3 probe(s) conclusive) (first: read ECONNRESET)',
    );
    // limit 0: no retry at all
    const z = scripted([throttled(5000)]);
    const b = await runProbes(z.send, 2, { thresholds: T({ maxConsecutiveInconclusive: 0 }), sleep: z.sleep });
    assert.deepEqual(z.waits, []);
    assert.equal(b.verdict, 'inconclusive');
  });

  test('failure rate: only conclusive probes count; above maxFailurePercent fails, equal passes', async () => {
    const answers = (failures: number, n = 20) =>
      Array.from({ length: n }, (_, i) =>
        i < failures ? { status: 424, body: 'boom', ms: 4, servedBy: 'green', modelStatus: 500 } : ok(),
      );
    const run = async (failures: number, t: Partial<AnalysisThresholds>, extra: ScoreResult[] = []) => {
      const s = scripted([...extra, ...answers(failures)]);
      return runProbes(s.send, 20, { thresholds: T(t), sleep: s.sleep });
    };
    const one = await run(1, {});
    assert.equal(one.verdict, 'failed');
    assert.equal(one.rule, 'failure rate 5% (1 of 20 conclusive probe(s)) is above maxFailurePercent 0%');
    assert.equal(
      stepFailure('Smoke test of deployment green', one),
      'Smoke test of deployment green failed: failure rate 5% (1 of 20 conclusive probe(s)) is above maxFailurePercent 0% (first: HTTP 424 (model answered 500) from green: boom)',
    );
    assert.deepEqual(one.failedBy, { 'model-error': 1 });
    assert.equal((await run(1, { maxFailurePercent: 5 })).verdict, 'passed');
    const two = await run(2, { maxFailurePercent: 5 });
    assert.equal(two.verdict, 'failed');
    assert.match(two.rule, /^failure rate 10% \(2 of 20 conclusive probe\(s\)\) is above maxFailurePercent 5%$/);
    // three dropped connections before the first probe change nothing in the rate
    const withErrors = await run(1, { maxFailurePercent: 5 }, [drop, drop, drop]);
    assert.equal(withErrors.verdict, 'passed');
    assert.equal(withErrors.sent, 23);
    assert.equal(withErrors.inconclusive, 3);
  });

  test('p95 rule after the failure rule; failures win over an inconclusive stop', () => {
    const c: ProbeCounts = {
      probes: 4,
      sent: 4,
      passed: 4,
      failed: 0,
      inconclusive: 0,
      failedBy: {},
      inconclusiveBy: {},
      maxInARow: 0,
      stoppedInconclusive: false,
      waitedMs: 0,
    };
    const lat = latencyProfile([10, 20, 30, 900].map((ms) => ({ ms, ok: true })));
    assert.deepEqual(decideStep(c, lat, T({ maxP95Ms: 500 })), {
      verdict: 'failed',
      rule: 'p95 latency 900 ms is above maxP95Ms 500 ms',
    });
    assert.deepEqual(decideStep(c, lat, T({ maxP95Ms: 900 })), {
      verdict: 'passed',
      rule: 'failure rate 0% ≤ maxFailurePercent 0%, p95 900 ms ≤ maxP95Ms 900 ms',
    });
    const stopped: ProbeCounts = { ...c, passed: 1, failed: 1, stoppedInconclusive: true, maxInARow: 5 };
    assert.equal(decideStep(stopped, lat, T()).verdict, 'failed');
    assert.equal(decideStep({ ...stopped, failed: 0 }, lat, T()).verdict, 'inconclusive');
    assert.deepEqual(decideStep({ ...c, probes: 0, passed: 0 }, latencyProfile([]), T()), {
      verdict: 'passed',
      rule: 'no probes sent',
    });
  });

  test("cancellation during a back-off wait ends the step with the signal's reason", async () => {
    const ac = new AbortController();
    const s = scripted([drop, ok()]);
    await assert.rejects(
      runProbes(s.send, 1, {
        thresholds: T(),
        signal: ac.signal,
        sleep: async () => {
          ac.abort(new Error('Cancelled (SIGINT)'));
        },
      }),
      /Cancelled \(SIGINT\)/,
    );
    assert.equal(s.sent, 1);
  });
});

describe('thresholds from the inputs', () => {
  test("defaults (Argo's consecutiveErrorLimit 4; no failure allowed) and one clear line per bad input", () => {
    assert.deepEqual(analysisThresholds({}), { maxFailurePercent: 0, maxConsecutiveInconclusive: 4 });
    assert.deepEqual(
      analysisThresholds({ maxFailurePercent: 2.5, maxConsecutiveInconclusive: 0, maxP95Ms: 300, maxLatencyMs: 1000 }),
      { maxFailurePercent: 2.5, maxConsecutiveInconclusive: 0, maxP95Ms: 300, maxLatencyMs: 1000 },
    );
    for (const [bad, input] of [
      [{ maxFailurePercent: 101 }, 'maxFailurePercent'],
      [{ maxFailurePercent: -1 }, 'maxFailurePercent'],
      [{ maxConsecutiveInconclusive: 1.5 }, 'maxConsecutiveInconclusive'],
      [{ maxConsecutiveInconclusive: 101 }, 'maxConsecutiveInconclusive'],
      [{ maxLatencyMs: 0 }, 'maxLatencyMs'],
      [{ maxP95Ms: -5 }, 'maxP95Ms'],
    ] as const) {
      assert.throws(
        () => analysisThresholds(bad),
        (e: unknown) => e instanceof InputError && e.input === input,
        JSON.stringify(bad),
      );
    }
  });
});

describe('metrics: no worse than production (decideMetrics with production, productionEvidence, p95Limit)', () => {
  const t0 = analysisThresholds({ maxFailurePercent: 0 });
  const prod = (requests: number, errors: number, p95Ms?: number) =>
    productionEvidence(
      [{ deployment: 'blue', requests, errors, ...(p95Ms !== undefined ? { p95Ms } : {}) }],
      'the same window',
    );

  test('the constants the README states', () => {
    assert.equal(MIN_PRODUCTION_REQUESTS, 10);
    assert.equal(P95_MARGIN_PERCENT, 20);
  });

  test("error share: production's share + maxFailurePercent is the limit", () => {
    // production itself fails 30 %: a new deployment failing as much passes, even at maxFailurePercent 0
    const same = decideMetrics({ requests: 20, errors: 6 }, t0, prod(20, 6));
    assert.equal(same.verdict, 'passed');
    assert.equal(
      same.rule,
      "no worse than production: error share 30% ≤ production's 30% (blue: 6 of 20 request(s), the same window) + maxFailurePercent 0%",
    );
    // one more failure than production's share allows
    const worse = decideMetrics({ requests: 20, errors: 7 }, t0, prod(20, 6));
    assert.equal(worse.verdict, 'failed');
    assert.equal(
      worse.rule,
      "error share 35% (7 of 20 request(s) answered 5xx, 424 or 408) is above production's 30% (blue: 6 of 20 request(s), the same window) + maxFailurePercent 0%",
    );
    // the margin: 45 % = 30 % + 15 % passes exactly, 46 % fails
    const t15 = analysisThresholds({ maxFailurePercent: 15 });
    assert.equal(decideMetrics({ requests: 20, errors: 9 }, t15, prod(20, 6)).verdict, 'passed');
    assert.equal(decideMetrics({ requests: 50, errors: 23 }, t15, prod(20, 6)).verdict, 'failed');
    // a clean production with a failing new deployment: failed, and the rule names production's numbers
    assert.match(
      decideMetrics({ requests: 17, errors: 5, errorPercent: 29.4 }, t0, prod(15, 0)).rule,
      /^error share 29\.4% \(5 of 17 request\(s\) answered 5xx, 424 or 408\) is above production's 0% \(blue: 0 of 15 request\(s\), the same window\) \+ maxFailurePercent 0%$/,
    );
  });

  test('production with too few requests is not compared (and the rule says so); none at all is the old rule', () => {
    const few = decideMetrics({ requests: 20, errors: 6 }, t0, prod(MIN_PRODUCTION_REQUESTS - 1, 5));
    assert.equal(few.verdict, 'failed');
    assert.equal(
      few.rule,
      'error share 30% (6 of 20 request(s) answered 5xx, 424 or 408) is above maxFailurePercent 0%; production (blue) served 9 request(s) in the same window, fewer than 10: not compared',
    );
    assert.equal(
      decideMetrics({ requests: 20, errors: 6 }, t0, prod(MIN_PRODUCTION_REQUESTS, 3)).verdict,
      'passed',
      '10 requests are enough',
    );
    assert.deepEqual(
      decideMetrics({ requests: 20, errors: 6 }, t0, undefined),
      decideMetrics({ requests: 20, errors: 6 }, t0),
    );
    assert.equal(
      decideMetrics({ requests: 0, errors: 0 }, t0, prod(40, 0)).verdict,
      'inconclusive',
      'no requests of the new deployment: the metrics do not judge',
    );
  });

  test("p95: maxP95Ms, raised to production's p95 + 20 % when that is higher (never lowered)", () => {
    assert.deepEqual(p95Limit(500, undefined), { ms: 500, text: 'maxP95Ms 500 ms' });
    assert.deepEqual(p95Limit(500, 900), {
      ms: 1080,
      text: "production's p95 900 ms + 20% = 1080 ms (above maxP95Ms 500 ms)",
    });
    assert.deepEqual(p95Limit(500, 300), {
      ms: 500,
      text: "maxP95Ms 500 ms (production's p95 300 ms + 20% = 360 ms is lower)",
    });
    assert.equal(p95Limit(100, 83.3).ms, 100);
    assert.equal(p95Limit(100, 87.6).ms, 105.1);
    const t = analysisThresholds({ maxFailurePercent: 0, maxP95Ms: 500 });
    // a slow production (900 ms): a new deployment as slow passes, one clearly slower fails
    const asSlow = decideMetrics({ requests: 20, errors: 0, p95Ms: 950 }, t, prod(20, 0, 900));
    assert.equal(asSlow.verdict, 'passed');
    assert.equal(
      asSlow.rule,
      "no worse than production: error share 0% ≤ production's 0% (blue: 0 of 20 request(s), the same window) + maxFailurePercent 0%, p95 950 ms ≤ production's p95 900 ms + 20% = 1080 ms (above maxP95Ms 500 ms)",
    );
    const slower = decideMetrics({ requests: 20, errors: 0, p95Ms: 1100 }, t, prod(20, 0, 900));
    assert.equal(slower.verdict, 'failed');
    assert.equal(
      slower.rule,
      "p95 latency 1100 ms (worst minute) is above production's p95 900 ms + 20% = 1080 ms (above maxP95Ms 500 ms)",
    );
    // a fast production does not tighten maxP95Ms
    assert.equal(decideMetrics({ requests: 20, errors: 0, p95Ms: 480 }, t, prod(20, 0, 100)).verdict, 'passed');
    assert.equal(decideMetrics({ requests: 20, errors: 0, p95Ms: 520 }, t, prod(20, 0, 100)).verdict, 'failed');
    // without maxP95Ms there is no latency rule, as before
    assert.equal(decideMetrics({ requests: 20, errors: 0, p95Ms: 5000 }, t0, prod(20, 0, 100)).verdict, 'passed');
  });

  test('several serving deployments are one production: counts summed, percentiles at their worst', () => {
    const p = productionEvidence(
      [
        { deployment: 'blue', requests: 30, errors: 3, p95Ms: 40, p99Ms: 90 },
        { deployment: 'green', requests: 10, errors: 0, p95Ms: 70 },
      ],
      'the same window',
    );
    assert.deepEqual(p, {
      deployments: ['blue', 'green'],
      window: 'the same window',
      requests: 40,
      errors: 3,
      errorPercent: 7.5,
      p95Ms: 70,
      p99Ms: 90,
    });
    assert.deepEqual(productionEvidence([{ deployment: 'blue', requests: 0, errors: 0 }], 'the same window'), {
      deployments: ['blue'],
      window: 'the same window',
      requests: 0,
      errors: 0,
    });
  });
});
