"""Plotly figures built by pure functions: a result (its JSON form) in, a figure out.

The same figures serve the browser (interactive, plotly.js from static files) and the PDF
(SVG through kaleido). Colours are a single blue ramp plus black and grey, so they survive
greyscale printing; series differ by line style and marker shape as well as colour. Every
figure has a text alternative built from the same numbers (`*_table` functions).
"""

from __future__ import annotations

import json
import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import plotly.graph_objects as go

INK = "#17202b"
GREY = "#8a94a3"
BLUE = ("#dbe7f6", "#a9c6ea", "#6c9fd8", "#2f6fba", "#143f73")  # light to dark, one per level
FONT = {"family": "DejaVu Sans, Arial, sans-serif", "size": 12, "color": INK}
LEVEL_NAMES = {1: "Ad hoc", 2: "Repeatable", 3: "Defined", 4: "Managed", 5: "Optimizing"}
# The review-wall chart's widest x axis, in multiples of today's volume: wider, and today's
# volume and the curve's knee shrink to a sliver at the left edge.
MAX_MULTIPLIER = 50.0


def num(value: float, places: int, *, sign: bool = False) -> str:
    """A number rounded half up from its decimal form, exactly as the templates' floatformat
    rounds, so a table and the sentence above it never disagree (2.15 is 2.2 in both)."""
    quantum = Decimal(1).scaleb(-places)
    rounded = Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP)
    text = f"{rounded:f}"
    return ("+" + text) if sign and rounded >= 0 else text


def _layout(figure: go.Figure, *, height: int, title: str = "") -> go.Figure:
    figure.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        font=FONT,
        paper_bgcolor="white",
        plot_bgcolor="white",
        title={"text": title, "x": 0, "font": {"size": 14}} if title else None,
        legend={"orientation": "h", "yanchor": "bottom", "y": -0.2, "x": 0},
    )
    return figure


def radar(result: dict[str, Any]) -> go.Figure:
    """Current exact level against target per dimension. A dimension nobody answered is a gap
    in the current trace (never drawn as level 1) and its axis says "no data"; hover text
    marks low-confidence dimensions."""
    dims = result["dimensions"]
    labels = [d["title"] + (" (no data)" if d["exact_level"] is None else "") for d in dims]
    names = labels + labels[:1]
    current = [d["exact_level"] for d in dims]
    target = [d["target_level"] for d in dims]
    hover = [_radar_hover(d) for d in dims]
    figure = go.Figure()
    figure.add_trace(
        go.Scatterpolar(
            r=target + target[:1],
            theta=names,
            name="Target",
            line={"color": INK, "dash": "dash", "width": 2},
            marker={"symbol": "square", "size": 7},
            hovertemplate="%{theta}: target %{r}<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatterpolar(
            r=current + current[:1],
            theta=names,
            name="Current",
            fill="toself",
            fillcolor="rgba(47,111,186,0.25)",
            line={"color": BLUE[3], "width": 3},
            marker={"symbol": "circle", "size": 8},
            connectgaps=False,
            customdata=hover + hover[:1],
            hovertemplate="%{customdata}<extra></extra>",
        )
    )
    figure.update_polars(
        # Dimensions sit on the diagonals, so their labels have room and never meet the
        # level ticks, which run along the horizontal.
        radialaxis={
            "range": [0, 5],
            "tickvals": [1, 2, 3, 4, 5],
            "gridcolor": "#d6dce4",
            "angle": 0,
            "tickfont": {"size": 10, "color": GREY},
        },
        angularaxis={"gridcolor": "#d6dce4", "rotation": 45, "direction": "clockwise"},
    )
    figure = _layout(figure, height=380)
    figure.update_layout(margin={"l": 80, "r": 80, "t": 30, "b": 40})
    return figure


def _radar_hover(dimension: dict[str, Any]) -> str:
    if dimension["exact_level"] is None:
        return f"{dimension['title']}: no data"
    text = f"{dimension['title']}: level {num(dimension['exact_level'], 1)}"
    return text + (" (low confidence)" if dimension["low_confidence"] else "")


def radar_table(result: dict[str, Any]) -> list[list[str]]:
    rows = [["Dimension", "Current level", "Target", "Gap", "Confidence"]]
    for d in result["dimensions"]:
        rows.append(
            [
                d["title"],
                "no data" if d["exact_level"] is None else _level(d["exact_level"]),
                str(d["target_level"]),
                "-" if d["gap"] is None else f"{num(d['gap'], 1)}",
                d["confidence_label"],
            ]
        )
    return rows


