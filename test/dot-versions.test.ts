import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { djangoUnavailable } from './support/django.js';
import { DjangoDatabases, runPresetThrough } from './support/django-runs.js';
import { connectTestClient } from './support/env.js';

// django-oauth-toolkit-cleartokens, version by version, on a table of cases written from upstream's
// oauth2_provider/models.py `clear_expired` at each tag (github.com/django-oauth/django-oauth-toolkit: 1.2.0,
// 1.3.0 to 2.2.0, 2.3.0 to 3.3.0, 3.4.0, 3.4.1; settings defaults from oauth2_provider/settings.py at 3.4.1:
// REFRESH_TOKEN_GRACE_PERIOD_SECONDS 0, REFRESH_TOKEN_REUSE_PROTECTION False). No Django here runs 3.x, so each row
// of `left` is what that source deletes, worked out by hand. The tables are DOT's own: migrated by Debian's
// django-oauth-toolkit 1.7, and for 3.4.0 / 3.4.1 upgraded with the SQL of that tag's migrations 0006 to 0022
// (test/fixtures/django/oauth2_provider_3.4.*.sql). Each case runs through Temporal: dry run, run, rerun.

const reason = await djangoUnavailable();
if (reason) console.warn(`django-oauth-toolkit version cases skipped: ${reason}`);

const T_US = BigInt(Date.parse('2026-06-01T12:00:00.000Z')) * 1000n;
const T = new Date(Number(T_US / 1000n));
const DAY = 86_400n * 1_000_000n;
const HOUR = 3_600n * 1_000_000n;
/** A time `d` microseconds from T, with its microseconds (cleartokens' boundaries are a microsecond wide). */
function at(d: bigint): string {
  const t = T_US + d;
  const micro = ((t % 1000n) + 1000n) % 1000n;
  return new Date(Number((t - micro) / 1000n)).toISOString().replace('Z', `${String(micro).padStart(3, '0')}Z`);
}
const µ = 1n;
const VALID = DAY; // an access token valid for a day more

/**
 * The rows. Refresh token N has access token N (when it has one). REFRESH_TOKEN_EXPIRE_SECONDS is a day (D) where a
 * case says so, the grace period an hour (H).
 */
const REFRESH: Array<{ id: number; revoked: bigint | null; access: bigint | null }> = [
  { id: 1, revoked: -DAY - µ, access: VALID }, // revoked just before now - D
  { id: 2, revoked: -DAY, access: VALID }, //     exactly at now - D
  { id: 3, revoked: -DAY + µ, access: VALID }, // just after
  { id: 4, revoked: -HOUR - µ, access: VALID }, // around now - H (the grace period)
  { id: 5, revoked: -HOUR, access: VALID },
  { id: 6, revoked: -HOUR + µ, access: VALID },
  { id: 7, revoked: -µ, access: VALID }, //       around now
  { id: 8, revoked: 0n, access: VALID },
  { id: 9, revoked: µ, access: VALID },
  { id: 10, revoked: null, access: -DAY - µ }, // unrevoked, access token expired just before now - D (idle)
  { id: 11, revoked: null, access: -DAY }, //     exactly at now - D (3.4.1: `<=`)
  { id: 12, revoked: null, access: -DAY + µ },
  { id: 13, revoked: null, access: null }, //     unrevoked, no access token (3.4.1: an orphan)
  { id: 14, revoked: -µ, access: -DAY - µ }, //   revoked just now, its access token idle (3.4.1 looks at unrevoked only)
  { id: 15, revoked: -DAY - µ, access: null }, // revoked long ago, no access token
  { id: 16, revoked: -µ, access: null }, //       revoked just now, no access token (not an orphan: revoked)
  { id: 17, revoked: null, access: VALID }, //    alive; its access token was refreshed from 1 (source link) and has ID token 3
];
/** Access tokens of no refresh token: 20 expired just now (with ID token 4), 21 expiring exactly now; 22 expired just now, of refresh token 18. */
const LONE_ACCESS = [
  { id: 20, expires: -µ, idToken: 4 },
  { id: 21, expires: 0n, idToken: null },
];
const ID_TOKENS = [
  { id: 1, expires: -µ }, // expired, unreferenced
  { id: 2, expires: 0n }, // expiring exactly now
  { id: 3, expires: -µ }, // expired, of access token 17 (which stays)
  { id: 4, expires: -µ }, // expired, of access token 20 (which goes)
];
const GRANTS = [
  { id: 1, expires: -µ },
  { id: 2, expires: 0n },
  { id: 3, expires: µ },
];

