// A column store for one side of a drift check (reference or production), filled row by row from JSON Lines, CSV or
// the model data collector's JSONL envelopes, so hundreds of MB of text are never held: per column one Float64Array
// of numbers (NaN = missing or not a number) and, once a column holds text or booleans, one Int32Array of category
// codes (-1 = none). Pure: the readers in src/azureml hand it lines.
//
// Column types follow what Azure ML model monitoring's Spark component sees (Azure/azureml-assets @
// 4b41f8ccbc01cf492767adc586ce1661c54c340a, assets/model_monitoring/components/src/shared_utilities/df_utils.py):
//  - 'double' (numbers, at least one not an integer) → numerical; 'string' / 'boolean' → categorical;
//  - 'long' (numbers, all integers) → categorical when distinct values / rows of the REFERENCE < 0.05, else numerical
//    (is_categorical; the ratio counts missing values as one more distinct value, rows before the dropna);
//  - a feature is compared only when both sides have it with the same type, or both 'double'-group types
//    (get_common_columns: a 'long' against a 'double' column is NOT common, and the service skips it).
// ASSUMPTION: JSON `3.0` and `3` are the same number after JSON.parse, so a JSON column of whole numbers counts as
// 'long' even where Spark's reader would have said double (CSV keeps the distinction: '3.0' is double). A column mixing
// numbers and text is 'string' (Spark's JSON inference widens to string).

import { UserError } from '../../pipeline';

export type ColumnType = 'double' | 'long' | 'string' | 'boolean';

class Column {
  nums: Float64Array;
  codes: Int32Array | undefined;
  readonly categories: string[] = [];
  private readonly ids = new Map<string, number>();
  numbers = 0;
  nonIntegers = 0;
  texts = 0;
  booleans = 0;
  constructor(capacity: number) {
    this.nums = new Float64Array(capacity).fill(NaN);
  }

  grow(capacity: number): void {
    if (capacity <= this.nums.length) return;
    const n = new Float64Array(capacity).fill(NaN);
    n.set(this.nums);
    this.nums = n;
    if (this.codes) {
      const c = new Int32Array(capacity).fill(-1);
      c.set(this.codes);
      this.codes = c;
    }
  }
  code(text: string): number {
    let id = this.ids.get(text);
    if (id === undefined) {
      id = this.categories.length;
      this.categories.push(text);
      this.ids.set(text, id);
    }
    return id;
  }
  setText(row: number, text: string): void {
    if (!this.codes) this.codes = new Int32Array(this.nums.length).fill(-1);
    this.codes[row] = this.code(text);
  }
  type(): ColumnType {
    if (this.texts || (this.booleans && this.numbers)) return 'string';
    if (this.booleans) return 'boolean';
    if (this.numbers) return this.nonIntegers ? 'double' : 'long';
    return 'string'; // only missing values: Spark reads an all-null JSON column as string
  }
  /** is row r missing (null, absent)? */
  missing(r: number): boolean {
    return Number.isNaN(this.nums[r]!) && (!this.codes || this.codes[r]! < 0);
  }
  /** the value of row r as the reference's str(value) would key it (Python's repr of floats for numbers) */
  text(r: number): string {
    if (this.codes && this.codes[r]! >= 0) return this.categories[this.codes[r]!]!;
    return pyNumberText(this.nums[r]!, this.nonIntegers === 0);
  }
}

/** str() of a Spark long / double in Python: '3' for a long; '3.0', '0.1', '1e+20' for a double. */
function pyNumberText(v: number, isLong: boolean): string {
  if (isLong) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return `${v}.0`;
  return String(v).replace(/e\+?/, (m) => (m === 'e' ? 'e' : 'e+'));
}

export class ColumnTable {
  rows = 0;
  private capacity = 1024;
  readonly columns = new Map<string, Column>();
  /** the data collector's envelopes read (0 for plain tables) */
  envelopes = 0;

  private column(name: string): Column {
    let c = this.columns.get(name);
    if (!c) {
      c = new Column(this.capacity);
      this.columns.set(name, c);
    }
    return c;
  }

