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
