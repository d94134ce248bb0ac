import { describe, expect, it } from 'vitest';
import { ADAPTIVE_BATCH, ADAPTIVE_CHUNK, advanceLane, nextChunk, walkOf } from '../../src/purge/lane.js';
import { parsePurgeInput } from '../../src/purge/input.js';
import type { BatchResult, LaneState } from '../../src/purge/types.js';

/** A lane of the live purge as a plan starts it: keys (from, to], nothing done yet. */
const lane = (over: Partial<LaneState> = {}): LaneState => ({ from: '100', to: '200', after: null, size: 10, done: false, skipped: 0, revisit: null, revisiting: false, ...over });
const batch = (over: Partial<BatchResult> = {}): BatchResult => ({ deleted: 4, children: {}, durationMs: 5, fromLedger: false, examined: 10, skipped: 0, lastKey: '110', lastTs: null, ...over });
const KEYS = { strategy: 'key-chunks', adaptive: false } as const;
const INDEX = { strategy: 'timestamp-index', adaptive: false } as const;

describe('walkOf: where a lane\'s next batch looks', () => {
  it('walks the lane\'s own range from where it stands', () => {
    expect(walkOf(lane({ after: { key: '150' } }), 'key-chunks')).toEqual({ strategy: 'key-chunks', from: '100', to: '200', after: { key: '150' } });
    expect(walkOf(lane({ from: null, to: '2026-01-01T00:00:00.000Z' }), 'timestamp-index')).toMatchObject({ from: null, to: '2026-01-01T00:00:00.000Z', after: null });
  });

  it('on the second pass over locked rows, stops a key walk where the locked range ended', () => {
    const revisiting = lane({ revisiting: true, after: { key: '120' }, revisit: { after: { key: '120' }, to: '160' } });
    expect(walkOf(revisiting, 'key-chunks')).toMatchObject({ to: '160', after: { key: '120' } });
    // A timestamp walk has no key bound to stop at: it walks to the lane's end.
    expect(walkOf(revisiting, 'timestamp-index')).toMatchObject({ to: '200' });
  });
});

describe('advanceLane: a lane after one batch', () => {
  it('moves on past the key a full chunk reached, and is not done', () => {
    const { lane: next, leftLocked } = advanceLane(lane(), batch(), KEYS, 0);
    expect(next).toMatchObject({ after: { key: '110' }, done: false, size: 10, skipped: 0, revisit: null });
    expect(leftLocked).toBe(0);
  });

  it('a timestamp walk moves on by timestamp and key', () => {
    const { lane: next } = advanceLane(lane(), batch({ lastTs: '2026-01-01T00:00:00.000Z' }), INDEX, 0);
    expect(next.after).toEqual({ key: '110', ts: '2026-01-01T00:00:00.000Z' });
  });

  it('is done after a short batch when nothing was locked', () => {
    expect(advanceLane(lane(), batch({ examined: 3 }), KEYS, 0).lane.done).toBe(true);
  });

  it('remembers where rows were locked, goes over that range once more at its end, and counts what stays locked', () => {
    // Rows locked in the chunk (100, 110]: the range to revisit starts where the lane stood, ends at the chunk's end.
    const first = advanceLane(lane(), batch({ skipped: 2 }), KEYS, 0).lane;
    expect(first).toMatchObject({ skipped: 2, revisit: { after: null, to: '110' }, revisiting: false, after: { key: '110' } });
    // More locked rows later widen the range; its start stays.
    const second = advanceLane(first, batch({ skipped: 1, lastKey: '120' }), KEYS, 0).lane;
    expect(second).toMatchObject({ skipped: 3, revisit: { after: null, to: '120' } });
    // The lane's end: not done, but back to the start of the locked range.
    const end = advanceLane(second, batch({ examined: 4, lastKey: '124' }), KEYS, 0).lane;
    expect(end).toMatchObject({ done: false, revisiting: true, after: null });
    // On the second pass, rows still locked are left for the next run.
    const again = advanceLane(end, batch({ examined: 2, skipped: 1 }), KEYS, 0);
    expect(again.leftLocked).toBe(1);
    expect(again.lane.done).toBe(true);
  });

  it('keeps a fixed size, and adapts an adaptive one from the time per row examined', () => {
    expect(advanceLane(lane({ size: 1000 }), batch({ examined: 1000, durationMs: 10 }), KEYS, 70).lane.size).toBe(1000);
    // 10 ms for 1000 keys against a 70 ms target: at most doubling.
    expect(advanceLane(lane({ size: 1000 }), batch({ examined: 1000, durationMs: 10 }), { ...KEYS, adaptive: true }, 70).lane.size).toBe(2000);
    expect(advanceLane(lane({ size: 1000 }), batch({ examined: 1000, durationMs: 700 }), { ...INDEX, adaptive: true }, 70).lane.size).toBe(500);
  });
});

