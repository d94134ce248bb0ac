// zod/mini, not zod: workflow code parses its input with these, and the full zod adds ~9 MB to every workflow
// thread of the worker (measured: bundled alone in a V8 context, 454 KB and +9 MB RSS against 20 KB and +0.7 MB).
import * as z from 'zod/mini';
import { InputError } from './errors.js';
import { LOCAL_DATE_TIME, ISO_8601_EXPECTED, parseIso8601 } from './time.js';
import { TASK_QUEUE_MAX_LENGTH, TRIGGER_MAX_LENGTH, WORKFLOW_ID_MAX_LENGTH } from './limits.js';

/**
 * The one validation dialect: every input (flags, environment variables, job parameters, workflow inputs, the config
 * file) is checked by a zod/mini schema built from the fields below, and every refusal goes through one adapter that
 * turns a zod issue into an InputError in plain words, naming the field, the value and what is allowed. A field's
 * message says `{value}` where the value goes. The field is named as its origin reads it:
 * - a parameter by its own name (`batchSize`, `types`; `parseParams`, `parseField`), the value as JSON;
 * - a workflow input's field by its path from `input` (`input.carried.lanes[0]`; `parseInput`), the value in words;
 * - a config file's entry by its path in the file (`rules.purge-a.where[0]`; `configIssues`), every issue at once.
 * Strings of digits are accepted for integers, since flags and environment variables arrive as text. Pure:
 * workflow code uses it.
 */

export interface IntRange {
  min: number;
  max: number;
}

/** A message for a value that is not allowed. */
const expected = (what: string) => ({ error: `{value} is not allowed; expected ${what}` });
const DIGITS = /^\s*-?\d+\s*$/;

export function int(range: IntRange, what = `an integer from ${range.min} to ${range.max}`) {
  const e = expected(what);
  return z.pipe(
    z.transform((v: unknown) => (typeof v === 'string' && DIGITS.test(v) ? Number(v) : v)),
    z.int(e).check(z.gte(range.min, e), z.lte(range.max, e)),
  );
}

/** A number with decimals (a coefficient, seconds), within `range`; text of a number too (flags, variables). */
export function decimal(range: IntRange, what = `a number from ${range.min} to ${range.max}`) {
  const e = expected(what);
  return z.pipe(
    z.transform((v: unknown) => (typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v)),
    z.number(e).check(z.gte(range.min, e), z.lte(range.max, e)),
  );
}

export const bool = z.boolean(expected('true or false'));

export function oneOf<T extends string>(allowed: readonly [T, ...T[]]) {
  return z.enum(allowed as [T, ...T[]], expected(`one of ${allowed.join(', ')}`));
}

/** An ISO 8601 time as text, kept as given. */
const notIso = { error: `{value} is not an ISO 8601 timestamp; ${ISO_8601_EXPECTED}` };
// A date-time without a zone is the commonest slip: say that, not only "not ISO 8601".
const noZone = { error: '{value} has no time zone; add Z for UTC or an offset such as +02:00 (2026-03-07T10:00:00Z)' };
export const isoTime = z
  .string(notIso)
  .check(z.refine((v: string) => !LOCAL_DATE_TIME.test(v), noZone), z.refine((v: string) => LOCAL_DATE_TIME.test(v) || parseIso8601(v) !== undefined, notIso));

/** The name of a thing an operator configures (an OIDC provider, a notification channel): 1-100 letters, digits, ".", "_", "-". */
export const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
export const LABEL_EXPECTED = '1-100 letters, digits, ".", "_", "-"';

/** Control characters (newlines included) have no business in a name and would forge lines in logs. */
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * A name or label of 1 to `max` printable characters, of `pattern` when given (`patternText` says it in words). A
 * field with `what` ("task queue name") is told as one ("a task queue name has at most 1000").
 */
export function text(opts: { max: number; what?: string; pattern?: RegExp; patternText?: string }) {
  const { max, what } = opts;
  const wanted = expected(what ? `a ${what} of 1 to ${max} characters` : 'a non-empty string');
  const tooLong = (n: number) => `is ${n} characters long; ${what ? `a ${what} has at most ${max}` : `at most ${max} are allowed`}`;
  return z.string(wanted).check(
    z.minLength(1, wanted),
    z.refine((v: string) => v.length <= max, { error: (issue) => tooLong(String(issue.input).length), abort: true }),
    z.refine((v: string) => !CONTROL.test(v), { error: what ? `contains a control character; a ${what} is printable text of 1 to ${max} characters` : 'contains control characters; not allowed', abort: true }),
    ...(opts.pattern ? [z.regex(opts.pattern, expected(opts.patternText ?? opts.pattern.source))] : []),
  );
}

