// Phase 1 of the deploy task, local only: the inputs and YAML files → the desired endpoint and deployment, the traffic
// steps, the sample request and the thresholds. Nothing remote is read; a bad input fails here with an InputError.
import { promises as fsp, statSync } from 'node:fs';
import * as path from 'node:path';
import { InputError, UserError } from '../../pipeline/errors';
import type { EndpointKind } from '../../azureml/endpoints';
import {
  DeploymentSpecError,
  deploymentSpecFromInputs,
  isCustomContainer,
  parseAuthMode,
  parseOnlineDeploymentYaml,
  parseOnlineEndpointYaml,
  type OnlineDeploymentSpec,
  type OnlineEndpointSpec,
} from '../../azureml/deploymentSpec';
import { analysisThresholds, type AnalysisThresholds } from './analysis';
import { parseExpectedResponse, probeSettings, quantities, type ResponseMatcher } from './inputs';
import { checkMirrorInputs } from './mirror';
import { parseTrafficSteps } from './traffic';
import type { DeployInputs } from './types';
import { applyDataCollectionInputs } from './dataCollector';

export interface Plan {
  mirror: { percent: number; seconds: number };
  endpointName: string;
  endpointSpec: OnlineEndpointSpec;
  /** authMode input given / auth_mode in the endpoint file (else an existing endpoint keeps its mode) */
  authModeExplicit: boolean;
  deploymentSpec: OnlineDeploymentSpec;
  nameFixed: boolean; // deployment name from the input or the YAML
  modelSource: 'input' | 'yaml' | 'release';
  modelText?: string;
  steps: number[];
  sample?: { body: string; contentType: string; file: string };
  matcher?: ResponseMatcher;
  thresholds: AnalysisThresholds;
  warnings: string[];
}

type DeploymentPlan = Pick<Plan, 'deploymentSpec' | 'nameFixed' | 'modelSource' | 'modelText'>;

export async function localPlan(i: DeployInputs, cwd: string): Promise<Plan> {
  const warnings: string[] = [];
  const steps = parseTrafficSteps(i.trafficSteps);
  const matcher = parseExpectedResponse(i.expectedResponse);
  const thresholds = analysisThresholds(i);
  const sample = await readSample(i, cwd, !!matcher, warnings);
  const ep = endpointPlan(i, cwd, warnings);
  const dep = i.deploymentFile
    ? await deploymentFromFile(i, cwd, ep.endpointSpec, warnings)
    : await deploymentFromInputs(i, cwd, ep.endpointSpec);
  const name = ep.endpointSpec.name;
  if (!name)
    throw new InputError('endpointName', 'is required (or give an endpointFile / a deploymentFile with endpoint_name)');
  if (!/^[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]$/.test(name)) {
    throw new InputError(
      'endpointName',
      `'${name}' must be 3-32 characters: letters, digits and '-', starting with a letter and ending with a letter or digit`,
    );
  }
  if (i.tags) dep.deploymentSpec.tags = { ...(dep.deploymentSpec.tags ?? {}), ...i.tags };
  applyDataCollectionInputs(dep.deploymentSpec, i.dataCollection, i.dataCollectionSamplingRate);
  const mirror = checkMirrorInputs(i.mirrorPercent, i.mirrorSeconds, ep.endpointSpec.kind);
  return { mirror, endpointName: name, ...ep, ...dep, steps, sample, matcher, thresholds, warnings };
}

