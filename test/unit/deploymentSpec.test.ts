import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  buildOnlineDeploymentBody,
  buildOnlineEndpointBody,
  DeploymentSpecError,
  deploymentSpecFromInputs,
  inlineModelVersion,
  isCustomContainer,
  parseOnlineDeploymentYaml,
  parseOnlineEndpointYaml,
} from '../../src/azureml/deploymentSpec';
import type { DeploymentResolver } from '../../src/azureml/deploymentSpec';
import { environmentVersionBody, inlineEnvironmentVersion } from '../../src/azureml/yamlSpec';
import { validateBody } from '../emulator/swagger';
import { CORPUS_TEMPLATE_VARS } from '../helpers/corpus';

const REPO = path.resolve(__dirname, '../..');
const CORPUS = path.resolve(REPO, 'test/fixtures/third-party/azureml-examples/cli');
const ONLINE = path.join(CORPUS, 'endpoints/online');
const BATCH = path.join(CORPUS, 'endpoints/batch');
const FOUNDATION = path.join(CORPUS, 'foundation-models');
const WS =
  '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws';
const LOCATION = 'westeurope';

function walk(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** Records calls; never requires the referenced code/model files to exist (the corpus does not include them). */
function fakeResolver() {
  const log: Array<{ op: string; arg: unknown }> = [];
  const r: DeploymentResolver = {
    wsPath: WS,
    async uploadCode(p) {
      log.push({ op: 'uploadCode', arg: p });
      return `${WS}/codes/code-${path.basename(p)}/versions/1`;
    },
    async ensureEnvironment(e) {
      log.push({ op: 'ensureEnvironment', arg: e });
      return `${WS}/environments/${e.name ?? 'CliV2AnonymousEnvironment'}/versions/1`;
    },
    async ensureModel(m) {
      log.push({ op: 'ensureModel', arg: m });
      return `${WS}/models/${m.name ?? 'anon-model'}/versions/1`;
    },
    async resolveAsset(kind, ref) {
      log.push({ op: 'resolveAsset', arg: [kind, ref] });
      const m = /^azureml:([^:@]+)(?::(.+)|@(.+))?$/.exec(ref)!;
      return `${WS}/${kind}/${m[1]}/versions/${m[2] ?? '4'}`;
    },
    async computeId(n) {
      log.push({ op: 'computeId', arg: n });
      return `${WS}/computes/${n}`;
    },
  };
  return { r, log };
}

const firstLine = (f: string) => fs.readFileSync(f, 'utf8').split('\n')[0];
const online = walk(ONLINE)
  .filter((f) => /\.ya?ml$/.test(f) && /schema\.json/.test(firstLine(f)))
  .sort();
const foundation = walk(FOUNDATION).filter((f) => /deploy-online\.ya?ml$/.test(f));

test('corpus: online endpoint/deployment files found', () => {
  assert.ok(online.length >= 7, `found ${online.length} under ${ONLINE}`);
  assert.equal(foundation.length, 1);
});

for (const file of online) {
  const rel = path.relative(CORPUS, file);
  if (/Endpoint\.schema/.test(firstLine(file))) {
    test(`corpus endpoint ${rel}: body valid for OnlineEndpoints_CreateOrUpdate`, async () => {
      const { r } = fakeResolver();
      const built = await buildOnlineEndpointBody(parseOnlineEndpointYaml(file), { location: LOCATION, resolver: r });
      assert.deepEqual(validateBody('OnlineEndpoints_CreateOrUpdate', built.body), []);
      assert.equal(built.name, 'my-endpoint');
    });
  } else {
    test(`corpus deployment ${rel}: body valid for OnlineDeployments_CreateOrUpdate`, async () => {
      const { r } = fakeResolver();
      // the endpoint given as the examples' scripts give it (--endpoint-name / --set endpoint_name=)
      const spec = parseOnlineDeploymentYaml(file, { variables: CORPUS_TEMPLATE_VARS, endpointName: 'my-endpoint' });
      const built = await buildOnlineDeploymentBody(spec, { location: LOCATION, resolver: r });
      assert.deepEqual(validateBody('OnlineDeployments_CreateOrUpdate', built.body), []);
      assert.equal(built.endpointName, 'my-endpoint');
      const p = built.body.properties as any;
      // a custom container may carry its model in its image (tfserving/half-plus-two-integrated): no model then
      if (spec.model) assert.match(p.model, /\/models\//);
      else assert.ok(isCustomContainer(spec) && p.model === undefined, rel);
      assert.equal(typeof p.environmentId, 'string');
    });
  }
}

test('managed blue deployment: inline model/code/environment resolved relative to the YAML', async () => {
  const { r, log } = fakeResolver();
  const f = path.join(ONLINE, 'managed/sample/blue-deployment.yml');
  const built = await buildOnlineDeploymentBody(parseOnlineDeploymentYaml(f), { location: LOCATION, resolver: r });
  const p = built.body.properties as any;
  assert.equal(p.endpointComputeType, 'Managed');
  assert.equal(p.instanceType, 'Standard_DS3_v2');
  assert.deepEqual(built.body.sku, { name: 'Default', capacity: 1 });
  assert.deepEqual(p.codeConfiguration, {
    codeId: `${WS}/codes/code-onlinescoring/versions/1`,
    scoringScript: 'score.py',
  });
  const model = log.find((c) => c.op === 'ensureModel')!.arg as any;
  assert.equal(model.path, path.join(ONLINE, 'model-1/model'));
  assert.equal(model.local, true);
  const env = log.find((c) => c.op === 'ensureEnvironment')!.arg as any;
  assert.equal(env.condaFile, path.join(ONLINE, 'model-1/environment/conda.yaml'));
  assert.equal(env.image, 'mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest');
  // the environment body the resolver would PUT is valid too
  const envBody = environmentVersionBody(env, {
    condaFileText: fs.readFileSync(env.condaFile, 'utf8'),
    isAnonymous: true,
  });
  assert.deepEqual(validateBody('EnvironmentVersions_CreateOrUpdate', envBody), []);
});

test('registered assets: azureml:my-model:1 and azureml:my-env:1 resolved by reference', async () => {
  const { r, log } = fakeResolver();
  const built = await buildOnlineDeploymentBody(
    parseOnlineDeploymentYaml(path.join(ONLINE, 'managed/sample/blue-deployment-with-registered-assets.yml')),
    { location: LOCATION, resolver: r },
  );
  const p = built.body.properties as any;
  assert.equal(p.model, `${WS}/models/my-model/versions/1`);
  assert.equal(p.environmentId, `${WS}/environments/my-env/versions/1`);
  assert.deepEqual(
    log.filter((c) => c.op === 'resolveAsset').map((c) => c.arg),
    [
      ['models', 'azureml:my-model:1'],
      ['environments', 'azureml:my-env:1'],
    ],
  );
});

test('kubernetes: endpoint compute ARM id, auth mode Key; deployment resources, request settings, scale settings', async () => {
  const { r } = fakeResolver();
  const ep = await buildOnlineEndpointBody(
    parseOnlineEndpointYaml(path.join(ONLINE, 'kubernetes/kubernetes-endpoint.yml')),
    { location: LOCATION, resolver: r },
  );
  assert.deepEqual(ep.body.properties, { authMode: 'Key', compute: `${WS}/computes/inferencecompute` });
  assert.deepEqual(ep.body.tags, { tag1: 'endpoint-tag1-value' });
  const blue = await buildOnlineDeploymentBody(
    parseOnlineDeploymentYaml(path.join(ONLINE, 'kubernetes/kubernetes-blue-deployment.yml')),
    { location: LOCATION, resolver: r },
  );
  const b = blue.body.properties as any;
  assert.equal(b.endpointComputeType, 'Kubernetes');
  assert.deepEqual(b.containerResourceRequirements, {
    containerResourceRequests: { cpu: '0.1', memory: '0.1Gi' },
    containerResourceLimits: { cpu: '0.2', memory: '200Mi' },
  });
  assert.deepEqual(b.requestSettings, { requestTimeout: 'PT3S', maxQueueWait: 'PT3S' });
  assert.deepEqual(b.scaleSettings, { scaleType: 'Default' });
  const green = await buildOnlineDeploymentBody(
    parseOnlineDeploymentYaml(path.join(ONLINE, 'kubernetes/kubernetes-green-deployment.yml')),
    { location: LOCATION, resolver: r },
  );
  const g = green.body.properties as any;
  assert.deepEqual(g.scaleSettings, {
    scaleType: 'TargetUtilization',
    minInstances: 1,
    maxInstances: 3,
    pollingInterval: 'PT10S',
    targetUtilizationPercentage: 70,
  });
  assert.equal(g.appInsightsEnabled, true);
  assert.equal(g.instanceType, 'defaultinstancetype');
});

test('managed endpoint: auth_mode key → Key, default system-assigned identity', async () => {
  const { r } = fakeResolver();
  const ep = await buildOnlineEndpointBody(parseOnlineEndpointYaml(path.join(ONLINE, 'managed/sample/endpoint.yml')), {
    location: LOCATION,
    resolver: r,
  });
  assert.deepEqual(ep.body, {
    location: LOCATION,
    identity: { type: 'SystemAssigned' },
    properties: { authMode: 'Key' },
  });
});

test('custom container template: placeholders need values, then routes become inferenceConfig', async () => {
  const f = path.join(
    ONLINE,
    'custom-container/minimal/single-model/conda-in-dockerfile/minimal-single-model-conda-in-dockerfile-deployment.yml',
  );
  assert.throws(
    () => parseOnlineDeploymentYaml(f),
    (e: unknown) =>
      e instanceof DeploymentSpecError &&
      /:3: template placeholder '\{\{ENDPOINT_NAME\}\}' has no value/.test(e.message),
  );
  const { r, log } = fakeResolver();
  const built = await buildOnlineDeploymentBody(parseOnlineDeploymentYaml(f, { variables: CORPUS_TEMPLATE_VARS }), {
    location: LOCATION,
    resolver: r,
  });
  const env = log.find((c) => c.op === 'ensureEnvironment')!.arg as any;
  assert.equal(env.image, 'myacr.azurecr.io/azureml-examples/minimal-single-model-conda-in-dockerfile:1');
  const envBody = environmentVersionBody(env);
  assert.deepEqual((envBody.properties as any).inferenceConfig.scoringRoute, { path: '/score', port: 5001 });
  assert.deepEqual((envBody.properties as any).inferenceConfig.livenessRoute, { path: '/', port: 5001 });
  // the swagger's Route.path pattern [a-zA-Z0-9_] would refuse '/', which this official example (and the service)
  // use: the validator does not apply it (test/emulator/swagger.ts NOT_APPLIED_PATTERNS, with its evidence)
  assert.deepEqual(validateBody('EnvironmentVersions_CreateOrUpdate', envBody).sort(), []);
  assert.equal((log.find((c) => c.op === 'ensureModel')!.arg as any).name, 'minimal-cc-model');
  assert.equal(built.endpointName, 'my-endpoint');
});

test('foundation-models deploy-online.yaml: probes in ISO 8601, model and endpoint supplied from outside', async () => {
  const f = foundation[0];
  const { r } = fakeResolver();
  const spec = parseOnlineDeploymentYaml(f, {
    overrides: ['model=azureml://registries/azureml/models/microsoft-beit-base-patch16-224-pt22k-ft22k/labels/latest'],
  });
  await assert.rejects(buildOnlineDeploymentBody(spec, { location: LOCATION, resolver: r }), /no endpoint name/);
  const built = await buildOnlineDeploymentBody(spec, {
    location: LOCATION,
    resolver: r,
    endpointName: 'image-classify',
  });
  assert.deepEqual(validateBody('OnlineDeployments_CreateOrUpdate', built.body), []);
  const p = built.body.properties as any;
  assert.deepEqual(p.livenessProbe, { initialDelay: 'PT3M', period: 'PT3M', timeout: 'PT4M59S', failureThreshold: 49 });
  assert.deepEqual(p.requestSettings, { requestTimeout: 'PT1M30S' });
  assert.equal(
    p.model,
    'azureml://registries/azureml/models/microsoft-beit-base-patch16-224-pt22k-ft22k/labels/latest',
  );
  const noModel = parseOnlineDeploymentYaml(f);
  await assert.rejects(
    buildOnlineDeploymentBody(noModel, { location: LOCATION, resolver: r, endpointName: 'e' }),
    (e: unknown) => e instanceof DeploymentSpecError && /deploy-online\.yaml: no model/.test(e.message),
  );
});

test('batch endpoints and deployments are refused clearly', () => {
  const files = walk(BATCH).filter((f) => /\.ya?ml$/.test(f));
  assert.ok(files.length >= 3);
  for (const f of files) {
    const parse = /endpoint\.yml$/.test(f) ? parseOnlineEndpointYaml : parseOnlineDeploymentYaml;
    assert.throws(
      () => parse(f),
      (e: unknown) =>
        e instanceof DeploymentSpecError &&
        /batch endpoints are not supported by this task/.test(e.message) &&
        e.message.includes(path.basename(f)),
      f,
    );
  }
});

test('bad deployment YAML fails naming file, line and key', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'depspec-'));
  const write = (name: string, text: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };
  const head = 'name: blue\nendpoint_name: ep\nmodel: azureml:m:1\n';
  const bad = (name: string, text: string, re: RegExp) =>
    assert.throws(
      () => parseOnlineDeploymentYaml(write(name, text)),
      (e: unknown) => e instanceof DeploymentSpecError && re.test(e.message),
      name,
    );
  bad(
    'unknown.yml',
    `${head}instanse_type: x\n`,
    /unknown\.yml:4: 'instanse_type': unknown key for an online deployment/,
  );
  bad(
    'probe.yml',
    `${head}liveness_probe:\n  period: soon\n`,
    /probe\.yml:5: 'liveness_probe\.period': expected a duration/,
  );
  bad(
    'res.yml',
    `${head}type: kubernetes\nresources:\n  requests:\n    cpu: lots\n`,
    /'resources\.requests\.cpu': 'lots' is not a Kubernetes quantity/,
  );
  bad('managedres.yml', `${head}resources:\n  requests:\n    cpu: "1"\n`, /apply to Kubernetes deployments only/);
  bad('scale.yml', `${head}scale_settings:\n  type: magic\n`, /unknown scale_settings type 'magic'/);
  bad('noenv.yml', `${head}code_configuration:\n  code: ./src\n  scoring_script: score.py\n`, /needs an 'environment'/);
  bad('name.yml', 'name: 1blue\nendpoint_name: ep\n', /deployment name '1blue'/);
  bad('syntax.yml', `${head}tags: {a: 1\n`, /syntax\.yml:\d+: YAML syntax error/);
  assert.throws(
    () => parseOnlineEndpointYaml(write('auth.yml', 'name: ep\nauth_mode: password\n')),
    /auth\.yml:2: 'auth_mode': unknown auth_mode 'password'/,
  );
  assert.throws(
    () => parseOnlineEndpointYaml(write('traffic.yml', 'name: ep\ntraffic:\n  blue: 50\n  green: 20\n')),
    /add up to 70/,
  );
  // data_collector is parsed (sent at api-version 2024-04-01: src/azureml/dataCollector.ts), bad ones name the line
  bad(
    'dc.yml',
    `${head}data_collector:\n  collections: {}\n`,
    /dc\.yml:5: 'data_collector\.collections': at least one collection is required/,
  );
  bad(
    'dcrate.yml',
    `${head}data_collector:\n  rolling_rate: Weekly\n  collections:\n    model_inputs: {enabled: true}\n`,
    /'data_collector\.rolling_rate': expected one of Year, Month, Day, Hour, Minute, got 'Weekly'/,
  );
  const warn = parseOnlineDeploymentYaml(write('sp.yml', `${head}startup_probe:\n  period: 10\n`));
  assert.match(warn.warnings[0], /sp\.yml:4: 'startup_probe' is not part of api-version 2022-10-01 and was ignored/);
  const dc = parseOnlineDeploymentYaml(
    write(
      'dc2.yml',
      `${head}data_collector:\n  sampling_rate: 0.5\n  collections:\n    model_inputs:\n      enabled: 'True'\n    model_outputs:\n      enabled: 'False'\n      data: {name: outs, path: azureml://datastores/workspaceblobstore/paths/x/outs, version: 2}\n`,
    ),
  );
  assert.deepEqual(dc.warnings, []);
  assert.deepEqual(dc.dataCollector, {
    collections: {
      model_inputs: { enabled: true },
      model_outputs: {
        enabled: false,
        data: { name: 'outs', path: 'azureml://datastores/workspaceblobstore/paths/x/outs', version: '2' },
      },
    },
    samplingRate: 0.5,
  });
});

