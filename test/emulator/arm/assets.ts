// Workspace assets the jobs need (api-version 2022-10-01 shapes): code, environment, component and data containers +
// versions, and computes.
//
// Assets (codes | environments | components | data), under {workspace}:
//   GET    /<type>                          containers (paging $skip, listViewType)
//   GET|PUT|DELETE /<type>/:name            container (latestVersion/nextVersion computed)
//   GET    /<type>/:name/versions           versions ($orderBy createdtime desc|asc / version, $top, $skip, tags, listViewType)
//   GET|PUT|DELETE /<type>/:name/versions/:version
// A version PUT creates its container when missing. Versions are immutable: re-PUT with the same content is accepted
// (200, idempotent); changing a code version's codeUri → 400 UserError "Asset paths cannot be updated." (the message
// azure-ai-ml looks for), other changes → 400 UserError "<Type> <name> with version <v> is already registered and cannot be
// changed."; only description/tags/isArchived may change. Environment versions need `image` or `build`.
// Store kinds: '<singular>Containers' and '<singular>Versions' (codeVersions, environmentVersions, componentVersions,
// dataVersions), keyed by the ARM id; values are the ARM resource bodies.
//
// Computes: GET /computes (list), GET|PUT|DELETE /computes/:name (PUT/DELETE as LROs), AmlCompute, Kubernetes
// (properties.properties.namespace / instanceTypes / defaultInstanceType), ComputeInstance and the other swagger types.
// Store kind 'computes' (read by arm/jobs.ts and arm/endpoints.ts). Seeded in every workspace: `cpu-cluster`
// (AmlCompute) and `k8s-compute` (Kubernetes) — `cpu-cluster` is also the only compute the corpus jobs reference.
// Also seeded for the corpus: the curated environments `AzureML-sklearn-1.5` and `AzureML-lightgbm-3.3` (version 1,
// environmentType Curated) and the
// data asset `local-folder-example` version 1.
import YAML from 'yaml';
import type { EmulatorContext } from '../context';
import { fail, type Req, type Res, type Router } from '../http';
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

export const KIND_COMPUTES = 'computes';
export const ASSET_TYPES = ['codes', 'environments', 'components', 'data'] as const;
export type AssetType = (typeof ASSET_TYPES)[number] | 'models';
const SINGULAR: Record<string, string> = {
  codes: 'code',
  environments: 'environment',
  components: 'component',
  data: 'data',
  models: 'model',
};
const LABEL: Record<string, string> = {
  codes: 'Code',
  environments: 'Environment',
  components: 'Component',
  data: 'Data',
  models: 'Model',
};
export const containerKind = (t: string) => `${SINGULAR[t]}Containers`;
export const versionKind = (t: string) => `${SINGULAR[t]}Versions`;

export interface AssetResource {
  id: string;
  name: string;
  type: string;
  properties: Record<string, any>;
  systemData: SystemData;
}

const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

// ---------------------------------------------------------------- lookups shared with the job runner
/** version record by ARM id, in the given type's kind (models: 'modelVersions' then 'models') */
export function assetById(ctx: EmulatorContext, armId: string): AssetResource | undefined {
  const m = /\/(codes|environments|components|data|models)\/[^/]+\/versions\/[^/]+$/i.exec(armId);
  if (!m) return undefined;
  const t = m[1].toLowerCase();
  const kinds = t === 'models' ? ['modelVersions', 'models'] : [versionKind(t)];
  for (const k of kinds) {
    const v = ctx.store.get<AssetResource>(k, armId);
    if (v) return v;
  }
  return undefined;
}

/** version by name + version ('latest' = highest version; newest created when versions are not numbers) */
export function assetVersion(
  ctx: EmulatorContext,
  wsId: string,
  type: string,
  name: string,
  version: string,
): AssetResource | undefined {
  const base = `${wsId}/${type}/${name}/versions/`;
  if (version.toLowerCase() !== 'latest') return assetById(ctx, `${base}${version}`);
  const kinds = type === 'models' ? ['modelVersions', 'models'] : [versionKind(type)];
  for (const k of kinds) {
    const all = ctx.store.list<AssetResource>(k, base).filter((v) => !v.properties?.isArchived);
    if (all.length) return all.sort((a, b) => compareVersions(b.name, a.name))[0];
  }
  return undefined;
}

