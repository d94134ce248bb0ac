import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { createLogger } from '../src/logger.js';
import { createJobMetrics, type JobMetrics } from '../src/metrics/metrics.js';
import { startMetricsServer } from '../src/metrics/server.js';
import { loadNotifications } from '../src/settings/notifications.js';
import { Catalogue } from '../src/catalogue/index.js';
import { createNotifier, type Notifier } from '../src/notify/outbox.js';
import { createNotifyActivities } from '../activities/notify.js';
import { messageIdOf } from '../src/notify/send.js';
import { startHandle } from './support/start.js';

import { MANAGED_BY } from '../src/temporal/labels.js';
import { pausedByFailure, watchOnce } from '../src/notify/watch.js';
import type { PurgeResult } from '../src/purge/types.js';
import { connectTestClient, createTestDatabase, deleteSchedule, scalar, seedTokens, startTestWorker, uniqueName, until, type TestDatabase, type TestWorker } from './support/env.js';
import { parsePrometheus, startHttpReceiver, startSmtpReceiver } from './support/receivers.js';
import { maint } from './support/cli.js';
import { inject } from 'vitest';

const SMTP_PASSWORD = 'smtp-pass-7f3a9c';
const HOOK_SECRET = 'hook-secret-4b8e1d';

let client: Client;
let db: TestDatabase;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
let http: Awaited<ReturnType<typeof startHttpReceiver>>;
let metrics: JobMetrics;
let notifier: Notifier;
let failing = false;
let worker: TestWorker;
const logLines: string[] = [];

beforeAll(async () => {
  client = await connectTestClient();
  db = await createTestDatabase();
  smtp = await startSmtpReceiver({ user: 'maint', password: SMTP_PASSWORD });
  http = await startHttpReceiver();
  const logger = createLogger({ level: 'trace', destination: { write: (s: string) => void logLines.push(s) } });
  const config = loadNotifications(
    {
      notifications: {
        email: { host: '127.0.0.1', port: smtp.port, tls: 'none', user: 'maint', passwordEnv: 'TEST_SMTP_PASSWORD', from: 'maint@example.test', to: ['ops@example.test'] },
        webhooks: [
          { name: 'ops', urlEnv: 'TEST_HOOK_URL' },
          { name: 'slack', format: 'slack', url: `${http.url}/slack/${HOOK_SECRET}`, events: ['run-failed'] },
        ],
        deletionThreshold: { default: 1_000_000, jobs: { 'purge-verification-tokens': 5 } },
      },
    },
    { TEST_SMTP_PASSWORD: SMTP_PASSWORD, TEST_HOOK_URL: `${http.url}/ops/${HOOK_SECRET}` },
    new Catalogue().names(),
  );
  metrics = createJobMetrics({ orm: db.orm, logger, rotateAfterSeconds: 30 * 86_400 });
  notifier = createNotifier({ orm: db.orm, logger, config });
  worker = await startTestWorker(db, {
    logger,
    metrics,
    notifier,
    faults: {
      afterBatchCommit: () => {
        if (failing) throw ApplicationFailure.nonRetryable('injected failure: the disk is on fire', 'Injected');
      },
    },
  });
});
afterAll(async () => {
  await worker?.stop();
  await client?.connection.close();
  await db?.close();
  await smtp?.close();
  await http?.close();
});

const past = (minutes: number) => new Date(Date.now() - minutes * 60_000);

