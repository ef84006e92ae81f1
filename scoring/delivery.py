"""Delivery performance (the DORA measures) from deployment, change and incident records.

Definitions and buckets follow Google's fourkeys project (dora-team/fourkeys, METRICS.md and
the queries of its dashboard), computed with pandas over the same window fourkeys uses: the
three calendar months up to and including the day of `now`, records strictly after its first
midnight (never earlier than the first record for the frequency grid). Only the date of `now`
matters, so a result can be cached for the day. Only production deployments count when the
export names environments (`DeliveryData.environments`). docs/methodology.md section 12 gives
every definition and each deliberate difference from fourkeys, with its test.

- Deployment frequency: successful deployments, counted on a grid of every day in the window
  grouped into Sunday-start weeks (BigQuery's WEEK). "Daily" when the median number of days
  with a deployment per week is at least 3; "Weekly" when the median week has a deployment;
  "Monthly" when the median (over weeks) number of deploying weeks in the week's month is at
  least 1; else "Yearly".
- Lead time for changes: median, in whole minutes (fourkeys' TIMESTAMP_DIFF MINUTE), of
  (deployment time - change time) over changes first shipped by a deployment in the window;
  changes with 0 whole minutes or less are excluded, as fourkeys does for automated pushes.
  Buckets: under 24 h "One day", 168 h "One week", 730 h "One month", 4380 h "Six months",
  else "One year".
- Change failure rate: share of the window's successful deployments linked to an incident (by
  deployment id, or by a shipped commit: the first deployment in the window that shipped it
  no later than the incident). An incident export without rows gives 0. Buckets: up to 15 %
  "0-15%", under 46 % "16-45%", else "46-60%".
- Time to restore (failed deployment recovery time): median of exact (resolved - start) over
  resolved incidents starting in the window, where start is the earlier of the incident's
  creation and its deployment's time (fourkeys' time_created); unlinked incidents count from
  their creation. Same buckets as lead time.
- Rework rate (DORA's fifth measure): share of deployments marked unplanned (`rework`).

Where changes are marked AI-assisted, lead time and change failure rate are also split
between AI-assisted changes (and the deployments that shipped them) and the others.
"""

from __future__ import annotations

import math
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
# Environment names that mean production when an export says where each deployment went.
PRODUCTION = ("production", "prod", "prd", "live")
MAX_EVIDENCE = 10
# A measure from the records and the survey's answer for it disagree when the larger is at
# least this many times the smaller (docs/methodology.md section 12).
DISAGREEMENT_FACTOR = 2.0


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


def disagreement(measured: float, answered: float) -> float | None:
    """How many times the larger of a measure from the records and the answer people gave
    for it is the smaller, when that is at least DISAGREEMENT_FACTOR; None when they agree.
    One of them zero and the other not is an infinite factor; both zero agree."""
    if measured < 0 or answered < 0:
        raise ScoringInputError(["a measure and an answer to compare cannot be negative"])
    low, high = sorted((measured, answered))
    if high == 0:
        return None
    if low == 0:
        return math.inf
    factor = high / low
    return factor if factor >= DISAGREEMENT_FACTOR else None


@dataclass(frozen=True)
class DeliveryData:
    """Delivery records as DataFrames (times: datetimes or ISO strings; naive means UTC).

    deployments: id, time, status (success values: see SUCCESS), shas (list of commit ids
        shipped; a single string is one sha), environment (optional; see `environments`), rework (optional yes/no: an unplanned
        deployment made to fix a user-facing problem)
    changes: sha, time, ai_assisted (bool, optional)
    incidents: id, created, resolved (may be empty), deployment_id and/or sha (may be empty).
        None means no incident export; an empty frame means an export with no incident.
    environments: the environment names counted as production (case-insensitive); rows naming
        no environment are kept. None counts every environment.
    """

    deployments: pd.DataFrame
    changes: pd.DataFrame | None = None
    incidents: pd.DataFrame | None = None
    environments: tuple[str, ...] | None = PRODUCTION


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
    # Failed deployments / deployments that week (None without an incident export or without
    # deployments); median restore time of the incidents that started that week.
    change_failure_rate: float | None = None
    median_restore_hours: float | None = None


