#!/usr/bin/env bash
# Creates (or refreshes) the project-local virtualenv .venv/ with the pinned Python tools the tests
# call (cfn-lint, moto, the AWS CLI, shellcheck), listed in scripts/python-requirements.txt. Run as
# `npx projen python-tools`; `npx projen test` runs it before jest.
#
# Idempotent and fast when nothing changed: .venv/.requirements.sha256 holds the sha256 of the
# requirements file (and of the Python version) of the last successful install; when it matches and
# the venv's interpreter still runs, pip is not called at all.
#
# Environment: PYTHON (default python3) picks the interpreter used to create the venv.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${root}/.venv"
requirements="${root}/scripts/python-requirements.txt"
stamp="${venv}/.requirements.sha256"
python="${PYTHON:-python3}"

fail() {
  echo "python-tools: $*" >&2
  exit 1
}

[[ -f "${requirements}" ]] || fail "missing ${requirements}"
command -v "${python}" >/dev/null 2>&1 ||
  fail "'${python}' not found on PATH: install Python 3.9 or newer (or set PYTHON=/path/to/python3)"

# Serialize concurrent runs (two terminals, parallel CI steps) on the same checkout.
mkdir -p "${venv}"
exec 9>"${venv}/.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi

python_version="$("${python}" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')" ||
  fail "'${python}' does not run"
wanted="$( (cat "${requirements}"; echo "python ${python_version}") | sha256sum | cut -d' ' -f1)"

if [[ -f "${stamp}" && "$(cat "${stamp}")" == "${wanted}" ]] && "${venv}/bin/python" -c '' >/dev/null 2>&1; then
  echo "python-tools: .venv is up to date (python ${python_version}, $(grep -cE '^[^#[:space:]]' "${requirements}") pinned requirement(s))"
  exit 0
fi

rm -f "${stamp}"
venv_version="$("${venv}/bin/python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || true)"
if [[ "${venv_version}" != "${python_version}" ]]; then
  # Missing, half-created, or built with another Python than '${python}': start over.
  find "${venv}" -mindepth 1 ! -path "${venv}/.lock" -delete
  "${python}" -m venv "${venv}" ||
    fail "'${python} -m venv ${venv}' failed (on Debian/Ubuntu: apt-get install python3-venv)"
fi

log="$(mktemp)"
trap 'rm -f "${log}"' EXIT
if ! "${venv}/bin/python" -m pip install --disable-pip-version-check --no-input --quiet \
  --requirement "${requirements}" >"${log}" 2>&1; then
  cat "${log}" >&2
  fail "pip could not install ${requirements#"${root}/"} into .venv (see pip's output above)"
fi
"${venv}/bin/cfn-lint" --version >/dev/null 2>&1 || fail ".venv/bin/cfn-lint was installed but does not run"
"${venv}/bin/shellcheck" --version >/dev/null 2>&1 || fail ".venv/bin/shellcheck was installed but does not run"
"${venv}/bin/python" -c 'import moto.server, flask' >/dev/null 2>&1 ||
  fail ".venv has moto but not its server extras (moto[server] in ${requirements#"${root}/"})"

echo "${wanted}" >"${stamp}"
echo "python-tools: installed ${requirements#"${root}/"} into .venv ($("${venv}/bin/cfn-lint" --version))"
