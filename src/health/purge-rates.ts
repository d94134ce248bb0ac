/**
 * Falling behind: per job, how many rows become eligible per day against how many its runs delete (or update) per
 * day, from the audit rows of its recent runs. Pure; src/db/run-record.ts reads the runs.
 *
 * Each real run i records, with its cutoff c_i, the rows it changed (d_i, from its ledger) and what it left of what
 * was eligible at its cutoff (l_i): the rows left locked when it walked every step (exact), else the planner's
 * estimate of the matching rows at its start minus d_i. Between the first and the last run of the window the
 * rows that became eligible are what the later runs changed plus the growth of what was left:
 *
 *   eligible = d_1 + ... + d_n + l_n - l_0        deleted = d_1 + ... + d_n        per day: over c_n - c_0
 *
 * A job whose runs finish keeps l at about 0 and eligible equal to deleted, however the arrivals vary; one whose
 * runs stop short (cancelled, failed, stopped by a limit, rows held by the application) grows l: it falls behind.
 */

export interface RunForRates {
  cutoff: string;
  changed: number;
  left: number;
}

export interface PurgeRates {
  job: string;
  eligiblePerDay: number;
  deletedPerDay: number;
  /** Runs the rates come from, and the span of their cutoffs. */
  runs: number;
  since: string;
  until: string;
  /** What the first and the last run left of what they matched. */
  leftBefore: number;
  leftAfter: number;
  fallingBehind: boolean;
}

/** Days of runs the rates look at (by the runs' start). */
export const RATE_WINDOW_DAYS = 7;
/** The cutoffs must span at least this long for a rate per day to mean anything. */
export const MIN_SPAN_MS = 3_600_000;
/** Falling behind: more than this many times the deleted rows become eligible, and the backlog grew by MIN_GROWTH rows or more. */
export const BEHIND_RATIO = 1.1;
export const MIN_GROWTH = 10;

const DAY_MS = 86_400_000;

/** The rates of one job from its runs (any order); null with fewer than two runs or too short a span. */
export function purgeRates(job: string, runs: RunForRates[]): PurgeRates | null {
  const sorted = [...runs].sort((a, b) => Date.parse(a.cutoff) - Date.parse(b.cutoff));
  if (sorted.length < 2) return null;
  const first = sorted[0]!;
  const last = sorted.at(-1)!;
  const span = Date.parse(last.cutoff) - Date.parse(first.cutoff);
  if (!(span >= MIN_SPAN_MS)) return null;
  const deleted = sorted.slice(1).reduce((a, r) => a + r.changed, 0);
  const eligible = Math.max(0, deleted + last.left - first.left);
  const perDay = (n: number) => Math.round((n / span) * DAY_MS);
  return {
    job,
    eligiblePerDay: perDay(eligible),
    deletedPerDay: perDay(deleted),
    runs: sorted.length,
    since: first.cutoff,
    until: last.cutoff,
    leftBefore: first.left,
    leftAfter: last.left,
    fallingBehind: eligible > deleted * BEHIND_RATIO && last.left - first.left >= MIN_GROWTH,
  };
}

/** A count the way a person reads it: 940, 12.5k, 3.2M. */
export function compact(n: number): string {
  if (Math.abs(n) < 1_000) return String(Math.round(n));
  if (Math.abs(n) < 1_000_000) return `${Number((n / 1_000).toFixed(n < 10_000 ? 1 : 0))}k`;
  return `${Number((n / 1_000_000).toFixed(1))}M`;
}

/** The report's recommendation for a job that falls behind. */
export function fallingBehindAdvice(r: PurgeRates): string {
  return (
    `${r.job} deletes ${compact(r.deletedPerDay)}/day but ${compact(r.eligiblePerDay)}/day become eligible ` +
    `(${r.runs} runs; what they left grew from ${r.leftBefore} to ${r.leftAfter} rows): run it more often or let each run finish ` +
    `(see why they stop short: maint runs --job ${r.job})`
  );
}
