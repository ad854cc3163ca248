// Job polling benchmark (section 6 of bench/run.ts; also `tsx bench/jobPoll.ts [--quick]` alone).
//
// (a) Notice delay: time between the job reaching its terminal status in the emulator (jobStatusHistory, the time the
//     runner recorded it) and the watcher noticing it. Watchers, on the SAME job at the same time:
//       - ours: waitForJob from src/tasks/job.ts (1 s ×1.5 → 10 s cap, 20 s after 10 min of one status, reset on
//         status change, log streaming on);
//       - the bash loop users write today: `while az ml job show … --query status; sleep 15`, simulated in-process
//         (GET the job, terminal? stop : sleep 15 s), started at submission like ours.
//     A short job (sleep 5) three times, a longer one (sleep 60; --quick: sleep 25) once, fast emulator timing.
// (b) ARM reads per job-hour: analytic from the schedule (a job sitting in one status for an hour) and measured:
//     job GETs each watcher made (its own counter, cross-checked with the emulator's request log), extrapolated
//     to an hour: ours as measured + the schedule's reads between run time and 3600 s (readsInDuration), the bash
//     loop as measured + (3600 s − run time) / 15 s. The bash loop alone: 3600 / 15 = 240.
import { ClientSecretCredential } from '@azure/identity';
import { createAzureMLContext, wsPath, type AzureMLContext, type WorkspaceRef } from '../src/azureml';
import { createJob, readJob, TERMINAL_STATUSES } from '../src/azureml/jobs';
import { azureOps, waitForJob, readsInDuration, DEFAULT_POLL, type WaitOps } from '../src/tasks/job';
import { startAzureInABox, type AzureInABox } from '../test/emulator';
import { jobStatusHistory } from '../test/emulator/arm/jobs';
import { Report, fmtMs, fmtRatio, median, ratio, runStandalone } from './lib';

const BASH_INTERVAL_MS = 15_000;
const quiet = { info: () => {}, warning: () => {}, debug: () => {} };

interface WatchResult {
  noticedAt: number;
  reads: number;
}
interface RunResult {
  job: string;
  seconds: number;
  terminalAt: number;
  runMs: number;
  ours: WatchResult & { delayMs: number; logReads: number };
  bash: WatchResult & { delayMs: number };
  emulatorGets: number;
}

async function bashLoop(ctx: AzureMLContext, name: string): Promise<WatchResult> {
  let reads = 0;
  for (;;) {
    const { job } = await readJob(ctx, name);
    reads++;
    if (job?.properties.status && TERMINAL_STATUSES.has(job.properties.status)) return { noticedAt: Date.now(), reads };
    await new Promise((r) => setTimeout(r, BASH_INTERVAL_MS));
  }
}

async function oneRun(
  box: AzureInABox,
  ctx: AzureMLContext,
  seconds: number,
  i: number,
  startAfterMs = 0,
): Promise<RunResult> {
  await new Promise((r) => setTimeout(r, startAfterMs));
  const name = `bench-poll-${seconds}s-${i}-${Date.now().toString(36)}`;
  const ws = wsPath(ctx.ws);
  const submitted = Date.now();
  await createJob(ctx, name, {
    properties: {
      jobType: 'Command',
      command: `sleep ${seconds}`,
      experimentName: 'bench-poll',
      environmentId: 'azureml://registries/azureml/environments/sklearn-1.5/labels/latest',
      computeId: `${ws}/computes/cpu-cluster`,
    },
  });
  const base = azureOps(ctx);
  let ourReads = 0,
    logReads = 0;
  const ops: WaitOps = {
    ...base,
    readJob: async (n) => {
      ourReads++;
      return base.readJob(n);
    },
    logReader: (n) => {
      const r = base.logReader(n);
      return {
        readNew: async (f) => {
          logReads++;
          return r.readNew(f);
        },
        tail: (k) => r.tail(k),
      };
    },
  };
  const [ours, bash] = await Promise.all([
    waitForJob(name, {
      ops,
      log: quiet,
      progress: () => {},
      streamLogs: true,
      timeoutMs: 0,
      cancelOnCancel: false,
    }).then((o) => ({ noticedAt: o.noticedAt, reads: ourReads })),
    bashLoop(ctx, name),
  ]);
  const hist = jobStatusHistory(box.ctx, `${ws}/jobs/${name}`);
  const term = hist.find((h) => TERMINAL_STATUSES.has(h.status));
  if (!term) throw new Error(`job ${name}: no terminal status in ${JSON.stringify(hist)}`);
  const terminalAt = Date.parse(term.time);
  const emulatorGets = box.requests.filter(
    (q) => q.host === 'arm' && q.method === 'GET' && q.url.split('?')[0]!.endsWith(`/jobs/${name}`),
  ).length;
  return {
    job: name,
    seconds,
    terminalAt,
    runMs: terminalAt - submitted,
    emulatorGets,
    ours: { ...ours, delayMs: ours.noticedAt - terminalAt, logReads },
    bash: { ...bash, delayMs: bash.noticedAt - terminalAt },
  };
}

