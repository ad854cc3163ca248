// Helpers for ARM area modules (test/emulator/arm/*.ts): ids, workspace lookup, systemData, paging,
// and the ARM host's pre-handler (bearer token, api-version, RBAC, swagger validation).
import type { EmulatorContext } from './context';
import { armError, fail, header, InvalidJson, type PreHandler, type Req, type Res } from './http';
import { decodeJwt, nowSec, verifySignature } from './jwt';

export const RP = 'Microsoft.MachineLearningServices';
/** route prefix for workspace-scoped resources: params sub, rg, ws */
export const WS = `/subscriptions/:sub/resourceGroups/:rg/providers/${RP}/workspaces/:ws`;

export function wsId(sub: string, rg: string, ws: string): string {
  return `/subscriptions/${sub}/resourceGroups/${rg}/providers/${RP}/workspaces/${ws}`;
}

export interface WorkspaceRecord {
  id: string;
  name: string;
  location: string;
  resourceGroup: string;
  subscriptionId: string;
  body: Record<string, any>;
}

/** 404 SubscriptionNotFound / ResourceGroupNotFound / ResourceNotFound (workspace) the way ARM answers */
export function requireWorkspace(ctx: EmulatorContext, req: Req): WorkspaceRecord {
  const { sub, rg, ws } = req.params;
  if (!ctx.store.get('subscriptions', sub))
    fail(404, 'SubscriptionNotFound', `The subscription '${sub}' could not be found.`);
  if (!ctx.store.get('resourceGroups', `/subscriptions/${sub}/resourceGroups/${rg}`))
    fail(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
  const w = ctx.store.get<WorkspaceRecord>('workspaces', wsId(sub, rg, ws));
  if (!w)
    fail(
      404,
      'ResourceNotFound',
      `The Resource '${RP}/workspaces/${ws}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    );
  return w;
}

/** canonical resource id for a workspace child: wsId(stored spelling) + '/' + segments */
export function childId(w: WorkspaceRecord, ...segments: string[]): string {
  return [w.id, ...segments].join('/');
}

export interface SystemData {
  createdAt: string;
  createdBy: string;
  createdByType: string;
  lastModifiedAt: string;
  lastModifiedBy: string;
  lastModifiedByType: string;
}
/** systemData for a create (existing undefined) or an update */
export function systemData(req: Req, existing?: SystemData): SystemData {
  const now = new Date().toISOString();
  const who = req.identity?.appId ?? 'unknown';
  return {
    createdAt: existing?.createdAt ?? now,
    createdBy: existing?.createdBy ?? who,
    createdByType: existing?.createdByType ?? 'Application',
    lastModifiedAt: now,
    lastModifiedBy: who,
    lastModifiedByType: 'Application',
  };
}

/** the request's own resource URL with its api-version: what the service puts in `Location` when it answers a PUT */
export function selfUrl(armUrl: string, req: Req): string {
  return `${armUrl.replace(/\/$/, '')}${req.path}?api-version=${encodeURIComponent(req.query.get('api-version') ?? '2022-10-01')}`;
}

/** JSON body or 400 */
export function requireBody(req: Req): Record<string, any> {
  if (
    req.body instanceof InvalidJson ||
    req.body === undefined ||
    typeof req.body !== 'object' ||
    Array.isArray(req.body)
  ) {
    fail(
      400,
      'InvalidRequestContent',
      'The request content was invalid and could not be deserialized: expected a JSON object.',
    );
  }
  return req.body;
}

/**
 * One page of a list the way Azure ML does it: `$skip` (number) + page size (`$top`, else `count`, else 20);
 * nextLink is absolute, the same URL with `$skip` moved on.
 */
export function page<T>(
  ctx: EmulatorContext,
  req: Req,
  items: T[],
  defaultSize = 20,
): { value: T[]; nextLink?: string } {
  const skip = Math.max(0, Number(req.query.get('$skip') ?? 0) || 0);
  const topRaw = req.query.get('$top') ?? req.query.get('count');
  const size = topRaw ? Math.max(1, Number(topRaw) || defaultSize) : defaultSize;
  const value = items.slice(skip, skip + size);
  const out: { value: T[]; nextLink?: string } = { value };
  if (skip + size < items.length) {
    const q = new URLSearchParams(req.query);
    q.set('$skip', String(skip + size));
    // ARM style: '$' kept literal in names, values percent-encoded (clients re-append their own query params by name)
    const qs = [...q]
      .map(([k, v]) => `${encodeURIComponent(k).replace(/^%24/, '$')}=${encodeURIComponent(v)}`)
      .join('&');
    out.nextLink = `${ctx.armUrl.replace(/\/$/, '')}${req.path}?${qs}`;
  }
  return out;
}

/** parse `tags=k=v,k2` / `properties=…` filters: every entry must match (key present; value equal when given) */
export function matchesKv(filter: string | null, kv: Record<string, string> | undefined): boolean {
  if (!filter) return true;
  const obj = kv ?? {};
  for (const part of filter
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const i = part.indexOf('=');
    const k = i < 0 ? part : part.slice(0, i);
    if (!(k in obj)) return false;
    if (i >= 0 && obj[k] !== part.slice(i + 1)) return false;
  }
  return true;
}

/** compare versions: numeric when both are numbers, else string */
export function compareVersions(a: string, b: string): number {
  const na = Number(a),
    nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a.localeCompare(b);
}

/** action name for a 403 message, e.g. Microsoft.MachineLearningServices/workspaces/models/versions/write */
function actionOf(req: Req): string {
  const p = req.path.split('/').filter(Boolean);
  const i = p.findIndex((s) => s.toLowerCase() === 'providers');
  const segs = i >= 0 ? p.slice(i + 1) : [];
  const type = [segs[0] ?? RP, ...segs.slice(1).filter((_, j) => j % 2 === 0)].join('/');
  const verb = req.method === 'DELETE' ? 'delete' : req.method === 'POST' ? 'action' : 'write';
  return `${type}/${verb}`;
}

/** the ARM host's pre-handler: token → api-version → route exists → RBAC → swagger validation */
export function armPreHandler(ctx: EmulatorContext): PreHandler {
  const unauth = (code: string, message: string): Res =>
    armError(401, code, message, {
      headers: {
        'WWW-Authenticate': `Bearer authorization_uri="${ctx.authorityHost}${ctx.ids.tenantId}", error="invalid_token", error_description="${message.replace(/"/g, "'")}"`,
      },
    });
  return (req, matched) => {
    if (req.path === '/discovery') return undefined; // the discovery document is public
    const auth = header(req, 'authorization');
    if (!auth) return unauth('AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.");
    const m = /^Bearer\s+(.+)$/i.exec(auth);
    if (!m)
      return unauth(
        'AuthenticationFailed',
        "Authentication failed. The 'Authorization' header is provided in an invalid format.",
      );
    const d = decodeJwt(m[1]);
    if (!d || !verifySignature(d, ctx.entraPublicKey))
      return unauth('InvalidAuthenticationToken', 'The access token is invalid.');
    const c = d.payload;
    if (typeof c.exp !== 'number' || c.exp < nowSec())
      return unauth('ExpiredAuthenticationToken', 'The access token expiry UTC time is earlier than current UTC time.');
    // exactly the cloud's ARM audiences, trailing slash and all (test/emulator/clouds.ts has the sources)
    const allowed = ctx.cloud.armAudiences;
    if (!allowed.includes(String(c.aud))) {
      return unauth(
        'InvalidAuthenticationTokenAudience',
        `The access token has been obtained for wrong audience or resource '${c.aud}'. It should exactly match with one of the allowed audiences '${allowed.join("','")}'.`,
      );
    }
    if (c.tid !== ctx.ids.tenantId)
      return unauth(
        'InvalidAuthenticationTokenTenant',
        `The access token is from the wrong issuer '${c.iss}'. It must match the tenant 'https://sts.windows.net/${ctx.ids.tenantId}/' associated with this subscription.`,
      );
    const app = ctx.apps().find((a) => a.clientId === c.appid);
    if (!app) return unauth('InvalidAuthenticationToken', 'The access token is invalid (unknown application).');
    req.identity = { appId: app.clientId, tenantId: c.tid, oid: app.objectId, role: app.role, claims: c };

    const isArm = /^\/(subscriptions|providers)(\/|$)/i.test(req.path);
    if (isArm && !req.query.get('api-version')) {
      return armError(
        400,
        'MissingApiVersionParameter',
        'The api-version query parameter (?api-version=) is required for all requests.',
      );
    }
    if (!matched) {
      if (isArm) {
        return armError(
          404,
          'InvalidResourceType',
          `The resource type could not be found for ${req.method} '${req.path}' with api-version '${req.query.get('api-version')}'.`,
        );
      }
      return undefined; // router.notFound answers
    }
    const write = req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS';
    if (write && app.role === 'reader' && isArm) {
      return armError(
        403,
        'AuthorizationFailed',
        `The client '${app.clientId}' with object id '${app.objectId}' does not have authorization to perform action '${actionOf(req)}' over scope '${req.path}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
      );
    }
    if (isArm && (req.method === 'PUT' || req.method === 'POST' || req.method === 'PATCH')) {
      if (req.body instanceof InvalidJson) {
        return armError(
          400,
          'InvalidRequestContent',
          `The request content was invalid and could not be deserialized: ${req.body.text.slice(0, 80)}`,
        );
      }
      const v = ctx.validate(req.method, req.path, req.query, req.body);
      if (v && v.errors.length) {
        // The service's shape for a body it refuses: code UserError, the fixed message "Request is invalid and/or
        // missing fields." and the causes in details[] (code RequestInvalid). SOURCE: issue 9 (seen in Microsoft's SDK
        // recordings; the exchange itself was not located for test/fixtures) and a body captured from the service in a
        // public third-party test (getLogs with a bad containerType: details[0] = { code: 'RequestInvalid', message:
        // 'The value provided is not a valid enum value. Field: containerType. …' }). ASSUMPTION: the wording of each
        // detail is ours (the swagger validator's "<field>: <problem>").
        return armError(400, 'UserError', 'Request is invalid and/or missing fields.', {
          details: v.errors.map((message) => ({ code: 'RequestInvalid', message })),
        });
      }
    }
    return undefined;
  };
}