// ---------------------------------------------------------------- assets
function containerView(ctx: EmulatorContext, type: string, c: AssetResource): AssetResource {
  const versions = ctx.store.list<AssetResource>(versionKind(type), `${c.id}/versions/`);
  const latest =
    versions.filter((v) => !v.properties.isArchived).sort((a, b) => compareVersions(b.name, a.name))[0]?.name ?? null;
  const numeric = versions.map((v) => Number(v.name)).filter((n) => Number.isInteger(n));
  const next = numeric.length ? String(Math.max(...numeric) + 1) : versions.length ? null : '1';
  return { ...c, properties: { ...c.properties, latestVersion: latest, nextVersion: next } };
}

function sameContent(type: string, a: Record<string, any>, b: Record<string, any>): string | undefined {
  const mutable = new Set(['description', 'tags', 'isArchived', 'provisioningState', 'stage']);
  const strip = (o: Record<string, any>) =>
    Object.fromEntries(
      Object.entries(o ?? {}).filter(
        ([k, v]) =>
          !mutable.has(k) &&
          v !== null &&
          v !== undefined &&
          !(type === 'environments' && (k === 'environmentType' || (k === 'autoRebuild' && v === 'Disabled'))) &&
          !(k === 'properties' && typeof v === 'object' && !Object.keys(v).length) &&
          !(k === 'isAnonymous' && v === false),
      ),
    );
  const sa = strip(a),
    sb = strip(b);
  const keys = new Set([...Object.keys(sa), ...Object.keys(sb)]);
  for (const k of keys) if (JSON.stringify(sa[k]) !== JSON.stringify(sb[k])) return k;
  return undefined;
}

