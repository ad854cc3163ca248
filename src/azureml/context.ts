// One Azure ML client per task run: the SDK client's pipeline (bearer auth for the connection's ARM
// audience, retries honouring Retry-After) is also used for raw REST calls (arm.ts).
// The agent layer is not loaded here (only its types): secrets go to the context's onSecret, which the entry wires
// to setSecret (src/tasks/openWorkspace.ts), so src/azureml runs and is tested without azure-pipelines-task-lib.
import { AzureMachineLearningWorkspaces, type Workspace } from '@azure/arm-machinelearning';
import type { AgentProxy } from '../agentProxy';
import type { AzureRmConnection } from '../pipeline/connection';
import { InputError } from '../errors';
import { armScope, createCredential, proxyClientOptions, type CredentialOptions } from '../auth';
import { AzureError, mapAzureError } from './errors';
import { studioHostFromDiscoveryUrl } from './workspace';
import type { TokenCredential } from '@azure/core-auth';
import type { WorkspaceRef } from './workspace';

export interface AzureMLContext {
  ws: WorkspaceRef;
  client: AzureMachineLearningWorkspaces;
  credential: TokenCredential;
  /** the task's cancellation, for every call made with this context */
  signal?: AbortSignal;
  /** the ARM token scope the client asks for, e.g. https://management.core.windows.net//.default (armScope of the connection) */
  scope?: string;
  /** the agent's web proxy: clients built beside the SDK client (storage, scoring) go through it too */
  proxy?: AgentProxy;
  /** called with every secret this context obtains (endpoint keys and tokens, SAS): the caller masks it */
  onSecret?: (secret: string) => void;
}

export interface AzureMLContextOptions {
  /** the ARM token scope (armScope of the connection) */
  scope: string;
  /** the agent's web proxy */
  proxy?: AgentProxy;
  /** the task's cancellation */
  abortSignal?: AbortSignal;
  onSecret?: (secret: string) => void;
}

export const USER_AGENT = 'azureml-devops-extension/1';

/** The client for a named workspace with a credential in hand (tests, benches); tasks use connectWorkspace. */
export function createAzureMLContext(
  ws: WorkspaceRef,
  credential: TokenCredential,
  options: AzureMLContextOptions,
): AzureMLContext {
  const { scope, proxy, abortSignal, onSecret } = options;
  const endpoint = ws.armUrl.replace(/\/+$/, '');
  const client = new AzureMachineLearningWorkspaces(credential, ws.subscriptionId, {
    endpoint,
    // 2.1.1 builds operation URLs from `$host` (default https://management.azure.com), not from `endpoint`:
    // both must be set or sovereign clouds / the emulator are silently bypassed.
    $host: endpoint,
    // without this the token scope becomes `${endpoint}/.default` instead of the connection's audience
    credentialScopes: [scope],
    userAgentOptions: { userAgentPrefix: USER_AGENT },
    retryOptions: { maxRetries: 6, retryDelayInMs: 500, maxRetryDelayInMs: 16000 },
    // the agent's proxy, bypass list applied per request (ARM, async-operation URLs, the MLflow host)
    ...proxyClientOptions(proxy),
  });
  return {
    ws,
    client,
    credential,
    signal: abortSignal,
    scope,
    ...(proxy ? { proxy } : {}),
    ...(onSecret ? { onSecret } : {}),
  };
}

/**
 * connection → credential → client, the one path every task takes: the connection's credential (cancellation,
 * masking and debug detail from `options`), its ARM token scope and its agent proxy, held once on the context.
 */
export function connectWorkspace(
  conn: AzureRmConnection,
  ws: WorkspaceRef,
  options: CredentialOptions = {},
): AzureMLContext {
  return createAzureMLContext(ws, createCredential(conn, options), {
    scope: armScope(conn),
    ...(conn.proxy ? { proxy: conn.proxy } : {}),
    ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
    ...(options.onSecret ? { onSecret: options.onSecret } : {}),
  });
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
