// Azure ML registries through raw ARM REST at 2024-04-01 (the 2.1.1 SDK, 2022-10-01, has no registries): the registry
// resource and its regions, registry model versions (get, list, resolve latest / latest with a tag), and the workspace
// model `publish` (ModelVersions_Publish) that copies a workspace model version into a registry server-side.
//
// A registry may live in another subscription than the workspace and need another service connection: every function
// takes the AzureMLContext whose credential reaches the registry (`ctx.ws` only supplies the ARM host); the registry's
// own subscription and resource group travel in RegistryRef.
import { AnonymousCredential, BlockBlobClient } from '@azure/storage-blob';
import { InputError, UserError } from '../errors';
import type { AzureRmConnection } from '../pipeline/connection';
import { proxyOptionsFor, type CredentialOptions } from '../auth';
import type { PreparedAsset } from './storage';
import { connectWorkspace, getWorkspace, type AzureMLContext } from './context';
import { armSend, listAll } from './arm';
import { AzureError, armFailure, oneLine, parseArmError } from './errors';
import { parseRetryAfter, waitForLro, type LroWaitOptions } from './poll';
import { waitForOperation } from './endpoints';

/** Stable api-version with registries, registry model versions, startPendingUpload and ModelVersions_Publish. */
export const REGISTRY_API_VERSION = '2024-04-01';
const RP = 'Microsoft.MachineLearningServices';

/**
 * Registry names: the swagger's path pattern (registries.json RegistryNameParameter, 2024-04-01): 3-33 letters, digits,
 * '-' and '_', starting with a letter or digit. (how-to-manage-registries.md says 2-32; the API refuses 2.)
 */
export const REGISTRY_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9\-_]{2,32}$/;

export interface RegistryRef {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}
export interface RegistryInfo extends RegistryRef {
  id: string;
  /** primary region, ARM spelling (lower-case, no spaces) */
  location: string;
  /** every region the registry supports (regionDetails[].location), same spelling */
  regions: string[];
}

export interface RegistryModelVersion {
  id: string;
  name: string;
  properties: {
    description?: string | null;
    tags?: Record<string, string>;
    properties?: Record<string, string>;
    modelType?: string;
    modelUri?: string;
    jobName?: string | null;
    flavors?: Record<string, unknown>;
    isArchived?: boolean;
  };
  systemData?: { createdAt?: string };
}

/** ARM location names compare without spaces or case ('East US' = 'eastus'). */
export function regionKey(r: string | undefined): string {
  return String(r ?? '')
    .replace(/\s+/g, '')
    .toLowerCase();
}

export function registryPath(r: RegistryRef, sub = ''): string {
  return `/subscriptions/${encodeURIComponent(r.subscriptionId)}/resourceGroups/${encodeURIComponent(r.resourceGroup)}/providers/${RP}/registries/${encodeURIComponent(r.name)}${sub}`;
}

/** `azureml://registries/<r>/models/<m>/versions/<v>`: what a deployment's `model` names (how-to-share-models… .md). */
export function registryModelUri(registry: string, name: string, version: string): string {
  return `azureml://registries/${registry}/models/${name}/versions/${version}`;
}

/** `azureml://registries/<r>/models/<m>/versions/<v>` or `…/labels/latest` → parts; undefined for anything else. */
export function parseRegistryModelUri(
  uri: string,
): { registry: string; name: string; version?: string; label?: string } | undefined {
  const m = /^azureml:\/\/registries\/([^/]+)\/models\/([^/]+)\/(versions|labels)\/([^/]+)\/?$/i.exec(uri.trim());
  if (!m) return undefined;
  return m[3].toLowerCase() === 'versions'
    ? { registry: m[1], name: m[2], version: m[4] }
    : { registry: m[1], name: m[2], label: m[4] };
}

