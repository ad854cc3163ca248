// Classic releases and YAML pipeline runs for model versions, through azure-devops-node-api (ReleaseApi, PipelinesApi).
import {
  ApprovalStatus,
  ApprovalType,
  ReleaseDefinitionExpands,
  ReleaseExpands,
  ReleaseReason,
  type Release,
  type ReleaseApproval,
  type ReleaseDefinition,
} from 'azure-devops-node-api/interfaces/ReleaseInterfaces';
import type { Run } from 'azure-devops-node-api/interfaces/PipelinesInterfaces';
import { InputError, UserError } from '../pipeline';
import { devopsCall, type DevOpsConnection } from './client';

/** `name` of our release-artifact contribution (vss-extension.json): the `type` of the model artifact in release definitions */
export const MODEL_ARTIFACT_TYPE = 'AzureMLModel';

export interface ModelArtifact {
  alias: string;
  type: string;
  sourceId: string;
  model?: string;
  /** the artifact's source (vss-extension.json input sourceType): a registry's name, or undefined for a workspace */
  registry?: string;
}
export interface DefinitionInfo {
  id: number;
  name: string;
  artifacts: ModelArtifact[];
  webUrl?: string;
}
export interface CreatedItem {
  id: number;
  name: string;
  webUrl?: string;
  version: string;
  existing: boolean;
  /** started, but something around it failed (e.g. the run could not be tagged): log as a warning */
  warning?: string;
}

const GRANT_VIEW = (d: string) => `View releases' on release pipeline '${d}`;

function webUrlOf(x: { _links?: any }): string | undefined {
  const h = x._links?.web?.href;
  return typeof h === 'string' ? h : undefined;
}

function toDefinition(d: ReleaseDefinition): DefinitionInfo {
  return {
    id: d.id!,
    name: d.name ?? String(d.id),
    artifacts: (d.artifacts ?? []).map((a) => ({
      alias: a.alias ?? '',
      type: a.type ?? '',
      sourceId: a.sourceId ?? '',
      model: a.definitionReference?.definition?.id ?? a.definitionReference?.definition?.name,
      registry:
        a.definitionReference?.sourceType?.id === 'registry'
          ? (a.definitionReference?.registry?.id ?? a.definitionReference?.registry?.name)
          : undefined,
    })),
    webUrl: webUrlOf(d),
  };
}

/** release definition by id or exact name; InputError naming `input` when there is none */
export async function findReleaseDefinition(
  conn: DevOpsConnection,
  nameOrId: string,
  input = 'releaseDefinition',
): Promise<DefinitionInfo> {
  const api = await conn.release();
  const key = nameOrId.trim();
  let id: number | undefined = /^[0-9]+$/.test(key) ? Number(key) : undefined;
  if (id === undefined) {
    const list = await devopsCall(
      conn,
      `list release pipelines named '${key}'`,
      () =>
        api.getReleaseDefinitions(
          conn.project,
          key,
          ReleaseDefinitionExpands.None,
          undefined,
          undefined,
          100,
          undefined,
          undefined,
          undefined,
          true,
        ),
      { grant: GRANT_VIEW(key) },
    );
    const hits = (list ?? []).filter((d) => (d.name ?? '').toLowerCase() === key.toLowerCase());
    if (!hits.length)
      throw new InputError(input, `no release pipeline named '${key}' in project '${conn.projectName}'`);
    if (hits.length > 1)
      throw new InputError(
        input,
        `${hits.length} release pipelines are named '${key}' (${hits.map((d) => `${d.path ?? ''}\\${d.name} id ${d.id}`).join(', ')}): give the id`,
      );
    id = hits[0].id!;
  }
  const d = await devopsCall(conn, `read release pipeline ${key}`, () => api.getReleaseDefinition(conn.project, id!), {
    grant: GRANT_VIEW(key),
  });
  if (!d) throw new InputError(input, `release pipeline ${key} was not found in project '${conn.projectName}'`);
  return toDefinition(d);
}

