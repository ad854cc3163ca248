'use strict';
// A V8 code cache for the bundled task the e2e tests spawn (`node --require test/helpers/compile-cache.cjs
// tasks/<Name>V1/index.js`, test/helpers/agent.ts runBundledTask). TEST HARNESS ONLY: nothing under src/ or tasks/
// knows of it, and the task that runs is the same bundle, byte for byte, on the same Node.
//
// Why: every spawn of a bundle (1.4–2.9 MiB) had V8 parse and compile it again: measured 2026-12-04 on this 2-core
// machine, 0.47 s of CPU per spawn of AzureMLModelDeployV1 failing at its first input against 0.31 s with this cache
// (`node -e 0`: 0.10 s), on ~450 spawns per suite run. Node 22 has the same thing built in (module.enableCompileCache,
// NODE_COMPILE_CACHE); Node 20, the tasks' runtime (task.json execution Node20_1), has not, so this does what
// v8-compile-cache did: compile the main script with vm.Script and its cachedData, and write the cache
// (script.createCachedData(), which after a run also holds the functions compiled lazily during it) at exit.
//
// Only the main module is compiled this way (module.id '.'); its wrapper is Node's own (Module.wrap) with a negative
// columnOffset so stack trace columns stay those of the file. A cache V8 rejects (other Node/V8 version or flags) is
// ignored and rewritten; the key is a hash of the Node version, the path and the whole file, so a rebuilt bundle never
// meets an old cache. Directory: AZUREML_TEST_COMPILE_CACHE (set by the test helper), else nothing is cached.
const Module = require('node:module');
const vm = require('node:vm');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

const dir = process.env.AZUREML_TEST_COMPILE_CACHE;
delete process.env.AZUREML_TEST_COMPILE_CACHE; // the task sees the agent's environment only
const originalCompile = Module.prototype._compile;

Module.prototype._compile = function _compile(content, filename) {
  if (!dir || this.id !== '.') return originalCompile.call(this, content, filename);
  return compileWithCache(this, content, filename);
};

function compileWithCache(mod, content, filename) {
  const tag = path.basename(path.dirname(filename)).replace(/[^\w.-]/g, '_');
  const hash = crypto.createHash('sha256').update(`${process.version}\0${filename}\0`).update(content).digest('hex');
  const file = path.join(dir, `${tag}-${hash.slice(0, 32)}.bin`);
  let cachedData;
  try {
    cachedData = fs.readFileSync(file);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(content), {
    filename,
    cachedData,
    columnOffset: -Module.wrapper[0].length,
  });
  if (!cachedData || script.cachedDataRejected) {
    process.once('exit', () => {
      try {
        fs.mkdirSync(dir, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, script.createCachedData());
        fs.renameSync(tmp, file); // atomic: tasks spawned at once never read half a cache
        for (const f of fs.readdirSync(dir))
          if (f.startsWith(`${tag}-`) && f.endsWith('.bin') && f !== path.basename(file)) fs.rmSync(path.join(dir, f));
      } catch {
        // a cache that cannot be written costs time only
      }
    });
  }
  const require = (id) => mod.require(id);
  require.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
  require.resolve.paths = (request) => Module._resolveLookupPaths(request, mod);
  require.main = process.mainModule;
  require.extensions = Module._extensions;
  require.cache = Module._cache;
  const fn = script.runInThisContext({ displayErrors: true });
  return fn.call(mod.exports, mod.exports, require, mod, filename, path.dirname(filename));
}
