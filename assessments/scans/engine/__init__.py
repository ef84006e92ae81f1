"""The integration-scan engine: pure Python, no Django (a test enforces it).

Entry points (see docs/scans.md):

- `scan_repository(...)`: a git repository from a URL, an uploaded archive or a local path;
- `scan_github(...)`: a GitHub repository through the REST API;
- `parse_delivery_export(...)` / `suggest_mapping(...)` / `delivery_findings(...)`: uploaded
  deployment, incident and change exports;
- `render_table(...)` / `render_json(...)`: command-line output.

Names are imported on first use (PEP 562): `manage.py scan` then loads only the git scan,
not the GitHub client (http.client, ssl) or the export parsers.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assessments.scans.engine.cli import render_json, render_table
    from assessments.scans.engine.delivery import (
        DeliveryImport,
        MappingError,
        RowError,
        suggest_mapping,
    )
    from assessments.scans.engine.deliveryfindings import delivery_findings
    from assessments.scans.engine.detectors import Catalogue, CatalogueError, load_catalogue
    from assessments.scans.engine.github import GitHubClient, HttpResponse, Transport
    from assessments.scans.engine.model import (
        CAPABILITIES,
        Finding,
        Limits,
        Pointer,
        Progress,
        ScanCancelled,
        ScanError,
        ScanResult,
        ScanTimeout,
        Status,
    )
    from assessments.scans.engine.scan import parse_delivery_export, scan_github, scan_repository

_HOME = {
    "CAPABILITIES": "model",
    "Catalogue": "detectors",
    "CatalogueError": "detectors",
    "DeliveryImport": "delivery",
    "Finding": "model",
    "GitHubClient": "github",
    "HttpResponse": "github",
    "Limits": "model",
    "MappingError": "delivery",
    "Pointer": "model",
    "Progress": "model",
    "RowError": "delivery",
    "ScanCancelled": "model",
    "ScanError": "model",
    "ScanResult": "model",
    "ScanTimeout": "model",
    "Status": "model",
    "Transport": "github",
    "delivery_findings": "deliveryfindings",
    "load_catalogue": "detectors",
    "parse_delivery_export": "scan",
    "render_json": "cli",
    "render_table": "cli",
    "scan_github": "scan",
    "scan_repository": "scan",
    "suggest_mapping": "delivery",
}

__all__ = [
    "CAPABILITIES",
    "Catalogue",
    "CatalogueError",
    "DeliveryImport",
    "Finding",
    "GitHubClient",
    "HttpResponse",
    "Limits",
    "MappingError",
    "Pointer",
    "Progress",
    "RowError",
    "ScanCancelled",
    "ScanError",
    "ScanResult",
    "ScanTimeout",
    "Status",
    "Transport",
    "delivery_findings",
    "load_catalogue",
    "parse_delivery_export",
    "render_json",
    "render_table",
    "scan_github",
    "scan_repository",
    "suggest_mapping",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))
