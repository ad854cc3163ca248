// Production data collection in Azure-in-a-box (issue 12 §1): the online deployment's `properties.dataCollector`
// (api-version 2024-04-01) and what the front door writes for a deployment that collects.
//
// Rules and their sources:
//  - `dataCollector` exists from api-version 2024-04-01 and is validated against that version's definitions
//    (DataCollector, Collection, RequestLogging, RollingRateType, DataCollectionMode: Azure/azure-rest-api-specs
//    …/stable/2024-04-01/mfe.json, copy and provenance in test/fixtures/third-party/). Collection has
//    additionalProperties false in that file: unknown members are refused.
//  - a deployment PUT at an older api-version (which has no such field) leaves the collector as it was, and reads at
//    an older api-version do not show it. ASSUMPTION (as for mirrorTraffic in arm/endpoints.ts; not recorded).
//  - where collected data lands: `<path>/{yyyy}/{MM}/{dd}/{HH}/{instance_id}.jsonl`, `<path>` = the collection's data
//    asset (dataId) path, by default azureml://datastores/workspaceblobstore/paths/modelDataCollector/<endpoint>/
//    <deployment>/<collection>; one JSON object per line: {specversion "1.0", id, source (the deployment's ARM id),
//    type "azureml.inference.<collection>", datacontenttype "application/json", time, data: [rows], correlationid,
//    xrequestid, modelversion "default", collectdatatype "pandas.core.frame.DataFrame", agent}
//    (MicrosoftDocs/azure-ai-docs @ 21fa35235e4e72ad18d06e7dac66c180505cc27a
//    articles/machine-learning/how-to-collect-production-data.md, "Store collected data in Blob Storage" and "Data
//    collector batching"; reference-yaml-deployment-managed-online.md @ 280c976cdeb81186e4068104f91d1c73e4b062a6 for
//    the default path).
//  - ASSUMPTION: the box has no Python collector SDK in the scoring container; it stands in for a scoring script that
//    logs `Collector('model_inputs').collect(pd.DataFrame(<the request's rows>))` and the same for model_outputs with
//    the answer: rows are `data` / `input_data` of a JSON request (or the body itself): a list of objects as is, a list
//    of lists as columns "0", "1", … (pandas' default column names), an object's list-valued members as columns (scalar members
//    dropped: {"predictions": [..], "model_version": "v1"} logs one column `predictions`); a list of scalars becomes
//    one column "0". `request` / `response` (payload logging) log the whole JSON body
//    as `data`. Other bodies are not logged.
//  - ASSUMPTION: each answered request is written at once (one line, append blob per deployment, collection and hour,
//    instance id = the deployment's instance), where the real collector batches close requests into one line and
//    writes with a delay; samplingRate < 1 logs every n-th request (deterministic), not a random share.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import Ajv, { type ValidateFunction } from 'ajv';
import type { EmulatorContext } from './context';
import { assetById } from './arm/assets';

export const DATA_COLLECTOR_API_VERSION = '2024-04-01';
export const SPEC_2024_04_01 = path.resolve(
  __dirname,
  '../fixtures/third-party/azure-rest-api-specs/2024-04-01/mfe.json',
);

let validator: ValidateFunction | undefined;

/** swagger 2.0 definition → JSON Schema: x-nullable → also null; local $refs kept (#/definitions/…) */
function toJsonSchema(s: any): any {
  if (Array.isArray(s)) return s.map(toJsonSchema);
  if (!s || typeof s !== 'object') return s;
  const out: any = {};
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith('x-') || k === 'format' || k === 'description' || k === 'default') continue;
    out[k] = typeof v === 'object' ? toJsonSchema(v) : v;
  }
  if (s['x-nullable'] === true) return { anyOf: [out, { type: 'null' }] };
  return out;
}

/** Problems of a dataCollector against the 2024-04-01 definitions ([] = valid). */
export function validateDataCollector(v: unknown): string[] {
  if (!validator) {
    const doc = JSON.parse(fs.readFileSync(SPEC_2024_04_01, 'utf8'));
    const names = ['DataCollector', 'Collection', 'RequestLogging', 'RollingRateType', 'DataCollectionMode'];
    const definitions = Object.fromEntries(names.map((n) => [n, toJsonSchema(doc.definitions[n])]));
    validator = new Ajv({ allErrors: true, strict: false }).compile({
      $ref: '#/definitions/DataCollector',
      definitions,
    });
  }
  if (validator(v)) return [];
  return (validator.errors ?? []).map(
    (e) =>
      `properties.dataCollector${e.instancePath.replace(/\//g, '.')}: ${e.message}${e.params && 'additionalProperty' in e.params ? ` '${(e.params as any).additionalProperty}'` : ''}`,
  );
}

