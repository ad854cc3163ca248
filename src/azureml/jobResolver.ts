// The real SpecResolver for jobSpec/deploymentSpec: turns references into ARM ids and local files into assets.
//
// Two phases, so that nothing is written before everything is checked:
//  1. `buildJobBody(spec, resolver)` runs with the resolver in its checking phase: every reference is verified with a
//     read (compute GET, asset version GET), every local path is hashed (no upload), every environment/component id
//     is computed from its content. The ids returned are the final ones (content addressed), so the body is final.
//     Any problem throws a UserError and nothing has been written.
//  2. `resolver.commit()` performs the queued writes in call order: blob uploads (hash-deduped, skipped when the
//     indicator says upload_status=completed), code version PUTs, environment version PUTs, component version PUTs.
//     Versions that already exist are not written again (checked in phase 1).
import { promises as fsp } from 'node:fs';
import type { AzureMLContext } from './context';
import { armGetOptional, armRequest, listAll } from './arm';
import { UserError } from '../errors';
import { datastoreUri, prepareLocalAsset, uploadPreparedAsset, type PreparedAsset } from './storage';
import { wsPath } from './workspace';
import { environmentDifferences } from './normalize';
import { inlineEnvironmentVersion, type AssetKind, type InlineEnvironment } from './yamlSpec';
import type { ComponentVersionRequest, SpecResolver } from './jobSpec';

export interface PendingWrite {
  what: string;
  run(): Promise<void>;
}

export interface AssetResolverOptions {
  /** prefix for errors about references, e.g. "Input 'jobFile': " */
  errorPrefix?: string;
  onProgress?(text: string): void;
}

const SINGULAR: Record<AssetKind, string> = {
  codes: 'code',
  environments: 'environment',
  models: 'model',
  data: 'data',
  components: 'component',
};

/** A SpecResolver that checks in phase 1 and writes in `commit()` (see the file comment). */
export class AzureAssetResolver implements SpecResolver {
  readonly wsPath: string;
  readonly pending: PendingWrite[] = [];
  /** ARM reads made while checking (for tests/diagnostics) */
  reads = 0;
  private readonly assets = new Map<string, Promise<PreparedAsset>>();
  private committed = false;

  constructor(
    private readonly ctx: AzureMLContext,
    private readonly opts: AssetResolverOptions = {},
  ) {
    this.wsPath = wsPath(ctx.ws);
  }

  private err(msg: string): UserError {
    return new UserError(`${this.opts.errorPrefix ?? ''}${msg}`);
  }

  private queue(what: string, run: () => Promise<void>): void {
    if (this.committed) throw new Error(`resolver already committed (late write: ${what})`);
    this.pending.push({ what, run });
  }

