// Model card for release approvers (uploaded as a summary by the deploy task when it runs in a release): the model
// version, its lineage (build, commit, training job, data), metrics against production (from the evaluate task's
// evaluation.json when there is one), the deployment's smoke-test latency, and links to Azure ML studio.
import fs from 'node:fs';
import type { ModelVersion } from '@azure/arm-machinelearning';
import { armGetOptional, getModelVersion, studioUrl, wsPath, type AzureMLContext, type WorkspaceRef } from '../azureml';
import { findRegistryModelForWorkspace, registryModelUri } from '../azureml/registries';
import { SOURCE_PROPERTY } from './modelPromote';
import type { PipelineContext } from '../pipeline';
import { mdCell } from './markdown';
import type { Approval } from '../devops/releases';

export interface CardEvaluation {
  verdict?: string;
  message?: string;
  isBetter?: boolean;
  candidate?: { id?: string; label?: string };
  baseline?: { found?: boolean; side?: { id?: string; label?: string } };
  results?: Array<{
    name: string;
    direction?: string;
    candidate: number;
    baseline?: number;
    delta?: number;
    relative?: number;
    passed: boolean;
    reason?: string;
  }>;
}
export interface CardSmoke {
  requests: number;
  ok: number;
  errors: number;
  p50Ms?: number;
  p95Ms?: number;
  maxMs?: number;
}
export interface CardDeployment {
  endpointName: string;
  deploymentName: string;
  scoringUri?: string;
  trafficAfter?: Record<string, number>;
  smoke?: CardSmoke;
  unchanged?: boolean;
}
export interface CardJob {
  name: string;
  displayName?: string;
  status?: string;
  inputs: Array<{ name: string; uri: string }>;
}

export interface ModelCardData {
  ws: WorkspaceRef;
  /** registry: the version is `azureml://registries/<registry>/models/<name>/versions/<version>` */
  model: { name: string; version: string; registry?: string };
  version?: ModelVersion;
  job?: CardJob;
  evaluation?: CardEvaluation;
  deployment?: CardDeployment;
  context: PipelineContext;
  approvals?: Approval[];
}

const esc = mdCell;
const num = (n: number | undefined, digits = 4) =>
  n === undefined || !Number.isFinite(n) ? '–' : Number(n.toPrecision(digits)).toString();
const ms = (n?: number) => (n === undefined ? '–' : `${Math.round(n)} ms`);