/** rows a scoring script would log for `collection` (see the ASSUMPTION above); undefined: nothing to log */
export function collectedRows(collection: string, body: unknown): unknown[] | undefined {
  if (body === undefined || body === null) return undefined;
  if (collection === 'request' || collection === 'response') return [body];
  let x: unknown = body;
  if (x && typeof x === 'object' && !Array.isArray(x)) {
    const o = x as Record<string, unknown>;
    if ('data' in o) x = o.data;
    else if ('input_data' in o) x = o.input_data;
  }
  if (Array.isArray(x)) {
    if (!x.length) return undefined;
    if (x.every((r) => r && typeof r === 'object' && !Array.isArray(r))) return x;
    if (x.every((r) => Array.isArray(r)))
      return (x as unknown[][]).map((r) => Object.fromEntries(r.map((v, i) => [String(i), v])));
    if (x.every((r) => r === null || typeof r !== 'object')) return x.map((v) => ({ '0': v }));
    return undefined;
  }
  if (x && typeof x === 'object') {
    // an object of columns; scalars beside them (e.g. an answer's model_version) are not columns
    const cols = Object.entries(x as Record<string, unknown>).filter(([, v]) => Array.isArray(v));
    if (!cols.length) return undefined;
    const n = Math.max(...cols.map(([, v]) => (v as unknown[]).length));
    return Array.from({ length: n }, (_, i) => Object.fromEntries(cols.map(([k, v]) => [k, (v as unknown[])[i]])));
  }
  return undefined;
}

const two = (n: number) => String(n).padStart(2, '0');

/** Writes collected data into Azurite for deployments whose dataCollector collects. */
export class DataCollectionWriter {
  private counters = new Map<string, number>();
  /** blobs written (tests read where the data went) */
  readonly written: Array<{ deployment: string; collection: string; blob: string; rows: number }> = [];
  constructor(private readonly ctx: EmulatorContext) {}

  /** the blob folder (in the default container) of a collection: its data asset's workspaceblobstore path, else the default */
  folder(endpoint: string, deployment: string, collection: string, dataId?: string | null): string {
    const fallback = `modelDataCollector/${endpoint}/${deployment}/${collection}`;
    if (!dataId) return fallback;
    const uri: string | undefined = assetById(this.ctx, dataId)?.properties?.dataUri;
    const m = uri ? /datastores\/workspaceblobstore\/paths\/(.+?)\/*$/i.exec(uri) : null;
    return m ? m[1] : fallback;
  }

  /** After an answered request: one line per enabled collection with rows. */
  async record(
    d: { resource: any },
    endpoint: string,
    request: unknown,
    response: unknown,
    requestId: string,
    now = new Date(),
  ): Promise<void> {
    const dc = d.resource?.properties?.dataCollector;
    if (!dc?.collections) return;
    const deployment = String(d.resource.name);
    for (const [collection, c] of Object.entries<any>(dc.collections)) {
      if (!c || c.dataCollectionMode !== 'Enabled') continue;
      const key = `${d.resource.id}|${collection}`;
      const n = this.counters.get(key) ?? 0;
      this.counters.set(key, n + 1);
      const rate = typeof c.samplingRate === 'number' ? c.samplingRate : 1;
      if (rate < 1 && Math.floor((n + 1) * rate) === Math.floor(n * rate)) continue; // every 1/rate-th request
      const isOutput = collection === 'model_outputs' || collection === 'response';
      const rows = collectedRows(collection, isOutput ? response : request);
      if (!rows) continue;
      const folder = this.folder(endpoint, deployment, collection, c.dataId);
      const blob = `${folder}/${now.getUTCFullYear()}/${two(now.getUTCMonth() + 1)}/${two(now.getUTCDate())}/${two(now.getUTCHours())}/${deployment}-instance-0.jsonl`;
      const line =
        JSON.stringify({
          specversion: '1.0',
          id: randomUUID(),
          source: d.resource.id,
          type: `azureml.inference.${collection}`,
          datacontenttype: 'application/json',
          time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
          data: rows,
          correlationid: requestId,
          xrequestid: requestId,
          modelversion: 'default',
          collectdatatype: 'pandas.core.frame.DataFrame',
          agent: 'azure-in-a-box',
        }) + '\n';
      const cc = this.ctx.azurite.containerClient();
      const ab = cc.getAppendBlobClient(blob);
      await ab.createIfNotExists();
      await ab.appendBlock(line, Buffer.byteLength(line));
      this.written.push({ deployment, collection, blob, rows: rows.length });
    }
  }
}
