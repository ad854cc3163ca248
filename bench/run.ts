// Benchmarks (`npm run bench` = build + `tsx bench/run.ts`; not part of `npm test`). Every figure is printed next to a
// peer measured in the same run, with the ratio.
//
//   tsx bench/run.ts [--quick] [--only sizes,startup,upload,jobpoll,lropoll,agentless,rollout,drift] [--runs N] [--snapshot]
//     --quick     256 MiB file, 500-file folder, fewer start-up runs (default: 1 GiB file, 2,000-file folder)
//     --snapshot  also write bench/RESULTS.md (machine, date, commit, figures); results always go to bench/.work/results.json
//
// Sections: 1 sizes (bench/sizes.ts), 2 start-up (bench/startup.ts), 3–5 upload vs azcopy, re-register, peak RSS
// (bench/upload.ts), 6 job polling (bench/jobPoll.ts, owned by the job task's author, run when present), 7 long-running
// operation polling: ARM reads per deployment, ours vs a fixed 1 s loop vs the SDK's default poller (bench/lroPoll.ts),
// 8 agentless wait: AzureMLJobWait@1's end-of-job notice delay and ARM reads beside the agent task's poller (bench/agentlessWait.ts),
// 9 rollout step cost: probes and ARM/metrics reads per step of a blue/green rollout, beside a Kubernetes endpoint (no
// metrics) and the same rollout with 10 % transient front-door faults (bench/rolloutReads.ts),
// 10 drift check on large JSONL: rows/s and peak RSS beside a plain streaming read of the same files (bench/drift.ts).
// The process re-executes itself once with NODE_EXTRA_CA_CERTS = the emulator's test CA and the *.localhost preload
// (Node reads NODE_EXTRA_CA_CERTS only at start), as scripts/test.mjs does for the tests.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GiB, MiB, REPO_ROOT, Report, WORK_DIR, fmtBytes, loadWarning, loadavg, machineInfo } from './lib';

const SECTIONS = ['sizes', 'startup', 'upload', 'jobpoll', 'lropoll', 'agentless', 'rollout', 'drift'] as const;
type Section = (typeof SECTIONS)[number];

interface Args {
  quick: boolean;
  only: Set<Section>;
  runs?: number;
  snapshot: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, only: new Set(SECTIONS), snapshot: false };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i]!;
    if (v === '--quick') a.quick = true;
    else if (v === '--snapshot') a.snapshot = true;
    else if (v === '--runs') a.runs = Number(argv[++i]);
    else if (v === '--only') {
      const list = (argv[++i] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      for (const s of list)
        if (!(SECTIONS as readonly string[]).includes(s))
          throw new Error(`--only: unknown section '${s}' (${SECTIONS.join(', ')})`);
      a.only = new Set(list as Section[]);
    } else throw new Error(`unknown argument ${v}`);
  }
  return a;
}

