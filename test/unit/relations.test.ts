import { describe, expect, it } from 'vitest';
import { buildCountSql, buildMatchSql, buildWalkSql } from '../../src/purge/sql.js';
import { buildLegacyBatchSql } from '../../src/purge/legacy-v1/sql.js';
import { customJobs } from '../../src/purge/custom-rules.js';
import type { RetentionRule } from '../../src/purge/types.js';

const access: RetentionRule = { table: 'at', primaryKey: 'id', timestampColumn: 'expires', retentionMs: 0, children: [] };

describe('conditions on other tables and inclusive cutoffs', () => {
  it('referenced / not_referenced are EXISTS probes correlated with the victim row', () => {
    const built = buildLegacyBatchSql({ ...access, where: [{ op: 'not_referenced', table: 'rt', foreignKey: 'access_token_id' }] });
    expect(built.sql).toContain('WHERE "expires" < ? AND NOT EXISTS (SELECT 1 FROM "rt" ref WHERE ref."access_token_id" = "at"."id") ORDER BY');
    expect(built.bind({ cutoff: 'C', limit: 3 })).toEqual(['C', 3]);
    const other = buildCountSql({ ...access, where: [{ op: 'referenced', table: 'rt', foreignKey: 'tok', references: 'code' }] });
    expect(other.sql).toContain('AND EXISTS (SELECT 1 FROM "rt" ref WHERE ref."tok" = "at"."code")');
  });

  it("referenced_row_older binds its own cutoff, derived from the step's cutoff and both retentions", () => {
    const rule: RetentionRule = {
      table: 'rt',
      primaryKey: 'id',
      timestampColumn: 'created',
      retentionMs: 0,
      where: [{ op: 'referenced_row_older', column: 'access_token_id', table: 'at', timestampColumn: 'expires', retentionMs: 86_400_000 }],
      children: [],
    };
    const built = buildLegacyBatchSql(rule);
    expect(built.sql).toContain('WHERE "created" < ? AND EXISTS (SELECT 1 FROM "at" ref WHERE ref."id" = "rt"."access_token_id" AND ref."expires" < ?) ORDER BY');
    expect(built.bind({ cutoff: '2026-06-02T00:00:00.000Z', limit: 9 })).toEqual(['2026-06-02T00:00:00.000Z', '2026-06-01T00:00:00.000Z', 9]);
    const count = buildCountSql({ ...rule, retentionMs: 3_600_000 });
    // The step's cutoff is an hour before the run time; the condition's a day before it.
    expect(count.bind({ cutoff: '2026-06-01T23:00:00.000Z' })).toEqual(['2026-06-01T23:00:00.000Z', '2026-06-01T00:00:00.000Z']);
    const inclusive = buildCountSql({ ...rule, where: [{ ...(rule.where![0] as object), inclusive: true } as never] });
    expect(inclusive.sql).toContain('ref."expires" <= ?');
  });

  it('key-chunk and timestamp walks test the same predicates, correlated with the row, and bind their cutoffs', () => {
    const rule: RetentionRule = {
      ...access,
      cutoffInclusive: true,
      where: [
        { op: 'not_referenced', table: 'rt', foreignKey: 'access_token_id' },
        { op: 'referenced_row_older', column: 'app_id', table: 'app', timestampColumn: 'closed', retentionMs: 60_000 },
      ],
    };
    const chunks = buildWalkSql(rule, { strategy: 'key-chunks', from: null, to: null, after: null });
    const predicate = '"expires" <= ? AND NOT EXISTS (SELECT 1 FROM "rt" ref WHERE ref."access_token_id" = "at"."id") AND EXISTS (SELECT 1 FROM "app" ref WHERE ref."id" = "at"."app_id" AND ref."closed" < ?)';
    // Tested on the chunk's rows as read, and again on each row as locked.
    expect(chunks.sql).toContain(`(SELECT "id", (${predicate}) AS hit FROM "at" ORDER BY "id" LIMIT ?)`);
    expect(chunks.sql).toContain(`victims AS (SELECT "id" FROM "at" WHERE "id" <= (SELECT last FROM bounds) AND ${predicate} FOR UPDATE SKIP LOCKED)`);
    const args = chunks.bind({ cutoff: '2026-06-01T12:00:00.000Z', limit: 10, from: null, to: null, after: null });
    expect(args).toContain('2026-06-01T11:59:00.000Z');
    const ts = buildWalkSql(rule, { strategy: 'timestamp-index', from: null, to: null, after: null });
    expect(ts.sql).toContain('WHERE "expires" <= ? AND NOT EXISTS');
    expect(buildMatchSql(rule).bind('2026-06-01T12:00:00.000Z')).toEqual(['2026-06-01T12:00:00.000Z', '2026-06-01T11:59:00.000Z']);
  });

  it('cutoffInclusive turns the timestamp test into <= in the batch and the count alike', () => {
    expect(buildLegacyBatchSql({ ...access, cutoffInclusive: true }).sql).toContain('WHERE "expires" <= ? ORDER BY');
    expect(buildCountSql({ ...access, cutoffInclusive: true }).sql).toContain('WHERE "expires" <= ?)');
    expect(buildLegacyBatchSql(access).sql).toContain('WHERE "expires" < ? ORDER BY');
  });

  it('custom rules take the new conditions, with retention in days, and reject malformed ones by field', () => {
    const [job] = customJobs(
      {
        rules: {
          'orphan-sessions': {
            table: 'session',
            timestampColumn: 'last_seen',
            cutoffInclusive: true,
            where: [
              { op: 'not_referenced', table: 'device', foreignKey: 'session_id' },
              { op: 'referenced_row_older', column: 'account_id', table: 'account', timestampColumn: 'closed_at', retentionDays: 30 },
            ],
          },
        },
      },
      [],
    );
    expect(job!.steps[0]).toMatchObject({
      cutoffInclusive: true,
      where: [
        { op: 'not_referenced', table: 'device', foreignKey: 'session_id' },
        { op: 'referenced_row_older', column: 'account_id', table: 'account', timestampColumn: 'closed_at', retentionMs: 30 * 86_400_000 },
      ],
    });
    expect(() => customJobs({ rules: { x: { table: 's', timestampColumn: 't', where: [{ op: 'not_referenced', table: 'd' }] } } }, [])).toThrow(/rules\.x\.where\[0\]/);
    expect(() =>
      customJobs({ rules: { x: { table: 's', timestampColumn: 't', where: [{ op: 'referenced_row_older', column: 'a', table: 'b', timestampColumn: 'c', retentionDays: -1 }] } } }, []),
    ).toThrow(/rules\.x\.where\[0\]/);
  });
});
