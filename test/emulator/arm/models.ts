// Model containers and versions (api 2022-10-01 shapes): PUT/GET/LIST/DELETE, $orderBy/$top/$skip paging with an
// absolute nextLink, tag/property filters, listViewType, latestVersion/nextVersion, path-change rejection.
import type { EmulatorContext } from '../context';
import { fail, type Req, type Router } from '../http';
import {
  RP,
  WS,
  childId,
  compareVersions,
  matchesKv,
  page,
  requireBody,
  requireWorkspace,
  selfUrl,
  systemData,
  type SystemData,
  type WorkspaceRecord,
} from '../armkit';

export const CONTAINERS = 'models';
export const VERSIONS = 'modelVersions';
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9\-_.]{0,254}$/;

interface ContainerRecord {
  id: string;
  name: string;
  systemData: SystemData;
  properties: Record<string, any>;
}
interface VersionRecord {
  id: string;
  name: string;
  model: string;
  seq: number;
  systemData: SystemData;
  properties: Record<string, any>;
}

let seq = 0;

function versionsOf(ctx: EmulatorContext, w: WorkspaceRecord, model: string): VersionRecord[] {
  return ctx.store.list<VersionRecord>(VERSIONS, childId(w, 'models', model, 'versions') + '/');
}

function containerView(ctx: EmulatorContext, w: WorkspaceRecord, c: ContainerRecord): Record<string, unknown> {
  const vs = versionsOf(ctx, w, c.name)
    .map((v) => v.name)
    .sort(compareVersions);
  const latest = vs[vs.length - 1];
  const maxNum = vs
    .map(Number)
    .filter((n) => Number.isInteger(n))
    .reduce((a, b) => Math.max(a, b), 0);
  return {
    id: c.id,
    name: c.name,
    type: `${RP}/workspaces/models`,
    systemData: c.systemData,
    properties: {
      description: null,
      tags: {},
      properties: {},
      isArchived: false,
      ...c.properties,
      ...(latest ? { latestVersion: latest } : {}),
      nextVersion: String(maxNum + 1),
    },
  };
}

function versionView(v: VersionRecord): Record<string, unknown> {
  return {
    id: v.id,
    name: v.name,
    type: `${RP}/workspaces/models/versions`,
    systemData: v.systemData,
    properties: v.properties,
  };
}

function viewFilter(req: Req, archived: boolean | undefined): boolean {
  const t = (req.query.get('listViewType') ?? 'ActiveOnly').toLowerCase();
  if (t === 'all') return true;
  if (t === 'archivedonly') return !!archived;
  return !archived;
}

function requireName(name: string, what: string): void {
  if (!NAME_RE.test(name))
    fail(
      400,
      'UserError',
      `${what} '${name}' is invalid: it must start with a letter or digit and contain only letters, digits, '-', '_' or '.' (at most 255 characters).`,
    );
}

const sameUri = (a: unknown, b: unknown) => String(a ?? '').replace(/\/+$/, '') === String(b ?? '').replace(/\/+$/, '');

/**
 * The service stores a model version's long-form datastore URI with `resourceGroups` where the request said
 * `resourcegroups`: online_services test_online_deployment_create.json (2025-02, model version PUT at
 * 2023-08-01-preview: request `azureml://subscriptions/…/resourcegroups/00000/workspaces/…`, response `…/resourceGroups/00000/…`).
 */
