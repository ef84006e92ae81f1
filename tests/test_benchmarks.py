"""The benchmarks still run, at a tiny size, and end with the RESULT line their figures are
read from.

Nothing here times anything (speed targets live in the benchmarks' own figures). Benchmarks
are not run by the suite otherwise, so they rotted unseen: when version 2 of the rubric added
the security role, the scoring benchmark's role shares no longer matched the roles and it
crashed, and the results-page benchmark seeded version 1 answers into assessments pinned to
version 2, so its page answered 422. Each benchmark runs as a user runs it, in a fresh process.
The load and workshop benchmarks (gunicorn on PostgreSQL, minutes long) and the accuracy
benchmark (mirrors of public repositories) are left to be run by hand.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_benchmark(script: str, *args: str) -> dict[str, float]:
    """Run one benchmark to the end; return its RESULT line's figures."""
    env = {
        key: value
        for key, value in os.environ.items()
        # The benchmarks make their own throwaway databases and settings, on the embedded
        # defaults, whichever database and broker the suite itself runs on.
        if not key.startswith(("DJANGO_", "PYTEST_", "OPREADY_"))
        and key not in {"DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "MEDIA_ROOT"}
    }
    # The benchmarks' throwaway databases and files go in a folder of their own, removed after.
    # Not under tmp_path: pytest's worker folders are too long for the Chromium that draws the
    # report's charts (reports.chartimages.MAX_TMPDIR_BYTES).
    scratch = tempfile.mkdtemp(prefix="opready-bench-", dir="/tmp")
    env["TMPDIR"] = scratch
    try:
        completed = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, str(ROOT / "benchmarks" / script), *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-4000:]
    last = completed.stdout.strip().splitlines()[-1]
    assert last.startswith("RESULT "), output[-4000:]
    figures = dict(pair.split("=", 1) for pair in last.split()[1:])
    values = {key: float(value) for key, value in figures.items()}
    assert all(math.isfinite(v) and v >= 0 for v in values.values()), last
    return values


def test_the_scoring_benchmark_scores_and_loads_answers_on_each_rubric_version() -> None:
    for version in ("1", "2"):
        figures = run_benchmark(
            "scoring.py",
            "--respondents=200",
            "--runs=1",
            "--load=30",
            f"--rubric-version={version}",
        )
        assert set(figures) == {"respondents", "seconds", "peak_mb", "load_30_seconds"}
        assert figures["respondents"] == 200


def test_the_results_page_benchmark_serves_both_pages_from_the_cached_result() -> None:
    figures = run_benchmark("results_page.py", "--rounds=1", "--requests=1", "--large=40")
    assert set(figures) == {"ms_12", "ms_40", "ratio_40_vs_12", "ratio_vs_trivial"}
    assert figures["ms_12"] > 0 and figures["ms_40"] > 0


def test_the_event_log_benchmarks_analyse_a_generated_log() -> None:
    csv = run_benchmark("process_log.py", "--events=20000", "--runs=1")
    assert csv["events"] == 20000
    assert {"ratio_vs_read_csv", "peak_mb"} <= set(csv)
    xes = run_benchmark("process_xes.py", "--events=5000", "--runs=1")
    assert xes["events"] == 5000
    assert xes["events_per_second"] > 0


@pytest.mark.browser
def test_the_report_benchmark_makes_warm_and_cold_pdfs() -> None:
    # Chromium draws the charts (kaleido), hence the browser mark.
    figures = run_benchmark("report.py", "--runs=1", "--cold-runs=1")
    assert {"ratio_vs_weasyprint", "cold_ratio_vs_weasyprint"} <= set(figures)
    assert figures["pdf_seconds"] > 0 and figures["cold_seconds"] > 0


def test_the_scan_benchmark_scans_generated_histories() -> None:
    figures = run_benchmark("scan.py", "--commits=3300", "--small=3100", "--rounds=1")
    assert set(figures) == {"ratio_full_vs_git_log", "ratio_window_60k_vs_6k", "peak_mb"}
