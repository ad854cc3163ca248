// Azure ML jobs (api-version 2022-10-01 and 2024-04-01: the body is validated against the swagger of the api-version
// the request sends, test/emulator/swagger.ts) + the MLflow tracking / run-history routes, driven by the local job
// runner (test/emulator/jobrunner.ts: what is really executed is described there).
// Serverless compute (2024-04-01): a job without computeId runs on Azure ML's serverless compute, sized by its
// `resources` (instanceType/instanceCount) — Microsoft's doc "Model training on serverless compute" (learn.microsoft.com
// azure/machine-learning/how-to-use-serverless-compute: "if you don't specify compute, the job runs on serverless
// compute"); here it runs in the local job runner like a job on a cluster. ASSUMPTION: the service accepts any
// instanceType a serverless job names (quota is not emulated).
//
//   PUT    {ws}/jobs/:id            create (body validated against the swagger by the ARM pre-handler) → 201 + job
//                                   (status Starting). An existing name: the same create-only properties → 200 (only
//                                   description/tags/isArchived/properties change); different ones → 400 UserError
//                                   "A job with this ID already exists …".
//   GET    {ws}/jobs/:id            job with `status` and `services` {Studio, Tracking}; outputs get their uri once written
//   GET    {ws}/jobs                list, newest first; jobType, tag (key or key=value), listViewType
//                                   (ActiveOnly|ArchivedOnly|All); child jobs (sweep trials, pipeline steps) are not
//                                   listed; paging by `$skipToken` with an absolute nextLink (page size $top or 20)
//   DELETE {ws}/jobs/:id            LRO (202 + Azure-AsyncOperation/Location); a running job is canceled first
//   POST   {ws}/jobs/:id/cancel     LRO (202 + Location); the operation finishes when the job is Canceled
//   PUT    {ws}/jobs/:id            also at 2023-04-01-preview, with notificationSetting (webhooks armed at creation);
//   PATCH  {ws}/jobs/:id            api-version 2023-04-01-preview only (Jobs_Update): notificationSetting.webhooks;
//                                   AzureDevOps webhooks call the plan events API when the job ends (../jobWebhooks.ts
//                                   has every rule and its source; issue 11, tasks/AzureMLJobWaitV1)
// Errors like the service: unknown compute → 400 UserError "Compute <name> not found in workspace <ws>.", unknown
// code/environment/component version → 400 UserError, command referring to an undefined input → 400 UserError,
// unknown job → 404 UserError.
// Status timing (JobTiming in jobrunner.ts): FAST_TIMING with fastLro, else DEFAULT_TIMING; overridable by env
// AIB_JOB_TIMING='{"queueMs":…}' read at box start (test-side only) or live through jobRunnerOf(box.ctx).timing.
// jobStatusHistory(box.ctx, jobId) gives the time each status was reached (for the bench).
import path from 'node:path';
import type { EmulatorContext } from '../context';
import { fail, type Req, type Res, type Router } from '../http';
import { RP, WS, childId, requireBody, requireWorkspace, selfUrl, systemData, type WorkspaceRecord } from '../armkit';
import {
  JobRunner,
  FAST_TIMING,
  DEFAULT_TIMING,
  JOBS_KIND,
  TERMINAL,
  servicesFor,
  logBlobName,
  missingCommandInputs,
  wsIdOf,
  type JobResource,
  type JobTiming,
  type RunnerDeps,
} from '../jobrunner';
import { MlflowStore, mlflowHttpsUri, mlflowTrackingUri, registerMlflow } from '../mlflow';
import { assetById, assetVersion, KIND_COMPUTES } from './assets';
import { durationMs } from './endpoints';
import {
  JOBS_PATCH_API_VERSION,
  fireRunTerminated,
  notificationView,
  validateJobPatch,
  validateNotificationSetting,
  webhooksOf,
  type StoredWebhook,
} from '../jobWebhooks';

/** the workspace's artifact container (real workspaces: `azureml` in the workspace storage account) */
export const ARTIFACT_CONTAINER = 'azureml';

const JOB_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$/;
/** create-only properties compared on a re-PUT */
const MUTABLE = new Set(['description', 'tags', 'properties', 'isArchived', 'status', 'services']);

