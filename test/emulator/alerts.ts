// Azure Monitor metric alert rules and the Alerts Management API of Azure-in-a-box, for online endpoints (issue 10 §3):
//
//   PUT/GET/DELETE /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Insights/metricAlerts/{rule}?api-version=2018-03-01
//   GET            /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Insights/metricAlerts?api-version=2018-03-01
//   GET            /subscriptions/{s}/providers/Microsoft.AlertsManagement/alerts[/{id}]?api-version=2019-03-01|2018-05-05&…
//
// SOURCES
//  - metric alert rules: metricAlert_API.json 2018-03-01 (test/fixtures/third-party/azure-rest-api-specs/specification/
//    monitor/…/stable/2018-03-01/, provenance in test/fixtures/third-party/README.md). Request bodies are validated
//    against it by the ARM host's swagger validator (swagger.ts loads it; armkit.ts armPreHandler). The PUT answers 200
//    with the rule (the spec's only success code: no LRO); DELETE 200, or 204 when there was no such rule (spec);
//    `autoMitigate` absent = true ("The default is true", spec); severity 0-4 and dimension operators Include/Exclude
//    (spec descriptions).
//  - how a rule is evaluated: each combination of the listed dimension values is its own time series, evaluated and
//    alerted separately; several conditions are ANDed ("Monitor multiple time series in a single metric alert rule",
//    MicrosoftDocs/azure-monitor-docs articles/azure-monitor/alerts/alerts-metric-multiple-time-series-single-rule.md @
//    132d2c3993b13b728569b8edd17569d6b52d4bff; '*' = every value, Exclude = every other value, same page).
//  - metric values: the same record and per-minute samples as the Metrics API (monitor.ts: what the front door really
//    served; metric and dimension names from Microsoft's reference, cited there).
//  - Alerts Management: the built-in gate/check "Query Azure Monitor alerts" (microsoft/azure-pipelines-tasks
//    Tasks/AzureMonitorV1/task.json, copied in test/fixtures/third-party/azure-pipelines-tasks/, last changed in
//    b0e99b6d8c7d1b8eba65d9ec08c118832a5635e3) sends `GET $(endpoint.url)/subscriptions/{{subscriptionId}}/providers/
//    Microsoft.AlertsManagement/alerts?api-version=2019-03-01&targetResourceGroup=…&monitorCondition=Fired&timeRange=1h
//    &alertState=Acknowledged,New&severity=Sev0,Sev1,Sev2,Sev3,Sev4[&alertRule=/subscriptions/…/resourceGroups/…/
//    providers/microsoft.insights/metricAlerts/<rule>]` and passes when `eq(count(jsonpath('$.value[*]')), 0)`.
//    (Before microsoft/azure-pipelines-tasks 97d4f5f3d7626953a0da70aabc074c5dd6911d81, 2020-07, it sent 2018-05-05.)
//    Its multi-select inputs join values with commas, so the service takes comma-separated lists for severity,
//    alertState and monitorCondition; each value is checked against the parameter's enum in AlertsManagement.json
//    2018-05-05 (copied beside the metric alert spec) and a list matches any of its values. Answers are validated
//    against that spec's `alertsList` / `alert` before they leave.
//
// ASSUMPTIONS (no recording of these services was found)
//  - evaluation happens when the Alerts Management API is read, over the window ending at that moment (the service
//    evaluates every evaluationFrequency, and its metrics arrive minutes late; the box has no ingestion delay either);
//    a series with no sample in the window does not fire. Static thresholds only (DynamicThresholdCriterion and
//    web-test criteria: 400 here).
//  - an alert instance per fired time series (rule + dimension values), named after the rule; it resolves
//    (monitorCondition Resolved) at the first evaluation where its series no longer meets the condition, when
//    autoMitigate is true; alertState stays New. monitorService 'Platform', signalType 'Metric'.
//  - the 2019-03-01 answer has the 2018-05-05 shape for what the gate reads (`value[]`); the 2019-03-01 spec was not
//    obtainable byte-exact here.
//  - `timeRange` (default 1d, spec) keeps alerts modified within it; sort by lastModifiedDateTime desc by default.
//  - a rule's scope must be an online endpoint of the box (the only resources with metrics here); errors are 400
//    BadRequest / 404 ResourceNotFound in the ARM error shape, our wording.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { EmulatorContext } from './context';
import { armError, type Req, type Res, type Router } from './http';
import {
  ONLINE_ENDPOINT_METRICS,
  METRICS_SPEC_ROOT,
  dimValue,
  isoDurationMs,
  type Dim,
  type MetricsSource,
  type ServedRecord,
} from './monitor';

