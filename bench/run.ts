// `npm run bench`: purge throughput against a single DELETE, and what each does to live traffic.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { Client, Connection } from '@temporalio/client';
import { createLogger } from '../src/logger.js';
import { startDevServer } from '../src/local/dev-server.js';
import { freePort } from '../src/local/ports.js';
import { startEmbeddedPostgres } from '../src/local/postgres.js';
import { findOrBuildTemporalCli } from '../src/local/temporal-cli.js';
import { loadConfig } from '../src/settings/environment.js';
import { ensureSearchAttributes } from '../src/temporal/namespace.js';
import { Catalogue } from '../src/catalogue/index.js';
import { startJob, type StartJobRequest } from '../src/start-job.js';
import type { PurgeResult } from '../src/purge/types.js';
import { admin, client as dbClient, copyOf, seedTemplate } from './template.js';
import { SHAPES, USERS, type Shape } from './shapes.js';
import { underTraffic } from './traffic.js';
import { walOf } from './wal.js';
import { measureControl } from './control.js';
import { targetsReport } from './targets.js';
import { djangoUnavailable, frozenCommand } from '../test/support/django.js';
import { startAndMemoryReport, workerCommand } from './cli-start.js';
import { BUDGETS as PRESETS } from '../src/purge/budget.js';
import { measureReplica, replicaReport } from './replica.js';
import { purgeTimeline } from './timeline.js';

const CATALOGUE = new Catalogue();
const SCHEDULES = CATALOGUE.schedules();
const startHandle = async (client: Client, request: StartJobRequest) => (await startJob(client, request, CATALOGUE)).handle;

/**
 * The budgets our purge is measured at, each a set of job parameters: one entry per `--budget` preset
 * (src/purge/budget.ts): `full` for speed, `gentle` (the schedules' default) for the traffic, `balanced` (`maint run`'s).
 */
const BUDGETS: Array<{ name: string; params: Record<string, unknown> }> = PRESETS.map((name) => ({ name, params: { budget: name } }));
const DEFAULT_BUDGETS = ['full', 'gentle'];

const list = (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean);
const program = new Command('bench')
  .option('--sizes <list>', 'tokens per table, comma-separated (e.g. 100000 for a quick run)', '1000000,4000000')
  .option('--shapes <list>', 'table shapes: native (indexed expires_at), django (simplejwt as its migrations make it)', 'native,django')
  .option('--budgets <list>', `budgets our purge runs at: ${BUDGETS.map((b) => b.name).join(', ')}`, DEFAULT_BUDGETS.join(','))
  .option('--no-django', "skip Django's own flushexpiredtokens on the django shape")
  .option('--rate <tps>', 'pgbench traffic: transactions per second (open loop)', (v) => Number(v), 300)
  .option('--clients <n>', 'pgbench traffic: client connections', (v) => Number(v), 8)
  .option('--idle-seconds <s>', 'length of the no-purge traffic sample', (v) => Number(v), 10)
  .option('--out <dir>', 'where results go', 'bench/results')
  .option('--no-kill', 'skip the SIGKILL recovery measurement')
  .option('--no-control', "skip the live control measurement (an operator's pause and resume)")
  .option('--no-replica', "skip the replica-lag brake's measurement on a real streaming replica (first shape, first size)")
  .option('--with <k=v,...>', 'extra parameters of our purge at every budget, e.g. targetBatchMs=20,parallel=1 (numbers as numbers)', '')
  .option('--cpu-prof <dir>', "write a V8 CPU profile of each benchmark worker into <dir> (node's --cpu-prof)")
  .parse();
