#!/usr/bin/env bash
# `npm run package`: build one zip per function and the CloudFormation template with no AWS credentials and
# no network, check the template against the AWS resource specification and against the HIPAA Security and
# AWS Solutions rule packs (nag-acknowledgements.yml), then print the bundle sizes.
# STAGE (dev|prod, default dev) and REGION (default us-east-1) pick what to package.
set -euo pipefail
cd "$(dirname "$0")/.."

stage="${STAGE:-dev}"
region="${REGION:-us-east-1}"

# Every handler serverless.yml names must exist, or esbuild fails with a less readable message.
missing=()
while read -r handler; do
  file="${handler%.*}.ts"
  [ -f "$file" ] || missing+=("$file")
done < <(sed -n 's/^ *handler: *\([^ ]*\).*/\1/p' serverless.yml)
if [ ${#missing[@]} -gt 0 ]; then
  echo "package: serverless.yml names handlers that do not exist yet:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 1
fi

# Packaging needs no AWS account: dummy credentials keep the SDK from probing instance metadata,
# and the framework's telemetry and notices stay off.
export AWS_ACCESS_KEY_ID="offline-package" AWS_SECRET_ACCESS_KEY="offline-package"
unset AWS_PROFILE AWS_SESSION_TOKEN
export AWS_EC2_METADATA_DISABLED=true AWS_REGION="$region"
export SLS_TELEMETRY_DISABLED=1 SLS_TRACKING_DISABLED=1 SLS_NOTIFICATIONS_MODE=off SLS_DEPRECATION_DISABLE='*'

rm -rf .serverless
node_modules/.bin/serverless package --stage "$stage" --region "$region"
template=.serverless/cloudformation-template-update-stack.json
node_modules/.bin/tsx scripts/check-template.ts "$template"
node_modules/.bin/tsx scripts/nag.ts "$template" nag-acknowledgements.yml
# Last: the digest marks the package as complete and current (test/deploy refuses a stale one).
node_modules/.bin/tsx scripts/package-report.ts