describe('nextChunk', () => {
  it('aims at the target duration, at most doubling or halving, within its bounds', () => {
    expect(nextChunk(5000, 5000, 35, 70, ADAPTIVE_CHUNK)).toBe(10_000);
    expect(nextChunk(5000, 5000, 70, 70, ADAPTIVE_CHUNK)).toBe(5000);
    expect(nextChunk(5000, 5000, 1_000, 70, ADAPTIVE_CHUNK)).toBe(2500);
    expect(nextChunk(ADAPTIVE_CHUNK.max, ADAPTIVE_CHUNK.max, 1, 70, ADAPTIVE_CHUNK)).toBe(ADAPTIVE_CHUNK.max);
    expect(nextChunk(ADAPTIVE_BATCH.min, ADAPTIVE_BATCH.min, 10_000, 70, ADAPTIVE_BATCH)).toBe(ADAPTIVE_BATCH.min);
  });

  it('learns nothing from a short tail batch, and holds still without a target', () => {
    expect(nextChunk(5000, 2000, 1, 70, ADAPTIVE_CHUNK)).toBe(5000);
    expect(nextChunk(5000, 5000, 1, 0, ADAPTIVE_CHUNK)).toBe(5000);
  });
});

describe('parsePurgeInput', () => {
  const state = { v: 2, startedAtMs: 1, nextBatchNo: 0, step: 0, plans: [], lanes: [{ size: 10 }] };

  it('takes a job, its parameters and trigger as sent', () => {
    expect(parsePurgeInput({ job: 'purge-expired-tokens', params: { dryRun: true }, trigger: 'cli' })).toEqual({ job: 'purge-expired-tokens', params: { dryRun: true }, trigger: 'cli' });
  });

  it('fills what an earlier live state did not carry, and hands a legacy state on unread', () => {
    expect(parsePurgeInput({ job: 'j', carried: state }).carried).toMatchObject({ ...state, deleted: 0, updated: 0, children: {}, matched: null, leftLocked: 0 });
    const legacy = { resolved: { job: 'j' }, cutoff: 'x', startedAtMs: 1 };
    expect(parsePurgeInput({ job: 'j', carried: legacy })).toEqual({ job: 'j', legacy });
  });

  it.each([
    [undefined, /^input: batchedPurge needs an input object \{ job, params\?, trigger\?, carried\? \}; none was given$/],
    [{ job: 'j', carried: { ...state, lanes: [{}] } }, /^input\.carried\.lanes\[0\]\.size: is required$/],
    [{ job: 'j', carried: { ...state, lanes: [{ size: 10, color: 'red' }] } }, /^input\.carried\.lanes\[0\]\.color: unknown field; allowed: from, to, after, size, done/],
    [{ job: 'j', carried: { ...state, v: 1 } }, /^input\.carried\.v: expected 2$/],
    [{ job: 'j', carried: { ...state, nextBatchNo: '3' } }, /^input\.carried\.nextBatchNo: the string "3" is not allowed; expected an integer from 0 to/],
    [{ job: 'j', carried: { ...state, step: undefined } }, /^input\.carried\.step: is required; a purge state takes/],
  ])('refuses %j naming the field', (raw, message) => {
    expect(() => parsePurgeInput(raw)).toThrow(message);
  });
});
