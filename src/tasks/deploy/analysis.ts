// The deploy task's rollout analysis: what one scoring probe says, when to ask again, and the verdict of a step
// (smoke test, traffic-step health check, the mirror window's requests through the endpoint). Pure apart from the
// injected `send` and `sleep`; the HTTP request itself is src/azureml/endpoints.ts scoreOnce.
//
// Errors are not failures. Modelled on two analysis engines:
//  - Argo Rollouts AnalysisRun (https://argo-rollouts.readthedocs.io/en/stable/features/analysis/): a measurement is
//    Successful, Failed or Inconclusive, or an Error when it could not be taken; `failureLimit` bounds the failed
//    measurements, `consecutiveErrorLimit` turns a run of errors into an analysis Error (default 4:
//    argoproj/argo-rollouts utils/defaults/defaults.go DefaultConsecutiveErrorLimit, commit 0305532628744d81481448ecfb1f7364734c356e).
//    Here: a probe is passed / failed / inconclusive; inconclusive attempts are retried; more than
//    `maxConsecutiveInconclusive` (default 4, Argo's) in a row make the step inconclusive, which also stops the rollout
//    ("could not measure" is not "the model is good").
//  - Flagger canary analysis (https://docs.flagger.app/usage/metrics): built-in checks `request-success-rate`
//    (non-5xx share, thresholdRange min, e.g. 99 %) and `request-duration` (P99, thresholdRange max in ms), logged as
//    "Halt … advancement success rate 98.69% < 99%". Here: `maxFailurePercent` per step over the conclusive probes
//    (default 0: any answer that is the deployment's fault fails the step, as before) and `maxP95Ms` on the step's
//    latency (p95: the task's existing gate); a step is one check, so one failed check rolls back.
//
// What the real front door answers (https://learn.microsoft.com/azure/machine-learning/how-to-troubleshoot-online-endpoints#http-status-codes,
// source MicrosoftDocs/azure-ai-docs articles/machine-learning/how-to-troubleshoot-online-endpoints.md, commit
// 112100ce80671708ca6b2f7ea53c2f08d05706e6, "Common error codes for managed online endpoints"):
//  - 200 OK: the model ran. The answer carries `azureml-model-deployment: <deployment>` (a recorded managed endpoint
//    answer: Azure/ai-agent-service-promptflow README.md, "Sample Response": `server: azureml-frontdoor`,
//    `azureml-model-deployment: blue19`).
//  - 424 Model error: the model container answered non-200 (`ms-azureml-model-error-statuscode`,
//    `ms-azureml-model-error-reason`) → failed (the deployment's own answer).
//  - 408 Request timeout: the model ran longer than request_timeout_ms → failed (the deployment was too slow).
//  - 429 Too many pending requests / rate-limited: the docs say resend with exponential back-off → inconclusive.
//  - 500 Internal server error: "Azure Machine Learning-provisioned infrastructure is failing" → not the model.
//    ASSUMPTION (no recording of a front-door error): a 5xx that does not carry `azureml-model-deployment` is the front
//    door's own (no deployment answered) → inconclusive; a 5xx that carries it came from the deployment → failed.
//  - Kubernetes endpoints (same page, "Common error codes for Kubernetes online endpoints"): 502 = an exception or
//    crash in run(), 504 = the request timed out → failed (the deployment's own answers), header or not.
//  - a connection reset / client-side timeout: nothing was measured → inconclusive.
//  - other 4xx (401 key, 404 no such deployment, 413 payload): retrying cannot help → failed.
import type { ScoreResult } from '../../azureml/endpoints';
import { InputError } from '../../pipeline/errors';

// ---------------------------------------------------------------------------------------------------------- latency

export interface LatencyProfile {
  requests: number;
  ok: number;
  errors: number;
  p50Ms?: number;
  p95Ms?: number;
  maxMs?: number;
  meanMs?: number;
  firstError?: string;
}

