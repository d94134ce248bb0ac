import { Migration } from '@mikro-orm/migrations';

/**
 * What a purge left behind (docs/purge-engine.md, "After a purge").
 * - `wal_start_lsn`: the server's WAL insert position when the run started (pg_lsn as text), so its end can say how
 *   much WAL the server wrote over the run;
 * - `aftermath`: per table dead tuples, autovacuum's threshold and verdict, the WAL, what the run left of what it
 *   matched, advice, and its VACUUM when asked for. Rows written before this migration have neither.
 */
export class Migration20261202000000_aftermath extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "maintenance_run" add column "wal_start_lsn" varchar(32) null, add column "aftermath" jsonb null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "maintenance_run" drop column "wal_start_lsn", drop column "aftermath";`);
  }
}