interface Left {
  refresh: number[];
  access: number[];
  id: number[];
  grant: number[];
  /** access token 17's source_refresh_token (1, or null once refresh token 1 is gone: Django's SET_NULL). */
  source: number | null;
}
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const ALL_REFRESH = [...range(1, 17), 18];
const without = (xs: number[], drop: number[]) => xs.filter((x) => !drop.includes(x));
const ALL_ACCESS = [...range(1, 12), 14, 17, 20, 21, 22];

type Shape = '1.7' | '3.4.0' | '3.4.1';
const CASES: Array<{ version: string; shape: Shape; params: Record<string, unknown>; left: Left }> = [
  // 1.1.0-1.2.0: revoked < now - D and idle (access expires < now - D) only with D; access tokens; no grants, no ID tokens.
  { version: '1.2', shape: '1.7', params: { refreshTokenExpireSeconds: 86_400 },
    left: { refresh: without(ALL_REFRESH, [1, 10, 14, 15]), access: without(ALL_ACCESS, [10, 14, 20]), id: [1, 2, 3, 4], grant: [1, 2, 3], source: null } },
  // 1.3.0-2.2.0: grants too.
  { version: '1.7', shape: '1.7', params: { refreshTokenExpireSeconds: 86_400 },
    left: { refresh: without(ALL_REFRESH, [1, 10, 14, 15]), access: without(ALL_ACCESS, [10, 14, 20]), id: [1, 2, 3, 4], grant: [2, 3], source: null } },
  // 2.3.0-3.3.0: ID tokens no access token references, after the access tokens (4 goes with access token 20).
  { version: '3.3', shape: '1.7', params: { refreshTokenExpireSeconds: 86_400 },
    left: { refresh: without(ALL_REFRESH, [1, 10, 14, 15]), access: without(ALL_ACCESS, [10, 14, 20]), id: [2, 3], grant: [2, 3], source: null } },
  { version: '3.3.0', shape: '1.7', params: {},
    left: { refresh: ALL_REFRESH, access: without(ALL_ACCESS, [20]), id: [2, 3], grant: [2, 3], source: 1 } },
  // 3.4.0: revoked <= now - GRACE (now by default), whatever D; the idle step unchanged (any refresh token, `<`).
  { version: '3.4.0', shape: '3.4.0', params: { refreshTokenExpireSeconds: 86_400 },
    left: { refresh: [9, 11, 12, 13, 17, 18], access: without(ALL_ACCESS, [10, 14, 20]), id: [2, 3], grant: [2, 3], source: null } },
  { version: '3.4.0', shape: '3.4.0', params: {},
    left: { refresh: [9, 10, 11, 12, 13, 17, 18], access: without(ALL_ACCESS, [14, 20]), id: [2, 3], grant: [2, 3], source: null } },
  { version: '3.4.0', shape: '3.4.0', params: { refreshTokenExpireSeconds: 86_400, refreshTokenGracePeriodSeconds: 3_600 },
    left: { refresh: without(ALL_REFRESH, [1, 2, 3, 4, 5, 10, 14, 15]), access: without(ALL_ACCESS, [10, 14, 20]), id: [2, 3], grant: [2, 3], source: null } },
  // Reuse protection: revoked ones kept until revoked <= now - D (the grace period no longer counts); none without D.
  { version: '3.4.0', shape: '3.4.0', params: { refreshTokenExpireSeconds: 86_400, refreshTokenGracePeriodSeconds: 3_600, refreshTokenReuseProtection: true },
    left: { refresh: without(ALL_REFRESH, [1, 2, 10, 14, 15]), access: without(ALL_ACCESS, [10, 14, 20]), id: [2, 3], grant: [2, 3], source: null } },
  { version: '3.4.0', shape: '3.4.0', params: { refreshTokenReuseProtection: true },
    left: { refresh: ALL_REFRESH, access: without(ALL_ACCESS, [20]), id: [2, 3], grant: [2, 3], source: 1 } },
  // 3.4.1: orphans (unrevoked, no access token) always; idle only unrevoked ones, at now - D too.
  { version: '3.4.1', shape: '3.4.1', params: { refreshTokenExpireSeconds: 86_400 },
    left: { refresh: [9, 12, 17, 18], access: without(ALL_ACCESS, [10, 11, 14, 20]), id: [2, 3], grant: [2, 3], source: null } },
  { version: '3.4.1', shape: '3.4.1', params: {},
    left: { refresh: [9, 10, 11, 12, 17, 18], access: without(ALL_ACCESS, [14, 20]), id: [2, 3], grant: [2, 3], source: null } },
  { version: '3.4.1', shape: '3.4.1', params: { refreshTokenExpireSeconds: 86_400, refreshTokenGracePeriodSeconds: 3_600 },
    left: { refresh: without(ALL_REFRESH, [1, 2, 3, 4, 5, 10, 11, 13, 15]), access: without(ALL_ACCESS, [10, 11, 20]), id: [2, 3], grant: [2, 3], source: null } },
  // Reuse protection on 3.4.1: refresh token 14 (revoked just now, idle access token) stays, unlike 3.4.0.
  { version: '3.4.1', shape: '3.4.1', params: { refreshTokenExpireSeconds: 86_400, refreshTokenReuseProtection: true },
    left: { refresh: without(ALL_REFRESH, [1, 2, 10, 11, 13, 15]), access: without(ALL_ACCESS, [10, 11, 20]), id: [2, 3], grant: [2, 3], source: null } },
  { version: '3.4.1', shape: '3.4.1', params: { refreshTokenReuseProtection: true },
    left: { refresh: without(ALL_REFRESH, [13]), access: without(ALL_ACCESS, [20]), id: [2, 3], grant: [2, 3], source: 1 } },
];

