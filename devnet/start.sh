#!/usr/bin/env bash
# One command for a local devnet: installs what is missing, builds, and runs `keel devnet`.
# Extra arguments go to `keel devnet` (for example --validators 4 --rollups 901,902 --fresh).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/devnet/setup.sh"
echo "start: building keel (Release)"
dotnet build "$root/Node.sln" -c Release -nologo -v quiet -clp:ErrorsOnly
keel="$root/src/Node/bin/Release/net10.0/keel"
if ! "$keel" devnet --help >/dev/null 2>&1; then
  echo "start: the devnet is not built yet: \`keel devnet\` arrives with issue 5 (sequencer node and devnet)."
  echo "start: what works today is listed in README.md; try: $keel --help"
  exit 1
fi
exec "$keel" devnet "$@"
