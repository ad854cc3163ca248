// AzureMLDriftCheck@1 without Azure: the column store (src/tasks/drift/table.ts), the comparison
// (src/tasks/driftCheck.ts compareTables: feature selection, types, dropna, verdict) and runDriftCheck's rules with
// injected operations. Metric values come from the reference fixture (test/fixtures/drift/drift-reference.json).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ColumnTable, lineSink } from '../../src/tasks/drift/table';
import {
  checkDriftInputs,
  collectedDataUri,
  compareTables,
  driftSummary,
  runDriftCheck,
  type DriftInputs,
  type DriftOps,
} from '../../src/tasks/driftCheck';
import { partitionHour } from '../../src/azureml/dataRead';
import { InputError, UserError } from '../../src/pipeline/errors';

const REF = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'drift', 'drift-reference.json'), 'utf8'),
);
const refCase = (n: string) => REF.cases.find((c: any) => c.name === n);

const INPUTS: DriftInputs = {
  referenceData: 'azureml:train:1',
  productionData: 'azureml:prod:1',
  collection: 'model_inputs',
  lookbackMs: 7 * 86_400_000,
  features: [],
  numericalFeatures: [],
  categoricalFeatures: [],
  numericalMetric: 'NormalizedWassersteinDistance',
  numericalThreshold: 0.1,
  categoricalMetric: 'JensenShannonDistance',
  categoricalThreshold: 0.1,
  failOnDrift: true,
};
function jsonl(rows: object[]): ColumnTable {
  const t = new ColumnTable();
  const s = lineSink(t, 'jsonl', 'test');
  for (const r of rows) s.line(JSON.stringify(r));
  s.end();
  return t;
}
const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= Math.max(1e-12, Math.abs(b) * 1e-9), `${what}: ${a} vs ${b}`);

describe('column store', () => {
  test('JSON Lines, the collector envelope (rows and columns orientation) and CSV give the same table', () => {
    const rows = [
      { a: 1.5, b: 'x' },
      { a: 2.5, b: 'y' },
    ];
    const plain = jsonl(rows);
    const env = new ColumnTable();
    env.addJsonLine(
      JSON.stringify({ specversion: '1.0', type: 'azureml.inference.model_inputs', data: rows, correlationid: 'c' }),
      'x',
    );
    const cols = new ColumnTable();
    cols.addJsonLine(JSON.stringify({ specversion: '1.0', data: { a: [1.5, 2.5], b: ['x', 'y'] } }), 'x');
    const csv = new ColumnTable();
    const s = lineSink(csv, 'csv', 'c.csv');
    for (const l of ['a,b', '1.5,x', '2.5,"y"']) s.line(l);
    s.end();
    for (const t of [plain, env, cols, csv]) {
      assert.equal(t.rows, 2);
      assert.deepEqual([...t.numbers('a', new Uint8Array([1, 1]))], [1.5, 2.5]);
      assert.deepEqual(
        [...t.categoryCounts('b', new Uint8Array([1, 1]))],
        [
          ['x', 1],
          ['y', 1],
        ],
      );
      assert.equal(t.type('a'), 'double');
      assert.equal(t.type('b'), 'string');
    }
    assert.equal(env.envelopes, 1);
    assert.throws(
      () => env.addJsonLine('{"specversion":"1.0","dataref":"https://x"}', 'f line 3'),
      /f line 3: the collector stored this payload by reference/,
    );
    assert.throws(() => env.addJsonLine('{not json', 'f line 4'), /f line 4: not JSON/);
  });

  test('CSV keeps 3.0 a double; whole numbers are long; quoted commas and multi-line fields', () => {
    const t = new ColumnTable();
    const s = lineSink(t, 'csv', 'c.csv');
    for (const l of ['n,i,txt', '3.0,1,"a, b"', '4.0,2,"multi', 'line"', ',3,']) s.line(l);
    s.end();
    assert.equal(t.rows, 3);
    assert.equal(t.type('n'), 'double');
    assert.equal(t.type('i'), 'long');
    assert.deepEqual(
      [...t.categoryCounts('txt', new Uint8Array([1, 1, 0]))],
      [
        ['a, b', 1],
        ['multi\nline', 1],
      ],
    );
    assert.deepEqual([...t.keptRows(['n', 'txt'])], [1, 1, 0]);
  });
});

