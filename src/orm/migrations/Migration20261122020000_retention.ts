import { Migration } from '@mikro-orm/migrations';

/** The tables of the other cleanup jobs (accounts, access/verification tokens, OTPs, OAuth) and per-step counts. */
export class Migration20261122020000_retention extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "purge_batch" add column "step" int not null default 0, add column "updated" int not null default 0;`);
    this.addSql(`alter table "maintenance_run" add column "updated" bigint not null default 0, add column "steps" jsonb null;`);
    this.addSql(`create table "account" (
      "id" bigserial primary key, "email" varchar(254) not null, "is_verified" boolean not null default false,
      "created_at" timestamptz not null default now(), "verified_at" timestamptz null,
      constraint "account_email_key" unique ("email"));`);
    this.addSql(`create index "account_created_at_idx" on "account" ("created_at");`);
    this.addSql(`create table "access_token" (
      "id" bigserial primary key, "token" varchar(255) not null, "user_id" bigint null,
      "created_at" timestamptz not null default now(), "expires_at" timestamptz not null,
      "revoked" boolean not null default false, "revoked_at" timestamptz null,
      constraint "access_token_token_key" unique ("token"),
      constraint "access_token_user_id_foreign" foreign key ("user_id") references "account" ("id") on update no action on delete no action);`);
    this.addSql(`create index "access_token_expires_at_idx" on "access_token" ("expires_at");`);
    this.addSql(`create index "access_token_revoked_at_idx" on "access_token" ("revoked_at");`);
    this.addSql(`create table "verification_token" (
      "id" bigserial primary key, "user_id" bigint null, "token_type" varchar(50) not null, "token" varchar(255) not null,
      "created_at" timestamptz not null default now(), "expires_at" timestamptz not null, "used_at" timestamptz null,
      constraint "verification_token_token_key" unique ("token"),
      constraint "verification_token_user_id_foreign" foreign key ("user_id") references "account" ("id") on update no action on delete no action);`);
    this.addSql(`create index "verification_token_expires_at_idx" on "verification_token" ("expires_at");`);
    this.addSql(`create table "email_change_request" (
      "id" bigserial primary key, "user_id" bigint not null, "new_email" varchar(254) not null, "token" varchar(255) not null,
      "created_at" timestamptz not null default now(), "completed_at" timestamptz null,
      constraint "email_change_request_token_key" unique ("token"),
      constraint "email_change_request_user_id_foreign" foreign key ("user_id") references "account" ("id") on update no action on delete no action);`);
    this.addSql(`create index "email_change_request_created_at_idx" on "email_change_request" ("created_at");`);
    this.addSql(`create index "email_change_request_completed_at_idx" on "email_change_request" ("completed_at");`);
    this.addSql(`create table "pending_registration" (
      "id" bigserial primary key, "email" varchar(254) not null, "otp_hash" varchar(255) not null,
      "created_at" timestamptz not null default now(), "expires_at" timestamptz not null);`);
    this.addSql(`create index "pending_registration_expires_at_idx" on "pending_registration" ("expires_at");`);
    this.addSql(`create table "user_otp" (
      "id" bigserial primary key, "user_id" bigint null, "purpose" varchar(50) not null, "code_hash" varchar(255) not null,
      "created_at" timestamptz not null default now(), "expires_at" timestamptz not null,
      constraint "user_otp_user_id_foreign" foreign key ("user_id") references "account" ("id") on update no action on delete no action);`);
    this.addSql(`create index "user_otp_expires_at_idx" on "user_otp" ("expires_at");`);
    this.addSql(`create table "oauth_id_token" (
      "id" bigserial primary key, "jti" uuid not null, "user_id" bigint null,
      "created_at" timestamptz not null default now(), "expires_at" timestamptz not null,
      constraint "oauth_id_token_jti_key" unique ("jti"),
      constraint "oauth_id_token_user_id_foreign" foreign key ("user_id") references "account" ("id") on update no action on delete no action);`);
    this.addSql(`create index "oauth_id_token_expires_at_idx" on "oauth_id_token" ("expires_at");`);
    this.addSql(`create table "oauth_access_token" (
      "id" bigserial primary key, "token" varchar(255) not null, "user_id" bigint null,
      "created_at" timestamptz not null default now(), "expires_at" timestamptz not null,
      "id_token_id" bigint null, "source_refresh_token_id" bigint null,
      constraint "oauth_access_token_token_key" unique ("token"),
      constraint "oauth_access_token_id_token_id_key" unique ("id_token_id"),
      constraint "oauth_access_token_source_refresh_token_id_key" unique ("source_refresh_token_id"),
      constraint "oauth_access_token_user_id_foreign" foreign key ("user_id") references "account" ("id") on update no action on delete no action,
      constraint "oauth_access_token_id_token_id_foreign" foreign key ("id_token_id") references "oauth_id_token" ("id") on update no action on delete no action);`);
    this.addSql(`create index "oauth_access_token_expires_at_idx" on "oauth_access_token" ("expires_at");`);
    this.addSql(`create table "oauth_refresh_token" (
      "id" bigserial primary key, "token" varchar(255) not null, "user_id" bigint null, "access_token_id" bigint null,
      "created_at" timestamptz not null default now(), "revoked_at" timestamptz null,
      constraint "oauth_refresh_token_access_token_id_key" unique ("access_token_id"),
      constraint "oauth_refresh_token_user_id_foreign" foreign key ("user_id") references "account" ("id") on update no action on delete no action,
      constraint "oauth_refresh_token_access_token_id_foreign" foreign key ("access_token_id") references "oauth_access_token" ("id") on update no action on delete no action);`);
    this.addSql(`create index "oauth_refresh_token_revoked_at_idx" on "oauth_refresh_token" ("revoked_at");`);
    this.addSql(`alter table "oauth_access_token" add constraint "oauth_access_token_source_refresh_token_id_foreign" foreign key ("source_refresh_token_id") references "oauth_refresh_token" ("id") on update no action on delete no action;`);
    this.addSql(`create table "oauth_grant" (
      "id" bigserial primary key, "code" varchar(255) not null, "user_id" bigint null,
      "created_at" timestamptz not null default now(), "expires_at" timestamptz not null,
      constraint "oauth_grant_code_key" unique ("code"),
      constraint "oauth_grant_user_id_foreign" foreign key ("user_id") references "account" ("id") on update no action on delete no action);`);
    this.addSql(`create index "oauth_grant_expires_at_idx" on "oauth_grant" ("expires_at");`);
  }

  override async down(): Promise<void> {
    for (const t of ['oauth_grant', 'oauth_refresh_token', 'oauth_access_token', 'oauth_id_token', 'user_otp', 'pending_registration', 'email_change_request', 'verification_token', 'access_token', 'account']) {
      this.addSql(`drop table if exists "${t}" cascade;`);
    }
    this.addSql(`alter table "maintenance_run" drop column "updated", drop column "steps";`);
    this.addSql(`alter table "purge_batch" drop column "step", drop column "updated";`);
  }
}
