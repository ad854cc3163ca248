// Azure DevOps Release Management (classic releases), the subset azure-devops-node-api 17.0.1 calls:
//   WebApi.getReleaseApi() → LocationsApi.getResourceAreas(): OPTIONS {collection}_apis/Location, then
//     GET {collection}_apis/ResourceAreas → the Release area's locationUrl (real service: https://vsrm.dev.azure.com/{org}/).
//   Here the release host is the same DevOps host under its own path prefix: {devopsUrl}vsrm/{org}/ — so a client that
//   builds release URLs from the collection URI instead of the resource-area lookup fails here as it would for real.
//   ReleaseApi: OPTIONS {vsrm}_apis/Release (location discovery), then
//     definitions  d8f96f24  {project}/_apis/{area}/{resource}/{definitionId}   get / list
//     releases     a166fde7  {project}/_apis/{area}/{resource}/{releaseId}      create / list (filters) / get / PATCH (updateReleaseResource) / PUT (updateRelease)
//     approvals    b47c6458  {project}/_apis/{area}/{resource}                  list (releaseIdsFilter, statusFilter, typeFilter)
//     approvals    9328e074  {project}/_apis/{area}/{resource}/{approvalId}     PATCH (updateReleaseApproval)
// The request's api-version comes in the Accept header (node-api) or the query; writes without one get the service's 400.
// Permissions: job tokens are store kind 'devopsTokens' records `{ token, deny?: Permission[] }` (see addRestrictedJobToken);
// a denied permission answers 403 with the service's message (VS402904 / TF215106).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes, randomUUID } from 'node:crypto';
import type { EmulatorContext, DevopsLocation } from '../context';
import { header, HttpError, type Req, type Res, type Router } from '../http';
import { requireJobToken } from '../devopskit';

export const RELEASE_AREA_ID = 'efc2f575-36ef-48e9-b672-0c6fb4a48ac5';
/** WorkItemTracking area id: node-api 17 resolves getPipelinesApi() through this area's locationUrl (= the collection) */
export const WIT_AREA_ID = '5264459e-e5e0-4bd8-b118-0985e68a4ec5';
export const DEFS = 'releaseDefinitions';
export const RELEASES = 'releases';
export const APPROVALS = 'releaseApprovals';
const COUNTERS = 'devopsCounters';

export type Permission =
  | 'ViewReleases'
  | 'CreateReleases'
  | 'ManageReleases'
  | 'ManageApprovals'
  | 'QueueBuilds'
  | 'ViewBuilds'
  | 'EditBuildQuality';
const PERMISSION_TEXT: Record<Permission, string> = {
  ViewReleases: 'view releases',
  CreateReleases: 'create releases',
  ManageReleases: 'manage releases',
  ManageApprovals: 'manage approvals',
  QueueBuilds: 'Queue builds',
  ViewBuilds: 'View builds',
  EditBuildQuality: 'Edit build quality',
};

/** the artifact type name of our release-artifact contribution (read from vss-extension.json; 'AzureMLModel' when absent) */
export function modelArtifactType(): string {
  try {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const m = JSON.parse(fs.readFileSync(path.resolve(here, '..', '..', '..', 'vss-extension.json'), 'utf8'));
    const c = (m.contributions ?? []).find((x: any) => x.type === 'ms.vss-releaseartifact.release-artifact-type');
    if (c?.properties?.name) return String(c.properties.name);
  } catch {
    /* fall through */
  }
  return 'AzureMLModel';
}

// ------------------------------------------------------------------------------------------------ shared helpers
export function buildServiceName(ctx: EmulatorContext): string {
  return `${ctx.ids.projectName} Build Service (${ctx.ids.orgName})`;
}
export function buildServiceIdentity(ctx: EmulatorContext) {
  return {
    displayName: buildServiceName(ctx),
    id: ctx.ids.projectId,
    uniqueName: `Build\\${ctx.ids.projectId}`,
    isContainer: false,
  };
}

/** devops error body with the real typeName */
export function devopsFail(status: number, typeName: string, message: string): never {
  const typeKey = typeName.split(',')[0].split('.').pop()!;
  throw new HttpError({
    status,
    body: { $id: '1', innerException: null, message, typeName, typeKey, errorCode: 0, eventId: 3000 },
  });
}

/** the caller's token record (after requireJobToken) */
export function tokenRecord(ctx: EmulatorContext, req: Req): { token: string; deny?: Permission[] } {
  const tok = requireJobToken(ctx, req);
  return (
    ctx.store.list<{ token: string; deny?: Permission[] }>('devopsTokens').find((t) => t.token === tok) ?? {
      token: tok,
    }
  );
}

export function requirePermission(
  ctx: EmulatorContext,
  req: Req,
  p: Permission,
  what?: { pipelineId?: number; pipelineName?: string },
): void {
  const rec = tokenRecord(ctx, req);
  if (!rec.deny?.includes(p)) return;
  if (p === 'QueueBuilds' || p === 'ViewBuilds' || p === 'EditBuildQuality') {
    devopsFail(
      403,
      'Microsoft.TeamFoundation.Build.WebApi.AccessDeniedException, Microsoft.TeamFoundation.Build2.WebApi',
      `TF215106: Access denied. ${buildServiceName(ctx)} needs ${PERMISSION_TEXT[p]} permissions for build pipeline ${what?.pipelineId}:${what?.pipelineName} in team project ${ctx.ids.projectName} to perform the action. For more information, contact the Azure DevOps administrator.`,
    );
  }
  devopsFail(
    403,
    'Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException, Microsoft.TeamFoundation.Framework.Server',
    `VS402904: Access denied: User ${buildServiceName(ctx)} does not have ${PERMISSION_TEXT[p]} permission. Contact your release manager.`,
  );
}

