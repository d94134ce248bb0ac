import type { SweepResult } from '../src/keys/types.js';
import { audit, bookkeeping, triggerOf } from './common.js';

export interface KeypairCleanupInput {
  params?: { dryRun?: boolean; retentionSeconds?: number };
  trigger?: string;
}

/**
 * The monthly sweep (the seeds' cleanup_inactive_keypairs): withdraws retired keys whose tokens have all expired
 * and deletes inactive keys past the retention that no unexpired token names. Catches keys whose retirement
 * workflow never ran (keys from before this service, a terminated rotation); idempotent, so it may run any time.
 */
export async function keypairCleanup(input: KeypairCleanupInput = {}): Promise<SweepResult> {
  const startedAt = new Date().toISOString();
  const trigger = triggerOf(input.trigger);
  const params = await bookkeeping.resolveCleanup({ params: input.params });
  const result = await bookkeeping.sweepSigningKeys(params);
  await audit({
    job: 'keypair-cleanup',
    parameters: { ...params },
    trigger,
    dryRun: params.dryRun,
    status: 'completed',
    startedAt,
    matched: result.withdrawn.length + result.deleted.length + result.kept.length,
    deleted: params.dryRun ? 0 : result.deleted.length,
    counts: { withdrawn: result.withdrawn.length, deleted: result.deleted.length, kept: result.kept.length },
  });
  return result;
}
