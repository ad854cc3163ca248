// AzureMLReleaseTrigger@1 logic with fakes: reconcile planning, push/reconcile flow, input validation, placeholders,
// and the Azure DevOps error mapping (permission to grant).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  expandParameters,
  matchesTags,
  newestFirst,
  planReconcile,
  runTrigger,
  validateTriggerInputs,
  type TriggerDeps,
  type TriggerInputs,
  type TriggerTarget,
  type VersionInfo,
} from '../../src/tasks/releaseTrigger';
import { devopsError, isTransient, withRetry } from '../../src/devops/client';
import { MODEL_ARTIFACT_TYPE, modelRunTag, pickModelArtifact } from '../../src/devops/releases';
import { UserError } from '../../src/pipeline';

const V = (version: string, t: number, tags: Record<string, string> = {}, archived = false): VersionInfo => ({
  version,
  createdAt: t,
  tags,
  archived,
});

describe('planReconcile', () => {
  const has = (set: string[]) => async (v: string) => set.includes(v);

  test('every version newer than the newest released one, oldest first; the scan stops at the anchor', async () => {
    const asked: string[] = [];
    const vs = [V('1', 1), V('2', 2), V('3', 3), V('4', 4), V('5', 5)];
    const p = await planReconcile(
      vs,
      async (v) => {
        asked.push(v);
        return v === '3' || v === '1';
      },
      { tagFilter: {}, onlyNewest: false },
    );
    assert.deepEqual(
      p.create.map((v) => v.version),
      ['4', '5'],
    );
    assert.equal(p.anchor, '3');
    assert.deepEqual(asked, ['5', '4', '3'], 'older versions are not asked about');
    assert.equal(p.bootstrap, false);
  });

  test('tag filter and archived versions are left out but do not stop the scan', async () => {
    const vs = [
      V('1', 1, { evaluation: 'passed' }),
      V('2', 2, { evaluation: 'failed' }),
      V('3', 3, { evaluation: 'passed' }, true),
      V('4', 4, { evaluation: 'passed' }),
    ];
    const p = await planReconcile(vs, has(['1']), { tagFilter: { evaluation: 'passed' }, onlyNewest: false });
    assert.deepEqual(
      p.create.map((v) => v.version),
      ['4'],
    );
    assert.deepEqual(p.filteredOut.sort(), ['2', '3']);
  });

  test('onlyNewest keeps the newest matching version', async () => {
    const p = await planReconcile([V('1', 1), V('2', 2), V('3', 3)], has(['1']), { tagFilter: {}, onlyNewest: true });
    assert.deepEqual(
      p.create.map((v) => v.version),
      ['3'],
    );
    assert.deepEqual(p.filteredOut, ['2']);
  });

  test('first run (nothing released yet): only the newest matching version', async () => {
    const p = await planReconcile([V('1', 1), V('2', 2, { ok: 'y' }), V('3', 3)], has([]), {
      tagFilter: { ok: '*' },
      onlyNewest: false,
    });
    assert.equal(p.bootstrap, true);
    assert.equal(p.anchor, undefined);
    assert.deepEqual(
      p.create.map((v) => v.version),
      ['2'],
    );
  });

  test("first run with firstRun 'all': every matching version, oldest first; onlyNewest still keeps one; later runs are unchanged", async () => {
    const vs = [
      V('1', 1, { ok: 'y' }),
      V('2', 2),
      V('3', 3, { ok: 'y' }),
      V('4', 4, { ok: 'y' }, true),
      V('5', 5, { ok: 'y' }),
    ];
    const all = await planReconcile(vs, has([]), { tagFilter: { ok: '*' }, onlyNewest: false, firstRun: 'all' });
    assert.equal(all.bootstrap, true);
    assert.deepEqual(
      all.create.map((v) => v.version),
      ['1', '3', '5'],
    );
    assert.deepEqual(all.filteredOut.sort(), ['2', '4']);
    const newest = await planReconcile(vs, has([]), { tagFilter: { ok: '*' }, onlyNewest: false, firstRun: 'newest' });
    assert.deepEqual(
      newest.create.map((v) => v.version),
      ['5'],
    );
    const one = await planReconcile(vs, has([]), { tagFilter: { ok: '*' }, onlyNewest: true, firstRun: 'all' });
    assert.deepEqual(
      one.create.map((v) => v.version),
      ['5'],
    );
    const later = await planReconcile(vs, has(['3']), {
      tagFilter: { ok: '*' },
      onlyNewest: false,
      firstRun: 'newest',
    });
    assert.deepEqual(
      later.create.map((v) => v.version),
      ['5'],
      'with an anchor firstRun does not matter',
    );
    const later2 = await planReconcile([...vs, V('6', 6, { ok: 'y' })], has(['3']), {
      tagFilter: { ok: '*' },
      onlyNewest: false,
      firstRun: 'newest',
    });
    assert.deepEqual(
      later2.create.map((v) => v.version),
      ['5', '6'],
    );
  });

  test('the run tag names the model version', () => {
    assert.equal(modelRunTag('credit-risk', '12'), 'azureml-model:credit-risk:12');
  });

  test('everything released: nothing to create', async () => {
    const p = await planReconcile([V('1', 1), V('2', 2)], has(['2']), { tagFilter: {}, onlyNewest: false });
    assert.deepEqual(p.create, []);
    assert.equal(p.anchor, '2');
  });

  test('order: creation time, then numeric version for equal times', () => {
    assert.deepEqual(
      newestFirst([V('9', 5), V('10', 5), V('2', 7)]).map((v) => v.version),
      ['2', '10', '9'],
    );
  });
});

