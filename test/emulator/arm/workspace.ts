// Workspaces (GET, list by resource group / subscription), resource groups (GET), and the workspace discovery document.
import type { EmulatorContext } from '../context';
import type { Req, Router } from '../http';
import { RP, WS, requireWorkspace, type WorkspaceRecord, page } from '../armkit';
import { fail } from '../http';

export function workspaceBody(ctx: EmulatorContext, w: WorkspaceRecord): Record<string, unknown> {
  const host = new URL(ctx.armUrl).host;
  const sub = w.subscriptionId,
    rg = w.resourceGroup;
  const res = (type: string, name: string) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/${type}/${name}`;
  return {
    id: w.id,
    name: w.name,
    type: `${RP}/workspaces`,
    location: w.location,
    tags: w.body.tags ?? {},
    identity: { type: 'SystemAssigned', principalId: w.body.workspaceId, tenantId: ctx.ids.tenantId },
    sku: { name: 'Basic', tier: 'Basic' },
    systemData: {
      createdAt: w.body.createdAt,
      createdBy: ctx.ids.clientId,
      createdByType: 'Application',
      lastModifiedAt: w.body.createdAt,
      lastModifiedBy: ctx.ids.clientId,
      lastModifiedByType: 'Application',
    },
    properties: {
      workspaceId: w.body.workspaceId,
      friendlyName: w.body.friendlyName ?? w.name,
      description: w.body.description ?? '',
      provisioningState: 'Succeeded',
      storageAccount: res('Microsoft.Storage/storageAccounts', ctx.azurite.account),
      keyVault: res('Microsoft.KeyVault/vaults', `kv-${w.name}`.slice(0, 24)),
      applicationInsights: res('Microsoft.Insights/components', `appi-${w.name}`),
      containerRegistry: res('Microsoft.ContainerRegistry/registries', `cr${w.name.replace(/[^a-z0-9]/gi, '')}`),
      discoveryUrl: `${ctx.armUrl}discovery`,
      mlFlowTrackingUri: `azureml://${host}/mlflow/v1.0${w.id}`,
      hbiWorkspace: false,
      allowPublicAccessWhenBehindVnet: false,
      publicNetworkAccess: 'Enabled',
      v1LegacyMode: false,
      storageHnsEnabled: false,
      tenantId: ctx.ids.tenantId,
      notebookInfo: { fqdn: `ml-${w.name}-${w.location}.notebooks.azure.net`, resourceId: w.body.workspaceId },
      privateLinkCount: 0,
      sharedPrivateLinkResources: [],
      imageBuildCompute: '',
    },
  };
}

function checkScope(ctx: EmulatorContext, req: Req, withRg: boolean): void {
  if (!ctx.store.get('subscriptions', req.params.sub))
    fail(404, 'SubscriptionNotFound', `The subscription '${req.params.sub}' could not be found.`);
  if (withRg && !ctx.store.get('resourceGroups', `/subscriptions/${req.params.sub}/resourceGroups/${req.params.rg}`)) {
    fail(404, 'ResourceGroupNotFound', `Resource group '${req.params.rg}' could not be found.`);
  }
}

export function register(router: Router, ctx: EmulatorContext): void {
  router.add('GET', WS, (req) => ({ status: 200, body: workspaceBody(ctx, requireWorkspace(ctx, req)) }));
  router.add('GET', `/subscriptions/:sub/resourceGroups/:rg/providers/${RP}/workspaces`, (req) => {
    checkScope(ctx, req, true);
    const all = ctx.store
      .list<WorkspaceRecord>('workspaces', `/subscriptions/${req.params.sub}/resourceGroups/${req.params.rg}/`)
      .map((w) => workspaceBody(ctx, w));
    return { status: 200, body: page(ctx, req, all) };
  });
  router.add('GET', `/subscriptions/:sub/providers/${RP}/workspaces`, (req) => {
    checkScope(ctx, req, false);
    const all = ctx.store
      .list<WorkspaceRecord>('workspaces', `/subscriptions/${req.params.sub}/`)
      .map((w) => workspaceBody(ctx, w));
    return { status: 200, body: page(ctx, req, all) };
  });
  router.add('GET', '/subscriptions/:sub/resourceGroups/:rg', (req) => {
    checkScope(ctx, req, true);
    const rg = ctx.store.get<{ id: string; name: string; location: string }>(
      'resourceGroups',
      `/subscriptions/${req.params.sub}/resourceGroups/${req.params.rg}`,
    )!;
    return {
      status: 200,
      body: { ...rg, type: 'Microsoft.Resources/resourceGroups', properties: { provisioningState: 'Succeeded' } },
    };
  });
  router.add('GET', '/subscriptions/:sub', (req) => {
    checkScope(ctx, req, false);
    const s = ctx.store.get<Record<string, string>>('subscriptions', req.params.sub)!;
    return { status: 200, body: { id: `/subscriptions/${s.subscriptionId}`, ...s, authorizationSource: 'RoleBased' } };
  });
  // the workspace's discoveryUrl (public, like the real one)
  router.add('GET', '/discovery', () => {
    const base = ctx.armUrl.replace(/\/$/, '');
    return {
      status: 200,
      body: {
        api: base,
        catalog: base,
        experimentation: base,
        gallery: base,
        history: base,
        hyperdrive: base,
        labeling: base,
        modelmanagement: base,
        pipelines: base,
        studio: base,
      },
    };
  });
}
