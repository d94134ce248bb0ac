import { Migration } from '@mikro-orm/migrations';

/**
 * Planned purges: the ledger records each batch's lane and walk position (so a retried batch reports the same
 * position as the committed one), and the run record keeps what the run fixed at its start (reference time,
 * cutoffs, the rules' fingerprint, the plan) so a continued run takes them from here, never from its input.
 */
export class Migration20261123000000_lanes extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "purge_batch" add column "lane" int not null default 0, add column "examined" int null,
      add column "skipped" int not null default 0, add column "last_key" text null;`);
    this.addSql(`alter table "maintenance_run" add column "run_time" timestamptz null, add column "cutoffs" jsonb null,
      add column "fingerprint" varchar(64) null, add column "plan" jsonb null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "purge_batch" drop column "lane", drop column "examined", drop column "skipped", drop column "last_key";`);
    this.addSql(`alter table "maintenance_run" drop column "run_time", drop column "cutoffs", drop column "fingerprint", drop column "plan";`);
  }
}