describe('tags and template parameters', () => {
  test('matchesTags: exact value, * or empty = present', () => {
    assert.ok(matchesTags({ a: '1', b: 'x' }, { a: '1', b: '*' }));
    assert.ok(matchesTags({ a: '1' }, {}));
    assert.ok(!matchesTags({ a: '2' }, { a: '1' }));
    assert.ok(!matchesTags({}, { a: '' }));
    assert.ok(!matchesTags(undefined, { a: '*' }));
  });
  test('expandParameters replaces every placeholder', () => {
    assert.deepEqual(
      expandParameters(
        { m: '{modelName}', v: 'v{modelVersion}-{modelVersion}', id: '{modelId}', k: 'plain' },
        'churn',
        '3',
      ),
      { m: 'churn', v: 'v3-3', id: 'azureml:churn:3', k: 'plain' },
    );
  });
});

const base: TriggerInputs = {
  mode: 'push',
  target: 'release',
  modelName: 'm',
  modelVersion: '1',
  releaseDefinition: 'cd',
  templateParameters: { modelVersion: '{modelVersion}' },
  tagFilter: {},
  onlyNewest: false,
  maxVersions: 50,
};

describe('validateTriggerInputs (before any network call)', () => {
  const bad: Array<[Partial<TriggerInputs>, RegExp]> = [
    [{ modelVersion: undefined }, /^Input 'modelVersion': is required in push mode/],
    [{ modelVersion: '$(register.modelVersion)' }, /^Input 'modelVersion': .*unexpanded variable/],
    [{ modelVersion: '01' }, /^Input 'modelVersion': '01' is not a valid model version/],
    [{ modelName: 'bad name' }, /^Input 'modelName'/],
    [{ releaseDefinition: ' ' }, /^Input 'releaseDefinition': is required/],
    [{ target: 'pipeline', pipeline: undefined }, /^Input 'pipeline': is required/],
    [{ target: 'pipeline', pipeline: 'p', templateParameters: {} }, /^Input 'templateParameters': needs at least one/],
    [
      { target: 'pipeline', pipeline: 'p', templateParameters: { v: '{version}' } },
      /^Input 'templateParameters': unknown placeholder '\{version\}'/,
    ],
    [
      { target: 'pipeline', pipeline: 'p', templateParameters: { 'a-b': 'x' } },
      /^Input 'templateParameters': 'a-b' is not a valid parameter name/,
    ],
    [{ mode: 'reconcile' }, /^Input 'modelVersion': is only used in push mode/],
    [{ tagFilter: { ' ': 'x' } }, /^Input 'tagFilter': empty tag name/],
    [{ mode: 'reconcile', modelVersion: undefined, maxVersions: 0 }, /^Input 'maxVersions'/],
    [
      { mode: 'reconcile', modelVersion: undefined, firstRun: 'every' as never },
      /^Input 'firstRun': 'every' is not one of: newest, all/,
    ],
  ];
  for (const [patch, re] of bad) {
    test(`${JSON.stringify(patch)} → ${re.source.slice(0, 40)}`, () => {
      assert.throws(
        () => validateTriggerInputs({ ...base, ...patch }),
        (e: Error) => e instanceof UserError && re.test(e.message),
      );
    });
  }
  test('good inputs pass', () => {
    validateTriggerInputs(base);
    validateTriggerInputs({ ...base, mode: 'reconcile', modelVersion: undefined, target: 'pipeline', pipeline: '7' });
  });
});

