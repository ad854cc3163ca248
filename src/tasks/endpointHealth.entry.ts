// Agent entry of AzureMLEndpointHealth@1: inputs → read the endpoint's Azure Monitor metrics → verdict (fails the task
// unless passed), evidence in the log, the summary and output variables.
import {
  UserError,
  getAzureRmConnection,
  getInt,
  getNumber,
  getString,
  info,
  runTask,
  setOutput,
  uploadSummary,
} from '../pipeline';
import { workspaceRef } from '../azureml';
import {
  DEFAULTS,
  MAX_WINDOW_MINUTES,
  azureOps,
  checkEndpointHealth,
  checkInputs,
  describeHealth,
  healthSummary,
  type HealthInputs,
} from './endpointHealth';
import { openWorkspace } from './openWorkspace';

runTask(async (signal) => {
  // read and check every input before any network call
  const conn = getAzureRmConnection('connection');
  const ws = workspaceRef(conn, getString('resourceGroup'), getString('workspace'));
  const inputs: HealthInputs = checkInputs({
    endpointName: getString('endpointName') ?? '',
    deploymentName: getString('deploymentName'),
    windowMinutes: getInt('windowMinutes', { default: DEFAULTS.windowMinutes, min: 1, max: MAX_WINDOW_MINUTES })!,
    maxErrorPercent: getNumber('maxErrorPercent', { default: DEFAULTS.maxErrorPercent, min: 0, max: 100 })!,
    maxP95Ms: getNumber('maxP95Ms', { min: 0 }),
    maxP99Ms: getNumber('maxP99Ms', { min: 0 }),
    minRequests: getInt('minRequests', { default: DEFAULTS.minRequests, min: 0 })!,
  });

  const ctx = openWorkspace(conn, ws, signal);
  const r = await checkEndpointHealth(inputs, ws, azureOps(ctx), { info });
  const h = r.health;
  info(`Evidence: ${describeHealth(h)}`);
  info(`Verdict: ${r.judgement.verdict} (${r.judgement.rule})`);
  setOutput('verdict', r.judgement.verdict);
  setOutput('requests', String(h.requests));
  setOutput('errors', String(h.errors));
  setOutput('errorPercent', h.errorPercent !== undefined ? String(h.errorPercent) : '');
  setOutput('p95Ms', h.p95Ms !== undefined ? String(h.p95Ms) : '');
  setOutput('p99Ms', h.p99Ms !== undefined ? String(h.p99Ms) : '');
  uploadSummary('Azure ML endpoint health', healthSummary(r));
  if (r.judgement.verdict !== 'passed') {
    throw new UserError(`Endpoint health ${r.judgement.verdict}: ${r.judgement.rule} [${describeHealth(h)}]`);
  }
});
