// The one place that knows how Azure ML rewrites what it is sent. Every idempotency decision (job rerun with the same
// name, environment / code / model asset reuse, deployment "nothing to change", register "same content") compares what
// the user asked for with what the service reports through these rules, so a rerun against the real service takes the
// same path as a rerun against the emulator.
//
// Each rule names the recorded exchange it follows: Microsoft's azure-ai-ml SDK test recordings (real traffic with the
// live service, sanitised). A copy of every excerpt a rule relies on is kept under
// test/fixtures/third-party/azure-sdk-assets/ (and …/azure-sdk-for-python/ for the 2022 recordings); provenance in
// test/fixtures/third-party/README.md; test/unit/normalize.test.ts feeds each one to the task or to the comparison the
// task uses. Paths below are relative to `python/sdk/ml/azure-ai-ml/tests/recordings/` of Azure/azure-sdk-assets
// ("assets") or `sdk/ml/azure-ai-ml/tests/recordings/` of Azure/azure-sdk-for-python ("sdk").
//
// Rules (each is documented where it is implemented, with its recording):
//   arm-id-case              ARM ids compare case-insensitively
//   datastore-uri-case       azureml://subscriptions/…/resourcegroups/… reads back as …/resourceGroups/…
//   service-replicated       2022: …/paths/LocalUpload/… reads back as …/paths/ServiceReplicated/<guid>/LocalUpload/…
//   asset-ref-short-long     sweep trial.environmentId azureml:<name>:<version> reads back as the workspace ARM id
//   conda-yaml-json          an environment's condaFile sent as YAML reads back as JSON text
//   enum-case                sweep objective.goal maximize reads back Maximize
//   service-filled-defaults  jobs: what the service adds (outputs.default, resources, queueSettings, …) is no difference
//   deployment-env-vars      AZUREML_MODEL_DIR, AZUREML_ENTRY_SCRIPT, AML_APP_ROOT added to a deployment's variables
//   deployment-defaults      requestSettings / probes left out read back with the service's defaults
//   max-queue-wait-unasked   maxQueueWait (deprecated) is compared only when the deployment sets it
import { parse as parseYaml } from 'yaml';
import type { DeploymentInfo } from './endpoints';

// ------------------------------------------------------------------------------------------------ ARM ids

/**
 * RULE arm-id-case: ARM resource ids compare case-insensitively (ARM treats them so). The service answers with its own
 * casing of ids it was sent: e.g. `azureml.onlineendpointid` reads back all lower case and the Studio link's `wsid`
 * uses `resourcegroups` (assets online_services/e2etests/test_online_deployment.pyTestOnlineDeploymenttest_online_deployment.json,
 * api-version 2022-02-01-preview, 2025-02-25; assets command_job/…test_command_job_invalid_datastore.json, 2025-01-01-preview).
 */
export function armIdKey(id: string): string {
  return id.trim().replace(/\/+$/, '').toLowerCase();
}

// ------------------------------------------------------------------------------------------------ azureml:// URIs

/**
 * RULE datastore-uri-case: a long-form datastore URI sent as `azureml://subscriptions/<s>/resourcegroups/<rg>/workspaces/<w>/…`
 * reads back as `…/resourceGroups/…` (assets model/e2etests/test_model.pyTestModeltest_crud_file.json: model version PUT
 * and GET, api-version 2023-08-01-preview, 2026-03-26). The fixed segments and the subscription / resource group /
 * workspace names compare case-insensitively (an optional `providers/Microsoft.MachineLearningServices/` is dropped),
 * the datastore path does not; a trailing slash is ignored.
 *
 * The result feeds the model content key (models.ts contentKey) stored on registered versions: it must stay byte for
 * byte what it was (it was models.ts normalizeUri).
 */
export function azuremlUriKey(uri: string): string {
  let u = uri.trim().replace(/\/+$/, '');
  u = u.replace(
    /^azureml:\/\/subscriptions\/([^/]+)\/resource[gG]roups\/([^/]+)\/(?:providers\/Microsoft\.MachineLearningServices\/)?workspaces\/([^/]+)\//i,
    (_m, s, rg, w) =>
      `azureml://subscriptions/${s.toLowerCase()}/resourcegroups/${rg.toLowerCase()}/workspaces/${w.toLowerCase()}/`,
  );
  return u;
}

/**
 * RULE service-replicated: older services stored a model sent as `…/paths/LocalUpload/<md5>/<name>` under
 * `…/paths/ServiceReplicated/<guid>/LocalUpload/<md5>/<name>` and read it back so (sdk model/e2etests/
 * test_model.pyTestModeltest_crud_file.json: model version PUT and GET, api-version 2022-05-01, 2022-09-16). The
 * `ServiceReplicated/<guid>/` segment names the service's copy of the same files and is not compared.
 */
