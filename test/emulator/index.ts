// Azure-in-a-box: Entra ID, ARM (Azure ML resource provider), Azure DevOps and Azurite on loopback ports,
// over HTTPS with a certificate issued at start by the test CA (see ca.ts for the trust design).
//
// Area modules are discovered at start: every `test/emulator/arm/*.ts` exporting `register(router, ctx)` is
// registered on the ARM host (MLflow routes under /mlflow/ live there too), every `test/emulator/devops/*.ts`
// on the Azure DevOps host. `register` may return `{ stop() }` or call ctx.onStop(fn).
import { CLOUDS, type CloudName, type CloudProfile } from './clouds';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  createPrivateKey,
  createPublicKey,
  randomBytes,
  randomUUID,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { ensureCa, issueServerCert, makeClientCertificate, rsaKeyPair, DEFAULT_CA_DIR, type CaFiles } from './ca';
import type { AppRegistration, DevopsLocation, EmulatorContext, Ids } from './context';
import { Faults, Router, startServer, type FaultConfig, type RequestLogEntry, type RunningServer } from './http';
import { Store } from './store';
import { Lro } from './lro';
import { armPreHandler, wsId } from './armkit';
import { registerEntra, startIdentityEndpoint, type HostIdentity, type RunningIdentityEndpoint } from './entra';
import { registerDevopsBase } from './devopskit';
import { startAzurite, AZURITE_ACCOUNT, AZURITE_KEY, type RunningAzurite } from './azurite';
import { startStorageProxy, type RunningStorageProxy } from './storageProxy';
import { signJwt, nowSec, jti } from './jwt';
import { validateRequest } from './swagger';

export type { EmulatorContext } from './context';
export { Store } from './store';
export { Router, armError, fail, HttpError } from './http';

const here = path.dirname(fileURLToPath(import.meta.url));
export const PRELOAD = path.join(here, 'resolve-localhost.cjs');

export interface AzureInABox {
  armUrl: string;
  authorityHost: string;
  devopsUrl: string;
  collectionUri: string;
  projectId: string;
  projectName: string;
  oidcRequestUri: string;
  systemAccessToken: string;
  /** the jobs' plans the DevOps host knows: hub 'build' (the one oidcRequestUri names) and hub 'release' */
  jobPlans: ReadonlyArray<{ hub: string; planId: string; jobId: string }>;
  tenantId: string;
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  location: string;
  clientId: string;
  clientSecret: string;
  certificatePem: string;
  /** a second service principal with the Reader role: reads work, writes get 403 AuthorizationFailed */
  readerClientId: string;
  readerClientSecret: string;
  /** the cloud's ARM token audience: what a real connection of that cloud holds in activeDirectoryServiceEndpointResourceId */
  readonly audience: string;
  /** the cloud the box stands for (test/emulator/clouds.ts) */
  readonly cloud: CloudProfile;
  /** stand for another cloud from now on: its Entra issues, and its ARM accepts, that cloud's ARM audiences only */
  setCloud(name: CloudName): void;
  caCertPath: string;
  /**
   * The agent host's managed identities and its identity endpoint. IMDS (169.254.169.254), what an Azure VM / scale
   * set agent uses, is not reachable here: the host is emulated as an App Service-style one (IDENTITY_ENDPOINT +
   * IDENTITY_HEADER, protocol 2019-08-01, plain HTTP on loopback; see entra.ts). Both identities hold Contributor.
   */
  managedIdentity: {
    /** IDENTITY_ENDPOINT / IDENTITY_HEADER: the machine's environment on such a host */
    endpoint: string;
    header: string;
    systemClientId: string;
    userClientId: string;
    userResourceId: string;
  };
  /** port/blobEndpoint: Azurite itself (tests' own seeding and reads, bench); proxyPort/datastoreEndpoint/clientBlobEndpoint:
   *  the fault-injecting proxy in front of it that clients are handed (datastore endpoint, SAS links) */
  azurite: {
    port: number;
    account: string;
    key: string;
    blobEndpoint: string;
    container: string;
    proxyPort: number;
    datastoreEndpoint: string;
    clientBlobEndpoint: string;
  };
  /** requests that went through the storage proxy (host 'storage'); kept apart from `requests` */
  storageRequests: RequestLogEntry[];
  stateDir: string;
  childEnv(): Record<string, string>;
  faults: {
    set(cfg: FaultConfig): void;
    add(cfg: FaultConfig): { readonly injected: Record<string, number>; remove(): void };
    reset(): void;
    injected: Record<string, number>;
  };
  requests: RequestLogEntry[];
  store: Store;
  /** what the modules see (lro, validate, issueOidcToken …) */
  ctx: EmulatorContext;
  /** an Azure DevOps OIDC token for a service connection (what the endpoint's `idToken` or the OIDC endpoint gives) */
  issueOidcToken(serviceConnectionId: string, lifetimeSec?: number): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** state folder (kept across restarts); default: a new temporary folder */
  stateDir?: string;
  /** LROs finish at once (no LRO answer carries Retry-After either way: the service sends none) */
  fastLro?: boolean;
  /** folder of the long-lived test CA (default test/.output/ca) */
  caDir?: string;
  /** the Azure cloud the box stands for (its token audiences; test/emulator/clouds.ts); default AzureCloud */
  cloud?: CloudName;
}

