/**
 * Shared shapes of jobs, rules and purge runs. Imported by workflow code, so this file holds types and
 * pure data only.
 */

/** Rows of `table` that reference the parent through `foreignKey`; deleted with (before) their parent. */
export interface ChildRule {
  table: string;
  foreignKey: string;
  /** Parent column the foreign key points at; the parent's primary key when omitted. */
  references?: string;
  /** Primary key of this table; needed only when it has children of its own. */
  primaryKey?: string;
  children?: ChildRule[];
}

/** A retention rule: which rows of which table a purge deletes, and which dependent rows go with them. */
export interface RetentionRule {
  table: string;
  primaryKey: string;
  /** Rows whose timestamp is strictly older than the cutoff match. */
  timestampColumn: string;
  /** cutoff = the run's reference time minus this many milliseconds (0: "already expired"). */
  retentionMs: number;
  children: ChildRule[];
}

export interface PurgeParams {
  batchSize: number;
  dryRun: boolean;
  /** Reference time of the run (ISO 8601); the workflow's start time when omitted. */
  asOf?: string;
  /** Start-to-close timeout of one batch activity. */
  batchTimeoutSeconds: number;
  /** Batches per workflow run before continue-as-new keeps the history small. */
  batchesPerRun: number;
}

export interface PurgeInput {
  job: string;
  params?: Partial<PurgeParams>;
  /** Who or what started the run: "cli", "schedule:<id>", ... */
  trigger?: string;
  /** Carried over by continue-as-new; never set by callers. */
  carried?: CarriedState;
}

export interface ResolvedJob {
  job: string;
  rule: RetentionRule;
  params: PurgeParams;
}

export interface CarriedState {
  resolved: ResolvedJob;
  trigger: string;
  cutoff: string;
  startedAtMs: number;
  nextBatchNo: number;
  deleted: number;
  children: Record<string, number>;
  matched: number | null;
}

export interface BatchResult {
  deleted: number;
  children: Record<string, number>;
  durationMs: number;
  /** True when the ledger already held this batch: an earlier attempt committed it. */
  fromLedger: boolean;
}

export interface MatchCount {
  matched: number;
  children: Record<string, number>;
}

export type RunStatus = 'running' | 'completed' | 'cancelled' | 'failed';

export interface Progress {
  job: string;
  dryRun: boolean;
  phase: 'starting' | 'counting' | 'deleting' | 'finishing' | 'done';
  cutoff: string | null;
  matched: number | null;
  deleted: number;
  children: Record<string, number>;
  batches: number;
}

export interface PurgeResult {
  runId: string;
  job: string;
  status: RunStatus;
  dryRun: boolean;
  cutoff: string;
  matched: number | null;
  deleted: number;
  children: Record<string, number>;
  batches: number;
  durationMs: number;
  rowsPerSecond: number | null;
}

export interface RunSummary {
  deleted: number;
  children: Record<string, number>;
  batches: number;
}
