#!/usr/bin/env bash
# Creates <checkout>/.venv with the project and its dev tools; uv's cache (~/.cache/uv) keeps repeat runs fast.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1 && ! python3 -m uv --version >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check "uv>=0.5,<1"
fi
UV=(python3 -m uv)
command -v uv >/dev/null 2>&1 && UV=(uv)

stamp=.venv/.installed
# Reinstall only when the dependency list changed since the last install.
if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ]; then
  exit 0
fi
[ -x .venv/bin/python ] || "${UV[@]}" venv --quiet --python python3.11 .venv
"${UV[@]}" pip install --quiet --python .venv/bin/python -e '.[dev]'
touch "$stamp"
