import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openPrivateKey, sealPrivateKey } from '../../src/keys/crypto.js';
import { decideRotation, type KeySetState } from '../../src/keys/decide.js';
import { generateSealedKeypair, signWithSealedKey, verifyWithJwks } from '../../src/keys/keypair.js';
import { DEFAULT_POLICY, parseCleanupParams, parseKek, parseRotationParams, resolvePolicy } from '../../src/keys/policy.js';
import { loadKeyPolicy } from '../../src/settings/keys.js';
import { headerKid } from '../../src/keys/references.js';
import { KEY_ALGS } from '../../src/keys/types.js';

/**
 * The sealed text with one bit of its decoded byte at `index` flipped (negative: from the end). Editing the
 * base64url text itself can leave the bytes unchanged (its last character carries padding bits).
 */
function flipBit(sealed: string, index: number): string {
  const [version, body] = sealed.split('.');
  const raw = Buffer.from(body!, 'base64url');
  const at = index < 0 ? raw.length + index : index;
  raw[at] = raw[at]! ^ 0x01;
  const tampered = `${version}.${raw.toString('base64url')}`;
  if (tampered === sealed) throw new Error('the tamper changed nothing');
  return tampered;
}

describe('private keys at rest', () => {
  const kek = randomBytes(32);

  it('round-trips and never stores the plaintext', () => {
    const sealed = sealPrivateKey('-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----', kek, 'kid-1');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('PRIVATE');
    expect(openPrivateKey(sealed, kek, 'kid-1')).toContain('abc');
    // A fresh IV each time: sealing twice gives different ciphertexts.
    expect(sealPrivateKey('x', kek, 'k')).not.toBe(sealPrivateKey('x', kek, 'k'));
  });

  it.each([
    ['another KEK', (s: string) => openPrivateKey(s, randomBytes(32), 'kid-1')],
    ['another kid (ciphertext moved to another row)', (s: string) => openPrivateKey(s, kek, 'kid-2')],
    ['a flipped bit in the IV', (s: string) => openPrivateKey(flipBit(s, 0), kek, 'kid-1')],
    ['a flipped bit in the tag', (s: string) => openPrivateKey(flipBit(s, 12), kek, 'kid-1')],
    ['a flipped bit in the ciphertext', (s: string) => openPrivateKey(flipBit(s, -1), kek, 'kid-1')],
  ])('refuses %s with an error that carries no key material', (_, open) => {
    const sealed = sealPrivateKey('secret-pem-body', kek, 'kid-1');
    let message = '';
    try {
      open(sealed);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^cannot decrypt the private key of kid-\d: authentication failed \(wrong MAINT_KEK, or the row was altered\)$/);
    expect(message).not.toContain('secret-pem-body');
  });

  it.each(KEY_ALGS)('generates %s keypairs whose kid is the thumbprint and whose tokens verify against the JWKS', async (alg) => {
    const pair = await generateSealedKeypair(alg, kek);
    expect(pair.publicJwk).toMatchObject({ kid: pair.kid, alg, use: 'sig' });
    expect(Object.keys(pair.publicJwk)).not.toContain('d');
    const token = await signWithSealedKey({ kid: pair.kid, alg, sealed: pair.sealed }, kek, { sub: 'u' }, 60);
    expect(headerKid(token.split('.')[0]!)).toBe(pair.kid);
    const { payload } = await verifyWithJwks(token, { keys: [pair.publicJwk] });
    expect(payload.sub).toBe('u');
    await expect(verifyWithJwks(token, { keys: [] })).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
  });
});

describe('MAINT_KEK', () => {
  it('accepts base64 and base64url of 32 bytes', () => {
    const raw = randomBytes(32);
    expect(parseKek(raw.toString('base64')).equals(raw)).toBe(true);
    expect(parseKek(raw.toString('base64url')).equals(raw)).toBe(true);
  });

  it.each([
    ['short', randomBytes(16).toString('base64'), /^MAINT_KEK: decodes to 16 bytes; expected exactly 32/],
    ['not base64', 'this is not a key!', /^MAINT_KEK: is not base64/],
  ])('refuses a %s key without echoing it', (_, value, message) => {
    expect(() => parseKek(value)).toThrow(message);
    try {
      parseKek(value);
    } catch (err) {
      expect((err as Error).message).not.toContain(value);
    }
  });
});

