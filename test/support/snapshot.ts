import type { TestDatabase } from './env.js';

/** A comparable picture of every row of every table in the test database (row count and a digest per table). */
export async function snapshotTables(db: TestDatabase, except: string[] = []): Promise<Record<string, { rows: number; digest: string }>> {
  const { rows: tables } = await db.pool.query<{ schema: string; name: string }>(
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
      WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
  );
  const out: Record<string, { rows: number; digest: string }> = {};
  for (const t of tables) {
    if (except.includes(t.name)) continue;
    const q = `"${t.schema}"."${t.name}"`;
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n, coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') AS d FROM ${q} x`);
    out[`${t.schema}.${t.name}`] = { rows: rows[0].n, digest: rows[0].d };
  }
  return out;
}
