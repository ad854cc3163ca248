// Fault-injecting HTTP proxy in front of Azurite's blob port (loopback). Azurite is a separate process, so the
// emulator's fault dice (http.ts Faults) cannot reach it directly; clients are handed this proxy instead (the
// datastore's `endpoint` and the SAS URLs the emulator gives out), and every request they send is forwarded to
// Azurite unchanged (Host header included: Azurite takes the account from `devstoreaccount1.blob.localhost`, and
// Shared Key / SAS signatures do not cover host or port) — unless the dice say otherwise.
//
// Faults use the same box.faults config as the other hosts, under the host name 'storage' (rate, kinds, pathFilter,
// maxConsecutive, latencyMs, seed):
//   '500'  → 500 InternalError, '503' → 503 ServerBusy, '429' → 503 ServerBusy too (Azure Storage throttles with 503
//   ServerBusy, never 429), each with the service's XML error body (<Error><Code/><Message/></Error>, no body for HEAD)
//   and x-ms-error-code / x-ms-request-id headers; the request body is read first, as the service does;
//   'drop' → the connection is destroyed as soon as the request head arrives (the client sees a reset / socket hang up).
// Requests are logged (host 'storage') in their own list, apart from box.requests, so tests that count ARM requests
// are not disturbed by blob traffic.
import http from 'node:http';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import type { Faults, RequestLogEntry } from './http';

export const STORAGE_HOST = 'storage';

export interface RunningStorageProxy {
  port: number;
  close(): Promise<void>;
}

const ERRORS: Record<number, { code: string; message: string }> = {
  500: { code: 'InternalError', message: 'Server encountered an internal error. Please try again after some time.' },
  503: {
    code: 'ServerBusy',
    message: 'The server is currently unable to receive requests. Please retry your request.',
  },
};

/** An Azure Storage error response: XML body, x-ms-error-code, x-ms-request-id (what the storage SDK parses). */
export function storageErrorResponse(
  status: 500 | 503,
  method: string,
  version: string | undefined,
): { status: number; headers: Record<string, string>; body: Buffer } {
  const e = ERRORS[status]!;
  const requestId = randomUUID();
  const xml = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${e.code}</Code><Message>${e.message}\nRequestId:${requestId}\nTime:${new Date().toISOString()}</Message></Error>`;
  const body = method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(xml, 'utf8');
  const headers: Record<string, string> = {
    'content-type': 'application/xml',
    'x-ms-error-code': e.code,
    'x-ms-request-id': requestId,
    date: new Date().toUTCString(),
    'content-length': String(body.length),
  };
  if (version) headers['x-ms-version'] = version;
  return { status, headers, body };
}

export async function startStorageProxy(
  upstreamPort: number,
  faults: Faults,
  log: RequestLogEntry[],
): Promise<RunningStorageProxy> {
  // A fresh upstream connection per request: with keep-alive, a request sent on a socket Azurite was just closing as
  // idle failed with ECONNRESET and reached the client as a 502 the real storage front end would not send (seen twice
  // under load: "reading the upload indicator failed (HTTP 502)"; Node's http docs name this race for reused sockets).
  const agent = new http.Agent({ keepAlive: false });
  const sockets = new Set<Socket>();

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const entry: RequestLogEntry = {
      method: req.method ?? 'GET',
      url: url.pathname + url.search,
      status: 0,
      host: STORAGE_HOST,
      time: new Date().toISOString(),
      remotePort: req.socket.remotePort,
    };
    log.push(entry);
    const delay = faults.latency(STORAGE_HOST, url.pathname);
    if (delay) await new Promise((r) => setTimeout(r, delay));
    const fault = faults.pick(STORAGE_HOST, url.pathname)?.kind;
    if (fault === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault) {
      req.resume();
      if (!req.readableEnded) await once(req, 'end');
      const version = req.headers['x-ms-version'];
      const r = storageErrorResponse(
        fault === '500' ? 500 : 503,
        req.method ?? 'GET',
        Array.isArray(version) ? version[0] : version,
      );
      res.writeHead(r.status, r.headers);
      res.end(r.body);
      entry.status = r.status;
      return;
    }
    await new Promise<void>((resolve) => {
      const up = http.request(
        { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers, agent },
        (ures) => {
          entry.status = ures.statusCode ?? 0;
          res.writeHead(ures.statusCode ?? 502, ures.statusMessage, ures.headers);
          ures.pipe(res);
          ures.on('end', resolve);
          ures.on('error', () => {
            res.destroy();
            resolve();
          });
        },
      );
      up.on('error', () => {
        if (!res.headersSent) {
          entry.status = 502;
          res.writeHead(502, { 'content-length': '0' });
          res.end();
        } else res.destroy();
        resolve();
      });
      // a client that goes away mid-request takes the upstream request with it
      res.on('close', () => {
        if (!res.writableFinished) up.destroy();
        resolve();
      });
      req.pipe(up);
    });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      try {
        res.destroy();
      } catch {
        /* gone */
      }
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('clientError', (_e, s) => {
    s.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        agent.destroy();
      }),
  };
}
