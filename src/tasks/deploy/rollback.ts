// The rollout's undo, in one place: on any failure or cancellation after the first write, a mirror that was set is
// cleared, traffic goes back to exactly the map saved before the first change (GET → PUT, with a fresh, non-aborted
// signal) and the new deployment's container log tail is printed. The failure becomes a RolloutFailed carrying what
// was measured up to then.
import { clearMirror } from './mirror';
import { sectionOf } from './observe';
import type { Rollout } from './rollout';
import { fmtTraffic, rollbackTraffic } from './traffic';
import { RolloutFailed, type DeployDeps, type DeployOps } from './types';

/** Undo what the rollout changed; the error to throw (the cancellation's reason, or a RolloutFailed). */
export async function rollback(r: Rollout, err: unknown): Promise<unknown> {
  const { deps, result } = r;
  const { log, signal } = deps;
  const ep = result.endpointName;
  const cancelled = !!signal?.aborted;
  sectionOf(log)(`${cancelled ? 'Cancelled' : 'Failed'}: restoring the traffic of endpoint ${ep}`);
  const mirrorCleared = r.touched.mirror ? await clearMirror(deps.ops, ep, log) : undefined;
  const restored = await restoreTraffic(deps.ops, ep, r.seen.trafficBefore, log, result.endpointCreated);
  result.trafficAfter = restored?.traffic ?? result.trafficAfter;
  if (r.touched.deployment && !cancelled)
    await printLogs(deps.ops, ep, result.deploymentName, r.inputs.logTail ?? 100, log);
  const restoredText =
    (mirrorCleared === undefined
      ? ''
      : mirrorCleared
        ? 'mirror traffic cleared, '
        : 'mirror traffic NOT cleared (see the log), ') +
    (!restored
      ? 'traffic could not be verified (see the log)'
      : restored.changed
        ? `traffic restored to ${fmtTraffic(restored.traffic)}`
        : `traffic unchanged (${fmtTraffic(restored.traffic)})`);
  if (cancelled) {
    log.info(`Cancelled during the rollout of ${result.deploymentName}: ${restoredText}.`);
    return signal!.reason ?? err;
  }
  const msg = err instanceof Error ? err.message : String(err);
  result.failure = `${msg.replace(/\.$/, '')}; ${restoredText}`;
  return new RolloutFailed(result.failure, result, { cause: err });
}

/** GET → compare with the saved map → PUT the saved map (fresh signal: also after a cancellation). */
export async function restoreTraffic(
  ops: DeployOps,
  ep: string,
  saved: Record<string, number>,
  log: DeployDeps['log'],
  created: boolean,
): Promise<{ traffic: Record<string, number>; changed: boolean } | undefined> {
  const fresh = () => AbortSignal.timeout(180_000);
  try {
    const cur = await ops.getEndpoint(ep, fresh());
    if (!cur) {
      log.info(`Endpoint ${ep} does not exist: nothing to restore.`);
      return { traffic: {}, changed: false };
    }
    const names = (await ops.listDeployments(ep, fresh())).map((d) => d.name);
    const plan = rollbackTraffic(saved, cur.traffic, names);
    if (!plan) {
      log.info(
        `Traffic of ${ep} is unchanged: ${fmtTraffic(cur.traffic)}${created ? ' (endpoint created by this run)' : ''}.`,
      );
      return { traffic: cur.traffic, changed: false };
    }
    if (plan.dropped.length)
      log.warning(`Deployment(s) ${plan.dropped.join(', ')} no longer exist; their share cannot be restored.`);
    const after = await ops.setTraffic(ep, plan.traffic, fresh());
    log.info(`Traffic of ${ep} restored to ${fmtTraffic(after)}.`);
    return { traffic: after, changed: true };
  } catch (e) {
    log.warning(
      `Restoring the traffic of ${ep} failed: ${(e as Error).message}. Set it back by hand to: ${fmtTraffic(saved)}.`,
    );
    return undefined;
  }
}

async function printLogs(ops: DeployOps, ep: string, dep: string, tail: number, log: DeployDeps['log']): Promise<void> {
  try {
    const text = await ops.logs(ep, dep, tail, AbortSignal.timeout(60_000));
    log.info(`----- container log of deployment ${dep} (last ${tail} lines) -----`);
    for (const line of (text || '(empty)').replace(/\r/g, '').split('\n')) log.info(line);
    log.info(`----- end of container log -----`);
  } catch (e) {
    log.warning(`Could not read the container log of ${dep}: ${(e as Error).message}`);
  }
}
