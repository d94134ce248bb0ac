import type { BrakeSettings } from '../purge/brake.js';
import { homedir } from 'node:os';
import * as z from 'zod/mini';
import { join, resolve } from 'node:path';
import { parseAddress, parseDatabaseUrl, parsePort } from '../kernel/endpoints.js';
import { InputError, Problems } from '../kernel/errors.js';
import { checkNamespace, checkTaskQueue, decimal, int, oneOf, parseField } from '../kernel/validate.js';
import { parseThrottleQuery } from '../purge/throttle-query.js';
import { WAL_COMPRESSION_MODES, type WalCompressionMode } from '../purge/wal-compression.js';
import { DEFAULT_SCHEMA, parseSchemaName } from '../db/schema.js';
import type { KeyPolicy } from '../keys/types.js';
import { TEMPORAL_CLI_VERSION } from '../local/temporal-cli.js';
import type { OidcConfig } from '../oidc/providers.js';
import { PARALLEL } from '../purge/params.js';
import type { TemporalSecurity } from '../temporal/connect.js';
import { loadKek, loadKeyPolicy } from './keys.js';
import { loadOidcConfig } from './oidc.js';
import { loadTemporalProfile, type TemporalProfile } from './temporal-profile.js';
import { variable } from './variables.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const LOG_LEVEL = z.enum(LOG_LEVELS, { error: `{value} is not one of ${LOG_LEVELS.join(', ')}` });
const LOG_FORMAT = z.enum(['json', 'pretty'], { error: '{value} is not one of json, pretty' });

/** Every setting the environment gives, checked (the table of variables: src/settings/variables.ts). */
export interface Config {
  databaseUrl?: string;
  temporalAddress: string;
  /** True when TEMPORAL_ADDRESS or the Temporal profile names a server: never start a dev server then. */
  temporalAddressExplicit: boolean;
  /** API key, TLS and gRPC metadata from Temporal's environment configuration (never logged). */
  temporalSecurity: TemporalSecurity;
  namespace: string;
  /** TEMPORAL_NAMESPACE is set (else the CLI takes the namespace `npm start` recorded). */
  namespaceExplicit: boolean;
  taskQueue: string;
  /** TEMPORAL_TASK_QUEUE is set (else the CLI takes the task queue `npm start` recorded). */
  taskQueueExplicit: boolean;
  temporalCliPath?: string;
  /** Where a Temporal CLI is looked for (PATH) and cached or built, and the environment a build runs in. */
  temporalCliSearch: { searchPath: string; cacheDir: string; buildEnv: NodeJS.ProcessEnv };
  /** The environment child processes run in (`go install`, the embedded PostgreSQL binaries): the one read. */
  childEnv: NodeJS.ProcessEnv;
  temporalUiPort: number;
  dataDir: string;
  embeddedPgPort: number;
  logLevel: (typeof LOG_LEVELS)[number];
  logFormat: 'json' | 'pretty';
  /** MAINT_CONFIG: the config file named explicitly (it must exist); else ./maint.config.yaml when present. */
  configFile?: string;
  /** Where this tool's own tables live. */
  schema: string;
  /** Whether the migrations create the native job tables in `public`. */
  nativeTables: boolean;
  /** Most lanes one purge may use on this worker. */
  maxParallel: number;
  /** Sync moves managed schedules another task queue owns to this one (otherwise it leaves them and says so). */
  schedulesTakeOver: boolean;
  /** The impact budget purges keep between batches (MAINT_BRAKE_*). */
  brakes: BrakeSettings;
  /** MAINT_BRAKE_THROTTLE_QUERY: the user's query purges wait on while it returns true. */
  throttleQuery?: string;
  /** MAINT_WAL_COMPRESSION (src/purge/wal-compression.ts). */
  walCompression: WalCompressionMode;
  /** MAINT_KEK, when set (the local environment otherwise generates one into the data dir). */
  kek?: Buffer;
  keyPolicy: KeyPolicy;
  oidc: OidcConfig;
  /** JWKS_PORT / JWKS_HOST: the worker process serves the JWKS when the port is set. */
  jwks: { port?: number; host: string };
  /** METRICS_PORT / METRICS_HOST: the worker process serves /metrics when the port is set. */
  metrics: { port?: number; host: string };
}

