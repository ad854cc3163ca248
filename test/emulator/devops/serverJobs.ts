// Azure DevOps: server (agentless) jobs — a server task's `execution.HttpRequest` run the way the server runs it —
// and the plan events API the called service answers on (issue 11, tasks/AzureMLJobWaitV1).
//
// runServerTask(ctx, { task, inputs, connections, timeoutMs }) plays the server for one task of a server job:
// - a plan of its own (hub `build`): plan id, job id, timeline id, task instance id and a job access token, exposed to
//   the task as the system variables a server job has. SOURCE for the names: the default `Headers` of
//   microsoft/azure-pipelines-tasks Tasks/InvokeRestApiV1/task.json @ 116f76e626891a178937347da2556db5a7d55949 and
//   Tasks/AzureFunctionV1/task.json @ 0ab134f0436bd491ad5ea22ea518e10607fe5391 (system.CollectionUri,
//   system.TeamProjectId, system.HostType, system.PlanId, system.JobId, system.TimelineId, system.TaskInstanceId,
//   system.AccessToken).
// - Task inputs not given take their `defaultValue` or '' (decompiled TaskHub.SetDefaultInputValues, same commit).
// - Execute: `$(name)` macros from task inputs, system variables and endpoint variables (`endpoint.url` = the
//   connection's URL), then `{{name}}` from the connection's data (`subscriptionId`) and the inputs. SOURCE:
//   docs/authoring/servertaskauthoring.md @ 008a81d201ffd23f898faea859ca812fa69822db ("task inputs, system variables,
//   user defined variables and endpoint variables"), Tasks/AzureMonitorV1/task.json @ 3cd663197f84551e316564ea38aa1fa836f07f9f
//   (`$(endpoint.url)/subscriptions/{{subscriptionId}}/…`). ASSUMPTIONS: values are inserted as they are (no JSON
//   escaping: Microsoft's documented body relies on plain substitution), an unknown macro is left as written, and
//   mustache takes only plain `{{name}}` here (no helpers).
// - Authentication from `EndpointId`: an AzureRM connection gets `Authorization: Bearer <token>` for the cloud's ARM
//   audience. The server's authorizer per scheme (decompiled mjwrona/decompiled @ 6cd51e1f,
//   source/Microsoft.Azure.DevOps.ServiceEndpoints.Sdk.Server/EndpointAuthorizerFactory.cs, GetAzureRmEndpointAuthorizer):
//   ServicePrincipal → the app and secret (a wrong secret fails the task; ASSUMPTION: that token request is not
//   emulated, the box's Entra mints the token in process); WorkloadIdentityFederation → the server issues its own
//   OIDC token for the connection and exchanges it at Entra ID as a client assertion (AzureEndpointOidcFederation-
//   Authorizer: IssueOidcToken, then the client-credentials grant with the assertion) — emulated over HTTP against the
//   box's Entra, which checks the app's federated credential; ManagedServiceIdentity → AzureEndpointUserPrincipal-
//   Authorizer, which needs an OAuth token stored in the connection: a connection to an agent VM's identity has none,
//   so the task fails with "Failed to obtain Json Web Token." (ServiceEndpointSdkResources). ASSUMPTION: the
//   HttpRequest handler (not in the decompiled set) authorizes EndpointId through this factory.
// - The response is logged as the server logs it ("<METHOD> <url>", "Response Code: <reason>", "Response: <body>";
//   SOURCE: a server task log quoted in microsoft/azure-pipelines-task-lib issue #355, a WaitForCompletion "true"
//   task). A non-2xx answer fails the task. ASSUMPTION (not documented for WaitForCompletion true).
// - WaitForCompletion "true": the task waits for a TaskCompleted event on the plan events API; its `result` is the
//   task's result. An event that arrives while the Execute request is still in flight is kept (the orchestration
//   records events as they come and looks at them once it waits). No event within the task's timeout → the `Cancel`
//   request (if the task has one) is sent and the task FAILS with the message "The task timed out after running for
//   <timeout> minutes. …" on its timeline record — unless a TaskCompleted event arrived meanwhile, whose result then
//   stands. SOURCE: the Azure DevOps Server 2022 orchestration, decompiled (mjwrona/decompiled @
//   6cd51e1f, source/Microsoft.TeamFoundation.DistributedTask.Orchestration.Tasks/Orchestration/Tasks/RunServerTask3.cs:
//   OnEvent, InvokeTaskHandler, OnCancel — `if (cancelType == TaskCanceledReasonType.Timeout) result.Result =
//   TaskResult.Failed`; the message is Resources.resx `ServerTaskTimedOut` beside it). servertaskauthoring.md's
//   "task will be canceled" describes the Cancel request, not the result.
// - cancel() = the pipeline is canceled: the Cancel request is sent, the task ends canceled (RunServerTask3.OnCancel,
//   reason Other), again unless a TaskCompleted event had arrived.
// - The final result and that message belong to the task's timeline record (RunServerTask3 → Tracker.TaskCompleted
//   with the JobResult), exposed here as `timeline`; the server writes no log line for the event. ASSUMPTION: that
//   the HttpRequest handler (not in the decompiled set) adds none either; the log holds its request/response lines.
//
// POST /{org}/{project}/_apis/distributedtask/hubs/{hub}/plans/{planId}/events (distributedTask 7.1 `Events_Post`,
// test/fixtures/third-party/vsts-rest-api-specs/distributedTask/7.1/task.json; body JobEvent {name, jobId} + for
// TaskCompleted `taskId`, `result` as in httpExamples/events/POST_distributedtask_PostEvent_.json):
// - the job access token, Basic (the spec's security scheme) or Bearer; anything else → 401 (requireJobToken).
// - api-version required (2.0 … 7.2-preview); unknown plan (or hub) → 404; jobId not the plan's job → 404;
//   TaskCompleted with a taskId that is not the waiting task → 404; result not a TaskResult → 400. ASSUMPTIONS: the
//   exact codes and wording (not recorded); TaskAssigned/TaskStarted are accepted and only logged.
// - 204 with no body (the httpExample's response). An event for a task that already ended changes nothing.
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import type { EmulatorContext } from '../context';
import type { Req, Router } from '../http';
import { devopsError, requireJobToken } from '../devopskit';
import { httpsRequest } from '../jobWebhooks';
import { requestedApiVersion, servesVersion } from './oidc';

