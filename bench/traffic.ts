// Live traffic beside a purge from pgbench, PostgreSQL's own load generator: an auth workload at a steady rate
// (open loop, `--rate`), every transaction logged, so latency and TPS are read for exactly the window measured.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Shape } from './shapes.js';
import { latency, type Latency } from './stats.js';
import { client as dbClient } from './template.js';
import { sampleWaits, type WaitProfile } from './wait-events.js';

/** The workload's transactions and their shares of the traffic (pgbench's script weights). */
export const OPERATIONS = ['lookup', 'refresh', 'logout', 'login'] as const;
export type Operation = (typeof OPERATIONS)[number];
const WEIGHTS: Record<Operation, number> = { lookup: 70, refresh: 10, logout: 10, login: 10 };

/** jti of token i as the seed writes it (`jtiOf` in seed.ts), in SQL. */
const jti = (v: string) => `lpad(to_hex(${v}), 32, '0')`;

/**
 * The scripts, as an app on simplejwt sends them: a token looked up by jti (any token, expired ones included); a
 * refresh that issues a new token; a logout that blacklists a valid token (simplejwt refuses expired ones); a login
 * that updates the user's row.
 */
function scripts(shape: Shape, rows: number, users: number): Record<Operation, string> {
  const validTokens = Math.floor(rows / 10);
  return {
    lookup: `\\set i random(1, ${rows})\nSELECT id, user_id, expires_at FROM ${shape.tokens} WHERE jti = ${jti(':i')};\n`,
    refresh: `INSERT INTO ${shape.tokens} (jti, token, created_at, expires_at) VALUES (replace(gen_random_uuid()::text, '-', ''), 'eyJhbGciOiJIUzI1NiJ9.refresh', now(), now() + interval '1 day');\n`,
    // Tokens 10k+7 .. 10k+9 are the valid ones (seed.ts: isExpired).
    logout: `\\set k random(0, ${validTokens - 1})\n\\set i :k * 10 + random(7, 9)\n${shape.logoutSql.replace('$1', jti(':i'))};\n`,
    login: `\\set u random(1, ${users})\nUPDATE ${shape.users} SET last_login = now() WHERE id = :u;\n`,
  };
}

export interface TrafficSample {
  /** Transactions per second over the window. */
  tps: number;
  all: Latency;
  byOperation: Record<Operation, Latency>;
  /** Transactions that failed (pgbench aborts a client on an error). */
  failed: number;
}

export interface TrafficOptions {
  rate: number;
  clients: number;
}

/** pgbench running against `url`; `sample(from, to)` reads what it logged between two instants (ms since epoch). */
export async function startTraffic(url: string, shape: Shape, rows: number, users: number, opts: TrafficOptions) {
  const dir = await mkdtemp(join(tmpdir(), 'maint-pgbench-'));
  const files: string[] = [];
  for (const [op, sql] of Object.entries(scripts(shape, rows, users)) as Array<[Operation, string]>) {
    const file = join(dir, `${op}.sql`);
    await writeFile(file, sql);
    files.push('-f', `${file}@${WEIGHTS[op]}`);
  }
  const u = new URL(url);
  const child: ChildProcess = spawn(
    'pgbench',
    ['-n', '-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username || 'postgres'), ...files, '-c', String(opts.clients), '-j', '2', '-R', String(opts.rate), '-T', '36000', '-l', `--log-prefix=${join(dir, 'tx')}`, u.pathname.slice(1)],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password) } },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const startedAt = Date.now();
  // pgbench has connected its clients once it logs its first transactions.
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pgbench exited ${child.exitCode}: ${stderr}`);
    if ((await readdir(dir)).some((f) => f.startsWith('tx'))) break;
    if (Date.now() - startedAt > 20_000) throw new Error(`pgbench logged nothing in 20 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    /** Stops pgbench and returns a reader of its log by time window. */
    async stop(): Promise<(from: number, to: number) => TrafficSample> {
      child.kill('SIGINT');
      await once(child, 'exit');
      const names = OPERATIONS; // script_no is the order of the -f options
      const txs: Array<{ at: number; ms: number; op: Operation }> = [];
      for (const f of (await readdir(dir)).filter((f) => f.startsWith('tx'))) {
        for (const line of (await readFile(join(dir, f), 'utf8')).split('\n')) {
          // client_id transaction_no time script_no time_epoch time_us [schedule_lag]
          const p = line.trim().split(/\s+/);
          if (p.length < 6) continue;
          // With --rate, what a client waits is the schedule lag plus the transaction.
          const us = Number(p[2]) + Number(p[6] ?? 0);
          txs.push({ at: Number(p[4]) * 1000 + Number(p[5]) / 1000, ms: us / 1000, op: names[Number(p[3])]! });
        }
      }
      const aborted = (stderr.match(/aborted/g) ?? []).length;
      await rm(dir, { recursive: true, force: true });
      return (from, to) => {
        const inWindow = txs.filter((t) => t.at >= from && t.at <= to);
        const byOperation = Object.fromEntries(OPERATIONS.map((op) => [op, latency(inWindow.filter((t) => t.op === op).map((t) => t.ms))])) as Record<Operation, Latency>;
        return { tps: Math.round((inWindow.length / Math.max(0.001, (to - from) / 1000)) * 10) / 10, all: latency(inWindow.map((t) => t.ms)), byOperation, failed: aborted };
      };
    },
  };
}

/** Runs `during` under pgbench traffic (1 s of traffic before, 1 s after); the sample covers `during` alone. */
export async function underTraffic<T>(url: string, shape: Shape, rows: number, users: number, opts: TrafficOptions, during: () => Promise<T>): Promise<{ result: T; traffic: TrafficSample & { waits: WaitProfile } }> {
  const traffic = await startTraffic(url, shape, rows, users, opts);
  await new Promise((r) => setTimeout(r, 1_000));
  const watcher = dbClient(url);
  await watcher.connect();
  const waits = sampleWaits(watcher);
  const from = Date.now();
  const result = await during();
  const to = Date.now();
  const profile = await waits.stop();
  await watcher.end();
  await new Promise((r) => setTimeout(r, 1_000));
  const read = await traffic.stop();
  return { result, traffic: { ...read(from, to), waits: profile } };
}
