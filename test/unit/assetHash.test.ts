// The content hash must be azure-ai-ml's (sdk/ml/azure-ai-ml/azure/ai/ml/_utils/_asset_utils.py get_object_hash),
// so that our LocalUpload/<md5>/ folders are the ones `az ml model create` would produce and reuse.
//
// How the expected values were computed (by hand, from the algorithm, not from our code):
//   h = md5(b"Initialize for october 2021 AML CLI version")
//   file:   h.update(file bytes)                                   -> hexdigest
//   folder: for each entry sorted by str(path).lower(), skipping entries the root .amlignore (else .gitignore)
//           excludes: h.update(entry name utf-8); then the file's bytes, or recurse into the folder
// i.e. md5(SEED + concatenation), evaluated with python3 hashlib, e.g.
//   hashlib.md5(SEED + b'a.txt'+b'A' + b'b.txt'+b'hello' + b'sub'+b'c.bin'+b'zz').hexdigest()
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { getObjectHash, prepareLocalAsset, IgnoreRules, datastoreUri } from '../../src/azureml/storage';

function tree(files: Record<string, string | null>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'hash-'));
  const dir = path.join(root, 'model');
  mkdirSync(dir);
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    if (content === null) {
      mkdirSync(p, { recursive: true });
      continue;
    }
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  return dir;
}

test('single file: md5(seed + contents), name not included', async () => {
  const dir = tree({ 'b.txt': 'hello', 'other-name.bin': 'hello', 'empty.txt': '' });
  assert.equal(await getObjectHash(path.join(dir, 'b.txt')), '1ee1121a4cb564120b82afcf0072288a');
  assert.equal(await getObjectHash(path.join(dir, 'other-name.bin')), '1ee1121a4cb564120b82afcf0072288a');
  assert.equal(await getObjectHash(path.join(dir, 'empty.txt')), 'bf6fb7b1e88207436d2a346c6bcf7ded');
});

test('folder: names and contents, recursive', async () => {
  const dir = tree({ 'b.txt': 'hello', 'a.txt': 'A', 'sub/c.bin': 'zz' });
  assert.equal(await getObjectHash(dir), '9abf8be709624feec6a737980594edf2');
});

test('folder: entries sorted case-insensitively (a.txt before B.txt)', async () => {
  const dir = tree({ 'B.txt': 'bee', 'a.txt': 'ay' });
  assert.equal(await getObjectHash(dir), 'b23f5ff89c57dc9fe86db4677f734cc0');
});

test('.amlignore excludes entries; empty folders and the ignore file itself are hashed', async () => {
  const dir = tree({
    '.amlignore': '*.log\n',
    'model.pkl': 'PK',
    'train.log': 'noise',
    'logs/x.log': 'y',
    empty: null,
  });
  const rules = await (await import('../../src/azureml/storage')).loadIgnoreRules(dir);
  assert.equal(await getObjectHash(dir, rules), '2a04ead46125c84aa322c519bcfee52d');
  const asset = await prepareLocalAsset(dir);
  assert.equal(asset.hash, '2a04ead46125c84aa322c519bcfee52d');
  assert.deepEqual(asset.files.map((f) => path.relative(dir, f.local)).sort(), ['.amlignore', 'model.pkl']);
});

test('.amlignore wins over .gitignore', async () => {
  const dir = tree({ '.amlignore': '*.bin\n', '.gitignore': '*.txt\n', 'a.bin': '1', 'b.txt': '2' });
  const asset = await prepareLocalAsset(dir);
  assert.equal(asset.hash, '3daa58fac2978af42ccaa945fd2346a3');
  assert.ok(asset.files.some((f) => f.local.endsWith('b.txt')));
  assert.ok(!asset.files.some((f) => f.local.endsWith('a.bin')));
});

test('blob layout LocalUpload/<md5>/<folder>/<rel>, indicator = first by local path (code-point order)', async () => {
  const dir = tree({ 'B.txt': 'bee', 'a.txt': 'ay' });
  const asset = await prepareLocalAsset(dir);
  assert.equal(asset.remotePath, `LocalUpload/b23f5ff89c57dc9fe86db4677f734cc0/model`);
  // python sorted() of absolute paths: '/…/B.txt' < '/…/a.txt'
  assert.equal(asset.files[0]!.blob, 'LocalUpload/b23f5ff89c57dc9fe86db4677f734cc0/model/B.txt');
  assert.equal(asset.totalBytes, 5);
  const ws = { subscriptionId: 's1', resourceGroup: 'rg', workspace: 'ws', armUrl: 'https://x/', scope: 'x' };
  assert.equal(
    datastoreUri(ws, asset.remotePath),
    'azureml://subscriptions/s1/resourcegroups/rg/workspaces/ws/datastores/workspaceblobstore/paths/LocalUpload/b23f5ff89c57dc9fe86db4677f734cc0/model',
  );
});

test('empty folder (or everything ignored) is refused', async () => {
  await assert.rejects(prepareLocalAsset(tree({})), /is empty/);
  await assert.rejects(prepareLocalAsset(tree({ '.amlignore': '*\n' })), /is empty.*\.amlignore/);
});

test('ignore rules: first matching pattern decides (azure-ai-ml), dir-only and anchored patterns', () => {
  const r = new IgnoreRules('/x', '/x/.amlignore', '# c\n/build/\n*.tmp\n!keep.tmp\ndata/\n');
  assert.equal(r.isExcluded('build/a'), true);
  assert.equal(r.isExcluded('src/build/a'), false); // anchored
  assert.equal(r.isExcluded('a.tmp'), true);
  assert.equal(r.isExcluded('keep.tmp'), true); // '*.tmp' matched first
  assert.equal(r.isExcluded('x/data/y.csv'), true); // dir-only, any depth
  assert.equal(r.isExcluded('data'), false); // a file named data is not the folder
  assert.equal(r.isExcluded('model.pkl'), false);
});
