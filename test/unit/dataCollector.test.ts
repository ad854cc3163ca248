// Production data collection: the deploy task's dataCollector (src/azureml/dataCollector.ts,
// src/tasks/deploy/dataCollector.ts) and the emulator's rules (test/emulator/dataCollection.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dataCollectorBody, dataCollectorDifferences, collectionAsset } from '../../src/azureml/dataCollector';
import {
  applyDataCollectionInputs,
  attachDataCollector,
  putDeploymentFor,
  wantedDataCollector,
  type CollectorOps,
} from '../../src/tasks/deploy/dataCollector';
import type { OnlineDeploymentSpec } from '../../src/azureml/deploymentSpec';
import { collectedRows, validateDataCollector } from '../emulator/dataCollection';

const WS = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w';
const spec = (): OnlineDeploymentSpec => ({ name: 'blue', kind: 'Managed', warnings: [] });

describe('deploy task: dataCollector', () => {
  test('inputs enable collections; defaults as the CLI registers them; the REST body validates against 2024-04-01', () => {
    const s = spec();
    applyDataCollectionInputs(s, ['model_inputs', 'model_outputs'], 0.25);
    const w = wantedDataCollector(s, WS, 'credit', 'blue')!;
    assert.deepEqual(w.body, {
      collections: {
        model_inputs: {
          dataCollectionMode: 'Enabled',
          dataId: `${WS}/data/credit-blue-model_inputs/versions/1`,
          samplingRate: 0.25,
        },
        model_outputs: {
          dataCollectionMode: 'Enabled',
          dataId: `${WS}/data/credit-blue-model_outputs/versions/1`,
          samplingRate: 0.25,
        },
      },
    });
    assert.deepEqual(validateDataCollector(w.body), []);
    assert.equal(
      w.lines[0],
      "Data collection 'model_inputs' (sampling 0.25): azureml://datastores/workspaceblobstore/paths/modelDataCollector/credit/blue/model_inputs/yyyy/MM/dd/HH/<instance>.jsonl, data asset azureml:credit-blue-model_inputs:1",
    );
    assert.deepEqual(
      collectionAsset('e', 'd', 'c', {
        enabled: true,
        data: { name: 'n', version: '3', path: 'azureml://datastores/x/paths/p/' },
      }),
      { name: 'n', version: '3', path: 'azureml://datastores/x/paths/p' },
    );
    assert.equal(wantedDataCollector(spec(), WS, 'e', 'd'), undefined, 'no collector: nothing sent');
    assert.throws(
      () => applyDataCollectionInputs(spec(), ['model inputs'], undefined),
      /Input 'dataCollection': 'model inputs' is not a collection name/,
    );
    assert.throws(
      () => applyDataCollectionInputs(spec(), [], 0.5),
      /Input 'dataCollectionSamplingRate': applies only with dataCollection/,
    );
    assert.throws(() => applyDataCollectionInputs(spec(), ['model_inputs'], 1.5), /must be in \(0, 1\]/);
  });

  test('differences: same collector → none; a disabled collection, another rate, no collector → named', () => {
    const want = dataCollectorBody(
      { collections: { model_inputs: { enabled: true } } },
      { model_inputs: `${WS}/data/a/versions/1` },
    );
    assert.deepEqual(dataCollectorDifferences(structuredClone(want), want), []);
    assert.deepEqual(dataCollectorDifferences(null, want), [
      'dataCollector.collections.model_inputs: absent → present',
    ]);
    assert.deepEqual(
      dataCollectorDifferences(
        {
          collections: {
            model_inputs: { dataCollectionMode: 'Disabled', dataId: `${WS}/data/a/versions/1`, samplingRate: 0.5 },
          },
        },
        want,
      ),
      [
        'dataCollector.collections.model_inputs.dataCollectionMode: Disabled → Enabled',
        'dataCollector.collections.model_inputs.samplingRate: 0.5 → 1',
      ],
    );
  });

  test('the PUT: with a collector, assets first then 2024-04-01; without, the SDK; the request body carries no helper fields', async () => {
    const calls: string[] = [];
    let sent: Record<string, unknown> | undefined;
    const ops: CollectorOps = {
      getDataCollector: async () => ({ exists: true, collector: null }),
      ensureAsset: async (a) => {
        calls.push(`asset ${a.name}:${a.version} ${a.path}`);
        return { id: 'x', created: true, path: a.path };
      },
      putWithCollector: async (_e, _d, body) => {
        calls.push('put 2024-04-01');
        sent = body;
        return { name: 'blue', kind: 'Managed', tags: {} };
      },
      sdkPut: async () => {
        calls.push('put sdk');
        return { name: 'blue', kind: 'Managed', tags: {} };
      },
      info: () => {},
    };
    const put = putDeploymentFor(ops);
    await put('credit', 'blue', { properties: { model: 'm' } });
    const s = spec();
    applyDataCollectionInputs(s, ['model_inputs'], undefined);
    const body: Record<string, any> = { properties: { model: 'm' } };
    attachDataCollector(body, wantedDataCollector(s, WS, 'credit', 'blue')!);
    await put('credit', 'blue', body);
    assert.deepEqual(calls, [
      'put sdk',
      'asset credit-blue-model_inputs:1 azureml://datastores/workspaceblobstore/paths/modelDataCollector/credit/blue/model_inputs',
      'put 2024-04-01',
    ]);
    assert.deepEqual(JSON.parse(JSON.stringify(sent)), {
      properties: {
        model: 'm',
        dataCollector: {
          collections: {
            model_inputs: {
              dataCollectionMode: 'Enabled',
              dataId: `${WS}/data/credit-blue-model_inputs/versions/1`,
              samplingRate: 1,
            },
          },
        },
      },
    });
  });
});

