// Map errors from Azure SDK calls (RestError, identity errors) and raw ARM responses to one-line UserErrors.
import { isRestError } from '@azure/core-rest-pipeline';
import { UserError } from '../errors';

/** A service refusal phrased for users, keeping the HTTP status and ARM code for callers that branch on them. */
export class AzureError extends UserError {
  constructor(
    message: string,
    readonly statusCode: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'AzureError';
  }
}

/** Keep the first line of a service message and cap its length: a pipeline log shows one clear line. */
export function oneLine(text: string, max = 700): string {
  const first =
    String(text ?? '')
      .replace(/\r/g, '')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)[0] ?? '';
  return first.length > max ? first.slice(0, max - 1) + '…' : first;
}

export interface ArmErrorDetail {
  code?: string;
  message?: string;
  target?: string;
}

/**
 * Parse an ARM error body `{"error":{"code","message","target","details":[…]}}` (or a bare `{code,message}`).
 * `message` names the cause: the service's top message is often generic ("The specified resource was not found.",
 * "Request is invalid and/or missing fields.") and the reason is in `details[]` (ARM common-types ErrorDetail: code,
 * message, target, nested details), as in the recorded 404 of a model listing (Azure/azure-sdk-assets
 * python/sdk/ml/azure-ai-ml/tests/recordings/model/e2etests/test_model.pyTestModeltest_crud_file.json, api-version
 * 2023-08-01-preview, kept in test/fixtures/third-party/azure-sdk-assets/). So the message is
 * `<message> (cause: <detail code>: <detail message> [field <target>]; …)`; `summary` is the service's own message.
 */
export function parseArmError(body: unknown): {
  code?: string;
  message?: string;
  target?: string;
  details: ArmErrorDetail[];
  summary?: string;
} {
  let b: any = body;
  if (typeof b === 'string') {
    try {
      b = JSON.parse(b);
    } catch {
      return { message: b, summary: b, details: [] };
    }
  }
  const e = b?.error ?? b;
  const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v : undefined);
  const code = str(e?.code),
    summary = str(e?.message),
    target = str(e?.target);
  const details: ArmErrorDetail[] = [];
  const walk = (list: unknown, depth: number) => {
    if (!Array.isArray(list) || depth > 3) return;
    for (const d of list) {
      if (details.length >= 5) return;
      const item = { code: str(d?.code), message: str(d?.message), target: str(d?.target) };
      const dup = details.some((x) => x.code === item.code && x.message === item.message && x.target === item.target);
      // a detail the top message already quotes adds nothing (unless it names a field)
      const quoted = !!item.message && !!summary && summary.includes(item.message) && !item.target;
      if ((item.message || item.target) && !dup && !quoted) details.push(item);
      walk(d?.details, depth + 1);
    }
  };
  walk(e?.details, 0);
  const field = (t?: string) => (t ? ` [field ${t}]` : '');
  const causes = details.map(
    (d) => oneLine(`${d.code ? `${d.code}: ` : ''}${d.message ?? ''}`.replace(/: $/, ''), 300) + field(d.target),
  );
  const head =
    summary !== undefined ? oneLine(summary, 400) + field(target) : target ? `invalid field ${target}` : undefined;
  const message = causes.length ? `${head ? `${head} ` : ''}(cause: ${causes.join('; ')})` : head;
  return { code, message, target, details, summary };
}

/**
 * The one place that phrases service failures for users.
 * `what` says what we were touching ("model 'm' version 3", "workspace 'w'") and is used when the service's text is empty.
 */
export function armFailure(
  status: number,
  code: string | undefined,
  message: string | undefined,
  what?: string,
): AzureError {
  const detail = oneLine([code, message].filter(Boolean).join(': ')) || `HTTP ${status}`;
  const on = what ? ` (${what})` : '';
  switch (status) {
    case 401:
      return new AzureError(
        `The service connection could not authenticate to Azure Resource Manager${on}: ${detail}`,
        status,
        code,
      );
    case 403:
      return new AzureError(
        `The service connection's identity lacks permission${on}: ${detail}; grant it 'AzureML Data Scientist' on the workspace`,
        status,
        code,
      );
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
    return new UserError(
      `Sign-in with the service connection failed: ${oneLine(r.errorDescription || r.error || e.message)}`,
    );
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
    return new UserError(
      `Could not reach Azure${what ? ` (${what})` : ''}: ${oneLine(e.message)}${e.code ? ` [${e.code}]` : ''}`,
    );
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
