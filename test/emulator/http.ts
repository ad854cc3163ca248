// Tiny HTTP(S) framework shared by every Azure-in-a-box module: a case-insensitive router (ARM paths are
// case-insensitive), ARM-shaped errors, fault injection and a request log.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomUUID } from 'node:crypto';

export interface Req {
  method: string;
  url: URL;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  rawBody: Buffer;
  params: Record<string, string>;
  /** set by the host's pre-handler (ARM: the caller's identity from the bearer token) */
  identity?: Identity;
}
export interface Identity {
  appId: string;
  tenantId: string;
  oid: string;
  role: 'contributor' | 'reader' | string;
  claims: Record<string, unknown>;
}
export interface Res {
  status: number;
  headers?: Record<string, string>;
  body?: unknown; /* JSON-serialised unless Buffer/string */
}
export type Handler = (req: Req) => Promise<Res> | Res;
/** Runs before routing; return a Res to answer immediately (e.g. 401), undefined to go on. */
export type PreHandler = (req: Req, matched: boolean) => Promise<Res | undefined> | Res | undefined;

/** Throw from any handler to answer with this response (handy from deep helpers). */
export class HttpError extends Error {
  constructor(public res: Res) {
    super(
      typeof res.body === 'object' && res.body && 'error' in (res.body as any)
        ? String((res.body as any).error?.message)
        : `HTTP ${res.status}`,
    );
  }
}

/** ARM error body: {"error":{"code","message"}} */
export function armError(
  status: number,
  code: string,
  message: string,
  extra?: { details?: unknown[]; headers?: Record<string, string> },
): Res {
  const error: Record<string, unknown> = { code, message };
  if (extra?.details) error.details = extra.details;
  return {
    status,
    headers: { 'x-ms-failure-cause': status >= 500 ? 'service' : 'gateway', ...(extra?.headers ?? {}) },
    body: { error },
  };
}
/** throw armError(...) */
export function fail(status: number, code: string, message: string, extra?: { details?: unknown[] }): never {
  throw new HttpError(armError(status, code, message, extra));
}

interface Route {
  method: string;
  segments: string[];
  wildcard: boolean;
  h: Handler;
  pattern: string;
}

export class Router {
  private routes: Route[] = [];
  private pre: PreHandler[] = [];
  /** fallback when nothing matches */
  notFound: Handler = (req) => armError(404, 'NotFound', `No route for ${req.method} ${req.path}`);

  /** pattern: '/subscriptions/:sub/resourceGroups/:rg/…/models/:name'; case-insensitive; a trailing '/*' matches the rest (params['*']). method '*' = any. */
  add(method: string, pattern: string, h: Handler): void {
    const segs = pattern.split('/').filter(Boolean);
    const wildcard = segs[segs.length - 1] === '*';
    if (wildcard) segs.pop();
    this.routes.push({ method: method.toUpperCase(), segments: segs, wildcard, h, pattern });
  }
  /** add a pre-handler (auth, api-version, body validation …) run for every request on this host */
  use(p: PreHandler): void {
    this.pre.push(p);
  }