/** TaskResult values (Microsoft.TeamFoundation.DistributedTask.WebApi; the httpExample sends "succeeded") */
export const TASK_RESULTS = ['succeeded', 'succeededWithIssues', 'failed', 'canceled', 'skipped', 'abandoned'];
const EVENTS_LOCATION = { minVersion: '2.0', maxVersion: '7.2', releasedVersion: '7.1', resourceVersion: 1 };

/** an AzureRM service connection as the server knows it: scheme ServicePrincipal (secret; the default),
 *  WorkloadIdentityFederation, or ManagedServiceIdentity */
export interface ServerConnection {
  id: string;
  url: string;
  subscriptionId: string;
  tenantId: string;
  clientId: string;
  clientSecret?: string;
  scheme?: 'ServicePrincipal' | 'WorkloadIdentityFederation' | 'ManagedServiceIdentity';
}

export interface ServerTaskResult {
  result: 'succeeded' | 'succeededWithIssues' | 'failed' | 'canceled' | 'skipped' | 'abandoned';
  /** how it ended: the callback event, the Execute response (WaitForCompletion false or a failed call), timeout, pipeline cancel */
  reason: 'event' | 'response' | 'timeout' | 'canceled';
  /** the task's timeline record as the server completes it: the result and the JobResult message (e.g. the timeout's) */
  timeline: { result: ServerTaskResult['result']; message?: string };
  log: string[];
}

export interface ServerTaskRun {
  hub: string;
  planId: string;
  jobId: string;
  timelineId: string;
  taskInstanceId: string;
  accessToken: string;
  /** the Execute request as sent (URL, method, headers without Authorization, body) once sent */
  sent: Promise<{
    url: string;
    method: string;
    headers: Record<string, string>;
    body: string;
    status: number;
    response: string;
  }>;
  done: Promise<ServerTaskResult>;
  /** the pipeline cancels the task */
  cancel(): Promise<ServerTaskResult>;
  log: string[];
  /** events posted for this task (accepted ones) */
  events: unknown[];
}

interface Running {
  run: ServerTaskRun;
  finish(r: Omit<ServerTaskResult, 'log' | 'timeline'> & { message?: string }): void;
  ended: boolean;
  completed?: ServerTaskResult['result'];
}
const RUNNING = new WeakMap<EmulatorContext, Map<string, Running>>();
const running = (ctx: EmulatorContext): Map<string, Running> => {
  let m = RUNNING.get(ctx);
  if (!m) RUNNING.set(ctx, (m = new Map()));
  return m;
};

