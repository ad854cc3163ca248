// Local job runner of Azure-in-a-box: really executes Azure ML jobs stored by arm/jobs.ts on this machine.
//
// What is executed (and what is not):
// - Command job: a working folder is made from the code snapshot (the code version's codeUri, downloaded from
//   Azurite), inputs are materialised (blobs downloaded into folders; literals as text; `mode: direct` passes the
//   URI itself), `${{inputs.x}}` / `${{outputs.y}}` / `$[[optional]]` are substituted, and the command runs with
//   `bash -c` (cwd = code folder, its own process group) on this machine: the job's `environment` (image/conda) is
//   NOT built — the host's tools (python3 …) are used; `distribution`, `resources` and the compute are not simulated.
//   stdout+stderr go to the append blob ExperimentRun/dcid.<job>/user_logs/std_log.txt in the workspace's artifact
//   container as they arrive (flushed every `timing.logFlushMs`). After exit 0 the output folders are uploaded to
//   their URIs (default azureml://datastores/workspaceblobstore/paths/azureml/<job>/<output>/).
// - Sweep job: min(limits.maxTotalTrials, MAX_SWEEP_TRIALS) parameter sets are sampled from the search space (grid:
//   the first combinations in order; random/bayesian: seeded random draws), each run as a child command job
//   `<sweep>_<i>` (stored, with its own MLflow run and log), at most min(maxConcurrentTrials, 2) at a time. The best
//   trial by objective.primaryMetric (its latest MLflow value, goal maximize/minimize) is recorded as the sweep's
//   property and MLflow tag `best_child_run_id`; the best trial's outputs are copied to the sweep's outputs. The sweep
//   is Completed when at least one trial completed, Failed when none did. No early termination.
// - Pipeline job: every step of `jobs` whose type is command (inline `command` or `componentId` → the component
//   version's componentSpec) runs as a child command job `<pipeline>_<step>` in topological order of the
//   `${{parent.jobs.<s>.outputs.<o>}}` bindings; `${{parent.inputs.x}}` and `${{parent.outputs.x}}` are resolved.
//   A step of type pipeline (a pipeline component) is replaced by its own steps (flattenPipelineSteps).
//   A step of type spark runs the Spark stand-in (sparkStandIn: no Spark here; its entry is NOT executed), a step of
//   type sweep runs as a sweep job (runSweepStep: its trial component's command, trials as children).
//   The first failing step fails the pipeline and the steps not yet run are Canceled. Steps of other types
//   (parallel, automl …) are not executed: the pipeline fails, naming them.
// - Spark job: the same stand-in (sparkStandIn documents what the real service does and the ASSUMPTIONs).
// Status progression (a sweep parent: Running from its PUT on, then Completed | Failed): Starting (what the PUT answers, arm/jobs.ts) → Queued → Preparing → Running → Finalizing → Completed | Failed; cancel:
// CancelRequested → Canceled (the process group gets SIGTERM, then SIGKILL after timing.killGraceMs).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { BlobServiceClient } from '@azure/storage-blob';
import type { Store } from './store';
import type { MlflowStore } from './mlflow';
import { seededRandom } from './http';
import { AUTOML_DATA, BEST_MODEL, metricName, runAutoMLTrial } from './automlTrial';

export const MAX_SWEEP_TRIALS = 6;
export const MAX_SWEEP_CONCURRENCY = 2;

export interface JobTiming {
  /** Starting → Queued */ queueMs: number;
  /** Queued → Preparing */ prepareMs: number;
  /** minimum time spent in Preparing (materialising takes what it takes) */ preparingMinMs: number;
  /** minimum time spent in Finalizing */ finalizeMs: number;
  /** log blob flush period */ logFlushMs: number;
  /** SIGTERM → SIGKILL */ killGraceMs: number;
}
export const FAST_TIMING: JobTiming = {
  queueMs: 20,
  prepareMs: 20,
  preparingMinMs: 0,
  finalizeMs: 0,
  logFlushMs: 100,
  killGraceMs: 1000,
};
export const DEFAULT_TIMING: JobTiming = {
  queueMs: 500,
  prepareMs: 500,
  preparingMinMs: 500,
  finalizeMs: 300,
  logFlushMs: 500,
  killGraceMs: 3000,
};

export const TERMINAL = new Set(['Completed', 'Failed', 'Canceled', 'NotResponding', 'Paused']);
export const JOBS_KIND = 'jobs';

/** what the runner needs from the box (wired by arm/jobs.ts) */
export interface RunnerDeps {
  store: Store;
  blob: BlobServiceClient;
  /** container of a datastore of the workspace (undefined: unknown datastore) */
  datastoreContainer(wsId: string, datastore: string): string | undefined;
  /** container holding ExperimentRun/dcid.<job>/… (the workspace's artifact store) */
  artifactContainer(wsId: string): string;
  /** https tracking URI the job's processes get as MLFLOW_TRACKING_URI */
  trackingUri(wsId: string): string;
  caCertPath: string;
  workRoot: string;
  timing: JobTiming;
  mlflow: MlflowStore;
  /** look an asset version up: type 'models' | 'data' | 'codes' | 'components' | 'environments'; version 'latest' allowed */
  assetVersion(
    wsId: string,
    type: string,
    name: string,
    version: string,
  ): { id: string; properties: Record<string, any> } | undefined;
  /** bearer token the job's processes get as MLFLOW_TRACKING_TOKEN (must be accepted by the MLflow routes) */
  jobToken(jobId: string): string;
  /** look a version up by its ARM id */
  assetById(armId: string): { id: string; properties: Record<string, any> } | undefined;
  log?(msg: string): void;
  /** called after every status change, with the stored job (arm/jobs.ts: notification webhooks on a terminal status) */
  onStatus?(job: JobResource, status: string): void;
}

export interface JobResource {
  id: string;
  name: string;
  type: string;
  properties: Record<string, any>;
  systemData?: Record<string, any>;
}

/** a command to run (a command job, a sweep trial or a pipeline step) */
interface CommandSpec {
  command: string;
  codeId?: string | null;
  inputs: Record<string, any>;
  outputs: Record<string, any>;
  environmentVariables: Record<string, string>;
  searchSpace?: Record<string, string | number>;
}

class Canceled extends Error {
  constructor() {
    super('canceled');
  }
}
class JobFailure extends Error {}

interface Handle {
  timedOut?: number;
  canceled: boolean;
  children: Set<ChildProcess>;
  childJobs: Set<string>;
  onCancel: Array<() => void>;
}

// ---------------------------------------------------------------- ids and small helpers
export function wsIdOf(jobId: string): string {
  const m =
    /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.MachineLearningServices\/workspaces\/[^/]+)/i.exec(
      jobId,
    );
  if (!m) throw new Error(`not a workspace resource id: ${jobId}`);
  return m[1];
}
function wsParts(wsId: string): { sub: string; rg: string; ws: string } {
  const m =
    /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)/i.exec(
      wsId,
    )!;
  return { sub: m[1], rg: m[2], ws: m[3] };
}
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const nowIso = () => new Date().toISOString();
export const inputType = (i: any): string =>
  String(i?.jobInputType ?? i?.job_input_type ?? i?.type ?? '').toLowerCase();
export const outputType = (o: any): string =>
  String(o?.jobOutputType ?? o?.job_output_type ?? o?.type ?? 'uri_folder').toLowerCase();
const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');

/** log blob path (inside the artifact container) */
export function logBlobName(jobName: string): string {
  return `ExperimentRun/dcid.${jobName}/user_logs/std_log.txt`;
}
/** default output location */
export function defaultOutputUri(jobName: string, output: string): string {
  return `azureml://datastores/workspaceblobstore/paths/azureml/${jobName}/${output}/`;
}

// ---------------------------------------------------------------- URIs → blobs
export interface BlobLocation {
  container: string;
  path: string;
}

/**
 * Resolve a data/model/code URI to a blob location in Azurite. Accepts
 * azureml://datastores/<ds>/paths/<p>, azureml://subscriptions/…/workspaces/<w>/datastores/<ds>/paths/<p>,
 * azureml://jobs/<job>/outputs/<o>[/paths/<p>], azureml:<name>:<version> / azureml:<name>@latest (models and data),
 * ARM ids of model/data/code versions (with or without an `azureml:` prefix), and http(s)/wasbs blob URLs
 * (path-style Azurite URLs and <account>.blob.<suffix> URLs: the container is taken, the account is Azurite's).
 */