describe('runTrigger with fakes', () => {
  function fake(versions: VersionInfo[], released: string[]) {
    const created: string[] = [];
    const target: TriggerTarget = {
      kind: 'release',
      label: "release pipeline 'cd'",
      existing: async (v) =>
        released.includes(v) || created.includes(v) ? [{ id: 1, name: 'Release-1', version: v, existing: true }] : [],
      create: async (v, d) => {
        created.push(v);
        assert.ok(d.length > 0);
        return { id: 10 + created.length, name: `Release-${created.length + 1}`, version: v, existing: false };
      },
    };
    let targetResolved = 0;
    const deps: TriggerDeps = {
      listVersions: async () => newestFirst(versions),
      getVersion: async (_m, v) => versions.find((x) => x.version === v),
      target: async () => {
        targetResolved++;
        return target;
      },
      context: { definitionName: 'ci', buildNumber: '7' },
      log: { info() {}, warning() {} },
    };
    return { deps, created, resolved: () => targetResolved };
  }

  test('push: unknown version fails before the target is resolved', async () => {
    const f = fake([V('1', 1)], []);
    await assert.rejects(
      runTrigger({ ...base, modelVersion: '2' }, f.deps),
      /Input 'modelVersion': model 'm' has no version 2/,
    );
    assert.equal(f.resolved(), 0);
  });
  test('push: creates once, then skips', async () => {
    const f = fake([V('1', 1)], []);
    const r1 = await runTrigger(base, f.deps);
    assert.deepEqual(
      r1.created.map((c) => c.version),
      ['1'],
    );
    const r2 = await runTrigger(base, f.deps);
    assert.equal(r2.created.length, 0);
    assert.equal(r2.skipped[0]?.existing?.name, 'Release-1');
  });
  test('push: tag filter skips a version that does not match', async () => {
    const f = fake([V('1', 1, { evaluation: 'failed' })], []);
    const r = await runTrigger({ ...base, tagFilter: { evaluation: 'passed' } }, f.deps);
    assert.equal(r.created.length, 0);
    assert.deepEqual(f.created, []);
  });
  test('reconcile: creates for new versions, rerun creates nothing', async () => {
    const f = fake([V('1', 1), V('2', 2), V('3', 3)], ['1']);
    const i = { ...base, mode: 'reconcile' as const, modelVersion: undefined };
    assert.deepEqual(
      (await runTrigger(i, f.deps)).created.map((c) => c.version),
      ['2', '3'],
    );
    assert.equal((await runTrigger(i, f.deps)).created.length, 0);
  });
  test('registry (issue 13): a missing version names the registry; reconcile of a model the registry lacks fails, nothing started', async () => {
    const f = fake([], []);
    const deps = { ...f.deps, scope: "registry 'shared'", strict: true };
    await assert.rejects(
      runTrigger(base, deps),
      (e: Error) =>
        e instanceof UserError && e.message === "Input 'modelVersion': model 'm' has no version 1 in registry 'shared'",
    );
    await assert.rejects(
      runTrigger({ ...base, mode: 'reconcile', modelVersion: undefined }, deps),
      (e: Error) =>
        e instanceof UserError && e.message === "Input 'modelName': model 'm' was not found in registry 'shared'",
    );
    assert.deepEqual(f.created, []);
    // a workspace model without versions stays "nothing to do"
    assert.equal((await runTrigger({ ...base, mode: 'reconcile', modelVersion: undefined }, f.deps)).created.length, 0);
  });
  test('registry: {modelId} is the registry model URI', () => {
    assert.deepEqual(expandParameters({ id: '{modelId}', v: '{modelVersion}' }, 'fraud', '3', 'shared'), {
      id: 'azureml://registries/shared/models/fraud/versions/3',
      v: '3',
    });
  });
});

