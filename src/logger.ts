import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs; pretty when asked (a terminal). Known secret-bearing fields are redacted, and
 * connection strings must be passed through `redactUrl` before they reach a log line.
 */
export function createLogger(opts: { level?: string; format?: 'json' | 'pretty'; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  const options: pino.LoggerOptions = {
    name: opts.name ?? 'auth-maintenance',
    level: opts.level ?? 'info',
    redact: {
      paths: ['password', '*.password', 'databaseUrl', '*.databaseUrl', 'token', '*.token', 'privateKey', '*.privateKey', 'secret', '*.secret', 'kek', '*.kek'],
      censor: '***',
    },
  };
  if (opts.format === 'pretty') {
    return pino(options, pino.transport({ target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss' } }));
  }
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
