// Rollout step cost benchmark (section 9 of bench/run.ts; also `tsx bench/rolloutReads.ts` alone). Issue 10 §4.
//
// What one blue/green rollout of the bundled AzureMLModelDeploy task (as the agent runs it) costs per step, counted
// from Azure-in-a-box's request log (`box.requests`: every request the emulated ARM and the scoring front door
// answered, faulted ones included): probes (scoring requests through the front door), ARM reads (GETs: resources,
// long-running-operation status, Azure Monitor metrics apart) and ARM writes. The rollout: a deployment `green` next to
// a live `blue` (100 %), trafficSteps 10,50,100, smokeRequests 5, healthCheckRequests 5, stepWaitSeconds 0.
// Three rollouts of the same model and code, each on an endpoint of its own (blue deployed first, all in parallel):
//   - managed endpoint, no faults (the figure);
//   - peer "Kubernetes": the same on a Kubernetes endpoint — no Azure Monitor metrics exist there, so the task judges
//     by its probes only: the ARM/metrics reads a managed endpoint's step adds;
//   - peer "10 % faults": managed, with 10 % transient faults (429, 500, 503, dropped connection) on the front door's
//     /score (seeds 1–3, median per step): the extra requests the retried inconclusive probes cost.
// Steps are cut from the request log itself (not from log timestamps): a traffic step starts with the GET of the
// endpoint that precedes its traffic PUT and ends before the next one; the smoke test is the scoring requests before
// the first step; what follows the last step's last probe or metrics read (tags, reads of the result) is "finish".
// What this does NOT measure: the real service's latencies or its metrics ingestion delay (the box answers the
// metrics API at once, from what its front door served).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startAzureInABox, type AzureInABox } from '../test/emulator';
import type { RequestLogEntry } from '../test/emulator/http';
import { runBundledTask, type TaskRunWithLeaks } from '../test/helpers/agent';
import { scoringWorkspace } from '../test/helpers/deployAnalysisScenarios';
import { Report, WORK_DIR, fmtRatio, median, ratio, runStandalone } from './lib';

const ENV = 'azureml:AzureML-sklearn-1.5:1';
const STEPS = '10,50,100';
const FAULTS = {
  rate: 0.1,
  kinds: ['429', '500', '503', 'drop'] as Array<'429' | '500' | '503' | 'drop'>,
  hosts: ['inference'],
  pathFilter: /\/score$/,
};
const FAULT_SEEDS = [1, 2, 3];

export interface PhaseCount {
  phase: string;
  probes: number;
  /** scoring requests the task says it sent in the phase */ taskSent: number;
  /** scoring requests the front door logged */ sent: number;
  armReads: number;
  metricsReads: number;
  lroReads: number;
  armWrites: number;
}
export interface RolloutCount {
  endpoint: string;
  kind: 'managed' | 'kubernetes';
  seed?: number;
  result: string;
  phases: PhaseCount[];
}

const isScore = (q: RequestLogEntry) => q.host === 'inference' && /\/score$/.test(q.url.split('?')[0]!);
const isMetrics = (q: RequestLogEntry) =>
  q.host === 'arm' && /\/providers\/Microsoft\.Insights\/metrics$/i.test(q.url.split('?')[0]!);
const endpointUrl = (q: RequestLogEntry, ep: string) =>
  q.host === 'arm' && new RegExp(`/onlineEndpoints/${ep}$`, 'i').test(q.url.split('?')[0]!);

/**
 * Cuts one rollout's requests (those of the endpoint, ARM and the front door, in log order) into phases: prepare,
 * smoke, step 1..n, finish (see the header). Pure: unit-tested in test/unit/bench-rollout.test.ts.
 */
export function cutRollout(
  reqs: RequestLogEntry[],
  endpoint: string,
  probesPerStep: Array<{ probes: number; sent: number }>,
): PhaseCount[] {
  const starts: number[] = [];
  reqs.forEach((q, i) => {
    if (q.method === 'PUT' && endpointUrl(q, endpoint))
      starts.push(i > 0 && reqs[i - 1]!.method === 'GET' && endpointUrl(reqs[i - 1]!, endpoint) ? i - 1 : i);
  });
  const firstScore = reqs.findIndex(isScore);
  const smokeStart =
    firstScore >= 0 && (starts[0] === undefined || firstScore < starts[0]) ? firstScore : (starts[0] ?? reqs.length);
  let lastStepEnd = reqs.length;
  if (starts.length) {
    let k = reqs.length - 1;
    while (k >= starts.at(-1)! && !isScore(reqs[k]!) && !isMetrics(reqs[k]!)) k--;
    lastStepEnd = Math.max(k + 1, starts.at(-1)! + 1);
  }
  const bounds: Array<[string, number, number]> = [
    ['prepare', 0, smokeStart],
    ['smoke', smokeStart, starts[0] ?? lastStepEnd],
  ];
  starts.forEach((s, n) => bounds.push([`step ${n + 1}`, s, starts[n + 1] ?? lastStepEnd]));
  bounds.push(['finish', lastStepEnd, reqs.length]);
  return bounds.map(([phase, a, b], n) => {
    const qs = reqs.slice(a, b);
    const reads = qs.filter((q) => q.host === 'arm' && q.method === 'GET');
    return {
      phase,
      probes: n === 0 || phase === 'finish' ? 0 : (probesPerStep[n - 1]?.probes ?? 0),
      taskSent: n === 0 || phase === 'finish' ? 0 : (probesPerStep[n - 1]?.sent ?? 0),
      sent: qs.filter(isScore).length,
      armReads: reads.filter((q) => !isMetrics(q)).length,
      metricsReads: reads.filter(isMetrics).length,
      lroReads: reads.filter((q) =>
        /\/(mfeOperationsStatus|mfeOperationResults|operationStatus|operationResults)\//i.test(q.url),
      ).length,
      armWrites: qs.filter((q) => q.host === 'arm' && q.method !== 'GET').length,
    };
  });
}

