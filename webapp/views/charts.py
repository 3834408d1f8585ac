"""Plotly figures as plain dicts; templates hand them to the page through `tojson`."""

import html

from ..services.ingestion.platforms import LABELS
from ..services.ingestion.taxonomy import CATEGORIES

ACCENT = "#4f46e5"
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12}


def _layout(**extra) -> dict:
    layout = {
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "font": FONT,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "height": 340,
    }
    layout.update(extra)
    return layout


def interest_bar(interest: dict[str, float]) -> dict:
    """Horizontal bars of the non-zero weights, largest at the top."""
    ranked = sorted(((w, c) for c, w in interest.items() if w > 0), reverse=True)
    ranked = ranked[:15]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": [round(w * 100, 2) for w, _ in reversed(ranked)],
                "y": [c for _, c in reversed(ranked)],
                "marker": {"color": ACCENT},
                "hovertemplate": "%{y}: %{x:.1f}%<extra></extra>",
            }
        ],
        "layout": _layout(
            xaxis={"title": {"text": "share of interest (%)"}, "rangemode": "tozero"},
            yaxis={"automargin": True},
            margin={"l": 10, "r": 10, "t": 10, "b": 40},
        ),
    }


# Category names sit outside the circle: room for "Entertainment" on either side, so that a
# narrow screen does not clip them.
RADAR_MARGIN = {"l": 90, "r": 90, "t": 30, "b": 30}
RADAR_POLAR = {
    "radialaxis": {"visible": True, "ticksuffix": "%", "tickfont": {"size": 10}},
    "angularaxis": {"tickfont": {"size": 11}},
}


def interest_radar(interest: dict[str, float]) -> dict:
    """A polar view over the categories that carry any weight (at least three axes)."""
    names = [c for c in CATEGORIES if interest.get(c, 0) > 0]
    for extra in CATEGORIES:
        if len(names) >= 3:
            break
        if extra not in names:
            names.append(extra)
    values = [round(interest.get(c, 0) * 100, 2) for c in names]
    return {
        "data": [
            {
                "type": "scatterpolar",
                "r": values + values[:1],
                "theta": names + names[:1],
                "fill": "toself",
                "line": {"color": ACCENT},
                "hovertemplate": "%{theta}: %{r:.1f}%<extra></extra>",
            }
        ],
        "layout": _layout(
            polar=RADAR_POLAR,
            margin=RADAR_MARGIN,
        ),
    }


def interest_shares(shares: list[dict]) -> dict:
    """Bars of each category's share of all profiles' interest."""
    ordered = list(reversed(shares))
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": [round(s["share"] * 100, 2) for s in ordered],
                "y": [s["category"] for s in ordered],
                "marker": {"color": ACCENT},
                "hovertemplate": "%{y}: %{x:.1f}% of all interest<extra></extra>",
            }
        ],
        "layout": _layout(
            xaxis={"title": {"text": "share of all profiles' interest (%)"}},
            yaxis={"automargin": True},
            margin={"l": 10, "r": 10, "t": 10, "b": 40},
        ),
    }


PALETTE = ("#4f46e5", "#e11d48", "#059669", "#d97706")
# 32 colours far apart from each other (a Glasbey set, its palest made darker for a white
# page), one per taxonomy position: a category keeps its colour on every map and chart.
CATEGORY_PALETTE = (
    "#d60000", "#8c3bff", "#018700", "#00acc6", "#7ab800", "#ff7ed1", "#6b004f", "#ffa52f",
    "#573b00", "#005659", "#0000dd", "#00b894", "#a17569", "#bcb6ff", "#95b577", "#bf03b8",
    "#645474", "#790000", "#0774d8", "#c9a400", "#004b00", "#8e7900", "#ff7266", "#edb8b8",
    "#5d7e66", "#6aa7d8", "#eb0077", "#a57bb8", "#5900a3", "#03c600", "#9e4b00", "#9c3b4f",
)  # fmt: skip
UNCLASSIFIED_COLOUR = "#9ca3af"


def category_colours() -> dict[str, str]:
    """Each category's colour by its position in the taxonomy; grey for Unclassified."""
    colours = dict(zip(CATEGORIES, CATEGORY_PALETTE, strict=False))
    return {**colours, "Unclassified": UNCLASSIFIED_COLOUR}


def plotly_text(text: str) -> str:
    """Text for a Plotly label: Plotly draws a subset of HTML (links, bold) in labels, so
    people's names go in with <, > and & as entities, which it shows as typed."""
    return html.escape(text, quote=False)