/** markdown of the card (pure) */
export function modelCardMarkdown(d: ModelCardData): string {
  const { model, ws, context: c } = d;
  const p = d.version?.properties;
  const tags = (p?.tags as Record<string, string>) ?? {};
  const link = (text: string, url?: string) => (url ? `[${esc(text)}](${url})` : esc(text));
  const out: string[] = [`### Model card: ${esc(model.name)}:${esc(model.version)}`, ''];
  if (p?.description) out.push(esc(p.description), '');
  out.push('| | |', '|---|---|');
  // a registry version: its training job and source version live in the workspace it was promoted from
  const source = model.registry
    ? sourceOf((p?.properties as Record<string, string> | undefined)?.[SOURCE_PROPERTY], ws)
    : undefined;
  const jobWs = model.registry ? source?.ws : ws;
  if (model.registry)
    out.push(
      `| Model | \`${registryModelUri(model.registry, model.name, model.version).replace(/`/g, '')}\` (registry ${esc(model.registry)}, ${esc(p?.modelType ?? 'custom_model')}) |`,
    );
  else
    out.push(
      `| Model | ${link(`azureml:${model.name}:${model.version}`, studioUrl(ws, 'model', model.name, model.version))} (${esc(p?.modelType ?? 'custom_model')}) |`,
    );
  if (source)
    out.push(
      `| Promoted from | ${link(`workspace ${source.ws.workspace}, ${source.name}:${source.version}`, studioUrl(source.ws, 'model', source.name, source.version))} |`,
    );
  if (d.version?.systemData?.createdAt)
    out.push(
      `| Registered | ${esc(new Date(d.version.systemData.createdAt as unknown as string).toISOString())}${d.version.systemData.createdBy ? ` by ${esc(d.version.systemData.createdBy)}` : ''} |`,
    );
  if (c.releaseName || c.stageName)
    out.push(
      `| Release | ${link(c.releaseName ?? c.releaseId ?? '', c.releaseUrl)}${c.stageName ? `, stage ${esc(c.stageName)}` : ''} |`,
    );
  out.push('', '#### Lineage', '', '| | |', '|---|---|');
  const build = tags['azdo.buildUrl']
    ? link(`${tags['azdo.pipeline'] ?? 'build'} ${tags['azdo.buildId'] ?? ''}`.trim(), tags['azdo.buildUrl'])
    : tags['azdo.pipeline']
      ? esc(tags['azdo.pipeline'])
      : 'not registered by a pipeline';
  out.push(`| Build | ${build} |`);
  if (tags['azdo.repository'] || tags['azdo.commit'])
    out.push(
      `| Commit | ${esc(tags['azdo.repository'] ?? '')}${tags['azdo.commit'] ? ` \`${tags['azdo.commit'].slice(0, 12).replace(/`/g, '')}\`` : ''}${tags['azdo.branch'] ? ` (${esc(tags['azdo.branch'])})` : ''} |`,
    );
  if (tags['azdo.requestedFor']) out.push(`| Requested for | ${esc(tags['azdo.requestedFor'])} |`);
  const jobName = d.job?.name ?? p?.jobName ?? undefined;
  if (jobName)
    out.push(
      `| Training job | ${link(d.job?.displayName ? `${d.job.displayName} (${jobName})` : jobName, jobWs && studioUrl(jobWs, 'job', jobName))}${d.job?.status ? `, ${esc(d.job.status)}` : ''} |`,
    );
  for (const i of d.job?.inputs ?? []) out.push(`| Data: ${esc(i.name)} | \`${i.uri.replace(/`/g, '')}\` |`);
  if (p?.modelUri) out.push(`| Files | \`${p.modelUri.replace(/`/g, '')}\` |`);

  out.push('', '#### Metrics vs production', '');
  const e = d.evaluation ?? evaluationOfVersion(d.version);
  if (e?.results?.length) {
    out.push(
      `${esc(e.message ?? e.verdict ?? '')}${e.baseline?.side?.label ? ` Production: ${esc(e.baseline.side.label)}.` : ''}`.trim(),
      '',
    );
    out.push('| Metric | This model | Production | Change | |', '|---|---|---|---|---|');
    for (const r of e.results) {
      // relative = improvement in the metric's better direction (as in the evaluate task's summary)
      const rel =
        r.relative !== undefined && Number.isFinite(r.relative) && r.relative !== 0
          ? ` (${num(Math.abs(r.relative), 3)}% ${r.relative > 0 ? 'better' : 'worse'})`
          : '';
      out.push(
        `| ${esc(r.name)}${r.direction ? ` (${r.direction} is better)` : ''} | ${num(r.candidate)} | ${num(r.baseline)} | ${r.delta === undefined ? '–' : `${r.delta >= 0 ? '+' : ''}${num(r.delta)}${rel}`} | ${r.passed ? '✅' : '❌'} ${esc(r.reason ?? '')} |`,
      );
    }
  } else {
    out.push(
      "No evaluation available (register the model with the evaluate task's evaluation.json, or give it to this task, to see metrics against production).",
    );
  }

  out.push('', '#### Deployment', '');
  const dep = d.deployment;
  if (dep) {
    out.push('| | |', '|---|---|');
    out.push(
      `| Endpoint | ${link(dep.endpointName, studioUrl(ws, 'endpoint', dep.endpointName))} / ${esc(dep.deploymentName)}${dep.unchanged ? ' (already serving, unchanged)' : ''} |`,
    );
    if (dep.trafficAfter)
      out.push(
        `| Traffic | ${esc(
          Object.entries(dep.trafficAfter)
            .map(([k, v]) => `${k} ${v}%`)
            .join(', ') || 'none',
        )} |`,
      );
    if (dep.smoke)
      out.push(
        `| Smoke test | ${dep.smoke.ok}/${dep.smoke.requests} ok, p50 ${ms(dep.smoke.p50Ms)}, p95 ${ms(dep.smoke.p95Ms)}, max ${ms(dep.smoke.maxMs)} |`,
      );
  } else out.push('Not deployed yet.');

  if (d.approvals?.length) {
    out.push('', '#### Approvals', '', '| Approver | When | Comments |', '|---|---|---|');
    for (const a of d.approvals) out.push(`| ${esc(a.approver)} | ${esc(a.approvedOn)} | ${esc(a.comments ?? '')} |`);
  }
  out.push('', `[Workspace in Azure ML studio](${studioUrl(ws, 'workspace')})`);
  return out.join('\n') + '\n';
}

/** `/subscriptions/…/workspaces/<w>/models/<m>/versions/<v>` (the promote task's source property) → its workspace and version */
function sourceOf(
  id: string | undefined,
  like: WorkspaceRef,
): { ws: WorkspaceRef; name: string; version: string } | undefined {
  const m =
    /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)\/models\/([^/]+)\/versions\/([^/]+)$/i.exec(
      id ?? '',
    );
  if (!m) return undefined;
  const d = (x: string) => {
    try {
      return decodeURIComponent(x);
    } catch {
      return x;
    }
  };
  return {
    ws: { ...like, subscriptionId: d(m[1]!), resourceGroup: d(m[2]!), workspace: d(m[3]!) },
    name: d(m[4]!),
    version: d(m[5]!),
  };
}

