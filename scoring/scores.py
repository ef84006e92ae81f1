"""Answers to scores: capability, dimension and overall readiness, confidence, perception gaps.

Vectorised with pandas: answers are grouped once by (capability, respondent) and everything
else is aggregated from those groups, so 10,000 respondents score in well under a second.
Formulas and the reasons for each choice: docs/methodology.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

import numpy as np
import pandas as pd

from scoring.errors import ScoringInputError
from scoring.rubric import AUDIENCES, Question, Rubric

COLUMNS = ("respondent_id", "role", "question_id", "choice", "level", "number")
CHOICES = ("level", "dont_know", "not_applicable", "number", "none")
UNKNOWN_CHOICES = ("dont_know", "not_applicable")

# A respondent group smaller than this is merged or dropped, so nobody can be singled out.
MIN_GROUP = 3
# A perception gap is flagged from one full level between role groups.
GAP_THRESHOLD = 1.0
# Respondents per capability at which the count no longer limits confidence: with five, one
# outlier cannot move the median past its neighbours, and every role group can reach three.
FULL_RESPONDENTS = 5
# The uniform-null variance of a 5-point scale, (A^2 - 1) / 12 with A = 5 (James et al. rwg).
UNIFORM_VARIANCE = 2.0
# One level = 25 points; readiness may exceed the weakest dimension by at most one level.
POINTS_PER_LEVEL = 25.0


def level_to_score(level: float) -> float:
    """Level 1..5 to score 0..100: (L - 1) / 4 x 100."""
    return (level - 1.0) / 4.0 * 100.0


def score_to_level(score: float) -> int:
    """The level fully reached: 0-24.99 is level 1, 25-49.99 level 2 ... 100 is level 5."""
    return min(5, 1 + math.floor(score / POINTS_PER_LEVEL + 1e-9))


def score_to_exact_level(score: float) -> float:
    """Score 0..100 to the exact level 1..5 (1 + score / 25)."""
    return 1.0 + score / POINTS_PER_LEVEL


def shown_level(exact_level: float) -> Decimal:
    """A level as every page, badge, sentence and export prints it: one decimal, rounded
    down, so a printed 3.0 means level 3 is reached and a level below a threshold never
    prints as the threshold (3.96 is 3.9, not 4.0). The value is first settled to six
    decimals, so 1 + 50 / 25 computed as 2.9999999999 still prints 3.0."""
    settled = Decimal(repr(float(exact_level))).quantize(Decimal("0.000001"), ROUND_HALF_EVEN)
    return settled.quantize(Decimal("0.1"), rounding=ROUND_FLOOR)


def level_text(exact_level: float | None, *, missing: str = "not assessed") -> str:
    """The one way a level is written: "2.8" (see shown_level); `missing` without one."""
    if exact_level is None:
        return missing
    return f"{shown_level(exact_level):f}"


# The label is capped by head count whatever the value: "high" needs at least this many
# respondents (the count at which one outlier can no longer move the median past its
# neighbours), "medium" at least MIN_GROUP (three, the smallest group a report shows).
HIGH_CONFIDENCE_RESPONDENTS = FULL_RESPONDENTS
MEDIUM_CONFIDENCE_RESPONDENTS = MIN_GROUP


def confidence_label(value: float, respondents: int | None = None) -> str:
    """high from 0.7, medium from 0.45, low below; with `respondents`, never higher than the
    head count allows: high needs five or more, medium three or more, so two or three people
    who happen to agree never read as "high".

    0.7 is exactly what five or more respondents with no unknowns reach even when they
    disagree completely (0.4 + 0.3 + 0).
    """
    label = "high" if value >= 0.7 else "medium" if value >= 0.45 else "low"
    if respondents is None:
        return label
    if respondents < MEDIUM_CONFIDENCE_RESPONDENTS:
        return "low"
    if respondents < HIGH_CONFIDENCE_RESPONDENTS and label == "high":
        return "medium"
    return label


@dataclass(frozen=True)
class Prepared:
    """Validated answers with the rubric's structure attached.

    Identifier columns are categoricals (respondents in sorted order, questions and roles in
    rubric order), which keeps grouping fast and the row order canonical.
    """

    frame: pd.DataFrame  # all rows, with capability_id / dimension_id for question rows
    levels: pd.DataFrame  # level rows: respondent_id, role, question_id, capability_id, level
    per_respondent: pd.DataFrame  # one row per (capability, respondent): role, value (mean)


def prepare(*, rubric: Rubric, answers: pd.DataFrame) -> Prepared:
    """Validate answers against the rubric (ScoringInputError listing offending rows) and
    group them once for everything that follows."""
    frame = _validate(rubric, answers)
    # A canonical row order makes every float sum identical whatever order answers came in.
    respondent_codes = frame["respondent_id"].cat.codes.to_numpy()
    order = np.lexsort((frame["question_id"].cat.codes.to_numpy(), respondent_codes))
    frame = frame.iloc[order].reset_index(drop=True)
    capabilities = [c.id for c in rubric.capabilities]
    dimensions = [d.id for d in rubric.dimensions]
    capability_index = {cid: i for i, cid in enumerate(capabilities)}
    dimension_index = {did: i for i, did in enumerate(dimensions)}
    items = list(frame["question_id"].cat.categories)
    # Per item code: its capability / dimension code, -1 for fact questions. The items are the
    # rubric's questions, then its facts (`_validate`), whatever their ids look like: a
    # question of a capability named "fact.x" is still a question.
    cap_of = np.full(len(items) + 1, -1)
    dim_of = np.full(len(items) + 1, -1)
    for code, question in enumerate(rubric.questions):
        cap_of[code] = capability_index[question.capability_id]
        dim_of[code] = dimension_index[question.dimension_id]
    codes = frame["question_id"].cat.codes.to_numpy().astype(np.int64)
    frame["capability_id"] = pd.Categorical.from_codes(cap_of[codes], categories=capabilities)
    frame["dimension_id"] = pd.Categorical.from_codes(dim_of[codes], categories=dimensions)
    is_level = (frame["choice"] == "level").to_numpy()
    levels = frame.loc[is_level, ["respondent_id", "role", "question_id", "capability_id", "level"]]
    levels = levels.astype({"level": "float64"})
    per_respondent = (
        levels.groupby(["capability_id", "respondent_id", "role"], observed=True, sort=True)[
            "level"
        ]
        .mean()
        .rename("value")
        .reset_index()
    )
    return Prepared(frame, levels, per_respondent)


def _categorical(values: pd.Series, categories: list[str]) -> pd.Categorical:
    """Values as codes of known categories; unknown values become missing (code -1)."""
    codes = pd.Index(categories).get_indexer(values.astype(str))
    return pd.Categorical.from_codes(codes, categories=categories)


def _validate(rubric: Rubric, answers: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in COLUMNS if c not in answers.columns]
    if missing:
        raise ScoringInputError([f"answers lack the column(s): {', '.join(missing)}"])
    raw = answers.loc[:, list(COLUMNS)]
    question_ids = [q.id for q in rubric.questions]
    facts = {f.id: f for f in rubric.facts}
    frame = pd.DataFrame(
        {
            "respondent_id": pd.Categorical(raw["respondent_id"].astype(str)),
            "role": _categorical(raw["role"], list(AUDIENCES)),
            "question_id": _categorical(raw["question_id"], question_ids + list(facts)),
            "choice": _categorical(raw["choice"], list(CHOICES)),
            "level": pd.to_numeric(raw["level"], errors="coerce"),
            "number": pd.to_numeric(raw["number"], errors="coerce"),
        },
        index=raw.index,
    )
    problems: list[str] = []

    def report(mask: pd.Series | np.ndarray, message: str) -> None:
        for index, row in raw.loc[np.asarray(mask)].head(50).iterrows():
            problems.append(f"row {index}: {message.format(**row.to_dict())}")

    qcode = frame["question_id"].cat.codes.to_numpy().astype(np.int64)
    report(frame["role"].isna(), "unknown role {role!r}")
    report(frame["choice"].isna(), "unknown choice {choice!r}")
    known = qcode >= 0
    report(~known, "question {question_id!r} is not in rubric " + rubric.key)
    is_fact = qcode >= len(question_ids)
    is_question = known & ~is_fact
    is_level = (frame["choice"] == "level").to_numpy()
    report(is_level & is_fact, "{question_id!r} is a fact question and takes a number, not a level")
    bad_level = is_level & ~frame["level"].isin([1, 2, 3, 4, 5]).to_numpy()
    report(bad_level & is_question, "level {level!r} for {question_id!r} is outside 1-5")
    stray_level = ~is_level & frame["level"].notna().to_numpy()
    report(
        stray_level & frame["choice"].notna().to_numpy(),
        "{choice!r} for {question_id!r} cannot carry a level ({level!r})",
    )
    is_number = (frame["choice"] == "number").to_numpy()
    report(is_number & is_question, "{question_id!r} takes a level, not a number")
    if (is_number & is_fact).any():
        fact_codes = np.where(is_fact, qcode - len(question_ids), 0)
        minimum = np.array([f.minimum for f in facts.values()])[fact_codes]
        maximum = np.array([f.maximum for f in facts.values()])[fact_codes]
        integer = np.array([f.integer for f in facts.values()])[fact_codes]
        number = frame["number"].to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            out = ~np.isfinite(number) | (number < minimum) | (number > maximum)
            fractional = integer & np.isfinite(number) & (number != np.round(number))
        report(
            is_number & is_fact & out, "{number!r} for {question_id!r} is outside the allowed range"
        )
        report(
            is_number & is_fact & ~out & fractional,
            "{number!r} for {question_id!r} must be a whole number",
        )
    respondent_code = frame["respondent_id"].cat.codes.to_numpy().astype(np.int64)
    # One answer per person and question: a second row would silently count twice.
    pair = pd.Series(respondent_code * (len(question_ids) + len(facts) + 1) + qcode)
    report(
        known & pair.duplicated(keep=False).to_numpy(),
        "respondent {respondent_id!r} answered {question_id!r} more than once",
    )
    # A person has one role; two would put their answers in two role groups.
    roles = pd.DataFrame({"r": respondent_code, "role": frame["role"].cat.codes.to_numpy()})
    roles = roles.drop_duplicates()
    mixed = roles.loc[roles["r"].duplicated(), "r"].unique()
    report(
        np.isin(respondent_code, mixed),
        "respondent {respondent_id!r} appears with more than one role",
    )
    if problems:
        raise ScoringInputError(problems)
    frame["respondent_id"] = frame["respondent_id"].cat.as_ordered()
    return frame


@dataclass(frozen=True)
class CapabilityStats:
    median: float | None  # in levels, 1..5
    n_respondents: int
    n_level_answers: int
    n_unknown: int
    q1: float | None
    q3: float | None
    agreement: float | None
    # r_wg as confidence reads it: each "don't know" / "not applicable" counted as the answer
    # that would disagree most (worst_case_agreement), so saying "don't know" instead of
    # dissenting can never make the group look more united. Equal to `agreement` without
    # unknowns.
    cautious_agreement: float | None = None

    @property
    def unknown_share(self) -> float:
        total = self.n_level_answers + self.n_unknown
        return self.n_unknown / total if total else 0.0

    @property
    def spread(self) -> float | None:
        return None if self.q1 is None or self.q3 is None else self.q3 - self.q1


def capability_stats(*, rubric: Rubric, prepared: Prepared) -> dict[str, CapabilityStats]:
    """Per capability: median, quartiles and r_wg of respondent values, and answer counts."""
    grouped = prepared.per_respondent.groupby("capability_id", observed=True)["value"]
    median = grouped.median()
    q1 = grouped.quantile(0.25)
    q3 = grouped.quantile(0.75)
    variance = grouped.var(ddof=0)
    n_respondents = grouped.size()
    n_levels = prepared.levels.groupby("capability_id", observed=True).size()
    unknown = prepared.frame.loc[prepared.frame["choice"].isin(UNKNOWN_CHOICES)]
    n_unknown = unknown.groupby("capability_id", observed=True).size()
    cautious = worst_case_agreement(prepared)
    stats = {}
    for capability in rubric.capabilities:
        cid = capability.id
        n = int(n_respondents.get(cid, 0))
        if n:
            # rwg: 1 - observed variance / uniform-null variance, clipped to [0, 1].
            agreement = max(0.0, 1.0 - float(variance[cid]) / UNIFORM_VARIANCE) if n >= 2 else None
            stats[cid] = CapabilityStats(
                float(median[cid]),
                n,
                int(n_levels.get(cid, 0)),
                int(n_unknown.get(cid, 0)),
                float(q1[cid]),
                float(q3[cid]),
                agreement,
                cautious.get(cid, agreement),
            )
        else:
            stats[cid] = CapabilityStats(None, 0, 0, int(n_unknown.get(cid, 0)), None, None, None)
    return stats


# Up to this many respondents with unknowns on one capability, the worst case is found exactly
# (2^k corners); beyond, a bound that is never below it (and still never falls when an answer
# turns into "don't know") stands in.
EXACT_WORST_CASE_MAX = 10


def worst_case_agreement(prepared: Prepared) -> dict[str, float | None]:
    """r_wg per capability that has unknown answers, with every unknown answer counted as the
    level (1 to 5) that would make the group disagree most.

    Each person's value is the mean of their answers to the capability, an unknown answer
    free anywhere in 1..5, so the value lies in [lo, hi]. Variance is convex, so its largest
    value over these ranges is at a corner: found exactly for up to EXACT_WORST_CASE_MAX people
    with unknowns, else bounded by (SS(mid) + 4 sum(w) + sum(w^2) / 4) / n, which is never
    smaller than the exact maximum and never falls when a range widens. Turning a level into
    "don't know" only widens ranges, so this agreement can only fall: confidence never rises
    when a dissenter says "don't know" instead. Capabilities without unknowns are left out
    (their agreement is the plain r_wg)."""
    frame = prepared.frame
    unknown = frame.loc[frame["choice"].isin(UNKNOWN_CHOICES) & frame["capability_id"].notna()]
    if unknown.empty:
        return {}
    # Per (capability, respondent) cell: level answers, their sum and unknown answers, counted
    # with bincount over cell codes (grouping 400,000 answers this way takes milliseconds).
    capabilities = list(frame["capability_id"].cat.categories)
    people = len(frame["respondent_id"].cat.categories)
    cells = len(capabilities) * people

    def cell(rows: pd.DataFrame) -> np.ndarray:
        capability = rows["capability_id"].cat.codes.to_numpy().astype(np.int64)
        respondent = rows["respondent_id"].cat.codes.to_numpy().astype(np.int64)
        codes: np.ndarray = capability * people + respondent
        return codes

    level_cells = cell(prepared.levels)
    counts = np.bincount(level_cells, minlength=cells).astype(float)
    sums = np.bincount(
        level_cells, weights=prepared.levels["level"].to_numpy(dtype=float), minlength=cells
    )
    unknowns = np.bincount(cell(unknown), minlength=cells).astype(float)
    result: dict[str, float | None] = {}
    for index in np.unique(unknown["capability_id"].cat.codes.to_numpy()):
        span = slice(int(index) * people, (int(index) + 1) * people)
        k, total, u = counts[span], sums[span], unknowns[span]
        answered = (k + u) > 0
        k, total, u = k[answered], total[answered], u[answered]
        low = (total + u) / (k + u)
        high = (total + 5.0 * u) / (k + u)
        result[str(capabilities[int(index)])] = _agreement_at_worst(low, high)
    return result


def _agreement_at_worst(low: np.ndarray, high: np.ndarray) -> float | None:
    n = len(low)
    if n < 2:
        return None
    free = high > low
    if int(free.sum()) <= EXACT_WORST_CASE_MAX:
        fixed = low[~free]
        lo, span = low[free], (high - low)[free]
        corners = (np.arange(2 ** len(lo))[:, None] >> np.arange(len(lo))) & 1
        values = lo + corners * span
        total = fixed.sum() + values.sum(axis=1)
        squares = (fixed**2).sum() + (values**2).sum(axis=1)
        variance = float(np.max(squares / n - (total / n) ** 2))
    else:
        mid, width = (low + high) / 2, high - low
        spread = float(((mid - mid.mean()) ** 2).sum())
        variance = (spread + 4.0 * float(width.sum()) + float((width**2).sum()) / 4.0) / n
    return max(0.0, 1.0 - variance / UNIFORM_VARIANCE)


def answer_confidence(stats: CapabilityStats) -> float:
    """0..1 from how many answered, how few said "don't know" and how much they agree:
    0.4 x min(1, n / 5) + 0.3 x (1 - unknown share) + 0.3 x agreement (0.5 if unmeasurable),
    agreement counting unknown answers as the most dissenting ones.

    Head count weighs most because one or two voices cannot represent an organisation;
    unknowns and disagreement weigh equally, each able to take a fully staffed capability from
    high to medium on its own.
    """
    if stats.n_respondents == 0:
        return 0.0
    count = min(1.0, stats.n_respondents / FULL_RESPONDENTS)
    known = 1.0 - stats.unknown_share
    # Unknown answers count as the most dissenting answers here (worst_case_agreement).
    measured = stats.agreement if stats.n_unknown == 0 else stats.cautious_agreement
    agreement = measured if measured is not None else 0.5
    return 0.4 * count + 0.3 * known + 0.3 * agreement


def weighted_mean(values: Mapping[str, float | None], weights: Mapping[str, float]) -> float | None:
    """Σ w v / Σ w over the values present with weight above 0; None when there are none."""
    present = [
        (v, weights[k]) for k, v in values.items() if v is not None and weights.get(k, 0) > 0
    ]
    total = sum(w for _v, w in present)
    return sum(v * w for v, w in present) / total if total else None


# --- Questions and facts --------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionStat:
    """A question's answers: how many answered, how (counts), the median and mean level.
    `withheld` (see `questions_shown`): fewer than MIN_GROUP answered, so only that count."""

    question_id: str
    counts: Mapping[str, int]  # "1".."5", "dont_know", "not_applicable"
    median: float | None
    mean: float | None
    answered: int = 0
    withheld: bool = False


def question_stats(*, rubric: Rubric, prepared: Prepared) -> dict[str, QuestionStat]:
    """Per question: the answer distribution, median and mean level."""
    frame = prepared.frame
    n_questions = len(rubric.questions)
    codes = frame["question_id"].cat.codes.to_numpy().astype(np.int64)
    choice = frame["choice"].to_numpy()
    level = frame["level"].to_numpy(dtype="float64", na_value=0)
    # Column per answer: 0-4 for levels 1-5, 5 "don't know", 6 "not applicable", 7 other.
    column = np.full(len(frame), 7)
    is_level = choice == "level"
    column[is_level] = level[is_level].astype(int) - 1
    column[choice == "dont_know"] = 5
    column[choice == "not_applicable"] = 6
    on_question = codes < n_questions
    counts = np.bincount(
        codes[on_question] * 8 + column[on_question], minlength=n_questions * 8
    ).reshape(n_questions, 8)
    level_groups = prepared.levels.groupby("question_id", observed=True)["level"]
    medians, means = level_groups.median(), level_groups.mean()
    keys = ("1", "2", "3", "4", "5", *UNKNOWN_CHOICES)
    result = {}
    for index, question in enumerate(rubric.questions):
        qid = question.id
        answered = int(counts[index, :7].sum())
        result[qid] = QuestionStat(
            qid,
            {key: int(counts[index, k]) for k, key in enumerate(keys)},
            float(medians[qid]) if qid in medians.index else None,
            float(means[qid]) if qid in means.index else None,
            answered,
        )
    return result


@dataclass(frozen=True)
class FactValue:
    fact_id: str
    median: float | None
    n: int
    low: float | None
    high: float | None
    withheld: bool = False  # fewer than MIN_GROUP numbers: no median or range is kept


def fact_values(*, rubric: Rubric, prepared: Prepared) -> dict[str, FactValue]:
    """Per fact question: the median of the numbers given, their count and range (the model's
    inputs; `facts_shown` is what a result keeps)."""
    numbers = prepared.frame.loc[prepared.frame["choice"] == "number", ["question_id", "number"]]
    grouped = numbers.groupby("question_id", observed=True)["number"]
    median, size, low, high = grouped.median(), grouped.size(), grouped.min(), grouped.max()
    return {
        f.id: FactValue(
            f.id,
            float(median[f.id]) if f.id in median.index else None,
            int(size.get(f.id, 0)),
            float(low[f.id]) if f.id in low.index else None,
            float(high[f.id]) if f.id in high.index else None,
        )
        for f in rubric.facts
    }


def questions_shown(questions: Mapping[str, QuestionStat]) -> dict[str, QuestionStat]:
    """The question statistics as a result shows them: only the number who answered where
    that is fewer than MIN_GROUP (a distribution of one or two answers shows what they said)."""
    return {
        qid: QuestionStat(qid, dict.fromkeys(q.counts, 0), None, None, q.answered, withheld=True)
        if 0 < q.answered < MIN_GROUP
        else q
        for qid, q in questions.items()
    }


def facts_shown(facts: Mapping[str, FactValue]) -> dict[str, FactValue]:
    """The facts as a result shows them: only the count where fewer than MIN_GROUP people gave
    a number (one number is one person's answer, and a range of two shows both)."""
    return {
        fid: FactValue(fid, None, f.n, None, None, withheld=True) if 0 < f.n < MIN_GROUP else f
        for fid, f in facts.items()
    }


# --- Perception gaps --------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupLevel:
    group: str  # a role, or "other roles (a, b)" when small roles were merged
    roles: tuple[str, ...]
    respondents: int
    level: float  # mean of the group's respondent values, in levels
    median: float  # median of the same values, for reference


@dataclass(frozen=True)
class GapDriver:
    question_id: str
    group_means: Mapping[str, float]
    difference: float


@dataclass(frozen=True)
class PerceptionGap:
    capability_id: str
    groups: tuple[GroupLevel, ...]
    gap: float  # highest minus lowest group level; 0 with fewer than two groups
    high_group: str
    low_group: str
    flagged: bool
    drivers: tuple[GapDriver, ...]


def _groups_for(per_capability: pd.DataFrame) -> list[tuple[str, tuple[str, ...]]]:
    """Roles with at least MIN_GROUP respondents stand alone; the rest merge, or drop."""
    counts = per_capability.groupby("role", observed=True).size()
    big = [r for r in AUDIENCES if counts.get(r, 0) >= MIN_GROUP]
    small = [r for r in AUDIENCES if 0 < counts.get(r, 0) < MIN_GROUP]
    groups: list[tuple[str, tuple[str, ...]]] = [(r, (r,)) for r in big]
    # A lone small role has at most MIN_GROUP - 1 people, so a merged group always has two or
    # more roles.
    if small and sum(int(counts[r]) for r in small) >= MIN_GROUP:
        groups.append((f"other roles ({', '.join(small)})", tuple(small)))
    return groups


def perception_gaps(*, rubric: Rubric, prepared: Prepared) -> list[PerceptionGap]:
    """Per answered capability: role groups of at least MIN_GROUP, the gap between the highest
    and lowest, flagged from one level, with the questions that drive it."""
    result = []
    per_respondent = prepared.per_respondent
    by_capability = dict(tuple(per_respondent.groupby("capability_id", observed=True)))
    level_sums = prepared.levels.groupby(["question_id", "role"], observed=True)["level"].agg(
        ["sum", "count"]
    )
    for capability in rubric.capabilities:
        data = by_capability.get(capability.id)
        if data is None:
            continue
        groups = []
        for label, roles in _groups_for(data):
            values = data.loc[data["role"].isin(roles), "value"]
            # The mean, not the median: medians of a few whole-number answers jump by whole
            # levels, which would flag one-level "gaps" between groups that barely differ.
            groups.append(
                GroupLevel(label, roles, len(values), float(values.mean()), float(values.median()))
            )
        if len(groups) < 2:
            if groups:
                result.append(
                    PerceptionGap(
                        capability.id,
                        tuple(groups),
                        0.0,
                        groups[0].group,
                        groups[0].group,
                        False,
                        (),
                    )
                )
            continue
        high = max(groups, key=lambda g: g.level)
        low = min(groups, key=lambda g: g.level)
        gap = high.level - low.level
        flagged = gap >= GAP_THRESHOLD - 1e-9
        drivers = _drivers(capability.questions, groups, level_sums) if flagged else ()
        result.append(
            PerceptionGap(
                capability.id, tuple(groups), gap, high.group, low.group, flagged, drivers
            )
        )
    return result


def _drivers(
    questions: tuple[Question, ...], groups: list[GroupLevel], level_sums: pd.DataFrame
) -> tuple[GapDriver, ...]:
    drivers = []
    for question in questions:
        means: dict[str, float] = {}
        for group in groups:
            total = count = 0.0
            for role in group.roles:
                if (question.id, role) in level_sums.index:
                    total += float(level_sums.loc[(question.id, role), "sum"])
                    count += float(level_sums.loc[(question.id, role), "count"])
            # A driver is shown per group only where the group itself has enough answers.
            if count >= MIN_GROUP:
                means[group.group] = total / count
        if len(means) >= 2:
            drivers.append(GapDriver(question.id, means, max(means.values()) - min(means.values())))
    drivers.sort(key=lambda d: -d.difference)
    return tuple(drivers)


def leadership_optimism(gaps: list[PerceptionGap]) -> float | None:
    """Mean over capabilities where leaders form their own group of (leaders' mean - the mean
    of everyone in the other shown groups), in levels; None without such capabilities."""
    differences = []
    for gap in gaps:
        leaders = [g for g in gap.groups if g.roles == ("leadership",)]
        others = [g for g in gap.groups if "leadership" not in g.roles]
        if leaders and others:
            pooled = sum(g.level * g.respondents for g in others) / sum(
                g.respondents for g in others
            )
            differences.append(leaders[0].level - pooled)
    return float(np.mean(differences)) if differences else None
