// `az ml online-endpoint` / `az ml online-deployment` YAML (managed and Kubernetes) — or the deploy task's inputs —
// → Azure ML 2022-10-01 OnlineEndpoints_CreateOrUpdate / OnlineDeployments_CreateOrUpdate bodies. Pure: uploads,
// environments, models, asset and compute lookups go through the injected resolver. Batch endpoints are refused.
import { parseDataCollectorYaml, type DataCollectorSpec } from './dataCollector';
import path from 'node:path';
import {
  applyOverrides,
  assetRefText,
  checkKeys,
  computeRef,
  contentHash,
  expectMap,
  isPlainObject,
  loadYaml,
  optBool,
  optDuration,
  optInt,
  optMap,
  optString,
  optStringMap,
  parseInlineEnvironment,
  parseRef,
  reqString,
  SpecError,
  YamlSource,
} from './yamlSpec';
import type { InlineEnvironment, KeyPath, Ref } from './yamlSpec';
import type { ResolverCall, SpecResolver } from './jobSpec';

/** Thrown for every problem in an endpoint/deployment YAML (or inputs); names file(:line) and key. */
export class DeploymentSpecError extends SpecError {
  override name = 'DeploymentSpecError';
}

/** Inline model of a deployment (`model: {path: …}`), registered by the resolver. */
export interface InlineModel {
  name?: string;
  version?: string;
  /** Absolute local path, or a remote URI (azureml://…, https://…) when `local` is false. */
  path: string;
  local: boolean;
  type?: 'custom_model' | 'mlflow_model' | 'triton_model';
  description?: string;
  tags?: Record<string, string>;
  properties?: Record<string, string>;
  source: string;
}

export interface DeploymentResolver extends Pick<
  SpecResolver,
  'wsPath' | 'uploadCode' | 'ensureEnvironment' | 'resolveAsset' | 'computeId'
> {
  /** Register (or reuse) a model version for an inline model; returns its ARM id. */
  ensureModel(model: InlineModel): Promise<string>;
}

export type AuthMode = 'Key' | 'AMLToken' | 'AADToken';

export interface OnlineEndpointSpec {
  file?: string;
  name: string;
  kind: 'Managed' | 'Kubernetes';
  authMode: AuthMode;
  /** the file gives auth_mode (else authMode is the CLI's default, key) */
  authModeGiven?: boolean;
  /** Kubernetes compute (`azureml:name`, name or ARM id). */
  compute?: string;
  description?: string;
  tags?: Record<string, string>;
  properties?: Record<string, string>;
  traffic?: Record<string, number>;
  identity?: Record<string, unknown>;
  publicNetworkAccess?: 'Enabled' | 'Disabled';
  warnings: string[];
}

export type ModelRefSpec = { kind: 'inline'; model: InlineModel } | { kind: 'ref'; ref: Ref; text: string };
export type EnvRefSpec = { kind: 'inline'; env: InlineEnvironment } | { kind: 'ref'; ref: Ref; text: string };

export interface OnlineDeploymentSpec {
  file?: string;
  name: string;
  endpointName?: string;
  kind: 'Managed' | 'Kubernetes';
  model?: ModelRefSpec;
  code?: { code: Ref; scoringScript: string };
  environment?: EnvRefSpec;
  instanceType?: string;
  instanceCount?: number;
  description?: string;
  tags?: Record<string, string>;
  properties?: Record<string, string>;
  environmentVariables?: Record<string, string>;
  appInsightsEnabled?: boolean;
  egressPublicNetworkAccess?: 'Enabled' | 'Disabled';
  modelMountPath?: string;
  /** REST shapes (camelCase, ISO durations). */
  requestSettings?: Record<string, unknown>;
  livenessProbe?: Record<string, unknown>;
  readinessProbe?: Record<string, unknown>;
  scaleSettings?: Record<string, unknown>;
  containerResourceRequirements?: Record<string, unknown>;
  /** data_collector (api-version 2024-04-01: not in the 2022-10-01 body buildOnlineDeploymentBody makes) */
  dataCollector?: DataCollectorSpec;
  warnings: string[];
}

export interface ParseDeployOptions {
  baseDir?: string;
  overrides?: readonly string[];
  /** Values for `{{NAME}}` placeholders (the examples' templates, e.g. ENDPOINT_NAME, ACR_NAME). */
  variables?: Record<string, string>;
  text?: string;
  /** Replaces the deployment file's `endpoint_name` before it is read, as `az ml online-deployment create
   *  --endpoint-name` does (azure-cli-extensions machinelearningservices online_deployment.py: params_override). */
  endpointName?: string;
}

function derr(e: unknown): never {
  if (e instanceof SpecError && !(e instanceof DeploymentSpecError))
    throw new DeploymentSpecError(e.message, { file: e.file, keyPath: e.keyPath, line: e.line });
  throw e;
}

