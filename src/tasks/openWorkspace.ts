// The one path from the `connection` input to an Azure ML client, for every entry file:
//   connection (src/pipeline/connection.ts) → workspace (src/azureml/workspace.ts workspaceRef, checked with the
//   other inputs before any call) → context (src/azureml/context.ts connectWorkspace: credential, token scope, proxy)
// with the agent's side wired here: the task's cancellation, setSecret for every secret obtained, debug detail.
import { debug, info, setSecret, type AzureRmConnection } from '../pipeline';
import type { CredentialOptions } from '../auth';
import { connectWorkspace, type AzureMLContext, type WorkspaceRef } from '../azureml';
import { registryContext } from '../azureml/registries';

/** What the agent layer hands every credential and client: cancellation, masking, debug detail. */
export function agentOptions(signal: AbortSignal): CredentialOptions {
  return { abortSignal: signal, onSecret: setSecret, debug };
}

/**
 * The workspace's client, and the line that names it (`announce: false` when the task prints its own).
 */
export function openWorkspace(
  conn: AzureRmConnection,
  ws: WorkspaceRef,
  signal: AbortSignal,
  o: { announce?: boolean } = {},
): AzureMLContext {
  const ctx = connectWorkspace(conn, ws, agentOptions(signal));
  if (o.announce !== false) {
    info(`Workspace ${ws.workspace} (resource group ${ws.resourceGroup}, subscription ${ws.subscriptionId})`);
  }
  return ctx;
}

/** A client for a registry reached through `conn` (no workspace). */
export function openRegistryConnection(conn: AzureRmConnection, signal: AbortSignal): AzureMLContext {
  return registryContext(conn, agentOptions(signal));
}
