import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { migrate, openOrm } from '../src/orm/index.js';
import type { PurgeResult } from '../src/purge/types.js';
import { adminQuery, dropDatabase } from './support/db.js';
import { connectTestClient, startTestWorker, type TestDatabase, type TestWorkerOptions } from './support/env.js';
import { withDatabase } from './support/global-setup.js';
import { startHandle } from './support/start.js';

// HIdP's cleanup commands cannot run here (HIdP needs a newer Django than Debian 12's), so these cases are written
// from its source at tag v2.0.0 and run on databases built from the DDL its migrations emit
// (/work/shared/reference/hidp: core.sql, extra.sql):
// - packages/hidp/hidp/accounts/email_verification.py, remove_stale_unverified_accounts:
//   email_verified IS NULL AND date_joined < now - timedelta(days) (default 90), then .delete();
// - packages/hidp/hidp/accounts/email_change.py, remove_complete_and_stale_email_change_requests:
//   (confirmed_by_current_email AND confirmed_by_proposed_email) OR created_at < now - timedelta(days) (default 7).
// What .delete() takes with a user is Django's collector's (models cited in src/purge/presets/hidp.ts).

const REFERENCE = process.env.MAINT_HIDP_REFERENCE ?? '/work/shared/reference/hidp';
const DDL = ['core.sql', 'extra.sql'].map((f) => readFileSync(join(REFERENCE, f), 'utf8')).join('\n');

const T = new Date('2026-06-01T12:00:00.000Z');
const T_US = BigInt(T.getTime()) * 1000n;
const DAY_US = 86_400_000_000n;
/** ISO 8601 with microseconds, `us` microseconds from T. */
function at(us: bigint): string {
  const v = T_US + us;
  const micro = ((v % 1000n) + 1000n) % 1000n;
  return new Date(Number((v - micro) / 1000n)).toISOString().replace('Z', `${String(micro).padStart(3, '0')}Z`);
}

const ACCOUNTS = 'hidp-remove-stale-unverified-accounts';
const EMAIL_CHANGES = 'hidp-remove-complete-and-stale-email-change-requests';

/** Users by role, with fixed uuids (the dry run names them by email). */
const U = {
  stale: '00000000-0000-7000-8000-000000000001', // unverified, joined 90 days + 1 µs before T: goes
  atCutoff: '00000000-0000-7000-8000-000000000002', // joined exactly 90 days before T: stays (strict <)
  after: '00000000-0000-7000-8000-000000000003', // 90 days - 1 µs: stays
  verified: '00000000-0000-7000-8000-000000000004', // verified, joined a year ago: stays
  owner: '00000000-0000-7000-8000-000000000005', // unverified, stale, owns an OAuth application: goes with it
  inactiveSuperuser: '00000000-0000-7000-8000-000000000006', // unverified, stale, inactive superuser: goes (no filter)
  other: '00000000-0000-7000-8000-000000000007', // verified; has tokens on the owner's application
};

