import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Client } from '@temporalio/client';
import type { PurgeResult } from '../src/purge/types.js';
import { loadCatalogue } from '../src/settings/index.js';
import { startJob } from '../src/start-job.js';
import { maint } from './support/cli.js';
import { connectTestClient, createTestDatabase, scalar, seedTokens, startTestWorker, uniqueName, type TestDatabase, type TestWorker } from './support/env.js';

/**
 * The worker runs with the settings it was started with, read from the environment and the config file the way
 * `npm start` reads them: a lane limit of MAINT_MAX_PARALLEL, and a custom rule's own batch size, which the run
 * plans with (`maint jobs` shows the same number).
 */

let dir: string;
let configFile: string;
let client: Client;
let db: TestDatabase;
let worker: TestWorker;
let cliEnv: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'maint-settings-'));
  configFile = join(dir, 'maint.config.yaml');
  await writeFile(configFile, ['rules:', '  purge-audit-entries:', '    table: audit_entry', '    timestampColumn: created_at', '    retentionDays: 30', '    batchSize: 100', ''].join('\n'));
  client = await connectTestClient();
  db = await createTestDatabase();
  await db.pool.query(`CREATE TABLE audit_entry (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL)`);
  worker = await startTestWorker(db, { env: { MAINT_MAX_PARALLEL: '2', MAINT_CONFIG: configFile } });
  cliEnv = { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: worker.taskQueue, DATABASE_URL: db.url, MAINT_CONFIG: configFile };
});
afterAll(async () => {
  await worker?.stop();
  await client?.connection.close();
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('MAINT_MAX_PARALLEL', () => {
  it('=2 lets a purge use 2 lanes and refuses --parallel 3, naming the variable', async () => {
    await seedTokens(db, [{ expiresAt: new Date(Date.now() - 60_000) }, { expiresAt: new Date(Date.now() + 60_000) }]);
    const refused = await maint(['run', 'purge-expired-tokens', '--parallel', '3', '--wait'], cliEnv);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/parallel: 3 is not allowed on this worker; expected an integer from 1 to 2 \(MAINT_MAX_PARALLEL\)/);
    expect(await scalar(db, 'SELECT count(*) FROM outstanding_token')).toBe(2);

    const allowed = await maint(['run', 'purge-expired-tokens', '--parallel', '2', '--wait', '--json'], cliEnv);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject({ status: 'completed', deleted: 1 });
  });
});

describe("a custom rule's batchSize", () => {
  it('is the batch the workflow plans and runs with, as `maint jobs` says', async () => {
    await db.pool.query(
      `INSERT INTO audit_entry (created_at) SELECT now() - CASE WHEN g <= 350 THEN interval '40 days' ELSE interval '1 day' END FROM generate_series(1, 400) g`,
    );
    const jobs = await maint(['jobs'], cliEnv);
    expect(jobs.stdout).toMatch(/purge-audit-entries {2}\[custom rule\][\s\S]*--batch-size \(100\)/);

    const { handle } = await startJob(client, { job: 'purge-audit-entries', taskQueue: worker.taskQueue, trigger: 'test', workflowId: uniqueName('custom-batch') }, loadCatalogue({ MAINT_CONFIG: configFile }));
    const result = (await handle.result()) as PurgeResult;
    expect(result).toMatchObject({ status: 'completed', deleted: 350 });
    expect(result.plans?.[0]).toMatchObject({ chunk: 100, adaptive: false });
    // 100 rows a batch, never more: at least four batches for 350 rows.
    expect(result.batches).toBeGreaterThanOrEqual(4);
    const { rows } = await db.pool.query('SELECT max(deleted) AS most FROM purge_batch WHERE run_id = $1', [result.runId]);
    expect(Number(rows[0].most)).toBe(100);
    expect(await scalar(db, 'SELECT count(*) FROM audit_entry')).toBe(50);
    // The audit row records the parameters the run planned with.
    const { rows: audit } = await db.pool.query('SELECT parameters FROM maintenance_run WHERE id = $1', [result.runId]);
    expect(audit[0].parameters).toMatchObject({ batchSize: 100, targetBatchMs: 0 });
  });
});
