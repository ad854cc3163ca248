// AzureMLModelPromote@1: copy a workspace model version into an Azure ML registry server-side (ModelVersions_Publish),
// so dev → staging → production workspaces deploy the same registry version. Idempotent: a destination version that
// already came from this source is left as it is. Lineage: the source's tags (azdo.* of the build that registered it,
// evaluation tags), job and properties travel with the version; the registry version also records its source.
//
// Why publish (and not `az ml model share`'s data-plane import, nor a byte copy through startPendingUpload): publish
// is the stable ARM operation (2024-04-01) the extension's connections already reach; the service copies the files,
// so nothing passes through the agent and the version keeps its link to the training job. The data-plane import needs
// the registry's discovery endpoint (a second host, preview api) and a byte copy would lose the job link.
import { InputError, UserError } from '../pipeline';
import type { ModelVersion } from '../azureml/models';
import { ASSET_NAME_PATTERN, VERSION_PATTERN } from '../azureml/models';
import {
  registryModelUri,
  regionKey,
  type RegistryInfo,
  type RegistryModelVersion,
  type RegistryRef,
} from '../azureml/registries';
import type { Log } from '../log';

/** registry version property naming the workspace version it was promoted from (ARM id) */
export const SOURCE_PROPERTY = 'azureml-devops.sourceModel';

export interface PromoteInputs {
  modelName: string;
  /** a version, or 'latest' */
  modelVersion: string;
  registry: string;
  registryResourceGroup?: string;
  destinationName?: string;
  destinationVersion?: string;
}

export interface PromoteOps {
  /** the source workspace as the service reports it (name, location) */
  workspace(): Promise<{ name: string; location?: string; id: string }>;
  sourceVersion(name: string, version: string): Promise<ModelVersion | undefined>;
  latestSourceVersion(name: string): Promise<ModelVersion | undefined>;
  findRegistry(): Promise<RegistryInfo>;
  registryVersion(reg: RegistryRef, name: string, version: string): Promise<RegistryModelVersion | undefined>;
  publish(
    name: string,
    version: string,
    body: { registryName: string; destinationName: string; destinationVersion: string },
  ): Promise<void>;
  addToRegistryVersion(
    reg: RegistryRef,
    name: string,
    current: RegistryModelVersion,
    add: { tags?: Record<string, string>; properties?: Record<string, string> },
  ): Promise<RegistryModelVersion>;
}

export interface PromoteResult {
  promoted: boolean;
  registry: RegistryInfo;
  source: { name: string; version: string; id: string };
  destination: { name: string; version: string; uri: string; id: string };
  version: RegistryModelVersion;
}

/** Every input checked before any network call (one line naming the input). */
export function checkPromoteInputs(i: PromoteInputs): PromoteInputs {
  const name = i.modelName.trim();
  if (!name) throw new InputError('modelName', 'required');
  if (!ASSET_NAME_PATTERN.test(name))
    throw new InputError(
      'modelName',
      `'${name}' is not a model name (letters, digits, '-' and '_', starting with a letter or digit)`,
    );
  const version = (i.modelVersion ?? '').trim() || 'latest';
  if (version.toLowerCase() !== 'latest' && !VERSION_PATTERN.test(version))
    throw new InputError('modelVersion', `'${version}' is not a model version (a number, or 'latest')`);
  const registry = i.registry.trim();
  if (!registry) throw new InputError('registry', 'required');
  const dn = i.destinationName?.trim() || undefined;
  if (dn && !ASSET_NAME_PATTERN.test(dn)) throw new InputError('destinationName', `'${dn}' is not a model name`);
  const dv = i.destinationVersion?.trim() || undefined;
  if (dv && !VERSION_PATTERN.test(dv)) throw new InputError('destinationVersion', `'${dv}' is not a model version`);
  return {
    modelName: name,
    modelVersion: version,
    registry,
    registryResourceGroup: i.registryResourceGroup?.trim() || undefined,
    destinationName: dn,
    destinationVersion: dv,
  };
}

const sameId = (a?: string, b?: string) => !!a && !!b && a.toLowerCase() === b.toLowerCase();

/**
 * Is an existing registry version the promotion of `src`? Ours carry SOURCE_PROPERTY; one published by other means
 * (az ml model share, the studio) counts when its job, type, description and tags equal the source's.
 */
export function isPromotionOf(dest: RegistryModelVersion, src: ModelVersion, srcId: string): boolean {
  const d = dest.properties ?? {};
  const recorded = d.properties?.[SOURCE_PROPERTY];
  if (recorded) return sameId(recorded, srcId);
  const s = src.properties ?? ({} as NonNullable<ModelVersion['properties']>);
  const tagsEqual =
    JSON.stringify(Object.entries(s.tags ?? {}).sort()) === JSON.stringify(Object.entries(d.tags ?? {}).sort());
  return (
    (d.jobName ?? null) === (s.jobName ?? null) &&
    (d.modelType ?? 'custom_model').toLowerCase() === (s.modelType ?? 'custom_model').toLowerCase() &&
    (d.description ?? null) === (s.description ?? null) &&
    tagsEqual
  );
}

