// Phase 2 of the deploy task, reads only: what exists in Azure (workspace location, endpoint, Kubernetes compute,
// deployments and their traffic, the release's approvals) and the deployment body fully resolved against it (model /
// code / environment references: the resolver's checking phase writes nothing). An endpoint that cannot take the
// planned deployment (other kind, other compute, unknown instance type) fails here with an InputError.
import { InputError, UserError } from '../../pipeline/errors';
import type { DeploymentInfo, EndpointInfo } from '../../azureml/endpoints';
import { buildOnlineDeploymentBody } from '../../azureml/deploymentSpec';
import type { Plan } from './plan';
import type { Approval, DeployDeps, DeployInputs, PlanningResolver } from './types';

export interface Observed {
  location: string;
  endpoint?: EndpointInfo;
  /** the attached Kubernetes compute (Kubernetes endpoints) */
  computeId?: string;
  deployments: DeploymentInfo[];
  trafficBefore: Record<string, number>;
  approvals: Approval[];
  /** holds the uploads / asset versions the body needs; `commit()` writes them */
  resolver: PlanningResolver;
  /** the deployment body, every reference resolved (no governance tags yet) */
  body: Record<string, any>;
}

export const sectionOf = (log: DeployDeps['log']) => (t: string) => (log.section ?? log.info)(t);

export async function observe(plan: Plan, inputs: DeployInputs, deps: DeployDeps): Promise<Observed> {
  const { ops } = deps;
  sectionOf(deps.log)('Checking the workspace, endpoint and deployment');
  const location = await ops.location();
  const endpoint = await ops.getEndpoint(plan.endpointName);
  if (endpoint) checkExistingEndpoint(plan, endpoint, inputs);
  const computeId =
    plan.endpointSpec.kind === 'Kubernetes' ? await kubernetesCompute(plan, endpoint, inputs, deps) : undefined;
  const deployments = endpoint ? await ops.listDeployments(plan.endpointName) : [];
  const approvals = deps.governance ? await deps.governance.approvals() : [];
  const { resolver, body } = await resolveDeployment(plan, inputs, location, deps);
  return {
    location,
    endpoint,
    computeId,
    deployments,
    trafficBefore: { ...(endpoint?.traffic ?? {}) },
    approvals,
    resolver,
    body,
  };
}

/** An existing endpoint keeps its kind and its compute. */
function checkExistingEndpoint(plan: Plan, existing: EndpointInfo, inputs: DeployInputs): void {
  const spec = plan.endpointSpec;
  if (existing.kind !== spec.kind) {
    throw new InputError(
      inputs.endpointFile ? 'endpointFile' : 'endpointType',
      `endpoint '${plan.endpointName}' already exists as ${existing.kind === 'Kubernetes' ? 'a Kubernetes' : 'a managed'} online endpoint`,
    );
  }
  if (spec.kind !== 'Kubernetes') return;
  const want = (spec.compute ?? '')
    .replace(/^azureml:/i, '')
    .split('/')
    .pop()!
    .toLowerCase();
  const have = (existing.compute ?? '').split('/').pop()!.toLowerCase();
  if (want && have && want !== have)
    throw new InputError(
      inputs.endpointFile ? 'endpointFile' : 'compute',
      `endpoint '${plan.endpointName}' runs on compute '${have}', not '${want}' (the compute of an endpoint cannot change)`,
    );
}

/** The attached Kubernetes compute: it exists, is Kubernetes, and defines the deployment's instance type. Its id. */
async function kubernetesCompute(
  plan: Plan,
  existing: EndpointInfo | undefined,
  inputs: DeployInputs,
  deps: DeployDeps,
): Promise<string> {
  const cname = (plan.endpointSpec.compute ?? existing?.compute ?? '')
    .replace(/^azureml:/i, '')
    .split('/')
    .pop()!;
  const compute = await deps.ops.getCompute(cname);
  const input = inputs.endpointFile ? 'endpointFile' : 'compute';
  if (!compute) throw new InputError(input, `compute '${cname}' was not found in workspace '${deps.ops.ws.workspace}'`);
  if (!/^kubernetes$/i.test(compute.computeType))
    throw new InputError(
      input,
      `compute '${cname}' is ${compute.computeType}; a Kubernetes online endpoint needs an attached Kubernetes compute`,
    );
  const it = plan.deploymentSpec.instanceType;
  if (it && !compute.instanceTypes.some((t) => t.toLowerCase() === it.toLowerCase())) {
    throw new InputError(
      inputs.deploymentFile ? 'deploymentFile' : 'instanceType',
      `instance type '${it}' is not defined on compute '${cname}' (available: ${compute.instanceTypes.join(', ')})`,
    );
  }
  return compute.id;
}

/** The deployment body, fully resolved (reads only); a model that cannot be resolved names the input it came from. */
async function resolveDeployment(
  plan: Plan,
  inputs: DeployInputs,
  location: string,
  deps: DeployDeps,
): Promise<{ resolver: PlanningResolver; body: Record<string, any> }> {
  const resolver = deps.ops.resolver({
    deploymentName: plan.nameFixed ? plan.deploymentSpec.name : undefined,
    errorPrefix: inputs.deploymentFile ? `Input 'deploymentFile': ` : '',
  });
  let built;
  try {
    built = await buildOnlineDeploymentBody(plan.deploymentSpec, {
      location,
      resolver,
      endpointName: plan.endpointName,
    });
  } catch (e) {
    if (plan.modelSource !== 'yaml' && e instanceof UserError && /^model /.test(e.message))
      throw new InputError(plan.modelSource === 'release' ? 'modelArtifactAlias' : 'model', e.message);
    throw e;
  }
  for (const w of built.warnings) if (!plan.warnings.includes(w)) deps.log.warning(w);
  return { resolver, body: built.body as Record<string, any> };
}
