"""Delivery performance (the DORA measures) from deployment, change and incident records.

Definitions and buckets follow Google's fourkeys project (dora-team/fourkeys, METRICS.md and
queries/*.sql), computed with pandas over the whole window:

- Deployment frequency: successful deployments; "Daily" when the median number of days with a
  deployment per week is at least 3, "Weekly" when the median week has one, "Monthly" when the
  median month has one, else "Yearly".
- Lead time for changes: median of (deployment time - change time) over changes shipped by a
  successful deployment; changes with a non-positive difference are excluded, as fourkeys does
  for merge commits. Buckets: under 24 h "One day", 168 h "One week", 730 h "One month",
  4380 h "Six months", else "One year".
- Change failure rate: share of successful deployments linked to an incident (by deployment id
  or by a shipped sha). Buckets: up to 15 % "0-15%", under 46 % "16-45%", else "46-60%".
- Failed deployment recovery time: median of (resolved - created) of incidents linked to a
  deployment, same buckets as lead time.

Where changes are marked AI-assisted, lead time and change failure rate are also split
between deployments that shipped AI-assisted changes and the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from scoring.errors import ScoringInputError

TIME_BUCKETS = (
    (24.0, "One day"),
    (168.0, "One week"),
    (730.0, "One month"),
    (4380.0, "Six months"),
)
SUCCESS = {"success", "succeeded", "successful", "ok", "deployed", "completed"}


def time_bucket(hours: float) -> str:
    for limit, label in TIME_BUCKETS:
        if hours < limit:
            return label
    return "One year"


def failure_bucket(rate: float) -> str:
    if rate <= 0.15:
        return "0-15%"
    if rate < 0.46:
        return "16-45%"
    return "46-60%"


@dataclass(frozen=True)
class DeliveryData:
    """deployments: id, time, status, shas (list of str)
    changes: sha, time, ai_assisted (bool)
    incidents: id, created, resolved (may be NaT), deployment_id (may be empty), sha (may be empty)"""

    deployments: pd.DataFrame
    changes: pd.DataFrame
    incidents: pd.DataFrame


@dataclass(frozen=True)
class Split:
    ai_assisted: float | None
    other: float | None
    ai_count: int
    other_count: int


@dataclass(frozen=True)
class WeekPoint:
    week: str  # ISO date of the week's Monday
    deployments: int
    median_lead_time_hours: float | None


@dataclass(frozen=True)
class DeliveryMetrics:
    window_start: str
    window_end: str
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


def compute(data: DeliveryData, *, now: datetime) -> DeliveryMetrics | None:
    """The four keys, or None when there are no deployments to measure."""
    _require(data.deployments, "deployments", ("id", "time", "status", "shas"))
    deployments = data.deployments.copy()
    deployments["time"] = _utc(deployments["time"], "deployments.time")
    ok = deployments["status"].astype(str).str.lower().isin(SUCCESS) & deployments["time"].notna()
    deployments = deployments.loc[ok & (deployments["time"] <= pd.Timestamp(now))]
    if deployments.empty:
        return None
    deployments = deployments.drop_duplicates("id")
    notes: list[str] = []
    start, end = deployments["time"].min(), pd.Timestamp(now)

    frequency, per_week = _frequency(deployments["time"], start, end)
    weekly_counts = (
        deployments.set_index("time").resample("W-MON", label="left", closed="left").size()
    )

    # One row per (deployment, sha) shipped.
    shipped = deployments[["id", "time", "shas"]].explode("shas").dropna(subset=["shas"])
    shipped = shipped.rename(columns={"id": "deployment_id", "time": "deployed", "shas": "sha"})
    shipped["sha"] = shipped["sha"].astype(str)

    lead_hours = None
    lead_split = None
    lead_rows = pd.DataFrame()
    changes = data.changes
    if changes is not None and not changes.empty:
        _require(changes, "changes", ("sha", "time"))
        changes = changes.copy()
        changes["time"] = _utc(changes["time"], "changes.time")
        changes["sha"] = changes["sha"].astype(str)
        if "ai_assisted" not in changes.columns:
            changes["ai_assisted"] = False
        # The first deployment that shipped each change.
        first = shipped.sort_values("deployed").drop_duplicates("sha")
        lead_rows = first.merge(changes.drop_duplicates("sha"), on="sha", how="inner")
        lead_rows["hours"] = (lead_rows["deployed"] - lead_rows["time"]).dt.total_seconds() / 3600
        lead_rows = lead_rows.loc[lead_rows["hours"] > 0]
        if not lead_rows.empty:
            lead_hours = float(lead_rows["hours"].median())
            ai = lead_rows.loc[lead_rows["ai_assisted"].astype(bool), "hours"]
            other = lead_rows.loc[~lead_rows["ai_assisted"].astype(bool), "hours"]
            if len(ai) and len(other):
                lead_split = Split(float(ai.median()), float(other.median()), len(ai), len(other))
        else:
            notes.append(
                "No change could be matched to a later deployment, so lead time is unknown."
            )
    else:
        notes.append("No change records: lead time needs commit times (from a repository scan).")

    failure_rate = recovery = None
    failure_split = None
    incidents = data.incidents
    if incidents is not None and not incidents.empty:
        _require(incidents, "incidents", ("id", "created"))
        incidents = incidents.copy()
        incidents["created"] = _utc(incidents["created"], "incidents.created")
        incidents["resolved"] = _utc(
            incidents.get("resolved", pd.Series(index=incidents.index, dtype="object")),
            "incidents.resolved",
        )
        by_id = (
            incidents.get("deployment_id", pd.Series(index=incidents.index, dtype="object"))
            .astype("string")
            .fillna("")
        )
        by_sha = (
            incidents.get("sha", pd.Series(index=incidents.index, dtype="object"))
            .astype("string")
            .fillna("")
        )
        sha_to_deploy = (
            shipped.sort_values("deployed")
            .drop_duplicates("sha")
            .set_index("sha")["deployment_id"]
            .astype(str)
        )
        linked = by_id.where(by_id != "", by_sha.map(sha_to_deploy).fillna(""))
        incidents["deployment_id"] = linked
        known_ids = set(deployments["id"].astype(str))
        linked_incidents = incidents.loc[incidents["deployment_id"].isin(known_ids)]
        failed = set(linked_incidents["deployment_id"])
        failure_rate = len(failed) / len(deployments)
        durations = (
            linked_incidents["resolved"] - linked_incidents["created"]
        ).dt.total_seconds() / 3600
        durations = durations.dropna()
        durations = durations.loc[durations >= 0]
        if len(durations):
            recovery = float(durations.median())
        unlinked = len(incidents) - len(linked_incidents)
        if unlinked:
            notes.append(
                f"{unlinked} incident(s) could not be linked to a deployment and are not counted."
            )
        if not lead_rows.empty and lead_rows["ai_assisted"].astype(bool).any():
            ai_deploys = set(
                lead_rows.loc[lead_rows["ai_assisted"].astype(bool), "deployment_id"].astype(str)
            )
            ids = deployments["id"].astype(str)
            ai_mask = ids.isin(ai_deploys)
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

    weekly_lead: dict[pd.Timestamp, float] = {}
    if not lead_rows.empty:
        series = (
            lead_rows.set_index("deployed")["hours"]
            .resample("W-MON", label="left", closed="left")
            .median()
        )
        weekly_lead = {k: float(v) for k, v in series.dropna().items()}
    weekly = tuple(
        WeekPoint(week.date().isoformat(), int(count), weekly_lead.get(week))
        for week, count in weekly_counts.items()
    )
    return DeliveryMetrics(
        window_start=start.isoformat(),
        window_end=end.isoformat(),
        deployments=len(deployments),
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


def _frequency(times: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> tuple[str, float]:
    days = times.dt.floor("D").drop_duplicates()
    weeks_index = pd.period_range(start.tz_localize(None), end.tz_localize(None), freq="W-SUN")
    months_index = pd.period_range(start.tz_localize(None), end.tz_localize(None), freq="M")
    naive_days = days.dt.tz_localize(None)
    days_per_week = (
        naive_days.dt.to_period("W-SUN").value_counts().reindex(weeks_index, fill_value=0)
    )
    deploys_per_month = (
        times.dt.tz_localize(None)
        .dt.to_period("M")
        .value_counts()
        .reindex(months_index, fill_value=0)
    )
    n_weeks = max(1, len(weeks_index))
    per_week = len(times) / n_weeks
    if days_per_week.median() >= 3:
        return "Daily", per_week
    if (days_per_week > 0).astype(int).median() >= 1:
        return "Weekly", per_week
    if (deploys_per_month > 0).astype(int).median() >= 1:
        return "Monthly", per_week
    return "Yearly", per_week
