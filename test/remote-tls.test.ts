import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:tls';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { loadConfig } from '../src/settings/environment.js';
import { createWorker } from '../src/worker.js';
import { Catalogue } from '../src/catalogue/index.js';
import { maint } from './support/cli.js';
import { createTestDatabase, seedTokens, testLogger, uniqueName, type TestDatabase } from './support/env.js';

// `temporal server start-dev` takes no TLS. A TLS endpoint that demands a client certificate signed by our CA
// sits in front of it and passes the HTTP/2 bytes through, as a load balancer in front of a cluster does; the
// CLI (grpc-js) and a worker (the native core) connect with TEMPORAL_TLS_* settings.
let dir: string;
let proxy: NetServer;
let db: TestDatabase;
let tlsEnv: Record<string, string>;

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'auth-maintenance-tls-'));
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=test ca']);
  await writeFile(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  await writeFile(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, subj] of [['server', '/CN=localhost'], ['client', '/CN=auth-maintenance']] as const) {
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj]);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
  }
  const [key, cert, ca] = await Promise.all(['server.key', 'server.pem', 'ca.pem'].map((f) => readFile(join(dir, f))));
  const [host, port] = inject('temporalAddress').split(':') as [string, string];
  proxy = createServer({ key, cert, ca, requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'] }, (socket) => {
    const upstream = connect(Number(port), host);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  proxy.on('tlsClientError', () => undefined); // clients without a certificate are refused; that is expected
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const proxyPort = (proxy.address() as { port: number }).port;
  tlsEnv = {
    TEMPORAL_ADDRESS: `localhost:${proxyPort}`,
    TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'client.pem'),
    TEMPORAL_TLS_CLIENT_KEY_PATH: join(dir, 'client.key'),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'ca.pem'),
    TEMPORAL_CONFIG_FILE: join(dir, 'none.toml'),
    TEMPORAL_TASK_QUEUE: uniqueName('tq-tls'),
  };
  await writeFile(tlsEnv.TEMPORAL_CONFIG_FILE!, '');
  db = await createTestDatabase();
});

afterAll(async () => {
  proxy?.close();
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

it('a worker and the CLI connect with a client certificate, key and CA from TEMPORAL_TLS_*, and run a purge', async () => {
  const config = loadConfig(tlsEnv);
  const { worker, connection } = await createWorker({ settings: { config, catalogue: new Catalogue() }, orm: db.orm, logger: testLogger, workflowBundle: { codePath: inject('workflowBundlePath') } });
  const running = worker.run();
  try {
    await seedTokens(db, [{ expiresAt: new Date(Date.now() - 60_000) }, { expiresAt: new Date(Date.now() - 60_000) }, { expiresAt: new Date(Date.now() + 60_000) }]);
    const r = await maint(['run', 'purge-expired-tokens', '--wait', '--json'], tlsEnv);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'completed', deleted: 2 });
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }
});

it('without the client certificate, or without trusting the CA, the connection is refused', async () => {
  const { TEMPORAL_TLS_CLIENT_CERT_PATH: _c, TEMPORAL_TLS_CLIENT_KEY_PATH: _k, ...noCert } = tlsEnv;
  const plain = await maint(['schedules', 'list', '--json'], { ...noCert });
  expect(plain.code).not.toBe(0);
  const { TEMPORAL_TLS_SERVER_CA_CERT_PATH: _ca, ...noCa } = tlsEnv;
  const untrusted = await maint(['schedules', 'list', '--json'], noCa);
  expect(untrusted.code).not.toBe(0);
  const ok = await maint(['schedules', 'list', '--json'], tlsEnv);
  expect(ok.code, ok.stderr).toBe(0);
});
