#!/usr/bin/env bash
# The test command: installs what is missing, builds Release, runs every test project, and ends
# with one line `N passed, N failed`. Exit status is non-zero on any failure.
#   tests/run.sh            every project
#   tests/run.sh Consensus  only projects whose name contains the word
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$root/artifacts/pocl-cache}"
filter="${1:-}"

if ! devnet/setup.sh; then
  echo "0 passed, 1 failed"; exit 1
fi

echo "run: building Release"
if ! dotnet build Node.sln -c Release -nologo -v quiet -clp:ErrorsOnly; then
  echo "run: build failed"
  echo "0 passed, 1 failed"; exit 1
fi

results="$root/artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"
passed=0; failed=0; broken=()
for proj in tests/Keel.*.Tests/*.csproj; do
  name=$(basename "$proj" .csproj)
  [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && continue
  echo "run: $name"
  start=$(date +%s)
  # A hung test becomes a failure with a dump instead of a stalled CI run.
  dotnet test "$proj" -c Release --no-build -nologo \
      --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" \
      --results-directory "$results" --blame-hang-timeout 15m
  rc=$?
  trx="$results/$name.trx"
  p=0; f=0
  if [ -f "$trx" ]; then
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
    p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); p=${p:-0}
    f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=${f:-0}
  fi
  # A crashed or aborted test host counts as a failure even when no test reported one.
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  [ "$f" -gt 0 ] && broken+=("$name")
  echo "run: $name: $p passed, $f failed ($(( $(date +%s) - start )) s)"
  passed=$((passed + p)); failed=$((failed + f))
done

[ ${#broken[@]} -gt 0 ] && echo "run: failing projects: ${broken[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
