// `npm run emulator [-- options]`: start Azure-in-a-box and keep it running until Ctrl-C.
//   --state <dir>          state folder (default .azure-in-a-box/); kept across runs
//   --fast-lro             LROs finish at once
//   --fault-rate <0..1>    probability of an injected fault per request (default 0 = off)
//   --fault-kinds <list>   comma list of 429,500,503,drop (default all)
//   --fault-hosts <list>   comma list of arm,entra,devops,mlflow,storage (default all)
//   --latency <ms>         added latency per request
//   --log                  print every request
//   --cloud <name>         the cloud the box stands for (clouds.ts: AzureCloud, AzureUSGovernment, AzureChinaCloud, AzureStack)
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startAzureInABox } from './index';
import { CLOUDS, type CloudName } from './clouds';
import type { FaultKind } from './http';

const { values } = parseArgs({
  options: {
    state: { type: 'string', default: '.azure-in-a-box' },
    'fast-lro': { type: 'boolean', default: false },
    'fault-rate': { type: 'string' },
    'fault-kinds': { type: 'string' },
    'fault-hosts': { type: 'string' },
    latency: { type: 'string' },
    log: { type: 'boolean', default: false },
    cloud: { type: 'string', default: 'AzureCloud' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(
    'usage: npm run emulator -- [--state dir] [--fast-lro] [--fault-rate 0.1] [--fault-kinds 429,500,503,drop] [--fault-hosts arm,entra,devops,mlflow,storage] [--latency 50] [--log] [--cloud AzureCloud|AzureUSGovernment|AzureChinaCloud|AzureStack]',
  );
  process.exit(0);
}

function num(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) {
    console.error(`--${name}: expected a number between ${min} and ${max}, got '${v}'`);
    process.exit(2);
  }
  return n;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

async function main(): Promise<void> {
  const rate = num('fault-rate', values['fault-rate'], 0, 1);
  const latencyMs = num('latency', values.latency, 0, 600_000);
  const kinds = values['fault-kinds']
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean) as FaultKind[] | undefined;
  for (const k of kinds ?? [])
    if (!['429', '500', '503', 'drop'].includes(k)) {
      console.error(`--fault-kinds: unknown kind '${k}' (429, 500, 503, drop)`);
      process.exit(2);
    }
  const hosts = values['fault-hosts']
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);

  if (!(values.cloud! in CLOUDS)) {
    console.error(`--cloud: unknown cloud '${values.cloud}' (${Object.keys(CLOUDS).join(', ')})`);
    process.exit(2);
  }
  const box = await startAzureInABox({
    stateDir: path.resolve(values.state!),
    fastLro: values['fast-lro'],
    cloud: values.cloud as CloudName,
  });
  if (rate || latencyMs) box.faults.set({ rate, kinds, hosts, latencyMs });

  const id = 'AZUREML';
  const env = box.childEnv();
  const auth = JSON.stringify({
    scheme: 'ServicePrincipal',
    parameters: {
      authenticationType: 'spnKey',
      serviceprincipalid: box.clientId,
      serviceprincipalkey: box.clientSecret,
      tenantid: box.tenantId,
    },
  });
  const wif = JSON.stringify({
    scheme: 'WorkloadIdentityFederation',
    parameters: { serviceprincipalid: box.clientId, tenantid: box.tenantId },
  });
  const lines = [
    `Azure-in-a-box is running (state: ${box.stateDir})`,
    `  ARM / Azure ML   ${box.armUrl}`,
    `  Entra ID         ${box.authorityHost}   tenant ${box.tenantId}`,
    `  Azure DevOps     ${box.collectionUri}   project ${box.projectName} (${box.projectId})`,
    `  Azurite (blob)   ${box.azurite.blobEndpoint}   container ${box.azurite.container}; clients use the fault proxy ${box.azurite.clientBlobEndpoint}`,
    `  subscription ${box.subscriptionId}  resource group ${box.resourceGroup}  workspace ${box.workspace}`,
    `  service principal ${box.clientId} (contributor); reader ${box.readerClientId}`,
    `  faults: ${rate ? `rate ${rate} kinds ${kinds?.join(',') ?? 'all'} hosts ${hosts?.join(',') ?? 'all'}` : 'off'}${latencyMs ? `, latency ${latencyMs} ms` : ''}`,
    '',
    '# Environment of an agent job using this box (service connection id AZUREML; paste into a shell):',
    `export NODE_EXTRA_CA_CERTS=${q(env.NODE_EXTRA_CA_CERTS)}`,
    `export NODE_OPTIONS=${q(env.NODE_OPTIONS)}`,
    `export INPUT_CONNECTION=${id}`,
    `export ENDPOINT_URL_${id}=${q(box.armUrl)}`,
    `export ENDPOINT_AUTH_${id}=${q(auth)}`,
    `#   or, workload identity federation: export ENDPOINT_AUTH_${id}=${q(wif)}`,
    `export ENDPOINT_DATA_${id}_SUBSCRIPTIONID=${box.subscriptionId}`,
    `export ENDPOINT_DATA_${id}_SUBSCRIPTIONNAME='Azure-in-a-box'`,
    `export ENDPOINT_DATA_${id}_ENVIRONMENT=${box.cloud.name}`,
    `export ENDPOINT_DATA_${id}_SCOPELEVEL=Subscription`,
    `export ENDPOINT_DATA_${id}_ACTIVEDIRECTORYAUTHORITY=${q(box.authorityHost)}`,
    `export ENDPOINT_DATA_${id}_ACTIVEDIRECTORYSERVICEENDPOINTRESOURCEID=${q(box.audience)}`,
    `export ENDPOINT_DATA_${id}_RESOURCEMANAGERURL=${q(box.armUrl)}`,
    `export SYSTEM_COLLECTIONURI=${q(box.collectionUri)}`,
    `export SYSTEM_TEAMFOUNDATIONCOLLECTIONURI=${q(box.collectionUri)}`,
    `export SYSTEM_TEAMPROJECT=${q(box.projectName)}`,
    `export SYSTEM_TEAMPROJECTID=${box.projectId}`,
    `export SYSTEM_OIDCREQUESTURI=${q(box.oidcRequestUri)}`,
    `export ENDPOINT_URL_SYSTEMVSSCONNECTION=${q(box.collectionUri)}`,
    `export ENDPOINT_AUTH_SYSTEMVSSCONNECTION=${q(JSON.stringify({ scheme: 'OAuth', parameters: { AccessToken: box.systemAccessToken } }))}`,
    `export INPUT_RESOURCEGROUP=${box.resourceGroup} INPUT_WORKSPACE=${box.workspace}`,
    '',
    'Ctrl-C stops it.',
  ];
  console.log(lines.join('\n'));

  if (values.log) {
    let seen = 0;
    setInterval(() => {
      for (; seen < box.requests.length; seen++) {
        const r = box.requests[seen];
        if (r.status || r.time < new Date(Date.now() - 60_000).toISOString())
          console.log(`${r.time} ${r.host.padEnd(6)} ${r.status || 'drop'} ${r.method} ${r.url}`);
        else break; // still in flight
      }
    }, 250).unref();
  }

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping…');
    await box.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  setInterval(() => {
    /* keep alive */
  }, 1 << 30);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
