// Azure DevOps Pipelines (YAML) runs, the subset azure-devops-node-api 17.0.1's PipelinesApi calls. node-api resolves
// getPipelinesApi() through the WorkItemTracking area's locationUrl (= the collection URI, see release.ts ResourceAreas),
// then OPTIONS {collection}_apis/pipelines:
//   pipelines  28e1305e  {project}/_apis/{area}/{pipelineId}                      get / list
//   runs       7859261e  {project}/_apis/{area}/{pipelineId}/{resource}/{runId}   runPipeline (POST) / getRun / listRuns
// runPipeline validates templateParameters against the pipeline's declared parameters (unknown → 400, missing required → 400),
// needs 'Queue builds' (403 TF215106 otherwise).
// A run is a build of the same id (as on the service); the Build area (BuildApi, OPTIONS {collection}_apis/build) serves:
//   builds     0cd358e1  {project}/_apis/{area}/{resource}/{buildId}                 getBuilds: definitions, tagFilters (all
//                                                                                   tags, case-insensitive), $top, continuationToken
//                                                                                   (x-ms-continuationtoken header), newest first
//   tags       6e6114b2  {project}/_apis/{area}/builds/{buildId}/{resource}/{*tag}  addBuildTags (POST string[]; 'Edit build quality'),
//                                                                                   getBuildTags
import type { EmulatorContext, DevopsLocation } from '../context';
import type { Req, Router } from '../http';
import { requireJobToken } from '../devopskit';
import { checkApiVersion, checkProject, devopsFail, nextId, requirePermission } from './release';

export const PIPELINES = 'pipelines';
export const RUNS = 'pipelineRuns';

export interface PipelineRecord {
  id: number;
  name: string;
  folder: string;
  revision: number;
  yamlPath: string;
  parameters: Array<{ name: string; type: 'string' | 'number' | 'boolean'; default?: string; values?: string[] }>;
}
export interface RunRecord {
  id: number;
  pipelineId: number;
  name: string;
  state: 'inProgress' | 'completed' | 'canceling';
  result?: string;
  createdDate: string;
  templateParameters: Record<string, string>;
  branch: string;
  /** build tags (Build area) */
  tags?: string[];
}

const LOC = { minVersion: '5.1', maxVersion: '7.2', releasedVersion: '7.1' };
const LOCATIONS: DevopsLocation[] = [
  {
    id: '28e1305e-2afe-47bf-abaf-cbb0e6a91988',
    area: 'pipelines',
    resourceName: 'pipelines',
    routeTemplate: '{project}/_apis/{area}/{pipelineId}',
    resourceVersion: 1,
    ...LOC,
  },
  {
    id: '7859261e-d2e9-4a68-b820-a5d84cc5bb3d',
    area: 'pipelines',
    resourceName: 'runs',
    routeTemplate: '{project}/_apis/{area}/{pipelineId}/{resource}/{runId}',
    resourceVersion: 1,
    ...LOC,
  },
];

const BUILD_LOC = { minVersion: '2.0', maxVersion: '7.2', releasedVersion: '7.1' };
const BUILD_LOCATIONS: DevopsLocation[] = [
  {
    id: '0cd358e1-9217-4d94-8269-1c1ee6f93dcf',
    area: 'build',
    resourceName: 'builds',
    routeTemplate: '{project}/_apis/{area}/{resource}/{buildId}',
    resourceVersion: 7,
    ...BUILD_LOC,
  },
  {
    id: '6e6114b2-8161-44c8-8f6c-c5505782427f',
    area: 'build',
    resourceName: 'tags',
    routeTemplate: '{project}/_apis/{area}/builds/{buildId}/{resource}/{*tag}',
    resourceVersion: 3,
    ...BUILD_LOC,
  },
];

export const SEED_PIPELINE = 'model-cd-yaml';

