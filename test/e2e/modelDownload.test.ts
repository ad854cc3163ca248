// AzureMLModelDownload@1 end to end (bundled task, agent environment, Azure-in-a-box): YAML "resolve a model" by
// version / latest / latest with tag / download=false, itemPattern, job-output models, a planted path-traversal blob,
// a corrupt blob (content changed, stored Content-MD5 kept), bad inputs. The release-artifact run is in modelArtifact.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { startAzureInABox, type AzureInABox } from '../emulator';
import { runBundledTask, type TaskRunWithLeaks, explainRun } from '../helpers/agent';
import { containerClient, plantRawBlob, seedModelVersion, uploadFiles, wsArmPath } from '../helpers/modelSeed';

const TASK = 'AzureMLModelDownload';
let box: AzureInABox;
let corruptPrefix = '';

before(async () => {
  box = await startAzureInABox({ fastLro: true });
  await seedModelVersion(box, 'dl-model', '1', {
    'weights.txt': 'one\n',
    'conf/params.json': '{"v":1}',
    '.hidden': 'h1',
    'conf/': '',
  });
  // an ADLS Gen2-style directory placeholder (hdi_isfolder) beside the files: not a file to download
  await containerClient(box)
    .getBlockBlobClient('seed/dl-model/1/model/conf')
    .upload('', 0, { metadata: { hdi_isfolder: 'true' } });
  const seeded: string[] = [];
  for await (const b of containerClient(box).listBlobsFlat({ prefix: 'seed/dl-model/1/' })) seeded.push(b.name);
  assert.ok(
    seeded.includes('seed/dl-model/1/model/conf/') && seeded.includes('seed/dl-model/1/model/conf'),
    `placeholders planted: ${seeded.join(', ')}`,
  );
  await seedModelVersion(
    box,
    'dl-model',
    '2',
    { 'weights.txt': 'two\n', 'conf/params.json': '{"v":2}' },
    { tags: { stage: 'prod' } },
  );
  await seedModelVersion(
    box,
    'dl-model',
    '3',
    { 'weights.txt': 'three\n', 'conf/params.json': '{"v":3}' },
    { tags: { stage: 'dev' } },
  );
  // every ARM write of this file happens here, so the tests (run concurrently) can assert the task writes nothing
  const job = 'train-job-7';
  const jobId = wsArmPath(box, `/jobs/${job}`);
  box.store.put('jobs', jobId, {
    id: jobId,
    name: job,
    type: 'Microsoft.MachineLearningServices/workspaces/jobs',
    properties: {
      jobType: 'Command',
      status: 'Completed',
      command: 'python train.py',
      environmentId: 'azureml:env:1',
      computeId: 'cpu',
      outputs: { model: { jobOutputType: 'uri_folder', mode: 'ReadWriteMount' } },
    },
  });
  await uploadFiles(box, `azureml/${job}/model`, { 'model.pkl': 'pickle', MLmodel: 'flavors: {}' });
  await seedModelVersion(box, 'job-model', '1', {}, { modelUri: `azureml://jobs/${job}/outputs/model` });
  // a job output written the way jobs write big files: staged blocks + Put Block List, no Content-MD5 on the blob
  const job8 = 'train-job-8';
  const job8Id = wsArmPath(box, `/jobs/${job8}`);
  box.store.put('jobs', job8Id, {
    id: job8Id,
    name: job8,
    type: 'Microsoft.MachineLearningServices/workspaces/jobs',
    properties: {
      jobType: 'Command',
      status: 'Completed',
      command: 'python train.py',
      environmentId: 'azureml:env:1',
      computeId: 'cpu',
      outputs: { model: { jobOutputType: 'uri_folder', mode: 'ReadWriteMount' } },
    },
  });
  await uploadFiles(box, `azureml/${job8}/model`, { MLmodel: 'flavors: {}' });
  for (const [rel, text] of [
    ['weights.bin', 'block weights'],
    ['conf/params.json', '{"v":8}'],
  ]) {
    const bb = containerClient(box).getBlockBlobClient(`azureml/${job8}/model/${rel}`);
    const id = Buffer.from('block-0').toString('base64');
    await bb.stageBlock(id, Buffer.from(text!), Buffer.byteLength(text!));
    await bb.commitBlockList([id]);
    assert.equal((await bb.getProperties()).contentMD5, undefined, `${rel} has no Content-MD5`);
  }
  await seedModelVersion(box, 'nomd5-model', '1', {}, { modelUri: `azureml://jobs/${job8}/outputs/model` });
  // what the run logged (MLflow): the artifact store (container `azureml`), ExperimentRun/dcid.<job>/…, reached through
  // the implicit outputs `artifacts` and `default` (GET of the job lists `default` as …/workspaceartifactstore/ExperimentRun/dcid.<job>)
  const artifacts = new BlobServiceClient(
    box.azurite.blobEndpoint,
    new StorageSharedKeyCredential(box.azurite.account, box.azurite.key),
  ).getContainerClient('azureml');
  await artifacts.createIfNotExists();
  for (const [rel, text] of [
    ['MLmodel', 'flavors: {sklearn: {}}'],
    ['model.pkl', 'logged pickle'],
  ]) {
    await artifacts
      .getBlockBlobClient(`ExperimentRun/dcid.${job}/model/${rel}`)
      .upload(text!, Buffer.byteLength(text!));
  }
  await seedModelVersion(
    box,
    'artifacts-model',
    '1',
    {},
    { modelUri: `azureml://jobs/${job}/outputs/artifacts/paths/model` },
  );
  await seedModelVersion(
    box,
    'default-model',
    '1',
    {},
    { modelUri: `azureml://jobs/${job}/outputs/default/paths/model/` },
  );
  await uploadFiles(box, 'seed/file-model/1', {
    'clf.pkl': 'single file',
    'clf.pkl.bak': 'other',
    'clf.pkl/inner': 'not this',
  });
  await seedModelVersion(
    box,
    'file-model',
    '1',
    {},
    { modelUri: 'azureml://datastores/workspaceblobstore/paths/seed/file-model/1/clf.pkl' },
  );
  // 'model/../../../evil.txt' relative to a download folder root/a/b/dest would be root/a/evil.txt
  await uploadFiles(box, 'seed/evil-model/1/model', { 'good.txt': 'good' });
  await plantRawBlob(box, 'seed/evil-model/1/model/../../../evil.txt', 'pwned');
  await seedModelVersion(
    box,
    'evil-model',
    '1',
    {},
    { modelUri: 'azureml://datastores/workspaceblobstore/paths/seed/evil-model/1/model' },
  );
  const big = Buffer.alloc(48 * 1024 * 1024, 7);
  await seedModelVersion(box, 'big-model', '1', { 'part-1.bin': big, 'part-2.bin': big, 'part-3.bin': big });
  corruptPrefix = (
    await seedModelVersion(box, 'corrupt-model', '1', { 'ok.txt': 'fine', 'weights.bin': Buffer.alloc(4096, 'A') })
  ).blobPrefix;
});
after(async () => {
  await box?.stop();
});

