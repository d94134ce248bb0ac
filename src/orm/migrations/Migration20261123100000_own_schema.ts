import { Migration } from '@mikro-orm/migrations';
import { NATIVE_TABLES, type TablePlacement } from '../../db/schema.js';

/**
 * The earlier migrations create every table unqualified, so on a fresh database they land in our schema (first
 * on the search path). Our own tables stay there. The native job tables go to `public` where they are wanted
 * (the local environment), and are dropped from our schema otherwise (a database another application owns);
 * `public` is never touched then. On an existing install they already live in `public` and stay. Where they go is
 * the ORM's placement, handed to the migration when the ORM opens (MikroORM instantiates migrations itself).
 */
export function ownSchemaMigration({ schema, nativeTables }: TablePlacement) {
  return class Migration20261123100000_own_schema extends Migration {
    override async up(): Promise<void> {
      for (const table of NATIVE_TABLES) {
        // Only what the earlier migrations just made in our schema; a table of that name elsewhere is not ours to move.
        const here = await this.execute(`SELECT 1 FROM pg_tables WHERE schemaname = '${schema}' AND tablename = '${table}'`);
        if (!here.length) continue;
        this.addSql(nativeTables ? `alter table "${schema}"."${table}" set schema public;` : `drop table "${schema}"."${table}" cascade;`);
      }
    }

    override async down(): Promise<void> {
      // Placing tables is not undone: moving them back could collide with the application's own.
    }
  };
}
