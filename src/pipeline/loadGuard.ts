// Imported first by src/pipeline/index.ts, before azure-pipelines-task-lib. When task-lib is imported it reads the
// agent's proxy variables (internal _exposeProxySettings) and prints `##vso[task.debug]Agent.ProxyPassword=<value>` —
// the secret in clear, before any code of ours could mask it. While task-lib loads, that one debug line is rewritten to
// `***`; release() (called by index.ts once its imports are done) puts stdout back as it was.
const write = process.stdout.write;
const PASSWORD_LINE = /^(##vso\[task\.debug\]Agent\.ProxyPassword=)[^\r\n]*/gim;

process.stdout.write = function guarded(this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
  const c = typeof chunk === 'string' ? chunk.replace(PASSWORD_LINE, '$1***') : chunk;
  return (write as (...a: unknown[]) => boolean).call(this, c, ...rest);
} as typeof process.stdout.write;

export function releaseLoadGuard(): void {
  process.stdout.write = write;
}