/** api-version from the Accept header (node-api) or the query; writes need one (VssVersionNotSpecifiedException) */
export function checkApiVersion(req: Req, loc: Pick<DevopsLocation, 'releasedVersion' | 'maxVersion'>): void {
  const accept = header(req, 'accept') ?? '';
  const v = req.query.get('api-version') ?? /api-version=([^;,\s]+)/i.exec(accept)?.[1];
  if (!v) {
    if (req.method === 'GET' || req.method === 'OPTIONS') return;
    devopsFail(
      400,
      'Microsoft.VisualStudio.Services.WebApi.VssVersionNotSpecifiedException, Microsoft.VisualStudio.Services.WebApi',
      `No api-version was supplied for the ${req.method} request. The version must be supplied either as part of the Accept header (e.g. "application/json; api-version=1.0") or as a query parameter (e.g. '?api-version=1.0').`,
    );
  }
  const m = /^(\d+(?:\.\d+)?)(-preview(?:\.(\d+))?)?$/.exec(v);
  if (!m)
    devopsFail(
      400,
      'Microsoft.VisualStudio.Services.WebApi.VssInvalidApiVersionException, Microsoft.VisualStudio.Services.WebApi',
      `The api-version '${v}' is not valid.`,
    );
  const num = Number(m[1]);
  if (num > Number(loc.maxVersion)) {
    devopsFail(
      400,
      'Microsoft.VisualStudio.Services.WebApi.VssVersionOutOfRangeException, Microsoft.VisualStudio.Services.WebApi',
      `The requested REST API version of ${v} is out of range for this server. The latest REST API version this server supports is ${loc.maxVersion}.`,
    );
  }
  if (num > Number(loc.releasedVersion) && !m[2]) {
    devopsFail(
      400,
      'Microsoft.VisualStudio.Services.WebApi.VssInvalidPreviewVersionException, Microsoft.VisualStudio.Services.WebApi',
      `The requested version "${v}" of the resource is under preview. The -preview flag must be supplied in the api-version for such requests. For example: "${v}-preview"`,
    );
  }
}

export function checkProject(ctx: EmulatorContext, org: string, project?: string): void {
  if (org.toLowerCase() !== ctx.ids.orgName.toLowerCase()) {
    devopsFail(
      404,
      'Microsoft.VisualStudio.Services.Organization.HostNotFoundException, Microsoft.VisualStudio.Services.WebApi',
      `The resource cannot be found: organization '${org}'.`,
    );
  }
  if (
    project !== undefined &&
    project.toLowerCase() !== ctx.ids.projectId.toLowerCase() &&
    project.toLowerCase() !== ctx.ids.projectName.toLowerCase()
  ) {
    devopsFail(
      404,
      'Microsoft.TeamFoundation.Core.WebApi.ProjectDoesNotExistWithNameException, Microsoft.TeamFoundation.Core.WebApi',
      `TF200016: The following project does not exist: ${project}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.`,
    );
  }
}

export function nextId(ctx: EmulatorContext, kind: string): number {
  const c = ctx.store.get<{ n: number }>(COUNTERS, kind)?.n ?? 0;
  ctx.store.put(COUNTERS, kind, { n: c + 1 });
  return c + 1;
}

/** enum query value: a number, a name, or a comma list of names (flags) */
function enumFlags(v: string | null, names: Record<string, number>): number | undefined {
  if (v === null || v === '') return undefined;
  if (/^\d+$/.test(v)) return Number(v);
  let n = 0;
  for (const part of v.split(',')) {
    const k = Object.keys(names).find((x) => x.toLowerCase() === part.trim().toLowerCase());
    if (k === undefined) devopsFail(400, 'System.ArgumentException, mscorlib', `The value '${part}' is not valid.`);
    n |= names[k];
  }
  return n;
}
const APPROVAL_STATUS: Record<string, number> = {
  undefined: 0,
  pending: 1,
  approved: 2,
  rejected: 4,
  reassigned: 6,
  canceled: 7,
  skipped: 8,
};
const APPROVAL_TYPE: Record<string, number> = { undefined: 0, preDeploy: 1, postDeploy: 2, all: 3 };
const EXPANDS: Record<string, number> = {
  none: 0,
  environments: 2,
  artifacts: 4,
  approvals: 8,
  manualInterventions: 16,
  variables: 32,
  tags: 64,
};

// ------------------------------------------------------------------------------------------------ records
export interface DefinitionArtifact {
  alias: string;
  type: string;
  sourceId: string;
  isPrimary?: boolean;
  isRetained?: boolean;
  definitionReference: Record<string, { id: string; name?: string }>;
}
export interface DefinitionEnvironment {
  id: number;
  name: string;
  rank: number;
  /** pre-deployment approvers (empty = automated) */
  approvers?: Array<{ displayName: string; id?: string; uniqueName?: string }>;
}
export interface DefinitionRecord {
  id: number;
  name: string;
  path: string;
  releaseNameFormat: string;
  revision: number;
  artifacts: DefinitionArtifact[];
  environments: DefinitionEnvironment[];
  variables?: Record<string, { value: string }>;
  createdOn: string;
  modifiedOn: string;
}
export interface ReleaseRecord {
  id: number;
  name: string;
  status: 'active' | 'draft' | 'abandoned';
  reason: string;
  description: string;
  createdOn: string;
  modifiedOn: string;
  definitionId: number;
  definitionRevision: number;
  artifacts: Array<
    DefinitionArtifact & {
      definitionReference: DefinitionArtifact['definitionReference'] & { version: { id: string; name: string } };
    }
  >;
  environments: Array<{ id: number; name: string; rank: number; definitionEnvironmentId: number; status: string }>;
  variables: Record<string, { value: string }>;
  tags: string[];
  createdFor?: string;
}
export interface ApprovalRecord {
  id: number;
  releaseId: number;
  environmentId: number;
  environmentName: string;
  definitionId: number;
  approvalType: 'preDeploy' | 'postDeploy';
  status: 'pending' | 'approved' | 'rejected' | 'skipped' | 'canceled';
  approver: { displayName: string; id: string; uniqueName?: string };
  approvedBy?: { displayName: string; id: string; uniqueName?: string };
  comments: string;
  isAutomated: boolean;
  rank: number;
  createdOn: string;
  modifiedOn: string;
  revision: number;
}

