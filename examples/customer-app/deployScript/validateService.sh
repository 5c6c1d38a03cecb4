#!/bin/bash
# ValidateService: the last hook before the instance returns to the load balancer. It fails the
# deployment (and CodeDeploy rolls back) unless the web server answers /health with 200 and a body
# starting with "ok", as the load balancer's health check will.
#
# It retries for a bounded time, below the hook's timeout in appspec.yml (180 seconds), so that a
# failure ends with this script's message rather than with CodeDeploy's timeout.
set -euo pipefail

readonly HEALTH_URL=${HEALTH_URL:-http://localhost/health}
readonly DEADLINE_SECONDS=${DEADLINE_SECONDS:-120}
readonly RETRY_SECONDS=${RETRY_SECONDS:-3}

log() {
  echo "[${LIFECYCLE_EVENT:-ValidateService} ${DEPLOYMENT_ID:-local}] $*"
}

body=$(mktemp)
trap 'rm -f "$body"' EXIT

deadline=$((SECONDS + DEADLINE_SECONDS))
attempt=0
while true; do
  attempt=$((attempt + 1))
  # curl prints 000 when nothing answers; its own exit status is not the verdict.
  status=$(curl --silent --max-time 5 --output "$body" --write-out '%{http_code}' "$HEALTH_URL" || true)
  if [[ "$status" == 200 ]] && grep -q '^ok' "$body"; then
    log "healthy after $attempt attempt(s): $HEALTH_URL answered 200: $(head -c 200 "$body")"
    exit 0
  fi
  if ((SECONDS >= deadline)); then
    break
  fi
  sleep "$RETRY_SECONDS"
done

if [[ "$status" == 000 ]]; then
  last="nothing answered"
else
  last="HTTP $status: $(head -c 200 "$body")"
fi
echo "ValidateService failed: $HEALTH_URL did not answer 200 with a body starting with \"ok\" within ${DEADLINE_SECONDS} seconds ($attempt attempt(s); last: $last). See /var/log/httpd/error_log on the instance." >&2
exit 1
