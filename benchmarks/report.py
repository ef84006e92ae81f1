"""Gap report speed on the demo assessment: the whole PDF job with a warm worker process
beside WeasyPrint alone on the same HTML, in one run.

Usage: .venv/bin/python benchmarks/report.py [--runs K]

- cold_seconds: the first PDF job in a fresh process (kaleido starts its browser);
- pdf_seconds: median of K further jobs in the same process (what a warm Celery worker does:
  compute or read the result, draw the charts as SVG, lay out, write, store);
- weasyprint_seconds: median of K WeasyPrint renders of the final report HTML alone;
- ratio_vs_weasyprint: median of the K per-pair ratios (job and WeasyPrint run alternately).
Runs in a throwaway SQLite database under a temporary folder; target: ratio < 1.5, pdf < 5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="opready-bench-")
    os.environ.update({"OPREADY_VAR_DIR": workdir, "DJANGO_SETTINGS_MODULE": "config.settings"})
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    from assessments.demo import DEMO_ASSESSMENT_ID, seed_demo
    from reports.jobs import pdf_render
    from reports.models import ReportJob
    from reports.pdf import StaticOnlyFetcher, stop_kaleido
    from reports.rendering import render_html, report_context
    from reports.services import result_compute

    call_command("migrate", verbosity=0)
    seed_demo()

    def job_seconds() -> tuple[float, ReportJob]:
        job = ReportJob.objects.create(assessment_id=DEMO_ASSESSMENT_ID, render_hash="bench")
        start = time.perf_counter()
        pdf_render(job_id=str(job.pk))
        elapsed = time.perf_counter() - start
        job.refresh_from_db()
        assert job.status == "succeeded", job.error
        return elapsed, job

    try:
        cold, job = job_seconds()
        from weasyprint import HTML

        assessment = job.assessment
        result = result_compute(assessment=assessment).data
        html = render_html(
            report_context(assessment=assessment, result=result, for_pdf=True), standalone=True
        )

        def weasyprint_seconds() -> float:
            start = time.perf_counter()
            fetcher = StaticOnlyFetcher()
            HTML(
                string=html, base_url="https://opready.invalid/static/", url_fetcher=fetcher
            ).write_pdf()
            return time.perf_counter() - start

        # Alternate the two so that load from elsewhere on this shared machine hits both alike.
        warm: list[float] = []
        alone: list[float] = []
        for _ in range(args.runs):
            warm.append(job_seconds()[0])
            alone.append(weasyprint_seconds())
    finally:
        stop_kaleido()
    ratios = [w / a for w, a in zip(warm, alone, strict=True)]
    pdf_seconds, weasy = statistics.median(warm), statistics.median(alone)
    ratio = statistics.median(ratios)
    print(f"pages={job.pages}")
    print("job:       " + ", ".join(f"{t:.2f}" for t in warm))
    print("weasyprint: " + ", ".join(f"{t:.2f}" for t in alone))
    print(
        f"RESULT pdf_seconds={pdf_seconds:.2f} weasyprint_seconds={weasy:.2f} "
        f"ratio_vs_weasyprint={ratio:.2f} cold_seconds={cold:.2f}"
    )


if __name__ == "__main__":
    main()
