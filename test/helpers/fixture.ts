// Bundles test/fixtures/pipeline-task.ts once per process with esbuild (like a real task bundle: fast to start).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { REPO_ROOT } from './agent';

let built: string | undefined;

/** Path of the bundled fixture task (a CJS file runnable with `node`). */
export function fixtureTaskScript(): string {
  if (built) return built;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fixture-task-'));
  const outfile = path.join(dir, 'index.js');
  buildSync({
    entryPoints: [path.join(REPO_ROOT, 'test', 'fixtures', 'pipeline-task.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    logLevel: 'error',
    define: { 'import.meta.url': '__import_meta_url' },
    banner: { js: "const __import_meta_url=require('url').pathToFileURL(__filename).href;" },
  });
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  built = outfile;
  return outfile;
}
