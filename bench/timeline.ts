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
  for (const { runId } of runs) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const scheduled = new Map<string, { type: string; at: number }>();
    for (const e of history.events ?? []) {
      const at = ms(e.eventTime as never);
      first = Math.min(first, at);
      if (e.workflowExecutionCompletedEventAttributes) completed = Math.max(completed, at);
      const s = e.activityTaskScheduledEventAttributes;
      if (s) scheduled.set(String(e.eventId), { type: s.activityType?.name ?? '?', at });
      const done = e.activityTaskCompletedEventAttributes;
      if (done) {
        const from = scheduled.get(String(done.scheduledEventId));
        if (!from) continue;
        byType.set(from.type, [...(byType.get(from.type) ?? []), at - from.at]);
        if (from.type === 'purgeLaneRun') lanes.push({ start: from.at, end: at });
      }
    }
  }
  const activities = Object.fromEntries(
    [...byType].map(([type, d]) => [type, { count: d.length, meanMs: Math.round((d.reduce((x, y) => x + y, 0) / d.length) * 10) / 10 }]),
  );
  if (!lanes.length) return { headMs: NaN, tailMs: NaN, activities };
  const lastEnd = Math.max(...lanes.map((l) => l.end));
  return { headMs: Math.round(Math.min(...lanes.map((l) => l.start)) - first), tailMs: Math.round(completed - lastEnd), activities };
}
