"""The Django side of the rubric: start-up validation and choices for forms."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from scoring.rubric import RubricError, available_rubrics, get_rubric


def check_shipped_rubrics() -> None:
    """Load every shipped rubric once; a broken file stops start-up naming the problem."""
    try:
        for rubric_id, version, _title in available_rubrics():
            get_rubric(rubric_id, version)
    except RubricError as exc:
        raise ImproperlyConfigured(f"A shipped rubric file is invalid:\n{exc}") from exc


def rubric_choices() -> list[tuple[str, str]]:
    return [
        (f"{rubric_id}-{version}", f"{title} (version {version})")
        for rubric_id, version, title in available_rubrics()
    ]


def parse_rubric_choice(value: str) -> tuple[str, int]:
    rubric_id, _, version = value.rpartition("-")
    return rubric_id, int(version)
