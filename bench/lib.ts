// Shared helpers of the benchmark (bench/run.ts): formatting, timing, spawning with peak-RSS measurement, sizes.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';

export const REPO_ROOT = path.resolve(__dirname, '..');
export const WORK_DIR = path.join(REPO_ROOT, 'bench', '.work');
export const TIME_BIN = '/usr/bin/time';

export const KiB = 1024;
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export function fmtBytes(n: number): string {
  if (n >= GiB) return `${(n / GiB).toFixed(2)} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(2)} MiB`;
  if (n >= KiB) return `${(n / KiB).toFixed(1)} KiB`;
  return `${n} B`;
}
export const fmtMs = (ms: number) =>
  ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
export const ratio = (a: number, b: number) => (b ? a / b : NaN);
export const fmtRatio = (r: number) =>
  Number.isFinite(r) ? (r >= 10 ? `${r.toFixed(1)}×` : r >= 0.1 ? `${r.toFixed(2)}×` : `${r.toFixed(3)}×`) : 'n/a';
export const mibps = (bytes: number, ms: number) => (ms > 0 ? bytes / MiB / (ms / 1000) : NaN);

export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
export function stats(xs: number[]): { median: number; min: number; max: number; n: number } {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

/** Sum of the sizes of the regular files under p (not following symlinks), optionally skipping some sub-folder names. */
export function treeSize(p: string, skipDirNames: string[] = []): { bytes: number; files: number } {
  const st = fs.lstatSync(p);
  if (st.isFile()) return { bytes: st.size, files: 1 };
  if (!st.isDirectory()) return { bytes: 0, files: 0 };
  let bytes = 0,
    files = 0;
  for (const d of fs.readdirSync(p, { withFileTypes: true })) {
    if (d.isDirectory() && skipDirNames.includes(d.name)) continue;
    const r = treeSize(path.join(p, d.name), skipDirNames);
    bytes += r.bytes;
    files += r.files;
  }
  return { bytes, files };
}

export function listFiles(p: string, skipDirNames: string[] = []): string[] {
  const st = fs.lstatSync(p);
  if (st.isFile()) return [p];
  if (!st.isDirectory()) return [];
  const out: string[] = [];
  for (const d of fs.readdirSync(p, { withFileTypes: true })) {
    if (d.isDirectory() && skipDirNames.includes(d.name)) continue;
    out.push(...listFiles(path.join(p, d.name), skipDirNames));
  }
  return out;
}

export interface Spawned {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** spawn → exit, measured by this process (performance.now) */
  wallMs: number;
  /** epoch ms at spawn (for comparing with the emulator's request log times) */
  spawnedAt: number;
  /** peak RSS in bytes from /usr/bin/time -v ("Maximum resident set size"), when measured */
  maxRssBytes?: number;
  /** user + system CPU seconds of the command from /usr/bin/time -v, when measured (less sensitive to machine load than wall time) */
  cpuSeconds?: number;
}

export const hasTimeBin = () => fs.existsSync(TIME_BIN);

/**
 * Spawns cmd (optionally under `/usr/bin/time -v` for the peak RSS, which then goes to a separate file so the
 * command's own stderr stays clean). The wall time includes /usr/bin/time's own fork+exec (~1 ms), the same for every peer.
 */
export async function spawnTimed(
  cmd: string,
  args: string[],
  opts: {
    env: NodeJS.ProcessEnv;
    cwd?: string;
    measureRss?: boolean;
    timeoutMs?: number;
    onStdout?(chunk: string): void;
  },
): Promise<Spawned> {
  let file = cmd,
    argv = args,
    rssFile: string | undefined;
  if (opts.measureRss && hasTimeBin()) {
    fs.mkdirSync(WORK_DIR, { recursive: true });
    rssFile = path.join(WORK_DIR, `time-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
    file = TIME_BIN;
    argv = ['-v', '-o', rssFile, cmd, ...args];
  }
  const spawnedAt = Date.now();
  const t0 = performance.now();
  const child = spawn(file, argv, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '',
    stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    stdout += d;
    opts.onStdout?.(d);
  });
  child.stderr.on('data', (d: string) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (c, s) => resolve([c, s]));
  });
  const wallMs = performance.now() - t0;
  await new Promise<void>((r) =>
    child.stdout.readableEnded && child.stderr.readableEnded ? r() : child.on('close', () => r()),
  );
  clearTimeout(timer);
  let maxRssBytes: number | undefined, cpuSeconds: number | undefined;
  if (rssFile) {
    const text = fs.existsSync(rssFile) ? fs.readFileSync(rssFile, 'utf8') : '';
    const m = /Maximum resident set size \(kbytes\):\s*(\d+)/.exec(text);
    if (m) maxRssBytes = Number(m[1]) * 1024;
    const u = /User time \(seconds\):\s*([\d.]+)/.exec(text),
      sy = /System time \(seconds\):\s*([\d.]+)/.exec(text);
    if (u && sy) cpuSeconds = Number(u[1]) + Number(sy[1]);
    fs.rmSync(rssFile, { force: true });
  }
  return { code, signal, stdout, stderr, wallMs, spawnedAt, maxRssBytes, cpuSeconds };
}

export const loadavg = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ');

/** A warning when other processes compete for the CPUs (every figure, ratios included, then moves). */
export function loadWarning(): string | undefined {
  const [one] = os.loadavg();
  const n = os.cpus().length;
  return one! > n
    ? `load average ${one!.toFixed(1)} on ${n} CPUs: other processes competed for the CPUs during this run; absolute figures and ratios are skewed`
    : undefined;
}

export function machineInfo(): Record<string, string | number> {
  const cpus = os.cpus();
  let commit = '';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    /* not a checkout */
  }
  let disk = '';
  try {
    disk = execFileSync('df', ['-h', '--output=source,size,avail', REPO_ROOT], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .pop()!
      .replace(/\s+/g, ' ');
  } catch {
    /* no df */
  }
  return {
    date: new Date().toISOString(),
    commit,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: `${cpus.length} × ${cpus[0]?.model ?? '?'}`,
    memory: fmtBytes(os.totalmem()),
    disk,
    'load at start (1/5/15 min)': loadavg(),
  };
}

/** The line printed for every figure, kept for the results file. */
export interface Figure {
  section: string;
  name: string;
  value: string;
  peer?: string;
  peerValue?: string;
  ratio?: string;
  note?: string;
}

export class Report {
  readonly figures: Figure[] = [];
  readonly notes: string[] = [];
  readonly raw: Record<string, unknown> = {};
  add(f: Figure): void {
    this.figures.push(f);
    const peer = f.peer ? `  vs ${f.peer} ${f.peerValue}  → ${f.ratio}` : '';
    console.log(`  ${f.name.padEnd(44)} ${f.value.padStart(12)}${peer}${f.note ? `  (${f.note})` : ''}`);
  }
  note(s: string): void {
    this.notes.push(s);
    console.log(`  note: ${s}`);
  }
}

/**
 * Entry of a bench file run on its own (`tsx bench/<file>.ts [--quick]`): re-executes itself once with the emulator's
 * CA trusted (Node reads NODE_EXTRA_CA_CERTS only at start) and *.localhost resolved, hides the tasks' ##vso lines, runs
 * `body`, exits 0 (or 1 with the error).
 */
export function runStandalone(file: string, body: () => Promise<void>): void {
  (async () => {
    if (!process.env.BENCH_CHILD) {
      const { ensureCa } = await import('../test/emulator/ca');
      const ca = await ensureCa();
      const preload = path.join(__dirname, '..', 'test', 'emulator', 'resolve-localhost.cjs');
      const env = {
        ...process.env,
        BENCH_CHILD: '1',
        NODE_EXTRA_CA_CERTS: ca.certPath,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(preload)}`.trim(),
      };
      const child = spawn(path.join(__dirname, '..', 'node_modules', '.bin', 'tsx'), [file, ...process.argv.slice(2)], {
        env,
        stdio: 'inherit',
      });
      child.on('exit', (c) => process.exit(c ?? 1));
      return;
    }
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: any, ...rest: any[]) =>
      typeof chunk === 'string' && chunk.startsWith('##vso[')
        ? true
        : write(chunk, ...rest)) as typeof process.stdout.write;
    await body();
    process.exit(0);
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
