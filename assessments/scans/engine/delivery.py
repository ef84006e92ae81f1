"""Delivery exports (CSV or JSON): deployments, incidents and changes for the DORA measures.

An upload goes through a column mapping step: `suggest_mapping(columns, kind)` recognises
PagerDuty (incident_number, created_on, resolved_on ...), Opsgenie (tinyId, createdAt,
closedAt ...), GitHub issue exports (number, created_at, closed_at, labels) and generic names;
the user confirms or edits it and `parse_export(..., mapping=...)` applies it. Good rows import
even when others are malformed; each bad row is reported (row number, column, problem).
Row numbers are spreadsheet rows for CSV (the header is row 1) and 1-based positions for JSON.

Rows come out in the shapes `scoring.delivery.DeliveryData` expects, with times as ISO 8601
UTC strings: deployments {id, time, status, shas, environment}, incidents {id, created,
resolved, deployment_id, sha, title}, changes {sha, time, ai_assisted}.
"""

from __future__ import annotations

import csv
import email.utils
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from assessments.scans.engine.model import ScanError

ExportKind = Literal["deployments", "incidents", "changes"]
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
MAX_ERRORS = 1000

# field -> (required, aliases), best first. Names compare after removing everything but letters
# and digits, so created_at, createdAt and "Created At" are one name.
FIELDS: dict[str, dict[str, tuple[bool, tuple[str, ...]]]] = {
    "deployments": {
        "id": (
            True,
            ("id", "deployment_id", "deploy_id", "deployment", "uuid", "run_id", "number"),
        ),
        "time": (
            True,
            (
                "time",
                "timestamp",
                "deployed_at",
                "deploy_time",
                "finished_at",
                "completed_at",
                "created_at",
                "created",
                "date",
                "end_time",
            ),
        ),
        "status": (False, ("status", "state", "result", "conclusion", "outcome")),
        "shas": (
            False,
            (
                "shas",
                "sha",
                "commits",
                "commit",
                "commit_sha",
                "commit_shas",
                "head_sha",
                "revision",
                "git_sha",
                "changes",
                "change_ids",
            ),
        ),
        "environment": (False, ("environment", "env", "stage", "target")),
        "rework": (
            False,
            ("rework", "is_rework", "unplanned", "is_unplanned", "hotfix", "is_hotfix"),
        ),
    },
    "incidents": {
        "id": (
            False,
            ("id", "incident_id", "incident_number", "number", "tinyid", "key", "incident_key"),
        ),
        "created": (
            True,
            (
                "created",
                "created_at",
                "created_on",
                "opened_at",
                "started_at",
                "start_time",
                "triggered_at",
                "impact_start_date",
            ),
        ),
        "resolved": (
            False,
            (
                "resolved",
                "resolved_at",
                "resolved_on",
                "closed_at",
                "impact_end_date",
                "end_time",
                "mitigated_at",
                "recovered_at",
            ),
        ),
        "deployment_id": (
            False,
            (
                "deployment_id",
                "deploy_id",
                "deployment",
                "related_deployment",
                "caused_by_deployment",
            ),
        ),
        "sha": (
            False,
            ("sha", "commit", "commit_sha", "root_cause_sha", "cause_sha", "root_cause_commit"),
        ),
        "title": (False, ("title", "summary", "message", "description", "name")),
    },
    "changes": {
        "sha": (True, ("sha", "commit", "commit_sha", "hash", "revision", "id")),
        "time": (
            True,
            (
                "time",
                "timestamp",
                "committed_at",
                "commit_time",
                "authored_at",
                "created_at",
                "date",
            ),
        ),
        "ai_assisted": (False, ("ai_assisted", "ai", "ai_generated", "is_ai", "agent", "copilot")),
    },
}
_SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")
# A change id: a commit sha, or any other key a tracker or export uses (PROJ-123, 42, a UUID).
_CHANGE_ID = re.compile(r"^[\w.:/#@+-]{1,200}$")
_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f", ""}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


class MappingError(ScanError):
    """The column mapping lacks a required field: the user has to choose its column.

    `columns` are the export's columns, `missing` the required fields without one and
    `total_rows` the rows the export holds.
    """

    def __init__(
        self, message: str, *, columns: Sequence[str], missing: Sequence[str], total_rows: int
    ) -> None:
        super().__init__(message)
        self.columns = tuple(columns)
        self.missing = tuple(missing)
        self.total_rows = total_rows


