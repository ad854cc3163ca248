// AzureMLJob@1 logic with injected fakes: poll schedule, wait state machine (status changes, log streaming, Retry-After,
// timeout and abort → cancel), definition comparison, input validation, summary.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PollSchedule,
  readsInDuration,
  waitForJob,
  CANCEL_WAIT_ON_SIGNAL_MS,
  CANCEL_WAIT_ON_TIMEOUT_MS,
  definitionDifferences,
  validateInputs,
  defaultJobName,
  neutralizeLogLine,
  metricVariable,
  jobSummary,
  runJob,
  type Clock,
  type WaitOps,
  type JobOps,
  type JobResult,
  encodeJobDefinition,
} from '../../src/tasks/job';
import type { JobResource } from '../../src/azureml/jobs';
import { InputError } from '../../src/pipeline';

/** virtual time: sleep advances the clock instantly (or up to an abort) */
function fakeClock(): Clock & { t: number; sleeps: number[] } {
  const c = {
    t: 0,
    sleeps: [] as number[],
    now: () => c.t,
    sleep: async (ms: number, signal?: AbortSignal) => {
      c.sleeps.push(ms);
      if (!signal?.aborted) c.t += ms;
    },
  };
  return c;
}

const job = (status: string, name = 'j1'): JobResource => ({
  id: `/x/jobs/${name}`,
  name,
  properties: { status, jobType: 'Command' },
});

/** a job whose status follows a timeline (virtual ms → status) */
function timelineOps(
  clock: { now(): number },
  timeline: Array<[number, string]>,
  extra: Partial<WaitOps> = {},
): WaitOps & { reads: number; cancels: number; logReads: number; cancelWaits: number[] } {
  const o: WaitOps & { reads: number; cancels: number; logReads: number; cancelWaits: number[] } = {
    reads: 0,
    cancels: 0,
    logReads: 0,
    cancelWaits: [],
    readJob: async () => {
      o.reads++;
      let s = timeline[0]![1];
      for (const [t, st] of timeline) if (clock.now() >= t) s = st;
      return { job: job(s) };
    },
    cancelJob: async (_n, waitMs) => {
      o.cancels++;
      o.cancelWaits.push(waitMs);
      return { status: 'Canceled', confirmed: true };
    },
    logReader: () => ({
      readNew: async (): Promise<string[]> => {
        o.logReads++;
        return [`line ${o.logReads}`];
      },
      tail: async (): Promise<string[]> => [],
    }),
    runDetails: async () => undefined,
    runSummary: async () => undefined,
    ...extra,
  };
  return o;
}

const quiet = { info: () => {}, warning: () => {}, debug: () => {} };

describe('poll schedule', () => {
  test('1 s growing ×1.5 to a 10 s cap; reset starts fast again', () => {
    const s = new PollSchedule();
    const d = Array.from({ length: 8 }, () => s.next());
    assert.deepEqual(
      d.map((x) => Math.round(x)),
      [1000, 1500, 2250, 3375, 5063, 7594, 10000, 10000],
    );
    s.reset();
    assert.equal(s.next(), 1000);
  });

  test('after 10 min of one status the cap rises to 20 s; a status change starts at 1 s again', () => {
    const s = new PollSchedule();
    let t = 0;
    const at: Array<[number, number]> = [];
    for (let i = 0; i < 80; i++) {
      const d = s.next();
      at.push([t, d]);
      t += d;
    }
    // while the status is younger than 10 min: never more than 10 s between reads
    assert.ok(at.filter(([t0]) => t0 < 600_000).every(([, d]) => d <= 10_000));
    // once it is older: 15 s, then 20 s, never more
    const later = at.filter(([t0]) => t0 >= 600_000).map(([, d]) => d);
    assert.deepEqual(later.slice(0, 2), [15_000, 20_000]);
    assert.ok(
      later.slice(1).every((d) => d === 20_000),
      String(later),
    );
    s.reset();
    assert.deepEqual([s.next(), s.next()], [1000, 1500]);
  });

  test('reads per job-hour: ~215, fewer than the 15 s loop (240); 363 with the 10 s cap alone', () => {
    const n = readsInDuration(3600_000);
    assert.ok(n >= 205 && n <= 225, String(n));
    assert.ok(n <= readsInDuration(3600_000, { initialMs: 15_000, factor: 1, maxMs: 15_000 }));
    assert.equal(readsInDuration(3600_000, { initialMs: 15_000, factor: 1, maxMs: 15_000 }), 240);
    assert.equal(readsInDuration(3600_000, { initialMs: 1000, factor: 1.5, maxMs: 10_000 }), 363);
    // the first 10 minutes keep the fast schedule (~63 reads); every later 10 minutes cost 30
    assert.equal(readsInDuration(600_000), readsInDuration(600_000, { initialMs: 1000, factor: 1.5, maxMs: 10_000 }));
    assert.ok(
      readsInDuration(2 * 3600_000) - readsInDuration(3600_000) === 180,
      String(readsInDuration(2 * 3600_000) - readsInDuration(3600_000)),
    );
    assert.equal(readsInDuration(0), 0);
  });
});

