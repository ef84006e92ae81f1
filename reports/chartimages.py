"""Charts for PDFs: the browser's plotly figures as SVG data URIs, drawn by kaleido.

One kaleido browser per process, reused across charts and jobs (a Celery worker starts it with
the process) and stopped with the process. Each drawn chart is cached by a digest of its figure
(reports.chartcache on disk, then the shared cache), so the browser starts only when a chart
is new. Nothing here imports WeasyPrint: a fresh process starts drawing before it pays for
the PDF renderer's import.
"""

from __future__ import annotations

import atexit
import base64
import functools
import hashlib
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache

from reports.chartcache import ChartCache

logger = logging.getLogger(__name__)

_kaleido_lock = threading.Lock()
_kaleido_started = False


# Tabs of the one browser. A worker starts it once and keeps it (several tabs draw a report's
# charts at once); a process that starts it for one report (render_report) opens one tab:
# measured in a fresh process on 2 busy cores, one tab drew the demo's charts in 3.2-3.7 s
# with 1.2 s of browser CPU, three tabs in 6.2-7.2 s with 2.0-2.4 s (each tab's start costs
# more than it saves on a handful of charts).
WORKER_TABS = 3
ONE_REPORT_TABS = 1


class ChartRendererUnavailable(RuntimeError):
    """Charts cannot be drawn in this process: no browser, or it stopped. The message says
    what an administrator can do; trying again as it is would fail the same way."""


NO_BROWSER = (
    "The report's charts could not be drawn: no Chromium browser was found on the server "
    "(install it, for example `apt-get install chromium`, or set BROWSER_PATH to it)."
)
BROWSER_STOPPED = (
    "The report's charts could not be drawn: the Chromium browser that draws them stopped "
    "(see the server's log; BROWSER_PATH, if set, must name a working Chromium)."
)
POLL_SECONDS = 0.5
# Chromium puts its singleton socket in the temporary folder
# (<TMPDIR>/.org.chromium.Chromium.XXXXXX/SingletonSocket, 45 bytes after the folder), and a
# Unix socket's path holds at most 107 bytes: with a longer temporary folder it exits as it
# starts (measured with Debian's Chromium 156: 62 bytes start, 63 do not).
MAX_TMPDIR_BYTES = 62
TMPDIR_TOO_LONG = (
    "The report's charts could not be drawn: the server's temporary folder ({path}) is "
    f"longer than {MAX_TMPDIR_BYTES} bytes, too long for the Chromium browser that draws them "
    "to start; set TMPDIR to a shorter folder, such as /tmp."
)


def _browser() -> str | None:
    """The browser kaleido would start (BROWSER_PATH first), if it can run."""
    from choreographer.browsers.chromium import Chromium

    path = Chromium.find_browser(skip_local=False)
    return path if path and os.access(path, os.X_OK) and Path(path).is_file() else None


def _renderer_running() -> bool:
    """False once kaleido's server thread has died (its browser failed to start or
    crashed): kaleido then waits for its answer forever, so the caller must stop waiting."""
    from kaleido._sync_server import GlobalKaleidoServer

    server = GlobalKaleidoServer()
    thread = getattr(server, "_thread", None)  # kaleido's own, no public way to ask
    return not server.is_running() or thread is None or thread.is_alive()


def _ensure_kaleido(tabs: int = ONE_REPORT_TABS) -> None:
    """Start one kaleido server (one Chromium) for this process, on first use."""
    global _kaleido_started
    with _kaleido_lock:
        if _kaleido_started:
            return
        if _browser() is None:
            raise ChartRendererUnavailable(NO_BROWSER)
        temporary = tempfile.gettempdir()
        if len(os.fsencode(temporary)) > MAX_TMPDIR_BYTES:
            raise ChartRendererUnavailable(TMPDIR_TOO_LONG.format(path=temporary))
        import kaleido

        kaleido.start_sync_server(n=tabs, mathjax=False, silence_warnings=True)
        _kaleido_started = True
        atexit.register(stop_kaleido)


def stop_kaleido() -> None:
    global _kaleido_started
    with _kaleido_lock:
        if not _kaleido_started:
            return
        import kaleido

        try:
            kaleido.stop_sync_server(silence_warnings=True)
        finally:
            _kaleido_started = False


def warm_kaleido_in_background(tabs: int = WORKER_TABS) -> threading.Thread:
    """Start the chart renderer while the caller does other work (a worker process pays
    Chromium's start once, before its first job); a failure is left for the first chart to
    report."""

    def start() -> None:
        try:
            _ensure_kaleido(tabs)
        except Exception:  # no browser here: the first chart raises with the reason
            logger.warning("Could not start the chart renderer ahead of use", exc_info=True)

    thread = threading.Thread(target=start, name="kaleido-warm", daemon=True)
    thread.start()
    return thread


