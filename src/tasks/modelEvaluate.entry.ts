// Agent entry of AzureMLModelEvaluate@1: inputs → evaluateModel → outputs, evaluation.json, summary, verdict.
import {
  UserError,
  debug,
  getAzureRmConnection,
  getBool,
  getEnum,
  getString,
  info,
  runTask,
  setOutput,
  uploadSummary,
  warning,
  writeTempFile,
} from '../pipeline';
import { workspaceRef, type ModelVersion } from '../azureml';
import { findRegistry, getRegistryModelVersion, listRegistryModelVersions } from '../azureml/registries';
import {
  BASELINE_MODES,
  azureOps,
  evaluateModel,
  evaluationSummary,
  metricOutputs,
  registryOfInputs,
  validateInputs,
  type EvaluateInputs,
  type EvaluateOps,
} from './modelEvaluate';
import { openRegistryConnection, openWorkspace } from './openWorkspace';

runTask(async (signal) => {
  // read and check every input before any network call
  const conn = getAzureRmConnection('connection');
  const ws = workspaceRef(conn, getString('resourceGroup'), getString('workspace'));
  const inputs: EvaluateInputs = {
    candidateType: getEnum('candidateType', ['job', 'model'] as const, 'job'),
    candidateJob: getString('candidateJob'),
    candidateModel: getString('candidateModel'),
    baseline: getEnum('baseline', BASELINE_MODES, 'tag'),
    endpointName: getString('endpointName'),
    modelName: getString('modelName'),
    baselineTag: getString('baselineTag'),
    metrics: getString('metrics') ?? '',
    allowEqual: getBool('allowEqual', false),
    missingBaselineMetric: getEnum('missingBaselineMetric', ['pass', 'fail'] as const, 'pass'),
    failWhenNotBetter: getBool('failWhenNotBetter', false),
    registry: getString('registry'),
  };
  const valid = validateInputs(inputs);
  const registry = registryOfInputs(inputs);

  const ctx = openWorkspace(conn, ws, signal);
  let ops: EvaluateOps = azureOps(ctx);
  if (registry) {
    // models in a registry (issue 13), found before the first workspace read; jobs, MLflow and endpoints stay in the workspace
    const rctx = openRegistryConnection(conn, signal);
    const reg = await findRegistry(rctx, {
      subscriptionId: conn.subscriptionId,
      name: registry,
      resourceGroup: getString('registryResourceGroup'),
    });
    info(`Models from registry ${reg.name} (resource group ${reg.resourceGroup}, subscription ${reg.subscriptionId})`);
    ops = {
      ...ops,
      registry: reg.name,
      getModelVersion: async (n, v) => (await getRegistryModelVersion(rctx, reg, n, v)) as ModelVersion | undefined,
      listModelVersions: async (n, o) =>
        (await listRegistryModelVersions(rctx, reg, n, {
          orderBy: 'createdtime desc',
          top: o.top,
          tags: o.tags
            ? Object.entries(o.tags)
                .map(([k, v]) => (v ? `${k}=${v}` : k))
                .join(',')
            : undefined,
        })) as ModelVersion[],
    };
  }
  const e = await evaluateModel(inputs, { ops, log: { info, warning, debug } });

  // the evaluation for later steps (register task's evaluationFile → the release's model card)
  const file = writeTempFile('azureml-evaluation', 'evaluation.json', JSON.stringify(e, null, 2) + '\n');

  setOutput('isBetter', String(e.isBetter));
  setOutput('verdict', e.verdict);
  setOutput('candidateId', e.candidate.id);
  setOutput('baselineModelId', e.baseline.side?.id ?? '');
  setOutput('evaluationFile', file);
  for (const [k, v] of Object.entries(metricOutputs(e))) setOutput(k, v);
  uploadSummary('Azure ML model evaluation', evaluationSummary(e));
  info(`isBetter=${e.isBetter} (${e.verdict}); evaluation written to ${file}`);

  if (!e.isBetter && valid.failWhenNotBetter) throw new UserError(e.message);
});
