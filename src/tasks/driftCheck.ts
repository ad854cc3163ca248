// AzureMLDriftCheck@1: compares a reference data set (the model's training data, any data asset or azureml:// URI)
// with production data (a deployment's collected inputs over a window, or any data asset/URI) and answers "drifted
// or not" with the numbers Azure ML model monitoring's data drift signal computes (src/tasks/drift/metrics.ts has the
// metrics and their sources; src/tasks/drift/table.ts the column types). Reads only; changes nothing in Azure (the
// task's action ensureMonitor, which writes a monitor schedule, is src/tasks/drift/ensureMonitor.ts).
//
// What the service does, and so this task (Azure/azureml-assets @ 4b41f8ccbc01cf492767adc586ce1661c54c340a,
// assets/model_monitoring/components/src/data_drift_compute_metrics/compute_data_drift.py and run.py):
//  1. the features: the ones asked for, else every column both sides have with the same type (get_common_columns);
//     a column name with a dot is refused (validate_column_names);
//  2. rows with a missing value in any selected feature are dropped on each side (dropna), then counted;
//  3. one metric per data type (numerical / categorical) per feature, against one threshold per data type;
//  4. a feature drifted when its value breaches the threshold (evaluate_metrics_threshold.py: above it, or below it
//     for the p-value tests), compared in float32 as the service does.
// Decisions where the service has no equivalent: a feature asked for that one side lacks is an error naming the side
// (the service would fail in Spark's select); no rows left after the dropna is an error; production data read from a
// deployment's collector needs that deployment to collect the collection asked for.
import { InputError, UserError } from '../pipeline';
import {
  CATEGORICAL_METRICS,
  DEFAULT_THRESHOLDS,
  NUMERICAL_METRICS,
  breaches,
  categoricalMetric,
  numericalMetric,
  type CategoricalMetric,
  type DualHistogram,
  type NumericalMetric,
} from './drift/metrics';
import { ColumnTable, lineSink, type ColumnType } from './drift/table';
import { ONLINE_NAME_PATTERN } from '../azureml/endpoints';
import { CHART_COLOURS, chartImage, histogramPng } from './drift/chart';
import { mdEscapeAll } from './markdown';
import type { Log } from '../log';

export interface DriftInputs {
  referenceData: string;
  productionData?: string;
  endpointName?: string;
  deploymentName?: string;
  collection: string;
  lookbackMs: number;
  features: string[];
  numericalFeatures: string[];
  categoricalFeatures: string[];
  numericalMetric: NumericalMetric;
  numericalThreshold: number;
  categoricalMetric: CategoricalMetric;
  categoricalThreshold: number;
  failOnDrift: boolean;
}

export const DRIFT_DEFAULTS = {
  collection: 'model_inputs',
  lookback: 'P7D',
  numericalMetric: DEFAULT_THRESHOLDS.numerical.metric,
  numericalThreshold: DEFAULT_THRESHOLDS.numerical.threshold,
  categoricalMetric: DEFAULT_THRESHOLDS.categorical.metric,
  categoricalThreshold: DEFAULT_THRESHOLDS.categorical.threshold,
} as const;

