// Classic releases and YAML pipeline runs for model versions, through azure-devops-node-api (ReleaseApi, PipelinesApi).
import { ApprovalStatus, ApprovalType, ReleaseDefinitionExpands, ReleaseExpands, ReleaseReason, type Release, type ReleaseApproval, type ReleaseDefinition } from 'azure-devops-node-api/interfaces/ReleaseInterfaces';
import type { Run } from 'azure-devops-node-api/interfaces/PipelinesInterfaces';
import { InputError, UserError } from '../pipeline';
import { devopsCall, type DevOpsConnection } from './client';

/** `name` of our release-artifact contribution (vss-extension.json): the `type` of the model artifact in release definitions */
export const MODEL_ARTIFACT_TYPE = 'AzureMLModel';

export interface ModelArtifact { alias: string; type: string; sourceId: string; model?: string }
export interface DefinitionInfo { id: number; name: string; artifacts: ModelArtifact[]; webUrl?: string }
export interface CreatedItem { id: number; name: string; webUrl?: string; version: string; existing: boolean }

const GRANT_VIEW = (d: string) => `View releases' on release pipeline '${d}`;

function webUrlOf(x: { _links?: any }): string | undefined {
  const h = x._links?.web?.href;
  return typeof h === 'string' ? h : undefined;
}

function toDefinition(d: ReleaseDefinition): DefinitionInfo {
  return {
    id: d.id!, name: d.name ?? String(d.id),
    artifacts: (d.artifacts ?? []).map((a) => ({
      alias: a.alias ?? '', type: a.type ?? '', sourceId: a.sourceId ?? '',
      model: a.definitionReference?.definition?.id ?? a.definitionReference?.definition?.name,
    })),
    webUrl: webUrlOf(d),
  };
}

/** release definition by id or exact name; InputError naming `input` when there is none */
export async function findReleaseDefinition(conn: DevOpsConnection, nameOrId: string, input = 'releaseDefinition'): Promise<DefinitionInfo> {
  const api = await conn.release();
  const key = nameOrId.trim();
  let id: number | undefined = /^[0-9]+$/.test(key) ? Number(key) : undefined;
  if (id === undefined) {
    const list = await devopsCall(conn, `list release pipelines named '${key}'`, () =>
      api.getReleaseDefinitions(conn.project, key, ReleaseDefinitionExpands.None, undefined, undefined, 100, undefined, undefined, undefined, true), { grant: GRANT_VIEW(key) });
    const hits = (list ?? []).filter((d) => (d.name ?? '').toLowerCase() === key.toLowerCase());
    if (!hits.length) throw new InputError(input, `no release pipeline named '${key}' in project '${conn.projectName}'`);
    if (hits.length > 1) throw new InputError(input, `${hits.length} release pipelines are named '${key}' (${hits.map((d) => `${d.path ?? ''}\\${d.name} id ${d.id}`).join(', ')}): give the id`);
    id = hits[0].id!;
  }
  const d = await devopsCall(conn, `read release pipeline ${key}`, () => api.getReleaseDefinition(conn.project, id!), { grant: GRANT_VIEW(key) });
  if (!d) throw new InputError(input, `release pipeline ${key} was not found in project '${conn.projectName}'`);
  return toDefinition(d);
}

/** the artifact to pin: by alias, else the definition's only artifact of our type */
export function pickModelArtifact(def: DefinitionInfo, alias?: string, modelName?: string): ModelArtifact {
  if (alias) {
    const a = def.artifacts.find((x) => x.alias.toLowerCase() === alias.toLowerCase());
    if (!a) throw new InputError('artifactAlias', `release pipeline '${def.name}' has no artifact '${alias}' (it has: ${def.artifacts.map((x) => x.alias).join(', ') || 'none'})`);
    return a;
  }
  const ours = def.artifacts.filter((x) => x.type === MODEL_ARTIFACT_TYPE);
  if (ours.length === 1) return ours[0];
  const byModel = modelName ? ours.filter((x) => !x.model || x.model.toLowerCase() === modelName.toLowerCase()) : ours;
  if (byModel.length === 1) return byModel[0];
  if (!ours.length) throw new InputError('releaseDefinition', `release pipeline '${def.name}' has no Azure ML model artifact (type ${MODEL_ARTIFACT_TYPE}); add one or name the artifact in 'artifactAlias'`);
  throw new InputError('artifactAlias', `release pipeline '${def.name}' has ${byModel.length || ours.length} Azure ML model artifacts (${ours.map((x) => x.alias).join(', ')}): name one`);
}

