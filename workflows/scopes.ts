import type { ScopesResult } from '../src/scopes.js';
import { audit, bookkeeping, triggerOf } from './common.js';

export interface ScopesInput {
  params?: { dryRun?: boolean };
  trigger?: string;
}

/** Ensures the default scopes exist (the seeds' initialize_jwt_scopes); safe to run any number of times. */
export async function ensureScopes(input: ScopesInput = {}): Promise<ScopesResult> {
  const startedAt = new Date().toISOString();
  const result = await bookkeeping.ensureDefaultScopes({ params: input.params });
  await audit({
    job: 'scopes',
    parameters: { ...input.params },
    trigger: triggerOf(input.trigger),
    dryRun: result.dryRun,
    status: 'completed',
    startedAt,
    matched: result.created.length + result.existing.length,
    deleted: 0,
    counts: { created: result.created.length, existing: result.existing.length },
  });
  return result;
}
