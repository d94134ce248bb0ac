import type { Command } from 'commander';
import { pgConfig } from '../../db/schema.js';
import { withPoolDb } from '../../db/query.js';
import { redactUrl } from '../../kernel/endpoints.js';
import { InputError } from '../../kernel/errors.js';
import { readLocalEnvironment } from '../../local/environment.js';
import { parseIntFlag, type SettingsSource } from '../context.js';

interface SeedFlags {
  tokens: number;
  expired: number;
  blacklisted: number;
  databaseUrl?: string;
}

export function registerSeed(program: Command, settings: SettingsSource): void {
  program
    .command('seed')
    .description('insert demo refresh tokens (some expired, some blacklisted) to try a purge on; inserts only')
    .option('--tokens <n>', 'how many tokens (1-10000000)', parseIntFlag('--tokens', 1, 10_000_000), 10_000)
    .option('--expired <percent>', 'share already expired (0-100)', parseIntFlag('--expired', 0, 100), 70)
    .option('--blacklisted <percent>', 'share of the expired ones that are blacklisted (0-100)', parseIntFlag('--blacklisted', 0, 100), 10)
    .option('--database-url <url>', 'database to seed (default: the local environment of `npm start`)')
    .action(async (flags: SeedFlags) => {
      // Demo rows belong in the local environment; another database must be named explicitly.
      const { config } = await settings();
      const local = await readLocalEnvironment(config.dataDir);
      const url = flags.databaseUrl ?? local?.databaseUrl;
      if (!url) throw new InputError('--database-url', 'no local environment found (run `npm start` first) and none given');
      await withPoolDb(pgConfig(url, config.schema, { max: 1 }), async (db) => {
        const expired = Math.round((flags.tokens * flags.expired) / 100);
        const rows = await db.query<{ first: string; last: string }>(
          `WITH ins AS (
             INSERT INTO outstanding_token (jti, user_id, token, created_at, expires_at)
             SELECT md5(random()::text || clock_timestamp()::text || g), (g % 1000) + 1, 'demo-token-' || g,
                    now() - interval '30 days',
                    CASE WHEN g <= ? THEN now() - (g || ' seconds')::interval ELSE now() + (g || ' seconds')::interval END
               FROM generate_series(1, ?::int) g
             RETURNING id)
           SELECT min(id)::text AS first, max(id)::text AS last FROM ins`,
          [expired, flags.tokens],
        );
        const blacklisted = await db.execute(
          `INSERT INTO blacklisted_token (token_id)
           SELECT id FROM outstanding_token WHERE id BETWEEN ? AND ? AND expires_at < now() AND random() * 100 < ?
           ON CONFLICT DO NOTHING`,
          [rows[0]!.first, rows[0]!.last, flags.blacklisted],
        );
        // Statistics now, not when autovacuum gets to it: the planner's estimates (progress, status) read them. The
        // inserts' row counts reach pg_stat first (a session sends them at most once a second unless told), or they
        // would be added again on top of what ANALYZE counted.
        await db.query('SELECT pg_stat_force_next_flush()');
        await db.query('ANALYZE outstanding_token, blacklisted_token');
        process.stdout.write(
          `seeded ${flags.tokens} tokens (${expired} expired, ${blacklisted} of those blacklisted) into ${redactUrl(url)}\n` +
            'try: npx maint run purge-expired-tokens --dry-run --wait\n',
        );
      });
    });
}
