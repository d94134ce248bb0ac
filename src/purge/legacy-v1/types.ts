/*
 * FROZEN: the shapes of the batched purge before planned walks (legacy v1). See docs/versioning.md before changing
 * anything here; the live purge's shapes are in src/purge/types.ts.
 */
import type { BatchResult, PurgeParams, RetentionRule } from '../types.js';

/** What `resolveJob` answered: its `steps`, or the single `rule` that versions before multi-step jobs recorded. */
export interface LegacyResolvedJob {
  job: string;
  steps?: RetentionRule[];
  rule?: RetentionRule;
  params: PurgeParams;
}

/** The state a legacy run carried across continue-as-new: its resolved rules and its progress. */
export interface LegacyCarriedState {
  resolved: LegacyResolvedJob;
  trigger: string;
  /** Cutoff of the first step (and of single-step runs). */
  cutoff: string;
  /** Cutoff of each step; absent in states of single-step versions (then: [cutoff]). */
  cutoffs?: string[];
  runTime?: string;
  /** Step in progress; absent means 0. */
  step?: number;
  updated?: number;
  /** Keyset start of the current step (null: from the beginning). */
  after?: string | null;
  /** Current batch size when it adapts to the target batch duration. */
  size?: number;
  startedAtMs: number;
  nextBatchNo: number;
  deleted: number;
  children: Record<string, number>;
  matched: number | null;
}

export interface LegacyPurgeInput {
  job: string;
  params?: Record<string, unknown>;
  trigger?: string;
  carried?: LegacyCarriedState;
}

/** The input of `purgeBatch`: one batch, selected by timestamp order from the keyset position `after`. */
export interface LegacyBatchInput {
  runId: string;
  batchNo: number;
  rule: RetentionRule;
  cutoff: string;
  batchSize: number;
  /** The run's reference time, written by update steps that record when (e.g. revoked_at). */
  runTime?: string;
  step?: number;
  /** Keyset start: the newest timestamp the previous batch of this step reached. */
  after?: string | null;
}

/** What `purgeBatch` answers: the counts of one batch and where it stopped (the fields it had then). */
export type LegacyBatchResult = Pick<BatchResult, 'deleted' | 'updated' | 'children' | 'durationMs' | 'fromLedger' | 'lastTs'>;
