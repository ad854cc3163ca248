// src/pipeline: typed inputs, the AzureRM connection, pipeline context, runTask's error mapping.
// task-lib reads INPUT_*/ENDPOINT_* at import, so each case runs the fixture task in a child with the agent's env.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectionEnv, runBundledTask, type AuthScheme, type RunOptions } from '../helpers/agent';
import { fakeBox } from '../helpers/fakebox';
import { fixtureTaskScript } from '../helpers/fixture';
import { lineageTags, InputError, UserError } from '../../src/pipeline';

const box = fakeBox();
const scriptPath = fixtureTaskScript();

type Result = { ok: true; value: unknown } | { ok: false; name: string; user: boolean; message: string };

async function calls(
  inputs: Record<string, string>,
  list: Array<[string, ...unknown[]]>,
  extra: Partial<RunOptions> = {},
): Promise<Result[]> {
  const r = await runBundledTask('Fixture', {
    box,
    scriptPath,
    ...extra,
    inputs: { mode: 'calls', calls: JSON.stringify(list.map(([fn, ...args]) => ({ fn, args }))), ...inputs },
  });
  assert.equal(r.result, 'Succeeded', r.stdout);
  return [...r.stdout.matchAll(/^RESULT (.*)$/gm)].map((m) => JSON.parse(m[1]) as Result);
}

const ok = (v: unknown): Result => ({ ok: true, value: v });
const inputErr = (message: string): Result => ({ ok: false, name: 'InputError', user: true, message });

test('InputError names the input', () => {
  const e = new InputError('modelName', 'is required');
  assert.equal(e.message, "Input 'modelName': is required");
  assert.ok(e instanceof UserError);
});

test('strings, booleans, numbers, enums, lists', async () => {
  const res = await calls(
    {
      modelName: '  my-model  ',
      instanceCount: 'abc',
      count: '3',
      big: '11',
      frac: '1.5',
      ratio: '0.25',
      badRatio: '1/2',
      flagYes: 'yes',
      flagFalse: 'False',
      flagBad: 'maybe',
      modelType: 'x',
      modelTypeCase: 'MLflow_Model',
      list: 'a, b\nc,,\n',
    },
    [
      ['getString', 'modelName'],
      ['requireString', 'missing'],
      ['getString', 'missing', { default: 'dflt' }],
      ['getString', 'missing'],
      ['getInt', 'instanceCount'],
      ['getInt', 'count', { min: 1, max: 5 }],
      ['getInt', 'big', { max: 10 }],
      ['getInt', 'count', { min: 4 }],
      ['getInt', 'frac'],
      ['getInt', 'missing', { default: 7 }],
      ['getInt', 'missing', { required: true }],
      ['getNumber', 'ratio', { max: 1 }],
      ['getNumber', 'badRatio'],
      ['getBool', 'flagYes'],
      ['getBool', 'flagFalse', true],
      ['getBool', 'missing', true],
      ['getBool', 'flagBad'],
      ['getEnum', 'modelType', ['custom_model', 'mlflow_model', 'triton_model']],
      ['getEnum', 'modelTypeCase', ['custom_model', 'mlflow_model', 'triton_model']],
      ['getEnum', 'missing', ['custom_model', 'mlflow_model'], 'custom_model'],
      ['getEnum', 'missing', ['a', 'b']],
      ['getList', 'list'],
      ['getList', 'missing'],
    ],
  );
  assert.deepEqual(res, [
    ok('my-model'),
    inputErr("Input 'missing': is required"),
    ok('dflt'),
    ok(null),
    inputErr(`Input 'instanceCount': "abc" is not an integer`),
    ok(3),
    inputErr("Input 'big': 11 is greater than the maximum 10"),
    inputErr("Input 'count': 3 is less than the minimum 4"),
    inputErr(`Input 'frac': "1.5" is not an integer`),
    ok(7),
    inputErr("Input 'missing': is required"),
    ok(0.25),
    inputErr(`Input 'badRatio': "1/2" is not a number`),
    ok(true),
    ok(false),
    ok(true),
    inputErr(`Input 'flagBad': "maybe" is not a boolean (use true or false)`),
    inputErr(`Input 'modelType': "x" is not one of custom_model, mlflow_model, triton_model`),
    ok('mlflow_model'),
    ok('custom_model'),
    inputErr("Input 'missing': is required (one of a, b)"),
    ok(['a', 'b', 'c']),
    ok([]),
  ]);
});

