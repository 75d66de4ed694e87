#!/usr/bin/env bash
# Installs what Keel needs and is missing; safe to run again (it only acts on what is absent).
#   Debian packages: RocksDB, libsecp256k1, the OpenCL loader and PoCL (CPU OpenCL for kernel tests)
#   npm: the pinned tools in devnet/package.json (anvil, solc, ethers, js-libp2p), via `npm ci`
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

say()  { echo "setup: $*"; }
fail() { echo "setup: error: $*" >&2; exit 1; }

# --- .NET SDK -------------------------------------------------------------------------------
command -v dotnet >/dev/null 2>&1 || fail "the .NET SDK 10 is required (dotnet not on PATH); see https://dot.net"
sdk_major=$(dotnet --version 2>/dev/null | cut -d. -f1)
[ "${sdk_major:-0}" -ge 10 ] || fail ".NET SDK 10 or later is required, found $(dotnet --version 2>/dev/null || echo none)"

# --- Debian packages ------------------------------------------------------------------------
debs=(librocksdb7.8 libsecp256k1-1 ocl-icd-libopencl1 pocl-opencl-icd)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || fail "missing native libraries (${missing[*]}) and no apt-get: install them with your package manager"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || fail "missing ${missing[*]}: run as root or install them: apt-get install --no-install-recommends ${missing[*]}"
    sudo="sudo"
  fi
  say "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq >/dev/null || fail "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || fail "apt-get install ${missing[*]} failed"
else
  say "Debian packages present: ${debs[*]}"
fi

# --- Node.js tools --------------------------------------------------------------------------
command -v node >/dev/null 2>&1 || fail "Node.js 20 or later is required (node not on PATH)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || fail "Node.js 20 or later is required, found $(node --version)"
stamp="$here/node_modules/.keel-lock.sha256"
want=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$here/node_modules/.bin/anvil" ]; then
  say "npm tools present (devnet/node_modules matches package-lock.json)"
else
  say "installing pinned npm tools (npm ci in devnet/)"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || fail "npm ci in devnet/ failed"
  echo "$want" > "$stamp"
fi
"$here/node_modules/.bin/anvil" --version >/dev/null 2>&1 || fail "anvil from devnet/node_modules does not run"
say "ready"
