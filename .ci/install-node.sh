#!/usr/bin/env bash
# Node.js 18+ and npm for the ai-lib-ts runtime adapter (`pytest conformance/ --runtime ai-lib-ts`),
# from Debian's packages. Idempotent: does nothing when a new enough node and npm are on PATH.
# The adapter builds ai-lib-ts itself on first use (npm registry), in ~/.cache/ailib-conformance.
set -euo pipefail

node_major() { node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/'; }

if command -v npm >/dev/null 2>&1 && [ "$(node_major || echo 0)" -ge 18 ] 2>/dev/null; then
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
major=$(node_major || echo 0)
if [ "${major:-0}" -lt 18 ]; then
    echo "install-node.sh: Debian's nodejs is v${major}, ai-lib-ts needs 18+" >&2
    exit 1
fi
