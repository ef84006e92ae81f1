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


def test_weekly_and_monthly_frequency() -> None:
    weekly = compute(_data([0, 7, 14, 21, 28, 35]), now=START + timedelta(days=41))
    assert weekly is not None and weekly.deployment_frequency == "Weekly"
    monthly = compute(_data([0, 31, 62, 93]), now=START + timedelta(days=110))
    assert monthly is not None and monthly.deployment_frequency == "Monthly"
    yearly = compute(_data([0]), now=START + timedelta(days=200))
    assert yearly is not None and yearly.deployment_frequency == "Yearly"


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
    data = _data([])
    assert compute(data, now=START) is None


def test_unreadable_times_are_refused() -> None:
    data = _data([0])
    bad = data.deployments.copy()
    bad["time"] = bad["time"].astype(object)
    bad.loc[0, "time"] = "yesterday-ish"
    with pytest.raises(ScoringInputError, match="unreadable time"):
        compute(DeliveryData(bad, data.changes, data.incidents), now=START)
