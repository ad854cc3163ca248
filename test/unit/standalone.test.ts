// The repository stands on its own (issue 8 §1): a user clones it with nothing beside it, so no source, script,
// test or manifest may read a path outside the repository. Third-party data the build and the tests need is kept
// in test/fixtures/third-party/ with its provenance (that folder's README).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const THIRD_PARTY = 'test/fixtures/third-party/';

/** Tracked and untracked (not ignored) files: what a commit of this tree would hold. */
function repoFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return out.split('\0').filter((f) => f && fs.existsSync(path.join(ROOT, f)));
}

// `../shared`, `..\shared`, or a path built from segments: `'..', 'shared'` / `"..", "shared"`.
const OUTSIDE = [/\.\.[\\/]+shared\b/, /['"]\.\.['"]\s*,\s*['"]shared['"]/];

test('no file of the repository reads ../shared (outside the repository)', () => {
  const offenders: string[] = [];
  for (const f of repoFiles()) {
    if (f.startsWith(THIRD_PARTY) || f === 'test/unit/standalone.test.ts') continue;
    if (!/\.(ts|mts|cts|js|mjs|cjs|json|sh|ya?ml|md)$|(^|\/)run$/.test(f)) continue;
    const text = fs.readFileSync(path.join(ROOT, f), 'utf8');
    text.split('\n').forEach((line, i) => {
      if (OUTSIDE.some((re) => re.test(line))) offenders.push(`${f}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(offenders, [], `these lines read a path outside the repository:\n${offenders.join('\n')}`);
});

test('the rule catches both spellings (a check that cannot fail is no check)', () => {
  assert.ok(OUTSIDE.some((re) => re.test("path.resolve(REPO, '../shared/corpus')")));
  assert.ok(OUTSIDE.some((re) => re.test("path.resolve(ROOT, '..', 'shared', 'specs')")));
  assert.ok(!OUTSIDE.some((re) => re.test('azureml://registries/shared/models/m/versions/1')));
});

test('every third-party file the tests read is in the repository, with its provenance', () => {
  const readme = fs.readFileSync(path.join(ROOT, THIRD_PARTY, 'README.md'), 'utf8');
  for (const dir of ['azure-pipelines-task-lib', 'azure-rest-api-specs', 'azureml-examples']) {
    assert.ok(fs.existsSync(path.join(ROOT, THIRD_PARTY, dir)), dir);
    assert.match(readme, new RegExp('`' + dir + '/`'), `README names ${dir}/`);
  }
  assert.ok(fs.existsSync(path.join(ROOT, THIRD_PARTY, 'azure-pipelines-task-lib', 'tasks.schema.json')));
  assert.ok(fs.existsSync(path.join(ROOT, THIRD_PARTY, 'azure-rest-api-specs', '2022-10-01', 'mfe.json')));
});
