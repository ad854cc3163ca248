// Azure-in-a-box online endpoints: control plane through the SDK (and raw REST where the SDK hides the wire),
// data plane through the front door's scoring URI, with real scoring hosts running the fixture scripts.
//   NODE_EXTRA_CA_CERTS=$(npx tsx test/emulator/ca.ts) node --import tsx --test test/e2e/endpoints-emulator.test.ts
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ClientSecretCredential } from '@azure/identity';
import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { startAzureInABox, type AzureInABox } from '../emulator/index';

const FIX = path.resolve(import.meta.dirname, '..', 'fixtures', 'scoring');
const API = 'api-version=2022-10-01';
const SCOPE = 'https://management.core.windows.net/.default';

/** one box + SDK client + the uploaded model and scoring code */
interface World {
  box: AzureInABox;
  client: AzureMachineLearningWorkspaces;
  cred: ClientSecretCredential;
  rg: string;
  ws: string;
  wsPath: string;
  ids: Record<string, string>;
}

async function armCall(
  w: World,
  method: string,
  p: string,
  body?: unknown,
): Promise<{ status: number; headers: Headers; json: any }> {
  const t = await w.cred.getToken(SCOPE);
  const url = p.startsWith('https://')
    ? p
    : `${w.box.armUrl.replace(/\/$/, '')}${p}${p.includes('?') ? '&' : '?'}${API}`;
  const r = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: r.status, headers: r.headers, json };
}

/** terminal statuses of an operation (the service reads `Updating` while it runs) */
const TERMINAL_OP = /^(Succeeded|Failed|Canceled)$/;

/** poll an Azure-AsyncOperation URL until it is terminal; returns the final status body */
async function waitOp(w: World, op: string, timeoutMs = 30_000): Promise<any> {
  const t0 = Date.now();
  let st = await armCall(w, 'GET', op);
  while (!TERMINAL_OP.test(st.json.status) && Date.now() - t0 < timeoutMs) {
    await new Promise((r) => setTimeout(r, 100));
    st = await armCall(w, 'GET', op);
  }
  return st.json;
}

async function score(
  uri: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; text: string; json?: any }> {
  const r = await fetch(uri, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, headers: r.headers, text, json };
}

async function uploadFolder(w: World, localDir: string, prefix: string): Promise<void> {
  const bsc = new BlobServiceClient(
    w.box.azurite.blobEndpoint,
    new StorageSharedKeyCredential(w.box.azurite.account, w.box.azurite.key),
  );
  const cc = bsc.getContainerClient(w.box.azurite.container);
  for (const f of fs.readdirSync(localDir, { recursive: true }) as string[]) {
    const full = path.join(localDir, f);
    if (fs.statSync(full).isFile())
      await cc.getBlockBlobClient(`${prefix}/${f.split(path.sep).join('/')}`).uploadFile(full);
  }
}

/** a code version whose snapshot (a folder `onlinescoring`) holds `files` (name → content); codeUri is the blob URL, as azure-ai-ml registers it */
async function codeVersion(w: World, name: string, files: Record<string, string>): Promise<string> {
  const tmp = fs.mkdtempSync(path.join(w.box.stateDir, 'code-'));
  const dir = path.join(tmp, 'onlinescoring');
  fs.mkdirSync(dir);
  for (const [f, c] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), c);
  const hash = randomUUID().replace(/-/g, '');
  await uploadFolder(w, dir, `LocalUpload/${hash}/onlinescoring`);
  const codeUri = `${w.box.azurite.blobEndpoint}/${w.box.azurite.container}/LocalUpload/${hash}/onlinescoring`;
  const v = await w.client.codeVersions.createOrUpdate(w.rg, w.ws, name, '1', {
    properties: { codeUri, isAnonymous: true },
  });
  return v.id!;
}

