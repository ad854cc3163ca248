// src/auth: credential per scheme, identity options, certificate PEM checks, the WIF assertion callback
// (a fresh OIDC token per call, against a local HTTPS server with a certificate from the test CA; http refused; the
// task's AbortSignal stops a hanging token request), and one-line authentication errors.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import {
  ClientAssertionCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
} from '@azure/identity';
import type { TokenCredential } from '@azure/core-auth';
import {
  armScope,
  authFailureDetail,
  ConnectionCredential,
  createCredential,
  credentialOptions,
  federatedAssertion,
  isKnownAuthority,
  parsePem,
} from '../../src/auth';
import { UserError, setSecret, type AzureRmConnection } from '../../src/pipeline';
import { oidcRequestUri, oidcTokenUrl, planOidcRequestUri, requestOidcToken } from '../../src/auth/oidc';
import { ensureCa, issueServerCert } from '../emulator/ca';

function conn(auth: AzureRmConnection['auth'], over: Partial<AzureRmConnection> = {}): AzureRmConnection {
  return {
    id: 'sc-1',
    armUrl: 'https://management.azure.com/',
    subscriptionId: 'sub',
    tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
    authorityHost: 'https://login.microsoftonline.com/',
    audience: 'https://management.core.windows.net/',
    environment: 'AzureCloud',
    auth,
    ...over,
  };
}

/** Captures what task-lib writes to stdout (setSecret lines) during fn. */
async function captureStdout<T>(fn: () => Promise<T>): Promise<{ value: T; out: string }> {
  const orig = process.stdout.write.bind(process.stdout);
  let out = '';
  (process.stdout as any).write = (chunk: any, ...rest: any[]) => {
    out += String(chunk);
    return orig(chunk, ...rest);
  };
  try {
    return { value: await fn(), out };
  } finally {
    (process.stdout as any).write = orig;
  }
}

const inner = (c: TokenCredential) => (c as ConnectionCredential).inner;

test('armScope: the audience as given + /.default, trailing slash kept (azure-arm-rest, Azure CLI resource_to_scopes)', () => {
  assert.equal(armScope(conn({ scheme: 'ManagedServiceIdentity' })), 'https://management.core.windows.net//.default');
  assert.equal(
    armScope(conn({ scheme: 'ManagedServiceIdentity' }, { audience: 'https://management.core.usgovcloudapi.net/' })),
    'https://management.core.usgovcloudapi.net//.default',
  );
  assert.equal(
    armScope(conn({ scheme: 'ManagedServiceIdentity' }, { audience: 'https://management.core.chinacloudapi.cn/' })),
    'https://management.core.chinacloudapi.cn//.default',
  );
  // an Azure Stack Hub audience has no trailing slash: none is added
  const stack = 'https://management.contoso.onmicrosoft.com/3cc5febd-e4b7-4a85-a2ed-1d730e2f5928';
  assert.equal(armScope(conn({ scheme: 'ManagedServiceIdentity' }, { audience: stack })), `${stack}/.default`);
});

test('identity options: authority host from the connection; instance discovery off for unknown authorities', () => {
  for (const host of [
    'https://login.microsoftonline.com/',
    'https://login.microsoftonline.us/',
    'https://login.chinacloudapi.cn/',
    'https://login.microsoftonline.de/',
  ]) {
    assert.ok(isKnownAuthority(host), host);
    assert.deepEqual(credentialOptions(conn({ scheme: 'ManagedServiceIdentity' }, { authorityHost: host })), {
      authorityHost: host,
      disableInstanceDiscovery: false,
    });
  }
  for (const host of [
    'https://127.0.0.1:4443/',
    'https://adfs.contoso.local/adfs/',
    'https://login.microsoftonline.com.evil.example/',
  ]) {
    assert.ok(!isKnownAuthority(host), host);
    assert.equal(
      credentialOptions(conn({ scheme: 'ManagedServiceIdentity' }, { authorityHost: host })).disableInstanceDiscovery,
      true,
    );
  }
});

