// Agent entry of AzureMLModelRegister@1: inputs → registerModel → outputs + summary.
import {
  InputError, debug, getAzureRmConnection, getBool, getKeyValues, getPath, getPipelineContext, getString, info, progress, requireString,
  runTask, setOutput, uploadSummary, warning,
} from '../pipeline';
import { createCredential } from '../auth';
import { createAzureMLContext, workspaceRef } from '../azureml';
import { registerModel, registerSummary, validateInputs, type RegisterInputs } from './modelRegister';
import { parseEvaluationFile } from './modelCard';

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
  const ws = workspaceRef(conn, getString('resourceGroup'), getString('workspace'));
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

  const ctx = createAzureMLContext(ws, createCredential(conn, signal), signal);
  info(`Workspace ${ws.workspace} (resource group ${ws.resourceGroup}, subscription ${ws.subscriptionId})`);
  const result = await registerModel(inputs, { ctx, log: { info, warning, debug }, progress, context: getPipelineContext(), signal });

  setOutput('modelName', result.name);
  setOutput('modelVersion', result.version);
  setOutput('modelId', result.id);
  setOutput('modelUri', result.modelUri);
  uploadSummary('Azure ML model', registerSummary(result, ws));
  info(`Model ${result.id}${result.studioUrl ? `: ${result.studioUrl}` : ''}`);
});
