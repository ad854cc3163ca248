// The optional mirror stage (mirrorPercent > 0, managed endpoint with another live deployment): the endpoint's
// mirrorTraffic = {new: N} (api-version 2023-04-01, raw REST: the SDK drops the field), requests through the endpoint
// for mirrorSeconds so copies reach the new deployment (their answers are discarded by the service), then the new
// deployment is judged by what its container log shows for that window (scoring exceptions and 5xx answers fail the
// stage) and its provisioningState; mirrorTraffic is cleared again before the first traffic step.
import { InputError, UserError } from '../../pipeline/errors';
import type { EndpointKind } from '../../azureml/endpoints';
import { describeAnalysis, runProbes, stepFailure, type ProbeAnalysis } from './analysis';
import type { Plan } from './plan';
import { fmtTraffic } from './traffic';
import type { DeployDeps, DeployOps, MirrorRecord } from './types';

/** mirrorPercent / mirrorSeconds checked (0 = no mirror stage); a Kubernetes endpoint cannot mirror (Azure ML limitation). */
export function checkMirrorInputs(
  percent: number | undefined,
  seconds: number | undefined,
  kind: EndpointKind,
): { percent: number; seconds: number } {
  const p = percent ?? 0,
    sec = seconds ?? 60;
  if (!Number.isInteger(p) || p < 0 || p > 50)
    throw new InputError(
      'mirrorPercent',
      `${p} is not a whole percentage between 0 and 50 (Azure ML mirrors at most 50% of an endpoint's traffic)`,
    );
  if (!Number.isInteger(sec) || sec < 0 || sec > 3600)
    throw new InputError('mirrorSeconds', `${sec} is not a whole number of seconds between 0 and 3600`);
  if (p > 0 && kind === 'Kubernetes')
    throw new InputError(
      'mirrorPercent',
      'mirrored traffic is not supported for Kubernetes online endpoints (Azure ML limitation); set it to 0',
    );
  return { percent: p, seconds: sec };
}

/**
 * Requests the task sends through the endpoint during the mirror window: at least healthCheckRequests, and enough that
 * about three copies are expected at the mirror percentage (20 % → 15), at most 300.
 */
export function mirrorRequestCount(percent: number, healthCheckRequests: number): number {
  if (percent <= 0) return 0;
  return Math.min(300, Math.max(healthCheckRequests, Math.ceil(300 / percent)));
}

/** Lines of `after` that `before` did not have (multiset difference: log tails overlap, timestamps make lines distinct). */
export function newLogLines(before: string, after: string): string[] {
  const seen = new Map<string, number>();
  for (const l of before.replace(/\r/g, '').split('\n')) seen.set(l, (seen.get(l) ?? 0) + 1);
  const out: string[] = [];
  for (const l of after.replace(/\r/g, '').split('\n')) {
    const n = seen.get(l) ?? 0;
    if (n > 0) seen.set(l, n - 1);
    else if (l.trim()) out.push(l);
  }
  return out;
}

export interface MirrorLogVerdict {
  scoringRequests: number;
  errors: number;
  firstError?: string;
}

/**
 * What the Azure ML inference server's log says about a window: access lines `"POST /score …" <status>` (counted;
 * 5xx = error) and `Encountered Exception` (the server's line for an exception in run(); counted as errors when the
 * log has no access lines). firstError: the exception's last traceback line (`ValueError: …`) or the access line.
 */
export function judgeMirrorLog(lines: readonly string[]): MirrorLogVerdict {
  let requests = 0,
    failedAccess = 0,
    exceptions = 0;
  let firstError: string | undefined;
  let inTrace = false;
  for (const l of lines) {
    const access = /"POST \/score[^"]*"\s+(\d{3})\b/.exec(l);
    if (access) {
      inTrace = false;
      requests++;
      if (Number(access[1]) >= 500) {
        failedAccess++;
        firstError ??= `HTTP ${access[1]} from the scoring server`;
      }
      continue;
    }
    if (/Encountered Exception/i.test(l)) {
      exceptions++;
      inTrace = true;
      continue;
    }
    if (inTrace && /^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b.*/.test(l.trim())) {
      if (!firstError || /^HTTP /.test(firstError)) firstError = l.trim().slice(0, 200);
      inTrace = false;
    }
  }
  const errors = requests ? failedAccess : exceptions;
  return { scoringRequests: requests, errors, ...(errors && firstError ? { firstError } : {}) };
}