test('getKeyValues: comma list, one per line, JSON; errors name the input', async () => {
  const res = await calls(
    {
      t1: 'a=b, c=d',
      t2: 'team = ml\nstage=prod\n\nurl=https://x/y?q=1,2',
      t3: '{"a": "b", "n": 3, "flag": true}',
      t4: 'a=1, b',
      t5: '=b',
      t6: 'a=1\na=2',
      t7: '{"a": {"nested": 1}}',
      t8: '{"a": ',
      t9: 'novalue',
      t10: 'desc=one, two, three',
    },
    [
      ['getKeyValues', 't1'],
      ['getKeyValues', 't2'],
      ['getKeyValues', 't3'],
      ['getKeyValues', 't4'],
      ['getKeyValues', 't5'],
      ['getKeyValues', 't6'],
      ['getKeyValues', 't7'],
      ['getKeyValues', 't8'],
      ['getKeyValues', 't9'],
      ['getKeyValues', 't10'],
      ['getKeyValues', 'missing'],
    ],
  );
  assert.deepEqual(res.slice(0, 3), [
    ok({ a: 'b', c: 'd' }),
    ok({ team: 'ml', stage: 'prod', url: 'https://x/y?q=1,2' }),
    ok({ a: 'b', n: '3', flag: 'true' }),
  ]);
  // "a=1, b": the comma is not followed by key=, so it belongs to the value → a = "1, b" is valid
  assert.deepEqual(res[3], ok({ a: '1, b' }));
  assert.deepEqual(res[4], inputErr(`Input 't5': empty key in "=b"`));
  assert.deepEqual(res[5], inputErr(`Input 't6': duplicate key "a"`));
  assert.deepEqual(res[6], inputErr(`Input 't7': value of "a" must be a string, number or boolean`));
  assert.equal(res[7].ok, false);
  assert.match((res[7] as { message: string }).message, /^Input 't8': is not valid JSON: /);
  assert.deepEqual(res[8], inputErr(`Input 't9': "novalue" is not in key=value form`));
  assert.deepEqual(res[9], ok({ desc: 'one, two, three' }));
  assert.deepEqual(res[10], ok({}));
});

test('getPath: resolved, must exist, kind, blank filePath (repository root) is not supplied', async () => {
  const src = fs.mkdtempSync(path.join(os.tmpdir(), 'pipeline-src-'));
  fs.mkdirSync(path.join(src, 'model'));
  fs.writeFileSync(path.join(src, 'model', 'model.pkl'), 'x');
  try {
    const res = await calls(
      { p1: 'model/model.pkl', p2: 'model', p3: 'nope/missing.bin', p4: src, p5: 'model/new.txt' },
      [
        ['getPath', 'p1', { kind: 'file' }],
        ['getPath', 'p2', { kind: 'dir' }],
        ['getPath', 'p3'],
        ['getPath', 'p2', { kind: 'file' }],
        ['getPath', 'p1', { kind: 'dir' }],
        ['getPath', 'p4', { kind: 'file', required: true }],
        ['getPath', 'p4', { kind: 'dir' }],
        ['getPath', 'p5', { mustExist: false }],
        ['getPath', 'missing'],
      ],
      { cwd: src },
    );
    assert.deepEqual(res, [
      ok(path.join(src, 'model', 'model.pkl')),
      ok(path.join(src, 'model')),
      inputErr(`Input 'p3': path "nope/missing.bin" does not exist`),
      inputErr(`Input 'p2': "model" is not a file`),
      inputErr(`Input 'p1': "model/model.pkl" is not a folder`),
      inputErr("Input 'p4': is required"),
      ok(src),
      ok(path.join(src, 'model', 'new.txt')),
      ok(null),
    ]);
  } finally {
    fs.rmSync(src, { recursive: true, force: true });
  }
});

async function connection(scheme: AuthScheme, extra: Partial<RunOptions> = {}) {
  const r = await runBundledTask('Fixture', {
    box,
    scriptPath,
    scheme,
    ...extra,
    inputs: { mode: 'connection', ...extra.inputs },
  });
  const conn = r.stdout.match(/^CONNECTION (.*)$/m);
  return { run: r, conn: conn ? JSON.parse(conn[1]) : undefined, scope: r.stdout.match(/^SCOPE (.*)$/m)?.[1] };
}

