import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Activities } from '../../activities/index.js';
import { ADAPTIVE_BATCH } from '../../src/purge/lane.js';
import { nextBatchSize, type LegacyActivities } from '../../src/purge/legacy-v1/workflow.js';

describe('the legacy v1 purge (frozen)', () => {
  it('moves its batch size toward the target duration, at most doubling or halving per batch', () => {
    expect(nextBatchSize(1000, 50, 100)).toBe(2000);
    expect(nextBatchSize(1000, 10, 100)).toBe(2000);
    expect(nextBatchSize(1000, 200, 100)).toBe(500);
    expect(nextBatchSize(1000, 125, 100)).toBe(800);
    expect(nextBatchSize(1000, 100, 100)).toBe(1000);
  });

  it('keeps its batch size within its bounds, and fixed when the target is 0', () => {
    expect(nextBatchSize(ADAPTIVE_BATCH.max, 1, 100)).toBe(ADAPTIVE_BATCH.max);
    expect(nextBatchSize(ADAPTIVE_BATCH.min, 10_000, 100)).toBe(ADAPTIVE_BATCH.min);
    expect(nextBatchSize(1234, 1, 0)).toBe(1234);
  });

  it('finds every activity it schedules on the worker, taking the inputs it sends (checked by the typecheck)', () => {
    expectTypeOf<Activities>().toMatchTypeOf<LegacyActivities>();
  });
});
