import type { Db } from '../../src/db/query.js';
import { readForeignKeyCatalog } from '../../src/db/catalog.js';
import { applyJobParams } from '../../src/purge/rules.js';
import { buildCountSql } from '../../src/purge/sql.js';
import { toNumber } from '../../src/kernel/counts.js';
import type { JobDefinition, PurgeParams, RetentionRule } from '../../src/purge/types.js';
import { checkAgainstSchema } from './schema-check.js';
import { estimatedMatches, keyOf } from './plan.js';

/**
 * A purge job's steps on this database: built from its foreign keys where the job follows them, checked against
 * the schema (a missing table or column is refused naming it) and each with a key to delete by.
 */
export async function resolveSteps(db: Db, job: JobDefinition, params: PurgeParams): Promise<RetentionRule[]> {
  const catalog = job.stepsFromCatalog ? await readForeignKeyCatalog(db) : undefined;
  const steps = applyJobParams(job, params, catalog);
  await checkAgainstSchema(db, job.name, steps);
  for (const step of steps) await keyOf(db, step);
  return steps;
}

/** What a job would delete or update if it ran now: the planner's estimate (instant), or an exact count (reads the rows). */
export async function backlogOf(db: Db, steps: RetentionRule[], exact: boolean, now = Date.now()): Promise<number> {
  let total = 0;
  for (const rule of steps) {
    const cutoff = new Date(now - rule.retentionMs).toISOString();
    if (!exact) {
      total += await estimatedMatches(db, rule, cutoff);
      continue;
    }
    const built = buildCountSql(rule);
    const [row] = await db.query(built.sql, built.bind({ cutoff }));
    total += toNumber(row?.matched);
  }
  return total;
}