def interest_overlay(named: list[tuple[str, dict[str, float]]]) -> dict:
    """One polar trace per profile over the categories any of them cares about."""
    names = [c for c in CATEGORIES if any(interest.get(c, 0) > 0 for _, interest in named)]
    for extra in CATEGORIES:
        if len(names) >= 3:
            break
        if extra not in names:
            names.append(extra)
    data = []
    for index, (label, interest) in enumerate(named):
        values = [round(interest.get(c, 0) * 100, 2) for c in names]
        data.append(
            {
                "type": "scatterpolar",
                "name": plotly_text(label),
                "r": values + values[:1],
                "theta": names + names[:1],
                "fill": "toself",
                "opacity": 0.55,
                "line": {"color": PALETTE[index % len(PALETTE)]},
                # The name stays out of the template, where "%{...}" in it would be expanded.
                "hovertemplate": "%{fullData.name} · %{theta}: %{r:.1f}%<extra></extra>",
            }
        )
    return {
        "data": data,
        "layout": _layout(
            polar=RADAR_POLAR,
            showlegend=True,
            height=420,
            margin=RADAR_MARGIN,
        ),
    }


def platform_heatmap(heatmap: dict) -> dict:
    """Interest share by platform: platforms down, categories across, share as colour."""
    return {
        "data": [
            {
                "type": "heatmap",
                "z": [[round(v * 100, 2) for v in row] for row in heatmap["shares"]],
                "x": heatmap["categories"],
                "y": [LABELS.get(p, p) for p in heatmap["platforms"]],
                "colorscale": [[0, "#f6f7fb"], [1, ACCENT]],
                "hovertemplate": "%{y} · %{x}: %{z:.1f}% of interest<extra></extra>",
                "colorbar": {"ticksuffix": "%"},
            }
        ],
        "layout": _layout(
            height=260,
            margin={"l": 80, "r": 10, "t": 10, "b": 90},
            xaxis={"tickangle": -45},
        ),
    }


def history_growth(history: dict) -> dict:
    """Followers and likes received over the snapshots (two axes), and the engagement rate."""
    points = history["snapshots"]
    times = [point["taken_at"] for point in points]
    mode = "lines+markers" if len(points) < 30 else "lines"
    return {
        "data": [
            {
                "type": "scatter",
                "mode": mode,
                "name": "Followers",
                "x": times,
                "y": [point["followers_count"] for point in points],
                "line": {"color": ACCENT},
                "hovertemplate": "%{x|%Y-%m-%d}: %{y:,} followers<extra></extra>",
            },
            {
                "type": "scatter",
                "mode": mode,
                "name": "Likes received",
                "x": times,
                "y": [point["likes_received"] for point in points],
                "yaxis": "y2",
                "line": {"color": "#0891b2", "dash": "dot"},
                "hovertemplate": "%{x|%Y-%m-%d}: %{y:,} likes received<extra></extra>",
            },
            {
                "type": "scatter",
                "mode": mode,
                "name": "Engagement rate",
                "x": times,
                "y": [round(point["engagement_rate"] * 100, 4) for point in points],
                "yaxis": "y3",
                "line": {"color": "#d97706"},
                "hovertemplate": "%{x|%Y-%m-%d}: %{y:.3f}% engagement<extra></extra>",
            },
        ],
        "layout": _layout(
            height=380,
            showlegend=True,
            legend={"orientation": "h", "y": -0.2},
            margin={"l": 10, "r": 10, "t": 10, "b": 10},
            grid={"rows": 2, "columns": 1, "roworder": "top to bottom"},
            xaxis={"anchor": "y3", "type": "date"},
            yaxis={"title": {"text": "followers"}, "domain": [0.45, 1], "automargin": True},
            yaxis2={
                "title": {"text": "likes received"},
                "overlaying": "y",
                "side": "right",
                "automargin": True,
            },
            yaxis3={
                "title": {"text": "engagement (%)"},
                "domain": [0, 0.35],
                "automargin": True,
            },
        ),
    }


def interest_drift(history: dict, most: int = 6) -> dict:
    """Each category's weight over the snapshots, for the categories that weighed most."""
    points = history["snapshots"]
    times = [point["taken_at"] for point in points]
    peaks: dict[str, float] = {}
    for point in points:
        for name, weight in point["interest"].items():
            peaks[name] = max(peaks.get(name, 0.0), weight)
    shown = sorted(peaks, key=lambda name: (-peaks[name], name))[:most]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers" if len(points) < 30 else "lines",
                "name": name,
                "x": times,
                "y": [round(point["interest"].get(name, 0.0) * 100, 2) for point in points],
                "hovertemplate": f"{html.escape(name)} %{{x|%Y-%m-%d}}: %{{y:.1f}}%<extra></extra>",
            }
            for name in shown
        ],
        "layout": _layout(
            height=320,
            showlegend=True,
            legend={"orientation": "h", "y": -0.25},
            xaxis={"type": "date", "title": {"text": "snapshot"}, "automargin": True},
            yaxis={
                "title": {"text": "share of interest (%)"},
                "rangemode": "tozero",
                "automargin": True,
            },
            margin={"l": 10, "r": 10, "t": 10, "b": 10},
        ),
    }