  match(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
    const parts = path.split('/').filter(Boolean);
    for (const r of this.routes) {
      if (r.method !== '*' && r.method !== method.toUpperCase()) continue;
      if (r.wildcard ? parts.length < r.segments.length : parts.length !== r.segments.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < r.segments.length; i++) {
        const s = r.segments[i];
        let p: string;
        try {
          p = decodeURIComponent(parts[i]);
        } catch {
          p = parts[i];
        }
        if (s.startsWith(':')) params[s.slice(1)] = p;
        else if (s.toLowerCase() !== p.toLowerCase()) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      if (r.wildcard) params['*'] = parts.slice(r.segments.length).join('/');
      return { route: r, params };
    }
    return undefined;
  }

  async handle(req: Req): Promise<Res> {
    const m = this.match(req.method, req.path);
    try {
      for (const p of this.pre) {
        const r = await p(req, !!m);
        if (r) return r;
      }
      if (!m) return await this.notFound(req);
      req.params = m.params;
      return await m.route.h(req);
    } catch (e) {
      if (e instanceof HttpError) return e.res;
      return armError(500, 'InternalServerError', `Emulator error: ${(e as Error)?.stack ?? e}`);
    }
  }
}

// ---------------------------------------------------------------- faults
export type FaultKind = '429' | '500' | '503' | 'drop';
export interface FaultConfig {
  /** probability (0..1) that a request gets a fault */
  rate?: number;
  kinds?: FaultKind[];
  /** added to every matching request */
  latencyMs?: number;
  pathFilter?: RegExp;
  /** only these hosts ('arm' | 'entra' | 'devops' | 'mlflow' | 'storage' — the proxy in front of Azurite — | 'inference' — the
   *  online endpoints' scoring front door, frontdoor.ts); default all */
  hosts?: string[];
  /** never inject more than this many faults in a row (so a client with N retries is sure to get through when N ≥ this) */
  maxConsecutive?: number;
  /** seed for the fault dice, so a test sees the same faults on every run (default: a random seed) */
  seed?: number;
  /** Retry-After (seconds) on an injected 429; null = none (default 1) */
  retryAfterSeconds?: number | null;
}
/** mulberry32: a small seeded PRNG (fault dice, sweep sampling) */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/** One independent set of fault dice: its own config, seeded stream, streak and counts. */
class FaultLane {
  injected: Record<string, number> = {};
  private streak = 0;
  private readonly random: () => number;
  constructor(readonly cfg: FaultConfig) {
    this.random = cfg.seed === undefined ? Math.random : seededRandom(cfg.seed);
  }
  matches(host: string, path: string): boolean {
    return (
      !(this.cfg.hosts && !this.cfg.hosts.includes(host)) && !(this.cfg.pathFilter && !this.cfg.pathFilter.test(path))
    );
  }
  pick(): FaultKind | undefined {
    const c = this.cfg;
    if (!c.rate || c.rate <= 0) return undefined;
    if (this.random() >= c.rate || (c.maxConsecutive !== undefined && this.streak >= c.maxConsecutive)) {
      this.streak = 0;
      return undefined;
    }
    this.streak++;
    const kinds = c.kinds?.length ? c.kinds : (['429', '500', '503', 'drop'] as FaultKind[]);
    const k = kinds[Math.floor(this.random() * kinds.length)];
    this.injected[k] = (this.injected[k] ?? 0) + 1;
    return k;
  }
}
/** What the dice decided for one request: the fault, and the Retry-After (seconds) an injected 429 carries (null = none). */
export interface FaultPick {
  kind: FaultKind;
  retryAfterSeconds: number | null;
}
/**
 * The box's fault injection. `set(cfg)` replaces everything with one lane; `add(cfg)` adds a lane beside the others
 * (a request is judged by the first lane whose hosts/pathFilter match it), so tests running side by side — e.g. one
 * endpoint each — get their own seeded fault stream and counts.
 */
export class Faults {
  private lanes: FaultLane[] = [];
  /** the counts of lanes replaced by set() or removed since the last reset */
  private retired: Record<string, number> = {};
  /** how many faults were injected since the last reset, by kind, over all lanes (replaced and removed ones included) */
  get injected(): Record<string, number> {
    const out: Record<string, number> = { ...this.retired };
    for (const l of this.lanes) for (const [k, v] of Object.entries(l.injected)) out[k] = (out[k] ?? 0) + v;
    return out;
  }
  private retire(lanes: FaultLane[]): void {
    for (const l of lanes)
      for (const [k, v] of Object.entries(l.injected)) this.retired[k] = (this.retired[k] ?? 0) + v;
  }
  set(cfg: FaultConfig): void {
    this.retire(this.lanes);
    this.lanes = [new FaultLane({ ...cfg })];
  }
  /** add a lane; `remove()` takes it away again, `injected` is its own count */
  add(cfg: FaultConfig): { readonly injected: Record<string, number>; remove(): void } {
    const lane = new FaultLane({ ...cfg });
    this.lanes.push(lane);
    return {
      get injected() {
        return lane.injected;
      },
      remove: () => {
        if (this.lanes.includes(lane)) {
          this.retire([lane]);
          this.lanes = this.lanes.filter((l) => l !== lane);
        }
      },
    };
  }
  reset(): void {
    this.lanes = [];
    this.retired = {};
  }
  /** decide for one request: undefined = no fault */
  pick(host: string, path: string): FaultPick | undefined {
    const lane = this.lanes.find((l) => l.matches(host, path));
    const kind = lane?.pick();
    return (
      kind && {
        kind,
        retryAfterSeconds: lane!.cfg.retryAfterSeconds === null ? null : (lane!.cfg.retryAfterSeconds ?? 1),
      }
    );
  }
  latency(host: string, path: string): number {
    return this.lanes.find((l) => l.matches(host, path))?.cfg.latencyMs ?? 0;
  }
}

export interface RequestLogEntry {
  method: string;
  url: string;
  status: number;
  host: string;
  time: string;
  /** the client's port (which connection it came on: tests tell requests through a proxy from direct ones) */
  remotePort?: number;
}

export interface ServerOptions {
  name: string;
  cert: string;
  key: string;
  faults: Faults;
  log: RequestLogEntry[];
  /** name used in the log for a request (e.g. 'mlflow' for /mlflow/ paths on the ARM host) */
  hostOf?: (path: string) => string;
  /**
   * Read a request path that starts with several slashes as if it had one (the ARM host). SOURCE: Microsoft's server
   * task Tasks/AzureMonitorV1/task.json (microsoft/azure-pipelines-tasks @ 3cd663197f84551e316564ea38aa1fa836f07f9f)
   * calls `$(endpoint.url)/subscriptions/…`, and an AzureRM connection's URL ends with `/`, so ARM is sent
   * `//subscriptions/…` by a shipped first-party task. ASSUMPTION: ARM normalises it (inferred from that task working).
   */
  collapseLeadingSlashes?: boolean;
}

export interface RunningServer {
  server: https.Server;
  port: number;
  url: string /* https://127.0.0.1:<port>/ */;
  close(): Promise<void>;
}

function send(res: ServerResponse, r: Res): number {
  const headers: Record<string, string> = { 'x-ms-request-id': randomUUID(), ...(r.headers ?? {}) };
  let payload: Buffer | undefined;
  if (r.body === undefined || r.body === null) payload = undefined;
  else if (Buffer.isBuffer(r.body)) payload = r.body;
  else if (typeof r.body === 'string') {
    payload = Buffer.from(r.body);
    headers['content-type'] ??= 'text/plain; charset=utf-8';
  } else {
    payload = Buffer.from(JSON.stringify(r.body));
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  if (payload) headers['content-length'] = String(payload.length);
  else if (r.status !== 204 && r.status !== 304) headers['content-length'] = '0';
  res.writeHead(r.status, headers);
  res.end(payload);
  return r.status;
}

/** Parse a request body: JSON (by content-type or by sniffing), form-urlencoded, else raw. */
export function parseBody(raw: Buffer, contentType: string | undefined): any {
  if (!raw.length) return undefined;
  const ct = (contentType ?? '').toLowerCase();
  const text = raw.toString('utf8');
  if (ct.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  if (ct.includes('json') || /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return new InvalidJson(text);
    }
  }
  return text;
}
/** marker for a body that claimed to be JSON but did not parse */
export class InvalidJson {
  constructor(public text: string) {}
}

export async function startServer(router: Router, o: ServerOptions): Promise<RunningServer> {
  const sockets = new Set<Socket>();
  const server = https.createServer({ cert: o.cert, key: o.key }, (req: IncomingMessage, res: ServerResponse) => {
    handleOne(req, res).catch((e) => {
      // a client that went away mid-request (aborted upload, cancelled task) must not take the emulator down
      try {
        if (!res.headersSent && !res.destroyed)
          send(res, armError(500, 'InternalServerError', `Emulator error: ${(e as Error)?.message ?? e}`));
        else res.destroy();
      } catch {
        /* gone */
      }
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => {
    /* clients that distrust the cert: not our problem */
  });

  async function handleOne(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks);
    // an origin-form request target is a path even when it starts with '//' (RFC 9112 §3.2.1), not a network-path reference
    const target = (req.url ?? '/').replace(/^\/{2,}/, o.collapseLeadingSlashes ? '/' : '/%2F');
    const url = new URL(target, `https://${req.headers.host ?? '127.0.0.1'}`);
    const host = o.hostOf ? o.hostOf(url.pathname) : o.name;
    const entry: RequestLogEntry = {
      method: req.method ?? 'GET',
      url: url.pathname + url.search,
      status: 0,
      host,
      time: new Date().toISOString(),
      remotePort: req.socket.remotePort,
    };
    o.log.push(entry);
    const delay = o.faults.latency(host, url.pathname);
    if (delay) await new Promise((r) => setTimeout(r, delay));
    const fault = o.faults.pick(host, url.pathname);
    if (fault?.kind === 'drop') {
      entry.status = 0;
      req.socket.destroy();
      return;
    }
    if (fault) {
      const st = Number(fault.kind);
      const r =
        st === 429
          ? armError(429, 'TooManyRequests', 'Injected fault: too many requests, retry later.', {
              headers: fault.retryAfterSeconds === null ? {} : { 'Retry-After': String(fault.retryAfterSeconds) },
            })
          : armError(st, st === 503 ? 'ServiceUnavailable' : 'InternalServerError', `Injected fault: HTTP ${st}.`);
      entry.status = send(res, r);
      return;
    }
    const r: Req = {
      method: (req.method ?? 'GET').toUpperCase(),
      url,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      rawBody,
      body: parseBody(rawBody, req.headers['content-type']),
      params: {},
    };
    const out = await router.handle(r);
    if (res.destroyed) return;
    entry.status = send(res, out);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `https://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/** header value as a single string */
export function header(req: Req, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
