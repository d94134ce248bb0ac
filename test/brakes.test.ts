import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import pg from 'pg';
import type { Client } from '@temporalio/client';
import { connectTestClient, createTestDatabase, scalar, seedBulk, startTestWorker, until, type TestDatabase, type TestWorker } from './support/env.js';
import { maint } from './support/cli.js';
import { throttledReason } from '../src/cli/progress.js';

/** The impact budget: a purge waits between batches while the application needs the database, and says why. */

let client: Client;
let db: TestDatabase;
let worker: TestWorker;
let env: Record<string, string>;

beforeAll(async () => {
  client = await connectTestClient();
  db = await createTestDatabase();
  worker = await startTestWorker(db, { env: { MAINT_BRAKE_ACTIVE_SESSIONS: '2', MAINT_BRAKE_REPLICA_LAG_MS: '0' } });
  env = { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: worker.taskQueue, DATABASE_URL: db.url };
});
afterAll(async () => {
  await worker.stop();
  await client.connection.close();
  await db.close();
});

describe('brakes between batches', () => {
  it('waits while more application sessions than MAINT_BRAKE_ACTIVE_SESSIONS run statements, says why, and goes on when they end', async () => {
    await seedBulk(db, { expired: 20_000, valid: 100, cutoff: new Date(Date.now() - 60_000) });
    const before = await scalar(db, 'SELECT count(*) FROM outstanding_token');
    // Three application sessions busy for 12 s: over the budget of 2.
    const busy = await Promise.all([1, 2, 3].map(async () => {
      const c = new pg.Client({ connectionString: db.url, application_name: 'the-application' });
      await c.connect();
      return c;
    }));
    const sleeping = busy.map((c) => c.query('SELECT pg_sleep(12)'));
    const started = Date.now();
    const running = maint(['run', 'purge-expired-tokens', '--batch-size', '1000', '--wait', '--json', '--workflow-id', 'brake-active-sessions'], env);
    try {
      const handle = client.workflow.getHandle('brake-active-sessions');
      const reason = await until(async () => throttledReason((await handle.describe()).raw.pendingActivities ?? []) ?? undefined, 'the lane to say it waits', 30_000);
      expect(reason).toBe('3 other sessions are running statements, over MAINT_BRAKE_ACTIVE_SESSIONS 2');
      // While they run, not a row goes.
      await new Promise((r) => setTimeout(r, 2_000));
      expect(await scalar(db, 'SELECT count(*) FROM outstanding_token')).toBe(before);
    } finally {
      await Promise.all(sleeping);
      await Promise.all(busy.map((c) => c.end()));
    }
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'completed', deleted: 20_000 });
    // It went on once the sessions ended (12 s after they began), not before.
    expect(Date.now() - started).toBeGreaterThanOrEqual(12_000);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('{"progress"')).map((l) => JSON.parse(l) as { progress: { throttled: string | null } });
    expect(lines.some((l) => l.progress.throttled?.includes('over MAINT_BRAKE_ACTIVE_SESSIONS 2'))).toBe(true);
  });
});
