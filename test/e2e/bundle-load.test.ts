// Every built bundle (tasks/<Name>V1/index.js, made by `npm run build`) loads with nothing beside it and, run the way
// the agent runs it but with no inputs at all, ends with a clean task failure that names one of the task's required
// inputs — not a module-load crash (e.g. the storage-blob import.meta.url trap) or a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TASKS = path.join(ROOT, 'tasks');

// server (agentless) tasks have no bundle: they run on the Azure DevOps server (runsOn Server, execution.HttpRequest)
const isServer = (f: string): boolean =>
  Object.keys(JSON.parse(fs.readFileSync(path.join(TASKS, f, 'task.json'), 'utf8')).execution ?? {}).join() ===
  'HttpRequest';
const folders = fs
  .readdirSync(TASKS)
  .filter((f) => fs.existsSync(path.join(TASKS, f, 'task.json')) && !isServer(f))
  .sort();

test('at least one task is built', () => {
  assert.ok(folders.length > 0, 'no tasks/*/task.json');
});

for (const folder of folders) {
  test(`${folder}/index.js loads alone and fails cleanly without inputs`, () => {
    const bundle = path.join(TASKS, folder, 'index.js');
    assert.ok(fs.existsSync(bundle), `${bundle} is missing: run npm run build`);
    const task = JSON.parse(fs.readFileSync(path.join(TASKS, folder, 'task.json'), 'utf8'));
    const required = new Set<string>((task.inputs ?? []).filter((i: any) => i.required).map((i: any) => i.name));

    // a copy of the bundle alone in an empty folder: proves nothing beside it is needed
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bundle-${folder}-`));
    const alone = path.join(dir, 'index.js');
    fs.copyFileSync(bundle, alone);
    const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-temp-'));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? temp,
      AGENT_TEMPDIRECTORY: temp,
      AGENT_WORKFOLDER: temp,
      SYSTEM_DEFAULTWORKINGDIRECTORY: temp,
      SYSTEM_CULTURE: 'en-US',
    };
    const r = spawnSync(process.execPath, [alone], { cwd: dir, env, encoding: 'utf8', timeout: 30_000 });
    const out = r.stdout + r.stderr;
    assert.doesNotMatch(out, /Cannot find module|createRequire|ReferenceError|SyntaxError|is not a function/, out);
    const complete = /##vso\[task\.complete result=(\w+);?\](.*)/.exec(r.stdout);
    assert.ok(complete, `no task.complete line\n${out}`);
    assert.equal(complete[1], 'Failed', out);
    const message = complete[2];
    assert.match(message, /input/i, `failure does not mention an input: ${message}`);
    assert.ok(
      [...required].some((n) => message.includes(n)),
      `failure names none of the required inputs ${[...required].join(', ')}: ${message}`,
    );
    assert.doesNotMatch(
      out.replace(/##vso\[task\.debug\].*/g, ''),
      /(\n|%0A)\s+at .+:\d+:\d+/,
      `stack trace printed\n${out}`,
    );
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(temp, { recursive: true, force: true });
  });
}
