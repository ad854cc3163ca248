// AzureRM service connection → TokenCredential (@azure/identity). Credentials live here and nowhere else.
// No agent layer at run time (only its types): what must be masked goes to the caller's onSecret, so src/auth and
// src/azureml load and run without azure-pipelines-task-lib (test/unit/layers.test.ts).
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import {
  ClientAssertionCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  type ClientSecretCredentialOptions,
} from '@azure/identity';
import type { AzureRmConnection } from '../pipeline/connection';
import { UserError } from '../errors';
import { proxyClientOptions } from './proxy';
import { oidcRequestUri, requestOidcToken } from './oidc';
export { proxyClientOptions, proxyOptionsFor, proxiedSender, devopsProxyOptions, type Sender } from './proxy';

/** Entra ID authority hosts of the public and sovereign clouds; MSAL's instance discovery knows only these. */
export const KNOWN_AUTHORITY_HOSTS: readonly string[] = [
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
  'login.microsoftonline.de',
];

export function isKnownAuthority(authorityHost: string): boolean {
  try {
    return KNOWN_AUTHORITY_HOSTS.includes(new URL(authorityHost).hostname.toLowerCase());
  } catch {
    return false;
  }
}

/**
 * The ARM token scope: the connection's audience (activeDirectoryServiceEndpointResourceId) as given + "/.default",
 * trailing slash kept: "https://management.core.windows.net/" → "https://management.core.windows.net//.default",
 * for which Entra ID issues aud "https://management.core.windows.net/" (it takes everything before the scope's last
 * slash as the resource). Sources:
 * - azure-arm-rest ApplicationTokenCredentials.getMSALToken: scopes [activeDirectoryResourceId + "/.default"]
 *   (microsoft/azure-pipelines-tasks-common-packages common-npm-packages/azure-arm-rest/azure-arm-common.ts,
 *   commit 023a601d7a36449a41a5975269049029ffd112f6), e.g. "https://management.azure.com//.default" there;
 * - Azure CLI resource_to_scopes: 'https://management.core.windows.net/' → 'https://management.core.windows.net//.default',
 *   "We should not trim the trailing slash" (Azure/azure-cli src/azure-cli-core/azure/cli/core/auth/util.py, commit
 *   036a34b6951ba19236e2d76c6f25bf2f3f8b68bd);
 * - learn.microsoft.com msal-v1-app-scopes: "note the two slashes … the Azure Resource Manager API expects a slash in
 *   its audience claim".
 * (The Azure SDK management clients default to `${endpoint}/.default` with endpoint "https://management.azure.com",
 * i.e. aud without the slash; ARM accepts both forms, see test/emulator/clouds.ts.) Managed identity:
 * @azure/identity strips "/.default" and asks for resource "https://management.core.windows.net/".
 */
export function armScope(conn: AzureRmConnection): string {
  return `${conn.audience}/.default`;
}

/** Parts of a PEM bundle (certificate + private key), as the agent hands a certificate service connection. */
export function parsePem(pem: string): { certificates: number; hasPrivateKey: boolean } {
  const certificates = (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).length;
  const hasPrivateKey =
    /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(
      pem,
    );
  return { certificates, hasPrivateKey };
}

/** The AADSTS line of an identity error (or its first line), for a one-line message. */
export function authFailureDetail(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const aadsts = msg.match(/AADSTS\d+:[^\r\n]*/);
  if (aadsts) return aadsts[0].trim();
  // MSAL (managed identity): "… Message : Error(s): … - Description: <what the endpoint said> - Correlation ID: …"
  const described = msg.match(/Description:\s*(.+?)\s+-\s+(?:Correlation ID|Trace ID):/);
  if (described) return `the managed identity endpoint answered: ${described[1]!.trim()}`;
  if (/network_error|Network unreachable/i.test(msg)) {
    return 'the managed identity endpoint of this agent machine could not be reached (network unreachable): the agent must run on an Azure host with a managed identity (VM, scale set, App Service, AKS)';
  }
  const first =
    msg
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find(Boolean) ?? 'unknown error';
  return first.replace(/^[A-Za-z]+Credential(?: authentication failed)?:\s*/, '');
}

/** What a credential built here reports to its caller (the agent layer: setSecret / debug in the entry). */
export interface CredentialOptions {
  /** the task's cancellation, for requests the credential makes itself (the WIF OIDC token request) */
  abortSignal?: AbortSignal;
  /** called with every secret the credential obtains (access tokens, OIDC tokens): the caller masks it */
  onSecret?: (secret: string) => void;
  /** diagnostic detail (the stack of an identity failure) */
  debug?: (message: string) => void;
}