describe('waitForJob state machine', () => {
  test('status changes reported, log read only from Running on, terminal noticed on the next poll', async () => {
    const clock = fakeClock();
    const ops = timelineOps(clock, [
      [0, 'Queued'],
      [2000, 'Preparing'],
      [4000, 'Running'],
      [30_000, 'Completed'],
    ]);
    const lines: string[] = [];
    const progress: number[] = [];
    const out = await waitForJob('j1', {
      ops,
      log: { ...quiet, info: (m) => lines.push(m) },
      progress: (p) => progress.push(p),
      clock,
      streamLogs: true,
      timeoutMs: 0,
      cancelOnCancel: true,
    });
    assert.equal(out.status, 'Completed');
    assert.ok(
      lines.includes('Submitted → Queued') &&
        lines.includes('Queued → Preparing') &&
        lines.includes('Preparing → Running') &&
        lines.includes('Running → Completed'),
      lines.join('\n'),
    );
    // the first log read happens after Running was seen; one read per poll while running + one final flush
    const firstLog = lines.findIndex((l) => l.startsWith('line '));
    assert.ok(firstLog > lines.indexOf('Preparing → Running'));
    assert.equal(ops.logReads, lines.filter((l) => l.startsWith('line ')).length);
    const delay = out.noticedAt - 30_000;
    assert.ok(delay >= 0 && delay <= 10_000, `noticed ${delay} ms after completion`);
    assert.deepEqual(progress.slice(-1), [100]);
    assert.equal(ops.cancels, 0);
  });

  test('a short job is noticed within ~2 s: the schedule restarts at 1 s on every status change', async () => {
    const clock = fakeClock();
    const ops = timelineOps(clock, [
      [0, 'Queued'],
      [1500, 'Running'],
      [5000, 'Finalizing'],
      [5300, 'Completed'],
    ]);
    const out = await waitForJob('j1', {
      ops,
      log: quiet,
      progress: () => {},
      clock,
      streamLogs: false,
      timeoutMs: 0,
      cancelOnCancel: true,
    });
    assert.ok(out.noticedAt - 5300 <= 2000, `noticed ${out.noticedAt - 5300} ms late`);
    assert.equal(ops.logReads, 0, 'streamLogs=false: no log reads');
  });

  test('Retry-After from the service stretches the next delay', async () => {
    const clock = fakeClock();
    let n = 0;
    const ops = timelineOps(clock, [[0, 'Running']], {
      readJob: async () => {
        n++;
        return { job: job(n >= 3 ? 'Completed' : 'Running'), retryAfterMs: n === 1 ? 7000 : undefined };
      },
    });
    await waitForJob('j1', {
      ops,
      log: quiet,
      progress: () => {},
      clock,
      streamLogs: false,
      timeoutMs: 0,
      cancelOnCancel: true,
    });
    assert.deepEqual(
      clock.sleeps,
      [7000, 1500],
      'the delay after the read that carried Retry-After: 7 s instead of 1 s',
    );
  });

  test('timeout cancels the job and says why', async () => {
    const clock = fakeClock();
    const ops = timelineOps(clock, [[0, 'Running']]);
    const lines: string[] = [];
    const out = await waitForJob('j1', {
      ops,
      log: { ...quiet, info: (m) => lines.push(m) },
      progress: () => {},
      clock,
      streamLogs: false,
      timeoutMs: 60_000,
      cancelOnCancel: true,
    });
    assert.equal(ops.cancels, 1);
    assert.match(out.cancelled!.reason, /timeout of 1 minute/);
    assert.ok(
      lines.some((l) => /^Cancelled Azure ML job j1 \(timeout of 1 minute\(s\) reached\): status Canceled$/.test(l)),
      lines.join('\n'),
    );
    assert.ok(clock.t >= 60_000 && clock.t < 61_000, String(clock.t));
  });

  test('abort (SIGINT) while sleeping cancels the job; with cancelOnCancel=false the job is left running', async () => {
    for (const cancelOnCancel of [true, false]) {
      const clock = fakeClock();
      const ac = new AbortController();
      const ops = timelineOps(clock, [[0, 'Running']], {});
      const origRead = ops.readJob;
      ops.readJob = async (n) => {
        if (ops.reads === 3) ac.abort({ signal: 'SIGINT' });
        return origRead(n);
      };
      const p = waitForJob('j1', {
        ops,
        log: quiet,
        progress: () => {},
        clock,
        streamLogs: true,
        timeoutMs: 0,
        cancelOnCancel,
        signal: ac.signal,
      });
      if (cancelOnCancel) {
        const out = await p;
        assert.equal(out.cancelled!.reason, 'pipeline cancelled (SIGINT)');
        assert.equal(ops.cancels, 1);
      } else {
        await assert.rejects(p, /Stopped waiting for Azure ML job j1 .*NOT cancelled/);
        assert.equal(ops.cancels, 0);
      }
    }
  });

  test('pipeline cancel: cancellation requested at once, Canceled awaited only a few seconds (the agent sends SIGTERM 7.5 s after SIGINT); timeout may wait longer', async () => {
    const clock = fakeClock();
    const ac = new AbortController();
    const lines: string[] = [];
    // the service has not confirmed within the wait: the task reports what it saw and returns
    const ops = timelineOps(clock, [[0, 'Running']], {
      cancelJob: async (_n, waitMs) => {
        ops.cancels++;
        ops.cancelWaits.push(waitMs);
        return { status: 'CancelRequested', confirmed: false };
      },
    });
    const origRead = ops.readJob;
    ops.readJob = async (n) => {
      if (ops.reads === 2) ac.abort({ signal: 'SIGINT' });
      return origRead(n);
    };
    const out = await waitForJob('j1', {
      ops,
      log: { ...quiet, info: (m) => lines.push(m) },
      progress: () => {},
      clock,
      streamLogs: false,
      timeoutMs: 0,
      cancelOnCancel: true,
      signal: ac.signal,
    });
    assert.equal(ops.cancels, 1);
    assert.equal(ops.cancelWaits[0], CANCEL_WAIT_ON_SIGNAL_MS);
    assert.ok(
      CANCEL_WAIT_ON_SIGNAL_MS + 2000 < 7500,
      'the cancel request and its wait end before the agent sends SIGTERM',
    );
    assert.deepEqual(out.cancelled, {
      reason: 'pipeline cancelled (SIGINT)',
      status: 'CancelRequested',
      confirmed: false,
    });
    assert.ok(
      lines.some((l) =>
        /^Azure ML job j1: cancellation requested \(job status CancelRequested\); not waiting longer than 3 s for it \(pipeline cancelled \(SIGINT\)\)$/.test(
          l,
        ),
      ),
      lines.join('\n'),
    );

    const t = timelineOps(fakeClock(), [[0, 'Running']]);
    const tc = fakeClock();
    await waitForJob('j1', {
      ops: timelineOps(tc, [[0, 'Running']], { cancelJob: t.cancelJob }),
      log: quiet,
      progress: () => {},
      clock: tc,
      streamLogs: false,
      timeoutMs: 60_000,
      cancelOnCancel: true,
    });
    assert.equal(t.cancelWaits[0], CANCEL_WAIT_ON_TIMEOUT_MS);
    assert.ok(CANCEL_WAIT_ON_TIMEOUT_MS > CANCEL_WAIT_ON_SIGNAL_MS);
  });

  test('a failed cancel request is reported as such', async () => {
    const clock = fakeClock();
    const ops = timelineOps(clock, [[0, 'Running']], {
      cancelJob: async () => {
        throw new Error('HTTP 500: boom');
      },
    });
    await assert.rejects(
      waitForJob('j1', {
        ops,
        log: quiet,
        progress: () => {},
        clock,
        streamLogs: false,
        timeoutMs: 60_000,
        cancelOnCancel: true,
      }),
      /^UserError: Could not cancel Azure ML job j1 \(timeout of 1 minute\(s\) reached\): HTTP 500: boom; it may still be running$/,
    );
  });

  test('a job deleted while waiting fails clearly', async () => {
    const clock = fakeClock();
    const ops = timelineOps(clock, [[0, 'Running']], { readJob: async () => ({ job: undefined }) });
    await assert.rejects(
      waitForJob('j1', {
        ops,
        log: quiet,
        progress: () => {},
        clock,
        streamLogs: false,
        timeoutMs: 0,
        cancelOnCancel: true,
      }),
      /no longer exists/,
    );
  });
});