async function makeWorld(opts: { fastLro: boolean; stateDir?: string; assets?: boolean }): Promise<World> {
  const box = await startAzureInABox({ fastLro: opts.fastLro, stateDir: opts.stateDir });
  const rg = box.resourceGroup,
    ws = box.workspace;
  const cred = new ClientSecretCredential(box.tenantId, box.clientId, box.clientSecret, {
    authorityHost: box.authorityHost,
    disableInstanceDiscovery: true,
  });
  const client = new AzureMachineLearningWorkspaces(cred, box.subscriptionId, {
    endpoint: box.armUrl,
    $host: box.armUrl,
    credentialScopes: [SCOPE],
  } as any);
  const w: World = {
    box,
    client,
    cred,
    rg,
    ws,
    ids: {},
    wsPath: `/subscriptions/${box.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.MachineLearningServices/workspaces/${ws}`,
  };
  if (opts.assets === false) return w;
  // model: a folder `model/` holding model.json, uploaded the way azure-ai-ml does (LocalUpload/<hash>/<name>)
  const mhash = randomUUID().replace(/-/g, '');
  await uploadFolder(w, path.join(FIX, 'model'), `LocalUpload/${mhash}/model`);
  const dsUri = `azureml://subscriptions/${box.subscriptionId}/resourcegroups/${rg}/workspaces/${ws}/datastores/workspaceblobstore/paths/LocalUpload/${mhash}/model`;
  const mv = await client.modelVersions.createOrUpdate(rg, ws, 'linreg', '1', {
    properties: { modelUri: dsUri, modelType: 'custom_model' },
  });
  w.ids.model = mv.id!;
  w.ids.code = await codeVersion(w, 'score-ok', {
    'score.py': fs.readFileSync(path.join(FIX, 'ok', 'score.py'), 'utf8'),
  });
  w.ids.crash = await codeVersion(w, 'score-crash', {
    'score.py': fs.readFileSync(path.join(FIX, 'crash', 'score.py'), 'utf8'),
  });
  return w;
}

function managedDeployment(w: World, model: string, code: string, env: Record<string, string> = {}) {
  return {
    location: w.box.location,
    sku: { name: 'Default', capacity: 1 },
    properties: {
      endpointComputeType: 'Managed',
      instanceType: 'Standard_DS3_v2',
      model,
      codeConfiguration: { codeId: code, scoringScript: 'score.py' },
      environmentId: 'azureml://registries/azureml/environments/sklearn-1.5/versions/1',
      environmentVariables: env,
    },
  } as any;
}

// the main world (fast LROs); the describe blocks below share it
let W: World;
let box: AzureInABox,
  client: AzureMachineLearningWorkspaces,
  rg: string,
  ws: string,
  wsPath: string,
  ids: Record<string, string>;
const arm = (method: string, p: string, body?: unknown) => armCall(W, method, p, body);

before(async () => {
  W = await makeWorld({ fastLro: true });
  ({ box, client, rg, ws, wsPath, ids } = W);
});

after(async () => {
  await box?.stop();
});

