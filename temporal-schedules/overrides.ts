import { CronExpressionParser } from 'cron-parser';
import * as z from 'zod/mini';
import { InputError, Problems } from '../src/kernel/errors.js';
import { configIssues, type UnknownField } from '../src/kernel/validate.js';
import { parseDuration } from '../src/kernel/duration.js';

import type { Catalogue } from '../src/catalogue/index.js';
import { jobAction } from '../src/start-job.js';
import { OVERLAP_POLICIES, type OverlapPolicy, type ScheduleDeclaration } from '../src/catalogue/schedules.js';

const SHORTCUTS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

export function validateCron(field: string, value: string): void {
  if (SHORTCUTS.includes(value)) return;
  if (value.trim().split(/\s+/).length !== 5) {
    throw new InputError(field, `"${value}" is not a cron expression: expected 5 fields (minute hour day-of-month month day-of-week) or one of ${SHORTCUTS.join(', ')}`);
  }
  try {
    CronExpressionParser.parse(value, { strict: false });
  } catch (err) {
    throw new InputError(field, `"${value}" is not a cron expression: ${(err as Error).message}`);
  }
}

export function validateTimezone(field: string, value: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
  } catch {
    throw new InputError(field, `"${value}" is not an IANA time zone, e.g. UTC or Europe/Berlin`);
  }
}

/** The shortest time between two of a schedule's next ticks (ms), or undefined when it cannot be told. */
function shortestGapMs(d: ScheduleDeclaration): number | undefined {
  if (d.every) {
    try {
      return parseDuration('every', d.every);
    } catch {
      return undefined; // reported by validateDeclaration
    }
  }
  // The next ticks of all its cron expressions together (two crons half an hour apart make a 30 minute gap).
  const ticks: number[] = [];
  for (const c of d.cron ?? []) {
    try {
      const it = CronExpressionParser.parse(c, { tz: d.timezone, strict: false });
      for (let i = 0; i < 24; i++) ticks.push(it.next().getTime());
    } catch {
      return undefined; // reported by validateCron
    }
  }
  const sorted = [...new Set(ticks)].sort((a, b) => a - b);
  const gaps = sorted.slice(1).map((t, i) => t - sorted[i]!);
  return gaps.length ? Math.min(...gaps) : undefined;
}

/**
 * A purge schedule's window (`params.maxDurationSeconds`) must end before its next tick: under SKIP, a run still going
 * then would make that tick a no-op, and a window that long is no window.
 */
function checkWindow(d: ScheduleDeclaration, params: Record<string, unknown>, field: string): void {
  const seconds = params.maxDurationSeconds;
  if (typeof seconds !== 'number') return;
  const gap = shortestGapMs(d);
  if (gap !== undefined && seconds * 1000 >= gap) {
    throw new InputError(field, `${seconds} s is not shorter than the ${Math.round(gap / 1000)} s between this schedule's runs; a run must stop before the next tick (e.g. 30m for an hourly schedule)`);
  }
}

/** Checks one declaration; every mistake is recorded in `problems`, each naming the schedule and the field. */
export function validateDeclaration(d: ScheduleDeclaration, catalogue: Catalogue, problems: Problems = new Problems()): void {
  const f = (name: string) => `schedules.${d.id}.${name}`;
  const check = (fn: () => unknown) => problems.take(fn, undefined);
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(d.id)) problems.add(new InputError(`schedules.${d.id}`, 'id may contain letters, digits, ".", "_" and "-" only'));
  if (!catalogue.names().includes(d.job)) problems.add(new InputError(f('job'), `unknown job "${d.job}"; allowed: ${catalogue.names().join(', ')}`));
  if (!d.cron?.length === !d.every) problems.add(new InputError(f('cron'), 'give either cron or every, not both and not neither'));
  for (const c of d.cron ?? []) check(() => validateCron(f('cron'), c));
  if (d.every) check(() => parseDuration(f('every'), d.every!));
  check(() => validateTimezone(f('timezone'), d.timezone));
  if (!OVERLAP_POLICIES.includes(d.overlap)) problems.add(new InputError(f('overlap'), `"${d.overlap}" is not one of ${OVERLAP_POLICIES.join(', ')}`));
  check(() => parseDuration(f('catchupWindow'), d.catchupWindow));
  if (d.jitter) check(() => parseDuration(f('jitter'), d.jitter!));
  if (catalogue.names().includes(d.job)) {
    check(() => {
      let params: Record<string, unknown>;
      try {
        params = jobAction(catalogue.find(d.job), d.params ?? {}, { trigger: `schedule:${d.id}`, scheduled: true }).params;
      } catch (err) {
        if (err instanceof InputError) throw new InputError(f('params'), err.message);
        throw err;
      }
      checkWindow(d, params, f('params.maxDurationSeconds'));
    });
  }
}