test('deployment from task inputs produces the same kind of body', async () => {
  const { r, log } = fakeResolver();
  const spec = deploymentSpecFromInputs({
    name: 'green',
    endpointName: 'ep',
    kind: 'Kubernetes',
    model: 'azureml:credit:7',
    environment: 'azureml:sklearn-env@latest',
    codeDir: './score',
    scoringScript: 'score.py',
    instanceType: 'defaultinstancetype',
    instanceCount: 2,
    resources: { requests: { cpu: '0.5', memory: '1Gi' } },
    livenessProbe: { periodSeconds: 10, initialDelaySeconds: 5 },
    requestSettings: { requestTimeoutMs: 500, maxConcurrentRequestsPerInstance: 2 },
    environmentVariables: { A: '1' },
    tags: { 'azdo.release': '42' },
    baseDir: '/agent/s',
  });
  const built = await buildOnlineDeploymentBody(spec, { location: LOCATION, resolver: r });
  assert.deepEqual(validateBody('OnlineDeployments_CreateOrUpdate', built.body), []);
  const p = built.body.properties as any;
  assert.equal(p.model, `${WS}/models/credit/versions/7`);
  assert.equal(p.environmentId, `${WS}/environments/sklearn-env/versions/4`);
  assert.deepEqual(p.livenessProbe, { initialDelay: 'PT5S', period: 'PT10S' });
  assert.deepEqual(p.requestSettings, { requestTimeout: 'PT0.5S', maxConcurrentRequestsPerInstance: 2 });
  assert.deepEqual(built.body.sku, { name: 'Default', capacity: 2 });
  assert.equal(log.find((c) => c.op === 'uploadCode')!.arg, '/agent/s/score');
  // bare name:version also works for the model input; a local path becomes an inline model
  const s2 = deploymentSpecFromInputs({
    name: 'g',
    endpointName: 'ep',
    kind: 'Managed',
    model: 'credit:3',
    baseDir: '/x',
  });
  assert.deepEqual(s2.model, {
    kind: 'ref',
    ref: { kind: 'asset', name: 'credit', version: '3', text: 'credit:3' },
    text: 'credit:3',
  });
  const s3 = deploymentSpecFromInputs({
    name: 'g',
    endpointName: 'ep',
    kind: 'Managed',
    model: './model',
    baseDir: '/x',
  });
  assert.equal(s3.model?.kind === 'inline' && s3.model.model.path, '/x/model');
  assert.throws(
    () =>
      deploymentSpecFromInputs({
        name: 'g',
        endpointName: 'ep',
        kind: 'Managed',
        model: 'm:1',
        codeDir: 'c',
        scoringScript: 's.py',
        baseDir: '/x',
      }),
    /Input 'environment': is required/,
  );
  assert.throws(
    () =>
      deploymentSpecFromInputs({
        name: 'g',
        endpointName: 'ep',
        kind: 'Managed',
        model: 'm:1',
        resources: { requests: { cpu: '1' } },
        baseDir: '/x',
      }),
    /Input 'resources'/,
  );
});