/** Nearest-rank percentile (the smallest value with at least p % of the values ≤ it); undefined for no values. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

export function latencyProfile(results: ReadonlyArray<{ ms: number; ok: boolean; error?: string }>): LatencyProfile {
  const ms = results.map((r) => r.ms);
  const round = (n: number | undefined) => (n === undefined ? undefined : Math.round(n * 10) / 10);
  const bad = results.filter((r) => !r.ok);
  return {
    requests: results.length,
    ok: results.length - bad.length,
    errors: bad.length,
    p50Ms: round(percentile(ms, 50)),
    p95Ms: round(percentile(ms, 95)),
    maxMs: round(ms.length ? Math.max(...ms) : undefined),
    meanMs: round(ms.length ? ms.reduce((a, b) => a + b, 0) / ms.length : undefined),
    ...(bad[0]?.error ? { firstError: bad[0].error } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------- one probe

export type FailureCause = 'model-error' | 'server-error' | 'timeout' | 'wrong-answer' | 'latency' | 'http-error';
export type InconclusiveCause = 'connection' | 'throttled' | 'front-door';
export type ProbeClass =
  | { outcome: 'passed' }
  | { outcome: 'failed'; cause: FailureCause; detail: string }
  | { outcome: 'inconclusive'; cause: InconclusiveCause; detail: string; retryAfterMs?: number };

/** Checks an answer's body (the expected response); returns the mismatch, or undefined when it is right. */
export interface AnswerCheck {
  check(body: string): string | undefined;
}

export interface ClassifyOptions {
  matcher?: AnswerCheck;
  /** through the endpoint the old deployment answers too: check the body only when this deployment (or nobody named) answered */
  checkOnlyFrom?: string;
  /** an answer slower than this is a failed probe (cause latency) */
  maxLatencyMs?: number;
  /** a Kubernetes endpoint: its router answers 502 for an exception in run() and 504 for a timeout */
  kubernetes?: boolean;
}

const snippet = (body: string) => body.replace(/\s+/g, ' ').trim().slice(0, 200);

/** What one scoring answer says about the deployment (see the table at the top of this file). */
export function classifyProbe(r: ScoreResult, o: ClassifyOptions = {}): ProbeClass {
  const by = r.servedBy ? ` from ${r.servedBy}` : '';
  if (!r.status) return { outcome: 'inconclusive', cause: 'connection', detail: r.error ?? 'no answer' };
  if (r.status === 429) {
    return {
      outcome: 'inconclusive',
      cause: 'throttled',
      detail: `HTTP 429${r.retryAfterMs !== undefined ? ` (Retry-After ${fmtSeconds(r.retryAfterMs)})` : ''}`,
      ...(r.retryAfterMs !== undefined ? { retryAfterMs: r.retryAfterMs } : {}),
    };
  }
  if (r.status === 424) {
    const model = r.modelStatus
      ? ` (model answered ${r.modelStatus}${r.modelErrorReason ? ` ${r.modelErrorReason}` : ''})`
      : '';
    return { outcome: 'failed', cause: 'model-error', detail: `HTTP 424${model}${by}: ${snippet(r.body)}` };
  }
  if (r.status === 408 || (o.kubernetes && r.status === 504))
    return { outcome: 'failed', cause: 'timeout', detail: `HTTP ${r.status}${by}: ${snippet(r.body)}` };
  if (o.kubernetes && r.status === 502)
    return {
      outcome: 'failed',
      cause: 'model-error',
      detail: `HTTP 502 (exception in run())${by}: ${snippet(r.body)}`,
    };
  if (r.status >= 500) {
    if (r.servedBy)
      return { outcome: 'failed', cause: 'server-error', detail: `HTTP ${r.status}${by}: ${snippet(r.body)}` };
    return {
      outcome: 'inconclusive',
      cause: 'front-door',
      detail: `HTTP ${r.status} from the front door (no deployment answered): ${snippet(r.body)}`,
      ...(r.retryAfterMs !== undefined ? { retryAfterMs: r.retryAfterMs } : {}),
    };
  }
  if (r.status !== 200)
    return { outcome: 'failed', cause: 'http-error', detail: `HTTP ${r.status}${by}: ${snippet(r.body)}` };
  const checkBody =
    o.matcher && (!o.checkOnlyFrom || !r.servedBy || r.servedBy.toLowerCase() === o.checkOnlyFrom.toLowerCase());
  const wrong = checkBody ? o.matcher!.check(r.body) : undefined;
  if (wrong) return { outcome: 'failed', cause: 'wrong-answer', detail: wrong };
  if (o.maxLatencyMs !== undefined && r.ms > o.maxLatencyMs)
    return {
      outcome: 'failed',
      cause: 'latency',
      detail: `answered in ${Math.round(r.ms)} ms, above maxLatencyMs ${o.maxLatencyMs} ms`,
    };
  return { outcome: 'passed' };
}

