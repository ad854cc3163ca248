#!/usr/bin/env node
// `npm run docs`: regenerates the task reference in README.md from tasks/<Name>V<n>/task.json, so the README cannot
// drift from the task contracts. Each task's region lies between the markers
//
//   <!-- task:AzureMLJobV1 -->
//   …generated: description, inputs table, output variables table…
//   <!-- /task -->
//
// and everything outside the markers (headings, YAML examples, prose) is left as written.
//
//   node scripts/gen-readme.mjs            rewrite README.md in place
//   node scripts/gen-readme.mjs --check    exit 1 when README.md is not up to date (or a task has no region)
//
// test/unit/docs.test.ts imports regenerateReadme() and compares in memory.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listTaskFolders, REPO_ROOT } from './lib/tasks.mjs';

export const README = path.join(REPO_ROOT, 'README.md');
const REGION_RE = /<!-- task:([A-Za-z0-9]+) -->\n[\s\S]*?<!-- \/task -->/g;

/** One table cell: pipes escaped, line breaks as <br>, trimmed. */
export function cell(text) {
  // `<` and `>` outside code spans would be read as HTML tags (`azureml:<name>` would lose `<name>`)
  const escaped = String(text ?? '')
    .trim()
    .split('`')
    .map((part, i) => (i % 2 ? part : part.replace(/</g, '&lt;').replace(/>/g, '&gt;')))
    .join('`');
  return escaped
    .replace(/\|/g, '\\|')
    .replace(/\r?\n\s*\r?\n/g, '<br><br>')
    .replace(/\r?\n/g, ' ');
}

function inputType(input) {
  const t = String(input.type ?? 'string');
  if (t.startsWith('connectedService:')) return `service connection (${t.slice('connectedService:'.length)})`;
  if (t === 'pickList' || t === 'radio') {
    const opts = Object.keys(input.options ?? {});
    return opts.length ? `${t === 'radio' ? 'one of' : 'pick list'}: ${opts.map((o) => `\`${o}\``).join(', ')}` : t;
  }
  return t;
}

function defaultOf(input) {
  const d = input.defaultValue;
  if (d === undefined || d === null || d === '') return '';
  return `\`${String(d).replace(/`/g, "'")}\``;
}

/** The generated markdown of one task (without the markers). */
export function renderTask(folder, task) {
  const lines = [];
  const major = task.version?.Major ?? 1;
  lines.push(`_Generated from [tasks/${folder}/task.json](tasks/${folder}/task.json) by \`npm run docs\` — do not edit by hand._`);
  lines.push('');
  lines.push(`**${task.friendlyName}** (\`${task.name}@${major}\`, version ${major}.${task.version?.Minor ?? 0}.${task.version?.Patch ?? 0}) — ${String(task.description ?? '').trim()}`);
  if (task.helpMarkDown) {
    lines.push('');
    lines.push(String(task.helpMarkDown).trim());
  }
  const groups = new Map((task.groups ?? []).map((g) => [g.name, g.displayName]));
  lines.push('');
  lines.push('| Input | Type | Required | Default | Description |');
  lines.push('|---|---|---|---|---|');
  for (const input of task.inputs ?? []) {
    const names = [`\`${input.name}\``, ...(input.aliases ?? []).map((a) => `\`${a}\``)].join(' / ');
    let desc = input.label ? `**${cell(input.label)}**` : '';
    if (input.groupName && groups.has(input.groupName)) desc += ` _(${cell(groups.get(input.groupName))})_`;
    if (input.helpMarkDown) desc += `${desc ? '. ' : ''}${cell(input.helpMarkDown)}`;
    if (input.visibleRule) desc += ` Shown when \`${cell(input.visibleRule)}\`.`;
    lines.push(`| ${names} | ${cell(inputType(input))} | ${input.required ? 'yes' : 'no'} | ${defaultOf(input)} | ${desc} |`);
  }
  const outs = task.outputVariables ?? [];
  lines.push('');
  if (outs.length) {
    lines.push('| Output variable | Description |');
    lines.push('|---|---|');
    for (const o of outs) lines.push(`| \`${o.name}\` | ${cell(o.description)} |`);
  } else {
    lines.push('No output variables.');
  }
  return lines.join('\n');
}

/** Every task.json under tasks/ (folders without task.json are pending and skipped), keyed by folder. */
export function loadTasks(root = REPO_ROOT) {
  const tasks = new Map();
  for (const f of listTaskFolders(root)) {
    if (f.hasTaskJson) tasks.set(f.folder, JSON.parse(fs.readFileSync(path.join(f.dir, 'task.json'), 'utf8')));
  }
  return tasks;
}

/**
 * README text with every task region regenerated. `missing`: task folders with no region in the text;
 * `unknown`: regions naming a folder that has no task.json.
 */
export function regenerateReadme(text, tasks) {
  const seen = new Set();
  const unknown = [];
  const out = text.replace(/\r\n/g, '\n').replace(REGION_RE, (whole, folder) => {
    const task = tasks.get(folder);
    if (!task) {
      unknown.push(folder);
      return whole;
    }
    seen.add(folder);
    return `<!-- task:${folder} -->\n${renderTask(folder, task)}\n<!-- /task -->`;
  });
  const missing = [...tasks.keys()].filter((f) => !seen.has(f));
  return { text: out, missing, unknown };
}

function main(argv) {
  const check = argv.includes('--check');
  const before = fs.readFileSync(README, 'utf8');
  const { text, missing, unknown } = regenerateReadme(before, loadTasks());
  for (const f of missing) console.error(`docs: README.md has no region <!-- task:${f} --> … <!-- /task --> for tasks/${f}/task.json`);
  for (const f of unknown) console.error(`docs: README.md region task:${f} names no task (tasks/${f}/task.json does not exist)`);
  if (check) {
    if (text !== before) console.error('docs: README.md task sections are out of date with task.json: run npm run docs');
    return text === before && !missing.length && !unknown.length ? 0 : 1;
  }
  if (text !== before) {
    fs.writeFileSync(README, text);
    console.log('docs: README.md task sections regenerated');
  } else {
    console.log('docs: README.md task sections already up to date');
  }
  return missing.length || unknown.length ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
