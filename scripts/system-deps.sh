#!/usr/bin/env bash
# System packages opready uses: Chromium (chart images in PDFs through kaleido, and the browser
# tests through Playwright) and poppler-utils (tests render PDF pages to PNG).
# Installs them with apt-get when allowed to; otherwise says exactly what to install.
#   scripts/system-deps.sh          warn when something is missing
#   scripts/system-deps.sh --need   fail when something is missing (tests)
set -uo pipefail
need=0
[ "${1:-}" = "--need" ] && need=1

missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
command -v pdftocairo >/dev/null 2>&1 || missing+=(poppler-utils)
fc-list 2>/dev/null | grep -qi dejavu || missing+=(fonts-dejavu-core)
[ ${#missing[@]} -eq 0 ] && exit 0

if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    SUDO=""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo"
  else
    SUDO="none"
  fi
  if [ "$SUDO" != "none" ]; then
    echo "==> Installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
       || { $SUDO apt-get update -qq >/dev/null 2>&1 && $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }; then
      exit 0
    fi
    echo "apt-get could not install: ${missing[*]}" >&2
  fi
fi
echo "" >&2
echo "Missing system packages: ${missing[*]}" >&2
echo "Install them with:  sudo apt-get install ${missing[*]}" >&2
echo "(On Ubuntu the Chromium package is 'chromium-browser'; set CHROMIUM_PATH if it lives elsewhere.)" >&2
if [ $need = 1 ]; then
  exit 1
fi
echo "Continuing: PDF reports will be generated without chart images until Chromium is installed." >&2
exit 0
