import { readFileSync } from 'node:fs';
import { InputError } from '../kernel/errors.js';
import { int, parseField } from '../kernel/validate.js';
import { NAME, OIDC_RANGES, parseRefreshParams, type OidcSettings, type RefreshParams } from './params.js';

export { OIDC_RANGES, parseRefreshParams, type RefreshParams };

export interface OidcProviderConfig {
  name: string;
  jwksUri: string;
}


export interface OidcConfig extends OidcSettings {
  providers: OidcProviderConfig[];
}


export const OIDC_DEFAULTS: OidcSettings = { timeoutMs: 10_000, attempts: 4, retryInitialMs: 1_000 };

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** A JWKS URI: https, or plain http only to this machine (local test servers, sidecars). */
export function parseJwksUri(value: unknown, field: string): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new InputError(field, `${JSON.stringify(value)} is not a URL; expected https://host/path`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new InputError(field, `${url.protocol}// is not allowed; expected https:// (http:// only for localhost)`);
  }
  return url.toString();
}

/** Validates a provider list: `[{"name": "google", "jwksUri": "https://www.googleapis.com/oauth2/v3/certs"}]`. */
export function parseProviders(raw: unknown, field: string): OidcProviderConfig[] {
  if (!Array.isArray(raw)) throw new InputError(field, 'must be a JSON array of {"name": ..., "jwksUri": ...}');
  const seen = new Set<string>();
  return raw.map((p, i) => {
    if (!p || typeof p !== 'object' || Array.isArray(p)) throw new InputError(`${field}[${i}]`, 'must be an object with name and jwksUri');
    const entry = p as Record<string, unknown>;
    for (const key of Object.keys(entry)) {
      if (key !== 'name' && key !== 'jwksUri') throw new InputError(`${field}[${i}].${key}`, 'unknown field; allowed: name, jwksUri');
    }
    if (typeof entry.name !== 'string' || !NAME.test(entry.name)) {
      throw new InputError(`${field}[${i}].name`, `${JSON.stringify(entry.name)} is not allowed; expected 1-100 letters, digits, ".", "_", "-"`);
    }
    if (seen.has(entry.name)) throw new InputError(`${field}[${i}].name`, `"${entry.name}" appears twice`);
    seen.add(entry.name);
    return { name: entry.name, jwksUri: parseJwksUri(entry.jwksUri, `${field}[${i}].jwksUri`) };
  });
}

/** OIDC_PROVIDERS (JSON) or OIDC_PROVIDERS_FILE (a JSON file of the same shape), and the fetch settings. */
export function loadOidcConfig(env: NodeJS.ProcessEnv = process.env): OidcConfig {
  let providers: OidcProviderConfig[] = [];
  if (env.OIDC_PROVIDERS && env.OIDC_PROVIDERS_FILE) throw new InputError('OIDC_PROVIDERS', 'set either OIDC_PROVIDERS or OIDC_PROVIDERS_FILE, not both');
  const [field, text] = env.OIDC_PROVIDERS_FILE ? ['OIDC_PROVIDERS_FILE', readProvidersFile(env.OIDC_PROVIDERS_FILE)] : ['OIDC_PROVIDERS', env.OIDC_PROVIDERS];
  if (text && text.trim()) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new InputError(field, 'is not JSON; expected [{"name": "...", "jwksUri": "https://..."}]');
    }
    providers = parseProviders(raw, field);
  }
  return {
    providers,
    timeoutMs: parseField('OIDC_FETCH_TIMEOUT_MS', int(OIDC_RANGES.timeoutMs), env.OIDC_FETCH_TIMEOUT_MS || undefined, OIDC_DEFAULTS.timeoutMs),
    attempts: parseField('OIDC_FETCH_ATTEMPTS', int(OIDC_RANGES.attempts), env.OIDC_FETCH_ATTEMPTS || undefined, OIDC_DEFAULTS.attempts),
    retryInitialMs: parseField('OIDC_RETRY_INITIAL_MS', int(OIDC_RANGES.retryInitialMs), env.OIDC_RETRY_INITIAL_MS || undefined, OIDC_DEFAULTS.retryInitialMs),
  };
}

function readProvidersFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError('OIDC_PROVIDERS_FILE', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
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
