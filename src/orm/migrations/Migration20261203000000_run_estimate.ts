import { Migration } from '@mikro-orm/migrations';

/**
 * `estimated_matching`: the planner's estimate of the rows a real purge matches, recorded at its start, so its job's
 * backlog (`maint_backlog_rows`) reads what is left while it runs instead of nothing until it ends.
 */
export class Migration20261203000000_run_estimate extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "maintenance_run" add column "estimated_matching" bigint null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "maintenance_run" drop column "estimated_matching";`);
  }
}
