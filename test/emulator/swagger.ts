/**
 * Request validator for the Azure ML emulator: rejects what the official swagger (2022-10-01 mfe.json +
 * machineLearningServices.json, the same two at 2024-04-01, plus 2025-12-01 registries.json at its own api-version)
 * rejects; a request is validated against the file of the api-version it sends.
 *
 * Swagger 2.0 schemas are converted to JSON Schema (draft-07, ajv) with ARM/AutoRest semantics:
 *  - polymorphism: a reference to a type that has subtypes (`discriminator` + subtypes `allOf` it with
 *    `x-ms-discriminator-value`) validates against the subtype chosen by the discriminator value (custom
 *    `x-dispatch` keyword; each subtype's validator is compiled on first use, so an operation compiles only
 *    the subtypes its requests use — AutoML is never compiled for command jobs); an `allOf` reference to
 *    the base means "the base's own properties" (`<name>~self`), so subtype chains do not recurse.
 *  - `readOnly` properties: never required, and their values are not checked (ARM ignores them in requests,
 *    and GET → edit → PUT round trips send them back).
 *  - unknown members: refused at api-version 2022-10-01 itself when the caller asks (`rejectUnknownMembers`, what
 *    the box does: index.ts), accepted at a newer api-version that the box takes for one operation
 *    (NEWER_API_VERSIONS: a newer version knows more fields). ASSUMPTION, from issue 9 ("unknown members are rejected,
 *    not ignored", seen by its author in recorded traffic; the exchange itself was not located). Without the option
 *    (unit tests), `additionalProperties: false` is ignored; `additionalProperties: <schema>` (maps) is always honoured.
 *  - `x-nullable: true` → null allowed; elsewhere null is a type error.
 *  - enums: the value set is strict; string comparison is case-insensitive (a .NET string-enum reader is, and
 *    the CLI's YAML spells several of these lower-case, e.g. sweep `goal: maximize`, so a lower-case value may
 *    reach the wire). Discriminator values are matched exactly (case-sensitive): the SDKs always send the REST
 *    model's constant, and an exact match catches translator slips like `jobType: "command"`.
 *  - formats: date-time (offset optional, like .NET), uuid, uri, int32/int64/float/double, and ISO 8601
 *    `duration` (PT5M, P1DT2H, PT0.5S).
 * Compiled lazily per operation and cached.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import addFormats from 'ajv-formats';

export interface ValidationResult {
  operationId: string;
  errors: string[]; // empty = valid; "<dotted.path>: <problem>", at most 10
  /** ARM-style error code for the first problem class found, when errors is not empty. */
  code?:
    | 'MissingApiVersionParameter'
    | 'InvalidApiVersionParameter'
    | 'InvalidPathParameter'
    | 'InvalidQueryParameter'
    | 'UserError';
}
export interface OperationMatch {
  operationId: string;
  pathTemplate: string;
  params: Record<string, string>;
}

type Json = any; // swagger documents are untyped JSON

/** Where the spec copies live (provenance: test/fixtures/third-party/README.md). */
export const SPEC_DIR = path.resolve(__dirname, '../fixtures/third-party/azure-rest-api-specs');

type SpecFile = { doc: string; file: string; operations: boolean };
const COMMON_FILES: SpecFile[] = [
  { doc: 'types', file: 'common-types/v3/types.json', operations: false },
  { doc: 'managedidentity', file: 'common-types/v3/managedidentity.json', operations: false },
];
/**
 * Sets of files, each loaded and converted on its own (so `$ref`s between sibling files resolve within the set):
 * the base set (2022-10-01, what the SDK speaks; loadSpec()) and newer api-versions, loaded on the first request that
 * sends that api-version (the base set alone is what most emulator runs need: loading 2024-04-01 too costs ~200 ms).
 *  - 2024-04-01 (stable): what AzureMLJob sends jobs at (serverless compute, queue settings, AutoML, Spark, Direct
 *    outputs; issue 15); registries, registry model versions, startPendingUpload and workspace model `publish`
 *    (issue 13); deployments with `dataCollector` and schedules whose action is `CreateMonitor` (issue 12). Every
 *    operation of the files is served at that api-version and validated against it.
 * The base set also holds the 2025-12-01 registries.json (served at that version) and the Azure Monitor metric alert
 * rules (Microsoft.Insights/metricAlerts, api-version 2018-03-01: test/emulator/alerts.ts).
 */
const BASE_SET = '2022-10-01';
const SPEC_SETS: Record<string, SpecFile[]> = {
  '2022-10-01': [
    { doc: 'mfe', file: '2022-10-01/mfe.json', operations: true },
    { doc: 'machineLearningServices', file: '2022-10-01/machineLearningServices.json', operations: true },
    { doc: 'registries', file: '2025-12-01/registries.json', operations: true },
    {
      doc: 'metricAlert',
      file: 'specification/monitor/resource-manager/Microsoft.Insights/stable/2018-03-01/metricAlert_API.json',
      operations: true,
    },
    ...COMMON_FILES,
  ],
  '2024-04-01': [
    { doc: 'mfe', file: '2024-04-01/mfe.json', operations: true },
    { doc: 'machineLearningServices', file: '2024-04-01/machineLearningServices.json', operations: true },
    { doc: 'registries', file: '2024-04-01/registries.json', operations: true },
    ...COMMON_FILES,
  ],
};

