// Registries without the network: registry URIs, region names, and AzureMLModelPromote@1's rules (inputs, the region
// check before any write, idempotency, lineage) over fake ops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseRegistryModelUri,
  regionKey,
  registryModelUri,
  type RegistryInfo,
  type RegistryModelVersion,
} from '../../src/azureml/registries';
import {
  SOURCE_PROPERTY,
  checkPromoteInputs,
  isPromotionOf,
  missingLineage,
  promoteModel,
  type PromoteOps,
} from '../../src/tasks/modelPromote';

test('registry model URIs and region names', () => {
  assert.deepEqual(parseRegistryModelUri('azureml://registries/reg1/models/churn/versions/3'), {
    registry: 'reg1',
    name: 'churn',
    version: '3',
  });
  assert.deepEqual(parseRegistryModelUri('azureml://registries/reg1/models/churn/labels/latest'), {
    registry: 'reg1',
    name: 'churn',
    label: 'latest',
  });
  assert.equal(parseRegistryModelUri('azureml:churn:3'), undefined);
  assert.equal(parseRegistryModelUri('azureml://registries/reg1/environments/e/versions/1'), undefined);
  assert.equal(registryModelUri('reg1', 'churn', '3'), 'azureml://registries/reg1/models/churn/versions/3');
  assert.equal(regionKey('East US 2'), 'eastus2');
  assert.equal(regionKey('WestCentralUS'), 'westcentralus');
});

test('promote inputs: one InputError naming the input', () => {
  const ok = { modelName: 'churn', modelVersion: '', registry: 'reg1' };
  assert.equal(checkPromoteInputs(ok).modelVersion, 'latest');
  for (const [patch, input] of [
    [{ modelName: '' }, 'modelName'],
    [{ modelName: '-x' }, 'modelName'],
    [{ modelVersion: '007' }, 'modelVersion'],
    [{ registry: ' ' }, 'registry'],
    [{ destinationName: 'a b' }, 'destinationName'],
    [{ destinationVersion: '1 2' }, 'destinationVersion'],
  ] as Array<[Record<string, string>, string]>) {
    assert.throws(
      () => checkPromoteInputs({ ...ok, ...patch }),
      (e: Error & { input?: string }) => e.input === input,
      JSON.stringify(patch),
    );
  }
});

const SRC_ID =
  '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/dev/models/churn/versions/3';
const src = {
  id: SRC_ID,
  name: '3',
  properties: {
    modelType: 'custom_model',
    modelUri: 'azureml://datastores/workspaceblobstore/paths/m',
    jobName: 'train-1',
    description: 'd',
    tags: { 'azdo.buildId': '42', 'eval.auc': '0.9' },
  },
} as any;

test('isPromotionOf: our source property decides; otherwise job, type, description and tags must equal', () => {
  const dest = (p: Partial<RegistryModelVersion['properties']>): RegistryModelVersion => ({
    id: 'x',
    name: '3',
    properties: {
      modelType: 'custom_model',
      jobName: 'train-1',
      description: 'd',
      tags: { 'eval.auc': '0.9', 'azdo.buildId': '42' },
      ...p,
    },
  });
  assert.equal(isPromotionOf(dest({ properties: { [SOURCE_PROPERTY]: SRC_ID.toUpperCase() } }), src, SRC_ID), true);
  assert.equal(
    isPromotionOf(dest({ properties: { [SOURCE_PROPERTY]: SRC_ID.replace('/3', '/4') } }), src, SRC_ID),
    false,
  );
  assert.equal(isPromotionOf(dest({}), src, SRC_ID), true); // shared by other means, same content
  assert.equal(isPromotionOf(dest({ jobName: 'train-2' }), src, SRC_ID), false);
  assert.equal(isPromotionOf(dest({ tags: { 'eval.auc': '0.8', 'azdo.buildId': '42' } }), src, SRC_ID), false);
  assert.deepEqual(missingLineage(dest({ tags: { 'eval.auc': '0.9' } }), src, SRC_ID), {
    tags: { 'azdo.buildId': '42' },
    properties: { [SOURCE_PROPERTY]: SRC_ID },
  });
  assert.deepEqual(missingLineage(dest({ properties: { [SOURCE_PROPERTY]: SRC_ID } }), src, SRC_ID), {});
});

