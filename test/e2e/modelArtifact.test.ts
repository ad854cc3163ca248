// The "Azure ML model" release artifact (vss-extension.json) evaluated the way Azure DevOps does (test/helpers/
// artifactHarness.ts: the server's template engine and data-source calls, the release editor, the release) against
// Azure-in-a-box: the editor flow, paging as the server evaluates it, a workspace with 300 models and 2,000 versions,
// links, release variables, and the injected AzureMLModelDownload@1 run with the inputs the server would give it.
//
// ARTIFACT_MANIFEST=<path to a vss-extension.json> evaluates another manifest (used to show that these tests fail on
// the manifest before issue 8).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startAzureInABox, type AzureInABox } from '../emulator';
import {
  agentEnvName,
  ArtifactServer,
  boxEndpoint,
  bindingFor,
  callDataSource,
  downloadTaskJson,
  injectedTaskInputs,
  loadArtifactType,
  MAX_RESPONSE_CHARS,
  ReleaseEditor,
  releaseSourceData,
  releaseVariables,
  releaseVersion,
  renderSourceId,
  renderTemplate,
  runInjectedDownload,
  TemplateError,
  type ArtifactType,
  type Endpoint,
  type LinkedArtifact,
} from '../helpers/artifactHarness';
import { arm, seedModelVersion, wsArmPath } from '../helpers/modelSeed';
import { agentEnv, REPO_ROOT } from '../helpers/agent';
import { CONTAINERS, VERSIONS } from '../emulator/arm/models';
import { addRegistry } from '../emulator/arm/registries';

const MODEL = 'churn-model';
const BIG = 'big-model';
const MODELS = 300; // churn-model, big-model and 298 others
const BIG_VERSIONS = 2000;
let box: AzureInABox;
let type: ArtifactType;
let endpoint: Endpoint;
let server: ArtifactServer;
let artifact: LinkedArtifact;

before(async () => {
  box = await startAzureInABox({ fastLro: true });
  type = loadArtifactType(process.env.ARTIFACT_MANIFEST ?? REPO_ROOT);
  endpoint = boxEndpoint(box);
  server = new ArtifactServer(type, [endpoint]);
  // versions created in the order 1, 2, 10, 3: newest first by creation is 3, 10, 2, 1 (not numeric order)
  for (const v of ['1', '2', '10', '3'])
    await seedModelVersion(box, MODEL, v, { 'weights.txt': `weights of ${v}\n`, 'sub/config.json': `{"v":"${v}"}` });
  // 2,000 versions of big-model (created one second apart, 2000 the newest) and 298 more models, put straight into the
  // emulator's store in the record shape of test/emulator/arm/models.ts: 2,300 ARM PUTs would take minutes; what is
  // under test is the list/paging route the pickers call, not registration
  const churn = await arm<{ id: string }>(box, 'GET', wsArmPath(box, `/models/${MODEL}/versions/1`));
  const wsId = churn.id.slice(0, churn.id.indexOf(`/models/${MODEL}/`));
  const sd = (t: number) => {
    const at = new Date(Date.UTC(2024, 0, 1) + t * 1000).toISOString();
    return {
      createdAt: at,
      createdBy: box.clientId,
      createdByType: 'Application',
      lastModifiedAt: at,
      lastModifiedBy: box.clientId,
      lastModifiedByType: 'Application',
    };
  };
  // Store.put rewrites the kind's JSON file on every put (quadratic for 2,300 records): write once at the end
  const store = box.store as unknown as { save(kind: string): void };
  const save = store.save;
  store.save = () => {};
  const container = (name: string, t: number) =>
    box.store.put(CONTAINERS, `${wsId}/models/${name}`, {
      id: `${wsId}/models/${name}`,
      name,
      systemData: sd(t),
      properties: { description: 'filler', tags: {}, properties: {}, isArchived: false },
    });
  container(BIG, 0);
  for (let n = 1; n <= BIG_VERSIONS; n++) {
    const id = `${wsId}/models/${BIG}/versions/${n}`;
    box.store.put(VERSIONS, id, {
      id,
      name: String(n),
      model: BIG,
      seq: n,
      systemData: sd(n),
      properties: {
        description: null,
        tags: {},
        properties: {},
        isAnonymous: false,
        isArchived: false,
        modelType: 'custom_model',
        modelUri: `azureml://subscriptions/${box.subscriptionId}/resourcegroups/${box.resourceGroup}/workspaces/${box.workspace}/datastores/workspaceblobstore/paths/big/${n}/`,
        jobName: null,
        flavors: null,
      },
    });
  }
  for (let i = 0; i < MODELS - 2; i++) container(`other-${String(i).padStart(3, '0')}`, i);
  store.save = save;
  store.save(CONTAINERS);
  store.save(VERSIONS);
  const rg2 = `/subscriptions/${box.subscriptionId}/resourceGroups/rg-other`;
  box.store.put('resourceGroups', rg2, { id: rg2, name: 'rg-other', location: 'westeurope' });
  artifact = {
    alias: '_churn-model',
    inputs: {
      connection: endpoint.id,
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      definition: MODEL,
      defaultVersionType: 'latestType',
    },
  };
});
after(async () => {
  await box?.stop();
});

