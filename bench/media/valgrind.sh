#!/bin/sh
# Runs a short media engine scenario (bench/media/valgrind-scenario.cjs) under valgrind memcheck and
# reports the errors found in the engine. Node itself (V8's JIT) is noisy under memcheck, so only
# errors whose stack passes through parley_media.node are counted; exit 1 when there are any.
#   bench/media/valgrind.sh [seconds, default 8]
set -eu
cd "$(dirname "$0")/../.."
command -v valgrind >/dev/null || { echo "valgrind is not installed (scripts/install-debian-deps.sh)" >&2; exit 2; }
log=$(mktemp /tmp/parley-valgrind.XXXXXX)
valgrind --tool=memcheck --error-limit=no --num-callers=30 --leak-check=no --track-origins=no \
  --log-file="$log" node bench/media/valgrind-scenario.cjs "${1:-8}"
# Error blocks are separated by blank lines; keep those that mention the addon.
engine_errors=$(awk 'BEGIN{RS=""} /parley_media|parley::/ && /(Invalid|uninitialised|Mismatched|overlap|free)/ {c++} END{print c+0}' "$log")
total=$(grep -c "^==[0-9]*== [A-Z].*\(Invalid\|uninitialised\|Mismatched\|overlap\)" "$log" || true)
echo "{\"tool\":\"memcheck\",\"engineErrors\":$engine_errors,\"allErrorsIncludingNode\":$total,\"log\":\"$log\"}"
[ "$engine_errors" -eq 0 ]
