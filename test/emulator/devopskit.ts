// Helpers for Azure DevOps modules (test/emulator/devops/*.ts): auth with the job access token,
// Azure DevOps error shape, and resource-location discovery (OPTIONS {collection}/_apis/{area}).
import type { EmulatorContext } from './context';
import { header, HttpError, type Req, type Res, type Router } from './http';

/** Azure DevOps error body ({ $id, message, typeKey, errorCode }) */
export function devopsError(status: number, typeKey: string, message: string): Res {
  return {
    status,
    body: {
      $id: '1',
      innerException: null,
      message,
      typeName: `Microsoft.TeamFoundation.${typeKey}, Microsoft.TeamFoundation`,
      typeKey,
      errorCode: 0,
      eventId: 3000,
    },
  };
}

/**
 * The caller must present the job access token: `Authorization: Bearer <token>` (System.AccessToken) or
 * Basic with the token as password (azure-devops-node-api PersonalAccessTokenHandler sends 'PAT:<token>').
 * 401 when absent/wrong. Returns the token.
 */
export function requireJobToken(ctx: EmulatorContext, req: Req): string {
  const auth = header(req, 'authorization') ?? '';
  let tok: string | undefined;
  const b = /^Bearer\s+(.+)$/i.exec(auth);
  if (b) tok = b[1].trim();
  const basic = /^Basic\s+(.+)$/i.exec(auth);
  if (basic) {
    const dec = Buffer.from(basic[1], 'base64').toString('utf8');
    tok = dec.slice(dec.indexOf(':') + 1);
  }
  if (!tok || !validJobTokens(ctx).includes(tok)) {
    throw new HttpError({
      ...devopsError(
        401,
        'UnauthorizedRequestException',
        "TF400813: The user '' is not authorized to access this resource.",
      ),
      headers: { 'WWW-Authenticate': 'Bearer authorization_uri=https://login.microsoftonline.com/common' },
    });
  }
  return tok;
}

/** the job access tokens the host accepts (box.systemAccessToken; more can be added under store kind 'devopsTokens') */
export function validJobTokens(ctx: EmulatorContext): string[] {
  return ctx.store.list<{ token: string }>('devopsTokens').map((t) => t.token);
}

/** register discovery + fallback on the devops router (index.ts calls this) */
export function registerDevopsBase(router: Router, ctx: EmulatorContext): void {
  const answer = (area?: string): Res => {
    const value = ctx.devops.locations.filter((l) => !area || l.area.toLowerCase() === area.toLowerCase());
    return { status: 200, body: { count: value.length, value } };
  };
  router.add('OPTIONS', '/:org/_apis/:area', (req) => answer(req.params.area));
  router.add('OPTIONS', '/:org/_apis', () => answer());
  router.add('OPTIONS', '/:org/:project/_apis/:area', (req) => answer(req.params.area));
  router.notFound = (req) =>
    devopsError(404, 'NotFoundException', `API resource location was not found for ${req.method} ${req.path}.`);
}
