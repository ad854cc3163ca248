// AzureMLModelDeploy@1 `alertRules`: Azure Monitor metric alert rules on the online endpoint, so that the built-in
// "Query Azure Monitor alerts" gate (classic release) or check (YAML environment) can hold the next stage while the
// endpoint misbehaves. Created after a successful rollout (and on an unchanged rerun), idempotently: a rule already as
// wanted is not written; a changed threshold, window, severity or action group updates it (PUT of the whole rule).
//
// The rules (one condition each, scope = the endpoint, metric namespace Microsoft.MachineLearningServices/workspaces/
// onlineEndpoints; metric and dimension names from Microsoft's generated reference, see src/azureml/metrics.ts):
//  - `<endpoint>-errors`: RequestsPerMinute, dimension statusCode Include 408, 424, 500, 502, 503, 504 (the failures of a
//    managed endpoint: src/azureml/metrics.ts isErrorStatus and its source, the documented codes of that table), Average
//    over the window > alertMaxErrorsPerMinute. Azure Monitor evaluates each listed value as its own time series and
//    alerts per series ("Monitor multiple time series in a single metric alert rule", MicrosoftDocs/azure-monitor-docs
//    articles/azure-monitor/alerts/alerts-metric-multiple-time-series-single-rule.md @ 132d2c3993b13b728569b8edd17569d6b52d4bff).
//    A metric alert compares one aggregated metric with a constant: it cannot divide errors by requests, so this rule
//    counts error answers per minute, not a share (the share is AzureMLEndpointHealth@1's job).
//  - `<endpoint>-p95-latency`: RequestLatency_P95, Average over the window > alertMaxP95Ms (default: maxP95Ms).
// RequestsPerMinute and RequestLatency_P95 publish the Average aggregation only (same reference), hence `Average`.
// Evaluated every minute (PT1M) over `alertWindowMinutes`; autoMitigate: the alert resolves when the condition clears.
import { InputError } from '../../pipeline';
import { ONLINE_ENDPOINT_NAMESPACE, type MetricAlertResource, type StaticCriterion } from '../../azureml/alerts';
import { mdEscape } from '../markdown';
import type { Log } from '../../log';

export const ALERT_RULE_CHOICES = ['none', 'errorRate', 'latency', 'both'] as const;
export type AlertRuleChoice = (typeof ALERT_RULE_CHOICES)[number];
export const ALERT_WINDOWS = [5, 15, 30, 60] as const;
export const ERROR_STATUS_CODES = ['408', '424', '500', '502', '503', '504'];

export interface AlertInputs {
  alertRules: AlertRuleChoice;
  /** error answers per minute (average over the window) above which the errors rule fires */
  alertMaxErrorsPerMinute: number;
  alertMaxP95Ms?: number;
  alertWindowMinutes: number;
  alertSeverity: number;
  /** ARM id of an action group to notify; empty: the rule keeps the actions it has */
  alertActionGroup?: string;
}

const ACTION_GROUP_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/microsoft\.insights\/actionGroups\/[^/]+$/i;

/** Checks the alert inputs (no I/O); undefined when no rule is wanted. `maxP95Ms`: the rollout's latency threshold. */
export function checkAlertInputs(
  i: AlertInputs,
  o: { maxP95Ms?: number; endpointType?: string },
): AlertInputs | undefined {
  if (i.alertRules === 'none') return undefined;
  if (o.endpointType === 'kubernetes') {
    throw new InputError(
      'alertRules',
      'Kubernetes (AKS/Arc) online endpoints publish no Azure Monitor request metrics, so a metric alert rule on one could never fire; use none (the rollout probes judge these endpoints)',
    );
  }
  if (!(ALERT_WINDOWS as readonly number[]).includes(i.alertWindowMinutes))
    throw new InputError('alertWindowMinutes', `must be one of ${ALERT_WINDOWS.join(', ')}`);
  if (!Number.isInteger(i.alertSeverity) || i.alertSeverity < 0 || i.alertSeverity > 4)
    throw new InputError('alertSeverity', 'must be 0, 1, 2, 3 or 4');
  if (!(i.alertMaxErrorsPerMinute >= 0)) throw new InputError('alertMaxErrorsPerMinute', 'must be 0 or more');
  const p95 = i.alertMaxP95Ms ?? o.maxP95Ms;
  if ((i.alertRules === 'latency' || i.alertRules === 'both') && p95 === undefined) {
    throw new InputError(
      'alertMaxP95Ms',
      `is required when alertRules is ${i.alertRules} (or set maxP95Ms, its default)`,
    );
  }
  const ag = i.alertActionGroup?.trim() || undefined;
  if (ag && !ACTION_GROUP_ID.test(ag))
    throw new InputError(
      'alertActionGroup',
      `'${ag}' is not an action group resource id (/subscriptions/<id>/resourceGroups/<group>/providers/microsoft.insights/actionGroups/<name>)`,
    );
  return { ...i, ...(p95 !== undefined ? { alertMaxP95Ms: p95 } : {}), alertActionGroup: ag };
}