interface DatastoreRecord {
  properties: { containerName?: string };
}

const RUNNERS = new WeakMap<EmulatorContext, { runner: JobRunner; timing: JobTiming }>();
/**
 * The box's job runner and its live timing (tests and bench may change the fields, e.g.
 * `jobRunnerOf(box.ctx)!.timing.queueMs = 2000`; the next status change uses them).
 */
export function jobRunnerOf(ctx: EmulatorContext): { runner: JobRunner; timing: JobTiming } | undefined {
  return RUNNERS.get(ctx);
}
/** when each status of a job was reached (ISO times): for measuring how fast a client notices a terminal state */
export function jobStatusHistory(ctx: EmulatorContext, jobArmId: string): Array<{ status: string; time: string }> {
  return (
    ctx.store.get<JobResource & { emulator?: { statusHistory?: Array<{ status: string; time: string }> } }>(
      JOBS_KIND,
      jobArmId,
    )?.emulator?.statusHistory ?? []
  );
}

export function register(router: Router, ctx: EmulatorContext): { stop(): Promise<void> } {
  const ml = new MlflowStore(ctx.store);
  const timing: JobTiming = {
    ...(ctx.fastLro ? FAST_TIMING : DEFAULT_TIMING),
    ...parseTiming(process.env.AIB_JOB_TIMING),
  };
  const blob = ctx.azurite.blobServiceClient();
  seedArtifactStores(ctx);

  const deps: RunnerDeps = {
    store: ctx.store,
    blob,
    timing,
    mlflow: ml,
    caCertPath: path.join(ctx.stateDir, 'tls', 'ca.pem'),
    workRoot: path.join(ctx.stateDir, 'jobs'),
    datastoreContainer: (wsId, name) =>
      ctx.store.get<DatastoreRecord>('datastores', `${wsId}/datastores/${name}`)?.properties?.containerName,
    artifactContainer: () => ARTIFACT_CONTAINER,
    trackingUri: (wsId) => mlflowHttpsUri(ctx.armUrl, wsId),
    assetVersion: (wsId, type, name, version) => assetVersion(ctx, wsId, type, name, version),
    assetById: (id) => assetById(ctx, id),
    // like the AML run token: a bearer token the tracking service accepts, here one for the box's contributor app
    jobToken: () => {
      const app = ctx.apps().find((a) => a.role === 'contributor');
      if (!app) throw new Error('no contributor app registered in the box');
      return ctx.issueAccessToken(app, ctx.cloud.activeDirectoryServiceEndpointResourceId, 24 * 3600);
    },
    log: process.env.AIB_DEBUG ? (m) => process.stderr.write(`[jobs] ${m}\n`) : undefined,
    onStatus: (job, status) => {
      const hooks = (job as JobResource & { emulator?: { webhooks?: Record<string, StoredWebhook> } }).emulator
        ?.webhooks;
      if (!TERMINAL.has(status) || !hooks || !Object.keys(hooks).length) return;
      void fireRunTerminated(hooks, status, deps.caCertPath, deps.log).then(() => {
        const cur = ctx.store.get<JobResource & { emulator?: any }>(JOBS_KIND, job.id);
        if (cur?.emulator) {
          cur.emulator.webhooks = { ...(cur.emulator.webhooks ?? {}), ...hooks };
          ctx.store.put(JOBS_KIND, job.id, cur);
        }
      });
    },
  };
  const runner = new JobRunner(deps);
  runner.recover();
  RUNNERS.set(ctx, { runner, timing });

  registerMlflow(router, ctx, ml, {
    workspaceExists: (wsId) => !!ctx.store.get('workspaces', wsId),
    jobInfo: (wsId, runId) => {
      const j = ctx.store.get<JobResource & { emulator?: any }>(JOBS_KIND, `${wsId}/jobs/${runId}`);
      if (!j) return undefined;
      const children = ctx.store
        .list<JobResource>(JOBS_KIND, `${wsId}/jobs/`)
        .filter((c) => c.properties.properties?.['azureml.parentRunId'] === j.name)
        .map((c) => c.name);
      return {
        status: j.properties.status,
        error: j.emulator?.error,
        startTime: j.emulator?.startTime,
        endTime: j.emulator?.endTime,
        logBlob: { container: ARTIFACT_CONTAINER, name: logBlobName(j.name) },
        properties: j.properties.properties ?? {},
        children,
      };
    },
  });

  const view = (j: JobResource): JobResource => {
    const { emulator: _e, ...rest } = j as JobResource & { emulator?: unknown };
    const wsId = wsIdOf(j.id);
    const out = structuredClone(rest) as JobResource;
    out.properties.services = {
      ...servicesFor(j, j.name, mlflowTrackingUri(ctx.armUrl, wsId), ctx.ids.tenantId),
      ...(j.properties.services ?? {}),
    };
    out.properties.outputs = { ...(out.properties.outputs ?? {}) };
    if (String(j.properties.jobType).toLowerCase() !== 'pipeline') {
      out.properties.outputs.default = {
        jobOutputType: 'uri_folder',
        mode: 'ReadWriteMount',
        uri: `azureml://datastores/workspaceartifactstore/ExperimentRun/dcid.${j.name}`,
        description: null,
      };
    }
    return out;
  };

  const jobId = (w: WorkspaceRecord, name: string) => childId(w, 'jobs', name);
  const getJob = (req: Req): JobResource => {
    const w = requireWorkspace(ctx, req);
    const j = ctx.store.get<JobResource>(JOBS_KIND, jobId(w, req.params.id));
    if (!j) fail(404, 'UserError', `Job ${req.params.id} not found in workspace ${w.name}.`);
    return j;
  };

  router.add('PUT', `${WS}/jobs/:id`, (req): Res => {
    const w = requireWorkspace(ctx, req);
    const body = requireBody(req);
    const name = req.params.id;
    if (!JOB_NAME_RE.test(name))
      fail(
        400,
        'UserError',
        `Job name '${name}' is invalid: it must start with a letter or digit and contain only letters, digits, '-' and '_' (at most 255 characters).`,
      );
    const p: Record<string, any> = serviceJobRewrites(ctx, w, structuredClone(body.properties ?? {}));
    const id = jobId(w, name);
    const old = ctx.store.get<JobResource>(JOBS_KIND, id);
    if (old) {
      const changed = Object.keys({ ...old.properties, ...p }).filter(
        (k) =>
          !MUTABLE.has(k) &&
          k !== 'experimentName' &&
          JSON.stringify(p[k] ?? null) !== JSON.stringify(old.properties[k] ?? null),
      );
      if (changed.length)
        fail(
          400,
          'UserError',
          `A job with this ID already exists: '${name}'. Its ${changed.join(', ')} cannot be changed; submit the job under a new name.`,
        );
      for (const k of ['description', 'tags', 'properties', 'isArchived']) if (k in p) old.properties[k] = p[k];
      old.systemData = systemData(req, old.systemData as any);
      ctx.store.put(JOBS_KIND, id, old);
      return { status: 200, body: view(old) };
    }
    validateJob(ctx, w, p);
    // notificationSetting at creation (2023-04-01-preview): webhooks armed before the job can start (../jobWebhooks.ts)
    let hooks: Record<string, StoredWebhook> | undefined;
    const nsKey = Object.keys(p).find((k) => k.toLowerCase() === 'notificationsetting');
    if (nsKey) {
      const errors = validateNotificationSetting(p[nsKey]);
      if (errors.length)
        fail(400, 'UserError', 'Request is invalid and/or missing fields.', {
          details: errors.map((message) => ({ code: 'RequestInvalid', message })),
        });
      hooks = Object.fromEntries(
        Object.entries(webhooksOf({ properties: { notificationSetting: p[nsKey] } })).filter(
          (e): e is [string, StoredWebhook] => e[1] !== null,
        ),
      );
      const ns = p[nsKey];
      delete p[nsKey];
      p.notificationSetting = ns === null ? null : notificationView(ns, hooks);
    }
    p.experimentName ??= 'Default';
    // a command job reads `Starting` in the PUT's 201 (command_job test_command_job_invalid_datastore.json, 2026-03),
    // a sweep `Running` at once (sweep_job test_sweep_job_submit_minimal.json, 2026-03). ASSUMPTION: pipeline jobs
    // start like command jobs (not recorded).
    p.status = String(p.jobType).toLowerCase() === 'sweep' ? 'Running' : 'Starting';
    p.isArchived ??= false;
    p.displayName ??= name;
    p.tags ??= {};
    p.properties ??= {};
    const job: JobResource = { id, name, type: `${RP}/workspaces/jobs`, properties: p, systemData: systemData(req) };
    (job as JobResource & { emulator?: unknown }).emulator = {
      statusHistory: [{ status: p.status, time: new Date().toISOString() }],
      ...(hooks && Object.keys(hooks).length ? { webhooks: hooks } : {}),
    };
    ctx.store.put(JOBS_KIND, id, job);
    runner.start(id);
    // 201 with Location = the job's own URL (both job recordings above)
    return { status: 201, headers: { Location: selfUrl(ctx.armUrl, req) }, body: view(job) };
  });

  router.add('GET', `${WS}/jobs/:id`, (req) => ({ status: 200, body: view(getJob(req)) }));

  router.add('GET', `${WS}/jobs`, (req) => {
    const w = requireWorkspace(ctx, req);
    const type = req.query.get('jobType')?.toLowerCase();
    const tag = req.query.get('tag');
    const lv = (req.query.get('listViewType') ?? 'ActiveOnly').toLowerCase();
    let all = ctx.store
      .list<JobResource>(JOBS_KIND, childId(w, 'jobs') + '/')
      .filter((j) => !j.properties.properties?.['azureml.parentRunId'])
      .filter((j) => !type || String(j.properties.jobType).toLowerCase() === type)
      .filter((j) =>
        lv === 'all' ? true : lv === 'archivedonly' ? !!j.properties.isArchived : !j.properties.isArchived,
      );
    if (tag) {
      const i = tag.indexOf('=');
      const k = i < 0 ? tag : tag.slice(0, i);
      all = all.filter((j) => k in (j.properties.tags ?? {}) && (i < 0 || j.properties.tags[k] === tag.slice(i + 1)));
    }
    all.sort((a, b) => Date.parse(String(b.systemData?.createdAt)) - Date.parse(String(a.systemData?.createdAt)));
    const skip = decodeSkipToken(req.query.get('$skipToken'));
    const size = Math.max(1, Number(req.query.get('$top') ?? 20) || 20);
    const value = all.slice(skip, skip + size).map(view);
    const out: Record<string, unknown> = { value };
    if (skip + size < all.length) {
      const q = new URLSearchParams(req.query);
      q.set('$skipToken', Buffer.from(JSON.stringify({ skip: skip + size })).toString('base64url'));
      out.nextLink = `${ctx.armUrl.replace(/\/$/, '')}${req.path}?${q.toString().replace(/%24/g, '$')}`;
    }
    return { status: 200, body: out };
  });

  // Jobs_Update (2023-04-01-preview): arm notification webhooks (rules and sources: ../jobWebhooks.ts)
  router.add('PATCH', `${WS}/jobs/:id`, (req) => {
    const v = req.query.get('api-version');
    if (v !== JOBS_PATCH_API_VERSION)
      fail(
        400,
        'InvalidApiVersionParameter',
        `The api-version '${v}' is invalid. The supported versions are '${JOBS_PATCH_API_VERSION}'.`,
      );
    const errors = validateJobPatch(req.body);
    if (errors.length)
      fail(400, 'UserError', 'Request is invalid and/or missing fields.', {
        details: errors.map((message) => ({ code: 'RequestInvalid', message })),
      });
    const j = getJob(req) as JobResource & { emulator?: { webhooks?: Record<string, StoredWebhook> } };
    const emu = (j.emulator ??= {});
    const stored = { ...(emu.webhooks ?? {}) };
    for (const [name, h] of Object.entries(webhooksOf(req.body))) {
      if (h === null) delete stored[name];
      else stored[name] = h;
    }
    emu.webhooks = stored;
    j.properties.notificationSetting = notificationView(j.properties.notificationSetting, stored);
    j.systemData = systemData(req, j.systemData as any);
    ctx.store.put(JOBS_KIND, j.id, j);
    return { status: 200, body: view(j) };
  });

  router.add('POST', `${WS}/jobs/:id/cancel`, (req) => {
    const j = getJob(req);
    if (TERMINAL.has(j.properties.status)) return ctx.lro.accepted(req, { work: () => undefined });
    const op = ctx.lro.begin(req, { manual: true });
    void runner.cancel(j.id).then(
      () => ctx.lro.complete(op.id, 'Succeeded'),
      (e) => ctx.lro.complete(op.id, 'Failed', { code: 'InternalServerError', message: String(e) }),
    );
    // ASSUMPTION (no recording of job cancel): 202 with Location (mfeOperationResults) and the service's usual timeout header
    return {
      status: 202,
      headers: {
        Location: op.headers.Location,
        'x-ms-async-operation-timeout': op.headers['x-ms-async-operation-timeout'],
      },
    };
  });

  router.add('DELETE', `${WS}/jobs/:id`, (req) => {
    const w = requireWorkspace(ctx, req);
    const id = jobId(w, req.params.id);
    const j = ctx.store.get<JobResource>(JOBS_KIND, id);
    if (!j) return { status: 204 };
    return ctx.lro.accepted(req, {
      work: async () => {
        await runner.cancel(id);
        for (const k of ctx.store.keys(JOBS_KIND, childId(w, 'jobs') + '/')) {
          const c = ctx.store.get<JobResource>(JOBS_KIND, k);
          if (c?.properties.properties?.['azureml.parentRunId'] === j.name) ctx.store.delete(JOBS_KIND, k);
        }
        ctx.store.delete(JOBS_KIND, id);
      },
    });
  });

  return { stop: () => runner.stopAll() };
}

