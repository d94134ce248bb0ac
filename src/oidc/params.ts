import * as z from 'zod/mini';
import { given, int, paramsSchema, parseParams } from '../kernel/validate.js';
import type { RefreshParams } from './providers.js';

/** Pure checks of the JWKS refresh's parameters (workflow code uses them too). */

export const OIDC_RANGES = {
  timeoutMs: { min: 100, max: 120_000 },
  attempts: { min: 1, max: 20 },
  retryInitialMs: { min: 100, max: 600_000 },
};

/** A provider's name. */
export const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

const names = { error: 'must be a list of provider names' };

const REFRESH_PARAMS = paramsSchema({
  providers: z.optional(z.array(z.string(names).check(z.regex(NAME, names)), names)),
  timeoutMs: z.nullish(int(OIDC_RANGES.timeoutMs)),
  attempts: z.nullish(int(OIDC_RANGES.attempts)),
  retryInitialMs: z.nullish(int(OIDC_RANGES.retryInitialMs)),
});

export function parseRefreshParams(raw: unknown): RefreshParams {
  return given(parseParams(REFRESH_PARAMS, raw));
}