test('createCredential picks the identity credential per scheme', async () => {
  const pems = await generate([{ name: 'commonName', value: 'sp' }], { keySize: 2048 } as any);
  const pem = `${pems.cert}\n${pems.private}`;
  assert.ok(
    inner(createCredential(conn({ scheme: 'ServicePrincipal', clientId: 'c', secret: 's' }))) instanceof
      ClientSecretCredential,
  );
  assert.ok(
    inner(createCredential(conn({ scheme: 'ServicePrincipal', clientId: 'c', certificatePem: pem }))) instanceof
      ClientCertificateCredential,
  );
  assert.ok(
    inner(
      createCredential(
        conn(
          { scheme: 'WorkloadIdentityFederation', clientId: 'c' },
          { oidc: { requestUri: 'https://dev.azure.com/o/_apis/x', accessToken: 't' } },
        ),
      ),
    ) instanceof ClientAssertionCredential,
  );
  assert.ok(
    inner(createCredential(conn({ scheme: 'WorkloadIdentityFederation', clientId: 'c', idToken: 'jwt' }))) instanceof
      ClientAssertionCredential,
  );
  assert.ok(inner(createCredential(conn({ scheme: 'ManagedServiceIdentity' }))) instanceof ManagedIdentityCredential);
  assert.ok(
    inner(createCredential(conn({ scheme: 'ManagedServiceIdentity', clientId: 'mi' }))) instanceof
      ManagedIdentityCredential,
  );
  assert.throws(
    () => createCredential(conn({ scheme: 'WorkloadIdentityFederation', clientId: 'c' })),
    (e: unknown) => e instanceof UserError && /no OIDC token source/.test((e as Error).message),
  );
  assert.throws(() => createCredential(conn({ scheme: 'ServicePrincipal', clientId: 'c' })), UserError);
});

test('certificate PEM must carry the certificate and its private key', async () => {
  const pems = await generate([{ name: 'commonName', value: 'sp' }], { keySize: 2048 } as any);
  assert.deepEqual(parsePem(`${pems.cert}\n${pems.private}`), { certificates: 1, hasPrivateKey: true });
  assert.deepEqual(parsePem(`${pems.private}\r\n${pems.cert.replace(/\n/g, '\r\n')}`), {
    certificates: 1,
    hasPrivateKey: true,
  });
  assert.deepEqual(parsePem(pems.cert), { certificates: 1, hasPrivateKey: false });
  const bad = [pems.cert, pems.private, 'not a pem'];
  for (const certificatePem of bad) {
    assert.throws(
      () => createCredential(conn({ scheme: 'ServicePrincipal', clientId: 'c', certificatePem })),
      (e: unknown) =>
        e instanceof UserError &&
        (e as Error).message ===
          "Service connection 'sc-1': the certificate must be a PEM containing both the certificate and its private key",
    );
  }
});

// --- WIF assertion callback against a local OIDC endpoint (https; scripts/test.mjs trusts the test CA) -----------

let issued = 0;
const seen: Array<{ url: string; auth?: string; body: string }> = [];
let hanging = 0;
const server = https.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    seen.push({ url: req.url!, auth: req.headers.authorization, body });
    if (req.url!.startsWith('/hang')) {
      hanging++;
      return;
    } // never answers
    if (req.headers.authorization !== 'Bearer job-token-123456') {
      res
        .writeHead(401, { 'content-type': 'application/json' })
        .end(JSON.stringify({ message: 'TF400813: The user is not authorized to access this resource.' }));
      return;
    }
    issued++;
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ oidcToken: `oidc-token-${issued}-abcdef` }));
  });
});
const listening = (async () => {
  const tls = await issueServerCert(await ensureCa());
  server.setSecureContext({ cert: tls.cert, key: tls.key });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
})();
after(() => {
  server.closeAllConnections();
  server.close();
});

test('WIF: every assertion callback fetches a fresh OIDC token with the job token', async () => {
  await listening;
  const port = (server.address() as AddressInfo).port;
  const requestUri = `https://127.0.0.1:${port}/org/proj/_apis/distributedtask/hubs/build/plans/p1/jobs/j1/oidctoken`;
  const c = conn(
    { scheme: 'WorkloadIdentityFederation', clientId: 'c' },
    { id: 'sc-wif', oidc: { requestUri, accessToken: 'job-token-123456' } },
  );
  // the masking callback the entry wires to the agent's setSecret (src/tasks/openWorkspace.ts agentOptions)
  const assertion = federatedAssertion(c, { onSecret: setSecret });
  const before = issued;
  const { value, out } = await captureStdout(async () => [await assertion(), await assertion(), await assertion()]);
  assert.equal(issued - before, 3);
  assert.equal(new Set(value).size, 3, 'three distinct tokens');
  const last = seen.slice(-3);
  for (const s of last) {
    const u = new URL(s.url, 'http://x');
    assert.equal(u.pathname, '/org/proj/_apis/distributedtask/hubs/build/plans/p1/jobs/j1/oidctoken');
    assert.equal(u.searchParams.get('api-version'), '7.1');
    assert.equal(u.searchParams.get('serviceConnectionId'), 'sc-wif');
    assert.equal(s.auth, 'Bearer job-token-123456');
  }
  for (const t of value) assert.ok(out.includes(`##vso[task.setsecret]${t}`), 'each OIDC token is masked');
});

