// `npm run demo` (= npm run build && tsx scripts/demo.ts): the whole MLOps loop against Azure-in-a-box, with the REAL
// bundled tasks (tasks/<Name>V1/index.js) run the way the Azure Pipelines agent runs them (test/helpers/agent.ts), and
// the agentless AzureMLJobWait@1 run the way the Azure DevOps server runs a server task (test/emulator/devops/serverJobs.ts):
//
//   prepare (AzureMLJob, mode: prepare, samples/training/job.yml: checks and uploads, outputs jobName + jobDefinition;
//   the agent is released) → wait (AzureMLJobWait mode PUT in an agentless job: the server CREATES the job with Azure
//     ML's AzureDevOps webhook in the creation request — no end can be missed — then no agent and no request until
//     Azure ML posts TaskCompleted to the plan events API) → evaluate (AzureMLModelEvaluate vs production)
//   → register (AzureMLModelRegister, the job's model output) → trigger (AzureMLReleaseTrigger push: a release in the
//   emulated Azure DevOps) → download via the model artifact (release variables + the injected AzureMLModelDownload)
//   → deploy to staging (managed endpoint) → approval (recorded on the emulated release) → health gate (production's
//   first task in samples/release/model-cd.release.json: AzureMLEndpointHealth on staging's own metrics, after 20
//   requests of staging traffic) → deploy to AKS (Kubernetes endpoint, blue/green) → score a request against
//   production (through the front door, with the endpoint key) → drift (shifted production traffic, collected by the
//   production deployment's data collector, against the training job's input: AzureMLDriftCheck says retrain) → what the gate stops: the same production job against
//   a second managed endpoint whose deployment fails ~30 % of its requests (test/fixtures/scoring/flaky): the gate
//   fails with the evidence and the production deploy does not run.
//
// State lives in .azure-in-a-box/demo (kept): a second run takes the idempotent path (prepare finds the same job already
// Completed, so the wait job is skipped as samples/pipelines/agentless-wait.yml's condition skips it; same model
// version, no new release, "already serving, no traffic change").
//
//   npm run demo [-- --state <dir>] [--fresh] [--fast]
//     --state <dir>  state folder (default .azure-in-a-box/demo)
//     --fresh        delete the state folder first
//     --fast         emulator LROs and job status changes without delays
//
// runDemo() is also what test/e2e/demo.test.ts runs.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startAzureInABox, type AzureInABox } from '../test/emulator';
import { ensureCa } from '../test/emulator/ca';
import { REPO_ROOT, runBundledTask, unescapeVso, type RunOptions, type TaskRunWithLeaks } from '../test/helpers/agent';
import {
  boxEndpoint,
  evaluateBinding,
  injectedTaskInputs,
  loadArtifactType,
  type LinkedArtifact,
  type PickerValue,
} from '../test/helpers/artifactHarness';
import {
  addReleaseDefinition,
  approve,
  listApprovals,
  listReleases,
  RELEASES,
  type ReleaseRecord,
} from '../test/emulator/devops/release';
import { runServerTask, type ServerConnection } from '../test/emulator/devops/serverJobs';
import { jobStatusHistory } from '../test/emulator/arm/jobs';
import { TERMINAL_STATUSES } from '../src/azureml/jobs';
import { addRegistry, addWorkspace } from '../test/emulator/arm/registries';

export interface DemoOptions {
  /** state folder of Azure-in-a-box (kept across runs); ignored when `box` is given */
  stateDir: string;
  /** use this running box instead of starting one (it is not stopped) */
  box?: AzureInABox;
  /** fast emulator timing (tests) */
  fast?: boolean;
  /** where the demo writes its step summaries (markdown) and demo-run.json; default <stateDir>/../demo-output */
  outDir?: string;
  /** printer (default console.log); '' lines are blank lines */
  print?: (line: string) => void;
  /** key log lines shown per step (default 10) */
  maxLogLines?: number;
  /** the registry layout (samples/pipelines/cd-registry.yml): dev trains → registry → staging and production workspaces */
  registry?: boolean;
}

export type StepStatus = 'ok' | 'skipped' | 'failed';

export interface StepResult {
  id: string;
  title: string;
  task?: string;
  status: StepStatus;
  ms: number;
  note?: string;
  outputs: Record<string, string>;
  /** markdown summaries the step's tasks uploaded (title = the summary's file name, as Azure DevOps shows it) */
  summaries: Array<{ title: string; task: string; markdown: string; file?: string }>;
  /** the key log lines of each task run (what the pipeline log shows, without logging commands) */
  logs: Array<{ task: string; lines: string[] }>;
  logFile?: string;
  /** extra facts of the step (release id, approvers, scoring answer …) */
  facts: Record<string, unknown>;
}

export interface DemoResult {
  ok: boolean;
  ms: number;
  steps: StepResult[];
  step(id: string): StepResult | undefined;
  /** Release.Artifacts.* and Release.* variables of the release the trigger created (or found) */
  releaseVariables: Record<string, string>;
  stateDir: string;
  outDir: string;
}

const TASK_DIR = (task: string) => path.join(REPO_ROOT, 'tasks', `${task}V1`);
export function taskAvailable(task: string): boolean {
  return fs.existsSync(path.join(TASK_DIR(task), 'task.json')) && fs.existsSync(path.join(TASK_DIR(task), 'index.js'));
}

/** Things the steps hand to each other. */
interface Flow {
  box: AzureInABox;
  fast: boolean;
  print: (line: string) => void;
  maxLogLines: number;
  outDir: string;
  modelName: string;
  jobName?: string;
  /** the job's status as the prepare step reported it (`Prepared` = not created yet), then as the wait saw it end */
  jobStatus?: string;
  /** the prepare step's jobDefinition output (mode PUT's body) */
  jobDefinition?: string;
  modelOutputUri?: string;
  modelVersion?: string;
  isBetter?: boolean;
  /** evaluation.json of the evaluate step, kept as the CI run's published artifact */
  evaluationFile?: string;
  releaseId?: string;
  release?: ReleaseRecord;
  artifact?: { linked: LinkedArtifact; version: PickerValue };
  releaseVariables: Record<string, string>;
  stagingDeployment?: string;
  staging?: { uri: string; key: string };
  /** the erroring endpoint's deploy, started in the background while staging deploys (its provisioning waits overlap) */
  faultyDeploy?: Promise<TaskRunWithLeaks>;
  prodDeployment?: string;
  prodScoringUri?: string;
  prodKey?: string;
  /** the registry variant: the promoted version's azureml://registries/… URI */
  registryModelUri?: string;
  cwd: string;
}

interface StepDef {
  id: string;
  title: string;
  task?: string;
  /** tasks this step needs besides `task` (e.g. the artifact harness) */
  needs?: () => string | undefined;
  run(flow: Flow, res: StepResult): Promise<void>;
}

class StepFailed extends Error {}

// ---------------------------------------------------------------------------------------------------------------
// Printing

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const c = (code: string, s: string) => (useColor ? `\u001b[${code}m${s}\u001b[0m` : s);
const bold = (s: string) => c('1', s);
const dim = (s: string) => c('2', s);
const green = (s: string) => c('32', s);
const yellow = (s: string) => c('33', s);
const red = (s: string) => c('31', s);
const cyan = (s: string) => c('36', s);

const trim = (s: string, n = 160) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const rel = (p: string) => path.relative(REPO_ROOT, p) || '.';

/** The lines of a task's output a person reads in the pipeline log: no logging commands, no debug lines. */
export function keyLogLines(stdout: string): string[] {
  const out: string[] = [];
  for (const raw of stdout.split('\n')) {
    const line = raw.replace(/\r$/, '').trimEnd();
    if (!line.trim()) continue;
    if (line.startsWith('##vso[')) {
      const m = /^##vso\[task\.(logissue|issue) type=(error|warning)[^\]]*\](.*)$/.exec(line);
      if (m) out.push(`${m[2] === 'error' ? '##[error]' : '##[warning]'}${unescapeVso(m[3]!)}`);
      continue;
    }
    if (line.startsWith('##[debug]')) continue;
    out.push(line);
  }
  return out;
}

/** Runs of training-progress lines (`epoch 15 loss …`) folded to their first and last line. */
export function foldProgress(lines: string[]): string[] {
  const out: string[] = [];
  const isProgress = (l: string) => /^\s*(epoch|step|iter(ation)?)\s+\d+/i.test(l);
  for (let i = 0; i < lines.length; i++) {
    if (!isProgress(lines[i]!)) {
      out.push(lines[i]!);
      continue;
    }
    let j = i;
    while (j + 1 < lines.length && isProgress(lines[j + 1]!)) j++;
    if (j - i >= 3) out.push(lines[i]!, `  … ${j - i - 1} more progress line(s) …`, lines[j]!);
    else out.push(...lines.slice(i, j + 1));
    i = j;
  }
  return out;
}

