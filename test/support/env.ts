import { randomBytes } from 'node:crypto';
import { Client, Connection, ScheduleNotFoundError } from '@temporalio/client';
import { Runtime, DefaultLogger, type Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { inject } from 'vitest';
import pg from 'pg';
import { openOrm, type Orm } from '../../src/orm/index.js';
import { DEFAULT_SCHEMA, pgConfig } from '../../src/db/schema.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { createWorker } from '../../src/worker.js';
import { loadSettings } from '../../src/settings/index.js';
import type { FaultHooks } from '../../activities/index.js';
import type { KeysRuntime } from '../../src/keys/types.js';
import type { OidcConfig } from '../../src/oidc/providers.js';
import type { JobMetrics } from '../../src/metrics/metrics.js';
import type { Notifier } from '../../src/notify/outbox.js';
import { adminQuery, dropDatabase } from './db.js';
import { withDatabase } from './global-setup.js';

let runtimeInstalled = false;
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
}

export const testLogger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

export interface TestDatabase {
  name: string;
  url: string;
  orm: Orm;
  pool: pg.Pool;
  close(): Promise<void>;
}

/** A fresh, migrated database (a copy of the run's template), dropped on close. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const admin = inject('adminDbUrl');
  const name = uniqueName('am_test');
  await adminQuery(admin, `CREATE DATABASE "${name}" TEMPLATE "${inject('templateDb')}"`);
  const url = withDatabase(admin, name);
  const orm = await openOrm(url);
  const pool = new pg.Pool(pgConfig(url, DEFAULT_SCHEMA, { max: 4 }));
  // pool.end() resolves before its connections are closed, so dropping the database right after can terminate
  // one still closing; an idle connection's error is not a test's failure (a query's error is its own).
  pool.on('error', () => undefined);
  return {
    name,
    url,
    orm,
    pool,
    async close() {
      await pool.end();
      await orm.close();
      await dropDatabase(admin, name);
    },
  };
}

export async function connectTestClient(): Promise<Client> {
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  return new Client({ connection, namespace: 'default' });
}

export interface TestWorker {
  worker: Worker;
  taskQueue: string;
  stop(): Promise<void>;
}

/** Runs an in-process worker on its own task queue against `db`, with optional fault hooks. */
export interface TestWorkerOptions {
  faults?: FaultHooks;
  taskQueue?: string;
  keys?: KeysRuntime;
  oidc?: OidcConfig;
  logger?: Logger;
  metrics?: JobMetrics;
  notifier?: Notifier;
  /** Environment variables the worker's settings read on top of the test process's (MAINT_MAX_PARALLEL, ...). */
  env?: Record<string, string>;
  /** Workflows of the test's own instead of the project's bundle. */
  workflowBundle?: WorkflowBundleOption;
}

export async function startTestWorker(db: TestDatabase, opts: TestWorkerOptions = {}): Promise<TestWorker> {
  quietRuntime();
  const taskQueue = opts.taskQueue ?? uniqueName('tq');
  const { worker, connection } = await createWorker({
    // The settings of the test's environment (its MAINT_CONFIG, when it sets one) and `env`, read when the worker starts.
    settings: loadSettings({ ...process.env, ...opts.env }, { notificationSecrets: false }),
    address: inject('temporalAddress'),
    taskQueue,
    orm: db.orm,
    logger: opts.logger ?? testLogger,
    workflowBundle: opts.workflowBundle ?? { codePath: inject('workflowBundlePath') },
    faults: opts.faults,
    keys: opts.keys,
    oidc: opts.oidc,
    metrics: opts.metrics,
    notifier: opts.notifier,
  });
  const running = worker.run();
  return {
    worker,
    taskQueue,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

export interface SeedRow {
  expiresAt: Date;
  blacklisted?: boolean;
  jti?: string;
}

/** Inserts tokens (and blacklist rows where asked); returns their ids in order. */
export async function seedTokens(db: TestDatabase, rows: SeedRow[]): Promise<string[]> {
  if (!rows.length) return [];
  const { rows: inserted } = await db.pool.query<{ id: string }>(
    `INSERT INTO outstanding_token (jti, user_id, token, created_at, expires_at)
     SELECT coalesce(j, md5(random()::text || o::text)), (o % 50) + 1, 'token-' || o, e - interval '1 day', e
       FROM unnest($1::timestamptz[], $2::text[]) WITH ORDINALITY AS t(e, j, o)
     ORDER BY o RETURNING id`,
    [rows.map((r) => r.expiresAt.toISOString()), rows.map((r) => r.jti ?? null)],
  );
  const ids = inserted.map((r) => String(r.id));
  const black = ids.filter((_, i) => rows[i]!.blacklisted);
  if (black.length) await db.pool.query('INSERT INTO blacklisted_token (token_id) SELECT unnest($1::bigint[])', [black]);
  return ids;
}

/** Many tokens quickly: `expired` before `cutoff`, `valid` after it, every `blacklistEvery`-th blacklisted. */
export async function seedBulk(db: TestDatabase, opts: { expired: number; valid: number; cutoff: Date; blacklistEvery?: number }): Promise<void> {
  await db.pool.query(
    `INSERT INTO outstanding_token (jti, user_id, token, created_at, expires_at)
     SELECT 'bulk-' || g, g % 100, 'token-' || g, $1::timestamptz - interval '2 days',
            CASE WHEN g <= $2::int THEN $1::timestamptz - (g || ' seconds')::interval ELSE $1::timestamptz + (g || ' seconds')::interval END
       FROM generate_series(1, $2::int + $3::int) g`,
    [opts.cutoff.toISOString(), opts.expired, opts.valid],
  );
  const every = opts.blacklistEvery ?? 10;
  await db.pool.query(`INSERT INTO blacklisted_token (token_id) SELECT id FROM outstanding_token WHERE id % $1 = 0`, [every]);
}

export async function scalar(db: TestDatabase, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.pool.query(sql, params);
  return Number(Object.values(rows[0] ?? { v: 0 })[0]);
}

export async function until<T>(fn: () => Promise<T | undefined | false>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** How many workflows the server lists on a task queue (to prove a rejected command started nothing). */
export async function workflowsOnQueue(client: Client, taskQueue: string): Promise<number> {
  let n = 0;
  for await (const _ of client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) n += 1;
  return n;
}

/**
 * Deletes a schedule a test made. The server answers "workflow execution already completed" (ScheduleNotFoundError)
 * when the delete reaches the schedule's workflow between two of its runs (it continues as new after actions):
 * the schedule is then still there, so ask again; gone for good only when describe agrees.
 */
export async function deleteSchedule(client: Client, scheduleId: string): Promise<void> {
  const handle = client.schedule.getHandle(scheduleId);
  for (let attempt = 1; ; attempt += 1) {
    try {
      await handle.delete();
      return;
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      const stillThere = await handle.describe().then(() => true, (e: unknown) => (e instanceof ScheduleNotFoundError ? false : Promise.reject(e)));
      if (!stillThere) return;
      if (attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
