#!/usr/bin/env node
// CPU per test file: runs each selected test file in its own `node --test` process (N at once) and prints the CPU
// seconds (user + sys) of that process and of every process it waited for (spawned bundled tasks, Azurite, Python
// scoring hosts), highest first. The suite is CPU-bound on 2 cores and other work shares the machine, so CPU seconds,
// not wall time, say what a change saves (docs/development.md, "Suite time").
//
//   node scripts/test-cpu.mjs [--unit|--e2e] [--concurrency N] [--json out.json] [file-substring ...]
//
// Needs bash (its `times` builtin reports the children's user/sys). Run `npm run build` first for the e2e files.
// Files run with the same NODE_EXTRA_CA_CERTS as scripts/test.mjs.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { REPO_ROOT } from './lib/tasks.mjs';
import { ensureTestCa, listTests } from './test.mjs';

/** bash `times` prints two lines, the shell's and its children's: "0m1.234s 0m0.567s". */
function parseTimes(text) {
  const lines = text.trim().split('\n');
  const m = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s\s*$/.exec(lines[lines.length - 1] ?? '');
  if (!m) return undefined;
  return { user: Number(m[1]) * 60 + Number(m[2]), sys: Number(m[3]) * 60 + Number(m[4]) };
}

function runFile(file, env) {
  const started = Date.now();
  return new Promise((resolve) => {
    const script = 'node --import tsx --test --test-reporter=tap "$1" > "$2" 2>&1; rc=$?; times >&2; exit $rc';
    const log = path.join(REPO_ROOT, 'test', '.output', `cpu-${path.basename(file)}.tap`);
    const child = spawn('bash', ['-c', script, 'bash', file, log], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const tap = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
      const count = (k) => Number(new RegExp(`^# ${k} (\\d+)$`, 'm').exec(tap)?.[1] ?? NaN);
      const t = parseTimes(err) ?? { user: NaN, sys: NaN };
      resolve({ file, code, wall: (Date.now() - started) / 1000, ...t, tests: count('tests'), pass: count('pass') });
    });
  });
}

async function main(argv) {
  let groups = ['test/unit', 'test/e2e'];
  let concurrency = 2;
  let jsonOut;
  const filters = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--unit') groups = ['test/unit'];
    else if (argv[i] === '--e2e') groups = ['test/e2e'];
    else if (argv[i] === '--concurrency') concurrency = Number(argv[++i]);
    else if (argv[i] === '--json') jsonOut = argv[++i];
    else filters.push(argv[i]);
  }
  let files = groups.flatMap(listTests);
  if (filters.length) files = files.filter((f) => filters.some((s) => f.includes(s)));
  const env = { ...process.env };
  ensureTestCa(env);
  fs.mkdirSync(path.join(REPO_ROOT, 'test', '.output'), { recursive: true });
  const queue = [...files];
  const rows = [];
  await Promise.all(
    Array.from({ length: Math.max(1, concurrency) }, async () => {
      for (let f = queue.shift(); f; f = queue.shift()) {
        const r = await runFile(f, env);
        rows.push(r);
        process.stderr.write(`test-cpu: ${f} ${(r.user + r.sys).toFixed(1)} s CPU, ${r.pass}/${r.tests} pass\n`);
      }
    }),
  );
  rows.sort((a, b) => b.user + b.sys - (a.user + a.sys));
  const total = rows.reduce((s, r) => s + r.user + r.sys, 0);
  console.log('| file | tests | pass | CPU s (user+sys) | wall s |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows)
    console.log(`| ${r.file} | ${r.tests} | ${r.pass} | ${(r.user + r.sys).toFixed(1)} | ${r.wall.toFixed(0)} |`);
  const tests = rows.reduce((s, r) => s + r.tests, 0);
  const pass = rows.reduce((s, r) => s + r.pass, 0);
  console.log(`| total (${rows.length} files) | ${tests} | ${pass} | ${total.toFixed(1)} | |`);
  if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(rows, null, 2));
  return rows.every((r) => r.code === 0) ? 0 : 1;
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