  /**
   * PUT a content-addressed version; when another run created the same version meanwhile (the service may refuse
   * the second PUT), the version that now exists is what we wanted.
   */
  private async putVersion(id: string, body: unknown, what: string): Promise<void> {
    try {
      await armRequest(this.ctx, 'PUT', id, body, { what });
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status !== 400 && status !== 409) throw err;
      if (!(await armGetOptional(this.ctx, id, { what }))) throw err;
    }
  }

  private async get<T>(p: string, what: string): Promise<T | undefined> {
    this.reads++;
    return armGetOptional<T>(this.ctx, p, { what });
  }

  private prepare(localPath: string, what: string): Promise<PreparedAsset> {
    let p = this.assets.get(localPath);
    if (!p) {
      p = (async () => {
        try {
          await fsp.stat(localPath);
        } catch {
          throw this.err(`${what} '${localPath}' does not exist`);
        }
        try {
          return await prepareLocalAsset(localPath, { abortSignal: this.ctx.signal });
        } catch (e) {
          if (e instanceof UserError) throw this.err(`${what}: ${e.message}`);
          throw e;
        }
      })();
      this.assets.set(localPath, p);
    }
    return p;
  }

  private queueUpload(asset: PreparedAsset, meta: { name: string; version: string }): void {
    this.queue(`upload ${asset.localPath}`, async () => {
      const r = await uploadPreparedAsset(this.ctx, asset, { assetName: meta.name, assetVersion: meta.version });
      this.opts.onProgress?.(
        r.skipped
          ? `${asset.name}: already in the datastore (${asset.remotePath})`
          : `Uploaded ${r.files} file(s) of ${asset.name} to ${asset.remotePath}`,
      );
    });
  }

  /** code folder → code version `<md5>`:1 (anonymous, as azure-ai-ml names content-addressed code) */
  async uploadCode(localPath: string): Promise<string> {
    const asset = await this.prepare(localPath, 'code folder');
    const name = asset.hash;
    const id = `${this.wsPath}/codes/${name}/versions/1`;
    const codeUri = datastoreUri(this.ctx.ws, asset.remotePath);
    const existing = await this.get<{ properties?: { codeUri?: string } }>(id, `code ${name}:1`);
    if (!existing) {
      this.queueUpload(asset, { name, version: '1' });
      this.queue(`code version ${name}:1`, async () => {
        await this.putVersion(id, { properties: { codeUri, isAnonymous: true } }, `code ${name}:1`);
      });
    }
    return id;
  }

  async uploadLocalPath(localPath: string, assetType: string): Promise<string> {
    const asset = await this.prepare(localPath, `local ${assetType} input`);
    this.queueUpload(asset, { name: asset.name, version: '1' });
    return datastoreUri(this.ctx.ws, asset.remotePath);
  }

  async ensureEnvironment(env: InlineEnvironment): Promise<string> {
    let condaFileText: string | undefined;
    if (env.condaFile) {
      try {
        condaFileText = await fsp.readFile(env.condaFile, 'utf8');
      } catch {
        throw this.err(`conda file '${env.condaFile}' of the environment at ${env.source} does not exist`);
      }
    }
    let buildContextUri: string | undefined;
    let buildAsset: PreparedAsset | undefined;
    if (env.build?.local) {
      buildAsset = await this.prepare(env.build.path, `build context of the environment at ${env.source}`);
      // a folder URI ending in '/', as az ml sends it (azure-ai-ml 1.4.0 _artifacts/_artifact_utilities.py:
      // `environment.build.path = uploaded_artifact.full_storage_path + "/"`)
      buildContextUri = datastoreUri(this.ctx.ws, buildAsset.remotePath).replace(/\/*$/, '/');
    }
    const v = inlineEnvironmentVersion(env, { condaFileText, buildContextUri });
    const id = `${this.wsPath}/environments/${v.name}/versions/${v.version}`;
    const existing = await this.get<{ properties?: Record<string, unknown> }>(id, `environment ${v.name}:${v.version}`);
    if (existing) {
      // the service rewrites what it stores (a YAML conda file reads back as JSON): compare meaning (normalize.ts)
      const diff = environmentDifferences(v.body.properties, existing.properties ?? {});
      if (diff.length) {
        throw this.err(
          `environment ${v.name}:${v.version} already exists with a different ${diff.join(' and ')}; give the inline environment another version (at ${env.source})`,
        );
      }
      return id;
    }
    if (buildAsset) this.queueUpload(buildAsset, { name: v.name, version: v.version });
    this.queue(`environment version ${v.name}:${v.version}`, async () => {
      await this.putVersion(id, v.body, `environment ${v.name}:${v.version}`);
    });
    return id;
  }

  async ensureComponent(c: ComponentVersionRequest): Promise<string> {
    const id = `${this.wsPath}/components/${encodeURIComponent(c.name)}/versions/${encodeURIComponent(c.version)}`;
    const existing = await this.get(id, `component ${c.name}:${c.version}`);
    if (!existing) {
      this.queue(`component version ${c.name}:${c.version}`, async () => {
        await this.putVersion(id, c.body, `component ${c.name}:${c.version}`);
      });
    }
    return id;
  }

  /** `azureml:name:version`, `azureml:name@latest` or `azureml:name` → the version's ARM id (checked with a GET). */
  async resolveAsset(kind: AssetKind, ref: string): Promise<string> {
    const text = ref.replace(/^azureml:/i, '');
    const at = text.lastIndexOf('@');
    const colon = text.indexOf(':');
    const name = at > 0 ? text.slice(0, at) : colon > 0 ? text.slice(0, colon) : text;
    const version = at > 0 ? undefined : colon > 0 ? text.slice(colon + 1) : undefined;
    const label = at > 0 ? text.slice(at + 1) : undefined;
    const what = `${SINGULAR[kind]} ${ref}`;
    const base = `${this.wsPath}/${kind}/${encodeURIComponent(name)}`;
    if (version !== undefined) {
      const v = await this.get<{ id: string }>(`${base}/versions/${encodeURIComponent(version)}`, what);
      if (!v) throw this.err(`${what} not found in workspace '${this.ctx.ws.workspace}'`);
      return v.id ?? `${base}/versions/${version}`;
    }
    if (label !== undefined && label.toLowerCase() !== 'latest') {
      throw this.err(`${what}: only the label 'latest' can be resolved (use azureml:${name}:<version>)`);
    }
    this.reads++;
    const list = await listAll<{ id: string; name: string }>(
      this.ctx,
      `${base}/versions?$orderBy=createdtime%20desc&$top=1`,
      { what, max: 1 },
    ).catch((e) => {
      if ((e as { statusCode?: number }).statusCode === 404) return [];
      throw e;
    });
    if (!list.length) throw this.err(`${what} not found in workspace '${this.ctx.ws.workspace}' (no versions)`);
    return list[0]!.id ?? `${base}/versions/${list[0]!.name}`;
  }

  async computeId(name: string): Promise<string> {
    const id = `${this.wsPath}/computes/${encodeURIComponent(name)}`;
    const c = await this.get<{ id: string }>(id, `compute '${name}'`);
    if (!c) {
      let known = '';
      try {
        const all = await listAll<{ name: string }>(this.ctx, `${this.wsPath}/computes`, { max: 50 });
        if (all.length) known = ` (available: ${all.map((x) => x.name).join(', ')})`;
      } catch {
        /* the list is only a hint */
      }
      throw this.err(`compute '${name}' not found in workspace '${this.ctx.ws.workspace}'${known}`);
    }
    return c.id ?? id;
  }

  /** Phase 2: perform the queued writes, in order. */
  async commit(onStep?: (what: string, i: number, n: number) => void): Promise<void> {
    this.committed = true;
    const n = this.pending.length;
    for (let i = 0; i < n; i++) {
      this.ctx.signal?.throwIfAborted();
      onStep?.(this.pending[i]!.what, i, n);
      await this.pending[i]!.run();
    }
  }
}
