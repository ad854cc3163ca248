// Certificates of Azure-in-a-box.
//
// Design: Node reads NODE_EXTRA_CA_CERTS once, when the process starts (measured on Node 20: a file created
// later is ignored). So one long-lived test CA lives at a fixed path (default test/.output/ca/ca.pem, key
// beside it) and is reused across starts; every start issues a fresh server certificate signed by that CA
// (SAN 127.0.0.1, localhost, *.localhost) into the state folder. The test runner creates the CA before it
// spawns `node --test` (`tsx test/emulator/ca.ts` prints the path) and exports NODE_EXTRA_CA_CERTS=<that path>,
// so in-process SDK clients and spawned tasks trust every box started during the run.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash, generateKeyPair, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import { generate } from 'selfsigned';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '..', '..');
export const DEFAULT_CA_DIR = path.join(REPO_ROOT, 'test', '.output', 'ca');

export interface CaFiles {
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
}

/** RSA-2048 key pair as PEM (pkcs8/spki), generated off the main thread */
export async function rsaKeyPair(): Promise<{ privateKey: string; publicKey: string }> {
  return promisify(generateKeyPair)('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  }) as Promise<{ privateKey: string; publicKey: string }>;
}

function years(n: number): Date {
  const d = new Date();
  d.setFullYear(d.getFullYear() + n);
  return d;
}
function daysAgo(n: number): Date {
  return new Date(Date.now() - n * 86400_000);
}

/** Create the test CA in dir unless a valid one is already there; returns its files. */
export async function ensureCa(dir = DEFAULT_CA_DIR): Promise<CaFiles> {
  const certPath = path.join(dir, 'ca.pem');
  const keyPath = path.join(dir, 'ca-key.pem');
  if (fs.existsSync(certPath) && fs.existsSync(keyPath)) {
    const cert = fs.readFileSync(certPath, 'utf8');
    const key = fs.readFileSync(keyPath, 'utf8');
    try {
      const x = new X509Certificate(cert);
      if (new Date(x.validTo).getTime() > Date.now() + 7 * 86400_000) return { certPath, keyPath, cert, key };
    } catch {
      /* regenerate */
    }
  }
  fs.mkdirSync(dir, { recursive: true });
  const pems = await generate(
    [
      { name: 'commonName', value: 'Azure-in-a-box test CA' },
      { name: 'organizationName', value: 'Azure-in-a-box' },
    ],
    {
      keySize: 2048,
      algorithm: 'sha256',
      notBeforeDate: daysAgo(1),
      notAfterDate: years(5),
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      ],
    },
  );
  // write key first, cert last (the cert's presence means "complete")
  fs.writeFileSync(keyPath, pems.private, { mode: 0o600 });
  fs.writeFileSync(certPath, pems.cert);
  return { certPath, keyPath, cert: pems.cert, key: pems.private };
}

/** A TLS server certificate for 127.0.0.1, localhost and *.localhost, signed by the CA. */
export async function issueServerCert(ca: CaFiles): Promise<{ cert: string; key: string }> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyPair: await rsaKeyPair(),
    algorithm: 'sha256',
    notBeforeDate: daysAgo(1),
    notAfterDate: years(1),
    ca: { key: ca.key, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
          { type: 2, value: '*.localhost' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** A self-signed client certificate for a service principal (what an AzureRM certificate connection holds). */
export async function makeClientCertificate(
  cn: string,
): Promise<{ cert: string; key: string; thumbprint: string; thumbprintSha256: string }> {
  const pems = await generate([{ name: 'commonName', value: cn }], {
    keyPair: await rsaKeyPair(),
    algorithm: 'sha256',
    notBeforeDate: daysAgo(1),
    notAfterDate: years(2),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', clientAuth: true },
    ],
  });
  const der = new X509Certificate(pems.cert).raw;
  return {
    cert: pems.cert,
    key: pems.private,
    thumbprint: createHash('sha1').update(der).digest('hex').toUpperCase(),
    thumbprintSha256: createHash('sha256').update(der).digest('hex').toUpperCase(),
  };
}

// `tsx test/emulator/ca.ts [dir]` → ensures the CA and prints the PEM path (for NODE_EXTRA_CA_CERTS)
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureCa(process.argv[2] ? path.resolve(process.argv[2]) : DEFAULT_CA_DIR).then(
    (c) => console.log(c.certPath),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
