// What a measured window made the server write: WAL bytes, full-page images, records, segment files created and
// checkpoints (cluster-wide counters, read before and after; the benchmark runs nothing else meanwhile).
import { client } from './template.js';

export interface WalDelta {
  bytes: number;
  fullPageImages: number;
  records: number;
  /** Times a backend waited for WAL buffers to be written out (WAL buffers full). */
  buffersFull: number;
  checkpoints: number;
}

const SQL = `SELECT w.wal_bytes::float8 AS bytes, w.wal_fpi::float8 AS fpi, w.wal_records::float8 AS records, w.wal_buffers_full::float8 AS full,
                    (b.checkpoints_timed + b.checkpoints_req)::float8 AS checkpoints
             FROM pg_stat_wal w, pg_stat_bgwriter b`;

async function read(url: string) {
  const c = client(url);
  await c.connect();
  try {
    return (await c.query(SQL)).rows[0] as { bytes: number; fpi: number; records: number; full: number; checkpoints: number };
  } finally {
    await c.end();
  }
}

/** Runs `fn` and returns its result with the WAL written meanwhile. */
export async function walOf<T>(url: string, fn: () => Promise<T>): Promise<{ result: T; wal: WalDelta }> {
  const a = await read(url);
  const result = await fn();
  const b = await read(url);
  return { result, wal: { bytes: b.bytes - a.bytes, fullPageImages: b.fpi - a.fpi, records: b.records - a.records, buffersFull: b.full - a.full, checkpoints: b.checkpoints - a.checkpoints } };
}
