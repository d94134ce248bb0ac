import type pg from 'pg';
import { replaceAt, scanPlaceholders } from './placeholders.js';

/**
 * Our one way into the database: every statement of ours goes through a `Db`, in the worker (on the ORM's pool,
 * see `dbFromOrm` in orm.ts) and in the CLI and JWKS server (on a plain pg pool, see `dbFromPool`).
 *
 * Placeholders are `?` (see placeholders.ts for where a `?` is text). Values are scalars, Dates or JSON text (cast
 * with `?::jsonb`); a list takes one `?` per item, since the two connections would read an array differently. No
 * statement of ours uses PostgreSQL's `?` jsonb operators.
 */
export interface Db {
  /** The rows the statement returns (none for most writes). */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** The number of rows the statement wrote (or returned). */
  execute(sql: string, params?: unknown[]): Promise<number>;
  /** Runs `fn` in one transaction; statements through the `Db` it is given belong to it (SET LOCAL included). */
  transaction<T>(fn: (db: Db) => Promise<T>): Promise<T>;
}

/**
 * One connection, held for a run of statements that must share it, without the ORM's layers: a purge batch's
 * transaction in three round trips (open and check the ledger; the batch; record and commit) instead of eight.
 */
export interface Session {
  /** Statements without bound values, sent in one round trip (simple protocol); the rows of the last one. */
  script<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** One statement with `?` placeholders and its values bound, never inlined. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** `value` as an SQL string literal, for a script. */
  literal(value: string): string;
}

/** A Session over one pg client. */
export function sessionOf(client: pg.ClientBase): Session {
  const last = <T>(r: pg.QueryResult | pg.QueryResult[]) => ((Array.isArray(r) ? r.at(-1)?.rows : r.rows) ?? []) as T[];
  return {
    script: async <T>(sql: string) => last<T>((await client.query(sql)) as unknown as pg.QueryResult | pg.QueryResult[]),
    query: async <T>(sql: string, params: unknown[] = []) => (await client.query(numbered(sql), params)).rows as T[],
    literal: (value) => client.escapeLiteral(value),
  };
}

/** The statement with its value placeholders numbered for pg ($1, $2, ...). */
export function numbered(sql: string): string {
  return replaceAt(sql, scanPlaceholders(sql).values, (n) => `$${n + 1}`);
}

/** A Db over a pg pool (the CLI's commands and the JWKS server). */
export function dbFromPool(pool: pg.Pool): Db {
  const on = (client: pg.Pool | pg.PoolClient, inTx: boolean): Db => ({
    query: async <T>(sql: string, params: unknown[] = []) => (await client.query(numbered(sql), params)).rows as T[],
    execute: async (sql, params = []) => (await client.query(numbered(sql), params)).rowCount ?? 0,
    transaction: async <T>(fn: (db: Db) => Promise<T>) => {
      if (inTx) return fn(on(client, true));
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        const out = await fn(on(c, true));
        await c.query('COMMIT');
        return out;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        c.release();
      }
    },
  });
  return on(pool, false);
}

/** Runs `fn` on a Db over a pool of its own, closed afterwards (a CLI command's database). */
export async function withPoolDb<T>(config: pg.PoolConfig, fn: (db: Db) => Promise<T>): Promise<T> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool(config);
  // An idle connection the server closes (a restart, a terminated backend) fails the next query; it must not
  // crash the process as an unhandled 'error' event.
  pool.on('error', () => undefined);
  try {
    return await fn(dbFromPool(pool));
  } finally {
    await pool.end();
  }
}
