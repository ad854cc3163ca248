// AzureMLJob@1 end to end: the bundled task (tasks/AzureMLJobV1/index.js) with the agent's environment against
// Azure-in-a-box; the emulator's local runner really executes samples/training.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startAzureInABox, type AzureInABox } from '../emulator';
import { jobRunnerOf, jobStatusHistory } from '../emulator/arm/jobs';
import { assetById } from '../emulator/arm/assets';
import { REPO_ROOT, runBundledTask, type RunOptions, type TaskRunWithLeaks, explainRun } from '../helpers/agent';

const TASK = 'AzureMLJob';
const CORPUS = path.resolve(REPO_ROOT, 'test', 'fixtures', 'third-party', 'azureml-examples', 'cli', 'jobs');
let box: AzureInABox;
let wsId: string;
let samples: string; // a copy of samples/training as the agent's sources folder

before(async () => {
  box = await startAzureInABox({ fastLro: true });
  wsId = `/subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${box.workspace}`;
  samples = mkdtempSync(path.join(tmpdir(), 'job-e2e-'));
  cpSync(path.join(REPO_ROOT, 'samples', 'training'), samples, { recursive: true });
  // a job that runs until cancelled, printing a line every 200 ms
  writeFileSync(
    path.join(samples, 'long.yml'),
    [
      '$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json',
      'command: for i in $(seq 1 600); do echo "tick $i"; sleep 0.2; done',
      'environment: azureml://registries/azureml/environments/sklearn-1.5/labels/latest',
      'compute: azureml:cpu-cluster',
      'experiment_name: e2e-long',
      '',
    ].join('\n'),
  );
});
after(async () => {
  await box?.stop();
});

