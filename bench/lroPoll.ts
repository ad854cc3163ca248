// Long-running operation polling benchmark (section 7 of bench/run.ts; also `tsx bench/lroPoll.ts` alone).
//
// ARM reads a deployment PUT costs while the service provisions it (6–10 minutes on Azure ML, no Retry-After: issue 9),
// counted by a fake ARM behind the SDK's HttpClient (test/helpers/fakeArmLro.ts: 201 + Azure-AsyncOperation, status
// Updating (the recorded running status) until the operation's duration has passed, then Succeeded; every GET counted). Three pollers on the same
// fake service:
//   - ours: putDeployment (src/azureml/endpoints.ts) — the SDK's begin… call, then our loop on the shared schedule
//     (src/azureml/poll.ts DEFAULT_POLL: 1 s ×1.5 → 10 s, 20 s after 10 min of one status), on a virtual clock;
//   - a fixed 1 s loop: the SDK's own pollUntilDone with updateIntervalInMs 1000 (what the deploy task did before);
//   - the SDK's default: beginCreateOrUpdateAndWait without updateIntervalInMs. @azure/arm-machinelearning 2.1.1 builds
//     a core-lro LroEngine with `intervalInMs: options?.updateIntervalInMs` (dist/index.js, OnlineDeploymentsImpl
//     .beginCreateOrUpdate); core-lro 2.7.2's LroEngine defaults it to POLL_INTERVAL_IN_MS = 2000
//     (dist/commonjs/legacy/lroEngine/lroEngine.js, dist/commonjs/poller/constants.js); Retry-After replaces it when sent.
//   The SDK's pollers wait with setTimeout and read Date: they run under node:test's mock timers (time advanced in
//   100 ms ticks), so a 10-minute operation takes well under a second and nothing else differs.
// Figures: reads per 6- and 10-minute deployment, how long after the operation finished each poller noticed, and the
// same with a service that sends Retry-After: 30 (all three must honour it).
import { mock } from 'node:test';
import { putDeployment } from '../src/azureml/endpoints';
import { DEFAULT_POLL, readsInDuration } from '../src/azureml/poll';
import { DEPLOYMENT_BODY, fakeArm, fakeContext, virtualClock, type FakeArm } from '../test/helpers/fakeArmLro';
import { Report, fmtMs, fmtRatio, ratio } from './lib';

export const SDK_DEFAULT_INTERVAL_MS = 2000;

interface Run {
  reads: number;
  statusReads: number;
  lateMs: number;
}

function outcome(arm: FakeArm, durationMs: number): Run {
  const s = arm.statusReads();
  return { reads: arm.reads(), statusReads: s.length, lateMs: (s.at(-1) ?? 0) - durationMs };
}

async function ours(durationMs: number, retryAfterS?: number): Promise<Run> {
  const clock = virtualClock();
  const arm = fakeArm({ durationMs, now: clock.now, retryAfterS });
  const d = await putDeployment(fakeContext(arm.httpClient), 'ep', 'blue', structuredClone(DEPLOYMENT_BODY), { clock });
  if (d.properties.provisioningState !== 'Succeeded') throw new Error(`ours: ${d.properties.provisioningState}`);
  return outcome(arm, durationMs);
}

async function sdk(durationMs: number, updateIntervalInMs: number | undefined, retryAfterS?: number): Promise<Run> {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  try {
    const arm = fakeArm({ durationMs, now: () => Date.now(), retryAfterS });
    const ctx = fakeContext(arm.httpClient);
    let settled = false;
    const p = ctx.client.onlineDeployments
      .beginCreateOrUpdateAndWait(
        'rg',
        'ws',
        'ep',
        'blue',
        structuredClone(DEPLOYMENT_BODY),
        updateIntervalInMs === undefined ? {} : { updateIntervalInMs },
      )
      .finally(() => {
        settled = true;
      });
    while (!settled) {
      await new Promise((r) => setImmediate(r));
      mock.timers.tick(100);
    }
    const d = await p;
    if (d.properties.provisioningState !== 'Succeeded') throw new Error(`sdk: ${d.properties.provisioningState}`);
    return outcome(arm, durationMs);
  } finally {
    mock.timers.reset();
  }
}

