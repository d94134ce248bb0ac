import * as z from 'zod/mini';

const b64url = z.string().check(z.regex(/^[A-Za-z0-9_-]+$/));
const RsaKey = z.looseObject({ kty: z.literal('RSA'), n: b64url, e: b64url });
const EcKey = z.looseObject({ kty: z.literal('EC'), crv: z.enum(['P-256', 'P-384', 'P-521', 'secp256k1']), x: b64url, y: b64url });
const OkpKey = z.looseObject({ kty: z.literal('OKP'), crv: z.enum(['Ed25519', 'Ed448', 'X25519', 'X448']), x: b64url });
const PublicKey = z.discriminatedUnion('kty', [RsaKey, EcKey, OkpKey]);

/** Members that only a private or symmetric key has: a JWKS carrying them is leaking secrets, not publishing keys. */
const SECRET_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

export class InvalidJwksError extends Error {
  constructor(reason: string) {
    super(`not a valid JWKS: ${reason}`);
    this.name = 'InvalidJwksError';
  }
}

/**
 * Checks that a fetched document is a JWKS a verifier can use: an object with a `keys` array of public RSA, EC or
 * OKP keys. Keys of other types are dropped (RFC 7517 says to ignore what one does not understand); a document
 * with no usable key, or with any private or symmetric key material, is refused. Returns the usable keys.
 */
export function validateJwks(doc: unknown): { keys: Array<Record<string, unknown>> } {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new InvalidJwksError('expected a JSON object');
  const keys = (doc as Record<string, unknown>).keys;
  if (!Array.isArray(keys)) throw new InvalidJwksError('"keys" is not an array');
  const usable: Array<Record<string, unknown>> = [];
  keys.forEach((k, i) => {
    if (!k || typeof k !== 'object' || Array.isArray(k) || typeof (k as Record<string, unknown>).kty !== 'string') {
      throw new InvalidJwksError(`keys[${i}] is not a JWK (no "kty")`);
    }
    const secret = SECRET_MEMBERS.find((m) => m in (k as object));
    if (secret) throw new InvalidJwksError(`keys[${i}] carries private or symmetric key material ("${secret}")`);
    const parsed = z.safeParse(PublicKey, k);
    if (parsed.success) usable.push(k as Record<string, unknown>);
    else if (['RSA', 'EC', 'OKP'].includes((k as Record<string, string>).kty!)) {
      throw new InvalidJwksError(`keys[${i}] is a malformed ${(k as Record<string, string>).kty} key`);
    }
  });
  if (!usable.length) throw new InvalidJwksError('no usable public key');
  return { keys: usable };
}
