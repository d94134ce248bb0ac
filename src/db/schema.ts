import { InputError } from '../kernel/errors.js';

/**
 * Where this tool keeps its own tables (audit, ledger, keys, scopes, JWKS cache): a schema of its own, so a
 * database another application owns (Django's `public`) is never altered. Connections put it first on the
 * search path, then `public`, so unqualified SQL finds our tables and the application's alike.
 */
export const DEFAULT_SCHEMA = 'auth_maintenance';

/** Lower case only: the name travels unquoted in the connection's `search_path` option. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A schema name of this tool's own: lower case, not `public`, not a system schema. */
export function parseSchemaName(name: string, field: string): string {
  if (!SCHEMA_NAME.test(name)) throw new InputError(field, `"${name}" is not allowed; expected lower-case letters, digits and "_" (at most 63), e.g. ${DEFAULT_SCHEMA}`);
  if (name === 'public' || name.startsWith('pg_')) throw new InputError(field, `"${name}" is not allowed; choose a schema of this tool's own, e.g. ${DEFAULT_SCHEMA}`);
  return name;
}

/** The connection option (pg's `options`) that sets the search path at connect time. */
export function searchPathOption(schema: string): string {
  return `-c search_path=${schema},public`;
}

/** pg client/pool settings for a URL, with our schema first on the search path. */
/** The application name of this tool's own connections: the purge's brake does not count its own lanes as the application's load. */
export const OWN_APPLICATION_NAME = 'auth-maintenance';

export function pgConfig(connectionString: string, schema: string, extra: Record<string, unknown> = {}) {
  return { connectionString, options: searchPathOption(schema), ...extra };
}

/** Tables of this tool (not the native job tables), moved into the schema on existing installs. */
export const OWN_TABLES = ['mikro_orm_migrations', 'maintenance_run', 'purge_batch', 'signing_key', 'scope', 'oidc_provider', 'notification_outbox'] as const;

/** The native job tables, created by the migrations and kept (in `public`) only where they are wanted. */
export const NATIVE_TABLES = [
  'blacklisted_token',
  'outstanding_token',
  'oauth_grant',
  'oauth_refresh_token',
  'oauth_access_token',
  'oauth_id_token',
  'user_otp',
  'pending_registration',
  'email_change_request',
  'verification_token',
  'access_token',
  'account',
] as const;

/** Where the migrations put the tables: this tool's schema, and whether the native job tables go to `public`. */
export interface TablePlacement {
  schema: string;
  nativeTables: boolean;
}
