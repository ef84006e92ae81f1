"""The catalogue's coverage as scan-style evidence for the process capabilities.

How many processes are owned, written down, broken into steps, verifiable and measured says
something about process documentation that answers alone cannot. Each measure becomes one
finding, found when at least half of the catalogue meets it (the inventory needs at least
three processes, four in five with an owner; "checked against an event log" needs one). An empty catalogue gives no findings: nobody
having typed processes in is not evidence that none are written down.
"""

from __future__ import annotations

from collections.abc import Collection

from assessments.processes.core.suitability import Coverage
from scoring.evidence import EvidenceFinding

# Candidate ids, first present wins; looked up in the rubric, so a rubric without them gets
# no process evidence instead of an error.
PROCESS_DOCS = ("obs.process-docs",)
PROCESS_TELEMETRY = ("obs.process-telemetry",)
MIN_INVENTORY = 3
OWNED_SHARE = 0.8
SHARE = 0.5


def _first(candidates: tuple[str, ...], capability_ids: Collection[str]) -> str | None:
    return next((c for c in candidates if c in capability_ids), None)


def findings(cov: Coverage, capability_ids: Collection[str]) -> list[EvidenceFinding]:
    if cov.processes == 0:
        return []
    out: list[EvidenceFinding] = []
    n = cov.processes

    def add(detector: str, capability: str, ok: bool, strength: int, title: str) -> None:
        out.append(
            EvidenceFinding(
                detector=detector,
                capability=capability,
                status="found" if ok else "absent",
                strength=strength,
                title=title,
                pointers=("process catalogue",),
            )
        )

    docs = _first(PROCESS_DOCS, capability_ids)
    if docs:
        add(
            "process.catalogue.inventory",
            docs,
            n >= MIN_INVENTORY and cov.with_owner >= OWNED_SHARE * n,
            2,
            f"Process catalogue: {n} process{'es' if n != 1 else ''}, {cov.with_owner} with an owner",
        )
        add(
            "process.catalogue.written-down",
            docs,
            cov.written_down >= SHARE * n,
            3,
            f"{cov.written_down} of {n} catalogued processes link to where they are written down",
        )
        add(
            "process.catalogue.steps",
            docs,
            cov.steps_known >= SHARE * n,
            1,
            f"{cov.steps_known} of {n} catalogued processes have their steps listed",
        )
        add(
            "process.catalogue.verifiable",
            docs,
            cov.verifiable >= SHARE * n,
            2,
            f"{cov.verifiable} of {n} catalogued processes are checked by tests or a checklist",
        )
        add(
            "process.catalogue.measured-docs",
            docs,
            cov.measured > 0,
            1,
            f"{cov.measured} of {n} catalogued processes are checked against an event log",
        )
    telemetry = _first(PROCESS_TELEMETRY, capability_ids)
    if telemetry and cov.measured:
        add(
            "process.catalogue.measured",
            telemetry,
            True,
            2,
            f"{cov.measured} of {n} catalogued processes are measured from an event log",
        )
    return out
