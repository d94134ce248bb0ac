import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { connectTestClient, createTestDatabase, startTestWorker, testLogger, uniqueName, type TestDatabase, type TestWorker } from './support/env.js';

/**
 * Workflows run on the worker's own thread (a second isolate cost 16 MB of RSS), with the deadlock timeout that
 * mode drops by default set back: a workflow task that never yields fails after 5 s, and the worker goes on.
 */

let client: Client;
let db: TestDatabase;
let worker: TestWorker;

beforeAll(async () => {
  client = await connectTestClient();
  db = await createTestDatabase();
  const { code } = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('./fixtures/workflows/never-yields.ts', import.meta.url)),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => testLogger.error(m) },
  });
  worker = await startTestWorker(db, { workflowBundle: { code } });
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await client?.connection.close();
  await db?.close();
});

describe("workflows on the worker's thread", () => {
  it('is how the worker is configured, with the deadlock timeout kept', () => {
    expect(worker.worker.options.debugMode).toBe(true);
    expect(worker.worker.options.isolateExecutionTimeoutMs).toBe(5_000);
  });

  it('fails a workflow task that never yields after 5 s, and the worker still runs the next workflow', async () => {
    const spinning = await client.workflow.start('neverYields', { taskQueue: worker.taskQueue, workflowId: uniqueName('never-yields') });
    let failure: string | undefined;
    const deadline = Date.now() + 30_000;
    while (!failure && Date.now() < deadline) {
      const { events } = await spinning.fetchHistory();
      failure = events?.find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes?.failure?.message ?? undefined;
      if (!failure) await new Promise((r) => setTimeout(r, 250));
    }
    // The SDK's own words in this mode (a worker thread would say "Potential deadlock detected").
    expect(failure).toMatch(/Script execution timed out after 5000ms/);
    await spinning.terminate('the test saw its deadlock');

    const answering = await client.workflow.start('answers', { taskQueue: worker.taskQueue, workflowId: uniqueName('answers') });
    expect(await answering.result()).toBe('answered');
  }, 60_000);
});
