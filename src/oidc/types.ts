/** Shapes of the OIDC JWKS refresh. Imported by workflow code: types only. */

export interface ProviderPlan {
  name: string;
  jwksUri: string;
  /** A last good copy existed when the run started. */
  hasLastGood: boolean;
}

export interface ResolvedRefresh {
  providers: ProviderPlan[];
  timeoutMs: number;
  attempts: number;
  retryInitialMs: number;
}

export interface ProviderRefresh {
  name: string;
  status: 'updated' | 'not-modified' | 'failed';
  /** Keys in the cached copy after this run. */
  keys: number;
  error: string | null;
  /** The cached copy was kept (not modified, or the fetch failed and there was one). */
  lastGoodKept: boolean;
}

export interface RefreshResult {
  providers: ProviderRefresh[];
  failed: string[];
}