/** Where a Temporal CLI found or built by `npm start` is cached: under XDG_CACHE_HOME, else ~/.cache. */
function temporalCliCacheDir(env: NodeJS.ProcessEnv): string {
  return join(variable(env, 'XDG_CACHE_HOME') ?? join(homedir(), '.cache'), 'auth-maintenance', `temporal-cli-v${TEMPORAL_CLI_VERSION}`);
}

/** MAINT_SCHEMA: this tool's schema. */
export function maintSchema(env: NodeJS.ProcessEnv): string {
  const name = variable(env, 'MAINT_SCHEMA');
  return name === undefined ? DEFAULT_SCHEMA : parseSchemaName(name, 'MAINT_SCHEMA');
}

/**
 * MAINT_NATIVE_TABLES: the native job tables (`account`, `access_token`, `outstanding_token`, ...) are for databases
 * this tool owns (the local environment): by default they are made only when DATABASE_URL is unset.
 */
export function nativeTablesWanted(env: NodeJS.ProcessEnv): boolean {
  return flagVariable(env, 'MAINT_NATIVE_TABLES', !variable(env, 'DATABASE_URL'));
}

/**
 * MAINT_BRAKE_*: the deployment's limits of every run's budget (src/purge/budget.ts), and what a run without a budget
 * keeps; 0: no limit.
 */
function loadBrakes(env: NodeJS.ProcessEnv, problems: Problems): BrakeSettings {
  const lag = problems.take(() => parseField('MAINT_BRAKE_REPLICA_LAG_MS', int({ min: 0, max: 3_600_000 }), variable(env, 'MAINT_BRAKE_REPLICA_LAG_MS'), 2_000), 2_000)!;
  const bytes = problems.take(() => parseField('MAINT_BRAKE_REPLICA_LAG_BYTES', int({ min: 0, max: 2 ** 40 }), variable(env, 'MAINT_BRAKE_REPLICA_LAG_BYTES'), 134_217_728), 134_217_728)!;
  const sessions = problems.take(() => parseField('MAINT_BRAKE_ACTIVE_SESSIONS', int({ min: 0, max: 100_000 }), variable(env, 'MAINT_BRAKE_ACTIVE_SESSIONS'), 0), 0)!;
  const coef = problems.take(() => parseField('MAINT_BRAKE_SLEEP_COEF', decimal({ min: 0, max: 100 }), variable(env, 'MAINT_BRAKE_SLEEP_COEF'), 0), 0)!;
  return { maxReplicaLagMs: lag > 0 ? lag : null, maxReplicaLagBytes: bytes > 0 ? bytes : null, maxActiveSessions: sessions > 0 ? sessions : null, sleepCoefficient: coef };
}

/** A true/false variable (1 and 0 too). */
function flagVariable(env: NodeJS.ProcessEnv, name: 'MAINT_NATIVE_TABLES' | 'MAINT_SCHEDULES_TAKE_OVER', fallback: boolean): boolean {
  const v = variable(env, name);
  if (v === undefined) return fallback;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new InputError(name, `"${v}" is not allowed; expected true or false`);
}

/** An optional port and the address it is served on. */
function endpoint(env: NodeJS.ProcessEnv, problems: Problems, port: 'JWKS_PORT' | 'METRICS_PORT', host: 'JWKS_HOST' | 'METRICS_HOST') {
  const p = problems.take(() => (variable(env, port) ? parsePort(variable(env, port), port, 0) : undefined), undefined);
  return { ...(p ? { port: p } : {}), host: variable(env, host) ?? '127.0.0.1' };
}

/** The Temporal address: the profile's or TEMPORAL_ADDRESS, else the local dev server on TEMPORAL_PORT. */
function temporalAddressOf(env: NodeJS.ProcessEnv, temporal: TemporalProfile): string {
  if (!temporal.address) return parseAddress(`127.0.0.1:${parsePort(variable(env, 'TEMPORAL_PORT'), 'TEMPORAL_PORT', 7233)}`).address;
  const field = variable(env, 'TEMPORAL_ADDRESS') ? 'TEMPORAL_ADDRESS' : `address of Temporal profile "${temporal.profile ?? 'default'}"`;
  return parseAddress(temporal.address, field).address;
}

