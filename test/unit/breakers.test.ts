import { describe, expect, it } from 'vitest';
import { batchCap, filledCap, FRACTION_GUARD_MIN_ROWS, fractionNotes, fractionRefusal, looksLikeUserTable, rowAllowance, shareInWords, stopMessage } from '../../src/purge/breakers.js';
import { advanceLane } from '../../src/purge/lane.js';
import { parsePurgeParams } from '../../src/purge/params.js';
import { Catalogue } from '../../src/catalogue/index.js';
import { customJobs } from '../../src/purge/custom-rules.js';
import type { BatchResult, LaneState } from '../../src/purge/types.js';

/** The circuit breakers' pure rules: parameters, the row cap's shares, the fraction guard's verdict. */

describe('circuit breaker parameters', () => {
  it('reads a row cap, a time limit with or without a unit, and a share', () => {
    expect(parsePurgeParams({ maxRows: '500', maxDurationSeconds: '30m', maxFraction: '0.25' })).toMatchObject({ maxRows: 500, maxDurationSeconds: 1800, maxFraction: 0.25 });
    expect(parsePurgeParams({ maxDurationSeconds: 90 }).maxDurationSeconds).toBe(90);
    expect(parsePurgeParams({ maxDurationSeconds: '2h' }).maxDurationSeconds).toBe(7200);
    expect(parsePurgeParams({ maxDurationSeconds: '1d' }).maxDurationSeconds).toBe(86_400);
    expect(parsePurgeParams({ maxFraction: 1 }).maxFraction).toBe(1);
    expect(parsePurgeParams({ maxFraction: '.5' }).maxFraction).toBe(0.5);
    // Not given: no limit.
    expect(parsePurgeParams({})).not.toHaveProperty('maxRows');
  });

  it.each([
    [{ maxRows: 0 }, /^maxRows: 0 is not allowed; expected an integer from 1 to 1000000000000$/],
    [{ maxRows: 2.5 }, /^maxRows: /],
    [{ maxRows: 'many' }, /^maxRows: /],
    [{ maxDurationSeconds: 0 }, /^maxDurationSeconds: 0 is not allowed; expected a duration of 1 s to 7 days/],
    [{ maxDurationSeconds: '8d' }, /^maxDurationSeconds: .*expected a duration of 1 s to 7 days/],
    [{ maxDurationSeconds: '30 minutes' }, /^maxDurationSeconds: .*90s, 30m, 2h, 1d/],
    [{ maxDurationSeconds: '-5m' }, /^maxDurationSeconds: /],
    [{ maxFraction: 0 }, /^maxFraction: 0 is not allowed; expected a share of the table greater than 0 and at most 1/],
    [{ maxFraction: 1.5 }, /^maxFraction: .*at most 1/],
    [{ maxFraction: '50%' }, /^maxFraction: .*greater than 0 and at most 1/],
    [{ maxFraction: 'NaN' }, /^maxFraction: /],
  ])('refuses %j naming the field and the allowed range', (raw, message) => {
    expect(() => parsePurgeParams(raw)).toThrow(message);
  });

  it('is on by default for the jobs that delete accounts, off for token purges', () => {
    const catalogue = new Catalogue();
    expect(catalogue.purge('purge-stale-unverified-accounts').maxFraction).toBe(0.5);
    expect(catalogue.purge('hidp-remove-stale-unverified-accounts').maxFraction).toBe(0.5);
    for (const job of ['purge-expired-tokens', 'django-simplejwt-flush-expired', 'purge-oauth-tokens', 'django-clearsessions', 'purge-verification-tokens']) {
      expect(catalogue.purge(job).maxFraction, job).toBeUndefined();
    }
    // Every purge takes the flags.
    for (const e of catalogue.entries.filter((x) => x.purge)) expect(e.flags).toEqual(expect.arrayContaining(['maxRows', 'maxDuration', 'maxFraction']));
  });

  it('guards a custom rule on a user table by default, and takes the rule\'s own share', () => {
    const [users, logs, own] = customJobs(
      { rules: { 'purge-users': { table: 'auth_user', timestampColumn: 'last_login' }, 'purge-logs': { table: 'audit_log', timestampColumn: 'at' }, 'purge-accounts': { table: 'accounts', timestampColumn: 'at', maxFraction: 0.9 } } },
      [],
    );
    expect(users!.maxFraction).toBe(0.5);
    expect(logs!.maxFraction).toBeUndefined();
    expect(own!.maxFraction).toBe(0.9);
    expect(() => customJobs({ rules: { 'purge-x': { table: 'x', timestampColumn: 'at', maxFraction: 2 } } }, [])).toThrow(/rules\.purge-x\.maxFraction/);
    expect(['users', 'account', 'accounts_user', 'auth_user'].every(looksLikeUserTable)).toBe(true);
    expect(['user_session', 'outstanding_token', 'useraudit'].some(looksLikeUserTable)).toBe(false);
  });
});