function printLog(flow: Flow, run: TaskRunWithLeaks): void {
  const lines = foldProgress(keyLogLines(run.stdout));
  const shown =
    lines.length > flow.maxLogLines
      ? [
          ...lines.slice(0, 3),
          `… ${lines.length - flow.maxLogLines + 1} more line(s) …`,
          ...lines.slice(-(flow.maxLogLines - 4)),
        ]
      : lines;
  for (const l of shown)
    flow.print(
      `  ${dim('│')} ${l.startsWith('##[error]') ? red(trim(l)) : l.startsWith('##[warning]') ? yellow(trim(l)) : trim(l)}`,
    );
}

function printKv(flow: Flow, title: string, kv: Record<string, string>, secret: string[] = []): void {
  // metric.* outputs (job metrics, evaluation per metric) on one line; empty values left out
  const metrics = Object.keys(kv).filter((k) => k.startsWith('metric.') && kv[k] !== '');
  const keys = Object.keys(kv).filter((k) => !k.startsWith('metric.') && kv[k] !== '');
  if (!keys.length && !metrics.length) return;
  flow.print(`  ${cyan(title)}`);
  if (metrics.length) {
    const fmt = (v: string) => (/^-?\d+\.\d{5,}$/.test(v) ? Number(v).toFixed(4) : v);
    flow.print(`    ${trim(metrics.map((k) => `${k.slice(7)}=${fmt(kv[k]!)}`).join('  '), 150)}`);
  }
  if (!keys.length) return;
  const w = Math.min(44, Math.max(...keys.map((k) => k.length)));
  for (const k of keys) flow.print(`    ${k.padEnd(w)}  ${secret.includes(k) ? '***' : trim(kv[k] ?? '', 110)}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Running a task like the agent

const spawnTask = (flow: Flow, task: string, opts: Omit<RunOptions, 'box'>) =>
  runBundledTask(task, { box: flow.box, scheme: 'secret', timeoutMs: 180_000, cwd: flow.cwd, ...opts });

/** Runs a task like the agent (or takes a run started earlier, `o.started`) and shows what the pipeline would show. */
async function runTask(
  flow: Flow,
  res: StepResult,
  task: string,
  opts: Omit<RunOptions, 'box'>,
  o: { mayFail?: boolean; started?: Promise<TaskRunWithLeaks> } = {},
): Promise<TaskRunWithLeaks> {
  const run = await (o.started ?? spawnTask(flow, task, opts));
  printLog(flow, run);
  res.logFile = run.logFile;
  res.outputs = { ...res.outputs, ...run.outputs };
  const titles = run.commands
    .filter(
      (x) =>
        x.name === 'task.uploadsummary' || (x.name === 'task.addattachment' && /summary/i.test(x.props.type ?? '')),
    )
    .map((x) => path.basename(x.data.trim()).replace(/\.md$/i, ''));
  run.summaries.forEach((markdown, i) => res.summaries.push({ title: titles[i] ?? task, task, markdown }));
  res.logs.push({ task, lines: keyLogLines(run.stdout) });
  printKv(flow, 'output variables', run.outputs, run.secretOutputs);
  // what the agent does with ##vso[release.updatereleasename]: rename the release (in the emulated Azure DevOps)
  const rename = run.commands.filter((x) => x.name === 'release.updatereleasename').pop();
  if (rename && flow.release && rename.data.trim()) {
    const rec = flow.box.store.get<ReleaseRecord>(RELEASES, String(flow.release.id));
    if (rec && rec.name !== rename.data.trim()) {
      flow.box.store.put(RELEASES, String(rec.id), {
        ...rec,
        name: rename.data.trim(),
        modifiedOn: new Date().toISOString(),
      });
      flow.print(`  ${cyan('release renamed')}  ${rec.name} → ${rename.data.trim()}`);
    }
    flow.release = { ...flow.release, name: rename.data.trim() };
  }
  if (run.result !== 'Succeeded' && run.result !== 'SucceededWithIssues' && !o.mayFail) {
    throw new StepFailed(
      `${task} ${run.result ?? 'failed'}: ${run.message ?? run.errors[0] ?? `exit code ${run.code}`}`,
    );
  }
  return run;
}

const wsInputs = (flow: Flow) => ({ resourceGroup: flow.box.resourceGroup, workspace: flow.box.workspace });
const wsArmPath = (box: AzureInABox) =>
  `/subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${box.workspace}`;

// ---------------------------------------------------------------------------------------------------------------
// The steps

const SAMPLES = path.join(REPO_ROOT, 'samples');
const STAGING_ENDPOINT = 'diabetes-staging';
const PROD_ENDPOINT = 'diabetes-prod';
/** the erroring endpoint the gate is shown failing on */
const FAULTY_ENDPOINT = 'diabetes-faulty';
const FAULTY_CODE = path.join(REPO_ROOT, 'test', 'fixtures', 'scoring', 'flaky');
/** the flaky fixture scores plain rows only (samples/scoring/sample-request.json also has a row by feature name) */
const FAULTY_REQUEST = '{"data": [[148.0, 33.6, 50, 72], [85.0, 26.6, 31, 66]]}';
/** scoring requests each endpoint gets before its health gate (the sample gate's minRequests is 20) */
const STAGING_TRAFFIC = 20;
/** production traffic the drift step sends (shifted patients, collected by the production deployment's data collector) */
const DRIFT_REQUESTS = 30;
const DRIFT_ROWS_PER_REQUEST = 10;

const RELEASE_DEFINITION_FILE = path.join(SAMPLES, 'release', 'model-cd.release.json');
/** The service connection id the runner's agent environment uses (test/helpers/agent.ts: conn-<scheme>). */
const CONNECTION_ID = 'conn-secret';
const ENVIRONMENT_IMAGE = 'mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest';
const SCORING = {
  codePath: path.join(SAMPLES, 'scoring'),
  scoringScript: 'score.py',
  environment: ENVIRONMENT_IMAGE,
  sampleRequestFile: path.join(SAMPLES, 'scoring', 'sample-request.json'),
  expectedResponse: '{"predictions": [1, 0]}',
};
const APPROVER = 'Grace Hopper';

interface ReleaseDefinitionJson {
  name: string;
  artifacts: Array<{
    alias: string;
    type: string;
    isPrimary?: boolean;
    definitionReference: Record<string, { id: string; name?: string }>;
  }>;
  environments: Array<{
    name: string;
    rank: number;
    preDeployApprovals?: { approvals?: Array<{ isAutomated: boolean; approver?: { displayName: string } }> };
  }>;
}

/** samples/release/model-cd.release.json, imported into the emulated Azure DevOps project (idempotent by name). */
function importReleaseDefinition(flow: Flow): ReleaseDefinitionJson {
  const def = JSON.parse(fs.readFileSync(RELEASE_DEFINITION_FILE, 'utf8')) as ReleaseDefinitionJson;
  const model = def.artifacts.find((a) => a.type === 'AzureMLModel')!;
  addReleaseDefinition(flow.box.ctx, {
    name: def.name,
    model: model.definitionReference.definition!.id,
    alias: model.alias,
    // the sample's connection id is the one of its own project; here the box's service connection plays that part
    connection: CONNECTION_ID,
    environments: [...def.environments]
      .sort((a, b) => a.rank - b.rank)
      .map((e) => ({
        name: e.name,
        approvers: (e.preDeployApprovals?.approvals ?? [])
          .filter((x) => !x.isAutomated && x.approver)
          .map((x) => x.approver!.displayName),
      })),
  });
  return def;
}

/** The variables a release deployment job gets (Release.*, the model artifact's Release.Artifacts.{alias}.*, Build.* of the primary artifact). */
function releaseVariablesFor(flow: Flow, stage: string): Record<string, string> {
  const r = flow.release!;
  const { linked, version } = flow.artifact!;
  const a = linked.alias;
  const web = `${flow.box.collectionUri}${flow.box.projectName}/_releaseProgress?releaseId=${r.id}`;
  const vars: Record<string, string> = {
    'System.HostType': 'release',
    'Release.ReleaseId': String(r.id),
    'Release.ReleaseName': r.name,
    'Release.ReleaseUri': `vstfs:///ReleaseManagement/Release/${r.id}`,
    'Release.ReleaseWebUrl': web,
    'Release.DefinitionId': String(r.definitionId),
    'Release.DefinitionName': RELEASE_DEFINITION_NAME(flow),
    'Release.EnvironmentName': stage,
    'Release.AttemptNumber': '1',
    'Release.RequestedFor': 'Project Collection Build Service',
    'Release.Reason': 'ContinuousDeployment',
    'Release.PrimaryArtifactSourceAlias': a,
    [`Release.Artifacts.${a}.Type`]: 'AzureMLModel',
    [`Release.Artifacts.${a}.Alias`]: a,
    [`Release.Artifacts.${a}.DefinitionId`]: linked.inputs.definition!,
    [`Release.Artifacts.${a}.DefinitionName`]: linked.inputs.definition!,
    [`Release.Artifacts.${a}.BuildId`]: version.Value,
    [`Release.Artifacts.${a}.BuildNumber`]: version.DisplayValue,
    'Build.BuildId': version.Value,
    'Build.BuildNumber': version.DisplayValue,
    'Build.DefinitionName': linked.inputs.definition!,
    'System.StageName': stage,
  };
  return vars;
}