function releaseVersion(r: Release, a: ModelArtifact): string | undefined {
  const art = (r.artifacts ?? []).find((x) => x.alias === a.alias || (x.type === a.type && x.sourceId === a.sourceId));
  return art?.definitionReference?.version?.id;
}

/** releases of `def` whose model artifact is at `version` (asked of Azure DevOps; filter re-checked here) */
export async function findReleasesForVersion(conn: DevOpsConnection, def: DefinitionInfo, a: ModelArtifact, version: string): Promise<CreatedItem[]> {
  const api = await conn.release();
  const list = await devopsCall(conn, `list releases of '${def.name}'`, () =>
    api.getReleases(conn.project, def.id, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, 100, undefined,
      ReleaseExpands.Artifacts, a.type, a.sourceId, version), { grant: GRANT_VIEW(def.name) });
  return (list ?? []).filter((r) => releaseVersion(r, a) === version)
    .map((r) => ({ id: r.id!, name: r.name ?? String(r.id), webUrl: webUrlOf(r), version, existing: true }));
}

/** create a release of `def` with the model artifact pinned to `version` (other artifacts at their default versions) */
export async function createModelRelease(conn: DevOpsConnection, def: DefinitionInfo, a: ModelArtifact, version: string, description: string, reason: 'push' | 'schedule'): Promise<CreatedItem> {
  const api = await conn.release();
  const r = await devopsCall(conn, `create a release of '${def.name}'`, () => api.createRelease({
    definitionId: def.id,
    description: description.slice(0, 4000),
    artifacts: [{ alias: a.alias, instanceReference: { id: version, name: version } }],
    reason: reason === 'schedule' ? ReleaseReason.Schedule : ReleaseReason.ContinuousIntegration,
    isDraft: false,
  }, conn.project), {
    grant: `Create releases' on release pipeline '${def.name}`,
    // a dropped answer may hide a release that was created: look before trying again
    beforeRetry: async () => (await findReleasesForVersion(conn, def, a, version))[0],
  });
  return { id: r.id!, name: r.name ?? String(r.id), webUrl: webUrlOf(r), version, existing: false };
}

// ------------------------------------------------------------------------------------------------ YAML pipelines
export interface PipelineInfo { id: number; name: string; webUrl?: string }

export async function findPipeline(conn: DevOpsConnection, nameOrId: string, input = 'pipeline'): Promise<PipelineInfo> {
  const api = await conn.pipelines();
  const key = nameOrId.trim();
  const grant = `View builds' on pipeline '${key}`;
  if (/^[0-9]+$/.test(key)) {
    const p = await devopsCall(conn, `read pipeline ${key}`, () => api.getPipeline(conn.project, Number(key)), { grant }).catch((e) => {
      if (/\(HTTP 404\)/.test((e as Error).message)) throw new InputError(input, `pipeline ${key} was not found in project '${conn.projectName}'`);
      throw e;
    });
    if (!p) throw new InputError(input, `pipeline ${key} was not found in project '${conn.projectName}'`);
    return { id: p.id!, name: p.name ?? key, webUrl: webUrlOf(p) };
  }
  const all = await devopsCall(conn, 'list pipelines', () => api.listPipelines(conn.project, undefined, 1000), { grant });
  const hits = (all ?? []).filter((p) => (p.name ?? '').toLowerCase() === key.toLowerCase());
  if (!hits.length) throw new InputError(input, `no pipeline named '${key}' in project '${conn.projectName}'`);
  if (hits.length > 1) throw new InputError(input, `${hits.length} pipelines are named '${key}' (${hits.map((p) => `${p.folder ?? ''}\\${p.name} id ${p.id}`).join(', ')}): give the id`);
  return { id: hits[0].id!, name: hits[0].name!, webUrl: webUrlOf(hits[0]) };
}

function sameParams(run: Run, params: Record<string, string>): boolean {
  const tp = run.templateParameters ?? {};
  return Object.entries(params).every(([k, v]) => String(tp[k] ?? '') === v);
}

/** full recent runs per connection and pipeline (listRuns has no parameters: each run is read once per task run) */
const runCache = new WeakMap<DevOpsConnection, Map<number, Promise<Run[]>>>();

