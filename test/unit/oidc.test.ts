import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveRefresh } from '../../src/oidc/providers.js';
import { loadOidcConfig } from '../../src/settings/oidc.js';
import { parseRefreshParams } from '../../src/oidc/params.js';
import { validateJwks } from '../../src/oidc/jwks.js';

const rsa = { kty: 'RSA', kid: 'r1', n: 'sXchmGVbqJ2M', e: 'AQAB' };
const ec = { kty: 'EC', kid: 'e1', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' };

describe('JWKS validation', () => {
  it('keeps usable public keys and drops key types it does not know', () => {
    expect(validateJwks({ keys: [rsa, ec, { kty: 'future', x: '1' }] })).toEqual({ keys: [rsa, ec] });
  });

  it.each([
    ['an array', [rsa], /expected a JSON object/],
    ['no keys', { jwks: [] }, /"keys" is not an array/],
    ['an empty set', { keys: [] }, /no usable public key/],
    ['only unknown key types', { keys: [{ kty: 'future' }] }, /no usable public key/],
    ['a key without kty', { keys: [{ n: 'x', e: 'AQAB' }] }, /keys\[0\] is not a JWK/],
    ['a private RSA key', { keys: [{ ...rsa, d: 'secret' }] }, /keys\[0\] carries private or symmetric key material \("d"\)/],
    ['a symmetric key', { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }, /\("k"\)/],
    ['a malformed EC key', { keys: [{ ...ec, crv: 'P-999' }] }, /keys\[0\] is a malformed EC key/],
  ])('refuses %s', (_, doc, message) => {
    expect(() => validateJwks(doc)).toThrow(message);
  });
});

describe('OIDC configuration', () => {
  const providers = JSON.stringify([
    { name: 'google', jwksUri: 'https://www.googleapis.com/oauth2/v3/certs' },
    { name: 'local', jwksUri: 'http://127.0.0.1:8080/jwks.json' },
  ]);

  it('reads OIDC_PROVIDERS or a file, with the fetch settings', async () => {
    const c = loadOidcConfig({ OIDC_PROVIDERS: providers, OIDC_FETCH_TIMEOUT_MS: '2000' });
    expect(c).toEqual({
      providers: [
        { name: 'google', jwksUri: 'https://www.googleapis.com/oauth2/v3/certs' },
        { name: 'local', jwksUri: 'http://127.0.0.1:8080/jwks.json' },
      ],
      timeoutMs: 2000,
      attempts: 4,
      retryInitialMs: 1000,
    });
    const dir = await mkdtemp(join(tmpdir(), 'oidc-'));
    await writeFile(join(dir, 'providers.json'), providers);
    expect(loadOidcConfig({ OIDC_PROVIDERS_FILE: join(dir, 'providers.json') }).providers).toHaveLength(2);
    expect(loadOidcConfig({}).providers).toEqual([]);
  });

  it.each([
    [{ OIDC_PROVIDERS: 'google=https://x' }, /^OIDC_PROVIDERS: is not JSON/],
    [{ OIDC_PROVIDERS: '{"name":"x"}' }, /^OIDC_PROVIDERS: must be a JSON array/],
    [{ OIDC_PROVIDERS: '[{"name":"x","jwksUri":"http://idp.example.com/jwks"}]' }, /^OIDC_PROVIDERS\[0\]\.jwksUri: http:\/\/ is not allowed; expected https:\/\/ \(http:\/\/ only for localhost\)/],
    [{ OIDC_PROVIDERS: '[{"name":"x","jwks_uri":"https://a"}]' }, /^OIDC_PROVIDERS\[0\]\.jwks_uri: unknown field; allowed: name, jwksUri/],
    [{ OIDC_PROVIDERS: '[{"name":"x","jwksUri":"https://a"},{"name":"x","jwksUri":"https://b"}]' }, /^OIDC_PROVIDERS\[1\]\.name: "x" appears twice/],
    [{ OIDC_PROVIDERS_FILE: '/nonexistent/providers.json' }, /^OIDC_PROVIDERS_FILE: cannot read \/nonexistent\/providers.json: ENOENT/],
    [{ OIDC_FETCH_ATTEMPTS: '0' }, /^OIDC_FETCH_ATTEMPTS: "0" is not allowed; expected an integer from 1 to 20/],
  ])('refuses %j by its variable name', (env, message) => {
    expect(() => loadOidcConfig(env)).toThrow(message);
  });

  it('narrows to chosen providers and refuses unknown ones', () => {
    const config = loadOidcConfig({ OIDC_PROVIDERS: providers });
    expect(resolveRefresh({ providers: ['local'], attempts: 2 }, config)).toMatchObject({ providers: [{ name: 'local' }], attempts: 2, timeoutMs: 10_000 });
    expect(() => resolveRefresh({ providers: ['okta'] }, config)).toThrow(/^providers: unknown provider "okta"; configured: google, local$/);
    expect(() => parseRefreshParams({ timeout: 5 })).toThrow(/^params\.timeout: unknown parameter; allowed: providers, timeoutMs, attempts, retryInitialMs$/);
  });
});
