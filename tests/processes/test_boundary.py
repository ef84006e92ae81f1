from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_core_imports_no_django() -> None:
    code = (
        "import sys, assessments.processes.core.eventlog, assessments.processes.core.suitability, "
        "assessments.processes.core.table, assessments.processes.core.coverage; "
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_core_sources_never_mention_django() -> None:
    for path in (ROOT / "assessments" / "processes" / "core").glob("*.py"):
        text = path.read_text()
        assert "import django" not in text and "from django" not in text, path