/** `$(name)` macros: inputs, then variables (both case-insensitive); unknown ones stay as written */
export function expandMacros(text: string, values: Record<string, string>): string {
  const lower = new Map(Object.entries(values).map(([k, v]) => [k.toLowerCase(), v]));
  return text.replace(/\$\(([^)]+)\)/g, (m, n: string) => lower.get(n.trim().toLowerCase()) ?? m);
}
/** plain `{{name}}` (and `{{{name}}}`) from a context; unknown ones become empty, as in mustache */
export function expandMustache(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{\{?\s*([A-Za-z_][\w.]*)\s*\}?\}\}/g, (_m, n: string) => values[n] ?? '');
}

/** a duration as .NET's TimeSpan.ToString() writes it ([d.]hh:mm:ss[.fffffff]), as the server's timeout message has it */
export function timeSpan(ms: number): string {
  const d = Math.floor(ms / 86_400_000),
    h = Math.floor(ms / 3_600_000) % 24,
    m = Math.floor(ms / 60_000) % 60,
    s = Math.floor(ms / 1000) % 60,
    f = ms % 1000;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d ? `${d}.` : ''}${p(h)}:${p(m)}:${p(s)}${f ? `.${String(f * 10_000).padStart(7, '0')}` : ''}`;
}

const REASON: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'NoContent',
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  500: 'InternalServerError',
};

export function runServerTask(
  ctx: EmulatorContext,
  o: {
    task: any;
    inputs: Record<string, string>;
    connections: ServerConnection[];
    timeoutMs: number;
    hub?: string;
  },
): ServerTaskRun {
  const exec = o.task?.execution?.HttpRequest;
  if (!exec?.Execute) throw new Error('runServerTask: the task has no execution.HttpRequest.Execute');
  const hub = o.hub ?? 'build';
  const accessToken = randomBytes(40).toString('base64url');
  ctx.store.put('devopsTokens', `server-${accessToken.slice(0, 12)}`, { token: accessToken });
  const ids = { planId: randomUUID(), jobId: randomUUID(), timelineId: randomUUID(), taskInstanceId: randomUUID() };
  const log: string[] = [];
  const caPath = path.join(ctx.stateDir, 'tls', 'ca.pem');
  const variables: Record<string, string> = {
    'system.CollectionUri': ctx.collectionUri,
    'system.TeamFoundationCollectionUri': ctx.collectionUri,
    'system.TeamProjectId': ctx.ids.projectId,
    'system.TeamProject': ctx.ids.projectName,
    'system.HostType': hub,
    'system.PlanId': ids.planId,
    'system.JobId': ids.jobId,
    'system.TimelineId': ids.timelineId,
    'system.TaskInstanceId': ids.taskInstanceId,
    'system.AccessToken': accessToken,
  };
  const inputs = new Map(Object.entries(o.inputs).map(([k, v]) => [k.toLowerCase(), v]));
  // an input given by an alias counts as the input
  for (const i of o.task.inputs ?? [])
    for (const a of i.aliases ?? [])
      if (inputs.has(a.toLowerCase()) && !inputs.has(i.name.toLowerCase()))
        inputs.set(i.name.toLowerCase(), inputs.get(a.toLowerCase())!);
  // every input not given takes its defaultValue, or '' (TaskHub.SetDefaultInputValues, decompiled TaskHub.cs)
  for (const i of o.task.inputs ?? [])
    if (!inputs.has(String(i.name).toLowerCase()))
      inputs.set(String(i.name).toLowerCase(), String(i.defaultValue ?? '').trim());

  const prepare = (
    section: any,
  ): { url: string; method: string; headers: Record<string, string>; body: string; conn?: ServerConnection } => {
    const idMacro = /^\$\(([^)]+)\)$/.exec(String(section.EndpointId ?? ''));
    const conn = idMacro ? o.connections.find((c) => c.id === inputs.get(idMacro[1].toLowerCase())) : undefined;
    if (idMacro && !conn)
      throw new Error(`service connection ${inputs.get(idMacro[1].toLowerCase()) ?? '(none)'} not found`);
    const values: Record<string, string> = {
      ...Object.fromEntries(inputs),
      ...variables,
      ...(conn ? { 'endpoint.url': conn.url } : {}),
    };
    const mustache: Record<string, string> = {
      ...Object.fromEntries(inputs),
      ...(conn ? { subscriptionId: conn.subscriptionId, url: conn.url } : {}),
    };
    const ev = (t: unknown): string => expandMustache(expandMacros(String(t ?? ''), values), mustache);
    const headersText = ev(section.Headers);
    return {
      url: ev(section.EndpointUrl),
      method: ev(section.Method).toUpperCase(),
      headers: headersText.trim() ? JSON.parse(headersText) : {},
      body: ev(section.Body),
      conn,
    };
  };
  const authFor = async (conn: ServerConnection | undefined): Promise<Record<string, string>> => {
    if (!conn) return {};
    const noToken = (why: string) => new Error(`the service connection ${conn.id} could not get a token: ${why}`);
    const resource = ctx.cloud.activeDirectoryServiceEndpointResourceId;
    if (conn.scheme === 'WorkloadIdentityFederation') {
      // the server issues its own OIDC token for the connection and exchanges it at Entra ID (client assertion)
      const form = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: conn.clientId,
        scope: `${resource.replace(/\/$/, '')}/.default`,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: ctx.issueOidcToken(conn.id),
      });
      const r = await httpsRequest(
        `${ctx.authorityHost.replace(/\/$/, '')}/${conn.tenantId}/oauth2/v2.0/token`,
        'POST',
        { 'content-type': 'application/x-www-form-urlencoded' },
        form.toString(),
        caPath,
      );
      let j: { access_token?: string; error_description?: string } = {};
      try {
        j = JSON.parse(r.text);
      } catch {
        /* not JSON */
      }
      if (r.status !== 200 || !j.access_token)
        throw noToken(j.error_description?.split(/\r?\n/)[0] ?? `HTTP ${r.status}`);
      return { authorization: `Bearer ${j.access_token}` };
    }
    // the server's ManagedServiceIdentity authorizer needs an OAuth token stored in the connection; a VM's identity is
    // not reachable from the server (EndpointAuthorizerFactory → AzureEndpointUserPrincipalAuthorizer)
    if (conn.scheme === 'ManagedServiceIdentity') throw noToken('Failed to obtain Json Web Token.');
    const app = ctx
      .apps()
      .find(
        (a) => a.clientId === conn.clientId && conn.clientSecret !== undefined && a.secrets.includes(conn.clientSecret),
      );
    if (!app) throw noToken('AADSTS7000215: Invalid client secret provided.');
    return { authorization: `Bearer ${ctx.issueAccessToken(app, resource)}` };
  };
  const send = async (section: any) => {
    const r = prepare(section);
    const res = await httpsRequest(
      r.url,
      r.method,
      { ...r.headers, ...(await authFor(r.conn)) },
      r.method === 'GET' || r.method === 'HEAD' ? undefined : r.body,
      caPath,
    );
    log.push(`${r.method} ${r.url}`, `Response Code: ${REASON[res.status] ?? res.status}`, `Response: ${res.text}`);
    return { ...r, status: res.status, response: res.text };
  };

  let finish!: Running['finish'];
  const done = new Promise<ServerTaskResult>((resolve) => {
    finish = ({ message, ...r }) => {
      if (entry.ended) return;
      entry.ended = true;
      clearTimeout(timer);
      resolve({ ...r, timeline: { result: r.result, ...(message ? { message } : {}) }, log });
    };
  });
  let sentResolve!: (v: Awaited<ServerTaskRun['sent']>) => void;
  const sent = new Promise<Awaited<ServerTaskRun['sent']>>((r) => {
    sentResolve = r;
  });
  const sendCancel = async (): Promise<void> => {
    if (!exec.Cancel) return;
    try {
      await send(exec.Cancel);
    } catch (e) {
      log.push(`Cancel request failed: ${(e as Error).message}`);
    }
  };
  const run: ServerTaskRun = {
    hub,
    ...ids,
    accessToken,
    sent,
    done,
    log,
    events: [],
    cancel: async () => {
      if (!entry.ended) {
        await sendCancel();
        // RunServerTask3.OnCancel: a TaskCompleted event that has arrived meanwhile decides the result
        finish(
          entry.completed ? { result: entry.completed, reason: 'event' } : { result: 'canceled', reason: 'canceled' },
        );
      }
      return done;
    },
  };
  const entry: Running = { run, finish: (r) => finish(r), ended: false };
  running(ctx).set(ids.planId.toLowerCase(), entry);
  const timer = setTimeout(() => {
    void (async () => {
      if (entry.ended) return;
      await sendCancel();
      // RunServerTask3.OnCancel(TaskCanceledReasonType.Timeout): Failed, with Resources.ServerTaskTimedOut
      if (entry.completed) finish({ result: entry.completed, reason: 'event' });
      else
        finish({
          result: 'failed',
          reason: 'timeout',
          message: `The task timed out after running for ${timeSpan(o.timeoutMs)} minutes. For more information, see https://go.microsoft.com/fwlink/?linkid=2077134`,
        });
    })();
  }, o.timeoutMs);

  void (async () => {
    try {
      const r = await send(exec.Execute);
      const { conn: _c, ...shown } = r;
      sentResolve(shown);
      if (r.status < 200 || r.status >= 300) {
        finish({ result: 'failed', reason: 'response' });
        return;
      }
      if (
        expandMacros(String(exec.Execute.WaitForCompletion ?? 'false'), Object.fromEntries(inputs))
          .trim()
          .toLowerCase() !== 'true'
      )
        finish({ result: 'succeeded', reason: 'response' });
    } catch (e) {
      log.push(`##[error]${(e as Error).message}`);
      sentResolve({ url: '', method: '', headers: {}, body: '', status: 0, response: (e as Error).message });
      finish({ result: 'failed', reason: 'response' });
    }
  })();
  return run;
}