export interface DesiredRule {
  name: string;
  body: MetricAlertResource;
}

/** The rules wanted for the endpoint (pure). `existingActions`: what a rule has now, kept when no action group is given. */
export function desiredRules(
  i: AlertInputs,
  endpoint: { id: string; name: string },
  existingActions: (rule: string) => MetricAlertResource['properties']['actions'] = () => undefined,
): DesiredRule[] {
  const out: DesiredRule[] = [];
  const window = `PT${i.alertWindowMinutes}M`;
  const rule = (name: string, description: string, c: StaticCriterion): DesiredRule => {
    const actions = i.alertActionGroup ? [{ actionGroupId: i.alertActionGroup }] : (existingActions(name) ?? []);
    return {
      name,
      body: {
        location: 'global',
        properties: {
          description,
          severity: i.alertSeverity,
          enabled: true,
          scopes: [endpoint.id],
          evaluationFrequency: 'PT1M',
          windowSize: window,
          criteria: { 'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria', allOf: [c] },
          autoMitigate: true,
          actions,
        },
      },
    };
  };
  if (i.alertRules === 'errorRate' || i.alertRules === 'both') {
    out.push(
      rule(
        `${endpoint.name}-errors`,
        `Azure ML online endpoint ${endpoint.name}: more than ${i.alertMaxErrorsPerMinute} error answer(s) per minute (status ${ERROR_STATUS_CODES.join(', ')}) over ${i.alertWindowMinutes} min. Written by AzureMLModelDeploy.`,
        {
          criterionType: 'StaticThresholdCriterion',
          name: 'ErrorAnswers',
          metricName: 'RequestsPerMinute',
          metricNamespace: ONLINE_ENDPOINT_NAMESPACE,
          timeAggregation: 'Average',
          dimensions: [{ name: 'statusCode', operator: 'Include', values: [...ERROR_STATUS_CODES] }],
          operator: 'GreaterThan',
          threshold: i.alertMaxErrorsPerMinute,
        },
      ),
    );
  }
  if ((i.alertRules === 'latency' || i.alertRules === 'both') && i.alertMaxP95Ms !== undefined) {
    out.push(
      rule(
        `${endpoint.name}-p95-latency`,
        `Azure ML online endpoint ${endpoint.name}: p95 request latency above ${i.alertMaxP95Ms} ms over ${i.alertWindowMinutes} min. Written by AzureMLModelDeploy.`,
        {
          criterionType: 'StaticThresholdCriterion',
          name: 'P95Latency',
          metricName: 'RequestLatency_P95',
          metricNamespace: ONLINE_ENDPOINT_NAMESPACE,
          timeAggregation: 'Average',
          dimensions: [],
          operator: 'GreaterThan',
          threshold: i.alertMaxP95Ms,
        },
      ),
    );
  }
  return out;
}

const lc = (s: unknown) => String(s ?? '').toLowerCase();

function criterionKey(c: Record<string, any>): string {
  const dims = ((c.dimensions ?? []) as Array<Record<string, any>>)
    .map((d) => `${lc(d.name)} ${lc(d.operator)} ${((d.values ?? []) as string[]).map(lc).sort().join(',')}`)
    .sort();
  return JSON.stringify([
    c.criterionType,
    c.name,
    lc(c.metricName),
    lc(c.metricNamespace),
    lc(c.timeAggregation),
    lc(c.operator),
    Number(c.threshold),
    dims,
  ]);
}

