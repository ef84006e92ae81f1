"""Score 10,000 respondents on the full shipped rubric: time and peak memory; and load the
answers from the database at 2,000 and 10,000 respondents, as the app does before scoring.

Usage: .venv/bin/python benchmarks/scoring.py [--respondents N] [--runs K] [--load 2000,10000]

Times are the median of K runs of the whole `score_assessment` call (answers already in a
DataFrame, as the app's adapter hands them over); peak memory is measured in a separate run
under tracemalloc so its overhead does not distort the timing. Target here: under 1 s and
under 300 MB for 10,000 respondents.

load_<N>_seconds: median of K runs of `reports.services.answers_frame` (the query of submitted,
counted answers and the DataFrame built from it) on N submitted respondents in a throwaway
SQLite database under a temporary folder (--load "" skips it). Views no longer pay this when
the result is cached (benchmarks/results_page.py); a result computed afresh does.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scoring.engine import score_assessment  # noqa: E402
from scoring.rubric import get_rubric  # noqa: E402

# How an organisation's respondents split by role; normalised over the roles the rubric asks
# (version 1 asks no security people), so a rubric that adds a role keeps the benchmark running.
ROLE_SHARE = {
    "leadership": 0.15,
    "engineering": 0.55,
    "operations": 0.2,
    "product": 0.1,
    "security": 0.05,
}
# 6 % "don't know" and 2 % "not applicable" among level questions.
FACT_ANSWER_SHARE = 0.7


def build_answers(n: int, seed: int = 2026, version: int = 1) -> pd.DataFrame:
    """Answers of `n` submitted respondents to every question of their role in the given
    version of the rubric (the version an assessment is pinned to decides which ids it takes)."""
    rubric = get_rubric("operationalization", version)
    rng = np.random.default_rng(seed)
    audiences = rubric.audiences
    shares = np.array([ROLE_SHARE[role] for role in audiences])
    roles = rng.choice(audiences, size=n, p=shares / shares.sum())
    frames = []
    for role in audiences:
        ids = np.flatnonzero(roles == role)
        questions = [q.id for q in rubric.questions_for(role)]
        if not len(ids) or not questions:
            continue
        respondent = np.repeat(ids, len(questions))
        question = np.tile(questions, len(ids))
        roll = rng.random(len(respondent))
        choice = np.where(
            roll < 0.06, "dont_know", np.where(roll < 0.08, "not_applicable", "level")
        )
        level = np.where(choice == "level", rng.integers(1, 6, len(respondent)), np.nan)
        frames.append(
            pd.DataFrame(
                {
                    "respondent_id": respondent.astype(str),
                    "role": role,
                    "question_id": question,
                    "choice": choice,
                    "level": level,
                    "number": np.nan,
                }
            )
        )
        facts = [f for f in rubric.facts if role in f.audience]
        for fact in facts:
            # About 70 % of those asked give a number; the rest skip the question.
            who = ids[rng.random(len(ids)) < FACT_ANSWER_SHARE]
            value = rng.uniform(fact.minimum, min(fact.maximum, fact.minimum + 200), len(who))
            if fact.integer:
                value = np.round(value)
            frames.append(
                pd.DataFrame(
                    {
                        "respondent_id": who.astype(str),
                        "role": role,
                        "question_id": fact.id,
                        "choice": "number",
                        "level": np.nan,
                        "number": value,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--respondents", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--load", default="2000,10000")
    parser.add_argument("--rubric-version", type=int, default=1)
    args = parser.parse_args()
    rubric = get_rubric("operationalization", args.rubric_version)
    answers = build_answers(args.respondents, version=args.rubric_version)
    now = datetime(2026, 11, 28, tzinfo=UTC)
    score_assessment(rubric=rubric, answers=answers.head(1000), now=now)  # warm imports and caches
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        result = score_assessment(rubric=rubric, answers=answers, now=now)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    score_assessment(rubric=rubric, answers=answers, now=now)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    seconds = statistics.median(times)
    print(f"answers={len(answers)} respondents={result.respondents} runs={args.runs}")
    print(f"times: {', '.join(f'{t:.3f}' for t in times)} (median {seconds:.3f} s)")
    loads = _load_seconds([int(n) for n in args.load.split(",") if n.strip()], args.runs)
    extra = "".join(f" load_{n}_seconds={t:.3f}" for n, t in loads.items())
    print(
        f"RESULT respondents={args.respondents} seconds={seconds:.3f} "
        f"peak_mb={peak / 2**20:.0f}{extra}"
    )


def _load_seconds(sizes: list[int], runs: int) -> dict[int, float]:
    if not sizes:
        return {}
    from benchmarks.results_page import seed_respondents, setup_django

    setup_django()
    from assessments.models import Organisation
    from reports.services import answers_frame
    from tests.factories import make_assessment

    org = Organisation.objects.create(name="Bench")
    loads = {}
    for n in sizes:
        assessment = make_assessment(org, title=f"{n} respondents")
        start = time.perf_counter()
        rows = seed_respondents(assessment, n)
        seeded = time.perf_counter() - start
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            frame = answers_frame(assessment)
            times.append(time.perf_counter() - start)
        assert len(frame) == rows, (len(frame), rows)
        loads[n] = statistics.median(times)
        print(
            f"load {n} respondents ({rows} answers, seeded in {seeded:.1f} s): "
            + ", ".join(f"{t:.3f}" for t in times)
            + f" (median {loads[n]:.3f} s)"
        )
    return loads


if __name__ == "__main__":
    main()
