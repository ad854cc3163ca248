// Agent entry of AzureMLModelDeploy@1: inputs → deployModel → outputs + summary.
import {
  debug,
  getAzureRmConnection,
  getBool,
  getEnum,
  getInt,
  getKeyValues,
  getList,
  getNumber,
  getPath,
  getPipelineContext,
  isAgentRoot,
  getString,
  getVariable,
  info,
  progress,
  releaseArtifacts,
  runTask,
  section,
  setOutput,
  updateReleaseName,
  uploadSummary,
  warning,
} from '../pipeline';
import { workspaceRef } from '../azureml';
import { lroProgressLine } from '../azureml/poll';
import { createReleaseGovernance, parseModelId } from '../devops/governance';
import { buildModelCard, readEvaluationFile } from './modelCard';
import { getMetricAlert, putMetricAlert } from '../azureml/alerts';
import { endpointResourceId } from '../azureml/metrics';
import { ALERT_RULE_CHOICES, alertRulesSummary, applyAlertRules, checkAlertInputs } from './deploy/alerts';
import { preflightRegistryModel } from '../azureml/registries';
import {
  RolloutFailed,
  azureOps,
  deployModel,
  deploySummary,
  modelFromRelease,
  parseExpectedResponse,
  parseTrafficSteps,
  type DeployInputs,
} from './modelDeploy';
import { openWorkspace } from './openWorkspace';

