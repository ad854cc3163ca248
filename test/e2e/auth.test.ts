// src/pipeline + src/auth end to end: the bundled fixture task gets an ARM token from Azure-in-a-box's Entra ID
// for every scheme a real agent can hand over, learning every address from the agent's variables.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAzureInABox, type AzureInABox } from '../emulator';
import { connectionEnv, runBundledTask, type AuthScheme } from '../helpers/agent';
import { fixtureTaskScript } from '../helpers/fixture';

let box: AzureInABox;
const scriptPath = fixtureTaskScript();

before(async () => {
  box = await startAzureInABox();
});
after(async () => {
  await box?.stop();
});

for (const scheme of ['secret', 'certificate', 'wif', 'wif-idtoken'] as AuthScheme[]) {
  test(`token for ARM with scheme ${scheme}`, async () => {
    const before = box.requests.length;
    const r = await runBundledTask('AuthFixture', { box, scriptPath, scheme, inputs: { mode: 'token' } });
    assert.equal(r.result, 'Succeeded', r.stdout + r.stderr);
    const tok = JSON.parse(r.stdout.match(/^TOKEN (.*)$/m)![1]);
    assert.equal(tok.ok, true);
    assert.ok(tok.expiresOnTimestamp > Date.now());
    const calls = box.requests.slice(before);
    assert.ok(
      calls.some((c) => c.host === 'entra' && /\/oauth2\/v2\.0\/token/.test(c.url) && c.status === 200),
      'token endpoint used',
    );
    const oidcCalls = calls.filter((c) => /oidctoken/.test(c.url));
    // identity 4.13 asks for the assertion more than once per token: each time is a fresh OIDC request
    if (scheme === 'wif')
      assert.ok(
        oidcCalls.length >= 1 && oidcCalls.every((c) => c.status === 200 && /serviceConnectionId=conn-wif/.test(c.url)),
      );
    else assert.equal(oidcCalls.length, 0, 'OIDC endpoint only for WIF without idToken');
  });
}

// Workload identity federation in both kinds of job, with and without System.OidcRequestUri. Without it the task
// builds the plan-scoped route from the job's variables the way azure-arm-rest does (src/auth/oidc.ts); the DevOps
// host answers that route only for a plan of the hub named in it (test/emulator/devops/oidc.ts).
for (const hub of ['build', 'release'] as const) {
  for (const withUri of [true, false]) {
    test(`WIF in a ${hub === 'build' ? 'build' : 'classic release'} job ${withUri ? 'with' : 'without'} System.OidcRequestUri`, async () => {
      const plan = box.jobPlans.find((p) => p.hub === hub)!;
      const route = `/${new URL(box.collectionUri).pathname.split('/').filter(Boolean).join('/')}/${box.projectId}/_apis/distributedtask/hubs/${hub}/plans/${plan.planId}/jobs/${plan.jobId}/oidctoken`;
      const env: Record<string, string> = {
        SYSTEM_HOSTTYPE: hub,
        SYSTEM_PLANID: plan.planId,
        SYSTEM_JOBID: plan.jobId,
        SYSTEM_OIDCREQUESTURI: withUri
          ? `${box.collectionUri}${box.projectId}/_apis/distributedtask/hubs/${hub}/plans/${plan.planId}/jobs/${plan.jobId}/oidctoken`
          : '',
      };
      if (hub === 'release')
        Object.assign(env, {
          RELEASE_RELEASEID: '7',
          RELEASE_RELEASENAME: 'Release-7',
          RELEASE_ENVIRONMENTNAME: 'prod',
          SYSTEM_TEAMFOUNDATIONSERVERURI: 'https://vsrm.example.invalid/org/',
        });
      const before = box.requests.length;
      const r = await runBundledTask('AuthFixture', { box, scriptPath, scheme: 'wif', inputs: { mode: 'token' }, env });
      assert.equal(r.result, 'Succeeded', r.stdout + r.stderr);
      const oidcCalls = box.requests.slice(before).filter((c) => /oidctoken/.test(c.url));
      assert.ok(oidcCalls.length >= 1, 'the OIDC endpoint was asked');
      for (const c of oidcCalls) {
        const u = new URL(c.url, box.collectionUri);
        assert.equal(c.method, 'POST');
        assert.equal(c.status, 200);
        assert.equal(u.pathname, route);
        assert.equal(u.searchParams.get('api-version'), '7.1');
        assert.equal(u.searchParams.get('serviceConnectionId'), 'conn-wif');
      }
    });
  }
}

