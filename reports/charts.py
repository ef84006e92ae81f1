"""Plotly figures built by pure functions: a result (its JSON form) in, a figure out.

The same figures serve the browser (interactive, plotly.js from static files) and the PDF
(SVG through kaleido). Colours are a single blue ramp plus black and grey, so they survive
greyscale printing; series differ by line style and marker shape as well as colour. Every
figure has a text alternative built from the same numbers (`*_table` functions).
"""

from __future__ import annotations

import json
import math
from datetime import date
from typing import Any

import plotly.graph_objects as go

from reports.numbers import gap_text, level_text, num
from scoring.rubric import AUDIENCES

INK = "#17202b"
GREY = "#8a94a3"
BLUE = ("#dbe7f6", "#a9c6ea", "#6c9fd8", "#2f6fba", "#143f73")  # light to dark, one per level
FONT = {"family": "DejaVu Sans, Arial, sans-serif", "size": 12, "color": INK}
LEVEL_NAMES = {1: "Ad hoc", 2: "Repeatable", 3: "Defined", 4: "Managed", 5: "Optimizing"}
# Capability bar charts: height per capability row plus room for legend and axis, and where
# the column of levels starts (right of the target line at level 5 at most).
BAR_ROW_PX = 25
BAR_BASE_PX = 45
BAR_VALUE_X = 5.25
# The review-wall chart's widest x axis, in multiples of today's volume: wider, and today's
# volume and the curve's knee shrink to a sliver at the left edge.
MAX_MULTIPLIER = 50.0
# The delivery chart draws weekly median lead times on a log axis when the largest is at least
# this many times the smallest: on a linear axis from zero, one slow week (271 h against 6 h)
# flattens every other week to the floor (docs/methodology.md section 12).
LEAD_LOG_RATIO = 10.0
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def plain(text: object) -> str:
    """Text made literal for plotly, which reads <b>, <br>, <a href> and entities in any label,
    hover text or legend entry as markup. Every title, name or label that plotly draws goes
    through here; plotly turns the entities back into the characters."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
    labels = [
        plain(d["title"]) + (" (not assessed)" if d["exact_level"] is None else "") for d in dims
    ]
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
    title = plain(dimension["title"])
    if dimension["exact_level"] is None:
        return f"{title}: not assessed"
    text = f"{title}: level {level_text(dimension['exact_level'])}"
    return text + (" (low confidence)" if dimension["low_confidence"] else "")


def radar_table(result: dict[str, Any]) -> list[list[str]]:
    rows = [["Dimension", "Current level", "Target", "Gap", "Confidence"]]
    for d in result["dimensions"]:
        rows.append(
            [
                d["title"],
                "not assessed" if d["exact_level"] is None else _level(d["exact_level"]),
                str(d["target_level"]),
                gap_text(d["exact_level"], d["target_level"]),
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
    roles = list(AUDIENCES)
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
        text.append(["" if v is None else level_text(v) for v in values])
        hover.append(
            [
                f"{plain(c['title'])}<br>{plain(g)}: "
                + ("no data" if v is None else f"level {level_text(v)}")
                for v, g in zip(values, groups, strict=True)
            ]
        )
    labels = [("\u25cb " if c["low_confidence"] else "") + plain(c["title"]) for c in caps]
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


# The review-wall chart as the PDF draws it (720 px wide, these margins): labels are placed
# from these so they stay inside the plot and clear of the wall line.
WALL_SIZE = (720, 360)
WALL_MARGIN = {"l": 70, "r": 20, "t": 40, "b": 60}
CHAR_PX = 6.6  # the width of an average 11 px DejaVu Sans character
WAIT_FLOOR = 0.01  # working hours; the log axis cannot show a zero wait


def review_wall(result: dict[str, Any]) -> go.Figure | None:
    """Expected wait for review against pull-request volume (as a multiple of today), with
    the wall where review saturates and today's and the planned volumes marked. The wall is
    named above the plot, where the curve never runs; point labels sit on the side away
    from the wall line and the rising curve."""
    projection = result["review"]["projection"]
    if not projection:
        return None
    wall = projection["saturation_multiplier"]
    curve = projection["curve"]
    planned = list(zip(projection["planned_labels"], projection["planned"], strict=True))
    # Up to 10x today, or just past the wall when it lies further out; never beyond
    # MAX_MULTIPLIER, where the wall is named at the edge instead of drawn.
    wanted = max(2.0, wall * 1.6, *(s["multiplier"] * 1.15 for _l, s in planned))
    right: float = min(wanted, max(10.0, wall * 1.1), MAX_MULTIPLIER)
    beyond = wall >= right
    waits = [max(s["wait_hours"], WAIT_FLOOR) for s in curve]
    top = max(waits) * 3
    plot_px = WALL_SIZE[0] - WALL_MARGIN["l"] - WALL_MARGIN["r"]

    def px(x: float) -> float:
        return x / right * plot_px

    figure = go.Figure()
    if beyond:
        wall_text = (
            f"<b>wall beyond {num(right, 0)}\u00d7: at {num(wall, 1)}\u00d7 today</b> \u2192"
        )
        wall_x, anchor = right, "right"
    else:
        wall_text = f"<b>the wall: {num(wall, 1)}\u00d7 today</b>"
        wall_x, anchor = wall, _anchor(px(wall), 22 * CHAR_PX, plot_px)
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
        x=wall_x,
        y=1,
        yref="paper",
        xanchor=anchor,
        yanchor="bottom",
        showarrow=False,
        text=wall_text,
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
        (f"Planned {plain(label)}", state, symbol)
        for (label, state), symbol in zip(planned, ("square", "diamond"), strict=False)
    ]
    parked = 0
    for label, state, symbol in points:
        x = state["multiplier"]
        if state["saturated"]:
            # No finite wait beyond the wall: park the marker high, each one lower than the
            # last so that two-line labels never meet.
            y = top / 4**parked
            parked += 1
            text = f"{label}<br>(beyond the wall)"
            width = max(len(label), 17) * CHAR_PX + 10
            if px(x) + width <= plot_px:
                position = "middle right"
            elif px(x) - width >= px(wall):
                position = "middle left"
            else:
                position = "bottom center"
        else:
            # Above and to the left: the curve rises to the right and the wall is there.
            y = max(state["wait_hours"], WAIT_FLOOR)
            text = label
            position = "top left" if px(x) >= len(label) * CHAR_PX + 4 else "top right"
        figure.add_trace(
            go.Scatter(
                x=[x],
                y=[y],
                mode="markers+text",
                name=label,
                marker={
                    "symbol": symbol,
                    "size": 12,
                    "color": INK,
                    "line": {"color": "white", "width": 1},
                },
                text=[text],
                textposition=position,
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
    high = math.log10(top) + 0.3
    # Powers of ten only: no unlabelled minor ticks, and no label at the floor, where it
    # would meet the x axis's first label.
    decades = [10.0**k for k in range(-1, math.floor(high) + 1)]
    figure.update_yaxes(
        title="Working hours waiting",
        type="log",
        range=[math.log10(WAIT_FLOOR), high],
        gridcolor="#e3e8ee",
        tickvals=decades,
        ticktext=[num(v, 1) if v < 1 else num(v, 0) for v in decades],
        minor={"showgrid": False, "ticks": ""},
    )
    figure = _layout(figure, height=WALL_SIZE[1])
    figure.update_layout(margin=WALL_MARGIN, showlegend=False)
    return figure


def _anchor(x_px: float, width_px: float, plot_px: float) -> str:
    """How to anchor a label of this width at x so that it stays inside the plot."""
    if x_px + width_px / 2 > plot_px:
        return "right"
    if x_px - width_px / 2 < 0:
        return "left"
    return "center"


def review_table(result: dict[str, Any]) -> list[list[str]]:
    projection = result["review"]["projection"]
    if not projection:
        return []
    rows = [
        [
            "Volume",
            "PRs per week",
            "Utilisation",
            "Chance of waiting",
            "Expected wait (working time)",
        ]
    ]
    # Where respondents gave the wait they observe, the model's wait plus today's difference
    # between the two (review not started on arrival), in calendar time like the observation.
    delay = (projection.get("reconciliation") or {}).get("delay_hours")
    if delay is not None:
        rows[0].append("With the observed delay (calendar time)")
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
        if delay is not None:
            rows[-1].append(
                "grows without limit"
                if s["saturated"] or s.get("wait_calendar_hours") is None
                else f"{_hours(s['wait_calendar_hours'] + delay)} (calendar)"
            )
    return rows


def _level(value: float | None) -> str:
    return level_text(value, missing="-")


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
    """One dimension's capabilities: current exact level as bars, target as a marker, and
    the levels in a column right of level 5, where no bar end or target line can cover them."""
    dimension = next(d for d in result["dimensions"] if d["id"] == dimension_id)
    caps = [c for c in result["capabilities"] if c["dimension_id"] == dimension_id]
    names = [("\u25cb " if c["low_confidence"] else "") + plain(c["title"]) for c in caps]
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
            # The level as every page prints it (rounded down), not plotly's own rounding.
            customdata=[level_text(c["exact_level"], missing="no data") for c in caps],
            hovertemplate="%{y}: level %{customdata}<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            y=names,
            x=[dimension["target_level"]] * len(caps),
            mode="markers",
            name="Target",
            marker={"symbol": "line-ns", "size": 20, "line": {"color": INK, "width": 3}},
            hovertemplate="target %{x}<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            y=names,
            x=[BAR_VALUE_X] * len(caps),
            mode="text",
            text=[level_text(v) if v else "no data" for v in current],
            textposition="middle right",
            textfont={"size": 11, "color": INK},
            showlegend=False,
            hoverinfo="skip",
        )
    )
    figure.update_xaxes(range=[0, 6.0], tickvals=[1, 2, 3, 4, 5], gridcolor="#e3e8ee")
    figure.update_yaxes(autorange="reversed", automargin=True, ticklabelstandoff=6)
    figure = _layout(figure, height=BAR_BASE_PX + BAR_ROW_PX * len(caps))
    # No legend: the caption under every bar chart names bars and line, and the room goes to
    # keeping each dimension on one printed page.
    figure.update_layout(
        margin={"l": 250, "r": 10, "t": 10, "b": 25}, bargap=0.35, showlegend=False
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
                gap_text(c["exact_level"], c["target_level"]),
                "-" if c["score"] is None else f"{num(c['score'], 0)}",
                f"{num(evidence['adjusted_score'], 0)}" if checked else "-",
                c["confidence_label"],
            ]
        )
    return rows


# Trend lines: overall readiness in ink, then dimensions darkest first, each about an eighth
# of the grey scale lighter than the last (the lightest, #6c9fd8, is still mid-grey) and with
# its own dash and marker, so every line stays distinct when printed in greyscale.
TREND_STYLES = (
    ("#143f73", "dot", "square"),
    ("#2a5f9e", "dash", "diamond"),
    ("#4f7fb8", "longdash", "triangle-up"),
    ("#6c9fd8", "dashdot", "x"),
)


def trend(comparison: dict[str, Any]) -> go.Figure:
    """Overall readiness and each dimension across the organisation's assessments."""
    points = comparison["series"]
    labels = [f"{plain(p['title'])}<br>{p['date']}" for p in points]
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
            # Beside the point, not above it: every dimension's marker sits on the same
            # vertical, and a label above the readiness point covered the one just over it.
            # The last assessment's label goes right, into the margin the x range leaves.
            textposition=trend_label_positions(len(points)),
            cliponaxis=False,
        )
    )
    for index, dimension in enumerate(comparison["dimensions"]):
        colour, dash, symbol = TREND_STYLES[index % len(TREND_STYLES)]
        figure.add_trace(
            go.Scatter(
                x=labels,
                y=[p["dimensions"].get(dimension["id"]) for p in points],
                name=plain(dimension["title"]),
                mode="lines+markers",
                line={"color": colour, "dash": dash, "width": 2},
                marker={"symbol": symbol, "size": 9, "color": colour},
            )
        )
    figure.update_yaxes(range=[0, 105], title="Score (0-100)", gridcolor="#e3e8ee")
    # Room either side of the first and last assessment, so that their names, centred under
    # the points, stay clear of the score axis's labels.
    figure.update_xaxes(automargin=True, range=[-0.35, len(points) - 0.65])
    figure = _layout(figure, height=340)
    # The legend above the plot, as on the capability charts: below it would cover the
    # assessment names on the x axis.
    figure.update_layout(
        margin={"l": 60, "r": 20, "t": 50, "b": 20},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "xanchor": "left"},
    )
    return figure


