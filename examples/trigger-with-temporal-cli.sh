#!/usr/bin/env bash
# Triggers a maintenance job with the `temporal` CLI alone (cron, CI, an incident runbook), and prints its result.
#
#   examples/trigger-with-temporal-cli.sh purge-expired-tokens '{"dryRun": true}'
#
# The workflow checks its input at its first step, so a bad parameter fails the run at once, naming the field.
# TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and TEMPORAL_TASK_QUEUE choose the server and the worker's queue.
set -euo pipefail

# The `temporal` CLI: TEMPORAL_CLI_PATH, then PATH, then the copy `npm start` built into its cache.
temporal="${TEMPORAL_CLI_PATH:-}"
if [[ -z "$temporal" ]]; then
  if command -v temporal >/dev/null 2>&1; then
    temporal="$(command -v temporal)"
  else
    cached="${XDG_CACHE_HOME:-$HOME/.cache}/auth-maintenance/temporal-cli-v1.5.1/temporal"
    [[ -x "$cached" ]] && temporal="$cached"
  fi
fi
if [[ -z "$temporal" ]]; then
  echo "temporal: the Temporal CLI is not on PATH, in TEMPORAL_CLI_PATH, or in ${XDG_CACHE_HOME:-$HOME/.cache}/auth-maintenance/ (where \`npm start\` builds it);" >&2
  echo "  run \`npm start\` once, or install it: https://docs.temporal.io/cli#install" >&2
  exit 127
fi

job="${1:-purge-expired-tokens}"
params="${2:-{\}}"
queue="${TEMPORAL_TASK_QUEUE:-auth-maintenance}"
# Same id scheme as `maint run`: maint-<job>-<UTC time>.
id="maint-${job}-$(date -u +%Y-%m-%dT%H-%M-%S-%3NZ)"
# Job names are lower-case letters, digits and dashes, so they need no quoting inside JSON.
[[ "$job" =~ ^[a-z0-9][a-z0-9._-]*$ ]] || { echo "job: \"$job\" is not a job name; see \`maint jobs\`" >&2; exit 2; }
dry_run=false
[[ "$params" =~ \"dryRun\"[[:space:]]*:[[:space:]]*true ]] && dry_run=true

# Every purge job is the one batchedPurge workflow; the other jobs' workflow types are listed by `maint jobs`.
"$temporal" workflow start \
  --address "${TEMPORAL_ADDRESS:-127.0.0.1:7233}" --namespace "${TEMPORAL_NAMESPACE:-default}" \
  --task-queue "$queue" --type batchedPurge --workflow-id "$id" --id-reuse-policy RejectDuplicate \
  --input "{\"job\": \"$job\", \"params\": $params, \"trigger\": \"script:temporal-cli\"}" \
  --search-attribute "MaintJob=\"$job\"" --search-attribute "MaintDryRun=$dry_run" --search-attribute 'MaintTrigger="script:temporal-cli"' \
  >&2

"$temporal" workflow result \
  --address "${TEMPORAL_ADDRESS:-127.0.0.1:7233}" --namespace "${TEMPORAL_NAMESPACE:-default}" \
  --workflow-id "$id" --output json
