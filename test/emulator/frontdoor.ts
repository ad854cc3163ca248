// The online-endpoint data plane of Azure-in-a-box: one HTTPS listener per box (same CA as the ARM host).
//
//   real:     https://<endpoint>.<region>.inference.ml.azure.com/score        (+ /swagger.json)
//   emulator: https://127.0.0.1:<frontdoor port>/endpoints/<endpoint>/score  (+ /endpoints/<endpoint>/swagger.json)
// The endpoint resource's scoringUri/swaggerUri carry the emulator form, so clients that take the URI from the
// service (as they must) work unchanged.
//
// Behaviour, as documented for managed online endpoints (how-to-troubleshoot-online-endpoints, "HTTP status codes"):
//  - auth: `Authorization: Bearer <key>` (authMode Key: primary or secondary key) or `Bearer <token>` from the
//    endpoint's `token` action (authMode AMLToken) → else 401. AADToken endpoints: not emulated (401).
//  - routing: header `azureml-model-deployment: <name>` sends the request to that deployment whatever its traffic
//    (404 if there is no such deployment); otherwise a deterministic weighted choice over `traffic`: request n
//    of an endpoint falls in bucket (n·37 + 11) mod 100, so every 100 consecutive requests split exactly by the
//    weights. No deployment with traffic > 0 → 404 "No valid deployments to route to…" (the service's text).
//  - mirrorTraffic (api-version ≥ 2023-04-01 only; see arm/endpoints.ts): for its share of the requests routed by
//    traffic (not those with the deployment header), a copy goes to the mirror deployment (bucketOf over a counter
//    of its own); its answer is dropped, so a failing mirror shows only in its container log (getLogs) — and in
//    the deployment record's `mirrored` counts, which tests read.
//  - the scoring script's answer comes back as is with `azureml-model-deployment: <who served it>`; a non-200
//    from the script's server → 424 with ms-azureml-model-error-statuscode / ms-azureml-model-error-reason;
//    requestSettings.requestTimeout exceeded → 408; a deployment that is not running (Failed, Creating) → 503.
//    Kubernetes endpoints answer as the doc's "Common error codes for Kubernetes online endpoints" table says
//    (MicrosoftDocs/azure-ai-docs articles/machine-learning/how-to-troubleshoot-online-endpoints.md, commit
//    112100ce80671708ca6b2f7ea53c2f08d05706e6): an exception in run() → 502, a request that times out → 504.
//    ASSUMPTION: those keep the `azureml-model-deployment` header (no recording of a Kubernetes error answer).
//  - every routed answer carries `server: azureml-frontdoor` and `x-request-id` (injected faults, answered by the shared
//    fault layer in http.ts before routing, do not); a deployment's answer also
//    `azureml-model-deployment: <deployment>` (a recorded managed endpoint answer: Azure/ai-agent-service-promptflow
//    README.md, "Sample Response", HTTP/1.1 200 with those three headers).
//  - faults (box.faults with hosts ['inference'], e.g. pathFilter /\/score$/) are answered by the front door itself,
//    before any routing: 429 (Retry-After: 1 unless retryAfterSeconds says otherwise), 500, 503 or a dropped
//    connection, with no `azureml-model-deployment` header — no deployment answered. ASSUMPTION: the real front door's
//    own errors (throttling, "Azure Machine Learning-provisioned infrastructure is failing" 500, how-to-troubleshoot-
//    online-endpoints "HTTP status codes") carry no `azureml-model-deployment`; no recording of one was found. Their
//    bodies here are ARM-shaped ({"error":{"code","message"}}), also unverified.
//  - a deployment with a dataCollector (api-version 2024-04-01) that collects model_inputs / model_outputs (or request /
//    response): every 200 answer it gives (mirrored copies included) is written to Azurite as the data collector's
//    JSON Lines at the documented path, before the answer goes back (dataCollection.ts has the rules, sources and
//    ASSUMPTIONs).
//  - every answer of score() (after the fault layer) is recorded in `served` (endpoint, deployment, time, status, the
//    model's status for a 424, latency): the ARM host's Azure Monitor Metrics API answers from it (monitor.ts).
import { randomUUID } from 'node:crypto';
import { Router, startServer, header, type Req, type Res, type RunningServer } from './http';
import { ensureCa, issueServerCert } from './ca';
import type { OnlineEndpoints, EndpointRecord, DeploymentRecord } from './arm/endpoints';
import { durationMs, safeEqual } from './arm/endpoints';
import type { ServedRecord } from './monitor';

