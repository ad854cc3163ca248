// scripts/lint-manifest.mjs against a small, valid extension tree in a temp folder, then the same tree with one
// defect seeded at a time; and against the real repository.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const LINT = path.join(ROOT, 'scripts', 'lint-manifest.mjs');
const SCHEMA = path.resolve(ROOT, 'test', 'fixtures', 'third-party', 'azure-pipelines-task-lib', 'tasks.schema.json');

const REGISTER_ID = '6f1c2a0e-5b7d-4c1e-9a53-0d2b8e4f7a11';
const DOWNLOAD_ID = '0b9e3d6c-2f4a-4e8b-8c1d-7a5f3e2b1c90';

function taskJson(name: string, id: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    name,
    friendlyName: `${name.replace('AzureML', 'Azure ML ')}`,
    description: `${name} description`,
    helpMarkDown: 'See the README.',
    category: 'Deploy',
    author: 'test',
    version: { Major: 1, Minor: 0, Patch: 3 },
    instanceNameFormat: 'Azure ML: $(modelName)',
    groups: [{ name: 'advanced', displayName: 'Advanced', isExpanded: false }],
    inputs: [
      {
        name: 'connection',
        type: 'connectedService:AzureRM',
        label: 'Azure subscription',
        required: true,
        helpMarkDown: 'AzureRM service connection.',
      },
      { name: 'modelName', type: 'string', label: 'Model name', required: true, helpMarkDown: 'Name of the model.' },
      {
        name: 'source',
        type: 'pickList',
        label: 'Source',
        defaultValue: 'path',
        options: { path: 'Path', job: 'Job output' },
        helpMarkDown: 'Where the model comes from.',
      },
      {
        name: 'modelPath',
        type: 'filePath',
        label: 'Path',
        visibleRule: 'source = path',
        helpMarkDown: 'File or folder.',
      },
      {
        name: 'tags',
        type: 'multiLine',
        label: 'Tags',
        groupName: 'advanced',
        visibleRule: 'source != job && modelName != ""',
        helpMarkDown: 'key=value lines.',
      },
    ],
    outputVariables: [
      { name: 'modelName', description: 'The model name.' },
      { name: 'modelVersion', description: 'The version.' },
    ],
    execution: { Node20_1: { target: 'index.js' }, Node24: { target: 'index.js' } },
    ...extra,
  };
}

const ENTRY_SOURCE = `import { setOutput } from '../pipeline';
setOutput('modelName', 'm');
setOutput("modelVersion", '1');
for (const k of ['a']) setOutput(\`metric\${k}\`, '1'); // dynamic: not checked
`;

function writeJson(file: string, v: unknown) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(v, null, 2));
}