describe('rotation policy', () => {
  it('has the seeds defaults and reads the environment', () => {
    expect(loadKeyPolicy({})).toEqual(DEFAULT_POLICY);
    expect(DEFAULT_POLICY).toMatchObject({ alg: 'RS256', rotateAfterSeconds: 30 * 86_400, retentionSeconds: 180 * 86_400, maxActiveKeys: 3 });
    expect(loadKeyPolicy({ KEY_ROTATE_AFTER_DAYS: '7', KEY_RETENTION_DAYS: '90', MAX_ACTIVE_KEYS: '4', JWKS_CACHE_SECONDS: '600', MAX_TOKEN_LIFETIME_SECONDS: '3600', KEY_ALG: 'EdDSA' })).toEqual({
      alg: 'EdDSA',
      jwksCacheSeconds: 600,
      maxTokenLifetimeSeconds: 3600,
      rotateAfterSeconds: 7 * 86_400,
      retentionSeconds: 90 * 86_400,
      maxActiveKeys: 4,
      stepTimeoutSeconds: 60,
    });
  });

  it.each([
    [{ KEY_ALG: 'HS256' }, /^KEY_ALG: "HS256" is not allowed; expected one of RS256, ES256, EdDSA$/],
    [{ MAX_ACTIVE_KEYS: '1' }, /^MAX_ACTIVE_KEYS: "1" is not allowed; expected an integer from 2 to 20$/],
    [{ JWKS_CACHE_SECONDS: 'an hour' }, /^JWKS_CACHE_SECONDS: "an hour" is not allowed; expected an integer from 0 to 604800$/],
    [{ KEY_ROTATE_AFTER_DAYS: '0' }, /^KEY_ROTATE_AFTER_DAYS: .*from 1 to 3650/],
  ])('refuses %j by its variable name', (env, message) => {
    expect(() => loadKeyPolicy(env)).toThrow(message);
  });

  it.each([
    [{ alg: 'none' }, /^alg: "none" is not allowed; expected one of RS256, ES256, EdDSA$/],
    [{ force: 'yes' }, /^force: "yes" is not allowed; expected true or false$/],
    [{ jwksCacheSeconds: -1 }, /^jwksCacheSeconds: -1 is not allowed; expected an integer from 0 to 604800$/],
    [{ stepTimeoutSecs: 3 }, /^params\.stepTimeoutSecs: unknown parameter; allowed: alg, force, standby, jwksCacheSeconds/],
    ['force', /^params: must be an object$/],
  ])('refuses rotation parameters %j by name', (params, message) => {
    expect(() => parseRotationParams(params)).toThrow(message);
  });

  it('lays parameters over the defaults', () => {
    expect(resolvePolicy({ force: true, jwksCacheSeconds: 2 }, DEFAULT_POLICY)).toEqual({ ...DEFAULT_POLICY, jwksCacheSeconds: 2, force: true });
    expect(parseCleanupParams({ dryRun: true })).toEqual({ dryRun: true });
    expect(() => parseCleanupParams({ retention: 1 })).toThrow(/^params\.retention: unknown parameter; allowed: dryRun, retentionSeconds$/);
  });
});

describe('deciding a rotation', () => {
  const policy = { rotateAfterSeconds: 30 * 86_400, maxActiveKeys: 3 };
  const now = Date.parse('2026-11-22T00:00:00Z');
  const active = (daysOld: number) => ({ kid: 'k1', activatedAt: new Date(now - daysOld * 86_400_000).toISOString() });
  const state = (over: Partial<KeySetState>): KeySetState => ({ active: active(1), inJwks: 1, next: null, ...over });

  it.each<[string, KeySetState, boolean, string, RegExp]>([
    ['no key yet', state({ active: null, inJwks: 0 }), false, 'due', /no signing key yet/],
    ['young key', state({}), false, 'not-due', /due for rotation at 2026-12-21T00:00:00.000Z/],
    ['young key, forced', state({}), true, 'due', /forced/],
    ['30 days exactly', state({ active: active(30) }), false, 'due', /older than 2592000 s/],
    ['a full JWKS', state({ active: active(40), inJwks: 3 }), true, 'refused', /would put 4 keys in the JWKS; at most 3 allowed \(MAX_ACTIVE_KEYS\)/],
    ['a full JWKS whose next key is already published', state({ active: active(40), inJwks: 3, next: { kid: 'k9', state: 'published' } }), false, 'due', /older than/],
  ])('%s', (_, s, force, status, reason) => {
    const plan = decideRotation(s, policy, force, now);
    expect(plan.status).toBe(status);
    expect(plan.rotate).toBe(status === 'due');
    expect(plan.reason).toMatch(reason);
  });
});

describe('token references', () => {
  it('reads the kid of a JWT header and ignores what is not one', () => {
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'abc' })).toString('base64url');
    expect(headerKid(header)).toBe('abc');
    expect(headerKid(Buffer.from('{"alg":"RS256"}').toString('base64url'))).toBeUndefined();
    expect(headerKid('eyJub3QganNvbg')).toBeUndefined();
  });
});