/**
 * A release job has no sources: the agent sets Build.SourceVersion, Build.Repository.* … only for Build/Git primary
 * artifacts. The runner's build-job defaults are blanked so the tasks see what a release job gives them.
 */
const RELEASE_JOB_ENV: Record<string, string> = {
  BUILD_SOURCEVERSION: '',
  BUILD_SOURCEBRANCH: '',
  BUILD_SOURCEBRANCHNAME: '',
  BUILD_REPOSITORY_NAME: '',
  BUILD_REPOSITORY_URI: '',
  BUILD_REPOSITORY_PROVIDER: '',
  BUILD_REASON: '',
  BUILD_REQUESTEDFOR: '',
};
function releaseJob(flow: Flow, stage: string, quiet = false): Pick<RunOptions, 'variables' | 'env'> {
  const v = releaseVariablesFor(flow, stage);
  const a = v['Release.PrimaryArtifactSourceAlias'];
  if (!quiet)
    flow.print(
      `  ${cyan('release variables')}  Release.ReleaseName=${v['Release.ReleaseName']}  Release.EnvironmentName=${stage}  ` +
        `Release.Artifacts.${a}.DefinitionName=${v[`Release.Artifacts.${a}.DefinitionName`]}  .BuildNumber=${v[`Release.Artifacts.${a}.BuildNumber`]}`,
    );
  return { variables: v, env: RELEASE_JOB_ENV };
}
const RELEASE_DEFINITION_NAME = (_flow: Flow) =>
  (JSON.parse(fs.readFileSync(RELEASE_DEFINITION_FILE, 'utf8')) as { name: string }).name;

/** What governance left on the Azure ML side (deployment tags, model version tags) and on the release (its name). */
function printGovernance(flow: Flow, endpointName: string, deploymentName: string | undefined): void {
  const dep = flow.box.store
    .list<{ resource: { id: string; name: string; tags?: Record<string, string> } }>('onlineDeployments')
    .find((d) => d.resource.name === deploymentName && d.resource.id.includes(`/onlineEndpoints/${endpointName}/`));
  const tags = Object.entries(dep?.resource.tags ?? {}).filter(([k]) => /^azdo\.(release$|stage|approv)/.test(k));
  if (tags.length)
    flow.print(`  ${cyan('deployment tags')}  ${trim(tags.map(([k, v]) => `${k}=${v}`).join('  '), 200)}`);
  const ver = flow.box.store
    .list<{ model: string; name: string; properties: { tags?: Record<string, string> } }>('modelVersions')
    .find((v) => v.model === flow.modelName && v.name === flow.artifact?.version.Value);
  const vt = Object.entries(ver?.properties.tags ?? {}).filter(([k]) => k.startsWith('deployed.'));
  if (vt.length) flow.print(`  ${cyan('model version tags')}  ${vt.map(([k, v]) => `${k}=${v}`).join('  ')}`);
}

function deployNote(run: TaskRunWithLeaks): string {
  const before = run.outputs.trafficBefore ?? '';
  const after = run.outputs.trafficAfter ?? '';
  if (before && before === after && before !== '{}') return `already serving, no traffic change: ${after}`;
  return `traffic ${before || '{}'} → ${after}`;
}

/** The erroring endpoint's deploy (see gate-errors), started once; a failure surfaces where it is awaited. */
function faultyDeployOptions(flow: Flow): Omit<RunOptions, 'box'> {
  return {
    inputs: {
      ...wsInputs(flow),
      endpointName: FAULTY_ENDPOINT,
      endpointType: 'managed',
      authMode: 'key',
      instanceType: 'Standard_DS3_v2',
      deploymentName: 'faulty',
      model: `azureml:${flow.modelName}:${flow.artifact!.version.Value}`,
      codePath: FAULTY_CODE,
      scoringScript: 'score.py',
      environment: ENVIRONMENT_IMAGE,
      environmentVariables: 'FAIL_PERCENT=30, FAIL_SEED=7',
      trafficSteps: '100',
    },
  };
}
function startFaultyDeploy(flow: Flow): Promise<TaskRunWithLeaks> {
  if (!flow.faultyDeploy) {
    flow.faultyDeploy = spawnTask(flow, 'AzureMLModelDeploy', faultyDeployOptions(flow));
    flow.faultyDeploy.catch(() => {
      /* awaited (and reported) by gate-errors */
    });
  }
  return flow.faultyDeploy;
}

/** The production stage's first task in samples/release/model-cd.release.json: the AzureMLEndpointHealth@1 gate. */
function releaseGateTask(): { name: string; job: string; next?: string; inputs: Record<string, string> } {
  const healthId = (
    JSON.parse(fs.readFileSync(path.join(TASK_DIR('AzureMLEndpointHealth'), 'task.json'), 'utf8')) as { id: string }
  ).id;
  const def = JSON.parse(fs.readFileSync(RELEASE_DEFINITION_FILE, 'utf8')) as {
    environments: Array<{
      name: string;
      deployPhases: Array<{
        rank: number;
        name: string;
        workflowTasks: Array<{ taskId: string; name: string; enabled: boolean; inputs: Record<string, string> }>;
      }>;
    }>;
  };
  const prod = def.environments.find((e) => e.name === 'production');
  const phases = [...(prod?.deployPhases ?? [])].sort((a, b) => a.rank - b.rank);
  const first = phases[0]?.workflowTasks.find((t) => t.enabled);
  if (!first || first.taskId !== healthId)
    throw new StepFailed(
      'samples/release/model-cd.release.json: the production stage does not start with AzureMLEndpointHealth@1',
    );
  // the sample's connection id belongs to its own project: the runner's agent environment supplies the box's connection
  const inputs = Object.fromEntries(Object.entries(first.inputs).filter(([k, v]) => v !== '' && k !== 'connection'));
  return { name: first.name, job: phases[0]!.name, next: phases[1]?.name, inputs };
}

/** n scoring requests through the front door; the statuses answered */
async function scoreTimes(uri: string, key: string, body: string, n: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const r = await fetch(uri, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body,
    });
    await r.text();
    out[r.status] = (out[r.status] ?? 0) + 1;
  }
  return out;
}
/** The job's studio link in a server task's log: `services.Studio.endpoint` of the job its logged response carries. */
export function studioLinkFromServerLog(log: string[]): string | undefined {
  for (const l of log) {
    const m = /^Response: (.*)$/s.exec(l);
    if (!m) continue;
    try {
      const link = (JSON.parse(m[1]!) as { properties?: { services?: { Studio?: { endpoint?: string } } } }).properties
        ?.services?.Studio?.endpoint;
      if (link) return link;
    } catch {
      /* not JSON */
    }
  }
  return undefined;
}
const fmtStatuses = (m: Record<string, number>) =>
  Object.entries(m)
    .map(([k, v]) => `HTTP ${k} ×${v}`)
    .join(', ');

function liveTraffic(flow: Flow, endpointName: string): Record<string, number> {
  const ep = flow.box.store
    .list<{ resource: { name: string; properties: { traffic?: Record<string, number> } } }>('onlineEndpoints')
    .find((e) => e.resource.name === endpointName);
  return Object.fromEntries(Object.entries(ep?.resource.properties.traffic ?? {}).filter(([, w]) => w > 0));
}