describe('helpers', () => {
  test('definitionDifferences: server-added fields and mutable ones ignored, real changes named', () => {
    const mine = {
      jobType: 'Command',
      command: 'python x.py',
      tags: { a: '1' },
      inputs: { lr: { jobInputType: 'literal', value: '0.1' } },
      computeId: '/subscriptions/S/x/computes/cpu',
    };
    const theirs = {
      ...mine,
      tags: { a: '2' },
      status: 'Running',
      services: {},
      outputs: { default: {} },
      computeId: '/subscriptions/s/x/computes/CPU',
      inputs: { lr: { jobInputType: 'literal', value: '0.1', description: null } },
    };
    assert.deepEqual(definitionDifferences(mine, theirs), []);
    assert.deepEqual(definitionDifferences({ ...mine, command: 'python y.py' }, theirs), ['command']);
    assert.deepEqual(
      definitionDifferences({ ...mine, inputs: { lr: { jobInputType: 'literal', value: '0.2' } } }, theirs),
      ['inputs'],
    );
  });

  test('validateInputs: every bad input names itself', () => {
    const base = {
      mode: 'submit' as 'submit' | 'waitExisting',
      jobFile: 'job.yml',
      wait: true,
      streamLogs: true,
      timeoutMinutes: 0,
      cancelOnCancel: true,
    };
    const bad: Array<[Partial<typeof base> & Record<string, unknown>, RegExp]> = [
      [{ timeoutMinutes: -1 }, /^Input 'timeoutMinutes'/],
      [{ jobName: 'bad name' }, /^Input 'jobName'/],
      [{ jobFile: '' }, /^Input 'jobFile': is required/],
      [{ mode: 'waitExisting' }, /^Input 'jobName': is required in mode waitExisting/],
      [{ overrides: ['novalue'] }, /^Input 'overrides': 'novalue' is not path=value/],
      [{ overrides: ['a..b=1'] }, /^Input 'overrides': .*empty segment/],
      [{ mode: 'other' as 'submit' }, /^Input 'mode'/],
    ];
    for (const [over, re] of bad) {
      assert.throws(
        () => validateInputs({ ...base, ...over } as never, '/tmp'),
        (e: unknown) => e instanceof InputError && re.test((e as Error).message),
        JSON.stringify(over),
      );
    }
    assert.deepEqual(validateInputs(base, '/w'), { jobFile: '/w/job.yml', jobName: undefined });
  });

  test('defaultJobName: stable per pipeline run + definition, random outside a pipeline', () => {
    const ctx = { definitionName: 'My CI/Train', buildId: '42' };
    const a = defaultJobName(ctx, { properties: { command: 'a' } });
    assert.match(a, /^my-ci-train-42-[0-9a-f]{8}$/);
    assert.equal(defaultJobName(ctx, { properties: { command: 'a' } }), a);
    assert.notEqual(defaultJobName(ctx, { properties: { command: 'b' } }), a);
    assert.equal(
      defaultJobName(ctx, {
        properties: { command: 'a', tags: { 'azdo.buildUrl': 'https://other/' }, description: 'd' },
      }),
      a,
      'tags and description are not the definition',
    );
    assert.match(defaultJobName({ ...ctx, attempt: '2' }, { properties: { command: 'a' } }), /^my-ci-train-42-a2-/);
    const r = defaultJobName({}, {});
    assert.match(r, /^job-[0-9a-f]{10}$/);
    assert.notEqual(defaultJobName({}, {}), r);
  });

  test('log lines cannot issue agent commands; metric variable names', () => {
    assert.equal(neutralizeLogLine('##vso[task.setvariable variable=x]1').startsWith('##vso['), false);
    assert.equal(neutralizeLogLine('epoch 1 loss 0.3'), 'epoch 1 loss 0.3');
    assert.equal(metricVariable('val/acc@1'), 'metric.val_acc_1');
  });

  test('summary: status, metrics and parameters tables, studio link, error with log tail', () => {
    const r: JobResult = {
      jobName: 'j1',
      status: 'Failed',
      studioUrl: 'https://ml.azure.com/runs/j1?wsid=x',
      submitted: true,
      reused: false,
      waited: true,
      metrics: { accuracy: 0.91234567, loss: 3 },
      params: { lr: '0.5' },
      durationMs: 65_000,
      error: 'UserError: boom',
      logTail: ['a', 'b'],
      failure: 'Azure ML job j1 failed',
      polls: 3,
    };
    const md = jobSummary(r, {
      subscriptionId: 's',
      resourceGroup: 'rg',
      workspace: 'w',
      armUrl: 'https://x/',
    });
    assert.match(md, /Azure ML job j1: Failed/);
    assert.match(md, /\| accuracy \| 0\.912346 \|/);
    assert.match(md, /\| lr \| 0\.5 \|/);
    assert.match(md, /\| Duration \| 1 min 5 s \|/);
    assert.match(md, /\[j1\]\(https:\/\/ml\.azure\.com\/runs\/j1\?wsid=x\)/);
    assert.match(md, /```\na\nb\n```/);
  });
});

