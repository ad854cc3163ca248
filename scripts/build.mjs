#!/usr/bin/env node
// Bundles every task into tasks/<Name>V<n>/index.js with esbuild (one self-contained CJS file per task, nothing
// beside it at run time). Tasks are the folders under tasks/ that hold a task.json; the entry of each is
// src/tasks/<entry>.entry.ts (naming rule in scripts/lib/tasks.mjs). Server (agentless) tasks are skipped: they have
// no Node entry (isServerTask in scripts/lib/tasks.mjs). `npm run build` runs lint:manifest and tsc first.
//
//   node scripts/build.mjs [--task <Folder>]... [--metafile] [--root <repo>] [--typecheck]
//   --metafile writes esbuild's metafile to dist/meta/<Folder>.json (what went into the bundle, for size analysis)
//   --typecheck runs `tsc -p tsconfig.json` (no emit) at the same time as the bundling and fails the build when it
//   fails (`npm run build` uses it: the two are independent, and on CI's 2 cores they no longer run one after the
//   other: measured 2026-12-04, see docs/development.md "Suite time")
//
// Trap (measured on Node 20 with esbuild 0.28): @azure/storage-blob uses import.meta.url, which esbuild leaves empty in CJS without a warning,
// and the bundle then dies at load in createRequire. The define + banner below give it the bundle's own file URL.
import fs from 'node:fs';
import { spawn } from 'node:child_process';
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

/** `tsc -p tsconfig.json` in <root> as a child process; resolves to its exit code, its output printed when it ends. */
function typecheck(root) {
  const started = Date.now();
  const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', (e) => {
      console.error(`build: tsc: ${e.message}`);
      resolve(1);
    });
    child.on('close', (code) => {
      if (out) process.stdout.write(out);
      if (code === 0) console.log(`build: tsc -p tsconfig.json OK (${Date.now() - started} ms)`);
      else console.error(`build: tsc -p tsconfig.json failed (exit ${code})`);
      resolve(code ?? 1);
    });
  });
}

async function main(argv) {
  const only = [];
  let writeMetafile = false;
  let withTypecheck = false;
  let root = REPO_ROOT;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--task') only.push(argv[++i]);
    else if (argv[i] === '--root') root = path.resolve(argv[++i]);
    else if (argv[i] === '--metafile') writeMetafile = true;
    else if (argv[i] === '--typecheck') withTypecheck = true;
    else {
      console.error(`build: unknown argument ${argv[i]}`);
      return 2;
    }
  }
  const checked = withTypecheck ? typecheck(root) : Promise.resolve(0);
  const code = await bundleAll(root, only, writeMetafile);
  const tscCode = await checked;
  return code || (tscCode ? 1 : 0);
}

async function bundleAll(root, only, writeMetafile) {
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
