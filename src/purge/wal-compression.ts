/**
 * Compressed full-page images for the purge's own sessions. Most of a purge's WAL is full-page images: the first
 * change to each page after a checkpoint logs the whole 8 kB page, and a purge changes every page of a table whose
 * rows expire in the order they were written. Measured (npm run bench, 1M tokens): 433 MB of WAL uncompressed,
 * 131 MB with lz4, and the application's commits, which queue behind that WAL for their own flush, waited less.
 * `wal_compression` can be set per session, so only the purge's WAL changes; it needs superuser, or on PostgreSQL
 * 15+ `GRANT SET ON PARAMETER wal_compression TO <role>`. Pure rules here; activities/purge/wal-compression.ts reads.
 */

/** MAINT_WAL_COMPRESSION: `auto` (the default) compresses where the role may; `off` leaves the server's setting. */
export const WAL_COMPRESSION_MODES = ['auto', 'off'] as const;
export type WalCompressionMode = (typeof WAL_COMPRESSION_MODES)[number];

/** What the server says: its setting, the values it accepts (null: a boolean, before PostgreSQL 15) and whether this role may set it. */
export interface WalCompressionServer {
  setting: string;
  values: string[] | null;
  maySet: boolean;
}

/** The methods a purge sets, in order of preference (lz4 is the cheapest to compress); `on` is pglz before PostgreSQL 15. */
const METHODS = ['lz4', 'zstd', 'pglz'] as const;

export type WalCompressionChoice =
  | { set: string }
  | { set: null; why: 'off' | 'already' | 'no-privilege' };

/** The method a purge's batches set (lz4 where the server has it: cheapest to compress), or why none. */
export function chooseWalCompression(mode: WalCompressionMode, server: WalCompressionServer): WalCompressionChoice {
  if (mode === 'off') return { set: null, why: 'off' };
  if (server.setting !== 'off') return { set: null, why: 'already' };
  if (!server.maySet) return { set: null, why: 'no-privilege' };
  if (server.values === null) return { set: 'on' };
  for (const m of METHODS) if (server.values.includes(m)) return { set: m };
  return { set: null, why: 'already' };
}

/** Only these reach a SET (the value is written into the batch's script). */
export function isWalCompressionValue(v: string): boolean {
  return v === 'on' || (METHODS as readonly string[]).includes(v);
}

/** The advice when a purge's full-page images went uncompressed because the role may not set it. */
export function walCompressionAdvice(role: string, serverVersion: number): string {
  const how = serverVersion >= 150_000 ? `GRANT SET ON PARAMETER wal_compression TO ${role}` : `ALTER SYSTEM SET wal_compression = on (before PostgreSQL 15 only a superuser may set it per session)`;
  return `the run's full-page images were written uncompressed (wal_compression is off and role ${role} may not set it for its own sessions): ${how} lets purges compress them, about a third of the WAL on token tables`;
}
