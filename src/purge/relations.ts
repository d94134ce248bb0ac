import { ident } from './identifiers.js';
import type { Condition, RelationCondition, RetentionRule } from './types.js';


const RELATION_OPS = ['referenced', 'not_referenced', 'referenced_row_older'] as const;

export function isRelationCondition(c: Condition): c is RelationCondition {
  return (RELATION_OPS as readonly string[]).includes(c.op);
}

/**
 * A bound value that depends on the run: the cutoff of a `referenced_row_older` condition, which is the run's
 * reference time minus the condition's retention. The batch knows the step's cutoff (reference time minus the
 * rule's retention), so the condition's cutoff is that plus `shiftMs`; no new input reaches the batch.
 */
export interface CutoffValue {
  cutoffShiftMs: number;
}

function isCutoffValue(v: unknown): v is CutoffValue {
  return typeof v === 'object' && v !== null && 'cutoffShiftMs' in v;
}

/**
 * One predicate on the victim row, correlated by the rule's table name (the inner table gets the alias `ref`,
 * so a table that references itself works too). Each is a single indexable probe per row, which is what
 * both a timestamp-ordered and a key-chunked walk of the table need.
 */
export function relationPredicate(c: RelationCondition, rule: Pick<RetentionRule, 'table' | 'primaryKey' | 'retentionMs'>): { sql: string; values: unknown[] } {
  const outer = ident(rule.table);
  switch (c.op) {
    case 'referenced':
    case 'not_referenced': {
      const probe = `SELECT 1 FROM ${ident(c.table)} ref WHERE ref.${ident(c.foreignKey)} = ${outer}.${ident(c.references ?? rule.primaryKey)}`;
      return { sql: `${c.op === 'not_referenced' ? 'NOT ' : ''}EXISTS (${probe})`, values: [] };
    }
    case 'referenced_row_older': {
      const cmp = c.inclusive ? '<=' : '<';
      const probe = `SELECT 1 FROM ${ident(c.table)} ref WHERE ref.${ident(c.references ?? 'id')} = ${outer}.${ident(c.column)} AND ref.${ident(c.timestampColumn)} ${cmp} ?`;
      const value: CutoffValue = { cutoffShiftMs: rule.retentionMs - c.retentionMs };
      return { sql: `EXISTS (${probe})`, values: [value] };
    }
  }
}

/** Replaces the run-dependent values of the conditions with timestamps, given the step's cutoff. */
export function bindConditionValues(values: unknown[], cutoff: string): unknown[] {
  return values.map((v) => (isCutoffValue(v) ? new Date(Date.parse(cutoff) + v.cutoffShiftMs).toISOString() : v));
}

/**
 * The rule's cutoff as SQL: one placeholder, or, for a column of naive UTC times read in a zone, the cutoff's UTC
 * wall clock read in that zone (two placeholders: cutoff, zone), the conversion PostgreSQL made when the row was
 * written. `cutoffValues` gives the values in the same order.
 */
export function cutoffSql(rule: Pick<RetentionRule, 'naiveUtcIn'>, placeholder: (i: 0 | 1) => string = () => '?'): string {
  return rule.naiveUtcIn === undefined ? placeholder(0) : `((${placeholder(0)}::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE ${placeholder(1)}::text)`;
}

export function cutoffValues(rule: Pick<RetentionRule, 'naiveUtcIn'>, cutoff: string): unknown[] {
  return rule.naiveUtcIn === undefined ? [cutoff] : [cutoff, rule.naiveUtcIn];
}

/** The comparison of the rule's own timestamp with its cutoff. */
export function cutoffOperator(rule: Pick<RetentionRule, 'cutoffInclusive'>): '<' | '<=' {
  return rule.cutoffInclusive ? '<=' : '<';
}

/** Every table.column a relation condition reads, for the schema check. */
export function relationColumns(c: RelationCondition, rule: Pick<RetentionRule, 'table' | 'primaryKey'>): Array<[string, string]> {
  if (c.op === 'referenced_row_older') {
    return [
      [rule.table, c.column],
      [c.table, c.references ?? 'id'],
      [c.table, c.timestampColumn],
    ];
  }
  return [
    [c.table, c.foreignKey],
    [rule.table, c.references ?? rule.primaryKey],
  ];
}

/** A readable form for `maint jobs`. */
export function describeRelation(c: RelationCondition): string {
  switch (c.op) {
    case 'referenced':
      return `referenced by ${c.table}.${c.foreignKey}`;
    case 'not_referenced':
      return `not referenced by ${c.table}.${c.foreignKey}`;
    case 'referenced_row_older': {
      const age = !c.retentionMs ? '' : c.retentionMs % 86_400_000 === 0 ? ` - ${c.retentionMs / 86_400_000}d` : ` - ${c.retentionMs / 1000}s`;
      return `${c.column} -> ${c.table}.${c.timestampColumn} ${c.inclusive ? '<=' : '<'} now${age}`;
    }
  }
}
