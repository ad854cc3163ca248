#!/usr/bin/env node
// `npm run docs`: regenerates the task reference from tasks/<Name>V<n>/task.json, so the docs cannot drift from the
// task contracts. The generator is the single source of:
//   - docs/tasks/<Folder>.md: one page per task. Between the markers
//       <!-- task:AzureMLJobV1 -->  …generated: description, inputs table, output variables table…  <!-- /task -->
//     everything is generated; the rest of the page (examples, prose) is hand-written and kept as it is. A task with no
//     page gets a new one (title + region) on `npm run docs`.
//   - the task index in README.md, between <!-- tasks:index --> and <!-- /tasks:index -->.
//
//   node scripts/gen-readme.mjs            rewrite the pages and the README index in place
//   node scripts/gen-readme.mjs --check    exit 1 when a page or the index is out of date (or a task has no page)
//
// test/unit/docs.test.ts imports regenerateDocs() and compares in memory. The pages' URLs are the tasks' helpUrl
// (scripts/lint-manifest.mjs checks it; scripts/package.mjs rewrites it for a copy published from another repository).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listTaskFolders, REPO_ROOT } from './lib/tasks.mjs';

export const README = path.join(REPO_ROOT, 'README.md');
export const TASK_DOCS = 'docs/tasks';
const INDEX_RE = /<!-- tasks:index -->\n[\s\S]*?<!-- \/tasks:index -->/;
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
  lines.push(
    `_Generated from [tasks/${folder}/task.json](../../tasks/${folder}/task.json) by \`npm run docs\` — do not edit by hand._`,
  );
  lines.push('');
  lines.push(
    `**${task.friendlyName}** (\`${task.name}@${major}\`, version ${major}.${task.version?.Minor ?? 0}.${task.version?.Patch ?? 0}) — ${String(task.description ?? '').trim()}`,
  );
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
    lines.push(
      `| ${names} | ${cell(inputType(input))} | ${input.required ? 'yes' : 'no'} | ${defaultOf(input)} | ${desc} |`,
    );
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

/** The page of one task, relative to the repository root. */
export function taskPage(folder) {
  return `${TASK_DOCS}/${folder}.md`;
}

/** The page `text` of task `folder` with its region regenerated; `missing` when the page has no region. */
export function regeneratePage(text, folder, task) {
  let found = false;
  const out = text.replace(/\r\n/g, '\n').replace(REGION_RE, (whole, f) => {
    if (f !== folder) return whole;
    found = true;
    return `<!-- task:${folder} -->\n${renderTask(folder, task)}\n<!-- /task -->`;
  });
  return { text: out, missing: !found };
}

/** A new page for a task that has none. */
export function newPage(folder, task) {
  return `# ${task.name}@${task.version?.Major ?? 1}\n\n[README](../../README.md) · [All tasks](../../README.md#tasks)\n\n<!-- task:${folder} -->\n${renderTask(folder, task)}\n<!-- /task -->\n`;
}

/** The generated task index of README.md (without the markers). */
export function renderIndex(tasks) {
  const lines = ['| Task | Runs in | What it does |', '|---|---|---|'];
  for (const [folder, t] of [...tasks.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    const runsOn = (t.runsOn ?? ['Agent']).includes('Server') ? 'agentless job' : 'agent job';
    lines.push(
      `| [\`${t.name}@${t.version?.Major ?? 1}\`](${taskPage(folder)}) | ${runsOn} | ${cell(t.description)} |`,
    );
  }
  return lines.join('\n');
}

/** README text with the task index regenerated; `missing` when README has no index region. */
export function regenerateReadme(text, tasks) {
  let found = false;
  const out = text.replace(/\r\n/g, '\n').replace(INDEX_RE, () => {
    found = true;
    return `<!-- tasks:index -->\n${renderIndex(tasks)}\n<!-- /tasks:index -->`;
  });
  return { text: out, missing: !found };
}

/**
 * Every generated file: [{ file (relative), before (undefined when absent), after }], and `problems` (one line each).
 */
export function regenerateDocs(root = REPO_ROOT, tasks = loadTasks(root)) {
  const files = [];
  const problems = [];
  for (const [folder, task] of tasks) {
    const rel = taskPage(folder);
    const abs = path.join(root, rel);
    const before = fs.existsSync(abs) ? fs.readFileSync(abs, 'utf8') : undefined;
    if (before === undefined) {
      files.push({ file: rel, before, after: newPage(folder, task) });
      continue;
    }
    const { text, missing } = regeneratePage(before, folder, task);
    if (missing) problems.push(`${rel} has no region <!-- task:${folder} --> … <!-- /task -->`);
    files.push({ file: rel, before, after: text });
  }
  const dir = path.join(root, TASK_DOCS);
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (f.endsWith('.md') && !tasks.has(f.slice(0, -3)))
      problems.push(`${TASK_DOCS}/${f} names no task (tasks/${f.slice(0, -3)}/task.json does not exist)`);
  }
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const r = regenerateReadme(readme, tasks);
  if (r.missing) problems.push('README.md has no task index region <!-- tasks:index --> … <!-- /tasks:index -->');
  files.push({ file: 'README.md', before: readme, after: r.text });
  return { files, problems };
}

function main(argv) {
  const check = argv.includes('--check');
  const { files, problems } = regenerateDocs();
  for (const p of problems) console.error(`docs: ${p}`);
  const stale = files.filter((f) => f.before !== f.after);
  if (check) {
    for (const f of stale)
      console.error(
        `docs: ${f.file} is ${f.before === undefined ? 'missing' : 'out of date with task.json'}: run npm run docs`,
      );
    return stale.length || problems.length ? 1 : 0;
  }
  for (const f of stale) {
    fs.mkdirSync(path.dirname(path.join(REPO_ROOT, f.file)), { recursive: true });
    fs.writeFileSync(path.join(REPO_ROOT, f.file), f.after);
    console.log(`docs: ${f.file} ${f.before === undefined ? 'created' : 'regenerated'}`);
  }
  if (!stale.length) console.log(`docs: ${files.length} file(s) already up to date`);
  return problems.length ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
