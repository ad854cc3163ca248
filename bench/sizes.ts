// 1. Sizes: each task's bundle and the .vsix vs the same task shipped unbundled with its node_modules.
//
// "Unbundled" = what a task folder would hold without esbuild: the task's own code compiled to JS with every package
// left as a require (esbuild `packages: 'external'`, not minified; also the peer of the start-up benchmark) plus
// node_modules holding the production closure of the packages it imports: every package esbuild's metafile shows the
// bundle reading (the import graph from src/tasks/<entry>.entry.ts), plus everything those packages depend on per
// package-lock.json (what `npm install --omit=dev` puts beside the task). A package's size is its folder on disk
// (without its nested node_modules, counted separately when in the closure). The lower bound "files esbuild read" is
// printed too. The .vsix of the unbundled extension is estimated: the real .vsix minus the compressed bundles plus the
// deflate size (level 6, as tfx's JSZip) of every unbundled file + zip headers; the estimate is checked against the
// real .vsix by applying it to the bundles themselves.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { deflateRawSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { REPO_ROOT, WORK_DIR, fmtBytes, fmtRatio, listFiles, ratio, treeSize, type Report } from './lib';

interface BuildMjs {
  bundleOptions(root: string, folder: string): esbuild.BuildOptions;
}
interface TasksMjs {
  listTaskFolders(root?: string): Array<{ folder: string; dir: string; hasTaskJson: boolean }>;
}

export async function loadScripts(): Promise<{ build: BuildMjs; tasks: TasksMjs }> {
  const build = (await import(path.join(REPO_ROOT, 'scripts', 'build.mjs'))) as BuildMjs;
  const tasks = (await import(path.join(REPO_ROOT, 'scripts', 'lib', 'tasks.mjs'))) as TasksMjs;
  return { build, tasks };
}

/** Task folders that have a task.json and a built index.js. */
export async function builtTasks(): Promise<string[]> {
  const { tasks } = await loadScripts();
  return tasks
    .listTaskFolders(REPO_ROOT)
    .filter((t) => t.hasTaskJson && fs.existsSync(path.join(t.dir, 'index.js')))
    .map((t) => t.folder);
}

/** 'node_modules/@a/b/dist/x.js' → 'node_modules/@a/b'; nested: 'node_modules/a/node_modules/b/...' → 'node_modules/a/node_modules/b' */
export function packageDirOf(input: string): string | undefined {
  const m = /^(.*node_modules\/(?:@[^/]+\/[^/]+|[^/@][^/]*))(?:\/|$)/.exec(input.replace(/\\/g, '/'));
  return m?.[1];
}

interface LockPkg {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  dev?: boolean;
}

/** Production closure in package-lock.json (v3) of the given package folders (node's resolution: nearest node_modules up). */
export function lockClosure(lock: { packages: Record<string, LockPkg> }, start: string[]): string[] {
  const seen = new Set<string>();
  const queue = [...start];
  while (queue.length) {
    const p = queue.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    const meta = lock.packages[p];
    if (!meta) continue;
    for (const dep of Object.keys({ ...meta.dependencies, ...meta.optionalDependencies })) {
      // look in p/node_modules/dep, then each ancestor's node_modules, then the root
      let base = p;
      let found: string | undefined;
      for (;;) {
        const cand = `${base}/node_modules/${dep}`;
        if (lock.packages[cand]) {
          found = cand;
          break;
        }
        const i = base.lastIndexOf('/node_modules/');
        if (i < 0) break;
        base = base.slice(0, i);
      }
      found ??= lock.packages[`node_modules/${dep}`] ? `node_modules/${dep}` : undefined;
      if (found && !seen.has(found)) queue.push(found);
    }
  }
  return [...seen].filter((p) => lock.packages[p]).sort();
}

