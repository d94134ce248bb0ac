import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { djangoUnavailable, frozenCommand } from './support/django.js';
import { DjangoDatabases, runPresetThrough } from './support/django-runs.js';
import { connectTestClient } from './support/env.js';

// Two presets against Django's real commands (Debian 12: Django 3.2, djangorestframework-simplejwt 5.2.2), on copies
// of one database migrated by Django and seeded on both sides of every boundary: Django's `clearsessions` beside
// django-clearsessions, and simplejwt's `flushexpiredtokens` under USE_TZ = False, TIME_ZONE = Europe/Berlin beside
// django-simplejwt-flush-expired --django-time-zone Europe/Berlin. Django's clock is frozen at T (test/django/
// frozen_command.py), the presets run as of T through Temporal; the rows left must be the same.

const reason = await djangoUnavailable();
if (reason) console.warn(`Django sessions and time-zone conformance tests skipped: ${reason}`);

const SEED = Number(process.env.MAINT_DJANGO_SEED ?? randomBytes(4).readUInt32LE());
const HOUR_US = 3_600_000_000n;
const BERLIN = { MAINT_DJANGO_USE_TZ: 'false', MAINT_DJANGO_TIME_ZONE: 'Europe/Berlin' };

/** mulberry32, so a failing seed replays with MAINT_DJANGO_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const us = (d: Date) => BigInt(d.getTime()) * 1000n;
/** ISO 8601 with microseconds (PostgreSQL keeps them; a Date would not). */
function iso(t: bigint): string {
  const micro = ((t % 1000n) + 1000n) % 1000n;
  return new Date(Number((t - micro) / 1000n)).toISOString().replace('Z', `${String(micro).padStart(3, '0')}Z`);
}

/** Timestamps: a third exactly at one of `centres` or a microsecond or millisecond off it, the rest spread over `spreadUs` around them. */
function stamps(rand: () => number, n: number, centres: bigint[], spreadUs: bigint): string[] {
  const edges = centres.flatMap((c) => [-1000n, -1n, 0n, 1n, 1000n].map((d) => c + d));
  const lo = centres.reduce((a, b) => (a < b ? a : b)) - spreadUs;
  const span = Number(centres.reduce((a, b) => (a > b ? a : b)) + spreadUs - lo);
  return Array.from({ length: n }, () => iso(rand() < 0.33 ? edges[Math.floor(rand() * edges.length)]! : lo + BigInt(Math.floor(rand() * span))));
}

