#!/usr/bin/env bash
# The product on SQLite with the demo company, at http://127.0.0.1:8000 (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh

export DJANGO_SETTINGS_MODULE=config.settings.dev
export DATABASE_URL="sqlite:///$PWD/db.sqlite3"
python=.venv/bin/python

$python manage.py migrate --no-input
$python manage.py demo_data
# Periodic work (定时出账, reminders, the message outbox) runs in-process beside the web server.
$python manage.py scheduler > scheduler.log 2>&1 &
trap 'kill $! 2>/dev/null' EXIT
echo
echo "Open http://127.0.0.1:8000/ and sign in with one of the logins above."
$python manage.py runserver 127.0.0.1:8000
