// AzureMLJob@1: submit an Azure ML job from `az ml job create -f` YAML (or attach to an existing one), wait for it
// with a backing-off poll, stream its log, cancel it on timeout / pipeline cancel, report metrics.
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { InputError, UserError, lineageTags, type PipelineContext } from '../pipeline';
import { getWorkspace, studioUrl, wsPath, type AzureMLContext, type WorkspaceRef } from '../azureml';
import { MUTABLE_JOB_PROPS, jobDefinitionDifferences } from '../azureml/normalize';
import { buildJobBody, parseJobYaml, JobSpecError, type JobSpec, type SpecResolver } from '../azureml/jobSpec';
import {
  JOB_NAME_PATTERN,
  JobLogReader,
  RUNNING_STATUSES,
  TERMINAL_STATUSES,
  cancelJob,
  createJob,
  getRunDetails,
  readJob,
  type JobResource,
  type RunDetails,
} from '../azureml/jobs';
import { AzureAssetResolver } from '../azureml/jobResolver';
import { MlflowClient, type RunSummary } from '../azureml/mlflow';
import { PollSchedule, realClock, type Clock, type PollScheduleOptions } from '../azureml/poll';
import { mdCell } from './markdown';
import type { Log } from '../log';

// the poll schedule is shared with every other status poll (src/azureml/poll.ts); re-exported for the job's tests and bench
export {
  DEFAULT_POLL,
  PollSchedule,
  readsInDuration,
  realClock,
  type Clock,
  type PollScheduleOptions,
} from '../azureml/poll';

export const MODES = ['submit', 'waitExisting', 'prepare'] as const;
export type Mode = (typeof MODES)[number];

export interface JobInputs {
  mode: Mode;
  /** job YAML (absolute or relative to cwd); submit mode */
  jobFile?: string;
  /** `path=value` lines */
  overrides?: string[];
  jobName?: string;
  experimentName?: string;
  displayName?: string;
  wait: boolean;
  streamLogs: boolean;
  /** 0 = no limit */
  timeoutMinutes: number;
  cancelOnCancel: boolean;
  tags?: Record<string, string>;
}

export type { Log } from '../log';

/** What waiting needs from Azure, injectable for unit tests. */
export interface WaitOps {
  readJob(name: string): Promise<{ job?: JobResource; retryAfterMs?: number }>;
  /** request cancellation at once, then wait at most `waitMs` for a terminal status */
  cancelJob(name: string, waitMs: number): Promise<{ status?: string; confirmed: boolean }>;
  logReader(name: string): { readNew(flush?: boolean): Promise<string[]>; tail(n: number): Promise<string[]> };
  runDetails(job: JobResource): Promise<RunDetails | undefined>;
  runSummary(job: JobResource): Promise<RunSummary | undefined>;
}

export interface JobOps extends WaitOps {
  ws: WorkspaceRef;
  /** reads the workspace; returns its MLflow tracking URI */
  checkWorkspace(): Promise<{ trackingUri?: string }>;
  /** a resolver that only reads until `commit()` */
  newResolver(): SpecResolver & {
    commit(onStep?: (what: string, i: number, n: number) => void): Promise<void>;
    pending: unknown[];
  };
  createJob(name: string, body: { properties: Record<string, unknown> }): Promise<JobResource>;
}

export interface JobDeps {
  ops: JobOps;
  log: Log;
  progress(percent: number, text?: string): void;
  context: PipelineContext;
  cwd?: string;
  signal?: AbortSignal;
  clock?: Clock;
}

export interface JobResult {
  jobName: string;
  status: string;
  studioUrl: string;
  submitted: boolean;
  /** existing job with the same definition (rerun) */
  reused: boolean;
  waited: boolean;
  metrics: Record<string, number>;
  params: Record<string, string>;
  jobType?: string;
  displayName?: string;
  experimentName?: string;
  durationMs?: number;
  error?: string;
  logTail?: string[];
  /** set when the task must fail (after outputs and summary are written) */
  failure?: string;
  /** mode prepare: the job's properties as members text for AzureMLJobWait@1 mode PUT (encodeJobDefinition) */
  jobDefinition?: string;
  polls: number;
}