interface Identity {
  tenantId: string;
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  location: string;
  clientId: string;
  clientSecret: string;
  clientCert: string;
  clientKey: string;
  readerClientId: string;
  readerClientSecret: string;
  entraKey: string;
  entraKid: string;
  devopsKey: string;
  devopsKid: string;
  orgName: string;
  orgId: string;
  projectId: string;
  projectName: string;
  systemAccessToken: string;
  planId: string;
  jobId: string;
  container: string;
  /** the agent host's system-assigned and one user-assigned managed identity (client id = appid, principal id = oid) */
  msiSystemClientId: string;
  msiSystemPrincipalId: string;
  msiUserClientId: string;
  msiUserPrincipalId: string;
}

const secret = () => randomBytes(30).toString('base64url').replace(/^/, 'Xy8Q~');

async function loadIdentity(stateDir: string): Promise<Identity> {
  const f = path.join(stateDir, 'identity.json');
  if (fs.existsSync(f)) {
    const known = JSON.parse(fs.readFileSync(f, 'utf8')) as Identity;
    if (known.msiSystemClientId) return known;
    // a state folder from before the managed identities: add them, keep the rest
    Object.assign(known, {
      msiSystemClientId: randomUUID(),
      msiSystemPrincipalId: randomUUID(),
      msiUserClientId: randomUUID(),
      msiUserPrincipalId: randomUUID(),
    });
    fs.writeFileSync(f, JSON.stringify(known, null, 1), { mode: 0o600 });
    return known;
  }
  const clientId = randomUUID();
  const [cc, ek, dk] = await Promise.all([
    makeClientCertificate(`azureml-pipelines-${clientId.slice(0, 8)}`),
    rsaKeyPair(),
    rsaKeyPair(),
  ]);
  const id: Identity = {
    tenantId: randomUUID(),
    subscriptionId: randomUUID(),
    resourceGroup: 'rg-ml',
    workspace: 'mlw-test',
    location: 'eastus',
    clientId,
    clientSecret: secret(),
    clientCert: cc.cert,
    clientKey: cc.key,
    readerClientId: randomUUID(),
    readerClientSecret: secret(),
    entraKey: ek.privateKey,
    entraKid: randomBytes(12).toString('base64url'),
    devopsKey: dk.privateKey,
    devopsKid: randomBytes(12).toString('base64url'),
    orgName: 'org',
    orgId: randomUUID(),
    projectId: randomUUID(),
    projectName: 'ml-project',
    systemAccessToken: randomBytes(40).toString('base64url'),
    planId: randomUUID(),
    jobId: randomUUID(),
    container: `azureml-blobstore-${randomUUID()}`,
    msiSystemClientId: randomUUID(),
    msiSystemPrincipalId: randomUUID(),
    msiUserClientId: randomUUID(),
    msiUserPrincipalId: randomUUID(),
  };
  fs.mkdirSync(stateDir, { recursive: true });
  fs.writeFileSync(f, JSON.stringify(id, null, 1), { mode: 0o600 });
  return id;
}

