// AzureMLEndpointHealth@1: judge a managed online endpoint (or one of its deployments) by its own Azure Monitor metrics
// over the last `windowMinutes`: requests by status code, the error share, p95/p99 latency. Passes or fails with
// the evidence in the log, the summary and output variables; changes nothing in Azure. Meant as the gate before a
// production stage (classic release) or a deployment job (YAML): see the README section "Gating a release on endpoint health".
//
// Verdict rules (first that applies):
//  1. fewer than `minRequests` requests in the window → inconclusive, and the task FAILS: "could not measure" is not
//     "healthy" (as the deploy task's analysis stops a rollout on an inconclusive step, src/tasks/deploy/analysis.ts).
//     Raise traffic, widen `windowMinutes`, or set minRequests 0 to accept an idle endpoint.
//  2. error share > maxErrorPercent → failed. Errors: every 5xx, 424 (model error) and 408 (request timeout), the
//     deployment's failures of a managed endpoint (src/azureml/metrics.ts isErrorStatus, with its source); a 5xx-only
//     count would miss model errors, which the front door answers as 424.
//  3. p95 (worst minute) > maxP95Ms → failed;  4. p99 (worst minute) > maxP99Ms → failed.
//  5. else passed.
// Kubernetes (AKS/Arc) endpoints publish none of these metrics: the task fails and says the deploy task's probes judge them.
import type { OnlineDeployment, OnlineEndpoint } from '@azure/arm-machinelearning';
import { InputError, UserError } from '../pipeline';
import { getWorkspace, type AzureMLContext, type WorkspaceRef } from '../azureml';
import { ONLINE_NAME_PATTERN, endpointInfo, getDeployment, getEndpoint } from '../azureml/endpoints';
import { readEndpointHealth, type EndpointHealth } from '../azureml/metrics';
import type { Verdict } from './deploy/analysis';
import { mdEscape } from './markdown';
import type { Log } from '../log';

export interface HealthInputs {
  endpointName: string;
  deploymentName?: string;
  windowMinutes: number;
  maxErrorPercent: number;
  maxP95Ms?: number;
  maxP99Ms?: number;
  minRequests: number;
}

export const DEFAULTS = { windowMinutes: 15, maxErrorPercent: 1, minRequests: 10 } as const;
/** a gate looks at the recent past: up to one day */
export const MAX_WINDOW_MINUTES = 1440;

/** Checks the inputs (no I/O); InputError naming the input. */
export function checkInputs(i: HealthInputs): HealthInputs {
  const ep = (i.endpointName ?? '').trim();
  if (!ep) throw new InputError('endpointName', 'is required');
  if (!ONLINE_NAME_PATTERN.test(ep))
    throw new InputError(
      'endpointName',
      `'${ep}' is not an online endpoint name (3-32 letters, digits and '-', starting with a letter, ending with a letter or digit)`,
    );
  const dep = (i.deploymentName ?? '').trim() || undefined;
  if (dep && !ONLINE_NAME_PATTERN.test(dep))
    throw new InputError(
      'deploymentName',
      `'${dep}' is not a deployment name (3-32 letters, digits and '-', starting with a letter, ending with a letter or digit)`,
    );
  return { ...i, endpointName: ep, ...(dep ? { deploymentName: dep } : { deploymentName: undefined }) };
}

export interface HealthJudgement {
  verdict: Verdict;
  rule: string;
}

/** The verdict and the rule that decided it (pure). */
export function judgeHealth(h: EndpointHealth, i: HealthInputs): HealthJudgement {
  if (h.requests < i.minRequests) {
    return {
      verdict: 'inconclusive',
      rule: `${h.requests} request(s) in the last ${i.windowMinutes} min < minRequests ${i.minRequests}: too few to judge`,
    };
  }
  const pct = h.errorPercent ?? 0;
  if (h.requests > 0 && pct > i.maxErrorPercent) {
    return {
      verdict: 'failed',
      rule: `error share ${pct} % (${h.errors} of ${h.requests} requests answered 5xx, 424 or 408) > maxErrorPercent ${i.maxErrorPercent} %`,
    };
  }
  if (i.maxP95Ms !== undefined && h.p95Ms !== undefined && h.p95Ms > i.maxP95Ms)
    return { verdict: 'failed', rule: `p95 latency ${h.p95Ms} ms > maxP95Ms ${i.maxP95Ms} ms` };
  if (i.maxP99Ms !== undefined && h.p99Ms !== undefined && h.p99Ms > i.maxP99Ms)
    return { verdict: 'failed', rule: `p99 latency ${h.p99Ms} ms > maxP99Ms ${i.maxP99Ms} ms` };
  const parts = [`error share ${pct} % ≤ ${i.maxErrorPercent} %`];
  if (i.maxP95Ms !== undefined) parts.push(`p95 ${h.p95Ms ?? 'n/a'} ms ≤ ${i.maxP95Ms} ms`);
  if (i.maxP99Ms !== undefined) parts.push(`p99 ${h.p99Ms ?? 'n/a'} ms ≤ ${i.maxP99Ms} ms`);
  return { verdict: 'passed', rule: parts.join(', ') };
}

