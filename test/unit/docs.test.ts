// Docs check: the README's task sections are what scripts/gen-readme.mjs generates from task.json (regenerated in
// memory and compared), and every pipeline YAML in the README and in samples/ uses only real task inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
// @ts-expect-error -- plain ESM script without type declarations
import { regenerateReadme, loadTasks, renderTask, cell } from '../../scripts/gen-readme.mjs';

const ROOT = path.resolve(__dirname, '..', '..');
const README = path.join(ROOT, 'README.md');
type TaskJson = { id: string; name: string; version: { Major: number }; inputs?: Array<{ name: string; type?: string; options?: Record<string, string>; aliases?: string[]; required?: boolean; defaultValue?: unknown; visibleRule?: string }> };
const tasks = loadTasks(ROOT) as Map<string, TaskJson>;

test('README task sections match task.json (run npm run docs)', () => {
  const text = fs.readFileSync(README, 'utf8');
  const { text: regenerated, missing, unknown } = regenerateReadme(text, tasks);
  assert.deepEqual(missing, [], `README.md has no <!-- task:… --> region for ${missing.join(', ')}: add one and run npm run docs`);
  assert.deepEqual(unknown, [], `README.md regions name tasks that do not exist: ${unknown.join(', ')}`);
  if (regenerated !== text.replace(/\r\n/g, '\n')) {
    const a = text.split('\n'), b = regenerated.split('\n');
    const i = a.findIndex((l, n) => l !== b[n]);
    assert.fail(`README.md task sections are out of date with task.json: run npm run docs (first difference at line ${i + 1}:\n  README:    ${a[i]}\n  generated: ${b[i]})`);
  }
});

test('the generator renders every input and output of a task, escaping table syntax', () => {
  const md: string = renderTask('XV1', {
    name: 'X', friendlyName: 'X task', description: 'd', version: { Major: 1, Minor: 2, Patch: 3 },
    groups: [{ name: 'g', displayName: 'Group' }],
    inputs: [
      { name: 'a', type: 'pickList', label: 'A', required: true, defaultValue: 'p', options: { p: 'P', q: 'Q' }, groupName: 'g', helpMarkDown: 'x | y' },
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
    if (/^\$\{\{.*\}\}$/.test(k.trim()) && v && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flattenTemplateKeys(v as Record<string, unknown>));
    else out[k] = v;
  }
  return out;
}

/** `- task: Name@1` steps anywhere in a parsed YAML document. */
function taskSteps(doc: unknown, out: Array<{ task: string; inputs: Record<string, unknown> }> = []): typeof out {
  if (Array.isArray(doc)) doc.forEach((d) => taskSteps(d, out));
  else if (doc && typeof doc === 'object') {
    const o = doc as Record<string, unknown>;
    if (typeof o.task === 'string') out.push({ task: o.task, inputs: flattenTemplateKeys((o.inputs ?? {}) as Record<string, unknown>) });
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
    if (!t) { problems.push(`${where}: ${s.task} is not a task of this extension (no tasks/${m[1]}V${m[2]}/task.json)`); continue; }
    const names = new Set((t.inputs ?? []).flatMap((i) => [i.name, ...(i.aliases ?? [])]));
    for (const k of Object.keys(s.inputs)) if (!names.has(k)) problems.push(`${where}: ${s.task} has no input '${k}'`);
    for (const i of t.inputs ?? []) {
      const key = [i.name, ...(i.aliases ?? [])].find((n) => n in s.inputs);
      if (!key) continue;
      const v = String(s.inputs[key]);
      if (/\$\(|\$\{\{|\$\[/.test(v)) continue; // runtime / template values
      if (i.options && (i.type === 'pickList' || i.type === 'radio') && !(v in i.options)) problems.push(`${where}: ${s.task} input '${key}' = '${v}' is not one of ${Object.keys(i.options).join(', ')}`);
      if (i.type === 'boolean' && !/^(true|false)$/i.test(v)) problems.push(`${where}: ${s.task} input '${key}' = '${v}' is not true/false`);
    }
    for (const i of t.inputs ?? []) {
      const given = [i.name, ...(i.aliases ?? [])].some((n) => n in s.inputs);
      if (i.required && !i.visibleRule && (i.defaultValue === undefined || i.defaultValue === '') && !given) problems.push(`${where}: ${s.task} lacks required input '${i.name}'`);
    }
  }
  return problems;
}

test('README YAML examples use only real task inputs, and give the required ones', () => {
  const text = fs.readFileSync(README, 'utf8');
  const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  let steps = 0;
  const problems: string[] = [];
  blocks.forEach((b, n) => {
    const s = taskSteps(YAML.parse(b));
    steps += s.length;
    problems.push(...checkSteps(`README.md yaml block ${n + 1}`, s));
  });
  assert.ok(steps >= tasks.size, `expected at least one YAML example per task (${tasks.size}), found ${steps} task steps`);
  assert.deepEqual(problems, []);
});

test('sample pipelines use only real task inputs, and give the required ones', () => {
  const dir = path.join(ROOT, 'samples', 'pipelines');
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)) : [];
  const problems: string[] = [];
  for (const f of files) problems.push(...checkSteps(`samples/pipelines/${f}`, taskSteps(YAML.parse(fs.readFileSync(path.join(dir, f), 'utf8')))));
  assert.deepEqual(problems, []);
});

test('classic release sample: tasks by id exist and use only their inputs', () => {
  const dir = path.join(ROOT, 'samples', 'release');
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
  const byId = new Map([...tasks.values()].map((t) => [t.id, t]));
  const problems: string[] = [];
  const walk = (v: unknown, f: string): void => {
    if (Array.isArray(v)) v.forEach((x) => walk(x, f));
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.taskId === 'string' && o.inputs && typeof o.inputs === 'object') {
        const t = byId.get(o.taskId);
        if (t) {
          const names = new Set((t.inputs ?? []).flatMap((i) => [i.name, ...(i.aliases ?? [])]));
          for (const k of Object.keys(o.inputs)) if (!names.has(k)) problems.push(`${f}: task ${t.name} has no input '${k}'`);
        } else if (!/^[0-9a-f-]{36}$/i.test(o.taskId)) problems.push(`${f}: taskId '${o.taskId}' is not a GUID`);
      }
      Object.values(o).forEach((x) => walk(x, f));
    }
  };
  for (const f of files) walk(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')), `samples/release/${f}`);
  assert.deepEqual(problems, []);
});

test('overview.md images exist and ship in the extension', () => {
  const overview = fs.readFileSync(path.join(ROOT, 'overview.md'), 'utf8');
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'vss-extension.json'), 'utf8')) as { files: Array<{ path: string }> };
  const images = [...overview.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((u) => !/^https?:/.test(u));
  for (const img of images) {
    assert.ok(fs.existsSync(path.join(ROOT, img)), `overview.md references ${img}, which does not exist`);
    assert.ok(manifest.files.some((f) => img === f.path || img.startsWith(`${f.path.replace(/\/$/, '')}/`)), `${img} is not under a vss-extension.json "files" entry`);
  }
});