export const METRIC_ALERTS_API_VERSION = '2018-03-01';
/** what the built-in gate sends today (2019-03-01) and before 2020-07 (2018-05-05) */
export const ALERTS_API_VERSIONS = ['2019-03-01', '2018-05-05'];
const ALERTS_SPEC = path.join(
  METRICS_SPEC_ROOT,
  'alertsmanagement/resource-manager/Microsoft.AlertsManagement/stable/2018-05-05/AlertsManagement.json',
);
const KIND_RULES = 'metricAlerts';
const KIND_ALERTS = 'alertInstances';
const ENDPOINT_TYPE = 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints';

interface RuleRecord {
  subscriptionId: string;
  resource: Record<string, any>;
}
interface AlertRecord {
  id: string;
  name: string;
  subscriptionId: string;
  ruleId: string;
  series: string;
  dims: Record<string, string>;
  severity: string;
  monitorCondition: 'Fired' | 'Resolved';
  alertState: 'New' | 'Acknowledged' | 'Closed';
  targetResource: string;
  targetResourceName: string;
  targetResourceGroup: string;
  targetResourceType: string;
  startDateTime: string;
  lastModifiedDateTime: string;
  monitorConditionResolvedDateTime?: string;
  value: number;
  threshold: number;
  metricName: string;
  operator: string;
  timeAggregation: string;
}

export interface AlertSources {
  /** the metrics source of an online endpoint (undefined: no such endpoint) */
  endpoint(id: string): MetricsSource | undefined;
}

const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
const bad = (message: string, code = 'BadRequest') => armError(400, code, message);

export class MetricAlerts {
  constructor(
    private readonly ctx: EmulatorContext,
    private readonly src: AlertSources,
  ) {}

  register(router: Router): void {
    const R = '/subscriptions/:sub/resourceGroups/:rg/providers/Microsoft.Insights/metricAlerts';
    router.add('GET', R, (r) => this.listRules(r));
    router.add('PUT', `${R}/:rule`, (r) => this.putRule(r));
    router.add('GET', `${R}/:rule`, (r) => this.getRule(r));
    router.add('DELETE', `${R}/:rule`, (r) => this.deleteRule(r));
    const A = '/subscriptions/:sub/providers/Microsoft.AlertsManagement/alerts';
    router.add('GET', A, (r) => this.listAlerts(r));
    router.add('GET', `${A}/:id`, (r) => this.getAlert(r));
  }

  // ------------------------------------------------------------------------------------------ rules

  private ruleId(p: Record<string, string>): string {
    return `/subscriptions/${p.sub}/resourceGroups/${p.rg}/providers/Microsoft.Insights/metricAlerts/${p.rule}`;
  }

