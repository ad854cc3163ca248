// Typed task inputs, read through azure-pipelines-task-lib (which moved INPUT_* out of process.env at import).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as task from 'azure-pipelines-task-lib/task';
import { InputError } from './errors';

function raw(name: string): string | undefined {
  const v = task.getInput(name, false);
  if (v === undefined || v === null) return undefined;
  const t = String(v).trim();
  return t === '' ? undefined : t;
}

export function getString(name: string, opts: { required?: boolean; default?: string } = {}): string | undefined {
  const v = raw(name);
  if (v !== undefined) return v;
  if (opts.default !== undefined) return opts.default;
  if (opts.required) throw new InputError(name, 'is required');
  return undefined;
}

export function requireString(name: string): string {
  return getString(name, { required: true }) as string;
}

const TRUE = new Set(['true', 'yes', 'y', '1', 'on']);
const FALSE = new Set(['false', 'no', 'n', '0', 'off']);

export function getBool(name: string, def = false): boolean {
  const v = raw(name);
  if (v === undefined) return def;
  const l = v.toLowerCase();
  if (TRUE.has(l)) return true;
  if (FALSE.has(l)) return false;
  throw new InputError(name, `"${v}" is not a boolean (use true or false)`);
}

function checkRange(name: string, n: number, min?: number, max?: number): number {
  if (min !== undefined && n < min) throw new InputError(name, `${n} is less than the minimum ${min}`);
  if (max !== undefined && n > max) throw new InputError(name, `${n} is greater than the maximum ${max}`);
  return n;
}

function absentNumber(name: string, opts: { default?: number; required?: boolean }): number | undefined {
  if (opts.default !== undefined) return opts.default;
  if (opts.required) throw new InputError(name, 'is required');
  return undefined;
}

export function getInt(
  name: string,
  opts: { default?: number; min?: number; max?: number; required?: boolean } = {},
): number | undefined {
  const v = raw(name);
  if (v === undefined) return absentNumber(name, opts);
  if (!/^[+-]?\d+$/.test(v)) throw new InputError(name, `"${v}" is not an integer`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new InputError(name, `"${v}" is out of range`);
  return checkRange(name, n, opts.min, opts.max);
}

export function getNumber(
  name: string,
  opts: { default?: number; min?: number; max?: number; required?: boolean } = {},
): number | undefined {
  const v = raw(name);
  if (v === undefined) return absentNumber(name, opts);
  const n = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new InputError(name, `"${v}" is not a number`);
  return checkRange(name, n, opts.min, opts.max);
}

/** One of `allowed` (matched case-insensitively, returned as spelled in `allowed`); blank → def, or an error when no default. */
export function getEnum<T extends string>(name: string, allowed: readonly T[], def?: T): T {
  const v = raw(name);
  if (v === undefined) {
    if (def !== undefined) return def;
    throw new InputError(name, `is required (one of ${allowed.join(', ')})`);
  }
  const hit = allowed.find((a) => a.toLowerCase() === v.toLowerCase());
  if (hit === undefined) throw new InputError(name, `"${v}" is not one of ${allowed.join(', ')}`);
  return hit;
}

/** Comma- or newline-separated list, trimmed, empties dropped. */
export function getList(name: string): string[] {
  const v = raw(name);
  if (v === undefined) return [];
  return v
    .split(/[,\r\n]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Key/value pairs: `a=b, c=d`, one `key=value` per line, or a JSON object (string/number/boolean values).
 * A comma only separates pairs when what follows looks like `key=`, so values may contain commas.
 */
export function getKeyValues(name: string): Record<string, string> {
  const v = raw(name);
  return v === undefined ? {} : parseKeyValues(name, v);
}

export function parseKeyValues(name: string, text: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  const add = (k: string, val: string) => {
    if (!k) throw new InputError(name, `empty key in "${truncate(`${k}=${val}`)}"`);
    if (Object.prototype.hasOwnProperty.call(out, k)) throw new InputError(name, `duplicate key "${k}"`);
    out[k] = val;
  };
  const t = text.trim();
  if (t.startsWith('{')) {
    let obj: unknown;
    try {
      obj = JSON.parse(t);
    } catch (e) {
      throw new InputError(name, `is not valid JSON: ${(e as Error).message}`);
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new InputError(name, 'must be a JSON object');
    for (const [k, val] of Object.entries(obj as Record<string, unknown>)) {
      if (val !== null && typeof val === 'object')
        throw new InputError(name, `value of "${k}" must be a string, number or boolean`);
      add(k.trim(), val === null ? '' : String(val));
    }
    return { ...out };
  }
  for (const line of t.split(/\r?\n/)) {
    if (!line.trim()) continue;
    for (const part of line.split(/,(?=\s*[^,=\s][^,=]*=)/)) {
      const p = part.trim();
      if (!p) continue;
      const eq = p.indexOf('=');
      if (eq < 0) throw new InputError(name, `"${truncate(p)}" is not in key=value form`);
      add(p.slice(0, eq).trim(), p.slice(eq + 1).trim());
    }
  }
  return { ...out };
}

function truncate(s: string, max = 60): string {
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

/**
 * True for the folder the agent roots filePath inputs at (the default working directory: sources in a build,
 * artifacts in a release) — what a blank filePath input arrives as.
 */
export function isAgentRoot(p: string): boolean {
  const roots = [task.getVariable('Build.SourcesDirectory'), task.getVariable('System.DefaultWorkingDirectory')].filter(
    (r): r is string => !!r,
  );
  return roots.some((r) => path.resolve(r) === path.resolve(p));
}

/**
 * A path on the agent, resolved to absolute (relative to the working directory the agent gives the task).
 * A filePath input left blank arrives as the repository root; that counts as "not supplied", as in task-lib's filePathSupplied.
 */
export function getPath(
  name: string,
  opts: { required?: boolean; kind?: 'file' | 'dir' | 'any'; mustExist?: boolean } = {},
): string | undefined {
  const v = raw(name);
  const kind = opts.kind ?? 'any';
  let resolved = v === undefined ? undefined : path.resolve(v);
  // a folder input may mean the root itself (the caller decides with isAgentRoot); a file input cannot
  if (resolved !== undefined && kind === 'file' && isAgentRoot(resolved)) resolved = undefined;
  if (resolved === undefined) {
    if (opts.required) throw new InputError(name, 'is required');
    return undefined;
  }
  if (opts.mustExist === false) return resolved;
  let st: fs.Stats;
  try {
    st = fs.statSync(resolved);
  } catch {
    throw new InputError(name, `path "${v}" does not exist`);
  }
  if (kind === 'file' && !st.isFile()) throw new InputError(name, `"${v}" is not a file`);
  if (kind === 'dir' && !st.isDirectory()) throw new InputError(name, `"${v}" is not a folder`);
  return resolved;
}
