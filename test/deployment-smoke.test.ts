import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate, openOrm } from '../src/orm/index.js';
import { maint } from './support/cli.js';
import { createScratchCluster, systemPgBin, type ScratchCluster } from './support/scratch-cluster.js';

// The compose deployment without Docker: docker/temporal-schema.sh run by a POSIX shell (dash, as the admin-tools
// image's /bin/sh would) with Temporal's own temporal-sql-tool and schema files at the server's version, against real
// PostgreSQL clusters; and the worker's database settings as docker-compose.yml passes them.
//
// temporal-sql-tool is not part of this repository. Build it once (about 2 minutes) with
//   GOBIN=~/.cache/auth-maintenance/temporal-sql-tool-v1.29.1 go install go.temporal.io/server/cmd/tools/sql@v1.29.1
//   mv ~/.cache/auth-maintenance/temporal-sql-tool-v1.29.1/sql ~/.cache/auth-maintenance/temporal-sql-tool-v1.29.1/temporal-sql-tool
// which also leaves the schema files in the Go module cache; TEMPORAL_SQL_TOOL and TEMPORAL_SCHEMA_DIR point elsewhere.
const TEMPORAL_VERSION = '1.29.1';
const root = join(import.meta.dirname, '..');
const script = join(root, 'docker', 'temporal-schema.sh');
const sqlTool = process.env.TEMPORAL_SQL_TOOL ?? join(homedir(), '.cache', 'auth-maintenance', `temporal-sql-tool-v${TEMPORAL_VERSION}`, 'temporal-sql-tool');
const schemaDir = process.env.TEMPORAL_SCHEMA_DIR ?? goModuleDir(`go.temporal.io/server@v${TEMPORAL_VERSION}`, 'schema/postgresql/v12');
const shell = ['/usr/bin/dash', '/bin/dash'].find(existsSync);
const pgBin = systemPgBin();

function goModuleDir(module: string, sub: string): string | undefined {
  try {
    const cache = execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
    return cache ? join(cache, module, sub) : undefined;
  } catch {
    return undefined;
  }
}

const missing = [
  !existsSync(sqlTool) && `temporal-sql-tool v${TEMPORAL_VERSION} (${sqlTool})`,
  !(schemaDir && existsSync(join(schemaDir, 'version.go'))) && `Temporal's schema files (${schemaDir ?? 'no Go module cache'})`,
  !shell && 'dash',
  !pgBin && 'PostgreSQL server binaries (pg_ctl, initdb)',
].filter(Boolean);
const skipReason = missing.length ? ` [skipped: missing ${missing.join(', ')}]` : '';
if (missing.length) console.warn(`deployment smoke test skipped: missing ${missing.join(', ')}`);

// Every character a URL or a shell would trip on, none that Temporal 1.29.1 itself cannot take (see the script).
const PASSWORD = `p/@:#%+?&=$'x`;
const USER = 'auth';

const scratch: string[] = [];
const clusters: ScratchCluster[] = [];
afterAll(async () => {
  for (const c of clusters) await c.destroy();
  for (const d of scratch) await rm(d, { recursive: true, force: true });
});

async function cluster(): Promise<ScratchCluster> {
  const c = await createScratchCluster({ user: USER, password: PASSWORD });
  clusters.push(c);
  return c;
}

