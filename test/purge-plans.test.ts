import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { startHandle } from './support/start.js';

import type { PurgeResult } from '../src/purge/types.js';
import { connectTestClient, createTestDatabase, scalar, startTestWorker, type TestDatabase, type TestWorker } from './support/env.js';

/**
 * The two walks a purge can plan, on the shapes users have: Django's simplejwt table (no index on expires_at,
 * expiry random relative to id) walks the key in chunks; our own table (indexed) walks the timestamp index.
 * Both must delete exactly the rows the rule matches, whatever the lanes and chunk sizes.
 */

const DJANGO_DDL = join(import.meta.dirname, 'fixtures', 'django', 'simplejwt_token_blacklist.sql');
const CONFIG = [
  'rules:',
  '  purge-uuid-sessions:',
  '    table: uuid_session',
  '    timestampColumn: expires_at',
  '  purge-text-sessions:',
  '    table: text_session',
  '    primaryKey: code',
  '    timestampColumn: expires_at',
  '  purge-keyless:',
  '    table: keyless_session',
  '    timestampColumn: expires_at',
  '  purge-partitioned-sessions:',
  '    table: part_session',
  '    timestampColumn: expires_at',
].join('\n');

let client: Client;
let db: TestDatabase;
let worker: TestWorker;
let previousConfig: string | undefined;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'maint-plans-'));
  await writeFile(join(dir, 'maint.config.yaml'), CONFIG);
  previousConfig = process.env.MAINT_CONFIG;
  process.env.MAINT_CONFIG = join(dir, 'maint.config.yaml');
  client = await connectTestClient();
  db = await createTestDatabase();
  await db.pool.query(await readFile(DJANGO_DDL, 'utf8'));
  await db.pool.query(`CREATE TABLE uuid_session (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), expires_at timestamptz NULL);
    CREATE TABLE text_session (code text NOT NULL UNIQUE, expires_at timestamptz NOT NULL);
    CREATE TABLE keyless_session (id bigint, name text, expires_at timestamptz NOT NULL);
    CREATE TABLE part_session (id bigint PRIMARY KEY, expires_at timestamptz NOT NULL) PARTITION BY RANGE (id);
    CREATE TABLE part_session_a PARTITION OF part_session FOR VALUES FROM (1) TO (1001);
    CREATE TABLE part_session_b PARTITION OF part_session FOR VALUES FROM (1001) TO (2001);`);
  worker = await startTestWorker(db);
});
afterAll(async () => {
  await worker.stop();
  await client.connection.close();
  await db.close();
  if (previousConfig === undefined) delete process.env.MAINT_CONFIG;
  else process.env.MAINT_CONFIG = previousConfig;
});

const ms = (d: Date, delta: number) => new Date(d.getTime() + delta).toISOString();

/**
 * Boundary rows around `cutoff` (at it, ±1 ms, the same instant written in other time zones) and `n` rows with
 * expiry random relative to insertion order, half before the cutoff; returns how many lie before it.
 */
async function seedShape(table: string, cutoff: Date, n: number): Promise<number> {
  await db.pool.query(`TRUNCATE ${table} CASCADE`);
  const boundary = [ms(cutoff, -1), cutoff.toISOString(), ms(cutoff, 1), ms(cutoff, -1).replace('Z', '+00:00')];
  // The cutoff instant, written as 14:00 at +14:00 and the previous day at -12:00 (same instant, other zones).
  const zoned = (offsetH: number) => {
    const local = new Date(cutoff.getTime() + offsetH * 3_600_000).toISOString().slice(0, 23);
    const sign = offsetH >= 0 ? '+' : '-';
    return `${local}${sign}${String(Math.abs(offsetH)).padStart(2, '0')}:00`;
  };
  boundary.push(zoned(14), zoned(-12));
  const values = boundary.map((_, i) => `('b${i}', 'token', $1::timestamptz - interval '1 day', $${i + 2}::timestamptz)`).join(', ');
  await db.pool.query(`INSERT INTO ${table} (jti, token, created_at, expires_at) VALUES ${values}`, [cutoff.toISOString(), ...boundary]);
  await db.pool.query(
    `INSERT INTO ${table} (jti, token, created_at, expires_at)
     SELECT 'r' || g, 'token', $1::timestamptz - interval '2 days', $1::timestamptz + ((random() - 0.5) * interval '10 days')
       FROM generate_series(1, $2::int) g`,
    [cutoff.toISOString(), n],
  );
  await db.pool.query(`ANALYZE ${table}`);
  return scalar(db, `SELECT count(*) FROM ${table} WHERE expires_at < $1`, [cutoff]);
}

async function run(job: string, params: Record<string, unknown>): Promise<{ result: PurgeResult; runId: string }> {
  const handle = await startHandle(client, { job, params, taskQueue: worker.taskQueue, trigger: 'test' });
  return { result: (await handle.result()) as PurgeResult, runId: handle.firstExecutionRunId };
}

