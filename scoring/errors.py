"""Errors the scoring engine raises for input it refuses."""

from __future__ import annotations


class ScoringInputError(ValueError):
    """Input the engine refuses, with every problem listed; never a crash or a NaN later."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        shown = problems[:20]
        more = f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__("\n".join(shown) + more)
