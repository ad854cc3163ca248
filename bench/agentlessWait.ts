// Agentless wait benchmark (section 8 of bench/run.ts; also `tsx bench/agentlessWait.ts [--quick]` alone). Issue 11.
//
// The same job watched at once by
//   - AzureMLJobWait@1 run the way the Azure DevOps server runs it (test/emulator/devops/serverJobs.ts: one PATCH
//     arming the AzureDevOps webhook, then nothing until Azure ML posts TaskCompleted to the plan events API), and
//   - the agent task's poller, waitForJob from src/tasks/job.ts (1 s ×1.5 → 10 s cap, 20 s after 10 min of one status).
// Notice delay = when each noticed the end − when the emulator recorded the terminal status (jobStatusHistory).
// ARM reads while waiting: job GETs in the emulator's request log for that job, minus the poller's own count (the
// server task sends one PATCH and no GET). Short jobs (sleep 5) ×3 and long jobs (sleep 60; --quick: 25) ×2.
// What this does NOT measure: the real service's delay between a job's end and its webhook call, and the real
// server's handling of the event (both emulated here at loopback speed).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ClientSecretCredential } from '@azure/identity';
import { createAzureMLContext, wsPath, type AzureMLContext, type WorkspaceRef } from '../src/azureml';
import { createJob, TERMINAL_STATUSES } from '../src/azureml/jobs';
import { azureOps, waitForJob, type WaitOps } from '../src/tasks/job';
import { startAzureInABox, type AzureInABox } from '../test/emulator';
import { jobStatusHistory } from '../test/emulator/arm/jobs';
import { runServerTask } from '../test/emulator/devops/serverJobs';
import { Report, fmtMs, fmtRatio, median, ratio, runStandalone } from './lib';

const TASK = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'tasks', 'AzureMLJobWaitV1', 'task.json'), 'utf8'));
const quiet = { info: () => {}, warning: () => {}, debug: () => {} };

interface Run {
  job: string;
  seconds: number;
  agentlessMs: number;
  agentlessResult: string;
  pollMs: number;
  pollReads: number;
  agentlessReads: number;
  patches: number;
}

async function oneRun(
  box: AzureInABox,
  ctx: AzureMLContext,
  seconds: number,
  i: number,
  startAfterMs = 0,
): Promise<Run> {
  await new Promise((r) => setTimeout(r, startAfterMs));
  const name = `bench-agentless-${seconds}s-${i}-${Date.now().toString(36)}`;
  const ws = wsPath(ctx.ws);
  await createJob(ctx, name, {
    properties: {
      jobType: 'Command',
      command: `sleep ${seconds}`,
      experimentName: 'bench-agentless',
      environmentId: 'azureml://registries/azureml/environments/sklearn-1.5/labels/latest',
      computeId: `${ws}/computes/cpu-cluster`,
    },
  });
  const conn = {
    id: 'bench-connection',
    url: box.armUrl,
    subscriptionId: box.subscriptionId,
    tenantId: box.tenantId,
    clientId: box.clientId,
    clientSecret: box.clientSecret,
  };
  const server = runServerTask(box.ctx, {
    task: TASK,
    inputs: { connection: conn.id, resourceGroup: box.resourceGroup, workspace: box.workspace, jobName: name },
    connections: [conn],
    timeoutMs: 600_000,
  });
  const base = azureOps(ctx);
  let pollReads = 0;
  const ops: WaitOps = {
    ...base,
    readJob: async (n) => {
      pollReads++;
      return base.readJob(n);
    },
  };
  const [agentless, poll] = await Promise.all([
    server.done.then((r) => ({ at: Date.now(), result: r.result })),
    waitForJob(name, {
      ops,
      log: quiet,
      progress: () => {},
      streamLogs: false,
      timeoutMs: 0,
      cancelOnCancel: false,
    }).then((o) => o.noticedAt),
  ]);
  const term = jobStatusHistory(box.ctx, `${ws}/jobs/${name}`).find((h) => TERMINAL_STATUSES.has(h.status));
  if (!term) throw new Error(`job ${name}: no terminal status`);
  const t = Date.parse(term.time);
  const onJob = box.requests.filter(
    (q) => q.host === 'arm' && q.url.split('?')[0]!.replace(/^\/+/, '/').endsWith(`/jobs/${name}`),
  );
  const gets = onJob.filter((q) => q.method === 'GET').length;
  return {
    job: name,
    seconds,
    agentlessMs: agentless.at - t,
    agentlessResult: agentless.result,
    pollMs: poll - t,
    pollReads,
    agentlessReads: gets - pollReads,
    patches: onJob.filter((q) => q.method === 'PATCH').length,
  };
}