/** The editor after "Add an artifact" → connection → (resource group, workspace pre-selected) → model. */
async function editorWithModel(model = MODEL): Promise<ReleaseEditor> {
  const ed = new ReleaseEditor(type, server);
  await ed.open();
  await ed.select('connection', endpoint.name);
  await ed.select('resourceGroup', box.resourceGroup);
  await ed.select('workspace', box.workspace);
  await ed.select('definition', model);
  return ed;
}

describe('server template engine (harness rules T1–T7)', () => {
  test('a section over a string keeps the context: {{{.}}} is the whole context, not the string', () => {
    const out = renderTemplate('{{#nextLink}}{{{.}}}{{/nextLink}}', { nextLink: 'https://x/next', other: 1 });
    assert.notEqual(out, 'https://x/next');
    assert.deepEqual(JSON.parse(out), { nextLink: 'https://x/next', other: 1 });
    assert.equal(
      renderTemplate('{{#nextLink}}{{{nextLink}}}{{/nextLink}}', { nextLink: 'https://x/next' }),
      'https://x/next',
    );
  });
  test('names are looked up in the current context only (no walk up), ../ and @root reach out', () => {
    const ctx = { url: 'u', response: { value: [1] } };
    assert.equal(renderTemplate('{{#response}}[{{{url}}}]{{/response}}', ctx), '[]');
    assert.equal(renderTemplate('{{#response}}[{{{../url}}}|{{{@root.url}}}]{{/response}}', ctx), '[u|u]');
  });
  test('first-party ARM paging helpers over response.* (isTokenPresent, getTokenValue, extractUrlQueryParameter)', () => {
    const next =
      'https://management.azure.com/subscriptions/s/providers/Microsoft.ContainerService/managedClusters?api-version=2018-03-31&%24skipToken=abc%3D%3D';
    const page = { nextLink: next, value: [] };
    // the azurerm endpoint type's AKS data source (S9) and the form issue 8 quotes
    assert.equal(renderTemplate('{{isTokenPresent response.nextLink}}', { response: page, nextLink: '' }), 'True');
    assert.equal(renderTemplate('{{isTokenPresent response.nextLink}}', { response: { value: [] } }), 'False');
    assert.equal(
      renderTemplate('{{isTokenPresent response.nextLink}}', { response: { nextLink: null } }),
      'True',
      'JSON null counts as present on the server',
    );
    assert.equal(
      renderTemplate(
        '{{#getTokenValue response.nextLink}}{{extractUrlQueryParameter %24skipToken}}{{/getTokenValue}}',
        { response: page },
      ),
      'abc%3D%3D',
    );
    assert.equal(
      renderTemplate(
        '{{#getTokenValue response.nextLink}}{{extractUrlQueryParamKeyValue %24skiptoken,skipToken}}{{/getTokenValue}}',
        { response: { nextLink: next.replace('%24skipToken', 'skipToken') } },
      ),
      'skipToken=abc%3D%3D',
    );
    assert.equal(
      renderTemplate('{{#getTokenValue response.nextLink}}{{extractUrlQueryParameter %24skip}}{{/getTokenValue}}', {
        response: { nextLink: 'https://h/p?a=1&$skip=20' },
      }),
      '20',
    );
    // a bare {{#nextLink}} in a callback template tests the request parameter, not the page
    assert.equal(renderTemplate('{{#nextLink}}true{{/nextLink}}', { nextLink: '', response: page }), '');
  });
  test('{{x}} is HTML-encoded, {{{x}}} raw, booleans are True/False; an unregistered helper is an error', () => {
    assert.equal(renderTemplate('{{a}}|{{{a}}}|{{b}}', { a: 'x&"y"', b: true }), 'x&amp;&quot;y&quot;|x&"y"|True');
    assert.throws(() => renderTemplate('{{nosuchhelper a}}', {}), TemplateError);
    assert.throws(() => renderTemplate('{{#if a}}x', { a: 1 }), TemplateError);
    assert.equal(renderTemplate('{{#if a}}yes{{else}}no{{/if}}', { a: '' }), 'no');
  });
});

