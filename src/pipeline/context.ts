// What the agent tells a task about the run it is part of (public SYSTEM_*, BUILD_*, RELEASE_* variables).
import * as task from 'azure-pipelines-task-lib/task';
import { getJobAccessToken } from './connection';
import { quietly } from './quiet';
import { getAgentProxy, type AgentProxy } from './proxy';

export interface PipelineContext {
  collectionUri?: string;
  teamProject?: string;
  teamProjectId?: string;
  accessToken?: string;
  hostType?: string; // build | release | deployment
  definitionName?: string;
  buildId?: string;
  buildNumber?: string;
  buildUrl?: string;
  repository?: string;
  repositoryUri?: string;
  commit?: string;
  branch?: string;
  requestedFor?: string;
  reason?: string;
  releaseId?: string;
  releaseName?: string;
  releaseUrl?: string;
  releaseDefinitionName?: string;
  stageName?: string;
  attempt?: string;
  planId?: string;
  jobId?: string;
  /** the agent's web proxy (Agent.ProxyUrl …), for the Azure DevOps client */
  proxy?: AgentProxy;
}

/**
 * A pipeline variable (task.getVariable). task-lib logs every value it reads at debug level, secrets included;
 * here the read is quiet and only a public variable's value is logged.
 */
export function getVariable(name: string): string | undefined {
  const v = quietly(() => task.getVariable(name));
  const key = (n: string) => n.replace(/[. ]/g, '_').toUpperCase();
  const secret = v ? quietly(() => task.getVariables().some((x) => x.secret && key(x.name) === key(name))) : false;
  task.debug(`${name}=${secret ? '***' : v}`);
  return v === undefined || v === null || v === '' ? undefined : v;
}

export function getPipelineContext(): PipelineContext {
  const v = getVariable;
  const withSlash = (u?: string) => (u === undefined ? undefined : u.endsWith('/') ? u : u + '/');
  const ctx: PipelineContext = {
    collectionUri: withSlash(v('System.TeamFoundationCollectionUri') ?? v('System.CollectionUri')),
    teamProject: v('System.TeamProject'),
    teamProjectId: v('System.TeamProjectId'),
    accessToken: getJobAccessToken(),
    hostType: v('System.HostType'),
    definitionName: v('Build.DefinitionName'),
    buildId: v('Build.BuildId'),
    buildNumber: v('Build.BuildNumber'),
    repository: v('Build.Repository.Name'),
    repositoryUri: v('Build.Repository.Uri'),
    commit: v('Build.SourceVersion'),
    branch: v('Build.SourceBranch'),
    requestedFor: v('Build.RequestedFor'),
    reason: v('Build.Reason'),
    releaseId: v('Release.ReleaseId'),
    releaseName: v('Release.ReleaseName'),
    releaseUrl: v('Release.ReleaseWebUrl'),
    releaseDefinitionName: v('Release.DefinitionName'),
    stageName: v('Release.EnvironmentName') ?? v('System.StageDisplayName') ?? v('System.StageName'),
    attempt: v('System.JobAttempt'),
    planId: v('System.PlanId'),
    jobId: v('System.JobId'),
    proxy: getAgentProxy(),
  };
  if (ctx.releaseId) {
    // In a classic release the agent fills Build.* from the release's PRIMARY ARTIFACT (for our model artifact:
    // Build.BuildId = model version, Build.DefinitionName = model name), not from a build: they are no lineage here.
    for (const k of [
      'definitionName',
      'buildId',
      'buildNumber',
      'repository',
      'repositoryUri',
      'commit',
      'branch',
      'reason',
    ] as const)
      delete ctx[k];
    ctx.requestedFor = v('Release.RequestedFor') ?? v('Release.Deployment.RequestedFor');
  }
  const project = ctx.teamProject ?? ctx.teamProjectId;
  if (ctx.collectionUri && project && ctx.buildId) {
    ctx.buildUrl = `${ctx.collectionUri}${encodeURIComponent(project)}/_build/results?buildId=${encodeURIComponent(ctx.buildId)}`;
  }
  for (const k of Object.keys(ctx) as Array<keyof PipelineContext>) if (ctx[k] === undefined) delete ctx[k];
  return ctx;
}

/** Lineage tags (`azdo.*`) for the Azure resources a task creates; only values that are present. */
export function lineageTags(ctx: PipelineContext): Record<string, string> {
  const tags: Record<string, string> = {};
  const put = (k: string, val: string | undefined) => {
    if (val !== undefined && val !== '') tags[`azdo.${k}`] = val;
  };
  put('pipeline', ctx.definitionName ?? ctx.releaseDefinitionName);
  put('buildId', ctx.buildId);
  put('buildUrl', ctx.buildUrl);
  put('repository', ctx.repository);
  put('commit', ctx.commit);
  put('branch', ctx.branch);
  put('requestedFor', ctx.requestedFor);
  put('reason', ctx.reason);
  put('release', ctx.releaseName);
  put('releaseUrl', ctx.releaseUrl);
  put('stage', ctx.stageName);
  return tags;
}
