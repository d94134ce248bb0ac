// `npm run bench`: purge throughput against a single DELETE, and what each does to live traffic.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import pg from 'pg';
import { Client, Connection } from '@temporalio/client';
import { createLogger } from '../src/logger.js';
import { migrate, openOrm } from '../src/orm/index.js';
import { DEFAULT_SCHEMA, pgConfig } from '../src/db/schema.js';
import { startDevServer } from '../src/local/dev-server.js';
import { freePort } from '../src/local/ports.js';
import { startEmbeddedPostgres } from '../src/local/postgres.js';
import { findOrBuildTemporalCli } from '../src/local/temporal-cli.js';
import { loadConfig } from '../src/settings/environment.js';
import { ensureSearchAttributes } from '../src/temporal/namespace.js';
import { Catalogue } from '../src/catalogue/index.js';
import { startJob, type StartJobRequest } from '../src/start-job.js';
import type { PurgeResult } from '../src/purge/types.js';
import { seedTokens } from './seed.js';
import { SHAPES, type Shape } from './shapes.js';
import type { Latency } from './stats.js';
import { startAndMemoryReport, workerCommand } from './cli-start.js';

const CATALOGUE = new Catalogue();
const SCHEDULES = CATALOGUE.schedules();
const startHandle = async (client: Client, request: StartJobRequest) => (await startJob(client, request, CATALOGUE)).handle;

const program = new Command('bench')
  .option('--rows <n>', 'tokens in the first size (the second is 4x)', (v) => Number(v), 1_000_000)
  .option('--no-growth', 'measure N only, not 4N')
  .option('--rate <ops>', 'live traffic operations per second', (v) => Number(v), 200)
  .option('--idle-seconds <s>', 'length of the no-purge traffic sample', (v) => Number(v), 10)
  .option('--out <dir>', 'where results go', 'bench/results')
  .option('--shapes <list>', 'table shapes: native (indexed expires_at), django (simplejwt as its migrations make it)', 'native,django')
  .option('--no-kill', 'skip the SIGKILL recovery measurement')
  .parse();
const opts = program.opts<{ rows: number; growth: boolean; rate: number; idleSeconds: number; out: string; shapes: string; kill: boolean }>();
const shapes = opts.shapes.split(',').map((name) => {
  const shape = SHAPES[name as Shape['name']];
  if (!shape) {
    console.error(`error: --shapes: "${name}" is not allowed; expected a comma-separated list of ${Object.keys(SHAPES).join(', ')}`);
    process.exit(2);
  }
  return shape;
});
if (!Number.isInteger(opts.rows) || opts.rows < 1_000 || opts.rows > 50_000_000) {
  console.error('error: --rows: expected an integer from 1000 to 50000000');
  process.exit(2);
}