describe('managed online endpoint', () => {
  let uri = '';
  let keys: { primaryKey?: string; secondaryKey?: string } = {};
  const rows = {
    data: [
      [1, 0, 0],
      [0, 0, 2],
    ],
  }; // weights [1,2,3], bias 0.5 → [1.5, 6.5]

  test('create endpoint: 201 Creating + Azure-AsyncOperation, then Succeeded with a scoring URI on the front door', async () => {
    const put = await arm('PUT', `${wsPath}/onlineEndpoints/ep-blue-green`, {
      location: box.location,
      properties: { authMode: 'Key', description: 'tests' },
    });
    assert.equal(put.status, 201, JSON.stringify(put.json));
    assert.equal(put.json.properties.provisioningState, 'Creating');
    assert.equal(put.json.properties.keys, null);
    const op = put.headers.get('azure-asyncoperation');
    assert.match(op ?? '', /mfeOperationsStatus/);
    let st = await arm('GET', op!);
    for (let i = 0; i < 50 && !TERMINAL_OP.test(st.json.status); i++) {
      await new Promise((r) => setTimeout(r, 50));
      st = await arm('GET', op!);
    }
    assert.equal(st.json.status, 'Succeeded');
    const ep = await client.onlineEndpoints.get(rg, ws, 'ep-blue-green');
    assert.equal(ep.properties.provisioningState, 'Succeeded');
    uri = ep.properties.scoringUri!;
    assert.match(uri, /^https:\/\/127\.0\.0\.1:\d+\/endpoints\/ep-blue-green\/score$/);
    keys = await client.onlineEndpoints.listKeys(rg, ws, 'ep-blue-green');
    assert.match(keys.primaryKey ?? '', /^[A-Za-z0-9]{32}$/);
    assert.notEqual(keys.primaryKey, keys.secondaryKey);
    const list = await client.onlineEndpoints.list(rg, ws).byPage().next();
    assert.ok((list.value as any[]).some((e) => e.name === 'ep-blue-green'));
  });

  test('deployment blue: Creating → Succeeded, serves the model through the deployment header at 0 % traffic', async () => {
    const d = await client.onlineDeployments.beginCreateOrUpdateAndWait(
      rg,
      ws,
      'ep-blue-green',
      'blue',
      managedDeployment(W, ids.model, ids.code, { DEPLOYMENT_COLOR: 'blue' }),
      { updateIntervalInMs: 50 },
    );
    assert.equal(d.properties.provisioningState, 'Succeeded');
    // no traffic yet: the service's 404
    const none = await score(uri, rows, { authorization: `Bearer ${keys.primaryKey}` });
    assert.equal(none.status, 404);
    assert.match(none.text, /No valid deployments to route to/);
    const direct = await score(uri, rows, {
      authorization: `Bearer ${keys.primaryKey}`,
      'azureml-model-deployment': 'blue',
    });
    assert.equal(direct.status, 200, direct.text);
    assert.deepEqual(direct.json.predictions, [1.5, 6.5]);
    assert.equal(direct.json.served_by, 'blue');
    assert.equal(direct.headers.get('azureml-model-deployment'), 'blue');
    const logs = await client.onlineDeployments.getLogs(rg, ws, 'ep-blue-green', 'blue', { tail: 200 });
    assert.match(logs.content ?? '', /Model loaded from .*azureml-models\/linreg\/1\/model\/model\.json/);
    const init = await client.onlineDeployments.getLogs(rg, ws, 'ep-blue-green', 'blue', {
      containerType: 'StorageInitializer',
    });
    assert.match(init.content ?? '', /Downloading model linreg:1/);
  });

  test('scoring needs the key: 401 without, with a wrong one; both keys work', async () => {
    const ep = await client.onlineEndpoints.get(rg, ws, 'ep-blue-green');
    ep.properties.traffic = { blue: 100 };
    await client.onlineEndpoints.beginCreateOrUpdateAndWait(rg, ws, 'ep-blue-green', ep, { updateIntervalInMs: 50 });
    assert.equal((await score(uri, rows)).status, 401);
    assert.equal((await score(uri, rows, { authorization: 'Bearer not-the-key' })).status, 401);
    const ok1 = await score(uri, rows, { authorization: `Bearer ${keys.primaryKey}` });
    assert.equal(ok1.status, 200);
    assert.equal(ok1.headers.get('azureml-model-deployment'), 'blue');
    assert.equal((await score(uri, rows, { authorization: `Bearer ${keys.secondaryKey}` })).status, 200);
  });

  test('green at 0 %: reachable only with the header; 90/10 split is exact over 100 requests', async () => {
    await client.onlineDeployments.beginCreateOrUpdateAndWait(
      rg,
      ws,
      'ep-blue-green',
      'green',
      managedDeployment(W, ids.model, ids.code, { DEPLOYMENT_COLOR: 'green' }),
      { updateIntervalInMs: 50 },
    );
    const auth = { authorization: `Bearer ${keys.primaryKey}` };
    for (let i = 0; i < 5; i++)
      assert.equal((await score(uri, rows, auth)).headers.get('azureml-model-deployment'), 'blue');
    const g = await score(uri, rows, { ...auth, 'azureml-model-deployment': 'green' });
    assert.equal(g.status, 200);
    assert.equal(g.json.served_by, 'green');
    const ep = await client.onlineEndpoints.get(rg, ws, 'ep-blue-green');
    ep.properties.traffic = { blue: 90, green: 10 };
    await client.onlineEndpoints.beginCreateOrUpdateAndWait(rg, ws, 'ep-blue-green', ep, { updateIntervalInMs: 50 });
    const served: Record<string, number> = {};
    for (let i = 0; i < 100; i++) {
      const r = await score(uri, rows, auth);
      assert.equal(r.status, 200);
      const who = r.headers.get('azureml-model-deployment')!;
      assert.equal(r.json.served_by, who);
      served[who] = (served[who] ?? 0) + 1;
    }
    assert.deepEqual(served, { blue: 90, green: 10 });
  });

  test('traffic validation: sum ≠ 100 → 400, unknown deployment → 400, and the traffic stays as it was', async () => {
    const body = (traffic: Record<string, number>) => ({
      location: box.location,
      properties: { authMode: 'Key', traffic },
    });
    const bad = await arm('PUT', `${wsPath}/onlineEndpoints/ep-blue-green`, body({ blue: 50, green: 40 }));
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /Traffic values must sum to 100/);
    const unknown = await arm('PUT', `${wsPath}/onlineEndpoints/ep-blue-green`, body({ blue: 100, purple: 0 }));
    assert.equal(unknown.status, 400);
    assert.match(unknown.json.error.message, /deployment purple cannot be set since it does not exist/);
    const frac = await arm('PUT', `${wsPath}/onlineEndpoints/ep-blue-green`, body({ blue: 99.5, green: 0.5 }));
    assert.equal(frac.status, 400);
    const ep = await client.onlineEndpoints.get(rg, ws, 'ep-blue-green');
    assert.deepEqual(ep.properties.traffic, { blue: 90, green: 10 });
    // SDK surfaces the same error
    ep.properties.traffic = { blue: 10 };
    await assert.rejects(
      client.onlineEndpoints.beginCreateOrUpdateAndWait(rg, ws, 'ep-blue-green', ep, { updateIntervalInMs: 50 }),
      (e: any) => e.statusCode === 400,
    );
  });

  test('a deployment with traffic cannot be deleted; at 0 % it can (host stopped, gone from the traffic map)', async () => {
    const del = await arm('DELETE', `${wsPath}/onlineEndpoints/ep-blue-green/deployments/green`);
    assert.equal(del.status, 400);
    assert.match(del.json.error.message, /green cannot be deleted because it has 10% of the traffic/);
    const ep = await client.onlineEndpoints.get(rg, ws, 'ep-blue-green');
    ep.properties.traffic = { blue: 100, green: 0 };
    await client.onlineEndpoints.beginCreateOrUpdateAndWait(rg, ws, 'ep-blue-green', ep, { updateIntervalInMs: 50 });
    await client.onlineDeployments.beginDeleteAndWait(rg, ws, 'ep-blue-green', 'green', { updateIntervalInMs: 50 });
    await assert.rejects(
      client.onlineDeployments.get(rg, ws, 'ep-blue-green', 'green'),
      (e: any) => e.statusCode === 404,
    );
    const after = await client.onlineEndpoints.get(rg, ws, 'ep-blue-green');
    assert.deepEqual(after.properties.traffic, { blue: 100 });
    const r = await score(uri, rows, {
      authorization: `Bearer ${keys.primaryKey}`,
      'azureml-model-deployment': 'green',
    });
    assert.equal(r.status, 404);
  });

  test('init() failure: deployment ends Failed (ResourceNotReady), container log via getLogs, live traffic untouched', async () => {
    await assert.rejects(
      client.onlineDeployments.beginCreateOrUpdateAndWait(
        rg,
        ws,
        'ep-blue-green',
        'red',
        managedDeployment(W, ids.model, ids.crash),
        { updateIntervalInMs: 50 },
      ),
      (e: any) => {
        assert.match(String(e.message ?? e), /User container has crashed or terminated/);
        return true;
      },
    );
    const d = await client.onlineDeployments.get(rg, ws, 'ep-blue-green', 'red');
    assert.equal(d.properties.provisioningState, 'Failed');
    const logs = await client.onlineDeployments.getLogs(rg, ws, 'ep-blue-green', 'red', {
      containerType: 'InferenceServer',
    });
    assert.match(logs.content ?? '', /RuntimeError: cannot load model/);
    assert.match(logs.content ?? '', /User's init function failed/);
    const tail = await client.onlineDeployments.getLogs(rg, ws, 'ep-blue-green', 'red', { tail: 2 });
    assert.equal((tail.content ?? '').trimEnd().split('\n').length, 2);
    // routing to it answers 503; blue still serves
    const r = await score(uri, rows, { authorization: `Bearer ${keys.primaryKey}`, 'azureml-model-deployment': 'red' });
    assert.equal(r.status, 503);
    assert.equal((await score(uri, rows, { authorization: `Bearer ${keys.primaryKey}` })).status, 200);
  });

  test('missing scoring script: Failed with a clear log line', async () => {
    const body = managedDeployment(W, ids.model, ids.code);
    body.properties.codeConfiguration.scoringScript = 'nope/score.py';
    await assert.rejects(
      client.onlineDeployments.beginCreateOrUpdateAndWait(rg, ws, 'ep-blue-green', 'nofile', body, {
        updateIntervalInMs: 50,
      }),
    );
    const logs = await client.onlineDeployments.getLogs(rg, ws, 'ep-blue-green', 'nofile', {});
    assert.match(logs.content ?? '', /Scoring script nope\/score\.py not found/);
  });

  test('bad deployment requests are refused before anything is created', async () => {
    const count = () => box.store.list('onlineDeployments').length;
    const before = count();
    const missingModel = managedDeployment(W, `${wsPath}/models/nosuch/versions/9`, ids.code);
    const r1 = await arm('PUT', `${wsPath}/onlineEndpoints/ep-blue-green/deployments/bad1`, missingModel);
    assert.equal(r1.status, 400);
    assert.match(r1.json.error.message, /Model nosuch:9 does not exist/);
    const k8sOnManaged = managedDeployment(W, ids.model, ids.code);
    k8sOnManaged.properties.endpointComputeType = 'Kubernetes';
    const r2 = await arm('PUT', `${wsPath}/onlineEndpoints/ep-blue-green/deployments/bad2`, k8sOnManaged);
    assert.equal(r2.status, 400);
    assert.match(r2.json.error.message, /managed online endpoint/);
    const badSku = managedDeployment(W, ids.model, ids.code);
    badSku.properties.instanceType = 'huge';
    assert.equal((await arm('PUT', `${wsPath}/onlineEndpoints/ep-blue-green/deployments/bad3`, badSku)).status, 400);
    assert.equal(
      (await arm('PUT', `${wsPath}/onlineEndpoints/nosuch/deployments/bad4`, managedDeployment(W, ids.model, ids.code)))
        .status,
      404,
    );
    assert.equal(count(), before);
  });

  test('a failed update leaves the previous version serving (deployment Failed, its new container log in getLogs)', async () => {
    await assert.rejects(
      client.onlineDeployments.beginCreateOrUpdateAndWait(
        rg,
        ws,
        'ep-blue-green',
        'blue',
        managedDeployment(W, ids.model, ids.crash),
        { updateIntervalInMs: 50 },
      ),
    );
    assert.equal(
      (await client.onlineDeployments.get(rg, ws, 'ep-blue-green', 'blue')).properties.provisioningState,
      'Failed',
    );
    const logs = await client.onlineDeployments.getLogs(rg, ws, 'ep-blue-green', 'blue', {});
    assert.match(logs.content ?? '', /RuntimeError: cannot load model/);
    const r = await score(uri, rows, { authorization: `Bearer ${keys.primaryKey}` });
    assert.equal(r.status, 200);
    assert.equal(r.json.served_by, 'blue');
    // fixing it: Updating → Succeeded
    const put = await arm(
      'PUT',
      `${wsPath}/onlineEndpoints/ep-blue-green/deployments/blue`,
      managedDeployment(W, ids.model, ids.code, { DEPLOYMENT_COLOR: 'blue' }),
    );
    assert.equal(put.status, 200);
    assert.equal(put.json.properties.provisioningState, 'Updating');
    assert.equal((await waitOp(W, put.headers.get('azure-asyncoperation')!)).status, 'Succeeded');
    assert.equal(
      (await client.onlineDeployments.get(rg, ws, 'ep-blue-green', 'blue')).properties.provisioningState,
      'Succeeded',
    );
    assert.match(
      (await client.onlineDeployments.getLogs(rg, ws, 'ep-blue-green', 'blue', {})).content ?? '',
      /Users's init has completed successfully/,
    );
  });

  test('regenerateKeys (LRO): the old primary key stops working', async () => {
    const old = keys.primaryKey!;
    await client.onlineEndpoints.beginRegenerateKeysAndWait(
      rg,
      ws,
      'ep-blue-green',
      { keyType: 'Primary' },
      { updateIntervalInMs: 50 },
    );
    const now = await client.onlineEndpoints.listKeys(rg, ws, 'ep-blue-green');
    assert.notEqual(now.primaryKey, old);
    assert.equal(now.secondaryKey, keys.secondaryKey);
    assert.equal((await score(uri, rows, { authorization: `Bearer ${old}` })).status, 401);
    assert.equal((await score(uri, rows, { authorization: `Bearer ${now.primaryKey}` })).status, 200);
  });

  test('delete endpoint (LRO): deployments and their hosts go away', async () => {
    const d = await client.onlineDeployments.get(rg, ws, 'ep-blue-green', 'blue');
    assert.equal(d.properties.provisioningState, 'Succeeded');
    await client.onlineEndpoints.beginDeleteAndWait(rg, ws, 'ep-blue-green', { updateIntervalInMs: 50 });
    await assert.rejects(client.onlineEndpoints.get(rg, ws, 'ep-blue-green'), (e: any) => e.statusCode === 404);
    assert.equal(
      box.store.list('onlineDeployments').filter((x: any) => /ep-blue-green/i.test(x.resource.id)).length,
      0,
    );
    const r = await score(uri, rows, { authorization: 'Bearer x' });
    assert.equal(r.status, 404);
  });
});

