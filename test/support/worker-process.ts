// A worker in its own process, so a test can SIGKILL it mid-purge like a crashed host, or have it kill itself
// right after a key lifecycle step committed (CRASH_AFTER_KEY_STEP) or a notification was sent
// (CRASH_AFTER_NOTIFY_SEND). NOTIFY_CONFIG (the config file's `notifications:` section as JSON) turns notifications
// on; FAIL_AFTER_BATCH fails the purge for good after its first batch; METRICS_PORT serves /metrics like `npm start`.
import { ApplicationFailure } from '@temporalio/activity';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import type { FaultHooks } from '../../activities/index.js';
import { openOrm } from '../../src/orm/index.js';
import { parseKek } from '../../src/keys/policy.js';
import { createLogger } from '../../src/logger.js';
import { createWorker } from '../../src/worker.js';
import { loadSettings } from '../../src/settings/index.js';
import { createJobMetrics } from '../../src/metrics/metrics.js';
import { sdkMetricsTelemetry } from '../../src/metrics/runtime.js';
import { freeLoopbackPort, startMetricsServer } from '../../src/metrics/server.js';
import { loadNotifications } from '../../src/settings/notifications.js';
import { Catalogue } from '../../src/catalogue/index.js';
import { createNotifier } from '../../src/notify/outbox.js';

const env = process.env;
const sdkMetricsBind = env.METRICS_PORT ? `127.0.0.1:${await freeLoopbackPort()}` : undefined;
Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [], ...(sdkMetricsBind ? { telemetryOptions: sdkMetricsTelemetry(sdkMetricsBind) } : {}) });
const orm = await openOrm(env.DATABASE_URL!);
const delay = Number(env.BATCH_DELAY_MS ?? 0);
const crashAfter = env.CRASH_AFTER_KEY_STEP;
const faults: FaultHooks = {
  ...(delay ? { afterBatchCommit: () => new Promise<void>((r) => setTimeout(r, delay)) } : {}),
  ...(crashAfter
    ? {
        afterKeyStep: ({ step }) => {
          if (step !== crashAfter) return;
          process.stdout.write(`crashing after ${step}\n`);
          process.kill(process.pid, 'SIGKILL');
        },
      }
    : {}),
};
if (env.FAIL_AFTER_BATCH) {
  faults.afterBatchCommit = () => {
    throw ApplicationFailure.nonRetryable('injected failure: the disk is on fire', 'Injected');
  };
}
const logger = createLogger({ level: 'silent' });
const notifier = env.NOTIFY_CONFIG
  ? createNotifier({
      orm,
      logger,
      config: loadNotifications({ notifications: JSON.parse(env.NOTIFY_CONFIG) }, env, new Catalogue().names()),
      hooks: env.CRASH_AFTER_NOTIFY_SEND
        ? {
            afterSend: ({ eventId, channel }) => {
              process.stdout.write(`crashing after sending ${eventId} to ${channel}\n`);
              process.kill(process.pid, 'SIGKILL');
            },
          }
        : {},
    })
  : undefined;
const metrics = createJobMetrics({ orm, logger, rotateAfterSeconds: 30 * 86_400, collectProcessMetrics: true });
if (env.METRICS_PORT) await startMetricsServer({ registry: metrics.registry, port: Number(env.METRICS_PORT), sdkMetricsUrl: `http://${sdkMetricsBind}/metrics`, logger });
const { worker } = await createWorker({
  address: env.TEMPORAL_ADDRESS!,
  settings: loadSettings(env, { notificationSecrets: false }),
  taskQueue: env.TASK_QUEUE!,
  orm,
  logger,
  metrics,
  notifier,
  workflowBundle: { codePath: env.BUNDLE_PATH! },
  faults,
  ...(env.MAINT_KEK ? { keys: { kek: parseKek(env.MAINT_KEK), policy: JSON.parse(env.KEY_POLICY!) } } : {}),
  // A killed worker's sticky queue would hold its workflows' next tasks until a timeout: do not use one.
  ...(crashAfter || env.CRASH_AFTER_NOTIFY_SEND ? { maxCachedWorkflows: 0 } : {}),
});
process.stdout.write('ready\n');
await worker.run();
