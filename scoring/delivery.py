"""Delivery performance (the DORA measures) from deployment, change and incident records.

Definitions and buckets follow Google's fourkeys project (dora-team/fourkeys, METRICS.md and
the queries of its dashboard), computed with pandas over the same window fourkeys uses: the
three calendar months up to and including the day of `now` (never earlier than the first
record). Only the date of `now` matters, so a result can be cached for the day.

- Deployment frequency: successful deployments, counted on a grid of every day in the window
  grouped into Sunday-start weeks (BigQuery's WEEK). "Daily" when the median number of days
  with a deployment per week is at least 3; "Weekly" when the median week has a deployment;
  "Monthly" when the median (over weeks) number of deploying weeks in the week's month is at
  least 1; else "Yearly".
- Lead time for changes: median of (deployment time - change time) over changes first shipped
  by a deployment in the window; changes with a non-positive difference are excluded, as
  fourkeys does for automated pushes. Buckets: under 24 h "One day", 168 h "One week",
  730 h "One month", 4380 h "Six months", else "One year".
- Change failure rate: share of the window's successful deployments linked to an incident (by
  deployment id, or by a shipped sha). Buckets: up to 15 % "0-15%", under 46 % "16-45%", else
  "46-60%". (fourkeys counts incident-change rows, which double-counts, see its issue #213;
  this counts failed deployments, DORA's own definition.)
- Failed deployment recovery time: median of (resolved - start) over resolved incidents linked
  to a deployment, where start is the earlier of the incident's creation and the deployment's
  time (fourkeys' time_created). Same buckets as lead time.

Where changes are marked AI-assisted, lead time and change failure rate are also split
between AI-assisted changes (and the deployments that shipped them) and the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from scoring.errors import ScoringInputError

WINDOW_MONTHS = 3
TIME_BUCKETS = (
    (24.0, "One day"),
    (168.0, "One week"),
    (730.0, "One month"),
    (4380.0, "Six months"),
)
SUCCESS = {"success", "succeeded", "successful", "ok", "deployed", "completed"}


def time_bucket(hours: float) -> str:
    """fourkeys' lead-time and restore buckets (upper bounds exclusive)."""
    for limit, label in TIME_BUCKETS:
        if hours < limit:
            return label
    return "One year"


def failure_bucket(rate: float) -> str:
    """fourkeys' change-failure buckets: <= 15 %, < 46 %, else the top bucket."""
    if rate <= 0.15:
        return "0-15%"
    if rate < 0.46:
        return "16-45%"
    return "46-60%"


@dataclass(frozen=True)
class DeliveryData:
    """Delivery records as DataFrames (times: datetimes or ISO strings; naive means UTC).

    deployments: id, time, status (success values: see SUCCESS), shas (list of commit ids
        shipped; a single string is one sha)
    changes: sha, time, ai_assisted (bool, optional)
    incidents: id, created, resolved (may be empty), deployment_id and/or sha (may be empty)
    """

    deployments: pd.DataFrame
    changes: pd.DataFrame | None = None
    incidents: pd.DataFrame | None = None


@dataclass(frozen=True)
class Split:
    ai_assisted: float
    other: float
    ai_count: int
    other_count: int


@dataclass(frozen=True)
class WeekPoint:
    week: str  # ISO date of the week's Sunday (fourkeys' weeks)
    deployments: int
    median_lead_time_hours: float | None


@dataclass(frozen=True)
class DeliveryMetrics:
    window_start: str
    window_end: str  # exclusive: midnight after the day of `now`
    deployments: int
    deployment_frequency: str
    deployments_per_week: float
    lead_time_hours: float | None
    lead_time_bucket: str | None
    change_failure_rate: float | None
    change_failure_bucket: str | None
    recovery_hours: float | None
    recovery_bucket: str | None
    lead_time_split: Split | None
    failure_rate_split: Split | None
    weekly: tuple[WeekPoint, ...]
    notes: tuple[str, ...]


