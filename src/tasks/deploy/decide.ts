// Phase 3 of the deploy task, pure: what the planned deployment means against what exists — one Decision: nothing to
// change, only the governance tags of the serving deployment to update, or a rollout (with its endpoint change, the
// deployment written or kept, and its tags). A request that a safe rollout cannot honour (a live deployment holding
// another spec under the same name, another auth mode for an existing endpoint) fails here with an InputError.
import { InputError } from '../../pipeline/errors';
import { lineageTags, type PipelineContext } from '../../pipeline';
import { wsPath, type WorkspaceRef } from '../../azureml';
import type { DeploymentInfo } from '../../azureml/endpoints';
import { deploymentDifferences as normalizedDeploymentDifferences } from '../../azureml/normalize';
import { parseRegistryModelUri } from '../../azureml/registries';
import type { Observed } from './observe';
import type { Plan } from './plan';
import type { Approval, DeployInputs } from './types';
import { attachDataCollector, type WantedCollector } from './dataCollector';

export interface EndpointChange {
  authMode?: string;
  description?: string;
  tags?: Record<string, string>;
}

export interface Decision {
  /** unchanged: already serving with 100 %, nothing to write; tags: the same, but its governance tags are updated */
  kind: 'unchanged' | 'tags' | 'rollout';
  deploymentName: string;
  /** the registered model version, when the model is one */
  model?: { name: string; version: string };
  /** the model as the deployment names it (ARM id or inline) */
  modelId?: string;
  /** `name:version` (or the id) for the log */
  modelLabel: string;
  /** the body to PUT, governance tags included (your own tags win) */
  body: Record<string, any>;
  /** the endpoint's mode: an existing endpoint keeps its own */
  authMode: string;
  /** the endpoint is created, or updated with this change (description / tags), or left alone */
  endpoint: { create: true } | { update: EndpointChange } | undefined;
  /** the deployment by this name, when it exists */
  existing?: DeploymentInfo;
  /** it exists with the same spec and Succeeded: not redeployed */
  same: boolean;
  /** its share of the live traffic now */
  liveShare: number;
  /** the tags an unchanged deployment gets in a release (PATCH), when they differ */
  tagUpdate?: Record<string, string>;
}

/**
 * `collector`: the production data collector the deployment should have (deploy/dataCollector.ts) and what the
 * existing deployment's lacks of it (read at 2024-04-01 in the observe phase).
 */
export function decide(
  plan: Plan,
  seen: Observed,
  inputs: DeployInputs,
  context: PipelineContext,
  ws: WorkspaceRef,
  collector?: { wanted: WantedCollector; changes: string[] },
): Decision {
  const modelId = modelIdOf(seen);
  const model = modelOfId(modelId);
  const deploymentName = deploymentNameOf(plan, model);
  const body = {
    ...seen.body,
    tags: { ...governanceTags(context, seen.approvals, modelId, model), ...(seen.body.tags ?? {}) },
  };
  if (collector) attachDataCollector(body, collector.wanted);
  const existing = seen.deployments.find((d) => d.name.toLowerCase() === deploymentName.toLowerCase());
  const differences = existing
    ? [...deploymentDifferences(existing, body, wsPath(ws)), ...(collector?.changes ?? [])]
    : [];
  const same = !!existing && !differences.length && existing.provisioningState === 'Succeeded';
  const liveShare =
    Object.entries(seen.trafficBefore).find(([k]) => k.toLowerCase() === deploymentName.toLowerCase())?.[1] ?? 0;
  if (existing && !same && liveShare > 0) {
    const held = modelOfId(existing.model);
    throw new InputError(
      inputs.deploymentFile && !inputs.deploymentName ? 'deploymentFile' : 'deploymentName',
      `deployment '${existing.name}' is live with ${liveShare}% of the traffic and holds ${held ? `model ${held.name}:${held.version}` : 'another spec'}${differences.length ? ` with another ${differences.join(', ')}` : ` (provisioning ${existing.provisioningState})`}; a safe rollout creates the new deployment beside it — choose another deployment name`,
    );
  }
  const endpoint = endpointDecision(plan, seen, inputs);
  // an unchanged deployment still records which release / stage / approval it now serves
  const tagUpdate = same ? governanceTagUpdate(existing!.tags, body.tags, !!context.releaseId) : undefined;
  const kind = same && liveShare === 100 && !endpoint ? (tagUpdate ? 'tags' : 'unchanged') : 'rollout';
  return {
    kind,
    deploymentName,
    model,
    modelId,
    modelLabel: model ? `${model.name}:${model.version}` : (modelId ?? '(no model)'),
    body,
    authMode: seen.endpoint?.authMode ?? plan.endpointSpec.authMode,
    endpoint,
    existing,
    same,
    liveShare,
    tagUpdate,
  };
}

const modelIdOf = (seen: Observed): string | undefined =>
  typeof seen.body.properties?.model === 'string' ? seen.body.properties.model : undefined;

/** The deployment's name for this plan: the name given (input or YAML), else `<model>-v<version>` of the registered model. */
export function plannedDeploymentName(plan: Plan, seen: Observed): string {
  return deploymentNameOf(plan, modelOfId(modelIdOf(seen)));
}

function deploymentNameOf(plan: Plan, model: { name: string; version: string } | undefined): string {
  if (plan.nameFixed) return plan.deploymentSpec.name;
  if (!model) throw new InputError('deploymentName', 'is required when the model is not a registered model version');
  return defaultDeploymentName(model.name, model.version);
}