async function reexec(): Promise<number> {
  const { ensureCa } = await import('../test/emulator/ca');
  const ca = await ensureCa();
  const preload = path.join(REPO_ROOT, 'test', 'emulator', 'resolve-localhost.cjs');
  const env = {
    ...process.env,
    BENCH_CHILD: '1',
    NODE_EXTRA_CA_CERTS: ca.certPath,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(preload)}`.trim(),
  };
  const tsx = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
  return new Promise((resolve) => {
    const child = spawn(tsx, [__filename, ...process.argv.slice(2)], { cwd: REPO_ROOT, env, stdio: 'inherit' });
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** In-process SDK calls print the task-lib's ##vso[task.setsecret] lines (the datastore key): keep them off the console. */
function hideLoggingCommands(): void {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: any, ...rest: any[]) => {
    if (typeof chunk === 'string' && chunk.startsWith('##vso[')) return true;
    return write(chunk, ...rest);
  }) as typeof process.stdout.write;
}

function markdown(
  report: Report,
  info: Record<string, string | number>,
  args: Args,
  results: Record<string, unknown>,
): string {
  const rows = report.figures.map(
    (f) =>
      `| ${f.section} | ${f.name} | ${f.value} | ${f.peer ? `${f.peer}: ${f.peerValue}` : ''} | ${f.ratio ?? ''} | ${f.note ?? ''} |`,
  );
  return [
    '# Benchmark results (snapshot)',
    '',
    `Produced by \`npm run bench${args.quick ? ' -- --quick' : ''}\` (bench/run.ts); every ratio compares two figures measured in the same run.`,
    'Re-run to refresh; raw numbers of the last run are in bench/.work/results.json (not committed).',
    '',
    '| machine | |',
    '|---|---|',
    ...Object.entries(info).map(([k, v]) => `| ${k} | ${v} |`),
    `| mode | ${args.quick ? 'quick' : 'full'}: ${fmtBytes((results.params as { fileBytes: number }).fileBytes)} file, ${(results.params as { folderFiles: number }).folderFiles}-file folder |`,
    '',
    '| section | figure | value | peer | ratio | note |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    ...(report.notes.length ? ['## Notes', '', ...report.notes.map((n) => `- ${n}`), ''] : []),
    '## Method (peers)',
    '',
    "- **sizes**: bundle = tasks/<Task>/index.js from `npm run build`. Unbundled = the task's own code compiled with esbuild `packages: 'external'` (not minified) + node_modules",
    '  with the production closure of the packages the bundle reads (esbuild metafile inputs → package folders → their dependencies in package-lock.json, i.e. what',
    '  `npm install --omit=dev` would put beside the task), each package\'s folder on disk without its nested node_modules. "Files esbuild read" is the lower bound.',
    '  The .vsix is built by scripts/package.mjs into bench/.work; the unbundled .vsix is an estimate: real .vsix − compressed bundles + deflate(level 6) of every',
    '  unbundled file + zip headers (the estimator applied to the bundles is printed beside it as a check).',
    '- **start-up**: spawn → first request logged by Azure-in-a-box (`box.requests[].time`; the first is the Entra discovery/token call), with the agent environment',
    "  of test/helpers/agent.ts (incl. the emulator's NODE_OPTIONS preload), vs `node -e 0` spawn → exit with the same environment; peers: the shipped minified",
    '  bundle, the same bundle not minified, and the unbundled build (packages required from node_modules). One warm-up each, then runs interleaved, medians.',
    '  "load → fail on missing input": each bundle spawned without inputs (loads the whole bundle, fails on the first required input).',
    '- **upload**: random data in bench/.work/data (deleted after). uploadPreparedAsset = src/azureml/storage.ts in-process (hash timed apart) with a',
    '  credential to the box; register task = the bundled AzureMLModelRegister spawned like the agent (hash + ARM reads + upload + version PUT; upload phase =',
    '  between its "md5" and "Uploaded" log lines); azcopy 10.32.2 = `azcopy copy <src> http://127.0.0.1:<azurite>/devstoreaccount1/<container>/<path>?<SAS>',
    '  --from-to LocalBlob [--recursive]` against the same Azurite. Blobs are deleted between runs so nothing is skipped. Azurite CPU = its utime+stime over the wall time.',
    '- **re-register**: the task again on the same files: same model name (reuses the version) and a new name (indicator blob says completed → no upload, new',
    "  version). Bytes = everything the task sent to storage, counted by a TCP proxy put in front of Azurite for these runs only (the datastore record's endpoint",
    '  is pointed at it). Peer: getObjectHash alone (bench/hashOnly.ts bundled like the tasks, fresh process, timed around the call; median of 3 interleaved).',
    '- **peak RSS**: `/usr/bin/time -v` "Maximum resident set size" of the register task during the big upload, vs `node -e 0` (and azcopy\'s).',
    "- **lropoll**: a deployment PUT against a fake ARM behind the SDK's HttpClient (test/helpers/fakeArmLro.ts: 201 + Azure-AsyncOperation, no Retry-After,",
    '  Updating until 6 or 10 minutes have passed; every GET counted, the final resource GET included). Ours = putDeployment (src/azureml/endpoints.ts) on a',
    "  virtual clock; peers = the SDK's own pollUntilDone with updateIntervalInMs 1000 (the task before) and without it (core-lro 2.7.2 LroEngine default",
    '  POLL_INTERVAL_IN_MS = 2000, dist/commonjs/poller/constants.js) under node:test mock timers (100 ms ticks). Counts, not wall time: they do not depend on the machine.',
    '- **rollout**: the bundled AzureMLModelDeploy spawned like the agent against Azure-in-a-box: `green` next to a live `blue` (trafficSteps 10,50,100, 5 smoke',
    '  and 5 health-check probes per step, stepWaitSeconds 0) on a managed endpoint; peers in the same run: the same rollout on a Kubernetes endpoint (no Azure',
    "  Monitor metrics there: probes only) and on managed endpoints with 10 % transient faults (429, 500, 503, dropped connection) on the front door's /score",
    "  (seeds 1–3, median). Counted from the emulator's request log, cut per step at the endpoint GET + traffic PUT that open each step (bench/rolloutReads.ts",
    '  cutRollout, unit-tested); the task\'s own "N request(s) sent" is checked against the front door\'s count. Counts, not wall time.',
    '',
  ].join('\n');
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (process.env.BENCH_CHILD !== '1') return reexec();
  hideLoggingCommands();
  const started = Date.now();
  const params = {
    fileBytes: args.quick ? 256 * MiB : 1 * GiB,
    folderFiles: args.quick ? 500 : 2000,
    runs: args.runs ?? (args.quick ? 5 : 10),
  };
  const info = machineInfo();
  const busyAtStart = loadWarning();
  console.log(`# bench ${args.quick ? '(quick)' : '(full)'}  ${Object.values(info).join(' | ')}`);
  fs.mkdirSync(WORK_DIR, { recursive: true });
  const report = new Report();
  if (busyAtStart) report.note(`at start: ${busyAtStart}`);
  const results: Record<string, unknown> = { machine: info, params };

  if (args.only.has('sizes')) {
    const { sizesBench } = await import('./sizes');
    results.sizes = await sizesBench(report);
  }
  const needBox = args.only.has('startup') || args.only.has('upload');
  if (needBox) {
    const { startAzureInABox } = await import('../test/emulator');
    const box = await startAzureInABox({ fastLro: true, stateDir: path.join(WORK_DIR, 'box') });
    try {
      if (args.only.has('startup')) {
        const { startupBench } = await import('./startup');
        results.startup = await startupBench(report, box, { runs: params.runs });
      }
      if (args.only.has('upload')) {
        const { uploadBench } = await import('./upload');
        results.upload = await uploadBench(report, box, {
          fileBytes: params.fileBytes,
          folderFiles: params.folderFiles,
        });
        report.note(
          'Azurite (one Node process) is CPU-bound at ~100–190 MiB/s on 2 cores and shares them with the uploader: upload rates here measure the emulator as much as the client; the ratio vs azcopy against the same Azurite is the comparable figure.',
        );
      }
    } finally {
      await box.stop();
      fs.rmSync(path.join(WORK_DIR, 'box'), { recursive: true, force: true });
      fs.rmSync(path.join(WORK_DIR, 'agent'), { recursive: true, force: true });
    }
  }
  if (args.only.has('jobpoll')) {
    console.log('\n## 6. Job polling (bench/jobPoll.ts)');
    const file = path.join(__dirname, 'jobPoll.ts');
    if (!fs.existsSync(file)) {
      report.note('bench/jobPoll.ts is not there yet: no job polling figures.');
    } else {
      const mod = await import(file);
      if (typeof mod.runJobPollBench !== 'function') report.note('bench/jobPoll.ts does not export runJobPollBench()');
      else {
        const r = await mod.runJobPollBench({ quick: args.quick, report });
        results.jobPoll = r;
        if (r !== undefined && !report.figures.some((f) => f.section === 'jobpoll'))
          console.log(JSON.stringify(r, null, 2));
      }
    }
  }

  if (args.only.has('lropoll')) {
    console.log('\n## 7. Long-running operation polling (bench/lroPoll.ts)');
    const { runLroPollBench } = await import('./lroPoll');
    results.lroPoll = await runLroPollBench({ report });
  }

  if (args.only.has('agentless')) {
    console.log('\n## 8. Agentless wait (bench/agentlessWait.ts)');
    const { runAgentlessWaitBench } = await import('./agentlessWait');
    results.agentlessWait = await runAgentlessWaitBench({ quick: args.quick, report });
  }

  if (args.only.has('rollout')) {
    console.log('\n## 9. Rollout step cost (bench/rolloutReads.ts)');
    const { runRolloutReadsBench } = await import('./rolloutReads');
    results.rolloutReads = await runRolloutReadsBench({ report });
  }

  if (args.only.has('drift')) {
    console.log('\n## 10. Drift check on large data (bench/drift.ts)');
    const { runDriftBench } = await import('./drift');
    results.drift = await runDriftBench({ quick: args.quick, report, ...(args.runs ? { runs: args.runs } : {}) });
  }

  info['load at end (1/5/15 min)'] = loadavg();
  const busy = loadWarning();
  if (busy) report.note(busy);
  results.figures = report.figures;
  results.notes = report.notes;
  results.durationMs = Date.now() - started;
  fs.writeFileSync(path.join(WORK_DIR, 'results.json'), JSON.stringify(results, null, 2));
  if (args.snapshot)
    fs.writeFileSync(path.join(REPO_ROOT, 'bench', 'RESULTS.md'), markdown(report, info, args, results));
  console.log(
    `\nbench: done in ${((Date.now() - started) / 1000).toFixed(0)} s; bench/.work/results.json${args.snapshot ? ', bench/RESULTS.md' : ''}`,
  );
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(`bench: ${e?.stack ?? e}`);
    process.exitCode = 1;
  },
);
