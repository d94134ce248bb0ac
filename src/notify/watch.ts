import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from '../logger.js';
import { type Orm, dbFromOrm } from '../orm/index.js';
import { isAudited } from '../db/run-record.js';
import { MAINT_JOB, MANAGED_BY } from '../temporal/labels.js';
import { PAUSED_BY_FAILURE, schedulePausedEvent, unauditedFailureEvent, type NotificationEvent } from './events.js';
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
 * Runs on the task queue that failed since `since` without writing an audit row (their audited failures are reported
 * by the run itself), as events. Read from Temporal's visibility, so it catches failures before any activity ran.
 */
async function failedWithoutAudit(client: Client, orm: Orm, taskQueue: string, since: Date): Promise<NotificationEvent[]> {
  const events: NotificationEvent[] = [];
  const db = dbFromOrm(orm);
  const query = `TaskQueue = '${taskQueue.replace(/'/g, "")}' AND ExecutionStatus = 'Failed' AND CloseTime > '${since.toISOString()}'`;
  for await (const w of client.workflow.list({ query })) {
    if (await isAudited(db, w.workflowId)) continue;
    const [known] = await db.query('SELECT 1 FROM notification_outbox WHERE event_id = ? LIMIT 1', [`${w.runId}:run-failed`]);
    if (known) continue;
    const error = await client.workflow
      .getHandle(w.workflowId, w.runId, { followRuns: false })
      .result()
      .then(
        () => 'no error recorded',
        (err: Error & { cause?: Error & { cause?: Error } }) => err.cause?.cause?.message ?? err.cause?.message ?? err.message,
      );
    const attr = w.typedSearchAttributes?.get(MAINT_JOB);
    const job = typeof attr === 'string' ? attr : await jobOfInput(client, w.workflowId, w.runId);
    events.push(unauditedFailureEvent({ workflowId: w.workflowId, runId: w.runId, workflowType: w.type, job, error, closedAt: w.closeTime?.toISOString() ?? null }));
  }
  return events;
}

/** The `job` field of a run's input (a purge started without our search attributes, e.g. by the `temporal` CLI). */
async function jobOfInput(client: Client, workflowId: string, runId: string): Promise<string | null> {
  try {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const input = payload ? await client.options.loadedDataConverter.payloadConverter.fromPayload<{ job?: unknown }>(payload) : undefined;
    return typeof input?.job === 'string' ? input.job : null;
  } catch {
    return null;
  }
}

export interface WatchOptions {
  client: Client;
  notifier: Notifier;
  orm: Orm;
  taskQueue: string;
  /** Failed runs closed after this are looked at (the first pass looks back a day). */
  since: Date;
}

/**
 * One pass of the worker's watch: records an event for each schedule paused by a failure (once per pause: the id
 * comes from Temporal's note, which names the failed run) and for each run that failed without an audit row, then
 * delivers whatever is still unsent in the outbox, including messages whose run's own delivery gave up.
 */
export async function watchOnce(o: WatchOptions): Promise<{ paused: number; failed: number; sent: number; undelivered: number }> {
  const paused = await pausedByFailure(o.client);
  const failed = await failedWithoutAudit(o.client, o.orm, o.taskQueue, o.since);
  await o.notifier.enqueue([...paused, ...failed]);
  const report = await o.notifier.deliver();
  return { paused: paused.length, failed: failed.length, sent: report.sent, undelivered: report.failed.length };
}

/** Runs `watchOnce` every `intervalSeconds` until stopped; a failed pass is logged and the next one tries again. */
export function startWatch(o: Omit<WatchOptions, 'since'>, logger: Logger, intervalSeconds: number): { stop(): Promise<void> } {
  const log = logger.child({ component: 'notifications-watch' });
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<unknown> = Promise.resolve();
  let stopped = false;
  let since = new Date(Date.now() - 86_400_000);
  const tick = () => {
    // Overlapping windows: visibility may show a closed run a little late; the outbox drops repeats.
    const next = new Date(Date.now() - 5 * 60_000);
    current = watchOnce({ ...o, since })
      .then((r) => {
        since = next < since ? since : next;
        if (r.paused || r.failed || r.sent || r.undelivered) log.info(r, 'notifications watch');
      })
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