/** Create a missing endpoint; update an existing one only when its description / tags differ (never its auth mode). */
function endpointDecision(plan: Plan, seen: Observed, inputs: DeployInputs): Decision['endpoint'] {
  const existing = seen.endpoint;
  if (!existing) return { create: true };
  const spec = plan.endpointSpec;
  // the auth mode of an endpoint cannot change: a blank input keeps it, another explicit mode is refused
  if (plan.authModeExplicit && existing.authMode && existing.authMode !== spec.authMode) {
    const mode = (m: string) => (m === 'AMLToken' ? 'aml_token' : m === 'AADToken' ? 'aad_token' : m.toLowerCase());
    throw new InputError(
      inputs.endpointFile ? 'endpointFile' : 'authMode',
      `endpoint '${plan.endpointName}' already exists with auth mode ${mode(existing.authMode)}, not ${mode(spec.authMode)} (the auth mode of an endpoint cannot be changed; leave authMode empty to keep it, or deploy to a new endpoint)`,
    );
  }
  const change: EndpointChange = {};
  if (spec.description !== undefined && spec.description !== (existing.description ?? undefined))
    change.description = spec.description;
  if (spec.tags && Object.entries(spec.tags).some(([k, v]) => existing.tags[k] !== v))
    change.tags = { ...existing.tags, ...spec.tags };
  return Object.keys(change).length ? { update: change } : undefined;
}

/** Lineage, the model, the release and its approvals as deployment tags. */
function governanceTags(
  context: PipelineContext,
  approvals: Approval[],
  modelId: string | undefined,
  model: { name: string; version: string } | undefined,
): Record<string, string> {
  const tags: Record<string, string> = { ...lineageTags(context) };
  if (modelId) tags['azureml-devops.modelId'] = shortModelId(modelId, model)!;
  if (context.releaseId) tags['azdo.releaseId'] = context.releaseId;
  if (approvals.length) {
    tags['azdo.approvedBy'] = approvals
      .map((a) => a.approver)
      .join(', ')
      .slice(0, 256);
    tags['azdo.approvedOn'] = approvals
      .map((a) => a.approvedOn)
      .join(', ')
      .slice(0, 256);
    const comments = approvals
      .map((a) => a.comments)
      .filter(Boolean)
      .join(' | ');
    if (comments) tags['azdo.approvalComments'] = comments.slice(0, 256);
  }
  return tags;
}

const NAME_OK = /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/;

/** `<model>-v<version>` as a deployment name: lower case, letters/digits/'-', starts with a letter, 3–32 characters. */
export function defaultDeploymentName(model: string, version: string): string {
  const clean = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/-+/g, '-')
      .replace(/^-|-$/g, '');
  let v = clean(version) || '0';
  if (v.length > 12) v = v.slice(0, 12).replace(/-$/, '');
  let base = clean(model) || 'model';
  if (!/^[a-z]/.test(base)) base = `m-${base}`;
  const suffix = `-v${v}`;
  base = base.slice(0, 32 - suffix.length).replace(/-+$/, '');
  let name = `${base}${suffix}`;
  if (name.length < 3) name = `${name}-d`;
  return NAME_OK.test(name) ? name : name.replace(/[^a-z0-9]+$/, '').padEnd(3, '0');
}

/** what the task reports as the model: `azureml:<name>:<version>` for a workspace model, a registry URI as it is */
export function shortModelId(
  modelId: string | undefined,
  model: { name: string; version: string } | undefined,
): string | undefined {
  if (modelId && parseRegistryModelUri(modelId)) return modelId;
  return model ? `azureml:${model.name}:${model.version}` : modelId;
}

/** `…/models/<name>/versions/<version>` → {name, version} */
export function modelOfId(id: string | undefined): { name: string; version: string } | undefined {
  const m = id ? /\/models\/([^/]+)\/versions\/([^/]+)$/i.exec(id) : null;
  return m ? { name: decodeURIComponent(m[1]!), version: decodeURIComponent(m[2]!) } : undefined;
}

/**
 * What differs between an existing deployment and the body we would PUT (empty: the same), after the service's
 * rewrites and defaults (azureml/normalize.ts owns the rules). `workspacePath`: the workspace of short asset references.
 */
export function deploymentDifferences(d: DeploymentInfo, body: Record<string, any>, workspacePath = ''): string[] {
  return normalizedDeploymentDifferences(d, body, workspacePath);
}

/** the tags that say which release/stage/approval a deployment serves (`azdo.release` is left out: the release is renamed after its first deployment) */
const GOVERNANCE_TAGS = [
  'azdo.releaseId',
  'azdo.stage',
  'azdo.approvedBy',
  'azdo.approvedOn',
  'azdo.approvalComments',
  'azdo.requestedFor',
];

/**
 * In a release, the tags an unchanged deployment must get when it was deployed by another release / stage / approval
 * (the `azdo.*` tags are replaced as a whole, other tags kept), or undefined when its governance tags already match.
 */
export function governanceTagUpdate(
  existing: Record<string, string>,
  desired: Record<string, string>,
  inRelease: boolean,
): Record<string, string> | undefined {
  if (!inRelease) return undefined;
  if (!GOVERNANCE_TAGS.some((k) => (existing[k] ?? '') !== (desired[k] ?? ''))) return undefined;
  const kept = Object.fromEntries(Object.entries(existing).filter(([k]) => !k.startsWith('azdo.')));
  return { ...kept, ...desired };
}
