import pg from 'pg';
import { migrate, openOrm } from '../src/orm/index.js';
import { DEFAULT_SCHEMA, pgConfig } from '../src/db/schema.js';
import { seedTokens } from './seed.js';
import type { Shape } from './shapes.js';

/** `url` with its database replaced. */
export function withDb(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** A client whose connection errors reject the query in flight instead of crashing the process. */
export function client(url: string, onError: (err: Error) => void = () => undefined): pg.Client {
  const c = new pg.Client(pgConfig(url, DEFAULT_SCHEMA)); // our search path: the ledger lives in our schema
  c.on('error', onError);
  return c;
}

/** Runs `sql` on `url`; `app`: with the application's search path (public), as its own migrations run. */
export async function admin(url: string, sql: string, app = false): Promise<void> {
  const c = app ? new pg.Client({ connectionString: url }) : client(url);
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/**
 * A database `name` with our schema migrated, the shape's tables and `n` tokens seeded (70% expired as of `now`),
 * for copies of it (CREATE DATABASE ... TEMPLATE) that each measurement starts from.
 */
export async function seedTemplate(adminUrl: string, name: string, shape: Shape, n: number, now: Date, onProgress?: (done: number) => void) {
  await admin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin(adminUrl, `CREATE DATABASE ${name}`);
  const orm = await openOrm(withDb(adminUrl, name), { nativeTables: true }); // the benchmark purges the native token tables
  await migrate(orm);
  await orm.close();
  const ddl = await shape.ddl();
  // The app's tables in public, where Django's migrations put them, not in our schema.
  if (ddl) await admin(withDb(adminUrl, name), ddl, true);
  const seedClient = client(withDb(adminUrl, name));
  await seedClient.connect();
  const started = performance.now();
  try {
    const seeded = await seedTokens(seedClient, shape, n, now, onProgress);
    return { ...seeded, seconds: (performance.now() - started) / 1000 };
  } finally {
    await seedClient.end();
  }
}

/** A fresh copy of the template database `template`; returns its URL. */
export async function copyOf(adminUrl: string, template: string, name: string): Promise<string> {
  await admin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin(adminUrl, `CREATE DATABASE ${name} TEMPLATE ${template}`);
  return withDb(adminUrl, name);
}