interface StoredJob {
  id: string;
  name: string;
  properties: Record<string, any>;
}
const jobOf = (name: string) => box.store.get<StoredJob>('jobs', `${wsId}/jobs/${name}`);
const writesSince = (n: number) =>
  box.requests
    .slice(n)
    .filter((q) => q.host === 'arm')
    .filter(
      (q) =>
        q.method === 'PUT' ||
        q.method === 'PATCH' ||
        q.method === 'DELETE' ||
        (q.method === 'POST' && !/listSecrets|\/mlflow\//i.test(q.url)),
    );

async function run(
  inputs: Record<string, string>,
  opts: Partial<RunOptions> = {},
): Promise<TaskRunWithLeaks & { writes: string[] }> {
  const before = box.requests.length;
  const r = await runBundledTask(TASK, {
    box,
    scheme: 'secret',
    timeoutMs: 60_000,
    cwd: samples,
    ...opts,
    inputs: { resourceGroup: box.resourceGroup, workspace: box.workspace, ...inputs },
  });
  return Object.assign(r, { writes: writesSince(before).map((q) => `${q.method} ${q.url.split('?')[0]}`) });
}

const explain = (r: TaskRunWithLeaks) => explainRun(r, { stderrChars: 1500 });

describe('submit, wait, cancel (concurrently)', { concurrency: true }, () => {
  test('job.yml: submitted with lineage tags, log streamed, Completed, metrics as outputs, summary; rerun not resubmitted', async () => {
    const r = await run({
      jobFile: 'job.yml',
      jobName: 'e2e-train-1',
      overrides: 'inputs.epochs=120',
      tags: 'team=risk',
    });
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
    assert.match(
      j.properties.inputs.training_data.uri,
      /\/datastores\/workspaceblobstore\/paths\/LocalUpload\/[0-9a-f]{32}\/diabetes\.csv$/,
    );
    assert.match(j.properties.codeId, /\/codes\/[0-9a-f]{32}\/versions\/1$/);
    // status changes and the job's own output in the pipeline log
    // every status the task reported is one the job really went through, in order, ending in Completed
    // (how many it sees depends on how fast the job runs against the poll schedule; the job itself went through Running)
    const history = jobStatusHistory(box.ctx, `${wsId}/jobs/e2e-train-1`).map((h) => h.status);
    assert.ok(history.includes('Running'), `history ${history}`);
    const reported = [...r.stdout.matchAll(/^(?:(\w+) → )+(\w+)$/gm)]
      .flatMap((m) => m[0].split(' → '))
      .filter((s) => s !== 'Submitted');
    assert.equal(reported.at(-1), 'Completed', r.stdout);
    let at = 0;
    for (const s of reported) {
      at = history.indexOf(s, at);
      assert.ok(at >= 0, `reported ${reported} not a subsequence of ${history}`);
    }
    assert.match(r.stdout, /tracking to https:\/\//, 'streamed log lines');
    assert.ok(r.progress.includes(100), `progress ${r.progress}`);
    const md = r.summaries.join('\n');
    assert.match(md, /Completed/);
    assert.match(md, /\| accuracy \| 0\.\d+ \|/);
    assert.match(md, /#### Parameters/);
    assert.match(md, /ml\.azure\.com\/runs\/e2e-train-1/);

    const again = await run({
      jobFile: 'job.yml',
      jobName: 'e2e-train-1',
      overrides: 'inputs.epochs=120',
      tags: 'team=risk',
    });
    assert.equal(again.result, 'Succeeded', explain(again));
    assert.match(again.stdout, /already exists with the same definition.*not submitting it again/);
    // other tests run concurrently: only this job's own writes count (its resubmission would be PUT …/jobs/e2e-train-1)
    assert.deepEqual(
      again.writes.filter((w) => /e2e-train-1/.test(w)),
      [],
    );
    assert.equal(again.outputs['metric.accuracy'], r.outputs['metric.accuracy']);

    const changed = await run({ jobFile: 'job.yml', jobName: 'e2e-train-1', overrides: 'inputs.epochs=121' });
    assert.equal(changed.result, 'Failed');
    assert.match(
      changed.message ?? '',
      /^Input 'jobName': job 'e2e-train-1' already exists .* different definition \(inputs differ\)/,
    );
    assert.deepEqual(
      changed.writes.filter((w) => /e2e-train-1/.test(w)),
      [],
    );
  });

  test('serverless (issue 15): hello-pipeline-serverless.yml sent at 2024-04-01 without a compute, steps run, Completed', async () => {
    const before = box.requests.length;
    const file = path.join(CORPUS, 'basics', 'hello-pipeline-serverless.yml');
    const r = await run({ jobFile: file, jobName: 'e2e-serverless-1' }, { cwd: path.dirname(file) });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.status, 'Completed');
    const j = jobOf('e2e-serverless-1')!;
    assert.equal(j.properties.settings.default_compute, undefined);
    for (const s of ['hello_job', 'world_job'])
      assert.equal(jobOf(`e2e-serverless-1_${s}`)?.properties.status, 'Completed', s);
    const mine = box.requests
      .slice(before)
      .filter((q) => q.host === 'arm' && /\/jobs\/e2e-serverless-1(\?|\/|$)/.test(q.url));
    assert.ok(
      mine.some((q) => q.method === 'PUT' && /api-version=2024-04-01/.test(q.url)),
      mine.map((q) => `${q.method} ${q.url}`).join('\n'),
    );
    assert.ok(
      mine.every((q) => /api-version=2024-04-01/.test(q.url)),
      'every read of the job at 2024-04-01',
    );
    assert.ok(
      !box.requests.slice(before).some((q) => /\/computes\/serverless/i.test(q.url)),
      'serverless is not looked up as a compute',
    );
  });

  test('pipeline-component step (issue 15): registered with its steps, run step by step with its data flow, Completed', async () => {
    const dir = path.join(samples, 'pc');
    mkdirSync(path.join(dir, 'components'), { recursive: true });
    const env = 'environment: azureml://registries/azureml/environments/sklearn-1.5/labels/latest';
    writeFileSync(
      path.join(dir, 'components', 'inner.yml'),
      [
        '$schema: https://azuremlschemas.azureedge.net/latest/pipelineComponent.schema.json',
        'type: pipeline',
        'name: make_and_check',
        'inputs:',
        '  word: {type: string}',
        '  times: {type: integer, default: 3}',
        'outputs:',
        '  result: {type: uri_folder}',
        'jobs:',
        '  make:',
        '    type: command',
        `    ${env}`,
        '    command: for i in $(seq 1 ${{inputs.times}}); do echo ${{inputs.word}}; done > ${{outputs.made}}/words.txt',
        '    inputs: {word: "${{parent.inputs.word}}", times: "${{parent.inputs.times}}"}',
        '    outputs: {made: {type: uri_folder}}',
        '  check:',
        '    type: command',
        `    ${env}`,
        '    command: test $(wc -l < ${{inputs.words}}/words.txt) -eq 3 && cp ${{inputs.words}}/words.txt ${{outputs.checked}}/',
        '    inputs: {words: "${{parent.jobs.make.outputs.made}}"}',
        '    outputs: {checked: "${{parent.outputs.result}}"}',
        '',
      ].join('\n'),
    );
    writeFileSync(
      path.join(dir, 'pipeline.yml'),
      [
        '$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json',
        'type: pipeline',
        'settings: {default_compute: azureml:serverless}',
        'jobs:',
        '  inner:',
        '    type: pipeline',
        '    component: ./components/inner.yml',
        '    inputs: {word: hello}',
        '  after:',
        '    type: command',
        `    ${env}`,
        '    command: grep -c hello ${{inputs.r}}/words.txt',
        '    inputs: {r: "${{parent.jobs.inner.outputs.result}}"}',
        '',
      ].join('\n'),
    );
    const r = await run({ jobFile: path.join(dir, 'pipeline.yml'), jobName: 'e2e-pc-1' }, { cwd: dir });
    assert.equal(r.result, 'Succeeded', explain(r));
    const j = jobOf('e2e-pc-1')!;
    assert.equal(j.properties.status, 'Completed');
    assert.equal(j.properties.jobs.inner.type, 'pipeline');
    const comp = assetById(box.ctx, j.properties.jobs.inner.componentId) as any;
    assert.ok(comp, `pipeline component ${j.properties.jobs.inner.componentId} registered`);
    assert.equal(comp.properties.componentSpec.type, 'pipeline');
    assert.deepEqual(Object.keys(comp.properties.componentSpec.jobs).sort(), ['check', 'make']);
    for (const s of ['inner__make', 'inner__check', 'after'])
      assert.equal(jobOf(`e2e-pc-1_${s}`)?.properties.status, 'Completed', s);
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
    assert.deepEqual(
      w.writes.filter((x) => /e2e-fail-1/.test(x)),
      [],
    );
  });

  test('wait=false returns right after submission; waitExisting then waits for it and reports its metrics', async () => {
    const r = await run({ jobFile: 'job.yml', jobName: 'e2e-nowait-1', wait: 'false', overrides: 'inputs.epochs=60' });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.match(r.outputs.status ?? '', /^(NotStarted|Queued|Preparing|Starting)$/);
    const w = await run({ mode: 'waitExisting', jobName: 'e2e-nowait-1' });
    assert.equal(w.result, 'Succeeded', explain(w));
    assert.equal(w.outputs.status, 'Completed');
    assert.ok(Number.isFinite(Number(w.outputs['metric.accuracy'])), explain(w));
    assert.deepEqual(
      w.writes.filter((x) => /e2e-nowait-1/.test(x)),
      [],
    );
  });

  test('429/500/503 on every other request to the job: retried (Retry-After honoured), the job is submitted once and completes', async () => {
    // every other request to this job fails; seed 2 draws 429, 503, 500, 503, … (a 429 first, whatever else happens)
    box.faults.set({
      rate: 1,
      kinds: ['429', '500', '503'],
      pathFilter: /\/jobs\/e2e-faults-1/,
      maxConsecutive: 1,
      seed: 2,
    });
    let r;
    try {
      r = await run({
        jobFile: 'job.yml',
        jobName: 'e2e-faults-1',
        overrides: 'inputs.epochs=80',
        streamLogs: 'false',
      });
    } finally {
      box.faults.reset();
    }
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.status, 'Completed');
    const gets = box.requests.filter((q) => q.url.split('?')[0]!.endsWith('/jobs/e2e-faults-1'));
    assert.ok(
      gets.some((q) => q.status === 429 || q.status >= 500),
      "faults were injected on the job's requests",
    );
    // Retry-After honoured: the emulator's 429 says `Retry-After: 1`; the same request came again ≥ 1 s after the 429
    // (a retry without it would come after the pipeline's exponential delay, 250-500 ms for the first retry)
    const throttled = gets.filter((q) => q.status === 429);
    assert.ok(throttled.length >= 1, 'a 429 was injected');
    for (const t of throttled) {
      const i = gets.indexOf(t);
      const again = gets.slice(i + 1).find((q) => q.method === t.method && q.url === t.url);
      assert.ok(again, `${t.method} after the 429 was retried`);
      const gap = Date.parse(again!.time) - Date.parse(t.time);
      assert.ok(gap >= 1000, `${t.method} retried ${gap} ms after its 429 (Retry-After: 1)`);
    }
    assert.equal(gets.filter((q) => q.method === 'PUT' && q.status === 201).length, 1, 'created once');
    assert.equal(
      jobStatusHistory(box.ctx, `${wsId}/jobs/e2e-faults-1`).filter((h) => h.status === 'Running').length,
      1,
      'ran once',
    );
  });

  test("SIGINT while waiting cancels the Azure ML job (Canceled in the emulator within 5 s, task ended before the agent's SIGTERM at 7.5 s)", async () => {
    // SIGINT once the job's own log lines stream in (it is Running); the matcher records when the signal is sent
    let signalledAt = 0;
    const running = /tick 3\b/;
    const matcher = {
      test: (s: string) => {
        const ok = running.test(s);
        if (ok && !signalledAt) signalledAt = Date.now();
        return ok;
      },
    } as unknown as RegExp;
    // as the agent does: SIGINT, SIGTERM 7.5 s later, kill 2.5 s after that (azure-pipelines-agent ProcessInvoker)
    const r = await run(
      { jobFile: 'long.yml', jobName: 'e2e-sigint-1' },
      {
        signalAfterMs: { signal: 'SIGINT', whenStdoutMatches: matcher },
        thenSignals: [
          { signal: 'SIGTERM', afterMs: 7500 },
          { signal: 'SIGKILL', afterMs: 10_000 },
        ],
      },
    );
    const endedAt = Date.now();
    assert.ok(signalledAt > 0, explain(r));
    // the agent sends SIGTERM 7.5 s after SIGINT (and kills 2.5 s later): the task reported and exited before that
    assert.equal(r.signal, null, 'exited on its own');
    assert.doesNotMatch(r.stdout, /SIGTERM received/);
    assert.ok(endedAt - signalledAt < 7500, `task ended ${endedAt - signalledAt} ms after SIGINT`);
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
  // Every job YAML of azureml-examples/cli/jobs through the bundled task (wait=false), unchanged. The corpus holds the
  // YAML only: the local files it names (code folders, conda files, local data, component YAMLs) are stubbed in a copy,
  // so the task's real resolver (hashing, upload, code/environment/component versions) runs on every file.
  const DATA_EXT = /\.(csv|txt|json|parquet|tsv|pkl|yml|yaml)$/i;
  const isLocal = (v: unknown): v is string =>
    typeof v === 'string' && !!v.trim() && !/^(azureml:|https?:|wasbs?:|abfss?:|adl:|runs:|\$\{\{)/i.test(v.trim());
  /** local paths a job/component YAML names: [kind, path relative to the file, data type] */
  function localRefs(doc: unknown): Array<{ key: string; ref: string; type?: string }> {
    const out: Array<{ key: string; ref: string; type?: string }> = [];
    const walk = (n: unknown) => {
      if (Array.isArray(n)) {
        n.forEach(walk);
        return;
      }
      if (!n || typeof n !== 'object') return;
      const o = n as Record<string, unknown>;
      for (const key of ['code', 'conda_file', 'component', 'trial', 'path']) {
        const v = o[key];
        if (isLocal(v))
          out.push({
            key,
            ref: v.trim().replace(/^file:/i, ''),
            type: typeof o.type === 'string' ? o.type : undefined,
          });
      }
      Object.values(o).forEach(walk);
    };
    walk(doc);
    return out;
  }
  /** creates a stub for every missing local path `file` names; returns what it created */
  function stubLocals(file: string, parseYaml: (s: string) => unknown): string[] {
    const made: string[] = [];
    for (const { key, ref, type } of localRefs(parseYaml(readFileSync(file, 'utf8')))) {
      const p = path.resolve(path.dirname(file), ref);
      if (existsSync(p)) continue;
      made.push(`${key}: ${ref}`);
      if (key === 'code') {
        mkdirSync(p, { recursive: true });
        writeFileSync(path.join(p, 'main.py'), 'print("stub for the corpus test")\n');
      } else if (key === 'conda_file') {
        mkdirSync(path.dirname(p), { recursive: true });
        writeFileSync(p, 'name: stub\nchannels: [conda-forge]\ndependencies:\n  - python=3.10\n  - pip\n');
      } else if (key === 'component' || key === 'trial') {
        mkdirSync(path.dirname(p), { recursive: true });
        writeFileSync(
          p,
          [
            '$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json',
            `name: ${path
              .basename(p)
              .replace(/\.ya?ml$/, '')
              .replace(/[^a-z0-9_]/gi, '_')
              .toLowerCase()}`,
            'version: 1',
            'type: command',
            'command: echo stub',
            'environment: azureml://registries/azureml/environments/sklearn-1.5/labels/latest',
            '',
          ].join('\n'),
        );
        made.push(...stubLocals(p, parseYaml));
      } else if (type === 'uri_file' || (type !== 'mltable' && DATA_EXT.test(p))) {
        mkdirSync(path.dirname(p), { recursive: true });
        writeFileSync(p, 'a,b\n1,2\n');
      } else {
        mkdirSync(p, { recursive: true });
        writeFileSync(path.join(p, 'data.csv'), 'a,b\n1,2\n');
        if (type === 'mltable')
          writeFileSync(
            path.join(p, 'MLTable'),
            'paths:\n  - file: ./data.csv\ntransformations:\n  - read_delimited:\n      delimiter: ","\n',
          );
      }
    }
    return made;
  }

  test('every corpus job file is accepted through the real resolver, local files stubbed (wait=false)', async () => {
    const { parse } = await import('yaml');
    // a copy of cli/ (the jobs name ../../assets/…), so stubs never touch the shared corpus
    const root = mkdtempSync(path.join(tmpdir(), 'corpus-'));
    cpSync(path.dirname(CORPUS), root, { recursive: true });
    const jobsDir = path.join(root, 'jobs');
    const files: string[] = [];
    // job and component YAML (not the conda / environment files next to them)
    const isJobOrComponent = (p: string) =>
      /^(\$schema:.*(Job|Component)\.schema|type:|command:|jobs:)/m.test(readFileSync(p, 'utf8'));
    const walk = (d: string) => {
      for (const f of readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, f.name);
        if (f.isDirectory()) walk(p);
        else if (/\.ya?ml$/.test(f.name) && isJobOrComponent(p)) files.push(p);
      }
    };
    walk(jobsDir);
    // component YAMLs are submitted through the pipeline that names them, not on their own
    const components = new Set(
      files.flatMap((f) =>
        localRefs(parse(readFileSync(f, 'utf8')))
          .filter((r) => r.key === 'component' || r.key === 'trial')
          .map((r) => path.resolve(path.dirname(f), r.ref)),
      ),
    );
    const jobFiles = files.filter((f) => !components.has(f)).sort();
    assert.ok(jobFiles.length >= 22, `job files: ${jobFiles.length}`);
    // files naming a local path the corpus lacks (itself or through its components); the stubs go in after counting
    const lacking = (f: string): boolean =>
      localRefs(parse(readFileSync(f, 'utf8'))).some(({ key, ref }) => {
        const p = path.resolve(path.dirname(f), ref);
        return !existsSync(p) || ((key === 'component' || key === 'trial') && lacking(p));
      });
    const incomplete = jobFiles.filter(lacking);
    assert.ok(
      incomplete.length >= 10,
      `files lacking local paths: ${incomplete.map((f) => path.basename(f)).join(', ')}`,
    );
    for (const c of components) stubLocals(c, parse);
    const stubs = new Map(jobFiles.map((f) => [f, stubLocals(f, parse)]));
    assert.deepEqual(jobFiles.filter(lacking), [], 'every local path stubbed');

    // the GPU examples (6a_tf_hello_world, gpu_perf) name gpu-cluster: the box gets one like its cpu-cluster
    const cpu = box.store.get<Record<string, unknown>>('computes', `${wsId}/computes/cpu-cluster`)!;
    if (!box.store.get('computes', `${wsId}/computes/gpu-cluster`))
      box.store.put('computes', `${wsId}/computes/gpu-cluster`, {
        ...structuredClone(cpu),
        id: `${wsId}/computes/gpu-cluster`,
        name: 'gpu-cluster',
      });
    // the attached-Spark examples name `<ATTACHED_SPARK_POOL_NAME>`, which their setup-attached-resources.sh replaces
    // (sed) by the Synapse Spark pool it attached, `mysparkcompute`: the same here, and the box gets that compute
    for (const f of jobFiles.filter((x) => /<ATTACHED_SPARK_POOL_NAME>/.test(readFileSync(x, 'utf8'))))
      writeFileSync(f, readFileSync(f, 'utf8').replace(/<ATTACHED_SPARK_POOL_NAME>/g, 'mysparkcompute'));
    if (!box.store.get('computes', `${wsId}/computes/mysparkcompute`))
      box.store.put('computes', `${wsId}/computes/mysparkcompute`, {
        ...structuredClone(cpu),
        id: `${wsId}/computes/mysparkcompute`,
        name: 'mysparkcompute',
        properties: { ...(cpu.properties as object), computeType: 'SynapseSpark' },
      });
    const runs: Array<{ file: string; r: TaskRunWithLeaks & { writes: string[] } }> = [];
    let next = 0;
    const one = async (file: string, i: number) => {
      const jobName = `corpus-${i}-${path
        .basename(file)
        .replace(/\.ya?ml$/, '')
        .replace(/[^A-Za-z0-9_-]/g, '-')}`;
      runs.push({ file, r: await run({ jobFile: file, jobName, wait: 'false' }, { cwd: path.dirname(file) }) });
    };
    // 4 at a time: 2 cores
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < jobFiles.length) {
          const i = next++;
          await one(jobFiles[i]!, i);
        }
      }),
    );
    const rel = (f: string) => path.relative(jobsDir, f);
    const failed = runs
      .filter(({ r }) => r.result !== 'Succeeded')
      .map(({ file, r }) => `${rel(file)} (stubs: ${stubs.get(file)!.join(', ') || 'none'}): ${r.message}`);
    assert.deepEqual(failed, []);
    assert.equal(runs.length, jobFiles.length);
    for (const { file, r } of runs) {
      const j = jobOf(r.outputs.jobName!);
      assert.ok(j, `${rel(file)}: ${r.outputs.jobName} not stored`);
      // a job whose code folder was stubbed carries the code version the resolver created from it
      const top = parse(readFileSync(file, 'utf8')) as Record<string, any>;
      if (isLocal(top.code)) assert.match(j!.properties.codeId ?? '', /\/codes\/[0-9a-f]{32}\/versions\/1$/, rel(file));
      if (isLocal(top.trial?.code))
        assert.match(j!.properties.trial?.codeId ?? '', /\/codes\/[0-9a-f]{32}\/versions\/1$/, rel(file));
    }
    // the local components of 1a_e2e became component versions the pipeline's steps point at
    const e2e = runs.find(({ file }) => /1a_e2e_local_components\/pipeline\.yml$/.test(file))!;
    const steps = jobOf(e2e.r.outputs.jobName!)!.properties.jobs as Record<string, { componentId?: string }>;
    for (const s of ['train_job', 'score_job', 'evaluate_job'])
      assert.match(steps[s]?.componentId ?? '', /\/components\/\w+\/versions\/\w+$/, s);
    // gpu_perf's environment file has a local Docker build context: uploaded, and sent as a folder URI ending in '/'
    // (azure-ai-ml 1.4.0 _artifacts/_artifact_utilities.py: full_storage_path + "/")
    const gpu = runs.find(({ file }) => /gpu_perf_job\.yml$/.test(file))!;
    const envId = String(jobOf(gpu.r.outputs.jobName!)!.properties.environmentId);
    const env = box.store
      .list<any>('environmentVersions')
      .map((e) => e.resource ?? e)
      .find((e) => envId.endsWith(e.id));
    assert.match(env?.properties?.build?.contextUri ?? '', /^azureml:\/\/.*\/paths\/.+\/$/, envId);
  });
});

