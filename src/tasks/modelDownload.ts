// AzureMLModelDownload@1: resolve a model version (given, latest, or latest carrying a tag) and optionally download
// its files. Also the download task the "Azure ML model" release artifact injects: the server passes the artifact's
// inputs by id (connection, resourceGroup, workspace, definition) plus `version`, `downloadPath` and `itemPattern`.
// A non-draft release's artifact data has defaultVersionType/defaultVersionSpecific stripped (Azure DevOps Server
// 2022 ReleaseBuilderBase.PopulateArtifactData, see test/helpers/artifactHarness.ts), so the release's `version`
// decides; the defaultVersion* fallback below serves callers that still pass them.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { ModelVersion } from '@azure/arm-machinelearning';
import { InputError, UserError } from '../pipeline';
import {
  ASSET_NAME_PATTERN,
  VERSION_PATTERN,
  downloadAsset,
  formatBytes as fmtBytes,
  getModelContainer,
  getModelVersion,
  listModelVersions,
  studioUrl,
  type AzureMLContext,
  type DownloadResult,
  type WorkspaceRef,
} from '../azureml';
import { mdEscape } from './markdown';
import type { Log } from '../log';

export const VERSION_SELECTORS = ['specific', 'latest', 'latestWithTag'] as const;
export type VersionSelector = (typeof VERSION_SELECTORS)[number];
/** defaultVersionType values of the release artifact */
export const DEFAULT_VERSION_TYPES = ['latestType', 'selectDuringReleaseCreationType', 'specificVersionType'] as const;
export const METADATA_FILE = 'model.json';

export interface DownloadInputs {
  /** model name (input `definition`, alias `modelName`) */
  definition: string;
  versionSelector: string;
  version?: string;
  /** latestWithTag: 'key' (tag present) or 'key=value' */
  tag?: string;
  /** artifact inputs, used only when `version` is blank */
  defaultVersionType?: string;
  defaultVersionSpecific?: string;
  download: boolean;
  /** absolute folder (required when download is true) */
  downloadPath?: string;
  itemPattern?: string;
}

export type Resolution =
  | { kind: 'version'; version: string; from: 'version' | 'defaultVersionSpecific' }
  | { kind: 'latest' }
  | { kind: 'latestWithTag'; tag: { key: string; value?: string } };

/** Check inputs and decide how the version is chosen (no I/O). */
export function planResolution(inputs: DownloadInputs): { name: string; resolution: Resolution; pattern: string } {
  const name = (inputs.definition ?? '').trim();
  if (!name) throw new InputError('definition', 'is required (the model name)');
  if (!ASSET_NAME_PATTERN.test(name))
    throw new InputError(
      'definition',
      `'${name}' is not a valid model name (1-255 letters, digits, '-' or '_', starting with a letter or digit)`,
    );
  const selector = (inputs.versionSelector ?? '').trim() || 'specific';
  if (!(VERSION_SELECTORS as readonly string[]).includes(selector))
    throw new InputError('versionSelector', `'${selector}' is not one of ${VERSION_SELECTORS.join(', ')}`);
  const version = (inputs.version ?? '').trim();
  const checkVersion = (input: 'version' | 'defaultVersionSpecific', v: string) => {
    if (!VERSION_PATTERN.test(v)) throw new InputError(input, `'${v}' is not a valid model version`);
  };
  let resolution: Resolution;
  if (selector === 'specific') {
    if (version) {
      checkVersion('version', version);
      resolution = { kind: 'version', version, from: 'version' };
    } else {
      const dvt = (inputs.defaultVersionType ?? '').trim();
      if (dvt && !(DEFAULT_VERSION_TYPES as readonly string[]).includes(dvt))
        throw new InputError('defaultVersionType', `'${dvt}' is not one of ${DEFAULT_VERSION_TYPES.join(', ')}`);
      if (dvt === 'latestType') resolution = { kind: 'latest' };
      else if (dvt === 'specificVersionType') {
        const s = (inputs.defaultVersionSpecific ?? '').trim();
        if (!s)
          throw new InputError(
            'defaultVersionSpecific',
            "is required when defaultVersionType is 'specificVersionType'",
          );
        checkVersion('defaultVersionSpecific', s);
        resolution = { kind: 'version', version: s, from: 'defaultVersionSpecific' };
      } else {
        throw new InputError(
          'version',
          "is required when versionSelector is 'specific' (or use versionSelector 'latest' / 'latestWithTag')",
        );
      }
    }
  } else {
    if (version)
      throw new InputError('version', `must be empty when versionSelector is '${selector}' (got '${version}')`);
    if (selector === 'latest') resolution = { kind: 'latest' };
    else {
      const t = (inputs.tag ?? '').trim();
      if (!t) throw new InputError('tag', "is required when versionSelector is 'latestWithTag' (key or key=value)");
      const i = t.indexOf('=');
      const key = (i < 0 ? t : t.slice(0, i)).trim();
      const value = i < 0 ? undefined : t.slice(i + 1).trim();
      if (!key || /[,\u0000-\u001f]/.test(t))
        throw new InputError('tag', `'${t}' is not a tag filter (key or key=value, one tag, no commas)`);
      resolution = { kind: 'latestWithTag', tag: { key, value } };
    }
  }
  const pattern = (inputs.itemPattern ?? '').trim() || '**';
  if (inputs.download && !inputs.downloadPath)
    throw new InputError('downloadPath', 'is required when download is true');
  return { name, resolution, pattern };
}

