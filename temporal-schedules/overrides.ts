import { CronExpressionParser } from 'cron-parser';
import { InputError } from '../src/kernel/errors.js';
import type { Catalogue } from '../src/catalogue/index.js';
import { jobAction } from '../src/start-job.js';
import { OVERLAP_POLICIES, type OverlapPolicy, type ScheduleDeclaration } from './declarations.js';

const DURATION = /^(\d+)(s|m|h|d)$/;
const SHORTCUTS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function parseDuration(field: string, value: string): number {
  const m = DURATION.exec(value);
  if (!m || Number(m[1]) <= 0) throw new InputError(field, `"${value}" is not a duration; expected a positive number with s, m, h or d, e.g. 30m`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

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

/** Checks one declaration; the error names the schedule and the field. */
export function validateDeclaration(d: ScheduleDeclaration, catalogue: Catalogue): void {
  const f = (name: string) => `schedules.${d.id}.${name}`;
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(d.id)) throw new InputError(`schedules.${d.id}`, 'id may contain letters, digits, ".", "_" and "-" only');
  if (!catalogue.names().includes(d.job)) throw new InputError(f('job'), `unknown job "${d.job}"; allowed: ${catalogue.names().join(', ')}`);
  if (!d.cron?.length === !d.every) throw new InputError(f('cron'), 'give either cron or every, not both and not neither');
  for (const c of d.cron ?? []) validateCron(f('cron'), c);
  if (d.every) parseDuration(f('every'), d.every);
  validateTimezone(f('timezone'), d.timezone);
  if (!OVERLAP_POLICIES.includes(d.overlap)) throw new InputError(f('overlap'), `"${d.overlap}" is not one of ${OVERLAP_POLICIES.join(', ')}`);
  parseDuration(f('catchupWindow'), d.catchupWindow);
  if (d.jitter) parseDuration(f('jitter'), d.jitter);
  try {
    jobAction(catalogue.find(d.job), d.params ?? {}, { trigger: `schedule:${d.id}`, scheduled: true });
  } catch (err) {
    throw new InputError(f('params'), (err as Error).message);
  }
}

const OVERRIDABLE = ['enabled', 'cron', 'every', 'timezone', 'overlap', 'catchupWindow', 'pauseOnFailure', 'jitter', 'params'] as const;

/**
 * The declarations with the config file's `schedules:` overrides applied, validated, minus the disabled ones.
 * Nothing is synced if any of it is invalid.
 */
export function effectiveSchedules(config: unknown, catalogue: Catalogue): ScheduleDeclaration[] {
  const base = catalogue.schedules();
  const overrides = ((config as { schedules?: unknown } | undefined)?.schedules ?? {}) as Record<string, Record<string, unknown>>;
  if (typeof overrides !== 'object' || Array.isArray(overrides)) throw new InputError('schedules', 'must be a mapping of schedule id to overrides');
  for (const [id, o] of Object.entries(overrides)) {
    if (!base.some((d) => d.id === id)) throw new InputError(`schedules.${id}`, `unknown schedule; known: ${base.map((d) => d.id).join(', ')}`);
    if (o !== null && (typeof o !== 'object' || Array.isArray(o))) throw new InputError(`schedules.${id}`, `must be a mapping of overrides (${OVERRIDABLE.join(', ')})`);
    for (const key of Object.keys(o ?? {})) {
      if (!(OVERRIDABLE as readonly string[]).includes(key)) throw new InputError(`schedules.${id}.${key}`, `cannot be overridden; allowed: ${OVERRIDABLE.join(', ')}`);
    }
  }
  const out: ScheduleDeclaration[] = [];
  for (const d of base) {
    const o = overrides[d.id] ?? {};
    if (o.enabled !== undefined && typeof o.enabled !== 'boolean') throw new InputError(`schedules.${d.id}.enabled`, 'expected true or false');
    if (o.enabled === false || (o.enabled === undefined && d.enabledByDefault === false)) continue;
    const merged: ScheduleDeclaration = { ...d };
    if (o.cron !== undefined) {
      merged.cron = Array.isArray(o.cron) ? (o.cron as string[]) : [String(o.cron)];
      delete merged.every;
    }
    if (o.every !== undefined) {
      merged.every = String(o.every);
      delete merged.cron;
    }
    for (const key of ['timezone', 'overlap', 'catchupWindow', 'jitter'] as const) if (o[key] !== undefined) (merged as unknown as Record<string, unknown>)[key] = String(o[key]);
    if (o.pauseOnFailure !== undefined) merged.pauseOnFailure = Boolean(o.pauseOnFailure);
    if (o.params !== undefined) merged.params = o.params as Record<string, unknown>;
    validateDeclaration({ ...merged, overlap: merged.overlap as OverlapPolicy }, catalogue);
    out.push(merged);
  }
  return out;
}