/** the artifact to pin: by alias, else the definition's only artifact of our type */
export function pickModelArtifact(def: DefinitionInfo, alias?: string, modelName?: string): ModelArtifact {
  if (alias) {
    const a = def.artifacts.find((x) => x.alias.toLowerCase() === alias.toLowerCase());
    if (!a)
      throw new InputError(
        'artifactAlias',
        `release pipeline '${def.name}' has no artifact '${alias}' (it has: ${def.artifacts.map((x) => x.alias).join(', ') || 'none'})`,
      );
    return a;
  }
  const ours = def.artifacts.filter((x) => x.type === MODEL_ARTIFACT_TYPE);
  if (ours.length === 1) return ours[0];
  const byModel = modelName ? ours.filter((x) => !x.model || x.model.toLowerCase() === modelName.toLowerCase()) : ours;
  if (byModel.length === 1) return byModel[0];
  if (!ours.length)
    throw new InputError(
      'releaseDefinition',
      `release pipeline '${def.name}' has no Azure ML model artifact (type ${MODEL_ARTIFACT_TYPE}); add one or name the artifact in 'artifactAlias'`,
    );
  throw new InputError(
    'artifactAlias',
    `release pipeline '${def.name}' has ${byModel.length || ours.length} Azure ML model artifacts (${ours.map((x) => x.alias).join(', ')}): name one`,
  );
}

function releaseVersion(r: Release, a: ModelArtifact): string | undefined {
  const art = (r.artifacts ?? []).find((x) => x.alias === a.alias || (x.type === a.type && x.sourceId === a.sourceId));
  return art?.definitionReference?.version?.id;
}

/** releases of `def` whose model artifact is at `version` (asked of Azure DevOps; filter re-checked here) */
export async function findReleasesForVersion(
  conn: DevOpsConnection,
  def: DefinitionInfo,
  a: ModelArtifact,
  version: string,
): Promise<CreatedItem[]> {
  const api = await conn.release();
  const list = await devopsCall(
    conn,
    `list releases of '${def.name}'`,
    () =>
      api.getReleases(
        conn.project,
        def.id,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        100,
        undefined,
        ReleaseExpands.Artifacts,
        a.type,
        a.sourceId,
        version,
      ),
    { grant: GRANT_VIEW(def.name) },
  );
  return (list ?? [])
    .filter((r) => releaseVersion(r, a) === version)
    .map((r) => ({ id: r.id!, name: r.name ?? String(r.id), webUrl: webUrlOf(r), version, existing: true }));
}

/** create a release of `def` with the model artifact pinned to `version` (other artifacts at their default versions) */
export async function createModelRelease(
  conn: DevOpsConnection,
  def: DefinitionInfo,
  a: ModelArtifact,
  version: string,
  description: string,
  reason: 'push' | 'schedule',
): Promise<CreatedItem> {
  const api = await conn.release();
  const r = await devopsCall(
    conn,
    `create a release of '${def.name}'`,
    () =>
      api.createRelease(
        {
          definitionId: def.id,
          description: description.slice(0, 4000),
          artifacts: [{ alias: a.alias, instanceReference: { id: version, name: version } }],
          reason: reason === 'schedule' ? ReleaseReason.Schedule : ReleaseReason.ContinuousIntegration,
          isDraft: false,
        },
        conn.project,
      ),
    {
      grant: `Create releases' on release pipeline '${def.name}`,
      // a dropped answer may hide a release that was created: look before trying again
      beforeRetry: async () => (await findReleasesForVersion(conn, def, a, version))[0],
    },
  );
  return { id: r.id!, name: r.name ?? String(r.id), webUrl: webUrlOf(r), version, existing: false };
}

// ------------------------------------------------------------------------------------------------ YAML pipelines
export interface PipelineInfo {
  id: number;
  name: string;
  webUrl?: string;
}

