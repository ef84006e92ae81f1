"""Building answer frames for engine tests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

COLUMNS = ["respondent_id", "role", "question_id", "choice", "level", "number"]


def frame(rows: Iterable[tuple[Any, ...]]) -> pd.DataFrame:
    """Rows of (respondent, role, question, value) where value is 1-5, "dk", "na" or a float
    for fact questions (ids starting with "fact.")."""
    records = []
    for respondent, role, question, value in rows:
        if value == "dk":
            records.append((respondent, role, question, "dont_know", None, None))
        elif value == "na":
            records.append((respondent, role, question, "not_applicable", None, None))
        elif question.startswith("fact."):
            records.append((respondent, role, question, "number", None, float(value)))
        else:
            records.append((respondent, role, question, "level", int(value), None))
    return pd.DataFrame(records, columns=COLUMNS)
