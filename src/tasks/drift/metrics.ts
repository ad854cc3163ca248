// The data drift metrics of Azure ML model monitoring, computed the way the service computes them (pure: no I/O).
//
// Source of every rule below, unless said otherwise: Azure/azureml-assets @ 4b41f8ccbc01cf492767adc586ce1661c54c340a,
// assets/model_monitoring/components/src/ (the `data_drift_compute_metrics` Spark component the service runs for a data
// drift signal; `model_monitor_evaluate_metrics_threshold` for the verdict):
//   data_drift_compute_metrics/compute_data_drift.py            rows with a missing value in any selected feature are
//                                                                dropped (dropna) before counting and before any metric
//   data_drift_compute_metrics/numerical_data_drift_metrics.py  JensenShannonDistance, NormalizedWassersteinDistance,
//                                                                PopulationStabilityIndex, TwoSampleKolmogorovSmirnovTest
//   data_drift_compute_metrics/categorical_data_drift_metrics.py JensenShannonDistance, PopulationStabilityIndex,
//                                                                PearsonsChiSquaredTest
//   shared_utilities/histogram_utils.py                         Sturges bins, equal-width edges over the combined range
//   model_monitor_evaluate_metrics_threshold/evaluate_metrics_threshold.py  breach directions
// The Python component calls scipy (distance.jensenshannon base 2, wasserstein_distance, ks_2samp, chisquare) and
// Spark (RDD.histogram, F.stddev); the ports of those are cited where they are used. test/unit/driftMetrics.test.ts
// checks every function against values the reference code computed (test/fixtures/drift/make_reference.py).

export const NUMERICAL_METRICS = [
  'NormalizedWassersteinDistance',
  'JensenShannonDistance',
  'PopulationStabilityIndex',
  'TwoSampleKolmogorovSmirnovTest',
] as const;
export const CATEGORICAL_METRICS = [
  'JensenShannonDistance',
  'PopulationStabilityIndex',
  'PearsonsChiSquaredTest',
] as const;
export type NumericalMetric = (typeof NUMERICAL_METRICS)[number];
export type CategoricalMetric = (typeof CATEGORICAL_METRICS)[number];
export type DriftMetric = NumericalMetric | CategoricalMetric;

/**
 * Default metric and threshold per data type: azure-ai-ml's DataDriftMetricThreshold._get_default_thresholds
 * (numerical normalized_wasserstein_distance=0.1, categorical jensen_shannon_distance=0.1), Azure/azure-sdk-for-python
 * @ 59787ad5cd33d26689aff29fb5f872aa5eab182b sdk/ml/azure-ai-ml/azure/ai/ml/entities/_monitoring/thresholds.py.
 * (The component's own spec defaults, 0.5, apply only when nothing passes a threshold: data_drift_signal_monitor/spec.yaml.)
 */
export const DEFAULT_THRESHOLDS = {
  numerical: { metric: 'NormalizedWassersteinDistance' as NumericalMetric, threshold: 0.1 },
  categorical: { metric: 'JensenShannonDistance' as CategoricalMetric, threshold: 0.1 },
} as const;

/**
 * Metrics whose value should stay ABOVE the threshold (p-values): a breach is value < threshold; every other metric
 * breaches when value > threshold (evaluate_metrics_threshold.py, Metric_Value_Should_Greater_Than_Threshold).
 */
export const HIGHER_IS_BETTER: ReadonlySet<DriftMetric> = new Set<DriftMetric>([
  'TwoSampleKolmogorovSmirnovTest',
  'PearsonsChiSquaredTest',
]);

/** ks_2samp is refused at this many rows or more on either side (_ks2sample_pandas_impl DATASET_SIZE). */
export const KS_MAX_ROWS = 10_000;

/**
 * The service's breach test. The component writes metric_value and threshold_value as Spark FloatType (32-bit:
 * data_drift_compute_metrics/io_utils.py schema, `.cast("float")` of the threshold) and compares them after a cast
 * to double (calculate_metrics_breach), so both are rounded to float32 first: a value equal to the threshold in
 * float32 does not breach. NaN compares greater than any number in Spark SQL ("NaN Semantics",
 * https://spark.apache.org/docs/latest/sql-ref-datatypes.html#nan-semantics): a NaN p-value never breaches, a NaN
 * distance always does.
 */
