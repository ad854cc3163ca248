// AzureMLJob@1 end to end: the bundled task (tasks/AzureMLJobV1/index.js) with the agent's environment against
// Azure-in-a-box; the emulator's local runner really executes samples/training.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startAzureInABox, type AzureInABox } from '../emulator';
import { jobRunnerOf, jobStatusHistory } from '../emulator/arm/jobs';
import { REPO_ROOT, runBundledTask, type RunOptions, type TaskRunWithLeaks } from '../helpers/agent';

const TASK = 'AzureMLJob';
const CORPUS = path.resolve(REPO_ROOT, '..', 'shared', 'corpus', 'azureml-examples', 'cli', 'jobs');
let box: AzureInABox;
let wsId: string;
let samples: string; // a copy of samples/training as the agent's sources folder

before(async () => {
  box = await startAzureInABox({ fastLro: true });
  wsId = `/subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${box.workspace}`;
  samples = mkdtempSync(path.join(tmpdir(), 'job-e2e-'));
  cpSync(path.join(REPO_ROOT, 'samples', 'training'), samples, { recursive: true });
  // a job that runs until cancelled, printing a line every 200 ms
  writeFileSync(path.join(samples, 'long.yml'), [
    '$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json',
    'command: for i in $(seq 1 600); do echo "tick $i"; sleep 0.2; done',
    'environment: azureml://registries/azureml/environments/sklearn-1.5/labels/latest',
    'compute: azureml:cpu-cluster',
    'experiment_name: e2e-long',
    '',
  ].join('\n'));
});
after(async () => { await box?.stop(); });