function registerAssetType(router: Router, ctx: EmulatorContext, type: (typeof ASSET_TYPES)[number]): void {
  const base = `${WS}/${type}`;
  const label = LABEL[type];
  const cKind = containerKind(type),
    vKind = versionKind(type);
  const notFound: (what: string) => never = (what) => fail(404, 'UserError', `${what} not found.`);
  const listView = (req: Req, archived: boolean | undefined) => {
    const v = (req.query.get('listViewType') ?? 'ActiveOnly').toLowerCase();
    return v === 'all' ? true : v === 'archivedonly' ? !!archived : !archived;
  };

  const ensureContainer = (req: Req, w: WorkspaceRecord, name: string): AssetResource => {
    const id = childId(w, type, name);
    let c = ctx.store.get<AssetResource>(cKind, id);
    if (!c) {
      c = {
        id,
        name,
        type: `${RP}/workspaces/${type}`,
        properties: { description: null, tags: {}, properties: {}, isArchived: false },
        systemData: systemData(req),
      };
      ctx.store.put(cKind, id, c);
    }
    return c;
  };

  router.add('GET', base, (req) => {
    const w = requireWorkspace(ctx, req);
    const all = ctx.store
      .list<AssetResource>(cKind, childId(w, type) + '/')
      .filter((c) => listView(req, c.properties.isArchived))
      .map((c) => containerView(ctx, type, c));
    return { status: 200, body: page(ctx, req, all) };
  });
  router.add('GET', `${base}/:name`, (req) => {
    const w = requireWorkspace(ctx, req);
    const c = ctx.store.get<AssetResource>(cKind, childId(w, type, req.params.name));
    if (!c) notFound(`${label} container ${req.params.name}`);
    return { status: 200, body: containerView(ctx, type, c) };
  });
  router.add('PUT', `${base}/:name`, (req) => {
    const w = requireWorkspace(ctx, req);
    const body = requireBody(req);
    if (!NAME_RE.test(req.params.name)) fail(400, 'UserError', `${label} name '${req.params.name}' is invalid.`);
    const id = childId(w, type, req.params.name);
    const old = ctx.store.get<AssetResource>(cKind, id);
    const p = body.properties ?? {};
    const rec: AssetResource = {
      id,
      name: req.params.name,
      type: `${RP}/workspaces/${type}`,
      systemData: systemData(req, old?.systemData),
      properties: {
        description: p.description ?? null,
        tags: p.tags ?? {},
        properties: p.properties ?? {},
        isArchived: !!p.isArchived,
      },
    };
    ctx.store.put(cKind, id, rec);
    return { status: old ? 200 : 201, body: containerView(ctx, type, rec) };
  });
  router.add('DELETE', `${base}/:name`, (req) => {
    const w = requireWorkspace(ctx, req);
    const id = childId(w, type, req.params.name);
    if (!ctx.store.get(cKind, id)) return { status: 204 };
    for (const k of ctx.store.keys(vKind, `${id}/versions/`)) ctx.store.delete(vKind, k);
    ctx.store.delete(cKind, id);
    return { status: 200 };
  });

  router.add('GET', `${base}/:name/versions`, (req) => {
    const w = requireWorkspace(ctx, req);
    const cid = childId(w, type, req.params.name);
    let all = ctx.store
      .list<AssetResource>(vKind, `${cid}/versions/`)
      .filter((v) => listView(req, v.properties.isArchived));
    all = all.filter((v) => matchesKv(req.query.get('tags'), v.properties.tags));
    const order = (req.query.get('$orderBy') ?? '').toLowerCase().trim();
    if (order.startsWith('createdtime')) {
      const dir = order.endsWith('asc') ? 1 : -1;
      all.sort(
        (a, b) =>
          dir * (Date.parse(a.systemData.createdAt) - Date.parse(b.systemData.createdAt)) ||
          dir * compareVersions(a.name, b.name),
      );
    } else if (order.startsWith('version')) {
      const dir = order.endsWith('asc') ? 1 : -1;
      all.sort((a, b) => dir * compareVersions(a.name, b.name));
    } else all.sort((a, b) => compareVersions(b.name, a.name));
    return { status: 200, body: page(ctx, req, all) };
  });
  router.add('GET', `${base}/:name/versions/:version`, (req) => {
    const w = requireWorkspace(ctx, req);
    const v = ctx.store.get<AssetResource>(vKind, childId(w, type, req.params.name, 'versions', req.params.version));
    if (!v) notFound(`${label} ${req.params.name}:${req.params.version}`);
    return { status: 200, body: v };
  });
  router.add('PUT', `${base}/:name/versions/:version`, (req): Res => {
    const w = requireWorkspace(ctx, req);
    const body = requireBody(req);
    const { name, version } = req.params;
    if (!NAME_RE.test(name))
      fail(
        400,
        'UserError',
        `${label} name '${name}' is invalid: use letters, digits, '-', '_' and '.', starting with a letter, digit or '_'.`,
      );
    const p: Record<string, any> = { ...(body.properties ?? {}) };
    checkVersionBody(type, name, version, p);
    const id = childId(w, type, name, 'versions', version);
    const old = ctx.store.get<AssetResource>(vKind, id);
    if (old) {
      if (
        type === 'codes' &&
        p.codeUri &&
        old.properties.codeUri &&
        normUri(p.codeUri) !== normUri(old.properties.codeUri)
      ) {
        fail(400, 'UserError', 'Asset paths cannot be updated.');
      }
      // compare with the service's defaults applied to the new body too: an identical re-PUT that leaves osType/autoRebuild
      // out (the stored version has them filled in) is the same content → 200, as the real service answers
      const changed = sameContent(type, old.properties, {
        ...withServiceDefaults(type, p, w),
        environmentType: old.properties.environmentType,
      });
      if (changed)
        fail(
          400,
          'UserError',
          `${label} ${name} with version ${version} is already registered and cannot be changed (property '${changed}').`,
        );
      old.properties = {
        ...old.properties,
        description: p.description ?? old.properties.description,
        tags: p.tags ?? old.properties.tags,
        isArchived: p.isArchived ?? old.properties.isArchived,
      };
      old.systemData = systemData(req, old.systemData);
      ctx.store.put(vKind, id, old);
      return { status: 200, body: old };
    }
    ensureContainer(req, w, name);
    const props: Record<string, any> = {
      description: null,
      tags: {},
      properties: {},
      isAnonymous: false,
      isArchived: false,
      ...withServiceDefaults(type, p, w),
    };
    if (type === 'environments') props.environmentType = 'UserCreated';
    const rec: AssetResource = {
      id,
      name: version,
      type: `${RP}/workspaces/${type}/versions`,
      properties: JSON.parse(JSON.stringify(props)),
      systemData: systemData(req),
    };
    ctx.store.put(vKind, id, rec);
    // 201 + Location = the version's URL (environment version PUT in online_services test_online_deployment_create.json)
    return { status: 201, headers: { Location: selfUrl(ctx.armUrl, req) }, body: rec };
  });
  router.add('DELETE', `${base}/:name/versions/:version`, (req) => {
    const w = requireWorkspace(ctx, req);
    return {
      status: ctx.store.delete(vKind, childId(w, type, req.params.name, 'versions', req.params.version)) ? 200 : 204,
    };
  });
}

