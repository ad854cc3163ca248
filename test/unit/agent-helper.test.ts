// The agent test helper: logging-command parser, result interpretation, secret scanner, and runBundledTask itself
// (environment, signals, logs) with a small fixture task built on src/pipeline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  connectionEnv,
  interpretRun,
  parseVsoLine,
  runBundledTask,
  scanForSecrets,
  boxSecrets,
  unescapeVso,
  type RunOptions,
} from '../helpers/agent';
import { fakeBox } from '../helpers/fakebox';
import { fixtureTaskScript } from '../helpers/fixture';

const box = fakeBox();
const fixture: Pick<RunOptions, 'scriptPath'> = { scriptPath: fixtureTaskScript() };

test('unescapeVso undoes the agent escaping in one pass', () => {
  assert.equal(unescapeVso('a%3Bb%0D%0Ac%5Dd%AZP25e%25f'), 'a;b\r\nc]d%e%f');
  // one pass: an escaped "%AZP25" followed by "3B" stays literal "%3B"
  assert.equal(unescapeVso('%AZP253B'), '%3B');
});

test('parseVsoLine reads name, properties (escaped) and data', () => {
  const c = parseVsoLine(
    '2026-01-01T00:00:00Z ##vso[task.setvariable variable=a%3Bb;isOutput=true;issecret=false;]x%0Ay%AZP25',
  );
  assert.deepEqual(c, {
    name: 'task.setvariable',
    props: { variable: 'a;b', isOutput: 'true', issecret: 'false' },
    data: 'x\ny%',
  });
  assert.deepEqual(parseVsoLine('##vso[task.setsecret]abc'), { name: 'task.setsecret', props: {}, data: 'abc' });
  assert.equal(parseVsoLine('plain line'), undefined);
  assert.equal(parseVsoLine('##vso[broken'), undefined);
});

test('interpretRun: worst task.complete wins, outputs, secret outputs, issues, progress', () => {
  const out = [
    '##vso[task.setvariable variable=modelVersion;isOutput=true;]3',
    '##vso[task.setvariable variable=notOutput;]x',
    '##vso[task.setvariable variable=key;isoutput=true;issecret=true;]s3cr3t-value',
    '##vso[task.logissue type=error;]first error',
    '##vso[task.issue type=error;source=TaskInternal;]second error',
    '##vso[task.issue type=warning;]a warning',
    '##vso[task.setprogress value=40;]uploading',
    '##vso[task.complete result=Failed;]it broke',
    '##vso[task.complete result=Succeeded;]late success',
  ].join('\n');
  const r = interpretRun(out, '', 0);
  assert.equal(r.result, 'Failed');
  assert.equal(r.message, 'it broke');
  assert.equal(r.completed, true);
  assert.deepEqual(r.outputs, { modelVersion: '3', key: 's3cr3t-value' });
  assert.deepEqual(r.secretOutputs, ['key']);
  assert.deepEqual(r.errors, ['first error', 'second error']);
  assert.deepEqual(r.warnings, ['a warning']);
  assert.deepEqual(r.progress, [40]);
  // without task.complete the agent goes by the exit code
  assert.equal(interpretRun('hello', '', 0).result, 'Succeeded');
  assert.equal(interpretRun('hello', '', 3).result, 'Failed');
  assert.equal(interpretRun('hello', '', 3).completed, false);
});

test('scanner: finds known secrets with line numbers, ignores setsecret / issecret lines', () => {
  const known = boxSecrets(box);
  const stdout = [
    `##vso[task.setsecret]${box.clientSecret}`,
    'line two is fine',
    `##vso[task.setvariable variable=k;isOutput=true;issecret=true;]${box.clientSecret}`,
    `token=${box.clientSecret}`,
  ].join('\n');
  const leaks = scanForSecrets({ stdout }, known);
  assert.deepEqual(leaks, [{ kind: 'client secret', stream: 'stdout', line: 4 }]);
  assert.deepEqual(scanForSecrets({ stdout: stdout.split('\n').slice(0, 3).join('\n') }, known), []);
});