describe('AMLToken endpoint', () => {
  test('token action gives a bearer token the scoring URI accepts; listKeys is refused', async () => {
    await client.onlineEndpoints.beginCreateOrUpdateAndWait(
      rg,
      ws,
      'ep-token',
      { location: box.location, properties: { authMode: 'AMLToken' } },
      { updateIntervalInMs: 50 },
    );
    await client.onlineDeployments.beginCreateOrUpdateAndWait(
      rg,
      ws,
      'ep-token',
      'only',
      managedDeployment(W, ids.model, ids.code),
      { updateIntervalInMs: 50 },
    );
    const ep = await client.onlineEndpoints.get(rg, ws, 'ep-token');
    ep.properties.traffic = { only: 100 };
    await client.onlineEndpoints.beginCreateOrUpdateAndWait(rg, ws, 'ep-token', ep, { updateIntervalInMs: 50 });
    const tok = await client.onlineEndpoints.getToken(rg, ws, 'ep-token');
    assert.ok(tok.accessToken && tok.expiryTimeUtc! > Date.now() / 1000);
    const uri = ep.properties.scoringUri!;
    const ok = await score(uri, { data: [[1, 1, 1]] }, { authorization: `Bearer ${tok.accessToken}` });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json.predictions, [6.5]);
    assert.equal(
      (await score(uri, { data: [[1, 1, 1]] }, { authorization: `Bearer ${tok.accessToken}x` })).status,
      401,
    );
    await assert.rejects(client.onlineEndpoints.listKeys(rg, ws, 'ep-token'), (e: any) => e.statusCode === 400);
  });
});