function schemaKind(root: Record<string, unknown>): string {
  const s = typeof root.$schema === 'string' ? root.$schema : '';
  return /\/([A-Za-z]+)\.schema\.json\s*$/.exec(s)?.[1] ?? '';
}

function refuseBatch(src: YamlSource, root: Record<string, unknown>): void {
  const k = schemaKind(root);
  if (
    /batch/i.test(k) ||
    (typeof root.type === 'string' && /^(model|pipeline)$/i.test(root.type) && root.settings !== undefined)
  ) {
    throw src.error(
      ['$schema'],
      `batch endpoints are not supported by this task (${k || 'batch deployment'}); it deploys online endpoints (managed or Kubernetes)`,
    );
  }
}

const AUTH: Record<string, AuthMode> = {
  key: 'Key',
  aml_token: 'AMLToken',
  amltoken: 'AMLToken',
  aad_token: 'AADToken',
  aadtoken: 'AADToken',
};

export function parseAuthMode(value: string): AuthMode | undefined {
  return AUTH[value.trim().toLowerCase()];
}

const ENDPOINT_KEYS = [
  'name',
  'description',
  'tags',
  'properties',
  'auth_mode',
  'compute',
  'traffic',
  'mirror_traffic',
  'identity',
  'public_network_access',
  'kind',
  'location',
  'provisioning_state',
  'scoring_uri',
  'openapi_uri',
];

/** Loads an online endpoint/deployment file: overrides applied, batch and wrong-kind files refused, keys checked. */
function loadOnlineYaml(
  file: string,
  opts: ParseDeployOptions,
  want: 'endpoint' | 'deployment',
): { src: YamlSource; root: Record<string, unknown>; schema: string } {
  const src = loadYaml(file, opts);
  applyOverrides(src, opts.overrides);
  const root = src.toJS() as Record<string, unknown>;
  refuseBatch(src, root);
  const schema = schemaKind(root);
  const other = want === 'endpoint' ? 'deployment' : 'endpoint';
  if (new RegExp(`${other}$`, 'i').test(schema))
    throw src.error(
      ['$schema'],
      `this is ${other === 'endpoint' ? 'an endpoint' : 'a deployment'} file (${schema}), not ${want === 'endpoint' ? 'an endpoint' : 'a deployment'} file`,
    );
  checkKeys(src, [], root, want === 'endpoint' ? ENDPOINT_KEYS : DEPLOYMENT_KEYS, `an online ${want}`);
  return { src, root, schema };
}

/** Reads an `az ml online-endpoint` YAML file. */
export function parseOnlineEndpointYaml(file: string, opts: ParseDeployOptions = {}): OnlineEndpointSpec {
  try {
    const { src, root, schema: k } = loadOnlineYaml(file, opts, 'endpoint');
    const warnings: string[] = [];
    const authGiven = optString(src, ['auth_mode'], root.auth_mode);
    const authText = authGiven ?? 'key';
    const authMode = parseAuthMode(authText);
    if (!authMode) throw src.error(['auth_mode'], `unknown auth_mode '${authText}' (key, aml_token, aad_token)`);
    const compute = optString(src, ['compute'], root.compute);
    const kind: OnlineEndpointSpec['kind'] = /kubernetes/i.test(k) || compute ? 'Kubernetes' : 'Managed';
    if (kind === 'Kubernetes' && !compute)
      throw src.error(
        ['compute'],
        'a Kubernetes online endpoint needs a compute (the attached Kubernetes compute, e.g. azureml:k8s-compute)',
      );
    if (root.mirror_traffic !== undefined)
      warnings.push(
        `${src.where(['mirror_traffic'])}: 'mirror_traffic' is not part of api-version 2022-10-01 and was ignored`,
      );
    const pna = optString(src, ['public_network_access'], root.public_network_access);
    if (pna !== undefined && !/^(enabled|disabled)$/i.test(pna))
      throw src.error(['public_network_access'], `expected enabled or disabled, got '${pna}'`);
    return {
      file: src.file,
      name: endpointName(src, ['name'], reqString(src, ['name'], root.name, 'name')),
      kind,
      authMode,
      authModeGiven: authGiven !== undefined,
      compute,
      description: optString(src, ['description'], root.description),
      tags: optStringMap(src, ['tags'], root.tags),
      properties: optStringMap(src, ['properties'], root.properties),
      traffic: parseTraffic(src, ['traffic'], root.traffic),
      identity: parseMsi(src, ['identity'], root.identity),
      publicNetworkAccess: pna === undefined ? undefined : /^enabled$/i.test(pna) ? 'Enabled' : 'Disabled',
      warnings,
    };
  } catch (e) {
    return derr(e);
  }
}

function endpointName(src: YamlSource, p: KeyPath, n: string): string {
  if (!/^[a-zA-Z][a-zA-Z0-9-]{0,31}$/.test(n))
    throw src.error(
      p,
      `endpoint name '${n}' must start with a letter and contain only letters, digits and '-' (at most 32 characters)`,
    );
  return n;
}