/** Checks the inputs (no I/O): InputError naming the input. */
export function checkDriftInputs(i: DriftInputs): DriftInputs {
  if (!i.referenceData?.trim())
    throw new InputError(
      'referenceData',
      'is required (a data asset azureml:<name>:<version> / azureml:<name>@latest, or an azureml://datastores/<ds>/paths/<path> URI)',
    );
  const prod = i.productionData?.trim() || undefined;
  const ep = i.endpointName?.trim() || undefined,
    dep = i.deploymentName?.trim() || undefined;
  if (!prod && !ep)
    throw new InputError(
      'productionData',
      'is required unless endpointName and deploymentName name a deployment whose collected data to read',
    );
  if (prod && (ep || dep))
    throw new InputError(
      'productionData',
      'give either productionData or endpointName/deploymentName (collected data), not both',
    );
  if (ep && !ONLINE_NAME_PATTERN.test(ep))
    throw new InputError('endpointName', `'${ep}' is not an online endpoint name`);
  if (ep && !dep)
    throw new InputError('deploymentName', 'is required with endpointName (whose collected data to read)');
  if (dep && !ONLINE_NAME_PATTERN.test(dep))
    throw new InputError('deploymentName', `'${dep}' is not a deployment name`);
  if (!/^[A-Za-z0-9_-]+$/.test(i.collection))
    throw new InputError('collection', `'${i.collection}' is not a collection name (letters, digits, '_' and '-')`);
  if (!(i.lookbackMs > 0))
    throw new InputError('lookbackWindow', 'must be an ISO 8601 duration longer than zero (PT6H, P1D, P7D)');
  if (!(NUMERICAL_METRICS as readonly string[]).includes(i.numericalMetric))
    throw new InputError('numericalMetric', `'${i.numericalMetric}' is not one of ${NUMERICAL_METRICS.join(', ')}`);
  if (!(CATEGORICAL_METRICS as readonly string[]).includes(i.categoricalMetric))
    throw new InputError(
      'categoricalMetric',
      `'${i.categoricalMetric}' is not one of ${CATEGORICAL_METRICS.join(', ')}`,
    );
  if (!Number.isFinite(i.numericalThreshold) || i.numericalThreshold < 0)
    throw new InputError('numericalThreshold', 'must be a number ≥ 0');
  if (!Number.isFinite(i.categoricalThreshold) || i.categoricalThreshold < 0)
    throw new InputError('categoricalThreshold', 'must be a number ≥ 0');
  const both = i.numericalFeatures.filter((f) => i.categoricalFeatures.includes(f));
  if (both.length) throw new InputError('categoricalFeatures', `'${both[0]}' is also listed in numericalFeatures`);
  return { ...i, referenceData: i.referenceData.trim(), productionData: prod, endpointName: ep, deploymentName: dep };
}

export type FeatureKind = 'numerical' | 'categorical';
export interface FeatureResult {
  feature: string;
  kind: FeatureKind;
  metric: NumericalMetric | CategoricalMetric;
  value: number;
  threshold: number;
  drifted: boolean;
  /** numerical: the shared bins and both sides' counts; categorical: both sides' counts per category */
  histogram?: DualHistogram;
  categories?: { names: string[]; reference: number[]; production: number[] };
  ksMethod?: 'exact' | 'asymptotic';
}
export interface DriftReport {
  features: FeatureResult[];
  referenceRows: number;
  productionRows: number;
  /** rows left after dropping those with a missing value in a selected feature */
  referenceKept: number;
  productionKept: number;
  /** common columns skipped because their types differ between the sides (as the service skips them) */
  skipped: Array<{ feature: string; reference: ColumnType; production: ColumnType }>;
  driftDetected: boolean;
}

const NUMERIC_GROUP = new Set<ColumnType>(['double']);

/** df_utils.get_common_columns: same type, or both in the double group; a long/double pair is not common. */
function commonType(a: ColumnType, b: ColumnType): ColumnType | undefined {
  if (a === b) return a;
  if (NUMERIC_GROUP.has(a) && NUMERIC_GROUP.has(b)) return 'double';
  return undefined;
}

