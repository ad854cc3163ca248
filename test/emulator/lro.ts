// Long-running operations the ARM way: `Azure-AsyncOperation` (status resource) + `Location` (result) headers.
// Status: GET {armUrl}subscriptions/{sub}/providers/Microsoft.MachineLearningServices/locations/{loc}/mfeOperationsStatus/{id}
// Result: GET {armUrl}subscriptions/{sub}/providers/Microsoft.MachineLearningServices/locations/{loc}/mfeOperationResults/{id}
//
// What the service does, from Microsoft's SDK recordings (test/fixtures/third-party/azure-sdk-assets/, see README there):
//  - a long-running PUT (online endpoint / deployment) answers 201/200 with `Azure-AsyncOperation` (mfeOperationsStatus),
//    `Location` = the resource's own URL, and `x-ms-async-operation-timeout: PT30M`; a DELETE answers 202 with
//    `Azure-AsyncOperation`, `Location` = mfeOperationResults and the same timeout. No answer carries `Retry-After`,
//    neither the PUT/DELETE nor the status reads (online_services test_online_deployment_create.json, 2025-02, and
//    test_online_deployment.json, 2022-10).
//  - the status resource reads `"status": "Updating"` while the operation runs, `"percentComplete": 0.0` (also once
//    Succeeded) and, in 2025, `"endTime": "0001-01-01T00:00:00+00:00"` until it ends (the 2022 recording has no endTime).
//    ASSUMPTION (no recording): the same running status for DELETE / POST operations and job cancel.
import { randomUUID } from 'node:crypto';
import type { Store } from './store';
import { HttpError, armError, type Req, type Res, type Router } from './http';
import { selfUrl } from './armkit';

export type LroState = 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';
export interface LroRecord {
  id: string;
  name: string;
  status: LroState;
  startTime: string;
  endTime?: string;
  percentComplete?: number;
  error?: { code: string; message: string };
  /** what the status resource says while the operation runs (the service: 'Updating') */
  runningStatus?: string;
  /** body answered by the Location (result) URL once Succeeded; undefined → 204 */
  result?: unknown;
  /** earliest time (ms) the operation may report a terminal state */
  readyAt: number;
  /** set when the work finished (terminal state pending readyAt) */
  pending?: { status: LroState; error?: { code: string; message: string }; result?: unknown };
}

export interface LroBeginOptions {
  /** the work; runs right away. Its return value becomes the result body; a thrown HttpError/Error → Failed. */
  work?: () => unknown | Promise<unknown>;
  /** minimum time before a terminal state is reported; default: 0 in fastLro mode, else 1500 ms */
  durationMs?: number;
  /** manual operations stay InProgress until complete(id, …) is called (e.g. jobs driven by a runner) */
  manual?: boolean;
  /** `Location` header: the resource URL (PUT, as the service answers a create/update) instead of mfeOperationResults */
  location?: 'resource' | 'result';
}

/** the service's `x-ms-async-operation-timeout` on every long-running answer (recordings above) */
export const ASYNC_OPERATION_TIMEOUT = 'PT30M';
/** endTime of a running operation in the 2025 recordings (.NET DateTimeOffset.MinValue) */
const NOT_ENDED = '0001-01-01T00:00:00+00:00';

export class Lro {
  private kind = 'operations';
  constructor(
    private store: Store,
    private armUrl: string,
    public fast: boolean,
    public location: string,
  ) {}

  private urls(req: Req, id: string): { status: string; result: string } {
    const sub = /\/subscriptions\/([^/]+)/i.exec(req.path)?.[1] ?? '00000000-0000-0000-0000-000000000000';
    const v = encodeURIComponent(req.query.get('api-version') ?? '2022-10-01');
    const base = `${this.armUrl}subscriptions/${sub}/providers/Microsoft.MachineLearningServices/locations/${this.location}`;
    return {
      status: `${base}/mfeOperationsStatus/${id}?api-version=${v}`,
      result: `${base}/mfeOperationResults/${id}?api-version=${v}`,
    };
  }

  /** headers every async answer carries (no Retry-After: the service sends none) */
  private headers(req: Req, id: string, location: 'resource' | 'result'): Record<string, string> {
    const u = this.urls(req, id);
    return {
      'Azure-AsyncOperation': u.status,
      Location: location === 'resource' ? selfUrl(this.armUrl, req) : u.result,
      'x-ms-async-operation-timeout': ASYNC_OPERATION_TIMEOUT,
    };
  }

