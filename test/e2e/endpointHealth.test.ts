// AzureMLEndpointHealth@1, bundled, against Azure-in-a-box: the box's front door records what it really served and its
// ARM host answers the Azure Monitor Metrics API from that record (test/emulator/monitor.ts), so the task judges real
// traffic. Endpoints are created with the bundled AzureMLModelDeploy task:
//  - `hok`    managed, test/fixtures/scoring/ok          → healthy: the gate passes
//  - `hflaky` managed, test/fixtures/scoring/flaky, FAIL_PERCENT=30 (deployed with maxFailurePercent 100 so the deploy
//             task lets it through) → its model errors come back as 424: the gate fails with the numbers
//  - `hk8s`   Kubernetes → the gate fails: no metrics for AKS/Arc endpoints
// and the deploy task's metrics judgement on them: a new deployment on `hok` clearly worse than production rolls back;
// one on `hflaky` that fails as much as its production passes (no worse than production).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAzureInABox, type AzureInABox } from '../emulator';
import { runBundledTask, type TaskRunWithLeaks, explainRun } from '../helpers/agent';
import { scoringWorkspace } from '../helpers/deployAnalysisScenarios';

const ENV = 'azureml:AzureML-sklearn-1.5:1';
const SAMPLE = '{"data": [[1, 1, 1], [0, 0, 2]]}';
let box: AzureInABox;
let cwd: string;
const endpoints: Record<string, { uri: string; key: string }> = {};

const explain = (r: TaskRunWithLeaks) => explainRun(r);

const health = (inputs: Record<string, string>) =>
  runBundledTask('AzureMLEndpointHealth', {
    box,
    scheme: 'secret',
    cwd,
    timeoutMs: 60_000,
    inputs: { resourceGroup: box.resourceGroup, workspace: box.workspace, windowMinutes: '10', ...inputs },
  });

/** n scoring requests through the front door; the statuses it answered */
async function traffic(name: string, n: number): Promise<Record<number, number>> {
  const out: Record<number, number> = {};
  for (let i = 0; i < n; i++) {
    const r = await fetch(endpoints[name].uri, {
      method: 'POST',
      headers: { authorization: `Bearer ${endpoints[name].key}`, 'content-type': 'application/json' },
      body: SAMPLE,
    });
    await r.text();
    out[r.status] = (out[r.status] ?? 0) + 1;
  }
  return out;
}

const total = (m: Record<number, number>) => Object.values(m).reduce((a, b) => a + b, 0);
const trafficOf = (name: string) =>
  box.store
    .list<{ resource: { name: string; properties: { traffic?: Record<string, number> } } }>('onlineEndpoints')
    .find((e) => e.resource.name === name)?.resource.properties.traffic ?? {};

/**
 * The bundled deploy task rolls `deployment` out on `endpoint` in steps 50,100 without a sample request (only the metrics
 * judge); once it has 50 %, n requests go through the endpoint while the task waits: who answered them, by status.
 */
async function rolloutWithTraffic(endpoint: string, deployment: string, inputs: Record<string, string>, n: number) {
  const run = runBundledTask('AzureMLModelDeploy', {
    box,
    scheme: 'secret',
    cwd,
    timeoutMs: 120_000,
    inputs: {
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      endpointName: endpoint,
      deploymentName: deployment,
      model: 'azureml:churn:1',
      scoringScript: 'score.py',
      environment: ENV,
      instanceType: 'Standard_DS3_v2',
      trafficSteps: '50,100',
      ...inputs,
    },
  });
  const t0 = Date.now();
  while (trafficOf(endpoint)[deployment] !== 50) {
    assert.ok(Date.now() - t0 < 100_000, 'the rollout never reached 50 %');
    await new Promise((r) => setTimeout(r, 100));
  }
  const byDeployment: Record<string, Record<number, number>> = {};
  for (let i = 0; i < n; i++) {
    const r = await fetch(endpoints[endpoint].uri, {
      method: 'POST',
      headers: { authorization: `Bearer ${endpoints[endpoint].key}`, 'content-type': 'application/json' },
      body: SAMPLE,
    });
    await r.text();
    const d = r.headers.get('azureml-model-deployment') ?? '?';
    byDeployment[d] = { ...(byDeployment[d] ?? {}), [r.status]: (byDeployment[d]?.[r.status] ?? 0) + 1 };
  }
  return { run, byDeployment };
}