/** Approximate zip size of files: raw-deflate (level 6) of each + local header + central directory entry. */
export function zipEstimate(files: Array<{ abs: string; name: string }>): number {
  let total = 22;
  for (const f of files) {
    const data = fs.readFileSync(f.abs);
    const c = data.length ? Math.min(deflateRawSync(data, { level: 6 }).length, data.length) : 0;
    total += c + 30 + 46 + 2 * Buffer.byteLength(f.name);
  }
  return total;
}

/** Name, compressed and uncompressed size of every entry of a zip (central directory). */
export function zipDirectory(file: string): Array<{ name: string; compressed: number; size: number }> {
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
  const out = [];
  for (let n = 0; n < count; n++) {
    const nameLen = b.readUInt16LE(p + 28),
      extraLen = b.readUInt16LE(p + 30),
      commentLen = b.readUInt16LE(p + 32);
    out.push({
      name: b.toString('utf8', p + 46, p + 46 + nameLen),
      compressed: b.readUInt32LE(p + 20),
      size: b.readUInt32LE(p + 24),
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** The task compiled without bundling its packages (esbuild packages: 'external', not minified) → bench/.work/unbundled/<folder>/index.js */
export async function buildUnbundled(folder: string): Promise<string> {
  const { build } = await loadScripts();
  const outfile = path.join(WORK_DIR, 'unbundled', folder, 'index.js');
  const r = await esbuild.build({
    ...build.bundleOptions(REPO_ROOT, folder),
    outfile,
    minify: false,
    packages: 'external',
    metafile: false,
  });
  if (r.errors.length) throw new Error(`unbundled build of ${folder} failed`);
  return outfile;
}

/** The same bundle as the build but not minified → bench/.work/unminified/<folder>/index.js */
export async function buildUnminified(folder: string): Promise<string> {
  const { build } = await loadScripts();
  const outfile = path.join(WORK_DIR, 'unminified', folder, 'index.js');
  await esbuild.build({ ...build.bundleOptions(REPO_ROOT, folder), outfile, minify: false, metafile: false });
  return outfile;
}

export interface TaskSizes {
  folder: string;
  bundleBytes: number;
  bundleZip: number;
  unbundledCodeBytes: number;
  packages: number;
  closurePackages: number;
  closureBytes: number;
  closureFiles: number;
  readBytes: number;
  unbundledBytes: number;
  unbundledFiles: number;
  unbundledZipEstimate: number;
}

export async function taskSizes(folder: string): Promise<TaskSizes> {
  const { build } = await loadScripts();
  const dir = path.join(REPO_ROOT, 'tasks', folder);
  const bundle = path.join(dir, 'index.js');
  const r = await esbuild.build({ ...build.bundleOptions(REPO_ROOT, folder), write: false, metafile: true });
  const inputs = r.metafile!.inputs;
  const pkgDirs = new Set<string>();
  let readBytes = 0;
  for (const [file, info] of Object.entries(inputs)) {
    const d = packageDirOf(file);
    if (d) {
      pkgDirs.add(d);
      readBytes += info.bytes;
    }
  }
  const lock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8'));
  const closure = lockClosure(lock, [...pkgDirs]);
  let closureBytes = 0,
    closureFiles = 0;
  const zipFiles: Array<{ abs: string; name: string }> = [];
  for (const p of closure) {
    const abs = path.join(REPO_ROOT, p);
    if (!fs.existsSync(abs)) continue;
    const s = treeSize(abs, ['node_modules']);
    closureBytes += s.bytes;
    closureFiles += s.files;
    for (const f of listFiles(abs, ['node_modules']))
      zipFiles.push({ abs: f, name: `tasks/${folder}/${path.relative(REPO_ROOT, f)}` });
  }
  const code = await buildUnbundled(folder);
  const unbundledCodeBytes = fs.statSync(code).size;
  const extras = ['task.json', 'icon.png'].map((n) => path.join(dir, n)).filter((f) => fs.existsSync(f));
  const extraBytes = extras.reduce((s, f) => s + fs.statSync(f).size, 0);
  zipFiles.push({ abs: code, name: `tasks/${folder}/index.js` });
  const unbundledZipEstimate = zipEstimate(zipFiles);
  return {
    folder,
    bundleBytes: fs.statSync(bundle).size,
    bundleZip: zipEstimate([{ abs: bundle, name: `tasks/${folder}/index.js` }]),
    unbundledCodeBytes,
    packages: pkgDirs.size,
    closurePackages: closure.length,
    closureBytes,
    closureFiles,
    readBytes,
    unbundledBytes: closureBytes + unbundledCodeBytes + extraBytes,
    unbundledFiles: closureFiles + 1 + extras.length,
    unbundledZipEstimate,
  };
}

export async function sizesBench(report: Report): Promise<Record<string, unknown>> {
  console.log('\n## 1. Sizes: bundle and .vsix vs the same task unbundled with its node_modules');
  const folders = await builtTasks();
  const per: TaskSizes[] = [];
  for (const folder of folders) {
    const s = await taskSizes(folder);
    per.push(s);
    report.add({
      section: 'sizes',
      name: `${folder} index.js (bundle)`,
      value: fmtBytes(s.bundleBytes),
      peer: `unbundled (code + ${s.closurePackages} packages, ${s.unbundledFiles} files)`,
      peerValue: fmtBytes(s.unbundledBytes),
      ratio: fmtRatio(ratio(s.bundleBytes, s.unbundledBytes)),
    });
    report.add({
      section: 'sizes',
      name: `${folder} bundle vs files esbuild read`,
      value: fmtBytes(s.bundleBytes),
      peer: `${s.packages} packages' files read`,
      peerValue: fmtBytes(s.readBytes),
      ratio: fmtRatio(ratio(s.bundleBytes, s.readBytes)),
      note: 'lower bound of the unbundled size',
    });
  }

  // the real .vsix, built into bench/.work so dist/ is left alone
  const out = path.join(WORK_DIR, 'vsix');
  fs.rmSync(out, { recursive: true, force: true });
  const started = Date.now();
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'package.mjs'), '--out', out], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    // e.g. a task another helper is still writing fails the manifest lint: report it, keep the other figures
    report.note(
      `npm run package failed, no .vsix figure: ${(r.stderr || r.stdout).trim().split('\n').slice(0, 3).join(' / ')}`,
    );
    return { tasks: per, vsix: { error: (r.stderr || r.stdout).trim() } };
  }
  const vsix = fs.readdirSync(out).find((f) => f.endsWith('.vsix'));
  if (!vsix) throw new Error('no .vsix produced');
  const vsixPath = path.join(out, vsix);
  const vsixBytes = fs.statSync(vsixPath).size;
  const entries = zipDirectory(vsixPath);
  const bundleEntries = entries.filter((e) => /^tasks\/[^/]+\/index\.js$/.test(e.name));
  const bundlesCompressed = bundleEntries.reduce((s, e) => s + e.compressed, 0);
  const estimateOfBundles = per.reduce((s, t) => s + t.bundleZip, 0) - 22 * per.length;
  const unbundledVsix = vsixBytes - bundlesCompressed + per.reduce((s, t) => s + t.unbundledZipEstimate - 22, 0);
  report.add({
    section: 'sizes',
    name: `.vsix (${entries.length} entries, ${per.length} task(s))`,
    value: fmtBytes(vsixBytes),
    peer: 'estimated .vsix with unbundled tasks',
    peerValue: fmtBytes(unbundledVsix),
    ratio: fmtRatio(ratio(vsixBytes, unbundledVsix)),
    note: `package in ${Date.now() - started} ms; estimator gives ${fmtBytes(estimateOfBundles)} for the bundles tfx stored in ${fmtBytes(bundlesCompressed)}`,
  });
  fs.rmSync(out, { recursive: true, force: true });
  return {
    tasks: per,
    vsix: {
      file: vsix,
      bytes: vsixBytes,
      entries: entries.length,
      bundlesCompressed,
      estimateOfBundles,
      unbundledVsixEstimate: unbundledVsix,
    },
  };
}
