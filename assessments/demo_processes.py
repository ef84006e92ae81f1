"""The demo organisation's process catalogue, so a new user sees a ranked pilot backlog.

Six processes of Halvorsen Logistics, chosen to spread across the suitability factors and
the autonomy a pilot needs: a well-tested, reversible platform chore at the top, money-moving
finance work where people decide and nothing checks the result at the bottom, and one ("Customer refunds") measured from a small event log that this
module generates from a fixed seed and runs through the app's own log analysis (upload, the
analysis job's body, "fill in the catalogue"), so its volume, rework and steps are marked as
measured. The same seed always gives the same catalogue.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile

from assessments.inputs import organisation_inputs_changed
from assessments.jobs import BackgroundJob
from assessments.models import Organisation, Team
from assessments.processes.logs import log_apply, log_execute, log_upload
from assessments.processes.models import EventLog, Process, ProcessStep

SEED = 2026
LOG_NAME = "customer-refunds.csv"
LOG_CASES = 180
LOG_WEEKS = 6
MEASURED_PROCESS = "Customer refunds"

# (name, system, API the organisation can use, a person decides here)
Step = tuple[str, str, str, bool]


@dataclass(frozen=True)
class DemoProcess:
    name: str
    team: str
    owner: str
    trigger: str
    outcome: str
    steps: tuple[Step, ...]
    runs_per_week: float | None
    minutes_per_run: float | None
    error_rate: float | None
    verification: str
    reversibility: str
    blast_radius: int
    doc_url: str = ""
    recording: str = "none"


WIKI = "https://wiki.halvorsen-logistics.example"
PROCESSES = (
    DemoProcess(
        name="Dependency updates",
        team="Platform",
        owner="Jonas Weber",
        trigger="Renovate opens an update pull request",
        outcome="The update is merged and deployed, or closed with a reason",
        steps=(
            ("Read the update pull request", "GitHub", "yes", False),
            ("Run the test suite", "GitHub Actions", "yes", False),
            ("Review and merge", "GitHub", "yes", True),
            ("Deploy to production", "Argo CD", "yes", False),
        ),
        runs_per_week=40,
        minutes_per_run=15,
        error_rate=3,
        verification=Process.Verification.AUTOMATED,
        reversibility=Process.Reversibility.REVERSIBLE,
        blast_radius=Process.BlastRadius.TEAM,
        doc_url=f"{WIKI}/platform/dependency-updates",
    ),
    DemoProcess(
        name="Incident triage",
        team="Platform",
        owner="Aiko Tanaka",
        trigger="An alert pages the on-call engineer",
        outcome="A ticket with severity, owner and first findings",
        steps=(
            ("Acknowledge the page", "PagerDuty", "yes", False),
            ("Gather logs and dashboards", "Grafana", "yes", False),
            ("Decide the severity", "PagerDuty", "yes", True),
            ("Open the incident ticket", "Jira", "yes", False),
            ("Tell the owning team", "Slack", "yes", False),
        ),
        runs_per_week=35,
        minutes_per_run=25,
        error_rate=12,
        verification=Process.Verification.CHECKLIST,
        reversibility=Process.Reversibility.REVERSIBLE,
        blast_radius=Process.BlastRadius.TEAMS,
        doc_url=f"{WIKI}/platform/incident-runbook",
        recording=Process.Recording.RECORDING,
    ),
    DemoProcess(
        name="Carrier invoice approval",
        team="Payments",
        owner="Priya Natarajan",
        trigger="A carrier's invoice arrives in the invoices mailbox",
        outcome="The invoice is approved for payment or disputed with the carrier",
        steps=(
            ("Receive the invoice", "Outlook", "yes", False),
            (
                "Match it to shipments and the rate card",
                "Transport management system",
                "yes",
                False,
            ),
            ("Resolve price differences", "Transport management system", "yes", True),
            ("Approve in the ledger", "SAP S/4HANA", "unknown", True),
            ("Schedule the payment", "SAP S/4HANA", "unknown", False),
        ),
        runs_per_week=220,
        minutes_per_run=12,
        error_rate=6,
        verification=Process.Verification.CHECKLIST,
        reversibility=Process.Reversibility.EFFORT,
        blast_radius=Process.BlastRadius.CRITICAL,
        doc_url=f"{WIKI}/finance/carrier-invoices",
    ),
    DemoProcess(
        # Steps, volume and rework come from the event log below; the rest is claimed here.
        name=MEASURED_PROCESS,
        team="Customer Operations",
        owner="Ingrid Berg",
        trigger="A customer asks for a refund of a damaged or late delivery",
        outcome="The refund is paid and the customer told, or declined with a reason",
        steps=(),
        runs_per_week=None,
        minutes_per_run=18,
        error_rate=None,
        verification=Process.Verification.SIGN_OFF,
        reversibility=Process.Reversibility.IRREVERSIBLE,
        blast_radius=Process.BlastRadius.CRITICAL,
        doc_url=f"{WIKI}/customer-operations/refunds",
    ),
    DemoProcess(
        name="Carrier onboarding",
        team="Customer Operations",
        owner="Dmitri Volkov",
        trigger="A new haulier is signed",
        outcome="The carrier can be booked in the transport system and paid",
        steps=(
            ("Collect insurance and licence documents", "Email", "no", False),
            ("Check the documents", "Carrier portal", "no", True),
            ("Set the carrier up", "Transport management system", "yes", False),
            ("Create the supplier", "SAP S/4HANA", "unknown", False),
            ("Send the welcome pack", "Outlook", "yes", False),
        ),
        runs_per_week=6,
        minutes_per_run=90,
        error_rate=15,
        verification=Process.Verification.CHECKLIST,
        reversibility=Process.Reversibility.EFFORT,
        blast_radius=Process.BlastRadius.CUSTOMERS,
    ),
    DemoProcess(
        name="Month-end freight accrual",
        team="Payments",
        owner="Tomás Ortega",
        trigger="The last working day of the month",
        outcome="Freight costs not yet invoiced are accrued in the ledger",
        steps=(
            ("Export delivered shipments", "Transport management system", "yes", False),
            ("Estimate the accruals", "Excel", "no", True),
            ("Post the journal", "SAP S/4HANA", "unknown", True),
        ),
        runs_per_week=0.25,
        minutes_per_run=480,
        error_rate=20,
        # Nobody checks the estimate until next month's invoices arrive.
        verification=Process.Verification.NONE,
        reversibility=Process.Reversibility.EFFORT,
        blast_radius=Process.BlastRadius.CRITICAL,
    ),
)

# Systems of the refund steps the log reveals (a log names activities, not systems).
REFUND_SYSTEMS: dict[str, tuple[str, str, bool]] = {
    "Refund requested": ("Zendesk", "yes", False),
    "Check the delivery": ("Transport management system", "yes", False),
    "Ask the customer for photos": ("Zendesk", "yes", False),
    "Approve the refund": ("Zendesk", "yes", True),
    "Pay the refund": ("Adyen", "yes", False),
    "Tell the customer": ("Zendesk", "yes", False),
}
AGENTS = ["ingrid", "chloe", "hannah", "dmitri"]


def refund_log(*, end: datetime) -> bytes:
    """A small event log of refunds over the weeks before `end`: most cases go straight
    through, some wait for the customer's photos and are checked again (rework), a few are
    declined after the check."""
    rng = random.Random(SEED)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Case ID", "Activity", "Timestamp", "Resource"])
    start = end - timedelta(weeks=LOG_WEEKS)
    span = (end - start).total_seconds() - 5 * 86_400
    for n in range(LOG_CASES):
        at = start + timedelta(seconds=rng.uniform(0, span))
        case = f"RF-{10_000 + n}"
        handler = rng.choice(AGENTS)
        path = ["Refund requested", "Check the delivery"]
        roll = rng.random()
        if roll < 0.18:
            path += ["Ask the customer for photos", "Check the delivery"]
        if roll > 0.93:
            path += ["Tell the customer"]  # declined after the check
        else:
            path += ["Approve the refund", "Pay the refund", "Tell the customer"]
        for activity in path:
            resource = {
                "Refund requested": "customer",
                "Approve the refund": "ingrid",
                "Pay the refund": "payments-bot",
            }.get(activity, handler)
            writer.writerow([case, activity, at.strftime("%Y-%m-%d %H:%M"), resource])
            wait = 20 if activity != "Ask the customer for photos" else 60 * 26
            at += timedelta(minutes=rng.uniform(wait, wait * 9))
    return out.getvalue().encode()


def demo_processes_add(*, organisation: Organisation, user: Any, now: datetime) -> None:
    """The catalogue of the demo organisation; `now` dates the measured log."""
    teams = {t.name: t for t in Team.objects.filter(organisation=organisation)}
    for spec in PROCESSES:
        process = Process.objects.create(
            organisation=organisation,
            team=teams.get(spec.team),
            name=spec.name,
            owner=spec.owner,
            trigger=spec.trigger,
            outcome=spec.outcome,
            runs_per_week=spec.runs_per_week,
            minutes_per_run=spec.minutes_per_run,
            error_rate=spec.error_rate,
            verification=spec.verification,
            reversibility=spec.reversibility,
            blast_radius=spec.blast_radius,
            doc_url=spec.doc_url,
            recording=spec.recording,
            created_by=user,
            created_at=now,
            updated_at=now,
        )
        ProcessStep.objects.bulk_create(
            ProcessStep(
                process=process,
                position=position,
                name=name,
                system=system,
                api=api,
                decides=decides,
            )
            for position, (name, system, api, decides) in enumerate(spec.steps, start=1)
        )
        if spec.name == MEASURED_PROCESS:
            _measure(process, user=user, now=now)
    organisation_inputs_changed(organisation.pk)


def _measure(process: Process, *, user: Any, now: datetime) -> None:
    """Upload the refund log, run the analysis job's body here (no worker needed), fill in
    the entry from it, then name the systems of the steps the log found."""
    log = log_upload(
        organisation=process.organisation,
        upload=ContentFile(refund_log(end=now), name=LOG_NAME),
        process=process,
        user=user,
    )
    # The mapping the form would record; the job is run here rather than queued.
    EventLog.objects.filter(pk=log.pk).update(
        column_mapping={
            "case": "Case ID",
            "activity": "Activity",
            "timestamp": "Timestamp",
            "resource": "Resource",
            "_delimiter": ",",
        },
        time_zone="Europe/Oslo",
        date_order="auto",
        mapped=True,
        status=BackgroundJob.Status.QUEUED,
        stage="Waiting for a worker",
    )
    log_execute(log_id=str(log.pk))
    log.refresh_from_db()
    if log.status != BackgroundJob.Status.SUCCEEDED:
        raise RuntimeError(f"The demo event log was not analysed: {log.error}")
    log_apply(log=log, user=user, now=now)
    for step in process.steps.all():
        if step.name in REFUND_SYSTEMS:
            step.system, step.api, step.decides = REFUND_SYSTEMS[step.name]
            step.save(update_fields=["system", "api", "decides"])
