import type { Session } from '../../src/db/query.js';
import { toNumber } from '../../src/kernel/counts.js';
import { buildWalkSql, childCounts, type RowAddress, type Walk } from '../../src/purge/sql.js';
import type { BatchResult, RetentionRule } from '../../src/purge/types.js';
import { isWalCompressionValue } from '../../src/purge/wal-compression.js';
import { sessionsBlockedByMe } from './brake.js';

/** A batch of a planned walk (the legacy v1 purge schedules its own form, `purgeBatch`). */
export interface WalkBatchInput {
  runId: string;
  batchNo: number;
  step: number;
  lane: number;
  rule: RetentionRule;
  cutoff: string;
  runTime: string;
  size: number;
  walk: Walk;
  /** statement_timeout of the batch transaction. */
  timeoutMs: number;
  /** How the batch reaches the rows it locked; by key unless the lane run found the table allows ctid. */
  address?: RowAddress;
  /** Count the application sessions the batch makes wait on its locks (the blocking brake). */
  checkBlocking?: boolean;
  /** The most rows this batch may change (the run's row cap); none: as many as its walk takes. */
  cap?: number;
  /** wal_compression for the batch's transaction (src/purge/wal-compression.ts); none: the server's. */
  walCompression?: string | null;
}

/**
 * Where a batch's time went, in milliseconds: opening the transaction (with its settings and the ledger lookup),
 * the batch statement (foreign-key checks included), and writing the ledger row with the commit.
 */
export type BatchPhases = {
  open: number;
  statement: number;
  commit: number;
};

const LEDGER_COLUMNS = 'deleted, updated, children, duration_ms, last_ts, last_key, examined, skipped';

/** A whole number for a script (the values a script inlines are ours: counts, positions, timeouts). */
function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`not an integer: ${n}`);
  return String(n);
}

function withUpdated(r: BatchResult, updated: number, isUpdate: boolean): BatchResult {
  return isUpdate ? { ...r, updated } : r;
}

/** A ledger row as the batch result it recorded. */
function fromLedger(done: Record<string, unknown>, isUpdate: boolean): BatchResult {
  return withUpdated(
    {
      deleted: toNumber(done.deleted),
      children: done.children as Record<string, number>,
      durationMs: toNumber(done.duration_ms),
      fromLedger: true,
      lastTs: done.last_ts ? new Date(done.last_ts as string).toISOString() : null,
      lastKey: (done.last_key as string | null) ?? null,
      examined: toNumber(done.examined),
      skipped: toNumber(done.skipped),
    },
    toNumber(done.updated),
    isUpdate,
  );
}

/**
 * One batch of a planned walk in one short transaction, bounded by statement and lock timeouts, with its ledger row
 * (keyed by run and batch) written in the same transaction: a retried batch whose row exists reports what it
 * recorded and changes nothing. Three round trips: open and look the batch up in the ledger; the batch; the ledger
 * row and the commit. On a failure the caller's session rolls back (see `withSession`).
 */
export async function runWalkBatch(s: Session, input: WalkBatchInput): Promise<{ result: BatchResult; phases: BatchPhases }> {
  const built = buildWalkSql(input.rule, input.walk, input.address, { capped: input.cap !== undefined });
  const isUpdate = input.rule.action?.type === 'update';
  const t0 = performance.now();
  const key = `run_id = ${s.literal(input.runId)} AND batch_no = ${int(input.batchNo)}`;
  const [done] = await s.script(
    [
      'BEGIN',
      // Bounded waits: a batch that cannot get its locks or runs long fails fast and is retried.
      `SET LOCAL statement_timeout = ${int(Math.round(input.timeoutMs))}`,
      `SET LOCAL lock_timeout = ${int(Math.round(Math.min(2_000, input.timeoutMs / 2)))}`,
      // Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: checked now, inside the measured (and timed-out)
      // statement, rather than unseen at commit.
      'SET CONSTRAINTS ALL IMMEDIATE',
      // Its full-page images compressed, where the lane run found the role may (a third of the WAL on token tables).
      ...(input.walCompression && isWalCompressionValue(input.walCompression) ? [`SET LOCAL wal_compression = ${input.walCompression}`] : []),
      `SELECT ${LEDGER_COLUMNS} FROM purge_batch WHERE ${key}`,
    ].join('; '),
  );
  const t1 = performance.now();
  if (done) {
    await s.script('COMMIT');
    return { result: fromLedger(done, isUpdate), phases: { open: t1 - t0, statement: 0, commit: performance.now() - t1 } };
  }
  const [row] = await s.query(
    built.sql,
    built.bind({ cutoff: input.cutoff, limit: input.size, from: input.walk.from, to: input.walk.to, after: input.walk.after, runTime: input.runTime, cap: input.cap }),
  );
  const t2 = performance.now();
  const affected = toNumber(row?.affected);
  const deleted = isUpdate ? 0 : affected;
  const updated = isUpdate ? affected : 0;
  const children = childCounts(row ?? {}, built.children);
  const durationMs = Math.round(t2 - t1);
  const lastTs = row?.last_ts ? new Date(row.last_ts as string).toISOString() : null;
  const lastKey = (row?.last_key as string | null) ?? null;
  const examined = toNumber(row?.examined);
  const skipped = toNumber(row?.skipped);
  // The blocking brake: who waits on this batch's row locks, asked while they are still held (before commit).
  const blocked = input.checkBlocking ? await sessionsBlockedByMe(s) : 0;
  const orNull = (v: string | null, cast = '') => (v === null ? 'NULL' : `${s.literal(v)}${cast}`);
  // A concurrent attempt of the same batch fails here on the primary key and rolls its changes back.
  await s.script(
    `INSERT INTO purge_batch (run_id, batch_no, step, lane, ${LEDGER_COLUMNS}) VALUES (${s.literal(input.runId)}, ${int(input.batchNo)}, ${int(input.step)}, ${int(input.lane)}, ` +
      `${int(deleted)}, ${int(updated)}, ${s.literal(JSON.stringify(children))}::jsonb, ${int(durationMs)}, ${orNull(lastTs, '::timestamptz')}, ${orNull(lastKey)}, ${int(examined)}, ${int(skipped)}); COMMIT`,
  );
  return {
    result: withUpdated({ deleted, children, durationMs, fromLedger: false, lastTs, lastKey, examined, skipped, ...(blocked ? { blocked } : {}) }, updated, isUpdate),
    phases: { open: t1 - t0, statement: t2 - t1, commit: performance.now() - t2 },
  };
}
