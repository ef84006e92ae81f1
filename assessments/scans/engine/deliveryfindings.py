"""Delivery findings (the delivery.* detectors) from imported export rows.

One definition: the measures are `scoring.delivery.compute` (fourkeys' definitions, over its
three-month window, production deployments only), so the findings page, the results page and
the report show the same numbers for the same records. A finding is "found" when the measure's
fourkeys bucket is at least as good as the threshold below; docs/scans.md lists them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from assessments.scans.engine.detectors import Catalogue, load_catalogue
from assessments.scans.engine.model import Pointer, ScanResult, Status
from scoring.delivery import PRODUCTION, DeliveryData, DeliveryMetrics, compute
from scoring.errors import ScoringInputError

# "found" when the bucket is one of these (fourkeys' buckets; docs/methodology.md section 12).
FREQUENT = ("Daily", "Weekly")  # at least weekly
FAST = ("One day", "One week")  # lead time under 168 h
FAILURE_RATE = 0.15  # "0-15%"
RESTORED = ("One day",)  # time to restore under 24 h
MAX_POINTERS = 10

_DEPLOYMENT_COLUMNS = ("id", "time", "status", "shas")
_INCIDENT_COLUMNS = ("id", "created", "resolved", "deployment_id", "sha")


def _rows(idents: Sequence[Any]) -> tuple[Pointer, ...]:
    """Row pointers for export ids, without repeats, at most MAX_POINTERS."""
    unique = list(dict.fromkeys(str(i) for i in idents))
    return tuple(Pointer("row", i) for i in unique[:MAX_POINTERS])


def delivery_data(
    *,
    deployments: Sequence[Mapping[str, Any]],
    incidents: Sequence[Mapping[str, Any]] | None,
    changes: Sequence[Mapping[str, Any]] | None,
    environments: tuple[str, ...] | None = PRODUCTION,
) -> DeliveryData:
    """Imported rows as `scoring.delivery.DeliveryData`. `incidents=None` means no incident
    export; an empty list is an export with no incident (change failure rate 0)."""
    return DeliveryData(
        deployments=pd.DataFrame(list(deployments))
        if deployments
        else pd.DataFrame(columns=list(_DEPLOYMENT_COLUMNS)),
        changes=pd.DataFrame(list(changes)) if changes else None,
        incidents=None
        if incidents is None
        else (
            pd.DataFrame(list(incidents))
            if incidents
            else pd.DataFrame(columns=list(_INCIDENT_COLUMNS))
        ),
        environments=environments,
    )


def delivery_findings(
    *,
    deployments: Sequence[Mapping[str, Any]],
    incidents: Sequence[Mapping[str, Any]] | None,
    changes: Sequence[Mapping[str, Any]] | None,
    now: datetime,
    environments: tuple[str, ...] | None = PRODUCTION,
    catalogue: Catalogue | None = None,
) -> ScanResult:
    """The delivery.* findings from imported rows, measured by `scoring.delivery.compute`.

    `incidents` or `changes` None means "not imported": the measures that need them are
    "unknown". An empty incident list is an export without incidents: no failed deployment.
    """
    catalogue = catalogue or load_catalogue()
    data = delivery_data(
        deployments=deployments, incidents=incidents, changes=changes, environments=environments
    )
    metrics: DeliveryMetrics | None = None
    error = ""
    if deployments:
        try:
            metrics = compute(data, now=now)
        except ScoringInputError as exc:
            error = "; ".join(exc.problems)
    out = _measures(metrics, deployments, incidents, changes, error)
    facts: dict[str, Any] = {}
    if metrics is not None:
        facts = {
            "window_start": metrics.window_start,
            "window_end": metrics.window_end,
            "successful_deployments": metrics.deployments,
            "per_week": round(metrics.deployments_per_week, 2),
            "deployment_frequency": metrics.deployment_frequency,
        }
        for name in ("lead_time_hours", "change_failure_rate", "recovery_hours", "rework_rate"):
            value = getattr(metrics, name)
            if value is not None:
                facts[name] = round(value, 4 if "rate" in name else 2)
        if metrics.environments:
            facts["environments"] = list(metrics.environments)
            facts["excluded_deployments"] = metrics.excluded_deployments
    findings = []
    for measure in catalogue.measures:
        if measure.source != "delivery":
            continue
        findings.extend(measure.findings(*out[measure.id]))
    return ScanResult(source="delivery", findings=tuple(findings), facts=facts)


def _measures(
    metrics: DeliveryMetrics | None,
    deployments: Sequence[Mapping[str, Any]],
    incidents: Sequence[Mapping[str, Any]] | None,
    changes: Sequence[Mapping[str, Any]] | None,
    error: str,
) -> dict[str, tuple[Status, str, tuple[Pointer, ...]]]:
    out: dict[str, tuple[Status, str, tuple[Pointer, ...]]] = {}
    ids = (
        "delivery.deployment-frequency",
        "delivery.lead-time",
        "delivery.change-failure-rate",
        "delivery.recovery-time",
    )
    if not deployments:
        for ident in ids:
            out[ident] = ("unknown", "Could not determine: no deployment rows were imported.", ())
        return out
    if error:
        for ident in ids:
            out[ident] = ("unknown", f"Could not determine: {error}", ())
        return out
    if metrics is None:
        # Nothing successful in the window: frequency is absent, pointing at the rows looked at.
        out["delivery.deployment-frequency"] = (
            "absent",
            "No successful production deployment in the last three months.",
            _rows([d.get("id") for d in deployments[-5:]]),
        )
        for ident in ids[1:]:
            out[ident] = (
                "unknown",
                "Could not determine: no successful deployment in the window.",
                (),
            )
        return out
    evidence = metrics.evidence
    window = f"{metrics.window_start[:10]} to {metrics.window_end[:10]}"
    out["delivery.deployment-frequency"] = (
        "found" if metrics.deployment_frequency in FREQUENT else "absent",
        f"{metrics.deployments} successful deployments from {window} "
        f"({metrics.deployments_per_week:.2f} per week): {metrics.deployment_frequency} "
        "(at least Weekly counts).",
        _rows(evidence.latest_deployments),
    )
    if changes is None:
        out["delivery.lead-time"] = (
            "unknown",
            "Could not determine: no change records (commit times) were provided.",
            (),
        )
    elif metrics.lead_time_hours is None:
        out["delivery.lead-time"] = (
            "unknown",
            "Could not determine: no change could be matched to a later deployment.",
            (),
        )
    else:
        slowest = evidence.slowest_changes[:5]
        out["delivery.lead-time"] = (
            "found" if metrics.lead_time_bucket in FAST else "absent",
            f"Median {metrics.lead_time_hours:.1f} h from commit to deployment over "
            f"{evidence.lead_time_changes} changes: {metrics.lead_time_bucket} "
            "(under 168 h counts).",
            _rows([d for d, _sha in slowest]) + tuple(Pointer("commit", s) for _d, s in slowest),
        )
    if incidents is None:
        for ident in ("delivery.change-failure-rate", "delivery.recovery-time"):
            out[ident] = ("unknown", "Could not determine: no incidents were imported.", ())
        return out
    rate = metrics.change_failure_rate or 0.0
    failed = evidence.failed_deployments
    out["delivery.change-failure-rate"] = (
        "found" if rate <= FAILURE_RATE else "absent",
        f"{round(rate * metrics.deployments)} of {metrics.deployments} deployments led to an "
        f"incident ({rate:.0%}; threshold {FAILURE_RATE:.0%})."
        + ("" if incidents else " The incident export holds no incidents."),
        # The deployments that failed; with none, the latest ones counted.
        _rows(failed or evidence.latest_deployments),
    )
    if metrics.recovery_hours is None:
        out["delivery.recovery-time"] = (
            "unknown",
            "Could not determine: no resolved incident in the window.",
            (),
        )
    else:
        out["delivery.recovery-time"] = (
            "found" if metrics.recovery_bucket in RESTORED else "absent",
            f"Median {metrics.recovery_hours:.1f} h to restore over "
            f"{evidence.restored_incidents} incidents: {metrics.recovery_bucket} "
            "(under 24 h counts).",
            _rows(evidence.slowest_restores),
        )
    return out
