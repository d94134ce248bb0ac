/** Shapes of the health report. Imported by workflow code: types only. */

export interface HealthStats {
  generatedAt: string;
  tokens: { total: number; active: number; expired: number; revoked: number };
  keys: {
    active: number;
    published: number;
    retired: number;
    inactive: number;
    activeKid: string | null;
    activeAlg: string | null;
    activeSince: string | null;
    activeAgeSeconds: number | null;
  };
  last24h: {
    tokensCreated: number;
    tokensRevoked: number;
    keysActivated: number;
    runs: Record<string, number>;
    failedJobs: string[];
  };
  scopes: { missing: string[] };
  oidc: { providers: number; failing: string[] };
}

export type HealthStatus = 'ok' | 'warning' | 'critical';

export interface HealthReport {
  status: HealthStatus;
  reasons: string[];
  recommendations: string[];
  stats: HealthStats;
}

export interface HealthThresholds {
  rotateAfterSeconds: number;
  maxActiveKeys: number;
}
