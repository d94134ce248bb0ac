import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/settings/environment.js';
import { redactUrl, parseAddress } from '../../src/kernel/endpoints.js';

describe('configuration', () => {
  it('defaults to the local dev server and the embedded database', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ temporalAddress: '127.0.0.1:7233', temporalAddressExplicit: false, namespace: 'default', taskQueue: 'auth-maintenance', databaseUrl: undefined, temporalUiPort: 8233 });
  });

  it.each([
    [{ TEMPORAL_ADDRESS: 'localhost' }, /^TEMPORAL_ADDRESS: "localhost" is not an address; expected host:port/],
    [{ TEMPORAL_ADDRESS: 'localhost:99999' }, /^TEMPORAL_ADDRESS: .*port from 1 to 65535/],
    [{ TEMPORAL_ADDRESS: 'http://x:7233' }, /^TEMPORAL_ADDRESS:/],
    [{ TEMPORAL_UI_PORT: '0' }, /^TEMPORAL_UI_PORT: .*1 to 65535/],
    [{ DATABASE_URL: 'mysql://x/y' }, /^DATABASE_URL: protocol "mysql:" is not supported/],
    [{ DATABASE_URL: 'postgres://host' }, /^DATABASE_URL: names no database/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: "loud" is not one of fatal, error, warn, info, debug, trace, silent/],
    [{ TEMPORAL_NAMESPACE: 'a b' }, /^TEMPORAL_NAMESPACE:/],
  ])('rejects %j by its variable name', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('parses IPv6 addresses', () => {
    expect(parseAddress('[::1]:7233')).toMatchObject({ host: '[::1]', port: 7233 });
  });

  it('never prints a password', () => {
    expect(redactUrl('postgres://app:s3cret@db:5432/auth')).toBe('postgres://app:***@db:5432/auth');
    expect(redactUrl('not a url')).not.toContain('not a url');
  });
});