describe('emulator: dataCollector validation and collected rows', () => {
  test('the 2024-04-01 definitions refuse unknown members and bad enums', () => {
    assert.deepEqual(
      validateDataCollector({
        collections: { model_inputs: { dataCollectionMode: 'Enabled' } },
        rollingRate: 'Hour',
        requestLogging: { captureHeaders: ['x'] },
      }),
      [],
    );
    assert.match(
      validateDataCollector({ collections: { model_inputs: { enabled: true } } }).join('; '),
      /must NOT have additional properties 'enabled'/,
    );
    assert.match(
      validateDataCollector({ collections: { model_inputs: { dataCollectionMode: 'On' } } }).join('; '),
      /dataCollectionMode: must be equal to one of the allowed values/,
    );
    assert.match(
      validateDataCollector({ rollingRate: 'Hour' }).join('; '),
      /must have required property 'collections'/,
    );
  });

  test('rows: records as they are, lists of lists as columns "0".., column objects, an answer\'s list members', () => {
    assert.deepEqual(collectedRows('model_inputs', { data: [{ a: 1 }, { a: 2 }] }), [{ a: 1 }, { a: 2 }]);
    assert.deepEqual(
      collectedRows('model_inputs', {
        data: [
          [1, 2],
          [3, 4],
        ],
      }),
      [
        { 0: 1, 1: 2 },
        { 0: 3, 1: 4 },
      ],
    );
    assert.deepEqual(collectedRows('model_inputs', { input_data: { a: [1, 2], b: ['x', 'y'] } }), [
      { a: 1, b: 'x' },
      { a: 2, b: 'y' },
    ]);
    assert.deepEqual(collectedRows('model_outputs', { predictions: [0.5, 1.5], model_version: 'v1' }), [
      { predictions: 0.5 },
      { predictions: 1.5 },
    ]);
    assert.deepEqual(collectedRows('model_outputs', [7, 8]), [{ 0: 7 }, { 0: 8 }]);
    assert.deepEqual(collectedRows('request', { anything: true }), [{ anything: true }]);
    assert.equal(collectedRows('model_inputs', 'not json rows'), undefined);
  });
});
