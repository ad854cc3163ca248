// `npm run demo -- --registry` as a test: the registry layout of samples/pipelines/cd-registry.yml on one
// Azure-in-a-box (fast timing), twice on the same state. First run: the dev version is promoted into the registry and
// deployed from there to the staging workspace (another resource group) and the production workspace (another
// subscription), both deployments naming the registry version. Second run: nothing new anywhere.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAzureInABox, type AzureInABox } from '../emulator';
import { runDemo, type DemoResult } from '../../scripts/demo';

let box: AzureInABox;
let tmp: string;
const lines: string[] = [];

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-registry-e2e-'));
  box = await startAzureInABox({ stateDir: path.join(tmp, 'state'), fastLro: true });
});
after(async () => {
  await box?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const demo = () =>
  runDemo({
    box,
    stateDir: box.stateDir,
    fast: true,
    registry: true,
    outDir: path.join(tmp, 'out'),
    print: (l) => lines.push(l.replace(/\u001b\[[0-9;]*m/g, '')),
  });
const notOk = (r: DemoResult) =>
  r.steps.filter((s) => s.status !== 'ok').map((s) => `${s.id}: ${s.status} — ${s.note}`);
const REG_URI = 'azureml://registries/contoso-mlreg/models/diabetes-classifier/versions/1';
const registryVersions = () =>
  box.store
    .list<{ registry: string }>('registryModelVersions')
    .filter((v) => /\/registries\/contoso-mlreg$/i.test(v.registry));
const deployments = () =>
  box.store
    .list<{ resource: { id: string; properties: { model?: string } } }>('onlineDeployments')
    .map((d) => ({ id: d.resource.id.toLowerCase(), model: d.resource.properties.model }));
const armWrites = (from: number) =>
  box.requests
    .slice(from)
    .filter((q) => q.host === 'arm' && q.method !== 'GET' && !/\/listkeys|\/listsecrets|\/token/i.test(q.url));

test('registry layout: promote, staging and production from the registry version; the rerun writes nothing', async () => {
  const first = await demo();
  assert.deepEqual(notOk(first), [], lines.slice(-60).join('\n'));
  assert.deepEqual(
    first.steps.map((s) => s.id),
    ['reg-setup', 'submit', 'wait', 'register', 'promote', 'reg-staging', 'reg-prod'],
  );
  assert.equal(first.step('promote')!.facts.registryModelUri, REG_URI);
  assert.equal(registryVersions().length, 1);
  const deps = deployments();
  const staging = deps.filter(
    (d) => d.id.includes('/resourcegroups/rg-ml-staging/') && d.id.includes('/workspaces/mlw-staging/'),
  );
  const prod = deps.filter(
    (d) => d.id.includes('/resourcegroups/rg-ml-prod/') && d.id.includes('/workspaces/mlw-prod/'),
  );
  assert.equal(staging.length, 1, JSON.stringify(deps));
  assert.equal(prod.length, 1, JSON.stringify(deps));
  assert.ok(!prod[0]!.id.includes(box.subscriptionId.toLowerCase()), 'production is in another subscription');
  for (const d of [...staging, ...prod]) assert.equal(d.model, REG_URI, 'deployed from the registry, not a copy');

  assert.ok(armWrites(0).length > 5, 'the first run wrote (the write filter sees ARM writes)');
  const from = box.requests.length;
  const second = await demo();
  assert.deepEqual(notOk(second), [], lines.slice(-60).join('\n'));
  assert.match(second.step('promote')!.note ?? '', /already in the registry/);
  assert.match(second.step('reg-staging')!.note ?? '', /already serving, no traffic change/);
  assert.match(second.step('reg-prod')!.note ?? '', /already serving, no traffic change/);
  assert.equal(registryVersions().length, 1);
  assert.deepEqual(
    armWrites(from).map((q) => `${q.method} ${q.url.split('?')[0]}`),
    [],
    'the rerun writes nothing in Azure',
  );
});
