import type { Command } from 'commander';
import type { Knob } from '../purge/budget.js';

/** The budget's knobs as flags, shared by `maint run` (a run's own budget) and `maint control` (a running one's). */
export const KNOB_FLAGS: ReadonlyArray<readonly [Knob, string, string]> = [
  ['maxReplicaLag', '--max-replica-lag <s>', "wait while a replica's replay lag is above this many seconds (0: no check)"],
  ['maxReplicaLagBytes', '--max-replica-lag-bytes <n>', 'wait while a replica has more WAL than this to replay (0: no check)'],
  ['maxActiveSessions', '--max-active-sessions <n>', 'wait while more other sessions than this run statements (0: no check)'],
  ['sleepCoef', '--sleep-coef <x>', 'after each batch, sleep its duration times this (gentle 1, balanced 0.25, full 0)'],
  ['maxProbeLatency', '--max-probe-latency <x>', 'wait while a probe query takes more than this many times its idle baseline (0: no check)'],
  ['criticalReplicaLag', '--critical-replica-lag <s>', 'end the run (partial; the next one goes on) when replica lag stays above this for --critical-for (0: never)'],
  ['criticalActiveSessions', '--critical-active-sessions <n>', 'end the run when more other sessions than this run statements for --critical-for (0: never)'],
  ['criticalFor', '--critical-for <s>', 'how long a critical value must last before the run ends (default 60)'],
];

/** The knobs' values as given on the command line (checked where they land: the run's input, the control Update). */
export type KnobFlags = { [K in Knob]?: string };

export function addKnobFlags(command: Command, describe: (meaning: string) => string): Command {
  for (const [, flag, meaning] of KNOB_FLAGS) command.option(flag, describe(meaning));
  return command;
}