function toInfo(body: any, fallback: RegistryRef): RegistryInfo {
  const id = String(body?.id ?? registryPath(fallback));
  const m = /\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/[^/]+\/registries\/([^/]+)$/i.exec(id);
  const regions = ((body?.properties?.regionDetails ?? []) as Array<{ location?: string }>)
    .map((d) => regionKey(d.location))
    .filter(Boolean);
  const location = regionKey(body?.location);
  return {
    id,
    subscriptionId: m?.[1] ?? fallback.subscriptionId,
    resourceGroup: m?.[2] ?? fallback.resourceGroup,
    name: m?.[3] ?? String(body?.name ?? fallback.name),
    location,
    regions: regions.length ? [...new Set(regions)] : location ? [location] : [],
  };
}

/**
 * Find a registry by name: in `resourceGroup` when given, else among the subscription's registries (Registries_ListBySubscription).
 * Not found → InputError naming `input`; no permission → one line saying which permission the registry needs.
 */
export async function findRegistry(
  ctx: AzureMLContext,
  ref: { subscriptionId: string; name: string; resourceGroup?: string },
  input = 'registry',
): Promise<RegistryInfo> {
  if (!REGISTRY_NAME_PATTERN.test(ref.name)) {
    throw new InputError(
      input,
      `'${ref.name}' is not a registry name (3-33 letters, digits, '-' or '_', starting with a letter or digit)`,
    );
  }
  const what = `registry '${ref.name}'`;
  if (ref.resourceGroup) {
    const r = { subscriptionId: ref.subscriptionId, resourceGroup: ref.resourceGroup, name: ref.name };
    const res = await armSend<any>(ctx, 'GET', registryPath(r), undefined, { apiVersion: REGISTRY_API_VERSION });
    if (res.status === 404) {
      const e = parseArmError(res.body);
      if (/ResourceGroupNotFound/i.test(e.code ?? ''))
        throw new InputError(
          input,
          `resource group '${ref.resourceGroup}' of registry '${ref.name}' was not found in subscription ${ref.subscriptionId}`,
        );
      throw new InputError(
        input,
        `registry '${ref.name}' was not found in resource group '${ref.resourceGroup}' (subscription ${ref.subscriptionId})`,
      );
    }
    if (res.status === 403) throw noPermission(ref.name, 'Microsoft.MachineLearningServices/registries/read', res.body);
    if (res.status < 200 || res.status >= 300) {
      const e = parseArmError(res.body);
      throw armFailure(res.status, e.code, e.message, what);
    }
    return toInfo(res.body, r);
  }
  let all: any[];
  try {
    all = await listAll<any>(
      ctx,
      `/subscriptions/${encodeURIComponent(ref.subscriptionId)}/providers/${RP}/registries`,
      { apiVersion: REGISTRY_API_VERSION, what: `registries of subscription ${ref.subscriptionId}` },
    );
  } catch (err) {
    if (err instanceof AzureError && err.statusCode === 403)
      throw noPermission(ref.name, 'Microsoft.MachineLearningServices/registries/read', undefined);
    throw err;
  }
  const hit = all.find((b) => String(b?.name ?? '').toLowerCase() === ref.name.toLowerCase());
  if (!hit)
    throw new InputError(
      input,
      `registry '${ref.name}' was not found in subscription ${ref.subscriptionId} (set the registry's resource group, or a connection to the registry's subscription)`,
    );
  return toInfo(hit, { subscriptionId: ref.subscriptionId, resourceGroup: '', name: ref.name });
}

function noPermission(registry: string, action: string, body: unknown): UserError {
  const e = body ? parseArmError(body) : undefined;
  return new UserError(
    `No permission on registry '${registry}': the connection's identity needs ${action} (e.g. a custom role with registries/read, registries/assets/read and, to promote, registries/assets/write)${e?.message ? ` — ${oneLine(e.message, 300)}` : ''}`,
  );
}

/**
 * A workspace may use a registry model only if its region is one of the registry's regions (Microsoft Learn,
 * how-to-share-models-pipelines-across-workspaces-with-registries.md). Throws InputError naming `input` otherwise.
 */
