// Governance and model card: pure helpers, approvals through a fake ReleaseApi, card markdown.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createReleaseGovernance, deployedTag, parseModelId, releaseNameWithModel } from '../../src/devops/governance';
import { modelCardMarkdown, readEvaluationFile } from '../../src/tasks/modelCard';
import type { DevOpsConnection } from '../../src/devops/client';
import type { AzureMLContext, WorkspaceRef } from '../../src/azureml';

const ws: WorkspaceRef = {
  subscriptionId: 's',
  resourceGroup: 'rg',
  workspace: 'w',
  armUrl: 'https://management.azure.com/',
  scope: 'x',
} as WorkspaceRef;

describe('governance helpers', () => {
  test('parseModelId', () => {
    assert.deepEqual(parseModelId('azureml:churn:3'), { name: 'churn', version: '3' });
    assert.equal(parseModelId('azureml:/subscriptions/x/models/churn/versions/3'), undefined);
    assert.equal(parseModelId(undefined), undefined);
    assert.deepEqual(parseModelId('azureml://registries/mlreg/models/churn/versions/3'), {
      name: 'churn',
      version: '3',
      registry: 'mlreg',
    });
    assert.equal(
      parseModelId('azureml://registries/mlreg/models/churn/labels/latest'),
      undefined,
      'a label names no version to tag',
    );
  });
  test('deployedTag', () => {
    assert.equal(deployedTag('Production'), 'deployed.production');
    assert.equal(deployedTag('EU West (AKS)'), 'deployed.eu-west-aks');
  });
  test('releaseNameWithModel: added once', () => {
    assert.equal(releaseNameWithModel('Release-4', { name: 'churn', version: '3' }), 'Release-4 (churn:3)');
    assert.equal(releaseNameWithModel('Release-4 (churn:3)', { name: 'churn', version: '3' }), undefined);
  });
});

function fakeConn(approvals: unknown[] | Error): DevOpsConnection {
  const api = {
    getApprovals: async () => {
      if (approvals instanceof Error) throw approvals;
      return approvals;
    },
  };
  return {
    collectionUri: 'https://dev.azure.com/org/',
    project: 'p',
    projectName: 'p',
    release: async () => api as any,
    pipelines: async () => {
      throw new Error('no');
    },
  };
}
const release = { hostType: 'release', releaseId: '12', releaseName: 'Release-12', stageName: 'production' };

describe('createReleaseGovernance', () => {
  test('only in a classic release', () => {
    const base = { azureml: {} as AzureMLContext, log: { info() {}, warning() {} }, updateReleaseName() {} };
    assert.equal(createReleaseGovernance({ ...base, context: { hostType: 'build', releaseId: '1' } }), undefined);
    assert.equal(createReleaseGovernance({ ...base, context: { hostType: 'release' } }), undefined);
    assert.ok(createReleaseGovernance({ ...base, context: release }));
  });
  test('approvals of this release and stage only (by environment id), approved and manual ones', async () => {
    const a = (id: number, env: number, name: string, extra: Record<string, unknown> = {}) => ({
      release: { id },
      releaseEnvironment: { id: env, name },
      approvedBy: { displayName: `user-${id}-${env}` },
      modifiedOn: new Date('2026-11-22T08:00:00Z'),
      status: 2,
      isAutomated: false,
      comments: 'ok',
      ...extra,
    });
    const g = createReleaseGovernance({
      context: release,
      environmentId: '31',
      azureml: {} as AzureMLContext,
      log: { info() {}, warning() {} },
      updateReleaseName() {},
      devops: fakeConn([
        a(12, 31, 'production'),
        a(12, 30, 'staging'),
        a(13, 31, 'production'),
        a(12, 31, 'production', { isAutomated: true }),
      ]),
    })!;
    assert.deepEqual(await g.approvals(), [
      { approver: 'user-12-31', approvedOn: '2026-11-22T08:00:00.000Z', comments: 'ok' },
    ]);
  });
  test('a refused approvals read is a warning naming the permission, not a failure', async () => {
    const warnings: string[] = [];
    const err = Object.assign(new Error('VS402904: Access denied'), {
      statusCode: 403,
      result: { message: 'VS402904: Access denied' },
    });
    const g = createReleaseGovernance({
      context: release,
      azureml: {} as AzureMLContext,
      log: { info() {}, warning: (m) => warnings.push(m) },
      updateReleaseName() {},
      devops: fakeConn(err),
    })!;
    assert.deepEqual(await g.approvals(), []);
    assert.match(
      warnings[0] ?? '',
      /Approvals of release Release-12 not recorded: Permission missing .*grant 'View releases'/,
    );
  });
});