/** The whole comparison (pure). */
export function compareTables(ref: ColumnTable, prod: ColumnTable, i: DriftInputs): DriftReport {
  if (!ref.rows) throw new UserError('The reference data has no rows');
  if (!prod.rows) throw new UserError('The production data has no rows');
  for (const t of [ref, prod]) {
    const dotted = t.names().find((n) => n.includes('.'));
    if (dotted)
      throw new UserError(
        `Column '${dotted}' of the ${t === ref ? 'reference' : 'production'} data has a dot in its name, which Azure ML model monitoring refuses: rename it`,
      );
  }
  const skipped: DriftReport['skipped'] = [];
  let selected: Array<{ feature: string; type: ColumnType }>;
  if (i.features.length) {
    selected = i.features.map((f) => {
      if (!ref.has(f))
        throw new InputError(
          'features',
          `'${f}' is not a column of the reference data (columns: ${ref.names().join(', ')})`,
        );
      if (!prod.has(f))
        throw new InputError(
          'features',
          `'${f}' is not a column of the production data (columns: ${prod.names().join(', ')})`,
        );
      const t = commonType(ref.type(f)!, prod.type(f)!);
      if (!t)
        throw new InputError(
          'features',
          `'${f}' is ${ref.type(f)} in the reference data but ${prod.type(f)} in the production data; Azure ML compares only columns of one type`,
        );
      return { feature: f, type: t };
    });
  } else {
    selected = [];
    for (const f of ref.names()) {
      if (!prod.has(f)) continue;
      const t = commonType(ref.type(f)!, prod.type(f)!);
      if (t) selected.push({ feature: f, type: t });
      else skipped.push({ feature: f, reference: ref.type(f)!, production: prod.type(f)! });
    }
    if (!selected.length)
      throw new UserError(
        `The reference and production data have no column in common (same name, case-sensitive, and type); reference: ${ref.names().join(', ')}; production: ${prod.names().join(', ')}`,
      );
  }
  for (const f of [...i.numericalFeatures, ...i.categoricalFeatures]) {
    if (!selected.some((s) => s.feature === f))
      throw new InputError(
        i.numericalFeatures.includes(f) ? 'numericalFeatures' : 'categoricalFeatures',
        `'${f}' is not one of the compared features (${selected.map((s) => s.feature).join(', ')})`,
      );
  }
  const kinds = selected.map((s) => ({ ...s, kind: kindOf(s.feature, s.type, ref, i) }));
  for (const k of kinds) {
    if (k.kind === 'numerical' && (k.type === 'string' || k.type === 'boolean'))
      throw new InputError('numericalFeatures', `'${k.feature}' holds text, it cannot be numerical`);
  }
  const names = kinds.map((k) => k.feature);
  const keepRef = ref.keptRows(names),
    keepProd = prod.keptRows(names);
  const nb = keepRef.reduce((s, v) => s + v, 0),
    np = keepProd.reduce((s, v) => s + v, 0);
  if (!nb)
    throw new UserError(
      `No reference row has a value in every compared feature (${names.join(', ')}): Azure ML drops rows with a missing value before comparing`,
    );
  if (!np)
    throw new UserError(
      `No production row has a value in every compared feature (${names.join(', ')}): Azure ML drops rows with a missing value before comparing`,
    );
  const features: FeatureResult[] = kinds.map((k) => {
    if (k.kind === 'numerical') {
      let r: ReturnType<typeof numericalMetric>;
      try {
        r = numericalMetric(i.numericalMetric, ref.numbers(k.feature, keepRef), prod.numbers(k.feature, keepProd));
      } catch (e) {
        // the KS test's size limit (as the service refuses it): a clear line naming the input
        if (e instanceof RangeError) throw new InputError('numericalMetric', e.message);
        throw e;
      }
      return {
        feature: k.feature,
        kind: k.kind,
        metric: r.metric,
        value: r.value,
        threshold: i.numericalThreshold,
        drifted: breaches(r.metric, r.value, i.numericalThreshold),
        histogram: r.histogram,
        ...(r.ksMethod ? { ksMethod: r.ksMethod } : {}),
      };
    }
    const cb = ref.categoryCounts(k.feature, keepRef),
      cp = prod.categoryCounts(k.feature, keepProd);
    const value = categoricalMetric(i.categoricalMetric, cb, cp, nb, np);
    const all = [...new Set([...cb.keys(), ...cp.keys()])].sort();
    return {
      feature: k.feature,
      kind: k.kind,
      metric: i.categoricalMetric,
      value,
      threshold: i.categoricalThreshold,
      drifted: breaches(i.categoricalMetric, value, i.categoricalThreshold),
      categories: { names: all, reference: all.map((c) => cb.get(c) ?? 0), production: all.map((c) => cp.get(c) ?? 0) },
    };
  });
  return {
    features,
    referenceRows: ref.rows,
    productionRows: prod.rows,
    referenceKept: nb,
    productionKept: np,
    skipped,
    driftDetected: features.some((f) => f.drifted),
  };
}