interface StoredJob { id: string; name: string; properties: Record<string, any> }
const jobOf = (name: string) => box.store.get<StoredJob>('jobs', `${wsId}/jobs/${name}`);
const writesSince = (n: number) => box.requests.slice(n).filter((q) => q.host === 'arm').filter((q) => q.method === 'PUT' || q.method === 'PATCH' || q.method === 'DELETE' || (q.method === 'POST' && !/listSecrets|\/mlflow\//i.test(q.url)));

async function run(inputs: Record<string, string>, opts: Partial<RunOptions> = {}): Promise<TaskRunWithLeaks & { writes: string[] }> {
  const before = box.requests.length;
  const r = await runBundledTask(TASK, {
    box, scheme: 'secret', timeoutMs: 60_000, cwd: samples, ...opts,
    inputs: { resourceGroup: box.resourceGroup, workspace: box.workspace, ...inputs },
  });
  return Object.assign(r, { writes: writesSince(before).map((q) => `${q.method} ${q.url.split('?')[0]}`) });
}

function explain(r: TaskRunWithLeaks): string {
  return `result=${r.result} message=${r.message}\n--- stdout (tail)\n${r.stdout.split('\n').filter((l) => !l.startsWith('##vso[task.debug')).slice(-30).join('\n')}\n--- stderr\n${r.stderr.slice(-1500)}`;
}

describe('submit, wait, cancel (concurrently)', { concurrency: true }, () => {
  test('job.yml: submitted with lineage tags, log streamed, Completed, metrics as outputs, summary; rerun not resubmitted', async () => {
    const r = await run({ jobFile: 'job.yml', jobName: 'e2e-train-1', overrides: 'inputs.epochs=120', tags: 'team=risk' });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.jobName, 'e2e-train-1');
    assert.equal(r.outputs.status, 'Completed');
    assert.match(r.outputs.studioUrl ?? '', /\/runs\/e2e-train-1\?wsid=\/subscriptions\//);
    for (const m of ['accuracy', 'precision', 'recall', 'f1']) {
      const v = Number(r.outputs[`metric.${m}`]);
      assert.ok(Number.isFinite(v) && v >= 0 && v <= 1, `metric.${m}=${r.outputs[`metric.${m}`]}`);
    }
    const j = jobOf('e2e-train-1')!;
    assert.equal(j.properties.status, 'Completed');
    assert.equal(j.properties.tags['azdo.buildId'], '4242');
    assert.equal(j.properties.tags['azdo.commit'], '3f786850e387550fdab836ed7e6dc881de23001b');
    assert.equal(j.properties.tags.team, 'risk');
    assert.equal(j.properties.tags.sample, 'diabetes-logreg');
    assert.equal(j.properties.inputs.epochs.value, '120');
    assert.match(j.properties.inputs.training_data.uri, /\/datastores\/workspaceblobstore\/paths\/LocalUpload\/[0-9a-f]{32}\/diabetes\.csv$/);
    assert.match(j.properties.codeId, /\/codes\/[0-9a-f]{32}\/versions\/1$/);
    // status changes and the job's own output in the pipeline log
    // every status the task reported is one the job really went through, in order, ending in Completed
    // (how many it sees depends on how fast the job runs against the poll schedule; the job itself went through Running)
    const history = jobStatusHistory(box.ctx, `${wsId}/jobs/e2e-train-1`).map((h) => h.status);
    assert.ok(history.includes('Running'), `history ${history}`);
    const reported = [...r.stdout.matchAll(/^(?:(\w+) → )+(\w+)$/gm)].flatMap((m) => m[0].split(' → ')).filter((s) => s !== 'Submitted');
    assert.equal(reported.at(-1), 'Completed', r.stdout);
    let at = 0;
    for (const s of reported) { at = history.indexOf(s, at); assert.ok(at >= 0, `reported ${reported} not a subsequence of ${history}`); }
    assert.match(r.stdout, /tracking to https:\/\//, 'streamed log lines');
    assert.ok(r.progress.includes(100), `progress ${r.progress}`);
    const md = r.summaries.join('\n');
    assert.match(md, /Completed/);
    assert.match(md, /\| accuracy \| 0\.\d+ \|/);
    assert.match(md, /#### Parameters/);
    assert.match(md, /ml\.azure\.com\/runs\/e2e-train-1/);

    const again = await run({ jobFile: 'job.yml', jobName: 'e2e-train-1', overrides: 'inputs.epochs=120', tags: 'team=risk' });
    assert.equal(again.result, 'Succeeded', explain(again));
    assert.match(again.stdout, /already exists with the same definition.*not submitting it again/);
    // other tests run concurrently: only this job's own writes count (its resubmission would be PUT …/jobs/e2e-train-1)
    assert.deepEqual(again.writes.filter((w) => /e2e-train-1/.test(w)), []);
    assert.equal(again.outputs['metric.accuracy'], r.outputs['metric.accuracy']);

    const changed = await run({ jobFile: 'job.yml', jobName: 'e2e-train-1', overrides: 'inputs.epochs=121' });
    assert.equal(changed.result, 'Failed');
    assert.match(changed.message ?? '', /^Input 'jobName': job 'e2e-train-1' already exists .* different definition \(inputs differ\)/);
    assert.deepEqual(changed.writes.filter((w) => /e2e-train-1/.test(w)), []);
  });

  test('job-fail.yml: Failed, run-history error and log tail shown, task fails; waitExisting on it fails the same way', async () => {
    const r = await run({ jobFile: 'job-fail.yml', jobName: 'e2e-fail-1', streamLogs: 'false' });
    assert.equal(r.result, 'Failed', explain(r));
    assert.equal(r.outputs.status, 'Failed');
    assert.match(r.message ?? '', /^Azure ML job e2e-fail-1 failed: .+/);
    assert.match(r.stdout, /error: --lr must be a positive number, got -1\.0/, 'log tail');
    assert.match(r.summaries.join('\n'), /#### Error/);
    assert.equal(jobOf('e2e-fail-1')!.properties.status, 'Failed');

    const w = await run({ mode: 'waitExisting', jobName: 'e2e-fail-1' });
    assert.equal(w.result, 'Failed', explain(w));
    assert.match(w.message ?? '', /^Azure ML job e2e-fail-1 failed/);
    assert.deepEqual(w.writes.filter((x) => /e2e-fail-1/.test(x)), []);
  });

  test('wait=false returns right after submission; waitExisting then waits for it and reports its metrics', async () => {
    const r = await run({ jobFile: 'job.yml', jobName: 'e2e-nowait-1', wait: 'false', overrides: 'inputs.epochs=60' });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.match(r.outputs.status ?? '', /^(NotStarted|Queued|Preparing|Starting)$/);
    const w = await run({ mode: 'waitExisting', jobName: 'e2e-nowait-1' });
    assert.equal(w.result, 'Succeeded', explain(w));
    assert.equal(w.outputs.status, 'Completed');
    assert.ok(Number.isFinite(Number(w.outputs['metric.accuracy'])), explain(w));
    assert.deepEqual(w.writes.filter((x) => /e2e-nowait-1/.test(x)), []);
  });

  test('429/500/503 on every other request to the job: retried (Retry-After honoured), the job is submitted once and completes', async () => {
    box.faults.set({ rate: 1, kinds: ['429', '500', '503'], pathFilter: /\/jobs\/e2e-faults-1/, maxConsecutive: 1 }); // every other request to this job fails
    let r;
    try {
      r = await run({ jobFile: 'job.yml', jobName: 'e2e-faults-1', overrides: 'inputs.epochs=80', streamLogs: 'false' });
    } finally {
      box.faults.reset();
    }
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.status, 'Completed');
    const gets = box.requests.filter((q) => q.url.split('?')[0]!.endsWith('/jobs/e2e-faults-1'));
    assert.ok(gets.some((q) => q.status === 429 || q.status >= 500), 'faults were injected on the job\'s requests');
    assert.equal(gets.filter((q) => q.method === 'PUT' && q.status === 201).length, 1, 'created once');
    assert.equal(jobStatusHistory(box.ctx, `${wsId}/jobs/e2e-faults-1`).filter((h) => h.status === 'Running').length, 1, 'ran once');
  });

  test('SIGINT while waiting cancels the Azure ML job (Canceled in the emulator within 5 s)', async () => {
    // SIGINT once the job's own log lines stream in (it is Running); the matcher records when the signal is sent
    let signalledAt = 0;
    const running = /tick 3\b/;
    const matcher = { test: (s: string) => { const ok = running.test(s); if (ok && !signalledAt) signalledAt = Date.now(); return ok; } } as unknown as RegExp;
    const r = await run({ jobFile: 'long.yml', jobName: 'e2e-sigint-1' }, { signalAfterMs: { signal: 'SIGINT', whenStdoutMatches: matcher } });
    assert.ok(signalledAt > 0, explain(r));
    assert.equal(r.result, 'Failed', explain(r));
    assert.match(r.stdout, /tick \d+/, 'the job was running (its log streamed) when the signal came');
    assert.match(r.message ?? '', /^Cancelled Azure ML job e2e-sigint-1 \(pipeline cancelled \(SIGINT\)\)/);
    assert.match(r.stdout, /Cancelled Azure ML job e2e-sigint-1 \(pipeline cancelled \(SIGINT\)\): status Canceled/);
    const hist = jobStatusHistory(box.ctx, `${wsId}/jobs/e2e-sigint-1`);
    const canceled = hist.find((h) => h.status === 'Canceled');
    assert.ok(canceled, `history ${JSON.stringify(hist)}`);
    const after = Date.parse(canceled!.time) - signalledAt;
    assert.ok(after >= 0 && after < 5000, `Canceled ${after} ms after SIGINT`);
    assert.equal(jobOf('e2e-sigint-1')!.properties.status, 'Canceled');
  });

  test('timeoutMinutes reached: job cancelled, task fails saying so', async () => {
    const r = await run({ jobFile: 'long.yml', jobName: 'e2e-timeout-1', timeoutMinutes: '0.05' });
    assert.equal(r.result, 'Failed', explain(r));
    assert.match(r.message ?? '', /^Cancelled Azure ML job e2e-timeout-1 \(timeout of 0\.05 minute\(s\) reached\)/);
    assert.equal(jobOf('e2e-timeout-1')!.properties.status, 'Canceled');
  });
});

describe('corpus', () => {
  test('every corpus job whose local files are present is accepted (wait=false)', async () => {
    const files: string[] = [];
    const walk = (d: string) => { for (const f of readdirSync(d, { withFileTypes: true })) { const p = path.join(d, f.name); if (f.isDirectory()) walk(p); else if (/\.ya?ml$/.test(f.name)) files.push(p); } };
    walk(CORPUS);
    const jobsFiles = files.filter((f) => !/^(score|train|eval)\.yml$/.test(path.basename(f))); // component files of 1a_e2e
    const needed = ['hello-world.yml', 'hello-pipeline.yml', 'hello-sweep.yml'];
    for (const n of needed) assert.ok(jobsFiles.some((f) => path.basename(f) === n), n);
    const runs: Array<{ file: string; r: TaskRunWithLeaks & { writes: string[] } }> = [];
    const eligible: string[] = [];
    for (const file of jobsFiles) {
      const text = (await import('node:fs')).readFileSync(file, 'utf8');
      // local folders the file names (code:, path:, component:, conda_file:) must exist, except for hello-sweep, which we give a stub src
      const locals = [...text.matchAll(/^\s*(?:code|path|component|conda_file):\s*["']?(\.{0,2}\/?[\w./-]+?)["']?\s*$/gm)].map((m) => m[1]!)
        .filter((p) => !/^(azureml:|https?:|wasbs?:|abfss?:)/.test(p));
      const missing = locals.filter((p) => !existsSync(path.resolve(path.dirname(file), p)));
      if (missing.length && path.basename(file) !== 'hello-sweep.yml') continue;
      eligible.push(file);
    }
    assert.ok(eligible.length >= 10, `eligible: ${eligible.map((f) => path.basename(f)).join(', ')}`);
    let next = 0;
    const one = async (file: string, i: number) => {
      let jobFile = file;
      if (path.basename(file) === 'hello-sweep.yml') {
        const d = mkdtempSync(path.join(tmpdir(), 'corpus-sweep-'));
        cpSync(file, path.join(d, 'hello-sweep.yml'));
        mkdirSync(path.join(d, 'src'));
        writeFileSync(path.join(d, 'src', 'main.py'), 'print("stub for the corpus test")\n');
        jobFile = path.join(d, 'hello-sweep.yml');
      }
      runs.push({ file, r: await run({ jobFile, jobName: `corpus-${i}-${path.basename(file, '.yml').replace(/[^A-Za-z0-9_-]/g, '-')}`, wait: 'false' }) });
    };
    // 4 at a time: 2 cores
    await Promise.all(Array.from({ length: 4 }, async () => { while (next < eligible.length) { const i = next++; await one(eligible[i]!, i); } }));
    const failed = runs.filter(({ r }) => r.result !== 'Succeeded').map(({ file, r }) => `${path.relative(CORPUS, file)}: ${r.message}`);
    assert.deepEqual(failed, []);
    for (const { r } of runs) assert.ok(jobOf(r.outputs.jobName!), r.outputs.jobName);
  });
});


describe('bad inputs: one clear line, nothing submitted', () => {
  test('each bad input fails clearly with no write reaching ARM', async () => {
    writeFileSync(path.join(samples, 'bad.yml'), 'type: command\ncommand: [unclosed\n');
    writeFileSync(path.join(samples, 'nocode.yml'), 'command: echo hi\ncode: ./does-not-exist\nenvironment: azureml://registries/azureml/environments/sklearn-1.5/labels/latest\ncompute: azureml:cpu-cluster\n');
    writeFileSync(path.join(samples, 'noenv.yml'), 'command: echo hi\nenvironment: azureml:no-such-env:1\ncompute: azureml:cpu-cluster\n');
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      ['bad YAML', { jobFile: 'bad.yml' }, /^Input 'jobFile': .*bad\.yml/],
      ['unknown compute', { jobFile: 'job.yml', overrides: 'compute=azureml:gpu-nowhere' }, /^Input 'jobFile': compute 'gpu-nowhere' not found in workspace '[^']+' \(available: .*cpu-cluster/],
      ['missing code folder', { jobFile: 'nocode.yml' }, /^Input 'jobFile': code folder '.*does-not-exist' does not exist/],
      ['bad override syntax', { jobFile: 'job.yml', overrides: 'inputs.learning_rate' }, /^Input 'overrides': 'inputs\.learning_rate' is not path=value/],
      ['missing jobFile', { jobFile: 'nope.yml' }, /^Input 'jobFile': '\/.*\/nope\.yml' was not found$/], // the agent roots filePath inputs
      ['unknown environment', { jobFile: 'noenv.yml' }, /^Input 'jobFile': environment azureml:no-such-env:1 not found in workspace/],
      ['negative timeout', { jobFile: 'job.yml', timeoutMinutes: '-1' }, /^Input 'timeoutMinutes': must be 0/],
      ['bad job name', { jobFile: 'job.yml', jobName: 'bad name!' }, /^Input 'jobName': 'bad name!' is not a valid job name/],
      ['waitExisting without name', { mode: 'waitExisting' }, /^Input 'jobName': is required in mode waitExisting/],
      ['waitExisting unknown job', { mode: 'waitExisting', jobName: 'no-such-job-xyz' }, /^Input 'jobName': job 'no-such-job-xyz' was not found/],
    ];
    const results = await Promise.all(cases.map(([, inputs]) => run(inputs)));
    results.forEach((r, i) => {
      const [title, , expect] = cases[i]!;
      assert.equal(r.result, 'Failed', `${title}: ${explain(r)}`);
      assert.match(r.message ?? '', expect, `${title}: ${r.message}`);
      assert.ok(!(r.message ?? '').includes('\n') && !/\n\s+at /.test(r.stdout), `${title}: one line, no stack`);
    });
    // this test runs alone (after the concurrent group): no write of any kind reached ARM during it
    for (const r of results) assert.deepEqual(r.writes, [], 'no writes');
  });
});

void jobRunnerOf;