describe.skipIf(reason)("Django's clearsessions and simplejwt under USE_TZ = False, against the real commands", () => {
  const dbs = new DjangoDatabases(inject('adminDbUrl'));
  let client: Client;
  let migrated: string;

  beforeAll(async () => {
    client = await connectTestClient();
    migrated = await dbs.migrated('migrated');
  });
  afterAll(async () => {
    await client?.connection.close();
    await dbs.dropAll();
  });

  const sessionsLeft = async (db: string) => (await dbs.query<{ k: string }>(db, `SELECT session_key AS k FROM django_session ORDER BY 1`)).map((r) => r.k);

  for (const [label, env] of [['USE_TZ = True', {}], ['USE_TZ = False, TIME_ZONE = Europe/Berlin', BERLIN]] as const) {
    it(`django-clearsessions leaves the sessions clearsessions leaves (${label}; seed ${SEED})`, async () => {
      const T = new Date('2026-06-01T12:00:00.000Z');
      const seeded = await dbs.copyOf(migrated, 'sessions');
      const rand = prng(SEED);
      const n = 1500;
      const keys = Array.from({ length: n }, (_, i) => `${i.toString(36).padStart(4, '0')}${Math.floor(rand() * 36 ** 8).toString(36).padStart(8, '0')}`);
      await dbs.query(seeded, `INSERT INTO django_session (session_key, session_data, expire_date) SELECT k, 'e30', e FROM unnest($1::text[], $2::timestamptz[]) AS t(k, e)`, [
        keys,
        stamps(rand, n, [us(T)], 72n * HOUR_US),
      ]);
      const before = await sessionsLeft(seeded);
      const django = await dbs.copyOf(seeded, 'django');
      const ours = await dbs.copyOf(seeded, 'ours');

      // clear_expired of the db backend: expire_date__lt=timezone.now() (Django 3.2.25, contrib/sessions/backends/db.py).
      await frozenCommand(dbs.url(django), T, 'clearsessions', env);
      const byDjango = await sessionsLeft(django);
      const r = await runPresetThrough(client, dbs.url(ours), 'django-clearsessions', { asOf: T.toISOString() }, () => sessionsLeft(ours));
      expect(await sessionsLeft(ours), `seed ${SEED}`).toEqual(byDjango);
      expect(r.deleted).toBe(before.length - byDjango.length);
      // Not vacuous: some go, some stay; exactly at now stays, a microsecond before goes.
      expect(byDjango.length).toBeGreaterThan(0);
      expect(byDjango.length).toBeLessThan(before.length);
      const at = async (t: bigint) => (await dbs.query<{ k: string }>(seeded, `SELECT session_key AS k FROM django_session WHERE expire_date = $1`, [iso(t)])).map((x) => x.k);
      for (const k of await at(us(T))) expect(byDjango).toContain(k);
      for (const k of await at(us(T) - 1n)) expect(byDjango).not.toContain(k);
    });
  }

  // Reference times: summer (CEST, UTC+2), winter (CET, UTC+1), and 02:30 UTC on the night Berlin's clocks go back,
  // when 02:30 is a Berlin wall clock that happens twice (PostgreSQL picks one for Django's naive value: so must we).
  const times = ['2026-06-01T12:00:00.000Z', '2026-01-15T12:00:00.000Z', '2026-10-25T02:30:00.000Z'];
  for (const time of times) {
    it(`flushexpiredtokens with USE_TZ = False, TIME_ZONE = Europe/Berlin: --django-time-zone leaves the same rows (now ${time}; seed ${SEED})`, async () => {
      const T = new Date(time);
      const seeded = await dbs.copyOf(migrated, 'jwt');
      const rand = prng(SEED);
      const n = 2000;
      // simplejwt stored the UTC wall clock read as Berlin time: an instant one or two hours before the true one.
      // Rows sit around both candidate cutoffs (T - 1h, T - 2h) and around T, and all over the window between.
      const expires = stamps(rand, n, [us(T) - 2n * HOUR_US, us(T) - HOUR_US, us(T)], 2n * HOUR_US);
      const ids = Array.from({ length: n }, (_, i) => i + 1);
      await dbs.query(seeded, `INSERT INTO token_blacklist_outstandingtoken (id, jti, token, created_at, expires_at, user_id)
        SELECT i, 'jti-' || i, 'jwt-' || i, e - interval '1 day', e, NULL FROM unnest($1::bigint[], $2::timestamptz[]) AS t(i, e)`, [ids, expires]);
      await dbs.query(seeded, `INSERT INTO token_blacklist_blacklistedtoken (token_id, blacklisted_at) SELECT unnest($1::bigint[]), now()`, [ids.filter(() => rand() < 0.3)]);
      const left = async (db: string) => ({
        outstanding: (await dbs.query<{ id: string }>(db, `SELECT id::text FROM token_blacklist_outstandingtoken ORDER BY id`)).map((r) => r.id),
        blacklisted: (await dbs.query<{ id: string }>(db, `SELECT token_id::text AS id FROM token_blacklist_blacklistedtoken ORDER BY token_id`)).map((r) => r.id),
      });
      const before = await left(seeded);
      const django = await dbs.copyOf(seeded, 'django');
      const ours = await dbs.copyOf(seeded, 'ours');
      const naive = await dbs.copyOf(seeded, 'naive');

      await frozenCommand(dbs.url(django), T, 'flushexpiredtokens', BERLIN);
      const byDjango = await left(django);
      await runPresetThrough(client, dbs.url(ours), 'django-simplejwt-flush-expired', { asOf: T.toISOString(), djangoTimeZone: 'Europe/Berlin' }, () => left(ours));
      expect(await left(ours), `seed ${SEED}`).toEqual(byDjango);
      expect(byDjango.outstanding.length).toBeGreaterThan(0);
      expect(byDjango.outstanding.length).toBeLessThan(before.outstanding.length);

      // Without the flag the preset compares with the true now and deletes the tokens of the offset window early:
      // rows Django keeps. This is what the flag is for.
      await runPresetThrough(client, dbs.url(naive), 'django-simplejwt-flush-expired', { asOf: T.toISOString() }, () => left(naive));
      const byNaive = await left(naive);
      const early = byDjango.outstanding.filter((id) => !byNaive.outstanding.includes(id));
      expect(early.length).toBeGreaterThan(0);
      expect(byNaive.outstanding.every((id) => byDjango.outstanding.includes(id))).toBe(true);
    });
  }
});
