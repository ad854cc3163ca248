// Agent entry of AzureMLModelDownload@1: inputs → resolveAndDownload → outputs (+ summary outside releases).
// In a release (Release.ReleaseId set) it only sets output variables: no release name, no build tags, no summary.
import * as path from 'node:path';
import {
  InputError,
  debug,
  getAzureRmConnection,
  getBool,
  getPath,
  getPipelineContext,
  getString,
  getVariable,
  info,
  progress,
  runTask,
  setOutput,
  uploadSummary,
  warning,
} from '../pipeline';
import { workspaceRef } from '../azureml';
import { findRegistry } from '../azureml/registries';
import { registryDownloadOps } from './registryModels';
import { azureOps, downloadSummary, planResolution, resolveAndDownload, type DownloadInputs } from './modelDownload';
import { openWorkspace, openRegistryConnection } from './openWorkspace';

runTask(async (signal) => {
  // read and check every input before any network call
  const conn = getAzureRmConnection('connection');
  // a registry model (issue 13): resolved in the registry, no workspace needed; files not downloadable (registryModels.ts)
  const registry = getString('registry')?.trim();
  const ws = registry ? undefined : workspaceRef(conn, getString('resourceGroup'), getString('workspace'));
  const download = getBool('download', true);
  if (registry && download)
    throw new InputError(
      'download',
      `must be false for a model in registry '${registry}' (resolving registry versions is supported, downloading their files is not)`,
    );
  const definition = getString('definition') ?? '';
  let downloadPath = download ? getPath('downloadPath', { mustExist: false }) : undefined;
  if (download && !downloadPath && definition.trim()) {
    const base = getVariable('Pipeline.Workspace') ?? getVariable('System.DefaultWorkingDirectory') ?? process.cwd();
    downloadPath = path.join(base, definition.trim());
  }
  const inputs: DownloadInputs = {
    definition,
    versionSelector: getString('versionSelector') ?? 'specific',
    version: getString('version'),
    tag: getString('tag'),
    defaultVersionType: getString('defaultVersionType'),
    defaultVersionSpecific: getString('defaultVersionSpecific'),
    download,
    downloadPath,
    itemPattern: getString('itemPattern'),
  };
  planResolution(inputs);

  let ops;
  if (ws) {
    const ctx = openWorkspace(conn, ws, signal);
    ops = azureOps(ctx);
  } else {
    const ctx = openRegistryConnection(conn, signal);
    const reg = await findRegistry(ctx, {
      subscriptionId: conn.subscriptionId,
      name: registry!,
      resourceGroup: getString('registryResourceGroup'),
    });
    info(
      `Registry ${reg.name} (resource group ${reg.resourceGroup}, subscription ${reg.subscriptionId}, regions ${reg.regions.join(', ')})`,
    );
    ops = registryDownloadOps(ctx, reg);
  }
  const r = await resolveAndDownload(inputs, { ops, log: { info, warning, debug }, progress });

  setOutput('modelName', r.metadata.name);
  setOutput('modelVersion', r.metadata.version);
  setOutput('modelId', r.metadata.id);
  setOutput('modelUri', r.metadata.uri);
  setOutput('modelPath', r.modelPath ?? '');
  if (!getPipelineContext().releaseId) uploadSummary('Azure ML model', downloadSummary(r));
  info(r.metadata.studioUrl ? `Model ${r.metadata.id}: ${r.metadata.studioUrl}` : `Model ${r.metadata.id}`);
});