async function ledger(runId: string): Promise<{ deleted: number; batches: number; lanes: number }> {
  const { rows } = await db.pool.query('SELECT coalesce(sum(deleted), 0)::int AS deleted, count(*)::int AS batches, count(DISTINCT lane)::int AS lanes FROM purge_batch WHERE run_id = $1', [runId]);
  return rows[0];
}

describe('a Django-shaped table (no index on the timestamp) is walked by key chunks', () => {
  const T = 'token_blacklist_outstandingtoken';
  const B = 'token_blacklist_blacklistedtoken';

  it.each([
    { name: 'one lane, fixed chunks', params: { parallel: 1, batchSize: 97 } },
    { name: 'three lanes, fixed chunks', params: { parallel: 3, batchSize: 50 } },
    { name: 'default lanes, adaptive chunks', params: {} },
  ])('$name: deletes exactly the expired rows and their blacklist rows', async ({ params }) => {
    const cutoff = new Date(Date.now() - 3_600_000);
    await seedShape(T, cutoff, 3000);
    // flushexpiredtokens deletes expires_at <= now: the rows exactly at the cutoff go too.
    const expired = await scalar(db, `SELECT count(*) FROM ${T} WHERE expires_at <= $1`, [cutoff]);
    await db.pool.query(`INSERT INTO ${B} (blacklisted_at, token_id) SELECT now(), id FROM ${T} WHERE id % 4 = 0`);
    const expiredBlacklisted = await scalar(db, `SELECT count(*) FROM ${B} b JOIN ${T} t ON t.id = b.token_id WHERE t.expires_at <= $1`, [cutoff]);
    const keep = await db.pool.query(`SELECT id FROM ${T} WHERE expires_at > $1 ORDER BY id`, [cutoff]);

    const { result, runId } = await run('django-simplejwt-flush-expired', { asOf: cutoff.toISOString(), ...params });

    expect(result.plans?.[0]).toMatchObject({ strategy: 'key-chunks', key: 'id', keyType: 'bigint', index: expect.stringMatching(/pkey/) });
    expect(result.plans?.[0]?.lanes.length).toBe((params as { parallel?: number }).parallel ?? 1);
    expect(result).toMatchObject({ status: 'completed', matched: expired, deleted: expired, children: { [B]: expiredBlacklisted } });
    const left = await db.pool.query(`SELECT id FROM ${T} ORDER BY id`);
    expect(left.rows).toEqual(keep.rows);
    expect(await scalar(db, `SELECT count(*) FROM ${B} b LEFT JOIN ${T} t ON t.id = b.token_id WHERE t.id IS NULL`)).toBe(0);
    const l = await ledger(runId);
    expect(l.deleted).toBe(expired);
    expect(l.lanes).toBe(result.plans![0]!.lanes.length);
    const { rows } = await db.pool.query('SELECT deleted, batches, plan FROM maintenance_run WHERE id = $1', [runId]);
    expect(rows[0]).toMatchObject({ deleted: String(expired), batches: l.batches });
    expect(rows[0].plan[0]).toMatchObject({ strategy: 'key-chunks', key: 'id' });
  });

  it('a dry run shows the plan and the EXPLAIN of one batch, and changes nothing', async () => {
    const cutoff = new Date(Date.now() - 3_600_000);
    await seedShape(T, cutoff, 500);
    const expired = await scalar(db, `SELECT count(*) FROM ${T} WHERE expires_at <= $1`, [cutoff]); // flushexpiredtokens: <=
    const before = await scalar(db, `SELECT count(*) FROM ${T}`);
    const { result } = await run('django-simplejwt-flush-expired', { asOf: cutoff.toISOString(), dryRun: true });
    expect(result).toMatchObject({ dryRun: true, matched: expired, deleted: 0, batches: 0 });
    expect(result.plans?.[0]).toMatchObject({ strategy: 'key-chunks', adaptive: true });
    // The chunk is read along the primary key's index, never by sorting the table.
    expect(result.plans?.[0]?.explain).toMatch(/Index (Only )?Scan using token_blacklist_outstandingtoken_pkey/);
    expect(result.plans?.[0]?.explain).not.toMatch(/Sort Key: .*expires_at/);
    expect(await scalar(db, `SELECT count(*) FROM ${T}`)).toBe(before);
  });
});

describe('our own table (indexed timestamp) is walked along the index', () => {
  it.each([{ parallel: 1 }, { parallel: 2 }])('lanes %o: exact on boundary data, random order', async (params) => {
    const cutoff = new Date(Date.now() - 3_600_000);
    const expired = await seedShape('outstanding_token', cutoff, 2000);
    const { result, runId } = await run('purge-expired-tokens', { asOf: cutoff.toISOString(), batchSize: 64, ...params });
    expect(result.plans?.[0]).toMatchObject({ strategy: 'timestamp-index', index: 'outstanding_token_expires_at_idx' });
    expect(result).toMatchObject({ deleted: expired });
    expect(await scalar(db, 'SELECT count(*) FROM outstanding_token WHERE expires_at < $1', [cutoff])).toBe(0);
    expect(await scalar(db, 'SELECT count(*) FROM outstanding_token WHERE expires_at >= $1', [cutoff])).toBe(2006 - expired);
    expect((await ledger(runId)).deleted).toBe(expired);
  });
});

