// Production data collection of online deployments (`properties.dataCollector`, api-version 2024-04-01; the SDK's
// 2022-10-01 has no such property and drops it, so every call that carries it is raw REST at 2024-04-01).
//
// Sources:
//  - REST shape: Azure ML stable 2024-04-01 mfe.json, definitions DataCollector {collections (required), requestLogging
//    {captureHeaders}, rollingRate: Year|Month|Day|Hour|Minute}, Collection {dataCollectionMode: Enabled|Disabled
//    (default Disabled), dataId, samplingRate (default 1), clientId}
//    (test/fixtures/third-party/azure-rest-api-specs/2024-04-01/mfe.json; provenance in that folder's README).
//  - YAML (`az ml online-deployment create -f`): data_collector.{sampling_rate (default 1.0), rolling_rate (default
//    Hour), collections.<name>.{enabled (default 'False'), data.{name, path, version}}}: Microsoft Learn
//    "CLI (v2) managed online deployment YAML schema", DataCollector table (MicrosoftDocs/azure-ai-docs @
//    280c976cdeb81186e4068104f91d1c73e4b062a6 articles/machine-learning/reference-yaml-deployment-managed-online.md).
//  - what the CLI does before the PUT: for EVERY collection it registers a data asset (name default
//    `<endpoint>-<deployment>-<collection>`, version default '1', path default
//    `azureml://datastores/workspaceblobstore/paths/modelDataCollector/<endpoint>/<deployment>/<collection>`; an
//    existing one is reused) and sends its ARM id as the collection's dataId: azure-ai-ml
//    OnlineDeploymentOperations._register_collection_data_assets (Azure/azure-sdk-for-python @
//    1d220a9dc0c921bf2564aa1c59f10aba36cdf756 sdk/ml/azure-ai-ml/azure/ai/ml/operations/_online_deployment_operations.py).
//  - where the collector writes: `<path>/{yyyy}/{MM}/{dd}/{HH}/{instance_id}.jsonl` (how-to-collect-production-data.md,
//    MicrosoftDocs/azure-ai-docs @ 21fa35235e4e72ad18d06e7dac66c180505cc27a).
// ASSUMPTION (not found in a source): the YAML's top-level sampling_rate is sent as every collection's samplingRate
// (the REST shape has it per collection only), and `enabled` maps to dataCollectionMode Enabled/Disabled.
import type { AzureMLContext } from './context';
import { UserError } from '../errors';
import { armGetOptional, armSend } from './arm';
import { armFailure, parseArmError } from './errors';
import { waitForOperation } from './endpoints';
import type { LroWaitOptions } from './poll';
import { wsPath, type WorkspaceRef } from './workspace';
import {
  describe,
  isPlainObject,
  optBool,
  optMap,
  optNumber,
  optString,
  type KeyPath,
  type YamlSource,
} from './yamlSpec';

/** The api-version whose OnlineDeployment has `properties.dataCollector` (stable from 2024-04-01). */
export const DATA_COLLECTOR_API_VERSION = '2024-04-01';
export const DEFAULT_MDC_PATH = 'azureml://datastores/workspaceblobstore/paths/modelDataCollector';
export const ROLLING_RATES = ['Year', 'Month', 'Day', 'Hour', 'Minute'] as const;

export interface CollectionSpec {
  enabled: boolean;
  data?: { name?: string; path?: string; version?: string };
}
export interface DataCollectorSpec {
  collections: Record<string, CollectionSpec>;
  samplingRate?: number;
  rollingRate?: (typeof ROLLING_RATES)[number];
  captureHeaders?: string[];
}

/** REST DataCollector (2024-04-01). */
export interface DataCollectorProps {
  collections?: Record<
    string,
    { dataCollectionMode?: string; dataId?: string | null; clientId?: string | null; samplingRate?: number } | null
  >;
  requestLogging?: { captureHeaders?: string[] | null } | null;
  rollingRate?: string | null;
}