export interface DownloadOps {
  ws: WorkspaceRef;
  /** where the model lives, for messages: default `workspace '<ws>'` (a registry: `registry '<r>'`) */
  scope?: string;
  /** the model's reference in outputs: default `azureml:<name>:<version>` (a registry: its azureml://registries/… URI) */
  idOf?(name: string, version: string): string;
  /** studio link: default the workspace's model page ('' = none known, e.g. a registry) */
  studioUrlOf?(name: string, version: string): string;
  modelExists(name: string): Promise<boolean>;
  getVersion(name: string, version: string): Promise<ModelVersion | undefined>;
  latest(name: string, tag?: { key: string; value?: string }): Promise<ModelVersion | undefined>;
  download(
    uri: string,
    dest: string,
    pattern: string,
    onProgress: (bytes: number, total: number) => void,
  ): Promise<DownloadResult>;
}

export function azureOps(ctx: AzureMLContext): DownloadOps {
  return {
    ws: ctx.ws,
    modelExists: async (n) => (await getModelContainer(ctx, n)) !== undefined,
    getVersion: (n, v) => getModelVersion(ctx, n, v),
    latest: async (n, tag) => {
      const tags = tag ? { [tag.key]: tag.value ?? '' } : undefined;
      // the service filters; every candidate is re-checked here (newest first)
      const vs = await listModelVersions(ctx, n, { orderBy: 'createdtime desc', tags, top: tag ? undefined : 1 });
      return vs.find((v) => !tag || hasTag(v, tag));
    },
    download: (uri, dest, pattern, onProgress) => downloadAsset(ctx, uri, dest, { pattern, onProgress }),
  };
}

function hasTag(v: ModelVersion, tag: { key: string; value?: string }): boolean {
  const t = (v.properties?.tags ?? {}) as Record<string, string>;
  return tag.key in t && (tag.value === undefined || tag.value === '' || t[tag.key] === tag.value);
}

export interface ModelMetadata {
  name: string;
  version: string;
  id: string;
  armId?: string;
  uri: string;
  type: string;
  description?: string;
  tags: Record<string, string>;
  properties: Record<string, string>;
  jobName?: string;
  createdBy?: string;
  createdAt?: string;
  studioUrl: string;
  workspace: { subscriptionId: string; resourceGroup: string; name: string };
  files?: string[];
  /** downloaded files whose blob had no Content-MD5: checked by size only */
  filesWithoutMd5?: string[];
}

export interface DownloadTaskResult {
  metadata: ModelMetadata;
  /** absolute path of the model's files (folder or single file) when downloaded */
  modelPath?: string;
  metadataFile?: string;
  download?: { files: number; bytes: number; totalBytes: number; unchanged: number; sizeOnly: number };
}

export interface DownloadDeps {
  ops: DownloadOps;
  log: Log;
  progress(percent: number, text?: string): void;
}

