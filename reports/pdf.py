"""PDF output: WeasyPrint behind a fetcher that serves only static files, and charts as SVG.

The fetcher serves data: URIs and the app's own static files; anything else (file://, http(s)
to anywhere, attachments, paths escaping the static roots) is refused, so report content can
never make the renderer read a local file or reach the network. Charts arrive already drawn,
as SVG data URIs (reports.chartimages).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

from django.conf import settings
from django.contrib.staticfiles import finders
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from reports.rendering import CHART_BASE, STATIC_BASE

logger = logging.getLogger(__name__)


class StaticOnlyFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type hints
    """Serves data: URIs and files of the app's static directories; refuses everything else
    (file://, http(s) to anywhere, attachments, paths escaping the static roots)."""

    def __init__(self, charts: Callable[[], dict[str, str]] | None = None) -> None:
        super().__init__(allowed_protocols=("data", "https"), allow_redirects=False, timeout=1)
        self.refused: list[str] = []
        self._charts = charts
        self._drawn: dict[str, str] | None = None

    def drawn_charts(self) -> dict[str, str]:
        """The charts the page names by URL, as data URIs: waits for the drawing once, and
        raises what the drawing raised."""
        if self._drawn is None:
            self._drawn = self._charts() if self._charts is not None else {}
        return self._drawn

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        if url.startswith(CHART_BASE) and url.endswith(".svg") and self._charts is not None:
            name = unquote(url[len(CHART_BASE) : -len(".svg")])
            try:
                drawn = self.drawn_charts()
            except Exception as exc:  # stop now, not after laying out a PDF with no charts
                raise FatalURLFetchingError(f"the charts could not be drawn ({exc})") from exc
            uri = drawn.get(name)
            if uri is not None:
                _header, _, payload = uri.partition(",")
                data = base64.b64decode(payload)
                return URLFetcherResponse(url, data, {"Content-Type": "image/svg+xml"}, 200)
        if url.startswith(STATIC_BASE):
            relative = url[len(STATIC_BASE) :].split("?", 1)[0].split("#", 1)[0]
            path = finders.find(relative)
            if isinstance(path, str) and _inside_static(Path(path)):
                data = Path(path).read_bytes()
                return URLFetcherResponse(url, data, {"Content-Type": _mime(path)}, 200)
        self.refused.append(url)
        raise ValueError(
            f"refused to fetch {url[:200]!r}: reports may only use the app's static files"
        )


def _inside_static(path: Path) -> bool:
    resolved = path.resolve()
    roots = [Path(p).resolve() for p in settings.STATICFILES_DIRS]
    roots += [Path(finders.find("vendor/plotly.min.js") or "/nonexistent").resolve().parent]
    return any(resolved.is_relative_to(root) for root in roots)


def _mime(path: str) -> str:
    suffix = Path(path).suffix.lower()
    return {
        ".css": "text/css",
        ".svg": "image/svg+xml",
        ".png": "image/png",
        ".woff2": "font/woff2",
        ".ttf": "font/ttf",
    }.get(suffix, "application/octet-stream")


def render_pdf(
    html: str, charts: Callable[[], dict[str, str]] | None = None
) -> tuple[bytes, int, StaticOnlyFetcher]:
    """PDF bytes and page count from report HTML, fetching nothing but static files, data:
    URIs and, with `charts` (`context["chart_drawing"]` of a report context made with
    `charts_by_reference`), the charts the page names by URL, which may still be drawing when
    WeasyPrint starts (the fetcher lists what it refused)."""
    fetcher = StaticOnlyFetcher(charts)
    try:
        document = HTML(string=html, base_url=STATIC_BASE, url_fetcher=fetcher).render()
    except FatalURLFetchingError as exc:  # a BaseException: give callers the drawing's error
        raise (exc.__cause__ or RuntimeError(str(exc))) from None
    if charts is not None:
        # WeasyPrint leaves out an image it could not fetch, with a warning: a drawing that
        # failed must fail the PDF instead, as it does when the charts are drawn first.
        fetcher.drawn_charts()
        missing = [url for url in fetcher.refused if url.startswith(CHART_BASE)]
        if missing:
            raise ValueError(f"charts named but not drawn: {', '.join(missing)}")
    return document.write_pdf(), len(document.pages), fetcher
