// Evaluates the "Azure ML model" release artifact contribution (vss-extension.json, id azureml-model-artifact) the
// way Azure DevOps does, against Azure-in-a-box. It models three parties, each after its own source:
//
//  SERVER  the template engine, the data-source call and the artifact-type logic of the release server;
//  EDITOR  the classic release editor's artifact panel (which inputs it queries, when it clears them, what it shows);
//  RELEASE what a release keeps of the artifact and what the injected download task receives.
//
// Sources (S1…S9 are cited at each rule below):
//  S1 Azure DevOps Server 2022 assemblies, decompiled: github.com/mjwrona/decompiled @ 6cd51e1fd4d5f7aaeda49f5ed5157a96d644c2db
//     source/Microsoft.VisualStudio.Services.WebApi/VisualStudio/Services/WebApi/{MustacheExpression,MustacheTemplatedExpression,
//     MustacheAggregateExpression,MustacheTemplateParser,MustacheOptions,MustacheEncodeMethods}.cs (the template language)
//  S2 same repo, source/Microsoft.VisualStudio.Services.ServiceEndpoints.Common/{MustacheTemplateEngine,MustacheTemplateHelpers,
//     EndpointMustacheHelper,ResponseSelector,JsonPathResponseSelector}.cs (helpers, replacement context, paging templates, 2 MB)
//  S3 same repo, source/Microsoft.Azure.DevOps.ServiceEndpoints.Server/PlatformServiceEndpointProxyService.cs (URL rendering,
//     '//' collapsing, trusted host)
//  S4 same repo, source/Microsoft.TeamFoundation.DistributedTask.Orchestration.Server/Orchestration/Server/Artifacts/
//     {CustomArtifact,ServiceEndpointHelper,WellKnownArtifactInputs}.cs (input values of an extension artifact type, links)
//  S5 same repo, source/Microsoft.VisualStudio.Services.ReleaseManagement2.Server/Builders/ReleaseBuilderBase.cs
//     (PopulateArtifactData: what a release keeps) and source/Microsoft.VisualStudio.Services.WebApi/VisualStudio/
//     Services/FormInput/InputDescriptor.cs (no VisibleRule member)
//  S6 the release editor's TypeScript (modules PipelineWorkflow/Scripts/Editor/Artifact/{ArtifactTypeActionCreator,
//     ArtifactTypeStore,InputDependencyManager,ArtifactInputBase,ArtifactComboInput}.ts and PipelineWorkflow/Scripts/
//     Editor/Common/Constants.ts), as held by the code index of this workplace (read_file ids 37584549087, 37533209532,
//     37323601425, 37005155384, 37734785036, 37316361398); the index does not name the repository.
//  S7 github.com/microsoft/azure-pipelines-extensions @ c383f3f13300064897f849285a5dc43a8f5feece: docs/authoring/
//     artifactextension.md, Extensions/{TeamCity,ExternalTfs,BitBucket}/Src/vss-extension.json
//  S8 github.com/jfrog/jfrog-azure-devops-extension @ 7768d6c4e604a6cc6fc54606a4ca22795cdf9fd3: vss-extension.json
//  S9 the azurerm endpoint type's data sources as returned by /_apis/serviceendpoint/types (reproduced in a published
//     write-up, code index id 52124898652): AKS paging uses {{isTokenPresent response.nextLink}} and
//     {{#getTokenValue response.nextLink}}{{extractUrlQueryParamKeyValue %24skiptoken,skipToken}}{{/getTokenValue}}.
// S1–S5 are Azure DevOps *Server* 2022 (19.0); Azure DevOps Services runs the same code base, but that is an
// ASSUMPTION where a rule could differ in the cloud.
//
// mustache.js is not used any more: the server's engine differs from it in name lookup (no walk up the context stack),
// sections over scalars, helpers, "True"/"False" and encoding, so the engine below is written after S1/S2.
//
// Decisions recorded in the contribution (vss-extension.json, id azureml-model-artifact), following the rules below:
//  - artifactType "Package" (a registered model is a named, versioned, immutable package): not "Build", for which the
//    server would use its own build-artifact download instead of downloadTaskId.
//  - One page per picker (E5): the model list asks for count=500 (the server sorts it by name, A3); the version lists
//    ask for $top=500, newest first ($orderBy=createdtime desc, kept in order, A3). ASSUMPTION: the service honours
//    count/$top of 500 — the 2022-10-01 swagger states no maximum; 500 items stay far below the 2,097,152-character
//    limit (D3; about 700 characters per version here). A service that returns fewer still pages by nextLink.
//  - Searchable model and version pickers (E6): with `name` set, the model binding GETs …/models/{name} (exact,
//    case-sensitive; a partial name is a 404 and finds nothing) and the version bindings filter with version={name}.
//    ASSUMPTION: when the editor sends the search (per keystroke or on Enter) is not in the sources read.
//  - Paging templates read the page (D6): callbackRequiredTemplate {{isTokenPresent response.nextLink}}, the context
//    carries the whole nextLink (provider-agnostic: ARM resource groups page with $skiptoken, Azure ML with $skip),
//    and endpointUrl writes {{{nextLink}}} inside {{#nextLink}} (a root name, T2/T3) — never {{{.}}}.
//  - Links are bare URLs on ml.azure.com (A6); sovereign-cloud studio hosts are not derived.
//  - No dependencyInputIds on defaultVersionType (E2/E3); visibleRule in properties (E7); connection as first-party
//    types declare it (S7/S8).
//  - Source (issue 13): `sourceType` (workspace | registry, default workspace, limited to its values) shows either
//    resourceGroup+workspace or registryResourceGroup+registry (E7). Those four are not isRequired: a hidden required
//    input that is empty is invalid (E8 `invalid`), and E2 posts a dependent's query only when every dependency is
//    valid, so a required hidden workspace would keep the registry's model picker from ever being asked. The model is
//    still required, and its picker lists only what the chosen workspace or registry holds. The model/version
//    bindings switch their URL with {{#equals sourceType 'registry'}} / {{#notEquals …}} (S1 helpers); a definition
//    saved before sourceType existed has none, so it renders the workspace URL as before. Registry lists use
//    2024-04-01 (test/fixtures/third-party/azure-rest-api-specs/2024-04-01/mfe.json: registry model list takes only
//    $skip/listViewType, so no count=500; versions take $orderBy/$top/version like the workspace's). sourceId is
//    unchanged for a workspace artifact; a registry one is `{conn}:registry:{rg}:{registry}:{model}`. ASSUMPTION:
//    the server renders uniqueSourceIdentifier with the same helpers as data sources. ASSUMPTION (not verified in
//    any source read): studio's registry model pages are ml.azure.com/registries/{r}/models/{m}/version/{v}.
//    The injected download task receives `sourceType` as an input (R3: inputs by id) and, for registry, only
//    resolves (ARM has no read SAS for registry model files).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { JSONPath } from 'jsonpath-plus';
import { ClientSecretCredential } from '@azure/identity';
import type { AzureInABox } from '../emulator';
import { REPO_ROOT, runBundledTask, type RunOptions, type TaskRunWithLeaks } from './agent';

