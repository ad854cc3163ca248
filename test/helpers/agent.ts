// Runs a bundled task the way the Azure Pipelines agent does: a clean environment (INPUT_*, ENDPOINT_*, SYSTEM_*,
// BUILD_*, SECRET_*), `node tasks/<Name>V1/index.js`, then reads the `##vso[...]` logging commands it printed.
// Every run is appended to test/.output/<task>-<n>.log and scanned for leaked secrets (a leak throws).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AzureInABox } from '../emulator';

/**
 * 'msi' / 'msi-user': a ManagedServiceIdentity connection (the agent host's system-assigned identity, or a user-assigned
 * one named by the connection's msiclientId); the task also gets the host's identity-endpoint variables (managedIdentityHostEnv).
 */
export type AuthScheme = 'secret' | 'certificate' | 'wif' | 'wif-idtoken' | 'msi' | 'msi-user';

/** What the helper needs from Azure-in-a-box (AzureInABox satisfies it; unit tests pass a fake). */
export type AgentBox = Pick<
  AzureInABox,
  | 'armUrl'
  | 'authorityHost'
  | 'collectionUri'
  | 'projectId'
  | 'projectName'
  | 'oidcRequestUri'
  | 'systemAccessToken'
  | 'tenantId'
  | 'subscriptionId'
  | 'clientId'
  | 'clientSecret'
  | 'certificatePem'
  | 'audience'
  | 'childEnv'
> & {
  azurite: { key: string };
  issueOidcToken?(serviceConnectionId: string): string;
  readerClientSecret?: string;
  managedIdentity?: AzureInABox['managedIdentity'];
};

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const OUTPUT_DIR = path.join(REPO_ROOT, 'test', '.output');
const COMPILE_CACHE_PRELOAD = path.join(__dirname, 'compile-cache.cjs');
const COMPILE_CACHE_DIR = path.join(OUTPUT_DIR, 'compile-cache');

/**
 * ENDPOINT_URL_/ENDPOINT_AUTH_/ENDPOINT_DATA_ variables for an AzureRM service connection `id`, as the agent sets them.
 * 'wif-idtoken' needs `opts.idToken` (runBundledTask fetches one from the emulator's OIDC endpoint).
 * extraData adds or overrides ENDPOINT_DATA_<id>_<KEY> (e.g. { scopeLevel: 'AzureMLWorkspace', resourceGroupName, mlWorkspaceName }).
 */
export function connectionEnv(
  box: AgentBox,
  id: string,
  scheme: AuthScheme,
  extraData?: Record<string, string>,
  opts: { idToken?: string } = {},
): Record<string, string> {
  const base = { serviceprincipalid: box.clientId, tenantid: box.tenantId };
  let auth: { scheme: string; parameters: Record<string, string> };
  switch (scheme) {
    case 'secret':
      auth = {
        scheme: 'ServicePrincipal',
        parameters: { ...base, authenticationType: 'spnKey', serviceprincipalkey: box.clientSecret },
      };
      break;
    case 'certificate':
      auth = {
        scheme: 'ServicePrincipal',
        parameters: { ...base, authenticationType: 'spnCertificate', servicePrincipalCertificate: box.certificatePem },
      };
      break;
    case 'wif':
      auth = { scheme: 'WorkloadIdentityFederation', parameters: { ...base } };
      break;
    case 'wif-idtoken':
      if (!opts.idToken) throw new Error("connectionEnv: scheme 'wif-idtoken' needs opts.idToken (see fetchIdToken)");
      auth = { scheme: 'WorkloadIdentityFederation', parameters: { ...base, idToken: opts.idToken } };
      break;
    case 'msi':
    case 'msi-user':
      // a "Managed identity" AzureRM connection: the authorization carries only the tenant; a user-assigned identity's
      // client id is endpoint data `msiclientId` (azure-pipelines-tasks azure-arm-rest AzureRMEndpoint reads it there)
      auth = { scheme: 'ManagedServiceIdentity', parameters: { tenantid: box.tenantId } };
      if (scheme === 'msi-user') {
        if (!box.managedIdentity) throw new Error("connectionEnv: scheme 'msi-user' needs a box with managedIdentity");
        extraData = { msiclientId: box.managedIdentity.userClientId, ...extraData };
      }
      break;
    default:
      throw new Error(`connectionEnv: unknown scheme ${scheme as string}`);
  }
  const env: Record<string, string> = {
    [`ENDPOINT_URL_${id}`]: box.armUrl,
    [`ENDPOINT_AUTH_${id}`]: JSON.stringify(auth),
    [`ENDPOINT_AUTH_SCHEME_${id}`]: auth.scheme,
  };
  for (const [k, v] of Object.entries(auth.parameters)) env[`ENDPOINT_AUTH_PARAMETER_${id}_${k.toUpperCase()}`] = v;
  const data: Record<string, string> = {
    subscriptionId: box.subscriptionId,
    subscriptionName: 'Azure-in-a-box',
    environment: 'AzureCloud',
    scopeLevel: 'Subscription',
    activeDirectoryAuthority: box.authorityHost,
    activeDirectoryServiceEndpointResourceId: box.audience,
    ...extraData,
  };
  for (const [k, v] of Object.entries(data)) env[`ENDPOINT_DATA_${id}_${k.toUpperCase()}`] = v;
  return env;
}

