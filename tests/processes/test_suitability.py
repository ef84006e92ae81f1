"""Suitability and ranking on hand-made catalogues: the order a consultant would expect."""

from __future__ import annotations

import math

import pytest

from assessments.processes.core.suitability import (
    GateView,
    ProcessFacts,
    RoadmapRef,
    StepFacts,
    Unmet,
    assess,
    coverage,
    rank,
)

API = StepFacts("Do it", "Jira", "yes")

# A well-described, checked, reversible, frequent process: the textbook first pilot.
DEPENDENCY_UPDATES = ProcessFacts(
    key="deps",
    name="Dependency updates",
    steps=(
        StepFacts("Open update", "GitHub", "yes"),
        StepFacts("Run tests", "GitHub Actions", "yes"),
    ),
    runs_per_week=40,
    minutes_per_run=20,
    error_rate=0.02,
    verification="automated",
    reversibility="reversible",
    blast_radius=1,
    documented=True,
    recording="trace",
    trigger="Renovate opens a PR",
    outcome="Merged update",
    owner="Platform team",
)
# Valuable but risky: customer money, cannot be undone, a person signs off.
REFUNDS = ProcessFacts(
    key="refunds",
    name="Customer refunds",
    steps=(
        StepFacts("Check claim", "Zendesk", "yes"),
        StepFacts("Pay out", "SAP", "no", decides=True),
    ),
    runs_per_week=60,
    minutes_per_run=30,
    error_rate=0.08,
    verification="sign_off",
    reversibility="irreversible",
    blast_radius=4,
    documented=True,
)
# Nothing known: should rank last and start with a recording.
UNKNOWN = ProcessFacts(key="x", name="Month-end close")


def test_factors_by_hand() -> None:
    s = assess(DEPENDENCY_UPDATES)
    values = {f.id: f.value for f in s.factors}
    assert values["specified"] == pytest.approx(1.0)
    assert values["verifiable"] == 1.0
    assert values["reachable"] == 1.0
    assert values["reversible"] == 1.0
    assert values["low_blast_radius"] == 1.0
    assert values["volume"] == pytest.approx(math.log1p(40) / math.log1p(100), abs=1e-4)
    assert s.value_minutes == 800
    assert s.risk == pytest.approx(1 * 1 * 0.02)
    suitability = 100 * sum(values.values()) / 6
    assert s.suitability == pytest.approx(suitability, abs=0.01)
    expected = suitability / 100 * (800 / 1400) / 1.02 * 100
    assert s.pilot_score == pytest.approx(expected, abs=0.01)


def test_risk_uses_blast_radius_irreversibility_and_error_rate() -> None:
    s = assess(REFUNDS)
    assert s.risk == pytest.approx(4 * 3 * 0.08)
    assert "blast radius 4 x irreversibility 3" in s.risk_explanation
    unknown = assess(UNKNOWN)
    assert unknown.risk == pytest.approx(2 * 2 * 0.10)
    assert "not known" in unknown.risk_explanation


def test_reachable_mixes_api_answers_and_names_the_systems() -> None:
    p = ProcessFacts(
        key="r",
        name="r",
        steps=(
            StepFacts("a", "Okta", "yes"),
            StepFacts("b", "Workday", "no"),
            StepFacts("c", "Excel"),
        ),
    )
    f = assess(p).factor("reachable")
    assert f.value == pytest.approx((1 + 0 + 0.5) / 3, abs=1e-4)
    assert "Okta" in f.explanation and "no usable API: Workday" in f.explanation


def test_ranking_puts_the_safe_frequent_checked_process_first() -> None:
    order = [i.suitability.key for i in rank([UNKNOWN, REFUNDS, DEPENDENCY_UPDATES])]
    # Refunds save more hours but a mistake pays out money that cannot be recalled.
    assert order == ["deps", "refunds", "x"]


def test_value_alone_does_not_win_over_safety() -> None:
    huge_risky = ProcessFacts(
        key="big",
        name="Big",
        steps=(API, API),
        runs_per_week=500,
        minutes_per_run=60,
        error_rate=0.2,
        verification="none",
        reversibility="irreversible",
        blast_radius=3,
    )
    order = [i.suitability.key for i in rank([huge_risky, DEPENDENCY_UPDATES])]
    assert order == ["deps", "big"]


def test_ties_break_by_value_then_name() -> None:
    a = ProcessFacts(key="a", name="Bravo")
    b = ProcessFacts(key="b", name="Alpha")
    assert [i.suitability.name for i in rank([a, b])] == ["Alpha", "Bravo"]


LADDER = (
    GateView("suggest-only", "Suggest only", True),
    GateView(
        "pull-requests-with-review",
        "Agents open pull requests, a human reviews every one",
        False,
        (("rev.policy-ownership", 2, 3), ("int.agent-identity", None, 3)),
    ),
    GateView("auto", "Auto-merge", False, (("rev.policy-ownership", 2, 4),)),
)


def test_gate_and_blockers_come_from_the_ladder_and_link_the_roadmap() -> None:
    roadmap = [
        RoadmapRef(3, "rec.rev.codeowners", "Enforce code owners", "rev.policy-ownership"),
        RoadmapRef(7, "rec.int.ids", "Agent identities", "int.agent-identity"),
    ]
    titles = {"rev.policy-ownership": "Review policy", "int.agent-identity": "Agent identity"}
    items = rank(
        [DEPENDENCY_UPDATES, REFUNDS], ladder=LADDER, capability_titles=titles, roadmap=roadmap
    )
    deps = next(i for i in items if i.suitability.key == "deps")
    assert deps.mode == "reviewed" and deps.gate is not None
    assert deps.gate.id == "pull-requests-with-review"
    # Cumulative up to the reviewed step only: the auto-merge step's level 4 is not asked.
    assert [(b.capability_id, b.required) for b in deps.blockers] == [
        ("rev.policy-ownership", 3),
        ("int.agent-identity", 3),
    ]
    assert deps.blockers[0].roadmap[0].position == 3
    assert deps.first_step_kind == "unblock"
    assert (
        "Review policy" in deps.first_step and "(roadmap: Enforce code owners)" in deps.first_step
    )
    refunds = next(i for i in items if i.suitability.key == "refunds")
    assert refunds.mode == "suggest" and refunds.gate is not None
    assert refunds.gate.id == "suggest-only" and refunds.blockers == ()


