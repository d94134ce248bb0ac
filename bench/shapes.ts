import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The table shapes the benchmark runs on: our own (an index on expires_at) and simplejwt's as Django's
 * migrations make it (no index on expires_at, foreign keys deferrable), each with its job, its single-DELETE
 * baseline and the live traffic an app sends it.
 */
export interface Shape {
  name: 'native' | 'django';
  tokens: string;
  blacklist: string;
  job: string;
  /** DDL run after our migrations (the Django shape's tables). */
  ddl(): Promise<string>;
  /** COPY column lists. */
  tokenColumns: string;
  blacklistColumns: string;
  /** A logout: blacklist the token with this jti. */
  logoutSql: string;
  /** The app's user table (a login updates `last_login`), and how the seed fills it with `$1` users. */
  users: string;
  seedUsersSql: string;
}

/** Users the seed creates: a login updates one of them. */
export const USERS = 10_000;

export const SHAPES: Record<Shape['name'], Shape> = {
  native: {
    name: 'native',
    tokens: 'outstanding_token',
    blacklist: 'blacklisted_token',
    job: 'purge-expired-tokens',
    ddl: async () => 'CREATE TABLE app_user (id integer PRIMARY KEY, last_login timestamptz NULL)',
    tokenColumns: 'id, jti, user_id, token, created_at, expires_at',
    blacklistColumns: 'id, token_id, blacklisted_at',
    logoutSql: 'INSERT INTO blacklisted_token (token_id) SELECT id FROM outstanding_token WHERE jti = $1 ON CONFLICT (token_id) DO NOTHING',
    users: 'app_user',
    seedUsersSql: 'INSERT INTO app_user (id) SELECT g FROM generate_series(1, $1::int) g',
  },
  django: {
    name: 'django',
    tokens: 'token_blacklist_outstandingtoken',
    blacklist: 'token_blacklist_blacklistedtoken',
    job: 'django-simplejwt-flush-expired',
    ddl: () => readFile(join(import.meta.dirname, '..', 'test', 'fixtures', 'django', 'simplejwt_token_blacklist.sql'), 'utf8'),
    tokenColumns: 'id, jti, user_id, token, created_at, expires_at',
    blacklistColumns: 'id, token_id, blacklisted_at',
    logoutSql:
      'INSERT INTO token_blacklist_blacklistedtoken (token_id, blacklisted_at) SELECT id, now() FROM token_blacklist_outstandingtoken WHERE jti = $1 ON CONFLICT (token_id) DO NOTHING',
    users: 'auth_user',
    seedUsersSql: `INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
      SELECT '!', false, 'user' || g, '', '', 'user' || g || '@example.com', false, true, now() FROM generate_series(1, $1::int) g`,
  },
};

export function shapeNamed(name: string | undefined): Shape {
  const shape = SHAPES[(name ?? 'native') as Shape['name']];
  if (!shape) throw new Error(`unknown shape ${name}; allowed: ${Object.keys(SHAPES).join(', ')}`);
  return shape;
}
