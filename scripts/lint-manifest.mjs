#!/usr/bin/env node
// Lints every tasks/*/task.json and vss-extension.json, and fails (exit 1) on any finding: tfx only warns.
//
//   node scripts/lint-manifest.mjs [--root <repo>] [--schema <tasks.schema.json>]
//
// task.json: the official schema (test/fixtures/third-party/azure-pipelines-task-lib/tasks.schema.json, draft-04, via ajv-draft-04) plus
//   - folder is <name>V<version.Major>; `id` a well-formed GUID, unique across tasks; version Major/Minor/Patch integers
//   - execution has Node20_1 and Node24, both with target index.js, and the entry source the build bundles into it
//     exists (src/tasks/<entry>.entry.ts, see scripts/lib/tasks.mjs); icon.png is a 32x32 PNG
//   - friendlyName <= 40 characters; description, helpMarkDown present
//   - helpUrl is the task's page: <vss-extension.json repository.uri>/blob/main/docs/tasks/<folder>.md, and that page
//     exists (scripts/gen-readme.mjs generates it; scripts/package.mjs --repository rewrites the URL for another copy)
//   - inputs: unique names, helpMarkDown on every input, groupName names a group, every visibleRule parses
//     (`a = b && c != d || e NotEndsWith f`) and names existing inputs, connectedService inputs are
//     connectedService:AzureRM only, dataSourceBindings target/endpointId name existing inputs
//   - instanceNameFormat's $(x) references are inputs
//   - outputVariables: unique, each with a description, and every output the task's sources set with a literal name
//     — setOutput('name', …) in src/tasks/<entry>*.ts — is declared. Names built at run time (template literals,
//     variables) are not checked: the schema only allows [A-Za-z][A-Za-z0-9]* names, so dynamic families such as
//     per-metric outputs cannot be declared one by one; describe them in the description of a declared variable.
// vss-extension.json:
//   - manifestVersion 1, id/publisher/version(x.y.z)/name present; contribution ids unique
//   - every tasks/* folder with a task.json has exactly one ms.vss-distributed-task.task contribution whose
//     properties.name is "tasks/<folder>" and is covered by a `files` entry; every task contribution's folder has a
//     task.json; every `files` path exists
//   - every release-artifact-type contribution's downloadTaskId is the id of a packaged task, and each connectedService
//     input of that task has an artifact inputDescriptor of the same id (the server feeds it the artifact's connection)
//   - every release-artifact-type contribution's inputs and bindings as the release server and editor read them
//     (lintArtifactType below; sources: the release editor's PipelineWorkflow/Scripts/Editor/Artifact/*.ts, the
//     decompiled Azure DevOps Server 2022 assemblies github.com/mjwrona/decompiled @ 6cd51e1f…, and the first-party
//     artifact types of microsoft/azure-pipelines-extensions and jfrog/jfrog-azure-devops-extension):
//       A1 an input with dependencyInputIds has a dataSourceBinding (else the editor clears it and the server answers
//          it with no values: a static combo such as defaultVersionType is emptied);
//       A2 no top-level visibleRule (the server's InputDescriptor has none; the editor reads properties.visibleRule),
//          and properties.visibleRule parses and names existing inputs;
//       A3 callbackRequiredTemplate / callbackContextTemplate read the page as response.* (or headers.*), and no
//          endpointUrl writes {{.}} / {{{.}}} (a section over a string does not make `.` the string);
//       A4 artifactSourceDefinitionUrl / artifactSourceVersionUrl render a bare absolute URL (the server does
//          new Uri(rendered); a JSON object silently loses the link);
//       A5 the `connection` input has hasDynamicValueInformation true and validation.dataType "string".
//   - icons exist and are PNG, icons.default 128x128; content.*.path files exist, and the images they show exist and
//     are covered by a `files` entry
// A folder under tasks/ without task.json is a finding: nothing would build or package it, so it is either a task
// whose manifest was lost or a leftover to delete.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import {
  REPO_ROOT,
  entryBaseName,
  entryPath,
  isServerTask,
  listTaskFolders,
  parseTaskFolder,
  pngSize,
} from './lib/tasks.mjs';

const require = createRequire(import.meta.url);

const GUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const REQUIRED_HANDLERS = ['Node20_1', 'Node24'];
const HANDLER_TARGET = 'index.js';
const ALLOWED_CONNECTED_SERVICES = ['connectedService:AzureRM'];
const MAX_FRIENDLY_NAME = 40;
// beside the repository these scripts belong to (also used when --root points at a copy elsewhere)
export const DEFAULT_SCHEMA = path.resolve(
  REPO_ROOT,
  'test',
  'fixtures',
  'third-party',
  'azure-pipelines-task-lib',
  'tasks.schema.json',
);
const TASK_ICON_SIZE = 32;
const EXTENSION_ICON_SIZE = 128;
const TASK_CONTRIBUTION_TYPE = 'ms.vss-distributed-task.task';
const ARTIFACT_CONTRIBUTION_TYPE = 'ms.vss-releaseartifact.release-artifact-type';
const VISIBLE_RULE_OPERATORS = [
  'NotContainsValue',
  'ContainsValue',
  'NotContainsKey',
  'ContainsKey',
  'NotContains',
  'Contains',
  'NotEndsWith',
  'EndsWith',
  'NotStartsWith',
  'StartsWith',
  '==',
  '!=',
  '<=',
  '>=',
  '=',
  '<',
  '>',
];

/** Parses a visibleRule into its clauses; returns { refs: string[] } or { error }. */
export function parseVisibleRule(rule) {
  const refs = [];
  const clauses = rule.split(/&&|\|\|/);
  const ops = VISIBLE_RULE_OPERATORS.map((o) =>
    /^[A-Za-z]/.test(o) ? `\\s${o}\\s` : o.replace(/[|=<>!]/g, (c) => `\\${c}`),
  ).join('|');
  const clauseRe = new RegExp(`^\\s*([A-Za-z][A-Za-z0-9_.]*)\\s*(?:${ops})\\s*(.*?)\\s*$`);
  for (const clause of clauses) {
    if (!clause.trim()) return { error: `empty clause in "${rule}"` };
    const m = clauseRe.exec(clause);
    if (!m) return { error: `cannot parse clause "${clause.trim()}" in "${rule}"` };
    refs.push(m[1]);
  }
  return { refs };
}

function readJson(file, findings, label) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
  } catch (e) {
    findings.push(`${label}: cannot read JSON: ${e.message}`);
    return undefined;
  }
}

const validators = new Map();
function loadSchemaValidator(schemaPath) {
  if (validators.has(schemaPath)) return validators.get(schemaPath);
  if (!fs.existsSync(schemaPath)) {
    throw new Error(
      `task.json schema not found at ${schemaPath} (the repository keeps a copy at test/fixtures/third-party/azure-pipelines-task-lib/tasks.schema.json; pass --schema <file>)`,
    );
  }
  const Ajv04 = require('ajv-draft-04');
  const AjvClass = Ajv04.default ?? Ajv04;
  const ajv = new AjvClass({
    allErrors: true,
    strict: false,
    unicodeRegExp: false /* the official schema has \: escapes */,
  });
  try {
    const addFormats = require('ajv-formats');
    (addFormats.default ?? addFormats)(ajv);
  } catch {
    /* formats optional */
  }
  const schema = JSON.parse(fs.readFileSync(schemaPath, 'utf8'));
  const validate = ajv.compile(schema);
  validators.set(schemaPath, validate);
  return validate;
}

/** Output names set with a literal first argument of setOutput(...) in the task's sources. */
function literalOutputNames(root, folder) {
  const base = entryBaseName(folder);
  const dir = path.join(root, 'src', 'tasks');
  if (!base || !fs.existsSync(dir)) return new Map();
  const names = new Map(); // name -> file
  const files = [];
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!ent.name.startsWith(base)) continue;
    const rest = ent.name.slice(base.length);
    // modelRegister.ts, modelRegister.entry.ts, modelRegister.summary.ts, modelRegister/ (folder) — not modelRegisterX.ts
    if (ent.isFile() && /^(\.[\w.-]+)?\.ts$/.test(rest)) files.push(path.join(dir, ent.name));
    if (ent.isDirectory() && rest === '') {
      for (const f of fs.readdirSync(path.join(dir, ent.name), { recursive: true }))
        if (String(f).endsWith('.ts')) files.push(path.join(dir, ent.name, String(f)));
    }
  }
  const re = /\bsetOutput\s*\(\s*(?:'([^'\\]+)'|"([^"\\]+)"|`([^`$\\]+)`)/g;
  for (const f of files) {
    const src = fs.readFileSync(f, 'utf8');
    for (const m of src.matchAll(re)) names.set(m[1] ?? m[2] ?? m[3], path.relative(root, f));
  }
  return names;
}

/** The repository URL of this copy (vss-extension.json repository.uri, without a trailing slash or .git). */
export function repositoryUri(root) {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(root, 'vss-extension.json'), 'utf8'));
    return String(m.repository?.uri ?? '')
      .replace(/\/+$/, '')
      .replace(/\.git$/, '');
  } catch {
    return '';
  }
}

