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
import { workspaceRef } from '../azureml';
import {
  BASELINE_MODES,
  azureOps,
  evaluateModel,
  evaluationSummary,
  metricOutputs,
  validateInputs,
  type EvaluateInputs,
} from './modelEvaluate';
import { openWorkspace } from './openWorkspace';

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
  };
  const valid = validateInputs(inputs);

  const ctx = openWorkspace(conn, ws, signal);
  const e = await evaluateModel(inputs, { ops: azureOps(ctx), log: { info, warning, debug } });

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