async function seedAccounts(pool: pg.Pool): Promise<void> {
  const q = (sql: string, params: unknown[] = []) => pool.query(sql, params);
  const user = (id: string, joinedUs: bigint, verified: boolean, extra: { active?: boolean; superuser?: boolean } = {}) =>
    q(
      `INSERT INTO accounts_user (id, password, is_superuser, first_name, last_name, is_staff, is_active, date_joined, email, email_verified, last_modified)
       VALUES ($1, '', $2, '', '', false, $3, $4, $5, $6, now())`,
      [id, extra.superuser ?? false, extra.active ?? true, at(joinedUs), `${id.slice(-2)}@example.com`, verified ? at(-DAY_US) : null],
    );
  const stale = -90n * DAY_US - 1n;
  await user(U.stale, stale, false);
  await user(U.atCutoff, -90n * DAY_US, false);
  await user(U.after, -90n * DAY_US + 1n, false);
  await user(U.verified, -365n * DAY_US, true);
  await user(U.owner, stale - DAY_US, false);
  await user(U.inactiveSuperuser, stale - 30n * DAY_US, false, { active: false, superuser: true });
  await user(U.other, -365n * DAY_US, true);

  await q(`INSERT INTO django_content_type (id, app_label, model) VALUES (1, 'accounts', 'user')`);
  await q(`INSERT INTO auth_permission (id, name, content_type_id, codename) VALUES (1, 'Can view user', 1, 'view_user')`);
  await q(`INSERT INTO auth_group (id, name) VALUES (1, 'staff')`);
  for (const u of [U.stale, U.verified]) {
    await q(`INSERT INTO accounts_user_groups (user_id, group_id) VALUES ($1, 1)`, [u]);
    await q(`INSERT INTO accounts_user_user_permissions (user_id, permission_id) VALUES ($1, 1)`, [u]);
    await q(`INSERT INTO django_admin_log (action_time, user_id, content_type_id, object_id, object_repr, action_flag, change_message) VALUES (now(), $1, 1, '1', 'x', 1, '')`, [u]);
    await q(
      `INSERT INTO hidp_federated_openidconnection (id, user_id, created_at, last_modified, provider_key, issuer_claim, subject_claim, last_usage)
       VALUES (gen_random_uuid(), $1, now(), now(), 'google', 'https://accounts.google.com', $2, now())`,
      [u, u],
    );
    await q(
      `INSERT INTO hidp_accounts_emailchangerequest (id, proposed_email, current_email, confirmed_by_proposed_email, confirmed_by_current_email, created_at, last_modified, user_id)
       VALUES (gen_random_uuid(), 'new@example.com', 'old@example.com', false, false, now(), now(), $1)`,
      [u],
    );
    const { rows } = await q(
      `INSERT INTO otp_static_staticdevice (user_id, name, confirmed, throttling_failure_count) VALUES ($1, 'backup', true, 0) RETURNING id`,
      [u],
    );
    await q(`INSERT INTO otp_static_statictoken (device_id, token) VALUES ($1, 'a1'), ($1, 'b2')`, [rows[0].id]);
    await q(
      `INSERT INTO otp_totp_totpdevice (user_id, name, confirmed, throttling_failure_count, key, step, t0, digits, tolerance, drift, last_t)
       VALUES ($1, 'phone', true, 0, 'k', 30, 0, 6, 1, 0, -1)`,
      [u],
    );
  }
  await q(`INSERT INTO django_session (session_key, session_data, expire_date) VALUES ('s1', 'data', now() + interval '1 day')`);

  // OAuth: applications 1 (the owner's), 2 (the other user's), 3 (no owner: an orphan, stays).
  const app = (id: number, userId: string | null) =>
    q(
      `INSERT INTO oauth2_provider_application (id, client_id, user_id, redirect_uris, post_logout_redirect_uris, client_type, authorization_grant_type, client_secret,
         hash_client_secret, name, skip_authorization, created, updated, algorithm, allowed_origins)
       VALUES ($1::bigint, 'client-' || $1::text, $2, '', '', 'confidential', 'authorization-code', '', true, 'app', false, now(), now(), '', '')`,
      [id, userId],
    );
  await app(1, U.owner);
  await app(2, U.other);
  await app(3, null);
  const idToken = (id: number, userId: string | null, appId: number) =>
    q(`INSERT INTO oauth2_provider_idtoken (id, user_id, jti, application_id, expires, scope, created, updated) VALUES ($1, $2, gen_random_uuid(), $3, now(), '', now(), now())`, [id, userId, appId]);
  const access = (id: number, userId: string | null, appId: number, idTokenId: number | null = null) =>
    q(
      `INSERT INTO oauth2_provider_accesstoken (id, user_id, token, token_checksum, id_token_id, application_id, expires, scope, created, updated)
       VALUES ($1::bigint, $2, 'tok-' || $1::text, 'sum-' || $1::text, $3, $4, now(), '', now(), now())`,
      [id, userId, idTokenId, appId],
    );
  const refresh = (id: number, userId: string, appId: number, accessId: number | null) =>
    q(`INSERT INTO oauth2_provider_refreshtoken (id, user_id, token, application_id, access_token_id, created, updated) VALUES ($1::bigint, $2, 'r-' || $1::text, $3, $4, now(), now())`, [id, userId, appId, accessId]);
  const grant = (id: number, userId: string, appId: number) =>
    q(
      `INSERT INTO oauth2_provider_grant (id, user_id, code, application_id, expires, redirect_uri, scope, created, updated, code_challenge, code_challenge_method, nonce, claims)
       VALUES ($1::bigint, $2, 'code-' || $1::text, $3, now(), '', '', now(), now(), '', '', '', '')`,
      [id, userId, appId],
    );
  // The stale user's own tokens, on the other user's application: id token 10 -> access 10 <- refresh 10; grant 10.
  await idToken(10, U.stale, 2);
  await access(10, U.stale, 2, 10);
  await refresh(10, U.stale, 2, 10);
  await grant(10, U.stale, 2);
  // The other user's tokens on the owner's application: all go with it (access 20, 21 (no user), refresh 20, grant 20, id token 20).
  await idToken(20, U.other, 1);
  await access(20, U.other, 1, 20);
  await access(21, null, 1);
  await refresh(20, U.other, 1, 20);
  await grant(20, U.other, 1);
  // The other user's tokens on its own application, linked to the stale user's: they stay, unlinked.
  // access 30 was refreshed from the stale user's refresh 10; refresh 31 belongs to the stale user's access 10... but
  // a refresh token's access token is one-to-one, so refresh 31 points at access 11 of the stale user instead.
  await access(11, U.stale, 2);
  await access(30, U.other, 2);
  await q(`UPDATE oauth2_provider_accesstoken SET source_refresh_token_id = 10 WHERE id = 30`);
  await refresh(31, U.other, 2, 11);
  // A token of the owner's application that the stale user's ID token... and plain survivors: access 40 and refresh
  // 40 of the other user on application 2, access 41 without user on the orphan application 3.
  await access(40, U.other, 2);
  await refresh(40, U.other, 2, 40);
  await access(41, null, 3);
}

