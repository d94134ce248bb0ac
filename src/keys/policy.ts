import * as z from 'zod/mini';
import { InputError } from '../kernel/errors.js';
import { DAY_SECONDS } from '../kernel/time.js';
import { bool, given, int, oneOf, paramsSchema, parseParams, type IntRange } from '../kernel/validate.js';
import { KEY_ALGS, type CleanupParams, type KeyPolicy, type RotationParams } from './types.js';

const DAY = DAY_SECONDS;
const YEAR = 365 * DAY;

/** Allowed ranges of every duration and limit, in seconds (parameters) and days (env vars). */
export const RANGES = {
  jwksCacheSeconds: { min: 0, max: 7 * DAY },
  maxTokenLifetimeSeconds: { min: 0, max: YEAR },
  rotateAfterSeconds: { min: 1, max: 10 * YEAR },
  retentionSeconds: { min: 0, max: 10 * YEAR },
  maxActiveKeys: { min: 2, max: 20 },
  stepTimeoutSeconds: { min: 1, max: 3_600 },
  rotateAfterDays: { min: 1, max: 3_650 },
  retentionDays: { min: 0, max: 3_650 },
} satisfies Record<string, IntRange>;

export const DEFAULT_POLICY: KeyPolicy = {
  alg: 'RS256',
  jwksCacheSeconds: 3_600,
  // simplejwt's default refresh-token lifetime; outstanding refresh tokens are also checked by their kid.
  maxTokenLifetimeSeconds: DAY,
  rotateAfterSeconds: 30 * DAY,
  retentionSeconds: 180 * DAY,
  maxActiveKeys: 3,
  stepTimeoutSeconds: 60,
};

const ROTATION_PARAMS = paramsSchema({
  alg: z.nullish(oneOf(KEY_ALGS)),
  force: z.nullish(bool),
  standby: z.nullish(bool),
  jwksCacheSeconds: z.nullish(int(RANGES.jwksCacheSeconds)),
  maxTokenLifetimeSeconds: z.nullish(int(RANGES.maxTokenLifetimeSeconds)),
  rotateAfterSeconds: z.nullish(int(RANGES.rotateAfterSeconds)),
  retentionSeconds: z.nullish(int(RANGES.retentionSeconds)),
  maxActiveKeys: z.nullish(int(RANGES.maxActiveKeys)),
  stepTimeoutSeconds: z.nullish(int(RANGES.stepTimeoutSeconds)),
});

/** Validates rotation parameters (from our CLI, `temporal workflow start` or a schedule) without defaults. */
export function parseRotationParams(raw: unknown): RotationParams {
  return given(parseParams(ROTATION_PARAMS, raw));
}

/** Parameters over the deployment's defaults: the policy a rotation runs with (recorded in its history). */
export function resolvePolicy(params: RotationParams, defaults: KeyPolicy): KeyPolicy & { force: boolean } {
  const p = parseRotationParams(params);
  const { force, standby: _standby, ...rest } = p; // standby is the workflow's to act on, not a policy
  return { ...defaults, ...rest, force: force ?? false };
}

export const CLEANUP_PARAMS = paramsSchema({ dryRun: z.nullish(bool), retentionSeconds: z.nullish(int(RANGES.retentionSeconds)) });

export function parseCleanupParams(raw: unknown): CleanupParams {
  const { dryRun, ...rest } = given(parseParams(CLEANUP_PARAMS, raw));
  return { dryRun: dryRun ?? false, ...rest };
}

/** MAINT_KEK: base64 (or base64url) of exactly 32 random bytes. The value itself never appears in an error. */
export function parseKek(value: string, field = 'MAINT_KEK'): Buffer {
  const text = value.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) throw new InputError(field, 'is not base64; expected base64 of 32 random bytes (e.g. `openssl rand -base64 32`)');
  const kek = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (kek.length !== 32) throw new InputError(field, `decodes to ${kek.length} bytes; expected exactly 32 (e.g. \`openssl rand -base64 32\`)`);
  return kek;
}
