// Evaluates the "Azure ML model" release artifact contribution (vss-extension.json) the way Azure DevOps does
// (DESIGN.md §4), against Azure-in-a-box:
//  - a data-source binding with an inline `endpointUrl`: the URL is a mustache template over the artifact inputs
//    (by id), `endpoint.*` (url + the connection's data, e.g. subscriptionId) and the paging context; the server
//    calls it with the service connection's credential (here: an ARM bearer token from the box's Entra through
//    @azure/identity), applies `resultSelector` ("jsonpath:…", jsonpath-plus) and renders `resultTemplate` (mustache)
//    for each selected item → {Value, DisplayValue}. Paging: `initialContextTemplate` gives the first context; while
//    `callbackRequiredTemplate` rendered over a response is "true", `callbackContextTemplate` rendered over it gives the
//    next context and the URL is rendered again with it.
//  - a binding without endpointUrl (artifactSourceDefinitionUrl / artifactSourceVersionUrl): only the template is
//    rendered, over inputs + endpoint + version → {Url}.
// Template language: the server's engine is mustache with extra helpers (handlebars-like). Our templates use only
// what mustache.js and that engine share: {{{x}}} (unescaped), dotted names, {{#x}}…{{/x}} sections, {{^x}}…{{/x}}
// inverted sections and {{{.}}} (current item). No helpers (#if, #equals, extractUrlQueryParameter…).
// Also: release variables the server derives from the artifact, and the injected download task (inputs rendered from
// the artifact + version, downloadPath, itemPattern) run as the bundled task.
//
// Decisions recorded in the contribution (vss-extension.json, id azureml-model-artifact):
//  - artifactType "Package": a registered model is a named, versioned, immutable package in a registry. Not "Build",
//    because for Build the server uses its own build-artifact download instead of downloadTaskId.
//  - paging: ARM's absolute nextLink is the callback context ({"nextLink": "…"}); the URL template renders it when
//    present ({{#nextLink}}{{{.}}}{{/nextLink}}{{^nextLink}}<first page URL>{{/nextLink}}); callbackRequiredTemplate is
//    "true" while a page has a nextLink. The harness refuses a rendered URL outside the endpoint's origin (the server
//    would send the connection's credential there).
//  - 2 MB: every page is bounded (versions $top=50, latest $top=1, models/workspaces/resource groups by the service's
//    page size, ~1-3 KB per item); the harness fails any response above MAX_RESPONSE_BYTES.
//  - studio links (artifactSourceDefinitionUrl/VersionUrl) are template-only bindings ({"Url": …}) on ml.azure.com
//    (public cloud; sovereign-cloud studio hosts cannot be derived by a template without helpers).
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mustache from 'mustache';
import { JSONPath } from 'jsonpath-plus';
import { ClientSecretCredential } from '@azure/identity';
import type { AzureInABox } from '../emulator';
import { REPO_ROOT, runBundledTask, type RunOptions, type TaskRunWithLeaks } from './agent';

/** The server's limit on a data-source response. */
export const MAX_RESPONSE_BYTES = 2 * 1024 * 1024;
const MAX_PAGES = 50;

export interface DataSourceBinding {
  target: string;
  endpointId?: string;
  endpointUrl?: string;
  resultSelector?: string;
  resultTemplate?: string;
  initialContextTemplate?: string;
  callbackContextTemplate?: string;
  callbackRequiredTemplate?: string;
}
export interface InputDescriptor {
  id: string; name: string; dependencyInputIds?: string[]; visibleRule?: string;
  values?: { defaultValue?: string; possibleValues?: Array<{ value: string; displayValue: string }> };
  validation?: { isRequired?: boolean };
}
export interface ArtifactType {
  name: string; displayName: string; endpointTypeId: string; artifactType: string; uniqueSourceIdentifier: string;
  downloadTaskId: string; inputDescriptors: InputDescriptor[]; dataSourceBindings: DataSourceBinding[];
}

