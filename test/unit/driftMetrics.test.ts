// AzureMLDriftCheck@1's metrics (src/tasks/drift/metrics.ts) against values the reference computed:
// test/fixtures/drift/drift-reference.json, written by test/fixtures/drift/make_reference.py, which re-states Azure ML
// model monitoring's data drift component (Azure/azureml-assets) with the same numpy/scipy calls (versions in the JSON).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  breaches,
  categoricalMetric,
  chi2Sf,
  dualHistogram,
  ksTwoSample,
  numericalMetric,
  sturgesBins,
  KS_MAX_ROWS,
  CATEGORICAL_METRICS,
  NUMERICAL_METRICS,
  type CategoricalMetric,
  type NumericalMetric,
} from '../../src/tasks/drift/metrics';

const REF = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'drift', 'drift-reference.json'), 'utf8'),
);
const cases: any[] = REF.cases;
const byName = (n: string) => {
  const c = cases.find((x) => x.name === n);
  assert.ok(c, n);
  return c;
};
const num = (v: unknown) => (v === 'NaN' ? NaN : (v as number));

/** relative 1e-9 (absolute 1e-12 near 0): numpy's pairwise sums and set ordering move the last digits only */
function close(actual: number, expected: number, what: string, rel = 1e-9): void {
  if (Number.isNaN(expected)) {
    assert.ok(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`);
    return;
  }
  const tol = Math.max(1e-12, Math.abs(expected) * rel);
  assert.ok(
    Math.abs(actual - expected) <= tol,
    `${what}: ${actual} differs from the reference ${expected} by more than ${tol}`,
  );
}
const counts = (vals: string[]) => {
  const m = new Map<string, number>();
  for (const v of vals) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
};

describe('drift metrics against the reference implementation', () => {
  test('the fixture names its generator and versions', () => {
    assert.match(REF.source, /^Azure\/azureml-assets@[0-9a-f]{40} /);
    assert.ok(REF.numpy && REF.scipy, 'numpy and scipy versions recorded');
    assert.ok(cases.length >= 10);
  });

  for (const c of cases.filter((x) => x.type === 'numerical')) {
    test(`numerical: ${c.name} (${c.note})`, () => {
      const h = dualHistogram(c.baseline, c.production);
      assert.equal(h.edges.length - 1, c.bins, 'Sturges bins');
      assert.deepEqual(h.edges, c.edges, 'edges bit-identical (min + i * width)');
      assert.deepEqual(h.baseline, c.baselineHistogram);
      assert.deepEqual(h.production, c.productionHistogram);
      for (const m of NUMERICAL_METRICS) {
        const want = m === 'TwoSampleKolmogorovSmirnovTest' ? c[m].value : c[m];
        const got = numericalMetric(m, c.baseline, c.production);
        if (m === 'TwoSampleKolmogorovSmirnovTest' && c[m].method === 'asymp') {
          // scipy fell back to kstwo.sf; this port uses Kolmogorov's limit there (documented in metrics.ts)
          assert.equal(got.ksMethod, 'asymptotic');
          close(got.value, want, `${c.name} ${m} (asymptotic)`, 1e-3);
        } else {
          if (m === 'TwoSampleKolmogorovSmirnovTest') assert.equal(got.ksMethod, 'exact');
          close(got.value, want, `${c.name} ${m}`);
        }
      }
    });
  }

  for (const c of cases.filter((x) => x.type === 'categorical')) {
    test(`categorical: ${c.name} (${c.note})`, () => {
      for (const m of CATEGORICAL_METRICS) {
        close(
          categoricalMetric(m, counts(c.baseline), counts(c.production), c.baseline.length, c.production.length),
          num(c[m]),
          `${c.name} ${m}`,
        );
      }
    });
  }

  test('missing values: rows with a gap in any feature are dropped before counting', () => {
    const c = byName('missing-values');
    const keep = (rows: Array<[number | null, string | null]>) =>
      rows.filter(([x, k]) => x !== null && k !== null) as Array<[number, string]>;
    const b = keep(c.baselineRows),
      p = keep(c.productionRows);
    assert.equal(b.length, c.keptBaseline);
    assert.equal(p.length, c.keptProduction);
    for (const m of NUMERICAL_METRICS) {
      const want = m === 'TwoSampleKolmogorovSmirnovTest' ? c.numeric[m].value : c.numeric[m];
      close(
        numericalMetric(
          m as NumericalMetric,
          b.map((r) => r[0]),
          p.map((r) => r[0]),
        ).value,
        want,
        `missing ${m}`,
      );
    }
    for (const m of CATEGORICAL_METRICS) {
      close(
        categoricalMetric(
          m as CategoricalMetric,
          counts(b.map((r) => r[1])),
          counts(p.map((r) => r[1])),
          b.length,
          p.length,
        ),
        num(c.categorical[m]),
        `missing ${m}`,
      );
    }
  });

  test('KS: the largest accepted size (9999 × 4000, inside method) and the refusal at 10,000 rows', () => {
    const c = byName('ks-large-unequal');
    const r = ksTwoSample(c.baseline, c.production);
    assert.equal(r.method, 'exact');
    close(r.pValue, c.TwoSampleKolmogorovSmirnovTest.value, 'ks 9999x4000');
    const refused = byName('ks-refused');
    assert.equal(refused.TwoSampleKolmogorovSmirnovTest, null);
    assert.equal(refused.baselineRows, KS_MAX_ROWS);
    const big = new Float64Array(KS_MAX_ROWS).map((_, i) => i);
    assert.throws(() => numericalMetric('TwoSampleKolmogorovSmirnovTest', big, [1, 2, 3]), /refused at 10000 rows/);
  });
});

describe('drift metric building blocks', () => {
  test('Sturges over the smaller side; a tie takes production; no rows is refused', () => {
    assert.equal(sturgesBins(300, 250), 9); // ceil(log2(250) + 1) = ceil(8.97)
    assert.equal(sturgesBins(250, 300), 9);
    assert.equal(sturgesBins(1, 1000), 1);
    assert.equal(sturgesBins(1024, 5000), 11); // log2(1024) + 1 = 11 exactly
    assert.throws(() => sturgesBins(0, 5), /no rows/);
  });

  test('chi2.sf hand-checked values', () => {
    close(chi2Sf(2, 2), Math.exp(-1), 'chi2.sf(2, 2) = e^-1', 1e-12); // k = 2: sf = exp(-x/2)
    close(chi2Sf(3.841458820694124, 1), 0.05, 'chi2 1-dof 95 % quantile', 1e-9);
    assert.equal(chi2Sf(Infinity, 3), 0);
    assert.ok(Number.isNaN(chi2Sf(1, 0)));
  });

  test('breach directions and float32 comparison as the service', () => {
    assert.equal(breaches('NormalizedWassersteinDistance', 0.11, 0.1), true);
    assert.equal(breaches('NormalizedWassersteinDistance', 0.1, 0.1), false);
    // equal in float32 (the service writes metric values as Spark FloatType): no breach
    assert.equal(breaches('JensenShannonDistance', 0.1 + 1e-10, 0.1), false);
    assert.equal(breaches('TwoSampleKolmogorovSmirnovTest', 0.01, 0.05), true);
    assert.equal(breaches('PearsonsChiSquaredTest', 0.2, 0.05), false);
    // NaN: greater than anything in Spark SQL
    assert.equal(breaches('PearsonsChiSquaredTest', NaN, 0.05), false);
    assert.equal(breaches('JensenShannonDistance', NaN, 0.1), true);
  });
});