export function azureOps(ctx: AzureMLContext, log?: Log): JobOps {
  let trackingUri: string | undefined;
  let mlflow: MlflowClient | undefined;
  return {
    ws: ctx.ws,
    checkWorkspace: async () => {
      const w = await getWorkspace(ctx);
      trackingUri = w.mlFlowTrackingUri ?? undefined;
      return { trackingUri };
    },
    newResolver: () =>
      new AzureAssetResolver(ctx, { errorPrefix: "Input 'jobFile': ", onProgress: (m) => log?.info(m) }),
    createJob: (n, b) => createJob(ctx, n, b),
    readJob: (n) => readJob(ctx, n),
    cancelJob: (n, waitMs) => cancelJob(ctx, n, waitMs),
    logReader: (n) => new JobLogReader(ctx, n),
    runDetails: (job) => getRunDetails(ctx, job, trackingUri),
    runSummary: async (job) => {
      const uri = job.properties.services?.Tracking?.endpoint ?? trackingUri;
      if (!uri) return undefined;
      mlflow ??= new MlflowClient(ctx, uri);
      return mlflow.runSummary(job.name);
    },
  };
}

/** How long the task waits for Canceled after requesting cancellation on pipeline cancel: the agent sends SIGINT,
 *  then SIGTERM 7.5 s later and kills the process 2.5 s after that (azure-pipelines-agent ProcessInvoker). */
export const CANCEL_WAIT_ON_SIGNAL_MS = 3000;
/** …and on the task's own timeout (nothing kills the task then). */
export const CANCEL_WAIT_ON_TIMEOUT_MS = 30_000;

const STATUS_PROGRESS: Record<string, number> = {
  NotStarted: 0,
  Starting: 5,
  Provisioning: 10,
  Queued: 10,
  Preparing: 20,
  Running: 50,
  Finalizing: 90,
  CancelRequested: 95,
  Completed: 100,
  Failed: 100,
  Canceled: 100,
  NotResponding: 100,
  Paused: 100,
};

/** Keep a job's log line from being read as an agent logging command (##vso[…], ##[…]). */
export function neutralizeLogLine(line: string): string {
  return /##(vso)?\[/i.test(line) ? line.replace(/##/g, '#\u200b#') : line;
}

// ---------------------------------------------------------------------------------------------- inputs

export function validateInputs(i: JobInputs, cwd: string): { jobFile?: string; jobName?: string } {
  if (!(MODES as readonly string[]).includes(i.mode))
    throw new InputError('mode', `'${i.mode}' is not one of ${MODES.join(', ')}`);
  if (!Number.isFinite(i.timeoutMinutes) || i.timeoutMinutes < 0)
    throw new InputError(
      'timeoutMinutes',
      `must be 0 (no limit) or a positive number of minutes, got ${i.timeoutMinutes}`,
    );
  const jobName = i.jobName?.trim() || undefined;
  if (jobName !== undefined && !JOB_NAME_PATTERN.test(jobName)) {
    throw new InputError(
      'jobName',
      `'${jobName}' is not a valid job name (1-255 letters, digits, '-' or '_', starting with a letter or digit)`,
    );
  }
  for (const [k, v] of Object.entries(i.tags ?? {})) {
    if (!k.trim()) throw new InputError('tags', 'empty key');
    if (v.length > 5000) throw new InputError('tags', `value of '${k}' is longer than 5000 characters`);
  }
  for (const o of i.overrides ?? []) {
    const t = o.trim();
    if (!t) continue;
    const eq = t.indexOf('=');
    if (eq <= 0) throw new InputError('overrides', `'${t}' is not path=value (e.g. inputs.learning_rate=0.1)`);
    if (
      t
        .slice(0, eq)
        .split('.')
        .some((s) => !s.trim())
    )
      throw new InputError('overrides', `'${t}': the path '${t.slice(0, eq).trim()}' has an empty segment`);
  }
  if (i.mode === 'waitExisting') {
    if (!jobName) throw new InputError('jobName', 'is required in mode waitExisting (the name of the job to wait for)');
    return { jobName };
  }
  const f = i.jobFile?.trim();
  if (!f) throw new InputError('jobFile', `is required in mode ${i.mode} (an Azure ML job YAML file)`);
  return { jobFile: path.resolve(cwd, f), jobName };
}

