// src/azureml core without network: workspace resolution, studio links, ARM paging/errors through a fake client
// pipeline, SDK error mapping, version selection helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RestError, createHttpHeaders, type PipelineRequest } from '@azure/core-rest-pipeline';
import type { AzureRmConnection } from '../../src/pipeline';
import { InputError } from '../../src/pipeline';
import {
  AzureError,
  armRequest,
  connectWorkspace,
  listAll,
  mapAzureError,
  nextVersion,
  normalizeUri,
  contentKey,
  sameContent,
  studioUrl,
  studioHostFromDiscoveryUrl,
  workspaceRef,
  wsPath,
  VERSION_PATTERN,
  ASSET_NAME_PATTERN,
  type AzureMLContext,
} from '../../src/azureml';

const conn = (over: Partial<AzureRmConnection> = {}): AzureRmConnection => ({
  id: 'c1',
  armUrl: 'https://management.azure.com/',
  subscriptionId: 'sub-1',
  tenantId: 'ten-1',
  authorityHost: 'https://login.microsoftonline.com/',
  audience: 'https://management.core.windows.net/',
  environment: 'AzureCloud',
  auth: { scheme: 'ServicePrincipal', clientId: 'x', secret: 'y' },
  ...over,
});

test('workspaceRef: inputs win, connection scope data fills blanks, errors name the input', () => {
  const ws = workspaceRef(conn({ resourceGroup: 'rg-c', workspace: 'ws-c' }), '', ' ');
  assert.equal(ws.resourceGroup, 'rg-c');
  assert.equal(ws.workspace, 'ws-c');
  // the token scope is held once, on the context built from the connection
  assert.equal(
    connectWorkspace(conn({ resourceGroup: 'rg-c', workspace: 'ws-c' }), ws).scope,
    'https://management.core.windows.net//.default',
  );
  assert.equal(workspaceRef(conn({ resourceGroup: 'rg-c', workspace: 'ws-c' }), 'rg-i', 'ws-i').workspace, 'ws-i');
  assert.throws(
    () => workspaceRef(conn(), '', 'ws'),
    (e: any) => e instanceof InputError && e.input === 'resourceGroup',
  );
  assert.throws(
    () => workspaceRef(conn(), 'rg', ''),
    (e: any) => e instanceof InputError && e.input === 'workspace',
  );
  assert.throws(
    () => workspaceRef(conn(), 'rg', 'a b'),
    (e: any) => e instanceof InputError && e.input === 'workspace',
  );
  assert.throws(
    () => workspaceRef(conn(), 'rg.', 'wsx'),
    (e: any) => e instanceof InputError && e.input === 'resourceGroup',
  );
  assert.equal(
    wsPath(workspaceRef(conn(), 'rg', 'wsx'), 'models/m'),
    '/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/wsx/models/m',
  );
});

test('studio links: host by cloud / discoveryUrl, wsid + tid', () => {
  const ws = workspaceRef(conn(), 'rg', 'wsx');
  const q = 'wsid=/subscriptions/sub-1/resourcegroups/rg/workspaces/wsx&tid=ten-1';
  assert.equal(studioUrl(ws, 'model', 'm', '3'), `https://ml.azure.com/model/m:3/details?${q}`);
  assert.equal(studioUrl(ws, 'job', 'j1'), `https://ml.azure.com/runs/j1?${q}`);
  assert.equal(studioUrl(ws, 'endpoint', 'e1'), `https://ml.azure.com/endpoints/realtime/e1/detail?${q}`);
  assert.equal(studioUrl(ws, 'workspace'), `https://ml.azure.com/home?${q}`);
  assert.equal(workspaceRef(conn({ environment: 'AzureChinaCloud' }), 'rg', 'wsx').studioHost, 'studio.ml.azure.cn');
  assert.equal(studioHostFromDiscoveryUrl('https://eastus.api.azureml.ms/discovery'), 'ml.azure.com');
  assert.equal(studioHostFromDiscoveryUrl('https://usgovvirginia.api.ml.azure.us/discovery'), 'ml.azure.us');
  assert.equal(studioHostFromDiscoveryUrl('https://127.0.0.1:4443/discovery'), undefined);
});

function fakeCtx(responses: Array<{ status: number; body?: unknown }>, seen: PipelineRequest[] = []): AzureMLContext {
  const client = {
    async sendRequest(req: PipelineRequest) {
      seen.push(req);
      const r = responses.shift() ?? {
        status: 500,
        body: { error: { code: 'NoMore', message: 'no more fake responses' } },
      };
      return {
        request: req,
        status: r.status,
        headers: createHttpHeaders(),
        bodyAsText: r.body === undefined ? undefined : JSON.stringify(r.body),
      };
    },
  };
  return {
    ws: workspaceRef(conn({ armUrl: 'https://arm.example/' }), 'rg', 'wsx'),
    client: client as any,
    credential: {} as any,
  };
}

