// 2. Start-up: spawn → first request the emulator logs, for the bundled AzureMLModelRegister (as the agent runs it),
// vs `node -e 0` spawn → exit, vs the same task not minified and vs the same task unbundled (its own code compiled,
// packages loaded from node_modules: esbuild `packages: 'external'`, see sizes.ts). Every peer gets the same agent
// environment (including the emulator's NODE_OPTIONS preload), runs are interleaved round-robin, medians reported.
// Every other built task: spawn → exit with no inputs (loads the bundle, fails on the first required input) vs node -e 0.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AzureInABox } from '../test/emulator';
import { agentEnv, interpretRun } from '../test/helpers/agent';
import { REPO_ROOT, WORK_DIR, fmtMs, fmtRatio, ratio, spawnTimed, stats, type Report, type Spawned } from './lib';
import { buildUnbundled, buildUnminified, builtTasks } from './sizes';

export const REGISTER = 'AzureMLModelRegister';

/** Agent environment + folders for one task run (sources folder = cwd). */
export async function taskEnv(
  box: AzureInABox,
  task: string,
  inputs: Record<string, string>,
  label: string,
): Promise<{ env: NodeJS.ProcessEnv; cwd: string }> {
  const base = path.join(WORK_DIR, 'agent', label);
  const dirs = { temp: path.join(base, '_temp'), work: base, sources: path.join(base, 's') };
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
  const env = await agentEnv(task, { box, inputs, scheme: 'secret' }, dirs);
  return { env, cwd: dirs.sources };
}

export interface TaskSpawn extends Spawned {
  result?: string;
  message?: string;
  firstRequestMs?: number;
  requests: number;
}

/** Runs `node <script>` with env; returns the spawn → first emulator request delay and the task's result. */
export async function runTask(
  box: AzureInABox,
  script: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
  opts: { measureRss?: boolean; onStdout?(s: string): void } = {},
): Promise<TaskSpawn> {
  const before = box.requests.length;
  const r = await spawnTimed(process.execPath, [script], {
    env,
    cwd,
    measureRss: opts.measureRss,
    onStdout: opts.onStdout,
  });
  const mine = box.requests.slice(before);
  const parsed = interpretRun(r.stdout, r.stderr, r.code);
  const first = mine[0] ? Date.parse(mine[0].time) - r.spawnedAt : undefined;
  return { ...r, result: parsed.result, message: parsed.message, firstRequestMs: first, requests: mine.length };
}

export async function startupBench(
  report: Report,
  box: AzureInABox,
  o: { runs: number },
): Promise<Record<string, unknown>> {
  console.log('\n## 2. Start-up: task spawn → first request vs node -e 0');
  const model = path.join(WORK_DIR, 'agent', 'startup', 's', 'model');
  fs.mkdirSync(model, { recursive: true });
  fs.writeFileSync(path.join(model, 'weights.txt'), 'w=1\n');
  const { env, cwd } = await taskEnv(
    box,
    REGISTER,
    {
      modelName: 'bench-startup',
      modelPath: 'model',
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      modelType: 'custom_model',
    },
    'startup',
  );
  const bundle = path.join(REPO_ROOT, 'tasks', `${REGISTER}V1`, 'index.js');
  const peers: Array<{ name: string; script?: string }> = [
    { name: 'node -e 0 (spawn → exit)' },
    { name: 'bundle (minified, shipped)', script: bundle },
    { name: 'bundle, not minified', script: await buildUnminified(`${REGISTER}V1`) },
    { name: 'unbundled (code + node_modules)', script: await buildUnbundled(`${REGISTER}V1`) },
  ];
  const first: Record<string, number[]> = {},
    exit: Record<string, number[]> = {};
  for (const p of peers) {
    first[p.name] = [];
    exit[p.name] = [];
  }
  // one warm-up of each (file cache, the model's first registration), not counted
  for (const p of peers) {
    const r = p.script
      ? await runTask(box, p.script, env, cwd)
      : await spawnTimed(process.execPath, ['-e', '0'], { env, cwd });
    if (p.script && (r as TaskSpawn).result !== 'Succeeded')
      throw new Error(`${p.name}: ${(r as TaskSpawn).message ?? r.stderr.slice(-500)}`);
  }
  for (let i = 0; i < o.runs; i++) {
    for (const p of peers) {
      if (!p.script) {
        exit[p.name]!.push((await spawnTimed(process.execPath, ['-e', '0'], { env, cwd })).wallMs);
        continue;
      }
      const r = await runTask(box, p.script, env, cwd);
      if (r.result !== 'Succeeded' || r.firstRequestMs === undefined)
        throw new Error(`${p.name}: ${r.result} ${r.message ?? ''}`);
      first[p.name]!.push(r.firstRequestMs);
      exit[p.name]!.push(r.wallMs);
    }
  }
  const nodeMs = stats(exit[peers[0]!.name]!).median;
  report.add({
    section: 'startup',
    name: 'node -e 0 spawn → exit (median)',
    value: fmtMs(nodeMs),
    note: `${o.runs} runs, agent env`,
  });
  for (const p of peers.slice(1)) {
    const f = stats(first[p.name]!).median;
    report.add({
      section: 'startup',
      name: `${p.name}: spawn → first request`,
      value: fmtMs(f),
      peer: 'node -e 0',
      peerValue: fmtMs(nodeMs),
      ratio: fmtRatio(ratio(f, nodeMs)),
    });
  }
  const shipped = stats(first[peers[1]!.name]!).median;
  for (const p of peers.slice(2)) {
    const f = stats(first[p.name]!).median;
    report.add({
      section: 'startup',
      name: `bundle vs ${p.name}`,
      value: fmtMs(shipped),
      peer: p.name,
      peerValue: fmtMs(f),
      ratio: fmtRatio(ratio(shipped, f)),
    });
  }
  for (const p of peers.slice(1)) {
    const e = stats(exit[p.name]!).median;
    report.add({
      section: 'startup',
      name: `${p.name}: whole register (tiny model)`,
      value: fmtMs(e),
      note: 'spawn → exit, re-register of unchanged files',
    });
  }

  // every built task: load and fail on the missing inputs
  const others: Record<string, number> = {};
  const bare: NodeJS.ProcessEnv = { ...env };
  for (const k of Object.keys(bare)) if (k.startsWith('INPUT_')) delete bare[k];
  for (const folder of await builtTasks()) {
    const script = path.join(REPO_ROOT, 'tasks', folder, 'index.js');
    const xs: number[] = [];
    await spawnTimed(process.execPath, [script], { env: bare, cwd });
    for (let i = 0; i < Math.max(3, Math.ceil(o.runs / 2)); i++)
      xs.push((await spawnTimed(process.execPath, [script], { env: bare, cwd })).wallMs);
    others[folder] = stats(xs).median;
    report.add({
      section: 'startup',
      name: `${folder}: load → fail on missing input`,
      value: fmtMs(others[folder]!),
      peer: 'node -e 0',
      peerValue: fmtMs(nodeMs),
      ratio: fmtRatio(ratio(others[folder]!, nodeMs)),
    });
  }
  return {
    runs: o.runs,
    nodeExitMs: exit[peers[0]!.name],
    peers: Object.fromEntries(
      peers.slice(1).map((p) => [p.name, { firstRequestMs: first[p.name], exitMs: exit[p.name] }]),
    ),
    loadAndFailMs: others,
  };
}
