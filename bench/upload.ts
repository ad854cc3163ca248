// 3. Upload of one big file and of a many-file folder: our upload (src/azureml/storage.ts, in-process and through the
//    bundled register task) vs azcopy (npm @azure-tools/azcopy-linux) against the same Azurite.
// 4. Re-register of the unchanged model: bytes sent to storage (counted by a TCP proxy put in front of Azurite for
//    these runs only) and time vs hashing alone (getObjectHash).
// 5. Peak RSS of the register task during the big upload (/usr/bin/time -v) vs node -e 0 (and azcopy's).
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { randomFillSync } from 'node:crypto';
import {
  BlobServiceClient,
  ContainerSASPermissions,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
} from '@azure/storage-blob';
import type { AzureInABox } from '../test/emulator';
import {
  connectWorkspace,
  prepareLocalAsset,
  uploadPreparedAsset,
  workspaceRef,
  type AzureMLContext,
} from '../src/azureml';
import type { AzureRmConnection } from '../src/pipeline';
import {
  REPO_ROOT,
  WORK_DIR,
  MiB,
  fmtBytes,
  fmtMs,
  fmtRatio,
  hasTimeBin,
  median,
  mibps,
  ratio,
  spawnTimed,
  type Report,
} from './lib';
import { REGISTER, runTask, taskEnv, type TaskSpawn } from './startup';
import { loadScripts } from './sizes';
import * as esbuild from 'esbuild';

const DATA = path.join(WORK_DIR, 'data');

// ------------------------------------------------------------------------------------------------------------------
// test data

export function makeBigFile(file: string, bytes: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  const buf = Buffer.alloc(16 * MiB);
  randomFillSync(buf);
  try {
    for (let off = 0, i = 0; off < bytes; off += buf.length, i++) {
      buf.writeUInt32LE(i, 0); // every chunk differs
      fs.writeSync(fd, buf, 0, Math.min(buf.length, bytes - off));
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** n files in sub-folders of 100, sizes 1–256 KiB (deterministic pseudo-random: mean ~128 KiB). */
export function makeFolder(dir: string, n: number): number {
  const pool = Buffer.alloc(256 * 1024 + 16);
  randomFillSync(pool);
  let seed = 42,
    total = 0;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < n; i++) {
    const sub = path.join(dir, `part-${String(Math.floor(i / 100)).padStart(3, '0')}`);
    if (i % 100 === 0) fs.mkdirSync(sub, { recursive: true });
    const size = 1024 + Math.floor(rnd() * 255 * 1024);
    const off = i % 16;
    const b = Buffer.from(pool.subarray(off, off + size));
    b.writeUInt32LE(i, 0);
    fs.writeFileSync(path.join(sub, `shard-${String(i).padStart(5, '0')}.bin`), b);
    total += size;
  }
  return total;
}

// ------------------------------------------------------------------------------------------------------------------
// helpers

function boxContext(box: AzureInABox): AzureMLContext {
  const conn: AzureRmConnection = {
    id: 'bench',
    armUrl: box.armUrl,
    subscriptionId: box.subscriptionId,
    tenantId: box.tenantId,
    authorityHost: box.authorityHost,
    audience: box.audience,
    environment: 'AzureCloud',
    scopeLevel: 'Subscription',
    auth: { scheme: 'ServicePrincipal', clientId: box.clientId, secret: box.clientSecret },
  };
  return connectWorkspace(conn, workspaceRef(conn, box.resourceGroup, box.workspace));
}

function container(box: AzureInABox) {
  const account = box.azurite.account;
  const svc = new BlobServiceClient(
    `http://127.0.0.1:${box.azurite.port}/${account}`,
    new StorageSharedKeyCredential(account, box.azurite.key),
  );
  return svc.getContainerClient(box.azurite.container);
}

async function deletePrefix(box: AzureInABox, prefix: string): Promise<number> {
  const c = container(box);
  const names: string[] = [];
  for await (const b of c.listBlobsFlat({ prefix })) names.push(b.name);
  for (let i = 0; i < names.length; i += 32)
    await Promise.all(names.slice(i, i + 32).map((n) => c.deleteBlob(n).catch(() => undefined)));
  return names.length;
}

/** Azurite's process (child of this one whose command line names azurite) and its CPU seconds so far. */
function azuritePid(): number | undefined {
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('azurite')) return Number(d);
    } catch {
      /* gone */
    }
  }
  return undefined;
}
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

