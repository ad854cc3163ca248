// Reading tabular data from a workspace's datastores as lines, streamed blob by blob (never a whole file in memory):
// data asset references (azureml:<name>:<version>, azureml:<name>@latest), azureml:// datastore URIs (a file, a
// folder, or a folder holding an MLTable file), and the model data collector's hourly folders over a time window.
//
// Facts used, with sources:
//  - a data version's `properties.dataUri` / `dataType` (uri_file, uri_folder, mltable): the 2022-10-01 REST spec
//    (test/fixtures/third-party/azure-rest-api-specs/2022-10-01/mfe.json, DataVersionBase).
//  - MLTable files: `paths` entries `file:` / `folder:` / `pattern:` and the `read_delimited` / `read_json_lines`
//    transformations (Microsoft Learn "Working with tables in Azure Machine Learning", reference-yaml-mltable).
//    Only these keys are read; other transformations are refused with a clear line (ASSUMPTION: enough for drift
//    reference data).
//  - collected data lands at `<path>/{yyyy}/{MM}/{dd}/{HH}/{instance_id}.jsonl` (MicrosoftDocs/azure-ai-docs @
//    21fa35235e4e72ad18d06e7dac66c180505cc27a articles/machine-learning/how-to-collect-production-data.md, "Store
//    collected data in Blob Storage"); the service's monitoring preprocessor keeps the hour folders whose hour lies in
//    [window start hour, window end hour], both ends inclusive (Azure/azureml-assets @
//    4b41f8ccbc01cf492767adc586ce1661c54c340a assets/model_monitoring/components/src/model_data_collector_preprocessor/
//    run.py, _raw_mdc_uri_folder_to_mltable: PartitionDate >= datetime(start …, hour) and <= datetime(end …, hour)).
import { StringDecoder } from 'node:string_decoder';
import { minimatch } from 'minimatch';
import { parse as parseYaml } from 'yaml';
import type { ContainerClient } from '@azure/storage-blob';
import { UserError } from '../errors';
import type { AzureMLContext } from './context';
import { armGetOptional, listAll } from './arm';
import { getContainerClient, getDatastoreInfo, parseDatastoreUri, storageError, type DatastoreInfo } from './storage';
import { wsPath } from './workspace';

export type LineFormat = 'jsonl' | 'csv';

export interface DataFileRef {
  label: string;
  blob: string;
  size: number;
  format: LineFormat;
}
export interface DataPlan {
  /** what was asked for, and what it resolved to (for the log) */
  source: string;
  resolved: string;
  files: DataFileRef[];
  /** hour folders skipped by the window (collected data only) */
  outsideWindow: number;
  container: ContainerClient;
  datastore: DatastoreInfo;
}

export interface DataVersion {
  id: string;
  name: string;
  properties: { dataUri: string; dataType: string };
}

/** azureml:<name>:<version> | azureml:<name>@latest (also without the azureml: prefix) | an ARM id → the data version. */
export async function getDataVersion(ctx: AzureMLContext, ref: string, input: string): Promise<DataVersion> {
  // an ARM id (a collection's dataId): read as it is
  const arm =
    /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.MachineLearningServices\/workspaces\/[^/]+\/data\/([^/]+)\/versions\/([^/]+)$/i.exec(
      ref.replace(/^azureml:/i, ''),
    );
  if (arm) {
    const v = await armGetOptional<DataVersion>(ctx, ref.replace(/^azureml:/i, ''), {
      what: `data asset ${arm[1]}:${arm[2]}`,
    });
    if (!v) throw new UserError(`${input}: data asset '${arm[1]}' version '${arm[2]}' (${ref}) does not exist`);
    return v;
  }
  const text = ref.replace(/^azureml:/i, '');
  const at = text.lastIndexOf('@'),
    colon = text.indexOf(':');
  const name = at > 0 ? text.slice(0, at) : colon > 0 ? text.slice(0, colon) : text;
  const base = wsPath(ctx.ws, `/data/${encodeURIComponent(name)}`);
  if (colon > 0 && at < 0) {
    const version = text.slice(colon + 1);
    const v = await armGetOptional<DataVersion>(ctx, `${base}/versions/${encodeURIComponent(version)}`, {
      what: `data asset ${name}:${version}`,
    });
    if (!v)
      throw new UserError(
        `${input}: data asset '${name}' version '${version}' does not exist in workspace '${ctx.ws.workspace}'`,
      );
    return v;
  }
  const label = at > 0 ? text.slice(at + 1) : 'latest';
  if (label.toLowerCase() !== 'latest')
    throw new UserError(
      `${input}: only the label 'latest' is supported (azureml:${name}@latest or azureml:${name}:<version>)`,
    );
  const list = await listAll<DataVersion>(ctx, `${base}/versions?$orderBy=createdtime%20desc&$top=1`, {
    what: `data asset ${name}`,
    max: 1,
  }).catch((e) => {
    if ((e as { statusCode?: number }).statusCode === 404) return [];
    throw e;
  });
  if (!list.length)
    throw new UserError(`${input}: data asset '${name}' does not exist in workspace '${ctx.ws.workspace}'`);
  return list[0]!;
}

