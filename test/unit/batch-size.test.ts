import { describe, expect, it } from 'vitest';
import { ADAPTIVE_BATCH, nextBatchSize } from '../../src/purge/batch-size.js';

describe('adaptive batch size', () => {
  it('moves toward the target duration, at most doubling or halving per batch', () => {
    expect(nextBatchSize(1000, 50, 100)).toBe(2000);
    expect(nextBatchSize(1000, 10, 100)).toBe(2000);
    expect(nextBatchSize(1000, 200, 100)).toBe(500);
    expect(nextBatchSize(1000, 125, 100)).toBe(800);
    expect(nextBatchSize(1000, 100, 100)).toBe(1000);
  });

  it('stays within its bounds and is off when the target is 0', () => {
    expect(nextBatchSize(ADAPTIVE_BATCH.max, 1, 100)).toBe(ADAPTIVE_BATCH.max);
    expect(nextBatchSize(ADAPTIVE_BATCH.min, 10_000, 100)).toBe(ADAPTIVE_BATCH.min);
    expect(nextBatchSize(1234, 1, 0)).toBe(1234);
  });
});
