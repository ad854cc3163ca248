// Shared by test/e2e/deployAnalysis.test.ts (and scoringWorkspace by test/e2e/endpointHealth.test.ts).
// Issue 10 §4, first proof: the demo's staging (managed endpoint, straight to 100 %) and production (Kubernetes
// endpoint, blue/green 10,50,100) deploys, run with the bundled AzureMLModelDeploy task against Azure-in-a-box:
//  A. 10 % transient faults (429, 500, 503, dropped connection) on the scoring front door only: green 10 of 10 seeds,
//     each rollout's log showing the inconclusive attempts it retried and PASSED verdicts.
//  B. the same faults, and a deployment that really fails ~10 % of its requests (test/fixtures/scoring/flaky,
//     random.Random(seed)): rolled back 10 of 10 in staging and, run on its own, 10 of 10 in production, each with a
//     FAILED verdict decided by the failure-rate rule on the deployment's own answers (managed: 424 model error;
//     Kubernetes: 502, an exception in run()), not an inconclusive one, and the live traffic exactly as before.
// The seeds of a file run side by side in LANES lanes: lane i has its own endpoints (stg-i, prod-i, each first
// serving 'blue') and its own seeded fault lane on their scoring paths (box.faults.add), so a seed sees the same faults
// whether it runs alone or beside others; within a lane the seeds run one after another. Measured on 2 cores: the
// four files took 40–80 s each with the seeds in a row (the rollouts mostly wait: LRO polls, probe back-off).
// Probe counts are the task's defaults (20 smoke probes, 5 health-check probes per step); the demo's smaller counts
// (5 and 3–5) cannot tell a 10 %-failing deployment from a good one reliably (0.9^8 ≈ 43 % of such staging runs see
// no failure at all).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startAzureInABox, type AzureInABox } from '../emulator';
import { REPO_ROOT, runBundledTask, type RunOptions, type TaskRunWithLeaks, explainRun } from './agent';

const FIX = path.join(REPO_ROOT, 'test', 'fixtures', 'scoring');
const ENV = 'azureml:AzureML-sklearn-1.5:1';
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const FAULTS = {
  rate: 0.1,
  kinds: ['429', '500', '503', 'drop'] as Array<'429' | '500' | '503' | 'drop'>,
  hosts: ['inference'],
  pathFilter: /\/score$/,
};
let box: AzureInABox;
let cwd: string;
/** lane 0's staging endpoint's scoring URI and key, as its first deploy reported them */
let staging: { uri: string; key: string };
/** endpoint lanes; seeds are dealt to them round robin */
export const LANES = 5;

const STAGING = {
  endpointName: 'stg',
  endpointType: 'managed',
  authMode: 'key',
  instanceType: 'Standard_DS3_v2',
  trafficSteps: '100',
  deleteOldDeployment: 'true',
};
const PRODUCTION = {
  endpointName: 'prod',
  endpointType: 'kubernetes',
  compute: 'k8s-compute',
  authMode: 'key',
  instanceType: 'defaultinstancetype',
  trafficSteps: '10,50,100',
  stepWaitSeconds: '0',
  deleteOldDeployment: 'true',
};
type Stage = typeof STAGING | typeof PRODUCTION;
const inLane = (stage: Stage, lane: number): Stage => ({ ...stage, endpointName: `${stage.endpointName}-${lane}` });
/** the faults of one endpoint: 10 % on its scoring path only, seeded */
const endpointFaults = (endpoint: string, seed: number) =>
  box.faults.add({ ...FAULTS, pathFilter: new RegExp(`^/endpoints/${endpoint}/score$`), seed });
const sum = (...counts: Array<Record<string, number>>) =>
  counts.reduce<Record<string, number>>((o, c) => {
    for (const [k, v] of Object.entries(c)) o[k] = (o[k] ?? 0) + v;
    return o;
  }, {});