/**
 * Swagger `pattern`s the service does not apply, removed before conversion (each with the evidence that it does not).
 *  - Route.path `[a-zA-Z0-9_]` (mfe.json 2022-10-01 and 2024-04-01; an environment's inferenceConfig routes): the path
 *    `/` has none of those characters, yet Microsoft's own examples register it and deploy with it twice a day against
 *    the real service: Azure/azureml-examples@085cd6ea399038c1e07843acff811f34261c0887
 *    cli/endpoints/online/custom-container/minimal/single-model/{pip,conda}-in-dockerfile/*-deployment.yml
 *    (liveness_route/readiness_route `path: /`), run by cli/deploy-custom-container-minimal-single-model.sh
 *    (`az ml online-deployment create`) from .github/workflows/cli-scripts-deploy-custom-container-minimal-single-model.yml
 *    (cron "20 4/12 * * *"); triton/single-model/triton-cc-deployment.yml (scoring_route `path: /`) likewise.
 *    ASSUMPTION: no recorded exchange with a `/` route was located (Azure/azure-sdk-assets recordings were searched
 *    by name, not read whole); with the pattern gone no Route.path is refused (the spec states no other rule for it).
 */
const NOT_APPLIED_PATTERNS: Array<{ doc: string; definition: string; property: string; pattern: string }> = [
  { doc: 'mfe', definition: 'Route', property: 'path', pattern: '[a-zA-Z0-9_]' },
];

const MAX_MESSAGES = 10;
const METHODS = ['get', 'put', 'post', 'patch', 'delete', 'head'];

interface Param {
  name: string;
  in: string;
  required?: boolean;
  type?: string;
  format?: string;
  pattern?: string;
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  schema?: Json;
}
interface Operation {
  operationId: string;
  method: string;
  pathTemplate: string;
  apiVersion: string;
  doc: string;
  /** the SPEC_SETS entry it was loaded from */
  set: string;
  regex: RegExp;
  paramNames: string[];
  literalCount: number;
  params: Param[];
  body?: Param;
}

export interface Spec {
  operations: Operation[];
  byId: Map<string, Operation>;
  definitions: Record<string, Json>; // converted JSON Schema definitions, keyed `<doc>.<Name>` and `<doc>.<Name>~self`
  ajv: Ajv;
  converter: Converter;
  loadMs: number;
}

const specs = new Map<string, Spec>();
const compiled = new Map<string, ValidateFunction>();

// ---------------------------------------------------------------------------------------------- loading

/** Loads and converts the base set of swagger files (once; cached). */
export function loadSpec(): Spec {
  return loadSet(BASE_SET);
}

function loadSet(set: string): Spec {
  const cached = specs.get(set);
  if (cached) return cached;
  const t0 = performance.now();
  const files = SPEC_SETS[set]!;
  const docs = new Map<string, Json>();
  for (const f of files) {
    const p = path.join(SPEC_DIR, f.file);
    if (!fs.existsSync(p)) {
      if (f.doc.startsWith('registries')) continue;
      throw new Error(`swagger: missing spec file ${p}`);
    }
    docs.set(f.doc, JSON.parse(fs.readFileSync(p, 'utf8')));
  }
  // Known gap in the common-types copy: SkuTier is inline under Sku.tier.
  const types = docs.get('types');
  if (types && !types.definitions.SkuTier) types.definitions.SkuTier = { ...types.definitions.Sku.properties.tier };
  for (const r of NOT_APPLIED_PATTERNS) {
    const prop = docs.get(r.doc)?.definitions?.[r.definition]?.properties?.[r.property];
    if (prop?.pattern === r.pattern) delete prop.pattern;
  }
  const conv = new Converter(docs);
  const definitions = conv.convertAll(false);
  const ajv = newAjv(new Ajv(AJV_OPTIONS), definitions);
  const operations: Operation[] = [];
  for (const f of files) {
    const d = docs.get(f.doc);
    if (!f.operations || !d) continue;
    operations.push(...conv.operations(f.doc, d).map((o) => ({ ...o, set })));
  }
  const byId = new Map<string, Operation>();
  for (const o of operations) if (!byId.has(o.operationId)) byId.set(o.operationId, o);
  const spec: Spec = { operations, byId, definitions, ajv, converter: conv, loadMs: performance.now() - t0 };
  specs.set(set, spec);
  return spec;
}

/**
 * The sets a request at `apiVersion` may match: the base set when it serves that version (or none is given), the
 * version's own set first when there is one, else every set (to name the supported versions in the error).
 */
function setsFor(apiVersion: string | undefined): Spec[] {
  const base = loadSpec();
  if (!apiVersion || base.operations.some((o) => o.apiVersion === apiVersion)) return [base];
  if (apiVersion && SPEC_SETS[apiVersion]) return [loadSet(apiVersion), base];
  return Object.keys(SPEC_SETS).map(loadSet);
}

