// Parsing of the deploy task's text inputs that are not YAML: the expected response, the release's model artifact,
// probe settings and Kubernetes resource quantities. Pure; a bad value is an InputError naming the input.
import { InputError } from '../../pipeline/errors';
import type { ReleaseArtifact } from '../../pipeline/releaseArtifacts';
import type { ProbeInput } from '../../azureml/deploymentSpec';

export type ResponseMatcher = {
  kind: 'substring' | 'json' | 'regex';
  describe: string;
  check(body: string): string | undefined;
};

function jsonSubset(expected: unknown, actual: unknown, at: string): string | undefined {
  if (expected === null || typeof expected !== 'object') {
    return Object.is(expected, actual) ||
      (typeof expected === 'number' && typeof actual === 'number' && expected === actual)
      ? undefined
      : `${at || '(root)'}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)?.slice(0, 80)}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual))
      return `${at || '(root)'}: expected an array, got ${JSON.stringify(actual)?.slice(0, 80)}`;
    if (actual.length !== expected.length)
      return `${at || '(root)'}: expected ${expected.length} item(s), got ${actual.length}`;
    for (let i = 0; i < expected.length; i++) {
      const d = jsonSubset(expected[i], actual[i], `${at}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual))
    return `${at || '(root)'}: expected an object, got ${JSON.stringify(actual)?.slice(0, 80)}`;
  for (const [k, v] of Object.entries(expected)) {
    if (!(k in (actual as object))) return `${at ? `${at}.` : ''}${k}: missing`;
    const d = jsonSubset(v, (actual as Record<string, unknown>)[k], at ? `${at}.${k}` : k);
    if (d) return d;
  }
  return undefined;
}

/**
 * Expected response:
 *  - `/pattern/flags` → regular expression tested against the body;
 *  - starts with `{` or `[` → JSON, and the response must contain it (objects: every given key, recursively; arrays:
 *    same length, item by item; numbers compared exactly);
 *  - anything else → substring of the body.
 */
export function parseExpectedResponse(text: string | undefined): ResponseMatcher | undefined {
  const t = (text ?? '').trim();
  if (!t) return undefined;
  const re = /^\/(.+)\/([dgimsuy]*)$/s.exec(t);
  if (re) {
    let rx: RegExp;
    try {
      rx = new RegExp(re[1]!, re[2]!.replace('g', ''));
    } catch (e) {
      throw new InputError('expectedResponse', `not a valid regular expression: ${(e as Error).message}`);
    }
    return {
      kind: 'regex',
      describe: `matches ${t}`,
      check: (b) => (rx.test(b) ? undefined : `response does not match ${t}`),
    };
  }
  if (t.startsWith('{') || t.startsWith('[')) {
    let expected: unknown;
    try {
      expected = JSON.parse(t);
    } catch (e) {
      throw new InputError('expectedResponse', `starts like JSON but is not valid JSON: ${(e as Error).message}`);
    }
    return {
      kind: 'json',
      describe: `contains JSON ${t.length > 60 ? t.slice(0, 57) + '…' : t}`,
      check: (b) => {
        let actual: unknown;
        try {
          actual = JSON.parse(b);
        } catch {
          return 'response is not JSON';
        }
        // scoring servers often return a JSON string holding JSON
        if (typeof actual === 'string') {
          try {
            actual = JSON.parse(actual);
          } catch {
            /* keep the string */
          }
        }
        const d = jsonSubset(expected, actual, '');
        return d ? `response differs at ${d}` : undefined;
      },
    };
  }
  return {
    kind: 'substring',
    describe: `contains "${t}"`,
    check: (b) => (b.includes(t) ? undefined : `response does not contain "${t}"`),
  };
}

/**
 * The release's model artifact: the alias given; else the one artifact of the Azure ML model type among the release's
 * artifacts (the primary one is often the scoring code's repository); several → the alias must choose; when no
 * artifact has a Type at all, the primary artifact.
 */
