// AzureMLModelEvaluate@1 logic with injected fake Azure reads (no network): the metrics grammar, the per-metric
// decision (direction, absolute/relative thresholds, equality), finding production (endpoint traffic, tag, latest),
// first model, metric sources (job, sweep best trial, model properties/tags, producing job) and input errors.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelVersion } from '@azure/arm-machinelearning';
import { InputError, UserError } from '../../src/pipeline';
import {
  compareMetric,
  evaluateModel,
  evaluationSummary,
  metricOutputs,
  modelJobName,
  modelOwnMetrics,
  parseDeploymentModel,
  parseMetricRules,
  parseModelRef,
  registryOfInputs,
  validateInputs,
  type EvaluateInputs,
  type EvaluateOps,
  type JobInfo,
  type MetricRule,
  type RunMetrics,
} from '../../src/tasks/modelEvaluate';

const WS = {
  subscriptionId: 'sub1',
  resourceGroup: 'rg1',
  workspace: 'ws1',
  armUrl: 'https://arm.example/',
  scope: 'https://m/.default',
  tenantId: 't1',
  studioHost: 'ml.azure.com',
};

function mv(
  name: string,
  version: string,
  o: {
    tags?: Record<string, string>;
    properties?: Record<string, string>;
    jobName?: string;
    modelUri?: string;
    archived?: boolean;
  } = {},
): ModelVersion {
  return {
    name: version,
    id: `/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1/models/${name}/versions/${version}`,
    properties: {
      tags: o.tags ?? {},
      properties: o.properties ?? {},
      modelUri: o.modelUri ?? `azureml://datastores/workspaceblobstore/paths/m/${version}`,
      modelType: 'custom_model',
      ...(o.jobName ? { jobName: o.jobName } : {}),
      isArchived: !!o.archived,
    } as any,
  } as ModelVersion;
}

class Fake implements EvaluateOps {
  ws = WS;
  registry?: string;
  calls: string[] = [];
  jobs = new Map<string, JobInfo>();
  runs = new Map<string, RunMetrics>();
  /** name → versions in creation order (oldest first) */
  models = new Map<string, ModelVersion[]>();
  endpoints = new Map<string, { traffic: Record<string, number>; deployments: Record<string, string | undefined> }>();
  async checkWorkspace() {
    this.calls.push('checkWorkspace');
  }
  async getJob(name: string) {
    this.calls.push(`getJob ${name}`);
    return this.jobs.get(name);
  }
  async getRunMetrics(id: string) {
    this.calls.push(`run ${id}`);
    return this.runs.get(id);
  }
  async getModelVersion(name: string, version: string) {
    this.calls.push(`getModelVersion ${name}:${version}`);
    return this.models.get(name)?.find((v) => v.name === version);
  }
  async listModelVersions(name: string, o: { tags?: Record<string, string>; top: number }) {
    this.calls.push(`list ${name}${o.tags ? ' ' + JSON.stringify(o.tags) : ''}`);
    return [...(this.models.get(name) ?? [])].reverse().slice(0, o.top);
  }
  async getEndpoint(name: string) {
    this.calls.push(`getEndpoint ${name}`);
    const e = this.endpoints.get(name);
    return e && { name, traffic: e.traffic };
  }
  async getDeployment(ep: string, name: string) {
    this.calls.push(`getDeployment ${ep}/${name}`);
    const e = this.endpoints.get(ep);
    return e && name in e.deployments ? { name, model: e.deployments[name] } : undefined;
  }
  job(name: string, metrics: Record<string, number>, o: Partial<JobInfo> = {}) {
    this.jobs.set(name, { name, jobType: 'Command', status: 'Completed', properties: {}, ...o });
    this.runs.set(name, { metrics, tags: {} });
  }
  model(name: string, v: ModelVersion) {
    this.models.set(name, [...(this.models.get(name) ?? []), v]);
  }
}

const log = () => {
  const l = {
    infos: [] as string[],
    warnings: [] as string[],
    info: (m: string) => l.infos.push(m),
    warning: (m: string) => l.warnings.push(m),
    debug: () => {},
  };
  return l;
};
const base = (o: Partial<EvaluateInputs>): EvaluateInputs => ({
  candidateType: 'job',
  baseline: 'tag',
  metrics: 'accuracy higher',
  ...o,
});
const rule = (text: string): MetricRule => parseMetricRules(text)[0]!;
const opts = { allowEqual: false, missingBaselineMetric: 'pass' as const };

function inputErr(input: string, re: RegExp) {
  return (e: unknown) => e instanceof InputError && e.message.startsWith(`Input '${input}': `) && re.test(e.message);
}