/**
 * What the service fills in or rewrites on a version it stores. Environments: osType Linux and autoRebuild Disabled
 * when left out, and a condaFile sent as YAML text is stored (and read back) as the same document in indented JSON
 * text: online_services test_online_deployment_create.json (2025-02, environment version PUT at 2023-04-01-preview:
 * request `"condaFile": "channels:\n- conda-forge\n…"`, response `"condaFile": "{\n  \"channels\": [\n    \"conda-forge\"\n …"`).
 * ASSUMPTION: the rewrite is the same at api-version 2022-10-01; text that is not a YAML mapping is kept as sent.
 */
function withServiceDefaults(type: string, p: Record<string, any>, w: WorkspaceRecord): Record<string, any> {
  if (type === 'data')
    return typeof p.dataUri === 'string' ? { ...p, dataUri: serviceDataUri(p.dataUri, p.dataType, w) } : p;
  if (type !== 'environments') return p;
  const out: Record<string, any> = { ...p, osType: p.osType ?? 'Linux', autoRebuild: p.autoRebuild ?? 'Disabled' };
  if (typeof p.condaFile === 'string') out.condaFile = condaFileAsJson(p.condaFile);
  return out;
}

/**
 * A data version's short datastore URI is stored in the long form, with a lower-case `resourcegroups` (unlike model
 * versions, arm/models.ts), and a uri_folder's gains a trailing '/': dataset test_data.py test_create_uri_folder.json and
 * test_create_uri_file.json (2026-03, api 2023-04-01-preview): `azureml://datastores/workspaceblobstore/paths/LocalUpload/…/tmp_folder`
 * → `azureml://subscriptions/…/resourcegroups/…/workspaces/…/datastores/workspaceblobstore/paths/LocalUpload/…/tmp_folder/`.
 * ASSUMPTIONS (not recorded): a long-form URI is kept as sent; mltable gets no trailing '/'.
 */
export function serviceDataUri(uri: string, dataType: unknown, w: WorkspaceRecord): string {
  const m = /^azureml:\/\/datastores\/([^/]+)\/paths\/(.*)$/i.exec(uri);
  if (!m) return uri;
  let rest = m[2];
  if (String(dataType).toLowerCase() === 'uri_folder' && !rest.endsWith('/')) rest += '/';
  return `azureml://subscriptions/${w.subscriptionId}/resourcegroups/${w.resourceGroup}/workspaces/${w.name}/datastores/${m[1]}/paths/${rest}`;
}

/** conda YAML (or JSON) text → the JSON text the service stores (2-space indent, key order kept) */
export function condaFileAsJson(text: string): string {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch {
    return text;
  }
  return doc && typeof doc === 'object' && !Array.isArray(doc) ? JSON.stringify(doc, null, 2) : text;
}

function normUri(u: string): string {
  return String(u).replace(/\/+$/, '').toLowerCase();
}

function checkVersionBody(type: string, name: string, version: string, p: Record<string, any>): void {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(version)) fail(400, 'UserError', `Version '${version}' is invalid.`);
  if (type === 'codes' && !p.codeUri) fail(400, 'UserError', `Code ${name}:${version}: codeUri is required.`);
  if (type === 'data') {
    if (!p.dataUri) fail(400, 'UserError', `Data ${name}:${version}: dataUri is required.`);
    if (!['uri_file', 'uri_folder', 'mltable'].includes(String(p.dataType).toLowerCase()))
      fail(400, 'UserError', `Data ${name}:${version}: dataType must be uri_file, uri_folder or mltable.`);
  }
  if (type === 'environments') {
    if (!p.image && !p.build)
      fail(
        400,
        'UserError',
        `Environment ${name}:${version}: either a Docker image or a Docker build context (build) is required.`,
      );
    if (p.image && p.build)
      fail(400, 'UserError', `Environment ${name}:${version}: specify either image or build, not both.`);
    if (p.build && !p.build.contextUri)
      fail(400, 'UserError', `Environment ${name}:${version}: build.contextUri is required.`);
    if (p.condaFile !== undefined && p.condaFile !== null && typeof p.condaFile !== 'string')
      fail(400, 'UserError', `Environment ${name}:${version}: condaFile must be the conda YAML text.`);
  }
  if (type === 'components') {
    const spec = p.componentSpec;
    if (!spec || typeof spec !== 'object')
      fail(400, 'UserError', `Component ${name}:${version}: componentSpec is required.`);
    const t = String(spec.type ?? 'command').toLowerCase();
    if (t === 'command' && !spec.command)
      fail(400, 'UserError', `Component ${name}:${version}: a command component needs 'command'.`);
  }
}

