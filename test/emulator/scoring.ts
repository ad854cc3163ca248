// Scoring hosts: one local Python process per online deployment (test/emulator/scoring/host.py),
// standing in for the Azure ML inference server container.
//
//   const hosts = new ScoringHosts({ logDir });
//   const r = await hosts.start({ key: 'ep/blue', scriptPath, modelDir, env, preamble });
//   if (!r.ok) → the script failed at import/init(): r.exitCode, r.log (= the container log)
//   await hosts.score('ep/blue', body, headers) → { status, headers, body }
//   hosts.logs('ep/blue', { tail: 100, containerType: 'InferenceServer' })
//   await hosts.stop('ep/blue'); await hosts.stopAll();
//
// The host binds 127.0.0.1 on a port the OS picks (port 0, no race) and, once init() returned,
// writes that port to a ready file; we wait for that file, the process' exit, or the timeout.
// Container logs (stdout+stderr interleaved as they arrive) are kept in memory and mirrored to
// <logDir>/<key>.log, so getLogs works after the process died (that is the point for init failures).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, appendFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HOST_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'scoring', 'host.py');

export interface ScoringHostSpec {
  key: string; // unique per deployment, e.g. '<endpoint>/<deployment>'
  scriptPath: string; // absolute path of the scoring script
  modelDir?: string; // becomes AZUREML_MODEL_DIR
  env?: Record<string, string>; // the deployment's environment_variables
  cwd?: string; // defaults to the script's folder
  readyTimeoutMs?: number; // default 30 s
  preamble?: string[]; // lines written to the log before the process starts (storage initializer, notes)
  storageInitializerLog?: string[]; // lines for containerType=StorageInitializer
}

export type StartResult =
  | { ok: true; port: number; pid: number }
  | { ok: false; reason: 'exited' | 'timeout' | 'spawn'; exitCode: number | null; log: string };

export interface ScoreResult {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

interface HostState {
  spec: ScoringHostSpec;
  child?: ChildProcess;
  port?: number;
  running: boolean;
  exitCode: number | null;
  log: string[]; // complete lines
  partial: string; // incomplete last line
  storageLog: string[];
  logFile: string;
  stopping?: boolean;
  exited?: Promise<number | null>;
}

function safeName(key: string): string {
  return key.replace(/[^A-Za-z0-9._-]+/g, '_');
}

export class ScoringHosts {
  private hosts = new Map<string, HostState>();
  private readonly python: string;
  private readonly logDir: string;

  constructor(opts: { logDir: string; python?: string }) {
    this.logDir = opts.logDir;
    this.python = opts.python ?? 'python3';
    mkdirSync(this.logDir, { recursive: true });
  }

  /** Starts (or restarts) the host for spec.key. Resolves when ready, crashed, or timed out. */
  async start(spec: ScoringHostSpec): Promise<StartResult> {
    await this.stop(spec.key);
    const logFile = join(this.logDir, safeName(spec.key) + '.log');
    const st: HostState = {
      spec,
      running: false,
      exitCode: null,
      log: [],
      partial: '',
      storageLog: [...(spec.storageInitializerLog ?? [])],
      logFile,
    };
    this.hosts.set(spec.key, st);
    writeFileSync(logFile, '');
    for (const l of spec.preamble ?? []) this.append(st, l + '\n');

    const readyFile = join(this.logDir, safeName(spec.key) + '.ready.json');
    rmSync(readyFile, { force: true });
    const env: Record<string, string> = {};
    // a container does not inherit the test runner's environment: pass only what Python needs
    for (const k of ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'SYSTEMROOT']) {
      if (process.env[k] !== undefined) env[k] = process.env[k]!;
    }
    Object.assign(env, spec.env ?? {});
    env.PYTHONUNBUFFERED = '1';
    env.PYTHONDONTWRITEBYTECODE = '1';
    if (spec.modelDir) env.AZUREML_MODEL_DIR = spec.modelDir;
    env.AZUREML_ENTRY_SCRIPT = spec.scriptPath;

