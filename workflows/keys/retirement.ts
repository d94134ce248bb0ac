import { proxyActivities, setCurrentDetails, setHandler } from '@temporalio/workflow';
import { retirementProgressQuery } from '../../src/temporal/queries.js';
import type { Activities } from '../../activities/index.js';
import type { RetirementInput, RetirementProgress, RetirementResult, StepOutcome } from '../../src/keys/types.js';
import { parseRetirementInput } from '../../src/keys/inputs.js';
import { recordRun, acceptInput, sleepUntil } from '../job-run.js';

/**
 * The rest of a replaced key's life, started (and abandoned) by the rotation that replaced it:
 * step 5, retire: it stays in the JWKS until every token it signed has expired (a durable timer of the maximum
 * token lifetime; longer if unexpired refresh tokens still name it), then it is withdrawn;
 * step 6, clean up: after the retention it is deleted (its private key wiped) once no unexpired token names it.
 */
export async function signingKeyRetirement(raw: RetirementInput): Promise<RetirementResult> {
  const input = await acceptInput('key-retirement', raw, parseRetirementInput);
  const startedAt = new Date().toISOString();
  const steps = proxyActivities<Activities>({
    startToCloseTimeout: `${input.stepTimeoutSeconds} seconds`,
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });
  const progress: RetirementProgress = { kid: input.kid, step: 'retired', waitingUntil: null, reason: null };
  setHandler(retirementProgressQuery, () => progress);

  /** Waits until `firstAt`, runs the step, and waits again as long as the step says the key is still needed. */
  async function when<T extends StepOutcome>(firstAt: string, summary: string, step: () => Promise<T>): Promise<T> {
    let at = firstAt;
    for (;;) {
      progress.waitingUntil = at;
      setCurrentDetails(`**${progress.step}** ${input.kid}: ${summary} at ${at}${progress.reason ? ` (${progress.reason})` : ''}`);
      await sleepUntil(at, `${summary} (${input.kid})`);
      const out = await step();
      if (out.done) return out;
      progress.reason = out.reason;
      // Never spin: a clock skew between database and server could name a time already past.
      at = new Date(Math.max(Date.parse(out.retryAt ?? at), Date.now() + 1000)).toISOString();
    }
  }

  const withdrawn = await when(input.tokensExpireBy, 'withdraw from the JWKS', () => steps.withdrawSigningKey({ kid: input.kid }));
  progress.step = 'withdrawn';
  progress.reason = null;
  const deleteAt = new Date(Date.parse(input.retiredAt) + input.retentionSeconds * 1000).toISOString();
  const deleted = await when(deleteAt, 'delete after the retention', () => steps.deleteSigningKey({ kid: input.kid, retentionSeconds: input.retentionSeconds }));
  progress.step = 'deleted';
  progress.waitingUntil = null;
  setCurrentDetails(`**deleted** ${input.kid}`);
  await recordRun({
    job: 'key-retirement',
    parameters: { ...input },
    trigger: 'key-rotation',
    dryRun: false,
    status: 'completed',
    startedAt,
    matched: 1,
    deleted: 1,
    counts: { withdrawn: 1 },
  });
  return { kid: input.kid, withdrawnAt: withdrawn.at!, deletedAt: deleted.at! };
}