/**
 * The machine's environment on the agent's host that makes its managed identity reachable: what App Service / Functions
 * set (IDENTITY_ENDPOINT + IDENTITY_HEADER). A VM / scale-set agent would use IMDS (169.254.169.254) instead, which is
 * not reachable here; @azure/identity picks the source from these variables alone, so the task code path is the same.
 */
export function managedIdentityHostEnv(box: AgentBox): Record<string, string> {
  if (!box.managedIdentity) throw new Error('managedIdentityHostEnv: the box has no managed identity endpoint');
  return { IDENTITY_ENDPOINT: box.managedIdentity.endpoint, IDENTITY_HEADER: box.managedIdentity.header };
}

/** An OIDC token for service connection `id` from the emulator's OIDC endpoint (what a `idToken` parameter would hold). */
export async function fetchIdToken(box: AgentBox, id: string): Promise<string> {
  const u = new URL(box.oidcRequestUri);
  u.searchParams.set('api-version', '7.1');
  u.searchParams.set('serviceConnectionId', id);
  const res = await fetch(u, {
    method: 'POST',
    headers: { authorization: `Bearer ${box.systemAccessToken}`, 'content-type': 'application/json' },
    body: '{}',
  });
  if (!res.ok) throw new Error(`fetchIdToken: HTTP ${res.status}`);
  const body = (await res.json()) as { oidcToken?: string };
  if (!body.oidcToken) throw new Error('fetchIdToken: no oidcToken');
  return body.oidcToken;
}

// ---------------------------------------------------------------------------------------------------------------
// Logging commands

export interface VsoCommand {
  name: string;
  props: Record<string, string>;
  data: string;
  line: number;
  stream: 'stdout' | 'stderr';
}

const ESCAPES: Record<string, string> = { '%AZP25': '%', '%25': '%', '%3B': ';', '%0D': '\r', '%0A': '\n', '%5D': ']' };
/** Undo the agent's logging-command escaping in one pass (%AZP25 and %25 → %, %3B → ;, %0D, %0A, %5D → ]). */
export function unescapeVso(s: string): string {
  return s.replace(/%AZP25|%25|%3B|%0D|%0A|%5D/gi, (m) => ESCAPES[m.toUpperCase()] ?? m);
}

/** Parses one line: `##vso[area.event k=v;k2=v2]data` (anywhere in the line, as the agent looks for it). */
export function parseVsoLine(text: string): { name: string; props: Record<string, string>; data: string } | undefined {
  const at = text.indexOf('##vso[');
  if (at < 0) return undefined;
  const rest = text.slice(at + 6);
  const close = rest.indexOf(']');
  if (close < 0) return undefined;
  const head = rest.slice(0, close).trim();
  const sp = head.indexOf(' ');
  const name = (sp < 0 ? head : head.slice(0, sp)).toLowerCase();
  if (!name) return undefined;
  const props: Record<string, string> = {};
  if (sp >= 0) {
    for (const part of head.slice(sp + 1).split(';')) {
      const p = part.trim();
      if (!p) continue;
      const eq = p.indexOf('=');
      if (eq < 0) props[p] = '';
      else props[p.slice(0, eq).trim()] = unescapeVso(p.slice(eq + 1));
    }
  }
  return { name, props, data: unescapeVso(rest.slice(close + 1)) };
}

