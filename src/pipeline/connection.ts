// The AzureRM service connection as a real agent hands it to a task:
//   ENDPOINT_URL_<id>              ARM base URL
//   ENDPOINT_AUTH_<id>             {"scheme": ..., "parameters": {...}} (task-lib keeps it in its vault)
//   ENDPOINT_DATA_<id>_<KEY>       subscriptionId, environment, activeDirectoryAuthority,
//                                  activeDirectoryServiceEndpointResourceId, scopeLevel, and for the
//                                  "Machine Learning Workspace" scope resourceGroupName, mlWorkspaceName, mlWorkspaceLocation.
import * as task from 'azure-pipelines-task-lib/task';
import { InputError } from './errors';
import { requireString } from './inputs';
import { setSecret } from './outputs';
import { quietly } from './quiet';
import { getAgentProxy, type AgentProxy } from './proxy';

export type AzureRmAuth =
  | { scheme: 'ServicePrincipal'; clientId: string; secret?: string; certificatePem?: string }
  | { scheme: 'WorkloadIdentityFederation'; clientId: string; idToken?: string }
  | { scheme: 'ManagedServiceIdentity'; clientId?: string };

export interface AzureRmConnection {
  id: string;
  armUrl: string; // ends with '/'
  subscriptionId: string;
  tenantId: string;
  authorityHost: string; // e.g. https://login.microsoftonline.com/
  /** the ARM token audience exactly as the connection gives it, e.g. https://management.core.windows.net/ (see armScope) */
  audience: string;
  environment: string;
  scopeLevel?: 'Subscription' | 'ResourceGroup' | 'AzureMLWorkspace' | string;
  resourceGroup?: string;
  workspace?: string;
  workspaceLocation?: string;
  auth: AzureRmAuth;
  /**
   * Where a workload identity federation connection gets fresh OIDC tokens: the URI the agent gives the job
   * (System.OidcRequestUri), or, when the job has none, the job's plan (see getJobPlan), with the job access token.
   */
  oidc?: { requestUri?: string; plan?: JobPlan; accessToken: string };
  /** the agent's web proxy (Agent.ProxyUrl …), for every client built from this connection */
  proxy?: AgentProxy;
}

const withSlash = (u: string) => (u.endsWith('/') ? u : u + '/');

function data(id: string, key: string): string | undefined {
  const v = task.getEndpointDataParameter(id, key, true);
  return v && v.trim() ? v.trim() : undefined;
}

