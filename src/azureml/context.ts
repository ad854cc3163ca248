// One Azure ML client per task run: the SDK client's pipeline (bearer auth for the connection's ARM
// audience, retries honouring Retry-After) is also used for raw REST calls (arm.ts).
import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import type { TokenCredential } from '@azure/core-auth';
import type { WorkspaceRef } from './workspace';

export interface AzureMLContext {
  ws: WorkspaceRef;
  client: AzureMachineLearningWorkspaces;
  credential: TokenCredential;
  signal?: AbortSignal;
}

export const USER_AGENT = 'azureml-devops-extension/1';

export function createAzureMLContext(ws: WorkspaceRef, credential: TokenCredential, signal?: AbortSignal): AzureMLContext {
  const endpoint = ws.armUrl.replace(/\/+$/, '');
  const client = new AzureMachineLearningWorkspaces(credential, ws.subscriptionId, {
    endpoint,
    // 2.1.1 builds operation URLs from `$host` (default https://management.azure.com), not from `endpoint`:
    // both must be set or sovereign clouds / the emulator are silently bypassed.
    $host: endpoint,
    // without this the token scope becomes `${endpoint}/.default` instead of the connection's audience
    credentialScopes: [ws.scope],
    userAgentOptions: { userAgentPrefix: USER_AGENT },
    retryOptions: { maxRetries: 6, retryDelayInMs: 500, maxRetryDelayInMs: 16000 },
  });
  return { ws, client, credential, signal };
}