function parseSpec(file: string, i: JobInputs): JobSpec {
  try {
    return parseJobYaml(file, { overrides: i.overrides });
  } catch (e) {
    if (e instanceof JobSpecError || e instanceof UserError) {
      const msg = e.message;
      if (/^Override '/.test(msg)) throw new InputError('overrides', msg.replace(/^Override /, ''));
      throw new InputError('jobFile', msg);
    }
    throw e;
  }
}

/**
 * Default job name: `<pipeline>-<buildId>-<attempt>-<definition hash>` in a pipeline (same definition in the same attempt
 * = same job), else random. The hash leaves out what may change on an existing job (tags, description…), so a rerun
 * whose lineage tags differ (e.g. another collection URL) finds the job it submitted before.
 */
export function defaultJobName(ctx: PipelineContext, body: { properties?: Record<string, unknown> }): string {
  const slug = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60);
  const definition = Object.entries(body.properties ?? {}).filter(([k]) => !MUTABLE_JOB_PROPS.has(k));
  const hash = createHash('sha256').update(JSON.stringify(definition)).digest('hex').slice(0, 8);
  const pipe = slug(ctx.definitionName ?? ctx.releaseDefinitionName ?? '');
  const run = ctx.buildId ?? ctx.releaseId;
  if (run)
    return [pipe || 'azdo', run, ctx.attempt && ctx.attempt !== '1' ? `a${ctx.attempt}` : '', hash]
      .filter(Boolean)
      .join('-');
  return `job-${randomBytes(5).toString('hex')}`;
}

/**
 * A job's properties as the members of a JSON object (`"jobType":"Command",…,`: no braces, a trailing comma) for the
 * Body of AzureMLJobWait@1 mode PUT, `{"properties":{$(jobDefinition)"notificationSetting":…}}`. The server puts the
 * value into the body as it is (InvokeRESTAPI@1 sends its `body` input the same way, `"Body": "$(body)"`) after
 * expanding `$(…)` macros and `{{…}}` templates, so every `$`, `{` and `}` inside a string is written as a JSON \u
 * escape: the service reads the same text (e.g. a command's `${{inputs.data}}`), and nothing in it is a macro.
 */
