// Azure ML job notification webhooks of type AzureDevOps (issue 11: the agentless wait, tasks/AzureMLJobWaitV1).
//
// What the emulated service does, and where each rule comes from:
// - PATCH {ws}/jobs/{id} (`Jobs_Update`) exists only at api-version 2023-04-01-preview among the specs kept
//   (test/fixtures/third-party/azure-rest-api-specs/2023-04-01-preview/mfe.json; 2022-10-01 and 2024-04-01 have no
//   PATCH on jobs). Other api-versions → 400 InvalidApiVersionParameter. ASSUMPTION: the real RP's answer to a PATCH
//   at another version (Microsoft's newer doc revision sends api-version=2024-04-01, which has no PATCH in its spec;
//   whether the service takes it is unknown).
// - The body is validated against that spec's `PartialJobBasePartialResource` (walked below from the copied file:
//   additionalProperties false, the `Webhook` discriminator `webhookType`, x-nullable, enums).
// - Member names are matched case-insensitively. SOURCE: Microsoft's documented agentless wait sends them PascalCase
//   (`Properties`, `NotificationSetting`, `Webhooks`, `WebhookType`, `EventType`): MicrosoftDocs/azure-docs
//   articles/machine-learning/how-to-devops-machine-learning.md @ 677982f59e8458ddf0ac167b53df3f03802f1386, tab
//   "Using Generic Service connection". The discriminator value itself is matched exactly (`AzureDevOps`).
// - An AzureDevOps webhook also carries the plan fields of that documented body — PlanUri, ProjectId, HubName, PlanId,
//   JobId, TimelineId, TaskInstanceId, AuthToken — although `AzureDevOpsWebhook` declares no properties and
//   `additionalProperties: false`: the box accepts exactly these eight (strings), nothing else. SOURCE: the same doc.
// - The GET/PATCH answer shows each webhook as the spec's `Webhook` (webhookType, eventType) only. ASSUMPTION: the
//   service does not echo the plan fields (the AuthToken is a secret; the response schema has no such members).
// - A null webhook value removes it. ASSUMPTION (merge-patch semantics; the spec marks the map x-nullable).
// - When the job reaches a terminal state, every AzureDevOps webhook with eventType RunTerminated is called once:
//   POST {PlanUri}{ProjectId}/_apis/distributedtask/hubs/{HubName}/plans/{PlanId}/events (distributedTask 7.1
//   `Events_Post`, test/fixtures/third-party/vsts-rest-api-specs/distributedTask/7.1/task.json) with body
//   { name: 'TaskCompleted', taskId: TaskInstanceId, jobId: JobId, result } (the shape of the spec's httpExample
//   POST_distributedtask_PostEvent_.json) and `Authorization: Basic base64(":" + AuthToken)` (the spec's only security
//   scheme: basic, "any value for the user name and the token as the password").
//   Result: Completed → succeeded, Failed → failed, Canceled → canceled. SOURCE: the doc above, "Step 7/8: Submit
//   pipeline and verify": "AzureML Job Succeeded == … Task … Succeeded; Failed == Failed; Cancelled == Cancelled".
//   ASSUMPTIONS: the api-version sent (the example's 2.0-preview.1), an empty user name, one attempt without retry,
//   NotResponding/Paused (terminal in the box) → failed, and that Azure ML writes nothing to the plan's log/timeline.
// - A webhook armed on a job that is already terminal is NOT called. ASSUMPTION (worst case): no source says either
//   way (no recording, doc or issue found); the notification is modelled as fired by the transition to a terminal
//   state. This is the reading that exposes the hang of a wait armed too late; AzureMLJobWait@1 mode PUT avoids the
//   window by creating the job with its webhook (below).
// - The same webhooks at creation: PUT {ws}/jobs/{id} (`Jobs_CreateOrUpdate`) at 2023-04-01-preview, whose `JobBase`
//   has `notificationSetting` (x-ms-mutability create/read; 2022-10-01 has no such member, so the box's strict
//   2022-10-01 validation refuses it there), validated the same way (`validateNotificationSetting`) and armed before
//   the job can start. ASSUMPTION: the service takes the documented plan fields at creation as it does on PATCH (the
//   same `AzureDevOpsWebhook` model; no doc shows it).
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';

export const JOBS_PATCH_API_VERSION = '2023-04-01-preview';
export const EVENTS_API_VERSION = '2.0-preview.1';
/** the plan fields Microsoft's documented agentless wait puts on an AzureDevOps webhook (see the header) */
export const AZURE_DEVOPS_PLAN_FIELDS = [
  'PlanUri',
  'ProjectId',
  'HubName',
  'PlanId',
  'JobId',
  'TimelineId',
  'TaskInstanceId',
  'AuthToken',
] as const;
export type PlanFields = Record<(typeof AZURE_DEVOPS_PLAN_FIELDS)[number], string>;

