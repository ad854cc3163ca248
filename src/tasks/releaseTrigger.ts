// AzureMLReleaseTrigger@1: start a classic release (model artifact pinned to a version) or a YAML pipeline run
// (template parameters) for new model versions — the continuous-deployment trigger Azure DevOps does not offer for
// third-party artifact types. Push: one given version. Reconcile: every version registered since the newest version
// that already has a release/run (asked of Azure DevOps, no private state). Idempotent: a version that already has
// a release (or a run with the same parameters) is skipped.
import { InputError, type PipelineContext } from '../pipeline';
import { ASSET_NAME_PATTERN, VERSION_PATTERN, type ModelVersion } from '../azureml';
import type { CreatedItem } from '../devops/releases';

export const MODES = ['push', 'reconcile'] as const;
export const TARGETS = ['release', 'pipeline'] as const;
export const FIRST_RUN = ['newest', 'all'] as const;
export type Mode = (typeof MODES)[number];
export type TargetKind = (typeof TARGETS)[number];
export type FirstRun = (typeof FIRST_RUN)[number];

export interface TriggerInputs {
  mode: Mode;
  target: TargetKind;
  modelName: string;
  /** push: the version (blank in reconcile) */
  modelVersion?: string;
  releaseDefinition?: string;
  artifactAlias?: string;
  pipeline?: string;
  /** name=value lines; values may use {modelName}, {modelVersion}, {modelId} */
  templateParameters: Record<string, string>;
  /** tag filter: name=value (value '*' or empty = tag present) */
  tagFilter: Record<string, string>;
  onlyNewest: boolean;
  /** reconcile, when no version has a release/run yet: start only the newest matching version, or every matching one (of the newest maxVersions) */
  firstRun?: FirstRun;
  /** reconcile: how many of the newest versions to look at */
  maxVersions: number;
  description?: string;
}

export const DEFAULT_TEMPLATE_PARAMETERS = { modelName: '{modelName}', modelVersion: '{modelVersion}' };

/** Every check that needs no network. */
export function validateTriggerInputs(i: TriggerInputs): void {
  if (!ASSET_NAME_PATTERN.test(i.modelName ?? ''))
    throw new InputError(
      'modelName',
      `'${i.modelName ?? ''}' is not a valid model name (1-255 letters, digits, '-' or '_', starting with a letter or digit)`,
    );
  if (i.mode === 'push') {
    if (!i.modelVersion)
      throw new InputError(
        'modelVersion',
        "is required in push mode (e.g. $(register.modelVersion), the register task's output)",
      );
    if (/^\$\(.+\)$/.test(i.modelVersion))
      throw new InputError(
        'modelVersion',
        `'${i.modelVersion}' is an unexpanded variable: the step that sets it did not run or has another name (reference it as $(<step name>.modelVersion))`,
      );
    if (!VERSION_PATTERN.test(i.modelVersion))
      throw new InputError('modelVersion', `'${i.modelVersion}' is not a valid model version`);
  } else if (i.modelVersion) {
    throw new InputError(
      'modelVersion',
      'is only used in push mode; reconcile finds the versions itself (leave it empty)',
    );
  }
  if (i.target === 'release') {
    if (!i.releaseDefinition?.trim())
      throw new InputError(
        'releaseDefinition',
        'is required when the target is a release (name or id of the release pipeline)',
      );
  } else {
    if (!i.pipeline?.trim())
      throw new InputError(
        'pipeline',
        'is required when the target is a pipeline run (name or id of the YAML pipeline)',
      );
    if (!Object.keys(i.templateParameters).length)
      throw new InputError('templateParameters', 'needs at least one parameter (e.g. modelVersion={modelVersion})');
    for (const [k, v] of Object.entries(i.templateParameters)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
        throw new InputError('templateParameters', `'${k}' is not a valid parameter name`);
      const bad = /\{(?!modelName\}|modelVersion\}|modelId\})([^}]*)\}/.exec(v);
      if (bad)
        throw new InputError(
          'templateParameters',
          `unknown placeholder '{${bad[1]}}' in '${k}' (use {modelName}, {modelVersion} or {modelId})`,
        );
    }
  }
  for (const k of Object.keys(i.tagFilter)) if (!k.trim()) throw new InputError('tagFilter', 'empty tag name');
  if (i.firstRun !== undefined && !FIRST_RUN.includes(i.firstRun))
    throw new InputError('firstRun', `'${i.firstRun}' is not one of: ${FIRST_RUN.join(', ')}`);
  if (!Number.isInteger(i.maxVersions) || i.maxVersions < 1 || i.maxVersions > 1000)
    throw new InputError('maxVersions', 'must be between 1 and 1000');
  if ((i.description ?? '').length > 2000) throw new InputError('description', 'is longer than 2000 characters');
}

