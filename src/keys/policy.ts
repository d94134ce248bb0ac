import { InputError } from '../errors.js';
import { boolField, enumField, intField, paramsObject, type IntRange } from '../validate.js';
import { KEY_ALGS, type CleanupParams, type KeyPolicy, type RotationParams } from './types.js';

const DAY = 86_400;
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

/** The lifecycle defaults of this deployment, from its environment (see the README's configuration table). */
export function loadKeyPolicy(env: NodeJS.ProcessEnv = process.env): KeyPolicy {
  const rotateAfterDays = intField('KEY_ROTATE_AFTER_DAYS', env.KEY_ROTATE_AFTER_DAYS, RANGES.rotateAfterDays);
  const retentionDays = intField('KEY_RETENTION_DAYS', env.KEY_RETENTION_DAYS, RANGES.retentionDays);
  return {
    alg: enumField('KEY_ALG', env.KEY_ALG, KEY_ALGS, DEFAULT_POLICY.alg),
    jwksCacheSeconds: intField('JWKS_CACHE_SECONDS', env.JWKS_CACHE_SECONDS, RANGES.jwksCacheSeconds, DEFAULT_POLICY.jwksCacheSeconds),
    maxTokenLifetimeSeconds: intField('MAX_TOKEN_LIFETIME_SECONDS', env.MAX_TOKEN_LIFETIME_SECONDS, RANGES.maxTokenLifetimeSeconds, DEFAULT_POLICY.maxTokenLifetimeSeconds),
    rotateAfterSeconds: rotateAfterDays !== undefined ? rotateAfterDays * DAY : DEFAULT_POLICY.rotateAfterSeconds,
    retentionSeconds: retentionDays !== undefined ? retentionDays * DAY : DEFAULT_POLICY.retentionSeconds,
    maxActiveKeys: intField('MAX_ACTIVE_KEYS', env.MAX_ACTIVE_KEYS, RANGES.maxActiveKeys, DEFAULT_POLICY.maxActiveKeys),
    stepTimeoutSeconds: DEFAULT_POLICY.stepTimeoutSeconds,
  };
}

const ROTATION_KEYS = ['alg', 'force', 'jwksCacheSeconds', 'maxTokenLifetimeSeconds', 'rotateAfterSeconds', 'retentionSeconds', 'maxActiveKeys', 'stepTimeoutSeconds'] as const;

/** Validates rotation parameters (from our CLI, `temporal workflow start` or a schedule) without defaults. */
export function parseRotationParams(raw: unknown): RotationParams {
  const input = paramsObject(raw, ROTATION_KEYS);
  const out: RotationParams = {};
  if (input.alg !== undefined) out.alg = enumField('alg', input.alg, KEY_ALGS, DEFAULT_POLICY.alg);
  if (input.force !== undefined) out.force = boolField('force', input.force, false);
  for (const key of ['jwksCacheSeconds', 'maxTokenLifetimeSeconds', 'rotateAfterSeconds', 'retentionSeconds', 'maxActiveKeys', 'stepTimeoutSeconds'] as const) {
    const v = intField(key, input[key], RANGES[key]);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** Parameters over the deployment's defaults: the policy a rotation runs with (recorded in its history). */
export function resolvePolicy(params: RotationParams, defaults: KeyPolicy): KeyPolicy & { force: boolean } {
  const p = parseRotationParams(params);
  const { force, ...rest } = p;
  return { ...defaults, ...rest, force: force ?? false };
}

const CLEANUP_KEYS = ['dryRun', 'retentionSeconds'] as const;

export function parseCleanupParams(raw: unknown): CleanupParams {
  const input = paramsObject(raw, CLEANUP_KEYS);
  const retentionSeconds = intField('retentionSeconds', input.retentionSeconds, RANGES.retentionSeconds);
  return { dryRun: boolField('dryRun', input.dryRun, false), ...(retentionSeconds !== undefined ? { retentionSeconds } : {}) };
}

/** MAINT_KEK: base64 (or base64url) of exactly 32 random bytes. The value itself never appears in an error. */
export function parseKek(value: string, field = 'MAINT_KEK'): Buffer {
  const text = value.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) throw new InputError(field, 'is not base64; expected base64 of 32 random bytes (e.g. `openssl rand -base64 32`)');
  const kek = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (kek.length !== 32) throw new InputError(field, `decodes to ${kek.length} bytes; expected exactly 32 (e.g. \`openssl rand -base64 32\`)`);
  return kek;
}
