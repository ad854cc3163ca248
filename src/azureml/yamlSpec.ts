// Shared plumbing for reading `az ml` v2 YAML files (jobs, components, online endpoints/deployments):
// loading with positions, `{{VAR}}` template placeholders, `--set`-style overrides, key checks,
// Python-compatible literal formatting and ISO 8601 durations. Pure: no network, no Azure calls.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Document, isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar, YAMLMap } from 'yaml';
import type { Node as YamlNode, Tags } from 'yaml';
import { UserError } from '../errors';

/** A problem in a YAML spec (or an override of it). The message names the file (and line) and the key path. */
export class SpecError extends UserError {
  readonly file?: string;
  readonly keyPath?: string;
  readonly line?: number;
  constructor(message: string, where: { file?: string; keyPath?: string; line?: number } = {}) {
    super(message);
    this.name = 'SpecError';
    this.file = where.file;
    this.keyPath = where.keyPath;
    this.line = where.line;
  }
}

export type KeyPath = ReadonlyArray<string | number>;

export function keyPathText(p: KeyPath): string {
  let s = '';
  for (const seg of p) s += typeof seg === 'number' ? `[${seg}]` : s ? `.${seg}` : seg;
  return s || '(root)';
}

/** A loaded YAML file: the document (with positions) and its plain JS value. */
export class YamlSource {
  readonly file: string;
  readonly baseDir: string;
  readonly doc: Document;
  private readonly lines: LineCounter;
  /** Keys added by overrides (path text → override text), to name the override in errors. */
  readonly overridden = new Map<string, string>();

  constructor(file: string, doc: Document, lines: LineCounter, baseDir?: string) {
    this.file = file;
    this.doc = doc;
    this.lines = lines;
    this.baseDir = baseDir ?? path.dirname(path.resolve(file));
  }

  /** Display name for messages: relative to cwd when shorter. */
  get displayName(): string {
    const rel = path.relative(process.cwd(), this.file);
    return rel && !rel.startsWith('..') && rel.length < this.file.length ? rel : this.file;
  }

  node(p: KeyPath): YamlNode | undefined {
    try {
      return this.doc.getIn(p as Array<string | number>, true) as YamlNode | undefined;
    } catch {
      return undefined;
    }
  }

  /** 1-based line of the key at `p` (or of its nearest existing parent). */
  lineOf(p: KeyPath): number | undefined {
    for (let n = p.length; n > 0; n--) {
      const parent = this.node(p.slice(0, n - 1));
      const seg = p[n - 1];
      if (isMap(parent)) {
        const pair = parent.items.find(
          (it) => (isScalar(it.key) ? String(it.key.value) : String(it.key)) === String(seg),
        );
        const k = pair?.key as YamlNode | undefined;
        if (k?.range) return this.lines.linePos(k.range[0]).line;
      } else if (isSeq(parent) && typeof seg === 'number') {
        const item = parent.items[seg] as YamlNode | undefined;
        if (item?.range) return this.lines.linePos(item.range[0]).line;
      }
    }
    const root = this.doc.contents as YamlNode | null;
    return root?.range ? this.lines.linePos(root.range[0]).line : undefined;
  }

  /** `file:line` (or the override that set the key). */
  where(p: KeyPath): string {
    for (let n = p.length; n > 0; n--) {
      const ov = this.overridden.get(keyPathText(p.slice(0, n)));
      if (ov !== undefined) return `${this.displayName} (override '${ov}')`;
    }
    const line = this.lineOf(p);
    return line ? `${this.displayName}:${line}` : this.displayName;
  }

  error(p: KeyPath, problem: string): SpecError {
    const kp = keyPathText(p);
    return new SpecError(`${this.where(p)}: '${kp}': ${problem}`, {
      file: this.file,
      keyPath: kp,
      line: this.lineOf(p),
    });
  }

  /** Raw source text of a plain scalar (for Python-compatible literal formatting). */
  scalarSource(p: KeyPath): string | undefined {
    const n = this.node(p);
    if (isScalar(n) && n.type === Scalar.PLAIN) return (n as Scalar & { source?: string }).source;
    return undefined;
  }

  toJS(): unknown {
    return this.doc.toJS({ maxAliasCount: 1000 });
  }
}

