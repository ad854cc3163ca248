import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  SPEC_DIR,
  loadSpec,
  compileAllDefinitions,
  validateRequest,
  findOperation,
  assertValidBody,
  validateBody,
  bodyOperationIds,
  compileOperation,
} from '../emulator/swagger';

const WS =
  '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/ws1';
const Q = { 'api-version': '2022-10-01' };
const ENV_ID = `${WS}/environments/sklearn/versions/1`;

function errorsOf(
  method: string,
  path: string,
  query: Record<string, string> | URLSearchParams,
  body: unknown,
): string[] {
  const r = validateRequest(method, path, query, body);
  assert.ok(r, `no operation matched ${method} ${path}`);
  return r.errors;
}

const commandJob = (inputs: Record<string, unknown>) => ({
  properties: {
    jobType: 'Command',
    command: 'python train.py --data ${{inputs.training_data}}',
    environmentId: ENV_ID,
    computeId: `${WS}/computes/cpu-cluster`,
    experimentName: 'exp',
    displayName: 'train',
    inputs,
    outputs: { model: { jobOutputType: 'uri_folder', mode: 'ReadWriteMount' } },
    limits: { jobLimitsType: 'Command', timeout: 'PT30M' },
    resources: { instanceCount: 1 },
    tags: { a: 'b' },
  },
});

test('loading the specs and compiling a typical operation takes well under a second', () => {
  const t0 = performance.now();
  const spec = loadSpec();
  compileOperation('ModelVersions_CreateOrUpdate');
  const ms = performance.now() - t0;
  assert.ok(spec.operations.length > 100, `only ${spec.operations.length} operations loaded`);
  assert.ok(ms < 1000, `load + compile took ${ms.toFixed(0)} ms`);
});

test('a valid model version PUT passes', () => {
  const r = validateRequest('PUT', `${WS}/models/credit-model/versions/3`, Q, {
    properties: {
      modelUri: `azureml://subscriptions/x/resourcegroups/rg/workspaces/ws1/datastores/workspaceblobstore/paths/LocalUpload/abc/model`,
      modelType: 'custom_model',
      description: 'my model',
      tags: { 'azdo.buildId': '42' },
      properties: {},
      flavors: null,
    },
  });
  assert.deepEqual(r, { operationId: 'ModelVersions_CreateOrUpdate', errors: [] });
});

test('a model version PUT without properties fails', () => {
  assert.deepEqual(errorsOf('PUT', `${WS}/models/m/versions/1`, Q, { tags: {} }), ['properties: required']);
});

test('a command job whose uri_folder input lacks uri fails (the SDK serializer bug)', () => {
  const errors = errorsOf(
    'PUT',
    `${WS}/jobs/job-1`,
    Q,
    commandJob({
      training_data: { jobInputType: 'uri_folder', mode: 'ReadOnlyMount' },
      learning_rate: { jobInputType: 'literal', value: '0.01' },
    }),
  );
  assert.deepEqual(errors, ['properties.inputs.training_data.uri: required']);
  // and the same job with the uri passes
  assert.deepEqual(
    errorsOf(
      'PUT',
      `${WS}/jobs/job-1`,
      Q,
      commandJob({
        training_data: { jobInputType: 'uri_folder', mode: 'ReadOnlyMount', uri: 'azureml:credit-data:1' },
        learning_rate: { jobInputType: 'literal', value: '0.01' },
      }),
    ),
    [],
  );
});

test('an unknown jobType fails, naming the allowed values', () => {
  const errors = errorsOf('PUT', `${WS}/jobs/job-1`, Q, {
    properties: { jobType: 'Spark', command: 'x', environmentId: ENV_ID },
  });
  assert.equal(errors.length, 1);
  assert.match(errors[0], /^properties\.jobType: 'Spark' is not supported; must be one of /);
  for (const v of ['Command', 'Sweep', 'Pipeline', 'AutoML']) assert.ok(errors[0].includes(v), errors[0]);
  assert.deepEqual(errorsOf('PUT', `${WS}/jobs/job-1`, Q, { properties: { command: 'x' } }), [
    'properties.jobType: required',
  ]);
  // discriminators match exactly
  assert.match(
    errorsOf('PUT', `${WS}/jobs/job-1`, Q, {
      properties: { jobType: 'command', command: 'x', environmentId: ENV_ID },
    })[0],
    /^properties\.jobType: 'command' is not supported/,
  );
});

