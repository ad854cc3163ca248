// Long-running operations on the service's clock (issue 9 §3): the shared back-off schedule (src/azureml/poll.ts),
// waitForLro (Retry-After, progress, abort), and the SDK's own pollers driven by it (src/azureml/endpoints.ts) against
// a fake ARM on a virtual clock: a 10-minute deployment runs in milliseconds and every ARM read is counted.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_POLL,
  PollSchedule,
  fmtElapsed,
  lroProgressLine,
  parseRetryAfter,
  readsInDuration,
  waitForLro,
  type LroProgress,
  type LroRead,
} from '../../src/azureml/poll';
import { putDeployment, putEndpoint, setMirrorTraffic } from '../../src/azureml/endpoints';
import { DEPLOYMENT_BODY, fakeArm, fakeContext, virtualClock } from '../helpers/fakeArmLro';

const TEN_MIN = 600_000;

describe('shared poll schedule', () => {
  test('nextAfter: the schedule, or Retry-After when that is longer; the schedule advances either way', () => {
    const s = new PollSchedule();
    assert.equal(s.nextAfter(undefined), 1000);
    assert.equal(s.nextAfter(30_000), 30_000);
    assert.equal(s.nextAfter(500), 2250); // a shorter Retry-After does not make us poll faster than the schedule
    assert.equal(Math.round(s.nextAfter(0)), 3375);
  });

  test('a 10-minute operation costs 64 reads (fixed 1 s: 600, fixed 2 s: 300)', () => {
    // 1, 1.5, 2.25, 3.375, 5.06, 7.59 s (sum 20.8 s), then every 10 s: 58 more reads reach 600.8 s
    assert.equal(readsInDuration(TEN_MIN - 1), 63);
    assert.equal(readsInDuration(TEN_MIN + 781.25), 64);
    assert.equal(readsInDuration(TEN_MIN, { initialMs: 1000, factor: 1, maxMs: 1000 }), 600);
    assert.equal(readsInDuration(TEN_MIN, { initialMs: 2000, factor: 1, maxMs: 2000 }), 300);
  });

  test('Retry-After: seconds or an HTTP date; garbage is ignored', () => {
    assert.equal(parseRetryAfter('30'), 30_000);
    assert.equal(parseRetryAfter('0'), 0);
    assert.equal(parseRetryAfter(undefined), undefined);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(new Date(1_000_000 + 20_000).toUTCString(), 1_000_000), 20_000);
  });

  test('progress lines', () => {
    assert.equal(fmtElapsed(42_400), '42 s');
    assert.equal(fmtElapsed(185_000), '3 min 05 s');
    assert.equal(
      lroProgressLine({ what: "deployment 'blue'", status: 'Updating', elapsedMs: 130_000, reads: 20, done: false }),
      "deployment 'blue': Updating, 2 min 10 s elapsed",
    );
    assert.equal(
      lroProgressLine({ what: "deployment 'blue'", status: 'Succeeded', elapsedMs: 600_781, reads: 64, done: true }),
      "deployment 'blue': done after 10 min 01 s (64 status read(s))",
    );
  });
});

/** An operation that is InProgress until `doneAt` on the clock, answering `retryAfterS` while running. */
function fakeOperation(clock: { now(): number }, doneAt: number, retryAfterS?: number) {
  const at: number[] = [];
  const read = async (): Promise<LroRead> => {
    at.push(clock.now());
    const done = clock.now() >= doneAt;
    return {
      done,
      status: done ? 'Succeeded' : 'InProgress',
      retryAfterMs: done || retryAfterS === undefined ? undefined : retryAfterS * 1000,
    };
  };
  return { at, read };
}

