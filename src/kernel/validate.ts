// zod/mini, not zod: workflow code parses its input with these, and the full zod adds ~9 MB to every workflow
// thread of the worker (measured: bundled alone in a V8 context, 454 KB and +9 MB RSS against 20 KB and +0.7 MB).
import * as z from 'zod/mini';
import { InputError } from './errors.js';
import { ISO_8601_EXPECTED, parseIso8601 } from './time.js';
import { TASK_QUEUE_MAX_LENGTH, TRIGGER_MAX_LENGTH, WORKFLOW_ID_MAX_LENGTH } from './limits.js';

/**
 * Parameters, flags and environment variables are checked by zod schemas built from the fields below, through one
 * adapter (`parseParams`, `parseField`) that turns zod's first issue into an InputError naming the field, the value
 * and what is allowed. Strings of digits are accepted for integers, since flags and env vars arrive as text.
 * Pure: workflow code parses its input with the same schemas.
 */

export interface IntRange {
  min: number;
  max: number;
}

/** A message for a value that is not allowed: the adapter puts the value in front of it. */
const expected = (what: string) => ({ error: `expected ${what}` });
const DIGITS = /^\s*-?\d+\s*$/;

export function int(range: IntRange, what = `an integer from ${range.min} to ${range.max}`) {
  const e = expected(what);
  return z.pipe(
    z.transform((v: unknown) => (typeof v === 'string' && DIGITS.test(v) ? Number(v) : v)),
    z.int(e).check(z.gte(range.min, e), z.lte(range.max, e)),
  );
}

export const bool = z.boolean(expected('true or false'));

export function oneOf<T extends string>(allowed: readonly [T, ...T[]]) {
  return z.enum(allowed as [T, ...T[]], expected(`one of ${allowed.join(', ')}`));
}

/** An ISO 8601 time as text, kept as given. */
const notIso = { error: `{value} is not an ISO 8601 timestamp; ${ISO_8601_EXPECTED}` };
export const isoTime = z.string(notIso).check(z.refine((v: string) => parseIso8601(v) !== undefined, notIso));

/** The parameters of a job: only the listed fields, so a typo never runs silently with defaults. */
export function paramsSchema<S extends z.core.$ZodLooseShape>(shape: S) {
  return z.strictObject(shape);
}

function valueAt(raw: unknown, path: PropertyKey[]): unknown {
  return path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), raw);
}

/** The InputError of zod's first issue: the field, then the value and what is allowed. */
function inputError(issue: z.core.$ZodIssue, raw: unknown, field: string | undefined, schema: z.core.$ZodType): InputError {
  if (issue.code === 'unrecognized_keys') {
    const known = schema instanceof z.ZodMiniObject ? Object.keys(schema.shape) : [];
    return new InputError(`params.${issue.keys[0]}`, known.length ? `unknown parameter; allowed: ${known.join(', ')}` : 'unknown parameter; this job takes none');
  }
  // Named by the parameter itself: `types`, not `types.1`, with the value as it was given.
  const name = field ?? String(issue.path[0] ?? 'params');
  const value = JSON.stringify(field ? raw : valueAt(raw, issue.path.slice(0, 1)));
  const message = issue.message.startsWith('expected ') ? `${value} is not allowed; ${issue.message}` : issue.message.replace('{value}', value ?? 'nothing');
  return new InputError(name || 'params', message);
}

/** The fields that were given (null counts as not given: it means "the default"). */
export function given<T extends object>(o: T): { [K in keyof T]?: NonNullable<T[K]> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as { [K in keyof T]?: NonNullable<T[K]> };
}

/** Parameters through their schema: an object (none counts as empty), every field checked, defaults applied. */
export function parseParams<S extends z.core.$ZodType>(schema: S, raw: unknown): z.output<S> {
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InputError('params', 'must be an object');
  const parsed = z.safeParse(schema, raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  throw inputError(issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!, raw, undefined, schema);
}

/** One value (a flag, an env var) through a field's schema, the error naming `field`; unset: `fallback`. */
export function parseField<S extends z.core.$ZodType>(field: string, schema: S, value: unknown, fallback: z.output<S>): z.output<S>;
export function parseField<S extends z.core.$ZodType>(field: string, schema: S, value: unknown): z.output<S> | undefined;
export function parseField<S extends z.core.$ZodType>(field: string, schema: S, value: unknown, fallback?: z.output<S>): z.output<S> | undefined {
  if (value === undefined || value === null) return fallback;
  const parsed = z.safeParse(schema, value);
  if (parsed.success) return parsed.data;
  throw inputError(parsed.error.issues[0]!, value, field, schema);
}

/** An ISO 8601 time (a flag, a parameter) as the instant it names; any other form is refused naming `field`. */
export function isoTimeField(field: string, value: unknown): Date {
  return parseIso8601(parseField(field, isoTime, value ?? ''))!;
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
