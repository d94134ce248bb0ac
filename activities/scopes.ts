import { type Orm, dbFromOrm } from '../src/orm/index.js';
import type { Logger } from '../src/logger.js';
import { DEFAULT_SCOPES, parseScopesParams, type ScopesResult } from '../src/scopes.js';
import { checked } from '../src/temporal/failures.js';

export function createScopeActivities({ orm, logger }: { orm: Orm; logger: Logger }) {
  const db = dbFromOrm(orm);
  return {
    /**
     * Ensures the default scopes exist. Idempotent: existing scopes (and their descriptions, which an operator
     * may have edited) are left alone; concurrent runs cannot create a scope twice (primary key + DO NOTHING).
     */
    async ensureDefaultScopes(input: { params?: unknown }): Promise<ScopesResult> {
      const { dryRun } = checked(() => parseScopesParams(input.params));
      const names = DEFAULT_SCOPES.map((s) => s.name);
      let created: string[];
      if (dryRun) {
        const rows = await db.query<{ name: string }>(`SELECT name FROM scope WHERE name IN (${names.map(() => '?').join(', ')})`, names);
        const have = new Set(rows.map((r) => r.name));
        created = names.filter((n) => !have.has(n));
      } else {
        const rows = await db.query<{ name: string }>(
          `INSERT INTO scope (name, description) VALUES ${DEFAULT_SCOPES.map(() => '(?, ?)').join(', ')} ON CONFLICT (name) DO NOTHING RETURNING name`,
          DEFAULT_SCOPES.flatMap((s) => [s.name, s.description]),
        );
        created = names.filter((n) => rows.some((r) => r.name === n));
      }
      const result = { dryRun, created, existing: names.filter((n) => !created.includes(n)) };
      logger.info(result, dryRun ? 'default scopes checked (dry run)' : 'default scopes ensured');
      return result;
    },
  };
}
