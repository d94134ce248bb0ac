/*
 * FROZEN: the batch statement of the legacy v1 purge (see ./workflow.ts and docs/versioning.md). What a rule's
 * conditions and dependents mean is the engine's (src/purge/sql.ts), shared on purpose: a rule matches the same
 * rows whichever loop runs it.
 */
import { bindConditionValues, cutoffOperator } from '../relations.js';
import { ident } from '../identifiers.js';
import { countColumns, dependentCtes, ruleConditions, victimColumns, type BuiltSql, type ChildCte } from '../sql.js';
import type { RetentionRule, SetValue } from '../types.js';

/**
 * One batch as one statement: lock up to `limit` matching rows in timestamp order (skipping rows other
 * transactions hold), from the keyset position `after` when asked, take care of their dependents, then delete
 * (or update) them, and return the counts.
 */
export function buildLegacyBatchSql(rule: RetentionRule, opts: { keyset?: boolean } = {}): BuiltSql {
  const t = ident(rule.table);
  const pk = ident(rule.primaryKey);
  const ts = ident(rule.timestampColumn);
  const where = ruleConditions(rule.where, rule);
  // Keyset: start where the previous batch ended, so the index scan does not wade through the dead
  // entries of every row deleted so far.
  const keyset = opts.keyset ? ` AND ${ts} >= ?` : '';
  const parts = [`victims AS (SELECT ${victimColumns(rule, true)} FROM ${t} WHERE ${ts} ${cutoffOperator(rule)} ?${keyset}${where.sql} ORDER BY ${ts}, ${pk} LIMIT ? FOR UPDATE SKIP LOCKED)`];
  const ctes: ChildCte[] = [];
  const action = rule.action ?? { type: 'delete' };
  let setValues: Array<SetValue> = [];
  if (action.type === 'delete') {
    dependentCtes(rule, parts, ctes, 'delete');
    parts.push(`parent AS (DELETE FROM ${t} WHERE ${pk} IN (SELECT ${pk} FROM victims) RETURNING 1 AS one)`);
  } else {
    const entries = Object.entries(action.set);
    setValues = entries.map(([, v]) => v);
    parts.push(`parent AS (UPDATE ${t} SET ${entries.map(([col]) => `${ident(col)} = ?`).join(', ')} WHERE ${pk} IN (SELECT ${pk} FROM victims) RETURNING 1 AS one)`);
  }
  const sql = `WITH ${parts.join(',\n  ')}\nSELECT ${['(SELECT count(*) FROM parent)::int AS affected', `(SELECT max(${ts}) FROM victims) AS last_ts`, ...countColumns(ctes)].join(', ')}`;
  return {
    sql,
    children: ctes,
    bind: ({ cutoff, limit, runTime, after }) => [
      cutoff,
      ...(opts.keyset ? [after] : []),
      ...bindConditionValues(where.values, cutoff),
      limit,
      ...setValues.map((v) => (v !== null && typeof v === 'object' ? (runTime ?? cutoff) : v)),
    ],
  };
}