def heatmap(result: dict[str, Any]) -> go.Figure:
    """Capabilities (rows) by role group (columns), coloured by level; 'All' first (the
    capability's level, from the median), then each group's mean level. Roles too small to show
    alone were pooled by the engine when together they reach three respondents, and dropped
    otherwise; pooled groups share one "other roles" column."""
    caps = result["capabilities"]
    roles = ["leadership", "engineering", "operations", "product"]
    columns = ["All respondents", *(r.capitalize() for r in roles), "Other roles (merged)"]
    cells: dict[str, dict[str, tuple[float, str]]] = {}
    for gap in result["perception"]:
        for g in gap["groups"]:
            column = g["group"].capitalize() if g["group"] in roles else "Other roles (merged)"
            cells.setdefault(gap["capability_id"], {})[column] = (g["level"], g["group"])
    used = ["All respondents"] + [c for c in columns[1:] if any(c in row for row in cells.values())]
    z, text, hover = [], [], []
    for c in caps:
        row_cells = cells.get(c["id"], {})
        values = [c["exact_level"]] + [row_cells.get(col, (None, ""))[0] for col in used[1:]]
        groups = ["all respondents"] + [
            row_cells.get(col, (None, "no group of three"))[1] for col in used[1:]
        ]
        z.append(values)
        text.append(["" if v is None else f"{num(v, 1)}" for v in values])
        hover.append(
            [
                f"{c['title']}<br>{g}: " + ("no data" if v is None else f"level {num(v, 1)}")
                for v, g in zip(values, groups, strict=True)
            ]
        )
    labels = [("\u25cb " if c["low_confidence"] else "") + c["title"] for c in caps]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=used,
            y=labels,
            text=text,
            texttemplate="%{text}",
            zmin=1,
            zmax=5,
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
            colorscale=[[i / 4, color] for i, color in enumerate(BLUE)],
            colorbar={
                "title": {"text": "Level"},
                "tickvals": [1, 2, 3, 4, 5],
                "len": 0.6,
                "thickness": 14,
            },
            xgap=2,
            ygap=2,
        )
    )
    figure.update_yaxes(autorange="reversed", tickfont={"size": 11}, automargin=True)
    figure.update_xaxes(side="top", automargin=True, tickfont={"size": 11})
    figure = _layout(figure, height=max(320, 26 * len(caps) + 90))
    figure.update_layout(margin={"l": 250, "r": 10, "t": 40, "b": 10})
    return figure


def heatmap_table(result: dict[str, Any]) -> list[list[str]]:
    rows = [["Capability", "Level", "Score", "Respondents", "Confidence"]]
    for c in result["capabilities"]:
        rows.append(
            [
                c["title"],
                _level(c["exact_level"]),
                "-" if c["score"] is None else f"{num(c['score'], 0)}",
                str(c["n_respondents"]),
                c["confidence_label"] + (" (low: read with care)" if c["low_confidence"] else ""),
            ]
        )
    return rows