describe('waitForLro on a virtual clock', () => {
  test('no Retry-After (Azure ML deployments): 64 reads for 10 minutes, noticed within a poll interval, progress after 10 s, then once a minute', async () => {
    const clock = virtualClock();
    const op = fakeOperation(clock, TEN_MIN);
    const progress: LroProgress[] = [];
    const r = await waitForLro('deployment', { done: false, status: 'Creating' }, op.read, {
      clock,
      onProgress: (p) => progress.push(p),
    });
    assert.equal(r.reads, 64);
    assert.equal(op.at.length, 64);
    assert.ok(
      r.elapsedMs >= TEN_MIN && r.elapsedMs - TEN_MIN <= DEFAULT_POLL.maxMs,
      `noticed ${r.elapsedMs - TEN_MIN} ms late`,
    );
    // reports: none in the first 10 s, then the status (read at 13.2 s), then at most one a minute, and the end
    assert.equal(progress[0]!.status, 'InProgress');
    assert.equal(Math.round(progress[0]!.elapsedMs), 13_188);
    assert.ok(progress.at(-1)!.done);
    const running = progress.slice(0, -1);
    for (let i = 1; i < running.length; i++) assert.ok(running[i]!.elapsedMs - running[i - 1]!.elapsedMs >= 60_000);
    assert.ok(progress.length >= 10 && progress.length <= 12, `${progress.length} progress reports`);
  });

  test('Retry-After is honoured: never read sooner than the service asked (30 s → 20 reads in 10 minutes)', async () => {
    const clock = virtualClock();
    const op = fakeOperation(clock, TEN_MIN, 30);
    const r = await waitForLro('deployment', { done: false, status: 'Creating', retryAfterMs: 30_000 }, op.read, {
      clock,
    });
    assert.equal(r.reads, 20);
    assert.ok(
      clock.sleeps.every((ms) => ms >= 30_000),
      clock.sleeps.join(','),
    );
  });

  test('a status change starts the schedule fast again', async () => {
    const clock = virtualClock();
    const statuses = [...Array(12).fill('Creating'), 'Updating', 'Updating', 'Succeeded'];
    let i = 0;
    await waitForLro(
      'x',
      { done: false, status: 'Creating' },
      async () => {
        const s = statuses[i++]!;
        return { done: s === 'Succeeded', status: s };
      },
      { clock },
    );
    assert.equal(clock.sleeps[12], 10_000);
    assert.equal(clock.sleeps[13], 1000); // after the read that saw Updating
  });

  test("an abort during the wait rejects with the signal's reason and reads no more", async () => {
    const clock = virtualClock();
    const ac = new AbortController();
    const op = fakeOperation(clock, TEN_MIN);
    const read = async () => {
      if (op.at.length === 3) ac.abort(new Error('pipeline cancelled'));
      return op.read();
    };
    await assert.rejects(
      waitForLro('x', { done: false, status: 'Creating' }, read, { clock, abortSignal: ac.signal }),
      /pipeline cancelled/,
    );
    assert.equal(op.at.length, 4);
  });

  test('a status change after the quiet period is reported at once; a quick operation reports nothing', async () => {
    const clock = virtualClock();
    const statuses = [...Array(7).fill('Creating'), 'Updating', 'Succeeded'];
    let i = 0;
    const progress: LroProgress[] = [];
    await waitForLro(
      'x',
      { done: false, status: 'Creating' },
      async () => {
        const s = statuses[i++]!;
        return { done: s === 'Succeeded', status: s };
      },
      { clock, onProgress: (p) => progress.push(p) },
    );
    assert.deepEqual(
      progress.map((p) => [p.status, p.done]),
      [
        ['Creating', false],
        ['Updating', false],
        ['Succeeded', true],
      ],
    );
    const quick: LroProgress[] = [];
    i = 0;
    const fast = ['InProgress', 'InProgress', 'Succeeded'];
    await waitForLro(
      'y',
      { done: false, status: 'InProgress' },
      async () => {
        const s = fast[i++]!;
        return { done: s === 'Succeeded', status: s };
      },
      { clock: virtualClock(), onProgress: (p) => quick.push(p) },
    );
    assert.deepEqual(quick, []);
  });

  test('an operation that is done at once is not polled and reports nothing', async () => {
    const progress: LroProgress[] = [];
    const r = await waitForLro(
      'x',
      { done: true, status: 'Succeeded' },
      async () => {
        throw new Error('must not read');
      },
      { clock: virtualClock(), onProgress: (p) => progress.push(p) },
    );
    assert.equal(r.reads, 0);
    assert.deepEqual(progress, []);
  });
});

