#!/usr/bin/env node
// Adds every task folder that has a task.json to vss-extension.json: a `files` entry { "path": "tasks/<Folder>" } and
// a contribution
//   { "id": "<kebab name>-task", "type": "ms.vss-distributed-task.task", "targets": ["ms.vss-distributed-task.tasks"],
//     "properties": { "name": "tasks/<Folder>" } }
// (AzureMLModelRegisterV1 -> "azureml-model-register-task"). Existing entries are kept as they are; contribution ids
// must never change once published. Entries whose folder has no task.json are reported, not removed.
//
//   node scripts/sync-manifest.mjs [--check] [--root <repo>]     --check: change nothing, exit 1 if something is missing
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, listTaskFolders, parseTaskFolder } from './lib/tasks.mjs';

/** 'AzureMLModelRegister' -> 'azureml-model-register' */
export function kebabTaskName(name) {
  return name
    .replace(/^AzureML(?=[A-Z]|$)/, 'Azureml')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();
}

function main(argv) {
  let root = REPO_ROOT;
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--root') root = path.resolve(argv[++i]);
    else if (argv[i] === '--check') check = true;
    else {
      console.error(`sync-manifest: unknown argument ${argv[i]}`);
      return 2;
    }
  }
  const file = path.join(root, 'vss-extension.json');
  const ext = JSON.parse(fs.readFileSync(file, 'utf8'));
  ext.files ??= [];
  ext.contributions ??= [];
  const changes = [];
  for (const { folder, hasTaskJson } of listTaskFolders(root)) {
    if (!hasTaskJson) continue;
    const rel = `tasks/${folder}`;
    if (
      !ext.files.some(
        (f) => String(f.path).replace(/\/+$/, '') === rel || rel.startsWith(String(f.path).replace(/\/+$/, '') + '/'),
      )
    ) {
      ext.files.push({ path: rel });
      changes.push(`files += ${rel}`);
    }
    if (
      !ext.contributions.some(
        (c) => c.type === 'ms.vss-distributed-task.task' && String(c.properties?.name).replace(/\/+$/, '') === rel,
      )
    ) {
      const task = JSON.parse(fs.readFileSync(path.join(root, rel, 'task.json'), 'utf8'));
      const parsed = parseTaskFolder(folder);
      const base = kebabTaskName(parsed?.name ?? folder);
      const id = parsed && parsed.major > 1 ? `${base}-v${parsed.major}-task` : `${base}-task`;
      ext.contributions.push({
        id,
        description: task.description ?? task.friendlyName ?? folder,
        type: 'ms.vss-distributed-task.task',
        targets: ['ms.vss-distributed-task.tasks'],
        properties: { name: rel },
      });
      changes.push(`contributions += ${id} (${rel})`);
    }
  }
  for (const c of ext.contributions) {
    if (
      c.type === 'ms.vss-distributed-task.task' &&
      !fs.existsSync(path.join(root, String(c.properties?.name), 'task.json'))
    ) {
      console.log(`sync-manifest: note: contribution "${c.id}" names ${c.properties?.name}, which has no task.json`);
    }
  }
  if (!changes.length) {
    console.log('sync-manifest: vss-extension.json already lists every task');
    return 0;
  }
  for (const c of changes) console.log(`sync-manifest: ${check ? 'missing' : 'added'}: ${c}`);
  if (check) return 1;
  fs.writeFileSync(file, JSON.stringify(ext, null, 2) + '\n');
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  process.exitCode = main(process.argv.slice(2));
}
