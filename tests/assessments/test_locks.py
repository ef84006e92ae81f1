"""The locks that keep answers final after a submission, each tested so that removing it fails.

The concurrency tests in test_concurrency.py show that racing writes end well; they pass with
or without the respondent row lock, because their writers never race a submission. Here:

- deterministic twins: a submission holds its transaction open while an autosave, a page post
  or a second submit arrives; the test waits until the newcomer is blocked (PostgreSQL:
  `pg_stat_activity` shows it waiting on a lock) before the submission commits, so without
  the lock the newcomer writes straight past it, every time;
- a stale-object submit, which needs no threads at all;
- a contended race on real threads (autosaves hammering while the submit lands), which on
  PostgreSQL catches a removed lock in most runs, and with the twins above in every run.

On SQLite every transaction takes the database's write lock when it begins (IMMEDIATE), so
the same tests pass there for that reason; CI's second run is on PostgreSQL, where the row
locks are what holds.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from assessments import services
from assessments.models import Answer, Respondent
from tests.factories import invite, make_assessment, make_org

pytestmark = pytest.mark.django_db(transaction=True)


def _setup(questions: int = 1) -> tuple[Respondent, list[str]]:
    assessment = make_assessment(make_org("Locks Ltd"))
    respondent, _token = invite(assessment, role="engineering")
    qids = [q.id for q in assessment.rubric.questions_for("engineering")[:questions]]
    for qid in qids:
        services.answer_save(respondent=respondent, question_id=qid, value="3", comment="", seq=1)
    return respondent, qids


def _waiting_on_a_lock() -> bool:
    """Another session of this test database is blocked on a lock (PostgreSQL only)."""
    with connection.cursor() as cursor:
        # Statistics views are read once per transaction unless the snapshot is cleared.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return bool(cursor.fetchone()[0])


def _hold_until_blocked(newcomer: threading.Thread) -> None:
    """Keep the current transaction open until the newcomer waits on it, or has finished
    (which, where a lock should have held it, is the failure the test then reports)."""
    deadline = time.monotonic() + 10
    while newcomer.is_alive() and time.monotonic() < deadline:
        if connection.vendor == "postgresql":
            if _waiting_on_a_lock():
                return
        elif time.monotonic() > deadline - 9.7:
            return  # SQLite: the newcomer cannot even begin while this transaction writes
        time.sleep(0.01)


def _submit_holding_the_transaction(respondent: Respondent, newcomer: Callable[[], Any]) -> Any:
    """Submit inside a transaction that stays open until `newcomer` (run in its own thread
    once the submission holds its locks) is blocked; return what the newcomer returned or
    raised."""
    started = threading.Event()
    outcome: dict[str, Any] = {}

    def run() -> None:
        started.wait(10)
        try:
            outcome["value"] = newcomer()
        except BaseException as exc:
            outcome["value"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    with transaction.atomic():
        assert services.respondent_submit(respondent=respondent)
        started.set()
        _hold_until_blocked(thread)
    thread.join(30)
    assert not thread.is_alive()
    return outcome["value"]


def test_an_autosave_arriving_during_the_submission_waits_for_it_and_is_refused() -> None:
    respondent, (qid,) = _setup()
    stale = Respondent.objects.get(pk=respondent.pk)

    def autosave() -> Any:
        return services.answer_save(
            respondent=stale, question_id=qid, value="5", comment="late", seq=2
        )

    outcome = _submit_holding_the_transaction(respondent, autosave)
    assert isinstance(outcome, services.SurveyClosedError), outcome
    answer = Answer.objects.get(respondent=respondent, question_id=qid)
    assert (answer.level, answer.comment, answer.seq) == (3, "", 1)


def test_a_page_post_arriving_during_the_submission_waits_for_it_and_is_refused() -> None:
    respondent, qids = _setup(questions=2)
    stale = Respondent.objects.get(pk=respondent.pk)

    def page_post() -> Any:
        posted = dict.fromkeys(qids, ("5", "late"))
        return services.answers_save_page(respondent=stale, posted=posted, seq=2)

    outcome = _submit_holding_the_transaction(respondent, page_post)
    assert isinstance(outcome, services.SurveyClosedError), outcome
    assert set(
        Answer.objects.filter(respondent=respondent).values_list("level", "comment", "seq")
    ) == {(3, "", 1)}


def test_a_second_submit_arriving_during_the_first_changes_nothing() -> None:
    respondent, _qids = _setup()
    stale = Respondent.objects.get(pk=respondent.pk)
    later = timezone.now() + timezone.timedelta(hours=1)

    outcome = _submit_holding_the_transaction(
        respondent, lambda: services.respondent_submit(respondent=stale, now=later)
    )
    assert outcome is False
    respondent.refresh_from_db()
    assert respondent.submitted_at is not None and respondent.submitted_at < later


def test_a_submit_through_a_stale_object_is_not_a_second_submission() -> None:
    respondent, _qids = _setup()
    stale = Respondent.objects.get(pk=respondent.pk)  # loaded before the first submit
    assert services.respondent_submit(respondent=respondent)
    first = Respondent.objects.get(pk=respondent.pk).submitted_at
    assert not stale.is_submitted
    later = timezone.now() + timezone.timedelta(hours=1)
    assert services.respondent_submit(respondent=stale, now=later) is False
    assert Respondent.objects.get(pk=respondent.pk).submitted_at == first


def test_an_autosave_through_a_stale_object_after_submission_is_refused() -> None:
    respondent, (qid,) = _setup()
    stale = Respondent.objects.get(pk=respondent.pk)
    assert services.respondent_submit(respondent=respondent)
    with pytest.raises(services.SurveyClosedError):
        services.answer_save(respondent=stale, question_id=qid, value="5", comment="", seq=9)
    assert Answer.objects.get(respondent=respondent, question_id=qid).level == 3


def _hammer(respondent_id: Any, qid: str, counter: Any, guard: Any, start: Any, stop: Any) -> None:
    """Autosave `qid` with ever higher sequence numbers until `stop`; refusals are expected."""
    start.wait(10)
    writer = Respondent.objects.get(pk=respondent_id)
    try:
        while not stop.is_set():
            with guard:
                seq = next(counter)
            with contextlib.suppress(services.SurveyClosedError):
                services.answer_save(
                    respondent=writer,
                    question_id=qid,
                    value=str(seq % 5 + 1),
                    comment=f"edit {seq}",
                    seq=seq,
                )
    finally:
        connection.close()


def _answers_of(respondent: Respondent) -> set[tuple[str, int]]:
    return set(Answer.objects.filter(respondent=respondent).values_list("question_id", "seq"))


@pytest.mark.parametrize("round_", range(3))
def test_answers_stay_as_submitted_while_autosaves_hammer_the_submission(round_: int) -> None:
    """Real threads: autosaves keep arriving before, during and after the submit. Whatever
    the submission saw is what stays; every later autosave is refused."""
    respondent, qids = _setup(questions=4)
    start, stop, guard = threading.Barrier(7), threading.Event(), threading.Lock()
    counter = iter(range(10, 10**9))
    threads = [
        threading.Thread(
            target=_hammer, args=(respondent.pk, qids[i % 4], counter, guard, start, stop)
        )
        for i in range(6)
    ]
    for thread in threads:
        thread.start()
    start.wait(10)
    time.sleep(0.15)
    assert services.respondent_submit(respondent=Respondent.objects.get(pk=respondent.pk))
    submitted = _answers_of(respondent)
    time.sleep(0.3)
    stop.set()
    for thread in threads:
        thread.join(30)
    assert _answers_of(respondent) == submitted, "answers changed after the submission"