  /** One row: a flat object (nested objects and arrays are kept as their JSON text, a category). */
  addRow(obj: Record<string, unknown>): void {
    if (this.rows === this.capacity) {
      this.capacity *= 2;
      for (const c of this.columns.values()) c.grow(this.capacity);
    }
    const r = this.rows++;
    for (const [k, v] of Object.entries(obj)) {
      if (v === null || v === undefined) {
        this.column(k);
        continue;
      }
      const c = this.column(k);
      if (typeof v === 'number') {
        if (!Number.isFinite(v)) {
          c.setText(r, String(v));
          c.texts++;
          continue;
        }
        c.nums[r] = v;
        c.numbers++;
        if (!Number.isInteger(v)) c.nonIntegers++;
      } else if (typeof v === 'boolean') {
        c.setText(r, v ? 'True' : 'False');
        c.booleans++;
      } else {
        c.setText(r, typeof v === 'string' ? v : JSON.stringify(v));
        c.texts++;
      }
    }
  }

  /** One CSV record (header names → raw fields): empty → missing; a numeric field → number ('3.0' counts as double). */
  addCsvRecord(header: readonly string[], fields: readonly string[]): void {
    const obj: Record<string, unknown> = {};
    const doubles: string[] = [];
    header.forEach((h, i) => {
      const f = fields[i];
      if (f === undefined || f === '') {
        obj[h] = null;
        return;
      }
      if (NUMBER_TEXT.test(f)) {
        obj[h] = Number(f);
        if (!/^[+-]?\d+$/.test(f)) doubles.push(h);
      } else obj[h] = f;
    });
    this.addRow(obj);
    for (const h of doubles) {
      const c = this.columns.get(h)!;
      if (Number.isInteger(obj[h] as number)) c.nonIntegers++;
    }
  }

  /**
   * One JSON Lines line: a plain row, or the model data collector's envelope ({specversion, type, data: [rows]},
   * https://github.com/MicrosoftDocs/azure-ai-docs articles/machine-learning/how-to-collect-production-data.md
   * @ 21fa35235e4e72ad18d06e7dac66c180505cc27a, "Store collected data in Blob Storage") whose `data` rows are added
   * (the service's preprocessor reads `data` with pandas.read_json: model_data_collector_preprocessor/run.py).
   */
  addJsonLine(line: string, where: string): void {
    const t = line.trim();
    if (!t) return;
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch (e) {
      throw new TableError(`${where}: not JSON (${(e as Error).message})`);
    }
    if (!v || typeof v !== 'object' || Array.isArray(v))
      throw new TableError(`${where}: a JSON Lines row must be an object`);
    const o = v as Record<string, unknown>;
    if (typeof o.specversion === 'string' && ('data' in o || 'dataref' in o)) {
      this.envelopes++;
      const data = o.data;
      if (data === undefined || data === null) {
        throw new TableError(
          `${where}: the collector stored this payload by reference (dataref, payloads over 4 MB); reading such payloads is not supported`,
        );
      }
      if (Array.isArray(data)) {
        for (const row of data) {
          if (!row || typeof row !== 'object' || Array.isArray(row))
            throw new TableError(
              `${where}: collected data is not a table (rows must be objects); payload logging of raw requests needs preprocessing first`,
            );
          this.addRow(row as Record<string, unknown>);
        }
        return;
      }
      if (typeof data === 'object') {
        // pandas "columns" orientation {col: [values]} or {col: {index: value}}
        const cols = Object.entries(data as Record<string, unknown>);
        const asArrays = cols.map(
          ([k, vals]) =>
            [
              k,
              Array.isArray(vals) ? vals : vals && typeof vals === 'object' ? Object.values(vals) : undefined,
            ] as const,
        );
        if (asArrays.some(([, vals]) => !vals)) throw new TableError(`${where}: collected data is not a table`);
        const n = Math.max(0, ...asArrays.map(([, vals]) => vals!.length));
        for (let i = 0; i < n; i++) this.addRow(Object.fromEntries(asArrays.map(([k, vals]) => [k, vals![i]])));
        return;
      }
      throw new TableError(`${where}: collected data is not a table`);
    }
    this.addRow(o);
  }

