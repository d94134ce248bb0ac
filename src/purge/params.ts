import * as z from 'zod/mini';
import { InputError } from '../kernel/errors.js';
import type { PurgeParams } from './types.js';
import { parseIso8601 } from '../kernel/time.js';
import { SQL_IDENTIFIER } from './identifiers.js';
import { bool, given, int, isoTime, paramsSchema, parseParams } from '../kernel/validate.js';
import { NEWEST_DOT_RELEASE } from './presets/oauth-toolkit.js';
import { BATCH_TARGET_MS, BUDGET_PARAMS, DEFAULT_BUDGET, KNOB_NAMES } from './budget.js';
import { MAX_DURATION_SECONDS, MAX_FRACTION, MAX_ROWS } from './breakers.js';

export const BATCH_SIZE = { min: 1, max: 100_000, default: 1_000 } as const;
/** Longest a batch statement may run (its statement_timeout); a batch is meant to take a fraction of a second. */
export const BATCH_TIMEOUT_SECONDS = { min: 1, max: 3_600, default: 10 } as const;
export const BATCHES_PER_RUN = { min: 1, max: 10_000, default: 500 } as const;
export const DAYS = { min: 1, max: 3_650, default: 0 } as const;
/** Target duration of a batch transaction when the batch size adapts; the default is the budget's (BATCH_TARGET_MS). */
export const TARGET_BATCH_MS = { min: 0, max: 5_000 } as const;


/** Lanes of one purge; the worker's MAINT_MAX_PARALLEL bounds it further. */
export const PARALLEL = { min: 1, max: 16, default: 2 } as const;

const DURATION_UNITS = { s: 1, m: 60, h: 3_600, d: 86_400 } as const;
const DURATION_EXPECTED = { error: `{value} is not allowed; expected a duration of ${MAX_DURATION_SECONDS.min} s to 7 days: seconds, or a number with s, m, h or d (90s, 30m, 2h, 1d)` };

/** A time limit in seconds, given as seconds or as text with a unit (`--max-duration 30m`, a schedule's `30m`). */
const durationSeconds = z.pipe(
  z.transform((v: unknown) => {
    if (typeof v !== 'string') return v;
    const m = /^\s*(\d{1,9})\s*(s|m|h|d)?\s*$/.exec(v);
    return m ? Number(m[1]) * DURATION_UNITS[(m[2] ?? 's') as keyof typeof DURATION_UNITS] : v;
  }),
  z.int(DURATION_EXPECTED).check(z.gte(MAX_DURATION_SECONDS.min, DURATION_EXPECTED), z.lte(MAX_DURATION_SECONDS.max, DURATION_EXPECTED)),
);

const FRACTION_EXPECTED = { error: '{value} is not allowed; expected a share of the table greater than 0 and at most 1 (e.g. 0.5; 1 turns the guard off)' };
const fraction = z.pipe(
  z.transform((v: unknown) => (typeof v === 'string' && /^\s*(0|1)?(\.\d{1,6})?\s*$/.test(v) && /\d/.test(v) ? Number(v) : v)),
  z.number(FRACTION_EXPECTED).check(z.gt(MAX_FRACTION.min, FRACTION_EXPECTED), z.lte(MAX_FRACTION.max, FRACTION_EXPECTED)),
);

const DOT_VERSION_EXPECTED = { error: `{value} is not allowed; expected the django-oauth-toolkit version the app runs, from 1.1 to ${NEWEST_DOT_RELEASE}, e.g. 1.7, 2.4, 3.3 or 3.4.1` };
const TIME_ZONE_EXPECTED = { error: "{value} is not allowed; expected an IANA time zone name, Django's TIME_ZONE (e.g. Europe/Berlin)" };

const USER_TABLE_EXPECTED = { error: "{value} is not allowed; expected the user model's table, a plain SQL identifier (letters, digits, _), e.g. accounts_user" };

/** Ten years: anything longer is a typo, not a lifespan. */
const MAX_REFRESH_SECONDS = 10 * 365 * 86_400;

/** The parameters only some presets take (the job lists them in `djangoParams`), checked with the others. */
const PRESET_PARAMS = {
  refreshTokenExpireSeconds: z.nullish(int({ min: 0, max: MAX_REFRESH_SECONDS }, `an integer from 0 to ${MAX_REFRESH_SECONDS} (seconds, as REFRESH_TOKEN_EXPIRE_SECONDS)`)),
  dotVersion: z.nullish(
    z.string(DOT_VERSION_EXPECTED).check(
      z.trim(),
      // The shape only, as runs in progress were parsed (workflow code replays this); which releases were read is
      // the preset's check, before anything runs (src/purge/presets/oauth-toolkit.ts: 3.4 and 3.5 are refused there).
      z.regex(/^[123]\.\d{1,3}(\.\d{1,3})?$/, DOT_VERSION_EXPECTED),
      // 1.0 cleared access tokens only with a refresh lifespan and never revoked refresh tokens: not reproduced.
      z.refine((v: string) => !/^1\.0(\.|$)/.test(v), { error: `{value} is not supported; the preset reproduces cleartokens of 1.1 to ${NEWEST_DOT_RELEASE}` }),
    ),
  ),
  refreshTokenGracePeriodSeconds: z.nullish(int({ min: 0, max: MAX_REFRESH_SECONDS }, `an integer from 0 to ${MAX_REFRESH_SECONDS} (seconds, as REFRESH_TOKEN_GRACE_PERIOD_SECONDS)`)),
  refreshTokenReuseProtection: z.nullish(bool),
  // Shape only here (workflow code parses it too); the simplejwt preset checks the zone exists (src/purge/presets/simplejwt.ts).
  djangoTimeZone: z.nullish(z.string(TIME_ZONE_EXPECTED).check(z.trim(), z.regex(/^(UTC|[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9][A-Za-z0-9_+-]*){1,2})$/, TIME_ZONE_EXPECTED))),
  userTable: z.nullish(z.string(USER_TABLE_EXPECTED).check(z.regex(SQL_IDENTIFIER, USER_TABLE_EXPECTED))),
};

