#!/usr/bin/env node
// Runs the test suite: test/unit/*.test.ts then test/e2e/*.test.ts in ONE `node --test` run (one summary, so the
// closing "# pass N / # fail N" lines CI reads are the last lines printed). `npm test` builds first.
//
//   node scripts/test.mjs [--unit|--e2e] [--concurrency N] [--spec] [file-substring ...]   (--spec: human reporter)
//
// Node 20's --test does not expand quoted globs, so the files are listed here. Before node starts, the emulator's
// long-lived test CA is ensured (test/emulator/ca.ts prints its path) and exported as NODE_EXTRA_CA_CERTS: Node reads
// that variable only at start-up, and every process of the run (test files, spawned bundled tasks) must trust the
// emulator. An NODE_EXTRA_CA_CERTS already set by the caller is kept and combined with the test CA.
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { REPO_ROOT } from './lib/tasks.mjs';

export function listTests(dir) {
  const abs = path.join(REPO_ROOT, dir);
  if (!fs.existsSync(abs)) return [];
  return fs
    .readdirSync(abs)
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => path.posix.join(dir, f));
}

export function ensureTestCa(env) {
  const caScript = path.join(REPO_ROOT, 'test', 'emulator', 'ca.ts');
  if (!fs.existsSync(caScript)) return;
  const tsx = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
  const r = spawnSync(tsx, [caScript], { cwd: REPO_ROOT, encoding: 'utf8' });
  const caPath = r.stdout.trim().split('\n').pop();
  if (r.status !== 0 || !caPath || !fs.existsSync(caPath)) {
    process.stderr.write(r.stderr ?? '');
    throw new Error('could not create the emulator test CA (tsx test/emulator/ca.ts)');
  }
  const prior = env.NODE_EXTRA_CA_CERTS;
  if (prior && path.resolve(prior) !== path.resolve(caPath) && fs.existsSync(prior)) {
    const combined = path.join(path.dirname(caPath), 'combined-ca.pem');
    fs.writeFileSync(combined, fs.readFileSync(prior, 'utf8').trimEnd() + '\n' + fs.readFileSync(caPath, 'utf8'));
    env.NODE_EXTRA_CA_CERTS = combined;
  } else {
    env.NODE_EXTRA_CA_CERTS = caPath;
  }
}

function main(argv) {
  let groups = ['test/unit', 'test/e2e'];
  // Files at once on 2 cores (the e2e files wait on emulator LROs, polls and child tasks). Measured 2026-12-02 on
  // 2 cores: 100 s at 2 → 89 s at 3; with one core kept busy by another process 127 s → 106 s, all passing.
  // 2026-12-04, 727 tests (deploy-analysis scenarios, conformance, clouds added): 4 files at once 4 min 18 s against
  // 4 min 33 s at 3 (both 727/727, quiet machine).
  let concurrency = 4;
  let reporter = 'tap'; // TAP even on a terminal, so the run always ends with "# pass N" / "# fail N"
  const filters = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--unit') groups = ['test/unit'];
    else if (argv[i] === '--e2e') groups = ['test/e2e'];
    else if (argv[i] === '--concurrency') concurrency = Number(argv[++i]);
    else if (argv[i] === '--spec') reporter = 'spec';
    else filters.push(argv[i]);
  }
  // Longest first, so a long file does not start last and end the run alone (files run CONCURRENCY at a time in list
  // order). Measured 2026-12-04 on 2 cores: the deploy-analysis scenarios (10 seeded deploy pairs / 10 rollbacks per
  // file) take 40–80 s each, far more than any other file.
  const SLOW_FIRST = [/deployAnalysis-scenarios/, /demo/];
  const rank = (f) => {
    const i = SLOW_FIRST.findIndex((re) => re.test(f));
    return i < 0 ? SLOW_FIRST.length : i;
  };
  let files = groups
    .flatMap(listTests)
    .map((f, i) => ({ f, i }))
    .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
    .map((x) => x.f);
  if (filters.length) files = files.filter((f) => filters.some((s) => f.includes(s)));
  if (!files.length) {
    console.error(`test: no test files${filters.length ? ` match ${filters.join(', ')}` : ''}`);
    return Promise.resolve(1);
  }

  const env = { ...process.env };
  try {
    ensureTestCa(env);
  } catch (e) {
    console.error(`test: ${e.message}`);
    return Promise.resolve(1);
  }

  const args = [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    `--test-reporter=${reporter}`,
    ...files,
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: 'inherit' });
    const forward = (sig) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
