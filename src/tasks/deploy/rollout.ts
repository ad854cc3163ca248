// Phase 4 of the deploy task: carry out the Decision. A rollout writes the endpoint and the deployment (0 % traffic),
// smoke-tests the new deployment straight (`azureml-model-deployment` header), optionally mirrors traffic to it, then
// moves traffic in steps, each judged by probes through the endpoint, its provisioningState and (managed endpoints)
// its Azure Monitor metrics. Any failure or cancellation after the first write is undone by rollback.ts; afterwards
// the deployments that lost all their traffic are optionally deleted.
import { UserError } from '../../pipeline/errors';
import { studioUrl } from '../../azureml';
import { abortableSleep } from '../../azureml/endpoints';
import { parseRegistryModelUri } from '../../azureml/registries';
import { buildOnlineEndpointBody } from '../../azureml/deploymentSpec';
import type { EndpointHealth } from '../../azureml/metrics';
import {
  MIN_PRODUCTION_REQUESTS,
  decideMetrics,
  describeAnalysis,
  productionEvidence,
  runProbes,
  stepFailure,
  type ProbeAnalysis,
  type ProductionEvidence,
} from './analysis';
import { shortModelId, type Decision } from './decide';
import { mirrorStage } from './mirror';
import { sectionOf, type Observed } from './observe';
import type { Plan } from './plan';
import { deployedInfo, writeReport } from './report';
import { rollback } from './rollback';
import { fmtTraffic, stepTraffic } from './traffic';
import type { DeployDeps, DeployInputs, DeployResult, StepRecord } from './types';

/** One run of the task: what was planned, seen and decided, the result being filled in, and what the rollback must undo. */
export interface Rollout {
  inputs: DeployInputs;
  deps: DeployDeps;
  plan: Plan;
  seen: Observed;
  d: Decision;
  result: DeployResult;
  touched: { deployment: boolean; mirror: boolean };
  /** production's metrics in the last step window where it served enough to compare with (stepMetrics) */
  production?: ProductionEvidence;
}

/** n probes with the sample request, straight at `deployment` (header) or through the endpoint (checking the body only of `checkOnlyFrom`'s answers) */
type Probe = (n: number, deployment: string | undefined, checkOnlyFrom: string | undefined) => Promise<ProbeAnalysis>;

export function startRollout(inputs: DeployInputs, deps: DeployDeps, plan: Plan, seen: Observed, d: Decision): Rollout {
  const { ws } = deps.ops;
  const epName = plan.endpointName;
  const result: DeployResult = {
    endpointName: epName,
    deploymentName: d.deploymentName,
    endpointKind: plan.endpointSpec.kind,
    authMode: d.authMode,
    modelId: shortModelId(d.modelId, d.model),
    trafficBefore: seen.trafficBefore,
    trafficAfter: { ...seen.trafficBefore },
    unchanged: false,
    endpointCreated: false,
    deploymentWritten: false,
    tagsUpdated: false,
    steps: [],
    deleted: [],
    studioUrl: studioUrl(ws, 'endpoint', epName),
    modelStudioUrl:
      d.model && !parseRegistryModelUri(d.modelId ?? '')
        ? studioUrl(ws, 'model', d.model.name, d.model.version)
        : undefined,
    scoringUri: seen.endpoint?.scoringUri,
    warnings: plan.warnings,
  };
  const { log } = deps;
  log.info(
    `Endpoint ${epName} (${plan.endpointSpec.kind.toLowerCase()}${seen.computeId ? `, compute ${seen.computeId.split('/').pop()}` : ''}): ${seen.endpoint ? `exists, traffic ${fmtTraffic(seen.trafficBefore)}` : 'will be created'}`,
  );
  log.info(
    `Deployment ${d.deploymentName}: model ${d.modelLabel}${d.existing ? `, exists (${d.existing.provisioningState}${d.same ? ', same spec' : ', will be updated'})` : ', will be created'}`,
  );
  return { inputs, deps, plan, seen, d, result, touched: { deployment: false, mirror: false } };
}

