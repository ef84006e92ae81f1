"""Gap report speed on the demo assessment: the whole PDF job with a warm worker process
beside WeasyPrint alone on the same HTML, and a PDF from a fresh process as a user makes it
(`manage.py render_report`) beside WeasyPrint alone in a fresh process, in one run.

Usage: .venv/bin/python benchmarks/report.py [--runs K] [--cold-runs C]

- pdf_seconds: median of K jobs in this process after a first one (what a warm Celery worker
  does: read the result, draw the charts as SVG or take them from the chart cache, lay out,
  write, store);
- weasyprint_seconds: median of K WeasyPrint renders of the final report HTML alone;
- ratio_vs_weasyprint: median of the K per-pair ratios (job and WeasyPrint run alternately);
- cold_seconds: median of C runs of `manage.py render_report demo` in a fresh process with an
  empty chart cache (a true first render: Python and Django start-up, imports, the browser's
  start, every chart drawn, layout);
- cold_primed_seconds: the same command again with the chart cache that run left (a re-render
  of an unchanged report, as a user makes it the second time: no browser, no chart drawn);
- cold_weasyprint_seconds: median of C fresh processes that import WeasyPrint and render the
  same final HTML (charts already drawn in it, the stylesheet from disk);
- cold_ratio_vs_weasyprint: median of the C per-round ratios of the empty-cache render to
  WeasyPrint alone, cold_primed_ratio_vs_weasyprint the same for the primed cache (each round
  runs empty, WeasyPrint alone, primed, one after the other). The target line is the empty
  cache, the stricter of the two.
Runs in a throwaway SQLite database under a temporary folder; targets: ratio at most 1.5,
cold ratio at most 2.0.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cold-runs", type=int, default=5)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="opready-bench-")
    os.environ.update({"OPREADY_VAR_DIR": workdir, "DJANGO_SETTINGS_MODULE": "config.settings"})
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    from assessments.demo import DEMO_ASSESSMENT_ID, seed_demo
    from reports.chartimages import stop_kaleido
    from reports.jobs import pdf_render
    from reports.models import ReportJob
    from reports.pdf import StaticOnlyFetcher
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
        first, job = job_seconds()
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
    cold_runs, cold_alone, cold_primed = _cold_rounds(workdir, html, args.cold_runs)
    ratios = [w / a for w, a in zip(warm, alone, strict=True)]
    pdf_seconds, weasy = statistics.median(warm), statistics.median(alone)
    ratio = statistics.median(ratios)
    cold_ratio = statistics.median(c / a for c, a in zip(cold_runs, cold_alone, strict=True))
    primed_ratio = statistics.median(c / a for c, a in zip(cold_primed, cold_alone, strict=True))
    print(f"pages={job.pages} first job in this process: {first:.2f} s")
    print("job:        " + ", ".join(f"{t:.2f}" for t in warm))
    print("weasyprint: " + ", ".join(f"{t:.2f}" for t in alone))
    print("cold render_report, empty chart cache:  " + ", ".join(f"{t:.2f}" for t in cold_runs))
    print("cold weasyprint:                        " + ", ".join(f"{t:.2f}" for t in cold_alone))
    print("cold render_report, primed chart cache: " + ", ".join(f"{t:.2f}" for t in cold_primed))
    print(
        f"RESULT pdf_seconds={pdf_seconds:.2f} weasyprint_seconds={weasy:.2f} "
        f"ratio_vs_weasyprint={ratio:.2f} cold_seconds={statistics.median(cold_runs):.2f} "
        f"cold_primed_seconds={statistics.median(cold_primed):.2f} "
        f"cold_weasyprint_seconds={statistics.median(cold_alone):.2f} "
        f"cold_ratio_vs_weasyprint={cold_ratio:.2f} "
        f"cold_primed_ratio_vs_weasyprint={primed_ratio:.2f}"
    )


WEASYPRINT_ALONE = """
import sys
from weasyprint import HTML
HTML(filename=sys.argv[1]).write_pdf(sys.argv[2])
"""


def _cold_rounds(
    workdir: str, html: str, runs: int
) -> tuple[list[float], list[float], list[float]]:
    """Fresh processes, one after the other in each round: the command a user runs with an
    empty chart cache, WeasyPrint alone, and the command again with the cache it left."""
    from reports.rendering import STATIC_BASE

    page = Path(workdir) / "report.html"
    page.write_text(html.replace(STATIC_BASE, (ROOT / "static").as_uri() + "/"))
    env = {**os.environ, "OPREADY_VAR_DIR": workdir, "DJANGO_SETTINGS_MODULE": "config.settings"}
    command = [sys.executable, str(ROOT / "manage.py"), "render_report", "demo"]
    alone_command = [sys.executable, "-c", WEASYPRINT_ALONE, str(page)]

    def run(argv: list[str], charts: Path | None = None) -> float:
        extra = {"CHART_CACHE_DIR": str(charts)} if charts else {}
        start = time.perf_counter()
        subprocess.run(argv, env={**env, **extra}, check=True, capture_output=True, cwd=ROOT)
        return time.perf_counter() - start

    cold: list[float] = []
    alone: list[float] = []
    primed: list[float] = []
    for i in range(runs):
        charts = Path(workdir) / f"charts-{i}"  # a new, empty chart cache each round
        cold.append(run([*command, "--out", str(Path(workdir) / f"cold-{i}.pdf")], charts))
        alone.append(run([*alone_command, str(Path(workdir) / f"alone-{i}.pdf")]))
        primed.append(run([*command, "--out", str(Path(workdir) / f"primed-{i}.pdf")], charts))
    return cold, alone, primed


if __name__ == "__main__":
    main()