test('WIF: refused OIDC request → one-line UserError; idToken used when there is no request URI', async () => {
  await listening;
  const port = (server.address() as AddressInfo).port;
  const requestUri = `https://127.0.0.1:${port}/oidctoken`;
  const refused = federatedAssertion(
    conn({ scheme: 'WorkloadIdentityFederation', clientId: 'c' }, { oidc: { requestUri, accessToken: 'wrong' } }),
  );
  await assert.rejects(refused(), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(
      (e as Error).message,
      "Azure DevOps refused an OIDC token for service connection 'sc-1': TF400813: The user is not authorized to access this resource.",
    );
    return true;
  });
  const n = seen.length;
  const fromIdToken = federatedAssertion(
    conn({ scheme: 'WorkloadIdentityFederation', clientId: 'c', idToken: 'endpoint-id-token' }),
  );
  assert.equal(await fromIdToken(), 'endpoint-id-token');
  assert.equal(await fromIdToken(), 'endpoint-id-token');
  assert.equal(seen.length, n, 'no request for an idToken');
});

test('WIF: an http OIDC request URI is refused before any request (the job access token is never sent in clear)', async () => {
  await listening;
  const port = (server.address() as AddressInfo).port;
  const n = seen.length;
  const requestUri = `http://127.0.0.1:${port}/org/proj/_apis/distributedtask/hubs/build/plans/p1/jobs/j1/oidctoken`;
  const assertion = federatedAssertion(
    conn(
      { scheme: 'WorkloadIdentityFederation', clientId: 'c' },
      { oidc: { requestUri, accessToken: 'job-token-123456' } },
    ),
  );
  const isHttpsError = (e: unknown) =>
    e instanceof UserError &&
    /^System\.OidcRequestUri 'http:\/\/127\.0\.0\.1:\d+\/org\/proj\/.*\/oidctoken' is not https: .*must be served over https/.test(
      (e as Error).message,
    ) &&
    !(e as Error).message.includes('job-token');
  await assert.rejects(assertion(), isHttpsError);
  await assert.rejects(
    requestOidcToken({ requestUri, accessToken: 'job-token-123456', serviceConnectionId: 'sc' }),
    isHttpsError,
  );
  assert.throws(
    () => oidcTokenUrl('not a url', 'sc'),
    (e: unknown) => e instanceof UserError && /is not a valid URL/.test((e as Error).message),
  );
  assert.equal(seen.length, n, 'nothing was sent');
});

test("WIF: the task's AbortSignal stops a hanging OIDC token request", { timeout: 15_000 }, async () => {
  await listening;
  const port = (server.address() as AddressInfo).port;
  const requestUri = `https://127.0.0.1:${port}/hang/oidctoken`;
  const c = conn(
    { scheme: 'WorkloadIdentityFederation', clientId: 'c' },
    { oidc: { requestUri, accessToken: 'job-token-123456' } },
  );
  // the assertion callback itself
  const ac = new AbortController();
  const h = hanging;
  const started = Date.now();
  const pending = federatedAssertion(c, { abortSignal: ac.signal })();
  while (hanging === h) await new Promise((r) => setTimeout(r, 10));
  ac.abort();
  await assert.rejects(pending, (e: unknown) => (e as Error).name === 'AbortError');
  assert.ok(Date.now() - started < 5000, 'stopped promptly');
  // and through the credential the task builds: createCredential(conn, signal) → ClientAssertionCredential → callback
  const ac2 = new AbortController();
  const h2 = hanging;
  const cred = createCredential(c, { abortSignal: ac2.signal });
  const token = cred.getToken('https://management.core.windows.net/.default');
  const settled = token.then(
    () => 'resolved',
    () => 'rejected',
  );
  while (hanging === h2) await new Promise((r) => setTimeout(r, 10));
  ac2.abort();
  const t0 = Date.now();
  assert.equal(await settled, 'rejected');
  assert.ok(Date.now() - t0 < 5000, 'stopped promptly');
});