def trend_label_positions(count: int) -> list[str]:
    """Where each overall-readiness label sits: left of its point, the last one right."""
    return ["middle left"] * (count - 1) + ["middle right"] if count else []


def trend_table(comparison: dict[str, Any]) -> list[list[str]]:
    """The trend chart's numbers: readiness and each dimension's score per assessment."""
    dimensions = comparison["dimensions"]
    rows = [["Assessment", "Date", "Overall readiness", *(d["title"] for d in dimensions)]]
    for point in comparison["series"]:
        rows.append(
            [
                point["title"],
                point["date"],
                _score(point["readiness"]),
                *(_score(point["dimensions"].get(d["id"])) for d in dimensions),
            ]
        )
    return rows


def _score(value: float | None) -> str:
    return "-" if value is None else num(value, 0)


def delivery_weeks(result: dict[str, Any]) -> go.Figure | None:
    """Deployments per week with the median lead time of what they shipped: the trend behind
    the DORA buckets. Without change records there is no lead time, and no lead-time axis."""
    delivery = result.get("delivery")
    if not delivery or not delivery.get("weekly"):
        return None
    weeks = delivery["weekly"]
    lead = any(w["median_lead_time_hours"] is not None for w in weeks)
    log = lead_log_scale(weeks)
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            x=[w["week"] for w in weeks],
            y=[w["deployments"] for w in weeks],
            name="Deployments",
            marker={"color": BLUE[2], "line": {"color": INK, "width": 0.5}},
        )
    )
    if lead:
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
            yaxis2={
                "title": "Lead time (h, log scale)" if log else "Lead time (h)",
                "overlaying": "y",
                "side": "right",
                "showgrid": False,
                "tickmode": "auto",
                **(_log_ticks(weeks) if log else {"rangemode": "tozero"}),
            }
        )
    figure.update_layout(
        yaxis={"title": "Deployments", "gridcolor": "#e3e8ee", "rangemode": "tozero"},
        # Dates as the rest of the report writes them (6 Sep 2026), not plotly's "Sep 6".
        xaxis={"tickformat": "%-d %b<br>%Y", "hoverformat": "%-d %b %Y"},
    )
    figure = _layout(figure, height=300)
    figure.update_layout(
        margin={"l": 60, "r": 60 if lead else 20, "t": 30, "b": 30},
        showlegend=lead,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "xanchor": "left"},
    )
    return figure


