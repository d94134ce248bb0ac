import * as z from 'zod/mini';
import { parseField } from './validate.js';

/** The values that say where to connect: addresses, ports, database URLs (flags and environment variables). */

const HOST_PORT = /^(?<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(?<port>\d{1,5})$/;

const notAddress = { error: '{value} is not an address; expected host:port with a port from 1 to 65535, e.g. 127.0.0.1:7233' };
const ADDRESS = z.pipe(
  z.string(notAddress).check(
    z.refine((v: string) => {
      const m = HOST_PORT.exec(v.trim());
      return Boolean(m) && Number(m!.groups!.port) >= 1 && Number(m!.groups!.port) <= 65535;
    }, notAddress),
  ),
  z.transform((v: string) => {
    const m = HOST_PORT.exec(v.trim())!;
    const port = Number(m.groups!.port);
    return { host: m.groups!.host!, port, address: `${m.groups!.host}:${port}` };
  }),
);

/** A `host:port` Temporal frontend address. */
export function parseAddress(value: string, field = 'TEMPORAL_ADDRESS'): { host: string; port: number; address: string } {
  return parseField(field, ADDRESS, value ?? '')!;
}

const notPort = { error: '{value} is not a port; expected an integer from 1 to 65535' };
const PORT = z.pipe(
  z.transform((v: unknown) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v)),
  z.int(notPort).check(z.gte(1, notPort), z.lte(65535, notPort)),
);

/** A TCP port (unset or empty: `fallback`). */
export function parsePort(value: string | undefined, field: string, fallback: number): number {
  return parseField(field, PORT, value === '' ? undefined : value, fallback);
}

// A database URL carries its password: no message quotes it.
const DATABASE_URL = z.string().check(
  z.refine((v: string) => URL.canParse(v), { error: 'is not a URL; expected postgres://user:password@host:port/database', abort: true }),
  z.refine((v: string) => ['postgres:', 'postgresql:'].includes(new URL(v).protocol), {
    error: (issue) => `protocol "${new URL(String(issue.input)).protocol}" is not supported; expected postgres:// or postgresql://`,
    abort: true,
  }),
  z.refine((v: string) => new URL(v).pathname.length > 1, { error: 'names no database; expected postgres://user:password@host:port/database' }),
);

/** A `postgres://` URL naming a database. */
export function parseDatabaseUrl(value: string, field = 'DATABASE_URL'): string {
  return parseField(field, DATABASE_URL, value ?? '')!;
}

/** A connection URL with its password replaced, to be logged or printed. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '<unparseable url>';
  }
}
