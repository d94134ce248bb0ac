import { InputError } from './errors.js';

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration as the config file writes it (`30s`, `5m`, `2h`, `7d`), in ms; anything else is refused naming the field. */
export function parseDuration(field: string, value: string): number {
  const m = DURATION.exec(value);
  if (!m || Number(m[1]) <= 0) throw new InputError(field, `"${value}" is not a duration; expected a positive number with s, m, h or d, e.g. 30m`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}