before(async () => {
  box = await startAzureInABox({ fastLro: true });
  cwd = await scoringWorkspace(box, 'endpoint-health-e2e-');
  const common = {
    resourceGroup: box.resourceGroup,
    workspace: box.workspace,
    model: 'azureml:churn:1',
    deploymentName: 'blue',
    scoringScript: 'score.py',
    environment: ENV,
    sampleRequestFile: 'sample-request.json',
    authMode: 'key',
    smokeRequests: '5',
    healthCheckRequests: '5',
    trafficSteps: '100',
  };
  const runs = await Promise.all([
    runBundledTask('AzureMLModelDeploy', {
      box,
      scheme: 'secret',
      cwd,
      timeoutMs: 120_000,
      inputs: { ...common, endpointName: 'hok', codePath: 'ok', instanceType: 'Standard_DS3_v2' },
    }),
    runBundledTask('AzureMLModelDeploy', {
      box,
      scheme: 'secret',
      cwd,
      timeoutMs: 120_000,
      inputs: {
        ...common,
        endpointName: 'hflaky',
        codePath: 'flaky',
        instanceType: 'Standard_DS3_v2',
        maxFailurePercent: '100',
        environmentVariables: 'FAIL_PERCENT=30, FAIL_SEED=7',
      },
    }),
    runBundledTask('AzureMLModelDeploy', {
      box,
      scheme: 'secret',
      cwd,
      timeoutMs: 120_000,
      inputs: {
        ...common,
        endpointName: 'hk8s',
        endpointType: 'kubernetes',
        compute: 'k8s-compute',
        codePath: 'ok',
        instanceType: 'defaultinstancetype',
      },
    }),
  ]);
  for (const [i, name] of ['hok', 'hflaky', 'hk8s'].entries()) {
    assert.equal(runs[i].result, 'Succeeded', `${name}\n${explain(runs[i])}`);
    endpoints[name] = { uri: runs[i].outputs.scoringUri!, key: runs[i].outputs.endpointKey! };
  }
});
after(async () => {
  await box?.stop();
});