function parseTraffic(src: YamlSource, p: KeyPath, v: unknown): Record<string, number> | undefined {
  const m = optMap(src, p, v);
  if (!m) return undefined;
  const out: Record<string, number> = {};
  for (const [k, val] of Object.entries(m)) {
    const n = optInt(src, [...p, k], val, 0);
    if (n === undefined || n > 100) throw src.error([...p, k], 'traffic must be a whole percentage between 0 and 100');
    out[k] = n;
  }
  const sum = Object.values(out).reduce((a, b) => a + b, 0);
  if (Object.keys(out).length && sum !== 100 && sum !== 0)
    throw src.error(p, `traffic percentages add up to ${sum}; they must add up to 100 (or 0)`);
  return out;
}

function parseMsi(src: YamlSource, p: KeyPath, v: unknown): Record<string, unknown> | undefined {
  const m = optMap(src, p, v);
  if (!m) return undefined;
  checkKeys(src, p, m, ['type', 'user_assigned_identities', 'principal_id', 'tenant_id'], 'an identity');
  const t = reqString(src, [...p, 'type'], m.type, 'identity type')
    .toLowerCase()
    .replace(/[\s_]/g, '');
  const types: Record<string, string> = {
    systemassigned: 'SystemAssigned',
    userassigned: 'UserAssigned',
    'systemassigned,userassigned': 'SystemAssigned,UserAssigned',
    none: 'None',
  };
  const type = types[t];
  if (!type)
    throw src.error(
      [...p, 'type'],
      `unknown identity type '${String(m.type)}' (system_assigned, user_assigned, 'system_assigned,user_assigned', none)`,
    );
  const out: Record<string, unknown> = { type };
  if (m.user_assigned_identities !== undefined) {
    if (!Array.isArray(m.user_assigned_identities))
      throw src.error([...p, 'user_assigned_identities'], 'expected a list of {resource_id: …}');
    const ids: Record<string, object> = {};
    m.user_assigned_identities.forEach((x, i) => {
      const e = expectMap(src, [...p, 'user_assigned_identities', i], x);
      ids[reqString(src, [...p, 'user_assigned_identities', i, 'resource_id'], e.resource_id, 'resource_id')] = {};
    });
    out.userAssignedIdentities = ids;
  }
  return out;
}

const DEPLOYMENT_KEYS = [
  'name',
  'endpoint_name',
  'type',
  'description',
  'tags',
  'properties',
  'model',
  'code_configuration',
  'environment',
  'instance_type',
  'instance_count',
  'resources',
  'request_settings',
  'liveness_probe',
  'readiness_probe',
  'startup_probe',
  'scale_settings',
  'app_insights_enabled',
  'environment_variables',
  'egress_public_network_access',
  'data_collector',
  'model_mount_path',
  'instance_segment',
  'provisioning_state',
];

/** Reads an `az ml online-deployment` YAML file (managed or Kubernetes). */
export function parseOnlineDeploymentYaml(file: string, opts: ParseDeployOptions = {}): OnlineDeploymentSpec {
  try {
    const { src, root, schema } = loadOnlineYaml(file, opts, 'deployment');
    return parseDeploymentMap(src, root, schema, opts.endpointName);
  } catch (e) {
    return derr(e);
  }
}