/** a stored webhook: the spec's members plus (AzureDevOps) the plan fields, kept out of the job's view */
export interface StoredWebhook {
  webhookType: string;
  eventType: string | null;
  plan?: Partial<PlanFields>;
  fired?: string;
}

const SPEC = path.resolve(__dirname, '../fixtures/third-party/azure-rest-api-specs/2023-04-01-preview/mfe.json');
let defs: Record<string, any> | undefined;
const definitions = (): Record<string, any> => (defs ??= JSON.parse(fs.readFileSync(SPEC, 'utf8')).definitions);
const refName = (s: any): string | undefined =>
  typeof s?.$ref === 'string' && s.$ref.startsWith('#/definitions/')
    ? s.$ref.slice('#/definitions/'.length)
    : undefined;
const getCI = (o: Record<string, unknown>, k: string): unknown => {
  const key = Object.keys(o).find((x) => x.toLowerCase() === k.toLowerCase());
  return key === undefined ? undefined : o[key];
};

/** own + allOf properties / required / additionalProperties of a definition */
function flatten(name: string): { props: Record<string, any>; required: string[]; closed: boolean; additional?: any } {
  const d = definitions()[name];
  const out = {
    props: { ...(d.properties ?? {}) },
    required: [...(d.required ?? [])],
    closed: d.additionalProperties === false,
    additional: typeof d.additionalProperties === 'object' ? d.additionalProperties : undefined,
  };
  for (const a of d.allOf ?? []) {
    const n = refName(a);
    if (!n) continue;
    const b = flatten(n);
    out.props = { ...b.props, ...out.props };
    out.required.push(...b.required);
  }
  return out;
}

function check(v: unknown, schema: any, at: string, errors: string[]): void {
  const name = refName(schema);
  const s = name ? definitions()[name] : schema;
  if (v === null) {
    if (!s['x-nullable'] && !schema['x-nullable']) errors.push(`${at}: null is not allowed`);
    return;
  }
  if (s.enum) {
    if (typeof v !== 'string' || !s.enum.some((e: string) => e.toLowerCase() === v.toLowerCase()))
      errors.push(`${at}: ${JSON.stringify(v)} is not one of ${s.enum.join(', ')}`);
    return;
  }
  if (s.type === 'string') {
    if (typeof v !== 'string') errors.push(`${at}: must be a string`);
    return;
  }
  if (s.type === 'array') {
    if (!Array.isArray(v)) errors.push(`${at}: must be an array`);
    else v.forEach((x, i) => check(x, s.items, `${at}[${i}]`, errors));
    return;
  }
  if (typeof v !== 'object' || Array.isArray(v)) {
    errors.push(`${at}: must be an object`);
    return;
  }
  const o = v as Record<string, unknown>;
  let defName = name;
  if (name && s.discriminator) {
    const d = getCI(o, s.discriminator);
    const sub = Object.entries(definitions()).find(
      ([, x]) => x['x-ms-discriminator-value'] === d && (x.allOf ?? []).some((a: any) => refName(a) === name),
    );
    if (!sub) {
      errors.push(`${at}.${s.discriminator}: ${JSON.stringify(d)} is not a known ${name} type`);
      return;
    }
    defName = sub[0];
  }
  const f = defName
    ? flatten(defName)
    : {
        props: s.properties ?? {},
        required: s.required ?? [],
        closed: s.additionalProperties === false,
        additional: typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined,
      };
  for (const [k, val] of Object.entries(o)) {
    const p = Object.keys(f.props).find((x) => x.toLowerCase() === k.toLowerCase());
    if (p) {
      check(val, f.props[p], `${at}.${p}`, errors);
      continue;
    }
    if (f.additional) {
      check(val, f.additional, `${at}.${k}`, errors);
      continue;
    }
    if (defName === 'AzureDevOpsWebhook' && AZURE_DEVOPS_PLAN_FIELDS.some((x) => x.toLowerCase() === k.toLowerCase())) {
      if (typeof val !== 'string') errors.push(`${at}.${k}: must be a string`);
      continue;
    }
    if (f.closed) errors.push(`${at}.${k}: unknown property (not in the ${JOBS_PATCH_API_VERSION} swagger)`);
  }
  for (const r of f.required) if (getCI(o, r) === undefined) errors.push(`${at}.${r}: required`);
}

/** errors of a Jobs_Update body against the 2023-04-01-preview spec (+ the AzureDevOps plan fields), [] when valid */
export function validateJobPatch(body: unknown): string[] {
  const errors: string[] = [];
  if (body === undefined || body === null || body === '') return ['body: required (body)'];
  check(body, { $ref: '#/definitions/PartialJobBasePartialResource' }, 'body', errors);
  return errors.slice(0, 10);
}

