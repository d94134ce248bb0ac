import * as z from 'zod/mini';
import { InputError } from '../kernel/errors.js';
import { decimal, int, oneOf } from '../kernel/validate.js';
import type { BrakeSettings, LimitField } from './brake.js';

/**
 * Budgets: the impact a run may have, as a named preset (`--budget gentle|balanced|full`) with each knob overridable
 * per run (`--max-replica-lag`, `--sleep-coef`, ...) and live (`maint control`). The worker's MAINT_BRAKE_* are the
 * deployment's limits: a preset is held within them silently, an explicit value looser than them is refused, naming
 * the variable. Pure: the workflow applies an operator's change with the same rules the worker resolved the run with.
 */

export const BUDGETS = ['gentle', 'balanced', 'full'] as const;
export type BudgetName = (typeof BUDGETS)[number];

/** What a run names no budget gets (`maint run`, `temporal workflow start`); schedules send `gentle`. */
export const DEFAULT_BUDGET: BudgetName = 'balanced';
/** What a purge's schedule runs with: a scheduled purge on a busy database must not be felt. */
export const SCHEDULE_BUDGET: BudgetName = 'gentle';

/** The knobs as a run's parameters and an operator's control give them: seconds, bytes, counts, factors. */
export interface BudgetKnobs {
  maxReplicaLag?: number;
  maxReplicaLagBytes?: number;
  maxActiveSessions?: number;
  sleepCoef?: number;
  maxProbeLatency?: number;
  criticalReplicaLag?: number;
  criticalActiveSessions?: number;
  criticalFor?: number;
}
export type Knob = keyof BudgetKnobs;

interface KnobSpec {
  /** The setting it sets, and the factor from the knob's unit to the setting's (seconds to ms). */
  field: LimitField | 'sleepCoefficient' | 'criticalForMs';
  scale: number;
  range: { min: number; max: number };
  integer?: boolean;
  /** 0 turns the check off. */
  zeroIsOff: boolean;
  /** The worker's variable that bounds it: `max` knobs may only be lower (stricter), `min` ones only higher. */
  bound?: { env: string; way: 'max' | 'min' };
  what: string;
}

const MIB = 1024 * 1024;

export const KNOBS: Record<Knob, KnobSpec> = {
  maxReplicaLag: { field: 'maxReplicaLagMs', scale: 1000, range: { min: 0, max: 3_600 }, zeroIsOff: true, bound: { env: 'MAINT_BRAKE_REPLICA_LAG_MS', way: 'max' }, what: 'seconds of replay lag a replica may have (0: no check)' },
  maxReplicaLagBytes: { field: 'maxReplicaLagBytes', scale: 1, range: { min: 0, max: 2 ** 40 }, integer: true, zeroIsOff: true, bound: { env: 'MAINT_BRAKE_REPLICA_LAG_BYTES', way: 'max' }, what: 'bytes of WAL a replica may have still to replay (0: no check)' },
  maxActiveSessions: { field: 'maxActiveSessions', scale: 1, range: { min: 0, max: 100_000 }, integer: true, zeroIsOff: true, bound: { env: 'MAINT_BRAKE_ACTIVE_SESSIONS', way: 'max' }, what: 'other sessions running statements (0: no check)' },
  sleepCoef: { field: 'sleepCoefficient', scale: 1, range: { min: 0, max: 100 }, zeroIsOff: false, bound: { env: 'MAINT_BRAKE_SLEEP_COEF', way: 'min' }, what: "the sleep after each batch, in times the batch's duration" },
  maxProbeLatency: { field: 'maxProbeFactor', scale: 1, range: { min: 0, max: 1_000 }, zeroIsOff: true, what: "times its idle baseline a probe query may take (0: no check)" },
  criticalReplicaLag: { field: 'criticalReplicaLagMs', scale: 1000, range: { min: 0, max: 86_400 }, zeroIsOff: true, what: 'seconds of replica lag that end the run if they last criticalFor (0: never)' },
  criticalActiveSessions: { field: 'criticalActiveSessions', scale: 1, range: { min: 0, max: 100_000 }, integer: true, zeroIsOff: true, what: 'other sessions running statements that end the run if they last criticalFor (0: never)' },
  criticalFor: { field: 'criticalForMs', scale: 1000, range: { min: 0, max: 86_400 }, zeroIsOff: false, what: 'seconds a critical value must last before the run ends' },
};