export interface JobPollBenchResult {
  runs: RunResult[];
  delay: { shortOursMs: number; shortBashMs: number; longOursMs: number; longBashMs: number };
  readsPerHour: { analyticOurs: number; analyticBash: number; measuredOurs: number; measuredBash: number };
}

export async function runJobPollBench(opts: { quick?: boolean; report?: Report } = {}): Promise<JobPollBenchResult> {
  const report = opts.report ?? new Report();
  const box = await startAzureInABox({ fastLro: true });
  try {
    const cred = new ClientSecretCredential(box.tenantId, box.clientId, box.clientSecret, {
      authorityHost: box.authorityHost,
      disableInstanceDiscovery: true,
    });
    const ws: WorkspaceRef = {
      subscriptionId: box.subscriptionId,
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      armUrl: box.armUrl,
      tenantId: box.tenantId,
    };
    const ctx = createAzureMLContext(ws, cred, { scope: 'https://management.core.windows.net/.default' });
    const longS = opts.quick ? 25 : 60;
    console.log(
      `  running: 3 short jobs (sleep 5) and 3 long jobs (sleep ${longS}, started 0/4.3/8.7 s apart), each watched by both pollers at once…`,
    );
    const runs = await Promise.all([
      oneRun(box, ctx, 5, 1),
      oneRun(box, ctx, 5, 2, 1700),
      oneRun(box, ctx, 5, 3, 3300),
      oneRun(box, ctx, longS, 1),
      oneRun(box, ctx, longS, 2, 4300),
      oneRun(box, ctx, longS, 3, 8700),
    ]);
    const short = runs.filter((r) => r.seconds === 5);
    const long = runs.filter((r) => r.seconds === longS);
    for (const r of runs) {
      if (r.emulatorGets !== r.ours.reads + r.bash.reads)
        report.note(
          `${r.job}: emulator logged ${r.emulatorGets} job GETs, watchers counted ${r.ours.reads} + ${r.bash.reads}`,
        );
    }
    const delay = {
      shortOursMs: median(short.map((r) => r.ours.delayMs)),
      shortBashMs: median(short.map((r) => r.bash.delayMs)),
      longOursMs: median(long.map((r) => r.ours.delayMs)),
      longBashMs: median(long.map((r) => r.bash.delayMs)),
    };
    report.add({
      section: 'jobpoll',
      name: `notice delay, short job (5 s, median of ${short.length})`,
      value: fmtMs(delay.shortOursMs),
      peer: '15 s bash loop',
      peerValue: fmtMs(delay.shortBashMs),
      ratio: fmtRatio(ratio(delay.shortOursMs, delay.shortBashMs)),
    });
    report.add({
      section: 'jobpoll',
      name: `notice delay, long job (${longS} s, median of ${long.length})`,
      value: fmtMs(delay.longOursMs),
      peer: '15 s bash loop',
      peerValue: fmtMs(delay.longBashMs),
      ratio: fmtRatio(ratio(delay.longOursMs, delay.longBashMs)),
    });
    report.add({
      section: 'jobpoll',
      name: 'notice delay at steady state (analytic mean / max)',
      value: `${fmtMs(DEFAULT_POLL.maxMs / 2)} / ${fmtMs(DEFAULT_POLL.maxMs)}`,
      peer: '15 s bash loop',
      peerValue: `${fmtMs(BASH_INTERVAL_MS / 2)} / ${fmtMs(BASH_INTERVAL_MS)}`,
      ratio: fmtRatio(DEFAULT_POLL.maxMs / BASH_INTERVAL_MS),
      note: 'first 10 min of one status',
    });
    report.add({
      section: 'jobpoll',
      name: 'notice delay after 10 min of one status (analytic mean / max)',
      value: `${fmtMs(DEFAULT_POLL.idleMaxMs! / 2)} / ${fmtMs(DEFAULT_POLL.idleMaxMs!)}`,
      peer: '15 s bash loop',
      peerValue: `${fmtMs(BASH_INTERVAL_MS / 2)} / ${fmtMs(BASH_INTERVAL_MS)}`,
      ratio: fmtRatio(DEFAULT_POLL.idleMaxMs! / BASH_INTERVAL_MS),
    });

    const analyticOurs = readsInDuration(3600_000, DEFAULT_POLL);
    const analyticBash = 3600_000 / BASH_INTERVAL_MS;
    report.add({
      section: 'jobpoll',
      name: 'ARM reads per job-hour (analytic)',
      value: String(analyticOurs),
      peer: '15 s bash loop',
      peerValue: String(analyticBash),
      ratio: fmtRatio(ratio(analyticOurs, analyticBash)),
      note: `1 s ×${DEFAULT_POLL.factor} → ${DEFAULT_POLL.maxMs / 1000} s cap, ${DEFAULT_POLL.idleMaxMs! / 1000} s after ${DEFAULT_POLL.idleAfterMs! / 60_000} min of one status`,
    });
    const lr = long[0]!;
    const rest = (r: RunResult) =>
      Math.max(0, readsInDuration(3600_000, DEFAULT_POLL) - readsInDuration(r.runMs, DEFAULT_POLL));
    const measuredOurs = Math.round(median(long.map((r) => r.ours.reads + rest(r))));
    const measuredBash = Math.round(
      median(long.map((r) => r.bash.reads + Math.max(0, 3600_000 - r.runMs) / BASH_INTERVAL_MS)),
    );
    report.add({
      section: 'jobpoll',
      name: `ARM reads per job-hour (measured ${longS} s run, extrapolated)`,
      value: String(measuredOurs),
      peer: '15 s bash loop',
      peerValue: String(measuredBash),
      ratio: fmtRatio(ratio(measuredOurs, measuredBash)),
      note: `${lr.ours.reads} vs ${lr.bash.reads} job GETs in ${fmtMs(lr.runMs)}; + ${lr.ours.logReads} log-blob reads (storage, not ARM)`,
    });
    report.add({
      section: 'jobpoll',
      name: 'ARM reads per job-hour vs ARM read limit',
      value: `${((analyticOurs / 12_000) * 100).toFixed(1)} %`,
      note: 'of 12,000 reads/hour per principal and subscription',
    });
    return { runs, delay, readsPerHour: { analyticOurs, analyticBash, measuredOurs, measuredBash } };
  } finally {
    await box.stop();
  }
}

// standalone: `tsx bench/jobPoll.ts [--quick]` (re-executes itself once to trust the emulator's CA)
if (require.main === module) {
  runStandalone(__filename, async () => {
    console.log('## Job polling (bench/jobPoll.ts)');
    const r = await runJobPollBench({ quick: process.argv.includes('--quick') });
    for (const x of r.runs)
      console.log(
        `  ${x.job}: terminal after ${fmtMs(x.runMs)}; ours noticed +${fmtMs(x.ours.delayMs)} with ${x.ours.reads} GETs, bash loop +${fmtMs(x.bash.delayMs)} with ${x.bash.reads} GETs`,
      );
  });
}
