// Waiting on the service's clock: one back-off schedule for every status poll of the extension (job status, job
// cancellation, endpoint/deployment long-running operations through the SDK's pollers, raw Azure-AsyncOperation
// polls), Retry-After honoured when the service sends one, progress reported at a bounded rate.
//
// Why a schedule of our own: Azure ML answers endpoint and deployment PUTs with Azure-AsyncOperation and no
// Retry-After, and provisioning takes 6–10 minutes; the SDK's poller then waits a fixed interval (core-lro 2.7.2
// LroEngine: `intervalInMs = POLL_INTERVAL_IN_MS` = 2000 ms, dist/commonjs/poller/constants.js, unless
// `updateIntervalInMs` is passed) — 300 reads per 10 minutes, 600 with a 1 s interval.

/** Time source and sleep, injectable (tests run a 10-minute operation on a fake clock). */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Real time; `sleep` resolves early (does not reject) when the signal aborts. */
export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};

export interface PollScheduleOptions {
  initialMs: number;
  factor: number;
  maxMs: number;
  /** after this long without a status change the cap rises to `idleMaxMs` (a long wait costs fewer reads) */
  idleAfterMs?: number;
  idleMaxMs?: number;
}
/**
 * 1 s ×1.5 → 10 s; after 10 min of one status → 20 s. A job-hour costs ~215 reads (a 15 s loop: 240); a status change
 * is noticed within ~2 s early on, within 10 s for the first 10 min of a status, within 20 s after that. A 10-minute
 * deployment costs ~63 reads (fixed 1 s: 600; the SDK's 2 s default: 300).
 */
export const DEFAULT_POLL: PollScheduleOptions = {
  initialMs: 1000,
  factor: 1.5,
  maxMs: 10_000,
  idleAfterMs: 600_000,
  idleMaxMs: 20_000,
};

/**
 * Delays between status reads: starts fast, grows ×factor to a cap, and to a higher cap once the status has not
 * changed for `idleAfterMs` (counted as the sum of the delays handed out); `reset()` on every status change.
 */
export class PollSchedule {
  private cur: number;
  private since = 0;
  constructor(readonly opts: PollScheduleOptions = DEFAULT_POLL) {
    this.cur = opts.initialMs;
  }
  next(): number {
    const d = this.cur;
    this.since += d;
    const idle =
      this.opts.idleAfterMs !== undefined && this.opts.idleMaxMs !== undefined && this.since >= this.opts.idleAfterMs;
    const cap = idle ? Math.max(this.opts.maxMs, this.opts.idleMaxMs!) : this.opts.maxMs;
    this.cur = Math.min(cap, this.cur * this.opts.factor);
    return d;
  }
  /** the schedule's next delay, or the service's Retry-After when that asks for longer */
  nextAfter(retryAfterMs?: number): number {
    return Math.max(this.next(), retryAfterMs ?? 0);
  }
  reset(): void {
    this.cur = this.opts.initialMs;
    this.since = 0;
  }
}

/** Number of reads the schedule makes in `durationMs` of one unchanged status (analytic, for the benchmark). */
export function readsInDuration(durationMs: number, opts: PollScheduleOptions = DEFAULT_POLL): number {
  const s = new PollSchedule(opts);
  let t = 0,
    n = 0;
  for (;;) {
    t += s.next();
    if (t > durationMs) return n;
    n++;
  }
}

/** Retry-After (delta-seconds or HTTP date) → ms; undefined when absent or unreadable. */
export function parseRetryAfter(v: string | undefined | null, now = Date.now()): number | undefined {
  if (!v) return undefined;
  const s = Number(v);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.max(0, t - now) : undefined;
}

// ---------------------------------------------------------------------------------------------- long-running operations

export interface LroProgress {
  /** e.g. "deployment 'blue' of online endpoint 'ep'" */
  what: string;
  /** the operation's status as last read (InProgress, Updating, Creating, Succeeded…) */
  status: string;
  elapsedMs: number;
  /** status reads so far (the initial request not counted) */
  reads: number;
  done: boolean;
}

export interface LroWaitOptions {
  /** the task's cancellation (the Azure SDK's name for it) */
  abortSignal?: AbortSignal;
  clock?: Clock;
  schedule?: PollScheduleOptions;
  /**
   * called once the operation has run `progressQuietMs` (quick operations stay silent), then on every status change,
   * at most every `progressEveryMs` otherwise, and at the end when anything was reported
   */
  onProgress?(p: LroProgress): void;
  progressEveryMs?: number;
  progressQuietMs?: number;
}

export const LRO_PROGRESS_EVERY_MS = 60_000;
export const LRO_PROGRESS_QUIET_MS = 10_000;

/** What one status read saw. */
export interface LroRead {
  done: boolean;
  status: string;
  retryAfterMs?: number;
}

/**
 * Wait for an operation whose initial request was answered with `first`: sleep (schedule or Retry-After, whichever is
 * longer), `read()`, until done. (An SDK poller has already read the status once when its begin… call returns:
 * core-lro's first update sends the initial request and then polls at once.) Aborting the signal rejects with its reason (during a sleep too). Returns the reads.
 */
export async function waitForLro(
  what: string,
  first: LroRead,
  read: () => Promise<LroRead>,
  o: LroWaitOptions = {},
): Promise<{ reads: number; elapsedMs: number }> {
  const clock = o.clock ?? realClock;
  const sched = new PollSchedule(o.schedule);
  const every = o.progressEveryMs ?? LRO_PROGRESS_EVERY_MS;
  const quiet = o.progressQuietMs ?? LRO_PROGRESS_QUIET_MS;
  const started = clock.now();
  let reads = 0;
  let cur = first;
  let lastStatus = first.status;
  let lastReport: number | undefined;
  const report = (done: boolean) => {
    lastReport = clock.now();
    o.onProgress?.({ what, status: cur.status, elapsedMs: lastReport - started, reads, done });
  };
  const aborted = () => {
    if (o.abortSignal?.aborted) throw o.abortSignal.reason ?? new Error('The operation was aborted');
  };
  while (!cur.done) {
    await clock.sleep(sched.nextAfter(cur.retryAfterMs), o.abortSignal);
    aborted();
    cur = await read();
    reads++;
    if (cur.done) break;
    const changed = cur.status !== lastStatus;
    // a change seen by a later read starts the schedule fast again; the first read only names the status in the
    // operation's own vocabulary (a PUT body says Creating, its status resource InProgress)
    if (changed && reads > 1) sched.reset();
    lastStatus = cur.status;
    const elapsed = clock.now() - started;
    if (elapsed < quiet) continue;
    if (lastReport === undefined || changed || clock.now() - lastReport >= every) report(false);
  }
  if (lastReport !== undefined) report(true);
  return { reads, elapsedMs: clock.now() - started };
}

/** "3 min 05 s" / "42 s" */
export function fmtElapsed(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/** One log line per progress report: "deployment 'blue' of online endpoint 'ep': Updating, 2 min 10 s elapsed". */
export function lroProgressLine(p: LroProgress): string {
  return `${p.what}: ${p.done ? `done after ${fmtElapsed(p.elapsedMs)} (${p.reads} status read(s))` : `${p.status}, ${fmtElapsed(p.elapsedMs)} elapsed`}`;
}