/** Every row left, per table, as sorted text (the columns Django's deletions and SET NULLs change). */
async function rowsLeft(pool: pg.Pool): Promise<Record<string, string[]>> {
  const tables: Record<string, string> = {
    accounts_user: 'id',
    accounts_user_groups: 'user_id',
    accounts_user_user_permissions: 'user_id',
    django_admin_log: 'user_id',
    hidp_federated_openidconnection: 'user_id',
    hidp_accounts_emailchangerequest: 'user_id',
    otp_static_staticdevice: 'user_id',
    otp_static_statictoken: 'device_id',
    otp_totp_totpdevice: 'user_id',
    django_session: 'session_key',
    oauth2_provider_application: "id || ':' || coalesce(user_id::text, '-')",
    oauth2_provider_idtoken: 'id',
    oauth2_provider_accesstoken: "id || ':' || coalesce(source_refresh_token_id::text, '-') || ':' || coalesce(id_token_id::text, '-')",
    oauth2_provider_refreshtoken: "id || ':' || coalesce(access_token_id::text, '-')",
    oauth2_provider_grant: 'id',
  };
  const out: Record<string, string[]> = {};
  for (const [t, expr] of Object.entries(tables)) {
    const { rows } = await pool.query(`SELECT (${expr})::text AS r FROM ${t} ORDER BY 1`);
    out[t] = rows.map((r) => String(r.r));
  }
  return out;
}

/** The innermost message of a failed workflow (the activity's refusal). */
function failureText(err: unknown): string {
  let e = err as { message?: string; cause?: unknown };
  while (e.cause) e = e.cause as typeof e;
  return String(e.message);
}

