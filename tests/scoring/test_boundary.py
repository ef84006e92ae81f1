"""The pure-package boundary: scoring imports neither Django nor the apps."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "scoring"
ALLOWED_THIRD_PARTY = {"numpy", "pandas", "yaml"}
APPS = {"django", "config", "assessments", "reports"}


def test_importing_scoring_in_a_fresh_interpreter_loads_no_django_and_no_app() -> None:
    modules = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
    code = (
        "import importlib, sys\n"
        "import scoring\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module('scoring.' + name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {sorted(APPS)!r})\n"
        "print(','.join(bad))\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"loaded: {result.stdout.strip()} {result.stderr}"


def test_scoring_modules_import_only_the_standard_library_numpy_pandas_and_yaml() -> None:
    allowed = set(sys.stdlib_module_names) | ALLOWED_THIRD_PARTY | {"scoring", "__future__"}
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"
