// Azure ML online endpoints and deployments (api-version 2022-10-01 shapes), managed and Kubernetes,
// with deployments that really serve: each deployment gets a local scoring host
// (test/emulator/scoring.ts + scoring/host.py) fed with the model and code downloaded from Azurite.
// The data plane (scoring URI, keys, routing) is test/emulator/frontdoor.ts.
//
// Control plane, under {workspace}/onlineEndpoints:
//   PUT    /:ep                       create/update (LRO: 201/200 + Azure-AsyncOperation; Creating|Updating → Succeeded)
//   GET    /:ep, GET /                get, list
//   PATCH  /:ep                       tags / identity only (LRO 202)
//   DELETE /:ep                       LRO 202 (Deleting; deletes its deployments and stops their hosts)
//   POST   /:ep/listKeys | /:ep/regenerateKeys (LRO 202, final state via Location) | /:ep/token
//   PUT    /:ep/deployments/:d        create/update (LRO: Creating|Updating → Succeeded | Failed)
//   GET    /:ep/deployments[/:d], PATCH (tags, sku), DELETE (LRO; 400 while it has traffic)
//   POST   /:ep/deployments/:d/getLogs {tail, containerType} → {content}
//   GET    /:ep/deployments/:d/skus
//
// Timing model (durations are 0 with fastLro): endpoint create/update ~1 s then Succeeded; deployment create:
// provisioningState Creating (Updating for an existing one) while the "storage initializer" downloads model +
// code and the scoring host starts (init() runs), then Succeeded — or Failed with the operation error
// ResourceNotReady "User container has crashed or terminated…" when import/init() fails (the container log
// is then available through getLogs). A failed *update* leaves the previous host serving (like a rolling update
// whose new pods never become ready).
//
// Kubernetes: an endpoint with properties.compute (ARM id of a compute in the workspace) is a Kubernetes online
// endpoint; that compute must exist in the store kind 'computes' with computeType 'Kubernetes'. Its deployments
// must have endpointComputeType 'Kubernetes' and an instanceType among the compute's instance types
// (properties.properties.instanceTypes keys + defaultInstanceType; 'defaultinstancetype' always exists, as the
// Azure ML extension creates it); without instanceType the default instance type is used.
import { registryModelVersion, regionKey } from './registries';
import { DATA_COLLECTOR_API_VERSION, DataCollectionWriter, validateDataCollector } from '../dataCollection';
import { randomBytes, randomUUID, timingSafeEqual, createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { EmulatorContext } from '../context';
import { armError, fail, HttpError, type Req, type Res, type Router } from '../http';
import { requireWorkspace, systemData, page } from '../armkit';
import { ScoringHosts } from '../scoring';
import { FrontDoor } from '../frontdoor';
import { assetById } from './assets';
import { answerMetrics, type MetricsSource } from '../monitor';
import { registerMetricAlerts } from '../alerts';
import { defaultOutputUri, JOBS_KIND } from '../jobrunner';

export const KIND_ENDPOINTS = 'onlineEndpoints';
export const KIND_DEPLOYMENTS = 'onlineDeployments';
export const KIND_COMPUTES = 'computes';

const PROVIDER = 'Microsoft.MachineLearningServices';
const WS = '/subscriptions/:sub/resourceGroups/:rg/providers/Microsoft.MachineLearningServices/workspaces/:ws';
const NAME_RE = /^[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]$/;
const TSG = 'Please see troubleshooting guide, available here: https://aka.ms/oe-tsg';

// ------------------------------------------------------------------ stored shapes
export interface EndpointRecord {
  resource: any; // what GET returns (properties.keys always null)
  keys: { primaryKey: string; secondaryKey: string };
  tokenSecret: string; // signs AML tokens of this endpoint
  busy?: string; // operation id while Creating/Updating/Deleting
  /** every mirrorTraffic a PUT at api-version ≥ 2023-04-01 set, in order (what the service was told; for tests) */
  mirrorHistory?: Array<Record<string, number>>;
}
export interface DeploymentRuntime {
  hostKey: string; // key in ScoringHosts
  scriptPath: string;
  modelDir?: string;
  appRoot: string;
  env: Record<string, string>;
  generation: number;
}
export interface DeploymentRecord {
  resource: any;
  runtime?: DeploymentRuntime; // what serves now (last successful provisioning)
  lastHostKey?: string; // host of the latest provisioning attempt (its log is what getLogs shows)
  generation: number;
  busy?: string;
  /** copies of scoring requests the front door mirrored to this deployment, and how many got a non-200 answer */
  mirrored?: { requests: number; failed: number };
}

// ------------------------------------------------------------------ helpers
function wsId(p: Record<string, string>): string {
  return `/subscriptions/${p.sub}/resourceGroups/${p.rg}/providers/${PROVIDER}/workspaces/${p.ws}`;
}
/** mirrorTraffic is known from api-version 2023-04-01 (ISO dates compare as strings) */
export function mirrorApi(apiVersion: string | undefined): boolean {
  return (apiVersion ?? '') >= '2023-04-01';
}
function endpointId(p: Record<string, string>, name = p.ep): string {
  return `${wsId(p)}/onlineEndpoints/${name}`;
}
function deploymentId(p: Record<string, string>, name = p.dep): string {
  return `${endpointId(p)}/deployments/${name}`;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function newKey(): string {
  // 32 alphanumeric characters, like the service's keys
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const b = randomBytes(32);
  let s = '';
  for (const x of b) s += alphabet[x % alphabet.length];
  return s;
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a),
    y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** ISO-8601 duration (PT5S, PT0.5S, PT1M30S) → ms */
export function durationMs(iso: string | undefined, def: number): number {
  if (!iso) return def;
  const m = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(iso);
  if (!m) return def;
  const [d, h, mi, s] = m.slice(1).map((x) => (x ? Number(x) : 0));
  return Math.round((((d * 24 + h) * 60 + mi) * 60 + s) * 1000);
}

/**
 * systemData of online endpoints and deployments as the service returns it: createdAt, createdBy, lastModifiedAt only
 * (no *ByType, no lastModifiedBy), in both recordings (online_services test_online_deployment.json 2022-10 and
 * test_online_deployment_create.json 2025-02).
 */
function onlineSystemData(
  req: Req,
  existing?: { createdAt?: string; createdBy?: string },
): { createdAt: string; createdBy: string; lastModifiedAt: string } {
  const sd = systemData(req, existing as any);
  return {
    createdAt: existing?.createdAt ?? sd.createdAt,
    createdBy: existing?.createdBy ?? sd.createdBy,
    lastModifiedAt: sd.lastModifiedAt,
  };
}

function lowerKeys<T>(o: Record<string, T> | null | undefined): Map<string, [string, T]> {
  const m = new Map<string, [string, T]>();
  for (const [k, v] of Object.entries(o ?? {})) m.set(k.toLowerCase(), [k, v]);
  return m;
}

/**
 * A deployment's `model: azureml://registries/<r>/models/<m>/versions/<v>` (Microsoft Learn,
 * how-to-share-models-pipelines-across-workspaces-with-registries.md: deploy.yml `model: azureml://registries/…`): the
 * registry version's files (a blob URL in the registry's storage, arm/registries.ts). The workspace's region must be one
 * of the registry's (same page: "provided the location of the workspace is one of the locations supported by the
 * registry"). ASSUMPTIONS: the wording and codes of the refusals (400 BadArgument), `labels/latest` not accepted.
 */
function registryModelFor(
  ctx: EmulatorContext,
  req: Req,
  model: string,
): { id: string; name: string; version: string; uri: string; workspaceId: string } {
  const m = /^azureml:\/\/registries\/([^/]+)\/models\/([^/]+)\/versions\/([^/]+)$/i.exec(model);
  if (!m)
    fail(
      400,
      'BadArgument',
      `Model '${model}' is not a registry model version (azureml://registries/<registry>/models/<name>/versions/<version>).`,
    );
  const wsIdOf = `/subscriptions/${req.params.sub}/resourceGroups/${req.params.rg}/providers/Microsoft.MachineLearningServices/workspaces/${req.params.ws}`;
  const w = ctx.store.get<{ location: string; name: string }>('workspaces', wsIdOf);
  const found = registryModelVersion(ctx, m[1], m[2], m[3]);
  if (!found) fail(400, 'BadArgument', `Registry ${m[1]} was not found.`);
  if (w && !found.reg.regions.includes(regionKey(w.location))) {
    fail(
      400,
      'BadArgument',
      `Workspace ${w.name} is in region ${w.location}, which registry ${found.reg.name} does not support (${found.reg.regions.join(', ')}).`,
    );
  }
  if (!found.version) fail(400, 'BadArgument', `Model ${m[2]}:${m[3]} does not exist in registry ${found.reg.name}.`);
  const uri = found.version.properties?.modelUri;
  if (!uri) fail(400, 'BadArgument', `Model ${m[2]}:${m[3]} of registry ${found.reg.name} has no modelUri.`);
  return { id: found.version.id, name: m[2], version: m[3], uri, workspaceId: wsIdOf };
}

// ------------------------------------------------------------------ storage (model / code download)
interface BlobLocation {
  container: string;
  prefix: string;
}

/**
 * Where an asset URI lives in Azurite. Understands
 *   azureml://subscriptions/…/workspaces/<w>/datastores/<ds>/paths/<p>   and the short azureml://datastores/<ds>/paths/<p>
 *   azureml://jobs/<job>/outputs/artifacts/paths/<p>  (→ workspaceartifactstore ExperimentRun/dcid.<job>/<p>)
 *   http(s)://<account>.blob.<anything>/<container>/<p> and path-style http(s)://host:port/<account>/<container>/<p>
 */
export function blobLocation(ctx: EmulatorContext, workspaceId: string, uri: string): BlobLocation {
  const ds =
    /^azureml:\/\/(?:subscriptions\/[^/]+\/resource[gG]roups\/[^/]+\/(?:providers\/[^/]+\/)?workspaces\/[^/]+\/)?datastores\/([^/]+)\/paths\/(.*)$/i.exec(
      uri,
    );
  if (ds) return { container: datastoreContainer(ctx, workspaceId, ds[1]), prefix: decodeURIComponent(ds[2]) };
  const job = /^azureml:\/\/jobs\/([^/]+)\/outputs\/artifacts\/paths\/(.*)$/i.exec(uri);
  if (job)
    return {
      container: datastoreContainer(ctx, workspaceId, 'workspaceartifactstore'),
      prefix: `ExperimentRun/dcid.${job[1]}/${decodeURIComponent(job[2])}`,
    };
  // a named job output (a model registered from `azureml://jobs/<job>/outputs/<output>`): the output's own URI, else
  // the default output location the job runner writes to (jobrunner.ts defaultOutputUri)
  const out = /^azureml:\/\/jobs\/([^/]+)\/outputs\/([^/]+)(?:\/paths\/(.*))?\/?$/i.exec(uri);
  if (out) {
    const id = `${workspaceId}/jobs/${out[1]}`.toLowerCase();
    const rec = ctx.store.list<any>(JOBS_KIND).find((j) => String(j.id ?? '').toLowerCase() === id);
    if (!rec) throw new Error(`job '${out[1]}' of storage URI '${uri}' does not exist`);
    const base = rec.properties?.outputs?.[out[2]]?.uri ?? defaultOutputUri(out[1], out[2]);
    const loc = blobLocation(ctx, workspaceId, base);
    return out[3]
      ? { container: loc.container, prefix: `${loc.prefix.replace(/\/+$/, '')}/${decodeURIComponent(out[3])}` }
      : loc;
  }
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw new Error(`unsupported storage URI '${uri}'`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`unsupported storage URI '${uri}'`);
  const parts = u.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const hostStyle = /^[^.]+\.blob\./i.test(u.hostname);
  if (!hostStyle) parts.shift(); // path-style: /<account>/<container>/…
  const container = parts.shift();
  if (!container) throw new Error(`storage URI '${uri}' names no container`);
  return { container, prefix: parts.join('/') };
}

function datastoreContainer(ctx: EmulatorContext, workspaceId: string, name: string): string {
  const d = ctx.store.get<any>('datastores', `${workspaceId}/datastores/${name}`);
  const c = d?.properties?.containerName;
  if (typeof c === 'string' && c) return c;
  if (name.toLowerCase() === 'workspaceblobstore') return ctx.azurite.container;
  throw new Error(`datastore '${name}' does not exist in the workspace`);
}

/**
 * Copies the blob (file) or the blobs under prefix/ (folder) into destDir/<last path segment>,
 * the way Azure ML's storage initializer lays models out under AZUREML_MODEL_DIR. Returns the files written.
 */
async function downloadTo(
  ctx: EmulatorContext,
  loc: BlobLocation,
  destDir: string,
  log: (l: string) => void,
): Promise<string[]> {
  const cc = ctx.azurite.containerClient(loc.container);
  const prefix = loc.prefix.replace(/\/+$/, '');
  const base = prefix.split('/').pop() || loc.container;
  const written: string[] = [];
  const fetch = async (blobName: string, rel: string) => {
    const target = path.resolve(destDir, base, rel);
    if (!target.startsWith(path.resolve(destDir) + path.sep))
      throw new Error(`blob '${blobName}' would land outside the model folder`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    await cc.getBlobClient(blobName).downloadToFile(target);
    written.push(target);
  };
  // a single file?
  if (prefix) {
    const bc = cc.getBlobClient(prefix);
    if (await bc.exists()) {
      const target = path.join(destDir, base);
      fs.mkdirSync(destDir, { recursive: true });
      await bc.downloadToFile(target);
      log(`Downloaded ${loc.container}/${prefix} → ${target}`);
      return [target];
    }
  }
  const folderPrefix = prefix ? prefix + '/' : '';
  for await (const b of cc.listBlobsFlat({ prefix: folderPrefix })) {
    const rel = b.name.slice(folderPrefix.length);
    if (!rel || rel.endsWith('/')) continue;
    await fetch(b.name, rel);
  }
  if (!written.length) throw new Error(`no blobs found at ${loc.container}/${prefix}`);
  log(`Downloaded ${written.length} file(s) from ${loc.container}/${folderPrefix} → ${path.join(destDir, base)}`);
  return written;
}

/**
 * What the service adds to a deployment's environmentVariables once it is provisioned (the PUT response still shows
 * what was sent; the reads after Succeeded show these too): online_services test_online_deployment_create.json
 * (2025-02): `AZUREML_MODEL_DIR: /var/azureml-app/azureml-models/<model>/<version>`, `AZUREML_ENTRY_SCRIPT: <scoringScript>`,
 * `AML_APP_ROOT: /var/azureml-app/<code folder>` for a code folder `onlinescoring`.
 * ASSUMPTIONS (no recording): without a model there is no AZUREML_MODEL_DIR, without code no AZUREML_ENTRY_SCRIPT /
 * AML_APP_ROOT; a value the user set under one of these names is kept.
 */
function serviceEnvironmentVariables(
  a: { model?: { name: string; version: string }; code?: { uri: string }; props: any },
  current: Record<string, string> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (a.model) out.AZUREML_MODEL_DIR = `/var/azureml-app/azureml-models/${a.model.name}/${a.model.version}`;
  const script = a.props.codeConfiguration?.scoringScript;
  if (a.code && script) {
    out.AZUREML_ENTRY_SCRIPT = String(script);
    const folder = String(a.code.uri).replace(/\/+$/, '').split('/').pop() || 'app';
    out.AML_APP_ROOT = `/var/azureml-app/${decodeURIComponent(folder)}`;
  }
  for (const k of Object.keys(current ?? {})) delete out[k];
  return out;
}

// ------------------------------------------------------------------ the module
export class OnlineEndpoints {
  readonly hosts: ScoringHosts;
  readonly frontDoor: FrontDoor;
  /** collected production data of deployments with a dataCollector (dataCollection.ts) */
  readonly dataCollection: DataCollectionWriter;
  private readonly root: string;

  constructor(readonly ctx: EmulatorContext) {
    this.root = path.join(ctx.stateDir, 'online-endpoints');
    this.hosts = new ScoringHosts({ logDir: path.join(this.root, 'logs') });
    this.frontDoor = new FrontDoor(this);
    this.dataCollection = new DataCollectionWriter(ctx);
    // the front door serves with the box's own server certificate (index.ts writes it to <stateDir>/tls)
    const tlsDir = path.join(ctx.stateDir, 'tls');
    if (fs.existsSync(path.join(tlsDir, 'server.pem'))) {
      this.frontDoor.tls = async () => ({
        cert: fs.readFileSync(path.join(tlsDir, 'server.pem'), 'utf8'),
        key: fs.readFileSync(path.join(tlsDir, 'server-key.pem'), 'utf8'),
      });
    }
    ctx.onStop(async () => {
      await this.frontDoor.stop();
      await this.hosts.stopAll();
    });
  }

  private delay(ms: number): Promise<void> {
    return this.ctx.fastLro ? Promise.resolve() : sleep(ms).then(() => undefined);
  }

  // ---------------- lookups
  endpointRecord(id: string): EndpointRecord | undefined {
    return this.ctx.store.get<EndpointRecord>(KIND_ENDPOINTS, id);
  }
  /** endpoint by name (scoring URIs carry only the name; names are unique per region in Azure too) */
  endpointByName(name: string): EndpointRecord | undefined {
    return this.ctx.store
      .list<EndpointRecord>(KIND_ENDPOINTS)
      .find((e) => String(e.resource.name).toLowerCase() === name.toLowerCase());
  }
  deploymentsOf(endpointArmId: string): DeploymentRecord[] {
    return this.ctx.store.list<DeploymentRecord>(KIND_DEPLOYMENTS, endpointArmId + '/deployments/');
  }
  private putEndpoint(rec: EndpointRecord): void {
    this.ctx.store.put(KIND_ENDPOINTS, rec.resource.id, rec);
  }
  private putDeployment(rec: DeploymentRecord): void {
    this.ctx.store.put(KIND_DEPLOYMENTS, rec.resource.id, rec);
  }
  private patchEndpoint(id: string, fn: (r: EndpointRecord) => void): void {
    const r = this.endpointRecord(id);
    if (r) {
      fn(r);
      this.putEndpoint(r);
    }
  }
  /** the front door's note of one mirrored copy and its (discarded) answer */
  recordMirrored(d: DeploymentRecord, status: number): void {
    this.patchDeployment(d.resource.id, (r) => {
      r.mirrored = {
        requests: (r.mirrored?.requests ?? 0) + 1,
        failed: (r.mirrored?.failed ?? 0) + (status === 200 ? 0 : 1),
      };
    });
  }
  private patchDeployment(id: string, fn: (r: DeploymentRecord) => void): void {
    const r = this.ctx.store.get<DeploymentRecord>(KIND_DEPLOYMENTS, id);
    if (r) {
      fn(r);
      this.putDeployment(r);
    }
  }

  /** the endpoint resource as the service returns it (scoring URIs follow the current front door port) */
  async view(rec: EndpointRecord, apiVersion?: string): Promise<any> {
    const r = structuredClone(rec.resource);
    // mirrorTraffic is a 2023-04-01 field: older api-versions do not show it
    if (!mirrorApi(apiVersion)) delete r.properties.mirrorTraffic;
    // scoringUri / swaggerUri are null until the first provisioning has succeeded (the create's 201 in both
    // online_services recordings, 2022-10 and 2025-02)
    const base = await this.frontDoor.baseUrl();
    const provisioned = rec.resource.properties.provisioningState !== 'Creating';
    r.properties.scoringUri = provisioned ? `${base}endpoints/${r.name}/score` : null;
    r.properties.swaggerUri = provisioned ? `${base}endpoints/${r.name}/swagger.json` : null;
    r.properties.keys = null;
    return r;
  }

  private checkWorkspace(req: Req): { location: string } {
    return requireWorkspace(this.ctx, req);
  }

  // ---------------- validation shared by PUT endpoint and the front door
  /** traffic as the service validates it; returns the normalised map (original deployment-name spelling) */
  validateTraffic(
    epName: string,
    traffic: Record<string, unknown> | null | undefined,
    deployments: DeploymentRecord[],
    what = 'Traffic',
  ): Record<string, number> {
    const out: Record<string, number> = {};
    const known = new Map(deployments.map((d) => [String(d.resource.name).toLowerCase(), d]));
    let sum = 0;
    for (const [name, v] of Object.entries(traffic ?? {})) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 100) {
        fail(
          400,
          'BadArgument',
          `${what} value for deployment ${name} must be an integer between 0 and 100; got ${JSON.stringify(v)}.`,
        );
      }
      const d = known.get(name.toLowerCase());
      if (!d)
        fail(
          400,
          'BadArgument',
          `${what} for deployment ${name} cannot be set since it does not exist under endpoint ${epName}.`,
        );
      if (d.resource.properties.provisioningState === 'Deleting')
        fail(400, 'BadArgument', `${what} for deployment ${name} cannot be set since it is being deleted.`);
      out[d.resource.name] = v;
      sum += v;
    }
    if (what === 'Traffic' && sum !== 100 && sum !== 0) {
      fail(
        400,
        'BadArgument',
        `Traffic values must sum to 100 or 0 (all deployments without traffic). Got ${sum} for endpoint ${epName}.`,
      );
    }
    return out;
  }

  private validateMirror(
    epName: string,
    mirror: Record<string, unknown> | null | undefined,
    traffic: Record<string, number>,
    deployments: DeploymentRecord[],
    kubernetes: boolean,
  ): Record<string, number> | undefined {
    if (mirror === undefined || mirror === null) return undefined;
    const m = this.validateTraffic(epName, mirror, deployments, 'Mirror traffic');
    const nonZero = Object.entries(m).filter(([, v]) => v > 0);
    // "Mirror traffic isn't currently supported for Kubernetes online endpoints" (how-to-safely-rollout-online-endpoints)
    if (kubernetes && nonZero.length)
      fail(400, 'BadArgument', `Mirror traffic is not supported for Kubernetes online endpoints (endpoint ${epName}).`);
    if (nonZero.length > 1)
      fail(
        400,
        'BadArgument',
        `Mirror traffic can be set for only one deployment; got ${nonZero.map(([k]) => k).join(', ')}.`,
      );
    for (const [k, v] of nonZero) {
      if (v > 50) fail(400, 'BadArgument', `Mirror traffic for deployment ${k} cannot exceed 50 percent; got ${v}.`);
      if ((traffic[k] ?? 0) > 0)
        fail(400, 'BadArgument', `Deployment ${k} cannot receive both live traffic and mirror traffic.`);
    }
    return m;
  }

  /** compute ARM id (or azureml:name / bare name) → compute resource, or 400 */
  private kubernetesCompute(req: Req, compute: string): any {
    let id = compute.replace(/^azureml:/i, '');
    if (!id.startsWith('/')) id = `${wsId(req.params)}/computes/${id}`;
    const m = /\/workspaces\/([^/]+)\/computes\/([^/]+)$/i.exec(id);
    if (!m) fail(400, 'BadArgument', `Compute '${compute}' is not a valid compute ARM id.`);
    if (m[1].toLowerCase() !== String(req.params.ws).toLowerCase())
      fail(400, 'BadArgument', `Compute ${m[2]} must be in workspace ${req.params.ws}.`);
    const c = this.ctx.store.get<any>(KIND_COMPUTES, `${wsId(req.params)}/computes/${m[2]}`);
    if (!c) fail(400, 'BadArgument', `Compute ${m[2]} does not exist in workspace ${req.params.ws}.`);
    const type = c.properties?.computeType;
    if (String(type).toLowerCase() !== 'kubernetes') {
      fail(
        400,
        'BadArgument',
        `Compute ${m[2]} is of type ${type}; online endpoints can only use a Kubernetes compute (AKS or Arc-enabled Kubernetes attached with the Azure ML extension).`,
      );
    }
    return c;
  }

  private instanceTypes(compute: any): { types: string[]; def: string } {
    const p = compute.properties?.properties ?? {};
    const def = String(p.defaultInstanceType ?? 'defaultinstancetype');
    const types = [...new Set([def, 'defaultinstancetype', ...Object.keys(p.instanceTypes ?? {})])];
    return { types, def };
  }

  // ---------------- endpoints
  private async putEndpointHandler(req: Req): Promise<Res> {
    const ws = this.checkWorkspace(req);
    const name = req.params.ep;
    if (!NAME_RE.test(name)) {
      fail(
        400,
        'BadArgument',
        `Endpoint name '${name}' is invalid: it must be 3 to 32 characters, start with a letter, contain only letters, digits and hyphens (-), and end with a letter or digit.`,
      );
    }
    const body = req.body ?? {};
    const props = body.properties ?? {};
    if (!['Key', 'AMLToken', 'AADToken'].includes(props.authMode))
      fail(
        400,
        'BadArgument',
        `authMode must be one of Key, AMLToken, AADToken; got ${JSON.stringify(props.authMode)}.`,
      );
    const id = endpointId(req.params);
    const prev = this.endpointRecord(id);
    if (
      prev?.busy &&
      prev.resource.properties.provisioningState !== 'Succeeded' &&
      prev.resource.properties.provisioningState !== 'Failed'
    ) {
      fail(
        409,
        'Conflict',
        `Endpoint ${name} has an operation in progress (${prev.resource.properties.provisioningState}); retry when it has finished.`,
      );
    }
    // Kubernetes or managed
    const compute: string | undefined = props.compute ?? undefined;
    if (
      prev &&
      (prev.resource.properties.compute ?? undefined)?.toLowerCase() !== compute?.toLowerCase() &&
      compute !== undefined
    ) {
      fail(
        400,
        'BadArgument',
        `The compute of endpoint ${name} cannot be changed (was ${prev.resource.properties.compute ?? 'managed'}).`,
      );
    }
    const effectiveCompute = compute ?? prev?.resource.properties.compute ?? undefined;
    if (effectiveCompute) this.kubernetesCompute(req, effectiveCompute);
    const deployments = this.deploymentsOf(id);
    const traffic = this.validateTraffic(name, props.traffic, deployments);
    // mirrorTraffic exists from api-version 2023-04-01 (the swagger pre-handler accepts that version for this
    // operation and validates the rest of the body against 2022-10-01, see swagger.ts; no 2023-04-01 swagger is kept
    // in test/fixtures/third-party). The limits checked in validateMirror are the documented ones (safe-rollout article: one
    // deployment, ≤ 50 %, not on Kubernetes endpoints, not both live and mirror traffic). ASSUMPTION, not from a
    // spec: a PUT at an older api-version (which has no mirrorTraffic field) leaves the endpoint's mirror as it was.
    const mirrorSupported = mirrorApi(req.query.get('api-version') ?? undefined);
    const mirror = mirrorSupported
      ? this.validateMirror(name, props.mirrorTraffic, traffic, deployments, !!effectiveCompute)
      : undefined;
    if (!mirrorSupported) {
      // the kept mirror still holds: a deployment cannot get live traffic while it is mirrored to
      for (const [k, v] of Object.entries<number>(prev?.resource.properties.mirrorTraffic ?? {})) {
        const live = Object.entries(traffic).find(([t]) => t.toLowerCase() === k.toLowerCase())?.[1] ?? 0;
        if (v > 0 && live > 0)
          fail(400, 'BadArgument', `Deployment ${k} cannot receive both live traffic and mirror traffic.`);
      }
    }

    const location = ws.location ?? this.ctx.ids.location;
    const isNew = !prev;
    const keys = prev?.keys ?? {
      primaryKey: props.keys?.primaryKey || newKey(),
      secondaryKey: props.keys?.secondaryKey || newKey(),
    };
    const principalId = prev?.resource.identity?.principalId ?? randomUUID();
    const resource: any = {
      id,
      name,
      type: `${PROVIDER}/workspaces/onlineEndpoints`,
      location,
      tags: body.tags ?? {},
      kind: body.kind ?? (effectiveCompute ? 'K8s' : 'Managed'),
      identity:
        body.identity?.type && body.identity.type !== 'None'
          ? {
              ...body.identity,
              principalId: body.identity.type.includes('SystemAssigned') ? principalId : undefined,
              tenantId: this.ctx.ids.tenantId,
            }
          : { type: 'SystemAssigned', principalId, tenantId: this.ctx.ids.tenantId },
      properties: {
        authMode: props.authMode,
        description: props.description ?? prev?.resource.properties.description ?? null,
        properties: {
          ...(prev?.resource.properties.properties ?? {}),
          ...(props.properties ?? {}),
          'azureml.onlineendpointid': id.toLowerCase(),
        },
        publicNetworkAccess: props.publicNetworkAccess ?? 'Enabled',
        traffic,
        ...(mirror !== undefined
          ? { mirrorTraffic: mirror }
          : !mirrorSupported && prev?.resource.properties.mirrorTraffic
            ? { mirrorTraffic: prev.resource.properties.mirrorTraffic }
            : {}),
        ...(effectiveCompute ? { compute: effectiveCompute } : {}),
        provisioningState: isNew ? 'Creating' : 'Updating',
        keys: null,
      },
      systemData: onlineSystemData(req, prev?.resource.systemData),
    };
    if (body.sku) resource.sku = body.sku;
    const rec: EndpointRecord = { resource, keys, tokenSecret: prev?.tokenSecret ?? randomBytes(32).toString('hex') };
    const history = [...(prev?.mirrorHistory ?? []), ...(mirror !== undefined ? [mirror] : [])];
    if (history.length) rec.mirrorHistory = history;
    const { id: opId, headers } = this.ctx.lro.begin(req, {
      durationMs: 0,
      work: async () => {
        await this.delay(isNew ? 1500 : 800);
        this.patchEndpoint(id, (r) => {
          r.resource.properties.provisioningState = 'Succeeded';
          delete r.busy;
        });
      },
    });
    rec.busy = opId;
    rec.resource.properties.properties.AzureAsyncOperationUri = headers['Azure-AsyncOperation'];
    this.putEndpoint(rec);
    // headers as recorded (lro.ts): Azure-AsyncOperation, Location = this endpoint's URL, x-ms-async-operation-timeout
    return {
      status: isNew ? 201 : 200,
      headers,
      body: await this.view(rec, req.query.get('api-version') ?? undefined),
    };
  }

  private async getEndpointHandler(req: Req): Promise<Res> {
    const rec = this.endpointRecord(endpointId(req.params));
    if (!rec) return this.endpointNotFound(req);
    return { status: 200, body: await this.view(rec, req.query.get('api-version') ?? undefined) };
  }

  private endpointNotFound(req: Req): Res {
    return armError(
      404,
      'UserError',
      `Could not find online endpoint '${req.params.ep}' in workspace '${req.params.ws}'.`,
      { details: [{ code: 'NotFound', message: `OnlineEndpoint ${req.params.ep} not found.` }] },
    );
  }

  private async listEndpointsHandler(req: Req): Promise<Res> {
    this.checkWorkspace(req);
    const all = this.ctx.store.list<EndpointRecord>(KIND_ENDPOINTS, wsId(req.params) + '/onlineEndpoints/');
    let items = await Promise.all(all.map((r) => this.view(r, req.query.get('api-version') ?? undefined)));
    const nameFilter = req.query.get('name');
    if (nameFilter) items = items.filter((e) => e.name === nameFilter);
    const computeType = req.query.get('computeType');
    if (computeType) items = items.filter((e) => (computeType === 'Kubernetes') === !!e.properties.compute);
    return { status: 200, body: page(this.ctx, req, items) };
  }

  private async patchEndpointHandler(req: Req): Promise<Res> {
    const id = endpointId(req.params);
    const rec = this.endpointRecord(id);
    if (!rec) return this.endpointNotFound(req);
    const body = req.body ?? {};
    const allowed = new Set(['tags', 'identity']);
    const extra = Object.keys(body).filter((k) => !allowed.has(k));
    if (extra.length)
      fail(
        400,
        'BadArgument',
        `Only tags and identity can be updated with PATCH; use PUT to change ${extra.join(', ')}.`,
      );
    if (body.tags !== undefined) rec.resource.tags = body.tags ?? {};
    if (body.identity?.type) rec.resource.identity = { ...rec.resource.identity, ...body.identity };
    rec.resource.systemData = onlineSystemData(req, rec.resource.systemData);
    this.putEndpoint(rec);
    const view = await this.view(rec, req.query.get('api-version') ?? undefined);
    return this.ctx.lro.accepted(req, { work: () => view });
  }

  private async deleteEndpointHandler(req: Req): Promise<Res> {
    const id = endpointId(req.params);
    const rec = this.endpointRecord(id);
    if (!rec) return { status: 204 };
    rec.resource.properties.provisioningState = 'Deleting';
    this.putEndpoint(rec);
    return this.ctx.lro.accepted(req, {
      durationMs: 0,
      work: async () => {
        await this.delay(1000);
        for (const d of this.deploymentsOf(id)) await this.teardownDeployment(d);
        this.ctx.store.delete(KIND_ENDPOINTS, id);
      },
    });
  }

  private listKeysHandler(req: Req): Res {
    const rec = this.endpointRecord(endpointId(req.params));
    if (!rec) return this.endpointNotFound(req);
    if (rec.resource.properties.authMode !== 'Key') {
      fail(
        400,
        'BadArgument',
        `Keys are only available for endpoints with auth mode Key; endpoint ${rec.resource.name} uses ${rec.resource.properties.authMode} (use the token action).`,
      );
    }
    return { status: 200, body: { primaryKey: rec.keys.primaryKey, secondaryKey: rec.keys.secondaryKey } };
  }

  private regenerateKeysHandler(req: Req): Res {
    const id = endpointId(req.params);
    const rec = this.endpointRecord(id);
    if (!rec) return this.endpointNotFound(req);
    if (rec.resource.properties.authMode !== 'Key')
      fail(400, 'BadArgument', `Keys can only be regenerated for endpoints with auth mode Key.`);
    const kt = req.body?.keyType;
    if (kt !== 'Primary' && kt !== 'Secondary')
      fail(400, 'BadArgument', `keyType must be Primary or Secondary; got ${JSON.stringify(kt)}.`);
    return this.ctx.lro.accepted(req, {
      durationMs: 0,
      work: async () => {
        await this.delay(500);
        this.patchEndpoint(id, (r) => {
          if (kt === 'Primary') r.keys.primaryKey = newKey();
          else r.keys.secondaryKey = newKey();
        });
      },
    });
  }

  /** AML token: base64url(JSON{ep, exp}).hmac — verified by the front door with the endpoint's tokenSecret */
  issueToken(
    rec: EndpointRecord,
    lifetimeSec = 3600,
  ): { accessToken: string; expiryTimeUtc: number; refreshAfterTimeUtc: number; tokenType: string } {
    const now = Math.floor(Date.now() / 1000);
    const payload = Buffer.from(
      JSON.stringify({
        ep: rec.resource.properties.properties['azureml.onlineendpointid'],
        exp: now + lifetimeSec,
        jti: randomUUID(),
      }),
    ).toString('base64url');
    const sig = createHmac('sha256', rec.tokenSecret).update(payload).digest('base64url');
    return {
      accessToken: `${payload}.${sig}`,
      expiryTimeUtc: now + lifetimeSec,
      refreshAfterTimeUtc: now + Math.floor(lifetimeSec / 2),
      tokenType: 'Bearer',
    };
  }

  verifyToken(rec: EndpointRecord, token: string): boolean {
    const [payload, sig] = token.split('.');
    if (!payload || !sig) return false;
    const expect = createHmac('sha256', rec.tokenSecret).update(payload).digest('base64url');
    if (!safeEqual(expect, sig)) return false;
    try {
      const p = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      return p.exp > Date.now() / 1000 && p.ep === rec.resource.properties.properties['azureml.onlineendpointid'];
    } catch {
      return false;
    }
  }

  private tokenHandler(req: Req): Res {
    const rec = this.endpointRecord(endpointId(req.params));
    if (!rec) return this.endpointNotFound(req);
    if (rec.resource.properties.authMode !== 'AMLToken') {
      fail(
        400,
        'BadArgument',
        `Tokens are only issued for endpoints with auth mode AMLToken; endpoint ${rec.resource.name} uses ${rec.resource.properties.authMode}.`,
      );
    }
    return { status: 200, body: this.issueToken(rec) };
  }

  // ---------------- deployments
  private deploymentNotFound(req: Req): Res {
    return armError(
      404,
      'UserError',
      `Could not find deployment '${req.params.dep}' under online endpoint '${req.params.ep}'.`,
      { details: [{ code: 'NotFound', message: `OnlineDeployment ${req.params.dep} not found.` }] },
    );
  }

  private deploymentView(d: DeploymentRecord, apiVersion?: string | null): any {
    const r = structuredClone(d.resource);
    // dataCollector exists from api-version 2024-04-01 (dataCollection.ts): older versions do not show it
    if ((apiVersion ?? '') < DATA_COLLECTOR_API_VERSION) delete r.properties.dataCollector;
    return r;
  }

  private modelOf(
    req: Req,
    model: string,
  ): { id: string; name: string; version: string; uri: string; workspaceId: string } {
    if (/^azureml:\/\/registries\//i.test(model)) return registryModelFor(this.ctx, req, model);
    const m =
      /^(?:azureml:)?(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)\/models\/([^/]+)\/versions\/([^/]+))$/i.exec(
        model,
      );
    if (!m)
      fail(
        400,
        'BadArgument',
        `Model '${model}' is not a valid model version ARM id (/subscriptions/…/workspaces/<ws>/models/<name>/versions/<version>).`,
      );
    const v = assetById(this.ctx, m[1]);
    if (!v) fail(400, 'BadArgument', `Model ${m[3]}:${m[4]} does not exist in workspace ${m[2]} (${m[1]}).`);
    const uri = v.properties?.modelUri;
    if (!uri) fail(400, 'BadArgument', `Model ${m[3]}:${m[4]} has no modelUri.`);
    return { id: m[1], name: m[3], version: m[4], uri, workspaceId: m[1].replace(/\/models\/.*$/i, '') };
  }

  private codeOf(codeId: string): { id: string; uri: string; workspaceId: string } {
    const m =
      /^(?:azureml:)?(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)\/codes\/([^/]+)\/versions\/([^/]+))$/i.exec(
        codeId,
      );
    if (!m) fail(400, 'BadArgument', `codeConfiguration.codeId '${codeId}' is not a valid code version ARM id.`);
    const v = assetById(this.ctx, m[1]);
    if (!v) fail(400, 'BadArgument', `Code ${m[3]}:${m[4]} does not exist in workspace ${m[2]}.`);
    const uri = v.properties?.codeUri;
    if (!uri) fail(400, 'BadArgument', `Code ${m[3]}:${m[4]} has no codeUri.`);
    return { id: m[1], uri, workspaceId: m[1].replace(/\/codes\/.*$/i, '') };
  }

  private checkEnvironment(envId: string | undefined): void {
    if (!envId) return;
    const m =
      /^(?:azureml:)?(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)\/environments\/([^/]+)\/versions\/([^/]+))$/i.exec(
        envId,
      );
    if (!m) return; // registries (azureml://registries/azureml/environments/…) and curated environments: accepted as they are
    if (!assetById(this.ctx, m[1]))
      fail(400, 'BadArgument', `Environment ${m[3]}:${m[4]} does not exist in workspace ${m[2]}.`);
  }

  private async putDeploymentHandler(req: Req): Promise<Res> {
    const epId = endpointId(req.params);
    const ep = this.endpointRecord(epId);
    if (!ep) return this.endpointNotFound(req);
    const name = req.params.dep;
    if (!NAME_RE.test(name)) {
      fail(
        400,
        'BadArgument',
        `Deployment name '${name}' is invalid: it must be 3 to 32 characters, start with a letter, contain only letters, digits and hyphens (-), and end with a letter or digit.`,
      );
    }
    if (ep.resource.properties.provisioningState === 'Deleting')
      fail(409, 'Conflict', `Endpoint ${ep.resource.name} is being deleted.`);
    const id = deploymentId(req.params);
    const prev = this.ctx.store.get<DeploymentRecord>(KIND_DEPLOYMENTS, id);
    if (
      prev?.busy &&
      ['Creating', 'Updating', 'Deleting', 'Scaling'].includes(prev.resource.properties.provisioningState)
    ) {
      fail(
        409,
        'Conflict',
        `Deployment ${name} has an operation in progress (${prev.resource.properties.provisioningState}); retry when it has finished.`,
      );
    }
    const body = req.body ?? {};
    const props = { ...(body.properties ?? {}) };
    // dataCollector (api-version 2024-04-01, dataCollection.ts): validated there; an older PUT keeps the one it had
    if ((req.query.get('api-version') ?? '') >= DATA_COLLECTOR_API_VERSION) {
      if (props.dataCollector !== undefined && props.dataCollector !== null) {
        const problems = validateDataCollector(props.dataCollector);
        if (problems.length)
          fail(400, 'UserError', 'Request is invalid and/or missing fields.', {
            details: problems.map((message) => ({ code: 'RequestInvalid', message })),
          });
      }
    } else if (prev?.resource.properties.dataCollector) props.dataCollector = prev.resource.properties.dataCollector;
    const type = props.endpointComputeType;
    if (type === 'AzureMLCompute')
      fail(
        400,
        'BadArgument',
        `endpointComputeType AzureMLCompute is not supported for online deployments; use Managed or Kubernetes.`,
      );
    if (type !== 'Managed' && type !== 'Kubernetes')
      fail(400, 'BadArgument', `endpointComputeType must be Managed or Kubernetes; got ${JSON.stringify(type)}.`);
    const epCompute: string | undefined = ep.resource.properties.compute ?? undefined;
    if (type === 'Kubernetes' && !epCompute) {
      fail(
        400,
        'BadArgument',
        `Deployment ${name} is a Kubernetes deployment but endpoint ${ep.resource.name} is a managed online endpoint; create a Kubernetes online endpoint (with a Kubernetes compute) for it.`,
      );
    }
    if (type === 'Managed' && epCompute) {
      fail(
        400,
        'BadArgument',
        `Deployment ${name} is a managed deployment but endpoint ${ep.resource.name} is a Kubernetes online endpoint (compute ${epCompute.split('/').pop()}); use endpointComputeType Kubernetes.`,
      );
    }
    if (prev && prev.resource.properties.endpointComputeType !== type)
      fail(400, 'BadArgument', `endpointComputeType of deployment ${name} cannot be changed.`);
    // instance type
    if (type === 'Kubernetes') {
      const compute = this.kubernetesCompute(req, epCompute!);
      const { types, def } = this.instanceTypes(compute);
      const it = props.instanceType ?? def;
      const hit = types.find((t) => t.toLowerCase() === String(it).toLowerCase());
      if (!hit) {
        fail(
          400,
          'BadArgument',
          `Instance type ${it} is not defined on Kubernetes compute ${compute.name ?? epCompute!.split('/').pop()}; available instance types: ${types.join(', ')}.`,
        );
      }
      props.instanceType = hit;
    } else {
      if (!props.instanceType)
        fail(400, 'BadArgument', `instanceType is required for a managed online deployment (e.g. Standard_DS3_v2).`);
      if (!/^Standard_[A-Za-z0-9_]+$/i.test(props.instanceType)) {
        fail(
          400,
          'BadArgument',
          `Instance type ${props.instanceType} is not supported for managed online endpoints; use an Azure VM SKU such as Standard_DS3_v2 (https://aka.ms/azureml-managed-sku-list).`,
        );
      }
    }
    if (
      prev &&
      String(prev.resource.properties.instanceType ?? '').toLowerCase() !==
        String(props.instanceType ?? '').toLowerCase()
    ) {
      fail(
        400,
        'BadArgument',
        `instanceType of deployment ${name} cannot be changed (${prev.resource.properties.instanceType} → ${props.instanceType}); create a new deployment instead.`,
      );
    }
    const capacity = body.sku?.capacity ?? 1;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 20)
      fail(400, 'BadArgument', `Instance count (sku.capacity) must be between 1 and 20; got ${capacity}.`);
    // assets: all checked before anything changes
    const model = props.model ? this.modelOf(req, props.model) : undefined;
    const code = props.codeConfiguration?.codeId ? this.codeOf(props.codeConfiguration.codeId) : undefined;
    if (props.codeConfiguration && !props.codeConfiguration.scoringScript)
      fail(400, 'BadArgument', `codeConfiguration.scoringScript is required.`);
    if (
      props.codeConfiguration?.scoringScript &&
      (path.isAbsolute(props.codeConfiguration.scoringScript) ||
        props.codeConfiguration.scoringScript.split(/[\\/]/).includes('..'))
    ) {
      fail(
        400,
        'BadArgument',
        `codeConfiguration.scoringScript must be a path relative to the code folder; got ${props.codeConfiguration.scoringScript}.`,
      );
    }
    this.checkEnvironment(props.environmentId);

    const isNew = !prev;
    const resource: any = {
      id,
      name,
      type: `${PROVIDER}/workspaces/onlineEndpoints/deployments`,
      location: ep.resource.location,
      tags: body.tags ?? {},
      kind: body.kind ?? (type === 'Kubernetes' ? 'K8s' : 'Managed'),
      ...(body.identity ? { identity: body.identity } : {}),
      sku: { name: 'Default', tier: 'Standard', ...(body.sku ?? {}), capacity },
      properties: {
        ...props,
        appInsightsEnabled: props.appInsightsEnabled ?? false,
        egressPublicNetworkAccess: props.egressPublicNetworkAccess ?? 'Enabled',
        livenessProbe: {
          failureThreshold: 30,
          successThreshold: 1,
          timeout: 'PT2S',
          period: 'PT10S',
          initialDelay: 'PT10S',
          ...(props.livenessProbe ?? {}),
        },
        readinessProbe: {
          failureThreshold: 30,
          successThreshold: 1,
          timeout: 'PT2S',
          period: 'PT10S',
          initialDelay: 'PT10S',
          ...(props.readinessProbe ?? {}),
        },
        // the service fills requestSettings in as { maxQueueWait: 'PT0S', requestTimeout: 'PT5S', maxConcurrentRequestsPerInstance: 1 }
        // (the PUT response and every read: online_services test_online_deployment_create.json, 2025-02)
        requestSettings: {
          maxQueueWait: 'PT0S',
          requestTimeout: 'PT5S',
          maxConcurrentRequestsPerInstance: 1,
          ...(props.requestSettings ?? {}),
        },
        scaleSettings:
          props.scaleSettings ??
          (type === 'Kubernetes'
            ? {
                scaleType: 'TargetUtilization',
                minInstances: 1,
                maxInstances: 1,
                pollingInterval: 'PT1S',
                targetUtilizationPercentage: 70,
              }
            : { scaleType: 'Default' }),
        environmentVariables: props.environmentVariables ?? {},
        properties: { ...(prev?.resource.properties.properties ?? {}), ...(props.properties ?? {}) },
        provisioningState: isNew ? 'Creating' : 'Updating',
      },
      systemData: onlineSystemData(req, prev?.resource.systemData),
    };
    const generation = (prev?.generation ?? 0) + 1;
    const rec: DeploymentRecord = { resource, runtime: prev?.runtime, lastHostKey: prev?.lastHostKey, generation };
    const epName = ep.resource.name;
    const { id: opId, headers } = this.ctx.lro.begin(req, {
      durationMs: 0,
      work: async () => {
        try {
          await this.provision(id, epName, name, generation, { model, code, props, workspaceId: wsId(req.params) });
        } finally {
          this.patchDeployment(id, (r) => {
            if (r.busy === opId) delete r.busy;
          });
        }
      },
    });
    rec.busy = opId;
    rec.resource.properties.properties.AzureAsyncOperationUri = headers['Azure-AsyncOperation'];
    this.putDeployment(rec);
    return { status: isNew ? 201 : 200, headers, body: this.deploymentView(rec, req.query.get('api-version')) };
  }

  /** storage initializer + inference server start; throws HttpError (→ operation Failed) on failure */
  private async provision(
    id: string,
    epName: string,
    depName: string,
    generation: number,
    a: {
      model?: { id: string; name: string; version: string; uri: string; workspaceId: string };
      code?: { id: string; uri: string; workspaceId: string };
      props: any;
      workspaceId: string;
    },
  ): Promise<void> {
    const hostKey = `${epName}/${depName}/${generation}`;
    const dir = path.join(this.root, 'deployments', epName.toLowerCase(), depName.toLowerCase(), String(generation));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const storageLog: string[] = [];
    const slog = (l: string) => storageLog.push(`${new Date().toISOString()} | storage-initializer | ${l}`);
    const failWith = async (code: string, message: string, preamble: string[]): Promise<never> => {
      // a host that never started: getLogs still has the story
      await this.hosts.recordFailure(hostKey, [...preamble, message], storageLog);
      this.patchDeployment(id, (r) => {
        r.resource.properties.provisioningState = 'Failed';
        r.lastHostKey = hostKey;
      });
      throw new HttpError(armError(400, code, message));
    };
    await this.delay(500);
    const before = this.ctx.store.get<DeploymentRecord>(KIND_DEPLOYMENTS, id);
    if (before?.lastHostKey && before.lastHostKey !== before.runtime?.hostKey)
      await this.hosts.stop(before.lastHostKey); // an earlier failed attempt
    this.patchDeployment(id, (r) => {
      r.lastHostKey = hostKey;
    });
    let modelDir: string | undefined;
    let appRoot = path.join(dir, 'app');
    let scriptPath: string | undefined;
    try {
      if (a.model) {
        modelDir = path.join(dir, 'azureml-models', a.model.name, a.model.version);
        slog(`Downloading model ${a.model.name}:${a.model.version} from ${a.model.uri}`);
        await downloadTo(this.ctx, blobLocation(this.ctx, a.model.workspaceId, a.model.uri), modelDir, slog);
      }
      if (a.code) {
        slog(`Downloading code snapshot from ${a.code.uri}`);
        const loc = blobLocation(this.ctx, a.code.workspaceId, a.code.uri);
        await downloadTo(this.ctx, loc, path.join(dir, 'app'), slog);
        const base = loc.prefix.replace(/\/+$/, '').split('/').pop() || loc.container;
        appRoot = path.join(dir, 'app', base);
        scriptPath = path.join(appRoot, a.props.codeConfiguration.scoringScript);
        // a code asset that is one file: the script is that file
        if (fs.existsSync(appRoot) && fs.statSync(appRoot).isFile()) {
          scriptPath = appRoot;
          appRoot = path.dirname(appRoot);
        }
      }
      slog('Storage initializer finished');
    } catch (e) {
      slog(`ERROR ${(e as Error).message}`);
      await failWith(
        'ResourceNotReady',
        `Storage initializer failed for deployment ${depName}: ${(e as Error).message}. ${TSG}#error-resourcenotready`,
        [],
      );
    }
    await this.delay(500);
    const env: Record<string, string> = { ...(a.props.environmentVariables ?? {}) };
    env.AML_APP_ROOT = appRoot;
    env.AZUREML_ENDPOINT_NAME = epName;
    env.AZUREML_DEPLOYMENT_NAME = depName;
    const preamble = [
      `Emulator: environment ${a.props.environmentId ?? '(none)'} is not built or run; the scoring script runs with this machine's python3 (standard library only).`,
      `Emulator: AZUREML_MODEL_DIR=${modelDir ?? '(no model)'}  AML_APP_ROOT=${appRoot}`,
    ];
    if (!scriptPath) {
      await failWith(
        'ResourceNotReady',
        `User container has crashed or terminated: deployment ${depName} has no code_configuration; the emulator only serves deployments with a scoring script (no-code MLflow deployments need the MLflow runtime). ${TSG}#error-resourcenotready`,
        preamble,
      );
      return;
    }
    if (!fs.existsSync(scriptPath)) {
      preamble.push(
        `Scoring script ${a.props.codeConfiguration.scoringScript} not found in the code snapshot (looked for ${scriptPath}).`,
      );
    }
    const r = await this.hosts.start({
      key: hostKey,
      scriptPath,
      modelDir,
      env,
      cwd: appRoot,
      preamble,
      storageInitializerLog: storageLog,
      readyTimeoutMs: this.readyTimeout(a.props),
    });
    this.hosts.saveStorageLog(hostKey);
    if (!r.ok) {
      this.patchDeployment(id, (d) => {
        d.resource.properties.provisioningState = 'Failed';
        d.lastHostKey = hostKey;
      });
      const why =
        r.reason === 'timeout'
          ? 'Readiness probe failed: the scoring script did not finish init() in time'
          : `the scoring script failed at import or init() (exit code ${r.exitCode})`;
      throw new HttpError(
        armError(
          400,
          'ResourceNotReady',
          `User container has crashed or terminated: ${why}. Run getLogs (az ml online-deployment get-logs) for the container log. ${TSG}#error-resourcenotready`,
        ),
      );
    }
    // success: swap the serving host
    const cur = this.ctx.store.get<DeploymentRecord>(KIND_DEPLOYMENTS, id);
    if (!cur || cur.generation !== generation) {
      await this.hosts.stop(hostKey);
      return;
    } // superseded or deleted meanwhile
    const old = cur.runtime?.hostKey;
    cur.runtime = { hostKey, scriptPath, modelDir, appRoot, env, generation };
    cur.lastHostKey = hostKey;
    cur.resource.properties.provisioningState = 'Succeeded';
    cur.resource.properties.environmentVariables = {
      ...(cur.resource.properties.environmentVariables ?? {}),
      ...serviceEnvironmentVariables(a, cur.resource.properties.environmentVariables),
    };
    this.putDeployment(cur);
    if (old && old !== hostKey) await this.hosts.stop(old);
  }

  private readyTimeout(props: any): number {
    const p = props.readinessProbe ?? {};
    // initialDelay + failureThreshold × period, capped so tests never hang
    const ms = durationMs(p.initialDelay, 10_000) + (p.failureThreshold ?? 30) * durationMs(p.period, 10_000);
    return Math.min(Math.max(ms, 5_000), 60_000);
  }

  /** (re)start a deployment's host from its stored runtime (after an emulator restart); false when it cannot */
  async ensureHost(d: DeploymentRecord): Promise<boolean> {
    const rt = d.runtime;
    if (!rt) return false;
    if (this.hosts.isRunning(rt.hostKey)) return true;
    if (!fs.existsSync(rt.scriptPath)) return false;
    const r = await this.hosts.start({
      key: rt.hostKey,
      scriptPath: rt.scriptPath,
      modelDir: rt.modelDir,
      env: rt.env,
      cwd: rt.appRoot,
      preamble: ['Emulator: container restarted'],
    });
    return r.ok;
  }

  private async teardownDeployment(d: DeploymentRecord): Promise<void> {
    if (d.runtime) await this.hosts.stop(d.runtime.hostKey);
    if (d.lastHostKey) await this.hosts.stop(d.lastHostKey);
    const dir = path.join(
      this.root,
      'deployments',
      String(d.resource.id.split('/onlineEndpoints/')[1] ?? '')
        .split('/deployments/')[0]
        .toLowerCase(),
      String(d.resource.name).toLowerCase(),
    );
    fs.rmSync(dir, { recursive: true, force: true });
    this.ctx.store.delete(KIND_DEPLOYMENTS, d.resource.id);
  }

  private getDeploymentHandler(req: Req): Res {
    if (!this.endpointRecord(endpointId(req.params))) return this.endpointNotFound(req);
    const d = this.ctx.store.get<DeploymentRecord>(KIND_DEPLOYMENTS, deploymentId(req.params));
    if (!d) return this.deploymentNotFound(req);
    return { status: 200, body: this.deploymentView(d, req.query.get('api-version')) };
  }

  private listDeploymentsHandler(req: Req): Res {
    if (!this.endpointRecord(endpointId(req.params))) return this.endpointNotFound(req);
    return {
      status: 200,
      body: page(
        this.ctx,
        req,
        this.deploymentsOf(endpointId(req.params)).map((d) => this.deploymentView(d, req.query.get('api-version'))),
      ),
    };
  }

  private deleteDeploymentHandler(req: Req): Res {
    const ep = this.endpointRecord(endpointId(req.params));
    if (!ep) return this.endpointNotFound(req);
    const id = deploymentId(req.params);
    const d = this.ctx.store.get<DeploymentRecord>(KIND_DEPLOYMENTS, id);
    if (!d) return { status: 204 };
    const t = lowerKeys<number>(ep.resource.properties.traffic).get(String(d.resource.name).toLowerCase());
    if (t && t[1] > 0) {
      fail(
        400,
        'BadArgument',
        `Deployment ${d.resource.name} cannot be deleted because it has ${t[1]}% of the traffic of endpoint ${ep.resource.name}; set its traffic to 0 first.`,
      );
    }
    const mt = lowerKeys<number>(ep.resource.properties.mirrorTraffic).get(String(d.resource.name).toLowerCase());
    if (mt && mt[1] > 0)
      fail(
        400,
        'BadArgument',
        `Deployment ${d.resource.name} cannot be deleted because it receives ${mt[1]}% mirror traffic of endpoint ${ep.resource.name}; set its mirror traffic to 0 first.`,
      );
    d.resource.properties.provisioningState = 'Deleting';
    this.putDeployment(d);
    return this.ctx.lro.accepted(req, {
      durationMs: 0,
      work: async () => {
        await this.delay(1000);
        const cur = this.ctx.store.get<DeploymentRecord>(KIND_DEPLOYMENTS, id);
        if (cur) await this.teardownDeployment(cur);
        // a deployment named with 0 % traffic disappears from the endpoint's traffic map
        this.patchEndpoint(endpointId(req.params), (r) => {
          for (const k of ['traffic', 'mirrorTraffic'] as const) {
            const m = r.resource.properties[k];
            if (m)
              for (const key of Object.keys(m))
                if (key.toLowerCase() === String(d.resource.name).toLowerCase()) delete m[key];
          }
        });
      },
    });
  }

  private patchDeploymentHandler(req: Req): Res {
    if (!this.endpointRecord(endpointId(req.params))) return this.endpointNotFound(req);
    const id = deploymentId(req.params);
    const d = this.ctx.store.get<DeploymentRecord>(KIND_DEPLOYMENTS, id);
    if (!d) return this.deploymentNotFound(req);
    const body = req.body ?? {};
    const extra = Object.keys(body).filter((k) => k !== 'tags' && k !== 'sku');
    if (extra.length)
      fail(400, 'BadArgument', `Only tags and sku can be updated with PATCH; use PUT to change ${extra.join(', ')}.`);
    if (body.tags !== undefined) d.resource.tags = body.tags ?? {};
    if (body.sku) {
      const cap = body.sku.capacity ?? d.resource.sku?.capacity ?? 1;
      if (!Number.isInteger(cap) || cap < 1 || cap > 20)
        fail(400, 'BadArgument', `Instance count (sku.capacity) must be between 1 and 20; got ${cap}.`);
      d.resource.sku = { ...(d.resource.sku ?? {}), ...body.sku, capacity: cap };
    }
    d.resource.systemData = onlineSystemData(req, d.resource.systemData);
    this.putDeployment(d);
    const view = this.deploymentView(d, req.query.get('api-version'));
    return this.ctx.lro.accepted(req, { work: () => view });
  }

  private getLogsHandler(req: Req): Res {
    if (!this.endpointRecord(endpointId(req.params))) return this.endpointNotFound(req);
    const d = this.ctx.store.get<DeploymentRecord>(KIND_DEPLOYMENTS, deploymentId(req.params));
    if (!d) return this.deploymentNotFound(req);
    const body = req.body ?? {};
    const ct = body.containerType ?? 'InferenceServer';
    if (ct !== 'InferenceServer' && ct !== 'StorageInitializer')
      fail(
        400,
        'BadArgument',
        `containerType must be InferenceServer or StorageInitializer; got ${JSON.stringify(ct)}.`,
      );
    const tail = body.tail === undefined || body.tail === null ? undefined : Number(body.tail);
    if (tail !== undefined && (!Number.isInteger(tail) || tail < 0))
      fail(400, 'BadArgument', `tail must be a non-negative integer.`);
    const key = d.lastHostKey ?? d.runtime?.hostKey;
    const content = key ? (this.hosts.logs(key, { tail, containerType: ct }) ?? '') : '';
    return { status: 200, body: { content } };
  }

  private skusHandler(req: Req): Res {
    if (!this.endpointRecord(endpointId(req.params))) return this.endpointNotFound(req);
    const d = this.ctx.store.get<DeploymentRecord>(KIND_DEPLOYMENTS, deploymentId(req.params));
    if (!d) return this.deploymentNotFound(req);
    return {
      status: 200,
      body: {
        value: [
          {
            resourceType: `${PROVIDER}/workspaces/onlineEndpoints/deployments`,
            sku: { name: 'Default', tier: 'Standard' },
            capacity: { minimum: 1, maximum: 20, default: 1, scaleType: 'Manual' },
          },
        ],
      },
    };
  }

  register(router: Router): void {
    const E = `${WS}/onlineEndpoints`;
    router.add('GET', E, (r) => this.listEndpointsHandler(r));
    router.add('PUT', `${E}/:ep`, (r) => this.putEndpointHandler(r));
    router.add('GET', `${E}/:ep`, (r) => this.getEndpointHandler(r));
    router.add('PATCH', `${E}/:ep`, (r) => this.patchEndpointHandler(r));
    router.add('DELETE', `${E}/:ep`, (r) => this.deleteEndpointHandler(r));
    router.add('POST', `${E}/:ep/listKeys`, (r) => this.listKeysHandler(r));
    router.add('POST', `${E}/:ep/regenerateKeys`, (r) => this.regenerateKeysHandler(r));
    router.add('POST', `${E}/:ep/token`, (r) => this.tokenHandler(r));
    const D = `${E}/:ep/deployments`;
    router.add('GET', D, (r) => this.listDeploymentsHandler(r));
    router.add('PUT', `${D}/:dep`, (r) => this.putDeploymentHandler(r));
    router.add('GET', `${D}/:dep`, (r) => this.getDeploymentHandler(r));
    router.add('PATCH', `${D}/:dep`, (r) => this.patchDeploymentHandler(r));
    router.add('DELETE', `${D}/:dep`, (r) => this.deleteDeploymentHandler(r));
    router.add('POST', `${D}/:dep/getLogs`, (r) => this.getLogsHandler(r));
    router.add('GET', `${D}/:dep/skus`, (r) => this.skusHandler(r));
    // Azure Monitor metrics of an endpoint, from what the front door served (monitor.ts)
    router.add('GET', `${E}/:ep/providers/Microsoft.Insights/metrics`, (r) => this.metricsHandler(r));
    // Azure Monitor metric alert rules on endpoints and the Alerts Management API, from the same record (alerts.ts)
    registerMetricAlerts(router, this.ctx, { endpoint: (id) => this.metricsSource(id) });
  }

  /** what the endpoint's Azure Monitor metrics are made of (undefined: no such endpoint) */
  metricsSource(id: string): MetricsSource | undefined {
    const ep = this.endpointRecord(id);
    if (!ep) return undefined;
    const kubernetes =
      !!ep.resource.properties.compute ||
      this.deploymentsOf(ep.resource.id).some((d) => d.resource.properties.endpointComputeType === 'Kubernetes');
    return {
      location: String(ep.resource.location ?? this.ctx.ids.location),
      kubernetes,
      served: this.frontDoor.served,
    };
  }

  private metricsHandler(req: Req): Res {
    const src = this.metricsSource(endpointId(req.params));
    if (!src) return this.endpointNotFound(req);
    return answerMetrics(req, String(this.endpointRecord(endpointId(req.params))!.resource.id), src);
  }
}

/** module entry point (index.ts): register(router, ctx) */
export function register(router: Router, ctx: EmulatorContext): OnlineEndpoints {
  const m = new OnlineEndpoints(ctx);
  m.register(router);
  return m;
}
