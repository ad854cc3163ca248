// Output variables, secrets, summaries, progress and log lines, as logging commands the agent understands.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as task from 'azure-pipelines-task-lib/task';

const masked = new Set<string>();

/**
 * Masks a secret in the job log (##vso[task.setsecret]). A multi-line secret (a PEM) is masked line by line,
 * as the agent refuses multi-line secrets.
 */
export function setSecret(value: string): void {
  if (!value) return;
  for (const line of value.split(/\r?\n/)) {
    const v = line.trim();
    if (v.length < 4 || masked.has(v) || /^-----(BEGIN|END) [A-Z0-9 ]+-----$/.test(v)) continue;
    masked.add(v);
    task.setSecret(v);
  }
}

/** Sets an output variable (isOutput=true), readable by later steps as `<stepName>.<name>`. */
export function setOutput(name: string, value: string, opts: { secret?: boolean } = {}): void {
  if (opts.secret) setSecret(value);
  task.setVariable(name, value, !!opts.secret, true);
}

/**
 * Writes `markdown` to `<Agent.TempDirectory>/azureml-summary-XXXXXX/<name>.md` and attaches it to the run summary.
 * The agent names the summary tab after the file name (Path.GetFileName of the path) and uploads the file later,
 * from its queue: every summary gets a folder of its own, so two steps of one job (or two summaries of one step)
 * with the same title never overwrite a file the agent has not uploaded yet.
 */
export function uploadSummary(name: string, markdown: string): void {
  const safe = name.replace(/[\\/:*?"<>|\r\n]+/g, '_').trim() || 'summary';
  task.uploadSummary(writeTempFile('azureml-summary', `${safe}.md`, markdown));
}

/**
 * Write a file for later steps or the agent into a folder of its own under Agent.TempDirectory (two steps of one
 * job never overwrite each other's file; the file keeps its name). Returns the file's path.
 */
export function writeTempFile(prefix: string, fileName: string, content: string): string {
  const tmp = task.getVariable('Agent.TempDirectory') || os.tmpdir();
  fs.mkdirSync(tmp, { recursive: true });
  const file = path.join(fs.mkdtempSync(path.join(tmp, `${prefix}-`)), fileName);
  fs.writeFileSync(file, content, 'utf8');
  return file;
}

/** `##vso[task.setprogress value=N;]text` */
export function progress(percent: number, text = ''): void {
  const p = Math.max(0, Math.min(100, Math.round(Number.isFinite(percent) ? percent : 0)));
  task.setProgress(p, text);
}

export function info(msg: string): void {
  console.log(msg);
}

export function warning(msg: string): void {
  task.warning(msg);
}

export function debug(msg: string): void {
  task.debug(msg);
}

/** Reported as a task issue of type error (does not end the task). */
export function error(msg: string): void {
  task.error(msg);
}

export function section(title: string): void {
  console.log(`##[section]${title}`);
}

/** `##vso[release.updatereleasename]name` */
export function updateReleaseName(name: string): void {
  task.updateReleaseName(name);
}

/** `##vso[build.addbuildtag]tag` */
export function addBuildTag(tag: string): void {
  task.addBuildTag(tag);
}