const typeNames = { error: '{value} is not allowed; expected a comma-separated list of type names' };

/** Token types and the like: a list, or comma-separated text (as `--types` gives it); duplicates dropped. */
const nameList = z.pipe(
  z.transform((v: unknown) => (typeof v === 'string' ? v.split(',') : v)),
  z.pipe(
    z.array(z.string(typeNames).check(z.trim(), z.minLength(1, typeNames)), typeNames),
    z.transform((l: string[]) => [...new Set(l)]),
  ),
);

const PURGE_PARAMS = paramsSchema({
  batchSize: z.nullish(int(BATCH_SIZE)),
  dryRun: z.nullish(bool),
  asOf: z.nullish(isoTime),
  batchTimeoutSeconds: z.nullish(int(BATCH_TIMEOUT_SECONDS)),
  batchesPerRun: z.nullish(int(BATCHES_PER_RUN)),
  days: z.nullish(int(DAYS)),
  types: z.nullish(nameList),
  targetBatchMs: z.nullish(int(TARGET_BATCH_MS)),
  parallel: z.nullish(int(PARALLEL)),
  vacuum: z.nullish(bool),
  ...BUDGET_PARAMS,
  maxRows: z.nullish(int(MAX_ROWS)),
  maxDurationSeconds: z.nullish(durationSeconds),
  maxFraction: z.nullish(fraction),
  ...PRESET_PARAMS,
});

/**
 * The parameters given, checked and normalised (numbers as numbers), without defaults: what a start sends, so the
 * worker's defaults (a custom rule's batch size) still apply.
 */
export function givenPurgeParams(raw: unknown, now: Date = new Date()): Partial<Omit<PurgeParams, 'asOf'>> & { asOf?: string } {
  const p = given(parseParams(PURGE_PARAMS, raw));
  // Only ISO 8601 (Date's own parser reads "March 7" as some March 7th of 2001), and not in the future: a
  // reference time in the future would delete rows that are still valid.
  const asOf = p.asOf !== undefined ? parseIso8601(p.asOf)! : undefined;
  if (asOf && asOf.getTime() > now.getTime() + 1000) throw new InputError('asOf', `${p.asOf} is in the future; allowed: now or earlier`);
  return p;
}

/**
 * Validates the parameters of a purge run, wherever they come from (our CLI, `temporal workflow start`,
 * a schedule). Unknown fields are rejected rather than ignored: a typo must not silently run with defaults.
 */
export function parsePurgeParams(raw: unknown, now: Date = new Date()): PurgeParams {
  const p = givenPurgeParams(raw, now);
  const asOf = p.asOf !== undefined ? parseIso8601(p.asOf)! : undefined;
  return {
    batchSize: p.batchSize ?? BATCH_SIZE.default,
    dryRun: p.dryRun ?? false,
    ...(asOf ? { asOf: asOf.toISOString() } : {}),
    batchTimeoutSeconds: p.batchTimeoutSeconds ?? BATCH_TIMEOUT_SECONDS.default,
    batchesPerRun: p.batchesPerRun ?? BATCHES_PER_RUN.default,
    ...(p.days !== undefined ? { days: p.days } : {}),
    ...(p.types !== undefined ? { types: p.types } : {}),
    ...(p.refreshTokenExpireSeconds !== undefined ? { refreshTokenExpireSeconds: p.refreshTokenExpireSeconds } : {}),
    ...(p.dotVersion !== undefined ? { dotVersion: p.dotVersion } : {}),
    ...(p.refreshTokenGracePeriodSeconds !== undefined ? { refreshTokenGracePeriodSeconds: p.refreshTokenGracePeriodSeconds } : {}),
    ...(p.refreshTokenReuseProtection !== undefined ? { refreshTokenReuseProtection: p.refreshTokenReuseProtection } : {}),
    ...(p.djangoTimeZone !== undefined ? { djangoTimeZone: p.djangoTimeZone } : {}),
    ...(p.userTable !== undefined ? { userTable: p.userTable } : {}),
    ...(p.parallel !== undefined ? { parallel: p.parallel } : {}),
    ...(p.vacuum ? { vacuum: true } : {}),
    ...(p.budget !== undefined ? { budget: p.budget } : {}),
    ...Object.fromEntries(KNOB_NAMES.filter((k) => p[k] !== undefined).map((k) => [k, p[k]])),
    ...(p.maxRows !== undefined ? { maxRows: p.maxRows } : {}),
    ...(p.maxDurationSeconds !== undefined ? { maxDurationSeconds: p.maxDurationSeconds } : {}),
    ...(p.maxFraction !== undefined ? { maxFraction: p.maxFraction } : {}),
    // An explicit batch size is used as is; otherwise the size adapts to the target duration.
    targetBatchMs: p.targetBatchMs ?? (p.batchSize === undefined ? BATCH_TARGET_MS[p.budget ?? DEFAULT_BUDGET] : 0),
  };
}