// ================================================================================================================
// Manifest types
// ================================================================================================================

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
export interface InputValue {
  value: string;
  displayValue?: string;
  data?: Record<string, unknown>;
}
export interface InputDescriptor {
  id: string;
  name: string;
  description?: string;
  inputMode?: string;
  type?: string;
  dependencyInputIds?: string[];
  hasDynamicValueInformation?: boolean;
  properties?: Record<string, unknown>;
  /** not a member of the server's InputDescriptor (S5): kept here only so tests can show it is ignored */
  visibleRule?: string;
  values?: {
    inputId?: string;
    defaultValue?: string;
    isLimitedToPossibleValues?: boolean;
    possibleValues?: InputValue[];
  };
  validation?: { isRequired?: boolean; dataType?: string; maxLength?: number };
}
export interface ArtifactType {
  name: string;
  displayName: string;
  endpointTypeId: string;
  artifactType: string;
  uniqueSourceIdentifier: string;
  downloadTaskId: string;
  inputDescriptors: InputDescriptor[];
  dataSourceBindings: DataSourceBinding[];
}

/** The artifact type from vss-extension.json (a repository root, or a manifest file). */
export function loadArtifactType(rootOrManifest: string = REPO_ROOT): ArtifactType {
  const file = rootOrManifest.endsWith('.json') ? rootOrManifest : path.join(rootOrManifest, 'vss-extension.json');
  const ext = JSON.parse(fs.readFileSync(file, 'utf8'));
  const c = (ext.contributions ?? []).find((x: any) => x.type === 'ms.vss-releaseartifact.release-artifact-type');
  if (!c) throw new Error(`${file} has no ms.vss-releaseartifact.release-artifact-type contribution`);
  // the server deserializes inputDescriptors into its InputDescriptor contract, which has no visibleRule member (S5):
  // a top-level visibleRule does not survive; only properties.visibleRule does
  const type = structuredClone(c.properties) as ArtifactType;
  for (const d of type.inputDescriptors ?? []) delete d.visibleRule;
  return type;
}

// ================================================================================================================
// SERVER: the template language (S1, S2)
// ================================================================================================================
//  T1 `{{x}}` writes x HTML-encoded, `{{{x}}}` writes it as is (MustacheExpression.Parse: encode = two braces;
//     MustacheOptions.EncodeMethod defaults to HtmlEncode). Which characters UriUtility.HtmlEncode escapes is an
//     ASSUMPTION: & < > " ' here.
//  T2 A name is looked up in the CURRENT context only (MustacheAggregateExpression.GetCurrentJToken →
//     JToken.SelectToken(dotted path)); there is no walk up to enclosing contexts as in mustache.js. `.`/`this` is the
//     current context, `../x` the parent's, `@root.x` the root's, `@index`/`@first`/`@last` in a loop.
//  T3 `{{#x}}…{{/x}}`: falsy x (null, missing, "", 0, false, empty array) renders nothing; an array renders the body
//     per item (item as context); an OBJECT becomes the context; any other truthy value (a string, a number, true)
//     renders the body with the context UNCHANGED — `.` is not the string (MustacheTemplatedExpression.EvaluateInternal).
//  T4 `{{^x}}` renders when x is falsy. `{{else}}` inside a block renders when the block wrote nothing.
//  T5 A value is written as JToken.ToString(): strings as is, booleans "True"/"False", numbers invariant, objects and
//     arrays as indented JSON (ASSUMPTION: JSON.stringify(v, null, 2) stands in for Newtonsoft's formatting).
//  T6 `{{name args}}` (a space in the tag) must name a registered helper, else the template is invalid
//     (MustacheTemplateMissingHelper) and the data-source call fails. A helper returning a value writes value.ToString()
//     unencoded (MustacheTemplateParser.RegisterHelper).
//  T7 Helpers (MustacheTemplateEngine.RegisterHelpers, MustacheTemplateHelpers, HandleBarBuiltinHelpers,
//     CommonMustacheHelpers) modelled here: isTokenPresent, getTokenValue, extractUrlQueryParameter,
//     extractUrlQueryParamKeyValue, toLower, #if, #unless, #each, #with, #equals, #notEquals. Others the server has
//     (#regex, #jsonEscape, #subString, #stringReplace, selectMaxOfLong, …) are registered as "not modelled" and
//     throw, so a template that uses one fails here rather than pass untested.
//     - isTokenPresent <path>: "True" when the token exists — also when it is JSON null (ToJToken(JValue null) is not
//       a null reference), so `"nextLink": null` counts as present.
//     - #getTokenValue <path>: renders its body with the token's string value as the context (null/missing: "").
//     - extractUrlQueryParameter <keys>: with one argument the URL is the current context (inside getTokenValue);
//       `keys` is a comma list, each tried as written and URL-decoded (so %24skipToken finds $skipToken); the value is
//       returned as it stands in the URL (not decoded). extractUrlQueryParamKeyValue returns "key=value" instead.

export class TemplateError extends Error {}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'comment' }
  | {
      kind: 'tag';
      expr: string;
      helper?: string;
      encode: boolean;
      block: boolean;
      inverted: boolean;
      children: Node[];
      elseOf?: Node & { kind: 'tag' };
      closeName?: string;
    };

const HELPERS_MODELLED = [
  'isTokenPresent',
  'getTokenValue',
  'extractUrlQueryParameter',
  'extractUrlQueryParamKeyValue',
  'toLower',
  'if',
  'unless',
  'each',
  'with',
  'equals',
  'notEquals',
];
const HELPERS_NOT_MODELLED = [
  '#jsonEscape',
  '#regex',
  '#stringReplace',
  '#subString',
  '#extractResource',
  '#base64',
  '#decodeBase64',
  'selectMaxOfLong',
  'splitAndIterate',
  'recursiveFormat',
  'addField',
  'recursiveSelect',
  'splitAndPrefix',
  'extractNumbersAndSort',
  'joinPaths',
  'removePrefixFromPath',
  'copyFieldFromParent',
  'selectTokens',
  'sortBy',
  'add',
  'isEqualNumber',
  'endsWith',
  'toCommaSeparatedKeyValueList',
  'getFileContent',
  'toLowerInvariant',
  'shortGuid',
  'lookup',
  'contains',
  'stringLeft',
  'stringRight',
  'arrayLength',
  'date',
  'stringFormat',
  'stringPadLeft',
  'stringPadRight',
  'stringLower',
  'and',
  'or',
  'stringContains',
];
const isHelper = (n: string) =>
  [...HELPERS_MODELLED, ...HELPERS_NOT_MODELLED].some((h) => h.toLowerCase() === n.toLowerCase());