const SERVICE_REPLICATED =
  /\/paths\/ServiceReplicated\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\//i;

/** Same files? (datastore-uri-case, service-replicated) */
export function sameDatastoreUri(a: string | undefined | null, b: string | undefined | null): boolean {
  if (!a || !b) return !a && !b;
  const key = (u: string) => azuremlUriKey(u).replace(SERVICE_REPLICATED, '/paths/');
  return key(a) === key(b);
}

// ------------------------------------------------------------------------------------------------ asset references

const SHORT_ASSET = /^azureml:([^/:@]+):([^/:@]+)$/i;

/**
 * RULE asset-ref-short-long: a sweep job's `trial.environmentId` sent as the short `azureml:<name>:<version>` reads back
 * as the workspace ARM id `/subscriptions/…/workspaces/<w>/environments/<name>/versions/<version>` (assets
 * sweep_job/e2etests/test_sweep_job.pyTestSweepJobtest_sweep_job_submit_minimal.json, api-version 2024-01-01-preview,
 * 2026-03-03), while a command job's `environmentId` keeps the short form (assets
 * command_job/…test_command_job_invalid_datastore.json, 2025-01-01-preview, 2026-03-27). Both name the same version:
 * `azureml:<name>:<version>` equals the ARM id of `<name>/versions/<version>` in the task's own workspace (`wsPath`).
 * Ids compare as ARM ids otherwise (arm-id-case); `azureml:/subscriptions/…` is the ARM id after the prefix.
 */
export function sameAssetRef(a: string, b: string, wsPath: string): boolean {
  if (a === b) return true;
  const key = (s: string): string => {
    const t = s.trim();
    const short = SHORT_ASSET.exec(t);
    if (short) return `asset:${short[1]!.toLowerCase()}:${short[2]}`;
    const id = t.replace(/^azureml:(?=\/subscriptions\/)/i, '');
    if (/^\/subscriptions\//i.test(id)) {
      const ws = armIdKey(wsPath);
      const low = armIdKey(id);
      const m = /^\/[a-z]+\/([^/]+)\/versions\/([^/]+)$/i.exec(id.trim().replace(/\/+$/, '').slice(ws.length));
      if (low.startsWith(`${ws}/`) && m) return `asset:${m[1]!.toLowerCase()}:${m[2]}`;
      return low;
    }
    // registry references name ARM resources (case-insensitive); datastore paths are blob paths (case-sensitive)
    if (/^azureml:\/\/registries\//i.test(t)) return t.replace(/\/+$/, '').toLowerCase();
    if (/^azureml:\/\//i.test(t)) return azuremlUriKey(t);
    if (/^azureml:/i.test(t)) return t.toLowerCase();
    return t;
  };
  return key(a) === key(b);
}

/** Does this string look like a reference the service may rewrite (ARM id, azureml: short form or URI)? */
export function isAssetRef(s: string): boolean {
  return /^(\/subscriptions\/|azureml:)/i.test(s.trim());
}

// ------------------------------------------------------------------------------------------------ documents

/**
 * RULE conda-yaml-json: an environment version's `condaFile` sent as YAML text reads back as JSON text of the same
 * document (assets environment/e2etests/test_environment.pyTestEnvironmenttest_environment_create_conda.json,
 * api-version 2023-04-01-preview, 2024-05-17). Both texts are parsed (JSON is YAML) and compared as data; text that does
 * not parse compares as trimmed text.
 */
export function sameDocument(a: string | undefined | null, b: string | undefined | null): boolean {
  if (a === b) return true;
  if (a == null || b == null) return false;
  const parse = (t: string): { ok: true; v: unknown } | { ok: false } => {
    try {
      return { ok: true, v: parseYaml(t) };
    } catch {
      return { ok: false };
    }
  };
  const pa = parse(a),
    pb = parse(b);
  if (pa.ok && pb.ok) return deepEqual(pa.v, pb.v);
  return a.trim() === b.trim();
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a))
    return a.length === (b as unknown[]).length && a.every((x, i) => deepEqual(x, (b as unknown[])[i]));
  const ka = Object.keys(a as object),
    kb = Object.keys(b as object);
  return (
    ka.length === kb.length &&
    ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual((a as any)[k], (b as any)[k]))
  );
}

// ------------------------------------------------------------------------------------------------ environments

/**
 * Fields of an environment version we wrote that an existing version must hold for us to reuse it, or [] when it does
 * ('image' exact, 'condaFile' by conda-yaml-json).
 */
