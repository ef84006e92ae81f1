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
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from assessments.scans.engine.detectors import Catalogue, load_catalogue
from assessments.scans.engine.model import Finding, Pointer, ScanError, ScanResult, Status

ExportKind = Literal["deployments", "incidents", "changes"]
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
MAX_ERRORS = 1000

# field -> (required, aliases), best first. Names compare after removing everything but letters
# and digits, so created_at, createdAt and "Created At" are one name.
FIELDS: dict[str, dict[str, tuple[bool, tuple[str, ...]]]] = {
    "deployments": {
        "id": (True, ("id", "deployment_id", "deploy_id", "deployment", "uuid", "run_id", "number")),
        "time": (True, ("time", "timestamp", "deployed_at", "deploy_time", "finished_at", "completed_at", "created_at", "created", "date", "end_time")),
        "status": (False, ("status", "state", "result", "conclusion", "outcome")),
        "shas": (False, ("shas", "sha", "commits", "commit", "commit_sha", "commit_shas", "head_sha", "revision", "git_sha")),
        "environment": (False, ("environment", "env", "stage", "target")),
    },
    "incidents": {
        "id": (False, ("id", "incident_id", "incident_number", "number", "tinyid", "key", "incident_key")),
        "created": (True, ("created", "created_at", "created_on", "opened_at", "started_at", "start_time", "triggered_at", "impact_start_date")),
        "resolved": (False, ("resolved", "resolved_at", "resolved_on", "closed_at", "impact_end_date", "end_time", "mitigated_at", "recovered_at")),
        "deployment_id": (False, ("deployment_id", "deploy_id", "deployment", "related_deployment", "caused_by_deployment")),
        "sha": (False, ("sha", "commit", "commit_sha", "root_cause_sha", "cause_sha", "root_cause_commit")),
        "title": (False, ("title", "summary", "message", "description", "name")),
    },
    "changes": {
        "sha": (True, ("sha", "commit", "commit_sha", "hash", "revision", "id")),
        "time": (True, ("time", "timestamp", "committed_at", "commit_time", "authored_at", "created_at", "date")),
        "ai_assisted": (False, ("ai_assisted", "ai", "ai_generated", "is_ai", "agent", "copilot")),
    },
}
_SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")
_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f", ""}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


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
        raise ScanError(f"Unknown export kind {kind!r}: expected deployments, incidents or changes.")
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(_key(column), column)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for name, (_required, aliases) in FIELDS[kind].items():
        for alias in aliases:
            column = by_key.get(_key(alias))
            if column is not None and column not in used:
                mapping[name] = column
                used.add(column)
                break
    return mapping


def parse_datetime(value: Any) -> tuple[datetime | None, bool]:
    """(UTC datetime or None when empty, whether a time zone was missing). ValueError if bad.

    Accepts ISO 8601 (with `Z` or an offset), epoch seconds or milliseconds, and RFC 2822
    dates. Day/month orders such as 01/02/2024 are ambiguous and refused.
    """
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
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        parts = [v.get("name", "") if isinstance(v, dict) else v for v in value]
        return ";".join(str(p) for p in parts if p not in (None, ""))
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


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
            for key in ("deployments", "incidents", "changes", "alerts", "issues", "items", "data", "results"):
                if isinstance(parsed.get(key), list):
                    parsed = parsed[key]
                    break
        if not isinstance(parsed, list):
            raise ScanError("The JSON export must be an array of objects.")
        if len(parsed) > MAX_ROWS:
            raise ScanError(f"The export has more than {MAX_ROWS} rows.")
        columns: dict[str, None] = {}
        rows = []
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


