"""The workshop's pure rules: codes, states, the timer and the agreement summary."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assessments.workshops import core
from scoring.workshop import RoomVote

ROOT = Path(__file__).resolve().parents[2]


def test_core_imports_no_django() -> None:
    code = (
        "import sys, assessments.workshops.core; "
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_codes_have_six_characters_and_no_look_alikes() -> None:
    codes = {core.new_code() for _ in range(500)}
    assert len(codes) > 490
    for code in codes:
        assert len(code) == 6
        assert not set(code) & set("0O1IL2Z5S8B6GUVDQ")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ace fhj", "ACEFHJ"),
        ("ACE-FHJ", "ACEFHJ"),
        (" acefhj ", "ACEFHJ"),
        ("ACEFH0", None),
        ("ACE", None),
        ("", None),
    ],
)
def test_typed_codes_are_normalised_or_refused(typed: str, expected: str | None) -> None:
    assert core.normalise_code(typed) == expected


def test_states_allow_one_revote_and_agreement_only_after_reveal() -> None:
    assert core.opened_state(core.PENDING) == core.VOTING
    assert core.opened_state(core.AGREED) == core.AGREED  # revisited, not voted again
    with pytest.raises(core.WorkshopRuleError):
        core.check_agree(core.VOTING)
    core.check_revote(core.REVEALED, 1)
    with pytest.raises(core.WorkshopRuleError, match="already re-voted"):
        core.check_revote(core.REVEALED, 2)


def test_vote_refusals_say_why() -> None:
    ok = {
        "running": True,
        "is_current": True,
        "state": core.VOTING,
        "round_number": 1,
        "voted_round": 1,
    }
    assert core.vote_refusal(**ok) is None
    assert "paused" in (core.vote_refusal(**(ok | {"running": False})) or "")
    assert "closed" in (core.vote_refusal(**(ok | {"is_current": False})) or "")
    assert "revealed" in (core.vote_refusal(**(ok | {"state": core.REVEALED})) or "")
    assert "again" in (core.vote_refusal(**(ok | {"round_number": 2})) or "")


def test_timer_stops_while_paused_and_runs_over() -> None:
    start = datetime(2026, 1, 1, 10, tzinfo=UTC)
    running = core.timer_state(
        limit_seconds=300, elapsed_before=60, started_at=start, now=start + timedelta(seconds=30)
    )
    assert running.remaining_seconds == 210 and running.text == "3:30"
    stopped = core.timer_state(
        limit_seconds=300, elapsed_before=90, started_at=None, now=start + timedelta(days=2)
    )
    assert stopped.remaining_seconds == 210 and not stopped.running
    over = core.timer_state(limit_seconds=60, elapsed_before=95, started_at=None, now=start)
    assert over.over and over.text == "+0:35"


def test_agreement_summary_counts_who_voted_away_by_role_group() -> None:
    votes = [RoomVote(f"e{i}", "engineering", "level", lvl) for i, lvl in enumerate([3, 3, 4, 2])]
    votes += [RoomVote("l1", "leadership", "level", 5)]
    summary = core.agreement_summary(votes, 3)
    assert (summary.at_level, summary.higher, summary.lower) == (2, 2, 1)
    assert [(g.group, g.higher, g.lower) for g in summary.groups] == [("engineering", 1, 1)]
    assert summary.hidden_voters == 1
    assert summary.text == "2 of 5 voted 3, 2 higher, 1 lower."
    assert core.suggested_level(votes) == 3
