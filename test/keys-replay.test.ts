import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { RotationResult } from '../src/keys/types.js';
import { start, startHandle } from './support/start.js';

import { connectTestClient, createTestDatabase, startTestWorker, uniqueName, type TestDatabase, type TestWorker } from './support/env.js';
import { rotate, testKeys } from './support/keys.js';

// Fixtures recorded here (RECORD_HISTORIES=1) join test/fixtures/histories, which replay.test.ts replays
// against the current workflow code on every run.
const FIXTURES = join(import.meta.dirname, 'fixtures', 'histories');
let client: Client;
let db: TestDatabase;
let worker: TestWorker;

beforeAll(async () => {
  client = await connectTestClient();
  db = await createTestDatabase();
  worker = await startTestWorker(db, { keys: testKeys() });
});
afterAll(async () => {
  await worker.stop();
  await client.connection.close();
  await db.close();
});

it('replays freshly recorded histories of the key, scope, OIDC and report workflows', async () => {
  const runs: Array<[string, WorkflowHandle]> = [];
  const rotation = async (name: string, params: Record<string, unknown>) => {
    const { handle } = await rotate(client, worker.taskQueue, params);
    runs.push([name, handle]);
    return (await handle.result()) as RotationResult;
  };
  await rotation('keys-rotation-bootstrap', {});
  await rotation('keys-rotation-not-due', {});
  const forced = await rotation('keys-rotation-forced', { force: true });
  const retirement = client.workflow.getHandle(forced.retirementWorkflowId!);
  await retirement.result();
  runs.push(['keys-retirement', retirement]);
  for (const job of ['scopes', 'keypair-cleanup', 'refresh-jwks']) {
    const { handle } = await start(client, { job, taskQueue: worker.taskQueue, trigger: 'test', workflowId: uniqueName(job) });
    await handle.result();
    runs.push([`keys-job-${job}`, handle]);
  }
  const report = await startHandle(client, { job: 'health-report',  taskQueue: worker.taskQueue, trigger: 'test', workflowId: uniqueName('report') });
  await report.result();
  runs.push(['keys-health-report', report]);

  for (const [name, handle] of runs) {
    const history = await handle.fetchHistory();
    expect(history.events?.length, name).toBeGreaterThan(3);
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, name);
    if (process.env.RECORD_HISTORIES) {
      const desc = await handle.describe();
      const json = execFileSync(inject('temporalCliPath'), ['workflow', 'show', '-w', handle.workflowId, '-r', desc.runId, '--address', inject('temporalAddress'), '--output', 'json']);
      await writeFile(join(FIXTURES, `${name}-${desc.runId}.json`), json);
    }
  }
});