/**
 * What the service fills in or rewrites in a job it stores (applied to a re-PUT's body too, so that the same job sent
 * again compares equal). From Microsoft's SDK recordings (test/fixtures/third-party/azure-sdk-assets/):
 *  - command_job test_command_job_invalid_datastore.json (2026-03, api 2025-01-01-preview): `parameters: {}` added;
 *    `resources` filled in as
 *    { instanceCount: 1, instanceType: null, properties: null, shmSize: '2g', dockerArgs: null }; `properties` gains
 *    `_azureml.ComputeTargetType: amlctrain` and `_azureml.ClusterName: <compute>` for an AmlCompute cluster; the
 *    command job's short `environmentId` (azureml:<name>:<version>) is kept as sent.
 *  - sweep_job test_sweep_job_submit_minimal.json (2026-03, api 2024-01-01-preview): `trial.environmentId` sent as
 *    `azureml:<name>:<version>` reads back as the full ARM id `<workspace>/environments/<name>/versions/<version>`;
 *    `objective.goal` `maximize` reads back `Maximize`; a Random `samplingAlgorithm` gains `rule: Random`, `seed: null`;
 *    `trial.resources` and `resources` are filled in as above; `tags` gain the HyperDrive `_aml_system_*` entries and
 *    `properties` the HyperDrive ones (runTemplate, azureml.runsource, platform, primary_metric_config, resume_from).
 *    Not reproduced: `_aml_system_generator_config` / `_aml_system_platform_config` (long service-internal JSON),
 *    ContentSnapshotId, user_agent.
 * ASSUMPTIONS: ComputeTargetType/ClusterName only for AmlCompute (the only kind recorded); `azureml:<name>@<label>`
 * trial environments are kept as sent (not recorded).
 */
