import { SignJWT, calculateJwkThumbprint, createLocalJWKSet, exportJWK, exportPKCS8, generateKeyPair, importPKCS8, jwtVerify, type JWTPayload } from 'jose';
import { openPrivateKey, sealPrivateKey } from './crypto.js';
import type { Jwks } from './store.js';
import type { KeyAlg } from './types.js';

export interface NewKeypair {
  kid: string;
  publicJwk: Record<string, unknown>;
  /** The sealed PKCS#8 private key; the plaintext never leaves this function. */
  sealed: string;
}

/** Generates a keypair; the kid is the RFC 7638 thumbprint of its public key. */
export async function generateSealedKeypair(alg: KeyAlg, kek: Buffer): Promise<NewKeypair> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  const publicJwk = { ...jwk, kid, alg, use: 'sig' };
  return { kid, publicJwk, sealed: sealPrivateKey(await exportPKCS8(privateKey), kek, kid) };
}

export interface SealedKey {
  kid: string;
  alg: KeyAlg;
  sealed: string;
}

/** Signs a JWT with a stored key, naming it in the header. */
export async function signWithSealedKey(key: SealedKey, kek: Buffer, claims: JWTPayload, ttlSeconds: number): Promise<string> {
  const privateKey = await importPKCS8(openPrivateKey(key.sealed, kek, key.kid), key.alg);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(privateKey);
}

/** Verifies a JWT against a JWKS document the way a verifier would (the kid in the header picks the key). */
export async function verifyWithJwks(token: string, jwks: Jwks, opts: { currentDate?: Date } = {}) {
  return jwtVerify(token, createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]), opts);
}