describe('artifact contribution', () => {
  test('shape: not a Build artifact, download task is AzureMLModelDownload, inputs feed the task by id', () => {
    assert.notEqual(type.artifactType, 'Build');
    assert.equal(type.endpointTypeId, 'azurerm');
    const { task } = downloadTaskJson(type);
    assert.equal(task.name, 'AzureMLModelDownload');
    const taskInputs = new Set(task.inputs.map((i: { name: string }) => i.name));
    for (const d of type.inputDescriptors) assert.ok(taskInputs.has(d.id), `artifact input '${d.id}' is a task input`);
    for (const n of ['version', 'downloadPath', 'itemPattern']) assert.ok(taskInputs.has(n), `task has '${n}'`);
    assert.equal(
      renderSourceId(type, artifact.inputs),
      `${endpoint.id}:${box.resourceGroup}:${box.workspace}:${MODEL}`,
    );
    assert.deepEqual(
      type.inputDescriptors.map((d) => d.id),
      [
        'connection',
        'sourceType',
        'resourceGroup',
        'workspace',
        'registryResourceGroup',
        'registry',
        'definition',
        'defaultVersionType',
        'defaultVersionSpecific',
      ],
    );
    assert.deepEqual(
      type.inputDescriptors.find((d) => d.id === 'defaultVersionType')!.values!.possibleValues!.map((v) => v.value),
      ['latestType', 'selectDuringReleaseCreationType', 'specificVersionType'],
    );
  });

  test('connection input as first-party artifact types declare it: combo, hasDynamicValueInformation, dataType string', () => {
    const c = type.inputDescriptors.find((d) => d.id === 'connection')!;
    assert.equal(c.hasDynamicValueInformation, true);
    assert.equal(c.validation?.dataType, 'string');
    assert.equal(c.validation?.isRequired, true);
  });

  test('managed identity: the connection help text and the README say the pickers cannot use it', () => {
    const c = type.inputDescriptors.find((d) => d.id === 'connection')!;
    assert.match(c.description ?? '', /managed.identity/i);
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(
      readme.indexOf('## The "Azure ML model" release artifact'),
      readme.indexOf('## Triggering releases'),
    );
    assert.match(section, /managed.identity/i);
    assert.match(section, /agent/i);
  });
});

