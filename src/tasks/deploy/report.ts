// What the deploy task leaves behind: the JSON deployment report, the release summary (markdown) and what the
// governance hook is told.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describeAnalysis, describeCounts } from './analysis';
import { fmtTraffic } from './traffic';
import type { DeployedInfo, DeployInputs, DeployResult } from './types';
import { mdEscape } from '../markdown';

export function deployedInfo(r: DeployResult): DeployedInfo {
  return {
    endpointName: r.endpointName,
    deploymentName: r.deploymentName,
    modelId: r.modelId,
    scoringUri: r.scoringUri,
    trafficBefore: r.trafficBefore,
    trafficAfter: r.trafficAfter,
    smoke: r.smoke,
    unchanged: r.unchanged,
  };
}

export async function writeReport(inputs: DeployInputs, r: DeployResult, model: string): Promise<string | undefined> {
  if (!inputs.reportDir) return undefined;
  const report = {
    endpoint: r.endpointName,
    deployment: r.deploymentName,
    endpointType: r.endpointKind.toLowerCase(),
    model,
    modelId: r.modelId,
    scoringUri: r.scoringUri,
    studioUrl: r.studioUrl,
    unchanged: r.unchanged,
    trafficBefore: r.trafficBefore,
    trafficAfter: r.trafficAfter,
    smokeTest: r.smoke ?? null,
    smokeAnalysis: r.smokeAnalysis ?? null,
    mirrorStage: r.mirror ?? null,
    steps: r.steps,
    deletedDeployments: r.deleted,
    finishedAt: new Date().toISOString(),
  };
  await fsp.mkdir(inputs.reportDir, { recursive: true });
  const file = path.join(inputs.reportDir, `deployment-report-${r.endpointName}-${r.deploymentName}.json`);
  await fsp.writeFile(file, JSON.stringify(report, null, 2) + '\n', 'utf8');
  return file;
}

/** Markdown for the release summary. */
export function deploySummary(r: DeployResult): string {
  const esc = mdEscape;
  const t = (m: Record<string, number>) => esc(fmtTraffic(m));
  const lines = [
    `### Azure ML deployment ${esc(r.endpointName)} / ${esc(r.deploymentName)}`,
    '',
    r.failure
      ? `**Rolled back**: ${esc(r.failure)}`
      : r.unchanged
        ? `Already serving this model with 100% of the traffic: ${r.tagsUpdated ? 'not redeployed; its release / approval tags were updated' : 'nothing changed'}.`
        : `Rolled out with ${r.steps.length} traffic step(s).`,
    '',
    '| | |',
    '|---|---|',
    `| Endpoint | [${esc(r.endpointName)}](${r.studioUrl}) (${r.endpointKind.toLowerCase()}${r.endpointCreated ? ', created' : ''}) |`,
    `| Deployment | ${esc(r.deploymentName)} |`,
    r.modelStudioUrl
      ? `| Model | [${esc(r.modelId ?? '')}](${r.modelStudioUrl}) |`
      : `| Model | ${esc(r.modelId ?? '-')} |`,
    `| Traffic before | ${t(r.trafficBefore)} |`,
    `| Traffic after | ${t(r.trafficAfter)} |`,
  ];
  if (r.scoringUri) lines.push(`| Scoring URI | ${esc(r.scoringUri)} |`);
  if (r.smokeAnalysis) lines.push(`| Smoke test | ${esc(describeAnalysis(r.smokeAnalysis))} |`);
  else if (r.smoke) {
    const s = r.smoke;
    lines.push(`| Smoke test | ${s.ok}/${s.requests} OK, p50 ${s.p50Ms} ms, p95 ${s.p95Ms} ms, max ${s.maxMs} ms |`);
  }
  if (r.mirror) {
    const m = r.mirror;
    lines.push(
      `| Mirror stage | ${m.skipped ? `${m.percent}% requested, skipped: ${esc(m.skipped)}` : `${m.percent}% of the traffic for ${m.seconds} s: ${m.logged.scoringRequests} mirrored request(s) in ${esc(r.deploymentName)}'s log, ${m.logged.errors} failed${m.endpoint ? `; ${m.endpoint.ok}/${m.endpoint.requests} OK through the endpoint` : ''}`} |`,
    );
  }
  if (r.deleted.length) lines.push(`| Deleted | ${esc(r.deleted.join(', '))} |`);
  if (r.steps.length) {
    lines.push('', '| Step | Traffic | Health check (probes) | Verdict (rule) |', '|---|---|---|---|');
    r.steps.forEach((s, i) => {
      const a = s.analysis;
      const health = a
        ? `${a.passed}/${a.probes} OK, p95 ${a.latency.p95Ms ?? '-'} ms; ${describeCounts(a)}`
        : s.health
          ? `${s.health.ok}/${s.health.requests} OK, p95 ${s.health.p95Ms} ms`
          : (s.provisioningState ?? '');
      const verdict =
        (a
          ? `${a.verdict.toUpperCase()}: ${a.rule}`
          : s.provisioningState
            ? `provisioning ${s.provisioningState}`
            : '') +
        (s.metrics
          ? `; metrics (${s.metrics.requests} request(s), ${s.metrics.errors} error(s)) ${s.metrics.verdict.toUpperCase()}: ${s.metrics.rule}`
          : '');
      lines.push(`| ${i + 1}: ${s.percent}% | ${t(s.traffic)} | ${esc(health)} | ${esc(verdict)} |`);
    });
  }
  return lines.join('\n') + '\n';
}
