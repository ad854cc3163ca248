// The deploy task's contract with its callers: inputs, the injected Azure operations and agent hooks, and the result
// (with what each rollout stage measured). Types only, apart from RolloutFailed.
import type { PipelineContext } from '../../pipeline';
import { UserError } from '../../pipeline/errors';
import type { WorkspaceRef } from '../../azureml';
import type { DeploymentInfo, EndpointInfo, EndpointKind, ScoreResult } from '../../azureml/endpoints';
import type { DeploymentResolver } from '../../azureml/deploymentSpec';
import type { EndpointHealth } from '../../azureml/metrics';
import type { LatencyProfile, ProbeAnalysis, ProductionEvidence, Verdict } from './analysis';
import type { MirrorLogVerdict } from './mirror';
import type { CollectorOps } from './dataCollector';
import type { Log } from '../../log';
import type { Approval } from '../../devops/releases';

export type { Approval } from '../../devops/releases';
export interface DeployedInfo {
  endpointName: string;
  deploymentName: string;
  modelId?: string;
  scoringUri?: string;
  trafficBefore: Record<string, number>;
  trafficAfter: Record<string, number>;
  smoke?: LatencyProfile;
  unchanged: boolean;
}
/** Hook for the release governance (src/devops): approvals recorded as deployment tags; told after a success. */
export interface Governance {
  approvals(): Promise<Approval[]>;
  onDeployed?(info: DeployedInfo): Promise<void>;
}

export interface DeployInputs {
  endpointName?: string;
  endpointType: 'managed' | 'kubernetes';
  /** attached Kubernetes compute (name, azureml:name or ARM id) */
  compute?: string;
  /** blank: key for a new endpoint, an existing endpoint keeps its mode (it cannot change) */
  authMode?: 'key' | 'aml_token';
  endpointDescription?: string;
  endpointFile?: string;
  deploymentFile?: string;
  /** values for `{{NAME}}` placeholders in the YAML files */
  yamlVariables?: Record<string, string>;
  deploymentName?: string;
  /** explicit model: azureml:name:version, name:version, azureml:name@latest, name (latest), ARM id, local path */
  model?: string;
  /** the release's model artifact (DefinitionName / BuildNumber), used when no model is given */
  releaseModel?: { alias: string; name: string; version: string };
  environment?: string;
  condaFile?: string;
  codePath?: string;
  scoringScript?: string;
  instanceType?: string;
  instanceCount?: number;
  resourceRequests?: Record<string, string>;
  resourceLimits?: Record<string, string>;
  livenessProbe?: Record<string, string>;
  readinessProbe?: Record<string, string>;
  maxConcurrentRequestsPerInstance?: number;
  requestTimeoutMs?: number;
  environmentVariables?: Record<string, string>;
  tags?: Record<string, string>;
  /** collections to enable (model_inputs, model_outputs, …) and their sampling rate: src/tasks/deploy/dataCollector.ts */
  dataCollection?: string[];
  dataCollectionSamplingRate?: number;
  sampleRequestFile?: string;
  expectedResponse?: string;
  smokeRequests?: number;
  /** per step (smoke test, each health check): fail when the p95 latency of its conclusive probes is above this */
  maxP95Ms?: number;
  /** per step: fail when more than this share (%) of its conclusive probes failed (default 0) */
  maxFailurePercent?: number;
  /** a single answer slower than this (ms) is a failed probe */
  maxLatencyMs?: number;
  /** more inconclusive attempts in a row than this make a step inconclusive (default 4) */
  maxConsecutiveInconclusive?: number;
  trafficSteps?: string;
  healthCheckRequests?: number;
  stepWaitSeconds?: number;
  /** 0..50: % of the endpoint's traffic mirrored to the new deployment before the traffic steps (0 = no mirror stage) */
  mirrorPercent?: number;
  /** how long the mirror stage lasts (0..3600 s, default 60) */
  mirrorSeconds?: number;
  deleteOldDeployment?: boolean;
  logTail?: number;
  /** where the JSON deployment report goes (Agent.TempDirectory) */
  reportDir?: string;
}

export interface ComputeInfo {
  id: string;
  name: string;
  computeType: string;
  instanceTypes: string[];
  defaultInstanceType?: string;
}

export interface PlanningResolver extends DeploymentResolver {
  pendingWrites: string[];
  commit(): Promise<void>;
}

