// A worker in its own process, as `npm start` runs it: /metrics on METRICS_PORT with the SDK's runtime metrics, and
// a worker killed with SIGKILL between sending a notification and recording it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Client } from '@temporalio/client';
import { createLogger } from '../src/logger.js';
import { loadNotifications } from '../src/settings/notifications.js';
import { Catalogue } from '../src/catalogue/index.js';
import { createNotifier } from '../src/notify/outbox.js';
import { messageIdOf } from '../src/notify/send.js';
import { freeLoopbackPort } from '../src/metrics/server.js';
import { startHandle } from './support/start.js';

import { connectTestClient, createTestDatabase, scalar, seedTokens, uniqueName, until, type TestDatabase } from './support/env.js';
import { parsePrometheus, startHttpReceiver, startSmtpReceiver } from './support/receivers.js';

let client: Client;
let db: TestDatabase;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
let http: Awaited<ReturnType<typeof startHttpReceiver>>;
let notifications: Record<string, unknown>;

beforeAll(async () => {
  client = await connectTestClient();
  db = await createTestDatabase();
  smtp = await startSmtpReceiver();
  http = await startHttpReceiver();
  notifications = {
    email: { host: '127.0.0.1', port: smtp.port, tls: 'none', from: 'maint@example.test', to: ['ops@example.test'] },
    webhooks: [{ name: 'ops', url: `${http.url}/ops` }],
  };
});
afterAll(async () => {
  await client?.connection.close();
  await db?.close();
  await smtp?.close();
  await http?.close();
});

async function spawnWorker(taskQueue: string, env: Record<string, string>): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ['bin/run.mjs', 'test/support/worker-process.ts'], {
    env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), DATABASE_URL: db.url, TASK_QUEUE: taskQueue, BUNDLE_PATH: inject('workflowBundlePath'), ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  await until(async () => out.includes('ready'), 'worker process ready', 60_000);
  return { child, output: () => out };
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

it('curl $METRICS_PORT/metrics after a purge: our job metrics and the Temporal SDK runtime metrics, Prometheus-named', async () => {
  const port = await freeLoopbackPort();
  const taskQueue = uniqueName('tq-metrics');
  const { child } = await spawnWorker(taskQueue, { METRICS_PORT: String(port) });
  try {
    await seedTokens(db, [{ expiresAt: new Date(Date.now() - 3_600_000), blacklisted: true }, { expiresAt: new Date(Date.now() - 7_200_000) }]);
    const handle = await startHandle(client, { job: 'purge-expired-tokens', params: { batchSize: 1 }, taskQueue, trigger: 'test' });
    await handle.result();
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const samples = parsePrometheus(await res.text());
    const find = (name: string, labels: Record<string, string> = {}) => samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    expect(find('maint_rows_deleted_total', { job: 'purge-expired-tokens', table: 'outstanding_token' })?.value).toBe(2);
    expect(find('maint_rows_deleted_total', { job: 'purge-expired-tokens', table: 'blacklisted_token' })?.value).toBe(1);
    expect(find('maint_batch_duration_seconds_count', { job: 'purge-expired-tokens' })?.value).toBeGreaterThanOrEqual(2);
    expect(find('maint_job_last_success_timestamp_seconds', { job: 'purge-expired-tokens' })?.value).toBeGreaterThan(Date.now() / 1000 - 120);
    expect(find('process_resident_memory_bytes')?.value).toBeGreaterThan(0);
    // The SDK's own metrics, merged in: counters end in _total, durations are in seconds.
    const sdk = samples.filter((s) => s.name.startsWith('temporal_'));
    // Counted per activity type: the purge's bookkeeping activities and its lane run, all through this worker.
    const activityRuns = sdk.filter((s) => s.name === 'temporal_activity_execution_latency_seconds_count').reduce((a, s) => a + s.value, 0);
    expect(activityRuns).toBeGreaterThanOrEqual(3);
    expect(sdk.some((s) => /^temporal_.*_total$/.test(s.name))).toBe(true);
    expect(sdk.some((s) => /_milliseconds/.test(s.name))).toBe(false);
  } finally {
    await stop(child, 'SIGTERM');
  }
});

it('a worker killed between sending a notification and recording it: the resend carries the same Message-ID, then nothing more', async () => {
  const taskQueue = uniqueName('tq-notify-crash');
  const { child, output } = await spawnWorker(taskQueue, { NOTIFY_CONFIG: JSON.stringify(notifications), FAIL_AFTER_BATCH: '1', CRASH_AFTER_NOTIFY_SEND: '1' });
  await seedTokens(db, [{ expiresAt: new Date(Date.now() - 3_600_000) }, { expiresAt: new Date(Date.now() - 3_600_000) }]);
  const handle = await startHandle(client, { job: 'purge-expired-tokens', params: { batchSize: 1 }, taskQueue, trigger: 'test' });
  const eventId = `${handle.firstExecutionRunId}:run-failed`;
  try {
    await once(child, 'exit');
    expect(output()).toContain(`crashing after sending ${eventId} to email`);
    expect(smtp.mails).toHaveLength(1);
    expect(await scalar(db, `SELECT count(*) FROM notification_outbox WHERE event_id = $1 AND sent_at IS NULL`, [eventId])).toBe(2);

    // The next delivery pass (the worker's outbox watch, or the activity's retry) sends what is unsent.
    const notifier = createNotifier({ orm: db.orm, logger: createLogger({ level: 'silent' }), config: loadNotifications({ notifications }, process.env, new Catalogue().names()) });
    expect(await notifier.deliver()).toEqual({ sent: 2, failed: [] });
    expect(await notifier.deliver()).toEqual({ sent: 0, failed: [] });

    expect(smtp.mails.map((m) => m.header('Message-ID'))).toEqual([messageIdOf(eventId), messageIdOf(eventId)]);
    expect(http.posts.map((p) => p.headers['idempotency-key'])).toEqual([eventId]);
    expect(await scalar(db, `SELECT count(*) FROM notification_outbox WHERE event_id = $1 AND sent_at IS NOT NULL`, [eventId])).toBe(2);
  } finally {
    await stop(child, 'SIGKILL');
    await handle.terminate('test over').catch(() => undefined);
  }
});
