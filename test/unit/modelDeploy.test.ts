// AzureMLModelDeploy@1 logic with injected fakes: traffic steps, percentiles, default names, rollback plans,
// expected-response matching, the release artifact model, the rollout / rollback sequence, and every corpus
// online deployment YAML going through the task's own parsing and planning.
import { test, describe } from 'node:test';
import { CORPUS_TEMPLATE_VARS } from '../helpers/corpus';
import assert from 'node:assert/strict';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { InputError } from '../../src/pipeline/errors';
import { releaseArtifacts } from '../../src/pipeline/releaseArtifacts';
import {
  checkMirrorInputs,
  judgeMirrorLog,
  mirrorRequestCount,
  newLogLines,
  RolloutFailed,
  defaultDeploymentName,
  deployModel,
  deploySummary,
  isoDurationMs,
  latencyProfile,
  modelFromRelease,
  parseExpectedResponse,
  parseTrafficSteps,
  percentile,
  rollbackTraffic,
  sameTraffic,
  stepTraffic,
  type ComputeInfo,
  type DeployInputs,
  type DeployOps,
  type Governance,
  type PlanningResolver,
} from '../../src/tasks/modelDeploy';
import type { DeploymentInfo, EndpointInfo, ScoreResult } from '../../src/azureml/endpoints';
import { parseOnlineDeploymentYaml } from '../../src/azureml/deploymentSpec';

const CORPUS = path.resolve(
  import.meta.dirname,
  '..',
  'fixtures',
  'third-party',
  'azureml-examples',
  'cli',
  'endpoints',
  'online',
);

describe('traffic steps', () => {
  test('valid lists', () => {
    assert.deepEqual(parseTrafficSteps('10,50,100'), [10, 50, 100]);
    assert.deepEqual(parseTrafficSteps(' 25%; 100% '), [25, 100]);
    assert.deepEqual(parseTrafficSteps('1\n100'), [1, 100]);
    assert.deepEqual(parseTrafficSteps(''), [100]);
    assert.deepEqual(parseTrafficSteps(undefined), [100]);
  });
  test('bad lists name the input', () => {
    for (const [t, re] of [
      ['10,50', /last step must be 100/],
      ['50,10,100', /must increase/],
      ['10,10,100', /must increase/],
      ['0,100', /not between 1 and 100/],
      ['10,101', /not between 1 and 100/],
      ['ten,100', /not a whole percentage/],
      ['12.5,100', /not a whole percentage/],
    ] as const) {
      assert.throws(
        () => parseTrafficSteps(t),
        (e: unknown) => e instanceof InputError && e.input === 'trafficSteps' && re.test(e.message),
        t,
      );
    }
  });
});

describe('latency', () => {
  test('nearest-rank percentiles', () => {
    const v = Array.from({ length: 20 }, (_, i) => 20 - i); // 20..1, unsorted on purpose
    assert.equal(percentile(v, 50), 10);
    assert.equal(percentile(v, 95), 19);
    assert.equal(percentile(v, 100), 20);
    assert.equal(percentile([7], 95), 7);
    assert.equal(percentile([], 50), undefined);
    assert.equal(percentile([1, 2, 3, 4], 50), 2);
    assert.equal(percentile([1, 2, 3, 4], 75), 3);
  });
  test('profile counts errors and keeps the first one', () => {
    const p = latencyProfile([
      { ms: 10, ok: true },
      { ms: 30, ok: false, error: 'HTTP 424' },
      { ms: 20, ok: true },
    ]);
    assert.deepEqual(p, {
      requests: 3,
      ok: 2,
      errors: 1,
      p50Ms: 20,
      p95Ms: 30,
      maxMs: 30,
      meanMs: 20,
      firstError: 'HTTP 424',
    });
  });
});

describe('traffic maps', () => {
  test('steps split the rest by the current weights, always summing to 100', () => {
    assert.deepEqual(stepTraffic({ blue: 100 }, 'green', 10), { blue: 90, green: 10 });
    assert.deepEqual(stepTraffic({ blue: 100 }, 'green', 100), { blue: 0, green: 100 });
    assert.deepEqual(stepTraffic({ a: 50, b: 50 }, 'c', 10), { a: 45, b: 45, c: 10 });
    const odd = stepTraffic({ a: 33, b: 67, old: 0 }, 'n', 10);
    assert.equal(
      Object.values(odd).reduce((x, y) => x + y, 0),
      100,
    );
    assert.deepEqual(odd, { a: 30, b: 60, old: 0, n: 10 });
    assert.deepEqual(stepTraffic({}, 'n', 10), { n: 100 }, 'nothing else serving: straight to 100');
    assert.deepEqual(stepTraffic({ n: 0, blue: 100 }, 'n', 50), { n: 50, blue: 50 });
  });
  test('rollback plan: back to the saved map, nothing when already there', () => {
    assert.equal(rollbackTraffic({ blue: 100 }, { blue: 100, green: 0 }, ['blue', 'green']), undefined);
    assert.deepEqual(rollbackTraffic({ blue: 100 }, { blue: 50, green: 50 }, ['blue', 'green']), {
      traffic: { blue: 100, green: 0 },
      dropped: [],
    });
    assert.deepEqual(rollbackTraffic({}, { green: 100 }, ['green']), { traffic: { green: 0 }, dropped: [] });
    assert.deepEqual(rollbackTraffic({ blue: 70, red: 30 }, { green: 100 }, ['green', 'red']), {
      traffic: { red: 30, green: 0 },
      dropped: ['blue'],
    });
    assert.ok(sameTraffic({ Blue: 100, x: 0 }, { blue: 100 }));
    assert.ok(!sameTraffic({ blue: 90, green: 10 }, { blue: 100 }));
  });
});

test('default deployment names: <model>-v<version>, 3-32 chars, letter first', () => {
  assert.equal(defaultDeploymentName('churn', '1'), 'churn-v1');
  assert.equal(defaultDeploymentName('Credit_Default.Model', '12'), 'credit-default-model-v12');
  assert.equal(defaultDeploymentName('2024-model', '3'), 'm-2024-model-v3');
  const long = defaultDeploymentName('a-very-long-model-name-that-goes-on-and-on', '123');
  assert.ok(long.length <= 32 && long.endsWith('-v123'), long);
  const v = defaultDeploymentName('m', '2024.11.22-rc1_build_77');
  assert.match(v, /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/);
  for (const n of [long, v, defaultDeploymentName('x', 'y'), defaultDeploymentName('__', '--')])
    assert.match(n, /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/, n);
});

describe('expected response', () => {
  test('substring, regex and JSON subset', () => {
    const s = parseExpectedResponse('6.5')!;
    assert.equal(s.kind, 'substring');
    assert.equal(s.check('{"predictions":[6.5]}'), undefined);
    assert.match(s.check('{"predictions":[7.5]}')!, /does not contain "6\.5"/);
    const r = parseExpectedResponse('/"predictions":\\s*\\[\\d/i')!;
    assert.equal(r.kind, 'regex');
    assert.equal(r.check('{"PREDICTIONS": [1]}'), undefined);
    assert.ok(r.check('{"predictions": []}'));
    const j = parseExpectedResponse('{"predictions": [6.5, 6.5], "meta": {"ok": true}}')!;
    assert.equal(j.kind, 'json');
    assert.equal(j.check('{"predictions":[6.5,6.5],"meta":{"ok":true,"extra":1},"other":2}'), undefined);
    assert.equal(
      j.check(JSON.stringify(JSON.stringify({ predictions: [6.5, 6.5], meta: { ok: true } }))),
      undefined,
      'JSON inside a JSON string',
    );
    assert.match(j.check('{"predictions":[6.5,7],"meta":{"ok":true}}')!, /predictions\[1\]: expected 6\.5, got 7/);
    assert.match(j.check('{"predictions":[6.5,6.5]}')!, /meta: missing/);
    assert.match(j.check('not json')!, /not JSON/);
    assert.equal(parseExpectedResponse('  '), undefined);
  });
  test('bad JSON / regex are input errors', () => {
    assert.throws(
      () => parseExpectedResponse('{"a": '),
      (e: unknown) => e instanceof InputError && e.input === 'expectedResponse' && /not valid JSON/.test(e.message),
    );
    assert.throws(
      () => parseExpectedResponse('/(unclosed/'),
      (e: unknown) => e instanceof InputError && /regular expression/.test(e.message),
    );
  });
});