/** Already serving with 100 %: only the governance tags may change. */
export async function keepServing(r: Rollout): Promise<DeployResult> {
  const { d, result, deps } = r;
  deps.log.info(
    `Deployment ${d.deploymentName} of endpoint ${result.endpointName} is already serving model ${d.modelLabel} with 100% of the traffic: ${d.tagUpdate ? 'not redeployed, traffic unchanged' : 'nothing to change'}.`,
  );
  result.unchanged = true;
  await recordGovernance(r);
  if (d.authMode === 'Key') result.endpointKey = await deps.ops.credential(result.endpointName, d.authMode);
  return finish(r);
}

/** The rollout, with the rollback of everything it changed on any failure or cancellation. */
export async function rollOut(r: Rollout): Promise<DeployResult> {
  const { deps, result } = r;
  deps.signal?.throwIfAborted();
  try {
    await writeEndpoint(r);
    await writeDeployment(r);
    const { cred, probe } = await scoringAccess(r);
    if (probe) await smokeTest(r, probe);
    deps.progress(50, 'Smoke test passed');
    await mirror(r, cred);
    await trafficSteps(r, probe);
  } catch (err) {
    throw await rollback(r, err);
  }
  await deleteOldDeployments(r);
  deps.progress(100, 'Deployed');
  deps.log.info(
    `Deployment ${result.deploymentName} of endpoint ${result.endpointName} serves model ${r.d.modelLabel}: traffic ${fmtTraffic(result.trafficAfter)} (was ${fmtTraffic(r.seen.trafficBefore)}).`,
  );
  return finish(r);
}

async function finish(r: Rollout): Promise<DeployResult> {
  r.result.reportFile = await writeReport(r.inputs, r.result, r.d.modelLabel);
  if (r.deps.governance?.onDeployed) await r.deps.governance.onDeployed(deployedInfo(r.result));
  return r.result;
}

/** An unchanged deployment in a release: PATCH its governance tags (no redeployment). */
async function recordGovernance(r: Rollout): Promise<void> {
  const { d, deps, result } = r;
  const update = d.tagUpdate;
  if (!update) return;
  const ctx = deps.context;
  sectionOf(deps.log)(
    `Recording release ${ctx.releaseName ?? ctx.releaseId} (stage ${ctx.stageName ?? '-'}) on deployment ${d.deploymentName}`,
  );
  await deps.ops.updateDeploymentTags(result.endpointName, d.deploymentName, update);
  result.tagsUpdated = true;
  const old = d.existing!.tags;
  const changed = Object.keys(update)
    .filter((k) => old[k] !== update[k])
    .concat(Object.keys(old).filter((k) => !(k in update)));
  deps.log.info(`Deployment ${d.deploymentName} not redeployed; tags updated: ${changed.join(', ')}.`);
}

async function writeEndpoint(r: Rollout): Promise<void> {
  const { deps, result, plan, seen } = r;
  const { ops, log } = deps;
  const ep = result.endpointName;
  const change = r.d.endpoint;
  if (change && 'create' in change) {
    sectionOf(log)(`Creating online endpoint ${ep}`);
    const epBody = await buildOnlineEndpointBody(
      { ...plan.endpointSpec, name: ep, traffic: undefined },
      { location: seen.location, resolver: { computeId: async () => seen.computeId! } },
    );
    const created = await ops.createEndpoint(ep, epBody.body);
    result.endpointCreated = true;
    result.scoringUri = created.scoringUri;
    log.info(`Endpoint ${ep} created (auth mode ${created.authMode}).`);
  } else if (change) {
    sectionOf(log)(`Updating online endpoint ${ep}`);
    const upd = await ops.updateEndpoint(ep, change.update);
    result.scoringUri = upd.scoringUri ?? result.scoringUri;
    log.info(`Endpoint ${ep} updated (${Object.keys(change.update).join(', ')}).`);
  }
  deps.progress(10, 'Endpoint ready');
}

