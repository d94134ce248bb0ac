import { describe, expect, it } from 'vitest';
import { parsePurgeParams } from '../../src/purge/params.js';
import { Catalogue } from '../../src/catalogue/index.js';

describe('purge parameters', () => {
  it('fills defaults', () => {
    expect(parsePurgeParams(undefined)).toEqual({ batchSize: 1000, dryRun: false, batchTimeoutSeconds: 10, batchesPerRun: 500, targetBatchMs: 50 });
    // An explicit batch size is used as is.
    expect(parsePurgeParams({ batchSize: 50 }).targetBatchMs).toBe(0);
  });

  it.each([
    [{ batchSize: 0 }, /^batchSize: 0 is not allowed; expected an integer from 1 to 100000$/],
    [{ batchSize: 100_001 }, /^batchSize: .*from 1 to 100000/],
    [{ batchSize: 1.5 }, /^batchSize:/],
    [{ batchSize: 'lots' }, /^batchSize:/],
    [{ dryRun: 'true' }, /^dryRun: .*expected true or false/],
    [{ asOf: 'yesterday' }, /^asOf: .*ISO 8601/],
    [{ asOf: '2999-01-01T00:00:00Z' }, /^asOf: .*in the future/],
    [{ batchTimeoutSeconds: 0 }, /^batchTimeoutSeconds: .*from 1 to 3600/],
    [{ batchesPerRun: 0 }, /^batchesPerRun: .*from 1 to 10000/],
    [{ batch_size: 10 }, /^params\.batch_size: unknown parameter; allowed: batchSize, dryRun, asOf/],
    [[1, 2], /^params: must be an object/],
  ])('rejects %j naming the field and the allowed values', (raw, message) => {
    expect(() => parsePurgeParams(raw)).toThrow(message);
  });

  it('accepts numeric strings and normalises asOf', () => {
    expect(parsePurgeParams({ batchSize: '250', asOf: '2026-01-01T01:00:00+01:00' })).toMatchObject({ batchSize: 250, asOf: '2026-01-01T00:00:00.000Z' });
  });

  it('names the known jobs when one is unknown', () => {
    expect(() => new Catalogue().find('purge-everything')).toThrow(/^job: unknown job "purge-everything"; allowed: purge-expired-tokens/);
  });
});