function lintTask(root, folder, task, validate, findings) {
  const L = `tasks/${folder}/task.json`;
  // Server tasks (scripts/lib/tasks.mjs isServerTask): the official schema's `execution` allows only agent handlers
  // (additionalProperties: false, no HttpRequest), although Microsoft's own server tasks ship execution.HttpRequest.
  // Narrow exception: for a server task, `execution` alone is left out of the schema check and checked by
  // lintServerExecution below instead; every other member is validated against the schema as for any task.
  const server = isServerTask(task);
  const { execution: _exec, ...withoutExecution } = task ?? {};
  if (!validate(server ? withoutExecution : task)) {
    for (const e of validate.errors ?? [])
      findings.push(
        `${L}: schema: ${e.instancePath || '/'} ${e.message}${e.params && Object.keys(e.params).length ? ' ' + JSON.stringify(e.params) : ''}`,
      );
  }
  if (typeof task.id !== 'string' || !GUID_RE.test(task.id))
    findings.push(`${L}: id ${JSON.stringify(task.id)} is not a GUID`);
  const v = task.version ?? {};
  for (const k of ['Major', 'Minor', 'Patch']) {
    if (!Number.isInteger(v[k]) || v[k] < 0)
      findings.push(`${L}: version.${k} must be a non-negative integer (got ${JSON.stringify(v[k])})`);
  }
  const parsed = parseTaskFolder(folder);
  if (!parsed) findings.push(`${L}: folder name must be <name>V<major>`);
  else {
    if (task.name !== parsed.name)
      findings.push(
        `${L}: name ${JSON.stringify(task.name)} does not match folder ${folder} (expected "${parsed.name}")`,
      );
    if (Number.isInteger(v.Major) && v.Major !== parsed.major)
      findings.push(`${L}: version.Major ${v.Major} does not match folder ${folder}`);
  }
  if (typeof task.friendlyName !== 'string' || !task.friendlyName.trim())
    findings.push(`${L}: friendlyName is missing`);
  else if (task.friendlyName.length > MAX_FRIENDLY_NAME)
    findings.push(
      `${L}: friendlyName "${task.friendlyName}" is ${task.friendlyName.length} characters (max ${MAX_FRIENDLY_NAME})`,
    );
  for (const k of ['description', 'helpMarkDown', 'instanceNameFormat']) {
    if (typeof task[k] !== 'string' || !task[k].trim()) findings.push(`${L}: ${k} is missing`);
  }
  const page = `docs/tasks/${folder}.md`;
  const wantHelp = `${repositoryUri(root)}/blob/main/${page}`;
  if (task.helpUrl !== wantHelp)
    findings.push(`${L}: helpUrl must be the task's page ${wantHelp} (got ${JSON.stringify(task.helpUrl)})`);
  if (!fs.existsSync(path.join(root, page))) findings.push(`${L}: its page ${page} does not exist: run npm run docs`);

  // execution handlers and the entry the build turns into index.js
  const exec = task.execution ?? {};
  if (Array.isArray(task.runsOn) && task.runsOn.some((r) => r === 'Server' || r === 'ServerGate') && !server) {
    findings.push(
      `${L}: runsOn ${JSON.stringify(task.runsOn)}: a server task runs only on Server/ServerGate and has exactly one handler, execution.HttpRequest`,
    );
  }
  if (server) lintServerExecution(L, task, findings);
  else
    for (const h of REQUIRED_HANDLERS) {
      if (!exec[h])
        findings.push(`${L}: execution.${h} is missing (both ${REQUIRED_HANDLERS.join(' and ')} are required)`);
      else if (exec[h].target !== HANDLER_TARGET)
        findings.push(
          `${L}: execution.${h}.target must be "${HANDLER_TARGET}" (got ${JSON.stringify(exec[h].target)})`,
        );
    }
  const entry = entryPath(folder);
  if (!server && entry && !fs.existsSync(path.join(root, entry)))
    findings.push(
      `${L}: entry source ${entry} does not exist (the build bundles it into tasks/${folder}/${HANDLER_TARGET})`,
    );
  const icon = path.join(root, 'tasks', folder, 'icon.png');
  if (!fs.existsSync(icon)) findings.push(`tasks/${folder}/icon.png is missing`);
  else {
    const s = pngSize(icon);
    if (!s) findings.push(`tasks/${folder}/icon.png is not a PNG`);
    else if (s.width !== TASK_ICON_SIZE || s.height !== TASK_ICON_SIZE)
      findings.push(
        `tasks/${folder}/icon.png is ${s.width}x${s.height} (task icons are ${TASK_ICON_SIZE}x${TASK_ICON_SIZE})`,
      );
  }

  // groups and inputs
  const groups = new Set();
  for (const g of Array.isArray(task.groups) ? task.groups : []) {
    if (groups.has(g.name)) findings.push(`${L}: group "${g.name}" is declared twice`);
    groups.add(g.name);
  }
  const inputs = Array.isArray(task.inputs) ? task.inputs : [];
  const inputNames = new Set();
  for (const i of inputs) {
    if (inputNames.has(i.name)) findings.push(`${L}: input "${i.name}" is declared twice`);
    inputNames.add(i.name);
  }
  for (const i of inputs) {
    const I = `${L}: input "${i.name}"`;
    if (typeof i.helpMarkDown !== 'string' || !i.helpMarkDown.trim()) findings.push(`${I} has no helpMarkDown`);
    if (i.groupName !== undefined && !groups.has(i.groupName))
      findings.push(`${I} refers to group "${i.groupName}" which is not declared`);
    if (
      typeof i.type === 'string' &&
      i.type.startsWith('connectedService:') &&
      !ALLOWED_CONNECTED_SERVICES.includes(i.type)
    ) {
      findings.push(`${I} has type ${i.type}; only ${ALLOWED_CONNECTED_SERVICES.join(', ')} is used by this extension`);
    }
    if (i.visibleRule !== undefined) {
      const r = parseVisibleRule(String(i.visibleRule));
      if (r.error) findings.push(`${I} visibleRule: ${r.error}`);
      else
        for (const ref of r.refs) {
          if (ref === i.name) findings.push(`${I} visibleRule refers to the input itself`);
          else if (!inputNames.has(ref)) findings.push(`${I} visibleRule refers to unknown input "${ref}"`);
        }
    }
  }
  for (const b of Array.isArray(task.dataSourceBindings) ? task.dataSourceBindings : []) {
    if (b.target !== undefined && !inputNames.has(b.target))
      findings.push(`${L}: dataSourceBinding target "${b.target}" is not an input`);
    const ep = /^\$\(([^)]+)\)$/.exec(String(b.endpointId ?? ''));
    if (b.endpointId !== undefined && (!ep || !inputNames.has(ep[1])))
      findings.push(
        `${L}: dataSourceBinding endpointId ${JSON.stringify(b.endpointId)} must be $(<connectedService input>)`,
      );
  }
  if (typeof task.instanceNameFormat === 'string') {
    for (const m of task.instanceNameFormat.matchAll(/\$\(([^)]+)\)/g)) {
      if (!inputNames.has(m[1])) findings.push(`${L}: instanceNameFormat refers to unknown input "${m[1]}"`);
    }
  }

  // output variables
  const outputs = Array.isArray(task.outputVariables) ? task.outputVariables : [];
  const outputNames = new Set();
  for (const o of outputs) {
    if (outputNames.has(o.name)) findings.push(`${L}: output variable "${o.name}" is declared twice`);
    outputNames.add(o.name);
    if (typeof o.description !== 'string' || !o.description.trim())
      findings.push(`${L}: output variable "${o.name}" has no description`);
  }
  for (const [name, file] of literalOutputNames(root, folder)) {
    if (!outputNames.has(name))
      findings.push(`${L}: output "${name}" is set in ${file} but not declared in outputVariables`);
  }
}

