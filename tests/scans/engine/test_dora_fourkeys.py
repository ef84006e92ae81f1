"""DORA measures from real CSV exports (written by each test, imported as a user would), held
against fourkeys' definitions (dora-team/fourkeys: queries/*.sql and the dashboard's queries).
Where opready differs on purpose, the test names the difference documented in
docs/methodology.md section 12."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from assessments.scans.engine import parse_delivery_export
from assessments.scans.engine.deliveryfindings import delivery_data, delivery_findings
from scoring.delivery import DeliveryMetrics, compute

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)  # window: 30 Mar 2026 00:00 to 1 Jul 2026 00:00


def _rows(csv: str, kind: str) -> list[dict[str, object]]:
    imported = parse_delivery_export(data=csv.encode(), filename=f"{kind}.csv", kind=kind)  # type: ignore[arg-type]
    assert not imported.errors, imported.errors
    return list(imported.rows)


def _measure(
    deployments: str,
    changes: str | None = None,
    incidents: str | None = None,
    *,
    environments: tuple[str, ...] | None = ("production", "prod", "prd", "live"),
) -> DeliveryMetrics:
    data = delivery_data(
        deployments=_rows(deployments, "deployments"),
        changes=_rows(changes, "changes") if changes is not None else None,
        incidents=_rows(incidents, "incidents") if incidents is not None else None,
        environments=environments,
    )
    metrics = compute(data, now=NOW)
    assert metrics is not None
    return metrics


DEPLOYS = """id,deployed_at,status,commits
d1,2026-06-01T10:00:00Z,success,aaaaaaa1
d2,2026-06-02T10:00:00Z,success,bbbbbbb2
d3,2026-06-03T10:00:00Z,success,ccccccc3
d4,2026-06-04T10:00:00Z,success,ddddddd4
"""


def test_a_change_deployed_within_a_minute_is_an_automated_push_and_left_out() -> None:
    # fourkeys: TIMESTAMP_DIFF(deployed, committed, MINUTE) > 0. 59 s is 0 whole minutes.
    changes = """sha,committed_at
aaaaaaa1,2026-06-01T09:59:01Z
bbbbbbb2,2026-06-02T08:00:00Z
ccccccc3,2026-06-03T06:00:00Z
ddddddd4,2026-06-04T09:58:30Z
"""
    metrics = _measure(DEPLOYS, changes)
    # Kept: 2 h, 4 h and 1 min 30 s, counted as 1 whole minute (fourkeys truncates).
    assert metrics.evidence.lead_time_changes == 3
    assert metrics.lead_time_hours == pytest.approx(2.0)


def test_incidents_with_no_linked_deployment_count_for_time_to_restore() -> None:
    # fourkeys' incidents table LEFT JOINs the root-cause deployment: an incident it cannot
    # link still has a time to restore, from its creation. Leaving the two quick unlinked
    # incidents out would give 200 h, "One month", instead of 3 h, "One day".
    incidents = """id,created_at,resolved_at,deployment_id
i1,2026-06-01T12:00:00Z,2026-06-09T22:00:00Z,d1
i2,2026-06-10T12:00:00Z,2026-06-10T15:00:00Z,
i3,2026-06-11T12:00:00Z,2026-06-11T14:00:00Z,
"""
    metrics = _measure(DEPLOYS, None, incidents)
    assert metrics.recovery_hours == pytest.approx(3.0) and metrics.recovery_bucket == "One day"
    assert metrics.change_failure_rate == pytest.approx(1 / 4)  # only d1 is known to have failed
    assert any("2 incidents could not be linked" in note for note in metrics.notes)


def test_restore_starts_at_the_deployment_that_caused_the_incident() -> None:
    # fourkeys' time_created: the earlier of the incident's creation and the deployment time.
    incidents = """id,created_at,resolved_at,deployment_id
i1,2026-06-02T20:00:00Z,2026-06-02T22:00:00Z,d2
"""
    metrics = _measure(DEPLOYS, None, incidents)
    assert metrics.recovery_hours == pytest.approx(12.0)


def test_the_window_starts_strictly_after_midnight_three_months_ago() -> None:
    # fourkeys: d.time_created > TIMESTAMP(DATE_SUB(CURRENT_DATE(), INTERVAL 3 MONTH)).
    deployments = """id,deployed_at,status,commits