export function encodeJobDefinition(properties: Record<string, unknown>): string {
  const str = (t: string) =>
    JSON.stringify(t).replace(/[${}]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const enc = (v: unknown): string => {
    if (typeof v === 'string') return str(v);
    if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : enc(x))).join(',')}]`;
    if (v && typeof v === 'object')
      return `{${Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => `${str(k)}:${enc(x)}`)
        .join(',')}}`;
    return JSON.stringify(v) ?? 'null';
  };
  const members = enc(properties).slice(1, -1);
  return members ? `${members},` : '';
}

// ---------------------------------------------------------------------------------------------- comparison

/**
 * Keys of `mine` (a job body's properties) that an existing job does not carry with the same meaning ([] = same
 * definition), after the service's rewrites (azureml/normalize.ts owns the rules). `workspacePath`: the task's workspace, in
 * which a short `azureml:<name>:<version>` names the same asset as its ARM id.
 */
export function definitionDifferences(
  mine: Record<string, unknown>,
  theirs: Record<string, unknown>,
  workspacePath = '',
): string[] {
  return jobDefinitionDifferences(mine, theirs, workspacePath);
}

// ---------------------------------------------------------------------------------------------- waiting

export interface WaitOptions {
  ops: WaitOps;
  log: Log;
  progress(percent: number, text?: string): void;
  signal?: AbortSignal;
  clock?: Clock;
  streamLogs: boolean;
  timeoutMs: number;
  cancelOnCancel: boolean;
  schedule?: PollScheduleOptions;
  /** the job as last read (skips the first read when given) */
  initial?: JobResource;
}

export interface WaitOutcome {
  job: JobResource;
  status: string;
  polls: number;
  /** when the terminal status was first seen (clock ms) */
  noticedAt: number;
  /** log lines printed (only kept: the last 30) */
  lastLines: string[];
  cancelled?: { reason: string; status?: string; confirmed: boolean };
}

/** Polls until the job is terminal; cancels it (and says so) on timeout or abort. */
export async function waitForJob(name: string, o: WaitOptions): Promise<WaitOutcome> {
  const clock = o.clock ?? realClock;
  const sched = new PollSchedule(o.schedule);
  const started = clock.now();
  const deadline = o.timeoutMs > 0 ? started + o.timeoutMs : Infinity;
  const reader = o.streamLogs ? o.ops.logReader(name) : undefined;
  const lastLines: string[] = [];
  let polls = 0;
  let job = o.initial;
  let retryAfterMs: number | undefined;
  const print = (lines: string[]) => {
    for (const l of lines) {
      o.log.info(neutralizeLogLine(l));
      lastLines.push(l);
    }
    if (lastLines.length > 30) lastLines.splice(0, lastLines.length - 30);
  };
  const stream = async (flush = false) => {
    if (!reader) return;
    try {
      print(await reader.readNew(flush));
    } catch (e) {
      if (o.signal?.aborted) throw e;
      o.log.warning(`Log streaming: ${(e as Error).message}`);
    }
  };

  const cancel = async (reason: string, waitMs: number): Promise<WaitOutcome> => {
    o.log.info(`Cancelling Azure ML job ${name} (${reason})…`);
    let r: { status?: string; confirmed: boolean };
    try {
      r = await o.ops.cancelJob(name, waitMs);
    } catch (e) {
      throw new UserError(
        `Could not cancel Azure ML job ${name} (${reason}): ${(e as Error).message.split('\n')[0]}; it may still be running`,
      );
    }
    if (r.confirmed) o.log.info(`Cancelled Azure ML job ${name} (${reason})${r.status ? `: status ${r.status}` : ''}`);
    else
      o.log.info(
        `Azure ML job ${name}: cancellation requested (job status ${r.status ?? 'unknown'}); not waiting longer than ${Math.round(waitMs / 1000)} s for it (${reason})`,
      );
    const j = job ?? { id: '', name, properties: {} };
    return {
      job: j,
      status: r.status ?? 'CancelRequested',
      polls,
      noticedAt: clock.now(),
      lastLines,
      cancelled: { reason, status: r.status, confirmed: r.confirmed },
    };
  };
  const abortReason = () => {
    const r = o.signal?.reason as { signal?: string; message?: string } | undefined;
    return `pipeline cancelled${r?.signal ? ` (${r.signal})` : ''}`;
  };

  let lastStatus = job?.properties.status;
  if (lastStatus) o.progress(STATUS_PROGRESS[lastStatus] ?? 0, `Job ${name}: ${lastStatus}`);
  for (;;) {
    const status = job?.properties.status;
    if (status && TERMINAL_STATUSES.has(status)) break;
    if (job) {
      const delay = sched.nextAfter(retryAfterMs);
      const until = Math.min(clock.now() + delay, deadline);
      await clock.sleep(Math.max(0, until - clock.now()), o.signal);
    }
    if (o.signal?.aborted) {
      if (!o.cancelOnCancel) {
        throw new UserError(
          `Stopped waiting for Azure ML job ${name} (${abortReason()}); the job was NOT cancelled (cancelOnCancel is false)`,
        );
      }
      return cancel(abortReason(), CANCEL_WAIT_ON_SIGNAL_MS);
    }
    if (clock.now() >= deadline)
      return cancel(
        `timeout of ${Math.round((o.timeoutMs / 60000) * 100) / 100} minute(s) reached`,
        CANCEL_WAIT_ON_TIMEOUT_MS,
      );
    let read;
    try {
      read = await o.ops.readJob(name);
    } catch (e) {
      if (o.signal?.aborted) continue; // handled at the top of the loop
      throw e;
    }
    polls++;
    retryAfterMs = read.retryAfterMs;
    if (!read.job) throw new UserError(`Azure ML job ${name} no longer exists (deleted while waiting)`);
    job = read.job;
    const s = job.properties.status ?? 'Unknown';
    if (s !== lastStatus) {
      o.log.info(`${lastStatus ?? 'Submitted'} → ${s}`);
      o.progress(STATUS_PROGRESS[s] ?? 50, `Job ${name}: ${s}`);
      lastStatus = s;
      sched.reset();
    }
    if (RUNNING_STATUSES.has(s)) {
      try {
        await stream();
      } catch (e) {
        if (!o.signal?.aborted) throw e;
      }
    }
  }
  const noticedAt = clock.now();
  await stream(true);
  return { job: job!, status: job!.properties.status!, polls, noticedAt, lastLines };
}

// ---------------------------------------------------------------------------------------------- main

export async function runJob(inputs: JobInputs, deps: JobDeps): Promise<JobResult> {
  const { ops, log } = deps;
  const clock = deps.clock ?? realClock;
  const cwd = deps.cwd ?? process.cwd();
  const started = clock.now();

  // 1. everything without network
  const v = validateInputs(inputs, cwd);
  let spec: JobSpec | undefined;
  if (inputs.mode === 'submit' || inputs.mode === 'prepare') {
    try {
      const st = await fsp.stat(v.jobFile!);
      if (!st.isFile()) throw new Error();
    } catch {
      throw new InputError(
        'jobFile',
        `'${inputs.jobFile}' was not found${v.jobFile === inputs.jobFile ? '' : ` (looked for ${v.jobFile})`}`,
      );
    }
    spec = parseSpec(v.jobFile!, inputs);
    for (const w of spec.warnings) log.warning(w);
    if (inputs.experimentName?.trim()) spec.experimentName = inputs.experimentName.trim();
    if (inputs.displayName?.trim()) spec.displayName = inputs.displayName.trim();
    spec.tags = { ...lineageTags(deps.context), ...(spec.tags ?? {}), ...(inputs.tags ?? {}) };
  }

  // 2. reads: workspace, references (compute, assets), local files hashed — nothing written
  await ops.checkWorkspace();
  let name: string;
  let job: JobResource | undefined;
  let submitted = false,
    reused = false;
  if (spec) {
    const resolver = ops.newResolver();
    log.info(`Checking ${path.basename(v.jobFile!)} (${spec.type} job): compute, environments, assets, local files…`);
    const built = await buildJobBody(spec, resolver);
    for (const w of built.warnings) if (!spec.warnings.includes(w)) log.warning(w);
    name = v.jobName ?? spec.name ?? defaultJobName(deps.context, built.body);
    const existing = (await ops.readJob(name)).job;
    if (existing) {
      const diff = definitionDifferences(built.body.properties, existing.properties, wsPath(ops.ws));
      if (diff.length) {
        throw new InputError(
          'jobName',
          `job '${name}' already exists in workspace '${ops.ws.workspace}' with a different definition (${diff.join(', ')} differ); choose another job name`,
        );
      }
      const st = existing.properties.status ?? 'Unknown';
      log.info(
        `Job ${name} already exists with the same definition (status ${st}): not submitting it again${inputs.mode === 'prepare' ? '' : inputs.wait ? '; waiting for it' : ''}.`,
      );
      // a rerun of a prepare step: output status tells the agentless job what is left to do (no jobDefinition output)
      if (inputs.mode === 'prepare' && st === 'Completed')
        log.info(
          `Job ${name} has completed: nothing to create or wait for (output status Completed); skip AzureMLJobWait@1 with a condition on this status.`,
        );
      else if (inputs.mode === 'prepare' && !TERMINAL_STATUSES.has(st))
        log.warning(
          `Job ${name} already exists (status ${st}): AzureMLJobWait@1 in mode PUT cannot create it again; wait for it with mode PATCH, or give this step another jobName`,
        );
      job = existing;
      reused = true;
    } else if (inputs.mode === 'prepare') {
      // 3'. writes: uploads and asset versions only; AzureMLJobWait@1 (mode PUT) creates the job with its webhook
      await resolver.commit((what, i, n) => {
        log.debug(`(${i + 1}/${n}) ${what}`);
        deps.progress(Math.round((i / Math.max(1, n)) * 5), what);
      });
      const jobDefinition = encodeJobDefinition(built.body.properties);
      const link = studioUrl(ops.ws, 'job', name);
      log.info(
        `Prepared ${spec.type} job ${name} (experiment ${spec.experimentName}; ${jobDefinition.length} characters in output jobDefinition): AzureMLJobWait@1 in mode PUT creates it.`,
      );
      log.info(`Studio (once created): ${link}`);
      return {
        jobName: name,
        status: 'Prepared',
        studioUrl: link,
        submitted: false,
        reused: false,
        waited: false,
        metrics: {},
        params: {},
        jobType: String(built.body.properties.jobType ?? spec.type),
        experimentName: spec.experimentName,
        polls: 0,
        jobDefinition,
      };
    } else {
      // 3. writes: uploads, code/environment/component versions, then the job
      await resolver.commit((what, i, n) => {
        log.debug(`(${i + 1}/${n}) ${what}`);
        deps.progress(Math.round((i / Math.max(1, n)) * 5), what);
      });
      job = await ops.createJob(name, built.body);
      submitted = true;
      log.info(`Submitted ${spec.type} job ${name} (experiment ${spec.experimentName}).`);
    }
  } else {
    name = v.jobName!;
    job = (await ops.readJob(name)).job;
    if (!job) throw new InputError('jobName', `job '${name}' was not found in workspace '${ops.ws.workspace}'`);
    log.info(`Waiting for existing job ${name} (status ${job.properties.status}).`);
  }
  const link = job.properties.services?.Studio?.endpoint || studioUrl(ops.ws, 'job', name);
  log.info(`Studio: ${link}`);

  const result: JobResult = {
    jobName: name,
    status: job.properties.status ?? 'Unknown',
    studioUrl: link,
    submitted,
    reused,
    waited: false,
    metrics: {},
    params: {},
    jobType: job.properties.jobType,
    displayName: job.properties.displayName ?? undefined,
    experimentName: job.properties.experimentName ?? undefined,
    polls: 0,
  };
  if (inputs.mode === 'prepare') {
    // an existing job that ended without success: nothing downstream can use it, and prepare never resubmits
    if (TERMINAL_STATUSES.has(result.status) && result.status !== 'Completed')
      result.failure = `Azure ML job ${name} already exists and ended ${result.status}: mode prepare does not submit it again; give this step another jobName to train again`;
    return result;
  }
  if (!inputs.wait) return result;

  // 4. wait
  const out = await waitForJob(name, {
    ops,
    log,
    progress: deps.progress,
    signal: deps.signal,
    clock,
    streamLogs: inputs.streamLogs,
    timeoutMs: inputs.timeoutMinutes * 60_000,
    cancelOnCancel: inputs.cancelOnCancel,
    initial: job,
  });
  log.debug(`Job ${name}: ${out.polls} status read(s) while waiting`);
  result.waited = true;
  result.status = out.status;
  result.polls = out.polls;
  job = out.job;
  if (out.cancelled) {
    result.failure = `Cancelled Azure ML job ${name} (${out.cancelled.reason})${out.cancelled.confirmed ? '' : `: cancellation requested (job status ${out.cancelled.status ?? 'unknown'})`}`;
    result.durationMs = clock.now() - started;
    return result;
  }
  const details = await ops.runDetails(job).catch((e) => {
    log.debug(`run history: ${(e as Error).message}`);
    return undefined;
  });
  if (details?.startTimeUtc && details.endTimeUtc)
    result.durationMs = Date.parse(details.endTimeUtc) - Date.parse(details.startTimeUtc);
  else result.durationMs = clock.now() - started;
  try {
    let s = await ops.runSummary(job);
    const best = s?.tags?.best_child_run_id;
    if (s && !Object.keys(s.metrics).length && best) {
      const child = await ops.runSummary({ ...job, name: best });
      if (child) {
        log.info(`Metrics of the best trial ${best}.`);
        s = { ...child, params: { ...s.params, ...child.params } };
      }
    }
    if (s) {
      result.metrics = s.metrics;
      result.params = s.params;
    }
  } catch (e) {
    if (deps.signal?.aborted) throw e;
    log.warning(`Could not read the job's metrics: ${(e as Error).message}`);
  }
  if (out.status === 'Completed') {
    log.info(`Job ${name} completed.`);
    return result;
  }
  if (out.status === 'Failed') {
    result.error = details?.error?.message
      ? `${details.error.code ? `${details.error.code}: ` : ''}${details.error.message}`
      : undefined;
    let tail = out.lastLines;
    if (!inputs.streamLogs || !tail.length)
      tail = await ops
        .logReader(name)
        .tail(30)
        .catch(() => []);
    result.logTail = tail;
    if (!inputs.streamLogs && tail.length) {
      log.info(`Last ${tail.length} line(s) of the job's log:`);
      for (const l of tail) log.info(neutralizeLogLine(l));
    }
    if (result.error) log.info(`Error: ${result.error}`);
    result.failure = `Azure ML job ${name} failed${result.error ? `: ${result.error.split('\n')[0]}` : ''}`;
    return result;
  }
  result.failure = `Azure ML job ${name} ended with status ${out.status}`;
  return result;
}

