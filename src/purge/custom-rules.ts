import * as z from 'zod/mini';
import { InputError, Problems } from '../kernel/errors.js';
import { DAY_MS } from '../kernel/time.js';
import { configIssues, int } from '../kernel/validate.js';
import { SQL_IDENTIFIER } from './identifiers.js';
import { BATCH_SIZE } from './params.js';
import { looksLikeUserTable, MAX_FRACTION } from './breakers.js';
import type { ChildRule, Condition, JobDefinition, RetentionRule } from './types.js';

const identifier = z.string().check(z.regex(SQL_IDENTIFIER, { error: 'must be a plain SQL identifier (letters, digits, _)' }));
const retentionDays = z._default(z.number().check(z.gte(0, { error: 'must not be negative' }), z.lte(36_500)), 0);

const childSchema: z.ZodMiniType<ChildRule> = z.lazy(() =>
  z.strictObject({
    table: identifier,
    foreignKey: identifier,
    references: z.optional(identifier),
    primaryKey: z.optional(identifier),
    onDelete: z.optional(z.enum(['delete', 'set-null'])),
    children: z.optional(z.array(childSchema)),
  }),
);

const CONDITION_FORMS =
  '{column, op: is_null|is_not_null|is_true|is_false}, {column, op: eq|ne, value}, {column, op: in, values}, ' +
  '{op: referenced|not_referenced, table, foreignKey}, or {op: referenced_row_older, column, table, timestampColumn, retentionDays}';

const conditionSchema = z.union(
  [
    z.strictObject({ column: identifier, op: z.enum(['is_null', 'is_not_null', 'is_true', 'is_false']) }),
    z.strictObject({ column: identifier, op: z.enum(['eq', 'ne']), value: z.union([z.string(), z.number(), z.boolean()]) }),
    z.strictObject({ column: identifier, op: z.literal('in'), values: z.array(z.union([z.string(), z.number()])) }),
    // Rows of another table that reference this row (or none do).
    z.strictObject({ op: z.enum(['referenced', 'not_referenced']), table: identifier, foreignKey: identifier, references: z.optional(identifier) }),
    // The row this row references through `column` has its timestamp older than the run time minus `retentionDays`.
    z.strictObject({
      op: z.literal('referenced_row_older'),
      column: identifier,
      table: identifier,
      references: z.optional(identifier),
      timestampColumn: identifier,
      retentionDays,
      inclusive: z.optional(z.boolean()),
    }),
  ],
  { error: `{value} is not a condition; expected ${CONDITION_FORMS}` },
);

/** A rule of the config file's `rules:` section (one job each). */
export const CUSTOM_RULE = z.strictObject({
  description: z.optional(z.string()),
  table: identifier,
  primaryKey: z._default(identifier, 'id'),
  timestampColumn: identifier,
  retentionDays,
  cutoffInclusive: z.optional(z.boolean()),
  where: z.optional(z.array(conditionSchema)),
  children: z._default(z.array(childSchema), []),
  batchSize: z.optional(int(BATCH_SIZE)),
  // The fraction guard's default for this job (runs may override it with maxFraction); 1 turns it off.
  maxFraction: z.optional(z.number({ error: 'must be a number greater than 0 and at most 1 (1 turns the guard off)' }).check(
    z.gt(MAX_FRACTION.min, { error: 'must be greater than 0 and at most 1 (1 turns the guard off)' }),
    z.lte(MAX_FRACTION.max, { error: 'must be greater than 0 and at most 1 (1 turns the guard off)' }),
  )),
});
type CustomRule = z.output<typeof CUSTOM_RULE>;

/** Config conditions speak in days, like the rules; the engine in milliseconds. */
function toCondition(c: z.output<typeof conditionSchema>): Condition {
  if (c.op !== 'referenced_row_older') return c;
  const { retentionDays: days, ...rest } = c;
  return { ...rest, retentionMs: Math.round(days * DAY_MS) };
}

/** A table reached twice on one path of dependents would be a cycle: no delete order exists. */
function findCycle(table: string, children: ChildRule[], path: string[] = [table]): string[] | undefined {
  for (const c of children) {
    if (path.includes(c.table)) return [...path, c.table];
    const deeper = findCycle(c.table, c.children ?? [], [...path, c.table]);
    if (deeper) return deeper;
  }
  return undefined;
}

function jobOf(name: string, r: CustomRule): JobDefinition {
  const rule: RetentionRule = {
    table: r.table,
    primaryKey: r.primaryKey,
    timestampColumn: r.timestampColumn,
    retentionMs: Math.round(r.retentionDays * DAY_MS),
    children: r.children,
    ...(r.cutoffInclusive ? { cutoffInclusive: true } : {}),
    ...(r.where ? { where: r.where.map(toCondition) } : {}),
  };
  return {
    name,
    description: r.description ?? `Custom rule: ${r.table} rows with ${r.timestampColumn} older than ${r.retentionDays} days`,
    steps: [rule],
    custom: true,
    ...(r.batchSize ? { defaultBatchSize: r.batchSize } : {}),
    // A rule on what looks like a user table deletes accounts: guarded unless the file says otherwise.
    ...(r.maxFraction !== undefined ? { maxFraction: r.maxFraction } : looksLikeUserTable(r.table) ? { maxFraction: MAX_FRACTION.accounts } : {}),
  };
}

/**
 * Custom retention rules from the config file's `rules:` section, one job each. Every mistake of every rule is
 * reported at once, each naming the rule and the field; nothing runs when any rule is invalid.
 */
export function customJobs(config: unknown, builtIn: readonly string[]): JobDefinition[] {
  const rules = (config as { rules?: unknown } | undefined)?.rules;
  if (rules === undefined || rules === null) return [];
  if (typeof rules !== 'object' || Array.isArray(rules)) throw new InputError('rules', 'must be a mapping of job name to rule');
  const problems = new Problems();
  const jobs: JobDefinition[] = [];
  for (const [name, raw] of Object.entries(rules as Record<string, unknown>)) {
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) problems.add(new InputError(`rules.${name}`, 'job names use lowercase letters, digits and "-"'));
    else if (builtIn.includes(name)) problems.add(new InputError(`rules.${name}`, 'a built-in job has this name; choose another'));
    const { value, issues } = configIssues(CUSTOM_RULE, raw, `rules.${name}`);
    problems.add(...issues);
    if (!value) continue;
    const cycle = findCycle(value.table, value.children);
    if (cycle) problems.add(new InputError(`rules.${name}.children`, `cycle: ${cycle.join(' -> ')}`));
    else jobs.push(jobOf(name, value));
  }
  problems.throwIfAny();
  return jobs;
}
