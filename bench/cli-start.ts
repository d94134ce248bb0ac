// The two start-up targets of the compiled build: `maint --help` answers in under 0.5 s, and the worker (as
// `npm run worker` runs it) stays under 150 MB RSS during a purge.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ensureBuilt } from '../bin/ensure-build.mjs';

export const TARGETS = { cliStartSeconds: 0.5, workerRssMb: 150 } as const;

/**
 * The worker exactly as `npm run worker` starts it: `VAR=value node [flags] bin/start.mjs --external`, split
 * into the environment and the arguments for `spawn(process.execPath, args, { env })`.
 */
export function workerCommand(script = JSON.parse(readFileSync('package.json', 'utf8')).scripts.worker as string): { args: string[]; env: Record<string, string> } {
  const words = script.trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (words[0] && /^[A-Z_]+=/.test(words[0])) {
    const [k, v] = words.shift()!.split('=') as [string, string];
    env[k] = v;
  }
  if (words.shift() !== 'node') throw new Error(`scripts.worker does not run node: ${script}`);
  return { args: words, env };
}

/** Wall-clock seconds of `maint --help` (dist/ already built), over several runs: through npx, or node directly. */
export async function measureCliStart(via: 'npx' | 'node', runs = 7): Promise<{ medianSeconds: number; maxSeconds: number }> {
  await ensureBuilt();
  const [cmd, args] = via === 'npx' ? ['npx', ['maint', '--help']] : [process.execPath, ['bin/maint.mjs', '--help']];
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(cmd as string, args as string[], { stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) throw new Error(`maint --help exited ${r.status}: ${r.stderr}`);
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return { medianSeconds: round(times[Math.floor(times.length / 2)]!), maxSeconds: round(times.at(-1)!) };
}

/** A markdown table of both targets: the worker RSS per size measured by the benchmark, and the CLI start. */
export async function startAndMemoryReport(workers: Array<{ rows: number; rssMb: number }>): Promise<string> {
  const cli = { npx: await measureCliStart('npx'), node: await measureCliStart('node') };
  const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
  const lines = ['', '| start-up target | measured | target | result |', '|---|---|---|---|'];
  for (const w of workers) {
    lines.push(`| worker RSS during the purge of ${w.rows.toLocaleString('en')} rows | ${w.rssMb} MB | < ${TARGETS.workerRssMb} MB | ${verdict(w.rssMb < TARGETS.workerRssMb)} |`);
  }
  for (const [via, t] of Object.entries(cli)) {
    const label = via === 'npx' ? '`npx maint --help`' : '`node bin/maint.mjs --help` (without npx)';
    lines.push(`| ${label}, median / max of 7 | ${t.medianSeconds} / ${t.maxSeconds} s | < ${TARGETS.cliStartSeconds} s | ${verdict(t.medianSeconds < TARGETS.cliStartSeconds)} |`);
  }
  return lines.join('\n') + '\n';
}

// `node bin/run.mjs bench/cli-start.ts`: the CLI start alone, without the whole benchmark.
if (process.argv[1]?.endsWith('cli-start.ts')) process.stdout.write(await startAndMemoryReport([]));
