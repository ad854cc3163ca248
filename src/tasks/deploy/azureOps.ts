// The deploy task's Azure operations (DeployOps) over the workspace's ARM client: endpoints, deployments, traffic,
// mirror traffic, keys, logs, scoring, Azure Monitor metrics and the asset resolver.
import type { OnlineDeployment, OnlineEndpoint } from '@azure/arm-machinelearning';
import { armGetOptional, getWorkspace, wsPath, type AzureMLContext } from '../../azureml';
import {
  deleteDeployment,
  deploymentInfo,
  endpointInfo,
  endpointKeys,
  endpointToken,
  getDeployment,
  getDeploymentLogs,
  getEndpoint,
  listDeployments,
  putDeployment,
  putEndpoint,
  scoreOnce,
  setMirrorTraffic,
  setTraffic,
  updateDeploymentTags,
  updateEndpoint,
} from '../../azureml/endpoints';
import type { LroWaitOptions } from '../../azureml/poll';
import { AzureDeploymentResolver } from '../../azureml/deploymentResolver';
import { readEndpointHealth } from '../../azureml/metrics';
import type { DeployOps } from './types';
import { putDeploymentFor } from './dataCollector';
import {
  ensureCollectionAsset,
  getDeploymentDataCollector,
  putDeploymentWithCollector,
} from '../../azureml/dataCollector';
import { info } from '../../pipeline';

/**
 * `lro`: how endpoint/deployment operations are waited for (poll.ts: shared back-off schedule, Retry-After, progress
 * through `onProgress` — the entry logs it; tests inject a clock).
 */
export function azureOps(ctx: AzureMLContext, lro: LroWaitOptions = {}): DeployOps {
  let location: string | undefined;
  return {
    ws: ctx.ws,
    location: async () => (location ??= (await getWorkspace(ctx)).location ?? 'eastus'),
    getCompute: async (name) => {
      const c = await armGetOptional<any>(ctx, wsPath(ctx.ws, `/computes/${encodeURIComponent(name)}`), {
        what: `compute '${name}'`,
      });
      if (!c) return undefined;
      const p = c.properties?.properties ?? {};
      const def =
        p.defaultInstanceType ??
        (String(c.properties?.computeType).toLowerCase() === 'kubernetes' ? 'defaultinstancetype' : undefined);
      const types = [...new Set([...(def ? [def] : []), ...Object.keys(p.instanceTypes ?? {})])];
      return {
        id: c.id,
        name: c.name,
        computeType: c.properties?.computeType ?? 'unknown',
        instanceTypes: types,
        defaultInstanceType: def,
      };
    },
    getEndpoint: async (name, signal) => {
      const e = await getEndpoint(ctx, name, { abortSignal: signal });
      return e ? endpointInfo(e) : undefined;
    },
    metrics: (ep, dep, w) =>
      readEndpointHealth(ctx, ep, { deployment: dep, since: w.since, ...(w.until ? { now: w.until } : {}) }),
    createEndpoint: async (name, body) =>
      endpointInfo(await putEndpoint(ctx, name, body as unknown as OnlineEndpoint, lro)),
    updateEndpoint: async (name, ch) =>
      endpointInfo(
        await updateEndpoint(
          ctx,
          name,
          (b) => {
            if (ch.authMode) b.properties.authMode = ch.authMode;
            if (ch.description !== undefined) b.properties.description = ch.description;
            if (ch.tags) b.tags = ch.tags;
          },
          lro,
        ),
      ),
    listDeployments: async (ep, signal) =>
      (await listDeployments(ctx, ep, { abortSignal: signal })).map(deploymentInfo),
    getDeployment: async (ep, name) => {
      const d = await getDeployment(ctx, ep, name);
      return d ? deploymentInfo(d) : undefined;
    },
    putDeployment: putDeploymentFor({
      sdkPut: async (ep, name, body) =>
        deploymentInfo(await putDeployment(ctx, ep, name, body as unknown as OnlineDeployment, lro)),
      putWithCollector: async (ep, name, body) =>
        deploymentInfo(await putDeploymentWithCollector(ctx, ep, name, body, lro)),
      ensureAsset: (a) => ensureCollectionAsset(ctx, a),
      getDataCollector: (ep, name) => getDeploymentDataCollector(ctx, ep, name),
      info,
    }),
    getDataCollector: (ep, name) => getDeploymentDataCollector(ctx, ep, name),
    updateDeploymentTags: async (ep, name, tags) =>
      deploymentInfo(await updateDeploymentTags(ctx, ep, name, tags, lro)),
    deleteDeployment: (ep, name) => deleteDeployment(ctx, ep, name, lro),
    setTraffic: (ep, t, signal) => setTraffic(ctx, ep, t, { ...lro, abortSignal: signal }),
    setMirrorTraffic: (ep, m, signal) => setMirrorTraffic(ctx, ep, m, { ...lro, abortSignal: signal }),
    credential: async (ep, authMode) =>
      authMode === 'Key' ? (await endpointKeys(ctx, ep)).primaryKey : await endpointToken(ctx, ep),
    logs: (ep, dep, tail, signal) => getDeploymentLogs(ctx, ep, dep, { tail, abortSignal: signal }),
    score: (uri, body, { signal, ...o }) => scoreOnce(uri, body, { ...o, abortSignal: signal, proxy: ctx.proxy }),
    resolver: (o) => new AzureDeploymentResolver(ctx, o),
  };
}
