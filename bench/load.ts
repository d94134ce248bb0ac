// Live traffic beside a purge: token lookups by jti and logouts (a blacklist insert for a random token,
// expired ones included), at a steady open-loop rate. Prints latency samples as JSON when told to stop.
import pg from 'pg';
import { jtiOf } from './seed.js';
import { shapeNamed } from './shapes.js';
import { latency } from './stats.js';

const url = process.env.LOAD_DATABASE_URL!;
const rows = Number(process.env.LOAD_ROWS);
const rate = Number(process.env.LOAD_RATE ?? 200);
const shape = shapeNamed(process.env.LOAD_SHAPE);
const pool = new pg.Pool({ connectionString: url, max: 8 });
const lookups: number[] = [];
const logouts: number[] = [];
let errors = 0;
const randomToken = () => 1 + Math.floor(Math.random() * rows);

async function timed(samples: number[], fn: () => Promise<unknown>): Promise<void> {
  const t0 = performance.now();
  try {
    await fn();
  } catch {
    // A logout of a token the purge just removed fails its foreign key, as it would for a real client.
    errors += 1;
  }
  samples.push(performance.now() - t0);
}

let n = 0;
let stopping = false;
const inflight = new Set<Promise<void>>();
const tick = setInterval(() => {
  if (stopping) return;
  n += 1;
  // Four lookups to one logout.
  const p =
    n % 5 === 0
      ? timed(logouts, () => pool.query(shape.logoutSql, [jtiOf(randomToken())]))
      : timed(lookups, () => pool.query(`SELECT id, user_id, expires_at FROM ${shape.tokens} WHERE jti = $1`, [jtiOf(randomToken())]));
  inflight.add(p);
  void p.finally(() => inflight.delete(p));
}, 1000 / rate);

process.on('SIGTERM', async () => {
  stopping = true;
  clearInterval(tick);
  await Promise.all(inflight);
  await pool.end();
  // Exit only once the line is flushed: a pipe write is asynchronous.
  process.stdout.write(JSON.stringify({ lookups: latency(lookups), logouts: latency(logouts), errors }) + '\n', () => process.exit(0));
});
process.stdout.write('ready\n');
