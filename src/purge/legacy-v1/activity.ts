/*
 * FROZEN: the batch activity of the legacy v1 purge (see ./workflow.ts and docs/versioning.md). It runs only for a
 * chain of that form still going; its name, input and ledger row stay as they were.
 */
import { Context } from '@temporalio/activity';
import { toNumber } from '../../kernel/counts.js';
import { childCounts } from '../sql.js';
import { buildLegacyBatchSql } from './sql.js';
import type { LegacyBatchInput, LegacyBatchResult } from './types.js';

/** The database as the batch uses it: one transaction of statements with `?` placeholders (a `Db` is one). */
interface Transactional {
  transaction<T>(fn: (tx: { query(sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>> }) => Promise<T>): Promise<T>;
}

export interface LegacyActivityDeps {
  db: Transactional;
  logger: { debug(fields: object, message: string): void };
  faults?: { afterBatchCommit?: (info: { runId: string; batchNo: number; attempt: number }) => void | Promise<void> };
  metrics?: { batchCommitted(batch: { runId: string; rule: { table: string } }, counts: LegacyBatchResult): void };
}

export function createLegacyPurgeActivities({ db, logger, faults, metrics }: LegacyActivityDeps) {
  return {
    /**
     * Deletes one batch in one short transaction and records it in the ledger in that same transaction.
     * If the ledger already has this (run, batch), an earlier attempt committed: report its counts, delete nothing.
     */
    async purgeBatch(input: LegacyBatchInput): Promise<LegacyBatchResult> {
      const attempt = Context.current().info.attempt;
      const built = buildLegacyBatchSql(input.rule, { keyset: Boolean(input.after) });
      const isUpdate = input.rule.action?.type === 'update';
      const result = await db.transaction(async (tx): Promise<LegacyBatchResult> => {
        const [done] = await tx.query('SELECT deleted, updated, children, duration_ms, last_ts FROM purge_batch WHERE run_id = ? AND batch_no = ?', [input.runId, input.batchNo]);
        if (done) {
          const recorded = { deleted: toNumber(done.deleted), children: done.children as Record<string, number>, durationMs: toNumber(done.duration_ms), fromLedger: true };
          return { ...recorded, ...(isUpdate ? { updated: toNumber(done.updated) } : {}), lastTs: done.last_ts ? new Date(done.last_ts as string).toISOString() : null };
        }
        const started = performance.now();
        const [row] = await tx.query(built.sql, built.bind({ cutoff: input.cutoff, limit: input.batchSize, runTime: input.runTime, after: input.after ?? undefined }));
        const lastTs = row?.last_ts ? new Date(row.last_ts as string).toISOString() : null;
        const affected = toNumber(row?.affected);
        const children = childCounts(row ?? {}, built.children);
        const durationMs = Math.round(performance.now() - started);
        // A concurrent attempt of the same batch fails here on the primary key and rolls its changes back.
        await tx.query(
          'INSERT INTO purge_batch (run_id, batch_no, step, deleted, updated, children, duration_ms, last_ts) VALUES (?, ?, ?, ?, ?, ?::jsonb, ?, ?)',
          [input.runId, input.batchNo, input.step ?? 0, isUpdate ? 0 : affected, isUpdate ? affected : 0, JSON.stringify(children), durationMs, lastTs],
        );
        return { deleted: isUpdate ? 0 : affected, ...(isUpdate ? { updated: affected } : {}), children, durationMs, fromLedger: false, lastTs };
      });
      if (!result.fromLedger) metrics?.batchCommitted(input, result);
      logger.debug({ runId: input.runId, batchNo: input.batchNo, attempt, ...result }, 'batch committed');
      await faults?.afterBatchCommit?.({ runId: input.runId, batchNo: input.batchNo, attempt });
      return result;
    },
  };
}