@dataclass(frozen=True)
class Evidence:
    """The records behind the measures, for pointers: ids only, at most MAX_EVIDENCE each."""

    latest_deployments: tuple[str, ...] = ()
    failed_deployments: tuple[str, ...] = ()
    slowest_changes: tuple[tuple[str, str], ...] = ()  # (deployment id, sha)
    slowest_restores: tuple[str, ...] = ()  # incident ids
    lead_time_changes: int = 0
    restored_incidents: int = 0


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
    rework_rate: float | None = None
    environments: tuple[str, ...] = ()  # the production filter applied, empty when none
    excluded_deployments: int = 0
    evidence: Evidence = Evidence()


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
    """The DORA measures over the window ending with the day of `now`; None without
    deployments in it."""
    if now.tzinfo is None:
        raise ScoringInputError(["now must be a timezone-aware datetime"])
    today = pd.Timestamp(now).tz_convert("UTC").floor("D")
    end = today + pd.Timedelta(days=1)
    window_start = today - pd.DateOffset(months=months)
    notes: list[str] = []

    _require(data.deployments, "deployments", ("id", "time", "status", "shas"))
    deployments = data.deployments.copy()
    deployments["time"] = _utc(deployments["time"], "deployments.time")
    deployments["id"] = deployments["id"].astype(str)
    deployments, environments, excluded = _production(deployments, data.environments, notes)
    ok = deployments["status"].astype(str).str.lower().isin(SUCCESS) & deployments["time"].notna()
    successful = deployments.loc[ok & (deployments["time"] < end)].sort_values(["time", "id"])
    successful = successful.drop_duplicates("id")
    # fourkeys: `time_created > TIMESTAMP(DATE_SUB(CURRENT_DATE(), INTERVAL 3 MONTH))`.
    in_window = successful.loc[successful["time"] > window_start]
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

    # The grid starts at the first record's day when that is later than the window's start.
    # (fourkeys starts the day after its first raw event; see docs/methodology.md.)
    first_record = deployments["time"].min()
    if changes is not None:
        first_record = min(first_record, changes["time"].min())
    start = max(window_start, first_record.floor("D"))

    frequency, per_week, weeks = _frequency(in_window["time"], start, today)

    # One row per (deployment, sha), in deployment order.
    shipped = successful[["id", "time", "shas"]].copy()
    shipped["shas"] = shipped["shas"].map(_as_list)
    shipped = shipped.explode("shas").dropna(subset=["shas"])
    shipped = shipped.rename(columns={"id": "deployment_id", "time": "deployed", "shas": "sha"})
    first_shipped = shipped.drop_duplicates("sha")

    lead_hours: float | None = None
    lead_split: Split | None = None
    lead_rows = pd.DataFrame(columns=["deployment_id", "deployed", "hours", "ai_assisted", "sha"])
    if changes is not None:
        # Only the columns read here: another column of the export (a "deployed" flag, a
        # deployment_id) would collide with the shipped rows' own and hide them.
        rows = first_shipped.loc[first_shipped["deployed"] > window_start].merge(
            changes.drop_duplicates("sha")[["sha", "time", "ai_assisted"]], on="sha", how="inner"
        )
        # fourkeys: TIMESTAMP_DIFF(deployed, committed, MINUTE) > 0, i.e. whole minutes, and a
        # change deployed less than 60 s after it was made is an automated push, left out.
        minutes = ((rows["deployed"] - rows["time"]).dt.total_seconds() // 60).astype("float64")
        rows["hours"] = minutes / 60
        lead_rows = rows.loc[minutes > 0]
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
    failed: set[str] = set()
    restores = pd.DataFrame(columns=["id", "start", "hours"])
    incidents = data.incidents
    window_ids = set(in_window["id"])
    if incidents is not None:
        if incidents.empty:
            failure_rate = 0.0
            notes.append(
                "The incident export holds no incidents: change failure rate 0 %, "
                "and no recovery time to measure."
            )
        else:
            _require(incidents, "incidents", ("id", "created"))
            incidents = incidents.copy()
            incidents["id"] = incidents["id"].astype(str)
            incidents["created"] = _utc(incidents["created"], "incidents.created")
            resolved = (
                incidents["resolved"]
                if "resolved" in incidents.columns
                else pd.Series(None, index=incidents.index, dtype=object)
            )
            incidents["resolved"] = _utc(resolved, "incidents.resolved")
            deploy_time = successful.set_index("id")["time"]
            by_id = _column(incidents, "deployment_id")
            by_sha = pd.Series(
                [
                    _cause(sha, created, shipped, window_start)
                    for sha, created in zip(
                        _column(incidents, "sha"), incidents["created"], strict=True
                    )
                ],
                index=incidents.index,
                dtype="string",
            )
            linked_id = by_id.where(by_id.isin(deploy_time.index), by_sha)
            incidents["deployment_id"] = linked_id.where(linked_id.isin(deploy_time.index), "")
            linked = incidents["deployment_id"] != ""
            unlinked = int((~linked).sum())
            if unlinked:
                notes.append(
                    "1 incident could not be linked to a deployment: it counts for recovery "
                    "time (from its creation) but not for change failure rate."
                    if unlinked == 1
                    else f"{unlinked} incidents could not be linked to a deployment: they count "
                    "for recovery time (from their creation) but not for change failure rate."
                )
            failed = set(incidents.loc[linked, "deployment_id"]) & window_ids
            failure_rate = len(failed) / len(in_window)

            # fourkeys' time_created: the earlier of the incident's creation and the time of
            # the deployment that caused it; unlinked incidents start at their creation.
            deployed = incidents["deployment_id"].map(deploy_time)
            incidents["start"] = incidents[["created"]].assign(deployed=deployed).min(axis=1)
            recent = incidents.loc[incidents["start"] > window_start]
            hours = (recent["resolved"] - recent["start"]).dt.total_seconds() / 3600
            open_count = int(hours.isna().sum())
            restores = recent.assign(hours=hours).dropna(subset=["hours"])
            restores = restores.loc[restores["hours"] >= 0, ["id", "start", "hours"]]
            if len(restores):
                recovery = float(restores["hours"].median())
            if open_count:
                notes.append(
                    "1 incident is not resolved yet."
                    if open_count == 1
                    else f"{open_count} incidents are not resolved yet."
                )

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

    rework_rate = _rework(in_window, notes)
    weekly = _weekly(
        in_window, lead_rows, restores, failed if incidents is not None else None, weeks
    )
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
        rework_rate=rework_rate,
        environments=environments,
        excluded_deployments=excluded,
        evidence=_evidence(in_window, lead_rows, failed, restores),
    )