def review_wall(result: dict[str, Any]) -> go.Figure | None:
    """Expected wait for review against pull-request volume (as a multiple of today), with
    the wall where review saturates and today's and the planned volumes marked."""
    projection = result["review"]["projection"]
    if not projection:
        return None
    wall = projection["saturation_multiplier"]
    curve = projection["curve"]
    planned = list(zip(projection["planned_labels"], projection["planned"], strict=True))
    # Up to 10x today, or just past the wall when it lies further out; never beyond
    # MAX_MULTIPLIER, where the wall is named at the edge instead of drawn.
    wanted = max(2.0, wall * 1.6, *(s["multiplier"] * 1.15 for _l, s in planned))
    right = min(wanted, max(10.0, wall * 1.1), MAX_MULTIPLIER)
    beyond = wall >= right
    waits = [max(s["wait_hours"], 0.01) for s in curve]
    top = max(waits) * 3
    figure = go.Figure()
    if beyond:
        figure.add_annotation(
            x=right,
            y=0.04,
            yref="paper",
            xanchor="right",
            yanchor="bottom",
            showarrow=False,
            text=f"<b>wall beyond {num(right, 0)}\u00d7: at {num(wall, 1)}\u00d7 today</b> \u2192",
            font={"size": 12, "color": INK},
        )
    else:
        figure.add_vrect(
            x0=wall,
            x1=right,
            fillcolor=GREY,
            opacity=0.18,
            line_width=0,
            annotation_text="review saturated:<br>the queue grows without limit",
            annotation_position="bottom right",
            annotation_font={"size": 11, "color": INK},
        )
        figure.add_vline(x=wall, line={"color": INK, "width": 2, "dash": "dash"})
        figure.add_annotation(
            x=wall,
            y=0.04,
            yref="paper",
            xanchor="right",
            yanchor="bottom",
            showarrow=False,
            text=f"<b>the wall: {num(wall, 1)}\u00d7 today</b> ",
            font={"size": 12, "color": INK},
        )
    figure.add_trace(
        go.Scatter(
            x=[s["multiplier"] for s in curve],
            y=waits,
            mode="lines",
            name="Expected wait for a first review",
            line={"color": BLUE[3], "width": 3},
            hovertemplate="%{x:.2f}\u00d7 today: %{y:.1f} working hours<extra></extra>",
        )
    )
    points = [("Today", projection["states"][0], "circle")]
    points += [
        (f"Planned {label}", state, symbol)
        for (label, state), symbol in zip(planned, ("square", "diamond"), strict=False)
    ]
    for index, (label, state, symbol) in enumerate(points):
        # Beyond the wall there is no finite wait: park the marker high, staggered.
        y = top / (1 + index) if state["saturated"] else max(state["wait_hours"], 0.01)
        figure.add_trace(
            go.Scatter(
                x=[state["multiplier"]],
                y=[y],
                mode="markers+text",
                name=label,
                marker={
                    "symbol": symbol,
                    "size": 12,
                    "color": INK,
                    "line": {"color": "white", "width": 1},
                },
                text=[label + (" (beyond the wall)" if state["saturated"] else "")],
                textposition=(
                    "middle left" if state["multiplier"] > right * 0.7 else "middle right"
                )
                if state["saturated"]
                else "top center",
                textfont={"size": 11},
                showlegend=False,
                hovertemplate=f"{label}: %{{x:.2f}}\u00d7 today<extra></extra>",
            )
        )
    figure.update_xaxes(
        title="Pull requests per week, as a multiple of today",
        range=[0, right],
        gridcolor="#e3e8ee",
        ticksuffix="\u00d7",
    )
    figure.update_yaxes(
        title="Working hours waiting",
        type="log",
        range=[-2, math.log10(top) + 0.3],
        gridcolor="#e3e8ee",
    )
    figure = _layout(figure, height=360)
    figure.update_layout(margin={"l": 70, "r": 20, "t": 40, "b": 60}, showlegend=False)
    return figure


def review_table(result: dict[str, Any]) -> list[list[str]]:
    projection = result["review"]["projection"]
    if not projection:
        return []
    rows = [["Volume", "PRs per week", "Utilisation", "Chance of waiting", "Expected wait"]]
    labelled = [(f"{s['multiplier']:g}\u00d7 today", s) for s in projection["states"]]
    labelled += [
        (f"Planned {label}", s)
        for label, s in zip(projection["planned_labels"], projection["planned"], strict=True)
    ]
    for label, s in labelled:
        rows.append(
            [
                label,
                f"{num(s['prs_per_week'], 0)}",
                f"{num(s['utilisation'] * 100, 0)}%",
                "100%" if s["saturated"] else f"{num(s['wait_probability'] * 100, 0)}%",
                "grows without limit" if s["saturated"] else _hours(s["wait_hours"]),
            ]
        )
    return rows


def _level(value: float | None) -> str:
    return "-" if value is None else f"{num(value, 1)}"


def _hours(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1:
        return f"{num(value * 60, 0)} min"
    return f"{num(value, 1)} h"


def figure_json(figure: go.Figure | None) -> dict[str, Any] | None:
    """The figure as plain JSON for the browser (json_script), without plotly's template."""
    if figure is None:
        return None
    data: dict[str, Any] = json.loads(figure.to_json(validate=False, remove_uids=True))
    layout = data.get("layout", {})
    layout.pop("template", None)
    return {"data": data.get("data", []), "layout": layout}


def capability_bars(result: dict[str, Any], dimension_id: str) -> go.Figure:
    """One dimension's capabilities: current exact level as bars, target as a marker."""
    dimension = next(d for d in result["dimensions"] if d["id"] == dimension_id)
    caps = [c for c in result["capabilities"] if c["dimension_id"] == dimension_id]
    names = [("\u25cb " if c["low_confidence"] else "") + c["title"] for c in caps]
    current = [c["exact_level"] or 0 for c in caps]
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            y=names,
            x=current,
            orientation="h",
            name="Current level",
            marker={
                "color": [BLUE[min(4, max(0, int(v) - 1))] if v else "#ffffff" for v in current],
                "line": {"color": INK, "width": 1},
            },
            text=[f"{num(v, 1)}" if v else "no data" for v in current],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: level %{x:.1f}<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            y=names,
            x=[dimension["target_level"]] * len(caps),
            mode="markers",
            name="Target",
            marker={"symbol": "line-ns", "size": 22, "line": {"color": INK, "width": 3}},
            hovertemplate="target %{x}<extra></extra>",
        )
    )
    figure.update_xaxes(range=[0, 5.4], tickvals=[1, 2, 3, 4, 5], gridcolor="#e3e8ee")
    figure.update_yaxes(autorange="reversed", automargin=True)
    figure = _layout(figure, height=90 + 42 * len(caps))
    figure.update_layout(
        margin={"l": 250, "r": 30, "t": 30, "b": 30},
        bargap=0.35,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "xanchor": "left"},
    )
    return figure