const tmp = (p: string) => mkdtempSync(path.join(tmpdir(), p));
const explain = (r: TaskRunWithLeaks) => explainRun(r, { lines: 20, stderrChars: 1500, headings: false });

async function run(inputs: Record<string, string>): Promise<TaskRunWithLeaks & { writes: string[] }> {
  const before = box.requests.length;
  const r = await runBundledTask(TASK, {
    box,
    scheme: 'secret',
    timeoutMs: 60_000,
    inputs: { resourceGroup: box.resourceGroup, workspace: box.workspace, ...inputs },
  });
  // reads only: GETs, plus the datastore's listSecrets POST
  const writes = box.requests
    .slice(before)
    .filter((q) => q.host === 'arm' && q.method !== 'GET' && !/\/listSecrets/i.test(q.url))
    .map((q) => `${q.method} ${q.url}`);
  return Object.assign(r, { writes });
}

function listTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) =>
      path
        .relative(dir, path.join(e.parentPath ?? (e as any).path, e.name))
        .split(path.sep)
        .join('/'),
    )
    .sort();
}

describe('resolve a model (YAML)', { concurrency: true }, () => {
  test('specific, latestWithTag + itemPattern, latest with download=false', async () => {
    const d = { specific: tmp('dl-spec-'), tag: tmp('dl-tag-'), none: path.join(tmp('dl-none-'), 'never') };
    const [spec, tag, none] = await Promise.all([
      run({ definition: 'dl-model', versionSelector: 'specific', version: '1', downloadPath: d.specific }),
      run({
        definition: 'dl-model',
        versionSelector: 'latestWithTag',
        tag: 'stage=prod',
        downloadPath: d.tag,
        itemPattern: '**/*.json',
      }),
      run({ definition: 'dl-model', versionSelector: 'latest', download: 'false', downloadPath: d.none }),
    ]);
    for (const r of [spec, tag, none]) {
      assert.equal(r.result, 'Succeeded', explain(r));
      assert.deepEqual(r.writes, []);
      assert.ok(!r.commands.some((c) => c.name === 'release.updatereleasename' || c.name === 'build.addbuildtag'));
    }
    assert.equal(spec.outputs.modelVersion, '1');
    assert.equal(spec.outputs.modelId, 'azureml:dl-model:1');
    assert.match(spec.outputs.modelUri!, /\/paths\/seed\/dl-model\/1\/model$/);
    assert.equal(spec.outputs.modelPath, path.join(d.specific, 'model'));
    assert.deepEqual(listTree(d.specific), [
      'model.json',
      'model/.hidden',
      'model/conf/params.json',
      'model/weights.txt',
    ]);
    assert.equal(readFileSync(path.join(d.specific, 'model', 'weights.txt'), 'utf8'), 'one\n');
    const meta = JSON.parse(readFileSync(path.join(d.specific, 'model.json'), 'utf8'));
    assert.equal(meta.id, 'azureml:dl-model:1');
    assert.equal(meta.type, 'custom_model');
    assert.ok(meta.createdAt && meta.createdBy, 'created at/by');
    assert.deepEqual(meta.files, ['model/.hidden', 'model/conf/params.json', 'model/weights.txt']);
    assert.ok(
      spec.summaries.some((s) => s.includes('azureml:dl-model:1')),
      'summary outside a release',
    );
    assert.ok(spec.progress.includes(100));

    // latest carrying stage=prod is 2 (3 is newer but tagged dev); only the .json files
    assert.equal(tag.outputs.modelVersion, '2');
    assert.deepEqual(listTree(d.tag), ['model.json', 'model/conf/params.json']);
    assert.equal(readFileSync(path.join(d.tag, 'model', 'conf', 'params.json'), 'utf8'), '{"v":2}');
    assert.equal(JSON.parse(readFileSync(path.join(d.tag, 'model.json'), 'utf8')).tags.stage, 'prod');

    // latest is 3; nothing downloaded
    assert.equal(none.outputs.modelVersion, '3');
    assert.equal(none.outputs.modelId, 'azureml:dl-model:3');
    assert.equal(none.outputs.modelPath, '');
    assert.ok(!existsSync(d.none), 'download=false creates nothing');
  });

  test('job-output model (azureml://jobs/<job>/outputs/model, default output location) and single-file model', async () => {
    const job = 'train-job-7';
    const dest = tmp('dl-job-');
    const fileDest = tmp('dl-file-');
    const [r, f] = await Promise.all([
      run({ definition: 'job-model', version: '1', downloadPath: dest }),
      run({ definition: 'file-model', version: '1', downloadPath: fileDest }),
    ]);
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.modelUri, `azureml://jobs/${job}/outputs/model`);
    assert.deepEqual(listTree(dest), ['model.json', 'model/MLmodel', 'model/model.pkl']);
    assert.equal(readFileSync(path.join(dest, 'model', 'model.pkl'), 'utf8'), 'pickle');
    assert.deepEqual(r.warnings, [], 'every blob has a Content-MD5');
    assert.equal(JSON.parse(readFileSync(path.join(dest, 'model.json'), 'utf8')).filesWithoutMd5, undefined);
    // a file model lands as <downloadPath>/<file name>, even beside blobs sharing its name as a prefix
    assert.equal(f.result, 'Succeeded', explain(f));
    assert.equal(f.outputs.modelPath, path.join(fileDest, 'clf.pkl'));
    assert.deepEqual(listTree(fileDest), ['clf.pkl', 'model.json']);
    assert.equal(readFileSync(path.join(fileDest, 'clf.pkl'), 'utf8'), 'single file');
  });

  test("models in the run's logged files: azureml://jobs/<job>/outputs/artifacts/paths/… and …/outputs/default/paths/…", async () => {
    const d = { artifacts: tmp('dl-art-'), dflt: tmp('dl-default-') };
    const [a, b] = await Promise.all([
      run({ definition: 'artifacts-model', version: '1', downloadPath: d.artifacts }),
      run({ definition: 'default-model', version: '1', downloadPath: d.dflt }),
    ]);
    for (const [r, dest] of [
      [a, d.artifacts],
      [b, d.dflt],
    ] as const) {
      assert.equal(r.result, 'Succeeded', explain(r));
      assert.deepEqual(listTree(dest), ['model.json', 'model/MLmodel', 'model/model.pkl']);
      assert.equal(readFileSync(path.join(dest, 'model', 'model.pkl'), 'utf8'), 'logged pickle');
    }
  });

  test('blobs without Content-MD5: one warning with the count, listed in model.json; a rerun downloads them again', async () => {
    const dest = tmp('dl-nomd5-');
    const r = await run({ definition: 'nomd5-model', version: '1', downloadPath: dest });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.deepEqual(listTree(dest), ['model.json', 'model/MLmodel', 'model/conf/params.json', 'model/weights.bin']);
    assert.equal(r.warnings.length, 1, r.warnings.join('\n'));
    assert.match(r.warnings[0]!, /^2 of 3 file\(s\) have no Content-MD5 in storage .*only their size was checked/);
    assert.deepEqual(JSON.parse(readFileSync(path.join(dest, 'model.json'), 'utf8')).filesWithoutMd5, [
      'model/conf/params.json',
      'model/weights.bin',
    ]);
    assert.match(r.summaries.join('\n'), /\| Checked \| 1 by MD5, 2 by size only/);
    // same size, other content: without an MD5 the file on disk cannot be trusted, so it is replaced
    writeFileSync(path.join(dest, 'model', 'weights.bin'), 'BLOCK WEIGHTS');
    const again = await run({ definition: 'nomd5-model', version: '1', downloadPath: dest });
    assert.equal(again.result, 'Succeeded', explain(again));
    assert.equal(readFileSync(path.join(dest, 'model', 'weights.bin'), 'utf8'), 'block weights');
    assert.match(again.stdout, /\(1 already present and identical/);
  });
});

