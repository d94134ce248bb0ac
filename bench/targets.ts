// Issue #22's targets as one table: each measured figure of the run, its target and whether it was met. The worst
// case over shapes and sizes is what is judged; the figures per row are in the main table and the JSON.
import { TARGETS as START } from './cli-start.js';

interface Ours {
  budget: string;
  ratio: number;
  vsDjango?: number;
  seconds: number;
  p99BatchMs: number;
  maxBatchMs: number;
  workerPeakRssMb: number;
  traffic: { all: { p99: number }; tps: number };
}
interface SizeRow {
  shape: string;
  rows: number;
  idle: { traffic: { all: { p99: number }; tps: number } };
  ours: Ours[];
  stall: { maxStallMs: number | null } | null;
  control: { pauseTakesEffectMs: number; resumeTakesEffectMs: number; movedWhilePaused: boolean } | null;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

export function targetsReport(results: SizeRow[]): string {
  const lines = ['', '| target (#22) | measured (worst case) | target | result |', '|---|---|---|---|'];
  const row = (what: string, measured: string, target: string, ok: boolean | null) => lines.push(`| ${what} | ${measured} | ${target} | ${ok === null ? 'not measured' : ok ? 'met' : '**missed**'} |`);
  const at = (b: string) => results.flatMap((r) => r.ours.filter((o) => o.budget === b).map((o) => ({ r, o })));
  const worst = <T>(xs: T[], f: (x: T) => number, way: 'min' | 'max') => (xs.length ? xs.reduce((a, b) => ((way === 'min' ? f(b) < f(a) : f(b) > f(a)) ? b : a)) : null);
  const where = (x: { r: SizeRow }) => `${x.r.shape} ${x.r.rows.toLocaleString('en')}`;

  const full = at('full');
  const fullRatio = worst(full, (x) => x.o.ratio, 'min');
  row('`full`: rows/s vs the single DELETE, both shapes', fullRatio ? `${fullRatio.o.ratio} (${where(fullRatio)})` : '', '≥ 0.9', fullRatio ? fullRatio.o.ratio >= 0.9 : null);
  const fullDjango = worst(full.filter((x) => x.o.vsDjango !== undefined), (x) => x.o.vsDjango!, 'min');
  row("`full`: rows/s vs Django's flushexpiredtokens", fullDjango ? `${fullDjango.o.vsDjango} (${where(fullDjango)})` : '', '≥ 4', fullDjango ? fullDjango.o.vsDjango! >= 4 : null);

  const gentle = at('gentle');
  const p99 = worst(gentle, (x) => x.o.traffic.all.p99 / Math.max(0.001, x.r.idle.traffic.all.p99), 'max');
  row('`gentle`: pgbench p99 during the purge / idle', p99 ? `${r2(p99.o.traffic.all.p99 / p99.r.idle.traffic.all.p99)}x (${p99.o.traffic.all.p99} / ${p99.r.idle.traffic.all.p99} ms, ${where(p99)})` : '', '≤ 1.5x', p99 ? p99.o.traffic.all.p99 <= 1.5 * p99.r.idle.traffic.all.p99 : null);
  const tps = worst(gentle, (x) => x.o.traffic.tps / x.r.idle.traffic.tps, 'min');
  row('`gentle`: pgbench TPS during the purge / idle', tps ? `${r2(tps.o.traffic.tps / tps.r.idle.traffic.tps)} (${where(tps)})` : '', '≥ 0.9', tps ? tps.o.traffic.tps >= 0.9 * tps.r.idle.traffic.tps : null);
  const gRatio = worst(gentle, (x) => x.o.ratio, 'min');
  row('`gentle`: rows/s vs the single DELETE', gRatio ? `${gRatio.o.ratio} (${where(gRatio)})` : '', '≥ 0.3', gRatio ? gRatio.o.ratio >= 0.3 : null);

  const all = results.flatMap((r) => r.ours.map((o) => ({ r, o })));
  const bp99 = worst(all, (x) => x.o.p99BatchMs, 'max');
  row('batch transaction p99, every budget', bp99 ? `${bp99.o.p99BatchMs} ms (${bp99.o.budget}, ${where(bp99)})` : '', '≤ 100 ms', bp99 ? bp99.o.p99BatchMs <= 100 : null);
  const bmax = worst(all, (x) => x.o.maxBatchMs, 'max');
  row('longest batch transaction, every budget', bmax ? `${bmax.o.maxBatchMs} ms (${bmax.o.budget}, ${where(bmax)})` : '', '≤ 250 ms', bmax ? bmax.o.maxBatchMs <= 250 : null);
  const rss = worst(all, (x) => x.o.workerPeakRssMb, 'max');
  row('worker RSS during the purge', rss ? `${rss.o.workerPeakRssMb} MB (${rss.o.budget}, ${where(rss)})` : '', `< ${START.workerRssMb} MB`, rss ? rss.o.workerPeakRssMb < START.workerRssMb : null);

  // 4N against N: the same shape and budget at the first size and at four times it.
  const growth = all.flatMap(({ r, o }) => {
    const base = results.find((x) => x.shape === r.shape && x.rows * 4 === r.rows)?.ours.find((x) => x.budget === o.budget);
    return base ? [{ r, o, g: o.seconds / base.seconds }] : [];
  });
  const g = worst(growth, (x) => x.g, 'max');
  row('time at 4N / time at N (`full` and `gentle`)', g ? `${r2(g.g)}x (${g.o.budget}, ${where(g)})` : '', '≤ 4.4x', g ? g.g <= 4.4 : null);

  const stall = results.find((r) => r.stall?.maxStallMs != null)?.stall;
  row("a SIGKILLed worker's lane commits again", stall ? `${((stall.maxStallMs ?? 0) / 1000).toFixed(1)} s` : '', '≤ 10 s', stall ? stall.maxStallMs! <= 10_000 : null);
  const control = results.find((r) => r.control)?.control;
  row("an operator's pause takes effect (the Update's answer to the end of the last batch)", control ? `${(control.pauseTakesEffectMs / 1000).toFixed(2)} s${control.movedWhilePaused ? ', but rows moved while paused' : ''}` : '', '≤ 2 s', control ? control.pauseTakesEffectMs <= 2_000 && !control.movedWhilePaused : null);
  row("an operator's resume takes effect (the Update's answer to the next batch)", control ? `${(control.resumeTakesEffectMs / 1000).toFixed(2)} s` : '', '≤ 2 s', control ? control.resumeTakesEffectMs <= 2_000 : null);
  return lines.join('\n') + '\n';
}
