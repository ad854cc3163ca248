// Self-hosted agent behind a corporate proxy: the bundled tasks get the agent's proxy as the real agent gives it
// (Agent.ProxyUrl / Agent.ProxyUsername / Agent.ProxyBypassList as variables, Agent.ProxyPassword as a SECRET_
// variable) and must send every request through it: ARM, Entra, the Azure DevOps OIDC and REST hosts (https, CONNECT)
// and the datastore's storage account (plain http to Azurite, forwarded in absolute form). The task process runs
// WITHOUT the resolve-localhost preload, so the storage account's *.localhost name resolves only at the proxy.
// "Nothing direct" is judged from the emulator's request log: every request's client port must be one of the
// proxy's upstream connections.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startAzureInABox, type AzureInABox } from '../emulator';
import { startProxy, type RunningProxy } from '../emulator/proxy';
import { addReleaseDefinition, listReleases } from '../emulator/devops/release';
import { runBundledTask, type RunOptions, type TaskRunWithLeaks, explainRun } from '../helpers/agent';

const USER = 'svc-agent';
const PASSWORD = `Pr0xy!${randomBytes(12).toString('base64url')}`;
let box: AzureInABox;
let proxy: RunningProxy;
let cwd: string;
const port = (u: string) => new URL(u).port;

before(async () => {
  [box, proxy] = await Promise.all([
    startAzureInABox({ fastLro: true }),
    startProxy({ username: USER, password: PASSWORD }),
  ]);
  cwd = mkdtempSync(path.join(tmpdir(), 'proxy-e2e-'));
  mkdirSync(path.join(cwd, 'model'), { recursive: true });
  writeFileSync(
    path.join(cwd, 'model', 'model.json'),
    JSON.stringify({ coef: [0.1, 0.2], seed: randomBytes(8).toString('hex') }),
  );
});
after(async () => {
  await Promise.all([box?.stop(), proxy?.close()]);
});

/** the agent's proxy variables; NODE_OPTIONS cleared: no resolve-localhost preload in the task process */
function behindProxy(o: { password?: string; bypass?: string[] } = {}): Partial<RunOptions> {
  return {
    variables: {
      'Agent.ProxyUrl': proxy.url,
      'Agent.ProxyUsername': USER,
      'Agent.ProxyBypassList': JSON.stringify(o.bypass ?? []),
    },
    secrets: { 'Agent.ProxyPassword': o.password ?? PASSWORD },
    env: { NODE_OPTIONS: '' },
  };
}
const explain = (r: TaskRunWithLeaks) => explainRun(r, { lines: 25 });
const register = (modelName: string, opts: Partial<RunOptions>) =>
  runBundledTask('AzureMLModelRegister', {
    box,
    scheme: 'secret',
    timeoutMs: 60_000,
    cwd,
    ...opts,
    inputs: {
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      modelName,
      modelPath: 'model',
      modelType: 'custom_model',
    },
  });
const marks = () => ({ req: box.requests.length, sto: box.storageRequests.length, log: proxy.log.length });

