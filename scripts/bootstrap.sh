#!/usr/bin/env bash
# Create .venv with everything opready needs, from uv.lock.
# uv is used when on PATH; otherwise it is installed from PyPI into .tools/ with pip.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=$(scripts/find-python)
echo "==> Python: $PY ($("$PY" -c 'import platform; print(platform.python_version())'))"

UV_SPEC="uv>=0.9,<1"

# Debian and Ubuntu ship Python without venv/ensurepip until python3-venv (or
# python3.X-venv) is installed: install it when allowed to, or say exactly what to run.
venv_package() {
  local ver pkg
  ver=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  pkg="python${ver}-venv"
  if command -v apt-cache >/dev/null 2>&1 && ! apt-cache show "$pkg" >/dev/null 2>&1; then
    pkg="python3-venv"
  fi
  echo "$pkg"
}

install_uv() {
  rm -rf .tools
  if "$PY" -m venv .tools >/dev/null 2>&1 && [ -x .tools/bin/pip ]; then
    .tools/bin/pip install --quiet --disable-pip-version-check "$UV_SPEC" && return 0
  fi
  rm -rf .tools
  if "$PY" -m pip --version >/dev/null 2>&1; then
    "$PY" -m pip install --quiet --disable-pip-version-check --target .tools/lib "$UV_SPEC" \
      && mkdir -p .tools/bin && ln -sf ../lib/bin/uv .tools/bin/uv && return 0
  fi
  return 1
}

if command -v uv >/dev/null 2>&1; then
  UV=$(command -v uv)
else
  if [ ! -x .tools/bin/uv ]; then
    echo "==> Installing uv into .tools/ (once)"
    if ! install_uv; then
      pkg=$(venv_package)
      if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then
        SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
        echo "==> $PY has no venv module: installing $pkg"
        export DEBIAN_FRONTEND=noninteractive
        $SUDO apt-get install -y --no-install-recommends "$pkg" >/dev/null 2>&1 \
          || { $SUDO apt-get update -qq >/dev/null 2>&1 \
               && $SUDO apt-get install -y --no-install-recommends "$pkg" >/dev/null; } || true
      fi
      if ! install_uv; then
        echo "" >&2
        echo "Could not create a virtual environment with $PY (no venv and no pip)." >&2
        echo "Install one of these and run the command again:" >&2
        echo "  sudo apt-get install $pkg        # or: install uv (https://docs.astral.sh/uv/)" >&2
        exit 1
      fi
    fi
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
# --compile-bytecode: pip writes .pyc files at install time, uv only when asked. Without them a
# process started where bytecode cannot be written (PYTHONDONTWRITEBYTECODE=1, a read-only
# install) compiles every module it imports, every time: about 1,800 modules and most of a
# fresh `render_report`'s start (benchmarks/report.py), and seconds of every test run.
"$UV" sync --frozen --python "$PY" --all-groups --compile-bytecode
touch .venv/.installed