@dataclass(frozen=True)
class RowError:
    row_number: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f", column {self.column!r}" if self.column else ""
        return f"row {self.row_number}{where}: {self.message}"


@dataclass(frozen=True)
class DeliveryImport:
    kind: ExportKind
    rows: tuple[dict[str, Any], ...]
    errors: tuple[RowError, ...]
    columns: tuple[str, ...]
    mapping: Mapping[str, str]
    suggested: Mapping[str, str]
    source_format: str
    total_rows: int
    warnings: tuple[str, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())  # how values were read, e.g. change id lists

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": list(self.rows),
            "errors": [
                {"row_number": e.row_number, "column": e.column, "message": e.message}
                for e in self.errors
            ],
            "columns": list(self.columns),
            "mapping": dict(self.mapping),
            "suggested": dict(self.suggested),
            "source_format": self.source_format,
            "total_rows": self.total_rows,
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }


def detect_format(columns: Sequence[str]) -> str:
    keys = {_key(c) for c in columns}
    if {"incidentnumber", "createdon"} <= keys or "resolvedon" in keys:
        return "pagerduty"
    if "tinyid" in keys or "impactenddate" in keys:
        return "opsgenie"
    if {"number", "createdat", "closedat"} <= keys and ("labels" in keys or "state" in keys):
        return "github-issues"
    return "generic"


def suggest_mapping(columns: Sequence[str], kind: ExportKind) -> dict[str, str]:
    """Field -> column for the columns a known export format or a generic name suggests."""
    if kind not in FIELDS:
        raise ScanError(
            f"Unknown export kind {kind!r}: expected deployments, incidents or changes."
        )
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(_key(column), column)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for name, (_required, aliases) in FIELDS[kind].items():
        for alias in aliases:
            match = by_key.get(_key(alias))
            if match is not None and match not in used:
                mapping[name] = match
                used.add(match)
                break
    return mapping


def parse_datetime(value: Any) -> tuple[datetime | None, bool]:
    """(UTC datetime or None when empty, whether a time zone was missing). ValueError if bad.

    Accepts ISO 8601 (with `Z` or an offset), epoch seconds or milliseconds, and RFC 2822
    dates. Day/month orders such as 01/02/2024 are ambiguous and refused, and so are dates
    outside what the platform can represent (1e20, Infinity, year 1 with a positive offset).
    """
    try:
        return _parse_datetime(value)
    except (OverflowError, OSError):
        # datetime raises these, not ValueError, for timestamps and offsets out of range.
        raise ValueError("the date is out of range") from None


def _parse_datetime(value: Any) -> tuple[datetime | None, bool]:
    if value is None:
        return None, False
    if isinstance(value, bool):
        raise ValueError("not a date")
    if isinstance(value, int | float):
        return _epoch(float(value)), False
    text = str(value).strip()
    if not text:
        return None, False
    if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
        return _epoch(float(text)), False
    if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{2,4}.*", text):
        raise ValueError("ambiguous day/month order; use ISO 8601 (2024-05-31T14:00:00Z)")
    try:
        parsed = datetime.fromisoformat(text.replace(" UTC", "+00:00").replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise ValueError("not a date or time this importer understands") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC), True
    return parsed.astimezone(UTC), False


def _epoch(number: float) -> datetime:
    if number > 1e11:  # milliseconds (Opsgenie)
        number /= 1000
    return datetime.fromtimestamp(number, UTC)


def iso(value: datetime) -> str:
    # isoformat, not strftime: strftime("%Y") does not zero-pad years before 1000.
    return value.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        parts = [v.get("name", "") if isinstance(v, dict) else v for v in value]
        return ";".join(str(p) for p in parts if p not in (None, ""))
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def change_ids(value: Any) -> tuple[list[str], str]:
    """The change ids in one cell and how they were read: a JSON list (`["a1b2c3d", "PROJ-7"]`,
    also as text inside a CSV cell), or ids separated by `;`, `,` or white space. Hex commit
    shas are lowercased; other ids are kept as written."""
    how = "list"
    if isinstance(value, list | tuple):
        items = [str(v).strip() for v in value if v is not None]
        how = "JSON list"
    else:
        text = _cell(value).strip()
        items = []
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, list):
                items = [str(v).strip() for v in parsed if v is not None]
                how = "JSON list"
        if how != "JSON list":
            items = [s for s in re.split(r"[\s,;]+", text) if s]
            how = "separated list" if len(items) > 1 else "single id"
    ids = [i.lower() if _SHA.match(i) else i for i in items if i]
    return list(dict.fromkeys(ids)), how


