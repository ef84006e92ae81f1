"""The scoring settings a leader may change: a target level and a weight per dimension."""

from __future__ import annotations

from typing import Any

from django import forms

from scoring.rubric import Rubric

LEVEL_CHOICES = [(level, f"{level}") for level in range(1, 6)]


class ScoringSettingsForm(forms.Form):
    def __init__(
        self,
        *args: Any,
        rubric: Rubric,
        targets: dict[str, int],
        weights: dict[str, float],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.rubric = rubric
        for d in rubric.dimensions:
            self.fields[f"target_{d.id}"] = forms.TypedChoiceField(
                label=f"{d.title} target",
                choices=LEVEL_CHOICES,
                coerce=int,
                initial=targets.get(d.id, d.target_level),
            )
            self.fields[f"weight_{d.id}"] = forms.FloatField(
                label=f"{d.title} weight",
                min_value=0,
                max_value=10,
                initial=weights.get(d.id, d.weight),
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        weights = [cleaned.get(f"weight_{d.id}") for d in self.rubric.dimensions]
        if all(w is not None for w in weights) and sum(weights) <= 0:  # type: ignore[arg-type]
            raise forms.ValidationError("At least one dimension needs a weight above 0.")
        return cleaned

    def targets(self) -> dict[str, int]:
        return {d.id: self.cleaned_data[f"target_{d.id}"] for d in self.rubric.dimensions}

    def weights(self) -> dict[str, float]:
        return {d.id: self.cleaned_data[f"weight_{d.id}"] for d in self.rubric.dimensions}

    def rows(self) -> list[tuple[Any, Any]]:
        return [(self[f"target_{d.id}"], self[f"weight_{d.id}"]) for d in self.rubric.dimensions]