test('command job field errors are reported with their paths', () => {
  const body = commandJob({ lr: { jobInputType: 'literal' } });
  (body.properties as Record<string, unknown>).limits = { jobLimitsType: 'Command', timeout: 300 };
  (body.properties as Record<string, unknown>).environmentId = undefined;
  const errors = errorsOf('PUT', `${WS}/jobs/job-1`, Q, JSON.parse(JSON.stringify(body)));
  assert.deepEqual(errors.sort(), [
    'properties.environmentId: required',
    'properties.inputs.lr.value: required',
    'properties.limits.timeout: must be string or null',
  ]);
});

test('a valid sweep job with Random sampling and an objective passes', () => {
  const body = {
    properties: {
      jobType: 'Sweep',
      computeId: `${WS}/computes/cpu-cluster`,
      samplingAlgorithm: { samplingAlgorithmType: 'Random' },
      objective: { goal: 'Maximize', primaryMetric: 'accuracy' },
      searchSpace: { learning_rate: ['uniform', [0.01, 0.9]], boosting: ['choice', [['gbdt', 'dart']]] },
      trial: {
        command: 'python train.py --lr ${{search_space.learning_rate}}',
        environmentId: ENV_ID,
        codeId: `${WS}/codes/c/versions/1`,
      },
      limits: {
        jobLimitsType: 'Sweep',
        maxTotalTrials: 20,
        maxConcurrentTrials: 4,
        timeout: 'PT2H',
        trialTimeout: 'PT10M',
      },
      earlyTermination: { policyType: 'Bandit', slackFactor: 0.1, evaluationInterval: 2, delayEvaluation: 5 },
    },
  };
  assert.deepEqual(errorsOf('PUT', `${WS}/jobs/sweep-1`, Q, body), []);
  // sampling algorithm is discriminated too
  const bad = structuredClone(body);
  bad.properties.samplingAlgorithm = { samplingAlgorithmType: 'Hyperband' };
  assert.match(
    errorsOf('PUT', `${WS}/jobs/sweep-1`, Q, bad).join('\n'),
    /^properties\.samplingAlgorithm\.samplingAlgorithmType: 'Hyperband' is not supported; must be one of .*Random/,
  );
  const noObjective = structuredClone(body) as { properties: Record<string, unknown> };
  delete noObjective.properties.objective;
  assert.deepEqual(errorsOf('PUT', `${WS}/jobs/sweep-1`, Q, noObjective), ['properties.objective: required']);
});

test('online deployments are discriminated by endpointComputeType (Managed vs Kubernetes)', () => {
  const url = `${WS}/onlineEndpoints/ep1/deployments/blue`;
  const managed = {
    location: 'westeurope',
    sku: { name: 'Default', capacity: 1 },
    tags: {},
    properties: {
      endpointComputeType: 'Managed',
      model: `${WS}/models/m/versions/1`,
      environmentId: ENV_ID,
      codeConfiguration: { codeId: `${WS}/codes/c/versions/1`, scoringScript: 'score.py' },
      instanceType: 'Standard_DS3_v2',
      scaleSettings: { scaleType: 'Default' },
      appInsightsEnabled: false,
      requestSettings: { requestTimeout: 'PT5S', maxConcurrentRequestsPerInstance: 1 },
      livenessProbe: {
        initialDelay: 'PT10S',
        period: 'PT10S',
        timeout: 'PT2S',
        failureThreshold: 30,
        successThreshold: 1,
      },
    },
  };
  assert.deepEqual(errorsOf('PUT', url, Q, managed), []);
  // containerResourceRequirements only exists on Kubernetes deployments: checked there, ignored (unknown) on Managed
  const withResources = (type: string) => ({
    ...managed,
    properties: { ...managed.properties, endpointComputeType: type, containerResourceRequirements: 'lots' },
  });
  assert.deepEqual(errorsOf('PUT', url, Q, withResources('Managed')), []);
  assert.deepEqual(errorsOf('PUT', url, Q, withResources('Kubernetes')), [
    'properties.containerResourceRequirements: must be object',
  ]);
  const k8s = {
    ...managed,
    properties: {
      ...managed.properties,
      endpointComputeType: 'Kubernetes',
      containerResourceRequirements: { containerResourceRequests: { cpu: '1', memory: '2Gi' } },
    },
  };
  assert.deepEqual(errorsOf('PUT', url, Q, k8s), []);
  assert.match(
    errorsOf('PUT', url, Q, {
      ...managed,
      properties: { ...managed.properties, endpointComputeType: 'AzureMLCompute' },
    })[0],
    /^properties\.endpointComputeType: 'AzureMLCompute' is not supported; must be one of .*Managed.*|.*Kubernetes/,
  );
  // probe durations are ISO 8601
  const badProbe = structuredClone(managed);
  badProbe.properties.livenessProbe.timeout = '2 seconds';
  assert.deepEqual(errorsOf('PUT', url, Q, badProbe), [
    "properties.livenessProbe.timeout: '2 seconds' is not a valid duration",
  ]);
});