/** a run queued by someone else (a CI trigger, a person): what a busy pipeline has beside the task's runs */
export function addRun(
  ctx: EmulatorContext,
  pipelineId: number,
  templateParameters: Record<string, string>,
  tags: string[] = [],
): RunRecord {
  const id = nextId(ctx, 'run') + 100;
  const r: RunRecord = {
    id,
    pipelineId,
    name: `ci.${id}`,
    state: 'completed',
    result: 'succeeded',
    createdDate: new Date().toISOString(),
    templateParameters,
    branch: 'refs/heads/main',
    tags,
  };
  ctx.store.put(RUNS, String(id), r);
  return r;
}

export function addPipeline(
  ctx: EmulatorContext,
  o: { name: string; parameters?: PipelineRecord['parameters'] },
): PipelineRecord {
  const existing = ctx.store.list<PipelineRecord>(PIPELINES).find((p) => p.name.toLowerCase() === o.name.toLowerCase());
  if (existing) return existing;
  const id = nextId(ctx, 'pipeline') + 6; // ids that do not look like the release definition ids
  const p: PipelineRecord = {
    id,
    name: o.name,
    folder: '\\',
    revision: 1,
    yamlPath: `/pipelines/${o.name}.yml`,
    parameters: o.parameters ?? [],
  };
  ctx.store.put(PIPELINES, String(id), p);
  return p;
}

export function listRuns(ctx: EmulatorContext, pipelineId?: number): RunRecord[] {
  return ctx.store
    .list<RunRecord>(RUNS)
    .filter((r) => pipelineId === undefined || r.pipelineId === pipelineId)
    .sort((a, b) => b.id - a.id);
}