const PLACEHOLDER = /(?<!\$)\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/**
 * Replaces `{{NAME}}` template placeholders (as the azureml-examples scripts do with sed before `az ml … -f`)
 * with `variables[NAME]`. `${{inputs.x}}` bindings are left alone. A placeholder without a value is an error.
 */
export function substitutePlaceholders(
  text: string,
  file: string,
  variables: Record<string, string> | undefined,
): string {
  const lc = new LineCounter();
  lc.addNewLine(0);
  let pos = 0;
  for (;;) {
    const i = text.indexOf('\n', pos);
    if (i < 0) break;
    lc.addNewLine(i + 1);
    pos = i + 1;
  }
  return text.replace(PLACEHOLDER, (m, name: string, offset: number) => {
    const v = variables?.[name];
    if (v === undefined) {
      const line = lc.linePos(offset).line;
      throw new SpecError(
        `${file}:${line}: template placeholder '${m}' has no value: supply ${name} as a template variable (the file is a template, as in the azureml-examples scripts that replace it with sed)`,
        { file, line },
      );
    }
    return v;
  });
}

export interface LoadOptions {
  /** Text instead of reading the file (file still names it in messages and anchors relative paths). */
  text?: string;
  /** Values for `{{NAME}}` template placeholders. */
  variables?: Record<string, string>;
  baseDir?: string;
}

// Plain scalars are resolved exactly as PyYAML's SafeLoader resolves them (what `az ml` loads YAML with: azure-ai-ml
// _utils/utils.py load_yaml → yaml.safe_load; the implicit resolvers are PyYAML 6.0 yaml/resolver.py, Resolver's
// add_implicit_resolver calls), for every field: the `yaml` package's own 1.1 schema differs in ways that change
// values — `.` and `-.` are floats (NaN) there, so `code: .` became a folder named `nan`; `y`/`n` are booleans;
// `1e3`, `1.5e3` and `1e-3` (no '.' or no exponent sign) are floats; `09` and `0:30` are numbers; timestamps become
// Date objects. PyYAML keeps each of those a string except timestamps (datetime objects); here a timestamp stays the
// string as written (az ml's schemas want strings: a datetime in a string field fails its validation anyway).
const PY_NULL = /^(?:~|null|Null|NULL|)$/;
const PY_TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const PY_FALSE = /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/;
const PY_INT =
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const PY_FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

/** PyYAML's construct_yaml_int (sign, `_`, 0b/0x/0 octal, base-60 `1:30`). */
function pyInt(text: string): number {
  let v = text.replace(/_/g, '');
  let sign = 1;
  if (v[0] === '-' || v[0] === '+') {
    if (v[0] === '-') sign = -1;
    v = v.slice(1);
  }
  if (v === '0') return 0;
  if (v.startsWith('0b')) return sign * parseInt(v.slice(2), 2);
  if (v.startsWith('0x')) return sign * parseInt(v.slice(2), 16);
  if (v.startsWith('0')) return sign * parseInt(v, 8);
  if (v.includes(':')) return sign * v.split(':').reduce((acc, d) => acc * 60 + Number(d), 0);
  return sign * Number(v);
}

/** PyYAML's construct_yaml_float (sign, `_`, .inf/.nan, base-60 `1:30.5`). */
function pyFloat(text: string): number {
  let v = text.replace(/_/g, '').toLowerCase();
  let sign = 1;
  if (v[0] === '-' || v[0] === '+') {
    if (v[0] === '-') sign = -1;
    v = v.slice(1);
  }
  if (v === '.inf') return sign * Infinity;
  if (v === '.nan') return NaN;
  if (v.includes(':')) return sign * v.split(':').reduce((acc, d) => acc * 60 + Number(d), 0);
  return sign * Number(v);
}

/** True when PyYAML reads the plain scalar text as a float (not an int): Python's str() then prints it as a float. */
export function isPyFloatText(text: string): boolean {
  return PY_FLOAT.test(text.trim());
}

type ScalarTagLike = {
  tag: string;
  test?: RegExp;
  resolve: (s: string) => unknown;
  default?: boolean | 'key';
  format?: string;
};
const IMPLICIT = new Set([
  'tag:yaml.org,2002:null',
  'tag:yaml.org,2002:bool',
  'tag:yaml.org,2002:int',
  'tag:yaml.org,2002:float',
  'tag:yaml.org,2002:timestamp',
]);