describe('keys of other types', () => {
  it('a uuid key (random order, NULL timestamps kept) is walked in lanes', async () => {
    const cutoff = new Date(Date.now() - 3_600_000);
    await db.pool.query(`INSERT INTO uuid_session (expires_at)
      SELECT CASE WHEN g % 10 = 0 THEN NULL ELSE $1::timestamptz + ((random() - 0.5) * interval '4 days') END FROM generate_series(1, 4000) g`, [cutoff]);
    await db.pool.query(`INSERT INTO uuid_session (expires_at) VALUES ($1), ($2), ($3)`, [ms(cutoff, -1), cutoff.toISOString(), ms(cutoff, 1)]);
    const expired = await scalar(db, 'SELECT count(*) FROM uuid_session WHERE expires_at < $1', [cutoff]);
    const kept = await scalar(db, 'SELECT count(*) FROM uuid_session WHERE expires_at >= $1 OR expires_at IS NULL', [cutoff]);
    const { result } = await run('purge-uuid-sessions', { asOf: cutoff.toISOString(), parallel: 4, batchSize: 100 });
    expect(result.plans?.[0]).toMatchObject({ strategy: 'key-chunks', keyType: 'uuid' });
    expect(result.plans?.[0]?.lanes.length).toBe(4);
    expect(result.deleted).toBe(expired);
    expect(await scalar(db, 'SELECT count(*) FROM uuid_session')).toBe(kept);
    expect(await scalar(db, 'SELECT count(*) FROM uuid_session WHERE expires_at IS NULL')).toBe(400);
  });

  it('a text key that is unique and not null (no primary key) is walked in lanes', async () => {
    const cutoff = new Date(Date.now() - 3_600_000);
    await db.pool.query(`INSERT INTO text_session (code, expires_at) SELECT md5(g::text), $1::timestamptz + ((random() - 0.5) * interval '4 days') FROM generate_series(1, 3000) g`, [cutoff]);
    const expired = await scalar(db, 'SELECT count(*) FROM text_session WHERE expires_at < $1', [cutoff]);
    const { result } = await run('purge-text-sessions', { asOf: cutoff.toISOString(), parallel: 2, batchSize: 128 });
    expect(result.plans?.[0]).toMatchObject({ strategy: 'key-chunks', key: 'code', keyType: 'text' });
    expect(result.deleted).toBe(expired);
    expect(await scalar(db, 'SELECT count(*) FROM text_session WHERE expires_at < $1', [cutoff])).toBe(0);
  });

  it('a partitioned table is reached by key, not ctid: rows of two partitions at the same ctid, one expired, one not', async () => {
    const cutoff = new Date(Date.now() - 3_600_000);
    // Both partitions filled in the same order: row i of each lies at the same ctid; only the first's odd rows expired.
    await db.pool.query(
      `INSERT INTO part_session SELECT g, CASE WHEN g % 2 = 1 THEN $1::timestamptz - interval '1 hour' ELSE $1::timestamptz + interval '1 hour' END FROM generate_series(1, 1000) g`,
      [cutoff],
    );
    await db.pool.query(`INSERT INTO part_session SELECT g, $1::timestamptz + interval '1 hour' FROM generate_series(1001, 2000) g`, [cutoff]);
    const sameTid = await scalar(db, `SELECT count(*) FROM part_session_a a JOIN part_session_b b ON a.ctid = b.ctid WHERE a.expires_at < $1`, [cutoff]);
    expect(sameTid).toBe(500);
    const { result } = await run('purge-partitioned-sessions', { asOf: cutoff.toISOString(), parallel: 1, batchSize: 300 });
    expect(result.plans?.[0]).toMatchObject({ strategy: 'key-chunks' });
    expect(result.deleted).toBe(500);
    expect(await scalar(db, 'SELECT count(*) FROM part_session_a WHERE expires_at < $1', [cutoff])).toBe(0);
    expect(await scalar(db, 'SELECT count(*) FROM part_session_b')).toBe(1000);
  });

  it('a table without a primary or unique not-null key is refused, naming it, before anything is deleted', async () => {
    await db.pool.query(`INSERT INTO keyless_session VALUES (1, 'a', now() - interval '1 day'), (2, 'b', now() + interval '1 day')`);
    const handle = await startHandle(client, { job: 'purge-keyless', params: {}, taskQueue: worker.taskQueue, trigger: 'test' });
    const err = await handle.result().catch((e) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(String(err.cause?.cause?.message)).toMatch(/keyless_session.id: table "keyless_session" has no primary key or unique not-null key on "id"/);
    expect(await scalar(db, 'SELECT count(*) FROM keyless_session')).toBe(2);
  });
});