def capability_bars_table(result: dict[str, Any], dimension_id: str) -> list[list[str]]:
    """Per capability: level, target, gap, self-reported score beside the evidence-adjusted
    one ("-" where no scan evidence could check the claim) and confidence."""
    rows = [["Capability", "Level", "Target", "Gap", "Score", "Evidence-adjusted", "Confidence"]]
    for c in result["capabilities"]:
        if c["dimension_id"] != dimension_id:
            continue
        evidence = c["evidence"]
        checked = evidence["verdict"] != "unverifiable" and evidence["adjusted_score"] is not None
        rows.append(
            [
                c["title"],
                _level(c["exact_level"]),
                str(c["target_level"]),
                "-" if c["gap"] is None else f"{num(c['gap'], 1)}",
                "-" if c["score"] is None else f"{num(c['score'], 0)}",
                f"{num(evidence['adjusted_score'], 0)}" if checked else "-",
                c["confidence_label"],
            ]
        )
    return rows


def trend(comparison: dict[str, Any]) -> go.Figure:
    """Overall readiness and each dimension across the organisation's assessments."""
    points = comparison["series"]
    labels = [f"{p['title']}<br>{p['date']}" for p in points]
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=labels,
            y=[p["readiness"] for p in points],
            name="Overall readiness",
            mode="lines+markers+text",
            line={"color": INK, "width": 3},
            marker={"symbol": "circle", "size": 10},
            text=[
                f"{num(p['readiness'], 0)}" if p["readiness"] is not None else "" for p in points
            ],
            textposition="top center",
        )
    )
    dashes = ("dot", "dash", "longdash", "dashdot")
    symbols = ("square", "diamond", "triangle-up", "x")
    for index, dimension in enumerate(comparison["dimensions"]):
        figure.add_trace(
            go.Scatter(
                x=labels,
                y=[p["dimensions"].get(dimension["id"]) for p in points],
                name=dimension["title"],
                mode="lines+markers",
                line={"color": BLUE[1 + index % 4], "dash": dashes[index % 4], "width": 2},
                marker={"symbol": symbols[index % 4], "size": 8},
            )
        )
    figure.update_yaxes(range=[0, 105], title="Score (0-100)", gridcolor="#e3e8ee")
    figure = _layout(figure, height=340)
    figure.update_layout(margin={"l": 60, "r": 20, "t": 20, "b": 60})
    return figure


def delivery_weeks(result: dict[str, Any]) -> go.Figure | None:
    """Deployments per week with the median lead time of what they shipped: the trend behind
    the DORA buckets."""
    delivery = result.get("delivery")
    if not delivery or not delivery.get("weekly"):
        return None
    weeks = delivery["weekly"]
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            x=[w["week"] for w in weeks],
            y=[w["deployments"] for w in weeks],
            name="Deployments",
            marker={"color": BLUE[2], "line": {"color": INK, "width": 0.5}},
        )
    )
    figure.add_trace(
        go.Scatter(
            x=[w["week"] for w in weeks],
            y=[w["median_lead_time_hours"] for w in weeks],
            yaxis="y2",
            name="Median lead time (h)",
            mode="lines+markers",
            line={"color": INK, "dash": "dot", "width": 2},
            marker={"symbol": "diamond", "size": 7},
            connectgaps=False,
        )
    )
    figure.update_layout(
        yaxis={"title": "Deployments", "gridcolor": "#e3e8ee", "rangemode": "tozero"},
        yaxis2={
            "title": "Lead time (h)",
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "showgrid": False,
        },
    )
    figure = _layout(figure, height=300)
    figure.update_layout(margin={"l": 60, "r": 60, "t": 10, "b": 50})
    return figure