export function resolveUri(deps: RunnerDeps, wsId: string, uri: string, depth = 0): BlobLocation {
  if (depth > 4) throw new JobFailure(`URI ${uri} refers to itself`);
  let m: RegExpExecArray | null;
  const u = uri.trim();
  if (
    (m =
      /^azureml:\/\/(?:subscriptions\/[^/]+\/resource[gG]roups\/[^/]+\/(?:providers\/Microsoft\.MachineLearningServices\/)?workspaces\/[^/]+\/)?datastores\/([^/]+)\/paths\/?(.*)$/i.exec(
        u,
      ))
  ) {
    const container = deps.datastoreContainer(wsId, m[1]);
    if (!container) throw new JobFailure(`Datastore '${m[1]}' not found (URI ${uri}).`);
    return { container, path: decodeURIComponent(m[2]) };
  }
  if ((m = /^azureml:\/\/jobs\/([^/]+)\/outputs\/([^/]+)(?:\/paths\/?(.*))?$/i.exec(u))) {
    const job = deps.store.get<JobResource>(JOBS_KIND, `${wsId}/jobs/${m[1]}`);
    if (!job) throw new JobFailure(`Job '${m[1]}' not found (URI ${uri}).`);
    const out = job.properties.outputs?.[m[2]];
    const base = out?.uri ?? (m[2] === 'default' ? undefined : defaultOutputUri(m[1], m[2]));
    if (!base) throw new JobFailure(`Job '${m[1]}' has no output '${m[2]}'.`);
    const loc = resolveUri(deps, wsId, base, depth + 1);
    return m[3] ? { container: loc.container, path: joinBlob(loc.path, m[3]) } : loc;
  }
  if ((m = /^(?:azureml:)?(\/subscriptions\/.+\/(?:models|data|codes)\/[^/]+\/versions\/[^/]+)$/i.exec(u))) {
    const v = deps.assetById(m[1]);
    if (!v) throw new JobFailure(`Asset ${m[1]} not found.`);
    return resolveUri(deps, wsId, assetUri(v.properties, m[1]), depth + 1);
  }
  if ((m = /^azureml:([^/:@]+)(?::([^/:@]+)|@([^/:@]+))?$/i.exec(u))) {
    const name = m[1];
    const version = m[2] ?? (m[3] ? m[3] : 'latest');
    const v = deps.assetVersion(wsId, 'models', name, version) ?? deps.assetVersion(wsId, 'data', name, version);
    if (!v) throw new JobFailure(`Asset '${name}' version '${version}' not found (neither a model nor a data asset).`);
    return resolveUri(deps, wsId, assetUri(v.properties, v.id), depth + 1);
  }
  if ((m = /^wasbs?:\/\/([^@]+)@[^/]+\/?(.*)$/i.exec(u))) return { container: m[1], path: decodeURIComponent(m[2]) };
  if (/^https?:\/\//i.test(u)) {
    const url = new URL(u);
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const pathStyle = /^(127\.0\.0\.1|localhost|\[::1\])$/i.test(url.hostname);
    if (pathStyle) parts.shift(); // account
    const container = parts.shift();
    if (!container) throw new JobFailure(`URL ${uri} names no container.`);
    return { container, path: parts.join('/') + (url.pathname.endsWith('/') && parts.length ? '/' : '') };
  }
  throw new JobFailure(`Unsupported URI '${uri}'.`);
}
function assetUri(p: Record<string, any>, id: string): string {
  const u = p.modelUri ?? p.dataUri ?? p.codeUri;
  if (!u) throw new JobFailure(`Asset ${id} has no URI.`);
  return u;
}
function joinBlob(a: string, b: string): string {
  return `${a.replace(/\/+$/, '')}/${b.replace(/^\/+/, '')}`;
}

/** Download a blob or every blob under a prefix into dir. Returns 'file' + its local path, or 'folder'. */
export async function downloadTo(
  deps: RunnerDeps,
  loc: BlobLocation,
  dir: string,
): Promise<{ kind: 'file' | 'folder'; path: string; files: number }> {
  const cc = deps.blob.getContainerClient(loc.container);
  fs.mkdirSync(dir, { recursive: true });
  const p = loc.path.replace(/^\/+/, '');
  const exact = p && !p.endsWith('/') ? cc.getBlobClient(p) : undefined;
  if (exact && (await exact.exists())) {
    const local = path.join(dir, path.posix.basename(p));
    await exact.downloadToFile(local);
    return { kind: 'file', path: local, files: 1 };
  }
  const prefix = p && !p.endsWith('/') ? p + '/' : p;
  let n = 0;
  for await (const b of cc.listBlobsFlat({ prefix })) {
    const rel = b.name.slice(prefix.length);
    if (!rel || rel.endsWith('/')) continue;
    const local = path.join(dir, ...rel.split('/'));
    if (!path.resolve(local).startsWith(path.resolve(dir) + path.sep)) continue;
    fs.mkdirSync(path.dirname(local), { recursive: true });
    await cc.getBlobClient(b.name).downloadToFile(local);
    n++;
  }
  if (!n) throw new JobFailure(`Nothing found at container '${loc.container}' path '${p}'.`);
  return { kind: 'folder', path: dir, files: n };
}

function walk(dir: string): string[] {
  const out: string[] = [];
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const f = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(f));
    else if (e.isFile()) out.push(f);
  }
  return out;
}

