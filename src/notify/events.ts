import { createHash } from 'node:crypto';
import type { EventKind, NotificationsConfig } from './channels.js';
import { toNumber } from '../kernel/counts.js';

/** One thing to tell operators; `id` is stable, so recording or sending it again is recognisably the same event. */
export interface NotificationEvent {
  id: string;
  kind: EventKind;
  job: string | null;
  runId: string | null;
  subject: string;
  text: string;
  /** An HTML version for email (reports carry tables). */
  html?: string;
  /** The facts, for JSON webhooks. */
  data: Record<string, unknown>;
}

/** The audit row of a finished run, as `maintenance_run` holds it. */
export interface RunRow {
  id: string;
  workflow_id: string;
  job: string;
  trigger: string;
  dry_run: boolean;
  status: string;
  matched: number | string | null;
  deleted: number | string | null;
  updated: number | string | null;
  children_deleted: Record<string, number> | null;
  batches: number | null;
  started_at: string | Date;
  finished_at: string | Date | null;
  duration_ms: number | string | null;
  error: string | null;
}


function deletionThresholdOf(config: NotificationsConfig, job: string): number | undefined {
  return config.deletionThreshold.jobs[job] ?? config.deletionThreshold.default;
}

function describeRun(r: RunRow): Record<string, unknown> {
  return {
    job: r.job,
    runId: r.id,
    workflowId: r.workflow_id,
    trigger: r.trigger,
    status: r.status,
    dryRun: r.dry_run,
    matched: r.matched === null ? null : toNumber(r.matched),
    deleted: toNumber(r.deleted),
    updated: toNumber(r.updated),
    startedAt: new Date(r.started_at).toISOString(),
    finishedAt: r.finished_at ? new Date(r.finished_at).toISOString() : null,
    durationMs: r.duration_ms === null ? null : toNumber(r.duration_ms),
    error: r.error,
  };
}

function lines(data: Record<string, unknown>): string {
  return Object.entries(data)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join('\n');
}

/**
 * The events a finished run gives rise to (pure: the audit row and the configuration decide). A failed rotation is
 * `key-rotation-failed`, any other failure `run-failed`; a completed live run over its job's threshold is
 * `deletions-over-threshold`; a rotation that rotated is `key-rotated`.
 */
export function eventsOfRun(r: RunRow, config: NotificationsConfig): NotificationEvent[] {
  const data = describeRun(r);
  const events: NotificationEvent[] = [];
  const event = (kind: EventKind, subject: string, intro: string) =>
    events.push({ id: `${r.id}:${kind}`, kind, job: r.job, runId: r.id, subject, text: `${intro}\n\n${lines(data)}\n`, data: { ...data, event: kind } });
  if (r.status === 'failed') {
    if (r.job === 'key-rotation') event('key-rotation-failed', 'key rotation failed', `The signing key rotation failed: ${r.error ?? 'no error recorded'}.`);
    else event('run-failed', `${r.job} failed`, `The run of ${r.job} failed: ${r.error ?? 'no error recorded'}.`);
  }
  // Stopped cleanly before its end (a critical threshold of its budget): nothing is lost, the next run goes on, but
  // what made the database critical is someone's to look at.
  if (r.status === 'partial') event('run-partial', `${r.job} stopped early`, `The run of ${r.job} stopped before its end, cleanly: ${r.error ?? 'no reason recorded'}.`);
  if (r.status === 'completed' && r.job === 'key-rotation' && toNumber(r.children_deleted?.rotated) > 0) {
    event('key-rotated', 'signing key rotated', 'A new signing key is active; the previous one stays in the JWKS until its tokens have expired.');
  }
  const threshold = deletionThresholdOf(config, r.job);
  const rows = toNumber(r.deleted) + toNumber(r.updated);
  if (threshold !== undefined && !r.dry_run && r.status !== 'running' && rows > threshold) {
    data.threshold = threshold;
    event('deletions-over-threshold', `${r.job} changed ${rows} rows (threshold ${threshold})`, `The run of ${r.job} deleted or updated ${rows} rows, more than its threshold of ${threshold}.`);
  }
  return events;
}

/** An OIDC provider failing since its last success (or ever): one event per failure streak. */
export function oidcFailingEvent(p: { name: string; last_error: string; last_success_at: string | Date | null; failing_since: string | Date }, days: number): NotificationEvent {
  const since = new Date(p.failing_since).toISOString();
  const data = { provider: p.name, lastError: p.last_error, lastSuccessAt: p.last_success_at ? new Date(p.last_success_at).toISOString() : null, failingSince: since, days };
  return {
    id: `oidc-provider-failing:${p.name}:${data.lastSuccessAt ?? 'never'}`,
    kind: 'oidc-provider-failing',
    job: 'refresh-jwks',
    runId: null,
    subject: `OIDC provider ${p.name} failing for over ${days} day(s)`,
    text: `The JWKS of OIDC provider ${p.name} could not be refreshed since ${since}; the last good copy is still served.\n\n${lines(data)}\n`,
    data: { ...data, event: 'oidc-provider-failing' },
  };
}

/** Temporal's note on a schedule it paused after a failed or timed-out run (pause-on-failure). */
export const PAUSED_BY_FAILURE = /^paused due to workflow (failure|timeout)/;

/** A schedule that Temporal paused because a run failed: one event per pause (the note names the failed run). */
export function schedulePausedEvent(s: { scheduleId: string; job: string | null; note: string }): NotificationEvent {
  const data = { scheduleId: s.scheduleId, job: s.job, note: s.note };
  return {
    id: `schedule-paused:${s.scheduleId}:${createHash('sha256').update(s.note).digest('hex').slice(0, 16)}`,
    kind: 'schedule-paused',
    job: s.job,
    runId: null,
    subject: `schedule ${s.scheduleId} paused by a failure`,
    text: `Temporal paused the schedule ${s.scheduleId} after a failed run (pause-on-failure); nothing runs until someone unpauses it:\n  temporal schedule toggle --schedule-id ${s.scheduleId} --unpause --reason "..."\n\n${lines(data)}\n`,
    data: { ...data, event: 'schedule-paused' },
  };
}

/**
 * A run that failed before it wrote an audit row (e.g. refused parameters, or a custom rule that no longer matches
 * the schema): found in Temporal's visibility. Same id as the audited form, so a run is never reported twice.
 */
export function unauditedFailureEvent(w: { workflowId: string; runId: string; workflowType: string; job: string | null; error: string; closedAt: string | null }): NotificationEvent {
  const job = w.job ?? w.workflowType;
  const data = { job, runId: w.runId, workflowId: w.workflowId, workflowType: w.workflowType, status: 'failed', finishedAt: w.closedAt, error: w.error };
  return {
    id: `${w.runId}:run-failed`,
    kind: 'run-failed',
    job,
    runId: w.runId,
    subject: `${job} failed`,
    text: `The run of ${job} failed before it started its work: ${w.error}.\n\n${lines(data)}\n`,
    data: { ...data, event: 'run-failed' },
  };
}