export function breaches(metric: DriftMetric, value: number, threshold: number): boolean {
  const v = Math.fround(value),
    t = Math.fround(threshold);
  if (HIGHER_IS_BETTER.has(metric)) return Number.isNaN(v) ? false : v < t;
  return Number.isNaN(v) ? true : v > t;
}

// ---------------------------------------------------------------------------------------------------------------
// histograms (shared_utilities/histogram_utils.py)

/** Sturges: ceil(log2(n) + 1) over the SMALLER side (the production side on a tie: `baseline if b < p else production`). */
export function sturgesBins(baselineCount: number, productionCount: number): number {
  const smaller = baselineCount < productionCount ? baselineCount : productionCount;
  if (!(smaller > 0)) throw new RangeError('no rows: a histogram needs at least one row on each side');
  return Math.ceil(Math.log2(smaller) + 1);
}

/**
 * get_dual_histogram_bin_edges: equal width over [min, max] of both sides together, edges accumulated as
 * min + i * width (so the last edge may round below max; the reference then drops max, and so does this port).
 * A constant column gets one bin [v - d, v + d], d = 0.005 (v = 0) or |v| * 0.005.
 */
export function dualHistogramEdges(min: number, max: number, numBins: number): number[] {
  if (min === max) {
    const delta = min === 0 ? 0.005 : Math.abs(min * 0.005);
    return [min - delta, min + delta];
  }
  const width = (max - min) / numBins;
  const edges = [min];
  for (let bin = 1; bin <= numBins; bin++) edges.push(min + bin * width);
  return edges;
}

/**
 * PySpark RDD.histogram(buckets) with a list of edges (apache/spark @ f514981d70e6a7557b1d25e20ffa8fbccda69404
 * python/pyspark/core/rdd.py): buckets [e0,e1), …, [e(n-1), en] (last one closed); values outside, NaN and null are
 * skipped; edges whose steps differ by less than 1e-10 count as even and a value's bucket is int((x - e0) / inc).
 */
export function sparkHistogram(values: ArrayLike<number>, edges: readonly number[]): number[] {
  const n = edges.length;
  const minv = edges[0]!,
    maxv = edges[n - 1]!;
  let even = false,
    inc = 0;
  let smin = Infinity,
    smax = -Infinity;
  for (let i = 0; i + 1 < n; i++) {
    const s = edges[i + 1]! - edges[i]!;
    if (s < smin) smin = s;
    if (s > smax) smax = s;
  }
  if (smax - smin < 1e-10) {
    even = true;
    inc = (maxv - minv) / (n - 1);
  }
  const counters = new Array<number>(n).fill(0);
  for (let k = 0; k < values.length; k++) {
    const x = values[k]!;
    if (Number.isNaN(x) || x > maxv || x < minv) continue;
    const t = even ? Math.trunc((x - minv) / inc) : bisectRight(edges, x) - 1;
    counters[t]!++;
  }
  const last = counters.pop()!;
  counters[counters.length - 1]! += last;
  return counters;
}

