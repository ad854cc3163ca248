// Spark jobs (`type: spark`), Spark components and Spark pipeline steps of `az ml` YAML → Azure ML 2024-04-01 bodies,
// converted as azure-ai-ml converts them. Sources (azure-ai-ml 1.4.0, Debian python3-azure 20230112+git-1, the same
// files in Azure/azure-sdk-for-python at 0a73ffec50c57aa7b2c0a7562a7415a65977d656 under sdk/ml/azure-ai-ml/azure/ai/ml/):
//   _schema/job/parameterized_spark.py  entry (file | class_name), py_files/jars/files/archives (lists, no duplicates),
//                                       conf, args; CONF_KEY_MAP: the eight conf keys "promoted" to typed fields
//                                       (driver_cores Int, driver_memory ^\d+[kKmMgGtTpP]$, … dynamic_allocation_* );
//   entities/_job/spark_job.py          SparkJob._to_rest_object: conf = {other keys…, spark.driver.cores,
//                                       spark.driver.memory, spark.executor.cores, spark.executor.memory,
//                                       [spark.dynamicAllocation.enabled/minExecutors/maxExecutors], [spark.executor.instances]},
//                                       codeId, entry, pyFiles, jars, files, archives, identity, environmentId, args,
//                                       computeId, resources; executor_instances defaults to minExecutors when dynamic
//                                       allocation is on (SparkJob.__init__); conf values go through msrest's `{str}`
//                                       serializer, i.e. Python str(): 1 → "1", True → "True" (seen in its output);
//   entities/_job/spark_helpers.py      the checks: compute xor resources; asset inputs/outputs only in mode direct;
//                                       the conf fields each allocation mode requires;
//   entities/_builders/spark.py         a Spark pipeline node: componentId, identity (none given: Managed when the step
//                                       names a compute, UserIdentity when it has resources), resources, entry (with
//                                       spark_job_entry_type), and the picked fields type, py_files, jars, files,
//                                       archives, conf, args — snake_case, conf values as loaded (not stringified).
// Spec: test/fixtures/third-party/azure-rest-api-specs/2024-04-01/mfe.json SparkJob (codeId and entry required),
// SparkJobPythonEntry/SparkJobScalaEntry, SparkResourceConfiguration (instanceType, runtimeVersion).
// Not followed: azure-ai-ml 1.4.0's SparkResourceConfiguration._validate (instance types standard_e4s…e64s_v3, runtime
// 3.1 or 3.2 only) — it predates runtime 3.3/3.4, which Microsoft's current examples use; the service decides.
import {
  checkKeys,
  describe,
  expectMap,
  isPlainObject,
  optInt,
  optMap,
  optString,
  pyStr,
  reqString,
  SpecError,
  type KeyPath,
  type Ref,
  type YamlSource,
  snake,
  stripUndef,
} from './yamlSpec';
import type { EnvironmentSpec, InputSpec, OutputSpec } from './jobSpec';

/** the conf keys azure-ai-ml promotes to typed fields (parameterized_spark.py CONF_KEY_MAP), in its order */
const CONF_KEY_MAP: ReadonlyArray<[string, string, 'int' | 'memory' | 'bool']> = [
  ['driver_cores', 'spark.driver.cores', 'int'],
  ['driver_memory', 'spark.driver.memory', 'memory'],
  ['executor_cores', 'spark.executor.cores', 'int'],
  ['executor_memory', 'spark.executor.memory', 'memory'],
  ['executor_instances', 'spark.executor.instances', 'int'],
  ['dynamic_allocation_enabled', 'spark.dynamicAllocation.enabled', 'bool'],
  ['dynamic_allocation_min_executors', 'spark.dynamicAllocation.minExecutors', 'int'],
  ['dynamic_allocation_max_executors', 'spark.dynamicAllocation.maxExecutors', 'int'],
];

export interface SparkConf {
  /** conf keys azure-ai-ml does not promote, as written (YAML values), in file order */
  other: Record<string, unknown>;
  /** Python str() of each `other` value, for the standalone job's `{str}` conf */
  otherText: Record<string, string | null>;
  /** promoted fields by conf key (spark.driver.cores …), typed */
  promoted: Record<string, number | string | boolean>;
}

/** What a Spark job, a Spark component and an inline Spark step share. */
export interface SparkPart {
  code?: Ref;
  entry: { file: string } | { className: string };
  pyFiles?: string[];
  jars?: string[];
  files?: string[];
  archives?: string[];
  conf: SparkConf;
  args?: string;
  environment?: EnvironmentSpec;
}

export const SPARK_PART_KEYS = [
  'code',
  'entry',
  'py_files',
  'jars',
  'files',
  'archives',
  'conf',
  'args',
  'environment',
];

