// Model containers and versions through the SDK (2022-10-01). Every field we set (description, tags,
// properties, modelType, modelUri, jobName, flavors, isArchived) is in 2.1.1's serializer; `stage`
// (a newer field) is not and is not used here — use armRequest at a newer api-version if ever needed.
import type { ModelContainer, ModelVersion, ModelVersionProperties } from '@azure/arm-machinelearning';
import { createHash } from 'node:crypto';
import type { AzureMLContext } from './context';
import { azureCall, mapAzureError, statusOf } from './errors';
import { azuremlUriKey, sameDatastoreUri } from './normalize';

export type { ModelVersion, ModelVersionProperties };

/** Service name rule for assets (mfe.json path parameter `name`). */
export const ASSET_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$/;
/**
 * Version strings. The swagger gives no pattern; the service accepts integers and short strings.
 * We accept a positive integer (no leading zero), or 1-30 letters/digits/'.'/'-'/'_' starting with a letter or
 * digit and not all digits (so '0' and '007' are refused rather than silently differing from 7).
 */
export const VERSION_PATTERN = /^(?:[1-9][0-9]{0,9}|(?=[0-9]*[^0-9])[a-zA-Z0-9][a-zA-Z0-9._-]{0,29})$/;

/** Property we set at registration to find the same content again (see findVersionByContent). */
export const CONTENT_KEY_PROPERTY = 'azureml-devops.contentKey';

/** md5 hex over modelType + '\n' + modelUri: the identity of "the same model content". */
export function contentKey(modelType: string, modelUri: string): string {
  return createHash('md5')
    .update(`${modelType}\n${normalizeUri(modelUri)}`)
    .digest('hex');
}

/** Model URIs compared as the service rewrites them (normalize.ts datastore-uri-case); the content key depends on it. */
export const normalizeUri = azuremlUriKey;

function modelWhat(ctx: AzureMLContext, name: string, version?: string): string {
  return version
    ? `model '${name}' version ${version} in workspace '${ctx.ws.workspace}'`
    : `model '${name}' in workspace '${ctx.ws.workspace}'`;
}

export async function getModelContainer(ctx: AzureMLContext, name: string): Promise<ModelContainer | undefined> {
  try {
    return await ctx.client.modelContainers.get(ctx.ws.resourceGroup, ctx.ws.workspace, name, {
      abortSignal: ctx.signal,
    });
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw mapAzureError(err, modelWhat(ctx, name));
  }
}

export async function getModelVersion(
  ctx: AzureMLContext,
  name: string,
  version: string,
): Promise<ModelVersion | undefined> {
  try {
    return await ctx.client.modelVersions.get(ctx.ws.resourceGroup, ctx.ws.workspace, name, version, {
      abortSignal: ctx.signal,
    });
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw mapAzureError(err, modelWhat(ctx, name, version));
  }
}

export interface ListVersionsOptions {
  /** default 'createdtime desc' (newest first) */
  orderBy?: string;
  /** stop after this many items */
  top?: number;
  /** tag filter: 'a,b=c' or a record (value '' = tag present) */
  tags?: string | Record<string, string>;
  /** property filter, same shapes */
  properties?: string | Record<string, string>;
}

function filterString(f?: string | Record<string, string>): string | undefined {
  if (f === undefined) return undefined;
  if (typeof f === 'string') return f || undefined;
  const s = Object.entries(f)
    .map(([k, v]) => (v === '' ? k : `${k}=${v}`))
    .join(',');
  return s || undefined;
}

/** Versions of a model (paged through nextLink by the SDK); [] when the model does not exist. */
export async function listModelVersions(
  ctx: AzureMLContext,
  name: string,
  opts: ListVersionsOptions = {},
): Promise<ModelVersion[]> {
  const out: ModelVersion[] = [];
  try {
    const iter = ctx.client.modelVersions.list(ctx.ws.resourceGroup, ctx.ws.workspace, name, {
      orderBy: opts.orderBy ?? 'createdtime desc',
      top: opts.top,
      tags: filterString(opts.tags),
      properties: filterString(opts.properties),
      abortSignal: ctx.signal,
    });
    for await (const v of iter) {
      out.push(v);
      if (opts.top !== undefined && out.length >= opts.top) break;
    }
  } catch (err) {
    if (statusOf(err) === 404) return out;
    throw mapAzureError(err, modelWhat(ctx, name));
  }
  return out;
}

/** Newest version by creation time, or undefined. */
export async function latestVersion(ctx: AzureMLContext, name: string): Promise<ModelVersion | undefined> {
  return (await listModelVersions(ctx, name, { orderBy: 'createdtime desc', top: 1 }))[0];
}

function asInt(v: string | undefined | null): number | undefined {
  return v && /^[0-9]+$/.test(v) ? Number(v) : undefined;
}

/**
 * Next auto version: the container's nextVersion when numeric, else latestVersion + 1, else
 * max numeric version + 1 over all versions; '1' for a new model.
 */
export async function nextVersion(ctx: AzureMLContext, name: string): Promise<string> {
  const c = await getModelContainer(ctx, name);
  if (!c) return '1';
  const nv = asInt(c.properties?.nextVersion);
  if (nv !== undefined && nv > 0) return String(nv);
  const lv = asInt(c.properties?.latestVersion);
  if (lv !== undefined) return String(lv + 1);
  const all = await listModelVersions(ctx, name);
  const max = Math.max(0, ...all.map((v) => asInt(v.name) ?? 0));
  return String(max + 1);
}

export async function createOrUpdateModelVersion(
  ctx: AzureMLContext,
  name: string,
  version: string,
  props: ModelVersionProperties,
): Promise<ModelVersion> {
  return azureCall(modelWhat(ctx, name, version), () =>
    ctx.client.modelVersions.createOrUpdate(
      ctx.ws.resourceGroup,
      ctx.ws.workspace,
      name,
      version,
      { properties: props },
      { abortSignal: ctx.signal },
    ),
  );
}

/** True when an existing version holds the same content (same type + same URI, as the service rewrites it: normalize.ts). */
export function sameContent(v: ModelVersion, modelType: string, modelUri: string): boolean {
  const p = v.properties ?? ({} as ModelVersionProperties);
  if ((p.modelType ?? 'custom_model') !== modelType) return false;
  if (p.properties?.[CONTENT_KEY_PROPERTY] === contentKey(modelType, modelUri)) return true;
  return !!p.modelUri && sameDatastoreUri(p.modelUri, modelUri);
}

/**
 * Idempotency: find a version that already holds this content.
 * Decision: the content identity is (modelType, modelUri); for local files the URI embeds the md5 of the
 * content (LocalUpload/<md5>/<name>), so equal content ⇒ equal URI. We record it as the property
 * `azureml-devops.contentKey` (md5 of type + URI) and ask the service to filter by it; every candidate is
 * re-checked client-side (a service that ignores the filter still gives a correct answer). Versions made
 * outside this extension carry no such property and are not considered. Non-archived versions only.
 */
export async function findVersionByContent(
  ctx: AzureMLContext,
  name: string,
  modelType: string,
  modelUri: string,
): Promise<ModelVersion | undefined> {
  const key = contentKey(modelType, modelUri);
  const candidates = await listModelVersions(ctx, name, { properties: { [CONTENT_KEY_PROPERTY]: key } });
  return candidates.find((v) => !v.properties?.isArchived && sameContent(v, modelType, modelUri));
}
