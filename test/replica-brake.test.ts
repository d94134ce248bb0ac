import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import pg from 'pg';
import type { Client } from '@temporalio/client';
import { migrate, openOrm } from '../src/orm/index.js';
import { DEFAULT_SCHEMA, pgConfig } from '../src/db/schema.js';
import { connectTestClient, scalar, seedBulk, startTestWorker, until, type TestDatabase, type TestWorker } from './support/env.js';
import { withDatabase } from './support/global-setup.js';
import { createReplicaPair, type ReplicaPair } from './support/replica-pair.js';
import { maint } from './support/cli.js';
import { throttledReason } from '../src/cli/progress.js';

/** A real streaming replica (pg_basebackup) that stops replaying: the purge waits for it instead of burying it in WAL. */

let pair: ReplicaPair;
let client: Client;
let db: TestDatabase;
let standby: pg.Client;
let worker: TestWorker;
let env: Record<string, string>;

async function query(url: string, sql: string): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

/** WAL the standby has received but not replayed yet, or not received: bytes behind the primary. */
const behind = async () => Number((await query(pair.primaryUrl, 'SELECT coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), -1) AS b FROM pg_stat_replication')).rows[0].b);

beforeAll(async () => {
  pair = await createReplicaPair();
  await query(pair.primaryUrl, 'CREATE DATABASE am');
  const url = withDatabase(pair.primaryUrl, 'am');
  const orm = await openOrm(url, { nativeTables: true });
  await migrate(orm);
  const pool = new pg.Pool(pgConfig(url, DEFAULT_SCHEMA, { max: 4 }));
  pool.on('error', () => undefined);
  db = { name: 'am', url, orm, pool, close: async () => { await pool.end(); await orm.close(); } };
  standby = new pg.Client({ connectionString: withDatabase(pair.standbyUrl, 'am') });
  client = await connectTestClient();
  worker = await startTestWorker(db, { env: { MAINT_BRAKE_REPLICA_LAG_MS: '0', MAINT_BRAKE_REPLICA_LAG_BYTES: String(1024 * 1024) } });
  env = { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: worker.taskQueue, DATABASE_URL: url };
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  await standby?.end().catch(() => undefined);
  await client?.connection.close();
  await db?.close();
  await pair?.destroy();
});

describe('the replica brake', () => {
  it('stops deleting while the standby has more than MAINT_BRAKE_REPLICA_LAG_BYTES to replay, and finishes once it catches up', async () => {
    await seedBulk(db, { expired: 60_000, valid: 500, cutoff: new Date(Date.now() - 60_000) });
    await until(async () => (await behind()) === 0, 'the standby to catch up with the seed', 60_000);
    await standby.connect();
    expect(Number((await standby.query('SELECT count(*) AS n FROM outstanding_token')).rows[0].n)).toBe(60_500);
    await standby.query('SELECT pg_wal_replay_pause()');

    // The bytes alone (a paused replica's replay_lag says little): the run turns its budget's lag-time check off.
    const running = maint(['run', 'purge-expired-tokens', '--batch-size', '2000', '--max-replica-lag', '0', '--wait', '--json', '--workflow-id', 'brake-replica'], env);
    const handle = client.workflow.getHandle('brake-replica');
    const reason = await until(async () => throttledReason((await handle.describe()).raw.pendingActivities ?? []) ?? undefined, 'the purge to wait for the standby', 60_000);
    expect(reason).toMatch(/^a replica has \d+ KiB of WAL still to replay, over MAINT_BRAKE_REPLICA_LAG_BYTES 1048576$/);
    // While the standby replays nothing, the purge deletes nothing more.
    const held = await scalar(db, 'SELECT count(*) FROM outstanding_token');
    expect(held).toBeGreaterThan(500);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await scalar(db, 'SELECT count(*) FROM outstanding_token')).toBe(held);

    await standby.query('SELECT pg_wal_replay_resume()');
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'completed', deleted: 60_000 });
    await until(async () => (await behind()) === 0, 'the standby to catch up with the purge', 60_000);
    expect(Number((await standby.query('SELECT count(*) AS n FROM outstanding_token')).rows[0].n)).toBe(500);
  });

  it('resumes within 2 s of the standby replaying its backlog, with a lag-time limit as well as the bytes (replay_lag measures the pause for a while after)', async () => {
    await db.pool.query('TRUNCATE outstanding_token, blacklisted_token RESTART IDENTITY');
    await seedBulk(db, { expired: 60_000, valid: 500, cutoff: new Date(Date.now() - 60_000) });
    await until(async () => (await behind()) === 0, 'the standby to catch up with the seed', 60_000);
    await standby.query('SELECT pg_wal_replay_pause()');
    // Both limits: a second of replay lag and the bytes.
    const running = maint(['run', 'purge-expired-tokens', '--batch-size', '2000', '--max-replica-lag', '1', '--wait', '--json', '--workflow-id', 'brake-replica-lag'], env);
    const handle = client.workflow.getHandle('brake-replica-lag');
    await until(async () => throttledReason((await handle.describe()).raw.pendingActivities ?? []) ?? undefined, 'the purge to wait for the standby', 60_000);
    // Long enough a pause that the replay, once resumed, measures a lag of seconds.
    await new Promise((r) => setTimeout(r, 5_000));
    // The purge is waiting, so what the primary has written now is all the standby has to replay.
    const { rows: [{ lsn }] } = await query(pair.primaryUrl, 'SELECT pg_current_wal_lsn()::text AS lsn');
    const resumedAt = Date.now();
    await standby.query('SELECT pg_wal_replay_resume()');
    await until(async () => (await standby.query('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok', [lsn])).rows[0].ok, 'the standby to replay its backlog', 60_000);
    const caughtUp = Date.now();
    const next = await until(async () => {
      const { rows } = await db.pool.query<{ at: Date | null }>('SELECT min(committed_at) AS at FROM auth_maintenance.purge_batch WHERE committed_at > to_timestamp($1 / 1000.0)', [resumedAt]);
      return rows[0]?.at ?? undefined;
    }, 'a batch after the resume', 30_000);
    // The first batch after the resume starts within 2 s of the standby having replayed everything (or before).
    expect(next.getTime() - caughtUp).toBeLessThan(2_000);
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'completed', deleted: 60_000 });
  });
});
