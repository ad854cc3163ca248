// AzureMLModelDownload@1 logic without network: blob-name safety, URI parsing, input checks and version resolution
// through injected fake operations.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { ModelVersion } from '@azure/arm-machinelearning';
import { safeBlobTarget, parseDatastoreUri, defaultJobOutputUri, type DownloadResult } from '../../src/azureml/storage';
import {
  planResolution,
  resolveAndDownload,
  type DownloadInputs,
  type DownloadOps,
} from '../../src/tasks/modelDownload';
import { InputError } from '../../src/pipeline';

const DEST = path.resolve('/tmp/dl-unit/dest');

describe('safeBlobTarget', () => {
  test('plain relative names land inside the folder', () => {
    assert.deepEqual(safeBlobTarget(DEST, 'model/a.txt'), { path: path.join(DEST, 'model', 'a.txt') });
    assert.deepEqual(safeBlobTarget(DEST, 'model/.hidden/x..y'), { path: path.join(DEST, 'model', '.hidden', 'x..y') });
    assert.deepEqual(safeBlobTarget(DEST, 'm/..a/b..'), { path: path.join(DEST, 'm', '..a', 'b..') });
  });
  const refused: Array<[string, RegExp]> = [
    ['../evil.txt', /'\.\.' segment/],
    ['a/../../x', /'\.\.' segment/],
    ['model/..', /'\.\.' segment/],
    ['/etc/passwd', /absolute/],
    ['C:/Windows/x', /absolute/],
    ['c:x', /absolute/],
    ['a\\..\\..\\x', /backslash/],
    ['\\\\server\\share\\x', /backslash/],
    ['', /empty name/],
    ['a//b', /empty or '\.' segment/],
    ['a/./b', /empty or '\.' segment/],
    ['a/b/', /empty or '\.' segment/],
    ['a/\u0000b', /control/],
    ['a\nb', /control/],
  ];
  for (const [name, why] of refused) {
    test(`refuses ${JSON.stringify(name)}`, () => {
      const r = safeBlobTarget(DEST, name);
      assert.ok('refused' in r, `${JSON.stringify(name)} → ${JSON.stringify(r)}`);
      assert.match(r.refused, why);
    });
  }
  test('nothing it accepts resolves outside the folder (fuzz over dangerous pieces)', () => {
    const pieces = ['..', '.', '', 'a', '...', '..a', 'a..', '/', '\\', 'C:', '%2e%2e', '\u2025'];
    let accepted = 0;
    for (const a of pieces)
      for (const b of pieces)
        for (const c of pieces) {
          const name = `${a}/${b}/${c}`;
          const r = safeBlobTarget(DEST, name);
          if ('path' in r) {
            accepted++;
            const rel = path.relative(DEST, r.path);
            assert.ok(rel && !rel.startsWith('..') && !path.isAbsolute(rel), `${JSON.stringify(name)} → ${r.path}`);
          }
        }
    assert.ok(accepted > 50, `some names are accepted (${accepted})`);
  });
});

describe('URIs', () => {
  test('datastore URIs, short and long', () => {
    assert.deepEqual(parseDatastoreUri('azureml://datastores/workspaceblobstore/paths/LocalUpload/abc/model'), {
      datastore: 'workspaceblobstore',
      path: 'LocalUpload/abc/model',
    });
    assert.deepEqual(
      parseDatastoreUri('azureml://subscriptions/s/resourcegroups/rg/workspaces/w/datastores/ds/paths/a%20b/'),
      { datastore: 'ds', path: 'a b/', workspace: { subscriptionId: 's', resourceGroup: 'rg', workspace: 'w' } },
    );
    assert.equal(parseDatastoreUri('azureml://jobs/j/outputs/o'), undefined);
    assert.equal(parseDatastoreUri('https://acct.blob.core.windows.net/c/p'), undefined);
    assert.equal(defaultJobOutputUri('j1', 'model'), 'azureml://datastores/workspaceblobstore/paths/azureml/j1/model/');
  });
});

