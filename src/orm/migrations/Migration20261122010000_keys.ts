import { Migration } from '@mikro-orm/migrations';

/** Signing keys and their lifecycle, default scopes, and the cached JWKS of external OIDC providers. */
export class Migration20261122010000_keys extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "signing_key" (
      "kid" varchar(64) not null,
      "alg" varchar(16) not null,
      "state" text not null,
      "public_jwk" jsonb not null,
      "private_key_enc" text null,
      "kek_id" varchar(16) null,
      "rotation_id" varchar(255) null,
      "superseded_by" varchar(64) null,
      "created_at" timestamptz not null default now(),
      "published_at" timestamptz null,
      "activated_at" timestamptz null,
      "retired_at" timestamptz null,
      "tokens_expire_by" timestamptz null,
      "withdrawn_at" timestamptz null,
      "deleted_at" timestamptz null,
      constraint "signing_key_pkey" primary key ("kid"),
      constraint "signing_key_state_check" check ("state" in ('pending', 'published', 'active', 'retired', 'inactive', 'deleted')));`);
    this.addSql(`alter table "signing_key" add constraint "signing_key_rotation_id_key" unique ("rotation_id");`);
    this.addSql(`create index "signing_key_state_idx" on "signing_key" ("state");`);
    // At most one signing key, and at most one key being introduced, whatever the callers do.
    this.addSql(`create unique index "signing_key_one_active" on "signing_key" ((true)) where "state" = 'active';`);
    this.addSql(`create unique index "signing_key_one_next" on "signing_key" ((true)) where "state" in ('pending', 'published');`);
    this.addSql(`create table "scope" (
      "name" varchar(100) not null,
      "description" text not null,
      "created_at" timestamptz not null default now(),
      constraint "scope_pkey" primary key ("name"));`);
    this.addSql(`create table "oidc_provider" (
      "name" varchar(100) not null,
      "jwks_uri" text not null,
      "etag" varchar(255) null,
      "last_good_jwks" jsonb null,
      "last_fetched_at" timestamptz null,
      "last_success_at" timestamptz null,
      "last_error" text null,
      constraint "oidc_provider_pkey" primary key ("name"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "oidc_provider";`);
    this.addSql(`drop table if exists "scope";`);
    this.addSql(`drop table if exists "signing_key";`);
  }
}