describe('PATCH, list and skus', () => {
  test('endpoint PATCH changes tags only (traffic in a PATCH → 400); deployment PATCH scales; list and skus', async () => {
    const ep = await client.onlineEndpoints.beginUpdateAndWait(
      rg,
      ws,
      'ep-token',
      { tags: { stage: 'staging' } },
      { updateIntervalInMs: 50 },
    );
    assert.deepEqual(ep.tags, { stage: 'staging' });
    assert.deepEqual((await client.onlineEndpoints.get(rg, ws, 'ep-token')).properties.traffic, { only: 100 });
    const bad = await arm('PATCH', `${wsPath}/onlineEndpoints/ep-token`, {
      tags: {},
      properties: { traffic: { only: 0 } },
    });
    assert.equal(bad.status, 400);
    const d = await client.onlineDeployments.beginUpdateAndWait(
      rg,
      ws,
      'ep-token',
      'only',
      { sku: { capacity: 3 } },
      { updateIntervalInMs: 50 },
    );
    assert.equal(d.sku?.capacity, 3);
    const list: string[] = [];
    for await (const x of client.onlineDeployments.list(rg, ws, 'ep-token')) list.push(x.name!);
    assert.deepEqual(list, ['only']);
    const skus: any[] = [];
    for await (const x of client.onlineDeployments.listSkus(rg, ws, 'ep-token', 'only')) skus.push(x);
    assert.equal(skus[0].capacity.maximum, 20);
    const logsBad = await arm('POST', `${wsPath}/onlineEndpoints/ep-token/deployments/only/getLogs`, {
      containerType: 'Sidecar',
    });
    assert.equal(logsBad.status, 400);
  });
});