export interface MirrorStageArgs {
  ops: DeployOps;
  log: DeployDeps['log'];
  deps: DeployDeps;
  section(t: string): void;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  signal?: AbortSignal;
  plan: Plan;
  epName: string;
  depName: string;
  cred?: string;
  scoringUri?: string;
  healthN: number;
  logTail: number;
}

/**
 * Mirror N % of the endpoint's traffic to the new deployment for the window, send requests through the endpoint meanwhile
 * (spread over the window), then judge the deployment by its container log for the window and its provisioningState.
 * Clears the mirror when the deployment passes; on a failure the caller's rollback clears it.
 */
export async function mirrorStage(a: MirrorStageArgs): Promise<MirrorRecord> {
  const { ops, log, epName, depName, signal } = a;
  const { percent, seconds } = a.plan.mirror;
  a.section(
    `Mirror stage: ${percent}% of the traffic of ${epName} copied to ${depName} for ${seconds} s (its answers are discarded)`,
  );
  let before = '';
  try {
    before = await ops.logs(epName, depName, a.logTail, signal);
  } catch (e) {
    signal?.throwIfAborted();
    log.warning(
      `Could not read the container log of ${depName} before the mirror window (${(e as Error).message}): the whole log tail is judged.`,
    );
  }
  const set = await ops.setMirrorTraffic(epName, { [depName]: percent }, signal);
  log.info(`Mirror traffic of ${epName}: ${fmtTraffic(set)} (live traffic unchanged).`);
  a.deps.progress(52, `Mirroring ${percent}%`);

  const rec: MirrorRecord = { percent, seconds, logged: { scoringRequests: 0, errors: 0 } };
  const analysis = await mirrorWindow(a);
  if (analysis) {
    rec.endpoint = analysis.latency;
    rec.endpointAnalysis = analysis;
    log.info(`Mirror window: ${describeAnalysis(analysis)} (through the endpoint, answered by the live deployment)`);
    const why = stepFailure(`Mirror stage: the requests through endpoint ${epName}`, analysis);
    if (why) throw new UserError(why);
  }
  rec.logged = await judgeMirroredDeployment(a, before);
  const cleared = await ops.setMirrorTraffic(epName, {}, signal);
  log.info(`Mirror traffic of ${epName} cleared (${fmtTraffic(cleared)}).`);
  a.deps.progress(60, 'Mirror stage passed');
  return rec;
}

/**
 * The window: requests with the sample request through the endpoint, spread over it (the live deployment answers them:
 * judged like probes, inconclusive ones retried, without its latency or answer checks), then the rest of the window
 * waited out, with progress each quarter. Undefined when there is nothing to send.
 */
