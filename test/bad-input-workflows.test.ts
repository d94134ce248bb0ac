import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { connectTestClient, createTestDatabase, scalar, seedBulk, startTestWorker, uniqueName, type TestDatabase, type TestWorker } from './support/env.js';
import { testKeys } from './support/keys.js';
import { snapshotTables } from './support/snapshot.js';

/**
 * Workflow inputs sent straight to the server, as any client of the namespace could: every workflow type, every
 * kind of malformed input, and forged purge states. Each must fail the run at once (not sit retrying a
 * TypeError), naming the field, and leave every table as it was.
 */

const run = promisify(execFile);
let client: Client;
let db: TestDatabase;
let worker: TestWorker;
const JOB = 'purge-expired-tokens';
const HOUR = 3_600_000;

beforeAll(async () => {
  client = await connectTestClient();
  db = await createTestDatabase();
  worker = await startTestWorker(db, { keys: testKeys() });
  const cutoff = new Date(Date.now() - HOUR);
  await seedBulk(db, { expired: 50, valid: 50, cutoff, blacklistEvery: 5 });
  await db.pool.query(`INSERT INTO account (email, is_verified, created_at) SELECT 'u' || g || '@example.com', true, now() - interval '400 days' FROM generate_series(1, 10) g`);
});
afterAll(async () => {
  await worker.stop();
  await client.connection.close();
  await db.close();
});

function messageOf(err: unknown): string {
  const e = err as { cause?: { message?: string; cause?: { message?: string } } };
  return String(e.cause?.cause?.message ?? e.cause?.message ?? err);
}

async function refused(workflowType: string, args: unknown[], opts: { workflowId?: string } = {}): Promise<string> {
  const handle = await client.workflow.start(workflowType, { taskQueue: worker.taskQueue, workflowId: opts.workflowId ?? uniqueName(`bad-${workflowType}`), args });
  // A run stuck on a TypeError retries its workflow task forever: the failure must come at once.
  const err = await Promise.race([handle.result().then(() => new Error('the run completed'), (e: unknown) => e), new Promise((r) => setTimeout(() => r(new Error('no failure within 20 s')), 20_000))]);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  return messageOf(err);
}

const future = new Date(Date.now() + 4.5 * HOUR).toISOString();
const legacyRule = (table: string, extra: Record<string, unknown> = {}) => ({
  resolved: {
    job: JOB,
    steps: [{ table, primaryKey: 'id', timestampColumn: table === 'account' ? 'created_at' : table === 'maintenance_run' ? 'started_at' : 'expires_at', retentionMs: 0, children: [], ...extra }],
    params: { batchSize: 1000, dryRun: false, batchTimeoutSeconds: 10, batchesPerRun: 500 },
  },
  trigger: 'schedule:maint-purge-expired-tokens',
  cutoff: future,
  cutoffs: [future],
  runTime: future,
  step: 0,
  startedAtMs: Date.now(),
  nextBatchNo: 0,
  deleted: 0,
  children: {},
  matched: 1,
});
const v2State = { v: 2, startedAtMs: Date.now(), nextBatchNo: 0, matched: 1, deleted: 0, updated: 0, children: {}, step: 0, plans: [], lanes: [], leftLocked: 0 };

