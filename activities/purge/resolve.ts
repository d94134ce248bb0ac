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

/** A backlog and how it was told: counted, or the planner's estimate (from statistics ANALYZE keeps). */
export interface Backlog {
  rows: number;
  counted: boolean;
}

/**
 * Up to this many rows a table's backlog is counted (well under a second); above it the planner's estimate is
 * used. Not the statistics alone on small tables: right after a bulk load or a purge they can be off by a factor of
 * ten until ANALYZE runs, and the row counts pg_stat keeps reach it only seconds after a session's changes.
 */
const COUNT_UP_TO_ROWS = 1_000_000;

async function tableRows(db: Db, table: string): Promise<number> {
  const [row] = await db.query<{ rows: unknown }>(
    `SELECT greatest(c.reltuples::float8, coalesce(s.n_live_tup, 0) + coalesce(s.n_dead_tup, 0)) AS rows
       FROM pg_class c LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid WHERE c.oid = to_regclass(quote_ident(?))`,
    [table],
  );
  return toNumber(row?.rows);
}

/**
 * What a job would delete or update if it ran now: counted (reads the matching rows) on tables up to a million rows
 * or when `exact`, else the planner's estimate (instant, from statistics).
 */
export async function backlogOf(db: Db, steps: RetentionRule[], exact: boolean, now = Date.now(), countUpToRows = COUNT_UP_TO_ROWS): Promise<Backlog> {
  let rows = 0;
  let counted = true;
  for (const rule of steps) {
    const cutoff = new Date(now - rule.retentionMs).toISOString();
    if (!exact && (await tableRows(db, rule.table)) > countUpToRows) {
      rows += await estimatedMatches(db, rule, cutoff);
      counted = false;
      continue;
    }
    const built = buildCountSql(rule);
    const [row] = await db.query(built.sql, built.bind({ cutoff }));
    rows += toNumber(row?.matched);
  }
  return { rows, counted };
}