// ------------------------------------------------------------------------------------------------ module
const LOC = { minVersion: '3.0', maxVersion: '7.2', releasedVersion: '7.1' };
export const RELEASE_LOCATIONS: DevopsLocation[] = [
  {
    id: 'd8f96f24-8ea7-4cb6-baab-2df8fc515665',
    area: 'Release',
    resourceName: 'definitions',
    routeTemplate: '{project}/_apis/{area}/{resource}/{definitionId}',
    resourceVersion: 4,
    ...LOC,
  },
  {
    id: 'a166fde7-27ad-408e-ba75-703c2cc9d500',
    area: 'Release',
    resourceName: 'releases',
    routeTemplate: '{project}/_apis/{area}/{resource}/{releaseId}',
    resourceVersion: 9,
    ...LOC,
  },
  {
    id: 'b47c6458-e73b-47cb-a770-4df1e8813a91',
    area: 'Release',
    resourceName: 'approvals',
    routeTemplate: '{project}/_apis/{area}/{resource}',
    resourceVersion: 3,
    ...LOC,
  },
  {
    id: '9328e074-59fb-465a-89d9-b09c82ee5109',
    area: 'Release',
    resourceName: 'approvals',
    routeTemplate: '{project}/_apis/{area}/{resource}/{approvalId}',
    resourceVersion: 3,
    ...LOC,
  },
];

/** base URL of the emulated release host (what the Release resource area's locationUrl says) */
export function releaseHostUrl(ctx: EmulatorContext): string {
  return `${ctx.devopsUrl}vsrm/${ctx.ids.orgName}/`;
}