/** The `yaml` package's 1.1 tags with every implicit scalar resolver replaced by PyYAML's. */
function pyYamlTags(tags: Tags): Tags {
  const out: Tags = [];
  let done = false;
  for (const t of tags) {
    const st = t as unknown as ScalarTagLike;
    if (typeof t === 'object' && IMPLICIT.has(st.tag) && st.test instanceof RegExp) {
      // keep the tag for explicit use (`!!int 3`), no longer matching plain scalars; ours are added once, in order
      out.push({ ...st, default: false } as unknown as Tags[number]);
      if (!done) {
        done = true;
        const base = (tag: string) =>
          (tags as unknown as ScalarTagLike[]).find((x) => typeof x === 'object' && x.tag === tag)!;
        const mk = (tag: string, test: RegExp, resolve: (s: string) => unknown) =>
          ({ ...base(tag), format: undefined, default: true, test, resolve }) as unknown as Tags[number];
        out.push(
          mk('tag:yaml.org,2002:null', PY_NULL, () => null),
          mk('tag:yaml.org,2002:bool', PY_TRUE, () => true),
          mk('tag:yaml.org,2002:bool', PY_FALSE, () => false),
          mk('tag:yaml.org,2002:int', PY_INT, pyInt),
          mk('tag:yaml.org,2002:float', PY_FLOAT, pyFloat),
        );
      }
      continue;
    }
    out.push(t);
  }
  return out;
}

const YAML_OPTIONS = {
  version: '1.1' as const,
  uniqueKeys: true,
  customTags: pyYamlTags,
};