export function assertRegionSupported(
  workspace: { name: string; location?: string },
  reg: RegistryInfo,
  input: string,
): void {
  const loc = regionKey(workspace.location);
  if (!loc) return; // the workspace read carried no location: the service decides
  if (!reg.regions.includes(loc)) {
    throw new InputError(
      input,
      `workspace '${workspace.name}' is in region ${loc}, which is not one of registry '${reg.name}''s regions (${reg.regions.join(', ') || 'none'}); add the region to the registry or use a workspace in one of them`,
    );
  }
}

/** One registry model version, or undefined (404). */
export async function getRegistryModelVersion(
  ctx: AzureMLContext,
  reg: RegistryRef,
  name: string,
  version: string,
): Promise<RegistryModelVersion | undefined> {
  const res = await armSend<RegistryModelVersion>(
    ctx,
    'GET',
    registryPath(reg, `/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`),
    undefined,
    { apiVersion: REGISTRY_API_VERSION },
  );
  if (res.status === 404) return undefined;
  if (res.status === 403)
    throw noPermission(reg.name, 'Microsoft.MachineLearningServices/registries/assets/read', res.body);
  if (res.status < 200 || res.status >= 300) {
    const e = parseArmError(res.body);
    throw armFailure(res.status, e.code, e.message, `model '${name}' version ${version} in registry '${reg.name}'`);
  }
  return res.body;
}

/** Versions of a registry model, newest first by default; [] when the model does not exist. */
export async function listRegistryModelVersions(
  ctx: AzureMLContext,
  reg: RegistryRef,
  name: string,
  o: { orderBy?: string; top?: number; tags?: string; properties?: string } = {},
): Promise<RegistryModelVersion[]> {
  const q = new URLSearchParams({ $orderBy: o.orderBy ?? 'createdtime desc' });
  if (o.top) q.set('$top', String(o.top));
  if (o.tags) q.set('tags', o.tags);
  if (o.properties) q.set('properties', o.properties);
  const path =
    registryPath(reg, `/models/${encodeURIComponent(name)}/versions`) + '?' + q.toString().replace(/%24/g, '$');
  try {
    return await listAll<RegistryModelVersion>(ctx, path, {
      apiVersion: REGISTRY_API_VERSION,
      what: `versions of model '${name}' in registry '${reg.name}'`,
      max: o.top,
    });
  } catch (err) {
    if (err instanceof AzureError && err.statusCode === 404) return [];
    if (err instanceof AzureError && err.statusCode === 403)
      throw noPermission(reg.name, 'Microsoft.MachineLearningServices/registries/assets/read', undefined);
    throw err;
  }
}

/**
 * Resolve `version` ('latest' or a version) of a registry model, optionally the newest carrying `tag` (`k` or `k=v`).
 * Missing → InputError naming `input`.
 */
export async function resolveRegistryModelVersion(
  ctx: AzureMLContext,
  reg: RegistryRef,
  name: string,
  version: string,
  tag: string | undefined,
  input: string,
): Promise<RegistryModelVersion> {
  if (version && version.toLowerCase() !== 'latest') {
    if (tag) throw new InputError(input, `a tag filter ('${tag}') goes with version 'latest' only`);
    const v = await getRegistryModelVersion(ctx, reg, name, version);
    if (!v) throw new InputError(input, `model '${name}' version ${version} was not found in registry '${reg.name}'`);
    return v;
  }
  const vs = (await listRegistryModelVersions(ctx, reg, name, { orderBy: 'createdtime desc', tags: tag })).filter(
    (v) => !v.properties?.isArchived,
  );
  if (!vs.length)
    throw new InputError(
      input,
      tag
        ? `registry '${reg.name}' has no version of model '${name}' tagged '${tag}'`
        : `model '${name}' was not found in registry '${reg.name}'`,
    );
  return vs[0];
}