// [workflow type, args, the field the error must name]
const CASES: Array<[string, unknown[], string]> = [
  ['batchedPurge', [], 'input: batchedPurge needs an input object'],
  ['batchedPurge', [null], 'input: null is not allowed'],
  ['batchedPurge', [[]], 'input: an array is not allowed'],
  ['batchedPurge', [JOB], 'input: the string'],
  ['batchedPurge', [1], 'input: number 1 is not allowed'],
  ['batchedPurge', [{}], 'input.job: is required'],
  ['batchedPurge', [{ job: null }], 'input.job: is required'],
  ['batchedPurge', [{ job: 5 }], 'input.job: number 5 is not allowed'],
  ['batchedPurge', [{ job: 'x'.repeat(300) }], 'input.job: is 300 characters long; at most 100'],
  ['batchedPurge', [{ job: 'Purge Expired' }], 'input.job: the string "Purge Expired" is not allowed; expected a job name'],
  ['batchedPurge', [{ job: 'drop-everything' }], 'job: unknown job "drop-everything"; allowed: purge-expired-tokens'],
  ['batchedPurge', [{ job: JOB, param: { dryRun: true } }], 'input.param: unknown field; allowed: job, params, trigger, carried'],
  ['batchedPurge', [{ job: JOB, params: [] }], 'input.params: an array is not allowed; expected an object'],
  ['batchedPurge', [{ job: JOB, params: 'dryRun' }], 'input.params: the string "dryRun" is not allowed'],
  ['batchedPurge', [{ job: JOB, params: { dryRun: 'true' } }], 'dryRun: "true" is not allowed; expected true or false'],
  ['batchedPurge', [{ job: JOB, params: { batchSize: -1 } }], 'batchSize: -1 is not allowed; expected an integer from 1 to 100000'],
  ['batchedPurge', [{ job: JOB, params: { batchSize: 1.5 } }], 'batchSize: 1.5 is not allowed'],
  ['batchedPurge', [{ job: JOB, params: { parallel: 0 } }], 'parallel: 0 is not allowed; expected an integer from 1 to 16'],
  ['batchedPurge', [{ job: JOB, params: { parallel: 99 } }], 'parallel: 99 is not allowed'],
  ['batchedPurge', [{ job: JOB, params: { asOf: 'March 7' } }], 'asOf: "March 7" is not an ISO 8601 timestamp'],
  ['batchedPurge', [{ job: JOB, params: { asOf: '2026-03-07T10:00:00' } }], 'asOf: "2026-03-07T10:00:00" has no time zone; add Z for UTC'],
  ['batchedPurge', [{ job: JOB, params: { asOf: future } }], `asOf: ${future} is in the future`],
  ['batchedPurge', [{ job: JOB, params: { days: 5 } }], 'days: job purge-expired-tokens takes no --days'],
  ['batchedPurge', [{ job: JOB, params: { types: ['password_reset'] } }], 'types: job purge-expired-tokens takes no --types'],
  ['batchedPurge', [{ job: JOB, params: { batchesPerRun: 0 } }], 'batchesPerRun: 0 is not allowed'],
  ['batchedPurge', [{ job: JOB, params: { targetBatchMs: 99999 } }], 'targetBatchMs: 99999 is not allowed'],
  ['batchedPurge', [{ job: JOB, params: { rule: { table: 'account' } } }], 'params.rule: unknown parameter'],
  ['batchedPurge', [{ job: JOB, trigger: 'x'.repeat(256) }], 'input.trigger: is 256 characters long; at most 255'],
  ['batchedPurge', [{ job: JOB, trigger: 7 }], 'input.trigger: number 7 is not allowed'],
  ['batchedPurge', [{ job: JOB, trigger: 'a\nb' }], 'input.trigger: contains control characters'],
  ['batchedPurge', [{ job: JOB, carried: 'resume' }], 'input.carried: the string "resume" is not allowed'],
  ['batchedPurge', [{ job: JOB, carried: { ...v2State, lanes: 'all' } }], 'input.carried.lanes: expected a list'],
  ['keyRotation', [], 'input: keyRotation needs an input object'],
  ['keyRotation', [1], 'input: number 1 is not allowed; keyRotation takes an object { params?, trigger? }'],
  ['keyRotation', [null], 'input: null is not allowed'],
  ['keyRotation', ['rotate'], 'input: the string "rotate" is not allowed'],
  ['keyRotation', [{ force: true }], 'input.force: unknown field; allowed: params, trigger'],
  ['keyRotation', [{ params: [] }], 'input.params: an array is not allowed'],
  ['keyRotation', [{ params: { alg: 'HS256' } }], 'alg: "HS256" is not allowed; expected one of RS256, ES256, EdDSA'],
  ['keyRotation', [{ params: { force: 'yes' } }], 'force: "yes" is not allowed; expected true or false'],
  ['keyRotation', [{ params: { maxActiveKeys: 1 } }], 'maxActiveKeys: 1 is not allowed; expected an integer from 2 to 20'],
  ['keyRotation', [{ params: { kek: 'x' } }], 'params.kek: unknown parameter'],
  ['keyRotation', [{ trigger: 'x'.repeat(300) }], 'input.trigger: is 300 characters long'],
  ['signingKeyRetirement', [], 'input: signingKeyRetirement needs an input object'],
  ['signingKeyRetirement', [null], 'input: null is not allowed'],
  ['signingKeyRetirement', [{}], 'input.kid: is required'],
  ['signingKeyRetirement', [{ kid: 'k1' }], 'input.retiredAt: is required'],
  ['signingKeyRetirement', [{ kid: 'k1', retiredAt: 'yesterday', tokensExpireBy: '2026-01-01T00:00:00Z', retentionSeconds: 0, stepTimeoutSeconds: 3 }], 'input.retiredAt: the string "yesterday" is not allowed; expected an ISO 8601 timestamp'],
  ['signingKeyRetirement', [{ kid: '../etc', retiredAt: '2026-01-01T00:00:00Z', tokensExpireBy: '2026-01-01T00:00:00Z', retentionSeconds: 0, stepTimeoutSeconds: 3 }], 'input.kid: the string "../etc" is not allowed'],
  ['signingKeyRetirement', [{ kid: 'k1', retiredAt: '2026-01-01T00:00:00Z', tokensExpireBy: '2026-01-01T00:00:00Z', retentionSeconds: -1, stepTimeoutSeconds: 3 }], 'input.retentionSeconds: number -1 is not allowed'],
  ['keypairCleanup', [], 'input: keypairCleanup needs an input object'],
  ['keypairCleanup', [[1]], 'input: an array is not allowed'],
  ['keypairCleanup', [{ params: { dryRun: 1 } }], 'dryRun: 1 is not allowed; expected true or false'],
  ['keypairCleanup', [{ params: { retentionSeconds: 'x' } }], 'retentionSeconds: "x" is not allowed'],
  ['keypairCleanup', [{ dryRun: true }], 'input.dryRun: unknown field; allowed: params, trigger'],
  ['ensureScopes', [[]], 'input: an array is not allowed'],
  ['ensureScopes', [{ params: { dryRun: 'no' } }], 'dryRun: "no" is not allowed'],
  ['ensureScopes', [{ params: { scopes: ['root'] } }], 'params.scopes: unknown parameter; allowed: dryRun'],
  ['refreshOidcJwks', ['google'], 'input: the string "google" is not allowed'],
  ['refreshOidcJwks', [{ params: { providers: 'google' } }], 'providers: must be a list of provider names'],
  ['refreshOidcJwks', [{ params: { timeoutMs: 5 } }], 'timeoutMs: 5 is not allowed; expected an integer from 100 to 120000'],
  ['refreshOidcJwks', [{ params: { url: 'http://127.0.0.2/' } }], 'params.url: unknown parameter'],
  ['healthReport', [1], 'input: number 1 is not allowed'],
  ['healthReport', [{ params: {} }], 'input.params: unknown field; allowed: trigger'],
  ['healthReport', [{ trigger: '' }], 'input.trigger: the string "" is not allowed; expected a non-empty string'],
];