export interface SparkParsers {
  parseCode(src: YamlSource, p: KeyPath, v: unknown): Ref | undefined;
  parseEnvironment(src: YamlSource, p: KeyPath, v: unknown): EnvironmentSpec;
}

function stringList(src: YamlSource, p: KeyPath, v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw src.error(p, `expected a list of file names, got ${describe(v)}`);
  const out = v.map((x, i) => reqString(src, [...p, i], x, 'a file name'));
  const dup = out.find((x, i) => out.indexOf(x) !== i);
  // parameterized_spark.py no_duplicates: "<name> must not contain duplicate entries."
  if (dup !== undefined) throw src.error(p, `must not contain duplicate entries ('${dup}' is listed twice)`);
  return out;
}

function parseConf(src: YamlSource, p: KeyPath, v: unknown): SparkConf {
  const m = optMap(src, p, v) ?? {};
  const conf: SparkConf = { other: {}, otherText: {}, promoted: {} };
  for (const [k, val] of Object.entries(m)) {
    const kp = [...p, k];
    const known = CONF_KEY_MAP.find((c) => c[1] === k);
    if (!known || val === null || val === undefined) {
      if (isPlainObject(val) || Array.isArray(val)) throw src.error(kp, `expected a value, got ${describe(val)}`);
      conf.other[k] = val ?? null;
      conf.otherText[k] =
        val === null || val === undefined
          ? null
          : typeof val === 'string'
            ? val
            : pyStr(val as number | boolean, src.scalarSource(kp));
      continue;
    }
    if (known[2] === 'int') {
      // marshmallow fields.Int takes integers and integer text
      const n = typeof val === 'string' && /^\s*-?\d+\s*$/.test(val) ? Number(val) : val;
      conf.promoted[k] = optInt(src, kp, n)!;
    } else if (known[2] === 'memory') {
      const s = typeof val === 'string' ? val : String(val);
      if (!/^\d+[kKmMgGtTpP]$/.test(s)) throw src.error(kp, `expected a size such as 2g or 512m, got ${describe(val)}`);
      conf.promoted[k] = s;
    } else {
      // marshmallow fields.Bool truthy/falsy spellings
      const t = String(val).toLowerCase();
      if (['true', '1', 'yes', 'on', 'y', 't'].includes(t)) conf.promoted[k] = true;
      else if (['false', '0', 'no', 'off', 'n', 'f'].includes(t)) conf.promoted[k] = false;
      else throw src.error(kp, `expected true or false, got ${describe(val)}`);
    }
  }
  return conf;
}

/** spark_helpers._validate_spark_configurations, with its conditions. */
function checkConf(src: YamlSource, p: KeyPath, c: SparkConf): void {
  const g = (k: string) => c.promoted[k];
  const dyn = g('spark.dynamicAllocation.enabled') === true;
  const base = ['spark.driver.cores', 'spark.driver.memory', 'spark.executor.cores', 'spark.executor.memory'];
  if (dyn) {
    const missing = base.filter((k) => g(k) === undefined);
    if (missing.length) throw src.error(p, `${missing.join(', ')} must be set (${base.join(', ')} are mandatory)`);
    const min = g('spark.dynamicAllocation.minExecutors') as number | undefined;
    const max = g('spark.dynamicAllocation.maxExecutors') as number | undefined;
    if (min === undefined || max === undefined)
      throw src.error(
        p,
        'spark.dynamicAllocation.minExecutors and spark.dynamicAllocation.maxExecutors are required when dynamic allocation is enabled',
      );
    if (!(min > 0 && min <= max))
      throw src.error(p, 'spark.dynamicAllocation.minExecutors must be above 0 and at most maxExecutors');
    const inst = g('spark.executor.instances') as number | undefined;
    if (inst !== undefined && (inst < min || inst > max))
      throw src.error(
        p,
        'spark.executor.instances must be between spark.dynamicAllocation.minExecutors and spark.dynamicAllocation.maxExecutors',
      );
  } else {
    const need = [...base, 'spark.executor.instances'];
    const missing = need.filter((k) => g(k) === undefined);
    if (missing.length) throw src.error(p, `${missing.join(', ')} must be set (${need.join(', ')} are mandatory)`);
    if (
      g('spark.dynamicAllocation.minExecutors') !== undefined ||
      g('spark.dynamicAllocation.maxExecutors') !== undefined
    )
      throw src.error(p, 'do not set min or max executors when dynamic allocation is disabled');
  }
}