export interface LroPollBenchResult {
  minutes: Record<string, { ours: Run; fixed1s: Run; sdkDefault: Run }>;
  retryAfter30: { ours: Run; fixed1s: Run; sdkDefault: Run };
  /** reads the schedule makes within 10 minutes of one status (cross-check of the measured figure) */
  analytic10min: number;
}

export async function runLroPollBench(opts: { report?: Report } = {}): Promise<LroPollBenchResult> {
  const report = opts.report ?? new Report();
  const minutes: LroPollBenchResult['minutes'] = {};
  for (const min of [6, 10]) {
    const ms = min * 60_000;
    const r = { ours: await ours(ms), fixed1s: await sdk(ms, 1000), sdkDefault: await sdk(ms, undefined) };
    minutes[String(min)] = r;
    report.add({
      section: 'lropoll',
      name: `ARM reads per ${min}-minute deployment (no Retry-After)`,
      value: String(r.ours.reads),
      peer: 'fixed 1 s loop',
      peerValue: String(r.fixed1s.reads),
      ratio: fmtRatio(ratio(r.ours.reads, r.fixed1s.reads)),
      note: `status reads + the final GET; ours ${r.ours.statusReads}+1 (1 by the SDK's begin call, the rest on our schedule)`,
    });
    report.add({
      section: 'lropoll',
      name: `ARM reads per ${min}-minute deployment vs the SDK's default poller`,
      value: String(r.ours.reads),
      peer: `SDK default (${SDK_DEFAULT_INTERVAL_MS / 1000} s)`,
      peerValue: String(r.sdkDefault.reads),
      ratio: fmtRatio(ratio(r.ours.reads, r.sdkDefault.reads)),
      note: 'core-lro 2.7.2 LroEngine POLL_INTERVAL_IN_MS = 2000 (arm-machinelearning 2.1.1 passes updateIntervalInMs only when given)',
    });
    report.add({
      section: 'lropoll',
      name: `noticed after a ${min}-minute deployment finished`,
      value: fmtMs(r.ours.lateMs),
      peer: 'fixed 1 s / SDK default',
      peerValue: `${fmtMs(r.fixed1s.lateMs)} / ${fmtMs(r.sdkDefault.lateMs)}`,
      note: `this duration; at worst ours ${fmtMs(DEFAULT_POLL.maxMs)} (first 10 min of one status, ${fmtMs(DEFAULT_POLL.idleMaxMs!)} after), 1 s loop 1 s, SDK 2 s`,
    });
  }
  const ra = {
    ours: await ours(600_000, 30),
    fixed1s: await sdk(600_000, 1000, 30),
    sdkDefault: await sdk(600_000, undefined, 30),
  };
  report.add({
    section: 'lropoll',
    name: 'ARM reads per 10-minute deployment, service sends Retry-After: 30',
    value: String(ra.ours.reads),
    peer: 'fixed 1 s / SDK default',
    peerValue: `${ra.fixed1s.reads} / ${ra.sdkDefault.reads}`,
    ratio: fmtRatio(ratio(ra.ours.reads, ra.sdkDefault.reads)),
    note: 'all three honour Retry-After (the SDK lets it replace its interval)',
  });
  const analytic10min = readsInDuration(600_000);
  const ten = minutes['10']!;
  if (ten.ours.statusReads - 1 !== readsInDuration(600_000 + ten.ours.lateMs))
    report.note(
      `lropoll: measured ${ten.ours.statusReads - 1} scheduled status reads, the schedule predicts ${readsInDuration(600_000 + ten.ours.lateMs)}`,
    );
  return { minutes, retryAfter30: ra, analytic10min };
}

// standalone: `tsx bench/lroPoll.ts`
if (require.main === module) {
  (async () => {
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: any, ...rest: any[]) =>
      typeof chunk === 'string' && chunk.startsWith('##vso[')
        ? true
        : write(chunk, ...rest)) as typeof process.stdout.write;
    console.log('## LRO polling (bench/lroPoll.ts)');
    await runLroPollBench({ report: new Report() });
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
