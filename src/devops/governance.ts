// Release governance for the deploy task: who approved the stage (Release approvals through azure-devops-node-api),
// and after a deployment: the model version is tagged `deployed.<stage>=<release name>` and the release name is made
// to include the model version (##vso[release.updatereleasename]). Failures here never fail a deployment: they are
// warnings that say what to grant.
import type { PipelineContext } from '../pipeline';
import { createOrUpdateModelVersion, getModelVersion, type AzureMLContext } from '../azureml';
import {
  findRegistryModelForWorkspace,
  parseRegistryModelUri,
  updateRegistryModelVersion,
} from '../azureml/registries';
import { createDevOpsConnection, type DevOpsConnection } from './client';
import { releaseApprovals, type Approval } from './releases';
import type { Log } from '../log';

export interface GovernanceDeployedInfo {
  modelId?: string;
  endpointName: string;
  deploymentName: string;
  unchanged: boolean;
}
export interface ReleaseGovernance {
  approvals(): Promise<Approval[]>;
  onDeployed(info: GovernanceDeployedInfo): Promise<void>;
}

export interface GovernanceDeps {
  context: PipelineContext;
  /** Release.EnvironmentId (the release's stage instance) */
  environmentId?: string;
  azureml: AzureMLContext;
  log: Pick<Log, 'info' | 'warning'>;
  updateReleaseName(name: string): void;
  /** injected for tests; default: the job's connection */
  devops?: DevOpsConnection;
  signal?: AbortSignal;
}

/** `azureml:<name>:<version>` or `azureml://registries/<r>/models/<name>/versions/<version>` → parts (registry: its name) */
export function parseModelId(id?: string): { name: string; version: string; registry?: string } | undefined {
  const r = parseRegistryModelUri(id ?? '');
  if (r) return r.version ? { name: r.name, version: r.version, registry: r.registry } : undefined;
  const m = /^azureml:([^:/]+):([^:/]+)$/.exec(id ?? '');
  return m ? { name: m[1]!, version: m[2]! } : undefined;
}

/** tag name for a stage: `deployed.<stage>` (lower case, spaces → '-') */
export function deployedTag(stage: string): string {
  return `deployed.${
    stage
      .trim()
      .toLowerCase()
      .replace(/\s+/g, '-')
      .replace(/[^a-z0-9._-]/g, '') || 'stage'
  }`;
}

/** the release name with the model version added, or undefined when it already names it */
export function releaseNameWithModel(current: string, model: { name: string; version: string }): string | undefined {
  if (current.includes(`${model.name}:${model.version}`)) return undefined;
  return `${current} (${model.name}:${model.version})`.slice(0, 256);
}

/** Governance for a deploy that runs in a classic release; undefined anywhere else (builds, YAML runs). */
export function createReleaseGovernance(deps: GovernanceDeps): ReleaseGovernance | undefined {
  const c = deps.context;
  if ((c.hostType ?? '').toLowerCase() !== 'release' || !c.releaseId || !/^[0-9]+$/.test(c.releaseId)) return undefined;
  const releaseId = Number(c.releaseId);
  const envId = deps.environmentId && /^[0-9]+$/.test(deps.environmentId) ? Number(deps.environmentId) : undefined;
  const stage = c.stageName ?? '';
  let conn: DevOpsConnection | undefined = deps.devops;
  const devops = (): DevOpsConnection => (conn ??= createDevOpsConnection(c, deps.signal));

  return {
    async approvals() {
      try {
        const list = await releaseApprovals(devops(), releaseId, { id: envId, name: stage });
        if (list.length)
          deps.log.info(
            `Approved for stage '${stage}' by ${list.map((a) => `${a.approver} (${a.approvedOn}${a.comments ? `: ${a.comments}` : ''})`).join(', ')}`,
          );
        else deps.log.info(`Stage '${stage}' of release ${c.releaseName ?? releaseId} has no manual approvals.`);
        return list.map((a) => ({ approver: a.approver, approvedOn: a.approvedOn, comments: a.comments }));
      } catch (e) {
        deps.log.warning(`Approvals of release ${c.releaseName ?? releaseId} not recorded: ${(e as Error).message}`);
        return [];
      }
    },
    async onDeployed(info) {
      const model = parseModelId(info.modelId);
      if (!model) return;
      const releaseName = c.releaseName ?? `Release ${releaseId}`;
      if (stage) {
        const tag = deployedTag(stage);
        try {
          if (model.registry) {
            // registry versions have no PATCH (mfe.json 2024-04-01: GET/PUT/DELETE only): PUT the whole version, files unchanged
            const { registry, version } = await findRegistryModelForWorkspace(
              deps.azureml,
              info.modelId!.trim(),
              'model',
            );
            if ((version.properties?.tags ?? {})[tag] !== releaseName) {
              await updateRegistryModelVersion(deps.azureml, registry, model.name, version, {
                tags: { [tag]: releaseName },
              });
              deps.log.info(`Model ${info.modelId} tagged ${tag}=${releaseName} in registry '${registry.name}'`);
            }
          } else {
            const v = await getModelVersion(deps.azureml, model.name, model.version);
            const tags = { ...((v?.properties?.tags as Record<string, string>) ?? {}) };
            if (v?.properties && tags[tag] !== releaseName) {
              tags[tag] = releaseName;
              await createOrUpdateModelVersion(deps.azureml, model.name, model.version, { ...v.properties, tags });
              deps.log.info(`Model ${model.name}:${model.version} tagged ${tag}=${releaseName}`);
            }
          }
        } catch (e) {
          deps.log.warning(
            `Model ${model.registry ? info.modelId : `${model.name}:${model.version}`} not tagged ${tag}: ${(e as Error).message}`,
          );
        }
      }
      const renamed = releaseNameWithModel(releaseName, model);
      if (renamed && c.releaseName) {
        deps.updateReleaseName(renamed);
        deps.log.info(`Release renamed to '${renamed}'`);
      }
    },
  };
}