describe('Kubernetes online endpoint', () => {
  test('needs a Kubernetes compute of the workspace and one of its instance types', async () => {
    const k8s = `${wsPath}/computes/k8s-compute`;
    const noCompute = await arm('PUT', `${wsPath}/onlineEndpoints/ep-k8s`, {
      location: box.location,
      properties: { authMode: 'Key', compute: `${wsPath}/computes/nosuch` },
    });
    assert.equal(noCompute.status, 400);
    assert.match(noCompute.json.error.message, /nosuch does not exist/);
    const notK8s = await arm('PUT', `${wsPath}/onlineEndpoints/ep-k8s`, {
      location: box.location,
      properties: { authMode: 'Key', compute: `${wsPath}/computes/cpu-cluster` },
    });
    assert.equal(notK8s.status, 400);
    assert.match(notK8s.json.error.message, /cpu-cluster is of type AmlCompute/);
    await assert.rejects(client.onlineEndpoints.get(rg, ws, 'ep-k8s'), (e: any) => e.statusCode === 404);
    await client.onlineEndpoints.beginCreateOrUpdateAndWait(
      rg,
      ws,
      'ep-k8s',
      { location: box.location, properties: { authMode: 'Key', compute: k8s } },
      { updateIntervalInMs: 50 },
    );
    const dep = (instanceType?: string, type = 'Kubernetes') => {
      const b = managedDeployment(W, ids.model, ids.code, { DEPLOYMENT_COLOR: 'k8s' });
      b.properties.endpointComputeType = type;
      if (instanceType === undefined) delete b.properties.instanceType;
      else b.properties.instanceType = instanceType;
      return b;
    };
    const badType = await arm('PUT', `${wsPath}/onlineEndpoints/ep-k8s/deployments/blue`, dep('gpu-monster'));
    assert.equal(badType.status, 400);
    assert.match(
      badType.json.error.message,
      /Instance type gpu-monster is not defined on Kubernetes compute .*defaultinstancetype/,
    );
    const managedOnK8s = await arm(
      'PUT',
      `${wsPath}/onlineEndpoints/ep-k8s/deployments/blue`,
      dep('Standard_DS3_v2', 'Managed'),
    );
    assert.equal(managedOnK8s.status, 400);
    const d = await client.onlineDeployments.beginCreateOrUpdateAndWait(rg, ws, 'ep-k8s', 'blue', dep(undefined), {
      updateIntervalInMs: 50,
    });
    assert.equal(d.properties.provisioningState, 'Succeeded');
    assert.equal((d.properties as any).instanceType, 'defaultinstancetype');
    const ep = await client.onlineEndpoints.get(rg, ws, 'ep-k8s');
    ep.properties.traffic = { blue: 100 };
    await client.onlineEndpoints.beginCreateOrUpdateAndWait(rg, ws, 'ep-k8s', ep, { updateIntervalInMs: 50 });
    const keys = await client.onlineEndpoints.listKeys(rg, ws, 'ep-k8s');
    const r = await score(
      ep.properties.scoringUri!,
      { data: [[0, 1, 0]] },
      { authorization: `Bearer ${keys.primaryKey}` },
    );
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.predictions, [2.5]);
    assert.equal(r.json.served_by, 'k8s');
  });
});