export const MODEL_ARTIFACT_TYPES = ['AzureMLModel', 'azureml-model', 'azuremlmodel'];
export function isModelArtifactType(type: string | undefined): boolean {
  const t = (type ?? '').toLowerCase().replace(/[^a-z]/g, '');
  return (
    t !== '' &&
    (MODEL_ARTIFACT_TYPES.some((x) => x.toLowerCase().replace(/[^a-z]/g, '') === t) || /azureml.*model/.test(t))
  );
}
export function modelFromRelease(
  getVar: (name: string) => string | undefined,
  alias: string | undefined,
  artifacts: readonly ReleaseArtifact[] = [],
): { alias: string; name: string; version: string } | undefined {
  const read = (a: string) => {
    const name = getVar(`Release.Artifacts.${a}.DefinitionName`);
    const version = getVar(`Release.Artifacts.${a}.BuildNumber`);
    return name && version ? { alias: a, name, version } : undefined;
  };
  if (alias) {
    const r = read(alias);
    if (!r)
      throw new InputError(
        'modelArtifactAlias',
        `the release has no artifact '${alias}' with a model name and version (Release.Artifacts.${alias}.DefinitionName / .BuildNumber)`,
      );
    return r;
  }
  const primary = getVar('Release.PrimaryArtifactSourceAlias');
  const list = [...artifacts];
  if (primary && !list.some((a) => a.alias.toLowerCase() === primary.toLowerCase())) list.unshift({ alias: primary });
  const typeOf = (a: ReleaseArtifact) => a.type ?? getVar(`Release.Artifacts.${a.alias}.Type`);
  const models = list.filter((a) => isModelArtifactType(typeOf(a)));
  if (models.length > 1) {
    throw new InputError(
      'modelArtifactAlias',
      `the release has ${models.length} Azure ML model artifacts (${models.map((a) => `'${a.alias}' = ${a.definitionName ?? getVar(`Release.Artifacts.${a.alias}.DefinitionName`) ?? '?'}:${a.buildNumber ?? getVar(`Release.Artifacts.${a.alias}.BuildNumber`) ?? '?'}`).join(', ')}): set modelArtifactAlias to the one to deploy`,
    );
  }
  if (models.length === 1) return read(models[0]!.alias);
  if (primary && !list.some((a) => typeOf(a))) return read(primary);
  return undefined;
}

export function probeSettings(input: string, kv: Record<string, string> | undefined): ProbeInput | undefined {
  if (!kv || !Object.keys(kv).length) return undefined;
  const keys: Record<string, keyof ProbeInput> = {
    initialdelay: 'initialDelaySeconds',
    initialdelayseconds: 'initialDelaySeconds',
    period: 'periodSeconds',
    periodseconds: 'periodSeconds',
    timeout: 'timeoutSeconds',
    timeoutseconds: 'timeoutSeconds',
    failurethreshold: 'failureThreshold',
    successthreshold: 'successThreshold',
  };
  const out: ProbeInput = {};
  for (const [k, v] of Object.entries(kv)) {
    const key = keys[k.toLowerCase().replace(/[_-]/g, '')];
    if (!key)
      throw new InputError(
        input,
        `unknown setting '${k}' (initialDelay, period, timeout, failureThreshold, successThreshold)`,
      );
    if (!/^\d+$/.test(v.trim()))
      throw new InputError(input, `${k}=${v}: expected a whole number${/threshold/i.test(key) ? '' : ' of seconds'}`);
    out[key] = Number(v);
  }
  return out;
}

export function quantities(
  input: string,
  kv: Record<string, string> | undefined,
): { cpu?: string; memory?: string; gpu?: string } | undefined {
  if (!kv || !Object.keys(kv).length) return undefined;
  const out: { cpu?: string; memory?: string; gpu?: string } = {};
  for (const [k, v] of Object.entries(kv)) {
    const key = k.toLowerCase() === 'nvidia.com/gpu' ? 'gpu' : k.toLowerCase();
    if (key !== 'cpu' && key !== 'memory' && key !== 'gpu')
      throw new InputError(input, `unknown resource '${k}' (cpu, memory, gpu)`);
    if (!/^\d+(\.\d+)?([KMGTPE]i?|m|k)?$/.test(v.trim()))
      throw new InputError(input, `${k}=${v} is not a Kubernetes quantity (e.g. 0.5, 100m, 512Mi, 2Gi)`);
    out[key] = v.trim();
  }
  return out;
}