test("WIF: the DevOps host refuses a plan under another hub (System.HostType must name the plan's hub)", async () => {
  const plan = box.jobPlans.find((p) => p.hub === 'release')!;
  const before = box.requests.length;
  const r = await runBundledTask('AuthFixture', {
    box,
    scriptPath,
    scheme: 'wif',
    inputs: { mode: 'token' },
    env: { SYSTEM_HOSTTYPE: 'build', SYSTEM_PLANID: plan.planId, SYSTEM_JOBID: plan.jobId, SYSTEM_OIDCREQUESTURI: '' },
  });
  assert.equal(r.result, 'Failed');
  assert.match(
    r.message!,
    /^Authentication failed for service connection 'conn-wif': .*Plan .* not found in hub build/,
  );
  assert.ok(
    box.requests.slice(before).some((c) => /\/hubs\/build\/plans\/.*\/oidctoken/.test(c.url) && c.status === 404),
  );
});

test('wrong client secret → one line with the AADSTS code, no stack, no secret', async () => {
  const env = connectionEnv({ ...box, clientSecret: 'Wrong~Secret_value_0123456789' }, 'conn-bad', 'secret');
  const r = await runBundledTask('AuthFixture', {
    box,
    scriptPath,
    inputs: { mode: 'token', connection: 'conn-bad' },
    env,
    secrets: { wrong: 'Wrong~Secret_value_0123456789' },
  });
  assert.equal(r.result, 'Failed');
  assert.match(r.message!, /^Authentication failed for service connection 'conn-bad': AADSTS7000215: /);
  assert.deepEqual(r.errors, [r.message]);
  assert.ok(
    !/^\s+at /m.test(
      r.stdout
        .split('\n')
        .filter((l) => !l.startsWith('##vso[task.debug]'))
        .join('\n'),
    ),
  );
});

test('WIF with a job token the OIDC endpoint refuses → one line', async () => {
  const r = await runBundledTask('AuthFixture', {
    box,
    scriptPath,
    scheme: 'wif',
    inputs: { mode: 'token' },
    env: {
      ENDPOINT_AUTH_SYSTEMVSSCONNECTION: JSON.stringify({
        scheme: 'OAuth',
        parameters: { AccessToken: 'not-the-job-token-0000' },
      }),
    },
    secrets: { bad: 'not-the-job-token-0000' },
  });
  assert.equal(r.result, 'Failed');
  assert.match(r.message!, /^Authentication failed for service connection 'conn-wif': .*OIDC/);
});

// ManagedServiceIdentity: IMDS (169.254.169.254, what a VM / scale-set agent uses) is not reachable here. The agent's
// host is emulated as an App Service-style one: the machine's IDENTITY_ENDPOINT + IDENTITY_HEADER (set by
// runBundledTask for the msi schemes) point @azure/identity at Azure-in-a-box's loopback identity endpoint (protocol
// 2019-08-01, see test/emulator/entra.ts). Nothing in src/ knows: the source is chosen from the machine's environment.
for (const [scheme, who] of [
  ['msi', 'system-assigned'],
  ['msi-user', 'user-assigned'],
] as const) {
  test(`token for ARM with scheme ${scheme} (${who} identity of the agent's host)`, async () => {
    const before = box.requests.length;
    const r = await runBundledTask('AuthFixture', { box, scriptPath, scheme, inputs: { mode: 'token' } });
    assert.equal(r.result, 'Succeeded', r.stdout + r.stderr);
    const tok = JSON.parse(r.stdout.match(/^TOKEN (.*)$/m)![1]);
    assert.equal(tok.ok, true);
    assert.ok(tok.expiresOnTimestamp > Date.now() + 3600_000, 'expires_on (epoch seconds) understood');
    const calls = box.requests.slice(before);
    const mi = calls.filter((c) => c.host === 'identity');
    assert.equal(mi.length, 1, JSON.stringify(calls));
    const q = new URL(mi[0].url, 'http://x').searchParams;
    assert.equal(mi[0].status, 200);
    assert.equal(q.get('api-version'), '2019-08-01');
    assert.equal(
      q.get('resource'),
      'https://management.core.windows.net/',
      'scope //.default → resource with its slash',
    );
    assert.equal(q.get('client_id'), scheme === 'msi-user' ? box.managedIdentity.userClientId : null);
    assert.ok(!calls.some((c) => c.host === 'entra' || /oidctoken/.test(c.url)), 'no Entra or OIDC request');
    assert.ok(
      r.commands.some((c) => c.name === 'task.setsecret'),
      'the access token is masked',
    );
  });
}

