#!/usr/bin/env bash
# Installs the pinned Packer release after checking its SHA-256 checksum.
# Usage: install-packer.sh VERSION SHA256 [DESTINATION]   (run by the AMI pipeline's CodeBuild project)
set -euo pipefail

version="${1:?usage: install-packer.sh VERSION SHA256 [DESTINATION]}"
sha256="${2:?usage: install-packer.sh VERSION SHA256 [DESTINATION]}"
destination="${3:-/usr/local/bin}"
# HashiCorp's release site; a mirror (or a local directory in tests) may stand in for it.
releases="${PACKER_RELEASES_URL:-https://releases.hashicorp.com/packer}"

case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  *) echo "install-packer: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac

zip="$(mktemp -d)/packer_${version}_linux_${arch}.zip"
curl --fail --silent --show-error --location --retry 3 \
  --output "$zip" "${releases}/${version}/packer_${version}_linux_${arch}.zip"
if ! echo "${sha256}  ${zip}" | sha256sum --check --status -; then
  echo "install-packer: checksum mismatch for packer ${version} (${arch}): expected ${sha256}, got $(sha256sum "$zip" | cut -d ' ' -f 1)" >&2
  exit 1
fi
unzip -o -q "$zip" packer -d "$destination"
"$destination/packer" version >&2
