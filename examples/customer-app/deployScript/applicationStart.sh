#!/bin/bash
# ApplicationStart: (re)starts the web server on the new files and settings.
#
# The configuration is tested first, so that a broken setting fails the deployment here, with
# httpd's own message, instead of stopping the web server. A running httpd is reloaded gracefully.
set -euo pipefail

log() {
  echo "[${LIFECYCLE_EVENT:-ApplicationStart} ${DEPLOYMENT_ID:-local}] $*"
}

if ! output=$(apachectl configtest 2>&1); then
  echo "ApplicationStart failed: the httpd configuration is invalid:" >&2
  echo "$output" >&2
  exit 1
fi

systemctl enable httpd.service
if systemctl is-active --quiet httpd.service; then
  systemctl reload httpd.service
  log "httpd reloaded"
else
  systemctl start httpd.service
  log "httpd started"
fi
