import type { Walk } from './sql.js';
import type { BatchResult, LaneState, StepPlan } from './types.js';
import { filledCap } from './breakers.js';

/**
 * How a lane moves on after one of its batches, and how big its next batch is: pure, so the activity that runs a
 * lane's batches and a retry of it (replaying committed batches from the ledger) reach the same position.
 */

/** Bounds of an adaptive batch (rows of a timestamp walk). */
export const ADAPTIVE_BATCH = { min: 100, max: 50_000 } as const;

/** Bounds of an adaptive key chunk (keys examined per batch). */
export const ADAPTIVE_CHUNK = { min: 500, max: 200_000 } as const;

/**
 * The next chunk of a lane, from the time its last batch took per row it examined (not per row it deleted): a
 * table where few rows match gets larger chunks, never a spiral down to tiny batches. At most doubling or
 * halving per step.
 */
export function nextChunk(current: number, examined: number, durationMs: number, targetMs: number, bounds: { min: number; max: number }): number {
  // A short tail batch says nothing about the rate.
  if (targetMs <= 0 || examined < current / 2) return current;
  const perRow = Math.max(durationMs, 1) / Math.max(examined, 1);
  const factor = Math.min(2, Math.max(0.5, targetMs / perRow / current));
  return Math.min(bounds.max, Math.max(bounds.min, Math.round(current * factor)));
}

/** The walk of the lane's next batch. */
export function walkOf(lane: LaneState, strategy: StepPlan['strategy']): Walk {
  const to = lane.revisiting && strategy === 'key-chunks' ? lane.revisit!.to : lane.to;
  return { strategy, from: lane.from, to, after: lane.after };
}

/**
 * The lane after a batch, and the rows that batch left because they were still locked on the second pass. `cap`: the
 * batch could change at most this many rows (a run's row cap); one that filled it ended at its last row, not at the
 * end of its chunk, so the lane goes on from there whatever else the chunk held.
 */
export function advanceLane(lane: LaneState, res: BatchResult, plan: Pick<StepPlan, 'strategy' | 'adaptive'>, targetMs: number, cap?: number): { lane: LaneState; leftLocked: number } {
  const next: LaneState = { ...lane };
  const skipped = res.skipped ?? 0;
  let leftLocked = 0;
  if (lane.revisiting) leftLocked = skipped;
  else if (skipped > 0) next.revisit = { after: lane.revisit ? lane.revisit.after : lane.after, to: plan.strategy === 'key-chunks' ? (res.lastKey ?? lane.to) : lane.to };
  next.skipped = lane.skipped + skipped;
  const examined = res.examined ?? 0;
  const capped = filledCap(cap, res.deleted + (res.updated ?? 0), skipped);
  if (examined < lane.size && !capped) {
    // The end of the lane: once more over the range where rows were locked, then done.
    if (next.revisit && !lane.revisiting) {
      next.revisiting = true;
      next.after = next.revisit.after;
    } else next.done = true;
  } else {
    next.after = plan.strategy === 'key-chunks' ? { key: res.lastKey ?? null } : { key: res.lastKey ?? null, ts: res.lastTs ?? null };
  }
  // A batch cut short by the cap says nothing about the rate.
  if (plan.adaptive && !capped) next.size = nextChunk(lane.size, examined, res.durationMs, targetMs, plan.strategy === 'key-chunks' ? ADAPTIVE_CHUNK : ADAPTIVE_BATCH);
  return { lane: next, leftLocked };
}
