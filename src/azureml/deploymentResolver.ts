// The real DeploymentResolver (deploymentSpec.ts) on top of the two-phase AzureAssetResolver (jobResolver.ts):
// buildOnlineDeploymentBody(spec, { resolver }) only reads and hashes (phase 1: every reference checked, every id final
// because content addressed), `commit()` then uploads the scoring code / inline model / build context and PUTs the code,
// environment and model versions that do not exist yet (phase 2). Nothing is written before the whole body is known.
import { promises as fsp } from 'node:fs';
import { UserError } from '../errors';
import type { AzureMLContext } from './context';
import { armGetOptional, armRequest } from './arm';
import { datastoreUri, prepareLocalAsset, uploadPreparedAsset } from './storage';
import { sameDatastoreUri } from './normalize';
import { AzureAssetResolver, type AssetResolverOptions } from './jobResolver';
import { inlineModelVersion, type DeploymentResolver, type InlineModel } from './deploymentSpec';
import type { AssetKind, InlineEnvironment } from './yamlSpec';

export class AzureDeploymentResolver implements DeploymentResolver {
  readonly assets: AzureAssetResolver;
  readonly wsPath: string;

  constructor(
    private readonly ctx: AzureMLContext,
    private readonly opts: AssetResolverOptions & { deploymentName?: string } = {},
  ) {
    this.assets = new AzureAssetResolver(ctx, opts);
    this.wsPath = this.assets.wsPath;
  }

  uploadCode(localPath: string): Promise<string> {
    return this.assets.uploadCode(localPath);
  }
  ensureEnvironment(env: InlineEnvironment): Promise<string> {
    return this.assets.ensureEnvironment(env);
  }
  resolveAsset(kind: AssetKind, ref: string): Promise<string> {
    return this.assets.resolveAsset(kind, ref);
  }
  computeId(name: string): Promise<string> {
    return this.assets.computeId(name);
  }

  /** Inline model (`model: {path: …}`): local files → LocalUpload/<md5>/<name>, version named by content (idempotent). */
  async ensureModel(model: InlineModel): Promise<string> {
    const prefix = this.opts.errorPrefix ?? '';
    let modelUri = model.path;
    let upload: (() => Promise<void>) | undefined;
    let name = model.name;
    if (model.local) {
      try {
        await fsp.stat(model.path);
      } catch {
        throw new UserError(`${prefix}model path '${model.path}' (${model.source}) does not exist`);
      }
      let asset;
      try {
        asset = await prepareLocalAsset(model.path, { abortSignal: this.ctx.signal });
      } catch (e) {
        if (e instanceof UserError) throw new UserError(`${prefix}model at ${model.source}: ${e.message}`);
        throw e;
      }
      modelUri = datastoreUri(this.ctx.ws, asset.remotePath);
      const a = asset;
      upload = async () => {
        await uploadPreparedAsset(this.ctx, a, { assetName: name ?? a.name, assetVersion: model.version });
      };
    }
    const v = inlineModelVersion(model, modelUri, { deploymentName: this.opts.deploymentName });
    name = v.name;
    const id = `${this.wsPath}/models/${encodeURIComponent(v.name)}/versions/${encodeURIComponent(v.version)}`;
    const existing = await armGetOptional<{ id?: string; properties?: { modelUri?: string } }>(this.ctx, id, {
      what: `model ${v.name}:${v.version}`,
    });
    if (existing) {
      // the service reads `resourcegroups` back as `resourceGroups` (normalize.ts datastore-uri-case)
      if (existing.properties?.modelUri && !sameDatastoreUri(existing.properties.modelUri, modelUri)) {
        throw new UserError(
          `${prefix}model ${v.name}:${v.version} already exists with other files (${existing.properties.modelUri}); give the inline model another version (${model.source})`,
        );
      }
      return existing.id ?? id;
    }
    if (upload) this.assets.pending.push({ what: `upload model ${model.path}`, run: upload });
    this.assets.pending.push({
      what: `model version ${v.name}:${v.version}`,
      run: async () => {
        await armRequest(this.ctx, 'PUT', id, v.body, { what: `model ${v.name}:${v.version}` });
      },
    });
    return id;
  }

  /** Writes queued while checking (uploads, code/environment/model versions), in order. */
  get pendingWrites(): string[] {
    return this.assets.pending.map((p) => p.what);
  }

  commit(onStep?: (what: string, i: number, n: number) => void): Promise<void> {
    return this.assets.commit(onStep);
  }
}
