// Pure and deterministic: the workflow decides the next batch size from the durations its batches report.

/** Bounds of an adaptive batch size. */
export const ADAPTIVE_BATCH = { min: 100, max: 50_000 } as const;

/**
 * The size of the next batch so its transaction takes about `targetMs`: proportional to how far the last
 * batch was from the target, at most doubling or halving per step so one odd batch cannot swing it wildly.
 */
export function nextBatchSize(current: number, durationMs: number, targetMs: number): number {
  if (targetMs <= 0) return current;
  const factor = Math.min(2, Math.max(0.5, targetMs / Math.max(durationMs, 1)));
  return Math.min(ADAPTIVE_BATCH.max, Math.max(ADAPTIVE_BATCH.min, Math.round(current * factor)));
}

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
