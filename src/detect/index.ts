import { InputError } from '../kernel/errors.js';
import type { Db } from '../db/query.js';
import { readForeignKeyCatalog } from '../db/catalog.js';
import { isRelationCondition } from '../purge/relations.js';
import type { JobDefinition, PurgeParams, RetentionRule } from '../purge/types.js';
import { impliedVersion } from './migrations.js';

/**
 * `maint detect`: what a database holds, read from `django_migrations` and the catalog, and which presets apply
 * to it. Reads only; the index advice is text for an operator to run, nothing is created.
 */

/** The presets that target a Django app's tables, by the app label its migrations are recorded under. */
const PRESET_APPS: ReadonlyArray<{ job: string; app: string }> = [
  { job: 'django-simplejwt-flush-expired', app: 'token_blacklist' },
  { job: 'django-oauth-toolkit-cleartokens', app: 'oauth2_provider' },
  { job: 'django-clearsessions', app: 'sessions' },
  { job: 'hidp-remove-stale-unverified-accounts', app: 'hidp_accounts' },
  { job: 'hidp-remove-complete-and-stale-email-change-requests', app: 'hidp_accounts' },
];

export interface DetectedPreset {
  job: string;
  /** The Django app whose tables it targets, and whether django_migrations records it. */
  app: string;
  migrated: boolean;
  /** Tables it deletes from or unlinks in (and reads), on this database. */
  tables: string[];
  /** Why it would refuse to run here (a foreign key it does not know), when it would. */
  refused?: string;
  /** `CREATE INDEX CONCURRENTLY` statements that would let its batches read only the rows they delete. */
  indexes: string[];
}

export interface Detection {
  /** Whether the database has Django's `django_migrations`. */
  django: boolean;
  /** Per app with migrations, the newest applied and the release they imply (where they tell). */
  apps: Array<{ app: string; migrations: number; newest: string; implies?: string }>;
  presets: DetectedPreset[];
  /** Presets whose app is recorded but whose tables are not all here. */
  incomplete: Array<{ job: string; missing: string[] }>;
}

/** Every (table, column) a step looks rows up by: its timestamp, its dependents' foreign keys, its probes. */
function lookups(rule: RetentionRule): Array<[string, string]> {
  const out: Array<[string, string]> = [[rule.table, rule.timestampColumn]];
  const walk = (children: RetentionRule['children'] | undefined) => {
    for (const c of children ?? []) {
      out.push([c.table, c.foreignKey]);
      walk(c.children);
    }
  };
  walk(rule.children);
  for (const c of rule.where ?? []) if (isRelationCondition(c) && c.op !== 'referenced_row_older') out.push([c.table, c.foreignKey]);
  for (const e of rule.cascade?.edges ?? []) out.push([e.table, e.column]);
  return out;
}

/** Every table a step touches or reads. */
function tablesOf(rule: RetentionRule): string[] {
  const out = [rule.table];
  const walk = (children: RetentionRule['children'] | undefined) => {
    for (const c of children ?? []) {
      out.push(c.table);
      walk(c.children);
    }
  };
  walk(rule.children);
  for (const c of rule.where ?? []) if (isRelationCondition(c)) out.push(c.table);
  for (const e of rule.cascade?.edges ?? []) out.push(e.table);
  return out;
}

/** An index name PostgreSQL keeps whole (at most 63 bytes). */
function indexName(table: string, column: string): string {
  const name = `${table}_${column}_maint_idx`;
  return name.length <= 63 ? name : `${name.slice(0, 50)}_${(name.length % 1000).toString().padStart(3, '0')}_idx`;
}

export async function detect(db: Db, purges: readonly JobDefinition[]): Promise<Detection> {
  const catalog = await readForeignKeyCatalog(db);
  const django = catalog.tables.includes('django_migrations');
  const rows = django ? await db.query<{ app: string; name: string }>('SELECT app, name FROM django_migrations ORDER BY app, name') : [];
  const byApp = new Map<string, string[]>();
  for (const r of rows) byApp.set(r.app, [...(byApp.get(r.app) ?? []), r.name]);
  const apps = [...byApp].map(([app, names]) => {
    const implies = impliedVersion(app, names);
    return { app, migrations: names.length, newest: names[names.length - 1]!, ...(implies ? { implies } : {}) };
  });
  // Btree indexes, valid and not partial, by (table, leading column).
  const indexed = new Set(
    (
      await db.query<{ t: string; c: string }>(
        `SELECT i.indrelid::regclass::text AS t, a.attname::text AS c
           FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
          WHERE i.indisvalid AND i.indpred IS NULL AND am.amname = 'btree'`,
      )
    ).map((r) => `${r.t}.${r.c}`),
  );
  const presets: DetectedPreset[] = [];
  const incomplete: Detection['incomplete'] = [];
  for (const { job: name, app } of PRESET_APPS) {
    const job = purges.find((j) => j.name === name);
    if (!job) continue;
    const defaults = { dryRun: true } as PurgeParams;
    let steps = job.steps;
    let refused: string | undefined;
    if (job.stepsFromCatalog) {
      try {
        steps = job.stepsFromCatalog(catalog, defaults, job.declaredForeignKeys ?? []);
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        refused = err.message;
        // Refused on a foreign key: what it would touch is not known until that is declared.
        if (refused.startsWith('foreignKeys')) steps = [];
      }
    }
    const tables = [...new Set(steps.flatMap(tablesOf))];
    const missing = tables.filter((t) => !catalog.tables.includes(t));
    // A preset whose user table is not found (no HIdP) refuses on the catalog alone: it does not apply.
    const applies = missing.length === 0 && !(refused && !refused.startsWith('foreignKeys'));
    if (!applies) {
      if (byApp.has(app)) incomplete.push({ job: name, missing: missing.length ? missing : [refused ?? ''] });
      continue;
    }
    const wanted = [...new Set(steps.flatMap(lookups).map(([t, c]) => `${t}.${c}`))].filter((tc) => !indexed.has(tc));
    const indexes = wanted.map((tc) => {
      const [t, c] = tc.split('.') as [string, string];
      return `CREATE INDEX CONCURRENTLY "${indexName(t, c)}" ON "${t}" ("${c}");`;
    });
    presets.push({ job: name, app, migrated: byApp.has(app), tables, ...(refused ? { refused } : {}), indexes });
  }
  return { django, apps, presets, incomplete };
}
