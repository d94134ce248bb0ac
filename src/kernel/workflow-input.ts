import { InputError } from './errors.js';
import { ISO_8601_EXPECTED, parseIso8601 } from './time.js';
import { TRIGGER_MAX_LENGTH, WORKFLOW_ID_MAX_LENGTH } from './limits.js';

/**
 * Strict checks of a workflow's input, run as the workflow's first step. Any client of the namespace can start
 * our workflows with any JSON, so nothing is assumed: the input must be an object, with known keys only, each
 * of the expected type. Pure and deterministic (workflow code imports it).
 */

/** Longest workflow id and trigger we accept: the audit table's columns, and a sane bound for the UI. */
export const MAX_WORKFLOW_ID = WORKFLOW_ID_MAX_LENGTH;
export const MAX_TRIGGER = TRIGGER_MAX_LENGTH;
/** Job names: the registry's names and custom rules' names, never free text. */
export const JOB_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;

export type FieldCheck = (field: string, value: unknown) => void;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  return `${typeof value} ${typeof value === 'object' ? '' : JSON.stringify(value)}`.trim();
}

/** The input object itself: a missing, null, array or scalar input is refused before any field is read. */
export function inputObject(workflow: string, raw: unknown, known: Record<string, FieldCheck>, required: string[] = [], path = 'input'): Record<string, unknown> {
  const shape = `{ ${Object.keys(known).map((k) => (required.includes(k) ? k : `${k}?`)).join(', ')} }`;
  if (raw === undefined) throw new InputError(path, `${workflow} needs an input object ${shape}; none was given`);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InputError(path, `${describe(raw)} is not allowed; ${workflow} takes an object ${shape}`);
  }
  const input = raw as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(known, key)) throw new InputError(`${path}.${key}`, `unknown field; allowed: ${Object.keys(known).join(', ')}`);
  }
  for (const key of required) {
    if (input[key] === undefined || input[key] === null) throw new InputError(`${path}.${key}`, `is required; ${workflow} takes ${shape}`);
  }
  for (const [key, check] of Object.entries(known)) {
    if (input[key] !== undefined) check(`${path}.${key}`, input[key]);
  }
  return input;
}

export const isObject: FieldCheck = (field, value) => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InputError(field, `${describe(value)} is not allowed; expected an object`);
};

export function isString(opts: { max: number; pattern?: RegExp; patternText?: string }): FieldCheck {
  return (field, value) => {
    if (typeof value !== 'string' || value.length === 0) throw new InputError(field, `${describe(value)} is not allowed; expected a non-empty string`);
    if (value.length > opts.max) throw new InputError(field, `is ${value.length} characters long; at most ${opts.max} are allowed`);
    // Control characters have no business in names and break logs and the UI.
    if (/[\u0000-\u001f\u007f]/.test(value)) throw new InputError(field, 'contains control characters; not allowed');
    if (opts.pattern && !opts.pattern.test(value)) throw new InputError(field, `${describe(value)} is not allowed; expected ${opts.patternText ?? opts.pattern.source}`);
  };
}

export const isTrigger = isString({ max: MAX_TRIGGER });
export const isJobName = isString({ max: 100, pattern: JOB_NAME, patternText: 'a job name (lower-case letters, digits, ".", "_", "-"); see `maint jobs`' });

export function isInt(range: { min: number; max: number }): FieldCheck {
  return (field, value) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
      throw new InputError(field, `${describe(value)} is not allowed; expected an integer from ${range.min} to ${range.max}`);
    }
  };
}

export const isIsoTime: FieldCheck = (field, value) => {
  if (!parseIso8601(value)) {
    throw new InputError(field, `${describe(value)} is not allowed; expected an ISO 8601 timestamp: ${ISO_8601_EXPECTED}`);
  }
};


/** Our workflow ids (and anyone's) must fit the audit table; checked in every workflow. */
export function checkWorkflowId(workflowId: string): void {
  if (workflowId.length > MAX_WORKFLOW_ID) throw new InputError('workflowId', `is ${workflowId.length} characters long; at most ${MAX_WORKFLOW_ID} are allowed`);
}
