import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { execFileSync } from 'node:child_process';
import { startHandle } from './support/start.js';

import { connectTestClient, createTestDatabase, seedBulk, startTestWorker, type TestDatabase, type TestWorker } from './support/env.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'histories');
let client: Client;
let db: TestDatabase;
let worker: TestWorker;

beforeAll(async () => {
  client = await connectTestClient();
  db = await createTestDatabase();
  worker = await startTestWorker(db);
});
afterAll(async () => {
  await worker.stop();
  await client.connection.close();
  await db.close();
});

const replayOptions = () => ({ workflowBundle: { codePath: inject('workflowBundlePath') } });

it('replays committed histories of earlier workflow code without nondeterminism', async () => {
  const files = (await readdir(FIXTURES)).filter((f) => f.endsWith('.json'));
  expect(files.length).toBeGreaterThan(0);
  for (const file of files) {
    // The JSON that `temporal workflow show --output json` prints; the SDK decodes it itself.
    const history = JSON.parse(await readFile(join(FIXTURES, file), 'utf8'));
    await expect(Worker.runReplayHistory(replayOptions(), history, file)).resolves.toBeUndefined();
  }
});

it('replays freshly recorded histories (dry run, a continued-as-new chain, a multi-step job, parallel lanes, circuit breakers)', async () => {
  const cutoff = new Date(Date.now() - 60_000);
  await seedBulk(db, { expired: 60, valid: 5, cutoff });
  await db.pool.query(`INSERT INTO access_token (token, expires_at, revoked, revoked_at) SELECT 'a' || g, now() - interval '1 day', g % 2 = 0, CASE WHEN g % 2 = 0 THEN now() - interval '100 days' END FROM generate_series(1, 25) g`);
  const runs: Array<{ name: string; job?: string; params: Record<string, unknown>; before?: () => Promise<unknown> }> = [
    { name: 'dry-run', params: { dryRun: true, asOf: cutoff.toISOString() } },
    { name: 'continued', params: { asOf: cutoff.toISOString(), batchSize: 10, batchesPerRun: 3 } },
    { name: 'multi-step', job: 'revoke-then-delete-access-tokens', params: { batchSize: 10 } },
    {
      name: 'lanes',
      params: { asOf: cutoff.toISOString(), batchSize: 7, parallel: 3, batchesPerRun: 6 },
      before: () => db.pool.query(`INSERT INTO outstanding_token (jti, token, expires_at) SELECT 'lanes-' || g, 't', $1::timestamptz - g * interval '1 minute' FROM generate_series(1, 60) g`, [cutoff]),
    },
    // Circuit breakers: a row cap shared by two lanes across a continue-as-new (ends partial), a time limit, the fraction guard.
    {
      name: 'row-cap',
      params: { asOf: cutoff.toISOString(), batchSize: 7, parallel: 2, batchesPerRun: 3, maxRows: 40 },
      before: () => db.pool.query(`INSERT INTO outstanding_token (jti, token, expires_at) SELECT 'cap-' || g, 't', $1::timestamptz - g * interval '1 minute' FROM generate_series(1, 60) g`, [cutoff]),
    },
    { name: 'time-limit', params: { asOf: cutoff.toISOString(), batchSize: 7, maxDurationSeconds: 600 } },
    {
      name: 'fraction-guard',
      job: 'purge-stale-unverified-accounts',
      params: { batchSize: 5 },
      before: () => db.pool.query(`INSERT INTO account (email, is_verified, created_at) SELECT 'r' || g || '@example.com', g > 4, now() - interval '200 days' FROM generate_series(1, 10) g`),
    },
  ];
  for (const r of runs) {
    await r.before?.();
    const handle = await startHandle(client, { job: r.job ?? 'purge-expired-tokens', params: r.params, taskQueue: worker.taskQueue, trigger: 'test' });
    await handle.result();
    // Every run of the chain, not just the last: follow continue-as-new from the first run.
    for (let runId: string | undefined = handle.firstExecutionRunId; runId; ) {
      const wf: { workflowId: string; runId: string } = { workflowId: handle.workflowId, runId };
      const history: Awaited<ReturnType<typeof handle.fetchHistory>> = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
      await Worker.runReplayHistory(replayOptions(), history, `${r.name}-${wf.runId}`);
      if (process.env.RECORD_HISTORIES) {
        // Recorded the way an operator would: `temporal workflow show --output json`.
        const json = execFileSync(inject('temporalCliPath'), ['workflow', 'show', '-w', wf.workflowId, '-r', wf.runId, '--address', inject('temporalAddress'), '--output', 'json']);
        await writeFile(join(FIXTURES, `${r.name}-${wf.runId}.json`), json);
      }
    }
  }
});

it('detects a workflow that no longer matches its history', async () => {
  // Guard against a replay test that cannot fail: a history whose first activity differs from what the
  // code schedules (as after reordering or renaming activities) must be rejected as nondeterministic.
  const files = (await readdir(FIXTURES)).filter((f) => f.endsWith('.json'));
  const json = JSON.parse(await readFile(join(FIXTURES, files[0]!), 'utf8'));
  const scheduled = json.events.find((e: Record<string, any>) => e.activityTaskScheduledEventAttributes);
  scheduled.activityTaskScheduledEventAttributes.activityType.name = 'renamedActivity';
  await expect(Worker.runReplayHistory(replayOptions(), json, 'tampered')).rejects.toThrow(/[Nn]ondetermin/);
});