const AJV_OPTIONS = {
  allErrors: true,
  strict: false,
  unicodeRegExp: false,
  verbose: true,
  validateSchema: false,
  inlineRefs: false,
} as const;

/** Second schema set for translator tests: unknown properties are errors (draft 2019-09 `unevaluatedProperties`). */
const strictAjvs = new Map<string, Ajv2019>();
function getStrictAjv(set = BASE_SET): Ajv2019 {
  let a = strictAjvs.get(set);
  if (!a) {
    a = newAjv(new Ajv2019(AJV_OPTIONS), loadSet(set).converter.convertAll(true));
    strictAjvs.set(set, a);
  }
  return a;
}

function newAjv<A extends Ajv>(ajv: A, definitions: Record<string, Json>): A {
  addFormats(ajv);
  addExtraFormats(ajv);
  ajv.addKeyword({
    keyword: 'x-enum-ci',
    schemaType: 'array',
    errors: true,
    validate: function enumCi(this: unknown, allowed: unknown[], data: unknown) {
      const self = enumCi as unknown as { errors?: Partial<ErrorObject>[] };
      if (data === null || data === undefined) return true;
      const ok =
        typeof data === 'string'
          ? allowed.some((a) => typeof a === 'string' && a.toLowerCase() === data.toLowerCase())
          : typeof allowed[0] !== 'string'
            ? allowed.includes(data)
            : true; // non-strings: the `type` keyword reports
      if (!ok)
        self.errors = [
          { keyword: 'enum', message: `must be one of ${allowed.join(', ')}`, params: { allowedValues: allowed } },
        ];
      return ok;
    },
  });
  ajv.addKeyword({
    keyword: 'x-dispatch',
    schemaType: 'object',
    errors: true,
    validate: function dispatch(
      this: unknown,
      sch: { prop: string; map: Record<string, string>; values: string[] },
      data: unknown,
      _p: unknown,
      cxt?: { instancePath: string },
    ) {
      const self = dispatch as unknown as { errors?: Partial<ErrorObject>[] };
      if (!data || typeof data !== 'object' || Array.isArray(data)) return true; // `type` reports
      const tag = (data as Record<string, unknown>)[sch.prop];
      if (tag === undefined) return true; // `required` reports
      const base = cxt?.instancePath ?? '';
      const target = typeof tag === 'string' && Object.hasOwn(sch.map, tag) ? sch.map[tag] : undefined;
      if (!target) {
        self.errors = [
          {
            instancePath: base,
            keyword: 'discriminator',
            message: 'unknown discriminator value',
            params: { tag: sch.prop, tagValue: tag, values: sch.values },
          },
        ];
        return false;
      }
      const fn = ajv.getSchema(target);
      if (!fn) throw new Error(`swagger: no schema ${target}`);
      if (fn(data)) return true;
      self.errors = (fn.errors ?? []).map((e) => ({ ...e, instancePath: base + e.instancePath }));
      return false;
    },
  });
  ajv.addSchema({ $id: 'swagger', definitions }, 'swagger');
  return ajv;
}

function addExtraFormats(ajv: Ajv): void {
  // .NET reads date-times without an offset too.
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (s: string) =>
      /^\d{4}-[01]\d-[0-3]\d[Tt ][0-2]\d:[0-5]\d(:[0-5]\d(\.\d+)?)?([Zz]|[+-][0-2]\d(:?[0-5]\d)?)?$/.test(s) &&
      !Number.isNaN(Date.parse(s.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'))),
  });
  // ISO 8601 duration (XmlConvert.ToTimeSpan): optional sign, fractional seconds, weeks.
  const n = '\\d+(?:[.,]\\d+)?';
  const dur = new RegExp(
    `^-?P(?!$)(?:${n}Y)?(?:${n}M)?(?:${n}W)?(?:${n}D)?(?:T(?=\\d)(?:${n}H)?(?:${n}M)?(?:${n}S)?)?$`,
  );
  ajv.addFormat('duration', { type: 'string', validate: (s: string) => dur.test(s) });
  for (const f of ['arm-id', 'password', 'url', 'unixtime', 'base64url', 'file', 'char'])
    if (!ajv.formats[f]) ajv.addFormat(f, true);
}

// ---------------------------------------------------------------------------------------------- conversion

class Converter {
  /** parent key → child keys (direct allOf subtypes). */
  private children = new Map<string, string[]>();
  get docNames(): Map<string, Json> {
    return this.docs;
  }
  constructor(private docs: Map<string, Json>) {
    for (const [doc, d] of docs) {
      for (const [name, s] of Object.entries<Json>(d.definitions ?? {})) {
        for (const a of s.allOf ?? []) {
          if (!a.$ref) continue;
          const parent = this.refKey(doc, a.$ref);
          if (!parent) continue;
          const list = this.children.get(parent) ?? [];
          list.push(`${doc}.${name}`);
          this.children.set(parent, list);
        }
      }
    }
  }