export interface HealthOps {
  getWorkspace(): Promise<unknown>;
  getEndpoint(name: string): Promise<OnlineEndpoint | undefined>;
  getDeployment(endpoint: string, name: string): Promise<OnlineDeployment | undefined>;
  readHealth(endpoint: string, o: { deployment?: string; windowMinutes: number }): Promise<EndpointHealth>;
}

export function azureOps(ctx: AzureMLContext): HealthOps {
  return {
    getWorkspace: () => getWorkspace(ctx),
    getEndpoint: (n) => getEndpoint(ctx, n),
    getDeployment: (e, n) => getDeployment(ctx, e, n),
    readHealth: (e, o) => readEndpointHealth(ctx, e, o),
  };
}

export interface HealthResult {
  inputs: HealthInputs;
  health: EndpointHealth;
  judgement: HealthJudgement;
}

/** Reads and judges; throws UserError for a Kubernetes endpoint or an unknown endpoint/deployment. */
export async function checkEndpointHealth(
  raw: HealthInputs,
  ws: WorkspaceRef,
  ops: HealthOps,
  log: Pick<Log, 'info'>,
): Promise<HealthResult> {
  const i = checkInputs(raw);
  await ops.getWorkspace();
  const ep = await ops.getEndpoint(i.endpointName);
  if (!ep)
    throw new InputError(
      'endpointName',
      `online endpoint '${i.endpointName}' does not exist in workspace '${ws.workspace}'`,
    );
  const info = endpointInfo(ep);
  if (info.kind === 'Kubernetes') {
    throw new UserError(
      `Endpoint '${i.endpointName}' is a Kubernetes (AKS/Arc) online endpoint: Azure Monitor publishes no request metrics for it, so this task cannot judge it; the deploy task's probes (AzureMLModelDeploy smoke test and traffic-step checks) judge Kubernetes rollouts`,
    );
  }
  if (i.deploymentName && !(await ops.getDeployment(i.endpointName, i.deploymentName))) {
    throw new InputError(
      'deploymentName',
      `deployment '${i.deploymentName}' does not exist under online endpoint '${i.endpointName}'`,
    );
  }
  const scope = `endpoint '${i.endpointName}'${i.deploymentName ? ` deployment '${i.deploymentName}'` : ''}`;
  log.info(`Reading Azure Monitor metrics of ${scope} for the last ${i.windowMinutes} min`);
  const health = await ops.readHealth(i.endpointName, {
    ...(i.deploymentName ? { deployment: i.deploymentName } : {}),
    windowMinutes: i.windowMinutes,
  });
  return { inputs: i, health, judgement: judgeHealth(health, i) };
}

/** One line of evidence (log and failure message). */
export function describeHealth(h: EndpointHealth): string {
  const codes =
    Object.keys(h.byStatus)
      .sort()
      .map((k) => `${k}: ${h.byStatus[k]}`)
      .join(', ') || 'none';
  return (
    `requests ${h.requests} (${codes}); errors (5xx, 424, 408) ${h.errors}${h.errorPercent !== undefined ? ` = ${h.errorPercent} %` : ''}; ` +
    `p95 ${h.p95Ms ?? 'n/a'} ms; p99 ${h.p99Ms ?? 'n/a'} ms; ${h.activeMinutes} minute(s) with traffic`
  );
}

export function healthSummary(r: HealthResult): string {
  const esc = mdEscape;
  const h = r.health,
    i = r.inputs;
  const scope = `${esc(i.endpointName)}${i.deploymentName ? ` / ${esc(i.deploymentName)}` : ''}`;
  const lines = [
    `### Endpoint health ${scope}: ${r.judgement.verdict}`,
    '',
    `${esc(r.judgement.rule)}`,
    '',
    '| | value | limit |',
    '|---|---:|---:|',
    `| Window | ${h.windowStart.toISOString()} – ${h.windowEnd.toISOString()} | ${i.windowMinutes} min |`,
    `| Requests | ${h.requests} | ≥ ${i.minRequests} |`,
    ...Object.keys(h.byStatus)
      .sort()
      .map((k) => `| status ${esc(k)} | ${h.byStatus[k]} | |`),
    `| Errors (5xx, 424, 408) | ${h.errors} | |`,
    `| Error share | ${h.errorPercent !== undefined ? `${h.errorPercent} %` : 'n/a'} | ≤ ${i.maxErrorPercent} % |`,
    `| p95 latency (worst minute) | ${h.p95Ms !== undefined ? `${h.p95Ms} ms` : 'n/a'} | ${i.maxP95Ms !== undefined ? `≤ ${i.maxP95Ms} ms` : ''} |`,
    `| p99 latency (worst minute) | ${h.p99Ms !== undefined ? `${h.p99Ms} ms` : 'n/a'} | ${i.maxP99Ms !== undefined ? `≤ ${i.maxP99Ms} ms` : ''} |`,
    '',
    'Source: Azure Monitor metrics RequestsPerMinute (split by statusCode), RequestLatency_P95, RequestLatency_P99.',
  ];
  return lines.join('\n') + '\n';
}