export function serviceJobRewrites(
  ctx: EmulatorContext,
  w: WorkspaceRecord,
  p: Record<string, any>,
): Record<string, any> {
  const type = String(p.jobType ?? '').toLowerCase();
  const resources = (r: any) => ({
    instanceCount: 1,
    instanceType: null,
    properties: null,
    shmSize: '2g',
    dockerArgs: null,
    ...(r ?? {}),
  });
  if (type === 'command') p.parameters ??= {};
  if (type === 'command' || type === 'sweep') {
    p.resources = resources(p.resources);
    const computeRaw = String(p.computeId ?? '').replace(/^azureml:/i, '');
    const cname = computeRaw ? computeRaw.split('/').pop()! : '';
    const compute = cname ? ctx.store.get<any>(KIND_COMPUTES, childId(w, 'computes', cname)) : undefined;
    if (type === 'command' && String(compute?.properties?.computeType).toLowerCase() === 'amlcompute') {
      p.properties = {
        ...(p.properties ?? {}),
        '_azureml.ComputeTargetType': 'amlctrain',
        '_azureml.ClusterName': cname,
      };
    }
  }
  if (type === 'sweep') {
    if (p.trial && typeof p.trial === 'object') {
      p.trial = { ...p.trial, resources: resources(p.trial.resources) };
      const env = /^azureml:([^:@/]+):([^:@/]+)$/i.exec(String(p.trial.environmentId ?? ''));
      if (env) p.trial.environmentId = childId(w, 'environments', env[1], 'versions', env[2]);
    }
    const goalSent = p.objective?.goal;
    if (p.objective && typeof goalSent === 'string')
      p.objective = {
        ...p.objective,
        goal: /^max/i.test(goalSent) ? 'Maximize' : /^min/i.test(goalSent) ? 'Minimize' : goalSent,
      };
    if (p.samplingAlgorithm && String(p.samplingAlgorithm.samplingAlgorithmType).toLowerCase() === 'random') {
      p.samplingAlgorithm = { rule: 'Random', seed: null, ...p.samplingAlgorithm };
    }
    const lim = p.limits ?? {};
    const minutes = lim.timeout ? Math.round(durationMs(String(lim.timeout), 0) / 60_000) : undefined;
    const metric = JSON.stringify({ name: p.objective?.primaryMetric, goal: String(goalSent ?? '').toLowerCase() });
    p.tags = {
      ...(p.tags ?? {}),
      ...(lim.maxConcurrentTrials !== undefined
        ? { _aml_system_max_concurrent_jobs: String(lim.maxConcurrentTrials) }
        : {}),
      ...(lim.maxTotalTrials !== undefined ? { _aml_system_max_total_jobs: String(lim.maxTotalTrials) } : {}),
      ...(minutes !== undefined ? { _aml_system_max_duration_minutes: String(minutes) } : {}),
      _aml_system_policy_config: JSON.stringify({ name: p.earlyTermination?.policyType ?? 'Default', properties: {} }),
      _aml_system_primary_metric_config: metric,
      _aml_system_resume_child_runs: 'null',
      _aml_system_all_jobs_generated: 'false',
      _aml_system_cancellation_requested: 'false',
      _aml_system_samples_generated_count: '0',
    };
    p.properties = {
      ...(p.properties ?? {}),
      primary_metric_config: metric,
      resume_from: 'null',
      runTemplate: 'HyperDrive',
      'azureml.runsource': 'hyperdrive',
      platform: 'AML',
    };
  }
  return p;
}