/** What differs between the rule as it is and as wanted (empty: nothing to write). Compares only what we set. */
export function ruleDifferences(have: MetricAlertResource, want: MetricAlertResource): string[] {
  const h = have.properties ?? ({} as MetricAlertResource['properties']),
    w = want.properties;
  const diffs: string[] = [];
  if ((h.description ?? '') !== (w.description ?? '')) diffs.push('description');
  if (Number(h.severity) !== w.severity) diffs.push(`severity ${h.severity} → ${w.severity}`);
  if (h.enabled !== w.enabled) diffs.push(`enabled ${h.enabled} → ${w.enabled}`);
  if ((h.scopes ?? []).map(lc).sort().join() !== w.scopes.map(lc).sort().join()) diffs.push('scope');
  if (lc(h.evaluationFrequency) !== lc(w.evaluationFrequency))
    diffs.push(`evaluation frequency ${h.evaluationFrequency} → ${w.evaluationFrequency}`);
  if (lc(h.windowSize) !== lc(w.windowSize)) diffs.push(`window ${h.windowSize} → ${w.windowSize}`);
  if ((h.autoMitigate ?? true) !== (w.autoMitigate ?? true)) diffs.push('autoMitigate');
  const hc = (h.criteria?.allOf ?? []) as Array<Record<string, any>>,
    wc = (w.criteria.allOf ?? []) as Array<Record<string, any>>;
  if (
    lc(h.criteria?.['odata.type']) !== lc(w.criteria['odata.type']) ||
    hc.map(criterionKey).sort().join('|') !== wc.map(criterionKey).sort().join('|')
  ) {
    const th =
      hc.length === 1 && wc.length === 1 && Number(hc[0].threshold) !== Number(wc[0].threshold)
        ? ` (threshold ${hc[0].threshold} → ${wc[0].threshold})`
        : '';
    diffs.push(`condition${th}`);
  }
  const ag = (a: MetricAlertResource['properties']['actions']) =>
    (a ?? [])
      .map((x) => lc(x.actionGroupId))
      .sort()
      .join();
  if (ag(h.actions) !== ag(w.actions)) diffs.push('action group');
  return diffs;
}

export interface AlertRuleOps {
  get(name: string): Promise<MetricAlertResource | undefined>;
  put(name: string, body: MetricAlertResource): Promise<MetricAlertResource>;
}

export interface AlertRuleResult {
  name: string;
  id?: string;
  action: 'created' | 'updated' | 'unchanged';
  differences: string[];
  description: string;
}

/** Creates or updates the endpoint's alert rules; a rule already as wanted is left alone. */
export async function applyAlertRules(
  i: AlertInputs,
  endpoint: { id: string; name: string },
  ops: AlertRuleOps,
  log: Pick<Log, 'info'>,
  signal?: AbortSignal,
): Promise<AlertRuleResult[]> {
  const names = desiredRules(i, endpoint).map((r) => r.name);
  const existing = new Map<string, MetricAlertResource | undefined>();
  for (const n of names) {
    signal?.throwIfAborted();
    existing.set(n, await ops.get(n));
  }
  const out: AlertRuleResult[] = [];
  for (const r of desiredRules(i, endpoint, (n) => existing.get(n)?.properties?.actions)) {
    signal?.throwIfAborted();
    const have = existing.get(r.name);
    const description = r.body.properties.description ?? '';
    if (have) {
      const d = ruleDifferences(have, r.body);
      if (!d.length) {
        log.info(`Alert rule ${r.name}: unchanged.`);
        out.push({ name: r.name, id: have.id, action: 'unchanged', differences: [], description });
        continue;
      }
      const saved = await ops.put(r.name, { ...r.body, ...(have.tags ? { tags: have.tags } : {}) });
      log.info(`Alert rule ${r.name}: updated (${d.join(', ')}).`);
      out.push({ name: r.name, id: saved?.id ?? have.id, action: 'updated', differences: d, description });
    } else {
      const saved = await ops.put(r.name, r.body);
      log.info(`Alert rule ${r.name}: created — ${description}`);
      out.push({ name: r.name, id: saved?.id, action: 'created', differences: [], description });
    }
  }
  return out;
}

export function alertRulesSummary(rs: readonly AlertRuleResult[]): string {
  const esc = mdEscape;
  return [
    '### Azure Monitor alert rules',
    '',
    '| rule | | condition |',
    '|---|---|---|',
    ...rs.map(
      (r) =>
        `| ${esc(r.name)} | ${r.action}${r.differences.length ? ` (${esc(r.differences.join(', '))})` : ''} | ${esc(r.description)} |`,
    ),
    '',
    'Hold the next stage on them with the built-in "Query Azure Monitor alerts" gate (classic release) or check (YAML environment).',
    '',
  ].join('\n');
}
