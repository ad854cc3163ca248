// Online endpoints and deployments (managed and Kubernetes), api-version 2022-10-01.
// Control plane: the SDK's operations, their pollers driven by our own loop (poll.ts: back-off schedule, Retry-After
// honoured when the service sends one — Azure ML sends none on endpoint/deployment PUTs — and progress reports). Traffic changes are GET → edit `traffic` → PUT,
// because PATCH takes only tags/identity. Data plane (scoring) through core-rest-pipeline's HTTP client.
import type { OnlineDeployment, OnlineEndpoint } from '@azure/arm-machinelearning';
import { createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import { UserError } from '../errors';
import type { AgentProxy } from '../agentProxy';
import { proxiedSender } from '../auth';
import { armSend } from './arm';
import type { AzureMLContext } from './context';
import { AzureError, armFailure, mapAzureError, oneLine, parseArmError, statusOf } from './errors';
import { PollSchedule, parseRetryAfter, realClock, waitForLro, type LroWaitOptions } from './poll';
import { wsPath } from './workspace';

export type EndpointKind = 'Managed' | 'Kubernetes';

/** What the deploy task needs to know about an endpoint. */
export interface EndpointInfo {
  name: string;
  kind: EndpointKind;
  authMode: string;
  /** ARM id of the Kubernetes compute (Kubernetes endpoints) */
  compute?: string;
  traffic: Record<string, number>;
  provisioningState?: string;
  scoringUri?: string;
  description?: string;
  tags: Record<string, string>;
  location?: string;
}

export interface DeploymentInfo {
  name: string;
  kind: EndpointKind;
  provisioningState?: string;
  model?: string;
  codeId?: string;
  scoringScript?: string;
  environmentId?: string;
  instanceType?: string;
  instanceCount?: number;
  environmentVariables?: Record<string, string>;
  /** as the service reports them (durations ISO 8601, service defaults filled in) */
  livenessProbe?: Record<string, unknown>;
  readinessProbe?: Record<string, unknown>;
  requestSettings?: Record<string, unknown>;
  tags: Record<string, string>;
}

export function endpointInfo(e: OnlineEndpoint): EndpointInfo {
  const p = e.properties;
  return {
    name: e.name ?? '',
    kind: p.compute ? 'Kubernetes' : 'Managed',
    authMode: p.authMode,
    compute: p.compute ?? undefined,
    traffic: { ...(p.traffic ?? {}) },
    provisioningState: p.provisioningState,
    scoringUri: p.scoringUri ?? undefined,
    description: p.description ?? undefined,
    tags: { ...(e.tags ?? {}) },
    location: e.location,
  };
}

export function deploymentInfo(d: OnlineDeployment): DeploymentInfo {
  const p = d.properties;
  return {
    name: d.name ?? '',
    kind: p.endpointComputeType === 'Kubernetes' ? 'Kubernetes' : 'Managed',
    provisioningState: p.provisioningState,
    model: p.model ?? undefined,
    codeId: p.codeConfiguration?.codeId ?? undefined,
    scoringScript: p.codeConfiguration?.scoringScript,
    environmentId: p.environmentId ?? undefined,
    instanceType: p.instanceType ?? undefined,
    instanceCount: d.sku?.capacity,
    environmentVariables: p.environmentVariables
      ? Object.fromEntries(Object.entries(p.environmentVariables).map(([k, v]) => [k, v ?? '']))
      : undefined,
    livenessProbe: p.livenessProbe ? { ...p.livenessProbe } : undefined,
    readinessProbe: p.readinessProbe ? { ...p.readinessProbe } : undefined,
    requestSettings: p.requestSettings ? { ...p.requestSettings } : undefined,
    tags: { ...(d.tags ?? {}) },
  };
}

/** setTimeout as a promise that an AbortSignal ends early (rejecting with the signal's reason). */
export const abortableSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** `The long-running operation has failed. <code>. <message>` (core-lro) → one user line. */
function lroError(err: unknown, what: string): unknown {
  const e = err as Error;
  if (e instanceof Error && /^The long-running operation has failed/.test(e.message)) {
    const detail = e.message.replace(/^The long-running operation has failed\.?\s*/, '');
    return new AzureError(
      `${what} failed: ${oneLine(detail) || 'the operation failed'}`,
      400,
      /^([A-Za-z]+)\./.exec(detail)?.[1],
    );
  }
  return mapAzureError(err, what);
}

/** The part of an SDK poller (core-lro 2.x legacy PollerLike) our loop drives. */
interface SdkPoller<T> {
  poll(o?: { abortSignal?: AbortSignal }): Promise<void>;
  isDone(): boolean;
  getResult(): T | undefined;
}
/** What the SDK hands `onResponse` (core-client RawResponse, the members used here). */
interface RawResponse {
  status: number;
  parsedBody?: unknown;
  headers: { get(name: string): string | undefined };
}
/** Options every SDK LRO call takes: the abort signal and a hook on every raw response (initial and polls). */
interface SdkLroCallOptions {
  abortSignal?: AbortSignal;
  onResponse(raw: RawResponse): void;
}

/** Status of an LRO response as core-lro reads it: the status resource's `status`, else the resource's provisioningState. */
function lroStatusOf(raw: RawResponse): string {
  const b = (raw.parsedBody ?? {}) as {
    status?: string;
    properties?: { provisioningState?: string };
    provisioningState?: string;
  };
  return String(
    b.status ??
      b.properties?.provisioningState ??
      b.provisioningState ??
      (raw.status === 202 ? 'InProgress' : raw.status < 300 ? 'Succeeded' : raw.status),
  );
}

/**
 * Run one SDK long-running operation: `begin` sends the initial request (the SDK's begin… method), then our loop
 * (waitForLro) polls the SDK's poller on the shared schedule — not the SDK's fixed interval — with Retry-After honoured
 * (read from every raw response) and progress reported. Failures surface as the poller's errors (lroError maps them).
 */
export async function sdkLro<T>(
  ctx: AzureMLContext,
  what: string,
  begin: (o: SdkLroCallOptions) => Promise<SdkPoller<T>>,
  o: LroWaitOptions = {},
): Promise<T> {
  const signal = o.abortSignal ?? ctx.signal;
  let status = 'Accepted';
  let retryAfterMs: number | undefined;
  const onResponse = (raw: RawResponse) => {
    status = lroStatusOf(raw);
    retryAfterMs = parseRetryAfter(raw.headers.get('retry-after'));
  };
  const poller = await begin({ abortSignal: signal, onResponse });
  const seen = () => ({ done: poller.isDone(), status, retryAfterMs });
  await waitForLro(
    what,
    seen(),
    async () => {
      retryAfterMs = undefined;
      await poller.poll({ abortSignal: signal });
      return seen();
    },
    { ...o, abortSignal: signal },
  );
  return poller.getResult() as T;
}

export async function getEndpoint(
  ctx: AzureMLContext,
  name: string,
  options: { abortSignal?: AbortSignal } = {},
): Promise<OnlineEndpoint | undefined> {
  try {
    return await ctx.client.onlineEndpoints.get(ctx.ws.resourceGroup, ctx.ws.workspace, name, {
      abortSignal: options.abortSignal ?? ctx.signal,
    });
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw mapAzureError(err, `online endpoint '${name}'`);
  }
}

/**
 * Waits between retries of a PUT refused with 409 (another operation in progress on the endpoint): the shared
 * schedule, Retry-After honoured; answers false once `conflictWaitMs` (default 2 min) has passed. Abort rejects.
 */
function conflictWaiter(
  o: LroWaitOptions & { conflictWaitMs?: number },
  signal?: AbortSignal,
): (retryAfter?: string) => Promise<boolean> {
  const clock = o.clock ?? realClock;
  const until = clock.now() + (o.conflictWaitMs ?? 120_000);
  const sched = new PollSchedule(o.schedule);
  return async (retryAfter) => {
    if (clock.now() >= until) return false;
    await clock.sleep(sched.nextAfter(parseRetryAfter(retryAfter)), signal);
    if (signal?.aborted) throw signal.reason ?? new Error('The operation was aborted');
    return true;
  };
}

/**
 * PUT an endpoint and wait for it. A 409 (another operation in progress on the endpoint) is retried for up to
 * `conflictWaitMs`, as the service asks ("retry when it has finished"), on the shared schedule (Retry-After honoured).
 */
export async function putEndpoint(
  ctx: AzureMLContext,
  name: string,
  body: OnlineEndpoint,
  o: LroWaitOptions & { conflictWaitMs?: number } = {},
): Promise<OnlineEndpoint> {
  const conflict = conflictWaiter(o, o.abortSignal ?? ctx.signal);
  for (;;) {
    try {
      return await sdkLro(
        ctx,
        `online endpoint '${name}'`,
        (so) => ctx.client.onlineEndpoints.beginCreateOrUpdate(ctx.ws.resourceGroup, ctx.ws.workspace, name, body, so),
        o,
      );
    } catch (err) {
      if (
        statusOf(err) === 409 &&
        (await conflict(
          (err as { response?: { headers?: { get?(n: string): string | undefined } } }).response?.headers?.get?.(
            'retry-after',
          ),
        ))
      )
        continue;
      throw lroError(err, `online endpoint '${name}'`);
    }
  }
}

/**
 * Change an endpoint: GET → `edit` the full resource → PUT (PATCH only takes tags/identity). Used for traffic
 * (as `az ml online-endpoint update --traffic` does) and for auth mode / description / tags.
 */
export async function updateEndpoint(
  ctx: AzureMLContext,
  name: string,
  edit: (body: OnlineEndpoint) => void,
  o: LroWaitOptions = {},
): Promise<OnlineEndpoint> {
  const cur = await getEndpoint(ctx, name, { abortSignal: o.abortSignal });
  if (!cur) throw new UserError(`Online endpoint '${name}' no longer exists`);
  const body: OnlineEndpoint = {
    location: cur.location,
    tags: cur.tags,
    identity: cur.identity?.type
      ? { type: cur.identity.type, userAssignedIdentities: cur.identity.userAssignedIdentities }
      : undefined,
    kind: cur.kind,
    properties: {
      authMode: cur.properties.authMode,
      description: cur.properties.description,
      properties: cur.properties.properties,
      compute: cur.properties.compute,
      publicNetworkAccess: cur.properties.publicNetworkAccess,
      traffic: cur.properties.traffic,
    },
  };
  edit(body);
  return putEndpoint(ctx, name, body, o);
}

/** Set an endpoint's traffic (deployments absent from `traffic` get 0); returns the traffic the service reports. */
export async function setTraffic(
  ctx: AzureMLContext,
  name: string,
  traffic: Record<string, number>,
  o: LroWaitOptions = {},
): Promise<Record<string, number>> {
  const after = await updateEndpoint(
    ctx,
    name,
    (b) => {
      b.properties.traffic = { ...traffic };
    },
    o,
  );
  return { ...(after.properties.traffic ?? {}) };
}

/** `mirrorTraffic` is not in 2022-10-01 (the SDK drops it): this call alone goes through raw REST at this version. */
export const MIRROR_API_VERSION = '2023-04-01';

/**
 * Set an endpoint's `mirrorTraffic` (`{}` clears it): GET at 2023-04-01 → edit → PUT at 2023-04-01 through the
 * client's own pipeline (auth, retries), then wait for the PUT's Azure-AsyncOperation (Retry-After honoured). The GET
 * at the same version carries the endpoint's other properties as they are, so the PUT changes only the mirror. A 409
 * (operation in progress) is retried like putEndpoint. Returns the mirror the service then reports; when the endpoint
 * already mirrors exactly that, nothing is sent.
 */
export async function setMirrorTraffic(
  ctx: AzureMLContext,
  name: string,
  mirror: Record<string, number>,
  o: LroWaitOptions & { conflictWaitMs?: number } = {},
): Promise<Record<string, number>> {
  const c: AzureMLContext = { ...ctx, signal: o.abortSignal ?? ctx.signal };
  const what = `mirror traffic of online endpoint '${name}'`;
  const url = wsPath(ctx.ws, `/onlineEndpoints/${encodeURIComponent(name)}`);
  const opts = { apiVersion: MIRROR_API_VERSION };
  const nonZero = (m: Record<string, number> | undefined) =>
    Object.fromEntries(Object.entries(m ?? {}).filter(([, v]) => v > 0));
  const same = (a: Record<string, number>, b: Record<string, number>) =>
    JSON.stringify(
      Object.entries(nonZero(a))
        .map(([k, v]) => [k.toLowerCase(), v])
        .sort(),
    ) ===
    JSON.stringify(
      Object.entries(nonZero(b))
        .map(([k, v]) => [k.toLowerCase(), v])
        .sort(),
    );
  const conflict = conflictWaiter(o, c.signal);
  for (;;) {
    const cur = await armSend<any>(c, 'GET', url, undefined, opts);
    if (cur.status === 404) throw new UserError(`Online endpoint '${name}' no longer exists`);
    if (cur.status < 200 || cur.status >= 300) {
      const e = parseArmError(cur.body);
      throw armFailure(cur.status, e.code, e.message, what);
    }
    const ep = cur.body ?? {};
    const p = ep.properties ?? {};
    if (same(p.mirrorTraffic ?? {}, mirror)) return { ...(p.mirrorTraffic ?? {}) };
    const body: Record<string, unknown> = {
      location: ep.location,
      tags: ep.tags,
      kind: ep.kind,
      ...(ep.identity?.type
        ? { identity: { type: ep.identity.type, userAssignedIdentities: ep.identity.userAssignedIdentities } }
        : {}),
      ...(ep.sku ? { sku: ep.sku } : {}),
      properties: {
        authMode: p.authMode,
        description: p.description,
        properties: p.properties,
        compute: p.compute,
        publicNetworkAccess: p.publicNetworkAccess,
        traffic: p.traffic ?? {},
        mirrorTraffic: { ...mirror },
      },
    };
    const put = await armSend<any>(c, 'PUT', url, body, opts);
    if (put.status === 409 && (await conflict(put.headers['retry-after']))) continue;
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
    return { ...(after.body?.properties?.mirrorTraffic ?? {}) };
  }
}

/**
 * Poll an Azure-AsyncOperation status URL on the shared schedule until Succeeded (Retry-After honoured when sent;
 * Failed/Canceled → AzureError with the operation's error). `put` is the initial response (its Retry-After counts).
 */
export async function waitForOperation(
  ctx: AzureMLContext,
  statusUrl: string,
  what: string,
  put: { headers: Record<string, string> },
  o: LroWaitOptions,
): Promise<void> {
  const first = { done: false, status: 'Accepted', retryAfterMs: parseRetryAfter(put.headers['retry-after']) };
  await waitForLro(
    what,
    first,
    async () => {
      const r = await armSend<any>(ctx, 'GET', statusUrl);
      if (r.status < 200 || r.status >= 300) {
        const e = parseArmError(r.body);
        throw armFailure(r.status, e.code, e.message, what);
      }
      const status = String(r.body?.status ?? '');
      if (/^(failed|canceled|cancelled)$/i.test(status)) {
        const e = r.body?.error ?? {};
        throw new AzureError(
          `${what} failed: ${oneLine([e.code, e.message].filter(Boolean).join('. ')) || status}`,
          400,
          e.code,
        );
      }
      return { done: /^succeeded$/i.test(status), status, retryAfterMs: parseRetryAfter(r.headers['retry-after']) };
    },
    { ...o, abortSignal: ctx.signal },
  );
}

export async function listDeployments(
  ctx: AzureMLContext,
  endpoint: string,
  options: { abortSignal?: AbortSignal } = {},
): Promise<OnlineDeployment[]> {
  const out: OnlineDeployment[] = [];
  try {
    for await (const d of ctx.client.onlineDeployments.list(ctx.ws.resourceGroup, ctx.ws.workspace, endpoint, {
      abortSignal: options.abortSignal ?? ctx.signal,
    }))
      out.push(d);
  } catch (err) {
    if (statusOf(err) === 404) return out;
    throw mapAzureError(err, `deployments of online endpoint '${endpoint}'`);
  }
  return out;
}

export async function getDeployment(
  ctx: AzureMLContext,
  endpoint: string,
  name: string,
  options: { abortSignal?: AbortSignal } = {},
): Promise<OnlineDeployment | undefined> {
  try {
    return await ctx.client.onlineDeployments.get(ctx.ws.resourceGroup, ctx.ws.workspace, endpoint, name, {
      abortSignal: options.abortSignal ?? ctx.signal,
    });
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw mapAzureError(err, `deployment '${name}' of online endpoint '${endpoint}'`);
  }
}

export async function putDeployment(
  ctx: AzureMLContext,
  endpoint: string,
  name: string,
  body: OnlineDeployment,
  o: LroWaitOptions = {},
): Promise<OnlineDeployment> {
  const what = `deployment '${name}' of online endpoint '${endpoint}'`;
  try {
    return await sdkLro(
      ctx,
      what,
      (so) =>
        ctx.client.onlineDeployments.beginCreateOrUpdate(
          ctx.ws.resourceGroup,
          ctx.ws.workspace,
          endpoint,
          name,
          body,
          so,
        ),
      o,
    );
  } catch (err) {
    throw lroError(err, what);
  }
}

/** Replace a deployment's tags only (ARM PATCH, PartialMinimalTrackedResourceWithSku: no redeployment). */
export async function updateDeploymentTags(
  ctx: AzureMLContext,
  endpoint: string,
  name: string,
  tags: Record<string, string>,
  o: LroWaitOptions = {},
): Promise<OnlineDeployment> {
  const what = `tags of deployment '${name}' of online endpoint '${endpoint}'`;
  try {
    return await sdkLro(
      ctx,
      what,
      (so) =>
        ctx.client.onlineDeployments.beginUpdate(ctx.ws.resourceGroup, ctx.ws.workspace, endpoint, name, { tags }, so),
      o,
    );
  } catch (err) {
    throw lroError(err, what);
  }
}

export async function deleteDeployment(
  ctx: AzureMLContext,
  endpoint: string,
  name: string,
  o: LroWaitOptions = {},
): Promise<void> {
  try {
    await sdkLro(
      ctx,
      `deleting deployment '${name}' of online endpoint '${endpoint}'`,
      (so) => ctx.client.onlineDeployments.beginDelete(ctx.ws.resourceGroup, ctx.ws.workspace, endpoint, name, so),
      o,
    );
  } catch (err) {
    throw lroError(err, `deleting deployment '${name}' of online endpoint '${endpoint}'`);
  }
}

/** Container log tail of a deployment ('' when the service has none). */
export async function getDeploymentLogs(
  ctx: AzureMLContext,
  endpoint: string,
  name: string,
  o: { tail?: number; containerType?: 'InferenceServer' | 'StorageInitializer'; abortSignal?: AbortSignal } = {},
): Promise<string> {
  try {
    const r = await ctx.client.onlineDeployments.getLogs(
      ctx.ws.resourceGroup,
      ctx.ws.workspace,
      endpoint,
      name,
      { tail: o.tail ?? 100, containerType: o.containerType ?? 'InferenceServer' },
      { abortSignal: o.abortSignal ?? ctx.signal },
    );
    return r.content ?? '';
  } catch (err) {
    throw mapAzureError(err, `logs of deployment '${name}'`);
  }
}

/** Primary key of a key-auth endpoint, masked before it is returned. */
export async function endpointKeys(
  ctx: AzureMLContext,
  endpoint: string,
  options: { abortSignal?: AbortSignal } = {},
): Promise<{ primaryKey: string; secondaryKey?: string }> {
  let k;
  try {
    k = await ctx.client.onlineEndpoints.listKeys(ctx.ws.resourceGroup, ctx.ws.workspace, endpoint, {
      abortSignal: options.abortSignal ?? ctx.signal,
    });
  } catch (err) {
    throw mapAzureError(err, `keys of online endpoint '${endpoint}'`);
  }
  if (k.primaryKey) ctx.onSecret?.(k.primaryKey);
  if (k.secondaryKey) ctx.onSecret?.(k.secondaryKey);
  if (!k.primaryKey) throw new UserError(`Online endpoint '${endpoint}' returned no key`);
  return { primaryKey: k.primaryKey, secondaryKey: k.secondaryKey ?? undefined };
}

/** An AML token for an aml_token endpoint, masked before it is returned. */
export async function endpointToken(
  ctx: AzureMLContext,
  endpoint: string,
  options: { abortSignal?: AbortSignal } = {},
): Promise<string> {
  let t;
  try {
    t = await ctx.client.onlineEndpoints.getToken(ctx.ws.resourceGroup, ctx.ws.workspace, endpoint, {
      abortSignal: options.abortSignal ?? ctx.signal,
    });
  } catch (err) {
    throw mapAzureError(err, `token of online endpoint '${endpoint}'`);
  }
  if (!t.accessToken) throw new UserError(`Online endpoint '${endpoint}' returned no token`);
  ctx.onSecret?.(t.accessToken);
  return t.accessToken;
}

// ------------------------------------------------------------------------------------------------ data plane

export interface ScoreResult {
  status: number;
  body: string;
  ms: number;
  /** the `azureml-model-deployment` response header: the deployment that answered (absent when the front door answered itself) */
  servedBy?: string;
  error?: string;
  /** Retry-After (seconds or HTTP date) in ms, when the answer carries one */
  retryAfterMs?: number;
  /** a 424's `ms-azureml-model-error-statuscode` / `ms-azureml-model-error-reason`: what the model container answered */
  modelStatus?: number;
  modelErrorReason?: string;
}

/**
 * One scoring request (no retries here: the deploy task's probe analysis decides what an answer means and what to
 * retry, src/tasks/deploy/analysis.ts). `deployment` sets the
 * `azureml-model-deployment` header (route to that deployment whatever its traffic). Network errors and timeouts
 * come back as status 0 with `error`. `proxy`: the agent's web proxy (the scoring host is reached through it unless bypassed).
 */
export async function scoreOnce(
  uri: string,
  body: string,
  o: {
    credential: string;
    deployment?: string;
    timeoutMs?: number;
    contentType?: string;
    abortSignal?: AbortSignal;
    proxy?: AgentProxy;
  },
): Promise<ScoreResult> {
  const httpClient = proxiedSender(o.proxy, { retries: 0 });
  const headers = createHttpHeaders({
    authorization: `Bearer ${o.credential}`,
    'content-type': o.contentType ?? 'application/json',
    accept: 'application/json',
  });
  if (o.deployment) headers.set('azureml-model-deployment', o.deployment);
  const req = createPipelineRequest({
    url: uri,
    method: 'POST',
    body,
    headers,
    timeout: o.timeoutMs ?? 30_000,
    abortSignal: o.abortSignal,
  });
  const t0 = performance.now();
  try {
    const res = await httpClient.sendRequest(req);
    const ms = performance.now() - t0;
    const h = (n: string) => res.headers.get(n) ?? undefined;
    const modelStatus = Number(h('ms-azureml-model-error-statuscode'));
    return {
      status: res.status,
      body: res.bodyAsText ?? '',
      ms,
      servedBy: h('azureml-model-deployment'),
      ...(h('retry-after') !== undefined ? { retryAfterMs: parseRetryAfter(h('retry-after')) } : {}),
      ...(Number.isInteger(modelStatus) && modelStatus > 0 ? { modelStatus } : {}),
      ...(h('ms-azureml-model-error-reason') ? { modelErrorReason: h('ms-azureml-model-error-reason') } : {}),
    };
  } catch (err) {
    if (o.abortSignal?.aborted) throw o.abortSignal.reason ?? err;
    return { status: 0, body: '', ms: performance.now() - t0, error: oneLine((err as Error)?.message ?? String(err)) };
  }
}

/** Online endpoint (and deployment) names: 3-32 characters, letters, digits and '-', starting with a letter, ending with a letter or digit. */
export const ONLINE_NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]$/;