/** Wraps a credential: reports every token it hands out to onSecret, and turns token failures into a one-line UserError. */
export class ConnectionCredential implements TokenCredential {
  constructor(
    readonly conn: AzureRmConnection,
    readonly inner: TokenCredential,
    readonly options: CredentialOptions = {},
  ) {}

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    let token: AccessToken | null;
    try {
      token = await this.inner.getToken(scopes, options);
    } catch (err) {
      if (options?.abortSignal?.aborted) throw err;
      if (err instanceof UserError) throw err;
      if (err instanceof Error && err.stack) this.options.debug?.(err.stack);
      throw new UserError(`Authentication failed for service connection '${this.conn.id}': ${authFailureDetail(err)}`, {
        cause: err,
      });
    }
    if (token?.token) this.options.onSecret?.(token.token);
    return token;
  }
}

/**
 * The client-assertion callback for workload identity federation: a fresh OIDC token from Azure DevOps on every call
 * (tokens live ~10 minutes; MSAL calls back whenever it needs a new access token), or the endpoint's idToken when the
 * job has neither an OIDC request URI nor its plan variables (see getAzureRmConnection). `abortSignal` (the task's
 * cancellation) aborts a token request that hangs; every token goes to `onSecret`.
 *
 * Why not @azure/identity's AzurePipelinesCredential (4.13.1, node_modules/@azure/identity/dist/commonjs/credentials/
 * azurePipelinesCredential.js): its constructor takes the service connection id and the job token and throws
 * CredentialUnavailableError unless process.env.SYSTEM_OIDCREQUESTURI is set, then POSTs
 * `${SYSTEM_OIDCREQUESTURI}?api-version=7.1&serviceConnectionId=<id>` itself, in a request that carries no abort signal.
 * We need more than that one path: the URI built from the job's plan like azure-arm-rest when System.OidcRequestUri
 * is absent (oidc.ts), the endpoint's idToken as a last resort, the task's cancellation on the token request, an
 * https-only check before the job token is sent, the agent proxy's bypass list per request (proxiedSender) and masking.
 */
export function federatedAssertion(
  conn: AzureRmConnection,
  options: Pick<CredentialOptions, 'abortSignal' | 'onSecret'> = {},
): () => Promise<string> {
  const oidc = conn.oidc;
  const idToken = conn.auth.scheme === 'WorkloadIdentityFederation' ? conn.auth.idToken : undefined;
  if (!oidc && !idToken) {
    throw new UserError(
      `Service connection '${conn.id}' uses workload identity federation but no OIDC token source is available`,
    );
  }
  return async () => {
    if (!oidc) return idToken as string;
    const token = await requestOidcToken({
      requestUri: oidcRequestUri(oidc),
      accessToken: oidc.accessToken,
      serviceConnectionId: conn.id,
      abortSignal: options.abortSignal,
      proxy: conn.proxy,
    });
    options.onSecret?.(token);
    return token;
  };
}

/**
 * Identity options from the connection: its authority host; no instance discovery for authorities MSAL cannot know;
 * the agent's proxy (token requests to the authority go through it unless bypassed).
 */
export function credentialOptions(conn: AzureRmConnection): ClientSecretCredentialOptions {
  return {
    authorityHost: conn.authorityHost,
    disableInstanceDiscovery: !isKnownAuthority(conn.authorityHost),
    ...proxyClientOptions(conn.proxy),
  };
}

/** The connection's credential; `options`: cancellation for the requests it makes itself, masking, debug detail. */
export function createCredential(conn: AzureRmConnection, opts: CredentialOptions = {}): TokenCredential {
  const options = credentialOptions(conn);
  const auth = conn.auth;
  let inner: TokenCredential;
  switch (auth.scheme) {
    case 'ServicePrincipal':
      if (auth.certificatePem) {
        const pem = parsePem(auth.certificatePem);
        if (pem.certificates === 0 || !pem.hasPrivateKey) {
          throw new UserError(
            `Service connection '${conn.id}': the certificate must be a PEM containing both the certificate and its private key`,
          );
        }
        inner = new ClientCertificateCredential(
          conn.tenantId,
          auth.clientId,
          { certificate: auth.certificatePem },
          options,
        );
      } else if (auth.secret) {
        inner = new ClientSecretCredential(conn.tenantId, auth.clientId, auth.secret, options);
      } else {
        throw new UserError(`Service connection '${conn.id}' has neither a service principal key nor a certificate`);
      }
      break;
    case 'WorkloadIdentityFederation': {
      inner = new ClientAssertionCredential(conn.tenantId, auth.clientId, federatedAssertion(conn, opts), options);
      break;
    }
    case 'ManagedServiceIdentity':
      inner = auth.clientId
        ? new ManagedIdentityCredential({ clientId: auth.clientId })
        : new ManagedIdentityCredential();
      break;
    default:
      throw new UserError(`Service connection '${conn.id}' uses an unsupported authorization scheme`);
  }
  return new ConnectionCredential(conn, inner, opts);
}