const base: DownloadInputs = { definition: 'm', versionSelector: 'specific', version: '1', download: false };
function inputErr(fn: () => unknown, input: string, re: RegExp): void {
  assert.throws(
    fn,
    (e: unknown) => e instanceof InputError && e.message.startsWith(`Input '${input}'`) && re.test(e.message),
  );
}

describe('planResolution', () => {
  test('specific / latest / latestWithTag', () => {
    assert.deepEqual(planResolution(base).resolution, { kind: 'version', version: '1', from: 'version' });
    assert.deepEqual(planResolution({ ...base, versionSelector: 'latest', version: '' }).resolution, {
      kind: 'latest',
    });
    assert.deepEqual(
      planResolution({ ...base, versionSelector: 'latestWithTag', version: '', tag: 'stage=prod' }).resolution,
      { kind: 'latestWithTag', tag: { key: 'stage', value: 'prod' } },
    );
    assert.deepEqual(
      planResolution({ ...base, versionSelector: 'latestWithTag', version: '', tag: 'approved' }).resolution,
      { kind: 'latestWithTag', tag: { key: 'approved', value: undefined } },
    );
    assert.equal(planResolution({ ...base, itemPattern: '' }).pattern, '**');
  });
  test('artifact defaults when version is blank', () => {
    assert.deepEqual(planResolution({ ...base, version: '', defaultVersionType: 'latestType' }).resolution, {
      kind: 'latest',
    });
    assert.deepEqual(
      planResolution({ ...base, version: '', defaultVersionType: 'specificVersionType', defaultVersionSpecific: '4' })
        .resolution,
      { kind: 'version', version: '4', from: 'defaultVersionSpecific' },
    );
    // the version the server passes wins over the defaults
    assert.deepEqual(
      planResolution({ ...base, version: '7', defaultVersionType: 'specificVersionType', defaultVersionSpecific: '4' })
        .resolution,
      { kind: 'version', version: '7', from: 'version' },
    );
  });
  test('bad inputs name the input', () => {
    inputErr(() => planResolution({ ...base, definition: '' }), 'definition', /required/);
    inputErr(() => planResolution({ ...base, definition: 'bad name!' }), 'definition', /not a valid model name/);
    inputErr(
      () => planResolution({ ...base, versionSelector: 'newest' }),
      'versionSelector',
      /'newest' is not one of specific, latest, latestWithTag/,
    );
    inputErr(() => planResolution({ ...base, version: '' }), 'version', /required when versionSelector is 'specific'/);
    inputErr(() => planResolution({ ...base, version: '0' }), 'version', /not a valid model version/);
    inputErr(
      () => planResolution({ ...base, versionSelector: 'latest' }),
      'version',
      /must be empty when versionSelector is 'latest'/,
    );
    inputErr(() => planResolution({ ...base, versionSelector: 'latestWithTag', version: '' }), 'tag', /required/);
    inputErr(
      () => planResolution({ ...base, versionSelector: 'latestWithTag', version: '', tag: 'a=b,c=d' }),
      'tag',
      /one tag/,
    );
    inputErr(
      () => planResolution({ ...base, version: '', defaultVersionType: 'newestType' }),
      'defaultVersionType',
      /not one of/,
    );
    inputErr(
      () => planResolution({ ...base, version: '', defaultVersionType: 'specificVersionType' }),
      'defaultVersionSpecific',
      /required/,
    );
    inputErr(
      () => planResolution({ ...base, version: '', defaultVersionType: 'selectDuringReleaseCreationType' }),
      'version',
      /required/,
    );
    inputErr(() => planResolution({ ...base, download: true }), 'downloadPath', /required when download is true/);
  });
});

