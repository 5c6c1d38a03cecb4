#!/usr/bin/env bash
# Compares the public API (the jsii assembly, .jsii) with the last release's: jsii-diff of the assembly built
# from the newest v* tag reachable from HEAD against the one in the working tree (run `npx projen compile`
# first). A breaking change fails, unless its key is listed in allowed-breaking-changes.txt with the reason:
# breaking the API is then a decision, recorded with the change, not an accident.
#
# Run as `npx projen api-compat`; `.ci/run` runs it after the build. The release's assembly is compiled in a
# temporary git worktree with this checkout's node_modules (its sources only; no install, no network).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"

say() { echo "api-compat: $*"; }

[[ -f .jsii ]] || { say "no .jsii in ${root}: run npx projen compile first" >&2; exit 1; }
last_release() { git describe --tags --abbrev=0 --match 'v[0-9]*' HEAD 2>/dev/null || true; }
released="$(last_release)"
if [[ -z "${released}" ]]; then
  # A clone made without tags or history (--no-tags, --depth): fetch them from where it came from.
  if [[ "$(git rev-parse --is-shallow-repository 2>/dev/null)" == "true" ]]; then
    git fetch --quiet --unshallow --tags origin >/dev/null 2>&1 || true
  else
    git fetch --quiet --tags origin >/dev/null 2>&1 || true
  fi
  released="$(last_release)"
fi
if [[ -z "${released}" ]]; then
  if [[ "$(git rev-parse --is-shallow-repository 2>/dev/null)" == "true" ]]; then
    say "WARNING: this clone is shallow, and its history and tags could not be fetched: the API is not compared." \
      "Clone with history and tags (git clone without --depth) to compare it with the last release." >&2
  else
    say "no release tag (v*) is reachable from HEAD: there is no released API to compare with yet"
  fi
  exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/api-compat.XXXXXX")"
cleanup() {
  git worktree remove --force "${work}/released" >/dev/null 2>&1 || true
  rm -rf "${work}"
}
trap cleanup EXIT

say "compiling the assembly of ${released} ($(git rev-parse --short "${released}^{commit}"))"
git worktree add --detach --quiet "${work}/released" "${released}"
ln -s "${root}/node_modules" "${work}/released/node_modules"
if ! (cd "${work}/released" && npx jsii --silence-warnings=reserved-word >"${work}/jsii.log" 2>&1); then
  cat "${work}/jsii.log" >&2
  say "the assembly of ${released} did not compile with this checkout's node_modules (output above)" >&2
  exit 1
fi

say "jsii-diff ${released} -> working tree (ignored keys: allowed-breaking-changes.txt)"
npx jsii-diff "${work}/released" "${root}" --keys --error-on prod --ignore-file allowed-breaking-changes.txt
say "no breaking change to the API of ${released}, beyond those listed in allowed-breaking-changes.txt"
