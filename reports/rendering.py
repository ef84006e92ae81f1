"""Gap reports: one set of templates and one result, rendered as an HTML page or a PDF.

This module builds the template context (shared by the page, the PDF and the share view);
`reports.pdf` turns print HTML into a PDF and charts into SVG.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import markdown
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from assessments.models import Assessment, AssessmentSetup, Membership
from assessments.processes import services as processes
from assessments.scans import services as scans
from reports import charts
from reports import plan as plans
from reports.presenters import present, summary_narrative
from reports.reach import gate_reach

logger = logging.getLogger(__name__)

# Bump when report templates or styles change in a way that should regenerate stored PDFs.
TEMPLATE_VERSION = "8"
PAPER_SIZES = {"a4": "A4", "letter": "Letter"}
# Report HTML for print names static files under this base; the PDF fetcher maps it to the
# app's static directories and nothing else.
STATIC_BASE = "https://opready.invalid/static/"
CHART_BASE = "https://opready.invalid/charts/"
METHODOLOGY = Path(settings.BASE_DIR) / "docs" / "methodology.md"

Progress = Callable[[str, int], None]


# --- Context -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Branding:
    firm_name: str
    colour: str
    logo_data_uri: str

    def fingerprint(self) -> str:
        return hashlib.sha256(
            f"{self.firm_name}|{self.colour}|{self.logo_data_uri}".encode()
        ).hexdigest()


def branding_for(assessment: Assessment, user: Any) -> Branding | None:
    """The branding of an assessment's reports. An assessment started from a branded
    engagement template (or re-assessing one) carries that branding on every report of it,
    whoever makes the report: it is part of the engagement's set-up. Otherwise a
    facilitator's own firm branding, when the report is made by a facilitator of the org."""
    setup = AssessmentSetup.objects.filter(assessment=assessment).first()
    if setup is not None and setup.has_brand:
        return Branding(
            setup.brand_firm_name, setup.brand_colour or "#1d5aa6", setup.brand_logo_data_uri()
        )
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    is_facilitator = Membership.objects.filter(
        user=user, organisation=assessment.organisation, role=Membership.Role.FACILITATOR
    ).exists()
    profile = getattr(user, "branding", None) if is_facilitator else None
    if profile is None or not profile.firm_name:
        return None
    return Branding(profile.firm_name, profile.colour or "#1d5aa6", profile.logo_data_uri())


def methodology_html() -> str:
    """docs/methodology.md as HTML: the appendix shows exactly the published text."""
    text = METHODOLOGY.read_text(encoding="utf-8")
    return markdown.markdown(text, extensions=["tables"], output_format="html")


