// Registry sources and targets of the model tasks: AzureMLModelRegister@1 straight into a registry (RegisterOps over
// startPendingUpload + the registry version PUT), and AzureMLModelDownload@1's registry source: the DownloadOps of modelDownload.ts over a registry's model versions
// (2024-04-01, src/azureml/registries.ts). Resolution only: reading a registry version's files needs a read SAS that
// ARM 2024-04-01 offers for registry data (RegistryDataReferences_GetBlobReferenceSAS) but not for models; the
// data-plane route the SDK uses is not implemented, so `download` must be false (checked before any call).
import type { ModelVersion } from '@azure/arm-machinelearning';
import { InputError, UserError } from '../pipeline';
import { CONTENT_KEY_PROPERTY, contentKey, type AzureMLContext } from '../azureml';
import {
  createRegistryModelVersion,
  getRegistryModelVersion,
  listRegistryModelVersions,
  registryModelUri,
  startPendingUpload,
  uploadToRegistry,
  type RegistryInfo,
} from '../azureml/registries';
import { lroProgressLine } from '../azureml/poll';
import type { DownloadOps } from './modelDownload';
import type { RegisterOps } from './modelRegister';

/**
 * RegisterOps writing into a registry. Files only from the agent (a job output lives in a workspace: promote it with
 * AzureMLModelPromote@1 instead). Idempotency as in a workspace: the content key property (md5 of type + the asset's
 * content-addressed path LocalUpload/<md5>/<name>, the same for the same files) is looked up among the registry's
 * versions. The stored modelUri is the registry storage URL of the uploaded files.
 */
export function registryRegisterOps(ctx: AzureMLContext, reg: RegistryInfo, log: (m: string) => void): RegisterOps {
  let uploaded: string | undefined;
  return {
    ws: {
      ...ctx.ws,
      subscriptionId: reg.subscriptionId,
      resourceGroup: reg.resourceGroup,
      workspace: `registry-${reg.name}`,
    },
    checkWorkspace: async () => undefined, // the registry was read when it was found
    getJob: async () => {
      throw new InputError(
        'modelPath',
        `a job output lives in a workspace: register it there and promote it with AzureMLModelPromote@1 (registry '${reg.name}' takes files from the agent)`,
      );
    },
    getVersion: async (n, v) => (await getRegistryModelVersion(ctx, reg, n, v)) as ModelVersion | undefined,
    findByContent: async (n, t, u) => {
      const key = contentKey(t, u);
      const vs = await listRegistryModelVersions(ctx, reg, n, { properties: `${CONTENT_KEY_PROPERTY}=${key}` });
      return vs.find(
        (v) =>
          !v.properties?.isArchived &&
          v.properties?.properties?.[CONTENT_KEY_PROPERTY] === key &&
          (v.properties?.modelType ?? 'custom_model') === t,
      ) as ModelVersion | undefined;
    },
    nextVersion: async (n) => {
      const vs = await listRegistryModelVersions(ctx, reg, n);
      return String(Math.max(0, ...vs.map((v) => (/^[0-9]+$/.test(v.name) ? Number(v.name) : 0))) + 1);
    },
    upload: async (asset, meta, onProgress) => {
      const target = await startPendingUpload(ctx, reg, meta.name, meta.version);
      const r = await uploadToRegistry(ctx, target, asset, onProgress);
      uploaded = r.uri;
      return {
        uri: r.uri,
        hash: asset.hash,
        uploadedBytes: r.bytes,
        skipped: false,
        files: asset.files.length,
        totalBytes: asset.totalBytes,
      };
    },
    create: async (n, v, p) => {
      if (!uploaded) throw new UserError(`Nothing was uploaded to registry '${reg.name}' for ${n}:${v}`);
      const props = { ...p, modelUri: uploaded } as Record<string, unknown>;
      return (await createRegistryModelVersion(ctx, reg, n, v, props, {
        onProgress: (x) => log(lroProgressLine(x)),
      })) as ModelVersion;
    },
  };
}

export function registryDownloadOps(ctx: AzureMLContext, reg: RegistryInfo): DownloadOps {
  return {
    ws: { ...ctx.ws, subscriptionId: reg.subscriptionId, resourceGroup: reg.resourceGroup, workspace: '' },
    scope: `registry '${reg.name}'`,
    idOf: (name, version) => registryModelUri(reg.name, name, version),
    studioUrlOf: () => '', // the studio's registry pages: URL form not verified
    modelExists: async (n) => (await listRegistryModelVersions(ctx, reg, n, { top: 1 })).length > 0,
    getVersion: async (n, v) => (await getRegistryModelVersion(ctx, reg, n, v)) as ModelVersion | undefined,
    latest: async (n, tag) => {
      const t = tag ? (tag.value ? `${tag.key}=${tag.value}` : tag.key) : undefined;
      // the service filters; every candidate is re-checked here (newest first), archived versions skipped
      const vs = await listRegistryModelVersions(ctx, reg, n, { orderBy: 'createdtime desc', tags: t });
      return vs.find(
        (v) =>
          !v.properties?.isArchived &&
          (!tag ||
            (tag.key in (v.properties?.tags ?? {}) && (!tag.value || v.properties?.tags?.[tag.key] === tag.value))),
      ) as ModelVersion | undefined;
    },
    download: async () => {
      throw new UserError(
        `Downloading the files of a model in registry '${reg.name}' is not supported; set download to false`,
      );
    },
  };
}