describe('compareTables: what the service compares', () => {
  test('missing values: the fixture case through JSON Lines gives the reference values (dropna over both features)', () => {
    const c = refCase('missing-values');
    const toRows = (rows: Array<[number | null, string | null]>) => rows.map(([x, k]) => ({ x, k }));
    const ref = jsonl(toRows(c.baselineRows)),
      prod = jsonl(toRows(c.productionRows));
    for (const [nm, cm, num, cat] of [
      [
        'NormalizedWassersteinDistance',
        'JensenShannonDistance',
        c.numeric.NormalizedWassersteinDistance,
        c.categorical.JensenShannonDistance,
      ],
      [
        'PopulationStabilityIndex',
        'PearsonsChiSquaredTest',
        c.numeric.PopulationStabilityIndex,
        c.categorical.PearsonsChiSquaredTest,
      ],
    ] as const) {
      const rep = compareTables(ref, prod, { ...INPUTS, numericalMetric: nm, categoricalMetric: cm });
      assert.equal(rep.referenceKept, c.keptBaseline);
      assert.equal(rep.productionKept, c.keptProduction);
      const x = rep.features.find((f) => f.feature === 'x')!,
        k = rep.features.find((f) => f.feature === 'k')!;
      assert.equal(x.kind, 'numerical');
      assert.equal(k.kind, 'categorical');
      close(x.value, num, nm);
      close(k.value, cat, cm);
    }
  });

  test('types: whole numbers with few distinct values are categorical, long vs double is skipped, overrides win', () => {
    const ref = jsonl(Array.from({ length: 100 }, (_, i) => ({ grade: i % 3, age: 20 + i, score: i / 7, mixed: i })));
    const prod = jsonl(
      Array.from({ length: 50 }, (_, i) => ({ grade: i % 3, age: 30 + i, score: i / 5, mixed: i + 0.5 })),
    );
    const rep = compareTables(ref, prod, INPUTS);
    const kinds = Object.fromEntries(rep.features.map((f) => [f.feature, f.kind]));
    assert.deepEqual(kinds, { grade: 'categorical', age: 'numerical', score: 'numerical' });
    assert.deepEqual(rep.skipped, [{ feature: 'mixed', reference: 'long', production: 'double' }]);
    const over = compareTables(ref, prod, { ...INPUTS, numericalFeatures: ['grade'], categoricalFeatures: ['age'] });
    assert.equal(over.features.find((f) => f.feature === 'grade')!.kind, 'numerical');
    assert.equal(over.features.find((f) => f.feature === 'age')!.kind, 'categorical');
  });

  test('verdict: a shifted feature drifts, a stable one does not; p-value metrics breach below', () => {
    const ref = jsonl(
      Array.from({ length: 200 }, (_, i) => ({ stable: (i % 20) / 2, shifted: i % 10, color: ['r', 'g', 'b'][i % 3] })),
    );
    const prod = jsonl(
      Array.from({ length: 200 }, (_, i) => ({
        stable: (i % 20) / 2,
        shifted: (i % 10) + 5,
        color: ['r', 'g', 'b'][i % 3],
      })),
    );
    const rep = compareTables(ref, prod, { ...INPUTS, numericalFeatures: ['shifted'] });
    const by = Object.fromEntries(rep.features.map((f) => [f.feature, f]));
    assert.equal(by.stable.value, 0);
    assert.equal(by.stable.drifted, false);
    assert.equal(by.shifted.drifted, true);
    assert.ok(by.shifted.value > 1, String(by.shifted.value)); // W1 = 5, sd ≈ 2.88
    assert.equal(by.color.value, 0);
    assert.equal(rep.driftDetected, true);
    const ks = compareTables(ref, prod, {
      ...INPUTS,
      numericalFeatures: ['shifted'],
      numericalMetric: 'TwoSampleKolmogorovSmirnovTest',
      numericalThreshold: 0.05,
    });
    assert.equal(ks.features.find((f) => f.feature === 'shifted')!.drifted, true);
    assert.equal(ks.features.find((f) => f.feature === 'stable')!.drifted, false);
    const md = driftSummary({
      report: rep,
      reference: 'azureml:train:1',
      production: 'azureml:prod:1',
      files: { reference: 1, production: 1 },
      bytes: 0,
    });
    assert.match(md, /^### Data drift: DRIFT in 1 of 3 feature\(s\): shifted\n/);
    assert.match(md, /#### shifted: NormalizedWassersteinDistance [\d.]+ \(threshold 0\.1\)/);
    assert.ok(
      md.indexOf('#### shifted') < md.indexOf('| feature | type |'),
      'the drifted feature comes before the table',
    );
    // the first screen: the drifted feature's chart (a PNG inline) before the table; the bin shares follow as text
    const img = /!\[shifted: reference beside production[^\]]*\]\(data:image\/png;base64,([A-Za-z0-9+/=]+)\)/.exec(md);
    assert.ok(img, md.slice(0, 400));
    assert.ok(img.index < md.indexOf('| feature | type |'), 'the chart comes before the table');
    assert.deepEqual([...Buffer.from(img[1]!, 'base64').subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG');
    assert.ok(md.indexOf('#### shifted: share of rows per bin') > md.indexOf('| feature | type |'));
    assert.equal((md.match(/data:image\/png/g) ?? []).length, 1, 'charts for drifted features only');
  });

  test('bad input: a feature one side lacks, no common column, no rows left, a dotted name', () => {
    const ref = jsonl([{ a: 1.5, b: 'x' }]),
      prod = jsonl([{ a: 2.5 }]);
    assert.throws(
      () => compareTables(ref, prod, { ...INPUTS, features: ['b'] }),
      (e: unknown) =>
        e instanceof InputError && /'b' is not a column of the production data \(columns: a\)/.test(e.message),
    );
    assert.throws(() => compareTables(jsonl([{ a: 'x' }]), jsonl([{ c: 1 }]), INPUTS), /no column in common/);
    assert.throws(
      () => compareTables(jsonl([{ a: 1.5, b: null }]), jsonl([{ a: 1.5, b: 'x' }]), INPUTS),
      /No reference row has a value in every compared feature \(a, b\)/,
    );
    assert.throws(() => compareTables(jsonl([{ 'a.b': 1 }]), jsonl([{ 'a.b': 1 }]), INPUTS), /'a\.b' .* has a dot/);
    const big = jsonl(Array.from({ length: 10_000 }, (_, n) => ({ a: n + 0.5 })));
    assert.throws(
      () => compareTables(big, jsonl([{ a: 1.5 }]), { ...INPUTS, numericalMetric: 'TwoSampleKolmogorovSmirnovTest' }),
      (e: unknown) =>
        e instanceof InputError &&
        /^Input 'numericalMetric': TwoSampleKolmogorovSmirnovTest is refused at 10000 rows or more \(as Azure ML does\): reference has 10000, production 1$/.test(
          e.message,
        ),
    );
  });
});

describe('runDriftCheck rules', () => {
  test('inputs: one production source, a deployment needs its endpoint, metrics by name', () => {
    assert.throws(
      () => checkDriftInputs({ ...INPUTS, productionData: undefined }),
      /Input 'productionData': is required unless endpointName/,
    );
    assert.throws(
      () => checkDriftInputs({ ...INPUTS, endpointName: 'ep1', deploymentName: 'blue' }),
      /Input 'productionData': give either/,
    );
    assert.throws(
      () => checkDriftInputs({ ...INPUTS, productionData: undefined, endpointName: 'ep1' }),
      /Input 'deploymentName': is required/,
    );
    assert.throws(() => checkDriftInputs({ ...INPUTS, numericalMetric: 'Foo' as any }), /Input 'numericalMetric'/);
  });

  const collected = (collector: any, files: string[] = ['x']): { ops: DriftOps; planned: any[] } => {
    const planned: any[] = [];
    return {
      planned,
      ops: {
        getWorkspace: async () => ({}),
        getDeploymentCollector: async () => (collector === 'missing' ? { exists: false } : { exists: true, collector }),
        plan: async (source, o) => {
          planned.push({ source, ...o });
          const rows = source.includes('modelDataCollector') ? [{ a: 2.5 }, { a: 3.5 }] : [{ a: 1.5 }, { a: 2.5 }];
          return {
            resolved: source,
            outsideWindow: source.includes('modelDataCollector') && !files.length ? 3 : 0,
            files: (source.includes('modelDataCollector') ? files : ['ref']).map((f) => ({
              label: f,
              size: 10,
              format: 'jsonl' as const,
              readLines: async (on: (l: string) => void) => {
                for (const r of rows) on(JSON.stringify(r));
                return 10;
              },
            })),
          };
        },
      },
    };
  };
  const dep = { ...INPUTS, productionData: undefined, endpointName: 'ep1', deploymentName: 'blue' };
  const log = { info: () => {} };

  test('collected data: the default path, the window ending now, hour folders read', async () => {
    const { ops, planned } = collected({ collections: { model_inputs: { dataCollectionMode: 'Enabled' } } });
    const now = new Date('2026-12-04T10:30:00Z');
    const r = await runDriftCheck({ ...dep, lookbackMs: 3 * 3_600_000 }, ops, log, now);
    assert.equal(planned[1].source, collectedDataUri('ep1', 'blue', 'model_inputs'));
    assert.equal(
      planned[1].source,
      'azureml://datastores/workspaceblobstore/paths/modelDataCollector/ep1/blue/model_inputs/',
    );
    assert.deepEqual(planned[1].window, { start: new Date('2026-12-04T07:30:00Z'), end: now });
    assert.equal(r.report.productionRows, 2);
    assert.equal(
      partitionHour('modelDataCollector/ep1/blue/model_inputs/2026/12/04/07/abc.jsonl'),
      Date.UTC(2026, 11, 4, 7),
    );
    assert.equal(partitionHour('modelDataCollector/ep1/blue/model_inputs/abc.jsonl'), undefined);
  });

  test('a deployment without collection, an unknown deployment, no data in the window: one line each', async () => {
    await assert.rejects(
      runDriftCheck(dep, collected(null).ops, log),
      (e: unknown) =>
        e instanceof UserError &&
        /^Deployment 'ep1\/blue' does not collect 'model_inputs' data \(it has no data collector\)/.test(e.message),
    );
    await assert.rejects(
      runDriftCheck(dep, collected({ collections: { model_outputs: {} } }).ops, log),
      /its data collector has: model_outputs/,
    );
    await assert.rejects(
      runDriftCheck(dep, collected('missing').ops, log),
      /Input 'deploymentName': deployment 'blue' does not exist under online endpoint 'ep1'/,
    );
    await assert.rejects(
      runDriftCheck(dep, collected({ collections: { model_inputs: {} } }, []).ops, log),
      /^UserError|No collected data in the window .* \(3 hour folder\(s\) lie outside it: widen lookbackWindow\)/,
    );
  });
});