  /** `<doc>.<Name>` for a `$ref` inside `doc`; undefined when it points outside what we hold. */
  refKey(doc: string, ref: string): string | undefined {
    const [file, pointer = ''] = ref.split('#');
    const target = file ? sameVersionDoc(this.docs, doc, path.basename(file, '.json')) : doc;
    const m = /^\/(definitions|parameters)\/(.+)$/.exec(pointer);
    if (!m || !this.docs.has(target)) return undefined;
    return `${target}.${m[2]}`;
  }

  private def(key: string): Json | undefined {
    const i = key.indexOf('.');
    return this.docs.get(key.slice(0, i))?.definitions?.[key.slice(i + 1)];
  }

  resolveParam(doc: string, p: Json): Param {
    if (!p.$ref) return p;
    const key = this.refKey(doc, p.$ref);
    const i = key ? key.indexOf('.') : -1;
    const r = key ? this.docs.get(key.slice(0, i))?.parameters?.[key.slice(i + 1)] : undefined;
    if (!r) throw new Error(`swagger: unresolved parameter ${p.$ref} in ${doc}`);
    // a parameter's body schema refs are relative to the file holding the parameter
    return { ...r, schema: r.schema ? { ...r.schema, 'x-doc': key!.slice(0, i) } : undefined };
  }

  /** Discriminator property in force for `key` (own or inherited). */
  private discriminatorOf(key: string, seen = new Set<string>()): string | undefined {
    const s = this.def(key);
    if (!s || seen.has(key)) return undefined;
    seen.add(key);
    if (s.discriminator) return s.discriminator;
    const doc = key.slice(0, key.indexOf('.'));
    for (const a of s.allOf ?? []) {
      const pk = a.$ref ? this.refKey(doc, a.$ref) : undefined;
      const d = pk ? this.discriminatorOf(pk, seen) : undefined;
      if (d) return d;
    }
    return undefined;
  }

  private descendants(key: string): string[] {
    const out: string[] = [];
    const walk = (k: string) => {
      for (const c of this.children.get(k) ?? [])
        if (!out.includes(c)) {
          out.push(c);
          walk(c);
        }
    };
    walk(key);
    return out;
  }

  /** `strict`: unknown properties are errors (`unevaluatedProperties: false` where a model declares properties). */
  convertAll(strict: boolean): Record<string, Json> {
    this.strict = strict;
    const out: Record<string, Json> = {};
    for (const [doc, d] of this.docs) {
      for (const [name, s] of Object.entries<Json>(d.definitions ?? {})) {
        const key = `${doc}.${name}`;
        out[`${key}~self`] = this.convert(doc, s, 'def');
        // a subtype as chosen by a discriminator (validated on its own: unknown properties are checked here in strict mode)
        out[`${key}~branch`] = {
          $ref: `#/definitions/${enc(key)}~self`,
          ...(strict && this.declaresProperties(key) ? { unevaluatedProperties: false } : {}),
        };
        const poly = this.polymorphic(key);
        const view = poly ?? { $ref: `#/definitions/${enc(key)}~self` };
        if (strict && !poly && this.declaresProperties(key)) view.unevaluatedProperties = false;
        out[key] = view;
      }
    }
    this.strict = false;
    return out;
  }

  private strict = false;

  convertInline(doc: string, s: Json, strict: boolean): Json {
    this.strict = strict;
    try {
      return this.convert(doc, s);
    } finally {
      this.strict = false;
    }
  }

  /** True when the model (or a model in its allOf chain) lists properties, i.e. it is not a free-form object. */
  private declaresProperties(key: string, seen = new Set<string>()): boolean {
    const s = this.def(key);
    if (!s || seen.has(key)) return false;
    seen.add(key);
    if (s.properties && Object.keys(s.properties).length) return true;
    const doc = key.slice(0, key.indexOf('.'));
    return (s.allOf ?? []).some((a: Json) => {
      const pk = a.$ref ? this.refKey(doc, a.$ref) : undefined;
      return pk ? this.declaresProperties(pk, seen) : Boolean(a.properties);
    });
  }

  /** Dispatch schema for a type with subtypes; undefined for a plain type. */
  private polymorphic(key: string): Json | undefined {
    const disc = this.discriminatorOf(key);
    const subs = this.descendants(key);
    // a subtype referenced directly still dispatches: its discriminator must name it (or a descendant)
    if (!disc || (subs.length === 0 && this.def(key)?.['x-ms-discriminator-value'] === undefined)) return undefined;
    const map: Record<string, string> = {};
    const values: string[] = [];
    for (const k of [key, ...subs]) {
      const s = this.def(k);
      const isBase = k === key;
      let v: string | undefined = s?.['x-ms-discriminator-value'];
      if (v === undefined && !isBase && this.discriminatorOf(k) === disc) v = k.slice(k.indexOf('.') + 1);
      if (v === undefined || values.includes(v)) continue;
      values.push(v);
      map[v] = `swagger#/definitions/${enc(k)}~branch`;
    }
    return { type: 'object', required: [disc], 'x-dispatch': { prop: disc, map, values } };
  }

