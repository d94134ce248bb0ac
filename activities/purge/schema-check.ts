import { InputError } from '../../src/kernel/errors.js';
import type { ChildRule, RetentionRule } from '../../src/purge/types.js';
import { isRelationCondition, relationColumns } from '../../src/purge/relations.js';
import { cascadeColumns } from '../../src/purge/cascade.js';
import type { Db } from '../../src/db/query.js';


/** Every table.column a rule reads or writes. */
function columnsOf(rule: RetentionRule): Array<[string, string]> {
  const out: Array<[string, string]> = [
    [rule.table, rule.primaryKey],
    [rule.table, rule.timestampColumn],
    ...(rule.where ?? []).flatMap((c) => (isRelationCondition(c) ? relationColumns(c, rule) : [c.column, ...(c.op === 'not_all_true' ? c.also : [])].map((col) => [rule.table, col] as [string, string]))),
    ...(rule.action?.type === 'update' ? Object.keys(rule.action.set).map((c) => [rule.table, c] as [string, string]) : []),
  ];
  const walk = (children: ChildRule[] | undefined, parentTable: string, parentKey: string) => {
    for (const c of children ?? []) {
      out.push([c.table, c.foreignKey], [parentTable, c.references ?? parentKey]);
      if (c.children?.length) {
        out.push([c.table, c.primaryKey ?? 'id']);
        walk(c.children, c.table, c.primaryKey ?? 'id');
      }
    }
  };
  walk(rule.children, rule.table, rule.primaryKey);
  out.push(...cascadeColumns(rule));
  return out;
}

/**
 * Checks the rules against the live schema before anything runs: a missing table or column (a preset
 * pointed at the wrong database, a typo in a custom rule) is an error naming the job and what is missing.
 */
export async function checkAgainstSchema(db: Db, job: string, steps: RetentionRule[]): Promise<void> {
  // Unqualified names resolve along the search path (our schema, then the application's): the first schema
  // on it that has a table of that name is the one a statement will touch.
  const rows = await db.query<{ table_name: string; column_name: string; rank: number }>(
    `SELECT c.table_name, c.column_name, array_position(current_schemas(false), c.table_schema::name) AS rank
       FROM information_schema.columns c WHERE c.table_schema = ANY (current_schemas(false))`,
  );
  const firstRank = new Map<string, number>();
  for (const r of rows) firstRank.set(r.table_name, Math.min(firstRank.get(r.table_name) ?? Infinity, Number(r.rank)));
  const have = new Map<string, Set<string>>();
  for (const r of rows) {
    if (Number(r.rank) !== firstRank.get(r.table_name)) continue;
    if (!have.has(r.table_name)) have.set(r.table_name, new Set());
    have.get(r.table_name)!.add(r.column_name);
  }
  for (const [i, step] of steps.entries()) {
    if (step.naiveUtcIn !== undefined) {
      // The zone is read by PostgreSQL: one it does not know would fail the first batch, not the start.
      const [known] = await db.query(`SELECT 1 AS one FROM pg_timezone_names WHERE lower(name) = lower(?) LIMIT 1`, [step.naiveUtcIn]);
      if (!known) throw new InputError(`${job}.steps[${i}].naiveUtcIn`, `time zone "${step.naiveUtcIn}" is not known to this PostgreSQL server (pg_timezone_names)`);
    }
    for (const [table, column] of columnsOf(step)) {
      const cols = have.get(table);
      if (!cols) throw new InputError(`${job}.steps[${i}].table`, `table "${table}" does not exist in this database`);
      if (!cols.has(column)) throw new InputError(`${job}.steps[${i}]`, `column "${table}.${column}" does not exist; the table has: ${[...cols].sort().join(', ')}`);
    }
  }
}