/** The sample request file (JSON checked when it looks like JSON); without one, the inputs that need it are refused. */
async function readSample(
  i: DeployInputs,
  cwd: string,
  hasMatcher: boolean,
  warnings: string[],
): Promise<Plan['sample']> {
  if (!i.sampleRequestFile) {
    if (hasMatcher) throw new InputError('expectedResponse', 'needs a sampleRequestFile to send');
    if (i.maxP95Ms !== undefined)
      throw new InputError('maxP95Ms', 'needs a sampleRequestFile (the smoke test measures the latency)');
    if (i.maxLatencyMs !== undefined)
      throw new InputError('maxLatencyMs', 'needs a sampleRequestFile (the probes measure the latency)');
    warnings.push(
      'No sampleRequestFile: the smoke test and the scoring health checks are skipped; only provisioning states are checked.',
    );
    return undefined;
  }
  const f = path.resolve(cwd, i.sampleRequestFile);
  let body: string;
  try {
    body = await fsp.readFile(f, 'utf8');
  } catch {
    throw new InputError(
      'sampleRequestFile',
      `'${i.sampleRequestFile}' was not found${f === i.sampleRequestFile ? '' : ` (looked for ${f})`}`,
    );
  }
  const looksJson = /\.json$/i.test(f) || /^\s*[{[]/.test(body);
  if (looksJson) {
    try {
      JSON.parse(body);
    } catch (e) {
      throw new InputError('sampleRequestFile', `'${i.sampleRequestFile}' is not valid JSON: ${(e as Error).message}`);
    }
  }
  return { body, contentType: looksJson ? 'application/json' : 'text/plain', file: f };
}

/** The endpoint: from the endpoint file (its traffic ignored) or from the inputs. */
function endpointPlan(
  i: DeployInputs,
  cwd: string,
  warnings: string[],
): Pick<Plan, 'endpointSpec' | 'authModeExplicit'> {
  if (i.endpointFile) {
    let spec: OnlineEndpointSpec;
    try {
      spec = parseOnlineEndpointYaml(path.resolve(cwd, i.endpointFile), { variables: i.yamlVariables });
    } catch (e) {
      inputErrorFromSpec('endpointFile', e);
    }
    if (i.endpointName && i.endpointName !== spec.name) spec.name = i.endpointName;
    if (spec.traffic && Object.keys(spec.traffic).length) {
      warnings.push(
        `${path.basename(spec.file ?? i.endpointFile)}: 'traffic' is ignored; the task moves traffic by trafficSteps`,
      );
      spec.traffic = undefined;
    }
    warnings.push(...spec.warnings);
    // the parser reads a missing auth_mode as key: only a file that says so asks for a mode
    return { endpointSpec: spec, authModeExplicit: !!spec.authModeGiven };
  }
  const kind: EndpointKind = i.endpointType === 'kubernetes' ? 'Kubernetes' : 'Managed';
  if (kind === 'Kubernetes' && !i.compute)
    throw new InputError(
      'compute',
      'is required for a Kubernetes online endpoint (the attached Kubernetes compute, e.g. k8s-compute)',
    );
  if (kind === 'Managed' && i.compute)
    throw new InputError('compute', "applies to Kubernetes endpoints only (set endpointType to 'kubernetes')");
  const authMode = parseAuthMode(i.authMode ?? 'key');
  if (!authMode || authMode === 'AADToken')
    throw new InputError('authMode', `'${i.authMode}' is not one of key, aml_token`);
  return {
    endpointSpec: {
      name: i.endpointName ?? '',
      kind,
      authMode,
      compute: i.compute,
      description: i.endpointDescription,
      warnings: [],
    },
    authModeExplicit: !!i.authMode,
  };
}

/** The deployment from its YAML file; the model from the input, the file or the release, in that order. */
async function deploymentFromFile(
  i: DeployInputs,
  cwd: string,
  endpointSpec: OnlineEndpointSpec,
  warnings: string[],
): Promise<DeploymentPlan> {
  for (const [k, v] of Object.entries({
    environment: i.environment,
    codePath: i.codePath,
    scoringScript: i.scoringScript,
    condaFile: i.condaFile,
  })) {
    if (v) throw new InputError(k, 'cannot be combined with deploymentFile (set it in the YAML file)');
  }
  let spec: OnlineDeploymentSpec;
  try {
    // the endpoint's name (endpointName input or endpoint file) replaces the file's endpoint_name as az ml's
    // --endpoint-name does, unread: a placeholder there (<ENDPOINT_NAME>, my_endpoint) is no error
    spec = parseOnlineDeploymentYaml(path.resolve(cwd, i.deploymentFile!), {
      variables: i.yamlVariables,
      endpointName: endpointSpec.name || undefined,
    });
  } catch (e) {
    inputErrorFromSpec('deploymentFile', e);
  }
  warnings.push(...spec.warnings);
  if (i.deploymentName) spec.name = i.deploymentName;
  const explicitModel = i.model ? normalizeModelInput(i.model, cwd) : undefined;
  let modelSource: Plan['modelSource'];
  let modelText: string | undefined;
  if (explicitModel) {
    const tmp = deploymentSpecFromInputs({
      name: 'placeholder',
      endpointName: 'placeholder',
      kind: spec.kind,
      model: explicitModel,
      baseDir: cwd,
    });
    spec.model = tmp.model;
    modelSource = 'input';
    modelText = explicitModel;
  } else if (spec.model) {
    modelSource = 'yaml';
  } else if (i.releaseModel) {
    modelText = `azureml:${i.releaseModel.name}:${i.releaseModel.version}`;
    spec.model = {
      kind: 'ref',
      ref: { kind: 'asset', name: i.releaseModel.name, version: i.releaseModel.version, text: modelText },
      text: modelText,
    };
    modelSource = 'release';
  } else if (isCustomContainer(spec)) {
    modelSource = 'yaml'; // a custom container with its model in the image (az ml sends no model either)
  } else {
    throw new InputError(
      'model',
      `the deployment file has no model and no model was given (input 'model', or an Azure ML model artifact in the release)`,
    );
  }
  if (spec.kind !== endpointSpec.kind) {
    throw new InputError(
      'deploymentFile',
      `is a ${spec.kind.toLowerCase()} deployment but the endpoint is ${endpointSpec.kind === 'Kubernetes' ? 'a Kubernetes' : 'a managed'} online endpoint`,
    );
  }
  if (spec.code?.code.kind === 'local')
    await checkScoringCode('deploymentFile', spec.code.code.path, spec.code.scoringScript);
  if (!endpointSpec.name && spec.endpointName) endpointSpec.name = spec.endpointName;
  return { deploymentSpec: spec, nameFixed: true, modelSource, modelText };
}

/** The deployment from the task's inputs (model, scoring code, environment, instance, probes, request settings). */
async function deploymentFromInputs(
  i: DeployInputs,
  cwd: string,
  endpointSpec: OnlineEndpointSpec,
): Promise<DeploymentPlan> {
  const abs = (p: string) => path.resolve(cwd, p);
  let modelSource: Plan['modelSource'];
  let modelText: string;
  if (i.model) {
    modelSource = 'input';
    modelText = normalizeModelInput(i.model, cwd);
  } else if (i.releaseModel) {
    modelSource = 'release';
    modelText = `azureml:${i.releaseModel.name}:${i.releaseModel.version}`;
  } else
    throw new InputError(
      'model',
      'is required: no model given and no Azure ML model artifact in this release (set modelArtifactAlias to pick one)',
    );
  if (i.scoringScript && !i.codePath) throw new InputError('codePath', 'is required when a scoring script is given');
  if (i.codePath && !i.scoringScript)
    throw new InputError('scoringScript', 'is required when a scoring code folder is given');
  if (i.codePath) await checkScoringCode('scoringScript', abs(i.codePath), i.scoringScript!);
  const environment = await environmentInput(i, abs);
  const kind = endpointSpec.kind;
  const requests = quantities('resourceRequests', i.resourceRequests);
  const limits = quantities('resourceLimits', i.resourceLimits);
  if ((requests || limits) && kind !== 'Kubernetes')
    throw new InputError(
      requests ? 'resourceRequests' : 'resourceLimits',
      'resource requests/limits apply to Kubernetes endpoints only',
    );
  let spec: OnlineDeploymentSpec;
  try {
    spec = deploymentSpecFromInputs({
      name: i.deploymentName ?? 'pending-name',
      endpointName: endpointSpec.name || 'pending-name',
      kind,
      model: modelText,
      environment,
      codeDir: i.codePath,
      scoringScript: i.scoringScript,
      instanceType: i.instanceType ?? (kind === 'Managed' ? 'Standard_DS3_v2' : undefined),
      instanceCount: i.instanceCount,
      resources: requests || limits ? { requests, limits } : undefined,
      livenessProbe: probeSettings('livenessProbe', i.livenessProbe),
      readinessProbe: probeSettings('readinessProbe', i.readinessProbe),
      requestSettings:
        i.maxConcurrentRequestsPerInstance !== undefined || i.requestTimeoutMs !== undefined
          ? {
              maxConcurrentRequestsPerInstance: i.maxConcurrentRequestsPerInstance,
              requestTimeoutMs: i.requestTimeoutMs,
            }
          : undefined,
      environmentVariables:
        i.environmentVariables && Object.keys(i.environmentVariables).length ? i.environmentVariables : undefined,
      baseDir: cwd,
    });
  } catch (e) {
    inputErrorFromSpec('model', e);
  }
  if (spec.model?.kind === 'inline' && spec.model.model.local) {
    try {
      await fsp.stat(spec.model.model.path);
    } catch {
      throw new InputError('model', `'${i.model}' is neither a registered model reference nor an existing local path`);
    }
  }
  return { deploymentSpec: spec, nameFixed: !!i.deploymentName, modelSource, modelText };
}

/** environment: a registered environment, or a container image (with an optional conda file that must exist). */
async function environmentInput(
  i: DeployInputs,
  abs: (p: string) => string,
): Promise<string | { image: string; condaFile?: string } | undefined> {
  if (!i.environment) {
    if (i.condaFile) throw new InputError('environment', 'a container image is required with condaFile');
    return undefined;
  }
  const isImage =
    !/^azureml:/i.test(i.environment) && !i.environment.startsWith('/subscriptions/') && i.environment.includes('/');
  if (!isImage) {
    if (i.condaFile)
      throw new InputError(
        'condaFile',
        'applies only when environment is a container image (e.g. mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04)',
      );
    return i.environment;
  }
  if (i.condaFile) {
    try {
      await fsp.stat(abs(i.condaFile));
    } catch {
      throw new InputError('condaFile', `'${i.condaFile}' was not found (looked for ${abs(i.condaFile)})`);
    }
  }
  return { image: i.environment, condaFile: i.condaFile };
}

function inputErrorFromSpec(input: string, e: unknown): never {
  if (e instanceof InputError) throw e;
  if (e instanceof DeploymentSpecError || e instanceof UserError) {
    const m = /^Input '([^']+)': (.*)$/s.exec(e.message);
    if (m) throw new InputError(m[1]!, m[2]!);
    throw new InputError(input, e.message);
  }
  throw e;
}

/** Model input: a bare registered name means its latest version; `name:version` / azureml refs / ARM ids / paths pass. */
function normalizeModelInput(text: string, cwd: string): string {
  const t = text.trim();
  if (/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(t)) {
    try {
      statSync(path.resolve(cwd, t));
      return t;
    } catch {
      return `azureml:${t}@latest`;
    }
  }
  return t;
}

async function checkScoringCode(input: string, codeDir: string, script: string): Promise<void> {
  let st;
  try {
    st = await fsp.stat(codeDir);
  } catch {
    throw new InputError(
      input === 'deploymentFile' ? input : 'codePath',
      `scoring code folder '${codeDir}' was not found`,
    );
  }
  if (!st.isDirectory()) return; // a single-file code asset: the file is the script
  const f = path.resolve(codeDir, script);
  if (path.relative(codeDir, f).startsWith('..') || path.isAbsolute(script))
    throw new InputError(input, `scoring script '${script}' must be a path inside the code folder`);
  try {
    if (!(await fsp.stat(f)).isFile()) throw new Error();
  } catch {
    throw new InputError(input, `scoring script '${script}' was not found in ${codeDir}`);
  }
}
