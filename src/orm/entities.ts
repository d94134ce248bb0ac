import { EntitySchema } from '@mikro-orm/core';
import { appTable, ts } from './columns.js';
import { retentionEntities } from './retention-entities.js';
import { keyEntities } from './entities-keys.js';
import { notifyEntities } from './entities-notify.js';

/** A refresh token as djangorestframework-simplejwt's token_blacklist app records it. */
export interface OutstandingToken {
  id: string;
  jti: string;
  userId?: string | null;
  token: string;
  createdAt?: Date | null;
  expiresAt: Date;
}

export interface BlacklistedToken {
  id: string;
  token: OutstandingToken;
  blacklistedAt: Date;
}

/** One run of a job: the audit record operators read with `maint runs`. */
export interface MaintenanceRun {
  id: string;
  workflowId: string;
  job: string;
  parameters: Record<string, unknown>;
  trigger: string;
  dryRun: boolean;
  status: 'running' | 'completed' | 'partial' | 'cancelled' | 'failed' | 'skipped';
  matched?: string | null;
  deleted: string;
  updated: string;
  steps?: Record<string, number> | null;
  childrenDeleted: Record<string, number>;
  batches: number;
  cutoff?: Date | null;
  startedAt: Date;
  finishedAt?: Date | null;
  durationMs?: string | null;
  rowsPerSecond?: number | null;
  error?: string | null;
  runTime?: Date | null;
  cutoffs?: unknown;
  fingerprint?: string | null;
  plan?: unknown;
  /** The Temporal run that writes this row; the chain's first run; the row of the execution this one replaces. */
  executionRunId?: string | null;
  firstRunId?: string | null;
  replaces?: string | null;
  /** A real purge's running row holds its job: one at a time (maintenance_run_one_running_idx). */
  exclusive: boolean;
  /** The server's WAL insert position at the run's start, and what the run left behind (src/purge/aftermath.ts). */
  walStartLsn?: string | null;
  aftermath?: unknown;
  /** A real purge's estimate of the rows it matches, recorded at its start (its backlog while it runs). */
  estimatedMatching?: string | null;
}

/** Ledger of committed batches: written in the batch's own transaction so a retried batch is never counted twice. */
export interface PurgeBatch {
  runId: string;
  batchNo: number;
  step: number;
  deleted: number;
  updated: number;
  children: Record<string, number>;
  durationMs: number;
  lastTs?: Date | null;
  lane?: number;
  examined?: number | null;
  skipped?: number;
  lastKey?: string | null;
  committedAt: Date;
}

export const OutstandingTokenSchema = appTable<OutstandingToken>('OutstandingToken', 'outstanding_token', {
  jti: { type: 'string', length: 255, unique: 'outstanding_token_jti_key' },
  userId: { type: 'bigint', nullable: true, fieldName: 'user_id', index: 'outstanding_token_user_id_idx' },
  token: { type: 'text' },
  createdAt: ts('created_at', { nullable: true }),
  expiresAt: ts('expires_at', { index: 'outstanding_token_expires_at_idx' }),
});

export const BlacklistedTokenSchema = appTable<BlacklistedToken>('BlacklistedToken', 'blacklisted_token', {
  token: {
    kind: '1:1',
    entity: () => 'OutstandingToken',
    fieldName: 'token_id',
    owner: true,
    unique: 'blacklisted_token_token_id_key',
    deleteRule: 'no action',
    updateRule: 'no action',
  },
  blacklistedAt: ts('blacklisted_at', { defaultRaw: 'now()' }),
});