/** What the registry version lacks of the source's lineage: its tags, and the source record. */
export function missingLineage(
  dest: RegistryModelVersion,
  src: ModelVersion,
  srcId: string,
): { tags?: Record<string, string>; properties?: Record<string, string> } {
  const d = dest.properties ?? {};
  const tags: Record<string, string> = Object.fromEntries(
    Object.entries(src.properties?.tags ?? {}).filter(
      (e): e is [string, string] => typeof e[1] === 'string' && !(e[0] in (d.tags ?? {})),
    ),
  );
  const properties: Record<string, string> = {};
  if (!d.properties?.[SOURCE_PROPERTY]) properties[SOURCE_PROPERTY] = srcId;
  return { ...(Object.keys(tags).length ? { tags } : {}), ...(Object.keys(properties).length ? { properties } : {}) };
}

export async function promoteModel(
  inputs: PromoteInputs,
  ops: PromoteOps,
  log: Pick<Log, 'info'> = { info: () => undefined },
): Promise<PromoteResult> {
  const i = checkPromoteInputs(inputs);
  const ws = await ops.workspace();
  const src =
    i.modelVersion.toLowerCase() === 'latest'
      ? await ops.latestSourceVersion(i.modelName)
      : await ops.sourceVersion(i.modelName, i.modelVersion);
  if (!src) {
    throw i.modelVersion.toLowerCase() === 'latest'
      ? new InputError('modelName', `model '${i.modelName}' has no version in workspace '${ws.name}'`)
      : new InputError(
          'modelVersion',
          `model '${i.modelName}' version ${i.modelVersion} was not found in workspace '${ws.name}'`,
        );
  }
  const srcVersion = String(src.name);
  const srcId = String(src.id ?? `${ws.id}/models/${i.modelName}/versions/${srcVersion}`);
  const reg = await ops.findRegistry();
  // A workspace may use a registry model only if its region is one of the registry's (Microsoft Learn, see registries.ts);
  // checked before anything is written.
  if (ws.location && !reg.regions.includes(regionKey(ws.location))) {
    throw new InputError(
      'registry',
      `workspace '${ws.name}' is in region ${regionKey(ws.location)}, which is not one of registry '${reg.name}''s regions (${reg.regions.join(', ')})`,
    );
  }
  const destName = i.destinationName ?? i.modelName;
  const destVersion = i.destinationVersion ?? srcVersion;
  const uri = registryModelUri(reg.name, destName, destVersion);
  log.info(
    `Source: ${i.modelName}:${srcVersion} in workspace '${ws.name}' (${regionKey(ws.location)}); destination: ${uri} (registry regions ${reg.regions.join(', ')})`,
  );
  let dest = await ops.registryVersion(reg, destName, destVersion);
  let promoted = false;
  if (dest) {
    if (!isPromotionOf(dest, src, srcId)) {
      const from = dest.properties?.properties?.[SOURCE_PROPERTY];
      throw new UserError(
        `Registry '${reg.name}' already has model ${destName}:${destVersion}${from ? ` (promoted from ${from})` : ''}, which is not ${i.modelName}:${srcVersion} of workspace '${ws.name}'; set destinationVersion to promote under another version`,
      );
    }
    log.info(`${uri} already holds ${i.modelName}:${srcVersion}: nothing to promote`);
  } else {
    log.info(
      `Publishing ${i.modelName}:${srcVersion} to registry '${reg.name}' as ${destName}:${destVersion} (server-side copy)`,
    );
    await ops.publish(i.modelName, srcVersion, {
      registryName: reg.name,
      destinationName: destName,
      destinationVersion: destVersion,
    });
    dest = await ops.registryVersion(reg, destName, destVersion);
    if (!dest)
      throw new UserError(
        `Publishing ${i.modelName}:${srcVersion} to registry '${reg.name}' finished but ${destName}:${destVersion} is not in the registry`,
      );
    promoted = true;
  }
  const add = missingLineage(dest, src, srcId);
  if (add.tags || add.properties) {
    log.info(
      `Recording lineage on ${uri}: ${[...Object.keys(add.tags ?? {}), ...Object.keys(add.properties ?? {})].join(', ')}`,
    );
    dest = await ops.addToRegistryVersion(reg, destName, dest, add);
  }
  return {
    promoted,
    registry: reg,
    version: dest,
    source: { name: i.modelName, version: srcVersion, id: srcId },
    destination: { name: destName, version: destVersion, uri, id: String(dest.id ?? '') },
  };
}

export function promoteSummary(r: PromoteResult): string {
  const tags = Object.entries(r.version.properties?.tags ?? {})
    .map(([k, v]) => `| ${k} | ${v} |`)
    .join('\n');
  return [
    `### ${r.promoted ? 'Promoted' : 'Already in the registry'}: ${r.destination.uri}`,
    '',
    `Source: \`${r.source.id}\``,
    `Registry: ${r.registry.name} (regions ${r.registry.regions.join(', ')})`,
    `Job: ${r.version.properties?.jobName ?? '(none)'}`,
    '',
    ...(tags ? ['| tag | value |', '| --- | --- |', tags] : []),
  ].join('\n');
}
