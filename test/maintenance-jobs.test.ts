import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import type { HealthReport } from '../src/health/types.js';
import { generateSealedKeypair, signWithSealedKey } from '../src/keys/keypair.js';
import type { SweepResult } from '../src/keys/types.js';
import type { ScopesResult } from '../src/scopes.js';
import { start, startHandle } from './support/start.js';

import { connectTestClient, createTestDatabase, seedTokens, startTestWorker, uniqueName, type TestDatabase, type TestWorker } from './support/env.js';
import { keyRows, rotateAndWait, seedActiveKey, testKeys } from './support/keys.js';

let client: Client;
beforeAll(async () => {
  client = await connectTestClient();
});
afterAll(async () => {
  await client.connection.close();
});

async function withEnv(fn: (db: TestDatabase, worker: TestWorker, keys: ReturnType<typeof testKeys>) => Promise<void>): Promise<void> {
  const keys = testKeys({ retentionSeconds: 3 * 86_400, rotateAfterSeconds: 30 * 86_400 });
  const db = await createTestDatabase();
  const worker = await startTestWorker(db, { keys });
  try {
    await fn(db, worker, keys);
  } finally {
    await worker.stop();
    await db.close();
  }
}

async function report(worker: TestWorker): Promise<HealthReport> {
  const handle = await startHandle(client, { job: 'health-report',  taskQueue: worker.taskQueue, trigger: 'test' });
  return (await handle.result()) as HealthReport;
}

async function run<T>(worker: TestWorker, job: string, params: Record<string, unknown> = {}): Promise<T> {
  const { handle } = await start(client, { job, params, taskQueue: worker.taskQueue, trigger: 'test', workflowId: uniqueName(job) });
  return (await handle.result()) as T;
}

describe('default scopes', () => {
  it('are created once, whatever runs concurrently, and an operator-edited description is kept', async () => {
    await withEnv(async (db, worker) => {
      const dry = await run<ScopesResult>(worker, 'scopes', { dryRun: true });
      expect(dry).toEqual({ dryRun: true, created: ['base', 'image_upload', 'event_management', 'admin'], existing: [] });
      expect((await db.pool.query('SELECT count(*)::int AS n FROM scope')).rows[0].n).toBe(0);

      await db.pool.query(`INSERT INTO scope (name, description) VALUES ('admin', 'edited by an operator')`);
      const [a, b] = await Promise.all([run<ScopesResult>(worker, 'scopes'), run<ScopesResult>(worker, 'scopes')]);
      expect([...a.created, ...b.created].sort()).toEqual(['base', 'event_management', 'image_upload']);
      const again = await run<ScopesResult>(worker, 'scopes');
      expect(again).toEqual({ dryRun: false, created: [], existing: ['base', 'image_upload', 'event_management', 'admin'] });
      const { rows } = await db.pool.query('SELECT name, description FROM scope ORDER BY name');
      expect(rows).toEqual([
        { name: 'admin', description: 'edited by an operator' },
        { name: 'base', description: 'Basic access to authenticated endpoints' },
        { name: 'event_management', description: 'Permission to create and manage events' },
        { name: 'image_upload', description: 'Permission to upload images and media files' },
      ]);
    });
  });
});