/**
 * ModelVersions_Publish: POST {workspace model version}/publish {registryName, destinationName, destinationVersion} →
 * 202 + Location (final state via Location); waits for the operation on the shared poll schedule. The service copies the
 * files into the registry's storage; nothing passes through the agent.
 */
export async function publishModelVersion(
  ctx: AzureMLContext,
  workspaceModelPath: string,
  body: { registryName: string; destinationName: string; destinationVersion: string },
  o: LroWaitOptions = {},
): Promise<void> {
  const what = `publishing ${workspaceModelPath.split('/models/')[1]?.replace('/versions/', ':') ?? 'the model'} to registry '${body.registryName}'`;
  const res = await armSend<any>(ctx, 'POST', `${workspaceModelPath}/publish`, body, {
    apiVersion: REGISTRY_API_VERSION,
  });
  if (res.status === 403)
    throw noPermission(body.registryName, 'Microsoft.MachineLearningServices/registries/assets/write', res.body);
  if (res.status < 200 || res.status >= 300) {
    const e = parseArmError(res.body);
    throw armFailure(res.status, e.code, e.message, what);
  }
  if (res.status === 200) return;
  await waitForAccepted(ctx, res, what, o);
}

/**
 * Follow a 202: Azure-AsyncOperation (status resource) when sent, else Location (202 while running, 2xx when done, an
 * ARM error when failed).
 */
export async function waitForAccepted(
  ctx: AzureMLContext,
  res: { headers: Record<string, string> },
  what: string,
  o: LroWaitOptions = {},
): Promise<void> {
  const status = res.headers['azure-asyncoperation'];
  const location = res.headers['location'];
  if (status) return waitForOperation(ctx, status, what, res, o);
  if (!location) return;
  const first = { done: false, status: 'Accepted', retryAfterMs: parseRetryAfter(res.headers['retry-after']) };
  await waitForLro(
    what,
    first,
    async () => {
      const r = await armSend<any>(ctx, 'GET', location);
      if (r.status === 202)
        return { done: false, status: 'InProgress', retryAfterMs: parseRetryAfter(r.headers['retry-after']) };
      if (r.status >= 200 && r.status < 300) return { done: true, status: 'Succeeded' };
      const e = parseArmError(r.body);
      throw new AzureError(
        `${what} failed: ${oneLine([e.code, e.message].filter(Boolean).join('. ')) || `HTTP ${r.status}`}`,
        r.status,
        e.code,
      );
    },
    { ...o, abortSignal: ctx.signal },
  );
}

/**
 * Add tags / properties to an existing registry model version (PUT with its own modelUri and type: a version's files
 * never change). Returns the version as the service then reports it.
 */
export async function updateRegistryModelVersion(
  ctx: AzureMLContext,
  reg: RegistryRef,
  name: string,
  current: RegistryModelVersion,
  add: { tags?: Record<string, string>; properties?: Record<string, string> },
  o: LroWaitOptions = {},
): Promise<RegistryModelVersion> {
  const p = current.properties ?? {};
  const path = registryPath(reg, `/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(current.name)}`);
  const body = {
    properties: {
      description: p.description ?? null,
      tags: { ...(p.tags ?? {}), ...(add.tags ?? {}) },
      properties: { ...(p.properties ?? {}), ...(add.properties ?? {}) },
      modelType: p.modelType,
      modelUri: p.modelUri,
      ...(p.jobName ? { jobName: p.jobName } : {}),
      ...(p.flavors ? { flavors: p.flavors } : {}),
    },
  };
  const what = `model '${name}' version ${current.name} in registry '${reg.name}'`;
  const res = await armSend<any>(ctx, 'PUT', path, body, { apiVersion: REGISTRY_API_VERSION });
  if (res.status === 403)
    throw noPermission(reg.name, 'Microsoft.MachineLearningServices/registries/assets/write', res.body);
  if (res.status < 200 || res.status >= 300) {
    const e = parseArmError(res.body);
    throw armFailure(res.status, e.code, e.message, what);
  }
  if (res.headers['azure-asyncoperation'])
    await waitForAccepted(ctx, { headers: { 'azure-asyncoperation': res.headers['azure-asyncoperation'] } }, what, o);
  return (await getRegistryModelVersion(ctx, reg, name, current.name)) ?? res.body;
}