/** {modelId}: azureml:<name>:<version>, or azureml://registries/<registry>/models/<name>/versions/<version> for a registry model */
export function expandParameters(
  tp: Record<string, string>,
  model: string,
  version: string,
  registry?: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  const id = registry
    ? `azureml://registries/${registry}/models/${model}/versions/${version}`
    : `azureml:${model}:${version}`;
  for (const [k, v] of Object.entries(tp))
    out[k] = v
      .replace(/\{modelName\}/g, model)
      .replace(/\{modelVersion\}/g, version)
      .replace(/\{modelId\}/g, id);
  return out;
}

export function matchesTags(tags: Record<string, string> | undefined, filter: Record<string, string>): boolean {
  const t = tags ?? {};
  return Object.entries(filter).every(([k, v]) => (v === '' || v === '*' ? k in t : t[k] === v));
}

// ------------------------------------------------------------------------------------------------ planning (pure)
export interface VersionInfo {
  version: string;
  createdAt: number;
  tags: Record<string, string>;
  archived?: boolean;
  createdBy?: string;
}

export function versionInfo(v: ModelVersion): VersionInfo {
  const created = v.systemData?.createdAt ? new Date(v.systemData.createdAt as unknown as string).getTime() : 0;
  return {
    version: v.name ?? '',
    createdAt: created,
    tags: (v.properties?.tags as Record<string, string>) ?? {},
    archived: !!v.properties?.isArchived,
    createdBy: v.systemData?.createdBy,
  };
}

/** newest first: creation time, then numeric version */
export function newestFirst(vs: VersionInfo[]): VersionInfo[] {
  const num = (s: string) => (/^[0-9]+$/.test(s) ? Number(s) : -1);
  return [...vs].sort(
    (a, b) => b.createdAt - a.createdAt || num(b.version) - num(a.version) || b.version.localeCompare(a.version),
  );
}

export interface ReconcilePlan {
  /** versions to release, oldest first */
  create: VersionInfo[];
  /** newest version that already has a release/run (the anchor), if any */
  anchor?: string;
  /** versions newer than the anchor left out by the tag filter / archive / onlyNewest */
  filteredOut: string[];
  /** no version has a release yet (first run): only the newest matching version is released unless firstRun is 'all' */
  bootstrap: boolean;
}

/**
 * Walk versions newest → oldest asking `existing(version)` until one already has a release (the anchor). Every newer
 * version that matches the tag filter and is not archived gets one (or just the newest with onlyNewest). With no anchor
 * at all (first run), only the newest matching version is released, so enabling the schedule does not replay history
 * (firstRun 'all': every matching version among those listed, oldest first).
 */
export async function planReconcile(
  versions: VersionInfo[],
  existing: (v: string) => Promise<boolean>,
  o: { tagFilter: Record<string, string>; onlyNewest: boolean; firstRun?: FirstRun },
): Promise<ReconcilePlan> {
  const sorted = newestFirst(versions);
  const candidates: VersionInfo[] = [];
  const filteredOut: string[] = [];
  let anchor: string | undefined;
  for (const v of sorted) {
    if (await existing(v.version)) {
      anchor = v.version;
      break;
    }
    if (v.archived || !matchesTags(v.tags, o.tagFilter)) filteredOut.push(v.version);
    else candidates.push(v);
  }
  let create = candidates;
  const bootstrap = anchor === undefined && candidates.length > 0;
  if ((bootstrap && (o.firstRun ?? 'newest') === 'newest') || o.onlyNewest) {
    create = candidates.slice(0, 1);
    filteredOut.push(...candidates.slice(1).map((v) => v.version));
  }
  return { create: [...create].reverse(), anchor, filteredOut, bootstrap };
}

