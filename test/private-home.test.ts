import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { freePort, freePorts, portInUse } from '../src/local/ports.js';
import { SHARED_DATA_DIR } from '../src/local/postgres-access.js';
import { maint } from './support/cli.js';
import { leftRunning } from './support/processes.js';

// What a root user gets who clones into their home (0700), as in most containers and CI runners: the embedded
// PostgreSQL runs as the `postgres` user, which cannot enter that directory. The clone sits in a `mktemp -d`
// directory (0700, like root's home): the working tree as git sees it, its node_modules (hard links of ours: what
// `npm ci` would install) and its dist/.
const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const asRoot = process.getuid?.() === 0;
const MARK = 'AUTH_MAINTENANCE_TEST_MARK';

let home: string;
let clone: string;
const dirs: string[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'am-private-home-'));
  dirs.push(home);
  expect((await stat(home)).mode & 0o777).toBe(0o700);
  clone = join(home, 'auth-maintenance');
  await mkdir(clone);
  // Tracked and new files, with their times (dist/ stays current against them).
  await run('sh', ['-c', 'git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C "$1"', 'sh', clone], { cwd: root });
  await run('sh', ['-c', 'cp -al node_modules "$1"/ 2>/dev/null || cp -a node_modules "$1"/; cp -a dist "$1"/', 'sh', clone], { cwd: root });
}, 300_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGINT');
  for (const c of children) if (c.exitCode === null && c.signalCode === null) await once(c, 'exit');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  output: () => string;
}

