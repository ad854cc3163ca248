// The log a pure core writes to (the entry passes the agent's info / warning / debug from src/pipeline/outputs.ts;
// unit tests pass fakes). No imports: every layer may take one. Cores that need less ask for a Pick of it.
export interface Log {
  info(m: string): void;
  warning(m: string): void;
  debug(m: string): void;
}