const opts = program.opts<{ sizes: string; shapes: string; budgets: string; django: boolean; rate: number; clients: number; idleSeconds: number; out: string; kill: boolean; control: boolean; replica: boolean; cpuProf?: string; with: string }>();
const fail = (m: string) => {
  console.error(`error: ${m}`);
  process.exit(2);
};
const shapes = list(opts.shapes).map((name) => SHAPES[name as Shape['name']] ?? fail(`--shapes: "${name}" is not allowed; expected a comma-separated list of ${Object.keys(SHAPES).join(', ')}`));
const budgets = list(opts.budgets).map((name) => BUDGETS.find((b) => b.name === name) ?? fail(`--budgets: "${name}" is not allowed; expected a comma-separated list of ${BUDGETS.map((b) => b.name).join(', ')}`));
const sizes = list(opts.sizes).map(Number);
if (!sizes.length || sizes.some((n) => !Number.isInteger(n) || n < 1_000 || n > 50_000_000)) fail('--sizes: expected integers from 1000 to 50000000, comma-separated');
if (!(opts.rate > 0 && opts.rate <= 10_000) || !(Number.isInteger(opts.clients) && opts.clients >= 1 && opts.clients <= 64)) fail('--rate: 1 to 10000 and --clients: 1 to 64 expected');
const traffic = { rate: opts.rate, clients: opts.clients };
const extra: Record<string, unknown> = Object.fromEntries(
  list(opts.with).map((kv) => {
    const [k, v] = kv.split('=');
    if (!k || v === undefined) fail(`--with: "${kv}" is not k=v`);
    return [k, v !== '' && !Number.isNaN(Number(v)) ? Number(v) : v];
  }),
);
if (Object.keys(extra).length) for (const b of BUDGETS) b.params = { ...b.params, ...extra };

