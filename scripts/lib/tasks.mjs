// Shared by build.mjs, lint-manifest.mjs and package.mjs: where tasks live and how their entry is named.
//
// Convention
//   tasks/<Name>V<major>/task.json      the task contract (Name = task.json "name", major = version.Major)
//   tasks/<Name>V<major>/icon.png       32x32 PNG (Azure DevOps task icon size)
//   tasks/<Name>V<major>/index.js       build output (esbuild bundle), never committed
//   src/tasks/<entry>.entry.ts          bundle entry: strip a leading "AzureML" from Name, lower-camel the rest,
//                                       append "V<major>" only for majors above 1:
//     AzureMLModelRegisterV1 -> src/tasks/modelRegister.entry.ts
//     AzureMLJobV1           -> src/tasks/job.entry.ts
//     AzureMLReleaseTriggerV1-> src/tasks/releaseTrigger.entry.ts
//     AzureMLJobV2           -> src/tasks/jobV2.entry.ts
//   A folder under tasks/ without task.json is not built or packaged, and lint-manifest reports it as a finding.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const FOLDER_RE = /^([A-Za-z][A-Za-z0-9]*?)V(\d+)$/;

/** Parses a task folder name: 'AzureMLJobV1' -> { name: 'AzureMLJob', major: 1 }, or undefined. */
export function parseTaskFolder(folder) {
  const m = FOLDER_RE.exec(folder);
  return m ? { name: m[1], major: Number(m[2]) } : undefined;
}

/** Entry base name for a task folder ('AzureMLModelRegisterV1' -> 'modelRegister'), or undefined when the folder name is not <Name>V<n>. */
export function entryBaseName(folder) {
  const p = parseTaskFolder(folder);
  if (!p) return undefined;
  const rest = p.name.replace(/^AzureML(?=[A-Z])/, '');
  const camel = rest.charAt(0).toLowerCase() + rest.slice(1);
  return p.major > 1 ? `${camel}V${p.major}` : camel;
}

/** Repo-relative path of the entry source for a task folder. */
export function entryPath(folder) {
  const base = entryBaseName(folder);
  return base ? `src/tasks/${base}.entry.ts` : undefined;
}

/** Every folder directly under tasks/ (sorted), with whether it has a task.json. */
export function listTaskFolders(root = REPO_ROOT) {
  const dir = path.join(root, 'tasks');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((folder) => ({
      folder,
      dir: path.join(dir, folder),
      hasTaskJson: fs.existsSync(path.join(dir, folder, 'task.json')),
    }));
}

/** Width/height of a PNG from its IHDR chunk; undefined when the file is not a PNG. */
export function pngSize(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(24);
    if (fs.readSync(fd, b, 0, 24, 0) < 24) return undefined;
    if (
      !b.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10])) ||
      b.toString('latin1', 12, 16) !== 'IHDR'
    )
      return undefined;
    return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  } finally {
    fs.closeSync(fd);
  }
}

/** Formats a byte count for humans. */
export function formatBytes(n) {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(2)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}

// Server (agentless) tasks, issue 11. A task.json whose `runsOn` names only server kinds and whose `execution` is an
// `HttpRequest` (no Node handler) runs on the Azure DevOps server, not on an agent: there is nothing to bundle, the
// task folder ships task.json + icon.png only. SOURCE: microsoft/azure-pipelines-tasks docs/authoring/servertaskauthoring.md
// @ 008a81d201ffd23f898faea859ca812fa69822db ("we don't support running [powershell/node handlers] on VSTS/TFS
// server"; HttpRequest with Execute / Cancel / Events), and the first-party server tasks InvokeRestApiV1,
// AzureFunctionV1, AzureMonitorV1 (Tasks/*/task.json: runsOn ["Server","ServerGate"], execution.HttpRequest only).
export const SERVER_RUNS_ON = ['Server', 'ServerGate'];

/** true for a server task (see above): runsOn only Server/ServerGate, execution has HttpRequest and no other handler */
export function isServerTask(task) {
  const runsOn = Array.isArray(task?.runsOn) ? task.runsOn : [];
  const exec = task?.execution && typeof task.execution === 'object' ? Object.keys(task.execution) : [];
  return (
    runsOn.length > 0 &&
    runsOn.every((r) => SERVER_RUNS_ON.includes(r)) &&
    exec.length === 1 &&
    exec[0] === 'HttpRequest'
  );
}

/** the parsed task.json of a task folder, or undefined when it is missing or unreadable */
export function readTaskJson(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'task.json'), 'utf8').replace(/^\uFEFF/, ''));
  } catch {
    return undefined;
  }
}
