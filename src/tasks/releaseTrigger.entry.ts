// Agent entry of AzureMLReleaseTrigger@1: inputs → runTrigger (Azure ML versions + Azure DevOps releases/runs) → outputs + summary.
import {
  getAzureRmConnection,
  getBool,
  getEnum,
  getInt,
  getKeyValues,
  getPipelineContext,
  getString,
  info,
  requireString,
  runTask,
  setOutput,
  uploadSummary,
  warning,
  InputError,
} from '../pipeline';
import { getModelVersion, listModelVersions, workspaceRef, type ModelVersion } from '../azureml';
import { findRegistry, getRegistryModelVersion, listRegistryModelVersions } from '../azureml/registries';
import { createDevOpsConnection } from '../devops/client';
import {
  createModelRelease,
  findPipeline,
  findReleaseDefinition,
  findReleasesForVersion,
  findRunsWithParameters,
  pickModelArtifact,
  runPipelineWithParameters,
} from '../devops/releases';
import {
  DEFAULT_TEMPLATE_PARAMETERS,
  FIRST_RUN,
  MODES,
  TARGETS,
  expandParameters,
  runTrigger,
  triggerSummary,
  validateTriggerInputs,
  versionInfo,
  type TriggerInputs,
  type TriggerTarget,
} from './releaseTrigger';
import { openRegistryConnection, openWorkspace } from './openWorkspace';

runTask(async (signal) => {
  const mode = getEnum('mode', MODES, 'push');
  const target = getEnum('target', TARGETS, 'release');
  const tp = getKeyValues('templateParameters');
  const inputs: TriggerInputs = {
    mode,
    target,
    modelName: requireString('modelName'),
    modelVersion: mode === 'push' ? getString('modelVersion') : undefined,
    releaseDefinition: target === 'release' ? getString('releaseDefinition') : undefined,
    artifactAlias: target === 'release' ? getString('artifactAlias') : undefined,
    pipeline: target === 'pipeline' ? getString('pipeline') : undefined,
    templateParameters: Object.keys(tp).length ? tp : { ...DEFAULT_TEMPLATE_PARAMETERS },
    tagFilter: getKeyValues('tagFilter'),
    onlyNewest: getBool('onlyNewest', false),
    firstRun: mode === 'reconcile' ? getEnum('firstRun', FIRST_RUN, 'newest') : undefined,
    maxVersions: getInt('maxVersions', { default: 50, min: 1, max: 1000 })!,
    description: getString('description'),
  };
  validateTriggerInputs(inputs);
  const conn = getAzureRmConnection('connection');
  // a registry model (issue 13): versions read in the registry, no workspace needed
  const registry = getString('registry')?.trim();
  // the release artifact reads workspace models only (its registry source type is not built yet): a release pinned to a
  // registry version would resolve it in the artifact's workspace
  const ws = registry ? undefined : workspaceRef(conn, getString('resourceGroup'), getString('workspace'));
  const context = getPipelineContext();
  const devops = createDevOpsConnection(context, signal);
  const resolveTarget = async (): Promise<TriggerTarget> => {
    if (inputs.target === 'release') {
      const def = await findReleaseDefinition(devops, inputs.releaseDefinition!);
      const art = pickModelArtifact(def, inputs.artifactAlias, inputs.modelName);
      if (art.model && art.model.toLowerCase() !== inputs.modelName.toLowerCase()) {
        throw new InputError(
          'modelName',
          `artifact '${art.alias}' of release pipeline '${def.name}' is model '${art.model}', not '${inputs.modelName}'`,
        );
      }
      // the artifact reads its versions where the trigger reads them: the same registry, or the workspace
      if ((art.registry ?? '').toLowerCase() !== (registry ?? '').toLowerCase()) {
        const where = (r?: string) => (r ? `registry '${r}'` : 'a workspace');
        throw new InputError(
          'registry',
          `artifact '${art.alias}' of release pipeline '${def.name}' reads models from ${where(art.registry)}, but this task reads them from ${where(registry)}${art.registry ? `: set registry: ${art.registry}` : ''}`,
        );
      }
      info(`Release pipeline '${def.name}' (id ${def.id}), model artifact '${art.alias}'`);
      return {
        kind: 'release',
        label: `release pipeline '${def.name}'`,
        existing: (v) => findReleasesForVersion(devops, def, art, v),
        create: (v, d) => createModelRelease(devops, def, art, v, d, inputs.mode === 'push' ? 'push' : 'schedule'),
      };
    }
    const p = await findPipeline(devops, inputs.pipeline!);
    info(`Pipeline '${p.name}' (id ${p.id})`);
    return {
      kind: 'pipeline',
      label: `pipeline '${p.name}'`,
      existing: (v) =>
        findRunsWithParameters(
          devops,
          p,
          expandParameters(inputs.templateParameters, inputs.modelName, v, registry),
          inputs.modelName,
          v,
        ),
      create: (v) =>
        runPipelineWithParameters(
          devops,
          p,
          expandParameters(inputs.templateParameters, inputs.modelName, v, registry),
          inputs.modelName,
          v,
        ),
    };
  };

  let versions: {
    list: (m: string, max: number) => Promise<ModelVersion[]>;
    get: (m: string, v: string) => Promise<ModelVersion | undefined>;
  };
  let scope: string | undefined;
  if (ws) {
    const ctx = openWorkspace(conn, ws, signal, { announce: false });
    versions = {
      list: (m, max) => listModelVersions(ctx, m, { orderBy: 'createdtime desc', top: max }),
      get: (m, v) => getModelVersion(ctx, m, v),
    };
  } else {
    const rctx = openRegistryConnection(conn, signal);
    const reg = await findRegistry(rctx, {
      subscriptionId: conn.subscriptionId,
      name: registry!,
      resourceGroup: getString('registryResourceGroup'),
    });
    info(`Registry ${reg.name} (resource group ${reg.resourceGroup}, subscription ${reg.subscriptionId})`);
    scope = `registry '${reg.name}'`;
    versions = {
      list: async (m, max) =>
        (await listRegistryModelVersions(rctx, reg, m, { orderBy: 'createdtime desc', top: max })) as ModelVersion[],
      get: async (m, v) => (await getRegistryModelVersion(rctx, reg, m, v)) as ModelVersion | undefined,
    };
  }

  const result = await runTrigger(inputs, {
    listVersions: async (m, max) => (await versions.list(m, max)).map(versionInfo),
    getVersion: async (m, v) => {
      const mv = await versions.get(m, v);
      return mv ? versionInfo(mv) : undefined;
    },
    target: resolveTarget,
    scope,
    strict: !!registry,
    context,
    log: { info, warning },
  });
  const ids = result.created.map((c) => String(c.id));
  const all = [...ids, ...result.skipped.filter((s) => s.existing).map((s) => String(s.existing!.id))];
  setOutput(inputs.target === 'release' ? 'releaseIds' : 'runIds', ids.join(','));
  setOutput(inputs.target === 'release' ? 'releaseId' : 'runId', all[0] ?? '');
  setOutput('createdCount', String(ids.length));
  uploadSummary('Azure ML release trigger', triggerSummary(inputs, result));
});