export function register(router: Router, ctx: EmulatorContext): void {
  ctx.devops.locations.push(...LOCATIONS, ...BUILD_LOCATIONS);
  addPipeline(ctx, {
    name: SEED_PIPELINE,
    parameters: [
      { name: 'modelName', type: 'string' },
      { name: 'modelVersion', type: 'string' },
      { name: 'environment', type: 'string', default: 'staging', values: ['staging', 'production'] },
    ],
  });

  const base = '/:org/:project/_apis/pipelines';
  const pre = (req: Req, i: number) => {
    checkProject(ctx, req.params.org, req.params.project);
    requireJobToken(ctx, req);
    checkApiVersion(req, LOCATIONS[i]);
  };
  const getPipeline = (id: string): PipelineRecord =>
    ctx.store.get<PipelineRecord>(PIPELINES, String(Number(id))) ??
    devopsFail(
      404,
      'Microsoft.Azure.Pipelines.WebApi.PipelineNotFoundException, Microsoft.Azure.Pipelines.WebApi',
      `Pipeline with id ${id} not found.`,
    );
  const pipelineUrl = (p: PipelineRecord) =>
    `${ctx.collectionUri}${ctx.ids.projectId}/_apis/pipelines/${p.id}?revision=${p.revision}`;
  const pipelineJson = (p: PipelineRecord) => ({
    _links: {
      self: { href: pipelineUrl(p) },
      web: {
        href: `${ctx.collectionUri}${encodeURIComponent(ctx.ids.projectName)}/_build/definition?definitionId=${p.id}`,
      },
    },
    configuration: { path: p.yamlPath, repository: { id: ctx.ids.projectId, type: 'azureReposGit' }, type: 'yaml' },
    url: pipelineUrl(p),
    id: p.id,
    revision: p.revision,
    name: p.name,
    folder: p.folder,
  });
  const runJson = (r: RunRecord, p: PipelineRecord) => {
    const url = `${ctx.collectionUri}${ctx.ids.projectId}/_apis/pipelines/${p.id}/runs/${r.id}`;
    return {
      _links: {
        self: { href: url },
        web: { href: `${ctx.collectionUri}${encodeURIComponent(ctx.ids.projectName)}/_build/results?buildId=${r.id}` },
        'pipeline.web': { href: pipelineJson(p)._links.web.href },
        pipeline: { href: pipelineUrl(p) },
      },
      templateParameters: r.templateParameters,
      pipeline: { url: pipelineUrl(p), id: p.id, revision: p.revision, name: p.name, folder: p.folder },
      state: r.state,
      ...(r.result ? { result: r.result } : {}),
      createdDate: r.createdDate,
      url,
      resources: {
        repositories: {
          self: {
            repository: { id: ctx.ids.projectId, type: 'azureReposGit' },
            refName: r.branch,
            version: '0000000000000000000000000000000000000000',
          },
        },
      },
      id: r.id,
      name: r.name,
    };
  };

  router.add('GET', base, (req) => {
    pre(req, 0);
    const value = ctx.store
      .list<PipelineRecord>(PIPELINES)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map(pipelineJson);
    return { status: 200, body: { count: value.length, value } };
  });
  router.add('GET', `${base}/:pipelineId`, (req) => {
    pre(req, 0);
    return { status: 200, body: pipelineJson(getPipeline(req.params.pipelineId)) };
  });
  router.add('GET', `${base}/:pipelineId/runs`, (req) => {
    pre(req, 1);
    const p = getPipeline(req.params.pipelineId);
    // the list carries no templateParameters (as the service's list answer); getRun has them
    const value = listRuns(ctx, p.id).map((r) => {
      const j: any = runJson(r, p);
      delete j.templateParameters;
      delete j.resources;
      return j;
    });
    return { status: 200, body: { count: value.length, value } };
  });
  router.add('GET', `${base}/:pipelineId/runs/:runId`, (req) => {
    pre(req, 1);
    const p = getPipeline(req.params.pipelineId);
    const r = ctx.store.get<RunRecord>(RUNS, String(Number(req.params.runId)));
    if (!r || r.pipelineId !== p.id)
      devopsFail(
        404,
        'Microsoft.Azure.Pipelines.WebApi.RunNotFoundException, Microsoft.Azure.Pipelines.WebApi',
        `Run with id ${req.params.runId} not found.`,
      );
    return { status: 200, body: runJson(r, p) };
  });
  router.add('POST', `${base}/:pipelineId/runs`, (req) => {
    pre(req, 1);
    const p = getPipeline(req.params.pipelineId);
    requirePermission(ctx, req, 'QueueBuilds', { pipelineId: p.id, pipelineName: p.name });
    const b = req.body ?? {};
    const tp: Record<string, unknown> = b.templateParameters ?? {};
    if (typeof tp !== 'object' || Array.isArray(tp))
      devopsFail(
        400,
        'Microsoft.Azure.Pipelines.WebApi.PipelineValidationException, Microsoft.Azure.Pipelines.WebApi',
        'templateParameters must be an object.',
      );
    const errors: string[] = [];
    for (const k of Object.keys(tp))
      if (!p.parameters.some((x) => x.name === k)) errors.push(`Unexpected parameter '${k}'`);
    const out: Record<string, string> = {};
    for (const prm of p.parameters) {
      const v = tp[prm.name];
      if (v === undefined || v === null) {
        if (prm.default === undefined) errors.push(`A value for the '${prm.name}' parameter must be provided.`);
        else out[prm.name] = prm.default;
        continue;
      }
      const s = String(v);
      if (prm.values && !prm.values.includes(s))
        errors.push(`The '${prm.name}' parameter value '${s}' is not a valid value.`);
      out[prm.name] = s;
    }
    if (errors.length)
      devopsFail(
        400,
        'Microsoft.Azure.Pipelines.WebApi.PipelineValidationException, Microsoft.Azure.Pipelines.WebApi',
        `${p.yamlPath.slice(1)}: ${errors.join(', ')}`,
      );
    const id = nextId(ctx, 'run') + 100;
    const d = new Date();
    const day = `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
    const sameDay = listRuns(ctx).filter((r) => r.name.startsWith(day + '.')).length;
    const branch = String(b.resources?.repositories?.self?.refName ?? 'refs/heads/main');
    const r: RunRecord = {
      id,
      pipelineId: p.id,
      name: `${day}.${sameDay + 1}`,
      state: 'inProgress',
      createdDate: d.toISOString(),
      templateParameters: out,
      branch,
    };
    ctx.store.put(RUNS, String(id), r);
    return { status: 200, body: runJson(r, p) };
  });

  // ---- Build area: runs seen as builds (tag filter) and their tags
  const bpre = (req: Req, i: number) => {
    checkProject(ctx, req.params.org, req.params.project);
    requireJobToken(ctx, req);
    checkApiVersion(req, BUILD_LOCATIONS[i]);
  };
  const buildJson = (r: RunRecord) => {
    const p = getPipeline(String(r.pipelineId));
    const url = `${ctx.collectionUri}${ctx.ids.projectId}/_apis/build/Builds/${r.id}`;
    return {
      _links: {
        self: { href: url },
        web: { href: `${ctx.collectionUri}${encodeURIComponent(ctx.ids.projectName)}/_build/results?buildId=${r.id}` },
      },
      tags: r.tags ?? [],
      id: r.id,
      buildNumber: r.name,
      status: r.state === 'completed' ? 'completed' : 'inProgress',
      ...(r.result ? { result: r.result } : {}),
      queueTime: r.createdDate,
      url,
      definition: {
        id: p.id,
        name: p.name,
        path: p.folder,
        type: 'build',
        queueStatus: 'enabled',
        revision: p.revision,
        project: { id: ctx.ids.projectId, name: ctx.ids.projectName },
      },
      project: { id: ctx.ids.projectId, name: ctx.ids.projectName },
      sourceBranch: r.branch,
      reason: 'manual',
      priority: 'normal',
    };
  };
  const getBuild = (id: string): RunRecord =>
    ctx.store.get<RunRecord>(RUNS, String(Number(id))) ??
    devopsFail(
      404,
      'Microsoft.TeamFoundation.Build.WebApi.BuildNotFoundException, Microsoft.TeamFoundation.Build2.WebApi',
      `The requested build ${id} could not be found.`,
    );
  const csv = (v: string | null) =>
    (v ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  router.add('GET', '/:org/:project/_apis/build/builds', (req) => {
    bpre(req, 0);
    requirePermission(ctx, req, 'ViewBuilds');
    const defs = csv(req.query.get('definitions')).map(Number);
    const tags = csv(req.query.get('tagFilters')).map((t) => t.toLowerCase());
    const top = Math.max(1, Math.min(5000, Number(req.query.get('$top') ?? 1000) || 1000));
    // continuation token: the id to continue below (newest first)
    const below = Number(req.query.get('continuationToken') ?? Infinity) || Infinity;
    const all = listRuns(ctx)
      .filter((r) => !defs.length || defs.includes(r.pipelineId))
      .filter((r) => tags.every((t) => (r.tags ?? []).some((x) => x.toLowerCase() === t)))
      .filter((r) => r.id < below);
    const page = all.slice(0, top);
    const more = all.length > top;
    return {
      status: 200,
      ...(more ? { headers: { 'x-ms-continuationtoken': String(page[page.length - 1]!.id) } } : {}),
      body: { count: page.length, value: page.map(buildJson) },
    };
  });
  router.add('GET', '/:org/:project/_apis/build/builds/:buildId/tags', (req) => {
    bpre(req, 1);
    requirePermission(ctx, req, 'ViewBuilds');
    const r = getBuild(req.params.buildId);
    return { status: 200, body: { count: (r.tags ?? []).length, value: r.tags ?? [] } };
  });
  router.add('POST', '/:org/:project/_apis/build/builds/:buildId/tags', (req) => {
    bpre(req, 1);
    const r = getBuild(req.params.buildId);
    requirePermission(ctx, req, 'EditBuildQuality', {
      pipelineId: r.pipelineId,
      pipelineName: getPipeline(String(r.pipelineId)).name,
    });
    const b = req.body;
    if (!Array.isArray(b) || b.some((t) => typeof t !== 'string' || !t.trim())) {
      devopsFail(400, 'System.ArgumentException, mscorlib', 'Value cannot be null or empty.\r\nParameter name: tags');
    }
    const tags = [...(r.tags ?? [])];
    for (const t of b as string[])
      if (!tags.some((x) => x.toLowerCase() === t.trim().toLowerCase())) tags.push(t.trim());
    tags.sort((x, y) => x.localeCompare(y));
    ctx.store.put(RUNS, String(r.id), { ...r, tags });
    return { status: 200, body: { count: tags.length, value: tags } };
  });
}
