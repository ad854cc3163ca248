// The ARM token audience in every cloud: the bundled fixture task (src/pipeline + src/auth) is handed an AzureRM
// connection with that cloud's values (test/emulator/clouds.ts, each with its source) while Azure-in-a-box stands for
// that cloud: its Entra ID issues aud = the scope without "/.default" and knows only that cloud's ARM identifiers,
// its ARM accepts only that cloud's ARM audiences. The scope is the audience + "/.default", trailing slash kept.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAzureInABox, type AzureInABox } from '../emulator';
import { CLOUDS, type CloudName } from '../emulator/clouds';
import { runBundledTask, type AuthScheme } from '../helpers/agent';
import { fixtureTaskScript } from '../helpers/fixture';

let box: AzureInABox;
const scriptPath = fixtureTaskScript();
const names = Object.keys(CLOUDS) as CloudName[];

before(async () => {
  box = await startAzureInABox();
});
after(async () => {
  box?.setCloud('AzureCloud');
  await box?.stop();
});

const wsPath = () =>
  `subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${box.workspace}?api-version=2022-10-01`;

async function tokenRun(cloud: CloudName, scheme: AuthScheme) {
  const c = CLOUDS[cloud];
  const r = await runBundledTask('AuthFixture', {
    box,
    scriptPath,
    scheme,
    inputs: { mode: 'token', armPath: wsPath() },
    connectionData: {
      environment: c.name,
      activeDirectoryServiceEndpointResourceId: c.activeDirectoryServiceEndpointResourceId,
    },
  });
  const tok = r.stdout.match(/^TOKEN (.*)$/m);
  const arm = r.stdout.match(/^ARM (.*)$/m);
  return { r, tok: tok ? JSON.parse(tok[1]) : undefined, arm: arm ? JSON.parse(arm[1]) : undefined };
}

for (const cloud of names) {
  const c = CLOUDS[cloud];
  for (const scheme of ['secret', 'wif', 'msi'] as AuthScheme[]) {
    test(`${cloud}: ${scheme} connection → scope '${c.activeDirectoryServiceEndpointResourceId}/.default', aud as given, ARM accepts it`, async () => {
      box.setCloud(cloud);
      const before = box.requests.length;
      const { r, tok, arm } = await tokenRun(cloud, scheme);
      assert.equal(r.result, 'Succeeded', r.stdout + r.stderr);
      assert.equal(tok.scope, `${c.activeDirectoryServiceEndpointResourceId}/.default`);
      assert.equal(tok.aud, c.activeDirectoryServiceEndpointResourceId);
      assert.ok(c.armAudiences.includes(tok.aud));
      assert.deepEqual(arm, { status: 200 });
      if (scheme === 'msi') {
        const mi = box.requests.slice(before).find((x) => x.host === 'identity')!;
        assert.equal(
          new URL(mi.url, 'http://x').searchParams.get('resource'),
          c.activeDirectoryServiceEndpointResourceId,
        );
      }
    });
  }
}

test("each cloud: its Entra ID refuses another cloud's ARM resource (AADSTS500011), its ARM refuses another cloud's audience", async () => {
  for (const cloud of names) {
    box.setCloud(cloud);
    const other = names[(names.indexOf(cloud) + 1) % names.length]!;
    const { r } = await tokenRun(other, 'secret');
    assert.equal(r.result, 'Failed', `${cloud} box, ${other} connection`);
    assert.match(
      r.message!,
      new RegExp(
        `^Authentication failed for service connection 'conn-secret': AADSTS500011: The resource principal named ${CLOUDS[other].activeDirectoryServiceEndpointResourceId.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} was not found`,
      ),
    );
    // a token Entra would sign for the other cloud's audience (forged here with the box's key): ARM says which audiences it takes
    const app = box.ctx.apps().find((a) => a.clientId === box.clientId)!;
    const forged = box.ctx.issueAccessToken(app, CLOUDS[other].activeDirectoryServiceEndpointResourceId);
    const res = await fetch(`${box.armUrl}${wsPath()}`, { headers: { authorization: `Bearer ${forged}` } });
    assert.equal(res.status, 401);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'InvalidAuthenticationTokenAudience');
    assert.ok(
      body.error.message.endsWith(`allowed audiences '${CLOUDS[cloud].armAudiences.join("','")}'.`),
      body.error.message,
    );
  }
});

test('AzureCloud: ARM takes all four forms of its audience and no other', async () => {
  box.setCloud('AzureCloud');
  const app = box.ctx.apps().find((a) => a.clientId === box.clientId)!;
  const status = async (aud: string) =>
    (
      await fetch(`${box.armUrl}${wsPath()}`, {
        headers: { authorization: `Bearer ${box.ctx.issueAccessToken(app, aud)}` },
      })
    ).status;
  for (const aud of [
    'https://management.core.windows.net/',
    'https://management.core.windows.net',
    'https://management.azure.com/',
    'https://management.azure.com',
  ]) {
    assert.equal(await status(aud), 200, aud);
  }
  for (const aud of [
    'https://management.core.windows.net//',
    'https://management.azure.com/x',
    'https://graph.microsoft.com/',
    'https://management.core.usgovcloudapi.net/',
  ]) {
    assert.equal(await status(aud), 401, aud);
  }
});
