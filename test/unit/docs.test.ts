// Docs check: the task pages (docs/tasks/<Folder>.md) and the README's task index are what scripts/gen-readme.mjs
// generates from task.json (regenerated in memory and compared), and every pipeline YAML in the README, the docs
// and samples/ uses only real task inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
// @ts-expect-error -- plain ESM script without type declarations
import { regenerateDocs, loadTasks, renderTask, cell } from '../../scripts/gen-readme.mjs';

const ROOT = path.resolve(__dirname, '..', '..');
const README = path.join(ROOT, 'README.md');
type TaskJson = {
  id: string;
  name: string;
  version: { Major: number };
  inputs?: Array<{
    name: string;
    type?: string;
    options?: Record<string, string>;
    aliases?: string[];
    required?: boolean;
    defaultValue?: unknown;
    visibleRule?: string;
  }>;
};
const tasks = loadTasks(ROOT) as Map<string, TaskJson>;

test('task pages and the README task index match task.json (run npm run docs)', () => {
  const { files, problems } = regenerateDocs(ROOT, tasks) as {
    files: Array<{ file: string; before?: string; after: string }>;
    problems: string[];
  };
  assert.deepEqual(problems, []);
  assert.equal(files.length, tasks.size + 1, 'one page per task plus README.md');
  for (const f of files) {
    assert.ok(f.before !== undefined, `${f.file} does not exist: run npm run docs`);
    if (f.after !== f.before!.replace(/\r\n/g, '\n')) {
      const a = f.before!.split('\n'),
        b = f.after.split('\n');
      const i = a.findIndex((l, n) => l !== b[n]);
      assert.fail(
        `${f.file} is out of date with task.json: run npm run docs (first difference at line ${i + 1}:\n  file:      ${a[i]}\n  generated: ${b[i]})`,
      );
    }
  }
});

test('every task.json helpUrl is its page', () => {
  for (const [folder, t] of tasks as Map<string, TaskJson & { helpUrl?: string }>) {
    assert.match(
      String(t.helpUrl),
      new RegExp(`/blob/main/docs/tasks/${folder}\\.md$`),
      `tasks/${folder}/task.json helpUrl`,
    );
    assert.ok(fs.existsSync(path.join(ROOT, 'docs', 'tasks', `${folder}.md`)), `docs/tasks/${folder}.md`);
  }
});

test('the generator renders every input and output of a task, escaping table syntax', () => {
  const md: string = renderTask('XV1', {
    name: 'X',
    friendlyName: 'X task',
    description: 'd',
    version: { Major: 1, Minor: 2, Patch: 3 },
    groups: [{ name: 'g', displayName: 'Group' }],
    inputs: [
      {
        name: 'a',
        type: 'pickList',
        label: 'A',
        required: true,
        defaultValue: 'p',
        options: { p: 'P', q: 'Q' },
        groupName: 'g',
        helpMarkDown: 'x | y',
      },
      { name: 'b', type: 'connectedService:AzureRM', label: 'B', aliases: ['bb'], visibleRule: 'a = q' },
    ],
    outputVariables: [{ name: 'o', description: 'azureml:<name>:<version>' }],
  });
  assert.match(md, /\| `a` \| pick list: `p`, `q` \| yes \| `p` \| \*\*A\*\* _\(Group\)_\. x \\\| y \|/);
  assert.match(md, /\| `b` \/ `bb` \| service connection \(AzureRM\) \| no \|/);
  assert.match(md, /Shown when `a = q`/);
  assert.match(md, /\| `o` \| azureml:&lt;name&gt;:&lt;version&gt; \|/);
  assert.equal(cell('keep `<code>` as is'), 'keep `<code>` as is');
});

/** Inputs under template conditionals (`${{ if … }}:` / `${{ else }}:`) count as inputs of the step. */
function flattenTemplateKeys(inputs: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(inputs)) {
    if (/^\$\{\{.*\}\}$/.test(k.trim()) && v && typeof v === 'object' && !Array.isArray(v))
      Object.assign(out, flattenTemplateKeys(v as Record<string, unknown>));
    else out[k] = v;
  }
  return out;
}

/** `- task: Name@1` steps anywhere in a parsed YAML document. */
function taskSteps(doc: unknown, out: Array<{ task: string; inputs: Record<string, unknown> }> = []): typeof out {
  if (Array.isArray(doc)) doc.forEach((d) => taskSteps(d, out));
  else if (doc && typeof doc === 'object') {
    const o = doc as Record<string, unknown>;
    if (typeof o.task === 'string')
      out.push({ task: o.task, inputs: flattenTemplateKeys((o.inputs ?? {}) as Record<string, unknown>) });
    Object.values(o).forEach((v) => taskSteps(v, out));
  }
  return out;
}

