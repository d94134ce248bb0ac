import { log, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

/** Delivery retries for a while (a mail relay restarting); after that the worker's outbox watch keeps trying. */
const notifications = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

/**
 * Tells operators what a finished run calls for (failure, too many deletions, a rotation, a report), from its audit
 * row: call once the audit row is written. Gated by a patch marker so histories recorded before it replay; a
 * delivery that keeps failing never fails the run.
 */
export async function notifyOutcome(runId: string): Promise<void> {
  if (!patched('notify-outcome')) return;
  try {
    await notifications.notifyRunOutcome({ runId });
  } catch (err) {
    log.warn('notifications not delivered yet; the outbox keeps them for the next delivery pass', { error: err instanceof Error ? err.message : String(err) });
  }
}
