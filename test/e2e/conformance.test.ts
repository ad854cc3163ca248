// Conformance: Azure-in-a-box against real Azure ML traffic. Each test replays the requests of one recording Microsoft
// made for its azure-ai-ml SDK tests (excerpts in test/fixtures/third-party/azure-sdk-assets/ and
// azure-sdk-for-python/, provenance in that folder's README) against the box, with the box's subscription, resource
// group and workspace in place of the sanitised ones and api-version 2022-10-01 (what the box speaks) in place of the
// recorded preview versions, and fails on a difference that matters:
//   - the status code;
//   - the LRO headers: Azure-AsyncOperation / Location (and which kind of URL it is) / x-ms-async-operation-timeout
//     present exactly when the service sent them, with the same timeout, and Retry-After only when the service sent it;
//   - every value of the recorded response body (fields the service fills in or rewrites, error shapes), except the
//     ones listed in IGNORED with the reason (volatile values, sanitised values, fields newer than 2022-10-01);
//     a recorded `null` matches an absent field;
//   - the operation status over time (Updating while running, endTime, percentComplete).
// Differences the box keeps on purpose are listed in KNOWN with their reason (test/emulator/README.md has the table).
//   node scripts/test.mjs conformance
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ClientSecretCredential } from '@azure/identity';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { startAzureInABox, type AzureInABox } from '../emulator/index';

const TP = path.resolve(import.meta.dirname, '..', 'fixtures', 'third-party');
const REC = 'azure-sdk-assets/python/sdk/ml/azure-ai-ml/tests/recordings';
const SCORING = path.resolve(import.meta.dirname, '..', 'fixtures', 'scoring');
const SCOPE = 'https://management.core.windows.net/.default';
const API = '2022-10-01';
/** the recorder's sanitised names */
const R_SUB = '00000000-0000-0000-0000-000000000';
const R_WS = `/subscriptions/${R_SUB}/resourceGroups/00000/providers/Microsoft.MachineLearningServices/workspaces/00000`;

interface Entry {
  RequestUri: string;
  RequestMethod: string;
  RequestBody: any;
  StatusCode: number;
  ResponseHeaders: Record<string, string>;
  ResponseBody: any;
}
const load = (rel: string): Entry[] => JSON.parse(fs.readFileSync(path.join(TP, rel), 'utf8')).Entries;

/**
 * Recorded values not compared, each with its reason. A path is the body's JSON path with `*` for any array index /
 * map key; a rule matches the end of the path.
 */
const IGNORED: Array<{ re: RegExp; why: string; tags?: RegExp }> = [
  { re: /systemData\.(createdAt|lastModifiedAt|createdBy|lastModifiedBy)$/, why: 'volatile / sanitised' },
  {
    re: /systemData\.(createdByType|lastModifiedByType)$/,
    why: 'the recorder signed in as a User, the box caller is an Application',
  },
  { re: /(^|\.)(startTime|endTime)$/, why: 'volatile (the running marker 0001-01-01 is checked on its own)' },
  { re: /^(id|name)$/, why: 'operation ids differ (checked for shape through the Azure-AsyncOperation URL)' },
  { re: /properties\.AzureAsyncOperationUri$/, why: 'holds the operation id' },
  { re: /identity\.(principalId|tenantId)$/, why: 'sanitised to zeros by the recorder' },
  { re: /properties\.(scoringUri|swaggerUri)$/, why: 'the region host vs the box front door (null-ness is compared)' },
  { re: /^(primaryKey|secondaryKey)$/, why: 'sanitised' },
  { re: /codeUri$/, why: 'the storage account URL' },
  { re: /error\.additionalInfo\b/, why: 'correlation ids and times (the box sends no additionalInfo: KNOWN)' },
  { re: /services\.Tracking\.endpoint$/, why: 'the region host (azureml://eastus2.api.azureml.ms/…) vs the box' },
  { re: /properties\.(ContentSnapshotId|user_agent)$/, why: 'service-internal ids' },
  {
    re: /tags\._aml_system_(generator_config|platform_config)$/,
    why: 'long service-internal JSON, not reproduced (see arm/jobs.ts serviceJobRewrites)',
  },
  { re: /^location$/, why: 'the recording region' },
  {
    re: /(^|\.)(stage|autoDeleteSetting|intellectualProperty|dataCollector|privateNetworkConnection|secretsConfiguration|notificationSetting|queueSettings|componentConfiguration|parentJobName|dockerArgsList|maxInstanceCount|locations|logbase|assetVersion|pathOnCompute|assetName)$/,
    why: 'not in api-version 2022-10-01 (the recordings are at newer preview versions)',
  },
  {
    re: /^(value\.\d+\.)?properties\.provisioningState$/,
    tags: /^(env|model\w*)$/,
    why: 'asset versions have no provisioningState in 2022-10-01 (online endpoints and deployments do, and are compared)',
  },
  { re: /properties\.properties\.azureml\.labels$/, why: 'a preview-version label property of anonymous environments' },
];