def _require(frame: pd.DataFrame, name: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ScoringInputError([f"{name} lack the column(s): {', '.join(missing)}"])


def _utc(series: pd.Series, name: str) -> pd.Series:
    parsed = pd.to_datetime(series, utc=True, errors="coerce", format="mixed")
    bad = parsed.isna() & series.notna() & (series.astype(str).str.strip() != "")
    if bad.any():
        raise ScoringInputError([f"{name}: unreadable time {v!r}" for v in series[bad].head(10)])
    return parsed


_TRUE = frozenset({"true", "yes", "y", "1", "t"})
_FALSE = frozenset({"false", "no", "n", "0", "f", "", "none", "nan"})


def _flags(series: pd.Series, name: str) -> pd.Series:
    """Booleans from booleans, numbers or the usual words; anything else is an input error
    (a bare astype(bool) would read the text "false" as true)."""
    text = series.map(lambda v: "" if v is None or v is pd.NA else str(v)).str.strip().str.lower()
    bad = ~text.isin(_TRUE | _FALSE)
    if bad.any():
        raise ScoringInputError([f"{name}: not a yes/no value {v!r}" for v in series[bad].head(10)])
    return text.isin(_TRUE)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A text column, empty where missing."""
    if name not in frame.columns:
        return pd.Series("", index=frame.index, dtype="string")
    return frame[name].astype("string").fillna("")


def _as_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list | tuple | set | frozenset):
        return [str(v) for v in value]
    return []


def compute(
    data: DeliveryData, *, now: datetime, months: int = WINDOW_MONTHS
) -> DeliveryMetrics | None:
    """The four keys over the window ending with the day of `now`; None without deployments."""
    if now.tzinfo is None:
        raise ScoringInputError(["now must be a timezone-aware datetime"])
    today = pd.Timestamp(now).tz_convert("UTC").floor("D")
    end = today + pd.Timedelta(days=1)
    window_start = today - pd.DateOffset(months=months)

    _require(data.deployments, "deployments", ("id", "time", "status", "shas"))
    deployments = data.deployments.copy()
    deployments["time"] = _utc(deployments["time"], "deployments.time")
    deployments["id"] = deployments["id"].astype(str)
    ok = deployments["status"].astype(str).str.lower().isin(SUCCESS) & deployments["time"].notna()
    successful = deployments.loc[ok & (deployments["time"] < end)].sort_values(["time", "id"])
    successful = successful.drop_duplicates("id")
    in_window = successful.loc[successful["time"] >= window_start]
    if in_window.empty:
        return None

    changes = data.changes
    if changes is not None and not changes.empty:
        _require(changes, "changes", ("sha", "time"))
        changes = changes.copy()
        changes["time"] = _utc(changes["time"], "changes.time")
        changes["sha"] = changes["sha"].astype(str)
        changes["ai_assisted"] = (
            _flags(changes["ai_assisted"], "changes.ai_assisted")
            if "ai_assisted" in changes.columns
            else False
        )
    else:
        changes = None

    # The window starts at the first record (fourkeys: the first raw event), if that is later.
    first_record = deployments["time"].min()
    if changes is not None:
        first_record = min(first_record, changes["time"].min())
    start = max(window_start, first_record.floor("D"))
    notes: list[str] = []

    frequency, per_week, weeks = _frequency(in_window["time"], start, today)

    # One row per (deployment, sha) for the deployment that first shipped each sha.
    shipped = successful[["id", "time", "shas"]].copy()
    shipped["shas"] = shipped["shas"].map(_as_list)
    shipped = shipped.explode("shas").dropna(subset=["shas"])
    shipped = shipped.rename(columns={"id": "deployment_id", "time": "deployed", "shas": "sha"})
    first_shipped = shipped.drop_duplicates("sha")  # sorted by time above: the first deployment

    lead_hours: float | None = None
    lead_split: Split | None = None
    lead_rows = pd.DataFrame(columns=["deployment_id", "deployed", "hours", "ai_assisted"])
    if changes is not None:
        rows = first_shipped.loc[first_shipped["deployed"] >= window_start].merge(
            changes.drop_duplicates("sha"), on="sha", how="inner"
        )
        rows["hours"] = (rows["deployed"] - rows["time"]).dt.total_seconds() / 3600
        lead_rows = rows.loc[rows["hours"] > 0]
        if not lead_rows.empty:
            lead_hours = float(lead_rows["hours"].median())
            ai = lead_rows.loc[lead_rows["ai_assisted"], "hours"]
            other = lead_rows.loc[~lead_rows["ai_assisted"], "hours"]
            if len(ai) and len(other):
                lead_split = Split(float(ai.median()), float(other.median()), len(ai), len(other))
        else:
            notes.append(
                "No change could be matched to a later deployment, so lead time is unknown."
            )
    else:
        notes.append("No change records: lead time needs commit times (from a repository scan).")

    failure_rate: float | None = None
    recovery: float | None = None
    failure_split: Split | None = None
    incidents = data.incidents
    if incidents is not None and not incidents.empty:
        _require(incidents, "incidents", ("id", "created"))
        incidents = incidents.copy()
        incidents["created"] = _utc(incidents["created"], "incidents.created")
        resolved = (
            incidents["resolved"]
            if "resolved" in incidents.columns
            else pd.Series(None, index=incidents.index, dtype=object)
        )
        incidents["resolved"] = _utc(resolved, "incidents.resolved")
        sha_to_deploy = first_shipped.set_index("sha")["deployment_id"]
        by_id = _column(incidents, "deployment_id")
        by_sha = _column(incidents, "sha").map(sha_to_deploy).fillna("")
        incidents["deployment_id"] = by_id.where(by_id != "", by_sha)
        deploy_time = successful.set_index("id")["time"]
        linked = incidents.loc[incidents["deployment_id"].isin(deploy_time.index)].copy()
        unlinked = len(incidents) - len(linked)
        if unlinked:
            notes.append(
                f"{unlinked} incident(s) could not be linked to a deployment and are not counted."
            )
        window_ids = set(in_window["id"])
        failed = set(linked["deployment_id"]) & window_ids
        failure_rate = len(failed) / len(in_window)

        linked["start"] = (
            linked[["created"]]
            .assign(deployed=linked["deployment_id"].map(deploy_time))
            .min(axis=1)
        )
        recent = linked.loc[linked["start"] >= window_start]
        hours = (recent["resolved"] - recent["start"]).dt.total_seconds() / 3600
        open_count = int(hours.isna().sum())
        hours = hours.dropna()
        hours = hours.loc[hours >= 0]
        if len(hours):
            recovery = float(hours.median())
        if open_count:
            notes.append(f"{open_count} linked incident(s) are not resolved yet.")

        if not lead_rows.empty and lead_rows["ai_assisted"].any():
            ai_deploys = set(lead_rows.loc[lead_rows["ai_assisted"], "deployment_id"])
            ai_mask = in_window["id"].isin(ai_deploys)
            n_ai, n_other = int(ai_mask.sum()), int((~ai_mask).sum())
            if n_ai and n_other:
                failure_split = Split(
                    len(failed & ai_deploys) / n_ai,
                    len(failed - ai_deploys) / n_other,
                    n_ai,
                    n_other,
                )
    else:
        notes.append(
            "No incident records: change failure rate and recovery time need an incident export."
        )

    weekly = _weekly(in_window["time"], lead_rows, weeks)
    return DeliveryMetrics(
        window_start=start.isoformat(),
        window_end=end.isoformat(),
        deployments=len(in_window),
        deployment_frequency=frequency,
        deployments_per_week=per_week,
        lead_time_hours=lead_hours,
        lead_time_bucket=time_bucket(lead_hours) if lead_hours is not None else None,
        change_failure_rate=failure_rate,
        change_failure_bucket=failure_bucket(failure_rate) if failure_rate is not None else None,
        recovery_hours=recovery,
        recovery_bucket=time_bucket(recovery) if recovery is not None else None,
        lead_time_split=lead_split,
        failure_rate_split=failure_split,
        weekly=weekly,
        notes=tuple(notes),
    )


def _week_start(days: pd.DatetimeIndex | pd.Series) -> pd.DatetimeIndex:
    """The Sunday that starts each day's week (BigQuery TIMESTAMP_TRUNC(day, WEEK))."""
    index = pd.DatetimeIndex(days)
    return index - pd.to_timedelta((index.day_of_week + 1) % 7, unit="D")


def _frequency(
    times: pd.Series, start: pd.Timestamp, today: pd.Timestamp
) -> tuple[str, float, pd.DatetimeIndex]:
    """fourkeys' deployment-frequency bucket, deployments per week and the window's weeks."""
    days = pd.date_range(start.floor("D"), today, freq="D")
    deployed = days.isin(pd.DatetimeIndex(times.dt.floor("D").unique()))
    grid = pd.DataFrame({"week": _week_start(days), "deployed": deployed})
    weekly = grid.groupby("week").agg(
        days_deployed=("deployed", "sum"), week_deployed=("deployed", "max")
    )
    week_index = pd.DatetimeIndex(weekly.index)
    month = week_index.year * 12 + week_index.month
    weekly["monthly_deploys"] = (
        weekly["week_deployed"].astype(int).groupby(month).transform("sum").to_numpy()
    )
    per_week = len(times) / (len(days) / 7)
    if weekly["days_deployed"].median() >= 3:
        label = "Daily"
    elif weekly["week_deployed"].astype(int).median() >= 1:
        label = "Weekly"
    elif weekly["monthly_deploys"].median() >= 1:
        label = "Monthly"
    else:
        label = "Yearly"
    return label, per_week, week_index


def _weekly(
    times: pd.Series, lead_rows: pd.DataFrame, weeks: pd.DatetimeIndex
) -> tuple[WeekPoint, ...]:
    # Weeks are keyed by their Sunday at midnight: floor to the day first, or a deployment at
    # 14:00 lands on "Sunday 14:00" and matches no week of the window.
    counts = pd.Series(1, index=_week_start(times.dt.floor("D"))).groupby(level=0).size()
    lead: pd.Series = pd.Series(dtype="float64")
    if not lead_rows.empty:
        deployed_days = lead_rows["deployed"].dt.floor("D")
        lead = lead_rows.groupby(_week_start(deployed_days))["hours"].median()
    return tuple(
        WeekPoint(
            week.date().isoformat(),
            int(counts.get(week, 0)),
            float(lead[week]) if week in lead.index else None,
        )
        for week in weeks
    )