export const MaintenanceRunSchema = new EntitySchema<MaintenanceRun>({
  name: 'MaintenanceRun',
  tableName: 'maintenance_run',
  indexes: [
    { name: 'maintenance_run_job_started_idx', properties: ['job', 'startedAt'] },
    { name: 'maintenance_run_first_run_id_idx', properties: ['firstRunId'] },
    { name: 'maintenance_run_one_running_idx', expression: `create unique index "maintenance_run_one_running_idx" on "maintenance_run" ("job") where "exclusive" and "status" = 'running'` },
  ],
  uniques: [{ name: 'maintenance_run_execution_run_id_idx', properties: ['executionRunId'] }],
  properties: {
    id: { type: 'string', length: 64, primary: true },
    workflowId: { type: 'string', length: 255, fieldName: 'workflow_id' },
    job: { type: 'string', length: 100 },
    parameters: { type: 'json', columnType: 'jsonb' },
    trigger: { type: 'string', length: 255 },
    dryRun: { type: 'boolean', fieldName: 'dry_run' },
    status: { type: 'string', length: 20 },
    matched: { type: 'bigint', nullable: true },
    deleted: { type: 'bigint', default: 0 },
    updated: { type: 'bigint', default: 0 },
    steps: { type: 'json', columnType: 'jsonb', nullable: true },
    childrenDeleted: { type: 'json', columnType: 'jsonb', fieldName: 'children_deleted', defaultRaw: `'{}'` },
    batches: { type: 'integer', default: 0 },
    cutoff: { type: 'Date', columnType: 'timestamptz', nullable: true },
    startedAt: { type: 'Date', columnType: 'timestamptz', fieldName: 'started_at' },
    finishedAt: { type: 'Date', columnType: 'timestamptz', nullable: true, fieldName: 'finished_at' },
    durationMs: { type: 'bigint', nullable: true, fieldName: 'duration_ms' },
    rowsPerSecond: { type: 'double', nullable: true, fieldName: 'rows_per_second' },
    error: { type: 'text', nullable: true },
    runTime: { type: 'Date', columnType: 'timestamptz', nullable: true, fieldName: 'run_time' },
    cutoffs: { type: 'json', columnType: 'jsonb', nullable: true },
    fingerprint: { type: 'string', length: 64, nullable: true },
    plan: { type: 'json', columnType: 'jsonb', nullable: true },
    executionRunId: { type: 'string', length: 64, nullable: true, fieldName: 'execution_run_id' },
    firstRunId: { type: 'string', length: 64, nullable: true, fieldName: 'first_run_id' },
    replaces: { type: 'string', length: 64, nullable: true },
    exclusive: { type: 'boolean', default: false },
    walStartLsn: { type: 'string', length: 32, nullable: true, fieldName: 'wal_start_lsn' },
    aftermath: { type: 'json', columnType: 'jsonb', nullable: true },
    estimatedMatching: { type: 'bigint', nullable: true, fieldName: 'estimated_matching' },
  },
});

export const PurgeBatchSchema = new EntitySchema<PurgeBatch>({
  name: 'PurgeBatch',
  tableName: 'purge_batch',
  properties: {
    runId: { type: 'string', length: 64, primary: true, fieldName: 'run_id' },
    batchNo: { type: 'integer', primary: true, fieldName: 'batch_no' },
    step: { type: 'integer', default: 0 },
    deleted: { type: 'integer' },
    updated: { type: 'integer', default: 0 },
    children: { type: 'json', columnType: 'jsonb', defaultRaw: `'{}'` },
    durationMs: { type: 'integer', fieldName: 'duration_ms' },
    lastTs: { type: 'Date', columnType: 'timestamptz', nullable: true, fieldName: 'last_ts' },
    lane: { type: 'integer', default: 0 },
    examined: { type: 'integer', nullable: true },
    skipped: { type: 'integer', default: 0 },
    lastKey: { type: 'text', nullable: true, fieldName: 'last_key' },
    committedAt: { type: 'Date', columnType: 'timestamptz', fieldName: 'committed_at', defaultRaw: 'now()' },
  },
});

export const entities = [OutstandingTokenSchema, BlacklistedTokenSchema, MaintenanceRunSchema, PurgeBatchSchema, ...retentionEntities, ...keyEntities, ...notifyEntities];
