// AzureMLModelDeploy@1's production data collection: the deployment's `data_collector` (YAML) or the dataCollection
// inputs become `properties.dataCollector`, sent at api-version 2024-04-01 (raw REST: the SDK's 2022-10-01 drops it),
// with the collections' data assets registered first as `az ml online-deployment create` registers them. The deploy
// task calls four things from here: applyDataCollectionInputs (plan.ts), observeDataCollector (modelDeploy.ts: what
// the deployment should collect, where the data lands, what the existing one lacks), attachDataCollector (decide.ts),
// putDeploymentFor (azureOps.ts: the PUT). Rules and sources:
// src/azureml/dataCollector.ts.
import type { DeploymentInfo } from '../../azureml/endpoints';
import { InputError } from '../../pipeline';
import type { OnlineDeploymentSpec } from '../../azureml/deploymentSpec';
import {
  collectionAsset,
  dataCollectorBody,
  dataCollectorDifferences,
  type DataCollectorProps,
  type DataCollectorSpec,
} from '../../azureml/dataCollector';
import { wsPath } from '../../azureml';
import { plannedDeploymentName } from './decide';
import type { Observed } from './observe';
import type { Plan } from './plan';
import type { DeployDeps } from './types';

/**
 * The dataCollection inputs (collection names, e.g. `model_inputs, model_outputs`; a sampling rate in (0, 1]) enable
 * those collections on top of the YAML's data_collector (the inputs win for the collections they name).
 */
export function applyDataCollectionInputs(
  spec: OnlineDeploymentSpec,
  collections: readonly string[] | undefined,
  samplingRate: number | undefined,
): void {
  if (samplingRate !== undefined && !(samplingRate > 0 && samplingRate <= 1))
    throw new InputError('dataCollectionSamplingRate', `must be in (0, 1] (1 = every request), got ${samplingRate}`);
  if (!collections?.length) {
    if (samplingRate !== undefined && !spec.dataCollector)
      throw new InputError(
        'dataCollectionSamplingRate',
        'applies only with dataCollection (or a data_collector in the deployment YAML)',
      );
    if (samplingRate !== undefined) spec.dataCollector!.samplingRate = samplingRate;
    return;
  }
  for (const c of collections)
    if (!/^[A-Za-z0-9_-]+$/.test(c))
      throw new InputError(
        'dataCollection',
        `'${c}' is not a collection name (letters, digits, '_' or '-'; e.g. model_inputs, model_outputs)`,
      );
  const dc: DataCollectorSpec = spec.dataCollector ?? { collections: {} };
  for (const c of collections) dc.collections[c] = { ...(dc.collections[c] ?? {}), enabled: true };
  if (samplingRate !== undefined) dc.samplingRate = samplingRate;
  spec.dataCollector = dc;
}

export interface WantedCollector {
  body: DataCollectorProps;
  /** the data assets to register before the PUT (as the CLI does: every collection) */
  assets: Array<{ collection: string; name: string; version: string; path: string; id: string }>;
  /** one line per enabled collection: where its data lands */
  lines: string[];
}

/**
 * The dataCollector to send, or undefined when the deployment has none. Data asset ids are the ARM ids the CLI
 * builds (`<workspace>/data/<name>/versions/<version>`), known before anything is written.
 */
export function wantedDataCollector(
  spec: OnlineDeploymentSpec,
  wsArmPath: string,
  endpoint: string,
  deployment: string,
): WantedCollector | undefined {
  const dc = spec.dataCollector;
  if (!dc) return undefined;
  const assets = Object.entries(dc.collections).map(([collection, c]) => {
    const a = collectionAsset(endpoint, deployment, collection, c);
    return { collection, ...a, id: `${wsArmPath}/data/${a.name}/versions/${a.version}` };
  });
  const body = dataCollectorBody(dc, Object.fromEntries(assets.map((a) => [a.collection, a.id])));
  const lines = assets
    .filter((a) => dc.collections[a.collection]!.enabled)
    .map(
      (a) =>
        `Data collection '${a.collection}' (sampling ${dc.samplingRate ?? 1}): ${a.path}/yyyy/MM/dd/HH/<instance>.jsonl, data asset azureml:${a.name}:${a.version}`,
    );
  return { body, assets, lines };
}