/** errors of a job's `notificationSetting` (PUT at 2023-04-01-preview) against that spec (+ the plan fields), [] when valid */
export function validateNotificationSetting(ns: unknown, at = 'properties.notificationSetting'): string[] {
  const errors: string[] = [];
  if (ns === undefined) return errors;
  check(ns, { $ref: '#/definitions/NotificationSetting' }, at, errors);
  return errors.slice(0, 10);
}

/** a notificationSetting as the job shows it: the spec's members, each webhook as the spec's `Webhook` only */
export function notificationView(
  ns: Record<string, unknown> | null | undefined,
  hooks: Record<string, StoredWebhook>,
): Record<string, unknown> {
  return {
    emailOn: (ns && getCI(ns, 'emailOn')) ?? null,
    emails: (ns && getCI(ns, 'emails')) ?? null,
    webhooks: Object.keys(hooks).length
      ? Object.fromEntries(
          Object.entries(hooks).map(([k, h]) => [k, { webhookType: h.webhookType, eventType: h.eventType }]),
        )
      : null,
  };
}

/** the webhooks of a valid Jobs_Update body (null = remove), member names normalised */
export function webhooksOf(body: any): Record<string, StoredWebhook | null> {
  const props = getCI(body ?? {}, 'properties') as Record<string, unknown> | undefined;
  const ns = props && (getCI(props, 'notificationSetting') as Record<string, unknown> | null | undefined);
  const hooks = ns && (getCI(ns, 'webhooks') as Record<string, any> | null | undefined);
  const out: Record<string, StoredWebhook | null> = {};
  for (const [k, h] of Object.entries(hooks ?? {})) {
    if (h === null) {
      out[k] = null;
      continue;
    }
    const w: StoredWebhook = {
      webhookType: String(getCI(h, 'webhookType')),
      eventType: (getCI(h, 'eventType') as string | undefined) ?? null,
    };
    if (w.webhookType === 'AzureDevOps') {
      w.plan = {};
      for (const f of AZURE_DEVOPS_PLAN_FIELDS) {
        const x = getCI(h, f);
        if (typeof x === 'string') w.plan[f] = x;
      }
    }
    out[k] = w;
  }
  return out;
}

/** the Azure DevOps task result Azure ML reports for a terminal job status (see the header) */
export function taskResultFor(status: string): 'succeeded' | 'failed' | 'canceled' {
  return status === 'Completed' ? 'succeeded' : status === 'Canceled' ? 'canceled' : 'failed';
}

/** one HTTPS request trusting the box's CA; resolves with the status (0 when the connection failed) and the text */
export function httpsRequest(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  caPath: string,
  timeoutMs = 10_000,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const data = body === undefined || body === '' ? undefined : Buffer.from(body);
    const req = https.request(
      url,
      {
        method,
        ca: fs.readFileSync(caPath),
        timeout: timeoutMs,
        headers: { ...headers, ...(data ? { 'content-length': String(data.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', () => resolve({ status: 0, text: '' }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, text: String(e.message) }));
    req.end(data);
  });
}

/** POST a JSON body over HTTPS trusting the box's CA */
export function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  caPath: string,
): Promise<{ status: number; text: string }> {
  return httpsRequest(url, 'POST', { 'content-type': 'application/json', ...headers }, JSON.stringify(body), caPath);
}

/** the plan events URL of an AzureDevOps webhook */
export function eventsUrl(p: Partial<PlanFields>): string {
  const base = String(p.PlanUri ?? '');
  return `${base}${base.endsWith('/') ? '' : '/'}${p.ProjectId}/_apis/distributedtask/hubs/${p.HubName}/plans/${p.PlanId}/events?api-version=${EVENTS_API_VERSION}`;
}

/** calls every RunTerminated AzureDevOps webhook of a job that just reached `status` (once each); returns what was sent */
export async function fireRunTerminated(
  hooks: Record<string, StoredWebhook>,
  status: string,
  caPath: string,
  log?: (m: string) => void,
): Promise<Array<{ name: string; url: string; status: number }>> {
  const sent: Array<{ name: string; url: string; status: number }> = [];
  for (const [name, h] of Object.entries(hooks)) {
    if (
      h.webhookType !== 'AzureDevOps' ||
      String(h.eventType ?? '').toLowerCase() !== 'runterminated' ||
      h.fired ||
      !h.plan
    )
      continue;
    h.fired = new Date().toISOString();
    const url = eventsUrl(h.plan);
    const r = await postJson(
      url,
      { name: 'TaskCompleted', taskId: h.plan.TaskInstanceId, jobId: h.plan.JobId, result: taskResultFor(status) },
      { authorization: `Basic ${Buffer.from(`:${h.plan.AuthToken}`).toString('base64')}` },
      caPath,
    );
    log?.(`webhook ${name}: POST ${url} → ${r.status}`);
    sent.push({ name, url, status: r.status });
  }
  return sent;
}
