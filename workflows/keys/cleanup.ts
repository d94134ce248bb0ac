import type { SweepResult } from '../../src/keys/types.js';
import { parseCleanupInput } from '../../src/keys/inputs.js';
import { short, acceptInput, runJob } from '../job-run.js';

export interface KeypairCleanupInput {
  params?: { dryRun?: boolean; retentionSeconds?: number };
  trigger?: string;
}

/**
 * The monthly sweep (the seeds' cleanup_inactive_keypairs): withdraws retired keys whose tokens have all expired
 * and deletes inactive keys past the retention that no unexpired token names. Catches keys whose retirement
 * workflow never ran (keys from before this service, a terminated rotation); idempotent, so it may run any time.
 */
export async function keypairCleanup(raw: KeypairCleanupInput): Promise<SweepResult> {
  const input = await acceptInput('keypair-cleanup', raw, parseCleanupInput);
  return runJob({ job: 'keypair-cleanup', parameters: { ...input.params }, trigger: input.trigger, dryRun: Boolean(input.params?.dryRun) }, async () => {
    const params = await short.resolveCleanup({ params: input.params });
    const result = await short.sweepSigningKeys(params);
    return {
      result,
      matched: result.withdrawn.length + result.deleted.length + result.kept.length,
      deleted: params.dryRun ? 0 : result.deleted.length,
      counts: { withdrawn: result.withdrawn.length, deleted: result.deleted.length, kept: result.kept.length },
    };
  });
}