// ---------------------------------------------------------------- computes
interface ComputeResource {
  id: string;
  name: string;
  type: string;
  location: string;
  tags?: Record<string, string>;
  identity?: unknown;
  sku?: unknown;
  properties: Record<string, any>;
  systemData?: SystemData;
}

const COMPUTE_TYPES = [
  'AKS',
  'Kubernetes',
  'AmlCompute',
  'ComputeInstance',
  'DataFactory',
  'VirtualMachine',
  'HDInsight',
  'Databricks',
  'DataLakeAnalytics',
  'SynapseSpark',
];

/** the computes every workspace has (box start; arm/registries.ts addWorkspace for workspaces added later) */
export function seedComputes(ctx: EmulatorContext, w: WorkspaceRecord): void {
  const now = new Date().toISOString();
  const sd: SystemData = {
    createdAt: now,
    createdBy: ctx.ids.clientId,
    createdByType: 'Application',
    lastModifiedAt: now,
    lastModifiedBy: ctx.ids.clientId,
    lastModifiedByType: 'Application',
  };
  const seeds: Array<Pick<ComputeResource, 'name' | 'properties'>> = [
    {
      name: 'cpu-cluster',
      properties: {
        computeType: 'AmlCompute',
        computeLocation: w.location,
        description: 'CPU cluster (Azure-in-a-box: jobs run on the local job runner)',
        properties: {
          osType: 'Linux',
          vmSize: 'STANDARD_DS3_V2',
          vmPriority: 'Dedicated',
          scaleSettings: { maxNodeCount: 4, minNodeCount: 0, nodeIdleTimeBeforeScaleDown: 'PT120S' },
          remoteLoginPortPublicAccess: 'Disabled',
          allocationState: 'Steady',
          currentNodeCount: 0,
          targetNodeCount: 0,
          enableNodePublicIp: true,
        },
      },
    },
    {
      name: 'k8s-compute',
      properties: {
        computeType: 'Kubernetes',
        computeLocation: w.location,
        description: 'Attached Kubernetes cluster (Azure-in-a-box)',
        resourceId: `/subscriptions/${w.subscriptionId}/resourceGroups/${w.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/aks-ml`,
        properties: {
          namespace: 'azureml',
          defaultInstanceType: 'defaultinstancetype',
          extensionInstanceReleaseTrain: 'stable',
          instanceTypes: {
            defaultinstancetype: {
              resources: { requests: { cpu: '100m', memory: '2Gi' }, limits: { cpu: '2', memory: '2Gi' } },
            },
            cpu2: { resources: { requests: { cpu: '1', memory: '4Gi' }, limits: { cpu: '2', memory: '4Gi' } } },
          },
        },
      },
    },
  ];
  for (const s of seeds) {
    const id = childId(w, 'computes', s.name);
    if (ctx.store.get(KIND_COMPUTES, id)) continue;
    ctx.store.put(KIND_COMPUTES, id, {
      id,
      name: s.name,
      type: `${RP}/workspaces/computes`,
      location: w.location,
      tags: {},
      systemData: sd,
      properties: {
        ...s.properties,
        provisioningState: 'Succeeded',
        createdOn: now,
        modifiedOn: now,
        isAttachedCompute: s.properties.computeType === 'Kubernetes',
        disableLocalAuth: true,
      },
    });
  }
}