function checkSteps(where: string, steps: ReturnType<typeof taskSteps>): string[] {
  const problems: string[] = [];
  for (const s of steps) {
    const m = /^([A-Za-z0-9]+)@(\d+)$/.exec(s.task);
    if (!m || !m[1]!.startsWith('AzureML')) continue; // built-in tasks (PowerShell@2 …)
    const t = tasks.get(`${m[1]}V${m[2]}`);
    if (!t) {
      problems.push(`${where}: ${s.task} is not a task of this extension (no tasks/${m[1]}V${m[2]}/task.json)`);
      continue;
    }
    const names = new Set((t.inputs ?? []).flatMap((i) => [i.name, ...(i.aliases ?? [])]));
    for (const k of Object.keys(s.inputs)) if (!names.has(k)) problems.push(`${where}: ${s.task} has no input '${k}'`);
    for (const i of t.inputs ?? []) {
      const key = [i.name, ...(i.aliases ?? [])].find((n) => n in s.inputs);
      if (!key) continue;
      const v = String(s.inputs[key]);
      if (/\$\(|\$\{\{|\$\[/.test(v)) continue; // runtime / template values
      if (i.options && (i.type === 'pickList' || i.type === 'radio') && !(v in i.options))
        problems.push(`${where}: ${s.task} input '${key}' = '${v}' is not one of ${Object.keys(i.options).join(', ')}`);
      if (i.type === 'boolean' && !/^(true|false)$/i.test(v))
        problems.push(`${where}: ${s.task} input '${key}' = '${v}' is not true/false`);
    }
    for (const i of t.inputs ?? []) {
      const given = [i.name, ...(i.aliases ?? [])].some((n) => n in s.inputs);
      if (i.required && !i.visibleRule && (i.defaultValue === undefined || i.defaultValue === '') && !given)
        problems.push(`${where}: ${s.task} lacks required input '${i.name}'`);
    }
  }
  return problems;
}

test('README and docs YAML examples use only real task inputs, and give the required ones', () => {
  const docs = path.join(ROOT, 'docs');
  const mdFiles = [
    README,
    ...fs
      .readdirSync(docs, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.md'))
      .map((f) => path.join(docs, f)),
  ];
  let steps = 0;
  const problems: string[] = [];
  for (const file of mdFiles) {
    const blocks = [...fs.readFileSync(file, 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    blocks.forEach((b, n) => {
      const s = taskSteps(YAML.parse(b));
      steps += s.length;
      problems.push(...checkSteps(`${path.relative(ROOT, file)} yaml block ${n + 1}`, s));
    });
  }
  assert.ok(
    steps >= tasks.size,
    `expected at least one YAML example per task (${tasks.size}), found ${steps} task steps`,
  );
  assert.deepEqual(problems, []);
});

test('sample pipelines use only real task inputs, and give the required ones', () => {
  const dir = path.join(ROOT, 'samples', 'pipelines');
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)) : [];
  const problems: string[] = [];
  for (const f of files)
    problems.push(
      ...checkSteps(`samples/pipelines/${f}`, taskSteps(YAML.parse(fs.readFileSync(path.join(dir, f), 'utf8')))),
    );
  assert.deepEqual(problems, []);
});

/**
 * Classic definitions: release (`deployPhases[].workflowTasks[]`: taskId + inputs, phaseType agentBasedDeployment /
 * runOnServer) and build (`process.phases[].steps[]`: task.id + inputs, target.type 1 agent / 2 server: actions/runner
 * src/Sdk/BuildWebApi/Api/PhaseTargetType.cs). Every task of this extension exists, gets only its own inputs and runs in
 * a job its task.json `runsOn` allows (a server task in an agent job, or an agent task in an agentless job, cannot run).
 */
function checkClassicDefinition(v: unknown, f: string): string[] {
  const byId = new Map([...tasks.values()].map((t) => [t.id, t as TaskJson & { runsOn?: string[] }]));
  const problems: string[] = [];
  const check = (taskId: string, inputs: Record<string, unknown>, server: boolean | undefined): void => {
    const t = byId.get(taskId);
    if (!t) {
      if (!/^[0-9a-f-]{36}$/i.test(taskId)) problems.push(`${f}: taskId '${taskId}' is not a GUID`);
      return;
    }
    const names = new Set((t.inputs ?? []).flatMap((i) => [i.name, ...(i.aliases ?? [])]));
    for (const k of Object.keys(inputs)) if (!names.has(k)) problems.push(`${f}: task ${t.name} has no input '${k}'`);
    for (const i of t.inputs ?? []) {
      if (
        i.required &&
        !i.visibleRule &&
        (i.defaultValue === undefined || i.defaultValue === '') &&
        ![i.name, ...(i.aliases ?? [])].some((n) => n in inputs)
      )
        problems.push(`${f}: task ${t.name} lacks required input '${i.name}'`);
    }
    if (server !== undefined) {
      const runsOnServer = (t.runsOn ?? ['Agent']).includes('Server');
      if (server !== runsOnServer)
        problems.push(
          `${f}: task ${t.name} (runsOn ${(t.runsOn ?? ['Agent']).join(', ')}) is in an ${server ? 'agentless (server)' : 'agent'} job`,
        );
    }
  };
  const walk = (x: unknown, server: boolean | undefined): void => {
    if (Array.isArray(x)) {
      x.forEach((y) => walk(y, server));
      return;
    }
    if (!x || typeof x !== 'object') return;
    const o = x as Record<string, any>;
    let inServer = server;
    if (typeof o.phaseType === 'string') inServer = o.phaseType === 'runOnServer';
    if (o.target && typeof o.target === 'object' && typeof o.target.type === 'number' && Array.isArray(o.steps))
      inServer = o.target.type === 2;
    if (typeof o.taskId === 'string' && o.inputs && typeof o.inputs === 'object') check(o.taskId, o.inputs, inServer);
    if (
      o.task &&
      typeof o.task === 'object' &&
      typeof o.task.id === 'string' &&
      o.inputs &&
      typeof o.inputs === 'object'
    )
      check(o.task.id, o.inputs, inServer);
    Object.values(o).forEach((y) => walk(y, inServer));
  };
  walk(v, undefined);
  return problems;
}

test('classic release and build samples: tasks by id exist, use only their inputs, run in a job they can run in', () => {
  const problems: string[] = [];
  let files = 0;
  for (const sub of ['release', 'build']) {
    const dir = path.join(ROOT, 'samples', sub);
    for (const f of fs.existsSync(dir) ? fs.readdirSync(dir).filter((x) => x.endsWith('.json')) : []) {
      files++;
      problems.push(
        ...checkClassicDefinition(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')), `samples/${sub}/${f}`),
      );
    }
  }
  assert.ok(files >= 2, `expected the classic release and build samples, found ${files} file(s)`);
  assert.deepEqual(problems, []);
});

test('the classic sample check catches a server task in an agent job, an unknown input and a missing required one', () => {
  const wait = [...tasks.values()].find((t) => t.name === 'AzureMLJobWait')!;
  const job = [...tasks.values()].find((t) => t.name === 'AzureMLJob')!;
  const def = {
    process: {
      phases: [
        {
          target: { type: 1 },
          steps: [
            { task: { id: wait.id }, inputs: { connection: 'c', resourceGroup: 'r', workspace: 'w', jobName: 'j' } },
          ],
        },
        { target: { type: 2 }, steps: [{ task: { id: job.id }, inputs: { connection: 'c', nope: 'x' } }] },
      ],
    },
  };
  const problems = checkClassicDefinition(def, 'x.json');
  assert.ok(
    problems.some((p) => /AzureMLJobWait \(runsOn Server\) is in an agent job/.test(p)),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => /AzureMLJob \(runsOn Agent.*\) is in an agentless \(server\) job/.test(p)),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => /AzureMLJob has no input 'nope'/.test(p)),
    problems.join('\n'),
  );
  const rel = {
    environments: [
      {
        deployPhases: [
          {
            phaseType: 'runOnServer',
            workflowTasks: [{ taskId: wait.id, inputs: { connection: 'c', resourceGroup: 'r', workspace: 'w' } }],
          },
        ],
      },
    ],
  };
  assert.deepEqual(checkClassicDefinition(rel, 'r.json'), [
    "r.json: task AzureMLJobWait lacks required input 'jobName'",
  ]);
});

test('overview.md images exist and ship in the extension', () => {
  const overview = fs.readFileSync(path.join(ROOT, 'overview.md'), 'utf8');
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'vss-extension.json'), 'utf8')) as {
    files: Array<{ path: string }>;
  };
  const images = [...overview.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((u) => !/^https?:/.test(u));
  for (const img of images) {
    assert.ok(fs.existsSync(path.join(ROOT, img)), `overview.md references ${img}, which does not exist`);
    assert.ok(
      manifest.files.some((f) => img === f.path || img.startsWith(`${f.path.replace(/\/$/, '')}/`)),
      `${img} is not under a vss-extension.json "files" entry`,
    );
  }
});
