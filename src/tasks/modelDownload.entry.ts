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
  // The release artifact passes its inputs by id: `sourceType` (workspace | registry) says which of its inputs count
  // (a definition switched from one source to the other keeps the hidden inputs' old values).
  const sourceType = getString('sourceType')?.trim().toLowerCase();
  if (sourceType && sourceType !== 'workspace' && sourceType !== 'registry')
    throw new InputError('sourceType', `'${sourceType}' is not one of workspace, registry`);
  const registry = sourceType === 'workspace' ? undefined : getString('registry')?.trim() || undefined;
  if (sourceType === 'registry' && !registry)
    throw new InputError('registry', 'is required when the source is a registry');
  const ws = registry ? undefined : workspaceRef(conn, getString('resourceGroup'), getString('workspace'));
  // The injected download of a registry artifact only resolves: the agent fills `download` with its default (true),
  // and ARM gives no read SAS for registry model files, so the artifact's download step sets the variables only.
  const resolveOnly = sourceType === 'registry';
  const download = resolveOnly ? false : getBool('download', true);
  if (resolveOnly)
    info(
      `Registry '${registry}': the release artifact resolves the model version only (files of a registry model cannot be downloaded through ARM); nothing downloaded.`,
    );
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