/** A TCP proxy in front of Azurite that counts the bytes clients send. */
async function countingProxy(targetPort: number): Promise<{ port: number; sent(): number; close(): Promise<void> }> {
  let sent = 0;
  const socks = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    socks.add(client);
    socks.add(upstream);
    client.on('data', (d) => {
      sent += d.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      socks.delete(client);
      socks.delete(upstream);
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    sent: () => sent,
    close: () =>
      new Promise<void>((r) => {
        for (const s of socks) s.destroy();
        server.close(() => r());
      }),
  };
}

interface DatastoreRecord {
  id: string;
  properties: { endpoint: string };
}
function datastoreRecord(box: AzureInABox): DatastoreRecord {
  const rec = box.store
    .list<DatastoreRecord>('datastores')
    .find((d) => /\/datastores\/workspaceblobstore$/i.test(d.id) && d.id.includes(`/workspaces/${box.workspace}`));
  if (!rec) throw new Error('workspaceblobstore not found in the emulator store');
  return rec;
}

function azcopyBinary(): string {
  const bin = path.join(REPO_ROOT, 'node_modules', '@azure-tools', 'azcopy-linux', 'dist', 'bin', 'azcopy_linux_amd64');
  if (!fs.existsSync(bin)) throw new Error('azcopy binary not found (npm @azure-tools/azcopy-linux)');
  try {
    fs.accessSync(bin, fs.constants.X_OK);
    return bin;
  } catch {
    /* the npm tarball ships it without +x */
  }
  try {
    fs.chmodSync(bin, 0o755);
    return bin;
  } catch {
    /* read-only node_modules: use a copy */
  }
  const copy = path.join(WORK_DIR, 'azcopy');
  fs.copyFileSync(bin, copy);
  fs.chmodSync(copy, 0o755);
  return copy;
}

async function azcopy(box: AzureInABox, src: string, destPath: string, recursive: boolean): Promise<TaskSpawn> {
  const c = container(box);
  const sas = generateBlobSASQueryParameters(
    {
      containerName: c.containerName,
      permissions: ContainerSASPermissions.parse('racwdl'),
      startsOn: new Date(Date.now() - 60_000),
      expiresOn: new Date(Date.now() + 3600_000),
    },
    new StorageSharedKeyCredential(box.azurite.account, box.azurite.key),
  ).toString();
  const url = `http://127.0.0.1:${box.azurite.port}/${box.azurite.account}/${c.containerName}/${destPath}?${sas}`;
  const logs = path.join(WORK_DIR, 'azcopy-logs');
  fs.mkdirSync(logs, { recursive: true });
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    AZCOPY_LOG_LOCATION: logs,
    AZCOPY_JOB_PLAN_LOCATION: logs,
  };
  const args = ['copy', src, url, '--from-to', 'LocalBlob', '--output-level', 'essential', '--log-level', 'ERROR'];
  if (recursive) args.push('--recursive');
  const r = await spawnTimed(azcopyBinary(), args, { env, measureRss: true });
  if (r.code !== 0)
    throw new Error(
      `azcopy failed (exit ${r.code}): ${(r.stdout + r.stderr).replace(/sig=[^&\s"]+/g, 'sig=***').slice(-1500)}`,
    );
  return { ...r, requests: 0 };
}

