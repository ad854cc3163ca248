// The agent's web proxy. A self-hosted agent configured with --proxyurl (or a .proxy file) hands every task
//   Agent.ProxyUrl, Agent.ProxyUsername, Agent.ProxyPassword (a secret variable) and Agent.ProxyBypassList.
// It is read once here (getAgentProxy: the agent contract); the value, its bypass rule and the 407 message are in
// src/agentProxy.ts (no dependencies), the clients that honour it in src/auth/proxy.ts (proxyClientOptions and friends).
import * as task from 'azure-pipelines-task-lib/task';
import { forgetProxyRefusal, lastProxyRefusal, parseAgentProxy, proxyRefusal, type AgentProxy } from '../agentProxy';
import { setSecret } from './outputs';
import { quietly } from './quiet';
export { isProxyBypassed, parseAgentProxy, proxyRefused, type AgentProxy } from '../agentProxy';

let cached: { proxy: AgentProxy | undefined } | undefined;

/**
 * The agent's proxy, read once per task run (the variables task-lib's getHttpProxyConfiguration reads; read quietly:
 * task-lib's getVariable would print the password at debug level). The password is masked with task.setsecret
 * (task-lib does not do it). Undefined when the agent has no proxy.
 */
export function getAgentProxy(): AgentProxy | undefined {
  if (cached) return cached.proxy;
  const read = (name: string) => quietly(() => task.getVariable(name));
  const proxy = parseAgentProxy({
    url: read('Agent.ProxyUrl'),
    username: read('Agent.ProxyUsername'),
    password: read('Agent.ProxyPassword'),
    bypassList: read('Agent.ProxyBypassList'),
  });
  if (proxy?.password) {
    setSecret(proxy.password);
    const encoded = encodeURIComponent(proxy.password);
    if (encoded !== proxy.password) setSecret(encoded);
  }
  cached = { proxy };
  if (proxy) {
    task.debug(
      `Agent proxy ${proxy.url}${proxy.username ? ` (user ${proxy.username})` : ''}${proxy.bypass.length ? `, bypass list: ${proxy.bypassPatterns.join(' ')}` : ''}`,
    );
  }
  return proxy;
}

/** for tests: forget the cached read */
export function resetAgentProxy(): void {
  cached = undefined;
  forgetProxyRefusal();
}

/**
 * The one-line explanation when a failure comes from the agent's proxy (407 from the proxy, seen by a proxied client
 * or reported by typed-rest-client's tunnel / an SDK's RestError), else undefined. SDKs wrap network errors
 * (MSAL turns them into "network_error"), so a refusal seen during the run is remembered and wins.
 */
export function proxyFailureMessage(err: unknown): string | undefined {
  const seen = lastProxyRefusal();
  if (seen) return seen.message;
  const proxy = cached?.proxy;
  if (!proxy) return undefined;
  for (let e: any = err, i = 0; e && i < 5; e = e.cause, i++) {
    if (
      e.statusCode === 407 ||
      /tunneling socket could not be established, statusCode=407/i.test(String(e.message ?? ''))
    )
      return proxyRefusal(proxy).message;
  }
  return undefined;
}
