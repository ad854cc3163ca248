// Azure DevOps: job OIDC token endpoint (what System.OidcRequestUri points at and what
// azure-devops-node-api TaskApi.createOidcToken calls after resource-location discovery).
//   POST {collectionUri}{project}/_apis/distributedtask/hubs/{hub}/plans/{planId}/jobs/{jobId}/oidctoken?serviceConnectionId=<id>
import type { EmulatorContext } from '../context';
import type { Router } from '../http';
import { requireJobToken, devopsError } from '../devopskit';

export function register(router: Router, ctx: EmulatorContext): void {
  ctx.devops.locations.push({
    id: '69a319f4-28c1-4bfd-93e6-ea0ff5c6f1a2', area: 'distributedtask', resourceName: 'oidctoken',
    routeTemplate: '{scopeIdentifier}/_apis/{area}/hubs/{hubName}/plans/{planId}/jobs/{jobId}/{resource}',
    resourceVersion: 1, minVersion: '7.1', maxVersion: '7.2', releasedVersion: '7.1',
  });
  router.add('POST', '/:org/:project/_apis/distributedtask/hubs/:hub/plans/:planId/jobs/:jobId/oidctoken', (req) => {
    requireJobToken(ctx, req);
    const { org, project } = req.params;
    if (org.toLowerCase() !== ctx.ids.orgName.toLowerCase()) return devopsError(404, 'TF200016', `The following project does not exist: ${org}.`);
    if (project.toLowerCase() !== ctx.ids.projectId.toLowerCase() && project.toLowerCase() !== ctx.ids.projectName.toLowerCase()) {
      return devopsError(404, 'TF200016', `The following project does not exist: ${project}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.`);
    }
    const sc = req.query.get('serviceConnectionId') ?? req.query.get('serviceconnectionid');
    if (!sc) return devopsError(400, 'ArgumentNullException', 'Value cannot be null.\r\nParameter name: serviceConnectionId');
    return { status: 200, body: { oidcToken: ctx.issueOidcToken(sc) } };
  });
}