function parseTiming(s: string | undefined): Partial<JobTiming> {
  if (!s) return {};
  try {
    return JSON.parse(s) as Partial<JobTiming>;
  } catch {
    return {};
  }
}

function decodeSkipToken(t: string | null): number {
  if (!t) return 0;
  try {
    return Math.max(0, Number(JSON.parse(Buffer.from(t, 'base64url').toString('utf8')).skip) || 0);
  } catch {
    fail(400, 'UserError', `Invalid $skipToken '${t}'.`);
  }
}

/**
 * The workspace artifact store, as real workspaces have it (container `azureml`), refreshed at every start from
 * workspaceblobstore (same account; Azurite's port changes between starts). Runs after arm/datastores.ts (module order).
 */
function seedArtifactStores(ctx: EmulatorContext): void {
  for (const w of ctx.store.list<WorkspaceRecord>('workspaces')) {
    const id = childId(w, 'datastores', 'workspaceartifactstore');
    const blobStore = ctx.store.get<any>('datastores', childId(w, 'datastores', 'workspaceblobstore'));
    if (!blobStore) continue;
    ctx.store.put('datastores', id, {
      ...structuredClone(blobStore),
      id,
      name: 'workspaceartifactstore',
      properties: { ...structuredClone(blobStore.properties), isDefault: false, containerName: ARTIFACT_CONTAINER },
    });
  }
}

