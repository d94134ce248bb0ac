import { InputError } from './errors.js';
import { ISO_8601_EXPECTED, parseIso8601 } from './iso-time.js';
import { TASK_QUEUE_MAX_LENGTH, TRIGGER_MAX_LENGTH, WORKFLOW_ID_MAX_LENGTH } from './limits.js';

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

/** Like parseIso8601, but a value in another form is an InputError naming `field` and the allowed forms. */
export function isoTimeField(field: string, value: unknown): Date {
  const at = parseIso8601(value);
  if (!at) throw new InputError(field, `${JSON.stringify(value)} is not an ISO 8601 timestamp; ${ISO_8601_EXPECTED}`);
  return at;
}

/** Control characters (newlines included) have no business in an id and would forge lines in logs. */
const CONTROL = /[\u0000-\u001f\u007f]/;

function boundedName(field: string, value: unknown, max: number, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new InputError(field, `${JSON.stringify(value)} is not allowed; expected a ${what} of 1 to ${max} characters`);
  if (value.length > max) throw new InputError(field, `is ${value.length} characters long; a ${what} has at most ${max}`);
  if (CONTROL.test(value)) throw new InputError(field, `contains a control character; a ${what} is printable text of 1 to ${max} characters`);
  return value;
}

export function checkWorkflowId(field: string, value: unknown): string {
  return boundedName(field, value, WORKFLOW_ID_MAX_LENGTH, 'workflow id');
}

export function checkTrigger(field: string, value: unknown): string {
  return boundedName(field, value, TRIGGER_MAX_LENGTH, 'trigger');
}

export function checkTaskQueue(field: string, value: unknown): string {
  return boundedName(field, value, TASK_QUEUE_MAX_LENGTH, 'task queue name');
}
