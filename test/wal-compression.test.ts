import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import pg from 'pg';
import { createTestDatabase, seedBulk, startTestWorker, uniqueName, type TestDatabase, type TestWorker } from './support/env.js';
import { maint } from './support/cli.js';
import { dbFromPool } from '../src/db/query.js';
import { walCompressionFor, walCompressionServer } from '../activities/purge/wal-compression.js';
import { walCompressionAdvice } from '../src/purge/wal-compression.js';

/**
 * A purge's batches compress their full-page images (`SET LOCAL wal_compression`) where the role may set it, and
 * only their own: a statement trigger on the purged table records the setting each batch's DELETE ran with.
 */

let db: TestDatabase;
let serverSetting: string;
/** What a purge sets on this server: the first of lz4, zstd, pglz it was built with. */
let method: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const values = (await db.pool.query<{ v: string[] | null }>(`SELECT enumvals AS v FROM pg_settings WHERE name = 'wal_compression'`)).rows[0]!.v;
  method = values === null ? 'on' : ['lz4', 'zstd', 'pglz'].find((m) => values.includes(m))!;
  serverSetting = (await db.pool.query<{ s: string }>("SELECT current_setting('wal_compression') AS s")).rows[0]!.s;
  await db.pool.query(`CREATE TABLE seen_setting (value text NOT NULL)`);
  await db.pool.query(`CREATE FUNCTION record_setting() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO seen_setting VALUES (current_setting('wal_compression')); RETURN NULL; END $$`);
  await db.pool.query(`CREATE TRIGGER record_setting AFTER DELETE ON outstanding_token FOR EACH STATEMENT EXECUTE FUNCTION record_setting()`);
});
afterAll(async () => {
  await db.close();
});

async function purgeWith(env: Record<string, string>): Promise<string[]> {
  const worker: TestWorker = await startTestWorker(db, { env });
  try {
    await db.pool.query('TRUNCATE outstanding_token, blacklisted_token, seen_setting RESTART IDENTITY');
    const cutoff = new Date(Date.now() - 60_000);
    await seedBulk(db, { expired: 3000, valid: 100, cutoff });
    const r = await maint(['run', 'purge-expired-tokens', '--wait', '--json', '--batch-size', '500', '--as-of', cutoff.toISOString()], {
      TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: worker.taskQueue, DATABASE_URL: db.url,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).deleted).toBe(3000);
    return (await db.pool.query<{ value: string }>('SELECT value FROM seen_setting')).rows.map((x) => x.value);
  } finally {
    await worker.stop();
  }
}

describe('wal_compression for the purge\'s own sessions', () => {
  it('batches run compressed (lz4 where the server has it) where the role may set it (the test role is a superuser), the server\'s setting otherwise', async () => {
    const seen = await purgeWith({});
    expect(seen.length).toBeGreaterThanOrEqual(6); // one statement per batch of 500
    // A server already compressing keeps its own method.
    expect(new Set(seen)).toEqual(new Set([serverSetting === 'off' ? method : serverSetting]));
    // Only the batch's transaction: this session (and every other) still has the server's.
    expect((await db.pool.query<{ s: string }>("SELECT current_setting('wal_compression') AS s")).rows[0]!.s).toBe(serverSetting);
  });

  it('MAINT_WAL_COMPRESSION=off leaves the server\'s setting', async () => {
    expect(new Set(await purgeWith({ MAINT_WAL_COMPRESSION: 'off' }))).toEqual(new Set([serverSetting]));
  });

  it('a role without the privilege sets nothing and is told the GRANT; with GRANT SET ON PARAMETER it compresses', async () => {
    if (serverSetting !== 'off') return; // the choice only arises on a server that does not compress
    const role = uniqueName('am_walc');
    const u = new URL(db.url);
    const password = decodeURIComponent(u.password);
    await db.pool.query(`CREATE ROLE ${role} LOGIN${password ? ` PASSWORD '${password.replace(/'/g, "''")}'` : ''}`);
    const pool = new pg.Pool({ host: u.hostname, port: Number(u.port || 5432), database: u.pathname.slice(1), user: role, password: password || undefined, max: 1 });
    try {
      const limited = dbFromPool(pool);
      const server = await walCompressionServer(limited);
      expect(server).toMatchObject({ setting: 'off', maySet: false, role });
      expect(await walCompressionFor(limited, 'auto')).toEqual({ set: null, why: 'no-privilege' });
      expect(walCompressionAdvice(role, server.version)).toContain(`GRANT SET ON PARAMETER wal_compression TO ${role}`);
      await db.pool.query(`GRANT SET ON PARAMETER wal_compression TO ${role}`);
      expect(await walCompressionFor(limited, 'auto')).toEqual({ set: method });
      expect(await walCompressionFor(limited, 'off')).toEqual({ set: null, why: 'off' });
    } finally {
      await pool.end();
      await db.pool.query(`REVOKE SET ON PARAMETER wal_compression FROM ${role}`).catch(() => undefined);
      await db.pool.query(`DROP ROLE ${role}`);
    }
  });
});