# Drawn charts by a digest of their figure, size and the renderer's versions: a report
# rendered again with unchanged charts draws nothing. Two layers: files on this machine
# (reports.chartcache: they outlive the process, so a fresh `render_report` draws nothing
# either) and the shared cache (Redis in production: another worker's drawings).
SVG_CACHE_SECONDS = 7 * 24 * 3600


@functools.cache
def _renderer_versions() -> str:
    from importlib.metadata import version

    return f"{version('plotly')}|{version('kaleido')}"


def _svg_digest(figure: Any, width: int, height: int) -> str:
    digest = hashlib.sha256(figure.to_json(validate=False, remove_uids=True).encode())
    digest.update(f"{width}x{height}|{_renderer_versions()}".encode())
    return digest.hexdigest()


def _disk_cache() -> ChartCache:
    return ChartCache(settings.CHART_CACHE_DIR, max_bytes=settings.CHART_CACHE_MAX_BYTES)


def svg_data_uris(figures: dict[str, tuple[Any, int, int]]) -> dict[str, str]:
    """Several figures as SVG data URIs in one batch: kaleido draws the ones not already in
    a cache, in parallel tabs. `figures` maps a name to (figure, width, height)."""
    return svg_data_uris_start(figures)()


def svg_data_uris_start(
    figures: dict[str, tuple[Any, int, int]],
) -> Callable[[], dict[str, str]]:
    """`svg_data_uris` in two steps: look the figures up in the caches now and start drawing
    the missing ones in the background (the browser starts only if one is missing); the
    returned function waits for them and gives the data URIs. The caller prepares the rest of
    its page meanwhile."""
    digests = {name: _svg_digest(*spec) for name, spec in figures.items()}
    disk = _disk_cache()
    found: dict[str, str] = {}
    for digest in set(digests.values()):
        value = disk.get(digest)
        if value is not None:
            found[digest] = value
    if len(found) < len(set(digests.values())):
        wanted = [f"chart-svg:{d}" for d in set(digests.values()) if d not in found]
        try:
            shared: dict[str, str] = cache.get_many(wanted)
        except Exception:  # the cache is an optimisation: without it, draw everything
            logger.warning("Chart cache unavailable", exc_info=True)
            shared = {}
        for key, value in shared.items():
            found[key.removeprefix("chart-svg:")] = value
            disk.put(key.removeprefix("chart-svg:"), value)
    missing = {name: spec for name, spec in figures.items() if digests[name] not in found}
    if not missing:
        return lambda: {name: found[digests[name]] for name in figures}
    outcome: dict[str, Any] = {}

    def draw() -> None:
        try:
            outcome["drawn"] = _draw(missing)
        except BaseException as exc:  # handed to the caller, in its thread
            outcome["error"] = exc

    worker = threading.Thread(target=draw, name="charts-draw", daemon=True)
    worker.start()

    def finish() -> dict[str, str]:
        while worker.is_alive():
            worker.join(POLL_SECONDS)
            if worker.is_alive() and not _renderer_running():
                # Left blocked in kaleido (a daemon thread); the next drawing starts afresh.
                stop_kaleido()
                raise ChartRendererUnavailable(BROWSER_STOPPED)
        if "error" in outcome:
            raise outcome["error"]
        drawn: dict[str, str] = outcome["drawn"]
        fresh = {digests[name]: uri for name, uri in drawn.items()}
        for digest, uri in fresh.items():
            disk.put(digest, uri)
        try:
            cache.set_many({f"chart-svg:{d}": uri for d, uri in fresh.items()}, SVG_CACHE_SECONDS)
        except Exception:
            logger.warning("Chart cache unavailable", exc_info=True)
        found.update(fresh)
        return {name: found[digests[name]] for name in figures}

    return finish


def _draw(figures: dict[str, tuple[Any, int, int]]) -> dict[str, str]:
    _ensure_kaleido()
    import kaleido

    with tempfile.TemporaryDirectory(prefix="opready-charts-") as folder:
        specs = [
            {
                "fig": figure,
                "path": str(Path(folder) / f"{index}.svg"),
                "opts": {"format": "svg", "width": width, "height": height},
            }
            for index, (figure, width, height) in enumerate(figures.values())
        ]
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The kopts argument is ignored")
            kaleido.write_fig_from_object_sync(specs, cancel_on_error=True)
        return {
            name: "data:image/svg+xml;base64,"
            + base64.b64encode(Path(spec["path"]).read_bytes()).decode()
            for name, spec in zip(figures, specs, strict=True)
        }