export async function runAgentlessWaitBench(opts: { quick?: boolean; report?: Report } = {}): Promise<{ runs: Run[] }> {
  const report = opts.report ?? new Report();
  const box = await startAzureInABox({ fastLro: true });
  try {
    const cred = new ClientSecretCredential(box.tenantId, box.clientId, box.clientSecret, {
      authorityHost: box.authorityHost,
      disableInstanceDiscovery: true,
    });
    const ws: WorkspaceRef = {
      subscriptionId: box.subscriptionId,
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      armUrl: box.armUrl,
      tenantId: box.tenantId,
    };
    const ctx = createAzureMLContext(ws, cred, { scope: 'https://management.core.windows.net/.default' });
    const longS = opts.quick ? 25 : 60;
    console.log(
      `  running: 3 short jobs (sleep 5) and 2 long jobs (sleep ${longS}), each watched by AzureMLJobWait@1 (emulated server) and the agent task's poller at once…`,
    );
    const runs = await Promise.all([
      oneRun(box, ctx, 5, 1),
      oneRun(box, ctx, 5, 2, 1700),
      oneRun(box, ctx, 5, 3, 3300),
      oneRun(box, ctx, longS, 1),
      oneRun(box, ctx, longS, 2, 4300),
    ]);
    for (const r of runs)
      if (r.agentlessResult !== 'succeeded' || r.patches !== 1)
        report.note(`${r.job}: agentless result ${r.agentlessResult}, ${r.patches} PATCH(es)`);
    for (const [label, rs] of [
      ['short job (5 s)', runs.filter((r) => r.seconds === 5)],
      [`long job (${longS} s)`, runs.filter((r) => r.seconds === longS)],
    ] as const) {
      const a = median(rs.map((r) => r.agentlessMs)),
        p = median(rs.map((r) => r.pollMs));
      report.add({
        section: 'agentless',
        name: `notice delay, ${label}, AzureMLJobWait@1 (median of ${rs.length})`,
        value: fmtMs(a),
        peer: 'AzureMLJob@1 poller',
        peerValue: fmtMs(p),
        ratio: fmtRatio(ratio(a, p)),
      });
      const ar = Math.max(...rs.map((r) => r.agentlessReads)),
        pr = median(rs.map((r) => r.pollReads));
      report.add({
        section: 'agentless',
        name: `ARM job reads while waiting, ${label}`,
        value: String(ar),
        peer: 'AzureMLJob@1 poller',
        peerValue: String(pr),
        ratio: fmtRatio(ratio(ar, pr)),
        note: 'agentless: 1 PATCH, then none',
      });
    }
    report.note(
      "agentless notice delay = emulated Azure ML webhook + emulated server at loopback speed; the real service's webhook latency is not measured here",
    );
    return { runs };
  } finally {
    await box.stop();
  }
}

// standalone: `tsx bench/agentlessWait.ts [--quick]` (re-executes itself once to trust the emulator's CA)
if (require.main === module) {
  runStandalone(__filename, async () => {
    console.log('## Agentless wait (bench/agentlessWait.ts)');
    const r = await runAgentlessWaitBench({ quick: process.argv.includes('--quick') });
    for (const x of r.runs)
      console.log(
        `  ${x.job}: agentless +${fmtMs(x.agentlessMs)} (${x.agentlessResult}, ${x.agentlessReads} GETs, ${x.patches} PATCH), poller +${fmtMs(x.pollMs)} with ${x.pollReads} GETs`,
      );
  });
}