export function serviceModelUri(uri: unknown): unknown {
  return typeof uri === 'string'
    ? uri.replace(/^(azureml:\/\/subscriptions\/[^/]+\/)resourcegroups\//i, '$1resourceGroups/')
    : uri;
}

export function register(router: Router, ctx: EmulatorContext): void {
  seq = ctx.store.list<VersionRecord>(VERSIONS).reduce((m, v) => Math.max(m, v.seq ?? 0), 0);

  const getContainer = (w: WorkspaceRecord, name: string) =>
    ctx.store.get<ContainerRecord>(CONTAINERS, childId(w, 'models', name));
  const notFound = (w: WorkspaceRecord, name: string, version?: string): never =>
    fail(
      404,
      'ResourceNotFound',
      version === undefined
        ? `Model container '${name}' was not found in workspace '${w.name}'.`
        : `Model '${name}' version '${version}' was not found in workspace '${w.name}'.`,
    );

  // ---- containers
  router.add('GET', `${WS}/models`, (req) => {
    const w = requireWorkspace(ctx, req);
    const all = ctx.store
      .list<ContainerRecord>(CONTAINERS, childId(w, 'models') + '/')
      .filter((c) => viewFilter(req, c.properties.isArchived))
      .map((c) => containerView(ctx, w, c));
    return { status: 200, body: page(ctx, req, all) };
  });
  router.add('GET', `${WS}/models/:name`, (req) => {
    const w = requireWorkspace(ctx, req);
    const c = getContainer(w, req.params.name) ?? notFound(w, req.params.name);
    return { status: 200, body: containerView(ctx, w, c) };
  });
  router.add('PUT', `${WS}/models/:name`, (req) => {
    const w = requireWorkspace(ctx, req);
    requireName(req.params.name, 'Model name');
    const body = requireBody(req);
    const old = getContainer(w, req.params.name);
    const p = body.properties ?? {};
    const rec: ContainerRecord = {
      id: childId(w, 'models', old?.name ?? req.params.name),
      name: old?.name ?? req.params.name,
      systemData: systemData(req, old?.systemData),
      properties: {
        description: p.description ?? old?.properties.description ?? null,
        tags: p.tags ?? old?.properties.tags ?? {},
        properties: { ...(old?.properties.properties ?? {}), ...(p.properties ?? {}) },
        isArchived: p.isArchived ?? old?.properties.isArchived ?? false,
      },
    };
    ctx.store.put(CONTAINERS, rec.id, rec);
    return { status: old ? 200 : 201, body: containerView(ctx, w, rec) };
  });
  router.add('DELETE', `${WS}/models/:name`, (req) => {
    const w = requireWorkspace(ctx, req);
    const c = getContainer(w, req.params.name);
    if (!c) return { status: 204 };
    for (const v of versionsOf(ctx, w, c.name)) ctx.store.delete(VERSIONS, v.id);
    ctx.store.delete(CONTAINERS, c.id);
    return { status: 200 };
  });

  // ---- versions
  router.add('GET', `${WS}/models/:name/versions`, (req) => {
    const w = requireWorkspace(ctx, req);
    // versions of a model that does not exist: 404, not an empty list (model test_model.py test_crud_file.json, 2026-03,
    // api 2023-08-01-preview: 404 UserError "The specified resource was not found." + details[0] ModelNotFound)
    if (!getContainer(w, req.params.name)) {
      fail(404, 'UserError', 'The specified resource was not found.', {
        details: [
          {
            code: 'ModelNotFound',
            message: `Model container with name: ${req.params.name} not found.`,
            details: [],
            additionalInfo: [],
          },
        ],
      });
    }
    let vs = versionsOf(ctx, w, req.params.name).filter((v) => viewFilter(req, v.properties.isArchived));
    const ver = req.query.get('version');
    if (ver) vs = vs.filter((v) => v.name === ver);
    const desc = req.query.get('description');
    if (desc) vs = vs.filter((v) => v.properties.description === desc);
    const tags = req.query.get('tags');
    vs = vs.filter((v) => matchesKv(tags, v.properties.tags));
    const props = req.query.get('properties');
    vs = vs.filter((v) => matchesKv(props, v.properties.properties));
    const order = (req.query.get('$orderBy') ?? '').trim().toLowerCase().replace(/\s+/g, ' ');
    const byCreated = (a: VersionRecord, b: VersionRecord) =>
      a.systemData.createdAt.localeCompare(b.systemData.createdAt) || a.seq - b.seq;
    const byModified = (a: VersionRecord, b: VersionRecord) =>
      a.systemData.lastModifiedAt.localeCompare(b.systemData.lastModifiedAt) || a.seq - b.seq;
    const sorters: Record<string, (a: VersionRecord, b: VersionRecord) => number> = {
      '': byCreated,
      createdtime: byCreated,
      'createdtime asc': byCreated,
      'createdtime desc': (a, b) => byCreated(b, a),
      modifiedtime: byModified,
      'modifiedtime asc': byModified,
      'modifiedtime desc': (a, b) => byModified(b, a),
      version: (a, b) => compareVersions(a.name, b.name),
      'version asc': (a, b) => compareVersions(a.name, b.name),
      'version desc': (a, b) => compareVersions(b.name, a.name),
    };
    const sorter = sorters[order];
    if (!sorter)
      fail(
        400,
        'UserError',
        `Invalid $orderBy '${req.query.get('$orderBy')}'. Supported: createdtime asc|desc, modifiedtime asc|desc, version asc|desc.`,
      );
    vs.sort(sorter);
    return { status: 200, body: page(ctx, req, vs.map(versionView)) };
  });

  router.add('GET', `${WS}/models/:name/versions/:version`, (req) => {
    const w = requireWorkspace(ctx, req);
    const v =
      ctx.store.get<VersionRecord>(VERSIONS, childId(w, 'models', req.params.name, 'versions', req.params.version)) ??
      notFound(w, req.params.name, req.params.version);
    return { status: 200, body: versionView(v) };
  });

  router.add('PUT', `${WS}/models/:name/versions/:version`, (req) => {
    const w = requireWorkspace(ctx, req);
    requireName(req.params.name, 'Model name');
    if (!/^[a-zA-Z0-9][a-zA-Z0-9\-_.]{0,49}$/.test(req.params.version))
      fail(400, 'UserError', `Model version '${req.params.version}' is invalid.`);
    const body = requireBody(req);
    const p: Record<string, any> = { ...(body.properties ?? {}) };
    if (p.modelUri !== undefined) p.modelUri = serviceModelUri(p.modelUri);
    let c = getContainer(w, req.params.name);
    const id = childId(w, 'models', c?.name ?? req.params.name, 'versions', req.params.version);
    const old = ctx.store.get<VersionRecord>(VERSIONS, id);
    if (old) {
      if (!sameUri(old.properties.modelUri, p.modelUri)) {
        fail(
          409,
          'Conflict',
          `Cannot change the modelUri of an existing model version: ${old.model}:${old.name} points at '${old.properties.modelUri}', the request has '${p.modelUri ?? ''}'. Register a new version instead.`,
        );
      }
      if (
        p.modelType !== undefined &&
        old.properties.modelType !== undefined &&
        p.modelType !== old.properties.modelType
      ) {
        fail(
          409,
          'Conflict',
          `Cannot change the modelType of an existing model version ${old.model}:${old.name} ('${old.properties.modelType}' → '${p.modelType}').`,
        );
      }
      const rec: VersionRecord = {
        ...old,
        systemData: systemData(req, old.systemData),
        properties: {
          ...old.properties,
          description: p.description ?? old.properties.description,
          tags: p.tags ?? old.properties.tags,
          properties: { ...(old.properties.properties ?? {}), ...(p.properties ?? {}) },
          isArchived: p.isArchived ?? old.properties.isArchived,
          ...(p.stage !== undefined ? { stage: p.stage } : {}),
        },
      };
      ctx.store.put(VERSIONS, id, rec);
      return { status: 200, body: versionView(rec) };
    }
    if (!c) {
      c = {
        id: childId(w, 'models', req.params.name),
        name: req.params.name,
        systemData: systemData(req),
        properties: { description: null, tags: {}, properties: {}, isArchived: false },
      };
      ctx.store.put(CONTAINERS, c.id, c);
    }
    const rec: VersionRecord = {
      id,
      name: req.params.version,
      model: c.name,
      seq: ++seq,
      systemData: systemData(req),
      properties: {
        description: p.description ?? null,
        tags: p.tags ?? {},
        properties: p.properties ?? {},
        isAnonymous: p.isAnonymous ?? false,
        isArchived: p.isArchived ?? false,
        // flavors read back {} when none were sent (model version PUT in online_services test_online_deployment_create.json)
        modelType: p.modelType ?? 'custom_model',
        modelUri: p.modelUri,
        jobName: p.jobName ?? null,
        flavors: p.flavors ?? {},
        ...Object.fromEntries(
          Object.entries(p).filter(
            ([k]) =>
              ![
                'description',
                'tags',
                'properties',
                'isAnonymous',
                'isArchived',
                'modelType',
                'modelUri',
                'jobName',
                'flavors',
              ].includes(k),
          ),
        ),
      },
    };
    ctx.store.put(VERSIONS, id, rec);
    // 201 + Location = the version's URL (test_crud_file.json above)
    return { status: 201, headers: { Location: selfUrl(ctx.armUrl, req) }, body: versionView(rec) };
  });

  router.add('DELETE', `${WS}/models/:name/versions/:version`, (req) => {
    const w = requireWorkspace(ctx, req);
    return {
      status: ctx.store.delete(VERSIONS, childId(w, 'models', req.params.name, 'versions', req.params.version))
        ? 200
        : 204,
    };
  });
}
