// A fake ARM behind the SDK's HttpClient for long-running operations on a virtual clock: an online endpoint and a
// deployment whose PUT answers 201 + Azure-AsyncOperation (Retry-After only when asked) and whose operation stays
// Updating until `durationMs` of the clock have passed. Counts every GET (status reads and resource reads).
// Used by test/unit/poll.test.ts and bench/lroPoll.ts; the service's behaviour it imitates (no Retry-After on
// endpoint/deployment PUTs, status Updating → Succeeded) is what the recordings show (test/emulator/README.md, LRO rows).
import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { createHttpHeaders, type HttpClient, type PipelineRequest } from '@azure/core-rest-pipeline';
import type { TokenCredential } from '@azure/core-auth';
import type { AzureMLContext } from '../../src/azureml/context';
import type { Clock } from '../../src/azureml/poll';

export const SUB = '00000000-0000-0000-0000-000000000000';
export const ARM = 'https://management.example';

export interface FakeArmOptions {
  /** how long every operation runs, on `now()` */
  durationMs: number;
  /** seconds, sent on the PUT and on every running (Updating) status answer; none when undefined (Azure ML's way) */
  retryAfterS?: number;
  /** the clock the fake service runs on */
  now(): number;
  /** the final status (default Succeeded) */
  outcome?: 'Succeeded' | 'Failed';
  /** the first n PUTs are refused with 409 (another operation in progress), with this Retry-After (s) when given */
  conflicts?: number;
  conflictRetryAfterS?: number;
}

export interface FakeArm {
  httpClient: HttpClient;
  /** every request: method, path, time on `now()` */
  log: Array<{ method: string; path: string; at: number }>;
  /** times of the PUTs */
  puts(): number[];
  /** GETs (status and resource reads: what ARM counts against the read limit) */
  reads(): number;
  /** times of the status reads */
  statusReads(): number[];
  /** when the last operation finished, on `now()` */
  doneAt(): number | undefined;
}

export function fakeArm(o: FakeArmOptions): FakeArm {
  const log: FakeArm['log'] = [];
  const ops = new Map<string, { start: number; resource: string }>();
  const resources = new Map<string, Record<string, any>>();
  let lastDone: number | undefined;
  let n = 0;
  let conflictsLeft = o.conflicts ?? 0;
  const json = (request: PipelineRequest, status: number, body: unknown, headers: Record<string, string> = {}) => ({
    status,
    request,
    headers: createHttpHeaders({ 'content-type': 'application/json', ...headers }),
    bodyAsText: body === undefined ? '' : JSON.stringify(body),
  });
  const ra = (): Record<string, string> =>
    o.retryAfterS === undefined ? {} : { 'retry-after': String(o.retryAfterS) };
  const httpClient: HttpClient = {
    async sendRequest(request: PipelineRequest) {
      const url = new URL(request.url);
      const t = o.now();
      log.push({ method: request.method, path: url.pathname, at: t });
      if (url.pathname.includes('/operationStatus/')) {
        const op = ops.get(url.pathname.split('/').pop()!);
        if (!op) return json(request, 404, { error: { code: 'NotFound', message: 'no such operation' } });
        if (t - op.start < o.durationMs)
          return json(
            request,
            200,
            { id: url.pathname, status: 'Updating', startTime: new Date(op.start).toISOString() },
            ra(),
          );
        lastDone ??= op.start + o.durationMs;
        const outcome = o.outcome ?? 'Succeeded';
        const r = resources.get(op.resource);
        if (r) r.properties.provisioningState = outcome;
        return json(request, 200, {
          id: url.pathname,
          status: outcome,
          ...(outcome === 'Failed' ? { error: { code: 'DeploymentFailed', message: 'The container crashed.' } } : {}),
        });
      }
      if (request.method === 'PUT' && conflictsLeft > 0) {
        conflictsLeft--;
        return json(
          request,
          409,
          {
            error: {
              code: 'Conflict',
              message: 'Another operation is in progress on this endpoint; retry when it has finished.',
            },
          },
          o.conflictRetryAfterS === undefined ? {} : { 'retry-after': String(o.conflictRetryAfterS) },
        );
      }
      if (request.method === 'PUT') {
        const body = JSON.parse(String(request.body));
        const isNew = !resources.has(url.pathname);
        const r = {
          id: url.pathname,
          name: url.pathname.split('/').pop(),
          ...body,
          properties: { ...body.properties, provisioningState: isNew ? 'Creating' : 'Updating' },
        };
        resources.set(url.pathname, r);
        const id = `op-${++n}`;
        ops.set(id, { start: t, resource: url.pathname });
        lastDone = undefined;
        const statusUrl = `${ARM}/subscriptions/${SUB}/providers/Microsoft.MachineLearningServices/locations/westeurope/mfeOperationStatus/operationStatus/${id}?api-version=2022-10-01`;
        return json(request, isNew ? 201 : 200, r, {
          'azure-asyncoperation': statusUrl,
          'x-ms-async-operation-timeout': 'PT2H',
          ...ra(),
        });
      }
      if (request.method === 'GET') {
        const r = resources.get(url.pathname);
        return r ? json(request, 200, r) : json(request, 404, { error: { code: 'NotFound', message: 'not found' } });
      }
      return json(request, 405, { error: { code: 'MethodNotAllowed', message: request.method } });
    },
  };
  return {
    httpClient,
    log,
    reads: () => log.filter((l) => l.method === 'GET').length,
    puts: () => log.filter((l) => l.method === 'PUT').map((l) => l.at),
    statusReads: () => log.filter((l) => l.method === 'GET' && l.path.includes('/operationStatus/')).map((l) => l.at),
    doneAt: () => lastDone,
  };
}

/** An AzureMLContext whose SDK client talks to `httpClient` (no retries: every request is counted once). */
export function fakeContext(httpClient: HttpClient, signal?: AbortSignal): AzureMLContext {
  const credential: TokenCredential = {
    getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3_600_000 }),
  };
  const client = new AzureMachineLearningWorkspaces(credential, SUB, {
    endpoint: ARM,
    $host: ARM,
    httpClient,
    retryOptions: { maxRetries: 0 },
  });
  return {
    ws: {
      subscriptionId: SUB,
      resourceGroup: 'rg',
      workspace: 'ws',
      armUrl: ARM,
      tenantId: 't',
    } as AzureMLContext['ws'],
    client,
    credential,
    signal,
  };
}

/** A clock that only moves when slept on (a 10-minute operation runs in milliseconds). */
export function virtualClock(start = 0): Clock & { sleeps: number[] } {
  let t = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep: async (ms, signal) => {
      sleeps.push(ms);
      if (!signal?.aborted) t += ms;
    },
  };
}

export const DEPLOYMENT_BODY = {
  location: 'westeurope',
  sku: { name: 'Default', capacity: 1 },
  properties: {
    endpointComputeType: 'Managed' as const,
    model: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/models/m/versions/1`,
    instanceType: 'Standard_DS3_v2',
  },
};