def parse_export(
    *,
    data: bytes,
    filename: str,
    kind: ExportKind,
    mapping: Mapping[str, str] | None = None,
) -> DeliveryImport:
    if kind not in FIELDS:
        raise ScanError(f"Unknown export kind {kind!r}: expected deployments, incidents or changes.")
    columns, raw_rows = _read_table(data, filename)
    suggested = suggest_mapping(columns, kind)
    chosen = dict(mapping) if mapping is not None else suggested
    for name, column in chosen.items():
        if name not in FIELDS[kind]:
            raise ScanError(f"{name!r} is not a field of {kind}; fields: {', '.join(FIELDS[kind])}.")
        if column not in columns:
            raise ScanError(
                f"The mapping names the column {column!r}, which the export does not have. "
                f"Columns found: {', '.join(columns) or 'none'}."
            )
    missing = [name for name, (required, _a) in FIELDS[kind].items() if required and name not in chosen]
    if missing:
        raise ScanError(
            f"The {kind} export lacks a column for the required field(s) {', '.join(missing)}. "
            f"Columns found: {', '.join(columns) or 'none'}."
        )
    rows: list[dict[str, Any]] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    naive = 0
    for number, raw in raw_rows:
        row_errors: list[RowError] = []
        if not raw:
            errors.append(RowError(number, None, "not an object"))
            continue

        def value(name: str) -> Any:
            column = chosen.get(name)
            return None if column is None else raw.get(column)

        def when(name: str, required: bool) -> datetime | None:
            nonlocal naive
            try:
                parsed, missing_zone = parse_datetime(value(name))
            except ValueError as exc:
                row_errors.append(RowError(number, chosen.get(name), f"{_cell(value(name))!r}: {exc}"))
                return None
            if parsed is None and required:
                row_errors.append(RowError(number, chosen.get(name), "missing value"))
            naive += missing_zone
            return parsed

        out: dict[str, Any] = {}
        if kind == "deployments":
            ident = _cell(value("id")).strip()
            if not ident:
                row_errors.append(RowError(number, chosen.get("id"), "missing value"))
            time = when("time", True)
            shas = [s for s in re.split(r"[\s,;]+", _cell(value("shas"))) if s]
            bad = [s for s in shas if not _SHA.match(s)]
            if bad:
                row_errors.append(RowError(number, chosen.get("shas"), f"not a commit sha: {bad[0][:50]!r}"))
            status = _cell(value("status")).strip().lower() if "status" in chosen else "success"
            out = {
                "id": ident,
                "time": iso(time) if time else None,
                "status": status or "unknown",
                "shas": [s.lower() for s in shas],
                "environment": _cell(value("environment")).strip() or None,
            }
        elif kind == "incidents":
            ident = _cell(value("id")).strip() or f"row-{number}"
            created = when("created", True)
            resolved = when("resolved", False)
            if created and resolved and resolved < created:
                row_errors.append(RowError(number, chosen.get("resolved"), "resolved before it was created"))
            sha = _cell(value("sha")).strip()
            if sha and not _SHA.match(sha):
                row_errors.append(RowError(number, chosen.get("sha"), f"not a commit sha: {sha[:50]!r}"))
            out = {
                "id": ident,
                "created": iso(created) if created else None,
                "resolved": iso(resolved) if resolved else None,
                "deployment_id": _cell(value("deployment_id")).strip(),
                "sha": sha.lower(),
                "title": _cell(value("title")).strip()[:300],
            }
        else:
            ident = _cell(value("sha")).strip()
            if not _SHA.match(ident):
                row_errors.append(
                    RowError(number, chosen.get("sha"), "missing value" if not ident else f"not a commit sha: {ident[:50]!r}")
                )
            time = when("time", True)
            flag = _cell(value("ai_assisted")).strip().lower()
            if flag not in _TRUE | _FALSE:
                row_errors.append(RowError(number, chosen.get("ai_assisted"), f"{flag!r} is not true or false"))
            out = {"sha": ident.lower(), "time": iso(time) if time else None, "ai_assisted": flag in _TRUE}
            ident = ident.lower()
        if not row_errors and ident:
            if ident in seen:
                column = chosen.get("sha" if kind == "changes" else "id")
                row_errors.append(RowError(number, column, f"duplicate id {ident!r} (first in row {seen[ident]})"))
            else:
                seen[ident] = number
        if row_errors:
            if len(errors) < MAX_ERRORS:
                errors += row_errors
            continue
        rows.append(out)
    warnings = []
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
    )


# -- findings -----------------------------------------------------------------------------

DEPLOYS_PER_WEEK = 1.0
LEAD_TIME_HOURS = 168.0
FAILURE_RATE = 0.15
RECOVERY_HOURS = 24.0
SUCCESS = {"success", "succeeded", "successful", "ok", "deployed", "completed"}


def _time(value: Any) -> datetime | None:
    try:
        return parse_datetime(value)[0]
    except ValueError:
        return None