/** A valid artifact type, shaped like the first-party ones (TeamCity/ExternalTfs in microsoft/azure-pipelines-extensions). */
const ARTIFACT_PROPERTIES = () => ({
  name: 'AzureMLModel',
  downloadTaskId: DOWNLOAD_ID,
  endpointTypeId: 'azurerm',
  artifactType: 'Package',
  inputDescriptors: [
    {
      id: 'connection',
      inputMode: 'combo',
      hasDynamicValueInformation: true,
      validation: { isRequired: true, dataType: 'string' },
    },
    {
      id: 'definition',
      inputMode: 'combo',
      hasDynamicValueInformation: true,
      dependencyInputIds: ['connection'],
      validation: { isRequired: true, dataType: 'string' },
    },
    {
      id: 'defaultVersionType',
      inputMode: 'combo',
      hasDynamicValueInformation: false,
      validation: { isRequired: true, dataType: 'string' },
      values: {
        defaultValue: 'latestType',
        isLimitedToPossibleValues: true,
        possibleValues: [
          { value: 'latestType', displayValue: 'Latest' },
          { value: 'specificVersionType', displayValue: 'Specific version' },
        ],
      },
    },
    {
      id: 'defaultVersionSpecific',
      inputMode: 'combo',
      hasDynamicValueInformation: true,
      dependencyInputIds: ['connection', 'definition', 'defaultVersionType'],
      validation: { isRequired: true, dataType: 'string' },
      properties: { visibleRule: 'defaultVersionType == specificVersionType' },
    },
  ],
  dataSourceBindings: [
    {
      target: 'definition',
      endpointId: '{{connection}}',
      endpointUrl: '{{#nextLink}}{{{nextLink}}}{{/nextLink}}{{^nextLink}}{{{endpoint.url}}}models{{/nextLink}}',
      resultSelector: 'jsonpath:$.value[*]',
      resultTemplate: '{ "Value": "{{{name}}}", "DisplayValue": "{{{name}}}" }',
      initialContextTemplate: '{"nextLink": ""}',
      callbackContextTemplate: '{"nextLink": "{{{response.nextLink}}}"}',
      callbackRequiredTemplate: '{{isTokenPresent response.nextLink}}',
    },
    {
      target: 'defaultVersionSpecific',
      endpointUrl: '{{{endpoint.url}}}models/{{{definition}}}/versions',
      resultSelector: 'jsonpath:$.value[*]',
      resultTemplate: '{ "Value": "{{{name}}}" }',
    },
    {
      target: 'versions',
      endpointUrl: '{{{endpoint.url}}}models/{{{definition}}}/versions',
      resultSelector: 'jsonpath:$.value[*]',
      resultTemplate: '{ "Value": "{{{name}}}" }',
    },
    {
      target: 'artifactSourceVersionUrl',
      resultTemplate: 'https://ml.azure.com/model/{{{definition}}}:{{{version}}}/details',
    },
  ],
});
const ART = (e: any) => e.contributions[2].properties;
const artInput = (e: any, id: string) => ART(e).inputDescriptors.find((i: any) => i.id === id);
const artBinding = (e: any, t: string) => ART(e).dataSourceBindings.find((b: any) => b.target === t);

/** A valid two-task extension tree. */
const REPO_URI = 'https://github.com/contoso/azureml-fork';

function makeTree(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lint-manifest-'));
  for (const [folder, name, id, entry] of [
    ['AzureMLModelRegisterV1', 'AzureMLModelRegister', REGISTER_ID, 'modelRegister'],
    ['AzureMLModelDownloadV1', 'AzureMLModelDownload', DOWNLOAD_ID, 'modelDownload'],
  ] as const) {
    writeJson(
      path.join(dir, 'tasks', folder, 'task.json'),
      taskJson(name, id, { helpUrl: `${REPO_URI}/blob/main/docs/tasks/${folder}.md` }),
    );
    fs.mkdirSync(path.join(dir, 'docs', 'tasks'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'docs', 'tasks', `${folder}.md`), `# ${name}@1\n`);
    fs.copyFileSync(path.join(ROOT, 'tasks', folder, 'icon.png'), path.join(dir, 'tasks', folder, 'icon.png'));
    fs.mkdirSync(path.join(dir, 'src', 'tasks'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'src', 'tasks', `${entry}.entry.ts`), ENTRY_SOURCE);
  }
  fs.mkdirSync(path.join(dir, 'images'));
  fs.copyFileSync(path.join(ROOT, 'images', 'extension-icon.png'), path.join(dir, 'images', 'extension-icon.png'));
  fs.writeFileSync(
    path.join(dir, 'overview.md'),
    '# Overview\n\n![Icon](images/extension-icon.png "icon") ![Badge](https://example.com/badge.svg)\n',
  );
  writeJson(path.join(dir, 'vss-extension.json'), {
    manifestVersion: 1,
    id: 'azureml-mlops',
    publisher: 'p',
    version: '1.0.0',
    name: 'X',
    repository: { type: 'git', uri: REPO_URI },
    targets: [{ id: 'Microsoft.VisualStudio.Services' }],
    icons: { default: 'images/extension-icon.png' },
    content: { details: { path: 'overview.md' } },
    files: [
      { path: 'images', addressable: true },
      { path: 'tasks/AzureMLModelRegisterV1' },
      { path: 'tasks/AzureMLModelDownloadV1' },
    ],
    contributions: [
      {
        id: 'register-task',
        type: 'ms.vss-distributed-task.task',
        targets: ['ms.vss-distributed-task.tasks'],
        properties: { name: 'tasks/AzureMLModelRegisterV1' },
      },
      {
        id: 'download-task',
        type: 'ms.vss-distributed-task.task',
        targets: ['ms.vss-distributed-task.tasks'],
        properties: { name: 'tasks/AzureMLModelDownloadV1' },
      },
      {
        id: 'model-artifact',
        type: 'ms.vss-releaseartifact.release-artifact-type',
        targets: ['ms.vss-releaseartifact.artifact-types'],
        properties: ARTIFACT_PROPERTIES(),
      },
    ],
  });
  return dir;
}