describe('metrics grammar', () => {
  test('rules with directions, aliases, thresholds, comments, ; and quoted names', () => {
    const r = parseMetricRules(
      'accuracy higher\n  rmse lower min_delta=0.01   # comment\n\nf1 max min_relative=2%; loss min min_delta=-0.5 min_relative=1.5%\n"val acc" higher\n# only a comment',
    );
    assert.deepEqual(
      r.map((x) => [x.name, x.direction, x.minDelta, x.minRelative, x.line]),
      [
        ['accuracy', 'higher', undefined, undefined, 1],
        ['rmse', 'lower', 0.01, undefined, 2],
        ['f1', 'higher', undefined, 2, 4],
        ['loss', 'lower', -0.5, 1.5, 4],
        ['val acc', 'higher', undefined, undefined, 5],
      ],
    );
    assert.equal(parseMetricRules('eval/auc.macro MAXIMIZE min_delta=1e-3')[0]!.minDelta, 0.001);
  });

  test('errors name the input and the line', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /needs at least one metric/],
      ['# nothing\n\n', /needs at least one metric/],
      ['accuracy', /line 1 \('accuracy'\): missing direction/],
      ['accuracy higher\nrmse sideways', /line 2 \('rmse sideways'\): 'sideways' is not a direction/],
      ['rmse lower min_delta=abc', /min_delta needs a number/],
      ['rmse lower min_delta=', /min_delta needs a number/],
      ['f1 higher min_relative=2', /min_relative needs a percentage/],
      ['f1 higher min_relative=x%', /min_relative needs a percentage/],
      ['f1 higher min_dleta=0.1', /unknown option 'min_dleta=0.1'/],
      ['f1 higher 0.1', /unknown option '0.1'/],
      ['f1 higher min_delta=1 min_delta=2', /min_delta is given twice/],
      ['f1 higher\nf1 lower', /line 2 .*'f1' is listed twice/],
      ['acc$ higher', /'acc\$' is not a metric name/],
      ['"val acc higher', /unbalanced double quote/],
      ['"" higher', /empty metric name/],
    ];
    for (const [text, re] of cases) assert.throws(() => parseMetricRules(text), inputErr('metrics', re), text);
  });
});

describe('decision per metric', () => {
  test('higher / lower, better / worse / equal', () => {
    assert.equal(compareMetric(rule('acc higher'), 0.9, 0.8, opts).passed, true);
    assert.equal(compareMetric(rule('acc higher'), 0.7, 0.8, opts).passed, false);
    assert.equal(compareMetric(rule('rmse lower'), 0.7, 0.8, opts).passed, true);
    assert.equal(compareMetric(rule('rmse lower'), 0.9, 0.8, opts).passed, false);
    const eq = compareMetric(rule('acc higher'), 0.8, 0.8, opts);
    assert.equal(eq.passed, false);
    assert.match(eq.reason, /equal to production: not better/);
    assert.equal(compareMetric(rule('acc higher'), 0.8, 0.8, { ...opts, allowEqual: true }).passed, true);
    // float noise counts as equal: 0.1 + 0.2 vs 0.3
    assert.equal(compareMetric(rule('acc higher'), 0.1 + 0.2, 0.3, opts).passed, false);
    assert.equal(compareMetric(rule('acc higher'), 0.1 + 0.2, 0.3, opts).delta, 0);
    assert.equal(
      compareMetric(rule('acc higher min_delta=0'), 0.8, 0.8, opts).passed,
      false,
      'min_delta=0 is the same as no threshold',
    );
    assert.equal(compareMetric(rule('acc higher min_delta=0'), 0.8, 0.8, { ...opts, allowEqual: true }).passed, true);
  });

  test('absolute threshold: at least min_delta in the better direction', () => {
    const r = rule('rmse lower min_delta=0.01');
    const ok = compareMetric(r, 0.29, 0.3, opts); // improvement 0.01 (with float noise): exactly enough
    assert.equal(ok.passed, true, ok.reason);
    assert.ok(Math.abs(ok.delta! + 0.01) < 1e-12);
    const notEnough = compareMetric(r, 0.295, 0.3, opts);
    assert.equal(notEnough.passed, false);
    assert.match(notEnough.reason, /improvement \+0\.005 < required \+0\.01/);
    assert.equal(compareMetric(r, 0.31, 0.3, opts).passed, false);
    // negative threshold: tolerated regression
    const tol = rule('acc higher min_delta=-0.02');
    assert.equal(compareMetric(tol, 0.79, 0.8, opts).passed, true);
    assert.equal(compareMetric(tol, 0.8, 0.8, opts).passed, true);
    assert.equal(compareMetric(tol, 0.77, 0.8, opts).passed, false);
  });

  test('relative threshold in percent of |production|, lower-is-better and negative values', () => {
    const r = rule('f1 higher min_relative=2%');
    assert.equal(compareMetric(r, 0.816, 0.8, opts).passed, true); // +2%
    assert.equal(compareMetric(r, 0.81, 0.8, opts).passed, false); // +1.25%
    assert.equal(Math.round(compareMetric(r, 0.81, 0.8, opts).relative! * 100) / 100, 1.25);
    const l = rule('loss lower min_relative=10%');
    assert.equal(compareMetric(l, 0.9, 1.0, opts).passed, true);
    assert.equal(compareMetric(l, 0.95, 1.0, opts).passed, false);
    // a negative production value: improvement relative to its magnitude
    assert.equal(compareMetric(rule('logprob higher min_relative=10%'), -0.9, -1.0, opts).passed, true);
    // production 0: any improvement is infinitely relative; none is not
    assert.equal(compareMetric(r, 0.1, 0, opts).passed, true);
    assert.equal(compareMetric(r, 0, 0, opts).passed, false);
    // both thresholds must hold
    const both = rule('acc higher min_delta=0.01 min_relative=5%');
    assert.equal(compareMetric(both, 0.52, 0.5, opts).passed, false); // +0.02 but +4%
    assert.equal(compareMetric(both, 0.53, 0.5, opts).passed, true);
  });

  test('metric missing in production: pass with a note, or fail', () => {
    const p = compareMetric(rule('auc higher'), 0.7, undefined, opts);
    assert.equal(p.passed, true);
    assert.equal(p.delta, undefined);
    assert.equal(
      compareMetric(rule('auc higher'), 0.7, undefined, { ...opts, missingBaselineMetric: 'fail' }).passed,
      false,
    );
  });
});

