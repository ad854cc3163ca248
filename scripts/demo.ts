// `npm run demo` (= npm run build && tsx scripts/demo.ts): the whole MLOps loop against Azure-in-a-box, with the REAL
// bundled tasks (tasks/<Name>V1/index.js) run the way the Azure Pipelines agent runs them (test/helpers/agent.ts):
//
//   train (AzureMLJob, samples/training/job.yml, local job runner) → evaluate (AzureMLModelEvaluate vs production)
//   → register (AzureMLModelRegister, the job's model output) → trigger (AzureMLReleaseTrigger push: a release in the
//   emulated Azure DevOps) → download via the model artifact (release variables + the injected AzureMLModelDownload)
//   → deploy to staging (managed endpoint) → approval (recorded on the emulated release) → deploy to AKS (Kubernetes
//   endpoint, blue/green) → score a request against production (through the front door, with the endpoint key).
//
// State lives in .azure-in-a-box/demo (kept): a second run takes the idempotent path (same job, same model version,
// no new release, "already serving, no traffic change").
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
import { REPO_ROOT, runBundledTask, type RunOptions, type TaskRunWithLeaks } from '../test/helpers/agent';

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
  modelOutputUri?: string;
  modelVersion?: string;
  isBetter?: boolean;
  releaseId?: string;
  releaseVariables: Record<string, string>;
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
      if (m) out.push(`${m[2] === 'error' ? '##[error]' : '##[warning]'}${m[3]}`);
      continue;
    }
    if (line.startsWith('##[debug]')) continue;
    out.push(line);
  }
  return out;
}