export function register(router: Router, ctx: EmulatorContext): void {
  // ---- resource areas (LocationsApi.getResourceAreas): OPTIONS {collection}_apis/Location, GET {collection}_apis/ResourceAreas
  ctx.devops.locations.push({
    id: 'e81700f7-3be2-46de-8624-2eb35882fcaa',
    area: 'Location',
    resourceName: 'ResourceAreas',
    routeTemplate: '_apis/{resource}/{areaId}',
    resourceVersion: 1,
    minVersion: '3.2',
    maxVersion: '7.2',
    releasedVersion: '0.0',
  });
  const areas = () => [
    { id: RELEASE_AREA_ID, name: 'Release', locationUrl: releaseHostUrl(ctx) },
    { id: WIT_AREA_ID, name: 'wit', locationUrl: ctx.collectionUri },
    { id: '79134c72-4a58-4b42-976c-04e7115f32bf', name: 'core', locationUrl: ctx.collectionUri },
    { id: '965220d5-5bb9-42cf-8d67-9b146df2a5a4', name: 'build', locationUrl: ctx.collectionUri },
    { id: 'a85b8835-c1a1-4aac-ae97-1c3d0ba72dbd', name: 'distributedtask', locationUrl: ctx.collectionUri },
  ];
  const listAreas = (req: Req): Res => {
    checkProject(ctx, req.params.org);
    const v = areas().filter((a) => !req.params.areaId || a.id === req.params.areaId.toLowerCase());
    return { status: 200, body: req.params.areaId ? (v[0] ?? null) : { count: v.length, value: v } };
  };
  router.add('GET', '/:org/_apis/ResourceAreas', listAreas);
  router.add('GET', '/:org/_apis/ResourceAreas/:areaId', listAreas);

  // ---- release host discovery: OPTIONS {vsrm}_apis/Release is answered by the base handler ('/:org/:project/_apis/:area'
  // matches /vsrm/{org}/_apis/Release); the release routes themselves exist only under /vsrm/
  ctx.devops.locations.push(...RELEASE_LOCATIONS);

  seed(ctx);
  const base = '/vsrm/:org/:project/_apis/Release';
  const pre = (req: Req, locIdx: number, perm?: Permission) => {
    checkProject(ctx, req.params.org, req.params.project);
    requireJobToken(ctx, req);
    checkApiVersion(req, RELEASE_LOCATIONS[locIdx]);
    if (perm) requirePermission(ctx, req, perm);
  };

  // definitions
  router.add('GET', `${base}/definitions`, (req) => {
    pre(req, 0, 'ViewReleases');
    let defs = ctx.store.list<DefinitionRecord>(DEFS).sort((a, b) => a.id - b.id);
    const st = req.query.get('searchText');
    const exact = req.query.get('isExactNameMatch') === 'true';
    if (st)
      defs = defs.filter((d) =>
        exact ? d.name.toLowerCase() === st.toLowerCase() : d.name.toLowerCase().includes(st.toLowerCase()),
      );
    const at = req.query.get('artifactType');
    if (at) defs = defs.filter((d) => d.artifacts.some((a) => a.type === at));
    const ids = req.query.get('definitionIdFilter');
    if (ids) defs = defs.filter((d) => ids.split(',').map(Number).includes(d.id));
    const expand =
      enumFlags(req.query.get('$expand'), {
        none: 0,
        environments: 2,
        artifacts: 4,
        triggers: 8,
        variables: 16,
        tags: 32,
        lastRelease: 64,
      }) ?? 0;
    const value = defs.map((d) => definitionJson(ctx, d, { artifacts: !!(expand & 4), environments: !!(expand & 2) }));
    return { status: 200, body: { count: value.length, value } };
  });
  router.add('GET', `${base}/definitions/:id`, (req) => {
    pre(req, 0, 'ViewReleases');
    const d = ctx.store.get<DefinitionRecord>(DEFS, String(Number(req.params.id)));
    if (!d)
      devopsFail(
        404,
        'Microsoft.VisualStudio.Services.ReleaseManagement.Data.Exceptions.ReleaseDefinitionNotFoundException, Microsoft.VisualStudio.Services.ReleaseManagement2.Data',
        `VS402854: Release pipeline with id ${req.params.id} does not exist. Specify a valid id and try again.`,
      );
    return { status: 200, body: definitionJson(ctx, d, { artifacts: true, environments: true }) };
  });

  // releases
  router.add('POST', `${base}/releases`, (req) => {
    pre(req, 1);
    const b = req.body;
    if (!b || typeof b !== 'object')
      devopsFail(
        400,
        'System.ArgumentNullException, mscorlib',
        'Value cannot be null.\r\nParameter name: releaseStartMetadata',
      );
    const defId = Number(b.definitionId);
    const d = Number.isInteger(defId) && defId > 0 ? ctx.store.get<DefinitionRecord>(DEFS, String(defId)) : undefined;
    if (!d)
      devopsFail(
        404,
        'Microsoft.VisualStudio.Services.ReleaseManagement.Data.Exceptions.ReleaseDefinitionNotFoundException, Microsoft.VisualStudio.Services.ReleaseManagement2.Data',
        `VS402854: Release pipeline with id ${b.definitionId} does not exist. Specify a valid id and try again.`,
      );
    requirePermission(ctx, req, 'CreateReleases');
    return { status: 200, body: releaseJson(ctx, createRelease(ctx, d, b), 'full') };
  });
  router.add('GET', `${base}/releases`, (req) => {
    pre(req, 1, 'ViewReleases');
    const q = req.query;
    let rs = ctx.store.list<ReleaseRecord>(RELEASES);
    const defId = q.get('definitionId');
    if (defId) rs = rs.filter((r) => r.definitionId === Number(defId));
    const ids = q.get('releaseIdFilter');
    if (ids) rs = rs.filter((r) => ids.split(',').map(Number).includes(r.id));
    const st = q.get('searchText');
    if (st) rs = rs.filter((r) => r.name.toLowerCase().includes(st.toLowerCase()));
    const type = q.get('artifactTypeId'),
      src = q.get('sourceId'),
      ver = q.get('artifactVersionId');
    // the artifact filters work together: artifactVersionId only counts with artifactTypeId and sourceId (as the service treats it)
    if (type) rs = rs.filter((r) => r.artifacts.some((a) => a.type === type));
    if (type && src) rs = rs.filter((r) => r.artifacts.some((a) => a.type === type && a.sourceId === src));
    if (type && src && ver)
      rs = rs.filter((r) =>
        r.artifacts.some((a) => a.type === type && a.sourceId === src && a.definitionReference.version?.id === ver),
      );
    const order = q.get('queryOrder');
    rs.sort((a, b) => (order === '1' || order?.toLowerCase() === 'ascending' ? a.id - b.id : b.id - a.id));
    const top = Math.min(Number(q.get('$top') ?? 50) || 50, 100);
    const expand = enumFlags(q.get('$expand'), EXPANDS) ?? 0;
    const page = rs.slice(0, top);
    const headers: Record<string, string> = {};
    if (rs.length > top) headers['x-ms-continuationtoken'] = String(rs[top].id);
    return { status: 200, headers, body: { count: page.length, value: page.map((r) => releaseJson(ctx, r, expand)) } };
  });
  router.add('GET', `${base}/releases/:id`, (req) => {
    pre(req, 1, 'ViewReleases');
    const r = getRelease(ctx, req.params.id);
    return { status: 200, body: releaseJson(ctx, r, 'full') };
  });
  // updateReleaseResource (PATCH ReleaseUpdateMetadata) and updateRelease (PUT Release): both need 'Manage releases'
  const update =
    (apply: (r: ReleaseRecord, b: any) => void) =>
    (req: Req): Res => {
      pre(req, 1);
      const r = getRelease(ctx, req.params.id);
      requirePermission(ctx, req, 'ManageReleases');
      const b = req.body ?? {};
      if (typeof b.name === 'string' && b.name.trim()) r.name = b.name.trim();
      apply(r, b);
      r.modifiedOn = new Date().toISOString();
      ctx.store.put(RELEASES, String(r.id), r);
      return { status: 200, body: releaseJson(ctx, r, 'full') };
    };
  router.add(
    'PATCH',
    `${base}/releases/:id`,
    update((r, b) => {
      if (typeof b.keepForever === 'boolean') (r as any).keepForever = b.keepForever;
      if (b.status !== undefined && b.status !== null) r.status = statusName(b.status) ?? r.status;
    }),
  );
  router.add(
    'PUT',
    `${base}/releases/:id`,
    update((r, b) => {
      if (b.id !== undefined && Number(b.id) !== r.id)
        invalid(`Release id ${b.id} in the body does not match ${r.id} in the URL.`);
      if (typeof b.description === 'string') r.description = b.description;
      if (Array.isArray(b.tags)) r.tags = b.tags.map(String);
    }),
  );

  // approvals
  router.add('GET', `${base}/approvals`, (req) => {
    pre(req, 2, 'ViewReleases');
    const q = req.query;
    let as = ctx.store.list<ApprovalRecord>(APPROVALS);
    const ids = q.get('releaseIdsFilter');
    if (ids) as = as.filter((a) => ids.split(',').map(Number).includes(a.releaseId));
    const status = enumFlags(q.get('statusFilter'), APPROVAL_STATUS) ?? APPROVAL_STATUS.pending; // the service's default: pending
    as = as.filter((a) => APPROVAL_STATUS[a.status] === status);
    const type = enumFlags(q.get('typeFilter'), APPROVAL_TYPE);
    if (type) as = as.filter((a) => (APPROVAL_TYPE[a.approvalType] & type) !== 0);
    as.sort((a, b) =>
      q.get('queryOrder') === '1' || q.get('queryOrder')?.toLowerCase() === 'ascending' ? a.id - b.id : b.id - a.id,
    );
    const top = Number(q.get('top') ?? 50) || 50;
    const value = as.slice(0, top).map((a) => approvalJson(ctx, a));
    return { status: 200, body: { count: value.length, value } };
  });
  router.add('PATCH', `${base}/approvals/:approvalId`, (req) => {
    pre(req, 3, 'ManageApprovals');
    const a = ctx.store.get<ApprovalRecord>(APPROVALS, String(Number(req.params.approvalId)));
    if (!a)
      devopsFail(
        404,
        'Microsoft.VisualStudio.Services.ReleaseManagement.Data.Exceptions.ReleaseManagementObjectNotFoundException, Microsoft.VisualStudio.Services.ReleaseManagement2.Data',
        `VS402860: Approval with id ${req.params.approvalId} does not exist.`,
      );
    const st = statusOfApproval(req.body?.status);
    if (st !== 'approved' && st !== 'rejected')
      devopsFail(
        400,
        'Microsoft.VisualStudio.Services.ReleaseManagement.Data.Exceptions.InvalidRequestException, Microsoft.VisualStudio.Services.ReleaseManagement2.Data',
        'Only approve or reject is supported.',
      );
    const out = decide(ctx, a, st, buildServiceIdentity(ctx), String(req.body?.comments ?? ''));
    return { status: 200, body: approvalJson(ctx, out) };
  });
}

