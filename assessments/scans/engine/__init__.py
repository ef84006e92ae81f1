"""The integration-scan engine: pure Python, no Django (a test enforces it).

Entry points (see docs/scans.md):

- `scan_repository(...)`: a git repository from a URL, an uploaded archive or a local path;
- `scan_github(...)`: a GitHub repository through the REST API;
- `parse_delivery_export(...)` / `suggest_mapping(...)` / `delivery_findings(...)`: uploaded
  deployment, incident and change exports;
- `render_table(...)` / `render_json(...)`: command-line output.
"""

from __future__ import annotations

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
