from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from assessments.scans.engine import (
    ScanError,
    delivery_findings,
    parse_delivery_export,
    suggest_mapping,
)
from assessments.scans.engine import delivery as delivery_module
from assessments.scans.engine.delivery import RowError, parse_datetime
from assessments.scans.engine.model import Pointer

PAGERDUTY_CSV = b"""\
id,incident_number,title,created_on,resolved_on,urgency,service_name
Q1AAA,101,Checkout down,2026-02-01T10:00:00-05:00,2026-02-01T12:30:00-05:00,high,checkout
Q1BBB,102,Slow search,2026-02-03T08:00:00Z,,low,search
Q1CCC,103,Time travel,2026-02-05T10:00:00Z,2026-02-04T10:00:00Z,high,search
Q1DDD,104,Bad date,yesterday,2026-02-06T10:00:00Z,high,search
Q1EEE,105,Ambiguous,03/04/2026 10:00,,high,search
Q1AAA,106,Duplicate id,2026-02-07T10:00:00Z,,low,search
,107,No id,2026-02-08T10:00:00Z,2026-02-08T11:00:00Z,low,search
"""


def test_a_pagerduty_export_is_recognised_and_mapped() -> None:
    columns = [
        "id",
        "incident_number",
        "title",
        "created_on",
        "resolved_on",
        "urgency",
        "service_name",
    ]
    assert suggest_mapping(columns, "incidents") == {
        "id": "id", "created": "created_on", "resolved": "resolved_on", "title": "title",
    }  # fmt: skip
    result = parse_delivery_export(data=PAGERDUTY_CSV, filename="incidents.csv", kind="incidents")
    assert result.source_format == "pagerduty"
    assert result.total_rows == 7
    assert [r["id"] for r in result.rows] == ["Q1AAA", "Q1BBB", "row-8"]
    assert result.rows[0] == {
        "id": "Q1AAA", "created": "2026-02-01T15:00:00Z", "resolved": "2026-02-01T17:30:00Z",
        "deployment_id": "", "sha": "", "title": "Checkout down",
    }  # fmt: skip
    assert result.rows[1]["resolved"] is None
    # Spreadsheet row numbers: the header is row 1.
    assert [(e.row_number, e.column) for e in result.errors] == [
        (4, "resolved_on"), (5, "created_on"), (6, "created_on"), (7, "id"),
    ]  # fmt: skip
    messages = [str(e) for e in result.errors]
    assert messages[0] == "row 4, column 'resolved_on': resolved before it was created"
    assert "'yesterday': not a date or time" in messages[1]
    assert "ambiguous day/month order" in messages[2]
    assert messages[3] == "row 7, column 'id': duplicate id 'Q1AAA' (first in row 2)"


OPSGENIE_JSON = {
    "data": [
        {"id": "70413a06-38d6-4c85-92b8-5ebc900d42e2", "tinyId": "1791", "message": "API errors",
         "status": "resolved", "priority": "P1", "createdAt": "2026-02-10T10:00:00.123Z",
         "updatedAt": "2026-02-10T11:00:00Z", "impactEndDate": "2026-02-10T10:45:00Z",
         "tags": ["api"], "extraProperties": {"deploy": "9002"}},
        {"id": "8a1b", "tinyId": "1792", "message": "Disk", "status": "open",
         "createdAt": 1770717600000, "tags": []},
    ],
    "took": 0.1,
    "requestId": "9ae63dd7-ed00-4c81-86f0-c4ffd33142c9",
}  # fmt: skip


def test_an_opsgenie_export_with_epoch_milliseconds() -> None:
    data = json.dumps(OPSGENIE_JSON).encode()
    result = parse_delivery_export(data=data, filename="opsgenie.json", kind="incidents")
    assert result.source_format == "opsgenie"
    assert result.mapping == {
        "id": "id",
        "created": "createdAt",
        "resolved": "impactEndDate",
        "title": "message",
    }
    assert result.errors == ()
    assert [(r["created"], r["resolved"]) for r in result.rows] == [
        ("2026-02-10T10:00:00Z", "2026-02-10T10:45:00Z"),
        ("2026-02-10T10:00:00Z", None),
    ]