// ---------------------------------------------------------------------------------------------------------- back-off

/** Retry-After waits longer than this are cut to it (the step's probes would otherwise stall the release). */
export const MAX_RETRY_AFTER_MS = 60_000;
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_MAX_MS = 8_000;

/** Wait before the next attempt after the k-th inconclusive attempt in a row: Retry-After when given, else 0.5 s · 2^(k−1) up to 8 s. */
export function backoffMs(k: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs))
    return Math.min(Math.max(0, retryAfterMs), MAX_RETRY_AFTER_MS);
  return Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, k - 1), BACKOFF_MAX_MS);
}

// ---------------------------------------------------------------------------------------------------------- thresholds

export interface AnalysisThresholds {
  /** a step fails when more than this share of its conclusive probes failed (0..100; default 0) */
  maxFailurePercent: number;
  /** a step fails when the p95 of its conclusive probes is above this (ms) */
  maxP95Ms?: number;
  /** a single answer slower than this is a failed probe (ms) */
  maxLatencyMs?: number;
  /** more inconclusive attempts in a row than this make the step inconclusive (default 4) */
  maxConsecutiveInconclusive: number;
}

export const DEFAULT_THRESHOLDS: AnalysisThresholds = { maxFailurePercent: 0, maxConsecutiveInconclusive: 4 };

