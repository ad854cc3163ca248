// Resource groups list (Microsoft.Resources, any api-version): GET /subscriptions/{s}/resourcegroups — what the
// "Azure ML model" release artifact's resource-group picker calls. Paged like ARM ($top, absolute nextLink).
import type { EmulatorContext } from '../context';
import { fail, type Router } from '../http';
import { page } from '../armkit';

export function register(router: Router, ctx: EmulatorContext): void {
  router.add('GET', '/subscriptions/:sub/resourcegroups', (req) => {
    if (!ctx.store.get('subscriptions', req.params.sub))
      fail(404, 'SubscriptionNotFound', `The subscription '${req.params.sub}' could not be found.`);
    const all = ctx.store
      .list<{ id: string; name: string; location: string }>(
        'resourceGroups',
        `/subscriptions/${req.params.sub}/resourceGroups/`,
      )
      .map((rg) => ({
        ...rg,
        type: 'Microsoft.Resources/resourceGroups',
        properties: { provisioningState: 'Succeeded' },
      }));
    return { status: 200, body: page(ctx, req, all, 100) };
  });
}