describe('release editor', () => {
  test('add an artifact: resource group and workspace pre-selected, model chosen; Default version keeps its options; Add enabled', async () => {
    const ed = await editorWithModel();
    assert.equal(ed.display('resourceGroup'), box.resourceGroup);
    assert.equal(ed.display('workspace'), box.workspace);
    assert.equal(ed.value('definition'), MODEL);
    // the defaultVersionType combo must survive the model choice: no dependency → not cleared, not queried
    assert.deepEqual(
      ed.options('defaultVersionType').map((o) => o.value),
      ['latestType', 'selectDuringReleaseCreationType', 'specificVersionType'],
    );
    assert.equal(ed.value('defaultVersionType'), 'latestType');
    assert.equal(ed.visible('defaultVersionSpecific'), false);
    assert.ok(
      ed.canAdd(),
      `Add is enabled (invalid: ${type.inputDescriptors
        .filter((d) => ed.visible(d.id) && ed.invalid(d.id))
        .map((d) => d.id)
        .join(', ')})`,
    );
    // what the editor asked the server for, in order (the model query is not followed by an automatic choice)
    // ('' = the empty query fetchInitialInputsRecursively posts after the connection list)
    assert.deepEqual(
      ed.queries.map((q) => q.inputIds.join('+')),
      [
        'connection',
        '',
        'resourceGroup+registryResourceGroup',
        'workspace',
        'definition',
        'workspace',
        'definition',
        'definition',
        'defaultVersionSpecific',
      ],
    );
    assert.ok(
      !ed.queries.some((q) => q.inputIds.includes('defaultVersionType')),
      'defaultVersionType is never queried',
    );
  });

  test('Specific version: the Version picker appears, newest first, its first value chosen', async () => {
    const ed = await editorWithModel();
    await ed.select('defaultVersionType', 'Specific version');
    assert.equal(ed.visible('defaultVersionSpecific'), true);
    assert.deepEqual(
      ed.options('defaultVersionSpecific').map((o) => o.value),
      ['3', '10', '2', '1'],
    );
    assert.equal(ed.value('defaultVersionSpecific'), '3');
    assert.ok(ed.canAdd());
    await ed.select('defaultVersionType', 'Latest');
    assert.equal(ed.visible('defaultVersionSpecific'), false);
  });

  test('300 models and 2,000 versions: every model listed by name, the newest 500 versions, older ones found by search', async () => {
    const ed = await editorWithModel(BIG);
    const models = ed.options('definition').map((o) => o.value);
    assert.equal(models.length, MODELS, 'all 300 models on the one page the editor shows');
    assert.deepEqual(
      models,
      [...models].sort((a, b) => a.toUpperCase().localeCompare(b.toUpperCase())),
      'the server sorts them by name',
    );
    await ed.select('defaultVersionType', 'Specific version');
    const versions = ed.options('defaultVersionSpecific').map((o) => o.value);
    assert.equal(versions.length, 500);
    assert.deepEqual(
      versions.map(Number),
      Array.from({ length: 500 }, (_, k) => 2000 - k),
      'the newest 500, newest first',
    );
    assert.ok(!versions.includes('7'));
    assert.equal(ed.moreDataAvailable('defaultVersionSpecific'), true, 'the editor is told more versions exist');
    // the editor did not post again for the next page (not a Build artifact)
    assert.equal(server.calls.filter((c) => c.inputId === 'defaultVersionSpecific' && /\$skip=/.test(c.url)).length, 0);
    const found = await ed.search('defaultVersionSpecific', '7');
    assert.deepEqual(
      found.map((o) => o.value),
      ['7'],
    );
    await ed.select('defaultVersionSpecific', '7');
    assert.equal(ed.value('defaultVersionSpecific'), '7');
    assert.ok(ed.canAdd());
    // a model by its exact name (e.g. one created after the list was loaded); a partial name finds nothing
    assert.deepEqual(
      (await ed.search('definition', 'other-297')).map((o) => o.value),
      ['other-297'],
    );
    assert.deepEqual(await ed.search('definition', 'other-29'), []);
  });

  test("E5 as modelled: only a Build-type artifact's editor posts again for the next pages (at most 5)", async () => {
    const asBuild = { ...type, name: 'Build' };
    const ed = new ReleaseEditor(asBuild, new ArtifactServer(asBuild, [endpoint]));
    await ed.open();
    await ed.select('connection', endpoint.name);
    await ed.select('resourceGroup', box.resourceGroup);
    await ed.select('workspace', box.workspace);
    await ed.select('definition', BIG);
    await ed.select('defaultVersionType', 'Specific version');
    assert.equal(ed.options('defaultVersionSpecific').length, BIG_VERSIONS, 'four pages of 500 followed');
  });

  test('every picker response stays under the server limit of 2,097,152 characters', async () => {
    const b = bindingFor(type, 'defaultVersionSpecific')!;
    const page = await callDataSource(
      b,
      {
        connection: endpoint.id,
        resourceGroup: box.resourceGroup,
        workspace: box.workspace,
        definition: BIG,
        defaultVersionType: 'specificVersionType',
      },
      endpoint,
    );
    assert.ok(page.responseChars < MAX_RESPONSE_CHARS, `${page.responseChars} characters`);
    const models = await callDataSource(
      bindingFor(type, 'definition')!,
      { connection: endpoint.id, resourceGroup: box.resourceGroup, workspace: box.workspace },
      endpoint,
    );
    assert.ok(models.responseChars < MAX_RESPONSE_CHARS);
  });
});

