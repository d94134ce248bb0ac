import { describe, expect, it } from 'vitest';
import { chooseWalCompression, isWalCompressionValue } from '../../src/purge/wal-compression.js';

describe('chooseWalCompression', () => {
  const pg15 = ['pglz', 'lz4', 'zstd', 'on', 'off'];
  it('picks lz4, then zstd, then pglz on a server that does not compress and a role that may set it', () => {
    expect(chooseWalCompression('auto', { setting: 'off', values: pg15, maySet: true })).toEqual({ set: 'lz4' });
    expect(chooseWalCompression('auto', { setting: 'off', values: ['pglz', 'zstd', 'on', 'off'], maySet: true })).toEqual({ set: 'zstd' });
    expect(chooseWalCompression('auto', { setting: 'off', values: ['pglz', 'on', 'off'], maySet: true })).toEqual({ set: 'pglz' });
    // Before PostgreSQL 15 it is a boolean (pglz).
    expect(chooseWalCompression('auto', { setting: 'off', values: null, maySet: true })).toEqual({ set: 'on' });
  });
  it('sets nothing when told off, when the server compresses already, or when the role may not', () => {
    expect(chooseWalCompression('off', { setting: 'off', values: pg15, maySet: true })).toEqual({ set: null, why: 'off' });
    expect(chooseWalCompression('auto', { setting: 'pglz', values: pg15, maySet: true })).toEqual({ set: null, why: 'already' });
    expect(chooseWalCompression('auto', { setting: 'off', values: pg15, maySet: false })).toEqual({ set: null, why: 'no-privilege' });
  });
  it('lets only the known methods into a SET', () => {
    for (const v of ['lz4', 'zstd', 'pglz', 'on']) expect(isWalCompressionValue(v)).toBe(true);
    for (const v of ['off', "lz4'; DROP TABLE x; --", '']) expect(isWalCompressionValue(v)).toBe(false);
  });
});
