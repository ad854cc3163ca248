// AzureMLModelDeploy@1 `alertRules`, bundled, against Azure-in-a-box: the deploy task writes Azure Monitor metric alert
// rules on the endpoint (test/emulator/alerts.ts: Microsoft.Insights/metricAlerts, validated against the 2018-03-01
// spec), the box evaluates them from what its front door really served, and the built-in "Query Azure Monitor alerts"
// gate — its own task.json request and success criteria (test/helpers/azureMonitorGate.ts) — passes or holds.
//  - `aok`    managed, test/fixtures/scoring/ok                  → healthy: no alert, the gate passes
//  - `aflaky` managed, test/fixtures/scoring/flaky FAIL_PERCENT=30 → model errors (424): the errors rule fires, the gate holds
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAzureInABox, type AzureInABox } from '../emulator';
import { runBundledTask, type TaskRunWithLeaks, explainRun } from '../helpers/agent';
import { scoringWorkspace } from '../helpers/deployAnalysisScenarios';
import { runAzureMonitorGate } from '../helpers/azureMonitorGate';

const ENV = 'azureml:AzureML-sklearn-1.5:1';
const SAMPLE = '{"data": [[1, 1, 1], [0, 0, 2]]}';
let box: AzureInABox;
let cwd: string;
const endpoints: Record<string, { uri: string; key: string }> = {};

const explain = (r: TaskRunWithLeaks) => explainRun(r);

const deploy = (endpointName: string, extra: Record<string, string>) =>
  runBundledTask('AzureMLModelDeploy', {
    box,
    scheme: 'secret',
    cwd,
    timeoutMs: 120_000,
    inputs: {
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
      instanceType: 'Standard_DS3_v2',
      endpointName,
      alertRules: 'both',
      alertMaxP95Ms: '5000',
      ...extra,
    },
  });

const rules = () =>
  box.store
    .list<{ resource: { id: string; name: string; location: string; properties: any } }>('metricAlerts')
    .map((r) => r.resource);
