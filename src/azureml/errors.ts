// Map errors from Azure SDK calls (RestError, identity errors) and raw ARM responses to one-line UserErrors.
import { isRestError } from '@azure/core-rest-pipeline';
import { UserError } from '../pipeline';

/** A service refusal phrased for users, keeping the HTTP status and ARM code for callers that branch on them. */
export class AzureError extends UserError {
  constructor(message: string, readonly statusCode: number, readonly code?: string) {
    super(message);
    this.name = 'AzureError';
  }
}

/** Keep the first line of a service message and cap its length: a pipeline log shows one clear line. */
export function oneLine(text: string, max = 700): string {
  const first = String(text ?? '').replace(/\r/g, '').split('\n').map((l) => l.trim()).filter(Boolean)[0] ?? '';
  return first.length > max ? first.slice(0, max - 1) + '…' : first;
}

/** Parse an ARM error body `{"error":{"code","message"}}` (or a bare `{code,message}`). */
export function parseArmError(body: unknown): { code?: string; message?: string } {
  let b: any = body;
  if (typeof b === 'string') {
    try { b = JSON.parse(b); } catch { return { message: b }; }
  }
  const e = b?.error ?? b;
  return { code: typeof e?.code === 'string' ? e.code : undefined, message: typeof e?.message === 'string' ? e.message : undefined };
}

/**
 * The one place that phrases service failures for users.
 * `what` says what we were touching ("model 'm' version 3", "workspace 'w'") and is used when the service's text is empty.
 */
export function armFailure(status: number, code: string | undefined, message: string | undefined, what?: string): AzureError {
  const detail = oneLine([code, message].filter(Boolean).join(': ')) || `HTTP ${status}`;
  const on = what ? ` (${what})` : '';
  switch (status) {
    case 401:
      return new AzureError(`The service connection could not authenticate to Azure Resource Manager${on}: ${detail}`, status, code);
    case 403:
      return new AzureError(`The service connection's identity lacks permission${on}: ${detail}; grant it 'AzureML Data Scientist' on the workspace`, status, code);
    case 404:
      return new AzureError(`Not found${on}: ${detail}`, status, code);
    case 409:
      return new AzureError(`Conflict${on}: ${detail}`, status, code);
    default:
      return new AzureError(`Azure request failed${on} with HTTP ${status}: ${detail}`, status, code);
  }
}

function isAbort(err: any): boolean {
  return err?.name === 'AbortError' || err?.code === 'ABORT_ERR';
}

/**
 * Turn any error from an Azure call into something runTask prints as one line.
 * Abort errors and UserErrors pass through unchanged; unknown errors too (runTask prints their message).
 */
export function mapAzureError(err: unknown, what?: string): unknown {
  const e = err as any;
  if (!e || e instanceof UserError || isAbort(e)) return err;
  // @azure/identity: AuthenticationError (token endpoint said no), AggregateAuthenticationError, CredentialUnavailableError
  if (e.name === 'AuthenticationError' && e.errorResponse) {
    const r = e.errorResponse;
    return new UserError(`Sign-in with the service connection failed: ${oneLine(r.errorDescription || r.error || e.message)}`);
  }
  if (e.name === 'CredentialUnavailableError' || e.name === 'AggregateAuthenticationError') {
    return new UserError(`Sign-in with the service connection failed: ${oneLine(e.message)}`);
  }
  if (isRestError(e)) {
    if (e.statusCode) {
      let code = e.code as string | undefined;
      let message = e.message as string | undefined;
      const body = e.response?.bodyAsText;
      if (body) {
        const parsed = parseArmError(body);
        code = parsed.code ?? code;
        message = parsed.message ?? message;
      }
      return armFailure(e.statusCode, code, message, what);
    }
    // network-level failure after the pipeline's retries
    return new UserError(`Could not reach Azure${what ? ` (${what})` : ''}: ${oneLine(e.message)}${e.code ? ` [${e.code}]` : ''}`);
  }
  return err;
}

/** Run an Azure call and map its failure. */
export async function azureCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapAzureError(err, what);
  }
}

/** Status code of a RestError (or undefined). */
export function statusOf(err: unknown): number | undefined {
  const e = err as any;
  return isRestError(e) ? e.statusCode : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
}
