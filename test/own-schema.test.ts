import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { expect, inject, it } from 'vitest';
import { migrate, openOrm } from '../src/orm/index.js';
import { OWN_TABLES } from '../src/db/schema.js';
import { migrationsList } from '../src/orm/migrations/index.js';
import { dbFromOrm } from '../src/orm/index.js';
import { unexpiredTokenReferences } from '../src/keys/references.js';
import { createHealthActivities } from '../activities/health.js';
import { adminQuery, dropDatabase } from './support/db.js';
import { createTestDatabase } from './support/env.js';
import { withDatabase } from './support/global-setup.js';

async function tablesBySchema(pool: pg.Pool | pg.Client): Promise<Record<string, string[]>> {
  const { rows } = await pool.query(`SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_schema IN ('public', 'auth_maintenance') ORDER BY 1, 2`);
  const out: Record<string, string[]> = {};
  for (const r of rows) (out[r.s] ??= []).push(r.t);
  return out;
}

it('a fresh install: our tables in auth_maintenance, the native job tables (wanted here) in public', async () => {
  const db = await createTestDatabase();
  try {
    const t = await tablesBySchema(db.pool);
    expect(t.auth_maintenance).toEqual([...OWN_TABLES].sort());
    expect(t.public).toEqual(expect.arrayContaining(['account', 'access_token', 'outstanding_token', 'blacklisted_token', 'oauth_grant']));
    expect(t.public).not.toContain('maintenance_run');
  } finally {
    await db.close();
  }
});

it('an install from before the schema of our own moves its tables there, audit history and keys included', async () => {
  const db = await createTestDatabase();
  try {
    // The layout such an install has: everything in public, the migration history without the newest migration.
    for (const t of OWN_TABLES) await db.pool.query(`ALTER TABLE auth_maintenance."${t}" SET SCHEMA public`);
    await db.pool.query(`DELETE FROM public.mikro_orm_migrations WHERE name = 'Migration20261123100000_own_schema'`);
    await db.pool.query(`INSERT INTO public.maintenance_run (id, workflow_id, job, parameters, trigger, dry_run, status, started_at) VALUES ('r1', 'w1', 'purge-expired-tokens', '{}', 'cli', false, 'completed', now())`);
    await db.pool.query(`INSERT INTO public.purge_batch (run_id, batch_no, deleted, duration_ms) VALUES ('r1', 0, 7, 3)`);
    await db.pool.query(`INSERT INTO public.scope (name, description) VALUES ('base', 'b')`);
    const nativeBefore = (await tablesBySchema(db.pool)).public!.filter((t) => !(OWN_TABLES as readonly string[]).includes(t));

    const orm = await openOrm(db.url, { nativeTables: true });
    try {
      expect(await migrate(orm)).toEqual(['Migration20261123100000_own_schema']);
      expect(await migrate(orm)).toEqual([]);
    } finally {
      await orm.close();
    }
    const t = await tablesBySchema(db.pool);
    expect(t.auth_maintenance).toEqual([...OWN_TABLES].sort());
    expect(t.public).toEqual(nativeBefore);
    expect((await db.pool.query(`SELECT id, status FROM auth_maintenance.maintenance_run`)).rows).toEqual([{ id: 'r1', status: 'completed' }]);
    expect((await db.pool.query(`SELECT deleted FROM auth_maintenance.purge_batch`)).rows).toEqual([{ deleted: 7 }]);
    expect((await db.pool.query(`SELECT name FROM auth_maintenance.scope`)).rows).toEqual([{ name: 'base' }]);
    // The history moved too: the earlier migrations are not applied again.
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM auth_maintenance.mikro_orm_migrations`)).rows).toEqual([{ n: migrationsList({ schema: 'auth_maintenance', nativeTables: true }).length }]);
  } finally {
    await db.close();
  }
});

it("a database the tool does not own: public exactly as it was, nothing but our schema created", async () => {
  const admin = inject('adminDbUrl');
  const name = `am_app_${randomBytes(4).toString('hex')}`;
  await adminQuery(admin, `CREATE DATABASE "${name}"`);
  const url = withDatabase(admin, name);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    // An application's own tables, one of them named like a native job table.
    await c.query(`CREATE TABLE account (id serial PRIMARY KEY, email text NOT NULL); CREATE TABLE app_session (id bigserial PRIMARY KEY, account_id int REFERENCES account (id) DEFERRABLE INITIALLY DEFERRED)`);
    const catalog = async () => [
      (await c.query(`SELECT relname, relkind FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1`)).rows,
      (await c.query(`SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2`)).rows,
      (await c.query(`SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1`)).rows,
    ];
    const before = await catalog();
    const orm = await openOrm(url, { nativeTables: false });
    try {
      await migrate(orm);
      // The report and the key retirement, which read the native token table, work without it.
      const { stats } = await createHealthActivities({ orm }).gatherHealthStats();
      expect(stats.tokens).toEqual({ total: 0, active: 0, expired: 0, revoked: 0 });
      expect((await unexpiredTokenReferences(dbFromOrm(orm))).size).toBe(0);
    } finally {
      await orm.close();
    }
    expect(await catalog()).toEqual(before);
    const t = await tablesBySchema(c);
    expect(t.auth_maintenance).toEqual([...OWN_TABLES].sort());
    expect((await c.query(`SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg_%' AND nspname <> 'information_schema' ORDER BY 1`)).rows.map((r) => r.nspname)).toEqual(['auth_maintenance', 'public']);
  } finally {
    await c.end();
    await dropDatabase(admin, name);
  }
});
