#!/usr/bin/env node
// Bundles every task into tasks/<Name>V<n>/index.js with esbuild (one self-contained CJS file per task, nothing
// beside it at run time). Tasks are the folders under tasks/ that hold a task.json; the entry of each is
// src/tasks/<entry>.entry.ts (naming rule in scripts/lib/tasks.mjs). Server (agentless) tasks are skipped: they have
// no Node entry (isServerTask in scripts/lib/tasks.mjs). `npm run build` runs lint:manifest and tsc first.
//
//   node scripts/build.mjs [--task <Folder>]... [--metafile] [--root <repo>]
//   --metafile writes esbuild's metafile to dist/meta/<Folder>.json (what went into the bundle, for size analysis)
//
// Trap (measured on Node 20 with esbuild 0.28): @azure/storage-blob uses import.meta.url, which esbuild leaves empty in CJS without a warning,
// and the bundle then dies at load in createRequire. The define + banner below give it the bundle's own file URL.
import fs from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { REPO_ROOT, entryPath, formatBytes, isServerTask, listTaskFolders, readTaskJson } from './lib/tasks.mjs';

const IMPORT_META_URL_BANNER = "const __import_meta_url=require('url').pathToFileURL(__filename).href;";

/** esbuild options for one task (exported so tests/bench can bundle the same way). */
export function bundleOptions(root, folder) {
  return {
    absWorkingDir: root,
    entryPoints: [path.join(root, entryPath(folder))],
    outfile: path.join(root, 'tasks', folder, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    define: { 'import.meta.url': '__import_meta_url' },
    banner: { js: IMPORT_META_URL_BANNER },
    logLevel: 'silent',
    metafile: true,
  };
}

function formatMessages(kind, folder, messages) {
  return messages.map((m) => {
    const loc = m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ` : '';
    return `${kind}: [${folder}] ${loc}${m.text}${m.id ? ` (${m.id})` : ''}`;
  });
}

async function bundleTask(root, folder, writeMetafile) {
  const started = Date.now();
  try {
    const result = await esbuild.build(bundleOptions(root, folder));
    if (result.warnings.length) {
      // any warning is fatal: e.g. an import esbuild could not resolve statically ends up as a run-time crash
      return { folder, ok: false, messages: formatMessages('warning', folder, result.warnings) };
    }
    const out = path.join(root, 'tasks', folder, 'index.js');
    if (writeMetafile) {
      fs.mkdirSync(path.join(root, 'dist', 'meta'), { recursive: true });
      fs.writeFileSync(path.join(root, 'dist', 'meta', `${folder}.json`), JSON.stringify(result.metafile));
    }
    return { folder, ok: true, bytes: fs.statSync(out).size, ms: Date.now() - started };
  } catch (e) {
    const messages = e.errors
      ? formatMessages('error', folder, e.errors).concat(formatMessages('warning', folder, e.warnings ?? []))
      : [`error: [${folder}] ${e.message}`];
    return { folder, ok: false, messages };
  }
}

async function main(argv) {
  const only = [];
  let writeMetafile = false;
  let root = REPO_ROOT;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--task') only.push(argv[++i]);
    else if (argv[i] === '--root') root = path.resolve(argv[++i]);
    else if (argv[i] === '--metafile') writeMetafile = true;
    else {
      console.error(`build: unknown argument ${argv[i]}`);
      return 2;
    }
  }
  const folders = listTaskFolders(root);
  const tasks = [];
  for (const { folder, hasTaskJson } of folders) {
    if (only.length && !only.includes(folder)) continue;
    if (!hasTaskJson) {
      console.log(`build: skip tasks/${folder} (no task.json yet)`);
      continue;
    }
    // a server (agentless) task has no Node entry: nothing to bundle (scripts/lib/tasks.mjs isServerTask)
    if (isServerTask(readTaskJson(path.join(root, 'tasks', folder)))) {
      console.log(`build: skip tasks/${folder} (server task: execution.HttpRequest, nothing to bundle)`);
      continue;
    }
    const entry = entryPath(folder);
    if (!entry) {
      console.error(`build: tasks/${folder}: folder name must be <Name>V<major>`);
      return 1;
    }
    if (!fs.existsSync(path.join(root, entry))) {
      console.error(`build: tasks/${folder}: entry ${entry} does not exist`);
      return 1;
    }
    tasks.push(folder);
  }
  for (const o of only)
    if (!folders.some((f) => f.folder === o)) {
      console.error(`build: no folder tasks/${o}`);
      return 1;
    }
  if (!tasks.length) {
    console.log('build: no tasks to bundle');
    return 0;
  }

  const started = Date.now();
  const results = await Promise.all(tasks.map((t) => bundleTask(root, t, writeMetafile)));
  let failed = 0;
  for (const r of results) {
    if (r.ok) console.log(`build: tasks/${r.folder}/index.js  ${formatBytes(r.bytes).padStart(10)}  (${r.ms} ms)`);
    else {
      failed++;
      for (const m of r.messages) console.error(m);
    }
  }
  if (failed) {
    console.error(`build: ${failed} of ${tasks.length} task bundle(s) failed`);
    return 1;
  }
  console.log(`build: ${tasks.length} task bundle(s) in ${Date.now() - started} ms`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      console.error(`build: ${e.stack ?? e}`);
      process.exitCode = 1;
    },
  );
}