function parseDeploymentMap(
  src: YamlSource,
  root: Record<string, unknown>,
  schema: string,
  endpointNameOverride?: string,
): OnlineDeploymentSpec {
  const warnings: string[] = [];
  for (const key of ['startup_probe', 'instance_segment']) {
    if (root[key] !== undefined)
      warnings.push(`${src.where([key])}: '${key}' is not part of api-version 2022-10-01 and was ignored`);
  }
  const typeText = optString(src, ['type'], root.type);
  if (typeText !== undefined && !/^(managed|kubernetes)$/i.test(typeText))
    throw src.error(['type'], `unknown deployment type '${typeText}' (managed, kubernetes)`);
  const kind: OnlineDeploymentSpec['kind'] =
    /kubernetes/i.test(schema) || /^kubernetes$/i.test(typeText ?? '') ? 'Kubernetes' : 'Managed';
  const name = reqString(src, ['name'], root.name, 'name');
  if (!/^[a-zA-Z][a-zA-Z0-9-]{0,31}$/.test(name))
    throw src.error(
      ['name'],
      `deployment name '${name}' must start with a letter and contain only letters, digits and '-' (at most 32 characters)`,
    );
  // an override replaces the file's value unread: the examples' placeholders (<ENDPOINT_NAME>, my_endpoint) never count
  const ep = endpointNameOverride === undefined ? optString(src, ['endpoint_name'], root.endpoint_name) : undefined;
  const spec: OnlineDeploymentSpec = {
    file: src.file,
    name,
    endpointName: endpointNameOverride ?? (ep === undefined ? undefined : endpointName(src, ['endpoint_name'], ep)),
    kind,
    description: optString(src, ['description'], root.description),
    tags: optStringMap(src, ['tags'], root.tags),
    properties: optStringMap(src, ['properties'], root.properties),
    environmentVariables: optStringMap(src, ['environment_variables'], root.environment_variables),
    instanceType: optString(src, ['instance_type'], root.instance_type),
    instanceCount: optInt(src, ['instance_count'], root.instance_count, 1),
    appInsightsEnabled: optBool(src, ['app_insights_enabled'], root.app_insights_enabled),
    modelMountPath: optString(src, ['model_mount_path'], root.model_mount_path),
    warnings,
  };
  // sent at api-version 2024-04-01 by the deploy task (src/tasks/deploy/dataCollector.ts)
  const dataCollector = parseDataCollectorYaml(src, ['data_collector'], root.data_collector);
  if (dataCollector) spec.dataCollector = dataCollector;
  const egress = optString(src, ['egress_public_network_access'], root.egress_public_network_access);
  if (egress !== undefined) {
    if (!/^(enabled|disabled)$/i.test(egress))
      throw src.error(['egress_public_network_access'], `expected enabled or disabled, got '${egress}'`);
    spec.egressPublicNetworkAccess = /^enabled$/i.test(egress) ? 'Enabled' : 'Disabled';
  }
  if (root.model !== undefined && root.model !== null) spec.model = parseModel(src, ['model'], root.model);
  const cc = optMap(src, ['code_configuration'], root.code_configuration);
  if (cc) {
    checkKeys(src, ['code_configuration'], cc, ['code', 'scoring_script'], 'code_configuration');
    const codeText = reqString(src, ['code_configuration', 'code'], cc.code, 'code_configuration.code');
    const code = parseRef(codeText, src.baseDir);
    if (code.kind === 'uri' && !/^azureml:\/\//i.test(code.uri))
      throw src.error(
        ['code_configuration', 'code'],
        `code '${codeText}' must be a local folder, azureml:name:version or an ARM id`,
      );
    spec.code = {
      code,
      scoringScript: reqString(
        src,
        ['code_configuration', 'scoring_script'],
        cc.scoring_script,
        'code_configuration.scoring_script',
      ),
    };
  }
  if (root.environment !== undefined && root.environment !== null) {
    if (isPlainObject(root.environment))
      spec.environment = { kind: 'inline', env: parseInlineEnvironment(src, ['environment'], root.environment) };
    else {
      const t = reqString(src, ['environment'], root.environment, 'environment');
      const ref = parseRef(t, src.baseDir, { assetNamesWithoutPrefix: true });
      if (ref.kind === 'uri')
        throw src.error(
          ['environment'],
          `environment '${t}' must be azureml:name:version, azureml:name@label, a registry URI or an ARM id`,
        );
      spec.environment = { kind: 'ref', ref, text: t };
    }
  }
  if (spec.code && !spec.environment)
    throw src.error(['environment'], "a deployment with code_configuration needs an 'environment'");
  const rs = optMap(src, ['request_settings'], root.request_settings);
  if (rs) {
    checkKeys(
      src,
      ['request_settings'],
      rs,
      ['request_timeout_ms', 'max_concurrent_requests_per_instance', 'max_queue_wait_ms'],
      'request_settings',
    );
    spec.requestSettings = strip({
      requestTimeout: optDuration(src, ['request_settings', 'request_timeout_ms'], rs.request_timeout_ms, 'ms'),
      maxConcurrentRequestsPerInstance: optInt(
        src,
        ['request_settings', 'max_concurrent_requests_per_instance'],
        rs.max_concurrent_requests_per_instance,
        1,
      ),
      maxQueueWait: optDuration(src, ['request_settings', 'max_queue_wait_ms'], rs.max_queue_wait_ms, 'ms'),
    });
  }
  spec.livenessProbe = parseProbe(src, ['liveness_probe'], root.liveness_probe);
  spec.readinessProbe = parseProbe(src, ['readiness_probe'], root.readiness_probe);
  const ss = optMap(src, ['scale_settings'], root.scale_settings);
  if (ss) {
    const t = reqString(src, ['scale_settings', 'type'], ss.type, 'scale_settings.type').toLowerCase();
    if (t === 'default') {
      checkKeys(src, ['scale_settings'], ss, ['type'], 'default scale settings');
      spec.scaleSettings = { scaleType: 'Default' };
    } else if (t === 'target_utilization') {
      checkKeys(
        src,
        ['scale_settings'],
        ss,
        ['type', 'min_instances', 'max_instances', 'polling_interval', 'target_utilization_percentage'],
        'target_utilization scale settings',
      );
      spec.scaleSettings = strip({
        scaleType: 'TargetUtilization',
        minInstances: optInt(src, ['scale_settings', 'min_instances'], ss.min_instances, 0),
        maxInstances: optInt(src, ['scale_settings', 'max_instances'], ss.max_instances, 1),
        pollingInterval: optDuration(src, ['scale_settings', 'polling_interval'], ss.polling_interval),
        targetUtilizationPercentage: optInt(
          src,
          ['scale_settings', 'target_utilization_percentage'],
          ss.target_utilization_percentage,
          1,
        ),
      });
      const sc = spec.scaleSettings as { minInstances?: number; maxInstances?: number };
      if (sc.minInstances !== undefined && sc.maxInstances !== undefined && sc.minInstances > sc.maxInstances)
        throw src.error(
          ['scale_settings', 'min_instances'],
          `min_instances (${sc.minInstances}) is larger than max_instances (${sc.maxInstances})`,
        );
    } else
      throw src.error(
        ['scale_settings', 'type'],
        `unknown scale_settings type '${String(ss.type)}' (default, target_utilization)`,
      );
  }
  const res = optMap(src, ['resources'], root.resources);
  if (res) {
    if (kind !== 'Kubernetes')
      throw src.error(
        ['resources'],
        "'resources' (requests/limits) apply to Kubernetes deployments only; managed deployments use instance_type",
      );
    checkKeys(src, ['resources'], res, ['requests', 'limits'], 'resources');
    const one = (k: 'requests' | 'limits') => {
      const m = optMap(src, ['resources', k], res[k]);
      if (!m) return undefined;
      checkKeys(src, ['resources', k], m, ['cpu', 'memory', 'nvidia.com/gpu', 'gpu'], `resources.${k}`);
      const val = (key: string) => {
        const v = m[key];
        if (v === undefined || v === null) return undefined;
        if (typeof v !== 'string' && typeof v !== 'number')
          throw src.error(['resources', k, key], 'expected a quantity like "0.5", "1" or "512Mi"');
        const s = String(v).trim();
        if (!/^\d+(\.\d+)?([KMGTPE]i?|m|k)?$/.test(s))
          throw src.error(['resources', k, key], `'${s}' is not a Kubernetes quantity (e.g. 0.5, 100m, 512Mi, 2Gi)`);
        return s;
      };
      return strip({ cpu: val('cpu'), memory: val('memory'), gpu: val('nvidia.com/gpu') ?? val('gpu') });
    };
    spec.containerResourceRequirements = strip({
      containerResourceRequests: one('requests'),
      containerResourceLimits: one('limits'),
    });
  }
  return spec;
}

function parseProbe(src: YamlSource, p: KeyPath, v: unknown): Record<string, unknown> | undefined {
  const m = optMap(src, p, v);
  if (!m) return undefined;
  checkKeys(src, p, m, ['initial_delay', 'period', 'timeout', 'failure_threshold', 'success_threshold'], keyText(p));
  return strip({
    initialDelay: optDuration(src, [...p, 'initial_delay'], m.initial_delay),
    period: optDuration(src, [...p, 'period'], m.period),
    timeout: optDuration(src, [...p, 'timeout'], m.timeout),
    failureThreshold: optInt(src, [...p, 'failure_threshold'], m.failure_threshold, 1),
    successThreshold: optInt(src, [...p, 'success_threshold'], m.success_threshold, 1),
  });
}

function keyText(p: KeyPath): string {
  return p.join('.');
}

const MODEL_TYPES = ['custom_model', 'mlflow_model', 'triton_model'] as const;

function parseModel(src: YamlSource, p: KeyPath, v: unknown): ModelRefSpec {
  if (isPlainObject(v)) {
    checkKeys(
      src,
      p,
      v,
      ['name', 'version', 'path', 'type', 'description', 'tags', 'properties', 'stage', 'flavors', 'datastore'],
      'an inline model',
    );
    const pathText = reqString(src, [...p, 'path'], v.path, 'model path');
    const ref = parseRef(pathText, src.baseDir);
    if (ref.kind === 'asset' || ref.kind === 'arm')
      throw src.error(
        [...p, 'path'],
        `model path '${pathText}' must be a local path or a storage URI (use 'model: ${pathText}' to reference a registered model)`,
      );
    const type = optString(src, [...p, 'type'], v.type)?.toLowerCase();
    if (type !== undefined && !(MODEL_TYPES as readonly string[]).includes(type))
      throw src.error([...p, 'type'], `unknown model type '${type}' (${MODEL_TYPES.join(', ')})`);
    const model: InlineModel = {
      name: optString(src, [...p, 'name'], v.name),
      version: optString(src, [...p, 'version'], v.version),
      path: ref.kind === 'local' ? ref.path : (ref as { uri: string }).uri,
      local: ref.kind === 'local',
      type: type as InlineModel['type'],
      description: optString(src, [...p, 'description'], v.description),
      tags: optStringMap(src, [...p, 'tags'], v.tags),
      properties: optStringMap(src, [...p, 'properties'], v.properties),
      source: src.where(p),
    };
    return { kind: 'inline', model };
  }
  const text = reqString(src, p, v, 'model');
  const ref = parseRef(text, src.baseDir, { assetNamesWithoutPrefix: false });
  if (ref.kind === 'local' || ref.kind === 'uri')
    throw src.error(
      p,
      `model '${text}' must be azureml:name:version, azureml:name@latest, a registry URI, an ARM id, or an inline {path: …}`,
    );
  return { kind: 'ref', ref, text };
}

function strip<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

// ---------------------------------------------------------------------------------------------- from task inputs

export interface DeploymentInputs {
  name: string;
  endpointName: string;
  kind: 'Managed' | 'Kubernetes';
  /** `azureml:name:version`, `azureml:name@latest`, `name:version`, ARM id, registry URI, or a local model path. */
  model: string;
  /** Environment reference (`azureml:name:version`, …) or an inline image (+ conda file). */
  environment?: string | { image: string; condaFile?: string };
  /** Scoring code folder and the scoring script inside it. */
  codeDir?: string;
  scoringScript?: string;
  instanceType?: string;
  instanceCount?: number;
  /** Kubernetes requests/limits. */
  resources?: {
    requests?: { cpu?: string; memory?: string; gpu?: string };
    limits?: { cpu?: string; memory?: string; gpu?: string };
  };
  livenessProbe?: ProbeInput;
  readinessProbe?: ProbeInput;
  requestSettings?: { requestTimeoutMs?: number; maxConcurrentRequestsPerInstance?: number; maxQueueWaitMs?: number };
  environmentVariables?: Record<string, string>;
  appInsightsEnabled?: boolean;
  description?: string;
  tags?: Record<string, string>;
  /** Folder relative paths are resolved against. */
  baseDir: string;
}

export interface ProbeInput {
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
}

function probeRest(p: ProbeInput | undefined): Record<string, unknown> | undefined {
  if (!p) return undefined;
  const iso = (n?: number) => (n === undefined ? undefined : `PT${n}S`);
  const o = strip({
    initialDelay: iso(p.initialDelaySeconds),
    period: iso(p.periodSeconds),
    timeout: iso(p.timeoutSeconds),
    failureThreshold: p.failureThreshold,
    successThreshold: p.successThreshold,
  });
  return Object.keys(o).length ? o : undefined;
}

/** Builds the same spec a deployment YAML would give, from the deploy task's inputs (errors name the input). */
export function deploymentSpecFromInputs(i: DeploymentInputs): OnlineDeploymentSpec {
  const bad = (input: string, problem: string) => new DeploymentSpecError(`Input '${input}': ${problem}`);
  if (!/^[a-zA-Z][a-zA-Z0-9-]{0,31}$/.test(i.name))
    throw bad(
      'deploymentName',
      `'${i.name}' must start with a letter and contain only letters, digits and '-' (at most 32 characters)`,
    );
  if (!/^[a-zA-Z][a-zA-Z0-9-]{0,31}$/.test(i.endpointName))
    throw bad(
      'endpointName',
      `'${i.endpointName}' must start with a letter and contain only letters, digits and '-' (at most 32 characters)`,
    );
  const spec: OnlineDeploymentSpec = {
    name: i.name,
    endpointName: i.endpointName,
    kind: i.kind,
    warnings: [],
    instanceType: i.instanceType,
    instanceCount: i.instanceCount,
    environmentVariables: i.environmentVariables,
    appInsightsEnabled: i.appInsightsEnabled,
    description: i.description,
    tags: i.tags,
    livenessProbe: probeRest(i.livenessProbe),
    readinessProbe: probeRest(i.readinessProbe),
  };
  if (i.instanceCount !== undefined && (!Number.isInteger(i.instanceCount) || i.instanceCount < 1))
    throw bad('instanceCount', 'must be a whole number of at least 1');
  const mref = parseRef(i.model, i.baseDir, {
    assetNamesWithoutPrefix: /^[^/\\.][^/\\]*:[^/\\]+$/.test(i.model) && !/^[a-z]:[\\/]/i.test(i.model),
  });
  spec.model =
    mref.kind === 'local' || mref.kind === 'uri'
      ? {
          kind: 'inline',
          model: {
            path: mref.kind === 'local' ? mref.path : mref.uri,
            local: mref.kind === 'local',
            source: "input 'model'",
          },
        }
      : { kind: 'ref', ref: mref, text: i.model };
  if (i.codeDir || i.scoringScript) {
    if (!i.codeDir) throw bad('scoringCodeFolder', 'is required when a scoring script is given');
    if (!i.scoringScript) throw bad('scoringScript', 'is required when a scoring code folder is given');
    spec.code = { code: parseRef(i.codeDir, i.baseDir), scoringScript: i.scoringScript };
  }
  if (i.environment !== undefined) {
    if (typeof i.environment === 'string') {
      const r = parseRef(i.environment, i.baseDir, { assetNamesWithoutPrefix: true });
      if (r.kind === 'uri' || r.kind === 'local')
        throw bad(
          'environment',
          `'${i.environment}' must be azureml:name:version, azureml:name@latest, a registry URI or an ARM id`,
        );
      spec.environment = { kind: 'ref', ref: r, text: i.environment };
    } else {
      spec.environment = {
        kind: 'inline',
        env: {
          image: i.environment.image,
          condaFile: i.environment.condaFile ? path.resolve(i.baseDir, i.environment.condaFile) : undefined,
          source: "input 'environment'",
        },
      };
    }
  }
  if (spec.code && !spec.environment) throw bad('environment', 'is required when scoring code is given');
  if (i.requestSettings) {
    const r = i.requestSettings;
    spec.requestSettings = strip({
      requestTimeout: r.requestTimeoutMs === undefined ? undefined : msIso(r.requestTimeoutMs),
      maxConcurrentRequestsPerInstance: r.maxConcurrentRequestsPerInstance,
      maxQueueWait: r.maxQueueWaitMs === undefined ? undefined : msIso(r.maxQueueWaitMs),
    });
  }
  if (i.resources) {
    if (i.kind !== 'Kubernetes')
      throw bad('resources', 'resource requests/limits apply to Kubernetes deployments only');
    const q = (o?: { cpu?: string; memory?: string; gpu?: string }) =>
      o ? strip({ cpu: o.cpu, memory: o.memory, gpu: o.gpu }) : undefined;
    spec.containerResourceRequirements = strip({
      containerResourceRequests: q(i.resources.requests),
      containerResourceLimits: q(i.resources.limits),
    });
  }
  return spec;
}

function msIso(ms: number): string {
  const s = ms / 1000;
  return `PT${Number.isInteger(s) ? s : Number(s.toFixed(3))}S`;
}

// ---------------------------------------------------------------------------------------------- bodies

export interface BuiltResource {
  name: string;
  body: Record<string, unknown>;
  calls: ResolverCall[];
  warnings: string[];
}

type Calls = ResolverCall[];

async function call(
  calls: Calls,
  op: ResolverCall['op'] | 'ensureModel',
  arg: string,
  fn: () => Promise<string>,
): Promise<string> {
  const result = await fn();
  calls.push({ op: op as ResolverCall['op'], arg, result });
  return result;
}

/** OnlineEndpoints_CreateOrUpdate body. `location` = the workspace's location. */
export async function buildOnlineEndpointBody(
  spec: OnlineEndpointSpec,
  opts: { location: string; resolver: Pick<SpecResolver, 'computeId'> },
): Promise<BuiltResource> {
  const calls: Calls = [];
  const props: Record<string, unknown> = { authMode: spec.authMode };
  if (spec.description !== undefined) props.description = spec.description;
  if (spec.properties) props.properties = spec.properties;
  if (spec.kind === 'Kubernetes') {
    const c = computeRef(spec.compute!);
    props.compute = c.id ?? (await call(calls, 'computeId', c.name!, () => opts.resolver.computeId(c.name!)));
  }
  if (spec.traffic) props.traffic = spec.traffic;
  if (spec.publicNetworkAccess) props.publicNetworkAccess = spec.publicNetworkAccess;
  const body: Record<string, unknown> = {
    location: opts.location,
    ...(spec.tags ? { tags: spec.tags } : {}),
    identity: spec.identity ?? { type: 'SystemAssigned' },
    properties: props,
  };
  return { name: spec.name, body, calls, warnings: [...spec.warnings] };
}

/**
 * A custom-container deployment: its inline environment names the inference routes (inference_config). Its model is
 * optional ("This field is optional for custom container deployment scenarios": learn.microsoft.com
 * reference-yaml-deployment-managed-online, key `model`); azureml-examples
 * cli/endpoints/online/custom-container/tfserving/half-plus-two-integrated has none (the model is in the image).
 */
export function isCustomContainer(spec: OnlineDeploymentSpec): boolean {
  return spec.environment?.kind === 'inline' && !!spec.environment.env.inferenceConfig;
}

/** OnlineDeployments_CreateOrUpdate body; `endpointName` when the spec has none (or to override it). */
export async function buildOnlineDeploymentBody(
  spec: OnlineDeploymentSpec,
  opts: { location: string; resolver: DeploymentResolver; endpointName?: string },
): Promise<BuiltResource & { endpointName: string }> {
  const r = opts.resolver;
  const calls: Calls = [];
  const where = spec.file ? `${path.basename(spec.file)}: ` : '';
  const endpointNameValue = opts.endpointName ?? spec.endpointName;
  if (!endpointNameValue)
    throw new DeploymentSpecError(
      `${where}no endpoint name: set 'endpoint_name' in the YAML or the task's endpoint name`,
    );
  if (!spec.model && !isCustomContainer(spec))
    throw new DeploymentSpecError(`${where}no model: set 'model' in the YAML or the task's model input`);
  const props: Record<string, unknown> = { endpointComputeType: spec.kind };
  if (spec.description !== undefined) props.description = spec.description;
  if (spec.properties) props.properties = spec.properties;
  // model (none for a custom container that carries it in its image)
  const m = spec.model;
  if (!m) {
    // no model property: as azure-ai-ml sends it (OnlineDeployment._to_rest_object leaves model None)
  } else if (m.kind === 'inline')
    props.model = await call(calls, 'ensureModel', m.model.path, () => r.ensureModel(m.model));
  else if (m.ref.kind === 'arm') props.model = m.ref.id;
  else if (m.ref.kind === 'registry') props.model = m.ref.uri;
  else if (m.ref.kind === 'asset') {
    const t = assetRefText(m.ref);
    props.model = await call(calls, 'resolveAsset', `models ${t}`, () => r.resolveAsset('models', t));
  }
  // code
  if (spec.code) {
    const c = spec.code.code;
    let codeId: string | undefined;
    if (c.kind === 'local') codeId = await call(calls, 'uploadCode', c.path, () => r.uploadCode(c.path));
    else if (c.kind === 'arm') codeId = c.id;
    else if (c.kind === 'asset') {
      const t = assetRefText(c);
      codeId = await call(calls, 'resolveAsset', `codes ${t}`, () => r.resolveAsset('codes', t));
    } else codeId = (c as { uri: string }).uri;
    props.codeConfiguration = { codeId, scoringScript: spec.code.scoringScript };
  }
  // environment
  const e = spec.environment;
  if (e?.kind === 'inline')
    props.environmentId = await call(calls, 'ensureEnvironment', e.env.image ?? e.env.build?.path ?? '', () =>
      r.ensureEnvironment(e.env),
    );
  else if (e?.kind === 'ref') {
    if (e.ref.kind === 'arm') props.environmentId = e.ref.id;
    else if (e.ref.kind === 'registry') props.environmentId = e.ref.uri;
    else if (e.ref.kind === 'asset') {
      const t = assetRefText(e.ref);
      props.environmentId = await call(calls, 'resolveAsset', `environments ${t}`, () =>
        r.resolveAsset('environments', t),
      );
    }
  }
  if (spec.environmentVariables) props.environmentVariables = spec.environmentVariables;
  if (spec.instanceType !== undefined) props.instanceType = spec.instanceType;
  if (spec.appInsightsEnabled !== undefined) props.appInsightsEnabled = spec.appInsightsEnabled;
  if (spec.egressPublicNetworkAccess) props.egressPublicNetworkAccess = spec.egressPublicNetworkAccess;
  if (spec.modelMountPath) props.modelMountPath = spec.modelMountPath;
  if (spec.requestSettings && Object.keys(spec.requestSettings).length) props.requestSettings = spec.requestSettings;
  if (spec.livenessProbe) props.livenessProbe = spec.livenessProbe;
  if (spec.readinessProbe) props.readinessProbe = spec.readinessProbe;
  if (spec.scaleSettings) props.scaleSettings = spec.scaleSettings;
  if (
    spec.kind === 'Kubernetes' &&
    spec.containerResourceRequirements &&
    Object.keys(spec.containerResourceRequirements).length
  )
    props.containerResourceRequirements = spec.containerResourceRequirements;
  const body: Record<string, unknown> = {
    location: opts.location,
    ...(spec.tags ? { tags: spec.tags } : {}),
    sku: { name: 'Default', capacity: spec.instanceCount ?? 1 },
    properties: props,
  };
  return { name: spec.name, endpointName: endpointNameValue, body, calls, warnings: [...spec.warnings] };
}

/**
 * Name, version and ModelVersions_CreateOrUpdate body for an inline deployment model, once its files are at `modelUri`
 * (for a local path: the uploaded azureml:// URI). Without a name/version in the YAML: `<deployment>-model` (or
 * `anonymous-model`) with a content-hash version, so reruns with the same files reuse it.
 */
export function inlineModelVersion(
  model: InlineModel,
  modelUri: string,
  opts: { deploymentName?: string } = {},
): { name: string; version: string; body: { properties: Record<string, unknown> } } {
  const props: Record<string, unknown> = { modelUri, modelType: model.type ?? 'custom_model' };
  if (model.description !== undefined) props.description = model.description;
  if (model.tags) props.tags = model.tags;
  if (model.properties) props.properties = model.properties;
  if (!model.name) props.isAnonymous = true;
  return {
    name: model.name ?? (opts.deploymentName ? `${opts.deploymentName}-model` : 'anonymous-model'),
    version: model.version ?? contentHash(props),
    body: { properties: props },
  };
}