const STEPS: StepDef[] = [
  {
    id: 'baseline',
    title: 'Production today: an older model on the AKS endpoint (first run only)',
    needs: () =>
      ['AzureMLJob', 'AzureMLModelRegister', 'AzureMLModelDeploy'].find((t) => !taskAvailable(t)) ?? undefined,
    async run(flow, res) {
      const existing = flow.box.store
        .list<{ name?: string; resource?: { name?: string } }>('onlineEndpoints')
        .find((e) => (e.resource?.name ?? e.name) === PROD_ENDPOINT);
      if (existing) {
        res.note = `${PROD_ENDPOINT} already exists: nothing to set up`;
        flow.print(`  ${dim(`endpoint ${PROD_ENDPOINT} exists (state kept from an earlier run)`)}`);
        return;
      }
      flow.print(
        `  ${dim('an earlier CI run: short training (20 epochs), registered, deployed to the Kubernetes endpoint')}`,
      );
      const job = await runTask(flow, res, 'AzureMLJob', {
        inputs: {
          ...wsInputs(flow),
          jobFile: path.join(SAMPLES, 'training', 'job.yml'),
          jobName: 'azureml-ci-4100-train',
          overrides: 'inputs.epochs=20\ninputs.learning_rate=0.05',
        },
        variables: { 'Build.BuildId': '4100', 'Build.BuildNumber': '20261101.1' },
      });
      const reg = await runTask(flow, res, 'AzureMLModelRegister', {
        inputs: {
          ...wsInputs(flow),
          modelName: flow.modelName,
          modelPath: `azureml://jobs/${job.outputs.jobName}/outputs/model`,
          modelType: 'custom_model',
          tags: 'evaluation=passed',
        },
        variables: { 'Build.BuildId': '4100', 'Build.BuildNumber': '20261101.1' },
      });
      const dep = await runTask(flow, res, 'AzureMLModelDeploy', {
        inputs: {
          ...wsInputs(flow),
          endpointName: PROD_ENDPOINT,
          endpointType: 'kubernetes',
          compute: 'k8s-compute',
          authMode: 'key',
          instanceType: 'defaultinstancetype',
          model: reg.outputs.modelId!,
          ...SCORING,
          smokeRequests: '3',
          trafficSteps: '100',
          healthCheckRequests: '2',
        },
      });
      res.note = `production serves ${dep.outputs.modelId} (${dep.outputs.deploymentName})`;
    },
  },
  {
    id: 'submit',
    title: 'CI, agent job Submit: prepare samples/training/job.yml (mode: prepare; the server job creates it)',
    task: 'AzureMLJob',
    async run(flow, res) {
      const run = await runTask(flow, res, 'AzureMLJob', {
        // An explicit name (as `jobName: diabetes-train-$(Build.BuildId)` in the sample): the default name hashes the job
        // definition, whose lineage tags carry the collection URL — stable in Azure DevOps, a new port at every box start.
        inputs: {
          ...wsInputs(flow),
          mode: 'prepare',
          jobFile: path.join(SAMPLES, 'training', 'job.yml'),
          jobName: 'azureml-ci-4242-train',
          tags: 'demo=npm run demo',
        },
      });
      flow.jobName = run.outputs.jobName;
      flow.jobStatus = run.outputs.status;
      flow.jobDefinition = run.outputs.jobDefinition;
      flow.modelOutputUri = `azureml://jobs/${flow.jobName}/outputs/model`;
      res.facts.reused = /already exists with the same definition/.test(run.stdout);
      res.note = res.facts.reused
        ? `job already exists (${flow.jobStatus}): nothing to create; the agent is released`
        : `prepared ${flow.jobName} (${flow.jobDefinition?.length ?? 0} characters of jobDefinition, not created yet); the agent is released`;
    },
  },
  {
    id: 'wait',
    title: 'CI, agentless job Wait: AzureMLJobWait@1 (mode PUT) creates the job, Azure ML calls back',
    needs: () =>
      fs.existsSync(path.join(TASK_DIR('AzureMLJobWait'), 'task.json'))
        ? undefined
        : 'AzureMLJobWait@1 (tasks/AzureMLJobWaitV1)',
    async run(flow, res) {
      if (!flow.jobName) throw new StepFailed('no training job to wait for (submit did not run)');
      const jobPath = `${wsArmPath(flow.box)}/jobs/${flow.jobName}`;
      // samples/pipelines/agentless-wait.yml: job Wait (mode PUT) runs when the prepare step's status output is
      // `Prepared`, job WaitExisting (mode PATCH) when the job already exists and still runs (an interrupted earlier
      // run); a rerun that finds the job Completed skips both, and EvaluateAndRegister accepts skipped waits.
      if (flow.jobStatus === 'Completed') {
        res.facts = { skipped: true, status: flow.jobStatus };
        flow.print(
          `  ${dim(`job ${flow.jobName} already Completed (the prepare step's status output): the conditions of the sample's wait jobs (Wait: eq(dependencies.Submit.outputs['train.status'], 'Prepared'), WaitExisting: notIn(…, 'Prepared', 'Completed')) skip both`)}`,
        );
        res.note = `skipped: ${flow.jobName} already Completed`;
        return;
      }
      if (TERMINAL_STATUSES.has(flow.jobStatus ?? ''))
        throw new StepFailed(`training job ${flow.jobName} ended ${flow.jobStatus}`);
      const mode = flow.jobStatus === 'Prepared' ? 'PUT' : 'PATCH';
      if (mode === 'PUT' && !flow.jobDefinition) throw new StepFailed('the prepare step set no jobDefinition output');
      const task = JSON.parse(fs.readFileSync(path.join(TASK_DIR('AzureMLJobWait'), 'task.json'), 'utf8'));
      // the AzureRM service connection as the server holds it (the same service principal the agent jobs use)
      const conn: ServerConnection = {
        id: CONNECTION_ID,
        url: flow.box.armUrl,
        subscriptionId: flow.box.subscriptionId,
        tenantId: flow.box.tenantId,
        clientId: flow.box.clientId,
        clientSecret: flow.box.clientSecret,
      };
      const onJob = () =>
        flow.box.requests.filter(
          (q) =>
            q.host === 'arm' &&
            q.url.split('?')[0]!.replace(/^\/+/, '/').toLowerCase().endsWith(`/jobs/${flow.jobName!.toLowerCase()}`),
        );
      const existedBefore = jobStatusHistory(flow.box.ctx, jobPath).length > 0;
      const server = runServerTask(flow.box.ctx, {
        task,
        connections: [conn],
        timeoutMs: 600_000,
        inputs: {
          connection: CONNECTION_ID,
          ...wsInputs(flow),
          mode,
          jobName: flow.jobName,
          ...(mode === 'PUT' ? { jobDefinition: flow.jobDefinition! } : {}),
        },
      });
      const sent = await server.sent;
      const armedAt = Date.now();
      const readsArmed = onJob().length;
      flow.print(
        `  ${dim('│')} ${sent.method} ${trim(sent.url, 150)}  (the connection's token; body: ${mode === 'PUT' ? 'the prepared job definition and ' : ''}the AzureDevOps webhook RunTerminated with this plan's ids and job token ***)`,
      );
      flow.print(
        `  ${dim('│')} HTTP ${sent.status}; ${mode === 'PUT' ? 'the job exists only from this request on, its webhook with it: no end can be missed. ' : ''}The server job holds no agent and makes no request until Azure ML calls the plan events API`,
      );
      if (sent.status < 200 || sent.status >= 300)
        throw new StepFailed(`the wait's ${sent.method} answered HTTP ${sent.status}: ${trim(sent.response, 200)}`);
      const r = await server.done;
      const ended = jobStatusHistory(flow.box.ctx, jobPath).find((h) => TERMINAL_STATUSES.has(h.status));
      const noticeMs = ended ? Date.now() - Date.parse(ended.time) : undefined;
      const armReadsWhileWaiting = onJob().length - readsArmed;
      // the server task's log (what the pipeline shows for the agentless job); the job token is a secret wherever it appears
      const shown = server.log.map((l) => l.split(server.accessToken).join('***'));
      for (const l of shown.filter((x) => !/^Response: /.test(x))) flow.print(`  ${dim('│')} ${trim(l)}`);
      res.logs.push({ task: 'AzureMLJobWait', lines: shown });
      // the studio link as the step's log has it: the job in the server's logged response (services.Studio.endpoint)
      const studioUrl = studioLinkFromServerLog(shown);
      if (studioUrl)
        flow.print(
          `  ${dim('│')} ${cyan('studio')} ${studioUrl}  ${dim('(services.Studio.endpoint of the job in the logged response)')}`,
        );
      const tl = r.timeline;
      flow.print(
        `  ${cyan('timeline record')}  ${tl.result}${tl.message ? ` — ${tl.message}` : ''}  ${dim(`(the step's result as the server completes it; reason: ${r.reason === 'event' ? 'the TaskCompleted event Azure ML posted' : r.reason})`)}`,
      );
      flow.print(
        `  ${cyan('agentless wait')}  job ${ended?.status ?? '?'} · noticed ${noticeMs ?? '?'} ms after it ended · ${armReadsWhileWaiting} ARM request(s) while waiting`,
      );
      res.facts = {
        mode,
        method: sent.method,
        existedBefore,
        result: tl.result,
        timeline: tl,
        reason: r.reason,
        status: ended?.status,
        noticeMs,
        armReadsWhileWaiting,
        waitedMs: Date.now() - armedAt,
        events: server.events.length,
        studioUrl,
      };
      if (tl.result !== 'succeeded')
        throw new StepFailed(
          `AzureMLJobWait ${tl.result} (${r.reason}${tl.message ? `: ${tl.message}` : ''}): job ${flow.jobName} ${ended?.status ?? 'did not end'}`,
        );
      flow.jobStatus = ended?.status;
      res.note = `${mode === 'PUT' ? `PUT created ${flow.jobName} with its webhook` : `PATCH armed the webhook on ${flow.jobName}`}; ${ended?.status}: called back ${noticeMs} ms after it ended, ${armReadsWhileWaiting} ARM reads while waiting`;
    },
  },
  {
    id: 'evaluate',
    title: 'Evaluate the challenger against production',
    task: 'AzureMLModelEvaluate',
    async run(flow, res) {
      if (!flow.jobName) throw new StepFailed('no training job to evaluate (train did not run)');
      fs.mkdirSync(path.join(flow.outDir, 'ci-artifacts'), { recursive: true });
      const run = await runTask(flow, res, 'AzureMLModelEvaluate', {
        inputs: {
          ...wsInputs(flow),
          candidateType: 'job',
          candidateJob: flow.jobName,
          baseline: 'endpoint',
          endpointName: PROD_ENDPOINT,
          modelName: flow.modelName,
          metrics: 'test_loss lower min_delta=0.01\naccuracy higher',
          allowEqual: 'true',
        },
        // evaluation.json goes to Agent.TempDirectory: keep it, as the CI pipeline publishes it for the release's model card
        env: { AGENT_TEMPDIRECTORY: path.join(flow.outDir, 'ci-artifacts') },
      });
      if (run.outputs.evaluationFile && fs.existsSync(run.outputs.evaluationFile))
        flow.evaluationFile = run.outputs.evaluationFile;
      flow.isBetter = run.outputs.isBetter === 'true';
      res.note = `verdict ${run.outputs.verdict ?? '?'}`;
      if (!flow.isBetter)
        flow.print(
          `  ${yellow('not better than production: the CI pipeline would stop here (register/trigger are conditioned on isBetter)')}`,
        );
    },
  },
  {
    id: 'register',
    title: 'Register the trained model',
    task: 'AzureMLModelRegister',
    async run(flow, res) {
      const modelPath = flow.modelOutputUri ?? path.join(SAMPLES, 'model');
      if (!flow.modelOutputUri)
        flow.print(`  ${yellow('no job output (train skipped): registering samples/model from the agent instead')}`);
      const run = await runTask(flow, res, 'AzureMLModelRegister', {
        inputs: {
          ...wsInputs(flow),
          modelName: flow.modelName,
          modelPath,
          modelType: 'custom_model',
          tags: 'evaluation=passed\nsample=diabetes-logreg',
          // the evaluation travels with the version: the release (another agent) shows it on the model card
          ...(flow.evaluationFile ? { evaluationFile: flow.evaluationFile } : {}),
        },
      });
      flow.modelVersion = run.outputs.modelVersion;
      res.facts.reused = /already holds this content/.test(run.stdout);
      res.note = res.facts.reused
        ? `version ${flow.modelVersion} already holds this job's model: no new version`
        : `new version ${flow.modelVersion}`;
    },
  },
  {
    id: 'trigger',
    title: 'Start the CD release for the new version (push)',
    task: 'AzureMLReleaseTrigger',
    async run(flow, res) {
      if (!flow.modelVersion) throw new StepFailed('no model version to release (register did not run)');
      const def = importReleaseDefinition(flow);
      flow.print(
        `  ${dim(`release definition '${def.name}' (samples/release/model-cd.release.json) in project ${flow.box.projectName}: stages ${def.environments.map((e) => e.name).join(' → ')}`)}`,
      );
      const run = await runTask(flow, res, 'AzureMLReleaseTrigger', {
        inputs: {
          ...wsInputs(flow),
          mode: 'push',
          target: 'release',
          modelName: flow.modelName,
          modelVersion: flow.modelVersion,
          releaseDefinition: def.name,
          tagFilter: 'evaluation=passed',
        },
      });
      flow.releaseId = run.outputs.releaseId;
      const release = listReleases(flow.box.ctx).find((r) => String(r.id) === flow.releaseId);
      if (!release) throw new StepFailed(`release ${flow.releaseId} is not in the emulated Azure DevOps project`);
      flow.release = release;
      const art = release.artifacts.find((a) => a.type === 'AzureMLModel') ?? release.artifacts[0]!;
      const ref = art.definitionReference;
      const inputs: Record<string, string> = {};
      for (const [k, v] of Object.entries(ref)) if (k !== 'version') inputs[k] = v.id;
      flow.artifact = {
        linked: { alias: art.alias, inputs },
        version: { Value: ref.version.id, DisplayValue: ref.version.name },
      };
      res.facts.releaseId = release.id;
      res.facts.releaseVersion = ref.version.id;
      res.facts.created = Number(run.outputs.createdCount ?? '0');
      res.note = res.facts.created
        ? `${release.name} created with ${flow.modelName} ${ref.version.name}`
        : `${release.name} already exists for ${flow.modelName} ${ref.version.name}: no new release`;
      flow.print(
        `  ${cyan('release')}  ${release.name} (id ${release.id}) · artifact ${art.alias} = ${ref.definition?.id} version ${ref.version.name} · "${trim(release.description, 90)}"`,
      );
    },
  },
  {
    id: 'download',
    title: 'Release, stage staging: the model artifact (injected AzureMLModelDownload)',
    task: 'AzureMLModelDownload',
    async run(flow, res) {
      if (!flow.release || !flow.artifact) throw new StepFailed('no release (trigger did not run)');
      const type = loadArtifactType();
      const endpoint = boxEndpoint(flow.box);
      const offered = await evaluateBinding(type, 'versions', flow.artifact.linked.inputs, endpoint);
      flow.print(
        `  ${dim(`artifact '${type.displayName}' version picker offers: ${offered.values.map((v) => v.DisplayValue).join(', ')} (newest first); the release pins ${flow.artifact.version.DisplayValue}`)}`,
      );
      flow.releaseVariables = releaseVariablesFor(flow, 'staging');
      printKv(
        flow,
        'release variables',
        Object.fromEntries(
          Object.entries(flow.releaseVariables).filter(([k]) =>
            /^Release\.(Artifacts|ReleaseName|ReleaseId|EnvironmentName|DefinitionName)/.test(k),
          ),
        ),
      );
      const downloadPath = path.join(flow.outDir, 'release-artifacts', flow.artifact.linked.alias);
      const run = await runTask(
        flow,
        res,
        type.name === 'AzureMLModel' ? 'AzureMLModelDownload' : 'AzureMLModelDownload',
        {
          inputs: injectedTaskInputs(flow.artifact.linked, flow.artifact.version, downloadPath),
          ...releaseJob(flow, 'staging', true),
        },
      );
      res.note = `${run.outputs.modelId} → ${path.relative(REPO_ROOT, run.outputs.modelPath ?? downloadPath)}`;
    },
  },
  {
    id: 'deploy-staging',
    title: 'Release, stage staging: deploy to the managed online endpoint',
    task: 'AzureMLModelDeploy',
    async run(flow, res) {
      if (!flow.release) throw new StepFailed('no release (trigger did not run)');
      startFaultyDeploy(flow);
      const run = await runTask(flow, res, 'AzureMLModelDeploy', {
        inputs: {
          ...wsInputs(flow),
          endpointName: STAGING_ENDPOINT,
          endpointType: 'managed',
          authMode: 'key',
          instanceType: 'Standard_DS3_v2',
          ...SCORING,
          smokeRequests: '5',
          trafficSteps: '100',
          healthCheckRequests: '3',
          deleteOldDeployment: 'true',
        },
        ...releaseJob(flow, 'staging'),
      });
      flow.stagingDeployment = run.outputs.deploymentName;
      if (run.outputs.scoringUri && run.outputs.endpointKey)
        flow.staging = { uri: run.outputs.scoringUri, key: run.outputs.endpointKey };
      printGovernance(flow, STAGING_ENDPOINT, run.outputs.deploymentName);
      res.note = deployNote(run);
    },
  },
  {
    id: 'approval',
    title: 'Release, stage production: pre-deployment approval',
    async run(flow, res) {
      if (!flow.release) throw new StepFailed('no release (trigger did not run)');
      const id = flow.release.id;
      const all = listApprovals(flow.box.ctx, id).filter(
        (a) => a.environmentName === 'production' && a.approvalType === 'preDeploy',
      );
      let decided = all.filter((a) => a.status === 'approved');
      if (all.some((a) => a.status === 'pending')) {
        flow.print(
          `  ${dim(`${flow.release.name} waits for approval of stage production by ${all.map((a) => a.approver.displayName).join(', ')}`)}`,
        );
        decided = approve(
          flow.box.ctx,
          id,
          'production',
          APPROVER,
          `Staging smoke test passed; ${flow.modelName} ${flow.artifact?.version.DisplayValue} beats production.`,
        );
        res.note = `approved by ${APPROVER}`;
      } else {
        res.note = decided.length
          ? `already approved by ${decided.map((a) => a.approvedBy?.displayName).join(', ')}`
          : 'no approval configured';
      }
      for (const a of decided)
        flow.print(
          `  ${cyan('approval')}  ${a.approvalType} · ${a.environmentName} · ${a.status} by ${a.approvedBy?.displayName} at ${a.modifiedOn} · "${a.comments}"`,
        );
      res.facts.approvers = decided.map((a) => a.approvedBy?.displayName);
    },
  },
  {
    id: 'gate',
    title: "Release, stage production, job 1: health gate on the staging endpoint's own metrics",
    task: 'AzureMLEndpointHealth',
    async run(flow, res) {
      if (!flow.release || !flow.staging) throw new StepFailed('no staging endpoint (deploy-staging did not run)');
      // what staging serves between the two stages (testers, integration tests): here 20 requests through the front door
      const sent = await scoreTimes(
        flow.staging.uri,
        flow.staging.key,
        fs.readFileSync(SCORING.sampleRequestFile, 'utf8'),
        STAGING_TRAFFIC,
      );
      flow.print(
        `  ${dim(`staging traffic before the gate: ${STAGING_TRAFFIC} scoring requests → ${fmtStatuses(sent)}`)}`,
      );
      const gate = releaseGateTask();
      flow.print(
        `  ${dim(
          `production's first job '${gate.job}' (samples/release/model-cd.release.json), task '${gate.name}': ${Object.entries(
            gate.inputs,
          )
            .filter(([k, v]) => v && !['connection', 'resourceGroup', 'workspace'].includes(k))
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`,
        )}`,
      );
      const run = await runTask(flow, res, 'AzureMLEndpointHealth', {
        inputs: { ...gate.inputs, ...wsInputs(flow) },
        ...releaseJob(flow, 'production', true),
      });
      res.facts = {
        verdict: run.outputs.verdict,
        requests: Number(run.outputs.requests),
        errors: Number(run.outputs.errors),
        sent,
      };
      res.note = `${run.outputs.verdict}: ${run.outputs.requests} requests, ${run.outputs.errorPercent} % errors, p95 ${run.outputs.p95Ms} ms`;
    },
  },
  {
    id: 'deploy-aks',
    title: 'Release, stage production: deploy to AKS (Kubernetes endpoint, blue/green)',
    task: 'AzureMLModelDeploy',
    async run(flow, res) {
      if (!flow.release) throw new StepFailed('no release (trigger did not run)');
      const run = await runTask(flow, res, 'AzureMLModelDeploy', {
        inputs: {
          ...wsInputs(flow),
          endpointName: PROD_ENDPOINT,
          endpointType: 'kubernetes',
          compute: 'k8s-compute',
          authMode: 'key',
          instanceType: 'defaultinstancetype',
          ...SCORING,
          smokeRequests: '5',
          trafficSteps: '10,50,100',
          healthCheckRequests: '5',
          stepWaitSeconds: '0',
          dataCollection: 'model_inputs',
        },
        ...releaseJob(flow, 'production'),
      });
      printGovernance(flow, PROD_ENDPOINT, run.outputs.deploymentName);
      flow.prodDeployment = run.outputs.deploymentName;
      flow.prodScoringUri = run.outputs.scoringUri;
      flow.prodKey = run.outputs.endpointKey;
      res.note = deployNote(run);
    },
  },
  {
    id: 'score',
    title: 'Score a request against production (front door, endpoint key)',
    needs: () =>
      taskAvailable('AzureMLModelDeploy') ? undefined : 'AzureMLModelDeploy@1 (tasks/AzureMLModelDeployV1)',
    async run(flow, res) {
      if (!flow.prodScoringUri || !flow.prodKey)
        throw new StepFailed('no production scoring URI/key (deploy-aks did not run)');
      const body = fs.readFileSync(SCORING.sampleRequestFile, 'utf8');
      const t = Date.now();
      const r = await fetch(flow.prodScoringUri, {
        method: 'POST',
        headers: { authorization: `Bearer ${flow.prodKey}`, 'content-type': 'application/json' },
        body,
      });
      const text = await r.text();
      const servedBy = r.headers.get('azureml-model-deployment') ?? '';
      flow.print(`  ${dim('│')} POST ${flow.prodScoringUri}  (Authorization: Bearer ***)`);
      flow.print(`  ${dim('│')} request  ${trim(body.trim(), 140)}`);
      flow.print(`  ${dim('│')} HTTP ${r.status} in ${Date.now() - t} ms · azureml-model-deployment: ${servedBy}`);
      flow.print(`  ${dim('│')} response ${trim(text.trim(), 140)}`);
      res.facts = { status: r.status, servedBy, response: text };
      if (r.status !== 200) throw new StepFailed(`scoring answered HTTP ${r.status}: ${trim(text, 200)}`);
      if (flow.prodDeployment && servedBy !== flow.prodDeployment)
        throw new StepFailed(`answered by ${servedBy}, expected the new deployment ${flow.prodDeployment}`);
      res.note = `HTTP 200 from ${servedBy}`;
    },
  },
  {
    id: 'drift',
    title: 'Production data vs training data: drift check on the collected inputs (retrain?)',
    task: 'AzureMLDriftCheck',
    async run(flow, res) {
      if (!flow.prodScoringUri || !flow.prodKey || !flow.prodDeployment)
        throw new StepFailed('no production deployment (deploy-aks did not run)');
      // the reference: what the model was trained on — the training job's own input (its uploaded diabetes.csv)
      const job = flow.box.store
        .list<{ name: string; properties: { inputs?: Record<string, { uri?: string }> } }>('jobs')
        .find((j) => j.name === flow.jobName);
      const reference = job?.properties.inputs?.training_data?.uri;
      if (!reference)
        throw new StepFailed(`the training job ${flow.jobName ?? '?'} has no training_data input to compare with`);
      // production traffic whose population moved: the training patients (samples/training/data/diabetes.csv), with
      // glucose +45 and BMI +7; age and blood pressure as trained
      const patients = fs
        .readFileSync(path.join(SAMPLES, 'training', 'data', 'diabetes.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',').map(Number));
      const bodies = Array.from({ length: DRIFT_REQUESTS }, (_, r) =>
        JSON.stringify({
          data: Array.from({ length: DRIFT_ROWS_PER_REQUEST }, (_, i) => {
            const [glucose, bmi, age, bp] = patients[(r * DRIFT_ROWS_PER_REQUEST + i) % patients.length]!;
            return {
              glucose: Math.round((glucose! + 45) * 10) / 10 + 0.05,
              bmi: Math.round((bmi! + 7) * 10) / 10 + 0.05,
              age,
              blood_pressure: bp,
            };
          }),
        }),
      );
      const sent: Record<string, number> = {};
      for (const b of bodies)
        for (const [k, v] of Object.entries(await scoreTimes(flow.prodScoringUri, flow.prodKey, b, 1)))
          sent[k] = (sent[k] ?? 0) + v;
      flow.print(
        `  ${dim(`production traffic: ${DRIFT_REQUESTS} requests × ${DRIFT_ROWS_PER_REQUEST} patients (the training patients with glucose +45 mg/dL and BMI +7) → ${fmtStatuses(sent)}; the deployment's data collector writes them to modelDataCollector/${PROD_ENDPOINT}/${flow.prodDeployment}/model_inputs/`)}`,
      );
      flow.print(`  ${dim(`reference: the training job's input training_data = ${reference}`)}`);
      const run = await runTask(
        flow,
        res,
        'AzureMLDriftCheck',
        {
          inputs: {
            ...wsInputs(flow),
            referenceData: reference,
            endpointName: PROD_ENDPOINT,
            deploymentName: flow.prodDeployment,
            collection: 'model_inputs',
            lookbackWindow: 'PT1H',
            features: 'glucose, bmi, age, blood_pressure',
            failOnDrift: 'false',
          },
        },
        { mayFail: true },
      );
      const drifted = run.outputs.driftDetected === 'true';
      res.facts = {
        result: run.result,
        driftDetected: run.outputs.driftDetected,
        driftedFeatures: run.outputs.driftedFeatures,
        sent,
      };
      flow.print(
        `  ${drifted ? yellow('retrain') : green('no drift')}  ${drifted ? `drifted: ${run.outputs.driftedFeatures} → the Retrain job of samples/pipelines/drift-retrain-schedule.yml runs (condition driftDetected == 'true'); its owners hear of it through Azure DevOps notifications on that pipeline` : 'production looks like the training data'}`,
      );
      if (run.result === 'Failed') throw new StepFailed(`the drift check failed: ${run.message}`);
      if (!drifted) throw new StepFailed('the drift check found no drift in deliberately shifted production data');
      // the sample's Retrain job (condition: driftDetected == 'true'): AzureMLJob@1 submits the training again. The job
      // name is fixed per drift run here (a rerun finds it: nothing new is submitted); the agent is not held.
      const retrain = await runTask(flow, res, 'AzureMLJob', {
        inputs: {
          ...wsInputs(flow),
          jobFile: path.join(SAMPLES, 'training', 'job.yml'),
          jobName: 'azureml-drift-4300-retrain',
          experimentName: 'retrain-on-drift',
          wait: 'false',
          tags: `drifted=${run.outputs.driftedFeatures}`,
        },
      });
      res.facts.retrainJob = retrain.outputs.jobName;
      res.facts.retrainStatus = retrain.outputs.status;
      res.note = `drift detected in ${run.outputs.driftedFeatures}: retraining ${retrain.outputs.jobName} (${retrain.outputs.status})`;
    },
  },
  {
    id: 'gate-errors',
    title: 'What the gate stops: the production job when the staging endpoint returns errors',
    task: 'AzureMLEndpointHealth',
    needs: () =>
      taskAvailable('AzureMLModelDeploy') ? undefined : 'AzureMLModelDeploy@1 (tasks/AzureMLModelDeployV1)',
    async run(flow, res) {
      if (!flow.release || !flow.artifact) throw new StepFailed('no release (trigger did not run)');
      // a second managed endpoint whose deployment really fails ~30 % of its requests (test/fixtures/scoring/flaky: the
      // model raises, the front door answers 424) — no sample request, so the deploy task sends no probes of its own
      flow.print(
        `  ${dim(`${FAULTY_ENDPOINT}: ${flow.modelName}:${flow.artifact.version.Value} served by test/fixtures/scoring/flaky (FAIL_PERCENT=30): a staging whose deployment fails (deployed in the background since deploy-staging)`)}`,
      );
      const dep = await runTask(flow, res, 'AzureMLModelDeploy', faultyDeployOptions(flow), {
        started: startFaultyDeploy(flow),
      });
      const sent = await scoreTimes(dep.outputs.scoringUri!, dep.outputs.endpointKey!, FAULTY_REQUEST, STAGING_TRAFFIC);
      flow.print(`  ${dim(`its traffic: ${STAGING_TRAFFIC} scoring requests → ${fmtStatuses(sent)}`)}`);
      const prodBefore = liveTraffic(flow, PROD_ENDPOINT);
      const gate = releaseGateTask();
      flow.print(`  ${bold(`production, job 1 '${gate.job}'`)}: ${gate.name}, with endpointName=${FAULTY_ENDPOINT}`);
      const run = await runTask(
        flow,
        res,
        'AzureMLEndpointHealth',
        {
          inputs: { ...gate.inputs, ...wsInputs(flow), endpointName: FAULTY_ENDPOINT },
          ...releaseJob(flow, 'production', true),
        },
        { mayFail: true },
      );
      const failed = run.result === 'Failed';
      flow.print(
        `  ${bold(`production, job 2 '${gate.next ?? 'Deploy to production'}'`)} ${failed ? red('not run') : yellow('would run')}: condition succeeded() — ${failed ? 'the stage and the release stop at the gate; AzureMLModelDeploy never starts' : 'the gate let an erroring endpoint through'}`,
      );
      const prodAfter = liveTraffic(flow, PROD_ENDPOINT);
      flow.print(
        `  ${cyan(PROD_ENDPOINT)}  traffic ${JSON.stringify(prodAfter)} (${JSON.stringify(prodAfter) === JSON.stringify(prodBefore) ? 'unchanged' : 'CHANGED'})`,
      );
      res.facts = {
        faultyDeploy: deployNote(dep),
        result: run.result,
        message: run.message,
        verdict: run.outputs.verdict,
        requests: Number(run.outputs.requests),
        errors: Number(run.outputs.errors),
        errorPercent: run.outputs.errorPercent,
        sent,
        prodBefore,
        prodAfter,
      };
      if (!failed || run.outputs.verdict !== 'failed')
        throw new StepFailed(
          `the gate on ${FAULTY_ENDPOINT} ${run.result} (verdict ${run.outputs.verdict}): it should have failed on the errors`,
        );
      res.note = `gate failed as it should: ${trim(run.message ?? '', 110)}`;
    },
  },
];

// ---------------------------------------------------------------------------------------------------------------
// The registry variant (`npm run demo -- --registry`): samples/pipelines/cd-registry.yml on the box. The dev workspace
// (the box's own) trains and registers as in the main demo; the version is promoted into the registry server-side;
// staging (another resource group) and production (another subscription) deploy the registry version, never a copy.

const REGISTRY = 'contoso-mlreg';
const STAGING_WS = { resourceGroup: 'rg-ml-staging', workspace: 'mlw-staging' };
/** the production workspace's subscription: fixed, so a rerun on the same state finds what the first run made */
const PROD_SUBSCRIPTION = '5f3c6d1e-8a2b-4c7d-9e0f-1a2b3c4d5e6f';
const PROD_WS = { resourceGroup: 'rg-ml-prod', workspace: 'mlw-prod' };

const REGISTRY_STEPS: StepDef[] = [
  {
    id: 'reg-setup',
    title: 'The layout: a registry, a staging workspace and a production workspace in another subscription',
    async run(flow, res) {
      const box = flow.box;
      const dev = box.store
        .list<{ name: string; location: string }>('workspaces')
        .find((w) => w.name === box.workspace);
      const location = dev?.location ?? 'eastus';
      await addRegistry(box.ctx, { name: REGISTRY, location });
      addWorkspace(box.ctx, { name: STAGING_WS.workspace, location, resourceGroup: STAGING_WS.resourceGroup });
      addWorkspace(box.ctx, {
        name: PROD_WS.workspace,
        location,
        resourceGroup: PROD_WS.resourceGroup,
        subscriptionId: PROD_SUBSCRIPTION,
      });
      flow.print(`  ${cyan('dev')}         ${box.resourceGroup}/${box.workspace} (subscription ${box.subscriptionId})`);
      flow.print(`  ${cyan('registry')}    ${REGISTRY} (${location})`);
      flow.print(`  ${cyan('staging')}     ${STAGING_WS.resourceGroup}/${STAGING_WS.workspace} (same subscription)`);
      flow.print(
        `  ${cyan('production')}  ${PROD_WS.resourceGroup}/${PROD_WS.workspace} (subscription ${PROD_SUBSCRIPTION})`,
      );
      res.note = `registry ${REGISTRY}, workspaces ${STAGING_WS.workspace} and ${PROD_WS.workspace}`;
    },
  },
  ...STEPS.filter((s) => ['submit', 'wait', 'register'].includes(s.id)),
  {
    id: 'promote',
    title: 'Promote the dev version into the registry (server-side copy, lineage kept)',
    task: 'AzureMLModelPromote',
    async run(flow, res) {
      if (!flow.modelVersion) throw new StepFailed('no model version (register did not run)');
      const run = await runTask(flow, res, 'AzureMLModelPromote', {
        inputs: { ...wsInputs(flow), modelName: flow.modelName, modelVersion: flow.modelVersion, registry: REGISTRY },
      });
      flow.registryModelUri = run.outputs.registryModelUri;
      if (!flow.registryModelUri) throw new StepFailed('the promote task set no registryModelUri');
      res.facts = { registryModelUri: flow.registryModelUri, promoted: run.outputs.promoted };
      res.note = `${run.outputs.promoted === 'true' ? 'promoted' : 'already in the registry'}: ${flow.registryModelUri}`;
    },
  },
  {
    id: 'reg-staging',
    title: 'Staging workspace: deploy the registry version to a managed online endpoint',
    task: 'AzureMLModelDeploy',
    async run(flow, res) {
      const run = await runTask(flow, res, 'AzureMLModelDeploy', {
        inputs: {
          ...STAGING_WS,
          endpointName: STAGING_ENDPOINT,
          endpointType: 'managed',
          authMode: 'key',
          instanceType: 'Standard_DS3_v2',
          model: flow.registryModelUri!,
          ...SCORING,
          smokeRequests: '5',
          trafficSteps: '100',
          healthCheckRequests: '3',
          deleteOldDeployment: 'true',
        },
      });
      res.facts = { deployment: run.outputs.deploymentName };
      res.note = deployNote(run);
    },
  },
  {
    id: 'reg-prod',
    title: 'Production workspace (another subscription): blue/green to the Kubernetes endpoint',
    task: 'AzureMLModelDeploy',
    async run(flow, res) {
      flow.print(
        `  ${dim('in the sample the stage waits for the Approvals check on environment diabetes-production (the main demo shows approvals)')}`,
      );
      const run = await runTask(flow, res, 'AzureMLModelDeploy', {
        inputs: {
          ...PROD_WS,
          endpointName: PROD_ENDPOINT,
          endpointType: 'kubernetes',
          compute: 'k8s-compute',
          instanceType: 'defaultinstancetype',
          authMode: 'key',
          model: flow.registryModelUri!,
          ...SCORING,
          smokeRequests: '5',
          trafficSteps: '10,50,100',
          healthCheckRequests: '3',
          stepWaitSeconds: '0',
          deleteOldDeployment: 'false',
        },
        connectionData: { subscriptionId: PROD_SUBSCRIPTION },
      });
      res.facts = { deployment: run.outputs.deploymentName, modelId: run.outputs.modelId };
      res.note = deployNote(run);
    },
  },
];

// ---------------------------------------------------------------------------------------------------------------
// The flow

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const t0 = Date.now();
  const print = opts.print ?? ((l: string) => console.log(l));
  const stateDir = path.resolve(opts.box?.stateDir ?? opts.stateDir);
  const outDir = path.resolve(opts.outDir ?? path.join(path.dirname(stateDir), `${path.basename(stateDir)}-output`));
  fs.mkdirSync(outDir, { recursive: true });
  for (const f of fs.readdirSync(outDir)) if (/\.md$|^demo-run\.json$/.test(f)) fs.rmSync(path.join(outDir, f)); // this run's material only

  const firstRun = !fs.existsSync(path.join(stateDir, 'identity.json'));
  print(
    bold(
      `Azure-in-a-box: ${opts.box ? 'using the running box' : firstRun ? 'starting (new state folder)' : 'starting again (state kept: expect the idempotent path)'} — ${rel(stateDir)}`,
    ),
  );
  const tBox = Date.now();
  const box = opts.box ?? (await startAzureInABox({ stateDir, fastLro: !!opts.fast }));
  print(
    dim(
      `  started in ${secs(Date.now() - tBox)}: ARM ${box.armUrl}  Entra ${box.authorityHost}  Azure DevOps ${box.collectionUri}`,
    ),
  );
  const cwd = path.join(outDir, 'agent-sources');
  fs.mkdirSync(cwd, { recursive: true });
  const flow: Flow = {
    box,
    fast: !!opts.fast,
    print,
    maxLogLines: opts.maxLogLines ?? 14,
    outDir,
    cwd,
    modelName: 'diabetes-classifier',
    releaseVariables: {},
  };

  const plan = opts.registry ? REGISTRY_STEPS : STEPS;
  const steps: StepResult[] = [];
  try {
    for (const [i, def] of plan.entries()) {
      const res: StepResult = {
        id: def.id,
        title: def.title,
        task: def.task,
        status: 'ok',
        ms: 0,
        outputs: {},
        summaries: [],
        logs: [],
        facts: {},
      };
      steps.push(res);
      print('');
      print(
        bold(
          `━━ ${i + 1}/${plan.length} ${def.title}${def.task ? `  ·  ${def.task}@1` : ''} ${'━'.repeat(Math.max(3, 100 - def.title.length - (def.task?.length ?? 0)))}`.slice(
            0,
            118,
          ),
        ),
      );
      const missing = def.task && !taskAvailable(def.task) ? `${def.task}@1 (tasks/${def.task}V1)` : def.needs?.();
      if (missing) {
        res.status = 'skipped';
        res.note = `not available yet: ${missing}`;
        print(`  ${yellow('⏭')}  not available yet — ${missing} has not landed; skipped`);
        continue;
      }
      const ts = Date.now();
      try {
        await def.run(flow, res);
        res.ms = Date.now() - ts;
        print(
          `  ${green('✔')} ${def.id} ${res.note ? `(${res.note}) ` : ''}in ${secs(res.ms)}${res.logFile ? dim(`   log: ${rel(res.logFile)}`) : ''}`,
        );
      } catch (e) {
        res.ms = Date.now() - ts;
        res.status = 'failed';
        res.note = (e as Error).message;
        print(
          `  ${red('✘')} ${def.id} failed after ${secs(res.ms)}: ${res.note}${res.logFile ? dim(`   log: ${rel(res.logFile)}`) : ''}`,
        );
        if (!(e instanceof StepFailed)) print(dim(String((e as Error).stack ?? e)));
        break; // later steps build on this one
      }
      res.summaries.forEach((sm, n) => {
        sm.file = `${String(i + 1).padStart(2, '0')}-${def.id}${n ? `-${n + 1}` : ''}.md`;
        fs.writeFileSync(path.join(outDir, sm.file), sm.markdown);
      });
    }
  } finally {
    // a background deploy still running (the flow stopped before gate-errors) ends before the box does
    await flow.faultyDeploy?.catch(() => undefined);
    if (!opts.box) await box.stop();
  }

  const ms = Date.now() - t0;
  const ok = steps.every((s) => s.status !== 'failed') && steps.length === plan.length;
  fs.writeFileSync(
    path.join(outDir, 'demo-run.json'),
    JSON.stringify(
      { ok, ms, steps, releaseVariables: flow.releaseVariables, releaseName: flow.release?.name },
      null,
      1,
    ),
  );

  print('');
  print(bold('━━ Summary ' + '━'.repeat(90)));
  for (const s of steps) {
    const mark = s.status === 'ok' ? green('✔') : s.status === 'skipped' ? yellow('⏭') : red('✘');
    print(
      `  ${mark} ${s.id.padEnd(10)} ${s.status === 'skipped' ? '   —   ' : secs(s.ms).padStart(7)}  ${trim(s.note ?? s.title, 100)}`,
    );
  }
  print(`  total ${secs(ms)}`);
  print('');
  print(bold('Where to look'));
  print(`  state folder      ${rel(stateDir)}  (store/*.json = the emulated resources; delete it to start over)`);
  print(`  step summaries    ${rel(outDir)}/*.md  (what the pipeline's "Extensions" tab shows), demo-run.json`);
  print(
    `  task logs         ${rel(path.join(REPO_ROOT, 'test', '.output'))}/<Task>-<n>.log  (full stdout/stderr of every run)`,
  );
  const studio = (p: string) => `https://ml.azure.com/${p}?wsid=${wsArmPath(box)}&tid=${box.tenantId}`;
  print(`  studio (real Azure equivalents of what the box holds):`);
  print(`    model           ${studio(`model/${flow.modelName}:${flow.modelVersion ?? '<version>'}/details`)}`);
  if (flow.jobName) print(`    job             ${studio(`runs/${flow.jobName}`)}`);
  print(`    endpoints       ${studio('endpoints')}`);
  if (flow.releaseId)
    print(`  release           ${box.collectionUri}${box.projectName}/_releaseProgress?releaseId=${flow.releaseId}`);
  print(`  rerun             npm run demo        (same state: the idempotent path)   |   npm run demo -- --fresh`);
  print(ok ? green(bold('Demo finished.')) : red(bold('Demo failed.')));

  return {
    ok,
    ms,
    steps,
    step: (id) => steps.find((s) => s.id === id),
    releaseVariables: flow.releaseVariables,
    stateDir,
    outDir,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// CLI

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      state: { type: 'string' },
      fresh: { type: 'boolean', default: false },
      fast: { type: 'boolean', default: false },
      registry: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('usage: npm run demo [-- --state <dir>] [--fresh] [--fast] [--registry]');
    return 0;
  }
  // Node reads NODE_EXTRA_CA_CERTS only at start: make sure this process trusts the box's CA, else re-run itself.
  const ca = await ensureCa();
  if (process.env.NODE_EXTRA_CA_CERTS !== ca.certPath) {
    const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, NODE_EXTRA_CA_CERTS: ca.certPath },
    });
    return r.status ?? 1;
  }
  // the registry layout keeps its own state, so the main demo's endpoints and releases stay as they were
  const stateDir = path.resolve(
    values.state ?? path.join(REPO_ROOT, '.azure-in-a-box', values.registry ? 'demo-registry' : 'demo'),
  );
  if (values.fresh) fs.rmSync(stateDir, { recursive: true, force: true });
  const r = await runDemo({ stateDir, fast: values.fast, registry: values.registry });
  return r.ok ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(REPO_ROOT, 'scripts', 'demo.ts')) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
