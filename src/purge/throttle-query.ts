import { InputError } from '../kernel/errors.js';

/**
 * The deployment's throttle query (MAINT_BRAKE_THROTTLE_QUERY), as gh-ost's --throttle-query: purges wait while it
 * returns true (business hours, a flag table, a batch job of the application's). Its shape is checked here; what makes
 * it safe is how it runs (activities/purge/brake.ts): in a read-only transaction, with a short statement and lock
 * timeout, rolled back, so it can neither change data nor hold anything for long.
 */
export const THROTTLE_QUERY_MAX = 2_000;
/** A statement timeout and a lock timeout for it: a slow throttle query throttles (with the reason), never blocks. */
export const THROTTLE_QUERY_TIMEOUT_MS = 1_000;

export function parseThrottleQuery(raw: string, field: string): string {
  const sql = raw.trim().replace(/;\s*$/, '');
  if (sql.length === 0 || sql.length > THROTTLE_QUERY_MAX) throw new InputError(field, `expected one SQL query of 1 to ${THROTTLE_QUERY_MAX} characters`);
  if (!/^(select|with|values)\b/i.test(sql)) throw new InputError(field, 'expected a query that starts with SELECT, WITH or VALUES and returns true while purges should wait');
  // One statement: a second one after a semicolon would run outside what was checked (quotes aside, none is needed).
  if (sql.includes(';')) throw new InputError(field, 'expected one statement; it contains a ";"');
  return sql;
}

/** Whether the query's answer says to wait: its first row's first column is true (no row, false or null: go on). */
export function saysThrottle(row: Record<string, unknown> | undefined): boolean {
  if (!row) return false;
  const first = Object.values(row)[0];
  return first === true || first === 't' || first === 'true' || first === 1;
}