describe('paging as the server evaluates it', () => {
  test('callback templates read the page (response.nextLink): more versions exist, the context carries the next page', async () => {
    const b = bindingFor(type, 'versions')!;
    const inputs = {
      connection: endpoint.id,
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      definition: BIG,
    };
    const first = await callDataSource(b, inputs, endpoint);
    assert.equal(first.callbackRequired, true, "callbackRequiredTemplate sees the page's nextLink");
    const ctxValues = Object.values(first.callbackContext).filter(Boolean);
    assert.ok(
      ctxValues.length > 0,
      `callbackContextTemplate carries the next page (${JSON.stringify(first.callbackContext)})`,
    );
    // posting again with that context (what a Build artifact's editor would do) gives the next, disjoint page
    const second = await callDataSource(b, { ...inputs, ...first.callbackContext }, endpoint);
    assert.deepEqual(
      second.values.map((v) => Number(v.value)),
      Array.from({ length: 500 }, (_, k) => 1500 - k),
    );
    // the last page says no more
    const small = await callDataSource(b, { ...inputs, definition: MODEL }, endpoint);
    assert.equal(small.callbackRequired, false);
  });

  test('unknown model: the service answers 404 ModelNotFound, so the picker has no values and shows the error', async () => {
    // Azure ML answers a versions list of a missing model with 404 UserError + details ModelNotFound (recorded, see
    // test/emulator/README.md); the server answers the editor's query with no values and the call's error (A2).
    const inputs = {
      connection: endpoint.id,
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      definition: 'no-such-model',
    };
    await assert.rejects(
      callDataSource(bindingFor(type, 'latestVersion')!, inputs, endpoint),
      /HTTP 404[\s\S]*ModelNotFound/,
    );
    const answer = await server.getInputValues('defaultVersionSpecific', {
      ...inputs,
      defaultVersionType: 'specificVersionType',
    });
    assert.deepEqual(answer.possibleValues, []);
    assert.match(answer.error ?? '', /HTTP 404[\s\S]*ModelNotFound/);
  });
});

