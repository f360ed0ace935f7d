#!/usr/bin/env bash
# Generates a client from the OpenAPI description a running Caravan serves, and uses it to submit an
# audit_cleanup job and read it back. Needs Node.js and npm, and Caravan running with its API on
# CARAVAN_URL (default http://localhost:8080) and key CARAVAN_API_KEY. Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")"
npm install --silent --no-audit --no-fund
curl -fsS "${CARAVAN_URL:-http://localhost:8080}/api/openapi.json" > openapi.json
rm -rf gen
npx openapi --input openapi.json --output gen --client fetch
CARAVAN_API_KEY="${CARAVAN_API_KEY:-}" CARAVAN_URL="${CARAVAN_URL:-http://localhost:8080}" npx tsx check.ts