/**
 * Reads every setting the environment gives (`env`, the process's by default): each invalid value is reported by
 * its variable's name, all of them at once.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems = new Problems();
  const take = problems.take.bind(problems);
  const temporal = take(() => loadTemporalProfile(env), {} as TemporalProfile);
  const taskQueue = variable(env, 'TEMPORAL_TASK_QUEUE') ?? 'auth-maintenance';
  take(() => {
    try {
      checkTaskQueue('TEMPORAL_TASK_QUEUE', taskQueue);
    } catch {
      throw new InputError('TEMPORAL_TASK_QUEUE', 'is not a task queue name; expected 1 to 1000 printable characters');
    }
  }, undefined);
  const tty: Config['logFormat'] = process.stdout.isTTY ? 'pretty' : 'json';
  const config: Config = {
    databaseUrl: take(() => (variable(env, 'DATABASE_URL') ? parseDatabaseUrl(variable(env, 'DATABASE_URL')!) : undefined), undefined),
    temporalAddress: take(() => temporalAddressOf(env, temporal), '127.0.0.1:7233'),
    temporalAddressExplicit: Boolean(temporal.address),
    temporalSecurity: { apiKey: temporal.apiKey, tls: temporal.tls, metadata: temporal.metadata },
    namespace: take(() => checkNamespace('TEMPORAL_NAMESPACE', temporal.namespace || 'default'), 'default'),
    namespaceExplicit: Boolean(variable(env, 'TEMPORAL_NAMESPACE')),
    taskQueue,
    taskQueueExplicit: Boolean(variable(env, 'TEMPORAL_TASK_QUEUE')),
    temporalCliPath: variable(env, 'TEMPORAL_CLI_PATH'),
    temporalCliSearch: { searchPath: variable(env, 'PATH') ?? '', cacheDir: temporalCliCacheDir(env), buildEnv: env },
    childEnv: env,
    temporalUiPort: take(() => parsePort(variable(env, 'TEMPORAL_UI_PORT'), 'TEMPORAL_UI_PORT', 8233), 8233),
    dataDir: resolve(variable(env, 'MAINT_DATA_DIR') ?? '.data'),
    embeddedPgPort: take(() => parsePort(variable(env, 'MAINT_PG_PORT'), 'MAINT_PG_PORT', 54329), 54329),
    logLevel: take(() => parseField('LOG_LEVEL', LOG_LEVEL, variable(env, 'LOG_LEVEL'), 'info'), 'info'),
    logFormat: take(() => parseField('LOG_FORMAT', LOG_FORMAT, variable(env, 'LOG_FORMAT'), tty), tty),
    ...(variable(env, 'MAINT_CONFIG') ? { configFile: resolve(variable(env, 'MAINT_CONFIG')!) } : {}),
    schema: take(() => maintSchema(env), DEFAULT_SCHEMA),
    nativeTables: take(() => nativeTablesWanted(env), false),
    maxParallel: take(() => parseField('MAINT_MAX_PARALLEL', int({ min: PARALLEL.min, max: PARALLEL.max }), variable(env, 'MAINT_MAX_PARALLEL'), 8), 8),
    schedulesTakeOver: take(() => flagVariable(env, 'MAINT_SCHEDULES_TAKE_OVER', false), false),
    brakes: loadBrakes(env, problems),
    walCompression: take(() => parseField('MAINT_WAL_COMPRESSION', oneOf(WAL_COMPRESSION_MODES), variable(env, 'MAINT_WAL_COMPRESSION'), 'auto'), 'auto')!,
    ...(variable(env, 'MAINT_BRAKE_THROTTLE_QUERY') ? { throttleQuery: take(() => parseThrottleQuery(variable(env, 'MAINT_BRAKE_THROTTLE_QUERY')!, 'MAINT_BRAKE_THROTTLE_QUERY'), undefined) } : {}),
    kek: take(() => loadKek(env), undefined),
    keyPolicy: loadKeyPolicy(env, problems),
    oidc: loadOidcConfig(env, problems),
    jwks: endpoint(env, problems, 'JWKS_PORT', 'JWKS_HOST'),
    metrics: endpoint(env, problems, 'METRICS_PORT', 'METRICS_HOST'),
  };
  problems.throwIfAny();
  return config;
}