test('connection: service principal with secret; the key is masked first', async () => {
  const { run, conn, scope } = await connection('secret');
  assert.deepEqual(conn, {
    id: 'conn-secret',
    armUrl: box.armUrl,
    subscriptionId: box.subscriptionId,
    tenantId: box.tenantId,
    authorityHost: box.authorityHost,
    audience: box.audience,
    environment: 'AzureCloud',
    scopeLevel: 'Subscription',
    auth: { scheme: 'ServicePrincipal', clientId: box.clientId, secret: `<${box.clientSecret.length} chars>` },
  });
  assert.equal(scope, 'https://management.core.windows.net//.default');
  assert.ok(run.stdout.includes(`##vso[task.setsecret]${box.clientSecret}`));
});

test('connection: certificate PEM; every key line masked', async () => {
  const { run, conn } = await connection('certificate');
  assert.equal(conn.auth.scheme, 'ServicePrincipal');
  assert.equal(conn.auth.certificatePem, `<${box.certificatePem.trim().length} chars>`);
  assert.equal(conn.auth.secret, undefined);
  for (const line of box.certificatePem.split('\n').filter((l) => l && !l.startsWith('-----'))) {
    assert.ok(run.stdout.includes(`##vso[task.setsecret]${line}`), `masked: ${line.slice(0, 12)}…`);
  }
});

test('connection: workload identity federation with OIDC request URI and job token', async () => {
  const { conn } = await connection('wif');
  assert.equal(conn.auth.scheme, 'WorkloadIdentityFederation');
  assert.deepEqual(conn.oidc, {
    requestUri: box.oidcRequestUri,
    accessToken: `<${box.systemAccessToken.length} chars>`,
  });
});

test('connection: WIF without System.OidcRequestUri takes the job plan, the way azure-arm-rest builds the request', async () => {
  const { conn } = await connection('wif', { env: { SYSTEM_OIDCREQUESTURI: '' } });
  const m = /\/plans\/([^/]+)\/jobs\/([^/]+)\/oidctoken$/.exec(box.oidcRequestUri)!;
  assert.deepEqual(conn.oidc, {
    plan: { collectionUri: box.collectionUri, projectId: box.projectId, hub: 'build', planId: m[1], jobId: m[2] },
    accessToken: `<${box.systemAccessToken.length} chars>`,
  });
  // a classic release agent job: hub = System.HostType = release; the collection URI, not the vsrm server URI
  const rel = await connection('wif', {
    env: {
      SYSTEM_OIDCREQUESTURI: '',
      SYSTEM_HOSTTYPE: 'release',
      SYSTEM_TEAMFOUNDATIONSERVERURI: 'https://vsrm.dev.azure.com/org/',
      SYSTEM_PLANID: 'p-1',
      SYSTEM_JOBID: 'j-1',
    },
  });
  assert.deepEqual(rel.conn.oidc.plan, {
    collectionUri: box.collectionUri,
    projectId: box.projectId,
    hub: 'release',
    planId: 'p-1',
    jobId: 'j-1',
  });
});

test('connection: WIF with idToken, no OIDC request URI and no job access token', async () => {
  const idToken = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzYyJ9.c2lnbmF0dXJl';
  const noJobToken = {
    ENDPOINT_AUTH_SYSTEMVSSCONNECTION: '',
    ENDPOINT_AUTH_SCHEME_SYSTEMVSSCONNECTION: '',
    ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN: '',
  };
  const { run, conn } = await connection('wif', {
    inputs: { connection: 'conn-idt' },
    env: {
      ...connectionEnv(box, 'conn-idt', 'wif-idtoken', undefined, { idToken }),
      SYSTEM_OIDCREQUESTURI: '',
      ...noJobToken,
    },
  });
  assert.equal(conn.auth.scheme, 'WorkloadIdentityFederation');
  assert.equal(conn.auth.idToken, `<${idToken.length} chars>`);
  assert.equal(conn.oidc, undefined);
  assert.ok(run.stdout.includes(`##vso[task.setsecret]${idToken}`));
  // with the job access token, the job plan (fresh tokens) wins over the idToken
  const withToken = await connection('wif', {
    inputs: { connection: 'conn-idt' },
    env: { ...connectionEnv(box, 'conn-idt', 'wif-idtoken', undefined, { idToken }), SYSTEM_OIDCREQUESTURI: '' },
  });
  assert.equal(withToken.conn.oidc.plan.hub, 'build');
});