test('an AzureBlob datastore with account key passes; nested credential discriminators are checked', () => {
  const url = `${WS}/datastores/blobstore`;
  const ds = {
    properties: {
      datastoreType: 'AzureBlob',
      accountName: 'devstoreaccount1',
      containerName: 'azureml',
      endpoint: 'core.windows.net',
      protocol: 'https',
      credentials: { credentialsType: 'AccountKey', secrets: { secretsType: 'AccountKey', key: 'a2V5' } },
      isDefault: true,
    },
  };
  assert.deepEqual(errorsOf('PUT', url, Q, ds), []);
  const wrongSecrets = structuredClone(ds) as { properties: { credentials: Record<string, unknown> } };
  wrongSecrets.properties.credentials.secrets = { secretsType: 'Sas', sasToken: '?sv=1' };
  assert.deepEqual(errorsOf('PUT', url, Q, wrongSecrets), [
    "properties.credentials.secrets.secretsType: 'Sas' is not supported; must be one of AccountKey",
  ]);
  const noCreds = structuredClone(ds) as { properties: Record<string, unknown> };
  delete noCreds.properties.credentials;
  assert.deepEqual(errorsOf('PUT', url, Q, noCreds), ['properties.credentials: required']);
});

test('a path parameter that breaks its pattern fails (model name with a space)', () => {
  const errors = errorsOf('PUT', `${WS}/models/my%20model/versions/1`, Q, { properties: {} });
  assert.equal(errors.length, 1);
  assert.match(errors[0], /^path parameter 'name': 'my model' does not match pattern \^\[a-zA-Z0-9\]/);
  assert.equal(
    validateRequest('PUT', `${WS}/models/my%20model/versions/1`, Q, { properties: {} })?.code,
    'InvalidPathParameter',
  );
});

test('api-version missing or other than the spec version fails', () => {
  const url = `${WS}/models/m/versions/1`;
  assert.deepEqual(errorsOf('GET', url, {}, undefined), [
    'The api-version query parameter (?api-version=) is required for all requests.',
  ]);
  assert.deepEqual(errorsOf('GET', url, new URLSearchParams('api-version=2023-04-01'), undefined), [
    "The api-version '2023-04-01' is invalid. The supported versions are '2022-10-01','2024-04-01'.",
  ]);
  assert.deepEqual(errorsOf('GET', url, new URLSearchParams('api-version=2022-10-01'), undefined), []);
  assert.equal(validateRequest('GET', url, {}, undefined)?.code, 'MissingApiVersionParameter');
  assert.equal(
    validateRequest('GET', url, { 'api-version': '2021-01-01' }, undefined)?.code,
    'InvalidApiVersionParameter',
  );
  // a query string left on the path counts too
  assert.deepEqual(validateRequest('GET', `${url}?api-version=2022-10-01`, {}, undefined), {
    operationId: 'ModelVersions_Get',
    errors: [],
  });
});

test('unknown paths and methods match no operation', () => {
  assert.equal(validateRequest('GET', `${WS}/nonsense/x`, Q, undefined), undefined);
  assert.equal(validateRequest('PUT', `${WS}/jobs/j/cancel`, Q, undefined), undefined);
  assert.equal(findOperation('GET', '/subscriptions/s/resourceGroups/rg'), undefined);
});

test('path templates match case-insensitively and return decoded parameters', () => {
  const m = findOperation(
    'put',
    `/SUBSCRIPTIONS/s1/resourcegroups/rg/providers/microsoft.machinelearningservices/workspaces/ws/Models/m1/Versions/2/`,
  );
  assert.ok(m);
  assert.equal(m.operationId, 'ModelVersions_CreateOrUpdate');
  assert.deepEqual(m.params, {
    subscriptionId: 's1',
    resourceGroupName: 'rg',
    workspaceName: 'ws',
    name: 'm1',
    version: '2',
  });
  assert.equal(findOperation('POST', `${WS}/jobs/j1/cancel`)?.operationId, 'Jobs_Cancel');
  assert.equal(findOperation('GET', `${WS}/computes/cpu`)?.operationId, 'Compute_Get');
});