/** Of a URL (a JWKS, a webhook): https, or plain http only to this machine. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
export function httpsOrLoopback(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
}
export const HTTPS_OR_LOOPBACK = 'expected https:// (http:// only for localhost)';

/** The parameters of a job: only the listed fields, so a typo never runs silently with defaults. */
export function paramsSchema<S extends z.core.$ZodLooseShape>(shape: S) {
  return z.strictObject(shape);
}

/** The fields that were given (null counts as not given: it means "the default"). */
export function given<T extends object>(o: T): { [K in keyof T]?: NonNullable<T[K]> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as { [K in keyof T]?: NonNullable<T[K]> };
}

// ----------------------------------------------------------------------------------------------------------------
// The adapter: zod issues in plain words.

type Path = ReadonlyArray<PropertyKey>;

function valueAt(raw: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), raw);
}

/** `a.b[0].c`, from a root (`input`, `rules`) and a path below it. */
function pathName(root: string, path: Path): string {
  return path.reduce<string>((name, k) => (typeof k === 'number' ? `${name}[${k}]` : name ? `${name}.${String(k)}` : String(k)), root);
}

/** A value in words, for workflow inputs ("the string \"x\"", "number 5", "an array"). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  return `${typeof value} ${typeof value === 'object' ? '' : JSON.stringify(value)}`.trim();
}

/** The keys an object schema allows at `path` below `schema` (through optional, nullable, default, array, lazy). */
function keysAt(schema: z.core.$ZodType, path: Path): string[] {
  let s: z.core.$ZodType | undefined = schema;
  const unwrap = (t: z.core.$ZodType | undefined): z.core.$ZodType | undefined => {
    for (let depth = 0; t && depth < 10; depth++) {
      const def = t._zod.def as unknown as Record<string, unknown>;
      if (def.type === 'optional' || def.type === 'nullable' || def.type === 'default' || def.type === 'prefault') t = def.innerType as z.core.$ZodType;
      else if (def.type === 'lazy') t = (def.getter as () => z.core.$ZodType)();
      else if (def.type === 'pipe') t = def.in as z.core.$ZodType;
      else return t;
    }
    return t;
  };
  for (const k of path) {
    s = unwrap(s);
    const def = s?._zod.def as unknown as Record<string, unknown> | undefined;
    if (def?.type === 'object') s = (def.shape as Record<string, z.core.$ZodType>)[String(k)];
    else if (def?.type === 'array') s = def.element as z.core.$ZodType;
    else if (def?.type === 'record') s = def.valueType as z.core.$ZodType;
    else return [];
  }
  const def = unwrap(s)?._zod.def as unknown as Record<string, unknown> | undefined;
  return def?.type === 'object' ? Object.keys(def.shape as object) : [];
}

/** `1 entry`, `3 characters`. */
function count(n: number, origin: string): string {
  return `${n} ${origin === 'array' ? (n === 1 ? 'entry' : 'entries') : n === 1 ? 'character' : 'characters'}`;
}

/** What an issue without a message of our own says, in plain words (zod's own are "Invalid input"). */
function plainWords(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `{value} is not allowed; expected ${issue.expected === 'array' ? 'a list' : issue.expected === 'object' || issue.expected === 'record' ? 'a mapping' : `a ${issue.expected}`}`;
    case 'too_small':
      return issue.origin === 'array' || issue.origin === 'string'
        ? `{value} is not allowed; expected at least ${count(Number(issue.minimum), issue.origin)}`
        : `{value} is not allowed; expected ${issue.inclusive ? 'at least' : 'more than'} ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'array' || issue.origin === 'string'
        ? `{value} is not allowed; expected at most ${count(Number(issue.maximum), issue.origin)}`
        : `{value} is not allowed; expected ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}`;
    case 'invalid_value':
      return `{value} is not allowed; expected ${issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`}`;
    case 'invalid_format':
      return `{value} is not allowed; expected ${issue.format === 'regex' ? `text matching ${(issue as { pattern?: string }).pattern ?? 'its pattern'}` : `a ${issue.format}`}`;
    case 'not_multiple_of':
      return `{value} is not allowed; expected a multiple of ${String(issue.divisor)}`;
    default:
      return '{value} is not allowed';
  }
}