function printLog(flow: Flow, run: TaskRunWithLeaks): void {
  const lines = keyLogLines(run.stdout);
  const shown = lines.length > flow.maxLogLines ? [...lines.slice(0, 3), `… ${lines.length - flow.maxLogLines + 1} more line(s) …`, ...lines.slice(-(flow.maxLogLines - 4))] : lines;
  for (const l of shown) flow.print(`  ${dim('│')} ${l.startsWith('##[error]') ? red(trim(l)) : l.startsWith('##[warning]') ? yellow(trim(l)) : trim(l)}`);
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

async function runTask(flow: Flow, res: StepResult, task: string, opts: Omit<RunOptions, 'box'>): Promise<TaskRunWithLeaks> {
  const run = await runBundledTask(task, { box: flow.box, scheme: 'secret', timeoutMs: 180_000, cwd: flow.cwd, ...opts });
  printLog(flow, run);
  res.logFile = run.logFile;
  res.outputs = { ...res.outputs, ...run.outputs };
  const titles = run.commands
    .filter((x) => x.name === 'task.uploadsummary' || (x.name === 'task.addattachment' && /summary/i.test(x.props.type ?? '')))
    .map((x) => path.basename(x.data.trim()).replace(/\.md$/i, ''));
  run.summaries.forEach((markdown, i) => res.summaries.push({ title: titles[i] ?? task, task, markdown }));
  res.logs.push({ task, lines: keyLogLines(run.stdout) });
  printKv(flow, 'output variables', run.outputs, run.secretOutputs);
  if (run.result !== 'Succeeded' && run.result !== 'SucceededWithIssues') {
    throw new StepFailed(`${task} ${run.result ?? 'failed'}: ${run.message ?? run.errors[0] ?? `exit code ${run.code}`}`);
  }
  return run;
}

const wsInputs = (flow: Flow) => ({ resourceGroup: flow.box.resourceGroup, workspace: flow.box.workspace });

// ---------------------------------------------------------------------------------------------------------------
// The steps

const SAMPLES = path.join(REPO_ROOT, 'samples');
const STAGING_ENDPOINT = 'diabetes-staging';
const PROD_ENDPOINT = 'diabetes-prod';

const STEPS: StepDef[] = [
  {
    id: 'train',
    title: 'Train: samples/training/job.yml on the local job runner',
    task: 'AzureMLJob',
    async run(flow, res) {
      const run = await runTask(flow, res, 'AzureMLJob', {
        // An explicit name (as `jobName: $(Build.DefinitionName)-$(Build.BuildId)` would give): the default name hashes the
        // job definition, whose lineage tags carry the collection URL — stable in Azure DevOps, a new port at every box start.
        inputs: { ...wsInputs(flow), jobFile: path.join(SAMPLES, 'training', 'job.yml'), jobName: 'azureml-ci-4242-train', tags: 'demo=npm run demo' },
      });
      flow.jobName = run.outputs.jobName;
      flow.modelOutputUri = `azureml://jobs/${flow.jobName}/outputs/model`;
      res.facts.reused = /already|reus/i.test(keyLogLines(run.stdout).join('\n'));
    },
  },
  {
    id: 'evaluate',
    title: 'Evaluate the challenger against production',
    task: 'AzureMLModelEvaluate',
    async run(flow, res) {
      if (!flow.jobName) throw new StepFailed('no training job to evaluate (train did not run)');
      const run = await runTask(flow, res, 'AzureMLModelEvaluate', {
        inputs: {
          ...wsInputs(flow), candidateType: 'job', candidateJob: flow.jobName, baseline: 'endpoint', endpointName: PROD_ENDPOINT,
          modelName: flow.modelName, metrics: 'accuracy higher\nf1 higher',
        },
      });
      flow.isBetter = run.outputs.isBetter === 'true';
      res.note = `verdict ${run.outputs.verdict ?? '?'}`;
      if (!flow.isBetter) flow.print(`  ${yellow('not better than production: the CI pipeline would stop here (register/trigger are conditioned on isBetter)')}`);
    },
  },
  {
    id: 'register',
    title: 'Register the trained model',
    task: 'AzureMLModelRegister',
    async run(flow, res) {
      const modelPath = flow.modelOutputUri ?? path.join(SAMPLES, 'model');
      if (!flow.modelOutputUri) flow.print(`  ${yellow('no job output (train skipped): registering samples/model from the agent instead')}`);
      const run = await runTask(flow, res, 'AzureMLModelRegister', {
        inputs: { ...wsInputs(flow), modelName: flow.modelName, modelPath, modelType: 'custom_model', tags: 'evaluation=passed\nsample=diabetes-logreg' },
      });
      flow.modelVersion = run.outputs.modelVersion;
      res.facts.reused = /already holds this content/.test(run.stdout);
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

  const firstRun = !fs.existsSync(path.join(stateDir, 'identity.json'));
  print(bold(`Azure-in-a-box: ${opts.box ? 'using the running box' : firstRun ? 'starting (new state folder)' : 'starting again (state kept: expect the idempotent path)'} — ${rel(stateDir)}`));
  const tBox = Date.now();
  const box = opts.box ?? (await startAzureInABox({ stateDir, fastLro: !!opts.fast }));
  print(dim(`  started in ${secs(Date.now() - tBox)}: ARM ${box.armUrl}  Entra ${box.authorityHost}  Azure DevOps ${box.collectionUri}`));
  const cwd = path.join(outDir, 'agent-sources');
  fs.mkdirSync(cwd, { recursive: true });
  const flow: Flow = {
    box, fast: !!opts.fast, print, maxLogLines: opts.maxLogLines ?? 10, outDir, cwd,
    modelName: 'diabetes-classifier', releaseVariables: {},
  };

  const steps: StepResult[] = [];
  try {
    for (const [i, def] of STEPS.entries()) {
      const res: StepResult = { id: def.id, title: def.title, task: def.task, status: 'ok', ms: 0, outputs: {}, summaries: [], logs: [], facts: {} };
      steps.push(res);
      print('');
      print(bold(`━━ ${i + 1}/${STEPS.length} ${def.title}${def.task ? `  ·  ${def.task}@1` : ''} ${'━'.repeat(Math.max(3, 100 - def.title.length - (def.task?.length ?? 0)))}`.slice(0, 118)));
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
        print(`  ${green('✔')} ${def.id} ${res.note ? `(${res.note}) ` : ''}in ${secs(res.ms)}${res.logFile ? dim(`   log: ${rel(res.logFile)}`) : ''}`);
      } catch (e) {
        res.ms = Date.now() - ts;
        res.status = 'failed';
        res.note = (e as Error).message;
        print(`  ${red('✘')} ${def.id} failed after ${secs(res.ms)}: ${res.note}${res.logFile ? dim(`   log: ${rel(res.logFile)}`) : ''}`);
        if (!(e instanceof StepFailed)) print(dim(String((e as Error).stack ?? e)));
        break; // later steps build on this one
      }
      res.summaries.forEach((sm, n) => {
        sm.file = `${String(i + 1).padStart(2, '0')}-${def.id}${n ? `-${n + 1}` : ''}.md`;
        fs.writeFileSync(path.join(outDir, sm.file), sm.markdown);
      });
    }
  } finally {
    if (!opts.box) await box.stop();
  }

  const ms = Date.now() - t0;
  const ok = steps.every((s) => s.status !== 'failed') && steps.length === STEPS.length;
  fs.writeFileSync(path.join(outDir, 'demo-run.json'), JSON.stringify({ ok, ms, steps, releaseVariables: flow.releaseVariables }, null, 1));

  print('');
  print(bold('━━ Summary ' + '━'.repeat(90)));
  for (const s of steps) {
    const mark = s.status === 'ok' ? green('✔') : s.status === 'skipped' ? yellow('⏭') : red('✘');
    print(`  ${mark} ${s.id.padEnd(10)} ${s.status === 'skipped' ? '   —   ' : secs(s.ms).padStart(7)}  ${trim(s.note ?? s.title, 100)}`);
  }
  print(`  total ${secs(ms)}`);
  print('');
  print(bold('Where to look'));
  print(`  state folder      ${rel(stateDir)}  (store/*.json = the emulated resources; delete it to start over)`);
  print(`  step summaries    ${rel(outDir)}/*.md  (what the pipeline's "Extensions" tab shows), demo-run.json`);
  print(`  task logs         ${rel(path.join(REPO_ROOT, 'test', '.output'))}/<Task>-<n>.log  (full stdout/stderr of every run)`);
  const wsPath = `/subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${box.workspace}`;
  const studio = (p: string) => `https://ml.azure.com/${p}?wsid=${wsPath}&tid=${box.tenantId}`;
  print(`  studio (real Azure equivalents of what the box holds):`);
  print(`    model           ${studio(`model/${flow.modelName}:${flow.modelVersion ?? '<version>'}/details`)}`);
  if (flow.jobName) print(`    job             ${studio(`runs/${flow.jobName}`)}`);
  print(`    endpoints       ${studio('endpoints')}`);
  if (flow.releaseId) print(`  release           ${box.collectionUri}${box.projectName}/_releaseProgress?releaseId=${flow.releaseId}`);
  print(`  rerun             npm run demo        (same state: the idempotent path)   |   npm run demo -- --fresh`);
  print(ok ? green(bold('Demo finished.')) : red(bold('Demo failed.')));

  return { ok, ms, steps, step: (id) => steps.find((s) => s.id === id), releaseVariables: flow.releaseVariables, stateDir, outDir };
}

// ---------------------------------------------------------------------------------------------------------------
// CLI

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      state: { type: 'string', default: path.join(REPO_ROOT, '.azure-in-a-box', 'demo') },
      fresh: { type: 'boolean', default: false },
      fast: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('usage: npm run demo [-- --state <dir>] [--fresh] [--fast]');
    return 0;
  }
  // Node reads NODE_EXTRA_CA_CERTS only at start: make sure this process trusts the box's CA, else re-run itself.
  const ca = await ensureCa();
  if (process.env.NODE_EXTRA_CA_CERTS !== ca.certPath) {
    const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit', env: { ...process.env, NODE_EXTRA_CA_CERTS: ca.certPath },
    });
    return r.status ?? 1;
  }
  const stateDir = path.resolve(values.state!);
  if (values.fresh) fs.rmSync(stateDir, { recursive: true, force: true });
  const r = await runDemo({ stateDir, fast: values.fast });
  return r.ok ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(REPO_ROOT, 'scripts', 'demo.ts')) {
  main().then((code) => process.exit(code), (e) => { console.error(e); process.exit(1); });
}