/** run `fn` for each seed, seeds dealt round robin to LANES lanes that run side by side */
async function inLanes(seeds: readonly number[], fn: (seed: number, lane: number) => Promise<void>): Promise<void> {
  const lanes = Array.from({ length: Math.min(LANES, seeds.length) }, (_, i) =>
    seeds.filter((_, k) => k % LANES === i),
  );
  const results = await Promise.allSettled(
    lanes.map(async (mine, lane) => {
      for (const seed of mine) await fn(seed, lane);
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

const trafficOf = (name: string) =>
  ({
    ...(box.store
      .list<{ resource: { name: string; properties: Record<string, any> } }>('onlineEndpoints')
      .find((e) => e.resource.name === name)?.resource.properties.traffic ?? {}),
  }) as Record<string, number>;
const live = (t: Record<string, number>) => Object.fromEntries(Object.entries(t).filter(([, v]) => v > 0));

const explain = (r: TaskRunWithLeaks) => explainRun(r, { lines: 40 });

async function deploy(
  stage: Record<string, string>,
  inputs: Record<string, string>,
  opts: Partial<RunOptions> = {},
): Promise<TaskRunWithLeaks> {
  return runBundledTask('AzureMLModelDeploy', {
    box,
    scheme: 'secret',
    timeoutMs: 120_000,
    cwd,
    ...opts,
    inputs: {
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      codePath: 'ok',
      scoringScript: 'score.py',
      environment: ENV,
      sampleRequestFile: 'sample-request.json',
      expectedResponse: '{"predictions": [6.5, 6.5]}',
      ...stage,
      ...inputs,
    },
  });
}

/** the verdict lines a run logged: `Smoke test: 20/20 OK, …` and `Health check at N%: 5/5 OK, …` */
const verdicts = (r: TaskRunWithLeaks) =>
  r.stdout.split('\n').filter((l) => /^(Smoke test|Health check at \d+%): \d+\/\d+ OK, /.test(l));
const inconclusiveOf = (lines: string[]) =>
  lines.reduce((n, l) => n + Number(/, (\d+) inconclusive/.exec(l)?.[1] ?? 0), 0);

/**
 * A working folder with the scoring code (ok/, flaky/), sample-request.json, and model churn:1 registered in the box
 * (weights [1,2,3] + 0.5 → [6.5, 6.5] for the sample request). Shared by the deploy-analysis and endpoint-health e2e.
 */
export async function scoringWorkspace(box: AzureInABox, prefix: string): Promise<string> {
  const cwd = mkdtempSync(path.join(tmpdir(), prefix));
  for (const d of ['ok', 'flaky']) cpSync(path.join(FIX, d), path.join(cwd, d), { recursive: true });
  cpSync(path.join(FIX, 'sample-request.json'), path.join(cwd, 'sample-request.json'));
  mkdirSync(path.join(cwd, 'm1', 'model'), { recursive: true });
  writeFileSync(
    path.join(cwd, 'm1', 'model', 'model.json'),
    JSON.stringify({ weights: [1, 2, 3], bias: 0.5, version: 'v1' }),
  );
  const reg = await runBundledTask('AzureMLModelRegister', {
    box,
    scheme: 'secret',
    cwd,
    timeoutMs: 30_000,
    inputs: {
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      modelName: 'churn',
      modelPath: 'm1/model',
      modelType: 'custom_model',
      version: '1',
    },
  });
  assert.equal(reg.result, 'Succeeded', explain(reg));
  return cwd;
}

/** Starts the box (fast LRO), registers the model and deploys a first 'blue' to each lane's endpoints of `stages`; stops it after. */
export function useScenarioBox(): void {
  const stages = ['staging', 'production'] as const;
  before(async () => {
    box = await startAzureInABox({ fastLro: true });
    cwd = await scoringWorkspace(box, 'deploy-analysis-e2e-');
    // each lane's endpoints serve a first deployment (no faults yet)
    const firsts = await Promise.all(
      Array.from({ length: LANES }, (_, lane) =>
        stages.map((st) =>
          deploy(inLane(st === 'staging' ? STAGING : PRODUCTION, lane), {
            model: 'azureml:churn:1',
            deploymentName: 'blue',
          }),
        ),
      ).flat(),
    );
    for (const r of firsts) assert.equal(r.result, 'Succeeded', explain(r));
    staging = { uri: firsts[0].outputs.scoringUri!, key: firsts[0].outputs.endpointKey! };
  });
  after(async () => {
    await box?.stop();
  });
}

export function frontDoorSuite(): void {
  describe("the emulator's front door marks who answered", () => {
    test("a deployment's answer carries azureml-model-deployment; the front door's own faults do not (429 with or without Retry-After)", async () => {
      const score = () =>
        fetch(staging.uri, {
          method: 'POST',
          headers: { authorization: `Bearer ${staging.key}`, 'content-type': 'application/json' },
          body: '{"data": [[1, 1, 1], [0, 0, 2]]}',
        });
      const served = await score();
      assert.equal(served.status, 200);
      assert.ok(served.headers.get('azureml-model-deployment'));
      assert.equal(served.headers.get('server'), 'azureml-frontdoor');
      try {
        for (const [kinds, retryAfterSeconds, status, retryAfter] of [
          [['429'], undefined, 429, '1'],
          [['429'], null, 429, null],
          [['503'], undefined, 503, null],
          [['500'], undefined, 500, null],
        ] as const) {
          box.faults.set({
            rate: 1,
            kinds: [...kinds],
            hosts: ['inference'],
            pathFilter: /\/score$/,
            retryAfterSeconds,
          });
          const r = await score();
          assert.equal(r.status, status);
          assert.equal(r.headers.get('azureml-model-deployment'), null, `${status}: no deployment answered`);
          assert.equal(r.headers.get('retry-after'), retryAfter);
        }
        box.faults.set({ rate: 1, kinds: ['drop'], hosts: ['inference'], pathFilter: /\/score$/ });
        await assert.rejects(score(), /fetch failed/);
      } finally {
        box.faults.reset();
      }
    });
  });
}

/** A: staging then production, for each seed. */
export function scenarioA(seeds: readonly number[] = SEEDS): void {
  test(`A: 10 % transient faults on the scoring front door: staging then production green for seeds ${seeds.join(',')}`, async () => {
    const green: number[] = [];
    let retried = 0;
    const injected: Record<string, number> = {};
    await inLanes(seeds, async (seed, lane) => {
      const t0 = Date.now();
      const name = `good-${seed}`;
      const [stg, prod] = [inLane(STAGING, lane), inLane(PRODUCTION, lane)];
      const lanes = [endpointFaults(stg.endpointName, seed), endpointFaults(prod.endpointName, seed)];
      const faults = {
        get injected() {
          return sum(...lanes.map((l) => l.injected));
        },
        remove: () => lanes.forEach((l) => l.remove()),
      };
      const s = await deploy(stg, { model: 'azureml:churn:1', deploymentName: name });
      const p =
        s.result === 'Succeeded' ? await deploy(prod, { model: 'azureml:churn:1', deploymentName: name }) : undefined;
      for (const [k, v] of Object.entries(faults.injected)) injected[k] = (injected[k] ?? 0) + v;
      faults.remove();
      const lines = [...verdicts(s), ...(p ? verdicts(p) : [])];
      retried += inconclusiveOf(lines);
      const ok = s.result === 'Succeeded' && p?.result === 'Succeeded';
      if (ok) green.push(seed);
      console.log(
        `# A seed ${seed} (lane ${lane}): staging ${s.result}, production ${p?.result ?? 'not run'}; ${inconclusiveOf(lines)} inconclusive attempt(s) retried; faults ${JSON.stringify(faults.injected)}; ${Date.now() - t0} ms`,
      );
      assert.ok(ok, `seed ${seed}\n${explain(p ?? s)}`);
      // every step judged and passed: staging smoke + 1 step, production smoke + 3 steps
      assert.equal(lines.length, 6, lines.join('\n'));
      for (const l of lines) assert.match(l, /→ PASSED: failure rate 0% ≤ maxFailurePercent 0%/, l);
      assert.deepEqual(live(trafficOf(stg.endpointName)), { [name]: 100 });
      assert.deepEqual(live(trafficOf(prod.endpointName)), { [name]: 100 });
      assert.match(
        p!.summaries.join('\n'),
        /\| 3: 100% \| [^|]+ \| 5\/5 OK, p95 [\d.]+ ms; 5 probe\(s\), \d+ request\(s\) sent: 5 passed, 0 failed, \d+ inconclusive[^|]*\| PASSED: /,
      );
    });
    console.log(
      `# A: green ${green.length} of ${seeds.length} (seeds ${green.sort((a, b) => a - b).join(',')}); faults injected ${JSON.stringify(injected)}; inconclusive attempts retried ${retried}`,
    );
    assert.equal(green.length, seeds.length);
    // the test is not vacuous: every kind of fault reached the task and was retried
    for (const k of ['429', '500', '503', 'drop'])
      assert.ok((injected[k] ?? 0) > 0, `no ${k} injected: ${JSON.stringify(injected)}`);
    assert.ok(retried >= seeds.length, `only ${retried} inconclusive attempts`);
  });
}

/**
 * B: a deployment that really fails ~10 % of its requests, under the same faults, deployed to staging and to production
 * (side by side, an endpoint and fault lane each: a release would stop at staging; here each stage must catch it on
 * its own).
 */
export function scenarioB(): void {
  test('B: the same faults and a deployment that really fails ~10 % of its requests: staging and production each roll it back, 10 of 10, with a failed verdict', async () => {
    const rolledBack: Record<'staging' | 'production', number[]> = { staging: [], production: [] };
    const byStage = async (seed: number, lane: number, where: 'staging' | 'production') => {
      const stage = inLane(where === 'staging' ? STAGING : PRODUCTION, lane);
      const before = live(trafficOf(stage.endpointName));
      const faults = endpointFaults(stage.endpointName, seed);
      const t0 = Date.now();
      const r = await deploy(stage, {
        model: 'azureml:churn:1',
        deploymentName: 'flaky',
        codePath: 'flaky',
        environmentVariables: `FAIL_PERCENT=10, FAIL_SEED=${seed}`,
      });
      faults.remove();
      console.log(
        `# B seed ${seed} ${where} (lane ${lane}): ${r.result}: ${r.message}; faults ${JSON.stringify(faults.injected)}; ${Date.now() - t0} ms`,
      );
      assert.equal(r.result, 'Failed', `seed ${seed}: the flaky deployment went through ${where}\n${explain(r)}`);
      // the verdict: the failure-rate rule on the deployment's own answers (managed: 424 model error; Kubernetes: 502
      // exception in run()), not an inconclusive stop
      const own =
        where === 'staging' ? 'HTTP 424 \\(model answered 500 model_error\\)' : 'HTTP 502 \\(exception in run\\(\\)\\)';
      assert.match(
        r.message ?? '',
        new RegExp(
          `^(Smoke test of deployment flaky|Health check at \\d+%) failed: failure rate [\\d.]+% \\(\\d+ of \\d+ conclusive probe\\(s\\)\\) is above maxFailurePercent 0% \\(first: ${own} from flaky: .*\\); traffic (unchanged|restored to)`,
        ),
        explain(r),
      );
      assert.match(
        r.stdout,
        /→ FAILED: failure rate [\d.]+% \(\d+ of \d+ conclusive probe\(s\)\) is above maxFailurePercent 0%/,
      );
      assert.match(
        r.stdout,
        /container log of deployment flaky[\s\S]*RuntimeError: feature lookup failed for this input/,
        "the container log shows the model's exceptions",
      );
      assert.match(
        r.summaries.join('\n'),
        /\*\*Rolled back\*\*: .*failed: failure rate/,
        'a rolled-back run still has its summary',
      );
      assert.deepEqual(
        live(trafficOf(stage.endpointName)),
        before,
        `seed ${seed} ${where}: the live traffic is what it was`,
      );
      rolledBack[where].push(seed);
    };
    await inLanes(SEEDS, async (seed, lane) => {
      const results = await Promise.allSettled([byStage(seed, lane, 'staging'), byStage(seed, lane, 'production')]);
      for (const r of results) if (r.status === 'rejected') throw r.reason;
    });
    console.log(
      `# B: rolled back in staging ${rolledBack.staging.length} of ${SEEDS.length}, in production ${rolledBack.production.length} of ${SEEDS.length}`,
    );
    assert.equal(rolledBack.staging.length, 10);
    assert.equal(rolledBack.production.length, 10);
  });
}