/** Reads and parses a YAML file with YAML 1.1 rules (as PyYAML, which `az ml` uses). Syntax errors name file:line. */
export function loadYaml(file: string, opts: LoadOptions = {}): YamlSource {
  const abs = path.resolve(file);
  const shown =
    path.relative(process.cwd(), abs) && !path.relative(process.cwd(), abs).startsWith('..')
      ? path.relative(process.cwd(), abs)
      : abs;
  let text = opts.text;
  if (text === undefined) {
    try {
      text = fs.readFileSync(abs, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new SpecError(
        code === 'ENOENT'
          ? `${shown}: file not found`
          : code === 'EISDIR'
            ? `${shown}: is a directory, not a YAML file`
            : `${shown}: cannot read: ${(e as Error).message}`,
        { file: abs },
      );
    }
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  text = substitutePlaceholders(text, shown, opts.variables);
  const lines = new LineCounter();
  const doc = parseDocument(text, { ...YAML_OPTIONS, prettyErrors: false, lineCounter: lines });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line ?? lines.linePos(e.pos[0]).line;
    const msg = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new SpecError(`${shown}:${line}: YAML syntax error: ${msg}`, { file: abs, line });
  }
  const src = new YamlSource(abs, doc, lines, opts.baseDir);
  const root = doc.contents;
  if (!isMap(root))
    throw new SpecError(`${shown}: expected a YAML mapping at the top level${root ? '' : ' (the file is empty)'}`, {
      file: abs,
    });
  return src;
}

/**
 * Applies `--set`-style overrides (`a.b.c=value`, value parsed as YAML) to the document, creating missing maps.
 * Errors name the override.
 */
export function applyOverrides(src: YamlSource, overrides: readonly string[] | undefined): void {
  for (const raw of overrides ?? []) {
    const text = raw.trim();
    if (!text) continue;
    const eq = text.indexOf('=');
    if (eq < 0) throw new SpecError(`Override '${raw}': expected path=value (e.g. inputs.learning_rate=0.1)`);
    const keyText = text.slice(0, eq).trim();
    const valueText = text.slice(eq + 1).trim();
    if (!keyText) throw new SpecError(`Override '${raw}': the path before '=' is empty`);
    const segs = keyText.split('.');
    if (segs.some((s) => !s.trim())) throw new SpecError(`Override '${raw}': path '${keyText}' has an empty segment`);
    const keys = segs.map((s) => s.trim());
    const vdoc = parseDocument(valueText === '' ? "''" : valueText, YAML_OPTIONS);
    if (vdoc.errors.length)
      throw new SpecError(`Override '${raw}': value is not valid YAML: ${vdoc.errors[0].message.split('\n')[0]}`);
    // walk, creating maps; refuse to descend into a non-map
    let cur: unknown = src.doc.contents;
    for (let i = 0; i < keys.length - 1; i++) {
      const m = cur as YAMLMap;
      let next = m.get(keys[i], true) as unknown;
      if (next === undefined || (isScalar(next) && (next.value === null || next.value === undefined))) {
        next = new YAMLMap();
        m.set(keys[i], next);
      } else if (!isMap(next)) {
        const at = keyPathText(keys.slice(0, i + 1));
        throw new SpecError(
          `Override '${raw}': '${at}' is ${isSeq(next) ? 'a list' : `the value ${JSON.stringify(isScalar(next) ? next.value : String(next))}`}, not a mapping, so '${keyText}' cannot be set`,
        );
      }
      cur = next;
    }
    (cur as YAMLMap).set(keys[keys.length - 1], vdoc.contents ?? new Scalar(null));
    src.overridden.set(keyPathText(keys), raw);
  }
}

/** Checks that a mapping only has allowed keys; throws naming the first unknown one. `$schema` is always allowed. */
export function checkKeys(
  src: YamlSource,
  p: KeyPath,
  obj: Record<string, unknown>,
  allowed: readonly string[],
  what: string,
): void {
  for (const k of Object.keys(obj)) {
    if (k === '$schema' || allowed.includes(k)) continue;
    throw src.error([...p, k], `unknown key for ${what} (allowed: ${allowed.join(', ')})`);
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function expectMap(src: YamlSource, p: KeyPath, v: unknown, what = 'a mapping'): Record<string, unknown> {
  if (!isPlainObject(v)) throw src.error(p, `expected ${what}, got ${describe(v)}`);
  return v;
}

export function optMap(
  src: YamlSource,
  p: KeyPath,
  v: unknown,
  what = 'a mapping',
): Record<string, unknown> | undefined {
  if (v === undefined || v === null) return undefined;
  return expectMap(src, p, v, what);
}

export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

export function optString(src: YamlSource, p: KeyPath, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return pyStr(v, src.scalarSource(p));
  throw src.error(p, `expected a string, got ${describe(v)}`);
}

export function reqString(src: YamlSource, p: KeyPath, v: unknown, what?: string): string {
  const s = optString(src, p, v);
  if (s === undefined || s.trim() === '') throw src.error(p, `${what ?? 'a value'} is required`);
  return s;
}

export function optInt(src: YamlSource, p: KeyPath, v: unknown, min?: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && /^[-+]?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw src.error(p, `expected an integer, got ${describe(v)}`);
  if (min !== undefined && n < min) throw src.error(p, `must be at least ${min}, got ${n}`);
  return n;
}

export function optNumber(src: YamlSource, p: KeyPath, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw src.error(p, `expected a number, got ${describe(v)}`);
  return n;
}

export function optBool(src: YamlSource, p: KeyPath, v: unknown): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw src.error(p, `expected true or false, got ${describe(v)}`);
}

/** String map (tags, environment variables, properties): values become strings as `az ml` sends them. */
export function optStringMap(src: YamlSource, p: KeyPath, v: unknown): Record<string, string> | undefined {
  const m = optMap(src, p, v);
  if (!m) return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(m)) {
    if (val === null || val === undefined) out[k] = '';
    else if (typeof val === 'object') throw src.error([...p, k], `expected a plain value, got ${describe(val)}`);
    else out[k] = typeof val === 'string' ? val : pyStr(val as number | boolean, src.scalarSource([...p, k]));
  }
  return out;
}

// ------------------------------------------------------------------------------------------ literal formatting

/** Python's repr() of a float (shortest round-trip digits; scientific below 1e-4 and from 1e16). */
export function pyFloatRepr(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const [mant, expText] = v.toExponential().split('e');
  const exp = Number(expText);
  const sign = v < 0 ? '-' : '';
  const digits = mant.replace('-', '').replace('.', '');
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp >= 0) {
    const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    const frac = digits.slice(exp + 1) || '0';
    return `${sign}${intPart}.${frac}`;
  }
  return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
}