/** df_utils.is_categorical: override lists first, then the type; a 'long' column by its distinct ratio on the reference. */
function kindOf(feature: string, type: ColumnType, ref: ColumnTable, i: DriftInputs): FeatureKind {
  if (i.categoricalFeatures.includes(feature)) return 'categorical';
  if (i.numericalFeatures.includes(feature)) return 'numerical';
  if (type === 'string' || type === 'boolean') return 'categorical';
  if (type === 'double') return 'numerical';
  return ref.distinctRatio(feature) < 0.05 ? 'categorical' : 'numerical';
}

// -------------------------------------------------------------------------------------------------------------
// I/O through injected operations (src/azureml/dataRead.ts in the agent)

export interface DataFile {
  label: string;
  size: number;
  format: 'jsonl' | 'csv';
  readLines(onLine: (l: string) => void): Promise<number>;
}
export interface DriftOps {
  getWorkspace(): Promise<unknown>;
  /** the deployment's properties at an api-version that has dataCollector; undefined when it does not exist */
  getDeploymentCollector(
    endpoint: string,
    deployment: string,
  ): Promise<{
    exists: boolean;
    collector?: { collections?: Record<string, { dataCollectionMode?: string; dataId?: string | null } | null> } | null;
  }>;
  plan(
    source: string,
    o: { input: string; window?: { start: Date; end: Date } },
  ): Promise<{ resolved: string; files: DataFile[]; outsideWindow: number }>;
}

/** azureml://datastores/workspaceblobstore/paths/modelDataCollector/<endpoint>/<deployment>/<collection>/ (how-to-collect-production-data.md) */
export function collectedDataUri(endpoint: string, deployment: string, collection: string): string {
  return `azureml://datastores/workspaceblobstore/paths/modelDataCollector/${endpoint}/${deployment}/${collection}/`;
}

export interface DriftRun {
  report: DriftReport;
  reference: string;
  production: string;
  window?: { start: Date; end: Date };
  files: { reference: number; production: number };
  bytes: number;
}

export async function runDriftCheck(
  raw: DriftInputs,
  ops: DriftOps,
  log: Pick<Log, 'info'> & { progress?(pct: number, m: string): void },
  now = new Date(),
): Promise<DriftRun> {
  const i = checkDriftInputs(raw);
  await ops.getWorkspace();
  let productionSource = i.productionData;
  let window: { start: Date; end: Date } | undefined;
  if (!productionSource) {
    const d = await ops.getDeploymentCollector(i.endpointName!, i.deploymentName!);
    if (!d.exists)
      throw new InputError(
        'deploymentName',
        `deployment '${i.deploymentName}' does not exist under online endpoint '${i.endpointName}'`,
      );
    const c = d.collector?.collections?.[i.collection];
    if (!c || c.dataCollectionMode === 'Disabled') {
      const has = Object.keys(d.collector?.collections ?? {});
      throw new UserError(
        `Deployment '${i.endpointName}/${i.deploymentName}' does not collect '${i.collection}' data (${has.length ? `its data collector has: ${has.join(', ')}` : 'it has no data collector'}); enable data_collector.collections.${i.collection} on the deployment (AzureMLModelDeploy dataCollection inputs or its YAML) or give productionData`,
      );
    }
    productionSource = c.dataId || collectedDataUri(i.endpointName!, i.deploymentName!, i.collection);
    window = { start: new Date(now.getTime() - i.lookbackMs), end: now };
    log.info(
      `Production data: what deployment ${i.endpointName}/${i.deploymentName} collected as '${i.collection}' from ${window.start.toISOString()} to ${window.end.toISOString()} (${productionSource})`,
    );
  }
  const refPlan = await ops.plan(i.referenceData, { input: 'referenceData' });
  const prodPlan = await ops.plan(productionSource, {
    input: i.productionData ? 'productionData' : 'deploymentName',
    ...(window ? { window } : {}),
  });
  if (!prodPlan.files.length) {
    throw new UserError(
      `No collected data in the window ${window?.start.toISOString()} – ${window?.end.toISOString()} at ${prodPlan.resolved}${prodPlan.outsideWindow ? ` (${prodPlan.outsideWindow} hour folder(s) lie outside it: widen lookbackWindow)` : ''}`,
    );
  }
  const total = [...refPlan.files, ...prodPlan.files].reduce((s, f) => s + f.size, 0);
  let bytes = 0;
  const read = async (files: DataFile[], side: string) => {
    const t = new ColumnTable();
    for (const f of files) {
      const sink = lineSink(t, f.format, `${side} ${f.label}`);
      bytes += await f.readLines(sink.line);
      sink.end();
      log.progress?.(total ? Math.min(99, Math.round((bytes / total) * 100)) : 0, `read ${side} ${f.label}`);
    }
    return t;
  };
  log.info(
    `Reference data: ${refPlan.resolved} (${refPlan.files.length} file(s)); production data: ${prodPlan.resolved} (${prodPlan.files.length} file(s))`,
  );
  const ref = await read(refPlan.files, 'reference');
  const prod = await read(prodPlan.files, 'production');
  log.info(
    `Read ${ref.rows} reference row(s) and ${prod.rows} production row(s)${prod.envelopes ? ` (from ${prod.envelopes} collector record(s))` : ''}`,
  );
  const report = compareTables(ref, prod, i);
  return {
    report,
    reference: refPlan.resolved,
    production: prodPlan.resolved,
    ...(window ? { window } : {}),
    files: { reference: refPlan.files.length, production: prodPlan.files.length },
    bytes,
  };
}