export function loadArtifactType(root = REPO_ROOT): ArtifactType {
  const ext = JSON.parse(fs.readFileSync(path.join(root, 'vss-extension.json'), 'utf8'));
  const c = (ext.contributions ?? []).find((x: any) => x.type === 'ms.vss-releaseartifact.release-artifact-type');
  if (!c) throw new Error('vss-extension.json has no ms.vss-releaseartifact.release-artifact-type contribution');
  return c.properties as ArtifactType;
}

/** The service connection as the server sees it: url, data (subscriptionId…), and a way to authorize a request. */
export interface Endpoint {
  url: string;
  data: Record<string, string>;
  authorization(): Promise<string>;
}

/** The box's AzureRM connection (service principal with secret), tokens from the box's Entra for the ARM audience. */
export function boxEndpoint(box: AzureInABox): Endpoint {
  const cred = new ClientSecretCredential(box.tenantId, box.clientId, box.clientSecret, { authorityHost: box.authorityHost, disableInstanceDiscovery: true });
  const scope = `${box.audience.replace(/\/+$/, '')}/.default`;
  return {
    url: box.armUrl,
    data: { subscriptionId: box.subscriptionId, subscriptionName: 'Azure-in-a-box', environment: 'AzureCloud', scopeLevel: 'Subscription' },
    authorization: async () => `Bearer ${(await cred.getToken(scope))!.token}`,
  };
}

const render = (template: string, view: unknown) => Mustache.render(template, view, {}, { escape: (s: unknown) => String(s) });

export interface PickerValue { Value: string; DisplayValue: string }
export interface BindingResult { values: PickerValue[]; urls: string[]; responseBytes: number[] }

function bindingFor(type: ArtifactType, target: string): DataSourceBinding {
  const b = type.dataSourceBindings.find((x) => x.target === target);
  if (!b) throw new Error(`no dataSourceBinding with target '${target}'`);
  return b;
}

/** Calls a binding with endpointUrl like the server: render URL, GET with the connection's credential, select, template, page. */
export async function evaluateBinding(type: ArtifactType, target: string, inputs: Record<string, string>, endpoint: Endpoint): Promise<BindingResult> {
  const b = bindingFor(type, target);
  if (!b.endpointUrl) throw new Error(`binding '${target}' has no endpointUrl (use renderUrlBinding)`);
  const base = { ...inputs, endpoint: { url: endpoint.url, ...endpoint.data } };
  let context: Record<string, unknown> = b.initialContextTemplate ? JSON.parse(render(b.initialContextTemplate, base)) : {};
  const out: BindingResult = { values: [], urls: [], responseBytes: [] };
  const origin = new URL(endpoint.url).origin;
  for (let pageNo = 0; ; pageNo++) {
    if (pageNo >= MAX_PAGES) throw new Error(`binding '${target}': more than ${MAX_PAGES} pages`);
    const url = render(b.endpointUrl, { ...base, ...context });
    // the server sends the connection's credential to this URL: it must stay on the connection's host
    if (new URL(url).origin !== origin) throw new Error(`binding '${target}' rendered a URL outside the endpoint: ${url}`);
    out.urls.push(url);
    const res = await fetch(url, { headers: { authorization: await endpoint.authorization(), accept: 'application/json' } });
    const text = await res.text();
    const bytes = Buffer.byteLength(text);
    out.responseBytes.push(bytes);
    if (bytes > MAX_RESPONSE_BYTES) throw new Error(`binding '${target}': response of ${bytes} bytes exceeds the server's 2 MB limit`);
    if (!res.ok) throw new Error(`binding '${target}': HTTP ${res.status} from ${url}: ${text.slice(0, 300)}`);
    const body = JSON.parse(text);
    out.values.push(...selectAndTemplate(b, body));
    if (!b.callbackRequiredTemplate || render(b.callbackRequiredTemplate, body).trim().toLowerCase() !== 'true') break;
    context = JSON.parse(render(b.callbackContextTemplate ?? '{}', body));
  }
  return out;
}