function messageOf(issue: z.core.$ZodIssue, value: string): string {
  const own = issue.message && issue.message !== 'Invalid input' ? issue.message : plainWords(issue);
  return own.replace('{value}', () => value);
}

/** The first issue to report: an unknown field before anything else (a typo explains the rest). */
function firstIssue(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue {
  return issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!;
}

/** A parameter's issue: named by the parameter itself (`types`, not `types.1`), with the value as it was given. */
function paramError(issue: z.core.$ZodIssue, raw: unknown, field: string | undefined, schema: z.core.$ZodType): InputError {
  if (issue.code === 'unrecognized_keys') {
    const known = keysAt(schema, issue.path);
    return new InputError(`params.${issue.keys[0]}`, known.length ? `unknown parameter; allowed: ${known.join(', ')}` : 'unknown parameter; this job takes none');
  }
  const name = field ?? String(issue.path[0] ?? 'params');
  return new InputError(name || 'params', messageOf(issue, JSON.stringify(field ? raw : valueAt(raw, issue.path.slice(0, 1))) ?? 'nothing'));
}

/** Parameters through their schema: an object (none counts as empty), every field checked, defaults applied. */
export function parseParams<S extends z.core.$ZodType>(schema: S, raw: unknown): z.output<S> {
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InputError('params', 'must be an object');
  const parsed = z.safeParse(schema, raw);
  if (parsed.success) return parsed.data;
  throw paramError(firstIssue(parsed.error.issues), raw, undefined, schema);
}

/** One value (a flag, an env var) through a field's schema, the error naming `field`; unset: `fallback`. */
export function parseField<S extends z.core.$ZodType>(field: string, schema: S, value: unknown, fallback: z.output<S>): z.output<S>;
export function parseField<S extends z.core.$ZodType>(field: string, schema: S, value: unknown): z.output<S> | undefined;
export function parseField<S extends z.core.$ZodType>(field: string, schema: S, value: unknown, fallback?: z.output<S>): z.output<S> | undefined {
  if (value === undefined || value === null) return fallback;
  const parsed = z.safeParse(schema, value);
  if (parsed.success) return parsed.data;
  throw paramError(parsed.error.issues[0]!, value, field, schema);
}

/** An ISO 8601 time (a flag, a parameter) as the instant it names; any other form is refused naming `field`. */
export function isoTimeField(field: string, value: unknown): Date {
  return parseIso8601(parseField(field, isoTime, value ?? ''))!;
}

/**
 * A workflow's input, as any client of the namespace may send it: an object with the fields of `schema` only,
 * `required` ones present, each of its type. The first mistake is an InputError naming the field from `input`.
 */
export function parseInput<S extends z.core.$ZodType>(workflow: string, schema: S, raw: unknown, required: readonly string[] = [], root = 'input'): z.output<S> {
  const keys = keysAt(schema, []);
  const shape = `{ ${keys.map((k) => (required.includes(k) ? k : `${k}?`)).join(', ')} }`;
  if (raw === undefined) throw new InputError(root, `${workflow} needs an input object ${shape}; none was given`);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new InputError(root, `${describe(raw)} is not allowed; ${workflow} takes an object ${shape}`);
  const parsed = z.safeParse(schema, raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  const missing = issues.find((i) => i.path.length === 1 && required.includes(String(i.path[0])) && valueAt(raw, i.path) == null);
  const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? missing ?? issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    return unknownField(pathName(root, [...issue.path, issue.keys[0]!]), keysAt(schema, issue.path));
  }
  if (issue === missing) throw new InputError(pathName(root, issue.path), `is required; ${workflow} takes ${shape}`);
  const value = valueAt(raw, issue.path);
  if (value === undefined && issue.code === 'invalid_type') throw new InputError(pathName(root, issue.path), 'is required');
  throw new InputError(pathName(root, issue.path), messageOf(issue, describe(value)));
}

/** An object of a workflow input whose fields its own parser checks (a job's parameters, a carried state). */
export const anObject = z.record(z.string(), z.unknown(), expected('an object'));

/** A count or bound in a workflow input: a number (never text), a whole one, within `range`. */
export function whole(range: IntRange) {
  const e = expected(`an integer from ${range.min} to ${range.max}`);
  return z.int(e).check(z.gte(range.min, e), z.lte(range.max, e));
}

/** Who or what started a run, as its input says it. */
export const triggerField = text({ max: TRIGGER_MAX_LENGTH });

/** An ISO 8601 timestamp of a workflow input. */
export const isoTimeInput = z.string(expected(`an ISO 8601 timestamp: ${ISO_8601_EXPECTED}`)).check(z.refine((v: string) => parseIso8601(v) !== undefined, expected(`an ISO 8601 timestamp: ${ISO_8601_EXPECTED}`)));

/**
 * The input of a job's workflow (`{ params?, trigger? }`), checked at its first step: the parameters through `parse`,
 * the job's own check (the CLI's), and passed on as sent, for the activities resolve defaults from the worker's settings.
 */
export function parseJobInput<P>(workflow: string, raw: unknown, parse: (params: unknown) => unknown): { params?: P; trigger?: string } {
  const input = parseInput(workflow, z.strictObject({ params: z.optional(anObject), trigger: z.optional(triggerField) }), raw);
  if (input.params !== undefined) parse(input.params);
  return input as { params?: P; trigger?: string };
}

function unknownField(field: string, allowed: string[]): never {
  throw new InputError(field, `unknown field; allowed: ${allowed.join(', ')}`);
}

/** How an unknown field is told: by default `path: unknown field "key"; allowed: ...`. */
export type UnknownField = (path: string, key: string, allowed: string[]) => InputError;

const unknownInFile: UnknownField = (path, key, allowed) => new InputError(path, `unknown field ${JSON.stringify(key)}; allowed: ${allowed.join(', ')}`);

/** `path.key: unknown field; allowed: ...`: the way a list of entries names its fields (OIDC_PROVIDERS[0].jwks_uri). */
export const unknownAsField: UnknownField = (path, key, allowed) => new InputError(`${path}.${key}`, `unknown field; allowed: ${allowed.join(', ')}`);

/**
 * Every issue of `raw` (a config file's section, a list from an environment variable) through `schema`, each an
 * InputError named by its path from `root`, in plain words: several mistakes are told all at once.
 */
export function configIssues<S extends z.core.$ZodType>(schema: S, raw: unknown, root: string, unknown: UnknownField = unknownInFile): { value?: z.output<S>; issues: InputError[] } {
  const parsed = z.safeParse(schema, raw);
  if (parsed.success) return { value: parsed.data, issues: [] };
  // An unknown field first: a typo explains the rest.
  const issues = [...parsed.error.issues].sort((a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'));
  return {
    issues: issues.flatMap((issue) => {
      const field = pathName(root, issue.path);
      if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => unknown(field, k, keysAt(schema, issue.path)));
      const value = valueAt(raw, issue.path);
      if (value === undefined && issue.code === 'invalid_type') return [new InputError(field, 'is required')];
      return [new InputError(field, messageOf(issue, JSON.stringify(value) ?? 'nothing'))];
    }),
  };
}

// ----------------------------------------------------------------------------------------------------------------
// The names every start and every workflow bounds.

const WORKFLOW_ID = text({ max: WORKFLOW_ID_MAX_LENGTH, what: 'workflow id' });
const TRIGGER = text({ max: TRIGGER_MAX_LENGTH, what: 'trigger' });
const TASK_QUEUE = text({ max: TASK_QUEUE_MAX_LENGTH, what: 'task queue name' });

/** A workflow id fits the audit table's column (and Temporal's own limit). */
export function checkWorkflowId(field: string, value: unknown): string {
  return parseField(field, WORKFLOW_ID, value ?? '')!;
}

/** The id a workflow runs under, as the workflow checks it at its first step (like any field of its input). */
export const workflowIdField = text({ max: WORKFLOW_ID_MAX_LENGTH });

export function checkTrigger(field: string, value: unknown): string {
  return parseField(field, TRIGGER, value ?? '')!;
}

export function checkTaskQueue(field: string, value: unknown): string {
  return parseField(field, TASK_QUEUE, value ?? '')!;
}

/** A Temporal namespace name. */
const NAMESPACE = z.string().check(z.regex(/^[A-Za-z0-9._-]{1,255}$/, { error: '{value} is not a namespace name; allowed: letters, digits, ".", "_", "-"' }));
export function checkNamespace(field: string, value: unknown): string {
  return parseField(field, NAMESPACE, value ?? '')!;
}