runTask(async (signal) => {
  // read and check every input before any network call
  const conn = getAzureRmConnection('connection');
  const ws = workspaceRef(conn, getString('resourceGroup'), getString('workspace'));
  const model = getString('model');
  // a blank codePath arrives as the agent's root folder: that is "no code" unless a scoring script is given (score.py at
  // the repository root is a real layout)
  const scoringScript = getString('scoringScript');
  const codeDir = getPath('codePath', { kind: 'dir', mustExist: false });
  const codePath = codeDir && isAgentRoot(codeDir) && !scoringScript ? undefined : codeDir;
  const alias = getString('modelArtifactAlias');
  const inputs: DeployInputs = {
    endpointName: getString('endpointName'),
    endpointType: getEnum('endpointType', ['managed', 'kubernetes'] as const, 'managed'),
    compute: getString('compute'),
    authMode: getString('authMode') === undefined ? undefined : getEnum('authMode', ['key', 'aml_token'] as const),
    endpointDescription: getString('endpointDescription'),
    endpointFile: getPath('endpointFile', { kind: 'file', mustExist: false }),
    deploymentFile: getPath('deploymentFile', { kind: 'file', mustExist: false }),
    yamlVariables: getKeyValues('yamlVariables'),
    deploymentName: getString('deploymentName'),
    model,
    releaseModel: model ? undefined : modelFromRelease(getVariable, alias, releaseArtifacts()),
    environment: getString('environment'),
    condaFile: getPath('condaFile', { kind: 'file', mustExist: false }),
    codePath,
    scoringScript,
    instanceType: getString('instanceType'),
    instanceCount: getInt('instanceCount', { min: 1, max: 20 }),
    resourceRequests: getKeyValues('resourceRequests'),
    resourceLimits: getKeyValues('resourceLimits'),
    livenessProbe: getKeyValues('livenessProbe'),
    readinessProbe: getKeyValues('readinessProbe'),
    maxConcurrentRequestsPerInstance: getInt('maxConcurrentRequestsPerInstance', { min: 1 }),
    requestTimeoutMs: getInt('requestTimeoutMs', { min: 1 }),
    environmentVariables: getKeyValues('environmentVariables'),
    tags: getKeyValues('tags'),
    dataCollection: getList('dataCollection'),
    dataCollectionSamplingRate: getNumber('dataCollectionSamplingRate'),
    sampleRequestFile: getPath('sampleRequestFile', { kind: 'file', mustExist: false }),
    expectedResponse: getString('expectedResponse'),
    smokeRequests: getInt('smokeRequests', { default: 20, min: 1, max: 1000 }),
    maxP95Ms: getInt('maxP95Ms', { min: 1 }),
    maxFailurePercent: getNumber('maxFailurePercent', { default: 0, min: 0, max: 100 }),
    maxLatencyMs: getInt('maxLatencyMs', { min: 1 }),
    maxConsecutiveInconclusive: getInt('maxConsecutiveInconclusive', { default: 4, min: 0, max: 100 }),
    trafficSteps: getString('trafficSteps'),
    healthCheckRequests: getInt('healthCheckRequests', { default: 5, min: 0, max: 1000 }),
    stepWaitSeconds: getInt('stepWaitSeconds', { default: 0, min: 0, max: 3600 }),
    mirrorPercent: getInt('mirrorPercent', { default: 0, min: 0, max: 50 }),
    mirrorSeconds: getInt('mirrorSeconds', { default: 60, min: 0, max: 3600 }),
    deleteOldDeployment: getBool('deleteOldDeployment', false),
    logTail: getInt('logTail', { default: 100, min: 1, max: 10000 }),
    reportDir: getVariable('Agent.TempDirectory'),
  };
  const evaluationFile = getPath('evaluationFile', { kind: 'file' });
  const alertInputs = checkAlertInputs(
    {
      alertRules: getEnum('alertRules', ALERT_RULE_CHOICES, 'none'),
      alertMaxErrorsPerMinute: getNumber('alertMaxErrorsPerMinute', { default: 0, min: 0 })!,
      alertMaxP95Ms: getInt('alertMaxP95Ms', { min: 1 }),
      alertWindowMinutes: getInt('alertWindowMinutes', { default: 5 })!,
      alertSeverity: getInt('alertSeverity', { default: 2 })!,
      alertActionGroup: getString('alertActionGroup'),
    },
    { maxP95Ms: inputs.maxP95Ms, endpointType: inputs.endpointFile ? undefined : inputs.endpointType },
  );
  parseTrafficSteps(inputs.trafficSteps);
  parseExpectedResponse(inputs.expectedResponse);
  if (alias && model) warning(`Input 'modelArtifactAlias' is ignored: the model input is set (${model}).`);
  if (!model && inputs.releaseModel)
    info(
      `Model from release artifact '${inputs.releaseModel.alias}': ${inputs.releaseModel.name}:${inputs.releaseModel.version}`,
    );

  const ctx = openWorkspace(conn, ws, signal);
  // azureml://registries/…: registry, region, version checked before any write; …/labels/latest pinned to its version
  inputs.model = await preflightRegistryModel(ctx, model, 'model', info);
  const context = getPipelineContext();
  // in a classic release: approvals → deployment tags, model version tagged deployed.<stage>, release name gets the model version
  const governance = createReleaseGovernance({
    context,
    environmentId: getVariable('Release.EnvironmentId'),
    azureml: ctx,
    log: { info, warning },
    updateReleaseName,
    signal,
  });
  let approvals: Awaited<ReturnType<NonNullable<typeof governance>['approvals']>> = [];
  const result = await deployModel(inputs, {
    ops: azureOps(ctx, { onProgress: (p) => info(lroProgressLine(p)) }),
    log: { info, warning, debug, section },
    progress,
    context,
    signal,
    governance: governance && {
      approvals: async () => (approvals = await governance.approvals()),
      onDeployed: (i) => governance.onDeployed(i),
    },
  }).catch((e: unknown) => {
    // a rolled-back rollout still shows what each step measured and the rule that stopped it
    if (e instanceof RolloutFailed) uploadSummary('Azure ML deployment', deploySummary(e.result));
    throw e;
  });

  // after a successful rollout (or an unchanged rerun): the endpoint's Azure Monitor alert rules (deploy/alerts.ts)
  if (alertInputs && result.endpointKind === 'Kubernetes')
    warning(
      `No alert rules: endpoint ${result.endpointName} is a Kubernetes (AKS/Arc) endpoint, which publishes no Azure Monitor request metrics.`,
    );
  else if (alertInputs) {
    section(`Azure Monitor alert rules on endpoint ${result.endpointName}`);
    const rules = await applyAlertRules(
      alertInputs,
      { id: endpointResourceId(ctx, result.endpointName), name: result.endpointName },
      { get: (n) => getMetricAlert(ctx, n), put: (n, b) => putMetricAlert(ctx, n, b) },
      { info },
      signal,
    );
    setOutput(
      'alertRuleIds',
      rules
        .map((r) => r.id)
        .filter(Boolean)
        .join(','),
    );
    uploadSummary('Azure Monitor alert rules', alertRulesSummary(rules));
  }
  setOutput('endpointName', result.endpointName);
  setOutput('deploymentName', result.deploymentName);
  if (result.scoringUri) setOutput('scoringUri', result.scoringUri);
  if (result.endpointKey) setOutput('endpointKey', result.endpointKey, { secret: true });
  if (result.modelId) setOutput('modelId', result.modelId);
  setOutput('trafficBefore', JSON.stringify(result.trafficBefore));
  setOutput('trafficAfter', JSON.stringify(result.trafficAfter));
  if (result.reportFile) setOutput('deploymentReport', result.reportFile);
  uploadSummary('Azure ML deployment', deploySummary(result));
  const deployed = parseModelId(result.modelId);
  if (governance && deployed) {
    // the model card for approvers of the next stage (the evaluation: this task's evaluationFile, else the one recorded on the model version at registration)
    const evaluation = readEvaluationFile([evaluationFile], warning);
    uploadSummary(
      'Model card',
      await buildModelCard(ctx, { model: deployed, context, evaluation, approvals, deployment: result }),
    );
  }
});
