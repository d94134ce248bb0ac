import type pg from 'pg';

/** Every row of every table, as sorted JSON text per table: equal snapshots mean nothing was written. */
export type TableSnapshot = Record<string, string[]>;

/**
 * Snapshots every base table of the database behind `db` (a TestDatabase or a pool), in every schema but the
 * system ones, so a test can prove that a refused input changed nothing anywhere.
 */
export async function snapshotTables(db: { pool: pg.Pool } | pg.Pool): Promise<TableSnapshot> {
  const pool = 'pool' in db ? db.pool : db;
  const { rows: tables } = await pool.query<{ schema: string; name: string }>(
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
      WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
      ORDER BY 1, 2`,
  );
  const out: TableSnapshot = {};
  for (const t of tables) {
    const ident = `"${t.schema.replace(/"/g, '""')}"."${t.name.replace(/"/g, '""')}"`;
    const { rows } = await pool.query<{ r: string }>(`SELECT row_to_json(t)::text AS r FROM ${ident} t ORDER BY 1`);
    out[`${t.schema}.${t.name}`] = rows.map((r) => r.r);
  }
  return out;
}
