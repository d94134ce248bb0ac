import { describe, expect, it } from 'vitest';
import { customJobs } from '../../src/purge/custom-rules.js';

const valid = { table: 'audit_log', timestampColumn: 'created_at', retentionDays: 365, children: [{ table: 'audit_detail', foreignKey: 'log_id' }] };

describe('custom retention rules from the config file', () => {
  it('turns each rule into a job of one step', () => {
    const [job] = customJobs({ rules: { 'purge-audit-log': { ...valid, batchSize: 500 } } }, []);
    expect(job).toMatchObject({ name: 'purge-audit-log', custom: true, defaultBatchSize: 500, steps: [{ table: 'audit_log', primaryKey: 'id', retentionMs: 365 * 86_400_000 }] });
  });

  it.each([
    [{ ...valid, retentionDays: -1 }, /^rules\.r\.retentionDays: must not be negative/],
    [{ ...valid, batchSize: 0 }, /^rules\.r\.batchSize:/],
    [{ ...valid, batchSize: 1_000_000 }, /^rules\.r\.batchSize:/],
    [{ ...valid, table: 'audit log; drop' }, /^rules\.r\.table: must be a plain SQL identifier/],
    [{ ...valid, timestampColumn: undefined }, /^rules\.r\.timestampColumn:/],
    [{ ...valid, colour: 'red' }, /^rules\.r: .*colour/],
    [{ ...valid, children: [{ table: 'a', foreignKey: 'x', children: [{ table: 'audit_log', foreignKey: 'y' }] }] }, /^rules\.r\.children: cycle: audit_log -> a -> audit_log/],
    [{ ...valid, where: [{ column: 'kind', op: 'like', value: 'x' }] }, /^rules\.r\.where\[0\]: .* is not a condition/],
  ])('rejects %j naming the rule and field', (rule, message) => {
    expect(() => customJobs({ rules: { r: rule } }, [])).toThrow(message);
  });

  it('refuses a name a built-in job has', () => {
    expect(() => customJobs({ rules: { 'purge-expired-tokens': valid } }, ['purge-expired-tokens'])).toThrow(/^rules\.purge-expired-tokens: a built-in job has this name/);
  });
});