describe('keypair cleanup', () => {
  it('withdraws retired keys whose tokens expired, deletes inactive ones past the retention, keeps the rest and says why', async () => {
    await withEnv(async (db, worker, keys) => {
      const active = await seedActiveKey(db, keys.kek);
      const insert = async (name: string, state: string, retiredAgo: string, expiresIn: string) => {
        const pair = await generateSealedKeypair('ES256', keys.kek);
        await db.pool.query(
          `INSERT INTO signing_key (kid, alg, state, public_jwk, private_key_enc, created_at, activated_at, retired_at, tokens_expire_by, withdrawn_at)
           VALUES ($1, 'ES256', $2, $3, $4, now() - interval '400 days', now() - interval '400 days', now() - $5::interval, now() + $6::interval,
                   CASE WHEN $2 = 'inactive' THEN now() - $5::interval END)`,
          [pair.kid, state, pair.publicJwk, pair.sealed, retiredAgo, expiresIn],
        );
        return { name, kid: pair.kid, pair };
      };
      const expired = await insert('expired', 'retired', '2 days', '-1 day');
      const valid = await insert('valid', 'retired', '1 minute', '1 day');
      const referenced = await insert('referenced', 'retired', '2 days', '-1 day');
      const old = await insert('old', 'inactive', '200 days', '-199 days');
      const recent = await insert('recent', 'inactive', '1 day', '-23 hours');
      // An unexpired refresh token signed with `referenced` pins it, whatever the retire timer says.
      const token = await signWithSealedKey({ kid: referenced.kid, alg: 'ES256', sealed: referenced.pair.sealed }, keys.kek, {}, 3600);
      await db.pool.query(`INSERT INTO outstanding_token (jti, token, created_at, expires_at) VALUES ('r1', $1, now(), now() + interval '1 hour')`, [token]);
      const before = await keyRows(db);

      const dry = await run<SweepResult>(worker, 'keypair-cleanup', { dryRun: true });
      expect(await keyRows(db)).toEqual(before);
      const real = await run<SweepResult>(worker, 'keypair-cleanup');
      expect({ ...real, dryRun: true }).toEqual(dry);
      expect(real.withdrawn).toEqual([expired.kid]);
      expect(real.deleted).toEqual([old.kid]);
      const kept = Object.fromEntries(real.kept.map((k) => [k.kid, k.reason]));
      expect(kept[valid.kid]).toMatch(/^in the JWKS until /);
      expect(kept[referenced.kid]).toMatch(/^1 unexpired refresh tokens were signed with it/);
      expect(kept[recent.kid]).toMatch(/^retained until /);
      expect(kept[expired.kid]).toMatch(/^retained until /); // withdrawn now, deleted after its retention

      const states = Object.fromEntries((await keyRows(db)).map((r) => [r.kid, [r.state, r.has_private]]));
      expect(states).toEqual({
        [active]: ['active', true],
        [expired.kid]: ['inactive', true],
        [valid.kid]: ['retired', true],
        [referenced.kid]: ['retired', true],
        [old.kid]: ['deleted', false],
        [recent.kid]: ['inactive', true],
      });
      // Idempotent: a second run finds nothing more to do.
      const again = await run<SweepResult>(worker, 'keypair-cleanup');
      expect([again.withdrawn, again.deleted]).toEqual([[], []]);
      const { rows } = await db.pool.query(`SELECT dry_run, deleted, children_deleted FROM maintenance_run WHERE job = 'keypair-cleanup' ORDER BY started_at`);
      expect(rows).toEqual([
        { dry_run: true, deleted: '0', children_deleted: { withdrawn: 1, deleted: 1, kept: 4 } },
        { dry_run: false, deleted: '1', children_deleted: { withdrawn: 1, deleted: 1, kept: 4 } },
        { dry_run: false, deleted: '0', children_deleted: { withdrawn: 0, deleted: 0, kept: 4 } },
      ]);
    });
  });
});

describe('health report', () => {
  it('reports token and key statistics and the last 24 hours, with reasons and recommendations', async () => {
    await withEnv(async (db, worker) => {
      const day = 86_400_000;
      await seedTokens(db, [
        { expiresAt: new Date(Date.now() - day) },
        { expiresAt: new Date(Date.now() - 2 * day), blacklisted: true },
        { expiresAt: new Date(Date.now() - 3 * day) },
        { expiresAt: new Date(Date.now() + day) },
        { expiresAt: new Date(Date.now() + day), blacklisted: true },
      ]);
      await db.pool.query(
        `INSERT INTO maintenance_run (id, workflow_id, job, parameters, trigger, dry_run, status, started_at) VALUES ('x', 'w', 'purge-expired-tokens', '{}', 'test', false, 'failed', now())`,
      );
      const bad = await report(worker);
      expect(bad.status).toBe('critical');
      expect(bad.stats.tokens).toEqual({ total: 5, active: 1, expired: 3, revoked: 2 });
      expect(bad.stats.keys).toMatchObject({ active: 0, retired: 0, activeKid: null });
      // seedTokens creates each token a day before it expires: the two still valid were created within 24 h.
      expect(bad.stats.last24h).toMatchObject({ tokensCreated: 2, tokensRevoked: 2, keysActivated: 0, runs: { failed: 1 }, failedJobs: ['purge-expired-tokens'] });
      expect(bad.reasons).toEqual([
        'critical: there is no signing key: no token can be issued',
        'warning: default scopes missing: base, image_upload, event_management, admin',
        'warning: 1 maintenance runs failed in the last 24 hours (purge-expired-tokens)',
        'warning: 3 of 5 tokens are expired',
      ]);
      expect(bad.recommendations).toEqual([
        'create one: maint keys rotate --wait',
        'create them: maint run scopes',
        'see what failed: maint runs',
        'purge them: maint run purge-expired-tokens',
      ]);

      await db.pool.query(`DELETE FROM maintenance_run; DELETE FROM blacklisted_token; DELETE FROM outstanding_token WHERE expires_at < now()`);
      await rotateAndWait(client, worker.taskQueue);
      await run<ScopesResult>(worker, 'scopes');
      const good = await report(worker);
      expect(good).toMatchObject({ status: 'ok', reasons: ['ok: signing key current, scopes present, no failed runs'], recommendations: [] });
      expect(good.stats.keys).toMatchObject({ active: 1, activeAlg: 'ES256' });
      expect(good.stats.last24h.keysActivated).toBe(1);
    });
  });
});
