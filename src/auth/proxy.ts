// HTTP clients that honour the agent's web proxy (src/pipeline/proxy.ts reads it): ONE helper, proxyClientOptions(),
// gives core-rest-pipeline clients (ARM, identity, raw pipelines) proxyOptions — its proxyPolicy tunnels https with
// CONNECT — plus an HttpClient that sends a request matching the bypass list direct; the per-request decision lives
// here and nowhere else. The storage SDK (one account per client) and azure-devops-node-api get their own shapes.
import * as http from 'node:http';
import * as https from 'node:https';
import {
  createDefaultHttpClient,
  createEmptyPipeline,
  createPipelineFromOptions,
  proxyPolicy,
  type HttpClient,
  type Pipeline,
  type PipelineRequest,
  type PipelineResponse,
  type ProxySettings,
} from '@azure/core-rest-pipeline';
import { isProxyBypassed, proxyRefused, type AgentProxy } from '../agentProxy';

/** core-rest-pipeline ProxySettings of the proxy */
export function proxySettings(proxy: AgentProxy): ProxySettings {
  return { host: proxy.host, port: proxy.port, username: proxy.username, password: proxy.password };
}

const directAgents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

/**
 * An HttpClient for core-rest-pipeline clients behind the proxy: a request matching the bypass list gets a direct
 * agent (replacing the proxy agent the pipeline's proxyPolicy set); a 407 from the proxy becomes a one-line UserError
 * naming the proxy.
 */
export function proxyAwareHttpClient(proxy: AgentProxy, inner: HttpClient = createDefaultHttpClient()): HttpClient {
  return {
    async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      if (isProxyBypassed(proxy, request.url)) {
        request.agent = request.url.startsWith('https:') ? directAgents.https : directAgents.http;
        return inner.sendRequest(request);
      }
      const res = await inner.sendRequest(request);
      if (res.status === 407) throw proxyRefused(proxy, new URL(request.url).host);
      return res;
    },
  };
}

/** What an Azure SDK client (ARM, identity, core-rest-pipeline pipelines) needs to honour the agent's proxy; {} without one. */
export function proxyClientOptions(proxy: AgentProxy | undefined): {
  proxyOptions?: ProxySettings;
  httpClient?: HttpClient;
} {
  if (!proxy) return {};
  return { proxyOptions: proxySettings(proxy), httpClient: proxyAwareHttpClient(proxy) };
}

/**
 * For a client bound to one host (a storage account): the ProxySettings for that URL, undefined when the URL is in the
 * bypass list (or no proxy). The storage SDK takes no core HttpClient, so the decision is made once per account.
 */
export function proxyOptionsFor(proxy: AgentProxy | undefined, url: string): ProxySettings | undefined {
  return proxy && !isProxyBypassed(proxy, url) ? proxySettings(proxy) : undefined;
}

export interface Sender {
  sendRequest(request: PipelineRequest): Promise<PipelineResponse>;
}
const senders = new Map<string, Map<AgentProxy | undefined, Sender>>();

/**
 * A sender for raw requests outside an SDK client, through the proxy unless bypassed, one per (proxy, retries):
 * `retries: 0` is bare (no policies but the proxy: a smoke test measures what a client sees); more adds
 * core-rest-pipeline's default policies with that many retries.
 */
export function proxiedSender(proxy: AgentProxy | undefined, o: { retries: number }): Sender {
  const key = String(o.retries);
  let byProxy = senders.get(key);
  if (!byProxy) senders.set(key, (byProxy = new Map()));
  let sender = byProxy.get(proxy);
  if (!sender) {
    const { proxyOptions, httpClient } = proxyClientOptions(proxy);
    const client = httpClient ?? createDefaultHttpClient();
    let pipeline: Pipeline | undefined;
    if (o.retries > 0) pipeline = createPipelineFromOptions({ retryOptions: { maxRetries: o.retries }, proxyOptions });
    else if (proxy) (pipeline = createEmptyPipeline()).addPolicy(proxyPolicy(proxyOptions));
    const p = pipeline;
    sender = p ? { sendRequest: (request) => p.sendRequest(client, request) } : client;
    byProxy.set(proxy, sender);
  }
  return sender;
}

/** azure-devops-node-api (typed-rest-client) IRequestOptions.proxy; it applies the bypass regexes itself, per request. */
export function devopsProxyOptions(
  proxy: AgentProxy | undefined,
): { proxyUrl: string; proxyUsername?: string; proxyPassword?: string; proxyBypassHosts?: string[] } | undefined {
  if (!proxy) return undefined;
  return {
    proxyUrl: proxy.url,
    proxyUsername: proxy.username,
    proxyPassword: proxy.username ? (proxy.password ?? '') : proxy.password,
    proxyBypassHosts: proxy.bypassPatterns,
  };
}
