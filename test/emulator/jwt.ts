// Minimal JWT (JWS compact) signing/verification with node:crypto: RS256 and PS256.
import { createSign, createVerify, constants, KeyObject, createPublicKey, randomUUID } from 'node:crypto';

const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export function signJwt(
  payload: Record<string, unknown>,
  key: KeyObject | string,
  header: Record<string, unknown> = {},
): string {
  const h = { alg: 'RS256', typ: 'JWT', ...header };
  const input = `${b64u(JSON.stringify(h))}.${b64u(JSON.stringify(payload))}`;
  const s = createSign('RSA-SHA256');
  s.update(input);
  const sig =
    h.alg === 'PS256'
      ? s.sign({ key: key as KeyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
      : s.sign(key);
  return `${input}.${b64u(sig)}`;
}

export interface DecodedJwt {
  header: Record<string, any>;
  payload: Record<string, any>;
  signingInput: string;
  signature: Buffer;
}

export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return {
      header: JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')),
      payload: JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')),
      signingInput: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2], 'base64url'),
    };
  } catch {
    return undefined;
  }
}

/** true when the signature verifies with the public key (RS256 or PS256 per the header) */
export function verifySignature(d: DecodedJwt, publicKey: KeyObject | string): boolean {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  const v = createVerify('RSA-SHA256');
  v.update(d.signingInput);
  if (d.header.alg === 'RS256') return v.verify(key, d.signature);
  if (d.header.alg === 'PS256')
    return v.verify(
      { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
      d.signature,
    );
  return false;
}

/** seconds since epoch */
export const nowSec = () => Math.floor(Date.now() / 1000);
export const jti = () => randomUUID();

/** the JWKS form of an RSA public key */
export function jwk(publicKey: KeyObject, kid: string): Record<string, unknown> {
  return { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256', kty: 'RSA' };
}