const logger = createLogger({ level: 'warn' });
const say = (m: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

const round = (x: number) => Math.round(x * 100) / 100;

function withDb(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** A client whose connection errors reject the query in flight instead of crashing the process. */
function client(url: string): pg.Client {
  const c = new pg.Client(pgConfig(url, DEFAULT_SCHEMA)); // our search path: the ledger lives in our schema
  c.on('error', (err) => say(`database connection error: ${err.message}`));
  return c;
}

async function admin(url: string, sql: string): Promise<void> {
  const c = client(url);
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Runs the load generator against `url` while `during` runs; returns the latencies. */
async function underLoad<T>(url: string, shape: Shape, rows: number, during: () => Promise<T>): Promise<{ result: T; lookups: Latency; logouts: Latency; errors: number }> {
  const child = spawn(process.execPath, ['bin/run.mjs', 'bench/load.ts'], {
    env: { ...process.env, LOAD_DATABASE_URL: url, LOAD_ROWS: String(rows), LOAD_RATE: String(opts.rate), LOAD_SHAPE: shape.name },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  while (!out.includes('ready')) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1_000));
  const result = await during();
  await new Promise((r) => setTimeout(r, 1_000));
  child.kill('SIGTERM');
  await once(child, 'exit');
  const samples = JSON.parse(out.slice(out.indexOf('{'))) as { lookups: Latency; logouts: Latency; errors: number };
  return { result, ...samples };
}


interface Ctx {
  adminUrl: string;
  address: string;
  client: Client;
  configFile: string;
}

/** A worker in its own process (as deployed), on its own task queue, with its RSS sampled. */
async function startWorker(ctx: Ctx, url: string, taskQueue: string, extraEnv: Record<string, string> = {}) {
  const worker = spawn(process.execPath, workerCommand().args, {
    env: { ...process.env, ...workerCommand().env, TEMPORAL_ADDRESS: ctx.address, DATABASE_URL: url, TEMPORAL_TASK_QUEUE: taskQueue, MAINT_CONFIG: ctx.configFile, LOG_FORMAT: 'json', LOG_LEVEL: 'warn', ...extraEnv },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let wout = '';
  worker.stdout!.on('data', (d) => (wout += d));
  while (!wout.includes('Temporal Web UI')) {
    if (worker.exitCode !== null) throw new Error(`worker exited:\n${wout}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return worker;
}

async function measureSize(shape: Shape, n: number, ctx: Ctx) {
  const template = `bench_tpl_${shape.name}_${n}`;
  await admin(ctx.adminUrl, `DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
  await admin(ctx.adminUrl, `CREATE DATABASE ${template}`);
  const orm = await openOrm(withDb(ctx.adminUrl, template), { nativeTables: true }); // the benchmark purges the native token tables
  await migrate(orm);
  await orm.close();
  const ddl = await shape.ddl();
  if (ddl) await admin(withDb(ctx.adminUrl, template), ddl);
  const now = new Date();
  say(`${shape.name}: seeding ${n.toLocaleString()} tokens with COPY`);
  const seedClient = client(withDb(ctx.adminUrl, template));
  await seedClient.connect();
  const seedStart = performance.now();
  let lastReport = 0;
  const seeded = await seedTokens(seedClient, shape, n, now, (done) => {
    if (done - lastReport >= n / 10) {
      lastReport = done;
      say(`  ${Math.round((done / n) * 100)}%`);
    }
  });
  const seedSeconds = (performance.now() - seedStart) / 1000;
  await seedClient.end();
  say(`seeded in ${seedSeconds.toFixed(1)} s (${Math.round(n / seedSeconds).toLocaleString()} rows/s)`);

  const copy = async (name: string) => {
    await admin(ctx.adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin(ctx.adminUrl, `CREATE DATABASE ${name} TEMPLATE ${template}`);
    return withDb(ctx.adminUrl, name);
  };

  // Idle: the same traffic with nothing else running.
  const idleUrl = await copy(`bench_idle_${n}`);
  say(`idle traffic for ${opts.idleSeconds} s`);
  const idle = await underLoad(idleUrl, shape, n, () => new Promise((r) => setTimeout(r, opts.idleSeconds * 1000)));

  // Baseline: one DELETE in one transaction, children first.
  const baseUrl = await copy(`bench_base_${n}`);
  say('baseline: single DELETE transaction');
  const base = await underLoad(baseUrl, shape, n, async () => {
    const c = client(baseUrl);
    await c.connect();
    const t0 = performance.now();
    await c.query('BEGIN');
    // Without this lock a logout that blacklists an expired token between the two DELETEs makes the second
    // fail on the foreign key (seen in a first run): a single-transaction purge must hold off inserts.
    await c.query(`LOCK TABLE ${shape.blacklist} IN SHARE ROW EXCLUSIVE MODE`);
    const children = await c.query(`DELETE FROM ${shape.blacklist} b USING ${shape.tokens} t WHERE t.id = b.token_id AND t.expires_at < $1`, [now]);
    const parents = await c.query(`DELETE FROM ${shape.tokens} WHERE expires_at < $1`, [now]);
    await c.query('COMMIT');
    const seconds = (performance.now() - t0) / 1000;
    await c.end();
    return { deleted: parents.rowCount ?? 0, children: children.rowCount ?? 0, seconds };
  });
  say(`baseline deleted ${base.result.deleted.toLocaleString()} in ${base.result.seconds.toFixed(1)} s`);

  // Ours: the real workflow, a worker in its own process, default settings.
  const oursUrl = await copy(`bench_ours_${n}`);
  const taskQueue = `bench-${shape.name}-${n}`;
  const worker = await startWorker(ctx, oursUrl, taskQueue);
  let rssPeak = 0;
  const rssSampler = setInterval(async () => {
    const status = await readFile(`/proc/${worker.pid}/status`, 'utf8').catch(() => '');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    rssPeak = Math.max(rssPeak, kb);
  }, 200);
  say('our purge through Temporal');
  const ours = await underLoad(oursUrl, shape, n, async () => {
    const t0 = performance.now();
    const handle = await startHandle(ctx.client, { job: shape.job, params: { asOf: now.toISOString() }, taskQueue, trigger: 'bench' });
    const result = (await handle.result()) as PurgeResult;
    return { result, seconds: (performance.now() - t0) / 1000, workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
  });
  clearInterval(rssSampler);
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(await readFile(`/proc/${worker.pid}/status`, 'utf8').catch(() => ''))?.[1] ?? 0);
  worker.kill('SIGTERM');
  await once(worker, 'exit');
  const c = client(oursUrl);
  await c.connect();
  const { rows: [batch] } = await c.query('SELECT max(duration_ms)::int AS longest, percentile_disc(0.99) WITHIN GROUP (ORDER BY duration_ms) AS p99, count(*)::int AS batches, max(deleted)::int AS biggest FROM purge_batch WHERE run_id = $1', [ours.result.runId]);
  await c.end();
  await new Promise((r) => setTimeout(r, 1_500));
  const histories: number[] = [];
  for await (const wf of ctx.client.workflow.list({ query: `WorkflowId = '${ours.result.workflowId}'` })) histories.push(wf.historyLength);
  say(`ours deleted ${ours.result.result.deleted.toLocaleString()} in ${ours.result.seconds.toFixed(1)} s`);

  const stall = opts.kill && n === opts.rows ? await measureStall(shape, n, ctx, copy, now) : null;
  for (const db of [`bench_idle_${n}`, `bench_base_${n}`, `bench_ours_${n}`, `bench_kill_${n}`, template]) await admin(ctx.adminUrl, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);

  const baseRate = base.result.deleted / base.result.seconds;
  const oursRate = ours.result.result.deleted / ours.result.seconds;
  return {
    shape: shape.name,
    rows: n,
    seeded: { ...seeded, seconds: round(seedSeconds), rowsPerSecond: Math.round(n / seedSeconds) },
    baseline: { deleted: base.result.deleted, children: base.result.children, seconds: round(base.result.seconds), rowsPerSecond: Math.round(baseRate), lookups: base.lookups, logouts: base.logouts, failedOps: base.errors },
    ours: {
      deleted: ours.result.result.deleted,
      children: ours.result.result.children,
      seconds: round(ours.result.seconds),
      rowsPerSecond: Math.round(oursRate),
      ratio: round(oursRate / baseRate),
      plan: ours.result.result.plans?.map((p) => ({ strategy: p.strategy, index: p.index, lanes: p.lanes.length, adaptive: p.adaptive })),
      batches: batch.batches,
      biggestBatch: batch.biggest,
      maxBatchMs: batch.longest,
      p99BatchMs: Number(batch.p99),
      workflowRuns: histories.length,
      maxHistoryLength: Math.max(...histories),
      // Sampled while the purge ran; the start-up high-water mark includes bundling the workflow code.
      workerPeakRssMb: round(rssPeak / 1024),
      workerStartupHwmMb: round(hwm / 1024),
      lookups: ours.lookups,
      logouts: ours.logouts,
      failedOps: ours.errors,
    },
    idle: { lookups: idle.lookups, logouts: idle.logouts, failedOps: idle.errors },
    stall,
  };
}

/**
 * Recovery: the same purge shared by two workers, one SIGKILLed while its batches are in flight; the stall is
 * how long until each lane that was working commits its next batch.
 */
async function measureStall(shape: Shape, n: number, ctx: Ctx, copy: (name: string) => Promise<string>, now: Date) {
  const url = await copy(`bench_kill_${n}`);
  const taskQueue = `bench-kill-${shape.name}-${n}`;
  const a = await startWorker(ctx, url, taskQueue);
  const b = await startWorker(ctx, url, taskQueue);
  say('recovery: SIGKILL one of two workers mid-purge');
  const handle = await startHandle(ctx.client, { job: shape.job, params: { asOf: now.toISOString() }, taskQueue, trigger: 'bench' });
  // Watched in the ledger, not through the workflow's query: the kill must not wait on a worker.
  const watch = client(url);
  await watch.connect();
  const expired = Math.round(n * 0.7);
  let killedAt = 0;
  for (;;) {
    const { rows: [r] } = await watch.query('SELECT coalesce(sum(deleted), 0)::int AS deleted FROM purge_batch WHERE run_id = $1', [handle.firstExecutionRunId]);
    if (r.deleted >= expired * 0.3) {
      killedAt = Date.now();
      a.kill('SIGKILL');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await watch.end();
  const result = (await handle.result()) as PurgeResult;
  b.kill('SIGTERM');
  // The killed worker may have exited long ago: wait only for what is still running.
  await Promise.all([a, b].filter((w) => w.exitCode === null && w.signalCode === null).map((w) => once(w, 'exit')));
  const c = client(url);
  await c.connect();
  const { rows } = await c.query(
    `SELECT lane, min(committed_at) AS next FROM purge_batch WHERE run_id = $1 AND committed_at > to_timestamp($2 / 1000.0) GROUP BY lane`,
    [handle.firstExecutionRunId, killedAt],
  );
  const { rows: [left] } = await c.query(`SELECT count(*)::int AS n FROM ${shape.tokens} WHERE expires_at < $1`, [now]);
  await c.end();
  const stalls = rows.map((r) => new Date(r.next).getTime() - killedAt);
  return { maxStallMs: stalls.length ? Math.max(...stalls) : null, laneStallsMs: stalls, deleted: result.deleted, expiredLeft: left.n };
}

function table(results: Awaited<ReturnType<typeof measureSize>>[]): string {
  const lines = [
    '| shape | rows | baseline DELETE rows/s | our purge rows/s | ratio (target ≥ 0.9) | time vs N (target ≤ 4.4) | walk | batches (biggest) | batch p99 / max (targets 100 / 250 ms) | worker RSS during purge (start-up peak) | lookup p99 idle / ours | logout p99 idle / ours | lookup p99 baseline | stall after SIGKILL (target < 10 s) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const n1 = results.find((x) => x.shape === r.shape && x.rows === opts.rows);
    const growth = n1 && n1 !== r ? round(r.ours.seconds / n1.ours.seconds) : '';
    const walk = r.ours.plan?.map((p) => `${p.strategy} × ${p.lanes}`).join(', ') ?? '';
    lines.push(
      `| ${r.shape} | ${r.rows.toLocaleString('en')} | ${r.baseline.rowsPerSecond.toLocaleString('en')} | ${r.ours.rowsPerSecond.toLocaleString('en')} | ${r.ours.ratio} | ${growth} | ${walk} | ${r.ours.batches} (${r.ours.biggestBatch}) | ${r.ours.p99BatchMs} / ${r.ours.maxBatchMs} ms | ${r.ours.workerPeakRssMb} MB (${r.ours.workerStartupHwmMb} MB) | ${r.idle.lookups.p99} / ${r.ours.lookups.p99} ms | ${r.idle.logouts.p99} / ${r.ours.logouts.p99} ms | ${r.baseline.lookups.p99} ms | ${r.stall?.maxStallMs != null ? `${(r.stall.maxStallMs / 1000).toFixed(1)} s` : ''} |`,
    );
  }
  return lines.join('\n');
}

async function main() {
  const started = Date.now();
  const scratch = await mkdtemp(join(tmpdir(), 'auth-maintenance-bench-'));
  await chmod(scratch, 0o755);
  const stops: Array<() => Promise<unknown>> = [];
  try {
    const { temporalCliPath, temporalCliSearch } = loadConfig(process.env);
    const cli = await findOrBuildTemporalCli({ explicitPath: temporalCliPath, ...temporalCliSearch, logger });
    if (!cli) throw new Error('the benchmark needs the Temporal CLI');
    const server = await startDevServer({ cliPath: cli.path, port: await freePort(), logger });
    stops.push(() => server.stop());
    let adminUrl = process.env.DATABASE_URL;
    if (!adminUrl) {
      const db = await startEmbeddedPostgres({ dir: join(scratch, 'postgres'), port: await freePort(), logger, env: process.env, persistent: false });
      stops.push(() => db.stop());
      adminUrl = db.serverUrl('postgres');
    }
    const connection = await Connection.connect({ address: server.address });
    stops.push(() => connection.close());
    await ensureSearchAttributes(connection, 'default');
    const client = new Client({ connection });
    // The worker must not sync real schedules onto the benchmark's server.
    const configFile = join(scratch, 'maint.config.yaml');
    await writeFile(configFile, `schedules:\n${SCHEDULES.map((s) => `  ${s.id}: { enabled: false }`).join('\n')}\n`);
    const sizes = opts.growth ? [opts.rows, opts.rows * 4] : [opts.rows];
    const results = [];
    for (const shape of shapes) for (const n of sizes) results.push(await measureSize(shape, n, { adminUrl, address: server.address, client, configFile }));
    const md = table(results);
    const meta = { date: new Date().toISOString(), command: `npm run bench -- --rows ${opts.rows}${opts.growth ? '' : ' --no-growth'} --shapes ${opts.shapes}${opts.kill ? '' : ' --no-kill'}`, rate: opts.rate, machine: '2 cores, 24 GiB', postgres: process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded', totalSeconds: Math.round((Date.now() - started) / 1000) };
    await mkdir(opts.out, { recursive: true });
    const file = join(opts.out, `${meta.date.replace(/[:.]/g, '-')}.json`);
    await writeFile(file, JSON.stringify({ ...meta, results }, null, 2));
    await writeFile(join(opts.out, 'latest.md'), `${meta.command} (${meta.date}, ${meta.totalSeconds} s)\n\n${md}\n`);
    process.stdout.write(`${md}\n\nwritten: ${file}\n`);
    process.stdout.write(await startAndMemoryReport(results.map((r) => ({ rows: r.rows, rssMb: r.ours.workerPeakRssMb }))));
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