test('connection: WIF without any token source is a one-line input error', async () => {
  const env = connectionEnv(box, 'conn-w', 'wif');
  for (const missing of ['SYSTEM_PLANID', 'SYSTEM_JOBID', 'SYSTEM_HOSTTYPE', 'SYSTEM_TEAMPROJECTID']) {
    const { run } = await connection('secret', {
      inputs: { connection: 'conn-w' },
      env: { ...env, SYSTEM_OIDCREQUESTURI: '', [missing]: '' },
    });
    assert.equal(run.result, 'Failed');
    assert.match(
      run.message!,
      /^Input 'connection': service connection 'conn-w' uses workload identity federation, but the job has neither System\.OidcRequestUri nor its plan variables/,
    );
  }
});

test('connection: Machine Learning Workspace scope gives resource group and workspace; sovereign authority', async () => {
  const { conn } = await connection('secret', {
    connectionData: {
      scopeLevel: 'AzureMLWorkspace',
      resourceGroupName: 'rg-ml',
      mlWorkspaceName: 'ws-ml',
      mlWorkspaceLocation: 'westeurope',
      environment: 'AzureUSGovernment',
      activeDirectoryAuthority: 'https://login.microsoftonline.us',
      activeDirectoryServiceEndpointResourceId: 'https://management.core.usgovcloudapi.net',
    },
  });
  assert.equal(conn.scopeLevel, 'AzureMLWorkspace');
  assert.equal(conn.resourceGroup, 'rg-ml');
  assert.equal(conn.workspace, 'ws-ml');
  assert.equal(conn.workspaceLocation, 'westeurope');
  assert.equal(conn.environment, 'AzureUSGovernment');
  assert.equal(conn.authorityHost, 'https://login.microsoftonline.us/');
  assert.equal(conn.audience, 'https://management.core.usgovcloudapi.net', 'the audience as given: no slash added');
});

test('connection: missing, unknown scheme, missing key, missing subscription → one line naming the input', async () => {
  const cases: Array<[Partial<RunOptions>, RegExp]> = [
    [
      { inputs: { connection: 'nope' } },
      /^Input 'connection': service connection 'nope' was not found, or this pipeline is not authorized to use it$/,
    ],
    [{ inputs: { connection: '' } }, /^Input 'connection': is required$/],
    [
      {
        env: {
          'ENDPOINT_AUTH_conn-secret': JSON.stringify({
            scheme: 'UsernamePassword',
            parameters: { username: 'u', password: 'p' },
          }),
        },
      },
      /^Input 'connection': service connection 'conn-secret' uses the unsupported authorization scheme 'UsernamePassword'/,
    ],
    [
      {
        env: {
          'ENDPOINT_AUTH_conn-secret': JSON.stringify({
            scheme: 'ServicePrincipal',
            parameters: { serviceprincipalid: 'x', tenantid: 't', authenticationType: 'spnKey' },
          }),
        },
      },
      /^Input 'connection': service connection 'conn-secret' has no service principal key$/,
    ],
    [
      { env: { 'ENDPOINT_AUTH_conn-secret': JSON.stringify({ parameters: {} }) } },
      /^Input 'connection': service connection 'conn-secret' has no authorization scheme$/,
    ],
    [
      { connectionData: { subscriptionId: '' } },
      /^Input 'connection': service connection 'conn-secret' has no subscription id/,
    ],
  ];
  for (const [extra, re] of cases) {
    const { run } = await connection('secret', extra);
    assert.equal(run.result, 'Failed', run.stdout);
    assert.match(run.message!, re);
    assert.deepEqual(run.errors, [run.message]);
    assert.ok(
      !/\n\s+at /.test(
        run.stdout
          .split('\n')
          .filter((l) => !l.includes('##vso[task.debug]'))
          .join('\n'),
      ),
      'no stack trace',
    );
  }
});

test('pipeline context and lineage tags from the build variables', async () => {
  const { run } = await connection('secret', {
    variables: { 'Build.Repository.Name': 'fraud-model', 'System.JobAttempt': '2' },
  });
  const ctx = JSON.parse(run.stdout.match(/^CONTEXT (.*)$/m)![1]);
  assert.equal(ctx.repository, 'fraud-model');
  assert.equal(ctx.attempt, '2');
  assert.equal(ctx.hostType, 'build');
  assert.equal(ctx.accessToken, '<set>');
  const tags = JSON.parse(run.stdout.match(/^TAGS (.*)$/m)![1]);
  assert.deepEqual(tags, {
    'azdo.pipeline': 'azureml-ci',
    'azdo.buildId': '4242',
    'azdo.buildUrl': `${box.collectionUri}Contoso%20ML/_build/results?buildId=4242`,
    'azdo.repository': 'fraud-model',
    'azdo.commit': '3f786850e387550fdab836ed7e6dc881de23001b',
    'azdo.branch': 'refs/heads/main',
    'azdo.requestedFor': 'Ada Lovelace',
    'azdo.reason': 'IndividualCI',
    'azdo.stage': 'Train',
  });
});