/**
 * The string `az ml` (Python `str()`) sends for a YAML scalar: ints as digits, floats as Python repr (`1.0`, `0.1`),
 * booleans `True`/`False`. `source` is the scalar's text in the file (tells 1.0 from 1).
 */
export function pyStr(v: string | number | boolean, source?: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  const src = source?.trim();
  // the loader only makes numbers of what PyYAML reads as numbers (loadYaml); floats print as Python floats
  if (src !== undefined && isPyFloatText(src)) return pyFloatRepr(v);
  return Number.isInteger(v) && Math.abs(v) < 1e21 ? BigInt(v).toString() : pyFloatRepr(v);
}

// ------------------------------------------------------------------------------------------ durations

/** Seconds → ISO 8601 duration as azure-ai-ml sends it (`3600` → `PT1H`, `90` → `PT1M30S`, `0.5` → `PT0.5S`). */
export function secondsToIso(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`bad duration ${seconds}`);
  let rest = seconds;
  const days = Math.floor(rest / 86400);
  rest -= days * 86400;
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  rest -= minutes * 60;
  const secs = Math.round(rest * 1000) / 1000;
  let t = '';
  if (hours) t += `${hours}H`;
  if (minutes) t += `${minutes}M`;
  if (secs) t += `${secs}S`;
  if (!days && !t) return 'PT0S';
  return `P${days ? `${days}D` : ''}${t ? `T${t}` : ''}`;
}

/** A duration given in seconds (number or numeric string) or already as ISO 8601 (`PT10S`) → ISO 8601. */
export function optDuration(
  src: YamlSource,
  p: KeyPath,
  v: unknown,
  unit: 'seconds' | 'ms' = 'seconds',
): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' && /^P(?!$)(\d+(\.\d+)?[YMWD])*(T(\d+(\.\d+)?[HMS])+)?$/i.test(v.trim()))
    return v.trim().toUpperCase();
  const n = typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0)
    throw src.error(
      p,
      `expected a duration in ${unit === 'ms' ? 'milliseconds' : 'seconds'} (or ISO 8601 like PT30S), got ${describe(v)}`,
    );
  return secondsToIso(unit === 'ms' ? n / 1000 : n);
}

// ------------------------------------------------------------------------------------------ references

/** Kinds of workspace assets a reference may name. */
export type AssetKind = 'codes' | 'environments' | 'models' | 'data' | 'components';

export const ARM_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.MachineLearningServices\/workspaces\/[^/]+\//i;

/** How a YAML value refers to something. */
export type Ref =
  | { kind: 'arm'; id: string } // /subscriptions/…  (or azureml:/subscriptions/…)
  | { kind: 'registry'; uri: string } // azureml://registries/…
  | { kind: 'asset'; name: string; version?: string; label?: string; text: string } // azureml:name:version | azureml:name@label
  | { kind: 'uri'; uri: string } // azureml://datastores/…, azureml://jobs/…, https://, wasbs://, abfss://, runs:/…
  | { kind: 'local'; path: string }; // anything else: path relative to the YAML file

const REMOTE_URI = /^(azureml:\/\/|https?:\/\/|wasbs?:\/\/|abfss?:\/\/|adl:\/\/|runs:\/|models:\/|s3:\/\/|gs:\/\/)/i;

