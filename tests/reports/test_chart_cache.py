"""Charts in PDFs are drawn once per figure: a re-render of an unchanged report asks the
chart renderer (a browser) for nothing."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import pytest
from django.core.cache import cache

from reports import pdf


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    cache.clear()
    calls: list[list[str]] = []

    def fake_draw(figures: dict[str, tuple[Any, int, int]]) -> dict[str, str]:
        calls.append(sorted(figures))
        return {name: f"data:image/svg+xml;base64,{name}" for name in figures}

    monkeypatch.setattr(pdf, "_draw", fake_draw)
    return calls


def _bar(values: list[int]) -> go.Figure:
    return go.Figure(go.Bar(y=values))


def test_an_unchanged_chart_is_not_drawn_again(drawn: list[list[str]]) -> None:
    first = pdf.svg_data_uris({"a": (_bar([1, 2]), 400, 300), "b": (_bar([3]), 400, 300)})
    again = pdf.svg_data_uris({"a": (_bar([1, 2]), 400, 300), "b": (_bar([3]), 400, 300)})
    assert again == first
    assert drawn == [["a", "b"]]


def test_a_changed_figure_or_size_is_drawn(drawn: list[list[str]]) -> None:
    pdf.svg_data_uris({"a": (_bar([1, 2]), 400, 300), "b": (_bar([3]), 400, 300)})
    pdf.svg_data_uris({"a": (_bar([1, 5]), 400, 300), "b": (_bar([3]), 400, 200)})
    assert drawn == [["a", "b"], ["a", "b"]]
    pdf.svg_data_uris({"a": (_bar([1, 5]), 400, 300), "b": (_bar([3]), 400, 300)})
    assert len(drawn) == 2