function statusName(v: unknown): ReleaseRecord['status'] | undefined {
  const m: Record<string, ReleaseRecord['status']> = {
    '1': 'draft',
    '2': 'active',
    '4': 'abandoned',
    draft: 'draft',
    active: 'active',
    abandoned: 'abandoned',
  };
  return m[String(v).toLowerCase()];
}
function statusOfApproval(v: unknown): string | undefined {
  const s = String(v ?? '').toLowerCase();
  return /^\d+$/.test(s) ? Object.keys(APPROVAL_STATUS).find((k) => APPROVAL_STATUS[k] === Number(s)) : s;
}

function getRelease(ctx: EmulatorContext, id: string): ReleaseRecord {
  const r = ctx.store.get<ReleaseRecord>(RELEASES, String(Number(id)));
  if (!r)
    devopsFail(
      404,
      'Microsoft.VisualStudio.Services.ReleaseManagement.Data.Exceptions.ReleaseNotFoundException, Microsoft.VisualStudio.Services.ReleaseManagement2.Data',
      `VS402852: A release with id ${id} does not exist. Specify a valid id and try again.`,
    );
  return r;
}

const invalid = (msg: string): never =>
  devopsFail(
    400,
    'Microsoft.VisualStudio.Services.ReleaseManagement.Data.Exceptions.InvalidRequestException, Microsoft.VisualStudio.Services.ReleaseManagement2.Data',
    msg,
  );

