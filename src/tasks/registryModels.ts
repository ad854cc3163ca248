// AzureMLModelDownload@1's registry source: the DownloadOps of modelDownload.ts over a registry's model versions
// (2024-04-01, src/azureml/registries.ts). Resolution only: reading a registry version's files needs a read SAS that
// ARM 2024-04-01 offers for registry data (RegistryDataReferences_GetBlobReferenceSAS) but not for models; the
// data-plane route the SDK uses is not implemented, so `download` must be false (checked before any call).
import type { ModelVersion } from '@azure/arm-machinelearning';
import { UserError } from '../pipeline';
import type { AzureMLContext } from '../azureml';
import { getRegistryModelVersion, listRegistryModelVersions, registryModelUri, type RegistryInfo } from '../azureml/registries';
import type { DownloadOps } from './modelDownload';

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
      return vs.find((v) => !v.properties?.isArchived && (!tag || (tag.key in (v.properties?.tags ?? {}) && (!tag.value || v.properties?.tags?.[tag.key] === tag.value)))) as ModelVersion | undefined;
    },
    download: async () => { throw new UserError(`Downloading the files of a model in registry '${reg.name}' is not supported; set download to false`); },
  };
}