describe('AzureMLEndpointHealth@1 against the box', () => {
  test('healthy managed endpoint: passes, the evidence counts every request the front door served', async () => {
    const sent = await traffic('hok', 30);
    assert.deepEqual(sent, { 200: 30 });
    const r = await health({ endpointName: 'hok', maxErrorPercent: '1', maxP95Ms: '5000', minRequests: '30' });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.verdict, 'passed');
    // 30 here + the deploy task's 5 smoke probes and 5 health-check probes at 100 % (nothing else reached this endpoint)
    assert.equal(Number(r.outputs.requests), 40, explain(r));
    assert.equal(r.outputs.errors, '0');
    assert.equal(r.outputs.errorPercent, '0');
    assert.ok(Number(r.outputs.p95Ms) > 0 && Number(r.outputs.p99Ms) >= Number(r.outputs.p95Ms), explain(r));
    assert.match(
      r.stdout,
      /Evidence: requests 40 \(200: 40\); errors \(5xx, 424, 408\) 0 = 0 %; p95 [\d.]+ ms; p99 [\d.]+ ms/,
    );
    assert.match(r.summaries.join('\n'), /### Endpoint health hok: passed/);
    // the same endpoint with a latency limit it cannot meet fails on that rule
    const slow = await health({ endpointName: 'hok', maxP95Ms: '0', minRequests: '1' });
    assert.equal(slow.result, 'Failed');
    assert.match(slow.message ?? '', /^Endpoint health failed: p95 latency [\d.]+ ms > maxP95Ms 0 ms \[requests 40 /);
  });

  test('a deployment that returns errors: fails with the numbers (model errors are 424s)', async () => {
    const sent = await traffic('hflaky', 40);
    const failedNow = sent[424] ?? 0;
    assert.ok(failedNow > 0 && (sent[200] ?? 0) > 0, JSON.stringify(sent));
    const r = await health({ endpointName: 'hflaky', deploymentName: 'blue', maxErrorPercent: '5' });
    assert.equal(r.result, 'Failed', explain(r));
    assert.equal(r.outputs.verdict, 'failed');
    const requests = Number(r.outputs.requests),
      errors = Number(r.outputs.errors);
    assert.equal(requests, 50, "the 40 requests sent here and the deploy task's 5 smoke and 5 health-check probes");
    assert.ok(errors >= failedNow && errors <= failedNow + 10, `errors ${errors}, 424s seen here ${failedNow}`);
    assert.equal(Number(r.outputs.errorPercent), Math.round((errors / requests) * 1000) / 10);
    assert.match(
      r.message ?? '',
      new RegExp(
        `^Endpoint health failed: error share ${r.outputs.errorPercent} % \\(${errors} of 50 requests answered 5xx, 424 or 408\\) > maxErrorPercent 5 % \\[requests 50 \\(200: ${50 - errors}, 424: ${errors}\\)`,
      ),
      explain(r),
    );
    assert.match(r.summaries.join('\n'), /\| status 424 \| \d+ \|/);
  });

  test('too few requests: inconclusive, and the task fails saying so', async () => {
    const r = await health({ endpointName: 'hok', minRequests: '1000' });
    assert.equal(r.result, 'Failed');
    assert.equal(r.outputs.verdict, 'inconclusive');
    assert.match(
      r.message ?? '',
      /^Endpoint health inconclusive: \d+ request\(s\) in the last 10 min < minRequests 1000: too few to judge/,
    );
  });

  test('Kubernetes endpoint: fails with a clear message, no metrics read', async () => {
    const before = box.requests.filter((q) => /Microsoft\.Insights\/metrics/i.test(q.url)).length;
    const r = await health({ endpointName: 'hk8s' });
    assert.equal(r.result, 'Failed');
    assert.match(
      r.message ?? '',
      /^Endpoint 'hk8s' is a Kubernetes \(AKS\/Arc\) online endpoint: Azure Monitor publishes no request metrics for it/,
    );
    assert.equal(box.requests.filter((q) => /Microsoft\.Insights\/metrics/i.test(q.url)).length, before);
  });

  // the two rollouts use endpoints of their own (hok, hflaky) and mostly wait (stepWaitSeconds): side by side
  describe('the deploy task judges its traffic steps by the metrics', { concurrency: true }, () => {
    test("the deploy task reads the new deployment's metrics during a traffic step and rolls back on them (no probes at all): clearly worse than production", async () => {
      // no sample request: no smoke test, no health-check probes; only the metrics can see the failures
      const { run, byDeployment } = await rolloutWithTraffic(
        'hok',
        'green',
        { codePath: 'flaky', environmentVariables: 'FAIL_PERCENT=30, FAIL_SEED=3', stepWaitSeconds: '15' },
        30,
      );
      const r = await run;
      const green = byDeployment.green ?? {},
        blue = byDeployment.blue ?? {};
      const greenN = total(green),
        blueN = total(blue);
      assert.ok((green[424] ?? 0) > 0, `green failed none of its ${greenN} requests: ${JSON.stringify(byDeployment)}`);
      assert.deepEqual(blue, { 200: blueN }, 'production (blue) answered every request');
      assert.equal(r.result, 'Failed', explain(r));
      // production in the same window: the requests sent here that blue answered (nothing else reaches hok meanwhile)
      assert.match(
        r.stdout,
        new RegExp(
          `Metrics at 50%: production \\(blue\\) served ${blueN} request\\(s\\) \\(200: ${blueN}\\), p95 [\\d.]+ ms, p99 [\\d.]+ ms in the same window`,
        ),
        explain(r),
      );
      assert.match(
        r.stdout,
        new RegExp(
          `Metrics at 50%: deployment green served ${greenN} request\\(s\\) \\(200: ${green[200] ?? 0}, 424: ${green[424]}\\), p95 [\\d.]+ ms, p99 [\\d.]+ ms → FAILED: error share [\\d.]+% \\(${green[424]} of ${greenN} request\\(s\\) answered 5xx, 424 or 408\\) is above production's 0% \\(blue: 0 of ${blueN} request\\(s\\), the same window\\) \\+ maxFailurePercent 0%`,
        ),
        explain(r),
      );
      assert.match(
        r.message ?? '',
        /^Metrics at 50%: error share [\d.]+% \(\d+ of \d+ request\(s\) answered 5xx, 424 or 408\) is above production's 0% \(blue: 0 of \d+ request\(s\), the same window\) \+ maxFailurePercent 0%/,
        explain(r),
      );
      assert.deepEqual(
        Object.fromEntries(Object.entries(trafficOf('hok')).filter(([, v]) => v > 0)),
        { blue: 100 },
        'traffic restored',
      );
    });

    test('no worse than production: a production that itself fails ~30 % does not fail a new deployment that fails as much', async () => {
      // hflaky's blue fails ~30 % of its requests (FAIL_PERCENT=30); green runs the same code and rate. maxFailurePercent 15:
      // on its own green's share is above it (the rule before: rolled back), but it is within production's share + 15
      const { run, byDeployment } = await rolloutWithTraffic(
        'hflaky',
        'green',
        {
          codePath: 'flaky',
          environmentVariables: 'FAIL_PERCENT=30, FAIL_SEED=11',
          stepWaitSeconds: '10',
          maxFailurePercent: '15',
        },
        40,
      );
      const r = await run;
      const green = byDeployment.green ?? {},
        blue = byDeployment.blue ?? {};
      const share = (m: Record<number, number>) => Math.round((1000 * (m[424] ?? 0)) / total(m)) / 10;
      assert.ok(total(blue) >= 10 && total(green) > 0, JSON.stringify(byDeployment));
      assert.ok(
        share(green) > 15,
        `green's share ${share(green)}% must be above maxFailurePercent 15% for this test to decide anything: ${JSON.stringify(byDeployment)}`,
      );
      assert.ok(
        share(green) <= share(blue) + 15,
        `green ${share(green)}% vs blue ${share(blue)}%: ${JSON.stringify(byDeployment)}`,
      );
      assert.equal(r.result, 'Succeeded', explain(r));
      assert.match(
        r.stdout,
        new RegExp(
          `Metrics at 50%: deployment green served ${total(green)} request\\(s\\) \\(200: ${green[200] ?? 0}, 424: ${green[424]}\\), p95 [\\d.]+ ms, p99 [\\d.]+ ms → PASSED: no worse than production: error share ${share(green)}% ≤ production's ${share(blue)}% \\(blue: ${blue[424]} of ${total(blue)} request\\(s\\), the same window\\) \\+ maxFailurePercent 15%`,
        ),
        explain(r),
      );
      assert.match(r.summaries.join('\n'), /\| 1: 50% \| .* PASSED: no worse than production: error share/);
      assert.deepEqual(Object.fromEntries(Object.entries(trafficOf('hflaky')).filter(([, v]) => v > 0)), {
        green: 100,
      });
    });
  });

  test('bad inputs: one line naming the input, before any metrics read', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        { endpointName: 'no-such-endpoint' },
        /^Input 'endpointName': online endpoint 'no-such-endpoint' does not exist in workspace /,
      ],
      [{ endpointName: '9bad' }, /^Input 'endpointName': '9bad' is not an online endpoint name/],
      [
        { endpointName: 'hok', deploymentName: 'nope' },
        /^Input 'deploymentName': deployment 'nope' does not exist under online endpoint 'hok'$/,
      ],
      [{ endpointName: 'hok', windowMinutes: '0' }, /^Input 'windowMinutes': /],
      [{ endpointName: 'hok', maxErrorPercent: 'lots' }, /^Input 'maxErrorPercent': /],
      [{ endpointName: 'hok', minRequests: '-1' }, /^Input 'minRequests': /],
    ];
    for (const [inputs, re] of cases) {
      const r = await health(inputs);
      assert.equal(r.result, 'Failed', JSON.stringify(inputs));
      assert.match(r.message ?? '', re, explain(r));
      assert.ok(!/\n/.test(r.message ?? ''), 'one line');
    }
  });
});
