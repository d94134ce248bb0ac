#!/usr/bin/env bash
# Triggers a maintenance job with the `temporal` CLI alone (cron, CI, an incident runbook), and prints its result.
#
#   examples/trigger-with-temporal-cli.sh purge-expired-tokens '{"dryRun": true}'
#
# The workflow checks its input at its first step, so a bad parameter fails the run at once, naming the field.
# TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and TEMPORAL_TASK_QUEUE choose the server and the worker's queue.
set -euo pipefail

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
temporal workflow start \
  --address "${TEMPORAL_ADDRESS:-127.0.0.1:7233}" --namespace "${TEMPORAL_NAMESPACE:-default}" \
  --task-queue "$queue" --type batchedPurge --workflow-id "$id" --id-reuse-policy RejectDuplicate \
  --input "{\"job\": \"$job\", \"params\": $params, \"trigger\": \"script:temporal-cli\"}" \
  --search-attribute "MaintJob=\"$job\"" --search-attribute "MaintDryRun=$dry_run" --search-attribute 'MaintTrigger="script:temporal-cli"' \
  >&2

temporal workflow result \
  --address "${TEMPORAL_ADDRESS:-127.0.0.1:7233}" --namespace "${TEMPORAL_NAMESPACE:-default}" \
  --workflow-id "$id" --output json