function fakeOps(
  versions: Array<{ name: string; tags?: Record<string, string>; uri?: string }>,
  calls: string[] = [],
): DownloadOps {
  const mv = (v: (typeof versions)[number]): ModelVersion =>
    ({
      name: v.name,
      id: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w/models/m/versions/${v.name}`,
      properties: {
        modelUri: v.uri ?? `azureml://datastores/workspaceblobstore/paths/m/${v.name}`,
        modelType: 'custom_model',
        tags: v.tags ?? {},
      },
      systemData: { createdBy: 'me', createdAt: new Date('2026-01-01T00:00:00Z') },
    }) as ModelVersion;
  return {
    ws: { subscriptionId: 's', resourceGroup: 'rg', workspace: 'w', armUrl: 'https://arm/' },
    modelExists: async (n) => {
      calls.push(`exists ${n}`);
      return n === 'm';
    },
    getVersion: async (n, v) => {
      calls.push(`get ${n}:${v}`);
      const f = n === 'm' ? versions.find((x) => x.name === v) : undefined;
      return f && mv(f);
    },
    // newest last in the array = newest first here
    latest: async (n, tag) => {
      calls.push(`latest ${n}${tag ? ` ${tag.key}=${tag.value ?? ''}` : ''}`);
      const vs = n === 'm' ? [...versions].reverse() : [];
      const f = vs.find((v) => !tag || (tag.key in (v.tags ?? {}) && (!tag.value || v.tags![tag.key] === tag.value)));
      return f && mv(f);
    },
    download: async (uri, dest) => {
      calls.push(`download ${uri} → ${dest}`);
      return {
        files: [],
        bytes: 0,
        totalBytes: 0,
        unchanged: 0,
        sizeOnly: [],
        root: dest,
        resolvedUri: uri,
      } as DownloadResult;
    },
  };
}
const deps = (ops: DownloadOps) => ({ ops, log: { info() {}, warning() {}, debug() {} }, progress() {} });

describe('resolveAndDownload (fake operations)', () => {
  const vs = [{ name: '1', tags: { stage: 'prod' } }, { name: '2', tags: { stage: 'dev' } }, { name: '3' }];
  test('download=false resolves only', async () => {
    const calls: string[] = [];
    const r = await resolveAndDownload({ ...base, versionSelector: 'latest', version: '' }, deps(fakeOps(vs, calls)));
    assert.equal(r.metadata.version, '3');
    assert.equal(r.metadata.id, 'azureml:m:3');
    assert.equal(r.metadata.createdAt, '2026-01-01T00:00:00.000Z');
    assert.equal(r.modelPath, undefined);
    assert.deepEqual(calls, ['latest m']);
  });
  test('latest with tag picks the newest carrying it', async () => {
    const r = await resolveAndDownload(
      { ...base, versionSelector: 'latestWithTag', version: '', tag: 'stage=prod' },
      deps(fakeOps(vs)),
    );
    assert.equal(r.metadata.version, '1');
  });
  test('missing model / version / tag: InputError naming the right input', async () => {
    await assert.rejects(
      resolveAndDownload({ ...base, definition: 'nope' }, deps(fakeOps(vs))),
      (e: Error) =>
        e instanceof InputError && e.message === "Input 'definition': model 'nope' was not found in workspace 'w'",
    );
    await assert.rejects(
      resolveAndDownload({ ...base, version: '9' }, deps(fakeOps(vs))),
      (e: Error) => e instanceof InputError && /Input 'version': model 'm' has no version '9'/.test(e.message),
    );
    await assert.rejects(
      resolveAndDownload(
        { ...base, version: '', defaultVersionType: 'specificVersionType', defaultVersionSpecific: '9' },
        deps(fakeOps(vs)),
      ),
      (e: Error) => e instanceof InputError && /Input 'defaultVersionSpecific'/.test(e.message),
    );
    await assert.rejects(
      resolveAndDownload(
        { ...base, versionSelector: 'latestWithTag', version: '', tag: 'stage=gold' },
        deps(fakeOps(vs)),
      ),
      (e: Error) =>
        e instanceof InputError && /Input 'tag': no version of model 'm' carries tag stage=gold/.test(e.message),
    );
    await assert.rejects(
      resolveAndDownload({ ...base, versionSelector: 'latest', version: '' }, deps(fakeOps([]))),
      (e: Error) =>
        e instanceof InputError && /Input 'definition': model 'm' has no \(non-archived\) versions/.test(e.message),
    );
  });
});
