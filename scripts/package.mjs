#!/usr/bin/env node
// Packages the extension: lint → staging tree with every task bundled afresh → tfx extension create (offline).
//
//   npm run package [-- --publisher <id>] [--version <x.y.z>] [--extension-id <id>] [--repository <https url>]
//                      [--support <https url>] [--out <dir>] [--root <repo>]
//   env: EXTENSION_PUBLISHER, EXTENSION_VERSION, EXTENSION_ID, EXTENSION_REPOSITORY, EXTENSION_SUPPORT (flags win)
//
// Repository: the links users see on the Marketplace page (vss-extension.json links.repository, links.support,
// repository) and each task's helpUrl (its page docs/tasks/<Folder>.md on the repository) name the repository the copy
// is published from. --repository <url> writes it into the staged manifest and task.json files (support defaults to
// <url>/issues; --support overrides it); without it the manifest's own repository.uri is kept.
//
// Output: dist/<publisher>.<extension-id>-<version>.vsix. The staging tree (dist/staging) holds only what ships:
// vss-extension.json, content/icons it references, the `files` folders (without images/src, *.map, node_modules) and
// for every task folder just task.json, index.js, icon.png (+ icon.svg when present).
// Task ids: a copy under the home publisher/extension id (scripts/lib/taskIds.mjs HOME_IDENTITY) keeps the ids of
// tasks/*/task.json; any other copy (a fork) gets its own ids, UUID v5 of publisher/extension/task name (see
// taskIds.mjs), written into the staged task.json files and wherever the staged vss-extension.json names a task id
// (the artifact type's downloadTaskId). The source files are never changed. Contribution ids stay as they are.
// Bundles: every package run bundles each task from the current sources (scripts/build.mjs's esbuild options, any
// warning fatal) straight into the staging tree, so a stale tasks/*/index.js can never ship; the bundles in tasks/
// are left as they are (tests may be running them). `--rebuild` is still accepted and changes nothing.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { inflateRawSync } from 'node:zlib';
import { REPO_ROOT, formatBytes, isServerTask, listTaskFolders, readTaskJson } from './lib/tasks.mjs';
import { lintRepo } from './lint-manifest.mjs';
import { bundleOptions } from './build.mjs';
import { isHome, replaceTaskIds, taskIdMap } from './lib/taskIds.mjs';
import * as esbuild from 'esbuild';

const TASK_FILES = ['task.json', 'icon.png', 'icon.svg']; // + index.js, bundled into the staging tree
const EXCLUDE = (rel) => /(^|\/)(node_modules|src)(\/|$)/.test(rel) || rel.endsWith('.map') || /(^|\/)\./.test(rel);

function fail(msg) {
  console.error(`package: ${msg}`);
  process.exit(1);
}

function parseArgs(argv) {
  const o = {
    publisher: process.env.EXTENSION_PUBLISHER,
    version: process.env.EXTENSION_VERSION,
    id: process.env.EXTENSION_ID,
    repository: process.env.EXTENSION_REPOSITORY,
    support: process.env.EXTENSION_SUPPORT,
    rebuild: false,
    out: undefined,
    root: REPO_ROOT,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) fail(`${a} needs a value`);
      return v;
    };
    if (a === '--publisher') o.publisher = val();
    else if (a === '--version' || a === '--extension-version') o.version = val();
    else if (a === '--extension-id' || a === '--id') o.id = val();
    else if (a === '--repository') o.repository = val();
    else if (a === '--support') o.support = val();
    else if (a === '--rebuild') o.rebuild = true;
    else if (a === '--out') o.out = path.resolve(val());
    else if (a === '--root') o.root = path.resolve(val());
    else fail(`unknown argument ${a}`);
  }
  o.out ??= path.join(o.root, 'dist');
  if (o.publisher !== undefined && !/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(o.publisher))
    fail(`--publisher "${o.publisher}" must be letters, digits and dashes`);
  if (o.version !== undefined && !/^\d+\.\d+\.\d+$/.test(o.version))
    fail(`--version "${o.version}" must be <major>.<minor>.<patch>`);
  if (o.id !== undefined && !/^[A-Za-z0-9][A-Za-z0-9-_]*$/.test(o.id))
    fail(`--extension-id "${o.id}" must be letters, digits, dashes and underscores`);
  for (const k of ['repository', 'support']) {
    if (o[k] !== undefined && !/^https:\/\/[^\s/]+\/\S*[^/\s]$/.test(o[k]))
      fail(`--${k} "${o[k]}" must be an https URL (no trailing slash)`);
  }
  if (o.repository !== undefined) o.repository = o.repository.replace(/\.git$/, '');
  return o;
}

/**
 * The staged manifest and task.json files name `repository` (support: `support`, default <repository>/issues): the
 * manifest's links and repository fields, and every task's helpUrl whose prefix is the manifest's own repository.uri.
 */