    let child: ChildProcess;
    try {
      child = spawn(this.python, ['-u', HOST_SCRIPT, '--script', spec.scriptPath, '--ready-file', readyFile], {
        cwd: spec.cwd ?? dirname(spec.scriptPath),
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      this.append(st, `failed to start the inference server: ${(e as Error).message}\n`);
      return { ok: false, reason: 'spawn', exitCode: null, log: this.text(st) };
    }
    st.child = child;
    st.running = true;
    child.stdout!.on('data', (d: Buffer) => this.append(st, d.toString('utf8')));
    child.stderr!.on('data', (d: Buffer) => this.append(st, d.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => {
      child.on('error', (e) => {
        this.append(st, `inference server process error: ${e.message}\n`);
        st.running = false;
        resolve(null);
      });
      child.on('exit', (code, signal) => {
        st.running = false;
        st.exitCode = code;
        if (st.partial) {
          st.log.push(st.partial);
          st.partial = '';
        }
        if (this.hosts.get(spec.key) === st && !st.stopping) {
          this.append(st, `Container exited with ${code !== null ? `code ${code}` : `signal ${signal}`}\n`);
        }
        resolve(code);
      });
    });
    st.exited = exited;

    const timeoutMs = spec.readyTimeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    let done = false;
    exited.then(() => {
      done = true;
    });
    while (!done && Date.now() < deadline) {
      if (existsSync(readyFile)) {
        try {
          const info = JSON.parse(readFileSync(readyFile, 'utf8')) as { port: number; pid: number };
          st.port = info.port;
          return { ok: true, port: info.port, pid: info.pid };
        } catch {
          /* partially visible? the host renames atomically; retry */
        }
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    if (done || !st.running) {
      // give stdout/stderr a moment to drain after exit
      await new Promise((r) => setImmediate(r));
      return { ok: false, reason: 'exited', exitCode: st.exitCode, log: this.text(st) };
    }
    this.append(
      st,
      `Readiness probe failed: the inference server did not become ready within ${Math.round(timeoutMs / 1000)} s\n`,
    );
    await this.stop(spec.key, true);
    return { ok: false, reason: 'timeout', exitCode: st.exitCode, log: this.text(st) };
  }

  /** A host that never started (e.g. the storage initializer failed): keeps its logs for getLogs. */
  async recordFailure(key: string, lines: string[], storageInitializerLog: string[] = []): Promise<void> {
    await this.stop(key);
    const logFile = join(this.logDir, safeName(key) + '.log');
    writeFileSync(logFile, '');
    const st: HostState = {
      spec: { key, scriptPath: '' },
      running: false,
      exitCode: null,
      log: [],
      partial: '',
      storageLog: [...storageInitializerLog],
      logFile,
    };
    this.hosts.set(key, st);
    for (const l of lines) this.append(st, l + '\n');
    this.saveStorageLog(key);
  }

  isRunning(key: string): boolean {
    const st = this.hosts.get(key);
    return !!st && st.running && st.port !== undefined;
  }

  has(key: string): boolean {
    return this.hosts.has(key);
  }

  /** Stops the process; keepLogs=true keeps the log for getLogs (default: forget the host). */
  async stop(key: string, keepLogs = false): Promise<void> {
    const st = this.hosts.get(key);
    if (!st) return;
    st.stopping = true;
    if (st.child && st.running) {
      st.child.kill('SIGTERM');
      const killer = setTimeout(() => {
        try {
          st.child!.kill('SIGKILL');
        } catch {
          /* gone */
        }
      }, 3000);
      await st.exited;
      clearTimeout(killer);
    }
    st.running = false;
    if (!keepLogs) this.hosts.delete(key);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.hosts.keys()].map((k) => this.stop(k)));
  }

  /** Container log lines; tail = last N lines; containerType StorageInitializer → model/code download log. */
  logs(key: string, opts: { tail?: number | null; containerType?: string } = {}): string | undefined {
    const st = this.hosts.get(key);
    let lines: string[];
    if (st) {
      lines =
        opts.containerType === 'StorageInitializer' ? st.storageLog : [...st.log, ...(st.partial ? [st.partial] : [])];
    } else {
      // after an emulator restart the process is gone; its log file is not
      const f = join(
        this.logDir,
        safeName(key) + (opts.containerType === 'StorageInitializer' ? '.storage.log' : '.log'),
      );
      if (!existsSync(f)) return undefined;
      lines = readFileSync(f, 'utf8').split('\n');
      if (lines.length && lines[lines.length - 1] === '') lines.pop();
    }
    if (opts.tail !== undefined && opts.tail !== null && opts.tail >= 0)
      lines = lines.slice(Math.max(0, lines.length - opts.tail));
    return lines.join('\n') + (lines.length ? '\n' : '');
  }

  /** Adds lines to the deployment's log (e.g. notes from the control plane). */
  note(key: string, line: string): void {
    const st = this.hosts.get(key);
    if (st) this.append(st, line + '\n');
  }

  /** Forwards a scoring request to the host. Rejects when the host is not running. */
  score(key: string, body: Buffer, headers: Record<string, string>, timeoutMs = 60_000): Promise<ScoreResult> {
    const st = this.hosts.get(key);
    if (!st || !st.running || st.port === undefined)
      return Promise.reject(new Error(`scoring host ${key} is not running`));
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: st.port,
          method: 'POST',
          path: '/score',
          headers: { ...headers, 'content-length': String(body.length) },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const h: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers))
              if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v;
            resolve({ status: res.statusCode ?? 502, headers: h, body: Buffer.concat(chunks) });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(Object.assign(new Error('scoring request timed out'), { code: 'ETIMEDOUT' })),
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  private append(st: HostState, text: string): void {
    const all = st.partial + text;
    const parts = all.split('\n');
    st.partial = parts.pop() ?? '';
    for (const p of parts) st.log.push(p.replace(/\r$/, ''));
    try {
      appendFileSync(st.logFile, text);
    } catch {
      /* log dir removed during shutdown */
    }
  }

  private text(st: HostState): string {
    return [...st.log, ...(st.partial ? [st.partial] : [])].join('\n') + '\n';
  }

  /** Persists the storage-initializer log next to the container log (for getLogs after a restart). */
  saveStorageLog(key: string): void {
    const st = this.hosts.get(key);
    if (st) writeFileSync(join(this.logDir, safeName(key) + '.storage.log'), st.storageLog.join('\n') + '\n');
  }
}
