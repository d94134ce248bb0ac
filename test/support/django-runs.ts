import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { expect } from 'vitest';
import type { Client } from '@temporalio/client';
import { migrate, openOrm } from '../../src/orm/index.js';
import type { PurgeResult } from '../../src/purge/types.js';
import { adminQuery, dropDatabase } from './db.js';
import { manage } from './django.js';
import { startTestWorker, type TestDatabase } from './env.js';
import { withDatabase } from './global-setup.js';
import { startHandle } from './start.js';

/**
 * Databases migrated by Debian's Django for one test file, copied per run and dropped at its end; a preset run on
 * one through Temporal, as a team would run it (DATABASE_URL at Django's database, nothing native created).
 */
export class DjangoDatabases {
  private readonly created: string[] = [];
  constructor(private readonly admin: string) {}

  url(name: string): string {
    return withDatabase(this.admin, name);
  }

  /** A new database, migrated by `manage.py migrate` with the conformance project's apps. */
  async migrated(label: string): Promise<string> {
    const name = await this.create(label);
    await manage(this.url(name), ['migrate', '-v', '0']);
    return name;
  }

  async copyOf(template: string, label: string): Promise<string> {
    return this.create(label, template);
  }

  private async create(label: string, template?: string): Promise<string> {
    const name = `dj_${label}_${randomBytes(4).toString('hex')}`;
    await adminQuery(this.admin, `CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ''}`);
    this.created.push(name);
    return name;
  }

  async query<R extends pg.QueryResultRow = Record<string, unknown>>(name: string, sql: string, params: unknown[] = []): Promise<R[]> {
    const c = new pg.Client({ connectionString: this.url(name) });
    await c.connect();
    try {
      return (await c.query<R>(sql, params)).rows;
    } finally {
      await c.end();
    }
  }

  async dropAll(): Promise<void> {
    for (const name of this.created) await dropDatabase(this.admin, name);
  }
}

/** Everything in `public` a migration could change: relations, columns, constraints, indexes, triggers, functions. */
export async function publicCatalog(url: string): Promise<unknown[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const queries = [
      `SELECT relname, relkind FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1`,
      `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2`,
      `SELECT conrelid::regclass::text AS rel, conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2`,
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1`,
      `SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1, 2`,
      `SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY 1`,
    ];
    const out: unknown[] = [];
    for (const sql of queries) out.push((await c.query(sql)).rows);
    return out;
  } finally {
    await c.end();
  }
}

/**
 * Runs `job` on `url` through Temporal as of `asOf`: its dry run first (which must change nothing), then the run,
 * then a rerun that must delete nothing; Django's schema (`public`) must be exactly as it was. Returns the run's result.
 */
export async function runPresetThrough(
  client: Client,
  url: string,
  job: string,
  params: Record<string, unknown>,
  snapshot: () => Promise<unknown>,
): Promise<PurgeResult> {
  const catalogBefore = await publicCatalog(url);
  const orm = await openOrm(url, { nativeTables: false });
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const db: TestDatabase = { name: new URL(url).pathname.slice(1), url, orm, pool, close: async () => undefined };
  await migrate(orm);
  const worker = await startTestWorker(db);
  try {
    const run = async (extra: Record<string, unknown>) => {
      const handle = await startHandle(client, { job, params: { batchSize: 100, ...params, ...extra }, taskQueue: worker.taskQueue, trigger: 'test' });
      return (await handle.result()) as PurgeResult;
    };
    const before = await snapshot();
    const dry = await run({ dryRun: true });
    expect(dry.status).toBe('completed');
    expect(await snapshot()).toEqual(before);
    const result = await run({});
    expect(result.status).toBe('completed');
    const after = await snapshot();
    expect((await run({})).deleted).toBe(0);
    expect(await snapshot()).toEqual(after);
    expect(await publicCatalog(url)).toEqual(catalogBefore);
    return result;
  } finally {
    await worker.stop();
    await pool.end();
    await orm.close();
  }
}