// ---------------------------------------------------------------- submission checks (400 UserError like the service)
function computeName(ctx: EmulatorContext, w: WorkspaceRecord, computeId: string, where: string): void {
  // serverless (a step naming it over a pipeline default; azure-sdk-for-python's pipeline tests show a node's REST
  // dict with `"computeId": "serverless"`) and a `${{parent.inputs.x}}` binding resolved at run time are no lookups
  if (/^serverless$/i.test(String(computeId)) || /^\$\{\{.*\}\}$/.test(String(computeId).trim())) return;
  const raw = String(computeId).replace(/^azureml:/i, '');
  let name = raw;
  if (raw.startsWith('/')) {
    const m = /\/workspaces\/([^/]+)\/computes\/([^/]+)$/i.exec(raw);
    if (!m) fail(400, 'UserError', `${where}: '${computeId}' is not a compute ARM id.`);
    if (m[1].toLowerCase() !== w.name.toLowerCase())
      fail(400, 'UserError', `${where}: compute ${m[2]} belongs to workspace ${m[1]}, not ${w.name}.`);
    name = m[2];
  }
  const c = ctx.store.get<any>(KIND_COMPUTES, childId(w, 'computes', name));
  if (!c) fail(400, 'UserError', `Compute ${name} not found in workspace ${w.name}.`);
  if (c.properties?.provisioningState === 'Failed')
    fail(400, 'UserError', `Compute ${name} is in state Failed and cannot run jobs.`);
}

