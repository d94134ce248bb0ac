/**
 * The members of a public JWK that a JWKS may carry, by key type (RFC 7517, 7518, 8037). The JWKS is built from
 * these only, so a stored `public_jwk` that somehow holds more (private members "d", "p", ..., or anything
 * else) never reaches a verifier.
 */
const COMMON = ['kty', 'kid', 'alg', 'use', 'key_ops'] as const;
const BY_TYPE: Record<string, readonly string[]> = {
  RSA: ['n', 'e'],
  EC: ['crv', 'x', 'y'],
  OKP: ['crv', 'x'],
};

/** The public part of `jwk`, or undefined when it is not a public key of a type we publish. */
export function publicJwkOnly(jwk: unknown): Record<string, unknown> | undefined {
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk)) return undefined;
  const source = jwk as Record<string, unknown>;
  const members = typeof source.kty === 'string' ? BY_TYPE[source.kty] : undefined;
  if (!members) return undefined;
  const out: Record<string, unknown> = {};
  for (const name of [...COMMON, ...members]) if (source[name] !== undefined) out[name] = source[name];
  // A key without its own key material is no key: leave it out rather than publish half of it.
  return members.every((m) => typeof out[m] === 'string') ? out : undefined;
}