const NO_ROUTE =
  'No valid deployments to route to. Please check that the endpoint has at least one deployment with positive weight values or use a deployment specific header to route. [https://docs.microsoft.com/en-us/azure/machine-learning/how-to-safely-rollout-managed-endpoints#deploy-a-new-model-but-send-it-no-traffic-yet]\nPlease check this guide to understand why this error code might have been returned \nhttps://docs.microsoft.com/en-us/azure/machine-learning/how-to-troubleshoot-online-endpoints#http-status-codes\n';

/** bucket 0..99 for the n-th request: 37 is coprime with 100, so n ↦ bucket is a permutation of every 100 */
export function bucketOf(n: number): number {
  return (n * 37 + 11) % 100;
}

/** weighted choice: deployments in name order, each owning a run of buckets as wide as its weight */
export function pick(traffic: Record<string, number>, bucket: number): string | undefined {
  let acc = 0;
  for (const name of Object.keys(traffic).sort()) {
    const w = traffic[name] ?? 0;
    if (w <= 0) continue;
    acc += w;
    if (bucket < acc) return name;
  }
  return undefined;
}

export class FrontDoor {
  private server?: RunningServer;
  private starting?: Promise<RunningServer>;
  private counters = new Map<string, number>();
  private mirrorCounters = new Map<string, number>();
  /**
   * What the front door really answered, one entry per scoring request that reached an endpoint (after the fault
   * layer): endpoint, deployment, time, status code, latency. The Metrics API (monitor.ts) answers from it. Oldest
   * entries are dropped past 100,000.
   */
  readonly served: ServedRecord[] = [];
  /** TLS material; defaults to a certificate issued by the test CA (the one the box's ARM host uses) */
  tls?: () => Promise<{ cert: string; key: string }>;

  constructor(private readonly m: OnlineEndpoints) {}

  async baseUrl(): Promise<string> {
    return (await this.ensure()).url;
  }

  private ensure(): Promise<RunningServer> {
    if (this.server) return Promise.resolve(this.server);
    this.starting ??= (async () => {
      const tls = this.tls ? await this.tls() : await issueServerCert(await ensureCa());
      const router = new Router();
      router.notFound = () => ({ status: 404, body: 'Not found' });
      router.add('POST', '/endpoints/:ep/score', (req) => this.score(req));
      router.add('GET', '/endpoints/:ep/swagger.json', (req) => this.swagger(req));
      router.add('GET', '/endpoints/:ep', (req) => this.alive(req));
      this.server = await startServer(router, {
        name: 'inference',
        cert: tls.cert,
        key: tls.key,
        faults: this.m.ctx.faults,
        log: this.m.ctx.requests,
      });
      return this.server;
    })();
    return this.starting;
  }

  async stop(): Promise<void> {
    const s = this.server ?? (this.starting ? await this.starting.catch(() => undefined) : undefined);
    this.server = undefined;
    this.starting = undefined;
    if (s) await s.close();
  }