/** probes per judged phase from the task's log: `Smoke test: … N probe(s), M request(s) sent …`, `Health check at p%: …` */
export function probesFromLog(stdout: string): Array<{ probes: number; sent: number }> {
  return stdout
    .split('\n')
    .filter((l) => /^(Smoke test|Health check at \d+%): /.test(l))
    .map((l) => {
      const m = /(\d+) probe\(s\), (\d+) request\(s\) sent/.exec(l);
      return { probes: Number(m?.[1] ?? 0), sent: Number(m?.[2] ?? 0) };
    });
}

async function deploy(
  box: AzureInABox,
  cwd: string,
  endpoint: string,
  kind: 'managed' | 'kubernetes',
  deploymentName: string,
  trafficSteps: string,
): Promise<TaskRunWithLeaks> {
  return runBundledTask('AzureMLModelDeploy', {
    box,
    scheme: 'secret',
    cwd,
    timeoutMs: 180_000,
    inputs: {
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      endpointName: endpoint,
      deploymentName,
      model: 'azureml:churn:1',
      codePath: 'ok',
      scoringScript: 'score.py',
      environment: ENV,
      sampleRequestFile: 'sample-request.json',
      expectedResponse: '{"predictions": [6.5, 6.5]}',
      authMode: 'key',
      smokeRequests: '5',
      healthCheckRequests: '5',
      stepWaitSeconds: '0',
      trafficSteps,
      ...(kind === 'managed'
        ? { endpointType: 'managed', instanceType: 'Standard_DS3_v2' }
        : { endpointType: 'kubernetes', compute: 'k8s-compute', instanceType: 'defaultinstancetype' }),
    },
  });
}