test('inline model and environment versions: deterministic names/versions, valid bodies', async () => {
  const { r, log } = fakeResolver();
  await buildOnlineDeploymentBody(parseOnlineDeploymentYaml(path.join(ONLINE, 'managed/sample/blue-deployment.yml')), {
    location: LOCATION,
    resolver: r,
  });
  const model = log.find((c) => c.op === 'ensureModel')!.arg as any;
  const mv = inlineModelVersion(model, 'azureml://datastores/workspaceblobstore/paths/LocalUpload/abc/model', {
    deploymentName: 'blue',
  });
  assert.equal(mv.name, 'blue-model');
  assert.match(mv.version, /^[0-9a-f]{32}$/);
  assert.deepEqual(validateBody('ModelVersions_CreateOrUpdate', mv.body), []);
  assert.equal(
    inlineModelVersion(model, 'azureml://datastores/workspaceblobstore/paths/LocalUpload/abc/model', {
      deploymentName: 'blue',
    }).version,
    mv.version,
    'same content → same version',
  );
  assert.notEqual(
    inlineModelVersion(model, 'azureml://datastores/workspaceblobstore/paths/LocalUpload/def/model').version,
    mv.version,
  );
  const env = log.find((c) => c.op === 'ensureEnvironment')!.arg as any;
  const conda = fs.readFileSync(env.condaFile, 'utf8');
  const ev = inlineEnvironmentVersion(env, { condaFileText: conda });
  assert.equal(ev.name, 'CliV2AnonymousEnvironment');
  assert.equal((ev.body.properties as any).isAnonymous, true);
  assert.equal((ev.body.properties as any).condaFile, conda);
  assert.deepEqual(validateBody('EnvironmentVersions_CreateOrUpdate', ev.body), []);
  assert.equal(inlineEnvironmentVersion(env, { condaFileText: conda }).version, ev.version);
  assert.notEqual(inlineEnvironmentVersion(env, { condaFileText: conda + '\n# changed' }).version, ev.version);
});
