/** Shapes of the health report. Imported by workflow code: types only. */
import type { AutovacuumVerdict } from '../purge/aftermath.js';
import type { PurgeRates } from './purge-rates.js';

/** A purge job as the report sees it: what its latest run left behind, and whether it falls behind. */
export interface PurgeHealth {
  job: string;
  /** Its latest real run that recorded an aftermath. */
  lastRun: {
    runId: string;
    finishedAt: string | null;
    walBytes: number | null;
    tables: Array<{ table: string; deadTuples: number; threshold: number; verdict: AutovacuumVerdict }>;
    advice: string[];
  } | null;
  rates: PurgeRates | null;
}

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
  /** Absent from reports gathered before purges recorded their aftermath. */
  purges?: PurgeHealth[];
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
