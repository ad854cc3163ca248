// The agent's web proxy as a value, with no dependencies (src/pipeline/proxy.ts reads it from the agent's variables;
// src/auth/proxy.ts builds the clients that honour it; src/azureml and src/devops only carry it):
//   Agent.ProxyUrl, Agent.ProxyUsername, Agent.ProxyPassword (a secret variable) and Agent.ProxyBypassList
//   (a JSON array of regular expressions, matched case-insensitively against the whole request URL — the rule of
//   task-lib's getHttpProxyConfiguration(requestUrl) and of typed-rest-client under azure-devops-node-api).
// Here: the value (parseAgentProxy), the bypass rule (isProxyBypassed) and the 407 message (proxyRefused).
import { UserError } from './errors';

export interface AgentProxy {
  /** the proxy's URL without credentials, for messages (e.g. http://proxy.contoso.com:8080) */
  url: string;
  /** scheme + host name, as core-rest-pipeline's ProxySettings.host wants it */
  host: string;
  port: number;
  username?: string;
  password?: string;
  /** Agent.ProxyBypassList as given, and compiled ('i') */
  bypassPatterns: string[];
  bypass: RegExp[];
}

/** Parses the agent's proxy variables (exported for tests). Bad values → UserError naming the variable; the password never appears in a message. */
export function parseAgentProxy(v: {
  url?: string | null;
  username?: string | null;
  password?: string | null;
  bypassList?: string | null;
}): AgentProxy | undefined {
  const raw = (v.url ?? '').trim();
  if (!raw) return undefined;
  let u: URL;
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new UserError(
      `Agent.ProxyUrl '${raw.replace(/\/\/[^@/]*@/, '//***@')}' is not a valid URL (expected e.g. http://proxy.contoso.com:8080)`,
    );
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new UserError(
      `Agent.ProxyUrl '${u.protocol}//${u.host}' is not an http(s) proxy: only http and https proxies are supported`,
    );
  }
  const username = (v.username ?? '').trim() || (u.username ? decodeURIComponent(u.username) : undefined);
  const password = (v.password ?? '') || (u.password ? decodeURIComponent(u.password) : undefined);
  let patterns: unknown;
  try {
    patterns = JSON.parse((v.bypassList ?? '').trim() || '[]');
  } catch {
    throw new UserError(
      `Agent.ProxyBypassList is not valid JSON: expected an array of regular expressions, e.g. ["\\\\.contoso\\\\.com"]`,
    );
  }
  if (!Array.isArray(patterns) || patterns.some((p) => typeof p !== 'string')) {
    throw new UserError('Agent.ProxyBypassList must be a JSON array of regular expressions (strings)');
  }
  const bypass = patterns.map((p: string) => {
    try {
      return new RegExp(p, 'i');
    } catch (err) {
      throw new UserError(
        `Agent.ProxyBypassList entry '${p}' is not a valid regular expression: ${(err as Error).message}`,
      );
    }
  });
  const port = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
  return {
    url: `${u.protocol}//${u.hostname}:${port}`,
    host: `${u.protocol}//${u.hostname}`,
    port,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    bypassPatterns: patterns as string[],
    bypass,
  };
}

/** true when `url` matches an entry of the bypass list (the request goes direct) */
export function isProxyBypassed(proxy: AgentProxy, url: string): boolean {
  return proxy.bypass.some((r) => r.test(url));
}

// ------------------------------------------------------------------------------------------------ failures

let lastRefusal: UserError | undefined;

export function proxyRefusal(proxy: AgentProxy, target?: string): UserError {
  const to = target ? ` to ${target}` : '';
  const hint = proxy.username
    ? `check the proxy credentials the agent was configured with (Agent.ProxyUsername '${proxy.username}' / Agent.ProxyPassword)`
    : 'the proxy requires authentication but the agent has no proxy credentials (configure the agent with --proxyusername and --proxypassword)';
  return new UserError(
    `The agent's proxy ${proxy.url} refused the request${to} with 407 Proxy Authentication Required: ${hint}`,
  );
}

/** A 407 seen by a client (src/auth/proxy.ts): the one-line error to throw, remembered for the task's failure message. */
export function proxyRefused(proxy: AgentProxy, target: string): UserError {
  lastRefusal = proxyRefusal(proxy, target);
  return lastRefusal;
}

/** The 407 refusal a client saw during this run (it explains every failure after it), if any. */
export function lastProxyRefusal(): UserError | undefined {
  return lastRefusal;
}

/** for tests: forget the remembered refusal */
export function forgetProxyRefusal(): void {
  lastRefusal = undefined;
}
