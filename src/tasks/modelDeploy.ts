// AzureMLModelDeploy@1: deploy a model to a managed or Kubernetes online endpoint with a safe rollout.
// deployModel is plan → observe → decide → apply, one module per phase under deploy/:
//
//  1. plan.ts (local only): traffic steps, sample request, expected response, YAML files, scoring code → the desired
//     endpoint and deployment. A bad input fails here: nothing has been read or created.
//  2. observe.ts (reads only): workspace, endpoint, compute + instance types, deployments, approvals, and the deployment
//     body built completely in the resolver's checking phase (model / code / environment references).
//  3. decide.ts (pure): one Decision. Rerun with the same model — the deployment exists with the same spec (probes and
//     request settings included) and already has 100 % → nothing changes; in another release / stage / approval only
//     its governance tags are updated. Otherwise a rollout, with its endpoint change (created if missing, updated only
//     when description / tags differ; its auth mode is never changed) and the deployment written or kept.
//  4. rollout.ts: uploads and asset versions written; the new deployment created beside the live one with 0 % traffic;
//     smoke test straight at it (`azureml-model-deployment` header): N probes, each passed / failed / inconclusive,
//     verdict by the thresholds (analysis.ts); optional mirror stage (mirror.ts); traffic moves in steps (traffic.ts),
//     after each a health check (probes through the endpoint, its provisioningState, and on managed endpoints its
//     Azure Monitor metrics); optionally the deployments that lost all their traffic are deleted; the governance hook
//     is told; the JSON report and the summary (report.ts).
//  5. rollback.ts: any failure or cancellation after the first write: a mirror that was set is cleared, traffic goes
//     back to exactly the map saved before the first change (GET → PUT, with a fresh, non-aborted signal) and the new
//     deployment's container log tail is printed.
// The Azure operations are injected (DeployOps; azureOps.ts over ARM).
import { decide } from './deploy/decide';
import { observe } from './deploy/observe';
import { localPlan } from './deploy/plan';
import { keepServing, rollOut, startRollout } from './deploy/rollout';
import type { DeployDeps, DeployInputs, DeployResult } from './deploy/types';
import { observeDataCollector } from './deploy/dataCollector';

export * from './deploy/types';
export { latencyProfile, percentile, type LatencyProfile } from './deploy/analysis';
export { parseTrafficSteps, stepTraffic, sameTraffic, rollbackTraffic } from './deploy/traffic';
export {
  checkMirrorInputs,
  mirrorRequestCount,
  newLogLines,
  judgeMirrorLog,
  type MirrorLogVerdict,
} from './deploy/mirror';
export {
  parseExpectedResponse,
  isModelArtifactType,
  modelFromRelease,
  MODEL_ARTIFACT_TYPES,
  type ResponseMatcher,
} from './deploy/inputs';
export { defaultDeploymentName, modelOfId, deploymentDifferences, governanceTagUpdate } from './deploy/decide';
export { deploySummary } from './deploy/report';
export { azureOps } from './deploy/azureOps';
export { isoDurationMs } from '../azureml/normalize';

export async function deployModel(inputs: DeployInputs, deps: DeployDeps): Promise<DeployResult> {
  const plan = await localPlan(inputs, deps.cwd ?? process.cwd());
  for (const w of plan.warnings) deps.log.warning(w);
  const seen = await observe(plan, inputs, deps);
  const collector = await observeDataCollector(plan, seen, deps);
  const decision = decide(plan, seen, inputs, deps.context, deps.ops.ws, collector);
  const run = startRollout(inputs, deps, plan, seen, decision);
  return decision.kind === 'rollout' ? rollOut(run) : keepServing(run);
}