/**
 * Registry discovery (data plane): GET {region api host}/registrymanagement/v1.0/registries/{name}/discovery → the
 * registry's subscription, resource group and regions from its name alone, whatever subscription it is in. The
 * region api host is the workspace's discoveryUrl origin (…/discovery). Shape from Microsoft's SDK recordings
 * (azure-sdk-assets rec/model/e2etests/test_model.pyTestModeltest_promote_model.json, 2024-04). undefined on 404.
 */
export async function discoverRegistry(
  ctx: AzureMLContext,
  name: string,
  apiBase: string,
): Promise<RegistryInfo | undefined> {
  const url = `${apiBase.replace(/\/+$/, '')}/registrymanagement/v1.0/registries/${encodeURIComponent(name)}/discovery`;
  const res = await armSend<any>(ctx, 'GET', url, undefined, { apiVersion: 'v1.0' });
  if (res.status === 404) return undefined;
  if (res.status === 403) throw noPermission(name, 'Microsoft.MachineLearningServices/registries/read', res.body);
  if (res.status < 200 || res.status >= 300) {
    const e = parseArmError(res.body);
    throw armFailure(res.status, e.code, e.message, `registry '${name}'`);
  }
  const b = res.body ?? {};
  const sub = String(b.subscriptionId ?? ''),
    rg = String(b.resourceGroup ?? ''),
    reg = String(b.registryName ?? name);
  const regions = ((b.regions ?? []) as string[]).map(regionKey).filter(Boolean);
  return {
    id: registryPath({ subscriptionId: sub, resourceGroup: rg, name: reg }),
    subscriptionId: sub,
    resourceGroup: rg,
    name: reg,
    location: regionKey(b.primaryRegion),
    regions: regions.length ? regions : [regionKey(b.primaryRegion)],
  };
}

/**
 * Before a workspace uses `azureml://registries/<r>/models/<m>/versions/<v>` (deploy): the registry exists, the
 * workspace's region is one of its regions, the version exists. One InputError naming `input` for each, nothing written.
 * The registry is found by discovery (any subscription) when the workspace reports its discoveryUrl, else among the
 * connection subscription's registries.
 */
export async function checkRegistryModelForWorkspace(
  ctx: AzureMLContext,
  uri: string,
  workspace: { name: string; location?: string; discoveryUrl?: string },
  input: string,
): Promise<{ registry: RegistryInfo; version: RegistryModelVersion }> {
  const ref = parseRegistryModelUri(uri);
  if (!ref || (!ref.version && ref.label?.toLowerCase() !== 'latest'))
    throw new InputError(
      input,
      ref
        ? `'${uri}': only the label latest is supported (…/labels/latest), or give …/versions/<version>`
        : `'${uri}' is not a registry model version (azureml://registries/<registry>/models/<name>/versions/<version> or …/labels/latest)`,
    );
  let reg: RegistryInfo | undefined;
  let apiBase: string | undefined;
  try {
    apiBase = workspace.discoveryUrl ? new URL(workspace.discoveryUrl).origin : undefined;
  } catch {
    apiBase = undefined;
  }
  if (apiBase) {
    reg = await discoverRegistry(ctx, ref.registry, apiBase);
    if (!reg) throw new InputError(input, `registry '${ref.registry}' was not found`);
  } else {
    reg = await findRegistry(ctx, { subscriptionId: ctx.ws.subscriptionId, name: ref.registry }, input);
  }
  assertRegionSupported(workspace, reg, input);
  // labels/latest: the newest version that is not archived, resolved here so the deployment pins a version
  // (azure-ai-ml passes azureml://registries/… through unresolved; whether the online-deployment service resolves a
  // label itself is not verified, so the task does not rely on it)
  const v = ref.version
    ? await getRegistryModelVersion(ctx, reg, ref.name, ref.version)
    : await resolveRegistryModelVersion(ctx, reg, ref.name, 'latest', undefined, input);
  if (!v)
    throw new InputError(input, `model '${ref.name}' version ${ref.version} was not found in registry '${reg.name}'`);
  return { registry: reg, version: v };
}