export async function resolveAndDownload(inputs: DownloadInputs, deps: DownloadDeps): Promise<DownloadTaskResult> {
  const { ops, log } = deps;
  const { name, resolution, pattern } = planResolution(inputs);
  const where = ops.scope ?? `workspace '${ops.ws.workspace}'`;

  // resolve
  let mv: ModelVersion | undefined;
  if (resolution.kind === 'version') {
    mv = await ops.getVersion(name, resolution.version);
    if (!mv) {
      if (!(await ops.modelExists(name)))
        throw new InputError('definition', `model '${name}' was not found in ${where}`);
      throw new InputError(resolution.from, `model '${name}' has no version '${resolution.version}' in ${where}`);
    }
  } else {
    mv = await ops.latest(name, resolution.kind === 'latestWithTag' ? resolution.tag : undefined);
    if (!mv) {
      if (!(await ops.modelExists(name)))
        throw new InputError('definition', `model '${name}' was not found in ${where}`);
      if (resolution.kind === 'latest')
        throw new InputError('definition', `model '${name}' has no (non-archived) versions`);
      const t = resolution.tag;
      throw new InputError(
        'tag',
        `no version of model '${name}' carries tag ${t.value ? `${t.key}=${t.value}` : t.key}`,
      );
    }
  }
  const version = mv.name ?? (resolution.kind === 'version' ? resolution.version : '');
  const p = mv.properties ?? ({} as NonNullable<ModelVersion['properties']>);
  if (!p.modelUri) throw new UserError(`Model '${name}' version ${version} has no modelUri`);
  log.info(
    `Model ${name}:${version} (${resolution.kind === 'version' ? 'requested version' : resolution.kind === 'latest' ? 'latest version' : `latest version tagged ${resolution.tag.key}${resolution.tag.value ? '=' + resolution.tag.value : ''}`}) → ${p.modelUri}`,
  );

  const sd = mv.systemData;
  const metadata: ModelMetadata = {
    name,
    version,
    id: ops.idOf?.(name, version) ?? `azureml:${name}:${version}`,
    armId: mv.id,
    uri: p.modelUri,
    type: p.modelType ?? 'custom_model',
    ...(p.description ? { description: p.description } : {}),
    tags: { ...((p.tags ?? {}) as Record<string, string>) },
    properties: { ...((p.properties ?? {}) as Record<string, string>) },
    ...(p.jobName ? { jobName: p.jobName } : {}),
    ...(sd?.createdBy ? { createdBy: sd.createdBy } : {}),
    ...(sd?.createdAt ? { createdAt: new Date(sd.createdAt as unknown as string).toISOString() } : {}),
    studioUrl: ops.studioUrlOf ? ops.studioUrlOf(name, version) : studioUrl(ops.ws, 'model', name, version),
    workspace: { subscriptionId: ops.ws.subscriptionId, resourceGroup: ops.ws.resourceGroup, name: ops.ws.workspace },
  };
  if (!inputs.download) {
    log.info('download is false: model resolved, nothing downloaded.');
    return { metadata };
  }

  // download
  const dest = path.resolve(inputs.downloadPath!);
  let lastPct = -1;
  let lastAt = 0;
  const res = await ops.download(p.modelUri, dest, pattern, (bytes, total) => {
    const pct = total ? Math.floor((bytes * 100) / total) : 100;
    const now = Date.now();
    if (pct !== lastPct && (pct === 100 || now - lastAt > 1000 || pct - lastPct >= 10)) {
      lastPct = pct;
      lastAt = now;
      deps.progress(pct, `Downloading model: ${fmtBytes(bytes)} of ${fmtBytes(total)}`);
    }
  });
  const metadataFile = path.join(dest, METADATA_FILE);
  if (res.files.includes(metadataFile))
    throw new UserError(
      `The model has a file named ${METADATA_FILE} at the top of ${dest}; it would clash with the metadata file`,
    );
  const rel = (f: string) => path.relative(dest, f).split(path.sep).join('/');
  metadata.files = res.files.map(rel);
  if (res.sizeOnly.length) {
    metadata.filesWithoutMd5 = res.sizeOnly.map(rel);
    log.warning(
      `${res.sizeOnly.length} of ${res.files.length} file(s) have no Content-MD5 in storage (usual for job outputs), so only their size was checked, e.g. ${metadata.filesWithoutMd5[0]}; they are listed in ${METADATA_FILE} (filesWithoutMd5)`,
    );
  }
  const extra = await filesNotIn(res.root, new Set(res.files));
  if (extra.length && pattern === '**') {
    log.warning(
      `${extra.length} file(s) in ${res.root} are not part of ${name}:${version} (left from an earlier download?), e.g. ${path.relative(dest, extra[0]!)}; use an empty download folder`,
    );
  }
  await fsp.writeFile(metadataFile, JSON.stringify(metadata, null, 2) + '\n');
  log.info(
    `${res.files.length} file(s), ${fmtBytes(res.totalBytes)} in ${dest}` +
      (res.unchanged ? ` (${res.unchanged} already present and identical, ${fmtBytes(res.bytes)} transferred)` : ''),
  );
  return {
    metadata,
    modelPath: res.root,
    metadataFile,
    download: {
      files: res.files.length,
      bytes: res.bytes,
      totalBytes: res.totalBytes,
      unchanged: res.unchanged,
      sizeOnly: res.sizeOnly.length,
    },
  };
}

/** Files under dir (recursively) that are not in `keep`; [] when dir is a file or absent. */
async function filesNotIn(dir: string, keep: Set<string>): Promise<string[]> {
  let entries;
  try {
    entries = await fsp.readdir(dir, { recursive: true, withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .filter((f) => !keep.has(f))
    .sort();
}

/** Markdown for the build summary tab. */
export function downloadSummary(r: DownloadTaskResult): string {
  const esc = mdEscape;
  const m = r.metadata;
  const lines = [
    `### Azure ML model ${esc(m.name)}:${esc(m.version)}`,
    '',
    '| | |',
    '|---|---|',
    m.studioUrl ? `| Model | [${esc(m.id)}](${m.studioUrl}) |` : `| Model | ${esc(m.id)} |`,
    `| Files | \`${m.uri.replace(/`/g, '')}\` |`,
  ];
  if (r.download) {
    lines.push(
      `| Downloaded | ${r.download.files} file(s), ${fmtBytes(r.download.totalBytes)} to \`${(r.modelPath ?? '').replace(/`/g, '')}\` |`,
    );
    lines.push(
      `| Checked | ${r.download.sizeOnly ? `${r.download.files - r.download.sizeOnly} by MD5, ${r.download.sizeOnly} by size only (no Content-MD5 in storage)` : 'every file by size and MD5'} |`,
    );
  }
  return lines.join('\n') + '\n';
}