describe('runJob with fakes', () => {
  function fakeOps(existing?: JobResource): JobOps & { created: number; committed: number } {
    const clock = { now: () => 0 };
    const o = {
      ...timelineOps(clock, [[0, 'Completed']]),
      created: 0,
      committed: 0,
      ws: { subscriptionId: 's', resourceGroup: 'rg', workspace: 'w', armUrl: 'https://x/' },
      checkWorkspace: async () => ({}),
      newResolver: () => ({
        wsPath: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w',
        pending: [],
        uploadCode: async () => 'code',
        uploadLocalPath: async () => 'azureml://x',
        ensureEnvironment: async () => 'env',
        ensureComponent: async () => 'comp',
        resolveAsset: async () => 'asset',
        computeId: async (n: string) => `/c/${n}`,
        commit: async () => {
          o.committed++;
        },
      }),
      createJob: async () => {
        o.created++;
        return job('NotStarted');
      },
      readJob: async () => (existing ? { job: existing } : o.created ? { job: job('Completed') } : { job: undefined }),
      runSummary: async () => ({ runId: 'j1', metrics: { accuracy: 0.9 }, params: { lr: '1' }, tags: {} }),
    };
    return o as never;
  }
  const inputs = (dir: string) => ({
    mode: 'submit' as const,
    jobFile: `${dir}/j.yml`,
    wait: true,
    streamLogs: false,
    timeoutMinutes: 0,
    cancelOnCancel: true,
    jobName: 'j1',
  });

  test('submits once, reads metrics; the same definition again is not resubmitted; a different one is refused', async () => {
    const fs = await import('node:fs');
    const dir = fs.mkdtempSync(`${(await import('node:os')).tmpdir()}/jobunit-`);
    fs.writeFileSync(
      `${dir}/j.yml`,
      'command: echo hi\nenvironment: azureml://registries/azureml/environments/x/labels/latest\ncompute: azureml:cpu\n',
    );
    const ops = fakeOps();
    const deps = { ops, log: quiet, progress: () => {}, context: { buildId: '1' }, clock: fakeClock() };
    const r = await runJob(inputs(dir), deps);
    assert.equal(r.status, 'Completed');
    assert.equal(ops.created, 1);
    assert.equal(ops.committed, 1);
    assert.deepEqual(r.metrics, { accuracy: 0.9 });
    assert.equal(r.failure, undefined);

    const same = {
      ...job('Running'),
      properties: {
        status: 'Running',
        jobType: 'Command',
        command: 'echo hi',
        environmentId: 'azureml://registries/azureml/environments/x/labels/latest',
        computeId: '/c/cpu',
        experimentName: dir.split('/').pop(),
      },
    };
    const ops2 = fakeOps(same);
    const r2 = await runJob({ ...inputs(dir), wait: false }, { ...deps, ops: ops2 });
    assert.equal(r2.reused, true);
    assert.equal(ops2.created + ops2.committed, 0);

    const ops3 = fakeOps({ ...same, properties: { ...same.properties, command: 'echo other' } });
    await assert.rejects(
      runJob(inputs(dir), { ...deps, ops: ops3 }),
      /^InputError: Input 'jobName': job 'j1' already exists in workspace 'w' with a different definition \(command differ\)/,
    );
    assert.equal(ops3.created + ops3.committed, 0);
  });

  test('mode prepare on a rerun (the job exists): Completed → status only, no jobDefinition, no warning; Failed → the step fails; Running → a warning (wait with PATCH)', async () => {
    const fs = await import('node:fs');
    const dir = fs.mkdtempSync(`${(await import('node:os')).tmpdir()}/jobunit-`);
    fs.writeFileSync(
      `${dir}/j.yml`,
      'command: echo hi\nenvironment: azureml://registries/azureml/environments/x/labels/latest\ncompute: azureml:cpu\n',
    );
    const props = {
      jobType: 'Command',
      command: 'echo hi',
      environmentId: 'azureml://registries/azureml/environments/x/labels/latest',
      computeId: '/c/cpu',
      experimentName: dir.split('/').pop(),
    };
    const prepare = async (status: string) => {
      const ops = fakeOps({ ...job(status), properties: { ...props, status } });
      const said: string[] = [];
      const log = {
        info: (m: string) => said.push(m),
        warning: (m: string) => said.push(`WARNING ${m}`),
        debug: () => {},
      };
      const r = await runJob(
        { ...inputs(dir), mode: 'prepare' },
        { ops, log, progress: () => {}, context: { buildId: '1' }, clock: fakeClock() },
      );
      assert.equal(ops.created + ops.committed, 0, 'prepare wrote something for an existing job');
      return { r, said: said.join('\n') };
    };
    const done = await prepare('Completed');
    assert.deepEqual(
      [done.r.status, done.r.reused, done.r.jobDefinition, done.r.failure],
      ['Completed', true, undefined, undefined],
    );
    assert.match(done.said, /has completed: nothing to create or wait for/);
    assert.doesNotMatch(done.said, /WARNING/);
    const failed = await prepare('Failed');
    assert.equal(
      failed.r.failure,
      'Azure ML job j1 already exists and ended Failed: mode prepare does not submit it again; give this step another jobName to train again',
    );
    const running = await prepare('Running');
    assert.deepEqual([running.r.status, running.r.jobDefinition, running.r.failure], ['Running', undefined, undefined]);
    assert.match(
      running.said,
      /WARNING Job j1 already exists \(status Running\): AzureMLJobWait@1 in mode PUT cannot create it again; wait for it with mode PATCH/,
    );
  });
});

