// Hashing alone in a fresh process (the re-register benchmark's peer): `tsx bench/hashOnly.ts <path>` prints
// {"ms":…,"cpuS":…,"hash":"…"} for getObjectHash (src/azureml/storage.ts) of a file or folder.
import { getObjectHash } from '../src/azureml/storage';

(async () => {
  const p = process.argv[2];
  if (!p) throw new Error('usage: tsx bench/hashOnly.ts <file or folder>');
  const t = performance.now(),
    c = process.cpuUsage();
  const hash = await getObjectHash(p);
  const d = process.cpuUsage(c);
  process.stdout.write(JSON.stringify({ ms: performance.now() - t, cpuS: (d.user + d.system) / 1e6, hash }) + '\n');
})().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