// execution.HttpRequest as the server reads it. SOURCE: microsoft/azure-pipelines-tasks
// docs/authoring/servertaskauthoring.md @ 008a81d201ffd23f898faea859ca812fa69822db: sections Execute, Cancel (all
// Execute properties except WaitForCompletion and Expression), Events; Execute properties EndpointId, EndpointUrl,
// Method, Body, Headers (JSON), WaitForCompletion (true|false), Expression; macros are task inputs, system variables,
// user variables and endpoint variables. The field spellings are those of Tasks/InvokeRestApiV1/task.json
// @ 116f76e626891a178937347da2556db5a7d55949 and Tasks/AzureMonitorV1/task.json @ 3cd663197f84551e316564ea38aa1fa836f07f9f.
const HTTP_METHODS = ['OPTIONS', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'PATCH'];
const EXECUTE_KEYS = ['EndpointId', 'EndpointUrl', 'Method', 'Body', 'Headers', 'WaitForCompletion', 'Expression'];
const CANCEL_KEYS = ['EndpointId', 'EndpointUrl', 'Method', 'Body', 'Headers'];

/** the checks the schema cannot make for a server task's execution.HttpRequest (see above) */
export function lintServerExecution(L, task, findings) {
  const h = task.execution?.HttpRequest;
  if (!h || typeof h !== 'object') {
    findings.push(`${L}: execution.HttpRequest must be an object`);
    return;
  }
  for (const k of Object.keys(h))
    if (!['Execute', 'Cancel', 'Events'].includes(k))
      findings.push(`${L}: execution.HttpRequest.${k} is not a section the server reads (Execute, Cancel, Events)`);
  if (!h.Execute) findings.push(`${L}: execution.HttpRequest.Execute is missing`);
  const inputs = new Map((Array.isArray(task.inputs) ? task.inputs : []).map((i) => [i.name, i]));
  for (const [section, keys] of [
    ['Execute', EXECUTE_KEYS],
    ['Cancel', CANCEL_KEYS],
  ]) {
    const s = h[section];
    if (s === undefined) continue;
    const S = `${L}: execution.HttpRequest.${section}`;
    for (const k of Object.keys(s))
      if (!keys.includes(k)) findings.push(`${S}.${k} is not read by the server (${keys.join(', ')})`);
    for (const [k, v] of Object.entries(s)) if (typeof v !== 'string') findings.push(`${S}.${k} must be a string`);
    if (!s.EndpointUrl) findings.push(`${S}.EndpointUrl is missing`);
    // a Method may be one $(pickList input) whose every option is an HTTP method: InvokeRestApiV1's "Method": "$(method)"
    const methodInput = /^\$\(([^)]+)\)$/.exec(String(s.Method));
    const methodOptions =
      methodInput && inputs.get(methodInput[1])?.type === 'pickList'
        ? Object.keys(inputs.get(methodInput[1]).options ?? {})
        : undefined;
    if (
      methodOptions
        ? !methodOptions.length || methodOptions.some((o) => !HTTP_METHODS.includes(o))
        : !HTTP_METHODS.includes(String(s.Method))
    ) {
      findings.push(
        `${S}.Method ${JSON.stringify(s.Method)} is not one of ${HTTP_METHODS.join(', ')} (or a $(pickList input) of only those)`,
      );
    }
    if (
      section === 'Execute' &&
      s.WaitForCompletion !== undefined &&
      !['true', 'false'].includes(s.WaitForCompletion) &&
      !/^\$\([^)]+\)$/.test(s.WaitForCompletion)
    ) {
      findings.push(`${S}.WaitForCompletion must be "true", "false" or one $(input)`);
    }
    if (s.EndpointId) {
      const m = /^\$\(([^)]+)\)$/.exec(s.EndpointId);
      if (!m || !String(inputs.get(m[1])?.type ?? '').startsWith('connectedService:'))
        findings.push(`${S}.EndpointId ${JSON.stringify(s.EndpointId)} must be $(<connectedService input>)`);
    }
    for (const k of ['Headers', 'Body']) {
      if (!s[k]) continue;
      // Headers are JSON (servertaskauthoring.md); a JSON Body must still be JSON with the macros in it (they sit in strings)
      // an input macro outside a string stands for JSON text (e.g. object members, AzureMLJobWait@1's $(jobDefinition)):
      // the body must be JSON with it empty
      if (k === 'Headers' || /^\s*[{[]/.test(s[k])) {
        try {
          JSON.parse(withoutBareMacros(s[k]));
        } catch (e) {
          findings.push(`${S}.${k} is not JSON: ${e.message}`);
        }
      }
    }
    for (const [k, v] of Object.entries(s)) {
      for (const m of String(v).matchAll(/\$\(([^)]+)\)/g)) {
        const n = m[1];
        if (!inputs.has(n) && !/^(system|endpoint|build|release|agent)\./i.test(n))
          findings.push(`${S}.${k} refers to $(${n}), which is neither an input nor a system/endpoint variable`);
      }
    }
  }
}