/** Everything deployModel does against Azure, injectable for unit tests. */
export interface DeployOps {
  ws: WorkspaceRef;
  location(): Promise<string>;
  getCompute(name: string): Promise<ComputeInfo | undefined>;
  getEndpoint(name: string, signal?: AbortSignal): Promise<EndpointInfo | undefined>;
  createEndpoint(name: string, body: Record<string, unknown>): Promise<EndpointInfo>;
  updateEndpoint(
    name: string,
    change: { authMode?: string; description?: string; tags?: Record<string, string> },
  ): Promise<EndpointInfo>;
  listDeployments(endpoint: string, signal?: AbortSignal): Promise<DeploymentInfo[]>;
  getDeployment(endpoint: string, name: string): Promise<DeploymentInfo | undefined>;
  /** the deployment's dataCollector (api-version 2024-04-01); absent: the deployment is not compared on it */
  getDataCollector?: CollectorOps['getDataCollector'];
  putDeployment(endpoint: string, name: string, body: Record<string, unknown>): Promise<DeploymentInfo>;
  /** tags only (PATCH), no redeployment */
  updateDeploymentTags(endpoint: string, name: string, tags: Record<string, string>): Promise<DeploymentInfo>;
  deleteDeployment(endpoint: string, name: string): Promise<void>;
  setTraffic(endpoint: string, traffic: Record<string, number>, signal?: AbortSignal): Promise<Record<string, number>>;
  /** endpoint mirrorTraffic (api-version 2023-04-01); `{}` clears it; returns what the service reports */
  setMirrorTraffic(
    endpoint: string,
    mirror: Record<string, number>,
    signal?: AbortSignal,
  ): Promise<Record<string, number>>;
  /** key (authMode Key) or AML token, masked */
  credential(endpoint: string, authMode: string): Promise<string>;
  logs(endpoint: string, deployment: string, tail: number, signal?: AbortSignal): Promise<string>;
  score(
    uri: string,
    body: string,
    o: { credential: string; deployment?: string; contentType?: string; signal?: AbortSignal },
  ): Promise<ScoreResult>;
  resolver(opts: { deploymentName?: string; errorPrefix?: string }): PlanningResolver;
  /** the deployment's Azure Monitor metrics over a window (until: now when absent; managed endpoints; src/azureml/metrics.ts) */
  metrics?(
    endpoint: string,
    deployment: string,
    window: { since: Date; until?: Date },
    signal?: AbortSignal,
  ): Promise<EndpointHealth>;
}

export interface DeployDeps {
  ops: DeployOps;
  log: Log & { section?(t: string): void };
  progress(percent: number, text?: string): void;
  context: PipelineContext;
  cwd?: string;
  signal?: AbortSignal;
  governance?: Governance;
  /** abortable wait (tests pass a fast one) */
  sleep?(ms: number, signal?: AbortSignal): Promise<void>;
}

/** What the mirror stage did and saw (the container log of the window is its verdict). */
export interface MirrorRecord {
  percent: number;
  seconds: number;
  /** requests the task sent through the endpoint during the window (answered by the live deployment) */
  endpoint?: LatencyProfile;
  /** how those requests were judged (probe analysis) */
  endpointAnalysis?: ProbeAnalysis;
  /** what the new deployment's container log shows for the window */
  logged: MirrorLogVerdict;
  skipped?: string;
}

export interface StepRecord {
  percent: number;
  traffic: Record<string, number>;
  health?: LatencyProfile;
  analysis?: ProbeAnalysis;
  provisioningState?: string;
  /**
   * the deployment's own Azure Monitor metrics over the step (managed endpoints) and their verdict; `production`: the
   * deployments that served before the rollout, in the window it was compared with (analysis.ts decideMetrics)
   */
  metrics?: EndpointHealth & { verdict: Verdict; rule: string; production?: ProductionEvidence };
}

export interface DeployResult {
  endpointName: string;
  deploymentName: string;
  endpointKind: EndpointKind;
  authMode: string;
  scoringUri?: string;
  /** key of a key-auth endpoint (already masked); the entry sets it as a secret output */
  endpointKey?: string;
  modelId?: string;
  trafficBefore: Record<string, number>;
  trafficAfter: Record<string, number>;
  unchanged: boolean;
  endpointCreated: boolean;
  deploymentWritten: boolean;
  /** the governance tags of an unchanged deployment were brought up to date (PATCH) */
  tagsUpdated: boolean;
  smoke?: LatencyProfile;
  /** the smoke test's probes, by outcome and cause, and its verdict */
  smokeAnalysis?: ProbeAnalysis;
  mirror?: MirrorRecord;
  steps: StepRecord[];
  deleted: string[];
  studioUrl: string;
  modelStudioUrl?: string;
  reportFile?: string;
  warnings: string[];
  /** set when the rollout failed: why, and what the rollback did */
  failure?: string;
}

/** The rollout failed and was rolled back; `result` holds what was measured up to then (the entry writes its summary). */
export class RolloutFailed extends UserError {
  constructor(
    message: string,
    readonly result: DeployResult,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