function bisectRight(a: readonly number[], x: number): number {
  let lo = 0,
    hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x < a[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function minMax(a: ArrayLike<number>): [number, number] {
  let lo = Infinity,
    hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

export interface DualHistogram {
  edges: number[];
  baseline: number[];
  production: number[];
}

/** The shared bins of one numerical feature and both sides' counts (what JS and PSI are computed from). */
export function dualHistogram(baseline: ArrayLike<number>, production: ArrayLike<number>): DualHistogram {
  const bins = sturgesBins(baseline.length, production.length);
  const [bmin, bmax] = minMax(baseline),
    [pmin, pmax] = minMax(production);
  const edges = dualHistogramEdges(Math.min(bmin, pmin), Math.max(bmax, pmax), bins);
  return { edges, baseline: sparkHistogram(baseline, edges), production: sparkHistogram(production, edges) };
}

// ---------------------------------------------------------------------------------------------------------------
// scipy ports

/** scipy.special.rel_entr: x log(x/y) for x, y > 0; 0 for x = 0, y >= 0; +inf otherwise. */
function relEntr(x: number, y: number): number {
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

/** scipy.spatial.distance.jensenshannon(p, q, base=2): both normalised to sum 1, sqrt((KL(p‖m) + KL(q‖m)) / 2 / ln 2). */
export function jensenShannonDistance(p: readonly number[], q: readonly number[]): number {
  const sp = p.reduce((s, v) => s + v, 0),
    sq = q.reduce((s, v) => s + v, 0);
  let left = 0,
    right = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i]! / sp,
      b = q[i]! / sq,
      m = (a + b) / 2;
    left += relEntr(a, m);
    right += relEntr(b, m);
  }
  return Math.sqrt((left + right) / Math.log(2) / 2);
}

/** scipy.stats.wasserstein_distance(u, v) of two samples (1-D W1: the area between the empirical CDFs). */
export function wassersteinDistance(u: ArrayLike<number>, v: ArrayLike<number>): number {
  const us = Float64Array.from(u).sort(),
    vs = Float64Array.from(v).sort();
  const all = new Float64Array(us.length + vs.length);
  all.set(us);
  all.set(vs, us.length);
  all.sort();
  let iu = 0,
    iv = 0,
    sum = 0;
  for (let k = 0; k + 1 < all.length; k++) {
    const x = all[k]!;
    while (iu < us.length && us[iu]! <= x) iu++; // searchsorted(x, 'right')
    while (iv < vs.length && vs[iv]! <= x) iv++;
    sum += Math.abs(iu / us.length - iv / vs.length) * (all[k + 1]! - x);
  }
  return sum;
}

/** Spark F.stddev = stddev_samp (n - 1); undefined (SQL NULL) for fewer than two rows (Spark 3.0 and later). */
export function sampleStdDev(a: ArrayLike<number>): number | undefined {
  const n = a.length;
  if (n < 2) return undefined;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += a[i]!;
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = a[i]! - mean;
    ss += d * d;
  }
  return Math.sqrt(ss / (n - 1));
}

/** Two-sample Kolmogorov-Smirnov statistic D = max |F_b - F_p| (scipy ks_2samp with searchsorted 'right'). */
export function ksStatistic(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const x = Float64Array.from(a).sort(),
    y = Float64Array.from(b).sort();
  let i = 0,
    j = 0,
    d = 0;
  const n1 = x.length,
    n2 = y.length;
  while (i < n1 || j < n2) {
    const v = i < n1 && (j >= n2 || x[i]! <= y[j]!) ? x[i]! : y[j]!;
    while (i < n1 && x[i]! <= v) i++;
    while (j < n2 && y[j]! <= v) j++;
    const diff = Math.abs(i / n1 - j / n2);
    if (diff > d) d = diff;
  }
  return d;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
/** numpy round: half to even */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** scipy.stats._stats_py._compute_prob_outside_square (n1 == n2), scipy/scipy @ f3e24d066a241ea65ab4ce2aca85f9ba3cb2a698. */
function probOutsideSquare(n: number, h: number): number {
  let P = 0;
  let k = Math.floor(n / h);
  while (k >= 0) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1 - P);
    k--;
  }
  return 2 * P;
}

/** scipy/stats/_stats_pythran.py _compute_outer_prob_inside_method (Hodges; Viehmann's recursion), same commit. */
function outerProbInside(m0: number, n0: number, g: number, h: number): number {
  let m = m0,
    n = n0;
  if (m < n) [m, n] = [n, m];
  const mg = Math.floor(m / g),
    ng = Math.floor(n / g);
  let minj = 0,
    maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  A.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj,
      lastlen = curlen;
    minj = Math.max(Math.floor((ng * i - h) / mg) + 1, 0);
    minj = Math.min(minj, n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj]! * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return A[maxj - minj - 1]!;
}

/** Kolmogorov's limiting distribution, P(K > x) = 2 Σ (-1)^(k-1) exp(-2 k² x²) (for the asymptotic fallback). */
function kolmogorovSf(x: number): number {
  if (x <= 0) return 1;
  if (x < 0.2) return 1; // the series converges slowly there; the value is 1 to double precision below ~0.27 anyway
  let s = 0;
  for (let k = 1; k <= 100; k++) {
    const t = Math.exp(-2 * k * k * x * x);
    s += (k % 2 ? 1 : -1) * t;
    if (t < 1e-17) break;
  }
  return Math.min(1, Math.max(0, 2 * s));
}

export interface KsResult {
  statistic: number;
  pValue: number;
  method: 'exact' | 'asymptotic';
}