/** The thresholds from the task's inputs, checked (one clear line naming the input). */
export function analysisThresholds(i: {
  maxFailurePercent?: number;
  maxP95Ms?: number;
  maxLatencyMs?: number;
  maxConsecutiveInconclusive?: number;
}): AnalysisThresholds {
  const f = i.maxFailurePercent ?? DEFAULT_THRESHOLDS.maxFailurePercent;
  if (!Number.isFinite(f) || f < 0 || f > 100)
    throw new InputError('maxFailurePercent', `${f} is not a percentage between 0 and 100`);
  const c = i.maxConsecutiveInconclusive ?? DEFAULT_THRESHOLDS.maxConsecutiveInconclusive;
  if (!Number.isInteger(c) || c < 0 || c > 100)
    throw new InputError('maxConsecutiveInconclusive', `${c} is not a whole number between 0 and 100`);
  for (const [name, v] of [
    ['maxP95Ms', i.maxP95Ms],
    ['maxLatencyMs', i.maxLatencyMs],
  ] as const) {
    if (v !== undefined && (!Number.isFinite(v) || v <= 0))
      throw new InputError(name, `${v} is not a positive number of milliseconds`);
  }
  return {
    maxFailurePercent: f,
    maxConsecutiveInconclusive: c,
    ...(i.maxP95Ms !== undefined ? { maxP95Ms: i.maxP95Ms } : {}),
    ...(i.maxLatencyMs !== undefined ? { maxLatencyMs: i.maxLatencyMs } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------- a step

export type Verdict = 'passed' | 'failed' | 'inconclusive';

export interface ProbeCounts {
  /** probes asked for */
  probes: number;
  /** requests sent, retries included */
  sent: number;
  passed: number;
  failed: number;
  /** inconclusive attempts (each was retried, unless the limit stopped the step) */
  inconclusive: number;
  failedBy: Partial<Record<FailureCause, number>>;
  inconclusiveBy: Partial<Record<InconclusiveCause, number>>;
  /** the longest run of inconclusive attempts in a row */
  maxInARow: number;
  /** the step stopped because the run of inconclusive attempts went over the limit */
  stoppedInconclusive: boolean;
  firstFailure?: string;
  firstInconclusive?: string;
  /** time spent waiting between attempts (back-off, Retry-After) */
  waitedMs: number;
}

export interface ProbeAnalysis extends ProbeCounts {
  /** latency of the conclusive probes (ok = passed, errors = failed) */
  latency: LatencyProfile;
  verdict: Verdict;
  /** the rule that decided the verdict, in words, with the numbers */
  rule: string;
}

const pct = (n: number) => `${Math.round(n * 10) / 10}%`;
const fmtSeconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/**
 * The verdict of a step, rules in this order: failure rate over maxFailurePercent → failed; a run of inconclusive
 * attempts over maxConsecutiveInconclusive → inconclusive; p95 over maxP95Ms → failed; else passed.
 */
export function decideStep(
  c: ProbeCounts,
  latency: LatencyProfile,
  t: AnalysisThresholds,
): { verdict: Verdict; rule: string } {
  const conclusive = c.passed + c.failed;
  const rate = conclusive ? (100 * c.failed) / conclusive : 0;
  if (conclusive && rate > t.maxFailurePercent) {
    return {
      verdict: 'failed',
      rule: `failure rate ${pct(rate)} (${c.failed} of ${conclusive} conclusive probe(s)) is above maxFailurePercent ${t.maxFailurePercent}%`,
    };
  }
  if (c.stoppedInconclusive) {
    return {
      verdict: 'inconclusive',
      rule: `${c.maxInARow} inconclusive attempt(s) in a row is above maxConsecutiveInconclusive ${t.maxConsecutiveInconclusive} (could not measure; ${conclusive} of ${c.probes} probe(s) conclusive)`,
    };
  }
  if (t.maxP95Ms !== undefined && latency.p95Ms !== undefined && latency.p95Ms > t.maxP95Ms) {
    return { verdict: 'failed', rule: `p95 latency ${latency.p95Ms} ms is above maxP95Ms ${t.maxP95Ms} ms` };
  }
  if (!c.probes) return { verdict: 'passed', rule: 'no probes sent' };
  return {
    verdict: 'passed',
    rule: `failure rate ${pct(rate)} ≤ maxFailurePercent ${t.maxFailurePercent}%${t.maxP95Ms !== undefined ? `, p95 ${latency.p95Ms} ms ≤ maxP95Ms ${t.maxP95Ms} ms` : ''}${c.inconclusive ? `; ${c.inconclusive} inconclusive attempt(s) retried (at most ${c.maxInARow} in a row ≤ ${t.maxConsecutiveInconclusive})` : ''}`,
  };
}

export interface ProbeRunOptions extends ClassifyOptions {
  thresholds: AnalysisThresholds;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  signal?: AbortSignal;
  /** called before probe i (0-based) is first sent: pacing (the mirror window spreads its requests) */
  beforeProbe?(i: number): Promise<void> | void;
  /** called after each inconclusive attempt that will be retried, with the wait before the retry */
  onRetry?(e: { probe: number; attempt: number; detail: string; waitMs: number }): void;
}

/**
 * Send `n` probes one after another; an inconclusive attempt is sent again after backoffMs (Retry-After honoured) until
 * it is conclusive or more than maxConsecutiveInconclusive attempts in a row were inconclusive (then the step stops).
 */
export async function runProbes(
  send: () => Promise<ScoreResult>,
  n: number,
  o: ProbeRunOptions,
): Promise<ProbeAnalysis> {
  const t = o.thresholds;
  const c: ProbeCounts = {
    probes: n,
    sent: 0,
    passed: 0,
    failed: 0,
    inconclusive: 0,
    failedBy: {},
    inconclusiveBy: {},
    maxInARow: 0,
    stoppedInconclusive: false,
    waitedMs: 0,
  };
  const answers: Array<{ ms: number; ok: boolean; error?: string }> = [];
  let inARow = 0;
  probes: for (let i = 0; i < n; i++) {
    await o.beforeProbe?.(i);
    for (let attempt = 1; ; attempt++) {
      o.signal?.throwIfAborted();
      const r = await send();
      c.sent++;
      const v = classifyProbe(r, o);
      if (v.outcome === 'inconclusive') {
        c.inconclusive++;
        c.inconclusiveBy[v.cause] = (c.inconclusiveBy[v.cause] ?? 0) + 1;
        c.firstInconclusive ??= v.detail;
        inARow++;
        c.maxInARow = Math.max(c.maxInARow, inARow);
        if (inARow > t.maxConsecutiveInconclusive) {
          c.stoppedInconclusive = true;
          break probes;
        }
        const wait = backoffMs(inARow, v.retryAfterMs);
        o.onRetry?.({ probe: i + 1, attempt, detail: v.detail, waitMs: wait });
        c.waitedMs += wait;
        await o.sleep(wait, o.signal);
        continue;
      }
      inARow = 0;
      if (v.outcome === 'passed') {
        c.passed++;
        answers.push({ ms: r.ms, ok: true });
      } else {
        c.failed++;
        c.failedBy[v.cause] = (c.failedBy[v.cause] ?? 0) + 1;
        c.firstFailure ??= v.detail;
        answers.push({ ms: r.ms, ok: false, error: v.detail });
      }
      break;
    }
  }
  const latency = latencyProfile(answers);
  return { ...c, latency, ...decideStep(c, latency, t) };
}

// ---------------------------------------------------------------------------------------------------------- words

const byCause = (m: Partial<Record<string, number>>) =>
  Object.entries(m)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

/** `20 probe(s), 23 request(s) sent: 18 passed, 2 failed (model-error 2), 3 inconclusive (throttled 1, connection 2)` */
export function describeCounts(a: ProbeCounts): string {
  return `${a.probes} probe(s), ${a.sent} request(s) sent: ${a.passed} passed, ${a.failed} failed${a.failed ? ` (${byCause(a.failedBy)})` : ''}, ${a.inconclusive} inconclusive${a.inconclusive ? ` (${byCause(a.inconclusiveBy)})` : ''}`;
}

/** One log line: `5/5 OK, p50 …, p95 …, max … ms; <counts> → PASSED: <rule>` */
export function describeAnalysis(a: ProbeAnalysis): string {
  const l = a.latency;
  return `${a.passed}/${a.probes} OK, p50 ${l.p50Ms ?? '-'} ms, p95 ${l.p95Ms ?? '-'} ms, max ${l.maxMs ?? '-'} ms; ${describeCounts(a)} → ${a.verdict.toUpperCase()}: ${a.rule}`;
}

/** The reason a step stops the rollout (undefined when it passed): the verdict's rule and the first failure or error seen. */
export function stepFailure(what: string, a: ProbeAnalysis): string | undefined {
  if (a.verdict === 'passed') return undefined;
  if (a.verdict === 'inconclusive')
    return `${what} was inconclusive: ${a.rule} (first: ${a.firstInconclusive ?? 'no answer'})`;
  return `${what} failed: ${a.rule}${a.firstFailure ? ` (first: ${a.firstFailure})` : ''}`;
}

// ---------------------------------------------------------------------------------------------------------- metrics

/** What a managed endpoint's Azure Monitor metrics say about one deployment over a window (src/azureml/metrics.ts). */
export interface MetricsEvidence {
  requests: number;
  errors: number;
  errorPercent?: number;
  p95Ms?: number;
  p99Ms?: number;
}

/**
 * Production's metrics for a step: the deployments that served traffic before the rollout, summed (requests, errors)
 * and at their worst (p95/p99), over a window.
 */
export interface ProductionEvidence extends MetricsEvidence {
  deployments: string[];
  /** the window read: 'the same window', or an earlier step's (production serves nothing once the new one has 100 %) */
  window: string;
}

/** Production is compared with only when it served at least this many requests in its window (fewer say too little). */
export const MIN_PRODUCTION_REQUESTS = 10;
/** The worst-minute p95 of the new deployment may be this much (%) above production's. */
export const P95_MARGIN_PERCENT = 20;

/** Several serving deployments as one production: requests and errors summed, latency percentiles at their worst. */
export function productionEvidence(
  parts: ReadonlyArray<MetricsEvidence & { deployment: string }>,
  window: string,
): ProductionEvidence {
  const requests = parts.reduce((a, p) => a + p.requests, 0);
  const errors = parts.reduce((a, p) => a + p.errors, 0);
  const worst = (k: 'p95Ms' | 'p99Ms') => {
    const v = parts.map((p) => p[k]).filter((x): x is number => x !== undefined);
    return v.length ? Math.max(...v) : undefined;
  };
  const p95Ms = worst('p95Ms'),
    p99Ms = worst('p99Ms');
  return {
    deployments: parts.map((p) => p.deployment),
    window,
    requests,
    errors,
    ...(requests ? { errorPercent: Math.round((1000 * errors) / requests) / 10 } : {}),
    ...(p95Ms !== undefined ? { p95Ms } : {}),
    ...(p99Ms !== undefined ? { p99Ms } : {}),
  };
}

/**
 * The verdict of a step from the deployment's own metrics. Its limits: the share of its requests answered 5xx, 424 or
 * 408 at most maxFailurePercent, the worst minute's p95 at most maxP95Ms (when set). No worse than production: when
 * the deployments that served before the rollout answered at least MIN_PRODUCTION_REQUESTS requests in the window,
 * the error limit is production's share + maxFailurePercent, and the p95 limit the larger of maxP95Ms and production's
 * p95 + P95_MARGIN_PERCENT % — a production that itself errs or is slow cannot fail a new deployment that does as well,
 * and a new one clearly worse than production fails; the comparison only ever raises a limit. No requests of the new
 * deployment in the window → inconclusive (the metrics say nothing; the probes' verdict stands).
 */
export function decideMetrics(
  m: MetricsEvidence,
  t: AnalysisThresholds,
  production?: ProductionEvidence,
): { verdict: Verdict; rule: string } {
  if (!m.requests)
    return {
      verdict: 'inconclusive',
      rule: 'no requests of the deployment in the window yet (Azure Monitor publishes with a delay): the metrics do not judge this step',
    };
  const base = production && production.requests >= MIN_PRODUCTION_REQUESTS ? production : undefined;
  const note =
    production && !base
      ? `; production (${production.deployments.join(', ')}) served ${production.requests} request(s) in ${production.window}, fewer than ${MIN_PRODUCTION_REQUESTS}: not compared`
      : '';
  const rate = m.errorPercent ?? (100 * m.errors) / m.requests;
  const baseRate = base ? (base.errorPercent ?? (100 * base.errors) / base.requests) : 0;
  const errorLimit = base
    ? `production's ${pct(baseRate)} (${base.deployments.join(', ')}: ${base.errors} of ${base.requests} request(s), ${base.window}) + maxFailurePercent ${t.maxFailurePercent}%`
    : `maxFailurePercent ${t.maxFailurePercent}%`;
  if (rate > baseRate + t.maxFailurePercent + 1e-9) {
    return {
      verdict: 'failed',
      rule: `error share ${pct(rate)} (${m.errors} of ${m.requests} request(s) answered 5xx, 424 or 408) is above ${errorLimit}${note}`,
    };
  }
  let latency = '';
  if (t.maxP95Ms !== undefined) {
    const l = p95Limit(t.maxP95Ms, base?.p95Ms);
    if (m.p95Ms !== undefined && m.p95Ms > l.ms)
      return { verdict: 'failed', rule: `p95 latency ${m.p95Ms} ms (worst minute) is above ${l.text}${note}` };
    latency = `, p95 ${m.p95Ms ?? 'n/a'} ms ≤ ${l.text}`;
  }
  return {
    verdict: 'passed',
    rule: `${base ? 'no worse than production: ' : ''}error share ${pct(rate)} ≤ ${errorLimit}${latency}${note}`,
  };
}

/** The p95 limit of a step: maxP95Ms, raised to production's p95 + P95_MARGIN_PERCENT % when that is higher. */
export function p95Limit(maxP95Ms: number, productionP95Ms: number | undefined): { ms: number; text: string } {
  if (productionP95Ms === undefined) return { ms: maxP95Ms, text: `maxP95Ms ${maxP95Ms} ms` };
  const relative = Math.round((productionP95Ms * (100 + P95_MARGIN_PERCENT)) / 10) / 10;
  const prod = `production's p95 ${productionP95Ms} ms + ${P95_MARGIN_PERCENT}% = ${relative} ms`;
  return relative > maxP95Ms
    ? { ms: relative, text: `${prod} (above maxP95Ms ${maxP95Ms} ms)` }
    : { ms: maxP95Ms, text: `maxP95Ms ${maxP95Ms} ms (${prod} is lower)` };
}
