import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { type RefreshParams, parseRefreshInput } from '../src/oidc/params.js';
import type { ProviderRefresh, RefreshResult } from '../src/oidc/types.js';
import { short, errorMessage, acceptInput, runJob } from './job-run.js';

export interface RefreshJwksInput {
  params?: RefreshParams;
  trigger?: string;
}

/**
 * Refreshes the cached JWKS of every configured OIDC provider, in parallel. Each provider is one activity whose
 * attempts are bounded by a timeout and retried with exponential backoff; a provider that fails for good keeps
 * its last good copy and is reported, and does not hold the others back.
 */
export async function refreshOidcJwks(raw: RefreshJwksInput): Promise<RefreshResult> {
  const input = await acceptInput('refresh-jwks', raw, parseRefreshInput);
  return runJob({ job: 'refresh-jwks', parameters: { ...input.params }, trigger: input.trigger }, async () => {
    const plan = await short.resolveOidcRefresh({ params: input.params });
    const fetches = proxyActivities<Activities>({
      // The fetch bounds itself; this only catches a worker that died mid-attempt.
      startToCloseTimeout: plan.timeoutMs + 10_000,
      retry: { initialInterval: plan.retryInitialMs, backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: plan.attempts },
    });
    const providers = await Promise.all(
      plan.providers.map(
        (p): Promise<ProviderRefresh> =>
          fetches.fetchProviderJwks({ name: p.name, jwksUri: p.jwksUri, timeoutMs: plan.timeoutMs }).catch((err: unknown) => ({
            name: p.name,
            status: 'failed',
            keys: 0,
            error: errorMessage(err),
            lastGoodKept: p.hasLastGood,
          })),
      ),
    );
    const failed = providers.filter((p) => p.status === 'failed').map((p) => p.name);
    const count = (s: ProviderRefresh['status']) => providers.filter((p) => p.status === s).length;
    return {
      result: { providers, failed },
      matched: providers.length,
      deleted: 0,
      counts: { updated: count('updated'), notModified: count('not-modified'), failed: failed.length },
      problem: failed.length ? `failed providers: ${failed.join(', ')}` : null,
    };
  });
}
