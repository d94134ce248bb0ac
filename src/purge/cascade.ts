import { ident } from './identifiers.js';
import { cutoffOperator } from './relations.js';
import type { Cascade, RetentionRule } from './types.js';

/** One CTE of a batch and what it counts (the same shape as sql.ts's children). */
interface CascadeCte {
  name: string;
  label: string;
}

/** The delete edges that reach `table`. */
function deleteEdgesInto(c: Cascade, table: string) {
  return c.edges.filter((e) => e.action === 'delete' && e.table === table);
}

/**
 * The tables a cascade deletes from, parents before children, the rule's table first. A table is placed once
 * every table with a delete edge into it is (so its rows are known from all its parents); a cycle of delete
 * edges, or an edge from a table the cascade never reaches, is refused.
 */
export function deletionOrder(root: string, c: Cascade): string[] {
  const tables = [...new Set(c.edges.filter((e) => e.action === 'delete').map((e) => e.table))].filter((t) => t !== root);
  const order = [root];
  const placed = new Set(order);
  let pending = tables;
  while (pending.length) {
    const ready = pending.filter((t) => deleteEdgesInto(c, t).every((e) => placed.has(e.parent)));
    if (!ready.length) throw new Error(`cascade of ${root}: the delete edges into ${pending.join(', ')} form a cycle or start from a table nothing deletes from`);
    for (const t of ready) {
      order.push(t);
      placed.add(t);
    }
    pending = pending.filter((t) => !placed.has(t));
  }
  return order;
}

/**
 * The CTEs of a rule's cascade for the rows of `victims`, appended to `parts` (the statement's WITH list):
 * 1. one set per table, from its parents' sets (every row any delete edge reaches, each once), all read from the
 *    statement's snapshot before anything changes;
 * 2. per table, one UPDATE clearing every set-null column that references a deleted row, on the rows that stay
 *    (a row both unlinked and deleted would be changed twice in one statement, which PostgreSQL does not do
 *    reliably);
 * 3. one DELETE per table.
 * All in one statement, so the foreign keys hold when checked at its end even with constraints IMMEDIATE, and
 * in the batch's transaction. The select form counts the same rows without changing any.
 */
export function cascadeCtes(rule: RetentionRule, parts: string[], ctes: CascadeCte[], form: 'delete' | 'select'): void {
  const c = rule.cascade;
  if (!c) return;
  const order = deletionOrder(rule.table, c);
  const keyOf = (t: string) => (t === rule.table ? rule.primaryKey : c.keys[t]);
  const setOf = new Map<string, string>([[rule.table, 'victims']]);
  const keysIn = (t: string) => `SELECT ${ident(keyOf(t)!)} FROM ${setOf.get(t)!}`;
  // A batch's sets are small: `= ANY(ARRAY(...))` is an index probe per key. A count over every matching row
  // joins instead (a large array tested row by row would be quadratic).
  const refersTo = (column: string, parent: string) => {
    if (!setOf.has(parent)) throw new Error(`cascade of ${rule.table}: ${parent} is not a table it deletes from`);
    return form === 'delete' ? `${ident(column)} = ANY(ARRAY(${keysIn(parent)}))` : `${ident(column)} IN (${keysIn(parent)})`;
  };
  for (const [i, t] of order.slice(1).entries()) {
    if (!keyOf(t)) throw new Error(`cascade of ${rule.table}: no key given for ${t}`);
    const name = `k${i}`;
    parts.push(`${name} AS MATERIALIZED (SELECT ${ident(keyOf(t)!)} FROM ${ident(t)} WHERE ${deleteEdgesInto(c, t).map((e) => refersTo(e.column, e.parent)).join(' OR ')})`);
    setOf.set(t, name);
  }
  const unlinked = [...new Set(c.edges.filter((e) => e.action === 'set-null').map((e) => e.table))];
  for (const [i, t] of unlinked.entries()) {
    const edges = c.edges.filter((e) => e.action === 'set-null' && e.table === t);
    const name = `n${i}`;
    ctes.push({ name, label: `${t}.${edges.map((e) => e.column).join(', ')} (set null)` });
    const match = edges.map((e) => refersTo(e.column, e.parent)).join(' OR ');
    // An anti-join: `<> ALL(ARRAY(...))` would compare each row with every deleted key.
    const stays = setOf.has(t) ? ` AND NOT EXISTS (SELECT 1 FROM ${setOf.get(t)!} gone WHERE gone.${ident(keyOf(t)!)} = ${ident(t)}.${ident(keyOf(t)!)})` : '';
    if (form === 'select') {
      parts.push(`${name} AS MATERIALIZED (SELECT 1 AS one FROM ${ident(t)} WHERE (${match})${stays})`);
      continue;
    }
    const assignments =
      edges.length === 1
        ? `${ident(edges[0]!.column)} = NULL`
        : edges.map((e) => `${ident(e.column)} = CASE WHEN ${refersTo(e.column, e.parent)} THEN NULL ELSE ${ident(e.column)} END`).join(', ');
    parts.push(`${name} AS (UPDATE ${ident(t)} SET ${assignments} WHERE (${match})${stays} RETURNING 1 AS one)`);
  }
  for (const [i, t] of order.slice(1).entries()) {
    const name = `x${i}`;
    ctes.push({ name, label: t });
    parts.push(
      form === 'select'
        ? `${name} AS (SELECT 1 AS one FROM ${setOf.get(t)!})`
        : `${name} AS (DELETE FROM ${ident(t)} WHERE ${ident(keyOf(t)!)} = ANY(ARRAY(${keysIn(t)})) RETURNING 1 AS one)`,
    );
  }
}

