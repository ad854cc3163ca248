// One measured pass over JSON Lines files, in a fresh process (bench/drift.ts spawns it under /usr/bin/time -v):
//   tsx bench/driftRead.ts <mode> <reference.jsonl> <production.jsonl>
//   mode lines : a plain streaming read (streamLines of src/azureml/dataRead.ts, the task's own splitter), nothing kept
//   mode parse : the same + JSON.parse of every line, nothing kept
//   mode drift : what AzureMLDriftCheck@1 does after the download: the column store (src/tasks/drift/table.ts) and the
//                comparison with the service's metrics (compareTables, default metrics)
// Prints {"rows":…,"bytes":…,"ms":…,"features":…}.
import * as fs from 'node:fs';
import { streamLines } from '../src/azureml/dataRead';
import { ColumnTable, lineSink } from '../src/tasks/drift/table';
import { compareTables, DRIFT_DEFAULTS } from '../src/tasks/driftCheck';

(async () => {
  const [mode, ref, prod] = process.argv.slice(2);
  if (!mode || !ref || !prod)
    throw new Error('usage: tsx bench/driftRead.ts lines|parse|drift <reference.jsonl> <production.jsonl>');
  const t0 = performance.now();
  let rows = 0,
    bytes = 0,
    features = 0;
  if (mode === 'lines' || mode === 'parse') {
    for (const f of [ref, prod])
      bytes += await streamLines(fs.createReadStream(f, { highWaterMark: 1 << 20 }), (l) => {
        if (l) {
          rows++;
          if (mode === 'parse') JSON.parse(l);
        }
      });
  } else {
    const tables = [new ColumnTable(), new ColumnTable()];
    for (const [i, f] of [ref, prod].entries()) {
      const sink = lineSink(tables[i]!, 'jsonl', f);
      bytes += await streamLines(fs.createReadStream(f, { highWaterMark: 1 << 20 }), sink.line);
      sink.end();
    }
    rows = tables[0]!.rows + tables[1]!.rows;
    const rep = compareTables(tables[0]!, tables[1]!, {
      referenceData: ref,
      productionData: prod,
      collection: 'model_inputs',
      lookbackMs: 1,
      features: [],
      numericalFeatures: [],
      categoricalFeatures: [],
      numericalMetric: DRIFT_DEFAULTS.numericalMetric,
      numericalThreshold: DRIFT_DEFAULTS.numericalThreshold,
      categoricalMetric: DRIFT_DEFAULTS.categoricalMetric,
      categoricalThreshold: DRIFT_DEFAULTS.categoricalThreshold,
      failOnDrift: false,
    });
    features = rep.features.length;
  }
  process.stdout.write(JSON.stringify({ rows, bytes, ms: performance.now() - t0, features }) + '\n');
})().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
