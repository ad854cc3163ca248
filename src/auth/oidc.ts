// Azure DevOps OIDC token for a service connection (workload identity federation). It lives in src/auth, beside the
// credential that asks for it (federatedAssertion), so auth imports nothing from src/devops:
//   POST {collection}{projectId}/_apis/distributedtask/hubs/{hub}/plans/{planId}/jobs/{jobId}/oidctoken
//        ?api-version=7.1&serviceConnectionId=<id>
//   Authorization: Bearer <job access token>, Content-Type: application/json, body {} → {"oidcToken": "..."}
// Sources:
// - The route: REST reference Oidctoken_Create, MicrosoftDocs/vsts-rest-api-specs
//   specification/distributedTask/7.1/task.json (commit 522bc9570a998dff8d3dde5e9397fdf9ef2857a3):
//   POST /{organization}/{scopeIdentifier}/_apis/distributedtask/hubs/{hubName}/plans/{planId}/jobs/{jobId}/oidctoken,
//   scopeIdentifier = project GUID, serviceConnectionId in the query, a JSON object body (claims), 200 TaskHubOidcToken.
// - System.OidcRequestUri is that route for the running job (release notes sprint 240, MicrosoftDocs/azure-devops-docs
//   release-notes/2024/includes/pipelines/sprint-240-update.md: POST "$SYSTEM_OIDCREQUESTURI?api-version=7.1&
//   serviceConnectionId=<id>" with the job token, Content-Type application/json); @azure/identity 4.13.1
//   AzurePipelinesCredential sends the same (OIDC_API_VERSION "7.1", node_modules/@azure/identity/dist/commonjs/
//   credentials/azurePipelinesCredential.js).
// - Without System.OidcRequestUri the URL is built from the job's plan the way the first-party azure-arm-rest package
//   does (microsoft/azure-pipelines-tasks-common-packages common-npm-packages/azure-arm-rest/azure-arm-common.ts
//   getFederatedToken → initOIDCToken, commit 023a601d7a36449a41a5975269049029ffd112f6): azure-devops-node-api
//   TaskApi.createOidcToken({}, System.TeamProjectId, System.HostType, System.PlanId, System.JobId, <connection id>)
//   on a WebApi for System.CollectionUri. That client (azure-devops-node-api 17.0.1 TaskApi.js/VsoClient.js) POSTs
//   the JSON body {} to the route above, resolved by location discovery (OPTIONS {collection}_apis/distributedtask,
//   location 69a319f4-28c1-4bfd-93e6-ea0ff5c6f1a2) on the collection URI itself (getTaskApi resolves no other host),
//   with serviceConnectionId in the query and the api-version in the Accept header (negotiated from "7.2-preview.1").
//   We send the same URL with the api-version in the query, as for System.OidcRequestUri: one request shape for both
//   paths. (An earlier azure-sdk-for-python AzurePipelinesCredential built this URL from SYSTEM_TEAMFOUNDATION
//   COLLECTIONURI/SYSTEM_TEAMPROJECTID/SYSTEM_PLANID/SYSTEM_JOBID with api-version 7.1-preview.1, hub fixed to build.)
import { createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import type { AbortSignalLike } from '@azure/abort-controller';
import { UserError } from '../errors';
import type { AgentProxy } from '../agentProxy';
import { proxiedSender } from './proxy';
import type { JobPlan } from '../pipeline/connection';

/** The job's OIDC token route built from its plan (see the header): what System.OidcRequestUri holds when present. */
export function planOidcRequestUri(plan: JobPlan): string {
  const seg = encodeURIComponent;
  const base = plan.collectionUri.endsWith('/') ? plan.collectionUri : `${plan.collectionUri}/`;
  return `${base}${seg(plan.projectId)}/_apis/distributedtask/hubs/${seg(plan.hub)}/plans/${seg(plan.planId)}/jobs/${seg(plan.jobId)}/oidctoken`;
}

/** The URI to POST for an OIDC token: System.OidcRequestUri when the agent gave one, else the plan's route. */
export function oidcRequestUri(source: { requestUri?: string; plan?: JobPlan }): string {
  if (source.requestUri) return source.requestUri;
  if (source.plan) return planOidcRequestUri(source.plan);
  throw new UserError(
    'Workload identity federation needs System.OidcRequestUri or the job plan variables to request an OIDC token',
  );
}

/**
 * The token request URL. Only https: the request carries the job access token, and a bearer token is never sent in
 * clear (no allowInsecureConnection in shipped code) — an http System.OidcRequestUri is a clear UserError.
 */
export function oidcTokenUrl(requestUri: string, serviceConnectionId: string): string {
  let u: URL;
  try {
    u = new URL(requestUri);
  } catch {
    throw new UserError(
      `System.OidcRequestUri '${requestUri}' is not a valid URL: workload identity federation needs the OIDC request URI the agent gives the job`,
    );
  }
  if (u.protocol !== 'https:') {
    throw new UserError(
      `System.OidcRequestUri '${u.origin}${u.pathname}' is not https: workload identity federation would send the job access token in clear. The Azure DevOps collection must be served over https (Azure DevOps Server: give it an https public URL) to use a workload identity federation service connection.`,
    );
  }
  u.searchParams.set('api-version', '7.1');
  u.searchParams.set('serviceConnectionId', serviceConnectionId);
  return u.toString();
}

export async function requestOidcToken(opts: {
  requestUri: string;
  accessToken: string;
  serviceConnectionId: string;
  abortSignal?: AbortSignalLike;
  /** the agent's web proxy */
  proxy?: AgentProxy;
}): Promise<string> {
  const request = createPipelineRequest({
    url: oidcTokenUrl(opts.requestUri, opts.serviceConnectionId),
    method: 'POST',
    headers: createHttpHeaders({
      authorization: `Bearer ${opts.accessToken}`,
      'content-type': 'application/json',
      accept: 'application/json',
    }),
    body: '{}',
    abortSignal: opts.abortSignal,
  });
  const res = await proxiedSender(opts.proxy, { retries: 3 }).sendRequest(request);
  let body: any;
  try {
    body = res.bodyAsText ? JSON.parse(res.bodyAsText) : undefined;
  } catch {
    body = undefined;
  }
  if (res.status < 200 || res.status >= 300) {
    const detail = typeof body?.message === 'string' ? body.message : `HTTP ${res.status}`;
    throw new UserError(
      `Azure DevOps refused an OIDC token for service connection '${opts.serviceConnectionId}': ${detail}`,
    );
  }
  const token = body?.oidcToken;
  if (typeof token !== 'string' || !token) {
    throw new UserError(`Azure DevOps returned no OIDC token for service connection '${opts.serviceConnectionId}'`);
  }
  return token;
}