def test_a_github_issues_export() -> None:
    issues = [
        {"number": 12, "title": "Outage", "state": "closed", "labels": [{"name": "incident"}, {"name": "sev1"}],
         "created_at": "2026-02-12T10:00:00Z", "closed_at": "2026-02-12T14:00:00Z",
         "html_url": "https://github.com/acme/widgets/issues/12"},
        {"number": 13, "title": "Flaky", "state": "open", "labels": [], "created_at": "2026-02-13T10:00:00Z", "closed_at": None},
    ]  # fmt: skip
    result = parse_delivery_export(
        data=json.dumps(issues).encode(), filename="issues.json", kind="incidents"
    )
    assert result.source_format == "github-issues"
    assert result.mapping == {
        "id": "number",
        "created": "created_at",
        "resolved": "closed_at",
        "title": "title",
    }
    assert [r["id"] for r in result.rows] == ["12", "13"]
    assert result.rows[0]["resolved"] == "2026-02-12T14:00:00Z"


DEPLOYMENTS_CSV = b"""\
id,deployed_at,status,commit_shas,environment
d1,2026-02-01T10:00:00Z,success,aaaaaaa1;bbbbbbb2,production
d2,2026-02-02T10:00:00Z,failure,ccccccc3,production
d3,2026-02-03 10:00:00,success,ddddddd4,production
,2026-02-04T10:00:00Z,success,eeeeeee5,production
d5,2026-02-05T10:00:00Z,success,bad!id,production
d6,,success,fffffff6,production
"""


def test_deployments_import_good_rows_and_report_bad_ones() -> None:
    result = parse_delivery_export(data=DEPLOYMENTS_CSV, filename="deploys.csv", kind="deployments")
    assert [r["id"] for r in result.rows] == ["d1", "d2", "d3"]
    assert result.rows[0] == {
        "id": "d1", "time": "2026-02-01T10:00:00Z", "status": "success",
        "shas": ["aaaaaaa1", "bbbbbbb2"], "environment": "production",
    }  # fmt: skip
    assert result.errors == (
        RowError(5, "id", "missing value"),
        RowError(6, "commit_shas", "not a change id: 'bad!id'"),
        RowError(7, "deployed_at", "missing value"),
    )
    assert result.warnings == ("1 time(s) had no time zone and were read as UTC.",)


def test_a_missing_required_column_names_it_and_the_columns_found() -> None:
    data = b"id,status\nd1,success\n"
    with pytest.raises(ScanError) as caught:
        parse_delivery_export(data=data, filename="d.csv", kind="deployments")
    assert str(caught.value) == (
        "The deployments export lacks a column for the required field(s) time. Columns found: id, status."
    )


def test_an_explicit_mapping_is_applied() -> None:
    data = b"Deploy #;When;Result;Commits\n7;2026-02-01T10:00:00Z;ok;abcdef12\n"
    mapping = {"id": "Deploy #", "time": "When", "status": "Result", "shas": "Commits"}
    result = parse_delivery_export(data=data, filename="x.csv", kind="deployments", mapping=mapping)
    assert result.rows == (
        {
            "id": "7",
            "time": "2026-02-01T10:00:00Z",
            "status": "ok",
            "shas": ["abcdef12"],
            "environment": None,
        },
    )
    with pytest.raises(ScanError, match="does not have"):
        parse_delivery_export(
            data=data, filename="x.csv", kind="deployments", mapping={**mapping, "time": "Date"}
        )


def test_changes_with_ai_flags() -> None:
    data = b"sha,committed_at,ai\nabcdef1,1770717600,true\nabcdef2,1770717600,no\nabcdef3,1770717600,maybe\n"
    result = parse_delivery_export(data=data, filename="changes.csv", kind="changes")
    assert result.rows == (
        {"sha": "abcdef1", "time": "2026-02-10T10:00:00Z", "ai_assisted": True},
        {"sha": "abcdef2", "time": "2026-02-10T10:00:00Z", "ai_assisted": False},
    )
    assert [str(e) for e in result.errors] == ["row 4, column 'ai': 'maybe' is not true or false"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-02-01T10:00:00Z", datetime(2026, 2, 1, 10, tzinfo=UTC)),
        ("2026-02-01T11:00:00+01:00", datetime(2026, 2, 1, 10, tzinfo=UTC)),
        ("2026-02-01 10:00:00 UTC", datetime(2026, 2, 1, 10, tzinfo=UTC)),
        ("1769940000", datetime(2026, 2, 1, 10, tzinfo=UTC)),
        ("1769940000000", datetime(2026, 2, 1, 10, tzinfo=UTC)),
        (1769940000, datetime(2026, 2, 1, 10, tzinfo=UTC)),
        ("Sun, 01 Feb 2026 10:00:00 GMT", datetime(2026, 2, 1, 10, tzinfo=UTC)),
    ],
)
def test_dates_are_read_as_timezone_aware_utc(value: object, expected: datetime) -> None:
    assert parse_datetime(value) == (expected, False)


