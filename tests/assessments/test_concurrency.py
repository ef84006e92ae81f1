"""Answers are never lost or doubled under real concurrency.

These tests use real threads with their own database connections against the configured
database (SQLite by default; CI runs the suite again on PostgreSQL), released together by a
barrier so the requests genuinely overlap.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from assessments import services
from assessments.models import Answer, Respondent
from tests.factories import invite, make_assessment, make_org

pytestmark = pytest.mark.django_db(transaction=True)


def _run_together(jobs: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(index: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = job()
        except BaseException as exc:  # re-raised in the main thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


def _setup() -> tuple[Respondent, str, str]:
    assessment = make_assessment(make_org("Concurrent Ltd"))
    respondent, token = invite(assessment, role="engineering")
    qid = assessment.rubric.questions_for("engineering")[0].id
    return respondent, token, qid


def _client_for(token: str) -> Client:
    client = Client()
    client.get(reverse("survey:redeem", args=[token]))
    return client


def test_concurrent_autosaves_keep_one_row_with_the_newest_answer() -> None:
    respondent, token, qid = _setup()
    url = reverse("survey:answer", args=[respondent.pk])
    clients = [_client_for(token) for _ in range(8)]
    seqs = list(range(1001, 1009))
    random.Random(7).shuffle(seqs)

    def save(client: Client, seq: int) -> int:
        level = seq % 5 + 1
        response = client.post(url, {"question": qid, f"q-{qid}": str(level), "seq": str(seq)})
        return response.status_code

    statuses = _run_together(
        [lambda c=c, s=s: save(c, s) for c, s in zip(clients, seqs, strict=True)]
    )
    assert statuses == [200] * 8
    answers = list(Answer.objects.filter(respondent=respondent, question_id=qid))
    assert len(answers) == 1
    assert answers[0].seq == 1008
    assert answers[0].level == 1008 % 5 + 1


def test_two_tabs_racing_edits_end_with_the_latest_edit() -> None:
    respondent, token, qid = _setup()
    tab_a, tab_b = _client_for(token), _client_for(token)
    url = reverse("survey:answer", args=[respondent.pk])

    # Tab A sends odd sequence numbers, tab B even ones, each in its own thread, 20 edits each.
    def edits(client: Client, parity: int) -> None:
        for n in range(20):
            seq = 10_000 + 2 * n + parity
            client.post(url, {"question": qid, f"q-{qid}": str(seq % 5 + 1), "seq": str(seq)})

    _run_together([lambda: edits(tab_a, 0), lambda: edits(tab_b, 1)])
    answer = Answer.objects.get(respondent=respondent, question_id=qid)
    assert answer.seq == 10_039
    assert answer.level == 10_039 % 5 + 1


def test_concurrent_submits_produce_exactly_one_submission() -> None:
    respondent, token, qid = _setup()
    services.answer_save(respondent=respondent, question_id=qid, value="3", comment="", seq=1)

    def submit() -> bool:
        return services.respondent_submit(respondent=Respondent.objects.get(pk=respondent.pk))

    results = _run_together([submit for _ in range(8)])
    assert results.count(True) == 1
    respondent.refresh_from_db()
    assert respondent.status == Respondent.Status.SUBMITTED


def test_double_clicked_submit_over_http_is_one_submission() -> None:
    respondent, token, qid = _setup()
    services.answer_save(respondent=respondent, question_id=qid, value="3", comment="", seq=1)
    clients = [_client_for(token) for _ in range(4)]
    url = reverse("survey:submit", args=[respondent.pk])
    statuses = _run_together([lambda c=c: c.post(url).status_code for c in clients])
    assert statuses == [302] * 4
    respondent.refresh_from_db()
    assert respondent.status == Respondent.Status.SUBMITTED
    stamps = set(Respondent.objects.filter(pk=respondent.pk).values_list("submitted_at", flat=True))
    assert len(stamps) == 1