function launch(args: string[], opts: { cwd: string; env: Record<string, string | undefined> }): Run {
  const child = spawn(process.execPath, args, { cwd: opts.cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, output: () => out };
}

async function until(r: Run, text: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!r.output().includes(text)) {
    if (r.child.exitCode !== null) throw new Error(`exited ${r.child.exitCode} before "${text}":\n${r.output()}`);
    if (Date.now() > deadline) throw new Error(`no "${text}" within ${ms} ms:\n${r.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function logLine(out: string, msg: string): Record<string, unknown> | undefined {
  const line = out.split('\n').find((l) => l.includes(`"msg":"${msg}"`));
  return line ? JSON.parse(line) : undefined;
}

it(`npm start from a clone in a 0700 directory${asRoot ? ' as root' : ''}: the embedded PostgreSQL starts, a purge runs, Ctrl-C stops everything`, async () => {
  const mark = randomBytes(8).toString('hex');
  const [temporalPort, uiPort, pgPort] = (await freePorts(3)).map(String);
  const start = launch(['bin/start.mjs'], {
    cwd: clone,
    // The quick start: no DATABASE_URL, the data dir in the clone (.data).
    env: { LOG_FORMAT: 'json', TEMPORAL_CLI_PATH: inject('temporalCliPath'), TEMPORAL_PORT: temporalPort, TEMPORAL_UI_PORT: uiPort, MAINT_PG_PORT: pgPort, [MARK]: mark },
  });
  await until(start, 'Temporal Web UI', 180_000);
  const relocated = logLine(start.output(), 'the embedded PostgreSQL keeps its data outside the data dir');
  if (relocated) dirs.push(join(String(relocated.dataDir), '..'));
  if (asRoot) {
    // The postgres user cannot enter the clone: its data lives in a directory of its own, the same at every start.
    expect(relocated?.dataDir).toMatch(new RegExp(`^${SHARED_DATA_DIR}/postgres-[0-9a-f]{16}/data$`));
    expect((await stat(join(clone, '.data'))).mode & 0o777).toBe(0o700); // not loosened for nothing
  }
  expect(start.output()).not.toMatch(/EACCES|"level":50/);

  const r = await maint(['run', 'purge-expired-tokens', '--dry-run', '--wait', '--json'], { MAINT_DATA_DIR: join(clone, '.data') });
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ status: 'completed', dryRun: true });

  start.child.kill('SIGINT');
  const [code] = await once(start.child, 'exit');
  expect(code, start.output()).toBe(0);
  expect(await leftRunning(MARK, mark)).toEqual([]);
  for (const p of [temporalPort, uiPort, pgPort]) expect(await portInUse(Number(p)), `port ${p}`).toBe(false);

  // A second start finds the same data.
  const again = launch(['bin/start.mjs'], { cwd: clone, env: { LOG_FORMAT: 'json', TEMPORAL_CLI_PATH: inject('temporalCliPath'), TEMPORAL_PORT: temporalPort, TEMPORAL_UI_PORT: uiPort, MAINT_PG_PORT: pgPort, [MARK]: mark } });
  await until(again, 'Temporal Web UI', 120_000);
  expect(again.output()).not.toContain('initialising embedded PostgreSQL');
  expect(again.output()).toMatch(/"msg":"schema up to date"/);
  again.child.kill('SIGINT');
  expect((await once(again.child, 'exit'))[0]).toBe(0);
  expect(await leftRunning(MARK, mark)).toEqual([]);
}, 420_000);

it(`the test setup from the same clone${asRoot ? ' as root' : ''}, its scratch directory inside the 0700 directory too: a test file passes, nothing is left running`, async () => {
  const mark = randomBytes(8).toString('hex');
  const tmp = join(home, 'tmp');
  await mkdir(tmp, { recursive: true, mode: 0o700 });
  const vitest = launch(['node_modules/vitest/vitest.mjs', 'run', 'test/schema.test.ts'], {
    cwd: clone,
    // What `npm test` gets on a fresh machine: no DATABASE_URL (so the embedded PostgreSQL), TMPDIR where mktemp puts it.
    env: { TEMPORAL_CLI_PATH: inject('temporalCliPath'), TMPDIR: tmp, [MARK]: mark, NO_COLOR: '1' },
  });
  const [code] = await once(vitest.child, 'exit');
  expect(vitest.output()).toMatch(/Tests\s+3 passed \(3\)/);
  expect(code, vitest.output()).toBe(0);
  expect(vitest.output()).not.toMatch(/EACCES/);
  expect(await leftRunning(MARK, mark)).toEqual([]);
}, 420_000);

it('a start that fails after the dev server is up stops it and the database: nothing is left running, and the error is one line', async () => {
  const mark = randomBytes(8).toString('hex');
  const dataDir = await mkdtemp(join(tmpdir(), 'am-failed-start-'));
  await chmod(dataDir, 0o755);
  dirs.push(dataDir);
  // A data directory PostgreSQL refuses to start from: initdb is skipped (PG_VERSION exists), postgres exits.
  await mkdir(join(dataDir, 'postgres', 'data'), { recursive: true });
  await writeFile(join(dataDir, 'postgres', 'data', 'PG_VERSION'), '9\n');
  const [temporalPort, uiPort, pgPort] = (await freePorts(3)).map(String);
  const start = launch(['bin/start.mjs'], {
    cwd: root,
    env: { LOG_FORMAT: 'json', MAINT_DATA_DIR: dataDir, TEMPORAL_CLI_PATH: inject('temporalCliPath'), TEMPORAL_PORT: temporalPort, TEMPORAL_UI_PORT: uiPort, MAINT_PG_PORT: pgPort, [MARK]: mark },
  });
  const [code] = await once(start.child, 'exit');
  expect(code).toBe(1);
  expect(start.output()).toMatch(/"msg":"Temporal dev server answers"/);
  const failed = logLine(start.output(), 'start failed') as { err: { message: string } } | undefined;
  expect(failed?.err.message, start.output()).toMatch(/^the embedded PostgreSQL of \S+ exited \(code \d+\): postgres: /);
  expect(start.output()).toMatch(/"msg":"stopped"/);
  expect(await leftRunning(MARK, mark)).toEqual([]);
  for (const p of [temporalPort, uiPort, pgPort]) expect(await portInUse(Number(p)), `port ${p}`).toBe(false);
}, 180_000);

it.skipIf(!asRoot)('as root, data the postgres user cannot reach and that cannot move: one sentence naming the directory and the way out, nothing left running', async () => {
  const mark = randomBytes(8).toString('hex');
  // A data dir in the private directory that already holds a cluster (say, made before the clone moved there).
  const dataDir = join(home, 'old-data');
  await mkdir(join(dataDir, 'postgres', 'data'), { recursive: true });
  await writeFile(join(dataDir, 'postgres', 'data', 'PG_VERSION'), '18\n');
  const [temporalPort, uiPort, pgPort] = (await freePorts(3)).map(String);
  const start = launch(['bin/start.mjs'], {
    cwd: root,
    env: { LOG_FORMAT: 'json', MAINT_DATA_DIR: dataDir, TEMPORAL_CLI_PATH: inject('temporalCliPath'), TEMPORAL_PORT: temporalPort, TEMPORAL_UI_PORT: uiPort, MAINT_PG_PORT: pgPort, [MARK]: mark },
  });
  const [code] = await once(start.child, 'exit');
  expect(code).toBe(1);
  const errors = start.output().split('\n').filter((l) => l.includes('"level":50')).map((l) => JSON.parse(l));
  expect(errors.map((e) => e.msg)).toEqual([
    `MAINT_DATA_DIR: the embedded PostgreSQL runs as the postgres user, which cannot reach its data in ${join(dataDir, 'postgres', 'data')} (a directory above it is private); move that folder where it can, or set MAINT_DATA_DIR to a folder that user can reach (e.g. /srv/auth-maintenance) or DATABASE_URL to a PostgreSQL of your own`,
  ]);
  expect(errors[0].err).toBeUndefined(); // no stack trace
  expect(await leftRunning(MARK, mark)).toEqual([]);
}, 180_000);

it('a test setup that fails after the dev server is up stops it (and says why)', async () => {
  const mark = randomBytes(8).toString('hex');
  const { default: setup } = await import('./support/global-setup.js');
  const saved = { DATABASE_URL: process.env.DATABASE_URL, TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH, [MARK]: process.env[MARK] };
  // A database nobody answers for: the setup fails after the dev server started.
  Object.assign(process.env, { DATABASE_URL: `postgres://nobody@127.0.0.1:${await freePort()}/postgres`, TEMPORAL_CLI_PATH: inject('temporalCliPath'), [MARK]: mark });
  try {
    await expect(setup({ provide: () => undefined } as never)).rejects.toThrow(/ECONNREFUSED/);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  expect(await leftRunning(MARK, mark)).toEqual([]);
}, 180_000);
