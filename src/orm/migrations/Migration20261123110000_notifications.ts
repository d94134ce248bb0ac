import { Migration } from '@mikro-orm/migrations';

/**
 * The notification outbox: one row per (event, channel). The event id is stable (run id + kind, or schedule +
 * pause time), so recording an event twice is a no-op and a resend after a crash carries the same id.
 */
export class Migration20261123110000_notifications extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "notification_outbox" (
      "event_id" varchar(300) not null, "channel" varchar(100) not null, "kind" varchar(50) not null,
      "job" varchar(100) null, "run_id" varchar(100) null, "subject" text not null, "payload" jsonb not null,
      "created_at" timestamptz not null default now(), "sent_at" timestamptz null,
      "attempts" int not null default 0, "last_error" text null,
      constraint "notification_outbox_pkey" primary key ("event_id", "channel"));`);
    this.addSql(`create index "notification_outbox_unsent_idx" on "notification_outbox" ("sent_at", "created_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "notification_outbox";`);
  }
}
