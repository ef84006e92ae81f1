"""Delivery findings (the delivery.* detectors) from imported export rows.

DORA definitions as in `scoring.delivery` (fourkeys): only successful deployments in the
window count; lead time runs from a change to the first successful deployment shipping its
sha; an incident counts against the deployment it names, or the one that shipped its sha.
Thresholds are documented in docs/scans.md.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from assessments.scans.engine.delivery import parse_datetime
from assessments.scans.engine.detectors import Catalogue, load_catalogue
from assessments.scans.engine.model import Pointer, ScanResult, Status

DEPLOYS_PER_WEEK = 1.0
LEAD_TIME_HOURS = 168.0
FAILURE_RATE = 0.15
RECOVERY_HOURS = 24.0
SUCCESS = {"success", "succeeded", "successful", "ok", "deployed", "completed"}
MAX_POINTERS = 10


def _time(value: Any) -> datetime | None:
    try:
        return parse_datetime(value)[0]
    except (ValueError, OverflowError, OSError):
        return None


def _rows(idents: Sequence[Any]) -> tuple[Pointer, ...]:
    """Row pointers for export ids, without repeats, at most MAX_POINTERS."""
    unique = list(dict.fromkeys(str(i) for i in idents))
    return tuple(Pointer("row", i) for i in unique[:MAX_POINTERS])


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
    if deployments:
        # The latest rows counted; with none counted, the latest rows that were looked at.
        shown = [d for _at, d in good[-5:]] or list(deployments[-5:])
        out["delivery.deployment-frequency"] = (
            "found" if per_week >= DEPLOYS_PER_WEEK else "absent",
            f"{len(good)} successful deployments in {window_days} days ({per_week:.2f} per week; threshold {DEPLOYS_PER_WEEK:g}).",
            _rows([d.get("id") for d in shown]),
        )
    else:
        out["delivery.deployment-frequency"] = (
            "unknown",
            "Could not determine: no deployment rows were imported.",
            (),
        )
    first_deploy: dict[str, datetime] = {}
    deploy_of_sha: dict[str, str] = {}
    for at, dep in good:
        for sha in dep.get("shas") or []:
            first_deploy.setdefault(str(sha).lower(), at)
            deploy_of_sha.setdefault(str(sha).lower(), str(dep.get("id")))
    facts: dict[str, Any] = {
        "window_days": window_days,
        "successful_deployments": len(good),
        "per_week": round(per_week, 2),
    }
    if changes is None:
        out["delivery.lead-time"] = (
            "unknown",
            "Could not determine: no change records (commit times) were provided.",
            (),
        )
    else:
        measured: list[tuple[float, str]] = []
        for change in changes:
            sha, at = str(change.get("sha", "")).lower(), _time(change.get("time"))
            deployed = first_deploy.get(sha)
            if at is not None and deployed is not None and deployed > at:
                measured.append(((deployed - at).total_seconds() / 3600, sha))
        if measured:
            median = statistics.median(h for h, _sha in measured)
            facts["lead_time_hours"] = round(median, 2)
            # The slowest changes: the deployments that shipped them, then the commits.
            slowest = sorted(measured, key=lambda item: (-item[0], item[1]))[:5]
            out["delivery.lead-time"] = (
                "found" if median <= LEAD_TIME_HOURS else "absent",
                f"Median {median:.1f} h from commit to deployment over {len(measured)} changes (threshold {LEAD_TIME_HOURS:g} h).",
                _rows([deploy_of_sha[sha] for _h, sha in slowest])
                + tuple(Pointer("commit", sha) for _h, sha in slowest),
            )
        else:
            out["delivery.lead-time"] = (
                "unknown",
                "Could not determine: no change could be matched to a later deployment.",
                (),
            )
    if incidents is None:
        for ident in ("delivery.change-failure-rate", "delivery.recovery-time"):
            out[ident] = ("unknown", "Could not determine: no incidents were imported.", ())
    elif good:
        ids = {str(d.get("id")) for _at, d in good}
        failed: set[str] = set()
        recoveries: list[tuple[float, str]] = []
        for incident in incidents:
            linked = str(incident.get("deployment_id") or "") or deploy_of_sha.get(
                str(incident.get("sha") or "").lower(), ""
            )
            if linked in ids:
                failed.add(linked)
                created, resolved = _time(incident.get("created")), _time(incident.get("resolved"))
                if created is not None and resolved is not None and resolved >= created:
                    hours = (resolved - created).total_seconds() / 3600
                    recoveries.append((hours, str(incident.get("id") or "")))
        rate = len(failed) / len(good)
        facts["change_failure_rate"] = round(rate, 4)
        out["delivery.change-failure-rate"] = (
            "found" if rate <= FAILURE_RATE else "absent",
            f"{len(failed)} of {len(good)} deployments led to an incident ({rate:.0%}; threshold {FAILURE_RATE:.0%}).",
            # The deployments that failed; with none, the latest ones counted.
            _rows(sorted(failed) or [d.get("id") for _at, d in good[-5:]]),
        )
        if recoveries:
            median = statistics.median(h for h, _ident in recoveries)
            facts["recovery_hours"] = round(median, 2)
            slowest = sorted(recoveries, key=lambda item: (-item[0], item[1]))
            out["delivery.recovery-time"] = (
                "found" if median <= RECOVERY_HOURS else "absent",
                f"Median {median:.1f} h to recover over {len(recoveries)} incidents (threshold {RECOVERY_HOURS:g} h).",
                _rows([ident for _h, ident in slowest]),
            )
        else:
            out["delivery.recovery-time"] = (
                "unknown",
                "Could not determine: no resolved incident is linked to a deployment.",
                (),
            )
    else:
        for ident in ("delivery.change-failure-rate", "delivery.recovery-time"):
            out[ident] = (
                "unknown",
                "Could not determine: no successful deployment in the window.",
                (),
            )
    findings = []
    for measure in catalogue.measures:
        if measure.source != "delivery":
            continue
        findings.extend(measure.findings(*out[measure.id]))
    return ScanResult(source="delivery", findings=tuple(findings), facts=facts)
