// 9. Drift check on large data (`npm run bench -- --only drift`): AzureMLDriftCheck@1's read + compare of JSON Lines
// (bench/driftRead.ts mode drift) against a plain streaming read of the same files (mode lines) and the same read
// with JSON.parse of every line (mode parse), each in a fresh process under /usr/bin/time -v: rows/s and peak RSS.
// Data: bench/.work/drift/{reference,production}.jsonl, 8 columns (5 decimals, 3 text), written once per run and
// deleted after. The blob download is not part of it (the emulator's Azurite would be measured, not the task).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MiB, REPO_ROOT, WORK_DIR, fmtBytes, fmtRatio, median, ratio, spawnTimed, type Report } from './lib';

function writeJsonl(file: string, targetBytes: number, shift: number): number {
  const fd = fs.openSync(file, 'w');
  let bytes = 0,
    i = 0;
  const regions = ['north', 'south', 'east', 'west', 'central'];
  try {
    while (bytes < targetBytes) {
      const lines: string[] = [];
      for (let k = 0; k < 5000; k++, i++) {
        const x = ((i * 2654435761) % 1_000_003) / 1_000_003; // deterministic pseudo-uniform
        lines.push(
          JSON.stringify({
            age: Math.round((20 + 50 * x + shift) * 10) / 10,
            income: Math.round(30000 + 90000 * ((x * 7) % 1)) + 0.5,
            tenure: Math.round(((x * 13) % 1) * 120) / 10,
            score: Math.round(((x * 17) % 1) * 1000) / 1000,
            balance: Math.round(((x * 19) % 1) * 5e5) / 100,
            region: regions[(i + (shift ? i % 3 : 0)) % 5],
            plan: ['basic', 'plus', 'pro'][i % 3],
            channel: ['web', 'app'][i % 2],
          }),
        );
      }
      const chunk = lines.join('\n') + '\n';
      fs.writeSync(fd, chunk);
      bytes += Buffer.byteLength(chunk);
    }
  } finally {
    fs.closeSync(fd);
  }
  return bytes;
}

export async function runDriftBench(o: {
  quick: boolean;
  report: Report;
  runs?: number;
}): Promise<Record<string, unknown>> {
  const dir = path.join(WORK_DIR, 'drift');
  fs.mkdirSync(dir, { recursive: true });
  const each = (o.quick ? 64 : 256) * MiB;
  const ref = path.join(dir, 'reference.jsonl'),
    prod = path.join(dir, 'production.jsonl');
  const total = writeJsonl(ref, each, 0) + writeJsonl(prod, each, 5);
  const tsx = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
  const script = path.join(__dirname, 'driftRead.ts');
  const runs = o.runs ?? (o.quick ? 2 : 3);
  const out: Record<string, { rowsPerS: number; maxRss?: number; ms: number; rows: number }> = {};
  try {
    for (const mode of ['lines', 'parse', 'drift'] as const) {
      const ms: number[] = [],
        rss: number[] = [];
      let rows = 0;
      for (let r = 0; r < runs; r++) {
        const s = await spawnTimed(tsx, [script, mode, ref, prod], {
          env: process.env,
          cwd: REPO_ROOT,
          measureRss: true,
          timeoutMs: 900_000,
        });
        if (s.code !== 0) throw new Error(`driftRead ${mode}: exit ${s.code}: ${s.stderr.slice(-500)}`);
        const j = JSON.parse(s.stdout.trim().split('\n').pop()!);
        ms.push(j.ms);
        rows = j.rows;
        if (s.maxRssBytes) rss.push(s.maxRssBytes);
      }
      const m = median(ms);
      out[mode] = { rowsPerS: rows / (m / 1000), ms: m, rows, ...(rss.length ? { maxRss: median(rss) } : {}) };
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const fmtRate = (r: number) => `${Math.round(r).toLocaleString('en-US')} rows/s`;
  const rep = o.report;
  rep.add({
    section: 'drift',
    name: `drift check read + compare (${fmtBytes(total)} JSONL, ${out.drift!.rows} rows)`,
    value: fmtRate(out.drift!.rowsPerS),
    peer: 'plain streaming read',
    peerValue: fmtRate(out.lines!.rowsPerS),
    ratio: fmtRatio(ratio(out.drift!.rowsPerS, out.lines!.rowsPerS)),
  });
  rep.add({
    section: 'drift',
    name: 'drift check vs read + JSON.parse',
    value: fmtRate(out.drift!.rowsPerS),
    peer: 'read + JSON.parse',
    peerValue: fmtRate(out.parse!.rowsPerS),
    ratio: fmtRatio(ratio(out.drift!.rowsPerS, out.parse!.rowsPerS)),
  });
  if (out.drift!.maxRss && out.lines!.maxRss) {
    rep.add({
      section: 'drift',
      name: 'drift check peak RSS',
      value: fmtBytes(out.drift!.maxRss),
      peer: 'plain streaming read',
      peerValue: fmtBytes(out.lines!.maxRss),
      ratio: fmtRatio(ratio(out.drift!.maxRss, out.lines!.maxRss)),
      note: `${fmtBytes(total)} of text; columns kept as Float64Array / category codes`,
    });
  }
  return { totalBytes: total, runs, ...out };
}
