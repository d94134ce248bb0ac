import { MikroORM, type Options } from '@mikro-orm/postgresql';
import type pg from 'pg';
import { Migrator } from '@mikro-orm/migrations';
import { entities } from './entities.js';
import { migrationsList } from './migrations/index.js';
import { replaceAt, scanPlaceholders } from '../db/placeholders.js';
import { sessionOf, type Db, type Session } from '../db/query.js';
import { DEFAULT_SCHEMA, OWN_APPLICATION_NAME, OWN_TABLES, searchPathOption, type TablePlacement } from '../db/schema.js';

export type Orm = MikroORM;

/**
 * The ORM of one database: this tool's tables in `schema` (first on the search path), and the native job tables in
 * `public` only when `nativeTables` says so (the settings decide: MAINT_SCHEMA, MAINT_NATIVE_TABLES).
 */
export function ormOptions(databaseUrl: string, { schema = DEFAULT_SCHEMA, nativeTables = false }: Partial<TablePlacement> = {}): Options {
  return {
    clientUrl: databaseUrl,
    // Our entities live in our schema; the native job tables' entities say `public` themselves.
    schema,
    entities,
    extensions: [Migrator],
    // Our schema first, then the application's: unqualified SQL finds both, and creates land in ours.
    driverOptions: { connection: { options: searchPathOption(schema), application_name: OWN_APPLICATION_NAME } },
    migrations: { migrationsList: migrationsList({ schema, nativeTables }), transactional: true, allOrNothing: true, tableName: `${schema}.mikro_orm_migrations`, silent: true },
    pool: { min: 0, max: 10 },
    debug: false,
    allowGlobalContext: false,
    discovery: { warnWhenNoEntities: false },
  };
}

/**
 * A Db on the ORM's connection pool (the worker). MikroORM inlines the values into the statement, which is why
 * database errors are cut down before they reach logs (errors.ts); a `?` meant as text is escaped for it.
 */
export function dbFromOrm(orm: Orm): Db {
  // Looked up per statement: the ORM may be closed and reopened under the same object (tests do).
  const conn = () => orm.em.getConnection();
  // It reads `?` only when there are values, and `\?` as a `?` of the text.
  const escapeText = (sql: string, params: unknown[]) => (params.length ? replaceAt(sql, scanPlaceholders(sql).text, () => '\\?') : sql);
  const make = (trx?: unknown): Db => ({
    query: async <T>(sql: string, params: unknown[] = []) => (await conn().execute<T[]>(escapeText(sql, params), params, 'all', trx as never)) as T[],
    execute: async (sql, params = []) => (await conn().execute<{ affectedRows: number }>(escapeText(sql, params), params, 'run', trx as never)).affectedRows,
    transaction: <T>(fn: (db: Db) => Promise<T>) => (trx ? fn(make(trx)) : conn().transactional((t) => fn(make(t)))),
  });
  return make();
}

/**
 * Runs `fn` on one connection of the ORM's pool (see `Session`). When `fn` fails, whatever transaction it left open
 * is rolled back at once (its locks must not wait for the connection's next user); a connection that cannot even
 * do that goes back marked for disposal, as knex marks one that errored, and is never reused.
 */
export async function withSession<T>(orm: Orm, fn: (session: Session) => Promise<T>): Promise<T> {
  const client = orm.em.getConnection().getKnex().client as { acquireConnection(): Promise<pg.Client & { __knex__disposed?: unknown }>; releaseConnection(c: unknown): Promise<void> };
  const conn = await client.acquireConnection();
  try {
    return await fn(sessionOf(conn));
  } catch (err) {
    // Outside a transaction this is a warning, not an error.
    await conn.query('ROLLBACK').catch((broken: unknown) => (conn.__knex__disposed = broken));
    throw err;
  } finally {
    await client.releaseConnection(conn);
  }
}

export async function openOrm(databaseUrl: string, placement: Partial<TablePlacement> = {}): Promise<Orm> {
  return MikroORM.init(ormOptions(databaseUrl, placement));
}

/**
 * An install from before the schema of our own has its tables, migration history included, in `public`:
 * move them (with their indexes, constraints and sequences, and the audit history in them) into the schema,
 * once, before the migrator looks for its history there.
 */
async function adoptTablesFromPublic(orm: Orm, schema: string): Promise<string[]> {
  const db = dbFromOrm(orm);
  const [ours] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = ? AND tablename = 'mikro_orm_migrations'`,
    [schema],
  );
  if (ours!.n > 0) return [];
  const [history] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename = 'mikro_orm_migrations'`,
  );
  if (history!.n === 0) return [];
  // Someone else's MikroORM history is not ours to take.
  const [mine] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM public.mikro_orm_migrations WHERE name = 'Migration20261122000000_initial'`);
  if (mine!.n === 0) return [];
  const present = await db.query<{ tablename: string }>(
    `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename IN (${OWN_TABLES.map(() => '?').join(', ')})`,
    [...OWN_TABLES],
  );
  const moved = present.map((r) => r.tablename);
  await db.transaction(async (tx) => {
    for (const t of moved) await tx.query(`ALTER TABLE public."${t}" SET SCHEMA "${schema}"`);
  });
  return moved;
}

/** Applies pending migrations, placing the tables as the ORM was opened to; returns the names applied. */
export async function migrate(orm: Orm): Promise<string[]> {
  const schema = orm.config.get('schema') ?? DEFAULT_SCHEMA;
  await dbFromOrm(orm).query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await adoptTablesFromPublic(orm, schema);
  const applied = await orm.getMigrator().up();
  return applied.map((m) => m.name);
}
