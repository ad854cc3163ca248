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

test('package: overridden publisher and version, tasks inside, no sources or maps; a fork gets task ids of its own', async () => {
  const sourceTexts = new Map(
    fs
      .readdirSync(path.join(ROOT, 'tasks'))
      .filter((f) => fs.existsSync(path.join(ROOT, 'tasks', f, 'task.json')))
      .map((t) => [t, fs.readFileSync(path.join(ROOT, 'tasks', t, 'task.json'), 'utf8')]),
  );
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'vsix-'));
  const r = spawnSync(
    process.execPath,
    [
      path.join(ROOT, 'scripts', 'package.mjs'),
      '--publisher',
      'contoso-ml',
      '--version',
      '2.3.4',
      '--repository',
      'https://github.com/contoso/azureml-fork',
      '--out',
      out,
    ],
    { cwd: ROOT, encoding: 'utf8', timeout: 300_000 },
  ); // bundling all tasks takes 30-100 s on a loaded 2-core machine
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'vss-extension.json'), 'utf8'));
  const vsix = path.join(out, `contoso-ml.${manifest.id}-2.3.4.vsix`);
  assert.ok(fs.existsSync(vsix), `${vsix} missing\n${r.stdout}`);
  const size = fs.statSync(vsix).size;
  assert.match(r.stdout, new RegExp(`contoso-ml\\.${manifest.id}-2\\.3\\.4\\.vsix`));

  const { zipEntries, zipRead } = (await import(path.join(ROOT, 'scripts', 'package.mjs'))) as {
    zipEntries(f: string): string[];
    zipRead(f: string, n: string): Buffer;
  };
  const entries = zipEntries(vsix);
  const tasks = fs
    .readdirSync(path.join(ROOT, 'tasks'))
    .filter((f) => fs.existsSync(path.join(ROOT, 'tasks', f, 'task.json')));
  assert.ok(tasks.length > 0);
  // a server (agentless) task ships task.json + icon.png and no bundle (runsOn Server, execution.HttpRequest)
  const isServer = (t: string): boolean =>
    Object.keys(
      JSON.parse(fs.readFileSync(path.join(ROOT, 'tasks', t, 'task.json'), 'utf8')).execution ?? {},
    ).join() === 'HttpRequest';
  assert.ok(tasks.includes('AzureMLJobWaitV1') && isServer('AzureMLJobWaitV1'), 'the agentless wait task is packaged');
  for (const t of tasks)
    for (const f of isServer(t) ? ['task.json', 'icon.png'] : ['task.json', 'index.js', 'icon.png'])
      assert.ok(entries.includes(`tasks/${t}/${f}`), `tasks/${t}/${f} not in vsix: ${entries.join(', ')}`);
  for (const t of tasks.filter(isServer))
    assert.ok(!entries.includes(`tasks/${t}/index.js`), `server task ${t} must not ship a bundle`);
  assert.ok(entries.includes('images/extension-icon.png'));
  assert.ok(entries.includes(manifest.content.details.path));
  assert.deepEqual(
    entries.filter((e) => /\.map$|node_modules\/|^src\/|images\/src\/|\.ts$/.test(e)),
    [],
  );
  // the vsix manifest carries the overrides
  assert.match(zipRead(vsix, 'extension.vsixmanifest').toString('utf8'), /Publisher="contoso-ml" Version="2\.3\.4"/);
  // a fork (publisher contoso-ml is not the home identity): task ids of its own (UUID v5, scripts/lib/taskIds.mjs),
  // the same as a second packaging would give (stable: from the identity alone); downloadTaskId follows; contribution
  // ids as in the source; the source task.json files untouched
  const { forkTaskId } = (await import(path.join(ROOT, 'scripts', 'lib', 'taskIds.mjs'))) as {
    forkTaskId(p: string, e: string, n: string): string;
  };
  const source = new Map(
    tasks.map((t) => [
      t,
      JSON.parse(fs.readFileSync(path.join(ROOT, 'tasks', t, 'task.json'), 'utf8')) as {
        id: string;
        name: string;
        helpUrl: string;
      },
    ]),
  );
  for (const t of tasks) {
    const packed = JSON.parse(zipRead(vsix, `tasks/${t}/task.json`).toString('utf8')) as {
      id: string;
      name: string;
      helpUrl: string;
      version: unknown;
      inputs: unknown;
    };
    const src = source.get(t)!;
    assert.notEqual(packed.id.toLowerCase(), src.id.toLowerCase(), `${t} keeps the original id in a fork`);
    assert.equal(packed.id, forkTaskId('contoso-ml', manifest.id, src.name));
    // --repository: the task's page on the fork's repository
    assert.equal(packed.helpUrl, `https://github.com/contoso/azureml-fork/blob/main/docs/tasks/${t}.md`);
    assert.deepEqual({ ...packed, id: src.id, helpUrl: src.helpUrl }, src, `${t}: only the id and helpUrl differ`);
    assert.equal(
      sourceTexts.get(t),
      fs.readFileSync(path.join(ROOT, 'tasks', t, 'task.json'), 'utf8'),
      `tasks/${t}/task.json was changed`,
    );
  }
  const vso = JSON.parse(zipRead(vsix, 'extension.vsomanifest').toString('utf8')) as {
    contributions: Array<{ id: string; properties?: { downloadTaskId?: string } }>;
  };
  const download = [...source.values()].find((d) => d.name === 'AzureMLModelDownload')!;
  assert.equal(
    vso.contributions.find((c) => c.properties?.downloadTaskId)!.properties!.downloadTaskId,
    forkTaskId('contoso-ml', manifest.id, download.name),
  );
  assert.deepEqual(
    vso.contributions.map((c) => c.id),
    manifest.contributions.map((c: { id: string }) => c.id),
  );
  const staged = JSON.parse(fs.readFileSync(path.join(out, 'staging', 'vss-extension.json'), 'utf8'));
  assert.deepEqual(
    [staged.links.repository.uri, staged.links.support.uri, staged.repository.uri],
    [
      'https://github.com/contoso/azureml-fork',
      'https://github.com/contoso/azureml-fork/issues',
      'https://github.com/contoso/azureml-fork',
    ],
  );
  assert.match(
    zipRead(vsix, 'extension.vsixmanifest').toString('utf8'),
    /https:\/\/github\.com\/contoso\/azureml-fork/,
  );
  // the packaged bundle is byte-identical to the built one
  for (const t of tasks.filter((x) => !isServer(x)))
    assert.ok(
      zipRead(vsix, `tasks/${t}/index.js`).equals(fs.readFileSync(path.join(ROOT, 'tasks', t, 'index.js'))),
      `tasks/${t}/index.js differs`,
    );
  assert.ok(size < 1024 * 1024 * tasks.length, `vsix is ${size} bytes`);
  fs.rmSync(out, { recursive: true, force: true });
});

