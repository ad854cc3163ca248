// A stand-in for Azure-in-a-box with the fields the agent helper needs, for tests that make no Azure calls.
import type { AgentBox } from './agent';

export function fakeBox(over: Partial<AgentBox> = {}): AgentBox {
  return {
    armUrl: 'https://arm.example.test/',
    authorityHost: 'https://login.example.test/',
    collectionUri: 'https://devops.example.test/org/',
    projectId: '6f1c0c53-0000-4000-8000-00000000aaaa',
    projectName: 'Contoso ML',
    oidcRequestUri:
      'https://devops.example.test/org/6f1c0c53-0000-4000-8000-00000000aaaa/_apis/distributedtask/hubs/build/plans/11111111-2222-4333-8444-555555555555/jobs/66666666-7777-4888-8999-000000000000/oidctoken',
    systemAccessToken: 'sys-access-token-0123456789abcdef',
    tenantId: '72f988bf-0000-4000-8000-000000000001',
    subscriptionId: '00000000-1111-4222-8333-444444444444',
    clientId: '0a0b0c0d-0000-4000-8000-000000000123',
    clientSecret: 'Cl1ent~Secret.Value_0123456789',
    certificatePem:
      '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUFakeCertificateBodyLine000000000000000000000\n-----END CERTIFICATE-----\n' +
      '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgFakePrivateKeyLine1\n' +
      'hRANCAAQFakePrivateKeyLine2abcdefghijklmnopqrstuvwxyz0123456789AB\n-----END PRIVATE KEY-----\n',
    audience: 'https://management.core.windows.net/',
    childEnv: () => ({}),
    azurite: { key: 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==' },
    ...over,
  };
}