describe('notifications and metrics', () => {
  let failedRunId = '';

  it('a purge that fails sends an email and webhooks, once each, without a secret in history, logs or errors', async () => {
    await seedTokens(db, [{ expiresAt: past(60) }, { expiresAt: past(50), blacklisted: true }, { expiresAt: past(-60) }]);
    failing = true;
    const handle = await startHandle(client, { job: 'purge-expired-tokens', params: { batchSize: 1 }, taskQueue: worker.taskQueue, trigger: 'test' });
    failedRunId = handle.firstExecutionRunId;
    const error = await handle.result().then(() => null, (err: Error) => err);
    failing = false;
    expect(error).not.toBeNull();

    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0]!;
    expect(mail.to).toEqual(['ops@example.test']);
    expect(mail.header('Subject')).toBe('[auth-maintenance] purge-expired-tokens failed');
    expect(mail.header('Message-ID')).toBe(messageIdOf(`${failedRunId}:run-failed`));
    expect(mail.raw).toContain('the disk is on fire');
    expect(smtp.logins).toEqual(['maint']);

    const ops = http.posts.filter((p) => p.path.startsWith('/ops/'));
    expect(ops).toHaveLength(1);
    expect(ops[0]!.headers['idempotency-key']).toBe(`${failedRunId}:run-failed`);
    expect(ops[0]!.body).toMatchObject({ id: `${failedRunId}:run-failed`, kind: 'run-failed', job: 'purge-expired-tokens', runId: failedRunId, data: { status: 'failed', deleted: 1 } });
    const slack = http.posts.filter((p) => p.path.startsWith('/slack/'));
    expect(slack).toHaveLength(1);
    expect(Object.keys(slack[0]!.body)).toEqual(['text']);
    expect(slack[0]!.body.text).toMatch(/^\*\[auth-maintenance\] purge-expired-tokens failed\*/);

    expect(await scalar(db, `SELECT count(*) FROM notification_outbox WHERE run_id = $1 AND sent_at IS NOT NULL AND attempts = 1`, [failedRunId])).toBe(3);

    const history = JSON.stringify(await handle.fetchHistory());
    for (const secret of [SMTP_PASSWORD, HOOK_SECRET, String(smtp.port) + '"', http.url]) expect(history).not.toContain(secret);
    for (const secret of [SMTP_PASSWORD, HOOK_SECRET]) expect(logLines.join('')).not.toContain(secret);
    expect(logLines.join('')).toContain('notification sent');
  });

  it('a receiver that fails is retried until it takes the message; what was delivered is not sent again', async () => {
    // 12 expired verification tokens: over that job's threshold of 5.
    await db.pool.query(
      `INSERT INTO verification_token (token_type, token, created_at, expires_at)
       SELECT 'password_reset', 'vt-' || g, now() - interval '2 days', now() - interval '1 day' FROM generate_series(1, 12) g`,
    );
    http.failNext(1);
    const handle = await startHandle(client, { job: 'purge-verification-tokens', params: {}, taskQueue: worker.taskQueue, trigger: 'test' });
    const result = (await handle.result()) as PurgeResult;
    expect(result).toMatchObject({ status: 'completed', deleted: 12 });
    const id = `${handle.firstExecutionRunId}:deletions-over-threshold`;
    expect(http.failed).toBe(1);
    const delivered = http.posts.filter((p) => p.headers['idempotency-key'] === id);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.body).toMatchObject({ kind: 'deletions-over-threshold', data: { deleted: 12, threshold: 5 } });
    expect(smtp.mails.filter((m) => m.header('Message-ID') === messageIdOf(id))).toHaveLength(1);
    const { rows } = await db.pool.query(`SELECT channel, attempts, sent_at IS NOT NULL AS sent, last_error FROM notification_outbox WHERE event_id = $1 ORDER BY channel`, [id]);
    expect(rows).toEqual([
      { channel: 'email', attempts: 1, sent: true, last_error: null },
      { channel: 'ops', attempts: 2, sent: true, last_error: null },
    ]);
    // The failed attempts recorded the channel and the status, never the URL.
    expect(logLines.filter((l) => l.includes('not delivered')).join('')).toContain('ops: the receiver answered HTTP 503');
    expect(logLines.join('')).not.toContain(HOOK_SECRET);
  });

  it('the scheduled daily and weekly reports arrive as readable emails with the cleanup statistics', async () => {
    const daily = await startHandle(client, { job: 'health-report',  taskQueue: worker.taskQueue, trigger: 'schedule:maint-health-report-daily' });
    await daily.result();
    const mail = smtp.mails.find((m) => m.header('Message-ID') === messageIdOf(`${daily.firstExecutionRunId}:report`));
    expect(mail?.header('Subject')).toMatch(/^\[auth-maintenance\] daily report: (OK|WARNING|CRITICAL)$/);
    expect(mail!.header('Content-Type')).toMatch(/^multipart\/alternative/);
    expect(mail!.raw).toMatch(/cleanup over the last 1 day\(s\)/);
    expect(mail!.raw).toMatch(/purge-verification-tokens\s+1\s+0\s+12\s/);
    expect(mail!.raw).toContain('<table');
    // Reports go by email and the JSON webhook; the Slack webhook asked for failures only.
    expect(http.posts.filter((p) => p.headers['x-maint-event'] === 'report').map((p) => p.path.split('/')[1])).toEqual(['ops']);

    const weekly = await startHandle(client, { job: 'health-report',  taskQueue: worker.taskQueue, trigger: 'schedule:maint-health-report-weekly' });
    await weekly.result();
    const week = smtp.mails.find((m) => m.header('Message-ID') === messageIdOf(`${weekly.firstExecutionRunId}:report`));
    expect(week?.header('Subject')).toMatch(/^\[auth-maintenance\] weekly report: /);
    expect(week!.raw).toMatch(/cleanup over the last 7 day\(s\)/);

    // A report asked for by hand is printed by the CLI, not mailed.
    const manual = await startHandle(client, { job: 'health-report',  taskQueue: worker.taskQueue, trigger: 'cli' });
    await manual.result();
    expect(smtp.mails.filter((m) => m.header('Message-ID') === messageIdOf(`${manual.firstExecutionRunId}:report`))).toHaveLength(0);
  });

  it('a rotation, and an OIDC provider failing for longer than configured, are reported once', async () => {
    const activities = createNotifyActivities({ orm: db.orm, logger: createLogger({ level: 'silent' }), notifier });
    await db.pool.query(
      `INSERT INTO maintenance_run (id, workflow_id, job, parameters, trigger, dry_run, status, matched, deleted, children_deleted, batches, started_at, finished_at, duration_ms)
       VALUES ('rot-1', 'maint-key-rotation', 'key-rotation', '{}', 'test', false, 'completed', null, 0, '{"rotated": 1}', 0, now(), now(), 5),
              ('jwks-1', 'maint-refresh-jwks-1', 'refresh-jwks', '{}', 'test', false, 'completed', 2, 0, '{"failed": 1}', 0, now() - interval '3 days', now(), 5)`,
    );
    await db.pool.query(
      `INSERT INTO oidc_provider (name, jwks_uri, last_success_at, last_error) VALUES
         ('down', 'https://down.example/jwks', now() - interval '2 days', 'HTTP 503'),
         ('flaky', 'https://flaky.example/jwks', now() - interval '1 hour', 'timeout'),
         ('fine', 'https://fine.example/jwks', now(), null)`,
    );
    expect(await activities.notifyRunOutcome({ runId: 'rot-1' })).toEqual({ events: 1, sent: 2 });
    expect(await activities.notifyRunOutcome({ runId: 'jwks-1' })).toEqual({ events: 1, sent: 2 });
    expect(await activities.notifyRunOutcome({ runId: 'jwks-1' })).toEqual({ events: 1, sent: 0 });
    const kinds = http.posts.filter((p) => p.path.startsWith('/ops/')).map((p) => p.body.kind);
    expect(kinds.filter((k) => k === 'key-rotated')).toHaveLength(1);
    const failing = http.posts.filter((p) => p.body.kind === 'oidc-provider-failing');
    expect(failing.map((p) => (p.body.data as { provider: string }).provider)).toEqual(['down']);
    expect(failing[0]!.body.subject).toBe('[auth-maintenance] OIDC provider down failing for over 1 day(s)');
  });

  it('maint report --days N adds per-job cleanup statistics, as a table and as JSON', async () => {
    const env = { DATABASE_URL: db.url, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: worker.taskQueue };
    const text = await maint(['report', '--days', '7'], env);
    // No signing key in this database: CRITICAL, exit 2 (the monitoring plugin convention).
    expect(text.stdout).toMatch(/^status: CRITICAL/);
    expect(text.code, text.stderr).toBe(2);
    expect(text.stdout).toMatch(/cleanup over the last 7 day\(s\), since /);
    expect(text.stdout).toMatch(/^job\s+runs\s+failures\s+rows\s+dependents\s+median s\s+rows\/s\s+last success\s+last failure$/m);
    // One run that failed after its first batch (the unblacklisted, older token): no success, a failure time.
    expect(text.stdout).toMatch(/^purge-expired-tokens\s+1\s+1\s+1\s+0\s+\d+\.\d\d\s+[\d.]+\s+\S+Z$/m);
    const json = JSON.parse((await maint(['report', '--days', '7', '--json'], env)).stdout);
    expect(json.cleanup.days).toBe(7);
    const byJob = Object.fromEntries(json.cleanup.jobs.map((j: { job: string }) => [j.job, j]));
    expect(byJob['purge-expired-tokens']).toMatchObject({ runs: 1, failures: 1, rows: 1, dependents: 0, lastSuccessAt: null });
    expect(byJob['purge-verification-tokens']).toMatchObject({ runs: 1, failures: 0, rows: 12 });
    expect(byJob['purge-verification-tokens'].medianDurationMs).toBeGreaterThan(0);
    expect(byJob['health-report']).toMatchObject({ failures: 0, rows: 0 });
    const bad = await maint(['report', '--days', '0'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--days');
  });

  it('/metrics shows the job metrics after a purge, in the Prometheus text format', async () => {
    const server = await startMetricsServer({ registry: metrics.registry, port: 0, logger: createLogger({ level: 'silent' }) });
    try {
      const text = await (await fetch(server.url)).text();
      const samples = parsePrometheus(text);
      const value = (name: string, labels: Record<string, string> = {}) =>
        samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
      expect(value('maint_rows_deleted_total', { job: 'purge-verification-tokens', table: 'verification_token' })).toBe(12);
      // The failed purge's one committed batch, with its blacklist row counted under its own table.
      expect(value('maint_rows_deleted_total', { job: 'purge-expired-tokens', table: 'outstanding_token' })).toBe(1);
      expect(value('maint_batch_duration_seconds_count', { job: 'purge-verification-tokens' })).toBeGreaterThanOrEqual(1);
      // Every committed batch reports its three phases, each once.
      const batches = value('maint_batch_duration_seconds_count', { job: 'purge-verification-tokens' });
      for (const phase of ['open', 'statement', 'commit']) {
        expect(value('maint_batch_phase_seconds_count', { job: 'purge-verification-tokens', phase })).toBe(batches);
        expect(value('maint_batch_phase_seconds_sum', { job: 'purge-verification-tokens', phase })).toBeGreaterThan(0);
      }
      expect(value('maint_backlog_rows', { job: 'purge-verification-tokens' })).toBe(0);
      // The failed run's backlog is the planner's estimate less what it deleted: present, not exact.
      expect(value('maint_backlog_rows', { job: 'purge-expired-tokens' })).toBeGreaterThanOrEqual(0);
      const now = Date.now() / 1000;
      expect(value('maint_job_last_success_timestamp_seconds', { job: 'purge-verification-tokens' })).toBeGreaterThan(now - 120);
      expect(value('maint_job_last_failure_timestamp_seconds', { job: 'purge-expired-tokens' })).toBeGreaterThan(now - 120);
      expect(value('maint_job_last_success_timestamp_seconds', { job: 'purge-expired-tokens' })).toBeUndefined();
      expect(value('maint_oidc_providers_failing')).toBe(2); // 'down' and 'flaky' of the test before
      expect(value('maint_notifications_unsent', { channel: 'ops' })).toBeUndefined();
      expect(text).toMatch(/^# TYPE maint_batch_duration_seconds histogram$/m);
    } finally {
      await server.close();
    }
  });

  it('a schedule paused by a failed run is reported once per pause', async () => {
    const scheduleId = uniqueName('maint-test-paused');
    const schedule = await client.schedule.create({
      scheduleId,
      // Temporal learns how a run ended at the schedule's next wake-up: a short interval makes that soon.
      spec: { intervals: [{ every: '3 seconds' }] },
      // A batch size of 0 is refused: the run fails, and pause-on-failure pauses the schedule.
      action: { type: 'startWorkflow', workflowType: 'batchedPurge', args: [{ job: 'purge-expired-tokens', params: { batchSize: 0 } }], taskQueue: worker.taskQueue, workflowId: scheduleId },
      policies: { pauseOnFailure: true },
      memo: { managedBy: MANAGED_BY, job: 'purge-expired-tokens' },
    });
    try {
      const paused = await until(async () => (await pausedByFailure(client)).find((e) => e.data.scheduleId === scheduleId), 'the schedule paused by its failure', 60_000);
      expect(paused).toMatchObject({ kind: 'schedule-paused', job: 'purge-expired-tokens', subject: `schedule ${scheduleId} paused by a failure` });
      expect(paused.data.note).toMatch(/^paused due to workflow failure: /);
      const watch = { client, notifier, orm: db.orm, taskQueue: worker.taskQueue, since: new Date(Date.now() - 60_000) };
      await watchOnce(watch);
      await watchOnce(watch);
      const posts = http.posts.filter((p) => p.headers['idempotency-key'] === paused.id);
      expect(posts).toHaveLength(1);
      expect(posts[0]!.body).toMatchObject({ kind: 'schedule-paused', data: { scheduleId } });
      expect(smtp.mails.filter((m) => m.header('Message-ID') === messageIdOf(paused.id))).toHaveLength(1);

      // Its runs were refused at their start (the parameters): each has its audit row and is reported once.
      const failedRuns = http.posts.filter((p) => p.path.startsWith('/ops/') && p.body.kind === 'run-failed' && String((p.body.data as { workflowId: string }).workflowId).startsWith(scheduleId));
      expect(failedRuns.length).toBeGreaterThanOrEqual(1);
      expect(new Set(failedRuns.map((p) => p.headers['idempotency-key'])).size).toBe(failedRuns.length);
      expect(failedRuns[0]!.body).toMatchObject({ job: 'purge-expired-tokens', subject: '[auth-maintenance] purge-expired-tokens failed' });
      expect(String((failedRuns[0]!.body.data as { error: string }).error)).toMatch(/batchSize/);
      // The audited failure of the first test is not reported a second time.
      expect(http.posts.filter((p) => p.headers['idempotency-key'] === `${failedRunId}:run-failed` && p.path.startsWith('/ops/'))).toHaveLength(1);
    } finally {
      await deleteSchedule(client, scheduleId);
    }
  });
});