/** JSON text with every $(…) that stands outside a string literal removed */
export function withoutBareMacros(text) {
  let out = '',
    inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[++i] ?? '';
      } else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    const m = /^\$\([^)]+\)/.exec(text.slice(i));
    if (m) {
      i += m[0].length - 1;
      continue;
    }
    out += c;
  }
  return out;
}

function coveredByFiles(files, rel) {
  return files.some((f) => {
    const p = String(f?.path ?? '')
      .replace(/\\/g, '/')
      .replace(/\/+$/, '');
    return p === rel || rel.startsWith(p + '/');
  });
}

const LINK_TARGETS = ['artifactsourcedefinitionurl', 'artifactsourceversionurl'];

/** Rules A1–A5 for one release-artifact-type contribution (see the header). */
export function lintArtifactType(c, findings, L = 'vss-extension.json') {
  const C = `${L}: contribution "${c.id}"`;
  const p = c.properties ?? {};
  const inputs = Array.isArray(p.inputDescriptors) ? p.inputDescriptors : [];
  const bindings = Array.isArray(p.dataSourceBindings) ? p.dataSourceBindings : [];
  const ids = new Set(inputs.map((i) => i?.id));
  const bound = new Set(bindings.map((b) => String(b?.target ?? '').toLowerCase()));
  for (const i of inputs) {
    const I = `${C} input "${i?.id}"`;
    // A1 — InputDependencyManager.clearDependents/_fillQueryInputParams + CustomArtifact.GetPossibleValues (DataSourceBindingMissing)
    if (Array.isArray(i.dependencyInputIds) && i.dependencyInputIds.length && !bound.has(String(i.id).toLowerCase())) {
      findings.push(
        `${I} depends on ${i.dependencyInputIds.join(', ')} but has no dataSourceBinding: the release editor clears it when they change and the server answers it with no values${i.values?.possibleValues ? ' (its static values are lost)' : ''}; drop dependencyInputIds or add a binding`,
      );
    }
    for (const d of Array.isArray(i.dependencyInputIds) ? i.dependencyInputIds : [])
      if (!ids.has(d)) findings.push(`${I} depends on unknown input "${d}"`);
    // A2 — FormInput InputDescriptor has no VisibleRule; ArtifactInputBase.getVisibilityRule reads properties.visibleRule
    if (i.visibleRule !== undefined)
      findings.push(
        `${I} has a top-level visibleRule, which the server drops: write it as "properties": { "visibleRule": ${JSON.stringify(i.visibleRule)} }`,
      );
    const rule = i.properties?.visibleRule;
    if (rule !== undefined) {
      const r = parseVisibleRule(String(rule));
      if (r.error) findings.push(`${I} properties.visibleRule: ${r.error}`);
      else
        for (const ref of r.refs)
          if (!ids.has(ref)) findings.push(`${I} properties.visibleRule refers to unknown input "${ref}"`);
    }
  }
  // A5 — TeamCity, ExternalTfs, BitBucket (azure-pipelines-extensions) and JFrog all declare it so
  const conn = inputs.find((i) => i?.id === 'connection');
  if (conn && conn.hasDynamicValueInformation !== true)
    findings.push(
      `${C} input "connection" must have "hasDynamicValueInformation": true (as first-party artifact types declare it)`,
    );
  if (conn && conn.validation?.dataType !== 'string')
    findings.push(
      `${C} input "connection" must have validation.dataType "string" (got ${JSON.stringify(conn.validation?.dataType)})`,
    );
  for (const b of bindings) {
    const B = `${C} dataSourceBinding "${b?.target}"`;
    // A3 — ResponseSelector.ApplyCallbackRequiredTemplate / ApplyContextTemplate merge the page in as `response`
    for (const k of ['callbackRequiredTemplate', 'callbackContextTemplate']) {
      if (b?.[k] !== undefined && !/\{\{\{?\s*[#^]?\s*(?:[A-Za-z]+\s+)?(?:response|headers)\./.test(String(b[k]))) {
        findings.push(
          `${B} ${k} does not read the page: the server evaluates it over { response: <body>, headers, … } merged with the request parameters, so write response.<field> (e.g. {{isTokenPresent response.nextLink}})`,
        );
      }
    }
    if (b?.endpointUrl !== undefined && /\{\{\{?\s*(?:\.|this)\s*\}/.test(String(b.endpointUrl))) {
      findings.push(
        `${B} endpointUrl writes {{.}}: in the server's template engine a section over a string keeps the outer context, so {{.}} is not the string`,
      );
    }
    // A4 — CustomArtifact.GetArtifactSourceUrl: new Uri(rendered resultTemplate), exceptions swallowed
    if (LINK_TARGETS.includes(String(b?.target ?? '').toLowerCase())) {
      const sample = String(b.resultTemplate ?? '')
        .replace(/\{\{\{?[^}]*\}?\}\}/g, 'x')
        .trim();
      let ok;
      try {
        ok = /^[a-z][a-z0-9+.-]*:\/\//i.test(sample) && !!new URL(sample);
      } catch {
        ok = false;
      }
      if (!ok)
        findings.push(
          `${B} resultTemplate must render a bare absolute URL (the server does new Uri(rendered) and drops the link silently otherwise); got ${JSON.stringify(String(b.resultTemplate ?? '').slice(0, 60))}`,
        );
    }
  }
}

function lintExtension(root, taskIds, taskJsons, findings) {
  const L = 'vss-extension.json';
  const file = path.join(root, L);
  if (!fs.existsSync(file)) {
    findings.push(`${L} is missing`);
    return;
  }
  const ext = readJson(file, findings, L);
  if (!ext) return;
  if (ext.manifestVersion !== 1) findings.push(`${L}: manifestVersion must be 1`);
  for (const k of ['id', 'publisher', 'name', 'version'])
    if (typeof ext[k] !== 'string' || !ext[k].trim()) findings.push(`${L}: ${k} is missing`);
  if (typeof ext.version === 'string' && !/^\d+\.\d+\.\d+$/.test(ext.version))
    findings.push(`${L}: version "${ext.version}" must be <major>.<minor>.<patch>`);
  if (!Array.isArray(ext.targets) || ext.targets.length === 0) findings.push(`${L}: targets is missing`);

  const files = Array.isArray(ext.files) ? ext.files : [];
  for (const f of files) {
    if (typeof f?.path !== 'string' || !fs.existsSync(path.join(root, f.path)))
      findings.push(`${L}: files entry ${JSON.stringify(f?.path)} does not exist`);
  }

  const contributions = Array.isArray(ext.contributions) ? ext.contributions : [];
  const ids = new Set();
  const contributedFolders = new Map(); // "tasks/X" -> count
  for (const c of contributions) {
    const C = `${L}: contribution "${c?.id}"`;
    if (typeof c?.id !== 'string' || !c.id) {
      findings.push(`${L}: a contribution has no id`);
      continue;
    }
    if (ids.has(c.id)) findings.push(`${C} is declared twice`);
    ids.add(c.id);
    if (typeof c.type !== 'string') findings.push(`${C} has no type`);
    if (!Array.isArray(c.targets) || c.targets.length === 0) findings.push(`${C} has no targets`);
    if (c.type === TASK_CONTRIBUTION_TYPE) {
      const name = String(c.properties?.name ?? '')
        .replace(/\\/g, '/')
        .replace(/\/+$/, '');
      if (!/^tasks\/[^/]+$/.test(name)) {
        findings.push(`${C}: properties.name must be "tasks/<folder>" (got ${JSON.stringify(c.properties?.name)})`);
        continue;
      }
      contributedFolders.set(name, (contributedFolders.get(name) ?? 0) + 1);
      if (!fs.existsSync(path.join(root, name, 'task.json'))) findings.push(`${C}: ${name}/task.json does not exist`);
      if (!coveredByFiles(files, name))
        findings.push(`${C}: ${name} is not covered by any "files" entry, so it would not be packaged`);
    }
  }
  for (const [name, n] of contributedFolders) if (n > 1) findings.push(`${L}: ${name} is contributed ${n} times`);

  const packagedIds = new Set();
  for (const { folder, hasTaskJson } of listTaskFolders(root)) {
    if (!hasTaskJson) continue;
    const rel = `tasks/${folder}`;
    if (!contributedFolders.has(rel))
      findings.push(
        `${L}: ${rel} has a task.json but no ${TASK_CONTRIBUTION_TYPE} contribution (run: node scripts/sync-manifest.mjs)`,
      );
    if (!coveredByFiles(files, rel))
      findings.push(`${L}: ${rel} is not covered by any "files" entry (run: node scripts/sync-manifest.mjs)`);
    if (contributedFolders.has(rel) && coveredByFiles(files, rel) && taskIds.has(folder))
      packagedIds.add(String(taskIds.get(folder)).toLowerCase());
  }
  for (const c of contributions) {
    if (c?.type !== ARTIFACT_CONTRIBUTION_TYPE) continue;
    lintArtifactType(c, findings, L);
    const d = c.properties?.downloadTaskId;
    if (d === undefined) continue;
    if (!packagedIds.has(String(d).toLowerCase())) {
      findings.push(
        `${L}: contribution "${c.id}" downloadTaskId ${JSON.stringify(d)} is not the id of a packaged task`,
      );
      continue;
    }
    // the server runs the download task with the artifact's inputs, by name: its service connection must come from one
    const folder = [...taskIds].find(([, id]) => String(id).toLowerCase() === String(d).toLowerCase())?.[0];
    const task = folder ? taskJsons.get(folder) : undefined;
    const descriptors = new Set(
      (Array.isArray(c.properties?.inputDescriptors) ? c.properties.inputDescriptors : []).map((x) => x?.id),
    );
    for (const i of Array.isArray(task?.inputs) ? task.inputs : []) {
      if (typeof i?.type === 'string' && i.type.startsWith('connectedService:') && !descriptors.has(i.name)) {
        findings.push(
          `${L}: contribution "${c.id}": download task tasks/${folder} input "${i.name}" (${i.type}) has no artifact inputDescriptor of the same id to be fed from`,
        );
      }
    }
  }

  const icons = ext.icons && typeof ext.icons === 'object' ? ext.icons : {};
  if (!icons.default) findings.push(`${L}: icons.default is missing`);
  for (const [k, rel] of Object.entries(icons)) {
    const p = path.join(root, String(rel));
    if (!fs.existsSync(p)) {
      findings.push(`${L}: icons.${k} ${rel} does not exist`);
      continue;
    }
    const s = pngSize(p);
    if (!s) findings.push(`${L}: icons.${k} ${rel} is not a PNG`);
    else if (k === 'default' && (s.width !== EXTENSION_ICON_SIZE || s.height !== EXTENSION_ICON_SIZE))
      findings.push(
        `${L}: icons.default ${rel} is ${s.width}x${s.height} (must be ${EXTENSION_ICON_SIZE}x${EXTENSION_ICON_SIZE})`,
      );
  }
  for (const [k, v] of Object.entries(ext.content && typeof ext.content === 'object' ? ext.content : {})) {
    if (typeof v?.path !== 'string' || !fs.existsSync(path.join(root, v.path))) {
      findings.push(`${L}: content.${k} ${JSON.stringify(v?.path)} does not exist`);
      continue;
    }
    // images the page shows must exist and be packaged (the marketplace resolves them inside the vsix)
    const md = fs.readFileSync(path.join(root, v.path), 'utf8');
    const refs = [
      ...md.matchAll(/!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g),
      ...md.matchAll(/<img\b[^>]*\bsrc\s*=\s*["']([^"']+)["']/gi),
    ].map((m) => m[1]);
    for (const ref of refs) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(ref) || ref.startsWith('#')) continue; // absolute URL
      const rel = path.posix.normalize(
        path.posix.join(path.posix.dirname(v.path.replace(/\\/g, '/')), ref.split(/[?#]/)[0]),
      );
      if (!fs.existsSync(path.join(root, rel)))
        findings.push(`${L}: content.${k} ${v.path} shows ${ref}, which does not exist`);
      else if (!coveredByFiles(files, rel))
        findings.push(`${L}: content.${k} ${v.path} shows ${ref}, which no "files" entry packages`);
    }
  }
}

/** Runs every check; returns { findings: string[], notes: string[], tasks: number }. Throws when the schema is missing. */
export function lintRepo(root = REPO_ROOT, schemaPath = DEFAULT_SCHEMA) {
  const validate = loadSchemaValidator(schemaPath);
  const findings = [];
  const notes = [];
  const taskIds = new Map(); // folder -> id
  const taskJsons = new Map(); // folder -> parsed task.json
  const seenIds = new Map(); // lower id -> folder
  let tasks = 0;
  for (const { folder, hasTaskJson } of listTaskFolders(root)) {
    if (!hasTaskJson) {
      findings.push(
        `tasks/${folder}: no task.json (a task folder must have one; without it the task is neither built nor packaged — add it or delete the folder)`,
      );
      continue;
    }
    tasks++;
    const task = readJson(path.join(root, 'tasks', folder, 'task.json'), findings, `tasks/${folder}/task.json`);
    if (!task || typeof task !== 'object') continue;
    lintTask(root, folder, task, validate, findings);
    if (typeof task.id === 'string') {
      const k = task.id.toLowerCase();
      if (seenIds.has(k))
        findings.push(`tasks/${folder}/task.json: id ${task.id} is also used by tasks/${seenIds.get(k)}`);
      else seenIds.set(k, folder);
      taskIds.set(folder, task.id);
      taskJsons.set(folder, task);
    }
  }
  lintExtension(root, taskIds, taskJsons, findings);
  return { findings, notes, tasks };
}

function main(argv) {
  let root = REPO_ROOT;
  let schema;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--root') root = path.resolve(argv[++i]);
    else if (argv[i] === '--schema') schema = path.resolve(argv[++i]);
    else {
      console.error(`lint-manifest: unknown argument ${argv[i]}`);
      return 2;
    }
  }
  let result;
  try {
    result = lintRepo(root, schema);
  } catch (e) {
    console.error(`lint-manifest: ${e.message}`);
    return 1;
  }
  for (const n of result.notes) console.log(`note: ${n}`);
  for (const f of result.findings) console.log(`error: ${f}`);
  if (result.findings.length) {
    console.log(`lint-manifest: ${result.findings.length} finding(s) in ${result.tasks} task(s) + vss-extension.json`);
    return 1;
  }
  console.log(`lint-manifest: ${result.tasks} task(s) + vss-extension.json OK`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  process.exitCode = main(process.argv.slice(2));
}
