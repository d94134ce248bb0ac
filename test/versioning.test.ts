import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { startHandle } from './support/start.js';
import { connectTestClient, createTestDatabase, seedTokens, startTestWorker, until, type TestDatabase, type TestWorker } from './support/env.js';

/**
 * The versioning ledger's queries (docs/versioning.md) as an operator runs them: the server takes them, and they do
 * not list a live purge running now, while the patch marker it records does list it (so the check is not empty).
 */

const LEDGER = join(import.meta.dirname, '..', 'docs', 'versioning.md');
let client: Client;
let db: TestDatabase;
let worker: TestWorker;

beforeAll(async () => {
  client = await connectTestClient();
  db = await createTestDatabase();
  // Slow batches keep the purge open while the queries run.
  worker = await startTestWorker(db, { faults: { afterBatchCommit: () => new Promise<void>((r) => setTimeout(r, 1_000)) } });
});
afterAll(async () => {
  await worker.stop();
  await client.connection.close();
  await db.close();
});

async function ids(query: string): Promise<string[]> {
  const out: string[] = [];
  for await (const w of client.workflow.list({ query })) out.push(w.workflowId);
  return out;
}

it("lists no open execution of a retired form, and the live run's patch marker is what it looks for", async () => {
  const queries = [...(await readFile(LEDGER, 'utf8')).matchAll(/temporal workflow list --query "([^"]+)"/g)].map((m) => m[1]!);
  expect(queries).toHaveLength(2);

  await seedTokens(db, Array.from({ length: 20 }, () => ({ expiresAt: new Date(Date.now() - 60_000) })));
  const deployedAt = new Date(Date.now() - 60_000).toISOString();
  const handle = await startHandle(client, { job: 'purge-expired-tokens', params: { batchSize: 1 }, taskQueue: worker.taskQueue, trigger: 'test' });
  const mine = (query: string) => `${query} AND TaskQueue = '${worker.taskQueue}'`;
  await until(async () => (await ids(mine("ExecutionStatus = 'Running' AND TemporalChangeVersion = 'planned-walks'"))).includes(handle.workflowId), 'the live purge in visibility with its patch marker');

  for (const query of queries) expect(await ids(mine(query.replace('DEPLOYED_AT', deployedAt))), query).toEqual([]);
  // Started before the deployment, the same run would be listed: the start-time half of the queries works too.
  const later = new Date(Date.now() + 60_000).toISOString();
  for (const query of queries) expect(await ids(mine(query.replace('DEPLOYED_AT', later))), query).toEqual([handle.workflowId]);
  await handle.cancel();
}, 120_000);
