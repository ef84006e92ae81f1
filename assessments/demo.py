"""A demo organisation with a realistic, completed assessment, generated from a fixed seed.

The same seed always gives the same answers, so screenshots, reports and tests built on the
demo data are reproducible. `seed_demo` is idempotent: running it again finds the existing
demo rows (by fixed ids) and changes nothing unless asked to reset (a demo seeded before
the process catalogue existed gets its catalogue, once).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from assessments.demo_processes import demo_processes_add
from assessments.inputs import inputs_changed
from assessments.models import (
    Answer,
    Assessment,
    Invitation,
    Membership,
    Organisation,
    Respondent,
    Team,
    hash_token,
)
from assessments.processes.models import Process
from scoring.rubric import DEFAULT_RUBRIC, Rubric, get_rubric

SEED = 2026
_NS = uuid.UUID("6f0c3c4e-7a35-4f55-9a57-0a6f2b6c0d11")
DEMO_ORG_ID = uuid.uuid5(_NS, "organisation")
DEMO_CLIENT_ID = uuid.uuid5(_NS, "second-client")
DEMO_ASSESSMENT_ID = uuid.uuid5(_NS, "assessment")
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "opready-demo"  # noqa: S105 - a published demo login, documented in the README  # nosec B105
CONSULTANT_USERNAME = "consultant"
STARTED = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)

# What is "really" true at the demo company, per capability (1-5). Respondents see it through
# their role's lens: leaders a little rosier, operations a little darker, plus noise.
TRUE_LEVELS = {
    "obs.process-docs": 2,
    "obs.process-telemetry": 2,
    "obs.system-telemetry": 3,
    "obs.agent-runs": 1,
    "obs.delivery-measurement": 2,
    "int.system-access": 3,
    "int.agents-in-tools": 2,
    "int.agent-identity": 2,
    "int.context-ownership": 2,
    "int.shared-capacity": 1,
    "int.agent-security": 2,
    "int.model-data": 2,
    "dep.ci-small-batches": 4,
    "dep.automation-iac": 3,
    "dep.safe-release": 3,
    "dep.agent-runtime": 2,
    "dep.ai-governance": 2,
    "dep.agent-containment": 1,
    "rev.policy-ownership": 3,
    "rev.flow-capacity": 2,
    "rev.automated-verification": 3,
    "rev.agent-output-governance": 1,
    "rev.learning-loop": 2,
    "rev.review-integrity": 2,
}
ROLE_BIAS = {"leadership": 0.9, "engineering": 0.0, "operations": -0.3, "product": 0.4}
ROLE_UNKNOWN = {"leadership": 0.12, "engineering": 0.04, "operations": 0.06, "product": 0.1}
FACT_VALUES = {
    "fact.prs-per-week": 140,
    "fact.active-reviewers": 24,
    "fact.review-hours-per-pr": 0.75,
    "fact.reviewer-hours-per-week": 8,
    "fact.hours-to-first-review": 9,
    "fact.deploys-per-week": 12,
    "fact.ai-authored-share": 18,
    "fact.agent-prs-per-week-6m": 60,
    "fact.agent-prs-per-week-12m": 220,
    "fact.months-at-current-autonomy": 4,
}
PEOPLE = [
    ("Maren Halvorsen", "leadership"),
    ("Tomás Ortega", "leadership"),
    ("Priya Natarajan", "leadership"),
    ("Jonas Weber", "engineering"),
    ("Aiko Tanaka", "engineering"),
    ("Samuel Okafor", "engineering"),
    ("Lena Fischer", "engineering"),
    ("Rafael Costa", "engineering"),
    ("Ingrid Berg", "operations"),
    ("Dmitri Volkov", "operations"),
    ("Chloé Martin", "product"),
    ("Hannah Kim", "product"),
]
COMMENTS = [
    "Depends a lot on the team; platform is ahead of the others.",
    "We have a wiki page for this but nobody trusts it.",
    "Started a pilot last quarter.",
    "Only for the payments service.",
    "This is exactly where agents got stuck in our trial.",
]


class DemoUserConflict(Exception):
    """A user with a demo username exists but is not opready's demo user."""


@dataclass(frozen=True)
class DemoInfo:
    username: str
    password: str
    organisation_id: uuid.UUID
    assessment_id: uuid.UUID
    created: bool


def seed_demo(
    *, reset: bool = False, evidence: bool = False, now: datetime | None = None
) -> DemoInfo:
    """The demo organisations and assessment. `evidence` also scans a demo repository and
    imports demo delivery exports (assessments/demo_evidence.py) into a new demo, so its
    results show agreements, contradictions and DORA metrics (`manage.py seed_demo` does;
    tests that do not need it skip the git work)."""
    with transaction.atomic():
        if reset:
            Organisation.objects.filter(pk__in=[DEMO_ORG_ID, DEMO_CLIENT_ID]).delete()
        created = not Organisation.objects.filter(pk=DEMO_ORG_ID).exists()
        users = _users()
        if created:
            _build(users)
        if not Process.objects.filter(organisation_id=DEMO_ORG_ID).exists():
            demo_processes_add(
                organisation=Organisation.objects.get(pk=DEMO_ORG_ID),
                user=users[DEMO_USERNAME],
                now=STARTED,
            )
        if created and evidence:
            from assessments.demo_evidence import demo_evidence_add

            demo_evidence_add(
                assessment=Assessment.objects.get(pk=DEMO_ASSESSMENT_ID),
                user=users[DEMO_USERNAME],
                now=now or datetime.now(UTC),
            )
    return DemoInfo(DEMO_USERNAME, DEMO_PASSWORD, DEMO_ORG_ID, DEMO_ASSESSMENT_ID, created)