/** resultSelector ("jsonpath:<expr>", or none = the whole body) + resultTemplate (or the item itself). */
export function selectAndTemplate(b: Pick<DataSourceBinding, 'target' | 'resultSelector' | 'resultTemplate'>, body: unknown): PickerValue[] {
  let items: unknown[];
  if (!b.resultSelector) items = [body];
  else {
    const m = /^jsonpath:(.+)$/.exec(b.resultSelector);
    if (!m) throw new Error(`binding '${b.target}': unsupported resultSelector ${b.resultSelector}`);
    items = JSONPath({ path: m[1]!, json: body as object, wrap: true }) as unknown[];
  }
  return items.map((item) => {
    const v = b.resultTemplate ? JSON.parse(render(b.resultTemplate, item)) : item;
    if (typeof v?.Value !== 'string' || typeof v?.DisplayValue !== 'string') throw new Error(`binding '${b.target}': template gave ${JSON.stringify(v)}`);
    return v as PickerValue;
  });
}

/** Bindings without endpointUrl (artifactSourceDefinitionUrl / artifactSourceVersionUrl): the template only. */
export function renderUrlBinding(type: ArtifactType, target: string, inputs: Record<string, string>, endpoint: Endpoint, version?: string): string {
  const b = bindingFor(type, target);
  if (b.endpointUrl || !b.resultTemplate) throw new Error(`binding '${target}' is not a template-only binding`);
  const v = JSON.parse(render(b.resultTemplate, { ...inputs, endpoint: { url: endpoint.url, ...endpoint.data }, ...(version ? { version } : {}) }));
  if (typeof v?.Url !== 'string') throw new Error(`binding '${target}': template gave ${JSON.stringify(v)}`);
  return v.Url;
}

/** The artifact's sourceId in a release definition: uniqueSourceIdentifier rendered over the inputs. */
export function renderSourceId(type: ArtifactType, inputs: Record<string, string>): string {
  return render(type.uniqueSourceIdentifier, inputs);
}

/** The artifact as linked in a release definition: input values and their display values. */
export interface LinkedArtifact { alias: string; inputs: Record<string, string>; display?: Record<string, string> }

/**
 * The version a new release gets: latestType → the latestVersion binding; specificVersionType → defaultVersionSpecific;
 * selectDuringReleaseCreationType → `chosen` (which must be one of the versions binding's values).
 */
export async function releaseVersion(type: ArtifactType, a: LinkedArtifact, endpoint: Endpoint, chosen?: string): Promise<PickerValue> {
  const dvt = a.inputs.defaultVersionType ?? type.inputDescriptors.find((d) => d.id === 'defaultVersionType')?.values?.defaultValue;
  if (dvt === 'latestType') {
    const r = await evaluateBinding(type, 'latestVersion', a.inputs, endpoint);
    if (!r.values.length) throw new Error(`no latest version of ${a.inputs.definition}`);
    return r.values[0]!;
  }
  const wanted = dvt === 'specificVersionType' ? a.inputs.defaultVersionSpecific : chosen;
  if (!wanted) throw new Error(`defaultVersionType ${dvt}: no version chosen`);
  const all = await evaluateBinding(type, 'versions', a.inputs, endpoint);
  const hit = all.values.find((v) => v.Value === wanted);
  if (!hit) throw new Error(`version ${wanted} is not among the versions offered (${all.values.map((v) => v.Value).join(', ')})`);
  return hit;
}

/**
 * Release variables the server sets for the artifact, by their variable names (runBundledTask turns them into the
 * environment the way the agent does — VarUtil.ConvertToEnvVariableFormat: '.' and ' ' → '_', upper-cased, anything
 * else kept — so alias `_churn-model` gives RELEASE_ARTIFACTS__CHURN-MODEL_DEFINITIONNAME, hyphen and all):
 * Release.Artifacts.{alias}.* (DefinitionName = display value of `definition`, DefinitionId = its value, BuildNumber =
 * display value of the version, BuildId = its value, Type = the artifact type's name, Alias) and, for the primary
 * artifact, Build.BuildNumber / Build.BuildId / Build.DefinitionName / Release.PrimaryArtifactSourceAlias.
 */
