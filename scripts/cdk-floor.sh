#!/usr/bin/env bash
# Type-checks src/ against the lowest aws-cdk-lib the package claims to support (the peer
# dependency floor), so that the floor in README and package.json is a fact, not a hope.
# Usage: bash scripts/cdk-floor.sh 2.189.1   (the projen task compat:cdk-floor passes the floor)
set -euo pipefail
floor="${1:?usage: cdk-floor.sh AWS_CDK_LIB_VERSION}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

constructs="$(node -p "require('$root/package.json').peerDependencies.constructs.replace(/^[^0-9]*/, '')")"
echo "compat:cdk-floor: installing aws-cdk-lib@$floor and constructs@$constructs in a scratch directory"
(cd "$work" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund --ignore-scripts \
  "aws-cdk-lib@$floor" "constructs@$constructs") || { echo "compat:cdk-floor: could not install aws-cdk-lib@$floor" >&2; exit 1; }

cat > "$work/tsconfig.json" <<JSON
{
  "extends": "$root/tsconfig.json",
  "compilerOptions": {
    "noEmit": true,
    "rootDir": "$root/src",
    "typeRoots": ["$root/node_modules/@types"],
    "paths": {
      "aws-cdk-lib": ["$work/node_modules/aws-cdk-lib"],
      "aws-cdk-lib/*": ["$work/node_modules/aws-cdk-lib/*"],
      "constructs": ["$work/node_modules/constructs"]
    }
  },
  "include": ["$root/src/**/*.ts"]
}
JSON
if "$root/node_modules/.bin/tsc" -p "$work/tsconfig.json"; then
  echo "compat:cdk-floor: src/ type-checks against aws-cdk-lib@$floor"
else
  echo "compat:cdk-floor: src/ uses something aws-cdk-lib@$floor lacks: raise the floor in .projenrc.ts (CDK_FLOOR) and README" >&2
  exit 1
fi