/**
 * scipy.stats.ks_2samp(a, b).pvalue, two-sided, method 'auto': below 10,000 rows per side (the only sizes the
 * service accepts) that is the exact method (scipy/stats/_stats_py.py _attempt_exact_2kssamp: h = round(D·lcm),
 * the square method for equal sizes, else the inside method). When scipy's exact computation fails (a result outside
 * [0, 1], e.g. equal sizes with D = 1/n) scipy switches to kstwo.sf(D, round(n·m/(n+m))); this port then uses
 * Kolmogorov's limiting distribution at D·sqrt(n·m/(n+m)), which agrees with scipy only to about 1e-4 (such
 * p-values are near 1, far from any threshold): `method` says which one answered.
 */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>): KsResult {
  const n1 = a.length,
    n2 = b.length;
  if (!n1 || !n2) throw new RangeError('ks_2samp needs at least one value on each side');
  const d0 = ksStatistic(a, b);
  const g = gcd(n1, n2);
  const lcm = (n1 / g) * n2;
  const h = roundHalfEven(d0 * lcm);
  const d = h / lcm;
  if (h === 0) return { statistic: d, pValue: 1, method: 'exact' };
  const prob = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h);
  if (Number.isFinite(prob) && prob >= 0 && prob <= 1) return { statistic: d, pValue: prob, method: 'exact' };
  const en = (n1 * n2) / (n1 + n2);
  return { statistic: d, pValue: kolmogorovSf(d * Math.sqrt(en)), method: 'asymptotic' };
}

/** ln Γ(x), Lanczos (g = 7, n = 9), for x > 0. */
function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  x -= 1;
  let s = c[0]!;
  for (let i = 1; i < 9; i++) s += c[i]! / (x + i);
  const t = x + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(s);
}

/** Regularised upper incomplete gamma Q(a, x) (series below a + 1, Lentz continued fraction above). */
function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  if (!Number.isFinite(x)) return 0;
  const lg = lnGamma(a);
  if (x < a + 1) {
    let sum = 1 / a,
      del = sum,
      ap = a;
    for (let n = 0; n < 10_000; n++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * 1e-16) break;
    }
    return 1 - sum * Math.exp(-x + a * Math.log(x) - lg);
  }
  const tiny = 1e-300;
  let b = x + 1 - a,
    c = 1 / tiny,
    d = 1 / b,
    hh = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    hh *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return Math.exp(-x + a * Math.log(x) - lg) * hh;
}

/** chi2.sf(x, k) = Q(k/2, x/2); NaN for k < 1 (scipy: no degrees of freedom). */
export function chi2Sf(x: number, k: number): number {
  if (!(k >= 1) || Number.isNaN(x)) return NaN;
  return gammaQ(k / 2, x / 2);
}

/**
 * scipy.stats.chisquare(observed, expected).pvalue: Σ (o - e)² / e, k - 1 degrees of freedom. An expected 0 with an
 * observed count > 0 (a category production has and the baseline lacks) makes the statistic +inf and the p-value 0;
 * one category leaves no degree of freedom: NaN, as scipy.
 */
export function chiSquareTest(
  observed: readonly number[],
  expected: readonly number[],
): { statistic: number; pValue: number } {
  let stat = 0;
  for (let i = 0; i < observed.length; i++) {
    const o = observed[i]!,
      e = expected[i]!;
    stat += e === 0 ? (o === 0 ? NaN : Infinity) : ((o - e) * (o - e)) / e;
  }
  return { statistic: stat, pValue: chi2Sf(stat, observed.length - 1) };
}

// ---------------------------------------------------------------------------------------------------------------
// the service's metrics, per feature (inputs: the values left after the row-wise dropna)

/** numerical_data_drift_metrics._jensen_shannon_numerical: JS distance (base 2) of the two histograms' shares. */
export function jsNumerical(h: DualHistogram, nBaseline: number, nProduction: number): number {
  return jensenShannonDistance(
    h.baseline.map((c) => c / nBaseline),
    h.production.map((c) => c / nProduction),
  );
}

/** _normalized_wasserstein: W1 / max(stddev_samp(baseline), 0.001); 0.001 when the deviation is NULL (one row). */
export function normalizedWasserstein(baseline: ArrayLike<number>, production: ArrayLike<number>): number {
  const sd = sampleStdDev(baseline);
  const norm = sd === undefined ? 0.001 : Math.max(sd, 0.001);
  return wassersteinDistance(baseline, production) / norm;
}