test('an online endpoint PUT with a traffic map passes; read-only fields from a GET are tolerated', () => {
  const url = `${WS}/onlineEndpoints/ep1`;
  const ep = {
    location: 'westeurope',
    identity: { type: 'SystemAssigned' },
    kind: 'Managed',
    tags: { team: 'ml' },
    properties: { authMode: 'Key', description: 'scoring', traffic: { blue: 90, green: 10 }, properties: {} },
  };
  assert.deepEqual(errorsOf('PUT', url, Q, ep), []);
  const roundTrip = {
    ...ep,
    id: `${WS}/onlineEndpoints/ep1`,
    name: 'ep1',
    type: 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints',
    systemData: { createdAt: '2024-01-01T00:00:00Z', createdBy: 'x' },
    properties: {
      ...ep.properties,
      provisioningState: 'Succeeded',
      scoringUri: 'https://ep1.westeurope.inference.ml.azure.com/score',
    },
  };
  assert.deepEqual(errorsOf('PUT', url, Q, roundTrip), []);
  // read-only values are not checked at all (ARM ignores them): even an unknown provisioningState passes
  assert.deepEqual(
    errorsOf('PUT', url, Q, {
      ...roundTrip,
      properties: { ...roundTrip.properties, provisioningState: 'NotAState', scoringUri: 42 },
    }),
    [],
  );
  assert.deepEqual(errorsOf('PUT', url, Q, { ...ep, properties: { ...ep.properties, traffic: { blue: '90' } } }), [
    'properties.traffic.blue: must be integer',
  ]);
  assert.deepEqual(errorsOf('PUT', url, Q, { ...ep, properties: { ...ep.properties, authMode: 'Password' } }), [
    "properties.authMode: 'Password' must be one of AMLToken, Key, AADToken",
  ]);
  assert.deepEqual(errorsOf('PUT', url, Q, { properties: ep.properties }), ['location: required']);
});

test('a nextLink-style GET (with $skip) has no body to validate', () => {
  const r = validateRequest(
    'GET',
    `${WS}/models/m/versions`,
    new URLSearchParams('api-version=2022-10-01&$skip=eyJ0b2tlbiI6MX0%3D&$orderBy=createdtime%20desc&$top=1'),
    undefined,
  );
  assert.deepEqual(r, { operationId: 'ModelVersions_List', errors: [] });
  assert.deepEqual(errorsOf('GET', `${WS}/models/m/versions`, { ...Q, $top: 'one' }, undefined), [
    "query parameter '$top': 'one' is not an integer",
  ]);
  assert.deepEqual(errorsOf('GET', `${WS}/models/m/versions`, { ...Q, listViewType: 'Everything' }, undefined), [
    "query parameter 'listViewType': 'Everything' must be one of ActiveOnly, ArchivedOnly, All",
  ]);
});

test('enums: value set strict, compared case-insensitively (goal "maximize"); x-nullable allows null only where declared', () => {
  const sweepObjective = (goal: string) =>
    validateBody('Jobs_CreateOrUpdate', {
      properties: {
        jobType: 'Sweep',
        samplingAlgorithm: { samplingAlgorithmType: 'Grid' },
        objective: { goal, primaryMetric: 'auc' },
        searchSpace: {},
        trial: { command: 'x', environmentId: ENV_ID },
      },
    });
  assert.deepEqual(sweepObjective('maximize'), []);
  assert.deepEqual(sweepObjective('Biggest'), [
    "properties.objective.goal: 'Biggest' must be one of Minimize, Maximize",
  ]);
  assert.deepEqual(
    validateBody('ModelVersions_CreateOrUpdate', { properties: { description: null, modelUri: null } }),
    [],
  );
  assert.deepEqual(validateBody('ModelVersions_CreateOrUpdate', { properties: { isArchived: null } }), [
    'properties.isArchived: must be boolean',
  ]);
});