/** the server certificate of this state folder: reused while valid and issued by the current CA, else issued anew */
async function serverCertFor(stateDir: string, ca: CaFiles): Promise<{ cert: string; key: string }> {
  const dir = path.join(stateDir, 'tls');
  const certPath = path.join(dir, 'server.pem'),
    keyPath = path.join(dir, 'server-key.pem');
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(ca.certPath, path.join(dir, 'ca.pem')); // the CA, beside the server certificate (jobs hand it to their processes)
  if (fs.existsSync(certPath) && fs.existsSync(keyPath)) {
    try {
      const cert = fs.readFileSync(certPath, 'utf8');
      const x = new X509Certificate(cert);
      if (
        x.checkIssued(new X509Certificate(ca.cert)) &&
        x.verify(new X509Certificate(ca.cert).publicKey) &&
        new Date(x.validTo).getTime() > Date.now() + 86400_000
      ) {
        return { cert, key: fs.readFileSync(keyPath, 'utf8') };
      }
    } catch {
      /* issue a new one */
    }
  }
  const tls = await issueServerCert(ca);
  fs.writeFileSync(keyPath, tls.key, { mode: 0o600 });
  fs.writeFileSync(certPath, tls.cert);
  return tls;
}

/** every module file in dir that exports register() */
async function discover(
  dir: string,
): Promise<Array<{ file: string; register: (r: Router, c: EmulatorContext) => unknown }>> {
  if (!fs.existsSync(dir)) return [];
  const out = [];
  for (const f of fs
    .readdirSync(dir)
    .filter((n) => /\.ts$/.test(n) && !n.endsWith('.d.ts') && !n.startsWith('_') && !n.endsWith('.test.ts'))
    .sort()) {
    const mod = await import(pathToFileURL(path.join(dir, f)).href);
    const register = mod.register ?? mod.default?.register;
    if (typeof register === 'function') out.push({ file: f, register });
  }
  return out;
}