// --- error mapping and token masking ----------------------------------------------------------------------------

test('token errors become one line with the AADSTS message; tokens are masked', async () => {
  const c = conn({ scheme: 'ServicePrincipal', clientId: 'c', secret: 's' }, { id: 'my-connection' });
  const failing = new ConnectionCredential(c, {
    getToken: async () => {
      const e = new Error(
        'ClientSecretCredential authentication failed: AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value.\r\nTrace ID: 1\r\nCorrelation ID: 2',
      );
      e.name = 'AuthenticationError';
      throw e;
    },
  });
  await assert.rejects(failing.getToken('https://management.core.windows.net/.default'), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(
      (e as Error).message,
      "Authentication failed for service connection 'my-connection': AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value.",
    );
    return true;
  });
  assert.equal(
    authFailureDetail(new Error('ManagedIdentityCredential: no managed identity endpoint found.\nmore')),
    'no managed identity endpoint found.',
  );
  assert.equal(
    authFailureDetail(
      new Error(
        'ManagedIdentityCredential: Authentication failed. Message : Error(s): Not Available - Timestamp: Not Available - Description: Unable to load the proper Managed Identity. - Correlation ID: 7c1 - Trace ID: Not Available',
      ),
    ),
    'the managed identity endpoint answered: Unable to load the proper Managed Identity.',
  );
  assert.match(
    authFailureDetail(
      new Error(
        'ManagedIdentityCredential: Network unreachable. Message: network_error: See https://aka.ms/msal.js.errors#network_error',
      ),
    ),
    /^the managed identity endpoint of this agent machine could not be reached/,
  );

  const ok = new ConnectionCredential(
    c,
    {
      getToken: async () => ({
        token: 'eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJ4In0.sig-abc',
        expiresOnTimestamp: Date.now() + 3600_000,
      }),
    },
    { onSecret: setSecret },
  );
  const { value, out } = await captureStdout(() => ok.getToken('s'));
  assert.equal(value?.token, 'eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJ4In0.sig-abc');
  assert.ok(out.includes('##vso[task.setsecret]eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJ4In0.sig-abc'));

  // an aborted request is passed through as is (runTask reports the cancellation)
  const ac = new AbortController();
  ac.abort();
  const abortErr = Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' });
  const aborted = new ConnectionCredential(c, {
    getToken: async () => {
      throw abortErr;
    },
  });
  await assert.rejects(aborted.getToken('s', { abortSignal: ac.signal }), (e: unknown) => e === abortErr);
});

test('OIDC request URI: System.OidcRequestUri as given, else the plan route azure-arm-rest addresses (project id, hub, plan, job)', () => {
  const plan = {
    collectionUri: 'https://dev.azure.com/contoso/',
    projectId: '6f1c0c53-0000-4000-8000-00000000aaaa',
    hub: 'release',
    planId: 'p 1',
    jobId: 'j/1',
  };
  assert.equal(
    planOidcRequestUri(plan),
    'https://dev.azure.com/contoso/6f1c0c53-0000-4000-8000-00000000aaaa/_apis/distributedtask/hubs/release/plans/p%201/jobs/j%2F1/oidctoken',
  );
  assert.equal(
    planOidcRequestUri({
      ...plan,
      collectionUri: 'https://tfs.contoso.local/tfs/DefaultCollection',
      planId: 'p',
      jobId: 'j',
    }),
    'https://tfs.contoso.local/tfs/DefaultCollection/6f1c0c53-0000-4000-8000-00000000aaaa/_apis/distributedtask/hubs/release/plans/p/jobs/j/oidctoken',
  );
  assert.equal(oidcRequestUri({ requestUri: 'https://x/y/oidctoken', plan }), 'https://x/y/oidctoken');
  assert.equal(oidcRequestUri({ plan }), planOidcRequestUri(plan));
  assert.throws(
    () => oidcRequestUri({}),
    (e: unknown) => e instanceof UserError,
  );
  // the request then carries api-version 7.1 and the connection id, whichever way the URI was found
  assert.equal(
    oidcTokenUrl(planOidcRequestUri({ ...plan, planId: 'p', jobId: 'j' }), 'sc-1'),
    'https://dev.azure.com/contoso/6f1c0c53-0000-4000-8000-00000000aaaa/_apis/distributedtask/hubs/release/plans/p/jobs/j/oidctoken?api-version=7.1&serviceConnectionId=sc-1',
  );
});
