#!/usr/bin/env bash
# Keeps the newest KEEP images of one customer environment, and the image the fleet runs; deregisters
# the older ones and deletes their snapshots.
# Usage: retain-images.sh KEEP BUILD_TAG_VALUE AMI_PARAMETER
#   BUILD_TAG_VALUE  value of the vending:packer-build tag that Packer puts on the images it bakes
#   AMI_PARAMETER    SSM parameter holding the image the fleet runs (never deregistered)
set -euo pipefail

keep="${1:?usage: retain-images.sh KEEP BUILD_TAG_VALUE AMI_PARAMETER}"
build="${2:?usage: retain-images.sh KEEP BUILD_TAG_VALUE AMI_PARAMETER}"
parameter="${3:?usage: retain-images.sh KEEP BUILD_TAG_VALUE AMI_PARAMETER}"

if [[ ! "$keep" =~ ^[1-9][0-9]*$ ]]; then
  echo "retain-images: KEEP must be a whole number of at least 1, got '$keep'" >&2
  exit 1
fi

in_use="$(aws ssm get-parameter --name "$parameter" --query Parameter.Value --output text)"
images="$(aws ec2 describe-images --owners self \
  --filters "Name=tag:vending:packer-build,Values=${build}" --output json)"

# Newest first; the first KEEP and the image in use stay.
old="$(jq --raw-output --argjson keep "$keep" --arg in_use "$in_use" '
  .Images
  | sort_by(.CreationDate) | reverse
  | .[$keep:]
  | map(select(.ImageId != $in_use))
  | .[]
  | [.ImageId, ([.BlockDeviceMappings[]?.Ebs.SnapshotId // empty] | join(" "))]
  | @tsv
' <<<"$images")"

if [[ -z "$old" ]]; then
  echo "retain-images: nothing to remove (keeping $keep images of $build and $in_use)" >&2
  exit 0
fi

# Each image and snapshot on its own: one that fails (a snapshot still in use a moment after its image
# went) is reported, the others are still removed, and the exit code says something failed. Nothing is
# printed on stdout.
failed=0
while IFS=$'\t' read -r image snapshots; do
  echo "retain-images: deregistering $image" >&2
  if ! aws ec2 deregister-image --image-id "$image" >/dev/null; then
    echo "retain-images: warning: could not deregister $image" >&2
    failed=1
    continue
  fi
  for snapshot in $snapshots; do
    echo "retain-images: deleting snapshot $snapshot of $image" >&2
    if ! aws ec2 delete-snapshot --snapshot-id "$snapshot" >/dev/null; then
      echo "retain-images: warning: could not delete snapshot $snapshot" >&2
      failed=1
    fi
  done
done <<<"$old"
exit "$failed"
