#!/usr/bin/env bash
# Fails when gen/ differs from what `buf generate` makes of proto/ (gen/ is committed).
set -euo pipefail
npx buf lint
npx buf generate
if [ -n "$(git status --porcelain -- gen)" ]; then
  echo "gen/ is out of date with proto/: run 'npm run generate' and commit gen/" >&2
  git status --porcelain -- gen >&2
  exit 1
fi
# docs/portcullis.schema.json and the configuration reference in docs/configuration.md come from src/config/config-schema.ts.
npx tsx scripts/generate-config-reference.ts --check