describe('the SDK pollers and the raw mirror poll, driven by the shared schedule (fake ARM, virtual clock)', () => {
  test("a 10-minute deployment PUT without Retry-After: the SDK's immediate status read + 64 on our schedule + the final GET", async () => {
    const clock = virtualClock();
    const arm = fakeArm({ durationMs: TEN_MIN, now: clock.now });
    const ctx = fakeContext(arm.httpClient);
    const progress: LroProgress[] = [];
    const d = await putDeployment(ctx, 'ep', 'blue', structuredClone(DEPLOYMENT_BODY), {
      clock,
      onProgress: (p) => progress.push(p),
    });
    assert.equal(d.properties.provisioningState, 'Succeeded');
    // core-lro's begin… reads the status once right after the PUT (t = 0); every later read is ours
    assert.equal(arm.statusReads()[0], 0);
    assert.equal(arm.statusReads().length, 1 + 64);
    assert.equal(arm.reads(), 1 + 64 + 1, arm.log.map((l) => `${l.method} ${l.path}`).join('\n'));
    // the SDK's poller read the operation status we saw (its body's `status`) and reported it
    assert.equal(progress[0]!.status, 'Updating');
    assert.ok(progress[0]!.elapsedMs >= 10_000);
    assert.ok(progress.every((p) => p.status === 'Updating' || (p.done && p.status === 'Succeeded')));
    assert.match(progress.at(-1)!.what, /deployment 'blue' of online endpoint 'ep'/);
    // no read closer than the schedule allows: gaps 1, 1.5, 2.25 … 10 s
    const gaps = arm
      .statusReads()
      .slice(1)
      .map((t, i, a) => t - (a[i - 1] ?? 0));
    assert.deepEqual(gaps.slice(0, 7).map(Math.round), [1000, 1500, 2250, 3375, 5063, 7594, 10000]);
  });

  test("Retry-After sent by the service is honoured by the SDK path too (30 s → 20 status reads after the SDK's first)", async () => {
    const clock = virtualClock();
    const arm = fakeArm({ durationMs: TEN_MIN, now: clock.now, retryAfterS: 30 });
    await putEndpoint(
      fakeContext(arm.httpClient),
      'ep',
      { location: 'westeurope', properties: { authMode: 'Key' } },
      { clock },
    );
    const reads = arm.statusReads();
    assert.equal(reads.length, 1 + 20);
    assert.deepEqual(reads.slice(0, 2), [0, 30_000]);
    assert.ok(reads.every((t, i) => i === 0 || t - reads[i - 1]! >= 30_000));
  });

  test('409 (another operation in progress) is retried on the schedule, Retry-After honoured, for at most conflictWaitMs', async () => {
    let clock = virtualClock();
    let arm = fakeArm({ durationMs: 1000, now: clock.now, conflicts: 2 });
    await putEndpoint(
      fakeContext(arm.httpClient),
      'ep',
      { location: 'westeurope', properties: { authMode: 'Key' } },
      { clock },
    );
    assert.deepEqual(arm.puts(), [0, 1000, 2500]);
    clock = virtualClock();
    arm = fakeArm({ durationMs: 1000, now: clock.now, conflicts: 2, conflictRetryAfterS: 45 });
    await putEndpoint(
      fakeContext(arm.httpClient),
      'ep',
      { location: 'westeurope', properties: { authMode: 'Key' } },
      { clock },
    );
    assert.deepEqual(arm.puts(), [0, 45_000, 90_000]);
    clock = virtualClock();
    arm = fakeArm({ durationMs: 1000, now: clock.now, conflicts: 100, conflictRetryAfterS: 45 });
    await assert.rejects(
      putEndpoint(
        fakeContext(arm.httpClient),
        'ep',
        { location: 'westeurope', properties: { authMode: 'Key' } },
        { clock, conflictWaitMs: 120_000 },
      ),
      /Conflict/,
    );
    assert.deepEqual(arm.puts(), [0, 45_000, 90_000, 135_000]);
  });

  test('a failed operation surfaces as one line naming the deployment and the cause', async () => {
    const clock = virtualClock();
    const arm = fakeArm({ durationMs: 60_000, now: clock.now, outcome: 'Failed' });
    await assert.rejects(
      putDeployment(fakeContext(arm.httpClient), 'ep', 'blue', structuredClone(DEPLOYMENT_BODY), { clock }),
      (e: Error) =>
        /deployment 'blue' of online endpoint 'ep' failed: .*DeploymentFailed/.test(e.message) &&
        !e.message.includes('\n'),
    );
  });

  test('mirror traffic (raw REST Azure-AsyncOperation at 2023-04-01): same schedule, 64 status reads for 10 minutes', async () => {
    const clock = virtualClock();
    const arm = fakeArm({ durationMs: TEN_MIN, now: clock.now });
    const ctx = fakeContext(arm.httpClient);
    await putEndpoint(
      ctx,
      'ep',
      { location: 'westeurope', properties: { authMode: 'Key', traffic: { blue: 100 } } },
      { clock },
    );
    const before = arm.statusReads().length;
    const progress: LroProgress[] = [];
    await setMirrorTraffic(ctx, 'ep', { green: 10 }, { clock, onProgress: (p) => progress.push(p) });
    assert.equal(arm.statusReads().length - before, 64);
    assert.match(progress.at(-1)!.what, /mirror traffic of online endpoint 'ep'/);
  });
});
