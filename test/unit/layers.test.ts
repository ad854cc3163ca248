// One direction from connection to client (issue 14 §3): src/azureml and src/auth load and run without the agent
// layer (azure-pipelines-task-lib, which reads the agent's environment and prints while it loads). A fresh node
// process imports every module of a folder and reports the modules node loaded (require.cache: tsx compiles the
// sources to CommonJS, and task-lib is CommonJS); src/pipeline is the control that loads task-lib.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** The files node loaded after importing every .ts module of `dirs` in a fresh process. */
function loadedBy(dirs: string[]): string[] {
  const files = dirs.flatMap((d) =>
    fs
      .readdirSync(path.join(ROOT, d))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => path.join(ROOT, d, f)),
  );
  const script = `
    (async () => {
      for (const f of ${JSON.stringify(files)}) await import(require('node:url').pathToFileURL(f).href);
      console.log(JSON.stringify(Object.keys(require.cache)));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as string[];
}

const taskLib = (loaded: string[]) =>
  loaded.filter((f) => f.includes(`${path.sep}azure-pipelines-task-lib${path.sep}`));

test('src/azureml and src/auth load without azure-pipelines-task-lib; src/pipeline loads it', () => {
  const loaded = loadedBy(['src/azureml', 'src/auth']);
  assert.ok(
    loaded.some((f) => f.endsWith(path.join('src', 'azureml', 'registries.ts'))),
    'the check sees our modules (the module list is the real one)',
  );
  assert.ok(
    loaded.some((f) => f.includes(`${path.sep}@azure${path.sep}arm-machinelearning${path.sep}`)),
    'and their third-party dependencies',
  );
  assert.deepEqual(taskLib(loaded), [], 'no task-lib module is loaded by src/azureml or src/auth');
  assert.ok(taskLib(loadedBy(['src/pipeline'])).length > 0, 'control: src/pipeline loads task-lib');
});
