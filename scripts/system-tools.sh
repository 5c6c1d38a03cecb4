#!/usr/bin/env bash
# Checks the system tools that the tests run and that no project-local install can provide, and installs the
# missing ones with apt when it can (as root, or with passwordless sudo, on Debian or Ubuntu). Otherwise it stops,
# before any test runs, with one message that names what to install. Run as `npx projen system-tools`;
# `npx projen test` runs it first.
#
#   packer  Debian's packer 1.6.x: `packer validate` of the AMI pipeline's templates, offline (a newer packer
#           needs its Amazon plugin downloaded, which the tests cannot do)
#   jq      the AMI pipeline's manifest step and image retention parse JSON with it
#   unzip   the Packer install step unpacks the release with it
#   curl    the example application's validateService.sh hook calls it
#
# ShellCheck, cfn-lint, moto and the AWS CLI come from PyPI into .venv/ (scripts/python-tools.sh).
set -euo pipefail

# command:Debian package
TOOLS=(packer:packer jq:jq unzip:unzip curl:curl)

say() { echo "system-tools: $*"; }

missing_tools() {
  local entry
  for entry in "${TOOLS[@]}"; do
    command -v "${entry%%:*}" >/dev/null 2>&1 || echo "${entry}"
  done
}

packer_version() {
  packer version 2>/dev/null | sed -n 's/^Packer v\([0-9][0-9.]*\).*/\1/p' | head -n 1
}

mapfile -t missing < <(missing_tools)
if [[ ${#missing[@]} -gt 0 ]]; then
  packages=()
  for entry in "${missing[@]}"; do packages+=("${entry#*:}"); done
  sudo=()
  [[ ${EUID} -eq 0 ]] || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null && sudo=(sudo -n); }
  if command -v apt-get >/dev/null 2>&1 && { [[ ${EUID} -eq 0 ]] || [[ ${#sudo[@]} -gt 0 ]]; }; then
    say "installing ${packages[*]} with apt-get"
    log="$(mktemp)"
    trap 'rm -f "${log}"' EXIT
    if ! { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"; } \
      >"${log}" 2>&1; then
      tail -n 20 "${log}" >&2
      say "apt-get could not install ${packages[*]} (its output is above); install them and run the tests again" >&2
      exit 1
    fi
    mapfile -t missing < <(missing_tools)
    if [[ ${#missing[@]} -gt 0 ]]; then
      say "apt-get ran but ${missing[*]%%:*} is still not on PATH" >&2
      exit 1
    fi
  else
    say "the tests need ${packages[*]}, which are not installed, and this user cannot install them" \
      "(not root, no passwordless sudo, or no apt-get). Install them, for example on Debian or Ubuntu:" \
      "sudo apt-get install ${packages[*]}; then run the tests again." >&2
    exit 1
  fi
fi

version="$(packer_version)"
if [[ "${version}" != 1.6.* ]]; then
  say "packer ${version:-of unknown version} is at $(command -v packer); the tests need Debian's packer 1.6.x" \
    "(apt-get install packer on Debian 12), which validates templates offline. Put it first on PATH." >&2
  exit 1
fi
say "packer ${version}, $(jq --version), unzip and curl are installed"