async function mirrorWindow(a: MirrorStageArgs): Promise<ProbeAnalysis | undefined> {
  const { ops, log, epName, depName, signal } = a;
  const { percent, seconds } = a.plan.mirror;
  const sample = a.plan.sample;
  const n = sample && a.cred && a.scoringUri ? mirrorRequestCount(percent, a.healthN) : 0;
  const windowMs = seconds * 1000;
  const t0 = Date.now();
  let sentSoFar = 0;
  if (n)
    log.info(
      `Sending ${n} request(s) through endpoint ${epName} over ${seconds} s (about ${Math.round((n * percent) / 100)} copies expected at ${depName}).`,
    );
  else log.info(`No sample request: the window carries only the endpoint's own traffic.`);
  let reported = 0;
  const report = () => {
    const elapsed = Math.min(seconds, Math.round((Date.now() - t0) / 1000));
    const quarter = seconds ? Math.floor((4 * elapsed) / seconds) : 4;
    if (quarter > reported && quarter < 4) {
      reported = quarter;
      log.info(`Mirror stage: ${elapsed}/${seconds} s${n ? `, ${sentSoFar}/${n} request(s) sent` : ''}`);
    }
    a.deps.progress(
      52 + Math.round((6 * elapsed) / Math.max(1, seconds)),
      `Mirroring ${percent}% (${elapsed}/${seconds} s)`,
    );
  };
  const analysis = n
    ? await runProbes(
        () => ops.score(a.scoringUri!, sample!.body, { credential: a.cred!, contentType: sample!.contentType, signal }),
        n,
        {
          thresholds: { ...a.plan.thresholds, maxP95Ms: undefined, maxLatencyMs: undefined },
          sleep: a.sleep,
          signal,
          beforeProbe: async (i) => {
            sentSoFar = i;
            if (i === 0) return;
            report();
            const next = t0 + (i * windowMs) / n;
            if (next > Date.now()) await a.sleep(next - Date.now(), signal);
          },
          onRetry: (e) =>
            log.info(
              `  request ${e.probe}/${n} attempt ${e.attempt} inconclusive (${e.detail}): retrying in ${(e.waitMs / 1000).toFixed(1)} s`,
            ),
        },
      )
    : undefined;
  sentSoFar = n;
  if (n) report();
  const last = t0 + windowMs;
  while (Date.now() < last) {
    await a.sleep(Math.min(5000, last - Date.now()), signal);
    report();
  }
  return analysis;
}

/** The verdict: the deployment's own state and what its container log shows for the window (any failed request fails). */
async function judgeMirroredDeployment(a: MirrorStageArgs, logBefore: string): Promise<MirrorLogVerdict> {
  const { ops, log, epName, depName } = a;
  const dep = await ops.getDeployment(epName, depName);
  if (dep?.provisioningState !== 'Succeeded')
    throw new UserError(`Mirror stage: deployment ${depName} is ${dep?.provisioningState ?? 'gone'}`);
  const after = await ops.logs(epName, depName, a.logTail, a.signal);
  const l = judgeMirrorLog(newLogLines(logBefore, after));
  if (l.errors) {
    throw new UserError(
      `Mirror stage failed: deployment ${depName} logged ${l.errors} failed scoring request(s)${l.scoringRequests ? ` of ${l.scoringRequests}` : ''} on mirrored traffic in ${a.plan.mirror.seconds} s (first: ${l.firstError ?? 'see its container log'})`,
    );
  }
  if (!l.scoringRequests)
    log.warning(
      `The container log of ${depName} shows no scoring request in the mirror window (no copy arrived, or its server logs no access lines): nothing to judge beyond its provisioning state.`,
    );
  else
    log.info(
      `Mirror stage passed: deployment ${depName} logged ${l.scoringRequests} scoring request(s) in the window, none failed.`,
    );
  return l;
}

/** The rollback's half for the mirror: `{}` with a fresh signal (also after a cancellation); false when it failed. */
export async function clearMirror(ops: DeployOps, ep: string, log: DeployDeps['log']): Promise<boolean> {
  try {
    const m = await ops.setMirrorTraffic(ep, {}, AbortSignal.timeout(180_000));
    log.info(
      `Mirror traffic of ${ep} cleared${Object.values(m).some((v) => v > 0) ? ` (the service still reports ${fmtTraffic(m)})` : ''}.`,
    );
    return !Object.values(m).some((v) => v > 0);
  } catch (e) {
    log.warning(
      `Clearing the mirror traffic of ${ep} failed: ${(e as Error).message}. Set it back by hand: az ml online-endpoint update --name ${ep} --mirror-traffic "" (or set every deployment's mirror traffic to 0).`,
    );
    return false;
  }
}
