// Pure parts of the emulator's job runner and MLflow module: command substitution, sweep sampling, URI resolution,
// durations, MLflow search filters and ordering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  substitute,
  missingCommandInputs,
  sampleSearchSpace,
  parseDistribution,
  resolveUri,
  isoSeconds,
  type RunnerDeps,
} from '../emulator/jobrunner';
import { MlflowStore, parseFilter, matches, orderRuns } from '../emulator/mlflow';
import { Store } from '../emulator/store';

test('substitute: inputs, outputs, search space, optional blocks', () => {
  const cmd =
    'python t.py --data ${{inputs.data}} --lr ${{ search_space.lr }} $[[--seed ${{inputs.seed}}]] --out ${{outputs.model}}';
  assert.equal(
    substitute(cmd, { inputs: { data: '/in/d.csv' }, outputs: { model: '/out/m' }, searchSpace: { lr: 0.1 } }),
    'python t.py --data /in/d.csv --lr 0.1  --out /out/m',
  );
  assert.equal(
    substitute(cmd, { inputs: { data: 'd', seed: '7' }, outputs: { model: 'm' }, searchSpace: { lr: 1 } }),
    'python t.py --data d --lr 1 --seed 7 --out m',
  );
  assert.throws(() => substitute('echo ${{inputs.nope}}', { inputs: {}, outputs: {} }), /inputs\.nope/);
  assert.deepEqual(missingCommandInputs(cmd, { data: {} }), []);
  assert.deepEqual(missingCommandInputs('a ${{inputs.x}} ${{inputs.y}} ${{inputs.x}}', { y: {} }), ['x']);
});

test('sweep sampling: grid enumerates choices in order, random is seeded and in range, both search-space forms', () => {
  const grid = sampleSearchSpace(
    { a: ['choice', [[1, 2]]], b: { type: 'choice', values: ['x', 'y'] } },
    { samplingAlgorithmType: 'Grid' },
    3,
  );
  assert.deepEqual(grid, [
    { a: 1, b: 'x' },
    { a: 1, b: 'y' },
    { a: 2, b: 'x' },
  ]);
  const space = { lr: ['uniform', [0.1, 1.0]], n: ['randint', [5]], c: ['choice', [['p', 'q']]] };
  const r1 = sampleSearchSpace(space, { samplingAlgorithmType: 'Random', seed: 3 }, 20);
  const r2 = sampleSearchSpace(space, { samplingAlgorithmType: 'Random', seed: 3 }, 20);
  assert.deepEqual(r1, r2);
  for (const s of r1) {
    assert.ok((s.lr as number) >= 0.1 && (s.lr as number) <= 1.0);
    assert.ok(Number.isInteger(s.n) && (s.n as number) >= 0 && (s.n as number) < 5);
    assert.ok(['p', 'q'].includes(s.c as string));
  }
  assert.ok(new Set(r1.map((s) => s.lr)).size > 10, 'random draws differ');
  assert.throws(
    () => sampleSearchSpace({ lr: ['uniform', [0, 1]] }, { samplingAlgorithmType: 'Grid' }, 2),
    /only choice/,
  );
  assert.throws(() => parseDistribution('x', { type: 'weird' }), /unsupported distribution/);
});

test('isoSeconds', () => {
  assert.equal(isoSeconds('PT1H30M'), 5400);
  assert.equal(isoSeconds('P1DT2S'), 86402);
  assert.equal(isoSeconds(30), 30);
  assert.equal(isoSeconds('45'), 45);
  assert.equal(isoSeconds(undefined), undefined);
});