// ------------------------------------------------------------------------------------------------ run
export interface TriggerTarget {
  kind: TargetKind;
  /** 'release pipeline model-cd' / 'pipeline model-cd-yaml' */
  label: string;
  /** releases/runs that already exist for this version */
  existing(version: string): Promise<CreatedItem[]>;
  create(version: string, description: string): Promise<CreatedItem>;
}

export interface TriggerDeps {
  /** model versions (newest first, at most maxVersions) */
  listVersions(model: string, max: number): Promise<VersionInfo[]>;
  getVersion(model: string, version: string): Promise<VersionInfo | undefined>;
  /** resolves the definition/pipeline (validates releaseDefinition/artifactAlias/pipeline: InputError) */
  target(): Promise<TriggerTarget>;
  /** where the versions live, for messages: "the workspace" (default) or "registry 'shared'" */
  scope?: string;
  /** a registry: a model without versions is an error (a misspelled name), not "nothing to do" */
  strict?: boolean;
  context: PipelineContext;
  log: { info(m: string): void; warning(m: string): void };
}

export interface TriggerResult {
  created: CreatedItem[];
  skipped: Array<{ version: string; why: string; existing?: CreatedItem }>;
  target: string;
}

export function describeFor(i: TriggerInputs, v: VersionInfo, ctx: PipelineContext): string {
  if (i.description?.trim())
    return i.description
      .trim()
      .replace(/\{modelName\}/g, i.modelName)
      .replace(/\{modelVersion\}/g, v.version);
  const who = ctx.definitionName
    ? `${ctx.definitionName}${ctx.buildNumber ? ` #${ctx.buildNumber}` : ''}${ctx.buildUrl ? ` (${ctx.buildUrl})` : ''}`
    : undefined;
  if (i.mode === 'push')
    return `Azure ML model ${i.modelName}:${v.version}, registered by build ${who ?? '(unknown build)'}`;
  const by = v.tags['azdo.buildUrl']
    ? `build ${v.tags['azdo.pipeline'] ?? ''} ${v.tags['azdo.buildUrl']}`.replace(/\s+/g, ' ')
    : v.createdBy
      ? v.createdBy
      : 'outside Azure Pipelines';
  return `Azure ML model ${i.modelName}:${v.version} (registered by ${by}${v.createdAt ? ` on ${new Date(v.createdAt).toISOString()}` : ''}); release started by the reconcile schedule ${who ?? ''}`.trim();
}

