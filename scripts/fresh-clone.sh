#!/usr/bin/env bash
# Proves the repository stands on its own (issue 8 §1): clones the committed HEAD into an empty temporary folder
# (nothing beside it — no sibling folder of data), then runs there what a new user runs: `npm ci`, the build,
# `npm run demo`, and a quick test subset (the tests that read the third-party fixtures plus the standalone check).
#
#   bash scripts/fresh-clone.sh [--full]     (--full: the whole `npm test` instead of the subset)
#
# CI has the workplace's data folder beside its checkout and would not notice a file read from it; run this before you stop.
# Uncommitted changes are not part of the clone. Exit status: 0 when every step passed.
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
full=0; [ "${1:-}" = "--full" ] && full=1
work="$(mktemp -d /tmp/fresh-clone.XXXXXX)"
trap 'rm -rf "$work"' EXIT
git clone --quiet --no-local "$src" "$work/repo"
cd "$work/repo"
[ -z "$(ls -A "$work" | grep -v '^repo$')" ] || { echo "fresh-clone: $work is not empty beside the clone"; exit 1; }
echo "fresh-clone: $(git log -1 --format='%h %s') in $work/repo (nothing beside it)"
step() { local t0=$SECONDS; echo "fresh-clone: \$ $*"; "$@"; echo "fresh-clone: ok ($((SECONDS - t0)) s): $*"; }
step npm ci --no-audit --no-fund
step npm run build
step npm run demo
if [ "$full" = 1 ]; then
  step npm test
else
  step node scripts/test.mjs standalone lint-manifest jobSpec deploymentSpec modelDeploy swagger jobs-emulator
fi
echo "fresh-clone: all steps passed"
