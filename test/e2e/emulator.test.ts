// Azure-in-a-box against Microsoft's own clients: @azure/identity, @azure/arm-machinelearning, azure-devops-node-api,
// @azure/storage-blob (in a child process with the box's childEnv()).
//
// Trust: Node reads NODE_EXTRA_CA_CERTS only at process start. The test runner exports it pointing at the long-lived
// test CA (test/.output/ca/ca.pem, see test/emulator/ca.ts). When this file is started without it, it re-runs itself
// in a child process that has it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClientSecretCredential, ClientCertificateCredential, ClientAssertionCredential } from '@azure/identity';
import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import * as azdev from 'azure-devops-node-api';
import { ensureCa, makeClientCertificate, DEFAULT_CA_DIR } from '../emulator/ca';
import { startAzureInABox, type AzureInABox } from '../emulator/index';
import { runBundledTask } from '../helpers/agent';

const CA_PATH = path.join(DEFAULT_CA_DIR, 'ca.pem');
// trusted when the file Node loaded at start contains the test CA (scripts/test.mjs may combine it with a caller's CAs)
const extra = process.env.NODE_EXTRA_CA_CERTS;
const trusted =
  !!extra &&
  fs.existsSync(extra) &&
  fs.existsSync(CA_PATH) &&
  fs.readFileSync(extra, 'utf8').includes(fs.readFileSync(CA_PATH, 'utf8').trim());

if (!trusted) {
  test('emulator e2e (re-run in a child with NODE_EXTRA_CA_CERTS set to the test CA)', async () => {
    await ensureCa();
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_EXTRA_CA_CERTS: CA_PATH };
    delete env.NODE_TEST_CONTEXT; // else the child's runner thinks it is nested and runs nothing
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', __filename], {
      env,
      encoding: 'utf8',
    });
    process.stdout.write(
      r.stdout
        .split('\n')
        .map((l) => `# child: ${l}`)
        .join('\n') + '\n',
    );
    assert.equal(
      r.status,
      0,
      `the emulator e2e tests failed in the child run:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`,
    );
    const pass = Number(/^# pass (\d+)/m.exec(r.stdout)?.[1] ?? 0);
    assert.ok(pass > 10, `the child ran ${pass} tests`);
  });
} else {
  suite();
}

