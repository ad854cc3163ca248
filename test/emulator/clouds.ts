// The Azure clouds Azure-in-a-box can stand for: what the agent hands a task for an AzureRM service connection of
// that cloud, and which token audiences that cloud's Entra ID issues for ARM and its ARM accepts.
//
// Connection values (ENDPOINT_DATA_<id>_ENVIRONMENT / ..._ACTIVEDIRECTORYAUTHORITY /
// ..._ACTIVEDIRECTORYSERVICEENDPOINTRESOURCEID, ENDPOINT_URL_<id>):
// - environment names: the keys of azure-arm-rest's AzureRMEndpoint._azureScopes ('AzureCloud', 'AzureChinaCloud',
//   'AzureUSGovernment', 'AzureGermanCloud') and its 'AzureStack' environment
//   (microsoft/azure-pipelines-tasks-common-packages common-npm-packages/azure-arm-rest/azure-arm-endpoint.ts,
//   commit 44c8c3eb5d40446bfb084d31550ef1d135acc62f).
// - resource manager URL, authority and ARM resource id per cloud: the Azure CLI's built-in cloud table
//   (Azure/azure-cli src/azure-cli-core/azure/cli/core/cloud.py, commit 004224f71b2281f7f7acf5435f224805c1c54674:
//   resource_manager, active_directory, active_directory_resource_id of AZURE_PUBLIC_CLOUD, AZURE_US_GOV_CLOUD,
//   AZURE_CHINA_CLOUD). Given here with the trailing slashes Azure DevOps uses for the public cloud
//   (azure-arm-endpoint.ts falls back to "https://login.microsoftonline.com/"; the ARM URL ends with '/').
// - Azure Stack Hub: no fixed values; azure-arm-endpoint.ts _updateAzureStackData reads
//   {url}metadata/endpoints?api-version=2015-01-01 and takes authentication.audiences[0] as the resource id. The
//   audience below follows the sample of the Azure Stack Hub docs ("Use API version profiles with Go in Azure Stack
//   Hub", sample metadata JSON: audiences ["https://management.<yourtenant>.onmicrosoft.com/3cc5febd-e4b7-4a85-a2ed-
//   1d730e2f5928"], ASDK ResourceManagerUrl https://management.local.azurestack.external/): no trailing slash.
//
// Audiences:
// - Entra ID (v2.0 token endpoint, client credentials, `<resource>/.default`): the access token's `aud` is the scope
//   without its last segment, "everything before the last slash" — so "https://management.core.windows.net//.default"
//   gives aud "https://management.core.windows.net/" and ".../.default" without the double slash gives it without
//   the slash (learn.microsoft.com/azure/active-directory/develop/msal-v1-app-scopes, "Scopes for a web API accepting
//   v1.0 tokens"; the MSAL.NET maintainers relaying eSTS in AzureAD/microsoft-authentication-library-for-dotnet#747).
//   A resource the directory has no service principal for: 400 invalid_resource AADSTS500011 (message as quoted in
//   Azure/azure-cli#29113 and #16850).
// - Managed identity endpoints take `resource` (v1.0 style): aud = resource as given (same docs page: "For ADAL
//   (Azure AD v1.0) endpoint with a v1.0 access token, aud=resource").
// - ARM accepts exactly these audiences (401 InvalidAuthenticationTokenAudience otherwise; the list is ARM's own
//   error text): public cloud 'https://management.core.windows.net/','https://management.core.windows.net',
//   'https://management.azure.com/','https://management.azure.com' (quoted in
//   Azure-Samples/active-directory-dotnetcore-daemon-v2#145, 2022; hashicorp/go-azure-helpers#51, 2020;
//   microsoft/vscode-azuretools#1625, 2023); US Government 'https://management.core.usgovcloudapi.net/',
//   'https://management.core.usgovcloudapi.net','https://management.usgovcloudapi.net/',
//   'https://management.usgovcloudapi.net' (quoted in stephaneey/azure-apim-extension#93, 2020).
//   ASSUMPTION: China follows the same four-form pattern with its hosts (no ARM error text from China found), and
//   Azure Stack Hub's ARM accepts the audiences of its metadata document.
//   The Entra ID of each cloud knows ARM under the same identifiers (with and without the trailing slash: the SDKs'
//   "https://management.azure.com/.default" works in the public cloud).

export interface CloudProfile {
  /** ENDPOINT_DATA environment */
  name: string;
  /** the real ARM URL (ENDPOINT_URL of a real connection; the box's own ARM is on loopback) */
  resourceManagerUrl: string;
  /** the real authority (the box's Entra is on loopback) */
  activeDirectoryAuthority: string;
  /** ENDPOINT_DATA activeDirectoryServiceEndpointResourceId: the ARM token audience */
  activeDirectoryServiceEndpointResourceId: string;
  /** the `aud` values this cloud's ARM accepts, in the order of ARM's error message; also the resources its Entra knows for ARM */
  armAudiences: string[];
}

const fourForms = (core: string, rm: string) => [`${core}/`, core, `${rm}/`, rm];

export const CLOUDS = {
  AzureCloud: {
    name: 'AzureCloud',
    resourceManagerUrl: 'https://management.azure.com/',
    activeDirectoryAuthority: 'https://login.microsoftonline.com/',
    activeDirectoryServiceEndpointResourceId: 'https://management.core.windows.net/',
    armAudiences: fourForms('https://management.core.windows.net', 'https://management.azure.com'),
  },
  AzureUSGovernment: {
    name: 'AzureUSGovernment',
    resourceManagerUrl: 'https://management.usgovcloudapi.net/',
    activeDirectoryAuthority: 'https://login.microsoftonline.us/',
    activeDirectoryServiceEndpointResourceId: 'https://management.core.usgovcloudapi.net/',
    armAudiences: fourForms('https://management.core.usgovcloudapi.net', 'https://management.usgovcloudapi.net'),
  },
  AzureChinaCloud: {
    name: 'AzureChinaCloud',
    resourceManagerUrl: 'https://management.chinacloudapi.cn/',
    activeDirectoryAuthority: 'https://login.chinacloudapi.cn/',
    activeDirectoryServiceEndpointResourceId: 'https://management.core.chinacloudapi.cn/',
    armAudiences: fourForms('https://management.core.chinacloudapi.cn', 'https://management.chinacloudapi.cn'),
  },
  AzureStack: {
    name: 'AzureStack',
    resourceManagerUrl: 'https://management.local.azurestack.external/',
    activeDirectoryAuthority: 'https://login.microsoftonline.com/',
    activeDirectoryServiceEndpointResourceId:
      'https://management.contoso.onmicrosoft.com/3cc5febd-e4b7-4a85-a2ed-1d730e2f5928',
    armAudiences: ['https://management.contoso.onmicrosoft.com/3cc5febd-e4b7-4a85-a2ed-1d730e2f5928'],
  },
} as const satisfies Record<string, CloudProfile>;

export type CloudName = keyof typeof CLOUDS;

/** the resource an Entra v2.0 client-credentials scope names: everything before its last slash ("/.default") */
export function scopeResource(scope: string): string {
  return scope.slice(0, scope.lastIndexOf('/'));
}
