// A corporate web proxy for tests of self-hosted agents behind one (Agent.ProxyUrl …): an HTTP forward proxy on
// loopback that tunnels https with CONNECT and forwards plain-http requests in absolute form (what http-proxy-agent
// sends for Azurite's http URLs), optionally requiring Basic proxy authentication (407 + Proxy-Authenticate otherwise).
// Every CONNECT / forwarded request is logged with its target (host:port), and the local port of every upstream
// connection the proxy opens is kept (`upstreamPorts`): the emulator's request log records each request's client port,
// so a test can tell requests that came through the proxy from ones that reached a host directly.
// Like a real proxy it resolves names itself: `*.localhost` goes to loopback (the task's own process cannot resolve
// those names when the test drops the resolve-localhost preload).
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

export interface ProxyLogEntry {
  method: string;
  target: string;
  status: number;
  time: string;
}

export interface RunningProxy {
  url: string;
  port: number;
  log: ProxyLogEntry[];
  /** local ports of the proxy's upstream connections (= the client port the upstream host sees) */
  upstreamPorts: Set<number>;
  close(): Promise<void>;
}

export interface ProxyOptions {
  username?: string;
  password?: string;
}

function resolveHost(host: string): string {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.endsWith('.localhost') ? '127.0.0.1' : h;
}

export async function startProxy(opts: ProxyOptions = {}): Promise<RunningProxy> {
  const log: ProxyLogEntry[] = [];
  const upstreamPorts = new Set<number>();
  const sockets = new Set<Socket>();
  const expected =
    opts.username !== undefined
      ? 'Basic ' + Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')
      : undefined;
  const authorized = (h: string | string[] | undefined) => !expected || (Array.isArray(h) ? h[0] : h) === expected;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  const noteUpstream = (s: Socket) => {
    if (s.localPort) upstreamPorts.add(s.localPort);
  };

  const server = http.createServer((req, res) => {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400, { 'content-length': '0' });
      res.end();
      return;
    }
    const entry: ProxyLogEntry = {
      method: req.method ?? 'GET',
      target: `${target.hostname}:${target.port || 80}`,
      status: 0,
      time: new Date().toISOString(),
    };
    log.push(entry);
    if (!authorized(req.headers['proxy-authorization'])) {
      entry.status = 407;
      req.resume();
      res.writeHead(407, {
        'proxy-authenticate': 'Basic realm="azure-in-a-box proxy"',
        'content-length': '0',
        connection: 'close',
      });
      res.end();
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const up = http.request(
      {
        host: resolveHost(target.hostname),
        port: Number(target.port || 80),
        method: req.method,
        path: target.pathname + target.search,
        headers,
        agent: false,
      },
      (ures) => {
        entry.status = ures.statusCode ?? 0;
        res.writeHead(ures.statusCode ?? 502, ures.statusMessage, ures.headers);
        ures.pipe(res);
      },
    );
    up.on('socket', (s) => {
      track(s);
      if (s.localPort) noteUpstream(s);
      else s.once('connect', () => noteUpstream(s));
    });
    up.on('error', () => {
      entry.status = 502;
      if (!res.headersSent) {
        res.writeHead(502, { 'content-length': '0' });
        res.end();
      } else res.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  });

  server.on('connect', (req: http.IncomingMessage, client: Socket, head: Buffer) => {
    track(client);
    const target = req.url ?? '';
    const entry: ProxyLogEntry = { method: 'CONNECT', target, status: 0, time: new Date().toISOString() };
    log.push(entry);
    client.on('error', () => undefined);
    if (!authorized(req.headers['proxy-authorization'])) {
      entry.status = 407;
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="azure-in-a-box proxy"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
      );
      return;
    }
    const m = target.match(/^\[?([^\]]+?)\]?:(\d+)$/);
    if (!m) {
      entry.status = 400;
      client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const upstream = net.connect(Number(m[2]), resolveHost(m[1]!), () => {
      noteUpstream(upstream);
      entry.status = 200;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    track(upstream);
    upstream.on('error', () => {
      if (!entry.status) {
        entry.status = 502;
        client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
      } else client.destroy();
    });
    client.on('close', () => upstream.destroy());
  });
  server.on('connection', track);
  server.on('clientError', (_e, s) => s.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log,
    upstreamPorts,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