// mode prepare → AzureMLJobWait@1 mode PUT: the definition survives the server's body template (issue 11)
test('encodeJobDefinition: JSON members the server can put into its body unchanged ($, {, } escaped in strings)', async () => {
  const { expandMacros, expandMustache } = await import('../emulator/devops/serverJobs');
  const props = {
    jobType: 'Command',
    command: 'python train.py --data ${{inputs.data}} --n $(nproc) {{x}}',
    inputs: { data: { jobInputType: 'uri_file', uri: 'azureml://x' } },
    'odd${key}': ['a\\$b', 1, true, null, { nested: '}}' }],
    environmentVariables: {},
  };
  const members = encodeJobDefinition(props);
  assert.ok(members.endsWith(','));
  for (const bad of ['$(', '${', '{{']) assert.ok(!members.includes(bad), `${bad} in ${members}`);
  const template = '{"properties":{$(jobDefinition)"notificationSetting":null}}';
  const sent = expandMustache(expandMacros(template, { jobDefinition: members, nproc: 'EXPANDED', x: 'EXPANDED' }), {
    x: 'EXPANDED',
    inputs: 'EXPANDED',
  });
  assert.deepEqual(JSON.parse(sent).properties, { ...props, notificationSetting: null });
  assert.equal(encodeJobDefinition({}), '');
});
