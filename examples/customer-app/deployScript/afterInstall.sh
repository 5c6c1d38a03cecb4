#!/bin/bash
# AfterInstall: runs after the CodeDeploy agent copied the files section.
#
# The agent copies files with the modes they had in the build: make the site readable by httpd and
# writable by root only, restore the SELinux labels when SELinux is on, and record what is deployed.
set -euo pipefail

readonly SITE_ROOT=${SITE_ROOT:-/var/www/html}
readonly STATE_DIR=${STATE_DIR:-/var/lib/customer-app}

log() {
  echo "[${LIFECYCLE_EVENT:-AfterInstall} ${DEPLOYMENT_ID:-local}] $*"
}

if [[ ! -f "$SITE_ROOT/index.html" ]]; then
  echo "AfterInstall failed: $SITE_ROOT/index.html is missing; the revision's site/ folder must hold the site" >&2
  exit 1
fi

chown -R root:root "$SITE_ROOT"
find "$SITE_ROOT" -type d -exec chmod 755 {} +
find "$SITE_ROOT" -type f -exec chmod 644 {} +

if command -v selinuxenabled >/dev/null 2>&1 && selinuxenabled; then
  restorecon -R "$SITE_ROOT"
fi

# The environment's settings and secrets (the customer file's settings: and secrets:), as they are now, for the
# application: /etc/vending/app.env, readable by httpd only. Instances of a vending platform have the script; a
# machine without it (a test, an AMI of another platform) has nothing to write.
if command -v vending-app-env >/dev/null 2>&1; then
  vending-app-env --owner apache
  log "application settings written to /etc/vending/app.env"
fi

mkdir -p "$STATE_DIR"
{
  echo "deployment=${DEPLOYMENT_ID:-local}"
  echo "deployment_group=${DEPLOYMENT_GROUP_NAME:-none}"
  echo "installed=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  cat "$SITE_ROOT/version.txt" 2>/dev/null || true
} >"$STATE_DIR/deployed"
log "installed $(find "$SITE_ROOT" -type f | wc -l) files; details in $STATE_DIR/deployed"
