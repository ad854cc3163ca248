// The deploy task's alert rules (src/tasks/deploy/alerts.ts), the box's rule evaluation (test/emulator/alerts.ts) and
// the built-in gate's URL (test/helpers/azureMonitorGate.ts): the arithmetic and the comparisons, without a box.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyAlertRules,
  checkAlertInputs,
  desiredRules,
  ruleDifferences,
  type AlertInputs,
} from '../../src/tasks/deploy/alerts';
import type { MetricAlertResource } from '../../src/azureml/alerts';
import { validateRequest } from '../emulator/swagger';
import { evaluateRule } from '../emulator/alerts';
import type { ServedRecord } from '../emulator/monitor';
import { gateUrl } from '../helpers/azureMonitorGate';

const EP = {
  id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/onlineEndpoints/ep',
  name: 'ep',
};
const BASE: AlertInputs = {
  alertRules: 'both',
  alertMaxErrorsPerMinute: 0,
  alertMaxP95Ms: 300,
  alertWindowMinutes: 5,
  alertSeverity: 2,
};
const RULE_PATH = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/metricAlerts/ep-errors';

describe('alert inputs', () => {
  test('none: no rules; latency needs a limit (its own or maxP95Ms); bad values name the input', () => {
    assert.equal(checkAlertInputs({ ...BASE, alertRules: 'none' }, {}), undefined);
    assert.equal(checkAlertInputs({ ...BASE, alertMaxP95Ms: undefined }, { maxP95Ms: 800 })!.alertMaxP95Ms, 800);
    assert.throws(
      () => checkAlertInputs({ ...BASE, alertRules: 'latency', alertMaxP95Ms: undefined }, {}),
      /^InputError: Input 'alertMaxP95Ms': is required when alertRules is latency/,
    );
    assert.equal(
      checkAlertInputs({ ...BASE, alertRules: 'errorRate', alertMaxP95Ms: undefined }, {})!.alertRules,
      'errorRate',
    );
    assert.throws(
      () => checkAlertInputs({ ...BASE, alertWindowMinutes: 7 }, {}),
      /Input 'alertWindowMinutes': must be one of 5, 15, 30, 60/,
    );
    assert.throws(() => checkAlertInputs({ ...BASE, alertSeverity: 5 }, {}), /Input 'alertSeverity'/);
    assert.throws(() => checkAlertInputs(BASE, { endpointType: 'kubernetes' }), /Input 'alertRules': Kubernetes/);
    assert.throws(
      () =>
        checkAlertInputs(
          { ...BASE, alertActionGroup: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/x' },
          {},
        ),
      /Input 'alertActionGroup'/,
    );
    assert.ok(
      checkAlertInputs(
        {
          ...BASE,
          alertActionGroup: '/subscriptions/s/resourceGroups/rg/providers/microsoft.insights/actionGroups/oncall',
        },
        {},
      ),
    );
  });
});

describe('the rules', () => {
  test('both bodies are valid MetricAlerts_CreateOrUpdate requests of the 2018-03-01 swagger (unknown members refused)', () => {
    const rules = desiredRules(
      {
        ...BASE,
        alertActionGroup: '/subscriptions/s/resourceGroups/rg/providers/microsoft.insights/actionGroups/oncall',
      },
      EP,
    );
    assert.deepEqual(
      rules.map((r) => r.name),
      ['ep-errors', 'ep-p95-latency'],
    );
    for (const r of rules) {
      const v = validateRequest(
        'PUT',
        RULE_PATH.replace('ep-errors', r.name),
        { 'api-version': '2018-03-01' },
        r.body,
        { rejectUnknownMembers: true },
      );
      assert.deepEqual(v, { operationId: 'MetricAlerts_CreateOrUpdate', errors: [] }, r.name);
    }
    // the validator does refuse a broken one (so the check above can fail)
    const broken = JSON.parse(JSON.stringify(rules[0].body));
    broken.properties.criteria.allOf[0].operator = 'Above';
    assert.match(
      validateRequest('PUT', RULE_PATH, { 'api-version': '2018-03-01' }, broken)!.errors.join(),
      /operator: 'Above' must be one of/,
    );
  });

  test('differences: the service echo (read-only fields, tags, id casing) is no change; thresholds, window, severity, action group are', () => {
    const want = desiredRules(BASE, EP)[0].body;
    const echo: MetricAlertResource = JSON.parse(
      JSON.stringify({ ...want, id: RULE_PATH, tags: { 'hidden-link:x': 'Resource' } }),
    );
    Object.assign(echo.properties, {
      lastUpdatedTime: '2026-01-01T00:00:00Z',
      isMigrated: false,
      scopes: [EP.id.toLowerCase()],
    });
    (echo.properties.criteria.allOf![0] as any).dimensions[0].values.reverse();
    assert.deepEqual(ruleDifferences(echo, want), []);
    assert.deepEqual(ruleDifferences(echo, desiredRules({ ...BASE, alertMaxErrorsPerMinute: 2 }, EP)[0].body), [
      'description',
      'condition (threshold 0 → 2)',
    ]);
    assert.deepEqual(ruleDifferences(echo, desiredRules({ ...BASE, alertWindowMinutes: 15 }, EP)[0].body), [
      'description',
      'window PT5M → PT15M',
    ]);
    assert.deepEqual(ruleDifferences(echo, desiredRules({ ...BASE, alertSeverity: 1 }, EP)[0].body), [
      'severity 2 → 1',
    ]);
    assert.deepEqual(
      ruleDifferences(
        echo,
        desiredRules(
          {
            ...BASE,
            alertActionGroup: '/subscriptions/s/resourceGroups/rg/providers/microsoft.insights/actionGroups/a',
          },
          EP,
        )[0].body,
      ),
      ['action group'],
    );
  });

  test('apply: created, then unchanged (no PUT); an action group added elsewhere is kept when none is given', async () => {
    const store = new Map<string, MetricAlertResource>();
    const puts: string[] = [];
    const ops = {
      get: async (n: string) => store.get(n) && JSON.parse(JSON.stringify(store.get(n))),
      put: async (n: string, b: MetricAlertResource) => {
        puts.push(n);
        const r = { ...b, id: `/x/${n}` };
        store.set(n, r);
        return r;
      },
    };
    const log = { info() {} };
    assert.deepEqual(
      (await applyAlertRules(BASE, EP, ops, log)).map((r) => r.action),
      ['created', 'created'],
    );
    store.get('ep-errors')!.properties.actions = [
      { actionGroupId: '/subscriptions/s/resourceGroups/rg/providers/microsoft.insights/actionGroups/portal' },
    ];
    assert.deepEqual(
      (await applyAlertRules(BASE, EP, ops, log)).map((r) => r.action),
      ['unchanged', 'unchanged'],
    );
    assert.equal(puts.length, 2);
    const upd = await applyAlertRules({ ...BASE, alertMaxP95Ms: 250 }, EP, ops, log);
    assert.deepEqual(
      upd.map((r) => r.action),
      ['unchanged', 'updated'],
    );
    assert.equal(puts.length, 3);
  });
});

describe('the box evaluates a rule from what was served', () => {
  const now = Date.UTC(2026, 0, 1, 12, 10, 30);
  const rec = (agoS: number, status: number, latencyMs = 10): ServedRecord => ({
    endpointId: EP.id,
    deployment: 'blue',
    time: now - agoS * 1000,
    status,
    latencyMs,
  });
  const src =
    (served: ServedRecord[], kubernetes = false) =>
    (id: string) =>
      id.toLowerCase() === EP.id.toLowerCase() ? { location: 'eastus', kubernetes, served } : undefined;
  const errors = (threshold: number, window = 'PT5M') => ({
    ...desiredRules({ ...BASE, alertMaxErrorsPerMinute: threshold }, EP)[0].body.properties,
    windowSize: window,
  });

  test('errors: one series per listed status code, Average of the per-minute counts, inside the window only', () => {
    // minute 12:10 (30 s): two 424, one 503; minute 12:09: one 424; 12:04 (outside PT5M): five 500
    const served = [
      rec(5, 424),
      rec(10, 424),
      rec(20, 503),
      rec(40, 424),
      rec(50, 200),
      ...[1, 2, 3, 4, 5].map(() => rec(6 * 60 + 30, 500)),
    ];
    const f = evaluateRule(errors(0), src(served), now);
    assert.deepEqual(
      f.map((s) => [s.dims, s.value]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      [
        [{ statusCode: '424' }, 1.5],
        [{ statusCode: '503' }, 1],
      ],
    );
    assert.deepEqual(
      evaluateRule(errors(1), src(served), now).map((s) => s.dims.statusCode),
      ['424'],
    );
    assert.deepEqual(evaluateRule(errors(1.5), src(served), now), []);
    assert.deepEqual(
      evaluateRule(errors(0, 'PT15M'), src(served), now)
        .map((s) => s.dims.statusCode)
        .sort(),
      ['424', '500', '503'],
    );
    assert.deepEqual(
      evaluateRule(errors(0), src([rec(5, 200), rec(9, 404)]), now),
      [],
      'no error answer: no series, no alert',
    );
    assert.deepEqual(evaluateRule(errors(0), src(served, true), now), [], 'Kubernetes endpoints publish no metrics');
  });

  test("latency: the minutes' p95 averaged; Exclude and * select series", () => {
    const lat = { ...desiredRules(BASE, EP)[1].body.properties };
    const served = [rec(5, 200, 100), rec(6, 200, 500), rec(70, 200, 200)]; // minute p95s: 500 and 200 → 350
    assert.equal(evaluateRule(lat, src(served), now)[0].value, 350);
    assert.deepEqual(
      evaluateRule(
        { ...lat, criteria: { ...lat.criteria, allOf: [{ ...lat.criteria.allOf![0], threshold: 350 }] } },
        src(served),
        now,
      ),
      [],
    );
    const excl = {
      ...errors(0),
      criteria: {
        'odata.type': 'x',
        allOf: [
          {
            ...errors(0).criteria.allOf![0],
            dimensions: [{ name: 'statusCode', operator: 'Exclude', values: ['200'] }],
          },
        ],
      },
    };
    assert.deepEqual(
      evaluateRule(excl, src([rec(5, 200), rec(6, 404)]), now).map((s) => s.dims),
      [{ statusCode: '404' }],
    );
  });
});

describe("the built-in gate's request (AzureMonitorV1 task.json template)", () => {
  const conn = { url: 'https://management.azure.com/', subscriptionId: 'sub' };
  test('defaults, by resource, by rule', () => {
    const base =
      'https://management.azure.com//subscriptions/sub/providers/Microsoft.AlertsManagement/alerts?api-version=2019-03-01&targetResourceGroup=rg&monitorCondition=Fired&timeRange=1h&alertState=Acknowledged,New&severity=Sev0,Sev1,Sev2,Sev3,Sev4';
    assert.equal(gateUrl({ ResourceGroupName: 'rg' }, conn), base);
    assert.equal(
      gateUrl({ ResourceGroupName: 'rg', filterType: 'alertrule', alertRule: 'metricAlerts/r1' }, conn),
      `${base}&alertRule=/subscriptions/sub/resourceGroups/rg/providers/microsoft.insights/metricAlerts/r1`,
    );
    assert.equal(
      gateUrl({ ResourceGroupName: 'rg', filterType: 'resource', resource: 'T/n' }, conn),
      `${base}&targetResource=/subscriptions/sub/resourcegroups/rg/providers/T/n`,
    );
    assert.equal(
      gateUrl({ ResourceGroupName: 'rg', severity: 'Sev1', timeRange: '' }, conn),
      base.replace('&timeRange=1h', '').replace(/severity=.*$/, 'severity=Sev1'),
    );
  });
});