def render_hash(
    result: dict[str, Any],
    *,
    assessment: Assessment,
    paper: str,
    branding: Branding | None,
    comparison: dict[str, Any] | None,
) -> str:
    """A fingerprint of everything the PDF shows, so that a stored PDF is reused exactly
    while it would come out the same: the result, the cover (organisation, assessment title
    and scope), the methodology text and scan sources of the appendix, the comparison,
    branding, paper and templates. The cover's date is left out on purpose: it says when
    the stored file was made."""
    payload = {
        "result": result,
        "template": TEMPLATE_VERSION,
        "paper": paper,
        "branding": branding.fingerprint() if branding else None,
        "comparison": comparison,
        "cover": {
            "organisation": assessment.organisation.name,
            "title": assessment.title,
            "scope": assessment.scope_label,
            "text": cover_text(assessment),
        },
        "methodology": hashlib.sha256(METHODOLOGY.read_bytes()).hexdigest(),
        "scan_sources": scans.scan_sources_summary(assessment),
        "scan_coverage": scans.scan_coverage(assessment),
        "processes": processes.report_fingerprint(assessment, result),
        "plan": plans.fingerprint(assessment),
        "reach": gate_reach(assessment, result),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def cover_text(assessment: Assessment) -> str:
    """The engagement's text for the report's cover (assessments.engagements), if any."""
    setup = AssessmentSetup.objects.filter(assessment=assessment).first()
    return setup.cover_text if setup else ""


def report_context(
    *,
    assessment: Assessment,
    result: dict[str, Any],
    for_pdf: bool,
    paper: str = "a4",
    branding: Branding | None = None,
    comparison: dict[str, Any] | None = None,
    progress: Progress | None = None,
    generated_at: Any = None,
    charts_by_reference: bool = False,
) -> dict[str, Any]:
    """Everything the report's templates read. With `for_pdf` the charts are SVG data URIs;
    with `charts_by_reference` too, they are still being drawn when this returns: the page
    names them by URL (`CHART_BASE`) and `context["chart_drawing"]` gives the drawn charts,
    which `reports.pdf.render_pdf(html, charts=...)` serves when WeasyPrint reaches them, so
    it parses the page and computes its styles while the browser draws."""
    rubric = assessment.rubric
    figures: dict[str, Any] = {
        "radar": charts.radar(result),
        "review": charts.review_wall(result),
        "dimensions": {
            d["id"]: charts.capability_bars(result, d["id"]) for d in result["dimensions"]
        },
    }
    # A comparison left out (not comparable) says why and draws nothing.
    compared = comparison if comparison and comparison.get("comparable", True) else None
    if compared:
        figures["trend"] = charts.trend(compared)
    delivery_figure = charts.delivery_weeks(result)
    if progress:
        progress("Drawing charts", 10)
    sized: dict[str, tuple[Any, int, int]] = {"radar": (figures["radar"], 520, 380)}
    if figures["review"] is not None:
        sized["review"] = (figures["review"], *charts.WALL_SIZE)
    for key, fig in figures["dimensions"].items():
        sized[f"dimension:{key}"] = (fig, 720, int(fig.layout.height or 300))
    if compared:
        sized["trend"] = (figures["trend"], 720, 340)
    if delivery_figure is not None:
        sized["delivery"] = (delivery_figure, 720, 300)
    drawing: Callable[[], dict[str, Any]]
    if for_pdf:
        # kaleido and a browser only where PDFs are made, and only for charts not drawn
        # before; they draw while the rest of the report is prepared.
        from reports.chartimages import svg_data_uris_start

        drawing = svg_data_uris_start(sized)
        if charts_by_reference:  # a PDF is coming, not the standalone HTML
            _load_pdf_renderer_meanwhile()
    else:
        drawing = functools.partial(
            dict, {name: charts.figure_json(fig) for name, (fig, _w, _h) in sized.items()}
        )
    p = present(result, rubric)
    plan = plans.plan_for(assessment, result)
    level_meanings = {c.id: dict(c.levels) for c in rubric.capabilities}
    questions = [
        {
            "question": q,
            "capability": rubric.capability(q.capability_id).title,
            "stat": result["questions"].get(q.id),
        }
        for q in rubric.questions
    ]
    context = {
        "assessment": assessment,
        "organisation": assessment.organisation,
        "cover_text": cover_text(assessment),
        "rubric": rubric,
        "result": result,
        "p": p,
        "plan": plan,
        "summary": summary_narrative(result, p, plan),
        "for_pdf": for_pdf,
        "paper": PAPER_SIZES.get(paper, "A4"),
        "branding": branding,
        "tables": {
            "radar": charts.radar_table(result),
            "review": charts.review_table(result),
            "delivery": charts.delivery_weeks_table(result),
            "trend": charts.trend_table(compared) if compared else [],
            "dimensions": {
                d["id"]: charts.capability_bars_table(result, d["id"]) for d in result["dimensions"]
            },
        },
        "level_meanings": level_meanings,
        "questions": questions,
        "methodology": methodology_html(),
        "comparison": comparison,
        "scan_sources": scans.scan_sources_summary(assessment),
        "scan_coverage": scans.scan_coverage(assessment),
        "processes": processes.backlog_context(assessment, result),
        "reach": gate_reach(assessment, result),
        "generated_at": generated_at or timezone.now(),
        "static_base": STATIC_BASE,
    }
    if for_pdf and charts_by_reference:
        context["chart_drawing"] = drawing
        drawn = {name: chart_url(name) for name in sized}
    else:
        drawn = drawing()
        if progress:
            progress("Drawing charts", 60)
    context["charts"] = {
        "radar": drawn["radar"],
        "review": drawn.get("review"),
        "dimensions": {key: drawn[f"dimension:{key}"] for key in figures["dimensions"]},
        "trend": drawn.get("trend"),
        "delivery": drawn.get("delivery"),
    }
    return context


def chart_url(name: str) -> str:
    """Where a PDF's page names a chart still being drawn (`charts_by_reference`)."""
    return f"{CHART_BASE}{quote(name, safe='')}.svg"


def _load_pdf_renderer_meanwhile() -> None:
    """A fresh process (`render_report`) pays 1 to 2 s to import WeasyPrint after the charts
    are drawn; import it in a thread instead, while the browser draws and the rest of the
    report is prepared. A worker that has rendered before has it already: nothing to do."""
    if "weasyprint" in sys.modules:
        return
    threading.Thread(
        target=importlib.import_module, args=("reports.pdf",), name="load-weasyprint", daemon=True
    ).start()


def render_html(context: dict[str, Any], *, standalone: bool) -> str:
    template = "reports/report_pdf.html" if standalone else "reports/report_page.html"
    return render_to_string(template, context)
