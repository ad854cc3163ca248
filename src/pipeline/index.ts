// The agent contract: everything a task learns from, or tells, the Azure Pipelines agent goes through here.
// loadGuard first: task-lib prints the agent's proxy password while it loads (see loadGuard.ts)
import { releaseLoadGuard } from './loadGuard';
export { UserError, InputError, CancelledError } from './errors';
export {
  getString,
  requireString,
  getBool,
  getInt,
  getNumber,
  getEnum,
  getList,
  getKeyValues,
  parseKeyValues,
  getPath,
  isAgentRoot,
} from './inputs';
export type { AzureRmConnection, AzureRmAuth, JobPlan } from './connection';
export { getAzureRmConnection, getJobAccessToken, getJobPlan } from './connection';
export type { PipelineContext } from './context';
export { getVariable, getPipelineContext, lineageTags } from './context';
export type { ReleaseArtifact } from './releaseArtifacts';
export { releaseArtifacts } from './releaseArtifacts';
export {
  setOutput,
  setSecret,
  uploadSummary,
  writeTempFile,
  progress,
  info,
  warning,
  debug,
  error,
  section,
  updateReleaseName,
  addBuildTag,
} from './outputs';
export { runTask, describeError } from './run';
export type { AgentProxy } from './proxy';
export { getAgentProxy, isProxyBypassed } from './proxy';

releaseLoadGuard();