d0,2026-03-30T00:00:00Z,success,aaaaaaa0
d1,2026-03-30T00:00:01Z,success,aaaaaaa1
d2,2026-06-01T10:00:00Z,success,aaaaaaa2
"""
    metrics = _measure(deployments)
    assert metrics.window_start == "2026-03-30T00:00:00+00:00"
    assert metrics.deployments == 2  # d0, at exactly midnight, is not counted


def test_the_frequency_grid_starts_on_the_first_records_day() -> None:
    # Documented difference: fourkeys' grid starts the day AFTER its first raw event (`day >
    # date(min(time_created))`); opready's first record is usually the first deployment
    # itself, so opready keeps that day. Deployments on 1, 2 and 3 June, measured on 3 June:
    # fourkeys' grid (2-3 June) and opready's (1-3 June) both say Daily here; the difference is
    # that opready counts all 3 deploy days, fourkeys 2.
    deployments = """id,deployed_at,status,commits
d1,2026-06-01T10:00:00Z,success,aaaaaaa1
d2,2026-06-02T10:00:00Z,success,aaaaaaa2
d3,2026-06-03T10:00:00Z,success,aaaaaaa3
"""
    data = delivery_data(
        deployments=_rows(deployments, "deployments"), incidents=None, changes=None
    )
    metrics = compute(data, now=datetime(2026, 6, 3, 18, tzinfo=UTC))
    assert metrics is not None
    assert metrics.window_start == "2026-06-01T00:00:00+00:00"
    assert metrics.deployment_frequency == "Daily"
    assert metrics.deployments_per_week == pytest.approx(7.0)  # 3 deployments in 3 days


def test_a_deployment_without_a_change_list_still_counts_in_the_failure_rate() -> None:
    # Documented difference: fourkeys' deployments table only holds deployments joined to
    # their changes, so one without a change list drops out of the denominator. DORA's
    # definition is per deployment; opready counts it: 1 failed of 4, not 1 of 3.
    deployments = DEPLOYS.replace("ddddddd4", "")
    incidents = """id,created_at,resolved_at,deployment_id
i1,2026-06-01T12:00:00Z,2026-06-01T13:00:00Z,d1
"""
    metrics = _measure(deployments, None, incidents)
    assert metrics.deployments == 4
    assert metrics.change_failure_rate == pytest.approx(1 / 4)


def test_a_commit_shipped_by_several_deployments_blames_the_one_in_the_window() -> None:
    # aaaaaaa1 first shipped in February (before the window), again by d2 on 2 June; the
    # incident opened on 3 June counts against d2, the deployment in the window that shipped it.
    deployments = """id,deployed_at,status,commits
old,2026-02-01T10:00:00Z,success,aaaaaaa1
d2,2026-06-02T10:00:00Z,success,aaaaaaa1;bbbbbbb2
d3,2026-06-03T10:00:00Z,success,ccccccc3
d4,2026-06-04T10:00:00Z,success,ddddddd4
"""
    incidents = """id,created_at,resolved_at,commit
i1,2026-06-03T12:00:00Z,2026-06-03T13:00:00Z,aaaaaaa1
"""
    metrics = _measure(deployments, None, incidents)
    assert metrics.evidence.failed_deployments == ("d2",)
    assert metrics.change_failure_rate == pytest.approx(1 / 3)
    assert metrics.recovery_hours == pytest.approx(27.0)  # from d2 at 10:00 on 2 June


def test_restore_uses_exact_durations_where_fourkeys_truncates_to_hours() -> None:
    # Documented difference: fourkeys takes TIMESTAMP_DIFF(resolved, created, HOUR), whole
    # hours, before the median: 23 h 54 min and 24 h 54 min become 23 and 24, median 23.5,
    # "One day". The exact median is 24.4 h: not under a day, "One week".
    incidents = """id,created_at,resolved_at,deployment_id
i1,2026-06-01T10:00:00Z,2026-06-02T09:54:00Z,d1
i2,2026-06-02T10:00:00Z,2026-06-03T10:54:00Z,d2
"""
    metrics = _measure(DEPLOYS, None, incidents)
    assert metrics.recovery_hours == pytest.approx(24.4)
    assert metrics.recovery_bucket == "One week"


def test_an_empty_incident_export_means_no_failures_not_unknown() -> None:
    metrics = _measure(DEPLOYS, None, "id,created_at,resolved_at,deployment_id\n")
    assert metrics.change_failure_rate == 0.0 and metrics.change_failure_bucket == "0-15%"
    assert metrics.recovery_hours is None
    assert any("holds no incidents" in note for note in metrics.notes)
    # Without an incident export at all, the rate stays unknown.
    assert _measure(DEPLOYS).change_failure_rate is None


def test_only_production_deployments_count_by_default() -> None:
    deployments = """id,deployed_at,status,commits,environment
d1,2026-06-01T10:00:00Z,success,aaaaaaa1,staging
d2,2026-06-01T11:00:00Z,success,aaaaaaa1,Production
d3,2026-06-02T10:00:00Z,success,bbbbbbb2,staging
d4,2026-06-02T12:00:00Z,success,bbbbbbb2,production
d5,2026-06-03T12:00:00Z,success,ccccccc3,
"""
    changes = """sha,committed_at