// ---------------------------------------------------------------------------------------------- summary

/** Output variable name for a metric: `metric.<name>` with characters a variable name cannot hold replaced by '_'. */
export function metricVariable(name: string): string {
  return `metric.${name.replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

function fmtDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function jobSummary(r: JobResult, ws: WorkspaceRef): string {
  const esc = mdCell;
  const icon =
    r.status === 'Completed'
      ? '✅'
      : r.status === 'Failed'
        ? '❌'
        : r.status === 'Canceled' || r.status === 'CancelRequested'
          ? '⛔'
          : 'ℹ️';
  const lines = [
    `### ${icon} Azure ML job ${esc(r.jobName)}: ${esc(r.status)}`,
    '',
    '| | |',
    '|---|---|',
    `| Job | [${esc(r.jobName)}](${r.studioUrl}) |`,
    `| Status | ${esc(r.status)} |`,
  ];
  if (r.jobType) lines.push(`| Type | ${esc(r.jobType)} |`);
  if (r.experimentName) lines.push(`| Experiment | ${esc(r.experimentName)} |`);
  if (r.durationMs !== undefined && r.waited) lines.push(`| Duration | ${fmtDuration(r.durationMs)} |`);
  lines.push(
    `| Workspace | [${esc(ws.workspace)}](${studioUrl(ws, 'workspace')}) (resource group ${esc(ws.resourceGroup)}) |`,
  );
  if (r.reused) lines.push('| Submission | existing job with the same definition (not submitted again) |');
  if (r.failure) lines.push(`| Result | ${esc(r.failure)} |`);
  const metrics = Object.entries(r.metrics);
  if (metrics.length) {
    lines.push('', '#### Metrics', '', '| Metric | Value |', '|---|---:|');
    for (const [k, val] of metrics.sort(([a], [b]) => a.localeCompare(b)))
      lines.push(`| ${esc(k)} | ${Number.isInteger(val) ? val : Number(val.toPrecision(6))} |`);
  }
  const params = Object.entries(r.params);
  if (params.length) {
    lines.push('', '#### Parameters', '', '| Parameter | Value |', '|---|---|');
    for (const [k, val] of params.sort(([a], [b]) => a.localeCompare(b)))
      lines.push(`| ${esc(k)} | ${esc(val.length > 200 ? val.slice(0, 199) + '…' : val)} |`);
  }
  if (r.error || r.logTail?.length) {
    lines.push('', '#### Error', '');
    if (r.error) lines.push(esc(r.error), '');
    if (r.logTail?.length) lines.push('```', ...r.logTail.map((l) => l.replace(/```/g, "'''")), '```');
  }
  return lines.join('\n') + '\n';
}