describe('timing model and emulator restarts', () => {
  test('without fastLro: Creating is observable, the operation reports Updating without Retry-After (as the service); state and hosts survive a restart', async () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'endpoints-restart-'));
    let w = await makeWorld({ fastLro: false, stateDir });
    try {
      const put = await armCall(w, 'PUT', `${w.wsPath}/onlineEndpoints/ep-slow`, {
        location: w.box.location,
        properties: { authMode: 'Key' },
      });
      assert.equal(put.status, 201);
      assert.equal(put.headers.get('retry-after'), null, 'the service sends no Retry-After');
      assert.equal(put.headers.get('x-ms-async-operation-timeout'), 'PT30M');
      const op = put.headers.get('azure-asyncoperation')!;
      const st = await armCall(w, 'GET', op);
      assert.equal(st.json.status, 'Updating');
      assert.equal(st.headers.get('retry-after'), null);
      assert.equal(
        (await w.client.onlineEndpoints.get(w.rg, w.ws, 'ep-slow')).properties.provisioningState,
        'Creating',
      );
      const t0 = Date.now();
      let s2 = st;
      while (!TERMINAL_OP.test(s2.json.status) && Date.now() - t0 < 15_000) {
        await new Promise((r) => setTimeout(r, 200));
        s2 = await armCall(w, 'GET', op);
      }
      assert.equal(s2.json.status, 'Succeeded');
      assert.ok(Date.now() - t0 >= 1000, 'endpoint creation took no time without fastLro');

      const dput = await armCall(
        w,
        'PUT',
        `${w.wsPath}/onlineEndpoints/ep-slow/deployments/blue`,
        managedDeployment(w, w.ids.model, w.ids.code, { DEPLOYMENT_COLOR: 'blue' }),
      );
      assert.equal(dput.status, 201);
      assert.equal(dput.json.properties.provisioningState, 'Creating');
      assert.equal(
        (await w.client.onlineDeployments.get(w.rg, w.ws, 'ep-slow', 'blue')).properties.provisioningState,
        'Creating',
      );
      const dst = await waitOp(w, dput.headers.get('azure-asyncoperation')!);
      assert.equal(
        dst.status,
        'Succeeded',
        `${JSON.stringify(dst)}\n${(await w.client.onlineDeployments.getLogs(w.rg, w.ws, 'ep-slow', 'blue', {})).content}`,
      );
      assert.equal(
        (await w.client.onlineDeployments.get(w.rg, w.ws, 'ep-slow', 'blue')).properties.provisioningState,
        'Succeeded',
      );
      const ep = await w.client.onlineEndpoints.get(w.rg, w.ws, 'ep-slow');
      ep.properties.traffic = { blue: 100 };
      await w.client.onlineEndpoints.beginCreateOrUpdateAndWait(w.rg, w.ws, 'ep-slow', ep, { updateIntervalInMs: 100 });
      const keys = await w.client.onlineEndpoints.listKeys(w.rg, w.ws, 'ep-slow');
      assert.equal(
        (await score(ep.properties.scoringUri!, { data: [[1, 1, 1]] }, { authorization: `Bearer ${keys.primaryKey}` }))
          .status,
        200,
      );

      await w.box.stop();
      w = await makeWorld({ fastLro: true, stateDir, assets: false });
      const ep2 = await w.client.onlineEndpoints.get(w.rg, w.ws, 'ep-slow');
      assert.equal(ep2.properties.provisioningState, 'Succeeded');
      assert.deepEqual(ep2.properties.traffic, { blue: 100 });
      const keys2 = await w.client.onlineEndpoints.listKeys(w.rg, w.ws, 'ep-slow');
      assert.equal(keys2.primaryKey, keys.primaryKey);
      const r = await score(
        ep2.properties.scoringUri!,
        { data: [[1, 1, 1]] },
        { authorization: `Bearer ${keys2.primaryKey}` },
      );
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json.predictions, [6.5]);
      assert.match(
        (await w.client.onlineDeployments.getLogs(w.rg, w.ws, 'ep-slow', 'blue', {})).content ?? '',
        /container restarted/,
      );
    } finally {
      await w.box.stop();
    }
  });
});
