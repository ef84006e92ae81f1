"""DORA measures against fourkeys definitions, on records built by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from scoring.delivery import DeliveryData, compute, failure_bucket, time_bucket
from scoring.errors import ScoringInputError

START = datetime(2026, 6, 1, 9, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    ("hours", "bucket"),
    [
        (0.5, "One day"),
        (23.9, "One day"),
        (24, "One week"),
        (167, "One week"),
        (168, "One month"),
        (729, "One month"),
        (730, "Six months"),
        (4379, "Six months"),
        (4380, "One year"),
    ],
)
def test_time_buckets(hours: float, bucket: str) -> None:
    assert time_bucket(hours) == bucket


@pytest.mark.parametrize(
    ("rate", "bucket"),
    [
        (0.0, "0-15%"),
        (0.15, "0-15%"),
        (0.16, "16-45%"),
        (0.45, "16-45%"),
        (0.46, "46-60%"),
        (0.9, "46-60%"),
    ],
)
def test_failure_buckets(rate: float, bucket: str) -> None:
    assert failure_bucket(rate) == bucket


def _data(
    deploy_days: list[int], *, incidents: list[tuple[str, int, int]] = (), per_day: int = 1
) -> DeliveryData:  # type: ignore[assignment]
    deployments, changes = [], []
    for day in deploy_days:
        for k in range(per_day):
            when = START + timedelta(days=day, hours=k)
            sha = f"c{day}-{k}"
            deployments.append(
                {"id": f"d{day}-{k}", "time": when, "status": "success", "shas": [sha]}
            )
            # Each change was committed 10 hours before its deployment; odd days are AI-assisted.
            changes.append(
                {
                    "sha": sha,
                    "time": when - timedelta(hours=10 if day % 2 else 30),
                    "ai_assisted": bool(day % 2),
                }
            )
    deployments.append({"id": "failed", "time": START, "status": "failure", "shas": ["x"]})
    incident_rows = [
        {
            "id": f"i{n}",
            "created": START + timedelta(days=day),
            "resolved": START + timedelta(days=day, hours=hours),
            "deployment_id": dep,
        }
        for n, (dep, day, hours) in enumerate(incidents)
    ]
    return DeliveryData(
        pd.DataFrame(deployments),
        pd.DataFrame(changes),
        pd.DataFrame(incident_rows, columns=["id", "created", "resolved", "deployment_id"]),
    )


def test_daily_deployments_with_lead_time_failure_rate_and_recovery() -> None:
    days = [d for week in range(8) for d in range(week * 7, week * 7 + 5)]  # weekdays for 8 weeks
    data = _data(days, incidents=[("d0-0", 0, 2), ("d1-0", 1, 6), ("d2-0", 2, 4), ("d3-0", 3, 30)])
    metrics = compute(data, now=START + timedelta(days=56))
    assert metrics is not None
    assert metrics.deployments == 40  # the failed deployment is not counted
    assert metrics.deployment_frequency == "Daily"
    # Even days: 30 h; odd days: 10 h; 20 of each -> median (10, 30) = 20 h.
    assert metrics.lead_time_hours == pytest.approx(20)
    assert metrics.lead_time_bucket == "One day"
    assert metrics.change_failure_rate == pytest.approx(4 / 40)
    assert metrics.change_failure_bucket == "0-15%"
    assert metrics.recovery_hours == pytest.approx(5)  # median of 2, 4, 6, 30
    assert metrics.recovery_bucket == "One day"
    split = metrics.lead_time_split
    assert split is not None and (split.ai_assisted, split.other) == (10, 30)
    failures = metrics.failure_rate_split
    assert failures is not None
    assert failures.ai_assisted == pytest.approx(2 / 20) and failures.other == pytest.approx(2 / 20)


@pytest.mark.parametrize(
    ("days", "now_day", "bucket"),
    [
        # Sunday-start weeks from Sun 31 May; a deployment every Monday: every week has one.
        ([0, 7, 14, 21, 28, 35], 41, "Weekly"),
        # 1 Jun, 1 Jul, 31 Jul: each month has one deploying week, so the median week's month
        # has 1 (weeks of May 31: 1; June: 1 x4; July: 1 x4; August 2 and 9: 0 x2).
        ([0, 30, 60], 75, "Monthly"),
        # One deployment in 13 weeks: the median week's month has none.
        ([0], 85, "Yearly"),
    ],
)
def test_deployment_frequency_buckets(days: list[int], now_day: int, bucket: str) -> None:
    metrics = compute(_data(days), now=START + timedelta(days=now_day))
    assert metrics is not None and metrics.deployment_frequency == bucket


def test_the_window_is_the_three_months_up_to_the_day_of_now() -> None:
    # A deployment 200 days ago is outside fourkeys' three-month window: nothing to measure.
    assert compute(_data([0]), now=START + timedelta(days=200)) is None
    # Deployments before the window count neither for frequency nor for failure rate.
    data = _data([0, 100, 101], incidents=[("d0-0", 0, 2)])
    metrics = compute(data, now=START + timedelta(days=102))
    assert metrics is not None
    assert metrics.deployments == 2 and metrics.change_failure_rate == 0.0
    assert metrics.window_start == "2026-06-11T00:00:00+00:00"  # 11 Sep minus three months
    assert metrics.window_end == "2026-09-12T00:00:00+00:00"


def test_only_the_date_of_now_matters() -> None:
    data = _data([0, 1, 2])
    morning = compute(data, now=datetime(2026, 6, 4, 0, 1, tzinfo=UTC))
    evening = compute(data, now=datetime(2026, 6, 4, 23, 59, tzinfo=UTC))
    assert morning == evening


def test_recovery_runs_from_the_failed_deployment_when_it_came_first() -> None:
    # The incident was opened 5 h after the deployment that caused it and resolved 3 h later:
    # recovery is 8 h from the deployment (fourkeys' time_created = min(created, deployed)).
    data = _data([0])
    deployed = START
    incidents = pd.DataFrame(
        [
            {
                "id": "i1",
                "created": deployed + timedelta(hours=5),
                "resolved": deployed + timedelta(hours=8),
                "deployment_id": "d0-0",
            },
            {"id": "i2", "created": deployed, "resolved": None, "deployment_id": "d0-0"},
        ]
    )
    metrics = compute(
        DeliveryData(data.deployments, data.changes, incidents), now=START + timedelta(days=1)
    )
    assert metrics is not None
    assert metrics.recovery_hours == pytest.approx(8)
    assert metrics.change_failure_rate == 1.0  # one deployment, failed (counted once)
    assert any("not resolved yet" in note for note in metrics.notes)


def test_a_single_sha_string_and_missing_records_are_accepted() -> None:
    deployments = pd.DataFrame(
        [{"id": "d1", "time": "2026-06-02T10:00:00Z", "status": "SUCCESS", "shas": "abc"}]
    )
    changes = pd.DataFrame([{"sha": "abc", "time": "2026-06-01T10:00:00Z"}])
    metrics = compute(DeliveryData(deployments, changes), now=START + timedelta(days=2))
    assert metrics is not None
    assert metrics.lead_time_hours == pytest.approx(24) and metrics.lead_time_bucket == "One week"
    assert metrics.change_failure_rate is None and metrics.lead_time_split is None
    assert any("No incident records" in note for note in metrics.notes)


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ScoringInputError, match="timezone-aware"):
        compute(_data([0]), now=datetime(2026, 6, 2))


def test_incidents_linked_by_sha_count_and_unlinked_ones_are_reported() -> None:
    data = _data([0, 1, 2, 3])
    incidents = pd.DataFrame(
        [
            {
                "id": "i1",
                "created": START + timedelta(days=1),
                "resolved": START + timedelta(days=1, hours=3),
                "sha": "c1-0",
            },
            {
                "id": "i2",
                "created": START + timedelta(days=2),
                "resolved": None,
                "sha": "unknown-sha",
            },
        ]
    )
    metrics = compute(
        DeliveryData(data.deployments, data.changes, incidents), now=START + timedelta(days=5)
    )
    assert metrics is not None
    assert metrics.change_failure_rate == pytest.approx(1 / 4)
    assert metrics.recovery_hours == pytest.approx(3)
    assert any("could not be linked" in note for note in metrics.notes)


def test_changes_deployed_before_they_were_made_are_excluded() -> None:
    data = _data([0, 1])
    changes = data.changes.copy()
    changes.loc[0, "time"] = START + timedelta(days=3)  # after its deployment: clock skew or merge
    metrics = compute(
        DeliveryData(data.deployments, changes, data.incidents), now=START + timedelta(days=5)
    )
    assert metrics is not None and metrics.lead_time_hours == pytest.approx(10)


def test_no_successful_deployment_means_no_metrics() -> None:
    data = _data([])  # only the failed deployment
    assert compute(data, now=START) is None


def test_unreadable_times_are_refused() -> None:
    data = _data([0])
    bad = data.deployments.copy()
    bad["time"] = bad["time"].astype(object)
    bad.loc[0, "time"] = "yesterday-ish"
    with pytest.raises(ScoringInputError, match="unreadable time"):
        compute(DeliveryData(bad, data.changes, data.incidents), now=START)


def test_incidents_without_a_resolved_column_count_as_open() -> None:
    data = _data([0, 1])
    incidents = pd.DataFrame([{"id": "i1", "created": START, "deployment_id": "d0-0"}])
    metrics = compute(
        DeliveryData(data.deployments, data.changes, incidents), now=START + timedelta(days=2)
    )
    assert metrics is not None
    assert metrics.change_failure_rate == pytest.approx(1 / 2)
    assert metrics.recovery_hours is None
    assert any("1 incident is not resolved yet" in note for note in metrics.notes)


@pytest.mark.parametrize(
    ("flags", "ai_count"), [(["false", "TRUE"], 1), (["no", "yes"], 1), ([0, 1], 1)]
)
def test_ai_assisted_reads_words_and_numbers_not_truthiness(flags: list, ai_count: int) -> None:
    data = _data([0, 1])
    changes = data.changes.copy()
    changes["ai_assisted"] = pd.Series(flags, dtype=object)
    metrics = compute(DeliveryData(data.deployments, changes), now=START + timedelta(days=2))
    assert metrics is not None and metrics.lead_time_split is not None
    assert metrics.lead_time_split.ai_count == ai_count


def test_an_unreadable_ai_assisted_flag_is_refused() -> None:
    data = _data([0])
    changes = data.changes.copy()
    changes["ai_assisted"] = pd.Series(["maybe"], dtype=object)
    with pytest.raises(ScoringInputError, match="not a yes/no value 'maybe'"):
        compute(DeliveryData(data.deployments, changes), now=START + timedelta(days=2))


def test_weekly_points_count_deployments_made_at_any_time_of_day() -> None:
    now = datetime(2026, 11, 29, 5, 30, tzinfo=UTC)  # a Sunday
    times = [now - timedelta(days=1 + i, hours=3) for i in range(14)]  # afternoons, two weeks
    deployments = pd.DataFrame(
        {
            "id": [f"d{i}" for i in range(14)],
            "time": times,
            "status": "success",
            "shas": [[f"s{i}"] for i in range(14)],
        }
    )
    changes = pd.DataFrame(
        {"sha": [f"s{i}" for i in range(14)], "time": [t - timedelta(hours=10) for t in times]}
    )
    metrics = compute(DeliveryData(deployments, changes), now=now)
    assert metrics is not None
    weekly = {w.week: (w.deployments, w.median_lead_time_hours) for w in metrics.weekly}
    assert sum(n for n, _lead in weekly.values()) == 14  # every deployment in some week
    assert weekly["2026-11-22"] == (7, 10.0)


def test_rework_rate_is_the_share_of_deployments_marked_rework() -> None:
    data = _data([0, 1, 2, 3])
    flags = {"d0-0": "yes", "d1-0": "no", "d2-0": "No", "d3-0": "true", "failed": ""}
    with_rework = DeliveryData(
        data.deployments.assign(rework=data.deployments["id"].map(flags)),
        data.changes,
        data.incidents,
    )
    metrics = compute(with_rework, now=START + timedelta(days=10))
    assert metrics is not None and metrics.rework_rate == pytest.approx(2 / 4)
    without = compute(data, now=START + timedelta(days=10))
    assert without is not None and without.rework_rate is None
    blank = DeliveryData(data.deployments.assign(rework=" "), data.changes, data.incidents)
    unmarked = compute(blank, now=START + timedelta(days=10))
    assert unmarked is not None and unmarked.rework_rate is None


def test_the_evidence_points_at_the_latest_deployments_and_slowest_restores() -> None:
    data = _data(
        list(range(8)),
        incidents=[("d0-0", 0, 5), ("d1-0", 1, 9), ("d2-0", 2, 5), ("d3-0", 3, 2)],
    )
    metrics = compute(data, now=START + timedelta(days=10))
    assert metrics is not None
    evidence = metrics.evidence
    assert evidence.latest_deployments == ("d7-0", "d6-0", "d5-0", "d4-0", "d3-0")
    # Slowest first; equal times by incident id.
    assert evidence.slowest_restores == ("i1", "i0", "i2", "i3")


def test_only_production_deployments_count_when_the_export_names_environments() -> None:
    data = _data([0, 1, 2, 3])
    places = {"d0-0": "Production", "d1-0": " prod ", "d2-0": "staging", "d3-0": None}
    named = DeliveryData(
        data.deployments.assign(environment=data.deployments["id"].map(places)),
        data.changes,
        data.incidents,
    )
    metrics = compute(named, now=START + timedelta(days=10))
    assert metrics is not None
    # Production, prod and the row that names no environment count; staging does not.
    assert metrics.deployments == 3
    assert metrics.excluded_deployments == 1
    assert metrics.environments == ("live", "prd", "prod", "production")
    assert (
        "Production deployments only (environment live, prd, prod, production): "
        "1 deployment to staging left out."
    ) in metrics.notes
    two = {**places, "d3-0": "qa"}
    staged = compute(
        DeliveryData(
            data.deployments.assign(environment=data.deployments["id"].map(two)),
            data.changes,
            data.incidents,
        ),
        now=START + timedelta(days=10),
    )
    assert staged is not None
    assert "2 deployments to qa, staging left out." in staged.notes[0], staged.notes
    unnamed = compute(data, now=START + timedelta(days=10))
    assert unnamed is not None
    assert (unnamed.deployments, unnamed.excluded_deployments, unnamed.environments) == (4, 0, ())


def test_an_incident_export_without_incidents_means_no_failures() -> None:
    data = _data([0, 1, 2, 3])
    empty = DeliveryData(data.deployments, data.changes, data.incidents.iloc[0:0])
    metrics = compute(empty, now=START + timedelta(days=10))
    assert metrics is not None
    assert metrics.change_failure_rate == 0.0
    assert metrics.recovery_hours is None
