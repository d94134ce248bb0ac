import { ADAPTIVE_BATCH, ADAPTIVE_CHUNK, nextChunk } from './batch-size.js';
import type { Walk } from './sql.js';
import type { BatchResult, LaneState, StepPlan } from './types.js';

/**
 * How a lane moves on after one of its batches: pure, so the activity that runs a lane's batches and a retry of
 * it (replaying committed batches from the ledger) reach the same position.
 */

/** The walk of the lane's next batch. */
export function walkOf(lane: LaneState, strategy: StepPlan['strategy']): Walk {
  const to = lane.revisiting && strategy === 'key-chunks' ? lane.revisit!.to : lane.to;
  return { strategy, from: lane.from, to, after: lane.after };
}

/** The lane after a batch, and the rows that batch left because they were still locked on the second pass. */
export function advanceLane(lane: LaneState, res: BatchResult, plan: Pick<StepPlan, 'strategy' | 'adaptive'>, targetMs: number): { lane: LaneState; leftLocked: number } {
  const next: LaneState = { ...lane };
  const skipped = res.skipped ?? 0;
  let leftLocked = 0;
  if (lane.revisiting) leftLocked = skipped;
  else if (skipped > 0) next.revisit = { after: lane.revisit ? lane.revisit.after : lane.after, to: plan.strategy === 'key-chunks' ? (res.lastKey ?? lane.to) : lane.to };
  next.skipped = lane.skipped + skipped;
  const examined = res.examined ?? 0;
  if (examined < lane.size) {
    // The end of the lane: once more over the range where rows were locked, then done.
    if (next.revisit && !lane.revisiting) {
      next.revisiting = true;
      next.after = next.revisit.after;
    } else next.done = true;
  } else {
    next.after = plan.strategy === 'key-chunks' ? { key: res.lastKey ?? null } : { key: res.lastKey ?? null, ts: res.lastTs ?? null };
  }
  if (plan.adaptive) next.size = nextChunk(lane.size, examined, res.durationMs, targetMs, plan.strategy === 'key-chunks' ? ADAPTIVE_CHUNK : ADAPTIVE_BATCH);
  return { lane: next, leftLocked };
}