  private authorize(ep: EndpointRecord, req: Req): Res | undefined {
    const auth = header(req, 'authorization');
    const m = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null;
    const unauthorized = (why: string): Res => ({
      status: 401,
      headers: { 'WWW-Authenticate': 'Bearer' },
      body: { message: `Unauthorized: ${why}` },
    });
    if (!m) return unauthorized('no Authorization: Bearer header');
    const mode = ep.resource.properties.authMode;
    if (mode === 'Key') {
      if (safeEqual(m[1], ep.keys.primaryKey) || safeEqual(m[1], ep.keys.secondaryKey)) return undefined;
      return unauthorized('the key is not valid for this endpoint');
    }
    if (mode === 'AMLToken') {
      if (this.m.verifyToken(ep, m[1])) return undefined;
      return unauthorized('the token is not valid for this endpoint or has expired');
    }
    return unauthorized(`auth mode ${mode} is not emulated`);
  }

  private alive(req: Req): Res {
    const ep = this.m.endpointByName(req.params.ep);
    return ep ? { status: 200, body: 'Healthy' } : { status: 404, body: 'Not found' };
  }

  private swagger(req: Req): Res {
    const ep = this.m.endpointByName(req.params.ep);
    if (!ep) return { status: 404, body: 'Not found' };
    const denied = this.authorize(ep, req);
    if (denied) return denied;
    return {
      status: 200,
      body: {
        swagger: '2.0',
        info: { title: ep.resource.name, version: '1.0' },
        paths: { '/score': { post: { consumes: ['application/json'], produces: ['application/json'] } } },
      },
    };
  }

  private async score(req: Req): Promise<Res> {
    const t0 = performance.now();
    const res = await this.route(req);
    const ep = this.m.endpointByName(req.params.ep);
    if (ep) {
      const h = (n: string) => Object.entries(res.headers ?? {}).find(([k]) => k.toLowerCase() === n)?.[1];
      const deployment = h('azureml-model-deployment');
      const model = h('ms-azureml-model-error-statuscode');
      this.served.push({
        endpointId: String(ep.resource.id),
        ...(deployment ? { deployment } : {}),
        time: Date.now(),
        status: res.status,
        ...(model ? { modelStatus: Number(model) } : {}),
        latencyMs: Math.round((performance.now() - t0) * 10) / 10,
      });
      if (this.served.length > 100_000) this.served.splice(0, this.served.length - 100_000);
    }
    return res;
  }

  private async route(req: Req): Promise<Res> {
    const requestId = header(req, 'x-ms-client-request-id') ?? randomUUID();
    const base = { server: 'azureml-frontdoor', 'x-request-id': randomUUID(), 'x-ms-client-request-id': requestId };
    const ep = this.m.endpointByName(req.params.ep);
    if (
      !ep ||
      ep.resource.properties.provisioningState === 'Creating' ||
      ep.resource.properties.provisioningState === 'Deleting'
    ) {
      return { status: 404, headers: base, body: { message: `Endpoint ${req.params.ep} not found.` } };
    }
    const denied = this.authorize(ep, req);
    if (denied) return { ...denied, headers: { ...base, ...(denied.headers ?? {}) } };

    const deployments = this.m.deploymentsOf(ep.resource.id);
    const byName = new Map(deployments.map((d) => [String(d.resource.name).toLowerCase(), d]));
    const wanted = header(req, 'azureml-model-deployment');
    let target: DeploymentRecord | undefined;
    if (wanted) {
      target = byName.get(wanted.toLowerCase());
      if (!target)
        return {
          status: 404,
          headers: base,
          body: { message: `Deployment ${wanted} not found for endpoint ${ep.resource.name}.` },
        };
    } else {
      const n = this.counters.get(ep.resource.id) ?? 0;
      this.counters.set(ep.resource.id, n + 1);
      const name = pick(ep.resource.properties.traffic ?? {}, bucketOf(n));
      target = name ? byName.get(name.toLowerCase()) : undefined;
      if (!target) return { status: 404, headers: base, body: NO_ROUTE };
      this.mirror(ep, req, target);
    }
    return this.forward(target, req, base);
  }