function registerComputes(router: Router, ctx: EmulatorContext): void {
  for (const w of ctx.store.list<WorkspaceRecord>('workspaces')) seedComputes(ctx, w);
  const base = `${WS}/computes`;
  router.add('GET', base, (req) => {
    const w = requireWorkspace(ctx, req);
    return {
      status: 200,
      body: page(ctx, req, ctx.store.list<ComputeResource>(KIND_COMPUTES, childId(w, 'computes') + '/')),
    };
  });
  router.add('GET', `${base}/:name`, (req) => {
    const w = requireWorkspace(ctx, req);
    const c = ctx.store.get<ComputeResource>(KIND_COMPUTES, childId(w, 'computes', req.params.name));
    if (!c)
      fail(
        404,
        'ResourceNotFound',
        `The Resource '${RP}/workspaces/${w.name}/computes/${req.params.name}' under resource group '${w.resourceGroup}' was not found.`,
      );
    return { status: 200, body: c };
  });
  router.add('PUT', `${base}/:name`, (req) => {
    const w = requireWorkspace(ctx, req);
    const body = requireBody(req);
    const name = req.params.name;
    if (!/^[A-Za-z][A-Za-z0-9-]{1,23}$/.test(name))
      fail(
        400,
        'BadRequest',
        `Compute name '${name}' is invalid: 2 to 24 characters, letters, digits and '-', starting with a letter.`,
      );
    const p = body.properties ?? {};
    if (!COMPUTE_TYPES.includes(p.computeType))
      fail(400, 'BadRequest', `computeType must be one of ${COMPUTE_TYPES.join(', ')}.`);
    const id = childId(w, 'computes', name);
    const old = ctx.store.get<ComputeResource>(KIND_COMPUTES, id);
    if (old && old.properties.computeType !== p.computeType)
      fail(
        409,
        'Conflict',
        `Compute ${name} already exists with type ${old.properties.computeType}; its type cannot be changed.`,
      );
    const now = new Date().toISOString();
    const inner = { ...(p.properties ?? {}) };
    if (p.computeType === 'Kubernetes') {
      inner.namespace ??= 'default';
      inner.defaultInstanceType ??= 'defaultinstancetype';
    }
    if (p.computeType === 'AmlCompute') {
      inner.osType ??= 'Linux';
      inner.vmPriority ??= 'Dedicated';
      inner.allocationState ??= 'Steady';
      inner.currentNodeCount ??= 0;
    }
    if (p.computeType === 'ComputeInstance') inner.state ??= 'Running';
    const rec: ComputeResource = {
      id,
      name,
      type: `${RP}/workspaces/computes`,
      location: body.location ?? w.location,
      tags: body.tags ?? {},
      identity: body.identity,
      sku: body.sku,
      systemData: systemData(req, old?.systemData),
      properties: {
        ...p,
        properties: inner,
        computeLocation: p.computeLocation ?? body.location ?? w.location,
        provisioningState: 'Creating',
        createdOn: old?.properties.createdOn ?? now,
        modifiedOn: now,
        isAttachedCompute:
          ['Kubernetes', 'AKS', 'VirtualMachine', 'HDInsight', 'Databricks'].includes(p.computeType) && !!p.resourceId,
      },
    };
    ctx.store.put(KIND_COMPUTES, id, rec);
    return ctx.lro.respond(req, old ? 200 : 201, rec, {
      work: () => {
        const cur = ctx.store.get<ComputeResource>(KIND_COMPUTES, id);
        if (cur) {
          cur.properties.provisioningState = 'Succeeded';
          ctx.store.put(KIND_COMPUTES, id, cur);
        }
        return cur;
      },
    });
  });
  router.add('DELETE', `${base}/:name`, (req) => {
    const w = requireWorkspace(ctx, req);
    const id = childId(w, 'computes', req.params.name);
    if (!ctx.store.get(KIND_COMPUTES, id)) return { status: 204 };
    const action = req.query.get('underlyingResourceAction') ?? 'Delete';
    if (!/^(Delete|Detach)$/i.test(action))
      fail(400, 'BadRequest', `underlyingResourceAction must be Delete or Detach.`);
    return ctx.lro.accepted(req, {
      work: () => {
        ctx.store.delete(KIND_COMPUTES, id);
      },
    });
  });
}

