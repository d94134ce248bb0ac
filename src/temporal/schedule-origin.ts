import { CronExpressionParser } from 'cron-parser';
import { parseDuration } from '../kernel/duration.js';

/**
 * How a schedule started a run: its own tick, an operator's trigger ("run now") or a backfill. Temporal records
 * none of this on the run; it records the run's nominal time (TemporalScheduledStartTime). A tick's nominal time
 * is one the spec matches, and it starts within the jitter after it; a trigger's nominal time is the moment it was
 * asked for, which the spec does not match; a backfill's is a matching time well in the past.
 */
export type ScheduledStartKind = 'tick' | 'trigger' | 'backfill';

/** What a scheduled run knows of its start: the nominal time, and the spec its schedule was declared with (its memo). */
export interface ScheduledStart {
  /** TemporalScheduledStartTime, ISO 8601. */
  at: string;
  /** When the run's workflow started (its first execution's start), ISO 8601. */
  startedAt: string;
  declared?: { cron?: string[]; every?: string | null; timezone?: string; jitter?: string | null };
}

/** Slack beyond the jitter before a matching time counts as in the past: task queue and worker start delays. */
const LATE_AFTER_MS = 2 * 60_000;

function specMatches(declared: NonNullable<ScheduledStart['declared']>, nominal: Date): boolean {
  const at = nominal.getTime();
  for (const cron of declared.cron ?? []) {
    try {
      const next = CronExpressionParser.parse(cron, { currentDate: new Date(at - 1000), tz: declared.timezone || 'UTC' }).next();
      if (next.getTime() === at) return true;
    } catch {
      // An expression this parser does not read tells nothing; the others may.
    }
  }
  // Temporal's intervals count from the Unix epoch.
  if (declared.every) return at % parseDuration('every', declared.every) === 0;
  return false;
}

/** The kind of a scheduled start; null when its schedule's spec is unknown (not declared by this tool). */
export function scheduledStartKind(s: ScheduledStart): ScheduledStartKind | null {
  const d = s.declared;
  const nominal = new Date(s.at);
  if (!d || (!d.cron?.length && !d.every) || Number.isNaN(nominal.getTime())) return null;
  try {
    if (!specMatches(d, nominal)) return 'trigger';
    const jitterMs = d.jitter ? parseDuration('jitter', d.jitter) : 0;
    const lateBy = Date.parse(s.startedAt) - nominal.getTime();
    return lateBy > jitterMs + LATE_AFTER_MS ? 'backfill' : 'tick';
  } catch {
    // A memo any client may have written: a spec that does not parse tells nothing.
    return null;
  }
}

/**
 * The audit's trigger of a run: `schedule:<id>` for a tick, `schedule:<id>:trigger` and `schedule:<id>:backfill`
 * for the schedule's manual starts; any other trigger as given. A tick Temporal takes late, catching up after an
 * outage within the catch-up window, reads as a backfill: its time is also in the past.
 */
export function auditTrigger(trigger: string, scheduled: ScheduledStart | undefined): string {
  if (!scheduled || !trigger.startsWith('schedule:')) return trigger;
  const kind = scheduledStartKind(scheduled);
  return kind && kind !== 'tick' ? `${trigger}:${kind}` : trigger;
}
