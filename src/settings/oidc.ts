import { readFileSync } from 'node:fs';
import { InputError, Problems } from '../kernel/errors.js';
import { int, parseField } from '../kernel/validate.js';
import { OIDC_RANGES } from '../oidc/params.js';
import { OIDC_DEFAULTS, parseProviders, type OidcConfig, type OidcProviderConfig } from '../oidc/providers.js';
import { variable, type VariableName } from './variables.js';

/** The providers of OIDC_PROVIDERS (JSON) or OIDC_PROVIDERS_FILE (a JSON file of the same shape). */
function providersOf(env: NodeJS.ProcessEnv): OidcProviderConfig[] {
  const inline = variable(env, 'OIDC_PROVIDERS');
  const file = variable(env, 'OIDC_PROVIDERS_FILE');
  if (inline && file) throw new InputError('OIDC_PROVIDERS', 'set either OIDC_PROVIDERS or OIDC_PROVIDERS_FILE, not both');
  const [field, text] = file ? ['OIDC_PROVIDERS_FILE', readProvidersFile(file)] : ['OIDC_PROVIDERS', inline];
  if (!text?.trim()) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new InputError(field, 'is not JSON; expected [{"name": "...", "jwksUri": "https://..."}]');
  }
  return parseProviders(raw, field);
}

function readProvidersFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError('OIDC_PROVIDERS_FILE', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** The OIDC providers whose JWKS the worker refreshes, and the fetch settings; every mistake is recorded in `problems`. */
export function loadOidcConfig(env: NodeJS.ProcessEnv, problems?: Problems): OidcConfig {
  const found = problems ?? new Problems();
  const setting = (name: VariableName, range: { min: number; max: number }, fallback: number) =>
    found.take(() => parseField(name, int(range), variable(env, name), fallback), fallback);
  const config = {
    providers: found.take(() => providersOf(env), []),
    timeoutMs: setting('OIDC_FETCH_TIMEOUT_MS', OIDC_RANGES.timeoutMs, OIDC_DEFAULTS.timeoutMs),
    attempts: setting('OIDC_FETCH_ATTEMPTS', OIDC_RANGES.attempts, OIDC_DEFAULTS.attempts),
    retryInitialMs: setting('OIDC_RETRY_INITIAL_MS', OIDC_RANGES.retryInitialMs, OIDC_DEFAULTS.retryInitialMs),
  };
  if (!problems) found.throwIfAny();
  return config;
}