test('lineageTags: only present values; release values', () => {
  assert.deepEqual(lineageTags({}), {});
  assert.deepEqual(
    lineageTags({
      hostType: 'release',
      releaseDefinitionName: 'cd',
      releaseName: 'Release-7',
      releaseUrl: 'https://x/r/7',
      stageName: 'prod',
      buildId: '',
    }),
    { 'azdo.pipeline': 'cd', 'azdo.release': 'Release-7', 'azdo.releaseUrl': 'https://x/r/7', 'azdo.stage': 'prod' },
  );
});

test('runTask: UserError → Failed with its one line; other errors → one line, stack only at debug', async () => {
  const user = await runBundledTask('Fixture', { box, scriptPath, inputs: { mode: 'fail-user' } });
  assert.equal(user.result, 'Failed');
  assert.equal(user.message, "Input 'modelName': is required");
  assert.deepEqual(user.errors, ["Input 'modelName': is required"]);
  assert.equal(user.code, 1);
  assert.ok(!user.stdout.includes('    at '), 'no stack for a UserError');

  const other = await runBundledTask('Fixture', { box, scriptPath, inputs: { mode: 'fail-other' } });
  assert.equal(other.result, 'Failed');
  assert.equal(other.message, 'ESOMETHING: boom: first line second line');
  assert.deepEqual(other.errors, ['ESOMETHING: boom: first line second line']);
  const stackLines = other.stdout.split('\n').filter((l) => l.includes('    at ') || l.includes('%0A    at '));
  assert.ok(
    stackLines.length > 0 && stackLines.every((l) => l.startsWith('##vso[task.debug]')),
    'stack only in debug lines',
  );

  const stray = await runBundledTask('Fixture', { box, scriptPath, inputs: { mode: 'unhandled' } });
  assert.equal(stray.result, 'Failed');
  assert.equal(stray.message, 'stray rejection');
  assert.equal(stray.commands.filter((c) => c.name === 'task.complete').length, 1, 'exactly one task.complete');
  assert.ok(stray.durationMs < 4500, 'exits without waiting for the stray timer');
});

test('runTask: success sets Succeeded once and exits 0', async () => {
  const r = await runBundledTask('Fixture', { box, scriptPath, inputs: { mode: 'calls', calls: '[]' } });
  assert.equal(r.result, 'Succeeded');
  assert.equal(r.code, 0);
  assert.equal(r.commands.filter((c) => c.name === 'task.complete').length, 1);
});

test('in a classic release, Build.* (filled from the primary artifact: model name/version) is not taken as lineage', async () => {
  const { run } = await connection('secret', {
    variables: {
      'System.HostType': 'release',
      'Release.ReleaseId': '12',
      'Release.ReleaseName': 'Release-12',
      'Release.DefinitionName': 'model-cd',
      'Release.ReleaseWebUrl': 'https://dev.azure.com/org/p/_releaseProgress?releaseId=12',
      'Release.EnvironmentName': 'staging',
      'Release.RequestedFor': 'Grace Hopper',
      'Build.DefinitionName': 'diabetes-classifier',
      'Build.BuildId': '7',
      'Build.BuildNumber': '7',
    },
  });
  const ctx = JSON.parse(run.stdout.match(/^CONTEXT (.*)$/m)![1]);
  assert.equal(ctx.buildId, undefined);
  assert.equal(ctx.buildUrl, undefined);
  assert.equal(ctx.requestedFor, 'Grace Hopper');
  const tags = JSON.parse(run.stdout.match(/^TAGS (.*)$/m)![1]);
  assert.deepEqual(tags, {
    'azdo.pipeline': 'model-cd',
    'azdo.requestedFor': 'Grace Hopper',
    'azdo.release': 'Release-12',
    'azdo.releaseUrl': 'https://dev.azure.com/org/p/_releaseProgress?releaseId=12',
    'azdo.stage': 'staging',
  });
});