export function parseVsoCommands(stdout: string, stderr = ''): VsoCommand[] {
  const out: VsoCommand[] = [];
  for (const [stream, text] of [
    ['stdout', stdout],
    ['stderr', stderr],
  ] as const) {
    text.split('\n').forEach((raw, i) => {
      const c = parseVsoLine(raw.replace(/\r$/, ''));
      if (c) out.push({ ...c, line: i + 1, stream });
    });
  }
  return out;
}

export interface TaskRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** from task.complete (worst wins, as the agent merges); without task.complete, the exit code decides, as for the agent */
  result?: 'Succeeded' | 'SucceededWithIssues' | 'Failed' | 'Cancelled' | 'Skipped';
  message?: string;
  /** whether the task printed task.complete */
  completed: boolean;
  outputs: Record<string, string>;
  /** names of outputs set with issecret=true (their values are in outputs too) */
  secretOutputs: string[];
  commands: Array<{ name: string; props: Record<string, string>; data: string }>;
  errors: string[];
  warnings: string[];
  /** markdown contents of task.uploadsummary files */
  summaries: string[];
  /** task.setprogress values, in order */
  progress: number[];
  /** test/.output log of this run */
  logFile: string;
  durationMs: number;
}

/** Property lookup ignoring case, as the agent does (`isOutput`, `isoutput`). */
export function prop(props: Record<string, string>, key: string): string | undefined {
  const k = Object.keys(props).find((p) => p.toLowerCase() === key.toLowerCase());
  return k === undefined ? undefined : props[k];
}

const RANK: Record<string, number> = { Succeeded: 0, SucceededWithIssues: 1, Skipped: 2, Failed: 3, Cancelled: 4 };

/** Derives result, outputs, errors and summaries from a run's output (exported for tests of the parser). */
export function interpretRun(
  stdout: string,
  stderr: string,
  code: number | null,
): Omit<TaskRun, 'signal' | 'logFile' | 'durationMs' | 'code' | 'stdout' | 'stderr'> {
  const cmds = parseVsoCommands(stdout, stderr);
  const r: ReturnType<typeof interpretRun> = {
    completed: false,
    outputs: {},
    secretOutputs: [],
    commands: [],
    errors: [],
    warnings: [],
    summaries: [],
    progress: [],
  };
  for (const c of cmds) {
    r.commands.push({ name: c.name, props: c.props, data: c.data });
    const lc = (k: string) => (prop(c.props, k) ?? '').toLowerCase();
    switch (c.name) {
      case 'task.complete': {
        const res = (Object.keys(RANK).find((k) => k.toLowerCase() === lc('result')) ?? 'Failed') as NonNullable<
          TaskRun['result']
        >;
        if (!r.completed || RANK[res] >= RANK[r.result!]) {
          r.result = res;
          r.message = c.data;
        }
        r.completed = true;
        break;
      }
      case 'task.setvariable':
        if (lc('isoutput') === 'true' && prop(c.props, 'variable')) {
          const name = prop(c.props, 'variable')!;
          r.outputs[name] = c.data;
          if (lc('issecret') === 'true' && !r.secretOutputs.includes(name)) r.secretOutputs.push(name);
        }
        break;
      case 'task.logissue':
      case 'task.issue':
        if (lc('type') === 'error') r.errors.push(c.data);
        else if (lc('type') === 'warning') r.warnings.push(c.data);
        break;
      case 'task.uploadsummary':
        r.summaries.push(readSummary(c.data));
        break;
      case 'task.addattachment':
        if (lc('type') === 'distributedtask.core.summary') r.summaries.push(readSummary(c.data));
        break;
      case 'task.setprogress': {
        const n = Number(prop(c.props, 'value'));
        if (Number.isFinite(n)) r.progress.push(n);
        break;
      }
    }
  }
  if (!r.completed) r.result = code === 0 ? 'Succeeded' : 'Failed';
  return r;
}