async function query<T extends pg.QueryResultRow>(c: ScratchCluster, database: string, sql: string, password = PASSWORD): Promise<T[]> {
  const client = new pg.Client({ host: '127.0.0.1', port: c.port, user: USER, password, database });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** The versions the server's schema files go up to (schema/postgresql/v12/version.go). */
function expectedVersions(): { temporal: string; visibility: string } {
  const go = readFileSync(join(schemaDir!, 'version.go'), 'utf8');
  return { temporal: /const Version = "([\d.]+)"/.exec(go)![1]!, visibility: /const VisibilityVersion = "([\d.]+)"/.exec(go)![1]! };
}

interface ScriptRun {
  code: number | null;
  output: () => string;
  done: Promise<number | null>;
  /** Every temporal-sql-tool command line the script ran. */
  argv: () => Promise<string>;
}

/** The script as the compose file runs it: the temporal service's variables, `/bin/sh` (dash), admin-tools' PATH. */
async function runScript(c: ScratchCluster, env: Record<string, string> = {}): Promise<ScriptRun> {
  const bin = await mkdtemp(join(tmpdir(), 'am-schema-bin-'));
  scratch.push(bin);
  const argvLog = join(bin, 'argv.log');
  // Records each command line, then runs the real tool.
  await writeFile(join(bin, 'temporal-sql-tool'), `#!/bin/sh\nprintf '%s\\n' "$*" >> "${argvLog}"\nexec "${sqlTool}" "$@"\n`, { mode: 0o755 });
  await writeFile(argvLog, '');
  const child = spawn(shell!, [script], {
    env: {
      PATH: `${bin}:/usr/bin:/bin`,
      DB: 'postgres12',
      DB_PORT: String(c.port),
      POSTGRES_SEEDS: '127.0.0.1',
      POSTGRES_USER: USER,
      POSTGRES_PWD: PASSWORD,
      DBNAME: 'temporal',
      VISIBILITY_DBNAME: 'temporal_visibility',
      TEMPORAL_SCHEMA_DIR: schemaDir!,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const run: ScriptRun = {
    code: null,
    output: () => out,
    done: new Promise((resolve) => child.on('close', (code) => resolve((run.code = code)))),
    argv: () => readFile(argvLog, 'utf8'),
  };
  return run;
}

async function schemaVersions(c: ScratchCluster): Promise<{ temporal: string; visibility: string }> {
  const [t] = await query<{ curr_version: string }>(c, 'temporal', 'SELECT curr_version FROM schema_version');
  const [v] = await query<{ curr_version: string }>(c, 'temporal_visibility', 'SELECT curr_version FROM schema_version');
  return { temporal: t!.curr_version, visibility: v!.curr_version };
}

describe.skipIf(missing.length > 0)('docker/temporal-schema.sh against a real PostgreSQL', () => {
  it(`first up: waits while PostgreSQL serves its Unix socket only (the image's init server), then creates both databases and their schemas; the password never appears on a command line${skipReason}`, async () => {
    const c = await cluster();
    await c.start({ tcp: false });
    const run = await runScript(c);
    // It waits (and says so) instead of failing with "connection refused".
    const deadline = Date.now() + 30_000;
    while (!run.output().includes('waiting for PostgreSQL at 127.0.0.1')) {
      if (run.code !== null) throw new Error(`the script ended before the server listened on TCP (exit ${run.code}):\n${run.output()}`);
      if (Date.now() > deadline) throw new Error(`the script did not say it waits:\n${run.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 3_000));
    expect(run.code, 'still waiting while there is no TCP listener').toBeNull();
    // The init server stops; the real one listens on TCP.
    await c.stop();
    await c.start({ tcp: true });
    expect(await run.done, run.output()).toBe(0);
    expect(run.output()).toContain("Temporal's databases temporal and temporal_visibility are current");
    expect(await schemaVersions(c)).toEqual(expectedVersions());
    expect((await query(c, 'temporal', `SELECT 1 FROM pg_tables WHERE tablename = 'executions'`)).length).toBe(1);
    expect((await query(c, 'temporal_visibility', `SELECT 1 FROM pg_tables WHERE tablename = 'executions_visibility'`)).length).toBe(1);
    const argv = await run.argv();
    expect(argv).toMatch(/--db temporal create-database/);
    expect(argv).toMatch(/--db temporal_visibility update-schema -d \S+\/visibility\/versioned/);
    expect(argv).not.toContain(PASSWORD);
    expect(argv).not.toMatch(/--pw|--password/);
  }, 120_000);

  it(`an existing volume that never had Temporal's databases (an init script runs only on an empty data directory): created on this up, and every later up changes nothing${skipReason}`, async () => {
    const c = await cluster();
    await c.start({ tcp: true });
    // What an earlier version of the compose file left: the auth database with data, no Temporal databases.
    await query(c, 'postgres', 'CREATE DATABASE auth');
    await query(c, 'auth', `CREATE TABLE kept (v text); INSERT INTO kept VALUES ('mine')`);
    const first = await runScript(c);
    expect(await first.done, first.output()).toBe(0);
    expect(await schemaVersions(c)).toEqual(expectedVersions());
    const again = await runScript(c);
    expect(await again.done, again.output()).toBe(0);
    expect(again.output()).not.toContain('waiting for PostgreSQL');
    expect(await schemaVersions(c)).toEqual(expectedVersions());
    expect(await query(c, 'auth', 'SELECT v FROM kept')).toEqual([{ v: 'mine' }]);
  }, 120_000);

  it(`refuses, with one sentence, a password Temporal ${TEMPORAL_VERSION} cannot use, before anything is created; Temporal's own tool indeed fails with it${skipReason}`, async () => {
    const c = await cluster();
    await c.start({ tcp: true });
    const run = await runScript(c, { POSTGRES_PWD: 'has space' });
    expect(await run.done).toBe(2);
    expect(run.output().trim()).toBe(
      'temporal-schema: POSTGRES_PASSWORD contains a space, a double quote, a backslash or a line break, which Temporal 1.29.1 cannot use; choose one without them (any other character works, / @ : # % + included)',
    );
    expect(await run.argv()).toBe('');
    expect(await query(c, 'postgres', `SELECT datname FROM pg_database WHERE datname LIKE 'temporal%'`)).toEqual([]);
    // Why: a role whose password has a space logs in with libpq, and not with temporal-sql-tool (url.QueryEscape
    // turns the space into "+" in the URL it builds: session.go).
    await query(c, 'postgres', `CREATE ROLE spaced LOGIN SUPERUSER PASSWORD 'has space'`);
    const viaLibpq = new pg.Client({ host: '127.0.0.1', port: c.port, user: 'spaced', password: 'has space', database: 'postgres' });
    await viaLibpq.connect();
    await viaLibpq.end();
    const tool = spawn(sqlTool, ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(c.port), '-u', 'spaced', '--db', 'postgres', 'setup-schema', '-v', '0.0'], { env: { SQL_PASSWORD: 'has space' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    tool.stdout.on('data', (d) => (out += d));
    tool.stderr.on('data', (d) => (out += d));
    const code = await new Promise((resolve) => tool.on('close', resolve));
    expect(code).not.toBe(0);
    expect(out).toContain('password authentication failed for user \\"spaced\\"');
  }, 120_000);
});

describe.skipIf(!pgBin)('the worker connects as docker-compose.yml configures it', () => {
  it('DATABASE_URL without a password and PGPASSWORD beside it: a password with / @ : # % + needs no URL encoding, for the worker (MikroORM) and for maint', async () => {
    const c = await cluster();
    await c.start({ tcp: true });
    await query(c, 'postgres', 'CREATE DATABASE auth');
    const url = `postgres://${USER}@127.0.0.1:${c.port}/auth`;
    const saved = process.env.PGPASSWORD;
    process.env.PGPASSWORD = PASSWORD;
    try {
      const orm = await openOrm(url);
      try {
        expect((await migrate(orm)).length).toBeGreaterThan(0);
      } finally {
        await orm.close();
      }
    } finally {
      if (saved === undefined) delete process.env.PGPASSWORD;
      else process.env.PGPASSWORD = saved;
    }
    const r = await maint(['runs', '--json'], { DATABASE_URL: url, PGPASSWORD: PASSWORD });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
    // The same password put into the URL as it is (what the compose file used to do) is not even a URL.
    const raw = await maint(['runs', '--json'], { DATABASE_URL: `postgres://${USER}:${PASSWORD}@127.0.0.1:${c.port}/auth` });
    expect(raw.code).not.toBe(0);
  }, 120_000);
});
