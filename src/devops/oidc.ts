// Azure DevOps OIDC token for a service connection (workload identity federation):
//   POST $(System.OidcRequestUri)?api-version=7.1&serviceConnectionId=<id>, Bearer <job access token> → {"oidcToken": "..."}
// Same call as azure-devops-node-api TaskApi.createOidcToken, addressed by the URI the agent hands the job.
import { createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import type { AbortSignalLike } from '@azure/abort-controller';
import { UserError } from '../pipeline/errors';
import type { AgentProxy } from '../pipeline/proxy';
import { proxiedSender } from '../auth/proxy';

/**
 * The token request URL. Only https: the request carries the job access token, and a bearer token is never sent in
 * clear (no allowInsecureConnection in shipped code) — an http System.OidcRequestUri is a clear UserError.
 */
export function oidcTokenUrl(requestUri: string, serviceConnectionId: string): string {
  let u: URL;
  try {
    u = new URL(requestUri);
  } catch {
    throw new UserError(`System.OidcRequestUri '${requestUri}' is not a valid URL: workload identity federation needs the OIDC request URI the agent gives the job`);
  }
  if (u.protocol !== 'https:') {
    throw new UserError(`System.OidcRequestUri '${u.origin}${u.pathname}' is not https: workload identity federation would send the job access token in clear. The Azure DevOps collection must be served over https (Azure DevOps Server: give it an https public URL) to use a workload identity federation service connection.`);
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
    throw new UserError(`Azure DevOps refused an OIDC token for service connection '${opts.serviceConnectionId}': ${detail}`);
  }
  const token = body?.oidcToken;
  if (typeof token !== 'string' || !token) {
    throw new UserError(`Azure DevOps returned no OIDC token for service connection '${opts.serviceConnectionId}'`);
  }
  return token;
}