  private mirror(ep: EndpointRecord, req: Req, live: DeploymentRecord): void {
    const mt: Record<string, number> = ep.resource.properties.mirrorTraffic ?? {};
    const [name, pct] = Object.entries(mt).find(([, v]) => v > 0) ?? [];
    if (!name || !pct || name.toLowerCase() === String(live.resource.name).toLowerCase()) return;
    const n = this.mirrorCounters.get(ep.resource.id) ?? 0;
    this.mirrorCounters.set(ep.resource.id, n + 1);
    if (bucketOf(n) >= pct) return;
    const d = this.m
      .deploymentsOf(ep.resource.id)
      .find((x) => String(x.resource.name).toLowerCase() === name.toLowerCase());
    // fire and forget: the client's answer never waits for the copy, and the copy's answer is dropped
    if (d)
      void this.forward(d, req, {}).then(
        (r) => this.m.recordMirrored(d, r.status),
        () => this.m.recordMirrored(d, 0),
      );
  }

  /** a deployment whose dataCollector collects: its request/answer go to Azurite (dataCollection.ts) */
  private async collect(d: DeploymentRecord, req: Req, answer: unknown, requestId: string): Promise<void> {
    if (!d.resource.properties.dataCollector) return;
    const json = (v: unknown) => {
      try {
        return JSON.parse(Buffer.isBuffer(v) ? v.toString('utf8') : String(v));
      } catch {
        return undefined;
      }
    };
    const ep = String(d.resource.id).split('/onlineEndpoints/')[1]?.split('/')[0] ?? '';
    await this.m.dataCollection.record(
      d,
      ep,
      json(req.rawBody),
      typeof answer === 'object' && answer !== null && !Buffer.isBuffer(answer) ? answer : json(answer),
      requestId,
    );
  }

  private async forward(d: DeploymentRecord, req: Req, base: Record<string, string>): Promise<Res> {
    const name = String(d.resource.name);
    const headers: Record<string, string> = { ...base, 'azureml-model-deployment': name };
    const ready =
      d.resource.properties.provisioningState === 'Succeeded' ||
      (d.runtime && d.resource.properties.provisioningState !== 'Deleting');
    if (!ready || !(await this.m.ensureHost(d))) {
      return {
        status: 503,
        headers,
        body: {
          message: `Deployment ${name} is not ready (provisioningState ${d.resource.properties.provisioningState}); no healthy upstream.`,
        },
      };
    }
    const timeout = durationMs(d.resource.properties.requestSettings?.requestTimeout, 5000);
    const kubernetes = d.resource.properties.endpointComputeType === 'Kubernetes';
    const fwd: Record<string, string> = {
      'content-type': header(req, 'content-type') ?? 'application/json',
      'x-request-id': headers['x-request-id'] ?? randomUUID(),
    };
    try {
      const r = await this.m.hosts.score(d.runtime!.hostKey, req.rawBody, fwd, timeout);
      if (r.status === 200) {
        await this.collect(d, req, r.body, headers['x-request-id']!);
        return {
          status: 200,
          headers: { ...headers, 'content-type': r.headers['content-type'] ?? 'application/json' },
          body: r.body,
        };
      }
      if (kubernetes)
        return {
          status: 502,
          headers: { ...headers, 'content-type': r.headers['content-type'] ?? 'application/json' },
          body: r.body,
        };
      return {
        status: 424,
        headers: {
          ...headers,
          'ms-azureml-model-error-statuscode': String(r.status),
          'ms-azureml-model-error-reason': 'model_error',
          'content-type': r.headers['content-type'] ?? 'application/json',
        },
        body: r.body,
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
        return {
          status: kubernetes ? 504 : 408,
          headers,
          body: {
            message: `Request timed out after ${timeout} ms (requestSettings.requestTimeout of deployment ${name}).`,
          },
        };
      }
      return {
        status: 502,
        headers,
        body: { message: `Deployment ${name}: the scoring container did not answer (${(e as Error).message}).` },
      };
    }
  }
}
