#!/usr/bin/env bash
# Prints the id of the AMI that Packer's last run built in REGION, read from Packer's manifest with jq.
# Usage: ami-from-manifest.sh MANIFEST REGION
#
# The manifest post-processor appends one entry per build and per run; the run that counts is
# `last_run_uuid`, and its artifact_id lists region:ami pairs separated by commas.
set -euo pipefail

manifest="${1:?usage: ami-from-manifest.sh MANIFEST REGION}"
region="${2:?usage: ami-from-manifest.sh MANIFEST REGION}"

if [[ ! -s "$manifest" ]]; then
  echo "ami-from-manifest: $manifest is missing or empty: did packer build run the manifest post-processor?" >&2
  exit 1
fi

ami="$(jq --raw-output --arg region "$region" '
  .last_run_uuid as $run
  | [.builds[] | select(.packer_run_uuid == $run)]
  | last
  | (.artifact_id // "")
  | split(",")
  | map(split(":") | select(length == 2 and .[0] == $region) | .[1])
  | first // empty
' "$manifest")"

if [[ ! "$ami" =~ ^ami-([0-9a-f]{8}|[0-9a-f]{17})$ ]]; then
  echo "ami-from-manifest: no AMI of region $region in the last run of $manifest (found '${ami}')" >&2
  exit 1
fi
echo "$ami"
