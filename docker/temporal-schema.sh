#!/bin/sh
# Creates Temporal's databases when they are missing and creates or upgrades their schemas, then exits: what the
# deprecated auto-setup image did at every start (temporalio/docker-builds docker/auto-setup.sh,
# setup_postgres_schema). Safe on every `up`: a new volume, an existing one that never had Temporal's databases
# (an init script runs only on an empty data directory), and one already current. create-database ignores a
# database that exists, setup-schema -v 0.0 only adds the version table, update-schema applies the missing versions
# (temporalio/temporal v1.29.1 tools/sql, common/persistence/sql/sqlplugin/postgresql/admin.go).
# POSIX sh: the admin-tools image runs it with /bin/sh.
set -eu

: "${POSTGRES_SEEDS:=postgres}"
: "${DB_PORT:=5432}"
: "${POSTGRES_USER:?POSTGRES_USER is not set}"
: "${POSTGRES_PWD:?POSTGRES_PWD is not set}"
: "${DBNAME:=temporal}"
: "${VISIBILITY_DBNAME:=temporal_visibility}"
: "${TEMPORAL_SCHEMA_DIR:=/etc/temporal/schema/postgresql/v12}"
: "${SCHEMA_WAIT_SECONDS:=300}"

say() { echo "temporal-schema: $*" >&2; }

# Temporal 1.29.1 cannot use every password: the server writes it into a double-quoted YAML string
# (docker/config_template.yaml), and both the server and temporal-sql-tool put it into a URL with url.QueryEscape,
# which turns a space into "+" (common/persistence/sql/sqlplugin/postgresql/session/session.go). Refuse those at
# once, before a server that could never connect is started.
nl='
'
case "$POSTGRES_PWD" in
  *' '* | *'"'* | *'\'* | *"$nl"*)
    say 'POSTGRES_PASSWORD contains a space, a double quote, a backslash or a line break, which Temporal 1.29.1 cannot use; choose one without them (any other character works, / @ : # % + included)'
    exit 2
    ;;
esac

# temporal-sql-tool reads its connection from these variables (tools/sql/main.go): nothing secret on a command line.
export SQL_PLUGIN=postgres12 SQL_HOST="$POSTGRES_SEEDS" SQL_PORT="$DB_PORT" SQL_USER="$POSTGRES_USER" SQL_PASSWORD="$POSTGRES_PWD"

# Until PostgreSQL accepts TCP connections: a healthy container is not enough on a first start, and after a reboot
# the database may come back after us.
deadline=$(($(date +%s) + SCHEMA_WAIT_SECONDS))
until pg_isready -q -h "$SQL_HOST" -p "$SQL_PORT" -U "$SQL_USER" -d postgres; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    say "PostgreSQL at $SQL_HOST:$SQL_PORT did not accept TCP connections within ${SCHEMA_WAIT_SECONDS}s"
    exit 1
  fi
  say "waiting for PostgreSQL at $SQL_HOST:$SQL_PORT to accept TCP connections"
  sleep 2
done

# One step, retried a few times: a server that has just started may still restart or refuse a connection.
step() {
  tries=1
  until temporal-sql-tool "$@"; do
    if [ "$tries" -ge 5 ]; then
      say "temporal-sql-tool $* failed $tries times; giving up"
      exit 1
    fi
    tries=$((tries + 1))
    say "temporal-sql-tool $* failed; retrying ($tries of 5)"
    sleep 2
  done
}

for db in "$DBNAME" "$VISIBILITY_DBNAME"; do
  dir=$TEMPORAL_SCHEMA_DIR/temporal/versioned
  [ "$db" = "$VISIBILITY_DBNAME" ] && dir=$TEMPORAL_SCHEMA_DIR/visibility/versioned
  step --db "$db" create-database
  step --db "$db" setup-schema -v 0.0
  step --db "$db" update-schema -d "$dir"
done
say "Temporal's databases $DBNAME and $VISIBILITY_DBNAME are current"