function parseTemplate(template: string): Node[] {
  const root: Node[] = [];
  const stack: Array<Node & { kind: 'tag' }> = [];
  const out = () => (stack.length ? stack[stack.length - 1]!.children : root);
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{{', i);
    if (open < 0) {
      out().push({ kind: 'text', text: template.slice(i) });
      break;
    }
    if (open > i) out().push({ kind: 'text', text: template.slice(i, open) });
    const triple = template[open + 2] === '{';
    const close = template.indexOf(triple ? '}}}' : '}}', open + (triple ? 3 : 2));
    if (close < 0) throw new TemplateError(`missing closing braces in '${template.slice(open, open + 40)}'`);
    // '#', '^' and '/' count only as the tag's first character: `{{ #regex x}}` (as ExternalTfs writes it) is the
    // helper "#regex", not a block (MustacheExpression.Parse tests StartsWith before trimming)
    const raw = template.slice(open + (triple ? 3 : 2), close);
    let body = raw.trim();
    i = close + (triple ? 3 : 2);
    if (body.startsWith('!')) {
      out().push({ kind: 'comment' });
      continue;
    }
    if (body.startsWith('/')) {
      const name = body.slice(1).trim();
      const top = stack.pop();
      if (!top) throw new TemplateError(`'{{${body}}}' closes no block`);
      const matches = (t: Node & { kind: 'tag' }) =>
        [t.expr, t.helper].some((x) => x !== undefined && x.toLowerCase() === name.toLowerCase());
      if (!matches(top) && !(top.elseOf && matches(top.elseOf)))
        throw new TemplateError(`'{{${body}}}' does not close '{{#${top.helper ? top.helper + ' ' : ''}${top.expr}}}'`);
      continue;
    }
    if (body.toLowerCase() === 'else' && stack.length) {
      const src = stack.pop()!;
      const node: Node = {
        kind: 'tag',
        expr: src.expr,
        helper: src.helper,
        encode: src.encode,
        block: true,
        inverted: !src.inverted,
        children: [],
        elseOf: src,
      };
      out().push(node);
      stack.push(node);
      continue;
    }
    let block = false,
      inverted = false;
    if (raw.startsWith('#')) {
      block = true;
      body = raw.slice(1).trim();
    } else if (raw.startsWith('^')) {
      block = true;
      inverted = true;
      body = raw.slice(1).trim();
    }
    const node: Node & { kind: 'tag' } = { kind: 'tag', expr: body, encode: !triple, block, inverted, children: [] };
    const sp = body.indexOf(' ');
    if (sp >= 0) {
      const h = body.slice(0, sp);
      // T6: a space means a helper call ("#regex" etc. are registered with their '#')
      if (!isHelper(h)) throw new TemplateError(`helper '${h}' is not registered ('{{${body}}}')`);
      node.helper = h;
      node.expr = body.slice(sp + 1);
    } else if (!body.startsWith('.') && !body.startsWith('this') && isHelper(body)) {
      node.helper = body;
      node.expr = '';
    }
    out().push(node);
    if (block) stack.push(node);
  }
  if (stack.length) throw new TemplateError(`block '{{#${stack[stack.length - 1]!.expr}}}' is not closed`);
  return root;
}

interface Ctx {
  obj: unknown;
  parent?: Ctx;
  index?: number;
  count?: number;
}

/** JToken.SelectToken over a dotted path ("a.b", "a[0].b", "['x-y']"); undefined when absent (T2). */
function selectToken(obj: unknown, selector: string): unknown {
  const parts: Array<string | number> = [];
  const re = /\[(\d+)\]|\['([^']*)'\]|([^.[\]]+)/g;
  for (const m of selector.matchAll(re)) parts.push(m[1] !== undefined ? Number(m[1]) : (m[2] ?? m[3])!);
  let cur: any = obj;
  for (const p of parts) {
    if (cur === null || cur === undefined || typeof cur !== 'object') return undefined;
    cur = Array.isArray(cur)
      ? typeof p === 'number'
        ? cur[p]
        : undefined
      : typeof p === 'number'
        ? undefined
        : cur[p];
  }
  return cur;
}

function lookup(selector: string, ctx: Ctx): unknown {
  if (!selector || ctx.obj === undefined || ctx.obj === null) return undefined;
  let c = ctx;
  let sel: string | null = selector;
  if (sel.startsWith('@root') && (sel.length === 5 || sel[5] === '.' || sel[5] === '/')) {
    while (c.parent) c = c.parent;
    sel = sel.length === 5 ? null : sel.slice(6);
  } else {
    while (sel.startsWith('..') && c.parent) {
      c = c.parent;
      sel = sel.slice(2).replace(/^\/+/, '');
    }
    if (sel === '.' || sel === 'this') sel = null;
    else if (sel === '@index') return String(c.index ?? 0);
    else if (sel === '@first') return (c.index ?? 0) === 0;
    else if (sel === '@last') return (c.index ?? 0) === (c.count ?? 0) - 1;
    else if (sel.startsWith('./')) sel = sel.slice(2);
    else if (sel.startsWith('this/') || sel.startsWith('this.')) sel = sel.slice(5);
  }
  return sel ? selectToken(c.obj, sel) : c.obj;
}

/** IsTokenTruthy (T3). */
function truthy(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v !== '';
  if (typeof v === 'boolean') return v;
  return true;
}

/** JToken.ToString() (T5). */
export function tokenToString(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  return JSON.stringify(v, null, 2);
}

const htmlEncode = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** Query parameters of a URL as the helpers read them: raw (still encoded) key → raw value, split on the first '='. */
function rawQuery(url: string): Array<[string, string, string]> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TemplateError(`extractUrlQueryParameter: '${url}' is not an absolute URI`);
  }
  const q = url.includes('?') ? url.slice(url.indexOf('?') + 1).split('#')[0]! : '';
  void u;
  return q.split('&').map((kv) => {
    const i = kv.indexOf('=');
    return [i < 0 ? kv : kv.slice(0, i), i < 0 ? '' : kv.slice(i + 1), kv];
  });
}
function findQueryParam(url: string, keys: string, whole: boolean): string {
  const pairs = rawQuery(url);
  for (const key of keys.trim().split(',')) {
    let hit = pairs.find(([k]) => k === key);
    if (!hit) {
      let dec = key;
      try {
        dec = decodeURIComponent(key.replace(/\+/g, ' '));
      } catch {
        /* as is */
      }
      hit = pairs.find(([k]) => k === dec);
    }
    const v = hit ? (whole ? hit[2] : hit[1]) : '';
    if (v) return v;
  }
  return '';
}

function evalNodes(nodes: Node[], ctx: Ctx): string {
  let s = '';
  const wrote = new Map<Node, boolean>();
  for (const n of nodes) {
    const part = evalNode(n, ctx, wrote);
    wrote.set(n, part.length > 0);
    s += part;
  }
  return s;
}

function evalNode(n: Node, ctx: Ctx, wrote: Map<Node, boolean>): string {
  if (n.kind === 'text') return n.text;
  if (n.kind === 'comment') return '';
  if (n.elseOf) return wrote.get(n.elseOf) ? '' : evalNodes(n.children, ctx);
  if (n.helper) return evalHelper(n, ctx);
  const v = lookup(n.expr, ctx);
  if (n.inverted) return truthy(v) ? '' : evalNodes(n.children, ctx);
  if (!n.block) {
    const s = tokenToString(v);
    return n.encode ? htmlEncode(s) : s;
  }
  if (!truthy(v)) return '';
  if (Array.isArray(v))
    return v.map((item, index) => evalNodes(n.children, { obj: item, parent: ctx, index, count: v.length })).join('');
  if (typeof v === 'object') return evalNodes(n.children, { obj: v, parent: ctx });
  return evalNodes(n.children, ctx); // T3: a string/number/true does not become the context
}

