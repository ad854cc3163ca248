// One Azure ML client per task run: the SDK client's pipeline (bearer auth for the connection's ARM
// audience, retries honouring Retry-After) is also used for raw REST calls (arm.ts).
import { AzureMachineLearningWorkspaces, type Workspace } from '@azure/arm-machinelearning';
import { InputError, type AgentProxy } from '../pipeline';
import { proxyClientOptions } from '../auth';
import { AzureError, mapAzureError } from './errors';
import { studioHostFromDiscoveryUrl } from './workspace';
import type { TokenCredential } from '@azure/core-auth';
import type { WorkspaceRef } from './workspace';

export interface AzureMLContext {
  ws: WorkspaceRef;
  client: AzureMachineLearningWorkspaces;
  credential: TokenCredential;
  signal?: AbortSignal;
  /** the agent's web proxy (ws.proxy): clients built beside the SDK client (storage, scoring) go through it too */
  proxy?: AgentProxy;
}

export const USER_AGENT = 'azureml-devops-extension/1';

export function createAzureMLContext(
  ws: WorkspaceRef,
  credential: TokenCredential,
  signal?: AbortSignal,
): AzureMLContext {
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
    // the agent's proxy, bypass list applied per request (ARM, async-operation URLs, the MLflow host)
    ...proxyClientOptions(ws.proxy),
  });
  return { ws, client, credential, signal, ...(ws.proxy ? { proxy: ws.proxy } : {}) };
}

/**
 * Read the workspace (the first call of most tasks: it proves the credential, the permission and the names).
 * Unknown resource group / workspace → InputError naming the input. Refines the studio host from discoveryUrl.
 */
export async function getWorkspace(ctx: AzureMLContext): Promise<Workspace> {
  const { resourceGroup, workspace, subscriptionId } = ctx.ws;
  try {
    const w = await ctx.client.workspaces.get(resourceGroup, workspace, { abortSignal: ctx.signal });
    const host = studioHostFromDiscoveryUrl(w.discoveryUrl);
    if (host) ctx.ws.studioHost = host;
    return w;
  } catch (err) {
    const mapped = mapAzureError(err, `workspace '${workspace}'`);
    if (mapped instanceof AzureError && mapped.statusCode === 404) {
      if (/ResourceGroupNotFound/i.test(mapped.code ?? '')) {
        throw new InputError(
          'resourceGroup',
          `resource group '${resourceGroup}' was not found in subscription ${subscriptionId}`,
        );
      }
      throw new InputError(
        'workspace',
        `workspace '${workspace}' was not found in resource group '${resourceGroup}' (subscription ${subscriptionId})`,
      );
    }
    throw mapped;
  }
}
