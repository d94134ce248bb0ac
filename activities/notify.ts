import { ApplicationFailure } from '@temporalio/activity';
import { type Orm, dbFromOrm } from '../src/orm/index.js';
import { firstRunStartedAt, loadRunOutcome, recordOf } from '../src/db/run-record.js';
import { executionRunIdIfAny } from './execution.js';
import type { Logger } from '../src/logger.js';
import { assessHealth } from '../src/health/assess.js';
import { cleanupStats } from '../src/health/cleanup-stats.js';
import { eventsOfRun, oidcFailingEvent, type NotificationEvent, type RunRow } from '../src/notify/events.js';
import type { Notifier } from '../src/notify/outbox.js';
import { reportEvent } from '../src/notify/report.js';
import { createHealthActivities } from './health.js';
import type { KeyPolicy } from '../src/keys/types.js';

export interface NotifyActivityDeps {
  orm: Orm;
  logger: Logger;
  notifier?: Notifier;
  keys?: { policy: KeyPolicy };
}

export function createNotifyActivities(deps: NotifyActivityDeps) {
  const { orm, notifier } = deps;
  const db = dbFromOrm(orm);

  /** The events of a finished run, from its audit row (the one source of truth) and, for some jobs, current state. */
  async function eventsOf(runId: string, n: Notifier): Promise<NotificationEvent[]> {
    const run = await loadRunOutcome<RunRow>(db, runId);
    if (!run || run.status === 'running') return [];
    const events = eventsOfRun(run, n.config);
    if (run.job === 'refresh-jwks') {
      const failing = await db.query<{ name: string; last_error: string; last_success_at: string | null; failing_since: string }>(
        // Failing since its last success; a provider that never succeeded, since the first refresh run.
        `SELECT * FROM (SELECT name, last_error, last_success_at, coalesce(last_success_at, ?::timestamptz) AS failing_since
                  FROM oidc_provider WHERE last_error IS NOT NULL) p
          WHERE failing_since <= now() - make_interval(secs => ?)`,
        [await firstRunStartedAt(db, 'refresh-jwks'), n.config.oidcFailingDays * 86_400],
      );
      events.push(...failing.map((p) => oidcFailingEvent(p, n.config.oidcFailingDays)));
    }
    // The scheduled reports are mailed; one asked for with `maint report` is printed, not mailed.
    if (run.job === 'health-report' && run.status !== 'failed' && run.trigger.startsWith('schedule:')) {
      // The weekly schedule's runs carry "weekly" in their trigger (schedule:maint-health-report-weekly).
      const period = /weekly/.test(run.trigger) ? 'weekly' : 'daily';
      const { stats, thresholds } = await createHealthActivities(deps).gatherHealthStats();
      const cleanup = await cleanupStats(db, period === 'weekly' ? 7 : 1);
      events.push(reportEvent(run.id, period, assessHealth(stats, thresholds), cleanup));
    }
    return events;
  }

  return {
    /**
     * Records the notifications a finished run gives rise to in the outbox and delivers them. Keyed by the run id:
     * a retry records nothing new and resends only what is still unsent. Fails (and is retried) while a channel
     * does not take its message; the message names the channel, never its URL or password.
     */
    async notifyRunOutcome(input: { runId: string }): Promise<{ events: number; sent: number }> {
      if (!notifier || !notifier.config.channels.length) return { events: 0, sent: 0 };
      // The row of this execution (a reset's own row, not the one it replaced).
      const execution = executionRunIdIfAny();
      const id = execution ? (await recordOf(db, { runId: input.runId, executionRunId: execution })).id : input.runId;
      const events = await eventsOf(id, notifier);
      await notifier.enqueue(events);
      const report = await notifier.deliver(events.map((e) => e.id));
      if (report.failed.length) {
        throw ApplicationFailure.retryable(`notifications not delivered: ${report.failed.map((f) => f.error).join('; ')}`, 'NotificationUndelivered');
      }
      return { events: events.length, sent: report.sent };
    },
  };
}
