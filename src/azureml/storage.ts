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
import { createReadStream } from 'node:fs';
import { minimatch } from 'minimatch';
import {
  AnonymousCredential, BlobServiceClient, StorageSharedKeyCredential, type ContainerClient,
} from '@azure/storage-blob';
import type { AzureBlobDatastore } from '@azure/arm-machinelearning';
import { UserError, setSecret } from '../pipeline';
import type { AzureMLContext } from './context';
import { azureCall, oneLine } from './errors';
import type { WorkspaceRef } from './workspace';

export const WORKSPACE_BLOB_STORE = 'workspaceblobstore';
export const ARTIFACT_ORIGIN = 'LocalUpload';
export const HASH_SEED = 'Initialize for october 2021 AML CLI version';
const UPLOAD_CONFIRMATION = { upload_status: 'completed' } as const;
const CHUNK = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Ignore files (.amlignore wins over .gitignore; only the one at the root of the folder counts)

interface IgnorePattern { include: boolean; glob: string; dirOnly: boolean }

/**
 * gitignore-style rules as azure-ai-ml applies them (GitWildMatchPattern): note that azure-ai-ml returns
 * the verdict of the FIRST pattern that matches (not the last, as git does) — we do the same.
 */
export class IgnoreRules {
  private readonly patterns: IgnorePattern[];
  constructor(readonly root: string, readonly file: string | undefined, text: string) {
    this.patterns = [];
    for (let raw of text.split(/\r?\n/)) {
      raw = raw.replace(/(?<!\\)\s+$/, '');
      if (!raw || raw.startsWith('#')) continue;
      let include = true;
      if (raw.startsWith('!')) { include = false; raw = raw.slice(1); }
      if (raw.startsWith('\\#') || raw.startsWith('\\!')) raw = raw.slice(1);
      const dirOnly = raw.endsWith('/');
      if (dirOnly) raw = raw.replace(/\/+$/, '');
      if (!raw) continue;
      const anchored = raw.includes('/');
      const p = raw.replace(/^\/+/, '');
      this.patterns.push({ include, dirOnly, glob: anchored || p.startsWith('**') ? p : `**/${p}` });
    }
  }
  static none(root: string): IgnoreRules { return new IgnoreRules(root, undefined, ''); }
  get active(): boolean { return this.patterns.length > 0; }

  /** rel: path relative to the root with '/' separators. */
  isExcluded(rel: string): boolean {
    if (!this.patterns.length) return false;
    const parts = rel.split('/');
    for (const pat of this.patterns) {
      // a pattern matches the path itself (unless dir-only) or any of its ancestor folders
      let hit = !pat.dirOnly && minimatch(rel, pat.glob, { dot: true });
      for (let i = 1; !hit && i < parts.length; i++) hit = minimatch(parts.slice(0, i).join('/'), pat.glob, { dot: true });
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
    } catch { /* absent */ }
  }
  return IgnoreRules.none(dir);
}

// ---------------------------------------------------------------------------------------------
// Hash (get_object_hash)

/** Python's str ordering: by code point (JS `<` compares UTF-16 units, which differs for astral chars). */
export function codePointCompare(a: string, b: string): number {
  const A = Array.from(a), B = Array.from(b);
  for (let i = 0; i < Math.min(A.length, B.length); i++) {
    const d = A[i]!.codePointAt(0)! - B[i]!.codePointAt(0)!;
    if (d) return d;
  }
  return A.length - B.length;
}

async function hashFile(file: string, h: Hash, signal?: AbortSignal): Promise<void> {
  const stream = createReadStream(file, { highWaterMark: CHUNK, signal });
  for await (const chunk of stream) h.update(chunk as Buffer);
}

async function statFollow(p: string): Promise<Stats | undefined> {
  try { return await fsp.stat(p); } catch { return undefined; }
}

async function hashDir(dir: string, rel: string, h: Hash, ignore: IgnoreRules, signal?: AbortSignal): Promise<void> {
  const names = await fsp.readdir(dir);
  // azure-ai-ml: sorted(iterdir(), key=lambda p: str(p).lower()) — children share the parent prefix
  const sorted = names.map((n) => ({ n, key: path.join(dir, n).toLowerCase() })).sort((a, b) => codePointCompare(a.key, b.key));
  for (const { n } of sorted) {
    signal?.throwIfAborted();
    const childRel = rel ? `${rel}/${n}` : n;
    if (ignore.isExcluded(childRel)) continue;
    h.update(Buffer.from(n, 'utf8'));
    const full = path.join(dir, n);
    // symlinks: hash what they point to (stat follows the link). azure-ai-ml means the same but resolves a relative
    // link target against the process's cwd (Path(os.readlink(p))); we resolve it against the link's folder.
    const st = await statFollow(full);
    if (st?.isFile()) await hashFile(full, h, signal);
    else if (st?.isDirectory()) await hashDir(full, childRel, h, ignore, signal);
  }
}