export function environmentDifferences(wanted: Record<string, unknown>, existing: Record<string, unknown>): string[] {
  const out: string[] = [];
  const str = (v: unknown) => (typeof v === 'string' ? v : v == null ? undefined : String(v));
  if ((str(wanted.image) ?? null) !== (str(existing.image) ?? null)) out.push('image');
  if (!sameDocument(str(wanted.condaFile) ?? null, str(existing.condaFile) ?? null)) out.push('condaFile');
  return out;
}

// ------------------------------------------------------------------------------------------------ jobs

/** Job properties that may change on an existing job (not part of its definition). */
export const MUTABLE_JOB_PROPS = new Set(['description', 'tags', 'properties', 'isArchived', 'status', 'services']);

/**
 * RULE enum-case: enum values read back in the service's casing: a sweep `objective.goal` sent as `maximize` reads back
 * `Maximize` (assets sweep_job/…test_sweep_job_submit_minimal.json, 2024-01-01-preview, 2026-03-03).
 */
const ENUM_KEYS = new Set(['goal']);

/**
 * Keys of `mine` (a job body's properties) that an existing job does not carry with the same meaning ([] = same
 * definition). RULE service-filled-defaults (jobs): what the service adds (`outputs.default`, `resources`,
 * `queueSettings`, `samplingAlgorithm.rule`, nulls…; assets command_job/…invalid_datastore.json and
 * sweep_job/…submit_minimal.json) is not a difference: only what we send is compared. Strings compare by the rules
 * above (arm-id-case, asset-ref-short-long, datastore-uri-case, enum-case).
 */
export function jobDefinitionDifferences(
  mine: Record<string, unknown>,
  theirs: Record<string, unknown>,
  wsPath: string,
): string[] {
  const same = (a: unknown, b: unknown, key: string): boolean => {
    if (a === undefined || a === null) return true;
    if (typeof a === 'string' && typeof b === 'string') {
      if (a === b) return true;
      if (ENUM_KEYS.has(key)) return a.toLowerCase() === b.toLowerCase();
      if (isAssetRef(a) && isAssetRef(b)) return sameAssetRef(a, b, wsPath);
      return false;
    }
    if (typeof a !== 'object') return a === b || String(a) === String(b);
    if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, k) => same(x, b[k], key));
    if (!b || typeof b !== 'object') return false;
    return Object.entries(a as Record<string, unknown>).every(([k, v]) =>
      same(v, (b as Record<string, unknown>)[k], k),
    );
  };
  return Object.keys(mine).filter((k) => !MUTABLE_JOB_PROPS.has(k) && !same(mine[k], theirs[k], k));
}

// ------------------------------------------------------------------------------------------------ deployments

/**
 * RULE deployment-env-vars: a deployment with scoring code reads back with `AZUREML_MODEL_DIR`, `AZUREML_ENTRY_SCRIPT`
 * and `AML_APP_ROOT` added to its environment variables (assets online_services/e2etests/
 * test_online_deployment.pyTestOnlineDeploymenttest_online_deployment.json: deployments list, api-version
 * 2022-02-01-preview, 2025-02-25). They are ignored unless the user set them.
 */
export const SERVICE_ENVIRONMENT_VARIABLES = ['AZUREML_MODEL_DIR', 'AZUREML_ENTRY_SCRIPT', 'AML_APP_ROOT'];

/** The service's variables minus those it adds itself (deployment-env-vars), for comparing with what we would send. */
export function userEnvironmentVariables(
  read: Record<string, string> | undefined,
  asked: Record<string, string> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(read ?? {})) {
    if (SERVICE_ENVIRONMENT_VARIABLES.includes(k) && !(asked && k in asked)) continue;
    out[k] = v;
  }
  return out;
}

/**
 * RULE deployment-defaults: what a deployment body leaves out reads back as the service's defaults. Recorded, for a
 * deployment sent without requestSettings and probes: requestSettings `maxQueueWait: PT0S`, `requestTimeout: PT5S`,
 * `maxConcurrentRequestsPerInstance: 1`; liveness and readiness probes `initialDelay PT10S, period PT10S, timeout PT2S,
 * failureThreshold 30, successThreshold 1` (sdk online_services/e2etests/test_online_deployment.pyTestOnlineDeploymenttest_online_deployment.json,
 * GET after provisioning, api-version 2022-02-01-preview, 2022-10-28; and the 2025-02-25 assets recording above).
 *
 * RULE max-queue-wait-unasked: `maxQueueWait` is "(Deprecated for Managed Online Endpoints) … Defaults to 500ms" in
 * the API reference (learn.microsoft.com/javascript/api/@azure/arm-machinelearning/onlinerequestsettings), yet the
 * service reads it back as `PT0S` when it was not sent (both recordings above). A deployment whose body leaves it out
 * therefore does not compare it; one that sets it compares it with what the service reports.
 */
