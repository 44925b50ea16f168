#!/usr/bin/env bash
# The SPA's part of CI (called by .ci/run after the other web checks; runnable alone):
#   npm ci; codegen from schema.graphql (each operation validated against the schema);
#   tsc --noEmit (every use of the generated types); vite build; the browser walk on SQLite and on
#   PostgreSQL (a fresh database, dropped after).
# Each step writes a closing "N passed, N failed" line to $LOG_DIR/web-spa-<step>.txt, which
# .ci/run counts; the first failure stops the script with a non-zero status.
# Needs: node and npm, Debian's chromium (/usr/bin/chromium), a built leadq ($LEADQ_BIN, default
# $CARGO_TARGET_DIR/debug/leadq or target/debug/leadq), PostgreSQL at $PG_HOST:$PG_PORT as
# $PG_USER (default 127.0.0.1:5432, postgres) unless SPA_DATABASES=sqlite.
set -euo pipefail
cd "$(dirname "$0")"

LOG_DIR=${LOG_DIR:-$(mktemp -d)}
export PG_HOST=${PG_HOST:-127.0.0.1} PG_PORT=${PG_PORT:-5432} PG_USER=${PG_USER:-postgres}
databases=${SPA_DATABASES:-sqlite postgres}

# Runs a step, its output in $LOG_DIR/web-spa-$1.txt, and adds its closing line.
step() {
    local name=$1
    shift
    local log="$LOG_DIR/web-spa-$name.txt"
    echo "-- spa: $name"
    if "$@" 2>&1 | tee "$log"; then
        echo "spa $name: 1 passed, 0 failed" | tee -a "$log"
    else
        echo "spa $name: 0 passed, 1 failed" | tee -a "$log"
        return 1
    fi
}

npm ci --no-audit --no-fund --loglevel=error
rm -rf src/generated
step codegen npm run --silent codegen
step typecheck npx --no-install tsc --noEmit
step build npx --no-install vite build
for db in $databases; do
    # The walk prints its own "N passed, N failed" (one per check).
    echo "-- spa: walk on $db"
    timeout 330 node test/walk.mjs "$db" 2>&1 | tee "$LOG_DIR/web-spa-walk-$db.txt"
done