// -------------------------------------------------------------------------------------------------------------
// presentation

/** 6 significant digits, as people read them; the output variables carry the full value */
export const fmt = (v: number) =>
  Number.isNaN(v) ? 'NaN' : Number.isFinite(v) ? Number(v.toPrecision(6)).toString() : String(v);

export function describeFeature(f: FeatureResult): string {
  const dir = f.metric === 'TwoSampleKolmogorovSmirnovTest' || f.metric === 'PearsonsChiSquaredTest' ? '<' : '>';
  return `${f.feature} (${f.kind}): ${f.metric} ${fmt(f.value)} ${f.drifted ? dir : dir === '>' ? '≤' : '≥'} ${fmt(f.threshold)}${f.drifted ? ' DRIFTED' : ''}`;
}

const BAR = '█';
function bars(counts: number[], total: number, width = 20): string[] {
  return counts.map((c) => BAR.repeat(total ? Math.round((c / total) * width) : 0) || (c ? '▏' : ''));
}

/**
 * The summary. First screen: the verdict, then per drifted feature its chart (an image: the reference's share of each
 * bin or category beside production's), then the table of every feature; the shares per bin follow as text.
 * ASSUMPTION (unverified, no source found): the build/release summary tab renders a markdown image whose source is a
 * `data:image/png` URI. Where it does not, the alt text still names the feature and the bin tables below carry the
 * same numbers.
 */