/** _psi_numerical: +1 on every bin of both sides, shares over (rows + bins), Σ (p - b) ln(p / b). */
export function psiNumerical(h: DualHistogram, nBaseline: number, nProduction: number): number {
  const bins = h.baseline.length;
  let psi = 0;
  for (let i = 0; i < bins; i++) {
    const b = (h.baseline[i]! + 1) / (nBaseline + bins);
    const p = (h.production[i]! + 1) / (nProduction + bins);
    psi += (p - b) * Math.log(p / b);
  }
  return psi;
}

/** Category counts of one side (keys: the value as text, as the reference's str(value)). */
export type CategoryCounts = ReadonlyMap<string, number>;

function unionKeys(b: CategoryCounts, p: CategoryCounts): string[] {
  const keys = new Set<string>(p.keys());
  for (const k of b.keys()) keys.add(k);
  return [...keys];
}

/** categorical _jensen_shannon_categorical: JS distance (base 2) of the category shares over the union of categories. */
export function jsCategorical(b: CategoryCounts, p: CategoryCounts, nBaseline: number, nProduction: number): number {
  const keys = unionKeys(b, p);
  return jensenShannonDistance(
    keys.map((k) => (b.get(k) ?? 0) / nBaseline),
    keys.map((k) => (p.get(k) ?? 0) / nProduction),
  );
}

/** _psi_categorical: +1 on every category of the union, shares over (rows + categories). */
export function psiCategorical(b: CategoryCounts, p: CategoryCounts, nBaseline: number, nProduction: number): number {
  const keys = unionKeys(b, p);
  let psi = 0;
  for (const k of keys) {
    const rb = ((b.get(k) ?? 0) + 1) / (nBaseline + keys.length);
    const rp = ((p.get(k) ?? 0) + 1) / (nProduction + keys.length);
    psi += (rp - rb) * Math.log(rp / rb);
  }
  return psi;
}

/** _chisquaretest: observed = production counts, expected = baseline share × production rows, over the union. */
export function chiSquaredCategorical(
  b: CategoryCounts,
  p: CategoryCounts,
  nBaseline: number,
  nProduction: number,
): number {
  const keys = unionKeys(b, p);
  return chiSquareTest(
    keys.map((k) => p.get(k) ?? 0),
    keys.map((k) => ((b.get(k) ?? 0) / nBaseline) * nProduction),
  ).pValue;
}

export interface NumericalFeatureResult {
  metric: NumericalMetric;
  value: number;
  histogram: DualHistogram;
  ksMethod?: KsResult['method'];
}

/** One numerical feature's metric (values: that feature's column after the dropna; lengths = the row counts). */
export function numericalMetric(
  metric: NumericalMetric,
  baseline: ArrayLike<number>,
  production: ArrayLike<number>,
): NumericalFeatureResult {
  const nb = baseline.length,
    np = production.length;
  const histogram = dualHistogram(baseline, production);
  switch (metric) {
    case 'JensenShannonDistance':
      return { metric, value: jsNumerical(histogram, nb, np), histogram };
    case 'PopulationStabilityIndex':
      return { metric, value: psiNumerical(histogram, nb, np), histogram };
    case 'NormalizedWassersteinDistance':
      return { metric, value: normalizedWasserstein(baseline, production), histogram };
    case 'TwoSampleKolmogorovSmirnovTest': {
      if (nb >= KS_MAX_ROWS || np >= KS_MAX_ROWS) {
        throw new RangeError(
          `TwoSampleKolmogorovSmirnovTest is refused at ${KS_MAX_ROWS} rows or more (as Azure ML does): reference has ${nb}, production ${np}`,
        );
      }
      const r = ksTwoSample(baseline, production);
      return { metric, value: r.pValue, histogram, ksMethod: r.method };
    }
  }
}

export function categoricalMetric(
  metric: CategoricalMetric,
  b: CategoryCounts,
  p: CategoryCounts,
  nBaseline: number,
  nProduction: number,
): number {
  switch (metric) {
    case 'JensenShannonDistance':
      return jsCategorical(b, p, nBaseline, nProduction);
    case 'PopulationStabilityIndex':
      return psiCategorical(b, p, nBaseline, nProduction);
    case 'PearsonsChiSquaredTest':
      return chiSquaredCategorical(b, p, nBaseline, nProduction);
  }
}