const OVERRIDABLE = ['enabled', 'cron', 'every', 'timezone', 'overlap', 'catchupWindow', 'pauseOnFailure', 'jitter', 'params'] as const;
const mustBeBool = { error: 'expected true or false' };
const textOrNumber = z.pipe(z.union([z.string(), z.number()]), z.transform(String));

/** What the config file's `schedules:` section may change of a declared schedule. */
export const SCHEDULE_OVERRIDE = z.nullable(
  z.strictObject(
    {
      enabled: z.optional(z.boolean(mustBeBool)),
      cron: z.optional(z.union([textOrNumber, z.array(textOrNumber)])),
      every: z.optional(textOrNumber),
      timezone: z.optional(textOrNumber),
      overlap: z.optional(textOrNumber),
      catchupWindow: z.optional(textOrNumber),
      pauseOnFailure: z.optional(z.boolean(mustBeBool)),
      jitter: z.optional(textOrNumber),
      params: z.optional(z.record(z.string(), z.unknown())),
    },
    `must be a mapping of overrides (${OVERRIDABLE.join(', ')})`,
  ),
);

const notOverridable: UnknownField = (path, key) => new InputError(`${path}.${key}`, `cannot be overridden; allowed: ${OVERRIDABLE.join(', ')}`);

/**
 * The declarations with the config file's `schedules:` overrides applied, validated, minus the disabled ones. Every
 * mistake is reported at once; nothing is synced if any of it is invalid.
 */
export function effectiveSchedules(config: unknown, catalogue: Catalogue): ScheduleDeclaration[] {
  return scheduleSet(config, catalogue).enabled;
}

/** The declared schedules the config file leaves on, and the ids of those it turns off (sync pauses those, keeping their history). */
export function scheduleSet(config: unknown, catalogue: Catalogue): { enabled: ScheduleDeclaration[]; disabled: string[] } {
  const base = catalogue.schedules();
  const section = (config as { schedules?: unknown } | undefined)?.schedules ?? {};
  if (typeof section !== 'object' || section === null || Array.isArray(section)) throw new InputError('schedules', 'must be a mapping of schedule id to overrides');
  const problems = new Problems();
  const overrides: Record<string, z.output<typeof SCHEDULE_OVERRIDE>> = {};
  for (const [id, raw] of Object.entries(section)) {
    if (!base.some((d) => d.id === id)) {
      problems.add(new InputError(`schedules.${id}`, `unknown schedule; known: ${base.map((d) => d.id).join(', ')}`));
      continue;
    }
    const { value, issues } = configIssues(SCHEDULE_OVERRIDE, raw, `schedules.${id}`, notOverridable);
    problems.add(...issues);
    if (!issues.length) overrides[id] = value ?? null;
  }
  const out: ScheduleDeclaration[] = [];
  const disabled: string[] = [];
  for (const d of base) {
    const o = overrides[d.id] ?? {};
    if (o.enabled === false || (o.enabled === undefined && d.enabledByDefault === false)) {
      disabled.push(d.id);
      continue;
    }
    const merged: ScheduleDeclaration = { ...d };
    if (o.cron !== undefined) {
      merged.cron = Array.isArray(o.cron) ? o.cron : [o.cron];
      delete merged.every;
    }
    if (o.every !== undefined) {
      merged.every = o.every;
      delete merged.cron;
    }
    if (o.timezone !== undefined) merged.timezone = o.timezone;
    if (o.overlap !== undefined) merged.overlap = o.overlap as OverlapPolicy;
    if (o.catchupWindow !== undefined) merged.catchupWindow = o.catchupWindow;
    if (o.jitter !== undefined) merged.jitter = o.jitter;
    if (o.pauseOnFailure !== undefined) merged.pauseOnFailure = o.pauseOnFailure;
    // The config's params replace the declared ones, all but the budget: a purge schedule given a window stays
    // gentle unless the config names another budget.
    if (o.params !== undefined) merged.params = { ...(d.params?.budget !== undefined && !('budget' in o.params) ? { budget: d.params.budget } : {}), ...o.params };
    validateDeclaration(merged, catalogue, problems);
    out.push(merged);
  }
  problems.throwIfAny();
  return { enabled: out, disabled };
}
