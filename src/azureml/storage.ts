// Workspace datastore access and local-asset upload, following azure-ai-ml (sdk/ml/azure-ai-ml):
//  - _artifact_utilities.get_datastore_info: datastore + secrets → account URL + credential
//  - _asset_utils.get_object_hash / _get_dir_hash / _get_file_hash: md5 seeded with
//    "Initialize for october 2021 AML CLI version", over entry names and file contents, entries sorted
//    by lower-cased path, .amlignore (else .gitignore) at the root excluding entries
//  - _blob_storage_helper.BlobStorageClient.upload / check_blob_exists / _set_confirmation_metadata:
//    blobs under LocalUpload/<hash>/<name>[/<relative path>], the first blob (by sorted local path) is the
//    "indicator" whose metadata upload_status=completed means the content is already there.
import { promises as fsp, type Stats } from 'node:fs';
import * as path from 'node:path';
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { minimatch } from 'minimatch';
import {
  AnonymousCredential,
  BlobServiceClient,
  StorageSharedKeyCredential,
  type ContainerClient,
} from '@azure/storage-blob';
import type { AzureBlobDatastore } from '@azure/arm-machinelearning';
import { UserError } from '../errors';
import { proxyOptionsFor } from '../auth';
import type { AzureMLContext } from './context';
import { azureCall, oneLine } from './errors';
import { armGetOptional } from './arm';
import { wsPath, type WorkspaceRef } from './workspace';

/** files up to this size go in one Put Blob; larger ones in blocks of BLOCK_BYTES */
const SINGLE_SHOT_BYTES = 32 * 1024 * 1024;
const BLOCK_BYTES = 8 * 1024 * 1024;
export const WORKSPACE_BLOB_STORE = 'workspaceblobstore';
export const ARTIFACT_ORIGIN = 'LocalUpload';
export const HASH_SEED = 'Initialize for october 2021 AML CLI version';
const UPLOAD_CONFIRMATION = { upload_status: 'completed' } as const;
const CHUNK = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Ignore files (.amlignore wins over .gitignore; only the one at the root of the folder counts)

interface IgnorePattern {
  include: boolean;
  glob: string;
  dirOnly: boolean;
}

/**
 * gitignore-style rules as azure-ai-ml applies them (GitWildMatchPattern): note that azure-ai-ml returns
 * the verdict of the FIRST pattern that matches (not the last, as git does) — we do the same.
 */
export class IgnoreRules {
  private readonly patterns: IgnorePattern[];
  constructor(
    readonly root: string,
    readonly file: string | undefined,
    text: string,
  ) {
    this.patterns = [];
    for (let raw of text.split(/\r?\n/)) {
      raw = raw.replace(/(?<!\\)\s+$/, '');
      if (!raw || raw.startsWith('#')) continue;
      let include = true;
      if (raw.startsWith('!')) {
        include = false;
        raw = raw.slice(1);
      }
      if (raw.startsWith('\\#') || raw.startsWith('\\!')) raw = raw.slice(1);
      const dirOnly = raw.endsWith('/');
      if (dirOnly) raw = raw.replace(/\/+$/, '');
      if (!raw) continue;
      const anchored = raw.includes('/');
      const p = raw.replace(/^\/+/, '');
      this.patterns.push({ include, dirOnly, glob: anchored || p.startsWith('**') ? p : `**/${p}` });
    }
  }
  static none(root: string): IgnoreRules {
    return new IgnoreRules(root, undefined, '');
  }
  get active(): boolean {
    return this.patterns.length > 0;
  }

  /** rel: path relative to the root with '/' separators. */
  isExcluded(rel: string): boolean {
    if (!this.patterns.length) return false;
    const parts = rel.split('/');
    for (const pat of this.patterns) {
      // a pattern matches the path itself (unless dir-only) or any of its ancestor folders
      let hit = !pat.dirOnly && minimatch(rel, pat.glob, { dot: true });
      for (let i = 1; !hit && i < parts.length; i++)
        hit = minimatch(parts.slice(0, i).join('/'), pat.glob, { dot: true });
      if (hit) return pat.include;
    }
    return false;
  }
}

export async function loadIgnoreRules(dir: string): Promise<IgnoreRules> {
  for (const name of ['.amlignore', '.gitignore']) {
    const f = path.join(dir, name);
    try {
      const st = await fsp.stat(f);
      if (st.isFile()) return new IgnoreRules(dir, f, await fsp.readFile(f, 'utf8'));
    } catch {
      /* absent */
    }
  }
  return IgnoreRules.none(dir);
}