def lead_log_scale(weeks: list[dict[str, Any]]) -> bool:
    """Whether the weekly median lead times span LEAD_LOG_RATIO or more (largest over
    smallest), so the chart draws them on a log axis."""
    hours = [w["median_lead_time_hours"] for w in weeks if w["median_lead_time_hours"]]
    return bool(hours) and max(hours) >= LEAD_LOG_RATIO * min(hours)


def _log_ticks(weeks: list[dict[str, Any]]) -> dict[str, Any]:
    """A log axis labelled at 1, 2 and 5 times the powers of ten that the lead times span,
    in the report's number format (plotly's own minor labels crowd into an unreadable
    column)."""
    hours = [w["median_lead_time_hours"] for w in weeks if w["median_lead_time_hours"]]
    low, high = math.floor(math.log10(min(hours))), math.ceil(math.log10(max(hours)))
    ticks = [m * 10.0**e for e in range(low, high + 1) for m in (1, 2, 5)]
    ticks = [t for t in ticks if min(hours) / 2 <= t <= max(hours) * 2]
    return {
        "type": "log",
        "tickmode": "array",
        "tickvals": ticks,
        "ticktext": [num(t, 2 if t < 1 else 0) for t in ticks],
    }


def day_text(iso_date: str) -> str:
    """A date as the report writes it: 6 Sep 2026 (Django's "j M Y"), in English whatever
    the locale."""
    day = date.fromisoformat(iso_date)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def delivery_weeks_table(result: dict[str, Any]) -> list[list[str]]:
    """The delivery chart's numbers week by week: deployments, and where there are any, the
    median lead time, the change failure rate and the median time to restore (fourkeys'
    dashboard series)."""
    delivery = result.get("delivery")
    if not delivery or not delivery.get("weekly"):
        return []
    weeks = delivery["weekly"]
    columns: list[tuple[str, str, Any]] = [
        ("Median lead time", "median_lead_time_hours", _hours),
        ("Change failure rate", "change_failure_rate", lambda v: f"{v:.0%}"),
        ("Median time to restore", "median_restore_hours", _hours),
    ]
    shown = [c for c in columns if any(w.get(c[1]) is not None for w in weeks)]
    rows = [["Week of", "Deployments", *(title for title, _key, _fmt in shown)]]
    for week in weeks:
        rows.append(
            [
                day_text(week["week"]),
                str(week["deployments"]),
                *("-" if week.get(key) is None else fmt(week[key]) for _title, key, fmt in shown),
            ]
        )
    return rows