describe('malformed workflow inputs fail at once, naming the field, and change nothing', () => {
  it(`${CASES.length} inputs across every workflow type`, async () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
    // Nothing changes but the audit, which records each refused run, failed, with its reason.
    const before = await snapshotTables(db, ['maintenance_run']);
    const audited = await db.pool.query(`SELECT * FROM maintenance_run ORDER BY id`);
    for (const [type, args, expected] of CASES) {
      const message = await refused(type, args);
      expect(message, `${type} ${JSON.stringify(args).slice(0, 120)}`).toContain(expected);
    }
    const workflowId = 'w'.repeat(300);
    expect(await refused('batchedPurge', [{ job: JOB, params: { dryRun: true } }], { workflowId })).toContain('workflowId: is 300 characters long; at most 255');
    expect(await snapshotTables(db, ['maintenance_run'])).toEqual(before);
    const { rows } = await db.pool.query(`SELECT * FROM maintenance_run WHERE id <> ALL($1::text[]) ORDER BY id`, [audited.rows.map((r) => r.id)]);
    expect(rows).toHaveLength(CASES.length + 1);
    for (const r of rows) expect(r).toMatchObject({ status: 'failed', deleted: '0', batches: 0, error: expect.stringMatching(/\S/) });
    expect((await db.pool.query(`SELECT * FROM maintenance_run WHERE id = ANY($1::text[]) ORDER BY id`, [audited.rows.map((r) => r.id)])).rows).toEqual(audited.rows);
  }, 600_000);
});