describe('behind the agent proxy', () => {
  test('register (WIF) and release trigger: every request through the proxy (ARM, Entra, DevOps, storage); password never printed', async () => {
    const m = marks();
    const reg = await register('m-proxy', { ...behindProxy(), scheme: 'wif' });
    assert.equal(reg.result, 'Succeeded', explain(reg));
    const version = reg.outputs.modelVersion!;

    const def = addReleaseDefinition(box.ctx, { name: 'cd-proxy', model: 'm-proxy' });
    const trig = await runBundledTask('AzureMLReleaseTrigger', {
      box,
      scheme: 'secret',
      timeoutMs: 60_000,
      ...behindProxy(),
      inputs: {
        resourceGroup: box.resourceGroup,
        workspace: box.workspace,
        mode: 'push',
        target: 'release',
        modelName: 'm-proxy',
        modelVersion: version,
        releaseDefinition: 'cd-proxy',
      },
    });
    assert.equal(trig.result, 'Succeeded', explain(trig));
    assert.equal(listReleases(box.ctx, def.id).length, 1);

    const seen = proxy.log.slice(m.log);
    const connects = new Set(seen.filter((e) => e.method === 'CONNECT' && e.status === 200).map((e) => e.target));
    for (const [what, p] of [
      ['ARM', port(box.armUrl)],
      ['Entra', port(box.authorityHost)],
      ['Azure DevOps', port(box.collectionUri)],
    ] as const) {
      assert.ok(connects.has(`127.0.0.1:${p}`), `CONNECT to ${what} (127.0.0.1:${p}); saw ${[...connects].join(', ')}`);
    }
    assert.ok(
      seen.some(
        (e) =>
          e.method === 'PUT' &&
          e.target === `devstoreaccount1.blob.localhost:${box.azurite.proxyPort}` &&
          e.status === 201,
      ),
      'blob upload forwarded by the proxy',
    );

    const reqs = box.requests.slice(m.req);
    for (const host of ['arm', 'entra', 'devops'])
      assert.ok(
        reqs.some((q) => q.host === host),
        `requests reached ${host}`,
      );
    const direct = [...reqs, ...box.storageRequests.slice(m.sto)].filter(
      (q) => !proxy.upstreamPorts.has(q.remotePort!),
    );
    assert.deepEqual(
      direct.map((q) => `${q.host} ${q.method} ${q.url}`),
      [],
      'nothing reached a host directly',
    );

    for (const r of [reg, trig]) {
      const lines = `${r.stdout}\n${r.stderr}`.split('\n');
      assert.ok(lines.includes(`##vso[task.setsecret]${PASSWORD}`), 'the proxy password is masked (task.setsecret)');
      assert.deepEqual(
        lines.filter((l) => l.includes(PASSWORD) && !l.startsWith('##vso[task.setsecret]')),
        [],
        'proxy password printed',
      );
    }
  });

  test('a bypass-list entry sends that host direct (Entra), the rest still through the proxy', async () => {
    const m = marks();
    const entraPort = port(box.authorityHost);
    const r = await register('m-bypass', behindProxy({ bypass: [`^https://127\\.0\\.0\\.1:${entraPort}/`] }));
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.ok(
      !proxy.log.slice(m.log).some((e) => e.target === `127.0.0.1:${entraPort}`),
      'no CONNECT to the bypassed host',
    );
    const reqs = box.requests.slice(m.req);
    const entra = reqs.filter((q) => q.host === 'entra');
    assert.ok(
      entra.length > 0 && entra.every((q) => !proxy.upstreamPorts.has(q.remotePort!)),
      'Entra reached directly',
    );
    const arm = reqs.filter((q) => q.host === 'arm');
    assert.ok(arm.length > 0 && arm.every((q) => proxy.upstreamPorts.has(q.remotePort!)), 'ARM through the proxy');
  });

  test('wrong proxy credentials: one clear line naming the proxy and 407, no stack, nothing changed in Azure', async () => {
    const m = marks();
    const r = await register('m-407', behindProxy({ password: 'not-the-password' }));
    assert.equal(r.result, 'Failed', explain(r));
    assert.match(
      r.message ?? '',
      new RegExp(
        `proxy ${proxy.url.replace(/[.]/g, '\\.')} refused .*407 Proxy Authentication Required.*Agent\\.ProxyUsername '${USER}'`,
      ),
      explain(r),
    );
    assert.ok(proxy.log.slice(m.log).some((e) => e.status === 407));
    const visible = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => !l.startsWith('##vso[task.debug'));
    assert.deepEqual(
      visible.filter((l) => /^\s+at /.test(l)),
      [],
      'no stack trace',
    );
    assert.deepEqual(
      box.requests
        .slice(m.req)
        .filter((q) => q.method !== 'GET')
        .map((q) => q.url),
      [],
      'nothing reached Azure',
    );
  });
});