describe('the row cap', () => {
  it('shares what is left among the lanes still working, never promising more than the cap', () => {
    expect(rowAllowance(1000, 0, 0, 2)).toBe(500);
    // One lane holds 500: the other gets at most what is left unpromised.
    expect(rowAllowance(1000, 0, 500, 2)).toBe(500);
    expect(rowAllowance(1000, 900, 80, 2)).toBe(20);
    expect(rowAllowance(1000, 900, 100, 2)).toBe(0);
    expect(rowAllowance(1000, 1000, 0, 1)).toBe(0);
    expect(rowAllowance(7, 0, 0, 3)).toBe(3);
  });

  it('caps a batch only when it would take more than the lane run may still change', () => {
    expect(batchCap(undefined, 0, 1000)).toBeUndefined();
    expect(batchCap(5000, 1000, 1000)).toBeUndefined();
    expect(batchCap(1500, 1000, 1000)).toBe(500);
    expect(batchCap(1000, 1000, 1000)).toBe(0);
    expect(filledCap(500, 480, 20)).toBe(true);
    expect(filledCap(500, 499, 0)).toBe(false);
    expect(filledCap(undefined, 1000, 0)).toBe(false);
  });

  const lane = (over: Partial<LaneState> = {}): LaneState => ({ from: null, to: null, after: null, size: 1000, done: false, skipped: 0, revisit: null, revisiting: false, ...over });
  const batch = (over: Partial<BatchResult> = {}): BatchResult => ({ deleted: 3, children: {}, durationMs: 5, fromLedger: false, examined: 40, skipped: 0, lastKey: '77', lastTs: null, ...over });

  it('a batch that filled its cap goes on after its last row, though its chunk was short, and does not adapt', () => {
    const keys = { strategy: 'key-chunks', adaptive: true } as const;
    const { lane: next } = advanceLane(lane(), batch(), keys, 70, 3);
    expect(next).toMatchObject({ done: false, after: { key: '77' }, size: 1000 });
    // The same short chunk without a cap is the end of the lane.
    expect(advanceLane(lane(), batch(), keys, 70).lane.done).toBe(true);
    // A capped batch that found fewer rows than its cap reached the lane's end.
    expect(advanceLane(lane(), batch({ deleted: 2 }), keys, 70, 3).lane.done).toBe(true);
    const index = { strategy: 'timestamp-index', adaptive: false } as const;
    expect(advanceLane(lane(), batch({ examined: 3, lastTs: '2026-01-01T00:00:00.000Z' }), index, 0, 3).lane).toMatchObject({ done: false, after: { key: '77', ts: '2026-01-01T00:00:00.000Z' } });
  });
});

describe('the fraction guard', () => {
  const share = (matched: number, tableRows: number, exact = true) => ({ step: 'account', table: 'account', matched, tableRows, exact });

  it('refuses a step over the share, naming it, the rows, the table and the override', () => {
    const refusal = fractionRefusal([share(600, 1000)], 0.5);
    expect(refusal).toBe(
      'refused by the fraction guard before any row changed: step account would change 600 of the 1000 rows of account (60%), more than maxFraction 0.5 (50%). ' +
        'Check the rule and its parameters (--days, --as-of) with --dry-run; if that many rows should go, run again with --max-fraction 1 (or the share you expect)',
    );
    expect(fractionRefusal([share(600_000, 1_000_000, false)], 0.5)).toMatch(/about 600000 of the about 1000000 rows/);
  });

  it('lets through a share within the limit, a guard that is off, and small tables', () => {
    expect(fractionRefusal([share(500, 1000)], 0.5)).toBeNull();
    expect(fractionRefusal([share(1000, 1000)], 1)).toBeNull();
    expect(fractionRefusal([share(1000, 1000)], undefined)).toBeNull();
    expect(fractionRefusal([share(FRACTION_GUARD_MIN_ROWS - 1, FRACTION_GUARD_MIN_ROWS - 1)], 0.5)).toBeNull();
    expect(fractionRefusal([share(FRACTION_GUARD_MIN_ROWS, FRACTION_GUARD_MIN_ROWS)], 0.5)).not.toBeNull();
  });

  it('tells a dry run what a real run would meet', () => {
    expect(fractionNotes([share(600, 1000)], 0.5)[0]).toMatch(/^a real run would be refused by the fraction guard/);
    expect(fractionNotes([share(100, 1000)], 0.5)).toEqual([]);
    expect(shareInWords(share(100, 1000), 0.5)).toBe('100 of 1000 rows of account (10%, within maxFraction 0.5)');
    expect(shareInWords(share(700, 1000), 0.5)).toBe('700 of 1000 rows of account (70%, over maxFraction 0.5)');
    expect(shareInWords(share(3, 5), 0.5)).toBe(`3 of 5 rows of account (under the ${FRACTION_GUARD_MIN_ROWS} rows the guard checks)`);
  });

  it('says which limit stopped a run', () => {
    expect(stopMessage('maxRows', { maxRows: 500 }, 500)).toMatch(/^stopped at its row limit: maxRows 500 reached \(500 rows deleted or updated\)/);
    expect(stopMessage('maxDurationSeconds', { maxDurationSeconds: 5400 }, 12)).toMatch(/^stopped at its time limit: maxDurationSeconds 5400 \(1h 30m\) passed after 12 rows/);
  });
});