describe('release', () => {
  test('studio links are bare URLs the server accepts (new Uri)', () => {
    const sd = releaseSourceData(artifact, { Value: '10', DisplayValue: '10' });
    const def = server.link('artifactSourceDefinitionUrl', sd);
    const ver = server.link('artifactSourceVersionUrl', sd);
    const wsid = `wsid=/subscriptions/${box.subscriptionId}/resourcegroups/${box.resourceGroup}/workspaces/${box.workspace}`;
    assert.equal(ver, `https://ml.azure.com/model/${MODEL}:10/details?${wsid}`);
    assert.ok(
      def?.startsWith('https://ml.azure.com/model/list?') && def.includes(wsid) && def.endsWith(`search=${MODEL}`),
      String(def),
    );
  });

  test('a non-draft release keeps no default-version inputs; the download task gets the version', () => {
    const sd = releaseSourceData(
      {
        ...artifact,
        inputs: { ...artifact.inputs, defaultVersionType: 'specificVersionType', defaultVersionSpecific: '2' },
      },
      { Value: '2', DisplayValue: '2' },
    );
    assert.deepEqual(Object.keys(sd).sort(), ['connection', 'definition', 'resourceGroup', 'version', 'workspace']);
    const inputs = injectedTaskInputs(artifact, { Value: '3', DisplayValue: '3' }, '/tmp/x');
    assert.equal(inputs.version, '3');
    assert.equal(inputs.defaultVersionType, undefined);
  });

  test('variables: DefinitionName = model name, BuildNumber/BuildId = version (latest at release creation)', async () => {
    const v = await releaseVersion(type, artifact, endpoint);
    const vars = releaseVariables(type, artifact, v);
    assert.equal(vars['Release.Artifacts._churn-model.DefinitionName'], MODEL);
    assert.equal(vars['Release.Artifacts._churn-model.DefinitionId'], MODEL);
    assert.equal(vars['Release.Artifacts._churn-model.BuildNumber'], '3');
    assert.equal(vars['Release.Artifacts._churn-model.BuildId'], '3');
    assert.equal(vars['Release.Artifacts._churn-model.Type'], type.name);
    assert.equal(vars['Release.PrimaryArtifactSourceAlias'], '_churn-model');
    assert.equal(vars['Build.BuildNumber'], '3');
    const env = await agentEnv(
      'AzureMLModelDownload',
      { box, inputs: {}, variables: vars },
      { temp: tmpdir(), work: tmpdir(), sources: tmpdir() },
    );
    assert.equal(env['RELEASE_ARTIFACTS__CHURN-MODEL_DEFINITIONNAME'], MODEL);
    assert.equal(env['RELEASE_ARTIFACTS__CHURN-MODEL_BUILDNUMBER'], '3');
    assert.equal(env.RELEASE_ARTIFACTS__CHURN_MODEL_DEFINITIONNAME, undefined);
    assert.equal(
      agentEnvName('Release.Artifacts.my model.DefinitionName'),
      'RELEASE_ARTIFACTS_MY_MODEL_DEFINITIONNAME',
    );
  });

  test("specific and select-at-creation versions; the big model's latest is its newest", async () => {
    assert.equal(
      (
        await releaseVersion(
          type,
          {
            ...artifact,
            inputs: { ...artifact.inputs, defaultVersionType: 'specificVersionType', defaultVersionSpecific: '2' },
          },
          endpoint,
        )
      ).Value,
      '2',
    );
    const sel = { ...artifact, inputs: { ...artifact.inputs, defaultVersionType: 'selectDuringReleaseCreationType' } };
    assert.equal((await releaseVersion(type, sel, endpoint, '10')).Value, '10');
    await assert.rejects(releaseVersion(type, sel, endpoint, '99'), /not among the versions/);
    assert.equal(
      (await releaseVersion(type, { ...artifact, inputs: { ...artifact.inputs, definition: BIG } }, endpoint)).Value,
      '2000',
    );
  });

  test('injected download task: latest version downloaded, only outputs changed, rerun idempotent', async () => {
    const v = await releaseVersion(type, artifact, endpoint);
    const dest = path.join(mkdtempSync(path.join(tmpdir(), 'art-dl-')), '_churn-model');
    const before = box.requests.length;
    const r = await runInjectedDownload(box, type, artifact, v, { downloadPath: dest });
    assert.equal(r.result, 'Succeeded', `${r.message}\n${r.stdout.slice(-2000)}`);
    assert.equal(r.inputs.definition, MODEL);
    assert.equal(r.inputs.version, '3');
    assert.equal(r.inputs.defaultVersionType, undefined, 'stripped from a non-draft release');
    assert.equal(r.outputs.modelName, MODEL);
    assert.equal(r.outputs.modelVersion, '3');
    assert.equal(r.outputs.modelId, `azureml:${MODEL}:3`);
    assert.equal(r.outputs.modelPath, path.join(dest, 'model'));
    assert.equal(readFileSync(path.join(dest, 'model', 'weights.txt'), 'utf8'), 'weights of 3\n');
    assert.equal(readFileSync(path.join(dest, 'model', 'sub', 'config.json'), 'utf8'), '{"v":"3"}');
    const meta = JSON.parse(readFileSync(path.join(dest, 'model.json'), 'utf8'));
    assert.equal(meta.name, MODEL);
    assert.equal(meta.version, '3');
    assert.equal(meta.uri, r.outputs.modelUri);
    assert.match(meta.studioUrl, /^https:\/\/ml\.azure\.com\/model\/churn-model:3\/details\?wsid=/);
    const names = r.commands.map((c) => c.name);
    assert.ok(
      !names.includes('release.updatereleasename') &&
        !names.includes('build.addbuildtag') &&
        !names.includes('task.uploadsummary'),
      names.join(','),
    );
    assert.deepEqual(
      box.requests
        .slice(before)
        .filter((q) => q.method !== 'GET' && !/listSecrets/i.test(q.url) && q.host === 'arm')
        .map((q) => `${q.method} ${q.url}`),
      [],
    );
    assert.ok(r.progress.includes(100));
    const again = await runInjectedDownload(box, type, artifact, v, { downloadPath: dest });
    assert.equal(again.result, 'Succeeded', again.message);
    assert.match(again.stdout, /2 already present and identical, 0 B transferred/);
    assert.ok(existsSync(path.join(dest, 'model.json')));
    assert.equal(again.warnings.length, 0, again.warnings.join('\n'));
    writeFileSync(path.join(dest, 'model', 'stale.txt'), 'old');
    const other = await runInjectedDownload(
      box,
      type,
      artifact,
      { Value: '10', DisplayValue: '10' },
      { downloadPath: dest, releaseId: '18', definitionName: 'churn-cd', environmentName: 'prod' },
    );
    assert.equal(other.result, 'Succeeded', other.message);
    assert.equal(other.variables['Release.ReleaseName'], 'Release-18');
    assert.equal(other.variables['Release.DefinitionName'], 'churn-cd');
    assert.equal(other.variables['Release.EnvironmentName'], 'prod');
    assert.equal(other.variables['Release.Artifacts._churn-model.BuildNumber'], '10');
    assert.equal(other.outputs.modelVersion, '10');
    assert.equal(readFileSync(path.join(dest, 'model', 'weights.txt'), 'utf8'), 'weights of 10\n');
    assert.equal(JSON.parse(readFileSync(path.join(dest, 'model.json'), 'utf8')).version, '10');
    assert.ok(
      other.warnings.some((w) => w.includes('model/stale.txt') && w.includes('not part of churn-model:10')),
      other.warnings.join('\n'),
    );
  });
});

