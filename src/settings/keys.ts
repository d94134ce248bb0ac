import { Problems } from '../kernel/errors.js';
import { DAY_SECONDS } from '../kernel/time.js';
import { int, oneOf, parseField } from '../kernel/validate.js';
import { DEFAULT_POLICY, parseKek, RANGES } from '../keys/policy.js';
import { KEY_ALGS, type KeyPolicy } from '../keys/types.js';
import { variable, type VariableName } from './variables.js';

/** The lifecycle defaults of this deployment's signing keys (KEY_*, JWKS_CACHE_SECONDS, MAX_*); every mistake is recorded in `problems`. */
export function loadKeyPolicy(env: NodeJS.ProcessEnv, problems?: Problems): KeyPolicy {
  const found = problems ?? new Problems();
  const setting = (name: VariableName, range: { min: number; max: number }, fallback: number, unit = 1) =>
    found.take(() => {
      const value = parseField(name, int(range), variable(env, name));
      return value === undefined ? fallback : value * unit;
    }, fallback);
  const policy: KeyPolicy = {
    alg: found.take(() => parseField('KEY_ALG', oneOf(KEY_ALGS), variable(env, 'KEY_ALG'), DEFAULT_POLICY.alg), DEFAULT_POLICY.alg),
    jwksCacheSeconds: setting('JWKS_CACHE_SECONDS', RANGES.jwksCacheSeconds, DEFAULT_POLICY.jwksCacheSeconds),
    maxTokenLifetimeSeconds: setting('MAX_TOKEN_LIFETIME_SECONDS', RANGES.maxTokenLifetimeSeconds, DEFAULT_POLICY.maxTokenLifetimeSeconds),
    rotateAfterSeconds: setting('KEY_ROTATE_AFTER_DAYS', RANGES.rotateAfterDays, DEFAULT_POLICY.rotateAfterSeconds, DAY_SECONDS),
    retentionSeconds: setting('KEY_RETENTION_DAYS', RANGES.retentionDays, DEFAULT_POLICY.retentionSeconds, DAY_SECONDS),
    maxActiveKeys: setting('MAX_ACTIVE_KEYS', RANGES.maxActiveKeys, DEFAULT_POLICY.maxActiveKeys),
    stepTimeoutSeconds: DEFAULT_POLICY.stepTimeoutSeconds,
  };
  if (!problems) found.throwIfAny();
  return policy;
}

/** MAINT_KEK, when set: the key-encryption key of private signing keys (never in an error or a log). */
export function loadKek(env: NodeJS.ProcessEnv): Buffer | undefined {
  const value = variable(env, 'MAINT_KEK');
  return value === undefined ? undefined : parseKek(value);
}