def _read_table(data: bytes, filename: str) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    if len(data) > MAX_BYTES:
        raise ScanError(f"The export is larger than {MAX_BYTES // (1024 * 1024)} MiB.")
    stripped = data.lstrip()
    if filename.lower().endswith(".json") or stripped[:1] in (b"[", b"{"):
        try:
            parsed = json.loads(data.decode("utf-8-sig"))
        except (ValueError, UnicodeDecodeError):
            raise ScanError("The export is not valid JSON.") from None
        if isinstance(parsed, dict):
            for key in (
                "deployments",
                "incidents",
                "changes",
                "alerts",
                "issues",
                "items",
                "data",
                "results",
            ):
                if isinstance(parsed.get(key), list):
                    parsed = parsed[key]
                    break
        if not isinstance(parsed, list):
            raise ScanError("The JSON export must be an array of objects.")
        if len(parsed) > MAX_ROWS:
            raise ScanError(f"The export has more than {MAX_ROWS} rows.")
        columns: dict[str, None] = {}
        rows: list[tuple[int, dict[str, Any]]] = []
        for index, item in enumerate(parsed, start=1):
            if not isinstance(item, dict):
                rows.append((index, {}))
                continue
            for key in item:
                columns.setdefault(str(key), None)
            rows.append((index, {str(k): v for k, v in item.items()}))
        return list(columns), rows
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise ScanError("The export is empty.") from None
    header = [h.strip() for h in header]
    if len(set(header)) != len(header):
        raise ScanError("The export has two columns with the same name.")
    rows = []
    try:
        for index, record in enumerate(reader, start=2):
            if len(rows) >= MAX_ROWS:
                raise ScanError(f"The export has more than {MAX_ROWS} rows.")
            if not any(cell.strip() for cell in record):
                continue
            rows.append((index, dict(zip(header, record, strict=False))))
    except csv.Error as exc:
        raise ScanError(f"The CSV export could not be read ({exc}).") from None
    return header, rows


class _RowReader:
    """One row's values by field name, collecting its problems."""

    def __init__(self, number: int, raw: Mapping[str, Any], mapping: Mapping[str, str]) -> None:
        self.number = number
        self.raw = raw
        self.mapping = mapping
        self.errors: list[RowError] = []
        self.naive = 0
        self.read_as = ""

    def value(self, name: str) -> Any:
        column = self.mapping.get(name)
        return None if column is None else self.raw.get(column)

    def text(self, name: str) -> str:
        return _cell(self.value(name)).strip()

    def problem(self, name: str | None, message: str) -> None:
        self.errors.append(RowError(self.number, self.mapping.get(name) if name else None, message))

    def time(self, name: str, *, required: bool) -> datetime | None:
        try:
            parsed, missing_zone = parse_datetime(self.value(name))
        except (ValueError, OverflowError, OSError) as exc:
            self.problem(name, f"{_cell(self.value(name))!r}: {exc}")
            return None
        if parsed is None and required:
            self.problem(name, "missing value")
        self.naive += missing_zone
        return parsed


def _deployment(row: _RowReader) -> tuple[dict[str, Any], str]:
    ident = row.text("id")
    if not ident:
        row.problem("id", "missing value")
    time = row.time("time", required=True)
    shas, row.read_as = change_ids(row.value("shas"))
    bad = [s for s in shas if not _CHANGE_ID.match(s)]
    if bad:
        row.problem("shas", f"not a change id: {bad[0][:50]!r}")
    status = row.text("status").lower() if "status" in row.mapping else "success"
    out: dict[str, Any] = {
        "id": ident,
        "time": iso(time) if time else None,
        "status": status or "unknown",
        "shas": shas,
        "environment": row.text("environment") or None,
    }
    if "rework" in row.mapping:
        flag = row.text("rework").lower()
        if flag not in _TRUE | _FALSE:
            row.problem("rework", f"{flag!r} is not yes or no")
        out["rework"] = flag in _TRUE
    return out, ident