export function applyRepository(manifest, taskDefs, repository, support = `${repository}/issues`) {
  const home = String(manifest.repository?.uri ?? '')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
  const m = {
    ...manifest,
    links: { ...manifest.links, repository: { uri: repository }, support: { uri: support } },
    repository: { type: 'git', ...manifest.repository, uri: repository },
  };
  const tasks = taskDefs.map((t) =>
    home && typeof t.helpUrl === 'string' && t.helpUrl.startsWith(`${home}/`)
      ? { ...t, helpUrl: repository + t.helpUrl.slice(home.length) }
      : t,
  );
  return { manifest: m, tasks };
}

function copyTree(src, dst, relBase) {
  const st = fs.statSync(src);
  if (st.isDirectory()) {
    for (const name of fs.readdirSync(src)) {
      const rel = `${relBase}/${name}`;
      if (EXCLUDE(rel)) continue;
      copyTree(path.join(src, name), path.join(dst, name), rel);
    }
  } else {
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    fs.copyFileSync(src, dst);
  }
}

/** Names of the entries in a zip file (reads the central directory). */
export function zipEntries(file) {
  return zipDirectory(file).map((e) => e.name);
}

/** Contents of one entry of a zip file (stored or deflated). */
export function zipRead(file, name) {
  const e = zipDirectory(file).find((x) => x.name === name);
  if (!e) throw new Error(`${file} has no entry ${name}`);
  const b = fs.readFileSync(file);
  const start = e.offset + 30 + b.readUInt16LE(e.offset + 26) + b.readUInt16LE(e.offset + 28);
  const data = b.subarray(start, start + e.compressedSize);
  return e.method === 0 ? Buffer.from(data) : inflateRawSync(data);
}

