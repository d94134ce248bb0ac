import type { KeysRuntime } from '../../activities/keys.js';
import type { Orm } from '../db/orm.js';
import { dbFromOrm } from '../db/orm.js';
import { parsePort } from '../settings/environment.js';
import { loadOrCreateLocalKek } from '../local/kek.js';
import type { Logger } from '../logger.js';
import { loadOidcConfig, type OidcConfig } from '../oidc/providers.js';
import { loadKeyPolicy, parseKek } from './policy.js';
import { startJwksServer, type JwksServer } from './server.js';

/**
 * The key settings a worker runs with: MAINT_KEK when set; otherwise, for the local environment only, a KEK
 * generated into the data dir. An external worker without MAINT_KEK runs, and its rotations fail saying why.
 */
export async function loadKeysRuntime(env: NodeJS.ProcessEnv, opts: { dataDir: string; external: boolean }): Promise<KeysRuntime & { kekSource: string }> {
  const policy = loadKeyPolicy(env);
  if (env.MAINT_KEK) return { kek: parseKek(env.MAINT_KEK), policy, kekSource: 'MAINT_KEK' };
  if (opts.external) return { policy, kekSource: 'none (MAINT_KEK is not set: key rotation will fail)' };
  return { kek: await loadOrCreateLocalKek(opts.dataDir), policy, kekSource: `${opts.dataDir}/kek` };
}

export interface WorkerExtras {
  keys: KeysRuntime & { kekSource: string };
  oidc: OidcConfig;
  /** JWKS_PORT: serve the JWKS from the worker process too. */
  jwksPort?: number;
}

/** Everything the key, OIDC and JWKS features read from the environment, validated before anything starts. */
export async function loadWorkerExtras(env: NodeJS.ProcessEnv, opts: { dataDir: string; external: boolean }): Promise<WorkerExtras> {
  const oidc = loadOidcConfig(env);
  const jwksPort = env.JWKS_PORT ? parsePort(env.JWKS_PORT, 'JWKS_PORT', 0) : undefined;
  return { keys: await loadKeysRuntime(env, opts), oidc, ...(jwksPort ? { jwksPort } : {}) };
}

export async function serveJwksIfAsked(orm: Orm, extras: WorkerExtras, logger: Logger): Promise<JwksServer | undefined> {
  if (!extras.jwksPort) return undefined;
  return startJwksServer({ db: dbFromOrm(orm), port: extras.jwksPort, host: process.env.JWKS_HOST || '127.0.0.1', cacheSeconds: extras.keys.policy.jwksCacheSeconds, logger });
}
