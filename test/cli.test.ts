import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Client } from '@temporalio/client';
import { connectTestClient, createTestDatabase, scalar, seedBulk, startTestWorker, type TestDatabase, type TestWorker, workflowsOnQueue } from './support/env.js';
import { maint } from './support/cli.js';

let client: Client;
let db: TestDatabase;
let worker: TestWorker;
let env: Record<string, string>;

beforeAll(async () => {
  client = await connectTestClient();
  db = await createTestDatabase();
  worker = await startTestWorker(db);
  env = { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: worker.taskQueue, DATABASE_URL: db.url };
});
afterAll(async () => {
  await worker.stop();
  await client.connection.close();
  await db.close();
});

const onQueue = () => workflowsOnQueue(client, worker.taskQueue);

describe('maint CLI', () => {
  it.each([
    [['run', 'purge-everything'], /job: unknown job "purge-everything"; allowed: purge-expired-tokens/],
    [['run', 'purge-expired-tokens', '--batch-size', '0'], /--batch-size: "0" is not allowed; expected an integer from 1 to 100000/],
    [['run', 'purge-expired-tokens', '--batch-size', '5000000'], /--batch-size: .*from 1 to 100000/],
    [['run', 'purge-expired-tokens', '--batch-size', 'ten'], /--batch-size: "ten" is not allowed/],
    [['run', 'purge-expired-tokens', '--address', 'not an address'], /--address: "not an address" is not an address; expected host:port/],
    [['run', 'purge-expired-tokens', '--as-of', 'tomorrow'], /asOf: "tomorrow" is not an ISO 8601 timestamp/],
    [['runs', '--limit', '0'], /--limit: "0" is not allowed; expected an integer from 1 to 1000/],
    [['run', 'purge-verification-tokens', '--types', 'email_verification,sms'], /types: unknown type "sms"; allowed: email_verification, password_reset/],
    [['run', 'purge-expired-tokens', '--days', '5'], /--days: not accepted by purge-expired-tokens; accepted by: revoke-then-delete-access-tokens, purge-stale-unverified-accounts/],
    [['run', 'purge-stale-unverified-accounts', '--days', '0'], /--days: "0" is not allowed; expected an integer from 1 to 3650/],
  ])('rejects %j with a clear error and starts nothing', async (args, message) => {
    const before = await onQueue();
    const r = await maint(args, env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(await onQueue()).toBe(before);
  });

  it('rejects an unknown flag by name', async () => {
    const r = await maint(['run', 'purge-expired-tokens', '--batchsize', '5'], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("unknown option '--batchsize'");
  });

  it('rejects a malformed TEMPORAL_ADDRESS by its variable name', async () => {
    const r = await maint(['run', 'purge-expired-tokens'], { ...env, TEMPORAL_ADDRESS: 'localhost' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/TEMPORAL_ADDRESS: "localhost" is not an address/);
  });

  it('runs a purge with --wait, prints the result, and lists it in `maint runs`', async () => {
    const cutoff = new Date(Date.now() - 60_000);
    await seedBulk(db, { expired: 250, valid: 40, cutoff, blacklistEvery: 5 });
    const dry = await maint(['run', 'purge-expired-tokens', '--dry-run', '--wait', '--json'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, matched: 250, deleted: 0 });
    expect(await scalar(db, 'SELECT count(*) FROM outstanding_token')).toBe(290);

    const real = await maint(['run', 'purge-expired-tokens', '--batch-size', '100', '--wait'], env);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toMatch(/status\s+completed/);
    expect(real.stdout).toMatch(/deleted\s+250/);
    expect(real.stdout).toMatch(/batches\s+3/); // 100, 100, 50: no row was locked, so no second pass
    expect(await scalar(db, 'SELECT count(*) FROM outstanding_token')).toBe(40);

    const runs = await maint(['runs', '--json'], env);
    const rows = JSON.parse(runs.stdout);
    expect(rows.map((r: { dry_run: boolean; deleted: string; trigger: string }) => [r.dry_run, r.deleted, r.trigger])).toEqual([
      [false, '250', 'cli'],
      [true, '0', 'cli'],
    ]);
    const table = await maint(['runs'], env);
    expect(table.stdout).toMatch(/purge-expired-tokens\s+completed\s+cli\s+250\s+250/);
  });

  it('starts without waiting and returns the workflow id', async () => {
    const r = await maint(['run', 'purge-expired-tokens', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const { workflowId } = JSON.parse(r.stdout);
    expect(workflowId).toMatch(/^maint-purge-expired-tokens-/);
    await client.workflow.getHandle(workflowId).result();
  });

  it('lists the jobs', async () => {
    const r = await maint(['jobs']);
    expect(r.stdout).toContain('purge-expired-tokens\n');
    expect(r.stdout).toContain('step 1: delete outstanding_token where expires_at < now (+ blacklisted_token)');
    expect(r.stdout).toMatch(/purge-stale-unverified-accounts\n.*\n  step 1: delete account where created_at < now - 90d/);
    expect(r.stdout).toContain('--days (90: accounts created longer ago than this and still unverified)');
  });
});

describe('maint seed', () => {
  it('inserts demo tokens with the asked shares and nothing else', async () => {
    const before = await scalar(db, 'SELECT count(*) FROM outstanding_token');
    const r = await maint(['seed', '--tokens', '1000', '--expired', '70', '--blacklisted', '100', '--database-url', db.url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/seeded 1000 tokens \(700 expired, 700 of those blacklisted\)/);
    expect(r.stdout).not.toContain(new URL(db.url).password || '\u0000');
    expect(await scalar(db, 'SELECT count(*) FROM outstanding_token')).toBe(before + 1000);
  });

  it('refuses without a local environment or an explicit database', async () => {
    const r = await maint(['seed']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--database-url: no local environment found/);
  });
});