async function rollout(
  box: AzureInABox,
  cwd: string,
  endpoint: string,
  kind: 'managed' | 'kubernetes',
  seed?: number,
): Promise<RolloutCount> {
  const from = box.requests.length;
  if (seed !== undefined) box.faults.set({ ...FAULTS, seed });
  let r: TaskRunWithLeaks;
  try {
    r = await deploy(box, cwd, endpoint, kind, 'green', STEPS);
  } finally {
    if (seed !== undefined) box.faults.reset();
  }
  const mine = box.requests
    .slice(from)
    .filter(
      (q) =>
        (q.host === 'arm' && !/\/onlineEndpoints\//i.test(q.url)) ||
        new RegExp(`/(onlineEndpoints|endpoints)/${endpoint}(/|\\?|$)`, 'i').test(q.url) ||
        /mfeOperation|operationStatus|operationResults/i.test(q.url),
    );
  return {
    endpoint,
    kind,
    seed,
    result: `${r.result}${r.result === 'Succeeded' ? '' : `: ${r.message}`}`,
    phases: cutRollout(mine, endpoint, probesFromLog(r.stdout)),
  };
}

export async function runRolloutReadsBench(
  opts: { report?: Report } = {},
): Promise<{ managed: RolloutCount; kubernetes: RolloutCount; faulted: RolloutCount[] }> {
  const report = opts.report ?? new Report();
  const stateDir = path.join(WORK_DIR, 'box-rollout');
  fs.rmSync(stateDir, { recursive: true, force: true }); // a fresh box: endpoints of an earlier run would change the rollouts
  const box = await startAzureInABox({ fastLro: true, stateDir });
  try {
    const cwd = await scoringWorkspace(box, 'bench-rollout-');
    const eps: Array<[string, 'managed' | 'kubernetes']> = [
      ['rb-managed', 'managed'],
      ['rb-k8s', 'kubernetes'],
      ...FAULT_SEEDS.map((s) => [`rb-faults-${s}`, 'managed'] as [string, 'managed']),
    ];
    console.log(
      `  running: blue on ${eps.length} endpoints, then green (${STEPS}, 5 smoke + 5 health-check probes per step) on each, one at a time…`,
    );
    const blues = await Promise.all(eps.map(([ep, kind]) => deploy(box, cwd, ep, kind, 'blue', '100')));
    blues.forEach((b, i) => {
      if (b.result !== 'Succeeded') throw new Error(`blue on ${eps[i]![0]}: ${b.message}`);
    });
    const managed = await rollout(box, cwd, 'rb-managed', 'managed');
    const kubernetes = await rollout(box, cwd, 'rb-k8s', 'kubernetes');
    const faulted: RolloutCount[] = [];
    for (const s of FAULT_SEEDS) faulted.push(await rollout(box, cwd, `rb-faults-${s}`, 'managed', s));
    for (const x of [managed, kubernetes, ...faulted]) {
      if (!x.result.startsWith('Succeeded'))
        report.note(`rollout on ${x.endpoint}${x.seed ? ` (seed ${x.seed})` : ''}: ${x.result}`);
      // the task's own count of what it sent and the front door's log must agree, or the cut is wrong
      for (const p of x.phases)
        if (p.taskSent !== p.sent)
          report.note(
            `rollout on ${x.endpoint}, ${p.phase}: the task says ${p.taskSent} scoring request(s) sent, the front door logged ${p.sent}`,
          );
    }

    const byPhase = (x: RolloutCount, p: string) => x.phases.find((y) => y.phase === p);
    for (const p of managed.phases.map((x) => x.phase).filter((x) => x !== 'prepare' && x !== 'finish')) {
      const m = byPhase(managed, p)!,
        k = byPhase(kubernetes, p);
      const f = faulted.map((x) => byPhase(x, p)).filter((x): x is PhaseCount => !!x);
      const fSent = median(f.map((x) => x.sent)),
        fProbes = median(f.map((x) => x.probes));
      const label = p === 'smoke' ? 'smoke test' : `traffic ${p} (${STEPS.split(',')[Number(p.slice(5)) - 1]}%)`;
      report.add({
        section: 'rollout',
        name: `${label}: probes / requests sent`,
        value: `${m.probes} / ${m.sent}`,
        peer: `10 % faults (median of ${f.length})`,
        peerValue: `${fProbes} / ${fSent}`,
        ratio: fmtRatio(ratio(fSent, m.sent)),
        note: 'ratio = requests sent with faults ÷ without: the retried inconclusive attempts',
      });
      if (p !== 'smoke')
        report.add({
          section: 'rollout',
          name: `${label}: ARM reads + metrics reads`,
          value: `${m.armReads} + ${m.metricsReads}`,
          peer: 'Kubernetes endpoint',
          peerValue: k ? `${k.armReads} + ${k.metricsReads}` : 'n/a',
          ratio: k ? fmtRatio(ratio(m.armReads + m.metricsReads, k.armReads + k.metricsReads)) : undefined,
          note: `managed ${m.lroReads} of the ARM reads are LRO status polls; writes ${m.armWrites}${k ? ` (Kubernetes ${k.armWrites})` : ''}`,
        });
    }
    const tot = (x: RolloutCount) =>
      x.phases.reduce(
        (a, y) => ({
          reads: a.reads + y.armReads + y.metricsReads,
          metrics: a.metrics + y.metricsReads,
          writes: a.writes + y.armWrites,
          sent: a.sent + y.sent,
        }),
        { reads: 0, metrics: 0, writes: 0, sent: 0 },
      );
    const tm = tot(managed),
      tk = tot(kubernetes),
      tf = median(faulted.map((x) => tot(x).sent));
    report.add({
      section: 'rollout',
      name: 'whole rollout: ARM reads (metrics) / writes',
      value: `${tm.reads} (${tm.metrics}) / ${tm.writes}`,
      peer: 'Kubernetes endpoint',
      peerValue: `${tk.reads} (${tk.metrics}) / ${tk.writes}`,
      ratio: fmtRatio(ratio(tm.reads, tk.reads)),
      note: 'prepare (checks, deployment PUT and its LRO polls at fast emulator timing) and finish included',
    });
    report.add({
      section: 'rollout',
      name: 'whole rollout: scoring requests sent',
      value: String(tm.sent),
      peer: `10 % faults (median of ${faulted.length})`,
      peerValue: String(tf),
      ratio: fmtRatio(ratio(tf, tm.sent)),
    });
    report.note(
      "rollout: counts from the emulator's request log, not timings; LRO status polls depend on the emulator's fast timing (prepare phase), the per-step probe and metrics counts do not",
    );
    return { managed, kubernetes, faulted };
  } finally {
    await box.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

// standalone: `tsx bench/rolloutReads.ts` (re-executes itself once to trust the emulator's CA)
if (require.main === module) {
  runStandalone(__filename, async () => {
    console.log('## Rollout step cost (bench/rolloutReads.ts)');
    const r = await runRolloutReadsBench();
    for (const x of [r.managed, r.kubernetes, ...r.faulted]) {
      console.log(`  ${x.endpoint} (${x.kind}${x.seed ? `, faults seed ${x.seed}` : ''}): ${x.result}`);
      for (const p of x.phases)
        console.log(
          `    ${p.phase.padEnd(8)} probes ${p.probes}, sent ${p.sent}, ARM reads ${p.armReads} (LRO ${p.lroReads}), metrics ${p.metricsReads}, writes ${p.armWrites}`,
        );
    }
  });
}