  /** Start an operation; returns its id and the headers (Azure-AsyncOperation, Location, x-ms-async-operation-timeout). */
  begin(req: Req, opts: LroBeginOptions = {}): { id: string; headers: Record<string, string> } {
    const id = randomUUID();
    const duration = opts.durationMs ?? (this.fast ? 0 : 1500);
    const rec: LroRecord = {
      id,
      name: id,
      status: 'InProgress',
      runningStatus: 'Updating',
      startTime: new Date().toISOString(),
      readyAt: Date.now() + duration,
    };
    this.store.put(this.kind, id, rec);
    if (!opts.manual) {
      void (async () => {
        try {
          const result = opts.work ? await opts.work() : undefined;
          this.finish(id, 'Succeeded', undefined, result);
        } catch (e) {
          const err =
            e instanceof HttpError
              ? ((e.res.body as any)?.error ?? { code: 'InternalServerError', message: e.message })
              : { code: 'InternalServerError', message: String((e as Error)?.message ?? e) };
          this.finish(id, 'Failed', { code: String(err.code), message: String(err.message) });
        }
      })();
    }
    return { id, headers: this.headers(req, id, opts.location ?? (req.method === 'PUT' ? 'resource' : 'result')) };
  }

  /** 202 Accepted with the LRO headers (typical answer for POST/DELETE) */
  accepted(req: Req, opts: LroBeginOptions = {}): Res {
    const { headers } = this.begin(req, opts);
    return { status: 202, headers };
  }

  /** status/body answer (typical PUT: 201 + resource body + Azure-AsyncOperation) */
  respond(req: Req, status: number, body: unknown, opts: LroBeginOptions = {}): Res {
    const { headers } = this.begin(req, opts);
    return { status, headers, body };
  }

  /** finish a (manual) operation */
  complete(
    id: string,
    status: Exclude<LroState, 'InProgress'>,
    error?: { code: string; message: string },
    result?: unknown,
  ): void {
    this.finish(id, status, error, result);
  }

  private finish(id: string, status: LroState, error?: { code: string; message: string }, result?: unknown): void {
    const rec = this.store.get<LroRecord>(this.kind, id);
    if (!rec || rec.status !== 'InProgress') return;
    rec.pending = { status, error, result };
    this.store.put(this.kind, id, rec);
  }

  /** current record (resolving a pending terminal state once its time has come) */
  get(id: string): LroRecord | undefined {
    const rec = this.store.get<LroRecord>(this.kind, id);
    if (!rec) return undefined;
    if (rec.status === 'InProgress' && rec.pending && Date.now() >= rec.readyAt) {
      rec.status = rec.pending.status;
      rec.error = rec.pending.error;
      rec.result = rec.pending.result;
      rec.endTime = new Date().toISOString();
      delete rec.pending;
      this.store.put(this.kind, id, rec);
    }
    return rec;
  }

  /** the two polling routes; registered by index.ts on the ARM router */
  register(router: Router): void {
    const base = '/subscriptions/:sub/providers/Microsoft.MachineLearningServices/locations/:loc';
    router.add('GET', `${base}/mfeOperationsStatus/:id`, (req) => {
      const rec = this.get(req.params.id);
      if (!rec) return armError(404, 'ResourceNotFound', `Operation '${req.params.id}' was not found.`);
      // the recorded shape: status 'Updating' while running, endTime DateTimeOffset.MinValue until it ends, percentComplete 0.0
      const running = rec.status === 'InProgress';
      const body: Record<string, unknown> = {
        id: `${req.path}`,
        name: rec.name,
        status: running ? (rec.runningStatus ?? 'Updating') : rec.status,
        startTime: rec.startTime,
        endTime: rec.endTime ?? NOT_ENDED,
        percentComplete: rec.percentComplete ?? 0,
      };
      if (rec.error) body.error = rec.error;
      return { status: 200, body };
    });
    router.add('GET', `${base}/mfeOperationResults/:id`, (req) => {
      const rec = this.get(req.params.id);
      if (!rec) return armError(404, 'ResourceNotFound', `Operation '${req.params.id}' was not found.`);
      if (rec.status === 'InProgress') return { status: 202, headers: { Location: this.urls(req, rec.id).result } };
      if (rec.status === 'Failed' || rec.status === 'Canceled')
        return armError(400, rec.error?.code ?? 'OperationFailed', rec.error?.message ?? `Operation ${rec.status}.`);
      return rec.result === undefined ? { status: 204 } : { status: 200, body: rec.result };
    });
  }
}