export async function runTrigger(i: TriggerInputs, deps: TriggerDeps): Promise<TriggerResult> {
  validateTriggerInputs(i);
  const { log } = deps;
  const result: TriggerResult = { created: [], skipped: [], target: '' };

  if (i.mode === 'push') {
    // reads first: the version exists, the target resolves, then the one write
    const v = await deps.getVersion(i.modelName, i.modelVersion!);
    if (!v)
      throw new InputError(
        'modelVersion',
        `model '${i.modelName}' has no version ${i.modelVersion} in ${deps.scope ?? 'the workspace'}`,
      );
    const target = await deps.target();
    result.target = target.label;
    if (!matchesTags(v.tags, i.tagFilter)) {
      log.info(`Version ${v.version} does not match the tag filter ${fmtFilter(i.tagFilter)}: nothing started.`);
      result.skipped.push({ version: v.version, why: 'tag filter' });
      return result;
    }
    const have = await target.existing(v.version);
    if (have.length) {
      log.info(
        `${i.modelName}:${v.version} already has ${target.kind === 'release' ? 'release' : 'run'} ${have[0].name} (id ${have[0].id}) of ${target.label}: nothing new started.`,
      );
      result.skipped.push({ version: v.version, why: 'already started', existing: have[0] });
      return result;
    }
    const c = await target.create(v.version, describeFor(i, v, deps.context));
    log.info(
      `Started ${target.kind === 'release' ? 'release' : 'run'} ${c.name} (id ${c.id}) of ${target.label} for ${i.modelName}:${v.version}${c.webUrl ? `: ${c.webUrl}` : ''}`,
    );
    if (c.warning) log.warning(c.warning);
    result.created.push(c);
    return result;
  }

  // reconcile
  const target = await deps.target();
  result.target = target.label;
  const versions = await deps.listVersions(i.modelName, i.maxVersions);
  if (!versions.length) {
    if (deps.strict) throw new InputError('modelName', `model '${i.modelName}' was not found in ${deps.scope}`);
    log.info(`Model '${i.modelName}' has no versions: nothing to do.`);
    return result;
  }
  const seen = new Map<string, CreatedItem[]>();
  const plan = await planReconcile(
    versions,
    async (ver) => {
      const have = await target.existing(ver);
      seen.set(ver, have);
      return have.length > 0;
    },
    { tagFilter: i.tagFilter, onlyNewest: i.onlyNewest, firstRun: i.firstRun },
  );
  if (plan.anchor) {
    const a = seen.get(plan.anchor)?.[0];
    log.info(
      `Newest version with a ${target.kind === 'release' ? 'release' : 'run'} of ${target.label}: ${plan.anchor}${a ? ` (${a.name})` : ''}.`,
    );
  } else {
    const start = !plan.create.length
      ? ''
      : i.onlyNewest || (i.firstRun ?? 'newest') === 'newest'
        ? `: starting with the newest matching version only (${plan.create[plan.create.length - 1].version})`
        : `: starting every matching version of the newest ${versions.length} (firstRun: all): ${plan.create.map((v) => v.version).join(', ')}`;
    log.info(
      `No version of '${i.modelName}' has a ${target.kind === 'release' ? 'release' : 'run'} of ${target.label} yet${start}.`,
    );
  }
  for (const v of plan.filteredOut) result.skipped.push({ version: v, why: 'filtered' });
  const newestOnly = i.onlyNewest || (plan.bootstrap && (i.firstRun ?? 'newest') === 'newest');
  if (plan.filteredOut.length)
    log.info(
      `Left out: ${plan.filteredOut.join(', ')} (tag filter ${fmtFilter(i.tagFilter)}, archived${newestOnly ? ', only the newest' : ''}).`,
    );
  if (!plan.create.length) log.info('Every new version already has one: nothing new started.');
  for (const v of plan.create) {
    const c = await target.create(v.version, describeFor(i, v, deps.context));
    log.info(
      `Started ${target.kind === 'release' ? 'release' : 'run'} ${c.name} (id ${c.id}) of ${target.label} for ${i.modelName}:${v.version}${c.webUrl ? `: ${c.webUrl}` : ''}`,
    );
    if (c.warning) log.warning(c.warning);
    result.created.push(c);
  }
  return result;
}

function fmtFilter(f: Record<string, string>): string {
  const s = Object.entries(f)
    .map(([k, v]) => (v === '' || v === '*' ? k : `${k}=${v}`))
    .join(', ');
  return s ? `'${s}'` : '(none)';
}

/** Markdown for the summary tab. */
export function triggerSummary(i: TriggerInputs, r: TriggerResult): string {
  const esc = (s: string) => s.replace(/[|`*_<>[\]]/g, (c) => `\\${c}`);
  const what = r.target.startsWith('release') ? 'Release' : 'Run';
  const lines = [
    `### Azure ML model ${esc(i.modelName)}: ${i.mode === 'push' ? `push of version ${esc(i.modelVersion ?? '')}` : 'reconcile'} → ${esc(r.target)}`,
    '',
  ];
  if (!r.created.length && !r.skipped.length) lines.push('Nothing to do.');
  if (r.created.length || r.skipped.some((s) => s.existing)) {
    lines.push(`| Version | ${what} | |`, '|---|---|---|');
    for (const c of r.created)
      lines.push(`| ${esc(c.version)} | ${c.webUrl ? `[${esc(c.name)}](${c.webUrl})` : esc(c.name)} | started |`);
    for (const s of r.skipped)
      if (s.existing)
        lines.push(
          `| ${esc(s.version)} | ${s.existing.webUrl ? `[${esc(s.existing.name)}](${s.existing.webUrl})` : esc(s.existing.name)} | already existed |`,
        );
  }
  const filtered = r.skipped.filter((s) => !s.existing).map((s) => s.version);
  if (filtered.length)
    lines.push('', `Left out (tag filter / archived / only newest): ${filtered.map(esc).join(', ')}`);
  return lines.join('\n') + '\n';
}