const logger = createLogger({ level: 'warn' });
const say = (m: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

const round = (x: number) => Math.round(x * 100) / 100;
/** One line of what the traffic felt: p99 per operation and the wait events its backends were seen in. */
const felt = (label: string, t: { all: { p99: number }; tps: number; byOperation: Record<string, { p99: number }>; waits?: { shares: Record<string, number> } }) =>
  say(`  ${label}: p99 ${t.all.p99} ms, ${t.tps} tx/s; p99 by operation ${Object.entries(t.byOperation).map(([k, v]) => `${k} ${v.p99}`).join(', ')}; waits ${Object.entries(t.waits?.shares ?? {}).slice(0, 5).map(([k, v]) => `${k} ${Math.round(v * 100)}%`).join(', ')}`);

const client = (url: string) => dbClient(url, (err) => say(`database connection error: ${err.message}`));

interface Ctx {
  adminUrl: string;
  address: string;
  client: Client;
  configFile: string;
}

/** A worker in its own process (as deployed), on its own task queue, with its RSS sampled. */
async function startWorker(ctx: Ctx, url: string, taskQueue: string, extraEnv: Record<string, string> = {}) {
  // --cpu-prof: the worker writes a V8 CPU profile when it exits (open it in Chrome's DevTools or speedscope).
  const { args } = workerCommand();
  const profiled = opts.cpuProf ? [`--cpu-prof`, `--cpu-prof-dir=${opts.cpuProf}`, ...args] : args;
  const worker = spawn(process.execPath, profiled, {
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

/** Ledger rows of expired tokens left after a purge, and the run's batches (p99, max, sizes, lane-run handoffs). */
async function ledgerFacts(url: string, shape: Shape, runId: string, now: Date) {
  const c = client(url);
  await c.connect();
  try {
    const { rows: [batch] } = await c.query('SELECT max(duration_ms)::int AS longest, percentile_disc(0.99) WITHIN GROUP (ORDER BY duration_ms) AS p99, count(*)::int AS batches, max(deleted)::int AS biggest FROM purge_batch WHERE run_id = $1', [runId]);
    // committed_at is each batch's transaction start: the time from one batch to the lane's next is a cycle, and a
    // cycle across a jump in batch numbers spans a lane run's end, the workflow's turn and the next run's start.
    const { rows: [cycle] } = await c.query(
      `WITH b AS (SELECT batch_no, committed_at, lag(batch_no) OVER w AS prev_no, lag(committed_at) OVER w AS prev_at FROM purge_batch WHERE run_id = $1 WINDOW w AS (PARTITION BY step, lane ORDER BY batch_no))
       SELECT round(avg(extract(epoch FROM committed_at - prev_at) * 1000) FILTER (WHERE batch_no = prev_no + 1), 1)::float8 AS in_run_ms,
              round(avg(extract(epoch FROM committed_at - prev_at) * 1000) FILTER (WHERE batch_no > prev_no + 1), 1)::float8 AS across_runs_ms,
              count(*) FILTER (WHERE batch_no > prev_no + 1)::int AS handoffs FROM b`,
      [runId],
    );
    const { rows: [left] } = await c.query(`SELECT count(*)::int AS n FROM ${shape.tokens} WHERE expires_at < $1`, [now]);
    return { batch, cycle, expiredLeft: left.n as number };
  } finally {
    await c.end();
  }
}

/** Mean milliseconds per batch of each phase, from the worker's /metrics (maint_batch_phase_seconds). */
async function phasesFrom(metricsPort: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const read = (suffix: string) => new Map([...text.matchAll(new RegExp(`^maint_batch_phase_seconds_${suffix}\\{[^}]*phase="(\\w+)"[^}]*\\} (\\S+)$`, 'gm'))].map((m) => [m[1]!, Number(m[2])]));
  const sum = read('sum');
  const count = read('count');
  return Object.fromEntries([...sum].map(([phase, v]) => [phase, round((v * 1000) / Math.max(1, count.get(phase) ?? 1))]));
}

/** Our purge at one budget: the real workflow, a worker in its own process, RSS sampled, traffic on. */
async function measureOurs(shape: Shape, n: number, ctx: Ctx, url: string, now: Date, budget: (typeof BUDGETS)[number]) {
  const taskQueue = `bench-${shape.name}-${n}-${budget.name}`;
  const metricsPort = await freePort();
  const worker = await startWorker(ctx, url, taskQueue, { METRICS_PORT: String(metricsPort) });
  let rssPeak = 0;
  const rssSampler = setInterval(async () => {
    const status = await readFile(`/proc/${worker.pid}/status`, 'utf8').catch(() => '');
    rssPeak = Math.max(rssPeak, Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0));
  }, 200);
  say(`our purge through Temporal, budget ${budget.name}`);
  const ours = await underTraffic(url, shape, n, USERS, traffic, async () => {
    const t0 = performance.now();
    let handle!: Awaited<ReturnType<typeof startHandle>>;
    const { result, wal } = await walOf(url, async () => {
      handle = await startHandle(ctx.client, { job: shape.job, params: { asOf: now.toISOString(), ...budget.params }, taskQueue, trigger: 'bench' });
      return (await handle.result()) as PurgeResult;
    });
    return { result, wal, seconds: (performance.now() - t0) / 1000, workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
  });
  clearInterval(rssSampler);
  const phasesMs = await phasesFrom(metricsPort).catch(() => ({}));
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(await readFile(`/proc/${worker.pid}/status`, 'utf8').catch(() => ''))?.[1] ?? 0);
  worker.kill('SIGTERM');
  await once(worker, 'exit');
  const facts = await ledgerFacts(url, shape, ours.result.runId, now);
  await new Promise((r) => setTimeout(r, 1_500));
  const histories: number[] = [];
  for await (const wf of ctx.client.workflow.list({ query: `WorkflowId = '${ours.result.workflowId}'` })) histories.push(wf.historyLength);
  const timeline = await purgeTimeline(ctx.client, ours.result.workflowId).catch((err: Error) => ({ error: err.message }));
  say(`ours (${budget.name}) deleted ${ours.result.result.deleted.toLocaleString()} in ${ours.result.seconds.toFixed(1)} s; batch p99 ${facts.batch.p99} ms, max ${facts.batch.longest} ms, ${facts.batch.batches} batches`);
  felt('traffic', ours.traffic);
  say(`  WAL: ${JSON.stringify(ours.result.wal)}`);
  say(`  timeline: ${JSON.stringify(timeline)}`);
  return {
    budget: budget.name,
    params: budget.params,
    deleted: ours.result.result.deleted,
    children: ours.result.result.children,
    expiredLeft: facts.expiredLeft,
    seconds: round(ours.result.seconds),
    rowsPerSecond: Math.round(ours.result.result.deleted / ours.result.seconds),
    plan: ours.result.result.plans?.map((p) => ({ strategy: p.strategy, index: p.index, lanes: p.lanes.length, adaptive: p.adaptive })),
    batches: facts.batch.batches,
    biggestBatch: facts.batch.biggest,
    maxBatchMs: facts.batch.longest,
    p99BatchMs: Number(facts.batch.p99),
    // Where a batch's time went (worker's /metrics) and what a lane run's handoff through Temporal costs (ledger).
    profile: { timeline, phasesMs, cycleInRunMs: facts.cycle.in_run_ms, cycleAcrossRunsMs: facts.cycle.across_runs_ms, laneRunHandoffs: facts.cycle.handoffs },
    workflowRuns: histories.length,
    maxHistoryLength: Math.max(...histories),
    // Sampled while the purge ran; the start-up high-water mark includes loading the workflow bundle.
    workerPeakRssMb: round(rssPeak / 1024),
    workerStartupHwmMb: round(hwm / 1024),
    wal: ours.result.wal,
    traffic: ours.traffic,
  };
}

async function measureSize(shape: Shape, n: number, ctx: Ctx) {
  const template = `bench_tpl_${shape.name}_${n}`;
  const now = new Date();
  say(`${shape.name}: seeding ${n.toLocaleString()} tokens with COPY`);
  let lastReport = 0;
  const seeded = await seedTemplate(ctx.adminUrl, template, shape, n, now, (done) => {
    if (done - lastReport >= n / 10) {
      lastReport = done;
      say(`  ${Math.round((done / n) * 100)}%`);
    }
  });
  say(`seeded in ${seeded.seconds.toFixed(1)} s (${Math.round(n / seeded.seconds).toLocaleString()} rows/s)`);
  const copies: string[] = [];
  const copy = (name: string) => {
    copies.push(name);
    return copyOf(ctx.adminUrl, template, name);
  };

  // Idle: the same traffic with nothing else running.
  const idleUrl = await copy(`bench_idle_${n}`);
  say(`idle traffic for ${opts.idleSeconds} s`);
  const idle = await underTraffic(idleUrl, shape, n, USERS, traffic, () => new Promise((r) => setTimeout(r, opts.idleSeconds * 1000)));
  felt('idle traffic', idle.traffic);

  // Baseline: one DELETE in one transaction, children first.
  const baseUrl = await copy(`bench_base_${n}`);
  say('baseline: single DELETE transaction');
  const base = await underTraffic(baseUrl, shape, n, USERS, traffic, async () => walOf(baseUrl, async () => {
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
  }));
  say(`baseline deleted ${base.result.result.deleted.toLocaleString()} in ${base.result.result.seconds.toFixed(1)} s`);
  felt('traffic', base.traffic);
  say(`  WAL: ${JSON.stringify(base.result.wal)}`);
  const baseRate = base.result.result.deleted / base.result.result.seconds;

  // Django's own command on its own tables, its clock frozen at the same instant (as the conformance test runs it).
  let django = null;
  if (shape.name === 'django' && opts.django) {
    const reason = await djangoUnavailable();
    if (reason) say(`Django's flushexpiredtokens skipped: ${reason}`);
    else {
      const url = await copy(`bench_django_${n}`);
      say("Django's flushexpiredtokens");
      const run = await underTraffic(url, shape, n, USERS, traffic, async () => {
        const t0 = performance.now();
        await frozenCommand(url, now, 'flushexpiredtokens');
        return (performance.now() - t0) / 1000;
      });
      const c = client(url);
      await c.connect();
      const { rows: [left] } = await c.query(`SELECT count(*)::int AS n FROM ${shape.tokens} WHERE expires_at < $1`, [now]);
      await c.end();
      const deleted = seeded.expired - left.n;
      django = { deleted, expiredLeft: left.n, seconds: round(run.result), rowsPerSecond: Math.round(deleted / run.result), traffic: run.traffic };
      say(`Django deleted ${deleted.toLocaleString()} in ${run.result.toFixed(1)} s`);
    }
  }

  const ours = [];
  for (const budget of budgets) {
    const o = await measureOurs(shape, n, ctx, await copy(`bench_ours_${budget.name}_${n}`), now, budget);
    ours.push({ ...o, ratio: round(o.rowsPerSecond / baseRate), ...(django ? { vsDjango: round(o.rowsPerSecond / django.rowsPerSecond) } : {}) });
  }

  const stall = opts.kill && n === sizes[0] ? await measureStall(shape, n, ctx, copy, now) : null;
  const control = opts.control && n === sizes[0] ? await measureLiveControl(shape, n, ctx, copy, now) : null;
  // The replica-lag brake on a pair of its own (a primary and a pg_basebackup standby), once: first shape, first size.
  const replica = opts.replica && n === sizes[0] && shape === shapes[0]
    ? await measureReplica(shape, n, {
        startWorker: (url, taskQueue, env) => startWorker(ctx, url, taskQueue, env),
        startPurge: (job, params, taskQueue) => startHandle(ctx.client, { job, params, taskQueue, trigger: 'bench' }),
        say,
      }).catch((err: Error) => {
        say(`replica: not measured: ${err.message}`);
        return { error: err.message };
      })
    : null;
  for (const db of [...copies, template]) await admin(ctx.adminUrl, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);

  return {
    shape: shape.name,
    rows: n,
    seeded: { ...seeded, seconds: round(seeded.seconds), rowsPerSecond: Math.round(n / seeded.seconds) },
    idle: { traffic: idle.traffic },
    baseline: { deleted: base.result.result.deleted, children: base.result.result.children, seconds: round(base.result.result.seconds), rowsPerSecond: Math.round(baseRate), wal: base.result.wal, traffic: base.traffic },
    django,
    ours,
    stall,
    control,
    replica,
  };
}

/** An operator's pause and resume of a running purge (a Workflow Update), timed from the ledger. */
async function measureLiveControl(shape: Shape, n: number, ctx: Ctx, copy: (name: string) => Promise<string>, now: Date) {
  const url = await copy(`bench_control_${n}`);
  const taskQueue = `bench-control-${shape.name}-${n}`;
  const worker = await startWorker(ctx, url, taskQueue);
  say('live control: pause at 20%, hold, resume');
  try {
    // Fixed batches of 500 in one lane, so that a small size still runs long enough to be paused at 20%.
    const handle = await startHandle(ctx.client, { job: shape.job, params: { asOf: now.toISOString(), budget: 'full', batchSize: 500, parallel: 1 }, taskQueue, trigger: 'bench' });
    const timing = await measureControl(ctx.client, handle.workflowId, handle.firstExecutionRunId, url, Math.round(n * 0.7 * 0.2));
    // A purge that never ends after the resume is a finding, not a hang of the benchmark.
    const result = (await Promise.race([handle.result(), new Promise((_, reject) => setTimeout(() => reject(new Error('the purge did not finish within 10 min of the resume')), 600_000))])) as PurgeResult;
    say(`  pause took effect in ${timing.pauseTakesEffectMs} ms (${timing.batchesAfterPause} batches after it), resume in ${timing.resumeTakesEffectMs} ms; moved while paused: ${timing.movedWhilePaused}`);
    return { ...timing, deleted: result.deleted };
  } catch (err) {
    say(`live control: not measured: ${(err as Error).message}`);
    return null;
  } finally {
    worker.kill('SIGTERM');
    await once(worker, 'exit');
  }
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

type SizeResult = Awaited<ReturnType<typeof measureSize>>;

/** pgbench p99 and TPS of a sample, as a cell. */
const tx = (t: { all: { p99: number }; tps: number } | undefined) => (t ? `${t.all.p99} ms / ${t.tps}` : '');

function table(results: SizeResult[]): string {
  const lines = [
    '| shape | rows | budget | single DELETE rows/s | Django flushexpiredtokens rows/s | our purge rows/s | vs DELETE (target ≥ 0.9) | vs Django (target ≥ 4) | time vs first size | walk | batches (biggest) | batch p99 / max (targets 100 / 250 ms) | batch phases open / statement / commit | lane-run handoff | worker RSS during purge (target < 150 MB) | pgbench p99 / TPS: idle | during DELETE | during Django | during ours | stall after SIGKILL (target < 10 s) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    for (const o of r.ours) {
      const first = results.find((x) => x.shape === r.shape && x.rows === sizes[0])?.ours.find((x) => x.budget === o.budget);
      const growth = first && first !== o ? `${round(o.seconds / first.seconds)} (${round(r.rows / sizes[0]!)}x rows)` : '';
      const walk = o.plan?.map((p) => `${p.strategy} × ${p.lanes}`).join(', ') ?? '';
      const ph = o.profile.phasesMs as Record<string, number>;
      const phases = ph.statement !== undefined ? `${ph.open} / ${ph.statement} / ${ph.commit} ms` : '';
      const handoff = o.profile.cycleAcrossRunsMs != null && o.profile.cycleInRunMs != null ? `+${round(o.profile.cycleAcrossRunsMs - o.profile.cycleInRunMs)} ms × ${o.profile.laneRunHandoffs}` : '';
      lines.push(
        `| ${r.shape} | ${r.rows.toLocaleString('en')} | ${o.budget} | ${r.baseline.rowsPerSecond.toLocaleString('en')} | ${r.django ? r.django.rowsPerSecond.toLocaleString('en') : ''} | ${o.rowsPerSecond.toLocaleString('en')} | ${o.ratio} | ${o.vsDjango ?? ''} | ${growth} | ${walk} | ${o.batches} (${o.biggestBatch}) | ${o.p99BatchMs} / ${o.maxBatchMs} ms | ${phases} | ${handoff} | ${o.workerPeakRssMb} MB | ${tx(r.idle.traffic)} | ${tx(r.baseline.traffic)} | ${tx(r.django?.traffic)} | ${tx(o.traffic)} | ${r.stall?.maxStallMs != null ? `${(r.stall.maxStallMs / 1000).toFixed(1)} s` : ''} |`,
      );
    }
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
    const results = [];
    for (const shape of shapes) for (const n of sizes) results.push(await measureSize(shape, n, { adminUrl, address: server.address, client, configFile }));
    const replicaRun = results.find((r) => r.replica)?.replica;
    const md = table(results) + targetsReport(results) + (replicaRun ? `\n${replicaReport(replicaRun)}` : '');
    const command = `npm run bench -- --sizes ${sizes.join(',')} --shapes ${shapes.map((x) => x.name).join(',')} --budgets ${budgets.map((b) => b.name).join(',')} --rate ${opts.rate} --clients ${opts.clients}${opts.django ? '' : ' --no-django'}${opts.kill ? '' : ' --no-kill'}${opts.control ? '' : ' --no-control'}${opts.replica ? '' : ' --no-replica'}${opts.with ? ` --with ${opts.with}` : ''}`;
    const meta = { date: new Date().toISOString(), command, traffic: { tool: 'pgbench', ...traffic }, machine: '2 cores, 24 GiB', postgres: process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded', totalSeconds: Math.round((Date.now() - started) / 1000) };
    await mkdir(opts.out, { recursive: true });
    const file = join(opts.out, `${meta.date.replace(/[:.]/g, '-')}.json`);
    await writeFile(file, JSON.stringify({ ...meta, results }, null, 2));
    await writeFile(join(opts.out, 'latest.md'), `${meta.command} (${meta.date}, ${meta.totalSeconds} s)\n\n${md}\n`);
    process.stdout.write(`${md}\n\nwritten: ${file}\n`);
    process.stdout.write(await startAndMemoryReport(results.flatMap((r) => r.ours.map((o) => ({ rows: r.rows, rssMb: o.workerPeakRssMb })))));
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
