import { z } from 'zod';
import { InputError } from '../kernel/errors.js';
import { BATCH_SIZE } from './params.js';
import type { ChildRule, Condition, JobDefinition, RetentionRule } from './types.js';


const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be a plain SQL identifier (letters, digits, _)');

const childSchema: z.ZodType<ChildRule> = z.lazy(() =>
  z.strictObject({
    table: identifier,
    foreignKey: identifier,
    references: identifier.optional(),
    primaryKey: identifier.optional(),
    onDelete: z.enum(['delete', 'set-null']).optional(),
    children: z.array(childSchema).optional(),
  }),
);

const conditionSchema = z.union([
  z.strictObject({ column: identifier, op: z.enum(['is_null', 'is_not_null', 'is_true', 'is_false']) }),
  z.strictObject({ column: identifier, op: z.enum(['eq', 'ne']), value: z.union([z.string(), z.number(), z.boolean()]) }),
  z.strictObject({ column: identifier, op: z.literal('in'), values: z.array(z.union([z.string(), z.number()])) }),
  // Rows of another table that reference this row (or none do).
  z.strictObject({ op: z.enum(['referenced', 'not_referenced']), table: identifier, foreignKey: identifier, references: identifier.optional() }),
  // The row this row references through `column` has its timestamp older than the run time minus `retentionDays`.
  z.strictObject({
    op: z.literal('referenced_row_older'),
    column: identifier,
    table: identifier,
    references: identifier.optional(),
    timestampColumn: identifier,
    retentionDays: z.number().min(0, 'must not be negative').max(36_500).default(0),
    inclusive: z.boolean().optional(),
  }),
]);

const ruleSchema = z.strictObject({
  description: z.string().optional(),
  table: identifier,
  primaryKey: identifier.default('id'),
  timestampColumn: identifier,
  retentionDays: z.number().min(0, 'must not be negative').max(36_500).default(0),
  cutoffInclusive: z.boolean().optional(),
  where: z.array(conditionSchema).optional(),
  children: z.array(childSchema).default([]),
  batchSize: z.number().int().min(BATCH_SIZE.min).max(BATCH_SIZE.max).optional(),
});

/** Config conditions speak in days, like the rules; the engine in milliseconds. */
function toCondition(c: z.infer<typeof conditionSchema>): Condition {
  if (c.op !== 'referenced_row_older') return c;
  const { retentionDays, ...rest } = c;
  return { ...rest, retentionMs: Math.round(retentionDays * 86_400_000) };
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

/**
 * Custom retention rules from the config file's `rules:` section, one job each. Every error names the rule
 * and the field; nothing runs when any rule is invalid.
 */
export function customJobs(config: unknown, builtIn: readonly string[]): JobDefinition[] {
  const rules = (config as { rules?: unknown } | undefined)?.rules;
  if (rules === undefined || rules === null) return [];
  if (typeof rules !== 'object' || Array.isArray(rules)) throw new InputError('rules', 'must be a mapping of job name to rule');
  const jobs: JobDefinition[] = [];
  for (const [name, raw] of Object.entries(rules as Record<string, unknown>)) {
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) throw new InputError(`rules.${name}`, 'job names use lowercase letters, digits and "-"');
    if (builtIn.includes(name)) throw new InputError(`rules.${name}`, 'a built-in job has this name; choose another');
    const parsed = ruleSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const where = issue.path.length ? `.${issue.path.join('.')}` : '';
      throw new InputError(`rules.${name}${where}`, issue.message);
    }
    const r = parsed.data;
    const cycle = findCycle(r.table, r.children);
    if (cycle) throw new InputError(`rules.${name}.children`, `cycle: ${cycle.join(' -> ')}`);
    const rule: RetentionRule = {
      table: r.table,
      primaryKey: r.primaryKey,
      timestampColumn: r.timestampColumn,
      retentionMs: Math.round(r.retentionDays * 86_400_000),
      children: r.children,
      ...(r.cutoffInclusive ? { cutoffInclusive: true } : {}),
      ...(r.where ? { where: r.where.map(toCondition) } : {}),
    };
    jobs.push({
      name,
      description: r.description ?? `Custom rule: ${r.table} rows with ${r.timestampColumn} older than ${r.retentionDays} days`,
      steps: [rule],
      custom: true,
      ...(r.batchSize ? { defaultBatchSize: r.batchSize } : {}),
    });
  }
  return jobs;
}