aaaaaaa1,2026-06-01T09:00:00Z
bbbbbbb2,2026-06-02T09:00:00Z
ccccccc3,2026-06-03T09:00:00Z
"""
    metrics = _measure(deployments, changes)
    # d1 and d3 went to staging; d5 names no environment and is kept.
    assert metrics.deployments == 3 and metrics.excluded_deployments == 2
    assert metrics.environments == ("live", "prd", "prod", "production")
    # Lead time to production (2 h, 3 h, 3 h), not to the first staging deployment (1 h).
    assert metrics.lead_time_hours == pytest.approx(3.0)
    assert any("2 deployments to staging left out" in note for note in metrics.notes)
    everything = _measure(deployments, changes, environments=None)
    assert everything.deployments == 5 and everything.lead_time_hours == pytest.approx(1.0)


def test_change_ids_that_are_not_shas_and_lists_inside_a_cell() -> None:
    deployments = """id,deployed_at,status,changes
d1,2026-06-01T10:00:00Z,success,"[""PROJ-1"", ""PROJ-2""]"
d2,2026-06-02T10:00:00Z,success,PROJ-3; PROJ-4
d3,2026-06-03T10:00:00Z,success,ABCDEF12
"""
    imported = parse_delivery_export(
        data=deployments.encode(),
        filename="d.csv",
        kind="deployments",
        mapping={"id": "id", "time": "deployed_at", "status": "status", "shas": "changes"},
    )
    assert [r["shas"] for r in imported.rows] == [
        ["PROJ-1", "PROJ-2"],
        ["PROJ-3", "PROJ-4"],
        ["abcdef12"],
    ]
    assert imported.notes == (
        "Change ids read per cell: 1 as a JSON list, 1 as a separated list, 1 as a single id "
        "(first: PROJ-1, PROJ-2).",
    )
    changes = """id,created_at
PROJ-1,2026-05-31T10:00:00Z
PROJ-2,2026-05-31T22:00:00Z
PROJ-3,2026-06-01T10:00:00Z
PROJ-4,2026-06-02T08:00:00Z
"""
    metrics = compute(
        delivery_data(
            deployments=list(imported.rows), changes=_rows(changes, "changes"), incidents=None
        ),
        now=NOW,
    )
    assert metrics is not None and metrics.lead_time_hours == pytest.approx(18.0)


def test_rework_rate_is_the_share_of_unplanned_deployments() -> None:
    deployments = """id,deployed_at,status,commits,hotfix
d1,2026-06-01T10:00:00Z,success,aaaaaaa1,no
d2,2026-06-02T10:00:00Z,success,bbbbbbb2,yes
d3,2026-06-03T10:00:00Z,success,ccccccc3,no
d4,2026-06-04T10:00:00Z,success,ddddddd4,no
"""
    assert _measure(deployments).rework_rate == pytest.approx(0.25)
    assert _measure(DEPLOYS).rework_rate is None  # no such column: unknown, not 0


def test_weekly_series_of_failure_rate_and_time_to_restore() -> None:
    incidents = """id,created_at,resolved_at,deployment_id
i1,2026-06-01T11:00:00Z,2026-06-01T14:00:00Z,d1
"""
    metrics = _measure(DEPLOYS, None, incidents)
    week = next(w for w in metrics.weekly if w.week == "2026-05-31")
    assert week.deployments == 4
    assert week.change_failure_rate == pytest.approx(0.25)
    assert week.median_restore_hours == pytest.approx(4.0)
    later = next(w for w in metrics.weekly if w.week == "2026-06-07")  # no deployment
    assert later.deployments == 0
    assert later.change_failure_rate is None and later.median_restore_hours is None


def test_findings_show_the_same_time_to_restore_as_the_results() -> None:
    # One definition: the delivery.recovery-time finding and the results page both come from
    # scoring.delivery.compute, so the unlinked incident counts in both.
    incidents = """id,created_at,resolved_at,deployment_id
i1,2026-06-01T12:00:00Z,2026-06-09T22:00:00Z,d1
i2,2026-06-10T12:00:00Z,2026-06-10T15:00:00Z,
i3,2026-06-11T12:00:00Z,2026-06-11T14:00:00Z,
"""
    metrics = _measure(DEPLOYS, None, incidents)
    result = delivery_findings(
        deployments=_rows(DEPLOYS, "deployments"),
        incidents=_rows(incidents, "incidents"),
        changes=None,
        now=NOW,
    )
    finding = result.finding("delivery.recovery-time")
    assert result.facts["recovery_hours"] == metrics.recovery_hours == 3.0
    assert finding.status == "found" and finding.detail.startswith("Median 3.0 h to restore")
    assert [p.ref for p in finding.evidence] == ["i1", "i2", "i3"]
