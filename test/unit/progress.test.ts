import { describe, expect, it } from 'vitest';
import { estimateTotal, formatEta, Throughput, walkedFraction } from '../../src/cli/progress.js';
import type { Progress, StepPlanSummary } from '../../src/purge/types.js';

const plan = (estimatedRows: number, lanes: Array<{ from: string | null; to: string | null }>): StepPlanSummary => ({
  step: 'expired',
  strategy: 'key-chunks',
  index: 'pk',
  key: 'id',
  keyType: 'bigint',
  chunk: 1000,
  adaptive: true,
  lanes,
  estimatedRows,
  reason: 'no index on the expiry',
});

const progress = (over: Partial<Progress>): Progress => ({ job: 'j', dryRun: false, phase: 'deleting', cutoff: null, matched: null, deleted: 0, children: {}, batches: 0, step: 0, steps: 1, plan: null, lanes: [], ...over });

describe('the progress total', () => {
  it("is a dry run's count; a real run's planner estimate while it holds, and unknown once passed with little walked", () => {
    expect(estimateTotal(progress({ dryRun: true, matched: 500 }))).toBe(500);
    // A real run's `matched` is the planner's estimate: not a count to pin the total to.
    expect(estimateTotal(progress({ matched: 65_200, deleted: 10_000 }))).toBe(65_200);
    // Measured on 1.05M expired rows the planner put at 113,239: past it with little walked, there is no total
    // (a bar full from then on, "ETA 0s", is what this replaces).
    expect(estimateTotal(progress({ matched: 113_239, deleted: 138_000 }))).toBeNull();
    expect(estimateTotal(progress({ dryRun: true, matched: null }))).toBeNull();
  });

  it("is the planner's estimate until a tenth of the range is walked, then the done count over the share walked", () => {
    const lanes = [{ from: '0', to: '1000' }, { from: '1000', to: '2000' }];
    // 5% walked: the estimate stands.
    expect(estimateTotal(progress({ deleted: 700, plan: plan(65_200, lanes), lanes: [{ done: false, at: '50', size: 1 }, { done: false, at: '1050', size: 1 }] }))).toBe(65_200);
    // Half walked, 35,000 done: 70,000 in all (the estimate was low).
    const half = progress({ deleted: 35_000, plan: plan(65_200, lanes), lanes: [{ done: true, at: '1000', size: 1 }, { done: false, at: '1000', size: 1 }] });
    expect(walkedFraction(half)).toBe(0.5);
    expect(estimateTotal(half)).toBe(70_000);
    // Past the estimate with 1% walked: no total rather than a total pinned to the done count.
    expect(estimateTotal(progress({ deleted: 90_000, plan: plan(65_200, lanes), lanes: [{ done: false, at: '10', size: 1 }, { done: false, at: '1010', size: 1 }] }))).toBeNull();
    // Never below done: a range walked faster than its rows went.
    expect(estimateTotal(progress({ deleted: 90_000, plan: plan(65_200, lanes), lanes: [{ done: true, at: '1000', size: 1 }, { done: true, at: '2000', size: 1 }] }))).toBe(90_000);
  });

  it("places open-ended first and last lanes between the walk's recorded ends", () => {
    const open = progress({ deleted: 30_000, matched: 5_000, plan: { ...plan(1_000_000, [{ from: null, to: '500' }, { from: '500', to: null }]), range: { lo: '0', hi: '1000' } }, lanes: [{ done: true, at: '500', size: 1 }, { done: false, at: '500', size: 1 }] });
    expect(walkedFraction(open)).toBe(0.5);
    expect(estimateTotal(open)).toBe(60_000);
    expect(walkedFraction({ ...open, plan: { ...open.plan!, range: undefined } })).toBeNull();
  });

  it('places timestamps on their axis and gives up on keys it cannot place (uuids)', () => {
    const ts = progress({ deleted: 2_000, plan: plan(9_000, [{ from: '2026-01-01T00:00:00.000Z', to: '2026-01-11T00:00:00.000Z' }]), lanes: [{ done: false, at: '2026-01-03T00:00:00.000Z', size: 1 }] });
    expect(walkedFraction(ts)).toBeCloseTo(0.2);
    expect(estimateTotal(ts)).toBe(10_000);
    const uuid = progress({ deleted: 10, plan: plan(500, [{ from: '0b7e…', to: 'f3a1…' }]), lanes: [{ done: false, at: '7c2d…', size: 1 }] });
    expect(walkedFraction(uuid)).toBeNull();
    expect(estimateTotal(uuid)).toBe(500);
  });

  it('is unknown on a later step of a multi-step job, where the earlier steps share of the count is not known', () => {
    expect(estimateTotal(progress({ step: 1, steps: 2, deleted: 50, plan: plan(100, [{ from: '0', to: '10' }]), lanes: [{ done: false, at: '5', size: 1 }] }))).toBeNull();
    expect(estimateTotal(progress({ plan: null }))).toBeNull();
  });
});

describe('rate and ETA', () => {
  it('come from measured throughput over a window, and say "-" without a rate or a total', () => {
    const t = new Throughput(30_000);
    t.add(0, 0);
    expect(t.rate()).toBeNull();
    t.add(1_000, 1_000);
    t.add(3_000, 2_000);
    expect(t.rate()).toBe(1_500);
    expect(formatEta(3_000, 93_000, t.rate())).toBe('1m00s');
    expect(formatEta(3_000, 3_500, 1_000)).toBe('1s');
    expect(formatEta(3_000, null, 1_000)).toBe('-');
    expect(formatEta(3_000, 10_000, null)).toBe('-');
    expect(formatEta(3_000, 10_000, 0)).toBe('-');
    // Old samples leave the window: the rate follows the current speed.
    t.add(3_100, 60_000);
    t.add(3_200, 61_000);
    expect(t.rate()).toBe(100);
  });
});

describe("a running purge's state in `maint status`", () => {
  const base = { job: 'purge-expired-tokens', dryRun: false, phase: 'deleting', cutoff: null, matched: 5000, deleted: 1200, children: {}, batches: 3 } as const;
  it('names a pause and how to resume it, a brake and why, or just the work', async () => {
    const { describePurgeState } = await import('../../src/cli/commands/status.js');
    expect(describePurgeState('nightly', { ...base, control: { paused: true, batchSize: null } })).toBe(
      'deleting: changed 1200 of ~5000 rows, paused by an operator (`maint control nightly --resume`)',
    );
    expect(describePurgeState('nightly', { ...base, throttle: { reason: 'replica lag 12.0 s over 5 s', kind: 'replica-lag', since: '2026-12-02T10:00:00.000Z', totalMs: {} } })).toBe(
      'deleting: changed 1200 of ~5000 rows, throttled since 2026-12-02T10:00:00.000Z: replica lag 12.0 s over 5 s',
    );
    expect(describePurgeState('nightly', { ...base, phase: 'planning', matched: null, deleted: 0 })).toBe('planning: changed 0 rows');
  });
});