describe('Azure DevOps errors and retries', () => {
  const httpErr = (statusCode: number, message: string) =>
    Object.assign(new Error(message), { statusCode, result: { message } });
  test('403 names the permission and the identity', () => {
    const e = devopsError(
      httpErr(403, 'VS402904: Access denied'),
      "create a release of 'cd'",
      "Create releases' on release pipeline 'cd",
      'proj',
    ) as Error;
    assert.ok(e instanceof UserError);
    assert.match(
      e.message,
      /^Permission missing to create a release of 'cd': grant 'Create releases' on release pipeline 'cd' to the 'proj Build Service' identity/,
    );
    assert.match(e.message, /VS402904/);
  });
  test('401 says the token was refused', () => {
    assert.match((devopsError(httpErr(401, 'TF400813'), 'x') as Error).message, /refused the job access token/);
  });
  test('transient: 429/5xx/connection resets; not 400/403/404', () => {
    for (const s of [429, 500, 502, 503, 504]) assert.ok(isTransient(httpErr(s, 'x')), String(s));
    for (const s of [400, 401, 403, 404]) assert.ok(!isTransient(httpErr(s, 'x')), String(s));
    assert.ok(isTransient(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })));
  });
  test('withRetry retries transient failures and asks beforeRetry whether a write already happened', async () => {
    let n = 0;
    assert.equal(
      await withRetry(
        'x',
        async () => {
          if (++n < 3) throw httpErr(503, 'busy');
          return 'ok';
        },
        { baseMs: 1 },
      ),
      'ok',
    );
    let calls = 0;
    const r = await withRetry(
      'create',
      async () => {
        calls++;
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      },
      { baseMs: 1, beforeRetry: async () => 'found' },
    );
    assert.equal(r, 'found');
    assert.equal(calls, 1, 'no second create when the first took effect');
    await assert.rejects(
      withRetry(
        'x',
        async () => {
          throw httpErr(403, 'no');
        },
        { baseMs: 1 },
      ),
      /no/,
    );
  });
});

describe('model artifact', () => {
  test('MODEL_ARTIFACT_TYPE is the name of the release-artifact contribution in vss-extension.json', () => {
    const m = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'vss-extension.json'), 'utf8'));
    const c = m.contributions.find((x: any) => x.type === 'ms.vss-releaseartifact.release-artifact-type');
    assert.ok(c, 'artifact contribution present');
    assert.equal(c.properties.name, MODEL_ARTIFACT_TYPE);
  });
  test('pickModelArtifact: by alias, else the only artifact of our type', () => {
    const def = {
      id: 1,
      name: 'cd',
      artifacts: [
        { alias: '_build', type: 'Build', sourceId: 'p:1' },
        { alias: '_m', type: MODEL_ARTIFACT_TYPE, sourceId: 'c:rg:w:m', model: 'm' },
      ],
    };
    assert.equal(pickModelArtifact(def).alias, '_m');
    assert.equal(pickModelArtifact(def, '_BUILD').alias, '_build');
    assert.throws(
      () => pickModelArtifact(def, '_x'),
      /Input 'artifactAlias': release pipeline 'cd' has no artifact '_x'/,
    );
    assert.throws(
      () => pickModelArtifact({ ...def, artifacts: [def.artifacts[0]!] }),
      /Input 'releaseDefinition': .*has no Azure ML model artifact/,
    );
    const two = {
      ...def,
      artifacts: [...def.artifacts, { alias: '_n', type: MODEL_ARTIFACT_TYPE, sourceId: 'c:rg:w:n', model: 'n' }],
    };
    assert.equal(pickModelArtifact(two, undefined, 'n').alias, '_n');
    assert.throws(() => pickModelArtifact(two), /Input 'artifactAlias': .*2 Azure ML model artifacts/);
  });
});