describe('inputs', () => {
  test('model references', () => {
    assert.deepEqual(parseModelRef('candidateModel', 'diabetes:3'), { name: 'diabetes', version: '3' });
    assert.deepEqual(parseModelRef('candidateModel', 'azureml:diabetes:3'), { name: 'diabetes', version: '3' });
    assert.deepEqual(parseModelRef('candidateModel', 'diabetes@latest'), { name: 'diabetes', latest: true });
    assert.throws(() => parseModelRef('candidateModel', 'diabetes'), inputErr('candidateModel', /not a model version/));
    assert.throws(
      () => parseModelRef('candidateModel', 'diabetes@prod'),
      inputErr('candidateModel', /only the label @latest/),
    );
    assert.throws(
      () => parseModelRef('candidateModel', 'diabetes:0'),
      inputErr('candidateModel', /not a valid model version/),
    );
  });

  test('each bad input names itself', () => {
    assert.throws(() => validateInputs(base({})), inputErr('candidateJob', /is required/));
    assert.throws(
      () => validateInputs(base({ candidateModel: 'm:1' })),
      inputErr('candidateJob', /set candidateType to model/),
    );
    assert.throws(() => validateInputs(base({ candidateJob: 'bad name' })), inputErr('candidateJob', /not a job name/));
    assert.throws(() => validateInputs(base({ candidateType: 'model' })), inputErr('candidateModel', /is required/));
    assert.throws(
      () => validateInputs(base({ candidateJob: 'j1' })),
      inputErr('modelName', /required .* when the candidate is a job/),
    );
    assert.throws(
      () => validateInputs(base({ candidateJob: 'j1', baseline: 'endpoint' })),
      inputErr('endpointName', /is required/),
    );
    assert.throws(
      () => validateInputs(base({ candidateJob: 'j1', baseline: 'endpoint', endpointName: '9x' })),
      inputErr('endpointName', /not an online endpoint name/),
    );
    assert.throws(
      () => validateInputs(base({ candidateJob: 'j1', modelName: 'm', baselineTag: 'a b=c' })),
      inputErr('baselineTag', /not a tag/),
    );
    assert.throws(
      () => validateInputs(base({ candidateJob: 'j1', modelName: 'm', metrics: 'acc up' })),
      inputErr('metrics', /line 1/),
    );
    assert.throws(
      () => validateInputs(base({ candidateJob: 'j1', modelName: 'm', baseline: 'newest' as any })),
      inputErr('baseline', /not one of/),
    );
    const v = validateInputs(base({ candidateType: 'model', candidateModel: 'm:2' }));
    assert.equal(v.modelName, 'm', 'defaults to the candidate model name');
    assert.deepEqual(v.tag, { key: 'stage', value: 'production' });
    assert.deepEqual(validateInputs(base({ candidateJob: 'j', modelName: 'm', baselineTag: 'champion' })).tag, {
      key: 'champion',
      value: '',
    });
  });

  test('bad input: no Azure request at all', async () => {
    const f = new Fake();
    await assert.rejects(
      evaluateModel(base({ candidateJob: 'j1', modelName: 'm', metrics: 'acc higher min_relative=3' }), {
        ops: f,
        log: log(),
      }),
      inputErr('metrics', /percentage/),
    );
    assert.deepEqual(f.calls, []);
  });
});

