import { describe, expect, it } from 'vitest';
import { buildCountSql, buildWalkSql, childCounts } from '../../src/purge/sql.js';
import { ident } from '../../src/purge/identifiers.js';
import { buildLegacyBatchSql } from '../../src/purge/legacy-v1/sql.js';
import type { RetentionRule } from '../../src/purge/types.js';

const rule: RetentionRule = {
  table: 'outstanding_token',
  primaryKey: 'id',
  timestampColumn: 'expires_at',
  retentionMs: 0,
  children: [{ table: 'blacklisted_token', foreignKey: 'token_id' }],
};

describe('batch SQL', () => {
  it('locks the oldest matching rows by primary key, skipping locked ones, and deletes children with them', () => {
    const { sql, children } = buildLegacyBatchSql(rule);
    expect(sql).toContain('SELECT "id", "expires_at" FROM "outstanding_token" WHERE "expires_at" < ? ORDER BY "expires_at", "id" LIMIT ? FOR UPDATE SKIP LOCKED');
    expect(sql).toContain('DELETE FROM "blacklisted_token" WHERE "token_id" = ANY(ARRAY(SELECT "id" FROM victims))');
    expect(sql).toContain('DELETE FROM "outstanding_token" WHERE "id" IN (SELECT "id" FROM victims)');
    expect(children).toEqual([{ name: 'c0', label: 'blacklisted_token' }]);
  });

  it('starts at the keyset position when asked, binding it after the cutoff', () => {
    const built = buildLegacyBatchSql({ ...rule, where: [{ column: 'kind', op: 'eq', value: 'x' }] }, { keyset: true });
    expect(built.sql).toContain('WHERE "expires_at" < ? AND "expires_at" >= ? AND "kind" = ? ORDER BY');
    expect(built.bind({ cutoff: 'C', after: 'A', limit: 5 })).toEqual(['C', 'A', 'x', 5]);
    expect(buildLegacyBatchSql(rule).bind({ cutoff: 'C', limit: 5 })).toEqual(['C', 5]);
  });

  it('walks grandchildren through the columns they reference', () => {
    const { sql, children } = buildLegacyBatchSql({
      ...rule,
      children: [{ table: 'grant', foreignKey: 'token_id', primaryKey: 'id', children: [{ table: 'grant_scope', foreignKey: 'grant_code', references: 'code' }] }],
    });
    expect(sql).toContain('c0 AS (DELETE FROM "grant" WHERE "token_id" = ANY(ARRAY(SELECT "id" FROM victims)) RETURNING "code")');
    expect(sql).toContain('c1 AS (DELETE FROM "grant_scope" WHERE "grant_code" = ANY(ARRAY(SELECT "code" FROM c0)) RETURNING 1 AS one)');
    expect(children.map((c) => c.label)).toEqual(['grant', 'grant_scope']);
  });

  it('counts without locking or deleting', () => {
    const { sql } = buildCountSql(rule);
    expect(sql).not.toMatch(/DELETE|FOR UPDATE/);
    expect(sql).toContain('WHERE "expires_at" < ?');
  });

  it('refuses identifiers that are not plain names instead of escaping them', () => {
    expect(() => ident('users; DROP TABLE x')).toThrow(/not a plain SQL identifier/);
    expect(() => buildLegacyBatchSql({ ...rule, table: 'a"b' })).toThrow(/not a plain SQL identifier/);
  });

  it('reaches the rows it locked by ctid in a plain table, testing the rule again on each as locked, and by key elsewhere', () => {
    const walk = { strategy: 'key-chunks' as const, from: null, to: null, after: { key: '7' } };
    const byTid = buildWalkSql(rule, walk, 'ctid').sql;
    expect(byTid).toContain('chunk AS MATERIALIZED (SELECT "id", ctid AS tid, ("expires_at" < ?) AS hit FROM "outstanding_token" WHERE "id" > ? ORDER BY "id" LIMIT ?)');
    expect(byTid).toContain('victims AS (SELECT "id", ctid AS tid FROM "outstanding_token" WHERE ctid = ANY(ARRAY(SELECT tid FROM candidates)) AND "id" > ? AND "id" <= (SELECT last FROM bounds) AND "expires_at" < ? FOR UPDATE SKIP LOCKED)');
    expect(byTid).toContain('parent AS (DELETE FROM "outstanding_token" WHERE ctid = ANY(ARRAY(SELECT tid FROM victims)) RETURNING 1 AS one)');
    // A candidate not changed (locked, or changed meanwhile) is skipped: the lane comes back for it.
    expect(byTid).toContain('((SELECT count(*) FROM candidates) - (SELECT count(*) FROM parent))::int AS skipped');
    const byKey = buildWalkSql(rule, walk).sql;
    expect(byKey).not.toContain('ctid');
    expect(byKey).toContain('parent AS (DELETE FROM "outstanding_token" WHERE "id" IN (SELECT "id" FROM victims) RETURNING 1 AS one)');
    const ts = buildWalkSql(rule, { strategy: 'timestamp-index', from: null, to: null, after: null }, 'ctid').sql;
    expect(ts).toContain('candidates AS MATERIALIZED (SELECT "id", "expires_at" AS ts, ctid AS tid FROM "outstanding_token" WHERE "expires_at" < ? ORDER BY "expires_at", "id" LIMIT ?)');
    expect(ts).toContain('victims AS (SELECT "id", ctid AS tid FROM "outstanding_token" WHERE ctid = ANY(ARRAY(SELECT tid FROM candidates)) AND "expires_at" < ? FOR UPDATE SKIP LOCKED)');
  });

  it('sums counts of a table reached twice', () => {
    expect(childCounts({ c0: 2, c1: 3 }, [{ name: 'c0', label: 't' }, { name: 'c1', label: 't' }])).toEqual({ t: 5 });
  });
});
