// Where a purge's wall time goes outside its batches, read from the workflow's own histories (every run of the
// continue-as-new chain): the start before the first lane run, the end after the last, and the short activities.
import type { Client } from '@temporalio/client';

export interface PurgeTimeline {
  /** From the first run's start to the first lane run's start (record, estimate, plan). */
  headMs: number;
  /** From the last lane run's end to the workflow's completion (aftermath, record, notification). */
  tailMs: number;
  /** Each activity type: how many ran, and their mean schedule-to-close in ms. */
  activities: Record<string, { count: number; meanMs: number }>;
  /**
   * A lane run's end to the next lane run's start, through the workflow, mean ms of each leg: the workflow task
   * waiting for the worker, the worker running it, the next lane run waiting for the worker (its own start inside
   * the activity, before its first batch, is not in the history: the ledger's cycle has it).
   */
  handoff: { count: number; taskQueuedMs: number; taskRunMs: number; laneQueuedMs: number } | null;
}

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => (t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : NaN);

export async function purgeTimeline(client: Client, workflowId: string): Promise<PurgeTimeline> {
  const runs: Array<{ runId: string; start: number }> = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push({ runId: wf.runId, start: wf.startTime.getTime() });
  runs.sort((a, b) => a.start - b.start);
  const lanes: Array<{ start: number; end: number }> = [];
  const byType = new Map<string, number[]>();
  let first = Infinity;
  let completed = -Infinity;
  const legs = { count: 0, taskQueuedMs: 0, taskRunMs: 0, laneQueuedMs: 0 };
  for (const { runId } of runs) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    const scheduled = new Map<string, { type: string; at: number }>();
    // A lane run's start is written with its end; looked up when the lane run is scheduled.
    const startedAt = new Map<string, number>();
    for (const e of events) if (e.activityTaskStartedEventAttributes) startedAt.set(String(e.activityTaskStartedEventAttributes.scheduledEventId), ms(e.eventTime as never));
    // The workflow task that a lane run's end woke, until it schedules the next lane run: its three legs.
    let woke: { taskScheduled?: number; taskStarted?: number; taskCompleted?: number } | null = null;
    for (const e of events) {
      const at = ms(e.eventTime as never);
      first = Math.min(first, at);
      if (e.workflowExecutionCompletedEventAttributes) completed = Math.max(completed, at);
      if (woke && e.workflowTaskScheduledEventAttributes && woke.taskScheduled === undefined) woke.taskScheduled = at;
      else if (woke && e.workflowTaskStartedEventAttributes && woke.taskScheduled !== undefined) woke.taskStarted = at;
      else if (woke && e.workflowTaskCompletedEventAttributes && woke.taskStarted !== undefined) woke.taskCompleted = at;
      const s = e.activityTaskScheduledEventAttributes;
      if (s) {
        scheduled.set(String(e.eventId), { type: s.activityType?.name ?? '?', at });
        const laneStart = startedAt.get(String(e.eventId));
        if (woke?.taskCompleted !== undefined && s.activityType?.name === 'purgeLaneRun') {
          if (laneStart !== undefined) {
            legs.count++;
            legs.taskQueuedMs += woke.taskStarted! - woke.taskScheduled!;
            legs.taskRunMs += woke.taskCompleted - woke.taskStarted!;
            legs.laneQueuedMs += laneStart - at;
          }
          woke = null;
        }
      }
      const done = e.activityTaskCompletedEventAttributes;
      if (done) {
        const from = scheduled.get(String(done.scheduledEventId));
        if (!from) continue;
        byType.set(from.type, [...(byType.get(from.type) ?? []), at - from.at]);
        if (from.type === 'purgeLaneRun') {
          lanes.push({ start: from.at, end: at });
          woke = {};
        }
      }
    }
  }
  const activities = Object.fromEntries(
    [...byType].map(([type, d]) => [type, { count: d.length, meanMs: Math.round((d.reduce((x, y) => x + y, 0) / d.length) * 10) / 10 }]),
  );
  const mean = (v: number) => Math.round((v / Math.max(1, legs.count)) * 10) / 10;
  const handoff = legs.count ? { count: legs.count, taskQueuedMs: mean(legs.taskQueuedMs), taskRunMs: mean(legs.taskRunMs), laneQueuedMs: mean(legs.laneQueuedMs) } : null;
  if (!lanes.length) return { headMs: NaN, tailMs: NaN, activities, handoff };
  const lastEnd = Math.max(...lanes.map((l) => l.end));
  return { headMs: Math.round(Math.min(...lanes.map((l) => l.start)) - first), tailMs: Math.round(completed - lastEnd), activities, handoff };
}
