"""The results page as a user waits for it, with 12 and with 2,000 respondents (the result
already cached), beside a trivial view (/healthz) served by the same process, in one run.

Usage: .venv/bin/python benchmarks/results_page.py [--rounds K] [--requests N] [--large M]

(--large changes the 2,000 of the large page; its figures are then named ms_M and
ratio_M_vs_12.)

Whole requests through Django's test client (middleware, session, access check, the cached
result lookup, presenting, template), in a throwaway SQLite database under a temporary folder.
Each round requests the three URLs N times each, in an order that rotates from round to round
(paired: load from elsewhere on this shared machine hits all three alike); per round the
median of each is taken, and the figures printed are medians over the rounds:

- ms_12, ms_2000: the results page with 12 and with 2,000 submitted respondents;
- ratio_2000_vs_12: median of the per-round ratios (target: at most 1.2; the page must not
  grow with answers it does not need to read);
- ratio_vs_trivial: median of the per-round ratios of ms_12 to /healthz.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django() -> None:
    """A throwaway SQLite database (and media folder) under a temporary folder, migrated."""
    workdir = tempfile.mkdtemp(prefix="opready-bench-")
    os.environ.update({"OPREADY_VAR_DIR": workdir, "DJANGO_SETTINGS_MODULE": "config.settings"})
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed_respondents(assessment: Any, respondents: int, seed: int = 2026) -> int:
    """`respondents` submitted respondents with answers to every question of their role (the
    scoring benchmark's generator), written in bulk. Returns the number of answers."""
    from django.db import transaction

    from assessments.models import Answer, Respondent
    from benchmarks.scoring import build_answers

    frame = build_answers(respondents, seed=seed, version=assessment.rubric_version)
    when = datetime(2026, 11, 20, tzinfo=UTC)
    roles = frame.drop_duplicates("respondent_id").set_index("respondent_id")["role"]
    people = {
        rid: Respondent(
            assessment=assessment,
            role=role,
            status=Respondent.Status.SUBMITTED,
            started_at=when,
            submitted_at=when,
        )
        for rid, role in roles.items()
    }
    with transaction.atomic():
        Respondent.objects.bulk_create(people.values(), batch_size=1000)
        rows = (
            Answer(
                respondent=people[rid],
                question_id=qid,
                choice=choice,
                level=None if level != level else int(level),
                number=None if number != number else float(number),
                seq=1,
            )
            for rid, qid, choice, level, number in frame[
                ["respondent_id", "question_id", "choice", "level", "number"]
            ].itertuples(index=False)
        )
        Answer.objects.bulk_create(rows, batch_size=2000)
    return len(frame)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--large", type=int, default=2000, help="respondents of the large page")
    args = parser.parse_args()
    large_n = args.large
    setup_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import reverse

    from assessments.models import Membership
    from reports import services
    from tests.factories import add_member, make_assessment, make_org, make_user

    setup_test_environment()
    owner = make_user("owner")
    org = make_org("Bench Org")
    add_member(owner, org, Membership.Role.OWNER)
    small = make_assessment(org, title="Twelve")
    large = make_assessment(org, title=f"{large_n} respondents")
    answers_small = seed_respondents(small, 12)
    answers_large = seed_respondents(large, large_n)
    client = Client()
    client.force_login(owner)
    urls = {
        "trivial": reverse("healthz"),
        "12": reverse("reports:results", args=[small.pk]),
        "large": reverse("reports:results", args=[large.pk]),
    }
    for url in urls.values():  # compute and cache both results and their charts
        assert client.get(url).status_code == 200, url
    scored: list[int] = []
    real_score = services.score_assessment
    services.score_assessment = lambda **kw: scored.append(1) or real_score(**kw)  # type: ignore[assignment]
    queries = {}
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        queries[name] = len(captured)

    def timed(url: str) -> float:
        start = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, (url, response.status_code)
        return elapsed

    names = list(urls)
    per_round: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(args.rounds):
        order = names[round_ % 3 :] + names[: round_ % 3]
        samples: dict[str, list[float]] = {name: [] for name in names}
        for _ in range(args.requests):
            for name in order:
                samples[name].append(timed(urls[name]))
        for name in names:
            per_round[name].append(statistics.median(samples[name]))
    assert not scored, "a cached result was scored again"
    ms = {name: statistics.median(values) for name, values in per_round.items()}
    ratio_large = statistics.median(
        b / a for a, b in zip(per_round["12"], per_round["large"], strict=True)
    )
    ratio_trivial = statistics.median(
        a / t for a, t in zip(per_round["12"], per_round["trivial"], strict=True)
    )
    print(f"answers: 12 respondents {answers_small}, {large_n} respondents {answers_large}")
    print("queries per request: " + ", ".join(f"{k}={v}" for k, v in queries.items()))
    for name in names:
        print(f"{name:>8} ms per round: " + ", ".join(f"{t:.1f}" for t in per_round[name]))
    print(
        f"RESULT ms_12={ms['12']:.1f} ms_{large_n}={ms['large']:.1f} "
        f"ratio_{large_n}_vs_12={ratio_large:.2f} ratio_vs_trivial={ratio_trivial:.1f}"
    )


if __name__ == "__main__":
    main()