/** `data_collector:` of a deployment YAML. */
export function parseDataCollectorYaml(src: YamlSource, p: KeyPath, v: unknown): DataCollectorSpec | undefined {
  const m = optMap(src, p, v);
  if (!m) return undefined;
  for (const k of Object.keys(m))
    if (!['collections', 'sampling_rate', 'rolling_rate', 'request_logging'].includes(k))
      throw src.error([...p, k], `unknown key '${k}' (collections, sampling_rate, rolling_rate, request_logging)`);
  const cols = optMap(src, [...p, 'collections'], m.collections);
  if (!cols || !Object.keys(cols).length)
    throw src.error([...p, 'collections'], 'at least one collection is required (e.g. model_inputs: {enabled: true})');
  const collections: Record<string, CollectionSpec> = {};
  for (const [name, raw] of Object.entries(cols)) {
    const cp = [...p, 'collections', name];
    if (!/^[A-Za-z0-9_-]+$/.test(name))
      throw src.error(cp, `collection name '${name}' must be letters, digits, '_' or '-'`);
    const c = optMap(src, cp, raw) ?? {};
    for (const k of Object.keys(c))
      if (!['enabled', 'data'].includes(k)) throw src.error([...cp, k], `unknown key '${k}' (enabled, data)`);
    const data = c.data === undefined || c.data === null ? undefined : optMap(src, [...cp, 'data'], c.data);
    if (data)
      for (const k of Object.keys(data))
        if (!['name', 'path', 'version'].includes(k))
          throw src.error([...cp, 'data', k], `unknown key '${k}' (name, path, version)`);
    const path = data ? optString(src, [...cp, 'data', 'path'], data.path) : undefined;
    if (path && !/^azureml:\/\//i.test(path))
      throw src.error([...cp, 'data', 'path'], `expected an azureml:// datastore path, got '${path}'`);
    const version = data?.version === undefined || data.version === null ? undefined : String(data.version);
    collections[name] = {
      enabled: optBool(src, [...cp, 'enabled'], c.enabled) ?? false,
      ...(data
        ? {
            data: {
              ...(data.name !== undefined ? { name: optString(src, [...cp, 'data', 'name'], data.name) } : {}),
              ...(path ? { path } : {}),
              ...(version ? { version } : {}),
            },
          }
        : {}),
    };
  }
  const samplingRate = optNumber(src, [...p, 'sampling_rate'], m.sampling_rate);
  if (samplingRate !== undefined && !(samplingRate > 0 && samplingRate <= 1))
    throw src.error([...p, 'sampling_rate'], `must be in (0, 1], got ${samplingRate}`);
  const rr = optString(src, [...p, 'rolling_rate'], m.rolling_rate);
  const rollingRate = rr === undefined ? undefined : ROLLING_RATES.find((r) => r.toLowerCase() === rr.toLowerCase());
  if (rr !== undefined && !rollingRate)
    throw src.error([...p, 'rolling_rate'], `expected one of ${ROLLING_RATES.join(', ')}, got '${rr}'`);
  const rl = optMap(src, [...p, 'request_logging'], m.request_logging);
  let captureHeaders: string[] | undefined;
  if (rl?.capture_headers !== undefined) {
    if (!Array.isArray(rl.capture_headers) || rl.capture_headers.some((h) => typeof h !== 'string'))
      throw src.error(
        [...p, 'request_logging', 'capture_headers'],
        `expected a list of header names, got ${describe(rl.capture_headers)}`,
      );
    captureHeaders = rl.capture_headers as string[];
  }
  return {
    collections,
    ...(samplingRate !== undefined ? { samplingRate } : {}),
    ...(rollingRate ? { rollingRate } : {}),
    ...(captureHeaders ? { captureHeaders } : {}),
  };
}

/** The data asset the CLI registers for a collection: name, version and datastore path (defaults as azure-ai-ml). */
export function collectionAsset(
  endpoint: string,
  deployment: string,
  collection: string,
  c: CollectionSpec,
): { name: string; version: string; path: string } {
  return {
    name: c.data?.name ?? `${endpoint}-${deployment}-${collection}`,
    version: c.data?.version ?? '1',
    path: (c.data?.path ?? `${DEFAULT_MDC_PATH}/${endpoint}/${deployment}/${collection}`).replace(/\/+$/, ''),
  };
}

/** The REST body; dataIds: collection → data asset ARM id. */
export function dataCollectorBody(spec: DataCollectorSpec, dataIds: Record<string, string>): DataCollectorProps {
  const collections: NonNullable<DataCollectorProps['collections']> = {};
  for (const [name, c] of Object.entries(spec.collections)) {
    collections[name] = {
      dataCollectionMode: c.enabled ? 'Enabled' : 'Disabled',
      ...(dataIds[name] ? { dataId: dataIds[name] } : {}),
      samplingRate: spec.samplingRate ?? 1,
    };
  }
  return {
    collections,
    ...(spec.rollingRate ? { rollingRate: spec.rollingRate } : {}),
    ...(spec.captureHeaders ? { requestLogging: { captureHeaders: spec.captureHeaders } } : {}),
  };
}

/** What differs between the collector a deployment has and the one we would send (empty: the same). */
export function dataCollectorDifferences(
  current: DataCollectorProps | null | undefined,
  wanted: DataCollectorProps,
): string[] {
  const out: string[] = [];
  const cur = current?.collections ?? {};
  const names = new Set([...Object.keys(cur), ...Object.keys(wanted.collections ?? {})]);
  for (const n of [...names].sort()) {
    const a = cur[n],
      b = wanted.collections?.[n];
    if (!a || !b) {
      out.push(`dataCollector.collections.${n}: ${a ? 'present' : 'absent'} → ${b ? 'present' : 'absent'}`);
      continue;
    }
    if ((a.dataCollectionMode ?? 'Disabled') !== (b.dataCollectionMode ?? 'Disabled'))
      out.push(
        `dataCollector.collections.${n}.dataCollectionMode: ${a.dataCollectionMode ?? 'Disabled'} → ${b.dataCollectionMode}`,
      );
    if ((a.samplingRate ?? 1) !== (b.samplingRate ?? 1))
      out.push(`dataCollector.collections.${n}.samplingRate: ${a.samplingRate ?? 1} → ${b.samplingRate ?? 1}`);
    if (b.dataId && String(a.dataId ?? '').toLowerCase() !== b.dataId.toLowerCase())
      out.push(`dataCollector.collections.${n}.dataId: ${a.dataId ?? '(none)'} → ${b.dataId}`);
  }
  if (wanted.rollingRate && (current?.rollingRate ?? 'Hour') !== wanted.rollingRate)
    out.push(`dataCollector.rollingRate: ${current?.rollingRate ?? 'Hour'} → ${wanted.rollingRate}`);
  return out;
}

const deploymentPath = (ws: WorkspaceRef, endpoint: string, deployment: string) =>
  wsPath(ws, `/onlineEndpoints/${encodeURIComponent(endpoint)}/deployments/${encodeURIComponent(deployment)}`);

/** GET the deployment at 2024-04-01: its dataCollector (null without one); exists false on 404. */
export async function getDeploymentDataCollector(
  ctx: AzureMLContext,
  endpoint: string,
  deployment: string,
): Promise<{ exists: boolean; collector?: DataCollectorProps | null }> {
  const d = await armGetOptional<{ properties?: { dataCollector?: DataCollectorProps | null } }>(
    ctx,
    deploymentPath(ctx.ws, endpoint, deployment),
    { apiVersion: DATA_COLLECTOR_API_VERSION, what: `deployment '${endpoint}/${deployment}'` },
  );
  if (!d) return { exists: false };
  return { exists: true, collector: d.properties?.dataCollector ?? null };
}

/**
 * Register (or reuse) a collection's data asset as the CLI does: PUT data/<name>/versions/<version> (uri_folder at the
 * collector's path) unless it exists. Returns its ARM id. An existing version pointing elsewhere is kept (as the CLI
 * keeps it) and reported.
 */
export async function ensureCollectionAsset(
  ctx: AzureMLContext,
  a: { name: string; version: string; path: string },
): Promise<{ id: string; created: boolean; path: string }> {
  const p = wsPath(ctx.ws, `/data/${encodeURIComponent(a.name)}/versions/${encodeURIComponent(a.version)}`);
  const cur = await armGetOptional<{ id: string; properties?: { dataUri?: string } }>(ctx, p, {
    what: `data asset ${a.name}:${a.version}`,
  });
  if (cur) return { id: cur.id, created: false, path: cur.properties?.dataUri ?? a.path };
  const res = await armSend<{ id: string; properties?: { dataUri?: string } }>(ctx, 'PUT', p, {
    properties: {
      dataType: 'uri_folder',
      dataUri: `${a.path}/`,
      description: "Production data collected by the online deployment's data collector",
      isAnonymous: false,
      tags: {},
      properties: {},
    },
  });
  if (res.status < 200 || res.status >= 300) {
    const e = parseArmError(res.body);
    throw armFailure(res.status, e.code, e.message, `data asset ${a.name}:${a.version}`);
  }
  return { id: res.body.id, created: true, path: res.body.properties?.dataUri ?? a.path };
}

/**
 * PUT a deployment at 2024-04-01 (raw REST through the client's pipeline) and wait for its Azure-AsyncOperation;
 * then GET it at 2024-04-01. The body is the 2022-10-01 one plus `properties.dataCollector` (2024-04-01 is a
 * superset for what the deploy task sends).
 */
export async function putDeploymentWithCollector(
  ctx: AzureMLContext,
  endpoint: string,
  name: string,
  body: Record<string, unknown>,
  o: LroWaitOptions = {},
): Promise<any> {
  const c: AzureMLContext = { ...ctx, signal: o.abortSignal ?? ctx.signal };
  const what = `deployment '${name}' of online endpoint '${endpoint}'`;
  const url = deploymentPath(ctx.ws, endpoint, name);
  const opts = { apiVersion: DATA_COLLECTOR_API_VERSION };
  const put = await armSend<any>(c, 'PUT', url, body, opts);
  if (put.status < 200 || put.status >= 300) {
    const e = parseArmError(put.body);
    throw armFailure(put.status, e.code, e.message, what);
  }
  const op = put.headers['azure-asyncoperation'];
  if (op) await waitForOperation(c, op, what, put, o);
  const after = await armSend<any>(c, 'GET', url, undefined, opts);
  if (after.status < 200 || after.status >= 300) {
    const e = parseArmError(after.body);
    throw armFailure(after.status, e.code, e.message, what);
  }
  if (!isPlainObject(after.body)) throw new UserError(`${what}: the service returned no deployment`);
  return after.body;
}
