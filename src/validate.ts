import { InputError } from './errors.js';

/**
 * Small validators for workflow parameters and environment variables: each names the field and what is
 * allowed. Strings of digits are accepted for numbers, since flags and env vars arrive as text.
 */

export interface IntRange {
  min: number;
  max: number;
}

export function intField(field: string, value: unknown, range: IntRange, fallback: number): number;
export function intField(field: string, value: unknown, range: IntRange, fallback?: undefined): number | undefined;
export function intField(field: string, value: unknown, range: IntRange, fallback?: number): number | undefined {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < range.min || n > range.max) {
    throw new InputError(field, `${JSON.stringify(value)} is not allowed; expected an integer from ${range.min} to ${range.max}`);
  }
  return n;
}

export function boolField(field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new InputError(field, `${JSON.stringify(value)} is not allowed; expected true or false`);
  return value;
}

export function enumField<T extends string>(field: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InputError(field, `${JSON.stringify(value)} is not allowed; expected one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** Parameters arrive as an object; unknown fields are refused so a typo never runs silently with defaults. */
export function paramsObject(raw: unknown, known: readonly string[]): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InputError('params', 'must be an object');
  const input = raw as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) throw new InputError(`params.${key}`, `unknown parameter; allowed: ${known.join(', ')}`);
  }
  return input;
}