  /**
   * Swagger schema → JSON Schema. `at`: 'allOf' = the schema sits in an allOf chain (a `$ref` then means the base
   * type's own schema); 'def' = a definition's own schema. In strict mode `unevaluatedProperties: false` is added
   * only at 'value' level (inline objects); definitions get it on their view (see convertAll).
   */
  convert(doc: string, s: Json, at: 'value' | 'allOf' | 'def' = 'value'): Json {
    const self = at === 'allOf';
    if (s === true || s === false || s == null || typeof s !== 'object') return s;
    if (s['x-doc']) doc = s['x-doc'];
    let out: Json;
    if (s.$ref) {
      const key = this.refKey(doc, s.$ref);
      // Unknown external refs (registries.json → privatelinks.json, not copied) accept anything.
      out = key && this.def(key) ? { $ref: `#/definitions/${enc(key)}${self ? '~self' : ''}` } : {};
    } else {
      out = {};
      if (s.type !== undefined && s.type !== 'file') out.type = s.type;
      for (const k of [
        'minimum',
        'maximum',
        'minLength',
        'maxLength',
        'minItems',
        'maxItems',
        'uniqueItems',
        'multipleOf',
        'pattern',
        'format',
        'minProperties',
        'maxProperties',
      ]) {
        if (s[k] !== undefined) out[k] = s[k];
      }
      if (s.exclusiveMinimum === true && s.minimum !== undefined) {
        out.exclusiveMinimum = s.minimum;
        delete out.minimum;
      }
      if (s.exclusiveMaximum === true && s.maximum !== undefined) {
        out.exclusiveMaximum = s.maximum;
        delete out.maximum;
      }
      if (Array.isArray(s.enum)) {
        if (s.enum.every((e: unknown) => typeof e === 'string')) out['x-enum-ci'] = s.enum;
        else out.enum = s['x-nullable'] ? [...s.enum, null] : s.enum;
      }
      if (s.items) out.items = this.convert(doc, s.items);
      // A polymorphic base's `additionalProperties` schema (metricAlert_API.json MetricAlertCriteria, MultiMetricCriteria:
      // `{type: object}`) stands for its subtypes' extra members in AutoRest; under JSON Schema `allOf` it would hold
      // every subtype property to it (`threshold: must be object`), so it is not carried over for a discriminated base.
      if (s.additionalProperties && typeof s.additionalProperties === 'object' && !s.discriminator) {
        out.additionalProperties = this.convert(doc, s.additionalProperties);
      }
      if (s.properties) {
        out.properties = {};
        for (const [pn, ps] of Object.entries<Json>(s.properties)) {
          out.properties[pn] = ps.readOnly ? {} : this.convert(doc, ps);
        }
      }
      if (Array.isArray(s.required)) {
        const req = s.required.filter((r: string) => !s.properties?.[r]?.readOnly);
        if (req.length) out.required = req;
      }
      if (Array.isArray(s.allOf)) out.allOf = s.allOf.map((a: Json) => this.convert(doc, a, 'allOf'));
      if (this.strict && at === 'value' && s.properties && Object.keys(s.properties).length && !s.additionalProperties)
        out.unevaluatedProperties = false;
    }
    if (s['x-nullable'] === true) {
      if (typeof out.type === 'string' && !out.$ref) out.type = [out.type, 'null'];
      else if (!out.$ref && out.type === undefined) {
        /* untyped: null already allowed */
      } else out = { anyOf: [{ type: 'null' }, out], 'x-nullable': true };
    }
    return out;
  }

  operations(doc: string, d: Json): Operation[] {
    const ops: Operation[] = [];
    const apiVersion: string = d.info?.version;
    for (const [tpl, item] of Object.entries<Json>(d.paths ?? {})) {
      const common: Json[] = item.parameters ?? [];
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        const params = [...common, ...(op.parameters ?? [])].map((p) => this.resolveParam(doc, p));
        const paramNames: string[] = [];
        let literalCount = 0;
        const rx = tpl
          .split('/')
          .map((seg) => {
            if (!seg) return '';
            const pm = /^\{([^}]+)\}$/.exec(seg);
            if (pm) {
              paramNames.push(pm[1]);
              return '([^/]+)';
            }
            literalCount++;
            return seg
              .replace(/\{([^}]+)\}/g, (_m, n) => {
                paramNames.push(n);
                return '\u0000';
              })
              .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
              .replace(/\u0000/g, '([^/]+)');
          })
          .join('/');
        ops.push({
          operationId: op.operationId,
          method: method.toUpperCase(),
          pathTemplate: tpl,
          apiVersion,
          doc,
          set: '',
          regex: new RegExp(`^${rx}$`, 'i'),
          paramNames,
          literalCount,
          params: params.filter((p) => p.in !== 'body'),
          body: params.find((p) => p.in === 'body'),
        });
      }
    }
    return ops;
  }
}

/** `x` referenced from doc `y@v`: `x@v` when loaded, else `x` (see SPEC_FILES). */
function sameVersionDoc(docs: Map<string, unknown>, fromDoc: string, name: string): string {
  const at = fromDoc.indexOf('@');
  if (at >= 0 && docs.has(name + fromDoc.slice(at))) return name + fromDoc.slice(at);
  return name;
}