function evalHelper(n: Node & { kind: 'tag' }, ctx: Ctx): string {
  const args = n.expr
    .trim()
    .split(' ')
    .filter((a) => a !== '');
  const name = n.helper!.replace(/^#/, '').toLowerCase();
  switch (name) {
    case 'istokenpresent':
      return lookup(args[0] ?? '', ctx) !== undefined ? 'True' : 'False';
    case 'gettokenvalue': {
      const v = lookup(args[0] ?? '', ctx);
      if (v === undefined) return '';
      return evalNodes(n.children, { obj: v === null ? null : tokenToString(v), parent: ctx });
    }
    case 'extracturlqueryparameter':
    case 'extracturlqueryparamkeyvalue': {
      const whole = name === 'extracturlqueryparamkeyvalue';
      if (args.length === 0) return '';
      const url =
        args.length === 1 ? (ctx.obj === null || ctx.obj === undefined ? null : tokenToString(ctx.obj)) : args[0]!;
      if (url === null)
        throw new TemplateError(`${n.helper}: no URL in the current context (NullReferenceException on the server)`);
      return findQueryParam(url, args.length === 1 ? args[0]! : args[1]!, whole);
    }
    case 'tolower':
      return tokenToString(lookup(args[0] ?? '', ctx)).toLowerCase();
    case 'if':
    case 'unless': {
      const t = truthy(lookup(args[0] ?? '', ctx));
      return (name === 'if' ? t : !t) !== n.inverted ? evalNodes(n.children, ctx) : '';
    }
    case 'with': {
      const v = lookup(args[0] ?? '', ctx);
      return truthy(v) ? evalNodes(n.children, { obj: v, parent: ctx }) : '';
    }
    case 'each': {
      const v = lookup(args[0] ?? '', ctx);
      if (Array.isArray(v))
        return v
          .map((item, index) => evalNodes(n.children, { obj: item, parent: ctx, index, count: v.length }))
          .join('');
      if (v && typeof v === 'object') {
        const e = Object.values(v);
        return e
          .map((item, index) => evalNodes(n.children, { obj: item, parent: ctx, index, count: e.length }))
          .join('');
      }
      return '';
    }
    case 'equals':
    case 'notequals': {
      const [a, b] = args.map((x) => (/^'.*'$|^".*"$/.test(x) ? x.slice(1, -1) : tokenToString(lookup(x, ctx))));
      return ((a === b) === (name === 'equals')) !== n.inverted ? evalNodes(n.children, ctx) : '';
    }
    default:
      throw new TemplateError(`helper '${n.helper}' is registered on the server but not modelled by this harness`);
  }
}

/** Renders a template the way the server's MustacheTemplateEngine.EvaluateTemplate does (T1–T7). */
export function renderTemplate(template: string, context: unknown): string {
  return evalNodes(parseTemplate(template), { obj: context });
}

// ================================================================================================================
// SERVER: a data-source call (S2, S3, S4)
// ================================================================================================================
//  D1 The replacement context (EndpointMustacheHelper.CreateReplacementContext) is
//     { endpoint: {<connection data without confidential keys>, url: <connection URL, absolute>}, configuration,
//       system: {teamProject}, systemWhiteListedUrlList, <every request parameter at the root>,
//       <keys of initialContextTemplate not given as parameters, with their initial values> }.
//     Inputs of the artifact are request parameters, so `{{{workspace}}}` is a root name.
//  D2 The URL is endpointUrl rendered over that context; then every '//' not after ':' becomes '/' (S3).
//     The call goes to the connection's host with the connection's credential (S3 IsTrustedHost; the harness
//     refuses any other origin — ASSUMPTION that azurerm declares its trusted hosts).
//  D3 The response is read up to 2,097,152 characters; longer is an error (JsonPathResponseSelector).
//  D4 resultSelector is itself rendered over the context first, then applied as JSONPath ("jsonpath:<path>").
//  D5 resultTemplate is rendered per selected item over the item MERGED INTO the context (item keys replace root
//     keys of the same name; root keys stay reachable: EndpointMustacheHelper.GetMergedContext); a scalar item becomes
//     {defaultResultKey: item}. Identical rendered strings are kept once (Distinct). Each string is read as an
//     InputValue (lenient JSON: Newtonsoft also takes { Value : "x" }).
//  D6 callbackRequiredTemplate is rendered over {result: {count}} + {headers} + {response: <body>} merged into the
//     context and read with bool.TryParse ("True"/"true"); callbackContextTemplate over {headers} + {response} + context
//     and read as a string dictionary (ResponseSelector.ApplyCallbackRequiredTemplate / ApplyContextTemplate). The
//     page is `response.*`: a bare `{{nextLink}}` in these templates is the request parameter, not the page.
//  D7 One request per call. The proxy returns callbackRequired and the callback context; the artifact type copies
//     them into the query's currentValues ("callbackRequired" = "True"/"False", plus the context keys) for the caller
//     to post again (ServiceEndpointHelper). Whether anyone posts again is the editor's business (E5).

/** The server's limit on a data-source response, in characters (D3). */
export const MAX_RESPONSE_CHARS = 2_097_152;
/** @deprecated name kept for callers: the same limit. */
export const MAX_RESPONSE_BYTES = MAX_RESPONSE_CHARS;

/** The service connection as the server sees it. */
export interface Endpoint {
  id: string;
  name: string;
  url: string;
  data: Record<string, string>;
  /** the authorization scheme: ServicePrincipal, WorkloadIdentityFederation or ManagedServiceIdentity */
  scheme: string;
  authorization(): Promise<string>;
}

/** The box's AzureRM connection (service principal with secret), tokens from the box's Entra for the ARM audience. */
export function boxEndpoint(box: AzureInABox): Endpoint {
  const cred = new ClientSecretCredential(box.tenantId, box.clientId, box.clientSecret, {
    authorityHost: box.authorityHost,
    disableInstanceDiscovery: true,
  });
  const scope = `${box.audience.replace(/\/+$/, '')}/.default`;
  return {
    id: 'conn-secret',
    name: 'Azure-in-a-box',
    scheme: 'ServicePrincipal',
    url: box.armUrl,
    data: {
      subscriptionId: box.subscriptionId,
      subscriptionName: 'Azure-in-a-box',
      environment: 'AzureCloud',
      scopeLevel: 'Subscription',
    },
    authorization: async () => `Bearer ${(await cred.getToken(scope))!.token}`,
  };
}

/** D1 */
export function replacementContext(
  endpoint: Endpoint | undefined,
  parameters: Record<string, string>,
  initialContextTemplate?: string,
): Record<string, unknown> {
  const ctx: Record<string, unknown> = {};
  if (endpoint) ctx.endpoint = { ...endpoint.data, url: new URL(endpoint.url).href };
  ctx.configuration = null;
  ctx.system = { teamProject: '00000000-0000-0000-0000-000000000000' };
  ctx.systemWhiteListedUrlList = endpoint ? [new URL(endpoint.url).href] : [];
  let initial: Record<string, string> = {};
  if (initialContextTemplate)
    initial = JSON.parse(renderTemplate(initialContextTemplate, { system: { utcNow: new Date().toISOString() } }));
  for (const [k, v] of Object.entries(parameters)) ctx[k] = v;
  for (const [k, v] of Object.entries(initial)) if (!(k in parameters)) ctx[k] = v;
  return ctx;
}

/** D5: result keys replace root keys of the same name. */
export function mergedContext(result: unknown, ctx: Record<string, unknown>): Record<string, unknown> {
  const r =
    result !== null && typeof result === 'object' && !Array.isArray(result)
      ? (result as Record<string, unknown>)
      : { defaultResultKey: tokenToString(result) };
  const out: Record<string, unknown> = { ...ctx };
  for (const [k, v] of Object.entries(r)) {
    delete out[k];
    out[k] = v;
  }
  return out;
}

/** Newtonsoft-lenient InputValue: accepts unquoted keys (`{ Value : "x" }`). */
function readInputValue(s: string, target: string): InputValue {
  let o: any;
  try {
    o = JSON.parse(s);
  } catch {
    try {
      o = JSON.parse(s.replace(/([{,]\s*)([A-Za-z_][A-Za-z0-9_]*)\s*:/g, '$1"$2":'));
    } catch {
      throw new Error(`binding '${target}': result '${s}' is not an InputValue`);
    }
  }
  const get = (k: string) => o?.[Object.keys(o ?? {}).find((x) => x.toLowerCase() === k) ?? ''];
  return {
    value: String(get('value') ?? ''),
    displayValue: get('displayvalue') === undefined ? undefined : String(get('displayvalue')),
    data: get('data'),
  };
}

export interface DataSourceCall {
  url: string;
  responseChars: number;
  values: InputValue[];
  callbackRequired: boolean;
  callbackContext: Record<string, string>;
}

export function bindingFor(type: ArtifactType, target: string): DataSourceBinding | undefined {
  // CustomArtifact.GetDataSourceBindingForInput: target compared ignoring case (S4)
  return type.dataSourceBindings.find((b) => b.target.toLowerCase() === target.toLowerCase());
}

/** One call of a data-source binding with endpointUrl, as the server makes it (D1–D7). */
export async function callDataSource(
  b: DataSourceBinding,
  parameters: Record<string, string>,
  endpoint: Endpoint,
): Promise<DataSourceCall> {
  if (!b.endpointUrl) throw new Error(`binding '${b.target}' has no endpointUrl`);
  const ctx = replacementContext(endpoint, parameters, b.initialContextTemplate);
  const url = renderTemplate(b.endpointUrl, ctx).replace(/(?<!:)\/\//g, '/');
  if (new URL(url).origin !== new URL(endpoint.url).origin)
    throw new Error(`binding '${b.target}' rendered a URL outside the connection's host: ${url}`);
  const res = await fetch(url, {
    headers: { authorization: await endpoint.authorization(), accept: 'application/json' },
  });
  const text = await res.text();
  if (text.length > MAX_RESPONSE_CHARS)
    throw new Error(
      `binding '${b.target}': response of ${text.length} characters exceeds the server's limit of ${MAX_RESPONSE_CHARS}`,
    );
  if (!res.ok) throw new Error(`binding '${b.target}': HTTP ${res.status} from ${url}: ${text.slice(0, 300)}`);
  const body = JSON.parse(text);
  const selector = b.resultSelector ? renderTemplate(b.resultSelector, ctx) : '';
  let items: unknown[];
  if (!selector) items = [body];
  else {
    const m = /^jsonpath:(.+)$/.exec(selector);
    if (!m) throw new Error(`binding '${b.target}': unsupported resultSelector ${selector}`);
    items = JSONPath({ path: m[1]!, json: body as object, wrap: true }) as unknown[];
  }
  const strings = b.resultTemplate
    ? items.map((item) => renderTemplate(b.resultTemplate!, mergedContext(item, ctx)))
    : items.map((i) => tokenToString(i));
  const values = [...new Set(strings)].map((s) => readInputValue(s, b.target));
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    headers[k] = v;
  });
  const withPage = mergedContext({ response: body }, ctx);
  let callbackRequired = false;
  if (b.callbackRequiredTemplate) {
    const r = renderTemplate(
      b.callbackRequiredTemplate,
      mergedContext({ result: { count: String(values.length) } }, mergedContext({ headers }, withPage)),
    ).trim();
    callbackRequired = /^true$/i.test(r);
  }
  const callbackContext: Record<string, string> = b.callbackContextTemplate
    ? JSON.parse(renderTemplate(b.callbackContextTemplate, mergedContext({ headers }, withPage)))
    : {};
  return { url, responseChars: text.length, values, callbackRequired, callbackContext };
}

// ================================================================================================================
// SERVER: the artifact type's input values (S4 CustomArtifact)
// ================================================================================================================
//  A1 `connection` (or an input whose type is connectedService:X) lists the project's connections of the type's
//     endpointTypeId; no binding is involved.
//  A2 Any other input: its binding (target = input id) is called once with the query's currentValues as parameters.
//     An input WITHOUT a binding gets no values and the error DataSourceBindingMissing — also an input that only has
//     static `values` in the manifest: the answer replaces them in the editor (E3).
//  A3 The values are sorted by DisplayValue (ordinal, ignoring case) for every input except `versions` and
//     `defaultVersionSpecific`, which keep the service's order.
//  A4 The answer carries DefaultValue "" and IsLimitedToPossibleValues from the descriptor's `values` (false without).
//  A5 Versions for a new release (GetAvailableVersions) and the latest version (GetLatestVersion) call the `versions`
//     / `latestVersion` binding once, unsorted, with the artifact's inputs as parameters; with defaultVersionType
//     specificVersionType the latest is defaultVersionSpecific itself, without a call.
//  A6 Links (artifactSourceDefinitionUrl / artifactSourceVersionUrl): resultTemplate rendered over the connection and
//     the release's source data (input values by id, `version`), then `new Uri(rendered)`; any exception is traced and
//     the link is null — it silently disappears (CustomArtifact.GetArtifactSourceUrl). The version link only when the
//     source data has a version.

export interface InputValues {
  inputId: string;
  possibleValues: InputValue[];
  defaultValue: string;
  isLimitedToPossibleValues: boolean;
  error?: string;
}
export interface InputValuesQuery {
  currentValues: Record<string, string>;
  inputValues: Array<{ inputId: string } & Partial<InputValues>>;
  resource: string;
}

/** The server's answer to the editor's POST …/inputvaluesquery for this artifact type. */
export class ArtifactServer {
  readonly calls: Array<{ inputId: string; url: string }> = [];
  constructor(
    readonly type: ArtifactType,
    readonly endpoints: Endpoint[],
  ) {}

  private endpointFor(currentValues: Record<string, string>, b: DataSourceBinding): Endpoint {
    // CustomArtifact.GetEndpointId: endpointId rendered over the current values (server MustacheTemplateParser), else `connection`
    const id = b.endpointId ? renderTemplate(b.endpointId, currentValues) : currentValues.connection;
    const ep = this.endpoints.find((e) => e.id === id);
    if (!ep) throw new Error(`service connection '${id}' not found`);
    return ep;
  }

  async getInputValues(inputId: string, currentValues: Record<string, string>): Promise<InputValues> {
    const d = this.type.inputDescriptors.find((x) => x.id === inputId);
    const limited = d?.values?.isLimitedToPossibleValues ?? false;
    const answer = (possibleValues: InputValue[], error?: string): InputValues => ({
      inputId,
      possibleValues,
      defaultValue: '',
      isLimitedToPossibleValues: limited,
      ...(error ? { error } : {}),
    });
    if (inputId === 'connection' || d?.type?.toLowerCase().startsWith('connectedservice:')) {
      return answer(this.endpoints.map((e) => ({ value: e.id, displayValue: e.name }))); // A1
    }
    const b = bindingFor(this.type, inputId);
    if (!b) return answer([], `No data source binding for input '${inputId}'`); // A2
    try {
      const r = await callDataSource(b, currentValues, this.endpointFor(currentValues, b));
      this.calls.push({ inputId, url: r.url });
      currentValues.callbackRequired = r.callbackRequired ? 'True' : 'False'; // D7
      if (r.callbackRequired) Object.assign(currentValues, r.callbackContext);
      const keepOrder = ['versions', 'defaultversionspecific'].includes(inputId.toLowerCase()); // A3
      const vals = keepOrder
        ? r.values
        : [...r.values].sort((x, y) => cmpIgnoreCase(x.displayValue ?? '', y.displayValue ?? ''));
      return answer(vals);
    } catch (e) {
      return answer([], (e as Error).message);
    }
  }

  async postInputValuesQuery(q: InputValuesQuery): Promise<InputValuesQuery> {
    const currentValues = { ...q.currentValues };
    const inputValues = [];
    for (const iv of q.inputValues) inputValues.push(await this.getInputValues(iv.inputId, currentValues));
    return { currentValues, inputValues, resource: q.resource };
  }

  /** A5: versions offered when a release is created. */
  async availableVersions(sourceInputs: Record<string, string>): Promise<InputValue[]> {
    const b = bindingFor(this.type, 'versions');
    if (!b) throw new Error(`artifact type ${this.type.name} has no 'versions' binding`);
    return (await callDataSource(b, { ...sourceInputs }, this.endpointFor(sourceInputs, b))).values;
  }

  /** A5: the version a release gets when none is chosen. */
  async latestVersion(sourceInputs: Record<string, string>): Promise<InputValue> {
    if (sourceInputs.defaultVersionType === 'specificVersionType' && sourceInputs.defaultVersionSpecific?.trim()) {
      return { value: sourceInputs.defaultVersionSpecific, displayValue: sourceInputs.defaultVersionSpecific };
    }
    const b = bindingFor(this.type, 'latestVersion');
    if (!b) throw new Error(`artifact type ${this.type.name} has no 'latestVersion' binding`);
    const v = (await callDataSource(b, { ...sourceInputs }, this.endpointFor(sourceInputs, b))).values[0];
    if (!v) throw new Error('No version found');
    return v;
  }

  /** A6: the link the release shows, or null when it silently disappears. */
  link(
    target: 'artifactSourceDefinitionUrl' | 'artifactSourceVersionUrl',
    sourceData: Record<string, InputValue>,
  ): string | null {
    if (target === 'artifactSourceVersionUrl' && !sourceData.version) return null;
    const b = bindingFor(this.type, target);
    if (!b?.resultTemplate) return null;
    try {
      const parameters = Object.fromEntries(Object.entries(sourceData).map(([k, v]) => [k, v.value]));
      const ep = this.endpoints.find((e) => e.id === parameters.connection);
      const rendered = renderTemplate(b.resultTemplate, replacementContext(ep, parameters));
      return new URL(rendered).href; // new Uri(rendered): a JSON object is not a URI
    } catch {
      return null;
    }
  }
}

const cmpIgnoreCase = (a: string, b: string) => {
  const x = a.toUpperCase(),
    y = b.toUpperCase();
  return x < y ? -1 : x > y ? 1 : 0;
};

// ================================================================================================================
// EDITOR: the release editor's artifact panel (S6)
// ================================================================================================================
//  E1 Opening "Add an artifact": only the first input (connection) is queried; nothing is selected for the user
//     (initializeArtifactInput + fetchInitialInputsRecursively: the server's DefaultValue is "", so no default index).
//  E2 Choosing a value (updateArtifactInput): the input gets the value, its dependents — recursively, every input
//     that lists it in dependencyInputIds, and theirs — are CLEARED (values = null, display ""; static possibleValues
//     from the manifest are gone too: ArtifactInputBase.clear), then ONE query asks for every dependent whose
//     dependencies are all valid and not themselves being cleared (InputDependencyManager._fillQueryInputParams).
//  E3 The answer replaces each queried input's values; a combo whose answer has no values shows "" and no options
//     (ArtifactComboInput.updateValues) — a required input is then invalid and "Add" stays disabled.
//  E4 If the first queried input got values and is not `definition`, its FIRST value is selected for the user and
//     E2 repeats for it (so resource group and workspace are pre-selected; the model is never pre-selected).
//  E5 The editor posts again with the callback context only for the Build and ExternalTfsBuild types, at most 5 pages
//     (_postInputValuesQuery / recursivelyGetAllBuildDefinitions); for any other type the picker shows the FIRST
//     response only. A response with callbackRequired "True" only sets isMoreDataAvailable on the input.
//  E6 An input with properties.isSearchable lets the user search: the editor posts the input's dependencies plus
//     `name` = the typed text (ArtifactsConstants.SearchText = "name") and merges the answer into the options
//     (searchArtifactInput). The binding sees the text as `{{name}}`.
//  E7 visibleRule is read only from properties.visibleRule (ArtifactInputBase.getVisibilityRule). defaultVersionSpecific,
//     defaultVersionBranch and defaultVersionTags start hidden and are shown only by their rule — without a rule in
//     properties they never show. Rules use == / != joined by && / || over input values.
//  E8 "Add" is enabled when every visible input is valid: required → not empty; a combo limited to its possible values
//     → the value is one of them.

interface EditorInput {
  d: InputDescriptor;
  display: string;
  values:
    InputValues | { possibleValues: InputValue[]; isLimitedToPossibleValues?: boolean; defaultValue?: string } | null;
  visible: boolean;
  moreDataAvailable: boolean;
}

export class ReleaseEditor {
  readonly inputs = new Map<string, EditorInput>();
  /** every query the editor posted, in order (inputs asked for, current values sent) */
  readonly queries: Array<{ inputIds: string[]; currentValues: Record<string, string> }> = [];

  constructor(
    readonly type: ArtifactType,
    readonly server: ArtifactServer,
  ) {
    for (const d of type.inputDescriptors) {
      const values = d.values ? (structuredClone(d.values) as EditorInput['values']) : null;
      const def = d.values?.defaultValue
        ? d.values.possibleValues?.find((v) => v.value.toLowerCase() === d.values!.defaultValue!.toLowerCase())
        : undefined;
      const hiddenAtStart = ['defaultversionspecific', 'defaultversionbranch', 'defaultversiontags'].includes(
        d.id.toLowerCase(),
      );
      this.inputs.set(d.id, {
        d,
        display: def ? (def.displayValue ?? def.value) : '',
        values,
        visible: !hiddenAtStart,
        moreDataAvailable: false,
      });
    }
    for (const i of this.inputs.values()) if (this.rule(i)) i.visible = this.evalRule(this.rule(i)!);
  }

  private rule(i: EditorInput): string | undefined {
    const r = i.d.properties?.visibleRule;
    return typeof r === 'string' && r.trim() ? r : undefined;
  }

  private evalRule(rule: string): boolean {
    return rule.split('||').some((or) =>
      or.split('&&').every((clause) => {
        const m = /^\s*([A-Za-z0-9_.]+)\s*(==|!=)\s*(.*?)\s*$/.exec(clause);
        if (!m) throw new Error(`visibleRule clause '${clause}' not understood`);
        const v = this.value(m[1]!);
        return m[2] === '==' ? v === m[3] : v !== m[3];
      }),
    );
  }

  /** ArtifactComboInput.getValue: the value whose display matches, else the display text */
  value(id: string): string {
    const i = this.inputs.get(id);
    if (!i) return '';
    const hit = i.values?.possibleValues?.find((v) =>
      v.displayValue ? v.displayValue === i.display : v.value === i.display,
    );
    return hit ? hit.value : i.display;
  }
  display(id: string): string {
    return this.inputs.get(id)?.display ?? '';
  }
  options(id: string): InputValue[] {
    return this.inputs.get(id)?.values?.possibleValues ?? [];
  }
  visible(id: string): boolean {
    return this.inputs.get(id)?.visible ?? false;
  }
  moreDataAvailable(id: string): boolean {
    return this.inputs.get(id)?.moreDataAvailable ?? false;
  }

  invalid(id: string): boolean {
    const i = this.inputs.get(id)!;
    const v = this.value(id);
    if (i.d.validation?.isRequired && !v) return true;
    const pv = i.values?.possibleValues ?? [];
    if (
      pv.length &&
      i.values?.isLimitedToPossibleValues &&
      !pv.some((p) => (p.displayValue ?? p.value).toLowerCase() === i.display.toLowerCase())
    )
      return true;
    return false;
  }

  /** E8 */
  canAdd(): boolean {
    return [...this.inputs.values()].every((i) => !i.visible || !this.invalid(i.d.id));
  }

  private dependents(id: string): string[] {
    return this.type.inputDescriptors.filter((d) => (d.dependencyInputIds ?? []).includes(id)).map((d) => d.id);
  }
  private dependentsRecursive(id: string, acc: string[] = []): string[] {
    for (const dep of this.dependents(id)) {
      if (acc.includes(dep)) continue;
      this.dependentsRecursive(dep, acc);
      acc.push(dep);
    }
    return acc;
  }

  private setVisibilities(): void {
    for (const i of this.inputs.values()) {
      const r = this.rule(i);
      if (r) i.visible = this.evalRule(r);
    }
  }

  /** E1 */
  async open(): Promise<void> {
    const first = this.type.inputDescriptors[0]!.id;
    const q: InputValuesQuery = { currentValues: {}, inputValues: [{ inputId: first }], resource: this.type.name };
    const out = await this.post(q);
    this.apply(out);
    // fetchInitialInputsRecursively: the answer's DefaultValue is "" → no default index → the first input stays ""
    // and the query for its dependents is posted with none of them (each needs the first input): an empty query
    if (out.inputValues[0]?.possibleValues?.length && !/^definitions?$/i.test(first)) {
      const next = this.dependentQuery(first, '');
      await this.post(next);
    }
  }

  /** InputDependencyManager.getInputValueQuery: the dependents of `id` that can be asked for, with the current values. */
  private dependentQuery(id: string, display: string): InputValuesQuery {
    const input = this.inputs.get(id)!;
    const cleared = this.dependentsRecursive(id);
    const currentValues: Record<string, string> = {};
    const asked: string[] = [];
    for (const dep of this.dependents(id)) {
      const tmp: Record<string, string> = {};
      let skip = false;
      for (const parent of this.inputs.get(dep)!.d.dependencyInputIds ?? []) {
        const p = this.inputs.get(parent);
        const valid = p ? (p === input ? !!display : !this.invalid(parent)) : false;
        if (p && valid && !cleared.includes(parent))
          tmp[parent] = p === input ? this.valueFor(parent, display) : this.value(parent);
        else {
          skip = true;
          break;
        }
      }
      if (skip) continue;
      asked.push(dep);
      for (const [k, v] of Object.entries(tmp)) if (!currentValues[k]) currentValues[k] = v;
    }
    return { currentValues, inputValues: asked.map((inputId) => ({ inputId })), resource: this.type.name };
  }

  /** _getCurrentValue: the value of the option shown as `display`, else `display` itself (or "" when limited to the options) */
  private valueFor(id: string, display: string): string {
    const i = this.inputs.get(id)!;
    const pv = i.values?.possibleValues ?? [];
    if (!pv.length) return display;
    const hit = pv.find((v) => v.displayValue === display) ?? pv.find((v) => v.value === display);
    if (!hit) return i.values?.isLimitedToPossibleValues ? '' : display;
    return hit.value || (hit.displayValue ?? '');
  }

  private async post(q: InputValuesQuery): Promise<InputValuesQuery> {
    this.queries.push({ inputIds: q.inputValues.map((v) => v.inputId), currentValues: { ...q.currentValues } });
    let out = await this.server.postInputValuesQuery(q);
    // E5: only Build / ExternalTfsBuild follow the callback
    if (/^(build|externaltfsbuild)$/i.test(this.type.name)) {
      for (
        let page = 1;
        page < 5 &&
        out.currentValues.callbackRequired?.toLowerCase() === 'true' &&
        out.inputValues[0]?.possibleValues?.length;
        page++
      ) {
        const more = await this.server.postInputValuesQuery({ ...q, currentValues: out.currentValues });
        out = {
          ...more,
          inputValues: out.inputValues.map((iv, k) => ({
            ...iv,
            possibleValues: [...(iv.possibleValues ?? []), ...(more.inputValues[k]?.possibleValues ?? [])],
          })),
        };
      }
    }
    return out;
  }

  private apply(out: InputValuesQuery, search = false): void {
    const more = search || out.currentValues.callbackRequired?.toLowerCase() === 'true';
    for (const iv of out.inputValues) {
      const i = this.inputs.get(iv.inputId);
      if (!i) continue;
      i.moreDataAvailable = more;
      i.values = {
        possibleValues: iv.possibleValues ?? [],
        isLimitedToPossibleValues: iv.isLimitedToPossibleValues,
        defaultValue: iv.defaultValue,
      };
      i.display = '';
      const dv = iv.defaultValue
        ? iv.possibleValues?.find((p) => p.value.toLowerCase() === iv.defaultValue!.toLowerCase())
        : undefined;
      if (dv) i.display = dv.displayValue ?? dv.value;
    }
  }

  /** E2–E4: the user picks `display` (what the combo shows) in input `id`. */
  async select(id: string, display: string): Promise<void> {
    const input = this.inputs.get(id);
    if (!input) throw new Error(`no input '${id}'`);
    input.display = display;
    const cleared = this.dependentsRecursive(id);
    for (const c of cleared) {
      const ci = this.inputs.get(c)!;
      ci.display = '';
      ci.values = null;
    }
    this.setVisibilities();
    const q = this.dependentQuery(id, display);
    // _isIndependentInput: nothing to ask and no current values → no request
    if (!q.inputValues.length && !Object.keys(q.currentValues).length) return;
    const out = await this.post(q);
    this.apply(out);
    this.setVisibilities();
    const first = out.inputValues[0];
    if (
      first?.possibleValues?.length &&
      first.inputId.toLowerCase() !== 'definition' &&
      first.inputId.toLowerCase() !== 'definitions'
    ) {
      const v = first.possibleValues[0]!;
      await this.select(first.inputId, v.displayValue || v.value); // E4
    }
  }

  /** E6: the user types `text` into a searchable input; returns the options the search found. */
  async search(id: string, text: string): Promise<InputValue[]> {
    const input = this.inputs.get(id)!;
    if (!input.d.properties?.isSearchable) throw new Error(`input '${id}' is not searchable (properties.isSearchable)`);
    const currentValues: Record<string, string> = {};
    for (const p of input.d.dependencyInputIds ?? []) currentValues[p] = this.value(p);
    currentValues.name = text;
    this.queries.push({ inputIds: [id], currentValues: { ...currentValues } });
    const out = await this.server.postInputValuesQuery({
      currentValues,
      inputValues: [{ inputId: id }],
      resource: this.type.name,
    });
    const found = out.inputValues[0]?.possibleValues ?? [];
    const existing = input.values?.possibleValues ?? [];
    const merged = [...existing];
    for (const f of found) if (!merged.some((m) => m.value.toLowerCase() === f.value.toLowerCase())) merged.push(f);
    input.values = { ...(input.values ?? {}), possibleValues: merged };
    input.moreDataAvailable = true;
    return found;
  }

  /** The artifact as the definition stores it (definitionReference: id = value, name = display). */
  definitionReference(): Record<string, { id: string; name: string }> {
    return Object.fromEntries([...this.inputs.keys()].map((k) => [k, { id: this.value(k), name: this.display(k) }]));
  }
}

// ================================================================================================================
// RELEASE (S5, S7)
// ================================================================================================================
//  R1 A release copies the definition's artifact source data, sets `version` {value: id, displayValue: name} and —
//     unless the release is a draft — REMOVES defaultVersionType, defaultVersionBranch, defaultVersionTags and
//     defaultVersionSpecific (ReleaseBuilderBase.PopulateArtifactData).
//  R2 Release variables: Release.Artifacts.{alias}.DefinitionId/DefinitionName/BuildId/BuildNumber/Type (S7 "Release
//     artifact variables"); for the primary artifact also Build.BuildId/BuildNumber/DefinitionName and
//     Release.PrimaryArtifactSourceAlias (ASSUMPTION: the Build.* copies follow the first-party Build artifact).
//  R3 The download task (downloadTaskId) runs first in every deployment job with every source-data input by name
//     (taskInputMapping absent) plus downloadPath and itemPattern (S7 "Download artifact task"; the input names
//     downloadPath/itemPattern are an ASSUMPTION taken from first-party download tasks).

/** The artifact as linked in a release definition: input values and their display values. */
export interface LinkedArtifact {
  alias: string;
  inputs: Record<string, string>;
  display?: Record<string, string>;
}
export interface PickerValue {
  Value: string;
  DisplayValue: string;
}

/** R1: the source data a (non-draft) release keeps for the artifact. */
export function releaseSourceData(a: LinkedArtifact, version: PickerValue, draft = false): Record<string, InputValue> {
  const sd: Record<string, InputValue> = {};
  for (const [k, v] of Object.entries(a.inputs)) sd[k] = { value: v, displayValue: a.display?.[k] ?? v };
  sd.version = { value: version.Value, displayValue: version.DisplayValue };
  if (!draft)
    for (const k of ['defaultVersionType', 'defaultVersionBranch', 'defaultVersionTags', 'defaultVersionSpecific'])
      delete sd[k];
  return sd;
}

/** The artifact's sourceId in a release definition: uniqueSourceIdentifier rendered over the inputs. */
export function renderSourceId(type: ArtifactType, inputs: Record<string, string>): string {
  return renderTemplate(type.uniqueSourceIdentifier, inputs);
}

/**
 * The version a new release gets (A5): latestType → the latestVersion binding; specificVersionType →
 * defaultVersionSpecific; selectDuringReleaseCreationType → `chosen`, which must be among the versions offered.
 */
export async function releaseVersion(
  type: ArtifactType,
  a: LinkedArtifact,
  endpoint: Endpoint,
  chosen?: string,
): Promise<PickerValue> {
  const server = new ArtifactServer(type, [endpoint]);
  const inputs: Record<string, string> = { connection: endpoint.id, ...a.inputs };
  const dvt =
    inputs.defaultVersionType ?? type.inputDescriptors.find((d) => d.id === 'defaultVersionType')?.values?.defaultValue;
  if (dvt === 'selectDuringReleaseCreationType') {
    if (!chosen) throw new Error('defaultVersionType selectDuringReleaseCreationType: no version chosen');
    const offered = await server.availableVersions(inputs);
    const hit = offered.find((v) => v.value === chosen);
    if (!hit)
      throw new Error(
        `version ${chosen} is not among the versions offered (${offered.map((v) => v.value).join(', ')})`,
      );
    return { Value: hit.value, DisplayValue: hit.displayValue ?? hit.value };
  }
  const v = await server.latestVersion({ ...inputs, defaultVersionType: dvt ?? '' });
  return { Value: v.value, DisplayValue: v.displayValue ?? v.value };
}

/** Compatibility for scripts/demo.ts: one call of a binding (no callback following), values as {Value, DisplayValue}. */
export async function evaluateBinding(
  type: ArtifactType,
  target: string,
  inputs: Record<string, string>,
  endpoint: Endpoint,
): Promise<{
  values: PickerValue[];
  urls: string[];
  responseBytes: number[];
  callbackRequired: boolean;
  callbackContext: Record<string, string>;
}> {
  const b = bindingFor(type, target);
  if (!b) throw new Error(`no dataSourceBinding with target '${target}'`);
  const r = await callDataSource(b, { connection: endpoint.id, ...inputs }, endpoint);
  return {
    values: r.values.map((v) => ({ Value: v.value, DisplayValue: v.displayValue ?? v.value })),
    urls: [r.url],
    responseBytes: [r.responseChars],
    callbackRequired: r.callbackRequired,
    callbackContext: r.callbackContext,
  };
}

/** R2 (variables by name; runBundledTask turns them into the environment the way the agent does). */
export function releaseVariables(
  type: ArtifactType,
  a: LinkedArtifact,
  version: PickerValue,
  primary = true,
): Record<string, string> {
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

/** R3: inputs of the injected download task — the release's source data (R1) by name, plus downloadPath, itemPattern. */
export function injectedTaskInputs(
  a: LinkedArtifact,
  version: PickerValue,
  downloadPath: string,
  itemPattern = '**',
): Record<string, string> {
  const sd = releaseSourceData(a, version);
  return { ...Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, v.value])), downloadPath, itemPattern };
}

/** The download task's task.json (by downloadTaskId). */
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
export interface ReleaseInfo {
  releaseId?: string;
  releaseName?: string;
  definitionName?: string;
  environmentName?: string;
}

/** Runs the injected download task as the agent would in a release deploy job. */
export async function runInjectedDownload(
  box: AzureInABox,
  type: ArtifactType,
  a: LinkedArtifact,
  version: PickerValue,
  opts: { downloadPath: string; itemPattern?: string; extra?: Partial<RunOptions> } & ReleaseInfo,
): Promise<TaskRunWithLeaks & { inputs: Record<string, string>; variables: Record<string, string> }> {
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