describe('metric sources', () => {
  test('model metrics: metric.<name> over plain numeric names, properties over tags, lineage tags ignored', () => {
    const v = mv('m', '1', {
      properties: { 'metric.accuracy': '0.91', f1: '0.8', note: 'text', 'azureml-devops.contentKey': '123' },
      tags: { 'metric.accuracy': '0.5', 'metric.rmse': '0.3', f1: '0.1', 'azdo.buildId': '42', stage: 'production' },
    });
    assert.deepEqual(modelOwnMetrics(v), { accuracy: 0.91, f1: 0.8, rmse: 0.3 });
  });

  test('producing job of a model version', () => {
    assert.equal(modelJobName(mv('m', '1', { jobName: 'j1' })), 'j1');
    assert.equal(modelJobName(mv('m', '1', { properties: { 'azureml.jobName': 'j2' } })), 'j2');
    assert.equal(modelJobName(mv('m', '1', { modelUri: 'azureml://jobs/j3/outputs/model' })), 'j3');
    assert.equal(
      modelJobName(
        mv('m', '1', {
          modelUri: 'azureml://subscriptions/s/resourcegroups/r/workspaces/w/jobs/j4/outputs/model/paths/x',
        }),
      ),
      'j4',
    );
    assert.equal(
      modelJobName(
        mv('m', '1', {
          modelUri: 'azureml://datastores/workspaceartifactstore/paths/ExperimentRun/dcid.j5/outputs/model',
        }),
      ),
      'j5',
    );
    assert.equal(modelJobName(mv('m', '1', { modelUri: 'runs:/j6/model' })), 'j6');
    assert.equal(modelJobName(mv('m', '1')), undefined);
  });

  test('deployment model references', () => {
    assert.deepEqual(
      parseDeploymentModel(
        '/subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/workspaces/w/models/m/versions/3',
      ),
      { name: 'm', version: '3' },
    );
    assert.deepEqual(parseDeploymentModel('azureml:m:4'), { name: 'm', version: '4' });
    assert.deepEqual(parseDeploymentModel('azureml://registries/r/models/m/versions/1'), {
      registry: 'azureml://registries/r/models/m/versions/1',
    });
    assert.equal(parseDeploymentModel('https://x/y'), undefined);
  });
});

