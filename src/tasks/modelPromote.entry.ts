// Agent entry of AzureMLModelPromote@1: inputs → promoteModel (publish into the registry, server-side) → outputs.
import { getAzureRmConnection, getString, info, runTask, setOutput, uploadSummary } from '../pipeline';
import { getModelVersion, getWorkspace, latestVersion, workspaceRef, wsPath } from '../azureml';
import { lroProgressLine } from '../azureml/poll';
import {
  findRegistry,
  getRegistryModelVersion,
  publishModelVersion,
  updateRegistryModelVersion,
} from '../azureml/registries';
import { checkPromoteInputs, promoteModel, promoteSummary, type PromoteOps } from './modelPromote';
import { openWorkspace, openRegistryConnection } from './openWorkspace';

runTask(async (signal) => {
  // read and check every input before any network call
  const conn = getAzureRmConnection('connection');
  const ws = workspaceRef(conn, getString('resourceGroup'), getString('workspace'));
  const regConn = getString('registryConnection') ? getAzureRmConnection('registryConnection') : conn;
  const inputs = checkPromoteInputs({
    modelName: getString('modelName') ?? '',
    modelVersion: getString('modelVersion') ?? 'latest',
    registry: getString('registry') ?? '',
    registryResourceGroup: getString('registryResourceGroup'),
    destinationName: getString('destinationName'),
    destinationVersion: getString('destinationVersion'),
  });

  const ctx = openWorkspace(conn, ws, signal, { announce: false });
  const rctx = regConn === conn ? ctx : openRegistryConnection(regConn, signal);
  info(
    `Workspace ${ws.workspace} (resource group ${ws.resourceGroup}, subscription ${ws.subscriptionId}); registry ${inputs.registry} (subscription ${regConn.subscriptionId})`,
  );
  const progress = { onProgress: (p: Parameters<typeof lroProgressLine>[0]) => info(lroProgressLine(p)) };
  const ops: PromoteOps = {
    workspace: async () => {
      const w = await getWorkspace(ctx);
      return { name: ws.workspace, location: w.location, id: wsPath(ws) };
    },
    sourceVersion: (n, v) => getModelVersion(ctx, n, v),
    latestSourceVersion: (n) => latestVersion(ctx, n),
    findRegistry: () =>
      findRegistry(rctx, {
        subscriptionId: regConn.subscriptionId,
        name: inputs.registry,
        resourceGroup: inputs.registryResourceGroup,
      }),
    registryVersion: (r, n, v) => getRegistryModelVersion(rctx, r, n, v),
    publish: (n, v, body) =>
      publishModelVersion(
        ctx,
        wsPath(ws, `/models/${encodeURIComponent(n)}/versions/${encodeURIComponent(v)}`),
        body,
        progress,
      ),
    addToRegistryVersion: (r, n, cur, add) => updateRegistryModelVersion(rctx, r, n, cur, add, progress),
  };
  const r = await promoteModel(inputs, ops, { info });
  info(`${r.promoted ? 'Promoted' : 'Unchanged'}: ${r.destination.uri}`);
  setOutput('registryModelUri', r.destination.uri);
  setOutput('registryModelId', r.destination.id);
  setOutput('registryModelVersion', r.destination.version);
  setOutput('promoted', String(r.promoted));
  uploadSummary('Azure ML model promotion', promoteSummary(r));
});