test('the identity endpoint honours the App Service contract: header, api-version, identity selection', async () => {
  const mi = box.managedIdentity;
  const get = async (query: string, header: string | null = mi.header) => {
    const res = await fetch(`${mi.endpoint}?${query}`, {
      headers: header === null ? {} : { 'X-IDENTITY-HEADER': header },
    });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };
  const arm = 'resource=https://management.core.windows.net&api-version=2019-08-01';
  const sys = await get(arm);
  assert.equal(sys.status, 200);
  assert.equal(sys.body.client_id, mi.systemClientId);
  assert.equal(sys.body.token_type, 'Bearer');
  assert.equal(sys.body.resource, 'https://management.core.windows.net');
  assert.match(sys.body.expires_on, /^\d{10}$/);
  const claims = JSON.parse(Buffer.from(sys.body.access_token.split('.')[1], 'base64url').toString());
  assert.equal(claims.appid, mi.systemClientId);
  assert.equal(claims.aud, 'https://management.core.windows.net', 'aud = the resource as given');
  assert.equal(claims.tid, box.tenantId);
  // ARM accepts it as that identity
  const sub = await fetch(
    `${box.armUrl}subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${box.workspace}?api-version=2022-10-01`,
    {
      headers: { authorization: `Bearer ${sys.body.access_token}` },
    },
  );
  assert.equal(sub.status, 200);
  assert.equal((await get(`${arm}&client_id=${mi.userClientId}`)).body.client_id, mi.userClientId);
  assert.equal(
    (await get(`${arm}&mi_res_id=${encodeURIComponent(mi.userResourceId)}`)).body.client_id,
    mi.userClientId,
  );
  const unknown = await get(`${arm}&client_id=${box.clientId}`);
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body.message, 'Unable to load the proper Managed Identity.');
  assert.equal((await get(arm, 'not-the-header')).status, 401);
  assert.equal((await get(arm, null)).status, 400);
  assert.equal((await get('resource=https://management.core.windows.net&api-version=2018-02-01')).status, 400);
  assert.equal((await get('api-version=2019-08-01')).status, 400);
});

test('msi with a client id the host has no identity for → one line naming the connection, no stack', async () => {
  const r = await runBundledTask('AuthFixture', {
    box,
    scriptPath,
    scheme: 'msi',
    inputs: { mode: 'token' },
    connectionData: { msiclientId: box.clientId },
  });
  assert.equal(r.result, 'Failed');
  assert.match(
    r.message!,
    /^Authentication failed for service connection 'conn-msi': .*Unable to load the proper Managed Identity\./,
  );
  assert.ok(!r.message!.includes('\n'));
  assert.deepEqual(r.errors, [r.message]);
  assert.ok(
    !/^\s+at /m.test(
      r.stdout
        .split('\n')
        .filter((l) => !l.startsWith('##vso[task.debug]'))
        .join('\n') + r.stderr,
    ),
  );
});

test('msi with the identity endpoint not listening → one line naming the connection, no stack (after the client retries, ~5 s)', async () => {
  // a loopback port that was just free: connection refused, like a host whose identity endpoint is down
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const before = box.requests.length;
  const r = await runBundledTask('AuthFixture', {
    box,
    scriptPath,
    scheme: 'msi',
    inputs: { mode: 'token' },
    env: { IDENTITY_ENDPOINT: `http://127.0.0.1:${port}/msi/token` },
  });
  assert.equal(r.result, 'Failed');
  assert.match(r.message!, /^Authentication failed for service connection 'conn-msi': .*[Nn]etwork/);
  assert.ok(!r.message!.includes('\n'));
  assert.ok(
    !/^\s+at /m.test(
      r.stdout
        .split('\n')
        .filter((l) => !l.startsWith('##vso[task.debug]'))
        .join('\n') + r.stderr,
    ),
  );
  assert.ok(!box.requests.slice(before).some((c) => c.host === 'identity' || c.host === 'entra'));
});