describe('model card', () => {
  test('a registry version: its URI, the workspace it was promoted from, the training job linked there', () => {
    const src =
      '/subscriptions/dev-sub/resourceGroups/rg-dev/providers/Microsoft.MachineLearningServices/workspaces/mlw-dev/models/churn/versions/7';
    const md = modelCardMarkdown({
      ws,
      model: { name: 'churn', version: '3', registry: 'mlreg' },
      context: {},
      version: {
        name: '3',
        properties: {
          modelType: 'mlflow_model',
          jobName: 'train-9',
          properties: { 'azureml-devops.sourceModel': src },
          tags: { 'azdo.buildId': '42', 'azdo.pipeline': 'ci' },
        },
      } as any,
    });
    assert.match(
      md,
      /\| Model \| `azureml:\/\/registries\/mlreg\/models\/churn\/versions\/3` \(registry mlreg, mlflow\\_model\) \|/,
    );
    assert.match(
      md,
      /\| Promoted from \| \[workspace mlw-dev, churn:7\]\(https:\/\/ml\.azure\.com\/model\/churn:7\/details\?wsid=\/subscriptions\/dev-sub\/resourcegroups\/rg-dev\/workspaces\/mlw-dev/i,
    );
    assert.match(
      md,
      /\| Training job \| \[train-9\]\(https:\/\/ml\.azure\.com\/runs\/train-9\?wsid=\/subscriptions\/dev-sub\//,
    );
    assert.match(md, /\| Build \| ci \|/, 'the lineage tags carried by promote');
    // no source recorded: the job is named, not linked to the deployment's workspace (where it does not run)
    const bare = modelCardMarkdown({
      ws,
      model: { name: 'churn', version: '3', registry: 'mlreg' },
      context: {},
      version: { name: '3', properties: { jobName: 'train-9' } } as any,
    });
    assert.match(bare, /\| Training job \| train-9 \|/);
    assert.doesNotMatch(bare, /Promoted from/);
  });
  test('lineage, metrics vs production, smoke test, approvals, links', () => {
    const md = modelCardMarkdown({
      ws,
      model: { name: 'churn', version: '3' },
      context: { releaseName: 'Release-12', stageName: 'staging', releaseUrl: 'https://r/12' },
      version: {
        name: '3',
        properties: {
          modelType: 'mlflow_model',
          description: 'gbm | v3',
          modelUri: 'azureml://x',
          tags: {
            'azdo.pipeline': 'ci',
            'azdo.buildId': '42',
            'azdo.buildUrl': 'https://b/42',
            'azdo.commit': 'abcdef1234567890',
            'azdo.repository': 'repo',
          },
        },
      } as any,
      job: {
        name: 'train-1',
        displayName: 'train',
        status: 'Completed',
        inputs: [{ name: 'training_data', uri: 'azureml:churn-data:2' }],
      },
      evaluation: {
        message: 'Better.',
        results: [
          {
            name: 'auc',
            direction: 'higher',
            candidate: 0.9,
            baseline: 0.85,
            delta: 0.05,
            relative: 5.88,
            passed: true,
            reason: 'better than production',
          },
          { name: 'latency', candidate: 12, passed: false, reason: 'production has no value' },
        ],
      },
      deployment: {
        endpointName: 'ep',
        deploymentName: 'churn-v3',
        trafficAfter: { 'churn-v3': 100 },
        smoke: { requests: 5, ok: 5, errors: 0, p50Ms: 10.4, p95Ms: 20.6, maxMs: 22 },
      },
      approvals: [{ approver: 'Bob', approvedOn: '2026-11-22T08:00:00.000Z', comments: 'go' }],
    });
    assert.match(md, /^### Model card: churn:3\n/);
    assert.match(md, /gbm \\\| v3/, 'markdown escaped');
    assert.match(md, /\| Build \| \[ci 42\]\(https:\/\/b\/42\) \|/);
    assert.match(md, /\| Commit \| repo `abcdef123456` \|/);
    assert.match(
      md,
      /\| Training job \| \[train \(train-1\)\]\(https:\/\/ml\.azure\.com\/runs\/train-1\?wsid=.*\), Completed \|/,
    );
    assert.match(md, /\| Data: training\\_data \| `azureml:churn-data:2` \|/);
    assert.match(
      md,
      /\| auc \(higher is better\) \| 0\.9 \| 0\.85 \| \+0\.05 \(5\.88% better\) \| ✅ better than production \|/,
    );
    assert.match(md, /\| latency \| 12 \| – \| – \| ❌ production has no value \|/);
    assert.match(md, /\| Smoke test \| 5\/5 ok, p50 10 ms, p95 21 ms, max 22 ms \|/);
    assert.match(md, /\| Bob \| 2026-11-22T08:00:00\.000Z \| go \|/);
    assert.match(md, /\| Release \| \[Release-12\]\(https:\/\/r\/12\), stage staging \|/);
  });
  test('without evaluation or deployment: says so', () => {
    const md = modelCardMarkdown({ ws, model: { name: 'm', version: '1' }, context: {} });
    assert.match(md, /No evaluation available/);
    assert.match(md, /Not deployed yet/);
    assert.match(md, /\| Build \| not registered by a pipeline \|/);
  });
  test('readEvaluationFile: first usable candidate; a foreign file is a warning', () => {
    const warnings: string[] = [];
    assert.equal(
      readEvaluationFile([undefined, false, '/no/such/file.json'], (m) => warnings.push(m)),
      undefined,
    );
    assert.equal(
      readEvaluationFile([__filename], (m) => warnings.push(m)),
      undefined,
    );
    assert.match(warnings[0] ?? '', /could not be read/);
  });
});