function suite(): void {
  type Box = AzureInABox;
  const json = (r: Response): Promise<any> => r.json();

  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiab-e2e-'));
  let box: Box;
  const opts = () => ({ authorityHost: box.authorityHost, disableInstanceDiscovery: true });
  const scope = () => `${box.audience}/.default`; // "https://management.core.windows.net//.default" (armScope)
  const secretCred = () => new ClientSecretCredential(box.tenantId, box.clientId, box.clientSecret, opts());
  const mlClient = (cred = secretCred()) =>
    new AzureMachineLearningWorkspaces(cred, box.subscriptionId, { endpoint: box.armUrl, credentialScopes: [scope()] });
  const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
  const ws = () => [box.resourceGroup, box.workspace] as const;
  const modelUri = (n: number) =>
    `azureml://subscriptions/${box.subscriptionId}/resourcegroups/${box.resourceGroup}/workspaces/${box.workspace}/datastores/workspaceblobstore/paths/LocalUpload/${String(n).padStart(32, '0')}/model`;

  before(async () => {
    box = await startAzureInABox({ stateDir, fastLro: true });
  });
  after(async () => {
    await box?.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  describe('Entra ID', () => {
    test('client secret: token for the ARM audience, signed, with tid/appid', async () => {
      const t = await secretCred().getToken(scope());
      assert.ok(t?.token);
      const c = claims(t.token);
      assert.equal(c.aud, box.audience);
      // aud = everything before the scope's last slash (test/emulator/clouds.ts): without the double slash, no slash
      assert.equal(
        claims((await secretCred().getToken('https://management.azure.com/.default'))!.token).aud,
        'https://management.azure.com',
      );
      await assert.rejects(secretCred().getToken('https://graph.microsoft.com/.default'), /AADSTS500011/);
      assert.equal(c.tid, box.tenantId);
      assert.equal(c.appid, box.clientId);
      assert.ok(c.exp > Date.now() / 1000 + 3000);
    });
    test('wrong secret is rejected with AADSTS7000215', async () => {
      const cred = new ClientSecretCredential(box.tenantId, box.clientId, 'not-the-secret', opts());
      await assert.rejects(cred.getToken(scope()), /AADSTS7000215/);
    });
    test('unknown tenant and unknown client are rejected', async () => {
      await assert.rejects(
        new ClientSecretCredential(
          '11111111-1111-1111-1111-111111111111',
          box.clientId,
          box.clientSecret,
          opts(),
        ).getToken(scope()),
        /AADSTS90002|endpoints_resolution_error/i,
      );
      await assert.rejects(
        new ClientSecretCredential(
          box.tenantId,
          '22222222-2222-2222-2222-222222222222',
          box.clientSecret,
          opts(),
        ).getToken(scope()),
        /AADSTS700016/,
      );
    });
    test('client certificate (PEM with key, as the agent hands it)', async () => {
      const cred = new ClientCertificateCredential(
        box.tenantId,
        box.clientId,
        { certificate: box.certificatePem },
        opts(),
      );
      const t = await cred.getToken(scope());
      assert.equal(claims(t!.token).appidacr, '2');
    });
    test('a certificate not registered on the app is rejected', async () => {
      const other = await makeClientCertificate('intruder');
      const cred = new ClientCertificateCredential(
        box.tenantId,
        box.clientId,
        { certificate: `${other.cert.trim()}\n${other.key.trim()}\n` },
        opts(),
      );
      await assert.rejects(cred.getToken(scope()), /AADSTS700027/);
    });
    test('federated: Azure DevOps OIDC token (via azure-devops-node-api createOidcToken) as client assertion', async () => {
      const m = /\/([^/]+)\/_apis\/distributedtask\/hubs\/([^/]+)\/plans\/([^/]+)\/jobs\/([^/]+)\/oidctoken$/.exec(
        box.oidcRequestUri,
      )!;
      const conn = new azdev.WebApi(box.collectionUri, azdev.getBearerHandler(box.systemAccessToken));
      const taskApi = await conn.getTaskApi();
      let calls = 0;
      const cred = new ClientAssertionCredential(
        box.tenantId,
        box.clientId,
        async () => {
          calls++;
          const r = await taskApi.createOidcToken({}, m[1], m[2], m[3], m[4], 'my-connection-id');
          return r.oidcToken!;
        },
        opts(),
      );
      const t = await cred.getToken(scope());
      assert.equal(claims(t!.token).appid, box.clientId);
      assert.ok(calls >= 1, 'the assertion callback was used');
      const oidc = claims(box.issueOidcToken('x'));
      assert.equal(oidc.aud, 'api://AzureADTokenExchange');
      assert.match(oidc.sub, new RegExp(`^sc://org/${box.projectName}/x$`));
    });
    test('federated: a forged assertion (unknown issuer) and an expired one are rejected', async () => {
      const forged = new ClientAssertionCredential(
        box.tenantId,
        box.clientId,
        async () => 'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2V2aWwifQ.c2ln',
        opts(),
      );
      await assert.rejects(forged.getToken(scope()), /AADSTS700211/);
      const expired = new ClientAssertionCredential(
        box.tenantId,
        box.clientId,
        async () => box.issueOidcToken('c', -60),
        opts(),
      );
      await assert.rejects(expired.getToken(scope()), /AADSTS700024/);
    });
  });

  describe('Azure DevOps OIDC endpoint', () => {
    test('rejects a missing or wrong job token, accepts Basic PAT form', async () => {
      const url = `${box.oidcRequestUri}?api-version=7.1&serviceConnectionId=abc`;
      assert.equal((await fetch(url, { method: 'POST' })).status, 401);
      assert.equal((await fetch(url, { method: 'POST', headers: { authorization: 'Bearer nope' } })).status, 401);
      const ok = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`PAT:${box.systemAccessToken}`).toString('base64')}` },
      });
      assert.equal(ok.status, 200);
      assert.ok((await json(ok)).oidcToken);
    });
  });

  describe('ARM / Azure ML', () => {
    test('workspace with discovery and MLflow URIs; unknown workspace/RG/subscription → 404', async () => {
      const c = mlClient();
      const w = await c.workspaces.get(...ws());
      assert.equal(w.name, box.workspace);
      assert.equal(w.discoveryUrl, `${box.armUrl}discovery`);
      assert.equal(
        w.mlFlowTrackingUri,
        `azureml://${new URL(box.armUrl).host}/mlflow/v1.0/subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${box.workspace}`,
      );
      await assert.rejects(
        c.workspaces.get(box.resourceGroup, 'nope'),
        (e: any) => e.statusCode === 404 && e.code === 'ResourceNotFound',
      );
      await assert.rejects(
        c.workspaces.get('nope-rg', box.workspace),
        (e: any) => e.statusCode === 404 && e.code === 'ResourceGroupNotFound',
      );
      const other = new AzureMachineLearningWorkspaces(secretCred(), '33333333-3333-3333-3333-333333333333', {
        endpoint: box.armUrl,
        credentialScopes: [scope()],
      });
      await assert.rejects(
        other.workspaces.get(...ws()),
        (e: any) => e.statusCode === 404 && e.code === 'SubscriptionNotFound',
      );
    });

    test('workspaceblobstore points at Azurite (through the storage fault proxy); listSecrets gives the account key', async () => {
      const c = mlClient();
      const d = await c.datastores.get(...ws(), 'workspaceblobstore');
      const p = d.properties as any;
      assert.equal(p.datastoreType, 'AzureBlob');
      assert.equal(p.accountName, 'devstoreaccount1');
      assert.equal(p.endpoint, `localhost:${box.azurite.proxyPort}`);
      assert.equal(box.azurite.datastoreEndpoint, p.endpoint);
      assert.notEqual(box.azurite.proxyPort, box.azurite.port);
      assert.equal(p.protocol, 'http');
      assert.equal(p.credentials.credentialsType, 'AccountKey');
      assert.equal(p.credentials.secrets, undefined, 'GET must not reveal secrets');
      const s = (await c.datastores.listSecrets(...ws(), 'workspaceblobstore')) as any;
      assert.equal(s.secretsType, 'AccountKey');
      assert.equal(s.key, box.azurite.key);
      const all = [];
      for await (const x of c.datastores.list(...ws())) all.push(x.name);
      assert.ok(all.includes('workspaceblobstore'));
    });

    test('model versions: create, latestVersion, $orderBy, paging via absolute nextLink, tags filter', async () => {
      const c = mlClient();
      for (let i = 1; i <= 23; i++) {
        const v = await c.modelVersions.createOrUpdate(...ws(), 'paged-model', String(i), {
          properties: {
            modelUri: modelUri(i),
            modelType: 'custom_model',
            tags: i % 2 ? { parity: 'odd' } : { parity: 'even', special: 'yes' },
            properties: { n: String(i) },
          },
        });
        assert.equal(v.name, String(i));
        assert.ok(v.systemData?.createdAt);
        assert.equal(v.systemData?.createdBy, box.clientId);
      }
      const container = await c.modelContainers.get(...ws(), 'paged-model');
      assert.equal(container.properties.latestVersion, '23');
      assert.equal(container.properties.nextVersion, '24');

      const before = box.requests.length;
      const desc: string[] = [];
      for await (const v of c.modelVersions.list(...ws(), 'paged-model', { orderBy: 'createdtime desc' }))
        desc.push(v.name!);
      assert.deepEqual(
        desc,
        Array.from({ length: 23 }, (_, i) => String(23 - i)),
      );
      const pages = box.requests.slice(before).filter((r) => /\/models\/paged-model\/versions\?/i.test(r.url));
      assert.equal(pages.length, 2, 'page size 20 → two pages');
      assert.match(pages[1].url, /\$skip=20/);

      const asc: string[] = [];
      for await (const v of c.modelVersions.list(...ws(), 'paged-model', { orderBy: 'createdtime asc', top: 5 }))
        asc.push(v.name!);
      assert.deepEqual(asc.slice(0, 5), ['1', '2', '3', '4', '5']);
      assert.equal(asc.length, 23, '$top is the page size; nextLink goes on');

      const firstPage = await c.modelVersions
        .list(...ws(), 'paged-model', { orderBy: 'createdtime desc', top: 1 })
        .byPage()
        .next();
      assert.deepEqual(
        firstPage.value.map((v: any) => v.name),
        ['23'],
      );

      const even: string[] = [];
      for await (const v of c.modelVersions.list(...ws(), 'paged-model', { tags: 'parity=even,special' }))
        even.push(v.name!);
      assert.equal(even.length, 11);
      const none: string[] = [];
      for await (const v of c.modelVersions.list(...ws(), 'paged-model', { tags: 'parity=purple' })) none.push(v.name!);
      assert.equal(none.length, 0);
    });

    test('same version again: same path is accepted (200), a different path is rejected (409)', async () => {
      const c = mlClient();
      await c.modelVersions.createOrUpdate(...ws(), 'immutable', '1', {
        properties: { modelUri: modelUri(1), description: 'a' },
      });
      const again = await c.modelVersions.createOrUpdate(...ws(), 'immutable', '1', {
        properties: { modelUri: modelUri(1), description: 'b' },
      });
      assert.equal(again.properties.description, 'b');
      await assert.rejects(
        c.modelVersions.createOrUpdate(...ws(), 'immutable', '1', { properties: { modelUri: modelUri(2) } }),
        (e: any) => e.statusCode === 409 && /Cannot change the modelUri/.test(e.message),
      );
      await assert.rejects(c.modelVersions.get(...ws(), 'immutable', '9'), (e: any) => e.statusCode === 404);
      await c.modelVersions.delete(...ws(), 'immutable', '1');
      await assert.rejects(c.modelVersions.get(...ws(), 'immutable', '1'), (e: any) => e.statusCode === 404);
    });

    test('environment version: an identical re-PUT (osType left to the default) is 200; a changed one is 400', async () => {
      const tok = (await secretCred().getToken(scope()))!.token;
      const url = `${box.armUrl}subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${box.workspace}/environments/CliV2AnonymousEnvironment/versions/0123456789abcdef0123456789abcdef?api-version=2022-10-01`;
      const put = (properties: Record<string, unknown>) =>
        fetch(url, {
          method: 'PUT',
          headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
          body: JSON.stringify({ properties }),
        });
      const body = {
        isAnonymous: true,
        image: 'mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest',
        condaFile: 'name: x\ndependencies: [python=3.11]\n',
      };
      const first = await put(body);
      assert.equal(first.status, 201, JSON.stringify(await first.clone().json()));
      const stored = (await json(first)).properties;
      assert.equal(stored.osType, 'Linux', 'the service fills in osType');
      const again = await put(body);
      assert.equal(again.status, 200, JSON.stringify(await again.clone().json()));
      assert.deepEqual((await json(again)).properties, stored);
      assert.equal(
        (await put({ ...body, osType: 'Linux' })).status,
        200,
        'the default spelled out is the same content',
      );
      const windows = await put({ ...body, osType: 'Windows' });
      assert.equal(windows.status, 400);
      assert.match(
        (await json(windows)).error.message,
        /already registered and cannot be changed \(property 'osType'\)/,
      );
      assert.equal((await put({ ...body, image: 'mcr.microsoft.com/azureml/other:1' })).status, 400);
    });

    test('invalid body → 400 from the swagger validator; nothing stored', async () => {
      const c = mlClient();
      const url = `${box.armUrl}subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${box.workspace}/models/badbody/versions/1?api-version=2022-10-01`;
      const res = await c.sendRequest(
        createPipelineRequest({
          url,
          method: 'PUT',
          body: JSON.stringify({ properties: { modelUri: 42, isArchived: 'maybe' } }),
          headers: undefined,
        }),
      );
      assert.equal(res.status, 400);
      const err = JSON.parse(res.bodyAsText!).error;
      assert.equal(err.code, 'UserError');
      assert.equal(err.message, 'Request is invalid and/or missing fields.');
      assert.match(err.details.map((d: any) => d.message).join('\n'), /modelUri|isArchived/);
      await assert.rejects(c.modelContainers.get(...ws(), 'badbody'), (e: any) => e.statusCode === 404);
    });

    test('401 without/with a bad token, 400 without api-version, 404 for unknown types', async () => {
      const base = `${box.armUrl}subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${box.workspace}`;
      const tok = (await secretCred().getToken(scope()))!.token;
      const r1 = await fetch(`${base}?api-version=2022-10-01`);
      assert.equal(r1.status, 401);
      assert.equal((await json(r1)).error.code, 'AuthenticationFailed');
      const r2 = await fetch(`${base}?api-version=2022-10-01`, {
        headers: { authorization: `Bearer ${tok.slice(0, -4)}AAAA` },
      });
      assert.equal((await json(r2)).error.code, 'InvalidAuthenticationToken');
      const app = box.ctx.apps().find((a) => a.clientId === box.clientId)!;
      const expired = box.ctx.issueAccessToken(app, box.audience, -10);
      const r3 = await fetch(`${base}?api-version=2022-10-01`, { headers: { authorization: `Bearer ${expired}` } });
      assert.equal((await json(r3)).error.code, 'ExpiredAuthenticationToken');
      const wrongAud = box.ctx.issueAccessToken(app, 'https://storage.azure.com/');
      const r4 = await fetch(`${base}?api-version=2022-10-01`, { headers: { authorization: `Bearer ${wrongAud}` } });
      assert.equal((await json(r4)).error.code, 'InvalidAuthenticationTokenAudience');
      const r5 = await fetch(base, { headers: { authorization: `Bearer ${tok}` } });
      assert.equal(r5.status, 400);
      assert.equal((await json(r5)).error.code, 'MissingApiVersionParameter');
      const r6 = await fetch(`${base}/nonsense/x?api-version=2022-10-01`, {
        headers: { authorization: `Bearer ${tok}` },
      });
      assert.equal(r6.status, 404);
    });

    test('a Reader identity reads but gets 403 AuthorizationFailed on writes', async () => {
      const reader = mlClient(
        new ClientSecretCredential(box.tenantId, box.readerClientId, box.readerClientSecret, opts()),
      );
      assert.equal((await reader.workspaces.get(...ws())).name, box.workspace);
      await assert.rejects(
        reader.modelVersions.createOrUpdate(...ws(), 'by-reader', '1', { properties: { modelUri: modelUri(1) } }),
        (e: any) => e.statusCode === 403 && e.code === 'AuthorizationFailed',
      );
      await assert.rejects(
        reader.datastores.listSecrets(...ws(), 'workspaceblobstore'),
        (e: any) => e.statusCode === 403,
      );
      await assert.rejects(mlClient().modelContainers.get(...ws(), 'by-reader'), (e: any) => e.statusCode === 404);
    });

    test('injected 429/503/500/dropped connections are survived by the SDK retry policy', async () => {
      const c = mlClient();
      await c.workspaces.get(...ws()); // token cached before faults
      box.faults.set({ rate: 0.35, kinds: ['429', '503', '500', 'drop'], hosts: ['arm'], maxConsecutive: 2, seed: 15 }); // seed 15: all four kinds within the first 12 requests
      try {
        for (let i = 0; i < 8; i++) {
          const v = await c.modelVersions.createOrUpdate(...ws(), 'faulty', String(i + 1), {
            properties: { modelUri: modelUri(i) },
          });
          assert.equal(v.name, String(i + 1));
        }
        const injected = Object.values(box.faults.injected).reduce((a, b) => a + b, 0);
        assert.ok(injected > 0, 'some faults were injected');
      } finally {
        box.faults.reset();
      }
      const names: string[] = [];
      for await (const v of c.modelVersions.list(...ws(), 'faulty')) names.push(v.name!);
      assert.deepEqual(names, ['1', '2', '3', '4', '5', '6', '7', '8']);
      assert.ok(
        box.requests.some((r) => r.status === 429) ||
          box.requests.some((r) => r.status >= 500) ||
          box.requests.some((r) => r.status === 0),
      );
    });

    test('LRO helper: Azure-AsyncOperation goes Updating → Succeeded, Location gives the result', async () => {
      const route =
        '/subscriptions/:sub/resourceGroups/:rg/providers/Microsoft.MachineLearningServices/workspaces/:ws/lroProbe/:name';
      box.ctx.arm.router.add('POST', route, (req) =>
        box.ctx.lro.accepted(req, { durationMs: 300, work: async () => ({ done: req.params.name }) }),
      );
      box.ctx.arm.router.add('DELETE', route, (req) =>
        box.ctx.lro.accepted(req, {
          work: () => {
            throw new Error('boom');
          },
        }),
      );
      const tok = (await secretCred().getToken(scope()))!.token;
      const h = { authorization: `Bearer ${tok}` };
      const url = `${box.armUrl}subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${box.workspace}/lroProbe/p1?api-version=2022-10-01`;
      const r = await fetch(url, { method: 'POST', headers: h });
      assert.equal(r.status, 202);
      const status = r.headers.get('azure-asyncoperation')!,
        loc = r.headers.get('location')!;
      assert.ok(status.startsWith(box.armUrl) && loc.startsWith(box.armUrl));
      assert.equal(
        (await json(await fetch(status, { headers: h }))).status,
        'Updating',
        'the service reads Updating while it runs',
      );
      assert.equal((await fetch(loc, { headers: h })).status, 202);
      await new Promise((res) => setTimeout(res, 400));
      assert.equal((await json(await fetch(status, { headers: h }))).status, 'Succeeded');
      const fin = await fetch(loc, { headers: h });
      assert.equal(fin.status, 200);
      assert.deepEqual(await json(fin), { done: 'p1' });
      const d = await fetch(url, { method: 'DELETE', headers: h });
      await new Promise((res) => setTimeout(res, 50));
      const st = await json(await fetch(d.headers.get('azure-asyncoperation')!, { headers: h }));
      assert.equal(st.status, 'Failed');
      assert.match(st.error.message, /boom/);
    });
  });

  describe('Azurite through the datastore-derived URL (child with childEnv())', () => {
    test('@azure/storage-blob reaches http://devstoreaccount1.blob.localhost:<port> under the preload', async () => {
      const script = `
        const { BlobServiceClient, StorageSharedKeyCredential } = require('@azure/storage-blob');
        (async () => {
          const [account, endpoint, key, container] = process.argv.slice(1);
          const url = 'http://' + account + '.blob.' + endpoint;
          const svc = new BlobServiceClient(url, new StorageSharedKeyCredential(account, key));
          const cc = svc.getContainerClient(container);
          await cc.getBlockBlobClient('LocalUpload/probe/hello.txt').upload('hello', 5);
          const names = [];
          for await (const b of cc.listBlobsFlat({ prefix: 'LocalUpload/probe/' })) names.push(b.name);
          console.log(JSON.stringify({ url, names }));
        })().catch((e) => { console.error(e.message); process.exit(1); });`;
      const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const p = spawn(
          process.execPath,
          ['-e', script, 'devstoreaccount1', box.azurite.datastoreEndpoint, box.azurite.key, box.azurite.container],
          { cwd: path.resolve(__dirname, '..', '..'), env: { ...process.env, ...box.childEnv() } },
        );
        let stdout = '',
          stderr = '';
        p.stdout.on('data', (d) => (stdout += d));
        p.stderr.on('data', (d) => (stderr += d));
        p.on('close', (code) => resolve({ code, stdout, stderr }));
      });
      assert.equal(out.code, 0, out.stderr);
      const r = JSON.parse(out.stdout.trim());
      assert.equal(r.url, `http://devstoreaccount1.blob.localhost:${box.azurite.proxyPort}`);
      assert.ok(
        box.storageRequests.some(
          (q) => q.method === 'PUT' && q.url.includes('/LocalUpload/probe/hello.txt') && q.status === 201,
        ),
        'went through the proxy',
      );
      assert.deepEqual(r.names, ['LocalUpload/probe/hello.txt']);
      // and the blob really is in Azurite's container (read back path-style, no preload needed)
      const txt = await box.ctx.azurite
        .containerClient()
        .getBlobClient('LocalUpload/probe/hello.txt')
        .downloadToBuffer();
      assert.equal(txt.toString(), 'hello');
    });
  });

  describe('storage faults (the proxy in front of Azurite)', () => {
    test('bundled register + download survive seeded 500/503/dropped connections on storage; the bytes come back identical', async () => {
      // the shipped tasks against the datastore's endpoint (the proxy): their storage retry policy has to carry them
      const src = fs.mkdtempSync(path.join(os.tmpdir(), 'storage-faults-src-'));
      const bin = Buffer.alloc(1536 * 1024);
      for (let i = 0, h = Buffer.from('seed'); i < bin.length; i += 32) {
        h = createHash('sha256').update(h).digest();
        h.copy(bin, i);
      }
      fs.mkdirSync(path.join(src, 'm', 'sub'), { recursive: true });
      fs.writeFileSync(path.join(src, 'm', 'weights.bin'), bin);
      fs.writeFileSync(path.join(src, 'm', 'sub', 'config.json'), '{"layers":3}\n');
      const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'storage-faults-dst-'));
      const common = { box, scheme: 'secret' as const, timeoutMs: 60_000 };
      const wsIn = { resourceGroup: box.resourceGroup, workspace: box.workspace };
      const before = box.storageRequests.length;
      box.faults.set({ rate: 0.4, kinds: ['500', '503', 'drop'], hosts: ['storage'], maxConsecutive: 1, seed: 6 }); // seed 6: PUT 503, metadata PUT 500, GET drop, GET 500 — no request faulted twice (no 4 s back-off)
      let reg, dl, injected: Record<string, number>;
      try {
        reg = await runBundledTask('AzureMLModelRegister', {
          ...common,
          cwd: src,
          inputs: { ...wsIn, modelName: 'storage-faults', modelPath: 'm', modelType: 'custom_model' },
        });
        dl = await runBundledTask('AzureMLModelDownload', {
          ...common,
          inputs: {
            ...wsIn,
            definition: 'storage-faults',
            versionSelector: 'specific',
            version: '1',
            downloadPath: dest,
          },
        });
        injected = { ...box.faults.injected };
      } finally {
        box.faults.reset();
      }
      const tail = (r: { stdout: string; stderr: string; message?: string }) =>
        `${r.message}\n${r.stdout
          .split('\n')
          .filter((l) => !l.startsWith('##vso[task.debug'))
          .slice(-15)
          .join('\n')}\n${r.stderr.slice(-1500)}`;
      assert.equal(reg.result, 'Succeeded', tail(reg));
      assert.equal(reg.outputs.modelVersion, '1');
      assert.equal(dl.result, 'Succeeded', tail(dl));
      const seen = box.storageRequests.slice(before);
      // seeded dice: the same faults every run, all three kinds, on both the upload and the download side
      assert.ok(
        injected['500']! >= 1 && injected['503']! >= 1 && injected.drop! >= 1,
        `faults injected: ${JSON.stringify(injected)}`,
      );
      assert.ok(
        seen.some((q) => q.method === 'PUT' && (q.status >= 500 || q.status === 0)),
        'an upload request was faulted',
      );
      assert.ok(
        seen.some((q) => q.method === 'GET' && (q.status >= 500 || q.status === 0)),
        'a download request was faulted',
      );
      const got = path.join(dl.outputs.modelPath!);
      assert.ok(
        fs.readFileSync(path.join(got, 'weights.bin')).equals(bin),
        'weights.bin identical after the round trip',
      );
      assert.equal(fs.readFileSync(path.join(got, 'sub', 'config.json'), 'utf8'), '{"layers":3}\n');
      // and what Azurite holds is the original too (read directly, not through the proxy)
      const blobs: string[] = [];
      for await (const b of box.ctx.azurite.containerClient().listBlobsFlat({ prefix: 'LocalUpload/' }))
        if (b.name.endsWith('/m/weights.bin')) blobs.push(b.name);
      assert.equal(blobs.length, 1, blobs.join(', '));
      assert.ok((await box.ctx.azurite.containerClient().getBlobClient(blobs[0]!).downloadToBuffer()).equals(bin));
      fs.rmSync(src, { recursive: true, force: true });
      fs.rmSync(dest, { recursive: true, force: true });
    });

    test('a faulted storage answer has the service shape: XML <Error>, x-ms-error-code; a drop resets the connection', async () => {
      const url = `${box.azurite.clientBlobEndpoint}/${box.azurite.container}?restype=container`;
      box.faults.set({ rate: 1, kinds: ['503'], hosts: ['storage'] });
      let r: Response;
      try {
        r = await fetch(url, { headers: { 'x-ms-version': '2025-01-05' } });
      } finally {
        box.faults.reset();
      }
      assert.equal(r.status, 503);
      assert.equal(r.headers.get('x-ms-error-code'), 'ServerBusy');
      assert.equal(r.headers.get('x-ms-version'), '2025-01-05');
      assert.match(r.headers.get('content-type') ?? '', /application\/xml/);
      assert.match(
        await r.text(),
        /^<\?xml version="1\.0" encoding="utf-8"\?><Error><Code>ServerBusy<\/Code><Message>[^<]+RequestId:[0-9a-f-]{36}\nTime:[^<]+<\/Message><\/Error>$/,
      );
      box.faults.set({ rate: 1, kinds: ['drop'], hosts: ['storage'] });
      try {
        await assert.rejects(fetch(url));
      } finally {
        box.faults.reset();
      }
      box.faults.set({ rate: 1, kinds: ['500'], hosts: ['arm'] }); // other hosts' faults leave storage alone
      try {
        assert.notEqual((await fetch(url)).status, 500);
      } finally {
        box.faults.reset();
      }
    });
  });

  describe('state', () => {
    test('survives a restart with the same state folder (identity, models, blobs)', async () => {
      const clientId = box.clientId;
      await box.stop();
      box = await startAzureInABox({ stateDir, fastLro: true });
      assert.equal(box.clientId, clientId);
      const c = mlClient();
      const v = await c.modelVersions.get(...ws(), 'paged-model', '23');
      // stored as the service stores it: `resourcegroups` in the request reads back `resourceGroups` (arm/models.ts)
      assert.equal((v.properties as any).modelUri, modelUri(23).replace('/resourcegroups/', '/resourceGroups/'));
      assert.equal((await c.modelContainers.get(...ws(), 'paged-model')).properties.latestVersion, '23');
      const d = await c.datastores.get(...ws(), 'workspaceblobstore');
      assert.equal(
        (d.properties as any).endpoint,
        `localhost:${box.azurite.proxyPort}`,
        "refreshed to this start's proxy",
      );
      const txt = await box.ctx.azurite
        .containerClient()
        .getBlobClient('LocalUpload/probe/hello.txt')
        .downloadToBuffer();
      assert.equal(txt.toString(), 'hello');
    });
  });
}
