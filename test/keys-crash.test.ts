import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Client } from '@temporalio/client';
import type { KeyStep } from '../activities/faults.js';
import type { RetirementResult, RotationResult } from '../src/keys/types.js';
import { connectTestClient, createTestDatabase, startTestWorker, uniqueName, until, type TestDatabase } from './support/env.js';
import { keyRows, rotate, seedActiveKey, testKeys } from './support/keys.js';

let client: Client;
beforeAll(async () => {
  client = await connectTestClient();
});
afterAll(async () => {
  await client.connection.close();
});

/** A worker process that SIGKILLs itself right after `step` committed, before the activity can report it. */
async function spawnCrashingWorker(db: TestDatabase, taskQueue: string, keys: ReturnType<typeof testKeys>, step: KeyStep) {
  const child = spawn(process.execPath, ['bin/run.mjs', 'test/support/worker-process.ts'], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      DATABASE_URL: db.url,
      TASK_QUEUE: taskQueue,
      BUNDLE_PATH: inject('workflowBundlePath'),
      MAINT_KEK: keys.kek.toString('base64'),
      KEY_POLICY: JSON.stringify(keys.policy),
      CRASH_AFTER_KEY_STEP: step,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  await until(async () => out.includes('ready'), 'worker process ready', 60_000);
  return { child, output: () => out };
}

async function exited(child: ChildProcess): Promise<NodeJS.Signals | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.signalCode;
  const [, signal] = await once(child, 'exit');
  return signal as NodeJS.Signals | null;
}

/**
 * Kills the worker after `step`, starts a replacement, and checks the rotation and the old key's retirement
 * finish as if nothing happened: exactly one new key, which signs; the old key withdrawn and deleted once.
 */
async function crashAfter(step: KeyStep): Promise<void> {
  const db = await createTestDatabase();
  const keys = testKeys({ stepTimeoutSeconds: 2 });
  const taskQueue = uniqueName('tq-key-crash');
  try {
    const oldKid = await seedActiveKey(db, keys.kek);
    const crashing = await spawnCrashingWorker(db, taskQueue, keys, step);
    const { handle } = await rotate(client, taskQueue, { force: true });
    // The step committed and the process died before reporting it.
    expect(await exited(crashing.child)).toBe('SIGKILL');
    expect(crashing.output()).toContain(`crashing after ${step}`);

    const replacement = await startTestWorker(db, { keys, taskQueue });
    try {
      const result = (await handle.result()) as RotationResult;
      expect(result).toMatchObject({ status: 'rotated', previousKid: oldKid });
      const retired = (await client.workflow.getHandle(result.retirementWorkflowId!).result()) as RetirementResult;
      expect(retired.kid).toBe(oldKid);
      const rows = await keyRows(db);
      expect(rows.map((r) => [r.kid, r.state, r.has_private])).toEqual([
        [oldKid, 'deleted', false],
        [result.kid, 'active', true],
      ]);
      const { rows: runs } = await db.pool.query(`SELECT job, status FROM maintenance_run ORDER BY started_at`);
      expect(runs).toEqual([
        { job: 'key-rotation', status: 'completed' },
        { job: 'key-retirement', status: 'completed' },
      ]);
    } finally {
      await replacement.stop();
    }
  } finally {
    await db.close();
  }
}

/** At most three worker processes at a time: in parallel to keep the file short, not six at once on a small machine. */
let slots = 3;
const waiting: Array<() => void> = [];
async function limited(step: KeyStep): Promise<void> {
  while (slots === 0) await new Promise<void>((r) => waiting.push(r));
  slots -= 1;
  try {
    await crashAfter(step);
  } finally {
    slots += 1;
    waiting.shift()?.();
  }
}

describe.concurrent('a worker killed right after a lifecycle step committed', () => {
  it.each<KeyStep>(['generate', 'publish', 'test', 'activate', 'withdraw', 'delete'])(
    'after %s: a replacement worker resumes; no second rotation, no lost key',
    limited,
  );
});