/** createRelease semantics: validate the body against the definition, pin every artifact's version, queue approvals */
function createRelease(ctx: EmulatorContext, d: DefinitionRecord, b: any): ReleaseRecord {
  // A release keeps the artifact's source data with its version and — unless it is a draft — WITHOUT the default-version
  // inputs (Azure DevOps Server 2022 ReleaseBuilderBase.PopulateArtifactData, decompiled: mjwrona/decompiled @ 6cd51e1f;
  // rule R1 in test/helpers/artifactHarness.ts). ASSUMPTION: Azure DevOps Services does the same.
  const DEFAULT_VERSION_INPUTS = [
    'defaultVersionType',
    'defaultVersionBranch',
    'defaultVersionTags',
    'defaultVersionSpecific',
  ];
  const keep = (ref: DefinitionArtifact['definitionReference']) =>
    b.isDraft === true
      ? ref
      : (Object.fromEntries(
          Object.entries(ref).filter(([k]) => !DEFAULT_VERSION_INPUTS.includes(k)),
        ) as DefinitionArtifact['definitionReference']);
  const given = b.artifacts ?? [];
  if (!Array.isArray(given)) invalid('artifacts must be a list.');
  const pinned: ReleaseRecord['artifacts'] = [];
  for (const g of given) {
    const a = d.artifacts.find((x) => x.alias.toLowerCase() === String(g?.alias ?? '').toLowerCase());
    if (!a)
      return invalid(
        `VS402962: Artifact with alias '${g?.alias}' is not found in the release pipeline '${d.name}'. Provide a valid alias and try again.`,
      );
    const ir = g.instanceReference;
    if (!ir || typeof ir !== 'object' || typeof ir.id !== 'string' || !ir.id.trim())
      invalid(`Artifact '${a.alias}': instanceReference.id (the artifact version) is required.`);
    if (ir.name !== undefined && typeof ir.name !== 'string')
      invalid(`Artifact '${a.alias}': instanceReference.name must be a string.`);
    pinned.push({
      ...a,
      definitionReference: { ...keep(a.definitionReference), version: { id: ir.id, name: ir.name ?? ir.id } },
    });
  }
  for (const a of d.artifacts) {
    if (pinned.some((p) => p.alias === a.alias)) continue;
    // not given: its default version ('latestType' for ours) — the newest model version in the emulated workspace
    const latest = latestModelVersion(ctx, a.definitionReference.definition?.id);
    if (!latest)
      return invalid(
        `Latest version information could not be loaded for artifact ${a.alias}. This could be due to inaccessible artifact source or no version is available.`,
      );
    pinned.push({
      ...a,
      definitionReference: { ...keep(a.definitionReference), version: { id: latest, name: latest } },
    });
  }
  const now = new Date().toISOString();
  const id = nextId(ctx, 'release');
  const rev = (ctx.store.get<{ n: number }>(COUNTERS, `releaseName:${d.id}`)?.n ?? 0) + 1;
  ctx.store.put(COUNTERS, `releaseName:${d.id}`, { n: rev });
  const r: ReleaseRecord = {
    id,
    name: d.releaseNameFormat.replace(/\$\(rev:r+\)/i, String(rev)),
    status: b.isDraft ? 'draft' : 'active',
    reason:
      typeof b.reason === 'string'
        ? b.reason
        : (['none', 'manual', 'continuousIntegration', 'schedule', 'pullRequest'][Number(b.reason ?? 0)] ?? 'none'),
    description: typeof b.description === 'string' ? b.description : '',
    createdOn: now,
    modifiedOn: now,
    definitionId: d.id,
    definitionRevision: d.revision,
    artifacts: pinned,
    environments: d.environments.map((e) => ({
      id: nextId(ctx, 'releaseEnvironment'),
      name: e.name,
      rank: e.rank,
      definitionEnvironmentId: e.id,
      status: e.rank === 1 ? 'queued' : 'notStarted',
    })),
    variables: { ...(d.variables ?? {}), ...(b.variables ?? {}) },
    tags: [],
    createdFor: b.createdFor,
  };
  ctx.store.put(RELEASES, String(id), r);
  for (const e of r.environments) {
    const de = d.environments.find((x) => x.id === e.definitionEnvironmentId)!;
    (de.approvers ?? []).forEach((ap, i) => {
      const aid = nextId(ctx, 'approval');
      ctx.store.put(APPROVALS, String(aid), {
        id: aid,
        releaseId: id,
        environmentId: e.id,
        environmentName: e.name,
        definitionId: d.id,
        approvalType: 'preDeploy',
        status: 'pending',
        approver: { displayName: ap.displayName, id: ap.id ?? randomUUID(), uniqueName: ap.uniqueName },
        comments: '',
        isAutomated: false,
        rank: i + 1,
        createdOn: now,
        modifiedOn: now,
        revision: 1,
      } satisfies ApprovalRecord);
    });
  }
  return r;
}

function latestModelVersion(ctx: EmulatorContext, model?: string): string | undefined {
  if (!model) return undefined;
  const vs = ctx.store
    .list<{ id: string; name?: string; seq?: number }>('modelVersions')
    .filter((v) => v.id.toLowerCase().includes(`/models/${model.toLowerCase()}/versions/`));
  vs.sort((a, b) => (b.seq ?? 0) - (a.seq ?? 0));
  return vs[0] ? vs[0].id.split('/').pop() : undefined;
}

