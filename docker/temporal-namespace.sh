#!/bin/sh
# Registers the namespace the worker uses, once (auto-setup did this for "default"), then exits.
set -eu
ns="${TEMPORAL_NAMESPACE:-default}"
if temporal operator namespace describe --namespace "$ns" >/dev/null 2>&1; then
  echo "namespace $ns exists"
else
  temporal operator namespace create --namespace "$ns" --retention 30d
fi