test('model from the release artifact variables', () => {
  const vars: Record<string, string> = {
    'Release.Artifacts.churn.DefinitionName': 'churn',
    'Release.Artifacts.churn.BuildNumber': '7',
    'Release.Artifacts.churn.Type': 'AzureMLModel',
    'Release.Artifacts.app.DefinitionName': 'app-ci',
    'Release.Artifacts.app.BuildNumber': '20261122.1',
    'Release.Artifacts.app.Type': 'Build',
  };
  const get = (n: string) => vars[n];
  assert.deepEqual(modelFromRelease(get, 'churn'), { alias: 'churn', name: 'churn', version: '7' });
  assert.throws(
    () => modelFromRelease(get, 'nope'),
    (e: unknown) => e instanceof InputError && e.input === 'modelArtifactAlias',
  );
  assert.equal(modelFromRelease(get, undefined), undefined, 'no alias and no primary alias');
  assert.deepEqual(
    modelFromRelease((n) => (n === 'Release.PrimaryArtifactSourceAlias' ? 'churn' : get(n)), undefined),
    { alias: 'churn', name: 'churn', version: '7' },
  );
  assert.equal(
    modelFromRelease((n) => (n === 'Release.PrimaryArtifactSourceAlias' ? 'app' : get(n)), undefined),
    undefined,
    'a build artifact is not a model',
  );
  assert.deepEqual(modelFromRelease(get, undefined, [{ alias: 'app' }, { alias: 'churn' }]), {
    alias: 'churn',
    name: 'churn',
    version: '7',
  });
});

describe('release artifacts from the agent environment', () => {
  // what the agent exports for a release whose primary artifact is the scoring code's Git repository
  const env = {
    RELEASE_PRIMARYARTIFACTSOURCEALIAS: '_scoring-repo',
    'RELEASE_ARTIFACTS__SCORING-REPO_TYPE': 'Git',
    'RELEASE_ARTIFACTS__SCORING-REPO_DEFINITIONNAME': 'scoring',
    'RELEASE_ARTIFACTS__SCORING-REPO_BUILDNUMBER': '4f2a9c1',
    'RELEASE_ARTIFACTS__SCORING-REPO_REPOSITORY_PROVIDER': 'TfsGit',
    'RELEASE_ARTIFACTS_CHURN-MODEL_V2_TYPE': 'AzureMLModel',
    'RELEASE_ARTIFACTS_CHURN-MODEL_V2_DEFINITIONNAME': 'churn',
    'RELEASE_ARTIFACTS_CHURN-MODEL_V2_BUILDNUMBER': '7',
    BUILD_BUILDNUMBER: '4f2a9c1',
    PATH: '/usr/bin',
  } as Record<string, string>;
  const getVar = (e: Record<string, string>) => (n: string) => e[n.replace(/[. ]/g, '_').toUpperCase()];
  test('every artifact with its type, definition and version; the primary spelt as in the release', () => {
    assert.deepEqual(releaseArtifacts(env), [
      { alias: '_scoring-repo', type: 'Git', definitionName: 'scoring', buildNumber: '4f2a9c1' },
      { alias: 'CHURN-MODEL_V2', type: 'AzureMLModel', definitionName: 'churn', buildNumber: '7' },
    ]);
    assert.deepEqual(releaseArtifacts({ PATH: '/bin' }), []);
  });
  test('the model artifact is found when the primary artifact is a Git repository', () => {
    assert.deepEqual(modelFromRelease(getVar(env), undefined, releaseArtifacts(env)), {
      alias: 'CHURN-MODEL_V2',
      name: 'churn',
      version: '7',
    });
  });
  test('several model artifacts: modelArtifactAlias must choose, and they are listed', () => {
    const two = {
      ...env,
      RELEASE_ARTIFACTS_FRAUD_TYPE: 'AzureMLModel',
      RELEASE_ARTIFACTS_FRAUD_DEFINITIONNAME: 'fraud',
      RELEASE_ARTIFACTS_FRAUD_BUILDNUMBER: '3',
    };
    assert.throws(
      () => modelFromRelease(getVar(two), undefined, releaseArtifacts(two)),
      (e: unknown) =>
        e instanceof InputError &&
        e.input === 'modelArtifactAlias' &&
        /2 Azure ML model artifacts \('CHURN-MODEL_V2' = churn:7, 'FRAUD' = fraud:3\): set modelArtifactAlias/.test(
          e.message,
        ),
    );
    assert.deepEqual(modelFromRelease(getVar(two), 'fraud', releaseArtifacts(two)), {
      alias: 'fraud',
      name: 'fraud',
      version: '3',
    });
  });
  test('no Type anywhere: the primary artifact, as before', () => {
    const untyped = Object.fromEntries(Object.entries(env).filter(([k]) => !k.endsWith('_TYPE')));
    assert.deepEqual(modelFromRelease(getVar(untyped), undefined, releaseArtifacts(untyped)), {
      alias: '_scoring-repo',
      name: 'scoring',
      version: '4f2a9c1',
    });
  });
});

// ------------------------------------------------------------------------------------------------ fake Azure

const WS = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w';