describe('refusals', { concurrency: true }, () => {
  test('a blob name with ../ under the model folder: refused, nothing written anywhere', async () => {
    const root = tmp('dl-trav-');
    const dest = path.join(root, 'a', 'b', 'dest');
    mkdirSync(dest, { recursive: true });
    const names: string[] = [];
    for await (const b of containerClient(box).listBlobsFlat({ prefix: 'seed/evil-model/1/model/' }))
      names.push(b.name);
    assert.ok(names.includes('seed/evil-model/1/model/../../../evil.txt'), `planted: ${names.join(', ')}`);
    const r = await run({ definition: 'evil-model', version: '1', downloadPath: dest });
    assert.equal(r.result, 'Failed');
    assert.match(
      r.message!,
      /Refusing to download blob 'seed\/evil-model\/1\/model\/\.\.\/\.\.\/\.\.\/evil\.txt': unsafe file name \('\.\.' segment\) that could be written outside the download folder/,
    );
    assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, 'no stack trace');
    assert.deepEqual(listTree(root), [], 'nothing written (not even the good file)');
  });

  test('corrupt blob (content replaced, stored Content-MD5 kept): clear error naming the file, no file left', async () => {
    const good = Buffer.alloc(4096, 'A');
    const blob = containerClient(box).getBlockBlobClient(`${corruptPrefix}/weights.bin`);
    const oldMd5 = createHash('md5').update(good).digest();
    const bad = Buffer.alloc(4096, 'B');
    await blob.upload(bad, bad.length);
    await blob.setHTTPHeaders({ blobContentMD5: new Uint8Array(oldMd5), blobContentType: 'application/octet-stream' });
    assert.deepEqual(Buffer.from((await blob.getProperties()).contentMD5!), oldMd5, 'stored MD5 is the old one');
    const dest = tmp('dl-corrupt-');
    const r = await run({ definition: 'corrupt-model', version: '1', downloadPath: dest });
    assert.equal(r.result, 'Failed');
    assert.match(r.message!, /weights\.bin' is corrupt: its MD5 [0-9a-f]{32} differs from the blob's Content-MD5/);
    assert.ok(
      !listTree(dest).some((f) => f.includes('weights.bin')),
      `no corrupt file left: ${listTree(dest).join(', ')}`,
    );
    assert.ok(!existsSync(path.join(dest, 'model.json')));
  });

  test('SIGINT mid-download: stops promptly, no partial or metadata file left', async () => {
    const dest = tmp('dl-sigint-');
    const r = await runBundledTask(TASK, {
      box,
      scheme: 'secret',
      timeoutMs: 60_000,
      inputs: {
        resourceGroup: box.resourceGroup,
        workspace: box.workspace,
        definition: 'big-model',
        version: '1',
        downloadPath: dest,
      },
      signalAfterMs: { signal: 'SIGINT', whenStdoutMatches: /task\.setprogress value=\d+;?\]Downloading model/ },
    });
    assert.equal(r.result, 'Failed', explain(r));
    assert.equal(r.message, 'Cancelled (SIGINT)');
    const left = listTree(dest);
    assert.ok(!left.some((f) => /\.part-/.test(f)), `no partial files: ${left.join(', ')}`);
    assert.ok(!left.includes('model.json'), 'no metadata for an incomplete download');
    assert.ok(left.length < 3, `not everything was downloaded: ${left.join(', ')}`);
  });

  test('bad inputs fail with one line naming the input, before anything is downloaded (pure input checks: unit tests)', async () => {
    const dest = tmp('dl-bad-');
    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        { definition: 'dl-model', versionSelector: 'specific' },
        /^Input 'version': is required when versionSelector is 'specific'/,
      ],
      [
        { definition: 'dl-model', versionSelector: 'latestWithTag', tag: 'stage=nowhere' },
        /^Input 'tag': no version of model 'dl-model' carries tag stage=nowhere/,
      ],
      [{ definition: 'no-such-model', version: '1' }, /^Input 'definition': model 'no-such-model' was not found/],
      [{ definition: 'dl-model', version: '9' }, /^Input 'version': model 'dl-model' has no version '9'/],
      [
        { definition: 'dl-model', version: '1', itemPattern: 'nothing/**' },
        /itemPattern 'nothing\/\*\*' matches none of the 3 file\(s\)/,
      ],
    ];
    const runs = await Promise.all(cases.map(([inputs]) => run({ downloadPath: dest, ...inputs })));
    runs.forEach((r, i) => {
      assert.equal(r.result, 'Failed', `case ${i}: ${explain(r)}`);
      assert.match(r.message!, cases[i]![1], `case ${i}`);
      assert.deepEqual(r.writes, []);
    });
    assert.deepEqual(listTree(dest), []);
  });
});
