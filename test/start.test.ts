import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, chmod, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import { freePorts, portInUse } from '../src/local/ports.js';
import { maint, seedLocalEnvironment } from './support/cli.js';
import { Catalogue } from '../src/catalogue/index.js';

const SCHEDULES = new Catalogue().schedules();

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  // A failed assertion must not leave servers behind.
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGINT');
  for (const c of children) if (c.exitCode === null && c.signalCode === null) await once(c, 'exit');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  output: () => string;
}

/** `npm start`'s entry point with its own ports and data dir, so it cannot collide with a running instance. */
async function start(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ['bin/start.mjs'], { env: { ...process.env, LOG_FORMAT: 'json', ...env, DATABASE_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 120_000;
  while (!out.includes('Temporal Web UI')) {
    if (child.exitCode !== null) throw new Error(`start exited ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) throw new Error(`start did not come up:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, output: () => out };
}

async function stop(s: Started): Promise<number | null> {
  s.child.kill('SIGINT');
  const [code] = await once(s.child, 'exit');
  return code as number | null;
}

it('npm start brings up the dev server with its UI, embedded PostgreSQL and the worker; Ctrl-C stops all; a second start reuses the data', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'auth-maintenance-start-'));
  await chmod(dataDir, 0o755);
  dirs.push(dataDir);
  const [temporalPort, uiPort, pgPort, jwksPort] = (await freePorts(4)).map(String);
  const ports = { TEMPORAL_PORT: temporalPort!, TEMPORAL_UI_PORT: uiPort!, MAINT_PG_PORT: pgPort!, JWKS_PORT: jwksPort! };
  const env = { ...ports, MAINT_DATA_DIR: dataDir, TEMPORAL_CLI_PATH: inject('temporalCliPath'), TEMPORAL_ADDRESS: '', JWKS_CACHE_SECONDS: '1' };

  const first = await start(env);
  expect(first.output()).toContain(`Temporal Web UI   http://127.0.0.1:${ports.TEMPORAL_UI_PORT}`);
  expect(first.output()).toMatch(/"msg":"migrations applied"/);
  expect(first.output()).not.toMatch(/postgres:\/\/postgres:[^*@]+@/); // no password in the output
  const ui = await fetch(`http://127.0.0.1:${ports.TEMPORAL_UI_PORT}/`);
  expect(ui.status).toBe(200);

  // Seed through the recorded local environment, then purge through the CLI as a user would.
  await seedLocalEnvironment(dataDir, { expired: 40, total: 100, jtiPrefix: 'j' });
  const r = await maint(['run', 'purge-expired-tokens', '--wait', '--json'], { MAINT_DATA_DIR: dataDir });
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ status: 'completed', deleted: 40 });

  // The start synced every declared schedule.
  const listed = JSON.parse((await maint(['schedules', 'list', '--json'], { MAINT_DATA_DIR: dataDir })).stdout);
  expect(listed.map((l: { id: string }) => l.id).sort()).toEqual(SCHEDULES.filter((d) => d.enabledByDefault !== false).map((d) => d.id).sort());

  // A signing key sealed under the KEK generated into the data dir (0600), served on JWKS_PORT.
  const rotated = await maint(['keys', 'rotate', '--wait', '--json'], { MAINT_DATA_DIR: dataDir });
  expect(rotated.code, rotated.stderr).toBe(0);
  const { kid } = JSON.parse(rotated.stdout);
  const jwks = await (await fetch(`http://127.0.0.1:${ports.JWKS_PORT}/.well-known/jwks.json`)).json();
  expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual([kid]);
  expect((await stat(join(dataDir, 'kek'))).mode & 0o777).toBe(0o600);
  // Every workflow input sits in the SQLite file, the database password beside the data: nobody else reads them.
  for (const file of ['temporal.sqlite', 'local-env.json', 'postgres/credentials.json']) {
    expect((await stat(join(dataDir, file))).mode & 0o777, file).toBe(0o600);
  }
  // 0700; as root, the embedded PostgreSQL's user may only pass through (0710, group postgres) to its own data.
  const dirMode = (await stat(dataDir)).mode & 0o777;
  expect(dirMode).toBe(process.getuid?.() === 0 ? 0o710 : 0o700);
  const kek = await readFile(join(dataDir, 'kek'), 'utf8');

  expect(await stop(first)).toBe(0);
  for (const p of Object.values(ports)) expect(await portInUse(Number(p)), `port ${p} released`).toBe(false);

  const second = await start(env);
  expect(second.output()).not.toContain('initialising embedded PostgreSQL');
  expect(second.output()).toMatch(/"msg":"schema up to date"/);
  const runs = await maint(['runs', '--json'], { MAINT_DATA_DIR: dataDir });
  expect(JSON.parse(runs.stdout).map((x: { job: string }) => x.job)).toEqual(['key-rotation', 'purge-expired-tokens']);
  // The same KEK after a restart (a new one would leave the stored private keys unreadable); rotation still works.
  expect(await readFile(join(dataDir, 'kek'), 'utf8')).toBe(kek);
  const again = await maint(['keys', 'rotate', '--force', '--wait', '--json'], { MAINT_DATA_DIR: dataDir });
  expect(JSON.parse(again.stdout)).toMatchObject({ status: 'rotated', previousKid: kid });
  // The dev server's SQLite file kept the workflow too.
  const show = await new Promise<string>((resolve) => {
    const c = spawn(inject('temporalCliPath'), ['workflow', 'list', '--address', `127.0.0.1:${ports.TEMPORAL_PORT}`, '--output', 'json']);
    let o = '';
    c.stdout.on('data', (d) => (o += d));
    c.on('close', () => resolve(o));
  });
  expect(show).toContain('maint-purge-expired-tokens-');
  expect(await stop(second)).toBe(0);
});

it('without a Temporal CLI or Go, npm start falls back to the SDK download and says so (this machine has no internet: it fails clearly)', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'auth-maintenance-nocli-'));
  const cache = await mkdtemp(join(tmpdir(), 'auth-maintenance-nocache-'));
  dirs.push(dataDir, cache);
  const child = spawn(process.execPath, ['bin/start.mjs'], {
    // No temporal and no go on PATH, an empty cache, free ports.
    env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME, XDG_CACHE_HOME: cache, MAINT_DATA_DIR: dataDir, LOG_FORMAT: 'json', ...(await freePorts(3).then(([t, u, p]) => ({ TEMPORAL_PORT: String(t), TEMPORAL_UI_PORT: String(u), MAINT_PG_PORT: String(p) }))) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const [code] = await once(child, 'exit');
  expect(out).toContain("falling back to the SDK's download of the Temporal CLI v1.5.1 (needs internet)");
  expect(code).toBe(1);
  expect(out).toMatch(/"msg":"start failed"/);
}, 180_000);
