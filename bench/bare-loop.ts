// `node bin/run.mjs bench/bare-loop.ts [sleepCoef:chunk:lanes ...]`: the floor of what any batched purge does to live
// traffic on this machine. The same pgbench traffic as `npm run bench`, idle and then during a plain SQL loop of
// batches (children first, `wal_compression = lz4` as our batches set it, a sleep of `sleepCoef` times each batch),
// with no Temporal, no worker and no ledger: what is left of the traffic's p99 at a given rate is the database's and
// the disk's, not ours. Native shape, 1M tokens; each loop runs 30 s at most.
import { copyOf, seedTemplate, client, admin } from './template.js';
import { SHAPES, USERS } from './shapes.js';
import { underTraffic, type TrafficSample } from './traffic.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const adminUrl = process.env.DATABASE_URL;
if (!adminUrl) throw new Error('DATABASE_URL: expected the URL of a PostgreSQL server to make scratch databases on');
const shape = SHAPES.native;
const n = 1_000_000;
const traffic = { rate: 300, clients: 8 };
const LIMIT_MS = 30_000;

const specs = process.argv.slice(2).length ? process.argv.slice(2) : ['4:1000:1', '1:1000:1', '4:3000:2'];
const configs = specs.map((a) => {
  const [coef, chunk, lanes] = a.split(':').map(Number);
  if (!(coef! >= 0 && Number.isInteger(chunk) && chunk! > 0 && Number.isInteger(lanes) && lanes! >= 1 && lanes! <= 8)) {
    throw new Error(`"${a}": expected sleepCoef:chunk:lanes, e.g. 4:1000:1 (sleepCoef >= 0, chunk a positive count of keys, lanes 1 to 8)`);
  }
  return { sleepCoef: coef!, chunk: chunk!, lanes: lanes! };
});

const summary = (t: TrafficSample) => ({ p99: t.all.p99, tps: t.tps, byOperation: Object.fromEntries(Object.entries(t.byOperation).map(([k, v]) => [k, v.p99])) });

const now = new Date();
await seedTemplate(adminUrl, 'bare_loop_tpl', shape, n, now);
try {
  for (const cfg of configs) {
    const idleUrl = await copyOf(adminUrl, 'bare_loop_tpl', 'bare_loop_idle');
    const idle = await underTraffic(idleUrl, shape, n, USERS, traffic, () => sleep(20_000));
    const url = await copyOf(adminUrl, 'bare_loop_tpl', 'bare_loop_run');
    const run = await underTraffic(url, shape, n, USERS, traffic, async () => {
      const t0 = performance.now();
      let deleted = 0;
      let batches = 0;
      let busyMs = 0;
      const lane = async (k: number) => {
        const c = client(url);
        await c.connect();
        const { rows: [top] } = await c.query(`SELECT max(id)::int AS max FROM ${shape.tokens}`);
        for (let last = k * cfg.chunk; last < top.max && performance.now() - t0 < LIMIT_MS; last += cfg.chunk * cfg.lanes) {
          const b0 = performance.now();
          await c.query('BEGIN');
          await c.query('SET LOCAL wal_compression = lz4');
          const range = [last, last + cfg.chunk, now];
          await c.query(`DELETE FROM ${shape.blacklist} b USING ${shape.tokens} t WHERE t.id = b.token_id AND t.id > $1 AND t.id <= $2 AND t.expires_at < $3`, range);
          const r = await c.query(`DELETE FROM ${shape.tokens} WHERE id > $1 AND id <= $2 AND expires_at < $3`, range);
          await c.query('COMMIT');
          const ms = performance.now() - b0;
          deleted += r.rowCount ?? 0;
          batches += 1;
          busyMs += ms;
          if (cfg.sleepCoef) await sleep(ms * cfg.sleepCoef);
        }
        await c.end();
      };
      await Promise.all(Array.from({ length: cfg.lanes }, (_, k) => lane(k)));
      const seconds = (performance.now() - t0) / 1000;
      return { deleted, seconds: Math.round(seconds * 10) / 10, rowsPerSecond: Math.round(deleted / seconds), meanBatchMs: Math.round((busyMs / batches) * 10) / 10 };
    });
    const i = summary(idle.traffic);
    const d = summary(run.traffic);
    console.log(JSON.stringify({ ...cfg, ...run.result, idle: i, during: d, p99Ratio: Math.round((d.p99 / i.p99) * 100) / 100, waits: run.traffic.waits.shares }));
  }
} finally {
  for (const db of ['bare_loop_idle', 'bare_loop_run', 'bare_loop_tpl']) await admin(adminUrl, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
}
process.exit(0);
