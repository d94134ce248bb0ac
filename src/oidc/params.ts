import { InputError } from '../errors.js';
import { intField, paramsObject } from '../validate.js';
import type { RefreshParams } from './config.js';

/** Pure checks of the JWKS refresh's parameters (workflow code uses them too). */

export const OIDC_RANGES = {
  timeoutMs: { min: 100, max: 120_000 },
  attempts: { min: 1, max: 20 },
  retryInitialMs: { min: 100, max: 600_000 },
};

/** A provider's name. */
export const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

const REFRESH_KEYS = ['providers', 'timeoutMs', 'attempts', 'retryInitialMs'] as const;

export function parseRefreshParams(raw: unknown): RefreshParams {
  const input = paramsObject(raw, REFRESH_KEYS);
  const out: RefreshParams = {};
  if (input.providers !== undefined) {
    if (!Array.isArray(input.providers) || input.providers.some((p) => typeof p !== 'string' || !NAME.test(p))) {
      throw new InputError('providers', 'must be a list of provider names');
    }
    out.providers = input.providers as string[];
  }
  for (const key of ['timeoutMs', 'attempts', 'retryInitialMs'] as const) {
    const v = intField(key, input[key], OIDC_RANGES[key]);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