export function parseRef(value: string, baseDir: string, opts: { assetNamesWithoutPrefix?: boolean } = {}): Ref {
  const v = value.trim();
  if (/^azureml:\/\/registries\//i.test(v)) return { kind: 'registry', uri: v };
  if (REMOTE_URI.test(v)) return { kind: 'uri', uri: v };
  const noPrefix = v.replace(/^azureml:/i, '');
  if (ARM_ID.test(noPrefix)) return { kind: 'arm', id: noPrefix };
  if (/^azureml:/i.test(v) || opts.assetNamesWithoutPrefix) {
    const at = noPrefix.lastIndexOf('@');
    if (at > 0) return { kind: 'asset', name: noPrefix.slice(0, at), label: noPrefix.slice(at + 1), text: v };
    const colon = noPrefix.indexOf(':');
    if (colon > 0)
      return { kind: 'asset', name: noPrefix.slice(0, colon), version: noPrefix.slice(colon + 1), text: v };
    return { kind: 'asset', name: noPrefix, text: v };
  }
  const p = v.replace(/^file:/i, '');
  return { kind: 'local', path: path.resolve(baseDir, p) };
}

/** Canonical reference text for a resolver: `azureml:name:version` or `azureml:name@label`. */
export function assetRefText(r: Extract<Ref, { kind: 'asset' }>): string {
  return r.version !== undefined
    ? `azureml:${r.name}:${r.version}`
    : r.label !== undefined
      ? `azureml:${r.name}@${r.label}`
      : `azureml:${r.name}`;
}

/** `azureml:cpu-cluster` / `cpu-cluster` / ARM id → compute name or ARM id. */
export function computeRef(value: string): { name?: string; id?: string } {
  const v = value.trim().replace(/^azureml:/i, '');
  if (ARM_ID.test(v)) return { id: v };
  return { name: v };
}

/** Inline environment as written in YAML (paths made absolute). */
export interface InlineEnvironment {
  name?: string;
  version?: string;
  description?: string;
  tags?: Record<string, string>;
  image?: string;
  /** Absolute path of the conda file (not read here). */
  condaFile?: string;
  /** Conda specification given inline as a mapping. */
  condaSpec?: Record<string, unknown>;
  build?: { path: string /* absolute local dir or remote uri */; dockerfilePath?: string; local: boolean };
  osType?: 'Linux' | 'Windows';
  inferenceConfig?: {
    livenessRoute?: { path: string; port: number };
    readinessRoute?: { path: string; port: number };
    scoringRoute?: { path: string; port: number };
  };
  /** Where it was written, for messages. */
  source: string;
}

const ENV_KEYS = [
  'name',
  'version',
  'description',
  'tags',
  'image',
  'conda_file',
  'build',
  'os_type',
  'inference_config',
  'properties',
  'datastore',
];

export function parseInlineEnvironment(src: YamlSource, p: KeyPath, v: Record<string, unknown>): InlineEnvironment {
  checkKeys(src, p, v, ENV_KEYS, 'an inline environment');
  const env: InlineEnvironment = { source: src.where(p) };
  env.name = optString(src, [...p, 'name'], v.name);
  env.version = optString(src, [...p, 'version'], v.version);
  env.description = optString(src, [...p, 'description'], v.description);
  env.tags = optStringMap(src, [...p, 'tags'], v.tags);
  env.image = optString(src, [...p, 'image'], v.image);
  if (isPlainObject(v.conda_file)) env.condaSpec = v.conda_file;
  else {
    const cf = optString(src, [...p, 'conda_file'], v.conda_file);
    if (cf) env.condaFile = path.resolve(src.baseDir, cf.replace(/^file:/i, ''));
  }
  const b = optMap(src, [...p, 'build'], v.build);
  if (b) {
    checkKeys(src, [...p, 'build'], b, ['path', 'dockerfile_path'], 'an environment build context');
    const bp = reqString(src, [...p, 'build', 'path'], b.path, 'build.path');
    const remote = REMOTE_URI.test(bp);
    env.build = {
      path: remote ? bp : path.resolve(src.baseDir, bp),
      dockerfilePath: optString(src, [...p, 'build', 'dockerfile_path'], b.dockerfile_path),
      local: !remote,
    };
  }
  const os = optString(src, [...p, 'os_type'], v.os_type);
  if (os !== undefined) {
    if (!/^(linux|windows)$/i.test(os)) throw src.error([...p, 'os_type'], `expected linux or windows, got '${os}'`);
    env.osType = /^linux$/i.test(os) ? 'Linux' : 'Windows';
  }
  const ic = optMap(src, [...p, 'inference_config'], v.inference_config);
  if (ic) {
    checkKeys(
      src,
      [...p, 'inference_config'],
      ic,
      ['liveness_route', 'readiness_route', 'scoring_route'],
      'inference_config',
    );
    const route = (k: string) => {
      const r = optMap(src, [...p, 'inference_config', k], ic[k]);
      if (!r) return undefined;
      checkKeys(src, [...p, 'inference_config', k], r, ['path', 'port'], k);
      return {
        path: reqString(src, [...p, 'inference_config', k, 'path'], r.path, 'path'),
        port: optInt(src, [...p, 'inference_config', k, 'port'], r.port, 1) ?? 0,
      };
    };
    env.inferenceConfig = {
      livenessRoute: route('liveness_route'),
      readinessRoute: route('readiness_route'),
      scoringRoute: route('scoring_route'),
    };
  }
  if (!env.image && !env.build) throw src.error(p, 'an inline environment needs an image or a build context');
  return env;
}

/**
 * EnvironmentVersion PUT body (2022-10-01) for an inline environment. `condaFileText` is the conda file's content
 * (read by the caller), `buildContextUri` the uploaded build context when `build.path` is local.
 */
export function environmentVersionBody(
  env: InlineEnvironment,
  opts: { condaFileText?: string; buildContextUri?: string; isAnonymous?: boolean } = {},
): { properties: Record<string, unknown> } {
  const props: Record<string, unknown> = {};
  if (env.description) props.description = env.description;
  if (env.tags) props.tags = env.tags;
  if (env.image) props.image = env.image;
  const conda = opts.condaFileText ?? (env.condaSpec ? JSON.stringify(env.condaSpec) : undefined);
  if (conda !== undefined) props.condaFile = conda;
  if (env.build)
    props.build = {
      contextUri: env.build.local ? (opts.buildContextUri ?? env.build.path) : env.build.path,
      ...(env.build.dockerfilePath ? { dockerfilePath: env.build.dockerfilePath } : {}),
    };
  if (env.osType) props.osType = env.osType;
  if (env.inferenceConfig) {
    const ic: Record<string, unknown> = {};
    if (env.inferenceConfig.livenessRoute) ic.livenessRoute = env.inferenceConfig.livenessRoute;
    if (env.inferenceConfig.readinessRoute) ic.readinessRoute = env.inferenceConfig.readinessRoute;
    if (env.inferenceConfig.scoringRoute) ic.scoringRoute = env.inferenceConfig.scoringRoute;
    props.inferenceConfig = ic;
  }
  if (opts.isAnonymous) props.isAnonymous = true;
  return { properties: props };
}

/** Short content hash (hex) for anonymous asset versions: same content → same version → idempotent reruns. */
export function contentHash(value: unknown): string {
  return crypto
    .createHash('sha256')
    .update(typeof value === 'string' ? value : JSON.stringify(value))
    .digest('hex')
    .slice(0, 32);
}

/**
 * Name, version and EnvironmentVersions_CreateOrUpdate body for an inline environment: its own name/version when the
 * YAML gives them, else the anonymous name `az ml` uses (CliV2AnonymousEnvironment) with a content-hash version.
 */
export function inlineEnvironmentVersion(
  env: InlineEnvironment,
  opts: { condaFileText?: string; buildContextUri?: string } = {},
): { name: string; version: string; body: { properties: Record<string, unknown> } } {
  const anonymous = !env.name;
  const body = environmentVersionBody(env, { ...opts, isAnonymous: anonymous });
  return { name: env.name ?? 'CliV2AnonymousEnvironment', version: env.version ?? contentHash(body), body };
}

/**
 * The distributions a sweep `search_space` entry may name and their arguments in YAML order (azure-ai-ml
 * `entities/_job/sweep/search_space.py`): shared by sweep jobs/steps (jobSpec.ts) and AutoML image sweeps (automlSpec.ts).
 */
export const SEARCH_SPACE_DISTRIBUTIONS: Record<string, string[]> = {
  choice: ['values'],
  randint: ['upper'],
  uniform: ['min_value', 'max_value'],
  loguniform: ['min_value', 'max_value'],
  quniform: ['min_value', 'max_value', 'q'],
  qloguniform: ['min_value', 'max_value', 'q'],
  normal: ['mu', 'sigma'],
  lognormal: ['mu', 'sigma'],
  qnormal: ['mu', 'sigma', 'q'],
  qlognormal: ['mu', 'sigma', 'q'],
};

/** Drops the members that are undefined (in place) and returns the object: request bodies send no undefined keys. */
export function stripUndef<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/** snake_case copy of a REST (camelCase) object, as azure-ai-ml puts node attributes in pipeline `jobs`. */
export function snake(o: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!o) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o))
    out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = isPlainObject(v) && k !== 'properties' ? snake(v) : v;
  return out;
}
