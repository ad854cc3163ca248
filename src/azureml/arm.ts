// Raw ARM REST through the SDK client's own pipeline (auth, retries with Retry-After, user agent),
// for operations or fields the 2.1.1 SDK does not model.
import { createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import type { AzureMLContext } from './context';
import { armFailure, mapAzureError, parseArmError } from './errors';

export const API_VERSION = '2022-10-01';

export function armUrlFor(ctx: AzureMLContext, pathAndQuery: string, apiVersion = API_VERSION): string {
  const abs = /^https?:\/\//i.test(pathAndQuery);
  const url = new URL(
    abs ? pathAndQuery : ctx.ws.armUrl.replace(/\/+$/, '') + (pathAndQuery.startsWith('/') ? '' : '/') + pathAndQuery,
  );
  if (!url.searchParams.has('api-version')) url.searchParams.set('api-version', apiVersion);
  return url.toString();
}

export interface ArmResponse<T> {
  status: number;
  body: T;
  headers: Record<string, string>;
}

/** Send a request; returns status/body/headers without judging the status. */
export async function armSend<T = unknown>(
  ctx: AzureMLContext,
  method: string,
  pathAndQuery: string,
  body?: unknown,
  opts: { apiVersion?: string; headers?: Record<string, string> } = {},
): Promise<ArmResponse<T>> {
  const url = armUrlFor(ctx, pathAndQuery, opts.apiVersion);
  const headers = createHttpHeaders({ accept: 'application/json', ...(opts.headers ?? {}) });
  if (body !== undefined) headers.set('content-type', 'application/json; charset=utf-8');
  const request = createPipelineRequest({
    url,
    method: method.toUpperCase() as any,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers,
    abortSignal: ctx.signal,
  });
  let res;
  try {
    res = await ctx.client.sendRequest(request);
  } catch (err) {
    throw mapAzureError(err, `${method.toUpperCase()} ${new URL(url).pathname}`);
  }
  let parsed: any = undefined;
  const text = res.bodyAsText;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: res.status, body: parsed as T, headers: res.headers.toJSON() };
}

/** Raw REST call; non-2xx → UserError("<code>: <message>") phrased like SDK failures (errors.ts). */
export async function armRequest<T>(
  ctx: AzureMLContext,
  method: string,
  pathAndQuery: string,
  body?: unknown,
  opts: { apiVersion?: string; headers?: Record<string, string>; what?: string } = {},
): Promise<T> {
  const res = await armSend<T>(ctx, method, pathAndQuery, body, opts);
  if (res.status >= 200 && res.status < 300) return res.body;
  const { code, message } = parseArmError(res.body);
  throw armFailure(res.status, code, message, opts.what);
}

/** GET that answers undefined on 404 instead of failing. */
export async function armGetOptional<T>(
  ctx: AzureMLContext,
  pathAndQuery: string,
  opts: { apiVersion?: string; what?: string } = {},
): Promise<T | undefined> {
  const res = await armSend<T>(ctx, 'GET', pathAndQuery, undefined, opts);
  if (res.status === 404) return undefined;
  if (res.status >= 200 && res.status < 300) return res.body;
  const { code, message } = parseArmError(res.body);
  throw armFailure(res.status, code, message, opts.what);
}

/** Follow ARM paging (`value` + absolute `nextLink`) and collect every item. */
export async function listAll<T>(
  ctx: AzureMLContext,
  pathAndQuery: string,
  opts: { apiVersion?: string; what?: string; max?: number } = {},
): Promise<T[]> {
  const out: T[] = [];
  let next: string | undefined = pathAndQuery;
  const seen = new Set<string>();
  while (next) {
    if (seen.has(next)) break; // a service returning the same nextLink would loop forever
    seen.add(next);
    const page: { value?: T[]; nextLink?: string | null } = await armRequest(ctx, 'GET', next, undefined, opts);
    out.push(...(page?.value ?? []));
    if (opts.max !== undefined && out.length >= opts.max) return out.slice(0, opts.max);
    next = page?.nextLink || undefined;
  }
  return out;
}