// ---------------------------------------------------------------------------------------------
// Hash (get_object_hash)

/** Python's str ordering: by code point (JS `<` compares UTF-16 units, which differs for astral chars). */
export function codePointCompare(a: string, b: string): number {
  const A = Array.from(a),
    B = Array.from(b);
  for (let i = 0; i < Math.min(A.length, B.length); i++) {
    const d = A[i]!.codePointAt(0)! - B[i]!.codePointAt(0)!;
    if (d) return d;
  }
  return A.length - B.length;
}

/** absolute path → base64 MD5 of the file's content, filled while the object hash reads each file */
export type FileMd5s = Map<string, string>;

/** Feed a file's bytes to h; with `md5s`, the file's own MD5 is recorded there from the same read. */
async function hashFile(file: string, h: Hash, signal?: AbortSignal, md5s?: FileMd5s): Promise<void> {
  const own = md5s ? createHash('md5') : undefined;
  const stream = createReadStream(file, { highWaterMark: CHUNK, signal });
  for await (const chunk of stream) {
    h.update(chunk as Buffer);
    own?.update(chunk as Buffer);
  }
  if (own) md5s!.set(file, own.digest('base64'));
}

async function statFollow(p: string): Promise<Stats | undefined> {
  try {
    return await fsp.stat(p);
  } catch {
    return undefined;
  }
}

async function hashDir(
  dir: string,
  rel: string,
  h: Hash,
  ignore: IgnoreRules,
  signal?: AbortSignal,
  md5s?: FileMd5s,
): Promise<void> {
  const names = await fsp.readdir(dir);
  // azure-ai-ml: sorted(iterdir(), key=lambda p: str(p).lower()) — children share the parent prefix
  const sorted = names
    .map((n) => ({ n, key: path.join(dir, n).toLowerCase() }))
    .sort((a, b) => codePointCompare(a.key, b.key));
  for (const { n } of sorted) {
    signal?.throwIfAborted();
    const childRel = rel ? `${rel}/${n}` : n;
    if (ignore.isExcluded(childRel)) continue;
    h.update(Buffer.from(n, 'utf8'));
    const full = path.join(dir, n);
    // symlinks: hash what they point to (stat follows the link). azure-ai-ml means the same but resolves a relative
    // link target against the process's cwd (Path(os.readlink(p))); we resolve it against the link's folder.
    const st = await statFollow(full);
    if (st?.isFile()) await hashFile(full, h, signal, md5s);
    else if (st?.isDirectory()) await hashDir(full, childRel, h, ignore, signal, md5s);
  }
}

/**
 * md5 hex of a file or folder, exactly as azure-ai-ml's get_object_hash. With `md5s`, each file's own MD5 (base64,
 * the form of Content-MD5) is recorded there from the same read.
 */
