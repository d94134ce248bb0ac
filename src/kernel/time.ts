/**
 * (No imports: workflow code may use it.)
 * ISO 8601 as people write it for a reference time: a date (`2026-03-07`, midnight UTC) or a date-time with
 * a time zone designator (`2026-03-07T10:00:00Z`, `2026-03-07T10:00:00.123+02:00`). `new Date()` alone would
 * also take "March 7" (as 2001-03-07, local time) or a date-time without a zone (local time of whoever runs it).
 */
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/;

/** A date-time as ISO 8601 writes it but without a zone: local time of whoever reads it, so refused. */
export const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?$/;

export const ISO_8601_EXPECTED = 'expected a date (2026-03-07) or a date-time with a time zone (2026-03-07T10:00:00Z, 2026-03-07T10:00:00+02:00)';

/** The instant `value` names, or undefined when it is not in the accepted forms or not a real calendar date. */
export function parseIso8601(value: unknown): Date | undefined {
  if (typeof value !== 'string' || value.length > 40) return undefined;
  const m = ISO_DATE.exec(value) ?? ISO_DATE_TIME.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', , zone = 'Z'] = m;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  if (zone !== 'Z' && (Number(zone.slice(1, 3)) > 23 || Number(zone.slice(4, 6)) > 59)) return undefined;
  // Date.UTC rolls 2026-02-30 over to March 2: a date that does not round-trip does not exist.
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (day.getUTCFullYear() !== Number(y) || day.getUTCMonth() !== Number(mo) - 1 || day.getUTCDate() !== Number(d)) return undefined;
  const at = new Date(ISO_DATE.test(value) ? `${value}T00:00:00Z` : value);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

export const DAY_MS = 86_400_000;
export const DAY_SECONDS = 86_400;
