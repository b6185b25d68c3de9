"""Run data -> Plotly figures (no Streamlit here; pages only place them)."""
from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import metrics

TRAIN, VAL, BATCH, OVER = "#1f77b4", "#ff7f0e", "rgba(31,119,180,0.35)", "#d62728"


def curves(epochs: list[dict], batches: list[dict] | None = None, steps_per_epoch: int | None = None) -> go.Figure:
    """Accuracy and loss per epoch, train and validation, with the points where they cross."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Accuracy", "Loss"))
    xs = [e["epoch"] for e in epochs]
    for col, key in ((1, "accuracy"), (2, "loss")):
        train = [e.get(key) for e in epochs]
        val = [e.get(f"val_{key}") for e in epochs]
        fig.add_trace(go.Scatter(x=xs, y=train, name=f"train {key}", mode="lines+markers",
                                 line=dict(color=TRAIN)), row=1, col=col)
        if any(v is not None for v in val):
            fig.add_trace(go.Scatter(x=xs, y=val, name=f"validation {key}", mode="lines+markers",
                                     line=dict(color=VAL)), row=1, col=col)
            cross = metrics.crossings(xs, train, val)
            if cross:
                fig.add_trace(go.Scatter(x=[c[0] for c in cross], y=[c[1] for c in cross], mode="markers",
                                         name=f"{key} curves cross", marker=dict(symbol="x", size=12, color="black")),
                              row=1, col=col)
    if batches and steps_per_epoch:
        fig.add_trace(go.Scatter(x=[b["step"] / steps_per_epoch for b in batches], y=[b["loss"] for b in batches],
                                 name="loss during the epoch", mode="lines", line=dict(color=BATCH, width=1)),
                      row=1, col=2)
    fig.update_xaxes(title_text="epoch")
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.25))
    return fig


def gap_bars(epochs: list[dict], acc_threshold=metrics.ACCURACY_GAP, loss_threshold=metrics.LOSS_GAP) -> go.Figure:
    """|train - val| per epoch, bars above the overfitting threshold in red."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("|train - val| accuracy", "|train - val| loss"))
    gaps = metrics.gaps(epochs)
    xs = [g["epoch"] for g in gaps]
    for col, key, limit in ((1, "accuracy_gap", acc_threshold), (2, "loss_gap", loss_threshold)):
        ys = [g[key] or 0.0 for g in gaps]
        fig.add_trace(go.Bar(x=xs, y=ys, name=key.replace("_", " "), showlegend=False,
                             marker_color=[OVER if y > limit else TRAIN for y in ys]), row=1, col=col)
        fig.add_hline(y=limit, line_dash="dash", line_color=OVER, row=1, col=col,
                      annotation_text=f"threshold {limit:g}", annotation_position="top left")
    fig.update_xaxes(title_text="epoch", dtick=1 if len(xs) <= 20 else None)
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10))
    return fig
