// `npm run package` with a publisher/version override produces <publisher>.<id>-<version>.vsix holding every built
// task (task.json, index.js, icon.png) and nothing that must not ship.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test('package: overridden publisher and version, tasks inside, no sources or maps', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'vsix-'));
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'package.mjs'), '--publisher', 'contoso-ml', '--version', '2.3.4', '--out', out],
    { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'vss-extension.json'), 'utf8'));
  const vsix = path.join(out, `contoso-ml.${manifest.id}-2.3.4.vsix`);
  assert.ok(fs.existsSync(vsix), `${vsix} missing\n${r.stdout}`);
  const size = fs.statSync(vsix).size;
  assert.match(r.stdout, new RegExp(`contoso-ml\\.${manifest.id}-2\\.3\\.4\\.vsix`));

  const { zipEntries, zipRead } = await import(path.join(ROOT, 'scripts', 'package.mjs')) as { zipEntries(f: string): string[]; zipRead(f: string, n: string): Buffer };
  const entries = zipEntries(vsix);
  const tasks = fs.readdirSync(path.join(ROOT, 'tasks')).filter((f) => fs.existsSync(path.join(ROOT, 'tasks', f, 'task.json')));
  assert.ok(tasks.length > 0);
  for (const t of tasks) for (const f of ['task.json', 'index.js', 'icon.png']) assert.ok(entries.includes(`tasks/${t}/${f}`), `tasks/${t}/${f} not in vsix: ${entries.join(', ')}`);
  assert.ok(entries.includes('images/extension-icon.png'));
  assert.ok(entries.includes(manifest.content.details.path));
  assert.deepEqual(entries.filter((e) => /\.map$|node_modules\/|^src\/|images\/src\/|\.ts$/.test(e)), []);
  // the vsix manifest carries the overrides
  assert.match(zipRead(vsix, 'extension.vsixmanifest').toString('utf8'), /Publisher="contoso-ml" Version="2\.3\.4"/);
  // the packaged bundle is byte-identical to the built one
  for (const t of tasks) assert.ok(zipRead(vsix, `tasks/${t}/index.js`).equals(fs.readFileSync(path.join(ROOT, 'tasks', t, 'index.js'))), `tasks/${t}/index.js differs`);
  assert.ok(size < 1024 * 1024 * tasks.length, `vsix is ${size} bytes`);
  fs.rmSync(out, { recursive: true, force: true });
});

test('package: rejects a malformed version before doing anything', () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'package.mjs'), '--version', 'v1'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--version "v1" must be <major>\.<minor>\.<patch>/);
});