test('assertValidBody throws with the messages and passes valid bodies', () => {
  assertValidBody('CodeVersions_CreateOrUpdate', {
    properties: { codeUri: 'https://acc.blob.core.windows.net/c/LocalUpload/x/src' },
  });
  assertValidBody('EnvironmentVersions_CreateOrUpdate', {
    properties: { image: 'mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04', osType: 'Linux' },
  });
  assertValidBody('ComponentVersions_CreateOrUpdate', {
    properties: { componentSpec: { name: 'train', type: 'command' } },
  });
  assertValidBody('Compute_CreateOrUpdate', {
    location: 'westeurope',
    properties: {
      computeType: 'AmlCompute',
      properties: {
        vmSize: 'STANDARD_DS3_V2',
        scaleSettings: { maxNodeCount: 4, minNodeCount: 0, nodeIdleTimeBeforeScaleDown: 'PT120S' },
      },
    },
  });
  assert.throws(
    () => assertValidBody('Jobs_CreateOrUpdate', commandJob({ data: { jobInputType: 'uri_file' } })),
    (e: Error) => /Jobs_CreateOrUpdate/.test(e.message) && /properties\.inputs\.data\.uri: required/.test(e.message),
  );
  assert.throws(
    () => assertValidBody('Compute_CreateOrUpdate', { location: 'x', properties: { computeType: 'Quantum' } }),
    /computeType: 'Quantum' is not supported/,
  );
  assert.throws(() => assertValidBody('No_Such_Operation', {}), /no operation 'No_Such_Operation'/);
});

test('at most 10 messages are returned', () => {
  const inputs: Record<string, unknown> = {};
  for (let i = 0; i < 15; i++) inputs[`in${i}`] = { jobInputType: 'uri_folder' };
  const errors = errorsOf('PUT', `${WS}/jobs/job-1`, Q, commandJob(inputs));
  assert.equal(errors.length, 10);
});

test('every operation with a body parameter compiles', () => {
  // count them straight from the file, independently of the loader
  const mfe = JSON.parse(readFileSync(path.join(SPEC_DIR, '2022-10-01/mfe.json'), 'utf8'));
  const raw: string[] = [];
  for (const item of Object.values<Record<string, { operationId: string; parameters?: Array<{ in?: string }> }>>(
    mfe.paths,
  )) {
    for (const op of Object.values(item)) if (op.parameters?.some((p) => p.in === 'body')) raw.push(op.operationId);
  }
  assert.deepEqual(bodyOperationIds('mfe').sort(), raw.sort());
  const ids = bodyOperationIds();
  assert.ok(ids.includes('Compute_CreateOrUpdate') && ids.includes('Registries_CreateOrUpdate'));
  for (const id of ids) assert.doesNotThrow(() => compileOperation(id), id);
});

test('every subtype a discriminator can choose compiles (both modes)', () => {
  const n = compileAllDefinitions();
  assert.ok(n >= 90, `${n} subtypes`); // 26 discriminated hierarchies in the two 2022-10-01 files
  assert.equal(compileAllDefinitions({ noUnknownProperties: true }), n);
});

test('noUnknownProperties (translator tests) reports properties the swagger does not define, through subtypes too', () => {
  const body = commandJob({ data: { jobInputType: 'uri_folder', uri: 'azureml:d:1', path: './data' } });
  (body.properties as Record<string, unknown>).codeID = 'typo';
  // the emulator, like ARM, ignores them
  assert.deepEqual(validateBody('Jobs_CreateOrUpdate', body), []);
  assert.deepEqual(validateBody('Jobs_CreateOrUpdate', body, { noUnknownProperties: true }).sort(), [
    'properties.codeID: unknown property (not in the 2022-10-01 swagger)',
    'properties.inputs.data.path: unknown property (not in the 2022-10-01 swagger)',
  ]);
  // free-form objects (componentSpec, searchSpace) and maps (tags, flavors) stay open
  assertValidBody(
    'ComponentVersions_CreateOrUpdate',
    { properties: { componentSpec: { name: 'x', inputs: { a: { type: 'uri_folder' } } }, tags: { k: 'v' } } },
    { noUnknownProperties: true },
  );
  assertValidBody(
    'ModelVersions_CreateOrUpdate',
    {
      properties: {
        modelUri: 'azureml://x',
        flavors: { python_function: { data: { loader_module: 'mlflow.sklearn' } } },
      },
    },
    { noUnknownProperties: true },
  );
  // fields newer than 2022-10-01 show up here (so a translator test must expect them explicitly)
  assert.deepEqual(
    validateBody(
      'ModelVersions_CreateOrUpdate',
      { properties: { stage: 'Production' } },
      { noUnknownProperties: true },
    ),
    ['properties.stage: unknown property (not in the 2022-10-01 swagger)'],
  );
});

