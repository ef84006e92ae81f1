#!/usr/bin/env bash
# Create .venv with everything opready needs, from uv.lock.
# uv is used when on PATH; otherwise it is installed from PyPI into .tools/ with pip.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=$(scripts/find-python)
echo "==> Python: $PY ($("$PY" -c 'import platform; print(platform.python_version())'))"

if command -v uv >/dev/null 2>&1; then
  UV=$(command -v uv)
else
  if [ ! -x .tools/bin/uv ]; then
    echo "==> Installing uv into .tools/ (once)"
    "$PY" -m venv .tools
    .tools/bin/pip install --quiet --disable-pip-version-check "uv>=0.9,<1"
  fi
  UV=.tools/bin/uv
fi

# Never let uv download an interpreter: use the one found above.
export UV_PYTHON_DOWNLOADS=never
if [ -x .venv/bin/python ] && ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
  echo "==> .venv uses an old Python; recreating it"
  rm -rf .venv
fi
echo "==> Installing dependencies from uv.lock"
"$UV" sync --frozen --python "$PY" --all-groups
touch .venv/.installed