function param(params: Record<string, string> | undefined, key: string): string | undefined {
  if (!params) return undefined;
  const k = Object.keys(params).find((p) => p.toLowerCase() === key.toLowerCase());
  const v = k === undefined ? undefined : params[k];
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

/**
 * The job's orchestration plan as the agent describes it: what the first-party azure-arm-rest package reads to ask
 * Azure DevOps for an OIDC token when it builds the request itself
 * (microsoft/azure-pipelines-tasks-common-packages, common-npm-packages/azure-arm-rest/azure-arm-common.ts
 * getFederatedToken, commit 023a601d7a36449a41a5975269049029ffd112f6, and azCliUtility.ts getFederatedToken):
 *   collection URI  System.CollectionUri, else System.TeamFoundationServerUri (azure-arm-rest's order; we also take
 *                   System.TeamFoundationCollectionUri, the same value on a real agent, before the server URI;
 *                   ASSUMPTION: in a classic release the server URI may name the Release Management host)
 *   project         System.TeamProjectId (the route's scopeIdentifier is the project GUID)
 *   hub             System.HostType ('build' in a build; ASSUMPTION: 'release' in a classic release agent job)
 *   plan, job       System.PlanId, System.JobId
 * The same five values Azure DevOps documents for calling a run's plan back: PlanUrl $(system.CollectionUri),
 * ProjectId $(system.TeamProjectId), HubName $(system.HostType), PlanId $(system.PlanId), JobId $(system.JobId)
 * (MicrosoftDocs/azure-devops-docs, "Invoke Azure Function / REST API Checks", Pass Pipeline Run Information).
 * undefined when any of them is missing.
 */
export function getJobPlan(): JobPlan | undefined {
  const v = (name: string) => quietly(() => task.getVariable(name))?.trim() || undefined;
  const collectionUri =
    v('System.CollectionUri') ?? v('System.TeamFoundationCollectionUri') ?? v('System.TeamFoundationServerUri');
  const projectId = v('System.TeamProjectId');
  const hub = v('System.HostType');
  const planId = v('System.PlanId');
  const jobId = v('System.JobId');
  if (!collectionUri || !projectId || !hub || !planId || !jobId) return undefined;
  return { collectionUri: withSlash(collectionUri), projectId, hub, planId, jobId };
}

export interface JobPlan {
  /** ends with '/' */
  collectionUri: string;
  projectId: string;
  hub: string;
  planId: string;
  jobId: string;
}

/** The job's access token (System.AccessToken), from the SystemVssConnection endpoint or the secret variable. */
export function getJobAccessToken(): string | undefined {
  const token = quietly(() => {
    const auth = task.getEndpointAuthorization('SystemVssConnection', true);
    return param(auth?.parameters, 'AccessToken') ?? (task.getVariable('System.AccessToken') || undefined);
  });
  if (token) setSecret(token);
  return token;
}

/** Reads the AzureRM service connection named by input `inputName`; every secret found is masked with task.setsecret. */
export function getAzureRmConnection(inputName: string): AzureRmConnection {
  const id = requireString(inputName);
  const bad = (problem: string) => new InputError(inputName, `service connection '${id}' ${problem}`);

  const authz = quietly(() => task.getEndpointAuthorization(id, true));
  if (!authz) throw bad('was not found, or this pipeline is not authorized to use it');
  const params = authz.parameters ?? {};
  const schemeRaw = (authz.scheme ?? '').trim();

  const tenantId = param(params, 'tenantid');
  const clientId = param(params, 'serviceprincipalid');
  let auth: AzureRmAuth;
  let oidc: AzureRmConnection['oidc'];
  switch (schemeRaw.toLowerCase()) {
    case 'serviceprincipal': {
      if (!clientId) throw bad('has no service principal id');
      const type = (param(params, 'authenticationType') ?? 'spnKey').toLowerCase();
      if (type === 'spncertificate') {
        const pem = param(params, 'servicePrincipalCertificate');
        if (!pem) throw bad('uses certificate authentication but has no certificate');
        setSecret(pem);
        auth = { scheme: 'ServicePrincipal', clientId, certificatePem: pem };
      } else if (type === 'spnkey') {
        const secret = param(params, 'serviceprincipalkey');
        if (!secret) throw bad('has no service principal key');
        setSecret(secret);
        auth = { scheme: 'ServicePrincipal', clientId, secret };
      } else {
        throw bad(
          `has an unsupported authentication type '${param(params, 'authenticationType')}' (expected spnKey or spnCertificate)`,
        );
      }
      break;
    }
    case 'workloadidentityfederation': {
      if (!clientId) throw bad('has no service principal id');
      const idToken = param(params, 'idToken');
      if (idToken) setSecret(idToken);
      // Token sources, freshest first: System.OidcRequestUri (what @azure/identity's AzurePipelinesCredential uses);
      // without it the job's plan, the way azure-arm-rest builds the request (getJobPlan); both need the job access
      // token. Last, the endpoint's idToken (issued once, when the job started).
      const requestUri = task.getVariable('System.OidcRequestUri')?.trim() || undefined;
      const accessToken = getJobAccessToken();
      if (accessToken) {
        if (requestUri) oidc = { requestUri, accessToken };
        else {
          const plan = getJobPlan();
          if (plan) oidc = { plan, accessToken };
        }
      }
      if (!oidc && !idToken) {
        throw bad(
          'uses workload identity federation, but the job has neither System.OidcRequestUri nor its plan variables ' +
            '(System.CollectionUri, System.TeamProjectId, System.HostType, System.PlanId, System.JobId) with an access token, nor an idToken ' +
            '(allow scripts to access the OAuth token, or use an agent that supports OIDC)',
        );
      }
      auth = { scheme: 'WorkloadIdentityFederation', clientId, idToken };
      break;
    }
    case 'managedserviceidentity': {
      auth = { scheme: 'ManagedServiceIdentity', clientId: data(id, 'msiclientId') ?? clientId };
      break;
    }
    case '':
      throw bad('has no authorization scheme');
    default:
      throw bad(
        `uses the unsupported authorization scheme '${schemeRaw}' (expected ServicePrincipal, WorkloadIdentityFederation or ManagedServiceIdentity)`,
      );
  }

  if (!tenantId && auth.scheme !== 'ManagedServiceIdentity') throw bad('has no tenant id');
  const subscriptionId = data(id, 'subscriptionId');
  if (!subscriptionId) throw bad('has no subscription id (management-group scoped connections are not supported)');

  const rawUrl = task.getEndpointUrl(id, true)?.trim() || 'https://management.azure.com/';
  const armUrl = withSlash(rawUrl);
  const authorityHost = withSlash(
    data(id, 'activeDirectoryAuthority') ?? data(id, 'environmentAuthorityUrl') ?? 'https://login.microsoftonline.com/',
  );
  // The ARM audience, as given: no slash added or removed, since the scope is built from it verbatim (armScope) and an
  // Azure Stack Hub audience has none ("https://management.<tenant>.onmicrosoft.com/<guid>"). Without it, the
  // connection's URL, as azure-arm-rest does for every cloud but Azure Stack (AzureRMEndpoint.getEndpoint:
  // activeDirectoryResourceID = endpoint.url; azure-arm-endpoint.ts, commit 44c8c3eb5d40446bfb084d31550ef1d135acc62f).
  const audience = data(id, 'activeDirectoryServiceEndpointResourceId') ?? rawUrl;

  const conn: AzureRmConnection = {
    id,
    armUrl,
    subscriptionId,
    tenantId: tenantId ?? '',
    authorityHost,
    audience,
    environment: data(id, 'environment') ?? 'AzureCloud',
    auth,
  };
  const scopeLevel = data(id, 'scopeLevel');
  if (scopeLevel) conn.scopeLevel = scopeLevel;
  const rg = data(id, 'resourceGroupName');
  if (rg) conn.resourceGroup = rg;
  const ws = data(id, 'mlWorkspaceName');
  if (ws) conn.workspace = ws;
  const loc = data(id, 'mlWorkspaceLocation');
  if (loc) conn.workspaceLocation = loc;
  if (oidc) conn.oidc = oidc;
  const proxy = getAgentProxy();
  if (proxy) conn.proxy = proxy;
  return conn;
}