test('scanner: values the task masked, URL-encoded secrets, storage key, private key lines, patterns', () => {
  const known = boxSecrets(box);
  const cases: Array<[string, string]> = [
    ['##vso[task.setsecret]my-own-masked-value\nprinted my-own-masked-value', 'value masked with task.setsecret'],
    ['##vso[task.setvariable variable=pw;issecret=true;]hunter22-pass\necho hunter22-pass', "secret variable 'pw'"],
    [`key=${encodeURIComponent(box.azurite.key)}`, 'storage account key'],
    [`k ${box.systemAccessToken}`, 'system access token'],
    ['hRANCAAQFakePrivateKeyLine2abcdefghijklmnopqrstuvwxyz0123456789AB', 'certificate private key'],
    ['Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345', 'bearer token'],
    ['id eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0xx.c2lnbmF0dXJlMTIz', 'JWT'],
    ['GET https://a.blob.core.windows.net/c/b?sv=2021&sig=abcdefgh1234567%3D', 'SAS signature'],
    [
      'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=QUJDREVGR0hJSktMTU5PUFFSU1RVVldY;',
      'storage account key',
    ],
  ];
  for (const [text, kind] of cases) {
    const leaks = scanForSecrets({ stdout: text }, known);
    assert.equal(leaks.length, 1, `expected one leak in ${JSON.stringify(text.slice(0, 40))}`);
    assert.equal(leaks[0].kind, kind);
  }
  // documentation-like text without secrets is clean
  assert.deepEqual(scanForSecrets({ stdout: 'use a SAS with sig=<signature> or a Bearer token\nsig=***' }, known), []);
});

test('connectionEnv: the variables a real agent sets for an AzureRM connection', () => {
  const env = connectionEnv(box, 'c1', 'certificate', { scopeLevel: 'AzureMLWorkspace', mlWorkspaceName: 'ws1' });
  assert.equal(env.ENDPOINT_URL_c1, box.armUrl);
  const auth = JSON.parse(env.ENDPOINT_AUTH_c1);
  assert.equal(auth.scheme, 'ServicePrincipal');
  assert.equal(auth.parameters.authenticationType, 'spnCertificate');
  assert.equal(auth.parameters.servicePrincipalCertificate, box.certificatePem);
  assert.equal(env.ENDPOINT_AUTH_PARAMETER_c1_SERVICEPRINCIPALID, box.clientId);
  assert.equal(env.ENDPOINT_DATA_c1_SUBSCRIPTIONID, box.subscriptionId);
  assert.equal(env.ENDPOINT_DATA_c1_ACTIVEDIRECTORYAUTHORITY, box.authorityHost);
  assert.equal(env.ENDPOINT_DATA_c1_ACTIVEDIRECTORYSERVICEENDPOINTRESOURCEID, box.audience);
  assert.equal(env.ENDPOINT_DATA_c1_SCOPELEVEL, 'AzureMLWorkspace');
  assert.equal(env.ENDPOINT_DATA_c1_MLWORKSPACENAME, 'ws1');
  assert.throws(() => connectionEnv(box, 'c2', 'wif-idtoken'), /idToken/);
  assert.equal(
    JSON.parse(connectionEnv(box, 'c3', 'wif-idtoken', undefined, { idToken: 'tok' }).ENDPOINT_AUTH_c3).parameters
      .idToken,
    'tok',
  );
});

test('runBundledTask: outputs, secret outputs, summary, progress, release name, tag; log file written; no leak', async () => {
  const r = await runBundledTask('Fixture', {
    ...fixture,
    box,
    inputs: { mode: 'outputs' },
    secrets: { 'fixture.secretValue': 'top-secret-output-value', 'fixture.mask': 'masked-thing-123' },
  });
  assert.equal(r.result, 'Succeeded', r.stdout);
  assert.equal(r.code, 0);
  assert.deepEqual(r.outputs, {
    plain: 'value; with ] and %',
    multi: 'line1\nline2',
    token: 'top-secret-output-value',
  });
  assert.deepEqual(r.secretOutputs, ['token']);
  assert.deepEqual(r.summaries, ['# Fixture\n\n| a | b |\n|---|---|\n| 1 | 2 |\n']);
  assert.deepEqual(r.progress, [50, 100]);
  assert.ok(r.commands.some((c) => c.name === 'release.updatereleasename' && c.data === 'Release-42 model 7'));
  assert.ok(r.commands.some((c) => c.name === 'build.addbuildtag' && c.data === 'model:7'));
  assert.deepEqual(r.warnings, ['careful']);
  assert.ok(r.stdout.includes('##[section]Outputs'));
  assert.deepEqual(r.leaks, []);
  const log = fs.readFileSync(r.logFile, 'utf8');
  assert.match(path.basename(r.logFile), /^Fixture-\d+\.log$/);
  assert.ok(log.includes('##vso[task.complete result=Succeeded;]'));
});