export const KNOB_NAMES = Object.keys(KNOBS) as Knob[];

/**
 * The presets. Why these values:
 * - gentle (schedules): the purge yields first. A sleep as long as each batch (a 50% duty cycle: one core busy half
 *   the time at most), a probe query no slower than twice its idle time, replicas within 1 s or 32 MiB. A purge that
 *   runs at noon is slower, not felt; a replica 30 s behind for a minute ends it (partial), the next tick goes on.
 * - balanced (`maint run`): a quarter of each batch's time asleep, a probe within four times its idle time, replicas
 *   within 2 s or 128 MiB (the deployment's defaults).
 * - full: as fast as the hardware allows; only the replicas (2 s, 128 MiB) and the blocking brake hold it, and a
 *   replica 5 minutes behind for a minute ends it.
 * Every budget shrinks and backs off a batch that blocks an application session: it costs a few ms of speed, and a
 * login waiting on a purge's locks is what nobody should feel. Active sessions depend on the application (its pool
 * size), so no budget sets a count: MAINT_BRAKE_ACTIVE_SESSIONS or --max-active-sessions does.
 */
export const PRESETS: Record<BudgetName, Required<BudgetKnobs>> = {
  gentle: { maxReplicaLag: 1, maxReplicaLagBytes: 32 * MIB, maxActiveSessions: 0, sleepCoef: 1, maxProbeLatency: 2, criticalReplicaLag: 30, criticalActiveSessions: 0, criticalFor: 60 },
  balanced: { maxReplicaLag: 2, maxReplicaLagBytes: 128 * MIB, maxActiveSessions: 0, sleepCoef: 0.25, maxProbeLatency: 4, criticalReplicaLag: 60, criticalActiveSessions: 0, criticalFor: 60 },
  full: { maxReplicaLag: 2, maxReplicaLagBytes: 128 * MIB, maxActiveSessions: 0, sleepCoef: 0, maxProbeLatency: 0, criticalReplicaLag: 300, criticalActiveSessions: 0, criticalFor: 60 },
};

/**
 * The batch duration each budget's adaptive batches aim at. A batch's WAL is what the application's next commits
 * flush before their own: measured with pgbench (npm run bench, 1M tokens), a 70 ms batch raised writers' p99 to
 * 60-120 ms, a 25 ms one to 8-13 ms (with compressed full-page images). Per batch the fixed cost is ~5 ms, so
 * shorter batches cost speed: `full` and `balanced` keep 50 ms, under the 100 ms p99 the lanes are held to.
 */
export const BATCH_TARGET_MS: Record<BudgetName, number> = { gentle: 25, balanced: 50, full: 50 };

const knobSchema = (k: Knob) => {
  const s = KNOBS[k];
  const what = `${s.integer ? 'an integer' : 'a number'} from ${s.range.min} to ${s.range.max} (${s.what})`;
  return s.integer ? int(s.range, what) : decimal(s.range, what);
};

const nullishKnob = (k: Knob) => z.nullish(knobSchema(k));
const optionalKnob = (k: Knob) => z.optional(knobSchema(k));

/** The budget's fields of a purge's parameters (all optional: null means "the budget's"). */
export const BUDGET_PARAMS = {
  budget: z.nullish(oneOf(BUDGETS)),
  ...(Object.fromEntries(KNOB_NAMES.map((k) => [k, nullishKnob(k)])) as unknown as Record<Knob, ReturnType<typeof nullishKnob>>),
};

/** The same knobs as an operator's live change sends them (each optional). */
export const BUDGET_CONTROL = Object.fromEntries(KNOB_NAMES.map((k) => [k, optionalKnob(k)])) as unknown as Record<Knob, ReturnType<typeof optionalKnob>>;

type Settable = Exclude<KnobSpec['field'], never>;
const get = (s: BrakeSettings, f: Settable): number | null => (s as unknown as Record<string, number | null | undefined>)[f] ?? null;

