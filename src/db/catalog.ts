import type { Db } from './query.js';
import type { ForeignKeyCatalog } from '../purge/types.js';

/**
 * Every foreign key of the database whose referenced table is on the search path (pg_constraint, whatever schema
 * the referencing table is in: a table elsewhere shows schema-qualified and is refused as unknown), the
 * single-column primary keys and the tables on the search path. Read before a run whose steps depend on them.
 */
export async function readForeignKeyCatalog(db: Db): Promise<ForeignKeyCatalog> {
  const fks = await db.query<{ name: string; table: string; references: string; columns: string[]; referenced_columns: string[]; nullable: boolean }>(
    `SELECT con.conname::text AS name, con.conrelid::regclass::text AS "table", con.confrelid::regclass::text AS "references",
            ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
                    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i) AS columns,
            ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
                    JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i) AS referenced_columns,
            (SELECT bool_and(NOT a.attnotnull) FROM unnest(con.conkey) k(n)
                    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n) AS nullable
       FROM pg_constraint con
      WHERE con.contype = 'f' AND pg_table_is_visible(con.confrelid)
      ORDER BY 2, 1`,
  );
  const pks = await db.query<{ table: string; column: string }>(
    `SELECT con.conrelid::regclass::text AS "table", a.attname::text AS "column"
       FROM pg_constraint con JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
      WHERE con.contype = 'p' AND cardinality(con.conkey) = 1`,
  );
  const tables = await db.query<{ table: string }>(
    `SELECT c.oid::regclass::text AS "table" FROM pg_class c WHERE c.relkind IN ('r', 'p') AND pg_table_is_visible(c.oid) ORDER BY 1`,
  );
  return {
    foreignKeys: fks.map((f) => ({ name: f.name, table: f.table, columns: f.columns, references: f.references, referencedColumns: f.referenced_columns, nullable: Boolean(f.nullable) })),
    primaryKeys: Object.fromEntries(pks.map((p) => [p.table, p.column])),
    tables: tables.map((t) => t.table),
  };
}
