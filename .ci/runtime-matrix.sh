#!/usr/bin/env bash
# Judge one runtime with the conformance suite and publish its matrix:
#   bash .ci/runtime-matrix.sh ai-lib-ts [reports/]
# writes reports/results/<runtime>.json and reports/<runtime>/capability-matrix.{md,json,html}.
# Failed cells are the result being published, not a CI failure: pytest's exit status 1
# (some tests failed) is accepted; anything else (usage error, crash, no results) fails.
set -uo pipefail
cd "$(dirname "$0")/.."
runtime=${1:?usage: runtime-matrix.sh RUNTIME [OUT_DIR]}
out=${2:-reports/}
.venv/bin/python -m pytest conformance/test_conformance.py -q -p no:randomly --no-cov --runtime "$runtime" \
    --matrix-report="$out" >"/tmp/runtime-matrix-$runtime.log" 2>&1
status=$?
tail -n 1 "/tmp/runtime-matrix-$runtime.log"
if [ "$status" -gt 1 ] || [ ! -s "$out/results/$runtime.json" ]; then
    echo "runtime-matrix.sh: the $runtime run failed (pytest status $status); log: /tmp/runtime-matrix-$runtime.log" >&2
    exit 1
fi