describe('registry source (issue 13)', () => {
  const REG = 'mlreg-art';
  const RMODEL = 'fraud';
  const regArtifact = (): LinkedArtifact => ({
    alias: '_fraud',
    inputs: {
      connection: endpoint.id,
      sourceType: 'registry',
      // stale values of the hidden workspace inputs (the definition was switched from Workspace): they must not count
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      registryResourceGroup: box.resourceGroup,
      registry: REG,
      definition: RMODEL,
      defaultVersionType: 'latestType',
    },
  });
  before(async () => {
    await addRegistry(box.ctx, { name: REG, location: 'eastus' });
    // created in the order 1, 2, 10: newest first is 10, 2, 1
    for (const v of ['1', '2', '10'])
      await arm(
        box,
        'PUT',
        `/subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/registries/${REG}/models/${RMODEL}/versions/${v}?api-version=2024-04-01`,
        { properties: { modelUri: `azureml://registries/${REG}/models/${RMODEL}/versions/${v}` } },
      );
  });

  test('editor: Source = Registry hides the workspace, lists registries, registry models and versions; Add enabled', async () => {
    const ed = new ReleaseEditor(type, server);
    await ed.open();
    await ed.select('connection', endpoint.name);
    assert.equal(ed.value('sourceType'), 'workspace', 'existing definitions keep reading a workspace');
    assert.equal(ed.visible('registry'), false);
    await ed.select('sourceType', 'Registry');
    assert.equal(ed.visible('workspace'), false);
    assert.equal(ed.visible('resourceGroup'), false);
    assert.equal(ed.visible('registry'), true);
    assert.equal(ed.visible('registryResourceGroup'), true);
    await ed.select('registryResourceGroup', box.resourceGroup);
    assert.ok(
      ed.options('registry').some((o) => o.value === REG),
      ed
        .options('registry')
        .map((o) => o.value)
        .join(','),
    );
    await ed.select('registry', REG);
    assert.deepEqual(
      ed.options('definition').map((o) => o.value),
      [RMODEL],
    );
    await ed.select('definition', RMODEL);
    await ed.select('defaultVersionType', 'Specific version');
    assert.deepEqual(
      ed.options('defaultVersionSpecific').map((o) => o.value),
      ['10', '2', '1'],
    );
    assert.ok(ed.canAdd(), 'Add is enabled');
  });

  test('release: sourceId, variables and links name the registry; the injected download only resolves', async () => {
    const a = regArtifact();
    assert.equal(renderSourceId(type, a.inputs), `${endpoint.id}:registry:${box.resourceGroup}:${REG}:${RMODEL}`);
    assert.equal(
      renderSourceId(type, artifact.inputs),
      `${endpoint.id}:${box.resourceGroup}:${box.workspace}:${MODEL}`,
      'workspace artifacts keep their sourceId',
    );
    const v = await releaseVersion(type, a, endpoint);
    assert.equal(v.Value, '10');
    const vars = releaseVariables(type, a, v);
    assert.equal(vars['Release.Artifacts._fraud.DefinitionName'], RMODEL);
    assert.equal(vars['Release.Artifacts._fraud.BuildNumber'], '10');
    const sd = releaseSourceData(a, v);
    assert.equal(
      server.link('artifactSourceVersionUrl', sd),
      `https://ml.azure.com/registries/${REG}/models/${RMODEL}/version/10`,
    );
    const dest = path.join(mkdtempSync(path.join(tmpdir(), 'art-reg-')), '_fraud');
    const from = box.requests.length;
    const r = await runInjectedDownload(box, type, a, v, { downloadPath: dest });
    assert.equal(r.result, 'Succeeded', `${r.message}\n${r.stdout.slice(-2000)}`);
    assert.equal(r.inputs.download, undefined, 'the server gives the injected task no download input');
    assert.equal(r.outputs.modelName, RMODEL);
    assert.equal(r.outputs.modelVersion, '10');
    assert.match(r.outputs.modelUri ?? '', new RegExp(`^azureml://registries/${REG}/models/${RMODEL}/versions/10$`));
    assert.equal(r.outputs.modelId, `azureml://registries/${REG}/models/${RMODEL}/versions/10`);
    assert.match(r.stdout, /resolves the model version only .*nothing downloaded/);
    assert.equal(existsSync(dest), false, 'nothing downloaded');
    const calls = box.requests
      .slice(from)
      .filter((q) => q.host === 'arm')
      .map((q) => `${q.method} ${q.url}`);
    assert.ok(
      calls.some((c) => c.includes(`/registries/${REG}/models/${RMODEL}/versions`)),
      calls.join('\n'),
    );
    assert.ok(!calls.some((c) => c.includes('/workspaces/')), `no workspace call:\n${calls.join('\n')}`);
    assert.deepEqual(
      calls.filter((c) => !c.startsWith('GET') && !/listSecrets/i.test(c)),
      [],
    );
  });
});