export const PROBE_DEFAULTS: Record<string, number> = {
  initialDelay: 10_000,
  period: 10_000,
  timeout: 2_000,
  failureThreshold: 30,
  successThreshold: 1,
};
export const REQUEST_DEFAULTS: Record<string, number> = {
  requestTimeout: 5_000,
  maxConcurrentRequestsPerInstance: 1,
  maxQueueWait: 0,
};
const DURATION_KEYS = /^(initialDelay|period|timeout|requestTimeout|maxQueueWait)$/;

/** ISO 8601 duration (PT10S, PT0.5S, PT1M30S, P1DT2H) → milliseconds; undefined when it is not one */
export function isoDurationMs(text: unknown): number | undefined {
  if (typeof text === 'number') return text;
  const m =
    typeof text === 'string'
      ? /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(
          text.trim(),
        )
      : null;
  if (!m || text === 'P' || /T$/i.test(String(text).trim())) return undefined;
  const [d, h, min, sec] = m.slice(1).map((x) => Number(x ?? 0));
  return Math.round((((d! * 24 + h!) * 60 + min!) * 60 + sec!) * 1000);
}

/** A settings block with the service's defaults filled in (deployment-defaults); durations in ms. */
export function effectiveSettings(
  defaults: Record<string, number>,
  given: Record<string, unknown> | undefined | null,
): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [k, def] of Object.entries(defaults)) {
    const v = given?.[k];
    if (v === undefined || v === null) {
      out[k] = def;
      continue;
    }
    const n = typeof v === 'number' ? v : DURATION_KEYS.test(k) ? isoDurationMs(v) : Number(v);
    out[k] = n === undefined || Number.isNaN(n) ? String(v) : n;
  }
  return out;
}

/**
 * What differs between an existing deployment (as the service reports it) and the body we would PUT ([] = the same):
 * model, code, environment (asset-ref-short-long, arm-id-case), instance type / count, environment variables
 * (deployment-env-vars), probes and request settings (deployment-defaults, max-queue-wait-unasked).
 */
export function deploymentDifferences(d: DeploymentInfo, body: Record<string, any>, wsPath = ''): string[] {
  const p = body.properties ?? {};
  const ref = (a?: string | null, b?: string | null) => (!a || !b ? !a && !b : sameAssetRef(a, b, wsPath));
  const out: string[] = [];
  if (!ref(d.model, p.model)) out.push('model');
  if (
    !ref(d.codeId, p.codeConfiguration?.codeId) ||
    (p.codeConfiguration && d.scoringScript !== p.codeConfiguration.scoringScript)
  )
    out.push('scoring code');
  if (!ref(d.environmentId, p.environmentId)) out.push('environment');
  if (p.instanceType !== undefined && (d.instanceType ?? '').toLowerCase() !== String(p.instanceType).toLowerCase())
    out.push('instance type');
  if ((body.sku?.capacity ?? 1) !== (d.instanceCount ?? 1)) out.push('instance count');
  const ev = (m?: Record<string, string>) => JSON.stringify(Object.entries(m ?? {}).sort());
  if (ev(userEnvironmentVariables(d.environmentVariables, p.environmentVariables)) !== ev(p.environmentVariables))
    out.push('environment variables');
  const settings: Array<
    [string, Record<string, number>, Record<string, unknown> | undefined, Record<string, unknown> | undefined]
  > = [
    ['livenessProbe', PROBE_DEFAULTS, d.livenessProbe, p.livenessProbe],
    ['readinessProbe', PROBE_DEFAULTS, d.readinessProbe, p.readinessProbe],
    ['requestSettings', REQUEST_DEFAULTS, d.requestSettings, p.requestSettings],
  ];
  for (const [name, defaults, have, want] of settings) {
    const a = effectiveSettings(defaults, have),
      b = effectiveSettings(defaults, want);
    const asked = (k: string) =>
      !(name === 'requestSettings' && k === 'maxQueueWait') || (want?.[k] !== undefined && want?.[k] !== null);
    const changed = Object.keys(defaults).filter((k) => asked(k) && a[k] !== b[k]);
    if (changed.length) out.push(`${name} (${changed.map((k) => `${k} ${a[k]} → ${b[k]}`).join(', ')})`);
  }
  return out;
}