def delivery_findings(
    *,
    deployments: Sequence[Mapping[str, Any]],
    incidents: Sequence[Mapping[str, Any]] | None,
    changes: Sequence[Mapping[str, Any]] | None,
    now: datetime,
    window_days: int = 90,
    catalogue: Catalogue | None = None,
) -> ScanResult:
    """The delivery.* findings from imported rows (DORA definitions as in scoring.delivery).

    `incidents` or `changes` None means "not imported": the measures that need them are
    "unknown". Only successful deployments within the window count.
    """
    catalogue = catalogue or load_catalogue()
    since = now - timedelta(days=window_days)
    good = []
    for dep in deployments:
        at = _time(dep.get("time"))
        if at is not None and since <= at <= now and str(dep.get("status", "")).lower() in SUCCESS:
            good.append((at, dep))
    good.sort(key=lambda item: item[0])
    out: dict[str, tuple[Status, str, tuple[Pointer, ...]]] = {}
    weeks = window_days / 7
    per_week = len(good) / weeks
    out["delivery.deployment-frequency"] = (
        "found" if per_week >= DEPLOYS_PER_WEEK else "absent",
        f"{len(good)} successful deployments in {window_days} days ({per_week:.2f} per week; threshold {DEPLOYS_PER_WEEK:g}).",
        tuple(Pointer("row", str(d.get("id"))) for _at, d in good[-5:]),
    )
    first_deploy: dict[str, datetime] = {}
    deploy_of_sha: dict[str, str] = {}
    for at, dep in good:
        for sha in dep.get("shas") or []:
            first_deploy.setdefault(str(sha).lower(), at)
            deploy_of_sha.setdefault(str(sha).lower(), str(dep.get("id")))
    facts: dict[str, Any] = {"window_days": window_days, "successful_deployments": len(good), "per_week": round(per_week, 2)}
    if changes is None:
        out["delivery.lead-time"] = ("unknown", "Could not determine: no change records (commit times) were provided.", ())
    else:
        hours = []
        for change in changes:
            sha, at = str(change.get("sha", "")).lower(), _time(change.get("time"))
            deployed = first_deploy.get(sha)
            if at is not None and deployed is not None and deployed > at:
                hours.append((deployed - at).total_seconds() / 3600)
        if hours:
            median = statistics.median(hours)
            facts["lead_time_hours"] = round(median, 2)
            out["delivery.lead-time"] = (
                "found" if median <= LEAD_TIME_HOURS else "absent",
                f"Median {median:.1f} h from commit to deployment over {len(hours)} changes (threshold {LEAD_TIME_HOURS:g} h).",
                (),
            )
        else:
            out["delivery.lead-time"] = ("unknown", "Could not determine: no change could be matched to a later deployment.", ())
    if incidents is None:
        for ident in ("delivery.change-failure-rate", "delivery.recovery-time"):
            out[ident] = ("unknown", "Could not determine: no incidents were imported.", ())
    elif good:
        ids = {str(d.get("id")) for _at, d in good}
        failed: set[str] = set()
        recoveries = []
        for incident in incidents:
            linked = str(incident.get("deployment_id") or "") or deploy_of_sha.get(str(incident.get("sha") or "").lower(), "")
            if linked in ids:
                failed.add(linked)
                created, resolved = _time(incident.get("created")), _time(incident.get("resolved"))
                if created is not None and resolved is not None and resolved >= created:
                    recoveries.append((resolved - created).total_seconds() / 3600)
        rate = len(failed) / len(good)
        facts["change_failure_rate"] = round(rate, 4)
        out["delivery.change-failure-rate"] = (
            "found" if rate <= FAILURE_RATE else "absent",
            f"{len(failed)} of {len(good)} deployments led to an incident ({rate:.0%}; threshold {FAILURE_RATE:.0%}).",
            tuple(Pointer("row", f) for f in sorted(failed)[:10]),
        )
        if recoveries:
            median = statistics.median(recoveries)
            facts["recovery_hours"] = round(median, 2)
            out["delivery.recovery-time"] = (
                "found" if median <= RECOVERY_HOURS else "absent",
                f"Median {median:.1f} h to recover over {len(recoveries)} incidents (threshold {RECOVERY_HOURS:g} h).",
                (),
            )
        else:
            out["delivery.recovery-time"] = ("unknown", "Could not determine: no resolved incident is linked to a deployment.", ())
    else:
        for ident in ("delivery.change-failure-rate", "delivery.recovery-time"):
            out[ident] = ("unknown", "Could not determine: no successful deployment in the window.", ())
    findings = []
    for measure in catalogue.measures:
        if measure.source != "delivery":
            continue
        status, detail, evidence = out[measure.id]
        for capability in measure.capabilities:
            findings.append(Finding(measure.id, capability, status, measure.strength, measure.title, detail, evidence))
    return ScanResult(source="delivery", findings=tuple(findings), facts=facts)
