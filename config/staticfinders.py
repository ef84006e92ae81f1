"""Serve plotly.js from the installed plotly package as `vendor/plotly.min.js`.

The browser charts need the same plotly.js version as the Python figures; taking the file
from the locked package keeps them in step without committing a 4.8 MB copy. Only that one
file is exposed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_JS = "vendor/plotly.min.js"
_SOURCE = Path(plotly.__file__).resolve().parent / "package_data"


class _OneFileStorage(FileSystemStorage):
    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        return [], ["plotly.min.js"] if path in {"", "."} else []


class PlotlyFinder(BaseFinder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.storage = _OneFileStorage(location=str(_SOURCE))
        self.storage.prefix = "vendor"  # type: ignore[attr-defined]

    def check(self, **kwargs: Any) -> list[Any]:
        return []

    def find(  # type: ignore[override]
        self, path: str, find_all: bool = False, **kwargs: Any
    ) -> str | list[str]:
        if path == PLOTLY_JS:
            match = str(_SOURCE / "plotly.min.js")
            return [match] if find_all else match
        return [] if find_all else ""

    def list(self, ignore_patterns: Any) -> Any:
        yield "plotly.min.js", self.storage