def test_oversized_exports_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery_module, "MAX_ROWS", 2)
    data = b"sha,time\n" + b"".join(b"abcdef%d,2026-02-01T10:00:00Z\n" % i for i in range(5))
    with pytest.raises(ScanError, match="more than 2 rows"):
        parse_delivery_export(data=data, filename="c.csv", kind="changes")
    monkeypatch.setattr(delivery_module, "MAX_BYTES", 10)
    with pytest.raises(ScanError, match="larger than"):
        parse_delivery_export(data=data, filename="c.csv", kind="changes")


def test_a_json_export_must_be_an_array_of_objects() -> None:
    with pytest.raises(ScanError, match="array of objects"):
        parse_delivery_export(data=b'{"x": 1}', filename="x.json", kind="changes")
    result = parse_delivery_export(
        data=b'[{"sha": "abcdef1", "time": "2026-02-01T10:00:00Z"}, 3]',
        filename="x.json",
        kind="changes",
    )
    assert len(result.rows) == 1 and str(result.errors[0]) == "row 2: not an object"


def test_delivery_findings_follow_the_dora_definitions() -> None:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    deployments = [
        {
            "id": f"d{i}",
            "time": f"2026-02-{i + 1:02d}T10:00:00Z",
            "status": "success",
            "shas": [f"{i:07x}a"],
        }
        for i in range(20)
    ] + [{"id": "bad", "time": "2026-02-25T10:00:00Z", "status": "failure", "shas": []}]
    changes = [{"sha": f"{i:07x}a", "time": f"2026-02-{i + 1:02d}T04:00:00Z"} for i in range(20)]
    incidents = [
        {"id": "i1", "created": "2026-02-03T11:00:00Z", "resolved": "2026-02-03T13:00:00Z", "deployment_id": "d2", "sha": ""},
        {"id": "i2", "created": "2026-02-06T11:00:00Z", "resolved": "2026-02-06T15:00:00Z", "deployment_id": "", "sha": "0000005a"},
    ]  # fmt: skip
    result = delivery_findings(
        deployments=deployments, incidents=incidents, changes=changes, now=now
    )
    found = {f.detector: (f.status, f.detail) for f in result.findings}
    assert found["delivery.deployment-frequency"][0] == "found"  # daily in February
    assert found["delivery.lead-time"] == (
        "found",
        "Median 6.0 h from commit to deployment over 20 changes: One day (under 168 h counts).",
    )
    assert found["delivery.change-failure-rate"][0] == "found"  # 2 of 20: 10%
    # Restore runs from the deployment that caused each incident (fourkeys): 3 h and 5 h.
    assert found["delivery.recovery-time"] == (
        "found",
        "Median 4.0 h to restore over 2 incidents: One day (under 24 h counts).",
    )
    assert result.facts == {
        "window_start": "2026-02-01T00:00:00+00:00", "window_end": "2026-03-02T00:00:00+00:00",
        "successful_deployments": 20, "per_week": 4.83, "deployment_frequency": "Daily",
        "lead_time_hours": 6.0, "change_failure_rate": 0.1, "recovery_hours": 4.0,
    }  # fmt: skip
    missing = delivery_findings(deployments=deployments, incidents=None, changes=None, now=now)
    assert {f.detector: f.status for f in missing.findings} == {
        "delivery.deployment-frequency": "found", "delivery.lead-time": "unknown",
        "delivery.change-failure-rate": "unknown", "delivery.recovery-time": "unknown",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("data", "filename", "column"),
    [
        (b'[{"id": "d1", "time": 1e20}, {"id": "d2", "time": "2026-02-01T10:00:00Z"}]', "d.json", "time"),
        (b'[{"id": "d1", "time": Infinity}, {"id": "d2", "time": "2026-02-01T10:00:00Z"}]', "d.json", "time"),
        (b'[{"id": "d1", "time": -1e20}, {"id": "d2", "time": "2026-02-01T10:00:00Z"}]', "d.json", "time"),
        (b"id,time\nd1,0001-01-01T00:00:00+01:00\nd2,2026-02-01T10:00:00Z\n", "d.csv", "time"),
        (b"id,time\nd1,9999-12-31T23:00:00-05:00\nd2,2026-02-01T10:00:00Z\n", "d.csv", "time"),
    ],
)  # fmt: skip
def test_dates_out_of_range_are_row_errors(data: bytes, filename: str, column: str) -> None:
    result = parse_delivery_export(data=data, filename=filename, kind="deployments")
    assert [r["id"] for r in result.rows] == ["d2"]
    (error,) = result.errors
    assert (error.row_number, error.column) == (2 if filename.endswith(".csv") else 1, column)
    assert "out of range" in error.message


