// The agent layer's failures are the shared ones (src/errors.ts, a module with no dependencies).
export { UserError, InputError, CancelledError } from '../errors';