type LintResult = { findings: string[]; notes: string[]; tasks: number };
let lintRepo: (root: string, schema: string) => LintResult;
before(async () => {
  ({ lintRepo } = (await import(LINT)) as { lintRepo: typeof lintRepo });
});

/** In-process for speed (the CLI itself is exercised below): exit code and lines as the CLI would print them. */
function lint(root: string) {
  const r = lintRepo(root, SCHEMA);
  const lines = [...r.notes.map((n) => `note: ${n}`), ...r.findings.map((f) => `error: ${f}`)];
  return {
    code: r.findings.length ? 1 : 0,
    out: lines.join('\n') + `\n${r.tasks} task(s) + vss-extension.json ${r.findings.length ? 'failed' : 'OK'}`,
    errors: r.findings.map((f) => `error: ${f}`),
  };
}

test('the CLI prints findings and exits 1 on a broken tree', () => {
  const dir = makeTree();
  edit(REG(dir), (t) => {
    delete t.execution.Node24;
  });
  const r = spawnSync(process.execPath, [LINT, '--root', dir, '--schema', SCHEMA], { encoding: 'utf8' });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^error: tasks\/AzureMLModelRegisterV1\/task\.json: execution\.Node24 is missing/m);
  assert.match(r.stdout, /lint-manifest: 1 finding\(s\) in 2 task\(s\)/);
});

function edit(file: string, fn: (v: any) => void) {
  const v = JSON.parse(fs.readFileSync(file, 'utf8'));
  fn(v);
  fs.writeFileSync(file, JSON.stringify(v, null, 2));
}

const REG = (dir: string) => path.join(dir, 'tasks', 'AzureMLModelRegisterV1', 'task.json');
const DL = (dir: string) => path.join(dir, 'tasks', 'AzureMLModelDownloadV1', 'task.json');
const EXT = (dir: string) => path.join(dir, 'vss-extension.json');

test('a valid tree passes', () => {
  const dir = makeTree();
  const r = lint(dir);
  assert.equal(r.code, 0, r.out);
  assert.deepEqual(r.errors, []);
  assert.match(r.out, /2 task\(s\) \+ vss-extension\.json OK/);
});