function fakeOps(reg: RegistryInfo, existing?: RegistryModelVersion): { ops: PromoteOps; calls: string[] } {
  const calls: string[] = [];
  let stored = existing;
  const ops: PromoteOps = {
    workspace: async () => ({ name: 'dev', location: 'East US', id: SRC_ID.replace(/\/models\/.*$/, '') }),
    sourceVersion: async (n, v) => (n === 'churn' && v === '3' ? src : undefined),
    latestSourceVersion: async (n) => (n === 'churn' ? src : undefined),
    findRegistry: async () => reg,
    registryVersion: async () => stored,
    publish: async (n, v, body) => {
      calls.push(`publish ${n}:${v} → ${body.registryName}/${body.destinationName}:${body.destinationVersion}`);
      stored = { id: 'rid', name: body.destinationVersion, properties: { ...src.properties } };
    },
    addToRegistryVersion: async (_r, _n, cur, add) => {
      calls.push(`add ${Object.keys({ ...add.tags, ...add.properties }).join(',')}`);
      stored = {
        ...cur,
        properties: {
          ...cur.properties,
          tags: { ...cur.properties.tags, ...add.tags },
          properties: { ...cur.properties.properties, ...add.properties },
        },
      };
      return stored;
    },
  };
  return { ops, calls };
}
const REG: RegistryInfo = {
  id: '/r',
  name: 'reg1',
  subscriptionId: 's2',
  resourceGroup: 'rg2',
  location: 'eastus',
  regions: ['eastus', 'westus'],
};

test('promote: publish, then record the source; a rerun calls nothing that writes', async () => {
  const { ops, calls } = fakeOps(REG);
  const r = await promoteModel({ modelName: 'churn', modelVersion: 'latest', registry: 'reg1' }, ops);
  assert.equal(r.promoted, true);
  assert.equal(r.destination.uri, 'azureml://registries/reg1/models/churn/versions/3');
  assert.deepEqual(calls, ['publish churn:3 → reg1/churn:3', `add ${SOURCE_PROPERTY}`]);
  const again = fakeOps(REG, r.version);
  const r2 = await promoteModel({ modelName: 'churn', modelVersion: '3', registry: 'reg1' }, again.ops);
  assert.equal(r2.promoted, false);
  assert.deepEqual(again.calls, []);
});

test('promote: region outside the registry, or a destination holding something else, fails before any write', async () => {
  const west = fakeOps({ ...REG, regions: ['westus'] });
  await assert.rejects(
    promoteModel({ modelName: 'churn', modelVersion: '3', registry: 'reg1' }, west.ops),
    /^InputError: Input 'registry': workspace 'dev' is in region eastus, which is not one of registry 'reg1''s regions \(westus\)$/,
  );
  assert.deepEqual(west.calls, []);
  const other = fakeOps(REG, {
    id: 'o',
    name: '3',
    properties: { properties: { [SOURCE_PROPERTY]: SRC_ID.replace('/dev/', '/other/') } },
  });
  await assert.rejects(
    promoteModel({ modelName: 'churn', modelVersion: '3', registry: 'reg1' }, other.ops),
    /already has model churn:3 \(promoted from .*\/other\/.*\), which is not churn:3 of workspace 'dev'; set destinationVersion/,
  );
  assert.deepEqual(other.calls, []);
  const missing = fakeOps(REG);
  await assert.rejects(
    promoteModel({ modelName: 'churn', modelVersion: '9', registry: 'reg1' }, missing.ops),
    /Input 'modelVersion': model 'churn' version 9 was not found in workspace 'dev'/,
  );
});
