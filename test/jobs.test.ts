import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { startHandle } from './support/start.js';

import type { PurgeResult } from '../src/purge/types.js';
import { connectTestClient, createTestDatabase, startTestWorker, type TestDatabase, type TestWorker } from './support/env.js';

// Boundary tests of every cleanup job: rows exactly at each cutoff, one millisecond either side, written in
// other time zones, and NULL timestamps. Each job must remove exactly the matching rows (and their
// dependents), its dry run must report the same count and change nothing, and a rerun must be a no-op.

const T = new Date('2026-06-01T12:00:00.000Z');
const DAY = 86_400_000;
const at = (offsetMs: number) => new Date(T.getTime() + offsetMs).toISOString();

let client: Client;
beforeAll(async () => {
  client = await connectTestClient();
});
afterAll(async () => {
  await client.connection.close();
});

interface Env {
  db: TestDatabase;
  worker: TestWorker;
  q(sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  run(job: string, params?: Record<string, unknown>): Promise<PurgeResult>;
  snapshot(tables: string[]): Promise<Record<string, string[]>>;
  close(): Promise<void>;
}

async function env(setupSql?: string): Promise<Env> {
  const db = await createTestDatabase();
  if (setupSql) await db.pool.query(setupSql);
  const worker = await startTestWorker(db);
  const q = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;
  return {
    db,
    worker,
    q,
    async run(job, params = {}) {
      const handle = await startHandle(client, { job, params: { asOf: T.toISOString(), batchSize: 2, ...params }, taskQueue: worker.taskQueue, trigger: 'test' });
      return (await handle.result()) as PurgeResult;
    },
    async snapshot(tables) {
      const out: Record<string, string[]> = {};
      for (const t of tables) out[t] = (await q(`SELECT to_jsonb(x)::text AS r FROM "${t}" x ORDER BY id`)).map((r) => String(r.r));
      return out;
    },
    async close() {
      await worker.stop();
      await db.close();
    },
  };
}

async function ids(e: Env, table: string, where = 'true'): Promise<string[]> {
  return (await e.q(`SELECT id::text FROM "${table}" WHERE ${where} ORDER BY id`)).map((r) => String(r.id));
}

/** Dry run first (same count, nothing changed), then the run, then a rerun that changes nothing. */
async function dryRunThenRun(e: Env, job: string, tables: string[], params: Record<string, unknown> = {}): Promise<PurgeResult> {
  const before = await e.snapshot(tables);
  const dry = await e.run(job, { ...params, dryRun: true });
  expect(await e.snapshot(tables)).toEqual(before);
  const real = await e.run(job, params);
  expect(real.status).toBe('completed');
  expect(dry.matched).toBe(real.deleted + (real.updated ?? 0));
  // The dry run says what each step would do, updates apart from deletions, as the run then does.
  expect(dry.steps).toEqual(real.steps);
  expect(dry.updated ?? 0).toBe(real.updated ?? 0);
  expect(dry.cutoffs).toEqual(real.cutoffs);
  const after = await e.snapshot(tables);
  const again = await e.run(job, params);
  expect(again.deleted + (again.updated ?? 0)).toBe(0);
  expect(await e.snapshot(tables)).toEqual(after);
  return real;
}

describe('cleanup jobs at their boundaries', () => {
  it('revoke-then-delete: expired tokens are marked revoked and kept; revoked ones older than --days are deleted', async () => {
    const e = await env();
    try {
      await e.q(`INSERT INTO access_token (id, token, expires_at, revoked, revoked_at) VALUES
        (1, 'a', $1, false, NULL),  -- expired 1 ms ago: revoke
        (2, 'b', $2, false, NULL),  -- expires exactly now: keep
        (3, 'c', $3, false, NULL),  -- expires in 1 ms: keep
        (4, 'd', $4, true, $5),     -- revoked 90 days + 1 ms ago: delete
        (5, 'e', $4, true, $6),     -- revoked exactly 90 days ago: keep
        (6, 'f', $4, true, $7),     -- revoked 90 days - 1 ms ago: keep
        (7, 'g', '2026-06-01T13:59:59.999+02:00', false, NULL)  -- expired, written in another zone: revoke
      `, [at(-1), at(0), at(1), at(-200 * DAY), at(-90 * DAY - 1), at(-90 * DAY), at(-90 * DAY + 1)]);
      const r = await dryRunThenRun(e, 'revoke-then-delete-access-tokens', ['access_token']);
      expect(r).toMatchObject({ deleted: 1, updated: 2 });
      expect(await ids(e, 'access_token')).toEqual(['1', '2', '3', '5', '6', '7']);
      expect(await ids(e, 'access_token', `revoked AND revoked_at = '${at(0)}'`)).toEqual(['1', '7']);
      expect(await ids(e, 'access_token', 'NOT revoked')).toEqual(['2', '3']);
      // --days moves the delete boundary: 30 days removes every token revoked before T - 30 d.
      const shorter = await e.run('revoke-then-delete-access-tokens', { days: 30 });
      expect(shorter.deleted).toBe(2);
      expect(await ids(e, 'access_token')).toEqual(['1', '2', '3', '7']);
    } finally {
      await e.close();
    }
  });

  it('verification tokens: only expired ones, only of the selected types', async () => {
    const e = await env();
    try {
      await e.q(`INSERT INTO verification_token (id, token_type, token, expires_at) VALUES
        (1, 'email_verification', 't1', $1), (2, 'password_reset', 't2', $1), (3, 'magic_link', 't3', $1),
        (4, 'email_verification', 't4', $2), (5, 'password_reset', 't5', $3)`, [at(-1), at(0), at(1)]);
      const r = await dryRunThenRun(e, 'purge-verification-tokens', ['verification_token'], { types: ['email_verification', 'password_reset'] });
      expect(r.deleted).toBe(2);
      expect(await ids(e, 'verification_token')).toEqual(['3', '4', '5']);
      await expect(e.run('purge-verification-tokens', { types: ['sms'] })).rejects.toThrow(/^types: unknown type "sms"; allowed: email_verification, password_reset/);
      expect((await e.run('purge-verification-tokens')).deleted).toBe(1);
      expect(await ids(e, 'verification_token')).toEqual(['4', '5']);
    } finally {
      await e.close();
    }
  });

  it('stale unverified accounts go with everything that belongs to them; verified accounts are never touched', async () => {
    const e = await env();
    try {
      await e.q(`INSERT INTO account (id, email, is_verified, created_at) VALUES
        (1, 'stale@x', false, $1),     -- 90 days + 1 ms old, unverified: delete
        (2, 'edge@x', false, $2),      -- exactly 90 days: keep
        (3, 'young@x', false, $3),     -- 90 days - 1 ms: keep
        (4, 'old-verified@x', true, $4) -- ancient but verified: keep
      `, [at(-90 * DAY - 1), at(-90 * DAY), at(-90 * DAY + 1), at(-900 * DAY)]);
      for (const u of [1, 4]) {
        await e.q(`INSERT INTO access_token (token, user_id, expires_at) VALUES ('at${u}', $1, $2)`, [u, at(DAY)]);
        await e.q(`INSERT INTO verification_token (user_id, token_type, token, expires_at) VALUES ($1, 'email_verification', 'vt${u}', $2)`, [u, at(DAY)]);
        await e.q(`INSERT INTO email_change_request (user_id, new_email, token) VALUES ($1, 'n${u}@x', 'ec${u}')`, [u]);
        await e.q(`INSERT INTO user_otp (user_id, purpose, code_hash, expires_at) VALUES ($1, 'login', 'h', $2)`, [u, at(DAY)]);
        const [tok] = await e.q(`INSERT INTO outstanding_token (jti, user_id, token, expires_at) VALUES ('j${u}', $1, 't', $2) RETURNING id`, [u, at(DAY)]);
        await e.q('INSERT INTO blacklisted_token (token_id) VALUES ($1)', [tok!.id]);
        const [idt] = await e.q(`INSERT INTO oauth_id_token (jti, user_id, expires_at) VALUES (gen_random_uuid(), $1, $2) RETURNING id`, [u, at(DAY)]);
        const [acc] = await e.q(`INSERT INTO oauth_access_token (token, user_id, expires_at, id_token_id) VALUES ('oa${u}', $1, $2, $3) RETURNING id`, [u, at(DAY), idt!.id]);
        await e.q(`INSERT INTO oauth_refresh_token (token, user_id, access_token_id) VALUES ('or${u}', $1, $2)`, [u, acc!.id]);
        await e.q(`INSERT INTO oauth_grant (code, user_id, expires_at) VALUES ('g${u}', $1, $2)`, [u, at(DAY)]);
      }
      const tables = ['account', 'access_token', 'verification_token', 'email_change_request', 'user_otp', 'outstanding_token', 'blacklisted_token', 'oauth_id_token', 'oauth_access_token', 'oauth_refresh_token', 'oauth_grant'];
      const r = await dryRunThenRun(e, 'purge-stale-unverified-accounts', tables);
      expect(r.deleted).toBe(1);
      expect(r.children).toMatchObject({ access_token: 1, verification_token: 1, email_change_request: 1, user_otp: 1, outstanding_token: 1, blacklisted_token: 1, oauth_refresh_token: 1, oauth_access_token: 1, oauth_id_token: 1, oauth_grant: 1 });
      expect(await ids(e, 'account')).toEqual(['2', '3', '4']);
      for (const t of tables.slice(1)) {
        if (t === 'blacklisted_token') continue;
        expect((await e.q(`SELECT DISTINCT user_id::text AS u FROM "${t}"`)).map((x) => x.u), t).toEqual(['4']);
      }
      expect(await ids(e, 'blacklisted_token')).toHaveLength(1);
    } finally {
      await e.close();
    }
  });

  it('email change requests: completed ones, and incomplete ones older than --days (NULL completion kept until then)', async () => {
    const e = await env();
    try {
      await e.q(`INSERT INTO account (id, email) VALUES (1, 'u@x')`);
      await e.q(`INSERT INTO email_change_request (id, user_id, new_email, token, created_at, completed_at) VALUES
        (1, 1, 'a@x', 'r1', $1, $2),    -- completed 1 ms ago: delete
        (2, 1, 'b@x', 'r2', $1, $3),    -- completed exactly at T (not before): keep
        (3, 1, 'c@x', 'r3', $4, NULL),  -- incomplete, 7 days + 1 ms old: delete
        (4, 1, 'd@x', 'r4', $5, NULL),  -- incomplete, exactly 7 days: keep
        (5, 1, 'e@x', 'r5', $6, NULL)   -- incomplete, fresh: keep
      `, [at(-DAY), at(-1), at(0), at(-7 * DAY - 1), at(-7 * DAY), at(-1)]);
      const r = await dryRunThenRun(e, 'purge-email-change-requests', ['email_change_request']);
      expect(r).toMatchObject({ deleted: 2, steps: { 'email_change_request (completed)': 1, 'email_change_request (stale, incomplete)': 1 } });
      expect(await ids(e, 'email_change_request')).toEqual(['2', '4', '5']);
    } finally {
      await e.close();
    }
  });

  it('pending registrations and one-time passwords past their expiry', async () => {
    const e = await env();
    try {
      await e.q(`INSERT INTO pending_registration (id, email, otp_hash, expires_at) VALUES (1, 'a', 'h', $1), (2, 'b', 'h', $2), (3, 'c', 'h', $3)`, [at(-1), at(0), at(1)]);
      await e.q(`INSERT INTO user_otp (id, purpose, code_hash, expires_at) VALUES (1, 'login', 'h', $1), (2, 'login', 'h', $2), (3, 'login', 'h', '2026-06-01T07:59:59.999-04:00')`, [at(0), at(-5)]);
      const r = await dryRunThenRun(e, 'purge-pending-registrations', ['pending_registration', 'user_otp']);
      expect(r).toMatchObject({ deleted: 3, steps: { pending_registration: 1, user_otp: 2 } });
      expect(await ids(e, 'pending_registration')).toEqual(['2', '3']);
      expect(await ids(e, 'user_otp')).toEqual(['1']);
    } finally {
      await e.close();
    }
  });

  it('OAuth tokens like cleartokens, in an order that never breaks a foreign key', async () => {
    const e = await env();
    try {
      await e.q(`INSERT INTO oauth_id_token (id, jti, expires_at) VALUES (1, gen_random_uuid(), $1), (2, gen_random_uuid(), $2)`, [at(-1), at(1)]);
      await e.q(`INSERT INTO oauth_access_token (id, token, expires_at, id_token_id) VALUES
        (1, 'expired', $1, NULL), (2, 'valid-with-expired-id-token', $2, 1), (3, 'at-cutoff', $3, 2)`, [at(-1), at(DAY), at(0)]);
      await e.q(`INSERT INTO oauth_refresh_token (id, token, access_token_id, revoked_at) VALUES
        (1, 'for-expired-access', 1, NULL),   -- keeps living, loses its link
        (2, 'revoked-long-ago', NULL, $1),    -- revoked 30 days + 1 ms ago: delete
        (3, 'revoked-at-edge', NULL, $2),     -- exactly 30 days: keep
        (4, 'never-revoked', 3, NULL)`, [at(-30 * DAY - 1), at(-30 * DAY)]);
      await e.q(`UPDATE oauth_access_token SET source_refresh_token_id = 2 WHERE id = 2`);
      await e.q(`INSERT INTO oauth_grant (id, code, expires_at) VALUES (1, 'g1', $1), (2, 'g2', $2)`, [at(-1), at(0)]);
      const tables = ['oauth_id_token', 'oauth_access_token', 'oauth_refresh_token', 'oauth_grant'];
      const r = await dryRunThenRun(e, 'purge-oauth-tokens', tables);
      expect(r.steps).toEqual({
        'oauth_refresh_token (revoked past the refresh lifespan)': 1,
        'oauth_access_token (expired)': 1,
        'oauth_id_token (expired)': 1,
        'oauth_grant (expired)': 1,
      });
      expect(await ids(e, 'oauth_refresh_token')).toEqual(['1', '3', '4']);
      expect(await ids(e, 'oauth_access_token')).toEqual(['2', '3']);
      expect(await ids(e, 'oauth_id_token')).toEqual(['2']);
      expect(await ids(e, 'oauth_grant')).toEqual(['2']);
      expect(await e.q('SELECT id, access_token_id FROM oauth_refresh_token WHERE id = 1')).toEqual([{ id: '1', access_token_id: null }]);
      expect(await e.q('SELECT id_token_id, source_refresh_token_id FROM oauth_access_token WHERE id = 2')).toEqual([{ id_token_id: null, source_refresh_token_id: null }]);
    } finally {
      await e.close();
    }
  });
});

describe('presets for databases that Django created', () => {
  const fixtures = join(import.meta.dirname, 'fixtures', 'django');
  const ddl = async (...files: string[]) => (await Promise.all(files.map((f) => readFile(join(fixtures, f), 'utf8')))).join('\n');

  it("simplejwt's token_blacklist: expired outstanding tokens and their blacklist rows, tables left as Django made them", async () => {
    const e = await env(await ddl('simplejwt_token_blacklist.sql'));
    try {
      const columnsBefore = await e.q(`SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_name LIKE 'token_blacklist%' ORDER BY 1, 2`);
      await e.q(`INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) VALUES (1, 'x', false, 'u', '', '', 'u@x', false, true, now())`);
      await e.q(`INSERT INTO token_blacklist_outstandingtoken (id, token, created_at, expires_at, user_id, jti) VALUES
        (1, 't', NULL, $1, 1, 'j1'), (2, 't', $4, $2, 1, 'j2'), (3, 't', $4, $3, NULL, 'j3'), (4, 't', $4, '2026-06-01T06:59:59.999-05:00', 1, 'j4')`, [at(-1), at(0), at(1), at(-DAY)]);
      await e.q(`INSERT INTO token_blacklist_blacklistedtoken (blacklisted_at, token_id) VALUES (now(), 1), (now(), 2)`);
      const r = await dryRunThenRun(e, 'django-simplejwt-flush-expired', ['token_blacklist_outstandingtoken', 'token_blacklist_blacklistedtoken']);
      // flushexpiredtokens deletes expires_at <= now: the token expiring exactly at the reference time goes too.
      expect(r).toMatchObject({ deleted: 3, children: { token_blacklist_blacklistedtoken: 2 } });
      expect(await ids(e, 'token_blacklist_outstandingtoken')).toEqual(['3']);
      expect((await e.q('SELECT token_id::text AS t FROM token_blacklist_blacklistedtoken')).map((x) => x.t)).toEqual([]);
      const columnsAfter = await e.q(`SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_name LIKE 'token_blacklist%' ORDER BY 1, 2`);
      expect(columnsAfter).toEqual(columnsBefore);
    } finally {
      await e.close();
    }
  });

  // What cleartokens leaves, version by version, on a table of cases (REFRESH_TOKEN_EXPIRE_SECONDS = 1 day unless
  // unset): each row sits at, or a millisecond either side of, a boundary of upstream's clear_expired.
  const dotCases: Array<{ version: string; lifespan?: number; left: Record<string, string[]> }> = [
    { version: '1.7', lifespan: 86_400, left: { refresh: ['5', '6', '8'], access: ['2', '3', '5', '6'], id: ['1', '2', '3', '4', '5'], grant: ['2'] } },
    { version: '2.2', lifespan: 86_400, left: { refresh: ['5', '6', '8'], access: ['2', '3', '5', '6'], id: ['1', '2', '3', '4', '5'], grant: ['2'] } },
    { version: '2.3', lifespan: 86_400, left: { refresh: ['5', '6', '8'], access: ['2', '3', '5', '6'], id: ['2', '3', '4'], grant: ['2'] } },
    { version: '3.0', lifespan: 86_400, left: { refresh: ['5', '6', '8'], access: ['2', '3', '5', '6'], id: ['2', '3', '4'], grant: ['2'] } },
    { version: '1.7', left: { refresh: ['4', '5', '6', '7', '8', '9'], access: ['2', '3', '4', '5', '6'], id: ['1', '2', '3', '4', '5'], grant: ['2'] } },
    { version: '3.0', left: { refresh: ['4', '5', '6', '7', '8', '9'], access: ['2', '3', '4', '5', '6'], id: ['2', '3', '4'], grant: ['2'] } },
  ];
  for (const c of dotCases) {
    it(`django-oauth-toolkit ${c.version} cleartokens, REFRESH_TOKEN_EXPIRE_SECONDS ${c.lifespan ?? 'unset'}: the rows it leaves, no foreign key broken`, async () => {
      const e = await env(await ddl('simplejwt_token_blacklist.sql', 'oauth2_provider.sql'));
      try {
        await e.q(`INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) VALUES (1, 'x', false, 'u', '', '', 'u@x', false, true, now())`);
        await e.q(`INSERT INTO oauth2_provider_application (id, client_id, redirect_uris, client_type, authorization_grant_type, client_secret, name, user_id, skip_authorization, created, updated, algorithm, post_logout_redirect_uris, hash_client_secret, allowed_origins)
          VALUES (1, 'c', '', 'confidential', 'authorization-code', 's', 'app', 1, false, now(), now(), '', '', true, '')`);
        // ID tokens: 1 expired, unreferenced; 2 at now; 3 after now; 4 expired, its access token stays; 5 expired, its access token goes.
        await e.q(`INSERT INTO oauth2_provider_idtoken (id, jti, expires, scope, created, updated, application_id, user_id)
          SELECT i, gen_random_uuid(), x, '', now(), now(), 1, 1 FROM unnest($1::int[], $2::timestamptz[]) AS t(i, x)`, [[1, 2, 3, 4, 5], [at(-1), at(0), at(1), at(-1), at(-1)]]);
        // Access tokens: 1 expired, no refresh token; 2 valid; 3 at now; 4 expired over a day ago, with a refresh
        // token; 5 expired exactly a day ago, with one; 6 expired, with one.
        await e.q(`INSERT INTO oauth2_provider_accesstoken (id, token, token_checksum, expires, scope, application_id, user_id, created, updated, id_token_id)
          SELECT i, 'a' || i, 'c' || i, x, '', 1, 1, now(), now(), d FROM unnest($1::int[], $2::timestamptz[], $3::int[]) AS t(i, x, d)`,
          [[1, 2, 3, 4, 5, 6], [at(-1), at(DAY), at(0), at(-DAY - 1), at(-DAY), at(-1)], [5, 4, null, null, null, null]]);
        // Refresh tokens (created before the reference time, as every row cleartokens sees): 4-6 of those access tokens; 7 revoked over a day ago; 8 exactly a day ago; 9 over a day
        // ago and the source of access token 2 (which must lose the link, not break it).
        await e.q(`INSERT INTO oauth2_provider_refreshtoken (id, token, access_token_id, application_id, user_id, created, updated, revoked)
          SELECT i, 'r' || i, a, 1, 1, $4::timestamptz, $4::timestamptz, r FROM unnest($1::int[], $2::int[], $3::timestamptz[]) AS t(i, a, r)`,
          [[4, 5, 6, 7, 8, 9], [4, 5, 6, null, null, null], [null, null, null, at(-DAY - 1), at(-DAY), at(-DAY - 1)], at(-30 * DAY)]);
        await e.q(`UPDATE oauth2_provider_accesstoken SET source_refresh_token_id = 9 WHERE id = 2`);
        await e.q(`INSERT INTO oauth2_provider_grant (id, code, expires, redirect_uri, scope, application_id, user_id, created, updated, code_challenge, code_challenge_method, nonce, claims) VALUES
          (1, 'g1', $1, '', '', 1, 1, now(), now(), '', '', '', ''), (2, 'g2', $2, '', '', 1, 1, now(), now(), '', '', '', '')`, [at(-1), at(0)]);
        const tables = ['oauth2_provider_idtoken', 'oauth2_provider_accesstoken', 'oauth2_provider_refreshtoken', 'oauth2_provider_grant'];
        const params = { dotVersion: c.version, ...(c.lifespan ? { refreshTokenExpireSeconds: c.lifespan } : {}) };
        // Later steps see what earlier ones deleted (as in Django), so the dry run's count can be lower; it changes nothing.
        const before = await e.snapshot(tables);
        expect((await e.run('django-oauth-toolkit-cleartokens', { ...params, dryRun: true })).status).toBe('completed');
        expect(await e.snapshot(tables)).toEqual(before);
        const r = await e.run('django-oauth-toolkit-cleartokens', params);
        expect(r.status).toBe('completed');
        expect({
          refresh: await ids(e, 'oauth2_provider_refreshtoken'),
          access: await ids(e, 'oauth2_provider_accesstoken'),
          id: await ids(e, 'oauth2_provider_idtoken'),
          grant: await ids(e, 'oauth2_provider_grant'),
        }).toEqual(c.left);
        if (c.lifespan) expect(await e.q('SELECT source_refresh_token_id FROM oauth2_provider_accesstoken WHERE id = 2')).toEqual([{ source_refresh_token_id: null }]);
        const after = await e.snapshot(tables);
        const again = await e.run('django-oauth-toolkit-cleartokens', params);
        expect(again.deleted).toBe(0);
        expect(await e.snapshot(tables)).toEqual(after);
      } finally {
        await e.close();
      }
    });
  }

  it('a preset pointed at a database without those tables fails before touching anything, naming what is missing', async () => {
    const e = await env();
    try {
      const err = await e.run('django-simplejwt-flush-expired').catch((x) => x);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect(String(err.cause?.cause?.message)).toMatch(/django-simplejwt-flush-expired\.steps\[0\]\.table: table "token_blacklist_outstandingtoken" does not exist/);
      // Nothing touched, and the failure is on record with its reason.
      expect(await e.q('SELECT job, status, deleted, error FROM maintenance_run')).toEqual([
        { job: 'django-simplejwt-flush-expired', status: 'failed', deleted: '0', error: expect.stringMatching(/token_blacklist_outstandingtoken" does not exist/) },
      ]);
    } finally {
      await e.close();
    }
  });
});

describe('custom rules from the config file', () => {
  it('run end to end against the live schema, and a rule naming a missing column is rejected before anything runs', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'maint-config-'));
    const file = join(dir, 'maint.config.yaml');
    await writeFile(
      file,
      [
        'rules:',
        '  purge-audit-log:',
        '    table: audit_log',
        '    timestampColumn: created_at',
        '    retentionDays: 30',
        '    where: [{ column: kind, op: eq, value: login }]',
        '    children: [{ table: audit_detail, foreignKey: log_id }]',
        '  purge-typo:',
        '    table: audit_log',
        '    timestampColumn: created_on',
      ].join('\n'),
    );
    const previous = process.env.MAINT_CONFIG;
    process.env.MAINT_CONFIG = file;
    const e = await env(`CREATE TABLE audit_log (id bigserial primary key, kind text not null, created_at timestamptz not null);
      CREATE TABLE audit_detail (id bigserial primary key, log_id bigint not null references audit_log (id), detail text);`);
    try {
      await e.q(`INSERT INTO audit_log (id, kind, created_at) VALUES (1, 'login', $1), (2, 'login', $2), (3, 'admin', $1)`, [at(-30 * DAY - 1), at(-30 * DAY)]);
      await e.q(`INSERT INTO audit_detail (log_id, detail) VALUES (1, 'a'), (1, 'b'), (2, 'c'), (3, 'd')`);
      const r = await dryRunThenRun(e, 'purge-audit-log', ['audit_log', 'audit_detail']);
      expect(r).toMatchObject({ deleted: 1, children: { audit_detail: 2 } });
      expect(await ids(e, 'audit_log')).toEqual(['2', '3']);
      const err = await e.run('purge-typo').catch((x) => x);
      expect(String(err.cause?.cause?.message)).toMatch(/purge-typo\.steps\[0\]: column "audit_log\.created_on" does not exist; the table has: created_at, id, kind/);
    } finally {
      await e.close();
      if (previous === undefined) delete process.env.MAINT_CONFIG;
      else process.env.MAINT_CONFIG = previous;
    }
  });
});
