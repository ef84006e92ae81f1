#!/usr/bin/env bash
# Security audit of the code and the locked dependencies (run by .ci/run):
# - bandit over the application code: any finding fails (justified ones are skipped in
#   pyproject.toml [tool.bandit] or marked `# nosec <id>` with the reason on their line);
# - pip-audit over every package pinned in uv.lock: a known vulnerability fails.
# pip-audit asks PyPI's per-version JSON API. Where that API cannot be reached (a registry
# mirror that serves only the simple index, as on some build machines), packages it could not
# check are listed with a WARNING: that is "not audited here", never "no vulnerabilities".
set -euo pipefail
cd "$(dirname "$0")/.."
UV=$(command -v uv || echo .tools/bin/uv)

echo "==> bandit"
.venv/bin/bandit -q -c pyproject.toml -r assessments reports config scoring

echo "==> pip-audit (uv.lock)"
req=$(mktemp)
trap 'rm -f "$req"' EXIT
"$UV" export --frozen --format requirements-txt --no-hashes --no-emit-project -o "$req" >/dev/null
set +e
out=$(.venv/bin/pip-audit -r "$req" --no-deps --disable-pip --progress-spinner off 2>&1)
status=$?
set -e
echo "$out" | grep -v "could not be audited" || true
skipped=$(echo "$out" | grep -c "could not be audited" || true)
if echo "$out" | grep -qE "^Found [0-9]+ known vulnerabilit"; then
    echo "FAILED: pip-audit found known vulnerabilities (above)."
    exit 1
fi
if [ "$skipped" -gt 0 ]; then
    echo "WARNING: pip-audit could not check $skipped package(s): the vulnerability service was not reachable from here."
elif [ "$status" -ne 0 ]; then
    echo "FAILED: pip-audit exited $status"
    exit 1
fi
echo "==> audit done"