test('armRequest: relative path on the connection ARM URL with api-version; ARM error → one-line UserError', async () => {
  const seen: PipelineRequest[] = [];
  const ctx = fakeCtx(
    [
      { status: 200, body: { ok: 1 } },
      { status: 403, body: { error: { code: 'AuthorizationFailed', message: 'no\nway' } } },
    ],
    seen,
  );
  assert.deepEqual(await armRequest(ctx, 'GET', '/subscriptions/s/x'), { ok: 1 });
  assert.equal(seen[0]!.url, 'https://arm.example/subscriptions/s/x?api-version=2022-10-01');
  await assert.rejects(
    armRequest(ctx, 'PUT', '/subscriptions/s/x', { a: 1 }),
    (e: any) =>
      e instanceof AzureError &&
      /lacks permission: AuthorizationFailed: no$/.test(e.message.split(';')[0]!) &&
      e.statusCode === 403,
  );
  assert.equal(seen[1]!.body, '{"a":1}');
});

test('listAll follows absolute nextLink pages', async () => {
  const seen: PipelineRequest[] = [];
  const ctx = fakeCtx(
    [
      {
        status: 200,
        body: { value: [1, 2], nextLink: 'https://arm.example/subscriptions/s/items?api-version=2022-10-01&$skip=tok' },
      },
      { status: 200, body: { value: [3] } },
    ],
    seen,
  );
  assert.deepEqual(await listAll<number>(ctx, '/subscriptions/s/items'), [1, 2, 3]);
  assert.equal(seen[1]!.url, 'https://arm.example/subscriptions/s/items?api-version=2022-10-01&$skip=tok');
});

test('mapAzureError: SDK RestErrors by status, identity errors, abort passes through', () => {
  const rest = (status: number, code: string, message: string) =>
    new RestError(message, {
      statusCode: status,
      code,
      response: {
        status,
        headers: createHttpHeaders(),
        request: {} as any,
        bodyAsText: JSON.stringify({ error: { code, message } }),
      },
    });
  const m403 = mapAzureError(rest(403, 'AuthorizationFailed', 'The client x has no access'), "workspace 'w'") as Error;
  assert.equal(
    m403.message,
    "The service connection's identity lacks permission (workspace 'w'): AuthorizationFailed: The client x has no access; grant it 'AzureML Data Scientist' on the workspace",
  );
  assert.match(
    (mapAzureError(rest(404, 'ResourceNotFound', 'gone')) as Error).message,
    /^Not found: ResourceNotFound: gone$/,
  );
  assert.match((mapAzureError(rest(409, 'Conflict', 'taken')) as Error).message, /^Conflict: Conflict: taken$/);
  assert.match(
    (mapAzureError(rest(401, 'InvalidAuthenticationToken', 'bad token')) as Error).message,
    /could not authenticate.*InvalidAuthenticationToken/,
  );
  const idErr = Object.assign(new Error('x'), {
    name: 'AuthenticationError',
    errorResponse: { error: 'invalid_client', errorDescription: 'AADSTS7000215: Invalid client secret.\nTrace ID: 1' },
  });
  assert.equal(
    (mapAzureError(idErr) as Error).message,
    'Sign-in with the service connection failed: AADSTS7000215: Invalid client secret.',
  );
  const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
  assert.equal(mapAzureError(abort), abort);
});

test('nextVersion: container nextVersion, else latestVersion+1, new model → 1', async () => {
  const ctx = (container: unknown) => ({
    ws: workspaceRef(conn(), 'rg', 'wsx'),
    credential: {} as any,
    client: {
      modelContainers: {
        get: async () => {
          if (!container) throw new RestError('nf', { statusCode: 404 });
          return container;
        },
      },
      modelVersions: {
        list: () =>
          (async function* () {
            yield { name: '4' };
            yield { name: 'beta' };
          })(),
      },
    } as any,
  });
  assert.equal(await nextVersion(ctx(undefined), 'm'), '1');
  assert.equal(await nextVersion(ctx({ properties: { nextVersion: '8', latestVersion: '7' } }), 'm'), '8');
  assert.equal(await nextVersion(ctx({ properties: { latestVersion: '7' } }), 'm'), '8');
  assert.equal(await nextVersion(ctx({ properties: { latestVersion: 'beta' } }), 'm'), '5');
});

test('content identity and name/version patterns', () => {
  const a =
    'azureml://subscriptions/S/resourceGroups/RG/workspaces/W/datastores/workspaceblobstore/paths/LocalUpload/abc/m';
  assert.equal(
    normalizeUri(a + '/'),
    normalizeUri(
      'azureml://subscriptions/s/resourcegroups/rg/workspaces/w/datastores/workspaceblobstore/paths/LocalUpload/abc/m',
    ),
  );
  assert.equal(contentKey('custom_model', a), contentKey('custom_model', a + '/'));
  assert.notEqual(contentKey('custom_model', a), contentKey('mlflow_model', a));
  assert.ok(sameContent({ properties: { modelUri: a, modelType: 'custom_model' } } as any, 'custom_model', a));
  assert.ok(!sameContent({ properties: { modelUri: a, modelType: 'custom_model' } } as any, 'triton_model', a));
  for (const ok of ['1', '42', '1.0.3', 'v2', 'beta_1']) assert.ok(VERSION_PATTERN.test(ok), ok);
  for (const bad of ['0', '007', '', '-1', 'a b', 'x'.repeat(31), '.1']) assert.ok(!VERSION_PATTERN.test(bad), bad);
  for (const ok of ['m', 'churn-model_2', 'A'.repeat(255)]) assert.ok(ASSET_NAME_PATTERN.test(ok), ok);
  for (const bad of ['', '-m', 'm.v1', 'a b', 'A'.repeat(256)]) assert.ok(!ASSET_NAME_PATTERN.test(bad), bad);
});