/** Every table.column a cascade reads or writes, for the schema check. */
export function cascadeColumns(rule: RetentionRule): Array<[string, string]> {
  const c = rule.cascade;
  if (!c) return [];
  const out: Array<[string, string]> = c.edges.map((e) => [e.table, e.column] as [string, string]);
  for (const [t, k] of Object.entries(c.keys)) out.push([t, k]);
  if (c.owners) {
    out.push([rule.table, c.owners.label], [c.owners.table, c.owners.column]);
    for (const d of c.owners.dependents) out.push([d.table, d.column], [d.table, d.ownerColumn]);
  }
  return out;
}

/**
 * The dry run's owners: each matching row that owns rows of `owners.table`, its label, how many it owns and, per
 * dependent table, the rows referencing what it owns that are not its own (other users' tokens on its
 * applications), which go with it. At most `limit` owners, by label.
 */
export function buildOwnersSql(rule: RetentionRule, where: { sql: string; values: unknown[] }, limit: number): { sql: string; labels: string[]; bind(cutoff: string, values: unknown[]): unknown[] } | undefined {
  const o = rule.cascade?.owners;
  if (!o) return undefined;
  const ownedKey = ident(rule.cascade!.keys[o.table] ?? 'id');
  const owned = `SELECT ${ownedKey} FROM ${ident(o.table)} o WHERE o.${ident(o.column)} = v.${ident(rule.primaryKey)}`;
  const others = o.dependents.map(
    (d, i) => `(SELECT count(*) FROM ${ident(d.table)} d WHERE d.${ident(d.column)} IN (${owned}) AND d.${ident(d.ownerColumn)} IS DISTINCT FROM v.${ident(rule.primaryKey)})::int AS d${i}`,
  );
  const sql =
    `WITH victims AS MATERIALIZED (SELECT ${ident(rule.primaryKey)}, ${ident(o.label)} FROM ${ident(rule.table)} WHERE ${ident(rule.timestampColumn)} ${cutoffOperator(rule)} ?${where.sql})\n` +
    `SELECT v.${ident(o.label)}::text AS owner, (SELECT count(*) FROM (${owned}) x)::int AS owned, ${others.join(', ')}\n` +
    `FROM victims v WHERE EXISTS (${owned}) ORDER BY 1 LIMIT ${Math.max(1, Math.floor(limit)) + 1}`;
  return { sql, labels: o.dependents.map((d) => d.table), bind: (cutoff, values) => [cutoff, ...values] };
}