/** PUT the deployment with 0 % traffic (its assets first), or keep the same one and record the release on it. */
async function writeDeployment(r: Rollout): Promise<void> {
  const { deps, result, d } = r;
  const { ops, log } = deps;
  const dep = d.deploymentName;
  if (d.same) {
    log.info(`Deployment ${dep} already holds model ${d.modelLabel} (provisioning Succeeded): not redeployed.`);
    await recordGovernance(r);
  } else {
    sectionOf(log)(`${d.existing ? 'Updating' : 'Creating'} deployment ${dep} (model ${d.modelLabel}) with 0% traffic`);
    const pending = r.seen.resolver.pendingWrites;
    if (pending.length) log.info(`Writing ${pending.length} asset(s): ${pending.join('; ')}`);
    await r.seen.resolver.commit();
    r.touched.deployment = true;
    const t0 = Date.now();
    const written = await ops.putDeployment(result.endpointName, dep, d.body);
    result.deploymentWritten = true;
    log.info(
      `Deployment ${dep}: provisioning ${written.provisioningState ?? 'done'} in ${((Date.now() - t0) / 1000).toFixed(1)} s.`,
    );
    if (written.provisioningState && written.provisioningState !== 'Succeeded')
      throw new UserError(`Deployment ${dep} ended ${written.provisioningState}`);
  }
  r.touched.deployment = true;
  deps.progress(40, 'Deployment provisioned');
  deps.signal?.throwIfAborted();
}

/** The endpoint's credential (the key is an output) and scoring URI; the probe sender when there is a sample request. */
async function scoringAccess(r: Rollout): Promise<{ cred?: string; probe?: Probe }> {
  const { deps, result, plan, d } = r;
  const { ops, log, signal } = deps;
  const sleep = deps.sleep ?? abortableSleep;
  const cred = plan.sample || d.authMode === 'Key' ? await ops.credential(result.endpointName, d.authMode) : undefined;
  if (d.authMode === 'Key') result.endpointKey = cred;
  if (!result.scoringUri) result.scoringUri = (await ops.getEndpoint(result.endpointName))?.scoringUri;
  const sample = plan.sample;
  const uri = result.scoringUri;
  if (!sample || !cred || !uri) return { cred };
  const probe: Probe = (n, deployment, checkOnlyFrom) =>
    runProbes(
      () => ops.score(uri, sample.body, { credential: cred, deployment, contentType: sample.contentType, signal }),
      n,
      {
        thresholds: plan.thresholds,
        matcher: plan.matcher,
        checkOnlyFrom,
        maxLatencyMs: plan.thresholds.maxLatencyMs,
        kubernetes: plan.endpointSpec.kind === 'Kubernetes',
        sleep,
        signal,
        onRetry: (e) =>
          log.info(
            `  probe ${e.probe}/${n} attempt ${e.attempt} inconclusive (${e.detail}): retrying in ${(e.waitMs / 1000).toFixed(1)} s`,
          ),
      },
    );
  return { cred, probe };
}

async function smokeTest(r: Rollout, probe: Probe): Promise<void> {
  const { deps, result, plan } = r;
  const dep = result.deploymentName;
  const n = r.inputs.smokeRequests ?? 20;
  sectionOf(deps.log)(`Smoke test: ${n} probe(s) to deployment ${dep} (azureml-model-deployment header)`);
  const a = await probe(n, dep, undefined);
  result.smokeAnalysis = a;
  result.smoke = a.latency;
  deps.log.info(`Smoke test: ${describeAnalysis(a)}${plan.matcher ? ` (every answer ${plan.matcher.describe})` : ''}`);
  const why = stepFailure(`Smoke test of deployment ${dep}`, a);
  if (why) throw new UserError(why);
}

/** another deployment serves live traffic on the endpoint (else there is nothing to mirror and no step but 100 %) */
function othersLive(r: Rollout): boolean {
  return productionDeployments(r).length > 0;
}

async function mirror(r: Rollout, cred: string | undefined): Promise<void> {
  const { deps, result, plan, d } = r;
  if (plan.mirror.percent <= 0) return;
  const ep = result.endpointName,
    dep = result.deploymentName;
  if (!othersLive(r) || d.liveShare > 0) {
    const why =
      d.liveShare > 0
        ? `deployment ${dep} already has ${d.liveShare}% of the live traffic (a deployment cannot get both)`
        : `no other deployment serves traffic on ${ep} (mirroring copies live traffic)`;
    deps.log.info(`Mirror stage skipped: ${why}.`);
    result.mirror = {
      percent: plan.mirror.percent,
      seconds: plan.mirror.seconds,
      logged: { scoringRequests: 0, errors: 0 },
      skipped: why,
    };
    return;
  }
  // set before the mirror PUT is sent: from then on the rollback clears the endpoint's mirrorTraffic
  r.touched.mirror = true;
  result.mirror = await mirrorStage({
    ops: deps.ops,
    log: deps.log,
    deps,
    section: sectionOf(deps.log),
    sleep: deps.sleep ?? abortableSleep,
    signal: deps.signal,
    plan,
    epName: ep,
    depName: dep,
    cred,
    scoringUri: result.scoringUri,
    healthN: r.inputs.healthCheckRequests ?? 5,
    logTail: Math.max(r.inputs.logTail ?? 100, 1000),
  });
  r.touched.mirror = false;
}

