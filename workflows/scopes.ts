import { type ScopesResult, parseScopesInput } from '../src/scopes.js';
import { short, acceptInput, runJob } from './job-run.js';

export interface ScopesInput {
  params?: { dryRun?: boolean };
  trigger?: string;
}

/** Ensures the default scopes exist (the seeds' initialize_jwt_scopes); safe to run any number of times. */
export async function ensureScopes(raw: ScopesInput): Promise<ScopesResult> {
  const input = await acceptInput('scopes', raw, parseScopesInput);
  return runJob({ job: 'scopes', parameters: { ...input.params }, trigger: input.trigger, dryRun: Boolean(input.params?.dryRun) }, async () => {
    const result = await short.ensureDefaultScopes({ params: input.params });
    return { result, matched: result.created.length + result.existing.length, deleted: 0, counts: { created: result.created.length, existing: result.existing.length } };
  });
}
