// Azure Monitor metric alert rules (Microsoft.Insights/metricAlerts, api-version 2018-03-01) through the task's ARM
// pipeline (same credential, audience, retries and proxy as every other ARM call: arm.ts), raw REST: no new dependency.
//
// Operations (metricAlert_API.json 2018-03-01, test/fixtures/third-party/azure-rest-api-specs/specification/monitor/
// resource-manager/Microsoft.Insights/stable/2018-03-01/, provenance in test/fixtures/third-party/README.md):
//   GET / PUT {resource group}/providers/Microsoft.Insights/metricAlerts/{ruleName}  (MetricAlerts_Get / _CreateOrUpdate;
//   the PUT is synchronous: 200 with the rule, no long-running operation)
import { armGetOptional, armRequest } from './arm';
import type { AzureMLContext } from './context';

export const METRIC_ALERTS_API_VERSION = '2018-03-01';
/** the metric namespace of an online endpoint (the resource type; Microsoft's supported-metrics reference) */
export const ONLINE_ENDPOINT_NAMESPACE = 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints';

export interface MetricDimension {
  name: string;
  operator: 'Include' | 'Exclude' | string;
  values: string[];
}
export interface StaticCriterion {
  criterionType: 'StaticThresholdCriterion';
  name: string;
  metricName: string;
  metricNamespace?: string;
  timeAggregation: 'Average' | 'Count' | 'Minimum' | 'Maximum' | 'Total';
  dimensions?: MetricDimension[];
  operator: 'Equals' | 'GreaterThan' | 'GreaterThanOrEqual' | 'LessThan' | 'LessThanOrEqual';
  threshold: number;
  skipMetricValidation?: boolean;
}
export interface MetricAlertProperties {
  description?: string;
  severity: number;
  enabled: boolean;
  scopes: string[];
  evaluationFrequency: string;
  windowSize: string;
  criteria: { 'odata.type': string; allOf?: Array<StaticCriterion | Record<string, unknown>> };
  autoMitigate?: boolean;
  actions?: Array<{ actionGroupId?: string; webHookProperties?: Record<string, string> }>;
  lastUpdatedTime?: string;
  targetResourceType?: string;
  targetResourceRegion?: string;
}
export interface MetricAlertResource {
  id?: string;
  name?: string;
  type?: string;
  location: string;
  tags?: Record<string, string>;
  properties: MetricAlertProperties;
}

/** the rule's ARM path in the workspace's resource group (where the gate's "resource group" filter looks) */
export function metricAlertPath(ctx: AzureMLContext, name: string): string {
  return `/subscriptions/${ctx.ws.subscriptionId}/resourceGroups/${ctx.ws.resourceGroup}/providers/Microsoft.Insights/metricAlerts/${encodeURIComponent(name)}`;
}

export function getMetricAlert(ctx: AzureMLContext, name: string): Promise<MetricAlertResource | undefined> {
  return armGetOptional<MetricAlertResource>(ctx, metricAlertPath(ctx, name), {
    apiVersion: METRIC_ALERTS_API_VERSION,
    what: `metric alert rule '${name}'`,
  });
}

export function putMetricAlert(
  ctx: AzureMLContext,
  name: string,
  body: MetricAlertResource,
): Promise<MetricAlertResource> {
  return armRequest<MetricAlertResource>(ctx, 'PUT', metricAlertPath(ctx, name), body, {
    apiVersion: METRIC_ALERTS_API_VERSION,
    what: `metric alert rule '${name}'`,
  });
}
