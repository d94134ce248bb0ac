import { Migration } from '@mikro-orm/migrations';

/**
 * Every run on record, and one purge of a job at a time.
 * - `execution_run_id`: the Temporal run that writes the row (the executions of a continue-as-new chain claim it in
 *   turn); `first_run_id`: the chain's first run; `replaces`: the row of the execution a reset or retried execution
 *   replaces, which keeps its own row as it ended.
 * - `exclusive`: a real purge's row while it runs holds its job: the partial unique index refuses a second one.
 *   Rows written before this migration hold nothing.
 */
export class Migration20261201000000_run_lineage extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "maintenance_run" add column "execution_run_id" varchar(64) null, add column "first_run_id" varchar(64) null,
      add column "replaces" varchar(64) null, add column "exclusive" boolean not null default false;`);
    this.addSql(`create unique index "maintenance_run_execution_run_id_idx" on "maintenance_run" ("execution_run_id");`);
    this.addSql(`create index "maintenance_run_first_run_id_idx" on "maintenance_run" ("first_run_id");`);
    this.addSql(`create unique index "maintenance_run_one_running_idx" on "maintenance_run" ("job") where "exclusive" and "status" = 'running';`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "maintenance_run_one_running_idx";`);
    this.addSql(`drop index if exists "maintenance_run_first_run_id_idx";`);
    this.addSql(`drop index if exists "maintenance_run_execution_run_id_idx";`);
    this.addSql(`alter table "maintenance_run" drop column "execution_run_id", drop column "first_run_id", drop column "replaces", drop column "exclusive";`);
  }
}
