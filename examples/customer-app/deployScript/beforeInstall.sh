#!/bin/bash
# BeforeInstall: runs before the CodeDeploy agent copies the files section (the Install event), with
# the instance already out of the load balancer.
#
# Empties the document root and removes the site's httpd settings, so that what is served afterwards
# is exactly the revision. CodeDeploy removes the files of its previous deployment itself, but fails
# on any other file already at a destination (file_exists_behavior DISALLOW, the default): a page
# left by the AMI, by a hand-made fix or by a deployment that failed half-way.
set -euo pipefail

readonly SITE_ROOT=${SITE_ROOT:-/var/www/html}
readonly HTTPD_CONF_DIR=${HTTPD_CONF_DIR:-/etc/httpd/conf.d}

log() {
  echo "[${LIFECYCLE_EVENT:-BeforeInstall} ${DEPLOYMENT_ID:-local}] $*"
}

# httpd comes with the AMI (the AMI pipeline's provisioning script installs it): say so if it is not.
if ! command -v httpd >/dev/null 2>&1; then
  echo "BeforeInstall failed: httpd is not installed on this instance; the AMI provisioning script must install it (dnf install -y httpd)" >&2
  exit 1
fi

if [[ -f "$SITE_ROOT/version.txt" ]]; then
  log "replacing $(grep -m1 '^commit=' "$SITE_ROOT/version.txt" || echo 'an unknown version')"
fi

mkdir -p "$SITE_ROOT"
# Everything under the document root, hidden files included; the directory itself stays.
find "$SITE_ROOT" -mindepth 1 -delete
rm -f "$HTTPD_CONF_DIR/customer-app.conf"
log "emptied $SITE_ROOT for ${APPLICATION_NAME:-the application} (deployment group ${DEPLOYMENT_GROUP_NAME:-none})"
