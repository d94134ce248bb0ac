import { Migration } from '@mikro-orm/migrations';

/** Where each batch ended, so a retried batch reports the same keyset position as the committed one. */
export class Migration20261122030000_batch_last_ts extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "purge_batch" add column "last_ts" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "purge_batch" drop column "last_ts";`);
  }
}