test('api-version 2023-04-01 only for the online endpoint PUT (mirrorTraffic); the body is still checked against 2022-10-01', () => {
  const ep = `${WS}/onlineEndpoints/ep1`;
  const v = { 'api-version': '2023-04-01' };
  const ok = validateRequest('PUT', ep, v, {
    location: 'eastus',
    properties: { authMode: 'Key', traffic: { blue: 100 }, mirrorTraffic: { green: 20 } },
  });
  assert.deepEqual(ok, { operationId: 'OnlineEndpoints_CreateOrUpdate', errors: [] });
  const bad = validateRequest('PUT', ep, v, {
    location: 'eastus',
    properties: { authMode: 'Password', traffic: { blue: 'all' } },
  });
  assert.equal(bad?.code, 'UserError');
  assert.ok(
    bad!.errors.some((e) => /authMode/.test(e)) && bad!.errors.some((e) => /traffic/.test(e)),
    bad!.errors.join('; '),
  );
  // nowhere else
  assert.equal(
    validateRequest('PUT', `${ep}/deployments/green`, v, {
      location: 'eastus',
      properties: { endpointComputeType: 'Managed' },
    })?.code,
    'InvalidApiVersionParameter',
  );
  assert.equal(validateRequest('PATCH', ep, v, { tags: {} })?.code, 'InvalidApiVersionParameter');
  assert.equal(
    validateRequest('PUT', ep, { 'api-version': '2023-10-01' }, { location: 'eastus', properties: { authMode: 'Key' } })
      ?.code,
    'InvalidApiVersionParameter',
  );
});

test('api-version 2024-04-01: loaded on first use, every operation validated against its own file (issue 15)', () => {
  const job = `${WS}/jobs/j1`;
  const body = {
    properties: {
      jobType: 'Command',
      command: 'echo hi',
      environmentId: 'azureml:e:1',
      queueSettings: { jobTier: 'Spot' },
      resources: { instanceType: 'Standard_E4s_v3', instanceCount: 2 },
    },
  };
  // queueSettings is unknown at 2022-10-01 (refused by the box, which rejects unknown members), known at 2024-04-01
  assert.deepEqual(
    validateRequest('PUT', job, { 'api-version': '2022-10-01' }, body, { rejectUnknownMembers: true })?.errors,
    ['properties.queueSettings: unknown property (not in the 2022-10-01 swagger)'],
  );
  assert.deepEqual(validateRequest('PUT', job, { 'api-version': '2024-04-01' }, body, { rejectUnknownMembers: true }), {
    operationId: 'Jobs_CreateOrUpdate',
    errors: [],
  });
  // and checked there: a jobTier the 2024-04-01 enum lacks, a Spark job without its required fields
  const bad = validateRequest(
    'PUT',
    job,
    { 'api-version': '2024-04-01' },
    { properties: { ...body.properties, queueSettings: { jobTier: 'Gold' } } },
  );
  assert.match(bad!.errors.join(';'), /queueSettings\.jobTier: 'Gold' must be one of/);
  assert.match(
    validateRequest('PUT', job, { 'api-version': '2024-04-01' }, { properties: { jobType: 'Spark' } })!.errors.join(
      ';',
    ),
    /properties\.codeId: required/,
  );
  assert.deepEqual(
    validateBody('Jobs_CreateOrUpdate', { properties: { jobType: 'Spark' } }, { apiVersion: '2024-04-01' }).sort(),
    ['properties.codeId: required', 'properties.entry: required'],
  );
});

test('an inference route path "/" is accepted (the service does not apply Route.path [a-zA-Z0-9_]); other patterns still apply', () => {
  // the routes of azureml-examples custom-container/minimal/single-model/pip-in-dockerfile (liveness/readiness `/`)
  const env = (p: string) => ({
    properties: {
      image: 'myacr.azurecr.io/azureml-examples/minimal-single-model-pip-in-dockerfile:1',
      inferenceConfig: {
        livenessRoute: { path: p, port: 5001 },
        readinessRoute: { path: p, port: 5001 },
        scoringRoute: { path: '/score', port: 5001 },
      },
    },
  });
  for (const v of ['2022-10-01', '2024-04-01']) {
    const put = (b: unknown) => errorsOf('PUT', `${WS}/environments/minimal/versions/1`, { 'api-version': v }, b);
    assert.deepEqual(put(env('/')), [], v);
    assert.deepEqual(put(env('/v2/health/live')), [], v);
    // the pattern relaxation is that one property: a code version's name keeps its path pattern
  }
  assert.match(
    errorsOf('PUT', `${WS}/codes/bad name/versions/1`, Q, { properties: {} }).join('\n'),
    /does not match pattern/,
  );
});
