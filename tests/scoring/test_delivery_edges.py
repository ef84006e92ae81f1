"""Delivery records the engine refuses, named by export and field; the window's and the
buckets' edges measured end to end from records (methodology 12); the notes and the weekly
series the results page shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from scoring.delivery import DeliveryData, DeliveryMetrics, compute
from scoring.errors import ScoringInputError

NOW = datetime(2026, 6, 17, 15, tzinfo=UTC)  # a Wednesday
TODAY = datetime(2026, 6, 17, tzinfo=UTC)
WINDOW_START = datetime(2026, 3, 17, tzinfo=UTC)  # three calendar months before today


def _deployments(*rows: tuple[str, datetime], **columns: list[Any]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "id": [r[0] for r in rows],
            "time": [r[1] for r in rows],
            "status": "success",
            "shas": [[f"c-{r[0]}"] for r in rows],
        }
    )
    return frame.assign(**columns)


def _metrics(data: DeliveryData, now: datetime = NOW) -> DeliveryMetrics:
    metrics = compute(data, now=now)
    assert metrics is not None
    return metrics


def _refused(data: DeliveryData, now: datetime = NOW) -> tuple[str, ...]:
    with pytest.raises(ScoringInputError) as caught:
        compute(data, now=now)
    return caught.value.problems


DEPLOYED = _deployments(("d1", TODAY - timedelta(days=2)), ("d2", TODAY - timedelta(days=1)))
CHANGES = pd.DataFrame(
    {"sha": ["c-d1", "c-d2"], "time": [TODAY - timedelta(days=3), TODAY - timedelta(days=2)]}
)


# --- Refusals -------------------------------------------------------------------------------


def test_a_naive_now_is_refused_with_this_message() -> None:
    assert _refused(DeliveryData(DEPLOYED), now=datetime(2026, 6, 17)) == (
        "now must be a timezone-aware datetime",
    )


@pytest.mark.parametrize(
    ("export", "drop", "message"),
    [
        ("deployments", ["status", "shas"], "deployments lack the column(s): status, shas"),
        ("deployments", ["id"], "deployments lack the column(s): id"),
        ("changes", ["time"], "changes lack the column(s): time"),
        ("changes", ["sha"], "changes lack the column(s): sha"),
        ("incidents", ["created"], "incidents lack the column(s): created"),
        ("incidents", ["id"], "incidents lack the column(s): id"),
    ],
)
def test_an_export_without_a_required_column_is_refused_naming_both(
    export: str, drop: list[str], message: str
) -> None:
    incidents = pd.DataFrame({"id": ["i1"], "created": [TODAY], "deployment_id": ["d1"]})
    parts = {"deployments": DEPLOYED, "changes": CHANGES, "incidents": incidents}
    parts[export] = parts[export].drop(columns=drop)
    assert _refused(DeliveryData(**parts)) == (message,)


def _with_text(frame: pd.DataFrame, column: str, value: str) -> pd.DataFrame:
    frame = frame.copy()
    frame[column] = frame[column].astype(object)
    frame.loc[frame.index[0], column] = value
    return frame


@pytest.mark.parametrize(
    ("export", "column", "field"),
    [
        ("deployments", "time", "deployments.time"),
        ("changes", "time", "changes.time"),
        ("incidents", "created", "incidents.created"),
        ("incidents", "resolved", "incidents.resolved"),
    ],
)
def test_an_unreadable_time_is_refused_naming_the_field_and_the_value(
    export: str, column: str, field: str
) -> None:
    incidents = pd.DataFrame(
        {"id": ["i1"], "created": [TODAY], "resolved": [NOW], "deployment_id": ["d1"]}
    )
    parts = {"deployments": DEPLOYED, "changes": CHANGES, "incidents": incidents}
    parts[export] = _with_text(parts[export], column, "the day before")
    assert _refused(DeliveryData(**parts)) == (f"{field}: unreadable time 'the day before'",)


def test_an_empty_time_is_not_unreadable_but_an_open_incident() -> None:
    incidents = pd.DataFrame(
        {"id": ["i1"], "created": [TODAY], "resolved": ["  "], "deployment_id": ["d1"]}
    )
    metrics = _metrics(DeliveryData(DEPLOYED, CHANGES, incidents))
    assert metrics.recovery_hours is None
    assert "1 incident is not resolved yet." in metrics.notes


def test_at_most_ten_unreadable_times_are_quoted() -> None:
    rows = [(f"d{i}", TODAY - timedelta(days=1)) for i in range(12)]
    times = pd.Series([f"bad {i}" for i in range(12)], dtype=object)
    deployments = _deployments(*rows).assign(time=times)
    assert _refused(DeliveryData(deployments)) == tuple(
        f"deployments.time: unreadable time 'bad {i}'" for i in range(10)
    )


def test_a_yes_no_column_with_another_word_is_refused_naming_the_field() -> None:
    ai = DeliveryData(DEPLOYED, CHANGES.assign(ai_assisted=["yes", "sometimes"]))
    assert _refused(ai) == ("changes.ai_assisted: not a yes/no value 'sometimes'",)
    rework = DeliveryData(DEPLOYED.assign(rework=["no", "sometimes"]), CHANGES)
    assert _refused(rework) == ("deployments.rework: not a yes/no value 'sometimes'",)


@pytest.mark.parametrize(
    ("words", "rate"),
    [
        (["yes", "no"], 0.5),
        (["Y", "N"], 0.5),
        (["t", "f"], 0.5),
        (["1", "0"], 0.5),
        ([True, False], 0.5),
        ([" TRUE ", None], 0.5),
        (["no", "none"], 0.0),
        (["nan", "false"], 0.0),
    ],
)
def test_rework_reads_the_usual_yes_and_no_words(words: list[Any], rate: float) -> None:
    deployments = DEPLOYED.assign(rework=pd.Series(words, dtype=object))
    assert _metrics(DeliveryData(deployments)).rework_rate == rate


# --- The window: strictly after its first midnight, up to the end of the day of now ---------


@pytest.mark.parametrize(
    ("when", "counted"),
    [
        (WINDOW_START - timedelta(seconds=1), False),
        (WINDOW_START, False),  # fourkeys: time_created > the window's first midnight
        (WINDOW_START + timedelta(seconds=1), True),
        (TODAY + timedelta(days=1) - timedelta(seconds=1), True),  # late on the day of now
        (TODAY + timedelta(days=1), False),  # the next day
    ],
)
def test_a_deployment_counts_only_strictly_inside_the_window(when: datetime, counted: bool) -> None:
    deployments = _deployments(("anchor", TODAY - timedelta(days=1)), ("edge", when))
    metrics = _metrics(DeliveryData(deployments))
    assert metrics.deployments == (2 if counted else 1)
    assert ("edge" in metrics.evidence.latest_deployments) is counted


def test_only_successful_deployments_with_a_time_count_and_each_id_once() -> None:
    deployments = _deployments(
        ("ok", TODAY - timedelta(days=3)),
        ("ok", TODAY - timedelta(days=2)),  # the same deployment exported twice
        ("failed", TODAY - timedelta(days=2)),
        ("done", TODAY - timedelta(days=1)),
    ).assign(status=["success", "Success", "failure", "Completed"])
    metrics = _metrics(DeliveryData(deployments))
    assert metrics.deployments == 2
    assert metrics.evidence.latest_deployments == ("done", "ok")


# --- Lead time: whole minutes, buckets by their upper bound ---------------------------------


def _lead(delay: timedelta) -> DeliveryMetrics:
    deployed = TODAY - timedelta(days=1)
    deployments = _deployments(("d1", deployed))
    changes = pd.DataFrame({"sha": ["c-d1"], "time": [deployed - delay]})
    return _metrics(DeliveryData(deployments, changes))


@pytest.mark.parametrize(
    ("delay", "hours", "bucket"),
    [
        (timedelta(hours=24) - timedelta(seconds=1), 23 + 59 / 60, "One day"),  # 1439 min
        (timedelta(hours=24), 24.0, "One week"),
        (timedelta(hours=24, seconds=59), 24.0, "One week"),
        (timedelta(hours=168) - timedelta(seconds=1), 167 + 59 / 60, "One week"),
        (timedelta(hours=168), 168.0, "One month"),
        (timedelta(hours=730), 730.0, "Six months"),
        (timedelta(hours=4380), 4380.0, "One year"),
    ],
)
def test_lead_time_counts_whole_minutes_and_switches_bucket_at_each_bound(
    delay: timedelta, hours: float, bucket: str
) -> None:
    metrics = _lead(delay)
    assert metrics.lead_time_hours == pytest.approx(hours)
    assert metrics.lead_time_bucket == bucket


@pytest.mark.parametrize(
    ("delay", "counted"),
    [
        (timedelta(seconds=59), False),  # 0 whole minutes: an automated push
        (timedelta(seconds=60), True),
        (timedelta(0), False),
    ],
)
def test_a_change_deployed_within_its_first_minute_is_left_out(
    delay: timedelta, counted: bool
) -> None:
    metrics = _lead(delay)
    if counted:
        assert metrics.lead_time_hours == pytest.approx(1 / 60)
        assert metrics.evidence.lead_time_changes == 1
    else:
        assert (metrics.lead_time_hours, metrics.lead_time_bucket) == (None, None)
        assert metrics.evidence.lead_time_changes == 0
        assert (
            "No change could be matched to a later deployment, so lead time is unknown."
            in metrics.notes
        )


def test_a_change_shipped_twice_counts_once_at_its_first_deployment() -> None:
    deployments = _deployments(
        ("first", TODAY - timedelta(days=2)), ("again", TODAY - timedelta(days=1))
    ).assign(shas=[["c1"], ["c1"]])
    changes = pd.DataFrame({"sha": ["c1"], "time": [TODAY - timedelta(days=2, hours=5)]})
    metrics = _metrics(DeliveryData(deployments, changes))
    assert metrics.lead_time_hours == pytest.approx(5)
    assert metrics.evidence.slowest_changes == (("first", "c1"),)


# --- Change failure rate: buckets by their edges, end to end --------------------------------


@pytest.mark.parametrize(
    ("failed", "rate", "bucket"),
    [(3, 0.15, "0-15%"), (4, 0.20, "16-45%"), (9, 0.45, "16-45%"), (10, 0.50, "46-60%")],
)
def test_change_failure_rate_buckets_from_records(failed: int, rate: float, bucket: str) -> None:
    deployments = _deployments(*[(f"d{i}", TODAY - timedelta(days=i + 1)) for i in range(20)])
    incidents = pd.DataFrame(
        {
            "id": [f"i{i}" for i in range(failed)],
            "created": [TODAY - timedelta(days=i + 1, hours=-1) for i in range(failed)],
            "resolved": [TODAY - timedelta(days=i + 1, hours=-3) for i in range(failed)],
            "deployment_id": [f"d{i}" for i in range(failed)],
        }
    )
    metrics = _metrics(DeliveryData(deployments, incidents=incidents))
    assert metrics.change_failure_rate == pytest.approx(rate)
    assert metrics.change_failure_bucket == bucket
    assert metrics.recovery_hours == pytest.approx(3)  # from the deployment, 1 h before
    assert metrics.recovery_bucket == "One day"


def test_incidents_linked_by_commit_alone_are_told_apart_from_unlinked_ones() -> None:
    # No deployment_id column at all, and an index that does not start at 0.
    incidents = pd.DataFrame(
        {
            "id": ["i1", "i2", "i3"],
            "created": [TODAY - timedelta(hours=20), TODAY, TODAY],
            "resolved": [TODAY - timedelta(hours=18), TODAY + timedelta(hours=4), None],
            "sha": ["C-D2", "", "no-such-commit"],
        },
        index=[7, 8, 9],
    )
    metrics = _metrics(DeliveryData(DEPLOYED, CHANGES, incidents))
    assert metrics.change_failure_rate == pytest.approx(1 / 2)  # d2, by its commit
    assert metrics.evidence.failed_deployments == ("d2",)
    # i1 runs from d2's deployment (4 h before it was opened): 6 h; i2 from its creation: 4 h.
    assert metrics.recovery_hours == pytest.approx(5)
    assert metrics.evidence.slowest_restores == ("i1", "i2")
    assert (
        "2 incidents could not be linked to a deployment: they count for recovery time "
        "(from their creation) but not for change failure rate."
    ) in metrics.notes
    assert "1 incident is not resolved yet." in metrics.notes


def test_an_incident_resolved_before_it_started_is_not_a_restore() -> None:
    incidents = pd.DataFrame(
        {
            "id": ["i1", "i2"],
            "created": [TODAY, TODAY],
            "resolved": [TODAY - timedelta(hours=1), TODAY + timedelta(hours=2)],
        }
    )
    metrics = _metrics(DeliveryData(DEPLOYED, CHANGES, incidents))
    assert metrics.recovery_hours == pytest.approx(2)
    assert metrics.evidence.restored_incidents == 1


# --- Notes ----------------------------------------------------------------------------------


def test_the_notes_say_which_records_are_missing() -> None:
    metrics = _metrics(DeliveryData(DEPLOYED))
    assert metrics.notes == (
        "No change records: lead time needs commit times (from a repository scan).",
        "No incident records: change failure rate and recovery time need an incident export.",
    )
    assert (metrics.change_failure_rate, metrics.change_failure_bucket) == (None, None)
    assert (metrics.recovery_hours, metrics.recovery_bucket) == (None, None)
    empty = pd.DataFrame(columns=["id", "created", "resolved", "deployment_id"])
    metrics = _metrics(DeliveryData(DEPLOYED, CHANGES, empty))
    assert metrics.notes == (
        "The incident export holds no incidents: change failure rate 0 %, "
        "and no recovery time to measure.",
    )
    assert (metrics.change_failure_rate, metrics.change_failure_bucket) == (0.0, "0-15%")


# --- The weekly series ----------------------------------------------------------------------


def test_the_weekly_series_has_every_week_with_its_own_measures() -> None:
    # Sunday-start weeks: 7 June (two deployments, one failed), 14 June (none), with the
    # window starting at the first record's day, Monday 8 June.
    deployments = _deployments(
        ("d1", datetime(2026, 6, 8, 10, tzinfo=UTC)), ("d2", datetime(2026, 6, 10, 16, tzinfo=UTC))
    )
    changes = pd.DataFrame(
        {
            "sha": ["c-d1", "c-d2"],
            "time": [datetime(2026, 6, 8, 8, tzinfo=UTC), datetime(2026, 6, 10, 10, tzinfo=UTC)],
        }
    )
    incidents = pd.DataFrame(
        {
            "id": ["i1"],
            "created": [datetime(2026, 6, 11, 9, tzinfo=UTC)],
            "resolved": [datetime(2026, 6, 11, 13, tzinfo=UTC)],
            "deployment_id": ["d2"],
        }
    )
    metrics = _metrics(DeliveryData(deployments, changes, incidents))
    assert metrics.window_start == "2026-06-08T00:00:00+00:00"
    weeks = [
        (w.week, w.deployments, w.median_lead_time_hours, w.change_failure_rate)
        for w in metrics.weekly
    ]
    assert weeks == [("2026-06-07", 2, 4.0, 0.5), ("2026-06-14", 0, None, None)]
    # i1 starts at d2's deployment (Wednesday 10 June 16:00) and ends the next day at 13:00.
    assert [w.median_restore_hours for w in metrics.weekly] == [21.0, None]
    without_incidents = _metrics(DeliveryData(deployments, changes))
    assert [w.change_failure_rate for w in without_incidents.weekly] == [None, None]
    assert [w.median_restore_hours for w in without_incidents.weekly] == [None, None]


def test_at_most_ten_unreadable_yes_no_values_are_quoted() -> None:
    changes = pd.DataFrame(
        {
            "sha": [f"c{i}" for i in range(12)],
            "time": [TODAY - timedelta(days=3)] * 12,
            "ai_assisted": [f"perhaps {i}" for i in range(12)],
        }
    )
    assert _refused(DeliveryData(DEPLOYED, changes)) == tuple(
        f"changes.ai_assisted: not a yes/no value 'perhaps {i}'" for i in range(10)
    )


def test_an_environment_column_left_blank_filters_nothing() -> None:
    deployments = DEPLOYED.assign(environment=["", None])
    metrics = _metrics(DeliveryData(deployments))
    assert (metrics.deployments, metrics.excluded_deployments, metrics.environments) == (2, 0, ())
    assert not any(n.startswith("Production deployments only") for n in metrics.notes)


def test_change_ids_that_are_numbers_match_the_changes_export() -> None:
    # Issue numbers rather than commit shas, as numbers in the deployment's list.
    deployments = DEPLOYED.assign(shas=[[101], (102, 103)])
    changes = pd.DataFrame(
        {
            "sha": ["101", "102", "103"],
            "time": [
                TODAY - timedelta(days=3),
                TODAY - timedelta(days=4),
                TODAY - timedelta(days=2),
            ],
        }
    )
    metrics = _metrics(DeliveryData(deployments, changes))
    assert metrics.evidence.lead_time_changes == 3
    assert metrics.lead_time_hours == pytest.approx(24)  # 24, 72 and 24 hours
    assert metrics.evidence.slowest_changes == (("d2", "102"), ("d1", "101"), ("d2", "103"))


@pytest.mark.parametrize("extra", ["deployment_id", "deployed", "hours", "id"])
def test_a_changes_export_with_more_columns_is_read_for_its_sha_and_time_only(extra: str) -> None:
    # A column of the changes export that happens to share a name with one compute uses
    # internally is not the deployment, its time or the lead time.
    changes = CHANGES.assign(**{extra: ["elsewhere", "elsewhere"]})
    metrics = _metrics(DeliveryData(DEPLOYED, changes))
    assert metrics.lead_time_hours == pytest.approx(24)
    assert metrics.evidence.slowest_changes == (("d1", "c-d1"), ("d2", "c-d2"))


def test_an_incident_naming_its_deployment_and_no_commit_counts_for_recovery() -> None:
    incidents = pd.DataFrame(
        {
            "id": ["i1", "i2"],
            "created": [TODAY - timedelta(hours=20), TODAY],
            "resolved": [TODAY - timedelta(hours=18), TODAY + timedelta(hours=4)],
            "deployment_id": ["d2", "d1"],
            "sha": [None, "c-d1"],
        }
    )
    metrics = _metrics(DeliveryData(DEPLOYED, CHANGES, incidents))
    assert metrics.evidence.restored_incidents == 2
    assert metrics.evidence.slowest_restores == ("i2", "i1")


def test_incident_times_written_as_text_are_read_as_times() -> None:
    incidents = pd.DataFrame(
        {
            "id": ["i1"],
            "created": [(TODAY - timedelta(hours=20)).strftime("%Y-%m-%dT%H:%M:%SZ")],
            "resolved": [(TODAY - timedelta(hours=18)).strftime("%Y-%m-%d %H:%M:%S+00:00")],
            "deployment_id": ["d2"],
        }
    )
    metrics = _metrics(DeliveryData(DEPLOYED, CHANGES, incidents))
    # Opened 4 h after d2 was deployed (midnight the day before), resolved 2 h later.
    assert metrics.recovery_hours == pytest.approx(6)
    assert metrics.change_failure_rate == pytest.approx(1 / 2)


def test_one_unlinked_incident_is_told_in_the_singular() -> None:
    incidents = pd.DataFrame(
        {
            "id": ["i1", "i2"],
            "created": [TODAY - timedelta(hours=20), TODAY],
            "resolved": [TODAY - timedelta(hours=18), TODAY + timedelta(hours=4)],
            "sha": ["C-D2", ""],
        }
    )
    metrics = _metrics(DeliveryData(DEPLOYED, CHANGES, incidents))
    assert (
        "1 incident could not be linked to a deployment: it counts for recovery time "
        "(from its creation) but not for change failure rate."
    ) in metrics.notes
