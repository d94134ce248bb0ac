#!/bin/sh
# Creates or upgrades Temporal's schemas in the compose PostgreSQL (what the deprecated auto-setup image did at
# every start), then exits. Safe to run again: setup-schema -v 0.0 only adds the version table, update-schema
# applies the versions that are missing.
set -eu
SCHEMA=/etc/temporal/schema/postgresql/v12
for db in temporal temporal_visibility; do
  dir=$SCHEMA/temporal/versioned
  [ "$db" = temporal_visibility ] && dir=$SCHEMA/visibility/versioned
  temporal-sql-tool --plugin postgres12 --ep postgres -p 5432 -u "$POSTGRES_USER" --pw "$POSTGRES_PWD" --db "$db" setup-schema -v 0.0
  temporal-sql-tool --plugin postgres12 --ep postgres -p 5432 -u "$POSTGRES_USER" --pw "$POSTGRES_PWD" --db "$db" update-schema -d "$dir"
done
echo "Temporal schemas are current"
