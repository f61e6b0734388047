#!/usr/bin/env bash
# Install gradsim with its test extra into ./.venv and run the whole test suite.
# This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
# Qt needs a few system libraries even offscreen (fonts, xkb, EGL/GL); install them if apt works.
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    missing=()
    for pkg in libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 fonts-dejavu-core; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
fi
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test,notebook]"
.venv/bin/python -m ruff check .
.venv/bin/python -m mypy  # the whole package; strict on gradsim/engine and gradsim/app/model
.venv/bin/python -m pytest -q "$@"