/** The Spark part of a job, component or inline step (`entry`, `code`, files, `conf`, `args`, `environment`). */
export function parseSparkPart(
  src: YamlSource,
  p: KeyPath,
  m: Record<string, unknown>,
  what: string,
  parsers: SparkParsers,
  opts: { requireConf: boolean },
): SparkPart {
  if (m.entry === undefined || m.entry === null)
    throw src.error([...p, 'entry'], `${what} needs an 'entry' (file: <python file> or class_name: <class>)`);
  const e = expectMap(src, [...p, 'entry'], m.entry);
  checkKeys(src, [...p, 'entry'], e, ['file', 'class_name'], 'a spark entry');
  let entry: SparkPart['entry'];
  if (e.file !== undefined && e.class_name !== undefined)
    throw src.error([...p, 'entry'], "give either 'file' or 'class_name', not both");
  if (e.file !== undefined) entry = { file: reqString(src, [...p, 'entry', 'file'], e.file, 'entry.file') };
  else if (e.class_name !== undefined)
    entry = { className: reqString(src, [...p, 'entry', 'class_name'], e.class_name, 'entry.class_name') };
  else throw src.error([...p, 'entry'], "a spark entry needs 'file' or 'class_name'");
  const conf = parseConf(src, [...p, 'conf'], m.conf);
  if (opts.requireConf) checkConf(src, [...p, 'conf'], conf);
  return {
    code: parsers.parseCode(src, [...p, 'code'], m.code),
    entry,
    pyFiles: stringList(src, [...p, 'py_files'], m.py_files),
    jars: stringList(src, [...p, 'jars'], m.jars),
    files: stringList(src, [...p, 'files'], m.files),
    archives: stringList(src, [...p, 'archives'], m.archives),
    conf,
    args: optString(src, [...p, 'args'], m.args),
    environment:
      m.environment === undefined || m.environment === null
        ? undefined
        : parsers.parseEnvironment(src, [...p, 'environment'], m.environment),
  };
}

/** `resources: {instance_type, runtime_version}` of a serverless Spark job or step (REST shape). */
export function parseSparkResources(src: YamlSource, p: KeyPath, v: unknown): Record<string, string> | undefined {
  const m = optMap(src, p, v);
  if (!m) return undefined;
  checkKeys(src, p, m, ['instance_type', 'runtime_version'], 'spark resources');
  const instanceType = reqString(src, [...p, 'instance_type'], m.instance_type, 'resources.instance_type');
  const rv = m.runtime_version;
  const out: Record<string, string> = { instanceType };
  if (rv !== undefined && rv !== null) {
    if (typeof rv !== 'string' && typeof rv !== 'number')
      throw src.error([...p, 'runtime_version'], `expected a version such as "3.4", got ${describe(rv)}`);
    out.runtimeVersion = typeof rv === 'string' ? rv : pyStr(rv, src.scalarSource([...p, 'runtime_version']));
  }
  return out;
}

/** spark_helpers._validate_input_output_mode: Spark reads and writes data through its URI only (mode direct). */
export function checkDirectModes(inputs: Record<string, InputSpec>, outputs: Record<string, OutputSpec>): void {
  for (const [k, i] of Object.entries(inputs))
    if (i.kind === 'asset' && i.mode !== 'Direct')
      throw new SpecError(
        `${i.at}: input '${k}' is using mode '${i.modeText ?? 'none'}': only 'direct' is supported for Spark`,
      );
  for (const [k, o] of Object.entries(outputs))
    if (o.kind === 'asset' && o.mode !== 'Direct')
      throw new SpecError(
        `${o.at}: output '${k}' is using mode '${o.modeText ?? 'none'}': only 'direct' is supported for Spark`,
      );
}

const ENTRY_TYPE = (e: SparkPart['entry']) => ('file' in e ? 'SparkJobPythonEntry' : 'SparkJobScalaEntry');

/** executor instances as SparkJob.__init__ sets them: minExecutors when dynamic allocation is on and none given */
function promotedWithDefaults(c: SparkConf): Record<string, number | string | boolean> {
  const p = { ...c.promoted };
  if (p['spark.executor.instances'] === undefined && p['spark.dynamicAllocation.enabled'] === true)
    p['spark.executor.instances'] = p['spark.dynamicAllocation.minExecutors'];
  return p;
}

/**
 * The identity a Spark job or step is sent with: the one given, else (entities/_builders/spark.py Spark.identity, which
 * a standalone `type: spark` YAML goes through too: entities/_job/job.py loads it as a Spark node, then `_to_job`)
 * managed identity on an attached pool (`compute`), the user's identity on serverless Spark (`resources`).
 */
export function sparkIdentity(
  given: Record<string, unknown> | undefined,
  compute: string | undefined,
  resources: Record<string, string> | undefined,
): Record<string, unknown> | undefined {
  if (given) return given;
  if (compute !== undefined) return { identityType: 'Managed' };
  return resources ? { identityType: 'UserIdentity' } : undefined;
}

