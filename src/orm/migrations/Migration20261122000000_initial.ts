import { Migration } from '@mikro-orm/migrations';

/** Token tables with simplejwt's semantics, the run audit and the batch ledger. */
export class Migration20261122000000_initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "outstanding_token" (
      "id" bigserial primary key,
      "jti" varchar(255) not null,
      "user_id" bigint null,
      "token" text not null,
      "created_at" timestamptz null,
      "expires_at" timestamptz not null,
      constraint "outstanding_token_jti_key" unique ("jti"));`);
    this.addSql(`create index "outstanding_token_user_id_idx" on "outstanding_token" ("user_id");`);
    this.addSql(`create index "outstanding_token_expires_at_idx" on "outstanding_token" ("expires_at");`);
    this.addSql(`create table "blacklisted_token" (
      "id" bigserial primary key,
      "token_id" bigint not null,
      "blacklisted_at" timestamptz not null default now(),
      constraint "blacklisted_token_token_id_key" unique ("token_id"),
      constraint "blacklisted_token_token_id_foreign" foreign key ("token_id") references "outstanding_token" ("id") on update no action on delete no action);`);
    this.addSql(`create table "maintenance_run" (
      "id" varchar(64) primary key,
      "workflow_id" varchar(255) not null,
      "job" varchar(100) not null,
      "parameters" jsonb not null,
      "trigger" varchar(255) not null,
      "dry_run" boolean not null,
      "status" varchar(20) not null,
      "matched" bigint null,
      "deleted" bigint not null default 0,
      "children_deleted" jsonb not null default '{}',
      "batches" int not null default 0,
      "cutoff" timestamptz null,
      "started_at" timestamptz not null,
      "finished_at" timestamptz null,
      "duration_ms" bigint null,
      "rows_per_second" double precision null,
      "error" text null);`);
    this.addSql(`create index "maintenance_run_job_started_idx" on "maintenance_run" ("job", "started_at");`);
    this.addSql(`create table "purge_batch" (
      "run_id" varchar(64) not null,
      "batch_no" int not null,
      "deleted" int not null,
      "children" jsonb not null default '{}',
      "duration_ms" int not null,
      "committed_at" timestamptz not null default now(),
      constraint "purge_batch_pkey" primary key ("run_id", "batch_no"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "purge_batch";`);
    this.addSql(`drop table if exists "maintenance_run";`);
    this.addSql(`drop table if exists "blacklisted_token";`);
    this.addSql(`drop table if exists "outstanding_token";`);
  }
}
