#!/usr/bin/env bash
# Prepare this checkout: Python packages in .venv, front-end packages from npm, and the
# Debian packages the browser tests and Chinese PDFs need. Safe to run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    if ! python3 -m venv .venv; then
        rm -rf .venv
        echo "setup: python3 -m venv failed; on Debian install python3-venv first" >&2
        exit 1
    fi
fi

echo "setup: Python packages"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

# npm ci empties node_modules first, so run it only when the lock file is newer than the install.
if [ ! -f node_modules/.package-lock.json ] \
    || [ package-lock.json -nt node_modules/.package-lock.json ] \
    || [ package.json -nt node_modules/.package-lock.json ]; then
    echo "setup: npm packages"
    npm ci --no-audit --no-fund --loglevel=error
fi

missing=()
for package in chromium fonts-noto-cjk; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed"; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "setup: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
    else
        echo "setup: not root, so not installing ${missing[*]}; run: sudo apt-get install ${missing[*]}" >&2
    fi
fi

# The English catalogue (locale/en) is committed compiled; rebuild it when gettext is installed.
if command -v msgfmt >/dev/null 2>&1; then
    echo "setup: compiling translations"
    .venv/bin/python manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0
fi
