// What every emulator module gets: `register(router, ctx)`.
import type { CloudProfile } from './clouds';
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import type { KeyObject } from 'node:crypto';
import type { Faults, RequestLogEntry, Router } from './http';
import type { Lro } from './lro';
import type { Store } from './store';

export interface ValidationResult {
  operationId: string;
  errors: string[];
}
export type Validator = (
  method: string,
  path: string,
  query: URLSearchParams | Record<string, string>,
  body: unknown,
) => ValidationResult | undefined;

/** a service principal registered in the emulated Entra ID */
export interface AppRegistration {
  clientId: string;
  displayName: string;
  objectId: string;
  role: 'contributor' | 'reader';
  secrets: string[];
  /** PEM certificates whose keys may sign client assertions */
  certificates: string[];
  /** federated credentials: issuer + subject (subject may end with '*' = prefix) */
  federated: Array<{ issuer: string; subject: string; audience: string }>;
}

export interface Ids {
  tenantId: string;
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  location: string;
  clientId: string;
  readerClientId: string;
  orgName: string;
  projectId: string;
  projectName: string;
}

export interface AzuriteInfo {
  /** Azurite's own blob port */
  port: number;
  account: string;
  key: string;
  /** http://127.0.0.1:<port>/devstoreaccount1 (path-style, Azurite directly: the emulator's and tests' own reads and
   *  writes, never faulted) */
  blobEndpoint: string;
  /** port of the fault-injecting proxy in front of Azurite (storageProxy.ts, fault host 'storage') */
  proxyPort: number;
  /** the datastore's `endpoint` field: localhost:<proxyPort> (so https://{account}.blob.{endpoint} style URLs work);
   *  what clients get, through the proxy */
  datastoreEndpoint: string;
  /** http://127.0.0.1:<proxyPort>/devstoreaccount1: base of the blob URLs handed to clients (SAS links), through the proxy */
  clientBlobEndpoint: string;
  /** default datastore container */
  container: string;
  blobServiceClient(): BlobServiceClient;
  containerClient(name?: string): ContainerClient;
}

/** a job's orchestration plan: the hub it belongs to (System.HostType), its plan and job ids */
export interface JobPlanInfo {
  hub: string;
  planId: string;
  jobId: string;
}

/** DevOps resource-location registry answered on OPTIONS {collection}/_apis/{area} (azure-devops-node-api discovery) */
export interface DevopsLocation {
  id: string;
  area: string;
  resourceName: string;
  routeTemplate: string;
  resourceVersion: number;
  minVersion: string;
  maxVersion: string;
  releasedVersion: string;
}

export interface EmulatorContext {
  /** the cloud the box stands for (token audiences: test/emulator/clouds.ts); tests may switch it */
  cloud: CloudProfile;
  store: Store;
  /** swagger validation (test/emulator/swagger.ts); undefined result = no such operation in the spec */
  validate: Validator;
  armUrl: string;
  authorityHost: string;
  devopsUrl: string;
  collectionUri: string;
  ids: Ids;
  azurite: AzuriteInfo;
  lro: Lro;
  fastLro: boolean;
  faults: Faults;
  requests: RequestLogEntry[];
  stateDir: string;
  /** registered Entra apps (persisted) */
  apps(): AppRegistration[];
  /** sign an access token like Entra does (used by the token endpoint; handy for tests) */
  issueAccessToken(app: AppRegistration, resource: string, lifetimeSec?: number, appidacr?: string): string;
  /** the Entra signing public key (ARM verifies tokens with it) */
  entraPublicKey: KeyObject;
  /** issue an Azure DevOps OIDC token for a service connection (as the oidctoken endpoint does) */
  issueOidcToken(serviceConnectionId: string, lifetimeSec?: number): string;
  /** locations: answered on OPTIONS; plans: the running jobs' orchestration plans, one hub each (build, release) */
  devops: { router: Router; locations: DevopsLocation[]; plans: JobPlanInfo[] };
  arm: { router: Router };
  /** run at stop() (modules register their cleanup here) */
  onStop(fn: () => Promise<void> | void): void;
}
