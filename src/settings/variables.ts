/**
 * Every environment variable the service reads, with its default and meaning: the one table. docs/configuration.md
 * shows it (test/unit/settings.test.ts holds the two equal), and the settings read a variable only through
 * `variable()`, which takes only a name of this table. A new setting is a row here and its parse in the settings.
 */
export interface Variable {
  name: string;
  /** The default, as the docs say it. */
  default: string;
  meaning: string;
  /** Read by the Temporal SDK's environment configuration (`@temporalio/envconfig`) from its own copy of the environment. */
  temporalSdk?: true;
}

export const VARIABLES = [
  { name: 'DATABASE_URL', default: 'embedded PostgreSQL', meaning: '`postgres://user:password@host:port/db` of the auth database' },
  { name: 'TEMPORAL_ADDRESS', default: '`127.0.0.1:7233`', meaning: 'Temporal frontend `host:port`; when set, `npm start` uses it and starts no dev server', temporalSdk: true },
  { name: 'TEMPORAL_NAMESPACE', default: '`default`', meaning: 'Temporal namespace' },
  { name: 'TEMPORAL_TASK_QUEUE', default: '`auth-maintenance`', meaning: 'task queue of the worker' },
  { name: 'TEMPORAL_API_KEY', default: 'unset', meaning: 'API key, sent as a bearer token (never logged); turns TLS on unless `TEMPORAL_TLS=false`', temporalSdk: true },
  { name: 'TEMPORAL_TLS', default: 'unset', meaning: '`true` for TLS with the system\'s roots, `false` to force plaintext', temporalSdk: true },
  { name: 'TEMPORAL_TLS_CLIENT_CERT_PATH', default: 'unset', meaning: 'client certificate (mTLS), with `TEMPORAL_TLS_CLIENT_KEY_PATH`; `TEMPORAL_TLS_CLIENT_CERT_DATA` takes the PEM itself', temporalSdk: true },
  { name: 'TEMPORAL_TLS_CLIENT_KEY_PATH', default: 'unset', meaning: 'key of the client certificate; `TEMPORAL_TLS_CLIENT_KEY_DATA` takes the PEM itself', temporalSdk: true },
  { name: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', default: 'the system\'s roots', meaning: 'CA that signed the server\'s certificate (private CAs)', temporalSdk: true },
  { name: 'TEMPORAL_TLS_SERVER_NAME', default: 'the address\'s host', meaning: 'server name to verify when it differs from the address', temporalSdk: true },
  { name: 'TEMPORAL_GRPC_META_<NAME>', default: 'unset', meaning: 'extra gRPC header `<name>` on every call', temporalSdk: true },
  { name: 'TEMPORAL_PROFILE', default: '`default`', meaning: 'profile of the Temporal config file to read (an unknown profile is an error naming it)', temporalSdk: true },
  { name: 'TEMPORAL_CONFIG_FILE', default: '`~/.config/temporalio/temporal.toml`', meaning: 'the Temporal config file (the one `temporal config set` writes); variables override its profile', temporalSdk: true },
  { name: 'TEMPORAL_PORT', default: '`7233`', meaning: 'port of the dev server `npm start` runs (when `TEMPORAL_ADDRESS` is unset)' },
  { name: 'TEMPORAL_UI_PORT', default: '`8233`', meaning: 'port of the dev server\'s Web UI' },
  { name: 'TEMPORAL_CLI_PATH', default: 'found or built', meaning: 'path of a Temporal CLI v1.5.1 to use' },
  { name: 'PATH', default: 'the system\'s', meaning: 'where `npm start` looks for `temporal` (v1.5.1) and `go` to build it' },
  { name: 'XDG_CACHE_HOME', default: '`~/.cache`', meaning: 'the Temporal CLI is cached (or built) in `auth-maintenance/temporal-cli-v1.5.1/` under it' },
  { name: 'MAINT_DATA_DIR', default: '`./.data`', meaning: 'where the local environment keeps its data (git-ignored, 0700)' },
  { name: 'MAINT_PG_PORT', default: '`54329`', meaning: 'port of the embedded PostgreSQL' },
  { name: 'LOG_LEVEL', default: '`info`', meaning: '`fatal`, `error`, `warn`, `info`, `debug`, `trace`, `silent`' },
  { name: 'LOG_FORMAT', default: '`pretty` on a terminal, else `json`', meaning: 'log format: `json` or `pretty`' },
  { name: 'MAINT_CONFIG', default: '`./maint.config.yaml` if present', meaning: 'config file: schedule overrides, custom rules and notifications (`maint.config.example.yaml`); read once when a process starts, so a worker takes a changed file when it restarts' },
  { name: 'MAINT_SCHEMA', default: '`auth_maintenance`', meaning: 'schema of this tool\'s own tables (audit, ledger, keys, scopes, JWKS cache, migration history); first on the search path, then `public`' },
  { name: 'MAINT_NATIVE_TABLES', default: '`true` without `DATABASE_URL`, else `false`', meaning: 'create the native job tables (`account`, `access_token`, `outstanding_token`, ...) in `public`' },
  { name: 'MAINT_MAX_PARALLEL', default: '`8`', meaning: 'most lanes one purge may use on this worker (1-16): a run asking for more (`--parallel`) is refused naming this variable' },
  { name: 'MAINT_SCHEDULES_TAKE_OVER', default: '`false`', meaning: 'the schedule sync at start (and `maint schedules sync`) moves managed schedules whose runs go to another task queue to this one; without it they are left to that deployment, and the sync says so' },
  { name: 'MAINT_BRAKE_REPLICA_LAG_MS', default: '`2000`', meaning: "the deployment's limit of a purge's replica lag: purges wait between batches while a streaming replica's replay lag is above this many ms, or their budget's lower limit (0: no limit but the budget's; the role needs `pg_read_all_stats` to see the lag)" },
  { name: 'MAINT_BRAKE_REPLICA_LAG_BYTES', default: '`134217728` (128 MiB)', meaning: "the deployment's limit of WAL a streaming replica may have still to replay while purges run, or their budget's lower limit (0: no limit but the budget's); the time alone misses a replica that stopped replaying" },
  { name: 'MAINT_BRAKE_ACTIVE_SESSIONS', default: '`0` (no check)', meaning: "purges wait between batches while more of the application's sessions than this (or their budget's `--max-active-sessions`) are running a statement" },
  { name: 'MAINT_BRAKE_SLEEP_COEF', default: '`0`', meaning: 'after each batch, a purge lane sleeps the batch\'s duration times at least this (0-100, decimals allowed): 1 leaves the database idle half the time' },
  { name: 'MAINT_WAL_COMPRESSION', default: '`auto`', meaning: "`auto`: a purge's batches compress their full-page images (`SET LOCAL wal_compression`, lz4 where the server has it) when the role may set it (superuser, or PostgreSQL 15+ `GRANT SET ON PARAMETER wal_compression`), about a third of the WAL; `off`: the server's setting" },
  { name: 'MAINT_BRAKE_THROTTLE_QUERY', default: 'unset', meaning: 'a SQL query (one `SELECT`, `WITH` or `VALUES`) purges run between batches, in a read-only transaction with a 1 s statement timeout: while its first row\'s first column is true (or it fails) they wait, e.g. `SELECT extract(hour FROM now() AT TIME ZONE \'Europe/Berlin\') BETWEEN 9 AND 17`' },
  { name: 'MAINT_KEK', default: '`npm start`: generated into `.data/kek` (0600); external worker: none (rotation then fails saying so)', meaning: 'key-encryption key of private signing keys: base64 or base64url of 32 bytes' },
  { name: 'KEY_ALG', default: '`RS256`', meaning: '`RS256`, `ES256` or `EdDSA`' },
  { name: 'JWKS_CACHE_SECONDS', default: '`3600`', meaning: 'verifiers\' JWKS cache lifetime: wait between publishing and activating a key; the JWKS `Cache-Control` max-age (0-604800)' },
  { name: 'MAX_TOKEN_LIFETIME_SECONDS', default: '`86400`', meaning: 'how long a retired key stays in the JWKS (0 to 1 year)' },
  { name: 'KEY_ROTATE_AFTER_DAYS', default: '`30`', meaning: 'age of the signing key that makes a rotation due (1-3650)' },
  { name: 'KEY_RETENTION_DAYS', default: '`180`', meaning: 'how long an inactive key is kept after retirement (0-3650)' },
  { name: 'MAX_ACTIVE_KEYS', default: '`3`', meaning: 'most keys in the JWKS at once: published, active and retired (2-20)' },
  { name: 'JWKS_PORT', default: 'unset', meaning: '`npm start` serves the JWKS on this port when set (`maint keys serve` by default: 8234)' },
  { name: 'JWKS_HOST', default: '`127.0.0.1`', meaning: 'address the JWKS is served on' },
  { name: 'OIDC_PROVIDERS', default: 'unset', meaning: 'JSON `[{"name":"google","jwksUri":"https://..."}]` (`http://` only for localhost)' },
  { name: 'OIDC_PROVIDERS_FILE', default: 'unset', meaning: 'a file with that JSON (not together with `OIDC_PROVIDERS`)' },
  { name: 'OIDC_FETCH_TIMEOUT_MS', default: '`10000`', meaning: 'timeout of one JWKS fetch attempt (100-120000)' },
  { name: 'OIDC_FETCH_ATTEMPTS', default: '`4`', meaning: 'attempts per provider and run (1-20)' },
  { name: 'OIDC_RETRY_INITIAL_MS', default: '`1000`', meaning: 'first backoff between attempts, doubling, at most 5 min (100-600000)' },
  { name: 'METRICS_PORT', default: 'unset', meaning: 'serve `/metrics` (ours and the Temporal SDK\'s) on this port when set' },
  { name: 'METRICS_HOST', default: '`127.0.0.1`', meaning: 'address `/metrics` is served on' },
] as const satisfies readonly Variable[];

export type VariableName = Exclude<(typeof VARIABLES)[number]['name'], `${string}<NAME>`>;

/** A variable of the table, as set: an empty value counts as unset. */
export function variable(env: NodeJS.ProcessEnv, name: VariableName): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}
