import type pg from 'pg';
import type { Orm } from './orm.js';

/**
 * The little SQL surface the key, scope, OIDC and report code needs, so the same functions run inside
 * activities (on the ORM's pool) and in the CLI (on a plain pg connection). Placeholders are `?`; no query
 * here uses PostgreSQL's `?` jsonb operators.
 */
export interface Db {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs `fn` in one transaction; queries through the `Db` it is given belong to it. */
  transaction<T>(fn: (db: Db) => Promise<T>): Promise<T>;
}

export function dbFromOrm(orm: Orm): Db {
  const conn = () => orm.em.getConnection();
  const make = (trx?: unknown): Db => ({
    query: <T>(sql: string, params: unknown[] = []) => conn().execute<T[]>(sql, params, 'all', trx as never) as Promise<T[]>,
    transaction: <T>(fn: (db: Db) => Promise<T>) => (trx ? fn(make(trx)) : conn().transactional((t) => fn(make(t)))),
  });
  return make();
}

function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

/** A Db over a pg pool (the CLI's read-only commands and the JWKS server). */
export function dbFromPool(pool: pg.Pool): Db {
  const on = (client: pg.Pool | pg.PoolClient, inTx: boolean): Db => ({
    query: async <T>(sql: string, params: unknown[] = []) => (await client.query(numbered(sql), params)).rows as T[],
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