def _incident(row: _RowReader) -> tuple[dict[str, Any], str]:
    ident = row.text("id") or f"row-{row.number}"
    created = row.time("created", required=True)
    resolved = row.time("resolved", required=False)
    if created and resolved and resolved < created:
        row.problem("resolved", "resolved before it was created")
    sha = row.text("sha")
    if sha and not _CHANGE_ID.match(sha):
        row.problem("sha", f"not a change id: {sha[:50]!r}")
    out = {
        "id": ident,
        "created": iso(created) if created else None,
        "resolved": iso(resolved) if resolved else None,
        "deployment_id": row.text("deployment_id"),
        "sha": sha.lower() if _SHA.match(sha) else sha,
        "title": row.text("title")[:300],
    }
    return out, ident


def _change(row: _RowReader) -> tuple[dict[str, Any], str]:
    sha = row.text("sha")
    if not _CHANGE_ID.match(sha):
        row.problem("sha", "missing value" if not sha else f"not a change id: {sha[:50]!r}")
    sha = sha.lower() if _SHA.match(sha) else sha
    time = row.time("time", required=True)
    flag = row.text("ai_assisted").lower()
    if flag not in _TRUE | _FALSE:
        row.problem("ai_assisted", f"{flag!r} is not true or false")
    out = {"sha": sha, "time": iso(time) if time else None, "ai_assisted": flag in _TRUE}
    return out, sha


_ROW_PARSERS = {"deployments": _deployment, "incidents": _incident, "changes": _change}


def parse_export(
    *,
    data: bytes,
    filename: str,
    kind: ExportKind,
    mapping: Mapping[str, str] | None = None,
) -> DeliveryImport:
    if kind not in FIELDS:
        raise ScanError(
            f"Unknown export kind {kind!r}: expected deployments, incidents or changes."
        )
    columns, raw_rows = _read_table(data, filename)
    suggested = suggest_mapping(columns, kind)
    chosen = dict(mapping) if mapping is not None else suggested
    for name, column in chosen.items():
        if name not in FIELDS[kind]:
            raise ScanError(
                f"{name!r} is not a field of {kind}; fields: {', '.join(FIELDS[kind])}."
            )
        if column not in columns:
            raise ScanError(
                f"The mapping names the column {column!r}, which the export does not have. "
                f"Columns found: {', '.join(columns) or 'none'}."
            )
    missing = [
        name for name, (required, _a) in FIELDS[kind].items() if required and name not in chosen
    ]
    if missing:
        raise MappingError(
            f"The {kind} export lacks a column for the required field(s) {', '.join(missing)}. "
            f"Columns found: {', '.join(columns) or 'none'}.",
            columns=columns,
            missing=missing,
            total_rows=len(raw_rows),
        )
    rows: list[dict[str, Any]] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    naive = 0
    read_as: dict[str, int] = {}
    for number, raw in raw_rows:
        if not raw:
            errors.append(RowError(number, None, "not an object"))
            continue
        reader = _RowReader(number, raw, chosen)
        out, ident = _ROW_PARSERS[kind](reader)
        naive += reader.naive
        if reader.read_as and out.get("shas"):
            read_as[reader.read_as] = read_as.get(reader.read_as, 0) + 1
        if not reader.errors and ident:
            if ident in seen:
                id_column = chosen.get("sha" if kind == "changes" else "id")
                reader.errors.append(
                    RowError(
                        number, id_column, f"duplicate id {ident!r} (first in row {seen[ident]})"
                    )
                )
            else:
                seen[ident] = number
        if reader.errors:
            if len(errors) < MAX_ERRORS:
                errors += reader.errors
            continue
        rows.append(out)
    warnings = []
    notes = []
    if read_as:
        first = next((r for r in rows if r.get("shas")), None)
        example = f" (first: {', '.join(first['shas'][:5])})" if first else ""
        ways = ", ".join(f"{n} as a {how}" for how, n in sorted(read_as.items()))
        notes.append(f"Change ids read per cell: {ways}{example}.")
    if naive:
        warnings.append(f"{naive} time(s) had no time zone and were read as UTC.")
    if len(errors) >= MAX_ERRORS:
        warnings.append(f"Only the first {MAX_ERRORS} problems are listed.")
    return DeliveryImport(
        kind=kind,
        rows=tuple(rows),
        errors=tuple(errors),
        columns=tuple(columns),
        mapping=chosen,
        suggested=suggested,
        source_format=detect_format(columns),
        total_rows=len(raw_rows),
        warnings=tuple(warnings),
        notes=tuple(notes),
    )
