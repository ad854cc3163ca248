// Azure DevOps: the job's OIDC token endpoint (workload identity federation). Held to:
// - REST reference Oidctoken_Create, MicrosoftDocs/vsts-rest-api-specs specification/distributedTask/7.1/task.json
//   (commit 522bc9570a998dff8d3dde5e9397fdf9ef2857a3):
//     POST /{organization}/{scopeIdentifier}/_apis/distributedtask/hubs/{hubName}/plans/{planId}/jobs/{jobId}/oidctoken
//     scopeIdentifier "The project GUID to scope the request"; hubName "build", "rm", "checks" …; body a JSON object of
//     strings (claims); query serviceConnectionId (uuid); api-version 7.1-preview.1; 200 TaskHubOidcToken {oidcToken}.
// - its resource location 69a319f4-28c1-4bfd-93e6-ea0ff5c6f1a2, routeTemplate
//   {scopeIdentifier}/_apis/{area}/hubs/{hubName}/plans/{planId}/jobs/{jobId}/{resource} (the id azure-devops-node-api
//   17.0.1 TaskApi.createOidcToken asks location discovery for; the route is the one above).
// - the callers: System.OidcRequestUri + "?api-version=7.1&serviceConnectionId=<id>" with no body or "{}"
//   (MicrosoftDocs/azure-devops-docs release-notes/2024/includes/pipelines/sprint-240-update.md sends Content-Length: 0;
//   @azure/identity 4.13.1 AzurePipelinesCredential sends no body), and azure-arm-rest's TaskApi.createOidcToken
//   ({} body, api-version in the Accept header, negotiated "7.2-preview.1").
// The plan: a job's plan belongs to one hub (build plans under 'build', classic release plans under 'release', as
// azure-arm-rest passes System.HostType as the hub); the route is answered only for a plan/job of that hub.
// ASSUMPTION (no recording): the server's exact answers for an unknown plan/job/hub (404 below), for a missing
// serviceConnectionId (400 below), for a missing api-version (400 VssVersionNotSpecifiedException, the wording of
// other Azure DevOps routes) and for a project given by name rather than GUID (accepted here).
import type { EmulatorContext } from '../context';
import { header, type Req, type Router } from '../http';
import { requireJobToken, devopsError } from '../devopskit';

const LOCATION = {
  id: '69a319f4-28c1-4bfd-93e6-ea0ff5c6f1a2',
  area: 'distributedtask',
  resourceName: 'oidctoken',
  routeTemplate: '{scopeIdentifier}/_apis/{area}/hubs/{hubName}/plans/{planId}/jobs/{jobId}/{resource}',
  resourceVersion: 1,
  minVersion: '7.1',
  maxVersion: '7.2',
  releasedVersion: '7.1',
};

/** api-version from the query or the Accept header (`application/json;api-version=7.2-preview.1`, what azure-devops-node-api sends) */
export function requestedApiVersion(req: Req): string | undefined {
  const q = req.query.get('api-version');
  if (q) return q;
  const m = /api-version=([^;,\s]+)/i.exec(header(req, 'accept') ?? '');
  return m?.[1];
}

/** whether the resource location serves `v` (released ≤ releasedVersion; previews up to maxVersion, resource version ≤ resourceVersion) */
export function servesVersion(
  v: string,
  loc: { releasedVersion: string; maxVersion: string; minVersion: string; resourceVersion: number } = LOCATION,
): boolean {
  const m = /^(\d+(?:\.\d+)?)(-preview(?:\.(\d+))?)?$/.exec(v);
  if (!m) return false;
  const n = Number(m[1]);
  if (n < Number(loc.minVersion)) return false;
  if (!m[2]) return n <= Number(loc.releasedVersion);
  return n <= Number(loc.maxVersion) && (m[3] === undefined || Number(m[3]) <= loc.resourceVersion);
}

export function register(router: Router, ctx: EmulatorContext): void {
  ctx.devops.locations.push(LOCATION);
  router.add('POST', '/:org/:project/_apis/distributedtask/hubs/:hub/plans/:planId/jobs/:jobId/oidctoken', (req) => {
    requireJobToken(ctx, req);
    const { org, project, hub, planId, jobId } = req.params;
    if (org.toLowerCase() !== ctx.ids.orgName.toLowerCase())
      return devopsError(404, 'TF200016', `The following project does not exist: ${org}.`);
    if (
      project.toLowerCase() !== ctx.ids.projectId.toLowerCase() &&
      project.toLowerCase() !== ctx.ids.projectName.toLowerCase()
    ) {
      return devopsError(
        404,
        'TF200016',
        `The following project does not exist: ${project}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.`,
      );
    }
    const version = requestedApiVersion(req);
    if (!version) {
      return devopsError(
        400,
        'VssVersionNotSpecifiedException',
        'No api-version was supplied for the POST request. An api-version is required, for example "api-version=7.1".',
      );
    }
    if (!servesVersion(version)) {
      return devopsError(
        400,
        'VssVersionOutOfRangeException',
        `The requested REST API version of ${version} is out of range for this server. The latest REST API version this server supports is ${LOCATION.maxVersion}-preview.${LOCATION.resourceVersion}.`,
      );
    }
    const plan = ctx.devops.plans.find(
      (p) => p.hub.toLowerCase() === hub.toLowerCase() && p.planId.toLowerCase() === planId.toLowerCase(),
    );
    if (!plan)
      return devopsError(404, 'TaskOrchestrationPlanNotFoundException', `Plan ${planId} not found in hub ${hub}.`);
    if (plan.jobId.toLowerCase() !== jobId.toLowerCase())
      return devopsError(404, 'TaskOrchestrationJobNotFoundException', `Job ${jobId} not found in plan ${planId}.`);
    const sc = req.query.get('serviceConnectionId') ?? req.query.get('serviceconnectionid');
    if (!sc)
      return devopsError(400, 'ArgumentNullException', 'Value cannot be null.\r\nParameter name: serviceConnectionId');
    return { status: 200, body: { oidcToken: ctx.issueOidcToken(sc) } };
  });
}
