import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { MANAGED_BY } from '../../temporal-schedules/declarations.js';
import type { Logger } from '../logger.js';
import { PAUSED_BY_FAILURE, schedulePausedEvent, type NotificationEvent } from './events.js';
import type { Notifier } from './outbox.js';

/**
 * The managed schedules Temporal has paused after a failed run, as events (read-only). The listing finds our
 * schedules; each one's state is then described, since the listing's copy of it may lag behind.
 */
export async function pausedByFailure(client: Client): Promise<NotificationEvent[]> {
  const ours: Array<{ id: string; job: string | null }> = [];
  for await (const s of client.schedule.list()) {
    if (s.memo?.managedBy === MANAGED_BY) ours.push({ id: s.scheduleId, job: typeof s.memo?.job === 'string' ? s.memo.job : null });
  }
  const events: NotificationEvent[] = [];
  for (const { id, job } of ours) {
    const state = await client.schedule
      .getHandle(id)
      .describe()
      .then((d) => d.state)
      .catch((err: unknown) => {
        if (err instanceof ScheduleNotFoundError) return null; // deleted since the listing
        throw err;
      });
    const note = state?.note ?? '';
    if (state?.paused && PAUSED_BY_FAILURE.test(note)) events.push(schedulePausedEvent({ scheduleId: id, job, note }));
  }
  return events;
}

/**
 * One pass of the worker's watch: records an event for each schedule paused by a failure (once per pause: the id
 * comes from Temporal's note, which names the failed run) and delivers whatever is still unsent in the outbox,
 * including messages whose run's own delivery gave up.
 */
export async function watchOnce(client: Client, notifier: Notifier): Promise<{ paused: number; sent: number; failed: number }> {
  const events = await pausedByFailure(client);
  await notifier.enqueue(events);
  const report = await notifier.deliver();
  return { paused: events.length, sent: report.sent, failed: report.failed.length };
}

/** Runs `watchOnce` every `intervalSeconds` until stopped; a failed pass is logged and the next one tries again. */
export function startWatch(client: Client, notifier: Notifier, logger: Logger, intervalSeconds: number): { stop(): Promise<void> } {
  const log = logger.child({ component: 'notifications-watch' });
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    current = watchOnce(client, notifier)
      .then((r) => (r.paused || r.sent || r.failed ? log.info(r, 'notifications watch') : undefined))
      .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'notifications watch failed; retrying at the next pass'))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalSeconds * 1000);
      });
  };
  timer = setTimeout(tick, 1_000);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