async function trafficSteps(r: Rollout, probe: Probe | undefined): Promise<void> {
  const { deps, plan, result } = r;
  const live = othersLive(r);
  const steps = live ? plan.steps : [100];
  if (!live && plan.steps.length > 1)
    deps.log.info(`No other deployment serves traffic on ${result.endpointName}: going straight to 100%.`);
  if (plan.endpointSpec.kind === 'Kubernetes')
    deps.log.info(
      'Kubernetes (AKS/Arc) endpoints publish no Azure Monitor request metrics: each step is judged by its probes and provisioning state.',
    );
  for (let n = 0; n < steps.length; n++) {
    deps.signal?.throwIfAborted();
    const since = await trafficStep(r, probe, steps[n]!, `${n + 1}/${steps.length}`);
    if (n < steps.length - 1 && (r.inputs.stepWaitSeconds ?? 0) > 0) {
      deps.log.info(`Waiting ${r.inputs.stepWaitSeconds} s before the next step…`);
      await (deps.sleep ?? abortableSleep)(r.inputs.stepWaitSeconds! * 1000, deps.signal);
    }
    // the deployment's own metrics over the step (after the wait): every request it served, not only the probes
    await stepMetrics(r, result.steps[n]!, since);
    deps.progress(50 + Math.round((45 * (n + 1)) / steps.length), `Traffic ${steps[n]}%`);
  }
}

/**
 * Move traffic to `pct` on the new deployment, then the health check: its provisioningState and probes through the
 * endpoint. Returns when the traffic was set (the start of the step's metrics window).
 */
async function trafficStep(r: Rollout, probe: Probe | undefined, pct: number, label: string): Promise<Date> {
  const { deps, result } = r;
  const { ops, log } = deps;
  const ep = result.endpointName,
    dep = result.deploymentName;
  const target = stepTraffic(r.seen.trafficBefore, dep, pct);
  sectionOf(log)(`Traffic step ${label}: ${dep} ${pct}% (${fmtTraffic(target)})`);
  // the step's metrics window starts when the traffic change is asked for: the service applies it before the
  // operation's end reaches us (a poll later), and what the new split serves in between belongs to this step
  const since = new Date();
  result.trafficAfter = await ops.setTraffic(ep, target);
  const rec: StepRecord = { percent: pct, traffic: result.trafficAfter };
  result.steps.push(rec);
  const state = await ops.getDeployment(ep, dep);
  rec.provisioningState = state?.provisioningState;
  if (state?.provisioningState !== 'Succeeded')
    throw new UserError(`Health check at ${pct}%: deployment ${dep} is ${state?.provisioningState ?? 'gone'}`);
  const healthN = r.inputs.healthCheckRequests ?? 5;
  if (!probe || healthN <= 0) {
    log.info(`Health check at ${pct}%: deployment ${dep} Succeeded`);
    return since;
  }
  const a = await probe(healthN, undefined, dep);
  rec.analysis = a;
  rec.health = a.latency;
  log.info(`Health check at ${pct}%: ${describeAnalysis(a)}; through endpoint ${ep}, deployment Succeeded`);
  const why = stepFailure(`Health check at ${pct}%`, a);
  if (why) throw new UserError(why);
  return since;
}

/**
 * Managed endpoints: the deployment's Azure Monitor metrics since the step began, judged on the probes' thresholds and
 * against production — the deployments that served before the rollout — in the same window (analysis.ts
 * decideMetrics: no worse than production). A failed read (e.g. 403: the identity may deploy but not read metrics) does
 * not stop the rollout: the probes judged.
 */