/** The setting's value of a knob's value (seconds to ms; 0 to null where 0 is off). */
function settingOf(k: Knob, v: number): number | null {
  const spec = KNOBS[k];
  return spec.zeroIsOff && v === 0 ? null : Math.round(v * spec.scale * 1000) / 1000;
}

/** Whether `v` (a setting's value, null: no check) is looser than the deployment's bound `d`. */
function looser(way: 'max' | 'min', v: number | null, d: number | null): boolean {
  if (d === null || (way === 'min' && d === 0)) return false;
  return way === 'max' ? v === null || v > d : (v ?? 0) < d;
}

/** Refuses an explicit value looser than the deployment allows, naming the field, the range and the variable. */
export function checkKnob(k: Knob, v: number, deployment: BrakeSettings, field: string = k): void {
  const spec = KNOBS[k];
  if (!spec.bound) return;
  const d = get(deployment, spec.field);
  if (!looser(spec.bound.way, settingOf(k, v), d)) return;
  const bound = d! / spec.scale;
  const allowed = spec.bound.way === 'max' ? `${spec.zeroIsOff ? 'more than 0 and ' : ''}at most ${bound}` : `at least ${bound}`;
  throw new InputError(field, `${v} is not allowed on this worker; expected ${allowed} (${spec.bound.env}, the deployment's limit)`);
}

/** Sets the knobs given on `base`, each named `label(knob)` in the reasons; explicit values are checked against the deployment. */
export function withKnobs(base: BrakeSettings, knobs: BudgetKnobs, deployment: BrakeSettings, label: (k: Knob) => string, field: (k: Knob) => string = (k) => k): BrakeSettings {
  const out: BrakeSettings = { ...base, names: { ...base.names } };
  for (const k of KNOB_NAMES) {
    const v = knobs[k];
    if (v === undefined || v === null) continue;
    checkKnob(k, v, deployment, field(k));
    const spec = KNOBS[k];
    (out as unknown as Record<string, unknown>)[spec.field] = spec.field === 'sleepCoefficient' || spec.field === 'criticalForMs' ? v * spec.scale : settingOf(k, v);
    if (spec.field !== 'sleepCoefficient' && spec.field !== 'criticalForMs') out.names![spec.field] = label(k);
  }
  return out;
}

/**
 * A run's budget: its preset (`balanced` when it names none) held within the deployment's limits, then the knobs it
 * sets itself (refused when looser than the deployment).
 */
export function resolveBudget(params: BudgetKnobs & { budget?: BudgetName }, deployment: BrakeSettings): BrakeSettings {
  const name = params.budget ?? DEFAULT_BUDGET;
  const preset = PRESETS[name];
  let s: BrakeSettings = { maxReplicaLagMs: null, maxReplicaLagBytes: null, maxActiveSessions: null, sleepCoefficient: 0, blockingBrake: true, criticalForMs: 0, names: {} };
  // The preset, unchecked: held within the deployment's limits below.
  s = withKnobs(s, preset, { ...deployment, maxReplicaLagMs: null, maxReplicaLagBytes: null, maxActiveSessions: null, sleepCoefficient: 0 }, (k) => `the ${name} budget's ${k}`);
  for (const k of KNOB_NAMES) {
    const spec = KNOBS[k];
    if (!spec.bound) continue;
    const d = get(deployment, spec.field);
    if (looser(spec.bound.way, get(s, spec.field), d)) {
      (s as unknown as Record<string, unknown>)[spec.field] = d;
      if (spec.field !== 'sleepCoefficient') s.names![spec.field as LimitField] = spec.bound.env;
    }
  }
  return withKnobs(s, params, deployment, (k) => k);
}

/** The knobs in the units an operator reads them (seconds, factors), from settings: what `maint control` answers. */
export function knobsOf(s: BrakeSettings): Required<BudgetKnobs> {
  return Object.fromEntries(KNOB_NAMES.map((k) => [k, (get(s, KNOBS[k].field) ?? 0) / KNOBS[k].scale])) as Required<BudgetKnobs>;
}
