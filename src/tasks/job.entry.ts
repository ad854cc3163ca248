// Agent entry of AzureMLJob@1: inputs → runJob → outputs (jobName, status, studioUrl, metric.<name>) + summary.
import {
  UserError,
  debug,
  getAzureRmConnection,
  getBool,
  getEnum,
  getKeyValues,
  getNumber,
  getPath,
  getPipelineContext,
  getString,
  info,
  progress,
  runTask,
  setOutput,
  uploadSummary,
  warning,
} from '../pipeline';
import { workspaceRef } from '../azureml';
import { MODES, azureOps, jobSummary, metricVariable, runJob, validateInputs, type JobInputs } from './job';
import { openWorkspace } from './openWorkspace';

runTask(async (signal) => {
  // read and check every input before any network call
  const conn = getAzureRmConnection('connection');
  const ws = workspaceRef(conn, getString('resourceGroup'), getString('workspace'));
  const inputs: JobInputs = {
    mode: getEnum('mode', MODES, 'submit'),
    jobFile: getPath('jobFile', { kind: 'file', mustExist: false }),
    overrides: (getString('overrides') ?? '')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean),
    jobName: getString('jobName'),
    experimentName: getString('experimentName'),
    displayName: getString('displayName'),
    wait: getBool('wait', true),
    streamLogs: getBool('streamLogs', true),
    timeoutMinutes: getNumber('timeoutMinutes', { default: 0 }) ?? 0,
    cancelOnCancel: getBool('cancelOnCancel', true),
    tags: getKeyValues('tags'),
  };
  validateInputs(inputs, process.cwd());

  const ctx = openWorkspace(conn, ws, signal);
  const log = { info, warning, debug };
  const result = await runJob(inputs, {
    ops: azureOps(ctx, log),
    log,
    progress,
    context: getPipelineContext(),
    signal,
  });

  setOutput('jobName', result.jobName);
  setOutput('status', result.status);
  setOutput('studioUrl', result.studioUrl);
  if (result.jobDefinition !== undefined) setOutput('jobDefinition', result.jobDefinition);
  for (const [k, v] of Object.entries(result.metrics)) setOutput(metricVariable(k), String(v));
  uploadSummary('Azure ML job', jobSummary(result, ws));
  if (result.failure) throw new UserError(result.failure);
});