def _users() -> dict[str, Any]:
    user_model = get_user_model()
    users = {}
    for username, first, last, email in [
        (DEMO_USERNAME, "Maren", "Halvorsen", "maren@halvorsen-logistics.example"),
        (CONSULTANT_USERNAME, "Alex", "Rivera", "alex@northbridge-advisory.example"),
    ]:
        user, new = user_model.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "email": email}
        )
        if not new and user.email != email:
            # Never give someone's real account the published demo password.
            raise DemoUserConflict(
                f"A user named {username!r} already exists and is not opready's demo user; "
                "seed_demo leaves it alone. Rename that user or use another database."
            )
        if new or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save()
        users[username] = user
    return users


def _build(users: dict[str, Any]) -> None:
    rng = random.Random(SEED)
    rubric = get_rubric(*DEFAULT_RUBRIC)
    org = Organisation.objects.create(
        id=DEMO_ORG_ID, name="Halvorsen Logistics", created_at=STARTED - timedelta(days=30)
    )
    client = Organisation.objects.create(
        id=DEMO_CLIENT_ID, name="Brightwater Health", created_at=STARTED - timedelta(days=20)
    )
    Membership.objects.create(user=users[DEMO_USERNAME], organisation=org, role="owner")
    Membership.objects.create(user=users[CONSULTANT_USERNAME], organisation=org, role="facilitator")
    Membership.objects.create(
        user=users[CONSULTANT_USERNAME], organisation=client, role="facilitator"
    )
    for name in ["Platform", "Payments", "Customer Operations"]:
        Team.objects.create(organisation=org, name=name)
    assessment = Assessment.objects.create(
        id=DEMO_ASSESSMENT_ID,
        organisation=org,
        title="AI operations readiness, autumn 2026",
        created_by=users[DEMO_USERNAME],
        created_at=STARTED,
        rubric_id=rubric.id,
        rubric_version=rubric.version,
        status=Assessment.Status.CLOSED,
        closed_at=STARTED + timedelta(days=9),
    )
    for index, (name, role) in enumerate(PEOPLE):
        _respondent(rng, rubric, assessment, index, name, role)


def _respondent(
    rng: random.Random, rubric: Rubric, assessment: Assessment, index: int, name: str, role: str
) -> None:
    started = STARTED + timedelta(hours=2 + index * 5)
    invitation = Invitation.objects.create(
        assessment=assessment,
        kind=Invitation.Kind.PERSONAL,
        # The demo links are never handed out: their tokens are random and discarded.
        token_hash=hash_token(uuid.UUID(int=rng.getrandbits(128)).hex),
        created_at=STARTED,
        expires_at=STARTED + timedelta(days=30),
    )
    respondent = Respondent.objects.create(
        assessment=assessment,
        invitation=invitation,
        role=role,
        name=name,
        email=name.lower().replace(" ", ".").replace("á", "a").replace("é", "e") + "@example.com",
        status=Respondent.Status.SUBMITTED,
        created_at=STARTED,
        started_at=started,
        submitted_at=started + timedelta(minutes=rng.randint(12, 35)),
        last_answer_at=started + timedelta(minutes=11),
    )
    answers = []
    seq = int(started.timestamp() * 1000)
    for question in rubric.questions_for(role):
        seq += 1
        roll = rng.random()
        comment = rng.choice(COMMENTS) if rng.random() < 0.06 else ""
        if roll < ROLE_UNKNOWN[role]:
            answers.append(_answer(respondent, question.id, "dont_know", None, None, comment, seq))
            continue
        if roll < ROLE_UNKNOWN[role] + 0.02:
            answers.append(
                _answer(respondent, question.id, "not_applicable", None, None, comment, seq)
            )
            continue
        truth = TRUE_LEVELS.get(question.capability_id, 2)
        level = round(truth + ROLE_BIAS[role] + rng.gauss(0, 0.6))
        answers.append(
            _answer(respondent, question.id, "level", min(5, max(1, level)), None, comment, seq)
        )
    for fact in rubric.facts:
        if role not in fact.audience or fact.id not in FACT_VALUES:
            continue
        seq += 1
        value = FACT_VALUES[fact.id] * rng.uniform(0.8, 1.25)
        value = round(value) if fact.integer else round(value, 1)
        value = min(fact.maximum, max(fact.minimum, value))
        answers.append(_answer(respondent, fact.id, "number", None, float(value), "", seq))
    Answer.objects.bulk_create(answers)
    inputs_changed(assessment_ids=[respondent.assessment_id])


def _answer(
    respondent: Respondent,
    question_id: str,
    choice: str,
    level: int | None,
    number: float | None,
    comment: str,
    seq: int,
) -> Answer:
    return Answer(
        respondent=respondent,
        question_id=question_id,
        choice=choice,
        level=level,
        number=number,
        comment=comment,
        seq=seq,
        updated_at=respondent.last_answer_at or STARTED,
    )
