import * as z from 'zod/mini';
import { InputError } from '../kernel/errors.js';
import { configIssues, HTTPS_OR_LOOPBACK, httpsOrLoopback, LABEL, LABEL_EXPECTED, unknownAsField } from '../kernel/validate.js';
import { parseRefreshParams, type OidcSettings, type RefreshParams } from './params.js';

const NAME_EXPECTED = { error: `{value} is not allowed; expected ${LABEL_EXPECTED}` };

export interface OidcProviderConfig {
  name: string;
  jwksUri: string;
}

export interface OidcConfig extends OidcSettings {
  providers: OidcProviderConfig[];
}

export const OIDC_DEFAULTS: OidcSettings = { timeoutMs: 10_000, attempts: 4, retryInitialMs: 1_000 };

/** A JWKS URI: https, or plain http only to this machine (local test servers, sidecars). */
export function parseJwksUri(value: unknown, field: string): string {
  if (!URL.canParse(String(value))) throw new InputError(field, `${JSON.stringify(value)} is not a URL; expected https://host/path`);
  const url = new URL(String(value));
  if (!httpsOrLoopback(url)) throw new InputError(field, `${url.protocol}// is not allowed; ${HTTPS_OR_LOOPBACK}`);
  return url.toString();
}

const PROVIDERS = z.array(
  z.strictObject({
    name: z.string(NAME_EXPECTED).check(z.regex(LABEL, NAME_EXPECTED)),
    jwksUri: z.unknown(),
  }, 'must be an object with name and jwksUri'),
  { error: 'must be a JSON array of {"name": ..., "jwksUri": ...}' },
);

/** Validates a provider list: `[{"name": "google", "jwksUri": "https://www.googleapis.com/oauth2/v3/certs"}]`. */
export function parseProviders(raw: unknown, field: string): OidcProviderConfig[] {
  const { value, issues } = configIssues(PROVIDERS, raw, field, unknownAsField);
  if (issues.length) throw issues[0]!;
  const seen = new Set<string>();
  return value!.map((p, i) => {
    if (seen.has(p.name)) throw new InputError(`${field}[${i}].name`, `"${p.name}" appears twice`);
    seen.add(p.name);
    return { name: p.name, jwksUri: parseJwksUri(p.jwksUri, `${field}[${i}].jwksUri`) };
  });
}

/** Parameters over the configuration; unknown provider names are refused with the configured ones listed. */
export function resolveRefresh(params: RefreshParams, config: OidcConfig): OidcConfig {
  const p = parseRefreshParams(params);
  let providers = config.providers;
  if (p.providers) {
    const known = new Set(config.providers.map((c) => c.name));
    const unknown = p.providers.filter((n) => !known.has(n));
    if (unknown.length) {
      throw new InputError('providers', `unknown provider ${unknown.map((n) => `"${n}"`).join(', ')}; configured: ${[...known].join(', ') || '(none: set OIDC_PROVIDERS)'}`);
    }
    providers = config.providers.filter((c) => p.providers!.includes(c.name));
  }
  return {
    providers,
    timeoutMs: p.timeoutMs ?? config.timeoutMs,
    attempts: p.attempts ?? config.attempts,
    retryInitialMs: p.retryInitialMs ?? config.retryInitialMs,
  };
}