describe('bad inputs: one clear line, nothing submitted', () => {
  test('each bad input fails clearly with no write reaching ARM', async () => {
    writeFileSync(path.join(samples, 'bad.yml'), 'type: command\ncommand: [unclosed\n');
    writeFileSync(
      path.join(samples, 'nocode.yml'),
      'command: echo hi\ncode: ./does-not-exist\nenvironment: azureml://registries/azureml/environments/sklearn-1.5/labels/latest\ncompute: azureml:cpu-cluster\n',
    );
    writeFileSync(
      path.join(samples, 'noenv.yml'),
      'command: echo hi\nenvironment: azureml:no-such-env:1\ncompute: azureml:cpu-cluster\n',
    );
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      ['bad YAML', { jobFile: 'bad.yml' }, /^Input 'jobFile': .*bad\.yml/],
      [
        'unknown compute',
        { jobFile: 'job.yml', overrides: 'compute=azureml:gpu-nowhere' },
        /^Input 'jobFile': compute 'gpu-nowhere' not found in workspace '[^']+' \(available: .*cpu-cluster/,
      ],
      [
        'missing code folder',
        { jobFile: 'nocode.yml' },
        /^Input 'jobFile': code folder '.*does-not-exist' does not exist/,
      ],
      [
        'bad override syntax',
        { jobFile: 'job.yml', overrides: 'inputs.learning_rate' },
        /^Input 'overrides': 'inputs\.learning_rate' is not path=value/,
      ],
      ['missing jobFile', { jobFile: 'nope.yml' }, /^Input 'jobFile': '\/.*\/nope\.yml' was not found$/], // the agent roots filePath inputs
      [
        'unknown environment',
        { jobFile: 'noenv.yml' },
        /^Input 'jobFile': environment azureml:no-such-env:1 not found in workspace/,
      ],
      ['negative timeout', { jobFile: 'job.yml', timeoutMinutes: '-1' }, /^Input 'timeoutMinutes': must be 0/],
      [
        'bad job name',
        { jobFile: 'job.yml', jobName: 'bad name!' },
        /^Input 'jobName': 'bad name!' is not a valid job name/,
      ],
      ['waitExisting without name', { mode: 'waitExisting' }, /^Input 'jobName': is required in mode waitExisting/],
      [
        'waitExisting unknown job',
        { mode: 'waitExisting', jobName: 'no-such-job-xyz' },
        /^Input 'jobName': job 'no-such-job-xyz' was not found/,
      ],
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