/** the training job's name, status and data inputs (uri inputs only); undefined when it is gone */
export async function loadCardJob(ctx: AzureMLContext, jobName: string): Promise<CardJob | undefined> {
  const j = await armGetOptional<{
    properties?: {
      displayName?: string;
      status?: string;
      inputs?: Record<string, { uri?: string; jobInputType?: string }>;
    };
  }>(ctx, wsPath(ctx.ws, `/jobs/${encodeURIComponent(jobName)}`), { what: `job '${jobName}'` });
  if (!j) return undefined;
  const inputs = Object.entries(j.properties?.inputs ?? {})
    .filter(([, v]) => typeof v?.uri === 'string')
    .map(([name, v]) => ({ name, uri: v.uri! }));
  return { name: jobName, displayName: j.properties?.displayName, status: j.properties?.status, inputs };
}

/** gather and render (model version and job read from the workspace; a read failure leaves that part out) */
export async function buildModelCard(
  ctx: AzureMLContext,
  d: Omit<ModelCardData, 'ws' | 'version' | 'job'>,
): Promise<string> {
  if (d.model.registry) {
    // the registry version (its training job is in the source workspace, which this connection may not reach: name only)
    const found = await findRegistryModelForWorkspace(
      ctx,
      registryModelUri(d.model.registry, d.model.name, d.model.version),
      'model',
    ).catch(() => undefined);
    return modelCardMarkdown({ ...d, ws: ctx.ws, version: found?.version as unknown as ModelVersion | undefined });
  }
  const version = await getModelVersion(ctx, d.model.name, d.model.version).catch(() => undefined);
  const jobName = version?.properties?.jobName ?? undefined;
  const job = jobName ? await loadCardJob(ctx, jobName).catch(() => undefined) : undefined;
  return modelCardMarkdown({ ...d, ws: ctx.ws, version, job });
}

/** evaluation.json of the evaluate task; throws an Error saying what is wrong with the file */
export function parseEvaluationFile(f: string): CardEvaluation {
  let e: CardEvaluation;
  try {
    e = JSON.parse(fs.readFileSync(f, 'utf8')) as CardEvaluation;
  } catch (err) {
    throw new Error(`${f} could not be read: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(e?.results)) throw new Error(`${f} is not an evaluation of the evaluate task (no results)`);
  return e;
}

/** the first readable evaluation.json among the candidates (blank entries skipped); a bad file is a warning */
export function readEvaluationFile(
  candidates: Array<string | undefined | false>,
  warn: (m: string) => void,
): CardEvaluation | undefined {
  for (const f of candidates) {
    if (!f || !fs.existsSync(f)) continue;
    try {
      return parseEvaluationFile(f);
    } catch (err) {
      warn(`${(err as Error).message}: left out of the model card`);
    }
  }
  return undefined;
}

/**
 * Model version property holding the evaluation the version was registered with (register task, `evaluationFile`),
 * so the model card of a release — on another agent, days later — still shows the metrics against production.
 */
export const EVALUATION_PROPERTY = 'azureml-devops.evaluation';

/** the part of an evaluation the model card shows, as compact JSON for a model version property */
export function evaluationProperty(e: CardEvaluation): string {
  const label = (x?: { id?: string; label?: string }) => (x ? { id: x.id, label: x.label } : undefined);
  return JSON.stringify({
    verdict: e.verdict,
    message: e.message,
    isBetter: e.isBetter,
    candidate: label(e.candidate),
    baseline: e.baseline && { found: e.baseline.found, side: label(e.baseline.side) },
    results: (e.results ?? []).map((r) => ({
      name: r.name,
      direction: r.direction,
      candidate: r.candidate,
      baseline: r.baseline,
      delta: r.delta,
      relative: r.relative,
      passed: r.passed,
      reason: r.reason,
    })),
  });
}

/** the evaluation recorded on a model version, if any (a malformed value counts as none) */
export function evaluationOfVersion(v?: ModelVersion): CardEvaluation | undefined {
  const raw = (v?.properties?.properties as Record<string, string> | undefined)?.[EVALUATION_PROPERTY];
  if (!raw) return undefined;
  try {
    const e = JSON.parse(raw) as CardEvaluation;
    return Array.isArray(e?.results) ? e : undefined;
  } catch {
    return undefined;
  }
}