describe.skipIf(reason)("django-oauth-toolkit's clear_expired, release by release, on DOT's migrated tables", () => {
  const dbs = new DjangoDatabases(inject('adminDbUrl'));
  const fixtures = join(import.meta.dirname, 'fixtures', 'django');
  const shapes = new Map<Shape, string>();
  let client: Client;

  beforeAll(async () => {
    client = await connectTestClient();
    // One database migrated by Django (DOT 1.7's tables), seeded; the 3.4 shapes are that database upgraded.
    const seeded = await dbs.migrated('dot');
    const q = (sql: string, params: unknown[] = []) => dbs.query(seeded, sql, params);
    await q(`INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) VALUES (1, 'x', false, 'u', '', '', 'u@example.org', false, true, now())`);
    await q(`INSERT INTO oauth2_provider_application (id, client_id, redirect_uris, client_type, authorization_grant_type, client_secret, name, user_id, skip_authorization, created, updated, algorithm)
             VALUES (1, 'client', '', 'confidential', 'authorization-code', 'secret', 'app', 1, false, now(), now(), '')`);
    const idRows = ID_TOKENS.map((t) => [t.id, at(t.expires)]);
    await q(`INSERT INTO oauth2_provider_idtoken (id, jti, expires, scope, created, updated, application_id, user_id)
             SELECT i, gen_random_uuid(), e, 'openid', now(), now(), 1, 1 FROM unnest($1::bigint[], $2::timestamptz[]) AS t(i, e)`, [idRows.map((r) => r[0]), idRows.map((r) => r[1])]);
    const access = [
      ...REFRESH.filter((r) => r.access !== null).map((r) => ({ id: r.id, expires: r.access!, idToken: r.id === 17 ? 3 : null })),
      ...LONE_ACCESS,
      { id: 22, expires: -µ, idToken: null },
    ];
    await q(`INSERT INTO oauth2_provider_accesstoken (id, token, expires, scope, created, updated, user_id, application_id, id_token_id)
             SELECT i, 'a' || i, e, 'read', now(), now(), 1, 1, d FROM unnest($1::bigint[], $2::timestamptz[], $3::bigint[]) AS t(i, e, d)`,
      [access.map((a) => a.id), access.map((a) => at(a.expires)), access.map((a) => a.idToken)]);
    const refresh = [...REFRESH.map((r) => ({ id: r.id, access: r.access !== null ? r.id : null, revoked: r.revoked })), { id: 18, access: 22, revoked: null }];
    await q(`INSERT INTO oauth2_provider_refreshtoken (id, token, access_token_id, application_id, user_id, created, updated, revoked)
             SELECT i, 'r' || i, a, 1, 1, $4::timestamptz, $4::timestamptz, r FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[]) AS t(i, a, r)`,
      [refresh.map((r) => r.id), refresh.map((r) => r.access), refresh.map((r) => (r.revoked === null ? null : at(r.revoked))), at(-30n * DAY)]);
    await q(`UPDATE oauth2_provider_accesstoken SET source_refresh_token_id = 1 WHERE id = 17`);
    await q(`INSERT INTO oauth2_provider_grant (id, code, expires, redirect_uri, scope, application_id, user_id, created, updated, code_challenge, code_challenge_method, nonce, claims)
             SELECT i, 'g' || i, e, 'https://app.example.org/cb', 'read', 1, 1, now(), now(), '', '', '', '' FROM unnest($1::bigint[], $2::timestamptz[]) AS t(i, e)`,
      [GRANTS.map((g) => g.id), GRANTS.map((g) => at(g.expires))]);
    shapes.set('1.7', seeded);
    const upgraded340 = await dbs.copyOf(seeded, 'dot340');
    await dbs.query(upgraded340, await readFile(join(fixtures, 'oauth2_provider_3.4.0.sql'), 'utf8'));
    shapes.set('3.4.0', upgraded340);
    const upgraded341 = await dbs.copyOf(upgraded340, 'dot341');
    await dbs.query(upgraded341, await readFile(join(fixtures, 'oauth2_provider_3.4.1.sql'), 'utf8'));
    // The table of unreleased main's pushed authorization requests, one expired row in it: 3.4.1 must not touch it.
    await dbs.query(upgraded341, await readFile(join(fixtures, 'oauth2_provider_par_main.sql'), 'utf8'));
    await dbs.query(upgraded341, `INSERT INTO oauth2_provider_pushedauthorizationrequest (request_uri, client_id, parameters, expires, created) VALUES ('urn:ietf:params:oauth:request_uri:x', 'client', '{}', $1, now())`, [at(-DAY)]);
    shapes.set('3.4.1', upgraded341);
  });
  afterAll(async () => {
    await client?.connection.close();
    await dbs.dropAll();
  });

  it('the 3.4 shapes have the columns 3.4 migrations add (not vacuous: the upgrade SQL ran)', async () => {
    const cols = await dbs.query<{ c: string }>(shapes.get('3.4.1')!, `SELECT table_name || '.' || column_name AS c FROM information_schema.columns WHERE table_name LIKE 'oauth2_provider_%' ORDER BY 1`);
    const names = cols.map((r) => r.c);
    for (const c of ['oauth2_provider_refreshtoken.token_checksum', 'oauth2_provider_refreshtoken.token_family', 'oauth2_provider_accesstoken.resource', 'oauth2_provider_application.registration_source', 'oauth2_provider_devicegrant.user_code']) {
      expect(names).toContain(c);
    }
  });

  for (const c of CASES) {
    it(`${c.version} ${JSON.stringify(c.params)}: the rows clear_expired leaves`, async () => {
      const db = await dbs.copyOf(shapes.get(c.shape)!, 'case');
      const ids = async (table: string) => (await dbs.query<{ id: string }>(db, `SELECT id FROM ${table} ORDER BY id`)).map((r) => Number(r.id));
      const left = async (): Promise<Left & { par?: number[] }> => ({
        refresh: await ids('oauth2_provider_refreshtoken'),
        access: await ids('oauth2_provider_accesstoken'),
        id: await ids('oauth2_provider_idtoken'),
        grant: await ids('oauth2_provider_grant'),
        source: ((await dbs.query<{ s: string | null }>(db, `SELECT source_refresh_token_id::text AS s FROM oauth2_provider_accesstoken WHERE id = 17`))[0]?.s ?? null) as never,
        ...(c.shape === '3.4.1' ? { par: await ids('oauth2_provider_pushedauthorizationrequest') } : {}),
      });
      const r = await runPresetThrough(client, dbs.url(db), 'django-oauth-toolkit-cleartokens', { asOf: T.toISOString(), dotVersion: c.version, ...c.params }, left);
      const got = await left();
      expect({ ...got, source: got.source === null ? null : Number(got.source) }).toEqual({ ...c.left, ...(c.shape === '3.4.1' ? { par: [1] } : {}) });
      const before = { refresh: 18, access: ALL_ACCESS.length, id: 4, grant: 3 };
      const gone = before.refresh - c.left.refresh.length + before.access - c.left.access.length + before.id - c.left.id.length + before.grant - c.left.grant.length;
      expect(r.deleted).toBe(gone);
    });
  }
});
