// Azure ML registries (issue 13): the registry resource (GET, lists), its model containers and versions, the registry's
// own storage for pending uploads (an Azurite container per registry), and the workspace model `publish` that copies a
// workspace model version into a registry server-side. api-version 2024-04-01 (test/fixtures/third-party/
// azure-rest-api-specs/2024-04-01/: mfe.json RegistryModel*, ModelVersions_Publish; registries.json Registries_*), the
// registry resource also at 2025-12-01 (the copy that was already there).
//
// Sources, rule by rule:
//  - registry GET shape (tags, location lower-case although the PUT said "WestCentralUS", identity, regionDetails[] with
//    systemCreatedStorageAccount / systemCreatedAcrAccount + armResourceId, discoveryUrl
//    `https://<region>.api.azureml.ms/registrymanagement/v1.0/registries/<name>/discovery`, managedResourceGroup,
//    mlFlowRegistryUri `azureml://<region>.api.azureml.ms/mlflow/v1.0<registry id>`, intellectualPropertyPublisher null,
//    publicNetworkAccess Enabled, privateEndpointConnections [], systemData null): the recorded GET of
//    rec/registry/e2etests/test_registry.pyTestRegistrytest_registry_operations.json (Azure/azure-sdk-assets
//    2238c1b72057257a36f3d7c36285036f95362a20, api 2022-10-01-preview, 2023-10-31); excerpt kept in
//    test/fixtures/third-party/azure-sdk-assets/…/test_registry.pyTestRegistrytest_registry_operations.excerpt.json.
//  - a workspace may use a registry model only if its region is one of the registry's regions: Microsoft Learn,
//    "Share models, components, and environments across workspaces with registries" (MicrosoftDocs/azure-ai-docs
//    0fadba81eaabd75e436cd8fcbb15643bc728579b articles/machine-learning/how-to-share-models-pipelines-across-workspaces-with-registries.md:
//    "deploy any workspace you have access to …, provided the location of the workspace is one of the locations supported
//    by the registry"). The deployment side is in arm/endpoints.ts (registryModelFor). For publish the same rule is applied
//    to the source workspace: ASSUMPTION (the doc states it for use; the service's check on publish is not documented).
//  - registry asset permissions (registries/read, registries/assets/read, registries/assets/write): how-to-manage-registries.md
//    of the same repository @ 2b34008e2b9cdc1473bd0ac434145fc4deda0e7f. The box models "no permission on this registry"
//    as a per-registry deny list (RegistryRecord.deny): 403 AuthorizationFailed naming the action — ASSUMPTION on wording
//    (same phrasing as the host's Reader 403).
//  - startPendingUpload request/answer shape: examples/Registry/ModelVersion/createOrGetStartPendingUpload.json (2024-04-01):
//    `{blobReferenceForConsumption: {blobUri, storageAccountArmId, credential: {credentialType: SAS, sasUri}}, pendingUploadId,
//    pendingUploadType}`. The recorded data-plane equivalent (tempdatarefs, test_model.py test_create_get_download_model_registry)
//    hands a container-level SAS with permissions `rcwl` and a blobUri that is the container (`…:443/<container>`): the box
//    hands a container SAS `rcwl` and blobUri = `<container>/<pendingUploadId>` (ASSUMPTION: the ARM answer names the folder).
//  - publish: POST …/workspaces/{ws}/models/{name}/versions/{version}/publish, body {registryName, destinationName,
//    destinationVersion}, 202 + Location (examples/Workspace/ModelVersion/publish.json; x-ms-long-running-operation,
//    final-state-via location). Everything else is ASSUMPTION (no recording of publish was found: the SDK's
//    test_promote_model recording ends before the share): checked at once (404 source version / registry, 400 region,
//    409 destination version exists); the work copies the blobs into the registry's storage and creates the registry
//    version with the source's description, tags, properties, flavors, modelType and jobName, modelUri = the copy's
//    blob URL.
//  - registry model version PUT: LRO 200/201 (mfe.json); answered like the workspace PUTs (lro.ts) — ASSUMPTION.
//    Its modelUri must be a blob URL in this registry's storage or an azureml://registries/… URI (ASSUMPTION).
import { randomUUID } from 'node:crypto';
import {
  ContainerSASPermissions,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import type { EmulatorContext } from '../context';
import { fail, type Req, type Res, type Router } from '../http';
import {
  RP,
  WS,
  compareVersions,
  matchesKv,
  page,
  requireBody,
  requireWorkspace,
  systemData,
  wsId,
  type SystemData,
  type WorkspaceRecord,
} from '../armkit';
import { VERSIONS as WS_VERSIONS, CONTAINERS as WS_CONTAINERS } from './models';
import { blobLocation } from './endpoints';
import { seedComputes } from './assets';

export const REGISTRIES = 'registries';
const R_CONTAINERS = 'registryModels';
const R_VERSIONS = 'registryModelVersions';
const REG = `/subscriptions/:sub/resourceGroups/:rg/providers/${RP}/registries/:reg`;

export interface RegistryRecord {
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  /** primary region (lower-case, no spaces) */
  location: string;
  /** every region the registry replicates to, primary first */
  regions: string[];
  tags: Record<string, string>;
  /** the registry's storage: an Azurite container */
  container: string;
  principalId: string;
  /** app ids (client ids) without any permission on this registry (403 on every call that names it) */
  deny?: string[];
}
interface ContainerRec {
  id: string;
  name: string;
  registry: string;
  systemData: SystemData;
  properties: Record<string, any>;
}
interface VersionRec {
  id: string;
  name: string;
  model: string;
  registry: string;
  seq: number;
  systemData: SystemData;
  properties: Record<string, any>;
}

let seq = 0;

/** 'East US' / 'eastus' / 'EastUS' → 'eastus' (ARM location names) */
export function regionKey(r: string): string {
  return String(r ?? '')
    .replace(/\s+/g, '')
    .toLowerCase();
}

export function registryId(sub: string, rg: string, name: string): string {
  return `/subscriptions/${sub}/resourceGroups/${rg}/providers/${RP}/registries/${name}`;
}

/** Seed a registry (tests, demo): its subscription / resource group are created when missing, its storage container too. */
export async function addRegistry(
  ctx: EmulatorContext,
  o: {
    name: string;
    location: string;
    regions?: string[];
    subscriptionId?: string;
    resourceGroup?: string;
    tags?: Record<string, string>;
    deny?: string[];
  },
): Promise<RegistryRecord> {
  const sub = o.subscriptionId ?? ctx.ids.subscriptionId;
  const rg = o.resourceGroup ?? ctx.ids.resourceGroup;
  ensureScope(ctx, sub, rg, o.location);
  const id = registryId(sub, rg, o.name);
  const regions = [...new Set([o.location, ...(o.regions ?? [])].map(regionKey))];
  const container = `registry-${o.name.toLowerCase().replace(/[^a-z0-9]/g, '')}`.slice(0, 50);
  const old = ctx.store.get<RegistryRecord>(REGISTRIES, id);
  const rec: RegistryRecord = {
    id,
    name: o.name,
    subscriptionId: sub,
    resourceGroup: rg,
    location: regionKey(o.location),
    regions,
    tags: o.tags ?? {},
    container,
    principalId: old?.principalId ?? randomUUID(),
    ...(o.deny ? { deny: o.deny } : {}),
  };
  ctx.store.put(REGISTRIES, id, rec);
  await ctx.azurite.containerClient(container).createIfNotExists();
  return rec;
}

/** Seed a workspace (e.g. production in another subscription / resource group) with its workspaceblobstore. */
export function addWorkspace(
  ctx: EmulatorContext,
  o: { name: string; location: string; subscriptionId?: string; resourceGroup?: string },
): WorkspaceRecord {
  const sub = o.subscriptionId ?? ctx.ids.subscriptionId;
  const rg = o.resourceGroup ?? ctx.ids.resourceGroup;
  ensureScope(ctx, sub, rg, o.location);
  const id = wsId(sub, rg, o.name);
  const w: WorkspaceRecord = ctx.store.get<WorkspaceRecord>('workspaces', id) ?? {
    id,
    name: o.name,
    location: regionKey(o.location),
    resourceGroup: rg,
    subscriptionId: sub,
    body: {
      workspaceId: randomUUID(),
      friendlyName: o.name,
      description: 'Azure-in-a-box workspace',
      createdAt: new Date().toISOString(),
    },
  };
  ctx.store.put('workspaces', id, w);
  const ds = `${id}/datastores/workspaceblobstore`;
  if (!ctx.store.get('datastores', ds)) {
    // the same default blob store as the seeded workspace's (arm/datastores.ts): one Azurite container serves both
    const model = ctx.store.get<any>(
      'datastores',
      `${wsId(ctx.ids.subscriptionId, ctx.ids.resourceGroup, ctx.ids.workspace)}/datastores/workspaceblobstore`,
    );
    if (model) ctx.store.put('datastores', ds, { ...model, id: ds });
  }
  seedComputes(ctx, w); // cpu-cluster and k8s-compute, as in the box's own workspace
  return w;
}

function ensureScope(ctx: EmulatorContext, sub: string, rg: string, location: string): void {
  if (!ctx.store.get('subscriptions', sub))
    ctx.store.put('subscriptions', sub, {
      subscriptionId: sub,
      displayName: `Azure-in-a-box ${sub.slice(0, 8)}`,
      tenantId: ctx.ids.tenantId,
      state: 'Enabled',
    });
  const rgId = `/subscriptions/${sub}/resourceGroups/${rg}`;
  if (!ctx.store.get('resourceGroups', rgId))
    ctx.store.put('resourceGroups', rgId, { id: rgId, name: rg, location: regionKey(location) });
}

/** the registry a name refers to (registry names are unique in the tenant: how-to-manage-registries.md) */
export function registryByName(ctx: EmulatorContext, name: string): RegistryRecord | undefined {
  return ctx.store.list<RegistryRecord>(REGISTRIES).find((r) => r.name.toLowerCase() === name.toLowerCase());
}

/** a registry model version by registry name / model / version, for deployments (arm/endpoints.ts) */
export function registryModelVersion(
  ctx: EmulatorContext,
  registry: string,
  model: string,
  version: string,
): { reg: RegistryRecord; version?: Record<string, any> } | undefined {
  const reg = registryByName(ctx, registry);
  if (!reg) return undefined;
  const v = ctx.store.get<VersionRec>(R_VERSIONS, `${reg.id}/models/${model}/versions/${version}`);
  return { reg, version: v ? versionView(v) : undefined };
}

function registryBody(ctx: EmulatorContext, r: RegistryRecord): Record<string, unknown> {
  const mrg = `/subscriptions/${r.subscriptionId}/resourceGroups/azureml-rg-${r.name}_${r.principalId}`;
  return {
    tags: r.tags,
    location: r.location,
    identity: { type: 'SystemAssigned', principalId: r.principalId, tenantId: ctx.ids.tenantId },
    id: r.id,
    name: r.name,
    type: `${RP}/registries`,
    properties: {
      regionDetails: r.regions.map((loc) => ({
        location: loc,
        storageAccountDetails: [
          {
            userCreatedStorageAccount: null,
            systemCreatedStorageAccount: {
              storageAccountName: ctx.azurite.account,
              storageAccountType: 'standard_lrs',
              storageAccountHnsEnabled: false,
              armResourceId: {
                resourceId: `${mrg}/providers/Microsoft.Storage/storageAccounts/${ctx.azurite.account}`,
              },
            },
          },
        ],
        acrDetails: [
          {
            userCreatedAcrAccount: null,
            systemCreatedAcrAccount: {
              acrAccountName: `cr${r.name.replace(/[^a-z0-9]/gi, '').toLowerCase()}`,
              acrAccountSku: 'Premium',
              armResourceId: {
                resourceId: `${mrg}/providers/Microsoft.ContainerRegistry/registries/cr${r.name.replace(/[^a-z0-9]/gi, '').toLowerCase()}`,
              },
            },
          },
        ],
      })),
      intellectualPropertyPublisher: null,
      publicNetworkAccess: 'Enabled',
      discoveryUrl: `https://${r.location}.api.azureml.ms/registrymanagement/v1.0/registries/${r.name}/discovery`,
      managedResourceGroup: { resourceId: mrg },
      mlFlowRegistryUri: `azureml://${r.location}.api.azureml.ms/mlflow/v1.0${r.id}`,
      privateEndpointConnections: [],
    },
    systemData: null,
  };
}

function containerView(ctx: EmulatorContext, c: ContainerRec): Record<string, unknown> {
  const vs = versionsOf(ctx, c.registry, c.name)
    .map((v) => v.name)
    .sort(compareVersions);
  const maxNum = vs
    .map(Number)
    .filter((n) => Number.isInteger(n))
    .reduce((a, b) => Math.max(a, b), 0);
  return {
    id: c.id,
    name: c.name,
    type: `${RP}/registries/models`,
    systemData: c.systemData,
    properties: {
      description: null,
      tags: {},
      properties: {},
      isArchived: false,
      ...c.properties,
      ...(vs.length ? { latestVersion: vs[vs.length - 1] } : {}),
      nextVersion: String(maxNum + 1),
      provisioningState: 'Succeeded',
    },
  };
}

function versionView(v: VersionRec): Record<string, any> {
  return {
    id: v.id,
    name: v.name,
    type: `${RP}/registries/models/versions`,
    systemData: v.systemData,
    properties: { ...v.properties, provisioningState: 'Succeeded' },
  };
}

function versionsOf(ctx: EmulatorContext, regId: string, model: string): VersionRec[] {
  return ctx.store.list<VersionRec>(R_VERSIONS, `${regId}/models/${model}/versions/`);
}

/** the registry's storage as a client sees it: the blob URL base through the fault-injecting proxy */
function registryBlobBase(ctx: EmulatorContext, r: RegistryRecord): string {
  return `${ctx.azurite.clientBlobEndpoint}/${r.container}`;
}

export function register(router: Router, ctx: EmulatorContext): void {
  seq = ctx.store.list<VersionRec>(R_VERSIONS).reduce((m, v) => Math.max(m, v.seq ?? 0), 0);

  /** path/api-version checks for reads (writes are checked by the host's pre-handler) */
  const checkRead = (req: Req) => {
    const v = ctx.validate(req.method, req.path, req.query, undefined);
    if (v && v.errors.length)
      fail(
        400,
        (v as any).code === 'InvalidApiVersionParameter' ? 'InvalidApiVersionParameter' : 'BadRequest',
        v.errors[0],
      );
  };
  const action = (what: string) => `${RP}/registries/${what}`;
  const requireRegistry = (req: Req, act = 'read'): RegistryRecord => {
    if (req.method === 'GET') checkRead(req);
    const { sub, rg, reg } = req.params;
    if (!ctx.store.get('subscriptions', sub))
      fail(404, 'SubscriptionNotFound', `The subscription '${sub}' could not be found.`);
    if (!ctx.store.get('resourceGroups', `/subscriptions/${sub}/resourceGroups/${rg}`))
      fail(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
    const r = ctx.store.get<RegistryRecord>(REGISTRIES, registryId(sub, rg, reg));
    if (!r)
      fail(
        404,
        'ResourceNotFound',
        `The Resource '${RP}/registries/${reg}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
      );
    denyCheck(req, r, action(act));
    return r;
  };
  const denyCheck = (req: Req, r: RegistryRecord, act: string) => {
    const app = req.identity;
    if (app && r.deny?.some((d) => d.toLowerCase() === app.appId.toLowerCase())) {
      fail(
        403,
        'AuthorizationFailed',
        `The client '${app.appId}' with object id '${app.oid}' does not have authorization to perform action '${act}' over scope '${r.id}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
      );
    }
  };

  // ---- registry discovery (data plane, on the region's api host: the workspace discoveryUrl's host, here the ARM host).
  // Shape as recorded: rec/model/e2etests/test_model.pyTestModeltest_promote_model.json (2024-04, no query) and
  // …test_create_get_download_model_registry.json (2024-05, `?api-version=v1.0`): GET
  // https://eastus.api.azureml.ms/registrymanagement/v1.0/registries/testFeed/discovery → 200 {registryId, registryName,
  // tenantId, primaryRegion, regions[], subscriptionId, resourceGroup, workspaceName: null,
  // primaryRegionResourceProviderUri, registryFqdns: {<region>: {uri}}, intellectualPropertyPublisher: null}.
  // ASSUMPTIONS: an unknown registry → 404 (not recorded); the recordings show no Authorization header (the recorder may
  // have dropped it): the box takes the caller's ARM token like every other route of this host.
  router.add('GET', '/registrymanagement/v1.0/registries/:reg/discovery', (req) => {
    const r = registryByName(ctx, req.params.reg);
    if (!r) fail(404, 'NotFound', `Registry ${req.params.reg} was not found.`);
    const base = ctx.armUrl.replace(/\/$/, '');
    return {
      status: 200,
      body: {
        registryId: r.principalId,
        registryName: r.name,
        tenantId: ctx.ids.tenantId,
        primaryRegion: r.location,
        regions: r.regions,
        subscriptionId: r.subscriptionId,
        resourceGroup: r.resourceGroup,
        workspaceName: null,
        primaryRegionResourceProviderUri: `${base}/`,
        registryFqdns: Object.fromEntries(r.regions.map((g) => [g, { uri: base }])),
        intellectualPropertyPublisher: null,
      },
    };
  });

  // ---- the registry resource
  router.add('GET', REG, (req) => ({ status: 200, body: registryBody(ctx, requireRegistry(req)) }));
  router.add('GET', `/subscriptions/:sub/resourceGroups/:rg/providers/${RP}/registries`, (req) => {
    checkRead(req);
    if (!ctx.store.get('resourceGroups', `/subscriptions/${req.params.sub}/resourceGroups/${req.params.rg}`))
      fail(404, 'ResourceGroupNotFound', `Resource group '${req.params.rg}' could not be found.`);
    const all = ctx.store
      .list<RegistryRecord>(REGISTRIES, `/subscriptions/${req.params.sub}/resourceGroups/${req.params.rg}/`)
      .map((r) => registryBody(ctx, r));
    return { status: 200, body: page(ctx, req, all) };
  });
  router.add('GET', `/subscriptions/:sub/providers/${RP}/registries`, (req) => {
    checkRead(req);
    if (!ctx.store.get('subscriptions', req.params.sub))
      fail(404, 'SubscriptionNotFound', `The subscription '${req.params.sub}' could not be found.`);
    const all = ctx.store
      .list<RegistryRecord>(REGISTRIES, `/subscriptions/${req.params.sub}/`)
      .map((r) => registryBody(ctx, r));
    return { status: 200, body: page(ctx, req, all) };
  });

  // ---- model containers
  const modelNotFound = (r: RegistryRecord, name: string, version?: string): never =>
    fail(404, 'UserError', 'The specified resource was not found.', {
      details: [
        {
          code: version === undefined ? 'ModelNotFound' : 'ModelVersionNotFound',
          message:
            version === undefined
              ? `Model container with name: ${name} not found.`
              : `Model ${name}:${version} not found in registry ${r.name}.`,
          details: [],
          additionalInfo: [],
        },
      ],
    });
  const getContainer = (r: RegistryRecord, name: string) =>
    ctx.store.get<ContainerRec>(R_CONTAINERS, `${r.id}/models/${name}`);

  router.add('GET', `${REG}/models`, (req) => {
    const r = requireRegistry(req, 'assets/read');
    const all = ctx.store.list<ContainerRec>(R_CONTAINERS, `${r.id}/models/`).map((c) => containerView(ctx, c));
    return { status: 200, body: page(ctx, req, all) };
  });
  router.add('GET', `${REG}/models/:name`, (req) => {
    const r = requireRegistry(req, 'assets/read');
    return {
      status: 200,
      body: containerView(ctx, getContainer(r, req.params.name) ?? modelNotFound(r, req.params.name)),
    };
  });

  // ---- model versions
  router.add('GET', `${REG}/models/:name/versions`, (req) => {
    const r = requireRegistry(req, 'assets/read');
    // versions of a missing model: 404 as in a workspace (arm/models.ts; ASSUMPTION for registries)
    if (!getContainer(r, req.params.name)) modelNotFound(r, req.params.name);
    let vs = versionsOf(ctx, r.id, req.params.name);
    const view = (req.query.get('listViewType') ?? 'ActiveOnly').toLowerCase();
    if (view !== 'all') vs = vs.filter((v) => (view === 'archivedonly') === !!v.properties.isArchived);
    const ver = req.query.get('version');
    if (ver) vs = vs.filter((v) => v.name === ver);
    vs = vs.filter(
      (v) =>
        matchesKv(req.query.get('tags'), v.properties.tags) &&
        matchesKv(req.query.get('properties'), v.properties.properties),
    );
    const order = (req.query.get('$orderBy') ?? '').trim().toLowerCase().replace(/\s+/g, ' ');
    const byCreated = (a: VersionRec, b: VersionRec) =>
      a.systemData.createdAt.localeCompare(b.systemData.createdAt) || a.seq - b.seq;
    const sorters: Record<string, (a: VersionRec, b: VersionRec) => number> = {
      '': byCreated,
      createdtime: byCreated,
      'createdtime asc': byCreated,
      'createdtime desc': (a, b) => byCreated(b, a),
      version: (a, b) => compareVersions(a.name, b.name),
      'version asc': (a, b) => compareVersions(a.name, b.name),
      'version desc': (a, b) => compareVersions(b.name, a.name),
    };
    const sorter =
      sorters[order] ??
      fail(
        400,
        'UserError',
        `Invalid $orderBy '${req.query.get('$orderBy')}'. Supported: createdtime asc|desc, version asc|desc.`,
      );
    vs.sort(sorter);
    return { status: 200, body: page(ctx, req, vs.map(versionView)) };
  });
  router.add('GET', `${REG}/models/:name/versions/:version`, (req) => {
    const r = requireRegistry(req, 'assets/read');
    const v =
      ctx.store.get<VersionRec>(R_VERSIONS, `${r.id}/models/${req.params.name}/versions/${req.params.version}`) ??
      modelNotFound(r, req.params.name, req.params.version);
    return { status: 200, body: versionView(v) };
  });

  const createVersion = (
    req: Req,
    r: RegistryRecord,
    model: string,
    version: string,
    p: Record<string, any>,
    createdBy?: SystemData,
  ): VersionRec => {
    let c = getContainer(r, model);
    if (!c) {
      c = {
        id: `${r.id}/models/${model}`,
        name: model,
        registry: r.id,
        systemData: createdBy ?? systemData(req),
        properties: { description: null, tags: {}, properties: {}, isArchived: false },
      };
      ctx.store.put(R_CONTAINERS, c.id, c);
    }
    const rec: VersionRec = {
      id: `${c.id}/versions/${version}`,
      name: version,
      model: c.name,
      registry: r.id,
      seq: ++seq,
      systemData: createdBy ?? systemData(req),
      properties: {
        description: p.description ?? null,
        tags: p.tags ?? {},
        properties: p.properties ?? {},
        isAnonymous: p.isAnonymous ?? false,
        isArchived: p.isArchived ?? false,
        modelType: p.modelType ?? 'custom_model',
        modelUri: p.modelUri,
        jobName: p.jobName ?? null,
        flavors: p.flavors ?? {},
      },
    };
    ctx.store.put(R_VERSIONS, rec.id, rec);
    return rec;
  };

  router.add('PUT', `${REG}/models/:name/versions/:version`, (req) => {
    const r = requireRegistry(req, 'assets/write');
    const body = requireBody(req);
    const p: Record<string, any> = { ...(body.properties ?? {}) };
    const id = `${r.id}/models/${req.params.name}/versions/${req.params.version}`;
    const old = ctx.store.get<VersionRec>(R_VERSIONS, id);
    if (old) {
      if (
        p.modelUri !== undefined &&
        String(p.modelUri).replace(/\/+$/, '') !== String(old.properties.modelUri).replace(/\/+$/, '')
      ) {
        fail(
          409,
          'Conflict',
          `Cannot change the modelUri of an existing model version: ${old.model}:${old.name} in registry ${r.name} points at '${old.properties.modelUri}'.`,
        );
      }
      const rec: VersionRec = {
        ...old,
        systemData: systemData(req, old.systemData),
        properties: {
          ...old.properties,
          description: p.description ?? old.properties.description,
          tags: p.tags ?? old.properties.tags,
          properties: { ...old.properties.properties, ...(p.properties ?? {}) },
          isArchived: p.isArchived ?? old.properties.isArchived,
        },
      };
      ctx.store.put(R_VERSIONS, id, rec);
      return ctx.lro.respond(req, 200, versionView(rec));
    }
    const uri = String(p.modelUri ?? '');
    const base = registryBlobBase(ctx, r);
    if (!uri.startsWith(base + '/') && !/^azureml:\/\/registries\//i.test(uri)) {
      fail(
        400,
        'UserError',
        `modelUri '${uri}' is not in registry ${r.name}'s storage: upload through startPendingUpload first.`,
      );
    }
    return ctx.lro.respond(req, 201, versionView(createVersion(req, r, req.params.name, req.params.version, p)));
  });

  router.add('DELETE', `${REG}/models/:name/versions/:version`, (req) => {
    const r = requireRegistry(req, 'assets/delete');
    const ok = ctx.store.delete(R_VERSIONS, `${r.id}/models/${req.params.name}/versions/${req.params.version}`);
    return ok ? ctx.lro.accepted(req) : { status: 204 };
  });

  router.add('POST', `${REG}/models/:name/versions/:version/startPendingUpload`, (req) => {
    const r = requireRegistry(req, 'assets/write');
    const body = requireBody(req);
    if (ctx.store.get(R_VERSIONS, `${r.id}/models/${req.params.name}/versions/${req.params.version}`)) {
      fail(409, 'UserError', `Model ${req.params.name}:${req.params.version} already exists in registry ${r.name}.`);
    }
    const uploadId = String(body.pendingUploadId ?? randomUUID());
    const expiresOn = new Date(Date.now() + 8 * 3600_000);
    const sas = generateBlobSASQueryParameters(
      {
        containerName: r.container,
        permissions: ContainerSASPermissions.parse('rcwl'),
        startsOn: new Date(Date.now() - 600_000),
        expiresOn,
      },
      new StorageSharedKeyCredential(ctx.azurite.account, ctx.azurite.key),
    ).toString();
    const blobUri = `${registryBlobBase(ctx, r)}/${uploadId}`;
    return {
      status: 200,
      body: {
        blobReferenceForConsumption: {
          blobUri,
          storageAccountArmId: `/subscriptions/${r.subscriptionId}/resourceGroups/azureml-rg-${r.name}_${r.principalId}/providers/Microsoft.Storage/storageAccounts/${ctx.azurite.account}`,
          credential: { credentialType: 'SAS', sasUri: `${blobUri}?${sas}` },
        },
        pendingUploadId: uploadId,
        pendingUploadType: 'TemporaryBlobReference',
      },
    };
  });

  // ---- workspace → registry: publish
  router.add('POST', `${WS}/models/:name/versions/:version/publish`, async (req): Promise<Res> => {
    const w = requireWorkspace(ctx, req);
    const body = requireBody(req);
    const src = ctx.store.get<any>(WS_VERSIONS, `${w.id}/models/${req.params.name}/versions/${req.params.version}`);
    if (!src || !ctx.store.get(WS_CONTAINERS, `${w.id}/models/${req.params.name}`)) {
      fail(404, 'UserError', 'The specified resource was not found.', {
        details: [
          {
            code: 'ModelVersionNotFound',
            message: `Model ${req.params.name}:${req.params.version} not found in workspace ${w.name}.`,
            details: [],
            additionalInfo: [],
          },
        ],
      });
    }
    const r = body.registryName ? registryByName(ctx, String(body.registryName)) : undefined;
    if (!r)
      fail(404, 'UserError', `Registry '${body.registryName ?? ''}' was not found.`, {
        details: [
          {
            code: 'RegistryNotFound',
            message: `Registry ${body.registryName ?? ''} not found.`,
            details: [],
            additionalInfo: [],
          },
        ],
      });
    denyCheck(req, r, `${RP}/registries/assets/write`);
    if (!r.regions.includes(regionKey(w.location))) {
      fail(
        400,
        'UserError',
        `Workspace ${w.name} is in region ${w.location}, which is not one of registry ${r.name}'s regions (${r.regions.join(', ')}).`,
      );
    }
    const destName = String(body.destinationName ?? req.params.name);
    const destVersion = String(body.destinationVersion ?? req.params.version);
    if (ctx.store.get(R_VERSIONS, `${r.id}/models/${destName}/versions/${destVersion}`)) {
      fail(409, 'UserError', `Model ${destName}:${destVersion} already exists in registry ${r.name}.`);
    }
    const sp = src.properties ?? {};
    return ctx.lro.accepted(req, {
      work: async () => {
        // server-side copy: source blobs → the registry's storage under <model>/<version>/
        const from = blobLocation(ctx, w.id, String(sp.modelUri));
        const prefix = from.prefix.replace(/\/+$/, '');
        const leaf = prefix.split('/').pop() || destName;
        const target = `${destName}/${destVersion}/${leaf}`;
        const srcCc = ctx.azurite.containerClient(from.container);
        const dstCc = ctx.azurite.containerClient(r.container);
        let n = 0;
        const single = prefix ? await srcCc.getBlobClient(prefix).exists() : false;
        if (single) {
          await dstCc.getBlockBlobClient(target).uploadData(await srcCc.getBlobClient(prefix).downloadToBuffer());
          n = 1;
        } else {
          for await (const b of srcCc.listBlobsFlat({ prefix: prefix ? `${prefix}/` : '' })) {
            const buf = await srcCc.getBlobClient(b.name).downloadToBuffer();
            await dstCc.getBlockBlobClient(`${target}/${b.name.slice(prefix.length + 1)}`).uploadData(buf);
            n++;
          }
        }
        if (n === 0) throw new Error(`Model ${req.params.name}:${req.params.version} has no files at ${sp.modelUri}.`);
        if (ctx.store.get(R_VERSIONS, `${r.id}/models/${destName}/versions/${destVersion}`))
          throw new Error(`Model ${destName}:${destVersion} already exists in registry ${r.name}.`);
        createVersion(req, r, destName, destVersion, {
          description: sp.description,
          tags: sp.tags,
          properties: sp.properties,
          flavors: sp.flavors,
          modelType: sp.modelType,
          jobName: sp.jobName,
          modelUri: `${registryBlobBase(ctx, r)}/${target}`,
        });
        return undefined;
      },
    });
  });
}
