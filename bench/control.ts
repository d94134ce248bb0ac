// How fast an operator's pause and resume take effect on a running purge (`maint control --pause | --resume`, a
// Workflow Update): from the Update's answer to the last batch that ends, and to the first batch after the resume,
// read from the ledger (each batch's start and duration), not from the workflow.
import type { Client } from '@temporalio/client';
import { controlUpdate } from '../src/temporal/queries.js';
import { client as dbClient } from './template.js';

export interface ControlTiming {
  /** From the pause's answer to the end of the last batch that ran after it (0: none ran after it). */
  pauseTakesEffectMs: number;
  /** Batches that started after the pause's answer (the lane runs under way learn of it within a lane run). */
  batchesAfterPause: number;
  /** Nothing committed while paused (checked over `heldMs`). */
  heldMs: number;
  movedWhilePaused: boolean;
  /** From the resume's answer to the first batch's start. */
  resumeTakesEffectMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pauses the purge `workflowId` (its ledger run `runId` in `url`) once `deletedAtLeast` rows are gone, holds `heldMs`, resumes. */
export async function measureControl(client: Client, workflowId: string, runId: string, url: string, deletedAtLeast: number, heldMs = 4_000): Promise<ControlTiming> {
  const c = dbClient(url);
  await c.connect();
  try {
    const deleted = async () => Number((await c.query('SELECT coalesce(sum(deleted), 0)::bigint AS n FROM purge_batch WHERE run_id = $1', [runId])).rows[0].n);
    while ((await deleted()) < deletedAtLeast) await sleep(20);
    const handle = client.workflow.getHandle(workflowId);
    await handle.executeUpdate(controlUpdate, { args: [{ pause: true }] });
    const pausedAt = Date.now();
    // Wait out the lane runs under way, then check that nothing moves.
    await sleep(heldMs);
    const { rows: [after] } = await c.query(
      `SELECT count(*)::int AS n, coalesce(max(extract(epoch FROM committed_at) * 1000 + duration_ms), 0)::float8 AS last_end
         FROM purge_batch WHERE run_id = $1 AND committed_at > to_timestamp($2 / 1000.0)`,
      [runId, pausedAt],
    );
    const before = await deleted();
    await sleep(1_000);
    const movedWhilePaused = (await deleted()) !== before;
    await handle.executeUpdate(controlUpdate, { args: [{ pause: false }] });
    const resumedAt = Date.now();
    let first: number | null = null;
    while (first === null && Date.now() - resumedAt < 30_000) {
      const { rows: [r] } = await c.query('SELECT min(extract(epoch FROM committed_at) * 1000)::float8 AS at FROM purge_batch WHERE run_id = $1 AND committed_at > to_timestamp($2 / 1000.0)', [runId, resumedAt]);
      first = r.at;
      if (first === null) await sleep(20);
    }
    return {
      pauseTakesEffectMs: after.n > 0 ? Math.round(after.last_end - pausedAt) : 0,
      batchesAfterPause: after.n,
      heldMs: heldMs + 1_000,
      movedWhilePaused,
      resumeTakesEffectMs: first === null ? Number.POSITIVE_INFINITY : Math.round(first - resumedAt),
    };
  } finally {
    await c.end();
  }
}