/** The standalone job's `conf` (REST SparkJob.conf, values as Python str()) in SparkJob._to_rest_object's order. */
export function restSparkConf(c: SparkConf): Record<string, string | null> {
  const p = promotedWithDefaults(c);
  const s = (v: unknown) => (v === undefined ? null : typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v));
  const out: Record<string, string | null> = { ...c.otherText };
  for (const k of ['spark.driver.cores', 'spark.driver.memory', 'spark.executor.cores', 'spark.executor.memory'])
    out[k] = s(p[k]);
  if (p['spark.dynamicAllocation.enabled'] === true) {
    out['spark.dynamicAllocation.enabled'] = 'True';
    out['spark.dynamicAllocation.minExecutors'] = s(p['spark.dynamicAllocation.minExecutors']);
    out['spark.dynamicAllocation.maxExecutors'] = s(p['spark.dynamicAllocation.maxExecutors']);
  }
  if (p['spark.executor.instances'] !== undefined) out['spark.executor.instances'] = s(p['spark.executor.instances']);
  for (const k of Object.keys(out)) if (out[k] === null) delete out[k];
  return out;
}

/** `conf` as a component or a node carries it (SparkConfSchema dump: other keys, then the promoted ones, typed). */
export function yamlSparkConf(c: SparkConf, forNode: boolean): Record<string, unknown> | undefined {
  const p = forNode ? promotedWithDefaults(c) : c.promoted;
  const out: Record<string, unknown> = { ...c.other };
  for (const [, k] of CONF_KEY_MAP) if (p[k] !== undefined) out[k] = p[k];
  return Object.keys(out).length ? out : undefined;
}

/** The standalone SparkJob properties that are Spark's own (common job fields, inputs and outputs are added by the caller). */
export function restSparkProps(
  part: SparkPart,
  resolved: { codeId: string; environmentId?: string },
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    codeId: resolved.codeId,
    entry:
      'file' in part.entry
        ? { sparkJobEntryType: 'SparkJobPythonEntry', file: part.entry.file }
        : { sparkJobEntryType: 'SparkJobScalaEntry', className: part.entry.className },
  };
  if (part.pyFiles) out.pyFiles = part.pyFiles;
  if (part.jars) out.jars = part.jars;
  if (part.files) out.files = part.files;
  if (part.archives) out.archives = part.archives;
  out.conf = restSparkConf(part.conf);
  if (resolved.environmentId) out.environmentId = resolved.environmentId;
  if (part.args !== undefined) out.args = part.args;
  return out;
}

/** componentSpec fields of a Spark component (YAML shape; code/environment resolved by the caller). */
export function sparkComponentFields(part: SparkPart): Record<string, unknown> {
  const out: Record<string, unknown> = {
    entry: 'file' in part.entry ? { file: part.entry.file } : { class_name: part.entry.className },
  };
  if (part.pyFiles) out.py_files = part.pyFiles;
  if (part.jars) out.jars = part.jars;
  if (part.files) out.files = part.files;
  if (part.archives) out.archives = part.archives;
  if (part.args !== undefined) out.args = part.args;
  const conf = yamlSparkConf(part.conf, false);
  if (conf) out.conf = conf;
  return out;
}

/**
 * A Spark node's own fields (entities/_builders/spark.py Spark._to_rest_object): entry, picked fields, identity and
 * resources in snake_case. `part` is the component's Spark part when known (an inline or file component), `compute`
 * the step's own compute.
 */
export function sparkNodeFields(
  part: SparkPart | undefined,
  node: { compute?: string; identity?: Record<string, unknown>; resources?: Record<string, string> },
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (part) {
    if (part.args !== undefined) out.args = part.args;
    const conf = yamlSparkConf(part.conf, true);
    if (conf) out.conf = conf;
    out.entry =
      'file' in part.entry
        ? { file: part.entry.file, spark_job_entry_type: ENTRY_TYPE(part.entry) }
        : { class_name: part.entry.className, spark_job_entry_type: ENTRY_TYPE(part.entry) };
    if (part.pyFiles) out.py_files = part.pyFiles;
    if (part.jars) out.jars = part.jars;
    if (part.files) out.files = part.files;
    if (part.archives) out.archives = part.archives;
  }
  const identity = sparkIdentity(node.identity, node.compute, node.resources);
  if (identity) out.identity = snake(identity);
  if (node.resources)
    out.resources = stripUndef({
      instance_type: node.resources.instanceType,
      runtime_version: node.resources.runtimeVersion,
    });
  return out;
}