  has(name: string): boolean {
    return this.columns.has(name);
  }
  type(name: string): ColumnType | undefined {
    return this.columns.get(name)?.type();
  }
  names(): string[] {
    return [...this.columns.keys()];
  }

  /** distinct values / rows (missing counts as one value), as df_utils.get_distinct_ratio over the whole column */
  distinctRatio(name: string): number {
    const c = this.columns.get(name);
    if (!c || !this.rows) return 0;
    const seen = new Set<number | string>();
    for (let r = 0; r < this.rows; r++)
      seen.add(c.missing(r) ? '\u0000null' : c.codes && c.codes[r]! >= 0 ? `s${c.codes[r]}` : c.nums[r]!);
    return seen.size / this.rows;
  }

  /** rows with a value in every one of `features` (compute_data_drift.py: dropna before counting) */
  keptRows(features: readonly string[]): Uint8Array {
    const keep = new Uint8Array(this.rows).fill(1);
    for (const f of features) {
      const c = this.columns.get(f);
      for (let r = 0; r < this.rows; r++) if (!c || c.missing(r)) keep[r] = 0;
    }
    return keep;
  }

  numbers(name: string, keep: Uint8Array): Float64Array {
    const c = this.columns.get(name)!;
    let n = 0;
    for (let r = 0; r < this.rows; r++) if (keep[r]) n++;
    const out = new Float64Array(n);
    let i = 0;
    for (let r = 0; r < this.rows; r++) if (keep[r]) out[i++] = c.nums[r]!;
    return out;
  }

  categoryCounts(name: string, keep: Uint8Array): Map<string, number> {
    const c = this.columns.get(name)!;
    const m = new Map<string, number>();
    for (let r = 0; r < this.rows; r++)
      if (keep[r]) {
        const k = c.text(r);
        m.set(k, (m.get(k) ?? 0) + 1);
      }
    return m;
  }
}

/** bad content in a data file: one line naming the file and line */
export class TableError extends UserError {}

const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * CSV records from lines (RFC 4180 quoting: "" inside quotes; a quoted field may span lines). Feeds `onRecord` with
 * the fields; the first record is the header.
 */
export class CsvLineParser {
  private pending: string | undefined;
  constructor(private readonly onRecord: (fields: string[]) => void) {}
  push(line: string): void {
    const text = this.pending !== undefined ? `${this.pending}\n${line}` : line.replace(/\r$/, '');
    const fields: string[] = [];
    let cur = '',
      q = false,
      i = 0;
    for (; i < text.length; i++) {
      const ch = text[i]!;
      if (q) {
        if (ch === '"') {
          if (text[i + 1] === '"') {
            cur += '"';
            i++;
          } else q = false;
        } else cur += ch;
      } else if (ch === '"' && cur === '') q = true;
      else if (ch === ',') {
        fields.push(cur);
        cur = '';
      } else cur += ch;
    }
    if (q) {
      this.pending = text;
      return;
    }
    this.pending = undefined;
    fields.push(cur);
    if (fields.length === 1 && fields[0] === '') return; // blank line
    this.onRecord(fields);
  }
  end(where: string): void {
    if (this.pending !== undefined) throw new TableError(`${where}: a quoted CSV field is not closed`);
  }
}

export type DataFormat = 'jsonl' | 'csv';

/** A sink that turns the lines of one file into rows of `table`. */
export function lineSink(
  table: ColumnTable,
  format: DataFormat,
  where: string,
): { line(l: string): void; end(): void } {
  if (format === 'jsonl') {
    let n = 0;
    return { line: (l) => table.addJsonLine(l, `${where} line ${++n}`), end: () => undefined };
  }
  let header: string[] | undefined;
  const p = new CsvLineParser((fields) => {
    if (!header) {
      header = fields.map((h) => h.trim());
      return;
    }
    table.addCsvRecord(header, fields);
  });
  return { line: (l) => p.push(l), end: () => p.end(where) };
}