const rulePuts = () => box.requests.filter((q) => q.method === 'PUT' && /\/metricAlerts\//i.test(q.url)).length;
const epId = (name: string) =>
  `/subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${box.workspace}/onlineEndpoints/${name}`;

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

function gate(inputs: Record<string, string>) {
  const app = box.ctx.apps().find((a) => a.clientId === box.clientId)!;
  return runAzureMonitorGate(
    { connectedServiceNameARM: 'arm', ResourceGroupName: box.resourceGroup, ...inputs },
    { url: box.armUrl, subscriptionId: box.subscriptionId, token: box.ctx.issueAccessToken(app, box.audience) },
  );
}

before(async () => {
  box = await startAzureInABox({ fastLro: true });
  cwd = await scoringWorkspace(box, 'alert-rules-e2e-');
  const runs = await Promise.all([
    deploy('aok', { codePath: 'ok' }),
    deploy('aflaky', {
      codePath: 'flaky',
      maxFailurePercent: '100',
      environmentVariables: 'FAIL_PERCENT=30, FAIL_SEED=7',
    }),
  ]);
  for (const [i, name] of ['aok', 'aflaky'].entries()) {
    assert.equal(runs[i].result, 'Succeeded', `${name}\n${explain(runs[i])}`);
    endpoints[name] = { uri: runs[i].outputs.scoringUri!, key: runs[i].outputs.endpointKey! };
    assert.match(runs[i].stdout, new RegExp(`Alert rule ${name}-errors: created`), explain(runs[i]));
    assert.deepEqual(
      runs[i].outputs.alertRuleIds?.split(',').map((s) => s.replace(/.*\//, '')),
      [`${name}-errors`, `${name}-p95-latency`],
    );
  }
});
after(async () => {
  await box?.stop();
});

describe('AzureMLModelDeploy@1 alert rules and the "Query Azure Monitor alerts" gate', () => {
  test('the rules exist on the endpoint with the right conditions', () => {
    const errors = rules().find((r) => r.name === 'aok-errors')!;
    assert.ok(errors, JSON.stringify(rules().map((r) => r.name)));
    assert.equal(
      errors.id,
      `/subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.Insights/metricAlerts/aok-errors`,
    );
    assert.equal(errors.location, 'global');
    const p = errors.properties;
    assert.deepEqual(
      [p.enabled, p.severity, p.evaluationFrequency, p.windowSize, p.autoMitigate, p.scopes],
      [true, 2, 'PT1M', 'PT5M', true, [epId('aok')]],
    );
    assert.equal(p.criteria['odata.type'], 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria');
    assert.deepEqual(p.criteria.allOf, [
      {
        criterionType: 'StaticThresholdCriterion',
        name: 'ErrorAnswers',
        metricName: 'RequestsPerMinute',
        metricNamespace: 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints',
        timeAggregation: 'Average',
        dimensions: [{ name: 'statusCode', operator: 'Include', values: ['408', '424', '500', '502', '503', '504'] }],
        operator: 'GreaterThan',
        threshold: 0,
      },
    ]);
    const lat = rules().find((r) => r.name === 'aok-p95-latency')!.properties.criteria.allOf[0];
    assert.deepEqual(
      [lat.metricName, lat.timeAggregation, lat.operator, lat.threshold],
      ['RequestLatency_P95', 'Average', 'GreaterThan', 5000],
    );
  });

  test('a deployment serving errors fires its errors rule and the gate holds; the healthy one passes', async () => {
    const flaky = await traffic('aflaky', 30);
    assert.ok((flaky[424] ?? 0) > 0, JSON.stringify(flaky));
    assert.deepEqual(await traffic('aok', 20), { 200: 20 });
    // the gate on one rule ("By alert rule"), as an approver would set it for each stage
    const held = await gate({ filterType: 'alertrule', alertRule: 'metricAlerts/aflaky-errors' });
    assert.equal(held.status, 200, JSON.stringify(held.body));
    assert.match(
      held.url,
      /\/providers\/Microsoft\.AlertsManagement\/alerts\?api-version=2019-03-01&targetResourceGroup=rg-ml&monitorCondition=Fired&timeRange=1h&alertState=Acknowledged,New&severity=Sev0,Sev1,Sev2,Sev3,Sev4&alertRule=\/subscriptions\/[^/]+\/resourceGroups\/rg-ml\/providers\/microsoft\.insights\/metricAlerts\/aflaky-errors$/,
    );
    assert.equal(held.passed, false);
    assert.equal(held.alerts, 1, 'one alert: the 424 time series (no other error code was answered)');
    const e = held.body.value[0].properties.essentials;
    assert.deepEqual(
      [e.monitorCondition, e.alertState, e.severity, e.signalType, e.targetResource.toLowerCase()],
      ['Fired', 'New', 'Sev2', 'Metric', epId('aflaky').toLowerCase()],
    );
    assert.match(e.alertRule, /\/metricAlerts\/aflaky-errors$/);
    for (const rule of ['aok-errors', 'aok-p95-latency', 'aflaky-p95-latency']) {
      const g = await gate({ filterType: 'alertrule', alertRule: `metricAlerts/${rule}` });
      assert.equal(g.passed, true, `${rule}: ${JSON.stringify(g.body)}`);
    }
    // the gate with no filter (the whole resource group): held by the one alert
    const all = await gate({});
    assert.equal(all.alerts, 1, JSON.stringify(all.body));
    // a latency limit the endpoint cannot meet: the p95 rule of the healthy endpoint fires too (changed threshold = updated rule)
    const putsBefore = rulePuts();
    const tight = await deploy('aok', { codePath: 'ok', alertMaxP95Ms: '1', alertRules: 'latency' });
    assert.equal(tight.result, 'Succeeded', explain(tight));
    assert.match(
      tight.stdout,
      /Alert rule aok-p95-latency: updated \(description, condition \(threshold 5000 → 1\)\)/,
      explain(tight),
    );
    assert.equal(rulePuts() - putsBefore, 1);
    const slow = await gate({ filterType: 'alertrule', alertRule: 'metricAlerts/aok-p95-latency' });
    assert.equal(slow.passed, false, JSON.stringify(slow.body));
  });

  test('a rerun with the same settings changes nothing', async () => {
    const putsBefore = rulePuts();
    const r = await deploy('aflaky', {
      codePath: 'flaky',
      maxFailurePercent: '100',
      environmentVariables: 'FAIL_PERCENT=30, FAIL_SEED=7',
    });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.match(r.stdout, /Alert rule aflaky-errors: unchanged\./);
    assert.match(r.stdout, /Alert rule aflaky-p95-latency: unchanged\./);
    assert.equal(rulePuts(), putsBefore, 'no rule written');
  });

  test('bad alert inputs: one line naming the input, nothing written', async () => {
    const before = box.requests.filter((q) => q.host === 'arm' && q.method !== 'GET').length;
    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        { alertRules: 'latency', alertMaxP95Ms: '' },
        /^Input 'alertMaxP95Ms': is required when alertRules is latency \(or set maxP95Ms, its default\)$/,
      ],
      [{ alertActionGroup: 'my-group' }, /^Input 'alertActionGroup': 'my-group' is not an action group resource id/],
    ];
    for (const [inputs, want] of cases) {
      const r = await deploy('aok', { codePath: 'ok', ...inputs });
      assert.equal(r.result, 'Failed', explain(r));
      assert.match(r.message ?? '', want);
    }
    assert.equal(
      box.requests.filter((q) => q.host === 'arm' && q.method !== 'GET').length,
      before,
      'no write reached Azure',
    );
  });
});
