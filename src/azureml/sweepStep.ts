// A sweep step in a pipeline job (`jobs.<name>.type: sweep` with `trial: <command component>`), converted as
// azure-ai-ml converts it (1.4.0, Debian python3-azure 20230112+git-1: entities/_builders/sweep.py Sweep._to_rest_object
// — the picked fields limits, sampling_algorithm, objective, early_termination, search_space in their YAML shape;
// early_termination as the REST policy's as_dict() (snake_case); `type: sweep`; `trial: {componentId: <id>}` once the
// trial component is registered (_get_trial_component_rest_obj), and componentId = the same id). Seen in its output for
// cli/jobs/pipelines-with-components/pipeline_with_hyperparameter_sweep/pipeline.yml (test/unit/sparkSpec.test.ts).
import { checkKeys, expectMap, optDuration, optInt, reqString, type KeyPath, type YamlSource } from './yamlSpec';

export const SWEEP_NODE_KEYS = [
  'type',
  'name',
  'compute',
  'display_name',
  'description',
  'tags',
  'properties',
  'inputs',
  'outputs',
  'trial',
  'sampling_algorithm',
  'search_space',
  'objective',
  'limits',
  'early_termination',
  'identity',
];

/** jobSpec.ts's validators, reused (they return REST shapes; only their checks are wanted here, and early_termination) */
export interface SweepValidators {
  parseSampling(src: YamlSource, p: KeyPath, v: unknown): Record<string, unknown>;
  parseEarlyTermination(src: YamlSource, p: KeyPath, v: unknown): Record<string, unknown> | undefined;
  parseDistributionValue(src: YamlSource, p: KeyPath, v: unknown): unknown[];
}

const snakeKey = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The sweep node's own fields (YAML shape), validated with the sweep job's rules. */
export function parseSweepNode(
  src: YamlSource,
  p: KeyPath,
  m: Record<string, unknown>,
  v: SweepValidators,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (m.sampling_algorithm === undefined)
    throw src.error(
      [...p, 'sampling_algorithm'],
      "a sweep step needs a 'sampling_algorithm' (random, grid or bayesian)",
    );
  v.parseSampling(src, [...p, 'sampling_algorithm'], m.sampling_algorithm);
  out.sampling_algorithm = m.sampling_algorithm;
  if (m.search_space === undefined) throw src.error([...p, 'search_space'], "a sweep step needs a 'search_space'");
  const ss = expectMap(src, [...p, 'search_space'], m.search_space);
  for (const [k, d] of Object.entries(ss)) v.parseDistributionValue(src, [...p, 'search_space', k], d);
  out.search_space = ss;
  if (m.objective === undefined)
    throw src.error([...p, 'objective'], "a sweep step needs an 'objective' (goal, primary_metric)");
  const obj = expectMap(src, [...p, 'objective'], m.objective);
  checkKeys(src, [...p, 'objective'], obj, ['goal', 'primary_metric'], 'objective');
  const goal = reqString(src, [...p, 'objective', 'goal'], obj.goal, 'objective.goal');
  if (!/^(minimize|maximize)$/i.test(goal))
    throw src.error([...p, 'objective', 'goal'], `expected minimize or maximize, got '${goal}'`);
  reqString(src, [...p, 'objective', 'primary_metric'], obj.primary_metric, 'objective.primary_metric');
  out.objective = { goal: obj.goal, primary_metric: obj.primary_metric };
  if (m.limits !== undefined && m.limits !== null) {
    const lm = expectMap(src, [...p, 'limits'], m.limits);
    checkKeys(
      src,
      [...p, 'limits'],
      lm,
      ['max_total_trials', 'max_concurrent_trials', 'timeout', 'trial_timeout'],
      'sweep limits',
    );
    optInt(src, [...p, 'limits', 'max_total_trials'], lm.max_total_trials, 1);
    optInt(src, [...p, 'limits', 'max_concurrent_trials'], lm.max_concurrent_trials, 1);
    optDuration(src, [...p, 'limits', 'timeout'], lm.timeout);
    optDuration(src, [...p, 'limits', 'trial_timeout'], lm.trial_timeout);
    out.limits = lm;
  }
  const et = v.parseEarlyTermination(src, [...p, 'early_termination'], m.early_termination);
  if (et) out.early_termination = Object.fromEntries(Object.entries(et).map(([k, x]) => [snakeKey(k), x]));
  return out;
}

/** The node fields azure-ai-ml adds for a sweep step, given the registered trial component's id. */
export function sweepNodeFields(sweep: Record<string, unknown>, trialComponentId: string): Record<string, unknown> {
  return { ...sweep, trial: { componentId: trialComponentId } };
}
