// The artifacts of a classic release, as the agent hands them to a task: every release variable becomes an
// environment variable (dots and spaces → '_', upper case), so `Release.Artifacts.<alias>.Type` arrives as
// RELEASE_ARTIFACTS_<ALIAS>_TYPE. There is no variable listing the aliases: they are found by scanning the
// environment. Aliases keep their '-' and '_' (only '.' and ' ' are replaced) but lose their case; the primary
// artifact's alias (Release.PrimaryArtifactSourceAlias) gives its real spelling back.

export interface ReleaseArtifact {
  /** as in the variable names (upper case, except the primary artifact's, which is spelt as in the release) */
  alias: string;
  /** Release.Artifacts.<alias>.Type: Build, Git, GitHub, … or the artifact type's name (ours: AzureMLModel) */
  type?: string;
  definitionName?: string;
  buildNumber?: string;
}

const FIELDS: Record<string, keyof Omit<ReleaseArtifact, 'alias'>> = {
  TYPE: 'type',
  DEFINITIONNAME: 'definitionName',
  BUILDNUMBER: 'buildNumber',
};
const VAR = /^RELEASE_ARTIFACTS_(.+)_(TYPE|DEFINITIONNAME|BUILDNUMBER)$/;

/** The release's artifacts (sorted by alias, the primary first); [] outside a classic release. */
export function releaseArtifacts(env: NodeJS.ProcessEnv = process.env): ReleaseArtifact[] {
  const byKey = new Map<string, ReleaseArtifact>();
  for (const [k, v] of Object.entries(env)) {
    const m = VAR.exec(k);
    if (!m || v === undefined || v === '') continue;
    const key = m[1]!;
    const a = byKey.get(key) ?? { alias: key };
    a[FIELDS[m[2]!]!] = v;
    byKey.set(key, a);
  }
  const primary = env.RELEASE_PRIMARYARTIFACTSOURCEALIAS;
  const primaryKey = primary?.replace(/[. ]/g, '_').toUpperCase();
  const out = [...byKey.values()];
  for (const a of out) if (primary && a.alias === primaryKey) a.alias = primary;
  return out.sort(
    (x, y) => Number(y.alias === primary) - Number(x.alias === primary) || x.alias.localeCompare(y.alias),
  );
}