function decide(
  ctx: EmulatorContext,
  a: ApprovalRecord,
  status: 'approved' | 'rejected',
  by: { displayName: string; id: string; uniqueName?: string },
  comments: string,
): ApprovalRecord {
  if (a.status !== 'pending') invalid(`VS402867: The approval ${a.id} is not pending; it is ${a.status}.`);
  const out: ApprovalRecord = {
    ...a,
    status,
    approvedBy: by,
    comments,
    modifiedOn: new Date().toISOString(),
    revision: a.revision + 1,
  };
  ctx.store.put(APPROVALS, String(a.id), out);
  const r = ctx.store.get<ReleaseRecord>(RELEASES, String(a.releaseId));
  if (r) {
    const e = r.environments.find((x) => x.id === a.environmentId);
    const pending = ctx.store
      .list<ApprovalRecord>(APPROVALS)
      .some((x) => x.releaseId === r.id && x.environmentId === a.environmentId && x.status === 'pending');
    if (e && !pending) e.status = status === 'approved' ? 'inProgress' : 'rejected';
    ctx.store.put(RELEASES, String(r.id), r);
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ JSON shapes
function webUrl(ctx: EmulatorContext, what: string): string {
  return `${ctx.collectionUri}${encodeURIComponent(ctx.ids.projectName)}/_release?${what}`;
}
function definitionJson(ctx: EmulatorContext, d: DefinitionRecord, o: { artifacts: boolean; environments: boolean }) {
  const url = `${releaseHostUrl(ctx)}${ctx.ids.projectId}/_apis/Release/definitions/${d.id}`;
  return {
    source: 'userInterface',
    revision: d.revision,
    description: null,
    createdBy: buildServiceIdentity(ctx),
    createdOn: d.createdOn,
    modifiedBy: buildServiceIdentity(ctx),
    modifiedOn: d.modifiedOn,
    isDeleted: false,
    isDisabled: false,
    variableGroups: [],
    releaseNameFormat: d.releaseNameFormat,
    properties: {},
    id: d.id,
    name: d.name,
    path: d.path,
    projectReference: null,
    url,
    _links: { self: { href: url }, web: { href: webUrl(ctx, `definitionId=${d.id}`) } },
    ...(o.artifacts
      ? {
          artifacts: d.artifacts.map((a) => ({
            sourceId: a.sourceId,
            type: a.type,
            alias: a.alias,
            definitionReference: a.definitionReference,
            isPrimary: !!a.isPrimary,
            isRetained: !!a.isRetained,
          })),
        }
      : {}),
    ...(o.environments
      ? {
          environments: d.environments.map((e) => ({
            id: e.id,
            name: e.name,
            rank: e.rank,
            preDeployApprovals: {
              approvals: e.approvers?.length
                ? e.approvers.map((ap, i) => ({
                    rank: i + 1,
                    isAutomated: false,
                    isNotificationOn: false,
                    approver: { displayName: ap.displayName, id: ap.id },
                    id: e.id * 10 + i,
                  }))
                : [{ rank: 1, isAutomated: true, isNotificationOn: false, id: e.id * 10 }],
              approvalOptions: {
                requiredApproverCount: null,
                releaseCreatorCanBeApprover: false,
                autoTriggeredAndPreviousEnvironmentApprovedCanBeSkipped: false,
                enforceIdentityRevalidation: false,
                timeoutInMinutes: 0,
                executionOrder: 'beforeGates',
              },
            },
          })),
          variables: d.variables ?? {},
        }
      : {}),
  };
}

export function releaseJson(ctx: EmulatorContext, r: ReleaseRecord, expand: number | 'full') {
  const full = expand === 'full';
  const has = (f: number) => full || ((expand as number) & f) !== 0;
  const url = `${releaseHostUrl(ctx)}${ctx.ids.projectId}/_apis/Release/releases/${r.id}`;
  const d = ctx.store.get<DefinitionRecord>(DEFS, String(r.definitionId));
  const approvals = ctx.store.list<ApprovalRecord>(APPROVALS).filter((a) => a.releaseId === r.id);
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    createdOn: r.createdOn,
    modifiedOn: r.modifiedOn,
    modifiedBy: buildServiceIdentity(ctx),
    createdBy: buildServiceIdentity(ctx),
    createdFor: r.createdFor ? { displayName: r.createdFor } : buildServiceIdentity(ctx),
    variableGroups: [],
    releaseDefinitionRevision: r.definitionRevision,
    description: r.description,
    reason: r.reason,
    releaseNameFormat: d?.releaseNameFormat ?? 'Release-$(rev:r)',
    keepForever: !!(r as any).keepForever,
    definitionSnapshotRevision: 1,
    logsContainerUrl: `${url}/logs`,
    url,
    _links: { self: { href: url }, web: { href: webUrl(ctx, `releaseId=${r.id}&_a=release-summary`) } },
    tags: has(64) ? r.tags : [],
    triggeringArtifactAlias: null,
    releaseDefinition: {
      id: r.definitionId,
      name: d?.name ?? '',
      path: d?.path ?? '\\',
      projectReference: null,
      url: `${releaseHostUrl(ctx)}${ctx.ids.projectId}/_apis/Release/definitions/${r.definitionId}`,
      _links: {},
    },
    projectReference: { id: ctx.ids.projectId, name: ctx.ids.projectName },
    properties: {},
    ...(has(4)
      ? {
          artifacts: r.artifacts.map((a) => ({
            sourceId: a.sourceId,
            type: a.type,
            alias: a.alias,
            definitionReference: a.definitionReference,
            isPrimary: !!a.isPrimary,
            isRetained: !!a.isRetained,
          })),
        }
      : {}),
    ...(has(2)
      ? {
          environments: r.environments.map((e) => ({
            id: e.id,
            releaseId: r.id,
            name: e.name,
            status: e.status,
            rank: e.rank,
            definitionEnvironmentId: e.definitionEnvironmentId,
            preDeployApprovals: has(8)
              ? approvals.filter((a) => a.environmentId === e.id).map((a) => approvalJson(ctx, a))
              : [],
            postDeployApprovals: [],
            deploySteps: [],
            variables: {},
          })),
        }
      : {}),
    ...(has(32) ? { variables: r.variables } : {}),
  };
}

function approvalJson(ctx: EmulatorContext, a: ApprovalRecord) {
  const r = ctx.store.get<ReleaseRecord>(RELEASES, String(a.releaseId));
  const d = ctx.store.get<DefinitionRecord>(DEFS, String(a.definitionId));
  const host = `${releaseHostUrl(ctx)}${ctx.ids.projectId}/_apis/Release`;
  return {
    id: a.id,
    revision: a.revision,
    approvalType: a.approvalType,
    status: a.status,
    createdOn: a.createdOn,
    modifiedOn: a.modifiedOn,
    isAutomated: a.isAutomated,
    isNotificationOn: false,
    comments: a.comments,
    rank: a.rank,
    attempt: 1,
    trialNumber: 1,
    approver: {
      displayName: a.approver.displayName,
      id: a.approver.id,
      uniqueName: a.approver.uniqueName ?? a.approver.displayName,
      isContainer: false,
    },
    ...(a.approvedBy
      ? {
          approvedBy: {
            displayName: a.approvedBy.displayName,
            id: a.approvedBy.id,
            uniqueName: a.approvedBy.uniqueName ?? a.approvedBy.displayName,
            isContainer: false,
          },
        }
      : {}),
    release: {
      id: a.releaseId,
      name: r?.name,
      url: `${host}/releases/${a.releaseId}`,
      _links: { web: { href: webUrl(ctx, `releaseId=${a.releaseId}&_a=release-summary`) } },
    },
    releaseDefinition: {
      id: a.definitionId,
      name: d?.name,
      path: d?.path ?? '\\',
      projectReference: null,
      url: `${host}/definitions/${a.definitionId}`,
      _links: {},
    },
    releaseEnvironment: {
      id: a.environmentId,
      name: a.environmentName,
      url: `${host}/releases/${a.releaseId}/environments/${a.environmentId}`,
      _links: {},
    },
    history: [],
    url: `${host}/approvals/${a.id}`,
  };
}

// ------------------------------------------------------------------------------------------------ seed + test helpers
export const SEED_DEFINITION = 'model-cd';
export const SEED_MODEL = 'diabetes-classifier';
export const SEED_CONNECTION = 'azureml-connection';

/** add a release definition with our model artifact (returns it); idempotent by name */
export function addReleaseDefinition(
  ctx: EmulatorContext,
  o: {
    name: string;
    model: string;
    alias?: string;
    connection?: string;
    artifactType?: string;
    /** the artifact's source is this registry (sourceType registry, vss-extension.json) instead of the workspace */
    registry?: { name: string; resourceGroup?: string };
    environments?: Array<{ name: string; approvers?: string[] }>;
    extraArtifacts?: DefinitionArtifact[];
  },
): DefinitionRecord {
  const existing = ctx.store.list<DefinitionRecord>(DEFS).find((d) => d.name.toLowerCase() === o.name.toLowerCase());
  if (existing) return existing;
  const now = new Date().toISOString();
  const id = nextId(ctx, 'releaseDefinition');
  const conn = o.connection ?? SEED_CONNECTION;
  const d: DefinitionRecord = {
    id,
    name: o.name,
    path: '\\',
    releaseNameFormat: 'Release-$(rev:r)',
    revision: 1,
    createdOn: now,
    modifiedOn: now,
    artifacts: [
      {
        alias: o.alias ?? `_${o.model}`,
        type: o.artifactType ?? modelArtifactType(),
        isPrimary: true,
        isRetained: false,
        // uniqueSourceIdentifier of the artifact type (vss-extension.json): connection + workspace (or registry) + model
        sourceId: o.registry
          ? `${conn}:registry:${o.registry.resourceGroup ?? ''}:${o.registry.name}:${o.model}`
          : `${conn}:${ctx.ids.resourceGroup}:${ctx.ids.workspace}:${o.model}`,
        definitionReference: {
          connection: { id: conn, name: 'Azure ML (Azure-in-a-box)' },
          ...(o.registry
            ? {
                sourceType: { id: 'registry', name: 'Registry' },
                registryResourceGroup: { id: o.registry.resourceGroup ?? '', name: o.registry.resourceGroup ?? '' },
                registry: { id: o.registry.name, name: o.registry.name },
              }
            : {
                resourceGroup: { id: ctx.ids.resourceGroup, name: ctx.ids.resourceGroup },
                workspace: { id: ctx.ids.workspace, name: ctx.ids.workspace },
              }),
          definition: { id: o.model, name: o.model },
          defaultVersionType: { id: 'latestType', name: 'Latest' },
        },
      },
      ...(o.extraArtifacts ?? []),
    ],
    environments: (
      o.environments ?? [{ name: 'staging' }, { name: 'production', approvers: ['Release Approvers'] }]
    ).map((e, i) => ({
      id: i + 1 + id * 100,
      name: e.name,
      rank: i + 1,
      approvers: (e.approvers ?? []).map((n) => ({ displayName: n, id: randomUUID() })),
    })),
  };
  ctx.store.put(DEFS, String(id), d);
  return d;
}

function seed(ctx: EmulatorContext): void {
  addReleaseDefinition(ctx, { name: SEED_DEFINITION, model: SEED_MODEL });
}

/** a job access token that lacks the given permissions (for "missing permission" tests) */
export function addRestrictedJobToken(ctx: EmulatorContext, deny: Permission[]): string {
  const token = randomBytes(40).toString('base64url');
  ctx.store.put('devopsTokens', `restricted-${token.slice(0, 12)}`, { token, deny });
  return token;
}

/** every release (newest first), full shape */
export function listReleases(ctx: EmulatorContext, definitionId?: number): ReleaseRecord[] {
  return ctx.store
    .list<ReleaseRecord>(RELEASES)
    .filter((r) => definitionId === undefined || r.definitionId === definitionId)
    .sort((a, b) => b.id - a.id);
}
export function getDefinition(ctx: EmulatorContext, nameOrId: string | number): DefinitionRecord | undefined {
  return ctx.store
    .list<DefinitionRecord>(DEFS)
    .find((d) => d.id === Number(nameOrId) || d.name.toLowerCase() === String(nameOrId).toLowerCase());
}
export function listApprovals(ctx: EmulatorContext, releaseId: number): ApprovalRecord[] {
  return ctx.store.list<ApprovalRecord>(APPROVALS).filter((a) => a.releaseId === releaseId);
}

/** approve (or reject) the pending pre-deployment approval(s) of a release's stage, as an approver in the web UI would */
export function approve(
  ctx: EmulatorContext,
  releaseId: number,
  stage: string,
  approver: string,
  comments = '',
  status: 'approved' | 'rejected' = 'approved',
): ApprovalRecord[] {
  const pending = listApprovals(ctx, releaseId).filter(
    (a) => a.environmentName.toLowerCase() === stage.toLowerCase() && a.status === 'pending',
  );
  if (!pending.length) throw new Error(`release ${releaseId} has no pending approval on stage '${stage}'`);
  const who = {
    displayName: approver,
    id: randomUUID(),
    uniqueName: /@/.test(approver) ? approver : `${approver.toLowerCase().replace(/\s+/g, '.')}@contoso.com`,
  };
  return pending.map((a) => decide(ctx, a, status, who, comments));
}