/** curated environments every workspace lists (the corpus uses azureml:AzureML-sklearn-1.5@latest) */
function seedCuratedEnvironments(ctx: EmulatorContext, w: WorkspaceRecord): void {
  const curated = [
    {
      name: 'AzureML-sklearn-1.5',
      version: '1',
      image: 'mcr.microsoft.com/azureml/curated/sklearn-1.5:1',
      description: 'Curated environment: scikit-learn 1.5 (Azure-in-a-box seed)',
    },
    {
      // named by azureml-examples cli/jobs/single-step/lightgbm/iris/job-sweep.yml (azureml:AzureML-lightgbm-3.3@latest);
      // ASSUMPTION: the image path follows the sklearn one's pattern (the real curated version's image was not looked up)
      name: 'AzureML-lightgbm-3.3',
      version: '1',
      image: 'mcr.microsoft.com/azureml/curated/lightgbm-3.3:1',
      description: 'Curated environment: LightGBM 3.3 (Azure-in-a-box seed)',
    },
  ];
  const now = new Date().toISOString();
  const sd: SystemData = {
    createdAt: now,
    createdBy: 'Microsoft',
    createdByType: 'Application',
    lastModifiedAt: now,
    lastModifiedBy: 'Microsoft',
    lastModifiedByType: 'Application',
  };
  for (const c of curated) {
    const cid = childId(w, 'environments', c.name);
    const vid = `${cid}/versions/${c.version}`;
    if (ctx.store.get(versionKind('environments'), vid)) continue;
    ctx.store.put(containerKind('environments'), cid, {
      id: cid,
      name: c.name,
      type: `${RP}/workspaces/environments`,
      systemData: sd,
      properties: { description: c.description, tags: {}, properties: {}, isArchived: false },
    });
    ctx.store.put(versionKind('environments'), vid, {
      id: vid,
      name: c.version,
      type: `${RP}/workspaces/environments/versions`,
      systemData: sd,
      properties: {
        description: c.description,
        tags: {},
        properties: {},
        isAnonymous: false,
        isArchived: false,
        image: c.image,
        osType: 'Linux',
        environmentType: 'Curated',
        autoRebuild: 'Disabled',
      },
    });
  }
}

/**
 * Data assets the corpus jobs name but do not create themselves: `local-folder-example` (cli/jobs/basics/
 * hello-data-uri-folder.yml; azureml-examples creates it from cli/assets/data/local-folder.yml, not in our corpus).
 * Seeded as version 1, a uri_folder with one small file in the default datastore.
 */
async function seedCorpusData(ctx: EmulatorContext, w: WorkspaceRecord): Promise<void> {
  const name = 'local-folder-example';
  const cid = childId(w, 'data', name);
  const vid = `${cid}/versions/1`;
  if (ctx.store.get(versionKind('data'), vid)) return;
  const prefix = `LocalUpload/seed/${name}`;
  const cc = ctx.azurite.containerClient();
  await cc.createIfNotExists();
  const text =
    'sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,setosa\n6.7,3.0,5.2,2.3,virginica\n';
  await cc.getBlockBlobClient(`${prefix}/sample.csv`).upload(text, Buffer.byteLength(text));
  const now = new Date().toISOString();
  const sd: SystemData = {
    createdAt: now,
    createdBy: ctx.ids.clientId,
    createdByType: 'Application',
    lastModifiedAt: now,
    lastModifiedBy: ctx.ids.clientId,
    lastModifiedByType: 'Application',
  };
  ctx.store.put(containerKind('data'), cid, {
    id: cid,
    name,
    type: `${RP}/workspaces/data`,
    systemData: sd,
    properties: {
      description: 'Seeded by Azure-in-a-box for the corpus (hello-data-uri-folder.yml)',
      tags: {},
      properties: {},
      isArchived: false,
    },
  });
  ctx.store.put(versionKind('data'), vid, {
    id: vid,
    name: '1',
    type: `${RP}/workspaces/data/versions`,
    systemData: sd,
    properties: {
      description: null,
      tags: {},
      properties: {},
      isAnonymous: false,
      isArchived: false,
      dataType: 'uri_folder',
      dataUri: `azureml://subscriptions/${w.subscriptionId}/resourcegroups/${w.resourceGroup}/workspaces/${w.name}/datastores/workspaceblobstore/paths/${prefix}/`,
    },
  });
}

export async function register(router: Router, ctx: EmulatorContext): Promise<void> {
  for (const w of ctx.store.list<WorkspaceRecord>('workspaces')) {
    seedCuratedEnvironments(ctx, w);
    await seedCorpusData(ctx, w);
  }
  for (const t of ASSET_TYPES) registerAssetType(router, ctx, t);
  registerComputes(router, ctx);
}
