// Which workspace a task talks to, and how to name things in it (ARM paths, studio links).
import type { AzureRmConnection } from '../pipeline/connection';
import { InputError } from '../errors';

export interface WorkspaceRef {
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  /** ARM base URL from the service connection, always ending with '/'. */
  armUrl: string;
  /** Tenant of the service connection (studio links carry it as `tid`). */
  tenantId?: string;
  /** Studio host for links, e.g. ml.azure.com (see studioHostFor). */
  studioHost?: string;
}

// Azure resource-group rule: 1-90 of letters, digits, _ ( ) - . ; not ending with '.'
const RG_PATTERN = /^[-\w.()]{1,90}$/u;
// Azure ML workspace names: 3-33 chars, start alphanumeric, then alphanumerics, '-' or '_'
const WS_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$/;

/**
 * Studio host by cloud. Decision: the studio host is derived from the connection's `environment`
 * (AzureCloud → ml.azure.com, AzureUSGovernment → ml.azure.us, AzureChinaCloud → studio.ml.azure.cn);
 * when the workspace has been read, studioHostFromDiscoveryUrl() refines it from the workspace's own
 * discoveryUrl (…api.azureml.ms → ml.azure.com, …api.ml.azure.us → ml.azure.us, …api.ml.azure.cn → studio.ml.azure.cn).
 * Anything unknown (e.g. a private cloud or an emulator) keeps ml.azure.com.
 */
export function studioHostFor(environment?: string): string {
  switch ((environment ?? '').toLowerCase()) {
    case 'azureusgovernment':
      return 'ml.azure.us';
    case 'azurechinacloud':
      return 'studio.ml.azure.cn';
    default:
      return 'ml.azure.com';
  }
}

export function studioHostFromDiscoveryUrl(discoveryUrl?: string): string | undefined {
  if (!discoveryUrl) return undefined;
  let host: string;
  try {
    host = new URL(discoveryUrl).hostname.toLowerCase();
  } catch {
    return undefined;
  }
  if (host.endsWith('.api.azureml.ms') || host === 'api.azureml.ms') return 'ml.azure.com';
  if (host.endsWith('.ml.azure.us')) return 'ml.azure.us';
  if (host.endsWith('.ml.azure.cn')) return 'studio.ml.azure.cn';
  return undefined;
}

/**
 * Resolve the workspace from task inputs, falling back to the service connection's own scope data
 * (workspace-scoped or resource-group-scoped connections). Inputs win over the connection.
 */
export function workspaceRef(conn: AzureRmConnection, resourceGroup?: string, workspace?: string): WorkspaceRef {
  const rg = (resourceGroup ?? '').trim() || (conn.resourceGroup ?? '').trim();
  const ws = (workspace ?? '').trim() || (conn.workspace ?? '').trim();
  if (!rg)
    throw new InputError(
      'resourceGroup',
      'required (the service connection is not scoped to a resource group or workspace)',
    );
  if (!RG_PATTERN.test(rg) || rg.endsWith('.'))
    throw new InputError('resourceGroup', `'${rg}' is not a valid resource group name`);
  if (!ws)
    throw new InputError('workspace', 'required (the service connection is not scoped to an Azure ML workspace)');
  if (!WS_PATTERN.test(ws))
    throw new InputError(
      'workspace',
      `'${ws}' is not a valid workspace name (3-33 letters, digits, '-' or '_', starting with a letter or digit)`,
    );
  const armUrl = conn.armUrl.endsWith('/') ? conn.armUrl : conn.armUrl + '/';
  return {
    subscriptionId: conn.subscriptionId,
    resourceGroup: rg,
    workspace: ws,
    armUrl,
    tenantId: conn.tenantId,
    studioHost: studioHostFor(conn.environment),
  };
}

/** '/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{w}' + sub */
export function wsPath(ws: WorkspaceRef, sub = ''): string {
  const base =
    `/subscriptions/${encodeURIComponent(ws.subscriptionId)}/resourceGroups/${encodeURIComponent(ws.resourceGroup)}` +
    `/providers/Microsoft.MachineLearningServices/workspaces/${encodeURIComponent(ws.workspace)}`;
  if (!sub) return base;
  return base + (sub.startsWith('/') || sub.startsWith('?') ? sub : '/' + sub);
}

/** The `wsid` studio query value (studio uses lower-case 'resourcegroups' and 'workspaces'). */
export function studioWsid(ws: WorkspaceRef): string {
  return `/subscriptions/${ws.subscriptionId}/resourcegroups/${ws.resourceGroup}/workspaces/${ws.workspace}`;
}

/**
 * Link into Azure ML studio.
 *  model:    https://ml.azure.com/model/<name>:<version>/details?wsid=…&tid=…
 *  job:      https://ml.azure.com/runs/<job>?wsid=…&tid=…
 *  endpoint: https://ml.azure.com/endpoints/realtime/<endpoint>/detail?wsid=…&tid=…
 *  workspace:https://ml.azure.com/home?wsid=…&tid=…
 */
export function studioUrl(
  ws: WorkspaceRef,
  kind: 'model' | 'job' | 'endpoint' | 'workspace',
  ...ids: string[]
): string {
  const host = ws.studioHost || 'ml.azure.com';
  const e = encodeURIComponent;
  let path: string;
  switch (kind) {
    case 'model':
      path = `model/${e(ids[0] ?? '')}:${e(ids[1] ?? '')}/details`;
      break;
    case 'job':
      path = `runs/${e(ids[0] ?? '')}`;
      break;
    case 'endpoint':
      path = `endpoints/realtime/${e(ids[0] ?? '')}/detail`;
      break;
    default:
      path = 'home';
  }
  const q = `wsid=${studioWsid(ws)}` + (ws.tenantId ? `&tid=${ws.tenantId}` : '');
  return `https://${host}/${path}?${q}`;
}