function checkInstanceType(
  ctx: EmulatorContext,
  w: WorkspaceRecord,
  computeId: string | undefined,
  resources: any,
  where: string,
): void {
  const it = resources?.instanceType;
  if (!it || !computeId) return;
  const name = String(computeId)
    .replace(/^azureml:/i, '')
    .split('/')
    .pop()!;
  const c = ctx.store.get<any>(KIND_COMPUTES, childId(w, 'computes', name));
  if (String(c?.properties?.computeType).toLowerCase() !== 'kubernetes') return;
  const p = c.properties.properties ?? {};
  const types = new Set(
    [
      'defaultinstancetype',
      String(p.defaultInstanceType ?? 'defaultinstancetype'),
      ...Object.keys(p.instanceTypes ?? {}),
    ].map((s) => s.toLowerCase()),
  );
  if (!types.has(String(it).toLowerCase()))
    fail(
      400,
      'UserError',
      `${where}: instance type ${it} is not defined on Kubernetes compute ${name} (known: ${[...types].join(', ')}).`,
    );
}

function checkAssetRef(
  ctx: EmulatorContext,
  w: WorkspaceRecord,
  ref: string | undefined | null,
  kind: 'codes' | 'environments' | 'components',
  where: string,
): void {
  if (!ref) return;
  const r = String(ref).replace(/^azureml:/i, '');
  if (/^\/\/registries\/|^azureml:\/\/registries\//i.test(String(ref)) || r.startsWith('//')) return; // registry assets
  if (r.startsWith('/')) {
    const m = new RegExp(`/workspaces/([^/]+)/${kind}/([^/]+)/versions/([^/]+)$`, 'i').exec(r);
    if (!m) fail(400, 'UserError', `${where}: '${ref}' is not a ${kind.replace(/s$/, '')} version ARM id.`);
    if (!assetById(ctx, r))
      fail(400, 'UserError', `${where}: ${kind.replace(/s$/, '')} ${m[2]}:${m[3]} not found in workspace ${m[1]}.`);
    return;
  }
  const m = /^([^:@/]+)(?::([^:@/]+)|@([^:@/]+))$/.exec(r);
  if (m && !assetVersion(ctx, w.id, kind, m[1], m[2] ?? m[3]))
    fail(400, 'UserError', `${where}: ${kind.replace(/s$/, '')} ${m[1]}:${m[2] ?? m[3]} not found.`);
}

function checkInputs(inputs: Record<string, any> | undefined, where: string): void {
  for (const [k, v] of Object.entries(inputs ?? {})) {
    if (v == null) continue;
    const t = String(v.jobInputType ?? v.job_input_type ?? '').toLowerCase();
    if (t && t !== 'literal' && !v.uri) fail(400, 'UserError', `${where}: input '${k}' of type ${t} has no uri.`);
  }
}

function validateJob(ctx: EmulatorContext, w: WorkspaceRecord, p: Record<string, any>): void {
  const type = String(p.jobType ?? '').toLowerCase();
  // a job that runs code: its compute, code and environment exist, its inputs are well formed, and `text` (the
  // command, or a Spark job's args) names only inputs it has
  const checkCodeJob = (text: unknown, refers: string, computeChecks?: () => void) => {
    if (p.computeId) computeName(ctx, w, p.computeId, 'computeId');
    computeChecks?.();
    checkAssetRef(ctx, w, p.codeId, 'codes', 'codeId');
    checkAssetRef(ctx, w, p.environmentId, 'environments', 'environmentId');
    checkInputs(p.inputs, 'inputs');
    const missing = missingCommandInputs(String(text ?? ''), p.inputs);
    if (missing.length)
      fail(
        400,
        'UserError',
        `${refers} to input(s) ${missing.map((m) => `'${m}'`).join(', ')} that the job does not define.`,
      );
  };
  if (type === 'command') {
    checkCodeJob(p.command, 'The command refers', () =>
      checkInstanceType(ctx, w, p.computeId, p.resources, 'resources'),
    );
  } else if (type === 'sweep') {
    if (p.computeId) computeName(ctx, w, p.computeId, 'computeId');
    checkAssetRef(ctx, w, p.trial?.codeId, 'codes', 'trial.codeId');
    checkAssetRef(ctx, w, p.trial?.environmentId, 'environments', 'trial.environmentId');
    checkInputs(p.inputs, 'inputs');
    const missing = missingCommandInputs(String(p.trial?.command ?? ''), p.inputs);
    if (missing.length)
      fail(
        400,
        'UserError',
        `The trial command refers to input(s) ${missing.map((m) => `'${m}'`).join(', ')} that the sweep job does not define.`,
      );
    const space = p.searchSpace ?? {};
    for (const m of String(p.trial?.command ?? '').matchAll(/\$\{\{\s*search_space\.([A-Za-z0-9_]+)\s*\}\}/g)) {
      if (!(m[1] in space))
        fail(
          400,
          'UserError',
          `The trial command refers to search_space.${m[1]}, which the search space does not define.`,
        );
    }
  } else if (type === 'automl') {
    // taskDetails is checked against the swagger (AutoMLVertical by taskType); the compute must exist like a command's
    if (p.computeId) computeName(ctx, w, p.computeId, 'computeId');
  } else if (type === 'spark') {
    // the references a Spark job makes are checked like a command job's; `args` like a command (its ${{inputs.x}})
    checkCodeJob(p.args, 'The args refer');
  } else if (type === 'pipeline') {
    const def = p.settings?.default_compute ?? p.settings?.defaultCompute ?? p.computeId;
    if (def) computeName(ctx, w, def, 'settings.default_compute');
    checkInputs(p.inputs, 'inputs');
    for (const [n, step] of Object.entries<any>(p.jobs ?? {})) {
      if (!step || typeof step !== 'object') fail(400, 'UserError', `jobs.${n} must be an object.`);
      const c = step.computeId ?? step.compute;
      if (c) computeName(ctx, w, c, `jobs.${n}.compute`);
      if (step.componentId) checkAssetRef(ctx, w, step.componentId, 'components', `jobs.${n}.componentId`);
      if (step.trial?.componentId)
        checkAssetRef(ctx, w, step.trial.componentId, 'components', `jobs.${n}.trial.componentId`);
      if (step.codeId) checkAssetRef(ctx, w, step.codeId, 'codes', `jobs.${n}.codeId`);
      // an automl step binds its data outside `inputs` (azure-ai-ml's AutoML node: training_data, validation_data, test_data)
      const bound = JSON.stringify([step.inputs ?? {}, step.training_data, step.validation_data, step.test_data]);
      for (const m of bound.matchAll(/\$\{\{\s*parent\.jobs\.([A-Za-z0-9_]+)\.outputs\.[A-Za-z0-9_]+\s*\}\}/g)) {
        if (!(p.jobs ?? {})[m[1]]) fail(400, 'UserError', `jobs.${n}: input binds to unknown step '${m[1]}'.`);
      }
      for (const m of bound.matchAll(/\$\{\{\s*parent\.inputs\.([A-Za-z0-9_]+)\s*\}\}/g)) {
        if (!(p.inputs ?? {})[m[1]])
          fail(
            400,
            'UserError',
            `jobs.${n}: input binds to pipeline input '${m[1]}', which the pipeline does not define.`,
          );
      }
    }
  }
}
