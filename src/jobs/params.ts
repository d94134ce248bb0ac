import { InputError } from '../errors.js';
import type { PurgeParams } from './types.js';
import { ISO_8601_EXPECTED, parseIso8601 } from '../iso-time.js';
import { DJANGO_PARAM_KEYS, parseDjangoParams } from './django.js';

export const BATCH_SIZE = { min: 1, max: 100_000, default: 1_000 } as const;
/** Longest a batch statement may run (its statement_timeout); a batch is meant to take a fraction of a second. */
export const BATCH_TIMEOUT_SECONDS = { min: 1, max: 3_600, default: 10 } as const;
export const BATCHES_PER_RUN = { min: 1, max: 10_000, default: 500 } as const;
export const DAYS = { min: 1, max: 3_650, default: 0 } as const;
/** Default target duration of a batch transaction when the batch size adapts (well under the 250 ms budget). */
export const TARGET_BATCH_MS = { min: 0, max: 5_000, default: 70 } as const;


/** Lanes of one purge; the worker's MAINT_MAX_PARALLEL bounds it further. */
export const PARALLEL = { min: 1, max: 16, default: 2 } as const;

const KNOWN = ['batchSize', 'dryRun', 'asOf', 'batchTimeoutSeconds', 'batchesPerRun', 'days', 'types', 'targetBatchMs', 'parallel', ...DJANGO_PARAM_KEYS] as const;

function intInRange(field: string, value: unknown, range: { min: number; max: number; default: number }): number {
  if (value === undefined || value === null) return range.default;
  const n = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < range.min || n > range.max) {
    throw new InputError(field, `${JSON.stringify(value)} is not allowed; expected an integer from ${range.min} to ${range.max}`);
  }
  return n;
}

/**
 * Validates the parameters of a purge run, wherever they come from (our CLI, `temporal workflow start`,
 * a schedule). Unknown fields are rejected rather than ignored: a typo must not silently run with defaults.
 */
export function parsePurgeParams(raw: unknown, now: Date = new Date()): PurgeParams {
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InputError('params', 'must be an object');
  const input = raw as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!(KNOWN as readonly string[]).includes(key)) {
      throw new InputError(`params.${key}`, `unknown parameter; allowed: ${KNOWN.join(', ')}`);
    }
  }
  const dryRun = input.dryRun ?? false;
  if (typeof dryRun !== 'boolean') throw new InputError('dryRun', `${JSON.stringify(dryRun)} is not allowed; expected true or false`);
  let asOf: string | undefined;
  if (input.asOf !== undefined && input.asOf !== null) {
    // Only ISO 8601: Date's own parser reads "March 7" as some March 7th of 2001.
    const d = parseIso8601(input.asOf);
    if (!d) throw new InputError('asOf', `${JSON.stringify(input.asOf)} is not an ISO 8601 timestamp; ${ISO_8601_EXPECTED}`);
    // A reference time in the future would delete rows that are still valid.
    if (d.getTime() > now.getTime() + 1000) throw new InputError('asOf', `${input.asOf} is in the future; allowed: now or earlier`);
    asOf = d.toISOString();
  }
  let types: string[] | undefined;
  if (input.types !== undefined && input.types !== null) {
    const list = typeof input.types === 'string' ? input.types.split(',') : input.types;
    if (!Array.isArray(list) || list.some((t) => typeof t !== 'string' || !t.trim())) {
      throw new InputError('types', `${JSON.stringify(input.types)} is not allowed; expected a comma-separated list of type names`);
    }
    types = [...new Set(list.map((t: string) => t.trim()))];
  }
  return {
    batchSize: intInRange('batchSize', input.batchSize, BATCH_SIZE),
    dryRun,
    ...(asOf ? { asOf } : {}),
    batchTimeoutSeconds: intInRange('batchTimeoutSeconds', input.batchTimeoutSeconds, BATCH_TIMEOUT_SECONDS),
    batchesPerRun: intInRange('batchesPerRun', input.batchesPerRun, BATCHES_PER_RUN),
    ...(input.days !== undefined && input.days !== null ? { days: intInRange('days', input.days, DAYS) } : {}),
    ...(types ? { types } : {}),
    ...parseDjangoParams(input),
    // An explicit batch size is used as is; otherwise the size adapts to the target duration.
    ...(input.parallel !== undefined && input.parallel !== null ? { parallel: intInRange('parallel', input.parallel, PARALLEL) } : {}),
    targetBatchMs: intInRange('targetBatchMs', input.targetBatchMs, { ...TARGET_BATCH_MS, default: input.batchSize === undefined || input.batchSize === null ? TARGET_BATCH_MS.default : 0 }),
  };
}
