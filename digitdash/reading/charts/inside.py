"""The Inside page's figures: weight histograms, one layer's activations, saliency, the map."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from digitdash.i18n import say, t
from digitdash.reading.charts.style import PALETTE, layout


def weight_histograms(rows: list[dict], lang: str = "en") -> go.Figure:
    """One panel per weight layer: its kernel's histogram, and its change since initialization."""
    fig = make_subplots(rows=1, cols=len(rows), subplot_titles=[say(r["layer"], lang) for r in rows])
    for col, r in enumerate(rows, start=1):
        mid = (r["edges"][:-1] + r["edges"][1:]) / 2
        fig.add_trace(go.Bar(x=mid, y=r["counts"], name=t("inside.weights", lang), marker_color=PALETTE[0],
                             showlegend=col == 1), row=1, col=col)
        if "change_counts" in r:
            cmid = (r["change_edges"][:-1] + r["change_edges"][1:]) / 2
            fig.add_trace(go.Bar(x=cmid, y=r["change_counts"], name=t("inside.change", lang), marker_color=PALETTE[1],
                                 opacity=0.6, showlegend=col == 1), row=1, col=col)
    return layout(fig, 260, barmode="overlay")


def activation_bars(values: np.ndarray, title: str, lang: str = "en", classes=None) -> go.Figure:
    """A dense layer's activations for one digit, one bar per unit; the output layer's bars are
    labelled with every class (0-9), each one."""
    if classes is not None:
        fig = go.Figure(go.Bar(x=[str(c) for c in classes], y=values, marker_color=PALETTE[0]))
        return layout(fig, 220, title=title, xaxis=dict(type="category", title=t("inside.class", lang)),
                      yaxis_title=t("inside.probability", lang))
    fig = go.Figure(go.Bar(x=list(range(len(values))), y=values, marker_color=PALETTE[0]))
    return layout(fig, 200, title=title, xaxis_title=t("inside.unit", lang), yaxis_title=t("inside.value", lang))


def saliency(image: np.ndarray, maps: list[np.ndarray], titles: list[str]) -> go.Figure:
    """The input beside its saliency maps (red: pixels that raise the digit's score, blue: lower it)."""
    fig = make_subplots(rows=1, cols=1 + len(maps), subplot_titles=titles)
    gray = image if image.ndim == 2 else image.mean(axis=-1)
    fig.add_trace(go.Heatmap(z=gray, colorscale="Greys", reversescale=True, showscale=False), row=1, col=1)
    for col, sal in enumerate(maps, start=2):
        limit = float(np.abs(sal).max()) or 1.0
        fig.add_trace(go.Heatmap(z=sal, colorscale="RdBu", reversescale=True, zmin=-limit, zmax=limit,
                                 showscale=col == 1 + len(maps)), row=1, col=col)
    fig.update_yaxes(autorange="reversed", showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    return layout(fig, 300)


def digit_map(xy: np.ndarray, y: np.ndarray, pred: np.ndarray, class_names, placed: np.ndarray | None,
              lang: str = "en") -> go.Figure:
    """Test digits as points coloured by their true class, mistakes crossed, the current digit a star.
    Each point carries its index (customdata) so a selection can show the images; dragging draws a
    selection box (a page placing it must let Streamlit keep the box tool: selection_mode with "box")."""
    fig = go.Figure()
    for d, name in enumerate(class_names):
        keep = np.flatnonzero(y == d)
        fig.add_trace(go.Scattergl(x=xy[keep, 0], y=xy[keep, 1], mode="markers", name=name,
                                   marker=dict(size=5, color=PALETTE[d % len(PALETTE)]), customdata=keep,
                                   hovertext=[t("inside.hover", lang, true=int(y[i]), pred=int(pred[i])) for i in keep]))
    wrong = np.flatnonzero(pred != y)
    fig.add_trace(go.Scattergl(x=xy[wrong, 0], y=xy[wrong, 1], mode="markers", name=t("inside.wrong", lang),
                               customdata=wrong, marker=dict(symbol="x", size=8, color="black")))
    if placed is not None:
        fig.add_trace(go.Scatter(x=placed[:, 0], y=placed[:, 1], mode="markers", name=t("inside.this_digit", lang),
                                 marker=dict(symbol="star", size=18, color="gold", line=dict(width=1, color="black"))))
    return layout(fig, 520, top=30, dragmode="select")