async function recentRuns(conn: DevOpsConnection, p: PipelineInfo, scan: number): Promise<Run[]> {
  let perConn = runCache.get(conn);
  if (!perConn) runCache.set(conn, (perConn = new Map()));
  let runs = perConn.get(p.id);
  if (!runs) {
    const load = async () => {
      const api = await conn.pipelines();
      const grant = `View builds' on pipeline '${p.name}`;
      const list = (await devopsCall(conn, `list runs of pipeline '${p.name}'`, () => api.listRuns(conn.project, p.id), { grant }) ?? [])
        .sort((a, b) => (b.id ?? 0) - (a.id ?? 0)).slice(0, scan);
      const out: Run[] = [];
      for (let i = 0; i < list.length; i += 8) {
        const full = await Promise.all(list.slice(i, i + 8).map((r) => devopsCall(conn, `read run ${r.id} of '${p.name}'`, () => api.getRun(conn.project, p.id, r.id!), { grant })));
        for (const r of full) if (r) out.push(r);
      }
      return out;
    };
    runs = load();
    runs.catch(() => perConn!.delete(p.id));
    perConn.set(p.id, runs);
  }
  return runs;
}

/** recent runs (newest `scan`) of the pipeline started with these template parameters */
export async function findRunsWithParameters(conn: DevOpsConnection, p: PipelineInfo, params: Record<string, string>, version: string, scan = 50): Promise<CreatedItem[]> {
  return (await recentRuns(conn, p, scan)).filter((r) => sameParams(r, params))
    .map((r) => ({ id: r.id!, name: r.name ?? String(r.id), webUrl: webUrlOf(r), version, existing: true }));
}

export async function runPipelineWithParameters(conn: DevOpsConnection, p: PipelineInfo, params: Record<string, string>, version: string): Promise<CreatedItem> {
  const api = await conn.pipelines();
  const r = await devopsCall(conn, `queue a run of pipeline '${p.name}'`, () => api.runPipeline({ templateParameters: params }, conn.project, p.id), {
    grant: `Queue builds' on pipeline '${p.name}`,
    beforeRetry: async () => { runCache.get(conn)?.delete(p.id); return (await findRunsWithParameters(conn, p, params, version, 10))[0]; },
  });
  (await runCache.get(conn)?.get(p.id)?.catch(() => undefined))?.unshift(r);
  return { id: r.id!, name: r.name ?? String(r.id), webUrl: webUrlOf(r), version, existing: false };
}

// ------------------------------------------------------------------------------------------------ approvals (governance)
export interface ApprovalInfo { approver: string; approverId?: string; approvedOn: string; comments?: string; stage: string; status: string }

const STATUS_NAME: Record<number, string> = { [ApprovalStatus.Pending]: 'pending', [ApprovalStatus.Approved]: 'approved', [ApprovalStatus.Rejected]: 'rejected', [ApprovalStatus.Skipped]: 'skipped' };

/** approved pre-deployment approvals of a release, for one stage (by environment id, else by name) */
export async function releaseApprovals(conn: DevOpsConnection, releaseId: number, stage: { id?: number; name?: string }): Promise<ApprovalInfo[]> {
  const api = await conn.release();
  const list: ReleaseApproval[] = await devopsCall(conn, `read the approvals of release ${releaseId}`, () =>
    api.getApprovals(conn.project, undefined, ApprovalStatus.Approved, [releaseId], ApprovalType.PreDeploy, 100), { grant: `View releases' on the release pipeline of release ${releaseId}` }) ?? [];
  return list
    .filter((a) => a.release?.id === releaseId)
    .filter((a) => (stage.id !== undefined ? a.releaseEnvironment?.id === stage.id : (a.releaseEnvironment?.name ?? '').toLowerCase() === (stage.name ?? '').toLowerCase()))
    .filter((a) => !a.isAutomated)
    .map((a) => ({
      approver: a.approvedBy?.displayName ?? a.approver?.displayName ?? 'unknown',
      approverId: a.approvedBy?.uniqueName ?? a.approvedBy?.id,
      approvedOn: (a.modifiedOn instanceof Date ? a.modifiedOn : new Date(String(a.modifiedOn ?? a.createdOn ?? ''))).toISOString(),
      comments: a.comments || undefined,
      stage: a.releaseEnvironment?.name ?? stage.name ?? '',
      status: STATUS_NAME[a.status as number] ?? String(a.status),
    }));
}

export async function getReleaseName(conn: DevOpsConnection, releaseId: number): Promise<string> {
  const api = await conn.release();
  const r = await devopsCall(conn, `read release ${releaseId}`, () => api.getRelease(conn.project, releaseId), { grant: `View releases' on the release pipeline of release ${releaseId}` });
  if (!r) throw new UserError(`Release ${releaseId} was not found`);
  return r.name ?? String(releaseId);
}