/** KNOWN differences actually met (each must still be met: a KNOWN entry that no longer differs is stale) */
const knownSeen = new Set<string>();
/** differences the box keeps on purpose (path → reason); the test asserts they are still the only ones */
const KNOWN: Record<string, string> = {
  // the 2022 service (api 2022-02-01-preview) filled a new deployment in differently from the 2025 one; the box follows 2025 (dep-create)
  'deployment2022:properties.provisioningState':
    '2022: a new deployment read Updating in the PUT answer; 2025: Creating',
  'deployment2022:properties.requestSettings.requestTimeout': '2022: PT0S; 2025: PT5S',
  'deployment2022:properties.livenessProbe': '2022: null; 2025: the default probe',
  'deployment2022:properties.readinessProbe': '2022: null; 2025: the default probe',
};

// --------------------------------------------------------------------------------------------- box and helpers
let box: AzureInABox;
let cred: ClientSecretCredential;
let wsPath: string;

async function arm(
  method: string,
  p: string,
  body?: unknown,
): Promise<{ status: number; headers: Headers; json: any }> {
  const t = await cred.getToken(SCOPE);
  const url = p.startsWith('https://') ? p : `${box.armUrl.replace(/\/$/, '')}${p}`;
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

/** the recorded request's path on the box, at api-version `api` (other query parameters kept) */
function replayPath(e: Entry, api = API, rename: (p: string) => string = (p) => p): string {
  const u = new URL(e.RequestUri);
  const q = new URLSearchParams(u.search);
  q.set('api-version', api);
  return `${rename(u.pathname.replace(R_WS, wsPath))}?${q.toString().replace(/%24/g, '$')}`;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** the box's names → the recorder's, and the parts that differ by nature (api-version, region, operation ids) */
function norm(s: string): string {
  return s
    .replace(new RegExp(escapeRe(box.armUrl.replace(/\/$/, '')), 'g'), 'https://management.azure.com')
    .replace(new RegExp(escapeRe(box.subscriptionId), 'gi'), R_SUB)
    .replace(new RegExp(`(resourcegroups/)${escapeRe(box.resourceGroup)}(?=[/?"&]|$)`, 'gi'), '$100000')
    .replace(new RegExp(`(workspaces/)${escapeRe(box.workspace)}(?=[/?"&]|$)`, 'gi'), '$100000')
    .replace(/https:\/\/Sanitized\.azure\.com/g, 'https://management.azure.com');
}
function shape(url: string | null): string | null {
  return url === null
    ? null
    : norm(url)
        .replace(/api-version=[^&]*/, 'api-version={v}')
        .replace(/\/locations\/[^/]+\//, '/locations/{loc}/')
        .replace(/\/(mfeOperationsStatus|mfeOperationResults)\/[^?]+/, '/$1/{id}');
}

interface Diff {
  path: string;
  text: string;
}

/** every leaf of the recorded body compared with the box's */
function diffBody(tag: string, recorded: any, actual: any): Diff[] {
  const out: Diff[] = [];
  const walk = (r: any, a: any, p: string) => {
    if (IGNORED.some((i) => i.re.test(p) && (!i.tags || i.tags.test(tag)))) return;
    if (r !== null && typeof r === 'object' && !(Array.isArray(r) ? r.length === 0 : Object.keys(r).length === 0)) {
      if (a === null || typeof a !== 'object') {
        out.push({
          path: p || '(body)',
          text: `recorded ${JSON.stringify(r).slice(0, 120)} ≠ box ${JSON.stringify(a)}`,
        });
        return;
      }
      for (const k of Object.keys(r)) walk(r[k], Array.isArray(r) ? a[Number(k)] : a[k], p ? `${p}.${k}` : k);
      return;
    }
    if (r === null && (a === undefined || a === null)) return; // a recorded null matches an absent field
    const rv = typeof r === 'string' ? norm(r) : r;
    const av = typeof a === 'string' ? norm(a) : a;
    if (JSON.stringify(rv) !== JSON.stringify(av))
      out.push({ path: p, text: `recorded ${JSON.stringify(rv)} ≠ box ${JSON.stringify(av)}` });
  };
  walk(recorded, actual, '');
  return out;
}

const LRO_HEADERS = ['azure-asyncoperation', 'location', 'x-ms-async-operation-timeout', 'retry-after'];
function diffHeaders(e: Entry, h: Headers): Diff[] {
  const rec = Object.fromEntries(Object.entries(e.ResponseHeaders ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const out: Diff[] = [];
  for (const name of LRO_HEADERS) {
    const r = rec[name] ?? null,
      a = h.get(name);
    if ((r === null) !== (a === null)) {
      out.push({
        path: `header ${name}`,
        text: `recorded ${r === null ? 'absent' : 'present'}, box ${a === null ? 'absent' : `'${a}'`}`,
      });
      continue;
    }
    if (r === null) continue;
    const plain = name === 'x-ms-async-operation-timeout' || name === 'retry-after';
    const rv = plain ? r : shape(r),
      av = plain ? a : shape(a);
    if (rv !== av) out.push({ path: `header ${name}`, text: `recorded ${rv} ≠ box ${av}` });
  }
  return out;
}

/** compare one exchange; `tag` names it in the messages and in KNOWN keys (`<tag>:<path>`) */
function compare(tag: string, e: Entry, res: { status: number; headers: Headers; json: any }): string[] {
  const out: Diff[] = [];
  if (res.status !== e.StatusCode)
    out.push({
      path: 'status code',
      text: `recorded ${e.StatusCode} ≠ box ${res.status} ${JSON.stringify(res.json)?.slice(0, 300)}`,
    });
  out.push(...diffHeaders(e, res.headers));
  const body = e.ResponseBody === 'null' ? null : e.ResponseBody;
  if (body !== null && body !== undefined) out.push(...diffBody(tag, body, res.json));
  const what = `${e.RequestMethod} …/${new URL(e.RequestUri).pathname.split('/').slice(-2).join('/')}`;
  for (const d of out) if (`${tag}:${d.path}` in KNOWN) knownSeen.add(`${tag}:${d.path}`);
  return out.filter((d) => !(`${tag}:${d.path}` in KNOWN)).map((d) => `${tag} ${what}: ${d.path}: ${d.text}`);
}

async function pollUntilDone(op: string, timeoutMs = 60_000): Promise<any> {
  const t0 = Date.now();
  for (;;) {
    const st = await arm('GET', op);
    if (/^(Succeeded|Failed|Canceled)$/.test(st.json?.status) || Date.now() - t0 > timeoutMs) return st;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function upload(localDir: string, prefix: string): Promise<void> {
  const cc = new BlobServiceClient(
    box.azurite.blobEndpoint,
    new StorageSharedKeyCredential(box.azurite.account, box.azurite.key),
  ).getContainerClient(box.azurite.container);
  await cc.createIfNotExists();
  for (const f of fs.readdirSync(localDir, { recursive: true }) as string[]) {
    const full = path.join(localDir, f);
    if (fs.statSync(full).isFile())
      await cc.getBlockBlobClient(`${prefix}/${f.split(path.sep).join('/')}`).uploadFile(full);
  }
}

/**
 * An environment the recorded jobs name. The service resolves curated ones (AzureML-sklearn-1.0-…:33) from the
 * azureml registry; the box knows only the workspace's, and the 2022-10-01 name pattern refuses the dot in a PUT, so
 * it goes straight into the store (as the box seeds its own curated environment, arm/assets.ts).
 */
function seedEnvironment(name: string, version: string): void {
  const cid = `${wsPath}/environments/${name}`,
    vid = `${cid}/versions/${version}`;
  const sd = {
    createdAt: new Date().toISOString(),
    createdBy: 'Microsoft',
    createdByType: 'Application',
    lastModifiedAt: new Date().toISOString(),
    lastModifiedBy: 'Microsoft',
    lastModifiedByType: 'Application',
  };
  box.store.put('environmentContainers', cid, {
    id: cid,
    name,
    type: 'Microsoft.MachineLearningServices/workspaces/environments',
    systemData: sd,
    properties: { description: null, tags: {}, properties: {}, isArchived: false },
  });
  box.store.put('environmentVersions', vid, {
    id: vid,
    name: version,
    type: 'Microsoft.MachineLearningServices/workspaces/environments/versions',
    systemData: sd,
    properties: {
      description: null,
      tags: {},
      properties: {},
      isAnonymous: false,
      isArchived: false,
      image: 'mcr.microsoft.com/azureml/curated/sklearn-1.0:33',
      osType: 'Linux',
      environmentType: 'Curated',
      autoRebuild: 'Disabled',
    },
  });
}
/** an AmlCompute cluster named as in the recordings */
async function seedCompute(name: string): Promise<void> {
  const r = await arm('PUT', `${wsPath}/computes/${name}?api-version=${API}`, {
    location: box.location,
    properties: {
      computeType: 'AmlCompute',
      properties: { vmSize: 'STANDARD_DS3_V2', scaleSettings: { maxNodeCount: 1, minNodeCount: 0 } },
    },
  });
  assert.ok(r.status === 201 || r.status === 200, JSON.stringify(r.json));
  await pollUntilDone(r.headers.get('azure-asyncoperation')!);
}
/** a code version at the recorded id whose snapshot is the `ok` scoring fixture in a folder `folder` */
async function seedCode(name: string, folder: string): Promise<void> {
  const prefix = `LocalUpload/conformance-${name}/${folder}`;
  await upload(path.join(SCORING, 'ok'), prefix);
  const r = await arm('PUT', `${wsPath}/codes/${name}/versions/1?api-version=${API}`, {
    properties: { codeUri: `${box.azurite.blobEndpoint}/${box.azurite.container}/${prefix}` },
  });
  assert.ok(r.status === 201 || r.status === 200, JSON.stringify(r.json));
}

before(async () => {
  box = await startAzureInABox({ fastLro: false });
  cred = new ClientSecretCredential(box.tenantId, box.clientId, box.clientSecret, {
    authorityHost: box.authorityHost,
    disableInstanceDiscovery: true,
  });
  wsPath = `/subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${box.workspace}`;
});
after(async () => {
  await box?.stop();
});

describe('conformance with recorded Azure ML traffic', () => {
  test('online endpoint + deployment create, environment, model, listSecrets, listKeys, delete (online_services test_online_deployment_create + _update, 2025-02)', async () => {
    const E = load(
      `${REC}/online_services/e2etests/test_online_deployment.pyTestOnlineDeploymenttest_online_deployment_create.replay.json`,
    );
    const diffs: string[] = [];
    // 0 endpoint PUT → 201 Creating, LRO headers (replayed at 2023-04-01: the box's version that has mirrorTraffic, as the recorded preview does)
    const put = await arm('PUT', replayPath(E[0], '2023-04-01'), E[0].RequestBody);
    diffs.push(...compare('endpoint', E[0], put));
    // 1 status while it runs; 2 once done; 3 the endpoint after
    const op = put.headers.get('azure-asyncoperation')!;
    const first = await arm('GET', op);
    diffs.push(...compare('status', E[1], first));
    if (first.json?.endTime !== E[1].ResponseBody.endTime)
      diffs.push(`status: endTime while running: recorded ${E[1].ResponseBody.endTime} ≠ box ${first.json?.endTime}`);
    diffs.push(...compare('status', E[2], await pollUntilDone(op)));
    diffs.push(...compare('endpoint', E[3], await arm('GET', replayPath(E[3], '2023-04-01'))));
    // 4 environment version PUT (condaFile YAML → JSON text)
    diffs.push(...compare('env', E[4], await arm('PUT', replayPath(E[4]), E[4].RequestBody)));
    // 5 listSecrets of an identity-based datastore (credentialsType None): the recorded one is the workspace's default
    // store, the box's default store has an account key, so a second store without credentials stands in for it
    const ds = await arm('PUT', `${wsPath}/datastores/identitystore?api-version=${API}`, {
      properties: {
        datastoreType: 'AzureBlob',
        accountName: box.azurite.account,
        containerName: box.azurite.container,
        endpoint: box.azurite.datastoreEndpoint,
        protocol: 'http',
        credentials: { credentialsType: 'None' },
      },
    });
    assert.ok(ds.status === 201 || ds.status === 200, JSON.stringify(ds.json));
    diffs.push(
      ...compare(
        'listSecrets',
        E[5],
        await arm(
          'POST',
          replayPath(E[5], API, (p) => p.replace('/datastores/workspaceblobstore/', '/datastores/identitystore/')),
        ),
      ),
    );
    // 6 model version PUT of a version that exists (the recording's answer is 200): created once first, model files in the store
    await upload(path.join(SCORING, 'model'), 'LocalUpload/00000000000000000000000000000000/model');
    const modelBody = {
      properties: {
        ...E[6].RequestBody.properties,
        modelUri: E[6].RequestBody.properties.modelUri.replace(
          `/subscriptions/${R_SUB}/resourcegroups/00000/workspaces/00000/`,
          `/subscriptions/${box.subscriptionId}/resourcegroups/${box.resourceGroup}/workspaces/${box.workspace}/`,
        ),
      },
    };
    assert.equal((await arm('PUT', replayPath(E[6]), modelBody)).status, 201);
    diffs.push(...compare('model', E[6], await arm('PUT', replayPath(E[6]), modelBody)));
    // 7 deployment PUT → 201 Creating (code version at the recorded id, snapshot folder `onlinescoring` as recorded)
    await seedCode('1451f8f8-6790-4c6e-af11-94f58e744f69', 'onlinescoring');
    const depBody = JSON.parse(JSON.stringify(E[7].RequestBody).split(R_WS).join(wsPath));
    const dput = await arm('PUT', replayPath(E[7]), depBody);
    diffs.push(...compare('deployment', E[7], dput));
    const dop = dput.headers.get('azure-asyncoperation');
    if (dop) {
      diffs.push(...compare('status', E[8], await arm('GET', dop)));
      const done = await pollUntilDone(dop, 90_000);
      assert.equal(done.json?.status, 'Succeeded', JSON.stringify(done.json));
    }
    // 9 deployments list after Succeeded (service-added environment variables, requestSettings)
    diffs.push(...compare('deployments', E[9], await arm('GET', replayPath(E[9]))));
    // 10 listKeys; 11 endpoint DELETE → 202 + LRO headers
    diffs.push(...compare('listKeys', E[10], await arm('POST', replayPath(E[10]))));
    const del = await arm('DELETE', replayPath(E[11]));
    diffs.push(...compare('delete', E[11], del));
    // the delete's operation while it runs: the next recording of the suite polls it (test_online_deployment_update)
    const [u] = load(
      `${REC}/online_services/e2etests/test_online_deployment.pyTestOnlineDeploymenttest_online_deployment_update.replay.json`,
    );
    const delOp = del.headers.get('azure-asyncoperation');
    if (delOp) {
      diffs.push(...compare('deleteStatus', u, await arm('GET', delOp)));
      await pollUntilDone(delOp);
    }
    assert.deepEqual(diffs, []);
  });

  test('2022: endpoint and deployment PUT LRO headers, Updating, model resourceGroups (azure-sdk-for-python test_online_deployment, 2022-10)', async () => {
    const E = load(
      'azure-sdk-for-python/sdk/ml/azure-ai-ml/tests/recordings/online_services/e2etests/test_online_deployment.pyTestOnlineDeploymenttest_online_deployment.replay.json',
    );
    const diffs: string[] = [];
    const put = await arm('PUT', replayPath(E[0]), {
      ...E[0].RequestBody,
      properties: { authMode: 'AMLToken', properties: {}, traffic: {} },
    });
    // the recorded body echoes mirrorTraffic (a preview field then; not in 2022-10-01, so the box at 2022-10-01 leaves it out)
    diffs.push(...compare('endpoint2022', E[0], put).filter((d) => !/properties\.mirrorTraffic/.test(d)));
    const op = put.headers.get('azure-asyncoperation')!;
    diffs.push(...compare('status2022', E[1], await arm('GET', op)));
    diffs.push(...compare('status2022', E[2], await arm('GET', op)));
    await pollUntilDone(op);
    // model version re-PUT at 2022-05-01: 200, resourcegroups → resourceGroups, flavors {}
    await upload(
      path.join(SCORING, 'model'),
      'LocalUpload/00000000000000000000000000000000/sklearn_regression_model.pkl',
    );
    const modelBody = {
      properties: {
        ...E[3].RequestBody.properties,
        modelUri: E[3].RequestBody.properties.modelUri.replace(
          `/subscriptions/${R_SUB}/resourcegroups/00000/workspaces/00000/`,
          `/subscriptions/${box.subscriptionId}/resourcegroups/${box.resourceGroup}/workspaces/${box.workspace}/`,
        ),
      },
    };
    assert.equal((await arm('PUT', replayPath(E[3]), modelBody)).status, 201);
    diffs.push(...compare('model2022', E[3], await arm('PUT', replayPath(E[3]), modelBody)));
    // deployment PUT (its code, environment and the model above exist); `privateNetworkConnection` was a 2022-02-01-preview
    // field, not in 2022-10-01, so the replay leaves it out
    await seedCode('38b4fd9c-442f-42f8-8b87-601e5c35a88e', 'onlinescoring');
    const env = await arm('PUT', `${wsPath}/environments/online-endpoint-mir-test/versions/3?api-version=${API}`, {
      properties: { image: 'mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest' },
    });
    assert.equal(env.status, 201, JSON.stringify(env.json));
    const { privateNetworkConnection: _p, ...depProps } = JSON.parse(
      JSON.stringify(E[4].RequestBody.properties).split(R_WS).join(wsPath),
    );
    const dput = await arm('PUT', replayPath(E[4]), { ...E[4].RequestBody, properties: depProps });
    diffs.push(...compare('deployment2022', E[4], dput));
    const dop = dput.headers.get('azure-asyncoperation');
    if (dop) {
      diffs.push(...compare('status2022', E[5], await arm('GET', dop)));
      await pollUntilDone(dop, 90_000);
    }
    assert.deepEqual(diffs, []);
    assert.deepEqual(
      Object.keys(KNOWN).filter((k) => !knownSeen.has(k)),
      [],
      'KNOWN differences that no longer occur',
    );
  });

  test('command job PUT: Starting, Location, resources and compute properties filled in (command_job test_command_job_invalid_datastore, 2026-03)', async () => {
    const [e] = load(
      `${REC}/command_job/e2etests/test_command_job.pyTestCommandJobtest_command_job_invalid_datastore.json`,
    );
    await seedCompute('testCompute');
    seedEnvironment('AzureML-sklearn-1.0-ubuntu20.04-py38-cpu', '33');
    const body = JSON.parse(JSON.stringify(e.RequestBody).split(R_WS).join(wsPath));
    const diffs = compare('command', e, await arm('PUT', replayPath(e), body));
    assert.deepEqual(diffs, []);
  });

  test('sweep job PUT: trial environment as ARM id, goal, sampling rule, HyperDrive tags (sweep_job test_sweep_job_submit_minimal, 2026-03)', async () => {
    const [e] = load(
      `${REC}/sweep_job/e2etests/test_sweep_job.pyTestSweepJobtest_sweep_job_submit_minimal.replay.json`,
    );
    await seedCompute('testCompute');
    seedEnvironment('AzureML-sklearn-1.0-ubuntu20.04-py38-cpu', '33');
    await seedCode('83eb68f5-8468-439d-89d0-626f504652e6', 'python');
    const body = JSON.parse(JSON.stringify(e.RequestBody).split(R_WS).join(wsPath));
    const res = await arm('PUT', replayPath(e), body);
    const diffs = compare('sweep', e, res);
    assert.deepEqual(diffs, []);
  });

  test('model versions: 404 for a model that does not exist, PUT 201 + Location with resourceGroups, GET, list (model test_crud_file, 2026-03)', async () => {
    const E = load(`${REC}/model/e2etests/test_model.pyTestModeltest_crud_file.replay.json`);
    const diffs: string[] = [];
    diffs.push(...compare('modelList', E[0], await arm('GET', replayPath(E[0]))));
    const body = {
      properties: {
        ...E[1].RequestBody.properties,
        modelUri: E[1].RequestBody.properties.modelUri.replace(
          `/subscriptions/${R_SUB}/resourcegroups/00000/workspaces/00000/`,
          `/subscriptions/${box.subscriptionId}/resourcegroups/${box.resourceGroup}/workspaces/${box.workspace}/`,
        ),
      },
    };
    diffs.push(...compare('modelPut', E[1], await arm('PUT', replayPath(E[1]), body)));
    diffs.push(...compare('modelGet', E[2], await arm('GET', replayPath(E[2]))));
    diffs.push(...compare('modelList', E[3], await arm('GET', replayPath(E[3]))));
    assert.deepEqual(diffs, []);
  });

  test('data versions: a short datastore URI reads back in the long form, uri_folder with a trailing slash (dataset test_create_uri_folder / _uri_file, 2026-03)', async () => {
    const diffs: string[] = [];
    for (const [tag, file] of [
      ['dataFolder', 'test_data.pyTestDatatest_create_uri_folder.replay.json'],
      ['dataFile', 'test_data.pyTestDatatest_create_uri_file.replay.json'],
    ]) {
      const E = load(`${REC}/dataset/e2etests/${file}`);
      diffs.push(...compare(tag, E[0], await arm('PUT', replayPath(E[0]), E[0].RequestBody)));
      diffs.push(...compare(tag, E[1], await arm('GET', replayPath(E[1]))));
      // the same body again is the same version: 200, not "already registered … cannot be changed"
      const again = await arm('PUT', replayPath(E[0]), E[0].RequestBody);
      if (again.status !== 200)
        diffs.push(`${tag}: re-PUT of the same body answered ${again.status} ${JSON.stringify(again.json)}`);
    }
    assert.deepEqual(diffs, []);
  });

  test('a body the swagger refuses: 400 UserError "Request is invalid and/or missing fields." with the cause in details[]', async () => {
    const r = await arm('PUT', `${wsPath}/models/badbody/versions/1?api-version=${API}`, {
      properties: { modelUri: 42 },
    });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'UserError');
    assert.equal(r.json.error.message, 'Request is invalid and/or missing fields.');
    assert.ok(
      Array.isArray(r.json.error.details) &&
        r.json.error.details.length > 0 &&
        r.json.error.details.every((d: any) => d.code === 'RequestInvalid'),
      JSON.stringify(r.json),
    );
    assert.match(r.json.error.details[0].message, /modelUri/);
    // a member api-version 2022-10-01 does not have is refused, not ignored (ASSUMPTION from issue 9, see swagger.ts)
    const u = await arm('PUT', `${wsPath}/models/badbody/versions/1?api-version=${API}`, {
      properties: { modelUri: 'azureml://datastores/workspaceblobstore/paths/x', notAField: 1 },
    });
    assert.equal(u.status, 400, JSON.stringify(u.json));
    assert.equal(u.json.error.message, 'Request is invalid and/or missing fields.');
    assert.match(u.json.error.details.map((d: any) => d.message).join('\n'), /properties\.notAField/);
    assert.equal((await arm('GET', `${wsPath}/models/badbody?api-version=${API}`)).status, 404, 'nothing stored');
  });
});
