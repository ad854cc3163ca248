// scripts/sync-manifest.mjs adds a new task folder to vss-extension.json (files + task contribution) so that the
// manifest linter accepts it; --check reports without writing; existing entries are left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SYNC = path.join(ROOT, 'scripts', 'sync-manifest.mjs');

function tree(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sync-manifest-'));
  fs.mkdirSync(path.join(dir, 'tasks', 'AzureMLReleaseTriggerV1'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'tasks', 'AzureMLReleaseTriggerV1', 'task.json'),
    JSON.stringify({ name: 'AzureMLReleaseTrigger', description: 'Starts releases.' }),
  );
  fs.mkdirSync(path.join(dir, 'tasks', 'AzureMLJobV1')); // icon-only folder: ignored
  fs.writeFileSync(
    path.join(dir, 'vss-extension.json'),
    JSON.stringify({
      id: 'x',
      files: [{ path: 'images' }],
      contributions: [
        {
          id: 'keep-me',
          type: 'ms.vss-releaseartifact.release-artifact-type',
          targets: ['t'],
          properties: { name: 'A' },
        },
      ],
    }),
  );
  return dir;
}

test('--check reports the missing task and changes nothing', () => {
  const dir = tree();
  const before = fs.readFileSync(path.join(dir, 'vss-extension.json'), 'utf8');
  const r = spawnSync(process.execPath, [SYNC, '--root', dir, '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /missing: files \+= tasks\/AzureMLReleaseTriggerV1/);
  assert.match(r.stdout, /missing: contributions \+= azureml-release-trigger-task/);
  assert.equal(fs.readFileSync(path.join(dir, 'vss-extension.json'), 'utf8'), before);
});

test('adds files entry and contribution once, keeps the rest', () => {
  const dir = tree();
  for (let i = 0; i < 2; i++) {
    const r = spawnSync(process.execPath, [SYNC, '--root', dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  }
  const ext = JSON.parse(fs.readFileSync(path.join(dir, 'vss-extension.json'), 'utf8'));
  assert.deepEqual(ext.files, [{ path: 'images' }, { path: 'tasks/AzureMLReleaseTriggerV1' }]);
  assert.deepEqual(
    ext.contributions.map((c: any) => c.id),
    ['keep-me', 'azureml-release-trigger-task'],
  );
  assert.deepEqual(ext.contributions[1], {
    id: 'azureml-release-trigger-task',
    description: 'Starts releases.',
    type: 'ms.vss-distributed-task.task',
    targets: ['ms.vss-distributed-task.tasks'],
    properties: { name: 'tasks/AzureMLReleaseTriggerV1' },
  });
});

test('the real manifest lists every task folder that has a task.json', () => {
  const r = spawnSync(process.execPath, [SYNC, '--check'], { encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
