// The agent's proxy variables → AgentProxy, the bypass rule (task-lib's: regex over the whole URL, case-insensitive)
// and the client options built from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isProxyBypassed, parseAgentProxy } from '../../src/pipeline/proxy';
import { devopsProxyOptions, proxyClientOptions, proxyOptionsFor } from '../../src/auth/proxy';
import { UserError } from '../../src/pipeline/errors';

test('no Agent.ProxyUrl → no proxy, no client options', () => {
  assert.equal(parseAgentProxy({ url: '' }), undefined);
  assert.deepEqual(proxyClientOptions(undefined), {});
  assert.equal(proxyOptionsFor(undefined, 'https://a.blob.core.windows.net'), undefined);
  assert.equal(devopsProxyOptions(undefined), undefined);
});

test('url, credentials and bypass list as the agent gives them', () => {
  const p = parseAgentProxy({
    url: 'http://proxy.contoso.com:8080',
    username: 'svc',
    password: 'p@ss w',
    bypassList: '["\\\\.internal\\\\.contoso\\\\.com", "^https://login\\\\."]',
  })!;
  assert.equal(p.url, 'http://proxy.contoso.com:8080');
  assert.deepEqual(proxyClientOptions(p).proxyOptions, {
    host: 'http://proxy.contoso.com',
    port: 8080,
    username: 'svc',
    password: 'p@ss w',
  });
  assert.ok(isProxyBypassed(p, 'https://ml.INTERNAL.contoso.com/x'));
  assert.ok(isProxyBypassed(p, 'https://login.microsoftonline.com/t/oauth2/v2.0/token'));
  assert.ok(!isProxyBypassed(p, 'https://management.azure.com/subscriptions'));
  assert.equal(proxyOptionsFor(p, 'https://acct.blob.internal.contoso.com'), undefined);
  assert.equal(proxyOptionsFor(p, 'https://acct.blob.core.windows.net')?.port, 8080);
  assert.deepEqual(devopsProxyOptions(p), {
    proxyUrl: 'http://proxy.contoso.com:8080',
    proxyUsername: 'svc',
    proxyPassword: 'p@ss w',
    proxyBypassHosts: ['\\.internal\\.contoso\\.com', '^https://login\\.'],
  });
  assert.equal(typeof proxyClientOptions(p).httpClient?.sendRequest, 'function');
});

test('a URL without scheme or port; credentials inside the URL', () => {
  const p = parseAgentProxy({ url: 'proxy.local' })!;
  assert.equal(p.url, 'http://proxy.local:80');
  const q = parseAgentProxy({ url: 'https://u:s%40cret@proxy.local' })!;
  assert.equal(q.port, 443);
  assert.equal(q.username, 'u');
  assert.equal(q.password, 's@cret');
  assert.equal(q.url, 'https://proxy.local:443', 'no credentials in the displayed url');
});

test('bad values: a UserError naming the variable, never the password', () => {
  assert.throws(
    () => parseAgentProxy({ url: 'http://p:1', bypassList: 'not json' }),
    (e: unknown) => e instanceof UserError && /Agent\.ProxyBypassList/.test(e.message),
  );
  assert.throws(
    () => parseAgentProxy({ url: 'http://p:1', bypassList: '["("]' }),
    (e: unknown) => e instanceof UserError && /entry '\(' is not a valid regular expression/.test(e.message),
  );
  assert.throws(() => parseAgentProxy({ url: 'socks5://p:1080' }), /only http and https proxies/);
  assert.throws(
    () => parseAgentProxy({ url: 'http://u:topsecret@[bad', password: 'topsecret' }),
    (e: unknown) => e instanceof UserError && /Agent\.ProxyUrl/.test(e.message) && !e.message.includes('topsecret'),
  );
});
