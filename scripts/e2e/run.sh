#!/usr/bin/env bash
# `npm run test:e2e`: installs the e2e tools when missing (scripts/e2e/setup-tools.sh), then runs
# test/e2e/**/*.e2e.test.ts in code-server + headless Chromium. Extra arguments go to vitest.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/e2e/setup-tools.sh
export PATH="$PWD/node_modules/.bin:$PATH"   # the project's Node 22 runs vitest
exec npx vitest run -c vitest.e2e.config.ts "$@"