/** Definition keys go into a JSON pointer: escape `~` and `/`. */
function enc(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

// ---------------------------------------------------------------------------------------------- matching

function candidates(
  method: string,
  rawPath: string,
  apiVersion?: string,
): Array<{ op: Operation; params: Record<string, string> }> {
  let p = rawPath.split('?')[0];
  if (/^https?:\/\//i.test(p)) p = new URL(p).pathname;
  if (p.length > 1) p = p.replace(/\/+$/, '');
  const m = method.toUpperCase();
  const out: Array<{ op: Operation; params: Record<string, string> }> = [];
  for (const op of setsFor(apiVersion).flatMap((x) => x.operations)) {
    if (op.method !== m) continue;
    const r = op.regex.exec(p);
    if (!r) continue;
    const params: Record<string, string> = {};
    op.paramNames.forEach((n, i) => {
      params[n] = safeDecode(r[i + 1]);
    });
    out.push({ op, params });
  }
  return out.sort((a, b) => b.op.literalCount - a.op.literalCount);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The swagger operation for a method + path (case-insensitive literal segments), or undefined. */
export function findOperation(method: string, path: string): OperationMatch | undefined {
  const c = candidates(method, path)[0];
  return c && { operationId: c.op.operationId, pathTemplate: c.op.pathTemplate, params: c.params };
}

// ---------------------------------------------------------------------------------------------- validation

/**
 * Newer api-versions accepted for single operations, validated against the 2022-10-01 operation: the service
 * takes them, and what they add is one field our specs do not have (ARM ignores unknown properties, so the
 * rest of the body is still checked as 2022-10-01). Only where a client needs it:
 *  - OnlineEndpoints_CreateOrUpdate @ 2023-04-01: `properties.mirrorTraffic` (the deploy task's mirror stage;
 *    arm/endpoints.ts validates the field itself: ≤ 50 %, one deployment, not one with live traffic, not on a
 *    Kubernetes endpoint).
 *  - OnlineDeployments_CreateOrUpdate @ 2024-04-01: `properties.dataCollector` (production data collection; validated
 *    against the 2024-04-01 definitions by dataCollection.ts, called from arm/endpoints.ts).
 */
export const NEWER_API_VERSIONS: Record<string, string[]> = {
  OnlineEndpoints_CreateOrUpdate: ['2023-04-01'],
  // a job created with notificationSetting (AzureMLJobWait@1 mode PUT): 2023-04-01-preview mfe.json has
  // Jobs_CreateOrUpdate with JobBase.notificationSetting; arm/jobs.ts validates that member against that spec
  Jobs_CreateOrUpdate: ['2023-04-01-preview'],
  OnlineDeployments_CreateOrUpdate: ['2024-04-01'],
};

/** Validates a request; undefined when no operation in the spec matches method + path. */
export function validateRequest(
  method: string,
  path: string,
  query: URLSearchParams | Record<string, string>,
  body: unknown,
  opts: { rejectUnknownMembers?: boolean } = {},
): ValidationResult | undefined {
  const q = new URLSearchParams(query instanceof URLSearchParams ? query : (query ?? {}));
  const inPath = path.indexOf('?');
  if (inPath >= 0) for (const [k, v] of new URLSearchParams(path.slice(inPath + 1))) if (!q.has(k)) q.set(k, v);
  const apiVersion = getQuery(q, 'api-version');
  const cands = candidates(method, path, apiVersion);
  if (cands.length === 0) return undefined;
  const best = cands.find((c) => c.op.apiVersion === apiVersion) ?? cands[0];
  const { op, params } = best;
  const errors: string[] = [];
  let code: ValidationResult['code'];
  const mark = (c: NonNullable<ValidationResult['code']>, before: number) => {
    if (!code && errors.length > before) code = c;
  };
  for (const p of op.params.filter((x) => x.name === 'api-version')) {
    const v = getQuery(q, p.name);
    if (v === undefined || v === '') {
      errors.push(`The api-version query parameter (?api-version=) is required for all requests.`);
      code = 'MissingApiVersionParameter';
    } else if (!cands.some((c) => c.op.apiVersion === v) && !(NEWER_API_VERSIONS[op.operationId] ?? []).includes(v)) {
      errors.push(
        `The api-version '${v}' is invalid. The supported versions are '${[...new Set(cands.map((c) => c.op.apiVersion))].join("','")}'.`,
      );
      code = 'InvalidApiVersionParameter';
    }
  }
  for (const p of op.params) {
    const before = errors.length;
    if (p.in === 'path') {
      checkScalar(`path parameter '${p.name}'`, p, params[p.name], errors);
      mark('InvalidPathParameter', before);
    } else if (p.in === 'query') {
      if (p.name === 'api-version') continue;
      const v = getQuery(q, p.name);
      if (v === undefined) {
        if (p.required) errors.push(`query parameter '${p.name}': required`);
      } else checkScalar(`query parameter '${p.name}'`, p, v, errors);
      mark('InvalidQueryParameter', before);
    }
  }
  if (op.body) {
    const before = errors.length;
    if (body === undefined || body === null || body === '') {
      if (op.body.required) errors.push(`body: required (${op.body.name})`);
    } else {
      // unknown members are refused only at the spec's own api-version (a newer one may know them: NEWER_API_VERSIONS)
      errors.push(...validateBodyFor(op, body, !!opts.rejectUnknownMembers && apiVersion === op.apiVersion));
    }
    mark('UserError', before);
  }
  const out: ValidationResult = { operationId: op.operationId, errors: dedupe(errors).slice(0, MAX_MESSAGES) };
  if (out.errors.length) out.code = code ?? 'UserError';
  return out;
}

function getQuery(q: URLSearchParams, name: string): string | undefined {
  if (q.has(name)) return q.get(name) ?? undefined;
  const lower = name.toLowerCase();
  for (const [k, v] of q) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function checkScalar(label: string, p: Param, v: string | undefined, errors: string[]): void {
  if (v === undefined) {
    if (p.required) errors.push(`${label}: required`);
    return;
  }
  if (p.type === 'integer' && !/^-?\d+$/.test(v)) errors.push(`${label}: '${v}' is not an integer`);
  if (p.type === 'number' && Number.isNaN(Number(v))) errors.push(`${label}: '${v}' is not a number`);
  if (p.type === 'boolean' && !/^(true|false)$/i.test(v)) errors.push(`${label}: '${v}' is not a boolean`);
  if (p.minLength !== undefined && v.length < p.minLength)
    errors.push(`${label}: must not have fewer than ${p.minLength} characters`);
  if (p.maxLength !== undefined && v.length > p.maxLength)
    errors.push(`${label}: '${v}' must not have more than ${p.maxLength} characters`);
  if (p.pattern && !new RegExp(p.pattern).test(v)) errors.push(`${label}: '${v}' does not match pattern ${p.pattern}`);
  if (p.enum && !p.enum.some((e) => String(e).toLowerCase() === v.toLowerCase()))
    errors.push(`${label}: '${v}' must be one of ${p.enum.join(', ')}`);
  if (p.type === 'integer' && /^-?\d+$/.test(v)) {
    const n = Number(v);
    if (p.minimum !== undefined && n < p.minimum) errors.push(`${label}: must be >= ${p.minimum}`);
    if (p.maximum !== undefined && n > p.maximum) errors.push(`${label}: must be <= ${p.maximum}`);
  }
}

function validatorFor(op: Operation, strict = false): ValidateFunction {
  const cacheKey = `${strict ? 'strict:' : ''}${op.set}:${op.doc}:${op.operationId}:${op.method}:${op.pathTemplate}`;
  let v = compiled.get(cacheKey);
  if (!v) {
    v = (strict ? getStrictAjv(op.set) : loadSet(op.set).ajv).compile(bodySchema(op, strict));
    compiled.set(cacheKey, v);
  }
  return v;
}

function bodySchema(op: Operation, strict: boolean): Json {
  const sch = op.body!.schema ?? {};
  const doc = sch['x-doc'] ?? op.doc;
  if (sch.$ref) {
    const [file, pointer] = String(sch.$ref).split('#');
    const target = file ? sameVersionDoc(loadSet(op.set).converter.docNames, doc, path.basename(file, '.json')) : doc;
    const name = pointer.replace(/^\/definitions\//, '');
    return { $ref: `swagger#/definitions/${enc(`${target}.${name}`)}` };
  }
  // inline body schema (rare): convert with refs pointing into the shared definitions
  return rebase(loadSet(op.set).converter.convertInline(doc, sch, strict));
}

/** Point local `#/definitions/...` refs of an inline schema at the shared `swagger` schema. */
function rebase(s: Json): Json {
  if (Array.isArray(s)) return s.map(rebase);
  if (!s || typeof s !== 'object') return s;
  const out: Json = {};
  for (const [k, v] of Object.entries(s))
    out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `swagger${v}` : rebase(v);
  return out;
}

function validateBodyFor(op: Operation, body: unknown, strict = false): string[] {
  const v = validatorFor(op, strict);
  if (v(body)) return [];
  return formatErrors(v.errors ?? [], body, op.apiVersion);
}

/** ajv errors → "<dotted.path>: <message>" lines, as the service words them. */
function formatErrors(errs: ErrorObject[], body: unknown, apiVersion: string): string[] {
  const out: string[] = [];
  for (const e of errs) {
    // noise from nullable wrappers and discriminator plumbing
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'if') continue;
    if (e.keyword === 'type' && (e.params as { type?: string }).type === 'null') {
      continue;
    }
    let p = pointerToPath(e.instancePath);
    let msg = e.message ?? 'invalid';
    switch (e.keyword) {
      case 'required':
        p = join(p, (e.params as { missingProperty: string }).missingProperty);
        msg = 'required';
        break;
      case 'unevaluatedProperties':
        p = join(p, (e.params as { unevaluatedProperty: string }).unevaluatedProperty);
        msg = `unknown property (not in the ${apiVersion} swagger)`;
        break;
      case 'discriminator': {
        const { tag, tagValue } = e.params as { tag: string; tagValue: unknown };
        if (tagValue === undefined) continue; // the `required` error says it
        p = join(p, tag);
        const values: string[] = (e.params as { values?: string[] }).values ?? [];
        msg =
          typeof tagValue === 'string'
            ? `'${tagValue}' is not supported; must be one of ${values.join(', ')}`
            : 'must be string';
        break;
      }
      case 'enum':
        msg = `${quote(valueAt(body, e.instancePath))}must be one of ${((e.params as { allowedValues?: unknown[] }).allowedValues ?? []).join(', ')}`;
        break;
      case 'type':
        msg = `must be ${(e.params as { type: string | string[] }).type}`.replace(',null', ' or null');
        break;
      case 'pattern':
        msg = `${quote(valueAt(body, e.instancePath))}does not match pattern ${(e.params as { pattern: string }).pattern}`;
        break;
      case 'format':
        msg = `${quote(valueAt(body, e.instancePath))}is not a valid ${(e.params as { format: string }).format}`;
        break;
      default:
        break;
    }
    out.push(`${p || 'body'}: ${msg}`);
  }
  return dedupe(out);
}

function quote(v: unknown): string {
  return typeof v === 'string' ? `'${v.length > 80 ? v.slice(0, 77) + '...' : v}' ` : '';
}

function valueAt(body: unknown, pointer: string): unknown {
  let cur: Json = body;
  for (const seg of pointer.split('/').slice(1)) {
    if (cur == null || typeof cur !== 'object') return undefined;
    cur = cur[seg.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}

function pointerToPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out = /^\d+$/.test(seg) ? `${out}[${seg}]` : join(out, seg);
  }
  return out;
}

function join(base: string, seg: string): string {
  const s = /^[A-Za-z_$][\w$-]*$/.test(seg) ? seg : `['${seg}']`;
  return !base ? (s.startsWith('[') ? s : s) : s.startsWith('[') ? base + s : `${base}.${s}`;
}

function dedupe(a: string[]): string[] {
  return [...new Set(a)];
}

// ---------------------------------------------------------------------------------------------- helpers for tests

export interface BodyCheckOptions {
  /** Also report properties the swagger does not define (the service ignores them; a translator should not send them). */
  noUnknownProperties?: boolean;
  /** the api-version whose operation to check against (default: 2022-10-01, the first file holding the operation) */
  apiVersion?: string;
}

function operationById(operationId: string, apiVersion?: string): Operation | undefined {
  if (!apiVersion) return loadSpec().byId.get(operationId);
  return setsFor(apiVersion)
    .flatMap((x) => x.operations)
    .find((o) => o.operationId === operationId && o.apiVersion === apiVersion);
}

/** Validates a request body against an operation's body schema, by operationId. Unknown operationId → throws. */
export function validateBody(operationId: string, body: unknown, opts: BodyCheckOptions = {}): string[] {
  const op = operationById(operationId, opts.apiVersion);
  if (!op)
    throw new Error(
      `swagger: no operation '${operationId}'${opts.apiVersion ? ` at api-version ${opts.apiVersion}` : ''}`,
    );
  if (!op.body) throw new Error(`swagger: operation '${operationId}' takes no body`);
  if (body === undefined || body === null) return op.body.required ? ['body: required'] : [];
  return validateBodyFor(op, body, opts.noUnknownProperties).slice(0, MAX_MESSAGES);
}

/** Throws (with every message) when `body` is not a valid request body for `operationId`. */
export function assertValidBody(operationId: string, body: unknown, opts: BodyCheckOptions = {}): void {
  const errors = validateBody(operationId, body, opts);
  if (errors.length)
    throw new Error(
      `${operationId}: request body rejected by the ${opts.apiVersion ?? '2022-10-01'} swagger:\n  ${errors.join('\n  ')}`,
    );
}

/** Operation ids that take a request body (for tests that compile them all). */
export function bodyOperationIds(doc?: string): string[] {
  return loadSpec()
    .operations.filter((o) => o.body && (!doc || o.doc === doc))
    .map((o) => o.operationId);
}

/** Forces compilation of an operation's body validator (throws if the schema does not compile). */
export function compileOperation(operationId: string, opts: BodyCheckOptions = {}): void {
  const op = loadSpec().byId.get(operationId);
  if (!op) throw new Error(`swagger: no operation '${operationId}'`);
  if (op.body) validatorFor(op, opts.noUnknownProperties);
}

/**
 * Compiles every operation's body validator and every subtype a discriminator can dispatch to (those are
 * otherwise compiled on first use); returns the number of subtypes. For tests: proves everything a request
 * can reach compiles.
 */
export function compileAllDefinitions(opts: BodyCheckOptions = {}): number {
  const s = loadSpec();
  const ajv = opts.noUnknownProperties ? getStrictAjv() : s.ajv;
  const targets = new Set<string>();
  for (const d of Object.values<Json>(s.definitions))
    for (const t of Object.values<string>(d['x-dispatch']?.map ?? {})) targets.add(t);
  for (const op of s.operations) if (op.body) validatorFor(op, opts.noUnknownProperties);
  for (const t of targets) if (!ajv.getSchema(t)) throw new Error(`swagger: ${t} did not compile`);
  return targets.size;
}
