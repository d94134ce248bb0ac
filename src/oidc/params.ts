import * as z from 'zod/mini';
import { given, int, LABEL, paramsSchema, parseJobInput, parseParams } from '../kernel/validate.js';

/** Pure checks of the JWKS refresh's parameters (workflow code uses them too). */

/** The fetch settings a run may override (the worker's configuration gives the defaults). */
export interface OidcSettings {
  timeoutMs: number;
  attempts: number;
  retryInitialMs: number;
}

export interface RefreshParams extends Partial<OidcSettings> {
  /** Only these providers (by name); all configured ones when omitted. */
  providers?: string[];
}


export const OIDC_RANGES = {
  timeoutMs: { min: 100, max: 120_000 },
  attempts: { min: 1, max: 20 },
  retryInitialMs: { min: 100, max: 600_000 },
};

const names = { error: 'must be a list of provider names' };

const REFRESH_PARAMS = paramsSchema({
  providers: z.optional(z.array(z.string(names).check(z.regex(LABEL, names)), names)),
  timeoutMs: z.nullish(int(OIDC_RANGES.timeoutMs)),
  attempts: z.nullish(int(OIDC_RANGES.attempts)),
  retryInitialMs: z.nullish(int(OIDC_RANGES.retryInitialMs)),
});

export function parseRefreshParams(raw: unknown): RefreshParams {
  return given(parseParams(REFRESH_PARAMS, raw));
}


/** The JWKS refresh's input, parsed at its first step. */
export const parseRefreshInput = (raw: unknown) => parseJobInput<RefreshParams>('refreshOidcJwks', raw, parseRefreshParams);
