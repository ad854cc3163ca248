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
    assert.ok(calls.some((c) => c.host === 'entra' && /\/oauth2\/v2\.0\/token/.test(c.url) && c.status === 200), 'token endpoint used');
    const oidcCalls = calls.filter((c) => /oidctoken/.test(c.url));
    // identity 4.13 asks for the assertion more than once per token: each time is a fresh OIDC request
    if (scheme === 'wif') assert.ok(oidcCalls.length >= 1 && oidcCalls.every((c) => c.status === 200 && /serviceConnectionId=conn-wif/.test(c.url)));
    else assert.equal(oidcCalls.length, 0, 'OIDC endpoint only for WIF without idToken');
  });
}

test('wrong client secret → one line with the AADSTS code, no stack, no secret', async () => {
  const env = connectionEnv({ ...box, clientSecret: 'Wrong~Secret_value_0123456789' }, 'conn-bad', 'secret');
  const r = await runBundledTask('AuthFixture', { box, scriptPath, inputs: { mode: 'token', connection: 'conn-bad' }, env, secrets: { wrong: 'Wrong~Secret_value_0123456789' } });
  assert.equal(r.result, 'Failed');
  assert.match(r.message!, /^Authentication failed for service connection 'conn-bad': AADSTS7000215: /);
  assert.deepEqual(r.errors, [r.message]);
  assert.ok(!/^\s+at /m.test(r.stdout.split('\n').filter((l) => !l.startsWith('##vso[task.debug]')).join('\n')));
});

test('WIF with a job token the OIDC endpoint refuses → one line', async () => {
  const r = await runBundledTask('AuthFixture', {
    box, scriptPath, scheme: 'wif', inputs: { mode: 'token' },
    env: { ENDPOINT_AUTH_SYSTEMVSSCONNECTION: JSON.stringify({ scheme: 'OAuth', parameters: { AccessToken: 'not-the-job-token-0000' } }) },
    secrets: { bad: 'not-the-job-token-0000' },
  });
  assert.equal(r.result, 'Failed');
  assert.match(r.message!, /^Authentication failed for service connection 'conn-wif': .*OIDC/);
});
