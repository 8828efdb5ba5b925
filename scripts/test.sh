#!/usr/bin/env bash
# Everything CI checks: lint, migrations, production settings, then the whole test suite on
# SQLite and on PostgreSQL. Every step runs; the summary at the end lists the failures and
# the exit status is non-zero if there was any.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"

sqlite_url="sqlite:///$PWD/db.sqlite3"
postgres_url="${POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/aishang}"
# loadfile keeps each test module on one worker, so module-scoped fixtures are built once.
pytest_args=(-n 2 --dist loadfile -q)

summary=()
failures=0

step() {
    local name=$1 started=$SECONDS
    shift
    echo
    echo "==> $name"
    if "$@"; then
        summary+=("ok       $name ($((SECONDS - started)) s)")
    else
        summary+=("FAILED   $name ($((SECONDS - started)) s)")
        failures=$((failures + 1))
    fi
}

postgres_reachable() {
    python - "$postgres_url" <<'PY'
import sys

import dj_database_url
import psycopg

db = dj_database_url.parse(sys.argv[1])
try:
    psycopg.connect(host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"] or None,
                    password=db["PASSWORD"] or None, dbname="postgres", connect_timeout=3).close()
except psycopg.Error as exc:
    print(str(exc).strip(), file=sys.stderr)
    sys.exit(1)
PY
}

step "ruff" ruff check .
step "migrations up to date" env DJANGO_SETTINGS_MODULE=config.settings.test DATABASE_URL="$sqlite_url" \
    python manage.py makemigrations --check --dry-run
step "production settings (check --deploy)" env DJANGO_SETTINGS_MODULE=config.settings.prod \
    SECRET_KEY=example-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz ALLOWED_HOSTS=aishang.example.com \
    DATABASE_URL="$sqlite_url" python manage.py check --deploy --fail-level WARNING
step "pytest on SQLite" env DATABASE_URL="$sqlite_url" pytest "${pytest_args[@]}"

echo
echo "==> PostgreSQL at ${postgres_url}"
if postgres_reachable; then
    step "pytest on PostgreSQL" env DATABASE_URL="$postgres_url" pytest "${pytest_args[@]}"
elif [ "${CI:-}" = "true" ]; then
    summary+=("FAILED   pytest on PostgreSQL (not reachable at $postgres_url)")
    failures=$((failures + 1))
else
    summary+=("skipped  pytest on PostgreSQL (not reachable at $postgres_url; in CI this fails)")
fi

echo
echo "==> summary"
printf '%s\n' "${summary[@]}"
if [ "$failures" -gt 0 ]; then
    echo "$failures step(s) failed"
    exit 1
fi
echo "all checks passed"
