// Expected failures, printed by runTask as one line without a stack trace. No imports: every layer (the agent
// contract, auth, Azure ML, Azure DevOps, tasks) may throw and test these without loading anything else.

/** A failure the user can act on (bad input, missing permission, service refusal). Printed as one line, no stack. */
export class UserError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UserError';
  }
}

/** A bad task input. Message: `Input '<name>': <problem>`. */
export class InputError extends UserError {
  readonly input: string;
  readonly problem: string;
  constructor(input: string, problem: string) {
    super(`Input '${input}': ${problem}`);
    this.name = 'InputError';
    this.input = input;
    this.problem = problem;
  }
}

/** Thrown (or used as abort reason) when the agent cancels the task (SIGINT/SIGTERM). */
export class CancelledError extends UserError {
  readonly signal: string;
  constructor(signal: string) {
    super(`Cancelled (${signal})`);
    this.name = 'AbortError';
    this.signal = signal;
  }
}
