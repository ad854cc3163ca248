// src/pipeline/outputs.ts uploadSummary: the agent queues `##vso[task.uploadsummary]<path>` and uploads the file later,
// naming the summary tab after the file name (Path.GetFileName). Two steps of one job share Agent.TempDirectory and
// may use the same title (register and download both say "Azure ML model"): each summary must get its own file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runBundledTask } from '../helpers/agent';
import { fakeBox } from '../helpers/fakebox';
import { fixtureTaskScript } from '../helpers/fixture';
import { uploadSummary } from '../../src/pipeline';

/** runs fn with process.stdout captured (task-lib writes its commands there) */
function captureStdout(fn: () => void): string {
  const orig = process.stdout.write;
  let out = '';
  (process.stdout as any).write = (chunk: unknown) => {
    out += String(chunk);
    return true;
  };
  try {
    fn();
  } finally {
    process.stdout.write = orig;
  }
  return out;
}

const summaryPaths = (stdout: string) =>
  [...stdout.matchAll(/^##vso\[task\.uploadsummary\](.*)$/gm)].map((m) => m[1]!.trim());

test('uploadSummary: same title twice in one process → two files, both kept, both named <title>.md under Agent.TempDirectory', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'outputs-unit-'));
  const saved = process.env.AGENT_TEMPDIRECTORY;
  process.env.AGENT_TEMPDIRECTORY = tmp;
  try {
    const out = captureStdout(() => {
      uploadSummary('Azure ML model', '# first\n');
      uploadSummary('Azure ML model', '# second\n');
      uploadSummary('a/b:c', '# odd title\n');
    });
    const files = summaryPaths(out);
    assert.equal(files.length, 3, out);
    assert.notEqual(files[0], files[1]);
    assert.equal(path.basename(files[0]!), 'Azure ML model.md', 'the tab title is the file name');
    assert.equal(path.basename(files[1]!), 'Azure ML model.md');
    assert.equal(path.basename(files[2]!), 'a_b_c.md');
    for (const f of files) assert.ok(path.resolve(f).startsWith(tmp + path.sep), `${f} is under Agent.TempDirectory`);
    assert.equal(fs.readFileSync(files[0]!, 'utf8'), '# first\n', 'the first file was not overwritten');
    assert.equal(fs.readFileSync(files[1]!, 'utf8'), '# second\n');
  } finally {
    if (saved === undefined) delete process.env.AGENT_TEMPDIRECTORY;
    else process.env.AGENT_TEMPDIRECTORY = saved;
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('uploadSummary: two steps (processes) of one job with the same Agent.TempDirectory and title → two files', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'outputs-job-'));
  try {
    const box = fakeBox();
    const scriptPath = fixtureTaskScript();
    const runs = [];
    for (let i = 0; i < 2; i++) {
      runs.push(
        await runBundledTask('Fixture', {
          box,
          scriptPath,
          inputs: { mode: 'outputs' },
          env: { AGENT_TEMPDIRECTORY: tmp },
        }),
      );
    }
    const files = runs.map((r) => {
      assert.equal(r.result, 'Succeeded', r.stdout);
      return summaryPaths(r.stdout);
    });
    assert.equal(files[0]!.length, 1);
    assert.equal(files[1]!.length, 1);
    assert.notEqual(files[0]![0], files[1]![0]);
    for (const [f] of files) {
      assert.equal(path.basename(f!), 'Fixture summary.md');
      assert.ok(path.resolve(f!).startsWith(tmp + path.sep), f);
      assert.ok(fs.existsSync(f!), `${f} still there for the agent to upload`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