/** md5 hex of a file or folder, exactly as azure-ai-ml's get_object_hash. */
export async function getObjectHash(p: string, ignore?: IgnoreRules, signal?: AbortSignal): Promise<string> {
  const h = createHash('md5');
  h.update(Buffer.from(HASH_SEED, 'utf8'));
  const st = await fsp.stat(p);
  if (st.isDirectory()) await hashDir(p, '', h, ignore ?? IgnoreRules.none(p), signal);
  else await hashFile(p, h, signal);
  return h.digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Local asset: what would be uploaded where

export interface AssetFile { local: string; blob: string; size: number }
export interface PreparedAsset {
  localPath: string;        // absolute
  name: string;             // basename of the file or folder
  isDir: boolean;
  hash: string;
  /** 'LocalUpload/<hash>/<name>' */
  remotePath: string;
  files: AssetFile[];       // sorted by local path; files[0].blob is the indicator blob
  totalBytes: number;
  ignoreFile?: string;      // the .amlignore/.gitignore that applied
}

async function walkFiles(root: string, dir: string, rel: string, ignore: IgnoreRules, out: Array<{ local: string; rel: string; size: number }>, depth = 0): Promise<void> {
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
export async function prepareLocalAsset(localPath: string, signal?: AbortSignal): Promise<PreparedAsset> {
  const abs = path.resolve(localPath);
  const st = await statFollow(abs);
  if (!st || (!st.isFile() && !st.isDirectory())) throw new UserError(`No such file or directory: ${abs}`);
  const name = path.basename(abs);
  if (st.isFile()) {
    const hash = await getObjectHash(abs, undefined, signal);
    const remotePath = `${ARTIFACT_ORIGIN}/${hash}/${name}`;
    return { localPath: abs, name, isDir: false, hash, remotePath, files: [{ local: abs, blob: remotePath, size: st.size }], totalBytes: st.size };
  }
  const ignore = await loadIgnoreRules(abs);
  const found: Array<{ local: string; rel: string; size: number }> = [];
  await walkFiles(abs, abs, '', ignore, found);
  if (!found.length) {
    throw new UserError(`Folder '${abs}' is empty${ignore.active ? ` (after applying ${path.basename(ignore.file!)})` : ''}`);
  }
  const hash = await getObjectHash(abs, ignore, signal);
  const remotePath = `${ARTIFACT_ORIGIN}/${hash}/${name}`;
  // azure-ai-ml sorts the (local, blob) pairs by local path; the first blob is the indicator
  found.sort((a, b) => codePointCompare(a.local, b.local));
  const files = found.map((f) => ({ local: f.local, blob: `${remotePath}/${f.rel}`, size: f.size }));
  return { localPath: abs, name, isDir: true, hash, remotePath, files, totalBytes: files.reduce((s, f) => s + f.size, 0), ignoreFile: ignore.file };
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
  accountUrl: string;        // {protocol}://{accountName}.blob.{endpoint}
  credentialsType: string;   // AccountKey | Sas | None | …
}

export async function getDatastoreInfo(ctx: AzureMLContext, name = WORKSPACE_BLOB_STORE): Promise<DatastoreInfo> {
  const { resourceGroup, workspace } = ctx.ws;
  const ds = await azureCall(`datastore '${name}' of workspace '${workspace}'`, () =>
    ctx.client.datastores.get(resourceGroup, workspace, name, { abortSignal: ctx.signal }));
  const p = ds.properties as AzureBlobDatastore;
  if (p.datastoreType !== 'AzureBlob') {
    throw new UserError(`Datastore '${name}' is of type ${p.datastoreType}; uploads support AzureBlob datastores`);
  }
  if (!p.accountName || !p.containerName) throw new UserError(`Datastore '${name}' has no storage account or container`);
  // as azure-ai-ml: "{protocol}://{account}.blob.{endpoint}", from the datastore's own fields
  const protocol = p.protocol || 'https';
  const endpoint = p.endpoint || 'core.windows.net';
  return {
    name, accountName: p.accountName, containerName: p.containerName,
    accountUrl: `${protocol}://${p.accountName}.blob.${endpoint}`,
    credentialsType: p.credentials?.credentialsType ?? 'None',
  };
}

/** Container client authenticated with the datastore's secret (account key or SAS, masked) or the task's identity. */
export async function getContainerClient(ctx: AzureMLContext, info: DatastoreInfo): Promise<ContainerClient> {
  const retryOptions = { maxTries: 6 };
  let service: BlobServiceClient;
  if (info.credentialsType === 'AccountKey' || info.credentialsType === 'Sas') {
    const secrets: any = await azureCall(`secrets of datastore '${info.name}'`, () =>
      ctx.client.datastores.listSecrets(ctx.ws.resourceGroup, ctx.ws.workspace, info.name, { abortSignal: ctx.signal }));
    if (secrets.secretsType === 'AccountKey' && secrets.key) {
      setSecret(secrets.key);
      service = new BlobServiceClient(info.accountUrl, new StorageSharedKeyCredential(info.accountName, secrets.key), { retryOptions });
    } else if (secrets.secretsType === 'Sas' && secrets.sasToken) {
      const sas = String(secrets.sasToken).replace(/^\?/, '');
      setSecret(sas);
      for (const part of sas.split('&')) if (part.startsWith('sig=')) setSecret(decodeURIComponent(part.slice(4)));
      service = new BlobServiceClient(`${info.accountUrl}?${sas}`, new AnonymousCredential(), { retryOptions });
    } else {
      throw new UserError(`Datastore '${info.name}' returned no usable secret (${secrets.secretsType})`);
    }
  } else {
    // identity-based datastore: the connection's identity needs Storage Blob Data Contributor
    service = new BlobServiceClient(info.accountUrl, ctx.credential, { retryOptions });
  }
  return service.getContainerClient(info.containerName);
}

function storageError(err: any, info: DatastoreInfo, what: string): unknown {
  if (err?.name === 'AbortError') return err;
  const status = err?.statusCode;
  const code = err?.code ?? err?.details?.errorCode;
  const msg = oneLine(err?.details?.message ?? err?.message ?? String(err));
  if (status === 403) {
    return new UserError(`Storage account '${info.accountName}' refused ${what}: ${code ?? 'AuthorizationFailure'}: ${msg}; the identity needs 'Storage Blob Data Contributor' (or the datastore's key must be valid)`);
  }
  return new UserError(`Storage account '${info.accountName}': ${what} failed${status ? ` (HTTP ${status})` : ''}: ${code ? code + ': ' : ''}${msg}`);
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
export interface UploadResult { uri: string; hash: string; uploadedBytes: number; skipped: boolean; files: number; totalBytes: number }

async function mapLimit<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const item = items[next++]!;
      try { await fn(item); } catch (e) { if (failed === undefined) failed = e; }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed;
}

/** Upload an already prepared asset (skip when the indicator blob says upload_status=completed). */
export async function uploadPreparedAsset(ctx: AzureMLContext, asset: PreparedAsset, opts: UploadOptions = {}): Promise<UploadResult> {
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
      // uploadFile streams ranges of the file (fs read streams), never the whole file in memory
      await client.uploadFile(f.local, {
        abortSignal: ctx.signal,
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
    if (prev < f.size) { done += f.size - prev; perFile.set(f.blob, f.size); report(); }
  });

  try {
    await indicator.setMetadata({
      ...UPLOAD_CONFIRMATION,
      name: opts.assetName || asset.name.replace(/[^\x20-\x7e]/g, '_'),
      version: opts.assetVersion || randomUUID(),
    }, { abortSignal: ctx.signal });
  } catch (err) {
    throw storageError(err, info, 'setting the upload indicator');
  }
  return { ...base, uploadedBytes: done, skipped: false };
}

/** Hash + upload a local file or folder to workspaceblobstore under LocalUpload/<md5>/<name>. */
export async function uploadLocalAsset(ctx: AzureMLContext, localPath: string, opts: UploadOptions = {}): Promise<UploadResult> {
  const asset = await prepareLocalAsset(localPath, ctx.signal);
  return uploadPreparedAsset(ctx, asset, opts);
}
