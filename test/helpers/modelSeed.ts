// Test data for model download / artifact tests: blobs straight into Azurite (workspaceblobstore's container) and
// model versions through the emulator's ARM API (real HTTP, bearer token from the box's Entra).
import * as http from 'node:http';
import {
  BlobServiceClient,
  ContainerSASPermissions,
  StorageSharedKeyCredential,
  type ContainerClient,
} from '@azure/storage-blob';
import type { AzureInABox } from '../emulator';
import { boxEndpoint } from './artifactHarness';

export function containerClient(box: AzureInABox): ContainerClient {
  const svc = new BlobServiceClient(
    box.azurite.blobEndpoint,
    new StorageSharedKeyCredential(box.azurite.account, box.azurite.key),
  );
  return svc.getContainerClient(box.azurite.container);
}

const endpoints = new WeakMap<AzureInABox, ReturnType<typeof boxEndpoint>>();

/** ARM call against the box; throws on non-2xx. */
export async function arm<T = any>(box: AzureInABox, method: string, pathAndQuery: string, body?: unknown): Promise<T> {
  let ep = endpoints.get(box);
  if (!ep) {
    ep = boxEndpoint(box);
    endpoints.set(box, ep);
  }
  const url = new URL(box.armUrl.replace(/\/$/, '') + pathAndQuery);
  if (!url.searchParams.has('api-version')) url.searchParams.set('api-version', '2022-10-01');
  const res = await fetch(url, {
    method,
    headers: { authorization: await ep.authorization(), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${pathAndQuery}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export function wsArmPath(box: AzureInABox, sub = ''): string {
  return `/subscriptions/${box.subscriptionId}/resourceGroups/${box.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${box.workspace}${sub}`;
}

export function longUri(box: AzureInABox, blobPath: string): string {
  return `azureml://subscriptions/${box.subscriptionId}/resourcegroups/${box.resourceGroup}/workspaces/${box.workspace}/datastores/workspaceblobstore/paths/${blobPath}`;
}

/** Upload files under blobPrefix (folder) — returns nothing; names are used as given. */
export async function uploadFiles(
  box: AzureInABox,
  blobPrefix: string,
  files: Record<string, string | Buffer>,
): Promise<void> {
  const cc = containerClient(box);
  await Promise.all(
    Object.entries(files).map(([rel, content]) => {
      const buf = Buffer.isBuffer(content) ? content : Buffer.from(content);
      return cc.getBlockBlobClient(`${blobPrefix}/${rel}`).upload(buf, buf.length);
    }),
  );
}

export interface SeededVersion {
  name: string;
  version: string;
  modelUri: string;
  blobPrefix: string;
}

/** Upload files to seed/<name>/<version>/<folder> and register the version (modelUri = that folder, long form). */
export async function seedModelVersion(
  box: AzureInABox,
  name: string,
  version: string,
  files: Record<string, string | Buffer>,
  opts: { tags?: Record<string, string>; folder?: string; modelUri?: string; description?: string } = {},
): Promise<SeededVersion> {
  const blobPrefix = `seed/${name}/${version}/${opts.folder ?? 'model'}`;
  if (Object.keys(files).length) await uploadFiles(box, blobPrefix, files);
  const modelUri = opts.modelUri ?? longUri(box, blobPrefix);
  await arm(box, 'PUT', wsArmPath(box, `/models/${name}/versions/${version}`), {
    properties: {
      modelUri,
      modelType: 'custom_model',
      tags: opts.tags ?? {},
      description: opts.description ?? `seeded ${name}:${version}`,
    },
  });
  return { name, version, modelUri, blobPrefix };
}

/**
 * PUT a blob whose name keeps '.' / '..' segments: the storage SDK (and WHATWG URLs) normalise them away, so this
 * sends the request line as is over node:http with a container SAS.
 */
export async function plantRawBlob(box: AzureInABox, name: string, content: string): Promise<void> {
  const cc = containerClient(box);
  const sas = new URL(
    await cc.generateSasUrl({
      permissions: ContainerSASPermissions.parse('rcwl'),
      expiresOn: new Date(Date.now() + 3600_000),
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const req = http.request(
      {
        host: sas.hostname,
        port: sas.port,
        method: 'PUT',
        path: `${sas.pathname}/${name}${sas.search}`,
        headers: { 'x-ms-blob-type': 'BlockBlob', 'content-length': Buffer.byteLength(content) },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 201 ? resolve() : reject(new Error(`plantRawBlob ${name}: HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(content);
  });
}
