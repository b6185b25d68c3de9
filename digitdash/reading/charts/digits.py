"""Figures about digits themselves: a model's answer for one digit (Draw), a dataset's pixels (Data)."""
from __future__ import annotations

import plotly.graph_objects as go

from digitdash.i18n import t
from digitdash.reading.charts.style import OVER, TRAIN, VAL, layout


def probability_bars(probs, lang: str = "en") -> go.Figure:
    """One bar per digit, the answer in red."""
    answer = int(max(range(len(probs)), key=lambda d: probs[d]))
    fig = go.Figure(go.Bar(x=list(range(len(probs))), y=list(probs),
                           marker_color=[OVER if d == answer else TRAIN for d in range(len(probs))]))
    return layout(fig, 200, titled=False, edge=5,
                  xaxis=dict(dtick=1, title=t("draw.digit", lang)), yaxis=dict(range=[0, 1], title=t("draw.probability", lang)))


def pixel_histogram(counts, lang: str = "en") -> go.Figure:
    """How many pixels take each value 0-255, on a log scale."""
    fig = go.Figure(go.Bar(x=list(range(len(counts))), y=counts))
    return layout(fig, 260, titled=False, xaxis_title=t("data.pixel_value", lang), yaxis_title=t("data.count", lang),
                  yaxis_type="log")


def class_counts(train_counts, test_counts, class_names, lang: str = "en") -> go.Figure:
    """Images per class: train then test, side by side, in class order and the same colours in
    every language."""
    names = [str(c) for c in class_names]
    fig = go.Figure([go.Bar(name=t("data.train", lang), x=names, y=list(train_counts), marker_color=TRAIN),
                     go.Bar(name=t("data.test", lang), x=names, y=list(test_counts), marker_color=VAL)])
    return layout(fig, 300, titled=False, barmode="group", xaxis=dict(title=t("data.class", lang), type="category"),
                  yaxis_title=t("data.images", lang), legend=dict(orientation="h", y=1.1))


def drawing_counts(counts, lang: str = "en") -> go.Figure:
    """The class's drawings of each digit 0-9."""
    fig = go.Figure(go.Bar(x=[str(d) for d in range(len(counts))], y=list(counts), marker_color=OVER))
    return layout(fig, 240, titled=False, xaxis=dict(title=t("data.class", lang), type="category"),
                  yaxis=dict(title=t("data.drawings", lang), dtick=max(1, -(-max(counts, default=0) // 5)),
                             rangemode="tozero"))