export async function findPipeline(
  conn: DevOpsConnection,
  nameOrId: string,
  input = 'pipeline',
): Promise<PipelineInfo> {
  const api = await conn.pipelines();
  const key = nameOrId.trim();
  const grant = `View builds' on pipeline '${key}`;
  if (/^[0-9]+$/.test(key)) {
    const p = await devopsCall(conn, `read pipeline ${key}`, () => api.getPipeline(conn.project, Number(key)), {
      grant,
    }).catch((e) => {
      if (/\(HTTP 404\)/.test((e as Error).message))
        throw new InputError(input, `pipeline ${key} was not found in project '${conn.projectName}'`);
      throw e;
    });
    if (!p) throw new InputError(input, `pipeline ${key} was not found in project '${conn.projectName}'`);
    return { id: p.id!, name: p.name ?? key, webUrl: webUrlOf(p) };
  }
  const all = await devopsCall(conn, 'list pipelines', () => api.listPipelines(conn.project, undefined, 1000), {
    grant,
  });
  const hits = (all ?? []).filter((p) => (p.name ?? '').toLowerCase() === key.toLowerCase());
  if (!hits.length) throw new InputError(input, `no pipeline named '${key}' in project '${conn.projectName}'`);
  if (hits.length > 1)
    throw new InputError(
      input,
      `${hits.length} pipelines are named '${key}' (${hits.map((p) => `${p.folder ?? ''}\\${p.name} id ${p.id}`).join(', ')}): give the id`,
    );
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
      const list = (
        (await devopsCall(conn, `list runs of pipeline '${p.name}'`, () => api.listRuns(conn.project, p.id), {
          grant,
        })) ?? []
      )
        .sort((a, b) => (b.id ?? 0) - (a.id ?? 0))
        .slice(0, scan);
      const out: Run[] = [];
      for (let i = 0; i < list.length; i += 8) {
        const full = await Promise.all(
          list.slice(i, i + 8).map((r) =>
            devopsCall(conn, `read run ${r.id} of '${p.name}'`, () => api.getRun(conn.project, p.id, r.id!), {
              grant,
            }),
          ),
        );
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

/**
 * The build tag put on every run this task starts: `azureml-model:<name>:<version>`. Builds - List with
 * `definitions=<id>&tagFilters=<tag>` finds the run again exactly, however many runs the pipeline had since
 * (Pipelines - Runs - List has no filter and leaves out the template parameters, so matching by parameters means
 * reading runs one by one: affordable only for the newest few).
 */
export function modelRunTag(model: string, version: string): string {
  return `azureml-model:${model}:${version}`;
}

async function buildApi(conn: DevOpsConnection) {
  if (!conn.build) throw new UserError('Azure DevOps Build area is not available on this connection');
  return conn.build();
}

/** ids of the pipeline's runs (= builds) carrying `tag`, newest first */
async function taggedRunIds(conn: DevOpsConnection, p: PipelineInfo, tag: string): Promise<number[]> {
  const api = await buildApi(conn);
  const list = await devopsCall(
    conn,
    `list runs of pipeline '${p.name}' tagged '${tag}'`,
    () =>
      api.getBuilds(
        conn.project,
        [p.id],
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        [tag],
        undefined,
        1000,
      ),
    { grant: `View builds' on pipeline '${p.name}` },
  );
  return (list ?? [])
    .filter(
      (b) =>
        (b.definition?.id === undefined || b.definition.id === p.id) &&
        (b.tags ?? []).some((t) => t.toLowerCase() === tag.toLowerCase()),
    )
    .map((b) => b.id!)
    .sort((a, b) => b - a);
}

/** add `tag` to run `runId`; the failure's one-line text when Azure DevOps refuses (the run exists either way) */
async function tagRun(
  conn: DevOpsConnection,
  p: PipelineInfo,
  runId: number,
  tag: string,
): Promise<string | undefined> {
  try {
    const api = await buildApi(conn);
    await devopsCall(
      conn,
      `tag run ${runId} of pipeline '${p.name}'`,
      () => api.addBuildTags([tag], conn.project, runId),
      { grant: `Edit build quality' on pipeline '${p.name}` },
    );
    return undefined;
  } catch (err) {
    if (conn.signal?.aborted) throw err;
    return (err as Error)?.message ?? String(err);
  }
}

/**
 * Runs of the pipeline started for this model version with these template parameters. First the exact way: runs
 * tagged {@link modelRunTag} (any age), parameters re-checked on each run. Then runs without the tag (started before
 * the task tagged its runs, by hand, or when tagging was refused) among the newest `scan`; such a run gets the tag
 * (best effort) so it stays findable once newer runs push it out of that window.
 */
export async function findRunsWithParameters(
  conn: DevOpsConnection,
  p: PipelineInfo,
  params: Record<string, string>,
  model: string,
  version: string,
  scan = 50,
): Promise<CreatedItem[]> {
  const tag = modelRunTag(model, version);
  const api = await conn.pipelines();
  const grant = `View builds' on pipeline '${p.name}`;
  const tagged: Run[] = [];
  for (const id of await taggedRunIds(conn, p, tag)) {
    const r = await devopsCall(conn, `read run ${id} of '${p.name}'`, () => api.getRun(conn.project, p.id, id), {
      grant,
    });
    if (r && sameParams(r, params)) tagged.push(r);
  }
  let found = tagged;
  if (!found.length) {
    found = (await recentRuns(conn, p, scan)).filter((r) => sameParams(r, params));
    // only a run whose parameters name this version is this version's run for good
    if (Object.values(params).some((v) => v.includes(version)))
      for (const r of found) await tagRun(conn, p, r.id!, tag);
  }
  return found.map((r) => ({ id: r.id!, name: r.name ?? String(r.id), webUrl: webUrlOf(r), version, existing: true }));
}

/** queue a run with these template parameters and tag it {@link modelRunTag} (a refused tag is a warning on the result) */
export async function runPipelineWithParameters(
  conn: DevOpsConnection,
  p: PipelineInfo,
  params: Record<string, string>,
  model: string,
  version: string,
): Promise<CreatedItem> {
  const api = await conn.pipelines();
  const tag = modelRunTag(model, version);
  const r: Run = await devopsCall(
    conn,
    `queue a run of pipeline '${p.name}'`,
    () => api.runPipeline({ templateParameters: params }, conn.project, p.id),
    {
      grant: `Queue builds' on pipeline '${p.name}`,
      // a dropped answer may hide a run that was queued: look (the newest runs; it is not tagged yet) before trying again
      beforeRetry: async () => {
        runCache.get(conn)?.delete(p.id);
        const retried = (await findRunsWithParameters(conn, p, params, model, version, 10))[0];
        return retried
          ? ({
              id: retried.id,
              name: retried.name,
              _links: retried.webUrl ? { web: { href: retried.webUrl } } : undefined,
            } as Run)
          : undefined;
      },
    },
  );
  (
    await runCache
      .get(conn)
      ?.get(p.id)
      ?.catch(() => undefined)
  )?.unshift(r);
  const refused = await tagRun(conn, p, r.id!, tag);
  const warning = refused
    ? `Run ${r.name ?? r.id} was started but could not be tagged '${tag}': ${refused} Until it is tagged, a rerun recognises this run only while it is among the newest runs of the pipeline.`
    : undefined;
  return {
    id: r.id!,
    name: r.name ?? String(r.id),
    webUrl: webUrlOf(r),
    version,
    existing: false,
    ...(warning ? { warning } : {}),
  };
}

// ------------------------------------------------------------------------------------------------ approvals (governance)
/** An approval as the deploy task records it (deployment tags, model card): the one shape every layer uses. */
export interface Approval {
  approver: string;
  approvedOn: string;
  comments?: string;
}
export interface ApprovalInfo extends Approval {
  approverId?: string;
  stage: string;
  status: string;
}

const STATUS_NAME: Record<number, string> = {
  [ApprovalStatus.Pending]: 'pending',
  [ApprovalStatus.Approved]: 'approved',
  [ApprovalStatus.Rejected]: 'rejected',
  [ApprovalStatus.Skipped]: 'skipped',
};

/** approved pre-deployment approvals of a release, for one stage (by environment id, else by name) */
export async function releaseApprovals(
  conn: DevOpsConnection,
  releaseId: number,
  stage: { id?: number; name?: string },
): Promise<ApprovalInfo[]> {
  const api = await conn.release();
  const list: ReleaseApproval[] =
    (await devopsCall(
      conn,
      `read the approvals of release ${releaseId}`,
      () =>
        api.getApprovals(conn.project, undefined, ApprovalStatus.Approved, [releaseId], ApprovalType.PreDeploy, 100),
      { grant: `View releases' on the release pipeline of release ${releaseId}` },
    )) ?? [];
  return list
    .filter((a) => a.release?.id === releaseId)
    .filter((a) =>
      stage.id !== undefined
        ? a.releaseEnvironment?.id === stage.id
        : (a.releaseEnvironment?.name ?? '').toLowerCase() === (stage.name ?? '').toLowerCase(),
    )
    .filter((a) => !a.isAutomated)
    .map((a) => ({
      approver: a.approvedBy?.displayName ?? a.approver?.displayName ?? 'unknown',
      approverId: a.approvedBy?.uniqueName ?? a.approvedBy?.id,
      approvedOn: (a.modifiedOn instanceof Date
        ? a.modifiedOn
        : new Date(String(a.modifiedOn ?? a.createdOn ?? ''))
      ).toISOString(),
      comments: a.comments || undefined,
      stage: a.releaseEnvironment?.name ?? stage.name ?? '',
      status: STATUS_NAME[a.status as number] ?? String(a.status),
    }));
}

export async function getReleaseName(conn: DevOpsConnection, releaseId: number): Promise<string> {
  const api = await conn.release();
  const r = await devopsCall(conn, `read release ${releaseId}`, () => api.getRelease(conn.project, releaseId), {
    grant: `View releases' on the release pipeline of release ${releaseId}`,
  });
  if (!r) throw new UserError(`Release ${releaseId} was not found`);
  return r.name ?? String(releaseId);
}
