import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/settings/environment.js';
import { loadTemporalProfile } from '../../src/settings/temporal-profile.js';
import { describeSecurity } from '../../src/temporal/connect.js';
import { connectionOptions } from '../../src/temporal/connect.js';

const dir = mkdtempSync(join(tmpdir(), 'auth-maintenance-envconfig-'));
const file = (name: string, content: string) => {
  writeFileSync(join(dir, name), content);
  return join(dir, name);
};
const cert = file('client.pem', '-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n');
const key = file('client.key', '-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n');
const ca = file('ca.pem', '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n');
// Never the user's own ~/.config/temporalio/temporal.toml.
const noFile = { TEMPORAL_CONFIG_FILE: file('empty.toml', '') };

const toml = file(
  'temporal.toml',
  `[profile.default]
address = "127.0.0.1:7233"

[profile.cloud]
address = "my-ns.a1b2c.tmprl.cloud:7233"
namespace = "my-ns.a1b2c"
api_key = "cloud-api-key"

[profile.mtls]
address = "temporal.internal:7233"
namespace = "auth"
[profile.mtls.tls]
client_cert_path = "${cert}"
client_key_path = "${key}"
server_ca_cert_path = "${ca}"
server_name = "temporal.internal"
`,
);

describe('Temporal connection from the environment configuration (as the temporal CLI reads it)', () => {
  it('without any setting: the local dev server in plaintext, started by npm start', () => {
    const c = loadConfig(noFile);
    expect(c).toMatchObject({ temporalAddress: '127.0.0.1:7233', temporalAddressExplicit: false, namespace: 'default' });
    expect(connectionOptions(c.temporalAddress, c.temporalSecurity)).toEqual({ address: '127.0.0.1:7233' });
    expect(describeSecurity(c.temporalSecurity)).toBe('plaintext');
  });

  it('TEMPORAL_API_KEY turns TLS on and is sent as a bearer token (Temporal Cloud)', () => {
    const c = loadConfig({ ...noFile, TEMPORAL_ADDRESS: 'my-ns.a1b2c.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'my-ns.a1b2c', TEMPORAL_API_KEY: 'k-123' });
    expect(c).toMatchObject({ temporalAddress: 'my-ns.a1b2c.tmprl.cloud:7233', temporalAddressExplicit: true, namespace: 'my-ns.a1b2c' });
    expect(connectionOptions(c.temporalAddress, c.temporalSecurity)).toEqual({ address: 'my-ns.a1b2c.tmprl.cloud:7233', tls: true, apiKey: 'k-123' });
    expect(describeSecurity(c.temporalSecurity)).toBe('tls + api key');
    expect(describeSecurity(c.temporalSecurity)).not.toContain('k-123');
  });

  it('TEMPORAL_TLS=false keeps an API key on a plaintext connection (a proxy that terminates TLS)', () => {
    const p = loadTemporalProfile({ ...noFile, TEMPORAL_ADDRESS: 'proxy:7233', TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' });
    expect(p).toMatchObject({ apiKey: 'k', tls: false });
  });

  it('client certificate, key and CA from TEMPORAL_TLS_* paths, with the server name', () => {
    const p = loadTemporalProfile({ ...noFile, TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_TLS_CLIENT_CERT_PATH: cert, TEMPORAL_TLS_CLIENT_KEY_PATH: key, TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca, TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' });
    expect(p.tls).toMatchObject({ serverNameOverride: 'temporal.internal' });
    const tls = p.tls as { clientCertPair: { crt: Buffer; key: Buffer }; serverRootCACertificate: Buffer };
    expect(Buffer.from(tls.clientCertPair.crt).toString()).toContain('client');
    expect(Buffer.from(tls.clientCertPair.key).toString()).toContain('PRIVATE KEY');
    expect(Buffer.from(tls.serverRootCACertificate).toString()).toContain('ca');
    expect(describeSecurity(p)).toBe('mTLS');
  });

  it('a profile of the config file: TEMPORAL_CONFIG_FILE and TEMPORAL_PROFILE; variables override the profile', () => {
    const cloud = loadConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud' });
    expect(cloud).toMatchObject({ temporalAddress: 'my-ns.a1b2c.tmprl.cloud:7233', temporalAddressExplicit: true, namespace: 'my-ns.a1b2c' });
    expect(cloud.temporalSecurity).toMatchObject({ apiKey: 'cloud-api-key', tls: true });
    const mtls = loadTemporalProfile({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'mtls', TEMPORAL_NAMESPACE: 'other' });
    expect(mtls).toMatchObject({ address: 'temporal.internal:7233', namespace: 'other', tls: { serverNameOverride: 'temporal.internal' } });
    expect(describeSecurity(mtls)).toBe('mTLS');
    // The default profile names a server too: npm start then uses it instead of starting a dev server.
    expect(loadConfig({ TEMPORAL_CONFIG_FILE: toml })).toMatchObject({ temporalAddress: '127.0.0.1:7233', temporalAddressExplicit: true });
  });

  it('bad settings are rejected by their variable name, without secrets', () => {
    expect(() => loadConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'nope' })).toThrow(/^TEMPORAL_PROFILE: .*Profile 'nope' not found/);
    expect(() => loadConfig({ ...noFile, TEMPORAL_ADDRESS: 'x:1', TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'missing.pem'), TEMPORAL_TLS_CLIENT_KEY_PATH: key })).toThrow(/missing\.pem/);
    expect(() => loadConfig({ ...noFile, TEMPORAL_ADDRESS: 'x:1', TEMPORAL_TLS_CLIENT_CERT_PATH: cert })).toThrow(/^TEMPORAL_TLS_CLIENT_KEY_PATH: is required with TEMPORAL_TLS_CLIENT_CERT_PATH/);
    expect(() => loadConfig({ TEMPORAL_CONFIG_FILE: file('bad.toml', '[profile.x]\naddress = "no-port"\n'), TEMPORAL_PROFILE: 'x' })).toThrow(/^address of Temporal profile "x": "no-port" is not an address/);
    const err = (() => {
      try {
        loadConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud', TEMPORAL_NAMESPACE: 'bad ns' });
      } catch (e) {
        return String(e);
      }
    })();
    expect(err).toMatch(/TEMPORAL_NAMESPACE/);
    expect(err).not.toContain('cloud-api-key');
  });
});