def _production(
    deployments: pd.DataFrame, wanted: tuple[str, ...] | None, notes: list[str]
) -> tuple[pd.DataFrame, tuple[str, ...], int]:
    """Only the deployments to the chosen environments (case-insensitive); rows that name no
    environment are kept, since the export does not say where they went."""
    if wanted is None or "environment" not in deployments.columns:
        return deployments, (), 0
    names = _column(deployments, "environment").str.strip().str.lower()
    allowed = {w.strip().lower() for w in wanted}
    keep = (names == "") | names.isin(allowed)
    excluded = int((~keep).sum())
    if not (names != "").any():
        return deployments, (), 0
    chosen = tuple(sorted(allowed))
    if excluded:
        others = ", ".join(sorted(set(names[~keep])))
        notes.append(
            f"Production deployments only (environment {', '.join(chosen)}): "
            f"{excluded} deployment{'' if excluded == 1 else 's'} to {others} left out."
        )
    return deployments.loc[keep], chosen, excluded


def _cause(
    sha: str, created: pd.Timestamp, shipped: pd.DataFrame, window_start: pd.Timestamp
) -> str:
    """The deployment an incident's commit points at: the first deployment in the window that
    shipped it no later than the incident was opened; else the first in the window; else the
    first ever. A commit shipped again later (a redeploy) is then attributed where it counts."""
    if not sha:
        return ""
    rows = shipped.loc[shipped["sha"] == sha]
    if rows.empty:
        rows = shipped.loc[shipped["sha"].str.lower() == sha.lower()]
        if rows.empty:
            return ""
    in_window = rows.loc[rows["deployed"] > window_start]
    before = in_window.loc[in_window["deployed"] <= created] if pd.notna(created) else in_window
    for candidates in (before, in_window, rows):
        if not candidates.empty:
            return str(candidates["deployment_id"].iloc[0])
    return ""


