import type { Db } from '../../src/db/query.js';
import { chooseWalCompression, type WalCompressionChoice, type WalCompressionMode, type WalCompressionServer } from '../../src/purge/wal-compression.js';

/** The server's wal_compression, the values it accepts, whether this role may set it, and the version and role. */
export async function walCompressionServer(db: Db): Promise<WalCompressionServer & { version: number; role: string }> {
  const [s] = await db.query<{ setting: string; values: string[] | null; version: number; role: string; superuser: boolean }>(
    `SELECT setting, enumvals AS values, current_setting('server_version_num')::int AS version, current_user AS role,
            (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser
       FROM pg_settings WHERE name = 'wal_compression'`,
  );
  if (!s) return { setting: 'off', values: null, maySet: false, version: 0, role: '' };
  // has_parameter_privilege exists from PostgreSQL 15 (GRANT SET ON PARAMETER); before it, only a superuser may.
  const maySet = s.version >= 150_000 ? Boolean((await db.query<{ ok: boolean }>(`SELECT has_parameter_privilege('wal_compression', 'SET') AS ok`))[0]?.ok) : Boolean(s.superuser);
  return { setting: s.setting, values: s.values, maySet, version: s.version, role: s.role };
}

/** What a lane run's batches set, read once per lane run (a grant may come or go meanwhile). */
export async function walCompressionFor(db: Db, mode: WalCompressionMode): Promise<WalCompressionChoice> {
  if (mode === 'off') return { set: null, why: 'off' };
  return chooseWalCompression(mode, await walCompressionServer(db));
}
