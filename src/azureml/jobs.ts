// Azure ML jobs over raw ARM REST at api-version 2024-04-01 (the SDK speaks 2022-10-01, which has no serverless compute,
// queue settings, Spark jobs or Direct outputs; its serializer also drops job inputs' uri/mode:
// Azure/azure-sdk-for-js#29328): create, get, cancel; the run-history error of a failed job; incremental reads of the
// job's log blob.
import type { ContainerClient } from '@azure/storage-blob';
import type { AzureMLContext } from './context';
import { armGetOptional, armRequest, armSend } from './arm';
import { armFailure, parseArmError } from './errors';
import { getContainerClient, getDatastoreInfo } from './storage';
import { wsPath } from './workspace';
import { authorizedRequest, serviceBaseUrl } from './mlflow';
import { UserError } from '../errors';
import { PollSchedule, parseRetryAfter, type PollScheduleOptions } from './poll';
import { ASSET_NAME_PATTERN } from './models';

export { parseRetryAfter } from './poll';

/** Job names follow the service's one name rule for assets and jobs (mfe.json path parameter `name`). */
export const JOB_NAME_PATTERN = ASSET_NAME_PATTERN;
export const TERMINAL_STATUSES = new Set(['Completed', 'Failed', 'Canceled', 'NotResponding', 'Paused']);
/** statuses in which the job's processes run (its log may grow) */
export const RUNNING_STATUSES = new Set([
  'Running',
  'Finalizing',
  'CancelRequested',
  'Completed',
  'Failed',
  'Canceled',
]);
export const ARTIFACT_STORE = 'workspaceartifactstore';
/**
 * The api-version jobs are created, read and cancelled at: the newest stable one the repository holds the spec of
 * (test/fixtures/third-party/azure-rest-api-specs/2024-04-01/mfe.json): JobBase.queueSettings, notificationSetting,
 * SparkJob, AutoMLJob (every task type), OutputDeliveryMode Direct, serverless (a job without computeId, `resources`
 * with instanceType/instanceCount).
 */
export const JOBS_API_VERSION = '2024-04-01';

export interface JobResource {
  id: string;
  name: string;
  properties: Record<string, any> & {
    status?: string;
    jobType?: string;
    services?: Record<string, { endpoint?: string | null }>;
  };
  systemData?: Record<string, any>;
}

export const jobPath = (ctx: AzureMLContext, name: string) => wsPath(ctx.ws, `/jobs/${encodeURIComponent(name)}`);

/** GET a job; undefined when it does not exist. `headers` carries Retry-After when the service sends one. */
export async function getJob(ctx: AzureMLContext, name: string): Promise<JobResource | undefined> {
  return armGetOptional<JobResource>(ctx, jobPath(ctx, name), { what: `job '${name}'`, apiVersion: JOBS_API_VERSION });
}

/** GET a job with the response headers (for Retry-After on polls). */
export async function readJob(
  ctx: AzureMLContext,
  name: string,
): Promise<{ job?: JobResource; retryAfterMs?: number }> {
  const res = await armSend<JobResource>(ctx, 'GET', jobPath(ctx, name), undefined, { apiVersion: JOBS_API_VERSION });
  const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
  if (res.status === 404) return { retryAfterMs };
  if (res.status >= 200 && res.status < 300) return { job: res.body, retryAfterMs };
  const { code, message } = parseArmError(res.body);
  throw armFailure(res.status, code, message, `job '${name}'`);
}

/** Create the job (Jobs_CreateOrUpdate with a body built by jobSpec.buildJobBody). */
export async function createJob(
  ctx: AzureMLContext,
  name: string,
  body: { properties: Record<string, unknown> },
): Promise<JobResource> {
  return armRequest<JobResource>(ctx, 'PUT', jobPath(ctx, name), body, {
    what: `job '${name}'`,
    apiVersion: JOBS_API_VERSION,
  });
}

/** Status reads while following a cancellation (bounded by its short wait). */
export const CANCEL_POLL: PollScheduleOptions = { initialMs: 250, factor: 1.5, maxMs: 2000 };

/**
 * Request cancellation (POST …/cancel, a long-running operation) at once and follow it for at most `waitMs`; every
 * request, the POST included, ends within `waitMs` + 2 s (on pipeline cancel the agent kills the task seconds later).
 * Uses its own signal: call it after the task's signal was aborted. `confirmed` = a terminal status was seen.
 */