function formatOf(name: string): LineFormat | undefined {
  if (/\.(jsonl|json)$/i.test(name)) return 'jsonl';
  if (/\.(csv|tsv)$/i.test(name)) return /\.tsv$/i.test(name) ? undefined : 'csv';
  return undefined;
}

/** The hour a collected-data blob belongs to, from its …/yyyy/MM/dd/HH/<file> path; undefined when it has none. */
export function partitionHour(blob: string): number | undefined {
  const m = /(?:^|\/)(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/[^/]+$/.exec(blob);
  if (!m) return undefined;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
}
const floorHour = (ms: number) => Math.floor(ms / 3_600_000) * 3_600_000;

export interface PlanOptions {
  /** the task input this source came from (named in every error) */
  input: string;
  /** only blobs in hour folders within [start, end] (collected data) */
  window?: { start: Date; end: Date };
}

/** Resolve a data reference to the blobs to read. Nothing is downloaded here. */
export async function planData(ctx: AzureMLContext, source: string, o: PlanOptions): Promise<DataPlan> {
  let uri = source.trim();
  let dataType: string | undefined;
  if (!/^azureml:\/\//i.test(uri)) {
    const v = await getDataVersion(ctx, uri, o.input);
    uri = v.properties.dataUri;
    dataType = v.properties.dataType;
  }
  const parsed = parseDatastoreUri(uri);
  if (!parsed)
    throw new UserError(
      `${o.input}: '${source}' resolves to ${uri}, which is not an azureml:// datastore path (only workspace datastores are read)`,
    );
  if (parsed.workspace && parsed.workspace.workspace.toLowerCase() !== ctx.ws.workspace.toLowerCase()) {
    throw new UserError(
      `${o.input}: ${uri} is in workspace '${parsed.workspace.workspace}', not in '${ctx.ws.workspace}'`,
    );
  }
  const datastore = await getDatastoreInfo(ctx, parsed.datastore);
  const container = await getContainerClient(ctx, datastore);
  const prefix = parsed.path.replace(/^\/+/, '').replace(/\/+$/, '');
  const listed: Array<{ name: string; size: number }> = [];
  try {
    if (prefix && dataType !== 'uri_folder' && !parsed.path.endsWith('/')) {
      const props = await container
        .getBlobClient(prefix)
        .getProperties({ abortSignal: ctx.signal })
        .catch((e) => {
          if (e?.statusCode === 404) return undefined;
          throw e;
        });
      if (props && props.metadata?.hdi_isfolder !== 'true')
        listed.push({ name: prefix, size: props.contentLength ?? 0 });
    }
    if (!listed.length) {
      for await (const b of container.listBlobsFlat({
        prefix: prefix ? `${prefix}/` : '',
        includeMetadata: true,
        abortSignal: ctx.signal,
      })) {
        if (b.metadata?.hdi_isfolder === 'true' || (b.name.endsWith('/') && !b.properties.contentLength)) continue;
        listed.push({ name: b.name, size: b.properties.contentLength ?? 0 });
      }
    }
  } catch (err) {
    throw storageError(err, datastore, `listing ${prefix || '/'}`);
  }
  if (!listed.length) throw new UserError(`${o.input}: no files at ${uri} (datastore '${datastore.name}')`);
  listed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const mltable = listed.find((b) => b.name === `${prefix}/MLTable` || b.name === 'MLTable');
  let files: DataFileRef[];
  if (dataType === 'mltable' || mltable) {
    if (!mltable) throw new UserError(`${o.input}: ${uri} is an mltable asset without an MLTable file`);
    files = await mltableFiles(container, datastore, prefix, mltable.name, listed, o.input, ctx.signal);
  } else {
    files = listed
      .filter((b) => formatOf(b.name))
      .map((b) => ({ label: b.name, blob: b.name, size: b.size, format: formatOf(b.name)! }));
    if (!files.length)
      throw new UserError(`${o.input}: none of the ${listed.length} file(s) at ${uri} is .jsonl, .json or .csv`);
  }
  let outsideWindow = 0;
  if (o.window) {
    const lo = floorHour(o.window.start.getTime()),
      hi = floorHour(o.window.end.getTime());
    const hours = new Set<number>();
    files = files.filter((f) => {
      const h = partitionHour(f.blob);
      if (h === undefined) return true;
      if (h >= lo && h <= hi) return true;
      hours.add(h);
      return false;
    });
    outsideWindow = hours.size;
  }
  return { source, resolved: uri, files, outsideWindow, container, datastore };
}

async function mltableFiles(
  container: ContainerClient,
  ds: DatastoreInfo,
  prefix: string,
  mltableBlob: string,
  listed: Array<{ name: string; size: number }>,
  input: string,
  signal?: AbortSignal,
): Promise<DataFileRef[]> {
  let text = '';
  await readBlobLines(
    container,
    ds,
    mltableBlob,
    (l) => {
      text += `${l}\n`;
    },
    { abortSignal: signal },
  );
  let doc: any;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new UserError(`${input}: its MLTable file is not YAML (${(e as Error).message})`);
  }
  const tr: unknown[] = Array.isArray(doc?.transformations) ? doc.transformations : [];
  let format: LineFormat | undefined;
  for (const t of tr) {
    const key = t && typeof t === 'object' ? Object.keys(t)[0] : String(t);
    if (key === 'read_delimited') {
      const delim = (t as any).read_delimited?.delimiter;
      if (delim !== undefined && delim !== ',')
        throw new UserError(`${input}: MLTable read_delimited with delimiter '${delim}' is not supported (only ',')`);
      format = 'csv';
    } else if (key === 'read_json_lines') format = 'jsonl';
    else if (key === 'read_parquet' || key === 'read_delta_lake')
      throw new UserError(`${input}: MLTable ${key} is not supported (only read_delimited and read_json_lines)`);
    else
      throw new UserError(
        `${input}: MLTable transformation '${key}' is not supported; give a folder of .csv/.jsonl files instead`,
      );
  }
  const paths: unknown[] = Array.isArray(doc?.paths) ? doc.paths : [];
  if (!paths.length) throw new UserError(`${input}: its MLTable file lists no paths`);
  const under = (rel: string) =>
    (prefix ? `${prefix}/${rel.replace(/^\.\/+/, '')}` : rel.replace(/^\.\/+/, '')).replace(/\/+$/, '');
  const out = new Map<string, DataFileRef>();
  for (const p of paths) {
    const entry = p as Record<string, string>;
    const [kind, value] = Object.entries(entry)[0] ?? [];
    if (!value || /^[a-z]+:\/\//i.test(value))
      throw new UserError(
        `${input}: MLTable path '${value ?? ''}' is not relative to the MLTable folder (only relative paths are supported)`,
      );
    const target = under(value);
    const hits =
      kind === 'file'
        ? listed.filter((b) => b.name === target)
        : kind === 'folder'
          ? listed.filter((b) => b.name.startsWith(`${target}/`))
          : kind === 'pattern'
            ? listed.filter((b) => minimatch(b.name, target, { dot: true }))
            : undefined;
    if (!hits) throw new UserError(`${input}: MLTable path kind '${kind}' is not supported (file, folder, pattern)`);
    for (const b of hits) {
      if (b.name === mltableBlob) continue;
      const f = format ?? formatOf(b.name);
      if (f) out.set(b.name, { label: b.name, blob: b.name, size: b.size, format: f });
    }
  }
  if (!out.size) throw new UserError(`${input}: the paths of its MLTable file match no .csv/.jsonl file`);
  return [...out.values()];
}

/** Lines of a byte stream (UTF-8, \n or \r\n; the last line without a newline too), chunk by chunk; returns the bytes read. */
export async function streamLines(stream: AsyncIterable<Buffer>, onLine: (line: string) => void): Promise<number> {
  const dec = new StringDecoder('utf8');
  let rest = '',
    bytes = 0;
  for await (const chunk of stream) {
    bytes += chunk.length;
    const text = rest + dec.write(chunk);
    let start = 0,
      nl: number;
    while ((nl = text.indexOf('\n', start)) >= 0) {
      onLine(text.charCodeAt(nl - 1) === 13 ? text.slice(start, nl - 1) : text.slice(start, nl));
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  rest += dec.end();
  if (rest.length) onLine(rest.replace(/\r$/, ''));
  return bytes;
}

/** Stream one blob's lines (UTF-8, \n or \r\n) to onLine; the last line without a newline too. */
export async function readBlobLines(
  container: ContainerClient,
  ds: DatastoreInfo,
  blob: string,
  onLine: (line: string) => void,
  options: { abortSignal?: AbortSignal } = {},
): Promise<number> {
  const signal = options.abortSignal;
  let bytes: number;
  try {
    const res = await container
      .getBlobClient(blob)
      .download(0, undefined, { abortSignal: signal, maxRetryRequests: 5 });
    if (!res.readableStreamBody) throw new UserError(`Storage returned no content for ${blob}`);
    bytes = await streamLines(res.readableStreamBody as AsyncIterable<Buffer>, onLine);
  } catch (err) {
    if (signal?.aborted) throw signal.reason ?? err;
    if (err instanceof UserError) throw err;
    throw storageError(err, ds, `reading ${blob}`);
  }
  return bytes;
}

export { DATA_COLLECTOR_API_VERSION, getDeploymentDataCollector } from './dataCollector';