describe('forged purge states delete nothing and are recorded as refused', () => {
  const FORGED: Array<[string, Record<string, unknown>]> = [
    ['the job\'s own rule with a cutoff 4.5 hours ahead', legacyRule('outstanding_token', { children: [{ table: 'blacklisted_token', foreignKey: 'token_id' }] })],
    ['a rule on account with no conditions', legacyRule('account')],
    ['an update rule zeroing audit counts', legacyRule('maintenance_run', { action: { type: 'update', set: { deleted: 0 } } })],
    ['a state of the current form', v2State],
  ];

  it.each(FORGED)('%s, sent with our client', async (_name, carried) => {
    const before = await snapshotTables(db, ['maintenance_run']);
    const audit = await db.pool.query(`SELECT id, status, deleted FROM maintenance_run WHERE status <> 'failed' ORDER BY id`);
    const workflowId = uniqueName('forged');
    const message = await refused('batchedPurge', [{ job: JOB, trigger: 'schedule:maint-purge-expired-tokens', carried }], { workflowId });
    expect(message).toMatch(/input\.carried: a purge state was sent with a new run/);
    expect(await snapshotTables(db, ['maintenance_run'])).toEqual(before);
    expect((await db.pool.query(`SELECT id, status, deleted FROM maintenance_run WHERE status <> 'failed' ORDER BY id`)).rows).toEqual(audit.rows);
    const { rows } = await db.pool.query('SELECT status, deleted, error FROM maintenance_run WHERE workflow_id = $1', [workflowId]);
    expect(rows).toEqual([{ status: 'failed', deleted: '0', error: expect.stringMatching(/input\.carried: a purge state was sent with a new run/) }]);
  });

  it('the same forged state sent with the temporal CLI deletes nothing', async () => {
    const before = await snapshotTables(db, ['maintenance_run']);
    const valid = await scalar(db, 'SELECT count(*) FROM outstanding_token WHERE expires_at > now()');
    const workflowId = uniqueName('forged-cli');
    const input = JSON.stringify({ job: JOB, trigger: 'schedule:maint-purge-expired-tokens', carried: legacyRule('outstanding_token') });
    await run(inject('temporalCliPath'), ['workflow', 'start', '--address', inject('temporalAddress'), '--task-queue', worker.taskQueue, '--type', 'batchedPurge', '--workflow-id', workflowId, '--input', input]);
    const err = await client.workflow.getHandle(workflowId).result().catch((e) => e);
    expect(messageOf(err)).toMatch(/input\.carried/);
    expect(await scalar(db, 'SELECT count(*) FROM outstanding_token WHERE expires_at > now()')).toBe(valid);
    expect(await snapshotTables(db, ['maintenance_run'])).toEqual(before);
  });
});