class FakeAzure implements DeployOps {
  ws = {
    subscriptionId: 's',
    resourceGroup: 'rg',
    workspace: 'w',
    armUrl: 'https://arm.example/',
    scope: 'x/.default',
  };
  endpoints = new Map<string, EndpointInfo>();
  deployments = new Map<string, DeploymentInfo & { body?: any }>();
  calls: string[] = [];
  trafficHistory: Array<Record<string, number>> = [];
  computes: Record<string, ComputeInfo> = {
    'k8s-compute': {
      id: `${WS}/computes/k8s-compute`,
      name: 'k8s-compute',
      computeType: 'Kubernetes',
      instanceTypes: ['defaultinstancetype', 'cpu2'],
    },
  };
  /** answers by deployment name */
  answer: (dep: string) => ScoreResult = (dep) => ({
    status: 200,
    body: JSON.stringify({ predictions: [6.5], dep }),
    ms: 5,
    servedBy: dep,
  });
  failTrafficAt?: number;
  onSetTraffic?: (t: Record<string, number>) => void;
  restoreSignals: Array<AbortSignal | undefined> = [];
  routed = 0;
  models = new Set(['churn:1', 'churn:2']);
  async location() {
    return 'eastus';
  }
  async getCompute(n: string) {
    return this.computes[n];
  }
  async getEndpoint(n: string) {
    const e = this.endpoints.get(n);
    return e ? structuredClone(e) : undefined;
  }
  async createEndpoint(n: string, body: any) {
    this.calls.push(`create endpoint ${n}`);
    const e: EndpointInfo = {
      name: n,
      kind: body.properties.compute ? 'Kubernetes' : 'Managed',
      authMode: body.properties.authMode,
      compute: body.properties.compute,
      traffic: {},
      provisioningState: 'Succeeded',
      scoringUri: `https://${n}.score/score`,
      tags: body.tags ?? {},
    };
    this.endpoints.set(n, e);
    return structuredClone(e);
  }
  async updateEndpoint(n: string, ch: any) {
    this.calls.push(`update endpoint ${n}`);
    const e = this.endpoints.get(n)!;
    Object.assign(e, ch);
    return structuredClone(e);
  }
  async listDeployments(ep: string) {
    return [...this.deployments.values()].filter((d) => (d as any).ep === ep).map((d) => structuredClone(d));
  }
  async getDeployment(ep: string, n: string) {
    const d = this.deployments.get(`${ep}/${n}`);
    return d ? structuredClone(d) : undefined;
  }
  async putDeployment(ep: string, n: string, body: any) {
    this.calls.push(`put deployment ${n}`);
    const p = body.properties;
    const d = {
      ep,
      name: n,
      kind: p.endpointComputeType,
      provisioningState: 'Succeeded',
      model: p.model,
      codeId: p.codeConfiguration?.codeId,
      scoringScript: p.codeConfiguration?.scoringScript,
      environmentId: p.environmentId,
      instanceType: p.instanceType,
      instanceCount: body.sku?.capacity,
      environmentVariables: p.environmentVariables,
      livenessProbe: p.livenessProbe,
      readinessProbe: p.readinessProbe,
      requestSettings: p.requestSettings,
      tags: body.tags ?? {},
      body,
    };
    this.deployments.set(`${ep}/${n}`, d as any);
    return structuredClone(d) as DeploymentInfo;
  }
  async updateDeploymentTags(ep: string, n: string, tags: Record<string, string>) {
    this.calls.push(`patch tags ${n}`);
    const d = this.deployments.get(`${ep}/${n}`)!;
    d.tags = { ...tags };
    return structuredClone(d) as DeploymentInfo;
  }
  async deleteDeployment(ep: string, n: string) {
    this.calls.push(`delete deployment ${n}`);
    this.deployments.delete(`${ep}/${n}`);
    delete this.endpoints.get(ep)!.traffic[n];
  }
  async setTraffic(ep: string, t: Record<string, number>, signal?: AbortSignal) {
    if (signal) this.restoreSignals.push(signal);
    this.calls.push(`traffic ${JSON.stringify(t)}`);
    this.trafficHistory.push({ ...t });
    if (this.failTrafficAt !== undefined && this.trafficHistory.length === this.failTrafficAt)
      throw new Error('Conflict (endpoint busy)');
    this.endpoints.get(ep)!.traffic = { ...t };
    this.onSetTraffic?.(t);
    return { ...t };
  }
  mirror: Record<string, number> = {};
  mirrorHistory: Array<Record<string, number>> = [];
  onSetMirror?: (m: Record<string, number>) => void;
  /** container log lines per deployment (the fixed two lines come first) */
  depLogs = new Map<string, string[]>();
  async setMirrorTraffic(_ep: string, m: Record<string, number>, signal?: AbortSignal) {
    if (signal) this.restoreSignals.push(signal);
    this.calls.push(`mirror ${JSON.stringify(m)}`);
    this.mirrorHistory.push({ ...m });
    this.mirror = { ...m };
    this.onSetMirror?.(m);
    return { ...m };
  }
  async credential(_ep: string, _mode: string) {
    return 'fake-key-123456';
  }
  async logs(_ep: string, dep: string) {
    return [`log line of ${dep}`, 'Traceback: boom', ...(this.depLogs.get(dep) ?? [])].join('\n');
  }
  async score(_uri: string, _body: string, o: { deployment?: string }) {
    let dep = o.deployment;
    if (!dep) {
      const t = [...Object.entries(this.endpoints.values().next().value!.traffic)].filter(([, v]) => v > 0);
      dep = t[this.routed++ % t.length]![0];
      // every request is copied (a fake with 100 % mirroring): the copy's answer goes only to its log
      for (const [m, pct] of Object.entries(this.mirror)) {
        if (!pct) continue;
        const a = this.answer(m);
        const lines = this.depLogs.get(m) ?? [];
        if (a.status >= 500)
          lines.push(
            `2024-01-01 00:00:${String(lines.length).padStart(2, '0')} E [1] azmlinfsrv - Encountered Exception: Traceback (most recent call last):`,
            '  File "score.py", line 9, in run',
            "KeyError: 'age'",
          );
        lines.push(
          `2024-01-01 00:00:${String(lines.length).padStart(2, '0')} I [1] azmlinfsrv - 127.0.0.1 "POST /score HTTP/1.1" ${a.status} -`,
        );
        this.depLogs.set(m, lines);
      }
    }
    return this.answer(dep);
  }
  resolver(): PlanningResolver {
    const { models, calls } = this;
    return {
      wsPath: WS,
      pendingWrites: [],
      async uploadCode(p: string) {
        return `${WS}/codes/${path.basename(p)}-hash/versions/1`;
      },
      async ensureEnvironment(e) {
        return `${WS}/environments/${e.name ?? 'CliV2AnonymousEnvironment'}/versions/h`;
      },
      async resolveAsset(kind, ref) {
        const [n, v] = ref.replace(/^azureml:/, '').split(/[:@]/);
        if (kind === 'models' && !models.has(`${n}:${v === 'latest' ? '2' : v}`))
          throw new (await import('../../src/pipeline/errors')).UserError(`model ${ref} not found in workspace 'w'`);
        return `${WS}/${kind}/${n}/versions/${v === 'latest' ? '2' : v}`;
      },
      async computeId(n) {
        return `${WS}/computes/${n}`;
      },
      async ensureModel(m) {
        return `${WS}/models/${m.name ?? 'anonymous-model'}/versions/${m.version ?? '1'}`;
      },
      async commit() {
        calls.push('commit assets');
      },
    };
  }
}

function world(): { cwd: string } {
  const cwd = mkdtempSync(path.join(tmpdir(), 'deploy-unit-'));
  mkdirSync(path.join(cwd, 'code'));
  writeFileSync(path.join(cwd, 'code', 'score.py'), 'def init(): pass\ndef run(d): return d\n');
  writeFileSync(path.join(cwd, 'req.json'), '{"data": [[1, 2, 3]]}');
  return { cwd };
}

const log = () => {
  const lines: string[] = [];
  return {
    lines,
    log: {
      info: (m: string) => lines.push(m),
      warning: (m: string) => lines.push(`WARN ${m}`),
      debug: () => undefined,
    },
  };
};

function base(extra: Partial<DeployInputs> = {}): DeployInputs {
  return {
    endpointName: 'ep1',
    endpointType: 'managed',
    authMode: 'key',
    model: 'azureml:churn:2',
    environment: 'azureml:env:1',
    codePath: 'code',
    scoringScript: 'score.py',
    sampleRequestFile: 'req.json',
    smokeRequests: 4,
    healthCheckRequests: 2,
    ...extra,
  };
}

async function withLive(az: FakeAzure) {
  az.endpoints.set('ep1', {
    name: 'ep1',
    kind: 'Managed',
    authMode: 'Key',
    traffic: { 'churn-v1': 100 },
    provisioningState: 'Succeeded',
    scoringUri: 'https://ep/score',
    tags: {},
  });
  await az.putDeployment('ep1', 'churn-v1', {
    properties: { endpointComputeType: 'Managed', model: `${WS}/models/churn/versions/1` },
    sku: { capacity: 1 },
  });
  az.calls = [];
}