export interface CollectorOps {
  getDataCollector(
    endpoint: string,
    deployment: string,
  ): Promise<{ exists: boolean; collector?: DataCollectorProps | null }>;
  ensureAsset(a: {
    name: string;
    version: string;
    path: string;
  }): Promise<{ id: string; created: boolean; path: string }>;
  putWithCollector(endpoint: string, deployment: string, body: Record<string, unknown>): Promise<DeploymentInfo>;
  sdkPut(endpoint: string, deployment: string, body: Record<string, unknown>): Promise<DeploymentInfo>;
  info(message: string): void;
}

/** What the deployment's current collector lacks (read at 2024-04-01); [] when it already collects as wanted. */
export async function dataCollectorChanges(
  ops: Pick<CollectorOps, 'getDataCollector'>,
  endpoint: string,
  deployment: string,
  wanted: WantedCollector,
): Promise<string[]> {
  const cur = await ops.getDataCollector(endpoint, deployment);
  return dataCollectorDifferences(cur.collector, wanted.body);
}

/**
 * The deployment PUT: with a dataCollector in the body, the collections' data assets are registered (existing ones
 * reused, as the CLI does) and the PUT goes out at 2024-04-01; without one, through the SDK as before.
 */
export function putDeploymentFor(
  ops: CollectorOps,
): (endpoint: string, deployment: string, body: Record<string, unknown>) => Promise<DeploymentInfo> {
  return async (endpoint, deployment, body) => {
    const dc = (body.properties as Record<string, any> | undefined)?.dataCollector as DataCollectorProps | undefined;
    if (!dc) return ops.sdkPut(endpoint, deployment, body);
    for (const [collection, c] of Object.entries(dc.collections ?? {})) {
      const id = c?.dataId;
      const m = id ? /\/data\/([^/]+)\/versions\/([^/]+)$/.exec(id) : null;
      if (!m) continue;
      const path = (body as any).__collectorPaths?.[collection] as string | undefined;
      const r = await ops.ensureAsset({
        name: decodeURIComponent(m[1]!),
        version: decodeURIComponent(m[2]!),
        path: path ?? '',
      });
      ops.info(
        `Data asset ${m[1]}:${m[2]} for collection '${collection}' ${r.created ? 'registered' : 'exists'} (${r.path})`,
      );
    }
    const { __collectorPaths: _drop, ...clean } = body as Record<string, unknown> & { __collectorPaths?: unknown };
    return ops.putWithCollector(endpoint, deployment, clean);
  };
}

/** Put the collector into the deployment body (and the asset paths the PUT registers, kept out of the request). */
export function attachDataCollector(body: Record<string, any>, wanted: WantedCollector): void {
  body.properties = { ...(body.properties ?? {}), dataCollector: wanted.body };
  Object.defineProperty(body, '__collectorPaths', {
    value: Object.fromEntries(wanted.assets.map((a) => [a.collection, a.path])),
    enumerable: false,
    configurable: true,
  });
}

/**
 * Observe phase: the collector the planned deployment should have (undefined: none) and what the existing
 * deployment's collector lacks of it (read at 2024-04-01; nothing to compare when the deployment does not exist yet).
 */
export async function observeDataCollector(
  plan: Plan,
  seen: Observed,
  deps: Pick<DeployDeps, 'ops' | 'log'>,
): Promise<{ wanted: WantedCollector; changes: string[] } | undefined> {
  const name = plannedDeploymentName(plan, seen);
  const wanted = wantedDataCollector(plan.deploymentSpec, wsPath(deps.ops.ws), plan.endpointName, name);
  if (!wanted) return undefined;
  for (const l of wanted.lines) deps.log.info(l);
  const exists = seen.deployments.some((d) => d.name.toLowerCase() === name.toLowerCase());
  const changes =
    exists && deps.ops.getDataCollector
      ? await dataCollectorChanges({ getDataCollector: deps.ops.getDataCollector }, plan.endpointName, name, wanted)
      : [];
  return { wanted, changes };
}
