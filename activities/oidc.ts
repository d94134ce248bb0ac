import { ApplicationFailure } from '@temporalio/activity';
import { type Orm, dbFromOrm } from '../src/orm/index.js';
import type { Logger } from '../src/logger.js';
import { OIDC_DEFAULTS, resolveRefresh, type OidcConfig } from '../src/oidc/providers.js';
import { type RefreshParams } from '../src/oidc/params.js';
import { fetchJwks, JwksFetchError } from '../src/oidc/fetch.js';
import type { ProviderPlan, ProviderRefresh, ResolvedRefresh } from '../src/oidc/types.js';
import { checked } from '../src/temporal/failures.js';

export interface OidcActivityDeps {
  orm: Orm;
  logger: Logger;
  oidc?: OidcConfig;
}

export function createOidcActivities({ orm, logger, oidc }: OidcActivityDeps) {
  const db = dbFromOrm(orm);
  const log = logger.child({ component: 'oidc-jwks' });
  const config: OidcConfig = oidc ?? { providers: [], ...OIDC_DEFAULTS };

  return {
    /**
     * The providers to refresh (the worker's configuration, narrowed by the parameters) with the settings to use;
     * their rows are created or re-pointed so the cache follows the configuration.
     */
    async resolveOidcRefresh(input: { params?: RefreshParams }): Promise<ResolvedRefresh> {
      const resolved = checked(() => resolveRefresh(input.params ?? {}, config));
      const providers: ProviderPlan[] = [];
      for (const p of resolved.providers) {
        // A changed URI invalidates the validator of the old one.
        const [row] = await db.query<{ has_good: boolean }>(
          `INSERT INTO oidc_provider (name, jwks_uri) VALUES (?, ?)
           ON CONFLICT (name) DO UPDATE SET jwks_uri = excluded.jwks_uri,
             etag = CASE WHEN oidc_provider.jwks_uri = excluded.jwks_uri THEN oidc_provider.etag END
           RETURNING last_good_jwks IS NOT NULL AS has_good`,
          [p.name, p.jwksUri],
        );
        providers.push({ ...p, hasLastGood: Boolean(row?.has_good) });
      }
      return { providers, timeoutMs: resolved.timeoutMs, attempts: resolved.attempts, retryInitialMs: resolved.retryInitialMs };
    },

    /**
     * One attempt at one provider's JWKS: a conditional GET; a valid answer replaces the cached copy, a 304 keeps it,
     * anything else keeps it too and is recorded as the provider's last error before the retry policy decides.
     */
    async fetchProviderJwks(input: { name: string; jwksUri: string; timeoutMs: number }): Promise<ProviderRefresh> {
      const [row] = await db.query<{ etag: string | null; keys: number | null }>(
        `SELECT etag, jsonb_array_length(last_good_jwks->'keys') AS keys FROM oidc_provider WHERE name = ?`,
        [input.name],
      );
      // Without a cached copy a 304 would leave nothing to serve: only ask conditionally when there is one.
      const etag = row?.keys ? row.etag : null;
      try {
        const outcome = await fetchJwks(input.jwksUri, { etag, timeoutMs: input.timeoutMs });
        if (outcome.status === 'not-modified') {
          await db.query(`UPDATE oidc_provider SET last_fetched_at = now(), last_success_at = now(), last_error = NULL WHERE name = ?`, [input.name]);
          log.info({ provider: input.name, keys: row?.keys ?? 0 }, 'JWKS not modified');
          return { name: input.name, status: 'not-modified', keys: Number(row?.keys ?? 0), error: null, lastGoodKept: true };
        }
        await db.query(
          `UPDATE oidc_provider SET last_good_jwks = ?::jsonb, etag = ?, last_fetched_at = now(), last_success_at = now(), last_error = NULL WHERE name = ?`,
          [JSON.stringify(outcome.jwks), outcome.etag, input.name],
        );
        log.info({ provider: input.name, keys: outcome.jwks.keys.length, etag: outcome.etag }, 'JWKS refreshed');
        return { name: input.name, status: 'updated', keys: outcome.jwks.keys.length, error: null, lastGoodKept: false };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        await db.query(`UPDATE oidc_provider SET last_fetched_at = now(), last_error = ? WHERE name = ?`, [message, input.name]);
        log.warn({ provider: input.name, error: message }, 'JWKS refresh attempt failed; the last good copy is kept');
        if (err instanceof JwksFetchError) {
          const type = `JwksFetch_${err.kind}`;
          throw err.retryable ? ApplicationFailure.retryable(message, type) : ApplicationFailure.nonRetryable(message, type);
        }
        throw err;
      }
    },
  };
}