function zipDirectory(file) {
  const b = fs.readFileSync(file);
  let eocd = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 65557); i--)
    if (b.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd < 0) throw new Error(`${file} is not a zip file`);
  const count = b.readUInt16LE(eocd + 10);
  let p = b.readUInt32LE(eocd + 16);
  const names = [];
  for (let n = 0; n < count; n++) {
    if (b.readUInt32LE(p) !== 0x02014b50) throw new Error(`${file}: bad central directory`);
    const nameLen = b.readUInt16LE(p + 28),
      extraLen = b.readUInt16LE(p + 30),
      commentLen = b.readUInt16LE(p + 32);
    names.push({
      name: b.toString('utf8', p + 46, p + 46 + nameLen),
      method: b.readUInt16LE(p + 10),
      compressedSize: b.readUInt32LE(p + 20),
      offset: b.readUInt32LE(p + 42),
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return names;
}

/** Bundles every task from the current sources into <staging>/tasks/<folder>/index.js (build.mjs's options). */
async function bundleInto(root, tasks, staging) {
  const started = Date.now();
  const results = await Promise.all(
    tasks.map(async (t) => {
      const outfile = path.join(staging, 'tasks', t.folder, 'index.js');
      try {
        const r = await esbuild.build({ ...bundleOptions(root, t.folder), outfile, metafile: false });
        return r.warnings.length ? `${t.folder}: ${r.warnings.map((w) => w.text).join('; ')}` : undefined;
      } catch (e) {
        return `${t.folder}: ${(e.errors ?? [e]).map((x) => x.text ?? x.message).join('; ')}`;
      }
    }),
  );
  const failed = results.filter(Boolean);
  if (failed.length) {
    for (const f of failed) console.error(`error: ${f}`);
    fail(`bundling failed for ${failed.length} task(s)`);
  }
  console.log(`package: ${tasks.length} task bundle(s) built from the current sources in ${Date.now() - started} ms`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const root = opts.root;

  const lint = lintRepo(root);
  if (lint.findings.length) {
    for (const f of lint.findings) console.error(`error: ${f}`);
    fail(`${lint.findings.length} manifest finding(s); fix them first (npm run lint:manifest)`);
  }

  const tasks = listTaskFolders(root).filter((t) => t.hasTaskJson);
  // server (agentless) tasks ship task.json + icon only: no Node entry, nothing bundled (scripts/lib/tasks.mjs isServerTask)
  const server = new Set(tasks.filter((t) => isServerTask(readTaskJson(t.dir))).map((t) => t.folder));
  const agentTasks = tasks.filter((t) => !server.has(t.folder));
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'vss-extension.json'), 'utf8'));
  const staging = path.join(opts.out, 'staging');
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  fs.copyFileSync(path.join(root, 'vss-extension.json'), path.join(staging, 'vss-extension.json'));
  await bundleInto(root, agentTasks, staging);
  const taskFolders = new Set(tasks.map((t) => `tasks/${t.folder}`));
  const extra = [
    ...Object.values(manifest.icons ?? {}),
    ...Object.values(manifest.content ?? {})
      .map((c) => c?.path)
      .filter(Boolean),
  ];
  for (const f of manifest.files ?? []) {
    const rel = String(f.path).replace(/\\/g, '/').replace(/\/+$/, '');
    if (taskFolders.has(rel) || rel === 'tasks') {
      for (const t of tasks) {
        if (rel !== 'tasks' && `tasks/${t.folder}` !== rel) continue;
        for (const name of TASK_FILES) {
          const src = path.join(t.dir, name);
          if (fs.existsSync(src)) {
            fs.mkdirSync(path.join(staging, 'tasks', t.folder), { recursive: true });
            fs.copyFileSync(src, path.join(staging, 'tasks', t.folder, name));
          }
        }
        if (!server.has(t.folder) && !fs.existsSync(path.join(staging, 'tasks', t.folder, 'index.js')))
          fail(`tasks/${t.folder}/index.js is missing after bundling`);
      }
    } else {
      copyTree(path.join(root, rel), path.join(staging, rel), rel);
    }
  }
  for (const rel of extra) {
    const dst = path.join(staging, rel);
    if (!fs.existsSync(dst)) {
      fs.mkdirSync(path.dirname(dst), { recursive: true });
      fs.copyFileSync(path.join(root, rel), dst);
    }
  }

  // task ids of this copy (see the header): staged task.json files and the staged manifest
  const effPublisher = opts.publisher ?? manifest.publisher,
    effId = opts.id ?? manifest.id;
  const defs = tasks.map((t) => ({
    folder: t.folder,
    ...JSON.parse(fs.readFileSync(path.join(t.dir, 'task.json'), 'utf8')),
  }));
  const ids = taskIdMap(defs, effPublisher, effId);
  if (!isHome(effPublisher, effId)) {
    for (const d of defs) {
      const f = path.join(staging, 'tasks', d.folder, 'task.json');
      const staged = JSON.parse(fs.readFileSync(f, 'utf8'));
      staged.id = ids.get(String(d.id).toLowerCase());
      fs.writeFileSync(f, JSON.stringify(staged, null, 2) + '\n');
    }
    const mf = path.join(staging, 'vss-extension.json');
    fs.writeFileSync(mf, JSON.stringify(replaceTaskIds(JSON.parse(fs.readFileSync(mf, 'utf8')), ids), null, 2) + '\n');
    console.log(
      `package: ${effPublisher}.${effId} is not the home identity: ${defs.length} task id(s) derived for this copy (${defs.map((d) => `${d.name} ${ids.get(String(d.id).toLowerCase())}`).join(', ')})`,
    );
  }

  // repository links of this copy (see the header)
  if (opts.repository) {
    const mf = path.join(staging, 'vss-extension.json');
    const files = tasks.map((t) => path.join(staging, 'tasks', t.folder, 'task.json'));
    const r = applyRepository(
      JSON.parse(fs.readFileSync(mf, 'utf8')),
      files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8'))),
      opts.repository,
      opts.support,
    );
    fs.writeFileSync(mf, JSON.stringify(r.manifest, null, 2) + '\n');
    r.tasks.forEach((t, i) => fs.writeFileSync(files[i], JSON.stringify(t, null, 2) + '\n'));
    console.log(
      `package: repository ${opts.repository} (support ${r.manifest.links.support.uri}, ${r.tasks.length} task helpUrl(s))`,
    );
  }

  fs.mkdirSync(opts.out, { recursive: true });
  const tfx = path.join(REPO_ROOT, 'node_modules', '.bin', 'tfx');
  const args = [
    'extension',
    'create',
    '--root',
    staging,
    '--manifest-globs',
    'vss-extension.json',
    '--output-path',
    opts.out,
    '--no-prompt',
    '--no-color',
    '--json',
  ];
  if (opts.publisher) args.push('--publisher', opts.publisher);
  if (opts.id) args.push('--extension-id', opts.id);
  if (opts.version) args.push('--override', JSON.stringify({ version: opts.version }));
  const started = Date.now();
  const r = spawnSync(tfx, args, { cwd: root, encoding: 'utf8', env: { ...process.env, TFX_TRACE: '' } });
  if (r.status !== 0) {
    process.stderr.write(r.stdout ?? '');
    process.stderr.write(r.stderr ?? '');
    fail(`tfx extension create failed (exit ${r.status})`);
  }
  let vsix;
  try {
    vsix = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))).path;
  } catch {
    /* fall back to the expected name */
  }
  const publisher = opts.publisher ?? manifest.publisher,
    id = opts.id ?? manifest.id,
    version = opts.version ?? manifest.version;
  vsix ??= path.join(opts.out, `${publisher}.${id}-${version}.vsix`);
  if (!fs.existsSync(vsix)) fail(`tfx reported success but ${vsix} does not exist`);
  if (r.stderr?.trim()) process.stderr.write(r.stderr); // tfx warnings (task.json problems are caught by the linter first)

  const entries = zipEntries(vsix);
  for (const t of tasks)
    for (const name of server.has(t.folder) ? ['task.json'] : ['task.json', 'index.js']) {
      if (!entries.includes(`tasks/${t.folder}/${name}`))
        fail(`${path.basename(vsix)} lacks tasks/${t.folder}/${name}`);
    }
  const stray = entries.filter((e) => e.endsWith('.map') || e.includes('node_modules/') || e.startsWith('images/src/'));
  if (stray.length) fail(`${path.basename(vsix)} contains files that must not ship: ${stray.join(', ')}`);
  console.log(
    `package: ${path.relative(root, vsix)}  ${formatBytes(fs.statSync(vsix).size)}  (${entries.length} entries, ${tasks.length} task(s), tfx ${Date.now() - started} ms)`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname))
  main().catch((e) => fail(e?.stack ?? String(e)));
