// AzureMLJobWait@1 (tasks/AzureMLJobWaitV1, a server task) run the way the Azure DevOps server runs it: the emulated
// server (test/emulator/devops/serverJobs.ts) evaluates the task's execution.HttpRequest (macros, the AzureRM
// connection's token, the body template), sends the PATCH to the emulated ARM, and waits for the TaskCompleted event
// the emulated Azure ML (test/emulator/jobWebhooks.ts) posts to the plan events API when the job ends.
//   node scripts/test.mjs jobWait
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { startAzureInABox, type AzureInABox } from '../emulator/index';
import { runServerTask, type ServerConnection, type ServerTaskRun } from '../emulator/devops/serverJobs';
import { jobStatusHistory } from '../emulator/arm/jobs';
import { runBundledTask } from '../helpers/agent';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const TASK = JSON.parse(fs.readFileSync(path.join(ROOT, 'tasks', 'AzureMLJobWaitV1', 'task.json'), 'utf8'));

let box: AzureInABox;
let wsPath: string;
let conn: ServerConnection;

async function arm(
  method: string,
  p: string,
  body?: unknown,
  apiVersion = '2022-10-01',
): Promise<{ status: number; json: any }> {
  const app = box.ctx.apps().find((a) => a.clientId === box.clientId)!;
  const tok = box.ctx.issueAccessToken(app, box.audience);
  const r = await fetch(`${box.armUrl.replace(/\/$/, '')}${p}?api-version=${apiVersion}`, {
    method,
    headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}

async function submit(command: string): Promise<string> {
  const name = `wait-${randomUUID().slice(0, 8)}`;
  const r = await arm('PUT', `${wsPath}/jobs/${name}`, {
    properties: {
      jobType: 'Command',
      command,
      experimentName: 'agentless-wait',
      environmentId: 'azureml://registries/azureml/environments/sklearn-1.5/labels/latest',
      computeId: `${wsPath}/computes/cpu-cluster`,
    },
  });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return name;
}

async function statusOf(name: string): Promise<string> {
  return (await arm('GET', `${wsPath}/jobs/${name}`)).json.properties.status;
}
async function until(name: string, pred: (s: string) => boolean, ms = 60_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await statusOf(name);
    if (pred(s)) return s;
    if (Date.now() > end) throw new Error(`job ${name} still ${s}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const TERMINAL = (s: string) => ['Completed', 'Failed', 'Canceled'].includes(s);

function wait(jobName: string, timeoutMs = 60_000, more: Record<string, string> = {}): ServerTaskRun {
  return runServerTask(box.ctx, {
    task: TASK,
    inputs: {
      azureSubscription: conn.id,
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      jobName,
      ...more,
    },
    connections: [conn],
    timeoutMs,
  });
}

before(async () => {
  box = await startAzureInABox({ fastLro: true });
  wsPath = `/subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${box.workspace}`;
  // an AzureRM connection as the server holds it: url = the cloud's ARM URL (with its trailing slash), the subscription, the SPN
  conn = {
    id: randomUUID(),
    url: box.armUrl,
    subscriptionId: box.subscriptionId,
    tenantId: box.tenantId,
    clientId: box.clientId,
    clientSecret: box.clientSecret,
  };
});
after(async () => {
  await box?.stop();
});

test("completed job → the task succeeds on Azure ML's callback; the PATCH is the documented one; no ARM reads while waiting", async () => {
  const name = await submit('sleep 2; echo trained');
  const run = wait(name);
  const sent = await run.sent;
  assert.equal(sent.method, 'PATCH');
  assert.equal(sent.status, 200, sent.response);
  const u = new URL(sent.url);
  assert.equal(u.searchParams.get('api-version'), '2023-04-01-preview');
  assert.equal(u.pathname.replace(/^\/+/, '/'), `${wsPath}/jobs/${name}`);
  // mode PATCH (the default): the body is exactly the webhook (the empty jobDefinition input adds nothing)
  const body = JSON.parse(sent.body);
  assert.deepEqual(Object.keys(body.properties), ['notificationSetting']);
  const hook = body.properties.notificationSetting.webhooks[`ADO_Webhook_${run.timelineId}`];
  assert.deepEqual(hook, {
    webhookType: 'AzureDevOps',
    eventType: 'RunTerminated',
    PlanUri: box.collectionUri,
    ProjectId: box.projectId,
    HubName: 'build',
    PlanId: run.planId,
    JobId: run.jobId,
    TimelineId: run.timelineId,
    TaskInstanceId: run.taskInstanceId,
    AuthToken: run.accessToken,
  });
  // the job's view shows the webhook as the spec's Webhook, never the plan fields or the token
  const view = JSON.stringify(JSON.parse(sent.response));
  assert.ok(!view.includes(run.accessToken), 'the access token is echoed');
  assert.match(view, /"webhookType":"AzureDevOps"/);
  const readsBefore = box.requests.filter((r) => r.host === 'arm' && r.method === 'GET').length;
  const res = await run.done;
  const doneAt = Date.now();
  assert.equal(res.result, 'succeeded', res.log.join('\n'));
  assert.equal(res.reason, 'event');
  assert.equal(
    box.requests.filter((r) => r.host === 'arm' && r.method === 'GET').length,
    readsBefore,
    'the server task read ARM while waiting',
  );
  // the task log: the server's request/response lines carry the job's studio link
  assert.match(res.log.join('\n'), /PATCH https:.*jobs\/wait-/);
  assert.match(res.log.join('\n'), /ml\.azure\.com\/runs\/wait-/);
  // the final status is the task's timeline record (the server logs no line for the event)
  assert.deepEqual(res.timeline, { result: 'succeeded' });
  const ended = jobStatusHistory(box.ctx, `${wsPath}/jobs/${name}`).find((h) => h.status === 'Completed')!;
  const delay = doneAt - Date.parse(ended.time);
  assert.ok(delay >= 0 && delay < 2000, `end-of-job notice took ${delay} ms`);
  console.log(`# agentless wait: end-of-job notice ${delay} ms after Completed, 0 ARM reads while waiting`);
});

test('failed job → the task fails', async () => {
  const name = await submit('echo boom >&2; exit 3');
  const res = await wait(name).done;
  assert.equal(res.result, 'failed', res.log.join('\n'));
  assert.equal(res.reason, 'event');
  assert.equal(await statusOf(name), 'Failed');
});

test("canceled job → the task ends canceled (Microsoft's documented mapping), not succeeded", async () => {
  const name = await submit('sleep 60');
  const run = wait(name);
  assert.equal((await run.sent).status, 200);
  await until(name, (s) => s === 'Running');
  const c = await arm('POST', `${wsPath}/jobs/${name}/cancel`);
  assert.equal(c.status, 202);
  const res = await run.done;
  assert.equal(res.result, 'canceled', res.log.join('\n'));
  assert.equal(res.reason, 'event');
});

test('mode PATCH, a job that ended before the webhook was set: no callback (ASSUMPTION), the wait FAILS at its timeout', async () => {
  const name = await submit('echo quick');
  assert.equal(await until(name, TERMINAL), 'Completed');
  const started = Date.now();
  const run = wait(name, 1500);
  assert.equal((await run.sent).status, 200);
  const res = await run.done;
  // the real server: timeout → Cancel request → Failed with its message (RunServerTask3.OnCancel, see serverJobs.ts)
  assert.equal(res.result, 'failed');
  assert.equal(res.reason, 'timeout');
  assert.match(res.timeline.message ?? '', /^The task timed out after running for 00:00:01\.5000000 minutes\./);
  assert.equal(run.events.length, 0);
  assert.ok(Date.now() - started < 5000);
  // the Cancel request went out and did no harm to a job that had already ended
  assert.match(res.log.join('\n'), /POST https:.*\/jobs\/wait-[0-9a-f]+\/cancel\?api-version=2022-10-01/);
  assert.equal(await statusOf(name), 'Completed');
});

test('mode PUT: AzureMLJob@1 (mode prepare) → the server creates the job with its webhook; a job that ends at once is still called back', async () => {
  // the agent job: the bundled AzureMLJob@1 prepares a job that ends within a second of starting; its command has
  // what the server's macro ($(…)) and template ({{…}}) expansion would eat if it were not escaped
  const src = fs.mkdtempSync(path.join(os.tmpdir(), 'jobwait-put-'));
  const command = 'echo "${{inputs.greeting}} $(echo from-a-subshell)"';
  fs.writeFileSync(
    path.join(src, 'quick.yml'),
    [
      '$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json',
      `command: '${command}'`,
      'inputs:',
      '  greeting: hello',
      'environment: azureml://registries/azureml/environments/sklearn-1.5/labels/latest',
      'compute: azureml:cpu-cluster',
      'experiment_name: agentless-wait',
      '',
    ].join('\n'),
  );
  const name = `put-${randomUUID().slice(0, 8)}`;
  const prep = await runBundledTask('AzureMLJob', {
    box,
    scheme: 'secret',
    timeoutMs: 60_000,
    cwd: src,
    inputs: {
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      mode: 'prepare',
      jobFile: 'quick.yml',
      jobName: name,
    },
  });
  assert.equal(prep.result, 'Succeeded', prep.stdout.slice(-2000));
  assert.equal(prep.outputs.jobName, name);
  assert.equal(prep.outputs.status, 'Prepared');
  assert.equal((await arm('GET', `${wsPath}/jobs/${name}`)).status, 404, 'mode prepare created the job');
  const def = prep.outputs.jobDefinition!;
  assert.ok(!def.includes('$(') && !def.includes('{{'), def);
  // the agentless job: mode PUT
  const started = Date.now();
  const run = wait(name, 30_000, { mode: 'PUT', jobDefinition: def });
  const sent = await run.sent;
  assert.equal(sent.method, 'PUT');
  assert.equal(sent.status, 201, sent.response);
  assert.equal(new URL(sent.url).searchParams.get('api-version'), '2023-04-01-preview');
  const res = await run.done;
  assert.equal(res.result, 'succeeded', res.log.join('\n'));
  assert.equal(res.reason, 'event');
  assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  // the step's log: the server's request and response lines, the response carrying the job's studio link
  assert.match(res.log.join('\n'), new RegExp(`^PUT https:.*/jobs/${name}\\?api-version=2023-04-01-preview$`, 'm'));
  assert.match(res.log.join('\n'), new RegExp(`ml\\.azure\\.com/runs/${name}`));
  assert.ok(!res.log.join('\n').includes(run.accessToken), 'the access token is in the log');
  const job = (await arm('GET', `${wsPath}/jobs/${name}`)).json.properties;
  assert.equal(job.status, 'Completed');
  assert.equal(job.command, command, 'the command reached the service unchanged');
  assert.deepEqual(job.notificationSetting.webhooks[`ADO_Webhook_${run.timelineId}`], {
    webhookType: 'AzureDevOps',
    eventType: 'RunTerminated',
  });
  assert.ok(!JSON.stringify(job).includes(run.accessToken));
  // a second PUT (a rerun of the agentless job) cannot re-create the job: it fails at once instead of waiting
  const again = await wait(name, 30_000, { mode: 'PUT', jobDefinition: def }).done;
  assert.equal(again.result, 'failed');
  assert.equal(again.reason, 'response');
});

test('lost callback (the events call never arrives) → the task times out and the Azure ML job is left as it ended', async () => {
  box.faults.set({ rate: 1, kinds: ['drop'], hosts: ['devops'], pathFilter: /\/events$/ });
  try {
    const name = await submit('sleep 1');
    const run = wait(name, 4000);
    assert.equal((await run.sent).status, 200);
    assert.equal(await until(name, TERMINAL), 'Completed');
    const res = await run.done;
    assert.equal(res.result, 'failed');
    assert.equal(res.reason, 'timeout');
    assert.match(res.timeline.message ?? '', /timed out/);
    assert.ok((box.faults.injected.drop ?? 0) >= 1, 'the callback was not attempted');
  } finally {
    box.faults.reset();
  }
});

test('plan events API: a wrong token is refused (401), a wrong task id is refused, the right event completes the task', async () => {
  const name = await submit('sleep 60');
  const run = wait(name);
  assert.equal((await run.sent).status, 200);
  const url = `${box.collectionUri}${box.projectId}/_apis/distributedtask/hubs/build/plans/${run.planId}/events?api-version=7.1`;
  const post = (token: string, body: unknown) =>
    fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`:${token}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
  const event = { name: 'TaskCompleted', taskId: run.taskInstanceId, jobId: run.jobId, result: 'succeeded' };
  assert.equal((await post('not-the-token', event)).status, 401);
  assert.equal((await post(run.accessToken, { ...event, taskId: randomUUID() })).status, 404);
  assert.equal((await post(run.accessToken, { ...event, result: 'great' })).status, 400);
  assert.equal(run.events.length, 0);
  const ok = await post(run.accessToken, event);
  assert.equal(ok.status, 204);
  const res = await run.done;
  assert.equal(res.result, 'succeeded');
  await arm('POST', `${wsPath}/jobs/${name}/cancel`);
});

test("pipeline cancel of the server task cancels the Azure ML job (the task's Cancel request)", async () => {
  const name = await submit('sleep 60');
  const run = wait(name);
  assert.equal((await run.sent).status, 200);
  await until(name, (s) => s === 'Running');
  const res = await run.cancel();
  assert.equal(res.result, 'canceled');
  assert.equal(res.reason, 'canceled');
  assert.equal(await until(name, (s) => s === 'Canceled'), 'Canceled');
});

test('emulated ARM: the job PATCH is held to 2023-04-01-preview and to the documented AzureDevOps plan fields', async () => {
  const name = await submit('sleep 30');
  const hook = (extra: Record<string, unknown> = {}) => ({
    properties: {
      notificationSetting: { webhooks: { w: { webhookType: 'AzureDevOps', eventType: 'RunTerminated', ...extra } } },
    },
  });
  const stable = await arm('PATCH', `${wsPath}/jobs/${name}`, hook(), '2022-10-01');
  assert.equal(stable.status, 400);
  assert.equal(stable.json.error.code, 'InvalidApiVersionParameter');
  const unknown = await arm(
    'PATCH',
    `${wsPath}/jobs/${name}`,
    hook({ Callback: 'https://example.org' }),
    '2023-04-01-preview',
  );
  assert.equal(unknown.status, 400);
  assert.match(JSON.stringify(unknown.json.error.details), /Callback: unknown property/);
  const badType = await arm(
    'PATCH',
    `${wsPath}/jobs/${name}`,
    { properties: { notificationSetting: { webhooks: { w: { webhookType: 'Slack' } } } } },
    '2023-04-01-preview',
  );
  assert.equal(badType.status, 400);
  const notPatchable = await arm(
    'PATCH',
    `${wsPath}/jobs/${name}`,
    { properties: { displayName: 'x' } },
    '2023-04-01-preview',
  );
  assert.equal(notPatchable.status, 400);
  const ok = await arm(
    'PATCH',
    `${wsPath}/jobs/${name}`,
    hook({ planUri: box.collectionUri, authToken: 'secret-value' }),
    '2023-04-01-preview',
  );
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  assert.deepEqual(ok.json.properties.notificationSetting.webhooks, {
    w: { webhookType: 'AzureDevOps', eventType: 'RunTerminated' },
  });
  assert.ok(!JSON.stringify((await arm('GET', `${wsPath}/jobs/${name}`)).json).includes('secret-value'));
  const removed = await arm(
    'PATCH',
    `${wsPath}/jobs/${name}`,
    { properties: { notificationSetting: { webhooks: { w: null } } } },
    '2023-04-01-preview',
  );
  assert.equal(removed.status, 200);
  assert.equal(removed.json.properties.notificationSetting.webhooks, null);
  // the spec's own example body (examples/Job/update.json) is accepted as it is
  const example = JSON.parse(
    fs.readFileSync(
      path.join(
        ROOT,
        'test',
        'fixtures',
        'third-party',
        'azure-rest-api-specs',
        '2023-04-01-preview',
        'examples',
        'Job',
        'update.json',
      ),
      'utf8',
    ),
  );
  const ex = await arm('PATCH', `${wsPath}/jobs/${name}`, example.parameters.body, example.parameters['api-version']);
  assert.equal(ex.status, 200, JSON.stringify(ex.json));
  assert.deepEqual(ex.json.properties.notificationSetting.webhooks.string, {
    webhookType: 'AzureDevOps',
    eventType: 'string',
  });
  const missing = await arm('PATCH', `${wsPath}/jobs/no-such-job`, hook(), '2023-04-01-preview');
  assert.equal(missing.status, 404);
  await arm('POST', `${wsPath}/jobs/${name}/cancel`);
});

test('bad input fails at once, naming the problem in the task log: unknown job, unknown workspace, a connection that cannot get a token', async () => {
  const noJob = await wait('no-such-job-1234').done;
  assert.equal(noJob.result, 'failed');
  assert.equal(noJob.reason, 'response');
  assert.match(noJob.log.join('\n'), /Response Code: NotFound[\s\S]*Job no-such-job-1234 not found in workspace/);
  const name = await submit('sleep 30');
  const noWs = await runServerTask(box.ctx, {
    task: TASK,
    inputs: { connection: conn.id, resourceGroup: box.resourceGroup, workspace: 'no-such-ws', jobName: name },
    connections: [conn],
    timeoutMs: 60_000,
  }).done;
  assert.equal(noWs.result, 'failed');
  assert.match(noWs.log.join('\n'), /Response Code: NotFound/);
  const badSecret = { ...conn, clientSecret: 'wrong' };
  const noToken = await runServerTask(box.ctx, {
    task: TASK,
    inputs: { connection: conn.id, resourceGroup: box.resourceGroup, workspace: box.workspace, jobName: name },
    connections: [badSecret],
    timeoutMs: 60_000,
  }).done;
  assert.equal(noToken.result, 'failed');
  assert.match(noToken.log.join('\n'), /could not get a token/);
  // nothing was armed on the job by the failed attempts
  assert.equal((await arm('GET', `${wsPath}/jobs/${name}`)).json.properties.notificationSetting ?? null, null);
  await arm('POST', `${wsPath}/jobs/${name}/cancel`);
});

test("connection types: workload identity federation works through the server's own OIDC token; a managed identity cannot (no VM on the server)", async () => {
  const name = await submit('sleep 30');
  const entraBefore = box.requests.filter((r) => r.host === 'entra' && r.method === 'POST').length;
  const wif: ServerConnection = {
    id: randomUUID(),
    url: box.armUrl,
    subscriptionId: box.subscriptionId,
    tenantId: box.tenantId,
    clientId: box.clientId,
    scheme: 'WorkloadIdentityFederation',
  };
  const run = runServerTask(box.ctx, {
    task: TASK,
    inputs: { connection: wif.id, resourceGroup: box.resourceGroup, workspace: box.workspace, jobName: name },
    connections: [wif],
    timeoutMs: 60_000,
  });
  const sent = await run.sent;
  assert.equal(sent.status, 200, sent.response);
  assert.equal(
    box.requests.filter((r) => r.host === 'entra' && r.method === 'POST').length,
    entraBefore + 1,
    'one token exchange at Entra ID',
  );
  // an app without a federated credential for the server's issuer, and a managed-identity connection: fail at once
  const noFed: ServerConnection = {
    ...wif,
    id: randomUUID(),
    clientId: box.ctx.apps().find((a) => a.role === 'reader')!.clientId,
  };
  const r1 = await runServerTask(box.ctx, {
    task: TASK,
    inputs: { connection: noFed.id, resourceGroup: box.resourceGroup, workspace: box.workspace, jobName: name },
    connections: [noFed],
    timeoutMs: 60_000,
  }).done;
  assert.equal(r1.result, 'failed');
  assert.match(r1.log.join('\n'), /could not get a token: AADSTS\d+/);
  const msi: ServerConnection = { ...wif, id: randomUUID(), scheme: 'ManagedServiceIdentity' };
  const r2 = await runServerTask(box.ctx, {
    task: TASK,
    inputs: { connection: msi.id, resourceGroup: box.resourceGroup, workspace: box.workspace, jobName: name },
    connections: [msi],
    timeoutMs: 60_000,
  }).done;
  assert.equal(r2.result, 'failed');
  assert.match(r2.log.join('\n'), /could not get a token: Failed to obtain Json Web Token\./);
  await run.cancel();
  assert.equal(await until(name, (s) => s === 'Canceled'), 'Canceled');
});