/** The bundled register task on localPath; stdout lines timestamped to cut out the upload phase. */
async function registerTask(
  box: AzureInABox,
  localPath: string,
  modelName: string,
  label: string,
  measureRss: boolean,
) {
  const { env, cwd } = await taskEnv(
    box,
    REGISTER,
    {
      modelName,
      modelPath: localPath,
      resourceGroup: box.resourceGroup,
      workspace: box.workspace,
      modelType: 'custom_model',
    },
    label,
  );
  const marks: Array<{ at: number; line: string }> = [];
  let buf = '';
  const r = await runTask(box, path.join(REPO_ROOT, 'tasks', `${REGISTER}V1`, 'index.js'), env, cwd, {
    measureRss,
    onStdout: (s) => {
      buf += s;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) marks.push({ at: performance.now(), line: l });
    },
  });
  if (r.result !== 'Succeeded')
    throw new Error(`register task on ${localPath}: ${r.result} ${r.message ?? ''} ${r.stderr.slice(-500)}`);
  const hashedAt = marks.find((m) => /md5 [0-9a-f]{32}/.test(m.line))?.at;
  const uploadedAt = marks.find((m) => /^Uploaded \d+ file/.test(m.line) || /0 bytes uploaded/.test(m.line))?.at;
  const hashingStartAt = marks.find((m) => /^Hashing /.test(m.line))?.at;
  const out = r.stdout.split('\n').filter((l) => !l.startsWith('##vso['));
  return {
    ...r,
    log: out,
    hashMs: hashedAt && hashingStartAt ? hashedAt - hashingStartAt : undefined,
    // from "md5 …" to "Uploaded …": the reads before the upload (workspace, versions, datastore + secrets) and the upload
    uploadPhaseMs: hashedAt && uploadedAt ? uploadedAt - hashedAt : undefined,
    reused: /already holds this content/.test(r.stdout),
    skippedUpload: /0 bytes uploaded/.test(r.stdout),
    outputs: interpretOutputs(r.stdout),
  };
}
function interpretOutputs(stdout: string): Record<string, string> {
  const o: Record<string, string> = {};
  for (const m of stdout.matchAll(/##vso\[task\.setvariable variable=([^;\]]+);[^\]]*isOutput=true[^\]]*\]([^\n]*)/gi))
    o[m[1]!] = m[2]!.trim();
  return o;
}

/**
 * Hashing alone, the way the task runs it: bench/hashOnly.ts bundled by esbuild with the tasks' options (minified CJS),
 * run in a fresh node process; ms and CPU are measured inside, around getObjectHash only. (getObjectHash run in this
 * long-lived tsx process measured 2–4× slower than in the task itself, so it is no fair peer.)
 */
let hashScript: string | undefined;
async function hashAlone(p: string): Promise<{ ms: number; cpuS: number; hash: string }> {
  if (!hashScript) {
    const { build } = await loadScripts();
    hashScript = path.join(WORK_DIR, 'hashOnly.js');
    await esbuild.build({
      ...build.bundleOptions(REPO_ROOT, `${REGISTER}V1`),
      entryPoints: [path.join(REPO_ROOT, 'bench', 'hashOnly.ts')],
      outfile: hashScript,
      metafile: false,
    });
  }
  const r = await spawnTimed(process.execPath, [hashScript, p], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !last.startsWith('{')) throw new Error(`hashOnly failed: ${r.stderr.slice(-500)}`);
  return JSON.parse(last);
}

// ------------------------------------------------------------------------------------------------------------------

export interface UploadCase {
  label: string;
  path: string;
  bytes: number;
  files: number;
  recursive: boolean;
}

export async function uploadBench(
  report: Report,
  box: AzureInABox,
  o: { fileBytes: number; folderFiles: number },
): Promise<Record<string, unknown>> {
  console.log(
    `\n## 3–5. Upload vs azcopy, re-register, peak RSS (Azurite ${box.azurite.port}, data in bench/.work/data)`,
  );
  fs.rmSync(DATA, { recursive: true, force: true });
  let t = performance.now();
  const bigFile = path.join(DATA, 'big', 'model.bin');
  makeBigFile(bigFile, o.fileBytes);
  const folder = path.join(DATA, 'many', 'model');
  const folderBytes = makeFolder(folder, o.folderFiles);
  console.log(
    `  test data: ${fmtBytes(o.fileBytes)} file + ${o.folderFiles} files (${fmtBytes(folderBytes)}) in ${fmtMs(performance.now() - t)}`,
  );
  const cases: UploadCase[] = [
    { label: `${fmtBytes(o.fileBytes)} file`, path: bigFile, bytes: o.fileBytes, files: 1, recursive: false },
    {
      label: `${o.folderFiles}-file folder (${fmtBytes(folderBytes)})`,
      path: folder,
      bytes: folderBytes,
      files: o.folderFiles,
      recursive: true,
    },
  ];
  const ctx = boxContext(box);
  const azPid = azuritePid();
  const results: Record<string, unknown> = { azuritePid: azPid };
  const nodeRss = (
    await spawnTimed(process.execPath, ['-e', '0'], { env: { ...process.env, ...box.childEnv() }, measureRss: true })
  ).maxRssBytes;

  // fixed costs: one 1 KiB file (azcopy: process start, job plan, scan; ours: datastore GET + listSecrets + HEAD + PUT + metadata)
  const tiny = path.join(DATA, 'tiny', 'one.bin');
  makeBigFile(tiny, 1024);
  const tinyAsset = await prepareLocalAsset(tiny);
  t = performance.now();
  await uploadPreparedAsset(ctx, tinyAsset, { assetName: 'bench' });
  const tinyOurs = performance.now() - t;
  const tinyAz = await azcopy(box, tiny, 'bench-azcopy/tiny/one.bin', false);
  report.add({
    section: 'upload',
    name: '1 KiB file: uploadPreparedAsset (fixed cost)',
    value: fmtMs(tinyOurs),
    peer: 'azcopy',
    peerValue: fmtMs(tinyAz.wallMs),
    ratio: fmtRatio(ratio(tinyOurs, tinyAz.wallMs)),
    note: 'azcopy: process start included',
  });
  await deletePrefix(box, 'bench-azcopy/tiny/');
  await deletePrefix(box, tinyAsset.remotePath);
  results.tiny = { oursMs: tinyOurs, azcopyMs: tinyAz.wallMs };

  for (const [i, c] of cases.entries()) {
    const key = i === 0 ? 'file' : 'folder';
    console.log(`  -- ${c.label}`);
    // hashing alone (what a re-register must do at least), twice: the second is the warm-cache figure
    await hashAlone(c.path);
    const h0 = await hashAlone(c.path);
    const hash = h0.hash,
      hashMs = h0.ms;
    report.add({
      section: 'upload',
      name: `${c.label}: md5 (getObjectHash)`,
      value: fmtMs(hashMs),
      note: `${mibps(c.bytes, hashMs).toFixed(0)} MiB/s, page cache warm, fresh process, bundled like the task`,
    });

    // ours, in-process: prepare (hash + list) then uploadPreparedAsset, timed apart
    const asset = await prepareLocalAsset(c.path);
    if (asset.hash !== hash) throw new Error('hash mismatch between getObjectHash and prepareLocalAsset');
    let cpu0 = cpuSeconds(azPid);
    t = performance.now();
    const up = await uploadPreparedAsset(ctx, asset, { assetName: 'bench' });
    const oursMs = performance.now() - t;
    const oursAzuriteCpu = cpuSeconds(azPid) - cpu0;
    if (up.skipped || up.uploadedBytes !== c.bytes)
      throw new Error(`in-process upload: skipped=${up.skipped} bytes=${up.uploadedBytes}`);
    await deletePrefix(box, asset.remotePath + (asset.isDir ? '/' : ''));

    // the folder again with 32 files in flight instead of the default 8 (Azurite's per-blob latency, not its CPU, limits small files)
    let wide: number | undefined;
    if (asset.isDir) {
      t = performance.now();
      await uploadPreparedAsset(ctx, asset, { assetName: 'bench', concurrency: 32 });
      wide = performance.now() - t;
      await deletePrefix(box, asset.remotePath + '/');
    }

    // azcopy to the same container
    cpu0 = cpuSeconds(azPid);
    const az = await azcopy(box, c.path, `bench-azcopy/${key}${c.recursive ? '' : '/model.bin'}`, c.recursive);
    const azAzuriteCpu = cpuSeconds(azPid) - cpu0;
    const copied = await deletePrefix(box, `bench-azcopy/${key}/`);
    if (copied !== c.files) throw new Error(`azcopy left ${copied} blobs, expected ${c.files}`);

    const oursRate = mibps(c.bytes, oursMs),
      azRate = mibps(c.bytes, az.wallMs);
    report.add({
      section: 'upload',
      name: `${c.label}: uploadPreparedAsset`,
      value: `${oursRate.toFixed(0)} MiB/s`,
      peer: 'azcopy',
      peerValue: `${azRate.toFixed(0)} MiB/s`,
      ratio: fmtRatio(ratio(oursRate, azRate)),
      note: `${fmtMs(oursMs)} vs ${fmtMs(az.wallMs)}; Azurite CPU ${((oursAzuriteCpu / (oursMs / 1000)) * 100).toFixed(0)}% vs ${((azAzuriteCpu / (az.wallMs / 1000)) * 100).toFixed(0)}%`,
    });

    if (wide !== undefined) {
      report.add({
        section: 'upload',
        name: `${c.label}: uploadPreparedAsset, 32 files in flight`,
        value: `${mibps(c.bytes, wide).toFixed(0)} MiB/s`,
        peer: 'default 8',
        peerValue: `${oursRate.toFixed(0)} MiB/s`,
        ratio: fmtRatio(ratio(mibps(c.bytes, wide), oursRate)),
        note: 'what-if for the storage owner (UploadOptions.concurrency)',
      });
    }

    // the bundled task, end to end (hash + reads + upload + version PUT), under /usr/bin/time -v
    cpu0 = cpuSeconds(azPid);
    const model = `bench-upload-${key}`;
    const run = await registerTask(box, c.path, model, `upload-${key}`, true);
    const taskAzuriteCpu = cpuSeconds(azPid) - cpu0;
    if (run.reused || run.skippedUpload)
      throw new Error('the task skipped the upload: the datastore still held these files');
    report.add({
      section: 'upload',
      name: `${c.label}: register task, spawn → exit`,
      value: fmtMs(run.wallMs),
      peer: 'azcopy',
      peerValue: fmtMs(az.wallMs),
      ratio: fmtRatio(ratio(run.wallMs, az.wallMs)),
      note: `hash ${run.hashMs !== undefined ? fmtMs(run.hashMs) : '?'}, upload phase ${run.uploadPhaseMs !== undefined ? `${fmtMs(run.uploadPhaseMs)} = ${mibps(c.bytes, run.uploadPhaseMs).toFixed(0)} MiB/s` : '?'}; Azurite CPU ${((taskAzuriteCpu / (run.wallMs / 1000)) * 100).toFixed(0)}%`,
    });
    if (run.cpuSeconds !== undefined && az.cpuSeconds !== undefined) {
      report.add({
        section: 'upload',
        name: `${c.label}: register task CPU time`,
        value: `${run.cpuSeconds.toFixed(2)} s`,
        peer: 'azcopy',
        peerValue: `${az.cpuSeconds.toFixed(2)} s`,
        ratio: fmtRatio(ratio(run.cpuSeconds, az.cpuSeconds)),
        note: 'user+sys of the client process (task: hash + upload; azcopy: upload), steadier than wall time on a busy machine',
      });
    }
    if (run.maxRssBytes !== undefined) {
      report.add({
        section: 'rss',
        name: `${c.label}: register task peak RSS`,
        value: fmtBytes(run.maxRssBytes),
        peer: 'node -e 0',
        peerValue: nodeRss !== undefined ? fmtBytes(nodeRss) : '?',
        ratio: nodeRss ? fmtRatio(ratio(run.maxRssBytes, nodeRss)) : 'n/a',
        note: az.maxRssBytes !== undefined ? `azcopy ${fmtBytes(az.maxRssBytes)}` : undefined,
      });
    }

    // 4. re-register, with a byte-counting proxy between the task and Azurite
    const rec = datastoreRecord(box);
    const endpoint = rec.properties.endpoint;
    const proxy = await countingProxy(box.azurite.port);
    box.store.put('datastores', rec.id, {
      ...rec,
      properties: { ...rec.properties, endpoint: `localhost:${proxy.port}` },
    });
    let same, other;
    try {
      // hashing alone interleaved with the re-registers (before, between, after; median) so a change of machine load moves both
      const hashes: number[] = [];
      const hashCpu: number[] = [];
      const timeHash = async () => {
        const h = await hashAlone(c.path);
        hashes.push(h.ms);
        hashCpu.push(h.cpuS);
      };
      await timeHash();
      same = await registerTask(box, c.path, model, `rereg-${key}`, true);
      const sentSame = proxy.sent();
      await timeHash();
      other = await registerTask(box, c.path, `${model}-copy`, `rereg2-${key}`, true);
      const sentOther = proxy.sent() - sentSame;
      await timeHash();
      const hashNear = median(hashes);
      const cpuNear = median(hashCpu);
      if (!same.reused) throw new Error('re-register of the same model did not reuse the version');
      if (!other.skippedUpload) throw new Error('register of the same files under another name uploaded again');
      report.add({
        section: 'reregister',
        name: `${c.label}: re-register same model`,
        value: fmtMs(same.wallMs),
        peer: 'md5 alone',
        peerValue: fmtMs(hashNear),
        ratio: fmtRatio(ratio(same.wallMs, hashNear)),
        note: `${sentSame} bytes sent to storage (requests incl. headers); version ${same.outputs.modelVersion ?? '?'} reused`,
      });
      report.add({
        section: 'reregister',
        name: `${c.label}: same files, new model name`,
        value: fmtMs(other.wallMs),
        peer: 'md5 alone',
        peerValue: fmtMs(hashNear),
        ratio: fmtRatio(ratio(other.wallMs, hashNear)),
        note: `${sentOther} bytes sent to storage (requests incl. headers); upload skipped, new version ${other.outputs.modelVersion ?? '?'}`,
      });
      if (same.cpuSeconds !== undefined && other.cpuSeconds !== undefined) {
        report.add({
          section: 'reregister',
          name: `${c.label}: re-register, CPU time (same / new name)`,
          value: `${same.cpuSeconds.toFixed(2)} / ${other.cpuSeconds.toFixed(2)} s`,
          peer: 'md5 alone CPU',
          peerValue: `${cpuNear.toFixed(2)} s`,
          ratio: `${fmtRatio(ratio(same.cpuSeconds, cpuNear))} / ${fmtRatio(ratio(other.cpuSeconds, cpuNear))}`,
          note: 'user+sys (task: /usr/bin/time, whole process; md5: cpuUsage around getObjectHash), steadier than wall time on a busy machine',
        });
      }
      results[key] = {
        bytes: c.bytes,
        files: c.files,
        hashMs,
        inProcess: { ms: oursMs, mibps: oursRate, azuriteCpuS: oursAzuriteCpu, concurrency32Ms: wide },
        azcopy: {
          ms: az.wallMs,
          cpuS: az.cpuSeconds,
          mibps: azRate,
          maxRssBytes: az.maxRssBytes,
          azuriteCpuS: azAzuriteCpu,
        },
        task: {
          ms: run.wallMs,
          cpuS: run.cpuSeconds,
          hashMs: run.hashMs,
          uploadPhaseMs: run.uploadPhaseMs,
          maxRssBytes: run.maxRssBytes,
          azuriteCpuS: taskAzuriteCpu,
        },
        reregister: {
          hashAloneMs: hashes,
          hashAloneCpuS: hashCpu,
          sameModel: { cpuS: same.cpuSeconds, ms: same.wallMs, bytesToStorage: sentSame, hashMs: same.hashMs },
          newName: { cpuS: other.cpuSeconds, ms: other.wallMs, bytesToStorage: sentOther, hashMs: other.hashMs },
        },
      };
    } finally {
      box.store.put('datastores', rec.id, {
        ...datastoreRecord(box),
        properties: { ...datastoreRecord(box).properties, endpoint },
      });
      await proxy.close();
    }
    await deletePrefix(box, asset.remotePath + (asset.isDir ? '/' : ''));
  }
  results.nodeRssBytes = nodeRss;
  if (!hasTimeBin()) report.note('/usr/bin/time not found: no peak RSS figures');
  fs.rmSync(DATA, { recursive: true, force: true });
  return results;
}
