/**
 * The circuit breakers of a purge run (docs/purge-engine.md, "Circuit breakers"): a cap on the rows one run changes
 * (`maxRows`), a time limit (`maxDurationSeconds`), both of which stop the run cleanly between batches as `partial`
 * (the next run goes on), and the fraction guard (`maxFraction`), which refuses a run before its first batch when a
 * step would change more than that share of its table. Pure: workflow code uses it.
 */

/** Rows a run may delete or update (the steps' own tables; dependents are not counted), all its steps together. */
export const MAX_ROWS = { min: 1, max: 1_000_000_000_000 } as const;
/** How long a run may go on deleting, from its start (seconds; a week at most: a longer window is a typo). */
export const MAX_DURATION_SECONDS = { min: 1, max: 7 * 86_400 } as const;
/**
 * The fraction guard: a run refuses, before its first batch, a step expected to delete or update more than this share
 * of its table. On by default (at `accounts`) for jobs that delete accounts; 1 turns it off.
 */
export const MAX_FRACTION = { min: 0, max: 1, accounts: 0.5 } as const;
/** Tables with fewer rows than this are never refused by the fraction guard: 3 of 5 rows is not a runaway rule. */
export const FRACTION_GUARD_MIN_ROWS = 100;
/** Below this many rows the guard counts the table and its matches exactly; above, it takes the planner's estimates. */
export const FRACTION_EXACT_BELOW_ROWS = 1_000_000;

/** Which limit stopped a run (the parameter's name). */
export type StoppedBy = 'maxRows' | 'maxDurationSeconds';

/** What the fraction guard measured of one step before the run's first batch. */
export interface StepShare {
  step: string;
  table: string;
  /** Rows the step would change, and rows of its table: counted, or the planner's estimates on large tables. */
  matched: number;
  tableRows: number;
  exact: boolean;
}

/** A custom rule on a table named like a user table (auth_user, accounts_user, users, account) gets the guard by default. */
const USER_TABLE = /^([a-z0-9_]*_)?(users?|accounts?)$/i;

export function looksLikeUserTable(table: string): boolean {
  return USER_TABLE.test(table);
}

/**
 * The rows the next lane run may change under a cap: the lanes still working share what is left and no lane run is
 * promised rows another holds, so the run never changes more than `cap` (0: wait for the others to hand back).
 */
export function rowAllowance(cap: number, done: number, reserved: number, unfinishedLanes: number): number {
  const left = cap - done;
  const free = left - reserved;
  if (free <= 0) return 0;
  return Math.min(free, Math.ceil(left / Math.max(1, unfinishedLanes)));
}

/** The cap of a lane run's next batch: the rows it may still change, when that is fewer than the batch would take. */
export function batchCap(allowance: number | undefined, used: number, size: number): number | undefined {
  if (allowance === undefined) return undefined;
  const left = allowance - used;
  return left < size ? Math.max(0, left) : undefined;
}

/** Whether a batch given `cap` stopped at it (its rows, taken or left locked, filled the cap): the lane goes on after them. */
export function filledCap(cap: number | undefined, affected: number, skipped: number): boolean {
  return cap !== undefined && affected + skipped >= cap;
}

/** `1h 30m`, `45 s`: a limit in words. */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3_600);
  const m = Math.floor((seconds % 3_600) / 60);
  const s = seconds % 60;
  return [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : '', s ? `${s}s` : ''].filter(Boolean).join(' ');
}

/** Why a run stopped before its end, as its record and result say it. */
export function stopMessage(by: StoppedBy, limits: { maxRows?: number; maxDurationSeconds?: number }, changed: number): string {
  const rest = 'the rows left match the next run, which goes on from there';
  return by === 'maxRows'
    ? `stopped at its row limit: maxRows ${limits.maxRows} reached (${changed} rows deleted or updated); ${rest}`
    : `stopped at its time limit: maxDurationSeconds ${limits.maxDurationSeconds} (${formatSeconds(limits.maxDurationSeconds ?? 0)}) passed after ${changed} rows deleted or updated; ${rest}`;
}

/** The share of a step's table it would change, or null where the guard does not look (a table under the minimum). */
export function shareOf(s: StepShare): number | null {
  if (s.tableRows < FRACTION_GUARD_MIN_ROWS) return null;
  return s.matched / Math.max(1, s.tableRows);
}

const percent = (x: number) => `${Math.round(x * 1000) / 10}%`;

/**
 * The fraction guard's refusal of a run, or null when every step stays within `maxFraction`. It names the step, the
 * rows, the table's size and how to go on anyway.
 */
export function fractionRefusal(shares: readonly StepShare[], maxFraction: number | undefined): string | null {
  if (maxFraction === undefined || maxFraction >= 1) return null;
  const over = shares.filter((s) => (shareOf(s) ?? 0) > maxFraction);
  if (!over.length) return null;
  const what = over
    .map((s) => `step ${s.step} would change ${s.exact ? '' : 'about '}${s.matched} of the ${s.exact ? '' : 'about '}${s.tableRows} rows of ${s.table} (${percent(shareOf(s)!)})`)
    .join('; ');
  return (
    `refused by the fraction guard before any row changed: ${what}, more than maxFraction ${maxFraction} (${percent(maxFraction)}). ` +
    'Check the rule and its parameters (--days, --as-of) with --dry-run; if that many rows should go, run again with --max-fraction 1 (or the share you expect)'
  );
}

/** What a dry run remarks of the guard: that a real run would be refused, and why (its shares are in the result). */
export function fractionNotes(shares: readonly StepShare[], maxFraction: number | undefined): string[] {
  const refusal = fractionRefusal(shares, maxFraction);
  return refusal ? [`a real run would be ${refusal}`] : [];
}

/** A step's share in words, for the dry run's text: within the guard, over it, or on a table too small to check. */
export function shareInWords(s: StepShare, maxFraction: number | undefined): string {
  const share = shareOf(s);
  const rows = `${s.exact ? '' : 'about '}${s.matched} of ${s.exact ? '' : 'about '}${s.tableRows} rows of ${s.table}`;
  if (share === null) return `${rows} (under the ${FRACTION_GUARD_MIN_ROWS} rows the guard checks)`;
  const over = maxFraction !== undefined && maxFraction < 1 && share > maxFraction;
  return `${rows} (${percent(share)}${maxFraction !== undefined && maxFraction < 1 ? `, ${over ? 'over' : 'within'} maxFraction ${maxFraction}` : ''})`;
}