/** Upload a local folder (or a file) to a blob location. */
export async function uploadFrom(deps: RunnerDeps, local: string, loc: BlobLocation, asFile: boolean): Promise<number> {
  const cc = deps.blob.getContainerClient(loc.container);
  await cc.createIfNotExists();
  if (asFile) {
    if (!fs.existsSync(local)) return 0;
    await cc.getBlockBlobClient(loc.path.replace(/^\/+/, '')).uploadFile(local);
    return 1;
  }
  const prefix = loc.path.replace(/^\/+/, '').replace(/\/*$/, '/').replace(/^\/$/, '');
  let n = 0;
  for (const f of walk(local)) {
    const rel = path.relative(local, f).split(path.sep).join('/');
    await cc.getBlockBlobClient(prefix + rel).uploadFile(f);
    n++;
  }
  return n;
}

// ---------------------------------------------------------------- command substitution
/** `${{inputs.x}}`, `${{outputs.y}}`, `${{search_space.z}}`; `$[[ … ]]` blocks vanish when an input inside is absent. */
export function substitute(
  command: string,
  values: {
    inputs: Record<string, string>;
    outputs: Record<string, string>;
    searchSpace?: Record<string, string | number>;
  },
): string {
  const lookup = (kind: string, name: string): string | undefined => {
    if (kind === 'inputs') return values.inputs[name];
    if (kind === 'outputs') return values.outputs[name];
    if (kind === 'search_space') {
      const v = values.searchSpace?.[name];
      return v === undefined ? undefined : String(v);
    }
    return undefined;
  };
  const expr = /\$\{\{\s*(inputs|outputs|search_space)\.([A-Za-z0-9_]+)\s*\}\}/g;
  let out = command.replace(/\$\[\[([\s\S]*?)\]\]/g, (_all, inner: string) => {
    for (const m of inner.matchAll(expr)) if (lookup(m[1], m[2]) === undefined) return '';
    return inner;
  });
  out = out.replace(expr, (_all, kind: string, name: string) => {
    const v = lookup(kind, name);
    if (v === undefined) throw new JobFailure(`The command refers to ${kind}.${name}, which the job does not define.`);
    return v;
  });
  return out;
}

/** names the command needs (outside optional blocks) that the inputs do not have */
export function missingCommandInputs(command: string, inputs: Record<string, unknown> | undefined): string[] {
  const required = command.replace(/\$\[\[[\s\S]*?\]\]/g, '');
  const missing: string[] = [];
  for (const m of required.matchAll(/\$\{\{\s*inputs\.([A-Za-z0-9_]+)\s*\}\}/g))
    if (!inputs || inputs[m[1]] == null) missing.push(m[1]);
  return [...new Set(missing)];
}

// ---------------------------------------------------------------- sweep sampling

interface Dist {
  type: string;
  values?: unknown[];
  args: number[];
}
/** parse one search-space entry: REST/SDK dict form {type:'choice', values}/{type:'uniform', min_value, max_value}… or hyperdrive form ['choice', [[…]]] */
export function parseDistribution(name: string, spec: any): Dist {
  if (Array.isArray(spec)) {
    const type = String(spec[0]).toLowerCase();
    const args = spec[1];
    if (type === 'choice') return { type, values: Array.isArray(args?.[0]) ? args[0] : args, args: [] };
    return { type, args: (args ?? []).map(Number) };
  }
  if (spec && typeof spec === 'object') {
    const type = String(spec.type ?? '').toLowerCase();
    if (type === 'choice') return { type, values: spec.values ?? [], args: [] };
    if (type === 'randint') return { type, args: [Number(spec.upper)] };
    if (type === 'uniform' || type === 'loguniform')
      return { type, args: [Number(spec.min_value ?? spec.minValue), Number(spec.max_value ?? spec.maxValue)] };
    if (type === 'quniform' || type === 'qloguniform')
      return {
        type,
        args: [Number(spec.min_value ?? spec.minValue), Number(spec.max_value ?? spec.maxValue), Number(spec.q)],
      };
    if (type === 'normal' || type === 'lognormal') return { type, args: [Number(spec.mu), Number(spec.sigma)] };
    if (type === 'qnormal' || type === 'qlognormal')
      return { type, args: [Number(spec.mu), Number(spec.sigma), Number(spec.q)] };
  }
  throw new JobFailure(`Search space parameter '${name}' has an unsupported distribution: ${JSON.stringify(spec)}`);
}

function draw(d: Dist, r: () => number): string | number {
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const [a, b, q] = d.args;
  const round = (x: number, step: number) => Math.round(x / step) * step;
  switch (d.type) {
    case 'choice':
      return d.values![Math.floor(r() * d.values!.length)] as string | number;
    case 'randint':
      return Math.floor(r() * a);
    case 'uniform':
      return a + (b - a) * r();
    case 'loguniform':
      return Math.exp(a + (b - a) * r());
    case 'quniform':
      return round(a + (b - a) * r(), q);
    case 'qloguniform':
      return round(Math.exp(a + (b - a) * r()), q);
    case 'normal':
      return a + b * gauss();
    case 'lognormal':
      return Math.exp(a + b * gauss());
    case 'qnormal':
      return round(a + b * gauss(), q);
    case 'qlognormal':
      return round(Math.exp(a + b * gauss()), q);
    default:
      throw new JobFailure(`unsupported distribution ${d.type}`);
  }
}

/** n parameter sets: grid = the first n combinations (choices only), otherwise seeded random draws */
export function sampleSearchSpace(
  space: Record<string, any>,
  algorithm: any,
  n: number,
): Array<Record<string, string | number>> {
  const dists = Object.entries(space ?? {}).map(([k, v]) => [k, parseDistribution(k, v)] as const);
  const algo = String(algorithm?.samplingAlgorithmType ?? algorithm?.type ?? 'Random').toLowerCase();
  if (algo === 'grid') {
    const out: Array<Record<string, string | number>> = [{}];
    for (const [k, d] of dists) {
      if (d.type !== 'choice')
        throw new JobFailure(`Grid sampling supports only choice parameters; '${k}' is ${d.type}.`);
      const next: Array<Record<string, string | number>> = [];
      for (const partial of out) for (const v of d.values!) next.push({ ...partial, [k]: v as string | number });
      out.splice(0, out.length, ...next);
    }
    return out.slice(0, n);
  }
  const r = seededRandom(Number(algorithm?.seed ?? 42));
  return Array.from({ length: n }, () => Object.fromEntries(dists.map(([k, d]) => [k, draw(d, r)])));
}

// ---------------------------------------------------------------- log writer
class LogBlob {
  private buf: Buffer[] = [];
  private timer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();
  private created = false;
  readonly local: string;
  constructor(
    private deps: RunnerDeps,
    private container: string,
    private name: string,
    localFile: string,
  ) {
    this.local = localFile;
    fs.mkdirSync(path.dirname(localFile), { recursive: true });
    fs.writeFileSync(localFile, '');
  }
  write(chunk: Buffer | string): void {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    fs.appendFileSync(this.local, b);
    this.buf.push(b);
    if (!this.timer)
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.deps.timing.logFlushMs);
  }
  flush(): Promise<void> {
    const data = Buffer.concat(this.buf);
    this.buf = [];
    this.chain = this.chain
      .then(async () => {
        const cc = this.deps.blob.getContainerClient(this.container);
        const ab = cc.getAppendBlobClient(this.name);
        if (!this.created) {
          await cc.createIfNotExists();
          await ab.createIfNotExists();
          this.created = true;
        }
        for (let i = 0; i < data.length; i += 4 * 1024 * 1024) {
          const part = data.subarray(i, i + 4 * 1024 * 1024);
          await ab.appendBlock(part, part.length);
        }
      })
      .catch((e) => {
        this.deps.log?.(`log upload failed for ${this.name}: ${(e as Error).message}`);
      });
    return this.chain;
  }
  async close(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.flush();
  }
  tail(lines: number): string {
    const text = fs.readFileSync(this.local, 'utf8').replace(/\s+$/, '');
    return text.split('\n').slice(-lines).join('\n');
  }
}

// ---------------------------------------------------------------- the runner
export class JobRunner {
  private handles = new Map<string, Handle>();
  constructor(private deps: RunnerDeps) {}

  /** jobs that were running when the box stopped cannot resume: mark them Failed */
  recover(): void {
    for (const job of this.deps.store.list<JobResource>(JOBS_KIND)) {
      if (!TERMINAL.has(job.properties.status)) {
        this.setStatus(
          job.id,
          job.properties.status === 'CancelRequested' ? 'Canceled' : 'Failed',
          job.properties.status === 'CancelRequested'
            ? undefined
            : 'The job was interrupted: the emulator was restarted while it ran.',
        );
      }
    }
  }

  isActive(jobId: string): boolean {
    return this.handles.has(jobId.toLowerCase());
  }

  /** start driving a freshly stored job */
  start(jobId: string): void {
    const h: Handle = { canceled: false, children: new Set(), childJobs: new Set(), onCancel: [] };
    this.handles.set(jobId.toLowerCase(), h);
    void this.drive(jobId, h).finally(() => this.handles.delete(jobId.toLowerCase()));
  }

  /** request cancellation; resolves once the job reached a terminal state */
  async cancel(jobId: string): Promise<void> {
    const job = this.get(jobId);
    if (!job || TERMINAL.has(job.properties.status)) return;
    const h = this.handles.get(jobId.toLowerCase());
    if (!h) {
      this.setStatus(jobId, 'Canceled');
      return;
    }
    if (!h.canceled) {
      h.canceled = true;
      this.setStatus(jobId, 'CancelRequested');
      for (const c of h.children) this.kill(c);
      for (const child of h.childJobs) void this.cancel(child);
      for (const f of h.onCancel) f();
    }
    for (;;) {
      const cur = this.get(jobId);
      if (!cur || TERMINAL.has(cur.properties.status)) return;
      await sleep(50);
    }
  }

  /** cancel everything (box stop) */
  async stopAll(): Promise<void> {
    await Promise.all([...this.handles.keys()].map((id) => this.cancel(id).catch(() => undefined)));
  }

  get(jobId: string): JobResource | undefined {
    return this.deps.store.get<JobResource>(JOBS_KIND, jobId);
  }

  private setStatus(jobId: string, status: string, error?: string, extra?: (j: JobResource) => void): void {
    const job = this.get(jobId);
    if (!job) return;
    if (TERMINAL.has(job.properties.status)) return;
    job.properties.status = status;
    const hist = (job as any).emulator ?? ((job as any).emulator = {});
    hist.statusHistory = [...(hist.statusHistory ?? []), { status, time: nowIso() }];
    if (error) hist.error = { code: 'UserError', message: error };
    if (TERMINAL.has(status)) hist.endTime = nowIso();
    if (status === 'Running') hist.startTime = nowIso();
    if (job.systemData) {
      job.systemData.lastModifiedAt = nowIso();
    }
    extra?.(job);
    this.deps.store.put(JOBS_KIND, jobId, job);
    this.deps.log?.(`job ${job.name}: ${status}${error ? ` (${error})` : ''}`);
    const wsId = wsIdOf(jobId);
    if (status === 'Running') this.deps.mlflow.setRunStatus(wsId, job.name, 'RUNNING');
    if (status === 'Completed') this.deps.mlflow.setRunStatus(wsId, job.name, 'FINISHED');
    if (status === 'Failed') this.deps.mlflow.setRunStatus(wsId, job.name, 'FAILED');
    if (status === 'Canceled') this.deps.mlflow.setRunStatus(wsId, job.name, 'KILLED');
    this.deps.onStatus?.(job, status);
  }

  private kill(c: ChildProcess): void {
    if (c.exitCode !== null || c.signalCode !== null || !c.pid) return;
    try {
      process.kill(-c.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    setTimeout(() => {
      try {
        if (c.exitCode === null && c.signalCode === null) process.kill(-c.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, this.deps.timing.killGraceMs).unref();
  }

  private checkCancel(h: Handle): void {
    if (h.canceled) throw new Canceled();
  }

  private async drive(jobId: string, h: Handle): Promise<void> {
    const t = this.deps.timing;
    const job = this.get(jobId);
    if (!job) return;
    const wsId = wsIdOf(jobId);
    this.deps.mlflow.ensureJobRun(
      wsId,
      job.name,
      job.properties.experimentName ?? 'Default',
      job.properties.displayName ?? job.name,
      job.properties.tags ?? {},
    );
    try {
      const type = String(job.properties.jobType).toLowerCase();
      await sleep(t.queueMs);
      this.checkCancel(h);
      // a sweep (HyperDrive parent) is Running from its PUT on (arm/jobs.ts); its trials queue, not the parent
      if (type !== 'sweep') this.setStatus(jobId, 'Queued');
      await sleep(t.prepareMs);
      this.checkCancel(h);
      const limit = type === 'command' ? isoSeconds(job.properties.limits?.timeout) : undefined;
      if (limit) {
        const timer = setTimeout(() => {
          h.timedOut = limit;
          void this.cancel(jobId);
        }, limit * 1000);
        timer.unref();
        h.onCancel.push(() => {
          if (!h.timedOut) clearTimeout(timer);
        });
      }
      if (type === 'command') await this.runCommandJob(job, h, undefined);
      else if (type === 'sweep') await this.runSweep(job, h);
      else if (type === 'pipeline') await this.runPipeline(job, h);
      else if (type === 'automl') await this.runAutoML(job, h);
      else if (type === 'spark') await this.runCommandJob(job, h, sparkStandIn(job.properties, job.properties));
      else throw new JobFailure(`Job type ${job.properties.jobType} is not executed by the emulator.`);
      this.setStatus(jobId, 'Completed');
    } catch (e) {
      if (e instanceof Canceled || h.canceled)
        this.setStatus(
          jobId,
          'Canceled',
          h.timedOut
            ? `The job exceeded its time limit (limits.timeout = ${h.timedOut} s) and was canceled.`
            : undefined,
        );
      else
        this.setStatus(
          jobId,
          'Failed',
          e instanceof JobFailure ? e.message : `Emulator error: ${(e as Error)?.stack ?? e}`,
        );
    }
  }

  private commandSpec(p: Record<string, any>): CommandSpec {
    return {
      command: p.command,
      codeId: p.codeId,
      inputs: p.inputs ?? {},
      outputs: p.outputs ?? {},
      environmentVariables: p.environmentVariables ?? {},
    };
  }

  /** Preparing → Running → Finalizing of one command (job itself, trial or step). Throws JobFailure/Canceled. */
  private async runCommandJob(job: JobResource, h: Handle, spec: CommandSpec | undefined): Promise<void> {
    const t = this.deps.timing;
    const wsId = wsIdOf(job.id);
    const s = spec ?? this.commandSpec(job.properties);
    const prepStart = Date.now();
    this.setStatus(job.id, 'Preparing');
    const work = path.join(this.deps.workRoot, safe(wsParts(wsId).ws), safe(job.name));
    fs.rmSync(work, { recursive: true, force: true });
    const codeDir = path.join(work, 'code');
    fs.mkdirSync(codeDir, { recursive: true });
    const log = new LogBlob(
      this.deps,
      this.deps.artifactContainer(wsId),
      logBlobName(job.name),
      path.join(work, 'std_log.txt'),
    );
    try {
      // code snapshot
      if (s.codeId) {
        const code = this.codeUri(wsId, s.codeId);
        const got = await downloadTo(this.deps, resolveUri(this.deps, wsId, code), codeDir);
        if (got.kind === 'file') {
          /* single-file code: it is in codeDir already */
        }
      }
      this.checkCancel(h);
      // inputs
      const inputValues: Record<string, string> = {};
      for (const [name, inp] of Object.entries(s.inputs ?? {})) {
        if (inp == null) continue;
        const type = inputType(inp);
        if (type === 'literal') {
          inputValues[name] = String(inp.value ?? '');
          continue;
        }
        if (!inp.uri) throw new JobFailure(`Input '${name}' has no uri.`);
        const mode = String(inp.mode ?? '').toLowerCase();
        if (mode === 'direct') {
          inputValues[name] = String(inp.uri);
          continue;
        }
        const got = await downloadTo(
          this.deps,
          resolveUri(this.deps, wsId, String(inp.uri)),
          path.join(work, 'inputs', safe(name)),
        );
        inputValues[name] = type === 'uri_file' && got.kind === 'folder' ? firstFile(got.path) : got.path;
        this.checkCancel(h);
      }
      // outputs
      const outputValues: Record<string, string> = {};
      const outputDirs: Record<string, { local: string; file: boolean; uri: string }> = {};
      for (const [name, out] of Object.entries(s.outputs ?? {})) {
        if (name === 'default') continue;
        const type = outputType(out);
        const uri = String(out?.uri ?? defaultOutputUri(job.name, name));
        const dir = path.join(work, 'outputs', safe(name));
        fs.mkdirSync(dir, { recursive: true });
        const file = type === 'uri_file';
        const local = file ? path.join(dir, path.posix.basename(uri.replace(/\/+$/, '')) || name) : dir;
        outputValues[name] = local;
        outputDirs[name] = { local, file, uri };
      }
      const command = substitute(s.command, { inputs: inputValues, outputs: outputValues, searchSpace: s.searchSpace });
      const wait = t.preparingMinMs - (Date.now() - prepStart);
      if (wait > 0) await sleep(wait);
      this.checkCancel(h);

      // run
      this.setStatus(job.id, 'Running');
      const env = this.childEnv(job, wsId, s, inputValues, outputValues, path.join(work, 'tmp'));
      const code = await this.exec(command, codeDir, env, log, h);
      await log.flush();
      if (h.canceled) throw new Canceled();
      if (code !== 0) {
        const tail = log.tail(10);
        throw new JobFailure(
          `Execution failed. User process 'bash' exited with status code ${code}. Please check log file 'user_logs/std_log.txt' for error details. Error: ${tail || '(no output)'}`,
        );
      }
      // finalize
      const finStart = Date.now();
      this.setStatus(job.id, 'Finalizing');
      const resolvedOutputs: Record<string, string> = {};
      for (const [name, o] of Object.entries(outputDirs)) {
        await uploadFrom(this.deps, o.local, resolveUri(this.deps, wsId, o.uri), o.file);
        resolvedOutputs[name] = o.uri;
      }
      this.recordOutputs(job.id, resolvedOutputs);
      const fwait = t.finalizeMs - (Date.now() - finStart);
      if (fwait > 0) await sleep(fwait);
    } finally {
      await log.close();
    }
  }

  /** store the resolved URI of outputs that had none (and of `default`) on the job */
  private recordOutputs(jobId: string, uris: Record<string, string>): void {
    const job = this.get(jobId);
    if (!job) return;
    job.properties.outputs ??= {};
    for (const [name, uri] of Object.entries(uris)) {
      const o = job.properties.outputs[name];
      if (o && typeof o === 'object' && !o.uri) o.uri = uri;
    }
    this.deps.store.put(JOBS_KIND, jobId, job);
  }

  private codeUri(wsId: string, codeId: string): string {
    const id = codeId.replace(/^azureml:/i, '');
    let v = id.startsWith('/') ? this.deps.assetById(id) : undefined;
    if (!v && !id.startsWith('/')) {
      const m = /^([^:@]+)(?::([^:@]+)|@(.+))?$/.exec(id);
      if (m) v = this.deps.assetVersion(wsId, 'codes', m[1], m[2] ?? m[3] ?? 'latest');
    }
    if (!v) throw new JobFailure(`Code asset ${codeId} not found.`);
    if (!v.properties.codeUri) throw new JobFailure(`Code asset ${codeId} has no codeUri.`);
    return String(v.properties.codeUri);
  }

  private childEnv(
    job: JobResource,
    wsId: string,
    s: CommandSpec,
    inputs: Record<string, string>,
    outputs: Record<string, string>,
    tmp: string,
  ): Record<string, string> {
    fs.mkdirSync(tmp, { recursive: true });
    const { sub, rg, ws } = wsParts(wsId);
    const exp = this.deps.mlflow.experimentIdOfRun(wsId, job.name) ?? '';
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: process.env.HOME ?? tmp,
      LANG: process.env.LANG ?? 'C.UTF-8',
      TMPDIR: tmp,
      AZUREML_RUN_ID: job.name,
      AZUREML_ARM_SUBSCRIPTION: sub,
      AZUREML_ARM_RESOURCEGROUP: rg,
      AZUREML_ARM_WORKSPACE_NAME: ws,
      AZUREML_ARM_PROJECT_NAME: job.properties.experimentName ?? 'Default',
      MLFLOW_TRACKING_URI: this.deps.trackingUri(wsId),
      MLFLOW_RUN_ID: job.name,
      MLFLOW_EXPERIMENT_ID: exp,
      MLFLOW_EXPERIMENT_NAME: job.properties.experimentName ?? 'Default',
      MLFLOW_TRACKING_TOKEN: this.deps.jobToken(job.id),
      SSL_CERT_FILE: this.deps.caCertPath,
      REQUESTS_CA_BUNDLE: this.deps.caCertPath,
      CURL_CA_BUNDLE: this.deps.caCertPath,
      NODE_EXTRA_CA_CERTS: this.deps.caCertPath,
    };
    if (process.env.PYENV_ROOT) env.PYENV_ROOT = process.env.PYENV_ROOT;
    for (const [k, v] of Object.entries(inputs)) env[`AZURE_ML_INPUT_${k}`] = v;
    for (const [k, v] of Object.entries(outputs)) env[`AZURE_ML_OUTPUT_${k}`] = v;
    for (const [k, v] of Object.entries(s.environmentVariables ?? {})) if (v != null) env[k] = String(v);
    return env;
  }

  private exec(
    command: string,
    cwd: string,
    env: Record<string, string>,
    log: LogBlob,
    h: Handle,
  ): Promise<number | null> {
    return new Promise((resolve) => {
      const child = spawn('bash', ['-c', command], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      h.children.add(child);
      child.stdout!.on('data', (d: Buffer) => log.write(d));
      child.stderr!.on('data', (d: Buffer) => log.write(d));
      child.on('error', (e) => {
        log.write(`failed to start bash: ${e.message}\n`);
      });
      child.on('close', (code, signal) => {
        h.children.delete(child);
        resolve(
          code ??
            (signal ? 128 + (({ SIGTERM: 15, SIGKILL: 9, SIGINT: 2 } as Record<string, number>)[signal] ?? 1) : null),
        );
      });
      if (h.canceled) this.kill(child);
    });
  }

  // ------------------------------------------------------------ children (trials, steps)
  private createChild(parent: JobResource, childName: string, props: Record<string, any>): JobResource {
    const wsId = wsIdOf(parent.id);
    const id = `${wsId}/jobs/${childName}`;
    const child: JobResource = {
      id,
      name: childName,
      type: parent.type,
      properties: {
        ...props,
        jobType: props.jobType ?? 'Command',
        experimentName: parent.properties.experimentName ?? 'Default',
        status: 'NotStarted',
        properties: { ...(props.properties ?? {}), 'azureml.parentRunId': parent.name },
        services: servicesFor(parent, childName),
      },
      systemData: { ...(parent.systemData ?? {}), createdAt: nowIso(), lastModifiedAt: nowIso() },
    };
    this.deps.store.put(JOBS_KIND, id, child);
    this.deps.mlflow.ensureJobRun(
      wsId,
      childName,
      child.properties.experimentName,
      props.displayName ?? childName,
      props.tags ?? {},
      parent.name,
    );
    return child;
  }

  private async runChild(
    h: Handle,
    child: JobResource,
    spec: CommandSpec,
    run: (child: JobResource, ch: Handle) => Promise<void> = (c, ch) => this.runCommandJob(c, ch, spec),
  ): Promise<'Completed' | 'Failed' | 'Canceled'> {
    const ch: Handle = { canceled: h.canceled, children: new Set(), childJobs: new Set(), onCancel: [] };
    this.handles.set(child.id.toLowerCase(), ch);
    h.childJobs.add(child.id);
    try {
      this.setStatus(child.id, 'Queued');
      await run(child, ch);
      this.setStatus(child.id, 'Completed');
      return 'Completed';
    } catch (e) {
      if (e instanceof Canceled || ch.canceled) {
        this.setStatus(child.id, 'Canceled');
        return 'Canceled';
      }
      this.setStatus(
        child.id,
        'Failed',
        e instanceof JobFailure ? e.message : `Emulator error: ${(e as Error)?.message ?? e}`,
      );
      return 'Failed';
    } finally {
      this.handles.delete(child.id.toLowerCase());
      h.childJobs.delete(child.id);
    }
  }

  private async runSweep(job: JobResource, h: Handle): Promise<void> {
    const p = job.properties;
    const wsId = wsIdOf(job.id);
    const limits = p.limits ?? {};
    const n = Math.max(1, Math.min(Number(limits.maxTotalTrials ?? MAX_SWEEP_TRIALS), MAX_SWEEP_TRIALS));
    const conc = Math.max(1, Math.min(Number(limits.maxConcurrentTrials ?? n), MAX_SWEEP_CONCURRENCY));
    const sets = sampleSearchSpace(p.searchSpace, p.samplingAlgorithm, n);
    if (this.get(job.id)?.properties.status !== 'Running') this.setStatus(job.id, 'Running');
    const trial = p.trial ?? {};
    const results: Array<{ name: string; status: string; metric?: number }> = [];
    let next = 0;
    const worker = async () => {
      while (next < sets.length && !h.canceled) {
        const i = next++;
        const name = `${job.name}_${i}`;
        const outputs = Object.fromEntries(
          Object.entries(p.outputs ?? {}).map(([k, o]) => [k, { ...(o as object), uri: defaultOutputUri(name, k) }]),
        );
        const props = {
          command: trial.command,
          codeId: trial.codeId,
          environmentId: trial.environmentId,
          environmentVariables: trial.environmentVariables,
          inputs: p.inputs ?? {},
          outputs,
          computeId: p.computeId,
          displayName: name,
          tags: { ...(p.tags ?? {}), hyperparameters: JSON.stringify(sets[i]) },
        };
        const child = this.createChild(job, name, props);
        this.deps.mlflow.logParams(wsId, name, sets[i]);
        const status = await this.runChild(h, child, {
          command: trial.command,
          codeId: trial.codeId,
          inputs: p.inputs ?? {},
          outputs,
          environmentVariables: trial.environmentVariables ?? {},
          searchSpace: sets[i],
        });
        const metric = this.deps.mlflow.latestMetric(wsId, name, p.objective?.primaryMetric);
        results.push({ name, status, metric });
      }
    };
    await Promise.all(Array.from({ length: conc }, worker));
    if (h.canceled) throw new Canceled();
    const done = results.filter((r) => r.status === 'Completed');
    if (!done.length)
      throw new JobFailure(
        `All ${results.length} trials failed. First failure: ${this.get(`${wsId}/jobs/${results[0]?.name}`)?.properties && (this.get(`${wsId}/jobs/${results[0].name}`) as any)?.emulator?.error?.message}`,
      );
    const maximize = String(p.objective?.goal ?? 'Maximize').toLowerCase() === 'maximize';
    const scored = done.filter((r) => typeof r.metric === 'number');
    const best = scored.sort((a, b) => (maximize ? b.metric! - a.metric! : a.metric! - b.metric!))[0] ?? done[0];
    this.setStatus(job.id, 'Finalizing', undefined, (j) => {
      j.properties.properties = {
        ...(j.properties.properties ?? {}),
        best_child_run_id: best.name,
        ...(best.metric !== undefined ? { score: String(best.metric) } : {}),
      };
    });
    this.deps.mlflow.setTag(wsId, job.name, 'best_child_run_id', best.name);
    // the sweep's outputs: the best trial's outputs
    const uris: Record<string, string> = {};
    for (const k of Object.keys(p.outputs ?? {})) {
      const target = String(p.outputs[k]?.uri ?? defaultOutputUri(job.name, k));
      await copyPrefix(
        this.deps,
        resolveUri(this.deps, wsId, defaultOutputUri(best.name, k)),
        resolveUri(this.deps, wsId, target),
      );
      uris[k] = target;
    }
    this.recordOutputs(job.id, uris);
  }

  // ------------------------------------------------------------ AutoML (stand-in: automlTrial.ts)
  /** a standalone AutoML job: its taskDetails' data, best_model (and its declared outputs) at their URIs */
  private async runAutoML(job: JobResource, h: Handle): Promise<void> {
    const p = job.properties;
    const t = p.taskDetails ?? {};
    this.setStatus(job.id, 'Running');
    const outputs: Record<string, string> = { [BEST_MODEL]: defaultOutputUri(job.name, BEST_MODEL) };
    for (const [k, o] of Object.entries<any>(p.outputs ?? {}))
      outputs[k] = String(o?.uri ?? defaultOutputUri(job.name, k));
    const data = Object.fromEntries(AUTOML_DATA.filter((k) => t[k]?.uri).map((k) => [k, String(t[k].uri)]));
    await this.runAutoMLTrials(job, h, { taskType: t.taskType, primaryMetric: t.primaryMetric, data, outputs });
    // ASSUMPTION (automlTrial.ts): the job lists its best_model output even when the YAML declared none
    this.setStatus(job.id, 'Finalizing', undefined, (j) => {
      j.properties.outputs = { [BEST_MODEL]: { jobOutputType: 'mlflow_model' }, ...(j.properties.outputs ?? {}) };
    });
    this.recordOutputs(job.id, outputs);
  }

  /**
   * The trials of an AutoML job (a standalone one, or an automl step's own job): one stand-in child `<job>_0`; the job
   * gets best_child_run_id / score (property and MLflow tag, metric) as the sweep parent does. Throws when it failed.
   */
  private async runAutoMLTrials(
    job: JobResource,
    h: Handle,
    spec: Parameters<typeof runAutoMLTrial>[4],
  ): Promise<void> {
    const wsId = wsIdOf(job.id);
    const child = this.createChild(job, `${job.name}_0`, {
      displayName: `${job.name}_0`,
      computeId: job.properties.computeId,
    });
    this.handles.set(child.id.toLowerCase(), {
      canceled: h.canceled,
      children: new Set(),
      childJobs: new Set(),
      onCancel: [],
    });
    h.childJobs.add(child.id);
    try {
      this.setStatus(child.id, 'Running');
      const work = path.join(this.deps.workRoot, safe(wsParts(wsId).ws), safe(child.name));
      const score = await runAutoMLTrial(this.deps, wsId, child.name, work, spec);
      if (h.canceled) throw new Canceled();
      const metric = { key: metricName(spec.primaryMetric), value: score, timestamp: Date.now(), step: 0 };
      this.deps.mlflow.logBatch(wsId, child.name, { metrics: [metric] });
      this.setStatus(child.id, 'Completed');
      const j = this.get(job.id);
      if (j) {
        j.properties.properties = {
          ...(j.properties.properties ?? {}),
          best_child_run_id: child.name,
          score: String(score),
        };
        this.deps.store.put(JOBS_KIND, j.id, j);
      }
      this.deps.mlflow.setTag(wsId, job.name, 'best_child_run_id', child.name);
      this.deps.mlflow.logBatch(wsId, job.name, { metrics: [metric] });
    } catch (e) {
      if (e instanceof Canceled || h.canceled) {
        this.setStatus(child.id, 'Canceled');
        throw new Canceled();
      }
      const msg = e instanceof Error ? e.message : String(e);
      this.setStatus(child.id, 'Failed', msg);
      throw new JobFailure(`The AutoML trial ${child.name} failed: ${msg}`);
    } finally {
      this.handles.delete(child.id.toLowerCase());
      h.childJobs.delete(child.id);
    }
  }

  private async runPipeline(job: JobResource, h: Handle): Promise<void> {
    const p = job.properties;
    const wsId = wsIdOf(job.id);
    const steps = flattenPipelineSteps(this.deps, wsId, p.jobs ?? {});
    const names = Object.keys(steps);
    const isAutoML = (n: string) => stepType(this.deps, wsId, steps[n]) === 'automl';
    const unsupported = names.filter((n) => !RUN_STEP_TYPES.has(stepType(this.deps, wsId, steps[n])));
    if (unsupported.length)
      throw new JobFailure(
        `The emulator runs only command, spark, sweep and automl steps; not executed: ${unsupported.map((n) => `${n} (${stepType(this.deps, wsId, steps[n])})`).join(', ')}.`,
      );
    // dependencies
    const deps = new Map<string, Set<string>>();
    for (const n of names) {
      const d = new Set<string>();
      // an automl step takes its data outside `inputs` (training_data, validation_data, test_data)
      const bound = { inputs: steps[n]?.inputs, ...automlData(steps[n]) };
      for (const m of JSON.stringify(bound).matchAll(
        /\$\{\{\s*parent\.jobs\.([A-Za-z0-9_]+)\.outputs\.[A-Za-z0-9_]+\s*\}\}/g,
      )) {
        if (!steps[m[1]]) throw new JobFailure(`Step '${n}' binds to unknown step '${m[1]}'.`);
        d.add(m[1]);
      }
      deps.set(n, d);
    }
    const order: string[] = [];
    const state = new Map<string, number>();
    const visit = (n: string, trail: string[]) => {
      if (state.get(n) === 2) return;
      if (state.get(n) === 1) throw new JobFailure(`Pipeline steps form a cycle: ${[...trail, n].join(' → ')}.`);
      state.set(n, 1);
      for (const d of deps.get(n)!) visit(d, [...trail, n]);
      state.set(n, 2);
      order.push(n);
    };
    for (const n of names) visit(n, []);

    this.setStatus(job.id, 'Preparing');
    this.setStatus(job.id, 'Running');
    const stepOutputs = new Map<string, Record<string, string>>(); // step → output → uri
    const children = new Map<string, JobResource>();
    const specs = new Map<string, CommandSpec>();
    for (const n of order) {
      if (isAutoML(n)) continue;
      const spec = this.stepSpec(job, n, steps[n]);
      specs.set(n, spec);
    }
    for (const n of order) {
      if (isAutoML(n)) {
        children.set(
          n,
          this.createChild(job, `${job.name}_${n}`, { ...this.stepProps(job, n, steps[n]), jobType: 'AutoML' }),
        );
        continue;
      }
      const sp = specs.get(n)!;
      children.set(
        n,
        this.createChild(job, `${job.name}_${n}`, {
          ...this.stepProps(job, n, steps[n]),
          command: sp.command,
          codeId: sp.codeId ?? undefined,
          environmentVariables: sp.environmentVariables,
        }),
      );
    }
    let failed: string | undefined;
    for (const n of order) {
      const child = children.get(n)!;
      if (failed || h.canceled) {
        this.setStatus(child.id, 'Canceled');
        continue;
      }
      if (isAutoML(n)) {
        const status = await this.runAutoMLStep(job, h, child, n, steps[n], stepOutputs);
        if (status !== 'Completed') failed = n;
        continue;
      }
      const spec = specs.get(n)!;
      // bind inputs to upstream outputs / parent inputs
      const inputs: Record<string, any> = {};
      for (const [k, v] of Object.entries(spec.inputs)) inputs[k] = this.bindInput(job, v, stepOutputs, n, k);
      const outputs: Record<string, any> = {};
      const uris: Record<string, string> = {};
      for (const [k, v] of Object.entries(spec.outputs)) {
        const bound = bindingOf(v);
        let uri = (v as any)?.uri as string | undefined;
        const pm = bound && /^\$\{\{\s*parent\.outputs\.([A-Za-z0-9_]+)\s*\}\}$/.exec(bound);
        if (pm) uri = p.outputs?.[pm[1]]?.uri ?? defaultOutputUri(job.name, pm[1]);
        uri ??= defaultOutputUri(child.name, k);
        outputs[k] = { jobOutputType: outputType(v) === 'literal' ? 'uri_folder' : outputType(v), uri };
        uris[k] = uri;
      }
      stepOutputs.set(n, uris);
      const sweep = stepType(this.deps, wsId, steps[n]) === 'sweep';
      const status = await this.runChild(
        h,
        child,
        { ...spec, inputs, outputs },
        sweep ? (c, ch) => this.runSweepStep(c, ch, steps[n], { ...spec, inputs, outputs }) : undefined,
      );
      if (status === 'Canceled') {
        failed = n;
        continue;
      }
      if (status === 'Failed') failed = n;
    }
    if (h.canceled) throw new Canceled();
    if (failed) {
      const msg = (this.get(children.get(failed)!.id) as any)?.emulator?.error?.message ?? 'failed';
      throw new JobFailure(`Step '${failed}' (job ${job.name}_${failed}) failed: ${msg}`);
    }
    this.setStatus(job.id, 'Finalizing');
    const parentUris: Record<string, string> = {};
    for (const k of Object.keys(p.outputs ?? {}))
      parentUris[k] = String(p.outputs[k]?.uri ?? defaultOutputUri(job.name, k));
    this.recordOutputs(job.id, parentUris);
  }

  /** an automl step: its data bound like inputs, its outputs (best_model at least) at their URIs, its trials run */
  private async runAutoMLStep(
    job: JobResource,
    h: Handle,
    child: JobResource,
    n: string,
    step: any,
    stepOutputs: Map<string, Record<string, string>>,
  ): Promise<'Completed' | 'Failed' | 'Canceled'> {
    const uris: Record<string, string> = { [BEST_MODEL]: defaultOutputUri(child.name, BEST_MODEL) };
    for (const [k, v] of Object.entries<any>(step?.outputs ?? {})) {
      const pm = /^\$\{\{\s*parent\.outputs\.([A-Za-z0-9_]+)\s*\}\}$/.exec(bindingOf(v) ?? '');
      uris[k] = pm
        ? String(job.properties.outputs?.[pm[1]]?.uri ?? defaultOutputUri(job.name, pm[1]))
        : String(v?.uri ?? defaultOutputUri(child.name, k));
    }
    stepOutputs.set(n, uris);
    const ch: Handle = { canceled: h.canceled, children: new Set(), childJobs: new Set(), onCancel: [] };
    this.handles.set(child.id.toLowerCase(), ch);
    h.childJobs.add(child.id);
    try {
      const data: Record<string, string> = {};
      for (const [k, v] of Object.entries(automlData(step))) {
        const bound = this.bindInput(job, v, stepOutputs, n, k);
        if (!bound?.uri) throw new JobFailure(`Step '${n}' ${k} has no data URI.`);
        data[k === 'training_data' ? 'trainingData' : k === 'validation_data' ? 'validationData' : 'testData'] = String(
          bound.uri,
        );
      }
      this.setStatus(child.id, 'Running');
      await this.runAutoMLTrials(child, ch, {
        taskType: String(step.task ?? ''),
        primaryMetric: step.primary_metric,
        data,
        outputs: uris,
      });
      this.setStatus(child.id, 'Completed');
      return 'Completed';
    } catch (e) {
      if (e instanceof Canceled || ch.canceled) {
        this.setStatus(child.id, 'Canceled');
        return 'Canceled';
      }
      this.setStatus(child.id, 'Failed', e instanceof Error ? e.message : String(e));
      return 'Failed';
    } finally {
      this.handles.delete(child.id.toLowerCase());
      h.childJobs.delete(child.id);
    }
  }

  private bindInput(
    job: JobResource,
    v: any,
    stepOutputs: Map<string, Record<string, string>>,
    step: string,
    name: string,
  ): any {
    const bound = bindingOf(v);
    if (!bound) return v;
    let m = /^\$\{\{\s*parent\.jobs\.([A-Za-z0-9_]+)\.outputs\.([A-Za-z0-9_]+)\s*\}\}$/.exec(bound);
    if (m) {
      const uri = stepOutputs.get(m[1])?.[m[2]];
      if (!uri)
        throw new JobFailure(
          `Step '${step}' input '${name}' binds to ${m[1]}.outputs.${m[2]}, which that step does not declare.`,
        );
      return { jobInputType: 'uri_folder', uri, mode: (v as any)?.mode };
    }
    m = /^\$\{\{\s*parent\.inputs\.([A-Za-z0-9_]+)\s*\}\}$/.exec(bound);
    if (m) {
      const pi = job.properties.inputs?.[m[1]];
      if (pi == null)
        throw new JobFailure(
          `Step '${step}' input '${name}' binds to parent input '${m[1]}', which the pipeline does not define.`,
        );
      return pi;
    }
    // a literal with embedded references: substitute parent inputs that are literals
    const text = bound.replace(/\$\{\{\s*parent\.inputs\.([A-Za-z0-9_]+)\s*\}\}/g, (_a, k: string) =>
      String(job.properties.inputs?.[k]?.value ?? ''),
    );
    return { jobInputType: 'literal', value: text };
  }

  /**
   * A sweep step (pipeline `jobs` entry of type sweep, in the YAML shape azure-ai-ml sends: sampling_algorithm,
   * search_space, objective, limits, trial.componentId) run as the sweep job runSweep runs: the trial command is the
   * trial component's, with `${{inputs.<p>}}` of each search-space parameter read as `${{search_space.<p>}}` (what
   * azure-ai-ml's Sweep._to_job does to the command, 1.4.0 entities/_builders/sweep.py).
   */
  private async runSweepStep(child: JobResource, ch: Handle, step: any, spec: CommandSpec): Promise<void> {
    const space: Record<string, unknown> = step.search_space ?? {};
    let command = spec.command;
    for (const k of Object.keys(space))
      command = command.replace(new RegExp(`\\$\\{\\{\\s*inputs\\.${k}\\s*\\}\\}`, 'g'), `\${{search_space.${k}}}`);
    const sa = step.sampling_algorithm;
    const lim = step.limits ?? {};
    const cur = this.get(child.id)!;
    Object.assign(cur.properties, {
      jobType: 'Sweep',
      trial: { command, codeId: spec.codeId, environmentVariables: spec.environmentVariables },
      inputs: spec.inputs,
      outputs: spec.outputs,
      searchSpace: space,
      samplingAlgorithm:
        typeof sa === 'string' ? { samplingAlgorithmType: sa } : { ...sa, samplingAlgorithmType: sa?.type },
      limits: { maxTotalTrials: lim.max_total_trials, maxConcurrentTrials: lim.max_concurrent_trials },
      objective: { goal: step.objective?.goal, primaryMetric: step.objective?.primary_metric },
    });
    this.deps.store.put(JOBS_KIND, cur.id, cur);
    await this.runSweep(cur, ch);
  }

  /** the executable part of a pipeline step: inline command, or the component's spec */
  private stepSpec(job: JobResource, name: string, step: any): CommandSpec {
    const wsId = wsIdOf(job.id);
    const comp = step?.componentId ? componentSpec(this.deps, wsId, step.componentId) : undefined;
    if (stepType(this.deps, wsId, step) === 'spark') {
      const s = sparkStandIn({ ...comp, ...step }, { inputs: {}, outputs: { ...comp?.outputs, ...step?.outputs } });
      step = { ...step, command: s.command };
    }
    const command = step?.command ?? comp?.command;
    if (!command) throw new JobFailure(`Step '${name}' has no command.`);
    let codeId = step?.codeId ?? step?.code ?? comp?.code;
    if (typeof codeId === 'string' && /^(\.|\/(?!subscriptions))/i.test(codeId))
      throw new JobFailure(`Step '${name}' code '${codeId}' is a local path; upload it as a code asset first.`);
    const inputs: Record<string, any> = {};
    // component defaults first, then the step's values
    for (const [k, d] of Object.entries<any>(comp?.inputs ?? {}))
      if (d && d.default !== undefined) inputs[k] = { jobInputType: 'literal', value: String(d.default) };
    for (const [k, v] of Object.entries<any>(step?.inputs ?? {})) inputs[k] = normaliseInput(v);
    const outputs: Record<string, any> = {};
    for (const [k, d] of Object.entries<any>(comp?.outputs ?? {}))
      outputs[k] = { jobOutputType: String(d?.type ?? 'uri_folder') };
    for (const [k, v] of Object.entries<any>(step?.outputs ?? {})) outputs[k] = v ?? { jobOutputType: 'uri_folder' };
    const environmentVariables = {
      ...(comp?.environment_variables ?? {}),
      ...(step?.environmentVariables ?? step?.environment_variables ?? {}),
    };
    if (typeof codeId === 'string') codeId = codeId.replace(/^azureml:/i, '');
    return { command, codeId, inputs, outputs, environmentVariables };
  }

  private stepProps(job: JobResource, name: string, step: any): Record<string, any> {
    return {
      displayName: step?.display_name ?? step?.displayName ?? name,
      computeId:
        step?.computeId ?? step?.compute ?? job.properties.computeId ?? job.properties.settings?.default_compute,
      componentId: step?.componentId,
      tags: { ...(job.properties.tags ?? {}), 'azureml.pipelineStep': name },
    };
  }
}

/**
 * Steps of type `pipeline` (a pipeline component: its componentSpec carries `jobs`) replaced by their own steps, named
 * `<step>__<inner step>` (recursively), with the bindings rewritten: `${{parent.inputs.x}}` inside → what the outer
 * step gives input x (or the component's default), `${{parent.jobs.s.outputs.o}}` inside → the renamed step, an inner
 * output bound to `${{parent.outputs.o}}` → bound to what the outer step binds its output o to; outside,
 * `${{parent.jobs.<step>.outputs.o}}` → the inner step output that produces o. What the service does with a pipeline
 * component is not observable; this runs the same steps with the same data flow.
 */
export function flattenPipelineSteps(deps: RunnerDeps, wsId: string, steps: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = {};
  const producers = new Map<string, string>(); // "<step>.<output>" → binding of the inner step output that produces it
  const BIND =
    /^\s*\$\{\{\s*parent\.(inputs\.([A-Za-z0-9_.]+)|jobs\.([A-Za-z0-9_]+)\.outputs\.([A-Za-z0-9_]+)|outputs\.([A-Za-z0-9_]+))\s*\}\}\s*$/;
  for (const [n, step] of Object.entries(steps)) {
    if (stepType(deps, wsId, step) !== 'pipeline') {
      out[n] = step;
      continue;
    }
    const comp = componentSpec(deps, wsId, step.componentId) ?? {};
    const inner = flattenPipelineSteps(deps, wsId, comp.jobs ?? {});
    for (const [k, s0] of Object.entries<any>(inner)) {
      const s = structuredClone(s0);
      for (const [ik, iv] of Object.entries<any>(s.inputs ?? {})) {
        const b = bindingOf(iv);
        const m = b ? BIND.exec(b) : null;
        if (!m) continue;
        if (m[2]) {
          const given = step.inputs?.[m[2]];
          const def = comp.inputs?.[m[2]]?.default;
          if (given !== undefined) s.inputs[ik] = structuredClone(given);
          else if (def !== undefined) s.inputs[ik] = { job_input_type: 'literal', value: String(def) };
          else delete s.inputs[ik];
        } else if (m[3]) s.inputs[ik] = { ...iv, value: `\${{parent.jobs.${n}__${m[3]}.outputs.${m[4]}}}` };
      }
      for (const [ok, ov] of Object.entries<any>(s.outputs ?? {})) {
        const b = bindingOf(ov);
        const m = b ? BIND.exec(b) : null;
        if (!m?.[5]) continue;
        producers.set(`${n}.${m[5]}`, `\${{parent.jobs.${n}__${k}.outputs.${ok}}}`);
        const outer = step.outputs?.[m[5]];
        if (outer !== undefined && outer !== null) s.outputs[ok] = structuredClone(outer);
        else delete s.outputs[ok];
      }
      if (typeof s.computeId === 'string' && /\$\{\{/.test(s.computeId)) delete s.computeId;
      out[`${n}__${k}`] = s;
    }
  }
  // bindings to a pipeline step's outputs → the inner step that produces them
  for (const s of Object.values<any>(out)) {
    for (const [ik, iv] of Object.entries<any>(s?.inputs ?? {})) {
      const b = bindingOf(iv);
      const m = b ? /^\s*\$\{\{\s*parent\.jobs\.([A-Za-z0-9_]+)\.outputs\.([A-Za-z0-9_]+)\s*\}\}\s*$/.exec(b) : null;
      const to = m ? producers.get(`${m[1]}.${m[2]}`) : undefined;
      if (to) s.inputs[ik] = typeof iv === 'string' ? to : { ...iv, value: to };
    }
  }
  return out;
}

/** an automl step's data (training_data, validation_data, test_data: a binding text or {job_input_type, uri}) */
function automlData(step: any): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['training_data', 'validation_data', 'test_data'])
    if (step?.[k] != null) out[k] = typeof step[k] === 'string' ? { value: step[k] } : step[k];
  return out;
}

/** step types the runner executes (a pipeline step is flattened into its own steps first) */
const RUN_STEP_TYPES = new Set(['command', 'spark', 'sweep', 'automl']);

/**
 * A Spark job (or Spark pipeline step) as the runner executes it: a documented stand-in, not Spark. The real service
 * submits the entry to a Spark pool (attached Synapse pool or serverless Spark) with the code snapshot, py_files, jars,
 * files, archives and conf, inputs/outputs in direct mode (their URIs). Here pyspark and a Spark runtime are absent, so
 * the stand-in: gets the code snapshot (as for a command job), fails like spark-submit when the entry file is not in it
 * (ASSUMPTION: the service fails the job then, not the submission), prints the spark-submit it stands for (conf, the
 * entry and its args with inputs/outputs substituted), and writes a marker into each declared output (a file output:
 * the file; a folder output: `_SUCCESS`, as Spark writers leave one) so downstream steps have data to bind to. The
 * entry's own code is NOT run. ASSUMPTION: the status sequence is the command job's (Queued → Preparing → Running →
 * Finalizing → Completed); Microsoft documents no other for Spark jobs.
 * `p`: the job (REST camelCase) or step+component (snake_case) properties.
 */
function sparkStandIn(p: Record<string, any>, io: { inputs?: any; outputs?: any }): CommandSpec {
  const entry = p.entry ?? {};
  const file: string | undefined = entry.file;
  const cls: string | undefined = entry.className ?? entry.class_name;
  const q = (x: string) => `'${String(x).replace(/'/g, `'\\''`)}'`;
  const conf = Object.entries<any>(p.conf ?? {})
    .map(([k, v]) => `--conf ${k}=${String(v)}`)
    .join(' ');
  const lists = ['pyFiles', 'jars', 'files', 'archives']
    .map((k) => [k, p[k] ?? p[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)]] as const)
    .filter(([, v]) => Array.isArray(v) && v.length)
    .map(([k, v]) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${(v as string[]).join(',')}`)
    .join(' ');
  const outputs = Object.keys(io.outputs ?? p.outputs ?? {}).filter((k) => k !== 'default');
  const lines = [
    file
      ? `test -f ${q(file)} || { echo "spark-submit: entry file ${file} is not in the code snapshot" >&2; exit 2; }`
      : '',
    `echo ${q('[Azure-in-a-box] Spark stand-in: no Spark runtime here, the entry is not executed. It stands for:')}`,
    `echo spark-submit ${q(conf)} ${q(lists)} ${q(file ?? `--class ${cls ?? '?'}`)} ${p.args ?? ''}`,
    ...outputs.map(
      (k) =>
        `if [ -d "\${{outputs.${k}}}" ]; then echo spark stand-in > "\${{outputs.${k}}}/_SUCCESS"; else echo spark stand-in > "\${{outputs.${k}}}"; fi`,
    ),
  ].filter(Boolean);
  return {
    command: lines.join('\n'),
    codeId: p.codeId,
    inputs: io.inputs ?? p.inputs ?? {},
    outputs: io.outputs ?? p.outputs ?? {},
    environmentVariables: p.environmentVariables ?? {},
  };
}

function bindingOf(v: any): string | undefined {
  if (typeof v === 'string') return v.includes('${{') ? v : undefined;
  if (v && typeof v === 'object') {
    const val = v.value ?? v.path ?? v.uri;
    if (typeof val === 'string' && val.includes('${{')) return val.trim();
  }
  return undefined;
}

function normaliseInput(v: any): any {
  if (v == null || typeof v !== 'object') return { jobInputType: 'literal', value: String(v ?? '') };
  const t = inputType(v);
  return { ...v, jobInputType: t || (v.uri ? 'uri_folder' : 'literal') };
}

function stepType(deps: RunnerDeps, wsId: string, step: any): string {
  const t = String(step?.type ?? step?.jobType ?? step?.job_type ?? '').toLowerCase();
  if (t) return t;
  if (step?.componentId) return String(componentSpec(deps, wsId, step.componentId)?.type ?? 'command').toLowerCase();
  return step?.command ? 'command' : 'unknown';
}

function componentSpec(deps: RunnerDeps, wsId: string, componentId: string): Record<string, any> | undefined {
  const id = String(componentId).replace(/^azureml:/i, '');
  let v = id.startsWith('/') ? deps.assetById(id) : undefined;
  if (!v && !id.startsWith('/')) {
    const m = /^([^:@]+)(?::([^:@]+)|@(.+))?$/.exec(id);
    if (m) v = deps.assetVersion(wsId, 'components', m[1], m[2] ?? m[3] ?? 'latest');
  }
  if (!v) throw new JobFailure(`Component ${componentId} not found.`);
  return v.properties.componentSpec ?? {};
}

/** ISO 8601 duration (PT1H30M, P1D) or plain seconds → seconds */
export function isoSeconds(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number') return v > 0 ? v : undefined;
  const m = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(
    String(v),
  );
  if (!m) return Number(v) > 0 ? Number(v) : undefined;
  const s = Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  return s > 0 ? s : undefined;
}

function firstFile(dir: string): string {
  const files = walk(dir).sort();
  return files[0] ?? dir;
}

async function copyPrefix(deps: RunnerDeps, from: BlobLocation, to: BlobLocation): Promise<void> {
  const src = deps.blob.getContainerClient(from.container);
  const dst = deps.blob.getContainerClient(to.container);
  await dst.createIfNotExists();
  const prefix = from.path.replace(/\/*$/, '/');
  const target = to.path.replace(/\/*$/, '/');
  for await (const b of src.listBlobsFlat({ prefix })) {
    const data = await src.getBlobClient(b.name).downloadToBuffer();
    await dst.getBlockBlobClient(target + b.name.slice(prefix.length)).uploadData(data);
  }
}

/** `services` of a job as the service returns them: Tracking (the workspace's MLflow URI) and Studio */
export function servicesFor(
  job: JobResource,
  name = job.name,
  trackingUri?: string,
  tenantId?: string,
): Record<string, any> {
  const wsId = wsIdOf(job.id);
  // the service's Studio link: wsid with lower-case `resourcegroups` and no providers segment, no tid (command_job
  // test_command_job_invalid_datastore.json and sweep_job test_sweep_job_submit_minimal.json, 2026-03)
  void tenantId;
  const wsid = wsId.replace(
    /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/[^/]+\/workspaces\/([^/]+)$/i,
    '/subscriptions/$1/resourcegroups/$2/workspaces/$3',
  );
  const studio = `https://ml.azure.com/runs/${encodeURIComponent(name)}?wsid=${wsid}`;
  const s: Record<string, any> = {
    Studio: {
      jobServiceType: 'Studio',
      endpoint: studio,
      status: null,
      errorMessage: null,
      properties: null,
      port: null,
    },
  };
  if (trackingUri)
    s.Tracking = {
      jobServiceType: 'Tracking',
      endpoint: trackingUri,
      status: null,
      errorMessage: null,
      properties: null,
      port: null,
    };
  return s;
}
