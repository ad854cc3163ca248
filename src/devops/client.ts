// Azure DevOps REST through azure-devops-node-api with the job's access token (System.AccessToken).
// The collection URI comes from System.TeamFoundationCollectionUri; the Release area's own host (vsrm.dev.azure.com
// on the service) is found by the library's resource-area lookup, never derived here.
import * as azdev from 'azure-devops-node-api';
import type { IReleaseApi } from 'azure-devops-node-api/ReleaseApi';
import type { IPipelinesApi } from 'azure-devops-node-api/PipelinesApi';
import type { IBuildApi } from 'azure-devops-node-api/BuildApi';
import { UserError, type PipelineContext } from '../pipeline';
import { devopsProxyOptions } from '../auth/proxy';

export interface DevOpsConnection {
  collectionUri: string;
  /** project id (or name) used in URLs */
  project: string;
  /** project name, for messages */
  projectName: string;
  release(): Promise<IReleaseApi>;
  pipelines(): Promise<IPipelinesApi>;
  /** Build area (run tags, tag-filtered build lists); optional so narrow fakes need not provide it */
  build?(): Promise<IBuildApi>;
  signal?: AbortSignal;
}

/** WebApi for the job's collection; UserError naming the missing agent variable when absent. */
export function createDevOpsConnection(ctx: PipelineContext, signal?: AbortSignal): DevOpsConnection {
  if (!ctx.collectionUri)
    throw new UserError('System.TeamFoundationCollectionUri is not set: this task must run in an Azure Pipelines job');
  const project = ctx.teamProjectId ?? ctx.teamProject;
  if (!project) throw new UserError('System.TeamProject is not set: this task must run in an Azure Pipelines job');
  if (!ctx.accessToken) {
    throw new UserError(
      'The job access token (System.AccessToken) is not available to the task: in a classic pipeline enable "Allow scripts to access the OAuth token" on the agent job; in YAML it is given to tasks by default (do not set it to an empty value)',
    );
  }
  // socketTimeout: one hung request must not hold the job; retries are ours (withRetry), as the library retries only 502/503/504 reads
  // proxy: the agent's (typed-rest-client applies its bypass regexes per request)
  const web = new azdev.WebApi(ctx.collectionUri, azdev.getBearerHandler(ctx.accessToken), {
    socketTimeout: 60_000,
    allowRetries: false,
    proxy: devopsProxyOptions(ctx.proxy),
  });
  let rel: Promise<IReleaseApi> | undefined;
  let pip: Promise<IPipelinesApi> | undefined;
  let bld: Promise<IBuildApi> | undefined;
  return {
    collectionUri: ctx.collectionUri,
    project,
    projectName: ctx.teamProject ?? project,
    signal,
    release: () =>
      (rel ??= withRetry('Azure DevOps resource areas', () => web.getReleaseApi(), { signal }).catch((e) => {
        rel = undefined;
        throw e;
      })),
    pipelines: () =>
      (pip ??= withRetry('Azure DevOps resource areas', () => web.getPipelinesApi(), { signal }).catch((e) => {
        pip = undefined;
        throw e;
      })),
    build: () =>
      (bld ??= withRetry('Azure DevOps resource areas', () => web.getBuildApi(), { signal }).catch((e) => {
        bld = undefined;
        throw e;
      })),
  };
}

/** status code of an azure-devops-node-api / typed-rest-client error */
export function devopsStatus(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown })?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** the service's message (`{ message }` body) or the error text */
export function devopsMessage(err: unknown): string {
  const r = (err as { result?: { message?: unknown } })?.result;
  const m = typeof r?.message === 'string' ? r.message : ((err as Error)?.message ?? String(err));
  return m.replace(/\s+/g, ' ').trim();
}

const TRANSIENT = new Set([408, 429, 500, 502, 503, 504]);
const NETWORK = /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|socket hang up|EAI_AGAIN|network|timeout/i;

export function isTransient(err: unknown): boolean {
  const s = devopsStatus(err);
  if (s !== undefined) return TRANSIENT.has(s);
  const code = (err as { code?: string })?.code ?? '';
  return NETWORK.test(code) || NETWORK.test((err as Error)?.message ?? '');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
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
}

/**
 * Run a call, retrying transient failures (429, 5xx, dropped connections) with backoff.
 * `beforeRetry` (for non-idempotent writes) may look whether the first attempt took effect and return its result.
 */
export async function withRetry<T>(
  _what: string,
  fn: () => Promise<T>,
  opts: {
    signal?: AbortSignal;
    attempts?: number;
    baseMs?: number;
    beforeRetry?: () => Promise<T | undefined>;
  } = {},
): Promise<T> {
  const attempts = opts.attempts ?? 5;
  for (let i = 1; ; i++) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    try {
      const p = fn();
      if (!opts.signal) return await p;
      return await Promise.race([
        p,
        new Promise<never>((_, rej) => {
          if (opts.signal!.aborted) rej(opts.signal!.reason);
          opts.signal!.addEventListener('abort', () => rej(opts.signal!.reason), { once: true });
        }),
      ]);
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (!isTransient(err) || i >= attempts) throw err;
      await sleep(Math.min(8000, (opts.baseMs ?? 500) * 2 ** (i - 1)), opts.signal);
      if (opts.beforeRetry) {
        const done = await opts.beforeRetry();
        if (done !== undefined) return done;
      }
    }
  }
}

/**
 * Map an Azure DevOps failure to a one-line UserError. 401/403 say which permission to grant to whom
 * (`grant`, e.g. "Create releases on release pipeline 'model-cd'").
 */
export function devopsError(err: unknown, what: string, grant?: string, project?: string): unknown {
  if (err instanceof UserError) return err;
  const s = devopsStatus(err);
  const msg = devopsMessage(err);
  const who = `the '${project ?? '<project>'} Build Service' identity (or 'Project Collection Build Service' when the job authorization scope is the collection)`;
  if (s === 401) {
    return new UserError(
      `Azure DevOps refused the job access token while trying to ${what} (401: ${msg}). The token may have expired or the job may not pass System.AccessToken to the task.`,
    );
  }
  if (s === 403) {
    return new UserError(
      `Permission missing to ${what}: grant '${grant ?? 'the needed permission'}' to ${who}. Azure DevOps said: ${msg}`.replace(
        "grant ''",
        'grant',
      ),
    );
  }
  if (s !== undefined) return new UserError(`Azure DevOps could not ${what} (HTTP ${s}): ${msg}`);
  if (isTransient(err)) return new UserError(`Azure DevOps could not be reached to ${what}: ${msg}`);
  return err;
}

/** withRetry + devopsError */
export async function devopsCall<T>(
  conn: Pick<DevOpsConnection, 'signal' | 'projectName'>,
  what: string,
  fn: () => Promise<T>,
  o: { grant?: string; beforeRetry?: () => Promise<T | undefined> } = {},
): Promise<T> {
  try {
    return await withRetry(what, fn, { signal: conn.signal, beforeRetry: o.beforeRetry });
  } catch (err) {
    if (conn.signal?.aborted) throw err;
    throw devopsError(err, what, o.grant, conn.projectName);
  }
}