async function stepMetrics(r: Rollout, rec: StepRecord, since: Date): Promise<void> {
  const { deps, plan, result } = r;
  const { ops, log, signal } = deps;
  if (plan.endpointSpec.kind !== 'Managed' || !ops.metrics) return;
  const pct = rec.percent;
  const window = { since, until: new Date() };
  const m = await ops.metrics(result.endpointName, result.deploymentName, window, signal).catch((e: unknown) => {
    if (signal?.aborted) throw e;
    log.warning(
      `Metrics at ${pct}%: could not read the deployment's Azure Monitor metrics (${(e as Error)?.message ?? e}); the step is judged by its probes`,
    );
    return undefined;
  });
  if (!m) return;
  const production = m.requests ? await productionMetrics(r, pct, window) : undefined;
  const d = decideMetrics(m, plan.thresholds, production);
  rec.metrics = { ...m, ...d, ...(production ? { production } : {}) };
  log.info(
    `Metrics at ${pct}%: deployment ${result.deploymentName} served ${m.requests} request(s) (${statusCodes(m.byStatus)}), p95 ${m.p95Ms ?? 'n/a'} ms, p99 ${m.p99Ms ?? 'n/a'} ms → ${d.verdict.toUpperCase()}: ${d.rule}`,
  );
  if (d.verdict === 'failed') throw new UserError(`Metrics at ${pct}%: ${d.rule}`);
}

const statusCodes = (byStatus: Record<string, number>) =>
  Object.keys(byStatus)
    .sort()
    .map((k) => `${k}: ${byStatus[k]}`)
    .join(', ') || 'none';

/**
 * Production's metrics for the step's window: the deployments that served traffic before the rollout, read one by one
 * and taken together. Once the new deployment has 100 % production serves (almost) nothing in the window: the last
 * window in which it served enough (an earlier step's) stands in. Undefined when there is no production or it cannot
 * be read (a warning: the step is judged by the thresholds as set).
 */
async function productionMetrics(
  r: Rollout,
  pct: number,
  window: { since: Date; until: Date },
): Promise<ProductionEvidence | undefined> {
  const { deps, result } = r;
  const { ops, log, signal } = deps;
  const names = productionDeployments(r);
  if (!names.length || !ops.metrics) return undefined;
  try {
    const parts: Array<EndpointHealth & { deployment: string }> = [];
    for (const name of names)
      parts.push({ deployment: name, ...(await ops.metrics(result.endpointName, name, window, signal)) });
    const same = productionEvidence(parts, 'the same window');
    const byStatus: Record<string, number> = {};
    for (const p of parts) for (const [k, v] of Object.entries(p.byStatus)) byStatus[k] = (byStatus[k] ?? 0) + v;
    log.info(
      `Metrics at ${pct}%: production (${names.join(', ')}) served ${same.requests} request(s) (${statusCodes(byStatus)}), p95 ${same.p95Ms ?? 'n/a'} ms, p99 ${same.p99Ms ?? 'n/a'} ms in the same window`,
    );
    if (same.requests >= MIN_PRODUCTION_REQUESTS) {
      r.production = { ...same, window: `the ${pct}% step's window` };
      return same;
    }
    return r.production ?? same;
  } catch (e) {
    if (signal?.aborted) throw e;
    log.warning(
      `Metrics at ${pct}%: could not read production's Azure Monitor metrics (${(e as Error)?.message ?? e}); the deployment is judged by the thresholds as set`,
    );
    return undefined;
  }
}

/** the deployments that served traffic before the rollout, other than the new one */
function productionDeployments(r: Rollout): string[] {
  const dep = r.result.deploymentName.toLowerCase();
  return Object.entries(r.seen.trafficBefore)
    .filter(([k, v]) => v > 0 && k.toLowerCase() !== dep)
    .map(([k]) => k);
}

/** deleteOldDeployment: the deployments that lost all their traffic (a failed delete only warns). */
async function deleteOldDeployments(r: Rollout): Promise<void> {
  const { deps, result } = r;
  if (!r.inputs.deleteOldDeployment) return;
  const dep = result.deploymentName.toLowerCase();
  const old = Object.entries(r.seen.trafficBefore)
    .filter(([k, v]) => v > 0 && k.toLowerCase() !== dep && (result.trafficAfter[k] ?? 0) === 0)
    .map(([k]) => k);
  for (const k of old) {
    sectionOf(deps.log)(`Deleting old deployment ${k}`);
    try {
      await deps.ops.deleteDeployment(result.endpointName, k);
      result.deleted.push(k);
      deps.log.info(`Deleted deployment ${k}.`);
    } catch (e) {
      deps.log.warning(`Could not delete old deployment ${k}: ${(e as Error).message}`);
    }
  }
}