def test_gate_requirements_that_are_not_levels_block_the_pilot_too() -> None:
    """Question minimums, scan evidence, review headroom and a track record hold a pilot back
    as surely as a level does; each is named and linked to the roadmap work that meets it."""
    review_gate = GateView(
        "pull-requests-with-review",
        "Agents open pull requests, a human reviews every one",
        False,
        (),
        (
            Unmet(
                "answer",
                "int.agent-security",
                "int.agent-security.untrusted-input",
                "answers to \u201cWhat may an agent do?\u201d at level 3 (now 2)",
            ),
            Unmet(
                "evidence",
                "rev.policy-ownership",
                "github.branch-protection",
                "scan evidence github.branch-protection found (absent)",
            ),
            Unmet(
                "review",
                "rev.flow-capacity",
                "",
                "review utilisation at the planned agent volume at most 80% (now 95%)",
            ),
            Unmet(
                "track-record",
                "dep.ai-governance",
                "fact.months-at-current-autonomy",
                "\u201cMonths at this step\u201d at least 3 (now 1)",
            ),
        ),
    )
    ladder = (GateView("suggest-only", "Suggest only", True), review_gate)
    roadmap = [
        RoadmapRef(1, "rec.int.limit-untrusted-runs", "Limit untrusted runs", "int.agent-security"),
        RoadmapRef(2, "rec.rev.enforce-human-review", "Enforce review", "rev.policy-ownership"),
        RoadmapRef(4, "rec.rev.plan-review-capacity", "Plan review capacity", "rev.flow-capacity"),
        RoadmapRef(5, "rec.dep.agent-register", "Agent register", "dep.ai-governance"),
    ]
    (deps,) = rank([DEPENDENCY_UPDATES], ladder=ladder, roadmap=roadmap)
    assert [(b.kind, b.label.split(" (now")[0]) for b in deps.blockers] == [
        ("answer", "answers to \u201cWhat may an agent do?\u201d at level 3"),
        ("evidence", "scan evidence github.branch-protection found (absent)"),
        ("review", "review utilisation at the planned agent volume at most 80%"),
        ("track-record", "\u201cMonths at this step\u201d at least 3"),
    ]
    assert [[r.position for r in b.roadmap] for b in deps.blockers] == [[1], [2], [4], []]
    assert deps.first_step_kind == "unblock"
    assert deps.first_step == (
        "Meet the gate's requirement: answers to \u201cWhat may an agent do?\u201d at level 3 "
        "(now 2) (roadmap: Limit untrusted runs)."
    )


def test_without_gates_there_is_no_gate_column() -> None:
    (item,) = rank([DEPENDENCY_UPDATES])
    assert item.gate is None and item.blockers == ()
    assert item.first_step_kind == "pilot"


@pytest.mark.parametrize(
    ("facts", "kind", "words"),
    [
        (UNKNOWN, "record", "Record one run"),
        (ProcessFacts(key="s", name="S", documented=True), "steps", "Write down the steps"),
        (
            ProcessFacts(key="c", name="C", documented=True, steps=(API, API), verification="none"),
            "check",
            "Write the acceptance check",
        ),
        (
            ProcessFacts(
                key="a",
                name="A",
                documented=True,
                steps=(API, StepFacts("Book it", "SAP", "no")),
                verification="automated",
            ),
            "access",
            "Give the agent API access to SAP",
        ),
    ],
)
def test_first_step(facts: ProcessFacts, kind: str, words: str) -> None:
    (item,) = rank([facts])
    assert item.first_step_kind == kind
    assert words in item.first_step


def test_why_names_strengths_and_what_holds_back() -> None:
    (item,) = rank([REFUNDS])
    assert "held back by" in item.why and "irreversibility" in item.why
    assert "hours of work a week" in item.why


def test_coverage_counts() -> None:
    cov = coverage([DEPENDENCY_UPDATES, REFUNDS, UNKNOWN])
    assert (cov.processes, cov.with_owner, cov.written_down, cov.verifiable, cov.steps_known) == (
        3,
        1,
        2,
        1,
        2,
    )


@pytest.mark.parametrize(
    ("blast", "words"),
    [
        (1, "strong on low blast radius (a mistake reaches one person or team)"),
        (3, "held back by a wide blast radius (a mistake reaches customers or partners)"),
        (4, "held back by a wide blast radius (a mistake reaches money, legal or safety)"),
    ],
)
def test_the_blast_radius_is_worded_as_it_is(blast: int, words: str) -> None:
    """A wide blast radius holds a process back; "held back by low blast radius" said the
    opposite of the value. Blast radius 2 (several teams) is neither strong nor weak."""
    facts = ProcessFacts(
        key="k",
        name="Invoice matching",
        steps=(StepFacts("Match", "SAP", "unknown"),),
        runs_per_week=10,
        minutes_per_run=10,
        verification="checklist",
        documented=True,
        blast_radius=blast,
    )
    (item,) = rank([facts])
    assert words in item.why
    assert "held back by low blast radius" not in item.why
    two = rank([ProcessFacts(key="k", name="Invoice matching", blast_radius=2)])[0].why
    assert "blast radius (a mistake" not in two
