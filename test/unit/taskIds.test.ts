// scripts/lib/taskIds.mjs: the task ids of a packaged copy. Expected values were computed with Python's uuid module
// (uuid.uuid5(uuid.NAMESPACE_URL, name)), an implementation independent of ours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
// prettier-ignore
// @ts-expect-error -- plain ESM script without type declarations
import { HOME_IDENTITY, URL_NAMESPACE, forkTaskId, isHome, replaceTaskIds, taskIdMap, uuidV5 } from '../../scripts/lib/taskIds.mjs';
// @ts-expect-error -- plain ESM script without type declarations
import { loadTasks } from '../../scripts/gen-readme.mjs';
import { REPO_ROOT } from '../helpers/agent';

test('uuidV5: RFC 4122 name-based SHA-1 (Python: uuid5(NAMESPACE_DNS, "python.org"))', () => {
  assert.equal(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'python.org'), '886313e1-3b8a-5372-9b90-0c9aee199e5d');
  assert.equal(URL_NAMESPACE, '6ba7b811-9dad-11d1-80b4-00c04fd430c8');
});

const tasks = [...(loadTasks() as Map<string, { id: string; name: string }>).values()].map((t) => ({
  id: t.id,
  name: t.name,
}));
const FORK = {
  // contoso-ml.azureml-mlops, from Python's uuid5
  AzureMLJob: '33bc6fc8-beb5-51ba-b075-63af4281682d',
  AzureMLModelDeploy: '66706927-fe1e-596f-b538-cc50515cf313',
  AzureMLModelDownload: 'effeaac4-b1c4-50fb-b041-765e5115067c',
  AzureMLModelEvaluate: '26aac313-1288-5a5c-a3a9-81375bf6237e',
  AzureMLModelRegister: '272e78a9-a69f-534f-b31b-73f1e601101b',
  AzureMLReleaseTrigger: 'c02a0421-8cb1-5253-acd0-6ca78565a45f',
  AzureMLEndpointHealth: '10fa785c-e49d-5ad5-b749-cbb017c780a9',
  AzureMLJobWait: '6adb2733-ba1c-508a-b1bc-999ab256ef0f',
  AzureMLModelPromote: '1f18231a-5877-5d62-83f7-f6ff5bec50d6',
  AzureMLDriftCheck: '72cde549-de40-5aa0-a20f-00fe99744103',
} as Record<string, string>;

test('home identity keeps the task.json ids; publisher and extension id compare case-insensitively', () => {
  assert.ok(isHome(HOME_IDENTITY.publisher.toUpperCase(), HOME_IDENTITY.extensionId));
  const m = taskIdMap(tasks, HOME_IDENTITY.publisher, HOME_IDENTITY.extensionId);
  for (const t of tasks) assert.equal(m.get(t.id.toLowerCase()), t.id);
});

test('a fork (other publisher, or other extension id) gets its own stable ids, one per task, none of the originals', () => {
  const m = taskIdMap(tasks, 'contoso-ml', HOME_IDENTITY.extensionId);
  for (const t of tasks) assert.equal(m.get(t.id.toLowerCase()), FORK[t.name], t.name);
  assert.deepEqual(
    taskIdMap(tasks, 'Contoso-ML', HOME_IDENTITY.extensionId),
    m,
    'case of the publisher does not matter',
  );
  const devCopy = taskIdMap(tasks, HOME_IDENTITY.publisher, `${HOME_IDENTITY.extensionId}-dev`);
  assert.equal(
    devCopy.get(tasks.find((t) => t.name === 'AzureMLModelDownload')!.id.toLowerCase()),
    'c5a3aee8-6ae5-5e04-8cac-53afd30cdbbe',
  );
  const all = [...tasks.map((t) => t.id.toLowerCase()), ...m.values(), ...devCopy.values()];
  assert.equal(new Set(all).size, tasks.length * 3, 'no id shared between the original and the two copies');
  assert.equal(forkTaskId('contoso-ml', HOME_IDENTITY.extensionId, 'AzureMLJob'), FORK.AzureMLJob);
});

test('the manifest of a fork: downloadTaskId follows the download task, contribution ids and everything else stay', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'vss-extension.json'), 'utf8'));
  const m = taskIdMap(tasks, 'contoso-ml', HOME_IDENTITY.extensionId);
  const out = replaceTaskIds(manifest, m) as typeof manifest;
  const artifact = (x: typeof manifest) =>
    x.contributions.find((c: { properties?: { downloadTaskId?: string } }) => c.properties?.downloadTaskId);
  const download = tasks.find((t) => t.name === 'AzureMLModelDownload')!;
  assert.equal(
    artifact(manifest).properties.downloadTaskId.toLowerCase(),
    download.id.toLowerCase(),
    'the source names the download task',
  );
  assert.equal(artifact(out).properties.downloadTaskId, FORK.AzureMLModelDownload);
  assert.deepEqual(
    out.contributions.map((c: { id: string }) => c.id),
    manifest.contributions.map((c: { id: string }) => c.id),
  );
  // nothing but the task id changed
  assert.deepEqual(replaceTaskIds(out, new Map([[FORK.AzureMLModelDownload, download.id]])), manifest);
});