const defects: Array<{ name: string; seed: (dir: string) => void; expect: RegExp }> = [
  {
    name: 'duplicate task id',
    seed: (d) =>
      edit(DL(d), (t) => {
        t.id = REGISTER_ID.toUpperCase();
      }),
    expect:
      /task\.json: id 6f1c2a0e-5b7d-4c1e-9a53-0d2b8e4f7a11 is also used by tasks\/AzureMLModel(Register|Download)V1/i,
  },
  {
    name: 'malformed GUID',
    seed: (d) =>
      edit(REG(d), (t) => {
        t.id = 'not-a-guid';
      }),
    expect: /AzureMLModelRegisterV1\/task\.json: id "not-a-guid" is not a GUID/,
  },
  {
    name: 'missing Node24 handler',
    seed: (d) =>
      edit(REG(d), (t) => {
        delete t.execution.Node24;
      }),
    expect: /execution\.Node24 is missing/,
  },
  {
    name: 'wrong handler target',
    seed: (d) =>
      edit(REG(d), (t) => {
        t.execution.Node20_1.target = 'main.js';
      }),
    expect: /execution\.Node20_1\.target must be "index\.js"/,
  },
  {
    name: 'missing entry source',
    seed: (d) => fs.rmSync(path.join(d, 'src', 'tasks', 'modelRegister.entry.ts')),
    expect: /entry source src\/tasks\/modelRegister\.entry\.ts does not exist/,
  },
  {
    name: 'friendlyName too long',
    seed: (d) =>
      edit(REG(d), (t) => {
        t.friendlyName = 'Azure Machine Learning model registration task';
      }),
    expect: /friendlyName ".*" is 46 characters \(max 40\)/,
  },
  {
    name: 'non-integer version',
    seed: (d) =>
      edit(REG(d), (t) => {
        t.version.Patch = 1.5;
      }),
    expect: /version\.Patch must be a non-negative integer/,
  },
  {
    name: 'bad visibleRule reference',
    seed: (d) =>
      edit(REG(d), (t) => {
        t.inputs[3].visibleRule = 'source = path || modelKind = mlflow';
      }),
    expect: /input "modelPath" visibleRule refers to unknown input "modelKind"/,
  },
  {
    name: 'unparseable visibleRule',
    seed: (d) =>
      edit(REG(d), (t) => {
        t.inputs[3].visibleRule = 'source path';
      }),
    expect: /input "modelPath" visibleRule: cannot parse clause "source path"/,
  },
  {
    name: 'undeclared output',
    seed: (d) =>
      fs.appendFileSync(path.join(d, 'src', 'tasks', 'modelRegister.entry.ts'), "setOutput('modelUri', 'x');\n"),
    expect: /output "modelUri" is set in src\/tasks\/modelRegister\.entry\.ts but not declared in outputVariables/,
  },
  {
    name: 'output without description',
    seed: (d) =>
      edit(REG(d), (t) => {
        delete t.outputVariables[1].description;
      }),
    expect: /output variable "modelVersion" has no description/,
  },
  {
    name: 'input without helpMarkDown',
    seed: (d) =>
      edit(REG(d), (t) => {
        delete t.inputs[1].helpMarkDown;
      }),
    expect: /input "modelName" has no helpMarkDown/,
  },
  {
    name: 'unknown group',
    seed: (d) =>
      edit(REG(d), (t) => {
        t.inputs[4].groupName = 'extras';
      }),
    expect: /input "tags" refers to group "extras" which is not declared/,
  },
  {
    name: 'other connectedService type',
    seed: (d) =>
      edit(REG(d), (t) => {
        t.inputs[0].type = 'connectedService:Generic';
      }),
    expect: /input "connection" has type connectedService:Generic/,
  },
  {
    name: 'instanceNameFormat reference',
    seed: (d) =>
      edit(REG(d), (t) => {
        t.instanceNameFormat = 'Register $(model)';
      }),
    expect: /instanceNameFormat refers to unknown input "model"/,
  },
  {
    name: 'schema violation',
    seed: (d) =>
      edit(REG(d), (t) => {
        t.inputs[1].name = 'model-name';
        t.outputVariables[0].name = 'model.name';
      }),
    expect: /schema: \/inputs\/1\/name must match pattern/,
  },
  {
    name: 'downloadTaskId pointing nowhere',
    seed: (d) =>
      edit(EXT(d), (e) => {
        e.contributions[2].properties.downloadTaskId = '11111111-2222-3333-4444-555555555555';
      }),
    expect:
      /contribution "model-artifact" downloadTaskId "11111111-2222-3333-4444-555555555555" is not the id of a packaged task/,
  },
  {
    name: 'downloadTaskId of an unpackaged task',
    seed: (d) =>
      edit(EXT(d), (e) => {
        e.files = e.files.filter((f: any) => f.path !== 'tasks/AzureMLModelDownloadV1');
      }),
    expect: /downloadTaskId .* is not the id of a packaged task/,
  },
  {
    name: 'download task connection not fed by the artifact',
    seed: (d) =>
      edit(EXT(d), (e) => {
        e.contributions[2].properties.inputDescriptors[0].id = 'azureSubscription';
      }),
    expect:
      /download task tasks\/AzureMLModelDownloadV1 input "connection" \(connectedService:AzureRM\) has no artifact inputDescriptor of the same id/,
  },
  // release-artifact-type rules A1–A5 (sources in scripts/lint-manifest.mjs)
  {
    name: 'artifact: dependent input without a binding (A1)',
    seed: (d) =>
      edit(EXT(d), (e) => {
        artInput(e, 'defaultVersionType').dependencyInputIds = ['connection', 'definition'];
      }),
    expect:
      /contribution "model-artifact" input "defaultVersionType" depends on connection, definition but has no dataSourceBinding: .*static values are lost/,
  },
  {
    name: 'artifact: top-level visibleRule (A2)',
    seed: (d) =>
      edit(EXT(d), (e) => {
        const i = artInput(e, 'defaultVersionSpecific');
        i.visibleRule = i.properties.visibleRule;
        delete i.properties;
      }),
    expect:
      /input "defaultVersionSpecific" has a top-level visibleRule, which the server drops: write it as "properties": \{ "visibleRule": "defaultVersionType == specificVersionType" \}/,
  },
  {
    name: 'artifact: properties.visibleRule naming an unknown input (A2)',
    seed: (d) =>
      edit(EXT(d), (e) => {
        artInput(e, 'defaultVersionSpecific').properties.visibleRule = 'versionKind == specific';
      }),
    expect: /input "defaultVersionSpecific" properties\.visibleRule refers to unknown input "versionKind"/,
  },
  {
    name: 'artifact: callbackRequiredTemplate not reading response.* (A3)',
    seed: (d) =>
      edit(EXT(d), (e) => {
        artBinding(e, 'definition').callbackRequiredTemplate = '{{#nextLink}}true{{/nextLink}}';
      }),
    expect: /dataSourceBinding "definition" callbackRequiredTemplate does not read the page/,
  },
  {
    name: 'artifact: callbackContextTemplate not reading response.* (A3)',
    seed: (d) =>
      edit(EXT(d), (e) => {
        artBinding(e, 'definition').callbackContextTemplate = '{"nextLink": "{{{nextLink}}}"}';
      }),
    expect: /dataSourceBinding "definition" callbackContextTemplate does not read the page/,
  },
  {
    name: 'artifact: endpointUrl writing {{.}} (A3)',
    seed: (d) =>
      edit(EXT(d), (e) => {
        artBinding(e, 'definition').endpointUrl =
          '{{#nextLink}}{{{.}}}{{/nextLink}}{{^nextLink}}{{{endpoint.url}}}models{{/nextLink}}';
      }),
    expect: /dataSourceBinding "definition" endpointUrl writes \{\{\.\}\}/,
  },
  {
    name: 'artifact: link binding rendering JSON (A4)',
    seed: (d) =>
      edit(EXT(d), (e) => {
        artBinding(e, 'artifactSourceVersionUrl').resultTemplate =
          '{ "Url": "https://ml.azure.com/model/{{{definition}}}" }';
      }),
    expect: /dataSourceBinding "artifactSourceVersionUrl" resultTemplate must render a bare absolute URL/,
  },
  {
    name: 'artifact: connection without dynamic values (A5)',
    seed: (d) =>
      edit(EXT(d), (e) => {
        delete artInput(e, 'connection').hasDynamicValueInformation;
      }),
    expect: /input "connection" must have "hasDynamicValueInformation": true/,
  },
  {
    name: 'artifact: connection with dataType guid (A5)',
    seed: (d) =>
      edit(EXT(d), (e) => {
        artInput(e, 'connection').validation.dataType = 'guid';
      }),
    expect: /input "connection" must have validation\.dataType "string" \(got "guid"\)/,
  },
  {
    name: 'task without helpUrl',
    seed: (d) =>
      edit(REG(d), (t) => {
        delete t.helpUrl;
      }),
    expect:
      /tasks\/AzureMLModelRegisterV1\/task\.json: helpUrl must be the task's page https:\/\/github\.com\/contoso\/azureml-fork\/blob\/main\/docs\/tasks\/AzureMLModelRegisterV1\.md \(got undefined\)/,
  },
  {
    name: 'task without its page',
    seed: (d) => fs.rmSync(path.join(d, 'docs', 'tasks', 'AzureMLModelRegisterV1.md')),
    expect:
      /tasks\/AzureMLModelRegisterV1\/task\.json: its page docs\/tasks\/AzureMLModelRegisterV1\.md does not exist/,
  },
  {
    name: 'duplicate contribution id',
    seed: (d) =>
      edit(EXT(d), (e) => {
        e.contributions[1].id = 'register-task';
      }),
    expect: /contribution "register-task" is declared twice/,
  },
  {
    name: 'task folder without contribution',
    seed: (d) =>
      edit(EXT(d), (e) => {
        e.contributions.splice(0, 1);
      }),
    expect: /tasks\/AzureMLModelRegisterV1 has a task\.json but no ms\.vss-distributed-task\.task contribution/,
  },
  {
    name: 'task folder not in files',
    seed: (d) =>
      edit(EXT(d), (e) => {
        e.files = e.files.filter((f: any) => f.path !== 'tasks/AzureMLModelRegisterV1');
      }),
    expect: /contribution "register-task": tasks\/AzureMLModelRegisterV1 is not covered by any "files" entry/,
  },
  {
    name: 'contribution to a missing folder',
    seed: (d) =>
      edit(EXT(d), (e) => {
        e.contributions.push({
          id: 'job-task',
          type: 'ms.vss-distributed-task.task',
          targets: ['ms.vss-distributed-task.tasks'],
          properties: { name: 'tasks/AzureMLJobV1' },
        });
      }),
    expect: /contribution "job-task": tasks\/AzureMLJobV1\/task\.json does not exist/,
  },
  {
    name: 'task folder without task.json',
    seed: (d) => {
      fs.mkdirSync(path.join(d, 'tasks', 'AzureMLJobV1'));
      fs.copyFileSync(
        path.join(ROOT, 'tasks', 'AzureMLJobV1', 'icon.png'),
        path.join(d, 'tasks', 'AzureMLJobV1', 'icon.png'),
      );
    },
    expect: /^error: tasks\/AzureMLJobV1: no task\.json \(a task folder must have one/,
  },
  {
    name: 'extension icon of the wrong size',
    seed: (d) =>
      fs.copyFileSync(
        path.join(ROOT, 'tasks', 'AzureMLJobV1', 'icon.png'),
        path.join(d, 'images', 'extension-icon.png'),
      ),
    expect: /icons\.default images\/extension-icon\.png is 32x32 \(must be 128x128\)/,
  },
  {
    name: 'task icon not a PNG',
    seed: (d) => fs.writeFileSync(path.join(d, 'tasks', 'AzureMLModelRegisterV1', 'icon.png'), '<svg/>'),
    expect: /tasks\/AzureMLModelRegisterV1\/icon\.png is not a PNG/,
  },
  {
    name: 'missing overview',
    seed: (d) => fs.rmSync(path.join(d, 'overview.md')),
    expect: /content\.details "overview\.md" does not exist/,
  },
  {
    name: 'overview image missing',
    seed: (d) => fs.appendFileSync(path.join(d, 'overview.md'), '\n![Summary](images/summary.png)\n'),
    expect: /content\.details overview\.md shows images\/summary\.png, which does not exist/,
  },
  {
    name: 'overview image not packaged',
    seed: (d) => {
      fs.mkdirSync(path.join(d, 'docs'), { recursive: true });
      fs.copyFileSync(path.join(d, 'images', 'extension-icon.png'), path.join(d, 'docs', 'a.png'));
      fs.appendFileSync(path.join(d, 'overview.md'), '\n<img src="docs/a.png" width="400">\n');
    },
    expect: /shows docs\/a\.png, which no "files" entry packages/,
  },
  {
    name: 'name does not match folder',
    seed: (d) =>
      edit(REG(d), (t) => {
        t.name = 'AzureMLRegister';
      }),
    expect: /name "AzureMLRegister" does not match folder AzureMLModelRegisterV1/,
  },
];

for (const d of defects) {
  test(`finds: ${d.name}`, () => {
    const dir = makeTree();
    d.seed(dir);
    const r = lint(dir);
    assert.equal(r.code, 1, `expected exit 1\n${r.out}`);
    assert.ok(
      r.errors.some((l) => d.expect.test(l)),
      `expected a finding matching ${d.expect}\n${r.out}`,
    );
  });
}

test('a missing schema fails with a clear message', () => {
  const dir = makeTree();
  const r = spawnSync(process.execPath, [LINT, '--root', dir, '--schema', path.join(dir, 'nope.json')], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /task\.json schema not found at .*nope\.json/);
});

test('the real repository passes', () => {
  const r = spawnSync(process.execPath, [LINT], { encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /vss-extension\.json OK/);
});

// Server (agentless) tasks, issue 11: the narrow exception for execution.HttpRequest (scripts/lint-manifest.mjs).
const WAIT = (dir: string) => path.join(dir, 'tasks', 'AzureMLJobWaitV1', 'task.json');
/** makeTree() + the real AzureMLJobWaitV1 (a server task: no entry source, no bundle) */
function makeTreeWithServerTask(): string {
  const dir = makeTree();
  fs.mkdirSync(path.join(dir, 'tasks', 'AzureMLJobWaitV1'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'tasks', 'AzureMLJobWaitV1', 'task.json'), WAIT(dir));
  edit(WAIT(dir), (t) => {
    t.helpUrl = `${REPO_URI}/blob/main/docs/tasks/AzureMLJobWaitV1.md`;
  });
  fs.writeFileSync(path.join(dir, 'docs', 'tasks', 'AzureMLJobWaitV1.md'), '# AzureMLJobWait@1\n');
  fs.copyFileSync(
    path.join(ROOT, 'tasks', 'AzureMLJobWaitV1', 'icon.png'),
    path.join(dir, 'tasks', 'AzureMLJobWaitV1', 'icon.png'),
  );
  edit(EXT(dir), (e) => {
    e.files.push({ path: 'tasks/AzureMLJobWaitV1' });
    e.contributions.push({
      id: 'wait-task',
      type: 'ms.vss-distributed-task.task',
      targets: ['ms.vss-distributed-task.tasks'],
      properties: { name: 'tasks/AzureMLJobWaitV1' },
    });
  });
  return dir;
}

test('a server task (runsOn Server, execution.HttpRequest, no entry source) passes', () => {
  const r = lint(makeTreeWithServerTask());
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /3 task\(s\) \+ vss-extension\.json OK/);
});

const serverDefects: Array<{ name: string; seed: (dir: string) => void; expect: RegExp }> = [
  {
    name: 'an agent task with an HttpRequest handler is still refused by the schema',
    seed: (d) =>
      edit(REG(d), (t) => {
        t.execution.HttpRequest = { Execute: { EndpointUrl: 'https://x', Method: 'GET' } };
      }),
    expect: /AzureMLModelRegisterV1\/task\.json: schema: \/execution must NOT have additional properties/,
  },
  {
    name: 'runsOn Server with a Node handler',
    seed: (d) =>
      edit(WAIT(d), (t) => {
        t.execution.Node20_1 = { target: 'index.js' };
      }),
    expect: /runsOn \["Server"\]: a server task runs only on Server\/ServerGate/,
  },
  {
    name: 'the schema still applies to the rest of a server task',
    seed: (d) =>
      edit(WAIT(d), (t) => {
        t.inputs[1].name = 'resource-group';
      }),
    expect: /AzureMLJobWaitV1\/task\.json: schema: \/inputs\/1\/name must match pattern/,
  },
  {
    name: 'an Execute property the server does not read',
    seed: (d) =>
      edit(WAIT(d), (t) => {
        t.execution.HttpRequest.Execute.Timeout = '10';
      }),
    expect: /Execute\.Timeout is not read by the server/,
  },
  {
    name: 'WaitForCompletion in Cancel',
    seed: (d) =>
      edit(WAIT(d), (t) => {
        t.execution.HttpRequest.Cancel.WaitForCompletion = 'true';
      }),
    expect: /Cancel\.WaitForCompletion is not read by the server/,
  },
  {
    name: 'a Body that is not JSON',
    seed: (d) =>
      edit(WAIT(d), (t) => {
        t.execution.HttpRequest.Execute.Body = '{"properties": ';
      }),
    expect: /Execute\.Body is not JSON/,
  },
  {
    name: 'a macro naming no input',
    seed: (d) =>
      edit(WAIT(d), (t) => {
        t.execution.HttpRequest.Execute.EndpointUrl += '&x=$(jobname2)';
      }),
    expect: /refers to \$\(jobname2\), which is neither an input nor a system\/endpoint variable/,
  },
  {
    name: 'EndpointId not a connection input',
    seed: (d) =>
      edit(WAIT(d), (t) => {
        t.execution.HttpRequest.Execute.EndpointId = '$(workspace)';
      }),
    expect: /Execute\.EndpointId "\$\(workspace\)" must be \$\(<connectedService input>\)/,
  },
  {
    name: 'an unknown HTTP method',
    seed: (d) =>
      edit(WAIT(d), (t) => {
        t.execution.HttpRequest.Execute.Method = 'FETCH';
      }),
    expect: /Execute\.Method "FETCH" is not one of/,
  },
  {
    name: 'a $(pickList) Method with an option that is no HTTP method',
    seed: (d) =>
      edit(WAIT(d), (t) => {
        t.inputs.find((i: any) => i.name === 'mode').options.FETCH = 'x';
      }),
    expect: /Execute\.Method "\$\(mode\)" is not one of/,
  },
  {
    name: 'a $(string input) Method',
    seed: (d) =>
      edit(WAIT(d), (t) => {
        t.execution.HttpRequest.Execute.Method = '$(workspace)';
      }),
    expect: /Execute\.Method "\$\(workspace\)" is not one of/,
  },
  {
    name: 'a Body whose bare macro leaves broken JSON',
    seed: (d) =>
      edit(WAIT(d), (t) => {
        t.execution.HttpRequest.Execute.Body = '{"properties":{$(jobDefinition),"x":1}}';
      }),
    expect: /Execute\.Body is not JSON/,
  },
];
for (const d of serverDefects) {
  test(`finds (server task): ${d.name}`, () => {
    const dir = makeTreeWithServerTask();
    d.seed(dir);
    const r = lint(dir);
    assert.equal(r.code, 1, `expected exit 1\n${r.out}`);
    assert.ok(
      r.errors.some((l) => d.expect.test(l)),
      `expected a finding matching ${d.expect}\n${r.out}`,
    );
  });
}