export async function startAzureInABox(opts: StartOptions = {}): Promise<AzureInABox> {
  const stateDir = path.resolve(opts.stateDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'azure-in-a-box-')));
  fs.mkdirSync(stateDir, { recursive: true });
  // Azurite's start (a few seconds of module loading) overlaps the key/certificate work
  const azuritePromise = startAzurite(path.join(stateDir, 'azurite'));
  azuritePromise.catch(() => undefined); // awaited below; this only avoids an unhandled-rejection report meanwhile
  let azurite: RunningAzurite | undefined;
  const store = new Store(stateDir);
  const faults = new Faults();
  const requests: RequestLogEntry[] = [];
  const storageRequests: RequestLogEntry[] = [];
  let storageProxy: RunningStorageProxy | undefined;
  let identityEndpoint: RunningIdentityEndpoint | undefined;
  const stops: Array<() => Promise<void> | void> = [];
  const servers: RunningServer[] = [];

  const t0 = Date.now();
  const trace = (what: string) => {
    if (process.env.AZURE_IN_A_BOX_TRACE) console.error(`[azure-in-a-box] ${what} +${Date.now() - t0} ms`);
  };
  try {
    const ca = await ensureCa(opts.caDir ?? DEFAULT_CA_DIR);
    const [tls, idn] = await Promise.all([serverCertFor(stateDir, ca), loadIdentity(stateDir)]);
    trace('certificates and identity');
    azurite = await azuritePromise;
    storageProxy = await startStorageProxy(azurite.port, faults, storageRequests);
    trace('azurite');
    const armRouter = new Router(),
      entraRouter = new Router(),
      devopsRouter = new Router();
    const common = { cert: tls.cert, key: tls.key, faults, log: requests };
    const arm = await startServer(armRouter, {
      ...common,
      name: 'arm',
      collapseLeadingSlashes: true,
      hostOf: (p) => (/^\/mlflow\//i.test(p) ? 'mlflow' : 'arm'),
    });
    const entra = await startServer(entraRouter, { ...common, name: 'entra' });
    const devops = await startServer(devopsRouter, { ...common, name: 'devops' });
    servers.push(arm, entra, devops);

    const entraPrivate = createPrivateKey(idn.entraKey);
    const devopsPrivate = createPrivateKey(idn.devopsKey);
    const devopsIssuer = `https://vstoken.dev.azure.com/${idn.orgId}`;
    const collectionUri = `${devops.url}${idn.orgName}/`;
    const ids: Ids = {
      tenantId: idn.tenantId,
      subscriptionId: idn.subscriptionId,
      resourceGroup: idn.resourceGroup,
      workspace: idn.workspace,
      location: idn.location,
      clientId: idn.clientId,
      readerClientId: idn.readerClientId,
      orgName: idn.orgName,
      projectId: idn.projectId,
      projectName: idn.projectName,
    };

    // --- seed the directory and the subscription (idempotent; keeps what a previous run stored)
    const apps: AppRegistration[] = [
      {
        clientId: idn.clientId,
        displayName: 'azureml-pipelines',
        objectId: store.get<AppRegistration>('apps', idn.clientId)?.objectId ?? randomUUID(),
        role: 'contributor',
        secrets: [idn.clientSecret],
        certificates: [idn.clientCert],
        federated: [
          {
            issuer: devopsIssuer,
            subject: `sc://${idn.orgName}/${idn.projectName}/*`,
            audience: 'api://AzureADTokenExchange',
          },
        ],
      },
      {
        clientId: idn.readerClientId,
        displayName: 'azureml-reader',
        objectId: store.get<AppRegistration>('apps', idn.readerClientId)?.objectId ?? randomUUID(),
        role: 'reader',
        secrets: [idn.readerClientSecret],
        certificates: [],
        federated: [],
      },
      // managed identities: service principals without credentials of their own (only the host's identity endpoint issues their tokens)
      {
        clientId: idn.msiSystemClientId,
        displayName: 'azure-in-a-box-agent',
        objectId: idn.msiSystemPrincipalId,
        role: 'contributor',
        secrets: [],
        certificates: [],
        federated: [],
      },
      {
        clientId: idn.msiUserClientId,
        displayName: 'id-azureml-pipelines',
        objectId: idn.msiUserPrincipalId,
        role: 'contributor',
        secrets: [],
        certificates: [],
        federated: [],
      },
    ];
    for (const a of apps) if (!store.get('apps', a.clientId)) store.put('apps', a.clientId, a);
    if (!store.get('subscriptions', idn.subscriptionId))
      store.put('subscriptions', idn.subscriptionId, {
        subscriptionId: idn.subscriptionId,
        displayName: 'Azure-in-a-box',
        tenantId: idn.tenantId,
        state: 'Enabled',
      });
    const rgId = `/subscriptions/${idn.subscriptionId}/resourceGroups/${idn.resourceGroup}`;
    if (!store.get('resourceGroups', rgId))
      store.put('resourceGroups', rgId, { id: rgId, name: idn.resourceGroup, location: idn.location });
    const wid = wsId(idn.subscriptionId, idn.resourceGroup, idn.workspace);
    if (!store.get('workspaces', wid)) {
      store.put('workspaces', wid, {
        id: wid,
        name: idn.workspace,
        location: idn.location,
        resourceGroup: idn.resourceGroup,
        subscriptionId: idn.subscriptionId,
        body: {
          workspaceId: randomUUID(),
          friendlyName: idn.workspace,
          description: 'Azure-in-a-box workspace',
          createdAt: new Date().toISOString(),
        },
      });
    }
    if (!store.get('devopsTokens', 'system')) store.put('devopsTokens', 'system', { token: idn.systemAccessToken });

    const blobEndpoint = `http://127.0.0.1:${azurite.port}/${AZURITE_ACCOUNT}`;
    const cred = new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY);
    const bsc = () => new BlobServiceClient(blobEndpoint, cred);
    await bsc().getContainerClient(idn.container).createIfNotExists();

    const armUrl = arm.url;
    const ctx: EmulatorContext = {
      cloud: CLOUDS[opts.cloud ?? 'AzureCloud'],
      store,
      validate: (m, p, q, b) => validateRequest(m, p, q, b, { rejectUnknownMembers: true }),
      armUrl,
      authorityHost: entra.url,
      devopsUrl: devops.url,
      collectionUri,
      ids,
      azurite: {
        port: azurite.port,
        account: AZURITE_ACCOUNT,
        key: AZURITE_KEY,
        blobEndpoint,
        proxyPort: storageProxy.port,
        datastoreEndpoint: `localhost:${storageProxy.port}`,
        clientBlobEndpoint: `http://127.0.0.1:${storageProxy.port}/${AZURITE_ACCOUNT}`,
        container: idn.container,
        blobServiceClient: bsc,
        containerClient: (name) => bsc().getContainerClient(name ?? idn.container),
      },
      lro: new Lro(store, armUrl, !!opts.fastLro, idn.location),
      fastLro: !!opts.fastLro,
      faults,
      requests,
      stateDir,
      apps: () => store.list<AppRegistration>('apps'),
      entraPublicKey: createPublicKey(entraPrivate),
      issueAccessToken: (app, resource, lifetimeSec = 3599, acr = '1') => {
        const now = nowSec();
        return signJwt(
          {
            aud: resource,
            iss: `https://sts.windows.net/${idn.tenantId}/`,
            iat: now,
            nbf: now - 5,
            exp: now + lifetimeSec,
            aio: randomBytes(8).toString('base64url'),
            appid: app.clientId,
            appidacr: acr,
            idp: `https://sts.windows.net/${idn.tenantId}/`,
            idtyp: 'app',
            oid: app.objectId,
            sub: app.objectId,
            tid: idn.tenantId,
            uti: jti(),
            ver: '1.0',
          },
          entraPrivate,
          { kid: idn.entraKid, x5t: idn.entraKid },
        );
      },
      issueOidcToken: (sc, lifetimeSec = 600) => {
        const now = nowSec();
        const name = store.get<{ name: string }>('serviceConnections', sc)?.name ?? sc;
        return signJwt(
          {
            jti: jti(),
            sub: `sc://${idn.orgName}/${idn.projectName}/${name}`,
            aud: 'api://AzureADTokenExchange',
            iss: devopsIssuer,
            nbf: now - 5,
            iat: now,
            exp: now + lifetimeSec,
          },
          devopsPrivate,
          { kid: idn.devopsKid },
        );
      },
      // the build job's plan (persisted ids) and a classic release agent job's plan (hub 'release', per run)
      devops: {
        router: devopsRouter,
        locations: [] as DevopsLocation[],
        plans: [
          { hub: 'build', planId: idn.planId, jobId: idn.jobId },
          { hub: 'release', planId: randomUUID(), jobId: randomUUID() },
        ],
      },
      arm: { router: armRouter },
      onStop: (fn) => {
        stops.push(fn);
      },
    };

    // --- hosts
    registerEntra(entraRouter, ctx, {
      trustedIssuers: new Map<string, KeyObject>([[devopsIssuer, createPublicKey(devopsPrivate)]]),
      signingKid: idn.entraKid,
    });
    entraRouter.notFound = (req) => ({
      status: 404,
      body: { error: 'not_found', error_description: `No Entra endpoint ${req.method} ${req.path}` },
    });
    // the agent host's identity endpoint (App Service protocol; IMDS is not reachable here)
    const msiUserResourceId = `/subscriptions/${idn.subscriptionId}/resourceGroups/${idn.resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-azureml-pipelines`;
    const identityHeader = randomBytes(24).toString('hex').toUpperCase();
    const appOf = (clientId: string) => ctx.apps().find((a) => a.clientId === clientId);
    identityEndpoint = await startIdentityEndpoint(ctx, {
      header: identityHeader,
      identities: () =>
        [
          { kind: 'SystemAssigned', principalId: idn.msiSystemPrincipalId, app: appOf(idn.msiSystemClientId) },
          {
            kind: 'UserAssigned',
            principalId: idn.msiUserPrincipalId,
            resourceId: msiUserResourceId,
            app: appOf(idn.msiUserClientId),
          },
        ].filter((i): i is HostIdentity => !!i.app),
    });
    armRouter.use(armPreHandler(ctx));
    ctx.lro.register(armRouter);
    registerDevopsBase(devopsRouter, ctx);
    for (const m of await discover(path.join(here, 'arm'))) {
      const r = (await m.register(armRouter, ctx)) as { stop?: () => Promise<void> } | undefined;
      if (r?.stop) stops.push(() => r.stop!());
      trace(`arm/${m.file}`);
    }
    for (const m of await discover(path.join(here, 'devops'))) {
      const r = (await m.register(devopsRouter, ctx)) as { stop?: () => Promise<void> } | undefined;
      if (r?.stop) stops.push(() => r.stop!());
    }

    const running = azurite;
    const proxy = storageProxy;
    const idEndpoint = identityEndpoint;
    let stopped = false;
    const box: AzureInABox = {
      armUrl,
      authorityHost: entra.url,
      devopsUrl: devops.url,
      collectionUri,
      projectId: idn.projectId,
      projectName: idn.projectName,
      oidcRequestUri: `${collectionUri}${idn.projectId}/_apis/distributedtask/hubs/build/plans/${idn.planId}/jobs/${idn.jobId}/oidctoken`,
      jobPlans: ctx.devops.plans,
      systemAccessToken: idn.systemAccessToken,
      tenantId: idn.tenantId,
      subscriptionId: idn.subscriptionId,
      resourceGroup: idn.resourceGroup,
      workspace: idn.workspace,
      location: idn.location,
      clientId: idn.clientId,
      clientSecret: idn.clientSecret,
      certificatePem: `${idn.clientCert.trim()}\n${idn.clientKey.trim()}\n`,
      readerClientId: idn.readerClientId,
      readerClientSecret: idn.readerClientSecret,
      get audience() {
        return ctx.cloud.activeDirectoryServiceEndpointResourceId;
      },
      get cloud() {
        return ctx.cloud;
      },
      setCloud: (name) => {
        ctx.cloud = CLOUDS[name];
      },
      caCertPath: ca.certPath,
      managedIdentity: {
        endpoint: idEndpoint.endpoint,
        header: identityHeader,
        systemClientId: idn.msiSystemClientId,
        userClientId: idn.msiUserClientId,
        userResourceId: msiUserResourceId,
      },
      azurite: {
        port: running.port,
        account: AZURITE_ACCOUNT,
        key: AZURITE_KEY,
        blobEndpoint,
        container: idn.container,
        proxyPort: proxy.port,
        datastoreEndpoint: ctx.azurite.datastoreEndpoint,
        clientBlobEndpoint: ctx.azurite.clientBlobEndpoint,
      },
      storageRequests,
      stateDir,
      childEnv: () => ({ NODE_EXTRA_CA_CERTS: ca.certPath, NODE_OPTIONS: `--require ${JSON.stringify(PRELOAD)}` }),
      faults: {
        set: (c) => faults.set(c),
        add: (c) => faults.add(c),
        reset: () => faults.reset(),
        get injected() {
          return faults.injected;
        },
      },
      requests,
      store,
      ctx,
      issueOidcToken: ctx.issueOidcToken,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        for (const s of stops.reverse()) {
          try {
            await s();
          } catch {
            /* best effort */
          }
        }
        await Promise.all([...servers.map((s) => s.close()), proxy.close(), idEndpoint.close()]);
        await running.stop();
      },
    };
    return box;
  } catch (e) {
    await Promise.all([...servers.map((s) => s.close()), storageProxy?.close(), identityEndpoint?.close()]);
    await (azurite ?? (await azuritePromise.catch(() => undefined)))?.stop();
    throw e;
  }
}
