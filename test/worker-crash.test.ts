import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Client } from '@temporalio/client';
import { startHandle } from './support/start.js';

import type { PurgeResult } from '../src/purge/types.js';
import { connectTestClient, createTestDatabase, scalar, seedBulk, uniqueName, until, type TestDatabase } from './support/env.js';

let client: Client;
let db: TestDatabase;

beforeAll(async () => {
  client = await connectTestClient();
  db = await createTestDatabase();
});
afterAll(async () => {
  await client.connection.close();
  await db.close();
});

async function spawnWorker(taskQueue: string, batchDelayMs: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['bin/run.mjs', 'test/support/worker-process.ts'], {
    env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), DATABASE_URL: db.url, TASK_QUEUE: taskQueue, BUNDLE_PATH: inject('workflowBundlePath'), BATCH_DELAY_MS: String(batchDelayMs) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  await until(async () => out.includes('ready'), 'worker process ready', 60_000);
  return child;
}

it('a worker killed mid-purge and replaced finishes the purge with exact counts', async () => {
  const cutoff = new Date(Date.now() - 60_000);
  await seedBulk(db, { expired: 3000, valid: 500, cutoff, blacklistEvery: 4 });
  const expectedChildren = await scalar(db, 'SELECT count(*) FROM blacklisted_token b JOIN outstanding_token t ON t.id = b.token_id WHERE t.expires_at < $1', [cutoff]);
  const taskQueue = uniqueName('tq-crash');

  const first = await spawnWorker(taskQueue, 40);
  const handle = await startHandle(client, { job: 'purge-expired-tokens', params: { asOf: cutoff.toISOString(), batchSize: 100, batchTimeoutSeconds: 3 }, taskQueue, trigger: 'test' });
  await until(async () => ((await handle.query<{ deleted: number }>('progress')).deleted >= 800 ? true : undefined), '800 rows deleted');
  first.kill('SIGKILL');
  await once(first, 'exit');
  const atKill = await scalar(db, 'SELECT count(*) FROM outstanding_token WHERE expires_at < $1', [cutoff]);
  expect(atKill).toBeGreaterThan(0); // killed mid-purge, not after it

  const second = await spawnWorker(taskQueue, 0);
  try {
    const result = (await handle.result()) as PurgeResult;
    expect(result).toMatchObject({ status: 'completed', deleted: 3000, children: { blacklisted_token: expectedChildren } });
    expect(await scalar(db, 'SELECT count(*) FROM outstanding_token WHERE expires_at < $1', [cutoff])).toBe(0);
    expect(await scalar(db, 'SELECT count(*) FROM outstanding_token')).toBe(500);
    expect(await scalar(db, 'SELECT sum(deleted) FROM purge_batch WHERE run_id = $1', [handle.firstExecutionRunId])).toBe(3000);
    const { rows } = await db.pool.query('SELECT status, deleted FROM maintenance_run WHERE id = $1', [handle.firstExecutionRunId]);
    expect(rows[0]).toEqual({ status: 'completed', deleted: '3000' });
  } finally {
    second.kill('SIGTERM');
    await once(second, 'exit');
  }
});

it('parallel lanes shared by two workers: one is SIGKILLed mid-batch, its lane resumes within seconds, counts stay exact', async () => {
  await db.pool.query('TRUNCATE outstanding_token, blacklisted_token, purge_batch, maintenance_run');
  const cutoff = new Date(Date.now() - 60_000);
  await seedBulk(db, { expired: 12_000, valid: 1_000, cutoff, blacklistEvery: 6 });
  const expectedChildren = await scalar(db, 'SELECT count(*) FROM blacklisted_token b JOIN outstanding_token t ON t.id = b.token_id WHERE t.expires_at < $1', [cutoff]);
  const taskQueue = uniqueName('tq-lanes');
  // Each batch holds its activity open a little after committing, so the killed worker is mid-batch.
  const [a, b] = await Promise.all([spawnWorker(taskQueue, 120), spawnWorker(taskQueue, 120)]);
  const handle = await startHandle(client, { job: 'purge-expired-tokens', params: { asOf: cutoff.toISOString(), batchSize: 150, parallel: 3 }, taskQueue, trigger: 'test' });
  try {
    await until(async () => ((await handle.query<{ deleted: number }>('progress')).deleted >= 3_000 ? true : undefined), '3000 rows deleted');
    const killedAt = Date.now();
    a.kill('SIGKILL');
    await once(a, 'exit');
    const result = (await handle.result()) as PurgeResult;
    expect(result).toMatchObject({ status: 'completed', deleted: 12_000, children: { blacklisted_token: expectedChildren } });
    expect(result.plans?.[0]?.lanes.length).toBe(3);
    expect(await scalar(db, 'SELECT count(*) FROM outstanding_token')).toBe(1_000);
    const { rows: ledger } = await db.pool.query('SELECT sum(deleted)::int AS deleted, count(DISTINCT lane)::int AS lanes FROM purge_batch WHERE run_id = $1', [handle.firstExecutionRunId]);
    expect(ledger[0]).toEqual({ deleted: 12_000, lanes: 3 });
    // Per lane still working at the kill: how long until its next batch committed.
    const { rows } = await db.pool.query(
      `SELECT lane, min(committed_at) AS next FROM purge_batch WHERE run_id = $1 AND committed_at > to_timestamp($2 / 1000.0) GROUP BY lane`,
      [handle.firstExecutionRunId, killedAt],
    );
    const stalls = rows.map((r) => new Date(r.next).getTime() - killedAt);
    expect(stalls.length).toBeGreaterThan(0);
    console.log(`lane stalls after SIGKILL (ms): ${stalls.join(', ')}`);
    expect(Math.max(...stalls)).toBeLessThan(10_000);
  } finally {
    b.kill('SIGTERM');
    await once(b, 'exit');
  }
});
