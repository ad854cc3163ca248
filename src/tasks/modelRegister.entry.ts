// Agent entry of AzureMLModelRegister@1: inputs → registerModel → outputs + summary.
import {
  InputError,
  debug,
  getAzureRmConnection,
  getBool,
  getKeyValues,
  getPath,
  getPipelineContext,
  getString,
  info,
  progress,
  requireString,
  runTask,
  setOutput,
  uploadSummary,
  warning,
} from '../pipeline';
import { workspaceRef } from '../azureml';
import { findRegistry, registryModelUri } from '../azureml/registries';
import { registerModel, registerSummary, validateInputs, type RegisterInputs } from './modelRegister';
import { registryRegisterOps } from './registryModels';
import { parseEvaluationFile } from './modelCard';
import { openWorkspace, openRegistryConnection } from './openWorkspace';

function evaluationInput(): RegisterInputs['evaluation'] {
  const f = getPath('evaluationFile', { kind: 'file' });
  if (!f) return undefined;
  try {
    return parseEvaluationFile(f);
  } catch (err) {
    throw new InputError('evaluationFile', (err as Error).message);
  }
}

runTask(async (signal) => {
  // read and check every input before any network call
  const conn = getAzureRmConnection('connection');
  // straight into a registry (issue 13): no workspace; files from the agent only (registryModels.ts)
  const registry = getString('registry')?.trim();
  const ws = registry ? undefined : workspaceRef(conn, getString('resourceGroup'), getString('workspace'));
  const inputs: RegisterInputs = {
    modelName: requireString('modelName'),
    modelPath: requireString('modelPath'),
    modelType: getString('modelType') ?? 'custom_model',
    version: getString('version'),
    description: getString('description'),
    tags: getKeyValues('tags'),
    properties: getKeyValues('properties'),
    lineageTags: getBool('lineageTags', true),
    evaluation: evaluationInput(),
  };
  validateInputs(inputs);
  if (registry && /^[a-z][a-z0-9+.-]*:\/\//i.test(inputs.modelPath.trim())) {
    throw new InputError(
      'modelPath',
      `must be a file or folder on the agent when registering into registry '${registry}' (a workspace model or job output: register it in the workspace, then AzureMLModelPromote@1)`,
    );
  }

  const deps = { log: { info, warning, debug }, progress, context: getPipelineContext(), signal };
  if (!ws) {
    const rctx = openRegistryConnection(conn, signal);
    const reg = await findRegistry(rctx, {
      subscriptionId: conn.subscriptionId,
      name: registry!,
      resourceGroup: getString('registryResourceGroup'),
    });
    info(
      `Registry ${reg.name} (resource group ${reg.resourceGroup}, subscription ${reg.subscriptionId}, regions ${reg.regions.join(', ')})`,
    );
    const r = await registerModel(inputs, { ...deps, ops: registryRegisterOps(rctx, reg, info) });
    const id = registryModelUri(reg.name, r.name, r.version);
    setOutput('modelName', r.name);
    setOutput('modelVersion', r.version);
    setOutput('modelId', id);
    setOutput('modelUri', r.modelUri);
    uploadSummary(
      'Azure ML model',
      registerSummary(
        { ...r, id, studioUrl: undefined },
        { ...rctx.ws, workspace: `registry ${reg.name}`, resourceGroup: reg.resourceGroup },
      ),
    );
    info(`Model ${id}`);
    return;
  }
  const ctx = openWorkspace(conn, ws, signal);
  const result = await registerModel(inputs, { ctx, ...deps });

  setOutput('modelName', result.name);
  setOutput('modelVersion', result.version);
  setOutput('modelId', result.id);
  setOutput('modelUri', result.modelUri);
  uploadSummary('Azure ML model', registerSummary(result, ws));
  info(`Model ${result.id}${result.studioUrl ? `: ${result.studioUrl}` : ''}`);
});
