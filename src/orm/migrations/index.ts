import type { MigrationObject } from '@mikro-orm/core';
import type { TablePlacement } from '../../db/schema.js';
import { Migration20261122000000_initial } from './Migration20261122000000_initial.js';
import { Migration20261122010000_keys } from './Migration20261122010000_keys.js';
import { Migration20261122020000_retention } from './Migration20261122020000_retention.js';
import { Migration20261122030000_batch_last_ts } from './Migration20261122030000_batch_last_ts.js';
import { Migration20261123000000_lanes } from './Migration20261123000000_lanes.js';
import { ownSchemaMigration } from './Migration20261123100000_own_schema.js';
import { Migration20261123110000_notifications } from './Migration20261123110000_notifications.js';
import { Migration20261201000000_run_lineage } from './Migration20261201000000_run_lineage.js';
import { Migration20261202000000_aftermath } from './Migration20261202000000_aftermath.js';
import { Migration20261203000000_run_estimate } from './Migration20261203000000_run_estimate.js';

/** Listed explicitly so migrations run the same from tsx, tests and a bundled worker; `placement` says where tables go. */
export function migrationsList(placement: TablePlacement): MigrationObject[] {
  return [
    { name: 'Migration20261122000000_initial', class: Migration20261122000000_initial },
    { name: 'Migration20261122010000_keys', class: Migration20261122010000_keys },
    { name: 'Migration20261122020000_retention', class: Migration20261122020000_retention },
    { name: 'Migration20261122030000_batch_last_ts', class: Migration20261122030000_batch_last_ts },
    { name: 'Migration20261123000000_lanes', class: Migration20261123000000_lanes },
    { name: 'Migration20261123100000_own_schema', class: ownSchemaMigration(placement) },
    { name: 'Migration20261123110000_notifications', class: Migration20261123110000_notifications },
    { name: 'Migration20261201000000_run_lineage', class: Migration20261201000000_run_lineage },
    { name: 'Migration20261202000000_aftermath', class: Migration20261202000000_aftermath },
    { name: 'Migration20261203000000_run_estimate', class: Migration20261203000000_run_estimate },
  ];
}
