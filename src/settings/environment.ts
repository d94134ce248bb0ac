import { resolve } from 'node:path';
import { TASK_QUEUE_MAX_LENGTH } from '../kernel/limits.js';
import type { TemporalSecurity } from '../temporal/connect.js';
import { loadTemporalProfile } from './temporal-profile.js';

import { InputError } from '../kernel/errors.js';

const HOST_PORT = /^(?<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(?<port>\d{1,5})$/;

/** Validates a `host:port` Temporal frontend address. */
export function parseAddress(value: string, field = 'TEMPORAL_ADDRESS'): { host: string; port: number; address: string } {
  const m = HOST_PORT.exec(value.trim());
  const port = m ? Number(m.groups!.port) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new InputError(field, `"${value}" is not an address; expected host:port with a port from 1 to 65535, e.g. 127.0.0.1:7233`);
  }
  return { host: m.groups!.host!, port, address: `${m.groups!.host}:${port}` };
}

export function parsePort(value: string | undefined, field: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new InputError(field, `"${value}" is not a port; expected an integer from 1 to 65535`);
  }
  return n;
}

export function parseDatabaseUrl(value: string, field = 'DATABASE_URL'): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(field, 'is not a URL; expected postgres://user:password@host:port/database');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new InputError(field, `protocol "${url.protocol}" is not supported; expected postgres:// or postgresql://`);
  }
  if (url.pathname.length <= 1) throw new InputError(field, 'names no database; expected postgres://user:password@host:port/database');
  return value;
}

/** Replaces the password in a connection URL so it can be logged or printed. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '<unparseable url>';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function isLogLevel(value: string): value is (typeof LOG_LEVELS)[number] {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export interface Config {
  databaseUrl?: string;
  temporalAddress: string;
  /** True when TEMPORAL_ADDRESS or the Temporal profile names a server: never start a dev server then. */
  temporalAddressExplicit: boolean;
  /** API key, TLS and gRPC metadata from Temporal's environment configuration (never logged). */
  temporalSecurity: TemporalSecurity;
  namespace: string;
  taskQueue: string;
  temporalCliPath?: string;
  temporalUiPort: number;
  dataDir: string;
  embeddedPgPort: number;
  logLevel: (typeof LOG_LEVELS)[number];
  logFormat: 'json' | 'pretty';
}

/** Reads configuration from the environment; every invalid value is reported by its variable name. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const temporal = loadTemporalProfile(env);
  const namespace = temporal.namespace || 'default';
  if (!/^[A-Za-z0-9._-]{1,255}$/.test(namespace)) {
    throw new InputError('TEMPORAL_NAMESPACE', `"${namespace}" is not a namespace name; allowed: letters, digits, ".", "_", "-"`);
  }
  const taskQueue = env.TEMPORAL_TASK_QUEUE || 'auth-maintenance';
  if (taskQueue.length > TASK_QUEUE_MAX_LENGTH || /[\u0000-\u001f\u007f]/.test(taskQueue)) {
    throw new InputError('TEMPORAL_TASK_QUEUE', `is not a task queue name; expected 1 to ${TASK_QUEUE_MAX_LENGTH} printable characters`);
  }
  const logLevel = env.LOG_LEVEL || 'info';
  if (!isLogLevel(logLevel)) throw new InputError('LOG_LEVEL', `"${env.LOG_LEVEL}" is not one of ${LOG_LEVELS.join(', ')}`);
  const format = env.LOG_FORMAT || (process.stdout.isTTY ? 'pretty' : 'json');
  if (format !== 'json' && format !== 'pretty') throw new InputError('LOG_FORMAT', `"${format}" is not one of json, pretty`);
  return {
    databaseUrl: env.DATABASE_URL ? parseDatabaseUrl(env.DATABASE_URL) : undefined,
    temporalAddress: parseAddress(
      temporal.address || `127.0.0.1:${parsePort(env.TEMPORAL_PORT, 'TEMPORAL_PORT', 7233)}`,
      temporal.address && !env.TEMPORAL_ADDRESS ? `address of Temporal profile "${temporal.profile ?? 'default'}"` : 'TEMPORAL_ADDRESS',
    ).address,
    temporalAddressExplicit: Boolean(temporal.address),
    temporalSecurity: { apiKey: temporal.apiKey, tls: temporal.tls, metadata: temporal.metadata },
    namespace,
    taskQueue,
    temporalCliPath: env.TEMPORAL_CLI_PATH || undefined,
    temporalUiPort: parsePort(env.TEMPORAL_UI_PORT, 'TEMPORAL_UI_PORT', 8233),
    dataDir: resolve(env.MAINT_DATA_DIR || '.data'),
    embeddedPgPort: parsePort(env.MAINT_PG_PORT, 'MAINT_PG_PORT', 54329),
    logLevel,
    logFormat: format,
  };
}