test('resolveUri: datastore URIs, asset references, job outputs, blob URLs', () => {
  const ws = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w';
  const store = new Store(fs.mkdtempSync(path.join(os.tmpdir(), 'jr-')));
  store.put('jobs', `${ws}/jobs/j1`, {
    id: `${ws}/jobs/j1`,
    name: 'j1',
    type: 'x',
    properties: { outputs: { model: { jobOutputType: 'custom_model' } } },
  });
  const versions: Record<string, any> = {
    [`${ws}/models/m/versions/2`.toLowerCase()]: {
      id: `${ws}/models/m/versions/2`,
      properties: { modelUri: 'azureml://datastores/workspaceblobstore/paths/models/m2/' },
    },
    [`${ws}/data/d/versions/1`.toLowerCase()]: {
      id: `${ws}/data/d/versions/1`,
      properties: { dataUri: 'azureml://datastores/workspaceblobstore/paths/data/d.csv' },
    },
  };
  const deps = {
    store,
    datastoreContainer: (_w: string, n: string) =>
      n === 'workspaceblobstore' ? 'blobstore-c' : n === 'workspaceartifactstore' ? 'azureml' : undefined,
    assetById: (id: string) => versions[id.toLowerCase()],
    assetVersion: (w: string, t: string, n: string, v: string) =>
      versions[`${w}/${t}/${n}/versions/${v === 'latest' ? (t === 'models' ? '2' : '1') : v}`.toLowerCase()],
  } as unknown as RunnerDeps;
  assert.deepEqual(resolveUri(deps, ws, 'azureml://datastores/workspaceblobstore/paths/a/b.csv'), {
    container: 'blobstore-c',
    path: 'a/b.csv',
  });
  assert.deepEqual(
    resolveUri(
      deps,
      ws,
      'azureml://subscriptions/s/resourcegroups/rg/workspaces/w/datastores/workspaceblobstore/paths/LocalUpload/h/src',
    ),
    { container: 'blobstore-c', path: 'LocalUpload/h/src' },
  );
  assert.deepEqual(resolveUri(deps, ws, 'azureml:m:2'), { container: 'blobstore-c', path: 'models/m2/' });
  assert.deepEqual(resolveUri(deps, ws, 'azureml:d@latest'), { container: 'blobstore-c', path: 'data/d.csv' });
  assert.deepEqual(resolveUri(deps, ws, `azureml:${ws}/models/m/versions/2`), {
    container: 'blobstore-c',
    path: 'models/m2/',
  });
  assert.deepEqual(resolveUri(deps, ws, 'azureml://jobs/j1/outputs/model/paths/model.json'), {
    container: 'blobstore-c',
    path: 'azureml/j1/model/model.json',
  });
  assert.deepEqual(resolveUri(deps, ws, 'http://127.0.0.1:10000/devstoreaccount1/c1/x/y.txt'), {
    container: 'c1',
    path: 'x/y.txt',
  });
  assert.deepEqual(resolveUri(deps, ws, 'https://acct.blob.core.windows.net/datasets/iris.csv'), {
    container: 'datasets',
    path: 'iris.csv',
  });
  assert.deepEqual(resolveUri(deps, ws, 'wasbs://datasets@acct.blob.core.windows.net/iris.csv'), {
    container: 'datasets',
    path: 'iris.csv',
  });
  assert.throws(() => resolveUri(deps, ws, 'azureml://datastores/nope/paths/x'), /Datastore 'nope' not found/);
  assert.throws(() => resolveUri(deps, ws, 'azureml:missing:1'), /not found/);
  assert.throws(() => resolveUri(deps, ws, 'ftp://x/y'), /Unsupported URI/);
});

test('MLflow search: filter grammar and ordering', () => {
  const ws = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w';
  const ml = new MlflowStore(new Store(fs.mkdtempSync(path.join(os.tmpdir(), 'mlf-'))));
  const e = ml.createExperiment(ws, 'e');
  const mk = (name: string, acc: number, team: string) => {
    const r = ml.createRun(ws, e.experiment_id, { runName: name, tags: { team } });
    ml.logBatch(ws, r.info.run_id, {
      metrics: [
        { key: 'acc', value: acc - 0.5, step: 0, timestamp: 1 },
        { key: 'acc', value: acc, step: 1, timestamp: 2 },
      ],
      params: [{ key: 'lr', value: '0.1' }],
    });
    return ml.getRun(ws, r.info.run_id)!;
  };
  const runs = [mk('a', 0.7, 'x'), mk('b', 0.9, 'y'), mk('c', 0.8, 'y')];
  const pick = (f: string, order?: string[]) =>
    orderRuns(
      ml,
      runs.filter((r) => matches(ml, r, parseFilter(f))),
      order,
    ).map((r) => r.info.run_name);
  assert.deepEqual(pick("tags.team = 'y'", ['metrics.acc ASC']), ['c', 'b']);
  assert.deepEqual(pick('metrics.acc > 0.75', ['metrics.acc DESC']), ['b', 'c']);
  assert.deepEqual(pick("attributes.run_name LIKE 'a%'"), ['a']);
  assert.deepEqual(pick("params.lr = '0.1' and tags.team != 'y'"), ['a']);
  assert.deepEqual(pick("run_name IN ('a', 'c')", ['attributes.run_name DESC']), ['c', 'a']);
  assert.throws(() => parseFilter('metrics.acc >'), /parsing filter/);
  assert.throws(() => parseFilter('tags.team = y'), /must be quoted/);
  // latest metric = greatest step
  assert.equal(ml.latest(runs[0], 'acc')?.value, 0.7);
});