def test_early_years_keep_four_digits() -> None:
    result = parse_delivery_export(
        data=b"id,time\nd1,0999-01-01T00:00:00Z\n", filename="d.csv", kind="deployments"
    )
    assert result.rows[0]["time"] == "0999-01-01T00:00:00Z"


def _dora_rows(
    *, lead_hours: int, recovery_hours: int, failures: int
) -> tuple[list[dict[str, object]], list[dict[str, object]], list[dict[str, object]]]:
    deployments: list[dict[str, object]] = [
        {"id": f"d{i}", "time": f"2026-02-{i + 1:02d}T10:00:00Z", "status": "success", "shas": [f"{i:07x}a"]}
        for i in range(20)
    ]  # fmt: skip
    changes: list[dict[str, object]] = [
        {"sha": f"{i:07x}a", "time": f"2026-02-{i + 1:02d}T09:00:00Z"} for i in range(20)
    ]
    changes[3]["time"] = f"2026-02-0{4 - lead_hours // 24}T{10 - lead_hours % 24:02d}:00:00Z"
    # Each incident opens when its deployment lands and is resolved recovery_hours later.
    incidents: list[dict[str, object]] = [
        {"id": f"i{i}", "created": f"2026-02-{i + 1:02d}T10:00:00Z", "deployment_id": f"d{i}",
         "resolved": f"2026-02-{i + 1 + recovery_hours // 24:02d}T{10 + recovery_hours % 24:02d}:00:00Z"}
        for i in range(failures)
    ]  # fmt: skip
    return deployments, changes, incidents


@pytest.mark.parametrize(
    ("lead_hours", "recovery_hours", "failures", "expected"),
    [
        (2, 2, 1, "found"),  # within every threshold
        (2, 2, 0, "found"),  # no failure: the rate points at the deployments counted
        (72, 48, 10, "absent"),  # 10 of 20 deployments failed, recovery 48 h
    ],
)
def test_every_found_or_absent_delivery_finding_points_at_rows(
    lead_hours: int, recovery_hours: int, failures: int, expected: str
) -> None:
    deployments, changes, incidents = _dora_rows(
        lead_hours=lead_hours, recovery_hours=recovery_hours, failures=failures
    )
    now = datetime(2026, 3, 1, tzinfo=UTC)
    results = [
        delivery_findings(deployments=deployments, incidents=incidents, changes=changes, now=now),
        # Nothing successful in the window: frequency is absent and points at the rows seen.
        delivery_findings(
            deployments=[{**d, "status": "failure"} for d in deployments],
            incidents=None,
            changes=None,
            now=now,
        ),
    ]
    for result in results:
        for finding in result.findings:
            if finding.status in ("found", "absent"):
                assert finding.evidence, f"{finding.detector} ({finding.status}) has no pointer"
    result = results[0]
    lead = result.finding("delivery.lead-time")
    # The slowest change (d3's, 0000003a) comes first: its deployment row, then its commit.
    assert (
        lead.evidence[0] == Pointer("row", "d3") and Pointer("commit", "0000003a") in lead.evidence
    )
    if failures:
        recovery = result.finding("delivery.recovery-time")
        assert recovery.status == expected
        assert {p.ref for p in recovery.evidence} == {f"i{i}" for i in range(failures)}
    assert results[1].finding("delivery.deployment-frequency").status == "absent"


def test_deployment_frequency_without_any_deployment_row_is_unknown() -> None:
    result = delivery_findings(
        deployments=[], incidents=None, changes=None, now=datetime(2026, 3, 1, tzinfo=UTC)
    )
    assert result.finding("delivery.deployment-frequency").status == "unknown"