/** The registry and version a deployment of `uri` in the context's workspace uses (read only; the same checks as the preflight). */
export async function findRegistryModelForWorkspace(
  ctx: AzureMLContext,
  uri: string,
  input: string,
): Promise<{ registry: RegistryInfo; version: RegistryModelVersion; workspaceLocation?: string }> {
  const w = await getWorkspace(ctx);
  const found = await checkRegistryModelForWorkspace(
    ctx,
    uri,
    { name: ctx.ws.workspace, location: w.location, discoveryUrl: w.discoveryUrl },
    input,
  );
  return { ...found, workspaceLocation: w.location };
}

/**
 * The deploy task's hook: when `model` names a registry version, read the workspace and check the registry, region and
 * version before anything is written (checkRegistryModelForWorkspace). Returns the reference to deploy: the same, or
 * for `…/labels/latest` the newest version's `…/versions/<v>`. Other model references: returned unchanged.
 */
export async function preflightRegistryModel(
  ctx: AzureMLContext,
  model: string | undefined,
  input: string,
  log: (m: string) => void,
): Promise<string | undefined> {
  if (!model || !/^azureml:\/\/registries\//i.test(model.trim())) return model;
  const { registry, version, workspaceLocation } = await findRegistryModelForWorkspace(ctx, model.trim(), input);
  const ref = parseRegistryModelUri(model)!;
  const pinned = registryModelUri(ref.registry, ref.name, version.name);
  log(
    `Model ${model.trim()}${ref.version ? '' : ` → ${pinned}`}: registry '${registry.name}' (subscription ${registry.subscriptionId}, regions ${registry.regions.join(', ')}) serves workspace region ${regionKey(workspaceLocation)}`,
  );
  return ref.version ? model : pinned;
}

/** A context for a connection that reaches a registry: only its ARM host, audience and credential matter (no workspace). */
export function registryContext(conn: AzureRmConnection, options: CredentialOptions = {}): AzureMLContext {
  const armUrl = conn.armUrl.endsWith('/') ? conn.armUrl : conn.armUrl + '/';
  const ws = { subscriptionId: conn.subscriptionId, resourceGroup: '', workspace: '', armUrl, tenantId: conn.tenantId };
  return connectWorkspace(conn, ws, options);
}

// ---------------------------------------------------------------------------------------------- register into a registry

/** RegistryModelVersions_CreateOrGetStartPendingUpload: a SAS to the registry's storage for this version's files. */
export async function startPendingUpload(
  ctx: AzureMLContext,
  reg: RegistryRef,
  name: string,
  version: string,
): Promise<{ blobUri: string; sasUri: string }> {
  const what = `upload location for model '${name}' version ${version} in registry '${reg.name}'`;
  const res = await armSend<any>(
    ctx,
    'POST',
    registryPath(reg, `/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/startPendingUpload`),
    { pendingUploadType: 'TemporaryBlobReference' },
    { apiVersion: REGISTRY_API_VERSION },
  );
  if (res.status === 403)
    throw noPermission(reg.name, 'Microsoft.MachineLearningServices/registries/assets/write', res.body);
  if (res.status < 200 || res.status >= 300) {
    const e = parseArmError(res.body);
    throw armFailure(res.status, e.code, e.message, what);
  }
  const ref = res.body?.blobReferenceForConsumption ?? {};
  const sasUri = String(ref.credential?.sasUri ?? '');
  const blobUri = String(ref.blobUri ?? '');
  if (!sasUri || !blobUri) throw new UserError(`The ${what} came without a blob URI or SAS`);
  const q = new URL(sasUri).search.replace(/^\?/, '');
  ctx.onSecret?.(q);
  for (const part of q.split('&')) if (part.startsWith('sig=')) ctx.onSecret?.(decodeURIComponent(part.slice(4)));
  return { blobUri: blobUri.replace(/\/+$/, ''), sasUri };
}

/**
 * Upload a prepared local asset under `<blobUri>/<asset name>/…` with the pending upload's SAS (one blob client per file,
 * the SAS query appended); returns the files' URI (`<blobUri>/<asset name>`, no SAS) and the bytes sent.
 */
export async function uploadToRegistry(
  ctx: AzureMLContext,
  target: { blobUri: string; sasUri: string },
  asset: PreparedAsset,
  onProgress?: (bytes: number, total: number) => void,
): Promise<{ uri: string; bytes: number }> {
  const sas = new URL(target.sasUri).search;
  const prefix = asset.remotePath.slice(0, asset.remotePath.length - asset.name.length); // LocalUpload/<hash>/
  let done = 0;
  for (const f of asset.files) {
    const rel = f.blob.slice(prefix.length).split('/').map(encodeURIComponent).join('/');
    const url = `${target.blobUri}/${rel}${sas}`;
    const client = new BlockBlobClient(url, new AnonymousCredential(), {
      retryOptions: { maxTries: 6 },
      proxyOptions: proxyOptionsFor(ctx.proxy, target.blobUri),
    });
    let sent = 0;
    try {
      await client.uploadFile(f.local, {
        abortSignal: ctx.signal,
        ...(f.md5 ? { blobHTTPHeaders: { blobContentMD5: Buffer.from(f.md5, 'base64') } } : {}),
        onProgress: (ev) => {
          done += ev.loadedBytes - sent;
          sent = ev.loadedBytes;
          onProgress?.(done, asset.totalBytes);
        },
      });
    } catch (err: any) {
      if (err?.name === 'AbortError') throw err;
      throw new UserError(
        `Uploading ${f.blob.slice(prefix.length)} to the registry's storage failed${err?.statusCode ? ` (HTTP ${err.statusCode})` : ''}: ${oneLine(err?.details?.message ?? err?.message ?? String(err))}`,
      );
    }
    if (sent < f.size) {
      done += f.size - sent;
      onProgress?.(done, asset.totalBytes);
    }
  }
  return { uri: `${target.blobUri}/${encodeURIComponent(asset.name)}`, bytes: done };
}

/** PUT a registry model version (long-running: waits for it); returns the version as the service then reports it. */
export async function createRegistryModelVersion(
  ctx: AzureMLContext,
  reg: RegistryRef,
  name: string,
  version: string,
  properties: Record<string, unknown>,
  o: LroWaitOptions = {},
): Promise<RegistryModelVersion> {
  const what = `model '${name}' version ${version} in registry '${reg.name}'`;
  const res = await armSend<any>(
    ctx,
    'PUT',
    registryPath(reg, `/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`),
    { properties },
    { apiVersion: REGISTRY_API_VERSION },
  );
  if (res.status === 403)
    throw noPermission(reg.name, 'Microsoft.MachineLearningServices/registries/assets/write', res.body);
  if (res.status < 200 || res.status >= 300) {
    const e = parseArmError(res.body);
    throw armFailure(res.status, e.code, e.message, what);
  }
  if (res.headers['azure-asyncoperation'])
    await waitForAccepted(ctx, { headers: { 'azure-asyncoperation': res.headers['azure-asyncoperation'] } }, what, o);
  return (await getRegistryModelVersion(ctx, reg, name, version)) ?? res.body;
}
