// Emulated Entra ID (v2 endpoints MSAL uses): openid-configuration, JWKS, and the token endpoint with
// client_credentials by client secret, certificate-signed client assertion and federated (Azure DevOps OIDC) assertion;
// and the agent host's managed-identity endpoint (App Service protocol, see below).
import { createHash, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { AppRegistration, EmulatorContext } from './context';
import type { Req, RequestLogEntry, Res, Router } from './http';
import { decodeJwt, jwk, nowSec, verifySignature } from './jwt';
import { scopeResource } from './clouds';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** AADSTS-style error body */
export function aadError(status: number, error: string, code: number, description: string): Res {
  const trace = randomUUID(),
    corr = randomUUID(),
    ts = new Date()
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, 'Z');
  return {
    status,
    headers: { 'cache-control': 'no-store' },
    body: {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${trace} Correlation ID: ${corr} Timestamp: ${ts}`,
      error_codes: [code],
      timestamp: ts,
      trace_id: trace,
      correlation_id: corr,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  };
}

export interface EntraOptions {
  /** issuers whose tokens may be presented as federated assertions, with their signing keys */
  trustedIssuers: Map<string, KeyObject>;
  signingKid: string;
}

function b64uThumb(pem: string, alg: 'sha1' | 'sha256'): string {
  return createHash(alg).update(new X509Certificate(pem).raw).digest('base64url');
}

export function registerEntra(router: Router, ctx: EmulatorContext, o: EntraOptions): void {
  const tenantOk = (t: string) =>
    t.toLowerCase() === ctx.ids.tenantId.toLowerCase() || t.toLowerCase() === 'organizations';
  const base = (t: string) => `${ctx.authorityHost}${t}`;
  const oidc = (req: Req): Res => {
    const t = req.params.tenant;
    if (!tenantOk(t))
      return aadError(
        400,
        'invalid_tenant',
        90002,
        `Tenant '${t}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    const b = base(ctx.ids.tenantId);
    return {
      status: 200,
      body: {
        token_endpoint: `${b}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        jwks_uri: `${b}/discovery/v2.0/keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        issuer: `${b}/v2.0`,
        request_uri_parameter_supported: false,
        userinfo_endpoint: `${b}/oidc/userinfo`,
        authorization_endpoint: `${b}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${b}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${b}/oauth2/v2.0/logout`,
        claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'oid', 'appid'],
        kerberos_endpoint: `${b}/kerberos`,
        tenant_region_scope: 'WW',
        cloud_instance_name: 'microsoftonline.com',
        cloud_graph_host_name: 'graph.windows.net',
        msgraph_host: 'graph.microsoft.com',
      },
    };
  };
  router.add('GET', '/:tenant/v2.0/.well-known/openid-configuration', oidc);
  router.add('GET', '/:tenant/.well-known/openid-configuration', oidc);
  router.add('GET', '/:tenant/discovery/v2.0/keys', () => ({
    status: 200,
    body: { keys: [jwk(ctx.entraPublicKey, o.signingKid)] },
  }));
  router.add('POST', '/:tenant/oauth2/v2.0/token', (req) => token(req));

  function token(req: Req): Res {
    const t = req.params.tenant;
    if (!tenantOk(t))
      return aadError(
        400,
        'invalid_request',
        90002,
        `Tenant '${t}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    const f: Record<string, string> = req.body && typeof req.body === 'object' ? req.body : {};
    // client_secret_basic
    const basic = /^Basic\s+(.+)$/i.exec(String(req.headers.authorization ?? ''));
    if (basic) {
      const [id, secret] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
      f.client_id ??= decodeURIComponent(id ?? '');
      f.client_secret ??= decodeURIComponent(secret ?? '');
    }
    if (f.grant_type !== 'client_credentials') {
      return aadError(
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${f.grant_type ?? ''}'.`,
      );
    }
    if (!f.client_id)
      return aadError(
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'client_id'.",
      );
    const scope = (f.scope ?? '').split(/\s+/).filter((s) => s && !['openid', 'profile', 'offline_access'].includes(s));
    if (scope.length !== 1 || !scope[0].endsWith('/.default')) {
      return aadError(
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${f.scope ?? ''} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    // aud = the scope without its last segment, trailing slash kept or not as asked (test/emulator/clouds.ts);
    // the directory knows ARM (this cloud's identifiers), nothing else the tasks ask for
    const resource = scopeResource(scope[0]);
    if (!ctx.cloud.armAudiences.includes(resource)) return unknownResource(resource);
    const app = ctx.apps().find((a) => a.clientId.toLowerCase() === f.client_id.toLowerCase());
    if (!app) {
      return aadError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${f.client_id}' was not found in the directory '${ctx.ids.tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );
    }
    let acr = '1';
    if (f.client_secret !== undefined) {
      if (!app.secrets.includes(f.client_secret)) {
        return aadError(
          401,
          'invalid_client',
          7000215,
          `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
        );
      }
    } else if (f.client_assertion !== undefined) {
      if (f.client_assertion_type !== JWT_BEARER) {
        return aadError(
          400,
          'invalid_request',
          50027,
          `Invalid client_assertion_type '${f.client_assertion_type ?? ''}'.`,
        );
      }
      const err = checkAssertion(app, f.client_assertion);
      if (err) return err;
      acr = '2';
    } else {
      return aadError(
        401,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    }
    const lifetime = 3599;
    const accessToken = ctx.issueAccessToken(app, resource, lifetime, acr);
    return {
      status: 200,
      headers: { 'cache-control': 'no-store' },
      body: { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken },
    };
  }

  function unknownResource(resource: string): Res {
    return aadError(
      400,
      'invalid_resource',
      500011,
      `The resource principal named ${resource} was not found in the tenant named ${ctx.ids.tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
    );
  }

  function checkAssertion(app: AppRegistration, assertion: string): Res | undefined {
    const d = decodeJwt(assertion);
    if (!d) return aadError(400, 'invalid_request', 50027, 'JWT token is invalid or malformed.');
    const c = d.payload;
    const now = nowSec();
    const tokenEndpoint = `${base(ctx.ids.tenantId)}/oauth2/v2.0/token`.toLowerCase();
    if (c.iss === app.clientId) {
      // certificate credential
      if (c.sub !== app.clientId)
        return aadError(
          401,
          'invalid_client',
          700023,
          "Client assertion audience claim does not match Realm issuer or 'sub' does not match the client id.",
        );
      const x5t = d.header['x5t#S256'] as string | undefined,
        x5t1 = d.header.x5t as string | undefined;
      const cert = app.certificates.find(
        (p) => (x5t && b64uThumb(p, 'sha256') === x5t) || (x5t1 && b64uThumb(p, 'sha1') === x5t1),
      );
      if (!cert) {
        return aadError(
          401,
          'invalid_client',
          700027,
          `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${x5t ?? x5t1 ?? ''}'.]`,
        );
      }
      if (!verifySignature(d, new X509Certificate(cert).publicKey))
        return aadError(401, 'invalid_client', 700027, 'Client assertion failed signature validation.');
      const aud = String(c.aud ?? '').toLowerCase();
      if (aud !== tokenEndpoint && aud !== `${base(ctx.ids.tenantId)}/v2.0`.toLowerCase()) {
        return aadError(
          401,
          'invalid_client',
          700021,
          `Client assertion audience claim does not match Realm issuer. Review the documentation at https://aka.ms/certCredentials. Audience: '${c.aud}'.`,
        );
      }
      if (typeof c.exp !== 'number' || c.exp < now || (typeof c.nbf === 'number' && c.nbf > now + 300)) {
        return aadError(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
      }
      return undefined;
    }
    // federated credential
    const key = o.trustedIssuers.get(String(c.iss));
    const creds = app.federated.filter((fc) => fc.issuer === c.iss);
    if (!key || !creds.length)
      return aadError(
        400,
        'invalid_request',
        700211,
        `No matching federated identity record found for presented assertion issuer '${c.iss}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation`,
      );
    if (!verifySignature(d, key))
      return aadError(401, 'invalid_client', 700027, 'Client assertion failed signature validation.');
    if (typeof c.exp !== 'number' || c.exp < now)
      return aadError(400, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
    const auds = Array.isArray(c.aud) ? c.aud : [c.aud];
    const byAud = creds.filter((fc) => auds.includes(fc.audience));
    if (!byAud.length)
      return aadError(
        400,
        'invalid_request',
        700212,
        `No matching federated identity record found for presented assertion audience '${auds.join(',')}'.`,
      );
    const sub = String(c.sub ?? '');
    if (
      !byAud.some((fc) => (fc.subject.endsWith('*') ? sub.startsWith(fc.subject.slice(0, -1)) : sub === fc.subject))
    ) {
      return aadError(
        400,
        'invalid_request',
        70021,
        `No matching federated identity record found for presented assertion. Assertion Issuer: '${c.iss}'. Assertion Subject: '${sub}'. Assertion Audience: '${auds.join(',')}'.`,
      );
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Managed identity of the agent's host. A real self-hosted agent with a ManagedServiceIdentity connection runs on an
// Azure VM / scale set / AKS node whose identity endpoint is IMDS (http://169.254.169.254): not reachable here, and
// not to be targeted. @azure/identity 4.13 (MSAL node 5.x) picks its source from the machine's environment, in this
// order: Service Fabric (IDENTITY_ENDPOINT+IDENTITY_HEADER+IDENTITY_SERVER_THUMBPRINT), App Service
// (IDENTITY_ENDPOINT+IDENTITY_HEADER), Machine Learning (MSI_ENDPOINT+MSI_SECRET), Cloud Shell (MSI_ENDPOINT),
// Azure Arc (IDENTITY_ENDPOINT+IMDS_ENDPOINT, challenge file under a fixed system folder), else IMDS (identity handles
// AKS token exchange itself when AZURE_FEDERATED_TOKEN_FILE is set). Emulated: the App Service / Functions source,
// protocol 2019-08-01, the one whose whole contract fits on loopback: plain HTTP on 127.0.0.1 like the real
// http://localhost:<port>/msi/token, GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=R[&client_id=…|
// &principal_id=…|&mi_res_id=…] with header X-IDENTITY-HEADER = $IDENTITY_HEADER; answer {access_token, expires_on
// (epoch seconds, a string), resource, token_type, client_id}; errors {statusCode, message, correlationId}
// (e.g. 400 "Unable to load the proper Managed Identity." for an identity the host does not have).

/** a managed identity attached to the agent's host: its service principal in the directory + its ARM resource id */
export interface HostIdentity {
  app: AppRegistration;
  principalId: string;
  resourceId?: string;
  kind: 'SystemAssigned' | 'UserAssigned';
}

export interface IdentityEndpointOptions {
  /** the secret App Service puts in IDENTITY_HEADER (rotated by the platform; here: per emulator start) */
  header: string;
  /** identities attached to the host: at most one SystemAssigned, any UserAssigned */
  identities: () => HostIdentity[];
  /** token lifetime, s (App Service hands out ~24 h tokens) */
  lifetimeSec?: number;
}

export interface RunningIdentityEndpoint {
  port: number;
  /** IDENTITY_ENDPOINT */ endpoint: string;
  close(): Promise<void>;
}

const IDENTITY_API_VERSION = '2019-08-01';

/** the App Service identity endpoint's answer to one request (exported for unit tests of the contract) */
export function identityEndpointAnswer(
  ctx: EmulatorContext,
  o: IdentityEndpointOptions,
  method: string,
  url: URL,
  headers: Record<string, string | string[] | undefined>,
): Res {
  const err = (status: number, message: string): Res => ({
    status,
    body: { statusCode: status, message, correlationId: randomUUID() },
  });
  if (!/^\/msi\/token\/?$/i.test(url.pathname)) return err(404, `No identity endpoint ${url.pathname}.`);
  if (method !== 'GET') return err(405, `The requested resource does not support http method '${method}'.`);
  const given = headers['x-identity-header'];
  if (given === undefined || given === '') return err(400, "The request is missing the 'X-IDENTITY-HEADER' header.");
  if (given !== o.header) return err(401, "The 'X-IDENTITY-HEADER' header is invalid.");
  const q = url.searchParams;
  const apiVersion = q.get('api-version');
  if (apiVersion !== IDENTITY_API_VERSION)
    return err(400, `The api-version '${apiVersion ?? ''}' is not supported; use '${IDENTITY_API_VERSION}'.`);
  const requested = q.get('resource');
  if (!requested) return err(400, "The 'resource' query parameter is required.");
  const clientId = q.get('client_id'),
    principalId = q.get('principal_id'),
    miResId = q.get('mi_res_id');
  if ([clientId, principalId, miResId].filter(Boolean).length > 1)
    return err(400, 'Only one of client_id, principal_id or mi_res_id may be given.');
  const ids = o.identities();
  const low = (s: string | null | undefined) => (s ?? '').toLowerCase();
  const id = clientId
    ? ids.find((i) => low(i.app.clientId) === low(clientId))
    : principalId
      ? ids.find((i) => low(i.principalId) === low(principalId))
      : miResId
        ? ids.find((i) => low(i.resourceId) === low(miResId))
        : ids.find((i) => i.kind === 'SystemAssigned');
  if (!id) return err(400, 'Unable to load the proper Managed Identity.');
  // v1.0-style request: aud = the resource as given (test/emulator/clouds.ts); only ARM is known to the directory.
  // ASSUMPTION: the endpoint's answer for an unknown resource (400 with Entra's AADSTS500011 text)
  if (!ctx.cloud.armAudiences.includes(requested)) {
    return err(
      400,
      `AADSTS500011: The resource principal named ${requested} was not found in the tenant named ${ctx.ids.tenantId}.`,
    );
  }
  const aud = requested;
  const lifetime = o.lifetimeSec ?? 86_399;
  const accessToken = ctx.issueAccessToken(id.app, aud, lifetime, '2');
  return {
    status: 200,
    body: {
      access_token: accessToken,
      expires_on: String(nowSec() + lifetime),
      resource: requested,
      token_type: 'Bearer',
      client_id: id.app.clientId,
    },
  };
}

/** starts the host's identity endpoint (plain HTTP on 127.0.0.1, as App Service's); requests are logged with host 'identity' */
export async function startIdentityEndpoint(
  ctx: EmulatorContext,
  o: IdentityEndpointOptions,
): Promise<RunningIdentityEndpoint> {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const entry: RequestLogEntry = {
      method: req.method ?? 'GET',
      url: url.pathname + url.search,
      status: 0,
      host: 'identity',
      time: new Date().toISOString(),
    };
    ctx.requests.push(entry);
    req.resume();
    req.on('end', () => {
      const fault = ctx.faults.pick('identity', url.pathname)?.kind;
      if (fault === 'drop') {
        req.socket.destroy();
        return;
      }
      const out: Res = fault
        ? {
            status: Number(fault),
            body: { statusCode: Number(fault), message: `Injected fault: HTTP ${fault}.`, correlationId: randomUUID() },
          }
        : identityEndpointAnswer(ctx, o, (req.method ?? 'GET').toUpperCase(), url, req.headers);
      entry.status = out.status;
      const body = JSON.stringify(out.body);
      res.writeHead(out.status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        ...out.headers,
      });
      res.end(body);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    endpoint: `http://127.0.0.1:${port}/msi/token`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
