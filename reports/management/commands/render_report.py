from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.demo import DEMO_ASSESSMENT_ID
from assessments.models import Assessment
from reports import exports
from reports.jobs import comparison_for
from reports.rendering import render_html, report_context
from reports.services import ResultUnavailable, result_compute

FORMATS = ("pdf", "html", "xlsx", "csv", "json")


class Command(BaseCommand):
    help = "Write an assessment's gap report or an export to a file (for scripts and checks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "assessment", help='An assessment id, or "demo" for the demo assessment.'
        )
        parser.add_argument("--format", choices=FORMATS, default="pdf")
        parser.add_argument(
            "--out", required=True, help="File to write (for csv: the table's file)."
        )
        parser.add_argument("--paper", choices=("a4", "letter"), default="a4")
        parser.add_argument(
            "--table",
            choices=exports.TABLES,
            default="answers",
            help="Which table, for --format csv.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        assessment = self._assessment(options["assessment"])
        if options["format"] != "pdf":
            self._write(assessment, options)
            return
        # Chromium starts only if a chart is not in the chart cache, and draws while the
        # rest of the report is prepared (reports.chartimages.svg_data_uris_start).
        from reports.chartimages import ChartRendererUnavailable, stop_kaleido

        try:
            self._write(assessment, options)
        except ChartRendererUnavailable as exc:
            raise CommandError(str(exc)) from None
        finally:
            stop_kaleido()

    def _write(self, assessment: Assessment, options: dict[str, Any]) -> None:
        try:
            result = result_compute(assessment=assessment).data
        except ResultUnavailable as exc:
            raise CommandError(f"The assessment cannot be scored: {exc}") from None
        out = Path(options["out"])
        fmt = options["format"]
        if fmt in ("pdf", "html"):
            context = report_context(
                assessment=assessment,
                result=result,
                for_pdf=True,
                paper=options["paper"],
                comparison=comparison_for(assessment),
                charts_by_reference=fmt == "pdf",
            )
            html = render_html(context, standalone=True)
            if fmt == "html":
                data = html.encode()
            else:
                data, pages = self._pdf(html, context["chart_drawing"])
                self.stdout.write(f"{pages} pages")
        elif fmt == "json":
            data = exports.to_json(assessment, result)
        else:
            frames = exports.tables(assessment, result)
            if fmt == "csv" and options["table"] not in frames:
                raise CommandError(f"This assessment has no {options['table']} table.")
            data = (
                exports.to_xlsx(frames)
                if fmt == "xlsx"
                else exports.to_csv(frames[options["table"]])
            )
        out.write_bytes(data)
        self.stdout.write(f"Wrote {out} ({len(data):,} bytes)")

    def _pdf(self, html: str, drawing: Callable[[], dict[str, str]]) -> tuple[bytes, int]:
        """WeasyPrint reads the page while the browser draws; the browser closes, once the
        charts are drawn, while WeasyPrint lays out."""
        import threading

        from reports.chartimages import stop_kaleido
        from reports.pdf import render_pdf

        def drawn_then_close() -> dict[str, str]:
            charts = drawing()
            threading.Thread(target=stop_kaleido, name="kaleido-stop").start()
            return charts

        data, pages, _fetcher = render_pdf(html, charts=drawn_then_close)
        return data, pages

    def _assessment(self, value: str) -> Assessment:
        if value == "demo":
            value = str(DEMO_ASSESSMENT_ID)
        try:
            key = uuid.UUID(value)
        except ValueError:
            raise CommandError(f'{value!r} is not an assessment id (a UUID) or "demo".') from None
        assessment = Assessment.objects.select_related("organisation").filter(pk=key).first()
        if assessment is None:
            hint = " Run `manage.py seed_demo` first." if key == DEMO_ASSESSMENT_ID else ""
            raise CommandError(f"No assessment {value}.{hint}")
        return assessment