  private scopeCheck(req: Req): Res | undefined {
    if (req.query.get('api-version') !== METRIC_ALERTS_API_VERSION) {
      return bad(
        `The api-version '${req.query.get('api-version')}' is not supported by Azure-in-a-box for Microsoft.Insights/metricAlerts (only '${METRIC_ALERTS_API_VERSION}').`,
        'InvalidApiVersionParameter',
      );
    }
    const { sub, rg } = req.params;
    if (!this.ctx.store.get('subscriptions', sub))
      return armError(404, 'SubscriptionNotFound', `The subscription '${sub}' could not be found.`);
    if (!this.ctx.store.get('resourceGroups', `/subscriptions/${sub}/resourceGroups/${rg}`))
      return armError(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
    return undefined;
  }

  private notFound(req: Req): Res {
    return armError(
      404,
      'ResourceNotFound',
      `The Resource 'Microsoft.Insights/metricAlerts/${req.params.rule}' under resource group '${req.params.rg}' was not found.`,
    );
  }

  /** service rules beyond the swagger (the swagger itself was checked by the ARM host's validator) */
  private checkRule(p: Record<string, any>): string | undefined {
    if (!Number.isInteger(p.severity) || p.severity < 0 || p.severity > 4)
      return `Severity must be 0, 1, 2, 3 or 4 (was ${p.severity}).`;
    const freq = isoDurationMs(String(p.evaluationFrequency)),
      win = isoDurationMs(String(p.windowSize));
    if (!freq || freq < 60_000)
      return `evaluationFrequency '${p.evaluationFrequency}' must be an ISO 8601 duration of at least PT1M.`;
    if (!win || win < freq)
      return `windowSize '${p.windowSize}' must be at least the evaluationFrequency '${p.evaluationFrequency}'.`;
    const kind = String(p.criteria?.['odata.type'] ?? '');
    if (kind === 'Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria')
      return 'Web test criteria are not emulated by Azure-in-a-box.';
    const scopes: string[] = p.scopes ?? [];
    if (!scopes.length) return 'scopes must name at least one resource.';
    if (kind === 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria' && scopes.length !== 1)
      return 'SingleResourceMultipleMetricCriteria takes exactly one resource in scopes.';
    if (scopes.length > 1 && (!p.targetResourceType || !p.targetResourceRegion))
      return 'targetResourceType and targetResourceRegion are required when scopes hold more than one resource.';
    for (const s of scopes)
      if (!this.src.endpoint(s))
        return `The resource '${s}' in scopes was not found (Azure-in-a-box emulates metric alerts on online endpoints only).`;
    const crits: Array<Record<string, any>> = p.criteria?.allOf ?? [];
    if (!crits.length || crits.length > 5) return 'criteria.allOf must hold 1 to 5 conditions.';
    for (const c of crits) {
      if (c.criterionType !== 'StaticThresholdCriterion')
        return `criterionType '${c.criterionType}' is not emulated by Azure-in-a-box (static thresholds only).`;
      if (c.metricNamespace && String(c.metricNamespace).toLowerCase() !== ENDPOINT_TYPE.toLowerCase())
        return `Couldn't find a metric namespace '${c.metricNamespace}' for the resource.`;
      const name = Object.keys(ONLINE_ENDPOINT_METRICS).find(
        (n) => n.toLowerCase() === String(c.metricName).toLowerCase(),
      );
      if (!name) {
        if (c.skipMetricValidation) continue;
        return `Couldn't find a metric named '${c.metricName}' for ${ENDPOINT_TYPE} (metrics: ${Object.keys(ONLINE_ENDPOINT_METRICS).join(', ')}).`;
      }
      for (const d of (c.dimensions ?? []) as Array<Record<string, any>>) {
        if (!ONLINE_ENDPOINT_METRICS[name].dims.some((x) => x.toLowerCase() === String(d.name).toLowerCase()))
          return `Metric ${name} has no dimension '${d.name}' (dimensions: ${ONLINE_ENDPOINT_METRICS[name].dims.join(', ') || 'none'}).`;
        if (!/^(Include|Exclude)$/i.test(String(d.operator)))
          return `Dimension operator '${d.operator}' is not supported (Include or Exclude).`;
        if (!Array.isArray(d.values) || !d.values.length) return `Dimension '${d.name}' needs at least one value.`;
      }
    }
    return undefined;
  }

  private putRule(req: Req): Res {
    const pre = this.scopeCheck(req);
    if (pre) return pre;
    const body = req.body as Record<string, any>;
    const problem = this.checkRule(body.properties ?? {});
    if (problem) return bad(problem);
    const id = this.ruleId(req.params);
    const prev = this.ctx.store.get<RuleRecord>(KIND_RULES, id);
    const resource = {
      id: prev?.resource.id ?? id,
      name: prev?.resource.name ?? req.params.rule,
      type: 'Microsoft.Insights/metricAlerts',
      location: body.location,
      tags: body.tags ?? {},
      properties: {
        ...body.properties,
        autoMitigate: body.properties.autoMitigate ?? true,
        lastUpdatedTime: new Date().toISOString(),
        isMigrated: false,
      },
    };
    this.ctx.store.put(KIND_RULES, id, { subscriptionId: req.params.sub, resource } satisfies RuleRecord);
    return { status: 200, body: resource };
  }

  private getRule(req: Req): Res {
    const pre = this.scopeCheck(req);
    if (pre) return pre;
    const r = this.ctx.store.get<RuleRecord>(KIND_RULES, this.ruleId(req.params));
    return r ? { status: 200, body: r.resource } : this.notFound(req);
  }

  private deleteRule(req: Req): Res {
    const pre = this.scopeCheck(req);
    if (pre) return pre;
    return { status: this.ctx.store.delete(KIND_RULES, this.ruleId(req.params)) ? 200 : 204 };
  }

  private listRules(req: Req): Res {
    const pre = this.scopeCheck(req);
    if (pre) return pre;
    const prefix = `/subscriptions/${req.params.sub}/resourceGroups/${req.params.rg}/providers/Microsoft.Insights/metricAlerts/`;
    return { status: 200, body: { value: this.ctx.store.list<RuleRecord>(KIND_RULES, prefix).map((r) => r.resource) } };
  }

  // ------------------------------------------------------------------------------------------ evaluation

  /** Evaluates every enabled rule of the subscription now and updates the alert instances. */
  evaluate(subscriptionId: string, now = Date.now()): void {
    const rules = this.ctx.store
      .list<RuleRecord>(KIND_RULES, `/subscriptions/${subscriptionId}/`)
      .filter((r) => r.resource.properties?.enabled);
    for (const r of rules) {
      const p = r.resource.properties;
      const firing = evaluateRule(p, (id) => this.src.endpoint(id), now);
      const open = this.ctx.store
        .list<AlertRecord>(KIND_ALERTS)
        .filter(
          (a) => a.ruleId.toLowerCase() === String(r.resource.id).toLowerCase() && a.monitorCondition === 'Fired',
        );
      for (const s of firing) {
        if (open.some((a) => a.series === s.key)) continue;
        const alertId = `/subscriptions/${subscriptionId}/providers/Microsoft.AlertsManagement/alerts/${randomUUID()}`;
        const target = s.resource;
        const rg = /\/resourceGroups\/([^/]+)/i.exec(target)?.[1] ?? '';
        const rec: AlertRecord = {
          id: alertId,
          name: String(r.resource.name),
          subscriptionId,
          ruleId: String(r.resource.id),
          series: s.key,
          dims: s.dims,
          severity: `Sev${p.severity}`,
          monitorCondition: 'Fired',
          alertState: 'New',
          targetResource: target,
          targetResourceName: target.split('/').pop()!,
          targetResourceGroup: rg,
          targetResourceType: ENDPOINT_TYPE.toLowerCase(),
          startDateTime: iso(now),
          lastModifiedDateTime: iso(now),
          value: s.value,
          threshold: s.threshold,
          metricName: s.metricName,
          operator: s.operator,
          timeAggregation: s.timeAggregation,
        };
        this.ctx.store.put(KIND_ALERTS, alertId, rec);
      }
      if (p.autoMitigate === false) continue;
      for (const a of open) {
        if (firing.some((s) => s.key === a.series)) continue;
        this.ctx.store.put(KIND_ALERTS, a.id, {
          ...a,
          monitorCondition: 'Resolved',
          monitorConditionResolvedDateTime: iso(now),
          lastModifiedDateTime: iso(now),
        } satisfies AlertRecord);
      }
    }
  }

  // ------------------------------------------------------------------------------------------ Alerts Management

  private alertsPre(req: Req): Res | undefined {
    const v = req.query.get('api-version');
    if (!v || !ALERTS_API_VERSIONS.includes(v)) {
      return bad(
        `The api-version '${v}' is not supported by Azure-in-a-box for Microsoft.AlertsManagement/alerts (${ALERTS_API_VERSIONS.join(', ')}).`,
        'InvalidApiVersionParameter',
      );
    }
    if (!this.ctx.store.get('subscriptions', req.params.sub))
      return armError(404, 'SubscriptionNotFound', `The subscription '${req.params.sub}' could not be found.`);
    return undefined;
  }

  private listAlerts(req: Req): Res {
    const pre = this.alertsPre(req);
    if (pre) return pre;
    const spec = alertsSpec();
    const q = req.query;
    // enum filters: comma-separated lists, each value checked against the spec's enum (case-insensitive)
    const lists: Record<string, string[] | undefined> = {};
    for (const [param, key] of [
      ['monitorService', 'monitorService'],
      ['monitorCondition', 'monitorCondition'],
      ['severity', 'severity'],
      ['alertState', 'alertState'],
      ['timeRange', 'timeRange'],
      ['sortBy', 'alertsSortBy'],
      ['sortOrder', 'sortOrder'],
    ] as const) {
      const raw = q.get(param);
      if (raw === null) continue;
      const allowed: string[] = spec.doc.parameters[key].enum;
      const values = raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      for (const v of values)
        if (!allowed.some((a) => a.toLowerCase() === v.toLowerCase()))
          return bad(`Invalid value '${v}' for ${param}: one of ${allowed.join(', ')}.`);
      lists[param] = values.map((v) => allowed.find((a) => a.toLowerCase() === v.toLowerCase())!);
    }
    for (const b of ['includeContext', 'includeEgressConfig']) {
      const v = q.get(b);
      if (v !== null && !/^(true|false)$/i.test(v)) return bad(`${b} must be true or false.`);
    }
    const includeContext = /^true$/i.test(q.get('includeContext') ?? '');
    const pageRaw = q.get('pageCount');
    const pageCount = pageRaw === null ? 25 : Number(pageRaw);
    if (!Number.isInteger(pageCount) || pageCount < 1 || pageCount > (includeContext ? 25 : 250))
      return bad(`pageCount must be between 1 and ${includeContext ? 25 : 250}.`);
    if (q.get('timeRange') !== null && q.get('customTimeRange') !== null)
      return bad('Either timeRange or customTimeRange could be used but not both.');
    const now = Date.now();
    let from = now - 86_400_000,
      to = Infinity;
    if (lists.timeRange)
      from =
        now - ({ '1h': 1, '1d': 24, '7d': 168, '30d': 720 } as Record<string, number>)[lists.timeRange[0]] * 3_600_000;
    const custom = q.get('customTimeRange');
    if (custom) {
      const [a, b] = custom.split('/');
      from = Date.parse(a ?? '');
      to = Date.parse(b ?? '');
      if (Number.isNaN(from) || Number.isNaN(to) || from > to)
        return bad(`Invalid customTimeRange '${custom}': <start ISO 8601>/<end ISO 8601>.`);
    }

    this.evaluate(req.params.sub, now);
    const eq = (a: string | null, b: string) => a === null || a.toLowerCase() === b.toLowerCase();
    const inList = (l: string[] | undefined, v: string) => !l || l.includes(v);
    let items = this.ctx.store
      .list<AlertRecord>(KIND_ALERTS)
      .filter(
        (a) =>
          a.subscriptionId.toLowerCase() === req.params.sub.toLowerCase() &&
          eq(q.get('targetResource'), a.targetResource) &&
          eq(q.get('targetResourceType'), a.targetResourceType) &&
          eq(q.get('targetResourceGroup'), a.targetResourceGroup) &&
          eq(q.get('alertRule'), a.ruleId) &&
          q.get('smartGroupId') === null &&
          inList(lists.monitorService, 'Platform') &&
          inList(lists.monitorCondition, a.monitorCondition) &&
          inList(lists.severity, a.severity) &&
          inList(lists.alertState, a.alertState) &&
          Date.parse(a.lastModifiedDateTime) >= from - 999 &&
          Date.parse(a.lastModifiedDateTime) <= to,
      );
    const sortBy = lists.sortBy?.[0] ?? 'lastModifiedDateTime';
    const desc = (lists.sortOrder?.[0] ?? (/DateTime$/.test(sortBy) ? 'desc' : 'asc')) === 'desc';
    const keyOf = (a: AlertRecord) =>
      String(sortBy === 'name' ? a.name : ((a as unknown as Record<string, unknown>)[sortBy] ?? ''));
    items = items.sort((x, y) => (desc ? -1 : 1) * keyOf(x).localeCompare(keyOf(y)));
    const skip = Number(q.get('$skipToken') ?? 0) || 0;
    const page = items.slice(skip, skip + pageCount).map((a) => this.view(a, includeContext));
    const body: Record<string, unknown> = { value: page };
    if (skip + pageCount < items.length) {
      const next = new URL(req.url.toString());
      next.searchParams.set('$skipToken', String(skip + pageCount));
      body.nextLink = `${this.ctx.armUrl.replace(/\/+$/, '')}${next.pathname}${next.search}`;
    }
    assertValid(spec.list, body, 'alertsList');
    return { status: 200, body };
  }

  private getAlert(req: Req): Res {
    const pre = this.alertsPre(req);
    if (pre) return pre;
    this.evaluate(req.params.sub);
    const a = this.ctx.store.get<AlertRecord>(
      KIND_ALERTS,
      `/subscriptions/${req.params.sub}/providers/Microsoft.AlertsManagement/alerts/${req.params.id}`,
    );
    if (!a) return armError(404, 'ResourceNotFound', `The alert '${req.params.id}' was not found.`);
    const body = this.view(a, true);
    assertValid(alertsSpec().one, body, 'alert');
    return { status: 200, body };
  }

  private view(a: AlertRecord, context: boolean): Record<string, unknown> {
    return {
      id: a.id,
      type: 'Microsoft.AlertsManagement/alerts',
      name: a.name,
      properties: {
        essentials: {
          severity: a.severity,
          signalType: 'Metric',
          alertState: a.alertState,
          monitorCondition: a.monitorCondition,
          monitorService: 'Platform',
          targetResource: a.targetResource,
          targetResourceName: a.targetResourceName,
          targetResourceGroup: a.targetResourceGroup,
          targetResourceType: a.targetResourceType,
          alertRule: a.ruleId,
          sourceCreatedId: a.id.split('/').pop(),
          startDateTime: a.startDateTime,
          lastModifiedDateTime: a.lastModifiedDateTime,
          ...(a.monitorConditionResolvedDateTime
            ? { monitorConditionResolvedDateTime: a.monitorConditionResolvedDateTime }
            : {}),
          lastModifiedUserName: 'System',
        },
        ...(context
          ? {
              context: {
                condition: {
                  metricName: a.metricName,
                  dimensions: a.dims,
                  operator: a.operator,
                  threshold: a.threshold,
                  timeAggregation: a.timeAggregation,
                  metricValue: a.value,
                },
              },
            }
          : {}),
      },
    };
  }
}

// -------------------------------------------------------------------------------------------- evaluation (pure)

export interface FiringSeries {
  key: string;
  resource: string;
  dims: Record<string, string>;
  value: number;
  threshold: number;
  metricName: string;
  operator: string;
  timeAggregation: string;
}

const OPS: Record<string, (v: number, t: number) => boolean> = {
  equals: (v, t) => v === t,
  greaterthan: (v, t) => v > t,
  greaterthanorequal: (v, t) => v >= t,
  lessthan: (v, t) => v < t,
  lessthanorequal: (v, t) => v <= t,
};

/** The time series of a rule that meet its condition(s) at `now` (window = windowSize ending now). */
export function evaluateRule(
  p: Record<string, any>,
  source: (id: string) => MetricsSource | undefined,
  now: number,
): FiringSeries[] {
  const win = isoDurationMs(String(p.windowSize)) ?? 300_000;
  const crits: Array<Record<string, any>> = p.criteria?.allOf ?? [];
  const out: FiringSeries[] = [];
  for (const scope of (p.scopes ?? []) as string[]) {
    const src = source(scope);
    if (!src || src.kubernetes) continue;
    const records = src.served.filter(
      (r) => r.endpointId.toLowerCase() === scope.toLowerCase() && r.time > now - win && r.time <= now,
    );
    const perCriterion = crits.map((c) => seriesMeeting(c, records));
    if (crits.length === 1) {
      for (const s of perCriterion[0])
        out.push({ ...s, key: `${scope.toLowerCase()}|${JSON.stringify(s.dims)}`, resource: scope });
    } else if (perCriterion.every((l) => l.length)) {
      const first = perCriterion[0][0];
      out.push({ ...first, key: scope.toLowerCase(), resource: scope, dims: {} });
    }
  }
  return out;
}

function seriesMeeting(c: Record<string, any>, records: ServedRecord[]): Array<Omit<FiringSeries, 'key' | 'resource'>> {
  const name = Object.keys(ONLINE_ENDPOINT_METRICS).find((n) => n.toLowerCase() === String(c.metricName).toLowerCase());
  const def = name ? ONLINE_ENDPOINT_METRICS[name] : undefined;
  const cmp = OPS[String(c.operator).toLowerCase()];
  if (!def?.sample || !cmp) return [];
  const dims = ((c.dimensions ?? []) as Array<{ name: string; operator: string; values: string[] }>)
    .map((d) => ({
      dim: def.dims.find((x) => x.toLowerCase() === d.name.toLowerCase()) as Dim,
      include: !/^exclude$/i.test(d.operator),
      values: d.values.map((v) => v.toLowerCase()),
    }))
    .filter((d) => d.dim);
  const groups = new Map<string, { dims: Record<string, string>; rs: ServedRecord[] }>();
  for (const r of records) {
    const meta: Record<string, string> = {};
    let ok = true;
    for (const d of dims) {
      const v = dimValue(r, d.dim);
      if (v === undefined) {
        ok = false;
        break;
      }
      const listed = d.values.includes('*') || d.values.includes(v.toLowerCase());
      if (d.include ? !listed : d.values.includes(v.toLowerCase())) {
        ok = false;
        break;
      }
      meta[d.dim] = v;
    }
    if (!ok) continue;
    const k = JSON.stringify(meta);
    const g = groups.get(k) ?? { dims: meta, rs: [] };
    g.rs.push(r);
    groups.set(k, g);
  }
  const out: Array<Omit<FiringSeries, 'key' | 'resource'>> = [];
  for (const g of groups.values()) {
    const perMinute = new Map<number, ServedRecord[]>();
    for (const r of g.rs) {
      const m = Math.floor(r.time / 60_000);
      perMinute.set(m, [...(perMinute.get(m) ?? []), r]);
    }
    const samples = [...perMinute.values()].map((rs) => def.sample!(rs));
    if (!samples.length) continue;
    const agg = String(c.timeAggregation).toLowerCase();
    const value =
      agg === 'total'
        ? samples.reduce((a, b) => a + b, 0)
        : agg === 'count'
          ? samples.length
          : agg === 'minimum'
            ? Math.min(...samples)
            : agg === 'maximum'
              ? Math.max(...samples)
              : samples.reduce((a, b) => a + b, 0) / samples.length;
    const threshold = Number(c.threshold);
    if (cmp(value, threshold))
      out.push({
        dims: g.dims,
        value: Math.round(value * 1000) / 1000,
        threshold,
        metricName: name!,
        operator: String(c.operator),
        timeAggregation: String(c.timeAggregation),
      });
  }
  return out;
}

// -------------------------------------------------------------------------------------------- validation (swagger)

let compiled: { doc: any; list: ValidateFunction; one: ValidateFunction } | undefined;
function alertsSpec(): { doc: any; list: ValidateFunction; one: ValidateFunction } {
  if (compiled) return compiled;
  if (!fs.existsSync(ALERTS_SPEC)) throw new Error(`alerts: missing spec file ${ALERTS_SPEC}`);
  const doc = JSON.parse(fs.readFileSync(ALERTS_SPEC, 'utf8'));
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  for (const f of ['int32', 'int64', 'double', 'float', 'duration']) ajv.addFormat(f, true);
  const href = pathToFileURL(ALERTS_SPEC).href;
  ajv.addSchema({ ...doc, $id: href });
  compiled = {
    doc,
    list: ajv.compile({ $ref: `${href}#/definitions/alertsList` }),
    one: ajv.compile({ $ref: `${href}#/definitions/alert` }),
  };
  return compiled;
}

function assertValid(v: ValidateFunction, body: unknown, what: string): void {
  if (v(body)) return;
  throw new Error(
    `emulator bug: an Alerts Management answer the 2018-05-05 swagger rejects (${what}): ${(v.errors ?? []).map((e) => `${e.instancePath || 'body'}: ${e.message}`).join('; ')}`,
  );
}

/** module hook: the online-endpoints module registers the alert routes with its front door's record (arm/endpoints.ts) */
export function registerMetricAlerts(router: Router, ctx: EmulatorContext, src: AlertSources): MetricAlerts {
  const m = new MetricAlerts(ctx, src);
  m.register(router);
  return m;
}