export function releaseVariables(type: ArtifactType, a: LinkedArtifact, version: PickerValue, primary = true): Record<string, string> {
  const k = `Release.Artifacts.${a.alias}`;
  const defName = a.display?.definition ?? a.inputs.definition!;
  const vars: Record<string, string> = {
    [`${k}.Alias`]: a.alias,
    [`${k}.Type`]: type.name,
    [`${k}.DefinitionId`]: a.inputs.definition!,
    [`${k}.DefinitionName`]: defName,
    [`${k}.BuildId`]: version.Value,
    [`${k}.BuildNumber`]: version.DisplayValue,
  };
  if (primary) {
    Object.assign(vars, {
      'Release.PrimaryArtifactSourceAlias': a.alias,
      'Build.BuildId': version.Value,
      'Build.BuildNumber': version.DisplayValue,
      'Build.DefinitionName': defName,
    });
  }
  return vars;
}

/** The environment variable the agent gives a task for a variable (VarUtil.ConvertToEnvVariableFormat). */
export const agentEnvName = (variable: string): string => variable.replace(/[. ]/g, '_').toUpperCase();

/** Inputs of the injected download task: every artifact input by id + version, downloadPath, itemPattern. */
export function injectedTaskInputs(a: LinkedArtifact, version: PickerValue, downloadPath: string, itemPattern = '**'): Record<string, string> {
  return { ...a.inputs, version: version.Value, downloadPath, itemPattern };
}

/** Checks the injected task can take every artifact input: each connectedService input of the task is an artifact input. */
export function downloadTaskJson(type: ArtifactType, root = REPO_ROOT): { folder: string; task: any } {
  for (const folder of fs.readdirSync(path.join(root, 'tasks'))) {
    const f = path.join(root, 'tasks', folder, 'task.json');
    if (!fs.existsSync(f)) continue;
    const task = JSON.parse(fs.readFileSync(f, 'utf8'));
    if (String(task.id).toLowerCase() === type.downloadTaskId.toLowerCase()) return { folder, task };
  }
  throw new Error(`no task with id ${type.downloadTaskId}`);
}

/** The release the injected download runs in (defaults: release 17 of definition model-cd, stage staging). */
export interface ReleaseInfo { releaseId?: string; releaseName?: string; definitionName?: string; environmentName?: string }

/** Runs the injected download task as the agent would in a release deploy job. */
export async function runInjectedDownload(box: AzureInABox, type: ArtifactType, a: LinkedArtifact, version: PickerValue,
  opts: { downloadPath: string; itemPattern?: string; extra?: Partial<RunOptions> } & ReleaseInfo): Promise<TaskRunWithLeaks & { inputs: Record<string, string>; variables: Record<string, string> }> {
  const { task } = downloadTaskJson(type);
  const inputs = injectedTaskInputs(a, version, opts.downloadPath, opts.itemPattern);
  const releaseId = opts.releaseId ?? '17';
  const variables: Record<string, string> = {
    ...releaseVariables(type, a, version),
    'System.HostType': 'release',
    'Release.ReleaseId': releaseId,
    'Release.ReleaseName': opts.releaseName ?? `Release-${releaseId}`,
    'Release.DefinitionName': opts.definitionName ?? 'model-cd',
    'Release.EnvironmentName': opts.environmentName ?? 'staging',
    'Release.ReleaseWebUrl': `${box.collectionUri}${box.projectName}/_releaseProgress?releaseId=${releaseId}`,
  };
  const r = await runBundledTask(task.name, { box, inputs, variables, timeoutMs: 60_000, ...opts.extra });
  return Object.assign(r, { inputs, variables });
}