describe('rollout with fakes', () => {
  test('new endpoint: created, deployment at 0 %, smoke test, straight to 100 %, governance tags + hook', async () => {
    const az = new FakeAzure();
    const { cwd } = world();
    const l = log();
    const deployed: unknown[] = [];
    const governance: Governance = {
      approvals: async () => [{ approver: 'Grace Hopper', approvedOn: '2026-11-22T08:00:00Z', comments: 'ship it' }],
      onDeployed: async (i) => {
        deployed.push(i);
      },
    };
    const r = await deployModel(base({ trafficSteps: '10,50,100' }), {
      ops: az,
      log: l.log,
      progress: () => undefined,
      context: { releaseId: '9', releaseName: 'Release-9', stageName: 'prod' },
      cwd,
      governance,
    });
    assert.deepEqual(az.calls, [
      'create endpoint ep1',
      'commit assets',
      'put deployment churn-v2',
      'traffic {"churn-v2":100}',
    ]);
    assert.equal(r.deploymentName, 'churn-v2');
    assert.deepEqual(r.trafficAfter, { 'churn-v2': 100 });
    assert.equal(r.smoke?.requests, 4);
    assert.equal(r.endpointKey, 'fake-key-123456');
    const tags = az.deployments.get('ep1/churn-v2')!.tags;
    assert.equal(tags['azdo.approvedBy'], 'Grace Hopper');
    assert.equal(tags['azdo.approvedOn'], '2026-11-22T08:00:00Z');
    assert.equal(tags['azdo.approvalComments'], 'ship it');
    assert.equal(tags['azureml-devops.modelId'], 'azureml:churn:2');
    assert.equal(tags['azdo.stage'], 'prod');
    assert.equal(deployed.length, 1);
  });

  test('blue/green steps over a live deployment, old one deleted', async () => {
    const az = new FakeAzure();
    const { cwd } = world();
    await withLive(az);
    const r = await deployModel(base({ trafficSteps: '10,50,100', deleteOldDeployment: true }), {
      ops: az,
      log: log().log,
      progress: () => undefined,
      context: {},
      cwd,
    });
    assert.deepEqual(az.trafficHistory, [
      { 'churn-v1': 90, 'churn-v2': 10 },
      { 'churn-v1': 50, 'churn-v2': 50 },
      { 'churn-v1': 0, 'churn-v2': 100 },
    ]);
    assert.deepEqual(r.deleted, ['churn-v1']);
    assert.equal(r.steps.length, 3);
    assert.ok(r.steps.every((s) => s.health?.errors === 0));
  });

  test("managed endpoint: each step reads the deployment's metrics and production's in the same window, and fails on them; a failed read only warns", async () => {
    const az = new FakeAzure();
    const { cwd } = world();
    await withLive(az);
    const l = log();
    const reads: string[] = [];
    const windows: Array<{ since: Date; until?: Date }> = [];
    const h = (requests: number, errors: number) => ({
      requests,
      byStatus: { 200: requests - errors, ...(errors ? { 424: errors } : {}) },
      byClass: {},
      errors,
      errorPercent: requests ? Math.round((errors / requests) * 1000) / 10 : undefined,
      p95Ms: 12,
      p99Ms: 20,
      activeMinutes: 1,
      windowStart: new Date(),
      windowEnd: new Date(),
      reads: 2,
    });
    // new deployment, step 10 %: clean; step 50 %: 3 of 20 failed; production (churn-v1) clean: 20 requests per step
    (az as DeployOps).metrics = async (ep, dep, w) => {
      reads.push(`${ep}/${dep}`);
      windows.push(w);
      return dep === 'churn-v1' ? h(20, 0) : reads.length === 1 ? h(5, 0) : h(20, 3);
    };
    await assert.rejects(
      deployModel(base({ trafficSteps: '10,50,100' }), {
        ops: az,
        log: l.log,
        progress: () => undefined,
        context: {},
        cwd,
      }),
      /Error: Metrics at 50%: error share 15% \(3 of 20 request\(s\) answered 5xx, 424 or 408\) is above production's 0% \(churn-v1: 0 of 20 request\(s\), the same window\) \+ maxFailurePercent 0%; traffic restored to churn-v1 100%/,
    );
    assert.deepEqual(reads, ['ep1/churn-v2', 'ep1/churn-v1', 'ep1/churn-v2', 'ep1/churn-v1']);
    for (const i of [0, 2]) {
      assert.ok(windows[i]!.until instanceof Date && windows[i]!.since <= windows[i]!.until!, 'a closed window');
      assert.deepEqual(windows[i + 1], windows[i], 'production is read for the same window');
    }
    assert.ok(windows[2]!.since >= windows[0]!.until!, 'each step its own window');
    assert.ok(
      l.lines.includes(
        'Metrics at 10%: production (churn-v1) served 20 request(s) (200: 20), p95 12 ms, p99 20 ms in the same window',
      ),
      l.lines.join('\n'),
    );
    assert.ok(
      l.lines.some((x) =>
        /^Metrics at 10%: deployment churn-v2 served 5 request\(s\) \(200: 5\), p95 12 ms, p99 20 ms → PASSED: no worse than production: error share 0% ≤ production's 0%/.test(
          x,
        ),
      ),
      l.lines.join('\n'),
    );
    assert.deepEqual(
      Object.fromEntries(Object.entries(az.endpoints.get('ep1')!.traffic).filter(([, v]) => v > 0)),
      { 'churn-v1': 100 },
      'rolled back',
    );
    // a 403 on the metrics: warned, the rollout goes on (production is not read when the deployment's own read failed)
    const az2 = new FakeAzure();
    await withLive(az2);
    const l2 = log();
    let reads2 = 0;
    (az2 as DeployOps).metrics = async () => {
      reads2++;
      throw new Error(
        "The service connection's identity lacks permission (Azure Monitor metric RequestsPerMinute): AuthorizationFailed",
      );
    };
    const r = await deployModel(base({ trafficSteps: '50,100' }), {
      ops: az2,
      log: l2.log,
      progress: () => undefined,
      context: {},
      cwd,
    });
    assert.deepEqual(r.trafficAfter, { 'churn-v1': 0, 'churn-v2': 100 });
    assert.equal(reads2, 2);
    assert.equal(
      l2.lines.filter((x) =>
        /^WARN Metrics at (50|100)%: could not read the deployment's Azure Monitor metrics \(.*AuthorizationFailed\); the step is judged by its probes$/.test(
          x,
        ),
      ).length,
      2,
    );
  });

  test("no worse than production: an erroring production does not fail a new deployment that errs as much; at 100 % the last step's production window stands in", async () => {
    const az = new FakeAzure();
    const { cwd } = world();
    await withLive(az);
    const l = log();
    const h = (requests: number, errors: number) => ({
      requests,
      byStatus: { 200: requests - errors, ...(errors ? { 424: errors } : {}) },
      byClass: {},
      errors,
      errorPercent: requests ? Math.round((errors / requests) * 1000) / 10 : undefined,
      p95Ms: 12,
      p99Ms: 20,
      activeMinutes: 1,
      windowStart: new Date(),
      windowEnd: new Date(),
      reads: 2,
    });
    let step = 0;
    // 50 %: both fail 3 of 20; 100 %: the new one fails 6 of 40, production served only 2 requests in that window
    (az as DeployOps).metrics = async (_ep, dep) => {
      if (dep === 'churn-v2') step++;
      return step === 1 ? h(20, 3) : dep === 'churn-v2' ? h(40, 6) : h(2, 0);
    };
    const r = await deployModel(base({ trafficSteps: '50,100' }), {
      ops: az,
      log: l.log,
      progress: () => undefined,
      context: {},
      cwd,
    });
    assert.deepEqual(r.trafficAfter, { 'churn-v1': 0, 'churn-v2': 100 });
    assert.equal(r.steps[0]!.metrics?.verdict, 'passed');
    assert.equal(
      r.steps[0]!.metrics?.rule,
      "no worse than production: error share 15% ≤ production's 15% (churn-v1: 3 of 20 request(s), the same window) + maxFailurePercent 0%",
    );
    assert.equal(
      r.steps[1]!.metrics?.rule,
      "no worse than production: error share 15% ≤ production's 15% (churn-v1: 3 of 20 request(s), the 50% step's window) + maxFailurePercent 0%",
    );
    assert.deepEqual(r.steps[1]!.metrics?.production, {
      deployments: ['churn-v1'],
      window: "the 50% step's window",
      requests: 20,
      errors: 3,
      errorPercent: 15,
      p95Ms: 12,
      p99Ms: 20,
    });
    assert.match(
      deploySummary(r),
      /\| 2: 100% \| .* metrics \(40 request\(s\), 6 error\(s\)\) PASSED: no worse than production: error share 15% ≤ production's 15% \(churn-v1: 3 of 20 request\(s\), the 50% step's window\)/,
    );
    // without production (no other deployment served) the thresholds apply as set: the same 15 % fails
    const az2 = new FakeAzure();
    (az2 as DeployOps).metrics = async () => h(20, 3);
    await assert.rejects(
      deployModel(base({ trafficSteps: '50,100' }), {
        ops: az2,
        log: log().log,
        progress: () => undefined,
        context: {},
        cwd,
      }),
      /Metrics at 100%: error share 15% \(3 of 20 request\(s\) answered 5xx, 424 or 408\) is above maxFailurePercent 0%;/,
    );
  });

  test('smoke-test failure: no traffic change at all, logs printed', async () => {
    const az = new FakeAzure();
    const { cwd } = world();
    await withLive(az);
    const l = log();
    az.answer = (dep) =>
      dep === 'churn-v2'
        ? { status: 424, body: '{"error":"bad"}', ms: 3 }
        : { status: 200, body: '{}', ms: 3, servedBy: dep };
    await assert.rejects(
      deployModel(base({ trafficSteps: '10,100' }), {
        ops: az,
        log: l.log,
        progress: () => undefined,
        context: {},
        cwd,
      }),
      /Smoke test of deployment churn-v2 failed: failure rate 100% \(4 of 4 conclusive probe\(s\)\) is above maxFailurePercent 0% \(first: HTTP 424: \{"error":"bad"\}\); traffic unchanged \(churn-v1 100%\)/,
    );
    assert.deepEqual(az.trafficHistory, []);
    assert.ok(l.lines.includes('Traceback: boom'));
  });

  test("transient errors are retried, not failures: the rollout goes on; log and summary give each step's counts and verdict", async () => {
    const az = new FakeAzure();
    const { cwd } = world();
    await withLive(az);
    const l = log();
    const real = az.score.bind(az);
    let n = 0;
    az.score = async (u, b, o) =>
      ++n % 3 === 0
        ? { status: 0, body: '', ms: 1, error: 'socket hang up' }
        : n % 5 === 0
          ? { status: 429, body: '', ms: 1, retryAfterMs: 2000 }
          : real(u, b, o);
    const waits: number[] = [];
    const r = await deployModel(base({ trafficSteps: '50,100' }), {
      ops: az,
      log: l.log,
      progress: () => undefined,
      context: {},
      cwd,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    assert.deepEqual(r.trafficAfter, { 'churn-v1': 0, 'churn-v2': 100 });
    const a = r.smokeAnalysis!;
    assert.deepEqual([a.probes, a.passed, a.failed, a.verdict], [4, 4, 0, 'passed']);
    assert.deepEqual(a.inconclusiveBy, { connection: 2, throttled: 1 }, 'attempts 3 and 6 (drop) and 5 (429)');
    assert.ok(waits.includes(2000), `Retry-After honoured: ${waits}`);
    assert.ok(
      l.lines.some((x) =>
        /^ {2}probe \d\/4 attempt 1 inconclusive \(HTTP 429 \(Retry-After 2 s\)\): retrying in 2\.0 s$/.test(x),
      ),
      l.lines.join('\n'),
    );
    assert.ok(
      l.lines.some((x) =>
        /^Smoke test: 4\/4 OK, p50 5 ms, p95 5 ms, max 5 ms; 4 probe\(s\), 7 request\(s\) sent: 4 passed, 0 failed, 3 inconclusive \(connection 2, throttled 1\) → PASSED: failure rate 0% ≤ maxFailurePercent 0%; 3 inconclusive attempt\(s\) retried/.test(
          x,
        ),
      ),
      l.lines.join('\n'),
    );
    assert.ok(
      l.lines.some((x) =>
        /^Health check at 50%: 2\/2 OK, .* → PASSED: .*; through endpoint ep1, deployment Succeeded$/.test(x),
      ),
    );
    const md = deploySummary(r);
    assert.match(
      md,
      /\| Smoke test \| 4\/4 OK, p50 5 ms, p95 5 ms, max 5 ms; 4 probe\(s\), 7 request\(s\) sent: 4 passed, 0 failed, 3 inconclusive \(connection 2, throttled 1\) → PASSED: failure rate 0% ≤ maxFailurePercent 0%/,
    );
    assert.match(md, /\| Step \| Traffic \| Health check \(probes\) \| Verdict \(rule\) \|/);
    assert.match(
      md,
      /\| 1: 50% \| churn-v1 50%, churn-v2 50% \| 2\/2 OK, p95 5 ms; 2 probe\(s\), \d request\(s\) sent: 2 passed, 0 failed, \d inconclusive[^|]*\| PASSED: failure rate 0% ≤ maxFailurePercent 0%[^|]*\|/,
    );
  });

  test('a step that cannot be measured (too many inconclusive attempts in a row) rolls back as inconclusive, and the failed run keeps its analysis', async () => {
    const az = new FakeAzure();
    const { cwd } = world();
    await withLive(az);
    const real = az.score.bind(az);
    az.onSetTraffic = (t) => {
      if (t['churn-v2'] === 50)
        az.score = async () => ({ status: 503, body: '{"error":{"code":"ServiceUnavailable"}}', ms: 1 });
      else az.score = real;
    };
    const err = await deployModel(base({ trafficSteps: '50,100', maxConsecutiveInconclusive: 2 }), {
      ops: az,
      log: log().log,
      progress: () => undefined,
      context: {},
      cwd,
      sleep: async () => undefined,
    }).catch((e) => e);
    assert.ok(err instanceof RolloutFailed, String(err));
    assert.equal(
      err.message,
      'Health check at 50% was inconclusive: 3 inconclusive attempt(s) in a row is above maxConsecutiveInconclusive 2 (could not measure; 0 of 2 probe(s) conclusive) (first: HTTP 503 from the front door (no deployment answered): {"error":{"code":"ServiceUnavailable"}}); traffic restored to churn-v1 100%',
    );
    assert.deepEqual(az.endpoints.get('ep1')!.traffic, { 'churn-v1': 100, 'churn-v2': 0 });
    assert.equal(err.result.steps[0]!.analysis!.verdict, 'inconclusive');
    assert.equal(err.result.smokeAnalysis!.verdict, 'passed');
    assert.match(
      deploySummary(err.result),
      /^### Azure ML deployment ep1 \/ churn-v2\n\n\*\*Rolled back\*\*: Health check at 50% was inconclusive: .*\n[\s\S]*\| 1: 50% \| [^|]+ \| 0\/2 OK, p95 - ms; 2 probe\(s\), 3 request\(s\) sent: 0 passed, 0 failed, 3 inconclusive \(front-door 3\) \| INCONCLUSIVE: 3 inconclusive attempt\(s\) in a row/,
    );
  });

  test('p95 gate', async () => {
    const az = new FakeAzure();
    const { cwd } = world();
    await withLive(az);
    az.answer = (dep) => ({ status: 200, body: '{}', ms: dep === 'churn-v2' ? 900 : 5, servedBy: dep });
    await assert.rejects(
      deployModel(base({ maxP95Ms: 500 }), { ops: az, log: log().log, progress: () => undefined, context: {}, cwd }),
      /p95 latency 900 ms is above maxP95Ms 500 ms/,
    );
    assert.deepEqual(az.trafficHistory, []);
  });

  test('health failure at the second step: traffic goes back to exactly the saved map', async () => {
    const az = new FakeAzure();
    const { cwd } = world();
    await withLive(az);
    az.onSetTraffic = (t) => {
      if (t['churn-v2'] === 50)
        az.answer = (dep) => ({ status: dep === 'churn-v2' ? 503 : 200, body: '{}', ms: 4, servedBy: dep });
    };
    await assert.rejects(
      deployModel(base({ trafficSteps: '10,50,100' }), {
        ops: az,
        log: log().log,
        progress: () => undefined,
        context: {},
        cwd,
      }),
      /Health check at 50% failed.*traffic restored to churn-v1 100%/,
    );
    assert.deepEqual(az.trafficHistory.at(-1), { 'churn-v1': 100, 'churn-v2': 0 });
    assert.deepEqual(az.endpoints.get('ep1')!.traffic, { 'churn-v1': 100, 'churn-v2': 0 });
  });

  test('cancellation during a step wait restores the traffic with a signal that is not aborted', async () => {
    const az = new FakeAzure();
    const { cwd } = world();
    await withLive(az);
    const l = log();
    const ac = new AbortController();
    az.onSetTraffic = (t) => {
      if (t['churn-v2'] === 10) setTimeout(() => ac.abort(new Error('Cancelled (SIGINT)')), 5);
    };
    await assert.rejects(
      deployModel(base({ trafficSteps: '10,100', stepWaitSeconds: 30 }), {
        ops: az,
        log: l.log,
        progress: () => undefined,
        context: {},
        cwd,
        signal: ac.signal,
      }),
      /Cancelled \(SIGINT\)/,
    );
    assert.deepEqual(az.endpoints.get('ep1')!.traffic, { 'churn-v1': 100, 'churn-v2': 0 });
    assert.ok(az.restoreSignals.length >= 1 && az.restoreSignals.every((s) => !s!.aborted));
    assert.ok(
      l.lines.some((x) => /Cancelled during the rollout of churn-v2: traffic restored to churn-v1 100%/.test(x)),
    );
  });

  test('mirror stage: mirror {new: N} set after the smoke test, judged by the log of the window, cleared before the first step', async () => {
    const az = new FakeAzure();
    const { cwd } = world();
    await withLive(az);
    const l = log();
    const r = await deployModel(base({ trafficSteps: '50,100', mirrorPercent: 20, mirrorSeconds: 0 }), {
      ops: az,
      log: l.log,
      progress: () => undefined,
      context: {},
      cwd,
      sleep: async () => undefined,
    });
    assert.deepEqual(az.mirrorHistory, [{ 'churn-v2': 20 }, {}]);
    const order = az.calls.filter((c) => /^(mirror|traffic)/.test(c));
    assert.deepEqual(order, [
      'mirror {"churn-v2":20}',
      'mirror {}',
      'traffic {"churn-v1":50,"churn-v2":50}',
      'traffic {"churn-v1":0,"churn-v2":100}',
    ]);
    assert.equal(r.mirror?.percent, 20);
    assert.equal(r.mirror?.endpoint?.requests, 15, 'mirrorRequestCount(20, 2)');
    assert.deepEqual(r.mirror?.logged, { scoringRequests: 15, errors: 0 });
    assert.match(
      deploySummary(r),
      /\| Mirror stage \| 20% of the traffic for 0 s: 15 mirrored request\(s\) in churn-v2's log, 0 failed; 15\/15 OK through the endpoint \|/,
    );
  });

  test('mirror stage failure: the log of the window shows scoring errors → mirror cleared, traffic never touched', async () => {
    const az = new FakeAzure();
    const { cwd } = world();
    await withLive(az);
    const l = log();
    // the smoke test (header) passes; copies that arrive by mirroring fail
    az.onSetMirror = (m) => {
      if (m['churn-v2'])
        az.answer = (dep) => ({ status: dep === 'churn-v2' ? 500 : 200, body: '{}', ms: 4, servedBy: dep });
    };
    await assert.rejects(
      deployModel(base({ trafficSteps: '50,100', mirrorPercent: 50, mirrorSeconds: 0 }), {
        ops: az,
        log: l.log,
        progress: () => undefined,
        context: {},
        cwd,
        sleep: async () => undefined,
      }),
      /^UserError: Mirror stage failed: deployment churn-v2 logged 6 failed scoring request\(s\) of 6 on mirrored traffic in 0 s \(first: KeyError: 'age'\); mirror traffic cleared, traffic unchanged \(churn-v1 100%\)$/,
    );
    assert.deepEqual(az.mirrorHistory, [{ 'churn-v2': 50 }, {}]);
    assert.deepEqual(az.trafficHistory, []);
    assert.ok(l.lines.some((x) => /container log of deployment churn-v2/.test(x)));
  });

  test('cancellation in the mirror window clears the mirror with a signal that is not aborted', async () => {
    const az = new FakeAzure();
    const { cwd } = world();
    await withLive(az);
    const l = log();
    const ac = new AbortController();
    az.onSetMirror = (m) => {
      if (m['churn-v2']) setTimeout(() => ac.abort(new Error('Cancelled (SIGINT)')), 5);
    };
    await assert.rejects(
      deployModel(
        base({ mirrorPercent: 10, mirrorSeconds: 30, healthCheckRequests: 0, sampleRequestFile: undefined }),
        { ops: az, log: l.log, progress: () => undefined, context: {}, cwd, signal: ac.signal },
      ),
      /Cancelled \(SIGINT\)/,
    );
    assert.deepEqual(az.mirrorHistory, [{ 'churn-v2': 10 }, {}]);
    // the mirror was set with the task's signal; the rollback clears it with a fresh one
    assert.equal(az.restoreSignals[0], ac.signal);
    assert.equal(az.restoreSignals.at(-1)!.aborted, false);
    assert.ok(
      l.lines.some((x) =>
        /Cancelled during the rollout of churn-v2: mirror traffic cleared, traffic unchanged \(churn-v1 100%\)/.test(x),
      ),
      l.lines.join('\n'),
    );
  });

  test('mirror stage skipped without a live deployment; Kubernetes refused before anything is read', async () => {
    const az = new FakeAzure();
    const { cwd } = world();
    const l = log();
    const r = await deployModel(base({ mirrorPercent: 20 }), {
      ops: az,
      log: l.log,
      progress: () => undefined,
      context: {},
      cwd,
    });
    assert.match(r.mirror?.skipped ?? '', /no other deployment serves traffic on ep1/);
    assert.deepEqual(az.mirrorHistory, []);
    const k = new FakeAzure();
    await assert.rejects(
      deployModel(base({ endpointType: 'kubernetes', compute: 'k8s-compute', mirrorPercent: 10 }), {
        ops: k,
        log: log().log,
        progress: () => undefined,
        context: {},
        cwd,
      }),
      (e: unknown) =>
        e instanceof InputError &&
        e.input === 'mirrorPercent' &&
        /not supported for Kubernetes online endpoints/.test(e.message),
    );
    assert.deepEqual(k.calls, []);
  });

  test('rerun with the model already at 100 %: nothing written', async () => {
    const az = new FakeAzure();
    const { cwd } = world();
    await deployModel(base(), { ops: az, log: log().log, progress: () => undefined, context: {}, cwd });
    az.calls = [];
    az.trafficHistory = [];
    const l = log();
    const r = await deployModel(base({ trafficSteps: '10,50,100' }), {
      ops: az,
      log: l.log,
      progress: () => undefined,
      context: { releaseName: 'another' },
      cwd,
    });
    assert.equal(r.unchanged, true);
    assert.deepEqual(az.calls, []);
    assert.ok(l.lines.some((x) => /already serving model churn:2 with 100% of the traffic/.test(x)));
  });

  test('aml_token endpoint: the smoke test uses a token, no key output', async () => {
    const az = new FakeAzure();
    const { cwd } = world();
    const modes: string[] = [];
    az.credential = async (_ep: string, mode: string) => {
      modes.push(mode);
      return 'aml-token-abcdef';
    };
    const r = await deployModel(base({ authMode: 'aml_token' }), {
      ops: az,
      log: log().log,
      progress: () => undefined,
      context: {},
      cwd,
    });
    assert.deepEqual(modes, ['AMLToken']);
    assert.equal(r.endpointKey, undefined);
    assert.equal(az.endpoints.get('ep1')!.authMode, 'AMLToken');
    assert.match(
      deploySummary(r),
      /\| Model \| \[azureml:churn:2\]\(https:\/\/ml\.azure\.com\/model\/churn:2\/details\?wsid=/,
    );
  });

  test('bad inputs: nothing called that writes', async () => {
    const { cwd } = world();
    writeFileSync(path.join(cwd, 'bad.json'), '{"data": ');
    const cases: Array<[Partial<DeployInputs>, string, RegExp]> = [
      [{ trafficSteps: '10,50' }, 'trafficSteps', /last step must be 100/],
      [{ endpointType: 'kubernetes', compute: 'nope' }, 'compute', /compute 'nope' was not found/],
      [{ endpointType: 'kubernetes' }, 'compute', /is required for a Kubernetes/],
      [{ scoringScript: 'missing.py' }, 'scoringScript', /was not found/],
      [{ codePath: 'nodir' }, 'codePath', /was not found/],
      [{ model: 'azureml:nosuch:1' }, 'model', /not found/],
      [{ model: undefined }, 'model', /is required/],
      [{ sampleRequestFile: 'bad.json' }, 'sampleRequestFile', /not valid JSON/],
      [{ sampleRequestFile: 'nofile.json' }, 'sampleRequestFile', /was not found/],
      [{ expectedResponse: '[1,' }, 'expectedResponse', /not valid JSON/],
      [{ endpointName: '1bad' }, 'endpointName', /must start with a letter|3-32 characters/],
      [
        { endpointType: 'kubernetes', compute: 'k8s-compute', instanceType: 'huge' },
        'instanceType',
        /not defined on compute/,
      ],
      [{ resourceRequests: { cpu: '1' } }, 'resourceRequests', /Kubernetes endpoints only/],
      [
        { deploymentFile: 'nofile.yml', codePath: undefined, scoringScript: undefined, environment: undefined },
        'deploymentFile',
        /file not found/,
      ],
      [{ livenessProbe: { period: 'often' } }, 'livenessProbe', /whole number/],
    ];
    for (const [extra, input, re] of cases) {
      const az = new FakeAzure();
      await assert.rejects(
        deployModel(base(extra), { ops: az, log: log().log, progress: () => undefined, context: {}, cwd }),
        (e: unknown) => e instanceof InputError && e.input === input && re.test(e.message),
        `${input}: ${JSON.stringify(extra)}`,
      );
      assert.deepEqual(az.calls, [], `${input}: nothing written`);
    }
  });

  test('a live deployment with another model cannot be replaced in place', async () => {
    const az = new FakeAzure();
    const { cwd } = world();
    await withLive(az);
    await assert.rejects(
      deployModel(base({ deploymentName: 'churn-v1' }), {
        ops: az,
        log: log().log,
        progress: () => undefined,
        context: {},
        cwd,
      }),
      (e: unknown) =>
        e instanceof InputError && e.input === 'deploymentName' && /is live with 100% of the traffic/.test(e.message),
    );
    assert.deepEqual(az.calls, []);
  });
});

describe('reruns: governance tags, settings, auth mode', () => {
  const release = (id: string, approver?: string) => ({
    context: {
      releaseId: id,
      releaseName: `Release-${id}`,
      releaseUrl: `https://dev.azure.com/o/p/_releaseProgress?releaseId=${id}`,
      stageName: 'production',
      requestedFor: 'Grace Hopper',
    },
    governance: {
      approvals: async () => (approver ? [{ approver, approvedOn: `2026-11-2${id}T08:00:00Z`, comments: 'go' }] : []),
    } as Governance,
  });

  test('same model in another release: only the tags are updated (no redeployment, traffic unchanged); a rerun of that release writes nothing', async () => {
    const az = new FakeAzure();
    const { cwd } = world();
    await deployModel(base({ tags: { team: 'risk' } }), {
      ops: az,
      log: log().log,
      progress: () => undefined,
      cwd,
      ...release('1', 'Alice'),
    });
    az.calls = [];
    az.trafficHistory = [];
    const l = log();
    const r = await deployModel(base({ tags: { team: 'risk' } }), {
      ops: az,
      log: l.log,
      progress: () => undefined,
      cwd,
      ...release('2', 'Bob'),
    });
    assert.deepEqual(az.calls, ['patch tags churn-v2']);
    assert.equal(r.unchanged, true);
    assert.equal(r.tagsUpdated, true);
    const tags = az.deployments.get('ep1/churn-v2')!.tags;
    assert.equal(tags['azdo.releaseId'], '2');
    assert.equal(tags['azdo.release'], 'Release-2');
    assert.equal(tags['azdo.approvedBy'], 'Bob');
    assert.equal(tags['azdo.approvedOn'], '2026-11-22T08:00:00Z');
    assert.equal(tags.team, 'risk');
    assert.deepEqual(az.endpoints.get('ep1')!.traffic, { 'churn-v2': 100 });
    assert.ok(
      l.lines.some((x) => /not redeployed; tags updated: .*azdo\.releaseId/.test(x)),
      l.lines.join('\n'),
    );
    assert.match(deploySummary(r), /release \/ approval tags were updated/);
    // the same release and stage again (even renamed, as the governance renames it): nothing written
    az.calls = [];
    const again = release('2', 'Bob');
    again.context.releaseName = 'Release-2 (churn:2)';
    const r2 = await deployModel(base({ tags: { team: 'risk' } }), {
      ops: az,
      log: log().log,
      progress: () => undefined,
      cwd,
      ...again,
    });
    assert.deepEqual(az.calls, []);
    assert.equal(r2.tagsUpdated, false);
    // another release without approvals: the previous approver is not left on the deployment
    await deployModel(base({ tags: { team: 'risk' } }), {
      ops: az,
      log: log().log,
      progress: () => undefined,
      cwd,
      ...release('3'),
    });
    assert.deepEqual(az.calls, ['patch tags churn-v2']);
    assert.equal(az.deployments.get('ep1/churn-v2')!.tags['azdo.approvedBy'], undefined);
    // outside a release: nothing written
    az.calls = [];
    await deployModel(base({ tags: { team: 'risk' } }), {
      ops: az,
      log: log().log,
      progress: () => undefined,
      cwd,
      context: {},
    });
    assert.deepEqual(az.calls, []);
  });

  test('same model beside a live deployment in another release: tags updated, then the traffic steps', async () => {
    const az = new FakeAzure();
    const { cwd } = world();
    await withLive(az);
    await az.putDeployment('ep1', 'churn-v2', {
      properties: {
        endpointComputeType: 'Managed',
        model: `${WS}/models/churn/versions/2`,
        codeConfiguration: { codeId: `${WS}/codes/code-hash/versions/1`, scoringScript: 'score.py' },
        environmentId: `${WS}/environments/env/versions/1`,
        instanceType: 'Standard_DS3_v2',
      },
      sku: { capacity: 1 },
      tags: { 'azdo.releaseId': '1' },
    });
    az.calls = [];
    await deployModel(base(), { ops: az, log: log().log, progress: () => undefined, cwd, ...release('2', 'Bob') });
    assert.deepEqual(az.calls, ['patch tags churn-v2', 'traffic {"churn-v1":0,"churn-v2":100}']);
    assert.equal(az.deployments.get('ep1/churn-v2')!.tags['azdo.approvedBy'], 'Bob');
  });

  test('probes and request settings are part of the comparison (service defaults = not given)', async () => {
    const az = new FakeAzure();
    const { cwd } = world();
    await deployModel(base(), { ops: az, log: log().log, progress: () => undefined, context: {}, cwd });
    az.calls = [];
    // the service's defaults spelt out: still the same deployment
    const same = await deployModel(
      base({
        livenessProbe: { period: '10', failureThreshold: '30' },
        readinessProbe: { timeout: '2' },
        requestTimeoutMs: 5000,
        maxConcurrentRequestsPerInstance: 1,
      }),
      { ops: az, log: log().log, progress: () => undefined, context: {}, cwd },
    );
    assert.equal(same.unchanged, true);
    assert.deepEqual(az.calls, []);
    const cases: Array<[Partial<DeployInputs>, RegExp]> = [
      [{ livenessProbe: { period: '5' } }, /with another livenessProbe \(period 10000 → 5000\)/],
      [{ readinessProbe: { failureThreshold: '3' } }, /with another readinessProbe \(failureThreshold 30 → 3\)/],
      [{ requestTimeoutMs: 10000 }, /with another requestSettings \(requestTimeout 5000 → 10000\)/],
      [
        { maxConcurrentRequestsPerInstance: 4 },
        /with another requestSettings \(maxConcurrentRequestsPerInstance 1 → 4\)/,
      ],
    ];
    for (const [extra, re] of cases) {
      await assert.rejects(
        deployModel(base(extra), { ops: az, log: log().log, progress: () => undefined, context: {}, cwd }),
        (e: unknown) =>
          e instanceof InputError &&
          e.input === 'deploymentName' &&
          /is live with 100% of the traffic and holds model churn:2/.test(e.message) &&
          re.test(e.message),
        JSON.stringify(extra),
      );
      assert.deepEqual(az.calls, [], 'nothing written');
    }
    // under another name the new settings are rolled out
    await deployModel(base({ deploymentName: 'churn-v2-probe', livenessProbe: { period: '5' } }), {
      ops: az,
      log: log().log,
      progress: () => undefined,
      context: {},
      cwd,
    });
    assert.equal(az.deployments.get('ep1/churn-v2-probe')!.livenessProbe!.period, 'PT5S');
    assert.equal(isoDurationMs('PT0.5S'), 500);
    assert.equal(isoDurationMs('PT1M30S'), 90_000);
    assert.equal(isoDurationMs('P1DT1H'), 90_000_000);
    assert.equal(isoDurationMs('PT'), undefined);
    assert.equal(isoDurationMs('10s'), undefined);
  });

  test("auth mode: blank keeps an existing endpoint's mode; another explicit mode fails before anything is written", async () => {
    const az = new FakeAzure();
    const { cwd } = world();
    const modes: string[] = [];
    az.credential = async (_ep: string, mode: string) => {
      modes.push(mode);
      return 'aml-token-abcdef';
    };
    await deployModel(base({ authMode: 'aml_token' }), {
      ops: az,
      log: log().log,
      progress: () => undefined,
      context: {},
      cwd,
    });
    az.calls = [];
    const r = await deployModel(base({ authMode: undefined, model: 'azureml:churn:1' }), {
      ops: az,
      log: log().log,
      progress: () => undefined,
      context: {},
      cwd,
    });
    assert.equal(az.endpoints.get('ep1')!.authMode, 'AMLToken');
    assert.ok(!az.calls.some((c) => c.startsWith('update endpoint')), az.calls.join('; '));
    assert.equal(r.endpointKey, undefined);
    assert.ok(modes.every((m) => m === 'AMLToken'));
    az.calls = [];
    await assert.rejects(
      deployModel(base({ authMode: 'key', model: 'azureml:churn:1', deploymentName: 'other' }), {
        ops: az,
        log: log().log,
        progress: () => undefined,
        context: {},
        cwd,
      }),
      (e: unknown) =>
        e instanceof InputError &&
        e.input === 'authMode' &&
        /endpoint 'ep1' already exists with auth mode aml_token, not key \(the auth mode of an endpoint cannot be changed/.test(
          e.message,
        ),
    );
    assert.deepEqual(az.calls, []);
    // a new endpoint without authMode: key
    const fresh = new FakeAzure();
    await deployModel(base({ authMode: undefined }), {
      ops: fresh,
      log: log().log,
      progress: () => undefined,
      context: {},
      cwd,
    });
    assert.equal(fresh.endpoints.get('ep1')!.authMode, 'Key');
  });

  test('task.json: authMode has no default (blank = key for a new endpoint, the existing mode otherwise)', () => {
    const task = JSON.parse(
      readFileSync(path.resolve(import.meta.dirname, '..', '..', 'tasks', 'AzureMLModelDeployV1', 'task.json'), 'utf8'),
    );
    const input = task.inputs.find((i: { name: string }) => i.name === 'authMode');
    assert.ok(!input.defaultValue, `defaultValue ${JSON.stringify(input.defaultValue)}`);
    assert.equal(input.required, false);
  });
});

// ------------------------------------------------------------------------------------------------ corpus

function corpusFiles(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    const f = path.join(dir, n);
    if (statSync(f).isDirectory()) out.push(...corpusFiles(f));
    else if (/\.ya?ml$/.test(n)) out.push(f);
  }
  return out;
}

describe('corpus: every online deployment YAML goes through the task (parsing, local checks, planning, rollout with fakes)', () => {
  const files = existsSync(CORPUS) ? corpusFiles(CORPUS).filter((f) => /deployment/i.test(path.basename(f))) : [];
  test('found the corpus deployment files', () =>
    assert.ok(files.length >= 6, `${files.length} files under ${CORPUS}`));
  for (const file of files) {
    const rel = path.relative(CORPUS, file);
    test(rel, async () => {
      // a copy of the corpus with the code/model files the YAML names (the corpus does not ship them)
      const root = mkdtempSync(path.join(tmpdir(), 'deploy-corpus-'));
      cpSync(CORPUS, root, { recursive: true });
      const copy = path.join(root, rel);
      // endpoint_name placeholders (<ENDPOINT_NAME>, <endpoint_name>) are replaced by the endpoint's name, unread
      const spec = parseOnlineDeploymentYaml(copy, { variables: CORPUS_TEMPLATE_VARS, endpointName: 'my-endpoint' });
      if (spec.code?.code.kind === 'local') {
        mkdirSync(spec.code.code.path, { recursive: true });
        writeFileSync(path.join(spec.code.code.path, spec.code.scoringScript), 'def init(): pass\n');
      }
      if (spec.model?.kind === 'inline' && spec.model.model.local) {
        mkdirSync(spec.model.model.path, { recursive: true });
        writeFileSync(path.join(spec.model.model.path, 'model.pkl'), 'x');
      }
      const az = new FakeAzure();
      az.models.add('my-model:1');
      az.computes.inferencecompute = {
        id: `${WS}/computes/inferencecompute`,
        name: 'inferencecompute',
        computeType: 'Kubernetes',
        instanceTypes: ['defaultinstancetype'],
      };
      const k8s = spec.kind === 'Kubernetes';
      const endpointFile = k8s
        ? path.join(root, 'kubernetes', 'kubernetes-endpoint.yml')
        : path.join(root, 'managed', 'sample', 'endpoint.yml');
      const r = await deployModel(
        {
          endpointType: 'managed',
          authMode: 'key',
          endpointFile,
          deploymentFile: copy,
          yamlVariables: CORPUS_TEMPLATE_VARS,
          sampleRequestFile: path.join(root, 'model-1', 'sample-request.json'),
          smokeRequests: 2,
          healthCheckRequests: 1,
          trafficSteps: '100',
        },
        { ops: az, log: log().log, progress: () => undefined, context: {}, cwd: root },
      );
      assert.equal(r.deploymentName, spec.name);
      assert.equal(r.endpointName, 'my-endpoint');
      assert.equal(r.endpointKind, spec.kind);
      const put = az.deployments.get(`my-endpoint/${spec.name}`)!.body;
      assert.equal(put.properties.endpointComputeType, spec.kind);
      // a custom container may carry its model in the image (tfserving/half-plus-two-integrated): no model then
      if (spec.model) assert.ok(put.properties.model, 'model resolved');
      else assert.equal(put.properties.model, undefined);
      assert.deepEqual(r.trafficAfter, { [spec.name]: 100 });
    });
  }
});

describe('mirror stage helpers', () => {
  test('inputs: 0..50 %, 0..3600 s, not on Kubernetes', () => {
    assert.deepEqual(checkMirrorInputs(undefined, undefined, 'Managed'), { percent: 0, seconds: 60 });
    assert.deepEqual(checkMirrorInputs(50, 0, 'Managed'), { percent: 50, seconds: 0 });
    assert.deepEqual(checkMirrorInputs(0, 10, 'Kubernetes'), { percent: 0, seconds: 10 });
    for (const [p, sec, kind, input] of [
      [80, 60, 'Managed', 'mirrorPercent'],
      [-1, 60, 'Managed', 'mirrorPercent'],
      [2.5, 60, 'Managed', 'mirrorPercent'],
      [10, 4000, 'Managed', 'mirrorSeconds'],
      [10, 60, 'Kubernetes', 'mirrorPercent'],
    ] as const) {
      assert.throws(
        () => checkMirrorInputs(p, sec, kind),
        (e: unknown) => e instanceof InputError && e.input === input,
        `${p} ${sec} ${kind}`,
      );
    }
  });
  test('request count: about three copies expected, at least the health-check count, at most 300', () => {
    assert.equal(mirrorRequestCount(20, 5), 15);
    assert.equal(mirrorRequestCount(50, 5), 6);
    assert.equal(mirrorRequestCount(50, 10), 10);
    assert.equal(mirrorRequestCount(1, 5), 300);
    assert.equal(mirrorRequestCount(0, 5), 0);
  });
  test('new log lines: the multiset difference of two overlapping tails', () => {
    assert.deepEqual(newLogLines('a\nb\nc', 'b\nc\nd\ne'), ['d', 'e']);
    assert.deepEqual(newLogLines('x\nx', 'x\nx\nx'), ['x']);
    assert.deepEqual(newLogLines('', 'a\r\n\nb'), ['a', 'b']);
    assert.deepEqual(newLogLines('a', 'a'), []);
  });
  test('log verdict: access lines counted (5xx = error), exceptions when there are no access lines', () => {
    const lines = [
      '2024-05-01 10:00:00,001 I [7] azmlinfsrv - 127.0.0.1 "POST /score HTTP/1.1" 200 -',
      '2024-05-01 10:00:00,002 E [7] azmlinfsrv - Encountered Exception: Traceback (most recent call last):',
      '  File "/var/azureml-app/score.py", line 30, in run',
      'RuntimeError: feature store timed out',
      '2024-05-01 10:00:00,003 I [7] azmlinfsrv - 127.0.0.1 "POST /score HTTP/1.1" 500 -',
      '2024-05-01 10:00:00,004 I [7] azmlinfsrv - 127.0.0.1 "GET / HTTP/1.1" 200 -',
    ];
    assert.deepEqual(judgeMirrorLog(lines), {
      scoringRequests: 2,
      errors: 1,
      firstError: 'RuntimeError: feature store timed out',
    });
    assert.deepEqual(judgeMirrorLog(lines.filter((l) => !/POST/.test(l))), {
      scoringRequests: 0,
      errors: 1,
      firstError: 'RuntimeError: feature store timed out',
    });
    assert.deepEqual(judgeMirrorLog([lines[4]!]), {
      scoringRequests: 1,
      errors: 1,
      firstError: 'HTTP 500 from the scoring server',
    });
    assert.deepEqual(judgeMirrorLog([lines[0]!, lines[5]!]), { scoringRequests: 1, errors: 0 });
  });
});