describe('HIdP presets on the reference DDL of django-hidp v2.0.0, through Temporal', () => {
  const admin = inject('adminDbUrl');
  const created: string[] = [];
  let client: Client;

  /** A database built from HIdP's DDL with this tool's own schema migrated beside it; `seed` fills it. */
  async function hidpDatabase(seed: (pool: pg.Pool) => Promise<void>, extraDdl = ''): Promise<TestDatabase> {
    const name = `hidp_${randomBytes(4).toString('hex')}`;
    await adminQuery(admin, `CREATE DATABASE "${name}"`);
    created.push(name);
    const url = withDatabase(admin, name);
    await adminQuery(url, DDL + '\n' + extraDdl);
    const orm = await openOrm(url, { nativeTables: false });
    await migrate(orm);
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    await seed(pool);
    return { name, url, orm, pool, close: async () => { await pool.end(); await orm.close(); } };
  }

  async function run(db: TestDatabase, job: string, params: Record<string, unknown>, opts: TestWorkerOptions = {}): Promise<PurgeResult> {
    const worker = await startTestWorker(db, opts);
    try {
      const handle = await startHandle(client, { job, params: { asOf: T.toISOString(), ...params }, taskQueue: worker.taskQueue, trigger: 'test' });
      return (await handle.result()) as PurgeResult;
    } finally {
      await worker.stop();
    }
  }

  function configWith(text: string): Record<string, string> {
    const dir = mkdtempSync(join(tmpdir(), 'hidp-config-'));
    const path = join(dir, 'maint.config.yaml');
    writeFileSync(path, text);
    return { MAINT_CONFIG: path };
  }

  beforeAll(async () => {
    client = await connectTestClient();
  });
  afterAll(async () => {
    await client.connection.close();
    for (const name of created) await dropDatabase(admin, name);
  });

  const goneUsers = [U.stale, U.owner, U.inactiveSuperuser].sort();
  const expectedLeft = {
    accounts_user: Object.values(U).filter((u) => !goneUsers.includes(u)).sort(),
    accounts_user_groups: [U.verified],
    accounts_user_user_permissions: [U.verified],
    django_admin_log: [U.verified],
    hidp_federated_openidconnection: [U.verified],
    hidp_accounts_emailchangerequest: [U.verified],
    otp_static_staticdevice: [U.verified],
    otp_static_statictoken: ['2', '2'],
    otp_totp_totpdevice: [U.verified],
    django_session: ['s1'],
    oauth2_provider_application: [`2:${U.other}`, '3:-'],
    oauth2_provider_idtoken: [],
    // access 30 loses its source refresh token (10, the stale user's); refresh 31 its access token (11).
    oauth2_provider_accesstoken: ['30:-:-', '40:-:-', '41:-:-'],
    oauth2_provider_refreshtoken: ['31:-', '40:40'],
    oauth2_provider_grant: [],
  };
  const expectedChildren = {
    accounts_user_groups: 1,
    accounts_user_user_permissions: 1,
    django_admin_log: 1,
    hidp_federated_openidconnection: 1,
    hidp_accounts_emailchangerequest: 1,
    otp_static_staticdevice: 1,
    otp_static_statictoken: 2,
    otp_totp_totpdevice: 1,
    oauth2_provider_application: 1,
    oauth2_provider_idtoken: 2,
    oauth2_provider_accesstoken: 4,
    oauth2_provider_refreshtoken: 2,
    oauth2_provider_grant: 2,
    'oauth2_provider_accesstoken.source_refresh_token_id (set null)': 1,
    'oauth2_provider_refreshtoken.access_token_id (set null)': 1,
  };

  it('stale unverified accounts: at the cutoff and 1 µs after stay, 1 µs before goes, with what Django deletes with a user; the dry run names the owner', async () => {
    const db = await hidpDatabase(seedAccounts);
    try {
      const before = await rowsLeft(db.pool);
      const dry = await run(db, ACCOUNTS, { dryRun: true });
      expect(dry).toMatchObject({ status: 'completed', matched: 3, children: expectedChildren });
      expect(dry.notes).toEqual([
        `accounts_user email ${U.owner.slice(-2)}@example.com owns 1 oauth2_provider_application row(s); 5 row(s) of other users on them would go too (oauth2_provider_accesstoken 2, oauth2_provider_refreshtoken 1, oauth2_provider_idtoken 1, oauth2_provider_grant 1)`,
      ]);
      expect(await rowsLeft(db.pool)).toEqual(before);

      // One user per batch, two lanes: each batch's transaction takes one user with everything that goes with it.
      const result = await run(db, ACCOUNTS, { batchSize: 1, parallel: 2 });
      expect(result).toMatchObject({ status: 'completed', deleted: 3, children: expectedChildren });
      expect(result.plans?.[0]?.lanes.length).toBe(2);
      expect(await rowsLeft(db.pool)).toEqual(expectedLeft);
    } finally {
      await db.close();
    }
  });

  it('--user-table names the user table; --days moves the cutoff; an index on date_joined is walked', async () => {
    const db = await hidpDatabase(seedAccounts, 'CREATE INDEX accounts_user_date_joined_idx ON accounts_user (date_joined);');
    try {
      // 89 days + 1 µs: the users at and after the 90-day cutoff go too.
      const result = await run(db, ACCOUNTS, { userTable: 'accounts_user', days: 89 });
      expect(result).toMatchObject({ status: 'completed', deleted: 5 });
      expect(result.plans?.[0]).toMatchObject({ strategy: 'timestamp-index', index: 'accounts_user_date_joined_idx' });
      expect((await rowsLeft(db.pool)).accounts_user).toEqual([U.verified, U.other].sort());
    } finally {
      await db.close();
    }
  });

  it('an unknown foreign key to the user table stops the run before any row changes, naming table and column; declared, it is followed', async () => {
    const shop = `CREATE TABLE shop_order (id bigint PRIMARY KEY, buyer_id uuid NULL REFERENCES accounts_user (id) DEFERRABLE INITIALLY DEFERRED);
                  CREATE TABLE shop_note (id bigint PRIMARY KEY, order_id bigint NOT NULL REFERENCES shop_order (id) DEFERRABLE INITIALLY DEFERRED);
                  CREATE TABLE people (id uuid PRIMARY KEY, date_joined timestamptz NOT NULL);`;
    const db = await hidpDatabase(async (pool) => {
      await seedAccounts(pool);
      await pool.query(`INSERT INTO shop_order VALUES (1, $1), (2, $2), (3, $3)`, [U.stale, U.verified, U.inactiveSuperuser]);
      await pool.query(`INSERT INTO shop_note VALUES (1, 1), (2, 2)`);
    }, shop);
    try {
      const before = await rowsLeft(db.pool);
      const orders = async () => (await db.pool.query('SELECT id || \':\' || coalesce(buyer_id::text, \'-\') AS r FROM shop_order ORDER BY id')).rows.map((r) => String(r.r));
      const refused = run(db, ACCOUNTS, {});
      await expect(refused).rejects.toThrow();
      const cause = await refused.catch(failureText);
      expect(cause).toMatch(/shop_order\.buyer_id .*references accounts_user.*not one the preset knows; nothing was deleted.*foreignKeys: \{ shop_order\.buyer_id: cascade \| set-null \| protect \}/);
      expect(await rowsLeft(db.pool)).toEqual(before);
      expect(await orders()).toEqual([`1:${U.stale}`, `2:${U.verified}`, `3:${U.inactiveSuperuser}`]);
      // A user table without HIdP's columns is refused the same way, naming the column.
      const wrongTable = run(db, ACCOUNTS, { userTable: 'people' });
      await expect(wrongTable).rejects.toThrow();
      expect(await wrongTable.catch(failureText)).toMatch(/column "people\.email_verified" does not exist/);
      // Refused while resolving the job, before any statement: each refusal is on record as a failed run with its reason.
      const recorded = (await db.pool.query(`SELECT status, deleted, error FROM auth_maintenance.maintenance_run ORDER BY started_at`)).rows;
      expect(recorded.map((r) => [r.status, Number(r.deleted)])).toEqual([['failed', 0], ['failed', 0]]);
      expect(recorded[0].error).toMatch(/shop_order\.buyer_id/);
      expect(recorded[1].error).toMatch(/people\.email_verified/);

      // Declared cascade: the notes of a deleted order are unknown in turn, and refused.
      const cascadeOnly = configWith('foreignKeys:\n  shop_order.buyer_id: cascade\n');
      const refusedAgain = run(db, ACCOUNTS, {}, { env: cascadeOnly });
      await expect(refusedAgain).rejects.toThrow();
      expect(await refusedAgain.catch(failureText)).toMatch(/shop_note\.order_id .*references shop_order.*not one the preset knows/);

      // protect: the stale user with an order stays, the others go.
      const protect = await run(db, ACCOUNTS, {}, { env: configWith('foreignKeys:\n  shop_order.buyer_id: protect\n') });
      expect(protect).toMatchObject({ status: 'completed', deleted: 1 });
      expect((await rowsLeft(db.pool)).accounts_user).toContain(U.stale);
      expect(await orders()).toEqual([`1:${U.stale}`, `2:${U.verified}`, `3:${U.inactiveSuperuser}`]);

      // set null: the two stale users with orders go, their orders stay without a buyer.
      const setNull = await run(db, ACCOUNTS, {}, { env: configWith('foreignKeys:\n  shop_order.buyer_id: set-null\n') });
      expect(setNull).toMatchObject({ status: 'completed', deleted: 2, children: { 'shop_order.buyer_id (set null)': 2 } });
      expect(await orders()).toEqual(['1:-', `2:${U.verified}`, '3:-']);
    } finally {
      await db.close();
    }
  });

  it('declared cascades are followed through the tables they reach', async () => {
    const shop = `CREATE TABLE shop_order (id bigint PRIMARY KEY, buyer_id uuid NOT NULL REFERENCES accounts_user (id) DEFERRABLE INITIALLY DEFERRED);
                  CREATE TABLE shop_note (id bigint PRIMARY KEY, order_id bigint NOT NULL REFERENCES shop_order (id) DEFERRABLE INITIALLY DEFERRED);`;
    const db = await hidpDatabase(async (pool) => {
      await seedAccounts(pool);
      await pool.query(`INSERT INTO shop_order VALUES (1, $1), (2, $2)`, [U.stale, U.verified]);
      await pool.query(`INSERT INTO shop_note VALUES (1, 1), (2, 1), (3, 2)`);
    }, shop);
    try {
      // set-null on a NOT NULL column is refused before anything runs.
      const bad = run(db, ACCOUNTS, {}, { env: configWith('foreignKeys:\n  shop_order.buyer_id: set-null\n  shop_note.order_id: cascade\n') });
      await expect(bad).rejects.toThrow();
      expect(await bad.catch(failureText)).toMatch(/shop_order\.buyer_id .*declared set-null but shop_order\.buyer_id is NOT NULL/);

      const result = await run(db, ACCOUNTS, {}, { env: configWith('foreignKeys:\n  shop_order.buyer_id: cascade\n  shop_note.order_id: cascade\n') });
      expect(result).toMatchObject({ status: 'completed', deleted: 3, children: { shop_order: 1, shop_note: 2 } });
      expect((await db.pool.query('SELECT id FROM shop_note ORDER BY id')).rows.map((r) => Number(r.id))).toEqual([3]);
      expect(await rowsLeft(db.pool)).toEqual(expectedLeft);
    } finally {
      await db.close();
    }
  });

  it('email change requests: both confirmations go at any age, one does not; older than --days goes in any state, at the cutoff and after stay', async () => {
    const cases: Array<{ name: string; current: boolean; proposed: boolean; createdUs: bigint; goes: boolean }> = [
      { name: 'both, recent', current: true, proposed: true, createdUs: -1_000_000n, goes: true },
      { name: 'both, old', current: true, proposed: true, createdUs: -30n * DAY_US, goes: true },
      // Created at the run's reference time itself: the completed-request step compares created_at <= now.
      { name: 'both, at now', current: true, proposed: true, createdUs: 0n, goes: true },
      { name: 'current only, recent', current: true, proposed: false, createdUs: -1_000_000n, goes: false },
      { name: 'proposed only, recent', current: false, proposed: true, createdUs: -1_000_000n, goes: false },
      { name: 'current only, 7 days + 1 µs', current: true, proposed: false, createdUs: -7n * DAY_US - 1n, goes: true },
      { name: 'none, 7 days + 1 µs', current: false, proposed: false, createdUs: -7n * DAY_US - 1n, goes: true },
      { name: 'none, at 7 days', current: false, proposed: false, createdUs: -7n * DAY_US, goes: false },
      { name: 'none, 7 days - 1 µs', current: false, proposed: false, createdUs: -7n * DAY_US + 1n, goes: false },
    ];
    const db = await hidpDatabase(async (pool) => {
      for (const [i, c] of cases.entries()) {
        const id = `00000000-0000-7000-9000-${String(i).padStart(12, '0')}`;
        await pool.query(
          `INSERT INTO accounts_user (id, password, is_superuser, first_name, last_name, is_staff, is_active, date_joined, email, email_verified, last_modified)
           VALUES ($1, '', false, '', '', false, true, now(), $2, now(), now())`,
          [id, `${i}@example.com`],
        );
        await pool.query(
          `INSERT INTO hidp_accounts_emailchangerequest (id, proposed_email, current_email, confirmed_by_proposed_email, confirmed_by_current_email, created_at, last_modified, user_id)
           VALUES ($1, 'p@example.com', 'c@example.com', $2, $3, $4, now(), $1)`,
          [id, c.proposed, c.current, at(c.createdUs)],
        );
      }
    });
    try {
      const left = async () => (await db.pool.query('SELECT id FROM hidp_accounts_emailchangerequest ORDER BY id')).rows.map((r) => String(r.id));
      const all = await left();
      const dry = await run(db, EMAIL_CHANGES, { dryRun: true });
      expect(dry).toMatchObject({ status: 'completed', matched: cases.filter((c) => c.goes).length });
      expect(await left()).toEqual(all);
      const result = await run(db, EMAIL_CHANGES, {});
      expect(result).toMatchObject({ status: 'completed', deleted: cases.filter((c) => c.goes).length });
      expect(result.steps).toEqual({
        'hidp_accounts_emailchangerequest (confirmed by both addresses)': 3,
        'hidp_accounts_emailchangerequest (created before now - days)': 2,
      });
      expect(await left()).toEqual(all.filter((_, i) => !cases[i]!.goes));
      // The users are untouched.
      expect(Number((await db.pool.query('SELECT count(*) AS n FROM accounts_user')).rows[0].n)).toBe(cases.length);
    } finally {
      await db.close();
    }
  });

  it('a batch retried after its commit deletes and counts nothing twice', async () => {
    const db = await hidpDatabase(seedAccounts);
    const attempts: number[] = [];
    try {
      const result = await run(db, ACCOUNTS, { batchSize: 1 }, {
        faults: {
          afterBatchCommit: ({ batchNo, attempt }) => {
            if (batchNo === 1) attempts.push(attempt);
            if (batchNo === 1 && attempt === 1) throw new Error('simulated crash after commit');
          },
        },
      });
      expect(attempts).toEqual([1, 2]);
      expect(result).toMatchObject({ status: 'completed', deleted: 3, children: expectedChildren });
      expect(await rowsLeft(db.pool)).toEqual(expectedLeft);
    } finally {
      await db.close();
    }
  });
});