describe('evaluate', () => {
  test('job vs tagged production model (metrics from its producing job): better, then worse', async () => {
    const f = new Fake();
    f.job('old', { accuracy: 0.8, rmse: 0.4 });
    f.job('new', { accuracy: 0.85, rmse: 0.35 });
    f.model('m', mv('m', '1', { jobName: 'old', tags: { stage: 'production' } }));
    f.model('m', mv('m', '2', { tags: { stage: 'staging' }, properties: { 'metric.accuracy': '0.99' } }));
    const l = log();
    const e = await evaluateModel(
      base({ candidateJob: 'new', modelName: 'm', metrics: 'accuracy higher\nrmse lower min_delta=0.02' }),
      { ops: f, log: l },
    );
    assert.equal(e.isBetter, true);
    assert.equal(e.verdict, 'better');
    assert.equal(e.baseline.side?.id, 'azureml:m:1', 'the staging version is not production');
    assert.equal(e.baseline.side?.metricsSource, 'MLflow metrics of job old');
    assert.deepEqual(
      e.results.map((r) => [r.name, r.passed]),
      [
        ['accuracy', true],
        ['rmse', true],
      ],
    );
    assert.equal(f.calls[0], 'checkWorkspace');
    assert.ok(f.calls.includes('list m {"stage":"production"}'));
    const out = metricOutputs(e);
    assert.equal(out['metric.accuracy.candidate'], '0.85');
    assert.equal(out['metric.accuracy.baseline'], '0.8');
    assert.ok(Math.abs(Number(out['metric.rmse.delta']) + 0.05) < 1e-12);

    f.job('worse', { accuracy: 0.86, rmse: 0.39 });
    const w = await evaluateModel(
      base({ candidateJob: 'worse', modelName: 'm', metrics: 'accuracy higher\nrmse lower min_delta=0.02' }),
      { ops: f, log: log() },
    );
    assert.equal(w.isBetter, false);
    assert.equal(w.verdict, 'not-better');
    assert.deepEqual(
      w.results.map((r) => r.passed),
      [true, false],
      'several metrics: all must pass',
    );
    assert.match(w.message, /not better than production model m:1: rmse \(improvement \+0\.01 < required \+0\.02\)/);
    const md = evaluationSummary(w);
    assert.match(md, /Not better than production/);
    assert.match(
      md,
      /\| rmse \| ↓ lower \| 0\.39 \| 0\.4 \| -0\.01 \(2\.5% better\) \| improve by ≥ \+0\.02 \| ❌ fail/,
    );
    assert.match(
      md,
      /\[worse\]\(https:\/\/ml\.azure\.com\/runs\/worse\?wsid=\/subscriptions\/sub1\/resourcegroups\/rg1\/workspaces\/ws1&tid=t1\)/,
    );
    assert.match(md, /model \[m:1\]\(https:\/\/ml\.azure\.com\/model\/m:1\/details\?/);
  });

  test('equal metrics are not better unless allowEqual', async () => {
    const f = new Fake();
    f.job('a', { accuracy: 0.8 });
    f.model('m', mv('m', '1', { properties: { 'metric.accuracy': '0.8' }, tags: { stage: 'production' } }));
    assert.equal(
      (await evaluateModel(base({ candidateJob: 'a', modelName: 'm' }), { ops: f, log: log() })).isBetter,
      false,
    );
    assert.equal(
      (await evaluateModel(base({ candidateJob: 'a', modelName: 'm', allowEqual: true }), { ops: f, log: log() }))
        .isBetter,
      true,
    );
  });

  test('first model: no versions, no tagged version, an endpoint without traffic', async () => {
    const f = new Fake();
    f.job('j', { accuracy: 0.7 });
    const e = await evaluateModel(base({ candidateJob: 'j', modelName: 'nothing' }), { ops: f, log: log() });
    assert.equal(e.isBetter, true);
    assert.equal(e.verdict, 'first-model');
    assert.equal(e.baseline.side, undefined);
    assert.match(
      e.message,
      /No production model \(no version of model 'nothing' carries the tag stage=production\): the candidate job j is the first model/,
    );
    f.model('m', mv('m', '1', { tags: { stage: 'staging' } }));
    assert.equal(
      (await evaluateModel(base({ candidateJob: 'j', modelName: 'm' }), { ops: f, log: log() })).verdict,
      'first-model',
    );
    assert.match(
      (await evaluateModel(base({ candidateJob: 'j', modelName: 'none', baseline: 'latest' }), { ops: f, log: log() }))
        .message,
      /model 'none' has no versions/,
    );
    f.endpoints.set('ep0', { traffic: { blue: 0 }, deployments: { blue: 'azureml:m:1' } });
    const ep = await evaluateModel(base({ candidateJob: 'j', baseline: 'endpoint', endpointName: 'ep0' }), {
      ops: f,
      log: log(),
    });
    assert.equal(ep.verdict, 'first-model');
    assert.equal(ep.isBetter, true);
    assert.match(ep.message, /no deployment of online endpoint 'ep0' takes traffic/);
    f.endpoints.set('ep-empty', { traffic: {}, deployments: {} });
    assert.equal(
      (
        await evaluateModel(base({ candidateJob: 'j', baseline: 'endpoint', endpointName: 'ep-empty' }), {
          ops: f,
          log: log(),
        })
      ).verdict,
      'first-model',
    );
    assert.match(evaluationSummary(e), /First model/);
  });

  test('a missing (e.g. misspelled) endpoint fails naming endpointName instead of approving a first model', async () => {
    const f = new Fake();
    f.job('j', { accuracy: 0.7 });
    f.endpoints.set('ep-prod', { traffic: { blue: 100 }, deployments: { blue: 'azureml:m:1' } });
    await assert.rejects(
      evaluateModel(base({ candidateJob: 'j', baseline: 'endpoint', endpointName: 'ep-prd' }), { ops: f, log: log() }),
      (e: Error) => {
        assert.ok(e instanceof InputError, String(e));
        assert.equal(
          e.message,
          "Input 'endpointName': online endpoint 'ep-prd' does not exist in workspace 'ws1'; create the endpoint first, or use baseline=latest/tag for a first model",
        );
        return true;
      },
    );
  });

  test('endpoint: the deployment with most traffic; its model metrics; already in production', async () => {
    const f = new Fake();
    f.model('m', mv('m', '1', { properties: { 'metric.accuracy': '0.7' } }));
    f.model('m', mv('m', '2', { properties: { 'metric.accuracy': '0.9' } }));
    f.model('m', mv('m', '3', { properties: { 'metric.accuracy': '0.8' } }));
    f.endpoints.set('ep1', {
      traffic: { blue: 80, green: 20 },
      deployments: {
        blue: '/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1/models/m/versions/1',
        green: 'azureml:m:2',
      },
    });
    const e = await evaluateModel(
      base({ candidateType: 'model', candidateModel: 'm:3', baseline: 'endpoint', endpointName: 'ep1' }),
      { ops: f, log: log() },
    );
    assert.equal(e.isBetter, true);
    assert.equal(e.baseline.side?.id, 'azureml:m:1');
    assert.deepEqual(e.baseline.side?.endpoint, {
      name: 'ep1',
      deployment: 'blue',
      traffic: 80,
      studioUrl:
        'https://ml.azure.com/endpoints/realtime/ep1/detail?wsid=/subscriptions/sub1/resourcegroups/rg1/workspaces/ws1&tid=t1',
    });
    assert.ok(f.calls.includes('getDeployment ep1/blue') && !f.calls.includes('getDeployment ep1/green'));
    assert.match(evaluationSummary(e), /deployment blue \(80% of traffic\) on endpoint \[ep1\]/);
    // the endpoint serves the candidate itself
    const same = await evaluateModel(
      base({ candidateType: 'model', candidateModel: 'azureml:m:1', baseline: 'endpoint', endpointName: 'ep1' }),
      { ops: f, log: log() },
    );
    assert.equal(same.verdict, 'already-in-production');
    assert.equal(same.isBetter, true);
    // a tie in traffic: warned, first by name
    f.endpoints.set('tie', {
      traffic: { zeta: 50, alpha: 50 },
      deployments: { alpha: 'azureml:m:2', zeta: 'azureml:m:1' },
    });
    const l = log();
    const t = await evaluateModel(
      base({ candidateType: 'model', candidateModel: 'm:3', baseline: 'endpoint', endpointName: 'tie' }),
      { ops: f, log: l },
    );
    assert.equal(t.baseline.side?.id, 'azureml:m:2');
    assert.equal(t.isBetter, false);
    assert.match(l.warnings.join('\n'), /alpha and zeta take the same traffic/);
    // a registry model cannot be read
    f.endpoints.set('reg', {
      traffic: { blue: 100 },
      deployments: { blue: 'azureml://registries/shared/models/m/versions/1' },
    });
    await assert.rejects(
      evaluateModel(
        base({ candidateType: 'model', candidateModel: 'm:3', baseline: 'endpoint', endpointName: 'reg' }),
        { ops: f, log: log() },
      ),
      (err: unknown) => err instanceof UserError && /serves a registry model/.test((err as Error).message),
    );
  });

  test('latest: newest version other than the candidate (nor one produced by the candidate job)', async () => {
    const f = new Fake();
    f.job('j2', { accuracy: 0.9 });
    f.model('m', mv('m', '1', { properties: { 'metric.accuracy': '0.8' } }));
    f.model('m', mv('m', '2', { jobName: 'j2' })); // registered from the candidate job (a rerun)
    f.model('m', mv('m', '3', { properties: { 'metric.accuracy': '0.95' }, archived: true }));
    const e = await evaluateModel(base({ candidateJob: 'j2', modelName: 'm', baseline: 'latest' }), {
      ops: f,
      log: log(),
    });
    assert.equal(e.baseline.side?.id, 'azureml:m:1');
    assert.equal(e.isBetter, true);
    const byModel = await evaluateModel(base({ candidateType: 'model', candidateModel: 'm:2', baseline: 'latest' }), {
      ops: f,
      log: log(),
    });
    assert.equal(byModel.baseline.side?.id, 'azureml:m:1');
    assert.equal(byModel.candidate.metricsSource, 'MLflow metrics of job j2');
    const latest = await evaluateModel(
      base({ candidateType: 'model', candidateModel: 'm@latest', baseline: 'latest' }),
      { ops: f, log: log() },
    );
    assert.equal(latest.candidate.id, 'azureml:m:3');
    assert.equal(latest.baseline.side?.id, 'azureml:m:2', 'the newest version other than the candidate');
    assert.equal(latest.isBetter, true);
  });

  test('sweep job: metrics of the best trial', async () => {
    const f = new Fake();
    f.job('sweep1', {}, { jobType: 'Sweep', properties: { best_child_run_id: 'sweep1_2' } });
    f.runs.set('sweep1_2', { metrics: { accuracy: 0.93 }, tags: {} });
    f.model('m', mv('m', '1', { tags: { stage: 'production', 'metric.accuracy': '0.9' } }));
    const e = await evaluateModel(base({ candidateJob: 'sweep1', modelName: 'm' }), { ops: f, log: log() });
    assert.equal(e.candidate.metrics.accuracy, 0.93);
    assert.match(e.candidate.label, /best trial sweep1_2/);
    assert.equal(e.isBetter, true);
    f.job('sweep2', {}, { jobType: 'sweep' });
    f.runs.set('sweep2', { metrics: {}, tags: { best_child_run_id: 'sweep1_2' } });
    assert.equal(
      (await evaluateModel(base({ candidateJob: 'sweep2', modelName: 'm' }), { ops: f, log: log() })).candidate.metrics
        .accuracy,
      0.93,
      'from the MLflow tag',
    );
    f.job('sweep3', {}, { jobType: 'Sweep' });
    await assert.rejects(
      evaluateModel(base({ candidateJob: 'sweep3', modelName: 'm' }), { ops: f, log: log() }),
      /no best trial yet/,
    );
  });

  test('unknown metric lists the candidate metrics; unknown job/model name the input; unfinished job', async () => {
    const f = new Fake();
    f.job('j', { accuracy: 0.9, f1: 0.8 });
    await assert.rejects(
      evaluateModel(base({ candidateJob: 'j', modelName: 'm', metrics: 'accuracy higher\nauc higher' }), {
        ops: f,
        log: log(),
      }),
      inputErr('metrics', /'auc' is not a metric of the candidate job j; available: accuracy, f1$/),
    );
    await assert.rejects(
      evaluateModel(base({ candidateJob: 'nope', modelName: 'm' }), { ops: f, log: log() }),
      inputErr('candidateJob', /job 'nope' was not found in workspace 'ws1'/),
    );
    await assert.rejects(
      evaluateModel(base({ candidateType: 'model', candidateModel: 'm:9' }), { ops: f, log: log() }),
      inputErr('candidateModel', /model 'm' version 9 was not found/),
    );
    f.job('running', { accuracy: 0.9 }, { status: 'Running' });
    await assert.rejects(
      evaluateModel(base({ candidateJob: 'running', modelName: 'm' }), { ops: f, log: log() }),
      /Candidate job 'running' is Running; only a Completed job/,
    );
    f.job('pipe', {}, { jobType: 'Pipeline' });
    await assert.rejects(
      evaluateModel(base({ candidateJob: 'pipe', modelName: 'm' }), { ops: f, log: log() }),
      inputErr('metrics', /it has no metrics \(a pipeline job logs no metrics itself/),
    );
    f.model('m', mv('m', '1'));
    await assert.rejects(
      evaluateModel(base({ candidateType: 'model', candidateModel: 'm:1' }), { ops: f, log: log() }),
      inputErr('metrics', /it has no metrics/),
    );
  });

  test('metric missing on production: warning and pass, or fail', async () => {
    const f = new Fake();
    f.job('j', { accuracy: 0.9, auc: 0.7 });
    f.model('m', mv('m', '1', { tags: { stage: 'production' }, properties: { 'metric.accuracy': '0.8' } }));
    const l = log();
    const e = await evaluateModel(base({ candidateJob: 'j', modelName: 'm', metrics: 'accuracy higher\nauc higher' }), {
      ops: f,
      log: l,
    });
    assert.equal(e.isBetter, true);
    assert.match(l.warnings.join('\n'), /has no value for metric 'auc': not compared/);
    assert.equal(metricOutputs(e)['metric.auc.baseline'], '');
    const strict = await evaluateModel(
      base({
        candidateJob: 'j',
        modelName: 'm',
        metrics: 'accuracy higher\nauc higher',
        missingBaselineMetric: 'fail',
      }),
      { ops: f, log: log() },
    );
    assert.equal(strict.isBetter, false);
  });

  test('model metrics completed from the producing job; a deleted job is a warning', async () => {
    const f = new Fake();
    f.job('train', { accuracy: 0.8, f1: 0.7 });
    f.model(
      'm',
      mv('m', '1', { modelUri: 'azureml://jobs/train/outputs/model', properties: { 'metric.accuracy': '0.85' } }),
    );
    f.model('m', mv('m', '2', { jobName: 'gone', tags: { stage: 'production' } }));
    const l = log();
    const e = await evaluateModel(
      base({ candidateType: 'model', candidateModel: 'm:1', metrics: 'accuracy higher\nf1 higher' }),
      { ops: f, log: l },
    );
    assert.deepEqual(e.candidate.metrics, { accuracy: 0.85, f1: 0.7 }, 'own values win over the job');
    assert.equal(e.candidate.metricsSource, 'properties/tags of model m:1 + MLflow metrics of job train');
    assert.match(l.warnings.join('\n'), /produced by job 'gone', which no longer exists/);
    assert.equal(e.verdict, 'better', 'no production value for any metric: passes with warnings');
  });
});

describe('registry models (issue 13)', () => {
  test('parseModelRef: registry URIs (version, labels/latest); bad ones one line', () => {
    assert.deepEqual(parseModelRef('candidateModel', 'azureml://registries/shared/models/fraud/versions/3'), {
      name: 'fraud',
      version: '3',
      registry: 'shared',
    });
    assert.deepEqual(parseModelRef('candidateModel', 'azureml://registries/shared/models/fraud/labels/latest'), {
      name: 'fraud',
      latest: true,
      registry: 'shared',
    });
    assert.throws(
      () => parseModelRef('candidateModel', 'azureml://registries/shared/models/fraud/labels/champion'),
      inputErr('candidateModel', /only the label latest/),
    );
    assert.throws(
      () => parseModelRef('candidateModel', 'azureml://registries/shared/fraud/3'),
      inputErr('candidateModel', /azureml:\/\/registries\/<registry>\/models/),
    );
  });
  test('registryOfInputs: the input wins; else the candidate URI; a different registry in both is refused', () => {
    const uri = 'azureml://registries/shared/models/fraud/versions/3';
    assert.equal(registryOfInputs({ candidateType: 'model', candidateModel: uri }), 'shared');
    assert.equal(registryOfInputs({ candidateType: 'job', candidateModel: uri }), undefined);
    assert.equal(registryOfInputs({ candidateType: 'job', registry: ' prod ' }), 'prod');
    assert.throws(
      () => validateInputs(base({ candidateType: 'model', candidateModel: uri, registry: 'other' })),
      inputErr('candidateModel', /is in registry 'shared', not in registry 'other'/),
    );
  });
  test('candidate and production read in the registry: registry ids, no studio URL; missing model names the registry', async () => {
    const f = new Fake();
    f.registry = 'shared';
    f.model('fraud', mv('fraud', '1', { tags: { stage: 'production' }, properties: { 'metric.auc': '0.8' } }));
    f.model('fraud', mv('fraud', '2', { properties: { 'metric.auc': '0.9' } }));
    const e = await evaluateModel(
      base({
        candidateType: 'model',
        candidateModel: 'azureml://registries/shared/models/fraud/versions/2',
        metrics: 'auc higher',
      }),
      { ops: f, log: log() },
    );
    assert.equal(e.verdict, 'better');
    assert.equal(e.candidate.id, 'azureml://registries/shared/models/fraud/versions/2');
    assert.equal(e.baseline.side?.id, 'azureml://registries/shared/models/fraud/versions/1');
    assert.equal(e.candidate.model?.studioUrl, '');
    await assert.rejects(
      evaluateModel(base({ candidateType: 'model', candidateModel: 'churn:1', metrics: 'auc higher' }), {
        ops: f,
        log: log(),
      }),
      inputErr(
        'candidateModel',
        /^Input 'candidateModel': model 'churn' version 1 was not found in registry 'shared'$/,
      ),
    );
  });
  test("an endpoint serving a version of the task's registry is production; another registry is refused in one line", async () => {
    const f = new Fake();
    f.registry = 'shared';
    f.job('train-9', { auc: 0.85 });
    f.model('fraud', mv('fraud', '1', { properties: { 'metric.auc': '0.9' } }));
    f.endpoints.set('fraud-ep', {
      traffic: { blue: 100 },
      deployments: { blue: 'azureml://registries/shared/models/fraud/versions/1' },
    });
    const e = await evaluateModel(
      base({ candidateJob: 'train-9', baseline: 'endpoint', endpointName: 'fraud-ep', metrics: 'auc higher' }),
      { ops: f, log: log() },
    );
    assert.equal(e.verdict, 'not-better');
    assert.equal(e.baseline.side?.id, 'azureml://registries/shared/models/fraud/versions/1');
    f.registry = 'other';
    await assert.rejects(
      evaluateModel(
        base({ candidateJob: 'train-9', baseline: 'endpoint', endpointName: 'fraud-ep', metrics: 'auc higher' }),
        {
          ops: f,
          log: log(),
        },
      ),
      (err: Error) => err instanceof UserError && /set the registry input to 'shared'/.test(err.message),
    );
  });
});
