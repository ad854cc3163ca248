// AzureMLModelRegister@1: register a model version from local files or a URI, idempotently, with lineage tags.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { ModelVersion, ModelVersionProperties } from '@azure/arm-machinelearning';
import { InputError, UserError, lineageTags, type PipelineContext } from '../pipeline';
import {
  ASSET_NAME_PATTERN,
  CONTENT_KEY_PROPERTY,
  VERSION_PATTERN,
  contentKey,
  createOrUpdateModelVersion,
  datastoreUri,
  findVersionByContent,
  formatBytes,
  getModelVersion,
  getWorkspace,
  nextVersion,
  prepareLocalAsset,
  sameContent,
  studioUrl,
  uploadPreparedAsset,
  readJob,
  JOB_NAME_PATTERN,
  statusOf,
  type AzureMLContext,
  type PreparedAsset,
  type UploadResult,
  type WorkspaceRef,
} from '../azureml';
import { EVALUATION_PROPERTY, evaluationProperty, type CardEvaluation } from './modelCard';
import { mdEscape } from './markdown';
import type { Log } from '../log';

export const MODEL_TYPES = ['custom_model', 'mlflow_model', 'triton_model'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

export interface RegisterInputs {
  modelName: string;
  /** local file/folder (relative to cwd) or a URI: azureml://jobs/<job>/outputs/<name>, azureml://datastores/…, azureml://subscriptions/…, https://… */
  modelPath: string;
  modelType: string;
  /** blank → next version (or the existing version with the same content) */
  version?: string;
  description?: string;
  tags?: Record<string, string>;
  properties?: Record<string, string>;
  /** add azdo.* lineage tags (default true) */
  lineageTags?: boolean;
  /** the evaluate task's evaluation.json, recorded on the new version for the release's model card */
  evaluation?: CardEvaluation;
}

export interface RegisterResult {
  name: string;
  version: string;
  /** azureml:<name>:<version> */
  id: string;
  modelUri: string;
  /** true when an existing version already held this content (nothing uploaded or created) */
  reused: boolean;
  upload?: { bytes: number; files: number; totalBytes: number; skipped: boolean };
  studioUrl?: string;
  tags: Record<string, string>;
}

/** What registerModel reads of a job (JobBase of the 2022-10-01 swagger). */
export interface JobRecord {
  properties?: { status?: string | null; jobType?: string | null; outputs?: Record<string, unknown> | null };
}

/** Everything registerModel does against Azure, injectable for unit tests. */
export interface RegisterOps {
  ws: WorkspaceRef;
  checkWorkspace(): Promise<void>;
  /** GET of the job: undefined when it does not exist */
  getJob(job: string): Promise<JobRecord | undefined>;
  getVersion(name: string, version: string): Promise<ModelVersion | undefined>;
  findByContent(name: string, modelType: string, modelUri: string): Promise<ModelVersion | undefined>;
  nextVersion(name: string): Promise<string>;
  upload(
    asset: PreparedAsset,
    meta: { name: string; version: string },
    onProgress: (bytes: number, total: number) => void,
  ): Promise<UploadResult>;
  create(name: string, version: string, props: ModelVersionProperties): Promise<ModelVersion>;
}

export interface RegisterDeps {
  ctx?: AzureMLContext;
  ops?: RegisterOps;
  log: Log;
  progress(percent: number, text?: string): void;
  context: PipelineContext;
  /** base for relative local paths (default: process.cwd(), the agent's working directory) */
  cwd?: string;
  signal?: AbortSignal;
}

export function azureOps(ctx: AzureMLContext): RegisterOps {
  return {
    ws: ctx.ws,
    checkWorkspace: async () => {
      await getWorkspace(ctx);
    },
    getJob: async (job) => (await readJob(ctx, job)).job,
    getVersion: (n, v) => getModelVersion(ctx, n, v),
    findByContent: (n, t, u) => findVersionByContent(ctx, n, t, u),
    nextVersion: (n) => nextVersion(ctx, n),
    upload: (asset, meta, onProgress) =>
      uploadPreparedAsset(ctx, asset, { assetName: meta.name, assetVersion: meta.version, onProgress }),
    create: (n, v, p) => createOrUpdateModelVersion(ctx, n, v, p),
  };
}

// ---------------------------------------------------------------------------------------------
// Source of the model: local path or URI

export type ModelSource =
  { kind: 'local'; path: string } | { kind: 'uri'; uri: string; jobName?: string; outputName?: string };

const OUTPUT_NAME = /^[a-zA-Z0-9_][a-zA-Z0-9\-_]{0,254}$/;

/** Classify and syntax-check modelPath (no I/O). */
export function parseModelSource(modelPath: string, cwd: string): ModelSource {
  const p = modelPath.trim();
  if (!p) throw new InputError('modelPath', 'is required');
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(p)?.[1]?.toLowerCase();
  if (!scheme || (scheme.length === 1 && process.platform === 'win32'))
    return { kind: 'local', path: path.resolve(cwd, p) };
  if (scheme === 'https') {
    try {
      new URL(p);
    } catch {
      throw new InputError('modelPath', `'${p}' is not a valid URL`);
    }
    return { kind: 'uri', uri: p };
  }
  if (scheme !== 'azureml') {
    throw new InputError(
      'modelPath',
      `URI scheme '${scheme}://' is not supported (use a path on the agent, azureml://jobs/<job>/outputs/<output>, azureml://datastores/<datastore>/paths/<path> or https://…)`,
    );
  }
  const rest = p.slice('azureml://'.length);
  if (/^jobs\//i.test(rest)) {
    const m = /^jobs\/([^/]+)\/outputs\/([^/]+)(?:\/paths\/(.+))?\/?$/i.exec(rest);
    if (!m || !JOB_NAME_PATTERN.test(m[1]!) || !OUTPUT_NAME.test(m[2]!)) {
      throw new InputError(
        'modelPath',
        `'${p}' is not a job output reference: expected azureml://jobs/<job name>/outputs/<output name>[/paths/<path>]`,
      );
    }
    return { kind: 'uri', uri: p, jobName: m[1]!, outputName: m[2]! };
  }
  if (/^datastores\/[^/]+\/paths\/.+/i.test(rest)) return { kind: 'uri', uri: p };
  if (
    /^subscriptions\/[^/]+\/resource[gG]roups\/[^/]+\/(providers\/Microsoft\.MachineLearningServices\/)?workspaces\/[^/]+\/datastores\/[^/]+\/paths\/.+/i.test(
      rest,
    )
  )
    return { kind: 'uri', uri: p };
  throw new InputError(
    'modelPath',
    `'${p}' is not a supported azureml:// URI (azureml://jobs/<job>/outputs/<output>, azureml://datastores/<datastore>/paths/<path>, azureml://subscriptions/…/workspaces/…/datastores/<datastore>/paths/<path>)`,
  );
}

// ---------------------------------------------------------------------------------------------
// Validation of plain inputs

function checkKeyValues(input: 'tags' | 'properties', kv: Record<string, string>): void {
  for (const [k, v] of Object.entries(kv)) {
    if (!k.trim()) throw new InputError(input, 'empty key');
    if (k.length > 256) throw new InputError(input, `key '${k.slice(0, 40)}…' is longer than 256 characters`);
    if (/[\u0000-\u001f\u007f]/.test(k) || /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(v))
      throw new InputError(input, `${JSON.stringify(k)} contains control characters`);
    if (v.length > 5000) throw new InputError(input, `value of '${k}' is longer than 5000 characters`);
  }
}

export function validateInputs(inputs: RegisterInputs): { name: string; modelType: ModelType; version?: string } {
  const name = (inputs.modelName ?? '').trim();
  if (!name) throw new InputError('modelName', 'is required');
  if (!ASSET_NAME_PATTERN.test(name)) {
    throw new InputError(
      'modelName',
      `'${name}' is not a valid model name (1-255 letters, digits, '-' or '_', starting with a letter or digit)`,
    );
  }
  const modelType = (inputs.modelType ?? '').trim() || 'custom_model';
  if (!(MODEL_TYPES as readonly string[]).includes(modelType)) {
    throw new InputError('modelType', `'${modelType}' is not one of ${MODEL_TYPES.join(', ')}`);
  }
  const version = (inputs.version ?? '').trim() || undefined;
  if (version !== undefined && !VERSION_PATTERN.test(version)) {
    throw new InputError(
      'version',
      `'${version}' is not a valid version (a positive integer, or up to 30 letters, digits, '.', '-' or '_' starting with a letter or digit)`,
    );
  }
  checkKeyValues('tags', inputs.tags ?? {});
  checkKeyValues('properties', inputs.properties ?? {});
  if (inputs.properties && EVALUATION_PROPERTY in inputs.properties) {
    throw new InputError(
      'properties',
      `'${EVALUATION_PROPERTY}' is set by the task from the evaluationFile input and cannot be given`,
    );
  }
  if (inputs.properties && CONTENT_KEY_PROPERTY in inputs.properties) {
    throw new InputError('properties', `'${CONTENT_KEY_PROPERTY}' is set by the task and cannot be given`);
  }
  if ((inputs.description ?? '').length > 5000) throw new InputError('description', 'is longer than 5000 characters');
  return { name, modelType: modelType as ModelType, version };
}

async function checkLocal(
  src: { path: string },
  modelType: ModelType,
  modelPath: string,
  signal?: AbortSignal,
): Promise<PreparedAsset> {
  let st;
  try {
    st = await fsp.stat(src.path);
  } catch {
    throw new InputError('modelPath', `'${modelPath}' was not found (looked for ${src.path})`);
  }
  if (!st.isFile() && !st.isDirectory())
    throw new InputError('modelPath', `'${modelPath}' is neither a file nor a folder`);
  if (modelType !== 'custom_model' && !st.isDirectory()) {
    throw new InputError('modelPath', `a ${modelType} must be a folder, '${modelPath}' is a file`);
  }
  let asset: PreparedAsset;
  try {
    asset = await prepareLocalAsset(src.path, { abortSignal: signal });
  } catch (err) {
    if (err instanceof UserError) throw new InputError('modelPath', err.message.replace(/^Folder /, 'folder '));
    throw err;
  }
  if (modelType === 'mlflow_model' && !asset.files.some((f) => f.blob === `${asset.remotePath}/MLmodel`)) {
    throw new InputError(
      'modelPath',
      `an mlflow_model folder must contain an 'MLmodel' file at its root; '${modelPath}' does not`,
    );
  }
  return asset;
}

const fmtBytes = formatBytes;

/**
 * The run's artifacts (what MLflow logged, e.g. azureml://jobs/<job>/outputs/artifacts/paths/model): the documented
 * model path of a job, resolved by the service to the job's artifact store. It is not among the job's outputs.
 */
const ARTIFACTS_OUTPUT = 'artifacts';

/**
 * A model registered from azureml://jobs/<job>/outputs/<output> must point at files: the job must exist, have that
 * output and have Completed. Outputs are the job's declared ones plus those the service adds: GET of a command or
 * sweep job lists `default` (the run's artifact store, workspaceartifactstore ExperimentRun/dcid.<job>), so it passes
 * as a listed output; `artifacts` is accepted for every job.
 */
async function checkJobOutput(ops: RegisterOps, job: string, output: string, modelPath: string): Promise<void> {
  const rec = await ops.getJob(job);
  if (!rec) throw new InputError('modelPath', `job '${job}' was not found in workspace '${ops.ws.workspace}'`);
  const outputs = Object.keys(rec.properties?.outputs ?? {});
  if (output !== ARTIFACTS_OUTPUT && !outputs.includes(output)) {
    const near = outputs.find((o) => o.toLowerCase() === output.toLowerCase());
    throw new InputError(
      'modelPath',
      `job '${job}' has no output '${output}' (${modelPath})` +
        (near
          ? `; did you mean '${near}'?`
          : `; its outputs: ${outputs.length ? outputs.map((o) => `'${o}'`).join(', ') : 'none'}`) +
        ` (and '${ARTIFACTS_OUTPUT}' for the files it logged)`,
    );
  }
  const status = rec.properties?.status ?? 'Unknown';
  if (status !== 'Completed') {
    const why = ['Failed', 'Canceled', 'CancelRequested', 'NotResponding'].includes(status)
      ? 'its outputs may be missing or incomplete'
      : 'it has not finished, its outputs are not written yet';
    throw new InputError(
      'modelPath',
      `job '${job}' is ${status}, not Completed: ${why} (${modelPath}); register from a completed job`,
    );
  }
}

// ---------------------------------------------------------------------------------------------

export async function registerModel(inputs: RegisterInputs, deps: RegisterDeps): Promise<RegisterResult> {
  const { log } = deps;
  const signal = deps.signal ?? deps.ctx?.signal;
  const ops = deps.ops ?? (deps.ctx ? azureOps(deps.ctx) : undefined);
  if (!ops) throw new Error('registerModel needs ctx or ops');

  // 1. everything that needs no network
  const { name, modelType, version: askedVersion } = validateInputs(inputs);
  const source = parseModelSource(inputs.modelPath ?? '', deps.cwd ?? process.cwd());
  let asset: PreparedAsset | undefined;
  if (source.kind === 'local') {
    log.info(`Hashing ${source.path}…`);
    asset = await checkLocal(source, modelType, inputs.modelPath, signal);
    log.info(
      `${asset.isDir ? `Folder with ${asset.files.length} file(s)` : 'File'}, ${fmtBytes(asset.totalBytes)}, md5 ${asset.hash}` +
        (asset.ignoreFile ? ` (${path.basename(asset.ignoreFile)} applied)` : ''),
    );
  }
  const tags: Record<string, string> = {
    ...(inputs.lineageTags === false ? {} : lineageTags(deps.context)),
    ...(inputs.tags ?? {}),
  };
  const modelUri = asset ? datastoreUri(ops.ws, asset.remotePath) : (source as { uri: string }).uri;
  const jobName = source.kind === 'uri' ? source.jobName : undefined;
  const key = contentKey(modelType, modelUri);

  // 2. reads: workspace, job, existing versions (still no writes)
  await ops.checkWorkspace();
  if (source.kind === 'uri' && source.jobName)
    await checkJobOutput(ops, source.jobName, source.outputName!, inputs.modelPath.trim());

  let version: string;
  const reuse = (v: ModelVersion, why: string): RegisterResult => {
    const ver = v.name ?? askedVersion!;
    log.info(
      `Model '${name}' version ${ver} already holds this content (${why}); nothing uploaded, no new version created.`,
    );
    return {
      name,
      version: ver,
      id: `azureml:${name}:${ver}`,
      modelUri: v.properties?.modelUri ?? modelUri,
      reused: true,
      studioUrl: studioUrl(ops.ws, 'model', name, ver),
      tags: { ...((v.properties?.tags as Record<string, string>) ?? {}) },
    };
  };
  if (askedVersion) {
    const existing = await ops.getVersion(name, askedVersion);
    if (existing) {
      if (sameContent(existing, modelType, modelUri)) return reuse(existing, 'same model type and files');
      throw new InputError(
        'version',
        `model '${name}' version ${askedVersion} already exists with different content (${existing.properties?.modelUri ?? 'unknown path'})`,
      );
    }
    version = askedVersion;
  } else {
    const existing = await ops.findByContent(name, modelType, modelUri);
    if (existing) return reuse(existing, 'same model type and files');
    version = await ops.nextVersion(name);
  }

  // 3. writes: upload, then the version
  let upload: RegisterResult['upload'];
  if (asset) {
    let lastPct = -1;
    let lastAt = 0;
    const res = await ops.upload(asset, { name, version }, (bytes, total) => {
      const pct = total ? Math.floor((bytes * 100) / total) : 100;
      const now = Date.now();
      if (pct !== lastPct && (pct === 100 || now - lastAt > 1000 || pct - lastPct >= 10)) {
        lastPct = pct;
        lastAt = now;
        deps.progress(pct, `Uploading model: ${fmtBytes(bytes)} of ${fmtBytes(total)}`);
      }
    });
    upload = { bytes: res.uploadedBytes, files: res.files, totalBytes: res.totalBytes, skipped: res.skipped };
    log.info(
      res.skipped
        ? `Files already in the datastore (LocalUpload/${asset.hash} is marked upload_status=completed): 0 bytes uploaded.`
        : `Uploaded ${res.files} file(s), ${fmtBytes(res.uploadedBytes)} to ${asset.remotePath}.`,
    );
  }

  const props: ModelVersionProperties = {
    modelUri,
    modelType,
    description: inputs.description?.trim() || undefined,
    tags,
    properties: {
      ...(inputs.properties ?? {}),
      ...(inputs.evaluation ? { [EVALUATION_PROPERTY]: evaluationProperty(inputs.evaluation) } : {}),
      [CONTENT_KEY_PROPERTY]: key,
    },
    ...(jobName ? { jobName } : {}),
  };
  let created: ModelVersion | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      created = await ops.create(name, version, props);
      break;
    } catch (err) {
      // auto-versioning race (another run took this version): take the next one, as azure-ai-ml does
      if (!askedVersion && statusOf(err) === 409 && attempt < 3) {
        const again = await ops.findByContent(name, modelType, modelUri);
        if (again) return reuse(again, 'registered concurrently');
        version = await ops.nextVersion(name);
        log.warning(`Version taken concurrently; retrying as version ${version}`);
        continue;
      }
      throw err;
    }
  }
  const finalVersion = created?.name ?? version;
  // the service's own spelling of the URI (it stores `resourcegroups` as `resourceGroups`, see normalize.ts), as a reuse reports it
  const storedUri = created?.properties?.modelUri ?? modelUri;
  log.info(`Registered model '${name}' version ${finalVersion} (${modelType}) from ${storedUri}`);
  return {
    name,
    version: finalVersion,
    id: `azureml:${name}:${finalVersion}`,
    modelUri: storedUri,
    reused: false,
    upload,
    studioUrl: studioUrl(ops.ws, 'model', name, finalVersion),
    tags,
  };
}

/** Markdown for the build/release summary tab. */
export function registerSummary(r: RegisterResult, ws: WorkspaceRef): string {
  const esc = mdEscape;
  const lines = [
    `### Azure ML model ${esc(r.name)}:${esc(r.version)}`,
    '',
    r.reused
      ? `Existing version ${esc(r.version)} already held this content: nothing uploaded, no new version.`
      : `Registered version ${esc(r.version)}.`,
    '',
    '| | |',
    '|---|---|',
    r.studioUrl ? `| Model | [${esc(r.id)}](${r.studioUrl}) |` : `| Model | ${esc(r.id)} |`,
    `| Workspace | ${esc(ws.workspace)} (resource group ${esc(ws.resourceGroup)}) |`,
    `| Files | \`${r.modelUri.replace(/`/g, '')}\` |`,
  ];
  if (r.upload)
    lines.push(
      `| Upload | ${r.upload.skipped ? 'already in the datastore (0 bytes)' : `${r.upload.files} file(s), ${fmtBytes(r.upload.bytes)}`} |`,
    );
  return lines.join('\n') + '\n';
}