export function driftSummary(r: DriftRun): string {
  const esc = mdEscapeAll;
  const rep = r.report;
  const drifted = rep.features.filter((f) => f.drifted);
  const out: string[] = [];
  out.push(
    `### Data drift: ${rep.driftDetected ? `DRIFT in ${drifted.length} of ${rep.features.length} feature(s): ${drifted.map((f) => esc(f.feature)).join(', ')}` : `no drift in ${rep.features.length} feature(s)`}`,
    '',
  );
  // per bin (numerical) or category (the first 30): its label and the counts of both sides; the chart and the text
  // table read the same rows
  const bins = (f: FeatureResult) => {
    if (f.histogram) {
      const h = f.histogram;
      return {
        labels: h.baseline.map((_, k) => `${fmt(h.edges[k]!)} – ${fmt(h.edges[k + 1]!)}`),
        ref: h.baseline,
        prod: h.production,
        more: 0,
        what: `${h.baseline.length} bins from ${fmt(h.edges[0]!)} to ${fmt(h.edges.at(-1)!)}`,
      };
    }
    if (!f.categories) return undefined;
    const c = f.categories;
    return {
      labels: c.names.slice(0, MAX_CATEGORIES).map(esc),
      ref: c.reference,
      prod: c.production,
      more: Math.max(0, c.names.length - MAX_CATEGORIES),
      what: `categories ${c.names.slice(0, MAX_CATEGORIES).map(esc).join(', ')}${c.names.length > MAX_CATEGORIES ? ', …' : ''}`,
    };
  };
  if (drifted.length)
    out.push(
      `Share of rows per bin: reference ${CHART_COLOURS.reference} beside production ${CHART_COLOURS.production}.`,
      '',
    );
  for (const f of drifted.slice(0, MAX_CHARTS)) {
    out.push(`#### ${esc(f.feature)}: ${f.metric} ${fmt(f.value)} (threshold ${fmt(f.threshold)})`, '');
    const b = bins(f);
    if (b)
      out.push(
        chartImage(
          `${f.feature}: reference beside production, share of rows per bin`,
          histogramPng(b.ref.slice(0, b.labels.length), b.prod.slice(0, b.labels.length)),
        ),
        '',
        `<sub>${b.what}</sub>`,
        '',
      );
  }
  if (drifted.length > MAX_CHARTS)
    out.push(`(${drifted.length - MAX_CHARTS} more drifted feature(s) in the table)`, '');
  out.push('| feature | type | metric | value | threshold | drifted |', '|---|---|---|---:|---:|---|');
  for (const f of rep.features)
    out.push(
      `| ${esc(f.feature)} | ${f.kind} | ${f.metric}${f.ksMethod === 'asymptotic' ? ' (asymptotic)' : ''} | ${fmt(f.value)} | ${fmt(f.threshold)} | ${f.drifted ? '**yes**' : 'no'} |`,
    );
  out.push('');
  out.push(
    `Rows: reference ${rep.referenceKept} of ${rep.referenceRows}, production ${rep.productionKept} of ${rep.productionRows} (rows with a missing value in a compared feature are dropped, as Azure ML does).`,
  );
  if (rep.skipped.length)
    out.push(
      `Skipped (type differs between the sides, as Azure ML skips them): ${rep.skipped.map((s) => `${esc(s.feature)} (${s.reference} / ${s.production})`).join(', ')}.`,
    );
  out.push(
    `Reference: ${esc(r.reference)}. Production: ${esc(r.production)}${r.window ? `, ${r.window.start.toISOString()} – ${r.window.end.toISOString()}` : ''}.`,
  );
  out.push('Metrics as Azure ML model monitoring computes them (azureml-assets data_drift_compute_metrics).', '');
  for (const f of drifted) {
    out.push(`#### ${esc(f.feature)}: share of rows per bin`, '');
    out.push('| bin | reference | | production | |', '|---|---:|---|---:|---|');
    const b = bins(f);
    if (b) {
      const tb = b.ref.reduce((a, v) => a + v, 0),
        tp = b.prod.reduce((a, v) => a + v, 0);
      const bb = bars(b.ref, tb),
        bp = bars(b.prod, tp);
      b.labels.forEach((label, k) =>
        out.push(`| ${label} | ${pct(b.ref[k]!, tb)} | ${bb[k]} | ${pct(b.prod[k]!, tp)} | ${bp[k]} |`),
      );
      if (b.more) out.push(`| … ${b.more} more | | | | |`);
    }
    out.push('');
  }
  return out.join('\n') + '\n';
}
/** charts in the summary's first screen; the table lists every feature */
const MAX_CHARTS = 8;
/** categories shown per feature (chart and table) */
const MAX_CATEGORIES = 30;
const pct = (c: number, t: number) => (t ? `${(Math.round((c / t) * 1000) / 10).toFixed(1)} %` : '–');

/** An output variable name for a feature: letters, digits and '_' (others become '_'). */
export function featureVariable(feature: string): string {
  return `drift_${feature.replace(/[^A-Za-z0-9_]/g, '_')}`;
}