test("package: the home publisher and extension id keep the task.json ids and the manifest's downloadTaskId", async () => {
  const { HOME_IDENTITY } = (await import(path.join(ROOT, 'scripts', 'lib', 'taskIds.mjs'))) as {
    HOME_IDENTITY: { publisher: string; extensionId: string };
  };
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'vsix-home-'));
  const r = spawnSync(
    process.execPath,
    [
      path.join(ROOT, 'scripts', 'package.mjs'),
      '--publisher',
      HOME_IDENTITY.publisher,
      '--extension-id',
      HOME_IDENTITY.extensionId,
      '--version',
      '1.0.0',
      '--out',
      out,
    ],
    { cwd: ROOT, encoding: 'utf8', timeout: 300_000 },
  ); // bundling all tasks takes 30-100 s on a loaded 2-core machine
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, /task id\(s\) derived/);
  const { zipRead } = (await import(path.join(ROOT, 'scripts', 'package.mjs'))) as {
    zipRead(f: string, n: string): Buffer;
  };
  const vsix = path.join(out, `${HOME_IDENTITY.publisher}.${HOME_IDENTITY.extensionId}-1.0.0.vsix`);
  const tasks = fs
    .readdirSync(path.join(ROOT, 'tasks'))
    .filter((f) => fs.existsSync(path.join(ROOT, 'tasks', f, 'task.json')));
  for (const t of tasks) {
    assert.equal(
      JSON.parse(zipRead(vsix, `tasks/${t}/task.json`).toString('utf8')).id,
      JSON.parse(fs.readFileSync(path.join(ROOT, 'tasks', t, 'task.json'), 'utf8')).id,
      t,
    );
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'vss-extension.json'), 'utf8'));
  const src = manifest.contributions.find(
    (c: { properties?: { downloadTaskId?: string } }) => c.properties?.downloadTaskId,
  ).properties.downloadTaskId;
  const vso = JSON.parse(zipRead(vsix, 'extension.vsomanifest').toString('utf8')) as {
    contributions: Array<{ properties?: { downloadTaskId?: string } }>;
  };
  assert.equal(vso.contributions.find((c) => c.properties?.downloadTaskId)!.properties!.downloadTaskId, src);
  fs.rmSync(out, { recursive: true, force: true });
});

test('package: rejects a malformed version before doing anything', () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'package.mjs'), '--version', 'v1'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--version "v1" must be <major>\.<minor>\.<patch>/);
});
