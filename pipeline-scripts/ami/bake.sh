#!/usr/bin/env bash
# Bakes the customer's AMI with Packer and prints its id on stdout (everything else goes to stderr).
# Run by the AMI pipeline's CodeBuild project, which sets:
#   TEMPLATE_DIR           the rendered Packer files and these scripts (the PackerTemplate source artifact)
#   REPOSITORY_DIR         the customer's infrastructure repository (the provisioning scripts)
#   BUILD_REGION, SUBNET_ID, SECURITY_GROUP_ID   where the build instance runs
#   BASE_IMAGE_PARAMETER   SSM parameter of the base AMI (empty when the template filters AMIs itself)
#   BUILD_NUMBER, COMMIT_ID                      what the image is built from (the commit id may be empty)
#   PIPELINE_NAME, PIPELINE_EXECUTION_ID         where the commit message is read when Git has no history
#   KEEP_IMAGES, PACKER_BUILD_TAG, AMI_PARAMETER retention: see retain-images.sh
# Build number and commit data reach Packer as -var values, never as text put into the template.
set -euo pipefail

: "${TEMPLATE_DIR:?}" "${REPOSITORY_DIR:?}" "${BUILD_REGION:?}" "${SUBNET_ID:?}" "${SECURITY_GROUP_ID:?}"
: "${BUILD_NUMBER:?}" "${KEEP_IMAGES:?}" "${PACKER_BUILD_TAG:?}" "${AMI_PARAMETER:?}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
manifest="$(mktemp -d)/packer-manifest.json"

# Author, time and message come from Git when the source is a full clone; a zip of the files has no
# history, and then the message is the revision summary of the pipeline execution. (CodePipeline cannot
# pass a commit message in an environment variable: it does not escape quotes and newlines there.)
commit_author="unknown"
commit_time="unknown"
commit_message=""
if git -C "$REPOSITORY_DIR" rev-parse --git-dir >/dev/null 2>&1; then
  commit_author="$(git -C "$REPOSITORY_DIR" log -1 --format='%an <%ae>')"
  commit_time="$(git -C "$REPOSITORY_DIR" log -1 --format='%cI')"
  commit_message="$(git -C "$REPOSITORY_DIR" log -1 --format='%B')"
elif [[ -n "${PIPELINE_EXECUTION_ID:-}" && -n "${PIPELINE_NAME:-}" ]]; then
  # The build role may read its own pipeline's executions: a failure is a real problem (a changed role, a
  # throttled API), shown with AWS's error rather than hidden behind an empty message.
  if ! commit_message="$(aws codepipeline get-pipeline-execution --pipeline-name "$PIPELINE_NAME" \
    --pipeline-execution-id "$PIPELINE_EXECUTION_ID" \
    --query "pipelineExecution.artifactRevisions[?name=='Repository'] | [0].revisionSummary" \
    --output text)"; then
    echo "bake: cannot read the commit message of pipeline execution $PIPELINE_EXECUTION_ID of $PIPELINE_NAME" \
      "(codepipeline:GetPipelineExecution, error above)" >&2
    exit 1
  fi
  # No revision summary (a source without one) is printed as None.
  if [[ "$commit_message" == "None" ]]; then commit_message=""; fi
fi

vars=(
  -var "build_number=${BUILD_NUMBER}"
  -var "commit_id=${COMMIT_ID:-unknown}"
  -var "commit_author=${commit_author}"
  -var "commit_message=${commit_message}"
  -var "commit_time=${commit_time}"
  -var "region=${BUILD_REGION}"
  -var "subnet_id=${SUBNET_ID}"
  -var "security_group_id=${SECURITY_GROUP_ID}"
  -var "repository_dir=${REPOSITORY_DIR}"
  -var "manifest_path=${manifest}"
)
if [[ -n "${BASE_IMAGE_PARAMETER:-}" ]]; then
  source_ami="$(aws ssm get-parameter --name "$BASE_IMAGE_PARAMETER" --query Parameter.Value --output text)"
  echo "bake: base image $source_ami from $BASE_IMAGE_PARAMETER" >&2
  vars+=(-var "source_ami=${source_ami}")
fi

cd "$TEMPLATE_DIR"
packer init . >&2
packer validate "${vars[@]}" . >&2
# Packer's exit code fails the build (set -e): nothing pipes its output.
packer build -color=false -timestamp-ui "${vars[@]}" . >&2

ami="$(bash "$here/ami-from-manifest.sh" "$manifest" "$BUILD_REGION")"
echo "bake: built $ami" >&2
# The image is built: a failed clean-up of old images is a warning, not a failed bake.
bash "$here/retain-images.sh" "$KEEP_IMAGES" "$PACKER_BUILD_TAG" "$AMI_PARAMETER" >&2 ||
  echo "bake: warning: the retention of old images failed; $ami is built and rolled out anyway" >&2
echo "$ami"