def _rework(in_window: pd.DataFrame, notes: list[str]) -> float | None:
    """DORA's rework rate: the share of deployments that were unplanned, made to fix a
    user-facing problem, from a yes/no `rework` column; None when the export has none."""
    if "rework" not in in_window.columns:
        return None
    text = _column(in_window, "rework").str.strip()
    if not (text != "").any():
        return None
    flags = _flags(in_window["rework"], "deployments.rework")
    return float(flags.sum()) / len(in_window)


def _evidence(
    in_window: pd.DataFrame, lead_rows: pd.DataFrame, failed: set[str], restores: pd.DataFrame
) -> Evidence:
    slowest = lead_rows.sort_values(["hours", "sha"], ascending=[False, True]).head(MAX_EVIDENCE)
    slow_restores = restores.sort_values(["hours", "id"], ascending=[False, True])
    return Evidence(
        latest_deployments=tuple(str(i) for i in in_window["id"].tail(5)[::-1]),
        failed_deployments=tuple(sorted(failed)[:MAX_EVIDENCE]),
        slowest_changes=tuple(
            (str(d), str(s)) for d, s in zip(slowest["deployment_id"], slowest["sha"], strict=True)
        ),
        slowest_restores=tuple(str(i) for i in slow_restores["id"].head(MAX_EVIDENCE)),
        lead_time_changes=len(lead_rows),
        restored_incidents=len(restores),
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
    in_window: pd.DataFrame,
    lead_rows: pd.DataFrame,
    restores: pd.DataFrame,
    failed: set[str] | None,
    weeks: pd.DatetimeIndex,
) -> tuple[WeekPoint, ...]:
    """fourkeys' dashboard series, by week: deployments, median lead time, change failure
    rate and median time to restore."""
    # Weeks are keyed by their Sunday at midnight: floor to the day first, or a deployment at
    # 14:00 lands on "Sunday 14:00" and matches no week of the window.
    deploy_weeks = _week_start(in_window["time"].dt.floor("D"))
    counts = pd.Series(1, index=deploy_weeks).groupby(level=0).size()
    failures: pd.Series = pd.Series(dtype="float64")
    if failed is not None:
        flags = pd.Series(in_window["id"].isin(failed).to_numpy(), index=deploy_weeks)
        failures = flags.groupby(level=0).mean()
    lead: pd.Series = pd.Series(dtype="float64")
    if not lead_rows.empty:
        deployed_days = lead_rows["deployed"].dt.floor("D")
        lead = lead_rows.groupby(_week_start(deployed_days))["hours"].median()
    restore: pd.Series = pd.Series(dtype="float64")
    if not restores.empty:
        restore = restores.groupby(_week_start(restores["start"].dt.floor("D")))["hours"].median()

    def value(series: pd.Series, week: pd.Timestamp) -> float | None:
        return float(series[week]) if week in series.index else None

    return tuple(
        WeekPoint(
            week.date().isoformat(),
            int(counts.get(week, 0)),
            value(lead, week),
            value(failures, week),
            value(restore, week),
        )
        for week in weeks
    )
