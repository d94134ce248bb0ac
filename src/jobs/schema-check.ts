import { InputError } from '../config.js';
import type { ChildRule, RetentionRule } from './types.js';

interface Executor {
  execute(sql: string, params?: unknown[]): Promise<unknown>;
}

/** Every table.column a rule reads or writes. */
function columnsOf(rule: RetentionRule): Array<[string, string]> {
  const out: Array<[string, string]> = [
    [rule.table, rule.primaryKey],
    [rule.table, rule.timestampColumn],
    ...(rule.where ?? []).map((c) => [rule.table, c.column] as [string, string]),
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
  return out;
}

/**
 * Checks the rules against the live schema before anything runs: a missing table or column (a preset
 * pointed at the wrong database, a typo in a custom rule) is an error naming the job and what is missing.
 */
export async function checkAgainstSchema(db: Executor, job: string, steps: RetentionRule[]): Promise<void> {
  const rows = (await db.execute(
    `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`,
  )) as Array<{ table_name: string; column_name: string }>;
  const have = new Map<string, Set<string>>();
  for (const r of rows) {
    if (!have.has(r.table_name)) have.set(r.table_name, new Set());
    have.get(r.table_name)!.add(r.column_name);
  }
  for (const [i, step] of steps.entries()) {
    for (const [table, column] of columnsOf(step)) {
      const cols = have.get(table);
      if (!cols) throw new InputError(`${job}.steps[${i}].table`, `table "${table}" does not exist in this database`);
      if (!cols.has(column)) throw new InputError(`${job}.steps[${i}]`, `column "${table}.${column}" does not exist; the table has: ${[...cols].sort().join(', ')}`);
    }
  }
}
