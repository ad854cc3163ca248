// Agent entry of AzureMLModelDownload@1: inputs → resolveAndDownload → outputs (+ summary outside releases).
// In a release (Release.ReleaseId set) it only sets output variables: no release name, no build tags, no summary.
import * as path from 'node:path';
import {
  debug, getAzureRmConnection, getBool, getPath, getPipelineContext, getString, getVariable, info, progress, runTask,
  setOutput, uploadSummary, warning,
} from '../pipeline';
import { createCredential } from '../auth';
import { createAzureMLContext, workspaceRef } from '../azureml';
import { azureOps, downloadSummary, planResolution, resolveAndDownload, type DownloadInputs } from './modelDownload';

runTask(async (signal) => {
  // read and check every input before any network call
  const conn = getAzureRmConnection('connection');
  const ws = workspaceRef(conn, getString('resourceGroup'), getString('workspace'));
  const download = getBool('download', true);
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

  const ctx = createAzureMLContext(ws, createCredential(conn, signal), signal);
  info(`Workspace ${ws.workspace} (resource group ${ws.resourceGroup}, subscription ${ws.subscriptionId})`);
  const r = await resolveAndDownload(inputs, { ops: azureOps(ctx), log: { info, warning, debug }, progress });

  setOutput('modelName', r.metadata.name);
  setOutput('modelVersion', r.metadata.version);
  setOutput('modelId', r.metadata.id);
  setOutput('modelUri', r.metadata.uri);
  setOutput('modelPath', r.modelPath ?? '');
  if (!getPipelineContext().releaseId) uploadSummary('Azure ML model', downloadSummary(r));
  info(`Model ${r.metadata.id}: ${r.metadata.studioUrl}`);
});