export async function cancelJob(
  ctx: AzureMLContext,
  name: string,
  waitMs = 20_000,
): Promise<{ status?: string; confirmed: boolean }> {
  const started = Date.now();
  const cctx: AzureMLContext = { ...ctx, signal: AbortSignal.timeout(waitMs + 2_000) };
  const res = await armSend(cctx, 'POST', `${jobPath(cctx, name)}/cancel`, undefined, { apiVersion: JOBS_API_VERSION });
  if (res.status >= 300) {
    const { code, message } = parseArmError(res.body);
    throw armFailure(res.status, code, message, `cancelling job '${name}'`);
  }
  const deadline = started + waitMs;
  const location = res.headers['location'] ?? res.headers['azure-asyncoperation'];
  let status: string | undefined;
  // the shared schedule, shortened: the agent kills a cancelled task seconds later (0.25 s ×1.5 → 2 s)
  const sched = new PollSchedule(CANCEL_POLL);
  try {
    for (;;) {
      const { job, retryAfterMs } = await readJob(cctx, name);
      status = job?.properties.status;
      if (!job || (status && TERMINAL_STATUSES.has(status))) return { status, confirmed: true };
      if (location) {
        const op = await armSend<{ status?: string }>(cctx, 'GET', location);
        if (
          op.status === 200 &&
          /^(Succeeded|Failed|Canceled)$/i.test(String(op.body?.status ?? 'Succeeded')) &&
          op.body?.status !== undefined
        ) {
          const again = await readJob(cctx, name);
          return { status: again.job?.properties.status, confirmed: true };
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) break;
      await new Promise((r) => setTimeout(r, Math.min(sched.nextAfter(retryAfterMs), left)));
    }
  } catch (err) {
    if (!cctx.signal?.aborted) throw err; // out of time: report what was last seen
  }
  return { status, confirmed: false };
}

// ---------------------------------------------------------------------------------------------- run history

/** https base of the workspace's region services (run history, MLflow) from the job's Tracking endpoint. */
export function jobServicesBase(job: JobResource, fallbackTrackingUri?: string): string | undefined {
  const t = job.properties.services?.Tracking?.endpoint ?? fallbackTrackingUri;
  return t ? serviceBaseUrl(t) : undefined;
}

export interface RunDetails {
  status?: string;
  error?: { code?: string; message?: string };
  startTimeUtc?: string;
  endTimeUtc?: string;
  properties?: Record<string, string>;
}

/** Run-history details of a job (the 2022-10-01 job GET carries no error text). */
export async function getRunDetails(
  ctx: AzureMLContext,
  job: JobResource,
  fallbackTrackingUri?: string,
): Promise<RunDetails | undefined> {
  const base = jobServicesBase(job, fallbackTrackingUri);
  if (!base) return undefined;
  const url = `${base}/history/v1.0${wsPath(ctx.ws)}/runs/${encodeURIComponent(job.name)}/details`;
  const res = await authorizedRequest<any>(ctx, 'GET', url);
  if (res.status !== 200 || !res.body || typeof res.body !== 'object') return undefined;
  const b = res.body;
  return {
    status: b.status,
    error: b.error?.error ?? b.error ?? undefined,
    startTimeUtc: b.startTimeUtc ?? undefined,
    endTimeUtc: b.endTimeUtc ?? undefined,
    properties: b.properties ?? undefined,
  };
}

// ---------------------------------------------------------------------------------------------- logs

export const logBlobPath = (jobName: string) => `ExperimentRun/dcid.${jobName}/user_logs/std_log.txt`;

/** Reads a job's std_log.txt incrementally (only the bytes after what was already read). */
export class JobLogReader {
  offset = 0;
  reads = 0;
  private container?: ContainerClient;
  private partial = '';
  constructor(
    private readonly ctx: AzureMLContext,
    readonly jobName: string,
    private readonly blobPath = logBlobPath(jobName),
  ) {}

  private async client(): Promise<ContainerClient> {
    if (!this.container)
      this.container = await getContainerClient(this.ctx, await getDatastoreInfo(this.ctx, ARTIFACT_STORE));
    return this.container;
  }

  /** New complete lines since the last call (a trailing partial line is kept for later unless `flush`). */
  async readNew(flush = false): Promise<string[]> {
    const bytes = await this.readBytes();
    let text = this.partial + bytes.toString('utf8');
    this.partial = '';
    if (!flush) {
      const nl = text.lastIndexOf('\n');
      this.partial = text.slice(nl + 1);
      text = text.slice(0, nl + 1);
    }
    if (!text) return [];
    return text.replace(/\r/g, '').replace(/\n$/, '').split('\n');
  }

  /** The last `n` lines of the log (reads at most the last 64 KiB; does not move the streaming offset). */
  async tail(n = 30): Promise<string[]> {
    const blob = (await this.client()).getBlobClient(this.blobPath);
    this.reads++;
    try {
      const size = (await blob.getProperties({ abortSignal: this.ctx.signal })).contentLength ?? 0;
      if (!size) return [];
      const start = Math.max(0, size - 64 * 1024);
      const buf = await blob.downloadToBuffer(start, size - start, { abortSignal: this.ctx.signal });
      const lines = buf.toString('utf8').replace(/\r/g, '').replace(/\n$/, '').split('\n');
      if (start > 0) lines.shift(); // partial first line
      return lines.slice(-n);
    } catch (err: any) {
      if (err?.statusCode === 404) return [];
      throw err;
    }
  }

  private async readBytes(): Promise<Buffer> {
    const blob = (await this.client()).getBlobClient(this.blobPath);
    this.reads++;
    try {
      const res = await blob.download(this.offset, undefined, { abortSignal: this.ctx.signal });
      const chunks: Buffer[] = [];
      for await (const c of res.readableStreamBody!) chunks.push(c as Buffer);
      const buf = Buffer.concat(chunks);
      this.offset += buf.length;
      return buf;
    } catch (err: any) {
      // 416: nothing after offset yet; 404: the job has not written a log yet
      if (err?.statusCode === 416 || err?.statusCode === 404) return Buffer.alloc(0);
      if (err?.name === 'AbortError') throw err;
      throw new UserError(
        `Could not read the job's log (${this.blobPath}): ${err?.code ?? err?.statusCode ?? ''} ${String(err?.message ?? err).split('\n')[0]}`,
      );
    }
  }
}
