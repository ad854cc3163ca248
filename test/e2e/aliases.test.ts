// The connection input of every task answers to `azureSubscription`, the name users of Microsoft's Azure tasks type
// in YAML (microsoft/azure-pipelines-tasks Tasks/AzureCLIV2/task.json: connectedServiceNameARM, aliases
// ["azureSubscription"]). The task receives it as INPUT_CONNECTION (see agentInputs in test/helpers/agent.ts for how
// the alias reaches the task, with sources).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startAzureInABox, type AzureInABox } from '../emulator';
import { agentEnv, REPO_ROOT, runBundledTask } from '../helpers/agent';
// @ts-expect-error -- plain ESM script without type declarations
import { loadTasks } from '../../scripts/gen-readme.mjs';

let box: AzureInABox;
before(async () => {
  box = await startAzureInABox();
});
after(async () => {
  await box?.stop();
});

const tasks = [
  ...(loadTasks() as Map<
    string,
    {
      name: string;
      inputs: Array<{ name: string; type: string; aliases?: string[] }>;
      execution?: Record<string, unknown>;
    }
  >),
];

test('every task: the AzureRM connection input is `connection` with the alias `azureSubscription`', () => {
  assert.ok(tasks.length >= 6);
  for (const [folder, t] of tasks) {
    const rm = t.inputs.filter((i) => i.type === 'connectedService:AzureRM');
    // the first AzureRM input is `connection`; a task may take a second one for another resource (AzureMLModelPromote's
    // registryConnection: a registry in another subscription), never under the alias
    assert.deepEqual([rm[0]?.name, rm[0]?.aliases], ['connection', ['azureSubscription']], folder);
    for (const i of rm.slice(1)) assert.ok(i.name !== 'connection' && !i.aliases?.length, `${folder}: ${i.name}`);
  }
});

test("the agent environment carries an aliased input under the input's own name only", async () => {
  const dirs = { temp: tmpdir(), work: tmpdir(), sources: tmpdir() };
  const env = await agentEnv(
    'AzureMLModelRegister',
    { box, inputs: { azureSubscription: 'my-conn', modelName: 'm' } },
    dirs,
  );
  assert.equal(env.INPUT_CONNECTION, 'my-conn');
  assert.equal(env.INPUT_AZURESUBSCRIPTION, undefined);
  // the name wins when a step gives both
  const both = await agentEnv(
    'AzureMLModelRegister',
    { box, inputs: { connection: 'a', azureSubscription: 'b' } },
    dirs,
  );
  assert.equal(both.INPUT_CONNECTION, 'a');
});

// server (agentless) tasks have no bundle to run: the server resolves their inputs (the first test checks their alias)
for (const [folder, t] of tasks.filter(([, t]) => !t.execution?.HttpRequest)) {
  test(`${t.name}: azureSubscription names the connection the task reads`, async () => {
    const extra: Record<string, string> =
      t.name === 'AzureMLReleaseTrigger' ? { modelName: 'm', modelVersion: '1', releaseDefinition: 'model-cd' } : {};
    const r = await runBundledTask(t.name, { box, inputs: { azureSubscription: 'no-such-connection', ...extra } });
    assert.equal(r.result, 'Failed', folder);
    assert.equal(
      r.message,
      "Input 'connection': service connection 'no-such-connection' was not found, or this pipeline is not authorized to use it",
    );
  });
}

test('AzureMLModelRegister with azureSubscription: registers the model', async () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'alias-e2e-'));
  cpSync(path.join(REPO_ROOT, 'samples', 'model'), path.join(cwd, 'model'), { recursive: true });
  const r = await runBundledTask('AzureMLModelRegister', {
    box,
    cwd,
    timeoutMs: 60_000,
    inputs: {
      azureSubscription: 'conn-secret',
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      modelName: 'alias-model',
      modelPath: 'model',
      modelType: 'custom_model',
    },
  });
  assert.equal(r.result, 'Succeeded', `${r.message}\n${r.stdout.slice(-2000)}`);
  assert.equal(r.outputs.modelId, 'azureml:alias-model:1');
});