function readSummary(file: string): string {
  try {
    return fs.readFileSync(file.trim(), 'utf8');
  } catch {
    return `<missing summary file ${file.trim()}>`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Secret scanner

export interface KnownSecret {
  kind: string;
  value: string;
}

const PATTERNS: Array<{ kind: string; re: RegExp }> = [
  { kind: 'bearer token', re: /\bBearer\s+[A-Za-z0-9._~+/=-]{16,}/i },
  { kind: 'JWT', re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/ },
  { kind: 'SAS signature', re: /[?&;\s"']sig=(?!%3C|<|\*)[A-Za-z0-9%+/=]{10,}/i },
  { kind: 'storage account key', re: /AccountKey=[A-Za-z0-9+/]{20,}/i },
  { kind: 'private key', re: /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/ },
];

/** Lines where the agent expects secrets: the masking command and secret output variables. */
export function isSecretCarrierLine(line: string): boolean {
  const c = parseVsoLine(line);
  if (!c) return false;
  return (
    c.name === 'task.setsecret' ||
    (c.name === 'task.setvariable' && (prop(c.props, 'issecret') ?? '').toLowerCase() === 'true')
  );
}

/** Secrets the run itself declared: ##vso[task.setsecret] values and issecret=true variable values. */
export function declaredSecrets(text: string): KnownSecret[] {
  const out: KnownSecret[] = [];
  for (const line of text.split('\n')) {
    const c = parseVsoLine(line.replace(/\r$/, ''));
    if (!c) continue;
    if (c.name === 'task.setsecret' && c.data.trim().length >= 6)
      out.push({ kind: 'value masked with task.setsecret', value: c.data.trim() });
    if (
      c.name === 'task.setvariable' &&
      (prop(c.props, 'issecret') ?? '').toLowerCase() === 'true' &&
      c.data.trim().length >= 6
    ) {
      out.push({ kind: `secret variable '${prop(c.props, 'variable')}'`, value: c.data.trim() });
    }
  }
  return out;
}

/** The fixed secrets of Azure-in-a-box (client secret, storage key, job token, private-key lines of the certificate). */
export function boxSecrets(box: AgentBox): KnownSecret[] {
  const out: KnownSecret[] = [
    { kind: 'client secret', value: box.clientSecret },
    { kind: 'storage account key', value: box.azurite.key },
    { kind: 'system access token', value: box.systemAccessToken },
    { kind: 'reader client secret', value: box.readerClientSecret ?? '' },
    { kind: 'identity endpoint header (IDENTITY_HEADER)', value: box.managedIdentity?.header ?? '' },
  ];
  const key = box.certificatePem.match(/-----BEGIN [A-Z ]*PRIVATE KEY-----([\s\S]+?)-----END/);
  if (key) {
    for (const l of key[1].split(/\r?\n/))
      if (l.trim().length >= 16) out.push({ kind: 'certificate private key', value: l.trim() });
  }
  return out.filter((s) => s.value && s.value.length >= 6);
}

export interface Leak {
  kind: string;
  stream: string;
  line: number;
}

/**
 * Finds secrets in output: any known secret (raw or URL-encoded) or secret-looking pattern on a line that is not
 * a setsecret / issecret=true line. Returns the leaks without the secret values.
 */
export function scanForSecrets(streams: Record<string, string>, known: KnownSecret[]): Leak[] {
  const all = [...known];
  for (const text of Object.values(streams)) all.push(...declaredSecrets(text));
  const needles: KnownSecret[] = [];
  const seen = new Set<string>();
  for (const s of all) {
    for (const v of [s.value, encodeURIComponent(s.value)]) {
      if (!seen.has(v)) {
        seen.add(v);
        needles.push({ kind: s.kind, value: v });
      }
    }
  }
  const leaks: Leak[] = [];
  for (const [stream, text] of Object.entries(streams)) {
    text.split('\n').forEach((raw, i) => {
      const line = raw.replace(/\r$/, '');
      if (isSecretCarrierLine(line)) return;
      const hit = needles.find((n) => line.includes(n.value)) ?? PATTERNS.find((p) => p.re.test(line));
      if (hit) leaks.push({ kind: hit.kind, stream, line: i + 1 });
    });
  }
  return leaks;
}

// ---------------------------------------------------------------------------------------------------------------
// Running

export interface RunOptions {
  box: AgentBox;
  inputs: Record<string, string>;
  scheme?: AuthScheme;
  variables?: Record<string, string>;
  secrets?: Record<string, string>;
  cwd?: string;
  signalAfterMs?:
    { signal: 'SIGINT' | 'SIGTERM'; ms: number } | { signal: 'SIGINT' | 'SIGTERM'; whenStdoutMatches: RegExp };
  /** send more signals later (e.g. the agent's SIGINT → SIGTERM sequence): ms after the first signal */
  thenSignals?: Array<{ signal: 'SIGINT' | 'SIGTERM' | 'SIGKILL'; afterMs: number }>;
  timeoutMs?: number;
  /** extra ENDPOINT_DATA for the connection (workspace-scoped connections etc.) */
  connectionData?: Record<string, string>;
  /** extra raw environment (after everything else) */
  env?: Record<string, string>;
  /** internal: run this script instead of tasks/<task>V1/index.js */
  scriptPath?: string;
  /** internal: node arguments before the script (e.g. ['--import', 'tsx']) */
  nodeArgs?: string[];
  /** don't throw on a leak (the scanner's own tests); leaks are returned in `leaks` */
  allowLeaks?: boolean;
}

export type TaskRunWithLeaks = TaskRun & { leaks: Leak[] };

const inputKey = (name: string) => `INPUT_${name.replace(/[. ]/g, '_').toUpperCase()}`;
const varKey = (name: string) => name.replace(/[. ]/g, '_').toUpperCase();

function claimLogFile(task: string): string {
  fs.mkdirSync(OUTPUT_DIR, { recursive: true });
  for (let n = 1; ; n++) {
    const file = path.join(OUTPUT_DIR, `${task}-${n}.log`);
    try {
      fs.closeSync(fs.openSync(file, 'wx'));
      return file;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** The agent environment for a run (exported for tests). */
export async function agentEnv(
  task: string,
  opts: RunOptions,
  dirs: { temp: string; work: string; sources: string },
): Promise<Record<string, string>> {
  const { box } = opts;
  const scheme = opts.scheme ?? 'secret';
  const connId = `conn-${scheme}`;
  const plan = box.oidcRequestUri.match(/\/plans\/([^/]+)\/jobs\/([^/?]+)/i);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? os.homedir(),
    ...box.childEnv(),
    TF_BUILD: 'True',
    AGENT_TEMPDIRECTORY: dirs.temp,
    AGENT_WORKFOLDER: dirs.work,
    AGENT_BUILDDIRECTORY: dirs.work,
    AGENT_NAME: 'azure-in-a-box-agent',
    AGENT_OS: 'Linux',
    AGENT_VERSION: '4.264.2',
    AGENT_JOBSTATUS: 'Succeeded',
    SYSTEM_TEAMFOUNDATIONCOLLECTIONURI: box.collectionUri,
    SYSTEM_COLLECTIONURI: box.collectionUri,
    SYSTEM_TEAMPROJECT: box.projectName,
    SYSTEM_TEAMPROJECTID: box.projectId,
    SYSTEM_HOSTTYPE: 'build',
    SYSTEM_SERVERTYPE: 'Hosted',
    SYSTEM_PLANID: plan?.[1] ?? '5f7b1c2e-0000-4000-8000-000000000001',
    SYSTEM_JOBID: plan?.[2] ?? '5f7b1c2e-0000-4000-8000-000000000002',
    SYSTEM_JOBATTEMPT: '1',
    SYSTEM_STAGENAME: 'Train',
    SYSTEM_DEFAULTWORKINGDIRECTORY: dirs.sources,
    ENDPOINT_URL_SYSTEMVSSCONNECTION: box.collectionUri,
    ENDPOINT_AUTH_SYSTEMVSSCONNECTION: JSON.stringify({
      scheme: 'OAuth',
      parameters: { AccessToken: box.systemAccessToken },
    }),
    ENDPOINT_AUTH_SCHEME_SYSTEMVSSCONNECTION: 'OAuth',
    ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN: box.systemAccessToken,
    BUILD_BUILDID: '4242',
    BUILD_BUILDNUMBER: '20261122.3',
    BUILD_DEFINITIONNAME: 'azureml-ci',
    BUILD_REPOSITORY_NAME: 'contoso-ml',
    BUILD_REPOSITORY_URI: `${box.collectionUri}${encodeURIComponent(box.projectName)}/_git/contoso-ml`,
    BUILD_REPOSITORY_PROVIDER: 'TfsGit',
    BUILD_SOURCEVERSION: '3f786850e387550fdab836ed7e6dc881de23001b',
    BUILD_SOURCEBRANCH: 'refs/heads/main',
    BUILD_SOURCEBRANCHNAME: 'main',
    BUILD_REQUESTEDFOR: 'Ada Lovelace',
    BUILD_REASON: 'IndividualCI',
    BUILD_SOURCESDIRECTORY: dirs.sources,
    BUILD_ARTIFACTSTAGINGDIRECTORY: path.join(dirs.work, 'a'),
  };
  if (scheme !== 'wif-idtoken') env.SYSTEM_OIDCREQUESTURI = box.oidcRequestUri;
  else {
    // the endpoint's idToken is the task's last token source (after System.OidcRequestUri and the job's plan, both
    // of which need the job access token): a job that gives the task no access token
    for (const k of Object.keys(env))
      if (k.startsWith('ENDPOINT_AUTH_') && k.includes('SYSTEMVSSCONNECTION')) delete env[k];
  }
  if (scheme === 'msi' || scheme === 'msi-user') Object.assign(env, managedIdentityHostEnv(box));
  const idToken =
    scheme === 'wif-idtoken' ? (box.issueOidcToken?.(connId) ?? (await fetchIdToken(box, connId))) : undefined;
  Object.assign(env, connectionEnv(box, connId, scheme, opts.connectionData, { idToken }));

  const inputs = { ...opts.inputs };
  if (!('connection' in inputs) && !('azureSubscription' in inputs)) inputs.connection = connId;
  for (const [k, v] of Object.entries(opts.variables ?? {})) env[varKey(k)] = v;
  for (const [k, v] of Object.entries(opts.secrets ?? {})) env[`SECRET_${varKey(k)}`] = v;
  for (const [k, v] of Object.entries(agentInputs(task, inputs, env.SYSTEM_DEFAULTWORKINGDIRECTORY!)))
    env[inputKey(k)] = v;
  Object.assign(env, opts.env);
  return env;
}

/**
 * What reaches the task for a step's inputs. Aliases first: a step may name an input by one of its task.json
 * `aliases` (`azureSubscription:` for `connection`), and the task still receives it under the input's own name,
 * INPUT_<NAME>: the agent merges the step's inputs by the keys it is sent, with no alias lookup (microsoft/
 * azure-pipelines-agent src/Agent.Worker/TaskRunner.cs, commit 002f492f3598b1cba38efff7383d66702627ee6f, "Merge the
 * instance inputs"), and task-lib reads INPUT_<NAME> only (azure-pipelines-task-lib 5.281.0 has no alias code), while
 * first-party tasks declare an alias and read the primary name (microsoft/azure-pipelines-tasks Tasks/AzureCLIV2:
 * input connectedServiceNameARM, aliases ["azureSubscription"], read with tl.getInput('connectedServiceNameARM')).
 * So the alias is resolved to the name before the job reaches the agent. ASSUMPTION: by the server when it builds
 * the job (its code is not public); a step giving both the name and an alias is not modelled.
 * Then what the agent's TaskRunner does (azure-pipelines-agent,
 * TaskRunner.cs): every input of task.json not given gets its `defaultValue` (or ''), and every `filePath` input is
 * rooted by the job extension: blank → the default working directory (the sources folder in a build, the artifacts
 * folder in a release), relative → joined to it. A task must therefore treat a blank filePath input arriving as that
 * folder as "not supplied".
 */
export function agentInputs(task: string, given: Record<string, string>, root: string): Record<string, string> {
  const file = path.join(REPO_ROOT, 'tasks', `${task}V1`, 'task.json');
  if (!fs.existsSync(file)) return { ...given };
  const def = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    inputs?: Array<{ name: string; type: string; aliases?: string[]; defaultValue?: string | number | boolean }>;
  };
  const out: Record<string, string> = { ...given };
  for (const i of def.inputs ?? []) {
    for (const a of i.aliases ?? []) {
      if (a in out) {
        if (!(i.name in out)) out[i.name] = out[a]!;
        delete out[a];
      }
    }
  }
  for (const i of def.inputs ?? []) {
    if (!(i.name in out)) out[i.name] = i.defaultValue === undefined ? '' : String(i.defaultValue).trim();
    if (i.type === 'filePath')
      out[i.name] =
        out[i.name] === ''
          ? root
          : path.isAbsolute(out[i.name]!)
            ? path.resolve(out[i.name]!)
            : path.join(root, out[i.name]!);
  }
  return out;
}

/** Spawns `node tasks/<task>V1/index.js` with the agent's environment; parses the logging commands; scans for secrets. */
export async function runBundledTask(task: string, opts: RunOptions): Promise<TaskRunWithLeaks> {
  const script = opts.scriptPath ?? path.join(REPO_ROOT, 'tasks', `${task}V1`, 'index.js');
  if (!fs.existsSync(script))
    throw new Error(`runBundledTask: ${path.relative(REPO_ROOT, script)} does not exist (run npm run build)`);
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), `agent-${task}-`));
  const dirs = { temp: path.join(temp, '_temp'), work: temp, sources: opts.cwd ?? path.join(temp, 's') };
  fs.mkdirSync(dirs.temp, { recursive: true });
  fs.mkdirSync(dirs.sources, { recursive: true });
  const env = await agentEnv(task, opts, dirs);
  const logFile = claimLogFile(task);
  const started = Date.now();
  // the V8 code cache of the test harness (compile-cache.cjs: same bundle, same Node, ~0.15 s less CPU per spawn);
  // its directory reaches the preload only, which removes the variable before the task starts
  const child = spawn(process.execPath, ['--require', COMPILE_CACHE_PRELOAD, ...(opts.nodeArgs ?? []), script], {
    cwd: dirs.sources,
    env: { ...env, AZUREML_TEST_COMPILE_CACHE: COMPILE_CACHE_DIR },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  const timers: NodeJS.Timeout[] = [];
  let signalled = false;
  const sendSignals = () => {
    if (signalled || !opts.signalAfterMs) return;
    signalled = true;
    child.kill(opts.signalAfterMs.signal);
    for (const s of opts.thenSignals ?? [])
      timers.push(setTimeout(() => child.exitCode === null && child.kill(s.signal), s.afterMs));
  };
  const sig = opts.signalAfterMs;
  if (sig && 'ms' in sig) timers.push(setTimeout(sendSignals, sig.ms));
  child.stdout.on('data', (d: string) => {
    stdout += d;
    if (sig && 'whenStdoutMatches' in sig && !signalled && sig.whenStdoutMatches.test(stdout)) sendSignals();
  });
  child.stderr.on('data', (d: string) => (stderr += d));
  let timedOut = false;
  const timeoutMs = opts.timeoutMs ?? 120_000;
  timers.push(
    setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs),
  );
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, s) => resolve([c, s]));
  });
  timers.forEach(clearTimeout);
  const durationMs = Date.now() - started;

  fs.appendFileSync(
    logFile,
    `# ${task} (${path.relative(REPO_ROOT, script)}) exit=${code ?? signal} ${durationMs}ms\n# inputs: ${JSON.stringify(opts.inputs)}\n` +
      `## stdout\n${stdout}\n## stderr\n${stderr}\n`,
  );
  const parsed = interpretRun(stdout, stderr, code);
  const run: TaskRunWithLeaks = { code, signal, stdout, stderr, ...parsed, logFile, durationMs, leaks: [] };

  const known = [
    ...boxSecrets(opts.box),
    ...Object.entries(opts.secrets ?? {}).map(([k, v]) => ({ kind: `secret variable '${k}'`, value: v })),
  ].filter((s) => s.value.length >= 6);
  const summaries = Object.fromEntries(run.summaries.map((s, i) => [`summary ${i + 1}`, s]));
  run.leaks = scanForSecrets({ stdout, stderr, ...summaries }, known);
  fs.rmSync(temp, { recursive: true, force: true });
  if (timedOut) throw new Error(`${task} timed out after ${timeoutMs} ms (log: ${path.relative(REPO_ROOT, logFile)})`);
  if (run.leaks.length && !opts.allowLeaks) {
    const l = run.leaks[0];
    throw new Error(
      `Secret leak in ${task}: ${l.kind} in ${l.stream} line ${l.line}` +
        (run.leaks.length > 1 ? ` (+${run.leaks.length - 1} more)` : '') +
        ` (log: ${path.relative(REPO_ROOT, logFile)})`,
    );
  }
  return run;
}

/** A run's result, message and the tail of its log (task.debug lines left out), for assertion messages. */
export function explainRun(
  r: Pick<TaskRun, 'result' | 'message' | 'stdout' | 'stderr'>,
  o: { lines?: number; stderrChars?: number; headings?: boolean } = {},
): string {
  const tail = r.stdout
    .split('\n')
    .filter((l) => !l.startsWith('##vso[task.debug'))
    .slice(-(o.lines ?? 30))
    .join('\n');
  const err = r.stderr.slice(-(o.stderrChars ?? 2000));
  return o.headings === false
    ? `result=${r.result} message=${r.message}\n${tail}\n${err}`
    : `result=${r.result} message=${r.message}\n--- stdout (tail)\n${tail}\n--- stderr\n${err}`;
}
