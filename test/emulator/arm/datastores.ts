// Datastores: `workspaceblobstore` (AzureBlob on Azurite, account key) seeded at start; GET, LIST, PUT, DELETE, listSecrets.
// The blob store's fields are what azure-ai-ml builds the account URL from: {protocol}://{accountName}.blob.{endpoint}
// → http://devstoreaccount1.blob.localhost:<port> (resolved by resolve-localhost.cjs in the tests' children), where the
// port is the fault-injecting proxy in front of Azurite (storageProxy.ts), so box.faults reach uploads/downloads too.
import type { EmulatorContext } from '../context';
import { fail, type Router } from '../http';
import {
  RP,
  WS,
  childId,
  page,
  requireBody,
  requireWorkspace,
  systemData,
  type SystemData,
  type WorkspaceRecord,
} from '../armkit';

const KIND = 'datastores';
interface DatastoreRecord {
  id: string;
  name: string;
  properties: Record<string, any>;
  systemData: SystemData;
}

/** the GET shape: secrets never leave except through listSecrets */
function view(d: DatastoreRecord): Record<string, unknown> {
  const { secrets: _s, ...cred } = d.properties.credentials ?? {};
  return {
    id: d.id,
    name: d.name,
    type: `${RP}/workspaces/datastores`,
    systemData: d.systemData,
    properties: { ...d.properties, credentials: cred },
  };
}

export function register(router: Router, ctx: EmulatorContext): void {
  // seed / refresh the default blob store of every workspace (Azurite's port changes between starts)
  for (const w of ctx.store.list<WorkspaceRecord>('workspaces')) {
    const id = childId(w, 'datastores', 'workspaceblobstore');
    const old = ctx.store.get<DatastoreRecord>(KIND, id);
    const now = new Date().toISOString();
    ctx.store.put(KIND, id, {
      id,
      name: 'workspaceblobstore',
      systemData: old?.systemData ?? {
        createdAt: now,
        createdBy: ctx.ids.clientId,
        createdByType: 'Application',
        lastModifiedAt: now,
        lastModifiedBy: ctx.ids.clientId,
        lastModifiedByType: 'Application',
      },
      properties: {
        description: null,
        tags: {},
        properties: {},
        isDefault: true,
        datastoreType: 'AzureBlob',
        accountName: ctx.azurite.account,
        containerName: ctx.azurite.container,
        endpoint: ctx.azurite.datastoreEndpoint,
        protocol: 'http',
        serviceDataAccessAuthIdentity: 'None',
        credentials: { credentialsType: 'AccountKey', secrets: { secretsType: 'AccountKey', key: ctx.azurite.key } },
      },
    } satisfies DatastoreRecord);
  }

  router.add('GET', `${WS}/datastores`, (req) => {
    const w = requireWorkspace(ctx, req);
    let all = ctx.store.list<DatastoreRecord>(KIND, childId(w, 'datastores') + '/');
    const isDefault = req.query.get('isDefault');
    if (isDefault !== null) all = all.filter((d) => String(!!d.properties.isDefault) === isDefault.toLowerCase());
    const names = req.query
      .getAll('names')
      .flatMap((n) => n.split(','))
      .map((n) => n.trim().toLowerCase())
      .filter(Boolean);
    if (names.length) all = all.filter((d) => names.includes(d.name.toLowerCase()));
    const search = req.query.get('searchText');
    if (search) all = all.filter((d) => d.name.toLowerCase().includes(search.toLowerCase()));
    return { status: 200, body: page(ctx, req, all.map(view)) };
  });

  router.add('GET', `${WS}/datastores/:name`, (req) => {
    const w = requireWorkspace(ctx, req);
    const d = ctx.store.get<DatastoreRecord>(KIND, childId(w, 'datastores', req.params.name));
    if (!d) fail(404, 'ResourceNotFound', `Datastore '${req.params.name}' was not found in workspace '${w.name}'.`);
    return { status: 200, body: view(d) };
  });

  router.add('PUT', `${WS}/datastores/:name`, (req) => {
    const w = requireWorkspace(ctx, req);
    const body = requireBody(req);
    const id = childId(w, 'datastores', req.params.name);
    const old = ctx.store.get<DatastoreRecord>(KIND, id);
    const rec: DatastoreRecord = {
      id,
      name: req.params.name,
      systemData: systemData(req, old?.systemData),
      properties: { ...body.properties },
    };
    ctx.store.put(KIND, id, rec);
    return { status: old ? 200 : 201, body: view(rec) };
  });

  router.add('DELETE', `${WS}/datastores/:name`, (req) => {
    const w = requireWorkspace(ctx, req);
    return { status: ctx.store.delete(KIND, childId(w, 'datastores', req.params.name)) ? 200 : 204 };
  });

  router.add('POST', `${WS}/datastores/:name/listSecrets`, (req) => {
    const w = requireWorkspace(ctx, req);
    const d = ctx.store.get<DatastoreRecord>(KIND, childId(w, 'datastores', req.params.name));
    if (!d) fail(404, 'ResourceNotFound', `Datastore '${req.params.name}' was not found in workspace '${w.name}'.`);
    const secrets = d.properties.credentials?.secrets;
    // the service's answer for an identity-based datastore (credentialsType None): 400 UserError "No secrets for
    // credentials of type None." with empty details (online_services test_online_deployment_create.json, 2025-02)
    if (!secrets)
      fail(
        400,
        'UserError',
        `No secrets for credentials of type ${d.properties.credentials?.credentialsType ?? 'None'}.`,
        { details: [] },
      );
    return { status: 200, body: secrets };
  });
}
