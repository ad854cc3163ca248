// What @azure/arm-machinelearning 2.1.1 (generated from the same 2022-10-01 swagger) really puts on the wire,
// captured with a fake HttpClient and checked by the emulator's validator. Shows the validator accepts what the
// SDK serializes, and catches the SDK's job-input serialization bug (azure-sdk-for-js#29328).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { createHttpHeaders, type HttpClient, type PipelineRequest } from '@azure/core-rest-pipeline';
import type { TokenCredential } from '@azure/core-auth';
import { validateRequest } from '../emulator/swagger';

const SUB = '00000000-0000-0000-0000-000000000000';
const WSID = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws`;

function capturingClient() {
  const sent: Array<{ method: string; url: URL; body: unknown }> = [];
  const httpClient: HttpClient = {
    async sendRequest(request: PipelineRequest) {
      const body = typeof request.body === 'string' ? JSON.parse(request.body) : undefined;
      sent.push({ method: request.method, url: new URL(request.url), body });
      const echo = {
        id: new URL(request.url).pathname,
        name: 'x',
        ...(body as object),
        properties: { ...((body as { properties?: object })?.properties ?? {}), provisioningState: 'Succeeded' },
      };
      return {
        status: 200,
        headers: createHttpHeaders({ 'content-type': 'application/json' }),
        request,
        bodyAsText: JSON.stringify(echo),
      };
    },
  };
  const credential: TokenCredential = {
    getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3_600_000 }),
  };
  const client = new AzureMachineLearningWorkspaces(credential, SUB, {
    endpoint: 'https://management.example',
    httpClient,
    retryOptions: { maxRetries: 0 },
  });
  return { client, sent };
}

function check(sent: Array<{ method: string; url: URL; body: unknown }>) {
  return sent.map((s) => validateRequest(s.method, s.url.pathname, s.url.searchParams, s.body));
}

test('bodies the SDK serializes for model/code/environment/component versions and online endpoints/deployments validate', async () => {
  const { client, sent } = capturingClient();
  await client.modelVersions.createOrUpdate('rg', 'ws', 'credit', '1', {
    properties: {
      modelUri: 'azureml://datastores/workspaceblobstore/paths/m',
      modelType: 'custom_model',
      tags: { a: 'b' },
      description: 'd',
    },
  });
  await client.codeVersions.createOrUpdate('rg', 'ws', 'src', '1', {
    properties: { codeUri: 'https://acc.blob.core.windows.net/c/LocalUpload/h/src' },
  });
  await client.environmentVersions.createOrUpdate('rg', 'ws', 'env', '1', {
    properties: { image: 'mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04', condaFile: 'name: e', osType: 'Linux' },
  });
  await client.componentVersions.createOrUpdate('rg', 'ws', 'train', '1', {
    properties: { componentSpec: { name: 'train', type: 'command' } },
  });
  await client.onlineEndpoints.beginCreateOrUpdateAndWait(
    'rg',
    'ws',
    'ep',
    {
      location: 'westeurope',
      identity: { type: 'SystemAssigned' },
      properties: { authMode: 'Key', traffic: { blue: 100 } },
    },
    { updateIntervalInMs: 1 },
  );
  await client.onlineDeployments.beginCreateOrUpdateAndWait(
    'rg',
    'ws',
    'ep',
    'blue',
    {
      location: 'westeurope',
      sku: { name: 'Default', capacity: 1 },
      properties: {
        endpointComputeType: 'Managed',
        model: `${WSID}/models/credit/versions/1`,
        environmentId: `${WSID}/environments/env/versions/1`,
        codeConfiguration: { codeId: `${WSID}/codes/src/versions/1`, scoringScript: 'score.py' },
        instanceType: 'Standard_DS3_v2',
        scaleSettings: { scaleType: 'Default' },
        requestSettings: { requestTimeout: 'PT5S' },
        livenessProbe: { period: 'PT10S', timeout: 'PT2S' },
      },
    },
    { updateIntervalInMs: 1 },
  );
  const puts = sent.filter((s) => s.method === 'PUT');
  assert.equal(puts.length, 6);
  const results = check(puts);
  assert.deepEqual(
    results.map((r) => r?.operationId),
    [
      'ModelVersions_CreateOrUpdate',
      'CodeVersions_CreateOrUpdate',
      'EnvironmentVersions_CreateOrUpdate',
      'ComponentVersions_CreateOrUpdate',
      'OnlineEndpoints_CreateOrUpdate',
      'OnlineDeployments_CreateOrUpdate',
    ],
  );
  for (const r of results) assert.deepEqual(r?.errors, [], r?.operationId);
});

test('a command job the SDK serializes loses its uri_folder input uri, and the validator rejects it', async () => {
  const { client, sent } = capturingClient();
  await client.jobs.createOrUpdate('rg', 'ws', 'job-1', {
    properties: {
      jobType: 'Command',
      command: 'python train.py',
      environmentId: `${WSID}/environments/env/versions/1`,
      inputs: {
        training_data: { jobInputType: 'uri_folder', uri: 'azureml:credit-data:1', mode: 'ReadOnlyMount' } as never,
      },
    },
  });
  assert.equal(sent.length, 1);
  const [r] = check(sent);
  assert.equal(r?.operationId, 'Jobs_CreateOrUpdate');
  const input = (sent[0].body as { properties: { inputs: Record<string, Record<string, unknown>> } }).properties.inputs
    .training_data;
  assert.deepEqual(input, { jobInputType: 'uri_folder' }, 'SDK 2.1.1 drops uri and mode (pinned version)');
  assert.deepEqual(r?.errors, ['properties.inputs.training_data.uri: required']);
  assert.equal(r?.code, 'UserError');
  // the same body, built by hand (the SDK drops uri/mode: Azure/azure-sdk-for-js#29328), passes
  const fixed = structuredClone(sent[0].body) as { properties: { inputs: Record<string, unknown> } };
  fixed.properties.inputs.training_data = {
    jobInputType: 'uri_folder',
    uri: 'azureml:credit-data:1',
    mode: 'ReadOnlyMount',
  };
  assert.deepEqual(validateRequest('PUT', sent[0].url.pathname, sent[0].url.searchParams, fixed)?.errors, []);
});