export async function getObjectHash(
  p: string,
  ignore?: IgnoreRules,
  options: { abortSignal?: AbortSignal; md5s?: FileMd5s } = {},
): Promise<string> {
  const { abortSignal: signal, md5s } = options;
  const h = createHash('md5');
  h.update(Buffer.from(HASH_SEED, 'utf8'));
  const st = await fsp.stat(p);
  if (st.isDirectory()) await hashDir(p, '', h, ignore ?? IgnoreRules.none(p), signal, md5s);
  else await hashFile(p, h, signal, md5s);
  return h.digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Local asset: what would be uploaded where

/** md5: base64 MD5 of the content as it was hashed (set as the blob's Content-MD5 on upload) */
export interface AssetFile {
  local: string;
  blob: string;
  size: number;
  md5?: string;
}
export interface PreparedAsset {
  localPath: string; // absolute
  name: string; // basename of the file or folder
  isDir: boolean;
  hash: string;
  /** 'LocalUpload/<hash>/<name>' */
  remotePath: string;
  files: AssetFile[]; // sorted by local path; files[0].blob is the indicator blob
  totalBytes: number;
  ignoreFile?: string; // the .amlignore/.gitignore that applied
}

async function walkFiles(
  root: string,
  dir: string,
  rel: string,
  ignore: IgnoreRules,
  out: Array<{ local: string; rel: string; size: number }>,
  depth = 0,
): Promise<void> {
  if (depth > 64) throw new UserError(`Folder '${root}' is nested too deeply (symbolic link loop?)`);
  for (const n of await fsp.readdir(dir)) {
    const full = path.join(dir, n);
    const childRel = rel ? `${rel}/${n}` : n;
    const st = await statFollow(full);
    if (!st) continue;
    if (st.isDirectory()) await walkFiles(root, full, childRel, ignore, out, depth + 1);
    else if (st.isFile() && !ignore.isExcluded(childRel)) out.push({ local: full, rel: childRel, size: st.size });
  }
}

/** Hash and list a local file or folder (no network). Throws UserError for a missing path or an empty folder. */
export async function prepareLocalAsset(
  localPath: string,
  options: { abortSignal?: AbortSignal } = {},
): Promise<PreparedAsset> {
  const signal = options.abortSignal;
  const abs = path.resolve(localPath);
  const st = await statFollow(abs);
  if (!st || (!st.isFile() && !st.isDirectory())) throw new UserError(`No such file or directory: ${abs}`);
  const name = path.basename(abs);
  const md5s: FileMd5s = new Map();
  if (st.isFile()) {
    const hash = await getObjectHash(abs, undefined, { abortSignal: signal, md5s });
    const remotePath = `${ARTIFACT_ORIGIN}/${hash}/${name}`;
    return {
      localPath: abs,
      name,
      isDir: false,
      hash,
      remotePath,
      files: [{ local: abs, blob: remotePath, size: st.size, md5: md5s.get(abs) }],
      totalBytes: st.size,
    };
  }
  const ignore = await loadIgnoreRules(abs);
  const found: Array<{ local: string; rel: string; size: number }> = [];
  await walkFiles(abs, abs, '', ignore, found);
  if (!found.length) {
    throw new UserError(
      `Folder '${abs}' is empty${ignore.active ? ` (after applying ${path.basename(ignore.file!)})` : ''}`,
    );
  }
  const hash = await getObjectHash(abs, ignore, { abortSignal: signal, md5s });
  const remotePath = `${ARTIFACT_ORIGIN}/${hash}/${name}`;
  // azure-ai-ml sorts the (local, blob) pairs by local path; the first blob is the indicator
  found.sort((a, b) => codePointCompare(a.local, b.local));
  const files: AssetFile[] = found.map((f) => ({
    local: f.local,
    blob: `${remotePath}/${f.rel}`,
    size: f.size,
    md5: md5s.get(f.local),
  }));
  // a file the walk found but the hash did not read (should not happen): its MD5 from a read of its own
  for (const f of files) f.md5 ??= await md5OfFile(f.local, signal);
  return {
    localPath: abs,
    name,
    isDir: true,
    hash,
    remotePath,
    files,
    totalBytes: files.reduce((s, f) => s + f.size, 0),
    ignoreFile: ignore.file,
  };
}

/** azureml://subscriptions/…/resourcegroups/…/workspaces/…/datastores/<ds>/paths/<remotePath> (azure-ai-ml's LONG_URI_FORMAT) */
export function datastoreUri(ws: WorkspaceRef, remotePath: string, datastore = WORKSPACE_BLOB_STORE): string {
  return `azureml://subscriptions/${ws.subscriptionId}/resourcegroups/${ws.resourceGroup}/workspaces/${ws.workspace}/datastores/${datastore}/paths/${remotePath}`;
}

// ---------------------------------------------------------------------------------------------
// Datastore → blob container

export interface DatastoreInfo {
  name: string;
  accountName: string;
  containerName: string;
  accountUrl: string; // {protocol}://{accountName}.blob.{endpoint}
  credentialsType: string; // AccountKey | Sas | None | …
}

export async function getDatastoreInfo(ctx: AzureMLContext, name = WORKSPACE_BLOB_STORE): Promise<DatastoreInfo> {
  const { resourceGroup, workspace } = ctx.ws;
  const ds = await azureCall(`datastore '${name}' of workspace '${workspace}'`, () =>
    ctx.client.datastores.get(resourceGroup, workspace, name, { abortSignal: ctx.signal }),
  );
  const p = ds.properties as AzureBlobDatastore;
  if (p.datastoreType !== 'AzureBlob') {
    throw new UserError(`Datastore '${name}' is of type ${p.datastoreType}; uploads support AzureBlob datastores`);
  }
  if (!p.accountName || !p.containerName)
    throw new UserError(`Datastore '${name}' has no storage account or container`);
  // as azure-ai-ml: "{protocol}://{account}.blob.{endpoint}", from the datastore's own fields
  const protocol = p.protocol || 'https';
  const endpoint = p.endpoint || 'core.windows.net';
  return {
    name,
    accountName: p.accountName,
    containerName: p.containerName,
    accountUrl: `${protocol}://${p.accountName}.blob.${endpoint}`,
    credentialsType: p.credentials?.credentialsType ?? 'None',
  };
}

/** Container client authenticated with the datastore's secret (account key or SAS, masked) or the task's identity. */
export async function getContainerClient(ctx: AzureMLContext, info: DatastoreInfo): Promise<ContainerClient> {
  // the agent's proxy unless the account URL is in its bypass list (one account per client: decided here)
  const options = { retryOptions: { maxTries: 6 }, proxyOptions: proxyOptionsFor(ctx.proxy, info.accountUrl) };
  let service: BlobServiceClient;
  if (info.credentialsType === 'AccountKey' || info.credentialsType === 'Sas') {
    const secrets: any = await azureCall(`secrets of datastore '${info.name}'`, () =>
      ctx.client.datastores.listSecrets(ctx.ws.resourceGroup, ctx.ws.workspace, info.name, { abortSignal: ctx.signal }),
    );
    if (secrets.secretsType === 'AccountKey' && secrets.key) {
      ctx.onSecret?.(secrets.key);
      service = new BlobServiceClient(
        info.accountUrl,
        new StorageSharedKeyCredential(info.accountName, secrets.key),
        options,
      );
    } else if (secrets.secretsType === 'Sas' && secrets.sasToken) {
      const sas = String(secrets.sasToken).replace(/^\?/, '');
      ctx.onSecret?.(sas);
      for (const part of sas.split('&')) if (part.startsWith('sig=')) ctx.onSecret?.(decodeURIComponent(part.slice(4)));
      service = new BlobServiceClient(`${info.accountUrl}?${sas}`, new AnonymousCredential(), options);
    } else {
      throw new UserError(`Datastore '${info.name}' returned no usable secret (${secrets.secretsType})`);
    }
  } else {
    // identity-based datastore: the connection's identity needs Storage Blob Data Contributor
    service = new BlobServiceClient(info.accountUrl, ctx.credential, options);
  }
  return service.getContainerClient(info.containerName);
}

export function storageError(err: any, info: DatastoreInfo, what: string): unknown {
  if (err?.name === 'AbortError') return err;
  const status = err?.statusCode;
  const code = err?.code ?? err?.details?.errorCode;
  const msg = oneLine(err?.details?.message ?? err?.message ?? String(err));
  if (status === 403) {
    return new UserError(
      `Storage account '${info.accountName}' refused ${what}: ${code ?? 'AuthorizationFailure'}: ${msg}; the identity needs 'Storage Blob Data Contributor' (or the datastore's key must be valid)`,
    );
  }
  return new UserError(
    `Storage account '${info.accountName}': ${what} failed${status ? ` (HTTP ${status})` : ''}: ${code ? code + ': ' : ''}${msg}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Upload

export interface UploadOptions {
  onProgress?(bytes: number, total: number): void;
  /** written into the indicator blob's metadata, as azure-ai-ml does (name + version of the asset) */
  assetName?: string;
  assetVersion?: string;
  datastore?: string;
  /** parallel files (default 8) */
  concurrency?: number;
}
export interface UploadResult {
  uri: string;
  hash: string;
  uploadedBytes: number;
  skipped: boolean;
  files: number;
  totalBytes: number;
}

async function mapLimit<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (e) {
        if (failed === undefined) failed = e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed;
}

/** Upload an already prepared asset (skip when the indicator blob says upload_status=completed). */
export async function uploadPreparedAsset(
  ctx: AzureMLContext,
  asset: PreparedAsset,
  opts: UploadOptions = {},
): Promise<UploadResult> {
  const info = await getDatastoreInfo(ctx, opts.datastore ?? WORKSPACE_BLOB_STORE);
  const container = await getContainerClient(ctx, info);
  const uri = datastoreUri(ctx.ws, asset.remotePath, info.name);
  const base = { uri, hash: asset.hash, files: asset.files.length, totalBytes: asset.totalBytes };
  const indicator = container.getBlockBlobClient(asset.files[0]!.blob);

  let props;
  try {
    props = await indicator.getProperties({ abortSignal: ctx.signal });
  } catch (err: any) {
    if (err?.statusCode !== 404) throw storageError(err, info, 'reading the upload indicator');
  }
  if (props?.metadata?.upload_status === UPLOAD_CONFIRMATION.upload_status) {
    opts.onProgress?.(asset.totalBytes, asset.totalBytes);
    return { ...base, uploadedBytes: 0, skipped: true };
  }

  const perFile = new Map<string, number>();
  let done = 0;
  const report = () => opts.onProgress?.(done, asset.totalBytes);
  const single = asset.files.length === 1;
  await mapLimit(asset.files, opts.concurrency ?? 8, async (f) => {
    const client = container.getBlockBlobClient(f.blob);
    try {
      // uploadFile streams ranges of the file (fs read streams), never the whole file in memory. Above 32 MiB it
      // uploads 8 MiB blocks in parallel (as azcopy does), so a dropped connection retries one block, not the file.
      // Content-MD5 from the hash pass: a single Put Blob would get one from the service, a block upload none.
      await client.uploadFile(f.local, {
        abortSignal: ctx.signal,
        maxSingleShotSize: SINGLE_SHOT_BYTES,
        blockSize: BLOCK_BYTES,
        ...(f.md5 ? { blobHTTPHeaders: { blobContentMD5: Buffer.from(f.md5, 'base64') } } : {}),
        concurrency: single ? 8 : 2,
        onProgress: (ev) => {
          const prev = perFile.get(f.blob) ?? 0;
          perFile.set(f.blob, ev.loadedBytes);
          done += ev.loadedBytes - prev;
          report();
        },
      });
    } catch (err) {
      throw storageError(err, info, `uploading ${f.blob}`);
    }
    const prev = perFile.get(f.blob) ?? 0;
    if (prev < f.size) {
      done += f.size - prev;
      perFile.set(f.blob, f.size);
      report();
    }
  });

  try {
    await indicator.setMetadata(
      {
        ...UPLOAD_CONFIRMATION,
        name: opts.assetName || asset.name.replace(/[^\x20-\x7e]/g, '_'),
        version: opts.assetVersion || randomUUID(),
      },
      { abortSignal: ctx.signal },
    );
  } catch (err) {
    throw storageError(err, info, 'setting the upload indicator');
  }
  return { ...base, uploadedBytes: done, skipped: false };
}

/** Hash + upload a local file or folder to workspaceblobstore under LocalUpload/<md5>/<name>. */
export async function uploadLocalAsset(
  ctx: AzureMLContext,
  localPath: string,
  opts: UploadOptions = {},
): Promise<UploadResult> {
  const asset = await prepareLocalAsset(localPath, { abortSignal: ctx.signal });
  return uploadPreparedAsset(ctx, asset, opts);
}

/** Human-readable byte count for logs and progress (B, KiB, MiB, GiB). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

// ---------------------------------------------------------------------------------------------
// Download (model files of a datastore path or a job output), owned by AzureMLModelDownload@1

/**
 * Where a blob lands under destDir, or a reason to refuse it. `rel` is the blob name relative to the asset root
 * (forward slashes). Refused: empty names, absolute paths ('/x', 'C:x', '\\\\server'), backslashes (a separator on
 * Windows agents), '.' / '..' / empty segments, control characters — anything whose resolved path would not be
 * strictly inside destDir. Pure: no I/O.
 */
export function safeBlobTarget(destDir: string, rel: string): { path: string } | { refused: string } {
  if (!rel) return { refused: 'empty name' };
  if (/[\u0000-\u001f\u007f]/.test(rel)) return { refused: 'control characters in the name' };
  if (rel.includes('\\')) return { refused: 'backslash in the name' };
  if (rel.startsWith('/') || /^[a-zA-Z]:/.test(rel)) return { refused: 'absolute path' };
  const segs = rel.split('/');
  if (segs.some((s) => s === '..')) return { refused: "'..' segment" };
  if (segs.some((s) => s === '' || s === '.')) return { refused: "empty or '.' segment" };
  const root = path.resolve(destDir);
  const target = path.resolve(root, ...segs);
  const r = path.relative(root, target);
  if (!r || r.startsWith('..') || path.isAbsolute(r)) return { refused: 'resolves outside the download folder' };
  return { path: target };
}

/** Datastore + path prefix of an azureml:// datastore URI (short or long form), or undefined. */
export function parseDatastoreUri(uri: string):
  | {
      datastore: string;
      path: string;
      workspace?: { subscriptionId: string; resourceGroup: string; workspace: string };
    }
  | undefined {
  const m =
    /^azureml:\/\/(?:subscriptions\/([^/]+)\/resource[gG]roups\/([^/]+)\/(?:providers\/Microsoft\.MachineLearningServices\/)?workspaces\/([^/]+)\/)?datastores\/([^/]+)\/paths\/(.*)$/i.exec(
      uri.trim(),
    );
  if (!m) return undefined;
  let p: string;
  try {
    p = decodeURIComponent(m[5]!);
  } catch {
    p = m[5]!;
  }
  return {
    datastore: m[4]!,
    path: p,
    ...(m[1] ? { workspace: { subscriptionId: m[1], resourceGroup: m[2]!, workspace: m[3]! } } : {}),
  };
}

/**
 * azureml://jobs/<job>/outputs/artifacts/…: the files the run logged, in the workspace's artifact store (where the
 * service's implicit `default` output of the job points too).
 */
export function jobArtifactsUri(job: string): string {
  return `azureml://datastores/workspaceartifactstore/paths/ExperimentRun/dcid.${job}/`;
}

/** azure-ai-ml's default location of a named job output without an explicit path. */
export function defaultJobOutputUri(job: string, output: string): string {
  return `azureml://datastores/${WORKSPACE_BLOB_STORE}/paths/azureml/${job}/${output}/`;
}

export interface DownloadOptions {
  /** minimatch over the path relative to the asset root (default '**') */
  pattern?: string;
  onProgress?(bytes: number, total: number): void;
  /** parallel files (default 8) */
  concurrency?: number;
  /** job lookup for azureml://jobs/<job>/outputs/<output> (default: GET …/jobs/<job> through ARM) */
  getJob?(
    name: string,
  ): Promise<{ properties?: { outputs?: Record<string, { uri?: string | null } | null> } } | undefined>;
}
export interface DownloadResult {
  /** absolute paths of the files written or already present (sorted) */
  files: string[];
  /** bytes transferred (0 for files already identical on disk) */
  bytes: number;
  totalBytes: number;
  /** files already present with the same size and MD5: left as they are */
  unchanged: number;
  /**
   * files whose blob has no Content-MD5 (typical of job outputs and of block uploads that did not set one): their
   * content could only be checked by size (and, already on disk, they are downloaded again: size alone proves nothing)
   */
  sizeOnly: string[];
  /** absolute path of the asset's top entry under destDir (folder, or the single file) */
  root: string;
  /** the datastore URI the files came from (job outputs resolved) */
  resolvedUri: string;
}

interface PlannedBlob {
  blob: string;
  rel: string;
  target: string;
  size: number;
  md5?: string;
}

async function md5OfFile(file: string, signal?: AbortSignal): Promise<string | undefined> {
  const h = createHash('md5');
  try {
    await hashFile(file, h, signal);
  } catch {
    return undefined;
  }
  return h.digest('base64');
}

async function resolveToDatastore(ctx: AzureMLContext, uri: string, opts: DownloadOptions): Promise<string> {
  let cur = uri.trim();
  for (let depth = 0; depth < 4; depth++) {
    const m = /^azureml:\/\/jobs\/([^/]+)\/outputs\/([^/]+)(?:\/paths\/(.*))?\/?$/i.exec(cur);
    if (!m) return cur;
    const [, job, output, sub] = m as unknown as [string, string, string, string | undefined];
    const rec = opts.getJob
      ? await opts.getJob(job)
      : await armGetOptional<{ properties?: { outputs?: Record<string, { uri?: string | null } | null> } }>(
          ctx,
          wsPath(ctx.ws, `/jobs/${encodeURIComponent(job)}`),
          { what: `job '${job}'` },
        );
    if (!rec) throw new UserError(`Job '${job}' of ${uri} was not found in workspace '${ctx.ws.workspace}'`);
    const out = rec.properties?.outputs?.[output];
    let base =
      out?.uri ||
      (output === 'default'
        ? undefined
        : output === 'artifacts'
          ? jobArtifactsUri(job)
          : defaultJobOutputUri(job, output));
    if (!base) throw new UserError(`Job '${job}' has no output '${output}' (${uri})`);
    // the service lists `default` as azureml://datastores/workspaceartifactstore/ExperimentRun/dcid.<job> (no /paths/)
    base = base.replace(/^(azureml:\/\/datastores\/[^/]+\/)(?!paths\/)/i, '$1paths/');
    cur = sub ? `${base.replace(/\/+$/, '')}/${sub.replace(/^\/+/, '')}` : base;
  }
  throw new UserError(`${uri}: job outputs refer to each other too deeply`);
}

/**
 * Download the files of an asset URI into destDir: azureml://[subscriptions/…/workspaces/<w>/]datastores/<ds>/paths/<p>
 * or azureml://jobs/<job>/outputs/<output>[/paths/<p>] (resolved through the job's outputs, else azure-ai-ml's default
 * azureml/<job>/<output>/ on workspaceblobstore). Layout as azure-ai-ml: a file lands at destDir/<file name>, a folder at
 * destDir/<folder name>/<relative path>. Every blob name is checked with safeBlobTarget before anything is written
 * (one unsafe name → UserError, nothing written). Files stream to a temporary sibling, are checked against the listed
 * size and Content-MD5 (when the blob has one: the others are reported in sizeOnly), then renamed into place; a file
 * already present with the same size and MD5 is left alone (idempotent reruns).
 */
export async function downloadAsset(
  ctx: AzureMLContext,
  uri: string,
  destDir: string,
  opts: DownloadOptions = {},
): Promise<DownloadResult> {
  const resolvedUri = await resolveToDatastore(ctx, uri, opts);
  const parsed = parseDatastoreUri(resolvedUri);
  if (!parsed)
    throw new UserError(
      `Cannot download ${uri}${resolvedUri !== uri ? ` (resolved to ${resolvedUri})` : ''}: only azureml:// datastore paths and job outputs are supported`,
    );
  if (
    parsed.workspace &&
    (parsed.workspace.workspace.toLowerCase() !== ctx.ws.workspace.toLowerCase() ||
      parsed.workspace.resourceGroup.toLowerCase() !== ctx.ws.resourceGroup.toLowerCase() ||
      parsed.workspace.subscriptionId.toLowerCase() !== ctx.ws.subscriptionId.toLowerCase())
  ) {
    throw new UserError(
      `${uri} is in workspace '${parsed.workspace.workspace}' (resource group ${parsed.workspace.resourceGroup}), not in '${ctx.ws.workspace}'`,
    );
  }
  const info = await getDatastoreInfo(ctx, parsed.datastore);
  const container = await getContainerClient(ctx, info);
  const prefix = parsed.path.replace(/^\/+/, '');
  const trimmed = prefix.replace(/\/+$/, '');
  const top = trimmed.split('/').pop() || info.containerName;
  const root = path.resolve(destDir);

  // list: the exact blob (a file asset) or everything under '<prefix>/' (a folder asset)
  const listed: Array<{ name: string; size: number; md5?: string }> = [];
  let isFile = false;
  try {
    if (trimmed && !prefix.endsWith('/')) {
      const props = await container
        .getBlobClient(trimmed)
        .getProperties({ abortSignal: ctx.signal })
        .catch((err) => {
          if (err?.statusCode === 404) return undefined;
          throw err;
        });
      if (props && props.metadata?.hdi_isfolder !== 'true') {
        listed.push(
          blobEntry({
            name: trimmed,
            properties: { contentLength: props.contentLength, contentMD5: props.contentMD5 },
          }),
        );
        isFile = true;
      }
    }
    if (!isFile) {
      for await (const b of container.listBlobsFlat({
        prefix: trimmed ? `${trimmed}/` : '',
        includeMetadata: true,
        abortSignal: ctx.signal,
      })) {
        // folder placeholders: ADLS Gen2 directories (hdi_isfolder) and empty 'x/' marker blobs some tools create
        if (b.metadata?.hdi_isfolder === 'true' || (b.name.endsWith('/') && !b.properties.contentLength)) continue;
        listed.push(blobEntry(b));
      }
    }
  } catch (err) {
    throw storageError(err, info, `listing ${trimmed || '/'}`);
  }
  if (!listed.length)
    throw new UserError(`No files at ${resolvedUri} (datastore '${info.name}', container '${info.containerName}')`);

  // plan: every name checked before the first write
  const rootTarget = safeBlobTarget(root, top);
  if ('refused' in rootTarget)
    throw new UserError(`Refusing to download ${uri}: its name '${top}' is unsafe (${rootTarget.refused})`);
  const plan: PlannedBlob[] = [];
  for (const b of listed) {
    const rel = isFile ? top : `${top}/${b.name.slice(trimmed.length + (trimmed ? 1 : 0))}`;
    const t = safeBlobTarget(root, rel);
    if ('refused' in t) {
      throw new UserError(
        `Refusing to download blob '${b.name}': unsafe file name (${t.refused}) that could be written outside the download folder ${root}; nothing was downloaded`,
      );
    }
    plan.push({ blob: b.name, rel: isFile ? '' : rel.slice(top.length + 1), target: t.path, size: b.size, md5: b.md5 });
  }
  const pattern = (opts.pattern ?? '').trim() || '**';
  const selected = isFile
    ? plan.filter(() => minimatch(top, pattern, { dot: true }))
    : plan.filter((p) => minimatch(p.rel, pattern, { dot: true }));
  if (!selected.length)
    throw new UserError(`itemPattern '${pattern}' matches none of the ${plan.length} file(s) of ${uri}`);
  // two blobs mapping to one file (e.g. 'a/b' as a blob and as a folder prefix) cannot both be written
  const byTarget = new Map<string, string>();
  for (const p of selected) {
    const other = byTarget.get(p.target);
    if (other) throw new UserError(`Blobs '${other}' and '${p.blob}' would both be written to ${p.target}`);
    byTarget.set(p.target, p.blob);
  }

  const totalBytes = selected.reduce((s, p) => s + p.size, 0);
  let done = 0;
  let transferred = 0;
  let unchanged = 0;
  const sizeOnly: string[] = [];
  const report = () => opts.onProgress?.(done, totalBytes);
  await fsp.mkdir(root, { recursive: true });
  const realRoot = await fsp.realpath(root);
  report();
  await mapLimit(selected, opts.concurrency ?? 8, async (p) => {
    const dir = path.dirname(p.target);
    await fsp.mkdir(dir, { recursive: true });
    // a symbolic link already inside destDir must not carry the write elsewhere
    const realDir = await fsp.realpath(dir);
    if (realDir !== realRoot && !realDir.startsWith(realRoot + path.sep)) {
      throw new UserError(
        `Refusing to write ${p.target}: its folder resolves outside the download folder (symbolic link to ${realDir})`,
      );
    }
    const existing = await fsp.lstat(p.target).catch(() => undefined);
    if (existing?.isSymbolicLink()) throw new UserError(`Refusing to write ${p.target}: a symbolic link is in the way`);
    if (!p.md5) sizeOnly.push(p.target);
    // a file already there counts as the blob only when its MD5 matches: equal sizes alone are common (weights of
    // the same architecture), so without a Content-MD5 the file is downloaded again
    if (p.md5 && existing?.isFile() && existing.size === p.size && (await md5OfFile(p.target, ctx.signal)) === p.md5) {
      unchanged++;
      done += p.size;
      report();
      return;
    }
    const tmp = `${p.target}.part-${randomUUID().slice(0, 8)}`;
    const h = createHash('md5');
    let got = 0;
    try {
      const res = await container
        .getBlobClient(p.blob)
        .download(0, undefined, { abortSignal: ctx.signal, maxRetryRequests: 5 });
      if (!res.readableStreamBody) throw new UserError(`Storage returned no content for ${p.blob}`);
      const body = res.readableStreamBody;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          h.update(chunk);
          got += chunk.length;
          done += chunk.length;
          transferred += chunk.length;
          report();
          cb(null, chunk);
        },
      });
      await pipeline(body, counter, createWriteStream(tmp, { flags: 'wx' }), { signal: ctx.signal });
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      if (ctx.signal?.aborted) throw ctx.signal.reason ?? err; // cancelled: say so, not "request aborted"
      if (err instanceof UserError) throw err;
      throw storageError(err, info, `downloading ${p.blob}`);
    }
    const md5 = h.digest('base64');
    if (got !== p.size) {
      await fsp.rm(tmp, { force: true });
      throw new UserError(`Downloaded '${p.blob}' is corrupt: ${got} bytes received, the blob has ${p.size}`);
    }
    if (p.md5 && md5 !== p.md5) {
      await fsp.rm(tmp, { force: true });
      throw new UserError(
        `Downloaded '${p.blob}' is corrupt: its MD5 ${Buffer.from(md5, 'base64').toString('hex')} differs from the blob's Content-MD5 ${Buffer.from(p.md5, 'base64').toString('hex')}`,
      );
    }
    await fsp.rename(tmp, p.target);
  });
  return {
    files: selected.map((p) => p.target).sort(),
    bytes: transferred,
    totalBytes,
    unchanged,
    sizeOnly: sizeOnly.sort(),
    root: path.join(root, top),
    resolvedUri,
  };
}

function blobEntry(b: { name: string; properties: { contentLength?: number; contentMD5?: Uint8Array } }): {
  name: string;
  size: number;
  md5?: string;
} {
  const md5 =
    b.properties.contentMD5 && b.properties.contentMD5.length
      ? Buffer.from(b.properties.contentMD5).toString('base64')
      : undefined;
  return { name: b.name, size: b.properties.contentLength ?? 0, md5 };
}