export function register(router: Router, ctx: EmulatorContext): void {
  router.add('POST', '/:org/:project/_apis/distributedtask/hubs/:hub/plans/:planId/events', (req: Req) => {
    requireJobToken(ctx, req);
    const { org, project, hub, planId } = req.params;
    if (org.toLowerCase() !== ctx.ids.orgName.toLowerCase())
      return devopsError(404, 'TF200016', `The following project does not exist: ${org}.`);
    if (project.toLowerCase() !== ctx.ids.projectId.toLowerCase())
      return devopsError(404, 'TF200016', `The following project does not exist: ${project}.`);
    const version = requestedApiVersion(req);
    if (!version)
      return devopsError(
        400,
        'VssVersionNotSpecifiedException',
        'No api-version was supplied for the POST request. An api-version is required, for example "api-version=7.1".',
      );
    if (!servesVersion(version, EVENTS_LOCATION))
      return devopsError(
        400,
        'VssVersionOutOfRangeException',
        `The requested REST API version of ${version} is out of range for this server.`,
      );
    const e = running(ctx).get(planId.toLowerCase());
    if (!e || e.run.hub.toLowerCase() !== hub.toLowerCase())
      return devopsError(404, 'TaskOrchestrationPlanNotFoundException', `Plan ${planId} not found in hub ${hub}.`);
    const b = (req.body ?? {}) as { name?: string; jobId?: string; taskId?: string; result?: string };
    if (String(b.jobId ?? '').toLowerCase() !== e.run.jobId.toLowerCase())
      return devopsError(404, 'TaskOrchestrationJobNotFoundException', `Job ${b.jobId} not found in plan ${planId}.`);
    if (!['TaskAssigned', 'TaskStarted', 'TaskCompleted'].includes(String(b.name)))
      return devopsError(400, 'ArgumentException', `Event ${b.name} is not a job event this plan handles.`);
    if (b.name === 'TaskCompleted') {
      if (String(b.taskId ?? '').toLowerCase() !== e.run.taskInstanceId.toLowerCase())
        return devopsError(404, 'TaskNotFoundException', `Task ${b.taskId} not found in job ${b.jobId}.`);
      const result = TASK_RESULTS.find((r) => r.toLowerCase() === String(b.result ?? '').toLowerCase());
      if (!result) return devopsError(400, 'ArgumentException', `Result ${b.result} is not a TaskResult.`);
      if (e.ended || e.completed) return { status: 204 };
      e.run.events.push(b);
      e.completed = result as ServerTaskResult['result'];
      // the orchestration looks at the event once the Execute request has returned (RunServerTask3.InvokeTaskHandler)
      void e.run.sent.then(() => e.finish({ result: e.completed!, reason: 'event' }));
    } else {
      e.run.events.push(b);
    }
    return { status: 204 };
  });
}