test('runBundledTask: a task printing the connection secret fails the test, naming kind and line, not the secret', async () => {
  await assert.rejects(
    runBundledTask('Fixture', { ...fixture, box, inputs: { mode: 'leak-connection-secret' } }),
    (err: Error) => {
      assert.match(err.message, /^Secret leak in Fixture: client secret in stdout line \d+/);
      assert.ok(!err.message.includes(box.clientSecret));
      return true;
    },
  );
});

test('runBundledTask: a value the task masked itself, printed on stderr, is a leak', async () => {
  const r = await runBundledTask('Fixture', {
    ...fixture,
    box,
    inputs: { mode: 'leak-masked' },
    secrets: { 'fixture.mask': 'masked-thing-123' },
    allowLeaks: true,
  });
  assert.equal(r.leaks.length, 1);
  assert.equal(r.leaks[0].stream, 'stderr');
  assert.ok(['value masked with task.setsecret', "secret variable 'fixture.mask'"].includes(r.leaks[0].kind));
  await assert.rejects(
    runBundledTask('Fixture', { ...fixture, box, inputs: { mode: 'leak-sas' } }),
    /SAS signature in stdout line \d+/,
  );
});

test('runBundledTask: agent environment (build variables, job token, OIDC URI, connection) reaches src/pipeline', async () => {
  const r = await runBundledTask('Fixture', {
    ...fixture,
    box,
    inputs: { mode: 'connection' },
    scheme: 'wif',
    variables: { 'Build.Reason': 'PullRequest' },
  });
  assert.equal(r.result, 'Succeeded', r.stdout);
  const conn = JSON.parse(r.stdout.match(/^CONNECTION (.*)$/m)![1]);
  assert.equal(conn.id, 'conn-wif');
  assert.equal(conn.auth.scheme, 'WorkloadIdentityFederation');
  assert.equal(conn.oidc.requestUri, box.oidcRequestUri);
  const ctx = JSON.parse(r.stdout.match(/^CONTEXT (.*)$/m)![1]);
  assert.equal(ctx.reason, 'PullRequest');
  assert.equal(ctx.collectionUri, box.collectionUri);
  assert.equal(ctx.planId, '11111111-2222-4333-8444-555555555555');
  assert.equal(ctx.buildUrl, `${box.collectionUri}Contoso%20ML/_build/results?buildId=4242`);
  // the job token was masked before anything else could print it
  assert.ok(r.stdout.includes(`##vso[task.setsecret]${box.systemAccessToken}`));
});

test('runBundledTask: SIGINT when stdout matches, then SIGTERM: cleanup still completes, one Failed result', async () => {
  const r = await runBundledTask('Fixture', {
    ...fixture,
    box,
    inputs: { mode: 'wait', cleanupMs: '1200' },
    signalAfterMs: { signal: 'SIGINT', whenStdoutMatches: /^WAITING$/m },
    thenSignals: [{ signal: 'SIGTERM', afterMs: 300 }],
  });
  assert.match(r.stdout, /^Cancellation requested \(SIGINT\)$/m);
  assert.match(r.stdout, /^SIGTERM received; still cleaning up after cancellation$/m);
  assert.match(r.stdout, /^CLEANUP DONE$/m);
  assert.equal(r.result, 'Failed');
  assert.equal(r.message, 'Cancelled; cleanup done');
  assert.equal(r.code, 1);
  assert.equal(r.signal, null);
});

test('runBundledTask: SIGTERM after a delay aborts the signal', async () => {
  const r = await runBundledTask('Fixture', {
    ...fixture,
    box,
    inputs: { mode: 'wait' },
    signalAfterMs: { signal: 'SIGTERM', ms: 2500 },
  });
  assert.match(r.stdout, /^Cancellation requested \(SIGTERM\)$/m);
  assert.equal(r.result, 'Failed');
  assert.equal(r.message, 'Cancelled; cleanup done');
});

test('runBundledTask: timeout kills the task and rejects', async () => {
  await assert.rejects(
    runBundledTask('Fixture', { ...fixture, box, inputs: { mode: 'wait' }, timeoutMs: 1500 }),
    /Fixture timed out after 1500 ms/,
  );
});

test('runBundledTask: missing bundle is a clear error', async () => {
  await assert.rejects(
    runBundledTask('NoSuchTask', { box, inputs: {} }),
    /tasks\/NoSuchTaskV1\/index\.js does not exist/,
  );
});
