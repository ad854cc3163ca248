// Runs a task's main function the way the agent expects: cancellation via SIGINT/SIGTERM, one task.complete.
import * as task from 'azure-pipelines-task-lib/task';
import { CancelledError, UserError } from './errors';
import { proxyFailureMessage } from './proxy';

/** Line breaks folded to spaces and the length capped (unlike src/azureml/errors.ts oneLine, which keeps the first line). */
function foldLines(text: string, max = 2000): string {
  const s = text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

/** The one line shown for a failure: the message of a UserError, `<code>: <message>` (HTTP status) for other errors. */
export function describeError(err: unknown): string {
  if (err instanceof UserError) return foldLines(err.message);
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; statusCode?: unknown };
    const code = typeof e.code === 'string' && e.code && !e.message.includes(e.code) ? `${e.code}: ` : '';
    const status = typeof e.statusCode === 'number' ? ` (HTTP ${e.statusCode})` : '';
    return foldLines(`${code}${e.message || e.name}${status}`);
  }
  return foldLines(String(err));
}

let running = false;

/**
 * Runs `main` with an AbortSignal that SIGINT/SIGTERM abort. The agent sends SIGINT, then SIGTERM, then kills:
 * listeners stay installed so a second signal never interrupts the cleanup the task does after the first.
 * UserError → Failed with its one-line message; other errors → one line, stack only at debug level.
 */
export function runTask(main: (signal: AbortSignal) => Promise<void>): void {
  if (running) throw new Error('runTask called twice');
  running = true;
  const controller = new AbortController();
  let finished = false;

  const onSignal = (sig: NodeJS.Signals) => {
    if (finished) return;
    if (!controller.signal.aborted) {
      console.log(`Cancellation requested (${sig})`);
      controller.abort(new CancelledError(sig));
    } else {
      console.log(`${sig} received; still cleaning up after cancellation`);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const finish = (err: unknown) => {
    if (finished) return;
    finished = true;
    let code = 0;
    if (err === undefined && !controller.signal.aborted) {
      task.setResult(task.TaskResult.Succeeded, '');
    } else {
      code = 1;
      const cause = err ?? controller.signal.reason;
      if (cause instanceof Error && !(cause instanceof UserError) && cause.stack) task.debug(cause.stack);
      // a proxy refusing the agent's credentials explains every failure after it (SDKs bury it under their own errors)
      let message = (!controller.signal.aborted && proxyFailureMessage(cause)) || describeError(cause);
      if (controller.signal.aborted && !(cause instanceof CancelledError) && !/cancel/i.test(message)) {
        message = `${describeError(controller.signal.reason)}: ${message}`;
      }
      task.setResult(task.TaskResult.Failed, message);
    }
    process.exitCode = code;
    // Keep-alive sockets or stray timers must not hold the agent: exit once output is flushed.
    setTimeout(() => process.exit(code), 250).unref();
  };

  // task-lib installs handlers that print a stack as an error issue (and rethrow rejections): ours replace them.
  process.removeAllListeners('uncaughtException');
  process.removeAllListeners('unhandledRejection');
  process.on('unhandledRejection', (reason) => {
    task.debug(`Unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
    finish(reason ?? new Error('Unhandled promise rejection'));
  });
  process.on('uncaughtException', (err: NodeJS.ErrnoException) => {
    if (err?.code === 'EPIPE') return; // the agent went away; nothing to report to
    if (err?.stack) task.debug(`Uncaught exception: ${err.stack}`);
    finish(err);
  });

  let p: Promise<void>;
  try {
    p = Promise.resolve(main(controller.signal));
  } catch (e) {
    p = Promise.reject(e);
  }
  p.then(
    () => finish(undefined),
    (e) => finish(e ?? new Error('Task failed')),
  );
}
